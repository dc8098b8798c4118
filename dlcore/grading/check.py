"""In-notebook feedback: `check(exercise_id, candidate)`.

Runs the exercise's seeded cases through the learner's function and the reference,
each on its own copy of the inputs, and prints one line per case group and output:

    ✔ relu_backward  dx  max rel err 3e-10 (< 1e-7)
    ✘ linear_backward  dW  [square W]  max rel err 2e+0 (< 1e-7)

then, for the first failing case, the input shapes, expected and actual values and the
worst entry, and a summary line. Failures that are not a number (wrong shape, None,
an exception, NaN, a time-out, `raise NotImplementedError` still in place) are a sentence.
Under a failure, a `hint:` line names a classic slip when the numbers show it exactly (a
constant ratio got/expected: N or 1/N for a size of the inputs, 2, 1/2, -1 or another
constant; the expected result transposed), or an exercise's own hint whose predicate holds.
An output that is a list or tuple of arrays of different shapes is compared array by array.
"""
from __future__ import annotations

import copy
import inspect
import math
import signal
import threading
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from ..gradcheck import relative_error
from .registry import Exercise, UnknownExerciseError, get_exercise

__all__ = ["CheckResult", "check"]

OK, WRONG, NOT_IMPLEMENTED, ERROR, TIMEOUT = "ok", "wrong", "not-implemented", "error", "timeout"
PASS_MARK, FAIL_MARK = "✔", "✘"


@dataclass
class CheckResult:
    """What `check` found. Truthy only when every case group passed.

    passed / total: case groups passed / case groups run; status: 'ok', 'wrong',
    'not-implemented', 'error' or 'timeout'; lines: the lines `check` prints;
    errors: {(group, output): max relative error} where the values could be compared.
    """

    exercise: str
    function: str
    passed: int
    total: int
    status: str
    lines: list = field(default_factory=list)
    seconds: float = 0.0
    errors: dict = field(default_factory=dict, repr=False)  # (group, output) -> max rel err
    printed: bool = field(default=False, repr=False, compare=False)

    def __bool__(self):
        return self.status == OK and self.total > 0 and self.passed == self.total

    def __repr__(self):
        return (f"CheckResult({self.exercise}: {self.passed}/{self.total} case groups passed, "
                f"status={self.status!r})")

    def _ipython_display_(self):
        # `check(...)` as a cell's last line: the lines were already printed, show nothing more.
        if not self.printed:
            print("\n".join(self.lines))


class _Timeout(BaseException):
    """Raised by SIGALRM inside the learner's code (BaseException: `except Exception` in
    the learner's code must not swallow it)."""


@dataclass
class _Call:
    kind: str  # "ok", "raised", "timeout"
    value: object = None
    seconds: float = 0.0


