"""A learner's notebook in a sandbox: start it, send it work, read its frames, end it.

With bubblewrap (`bwrap`, mode "bwrap") each notebook runs in new PID, IPC, network, UTS
and user namespaces as an unprivileged uid (65534), with `--die-with-parent` and a fresh
session, seeing only: the interpreter and its site-packages (read-only), the *learner view*
of dlcore (read-only), the grader's in-sandbox script and channel.py (read-only), a
private /proc, a minimal /dev and size-limited tmpfs for /tmp, /dev/shm and its working
folder; everything else, / and /dev included, is read-only, and so is /proc/sys (as root
the sandbox's uid is root outside it, which the kernel lets write any sysctl). It
does not see the submissions, solutions/, the repository, the grader's processes or its
command line. Resource limits (address space, file size, CPU time, no core dumps) are set
before bwrap starts and bind each process inside (not the sandbox as a whole; and as root
RLIMIT_NPROC cannot bound processes: the sandbox's uid maps to root outside it, whose
processes the kernel exempts; a pids cgroup of PIDS_MAX tasks per sandbox does, where one
can be made, and a memory cgroup holds all its processes to one --memory plus the tmpfs). Ending the sandbox kills bwrap, whose PID
namespace takes every process the notebook started with it.

Without bwrap (mode "weak", chosen with `--sandbox weak`) the notebook runs as a plain
process in its own session and process group under the same limits, in an empty folder,
with the learner view first on its path and a clean environment; the worker is a child
subreaper, so processes that double-fork away are still found and killed when the
notebook ends. It does not hide files or processes of the user who runs the grader.

The learner view is a copy of the dlcore package without `dlcore/grading` (the exercise
references, the instructor's engine, the build tools); in its place a stub package keeps
`from dlcore.grading import check` working (check is skipped: the grader runs its own
cases) and the registry's classes, with no exercise registered.
"""
from __future__ import annotations

import ctypes
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import dlcore

from . import channel

__all__ = ["GraderError", "Outcome", "Sandbox", "build_view", "bwrap_path"]

DLCORE_DIR = Path(dlcore.__file__).resolve().parent
HERE = Path(__file__).resolve().parent
LEARNER_STUB = '''"""dlcore.grading as the grader's sandbox shows it: no exercises, no references.

check() is skipped here: the grader runs its own cases after the notebook.
"""
from .registry import (EXERCISES, Case, Exercise, UnknownExerciseError, get_exercise,
                       list_exercises, register)


class CheckResult:
    def __bool__(self):
        return False


def check(exercise_id, candidate, **kwargs):
    print("(check skipped: the grader runs its own cases after the notebook)")
    return CheckResult()
'''
UID = 65534  # nobody
PIDS_MAX = 256  # processes and threads in one sandbox, where a pids cgroup can be made
SHM_BYTES = 64 * 2**20  # /dev/shm (multiprocessing's semaphores); all else but /tmp is read-only
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
SYSTEM_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/localtime", "/etc/passwd",
                "/etc/group", "/etc/nsswitch.conf")
CHANNEL_LIMITS = channel.Limits()


class GraderError(RuntimeError):
    """The grader itself cannot run (no sandbox can start, bad arguments)."""


@dataclass
class Outcome:
    """What one cell did. kind: 'ok', 'error', 'timeout' (interrupted), 'hung' (the sandbox
    did not answer in time), 'died' or 'broken' (it wrote something that is not a frame)."""

    kind: str
    ename: str = ""
    evalue: str = ""
    seconds: float = 0.0


def bwrap_path():
    """The bwrap executable, or None."""
    return shutil.which("bwrap")


_HELP = {}


def _bwrap_has(option):
    """Whether this bwrap knows `option` (--disable-userns came in 0.8.0)."""
    path = bwrap_path()
    if path not in _HELP:
        try:
            done = subprocess.run([path, "--help"], capture_output=True, timeout=10, check=False)
            _HELP[path] = done.stdout.decode("utf-8", "replace")
        except (OSError, subprocess.TimeoutExpired):
            _HELP[path] = ""
    return option in _HELP[path]


def build_view(root):
    """Write the learner view under `root`: root/learner/dlcore and root/grader/. Returns
    (learner dir, grader dir)."""
    root = Path(root)
    learner, grader = root / "learner", root / "grader"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "grading")
    shutil.copytree(DLCORE_DIR, learner / "dlcore", ignore=ignore)
    stub = learner / "dlcore" / "grading"
    stub.mkdir()
    (stub / "__init__.py").write_text(LEARNER_STUB, encoding="utf-8")
    shutil.copy2(DLCORE_DIR / "grading" / "registry.py", stub / "registry.py")
    grader.mkdir()
    for name in ("inside.py", "channel.py"):
        shutil.copy2(HERE / name, grader / name)
    for path in (learner, grader):
        for p in path.rglob("*"):
            p.chmod(0o755 if p.is_dir() else 0o644)
        path.chmod(0o755)
    root.chmod(0o755)
    return learner, grader


