"""Training curves: loss and accuracy per epoch."""
import numpy as np

from ._mpl import pyplot

__all__ = ["plot_training_curves"]


def _series(values, name):
    a = np.asarray(values, dtype=np.float64)
    if a.ndim != 1 or a.size == 0:
        raise ValueError(f"plot_training_curves: {name} must be a non-empty 1-D sequence, "
                         f"got shape {a.shape}")
    return a


def plot_training_curves(train_loss, val_accuracy=None, train_accuracy=None, title=None):
    """Training loss (left) and accuracies (right) against the epoch, 1-based.

    train_loss: per-epoch mean training loss; val_accuracy / train_accuracy: optional
    per-epoch accuracies in [0, 1], same length. Returns the Figure (1 or 2 Axes).
    """
    plt = pyplot()
    loss = _series(train_loss, "train_loss")
    accs = {k: _series(v, k) for k, v in
            (("val_accuracy", val_accuracy), ("train_accuracy", train_accuracy)) if v is not None}
    for k, v in accs.items():
        if v.size != loss.size:
            raise ValueError(f"plot_training_curves: {k} has {v.size} values but train_loss has "
                             f"{loss.size}; give one value per epoch for each")
    epochs = np.arange(1, loss.size + 1)
    fig, axes = plt.subplots(1, 2 if accs else 1, figsize=(9 if accs else 4.5, 3.2),
                             squeeze=False)
    ax = axes[0, 0]
    ax.plot(epochs, loss, "o-", ms=3, color="C0")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss")
    ax.grid(True, alpha=0.3)
    if accs:
        ax = axes[0, 1]
        labels = {"train_accuracy": ("training", "C1"), "val_accuracy": ("validation", "C2")}
        for k, v in accs.items():
            label, color = labels[k]
            ax.plot(epochs, 100 * v, "o-", ms=3, color=color, label=label)
        ax.set_xlabel("epoch")
        ax.set_ylabel("accuracy (%)")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig
