"""What depth, activation and initial weight scale do to activations and gradients.

A deep MLP (`depth` hidden layers Linear(width, width) + activation, then a Linear(width, 10)
output layer) is built with dlcore.nn and dlcore.init, a seeded batch of standard normal
inputs with random labels is pushed through it, and dlcore.diagnostics measures every layer:
the std of its activations and the norm of its weight gradient under a cross-entropy loss
(what the first step of training would see).

`depth_experiment` returns the numbers (numpy only); `plot_depth_view` / `plot_init_std`
draw one setting; `depth_widget` / `init_widget` redraw them live; `plot_depth_grid` /
`plot_init_grid` are their static twins (small multiples over a few fixed settings).
"""
import numpy as np

from .. import _checks, diagnostics, init, nn
from .._random import get_rng
from ..losses import CrossEntropyLoss
from ._mpl import pyplot, widgets
from .activations import plot_activation_histograms, plot_gradient_norms

__all__ = [
    "DEPTH_ACTIVATIONS",
    "INIT_SCHEMES",
    "build_mlp",
    "depth_experiment",
    "depth_widget",
    "init_weight",
    "init_widget",
    "plot_depth_grid",
    "plot_depth_view",
    "plot_init_grid",
    "plot_init_std",
]


def _small(shape, rng=None, dtype=np.float64):
    """N(0, 0.01^2): the 'small random numbers' of early practice."""
    return (get_rng(rng).standard_normal(shape) * 0.01).astype(dtype)


# scheme -> initialiser(shape, rng=..., dtype=...) for a weight of shape (fan_in, fan_out)
INIT_SCHEMES = {
    "small": _small,
    "xavier": init.xavier_normal,   # N(0, 2 / (fan_in + fan_out))
    "he": init.he_normal,           # N(0, 2 / fan_in)
    "lecun": init.lecun_normal,     # N(0, 1 / fan_in)
}

# name -> activation module class (None: no activation, a deep linear network)
DEPTH_ACTIVATIONS = {
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "linear": None,
}

_N_CLASSES = 10
_MAX_DEPTH = 200


def _choice(value, options, name, where):
    if value not in options:
        raise ValueError(f"{where}: unknown {name} {value!r}; choose one of {list(options)}")
    return value


def init_weight(scheme, shape, weight_scale=1.0, rng=None, dtype=np.float64):
    """A weight of `shape` (fan_in, fan_out) drawn by `scheme`, times `weight_scale`.

    scheme: 'small' (N(0, 0.01^2)), 'xavier' (xavier_normal), 'he' (he_normal) or 'lecun'
    (lecun_normal). Returns a float array of `shape`.
    """
    _choice(scheme, INIT_SCHEMES, "scheme", "init_weight")
    scale = _checks.number(weight_scale, "weight_scale", "init_weight", low=0.0,
                           low_inclusive=False)
    return (INIT_SCHEMES[scheme](shape, rng=rng, dtype=dtype) * scale).astype(dtype)


def build_mlp(depth, activation="tanh", width=64, scheme="lecun", weight_scale=1.0,
              rng=0, dtype=np.float64):
    """Sequential of `depth` blocks [Linear(width, width), activation] and Linear(width, 10).

    Weights from `init_weight(scheme, ..., weight_scale)`, biases 0. Input (N, width),
    output (N, 10) logits. With activation='linear' the blocks are Linear layers only.
    """
    where = "build_mlp"
    depth = _checks.positive_int(depth, "depth", where)
    if depth > _MAX_DEPTH:
        raise ValueError(f"{where}: depth must be at most {_MAX_DEPTH}, got {depth}")
    width = _checks.positive_int(width, "width", where)
    act = DEPTH_ACTIVATIONS[_choice(activation, DEPTH_ACTIVATIONS, "activation", where)]
    _choice(scheme, INIT_SCHEMES, "scheme", where)
    _checks.number(weight_scale, "weight_scale", where, low=0.0, low_inclusive=False)
    rng = get_rng(rng)

    def weight(shape, rng):
        return init_weight(scheme, shape, weight_scale, rng=rng, dtype=dtype)

    layers = []
    for _ in range(depth):
        layers.append(nn.Linear(width, width, init=weight, rng=rng, dtype=dtype))
        if act is not None:
            layers.append(act())
    layers.append(nn.Linear(width, _N_CLASSES, init=weight, rng=rng, dtype=dtype))
    return nn.Sequential(*layers)


