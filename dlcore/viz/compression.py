"""Sparsity x bits: the size and the accuracy of a pruned and quantised digits MLP.

`digits_mlp` builds the chapter's network (64-256-128-10, ReLU) and `train_digits_mlp` trains
it with Adam and an optional L1 penalty on its weights. `compression_sweep` takes a trained
model and, for every sparsity of a grid, prunes a copy by magnitude (one global threshold,
no fine-tuning), then quantises its weights with k-means for every number of bits (32 means
"left as float32"), and records the validation accuracy and the size in bits (sparse storage
with 5-bit relative indices, Huffman-coded codes and indices, biases dense). The sweep is
numpy only and cached, so `plot_compression(sparsity, bits)` draws a view at once;
`compression_widget` moves through the grid live and `plot_compression_grid` is its static
twin.
"""
import copy
import functools

import numpy as np

from .. import _checks, compress, nn
from ..losses import CrossEntropyLoss
from ..optim import Adam
from ..regularization import add_l1_grad_, weights_only
from ..train import evaluate, fit
from ._mpl import pyplot, widgets
from .frames import Control, register_frames

__all__ = [
    "COMPRESSION_BITS",
    "COMPRESSION_SPARSITIES",
    "compression_sweep",
    "compression_widget",
    "default_compression_sweep",
    "digits_mlp",
    "plot_compression",
    "plot_compression_grid",
    "train_digits_mlp",
]

COMPRESSION_SPARSITIES = (0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98)
COMPRESSION_BITS = (1, 2, 3, 4, 5, 6, 8, 32)
_INDEX_BITS = 5


def digits_mlp(rng=0, hidden=(256, 128), batchnorm=False, dtype=np.float32):
    """Linear(64, h1) [-> BatchNorm1d] -> ReLU -> Linear(h1, h2) [-> BatchNorm1d] -> ReLU ->
    Linear(h2, 10). Input (N, 64) digits, output (N, 10) logits; He-initialised weights drawn
    in layer order from one seeded stream."""
    gen = np.random.default_rng(rng) if not isinstance(rng, np.random.Generator) else rng
    layers, fan_in = [], 64
    for h in hidden:
        layers.append(nn.Linear(fan_in, _checks.positive_int(h, "hidden", "digits_mlp"),
                                rng=gen, dtype=dtype))
        if batchnorm:
            layers.append(nn.BatchNorm1d(h, dtype=dtype))
        layers.append(nn.ReLU())
        fan_in = h
    layers.append(nn.Linear(fan_in, 10, rng=gen, dtype=dtype))
    return nn.Sequential(*layers)


class _L1:
    """fit's after_backward hook: add the L1 penalty's gradient."""

    def __init__(self, weights, strength):
        self.weights, self.strength = weights, strength

    def __call__(self, params):
        add_l1_grad_(self.weights, self.strength)


def train_digits_mlp(train, val=None, rng=0, l1=0.0, epochs=20, lr=1e-3, batchnorm=False):
    """`digits_mlp(rng)` trained with Adam(lr) for `epochs` epochs of 32 examples (shuffled
    with `rng`), plus the L1 penalty l1 * sum|W| on the weights (not the biases).
    Returns (model, History)."""
    l1 = _checks.number(l1, "l1", "train_digits_mlp", low=0.0)
    model = digits_mlp(rng, batchnorm=batchnorm)
    penalty = _L1(weights_only(model), l1) if l1 > 0 else None
    history = fit(model, CrossEntropyLoss(), Adam(model.parameters(), lr=lr), train, val,
                  epochs=epochs, batch_size=32, after_backward=penalty, progress=False, rng=rng,
                  drop_last=batchnorm)
    return model, history


def _quantized_copy(model, sparsity, bits):
    """A copy of `model` pruned to `sparsity` (global) and quantised to `bits` (k-means),
    and its size in bits."""
    small = copy.deepcopy(model)
    if sparsity > 0:
        compress.Pruner(small, sparsity, scope="global")
    index_bits = _INDEX_BITS if sparsity > 0 else None
    if bits >= 32:
        return small, compress.model_size(small, index_bits=index_bits, huffman=False)[0]
    sharing = compress.WeightSharing(small, bits)
    return small, compress.model_size(small, sharing, index_bits=index_bits, huffman=True)[0]