def _env(pythonpath, home):
    return {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(pythonpath), "HOME": str(home),
            "MPLBACKEND": "Agg", "MPLCONFIGDIR": str(home),
            "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
            "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0", "LANG": "C.UTF-8"}


def _python_dirs():
    """Folders the interpreter needs: the venv and the base installation."""
    dirs = {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve(),
            Path(sys.executable).resolve().parent.parent}
    return sorted(dirs)


def _own_group(controller):
    """The folder of this process's own cgroup in a hierarchy that has `controller`, if
    this process may make child groups there that use it (v1: the controller's hierarchy;
    v2: the controller enabled for children), else None. Groups are made below this
    process's own, so limits set above it (a container's, a job's) still hold."""
    try:
        mounts = Path("/proc/self/mounts").read_text().splitlines()
        memberships = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    own = {}  # "" for v2, else a v1 hierarchy's controllers -> path
    for line in memberships:
        parts = line.split(":", 2)
        if len(parts) == 3:
            for name in parts[1].split(",") if parts[1] else [""]:
                own[name] = parts[2]
    for line in mounts:
        fields = line.split()
        if len(fields) < 4:
            continue
        where, kind, options = fields[1], fields[2], fields[3].split(",")
        if kind == "cgroup2" and "" in own:
            folder = Path(where) / own[""].lstrip("/")
            try:
                enabled = (folder / "cgroup.subtree_control").read_text().split()
            except OSError:
                continue
        elif kind == "cgroup" and controller in options and controller in own:
            folder, enabled = Path(where) / own[controller].lstrip("/"), [controller]
        else:
            continue
        if controller in enabled and os.access(folder, os.W_OK):
            return folder
    return None


def _make_groups(limits):
    """Fresh cgroups below this process's own with `limits` ({controller: value}); a
    list of folders, empty where none can be made. v2 puts every controller in one group."""
    groups, made = {}, []
    for controller, value in limits.items():
        base = _own_group(controller)
        if base is None:
            continue
        if base not in groups:
            group = base / f"dlcore-grader-{os.getpid()}-{time.monotonic_ns()}"
            try:
                group.mkdir()
            except OSError:
                continue
            groups[base] = group
            made.append(group)
        group = groups[base]
        name = {"pids": "pids.max"}.get(controller) or (
            "memory.max" if (group / "memory.max").exists() else "memory.limit_in_bytes")
        try:
            (group / name).write_text(str(value))
        except OSError:
            pass
    return made


_WORKING = {}


def cgroups_that_work():
    """The controllers ('pids', 'memory') whose groups, made here, a process started here
    really joins (asked once: a folder can be writable and still refuse the move)."""
    if not _WORKING:
        for controller in ("pids", "memory"):
            groups, works = _make_groups({controller: 2**30}), False
            if groups:
                try:
                    done = subprocess.run(["cat", "/proc/self/cgroup"], capture_output=True,
                                          timeout=10, check=False,
                                          preexec_fn=_limit_resources(0, 0, 0, groups))
                    text = done.stdout.decode("utf-8", "replace")
                    works = all(g.name in text for g in groups)
                except (OSError, subprocess.SubprocessError):
                    works = False
            for g in groups:
                _remove_group(g)
            _WORKING[controller] = works
    return {c for c, works in _WORKING.items() if works}


def pids_cgroup_works():
    """Whether each sandbox gets a pids cgroup (PIDS_MAX tasks)."""
    return "pids" in cgroups_that_work()


def _remove_group(group):
    for _ in range(50):  # empty once the sandbox's processes are reaped
        try:
            group.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.02)


def _limit_resources(memory_bytes, file_bytes, cpu_seconds, groups=()):
    def apply():
        import resource
        for group in groups:  # this process (bwrap) and all it starts, from now on
            try:
                with open(group / "cgroup.procs", "w") as f:
                    f.write("0")
            except OSError:
                pass  # best effort: the sandbox starts without it
        if memory_bytes > 0:
            resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
        if file_bytes > 0:
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_bytes, file_bytes))
        if cpu_seconds > 0:
            resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    return apply


