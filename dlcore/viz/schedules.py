"""Learning-rate schedules: their curves, and what they do to a short training run on digits.

    sched = make_schedule("cosine", lr0=0.1, epochs=20)
    run = schedule_training(sched, epochs=20)   # {"lr", "train_loss", "val_acc", "diverged", ...}
    plot_schedule_run(sched)                   # lr | training loss | validation accuracy
    schedule_widget()                          # the same, live (a SchedulePanel)
    plot_schedule_grid()                       # its static twin: one row per schedule

The training runs here count t in epochs (`fit` sets `lr_at(epoch)` at the start of each
epoch), so cyclic and warm-up steps are epochs too. Runs are cached by their settings, so
a widget that returns to a setting redraws at once. The live panel draws into one figure
that it keeps, at the pixel size the widget shows it, so the browser never stretches it.
"""
import functools
import io
import re
import threading
import time

import numpy as np

from .. import _checks
from .. import schedules as S
from ._mpl import pyplot, widgets

__all__ = [
    "SCHEDULE_GRID_SETTINGS",
    "SCHEDULE_KINDS",
    "SchedulePanel",
    "describe_schedule",
    "make_schedule",
    "plot_schedule_grid",
    "plot_schedule_run",
    "plot_schedules",
    "schedule_training",
    "schedule_widget",
]

# kind -> the make_schedule arguments it reads (besides lr0 and epochs)
SCHEDULE_KINDS = {
    "constant": (),
    "step": ("step_size", "gamma"),
    "exponential": ("gamma",),
    "inverse_time": ("k",),
    "linear": ("lr_min",),
    "inverse_sigmoid": ("k",),
    "cosine": ("lr_min",),
    "cyclic": ("step_size", "lr_min"),
    "warmup_cosine": ("warmup", "lr_min"),
}


def make_schedule(kind, lr0=0.1, epochs=20, step_size=5, gamma=0.5, k=1.0, lr_min=0.0,
                  warmup=3):
    """A dlcore schedule of the given kind, its parameters in epochs.

    constant: lr0. step: StepDecay(lr0, step_size, gamma). exponential:
    ExponentialDecay(lr0, gamma). inverse_time: InverseTimeDecay(lr0, k). linear:
    LinearDecay(lr0, epochs, end_lr=lr_min). inverse_sigmoid: InverseSigmoidDecay(lr0, k).
    cosine: CosineAnnealing(lr0, epochs, lr_min). cyclic: CyclicLR(lr_min, lr0, step_size)
    (lr0 is the peak). warmup_cosine: Warmup(CosineAnnealing(lr0, epochs - warmup,
    lr_min), warmup). Arguments a kind does not read are ignored (SCHEDULE_KINDS lists them).
    """
    if kind not in SCHEDULE_KINDS:
        raise ValueError(f"make_schedule: unknown kind {kind!r}; choose one of "
                         f"{', '.join(SCHEDULE_KINDS)}")
    epochs = _checks.positive_int(epochs, "epochs", "make_schedule")
    if kind == "constant":
        return S.Constant(lr0)
    if kind == "step":
        return S.StepDecay(lr0, step_size, gamma)
    if kind == "exponential":
        return S.ExponentialDecay(lr0, gamma)
    if kind == "inverse_time":
        return S.InverseTimeDecay(lr0, k)
    if kind == "linear":
        return S.LinearDecay(lr0, epochs, end_lr=lr_min)
    if kind == "inverse_sigmoid":
        return S.InverseSigmoidDecay(lr0, k)
    if kind == "cosine":
        return S.CosineAnnealing(lr0, epochs, lr_min)
    if kind == "cyclic":
        return S.CyclicLR(lr_min, lr0, step_size)
    warmup = _checks.positive_int(warmup, "warmup", "make_schedule")
    if warmup >= epochs:
        raise ValueError(f"make_schedule: warmup ({warmup}) must be shorter than the run "
                         f"({epochs} epochs)")
    return S.Warmup(S.CosineAnnealing(lr0, epochs - warmup, lr_min), warmup)


