"""`python -m dlcore.grading`: honest scores for solutions, blanks, wrong answers and attacks.

Every notebook here is made by the test in a temporary folder (a committed .ipynb under
tests/ would be collected by nbval). All of them are graded in one run of the command
(--jobs 2, small time limits), then each row is checked.
"""
import contextlib
import csv
import io
import json
import time
from pathlib import Path

import nbformat
import pytest

from dlcore.grading import EXERCISES, get_exercise
from dlcore.grading.instructor.cli import main
from dlcore.grading.instructor.grader import chapter_prefixes

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
BLANKS = sorted((ROOT / "exercises").glob("[0-9][0-9]_*.ipynb"))
BACKPROP = ROOT / "solutions" / "01_backprop.ipynb"
BACKPROP_BYTES = BACKPROP.read_bytes()
SEED = 20240611  # not any exercise's public seed
# A cell may take 6 s: the memory bomb and the output flood below must finish well inside it
# even on a loaded 2-core machine (at 3 s they timed out now and then).
LIMITS = ["--timeout", "6", "--notebook-timeout", "25", "--case-timeout", "1",
          "--memory", "1500", "--grace", "2"]
TWO_LAYER = "backprop.two_layer_loss_and_grads"  # calls the learner's other functions

# A classic bug per chapter: (exercise id, code redefining the function). Chapters without
# an entry get a generic one (outputs off by half) so that every chapter is covered.
CLASSIC_BUGS = {
    "backprop": ("backprop.linear_backward", '''
def linear_backward(dout, cache):
    x, W, b = cache
    return dout @ W.T, dout.T @ x, dout.sum(axis=0)   # dW transposed
'''),
    "activations": ("activations.tanh_backward", '''
def tanh_backward(dout, cache):
    return dout * (1 - cache)                          # 1 - out instead of 1 - out**2
'''),
    "initialization": ("initialization.he_normal", '''
def he_normal(shape, rng):
    fan_in = shape[0] if len(shape) == 2 else shape[1] * shape[2] * shape[3]
    return rng.standard_normal(shape) * np.sqrt(1.0 / fan_in)   # LeCun's std, not He's
'''),
    "optimizers": ("optimizers.adam_step", '''
def adam_step(theta, grad, state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    t = state["t"] + 1
    m = beta1 * state["m"] + (1 - beta1) * grad
    v = beta2 * state["v"] + (1 - beta2) * grad * grad
    m_hat, v_hat = m / (1 - beta1), v / (1 - beta2)      # the notes' slip: 1 - beta, not 1 - beta^t
    return theta - lr * m_hat / (np.sqrt(v_hat) + eps), {"m": m, "v": v, "t": t}
'''),
    "schedules": ("schedules.step_decay", '''
def step_decay(lr0, step_size, gamma, t):
    return lr0 * gamma ** ((t + 1) // step_size)          # off by one at each boundary
'''),
    "clipping": ("clipping.clip_by_global_norm", '''
def clip_by_global_norm(grads, max_norm):
    norms = [float(np.sqrt((g * g).sum())) for g in grads]   # each array by its own norm
    clipped = [g * min(1.0, max_norm / (n + 1e-6)) for g, n in zip(grads, norms)]
    return clipped, float(np.sqrt(sum(n * n for n in norms)))
'''),
    "batchnorm": ("batchnorm.update_running", '''
def update_running(running_mean, running_var, x, momentum=0.1):
    mean, var = x.mean(axis=0), x.var(axis=0)              # biased variance kept
    return ((1 - momentum) * running_mean + momentum * mean,
            (1 - momentum) * running_var + momentum * var)
'''),
    "regularization": ("regularization.inverted_dropout_forward", '''
def inverted_dropout_forward(x, mask, p):
    return x * mask / p                                     # divides by p, not the keep 1 - p
'''),
    "losses": ("losses.huber", '''
def huber(pred, target, delta=1.0):
    r = pred - target
    a = np.abs(r)
    value = np.where(a <= delta, 0.5 * r * r, delta * a - delta / 2).mean()   # notes' slip
    grad = np.clip(r, -delta, delta) / r.size
    return value, grad
'''),
}
GENERIC_BUG = '''
import numpy as _np
_right_{f} = {f}

def _off(v):
    if isinstance(v, dict):
        return {{k: _off(u) for k, u in v.items()}}
    if isinstance(v, (tuple, list)):
        return type(v)(_off(u) for u in v)
    a = _np.asarray(v)
    return a * 1.5 + 1 if a.dtype.kind == "f" else a + 1

def {f}(*args, **kwargs):
    return _off(_right_{f}(*args, **kwargs))
'''


