"""A learner's kernel under limits: start it, run code with a deadline, notice when it dies.

Each kernel is a fresh `python -c LAUNCHER` process (its own session, so killing it kills
what it started) that sets an address-space limit (RLIMIT_AS), a file-size limit and no
core dumps before ipykernel starts, and starts in an empty temporary folder. Output is
counted and thrown away, so a flood of prints costs neither memory nor a hang.
"""
from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpecManager

__all__ = ["GraderError", "KernelSession", "Outcome"]

KERNEL_NAME = "dlcore-grader"

# Runs in the kernel process before any learner code. `check` is replaced by a stub
# there: the in-notebook checks' verdicts are not used, and skipping them saves time.
LAUNCHER = """
import os, resource
memory = int(os.environ.pop("DLCORE_GRADER_MEMORY_BYTES", "0") or 0)
if memory > 0:
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
files = int(os.environ.pop("DLCORE_GRADER_FILE_BYTES", "0") or 0)
if files > 0:
    resource.setrlimit(resource.RLIMIT_FSIZE, (files, files))
resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
if os.environ.pop("DLCORE_GRADER_SKIP_CHECK", ""):
    import dlcore.grading
    def check(exercise_id, candidate, **kwargs):
        print("(check skipped: the grader runs its own cases after the notebook)")
    dlcore.grading.check = check
from ipykernel import kernelapp
kernelapp.launch_new_instance()
"""


class GraderError(RuntimeError):
    """The grader itself cannot run (no kernel can start, bad arguments)."""


@dataclass
class Outcome:
    """What one execute request did. kind: 'ok', 'error', 'timeout' or 'died'."""

    kind: str
    ename: str = ""
    evalue: str = ""
    seconds: float = 0.0
    output_bytes: int = 0


def _signal_name(number):
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


class KernelSession:
    """One kernel: `start()`, then `execute(code, timeout)` any number of times, `close()`."""

    def __init__(self, workdir, memory_bytes=0, file_bytes=0, skip_check=True):
        self.workdir = Path(workdir)
        self.memory_bytes, self.file_bytes, self.skip_check = memory_bytes, file_bytes, skip_check
        self.km = self.kc = None

    def _spec_dir(self):
        root = self.workdir / ".kernelspec"
        spec = root / KERNEL_NAME
        spec.mkdir(parents=True, exist_ok=True)
        (spec / "kernel.json").write_text(json.dumps({
            "argv": [sys.executable, "-c", LAUNCHER, "-f", "{connection_file}"],
            "display_name": "dlcore grader", "language": "python",
        }))
        return root

    def start(self, timeout=60, attempts=3):
        """Start the kernel; retry a failed start (two workers starting kernels at the same
        moment can race for the same ports) before giving up with GraderError."""
        for attempt in range(1, attempts + 1):
            try:
                return self._start_once(timeout)
            except GraderError:
                if attempt == attempts:
                    raise

    def _start_once(self, timeout):
        cwd = self.workdir / "cwd"
        cwd.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        env.update({
            "DLCORE_GRADER_MEMORY_BYTES": str(int(self.memory_bytes)),
            "DLCORE_GRADER_FILE_BYTES": str(int(self.file_bytes)),
            "DLCORE_GRADER_SKIP_CHECK": "1" if self.skip_check else "",
            "MPLBACKEND": "Agg", "PYDEVD_DISABLE_FILE_VALIDATION": "1",
            "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        })
        ksm = KernelSpecManager(kernel_dirs=[str(self._spec_dir())])
        self.km = KernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=ksm)
        try:
            # the kernel's own stdout/stderr (os.write floods, C-level prints) go nowhere
            self.km.start_kernel(cwd=str(cwd), env=env, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
            self.kc = self.km.client()
            self.kc.start_channels()
            self.kc.wait_for_ready(timeout=timeout)
        except Exception as exc:  # noqa: BLE001  (nothing of the notebook has run yet)
            self.close()
            hint = (f" (is the memory limit of {self.memory_bytes // 2**20} MiB too small?)"
                    if self.memory_bytes else "")
            raise GraderError(f"a Python kernel could not start: {exc}{hint}") from None

    def alive(self):
        return self.km is not None and self.km.is_alive()

    def death(self):
        """A sentence on how the kernel ended: exit status or signal."""
        process = getattr(getattr(self.km, "provisioner", None), "process", None)
        code = process.poll() if process is not None else None
        if code is None:
            return "the kernel died"
        if code < 0:
            name = _signal_name(-code)
            extra = ""
            if name in ("SIGSEGV", "SIGBUS"):
                extra = " (a crash, e.g. a segmentation fault)"
            elif name == "SIGABRT":  # also what a C library does when the memory limit bites
                extra = (" (a crash, e.g. a segmentation fault, or memory running out "
                         "under the kernel's memory limit)")
            return f"the kernel was killed by {name}{extra}"
        return f"the kernel exited with status {code} (os._exit, quit() or a crash)"

    def execute(self, code, timeout, silent=False):
        """Run `code`; give up after `timeout` seconds (the kernel may still be busy)."""
        start = time.perf_counter()
        deadline = start + max(timeout, 0.0)
        msg_id = self.kc.execute(code, silent=silent, store_history=not silent,
                                 allow_stdin=False, stop_on_error=False)
        out = Outcome("ok")
        while True:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                out.kind = "timeout"
                break
            try:
                msg = self.kc.get_iopub_msg(timeout=min(remaining, 0.5))
            except queue.Empty:
                if not self.alive():
                    out.kind = "died"
                    break
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                out.output_bytes += len(content.get("text", ""))  # counted, not kept
            elif kind == "error":
                out.kind, out.ename, out.evalue = "error", content["ename"], content["evalue"]
            elif kind == "status" and content.get("execution_state") == "idle":
                break
        if out.kind in ("ok", "error"):
            reply = self._reply(msg_id, deadline=time.perf_counter() + 5)
            if reply is not None and reply.get("status") == "error":
                out.kind, out.ename = "error", reply.get("ename", out.ename)
                out.evalue = reply.get("evalue", out.evalue)
        out.seconds = time.perf_counter() - start
        if out.kind == "died" or (out.kind != "timeout" and not self.alive()):
            out.kind = "died"
        return out

    def _reply(self, msg_id, deadline):
        while time.perf_counter() < deadline:
            try:
                msg = self.kc.get_shell_msg(timeout=max(deadline - time.perf_counter(), 0.01))
            except queue.Empty:
                return None
            if msg["parent_header"].get("msg_id") == msg_id:
                return msg["content"]
        return None

    def interrupt(self, wait=3.0):
        """SIGINT the kernel; True if it is idle again within `wait` seconds."""
        try:
            self.km.interrupt_kernel()
        except Exception:  # noqa: BLE001
            return False
        probe = self.execute("pass", timeout=wait, silent=True)
        return probe.kind == "ok"

    def close(self):
        try:
            if self.kc is not None:
                self.kc.stop_channels()
            if self.km is not None and self.km.has_kernel:
                self.km.shutdown_kernel(now=True)
        except Exception:  # noqa: BLE001, S110  (already gone: nothing left to stop)
            pass
        self.km = self.kc = None
