"""The training loop: `fit` runs epochs of minibatch steps and returns a `History`.

    history = fit(model, CrossEntropyLoss(), SGD(model.parameters(), lr=0.1),
                  train=(X, y), val=val_split, epochs=20, rng=0)
    history.plot()

Each step is the five lines every framework shares: forward, loss, zero the
gradients, backward, update. After each epoch the model is evaluated (in eval
mode) on the whole training and validation sets, so the numbers in the History are
those of the model as it stands at the end of the epoch, not running averages.
"""
import contextlib
import math
import time

import numpy as np

from . import _checks
from ._random import get_rng
from .backend import get_array_module
from .data import Split, minibatches
from .errors import ShapeError

__all__ = ["History", "TrainingDiverged", "evaluate", "fit"]


class TrainingDiverged(FloatingPointError):
    """The loss became NaN or infinite; `.epoch` and `.step` say where (both from 0).

    `.history` holds the History of the epochs that finished before it (set by fit), so
    a diverging run can still be plotted.
    """

    def __init__(self, message, epoch=None, step=None, last_loss=None):
        super().__init__(message)
        self.epoch, self.step, self.last_loss = epoch, step, last_loss
        self.history = None


class History:
    """Per-epoch record of a `fit` run. Epochs count from 0, as `schedule.lr_at(epoch)`.

    epochs: [0, 1, ...]; train_loss, val_loss: mean loss on the whole set at the end
    of each epoch (val_loss empty without a validation set); train_acc, val_acc:
    accuracies in [0, 1] (empty unless the targets are integer class labels); lr: the
    learning rate of param group 0 at the end of each epoch (the epoch's rate, or with
    a per-step schedule the rate of its last step); seconds: wall time of each
    epoch's training steps (evaluation not included); stopped_early: True when a
    callback stopped the run.
    """

    METRICS = ("train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds")

    def __init__(self):
        self.epochs = []
        for name in self.METRICS:
            setattr(self, name, [])
        self.stopped_early = False

    def __len__(self):
        return len(self.epochs)

    def as_dict(self):
        """{"epochs": [...], "train_loss": [...], ...}: copies of every list."""
        return {name: list(getattr(self, name)) for name in ("epochs",) + self.METRICS}

    def best(self, metric="val_acc"):
        """(epoch, value) where `metric` was best: highest for accuracies, lowest otherwise."""
        if metric not in self.METRICS:
            raise ValueError(f"History.best: metric must be one of {self.METRICS}, "
                             f"got {metric!r}")
        values = getattr(self, metric)
        if not values:
            raise ValueError(f"History.best: no {metric} was recorded (accuracies need integer "
                             f"class labels; validation metrics need fit(..., val=...))")
        pick = np.argmax if metric.endswith("_acc") else np.argmin
        i = int(pick(values))
        return self.epochs[i], values[i]

    def plot(self, title=None):
        """Loss curves (left, log scale) and accuracy curves (right; the learning rate
        when there is no accuracy) against the epoch. Returns the matplotlib Figure."""
        from .viz._mpl import pyplot  # the core's only use of viz, and only when asked

        if not self.epochs:
            raise ValueError("History.plot: nothing to plot, no epoch was recorded")
        plt = pyplot()
        fig, (ax_loss, ax_right) = plt.subplots(1, 2, figsize=(9, 3.2))
        x = np.asarray(self.epochs)
        for values, label, color in ((self.train_loss, "training", "C0"),
                                     (self.val_loss, "validation", "C1")):
            if values:
                ax_loss.plot(x, values, "o-", ms=3, color=color, label=label)
        ax_loss.set_yscale("log")
        ax_loss.set_ylabel("loss")
        if self.train_acc:
            for values, label, color in ((self.train_acc, "training", "C0"),
                                         (self.val_acc, "validation", "C1")):
                if values:
                    ax_right.plot(x, 100 * np.asarray(values), "o-", ms=3, color=color,
                                  label=label)
            ax_right.set_ylabel("accuracy (%)")
        else:
            ax_right.plot(x, self.lr, "o-", ms=3, color="C2", label="learning rate")
            ax_right.set_ylabel("learning rate")
        for ax in (ax_loss, ax_right):
            ax.set_xlabel("epoch")
            ax.grid(True, alpha=0.3)
            ax.legend(fontsize=8)
        if title:
            fig.suptitle(title, fontsize=11)
        fig.tight_layout()
        return fig

    def __repr__(self):
        if not self.epochs:
            return "History(no epochs)"
        parts = [f"{len(self)} epochs", f"train_loss {self.train_loss[-1]:.4g}"]
        for name in ("train_acc", "val_loss", "val_acc"):
            if getattr(self, name):
                parts.append(f"{name} {getattr(self, name)[-1]:.4g}")
        if self.stopped_early:
            parts.append("stopped early")
        return f"History({', '.join(parts)})"


