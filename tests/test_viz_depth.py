"""dlcore.viz activations/depth/init helpers: the numbers behind the plots, and the figures."""
import matplotlib.pyplot as plt
import numpy as np
import pytest

from dlcore import viz


# -- the numbers ---------------------------------------------------------------------------
def test_activation_curves_and_derivatives():
    x = np.array([-1.0, 0.0, 1.0])
    _, f, df = viz.activation_curve("sigmoid", x)
    np.testing.assert_allclose(f, 1 / (1 + np.exp(-x)))
    assert df[1] == pytest.approx(0.25)  # sigmoid's largest slope, at 0
    _, f, df = viz.activation_curve("tanh", x)
    np.testing.assert_allclose(df, 1 - np.tanh(x) ** 2)
    np.testing.assert_allclose(viz.activation_curve("relu", x)[2], [0, 0, 1])  # PyTorch: 0 at 0
    np.testing.assert_allclose(viz.activation_curve("leaky_relu", x)[1], [-0.1, 0, 1])
    np.testing.assert_allclose(viz.activation_curve("elu", x)[2], [np.exp(-1), 1, 1])
    with pytest.raises(ValueError, match="unknown activation 'softsign'"):
        viz.activation_curve("softsign")


def test_tanh_with_small_init_loses_a_factor_0_01_sqrt_width_per_layer():
    # Near 0 tanh is the identity, so each layer multiplies the std by |W^T h| / |h| with
    # W ~ N(0, 0.01^2): about 0.01 * sqrt(width), averaged over a batch of 256 inputs.
    width = 256
    exp = viz.depth_experiment(20, "tanh", width=width, scheme="small", gradients=False)
    ratio = exp["std"][1:] / exp["std"][:-1]
    assert np.all(ratio < 1)
    np.testing.assert_allclose(ratio, 0.01 * np.sqrt(width), rtol=0.05)
    assert exp["std"][-1] < 1e-15
    assert exp["dead_fraction"] is None
    assert np.all(exp["saturated_fraction"] == 0)


def test_relu_with_he_init_keeps_the_std_over_20_layers():
    # He: Var(W) = 2/fan_in undoes ReLU's halving of the second moment, so E[h^2] is the same
    # at every layer; at finite width it drifts like a random walk in log with a step of
    # about sqrt(5/width)/2 (Hanin 2018), ~0.07 at width 256: well inside a factor 2.
    exp = viz.depth_experiment(20, "relu", width=256, scheme="he", gradients=False)
    assert exp["std"].max() / exp["std"].min() < 2
    per_layer = (exp["std"][-1] / exp["std"][0]) ** (1 / 19)
    assert per_layer == pytest.approx(1.0, abs=0.03)
    # Layer 1 sees 256 isotropic inputs: a unit negative on all of them has probability
    # 2^-256. Deeper, the inputs' representations grow correlated (their angles shrink
    # layer by layer), and units that are off for the whole batch appear even at init.
    dead = exp["dead_fraction"]
    assert dead[0] == 0
    assert dead[-1] > 0.1 and dead[-5:].mean() > dead[:5].mean()


def test_relu_with_xavier_init_shrinks_by_one_over_sqrt2_per_layer():
    # Square layers: xavier_normal's Var(W) = 2/(fan_in + fan_out) = 1/fan_in, so the
    # pre-activation variance equals E[h^2] = Var(z)/2 of the layer before: the std of
    # pre-activations, and of the ReLU outputs (a fixed multiple of it), falls by 1/sqrt(2).
    exp = viz.depth_experiment(20, "relu", width=256, scheme="xavier", gradients=False)
    per_layer = (exp["std"][-1] / exp["std"][0]) ** (1 / 19)
    assert per_layer == pytest.approx(2**-0.5, rel=0.04)


def test_sigmoid_gradients_vanish_toward_the_input():
    # Backward through a sigmoid layer multiplies by W^T diag(sigma'), with sigma' <= 1/4 and
    # |W|_2 ~ 2 for a square N(0, 1/width) matrix: at most about 1/2 per layer.
    exp = viz.depth_experiment(10, "sigmoid", 1.0)
    g = exp["grad_norm"]
    assert g.shape == (11,)
    assert np.all(g[:-2] / g[1:-1] < 0.5)
    assert g[0] < 0.5**9 * g[9]


def test_weight_scale_multiplies_the_weights_and_is_seeded():
    a = viz.build_mlp(3, "relu", width=8, scheme="he", weight_scale=1.0, rng=5)
    b = viz.build_mlp(3, "relu", width=8, scheme="he", weight_scale=2.5, rng=5)
    assert len(a) == 7  # 3 x (Linear, ReLU) + output Linear
    assert a[-1].W.shape == (8, 10)
    for la, lb in zip(a, b):
        if hasattr(la, "W"):
            np.testing.assert_allclose(lb.W.data, 2.5 * la.W.data, rtol=1e-12)
            np.testing.assert_array_equal(la.b.data, 0)
    w = viz.init_weight("small", (400, 500), rng=0)
    assert w.std() == pytest.approx(0.01, rel=0.01)
    e1 = viz.depth_experiment(4, "elu", 0.7, width=16, rng=3)
    e2 = viz.depth_experiment(4, "elu", 0.7, width=16, rng=3)
    np.testing.assert_array_equal(e1["std"], e2["std"])
    np.testing.assert_array_equal(e1["grad_norm"], e2["grad_norm"])
    assert [a.shape for a in e1["acts"]] == [(256, 16)] * 4


