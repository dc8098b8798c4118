"""dlcore.viz.losses: the numbers behind the loss plots (closed forms), and the figures."""
import numpy as np
import pytest

from dlcore import viz

R = np.array([-3.0, -1.0, -0.25, 0.0, 0.25, 1.0, 3.0])


def test_loss_curves_match_closed_forms():
    c = viz.loss_curves(R, delta=0.5)
    assert list(c) == ["MSE", "MAE", "Huber", "log-cosh"]
    np.testing.assert_allclose(c["MSE"][0], R**2, rtol=1e-15)
    np.testing.assert_allclose(c["MSE"][1], 2 * R, rtol=1e-15)
    np.testing.assert_allclose(c["MAE"][0], np.abs(R), rtol=1e-15)
    np.testing.assert_array_equal(c["MAE"][1], [-1, -1, -1, 0, 1, 1, 1])  # 0 at r = 0
    huber = np.where(np.abs(R) < 0.5, R**2 / 2, 0.5 * (np.abs(R) - 0.25))
    np.testing.assert_allclose(c["Huber"][0], huber, rtol=1e-15)
    np.testing.assert_allclose(c["Huber"][1], np.clip(R, -0.5, 0.5), rtol=1e-15)
    np.testing.assert_allclose(c["log-cosh"][0], np.log(np.cosh(R)), rtol=1e-13, atol=1e-16)
    np.testing.assert_allclose(c["log-cosh"][1], np.tanh(R), rtol=1e-14)


def test_huber_is_continuous_at_delta_with_the_corrected_form():
    for delta in (0.3, 1.0, 2.5):
        r = np.array([delta * (1 - 1e-9), delta * (1 + 1e-9)])
        value, grad = viz.loss_curves(r, delta, names=("Huber",))["Huber"]
        assert value[1] - value[0] == pytest.approx(0, abs=1e-7)   # no jump
        assert grad[1] - grad[0] == pytest.approx(0, abs=1e-7)     # no kink in the slope
        # the notes' slip delta |r| - delta / 2 would jump by (delta^2 - delta) / 2 there
        slip = delta * r[1] - delta / 2
        assert abs(slip - value[0]) == pytest.approx(abs(delta**2 - delta) / 2, abs=1e-7)


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown loss 'MAPE'"):
        viz.loss_curves(R, names=("MAPE",))
    with pytest.raises(ValueError, match=r"residuals must be a non-empty 1-D array"):
        viz.loss_curves(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="at least one delta"):
        viz.plot_loss_grid(())


def test_plot_loss_curves_draws_four_losses_and_delta_markers():
    fig = viz.plot_loss_curves(delta=1.5, rmax=3.0)
    ax_v, ax_g = fig.axes
    assert len(fig.axes) == 2 and len(ax_v.lines) == len(ax_g.lines) == 4 + 3  # + 2 kinks + axis
    y = ax_g.lines[2].get_ydata()                    # Huber's derivative: clipped at delta
    assert y.max() == pytest.approx(1.5) and y.min() == pytest.approx(-1.5)
    assert ax_v.lines[2].get_label() == "Huber (δ = 1.5)"


def test_plot_loss_grid_has_two_rows_per_delta():
    fig = viz.plot_loss_grid(deltas=(0.5, 2.0))
    assert len(fig.axes) == 4
    assert [a.get_title() for a in fig.axes] == ["δ = 0.5: loss", "δ = 2: loss",
                                                 "δ = 0.5: dL/dr", "δ = 2: dL/dr"]
    assert fig.axes[3].lines[2].get_ydata().max() == pytest.approx(2.0)


def test_loss_widget_builds():
    import ipywidgets  # noqa: F401  (installed with the book extra; never skipped)
    box = viz.loss_widget(delta=0.7)
    sliders = box.children[0].children
    assert sliders[0].value == pytest.approx(0.7) and sliders[1].value == 4.0
