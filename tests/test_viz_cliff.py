"""dlcore.viz.cliff: the surface's gradient, what one step does on the wall, clipped paths
against the library's clipping, the static twin's axes and the live panel's speed."""
import numpy as np
import pytest

from dlcore import viz
from dlcore.viz import cliff


def test_gradient_matches_central_differences_and_minimum():
    h = 1e-6
    for w in ([-4.0, 2.5], [1.95, -0.3], [2.1, 0.4], [0.0, 0.0]):
        w = np.array(w)
        num = np.array([(cliff.cliff_loss(w + h * e) - cliff.cliff_loss(w - h * e)) / (2 * h)
                        for e in np.eye(2)])
        np.testing.assert_allclose(cliff.cliff_grad(w), num, rtol=1e-6, atol=1e-8)
    m = np.array(cliff.MINIMUM)
    assert cliff.cliff_loss(m) == pytest.approx(0.0, abs=1e-9)
    np.testing.assert_allclose(cliff.cliff_grad(m), 0.0, atol=1e-5)
    # the wall's steepest slope is H k / 4 along its normal (plus the gentle valley)
    c = cliff.CLIFF
    on_wall = c["position"] * cliff._N
    wall = cliff.cliff_grad(on_wall) - np.array([c["a"][0] * (on_wall[0] - c["m0"]),
                                                 c["a"][1] * on_wall[1]])
    np.testing.assert_allclose(wall, c["height"] * c["steepness"] / 4 * cliff._N, rtol=1e-12)


def test_unclipped_path_is_plain_gradient_descent_and_is_thrown_back():
    path = cliff.cliff_path("none", steps=40)
    w = np.array(cliff.CLIFF["start"])
    for t in range(1, 41):
        w = w - cliff.CLIFF["lr"] * cliff.cliff_grad(w)
        np.testing.assert_allclose(path[t], w, rtol=1e-12, atol=1e-12)
    s = cliff.path_summary(cliff.cliff_path("none"))
    assert s["longest_step"] > 10 and s["leftmost_w0"] < -8


@pytest.mark.parametrize("threshold", [0.3, 1.0, 4.0])
def test_clipped_paths_bound_the_step(threshold):
    norm = np.diff(cliff.cliff_path("norm", threshold), axis=0)
    value = np.diff(cliff.cliff_path("value", threshold), axis=0)
    assert np.linalg.norm(norm, axis=1).max() <= threshold * (1 + 1e-9)
    assert np.abs(value).max() <= threshold * (1 + 1e-12)
    # norm clipping keeps each step parallel to the gradient
    path = cliff.cliff_path("norm", threshold)
    for t in (0, 10, 30):
        g = cliff.cliff_grad(path[t])
        step = path[t + 1] - path[t]
        cos = -(g @ step) / (np.linalg.norm(g) * np.linalg.norm(step))
        assert cos == pytest.approx(1.0, abs=1e-12)


def test_small_thresholds_stay_near_the_minimum():
    for mode in ("value", "norm"):
        s = cliff.path_summary(cliff.cliff_path(mode, 0.5))
        assert s["final_loss"] < 0.5 and s["leftmost_w0"] == cliff.CLIFF["start"][0]


def test_bad_arguments_say_what_is_wrong():
    with pytest.raises(ValueError, match="unknown clipping mode 'l2'"):
        cliff.cliff_path("l2")
    with pytest.raises(ValueError, match="threshold"):
        cliff.cliff_path("norm", threshold=0.0)
    with pytest.raises(ValueError, match="shape"):
        cliff.cliff_loss(np.zeros(3))
    with pytest.raises(TypeError, match="unknown settings"):
        cliff.CliffPanel().update(clip=2.0)


def test_static_twin_has_one_panel_per_mode_and_threshold():
    fig = viz.plot_cliff_grid(thresholds=(0.5, 2.0, 8.0), modes=("value", "norm"))
    assert len(fig.axes) == 6
    assert fig.axes[0].get_title().startswith("value clipping at 0.5")
    assert fig.axes[5].get_title().startswith("norm clipping at 8")
    ax = viz.plot_cliff_paths()
    assert len(ax.get_legend().get_texts()) == 3


def test_panel_redraws_fast_and_draws_the_path():
    panel = viz.CliffPanel()
    png = panel.update(mode="value", threshold=0.5)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    np.testing.assert_allclose(np.column_stack(panel.line.get_data()),
                               cliff.cliff_path("value", 0.5))
    for th in (0.1, 1.0, 10.0):
        panel.update(mode="norm", threshold=th)
    assert max(t["total"] for t in panel.timings[1:]) < 0.2