def test_linear_activation_uses_the_linear_outputs():
    exp = viz.depth_experiment(3, "linear", 1.0, width=32, scheme="lecun", gradients=False)
    assert len(exp["report"]) == 4 and len(exp["acts"]) == 3
    np.testing.assert_allclose(exp["std"], [s.out_std for s in exp["report"][:3]])


def test_bad_settings_are_refused_clearly():
    with pytest.raises(ValueError, match="unknown scheme 'glorot'"):
        viz.depth_experiment(3, "relu", scheme="glorot")
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        viz.depth_experiment(3, "swish")
    with pytest.raises(ValueError, match="weight_scale must be in"):
        viz.depth_experiment(3, "relu", weight_scale=0.0)
    with pytest.raises(ValueError, match="depth must be a positive integer"):
        viz.depth_experiment(0, "relu")
    with pytest.raises(ValueError, match="one name per array"):
        viz.plot_activation_histograms([np.zeros(3)], names=["a", "b"])


# -- the figures ---------------------------------------------------------------------------
def test_activation_functions_figure():
    fig = viz.plot_activation_functions()
    ax_f, ax_d = fig.axes
    curves = ax_d.get_lines()[:5]
    assert len(curves) == 5
    assert np.max(curves[0].get_ydata()) == pytest.approx(0.25, abs=1e-4)  # sigmoid'
    assert np.max(curves[1].get_ydata()) == pytest.approx(1.0, abs=1e-4)   # tanh'
    assert ax_f.get_xlabel() == "input x" and ax_d.get_ylabel() == "f'(x)"
    fig2, ax = plt.subplots()
    viz.plot_activation_functions(("relu", "elu"), ax=ax)
    assert len(fig2.axes) == 1 and len(ax.get_lines()) == 4 + 2  # f, f' each, two guides


def test_activation_histograms_one_panel_per_layer():
    acts = [np.arange(10.0), 0.5 * np.arange(10.0), np.zeros(4)]
    fig = viz.plot_activation_histograms(acts, ["a", "b", "c"])
    shown = [ax for ax in fig.axes if ax.get_visible()]
    assert len(shown) == 3
    assert shown[0].get_title() == f"a\nstd {np.std(np.arange(10.0)):.3g}, 10% zeros"
    assert shown[0].get_xlim() == shown[1].get_xlim()  # shared range shows the shrinking
    assert "100% zeros" in shown[2].get_title()


def test_gradient_norms_several_runs_on_log_axes():
    ax = viz.plot_gradient_norms([(0, 1e-3), (2, 1e-2), (4, 0.0)], label="a")
    viz.plot_gradient_norms([2.0, 3.0, 4.0], ax=ax, label="b")
    a, b = ax.get_lines()
    np.testing.assert_array_equal(a.get_xdata(), [1, 2, 3])
    np.testing.assert_array_equal(a.get_ydata()[:2], [1e-3, 1e-2])
    np.testing.assert_array_equal(b.get_ydata(), [2.0, 3.0, 4.0])
    assert np.isnan(a.get_ydata()[2])  # a zero has no place on a log axis
    assert ax.get_yscale() == "log"
    lo, hi = ax.get_ylim()
    assert lo <= 1e-3 and hi >= 4.0


def test_depth_view_and_grid_axes():
    fig = viz.plot_depth_view(depth=6, activation="relu", weight_scale=2.0, n_hist=4)
    assert len(fig.axes) == 5
    grad_ax = fig.axes[-1]
    assert grad_ax.get_yscale() == "log"
    exp = viz.depth_experiment(6, "relu", 2.0)
    np.testing.assert_allclose(grad_ax.get_lines()[0].get_ydata(), exp["grad_norm"])
    assert "layer 6" in fig.axes[3].get_title()
    assert f"std {exp['std'][-1]:.3g}" in fig.axes[3].get_title()
    grid = viz.plot_depth_grid(depth=4, settings=(("tanh", 1.0), ("relu", 2.0)), n_hist=3)
    assert len(grid.axes) == 2 * 4
    assert grid.axes[0].get_ylabel() == "tanh, lecun × 1"
    assert all(grid.axes[r * 4 + 3].get_yscale() == "log" for r in range(2))


def test_init_grid_lines_are_the_measured_stds():
    fig = viz.plot_init_grid(depth=8, activations=("relu", "tanh"))
    assert len(fig.axes) == 2
    for ax, activation in zip(fig.axes, ("relu", "tanh")):
        lines = ax.get_lines()
        assert [line.get_label() for line in lines] == list(viz.INIT_SCHEMES)
        assert ax.get_yscale() == "log" and ax.get_ylabel() == "std of activations"
        he = viz.depth_experiment(8, activation, scheme="he", gradients=False)
        np.testing.assert_allclose(lines[2].get_ydata(), he["std"])


def test_widgets_build_with_the_static_defaults():
    import ipywidgets  # noqa: F401  (installed with the book extra; never skipped)
    box = viz.depth_widget()
    act, dep = box.children[0].children
    assert (act.value, dep.value) == ("tanh", 10)
    assert box.children[1].value == pytest.approx(1.0)
    box = viz.init_widget()
    sch, act = box.children[0].children
    dep, ws = box.children[1].children
    assert (sch.value, act.value, dep.value) == ("he", "relu", 20)
    assert ws.value == pytest.approx(1.0)
