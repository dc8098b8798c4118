"""Chapter 4's figures on the shape of a network's loss: the loss along straight lines in
weight space, and the eigenvalues of a Hessian at a critical point.

Both take numbers the chapter has computed and only draw them.
"""
import numpy as np

from ._mpl import pyplot

__all__ = ["plot_hessian_spectrum", "plot_loss_along_lines"]


def plot_loss_along_lines(panels, figsize=(10, 3.4)):
    """One axes per panel: loss against the position on a line between two weight vectors.

    panels: list of dicts with keys "alpha" (1-D array, the position: 0 is the line's start,
            1 its end), "curves" (dict label -> 1-D array of losses, same length as alpha),
            "title" (str) and "xlabel" (str). Returns the matplotlib Figure.
    """
    plt = pyplot()
    fig, axes = plt.subplots(1, len(panels), figsize=figsize, squeeze=False)
    for ax, panel in zip(axes[0], panels):
        for i, (label, loss) in enumerate(panel["curves"].items()):
            ax.plot(panel["alpha"], loss, "-o", ms=2.5, lw=1.2, color=f"C{i}", label=label)
        for end in (0.0, 1.0):
            ax.axvline(end, color="0.6", lw=0.8, ls=":")
        ax.set_xlabel(panel["xlabel"])
        ax.set_ylabel("cross-entropy loss")
        ax.set_title(panel["title"], fontsize=10)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_hessian_spectrum(spectra, zero_tol=1e-6, figsize=(10, 3.2)):
    """Sorted Hessian eigenvalues, one axes per spectrum.

    spectra: dict title -> 1-D array of eigenvalues (any order). Each panel plots the
    eigenvalues in increasing order against their rank on a symmetric-log axis, so that
    values near zero and the largest ones are both visible: negative ones in red, positive
    ones in blue, and in grey those within zero_tol * max|lambda| of zero (a finite-difference
    Hessian gives exact zeros as rounding noise of either sign). Returns the matplotlib Figure.
    """
    plt = pyplot()
    fig, axes = plt.subplots(1, len(spectra), figsize=figsize, squeeze=False)
    for ax, (title, eigenvalues) in zip(axes[0], spectra.items()):
        ev = np.sort(np.asarray(eigenvalues, dtype=float))
        rank = np.arange(1, ev.size + 1)
        zero = np.abs(ev) <= zero_tol * np.abs(ev).max()
        for keep, color, label in ((~zero & (ev < 0), "C3", "λ < 0"), (zero, "0.6", "λ ≈ 0"),
                                   (~zero & (ev > 0), "C0", "λ > 0")):
            ax.scatter(rank[keep], np.where(zero[keep], 0.0, ev[keep]), s=4, color=color,
                       label=label)
        ax.set_yscale("symlog", linthresh=1e-4)
        ax.axhline(0.0, color="0.4", lw=0.8)
        ax.set_xlabel("rank of the eigenvalue (increasing)")
        ax.set_ylabel("Hessian eigenvalue λ")
        ax.set_title(title, fontsize=10)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig
