"""Attacks on the grader itself, one notebook per class named in the grading design: reaching
the reference, reaching answers that are not one's own, reading the secret seed, stopping
everyone's grading, outliving the notebook, and terminal escape codes.

Every attack is graded in one run (--jobs 2, bubblewrap sandbox) together with an honest
solved and an honest blank classmate, whose scores must come out exact. The notebooks are
built in a temporary folder; the only harm any of them attempts lands under it or inside
its own sandbox. A smaller run repeats the process attacks in the weak mode.
"""
import contextlib
import csv
import io
import json
import os
import shutil
import sys
import time
from pathlib import Path

import nbformat
import pytest

from dlcore.grading import EXERCISES
from dlcore.grading.instructor import grader as grader_module
from dlcore.grading.instructor import sandbox as sandbox_module
from dlcore.grading.instructor.cli import main
from dlcore.grading.instructor.report import clean

ROOT = Path(__file__).resolve().parent.parent
SOLVED = ROOT / "solutions" / "01_backprop.ipynb"
BLANK = ROOT / "exercises" / "01_backprop.ipynb"
IDS = sorted(i for i in EXERCISES if i.startswith("backprop."))
SEED = 73129411
MARKER = "dlcore-grader-test-outliver-5c1e"
LIMITS = ["--timeout", "6", "--notebook-timeout", "25", "--case-timeout", "1",
          "--memory", "1500", "--grace", "2", "--grading-timeout", "8"]
ESCAPES = "\x1b[2J\x1b]0;owned\x07\x1b[31m"


# Looks for everything a notebook must not see, at cell time; a graded function then
# reports what it found in its exception message, which lands in the table.
SPY = '''
import os, sys
def _spy(seed, repo, submissions, classmate):
    seen = b""
    for pid in [p for p in os.listdir("/proc") if p.isdigit()]:
        for name in ("cmdline", "environ"):
            try:
                seen += open(f"/proc/{pid}/{name}", "rb").read()
            except OSError:
                pass
    try:
        seen += open(f"/proc/{os.getppid()}/mem", "rb").read(64)
    except OSError:
        pass
    seen += os.environ.get("DLCORE_SEED", "").encode()
    notebooks, references = 0, 0
    skip = {"/proc", "/sys", "/dev", "/usr", "/lib", "/lib64", "/bin", "/sbin", sys.prefix,
            sys.base_prefix}
    for top, dirs, files in os.walk("/"):
        dirs[:] = [d for d in dirs if os.path.join(top, d) not in skip]
        for f in files:
            path = os.path.join(top, f)
            notebooks += f.endswith(".ipynb")
            references += ("exercises" in path and f.endswith(".py")) or "instructor" in path
            try:
                if os.path.getsize(path) < 10**6 and seed.encode() in open(path, "rb").read():
                    seen += seed.encode()
            except OSError:
                pass
    import dlcore.grading
    try:
        import dlcore.grading.exercises  # noqa: F401
        registry = 1
    except ImportError:
        registry = len(dlcore.grading.EXERCISES)
    return (f"seed{int(seed.encode() in seen)} nb{notebooks} ref{references} "
            f"repo{int(os.path.exists(repo))} sub{int(os.path.exists(submissions))} "
            f"peer{int(classmate.encode() in seen)} reg{registry} "
            f"uid{int(os.getuid() == 65534 or os.getuid() != 0)}")
_FOUND = _spy(__SEED__, __REPO__, __SUBMISSIONS__, __CLASSMATE__)

def relu_backward(dout, cache):
    raise RuntimeError(_FOUND)
'''

REACH = '''
import _thread, os, time
import numpy as np
import dlcore.functional as F
from dlcore.functional import relu_backward as _relu

def linear_forward(x, W, b):          # from a thread the grader never sees start
    box = []
    _thread.start_new_thread(lambda: box.append(F.linear_forward(x, W, b)[0]), ())
    time.sleep(0.05)
    return box[0]

def relu_backward(dout, cache):       # from a forked child, through a pipe
    r, w = os.pipe()
    if os.fork() == 0:
        os.write(w, _relu(dout, cache).astype(np.float64).tobytes())
        os._exit(0)
    os.close(w)
    data = b""
    while chunk := os.read(r, 1 << 16):
        data += chunk
    return np.frombuffer(data).reshape(dout.shape)

_code = linear_forward.__code__       # a code object that claims to live elsewhere
linear_forward.__code__ = _code.replace(co_filename="/usr/lib/python3/numpy/core.py")

try:                                   # the references themselves: not in the sandbox
    from dlcore.grading.exercises.backprop import softmax_cross_entropy
except ImportError as exc:
    _missing = str(exc)
'''

STOPPERS = '''
import os, sys
sys.set_int_max_str_digits(0)
_FD = int(sys.argv[1])

def linear_forward(x, W, b):
    return 10 ** 5000

def relu_backward(dout, cache):     # deep enough to crash a reader that recurses
    sys.setrecursionlimit(100_000)
    v = []
    for _ in range(700):
        v = [v]
    return v

def softmax_cross_entropy(logits, y):   # a frame announcing a terabyte
    os.write(_FD, b"DLG1" + (2**40).to_bytes(8, "little"))
    return 0.0

def linear_backward(dout, cache):       # a zip file where a frame should be
    import io, zipfile
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("a0.npy", b"\\0" * 10**7)
    os.write(_FD, buf.getvalue())
    return None
'''

# Well-formed frames with forged contents, written from inside a graded function: the
# grader must refuse them for this notebook, never crash on them (before: a TypeError in
# the grader's own process, no CSV for anybody; a ValueError that killed the worker).
FORGER = """
import sys
import channel as _ch
_FD = int(sys.argv[1])

def _forge(data):
    write_bytes, write_frame = _ch.write_bytes, _ch.write_frame
    write_frame(_FD, {"type": "case", "index": 0, "record": {"kind": "ok", "seconds": 0.0},
                      "data": data})
    write_frame(_FD, {"type": "done"})
    def swallow_case(fd, frame):     # the real case frame and "done" go nowhere
        _ch.write_bytes = write_bytes
    def swallow_done(fd, message, blob=b""):
        _ch.write_frame = write_frame
    _ch.write_bytes, _ch.write_frame = swallow_case, swallow_done
    raise NotImplementedError        # ends this exercise's cases in the sandbox

def linear_backward(dout, cache):    # inputs sent back whose types do not match
    _forge(_ch.encode({"value": 0.0, "args": [1, 5], "kwargs": {}}, bytearray()))

def linear_forward(x, W, b):         # data that is not {value, args, kwargs}
    _forge({"int": "1"})

def relu_backward(dout, cache):      # an integer int() refuses
    _forge({"int": "\\u00b2"})
"""

# The static check runs on the submitted source: a chain of 3000 functions (it recursed
# once per function, and crashed the grader), and a cell over the size it reads (an 8 MB
# cell took 88 s and 4.7 GB of the grader's memory).
CHAIN = ("import dlcore.functional as F\n"
         "def softmax_cross_entropy(logits, y):\n    return f0(logits, y)\n"
         + "".join(f"def f{i}(logits, y):\n    return f{i + 1}(logits, y)\n"
                   for i in range(3000))
         + "def f3000(logits, y):\n    return F.cross_entropy_forward(logits, y)\n")
