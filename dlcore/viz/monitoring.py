"""Plots for watching a training run: loss curves and update/weight ratios per layer.

The numbers come from `dlcore.diagnostics` (`weight_snapshot` / `update_ratios`) and from
the losses a training loop records; histograms of activations and gradients per layer are
`dlcore.viz.activations.plot_activation_histograms`.
"""
import numpy as np

from ._mpl import pyplot

__all__ = ["plot_loss_curves", "plot_update_ratios"]


def _series(values, name, where):
    a = np.asarray(values, dtype=np.float64)
    if a.ndim != 1 or a.size == 0:
        raise ValueError(f"{where}: {name} must be a non-empty 1-D sequence of numbers, "
                         f"got shape {a.shape}")
    return a


def plot_loss_curves(curves, ax=None, cap=1e6, reference=None):
    """Training loss against step, one line per entry of `curves`, on a log axis.

    curves: {label: 1-D sequence of losses, one per step}. Losses above `cap`, and infinite
    or NaN ones, are drawn at `cap` so that a run that blew up stays visible at the top.
    reference: an optional loss drawn as a dotted line (e.g. ln 10 for guessing among ten
    classes). Returns the Axes.
    """
    where = "plot_loss_curves"
    if not isinstance(curves, dict) or not curves:
        raise ValueError(f"{where}: curves must be a non-empty dict {{label: losses per step}}")
    if not cap > 0:
        raise ValueError(f"{where}: cap must be > 0 for a log axis, got {cap}")
    plt = pyplot()
    own = ax is None
    if own:
        _, ax = plt.subplots(figsize=(5, 3.4))
    for label, losses in curves.items():
        a = _series(losses, f"curves[{label!r}]", where)
        shown = np.where(np.isfinite(a), np.minimum(a, cap), cap)
        ax.semilogy(np.arange(1, a.size + 1), shown, lw=1.0, label=str(label))
    if reference is not None:
        ax.axhline(reference, color="0.4", ls=":", lw=1.0)
    ax.set_xlabel("step (one minibatch)")
    ax.set_ylabel(f"training loss (capped at {cap:.0e})")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=7)
    if own:
        ax.figure.tight_layout()
    return ax


def plot_update_ratios(ratios, names=None, ax=None, target=1e-3):
    """Update/weight ratio of every layer against step, on a log axis.

    ratios: array-like (steps, layers), row t the ratios of `update_ratios` after step t.
    names: one label per layer (default "layer 1", ...). Zeros (a layer that did not move)
    and non-finite values are left out of the log axis. target: the rule-of-thumb ratio
    drawn as a dashed line (None for none). Returns the Axes.
    """
    where = "plot_update_ratios"
    r = np.asarray(ratios, dtype=np.float64)
    if r.ndim != 2 or r.size == 0:
        raise ValueError(f"{where}: ratios must be a (steps, layers) array, got shape {r.shape}")
    names = [f"layer {i + 1}" for i in range(r.shape[1])] if names is None else list(names)
    if len(names) != r.shape[1]:
        raise ValueError(f"{where}: {len(names)} names for {r.shape[1]} layers")
    plt = pyplot()
    own = ax is None
    if own:
        _, ax = plt.subplots(figsize=(5, 3.4))
    steps = np.arange(1, r.shape[0] + 1)
    for j, name in enumerate(names):
        col = r[:, j]
        ax.semilogy(steps, np.where(np.isfinite(col) & (col > 0), col, np.nan), lw=1.0,
                    label=name)
    if target is not None:
        ax.axhline(target, color="k", ls="--", lw=0.8, label=f"rule of thumb {target:g}")
    ax.set_xlabel("step (one minibatch)")
    ax.set_ylabel("‖ΔW‖ / ‖W‖")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=7)
    if own:
        ax.figure.tight_layout()
    return ax
