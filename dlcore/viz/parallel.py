"""Chapter 13: stale gradients in an asynchronous parameter server, and the roofline.

    run = staleness_run(tau=4, lr=0.1)       # full-data loss along a tau-stale SGD path
    plot_staleness(tau=4, lr=0.1)            # loss curves | where (tau, lr) sits vs the bound
    staleness_widget()                       # the same, live
    plot_staleness_grid()                    # its static twin: small multiples over tau, lr
    plot_roofline(peak, bandwidth, kernels)  # attainable FLOP/s against intensity, log-log

The problem is least squares, L(w) = ||A w - b||^2 / (2n), with minibatch gradients, so
its curvature is known: the Hessian A^T A / n has largest eigenvalue lam_max, and gradient
descent with delay tau is stable on it iff lr * lam_max < 2 sin(pi / (2 (2 tau + 1))).
"""
import functools
import math

import numpy as np

from ..parallel import async_sgd
from ._mpl import pyplot, widgets
from .frames import Control, register_frames

__all__ = [
    "STALENESS_LRS",
    "STALENESS_TAUS",
    "delayed_gd_bound",
    "plot_roofline",
    "plot_staleness",
    "plot_staleness_grid",
    "regression_problem",
    "staleness_run",
    "staleness_widget",
]

STALENESS_TAUS = (0, 1, 2, 4, 8, 16)
STALENESS_LRS = (0.05, 0.1, 0.2, 0.4)


def delayed_gd_bound(tau):
    """Largest stable lr * lam for x_{t+1} = x_t - lr*lam*x_{t-tau}: 2 sin(pi / (2(2tau+1)))."""
    return 2 * math.sin(math.pi / (2 * (2 * tau + 1)))


