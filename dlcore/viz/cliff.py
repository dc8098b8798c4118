"""A loss surface with a cliff, and gradient descent over it with and without clipping.

The surface is a gentle quadratic valley whose floor runs into a steep sigmoid wall (the
kind of cliff that recurrent networks' losses have). At the wall's face the gradient is
tens of times larger than anywhere else, so one plain gradient step taken there throws
the parameters far back; clipping the gradient bounds that step.

    path = cliff_path("norm", threshold=1.0)      # (steps + 1, 2), row 0 the start
    cliff_grad(np.array([2.0, 0.0]))              # the analytic gradient, shape (2,)
    CliffPanel().widget()                         # live: mode and threshold -> path
    plot_cliff_grid()                             # its static twin

Each path is made by the library itself: one `Parameter` of shape (2,) whose `.grad` is set
to the surface's gradient, then `dlcore.clip.clip_grad_value` or `clip_grad_norm`, then
`dlcore.optim.SGD.step()`, exactly as in a training loop.
"""
import math
import time

import numpy as np

from .. import _checks
from ..clip import clip_grad_norm, clip_grad_value
from ..nn import Parameter
from ..optim import SGD
from ._mpl import blit_png, pyplot, widgets

__all__ = [
    "CLIFF",
    "CLIP_MODES",
    "MINIMUM",
    "CliffPanel",
    "cliff_grad",
    "cliff_loss",
    "cliff_path",
    "cliff_widget",
    "path_summary",
    "plot_cliff_grid",
    "plot_cliff_paths",
]

# The surface: L(w) = a0/2 (w0 - m0)^2 + a1/2 w1^2 + H sigmoid(k (n.w - c)) - offset.
# The valley alone has its minimum at (m0, 0), beyond the wall, so its floor slopes into
# the wall; the wall's normal n is turned 15 degrees off the w0 axis, so that clipping each
# coordinate separately (by value) visibly turns a step taken on the wall.
CLIFF = {
    "a": (0.1, 0.5),        # valley curvatures along w0 and w1
    "m0": 8.0,              # where the valley alone would have its minimum
    "height": 6.0,          # H: how much higher the loss is on top of the wall
    "steepness": 10.0,      # k: the wall rises over about 1/k; its largest slope is H k / 4
    "angle_deg": 15.0,      # direction of the wall's normal n
    "position": 2.0,        # c: the wall's middle is the line n.w = c
    "start": (-4.0, 2.5),
    "lr": 1.0,
    "steps": 60,
    "xlim": (-12.0, 4.5),
    "ylim": (-4.0, 4.0),
}
_N = np.array([math.cos(math.radians(CLIFF["angle_deg"])),
               math.sin(math.radians(CLIFF["angle_deg"]))])
# a constant that puts the lowest loss at 0: the minimum, at the wall's foot near
# w = (1.6953, -0.3379), found numerically (scipy.optimize.minimize) for these settings
_OFFSET = 0.8 + 1.2819794480943
MINIMUM = (1.6953282, -0.3378663)

CLIP_MODES = ("none", "value", "norm")
_MODE_COLOURS = {"none": "C3", "value": "C1", "norm": "C0"}
_DIVERGED = 1e6
_MAX_STEPS = 2000


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))   # no overflow warning for large |z|


def cliff_loss(w):
    """The loss at w of shape (..., 2) (a point, a path or a grid); returns shape (...)."""
    w = np.asarray(w, dtype=np.float64)
    if w.shape[-1:] != (2,):
        raise ValueError(f"cliff_loss: w must have shape (..., 2), got {w.shape}")
    a0, a1 = CLIFF["a"]
    s = w[..., 0] * _N[0] + w[..., 1] * _N[1]
    valley = 0.5 * (a0 * (w[..., 0] - CLIFF["m0"]) ** 2 + a1 * w[..., 1] ** 2)
    wall = CLIFF["height"] * _sigmoid(CLIFF["steepness"] * (s - CLIFF["position"]))
    return valley + wall - _OFFSET


