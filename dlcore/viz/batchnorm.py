"""Batch size and learning rate, with and without batch norm: training curves on digits.

A deep sigmoid MLP (`sigmoid_mlp`: `depth` blocks Linear -> [BatchNorm1d] -> Sigmoid, then
Linear(width, 10)) is trained with plain SGD on a fixed subset of the digits training set
(`n_train` examples, a multiple of every batch size offered, so no step sees a batch of one,
which batch norm cannot normalise). `bn_run` returns the per-epoch numbers (numpy only) and
caches them, so that moving a slider back to a setting already seen redraws at once;
`plot_bn_runs` draws one setting, `bn_widget` redraws it live and `plot_bn_grid` is its
static twin (small multiples over a few batch sizes and learning rates).
"""
import functools

import numpy as np

from .. import _checks, nn
from ..losses import CrossEntropyLoss
from ..optim import SGD
from ..train import TrainingDiverged, fit
from ._mpl import pyplot, widgets

__all__ = [
    "BN_BATCH_SIZES",
    "BN_LEARNING_RATES",
    "NORM_KINDS",
    "bn_run",
    "bn_widget",
    "norm_axes_mask",
    "norm_mlp",
    "plot_bn_grid",
    "plot_bn_runs",
    "plot_norm_axes",
    "sigmoid_mlp",
]

BN_BATCH_SIZES = (4, 8, 16, 32, 64, 128, 256)   # 2 trains too slowly for a live redraw
BN_LEARNING_RATES = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0)
_N_CLASSES = 10


def sigmoid_mlp(depth=6, width=32, batchnorm=False, in_features=64, init="xavier", rng=0,
                dtype=np.float32):
    """Sequential of `depth` blocks [Linear(., width), BatchNorm1d(width) if batchnorm,
    Sigmoid], then Linear(width, 10). Input (N, in_features), output (N, 10) logits.

    The Linear weights are drawn from `rng` in the same order with or without batch norm,
    so the two networks start from the same weights.
    """
    where = "sigmoid_mlp"
    depth = _checks.positive_int(depth, "depth", where)
    width = _checks.positive_int(width, "width", where)
    in_features = _checks.positive_int(in_features, "in_features", where)
    rng = np.random.default_rng(rng) if not isinstance(rng, np.random.Generator) else rng
    layers, d = [], in_features
    for _ in range(depth):
        layers.append(nn.Linear(d, width, init=init, rng=rng, dtype=dtype))
        if batchnorm:
            layers.append(nn.BatchNorm1d(width, dtype=dtype))
        layers.append(nn.Sigmoid())
        d = width
    layers.append(nn.Linear(d, _N_CLASSES, init=init, rng=rng, dtype=dtype))
    return nn.Sequential(*layers)


@functools.lru_cache(maxsize=2)
def _digits(n_train):
    from ..data import load_digits

    train, val, _ = load_digits(rng=0)
    if n_train > len(train):
        raise ValueError(f"bn_run: n_train must be at most {len(train)} (the digits training "
                         f"split), got {n_train}")
    return (train.X[:n_train], train.y[:n_train]), (val.X, val.y)


class _Keep:
    """fit callback that keeps a reference to the History, so a diverged run keeps its
    epochs so far."""

    history = None

    def on_epoch_end(self, epoch, history, model):
        self.history = history


