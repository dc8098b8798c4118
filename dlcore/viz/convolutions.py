"""The cost of a standard and a depthwise separable convolution, for chapter 10's widget.

A layer maps M input channels to N output channels with a D_K x D_K kernel on a D_F x D_F
feature map (stride 1, "same" padding, so the output is D_F x D_F too). MobileNet's width
multiplier alpha thins every layer to alpha*M and alpha*N channels; its resolution multiplier
rho shrinks the feature map to rho*D_F (Howard et al., 2017). `conv_costs` returns the counts
(multiply-adds and weights, biases left out, as the paper counts them); `plot_conv_cost`
draws one setting, `conv_cost_widget` redraws it live and `plot_conv_cost_grid` is its
static twin.
"""
import numpy as np

from .. import _checks
from ._mpl import pyplot, widgets
from .frames import Control, register_frames

__all__ = [
    "CONV_COST_ALPHAS",
    "CONV_COST_CHANNELS",
    "CONV_COST_KERNELS",
    "CONV_COST_MAPS",
    "CONV_COST_RHOS",
    "conv_cost_widget",
    "conv_costs",
    "plot_conv_cost",
    "plot_conv_cost_grid",
]

CONV_COST_KERNELS = (1, 3, 5, 7)
CONV_COST_CHANNELS = (8, 16, 32, 64, 128, 256, 512, 1024)
CONV_COST_MAPS = (7, 14, 28, 56, 112, 224)
CONV_COST_ALPHAS = (0.25, 0.5, 0.75, 1.0)                  # MobileNet's widths
CONV_COST_RHOS = (128 / 224, 160 / 224, 192 / 224, 1.0)   # its input sizes 128-224


def _scaled(value, factor):
    """round(factor * value), at least 1: the thinned channel count or map size."""
    return max(1, round(factor * value))


def conv_costs(d_k=3, m=32, n=64, d_f=56, alpha=1.0, rho=1.0):
    """Multiply-adds and weights of one layer, standard against depthwise separable.

    d_k: kernel size; m, n: input and output channels; d_f: feature-map size (stride 1,
    same padding); alpha, rho in (0, 1]: width and resolution multipliers, applied as
    M' = round(alpha*m), N' = round(alpha*n), D' = round(rho*d_f).
    Returns a dict of Python ints and floats:
      m, n, d_f (the scaled sizes M', N', D'),
      standard:  d_k^2 * M' * N' * D'^2 multiply-adds, standard_params d_k^2 * M' * N',
      depthwise: d_k^2 * M' * D'^2,  depthwise_params d_k^2 * M',
      pointwise: M' * N' * D'^2,     pointwise_params M' * N',
      separable = depthwise + pointwise (and separable_params),
      ratio = separable / standard = 1/N' + 1/d_k^2.
    """
    where = "conv_costs"
    d_k = _checks.positive_int(d_k, "d_k", where)
    m = _checks.positive_int(m, "m", where)
    n = _checks.positive_int(n, "n", where)
    d_f = _checks.positive_int(d_f, "d_f", where)
    alpha = _checks.number(alpha, "alpha", where, low=0.0, high=1.0, low_inclusive=False)
    rho = _checks.number(rho, "rho", where, low=0.0, high=1.0, low_inclusive=False)
    M, N, D = _scaled(m, alpha), _scaled(n, alpha), _scaled(d_f, rho)
    out = {
        "m": M, "n": N, "d_f": D,
        "standard": d_k * d_k * M * N * D * D, "standard_params": d_k * d_k * M * N,
        "depthwise": d_k * d_k * M * D * D, "depthwise_params": d_k * d_k * M,
        "pointwise": M * N * D * D, "pointwise_params": M * N,
    }
    out["separable"] = out["depthwise"] + out["pointwise"]
    out["separable_params"] = out["depthwise_params"] + out["pointwise_params"]
    out["ratio"] = out["separable"] / out["standard"]
    return out


def _millions(x):
    return x / 1e6