def depth_experiment(depth=10, activation="tanh", weight_scale=1.0, width=64, scheme="lecun",
                     n=256, gradients=True, rng=0):
    """Per-layer activation statistics and weight-gradient norms of a fresh deep MLP.

    The MLP is `build_mlp(depth, activation, width, scheme, weight_scale)`; the batch is n
    standard normal inputs of size width with uniformly random labels in 0..9 (drawn first
    from `rng`, so every setting with the same rng sees the same batch); the loss is
    cross-entropy. Returns a dict:
      'layer': 1..depth; 'acts': the hidden layers' outputs (after the activation), each
      (n, width); 'mean', 'std', 'dead_fraction', 'saturated_fraction': arrays of length
      depth (the last two None where the activation has no such notion);
      'grad_norm': (depth + 1,) norms of W.grad per Linear layer, the output layer last
      (None if gradients=False); 'report': the diagnostics.layer_report list.
    """
    n = _checks.positive_int(n, "n", "depth_experiment")
    rng = get_rng(rng)
    width = _checks.positive_int(width, "width", "depth_experiment")
    x = rng.standard_normal((n, width))
    y = rng.integers(0, _N_CLASSES, size=n)
    model = build_mlp(depth, activation, width, scheme, weight_scale, rng=rng)
    # one forward (and backward) pass gives both the statistics and the arrays
    if gradients:
        report, outs = diagnostics._report(model, x, y, CrossEntropyLoss(), "depth_experiment")
    else:
        report, outs = diagnostics._report(model, x, None, None, "depth_experiment")
    # hidden outputs: every activation module, or every hidden Linear for 'linear'
    step = 1 if DEPTH_ACTIVATIONS[activation] is None else 2
    hidden = [step * k + step - 1 for k in range(depth)]
    acts = [outs[i] for i in hidden]
    pick = [report[i] for i in hidden]

    def column(attr):
        vals = [getattr(s, attr) for s in pick]
        return None if vals[0] is None else np.array(vals, dtype=np.float64)

    return {
        "layer": np.arange(1, depth + 1),
        "acts": acts,
        "mean": column("out_mean"),
        "std": column("out_std"),
        "dead_fraction": column("dead_fraction"),
        "saturated_fraction": column("saturated_fraction"),
        "grad_norm": (np.array([s.grad_norm for s in report if s.grad_norm is not None])
                      if gradients else None),
        "report": report,
    }


def _hist_layers(depth, n_hist):
    """Up to n_hist layer numbers spread evenly over 1..depth, first and last included."""
    return [int(k) for k in np.unique(np.round(np.linspace(1, depth, min(n_hist, depth))))]


def _setting_label(activation, weight_scale, scheme):
    return f"{activation}, {scheme} × {weight_scale:.3g}"


