"""The instructor's grader: run each submitted notebook, call its functions on secret cases,
judge the outputs here with the reference.

Flow for one notebook (`run_notebook`, in a worker process forked from the grader before
any kernel starts): start a fresh kernel, run the code cells in order with a per-cell and a
per-notebook time limit (errors do not stop the run; a cell that runs past its limit
does), then for each exercise the notebook is meant to have, send the cases (made here
from the secret seed) into the kernel, call the learner's function there (see
`protocol.kernel_grade`) and read back plain arrays. If the kernel dies or hangs while one
function is graded, that exercise gets `kernel-died`/`timeout` and a fresh kernel re-runs
the notebook for the rest. `judge` then compares the outputs with the reference in the
grader's own process, with check()'s comparison code.

Which exercises a notebook is meant to have: every registered exercise of its chapter.
The chapter is read from the `check("chapter.function", ...)` calls in its code, the
"generated from `solutions/NN_topic.ipynb`" cell, and a file name `NN_topic.ipynb`, any of
which is enough; a deleted check cell or a renamed file does not drop an exercise.
"""
from __future__ import annotations

import json
import multiprocessing
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import dlcore

from . import protocol
from .check import (
    ERROR,
    NOT_IMPLEMENTED,
    OK,
    TIMEOUT,
    WRONG,
    _Call,
    _judge_case,
    _summarize,
)
from .registry import EXERCISES, get_exercise
from .runner import GraderError, KernelSession

__all__ = ["GradeOptions", "Row", "chapter_prefixes", "find_notebooks", "grade"]

MISSING, KERNEL_DIED, INVALID = "missing", "kernel-died", "invalid-notebook"
STATUSES = (OK, WRONG, NOT_IMPLEMENTED, ERROR, TIMEOUT, KERNEL_DIED, MISSING, INVALID)
MAX_KERNELS = 4  # kernels started per notebook (the first, then one per crash or hang)
PROTOCOL_SOURCE = Path(protocol.__file__).read_text(encoding="utf-8")  # read before any kernel
DLCORE_DIR = os.path.dirname(os.path.abspath(dlcore.__file__)) + os.sep

CHECK_ID = re.compile(r"""check\(\s*["'](\w+)\.\w+["']""")
FROM_SOLUTIONS = re.compile(r"solutions/\d\d_(\w+)\.ipynb")


@dataclass
class GradeOptions:
    """Limits: cell_timeout and notebook_timeout bound the notebook's own cells;
    case_timeout (None: each exercise's own, 5 s by default) bounds each call of a graded
    function; memory_mb is the kernel's address-space limit (0: none)."""

    seed: int = 0
    cell_timeout: float = 60.0
    notebook_timeout: float = 300.0
    case_timeout: float | None = None
    memory_mb: int = 4096
    file_mb: int = 1024
    skip_check: bool = True
    grace: float = 15.0  # seconds beyond the case limits before a hung kernel is killed


@dataclass
class Row:
    """One line of the score table."""

    notebook: str
    exercise: str
    passed: int
    total: int
    status: str
    seconds: float
    detail: str = ""


@dataclass
class ExerciseRun:
    """What the kernel did for one exercise. status None: judge the calls."""

    status: str | None = None
    detail: str = ""
    calls: list = field(default_factory=list)  # (json tree, arrays) per finished case
    running: bool = False                      # a case started and never finished
    seconds: float = 0.0


@dataclass
class NotebookRun:
    exercises: dict = field(default_factory=dict)  # id -> ExerciseRun
    notes: list = field(default_factory=list)      # sentences about the notebook's own cells
    seconds: float = 0.0


# ---------------------------------------------------------------- finding and reading notebooks

def find_notebooks(paths):
    """The .ipynb files named, or found recursively (sorted) under named folders."""
    found = []
    for p in map(Path, paths):
        if p.is_dir():
            found.extend(sorted(q for q in p.rglob("*.ipynb")
                                if ".ipynb_checkpoints" not in q.parts and q.is_file()))
        elif p.is_file():
            found.append(p)
        else:
            raise GraderError(f"no notebook or folder at {p}")
    return list(dict.fromkeys(found))