def cliff_grad(w):
    """The analytic gradient of `cliff_loss` at one point w (2,): returns (2,).

    dL/dw = (a0 (w0 - m0), a1 w1) + H k sigma'(k (n.w - c)) n, with sigma' = sigma (1 - sigma).
    """
    w = np.asarray(w, dtype=np.float64)
    a0, a1 = CLIFF["a"]
    sig = _sigmoid(CLIFF["steepness"] * (w[0] * _N[0] + w[1] * _N[1] - CLIFF["position"]))
    wall = CLIFF["height"] * CLIFF["steepness"] * sig * (1.0 - sig)
    return np.array([a0 * (w[0] - CLIFF["m0"]) + wall * _N[0], a1 * w[1] + wall * _N[1]])


def _mode(mode, where):
    if mode not in CLIP_MODES:
        raise ValueError(f"{where}: unknown clipping mode {mode!r}; choose one of {CLIP_MODES}")
    return mode


def cliff_path(mode="none", threshold=1.0, lr=None, steps=None, start=None):
    """Plain gradient descent (SGD, no momentum) on the cliff, clipping each gradient first.

    mode: 'none', 'value' (clip_grad_value: each coordinate into [-threshold, threshold])
    or 'norm' (clip_grad_norm: the vector rescaled to norm <= threshold). lr, steps, start:
    CLIFF's defaults when None. Returns the path, an array (steps + 1, 2) with row 0 the
    start; rows after a step that leaves |w| < 1e6 are NaN.
    """
    where = "cliff_path"
    _mode(mode, where)
    threshold = _checks.number(threshold, "threshold", where, low=0.0, low_inclusive=False)
    lr = _checks.number(CLIFF["lr"] if lr is None else lr, "lr", where, low=0.0,
                        low_inclusive=False)
    steps = _checks.positive_int(CLIFF["steps"] if steps is None else steps, "steps", where)
    if steps > _MAX_STEPS:
        raise ValueError(f"{where}: steps must be at most {_MAX_STEPS}, got {steps}")
    start = np.array(CLIFF["start"] if start is None else start, dtype=np.float64)
    if start.shape != (2,) or not np.all(np.isfinite(start)):
        raise ValueError(f"{where}: start must be two finite numbers, got {start!r}")
    p = Parameter(start.copy())
    opt = SGD([p], lr=lr)
    path = np.full((steps + 1, 2), np.nan)
    path[0] = p.data
    for t in range(1, steps + 1):
        p.grad[...] = cliff_grad(p.data)
        if mode == "value":
            clip_grad_value([p], threshold)
        elif mode == "norm":
            clip_grad_norm([p], threshold)
        opt.step()
        if not np.all(np.abs(p.data) < _DIVERGED):
            break
        path[t] = p.data
    return path


def path_summary(path):
    """Numbers that describe a path: a dict with 'final_loss', 'min_loss' (over the path),
    'longest_step' (the longest single move), 'leftmost_w0' (how far back it was thrown)
    and 'points_near_minimum' (how many points of the path lie within 1 of MINIMUM)."""
    path = np.asarray(path, dtype=np.float64)
    good = path[np.all(np.isfinite(path), axis=1)]
    losses = cliff_loss(good)
    moves = np.linalg.norm(np.diff(good, axis=0), axis=1)
    near = np.linalg.norm(good - np.array(MINIMUM), axis=1) < 1.0
    return {"final_loss": float(losses[-1]), "min_loss": float(losses.min()),
            "longest_step": float(moves.max()) if moves.size else 0.0,
            "leftmost_w0": float(good[:, 0].min()), "points_near_minimum": int(near.sum())}


# -- drawing -----------------------------------------------------------------------------------
def _draw_surface(ax, grid=160):
    """Contours of the cliff surface, the wall's middle line and the start point."""
    xs = np.linspace(*CLIFF["xlim"], grid)
    ys = np.linspace(*CLIFF["ylim"], grid)
    Z = cliff_loss(np.stack(np.meshgrid(xs, ys), axis=-1))
    levels = np.linspace(0.0, 12.0, 13)
    ax.contourf(xs, ys, Z, levels=levels, cmap="Greys", extend="both", alpha=0.55)
    ax.contour(xs, ys, Z, levels=levels, colors="0.45", linewidths=0.4)
    # the wall: the line n.w = c
    ys_line = np.array(CLIFF["ylim"])
    ax.plot((CLIFF["position"] - _N[1] * ys_line) / _N[0], ys_line, "--", color="k", lw=0.8)
    ax.plot(*CLIFF["start"], "o", color="k", ms=4, zorder=5)
    ax.plot(*MINIMUM, "*", color="gold", mec="k", mew=0.6, ms=10, zorder=5)
    ax.set_xlim(CLIFF["xlim"])
    ax.set_ylim(CLIFF["ylim"])
    ax.set_xlabel("$w_0$")
    ax.set_ylabel("$w_1$")