def _draw_depth_row(axes, exp, n_hist, hist_label=None):
    """Histograms of n_hist hidden layers on axes[:-1], gradient norms on axes[-1]."""
    picks = _hist_layers(len(exp["layer"]), n_hist)
    plot_activation_histograms([exp["acts"][k - 1] for k in picks],
                               [f"layer {k}" for k in picks], axes=axes[:len(picks)])
    for ax in axes[len(picks):-1]:
        ax.set_visible(False)
    if hist_label is not None:
        axes[0].set_ylabel(hist_label, fontsize=8)
    ax = axes[-1]
    plot_gradient_norms(exp["grad_norm"], ax=ax)
    ax.axvline(len(exp["layer"]) + 1, color="0.6", lw=0.8, ls=":")  # the output layer
    ax.set_xlabel("weight layer (last = output)", fontsize=8)
    ax.set_ylabel("‖∂L/∂W‖", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.set_title("gradient norm by depth", fontsize=8)


def plot_depth_view(depth=10, activation="tanh", weight_scale=1.0, width=64, scheme="lecun",
                    n_hist=5, rng=0):
    """One setting of `depth_experiment`: histograms of n_hist hidden layers' activations
    (same x-range, std in each title) and the weight-gradient norm of every layer (log).

    The weights are `scheme` times weight_scale: with the default 'lecun', weight_scale 1
    means Var(W) = 1/fan_in and sqrt(2) is He's ReLU initialisation. Returns the Figure.
    """
    plt = pyplot()
    exp = depth_experiment(depth, activation, weight_scale, width, scheme, rng=rng)
    n_hist = _checks.positive_int(n_hist, "n_hist", "plot_depth_view")
    fig, axes = plt.subplots(1, n_hist + 1, figsize=(1.75 * n_hist + 3.4, 2.8),
                             gridspec_kw={"width_ratios": [1] * n_hist + [2.2]})
    _draw_depth_row(list(axes), exp, n_hist)
    fig.suptitle(f"{depth} hidden layers of width {width}: "
                 f"{_setting_label(activation, weight_scale, scheme)}", fontsize=10)
    # fixed margins instead of tight_layout, which costs more than the experiment
    fig.subplots_adjust(left=0.04, right=0.985, bottom=0.17, top=0.78, wspace=0.4)
    return fig


DEPTH_GRID_SETTINGS = (("sigmoid", 1.0), ("tanh", 1.0), ("relu", 1.0), ("relu", 2.0))


def plot_depth_grid(depth=10, settings=DEPTH_GRID_SETTINGS, width=64, scheme="lecun",
                    n_hist=5, rng=0):
    """Static twin of `depth_widget`: one `plot_depth_view` row per (activation, weight_scale)
    in `settings`, all with the same input batch. Returns the Figure."""
    plt = pyplot()
    n_hist = _checks.positive_int(n_hist, "n_hist", "plot_depth_grid")
    settings = list(settings)
    if not settings:
        raise ValueError("plot_depth_grid: settings is empty; give (activation, weight_scale) "
                         "pairs")
    fig, grid = plt.subplots(len(settings), n_hist + 1, squeeze=False,
                             figsize=(1.75 * n_hist + 3.4, 2.3 * len(settings) + 0.4),
                             gridspec_kw={"width_ratios": [1] * n_hist + [2.2]})
    for r, (activation, weight_scale) in enumerate(settings):
        exp = depth_experiment(depth, activation, weight_scale, width, scheme, rng=rng)
        _draw_depth_row(list(grid[r]), exp, n_hist,
                        hist_label=_setting_label(activation, weight_scale, scheme))
    fig.suptitle(f"{depth} hidden layers of width {width}: activations (histograms) and "
                 f"gradient norms", fontsize=10)
    fig.tight_layout()
    return fig


def depth_widget(depth=10, activation="tanh", weight_scale=1.0, width=64):
    """Live `plot_depth_view`: choose depth, activation and weight scale (× LeCun's
    N(0, 1/fan_in)); every change rebuilds the network and re-measures it.

    Returns an ipywidgets VBox (display it, or leave it as a cell's last expression).
    """
    plt = pyplot()
    w = widgets()
    act = w.Dropdown(options=list(DEPTH_ACTIVATIONS), value=activation,
                     description="activation")
    dep = w.IntSlider(value=depth, min=1, max=30, step=1, description="depth")
    ws = w.FloatLogSlider(value=weight_scale, base=10, min=-1, max=1, step=0.025,
                          description="weight scale", readout_format=".3g",
                          style={"description_width": "initial"})

    def draw(depth, activation, weight_scale):
        plot_depth_view(depth, activation, weight_scale, width)
        plt.show()

    out = w.interactive_output(draw, {"depth": dep, "activation": act, "weight_scale": ws})
    return w.VBox([w.HBox([act, dep]), ws, out])


def plot_init_std(schemes=tuple(INIT_SCHEMES), depth=20, activation="relu", width=64,
                  weight_scale=1.0, highlight=None, ax=None, rng=0):
    """Std of each hidden layer's activations against depth, one line per init scheme (log).

    highlight: a scheme drawn bold, the others faded. Every scheme sees the same input
    batch (std about 1). Returns the Axes.
    """
    plt = pyplot()
    schemes = [schemes] if isinstance(schemes, str) else list(schemes)
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 3.6))
    for i, scheme in enumerate(schemes):
        exp = depth_experiment(depth, activation, weight_scale, width, scheme,
                               gradients=False, rng=rng)
        std = np.where(exp["std"] > 0, exp["std"], np.nan)
        faded = highlight is not None and scheme != highlight
        # lecun dashed: for square layers (fan_in = fan_out) xavier_normal IS lecun_normal,
        # and the dashes let the line underneath show
        ax.plot(exp["layer"], std, marker="o", ls="--" if scheme == "lecun" else "-",
                ms=2.5 if faded else 3.5, lw=1 if faded else 2.2,
                alpha=0.35 if faded else 1.0, color=f"C{list(INIT_SCHEMES).index(scheme)}",
                label=scheme)
    ax.set_yscale("log")
    ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
    ax.set_xlabel("hidden layer")
    ax.set_ylabel("std of activations")
    scale = "" if weight_scale == 1 else f", weights × {weight_scale:.3g}"
    ax.set_title(f"{activation}, width {width}{scale}", fontsize=10)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8, title="init", title_fontsize=8)
    return ax