def plot_conv_cost(d_k=3, m=32, n=64, d_f=56, alpha=1.0, rho=1.0, ax=None):
    """Bars of multiply-adds (millions): the standard convolution and the separable one
    (depthwise and pointwise stacked) at the chosen alpha and rho; grey outlines show both
    at alpha = rho = 1. The text gives weights and the ratios. Returns the Figure."""
    plt = pyplot()
    if ax is None:
        fig, ax = plt.subplots(figsize=(5.2, 3.6))
    else:
        fig = ax.figure
    c = conv_costs(d_k, m, n, d_f, alpha, rho)
    full = conv_costs(d_k, m, n, d_f)
    x = np.arange(2)
    ax.bar(x, [_millions(full["standard"]), _millions(full["separable"])], width=0.6,
           fill=False, edgecolor="0.6", ls="--", lw=1, label="at α = ρ = 1")
    ax.bar(0, _millions(c["standard"]), width=0.45, color="C0", label="standard")
    ax.bar(1, _millions(c["depthwise"]), width=0.45, color="C1", label="depthwise")
    ax.bar(1, _millions(c["pointwise"]), width=0.45, bottom=_millions(c["depthwise"]),
           color="C2", label="pointwise 1x1")
    ax.set_xticks(x, ["standard", "separable"])
    ax.set_ylabel("multiply-adds (millions)", fontsize=9)
    ax.tick_params(labelsize=8)
    ax.set_ylim(0, 1.8 * _millions(full["standard"]))
    ax.grid(True, axis="y", alpha=0.3)
    text = (f"separable / standard = {c['ratio']:.3f}\n"
            f"(1/N + 1/D_K² = 1/{c['n']} + 1/{d_k * d_k})\n"
            f"weights {c['standard_params']:,} vs {c['separable_params']:,}\n"
            f"cost / cost at α = ρ = 1: {c['standard'] / full['standard']:.3f} "
            f"and {c['separable'] / full['separable']:.3f}")
    ax.text(0.98, 0.97, text, transform=ax.transAxes, ha="right", va="top", fontsize=8,
            bbox={"facecolor": "white", "edgecolor": "0.8", "alpha": 0.9})
    ax.set_title(f"D_K {d_k}, M {c['m']}, N {c['n']}, D_F {c['d_f']} "
                 f"(α {alpha:g}, ρ {rho:.3g})", fontsize=9)
    ax.legend(fontsize=7.5, loc="upper left")
    return fig


def plot_conv_cost_grid(alphas=(1.0, 0.5), rhos=(1.0, 128 / 224), d_k=3, m=32, n=64, d_f=56):
    """Static twin of `conv_cost_widget`: `plot_conv_cost` for each width multiplier (rows)
    and resolution multiplier (columns). Returns the Figure."""
    plt = pyplot()
    alphas, rhos = list(alphas), list(rhos)
    if not alphas or not rhos:
        raise ValueError("plot_conv_cost_grid: give at least one alpha and one rho")
    fig, axes = plt.subplots(len(alphas), len(rhos), squeeze=False,
                             figsize=(4.6 * len(rhos), 3.3 * len(alphas) + 0.4))
    for i, alpha in enumerate(alphas):
        for j, rho in enumerate(rhos):
            plot_conv_cost(d_k, m, n, d_f, alpha, rho, ax=axes[i, j])
    fig.suptitle("multiply-adds of one layer: standard vs depthwise separable, "
                 "thinned by α and ρ", fontsize=10)
    fig.tight_layout()
    return fig


def conv_cost_widget(d_k=3, m=32, n=64, d_f=56, alpha=1.0, rho=1.0):
    """Live `plot_conv_cost`: sliders for D_K, M, N, D_F, alpha and rho. Returns a VBox."""
    plt = pyplot()
    w = widgets()
    style = {"description_width": "initial"}

    def slider(options, value, label):
        return w.SelectionSlider(options=list(options), value=value, description=label,
                                 style=style)

    rho_options = [(f"{r:.3g} ({round(224 * r)}/224)", r) for r in CONV_COST_RHOS]
    controls = {
        "d_k": slider(CONV_COST_KERNELS, d_k, "kernel D_K"),
        "m": slider(CONV_COST_CHANNELS, m, "in channels M"),
        "n": slider(CONV_COST_CHANNELS, n, "out channels N"),
        "d_f": slider(CONV_COST_MAPS, d_f, "map size D_F"),
        "alpha": slider(CONV_COST_ALPHAS, alpha, "width α"),
        "rho": w.SelectionSlider(options=rho_options, value=rho, description="resolution ρ",
                                 style=style),
    }

    def draw(**values):
        plot_conv_cost(**values)
        plt.show()

    out = w.interactive_output(draw, controls)
    names = list(controls)
    rows = [w.HBox([controls[k] for k in names[:3]]), w.HBox([controls[k] for k in names[3:]])]
    return w.VBox(rows + [out])


# -- kernel-free frames for the HTML book (dlcore.viz.frames) ------------------------------

@register_frames("conv_cost_widget", alt="Multiply-adds of one convolutional layer, standard "
                 "against depthwise separable (depthwise and pointwise parts stacked), for the "
                 "chosen kernel size, output channels, width multiplier and resolution "
                 "multiplier; dashed outlines show both at full width and resolution.",
                 controls=[Control("d_k", (1, 3, 7), "kernel D_K", fmt="{:d}"),
                           Control("n", (16, 64, 256), "out channels N", fmt="{:d}"),
                           Control("alpha", (0.25, 0.5, 1.0), "width α"),
                           Control("rho", (128 / 224, 1.0), "resolution ρ", fmt="{:.3g}")])
def _conv_cost_frames(m=32, d_f=56):
    def render(d_k, n, alpha, rho):
        return plot_conv_cost(d_k, m, n, d_f, alpha, rho)

    return render
