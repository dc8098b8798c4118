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
