"""Reusing the lower layers of a network trained on the digits 0-4 for the digits 5-9:
the tasks, the pretrained weights, one training run per regime, and chapter 11's widget
and its static twin.

Sources: "0-4" (the default) pretrains on the digits 0-4 and hands its layers to the
digits 5-9; "0-9" is a closer source: it pretrains on all ten digits (the 0-4 training
images and half of the 5-9 ones), and the target then draws its few labelled images from
the other half, so the two never share an image (`closer_tasks`).

Regimes: "scratch" (fresh weights everywhere), "fine-tuned" (the lower `reuse` hidden
layers start from the source network's weights, everything trains), "frozen" (those
layers start from the source weights and stay fixed; the layers above train). The
network is 64 -> 128 -> 128 -> 5 with ReLU, trained with Adam for a fixed number of
optimiser steps (so that 5 and 500 training images get the same number of updates).
"""
import functools
import math

import numpy as np

from .. import nn
from ..data import Split, load_digits
from ..losses import CrossEntropyLoss
from ..optim import Adam
from ..train import evaluate, fit
from ._mpl import pyplot, widgets
from .frames import Control, register_frames

__all__ = [
    "REGIMES",
    "SOURCES",
    "TRANSFER_SIZES",
    "closer_tasks",
    "digit_tasks",
    "plot_transfer_grid",
    "plot_transfer_run",
    "pretrained_state",
    "target_subset",
    "transfer_mlp",
    "transfer_run",
    "transfer_trial",
    "transfer_widget",
]

HIDDEN = 128
REGIMES = ("scratch", "fine-tuned", "frozen")
SOURCES = ("0-4", "0-9")
TRANSFER_SIZES = (1, 3, 10, 30, 100)   # training images per class of the target task


@functools.lru_cache(maxsize=1)
def digit_tasks():
    """{"source": (train, val, test), "target": (train, val, test)}: the splits of
    `load_digits()` restricted to the digits 0-4 (source) and 5-9 (target, labels shifted
    to 0-4 so that both tasks have 5 classes)."""
    splits = load_digits()

    def part(split, first):
        keep = (split.y >= first) & (split.y < first + 5)
        return Split(split.X[keep], split.y[keep] - first)

    return {"source": tuple(part(s, 0) for s in splits),
            "target": tuple(part(s, 5) for s in splits)}