def plot_init_grid(depth=20, activations=("relu", "tanh"), schemes=tuple(INIT_SCHEMES),
                   width=64, weight_scale=1.0, rng=0):
    """Static twin of `init_widget`: `plot_init_std` for each activation. Returns the Figure."""
    plt = pyplot()
    activations = [activations] if isinstance(activations, str) else list(activations)
    fig, axes = plt.subplots(1, len(activations), squeeze=False,
                             figsize=(4.6 * len(activations), 3.5))
    for c, activation in enumerate(activations):
        plot_init_std(schemes, depth, activation, width, weight_scale, ax=axes[0, c], rng=rng)
    fig.tight_layout()
    return fig


def init_widget(scheme="he", depth=20, activation="relu", weight_scale=1.0, width=64):
    """Live `plot_init_std`: choose the scheme (drawn bold, the others faded for comparison),
    the depth, the activation and a multiplier of the weights.

    Returns an ipywidgets VBox.
    """
    plt = pyplot()
    w = widgets()
    sch = w.Dropdown(options=list(INIT_SCHEMES), value=scheme, description="init")
    act = w.Dropdown(options=list(DEPTH_ACTIVATIONS), value=activation,
                     description="activation")
    dep = w.IntSlider(value=depth, min=2, max=50, step=1, description="depth")
    ws = w.FloatLogSlider(value=weight_scale, base=10, min=-1, max=1, step=0.025,
                          description="weight scale", readout_format=".3g",
                          style={"description_width": "initial"})

    def draw(scheme, depth, activation, weight_scale):
        _, ax = plt.subplots(figsize=(6.5, 4))
        plot_init_std(tuple(INIT_SCHEMES), depth, activation, width, weight_scale,
                      highlight=scheme, ax=ax)
        plt.show()

    out = w.interactive_output(draw, {"scheme": sch, "depth": dep, "activation": act,
                                      "weight_scale": ws})
    return w.VBox([w.HBox([sch, act]), w.HBox([dep, ws]), out])