def read_notebook(data):
    """(notebook dict, None) for an nbformat-4 notebook's bytes, else (None, reason)."""
    try:
        nb = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, f"not a JSON file ({exc.__class__.__name__}: {str(exc)[:80]})"
    if not isinstance(nb, dict) or "cells" not in nb:
        return None, "not a notebook (no list of cells)"
    if nb.get("nbformat") != 4:
        return None, f"nbformat {nb.get('nbformat')!r}: only version 4 notebooks can be graded"
    cells = nb.get("cells")
    if not isinstance(cells, list) or not all(isinstance(c, dict) for c in cells):
        return None, "the cells are not a list of cells"
    return nb, None


def _source(cell):
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def chapter_prefixes(nb, filename):
    """Registered chapter prefixes ('backprop', ...) that this notebook belongs to."""
    known = {i.split(".", 1)[0] for i in EXERCISES}
    found = set()
    for cell in nb.get("cells", []):
        text = _source(cell)
        if cell.get("cell_type") == "code":
            found.update(CHECK_ID.findall(text))
        elif cell.get("cell_type") == "markdown":
            found.update(FROM_SOLUTIONS.findall(text))
    stem = Path(filename).name
    found.update(p for p in known if re.match(rf"\d\d_{re.escape(p)}(?![a-zA-Z0-9])", stem))
    return sorted(found & known)


# ---------------------------------------------------------------- in a worker: one notebook

def _kernel_case_calls(exercise, seed):
    return [(tuple(c.args), dict(c.kwargs)) for c in exercise.cases(seed)]


def _harness_code(request_dir, result_dir):
    # Runs in a throwaway namespace: nothing lands in the learner's globals.
    src, req, res = PROTOCOL_SOURCE, str(request_dir), str(result_dir)
    return (f"(lambda g: (exec(compile(g['src'], {protocol.HARNESS_FILE!r}, 'exec'), g), "
            f"g['kernel_grade'](__import__('IPython').get_ipython().user_ns, {req!r}, {res!r})))"
            f"({{'src': {src!r}}})")


