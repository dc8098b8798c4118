"""Regression losses as functions of one residual r = prediction - target, and their
gradients, for chapter 9's widget and its static twin.

`loss_curves` returns the numbers (computed with `dlcore.losses`, numpy only); the `plot_*`
functions and `loss_widget` draw them.
"""
import numpy as np

from ..losses import HuberLoss, L1Loss, LogCoshLoss, MSELoss
from ._mpl import pyplot, widgets

__all__ = [
    "REGRESSION_LOSSES",
    "loss_curves",
    "loss_widget",
    "plot_loss_curves",
    "plot_loss_grid",
]

# legend label -> factory taking delta (only Huber uses it)
REGRESSION_LOSSES = {
    "MSE": lambda delta: MSELoss(),
    "MAE": lambda delta: L1Loss(),
    "Huber": lambda delta: HuberLoss(delta),
    "log-cosh": lambda delta: LogCoshLoss(),
}


def loss_curves(residuals=None, delta=1.0, names=tuple(REGRESSION_LOSSES)):
    """Per-residual loss and derivative of each named regression loss.

    residuals: 1-D float array r (default 401 points on [-4, 4]); the target is 0 and the
    prediction r. delta: Huber's threshold. Returns {name: (value, grad)}, two 1-D float64
    arrays of r's length: the loss of a single residual r and dloss/dr, from dlcore.losses
    (MAE's derivative is 0 at r = 0, as PyTorch's).
    """
    r = np.linspace(-4, 4, 401) if residuals is None else np.asarray(residuals, dtype=np.float64)
    if r.ndim != 1 or r.size == 0:
        raise ValueError(f"loss_curves: residuals must be a non-empty 1-D array, got shape {r.shape}")
    out = {}
    for name in names:
        if name not in REGRESSION_LOSSES:
            raise ValueError(f"loss_curves: unknown loss {name!r}; choose from "
                             f"{list(REGRESSION_LOSSES)}")
        loss = REGRESSION_LOSSES[name](delta)
        zero = np.zeros(1)
        # one residual per call: the loss of a 1-element batch is that element's loss
        value = np.array([loss(r[i:i + 1], zero) for i in range(r.size)])
        loss(r, np.zeros_like(r))
        grad = loss.backward() * r.size  # the mean's gradient is each element's over n
        out[name] = (value, grad)
    return out


def plot_loss_curves(delta=1.0, rmax=4.0, ax=None, legend=True):
    """Loss (left) and derivative (right) of MSE, MAE, Huber(delta) and log-cosh against r.

    ax: None (a new figure with two Axes) or a pair of Axes. Huber's kinks at |r| = delta are
    marked with dotted lines. Returns the Figure.
    """
    plt = pyplot()
    if ax is None:
        fig, (ax_v, ax_g) = plt.subplots(1, 2, figsize=(9, 3.4))
    else:
        ax_v, ax_g = ax
        fig = ax_v.figure
    r = np.linspace(-rmax, rmax, 401)
    for i, (name, (value, grad)) in enumerate(loss_curves(r, delta).items()):
        label = f"Huber (δ = {delta:g})" if name == "Huber" else name
        ax_v.plot(r, value, color=f"C{i}", lw=2, label=label)
        ax_g.plot(r, grad, color=f"C{i}", lw=2, label=label)
    for a in (ax_v, ax_g):
        for s in (-delta, delta):
            a.axvline(s, color="C2", lw=0.8, ls=":")
        a.axhline(0, color="0.6", lw=0.6)
        a.grid(True, alpha=0.3)
        a.set_xlabel("residual r = prediction − target")
    ax_v.set_ylim(-0.2, min(rmax, 4.0) ** 2 / 2 + 0.5)
    ax_g.set_ylim(-rmax - 0.3, rmax + 0.3)
    ax_v.set_title("loss of one residual", fontsize=10)
    ax_g.set_title("its derivative dL/dr", fontsize=10)
    if legend:
        ax_v.legend(fontsize=8, loc="upper center")
    fig.tight_layout()
    return fig


def plot_loss_grid(deltas=(0.5, 1.0, 2.0), rmax=4.0):
    """Static twin of `loss_widget`: one column per delta, losses on top, derivatives below.

    Returns the Figure (2 rows x len(deltas) Axes).
    """
    plt = pyplot()
    deltas = list(deltas)
    if not deltas:
        raise ValueError("plot_loss_grid: give at least one delta")
    fig, grid = plt.subplots(2, len(deltas), figsize=(3.3 * len(deltas), 5.6), squeeze=False,
                             sharex=True)
    for j, delta in enumerate(deltas):
        plot_loss_curves(delta, rmax, ax=(grid[0, j], grid[1, j]), legend=(j == 0))
        grid[0, j].set_title(f"δ = {delta:g}: loss", fontsize=10)
        grid[1, j].set_title(f"δ = {delta:g}: dL/dr", fontsize=10)
        if j:
            grid[0, j].set_xlabel("")
    for a in grid[0]:
        a.set_xlabel("")
    fig.tight_layout()
    return fig


def loss_widget(delta=1.0, rmax=4.0):
    """Live `plot_loss_curves` with a slider for Huber's delta and one for the residual range."""
    plt = pyplot()
    w = widgets()
    ds = w.FloatSlider(value=delta, min=0.1, max=3.0, step=0.1, description="δ (Huber)")
    rs = w.FloatSlider(value=rmax, min=1.0, max=10.0, step=0.5, description="|r| up to")

    def draw(delta, rmax):
        plot_loss_curves(delta, rmax)
        plt.show()

    out = w.interactive_output(draw, {"delta": ds, "rmax": rs})
    return w.VBox([w.HBox([ds, rs]), out])
