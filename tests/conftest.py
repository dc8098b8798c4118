"""Shared fixtures: a seeded generator per test, so failures reproduce."""
import numpy as np
import pytest


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture(autouse=True)
def _close_figures():
    """Close every matplotlib figure a test made (the book extra always installs
    matplotlib; no test skips for want of it). Agg: tests never open windows."""
    import matplotlib

    matplotlib.use("Agg")
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
