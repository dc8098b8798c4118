"""Dropout rate, L2 strength and training-set size: training and validation curves on digits.

A one-hidden-layer ReLU MLP (`reg_mlp`: Linear(64, hidden) -> ReLU -> [Dropout(p)] ->
Linear(hidden, 10)) is trained with SGD (momentum 0.9) and weight decay on the L2 penalty
of its weights (`SGD(weight_decay=...)` would decay the biases too, so the gradient of
`l2_penalty(weights_only(model))` is added instead) on the first `n_train` examples of the
digits training split, and evaluated on the validation split after every epoch.
`reg_run` returns the per-epoch numbers (numpy only) and caches them, so a slider moved back
to a setting already seen redraws at once; `plot_reg_run` draws one setting (loss and
accuracy, training and validation), `reg_widget` redraws it live and `plot_reg_grid` is its
static twin (small multiples over a few settings).
"""
import functools

import numpy as np

from .. import _checks, nn
from ..losses import CrossEntropyLoss
from ..optim import SGD
from ..regularization import add_l2_grad_, weights_only
from ..train import fit
from ._mpl import pyplot, widgets

__all__ = [
    "REG_DROPOUT_RATES",
    "REG_GRID_SETTINGS",
    "REG_TRAIN_SIZES",
    "REG_WEIGHT_DECAYS",
    "plot_reg_grid",
    "plot_reg_run",
    "reg_mlp",
    "reg_run",
    "reg_widget",
]

REG_DROPOUT_RATES = (0.0, 0.1, 0.2, 0.3, 0.5, 0.7)
REG_WEIGHT_DECAYS = (0.0, 1e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1)
REG_TRAIN_SIZES = (50, 100, 200, 400, 800, 1200)
_N_CLASSES = 10


def reg_mlp(hidden=128, p=0.0, in_features=64, rng=0, dtype=np.float32):
    """Linear(in_features, hidden) -> ReLU -> Dropout(p) (left out when p = 0) ->
    Linear(hidden, 10). Input (N, in_features), output (N, 10) logits. The weights are
    drawn from `rng` in the same order for every p, so runs that differ only in p start
    from the same weights."""
    where = "reg_mlp"
    hidden = _checks.positive_int(hidden, "hidden", where)
    p = _checks.number(p, "p", where, low=0.0, high=1.0, high_inclusive=False)
    gen = np.random.default_rng(rng) if not isinstance(rng, np.random.Generator) else rng
    first = nn.Linear(in_features, hidden, rng=gen, dtype=dtype)
    last = nn.Linear(hidden, _N_CLASSES, rng=gen, dtype=dtype)
    if p == 0:
        return nn.Sequential(first, nn.ReLU(), last)
    # the masks' stream is drawn after both weights, so the weights do not depend on p
    drop = nn.Dropout(p, rng=np.random.default_rng(gen.integers(2**32)))
    return nn.Sequential(first, nn.ReLU(), drop, last)


@functools.lru_cache(maxsize=1)
def _digits():
    from ..data import load_digits

    train, val, _ = load_digits(rng=0)
    return train, val


class _L2:
    """fit's `after_backward` hook (before the step): add the L2 penalty's gradient."""

    def __init__(self, weights, weight_decay):
        self.weights, self.weight_decay = weights, weight_decay

    def __call__(self, params):
        add_l2_grad_(self.weights, self.weight_decay)


@functools.lru_cache(maxsize=512)
def _run(p, weight_decay, n_train, hidden, epochs, lr, rng):
    train, val = _digits()
    model = reg_mlp(hidden, p, rng=rng)
    penalty = _L2(weights_only(model), weight_decay) if weight_decay > 0 else None
    h = fit(model, CrossEntropyLoss(), SGD(model.parameters(), lr=lr, momentum=0.9),
            (train.X[:n_train], train.y[:n_train]), val, epochs=epochs, batch_size=32,
            after_backward=penalty, progress=False, rng=rng)
    weight_norm = float(np.sqrt(sum(float((w.data ** 2).sum()) for w in weights_only(model))))
    return {"epoch": np.arange(1, epochs + 1),
            "train_loss": np.array(h.train_loss), "val_loss": np.array(h.val_loss),
            "train_acc": np.array(h.train_acc), "val_acc": np.array(h.val_acc),
            "weight_norm": weight_norm}


def reg_run(p=0.0, weight_decay=0.0, n_train=200, hidden=128, epochs=30, lr=0.05, rng=0):
    """Train `reg_mlp(hidden, p)` with SGD(lr, momentum 0.9) plus the L2 penalty
    (weight_decay / 2)·Σ||W||² on the weights (not the biases), on the first `n_train`
    digits, for `epochs` epochs of minibatches of 32; cached by its arguments.

    Returns a dict: 'epoch' (1..epochs); 'train_loss', 'val_loss', 'train_acc', 'val_acc'
    per epoch (the model in eval mode, on the n_train examples and on the validation
    split); 'weight_norm' (the Frobenius norm of all weights after training). Treat the
    arrays as read-only (they are shared by the cache).
    """
    where = "reg_run"
    p = _checks.number(p, "p", where, low=0.0, high=1.0, high_inclusive=False)
    weight_decay = _checks.number(weight_decay, "weight_decay", where, low=0.0)
    n_train = _checks.positive_int(n_train, "n_train", where)
    available = len(_digits()[0])
    if n_train > available:
        raise ValueError(f"{where}: n_train must be at most {available} (the digits training "
                         f"split), got {n_train}")
    lr = _checks.number(lr, "lr", where, low=0.0, low_inclusive=False)
    return _run(float(p), float(weight_decay), n_train,
                _checks.positive_int(hidden, "hidden", where),
                _checks.positive_int(epochs, "epochs", where), float(lr), int(rng))


