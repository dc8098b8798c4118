"""What the benchmark scripts share (not a benchmark itself: `make bench` skips `_*.py`)."""
import os


def busy_seconds():
    """CPU seconds the whole machine has spent busy (Linux /proc/stat), or None: the difference
    over a run, divided by its wall time, says how many cores other work kept busy."""
    try:
        with open("/proc/stat") as f:
            v = [int(s) for s in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    return (sum(v[:8]) - v[3] - v[4]) / os.sysconf("SC_CLK_TCK")


# Some machines (this project's own among them) set OPENBLAS_CORETYPE=Haswell for every
# process, which pins numpy's OpenBLAS to its AVX2 kernels even on a CPU with AVX-512, while
# PyTorch's MKL and oneDNN use AVX-512 whatever that variable says. The benchmarks compare the
# two libraries on the same hardware, so by default they remove the variable (before numpy
# loads, in their own process and so in every worker they start) and let OpenBLAS pick the
# kernels for the CPU it finds; --keep-openblas-coretype measures with the variable kept.
FORCED_KERNELS = os.environ.get("OPENBLAS_CORETYPE")


def use_native_openblas(keep_forced):
    """Remove OPENBLAS_CORETYPE from this process's environment unless keep_forced.
    Call before numpy is imported."""
    if not keep_forced:
        os.environ.pop("OPENBLAS_CORETYPE", None)


def openblas_description():
    """One line: which OpenBLAS kernels numpy runs here, and why (after numpy is imported)."""
    try:
        from threadpoolctl import threadpool_info
        kernels = sorted({d.get("architecture", "?") for d in threadpool_info()
                          if d.get("internal_api") == "openblas"}) or ["(not OpenBLAS)"]
    except ImportError:
        kernels = [os.environ.get("OPENBLAS_CORETYPE", "unknown (threadpoolctl not installed)")]
    chosen = os.environ.get("OPENBLAS_CORETYPE")
    if chosen:
        why = f"forced by OPENBLAS_CORETYPE={chosen}"
    elif FORCED_KERNELS:
        why = (f"OpenBLAS's own choice for this CPU; the environment's "
               f"OPENBLAS_CORETYPE={FORCED_KERNELS} was lifted for this run")
    else:
        why = "OpenBLAS's own choice for this CPU"
    return f"numpy's OpenBLAS kernels: {', '.join(kernels)} ({why})"