@functools.lru_cache(maxsize=4)
def regression_problem(n=512, d=10, condition=10.0, noise=0.3, seed=0):
    """A, b of a least-squares problem whose Hessian A^T A / n has eigenvalues spread
    evenly between 1/condition and 1; returns dict(A, b, w_star, lam_max, loss_star)."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((n, d)))
    v, _ = np.linalg.qr(rng.standard_normal((d, d)))
    lams = np.linspace(1.0 / condition, 1.0, d)
    A = math.sqrt(n) * q @ np.diag(np.sqrt(lams)) @ v.T
    b = A @ rng.standard_normal(d) + noise * rng.standard_normal(n)
    w_star = np.linalg.lstsq(A, b, rcond=None)[0]
    r = A @ w_star - b
    return {"A": A, "b": b, "w_star": w_star, "lam_max": float(lams.max()),
            "loss_star": float(r @ r / (2 * n))}


@functools.lru_cache(maxsize=256)
def staleness_run(tau, lr, steps=300, batch=32, seed=0):
    """Excess loss L(w_t) - L(w*) along SGD with gradients tau steps stale: (steps+1,).

    Minibatch t is rows of one seeded permutation per epoch, the same for every tau and lr,
    so runs differ only in the staleness and the rate. Diverging runs are cut at 1e6.
    """
    P = regression_problem()
    A, b = P["A"], P["b"]
    n = len(b)
    order = np.concatenate([np.random.default_rng(seed + e).permutation(n)
                            for e in range(steps * batch // n + 1)])

    def grad(w, t):
        rows = order[t * batch:(t + 1) * batch]
        return A[rows].T @ (A[rows] @ w - b[rows]) / batch

    with np.errstate(over="ignore", invalid="ignore"):
        path = async_sgd(grad, np.zeros(A.shape[1]), lr, steps, staleness=int(tau))
        r = path @ A.T - b
        excess = (r * r).sum(axis=1) / (2 * n) - P["loss_star"]
    return np.minimum(np.nan_to_num(excess, nan=1e6, posinf=1e6), 1e6)


def _curve(ax, tau, lr, color, label=None):
    excess = staleness_run(tau, lr)
    ax.plot(np.arange(len(excess)), np.maximum(excess, 1e-6), color=color, lw=1.4,
            label=label or f"τ = {tau}")


def plot_staleness(tau=4, lr=0.1):
    """Left: excess loss against the step for synchronous SGD (tau = 0) and tau-stale SGD
    at the same rate. Right: the stability bound lr * lam_max < 2 sin(pi/(2(2tau+1))) against
    tau, with this (tau, lr) marked. Returns the Figure."""
    plt = pyplot()
    lam = regression_problem()["lam_max"]
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(9.5, 3.4))
    _curve(ax, 0, lr, "0.55", "τ = 0 (synchronous)")
    if tau:
        _curve(ax, tau, lr, "C3")
    ax.set_yscale("log")
    ax.set_ylim(1e-6, 1e6)
    ax.set_xlabel("server step t")
    ax.set_ylabel("excess loss L(w_t) − L(w*)")
    ax.set_title(f"lr = {lr:g}, τ = {tau}", fontsize=10)
    ax.legend(fontsize=8, loc="lower left")
    ax.grid(True, alpha=0.3)
    taus = np.arange(0, 17)
    bound = [delayed_gd_bound(t) for t in taus]
    bx.fill_between(taus, 1e-3, bound, color="C2", alpha=0.15, label="stable (theory)")
    bx.plot(taus, bound, "C2-", lw=1.5)
    stable = lr * lam < delayed_gd_bound(tau)
    bx.plot([tau], [lr * lam], "o", color="C0" if stable else "C3", ms=8,
            label=f"this run: lr·λmax = {lr * lam:.2g}")
    bx.set_yscale("log")
    bx.set_ylim(0.05, 3)
    bx.set_xlabel("staleness τ (steps)")
    bx.set_ylabel("lr · λmax")
    bx.set_title("2 sin(π / (2(2τ+1))) bounds the stable rates", fontsize=10)
    bx.legend(fontsize=8)
    bx.grid(True, alpha=0.3, which="both")
    fig.tight_layout()
    return fig


def staleness_widget(tau=4, lr=0.1):
    """Live `plot_staleness`: a slider for the staleness and one for the learning rate."""
    plt = pyplot()
    w = widgets()
    ts = w.SelectionSlider(options=list(STALENESS_TAUS), value=tau, description="τ")
    ls = w.SelectionSlider(options=list(STALENESS_LRS), value=lr, description="lr")

    def draw(tau, lr):
        plot_staleness(tau, lr)
        plt.show()

    out = w.interactive_output(draw, {"tau": ts, "lr": ls})
    return w.VBox([w.HBox([ts, ls]), out])


def plot_staleness_grid(taus=(0, 2, 8), lrs=(0.05, 0.2)):
    """Static twin of the widget: one panel per (lr, tau), excess loss against the step."""
    plt = pyplot()
    lam = regression_problem()["lam_max"]
    fig, axes = plt.subplots(len(lrs), len(taus), figsize=(3.1 * len(taus), 2.5 * len(lrs)),
                             sharex=True, sharey=True, squeeze=False)
    for i, lr in enumerate(lrs):
        for j, tau in enumerate(taus):
            ax = axes[i, j]
            stable = lr * lam < delayed_gd_bound(tau)
            _curve(ax, tau, lr, "C0" if stable else "C3")
            ax.set_yscale("log")
            ax.set_ylim(1e-6, 1e6)
            ax.set_title(f"lr = {lr:g}, τ = {tau}: {'stable' if stable else 'unstable'} "
                         f"(theory)", fontsize=9)
            ax.grid(True, alpha=0.3)
            if i == len(lrs) - 1:
                ax.set_xlabel("server step t")
            if j == 0:
                ax.set_ylabel("excess loss")
    fig.tight_layout()
    return fig


def plot_roofline(peak_flops, bandwidth, kernels=(), label="", ax=None, color=None):
    """Attainable FLOP/s = min(peak, intensity * bandwidth) on log-log axes.

    kernels: (name, intensity FLOP/byte, measured FLOP/s or None) triples, drawn as open
    circles on the roof and, when measured, as filled dots where they really ran. Kernel
    colours are fixed by position (C3, C4, ...), so the same kernel has the same colour on
    every roofline of one axes; `color` sets the roof's (by default the next in the cycle
    that is not a kernel colour).
    """
    plt = pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.8))
    ridge = peak_flops / bandwidth
    lo = min([ridge / 100] + [k[1] / 3 for k in kernels])
    hi = max([ridge * 100] + [k[1] * 3 for k in kernels])
    x = np.logspace(math.log10(lo), math.log10(hi), 200)
    if color is None:
        roofs = sum(1 for line in ax.lines if getattr(line, "_roofline", False))
        color = ("C0", "C1", "C2", "C7", "C8", "C9")[roofs % 6]
    line, = ax.plot(x, np.minimum(peak_flops, x * bandwidth), lw=2, color=color,
                    label=label or "roofline")
    line._roofline = True
    ax.axvline(ridge, color=color, ls=":", lw=1)
    for i, (name, intensity, measured) in enumerate(kernels):
        c = f"C{(i + 3) % 10}"
        roof = min(peak_flops, intensity * bandwidth)
        ax.plot([intensity], [roof], "o", mfc="none", mec=c, ms=8)
        if measured is not None:
            ax.plot([intensity], [measured], "o", color=c, ms=6, label=f"{name} (measured)")
        ax.annotate(name, (intensity, roof), textcoords="offset points", xytext=(4, 6),
                    fontsize=8, color=c)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("arithmetic intensity (FLOP / byte)")
    ax.set_ylabel("attainable FLOP / s")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    return ax


# -- the widget's frames for the HTML book (dlcore.viz.frames) ------------------------------
@register_frames("staleness_widget", alt="Excess loss against the server step for synchronous "
                 "SGD and SGD with tau-stale gradients at one learning rate (left), and where "
                 "that setting sits against the stability bound 2 sin(pi/(2(2 tau + 1))) (right).",
                 controls=[Control("tau", (0, 2, 4, 8, 16), "τ"),
                           Control("lr", STALENESS_LRS, "lr", fmt="{:g}")])
def _staleness_frames():
    def render(tau, lr):
        return plot_staleness(tau, lr)

    return render