def compression_sweep(model, X, y, sparsities=COMPRESSION_SPARSITIES, bits=COMPRESSION_BITS):
    """Accuracy on (X, y) and size for every (sparsity, bits) pair, without fine-tuning.

    Returns a dict: 'sparsities', 'bits' (the grid), 'acc' and 'size_bits' (arrays of shape
    (len(sparsities), len(bits))), 'dense_bits' (the float32 model's size) and
    'dense_acc'. Pruning is global magnitude pruning of the weights; bits = 32 leaves the
    kept weights as floats; sizes are those of `compress.model_size` (5-bit relative
    indices when sparsity > 0, Huffman coding when quantised).
    """
    sparsities, bits = tuple(float(s) for s in sparsities), tuple(int(b) for b in bits)
    acc = np.zeros((len(sparsities), len(bits)))
    size = np.zeros_like(acc)
    loss = CrossEntropyLoss()
    for i, s in enumerate(sparsities):
        for j, b in enumerate(bits):
            small, size[i, j] = _quantized_copy(model, s, b)
            acc[i, j] = evaluate(small, loss, X, y)[1]
    dense_bits = compress.model_size(model)[0]
    return {"sparsities": sparsities, "bits": bits, "acc": acc, "size_bits": size,
            "dense_bits": dense_bits, "dense_acc": evaluate(model, loss, X, y)[1]}


@functools.lru_cache(maxsize=4)
def _default_sweep(l1, rng):
    from ..data import load_digits

    train, val, _ = load_digits(rng=0)
    model, _ = train_digits_mlp(train, rng=rng, l1=l1)
    return compression_sweep(model, val.X, val.y)


def default_compression_sweep(l1=1e-3, rng=0):
    """`compression_sweep` of `train_digits_mlp(rng=rng, l1=l1)` (trained on the digits
    training split of `load_digits(rng=0)`) on the validation split; cached, so the widget,
    its frames and the static twin share one computation. Treat it as read-only."""
    l1 = _checks.number(l1, "l1", "default_compression_sweep", low=0.0)
    return _default_sweep(float(l1), int(rng))


def _index(options, value, name):
    for k, v in enumerate(options):
        if np.isclose(v, value):
            return k
    raise ValueError(f"plot_compression: {name} must be one of {list(options)}, got {value!r}")