def _setting(p, weight_decay, n_train):
    return f"dropout {p:g}, L2 {weight_decay:g}, {n_train} examples"


def plot_reg_run(p=0.0, weight_decay=0.0, n_train=200, hidden=128, epochs=30, lr=0.05,
                 axes=None, metrics=("loss", "acc"), legend=True, rng=0):
    """Training (solid) and validation (dashed) curves of one `reg_run` setting: loss (log
    scale) and/or accuracy, one Axes per entry of `metrics`. Returns the list of Axes."""
    plt = pyplot()
    metrics = tuple(metrics)
    if not metrics or any(m not in ("loss", "acc") for m in metrics):
        raise ValueError(f"plot_reg_run: metrics must name 'loss' and/or 'acc', got {metrics}")
    if axes is None:
        _, axes = plt.subplots(1, len(metrics), figsize=(4.6 * len(metrics), 3.3),
                               squeeze=False)
        axes = list(axes[0])
    axes = list(np.atleast_1d(axes))
    if len(axes) != len(metrics):
        raise ValueError(f"plot_reg_run: got {len(axes)} Axes for {len(metrics)} metrics")
    r = reg_run(p, weight_decay, n_train, hidden, epochs, lr, rng)
    for ax, metric in zip(axes, metrics):
        scale = 100 if metric == "acc" else 1
        for split, ls in (("train", "-"), ("val", "--")):
            values = scale * r[f"{split}_{metric}"]
            final = (f"{values[-1]:.1f}%" if metric == "acc" else f"{values[-1]:.3g}")
            ax.plot(r["epoch"], values, ls, color="C0" if split == "train" else "C1",
                    label=f"{'training' if split == 'train' else 'validation'}: {final}")
        if metric == "loss":
            ax.set_yscale("log")
            ax.set_ylabel("loss", fontsize=8)
        else:
            ax.set_ylabel("accuracy (%)", fontsize=8)
        ax.set_xlabel("epoch", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(True, alpha=0.3)
        ax.set_title(_setting(p, weight_decay, n_train), fontsize=8)
        if legend:
            ax.legend(fontsize=7)
    return axes


REG_GRID_SETTINGS = ((0.0, 0.0), (0.5, 0.0), (0.0, 1e-2))


def plot_reg_grid(train_sizes=(100, 800), settings=REG_GRID_SETTINGS, hidden=128, epochs=30,
                  lr=0.05, rng=0):
    """Static twin of `reg_widget`: the loss curves of `plot_reg_run` for every training-set
    size (rows) and (dropout, weight decay) setting (columns), on a shared y-axis.
    Returns the Figure."""
    plt = pyplot()
    train_sizes, settings = list(train_sizes), list(settings)
    if not train_sizes or not settings:
        raise ValueError("plot_reg_grid: give at least one training-set size and one setting")
    fig, axes = plt.subplots(len(train_sizes), len(settings), squeeze=False, sharey=True,
                             figsize=(3.4 * len(settings), 2.7 * len(train_sizes) + 0.5))
    for i, n in enumerate(train_sizes):
        for j, (p, wd) in enumerate(settings):
            plot_reg_run(p, wd, n, hidden, epochs, lr, axes=[axes[i, j]], metrics=("loss",),
                         rng=rng)
    fig.suptitle(f"MLP 64-{hidden}-10 on digits, SGD: training (solid) and validation "
                 f"(dashed) loss", fontsize=10)
    fig.tight_layout()
    return fig


def reg_widget(p=0.0, weight_decay=0.0, n_train=200, hidden=128, epochs=30, lr=0.05):
    """Live `plot_reg_run`: choose the dropout rate, the L2 strength and the training-set
    size; each new setting is trained once (about a second at most) and cached.

    Returns an ipywidgets VBox.
    """
    plt = pyplot()
    w = widgets()
    style = {"description_width": "initial"}
    ps = w.SelectionSlider(options=list(REG_DROPOUT_RATES), value=p, description="dropout p",
                           style=style)
    wds = w.SelectionSlider(options=list(REG_WEIGHT_DECAYS), value=weight_decay,
                            description="L2 strength", style=style)
    ns = w.SelectionSlider(options=list(REG_TRAIN_SIZES), value=n_train,
                           description="training examples", style=style)

    def draw(p, weight_decay, n_train):
        plot_reg_run(p, weight_decay, n_train, hidden, epochs, lr)
        plt.show()

    out = w.interactive_output(draw, {"p": ps, "weight_decay": wds, "n_train": ns})
    return w.VBox([w.HBox([ps, wds]), ns, out])
