"""What travels between the grader and a learner's kernel: plain data, never pickles.

A value is written as a JSON tree plus a `.npz` of arrays (loaded with allow_pickle=False):
arrays, numbers, strings, None, tuples, lists and dicts travel as themselves; a
`numpy.random.Generator` as its bit generator's state; a module-level function (a case
argument such as `smooth_cubic`) as "module:qualname", rebuilt only in the kernel. Anything
else the learner returns (an object, an object array, a huge array) comes back as an
`Opaque` placeholder naming its type, which the comparison reports as the wrong type.

This module is also the grader's code inside the kernel: `kernel_grade` runs there. The
grader reads this file's text once at start-up and sends it with every request, so a
notebook can neither patch an imported copy nor edit the file on disk in time to matter.
It uses only the standard library and numpy.
"""
import importlib
import json
import math
import os
import signal
import sys
import threading
import time
import traceback

import numpy as np

__all__ = ["Opaque", "decode", "encode", "kernel_grade", "read_value", "write_value"]

MAX_ARRAY_BYTES = 256 * 2**20   # larger outputs come back as Opaque: nobody asks for these
ARRAY_KINDS = "biufcUS"          # dtypes that carry no Python objects
HARNESS_FILE = "<dlcore-grader>"


class Opaque:
    """Stands for a value that cannot travel as plain data; type_name names what it was."""

    def __init__(self, type_name, why=""):
        self.type_name, self.why = str(type_name)[:80], str(why)[:200]

    def __repr__(self):
        return f"<{self.type_name}{': ' + self.why if self.why else ''}>"


def _opaque_class(type_name):
    # check's messages say "got a <type>": name the placeholder's class after the original
    safe = "".join(ch for ch in type_name if ch.isalnum() or ch == "_") or "object"
    return type(safe, (Opaque,), {})


def encode(value, arrays, allow_functions=False):
    """JSON-able tree for `value`; arrays go into the dict `arrays` (key -> ndarray)."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (np.generic, np.ndarray)):  # first: np.float64 is a float too
        arr = np.asarray(value)
        if type(value) is not np.ndarray and not isinstance(value, np.generic):
            arr = np.array(arr)  # a subclass: keep only the numbers
        if arr.dtype.kind not in ARRAY_KINDS:
            return {"opaque": "ndarray", "why": f"dtype {arr.dtype} holds Python objects"}
        if arr.nbytes > MAX_ARRAY_BYTES:
            return {"opaque": "ndarray", "why": f"{arr.nbytes} bytes is too large to grade"}
        key = f"a{len(arrays)}"
        arrays[key] = arr
        return {"array": key, "scalar": isinstance(value, np.generic)}
    if isinstance(value, int):
        return {"int": int.__repr__(value)}  # exact, however large
    if isinstance(value, float):
        return {"float": float.__repr__(value)}  # nan and inf included
    if isinstance(value, (tuple, list)):
        items = [encode(v, arrays, allow_functions) for v in value]
        return {"tuple" if isinstance(value, tuple) else "list": items}
    if isinstance(value, dict):
        pairs = []
        for k, v in value.items():
            key = k if isinstance(k, (str, int, float, bool)) or k is None else repr(k)
            pairs.append([encode(key, arrays), encode(v, arrays, allow_functions)])
        return {"dict": pairs}
    if isinstance(value, np.random.Generator):
        bitgen = value.bit_generator
        return {"generator": type(bitgen).__name__,
                "state": encode(bitgen.state, arrays)}
    if allow_functions and callable(value) and hasattr(value, "__qualname__"):
        return {"function": f"{value.__module__}:{value.__qualname__}"}
    return {"opaque": type(value).__name__}


def decode(tree, arrays, allow_functions=False):
    """The value `encode` wrote. Functions are imported only when allow_functions (the kernel
    rebuilding case arguments); the grader never imports what a kernel names."""
    if tree is None or isinstance(tree, (bool, str)):
        return tree
    if isinstance(tree, (int, float)):  # not written by encode, but harmless
        return tree
    if "int" in tree:
        return int(tree["int"])
    if "float" in tree:
        return float(tree["float"])
    if "array" in tree:
        arr = arrays[tree["array"]]
        return arr[()] if tree.get("scalar") else arr
    if "tuple" in tree:
        return tuple(decode(v, arrays, allow_functions) for v in tree["tuple"])
    if "list" in tree:
        return [decode(v, arrays, allow_functions) for v in tree["list"]]
    if "dict" in tree:
        return {decode(k, arrays): decode(v, arrays, allow_functions) for k, v in tree["dict"]}
    if "generator" in tree:
        if not allow_functions:
            return _opaque_class("Generator")("Generator")
        bitgen = getattr(np.random, tree["generator"])()
        bitgen.state = decode(tree["state"], arrays)
        return np.random.Generator(bitgen)
    if "function" in tree:
        if not allow_functions:
            return _opaque_class("function")("function")
        module, qualname = tree["function"].split(":")
        obj = importlib.import_module(module)
        for part in qualname.split("."):
            obj = getattr(obj, part)
        return obj
    name = str(tree.get("opaque", "object"))
    return _opaque_class(name)(name, tree.get("why", ""))


def write_value(stem, value, allow_functions=False):
    """Write value to stem.json and stem.npz."""
    arrays = {}
    tree = encode(value, arrays, allow_functions)
    np.savez(stem + ".npz", **arrays)
    with open(stem + ".json.tmp", "w", encoding="utf-8") as f:
        json.dump(tree, f)
    os.replace(stem + ".json.tmp", stem + ".json")  # the .json appears only when complete


def read_value(stem, allow_functions=False):
    """The value write_value wrote (arrays loaded without pickle)."""
    with open(stem + ".json", encoding="utf-8") as f:
        tree = json.load(f)
    with np.load(stem + ".npz", allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    return decode(tree, arrays, allow_functions)


# ---------------------------------------------------------------- inside the learner's kernel

class _GraderTimeout(BaseException):
    """Raised by SIGALRM in the learner's function (not an Exception: `except Exception`
    in the learner's code must not swallow it)."""


def _exception_info(exc):
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if f.filename != HARNESS_FILE and "site-packages" not in f.filename
              and "/numpy/" not in f.filename]
    where = f" (in {frames[-1].name}, line {frames[-1].lineno})" if frames else ""
    return {"type": type(exc).__name__[:80], "message": message[:300], "where": where,
            "not_implemented": isinstance(exc, NotImplementedError),
            "memory": isinstance(exc, MemoryError)}


def kernel_grade(user_ns, request_dir, result_dir):
    """Call the learner's function on each case of the request; write one result per case.

    request.json names the function, the per-case time limit and what counts as the
    reference; cases.json/.npz hold the cases. For case i, result_dir gets `i.started`
    before the call and `i.json`/`i.npz` after it, so the grader knows which case was
    running if the kernel dies or hangs.
    """
    with open(os.path.join(request_dir, "request.json"), encoding="utf-8") as f:
        request = json.load(f)
    cases = read_value(os.path.join(request_dir, "cases"), allow_functions=True)
    fn = user_ns.get(request["function"])
    status = {"defined": callable(fn), "type": type(fn).__name__}
    with open(os.path.join(result_dir, "function.json"), "w", encoding="utf-8") as f:
        json.dump(status, f)
    if not callable(fn):
        return
    watch = _ReferenceWatch(request, cases)
    limit = float(request["time_limit"])
    for i, (args, kwargs) in enumerate(cases):
        stem = os.path.join(result_dir, str(i))
        open(stem + ".started", "w").close()
        kind, value, seconds = watch.call(fn, args, kwargs, limit)
        record = {"kind": kind, "seconds": seconds, "reference": watch.hits[:3],
                  "tampered": watch.tampered[:3]}
        if kind == "raised":
            record["exception"] = _exception_info(value)
            value = None
        try:
            write_value(stem, {"record": record, "value": value, "args": list(args),
                               "kwargs": kwargs})
        except Exception as exc:  # noqa: BLE001  (e.g. the file-size limit): say so, go on
            record["kind"] = kind = "raised"
            record["exception"] = {"type": "GraderError", "where": "", "memory": False,
                                   "message": f"its result could not be sent back ({exc})"[:300],
                                   "not_implemented": False}
            write_value(stem, {"record": record, "value": None, "args": [], "kwargs": {}})
        if kind == "timeout" or (kind == "raised" and record["exception"]["not_implemented"]):
            break  # like check(): every other case would do the same


class _ReferenceWatch:
    """Calls the learner's function under a profiler that notes calls into the reference.

    The reference is: any function in dlcore named like the exercise's function (e.g.
    dlcore.functional.relu_backward), and any code in dlcore/grading except the case
    arguments themselves (smooth_cubic and friends may be called).
    """

    def __init__(self, request, cases):
        self.name = request["function"]
        self.dlcore_dir = request["dlcore_dir"]
        self.grading_dir = os.path.join(self.dlcore_dir, "grading") + os.sep
        self.allowed = set()
        for args, kwargs in cases:
            for v in list(args) + list(kwargs.values()):
                if callable(v) and hasattr(v, "__code__"):
                    self.allowed.add(v.__code__)
        self.hits, self.tampered = [], []
        self.guards = {sys.setprofile, sys.settrace}
        self.guard_codes = {threading.setprofile.__code__, threading.settrace.__code__}

    def _note_tamper(self, name, frame):
        if frame is not None and frame.f_code.co_filename == HARNESS_FILE:
            return  # the grader turning its own watch off
        if name not in self.tampered:
            self.tampered.append(name)

    def _profile(self, frame, event, arg):
        if event == "call":
            code = frame.f_code
            if code in self.guard_codes:
                self._note_tamper("threading." + code.co_name, frame.f_back)
                return
            path = code.co_filename
            if path.startswith(self.dlcore_dir) and code not in self.allowed and (
                    code.co_name == self.name or path.startswith(self.grading_dir)):
                module = frame.f_globals.get("__name__", "?")
                hit = f"{module}.{code.co_name}"
                if hit not in self.hits:
                    self.hits.append(hit)
        elif event == "c_call" and arg in self.guards:
            self._note_tamper("sys." + getattr(arg, "__name__", "?"), frame)

    def call(self, fn, args, kwargs, limit):
        def on_alarm(signum, frame):
            raise _GraderTimeout()

        start = time.perf_counter()
        previous = signal.signal(signal.SIGALRM, on_alarm)
        kind, value = "ok", None
        try:
            try:
                threading.setprofile(self._profile)
                sys.setprofile(self._profile)
                signal.setitimer(signal.ITIMER_REAL, limit)
                value = fn(*args, **kwargs)
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
                if sys.getprofile() != self._profile:
                    self._note_tamper("sys.setprofile", None)
                sys.setprofile(None)
                threading.setprofile(None)
        except _GraderTimeout:
            kind = "timeout"
        except BaseException as exc:  # noqa: BLE001  (SystemExit, KeyboardInterrupt: results too)
            kind, value = "raised", exc
        finally:
            signal.signal(signal.SIGALRM, previous)
        seconds = time.perf_counter() - start
        return kind, value, (seconds if math.isfinite(seconds) else 0.0)