def plot_compression(sparsity=0.9, bits=5, l1=1e-3, sweep=None, axes=None):
    """One view of the sweep: validation accuracy against the number of bits, one curve per
    sparsity (left), and accuracy against the compression ratio for every setting (right),
    with the chosen (sparsity, bits) marked. sweep: a `compression_sweep` result (default:
    `default_compression_sweep(l1)`, the chapter's network trained with that L1 strength).
    Returns the Figure."""
    plt = pyplot()
    sweep = default_compression_sweep(l1) if sweep is None else sweep
    i = _index(sweep["sparsities"], sparsity, "sparsity")
    j = _index(sweep["bits"], bits, "bits")
    acc, ratio = 100 * sweep["acc"], sweep["dense_bits"] / sweep["size_bits"]
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(9.5, 3.4))
    ax_bits, ax_size = axes
    fig = ax_bits.figure
    x = np.arange(len(sweep["bits"]))
    cmap = plt.get_cmap("viridis")
    for k, s in enumerate(sweep["sparsities"]):
        color = cmap(k / max(len(sweep["sparsities"]) - 1, 1))
        lw = 2.2 if k == i else 1.0
        ax_bits.plot(x, acc[k], "o-", ms=3, lw=lw, color=color, label=f"{100 * s:g}%")
        ax_size.plot(ratio[k], acc[k], "o-", ms=3, lw=lw, color=color)
    ax_bits.plot(x[j], acc[i, j], "o", ms=11, mfc="none", mec="red", mew=2)
    ax_size.plot(ratio[i, j], acc[i, j], "o", ms=11, mfc="none", mec="red", mew=2)
    ax_bits.set_xticks(x, [str(b) if b < 32 else "float" for b in sweep["bits"]])
    ax_bits.set_xlabel("bits per weight (k-means codebook)", fontsize=8)
    ax_bits.legend(title="sparsity", fontsize=6, title_fontsize=7, ncol=2)
    ax_size.set_xscale("log")
    ax_size.set_xlabel("compression ratio (dense float32 size / size)", fontsize=8)
    for ax in axes:
        ax.set_ylabel("validation accuracy (%)", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(True, alpha=0.3)
    kb = sweep["size_bits"][i, j] / 8 / 1024
    stored = f"{bits} bits" if bits < 32 else "float32"
    ax_size.set_title(f"sparsity {100 * sparsity:g}%, {stored}: "
                      f"{kb:.1f} KiB, {ratio[i, j]:.1f}x smaller, {acc[i, j]:.1f}%",
                      fontsize=8)
    ax_bits.set_title(f"no fine-tuning; dense float32: {100 * sweep['dense_acc']:.1f}%",
                      fontsize=8)
    fig.tight_layout()
    return fig


COMPRESSION_GRID_VIEWS = ((0.0, 32), (0.9, 32), (0.9, 5), (0.95, 3))


def plot_compression_grid(views=COMPRESSION_GRID_VIEWS, l1=1e-3, sweep=None):
    """Static twin of `compression_widget`: `plot_compression` for each (sparsity, bits)
    of `views`, one row each. Returns the Figure."""
    plt = pyplot()
    views = list(views)
    if not views:
        raise ValueError("plot_compression_grid: give at least one (sparsity, bits) view")
    fig, axes = plt.subplots(len(views), 2, figsize=(9.5, 3.0 * len(views)), squeeze=False)
    for row, (s, b) in zip(axes, views):
        plot_compression(s, b, l1, sweep=sweep, axes=row)
    fig.tight_layout()
    return fig


def compression_widget(sparsity=0.9, bits=5, l1=1e-3, sweep=None):
    """Live `plot_compression`: two sliders (sparsity, bits) over the precomputed sweep
    (default: `default_compression_sweep(l1)`), so a move only redraws. Returns an
    ipywidgets VBox."""
    plt = pyplot()
    w = widgets()
    sweep = default_compression_sweep(l1) if sweep is None else sweep
    style = {"description_width": "initial"}
    ss = w.SelectionSlider(options=[(f"{100 * s:g}%", s) for s in sweep["sparsities"]],
                           value=sweep["sparsities"][_index(sweep["sparsities"], sparsity,
                                                            "sparsity")],
                           description="sparsity", style=style)
    bs = w.SelectionSlider(options=[(str(b) if b < 32 else "float", b) for b in sweep["bits"]],
                           value=bits, description="bits per weight", style=style)

    def draw(sparsity, bits):
        plot_compression(sparsity, bits, sweep=sweep)
        plt.show()

    out = w.interactive_output(draw, {"sparsity": ss, "bits": bs})
    return w.VBox([w.HBox([ss, bs]), out])


# -- kernel-free frames for the HTML book (dlcore.viz.frames) ------------------------------

@register_frames("compression_widget", alt="Validation accuracy of the digits network pruned "
                 "to one sparsity and quantised with k-means to one number of bits, without "
                 "fine-tuning: against the bits (left) and the compression ratio (right).",
                 controls=[Control("sparsity", (0.0, 0.9, 0.95, 0.98), "sparsity",
                                   fmt="{:.0%}"),
                           Control("bits", (1, 2, 5, 32), "bits per weight (32: float)",
                                   fmt="{:d}")])
def _compression_frames(l1=1e-3):
    def render(sparsity, bits):
        return plot_compression(sparsity, bits, l1)

    return render
