"""Activation functions and their derivatives; histograms of activations per layer;
gradient norm against depth.

`activation_curve` returns the numbers (numpy only); the `plot_*` functions draw them.
"""
import numpy as np

from .. import functional as F
from ..backend import to_numpy
from ._mpl import pyplot

__all__ = [
    "ACTIVATION_CURVES",
    "activation_curve",
    "plot_activation_functions",
    "plot_activation_histograms",
    "plot_gradient_norms",
]

# name -> (forward, backward, hyperparameters, legend label). The leaky ReLU is drawn with
# slope 0.1 rather than the layer's default 0.01, so that its slope is visible at all.
ACTIVATION_CURVES = {
    "sigmoid": (F.sigmoid_forward, F.sigmoid_backward, {}, "sigmoid"),
    "tanh": (F.tanh_forward, F.tanh_backward, {}, "tanh"),
    "relu": (F.relu_forward, F.relu_backward, {}, "ReLU"),
    "leaky_relu": (F.leaky_relu_forward, F.leaky_relu_backward, {"negative_slope": 0.1},
                   "leaky ReLU (slope 0.1)"),
    "elu": (F.elu_forward, F.elu_backward, {"alpha": 1.0}, "ELU (α = 1)"),
}


def activation_curve(name, x=None):
    """f(x) and f'(x) of a named activation, computed with dlcore.functional.

    name: a key of ACTIVATION_CURVES; x: 1-D float array (default 401 points on [-4, 4]).
    The derivative is the backward pass with upstream gradient 1 (PyTorch's value at kinks).
    Returns (x, f, df), three 1-D float64 arrays.
    """
    if name not in ACTIVATION_CURVES:
        raise ValueError(f"unknown activation {name!r}; choose one of {list(ACTIVATION_CURVES)}")
    fwd, bwd, hyper, _ = ACTIVATION_CURVES[name]
    x = np.linspace(-4, 4, 401) if x is None else np.asarray(x, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"activation_curve: x must be 1-D, got shape {x.shape}")
    f, cache = fwd(x, **hyper)
    df = bwd(np.ones_like(x), cache)
    return x, f, df


def plot_activation_functions(names=("sigmoid", "tanh", "relu", "leaky_relu", "elu"), ax=None,
                              xlim=(-4.0, 4.0)):
    """Curves f(x) (left) and derivatives f'(x) (right) of the named activations.

    ax: None (a new figure with two Axes), a pair of Axes (functions, derivatives), or one
    Axes (functions solid, derivatives dashed in the same colour). Returns the Figure.
    """
    plt = pyplot()
    names = [names] if isinstance(names, str) else list(names)
    if ax is None:
        fig, (ax_f, ax_d) = plt.subplots(1, 2, figsize=(9, 3.4))
    elif np.ndim(ax) == 0:
        ax_f = ax_d = ax
        fig = ax.figure
    else:
        ax_f, ax_d = ax
        fig = ax_f.figure
    x = np.linspace(xlim[0], xlim[1], 801)
    for i, name in enumerate(names):
        _, f, df = activation_curve(name, x)
        label = ACTIVATION_CURVES[name][3]
        # later curves thinner, so that coinciding pieces (slope 1 for x > 0) all show
        lw = max(3.0 - 0.45 * i, 1.0)
        ax_f.plot(x, f, color=f"C{i}", lw=lw, label=label)
        ax_d.plot(x, df, color=f"C{i}", lw=lw, ls="--" if ax_d is ax_f else "-",
                  label=None if ax_d is ax_f else label)
    for a in {ax_f, ax_d}:
        a.axhline(0, color="0.6", lw=0.6)
        a.axvline(0, color="0.6", lw=0.6)
        a.grid(True, alpha=0.3)
        a.set_xlabel("input x")
    if ax_f is ax_d:
        ax_f.set_ylabel("f(x) (solid), f'(x) (dashed)")
        ax_f.set_ylim(-1.6, 4.1)
    else:
        ax_f.set_title("activation f(x)", fontsize=10)
        ax_f.set_ylabel("f(x)")
        ax_f.set_ylim(-1.6, 4.1)
        ax_d.set_title("derivative f'(x)", fontsize=10)
        ax_d.set_ylabel("f'(x)")
        ax_d.set_ylim(-0.1, 1.15)
    ax_f.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig


def plot_activation_histograms(acts, names=None, bins=40, axes=None, sharex=True, ncols=None):
    """One small histogram per layer of the values in each array of `acts`.

    acts: list of arrays (e.g. from dlcore.diagnostics.activations); names: one label per
    array (default "layer 1", ...). Each panel's title gives the label and the std of the
    values. With sharex, every panel uses the same x-range, so that a distribution that
    shrinks (or grows) with depth shows as a narrowing (or widening) histogram. The y-axis
    is the fraction of values per bin, scaled per panel. axes: a sequence of len(acts) Axes
    to draw on, or None for a new figure with `ncols` columns (default up to 6).
    Returns the Figure.
    """
    plt = pyplot()
    arrays = [np.asarray(to_numpy(a), dtype=np.float64).ravel() for a in acts]
    if not arrays:
        raise ValueError("plot_activation_histograms: acts is empty; give one array per layer")
    names = [f"layer {i + 1}" for i in range(len(arrays))] if names is None else list(names)
    if len(names) != len(arrays):
        raise ValueError(f"plot_activation_histograms: {len(names)} names for {len(arrays)} "
                         f"arrays; give one name per array")
    own = axes is None
    if own:
        ncols = min(len(arrays), 6) if ncols is None else ncols
        nrows = -(-len(arrays) // ncols)
        fig, grid = plt.subplots(nrows, ncols, figsize=(1.9 * ncols, 1.9 * nrows + 0.3),
                                 squeeze=False)
        axes = list(grid.ravel())
        for a in axes[len(arrays):]:
            a.set_visible(False)
    else:
        axes = list(axes)
        if len(axes) < len(arrays):
            raise ValueError(f"plot_activation_histograms: {len(axes)} axes for {len(arrays)} "
                             f"arrays")
        fig = axes[0].figure
    finite = [a[np.isfinite(a)] for a in arrays]
    lo = min((a.min() for a in finite if a.size), default=-1.0)
    hi = max((a.max() for a in finite if a.size), default=1.0)
    if hi <= lo:  # every value equal: give the bins some width
        lo, hi = lo - 0.5, hi + 0.5
    for a, vals, name, ax in zip(arrays, finite, names, axes):
        std = float(np.std(vals)) if vals.size else float("nan")
        title = f"{name}\nstd {std:.3g}"
        # Exact zeros (ReLU's inactive half) would be one bar dwarfing the rest: leave them
        # out of the bars and give their share in the title instead.
        zeros = float(np.mean(vals == 0)) if vals.size else 0.0
        bars = vals[vals != 0] if zeros > 0.05 else vals
        if zeros > 0.05:
            title += f", {100 * zeros:.0f}% zeros"
        if bars.size == 0:
            ax.text(0.5, 0.5, "no nonzero finite values", ha="center", va="center",
                    transform=ax.transAxes, fontsize=7)
        else:
            rng = (lo, hi) if sharex else None
            ax.hist(bars, bins=bins, range=rng, weights=np.full(bars.size, 1 / vals.size),
                    histtype="stepfilled", color="C0", alpha=0.85)  # one patch: fast redraws
        if sharex:
            ax.set_xlim(lo, hi)
        ax.set_title(title, fontsize=8)
        ax.xaxis.set_major_locator(plt.MaxNLocator(3))
        ax.tick_params(labelsize=7)
        ax.set_yticks([])
    axes[0].set_ylabel("fraction of values", fontsize=8)
    if own:
        fig.tight_layout()
    return fig


def _at_least_decades(ax, decades):
    """Widen a log y-axis to span `decades` powers of ten around its lines' data.

    Without this, nearly equal values fill the axes with minor-tick labels and make a
    10 % wobble look like a trend; whole decades keep "flat" looking flat.
    """
    ys = np.concatenate([np.asarray(line.get_ydata(), np.float64) for line in ax.get_lines()]
                        or [np.array([])])
    ys = ys[np.isfinite(ys) & (ys > 0)]
    if ys.size == 0:
        return
    lo, hi = np.log10(ys.min()), np.log10(ys.max())
    if hi - lo < decades:  # whole decades around the middle
        mid = (lo + hi) / 2
        ax.set_ylim(10 ** np.floor(mid - decades / 2), 10 ** np.ceil(mid + decades / 2))
    else:
        pad = 0.05 * (hi - lo)
        ax.set_ylim(10 ** (lo - pad), 10 ** (hi + pad))


def plot_gradient_norms(norms, ax=None, label=None, logy=True):
    """Gradient norm against depth; call again with the same `ax` to add runs.

    norms: a list of (layer index, norm) pairs as dlcore.diagnostics.gradient_norms returns,
    or a 1-D sequence of norms. They are drawn at positions 1, 2, ... (1 = nearest the
    input). Zeros and non-finite norms are left out of a log axis. Returns the Axes.
    """
    plt = pyplot()
    values = [v[1] if isinstance(v, (tuple, list)) else v for v in norms]
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or values.size == 0:
        raise ValueError("plot_gradient_norms: norms must be a non-empty list of numbers or "
                         "of (layer index, norm) pairs")
    own = ax is None
    if own:
        _, ax = plt.subplots(figsize=(5, 3.4))
    depth = np.arange(1, values.size + 1)
    shown = np.where(np.isfinite(values) & ((values > 0) | (not logy)), values, np.nan)
    ax.plot(depth, shown, "o-", ms=3.5, label=label)
    if logy:
        ax.set_yscale("log")
        _at_least_decades(ax, 2)
    ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
    ax.set_xlabel("weight layer (1 = nearest the input)")
    ax.set_ylabel("‖∂L/∂W‖ (L2 norm)")
    ax.grid(True, which="major", alpha=0.3)
    if label is not None:
        ax.legend(fontsize=8)
    if own:
        ax.figure.tight_layout()
    return ax