def _read(path):
    return nbformat.read(path, as_version=4)


def _write(nb, path):
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def _with_cell(nb, code, at=None):
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    cell = nbformat.v4.new_code_cell(code)
    nb.cells.insert(len(nb.cells) if at is None else at, cell)
    return nb


def _is_check(cell):
    return cell.cell_type == "code" and "check(" in cell.source


def _solution_for(prefix):
    return next((p for p in SOLUTIONS if chapter_prefixes(_read(p), p.name) == [prefix]), None)


def _attacks(tmp):
    """name -> path of each attack notebook, built on the chapter 1 solution."""
    sol = _read(BACKPROP)
    nbs = {}
    # cells that loop (one ignores Ctrl-C), exit the kernel or crash it, before the functions
    nbs["loop_cell"] = _with_cell(sol, "while True:\n    pass", at=2)
    nbs["loop_unstoppable"] = _with_cell(sol, "while True:\n    try:\n        while True:\n"
                                              "            pass\n    except BaseException:\n"
                                              "        pass", at=2)
    nbs["os_exit_cell"] = _with_cell(sol, "import os\nos._exit(0)", at=2)
    nbs["segfault_cell"] = _with_cell(sol, "import ctypes\nctypes.string_at(0)", at=2)
    # cells that fail or flood after the functions: sys.exit(), a memory bomb, an output flood
    nbs["noisy_cells"] = _with_cell(_with_cell(
        sol, "import sys\nsys.exit()"),
        "print('x' * 5_000_000)\nfor i in range(300_000):\n    print(i)")
    # a memory bomb after the functions: Python raises MemoryError at the limit, unless a
    # C library in the kernel (zmq, the heartbeat thread) hits the limit first and aborts
    nbs["bomb_cell"] = _with_cell(
        sol, "def bomb():\n    hoard = []\n    while True:\n        hoard.append(bytearray(10**8))\n"
        "bomb()")
    # graded functions that misbehave, one way each
    nbs["bad_functions"] = _with_cell(sol, """
import os, sys
def relu_backward(dout, cache):
    os._exit(3)
def linear_forward(x, W, b):
    sys.exit(0)
def numerical_gradient(f, x, h=1e-5):
    while True:
        pass
def linear_backward(dout, cache):
    return np.ones((10**5, 10**5)), None, None
def softmax_cross_entropy(logits, y):
    while True:
        try:
            while True:
                pass
        except BaseException:
            pass
""")
    # cheats, one per exercise, on the blank notebook (nothing is honestly solved)
    blank_nb = _read(ROOT / "exercises" / "01_backprop.ipynb")
    ng = get_exercise("backprop.numerical_gradient")
    cached = {c.args[1].tobytes().hex(): ng.reference(*c.args, **c.kwargs).tolist()
              for c in ng.cases()}
    nbs["cheats"] = _with_cell(blank_nb, f"""
import sys
import numpy
import numpy.testing
import dlcore.functional
from dlcore.functional import linear_forward as _ref_forward
from dlcore.functional import relu_backward as _ref_relu
from dlcore.grading import get_exercise

def linear_forward(x, W, b):                       # hides from a profiler
    p = sys.getprofile()
    sys.setprofile(None)
    out = _ref_forward(x, W, b)[0]
    sys.setprofile(p)
    return out

linear_backward = dlcore.functional.linear_backward  # is dlcore's own

def relu_backward(dout, cache):                      # calls dlcore's own
    return _ref_relu(dout, cache)

def softmax_cross_entropy(logits, y):                # calls the registry's reference
    return get_exercise("backprop.softmax_cross_entropy").reference(logits, y)

_cache = {cached!r}                                  # answers cached for the public cases
def numerical_gradient(f, x, h=1e-5):
    return numpy.array(_cache.get(x.tobytes().hex(), numpy.zeros_like(x)))

numpy.allclose = lambda *a, **k: True                # patched comparisons
numpy.array_equal = lambda *a, **k: True
numpy.testing.assert_allclose = lambda *a, **k: None
def two_layer_loss_and_grads(X, y, W1, b1, W2, b2, reg=0.0):
    return 1.0, {{"W1": 0 * W1, "b1": 0 * b1, "W2": 0 * W2, "b2": 0 * b2}}

def check(*args, **kwargs):                          # a check that always passes
    print("✔ all passed")
    return True
""")
    # a function that is not there
    nbs["missing_function"] = nbformat.from_dict(json.loads(json.dumps(sol)))
    nbs["missing_function"].cells = [c for c in sol.cells if c.get("id") != "relu-backward-code"]
    paths = {name: _write(nb, tmp / "attacks" / f"01_backprop_{name}.ipynb")
             for name, nb in nbs.items()}

    # file edits: overwrite itself and a classmate's notebook with garbage, plant numpy.py
    peer = tmp / "edits" / "01_backprop_peer.ipynb"
    peer.parent.mkdir(parents=True)
    peer.write_bytes(BACKPROP_BYTES)
    editor = _with_cell(sol, (
        "import os\ndef _try(path, text):\n    try:\n        open(path, 'w').write(text)\n"
        "    except OSError:\n        pass  # not there: the sandbox does not show it\n"
        f"for p in [{str(peer)!r}, __vsc_self__]:\n"
        "    _try(p, 'garbage')\n"
        f"_try(os.path.join({str(peer.parent)!r}, 'numpy.py'), 'raise ImportError')\n"
        "_try('numpy.py', 'raise ImportError')\n"
        "def relu_backward(dout, cache):\n    return dout\n"))
    editor_path = tmp / "edits" / "01_backprop_editor.ipynb"
    editor.cells[-1].source = editor.cells[-1].source.replace("__vsc_self__",
                                                              repr(str(editor_path)))
    paths["edits_files"] = _write(editor, editor_path)
    paths["edited_peer"] = peer

    # renamed, reordered, extra cells, deleted check cells
    shuffled = nbformat.from_dict(json.loads(json.dumps(sol)))
    checks = [c for c in shuffled.cells if _is_check(c)]
    others = [c for c in shuffled.cells if c not in checks]
    others.insert(3, nbformat.v4.new_markdown_cell("My notes: I found this hard."))
    others.insert(5, nbformat.v4.new_code_cell("def helper(a):\n    return a + 1\nhelper(2)"))
    shuffled.cells = others + checks[::-1]
    paths["renamed_reordered"] = _write(shuffled, tmp / "renamed" / "my homework (final).ipynb")
    no_checks = nbformat.from_dict(json.loads(json.dumps(sol)))
    no_checks.cells = [c for c in sol.cells if not _is_check(c)]
    paths["no_check_cells"] = _write(no_checks, tmp / "renamed" / "bob" / "01_backprop.ipynb")
    blank = _read(ROOT / "exercises" / "01_backprop.ipynb")
    blank.cells = [c for c in blank.cells if not _is_check(c)]
    paths["blank_renamed_no_checks"] = _write(blank, tmp / "renamed" / "alice.ipynb")

    # files that are not notebooks
    bad = tmp / "invalid" / "01_backprop_truncated.ipynb"
    bad.parent.mkdir(parents=True)
    bad.write_text('{"cells": [')
    paths["not_json"] = bad
    v3 = tmp / "invalid" / "01_backprop_v3.ipynb"
    v3.write_text(json.dumps({"nbformat": 3, "nbformat_minor": 0, "metadata": {},
                              "worksheets": [{"cells": []}], "cells": []}))
    paths["nbformat3"] = v3
    return paths