@functools.lru_cache(maxsize=1)
def closer_tasks():
    """The "0-9" source and its target: {"source": Split, "target": (train, val, test)}.

    The training images of the digits 5-9 are split at random (seeded) into two halves:
    the source trains on the 0-4 training images and one half (labels 0-9); the target's
    training pool is the other half (labels shifted to 0-4). Validation and test images
    are those of `digit_tasks()["target"]`, so scores compare with the "0-4" source's."""
    train = load_digits()[0]
    fives = np.random.default_rng(0).permutation(np.flatnonzero(train.y >= 5))
    pool, seen = np.sort(fives[:len(fives) // 2]), fives[len(fives) // 2:]
    source = np.sort(np.concatenate([np.flatnonzero(train.y < 5), seen]))
    _, val, test = digit_tasks()["target"]
    return {"source": Split(train.X[source], train.y[source]),
            "target": (Split(train.X[pool], train.y[pool] - 5), val, test)}


def _tasks(source):
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, got {source!r}")
    if source == "0-4":
        return digit_tasks()["source"][0], 5, digit_tasks()["target"]
    return closer_tasks()["source"], 10, closer_tasks()["target"]


def transfer_mlp(rng=None, hidden=HIDDEN, classes=5):
    """Sequential(Linear(64, h), ReLU, Linear(h, h), ReLU, Linear(h, classes)): its hidden
    layers are modules 0 and 2, the head is module 4."""
    return nn.Sequential(nn.Linear(64, hidden, rng=rng), nn.ReLU(),
                         nn.Linear(hidden, hidden, rng=rng), nn.ReLU(),
                         nn.Linear(hidden, classes, rng=rng))


def pretrained_state(epochs=20, seed=0, source="0-4"):
    """The state dict of `transfer_mlp` trained on the source task (all its training
    images, Adam at 1e-3, batches of 32; a 10-class head for the "0-9" source). Cached:
    computed once per process."""
    return _pretrained(int(epochs), int(seed), source)


@functools.lru_cache(maxsize=4)
def _pretrained(epochs, seed, source):
    source_train, classes, _ = _tasks(source)
    model = transfer_mlp(rng=seed, classes=classes)
    fit(model, CrossEntropyLoss(), Adam(model.parameters(), lr=1e-3), source_train,
        epochs=epochs, progress=False, rng=seed)
    return model.state_dict()


def target_subset(train, n_per_class, seed):
    """The first `n_per_class` images of each class of `train` after a seeded shuffle;
    returns a Split (all of a class when it has fewer)."""
    order = np.random.default_rng(seed).permutation(len(train.y))
    picked = np.concatenate([order[train.y[order] == c][:n_per_class]
                             for c in np.unique(train.y)])
    return Split(train.X[picked], train.y[picked])


def transfer_run(regime, n_per_class, lr, seed, reuse=2, steps=100, batch_size=50,
                 state=None, curve=False, source="0-4"):
    """Train on n_per_class target images per class in one regime; return the metrics.

    regime: "scratch", "fine-tuned" or "frozen"; reuse: how many hidden layers (1 or 2,
    from the bottom) come from `state` (default `pretrained_state(source=source)`); steps:
    optimiser steps (rounded up to whole epochs); source: "0-4" or "0-9", which also picks
    the target's training pool (all 5-9 training images, or the half that the "0-9"
    source never saw), so scratch runs compare with the transferred ones. The seed draws
    the training images, so runs with the same seed in two regimes see the same images.
    Returns {"val_acc", "test_acc", "trainable", "n_train"} and,
    with curve=True, "steps" and "val_curve" (validation accuracy after each epoch).
    """
    if regime not in REGIMES:
        raise ValueError(f"transfer_run: regime must be one of {REGIMES}, got {regime!r}")
    if reuse not in (1, 2):
        raise ValueError(f"transfer_run: reuse must be 1 or 2 hidden layers, got {reuse!r}")
    _, _, (train, val, test) = _tasks(source)
    data = target_subset(train, n_per_class, seed)
    model = transfer_mlp(rng=1000 + seed)
    if regime != "scratch":
        state = pretrained_state(source=source) if state is None else state
        reused = [2 * i for i in range(reuse)]             # modules 0 (and 2)
        model.load_state_dict({k: v for k, v in state.items()
                               if int(k.split(".")[0]) in reused}, strict=False)
        if regime == "frozen":
            for i in reused:
                model[i].freeze()
    loss = CrossEntropyLoss()
    steps_per_epoch = math.ceil(len(data) / batch_size)
    epochs = math.ceil(steps / steps_per_epoch)
    history = fit(model, loss, Adam(model.parameters(), lr=lr), data,
                  val=(val.X, val.y) if curve else None, epochs=epochs,
                  batch_size=batch_size, progress=False, rng=seed)
    out = {"val_acc": evaluate(model, loss, val.X, val.y)[1],
           "test_acc": evaluate(model, loss, test.X, test.y)[1],
           "trainable": sum(p.data.size for p in model.parameters() if p.requires_grad),
           "n_train": len(data)}
    if curve:
        out["steps"] = [(e + 1) * steps_per_epoch for e in history.epochs]
        out["val_curve"] = list(history.val_acc)
    return out


def transfer_trial(config, seed):
    """`transfer_run(**config, seed=seed)` in the form `dlcore.search.run_trials` calls, so
    that a grid of regimes, sizes and learning rates can run in worker processes."""
    return transfer_run(seed=seed, **config)


def plot_transfer_run(n_per_class=10, reuse=2, lr=3e-3, seeds=(0, 1, 2), steps=100, ax=None,
                      source="0-4"):
    """Validation accuracy on the digits 5-9 against optimiser steps, one line per regime
    (mean over `seeds`, the band min to max), layers reused from the `source` network
    ("0-4" or "0-9", see `transfer_run`). Returns the Figure."""
    plt = pyplot()
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 3.6))
    else:
        fig = ax.figure
    for k, regime in enumerate(REGIMES):
        runs = [transfer_run(regime, n_per_class, lr, s, reuse, steps, curve=True,
                             source=source) for s in seeds]
        x = runs[0]["steps"]
        acc = 100 * np.array([r["val_curve"] for r in runs])
        label = regime if regime == "scratch" else f"{regime} ({reuse} layer{'s' * (reuse > 1)})"
        ax.plot(x, acc.mean(axis=0), color=f"C{k}", lw=2, label=label)
        ax.fill_between(x, acc.min(axis=0), acc.max(axis=0), color=f"C{k}", alpha=0.15)
    ax.set_xlabel("optimiser steps")
    ax.set_ylabel("validation accuracy (%)")
    ax.set_ylim(0, 100)
    ax.grid(True, alpha=0.3)
    # the "0-9" source's pool holds about 60 images per class, so 100 per class takes them all
    ax.set_title(f"{source} source -> 5-9, {runs[0]['n_train']} training images, lr {lr:g}",
                 fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    return fig


def plot_transfer_grid(sizes=(1, 10, 100), reuse=2, lr=3e-3, seeds=(0, 1, 2)):
    """Static twin of `transfer_widget`: one `plot_transfer_run` per training-set size."""
    plt = pyplot()
    if not sizes:
        raise ValueError("plot_transfer_grid: give at least one size")
    fig, axes = plt.subplots(1, len(sizes), figsize=(3.6 * len(sizes), 3.4), squeeze=False,
                             sharey=True)
    for j, n in enumerate(sizes):
        plot_transfer_run(n, reuse, lr, seeds, ax=axes[0, j])
        axes[0, j].set_title(f"{n} per class", fontsize=10)
        if j:
            axes[0, j].set_ylabel("")
            axes[0, j].get_legend().remove()
    fig.tight_layout()
    return fig


def transfer_widget(n_per_class=10, reuse=2, lr=3e-3, source="0-4"):
    """Live `plot_transfer_run`: training images per class, how many hidden layers are
    reused, the learning rate and the source network (each change trains 3 regimes x 3
    seeds)."""
    plt = pyplot()
    w = widgets()
    ns = w.SelectionSlider(options=list(TRANSFER_SIZES), value=n_per_class,
                           description="per class")
    rs = w.ToggleButtons(options=[1, 2], value=reuse, description="reused layers")
    lrs = w.SelectionSlider(options=[1e-3, 3e-3, 1e-2], value=lr, description="lr")
    srcs = w.ToggleButtons(options=list(SOURCES), value=source, description="source")

    def draw(n_per_class, reuse, lr, source):
        plot_transfer_run(n_per_class, reuse, lr, source=source)
        plt.show()

    out = w.interactive_output(draw, {"n_per_class": ns, "reuse": rs, "lr": lrs,
                                      "source": srcs})
    return w.VBox([w.HBox([ns, rs, lrs, srcs]), out])


# -- kernel-free frames for the HTML book (dlcore.viz.frames) ------------------------------

@register_frames("transfer_widget", alt="Validation accuracy on the digits 5-9 against "
                 "optimiser steps, trained from scratch, fine-tuned from a 0-4 network, and "
                 "with its reused layers frozen, for one training-set size.",
                 controls=[Control("n_per_class", TRANSFER_SIZES, "per class", fmt="{:d}"),
                           Control("reuse", (1, 2), "reused layers", kind="select")])
def _transfer_frames(lr=3e-3):
    def render(n_per_class, reuse):
        return plot_transfer_run(n_per_class, reuse, lr)

    return render
