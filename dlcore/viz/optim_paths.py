"""Optimiser paths on 2-D loss surfaces: the book's live "why momentum works" panel.

A surface is a loss f(w) of two parameters w = (w0, w1) with its analytic gradient. Each
optimiser is a real `dlcore.optim` instance stepping one `Parameter` of shape (2,) whose
`.grad` is set to the surface's gradient before every `step()`, so the paths are exactly what
the library would do on a network whose loss looked like this.

    path = optimizer_path("ravine", "momentum", steps=100, lr=0.5, momentum=0.9)   # (101, 2)
    paths = optimizer_paths("rosenbrock", ("gd", "adam"), steps=200)
    panel = OptimPathsPanel("ravine"); panel.update(lr=0.8); panel.widget()

`optimizer_paths` returns the numbers (numpy and dlcore only); `plot_optim_paths` draws one
setting; `OptimPathsPanel` is the live version, which draws the contours once and on each
slider move only recomputes the paths and moves the lines (`set_data` plus blitting on an
Agg canvas, sent to the notebook as a PNG), timing both parts; `plot_optim_paths_grid` is
its static twin, small multiples over surfaces and settings.
"""
import math
import threading
import time

import numpy as np

from .. import _checks, optim
from ..data import ravine_hessian, ravine_loss
from ..nn import Parameter
from ._mpl import blit_png, pyplot, widgets

__all__ = [
    "OPTIMIZERS",
    "SURFACES",
    "OptimPathsPanel",
    "Surface",
    "optim_paths_widget",
    "optimizer_path",
    "optimizer_paths",
    "plot_optim_paths",
    "plot_optim_paths_grid",
    "ravine_surface",
    "steps_to_reach",
]

# A path that leaves this box around the minimum counts as diverged; the rest is NaN.
_DIVERGED = 1e6
_MAX_STEPS = 5000


class Surface:
    """A 2-D loss surface: `loss(w)` for w of shape (..., 2) (grids too), `grad(w)` for w (2,),
    a start point, the plotting window and the minimiser(s).

    lr, lr_adaptive: default learning rates for the SGD family and for the adaptive methods
    (which move about lr_adaptive per step whatever the gradient's scale).
    """

    def __init__(self, name, loss, grad, start, xlim, ylim, minima, lr, lr_adaptive,
                 description, levels):
        self.name, self.loss, self.grad = name, loss, grad
        self.start = np.asarray(start, dtype=np.float64)
        self.xlim, self.ylim = xlim, ylim
        self.minima = np.asarray(minima, dtype=np.float64).reshape(-1, 2)
        self.lr, self.lr_adaptive = lr, lr_adaptive
        self.description = description
        self.levels = levels

    def __repr__(self):
        return f"Surface({self.name!r}: {self.description})"


# -- the surfaces ----------------------------------------------------------------------------
# Ravine: dlcore.data's ill-conditioned quadratic, condition 50, valley turned by 30 degrees
# (off the axes, so per-coordinate step sizes are no free lunch). Eigenvalues 1 and 1/50:
# gradient descent is stable only for lr < 2/lambda_max = 2.
_RAVINE = {"condition": 50.0, "angle": math.pi / 6}


def _ravine_loss(w):
    return ravine_loss(w, **_RAVINE)


_RAVINE_H = ravine_hessian(**_RAVINE)
_RAVINE_MIN = np.array([1.0, 1.0])


def _ravine_grad(w):
    return _RAVINE_H @ (w - _RAVINE_MIN)   # dlcore.data.ravine_grad without its per-call checks


# Rosenbrock's banana valley, scaled by 1/1000 so that the curvature near the minimum (1, 1)
# is about 1, like the ravine's: f = ((1 - x)^2 + 100 (y - x^2)^2) / 1000.
def _rosen_loss(w):
    w = np.asarray(w, dtype=np.float64)
    x, y = w[..., 0], w[..., 1]
    return ((1 - x) ** 2 + 100 * (y - x**2) ** 2) / 1000


def _rosen_grad(w):
    x, y = w[0], w[1]
    return np.array([-2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2)]) / 1000


# A saddle at (0, 0) between two minima at (0, +-1): f = x^2/2 - y^2/2 + y^4/4. Starting almost
# on the ridge y = 0, plain gradient descent creeps away from the saddle (|y| grows by a
# factor 1 + lr per step); momentum and the adaptive methods leave it sooner.
def _saddle_loss(w):
    w = np.asarray(w, dtype=np.float64)
    x, y = w[..., 0], w[..., 1]
    return 0.5 * x**2 - 0.5 * y**2 + 0.25 * y**4


