"""dlcore.viz.parallel: the stale-gradient runs agree with the delayed-GD stability bound,
the problem has the curvature it claims, and the plots and widget draw what they say."""
import math

import numpy as np
import pytest

from dlcore.viz import parallel as vp


def test_regression_problem_has_the_stated_curvature():
    P = vp.regression_problem()
    H = P["A"].T @ P["A"] / len(P["b"])
    eig = np.linalg.eigvalsh(H)
    assert eig.max() == pytest.approx(P["lam_max"], rel=1e-10)
    assert eig.min() == pytest.approx(0.1, rel=1e-10)
    grad = P["A"].T @ (P["A"] @ P["w_star"] - P["b"])
    assert np.max(np.abs(grad)) < 1e-8


def test_bound_known_values():
    assert vp.delayed_gd_bound(0) == 2.0
    assert vp.delayed_gd_bound(1) == pytest.approx(1.0)
    assert vp.delayed_gd_bound(4) == pytest.approx(2 * math.sin(math.pi / 18))


@pytest.mark.parametrize("tau,lr", [(0, 0.4), (4, 0.2), (8, 0.1), (4, 0.4), (8, 0.2),
                                    (16, 0.1)])
def test_stale_sgd_converges_exactly_where_the_bound_says(tau, lr):
    excess = vp.staleness_run(tau, lr)
    stable = lr * vp.regression_problem()["lam_max"] < vp.delayed_gd_bound(tau)
    assert excess[0] > 1.0
    assert (excess[-1] < 1e-2) == stable, (tau, lr, excess[-1])


def test_staleness_slows_convergence_at_a_stable_rate():
    finals = [vp.staleness_run(tau, 0.2)[100] for tau in (0, 2, 4)]
    assert finals[0] < finals[1] < finals[2]


def test_plots_and_widget():
    fig = vp.plot_staleness(4, 0.1)
    assert len(fig.axes) == 2 and fig.axes[1].get_xlabel() == "staleness τ (steps)"
    grid = vp.plot_staleness_grid(taus=(0, 8), lrs=(0.05, 0.2))
    titles = [ax.get_title() for ax in grid.axes]
    assert titles[3] == "lr = 0.2, τ = 8: unstable (theory)" and "stable" in titles[0]
    ax = vp.plot_roofline(1e11, 1e10, [("matmul", 100.0, 5e10), ("add", 1 / 12, None)])
    ys = ax.lines[0].get_ydata()
    assert ys.max() == 1e11 and ys.min() < 1e11
    box = vp.staleness_widget()
    assert [c.description for c in box.children[0].children] == ["τ", "lr"]


def test_widget_frames_are_registered_with_a_grid_that_contains_the_chapters_call():
    from dlcore.viz import frames

    spec = frames.registry()["staleness_widget"]
    grid = {c.name: c.values for c in spec.controls}
    assert 4 in grid["tau"] and 0.1 in grid["lr"]          # the chapter calls (tau=4, lr=0.1)
    fig = spec.factory()(tau=8, lr=0.2)
    assert fig.axes[0].get_title() == "lr = 0.2, τ = 8"


def test_rooflines_on_one_axes_get_their_own_colours_distinct_from_the_kernels():
    from matplotlib.colors import to_hex

    ax = vp.plot_roofline(1e11, 1e10, [("add", 1 / 12, 1e9), ("matmul", 100.0, None)])
    vp.plot_roofline(1e15, 3e12, [("add", 1 / 6, None), ("matmul", 200.0, None)], ax=ax)
    roofs = [to_hex(line.get_color()) for line in ax.lines if getattr(line, "_roofline", False)]
    kernels = {to_hex(c) for c in ("C3", "C4")}
    assert len(set(roofs)) == 2 and not set(roofs) & kernels


def test_roofline_is_min_of_peak_and_intensity_times_bandwidth_and_kernels_sit_on_it():
    # peak 1e11 FLOP/s, 1e10 byte/s: ridge at 10 FLOP/byte
    ax = vp.plot_roofline(1e11, 1e10, [("add", 1 / 12, None), ("matmul", 100.0, None)])
    x, y = ax.lines[0].get_xdata(), ax.lines[0].get_ydata()
    np.testing.assert_allclose(y, np.minimum(1e11, 1e10 * x), rtol=1e-12)
    assert x.min() < 1 / 12 and x.max() > 100.0
    assert ax.lines[1].get_xdata()[0] == 10.0                       # the ridge's dotted line
    marks = [(line.get_xdata()[0], line.get_ydata()[0]) for line in ax.lines[2:]]
    np.testing.assert_allclose(marks, [(1 / 12, 1e10 / 12), (100.0, 1e11)], rtol=1e-12)  # memory | compute