@functools.lru_cache(maxsize=512)
def _run(batch_size, lr, batchnorm, depth, width, epochs, n_train, rng):
    train, val = _digits(n_train)
    model = sigmoid_mlp(depth, width, batchnorm, rng=rng)
    keep = _Keep()
    diverged_at = None
    with np.errstate(over="ignore", invalid="ignore"):
        try:
            fit(model, CrossEntropyLoss(), SGD(model.parameters(), lr=lr), train, val,
                epochs=epochs, batch_size=batch_size, callbacks=[keep], progress=False,
                rng=rng)
        except TrainingDiverged as exc:
            diverged_at = exc.epoch
    h = keep.history
    done = 0 if h is None else len(h)
    pad = [np.nan] * (epochs - done)
    loss = ([] if h is None else list(h.train_loss)) + pad
    acc = ([] if h is None else list(h.val_acc)) + pad
    return {"epoch": np.arange(1, epochs + 1), "train_loss": np.array(loss),
            "val_acc": np.array(acc), "diverged_at": diverged_at,
            "steps_per_epoch": -(-n_train // batch_size)}


def bn_run(batch_size=32, lr=0.1, batchnorm=True, depth=6, width=32, epochs=6, n_train=512,
           rng=0):
    """Train `sigmoid_mlp(depth, width, batchnorm)` with SGD(lr) on the first n_train digits
    for `epochs` epochs of minibatches of `batch_size`; cached by its arguments.

    Returns a dict: 'epoch' (1..epochs), 'train_loss' (on the n_train examples, eval mode)
    and 'val_acc' (on the validation split) per epoch, NaN after a divergence;
    'diverged_at' (the 0-based epoch where the loss became NaN/inf, or None);
    'steps_per_epoch'. Treat the arrays as read-only (they are shared by the cache).
    """
    where = "bn_run"
    batch_size = _checks.positive_int(batch_size, "batch_size", where)
    n_train = _checks.positive_int(n_train, "n_train", where)
    if n_train % batch_size == 1:
        raise ValueError(f"{where}: n_train = {n_train} leaves a last batch of one example "
                         f"for batch_size {batch_size}, which batch norm cannot normalise; "
                         f"choose n_train as a multiple of batch_size")
    lr = _checks.number(lr, "lr", where, low=0.0, low_inclusive=False)
    return _run(batch_size, lr, bool(batchnorm), _checks.positive_int(depth, "depth", where),
                _checks.positive_int(width, "width", where),
                _checks.positive_int(epochs, "epochs", where), n_train, int(rng))


_STYLE = {False: ("C0", "without BN"), True: ("C3", "with BN")}


def plot_bn_runs(batch_size=32, lr=0.1, depth=6, width=32, epochs=6, n_train=512, ax=None,
                 legend=True, rng=0):
    """Training loss per epoch (log scale) with and without batch norm for one setting;
    the legend gives each run's final validation accuracy. Returns the Axes."""
    plt = pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.4))
    for batchnorm in (False, True):
        r = bn_run(batch_size, lr, batchnorm, depth, width, epochs, n_train, rng)
        color, name = _STYLE[batchnorm]
        if r["diverged_at"] is not None:
            label = f"{name}: diverged in epoch {r['diverged_at'] + 1}"
        else:
            label = f"{name}: val. acc. {100 * r['val_acc'][-1]:.1f}%"
        ax.plot(r["epoch"], r["train_loss"], "o-", ms=3, color=color, label=label)
    ax.set_yscale("log")
    ax.axhline(np.log(_N_CLASSES), color="0.6", lw=0.8, ls=":")   # a uniform guess
    ax.set_xlabel("epoch", fontsize=8)
    ax.set_ylabel("training loss", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.set_title(f"batch {batch_size}, lr {lr:g}", fontsize=9)
    ax.grid(True, which="major", alpha=0.3)
    if legend:
        ax.legend(fontsize=7, loc="lower left")
    return ax


def plot_bn_grid(batch_sizes=(4, 32, 128), learning_rates=(0.1, 1.0), depth=6, width=32,
                 epochs=6, n_train=512, rng=0):
    """Static twin of `bn_widget`: `plot_bn_runs` for every learning rate (rows) and batch
    size (columns), on a shared y-axis. Returns the Figure."""
    plt = pyplot()
    batch_sizes, learning_rates = list(batch_sizes), list(learning_rates)
    if not batch_sizes or not learning_rates:
        raise ValueError("plot_bn_grid: give at least one batch size and one learning rate")
    fig, axes = plt.subplots(len(learning_rates), len(batch_sizes), squeeze=False,
                             sharey=True, figsize=(3.3 * len(batch_sizes),
                                                   2.6 * len(learning_rates) + 0.5))
    for r, lr in enumerate(learning_rates):
        for c, bs in enumerate(batch_sizes):
            plot_bn_runs(bs, lr, depth, width, epochs, n_train, ax=axes[r, c], rng=rng)
    fig.suptitle(f"{depth} sigmoid layers of width {width}, SGD on {n_train} digits: "
                 f"training loss with and without batch norm", fontsize=10)
    fig.tight_layout()
    return fig


def bn_widget(batch_size=32, lr=0.1, depth=6, width=32, epochs=6, n_train=512):
    """Live `plot_bn_runs`: choose the batch size and the learning rate; both networks
    (with and without batch norm) are trained for each new setting (cached).

    Returns an ipywidgets VBox.
    """
    plt = pyplot()
    w = widgets()
    bs = w.SelectionSlider(options=list(BN_BATCH_SIZES), value=batch_size,
                           description="batch size", style={"description_width": "initial"})
    lrs = w.SelectionSlider(options=list(BN_LEARNING_RATES), value=lr,
                            description="learning rate", style={"description_width": "initial"})

    def draw(batch_size, lr):
        _, ax = plt.subplots(figsize=(6, 3.8))
        plot_bn_runs(batch_size, lr, depth, width, epochs, n_train, ax=ax)
        plt.show()

    out = w.interactive_output(draw, {"batch_size": bs, "lr": lrs})
    return w.VBox([w.HBox([bs, lrs]), out])


# ---------------------------------------------------------------- normalising without the batch

NORM_KINDS = ("batch", "layer", "instance", "group")


def norm_mlp(norm=None, depth=2, width=64, num_groups=8, in_features=64, rng=0,
             dtype=np.float32):
    """Sequential of `depth` blocks [Linear(., width), norm layer, ReLU], then
    Linear(width, 10). norm: None, "batch" (BatchNorm1d), "layer" (LayerNorm(width)) or
    "group" (GroupNorm(num_groups, width)); a normalised block's Linear has no bias (the
    norm's beta takes its place). The Linear weights depend only on `rng` (an int), so the
    variants start from the same weights. Input (N, in_features), output (N, 10) logits."""
    if norm not in (None, "batch", "layer", "group"):
        raise ValueError(f"norm_mlp: norm must be None, 'batch', 'layer' or 'group', "
                         f"got {norm!r}")
    make = {None: None,
            "batch": lambda: nn.BatchNorm1d(width, dtype=dtype),
            "layer": lambda: nn.LayerNorm(width, dtype=dtype),
            "group": lambda: nn.GroupNorm(num_groups, width, dtype=dtype)}[norm]
    layers, d = [], in_features
    for i in range(depth):
        layers.append(nn.Linear(d, width, bias=norm is None, rng=1000 * rng + i, dtype=dtype))
        if make is not None:
            layers.append(make())
        layers.append(nn.ReLU())
        d = width
    layers.append(nn.Linear(d, _N_CLASSES, rng=1000 * rng + depth, init="xavier", dtype=dtype))
    return nn.Sequential(*layers)


def norm_axes_mask(kind, shape=(4, 6, 5), num_groups=3):
    """Boolean (N, C, HW) mask of the values ONE statistic (one mean, one variance) is taken
    over, for the first sample, channel or group: batch norm (one channel, all samples and
    pixels), layer norm (one sample, all channels and pixels), instance norm (one sample,
    one channel) or group norm (one sample, the C / num_groups channels of a group)."""
    C = shape[1]
    mask = np.zeros(shape, dtype=bool)
    if kind == "batch":
        mask[:, 0, :] = True
    elif kind == "layer":
        mask[0, :, :] = True
    elif kind == "instance":
        mask[0, 0, :] = True
    elif kind == "group":
        mask[0, : C // num_groups, :] = True
    else:
        raise ValueError(f"norm_axes_mask: kind must be one of {NORM_KINDS}, got {kind!r}")
    return mask


def plot_norm_axes(shape=(4, 6, 5), num_groups=3):
    """Four cubes (Wu & He, 2018, Figure 2): a batch of activations with axes N (samples),
    C (channels) and H, W (pixels, flattened to one axis); the blue cells are the values
    that one mean and one variance are computed over, for batch, layer, instance and group
    norm. Returns the Figure."""
    plt = pyplot()
    fig = plt.figure(figsize=(11, 3.3))
    titles = {"batch": "batch norm", "layer": "layer norm", "instance": "instance norm",
              "group": f"group norm ({num_groups} groups)"}
    for i, kind in enumerate(NORM_KINDS):
        ax = fig.add_subplot(1, 4, i + 1, projection="3d")
        mask = norm_axes_mask(kind, shape, num_groups)
        # voxel axes: x = C, y = N, z = H,W
        filled = np.ones(shape, dtype=bool).transpose(1, 0, 2)
        colors = np.where(mask.transpose(1, 0, 2)[..., None],
                          np.array([0.12, 0.47, 0.71, 0.9]), np.array([0.9, 0.9, 0.9, 0.25]))
        ax.voxels(filled, facecolors=colors, edgecolor=(0.4, 0.4, 0.4, 0.3), linewidth=0.3)
        ax.set_xlabel("C (channels)", labelpad=-10, fontsize=8)
        ax.set_ylabel("N (samples)", labelpad=-10, fontsize=8)
        ax.set_zlabel("H, W (pixels)", labelpad=-10, fontsize=8)
        ax.set_xticks([]), ax.set_yticks([]), ax.set_zticks([])
        ax.set_box_aspect(tuple(np.array(shape)[[1, 0, 2]]))
        ax.view_init(elev=22, azim=-50)
        ax.set_title(titles[kind], fontsize=10)
    fig.subplots_adjust(left=0.0, right=1.0, bottom=0.02, top=0.92, wspace=0.05)
    return fig