def _saddle_grad(w):
    x, y = w[0], w[1]
    return np.array([x, -y + y**3])


def ravine_surface(condition, angle=math.pi / 6):
    """The ravine with another condition number κ: Hessian eigenvalues 1 and 1/κ, minimum
    (1, 1), the same start (-3, 2.5). For measuring how steps to a tolerance grow with κ."""
    condition = _checks.number(condition, "condition", "ravine_surface", low=1.0)
    H = ravine_hessian(condition, angle)

    def loss(w):
        d = np.asarray(w, dtype=np.float64) - _RAVINE_MIN
        return 0.5 * np.einsum("...i,ij,...j->...", d, H, d)

    def grad(w):
        return H @ (w - _RAVINE_MIN)

    return Surface(f"ravine κ={condition:g}", loss, grad, start=(-3.0, 2.5), xlim=(-4.0, 4.0),
                   ylim=(-1.5, 3.5), minima=[(1.0, 1.0)], lr=0.5, lr_adaptive=0.1,
                   description=f"quadratic ravine, condition number {condition:g}",
                   levels=np.geomspace(1e-3, 10, 14))


SURFACES = {
    "ravine": Surface("ravine", _ravine_loss, _ravine_grad, start=(-3.0, 2.5),
                      xlim=(-4.0, 4.0), ylim=(-1.5, 3.5), minima=[(1.0, 1.0)], lr=0.5,
                      lr_adaptive=0.1,
                      description="quadratic ravine, condition number 50, turned 30°",
                      levels=np.geomspace(1e-3, 10, 14)),
    "rosenbrock": Surface("rosenbrock", _rosen_loss, _rosen_grad, start=(-1.5, 2.0),
                          xlim=(-2.0, 2.0), ylim=(-1.0, 3.0), minima=[(1.0, 1.0)], lr=1.0,
                          lr_adaptive=0.05,
                          description="Rosenbrock's banana valley / 1000",
                          levels=np.geomspace(1e-4, 3, 14)),
    "saddle": Surface("saddle", _saddle_loss, _saddle_grad, start=(-2.0, 1e-3),
                      xlim=(-2.5, 2.5), ylim=(-1.6, 1.6), minima=[(0.0, 1.0), (0.0, -1.0)],
                      lr=0.1, lr_adaptive=0.05,
                      description="saddle at (0, 0), minima at (0, ±1)",
                      levels=np.linspace(-0.25, 3, 14)),
}


# -- the optimisers --------------------------------------------------------------------------
def _make(name, params, lr, lr_adaptive, momentum, beta1, beta2):
    """A dlcore.optim instance for one of OPTIMIZERS' names."""
    if name == "gd":
        return optim.SGD(params, lr=lr)
    if name == "momentum":
        return optim.SGD(params, lr=lr, momentum=momentum)
    if name == "nesterov":
        return optim.SGD(params, lr=lr, momentum=momentum, nesterov=True)
    if name == "adagrad":
        return optim.Adagrad(params, lr=lr_adaptive)
    if name == "rmsprop":
        return optim.RMSprop(params, lr=lr_adaptive, alpha=beta2)
    if name == "adam":
        return optim.Adam(params, lr=lr_adaptive, betas=(beta1, beta2))
    if name == "adadelta":
        return optim.Adadelta(params, lr=1.0, rho=beta2)
    raise AssertionError(name)


# name -> (label, colour); the label says which sliders it uses
OPTIMIZERS = {
    "gd": ("GD (lr)", "C0"),
    "momentum": ("momentum (lr, μ)", "C1"),
    "nesterov": ("Nesterov (lr, μ)", "C2"),
    "adagrad": ("Adagrad (lr adaptive)", "C4"),
    "rmsprop": ("RMSprop (lr adaptive, α = β₂)", "C5"),
    "adam": ("Adam (lr adaptive, β₁, β₂)", "C3"),
    "adadelta": ("Adadelta (ρ = β₂)", "C6"),
}
DEFAULT_OPTIMIZERS = ("gd", "momentum", "rmsprop", "adam")


def _surface(surface, where):
    if isinstance(surface, Surface):
        return surface
    if surface not in SURFACES:
        raise ValueError(f"{where}: unknown surface {surface!r}; choose one of {list(SURFACES)}")
    return SURFACES[surface]


def _names(optimizers, where):
    names = [optimizers] if isinstance(optimizers, str) else list(optimizers)
    if not names:
        raise ValueError(f"{where}: no optimizers given; choose from {list(OPTIMIZERS)}")
    for n in names:
        if n not in OPTIMIZERS:
            raise ValueError(f"{where}: unknown optimizer {n!r}; choose from {list(OPTIMIZERS)}")
    return names


def _steps(steps, where):
    steps = _checks.positive_int(steps, "steps", where)
    if steps > _MAX_STEPS:
        raise ValueError(f"{where}: steps must be at most {_MAX_STEPS}, got {steps}")
    return steps


def _settings(surface, lr, lr_adaptive, momentum, beta1, beta2, where):
    lr = surface.lr if lr is None else lr
    lr_adaptive = surface.lr_adaptive if lr_adaptive is None else lr_adaptive
    lr = _checks.number(lr, "lr", where, low=0.0, low_inclusive=False)
    lr_adaptive = _checks.number(lr_adaptive, "lr_adaptive", where, low=0.0, low_inclusive=False)
    momentum = _checks.number(momentum, "momentum", where, low=0.0, high=1.0,
                              high_inclusive=False)
    beta1 = _checks.number(beta1, "beta1", where, low=0.0, high=1.0, high_inclusive=False)
    beta2 = _checks.number(beta2, "beta2", where, low=0.0, high=1.0, high_inclusive=False)
    return lr, lr_adaptive, momentum, beta1, beta2


def _run(surface, name, steps, start, hyper):
    """The (steps + 1, 2) path of one optimiser; NaN after it leaves the box |w| < 1e6."""
    p = Parameter(np.array(start, dtype=np.float64))
    opt = _make(name, [p], *hyper)
    path = np.full((steps + 1, 2), np.nan)
    path[0] = p.data
    grad = surface.grad
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(1, steps + 1):
            p.grad[...] = grad(p.data)
            opt.step()
            w = p.data
            if not (abs(w[0]) < _DIVERGED and abs(w[1]) < _DIVERGED):  # NaN fails too
                break
            path[t] = w
    return path


def optimizer_path(surface="ravine", optimizer="gd", steps=100, lr=None, lr_adaptive=None,
                   momentum=0.9, beta1=0.9, beta2=0.999, start=None):
    """The path of one optimiser on one surface: an array (steps + 1, 2), row 0 the start.

    surface: a name in SURFACES (or a Surface); optimizer: a name in OPTIMIZERS. lr is the
    learning rate of 'gd', 'momentum' and 'nesterov'; lr_adaptive that of 'adagrad',
    'rmsprop' and 'adam' (None: the surface's defaults). momentum: SGD's μ; beta1, beta2:
    Adam's betas; RMSprop's alpha and Adadelta's rho are beta2. Rows after a step that
    leaves |w| < 1e6 (or is not finite) are NaN: the optimiser diverged.
    """
    return optimizer_paths(surface, (optimizer,), steps, lr, lr_adaptive, momentum, beta1,
                           beta2, start)[optimizer]


def optimizer_paths(surface="ravine", optimizers=DEFAULT_OPTIMIZERS, steps=100, lr=None,
                    lr_adaptive=None, momentum=0.9, beta1=0.9, beta2=0.999, start=None):
    """{name: path (steps + 1, 2)} for several optimisers from the same start (see
    `optimizer_path` for the arguments)."""
    where = "optimizer_paths"
    surf = _surface(surface, where)
    names = _names(optimizers, where)
    steps = _steps(steps, where)
    hyper = _settings(surf, lr, lr_adaptive, momentum, beta1, beta2, where)
    start = surf.start if start is None else np.asarray(start, dtype=np.float64)
    if start.shape != (2,) or not np.all(np.isfinite(start)):
        raise ValueError(f"{where}: start must be two finite numbers, got {start!r}")
    return {name: _run(surf, name, steps, start, hyper) for name in names}


def steps_to_reach(path, point, tol=1e-2):
    """The first step t at which |path[t] - point| < tol and it stays so to the end;
    None if the path never settles there (or diverged)."""
    path = np.asarray(path, dtype=np.float64)
    dist = np.linalg.norm(path - np.asarray(point, dtype=np.float64), axis=1)
    inside = dist < tol                      # NaN rows (diverged) are outside
    if not inside[-1]:
        return None
    outside = np.flatnonzero(~inside)
    return 0 if outside.size == 0 else int(outside[-1] + 1)