def become_subreaper():
    """Orphans of this process's descendants become its children (Linux), so that
    `Sandbox.close` in weak mode can find and kill double-forked processes; and this
    process dies with its parent (the grader), taking its sandbox with it."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(36, 1, 0, 0, 0)                       # PR_SET_CHILD_SUBREAPER
        libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)      # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _children():
    pids = set()
    for task in Path("/proc/self/task").iterdir():
        try:
            pids.update(int(p) for p in (task / "children").read_text().split())
        except (OSError, ValueError):
            pass
    return pids


class Sandbox:
    """One notebook's sandbox: `start()`, `run_cell(...)`, `grade(...)`, `close()`."""

    def __init__(self, mode, view, workdir, memory_bytes=0, file_bytes=0, cpu_seconds=0,
                 tmpfs_bytes=256 * 2**20):
        self.mode, self.view, self.workdir = mode, view, Path(workdir)
        self.memory_bytes, self.file_bytes = memory_bytes, file_bytes
        self.cpu_seconds, self.tmpfs_bytes = cpu_seconds, tmpfs_bytes
        self.proc = self.inbox = self.outbox = None
        self.known_children = set()
        self.groups = []

    # ------------------------------------------------------------ starting and ending

    def _command(self, fd):
        learner, grader = self.view
        if self.mode == "weak":
            return [sys.executable, "-s", str(grader / "inside.py"), str(fd)], \
                _env(learner, self.workdir), str(self.workdir)
        args = [bwrap_path(), "--unshare-all", "--die-with-parent", "--new-session",
                "--clearenv", "--cap-drop", "ALL"]
        if os.geteuid() == 0:
            args += ["--unshare-user", "--uid", str(UID), "--gid", str(UID)]
            if _bwrap_has("--disable-userns"):  # no nested user namespace (and its caps)
                args += ["--disable-userns"]
        for d in SYSTEM_DIRS:
            args += ["--ro-bind-try", d, d]
        for f in SYSTEM_FILES:
            args += ["--ro-bind-try", f, f]
        # the private /tmp first, so that an interpreter that lives under /tmp (a venv in
        # a checkout cloned there) is bound on top of it below instead of hidden by it
        args += ["--size", str(self.tmpfs_bytes), "--tmpfs", "/tmp"]
        python_dirs = _python_dirs()
        for d in python_dirs:
            args += ["--ro-bind", str(d), str(d)]
        # an installed (not editable) dlcore holds the references: hide it; and should an
        # interpreter folder hold this repository (solutions/), hide the repository and
        # bind again the interpreter folders inside it (a venv in the checkout)
        repository = DLCORE_DIR.parent
        if any(repository.is_relative_to(d) for d in python_dirs):
            args += ["--tmpfs", str(repository)]
            for d in python_dirs:
                if d.is_relative_to(repository) and d != repository:
                    args += ["--ro-bind", str(d), str(d)]
        elif any(DLCORE_DIR.is_relative_to(d) for d in python_dirs):
            args += ["--tmpfs", str(DLCORE_DIR)]
        args += ["--ro-bind", str(learner), "/opt/learner", "--ro-bind", str(grader),
                 "/opt/grader", "--proc", "/proc",
                 # as root the sandbox's uid is root outside it, and the kernel lets root's
                 # uid write any sysctl (kernel.core_pattern: a program run as root on the
                 # machine); bwrap leaves /proc/sys writable: make it read-only
                 "--ro-bind", "/proc/sys", "/proc/sys",
                 "--ro-bind-try", "/proc/sysrq-trigger", "/proc/sysrq-trigger",
                 "--ro-bind-try", "/proc/pressure", "/proc/pressure",
                 "--dev", "/dev",
                 "--size", str(self.tmpfs_bytes), "--tmpfs", "/home/learner",
                 "--size", str(SHM_BYTES), "--tmpfs", "/dev/shm",
                 # the root and /dev are tmpfs that bwrap builds without a size limit: a
                 # notebook could fill the machine's memory through files in / or /dev/shm
                 "--remount-ro", "/dev", "--remount-ro", "/",
                 "--chdir", "/home/learner"]
        for key, value in _env("/opt/learner", "/home/learner").items():
            args += ["--setenv", key, value]
        args += [sys.executable, "-s", "/opt/grader/inside.py", str(fd)]
        return args, None, None

    def _group_memory(self):
        """The sandbox's memory, all processes and tmpfs together, where a memory cgroup
        can be made: one process's --memory plus the tmpfs folders. 0: no limit."""
        if not self.memory_bytes:
            return 0
        return self.memory_bytes + 2 * self.tmpfs_bytes + SHM_BYTES

    def start(self, timeout=60.0):
        """Start the sandbox and wait for it to say it is ready; GraderError otherwise."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        read_end, write_end = os.pipe()
        self.known_children = _children()
        argv, env, cwd = self._command(write_end)
        if self.mode == "bwrap":
            limits = {"pids": PIDS_MAX, "memory": self._group_memory()}
            self.groups = _make_groups({c: v for c, v in limits.items()
                                        if v and c in cgroups_that_work()})
        try:
            self.proc = subprocess.Popen(
                argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, pass_fds=(write_end,), env=env, cwd=cwd,
                start_new_session=True,  # a worker has one thread: preexec_fn is safe here
                preexec_fn=_limit_resources(self.memory_bytes, self.file_bytes,  # noqa: PLW1509
                                            self.cpu_seconds, self.groups))
        except OSError as exc:
            os.close(read_end)
            for group in self.groups:
                _remove_group(group)
            raise GraderError(f"a sandbox could not start: {exc}") from None
        finally:
            os.close(write_end)
        self.outbox = read_end
        self.inbox = self.proc.stdin.fileno()
        os.set_blocking(self.inbox, False)
        try:
            message, _ = self.receive(time.monotonic() + timeout)
            if message.get("type") != "ready":
                raise channel.ChannelError("no ready frame")
        except (EOFError, TimeoutError, channel.ChannelError) as exc:
            code = self.exit_code(wait=1.0)
            self.close()
            hint = (f" (is the memory limit of {self.memory_bytes // 2**20} MiB too small?)"
                    if self.memory_bytes else "")
            raise GraderError(f"a sandbox could not start ({type(exc).__name__}, exit "
                              f"status {code}){hint}") from None

    def exit_code(self, wait=0.0):
        """The sandboxed process's exit status: >= 0 a status, < 0 a signal, None running."""
        if self.proc is None:
            return None
        try:
            code = self.proc.wait(timeout=wait) if wait else self.proc.poll()
        except subprocess.TimeoutExpired:
            return None
        if code is not None and self.mode == "bwrap" and code > 128:
            return -(code - 128)  # bwrap exits with 128 + the signal that killed its child
        return code

    def death(self):
        """A sentence on how the notebook's process ended."""
        code = self.exit_code(wait=2.0)
        if code is None:
            return "the kernel stopped answering"
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            extra = ""
            if name in ("SIGSEGV", "SIGBUS"):
                extra = " (a crash, e.g. a segmentation fault)"
            elif name == "SIGABRT":
                extra = (" (a crash, e.g. a segmentation fault, or memory running out "
                         "under the kernel's memory limit)")
            elif name == "SIGXCPU":
                extra = " (its CPU time limit)"
            return f"the kernel was killed by {name}{extra}"
        return f"the kernel exited with status {code} (os._exit, quit() or a crash)"

    def close(self):
        """Kill the sandbox and everything it started; wait for them."""
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                self.proc.kill()
                self.proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                pass
            if self.proc.stdin is not None:
                try:
                    self.proc.stdin.close()
                except OSError:
                    pass
        # weak mode: orphans that left the process group were handed to this subreaper
        for _ in range(50):
            strays = _children() - self.known_children
            if not strays:
                break
            for pid in strays:
                try:
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
                except (ChildProcessError, ProcessLookupError, PermissionError):
                    pass
        for group in self.groups:
            _remove_group(group)
        self.groups = []
        if self.outbox is not None:
            os.close(self.outbox)
        self.proc = self.inbox = self.outbox = None

    # ------------------------------------------------------------ the channel

    def send(self, message, blob=b"", deadline=None):
        """Write one frame to the sandbox; False if it is gone or does not read in time."""
        data = memoryview(channel.pack(message, blob))
        deadline = time.monotonic() + 30 if deadline is None else deadline
        while data:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            _, ready, _ = select.select([], [self.inbox], [], min(remaining, 0.5))
            if not ready:
                continue
            try:
                data = data[os.write(self.inbox, data):]
            except BlockingIOError:
                continue
            except (BrokenPipeError, OSError):
                return False
        return True

    def receive(self, deadline):
        """(message dict, blob bytes) of the next frame; raises TimeoutError, EOFError or
        channel.ChannelError."""
        body = channel.read_frame(self.outbox, deadline, CHANNEL_LIMITS)
        message, blob = channel.parse_frame(body, CHANNEL_LIMITS)
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            raise channel.ChannelError("a frame without a type")
        return message, bytes(blob)

    def run_cell(self, index, code, timeout):
        """Run one cell; the sandbox stops it at `timeout`, the grader gives up 3 s later."""
        start = time.monotonic()
        deadline = start + timeout + 3.0
        if not self.send({"op": "cell", "index": index, "code": code, "timeout": timeout},
                         deadline=deadline):
            return Outcome("died" if self.exit_code(wait=1.0) is not None else "hung")
        try:
            message, _ = self.receive(deadline)
        except EOFError:
            return Outcome("died", seconds=time.monotonic() - start)
        except TimeoutError:
            return Outcome("hung", seconds=time.monotonic() - start)
        except channel.ChannelError as exc:
            return Outcome("broken", evalue=str(exc), seconds=time.monotonic() - start)
        kind = message.get("kind")
        if message.get("type") != "cell" or message.get("index") != index or kind not in (
                "ok", "error", "timeout"):
            return Outcome("broken", evalue="an answer that is not this cell's")
        return Outcome(kind, str(message.get("ename", ""))[:80],
                       str(message.get("evalue", ""))[:300], time.monotonic() - start)
