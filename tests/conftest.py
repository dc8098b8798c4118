"""Shared fixtures and helpers: a seeded generator per test, so failures reproduce; the
grading tests' `run` and `failed_line`.

The core tests need numpy and pytest alone: matplotlib is touched only when a test has
imported it (the book extra always installs it, and viz tests never skip without it).
"""
import os
import sys

import numpy as np
import pytest

os.environ.setdefault("MPLBACKEND", "Agg")  # tests never open windows
# One BLAS thread per process, also when pytest is run without make: nbval's kernels
# inherit this environment, and BLAS pools oversubscribing 2 cores slow notebooks 10-50x.
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture(autouse=True)
def _close_figures():
    """Close every matplotlib figure a test made."""
    yield
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


def run(exercise_id, candidate, **kw):
    """check() without printing: the result, to assert on its status and lines."""
    from dlcore.grading import check

    return check(exercise_id, candidate, verbose=False, **kw)


def failed_line(result, name, output, group):
    """The result's failure line for one output of one case group, or None."""
    return next((line for line in result.lines
                 if line.startswith(f"✘ {name}  {output}  [{group}]")), None)


def hint_lines(result, prefix=True):
    """The result's 'hint: ...' lines, stripped (without the 'hint: ' itself if prefix=False)."""
    lines = [line.strip() for line in result.lines if line.strip().startswith("hint:")]
    return lines if prefix else [line[len("hint: "):] for line in lines]


def assert_one_hint_naming(result, words):
    """The result is wrong and shows exactly one hint, which contains `words`."""
    assert result.status == "wrong", result.lines
    hints = hint_lines(result)
    assert len(hints) == 1 and words in hints[0], hints or result.lines


def forward_difference(f, x, h=1e-5):
    """The classic wrong numerical gradient: (f(x + h) - f(x)) / h, error O(h) instead of O(h^2)."""
    grad, f0 = np.zeros_like(x), f(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        grad[i] = (f(x) - f0) / h
        x[i] = old
    return grad
