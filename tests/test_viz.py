"""dlcore.viz: the numbers behind the plots, and the shape of the static figures."""
import numpy as np
import pytest

from dlcore import viz


def _at(sweep, h):
    return int(np.argmin(np.abs(np.log(sweep["h"] / h))))


def test_central_difference_of_sin_is_accurate_in_float64():
    s = viz.step_size_sweep("sin", 1.0, steps=[1e-5], dtype="float64")
    assert s["dfdx"] == pytest.approx(np.cos(1.0), rel=1e-15)
    # truncation h^2/6 |cos 1| ~ 9e-12 plus round-off eps/h ~ 2e-11
    assert s["central"][0] < 1e-9


def test_forward_difference_error_is_h_over_two_times_f_second():
    h = 1e-5
    s = viz.step_size_sweep("sin", 1.0, steps=[h], dtype="float64")
    assert s["forward"][0] == pytest.approx(h / 2 * np.sin(1.0), rel=1e-3)


def test_truncation_slopes_are_two_and_one():
    # where truncation dominates (h from 1e-3 to 1e-1), log error vs log h has slope 2 / 1
    steps = np.logspace(-3, -1, 9)
    s = viz.step_size_sweep("exp", 0.5, steps=steps, dtype="float64")
    slope_c = np.polyfit(np.log10(steps), np.log10(s["central"]), 1)[0]
    slope_f = np.polyfit(np.log10(steps), np.log10(s["forward"]), 1)[0]
    assert slope_c == pytest.approx(2.0, abs=0.05)
    assert slope_f == pytest.approx(1.0, abs=0.05)


def test_round_off_dominates_at_tiny_steps_and_float32_is_worse():
    steps = np.array([1e-12])
    s64 = viz.step_size_sweep("sin", 1.0, steps=steps, dtype="float64")
    # round-off error ~ eps |f| / h: far above truncation (~1e-25) at h = 1e-12
    assert 1e-6 < s64["central"][0] < 1e-2
    best32 = viz.step_size_sweep("sin", 1.0, dtype="float32")["central"].min()
    best64 = viz.step_size_sweep("sin", 1.0, dtype="float64")["central"].min()
    assert best32 > 1e-7 and best64 < 1e-9
    assert s64["eps"] == np.finfo(np.float64).eps


def test_tanh_derivatives_match_finite_differences():
    f, d1, d2, d3 = viz.STEP_FUNCTIONS["tanh"]
    x, h = 0.7, 1e-5
    assert d1(x) == pytest.approx((f(x + h) - f(x - h)) / (2 * h), rel=1e-8)
    assert d2(x) == pytest.approx((d1(x + h) - d1(x - h)) / (2 * h), rel=1e-7)
    assert d3(x) == pytest.approx((d2(x + h) - d2(x - h)) / (2 * h), rel=1e-7)


def test_step_size_sweep_rejects_bad_input():
    with pytest.raises(ValueError, match="unknown function"):
        viz.step_size_sweep("cosh")
    with pytest.raises(TypeError, match="float type"):
        viz.step_size_sweep("sin", dtype="int32")
    with pytest.raises(ValueError, match="positive"):
        viz.step_size_sweep("sin", steps=[1e-3, 0.0])


def test_kink_errors_jump_inside_h():
    h = 1e-5
    d, err = viz.kink_errors("relu", h=h, distances=[1e-7, 1e-6, 1e-4, 1e-2])
    # x - h < 0 < x + h: the quotient sees slope (x + h) / 2h, analytic sees 1
    expected = (h - d[:2]) / (3 * h + d[:2])
    np.testing.assert_allclose(err[:2], expected, rtol=1e-4)
    assert np.all(err[2:] < 1e-9)
    # a smooth activation has no jump
    _, err_tanh = viz.kink_errors("tanh", h=h, distances=[1e-7, 1e-2])
    assert np.all(err_tanh < 1e-9)


def test_step_size_grid_has_one_axes_per_panel_and_five_lines_each():
    fig = viz.plot_step_size_grid(functions=("sin", "exp"), dtypes=("float64", "float32"))
    assert len(fig.axes) == 4
    for ax in fig.axes:
        assert len(ax.get_lines()) == 5  # central, forward, two truncation lines, round-off
        assert ax.get_xscale() == "log" and ax.get_yscale() == "log"


def test_kink_grid_has_a_curve_and_a_marker_per_step():
    fig = viz.plot_kink_grid(activations=("relu", "elu"), steps=(1e-6, 1e-3))
    assert len(fig.axes) == 2
    for ax in fig.axes:
        assert len(ax.get_lines()) == 4


def test_training_curves_axes_and_data():
    fig = viz.plot_training_curves([2.0, 1.0, 0.5], val_accuracy=[0.5, 0.8, 0.9])
    assert len(fig.axes) == 2
    (acc_line,) = fig.axes[1].get_lines()
    np.testing.assert_allclose(acc_line.get_ydata(), [50, 80, 90])
    assert len(viz.plot_training_curves([1.0, 0.5]).axes) == 1
    with pytest.raises(ValueError, match="one value per epoch"):
        viz.plot_training_curves([1.0, 0.5], val_accuracy=[0.9])


def test_widgets_build_with_the_static_defaults():
    import ipywidgets  # noqa: F401  (installed with the book extra; never skipped)
    box = viz.step_size_widget()
    fn, dt, _ = box.children[0].children
    assert fn.value == "sin" and dt.value == "float64"
    assert box.children[1].value == 1.0
    box = viz.kink_widget()
    act, h = box.children[0].children
    assert act.value == "relu" and h.value == pytest.approx(1e-5)


def test_neuron_graph_gradients_match_the_chain_rule_and_finite_differences():
    w, x, b, t = -0.8, 1.5, 0.3, 1.0
    g = viz.neuron_graph(w, x, b, t)

    def loss(w, x, b, t):
        return (1 / (1 + np.exp(-(w * x + b))) - t) ** 2

    a = 1 / (1 + np.exp(-(w * x + b)))
    assert g["L"][0] == pytest.approx(loss(w, x, b, t), rel=1e-15)
    dz = 2 * (a - t) * a * (1 - a)
    assert g["w"][1] == pytest.approx(dz * x, rel=1e-15)       # multiply swaps: dL/dw uses x
    assert g["x"][1] == pytest.approx(dz * w, rel=1e-15)
    assert g["b"][1] == pytest.approx(dz, rel=1e-15)           # add distributes
    assert g["u"][1] == g["b"][1]
    assert g["t"][1] == pytest.approx(-2 * (a - t), rel=1e-15)
    h = 1e-6
    for i, name in enumerate("wxbt"):
        args = [w, x, b, t]
        args[i] += h
        up = loss(*args)
        args[i] -= 2 * h
        assert g[name][1] == pytest.approx((up - loss(*args)) / (2 * h), rel=1e-7)


def test_plot_neuron_graph_labels_every_node_with_its_value_and_gradient():
    fig = viz.plot_neuron_graph(-0.8, 1.5, 0.3, 1.0)
    texts = {t.get_text() for t in fig.axes[0].texts}
    for value, grad in viz.neuron_graph(-0.8, 1.5, 0.3, 1.0).values():
        assert f"{value:.3f}" in texts and f"{grad:.3f}" in texts
    assert "σ\na" in texts