def _label(mode, threshold):
    return "no clipping" if mode == "none" else f"{mode} clipping at {threshold:g}"


def plot_cliff_paths(settings=(("none", 1.0), ("value", 1.0), ("norm", 1.0)), lr=None,
                     steps=None, ax=None, legend=True):
    """Contours of the cliff with one gradient-descent path per (mode, threshold) in
    `settings`; the legend gives each path's longest step and final loss. Returns the Axes."""
    plt = pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 3.6))
    _draw_surface(ax)
    for mode, threshold in settings:
        path = cliff_path(mode, threshold, lr, steps)
        s = path_summary(path)
        ax.plot(path[:, 0], path[:, 1], "-", color=_MODE_COLOURS[_mode(mode, "plot_cliff_paths")],
                lw=1.3, marker="o", ms=2,
                label=f"{_label(mode, threshold)}: longest step {s['longest_step']:.2g}, "
                      f"final loss {s['final_loss']:.2g}")
    if legend:
        ax.legend(fontsize=7, loc="lower left", framealpha=0.85)
    return ax


GRID_THRESHOLDS = (0.5, 2.0, 8.0)


def plot_cliff_grid(thresholds=GRID_THRESHOLDS, modes=("value", "norm"), lr=None, steps=None):
    """Static twin of `CliffPanel`: one row per clipping mode, one column per threshold; the
    unclipped path is drawn faintly in every panel for comparison. Returns the Figure."""
    plt = pyplot()
    thresholds, modes = list(thresholds), list(modes)
    if not thresholds or not modes:
        raise ValueError("plot_cliff_grid: give at least one threshold and one mode")
    for m in modes:
        _mode(m, "plot_cliff_grid")
    fig, axes = plt.subplots(len(modes), len(thresholds), squeeze=False,
                             figsize=(3.6 * len(thresholds), 2.5 * len(modes) + 0.4),
                             sharex=True, sharey=True)
    raw = cliff_path("none", 1.0, lr, steps)
    for r, mode in enumerate(modes):
        for c, threshold in enumerate(thresholds):
            ax = axes[r, c]
            _draw_surface(ax, grid=100)
            ax.plot(raw[:, 0], raw[:, 1], "-", color=_MODE_COLOURS["none"], lw=0.8, alpha=0.45)
            path = cliff_path(mode, threshold, lr, steps)
            s = path_summary(path)
            ax.plot(path[:, 0], path[:, 1], "-", color=_MODE_COLOURS[mode], lw=1.3, marker="o",
                    ms=1.8)
            ax.set_title(f"{_label(mode, threshold)}\nlongest step {s['longest_step']:.2g}, "
                         f"final loss {s['final_loss']:.2g}", fontsize=8)
            ax.tick_params(labelsize=7)
            if r < len(modes) - 1:
                ax.set_xlabel("")
            if c > 0:
                ax.set_ylabel("")
    fig.suptitle("gradient descent over the cliff (faint red: no clipping); dashed: the wall",
                 fontsize=9)
    fig.tight_layout()
    return fig