def _status(surf, path):
    """A short description of where a path ended: final loss, or the step it diverged."""
    good = np.flatnonzero(np.isfinite(path[:, 0]))
    last = int(good[-1])
    if last < len(path) - 1:
        return f"diverged at step {last + 1}"
    return f"loss {float(surf.loss(path[-1])):.2g}"


# -- drawing -----------------------------------------------------------------------------------
def _draw_surface(ax, surf, grid=120):
    """Filled contours of the loss, the start and the minima; axes labelled."""
    xs = np.linspace(*surf.xlim, grid)
    ys = np.linspace(*surf.ylim, grid)
    W = np.stack(np.meshgrid(xs, ys), axis=-1)
    Z = surf.loss(W)
    # grey, light at low loss, so that the coloured paths stand out
    ax.contourf(xs, ys, Z, levels=surf.levels, cmap="Greys", extend="both", alpha=0.5)
    ax.contour(xs, ys, Z, levels=surf.levels, colors="0.45", linewidths=0.4)
    ax.plot(*surf.minima.T, "*", color="gold", mec="k", mew=0.6, ms=11, zorder=5)
    ax.plot(*surf.start, "o", color="k", ms=4, zorder=5)
    ax.set_xlim(surf.xlim)
    ax.set_ylim(surf.ylim)
    ax.set_xlabel("$w_0$")
    ax.set_ylabel("$w_1$")


def plot_optim_paths(surface="ravine", optimizers=DEFAULT_OPTIMIZERS, steps=100, lr=None,
                     lr_adaptive=None, momentum=0.9, beta1=0.9, beta2=0.999, ax=None,
                     legend=True, title=True):
    """Contours of a surface with the paths of several optimisers (see `optimizer_path`).

    Returns the Axes; the legend gives each optimiser's final loss or the step where it
    diverged.
    """
    plt = pyplot()
    surf = _surface(surface, "plot_optim_paths")
    paths = optimizer_paths(surf, optimizers, steps, lr, lr_adaptive, momentum, beta1, beta2)
    lr, lr_adaptive, momentum, beta1, beta2 = _settings(surf, lr, lr_adaptive, momentum, beta1,
                                                        beta2, "plot_optim_paths")
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 4.2))
    _draw_surface(ax, surf)
    for name, path in paths.items():
        colour = OPTIMIZERS[name][1]
        ax.plot(path[:, 0], path[:, 1], "-", color=colour, lw=1.6, marker="o", ms=1.8,
                label=f"{name}: {_status(surf, path)}")
    if legend:
        ax.legend(fontsize=7, loc="lower right", framealpha=0.85)
    if title:
        ax.set_title(f"{surf.name}: lr {lr:.3g}, lr adaptive {lr_adaptive:.3g}, μ {momentum:.3g}"
                     f", β₁ {beta1:.3g}, β₂ {beta2:.4g}, {steps} steps", fontsize=8)
    return ax


GRID_SETTINGS = (
    {"lr": None, "momentum": 0.9},            # the surface's default learning rates
    {"lr": "large", "momentum": 0.5},         # 3x the default learning rates
)