def _grade_one(session, exercise, opts, tmp, stopped_note):
    """Call one graded function in the kernel. Returns (ExerciseRun, kernel_lost)."""
    start = time.perf_counter()
    req = Path(tempfile.mkdtemp(dir=tmp, prefix="req-"))
    res = Path(tempfile.mkdtemp(dir=tmp, prefix="res-"))
    cases = _kernel_case_calls(exercise, opts.seed)
    limit = exercise.time_limit if opts.case_timeout is None else min(exercise.time_limit,
                                                                      opts.case_timeout)
    (req / "request.json").write_text(json.dumps({
        "function": exercise.function, "time_limit": limit, "dlcore_dir": DLCORE_DIR}))
    protocol.write_value(str(req / "cases"), cases, allow_functions=True)
    hard = len(cases) * (limit + 1.0) + opts.grace
    outcome = session.execute(_harness_code(req, res), timeout=hard, silent=True)

    run = ExerciseRun()
    n = 0
    while (res / f"{n}.json").exists():
        with open(res / f"{n}.json", encoding="utf-8") as f:
            tree = json.load(f)
        with np.load(res / f"{n}.npz", allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        run.calls.append((tree, arrays))
        n += 1
    run.running = (res / f"{n}.started").exists()
    lost = False
    if outcome.kind == "died":
        run.status, run.detail, lost = KERNEL_DIED, session.death() + (
            f" while {exercise.function} ran on case {n + 1}" if run.running else ""), True
    elif outcome.kind == "timeout":
        lost = True
        if not run.running:  # the hang was in the grader's own code, e.g. a patched numpy
            run.status = TIMEOUT
            run.detail = "the kernel stopped answering while the grader's cases were sent"
    elif outcome.kind == "error":
        run.status, run.detail = ERROR, (f"the grader's code failed in the kernel "
                                         f"({outcome.ename}: {outcome.evalue[:120]}); "
                                         "does the notebook patch numpy, json or builtins?")
    else:
        try:
            defined = json.loads((res / "function.json").read_text())
        except (OSError, ValueError):
            defined = {"defined": False, "type": "?"}
        if not defined.get("defined"):
            if stopped_note:
                run.status, run.detail = TIMEOUT, f"{exercise.function} is not defined: {stopped_note}"
            else:
                what = ("not defined" if defined.get("type") == "NoneType"
                        else f"a {defined.get('type')}, not a function")
                run.status, run.detail = MISSING, f"{exercise.function} is {what}"
    run.seconds = time.perf_counter() - start
    shutil.rmtree(req, ignore_errors=True)
    shutil.rmtree(res, ignore_errors=True)
    return run, lost


def _run_cells(session, cells, opts, budget_end):
    """Run the code cells. Returns (state, note): state 'done', 'stopped' (a cell ran past a
    limit and was interrupted: grade what is defined), 'killed' or 'died'."""
    first_error = None
    for index, code in cells:
        remaining = budget_end - time.perf_counter()
        limit = min(opts.cell_timeout, remaining)
        which = "cell" if limit == opts.cell_timeout else "notebook"
        if limit <= 0:
            return "stopped", (f"the notebook ran past its {opts.notebook_timeout:g} s limit "
                               f"before cell {index}")
        out = session.execute(code, timeout=limit)
        if out.kind == "died":
            return "died", f"{session.death()} in cell {index}"
        if out.kind == "timeout":
            bound = (f"the {opts.cell_timeout:g} s limit per cell" if which == "cell"
                     else f"the notebook's {opts.notebook_timeout:g} s limit")
            note = f"cell {index} ran past {bound}; the cells after it did not run"
            if session.interrupt():
                return "stopped", note
            return "killed", note + " and the kernel could not be interrupted"
        if out.kind == "error" and first_error is None:
            first_error = f"cell {index} raised {out.ename}: {out.evalue[:120]}"
    return "done", first_error


def run_notebook(job):
    """Worker: (label, cells, exercise ids, options) -> NotebookRun with raw kernel outputs."""
    _, cells, ids, opts = job
    start = time.perf_counter()
    result = NotebookRun()
    pending = list(ids)
    tmp = tempfile.mkdtemp(prefix="dlcore-grade-")
    budget_end = start + opts.notebook_timeout
    try:
        for attempt in range(MAX_KERNELS):
            if not pending:
                break
            session = KernelSession(Path(tmp) / f"k{attempt}", opts.memory_mb * 2**20,
                                    opts.file_mb * 2**20, opts.skip_check)
            session.start()
            try:
                state, note = _run_cells(session, cells, opts, budget_end)
                if note and note not in result.notes:
                    result.notes.append(note)
                if state in ("died", "killed"):
                    status = KERNEL_DIED if state == "died" else TIMEOUT
                    for i in pending:
                        result.exercises[i] = ExerciseRun(status, note)
                    pending = []
                    break
                stopped = note if state == "stopped" else None
                while pending:
                    exercise = get_exercise(pending[0])
                    run, lost = _grade_one(session, exercise, opts, tmp, stopped)
                    result.exercises[pending.pop(0)] = run
                    if lost:
                        break  # a fresh kernel re-runs the notebook for the rest
            finally:
                session.close()
        for i in pending:
            result.exercises[i] = ExerciseRun(TIMEOUT, f"not graded: {MAX_KERNELS} kernels "
                                                       "crashed or hung on this notebook")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    result.seconds = time.perf_counter() - start
    return result


# ---------------------------------------------------------------- in the grader: judging

def _remote_call(record, value):
    """check's _Call for what the kernel reported."""
    kind, seconds = record["kind"], float(record.get("seconds", 0.0))
    if kind != "raised":
        return _Call(kind, value, seconds)
    info = record["exception"]
    message = info.get("message", "")
    if info.get("memory"):
        message = (message + " " if message else "") + "(the kernel's memory limit was reached)"
    if info.get("not_implemented"):
        exc = NotImplementedError(message)
    else:
        name = re.sub(r"\W", "", info.get("type", "")) or "Exception"
        exc = type(name, (Exception,), {})(message)
    exc.where = info.get("where", "")
    return _Call("raised", exc, seconds)


def _first_problem(result):
    for line in result.lines:
        if line.startswith("✘"):
            text = line[1:].strip()
            return text[len(result.function):].strip() if text.startswith(result.function) else text
    return ""


def judge(notebook, exercise_id, run, opts):
    """The Row for one exercise: compare the kernel's outputs with the reference, here."""
    start = time.perf_counter()
    exercise = get_exercise(exercise_id)
    cases = exercise.cases(opts.seed)
    total = len(dict.fromkeys(c.group for c in cases))
    if run.status is not None and not run.calls and not run.running:
        return Row(notebook, exercise_id, 0, total, run.status, round(run.seconds, 3), run.detail)
    limit = exercise.time_limit if opts.case_timeout is None else min(exercise.time_limit,
                                                                      opts.case_timeout)
    results, flags = [], []
    for index, (tree, arrays) in enumerate(run.calls):
        data = protocol.decode(tree, arrays)
        record = data["record"]
        flags += [f"calls the reference implementation {h}" for h in record.get("reference", [])]
        flags += [f"turned off the grader's call watch ({t})" for t in record.get("tampered", [])]
        call = _remote_call(record, data["value"])
        args = tuple(data["args"]) if data["args"] else cases[index].args
        kwargs = data["kwargs"] or dict(cases[index].kwargs)
        results.append(_judge_case(exercise, cases[index], index, call, args, kwargs, limit))
    if run.running and len(run.calls) < len(cases) and run.status != KERNEL_DIED:
        results.append(_judge_case(exercise, cases[len(run.calls)], len(run.calls),
                                   _Call("timeout", None, limit), (), {}, limit))
    seconds = round(run.seconds + time.perf_counter() - start, 3)
    if flags:
        return Row(notebook, exercise_id, 0, total, ERROR, seconds, "; ".join(dict.fromkeys(flags)))
    if run.status is not None:  # the kernel died, or the grader's own code failed there
        return Row(notebook, exercise_id, 0, total, run.status, seconds, run.detail)
    checked = _summarize(exercise, cases, results)
    detail = "" if checked.status == OK else _first_problem(checked)
    return Row(notebook, exercise_id, checked.passed, checked.total, checked.status, seconds,
               detail)


def _jobs_for(paths, opts):
    """Read every notebook first (later edits by a kernel change nothing), then plan."""
    rows, jobs = [], []
    for path in paths:
        label = str(path)
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            rows.append(Row(label, "", 0, 0, INVALID, 0.0, f"cannot read: {exc}"))
            continue
        nb, problem = read_notebook(data)
        if nb is None:
            prefixes = chapter_prefixes({}, path)
            ids = [i for p in prefixes for i in sorted(EXERCISES) if i.startswith(p + ".")]
            for i in ids or [""]:
                total = len({c.group for c in get_exercise(i).cases(opts.seed)}) if i else 0
                rows.append(Row(label, i, 0, total, INVALID, 0.0, problem))
            continue
        prefixes = chapter_prefixes(nb, path)
        if not prefixes:
            rows.append(Row(label, "", 0, 0, INVALID, 0.0,
                            "cannot tell which chapter it belongs to: no check(\"chapter."
                            "function\", ...) call, no 'generated from solutions/NN_topic."
                            "ipynb' cell and no NN_topic file name"))
            continue
        ids = [i for i in sorted(EXERCISES) if i.split(".", 1)[0] in prefixes]
        cells = [(k, _source(c)) for k, c in enumerate(nb["cells"])
                 if c.get("cell_type") == "code" and _source(c).strip()]
        jobs.append((label, cells, ids, opts))
    return rows, jobs


def grade(paths, opts, jobs=1, progress=None):
    """Grade the notebooks at `paths`; returns (rows, {notebook: NotebookRun})."""
    rows, work = _jobs_for(find_notebooks(paths), opts)
    runs = {}
    if work:
        # fork: workers share the grader's already-imported code (not what is on disk now)
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(max(1, min(jobs, len(work)))) as pool:
            for (label, _, ids, _), run in zip(work, pool.imap(run_notebook, work)):
                runs[label] = run
                for i in ids:
                    rows.append(judge(label, i, run.exercises[i], opts))
                if progress is not None:
                    progress(label, run)
    order = {str(p): k for k, p in enumerate(find_notebooks(paths))}
    rows.sort(key=lambda r: (order.get(r.notebook, -1), r.exercise))
    return rows, runs
