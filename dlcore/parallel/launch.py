"""Start an MPI job from Python (a notebook cell cannot be an MPI rank itself: mpiexec must
start the processes), wait for it with a timeout, and read the JSON it writes.

    result = run_demo(2, timeout=120)          # mpiexec -n 2 python -m dlcore.parallel.demo
"""
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ._mpi import MPIUnavailable

__all__ = ["mpiexec_path", "run_demo", "run_mpi"]

# One BLAS thread per rank: K ranks on K cores, not K pools of threads fighting over them.
_ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def mpiexec_path():
    """The mpiexec next to this Python (the mpich wheel installs it there), else the first
    on the PATH; MPIUnavailable when there is none."""
    beside = Path(sys.executable).parent / "mpiexec"
    if beside.exists():
        return str(beside)
    found = shutil.which("mpiexec")
    if found is None:
        raise MPIUnavailable("no mpiexec found next to the Python interpreter or on the PATH; "
                             "install the parallel extra: pip install -e \".[parallel]\"")
    return found


def run_mpi(n, args, timeout=120, env=None):
    """Run `mpiexec -n n python ARGS...` and return the CompletedProcess.

    Raises subprocess.TimeoutExpired after `timeout` seconds (the job is killed), and
    RuntimeError with the job's stderr when it exits with an error.
    """
    cmd = [mpiexec_path(), "-n", str(int(n)), sys.executable, *map(str, args)]
    full_env = {**os.environ, **_ONE_THREAD, **(env or {})}
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env=full_env) as job:
        try:
            stdout, stderr = job.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _stop(job)
            raise
    proc = subprocess.CompletedProcess(cmd, job.returncode, stdout, stderr)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited with status {proc.returncode}:\n"
                           f"{proc.stderr[-3000:]}")
    return proc


def _descendants(pid):
    """Process ids below `pid` (from /proc; empty where there is no /proc)."""
    children = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _stop(job, grace=5.0):
    """Stop mpiexec and its ranks. Hydra puts its proxy and every rank in sessions of
    their own, so killing mpiexec's group would leave them running; SIGINT (Ctrl-C) makes
    mpiexec take them down; whatever is left after `grace` seconds is killed. Every wait
    is bounded: a rank that outlives mpiexec holds its output pipes open, so an unbounded
    communicate() after killing mpiexec could wait as long as the rank runs."""
    below = _descendants(job.pid)
    job.send_signal(signal.SIGINT)
    try:
        job.communicate(timeout=grace)
    except subprocess.TimeoutExpired:
        job.kill()
    deadline = time.monotonic() + grace
    for pid in below:
        while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
            time.sleep(0.05)
        if Path(f"/proc/{pid}").exists():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        job.communicate(timeout=grace)


def run_demo(n, timeout=120, **options):
    """Run `python -m dlcore.parallel.demo` on n ranks and return its results (a dict).

    options become command-line flags: run_demo(2, steps=10) passes --steps 10.
    """
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        args = ["-m", "dlcore.parallel.demo", "--out", out]
        for key, value in options.items():
            args += [f"--{key.replace('_', '-')}", value]
        run_mpi(n, args, timeout=timeout)
        return json.loads(out.read_text())