def plot_optim_paths_grid(surfaces=tuple(SURFACES), settings=GRID_SETTINGS,
                          optimizers=DEFAULT_OPTIMIZERS, steps=150):
    """Static twin of `OptimPathsPanel`: one row per surface, one column per setting.

    settings: dicts of `optimizer_paths` keywords; lr / lr_adaptive may be "large"
    (3x the surface's default) or "small" (1/3). Returns the Figure.
    """
    plt = pyplot()
    surfaces = [surfaces] if isinstance(surfaces, str) else list(surfaces)
    settings = list(settings)
    if not surfaces or not settings:
        raise ValueError("plot_optim_paths_grid: give at least one surface and one setting")
    fig, axes = plt.subplots(len(surfaces), len(settings), squeeze=False,
                             figsize=(4.6 * len(settings), 3.4 * len(surfaces)))
    factor = {"large": 3.0, "small": 1 / 3}
    for r, name in enumerate(surfaces):
        surf = _surface(name, "plot_optim_paths_grid")
        for c, setting in enumerate(settings):
            kw = dict(setting)
            for key, default in (("lr", surf.lr), ("lr_adaptive", surf.lr_adaptive)):
                if kw.get(key) in factor:
                    kw[key] = factor[kw[key]] * default
                if key == "lr" and setting.get("lr") in factor and "lr_adaptive" not in setting:
                    kw["lr_adaptive"] = factor[setting["lr"]] * surf.lr_adaptive
            ax = plot_optim_paths(surf, optimizers, steps, ax=axes[r, c], title=False, **kw)
            lr, lra, mom, _, _ = _settings(surf, kw.get("lr"), kw.get("lr_adaptive"),
                                             kw.get("momentum", 0.9), kw.get("beta1", 0.9),
                                             kw.get("beta2", 0.999), "plot_optim_paths_grid")
            ax.set_title(f"{surf.name}: lr {lr:.3g}, adaptive lr {lra:.3g}, μ {mom:.3g}",
                         fontsize=8)
            ax.xaxis.label.set_size(8)
            ax.yaxis.label.set_size(8)
            ax.tick_params(labelsize=7)
    fig.suptitle(f"{steps} steps from the black dot; the star marks the minimum", fontsize=10)
    fig.tight_layout()
    return fig