def describe_schedule(schedule, digits=3):
    """repr(schedule) with every long float rounded to `digits` significant digits:
    'CosineAnnealing(lr0=0.141, T_max=20, lr_min=0.0)', not lr0=0.14125375446227542."""
    return re.sub(r"\d+\.\d{4,}(?:e[-+]?\d+)?",
                  lambda m: f"{float(m.group()):.{digits}g}", repr(schedule))


def _plain_log_ticks(axis):
    """Label a log axis with plain numbers (0.01, 0.2) rather than 10⁻² or 2×10⁻¹. Powers of
    ten are always labelled; the minor ticks 2 and 5 only when the axis spans at most 1.5
    decades, and every minor tick when it spans less than 0.7 decades (so it keeps labels)."""
    from matplotlib.ticker import FuncFormatter

    def minor(x, pos=None):
        low, high = sorted(axis.get_view_interval())
        if low <= 0 or x <= 0:
            return ""
        span = np.log10(high / low)
        mantissa = x / 10 ** np.floor(np.log10(x) + 1e-9)
        if span < 0.7 or (span <= 1.5 and np.isclose(mantissa, (2, 5)).any()):
            return f"{x:g}"
        return ""

    axis.set_major_formatter(FuncFormatter(lambda x, pos=None: _plain_number(x)))
    axis.set_minor_formatter(FuncFormatter(minor))


def _plain_number(x):
    """0.01, 2, 1000 as they are; beyond 1e5 or below 1e-4 a short power of ten, '1e30'
    (not '1e+30' or '100000', and never 10⁻² or 2.42×10⁰)."""
    if x <= 0 or 1e-4 <= x < 1e5:
        return f"{x:g}"
    mantissa, exponent = f"{x:.2g}".split("e")
    return f"{mantissa}e{int(exponent)}"


@functools.lru_cache(maxsize=1)
def _digits():
    from ..data import load_digits

    return load_digits(rng=0)


_RUNS = {}  # (repr(schedule), epochs, seed, hidden, batch_size) -> run dict


def schedule_training(schedule, epochs=20, seed=0, hidden=64, batch_size=32):
    """Train a 64 -> hidden -> 10 ReLU network on digits with plain SGD whose learning rate
    is `schedule.lr_at(epoch)`; cached by (repr(schedule), epochs, seed, hidden, batch_size).

    Returns a dict: "epochs" (0..n-1 of the epochs that finished), "lr" (the rate each
    epoch used), "train_loss", "val_acc" (lists per finished epoch), "diverged" (None, or
    (epoch, step) where the loss became NaN/inf; the lists then stop before that epoch).
    """
    from .. import nn
    from ..losses import CrossEntropyLoss
    from ..optim import SGD
    from ..train import TrainingDiverged, fit

    epochs = _checks.positive_int(epochs, "epochs", "schedule_training")
    key = (repr(schedule), epochs, int(seed), int(hidden), int(batch_size))
    if key in _RUNS:
        return _RUNS[key]
    train, val, _ = _digits()
    model = nn.Sequential(nn.Linear(64, hidden, rng=100 + seed), nn.ReLU(),
                          nn.Linear(hidden, 10, rng=200 + seed))
    optimizer = SGD(model.parameters(), lr=schedule.lr_at(0))

    class _Keep:  # keeps the History, which fit does not return when it raises
        history = None

        def on_epoch_end(self, epoch, history, model):
            self.history = history

    keep, diverged = _Keep(), None
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            fit(model, CrossEntropyLoss(), optimizer, train, val, epochs=epochs,
                batch_size=batch_size, schedule=schedule, callbacks=[keep], progress=False,
                rng=seed)
    except TrainingDiverged as exc:
        diverged = (exc.epoch, exc.step)
    h = keep.history
    n = 0 if h is None else len(h)
    if diverged is not None:
        n = min(n, diverged[0])  # an epoch whose end-of-epoch loss was inf is not kept
    run = {"epochs": list(range(n)),
           "lr": [] if h is None else list(h.lr[:n]),
           "train_loss": [] if h is None else list(h.train_loss[:n]),
           "val_acc": [] if h is None else list(h.val_acc[:n]),
           "diverged": diverged}
    _RUNS[key] = run
    return run


def plot_schedules(schedules, steps, ax=None, log=False, title=None):
    """The learning-rate curves of several schedules on one Axes.

    schedules: {label: schedule}; steps: how many steps (t = 0..steps-1). log: log y axis.
    Returns the Axes.
    """
    plt = pyplot()
    if not schedules:
        raise ValueError("plot_schedules: no schedules given; pass {label: schedule}")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    t = np.arange(steps)
    for i, (label, schedule) in enumerate(schedules.items()):
        ax.plot(t, S.values(schedule, steps), lw=1.8, color=f"C{i % 10}", label=label)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("step t")
    ax.set_ylabel("learning rate")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def _style_run_axes(axes, epochs):
    """Labels, scales and limits of the lr | training loss | validation accuracy Axes."""
    ax_lr, ax_loss, ax_acc = axes
    ax_lr.set_ylabel("learning rate")
    ax_lr.set_ylim(bottom=0)
    ax_loss.set_yscale("log")
    _plain_log_ticks(ax_loss.yaxis)
    ax_loss.set_ylabel("training loss")
    ax_acc.set_ylabel("val. accuracy (%)")
    ax_acc.set_ylim(80, 100)  # where runs differ; see _accuracy_floor for runs ending low
    for ax in axes:
        ax.set_xlim(0.5, epochs + 0.5)
        ax.grid(True, alpha=0.3)
        ax.set_xlabel("epoch")


def _accuracy_floor(val_acc):
    """Bottom of the accuracy axis: 80% (where good runs differ; an early epoch below it
    leaves the axes), or, for a run that ends below 85%, low enough to show all of it."""
    acc = 100 * np.asarray(val_acc, dtype=float)
    if acc.size == 0 or acc[-1] >= 85:
        return 80.0
    return float(min(80.0, 10 * np.floor(acc.min() / 10)))


def _loss_limits(train_loss):
    """Log-axis limits around the positive training losses (a loss can round to 0.0 in
    float32 once every image is fitted), or None if there is none."""
    loss = np.asarray(train_loss, dtype=float)
    loss = loss[np.isfinite(loss) & (loss > 0)]
    if loss.size == 0:
        return None
    return float(loss.min()) / 1.5, float(loss.max()) * 1.5


def _draw_run(axes, schedule, epochs, seed, label=None):
    """lr curve, training loss and validation accuracy of one run on three Axes."""
    run = schedule_training(schedule, epochs, seed)
    x = np.arange(1, epochs + 1)
    ax_lr, ax_loss, ax_acc = axes
    ax_lr.plot(x, S.values(schedule, epochs), "o-", ms=2.5, color="C2")
    if label:
        ax_lr.set_title(label, fontsize=9, loc="left")
    done = np.asarray(run["epochs"]) + 1
    if run["train_loss"]:
        ax_loss.plot(done, run["train_loss"], "o-", ms=2.5, color="C0")
        ax_acc.plot(done, 100 * np.asarray(run["val_acc"]), "o-", ms=2.5, color="C1")
    if run["diverged"] is not None:
        epoch, step = run["diverged"]
        ax_loss.text(0.5, 0.5, f"diverged in epoch {epoch + 1}\n(step {step})",
                     transform=ax_loss.transAxes, ha="center", va="center", color="C3")
    elif run["val_acc"]:
        ax_acc.text(0.97, 0.05, f"final {100 * run['val_acc'][-1]:.1f}%",
                    transform=ax_acc.transAxes, ha="right", va="bottom", fontsize=8)
    _style_run_axes(axes, epochs)
    ax_acc.set_ylim(_accuracy_floor(run["val_acc"]), 100)
    return run


def plot_schedule_run(schedule, epochs=20, seed=0, title=None):
    """One schedule and the run it gives: lr per epoch | training loss (log) | validation
    accuracy. Returns the Figure (3 Axes)."""
    plt = pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(10.5, 2.9))
    _draw_run(axes, schedule, epochs, seed)
    fig.suptitle(title or describe_schedule(schedule), fontsize=9)
    fig.subplots_adjust(left=0.085, right=0.985, bottom=0.17, top=0.85, wspace=0.4)
    return fig


SCHEDULE_GRID_SETTINGS = (
    ("constant", {}),
    ("step", {"step_size": 7, "gamma": 0.1}),
    ("cosine", {}),
    ("cyclic", {"step_size": 3, "lr_min": 0.01}),
    ("warmup_cosine", {"warmup": 3}),
)


def plot_schedule_grid(settings=SCHEDULE_GRID_SETTINGS, lr0=0.1, epochs=21, seed=0):
    """Static twin of `schedule_widget`: one row per (kind, parameters) in `settings`,
    each `lr | training loss | validation accuracy`, all with the same seed. Returns the
    Figure (3 Axes per row)."""
    plt = pyplot()
    settings = list(settings)
    if not settings:
        raise ValueError("plot_schedule_grid: settings is empty; give (kind, {params}) pairs")
    fig, grid = plt.subplots(len(settings), 3, squeeze=False, sharex=True,
                             figsize=(10.5, 1.9 * len(settings) + 0.5))
    for r, (kind, params) in enumerate(settings):
        schedule = make_schedule(kind, lr0=lr0, epochs=epochs, **params)
        _draw_run(grid[r], schedule, epochs, seed, label=describe_schedule(schedule))
        if r < len(settings) - 1:
            for ax in grid[r]:
                ax.set_xlabel("")
    fig.suptitle(f"SGD on digits, {epochs} epochs, peak lr {lr0:g}", fontsize=10)
    fig.tight_layout()
    return fig


class SchedulePanel:
    """The live view behind `schedule_widget`: one Agg figure, kept, of exactly
    `width_px` x `height_px` pixels, redrawn for each schedule.

    `update(schedule)` trains (or takes from the cache) the run, redraws the three panels and
    returns the PNG; `last_timing` and `timings` hold the seconds it took ("train", "draw",
    "total"). The widget shows the PNG at its own pixel size, so it is never stretched.
    """

    def __init__(self, epochs=20, seed=0, width_px=960, height_px=290, dpi=100):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self.epochs, self.seed = epochs, seed
        self.width_px, self.height_px = int(width_px), int(height_px)
        self.figure = Figure(figsize=(width_px / dpi, height_px / dpi), dpi=dpi)
        self.canvas = FigureCanvasAgg(self.figure)
        self.axes = self.figure.subplots(1, 3)
        # left margin wide enough for tick labels such as 0.0010 and the axis label
        self.figure.subplots_adjust(left=0.085, right=0.985, bottom=0.17, top=0.85, wspace=0.4)
        self.timings, self.last_timing = [], None
        self._lock = threading.Lock()   # widget messages may arrive on another thread
        # the artists are made once and then moved: a full rebuild costs several times more
        _style_run_axes(self.axes, epochs)
        ax_lr, ax_loss, ax_acc = self.axes
        style = {"ms": 2.5, "marker": "o"}
        self._lr = ax_lr.plot([], [], color="C2", **style)[0]
        self._loss = ax_loss.plot([], [], color="C0", **style)[0]
        self._acc = ax_acc.plot([], [], color="C1", **style)[0]
        self._note = ax_loss.text(0.5, 0.5, "", transform=ax_loss.transAxes, ha="center",
                                  va="center", color="C3")
        self._final = ax_acc.text(0.97, 0.05, "", transform=ax_acc.transAxes, ha="right",
                                  va="bottom", fontsize=8)
        self._title = self.figure.suptitle("", fontsize=9)

    def update(self, schedule):
        """Redraw for `schedule`; returns PNG bytes of width_px x height_px."""
        from PIL import Image

        with self._lock:
            t0 = time.perf_counter()
            run = schedule_training(schedule, self.epochs, self.seed)
            t1 = time.perf_counter()
            x = np.arange(1, self.epochs + 1)
            lr = S.values(schedule, self.epochs)
            self._lr.set_data(x, lr)
            self.axes[0].set_ylim(0, max(float(lr.max()), 1e-12) * 1.05)
            done = np.asarray(run["epochs"]) + 1
            self._loss.set_data(done, run["train_loss"])
            self._acc.set_data(done, 100 * np.asarray(run["val_acc"]))
            limits = _loss_limits(run["train_loss"])
            if limits is not None:
                self.axes[1].set_ylim(*limits)
            self.axes[2].set_ylim(_accuracy_floor(run["val_acc"]), 100)
            if run["diverged"] is not None:
                epoch, step = run["diverged"]
                self._note.set_text(f"diverged in epoch {epoch + 1}\n(step {step})")
                self._final.set_text("")
            else:
                self._note.set_text("")
                self._final.set_text(f"final {100 * run['val_acc'][-1]:.1f}%")
            self._title.set_text(describe_schedule(schedule))
            self.canvas.draw()
            buf = io.BytesIO()
            rgba = np.asarray(self.canvas.buffer_rgba())
            Image.fromarray(rgba).convert("RGB").save(buf, format="png", compress_level=1)
            t2 = time.perf_counter()
            self.last_timing = {"train": t1 - t0, "draw": t2 - t1, "total": t2 - t0}
            self.timings.append(self.last_timing)
            return buf.getvalue()