# -- the live panel ----------------------------------------------------------------------------
class CliffPanel:
    """The live cliff figure: contours drawn once; per update only the path is recomputed
    and redrawn over a cached background (Agg blitting), returned as PNG bytes.

    `update(mode=..., threshold=..., lr=..., steps=...)` returns the PNG; `last_timing`
    holds the seconds of the last update ('compute', 'draw', 'total'); `timings` all.
    """

    def __init__(self, mode="norm", threshold=1.0, lr=None, steps=None, figsize=(7.0, 3.8),
                 dpi=90):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self.settings = {"mode": _mode(mode, "CliffPanel"), "threshold": threshold,
                         "lr": CLIFF["lr"] if lr is None else lr,
                         "steps": CLIFF["steps"] if steps is None else steps}
        self.figure = Figure(figsize=figsize, dpi=dpi)
        self.canvas = FigureCanvasAgg(self.figure)
        ax = self.ax = self.figure.add_axes((0.08, 0.13, 0.9, 0.72))
        _draw_surface(ax)
        raw = cliff_path("none", 1.0, self.settings["lr"], self.settings["steps"])
        (self.raw_line,) = ax.plot(raw[:, 0], raw[:, 1], "-", color=_MODE_COLOURS["none"],
                                   lw=0.8, alpha=0.4, animated=True)
        (self.line,) = ax.plot([], [], "-", lw=1.4, marker="o", ms=2, animated=True)
        self.title = ax.set_title("", fontsize=8)
        self.title.set_animated(True)
        self.canvas.draw()
        self._background = self.canvas.copy_from_bbox(self.figure.bbox)
        self.timings = []
        self.last_timing = None

    def update(self, **settings):
        """Recompute the path with new settings and redraw it; returns PNG bytes."""
        unknown = set(settings) - set(self.settings)
        if unknown:
            raise TypeError(f"CliffPanel.update: unknown settings {sorted(unknown)}; "
                            f"use {sorted(self.settings)}")
        new = {**self.settings, **settings}
        _mode(new["mode"], "CliffPanel.update")
        t0 = time.perf_counter()
        path = cliff_path(new["mode"], new["threshold"], new["lr"], new["steps"])
        if (new["lr"], new["steps"]) != (self.settings["lr"], self.settings["steps"]):
            raw = cliff_path("none", 1.0, new["lr"], new["steps"])
            self.raw_line.set_data(raw[:, 0], raw[:, 1])
        self.settings = new
        s = path_summary(path)
        t1 = time.perf_counter()
        self.line.set_data(path[:, 0], path[:, 1])
        self.line.set_color(_MODE_COLOURS[new["mode"]])
        self.title.set_text(
            f"{_label(new['mode'], new['threshold'])}, lr {new['lr']:.3g}, {new['steps']} steps "
            f"(faint red: no clipping)\nlongest step {s['longest_step']:.3g}, thrown back to "
            f"w0 = {s['leftmost_w0']:.3g}, final loss {s['final_loss']:.3g}")
        png = blit_png(self.canvas, self._background, (self.raw_line, self.line, self.title))
        t2 = time.perf_counter()
        self.last_timing = {"compute": t1 - t0, "draw": t2 - t1, "total": t2 - t0}
        self.timings.append(self.last_timing)
        return png


    def widget(self):
        """An ipywidgets VBox: mode buttons, threshold, lr and steps sliders, the image and
        the time the last redraw took."""
        w = widgets()
        s = self.settings
        style = {"description_width": "initial"}
        mode = w.ToggleButtons(options=list(CLIP_MODES), value=s["mode"], description="clip")
        threshold = w.FloatLogSlider(value=s["threshold"], base=10, min=-1.5, max=1.5,
                                     step=0.02, description="threshold", readout_format=".3g",
                                     style=style)
        lr = w.FloatLogSlider(value=s["lr"], base=10, min=-1, max=0.5, step=0.02,
                              description="lr", readout_format=".3g", style=style)
        steps = w.IntSlider(value=s["steps"], min=5, max=300, step=5, description="steps",
                            style=style)
        image = w.Image(format="png")
        timing = w.Label()

        def redraw(_=None):
            image.value = self.update(mode=mode.value, threshold=threshold.value, lr=lr.value,
                                      steps=steps.value)
            t = self.last_timing
            timing.value = (f"redraw {1000 * t['total']:.0f} ms (path {1000 * t['compute']:.0f} "
                            f"ms, drawing {1000 * t['draw']:.0f} ms)")

        for control in (mode, threshold, lr, steps):
            control.observe(redraw, names="value")
        redraw()
        return w.VBox([mode, w.HBox([threshold, lr, steps]), image, timing])


def cliff_widget(mode="norm", threshold=1.0):
    """The live panel as an ipywidgets VBox: `CliffPanel(mode, threshold).widget()`. Its
    static twin is `plot_cliff_grid`."""
    return CliffPanel(mode, threshold).widget()