# -- the loop ----------------------------------------------------------------------------


def fit(model, loss, optimizer, train, val=None, epochs=10, batch_size=32, schedule=None,
        clip=None, callbacks=(), progress=True, rng=None, drop_last=False,
        schedule_per="epoch", after_backward=None, transform=None):
    """Train `model` for `epochs` passes over `train`; return a `History`.

    train, val: a `dlcore.data.Split` or an `(X, y)` tuple, X (N, ...), y (N, ...).
    schedule: object with `lr_at(t)`; every group's lr is set to `lr_at(epoch)` at the
    start of each epoch, or with schedule_per="step" to `lr_at(step)` before every
    optimizer step, counting steps over the whole run (cyclic rates, warm-up).
    after_backward: callable(params) run after each backward, before clipping and the
    step: the place for a penalty's gradient (e.g. `lambda ps: add_l1_grad_(ps, 1e-4)`).
    clip: callable(params) run after that, before the step (gradient clipping, e.g.
    `lambda ps: clip_grad_norm(ps, 1.0)`). transform: callable(xb, yb) -> (xb, yb)
    applied to every training minibatch, never to evaluation (augmentation).
    Frozen parameters (`module.freeze()`) get no gradient and no update.
    callbacks: objects with any of three optional hooks:
    `on_step_end(model)` after each optimizer step (e.g. an EMA of the weights),
    `on_epoch_end(epoch, history, model)`, returning True to stop training, and
    `on_train_end(history, model)` once when fit returns (not when it raises).
    progress: show a tqdm bar over epochs. rng: shuffles the minibatches (int seed,
    Generator, or None for the default generator). drop_last: skip each epoch's final
    batch when it is smaller than batch_size (a batch of one breaks batch norm).
    Raises TrainingDiverged as soon as a step's loss, or the end-of-epoch training
    loss, is NaN or infinite; its `.history` holds the epochs finished before.
    """
    if schedule_per not in ("epoch", "step"):
        raise ValueError(f"fit: schedule_per must be 'epoch' or 'step', got {schedule_per!r}")
    for name, hook in (("after_backward", after_backward), ("clip", clip),
                       ("transform", transform)):
        if hook is not None and not callable(hook):
            raise TypeError(f"fit: {name} must be a callable or None, got {type(hook).__name__}")
    X, y = _as_xy(train, "train")
    val = None if val is None else _as_xy(val, "val")
    epochs = _checks.positive_int(epochs, "epochs", "fit")
    batch_size = _checks.positive_int(batch_size, "batch_size", "fit")
    callbacks = _as_callbacks(callbacks)
    rng = get_rng(rng)
    params = model.parameters()
    history = History()
    last_loss, global_step = None, 0
    try:
        with _progress_bar(epochs, progress) as bar:
            for epoch in bar:
                if schedule is not None and schedule_per == "epoch":
                    _set_lr(optimizer, schedule.lr_at(epoch))
                start = time.perf_counter()
                batches = minibatches(X, y, batch_size, shuffle=True, rng=rng,
                                      drop_last=drop_last)
                for step, (xb, yb) in enumerate(batches):
                    if transform is not None:
                        xb, yb = transform(xb, yb)
                    if schedule is not None and schedule_per == "step":
                        _set_lr(optimizer, schedule.lr_at(global_step))
                    model.train()
                    value = loss(model(xb), yb)
                    _check_finite(value, epoch, step, last_loss, optimizer)
                    last_loss = value
                    optimizer.zero_grad()
                    model.backward_params(loss.backward())  # the input is data: no dx needed
                    if after_backward is not None:
                        after_backward(params)
                    if clip is not None:
                        clip(params)
                    optimizer.step()
                    global_step += 1
                    _call_hook(callbacks, "on_step_end", model)
                seconds = time.perf_counter() - start
                _record_epoch(history, model, loss, optimizer, epoch, seconds, (X, y), val)
                _check_finite(history.train_loss[-1], epoch, step, last_loss, optimizer,
                              after_step=True)
                _show(bar, history)
                if _callbacks_say_stop(callbacks, epoch, history, model):
                    history.stopped_early = True
                    break
    except TrainingDiverged as exc:
        exc.history = history  # the epochs that finished, for plotting a diverging run
        raise
    _call_hook(callbacks, "on_train_end", history, model)
    return history