def schedule_widget(kind="cosine", lr0=0.1, epochs=20, step_size=5, gamma=0.5, k=1.0,
                    lr_min=0.0, warmup=3, seed=0):
    """Live `plot_schedule_run`: choose the schedule and its parameters; each new setting
    trains the network afresh (settings seen before come from the cache) and the time the
    redraw took is shown under the image. Only the sliders the chosen kind reads are shown.
    Returns an ipywidgets VBox (rows of controls, a message, the image, the timing).
    """
    w = widgets()
    panel = SchedulePanel(epochs=epochs, seed=seed)
    # a slider redraws when released, not at every value it passes while dragged: each new
    # value trains a network (a fraction of a second), and a drag would queue dozens of them
    slider = {"style": {"description_width": "initial"}, "continuous_update": False}
    controls = {
        "kind": w.Dropdown(options=list(SCHEDULE_KINDS), value=kind, description="schedule"),
        "lr0": w.FloatLogSlider(value=lr0, base=10, min=-3, max=0.5, step=0.05,
                                description="lr0 (peak)", readout_format=".3g", **slider),
        "step_size": w.IntSlider(value=step_size, min=1, max=10, description="step_size",
                                 **slider),
        "gamma": w.FloatSlider(value=gamma, min=0.05, max=1.0, step=0.05, description="gamma",
                               **slider),
        "k": w.FloatLogSlider(value=k, base=10, min=-2, max=1, step=0.1, description="k",
                              readout_format=".3g", **slider),
        "lr_min": w.FloatSlider(value=lr_min, min=0.0, max=0.1, step=0.005,
                                description="lr_min / base_lr", readout_format=".3f",
                                **slider),
        "warmup": w.IntSlider(value=warmup, min=1, max=10, description="warm-up epochs",
                              **slider),
    }
    message = w.HTML()
    # shown at the PNG's own pixel width (narrower screens scale it down, never up)
    image = w.Image(format="png", layout=w.Layout(width=f"{panel.width_px}px", height="auto",
                                                  max_width="100%"))
    timing = w.Label()

    def show_relevant(change=None):
        wanted = SCHEDULE_KINDS[controls["kind"].value]
        for name in ("step_size", "gamma", "k", "lr_min", "warmup"):
            controls[name].layout.display = None if name in wanted else "none"

    def redraw(change=None):
        try:
            schedule = make_schedule(epochs=epochs, **{n: c.value for n, c in controls.items()})
        except ValueError as exc:
            message.value = f"<span style='color:#c00'>{exc}</span>"
            return
        message.value = ""
        image.value = panel.update(schedule)
        t = panel.last_timing
        timing.value = (f"redrawn in {t['total']:.2f} s (training {t['train']:.2f} s, "
                        f"drawing {t['draw']:.2f} s); settings seen before come from a cache")

    controls["kind"].observe(show_relevant, names="value")
    for control in controls.values():
        control.observe(redraw, names="value")
    show_relevant()
    redraw()
    box = w.VBox([w.HBox([controls["kind"], controls["lr0"]]),
                  w.HBox([controls[n] for n in ("step_size", "gamma", "k")]),
                  w.HBox([controls["lr_min"], controls["warmup"]]), message, image, timing])
    box.panel = panel   # for tests and for measuring the redraw time
    return box