def _call_with_time_limit(fn, args, kwargs, limit):
    """Call fn(*args, **kwargs), giving up after `limit` seconds.

    In the main thread on Unix, SIGALRM interrupts the call (this stops Python loops and
    sleeps; a single long numpy call ends first). Elsewhere the call runs in a daemon
    thread that is abandoned when it runs past the limit.
    """
    start = time.perf_counter()
    use_signal = (limit is not None and hasattr(signal, "setitimer")
                  and threading.current_thread() is threading.main_thread())
    if use_signal:
        def on_alarm(signum, frame):
            raise _Timeout()

        previous = signal.signal(signal.SIGALRM, on_alarm)
        try:
            try:
                signal.setitimer(signal.ITIMER_REAL, limit)
                value = fn(*args, **kwargs)
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
        except _Timeout:
            return _Call("timeout", None, time.perf_counter() - start)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # noqa: BLE001  (SystemExit from learner code is a result too)
            return _Call("raised", exc, time.perf_counter() - start)
        finally:
            signal.signal(signal.SIGALRM, previous)
        return _Call("ok", value, time.perf_counter() - start)

    box = {}

    def target():
        try:
            box["value"] = fn(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001  (reported like the signal path)
            box["exc"] = exc

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(limit)
    seconds = time.perf_counter() - start
    if worker.is_alive():
        return _Call("timeout", None, seconds)
    if "exc" in box:
        return _Call("raised", box["exc"], seconds)
    return _Call("ok", box.get("value"), seconds)


# ---------------------------------------------------------------- formatting helpers

def _sci(x):
    """1 significant digit: 3e-10, 1e-7, 2e+0; 0e+00 for zero."""
    if x == 0:
        return "0e+00"
    if not math.isfinite(x):
        return str(x)
    mantissa, exponent = f"{x:.0e}".split("e")
    return f"{mantissa}e{int(exponent):+d}"


def _num(v, digits=4):
    return f"{float(v) + 0.0:.{digits}g}"  # + 0.0 prints -0.0 as 0


def _values(a, n=4):
    flat = np.asarray(a).ravel()
    body = ", ".join(_num(v) for v in flat[:n])
    return f"[{body}{', ...' if flat.size > n else ''}]"


def _describe(value):
    """Short description of an input: shape for arrays, value for numbers, name for functions."""
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return f"{tuple(value.shape)} {value.dtype}" if value.ndim else _num(value)
    if isinstance(value, (tuple, list)):
        inner = ", ".join(_describe(v) for v in value)
        return f"({inner})" if isinstance(value, tuple) else f"[{inner}]"
    if callable(value):
        return getattr(value, "__name__", type(value).__name__)
    if isinstance(value, (int, float, np.number)):
        return _num(value) if not isinstance(value, (int, np.integer)) else str(value)
    return type(value).__name__


def _type_name(value):
    if value is None:
        return "None"
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return f"an array of shape {tuple(value.shape)}"
    return f"a {type(value).__name__}"


def _where(exc, function):
    """'(in relu_backward, line 3)' from the innermost frame of the learner's code."""
    if getattr(exc, "where", None) is not None:  # worked out in the learner's kernel
        return exc.where
    frames = traceback.extract_tb(exc.__traceback__)
    ours = __file__
    mine = [f for f in frames if f.filename != ours and "site-packages" not in f.filename
            and "/numpy/" not in f.filename]
    if not mine:
        return ""
    frame = mine[-1]
    return f" (in {frame.name}, line {frame.lineno})"


def _exception_sentence(exc, function):
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if len(message) > 160:
        message = message[:157] + "..."
    head = type(exc).__name__ + (f": {message}" if message else "")
    return f"raised {head}{_where(exc, function)}"


# ---------------------------------------------------------------- comparing outputs

class _Problem(Exception):
    """A failure that is a sentence rather than a number."""


def _split(exercise, value):
    """Map the candidate's return value to {flattened output name: value}."""
    specs = exercise.outputs
    if value is None:
        raise _Problem("returned None: is a `return` statement missing?")
    if len(specs) == 1:
        parts = [value]
    else:
        names = ", ".join(s if isinstance(s, str) else s[0] for s in specs)
        if not isinstance(value, (tuple, list)):
            raise _Problem(f"should return a tuple of {len(specs)} values ({names}), "
                           f"got {_type_name(value)}")
        if len(value) != len(specs):
            raise _Problem(f"should return {len(specs)} values ({names}), got {len(value)}")
        parts = list(value)
    out = {}
    for spec, part in zip(specs, parts):
        if isinstance(spec, str):
            out[spec] = part
            continue
        name, keys = spec
        if not isinstance(part, Mapping):
            raise _Problem(f"{name} should be a dict with keys {', '.join(map(repr, keys))}, "
                           f"got {_type_name(part)}")
        missing = [k for k in keys if k not in part]
        if missing:
            raise _Problem(f"{name} is missing the key{'s' if len(missing) > 1 else ''} "
                           f"{', '.join(map(repr, missing))}")
        for k in keys:
            out[f'{name}["{k}"]'] = part[k]
    return out


@dataclass
class _Compared:
    error: float | None = None   # max relative error, when the values could be compared
    problem: str | None = None   # a sentence, when they could not
    worst: tuple | None = None   # index of the worst entry
    expected: object = None
    got: object = None
    note: str | None = None      # from an exercise's own `compare`, shown under a failure
    hint: str | None = None      # a classic slip the numbers show, shown under a failure
    part: str = ""               # for a list of arrays: which one holds the worst entry, "[1]"


def _ragged(value):
    """True for a list or tuple of arrays that numpy cannot stack (shapes differ)."""
    if not isinstance(value, (tuple, list)) or not value:
        return False
    shapes = {np.shape(v) for v in value}
    return len(shapes) > 1


def _compare_parts(name, expected, got, tol, custom, sizes):
    """Compare a list of arrays of different shapes entry by entry: the error is the
    largest over the parts; the worst entry and the hint come from the worst part."""
    kind = "tuple" if isinstance(expected, tuple) else "list"
    if not isinstance(got, (tuple, list)):
        return _Compared(problem=f"{name} should be a {kind} of {len(expected)} arrays, "
                                 f"got {_type_name(got)}")
    if len(got) != len(expected):
        return _Compared(problem=f"{name} should hold {len(expected)} arrays, got {len(got)}")
    parts = [_compare(f"{name}[{i}]", e, g, tol, custom, sizes)
             for i, (e, g) in enumerate(zip(expected, got))]
    for part in parts:
        if part.problem is not None:
            return part
    i = max(range(len(parts)), key=lambda k: parts[k].error)
    worst = parts[i]
    worst.part = f"[{i}]" + worst.part
    notes = [f"{name}[{k}]: {p.note}" for k, p in enumerate(parts) if p.note and k != i]
    if notes and worst.note is None:
        worst.note = "; ".join(notes)
    return worst


def _compare(name, expected, got, tol, custom=None, sizes=()):
    """Compare one output. sizes: (label, n) pairs, the sizes in the case's inputs that a
    result off by a factor n could come from (batch size, number of elements)."""
    if _ragged(expected):
        return _compare_parts(name, expected, got, tol, custom, sizes)
    expected = np.asarray(expected)
    if got is None:
        return _Compared(problem=f"{name} is None: is it computed and returned?")
    try:
        got_arr = np.asarray(got)
    except Exception:  # noqa: BLE001  (anything numpy cannot take, e.g. a ragged list)
        return _Compared(problem=f"{name} should be a numpy array, got {_type_name(got)}")
    if got_arr.dtype.kind not in "fiub":
        return _Compared(problem=f"{name} should be an array of numbers, got {_type_name(got)}"
                                 f" with dtype {got_arr.dtype}")
    if expected.ndim == 0 and got_arr.ndim != 0:
        return _Compared(problem=f"{name} should be a single number, got an array of shape "
                                 f"{got_arr.shape} (use float(...) or .item())")
    if got_arr.shape != expected.shape:
        sentence = f"expected {name} of shape {expected.shape}, got {got_arr.shape}"
        if got_arr.ndim == 2 and got_arr.shape == expected.shape[::-1]:
            sentence += ": a transpose may be missing"
        elif got_arr.ndim == expected.ndim + 1 and got_arr.shape[1:] == expected.shape:
            sentence += ": is a sum over the batch (axis 0) missing?"
        return _Compared(problem=sentence)
    if expected.dtype.kind == "f" and got_arr.dtype.kind != "f":
        return _Compared(problem=f"{name} should have a floating-point dtype, got "
                                 f"{got_arr.dtype} (e.g. multiply by a mask instead of returning it)")
    if np.all(np.isfinite(expected)) and not np.all(np.isfinite(got_arr)):
        bad = int(np.size(got_arr) - np.count_nonzero(np.isfinite(got_arr)))
        kinds = "nan" if np.isnan(got_arr).any() else "inf"
        if np.isnan(got_arr).any() and np.isinf(got_arr).any():
            kinds = "nan and inf"
        return _Compared(problem=f"{name} contains {kinds} ({bad} of {got_arr.size} entries): "
                                 "look for exp overflowing or a division by zero",
                         expected=expected, got=got_arr)
    if custom is not None:  # the exercise's own measure (statistics of samples, ...)
        err, note = custom(expected, got_arr)
        return _Compared(error=float(err), note=note)
    err = relative_error(expected, got_arr)
    e, g = expected.astype(np.float64), got_arr.astype(np.float64)  # bool masks too
    rel = np.abs(e - g) / np.maximum(np.abs(e) + np.abs(g), 1e-12)
    worst = np.unravel_index(int(np.argmax(rel)), rel.shape) if rel.ndim else ()
    hint = _slip(e, g, sizes) if err >= tol else None
    return _Compared(error=err, worst=tuple(int(i) for i in worst), expected=expected,
                     got=got_arr, hint=hint)


# ---------------------------------------------------------------- classic slips

SLIP_TOL = 1e-6  # a ratio counts as constant (or as equal to N) only to this relative precision


def _close(a, b):
    return abs(a - b) <= SLIP_TOL * max(abs(a), abs(b))


def _ratio_text(c):
    if abs(c) < 1 and c != 0 and float(1 / c).is_integer():
        return f"1/{int(1 / c)}" if c > 0 else f"-1/{int(-1 / c)}"
    return _num(c, 6)


def _slip(e, g, sizes):
    """A sentence naming a classic slip that the numbers e (expected) and g (got) show
    exactly, or None. Only what the failure line already shows is used: the ratio
    got/expected, the sizes of the case's inputs and the transpose of the result."""
    if e.ndim == 2 and e.shape[0] == e.shape[1] > 1 and not np.allclose(e, e.T, rtol=1e-6, atol=0):
        scale = max(float(np.max(np.abs(e))), 1e-300)
        if np.max(np.abs(g - e.T)) <= SLIP_TOL * scale:
            return ("the result equals the expected one transposed: is a weight, or the "
                    "result, transposed (W vs W.T, x @ W vs W @ x)?")
    mag = np.abs(e)
    if mag.size == 0 or not np.all(np.isfinite(e)) or float(np.max(mag)) == 0.0:
        return None
    big = mag > 1e-9 * float(np.max(mag))
    ratios = g[big] / e[big]
    c = float(np.median(ratios))
    if c == 0 or _close(c, 1.0):
        return None
    if np.max(np.abs(ratios - c)) > SLIP_TOL * abs(c):
        return None
    if np.any(np.abs(g[~big]) > SLIP_TOL * abs(c) * float(np.max(mag))):
        return None  # where the expected entries are 0 the result is not
    everywhere = "for every entry" if e.size > 1 else ""
    if _close(c, -1.0):
        return f"got = -expected {everywhere}: a sign is flipped".replace("  ", " ")
    for label, n in sizes:
        if n > 1 and _close(c, float(n)):
            return (f"got/expected = {n} {everywhere} ({n} = {label}): a sum where a mean "
                    "belongs, or a missing division by it?").replace("  ", " ")
        if n > 1 and _close(c, 1.0 / n):
            return (f"got/expected = 1/{n} {everywhere} ({n} = {label}): a mean where a sum "
                    "belongs, or an extra division by it?").replace("  ", " ")
    if _close(c, 2.0):
        return f"got/expected = 2 {everywhere}: a factor 2 too many (e.g. the 2 from d(x^2)/dx twice)?".replace("  ", " ")
    if _close(c, 0.5):
        return f"got/expected = 1/2 {everywhere}: a factor 2 missing (e.g. the 2 from d(x^2)/dx)?".replace("  ", " ")
    if e.size > 1 and int(np.count_nonzero(big)) > 1:
        return (f"got/expected = {_ratio_text(c)} for every entry: right up to a constant "
                "factor (a scale or coefficient, e.g. a bias correction 1-beta instead of "
                "1-beta^t)?")
    return None


def _exercise_hint(exercise, case, name, compared):
    """Put the first of the exercise's own hints whose predicate holds on a failing output
    in compared.hint (it takes the place of a generic one)."""
    c = compared
    if (not exercise.hints or c.problem is not None or c.error is None or c.got is None
            or c.error < exercise.tol(name)):
        return
    e = np.asarray(c.expected, dtype=np.float64)
    g = np.asarray(c.got, dtype=np.float64)
    for sentence, predicate in exercise.hints:
        try:
            holds = bool(predicate(case, name, e, g))
        except Exception:  # noqa: BLE001  (a hint must never break a check)
            holds = False
        if holds:
            c.hint = sentence
            return


def _sizes(exercise, case):
    """(label, n) for the sizes in a case's inputs: each array argument's length along
    axis 0 (the batch size) and its number of elements."""
    out = []
    named = list(zip(_arg_names(exercise, case),
                     list(case.args) + [case.kwargs[k] for k in case.kwargs]))
    for name, value in list(named):
        if isinstance(value, (tuple, list)) and len(value) <= 16:  # a cache (x, W, ...)
            named.extend((f"{name}[{i}]", v) for i, v in enumerate(value))
    for name, value in named:
        if hasattr(value, "shape") and getattr(value, "ndim", 0) >= 1:
            if value.ndim >= 2:
                out.append((f"the length of {name}'s axis 0, the batch size", int(value.shape[0])))
                out.append((f"the number of entries of {name}", int(value.size)))
                if value.ndim >= 3:
                    out.append((f"the number of entries of {name} per channel",
                                int(value.size // value.shape[1])))
            else:
                out.append((f"the length of {name}", int(value.shape[0])))
    seen, unique = set(), []
    for label, n in out:
        if n not in seen:
            seen.add(n)
            unique.append((label, n))
    return unique


def _changed(before, after, path):
    """Paths of arrays in `after` that differ from `before` (in-place changes)."""
    if hasattr(before, "shape") and hasattr(before, "dtype"):
        if (not hasattr(after, "shape") or after.shape != before.shape
                or not np.array_equal(before, after, equal_nan=before.dtype.kind in "fc")):
            return [path]
        return []
    if isinstance(before, (tuple, list)):
        if not isinstance(after, (tuple, list)) or len(after) != len(before):
            return [path]  # emptied, grown or replaced in place
        return [p for i, (b, a) in enumerate(zip(before, after))
                for p in _changed(b, a, f"{path}[{i}]")]
    if isinstance(before, dict):
        if not isinstance(after, Mapping):
            return [path]
        return [p for k in before for p in _changed(before[k], after.get(k), f"{path}[{k!r}]")]
    return []


def _arg_names(exercise, case):
    try:
        params = list(inspect.signature(exercise.reference).parameters)
    except (TypeError, ValueError):
        params = []
    names = [params[i] if i < len(params) else f"arg{i}" for i in range(len(case.args))]
    return names + list(case.kwargs)


# ---------------------------------------------------------------- running an exercise

@dataclass
class _CaseResult:
    case: object
    index: int
    compared: dict = field(default_factory=dict)  # output name -> _Compared
    problem: str | None = None                     # a case-level sentence
    kind: str = OK                                 # OK, WRONG, ERROR, TIMEOUT, NOT_IMPLEMENTED

    def output_ok(self, name, exercise):
        c = self.compared.get(name)
        return (self.problem is None and c is not None and c.problem is None
                and c.error is not None and c.error < exercise.tol(name))

    def ok(self, exercise):
        return self.problem is None and all(
            self.output_ok(n, exercise) for n in exercise.output_names())


def _run_case(exercise, candidate, case, index, time_limit):
    args = copy.deepcopy(case.args)
    kwargs = copy.deepcopy(dict(case.kwargs))
    call = _call_with_time_limit(candidate, args, kwargs, time_limit)
    return _judge_case(exercise, case, index, call, args, kwargs, time_limit)


def _judge_case(exercise, case, index, call, args, kwargs, time_limit):
    """Judge one call of the learner's function against the reference, run here.

    call: a _Call (what the learner's function did); args / kwargs: its inputs after the
    call (to catch changes in place). The command-line grader makes these from what the
    learner's kernel sent back, so the comparison always runs in the grader's process.
    """
    result = _CaseResult(case, index)
    expected_value = exercise.reference(*copy.deepcopy(case.args), **copy.deepcopy(dict(case.kwargs)))
    expected = _split(exercise, expected_value)
    if call.kind == "timeout":
        result.kind = TIMEOUT
        result.problem = (f"did not finish within {time_limit:g} s: look for a loop that never "
                          "ends or work that grows too fast; the remaining cases were skipped")
        return result
    if call.kind == "raised":
        exc = call.value
        if isinstance(exc, NotImplementedError):
            result.kind = NOT_IMPLEMENTED
            result.problem = "not implemented yet: replace `raise NotImplementedError` with your code"
        else:
            result.kind = ERROR
            result.problem = _exception_sentence(exc, exercise.function)
        return result
    if not exercise.allow_mutation:
        names = _arg_names(exercise, case)
        before = list(case.args) + [case.kwargs[k] for k in case.kwargs]
        after = list(args) + [kwargs.get(k) for k in case.kwargs]
        changed = [p for name, b, a in zip(names, before, after) for p in _changed(b, a, name)]
        if changed:
            result.kind = WRONG
            result.problem = (f"changed its input {', '.join(changed)} in place: write the result "
                              "to a new array, or put back exactly what you changed (x[i] = old)")
            return result
    try:
        got = _split(exercise, call.value)
    except _Problem as p:
        result.kind = WRONG
        result.problem = str(p)
        return result
    sizes = _sizes(exercise, case)
    for name in exercise.output_names():
        result.compared[name] = _compare(name, expected[name], got[name], exercise.tol(name),
                                         exercise.compare, sizes)
        _exercise_hint(exercise, case, name, result.compared[name])
    if not result.ok(exercise):
        result.kind = WRONG
    return result


def _detail(exercise, res):
    """The block printed under the lines for the first failing case."""
    case = res.case
    names = _arg_names(exercise, case)
    values = list(case.args) + [case.kwargs[k] for k in case.kwargs]
    inputs = ", ".join(f"{n} {_describe(v)}" if hasattr(v, "shape") and getattr(v, "ndim", 0)
                       else f"{n} = {_describe(v)}" for n, v in zip(names, values))
    out = [f"  first failing case [{case.group}]: {exercise.function}({inputs})"]
    if res.problem is not None:
        return out
    for name in exercise.output_names():
        c = res.compared[name]
        if res.output_ok(name, exercise):
            continue
        if c.problem is not None:
            out.append(f"    {c.problem}")
        if c.note is not None:
            out.append(f"    {name}: {c.note}")
        if c.error is not None and c.worst is not None:
            idx = c.part + (f"[{', '.join(map(str, c.worst))}]" if c.worst else "")
            e = np.asarray(c.expected)[c.worst] if c.worst else c.expected
            g = np.asarray(c.got)[c.worst] if c.worst else c.got
            # enough digits to show where the two differ
            digits = min(17, max(4, 2 - math.floor(math.log10(max(c.error, 1e-17)))))
            out.append(f"    {name}{idx}: expected {_num(e, digits)}, got {_num(g, digits)}"
                       + ("  (the worst entry)" if c.worst else ""))
        if c.expected is not None and np.ndim(c.expected) > 0:
            out.append(f"    expected {name}{c.part} = {_values(c.expected)}")
            out.append(f"    got      {name}{c.part} = {_values(c.got)}")
        if c.hint is not None:
            out.append(f"    hint: {c.hint}")
        break  # one output is enough to start looking
    return out


def check(exercise_id, candidate, *, seed=None, verbose=True, time_limit=None):
    """Check the learner's `candidate` function against exercise `exercise_id`.

    seed: seed of the cases (default: the exercise's own, so notebook output is stable);
    verbose: print the lines; time_limit: seconds per case (default: the exercise's).
    Returns a CheckResult, truthy only when every case group passed.
    """
    start = time.perf_counter()
    try:
        exercise = exercise_id if isinstance(exercise_id, Exercise) else get_exercise(exercise_id)
    except UnknownExerciseError as exc:
        return _finish(CheckResult(str(exercise_id), str(exercise_id), 0, 0, ERROR,
                                   [f"{FAIL_MARK} {exc}"]), start, verbose)
    fn = exercise.function
    if not callable(candidate):
        line = (f"{FAIL_MARK} {fn}  check needs the function itself, e.g. "
                f"check({exercise.id!r}, {fn}), got {_type_name(candidate)}")
        return _finish(CheckResult(exercise.id, fn, 0, 0, ERROR, [line]), start, verbose)

    limit = exercise.time_limit if time_limit is None else time_limit
    cases = exercise.cases(seed)
    results = []
    for i, case in enumerate(cases):
        res = _run_case(exercise, candidate, case, i, limit)
        results.append(res)
        if res.kind in (TIMEOUT, NOT_IMPLEMENTED):
            break  # every other case would do the same, and waiting helps nobody
    return _finish(_summarize(exercise, cases, results), start, verbose)


def _summarize(exercise, cases, results):
    """The CheckResult (lines, passed / total case groups, status) of judged cases.

    results: _CaseResult for the cases that ran, in order; after a time-out or
    NotImplementedError the rest were skipped and count as not passed.
    """
    fn = exercise.function
    groups = list(dict.fromkeys(c.group for c in cases))
    lines, worst = [], {}
    labelled = len(groups) > 1
    passed = 0
    stopped = results[-1].kind in (TIMEOUT, NOT_IMPLEMENTED)
    if results[-1].kind == NOT_IMPLEMENTED:
        lines.append(f"{FAIL_MARK} {fn}  {results[-1].problem}")
    else:
        for group in groups:
            in_group = [r for r in results if r.case.group == group]
            if not in_group:
                continue  # skipped after a time-out
            tag = f"  [{group}]" if labelled else ""
            broken = next((r for r in in_group if r.problem is not None), None)
            if broken is not None:
                lines.append(f"{FAIL_MARK} {fn}{tag}  {broken.problem}")
                continue
            group_ok = True
            for name in exercise.output_names():
                tol = exercise.tol(name)
                errors = [r.compared[name].error for r in in_group]
                problem = next((r.compared[name].problem for r in in_group
                                if r.compared[name].problem), None)
                ok = all(r.output_ok(name, exercise) for r in in_group)
                group_ok &= ok
                mark = PASS_MARK if ok else FAIL_MARK
                if problem is not None:
                    lines.append(f"{mark} {fn}  {name}{tag}  {problem}")
                else:
                    worst[(group, name)] = max(errors)
                    lines.append(f"{mark} {fn}  {name}{tag}  max rel err "
                                 f"{_sci(max(errors))} (< {_sci(tol)})")
            passed += group_ok
    first_bad = next((r for r in results if not r.ok(exercise)), None)
    if first_bad is not None and first_bad.kind != NOT_IMPLEMENTED:
        lines.extend(_detail(exercise, first_bad))
    lines.append(f"{fn}: {passed}/{len(groups)} case groups passed")

    kinds = {r.kind for r in results}
    if stopped:
        status = results[-1].kind
    elif ERROR in kinds:
        status = ERROR
    elif passed == len(groups):
        status = OK
    else:
        status = WRONG
    return CheckResult(exercise.id, fn, passed, len(groups), status, lines, errors=worst)


def _finish(result, start, verbose):
    result.seconds = time.perf_counter() - start
    if verbose:
        print("\n".join(result.lines))
        result.printed = True
    return result
