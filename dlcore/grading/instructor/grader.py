"""The instructor's grader: run each submitted notebook in its own sandbox, call its
functions on secret cases, judge the outputs here with the reference.

Flow for one notebook (`run_notebook`, in a worker process forked from the grader for that
notebook alone, so that nothing a notebook does to its worker reaches another notebook):
start a sandbox (see sandbox.py), run the code cells in order with a per-cell and a
per-notebook time limit (errors do not stop the run; a cell that runs past its limit
does), then for each exercise the notebook is meant to have, send the cases (made here from
the secret seed, which never leaves the grader) into the sandbox, call the learner's
function there (see inside.py) and read back frames of plain data through the one channel
(see channel.py, with its hard limits). If the sandbox dies, hangs or sends something the
channel refuses while one function is graded, that exercise gets `kernel-died`, `timeout`
or `error` and a fresh sandbox re-runs the notebook for the rest. `judge` then compares the
outputs with the reference in the grader's own process, with check()'s comparison code;
a graded function whose source uses dlcore's own implementation of its op (static.py)
scores 0 with `error`.

Which exercises a notebook is meant to have: every registered exercise of its chapter.
The chapter is read from the `check("chapter.function", ...)` calls in its code, the
"generated from `solutions/NN_topic.ipynb`" cell, and a file name `NN_topic.ipynb`, any of
which is enough; a deleted check cell or a renamed file does not drop an exercise.
"""
from __future__ import annotations

import hashlib
import json
import math
import multiprocessing
import os
import re
import stat
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from pathlib import Path

from ..check import ERROR, NOT_IMPLEMENTED, OK, TIMEOUT, WRONG, _Call, _judge_case, _summarize
from ..registry import EXERCISES, get_exercise
from . import channel
from .report import clean
from .sandbox import (
    GraderError,
    Sandbox,
    _bwrap_has,
    become_subreaper,
    build_view,
    bwrap_path,
    cgroups_that_work,
)
from .static import find_reference_uses

__all__ = ["GradeOptions", "Row", "chapter_prefixes", "find_notebooks", "grade",
           "resolve_sandbox"]

MISSING, KERNEL_DIED, INVALID, REFUSED = "missing", "kernel-died", "invalid-notebook", "refused"
STATUSES = (OK, WRONG, NOT_IMPLEMENTED, ERROR, TIMEOUT, KERNEL_DIED, MISSING, INVALID, REFUSED)
MAX_KERNELS = 4  # sandboxes started per notebook (the first, then one per crash or hang)
MAX_NOTEBOOK_BYTES = 32 * 2**20
MAX_RESULT_BYTES = 96 * 2**20  # results kept from one notebook's sandboxes, all exercises
JSON_COST = 16  # a case's JSON is kept as text and charged this many times its length
MAX_CHECKED_CODE = 2**20  # characters of code the static check parses (1 MiB: ~0.5 GB of AST)

CHECK_ID = re.compile(r"""check\(\s*["'](\w+)\.\w+["']""")
FROM_SOLUTIONS = re.compile(r"solutions/\d\d_(\w+)\.ipynb")


@dataclass
class GradeOptions:
    """Limits: cell_timeout and notebook_timeout bound the notebook's own cells;
    case_timeout (None: each exercise's own, 5 s by default) bounds each call of a graded
    function, grading_timeout all of one notebook's graded calls together; memory_mb is the sandbox's address-space limit (0: none); sandbox is "bwrap"
    or "weak" (see sandbox.py)."""

    seed: int = 0
    cell_timeout: float = 60.0
    notebook_timeout: float = 300.0
    case_timeout: float | None = None
    memory_mb: int = 4096
    file_mb: int = 256
    grace: float = 15.0  # seconds beyond the case limits before a hung sandbox is killed
    grading_timeout: float = 600.0  # seconds for all graded calls of one notebook
    sandbox: str = "bwrap"


@dataclass
class Row:
    """One line of the score table (notebook and detail are cleaned of control codes)."""

    notebook: str
    exercise: str
    passed: int
    total: int
    status: str
    seconds: float
    detail: str = ""

    def __post_init__(self):
        self.notebook, self.detail = clean(self.notebook, 500), clean(self.detail)


@dataclass
class ExerciseRun:
    """What the sandbox did for one exercise. status None: judge the calls."""

    status: str | None = None
    detail: str = ""
    calls: list = field(default_factory=list)  # (record, json tree, blob) per finished case
    running: bool = False                      # a case started and never finished
    seconds: float = 0.0


@dataclass
class NotebookRun:
    exercises: dict = field(default_factory=dict)  # id -> ExerciseRun
    notes: list = field(default_factory=list)      # sentences about the notebook's own cells
    seconds: float = 0.0
    flags: dict = field(default_factory=dict)      # id -> static check sentences


# ---------------------------------------------------------------- finding and reading notebooks

def _not_regular(path):
    """None for a regular file (not a link); else why it is refused."""
    try:
        st = os.lstat(path)
    except OSError as exc:
        return f"cannot be read ({exc.strerror})"
    if stat.S_ISLNK(st.st_mode):
        return "a symbolic link: only regular files inside the submissions folder are graded"
    if not stat.S_ISREG(st.st_mode):
        return ("not a regular file (a folder, device, pipe or socket): only regular files "
                "are graded")
    return None


def find_notebooks(paths):
    """[(path, refusal or None)]: the .ipynb files named, or found (sorted, links not
    followed) under named folders; a link or special file is listed with why it is refused."""
    found = []
    for p in map(Path, paths):
        if p.is_dir():
            inside = []
            for folder, dirs, files in os.walk(p):  # does not walk into links to folders
                dirs[:] = [d for d in dirs if d != ".ipynb_checkpoints"]
                inside += [Path(folder) / name for name in files + dirs
                           if name.endswith(".ipynb")]
            found.extend(sorted(inside))
        elif os.path.lexists(p):
            found.append(p)
        else:
            raise GraderError(f"no notebook or folder at {p}")
    found = list(dict.fromkeys(found))
    return [(q, _not_regular(q)) for q in found]


def _read_bytes(path):
    """The file's bytes, opened without following a link and checked again once open."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError("not a regular file")
        if st.st_size > MAX_NOTEBOOK_BYTES:
            raise OSError(f"{st.st_size} bytes, over the {MAX_NOTEBOOK_BYTES} byte limit")
        with os.fdopen(fd, "rb", closefd=False) as f:
            return f.read(MAX_NOTEBOOK_BYTES + 1)
    finally:
        os.close(fd)


def read_notebook(data):
    """(notebook dict, None) for an nbformat-4 notebook's bytes, else (None, reason)."""
    try:
        nb = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        return None, f"not a JSON file ({exc.__class__.__name__}: {str(exc)[:80]})"
    if not isinstance(nb, dict) or "cells" not in nb:
        return None, "not a notebook (no list of cells)"
    if nb.get("nbformat") != 4:
        return None, f"nbformat {str(nb.get('nbformat'))[:20]!r}: only version 4 notebooks can be graded"
    cells = nb.get("cells")
    if not isinstance(cells, list) or not all(isinstance(c, dict) for c in cells):
        return None, "the cells are not a list of cells"
    return nb, None


def _source(cell):
    src = cell.get("source", "")
    return "".join(map(str, src)) if isinstance(src, list) else str(src)


def chapter_prefixes(nb, filename):
    """Registered chapter prefixes ('backprop', ...) that this notebook belongs to."""
    known = {i.split(".", 1)[0] for i in EXERCISES}
    found = set()
    meta = nb.get("metadata")
    meta = meta.get("dlcore") if isinstance(meta, dict) else None
    if isinstance(meta, dict):  # written by the generator of exercises/
        found.update(FROM_SOLUTIONS.findall(str(meta.get("generated_from", ""))[:200]))
    for cell in nb.get("cells", []):
        text = _source(cell)
        if cell.get("cell_type") == "code":
            found.update(CHECK_ID.findall(text))
        elif cell.get("cell_type") == "markdown":
            found.update(FROM_SOLUTIONS.findall(text))
    stem = Path(filename).name
    found.update(p for p in known if re.match(rf"\d\d_{re.escape(p)}(?![a-zA-Z0-9])", stem))
    return sorted(found & known)


# ---------------------------------------------------------------- which sandbox

def resolve_sandbox(mode):
    """(mode, note): "bwrap" when bubblewrap works here, GraderError when it was asked for
    and does not; "weak" when asked for, with a one-line note saying what it lacks."""
    if mode == "weak":
        return "weak", ("sandbox: weak mode (no bubblewrap): each notebook runs as you, in its "
                        "own session under limits; it can read your files (see instructors.md)")
    if mode != "bwrap":
        raise GraderError(f"unknown sandbox {mode!r}: use bwrap or weak")
    path = bwrap_path()
    if path is None:
        raise GraderError("bubblewrap (bwrap) is not installed: install it "
                          "(apt-get install bubblewrap) or pass --sandbox weak to grade "
                          "without isolation from your files")
    probe = [path, "--unshare-all", "--die-with-parent", "--ro-bind", "/", "/",
             "--size", "1048576", "--tmpfs", "/tmp", "true"]  # the options a sandbox uses
    if os.geteuid() == 0:
        probe[2:2] = ["--unshare-user", "--uid", "65534", "--gid", "65534"]
    try:
        done = subprocess.run(probe, capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GraderError(f"bubblewrap cannot start a sandbox here ({exc})") from None
    if done.returncode != 0:
        why = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GraderError("bubblewrap cannot start a sandbox here ("
                          f"{why[-1] if why else done.returncode}); pass --sandbox weak to "
                          "grade without isolation from your files")
    _bwrap_has("--disable-userns")  # asked once here, not in every worker
    cgroups_that_work()
    return "bwrap", None


# ---------------------------------------------------------------- in a worker: one notebook

def _limit(exercise, opts):
    if opts.case_timeout is None:
        return exercise.time_limit
    return min(exercise.time_limit, opts.case_timeout)


def _clean_record(record):
    """The fields of a case record the grader uses, with their types enforced."""
    if not isinstance(record, dict) or record.get("kind") not in ("ok", "raised", "timeout"):
        raise channel.ChannelError("a case record without a valid kind")
    seconds = record.get("seconds", 0.0)
    seconds = float(seconds) if isinstance(seconds, (int, float)) else 0.0
    out = {"kind": record["kind"],
           "seconds": seconds if math.isfinite(seconds) and seconds >= 0 else 0.0}
    if out["kind"] == "raised":
        info = record.get("exception")
        info = info if isinstance(info, dict) else {}
        out["exception"] = {"type": str(info.get("type", ""))[:80],
                            "message": str(info.get("message", ""))[:300],
                            "where": str(info.get("where", ""))[:120],
                            "not_implemented": info.get("not_implemented") is True,
                            "memory": info.get("memory") is True}
    return out


def _check_case_data(data):
    """A case's decoded data must be what inside.py writes: {"value", "args", "kwargs"}."""
    if not (isinstance(data, dict) and set(data) == {"value", "args", "kwargs"}
            and isinstance(data["args"], (list, tuple)) and isinstance(data["kwargs"], dict)
            and all(isinstance(k, str) for k in data["kwargs"])):
        raise channel.ChannelError("a case result that is not {value, args, kwargs}")


def _read_results(box, run, n_cases, deadline, budget):
    """Read the sandbox's frames for one exercise into `run` until "done".
    Returns (what it said of the function or None, problem or None, why): problem is
    'died', 'hung' or 'broken' (a frame out of order, over a limit, or malformed)."""
    defined = None
    while True:
        try:
            message, data = box.receive(deadline)
            kind, index = message["type"], message.get("index")
            if kind == "function" and defined is None:
                defined = {"defined": message.get("defined") is True,
                           "type_name": str(message.get("type_name", "?"))[:80]}
            elif kind == "started" and defined and index == len(run.calls) < n_cases:
                run.running = True
            elif kind == "case" and run.running and index == len(run.calls):
                budget[0] -= len(data)
                if budget[0] < 0:
                    raise channel.ChannelError(f"its results are over the {MAX_RESULT_BYTES} "
                                               "bytes the grader keeps per notebook")
                record = _clean_record(message.get("record"))
                tree = message.get("data")
                _check_case_data(channel.decode(tree, data))  # refuse it here if malformed
                text = json.dumps(tree, separators=(",", ":")).encode("utf-8")
                budget[0] -= JSON_COST * len(text)  # a parsed tree costs far more than its text
                if budget[0] < 0:
                    raise channel.ChannelError(f"its results are over the {MAX_RESULT_BYTES} "
                                               "bytes the grader keeps per notebook")
                run.calls.append((record, text, data))
                run.running = False
            elif kind == "done" and defined is not None:
                return defined, None, ""
            else:
                raise channel.ChannelError(f"an unexpected {str(kind)[:20]!r} frame")
        except EOFError:
            return defined, "died", ""
        except TimeoutError:
            return defined, "hung", ""
        except channel.ChannelError as exc:
            return defined, "broken", str(exc)


def _grade_one(box, exercise, opts, stopped_note, budget, grading_end):
    """Call one graded function in the sandbox. Returns (ExerciseRun, sandbox_lost).
    budget: [bytes of results this notebook may still send], spent here; grading_end:
    when this notebook's time for graded calls runs out (time.monotonic())."""
    start = time.monotonic()
    cases = [(tuple(c.args), dict(c.kwargs)) for c in exercise.cases(opts.seed)]
    limit = _limit(exercise, opts)
    blob = bytearray()
    tree = channel.encode(cases, blob, allow_functions=True)
    deadline = min(start + len(cases) * (limit + 1.0) + opts.grace, grading_end)
    run = ExerciseRun()
    if box.send({"op": "grade", "function": exercise.function, "time_limit": limit,
                 "cases": tree}, blob, deadline):
        defined, problem, why = _read_results(box, run, len(cases), deadline, budget)
    else:
        defined, why = None, ""
        problem = "died" if box.exit_code(wait=1.0) is not None else "hung"
    lost = problem is not None
    n = len(run.calls)
    if problem == "hung" and time.monotonic() >= grading_end:
        run.status, run.running = TIMEOUT, False
        run.detail = _out_of_grading_time(opts)
    elif problem == "died":
        run.status, run.detail = KERNEL_DIED, box.death() + (
            f" while {exercise.function} ran on case {n + 1}" if run.running else "")
    elif problem == "hung" and not run.running:
        # the hang was in the grader's own code in the sandbox, e.g. a patched builtin
        run.status = TIMEOUT
        run.detail = "the kernel stopped answering while the grader's cases were sent"
    elif problem == "broken":
        run.status, run.running = ERROR, False
        run.detail = f"its kernel sent the grader a result it refuses: {why}"
    elif problem is None and not defined["defined"]:
        if stopped_note:
            run.status = TIMEOUT
            run.detail = f"{exercise.function} is not defined: {stopped_note}"
        else:
            what = ("not defined" if defined["type_name"] == "NoneType"
                    else f"a {defined['type_name']}, not a function")
            run.status, run.detail = MISSING, f"{exercise.function} is {what}"
    run.seconds = time.monotonic() - start
    return run, lost


def _run_cells(box, cells, opts, budget_end):
    """Run the code cells. Returns (state, note): state 'done', 'stopped' (a cell ran past a
    limit and was interrupted: grade what is defined), 'killed', 'died' or 'broken'."""
    first_error = None
    for index, code in cells:
        remaining = budget_end - time.monotonic()
        limit = min(opts.cell_timeout, remaining)
        which = "cell" if limit == opts.cell_timeout else "notebook"
        if limit <= 0:
            return "stopped", (f"the notebook ran past its {opts.notebook_timeout:g} s limit "
                               f"before cell {index}")
        out = box.run_cell(index, code, limit)
        if out.kind == "died":
            return "died", f"{box.death()} in cell {index}"
        if out.kind == "broken":
            return "broken", (f"cell {index} wrote to the grader's channel something it "
                              f"refuses ({out.evalue})")
        if out.kind in ("timeout", "hung"):
            bound = (f"the {opts.cell_timeout:g} s limit per cell" if which == "cell"
                     else f"the notebook's {opts.notebook_timeout:g} s limit")
            note = f"cell {index} ran past {bound}; the cells after it did not run"
            if out.kind == "timeout":
                return "stopped", note
            return "killed", note + " and the kernel could not be interrupted"
        if out.kind == "error" and first_error is None:
            first_error = f"cell {index} raised {out.ename}: {out.evalue[:120]}"
    return "done", first_error


def _out_of_grading_time(opts):
    return (f"not graded: the notebook's graded calls ran past their "
            f"{opts.grading_timeout:g} s together")


def run_notebook(job, view, mode):
    """Worker: (label, cells, exercise ids, options) -> NotebookRun with raw sandbox outputs."""
    _, cells, ids, opts = job
    start = time.monotonic()
    result = NotebookRun()
    pending = list(ids)
    budget_end = start + opts.notebook_timeout
    results_budget = [MAX_RESULT_BYTES]
    grading_end = None  # set when the first graded call starts
    with tempfile.TemporaryDirectory(prefix="dlcore-nb-") as tmp:
        for attempt in range(MAX_KERNELS):
            if not pending or (grading_end and time.monotonic() >= grading_end):
                break
            box = Sandbox(mode, view, Path(tmp) / f"k{attempt}", opts.memory_mb * 2**20,
                          opts.file_mb * 2**20,
                          cpu_seconds=int(opts.notebook_timeout + 60 * len(ids) + 60),
                          tmpfs_bytes=opts.file_mb * 2**20)
            try:
                box.start()
                state, note = _run_cells(box, cells, opts, budget_end)
                if note and note not in result.notes:
                    result.notes.append(note)
                if state in ("died", "killed", "broken"):
                    status = {"died": KERNEL_DIED, "killed": TIMEOUT, "broken": ERROR}[state]
                    for i in pending:
                        result.exercises[i] = ExerciseRun(status, note)
                    pending = []
                    break
                stopped = note if state == "stopped" else None
                if grading_end is None:
                    grading_end = time.monotonic() + opts.grading_timeout
                while pending and time.monotonic() < grading_end:
                    run, lost = _grade_one(box, get_exercise(pending[0]), opts, stopped,
                                           results_budget, grading_end)
                    result.exercises[pending.pop(0)] = run
                    if lost:
                        break  # a fresh sandbox re-runs the notebook for the rest
            finally:
                box.close()
        out_of_time = grading_end is not None and time.monotonic() >= grading_end
        for i in pending:
            result.exercises[i] = ExerciseRun(TIMEOUT, _out_of_grading_time(opts) if out_of_time
                                              else f"not graded: {MAX_KERNELS} kernels "
                                                   "crashed or hung on this notebook")
    result.seconds = time.monotonic() - start
    return result


def static_flags(cells, ids):
    """{exercise id: [sentence]} from the static check of the notebook's code (static.py).
    Run in the notebook's worker, not the grader: parsing is the one step whose cost grows
    with the submitted source (an 8 MB cell took 88 s and 4.7 GB to parse and walk), so
    the code it parses is capped, and a source it cannot check flags every exercise."""
    size = sum(len(code) for _, code in cells)
    why = None
    if size > MAX_CHECKED_CODE:
        why = f"its code ({size} characters) is over the {MAX_CHECKED_CODE} the check reads"
    else:
        try:
            return find_reference_uses([code for _, code in cells],
                                       [get_exercise(i) for i in ids])
        except (RecursionError, MemoryError) as exc:
            why = f"its code is too complex to check ({type(exc).__name__})"
    return {i: [f"the source could not be checked: {why}"] for i in ids}


def _worker(job, view, mode, conn):
    become_subreaper()
    try:
        flags = static_flags(job[1], job[2])
        run = run_notebook(job, view, mode)
        run.flags = flags
    except GraderError as exc:
        run = exc
    conn.send(run)
    conn.close()


def _worker_bound(job):
    """Seconds after which a worker is killed whatever it is doing (it never should be)."""
    _, _, ids, opts = job
    grading = sum(len(get_exercise(i).cases(opts.seed)) * (_limit(get_exercise(i), opts) + 1)
                  + opts.grace for i in ids)
    return min(MAX_KERNELS * (opts.notebook_timeout + grading + 70) + 60,
               opts.notebook_timeout + opts.grading_timeout + MAX_KERNELS * 70 + 120)


def _run_all(work, view, mode, jobs, on_done):
    """Run each job in its own forked worker, `jobs` at a time; on_done(job, run)."""
    ctx = multiprocessing.get_context("fork")
    pending, running = list(work), {}
    while pending or running:
        while pending and len(running) < jobs:
            job = pending.pop(0)
            receiver, sender = ctx.Pipe(duplex=False)
            process = ctx.Process(target=_worker, args=(job, view, mode, sender), daemon=True)
            process.start()
            sender.close()
            running[receiver] = (job, process, time.monotonic() + _worker_bound(job))
        now = time.monotonic()
        ready = wait(list(running), timeout=max(0.1, min(d for _, _, d in running.values()) - now))
        for receiver in list(running):
            job, process, bound = running[receiver]
            if receiver not in ready and time.monotonic() < bound:
                continue
            del running[receiver]
            try:
                run = receiver.recv() if receiver in ready else None
            except (EOFError, OSError):
                run = None
            receiver.close()
            if process.is_alive():
                process.kill()
            process.join(10)
            if isinstance(run, GraderError):
                raise run
            if run is None:
                run = NotebookRun()
                why = (f"the grader's worker for this notebook ended without a result (exit "
                       f"status {process.exitcode})")
                run.exercises = {i: ExerciseRun(ERROR, why) for i in job[2]}
            on_done(job, run)


# ---------------------------------------------------------------- in the grader: judging

def _remote_call(record, value):
    """check's _Call for what the sandbox reported."""
    kind, seconds = record["kind"], record["seconds"]
    if kind != "raised":
        return _Call(kind, value, seconds)
    info = record["exception"]
    message = info["message"]
    if info["memory"]:
        message = (message + " " if message else "") + "(the kernel's memory limit was reached)"
    if info["not_implemented"]:
        exc = NotImplementedError(message)
    else:
        name = re.sub(r"\W", "", info["type"]) or "Exception"
        exc = type(name, (Exception,), {})(message)
    exc.where = info["where"]
    return _Call("raised", exc, seconds)


def _first_problem(result):
    for line in result.lines:
        if line.startswith("✘"):
            text = line[1:].strip()
            return text[len(result.function):].strip() if text.startswith(result.function) else text
    return ""


def judge(notebook, exercise_id, run, opts, flags=()):
    """The Row for one exercise: compare the sandbox's outputs with the reference, here."""
    start = time.monotonic()
    exercise = get_exercise(exercise_id)
    cases = exercise.cases(opts.seed)
    total = len(dict.fromkeys(c.group for c in cases))
    if flags:
        return Row(notebook, exercise_id, 0, total, ERROR, round(run.seconds, 3),
                   "; ".join(flags) + " (static check of the submitted source)")
    if run.status is not None and not run.calls and not run.running:
        return Row(notebook, exercise_id, 0, total, run.status, round(run.seconds, 3), run.detail)
    limit = _limit(exercise, opts)
    results = []
    for index, (record, text, blob) in enumerate(run.calls):
        data = channel.decode(json.loads(text), blob)
        call = _remote_call(record, data["value"])
        args = tuple(data["args"]) if data["args"] else cases[index].args
        kwargs = data["kwargs"] or dict(cases[index].kwargs)
        results.append(_judge_case(exercise, cases[index], index, call, args, kwargs, limit))
    if run.running and len(run.calls) < len(cases) and run.status != KERNEL_DIED:
        results.append(_judge_case(exercise, cases[len(run.calls)], len(run.calls),
                                   _Call("timeout", None, limit), (), {}, limit))
    seconds = round(run.seconds + time.monotonic() - start, 3)
    if run.status is not None:  # the sandbox died, or sent what the channel refuses
        return Row(notebook, exercise_id, 0, total, run.status, seconds, run.detail)
    checked = _summarize(exercise, cases, results)
    detail = "" if checked.status == OK else _first_problem(checked)
    return Row(notebook, exercise_id, checked.passed, checked.total, checked.status, seconds,
               detail)


def _rows_for_all(label, status, problem, opts, prefixes):
    ids = [i for p in prefixes for i in sorted(EXERCISES) if i.startswith(p + ".")]
    rows = []
    for i in ids or [""]:
        total = len({c.group for c in get_exercise(i).cases(opts.seed)}) if i else 0
        rows.append(Row(label, i, 0, total, status, 0.0, problem))
    return rows


def display_names(labels):
    """{label: the name the table shows}, one distinct printable name per notebook. A name
    that cleaning changes (escape codes, control characters, too long) gets a short hash of
    the original, so that 'ali<ESC>[0mce.ipynb' cannot pass for alice.ipynb in the table
    or the summary; names that need no cleaning keep theirs."""
    shown, used = {}, set()
    plain = {label for label in labels if clean(label, 500) == label}
    for label in sorted(labels, key=lambda x: x not in plain):  # plain names first
        name = label
        if label not in plain:
            digest = hashlib.sha256(label.encode("utf-8", "surrogateescape")).hexdigest()[:10]
            name = f"{clean(label, 440)} [name cleaned, {digest}]"
        k = 1
        while name in used:  # only cleaned names can meet another name here
            k += 1
            name = f"{name} ({k})"
        used.add(name)
        shown[label] = name
    return shown


def _jobs_for(found, opts):
    """Read every notebook first (later edits by a sandbox change nothing), then plan.
    Returns (rows for notebooks not run, jobs)."""
    rows, jobs = [], []
    names = display_names([str(path) for path, _ in found])
    for path, refusal in found:
        label = names[str(path)]
        if refusal is not None:
            rows.extend(_rows_for_all(label, REFUSED, refusal, opts, chapter_prefixes({}, path)))
            continue
        try:
            data = _read_bytes(path)
        except OSError as exc:
            rows.extend(_rows_for_all(label, REFUSED, f"cannot be read: {exc}", opts,
                                      chapter_prefixes({}, path)))
            continue
        nb, problem = read_notebook(data)
        del data
        if nb is not None:
            try:
                prefixes = chapter_prefixes(nb, path)
                cells = [(k, _source(c)) for k, c in enumerate(nb["cells"])
                         if c.get("cell_type") == "code" and _source(c).strip()]
            except (RecursionError, MemoryError, ValueError) as exc:  # e.g. str() of deep JSON
                nb, problem = None, f"its cells cannot be read ({type(exc).__name__})"
        if nb is None:
            rows.extend(_rows_for_all(label, INVALID, problem, opts, chapter_prefixes({}, path)))
            continue
        if not prefixes:
            rows.append(Row(label, "", 0, 0, INVALID, 0.0,
                            "cannot tell which chapter it belongs to: no check(\"chapter."
                            "function\", ...) call, no 'generated from solutions/NN_topic."
                            "ipynb' cell and no NN_topic file name"))
            continue
        ids = [i for i in sorted(EXERCISES) if i.split(".", 1)[0] in prefixes]
        jobs.append((label, cells, ids, opts))
    return rows, jobs


def grade(paths, opts, jobs=1, progress=None):
    """Grade the notebooks at `paths`; returns (rows, {notebook: NotebookRun})."""
    mode, _ = resolve_sandbox(opts.sandbox)
    found = find_notebooks(paths)
    rows, work = _jobs_for(found, opts)
    runs = {}

    def on_done(job, run):
        label, _, ids, _ = job
        runs[label] = run
        for i in ids:
            try:
                rows.append(judge(label, i, run.exercises[i], opts, run.flags.get(i, ())))
            except Exception as exc:  # noqa: BLE001  (one notebook's results never stop the run)
                total = len({c.group for c in get_exercise(i).cases(opts.seed)})
                rows.append(Row(label, i, 0, total, ERROR, round(run.exercises[i].seconds, 3),
                                "the grader could not judge what its kernel sent "
                                f"({type(exc).__name__})"))
            run.exercises[i].calls = []  # judged: the outputs need not stay in memory
        if progress is not None:
            progress(label, run)

    if work:
        with tempfile.TemporaryDirectory(prefix="dlcore-grade-") as root:
            _run_all(work, build_view(root), mode, max(1, jobs), on_done)
    names = display_names([str(p) for p, _ in found])
    order = {names[str(p)]: k for k, (p, _) in enumerate(found)}
    rows.sort(key=lambda r: (order.get(r.notebook, -1), r.exercise))
    return rows, runs