# -- the live panel ----------------------------------------------------------------------------
class OptimPathsPanel:
    """The live optimiser-path figure: contours drawn once, paths redrawn per slider move.

    `update(**settings)` recomputes every path with `optimizer_paths` and moves the lines
    (`Line2D.set_data`), redrawing only them over a cached background (Agg blitting), and
    returns the new image as PNG bytes. `last_timing` holds the seconds the last update
    spent computing and drawing; `timings` all of them. `widget()` wraps it in ipywidgets:
    a surface menu and sliders for lr, adaptive lr, momentum, β₁, β₂ and steps.

    Updates are serialised by a lock: ipywidgets may deliver slider messages on another
    thread, and two redraws that overlap (one switching the surface, clearing the axes and
    caching a new background, while the other blits its lines over the old one) once left
    both surfaces drawn on top of each other and paths stacking up. Under the lock each
    update reads the settings, computes and draws as one unit, so the image always shows
    one surface and the paths of the settings named in its title.
    """

    def __init__(self, surface="ravine", optimizers=DEFAULT_OPTIMIZERS, steps=100,
                 momentum=0.9, beta1=0.9, beta2=0.999, lr=None, lr_adaptive=None,
                 figsize=(7.0, 4.4), dpi=90):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self.names = _names(optimizers, "OptimPathsPanel")
        self.figure = Figure(figsize=figsize, dpi=dpi)
        self.canvas = FigureCanvasAgg(self.figure)
        self.ax = self.figure.add_axes((0.08, 0.11, 0.62, 0.8))
        self.timings = []
        self.last_timing = None
        self._lock = threading.RLock()   # re-entrant: a redraw may trigger another one
        self.settings = {"steps": steps, "momentum": momentum, "beta1": beta1,
                         "beta2": beta2, "lr": lr, "lr_adaptive": lr_adaptive}
        self._set_surface(surface)

    def _set_surface(self, surface):
        self.surface = _surface(surface, "OptimPathsPanel")
        ax = self.ax
        ax.clear()
        _draw_surface(ax, self.surface)
        self.lines = {}
        for name in self.names:
            label, colour = OPTIMIZERS[name]
            (line,) = ax.plot([], [], "-", color=colour, lw=1.6, marker="o", ms=1.8,
                              label=label, animated=True)
            self.lines[name] = line
        # the legend sits outside the axes, in the background; the status text is redrawn
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)
        self.text = ax.text(1.02, 0.0, "", transform=ax.transAxes, fontsize=7, va="bottom",
                            family="monospace", animated=True)
        self.title = ax.set_title("", fontsize=8)
        self.title.set_animated(True)
        self.canvas.draw()
        self._background = self.canvas.copy_from_bbox(self.figure.bbox)
        self.settings["lr"] = self.settings["lr_adaptive"] = None   # the surface's defaults

    def update(self, surface=None, **settings):
        """Recompute and redraw with new settings (keywords of `optimizer_paths`); returns
        the PNG bytes of the new figure. `surface` switches the surface (redraws contours)."""
        unknown = set(settings) - set(self.settings)
        if unknown:
            raise TypeError(f"OptimPathsPanel.update: unknown settings {sorted(unknown)}; "
                            f"use {sorted(self.settings)}")
        with self._lock:
            return self._update(surface, settings)

    def _update(self, surface, settings):
        if surface is not None and _surface(surface, "OptimPathsPanel").name != self.surface.name:
            self._set_surface(surface)
        self.settings.update(settings)
        s = self.settings
        t0 = time.perf_counter()
        paths = optimizer_paths(self.surface, self.names, s["steps"], s["lr"], s["lr_adaptive"],
                                s["momentum"], s["beta1"], s["beta2"])
        t1 = time.perf_counter()
        lr, lra, mom, b1, b2 = _settings(self.surface, s["lr"], s["lr_adaptive"], s["momentum"],
                                         s["beta1"], s["beta2"], "OptimPathsPanel")
        status = []
        for name, path in paths.items():
            self.lines[name].set_data(path[:, 0], path[:, 1])
            status.append(f"{name:9s}{_status(self.surface, path)}")
        self.text.set_text("\n".join(status))
        self.title.set_text(f"{self.surface.description}; {s['steps']} steps\nlr {lr:.3g}, "
                            f"adaptive lr {lra:.3g}, μ {mom:.3g}, β₁ {b1:.3g}, β₂ {b2:.4g}")
        png = blit_png(self.canvas, self._background,
                       (*self.lines.values(), self.text, self.title))
        t2 = time.perf_counter()
        self.last_timing = {"compute": t1 - t0, "draw": t2 - t1, "total": t2 - t0}
        self.timings.append(self.last_timing)
        return png

    def widget(self):
        """An ipywidgets VBox: the image, a surface menu and the sliders."""
        w = widgets()
        s = self.settings
        image = w.Image(value=self.update(), format="png")
        style = {"description_width": "initial"}
        surf = w.Dropdown(options=list(SURFACES), value=self.surface.name,
                          description="surface")
        lr = w.FloatLogSlider(value=self.surface.lr, base=10, min=-3, max=1, step=0.02,
                              description="lr (GD, momentum)", readout_format=".3g",
                              style=style, continuous_update=True)
        lra = w.FloatLogSlider(value=self.surface.lr_adaptive, base=10, min=-3, max=0.5,
                               step=0.02, description="lr (adaptive)", readout_format=".3g",
                               style=style)
        mom = w.FloatSlider(value=s["momentum"], min=0.0, max=0.99, step=0.01,
                            description="momentum μ", style=style)
        b1 = w.FloatSlider(value=s["beta1"], min=0.0, max=0.99, step=0.01,
                           description="β₁", style=style)
        b2 = w.FloatSlider(value=s["beta2"], min=0.5, max=0.9999, step=0.0001,
                           description="β₂ (= RMSprop α)", readout_format=".4f", style=style)
        steps = w.IntSlider(value=s["steps"], min=5, max=500, step=5, description="steps",
                            style=style)
        timing = w.Label()

        resetting = []   # non-empty while a surface switch resets the learning-rate sliders

        def redraw(_=None):
            # The whole read-compute-show under the panel's lock, so that an image computed
            # from older slider values can never replace a newer one.
            with self._lock:
                if resetting:        # a slider reset inside a surface switch: drawn below
                    return
                if surf.value != self.surface.name:
                    new = SURFACES[surf.value]
                    resetting.append(True)
                    try:     # each assignment fires redraw again, which returns at once
                        lr.value, lra.value = new.lr, new.lr_adaptive
                    finally:
                        resetting.clear()
                image.value = self.update(surface=surf.value, lr=lr.value,
                                          lr_adaptive=lra.value, momentum=mom.value,
                                          beta1=b1.value, beta2=b2.value, steps=steps.value)
                t = self.last_timing
                timing.value = (f"redraw {1000 * t['total']:.0f} ms (paths "
                                f"{1000 * t['compute']:.0f} ms, drawing {1000 * t['draw']:.0f} ms)")

        for control in (surf, lr, lra, mom, b1, b2, steps):
            control.observe(redraw, names="value")
        redraw()
        return w.VBox([w.HBox([surf, steps]), w.HBox([lr, lra]), w.HBox([mom, b1, b2]),
                       image, timing])


def optim_paths_widget(surface="ravine", optimizers=DEFAULT_OPTIMIZERS, steps=100):
    """The live panel as an ipywidgets VBox: `OptimPathsPanel(...).widget()`. Its static twin
    is `plot_optim_paths_grid`."""
    return OptimPathsPanel(surface, optimizers, steps).widget()
