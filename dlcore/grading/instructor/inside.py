"""The grader's side inside a sandbox: run a notebook's cells, then call its functions.

Run as `python inside.py FD` in the sandbox, next to a read-only copy of channel.py.
Commands arrive as frames on stdin (moved to another descriptor at start, so that a notebook
reading stdin gets EOF); every reply goes out as a frame on file descriptor FD
(the sandbox's one way out). stdout and stderr lead nowhere. Nothing here is trusted by the
grader: a notebook runs in this same process and may change anything in it; the grader
validates every frame it reads and judges the values itself.

Commands:
  {"op": "cell", "index": k, "code": ..., "timeout": s}  ->  {"type": "cell", "kind": ...}
  {"op": "grade", "function": name, "time_limit": s, "cases": tree} + blob
      ->  {"type": "function", ...}, then per case {"type": "started"} and {"type": "case"},
          then {"type": "done"}
"""
import os
import signal
import sys
import time
import traceback

import channel

HERE = os.path.abspath(__file__)


class _Timeout(BaseException):
    """Raised by SIGALRM in the notebook's code (not an Exception: `except Exception`
    in the learner's code must not swallow it)."""


def _on_alarm(signum, frame):
    raise _Timeout()


def _exception_info(exc):
    text = str(exc).strip() if not isinstance(exc, _Timeout) else ""
    message = text.splitlines()[0] if text else ""
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if f.filename != HERE and "site-packages" not in f.filename
              and "/numpy/" not in f.filename and "channel.py" not in f.filename]
    where = f" (in {frames[-1].name}, line {frames[-1].lineno})" if frames else ""
    return {"type": type(exc).__name__[:80], "message": message[:300], "where": where[:120],
            "not_implemented": isinstance(exc, NotImplementedError),
            "memory": isinstance(exc, MemoryError)}


def _timed(fn, limit):
    """(kind, value, seconds) of fn() under a SIGALRM time limit."""
    start = time.perf_counter()
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    kind, value = "ok", None
    try:
        try:
            signal.setitimer(signal.ITIMER_REAL, limit)
            value = fn()
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except _Timeout:
        kind = "timeout"
    except BaseException as exc:  # noqa: BLE001  (SystemExit, KeyboardInterrupt: results too)
        kind, value = "raised", exc
    finally:
        signal.signal(signal.SIGALRM, previous)
    return kind, value, time.perf_counter() - start


def run_cell(shell, out, command):
    def run():
        return shell.run_cell(command["code"], store_history=False, silent=False)

    kind, result, seconds = _timed(run, float(command["timeout"]))
    reply = {"type": "cell", "index": command["index"], "kind": "ok", "seconds": seconds}
    error = None
    if kind == "timeout":
        reply["kind"] = "timeout"
    elif kind == "raised":
        error = result
    elif result is not None:
        error = result.error_before_exec or result.error_in_exec
    if isinstance(error, _Timeout):
        reply["kind"] = "timeout"
    elif error is not None:
        info = _exception_info(error)
        reply.update(kind="error", ename=info["type"], evalue=info["message"])
    channel.write_frame(out, reply)


def grade(user_ns, out, command, blob):
    cases = channel.decode(command["cases"], blob, channel.Limits(depth=64),
                           allow_functions=True)
    fn = user_ns.get(command["function"])
    channel.write_frame(out, {"type": "function", "defined": callable(fn),
                              "type_name": type(fn).__name__[:80]})
    if callable(fn):
        limit = float(command["time_limit"])
        for i, (args, kwargs) in enumerate(cases):
            channel.write_frame(out, {"type": "started", "index": i})
            kind, value, seconds = _timed(lambda a=args, k=kwargs: fn(*a, **k), limit)
            record = {"kind": kind, "seconds": seconds}
            if kind == "raised":
                record["exception"] = _exception_info(value)
                value = None
            try:
                data = bytearray()
                tree = channel.encode({"value": value, "args": list(args), "kwargs": kwargs},
                                      data)
                frame = channel.pack({"type": "case", "index": i, "record": record,
                                      "data": tree}, data)
            except Exception as exc:  # noqa: BLE001  (a value that cannot be sent): say so
                record["kind"] = kind = "raised"
                record["exception"] = {"type": "GraderError", "where": "", "memory": False,
                                       "not_implemented": False,
                                       "message": f"its result could not be sent ({exc})"[:300]}
                data = bytearray()
                tree = channel.encode({"value": None, "args": [], "kwargs": {}}, data)
                frame = channel.pack({"type": "case", "index": i, "record": record,
                                      "data": tree}, data)
            channel.write_bytes(out, frame)
            if kind == "timeout" or (kind == "raised"
                                     and record["exception"]["not_implemented"]):
                break  # like check(): every other case would do the same
    channel.write_frame(out, {"type": "done"})


def main():
    out = int(sys.argv[1])
    os.set_inheritable(out, False)
    # the commands' pipe moves off stdin: a notebook that reads stdin (input()) gets EOF
    inbox = os.dup(0)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.showtraceback = lambda *args, **kwargs: None  # errors are reported as frames
    channel.write_frame(out, {"type": "ready"})
    forever = float("inf")
    while True:
        try:
            body = channel.read_frame(inbox, forever, channel.Limits(frame_bytes=2**34,
                                                                      json_bytes=2**30))
        except EOFError:
            return
        command, blob = channel.parse_frame(body, channel.Limits(json_bytes=2**30,
                                                                 nodes=10**9, depth=64))
        if command["op"] == "cell":
            run_cell(shell, out, command)
        elif command["op"] == "grade":
            grade(shell.user_ns, out, command, blob)


if __name__ == "__main__":
    main()