def _wrong_answers(tmp):
    """prefix -> (exercise id, notebook path): the chapter's solution with a classic bug."""
    out = {}
    for prefix in sorted({i.split(".", 1)[0] for i in EXERCISES}):
        if _solution_for(prefix) is None:
            continue  # a chapter whose notebook is still being written
        if prefix in CLASSIC_BUGS:
            exercise_id, code = CLASSIC_BUGS[prefix]
        else:
            exercise_id = min(i for i in EXERCISES if i.startswith(prefix + "."))
            code = GENERIC_BUG.format(f=EXERCISES[exercise_id].function)
        nb = _with_cell(_read(_solution_for(prefix)), code)
        out[prefix] = (exercise_id, _write(nb, tmp / "wrong" / f"{prefix}_wrong.ipynb"))
    return out


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("grader")
    attacks = _attacks(tmp)
    wrong = _wrong_answers(tmp)
    out = tmp / "scores.csv"
    args = [*map(str, SOLUTIONS + BLANKS), str(tmp / "attacks"), str(tmp / "edits"),
            str(tmp / "renamed"), str(tmp / "invalid"), str(tmp / "wrong"),
            "--out", str(out), "--jobs", "2", "--seed", str(SEED), *LIMITS]
    printed = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(printed):
        code = main(args)
    seconds = time.perf_counter() - start
    with open(out, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    table = {}
    for r in rows:
        table.setdefault(r["notebook"], {})[r["exercise"]] = r
    return {"code": code, "rows": rows, "table": table, "attacks": attacks, "wrong": wrong,
            "printed": printed.getvalue(), "seconds": seconds, "tmp": tmp}


def _rows(graded, path):
    return graded["table"][str(path)]


def _status(graded, name, exercise=None):
    rows = _rows(graded, graded["attacks"][name])
    if exercise is not None:
        return rows[exercise]["status"]
    return {r["status"] for r in rows.values()}


def _full(row):
    return row["status"] == "ok" and int(row["passed"]) == int(row["total"]) > 0


# ---------------------------------------------------------------- the command and its table

def test_exit_status_zero_and_csv_columns(graded):
    assert graded["code"] == 0
    assert list(graded["rows"][0]) == ["notebook", "exercise", "passed", "total", "status",
                                       "seconds", "detail"]
    statuses = {r["status"] for r in graded["rows"]}
    assert statuses <= {"ok", "wrong", "not-implemented", "error", "timeout", "kernel-died",
                        "missing", "invalid-notebook"}
    assert f"with seed {SEED}" in graded["printed"]


def test_the_whole_run_ends_within_its_bound(graded):
    # ~40 notebooks, several hanging until a limit: far below the sum of their limits
    assert graded["seconds"] < 80, graded["seconds"]


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_every_solution_scores_full_marks(graded, path):
    rows = _rows(graded, path)
    prefix = chapter_prefixes(_read(path), path.name)
    assert set(rows) == {i for i in EXERCISES if i.split(".", 1)[0] in prefix}
    assert all(_full(r) for r in rows.values()), [r for r in rows.values() if not _full(r)]


@pytest.mark.parametrize("path", BLANKS, ids=lambda p: p.name)
def test_every_blank_exercise_scores_zero_not_implemented(graded, path):
    rows = _rows(graded, path)
    assert rows and all(r["status"] == "not-implemented" and r["passed"] == "0"
                        and int(r["total"]) >= 1 for r in rows.values())


def test_each_chapter_has_a_wrong_answer_that_scores_below_full(graded):
    for prefix, (exercise_id, path) in graded["wrong"].items():
        rows = _rows(graded, path)
        row = rows[exercise_id]
        assert row["status"] == "wrong" and int(row["passed"]) < int(row["total"]), (prefix, row)


def test_summary_names_score_and_failed_exercises_with_reasons(graded):
    printed = graded["printed"]
    wrong_path = graded["wrong"]["backprop"][1]
    block = printed.split(str(wrong_path) + ":", 1)[1].split("\n")
    assert "/18 case groups, 6/8 exercises" in block[0], block[0]  # two_layer uses it
    assert block[1].split()[:2] == ["wrong", "backprop.linear_backward:"]
    assert "expected dW of shape" in block[1] or "max rel err" in block[1]


def test_no_kernel_means_nonzero_exit_with_a_message(tmp_path, capsys):
    code = main([str(BACKPROP), "--out", str(tmp_path / "s.csv"), "--memory", "8"])
    assert code == 2
    assert "could not run" in capsys.readouterr().err
    assert main([str(tmp_path / "nowhere"), "--out", str(tmp_path / "s.csv")]) == 2


# ---------------------------------------------------------------- attacks

def test_a_cell_that_loops_times_out_every_exercise(graded):
    assert _status(graded, "loop_cell") == {"timeout"}
    assert _status(graded, "loop_unstoppable") == {"timeout"}
    detail = _rows(graded, graded["attacks"]["loop_cell"])["backprop.relu_backward"]["detail"]
    assert "ran past" in detail


def test_a_cell_that_exits_or_crashes_the_kernel(graded):
    assert _status(graded, "os_exit_cell") == {"kernel-died"}
    assert _status(graded, "segfault_cell") == {"kernel-died"}
    detail = _rows(graded, graded["attacks"]["segfault_cell"])["backprop.linear_forward"]
    assert "SIGSEGV" in detail["detail"]


def test_sys_exit_and_flood_in_cells_cost_no_marks(graded):
    # IPython catches SystemExit, the flood is counted and dropped: the notebook goes on
    # and its functions are graded as they are
    assert _status(graded, "noisy_cells") == {"ok"}, _rows(graded, graded["attacks"]["noisy_cells"])


def test_memory_bomb_in_a_cell_is_contained_and_reported(graded):
    # Which of two honest outcomes happens depends on which allocation fails first at the
    # limit: a MemoryError the notebook survives (full marks), or an abort reported as such.
    rows = _rows(graded, graded["attacks"]["bomb_cell"])
    statuses = {r["status"] for r in rows.values()}
    if statuses == {"ok"}:
        assert all(r["passed"] == r["total"] for r in rows.values())
    else:
        assert statuses == {"kernel-died"}, rows
        assert all("memory" in r["detail"] and r["passed"] == "0" for r in rows.values()), rows


@pytest.mark.parametrize("exercise, status, words", [
    ("backprop.relu_backward", "kernel-died", "exited with status 3"),
    ("backprop.linear_forward", "error", "SystemExit"),
    ("backprop.numerical_gradient", "timeout", "did not finish within 1 s"),
    ("backprop.linear_backward", "error", "memory limit"),
    ("backprop.softmax_cross_entropy", "timeout", "did not finish"),
])
def test_graded_functions_that_exit_hang_or_bomb(graded, exercise, status, words):
    row = _rows(graded, graded["attacks"]["bad_functions"])[exercise]
    assert row["status"] == status and row["passed"] == "0" and words in row["detail"], row


@pytest.mark.parametrize("exercise, words", [
    ("backprop.linear_forward", "uses dlcore's own linear_forward (dlcore.functional.linear_forward)"),
    ("backprop.linear_backward", "uses dlcore's own linear_backward (dlcore.functional.linear_backward)"),
    ("backprop.relu_backward", "uses dlcore's own relu_backward (dlcore.functional.relu_backward)"),
    ("backprop.softmax_cross_entropy", "reaches the exercise registry (dlcore.grading.get_exercise)"),
])
def test_calling_the_reference_is_flagged_and_scores_zero(graded, exercise, words):
    row = _rows(graded, graded["attacks"]["cheats"])[exercise]
    assert row["status"] == "error" and row["passed"] == "0" and words in row["detail"], row


def test_cached_answers_patched_numpy_and_fake_check_raise_nothing(graded):
    rows = _rows(graded, graded["attacks"]["cheats"])
    assert rows["backprop.numerical_gradient"]["status"] == "wrong"
    assert rows[TWO_LAYER]["status"] in ("wrong", "error")
    assert sum(int(r["passed"]) for r in rows.values()) == 0


def test_file_edits_change_no_score(graded):
    attacks = graded["attacks"]
    assert attacks["edited_peer"].read_bytes() == BACKPROP_BYTES  # the sandbox saw no peer
    assert not (attacks["edited_peer"].parent / "numpy.py").exists()
    peer = _rows(graded, attacks["edited_peer"])
    assert all(_full(r) for r in peer.values())
    editor = _rows(graded, attacks["edits_files"])
    assert editor["backprop.relu_backward"]["status"] == "wrong"


def test_missing_function(graded):
    rows = _rows(graded, graded["attacks"]["missing_function"])
    assert rows["backprop.relu_backward"]["status"] == "missing"
    assert "not defined" in rows["backprop.relu_backward"]["detail"]
    assert all(_full(r) for e, r in rows.items() if e not in ("backprop.relu_backward",
                                                               TWO_LAYER))


def test_renamed_reordered_and_trimmed_notebooks_are_graded_by_name(graded):
    assert _status(graded, "renamed_reordered") == {"ok"}
    assert _status(graded, "no_check_cells") == {"ok"}
    rows = _rows(graded, graded["attacks"]["blank_renamed_no_checks"])
    assert set(rows) == {i for i in EXERCISES if i.startswith("backprop.")}
    assert {r["status"] for r in rows.values()} == {"not-implemented"}


def test_invalid_notebooks(graded):
    for name in ("not_json", "nbformat3"):
        rows = _rows(graded, graded["attacks"][name])
        assert {r["status"] for r in rows.values()} == {"invalid-notebook"}
        assert set(rows) == {i for i in EXERCISES if i.startswith("backprop.")}
        assert all(r["passed"] == "0" and int(r["total"]) > 0 for r in rows.values())