def evaluate(model, loss, X, y, batch_size=512):
    """Mean loss over (X, y) and accuracy (None unless y holds integer class labels and
    the model outputs (N, classes) scores), computed in eval mode, `batch_size` rows at
    a time. The model's train/eval mode is restored afterwards. Returns (loss, acc)."""
    X, y = _as_xy((X, y), "evaluate")
    batch_size = _checks.positive_int(batch_size, "batch_size", "evaluate")
    was_training = model.training
    model.eval()
    total, correct, classify = 0.0, 0, y.dtype.kind in "iu"
    try:
        for xb, yb in minibatches(X, y, batch_size, shuffle=False):
            out = model(xb)
            total += loss(out, yb) * len(yb)  # a batch mean times its size
            classify = classify and out.ndim == 2
            if classify:
                correct += int((get_array_module(out).argmax(out, axis=1) == yb).sum())
    finally:
        model.train(was_training)
    n = len(y)
    return total / n, (correct / n if classify else None)


# -- helpers of fit ------------------------------------------------------------------------


def _as_xy(data, name):
    """(X, y) from a Split or a pair, with matching lengths."""
    if isinstance(data, Split):
        X, y = data.X, data.y
    elif isinstance(data, (tuple, list)) and len(data) == 2:
        X, y = data
    else:
        raise TypeError(f"{name} must be a dlcore.data.Split or an (X, y) tuple, "
                        f"got {type(data).__name__}")
    for arr, label in ((X, "X"), (y, "y")):
        if not hasattr(arr, "shape") or len(arr.shape) == 0:
            raise TypeError(f"{name}: {label} must be an array with one row per example, "
                            f"got {type(arr).__name__}")
    if X.shape[0] != y.shape[0]:
        raise ShapeError(f"{name}: X has {X.shape[0]} rows but y has {y.shape[0]}; "
                         f"they must match")
    if X.shape[0] == 0:
        raise ShapeError(f"{name}: the data set is empty (X has shape {tuple(X.shape)})")
    return X, y


_HOOKS = ("on_step_end", "on_epoch_end", "on_train_end")


def _as_callbacks(callbacks):
    if any(hasattr(callbacks, hook) for hook in _HOOKS):  # a single callback, not in a list
        return (callbacks,)
    return tuple(callbacks)


def _call_hook(callbacks, name, *args):
    """Call the hook `name` on every callback that has it."""
    for cb in callbacks:
        hook = getattr(cb, name, None)
        if hook is not None:
            hook(*args)


def _progress_bar(epochs, progress):
    """A tqdm bar over the epochs, or a plain range when progress is off."""
    if not progress:
        return contextlib.nullcontext(range(epochs))
    from tqdm.auto import tqdm  # imported only here: the core needs numpy alone

    # No monitor thread: tqdm's watchdog thread is nothing but a risk in a kernel (it is
    # there to refresh bars that stall for 10 s; these update every epoch).
    tqdm.monitor_interval = 0
    return tqdm(range(epochs), desc="fit", unit="epoch")


def _show(bar, history):
    if hasattr(bar, "set_postfix"):
        latest = {name: f"{getattr(history, name)[-1]:.4g}"
                  for name in ("train_loss", "val_loss", "val_acc") if getattr(history, name)}
        bar.set_postfix(latest)


def _set_lr(optimizer, lr):
    lr = _checks.number(lr, "schedule.lr_at(epoch)", "fit", low=0.0, high=math.inf,
                        high_inclusive=False)
    for group in optimizer.param_groups:
        group["lr"] = lr


def _check_finite(value, epoch, step, last_loss, optimizer, after_step=False):
    """Raise TrainingDiverged if the loss is NaN or infinite, saying where and what to try."""
    if math.isfinite(value):
        return
    where = f"after step {step}" if after_step else f"step {step}"
    last = "none" if last_loss is None else f"{last_loss:.4g}"
    lr = optimizer.param_groups[0]["lr"]
    raise TrainingDiverged(
        f"training diverged at epoch {epoch}, {where} (both counted from 0): the loss is "
        f"{value}; the last finite loss was {last}. Try a lower learning rate (lr is {lr:g}) "
        f"or gradient clipping (fit(..., clip=...)).",
        epoch=epoch, step=step, last_loss=last_loss,
    )


def _record_epoch(history, model, loss, optimizer, epoch, seconds, train, val):
    """Evaluate on the whole train (and val) set and append one row to the history."""
    history.epochs.append(epoch)
    history.lr.append(optimizer.param_groups[0]["lr"])
    history.seconds.append(seconds)
    for prefix, data in (("train", train), ("val", val)):
        if data is None:
            continue
        value, acc = evaluate(model, loss, *data)
        getattr(history, f"{prefix}_loss").append(value)
        if acc is not None:
            getattr(history, f"{prefix}_acc").append(acc)


def _callbacks_say_stop(callbacks, epoch, history, model):
    """Run every callback's on_epoch_end; True if any asks to stop (all of them run)."""
    stop = False
    for cb in callbacks:
        hook = getattr(cb, "on_epoch_end", None)
        if hook is not None and hook(epoch, history, model):
            stop = True
    return stop
