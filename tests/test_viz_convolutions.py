"""dlcore.viz convolution-cost helpers: the counts against MobileNet's own table, the figures."""
import numpy as np
import pytest

from dlcore import viz


def test_conv_costs_reproduce_mobilenet_table_3():
    # Howard et al. (2017), Table 3: a 3x3 layer, 512 -> 512 channels on a 14x14 map.
    full = viz.conv_costs(3, 512, 512, 14)
    assert full["standard"] == 462_422_016 and full["standard_params"] == 2_359_296
    assert full["separable"] == 52_283_392 and full["separable_params"] == 266_752
    thin = viz.conv_costs(3, 512, 512, 14, alpha=0.75)
    assert (thin["m"], thin["n"]) == (384, 384)
    assert round(thin["separable"] / 1e6, 1) == 29.6 and round(thin["separable_params"] / 1e6, 2) == 0.15
    small = viz.conv_costs(3, 512, 512, 14, alpha=0.75, rho=0.714)
    assert small["d_f"] == 10 and round(small["separable"] / 1e6, 1) == 15.1


@pytest.mark.parametrize("d_k,m,n,d_f", [(3, 32, 64, 56), (5, 8, 16, 7), (1, 16, 16, 14)])
def test_conv_costs_ratio_is_one_over_n_plus_one_over_dk_squared(d_k, m, n, d_f):
    c = viz.conv_costs(d_k, m, n, d_f)
    assert c["ratio"] == pytest.approx(1 / n + 1 / d_k**2, rel=1e-12)
    assert c["depthwise"] == d_k * d_k * m * d_f * d_f and c["pointwise"] == m * n * d_f * d_f
    # halving width quarters the pointwise cost, halving resolution quarters both
    half = viz.conv_costs(d_k, m, n, d_f, alpha=0.5)
    assert half["pointwise"] * 4 == c["pointwise"] and half["depthwise"] * 2 == c["depthwise"]


def test_conv_costs_refuse_bad_multipliers():
    with pytest.raises(ValueError, match="alpha"):
        viz.conv_costs(alpha=0.0)
    with pytest.raises(ValueError, match="rho"):
        viz.conv_costs(rho=1.5)
    with pytest.raises((ValueError, TypeError), match="d_k"):
        viz.conv_costs(d_k=0)


def test_plot_conv_cost_bars_are_the_counts():
    fig = viz.plot_conv_cost(3, 64, 128, 28, alpha=0.5, rho=0.5)
    ax = fig.axes[0]
    c = viz.conv_costs(3, 64, 128, 28, alpha=0.5, rho=0.5)
    solid = [p.get_height() for p in ax.patches if p.get_fill()]
    np.testing.assert_allclose(solid, [c["standard"] / 1e6, c["depthwise"] / 1e6,
                                       c["pointwise"] / 1e6])
    assert "α 0.5" in ax.get_title()
    assert f"{c['ratio']:.3f}" in ax.texts[0].get_text()


def test_plot_conv_cost_grid_and_widget():
    fig = viz.plot_conv_cost_grid(alphas=(1.0, 0.5), rhos=(1.0,))
    assert len(fig.axes) == 2
    with pytest.raises(ValueError, match="at least one alpha"):
        viz.plot_conv_cost_grid(alphas=())
    box = viz.conv_cost_widget()
    sliders = [c for row in box.children[:2] for c in row.children]
    assert [s.value for s in sliders] == [3, 32, 64, 56, 1.0, 1.0]


def test_kernel_free_frames_draw_the_widget_view():
    from dlcore.viz import convolutions

    render = convolutions._conv_cost_frames(m=32, d_f=56)
    fig = render(7, 16, 0.25, 1.0)
    c = viz.conv_costs(7, 32, 16, 56, alpha=0.25)
    assert fig.axes[0].get_title() == "D_K 7, M 8, N 4, D_F 56 (α 0.25, ρ 1)"
    assert f"{c['ratio']:.3f}" in fig.axes[0].texts[0].get_text()