HUGE_CELL = "_data = '''" + "0123456789abcde\n" * (2**20 // 16 + 1) + "'''\n"

# Writes wherever it can outside /tmp and its working folder, and as much as it can to
# /dev/shm: the root and /dev were tmpfs without a size limit (the machine's memory). And
# opens every sysctl for writing (it opened 766 of them, kernel.core_pattern included,
# since the sandbox's uid is root outside it; it writes nothing).
WRITER = """
import os
def _probe():
    places = [d for d in ("/", "/dev", "/dev/shm", "/opt", "/home", "/etc", "/usr")
              if os.access(d, os.W_OK)]
    written = 0
    try:
        for i in range(4):
            with open(f"/dev/shm/fill{i}", "wb") as f:
                for _ in range(32):
                    f.write(b"x" * 2**20)
                    written += 1
    except OSError:
        pass
    sysctls = 0  # kernel.core_pattern among them: a program run as root outside
    for top, _, files in os.walk("/proc/sys"):
        for f in files:
            try:
                os.close(os.open(os.path.join(top, f), os.O_WRONLY | os.O_NONBLOCK))
                sysctls += 1
            except OSError:
                pass
    return f"sysctls {sysctls} writable {','.join(places)} shm {written} MiB"
_WROTE = _probe()

def linear_forward(x, W, b):
    raise RuntimeError(_WROTE)
"""

# Every graded call takes just under its limit: about 20 s of calls for chapter 1 alone,
# and a notebook can claim every chapter (its functions then go on for an hour). A
# notebook's graded calls share one time budget (--grading-timeout, 8 s here).
SLEEPER = """
import time
def _slow(*args, **kwargs):
    time.sleep(0.9)
    raise ValueError("slow")
linear_forward = linear_backward = relu_backward = _slow
softmax_cross_entropy = numerical_gradient = two_layer_loss_and_grads = _slow
"""

# A fork bomb, counted: a small process forks until it cannot (at most 400), says how
# many, and is killed with its children. RLIMIT_NPROC does not bind a sandbox run as root
# (its uid is root outside); a pids cgroup does, where the grader can make one.
FORKER = """
import os, signal, subprocess, sys
_code = '''
import os, time
n = 0
try:
    for _ in range(400):
        if os.fork() == 0:
            time.sleep(30)
            os._exit(0)
        n += 1
except OSError:
    pass
print(n, flush=True)
time.sleep(30)
'''
_p = subprocess.Popen([sys.executable, "-S", "-c", _code], stdout=subprocess.PIPE,
                      start_new_session=True)
_FORKS = int(_p.stdout.readline() or 0)
os.killpg(_p.pid, signal.SIGKILL)

def linear_forward(x, W, b):
    raise RuntimeError(f"forked {_FORKS} processes")
"""

# Three processes of 800 MB each, every one under the per-process --memory of 1500 MB:
# 2.4 GB in all. A memory cgroup holds the sandbox to --memory plus its tmpfs (2076 MiB).
HOGS = """
import subprocess, sys
_code = "import sys, time\\nx = b'1' * (800 * 2**20)\\nprint('ok', flush=True)\\ntime.sleep(30)"
_hogs = [subprocess.Popen([sys.executable, "-S", "-c", _code], stdout=subprocess.PIPE)
         for _ in range(3)]
_HELD = sum(h.stdout.readline() == b"ok\\n" for h in _hogs)
for h in _hogs:
    h.kill()
    h.wait()

def linear_forward(x, W, b):
    raise RuntimeError(f"held {_HELD} hogs")
"""

GARBAGE_CELL = "import os, sys\nos.write(int(sys.argv[1]), b'garbage' * 100000)\n"

OUTLIVER = '''
import subprocess, sys
_daemon = """
import os, signal, time
for _ in range(600):
    for folder in __FOLDERS__ + [os.getcwd()]:
        try:
            open(os.path.join(folder, "numpy.py"), "w").write("raise ImportError")
        except OSError:
            pass
    try:
        open(__CSV__, "w").write("notebook,exercise\\\\n")
    except OSError:
        pass
    time.sleep(0.05)
# __MARKER__
"""
subprocess.Popen([sys.executable, "-c", _daemon], start_new_session=True,
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
'''

# Kills every grader kernel it can see (only grader kernels: were the sandbox to fail, a
# wider kill(-1) would take down the machine running the tests).
KILLER = '''
import subprocess, sys
subprocess.Popen([sys.executable, "-c", """
import os, signal, time
while True:
    time.sleep(0.02)
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if int(pid) != os.getpid() and b"inside.py" in open(f"/proc/{pid}/cmdline",
                                                                   "rb").read():
                os.kill(int(pid), signal.SIGKILL)
        except OSError:
            pass
# __MARKER__
"""], start_new_session=True)
import time
time.sleep(3)  # the daemon is running by then: this kernel is the first it kills
'''

ESCAPER = f'''
def linear_backward(dout, cache):
    raise RuntimeError({ESCAPES + "red" + chr(0x202e) + "text"!r})
'''


# Reads stdin, where a grader might send its commands: it gets nothing (EOF).
STDIN_READER = """
import sys
_got = sys.stdin.buffer.read(1 << 20)
assert _got == b"", len(_got)
try:
    input()
except EOFError:
    pass
"""


def _read(path):
    return nbformat.read(path, as_version=4)


def _fill(template, **values):
    """template with each __KEY__ replaced by repr(value) (str values for MARKER)."""
    for key, value in values.items():
        template = template.replace(f"__{key.upper()}__",
                                    value if key == "marker" else repr(value))
    return template


def _with_cells(nb, *codes):
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    for code in codes:
        nb.cells.append(nbformat.v4.new_code_cell(code))
    return nb


def _write(nb, path):
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def _survivors():
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if MARKER.encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(int(pid))
        except OSError:
            pass
    return found


def _no_survivors():
    deadline = time.monotonic() + 5
    while _survivors() and time.monotonic() < deadline:
        time.sleep(0.1)
    return _survivors()


def _build(tmp, out_csv):
    sub = tmp / "submissions"
    blank = _read(BLANK)
    paths = {"solved": _write(_read(SOLVED), sub / "zz_solved" / "01_backprop.ipynb"),
             "blank": _write(blank, sub / "zz_blank" / "01_backprop.ipynb")}
    paths["spy"] = _write(_with_cells(blank, _fill(
        SPY, seed=str(SEED), repo=str(ROOT / "solutions"), submissions=str(sub),
        classmate=str(paths["solved"]))), sub / "01_backprop_spy.ipynb")
    paths["reach"] = _write(_with_cells(blank, REACH), sub / "01_backprop_reach.ipynb")
    paths["stoppers"] = _write(_with_cells(blank, STOPPERS), sub / "01_backprop_stop.ipynb")
    paths["garbage"] = _write(_with_cells(_read(SOLVED), GARBAGE_CELL),
                              sub / "01_backprop_garbage.ipynb")
    # inside the sandbox /tmp is its own; the classmate's folder and the CSV are not there
    paths["outliver"] = _write(_with_cells(_read(SOLVED), _fill(
        OUTLIVER, folders=["/tmp", str(sub / "zz_solved")], csv=str(out_csv), marker=MARKER)),
        sub / "01_backprop_outliver.ipynb")
    paths["killer"] = _write(_with_cells(_read(SOLVED), _fill(KILLER, marker=MARKER)),
                             sub / "01_backprop_killer.ipynb")
    paths["forger"] = _write(_with_cells(blank, FORGER), sub / "01_backprop_forger.ipynb")
    paths["chain"] = _write(_with_cells(blank, CHAIN), sub / "01_backprop_chain.ipynb")
    paths["huge"] = _write(_with_cells(_read(SOLVED), HUGE_CELL), sub / "01_backprop_huge.ipynb")
    paths["writer"] = _write(_with_cells(blank, WRITER), sub / "01_backprop_writer.ipynb")
    paths["forker"] = _write(_with_cells(blank, FORKER), sub / "01_backprop_forker.ipynb")
    paths["hogs"] = _write(_with_cells(blank, HOGS), sub / "01_backprop_hogs.ipynb")
    paths["sleeper"] = _write(_with_cells(blank, SLEEPER), sub / "01_backprop_sleeper.ipynb")
    paths["escaper"] = _write(_with_cells(blank, ESCAPER), sub / "01_backprop_escaper.ipynb")
    paths["stdin"] = _write(_with_cells(_read(SOLVED), STDIN_READER),
                            sub / "01_backprop_stdin.ipynb")
    evil_name = sub / f"01_backprop_{ESCAPES}evil.ipynb"
    shutil.copyfile(BLANK, evil_name)
    paths["evil_name"] = evil_name
    # a blank whose name, once its escape code is cleaned, is the solved classmate's
    impostor = sub / "zz_solved" / "01_back\x1b[0mprop.ipynb"
    shutil.copyfile(BLANK, impostor)
    paths["impostor"] = impostor
    # a file name and a file that are not UTF-8, a cell's source nested 900 lists deep
    paths["bad_name"] = sub / os.fsdecode(b"01_backprop_\xff.ipynb")
    shutil.copyfile(BLANK, paths["bad_name"])
    paths["bad_utf8"] = sub / "01_backprop_latin1.ipynb"
    paths["bad_utf8"].write_bytes(b'{"nbformat": 4, "cells": [], "x": "\xff\xfe"}')
    paths["deep"] = sub / "01_backprop_deep.ipynb"
    paths["deep"].write_text('{"nbformat": 4, "metadata": {}, "cells": [{"cell_type": "code", '
                             '"source": [' + "[" * 900 + "]" * 900 + ']}]}')
    # not regular files inside the folder: links to a solution and to a classmate, a pipe
    # that would block a reader, a folder named like a notebook
    (sub / "01_backprop_link.ipynb").symlink_to(SOLVED)
    (sub / "01_backprop_peer_link.ipynb").symlink_to(paths["solved"])
    os.mkfifo(sub / "01_backprop_fifo.ipynb")
    (sub / "01_backprop_dir.ipynb").mkdir()
    for name in ("link", "peer_link", "fifo", "dir"):
        paths[name] = sub / f"01_backprop_{name}.ipynb"
    return sub, paths


def _grade(sub, out, extra=()):
    printed, errors = io.StringIO(), io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(errors):
        code = main([str(sub), "--out", str(out), "--jobs", "2", "--seed", str(SEED),
                     *LIMITS, *extra])
    seconds = time.perf_counter() - start
    raw = out.read_bytes()
    with open(out, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    table = {}
    for r in rows:
        table.setdefault(r["notebook"], {})[r["exercise"]] = r
    return {"code": code, "rows": rows, "table": table, "raw": raw, "seconds": seconds,
            "printed": printed.getvalue(), "errors": errors.getvalue()}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sandbox")
    out = tmp / "scores.csv"
    sub, paths = _build(tmp, out)
    result = _grade(sub, out)
    result["paths"] = paths
    result["survivors"] = _no_survivors()
    time.sleep(0.5)  # a survivor would rewrite the CSV now
    result["raw_later"] = out.read_bytes()
    return result


def _rows(run, name):
    label = str(run["paths"][name])
    if label in run["table"]:
        return run["table"][label]
    # a name with escape codes is shown cleaned, with a hash of the original
    shown = [n for n in run["table"] if n.startswith(clean(label, 500) + " [name cleaned, ")]
    assert len(shown) == 1, (label, shown)
    return run["table"][shown[0]]


def _assert_honest_classmates(run):
    solved, blank = _rows(run, "solved"), _rows(run, "blank")
    assert sorted(solved) == sorted(blank) == IDS
    for exercise_id in IDS:
        total = len({c.group for c in EXERCISES[exercise_id].cases(SEED)})
        assert (solved[exercise_id]["status"], solved[exercise_id]["passed"],
                solved[exercise_id]["total"]) == ("ok", str(total), str(total)), solved
        assert (blank[exercise_id]["status"], blank[exercise_id]["passed"],
                blank[exercise_id]["total"]) == ("not-implemented", "0", str(total)), blank


def test_the_run_finishes_with_a_complete_table_and_exact_classmates(run):
    assert run["code"] == 0, run["errors"]
    _assert_honest_classmates(run)
    graded = [n for n in run["paths"] if n not in ("fifo", "dir", "link", "peer_link")]
    for name in graded:
        assert sorted(_rows(run, name)) == IDS, name
    assert run["seconds"] < 60, run["seconds"]


def test_nothing_visible_from_inside_the_sandbox(run):
    row = _rows(run, "spy")["backprop.relu_backward"]
    assert row["status"] == "error", row
    assert "seed0 nb0 ref0 repo0 sub0 peer0 reg0 uid1" in row["detail"], row["detail"]


def test_reaching_dlcore_by_thread_fork_or_renamed_code_is_flagged(run):
    rows = _rows(run, "reach")
    for exercise_id in ("backprop.linear_forward", "backprop.relu_backward"):
        row = rows[exercise_id]
        assert (row["status"], row["passed"]) == ("error", "0"), row
        assert "uses dlcore's own" in row["detail"] and "static check" in row["detail"], row
    # the references are not in the sandbox: the import failed, the blank stayed
    assert rows["backprop.softmax_cross_entropy"]["status"] == "not-implemented"


@pytest.mark.parametrize("name, refusal", [
    ("link", "a symbolic link"), ("peer_link", "a symbolic link"),
    ("fifo", "not a regular file"), ("dir", "not a regular file"),
])
def test_links_and_special_files_are_refused(run, name, refusal):
    rows = _rows(run, name)
    assert sorted(rows) == IDS
    assert all(r["status"] == "refused" and r["passed"] == "0" and refusal in r["detail"]
               for r in rows.values()), rows


@pytest.mark.parametrize("exercise_id, words", [
    ("backprop.linear_forward", "an integer of 5001 digits"),
    ("backprop.relu_backward", "cannot be read"),
    ("backprop.softmax_cross_entropy", "over the"),
    ("backprop.linear_backward", "not a grader frame"),
])
def test_results_that_break_the_channel_limits_are_refused(run, exercise_id, words):
    row = _rows(run, "stoppers")[exercise_id]
    assert (row["status"], row["passed"]) == ("error", "0"), row
    assert "refuses" in row["detail"] and words in row["detail"], row["detail"]


@pytest.mark.parametrize("exercise_id, status, words", [
    ("backprop.linear_backward", "wrong", "changed its input"),
    ("backprop.linear_forward", "error", "not {value, args, kwargs}"),
    ("backprop.relu_backward", "error", "a malformed integer"),
])
def test_forged_frames_are_judged_or_refused_for_that_notebook_only(run, exercise_id, status,
                                                                     words):
    rows = _rows(run, "forger")
    assert (rows[exercise_id]["status"], rows[exercise_id]["passed"]) == (status, "0"), rows
    assert words in rows[exercise_id]["detail"], rows[exercise_id]
    # the exercises it did not forge are graded as the blank they are
    assert rows["backprop.softmax_cross_entropy"]["status"] == "not-implemented", rows


def test_the_static_check_follows_a_long_chain_and_refuses_a_huge_source(run):
    row = _rows(run, "chain")["backprop.softmax_cross_entropy"]
    assert (row["status"], row["passed"]) == ("error", "0"), row
    assert "uses dlcore's own cross_entropy_forward" in row["detail"], row
    huge = _rows(run, "huge")
    assert {(r["status"], r["passed"]) for r in huge.values()} == {("error", "0")}, huge
    assert all("could not be checked" in r["detail"] for r in huge.values()), huge


def test_only_tmp_the_working_folder_and_a_small_dev_shm_are_writable_no_sysctl(run):
    row = _rows(run, "writer")["backprop.linear_forward"]
    assert row["status"] == "error", row
    assert "sysctls 0 writable /dev/shm shm " in row["detail"], row["detail"]
    assert int(row["detail"].rsplit("shm ", 1)[1].split()[0]) <= 64, row["detail"]  # of 128 tried


def test_a_fork_bomb_is_bounded_where_a_pids_cgroup_can_be_made(run):
    row = _rows(run, "forker")["backprop.linear_forward"]
    assert row["status"] == "error" and "forked " in row["detail"], row
    forks = int(row["detail"].split("forked ")[1].split()[0])
    if "pids" in sandbox_module.cgroups_that_work():
        assert 0 < forks < sandbox_module.PIDS_MAX, forks
    else:  # what instructors.md says: no process-count limit without cgroups
        assert forks == 400, forks


def test_memory_of_all_a_sandboxs_processes_is_bounded_where_a_memory_cgroup_can_be_made(run):
    row = _rows(run, "hogs")["backprop.linear_forward"]
    assert row["status"] == "error" and "held " in row["detail"], row
    held = int(row["detail"].split("held ")[1].split()[0])
    if "memory" in sandbox_module.cgroups_that_work():
        assert held <= 2, held  # 3 x 800 MB is over 1500 + 2 x 256 + 64 MiB
    else:  # what instructors.md says: --memory binds each process, not the sandbox
        assert held == 3, held


def test_a_notebooks_graded_calls_share_one_time_budget(run):
    rows = _rows(run, "sleeper")
    assert all(r["passed"] == "0" for r in rows.values()), rows
    cut = [r for r in rows.values() if "ran past their 8 s together" in r["detail"]]
    assert cut and all(r["status"] == "timeout" for r in cut), rows
    assert sum(float(r["seconds"]) for r in rows.values()) < 8 + 4, rows


def test_reading_stdin_gets_nothing_and_costs_nothing(run):
    rows = _rows(run, "stdin")
    assert {r["status"] for r in rows.values()} == {"ok"}, rows
    assert "note" not in run["printed"].split(str(run["paths"]["stdin"]), 1)[1].split("\n/")[0]


def test_garbage_on_the_channel_costs_only_that_notebook(run):
    rows = _rows(run, "garbage")
    assert {r["status"] for r in rows.values()} == {"error"}
    assert all(r["passed"] == "0" and "channel" in r["detail"] for r in rows.values()), rows


def test_no_process_outlives_its_notebook(run):
    assert run["survivors"] == []
    assert run["raw_later"] == run["raw"]
    assert not (run["paths"]["solved"].parent / "numpy.py").exists()
    # the outliver's own functions were graded before its sandbox ended
    assert {r["status"] for r in _rows(run, "outliver").values()} == {"ok"}
    # the killer killed its own kernel, the only one it could see
    killer = _rows(run, "killer")
    assert {(r["status"], r["passed"]) for r in killer.values()} == {("kernel-died", "0")}, killer


def test_escape_codes_reach_neither_the_csv_nor_the_summary(run):
    for text in (run["raw"].decode("utf-8"), run["printed"]):
        assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    row = _rows(run, "escaper")["backprop.linear_backward"]
    assert row["status"] == "error" and "red?text" in row["detail"], row
    assert {r["status"] for r in _rows(run, "evil_name").values()} == {"not-implemented"}


def test_names_and_files_that_are_not_utf8_and_deeply_nested_sources(run):
    assert {r["status"] for r in _rows(run, "bad_name").values()} == {"not-implemented"}
    bad = _rows(run, "bad_utf8")
    assert {r["status"] for r in bad.values()} == {"invalid-notebook"}, bad
    assert all("not a JSON file" in r["detail"] for r in bad.values()), bad
    deep = _rows(run, "deep")
    assert {(r["status"], r["passed"]) for r in deep.values()} == {("missing", "0")}, deep


def test_a_name_that_cleans_to_a_classmates_is_shown_apart(run):
    solved = str(run["paths"]["solved"])
    assert clean(str(run["paths"]["impostor"])) == solved  # the same name once cleaned
    impostor = _rows(run, "impostor")
    assert {r["status"] for r in impostor.values()} == {"not-implemented"}, impostor
    assert sum(r["notebook"] == solved for r in run["rows"]) == len(IDS)
    assert f"{solved}: 100% (18/18 case groups, 8/8 exercises" in run["printed"]


# ---------------------------------------------------------------- without bubblewrap

def test_missing_bubblewrap_is_one_line_and_exit_2(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(grader_module, "bwrap_path", lambda: None)
    code = main([str(SOLVED), "--out", str(tmp_path / "s.csv")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "--sandbox weak" in err[0], err
    assert not (tmp_path / "s.csv").exists()


def test_weak_mode_kills_double_forked_processes_and_keeps_classmates_exact(tmp_path):
    sub = tmp_path / "submissions"
    out = tmp_path / "weak.csv"
    paths = {"solved": _write(_read(SOLVED), sub / "zz_solved" / "01_backprop.ipynb"),
             "blank": _write(_read(BLANK), sub / "zz_blank" / "01_backprop.ipynb")}
    # weak mode hides nothing: the daemon writes only under tmp_path
    paths["outliver"] = _write(_with_cells(_read(SOLVED), _fill(
        OUTLIVER, folders=[str(tmp_path / "elsewhere")], csv=str(tmp_path / "other.csv"),
        marker=MARKER)), sub / "01_backprop_outliver.ipynb")
    result = _grade(sub, out, ["--sandbox", "weak"])
    result["paths"] = paths
    assert result["code"] == 0 and "weak mode" in result["errors"]
    _assert_honest_classmates(result)
    assert _no_survivors() == []
    assert sys.platform != "linux" or {r["status"] for r in _rows(result, "outliver").values()} == {"ok"}
