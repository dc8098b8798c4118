"""Regularisation: penalties on the weights, an L1 penalty on activations, max-norm
constraints, early stopping, weight averaging (EMA / Polyak) and label smoothing.

    weights = weights_only(model)                # the W's: biases and BN parameters excluded
    value = loss(model(x), y) + l2_penalty(weights, 1e-3)
    ...backward...
    add_l2_grad_(weights, 1e-3)                  # grad += 1e-3 * W: SGD(weight_decay=1e-3)'s term
    optimizer.step()
    max_norm_(model[0], c=3.0)                   # each unit's incoming weights: norm <= 3

    fit(model, loss, opt, train, val=val, callbacks=[EarlyStopping(patience=5), EMA(model)])

`params` arguments take a list of `Parameter`s, a single `Parameter`, or a `Module`
(all of its parameters; pass `weights_only(model)` to leave biases alone).
Math is written with `xp`, so it runs on numpy or CuPy arrays.
"""
import contextlib
import math
import numbers

import numpy as np

from . import _checks
from .backend import get_array_module
from .errors import ShapeError
from .nn.module import Module, Parameter, as_parameter_list

__all__ = [
    "EMA",
    "ActivityL1",
    "EarlyStopping",
    "add_l1_grad_",
    "add_l2_grad_",
    "l1_penalty",
    "l2_penalty",
    "max_norm_",
    "smooth_labels",
    "weights_only",
]


def _as_params(params, where):
    """Parameters to regularise: at least one (see dlcore.nn.module.as_parameter_list)."""
    return as_parameter_list(params, where, allow_empty=False)


def _strength(value, name, where):
    return _checks.number(value, name, where, low=0.0, high=math.inf, high_inclusive=False)


# -- penalties -----------------------------------------------------------------------------


def weights_only(model):
    """The parameters of `model` named `W` (Linear, Conv2d, Maxout weights), in order.

    Biases and BatchNorm's gamma/beta are left out, the usual practice for weight
    decay and max-norm: they have few entries and do not cause overfitting.
    """
    if not isinstance(model, Module):
        raise TypeError(f"weights_only: model must be a dlcore.nn.Module, "
                        f"got {type(model).__name__}")
    weights = [p for name, p in model.named_parameters() if name.rpartition(".")[2] == "W"]
    if not weights:
        raise ValueError(f"weights_only: {type(model).__name__} has no parameter named W "
                         f"(its parameters: {[n for n, _ in model.named_parameters()]})")
    return weights


def l2_penalty(params, weight_decay):
    """(weight_decay / 2) * sum over params of ||W||^2 (squared Frobenius norm), a float.

    Its gradient is weight_decay * W (`add_l2_grad_`), which is exactly the term that
    `SGD(..., weight_decay=weight_decay)` adds to each gradient.
    """
    params = _as_params(params, "l2_penalty")
    weight_decay = _strength(weight_decay, "weight_decay", "l2_penalty")
    return 0.5 * weight_decay * sum(float((p.data * p.data).sum()) for p in params)


def add_l2_grad_(params, weight_decay):
    """In place: p.grad += weight_decay * p.data for every p (the gradient of
    `l2_penalty`). Returns None. A plain SGD step afterwards is the weight-decay step
    W <- W - lr (g + λW) = (1 - lr λ) W - lr g."""
    params = _as_params(params, "add_l2_grad_")
    weight_decay = _strength(weight_decay, "weight_decay", "add_l2_grad_")
    for p in params:
        p.grad += weight_decay * p.data


def l1_penalty(params, strength):
    """strength * sum over params of sum |W|, a float."""
    params = _as_params(params, "l1_penalty")
    strength = _strength(strength, "strength", "l1_penalty")
    return strength * sum(float(get_array_module(p.data).abs(p.data).sum()) for p in params)


def add_l1_grad_(params, strength):
    """In place: p.grad += strength * sign(p.data) (the subgradient of `l1_penalty`,
    taken as 0 where W = 0). Returns None."""
    params = _as_params(params, "add_l1_grad_")
    strength = _strength(strength, "strength", "add_l1_grad_")
    for p in params:
        p.grad += strength * get_array_module(p.data).sign(p.data)


# -- a penalty on activations ----------------------------------------------------------------


class ActivityL1(Module):
    """An L1 penalty on the activations that pass through it; the identity on the values.

    Put it after the layer whose outputs should be sparse, e.g.
    `Sequential(Linear(64, 128), ReLU(), ActivityL1(1e-3), Linear(128, 10))`. For an input h
    of shape (N, ...) (N examples first) the penalty is

        lam * sum |h| / N        (lam times the mean over the batch of each example's L1 norm)

    and backward returns dout + lam * sign(h) / N: the gradient of the penalty added to the
    gradient coming from above, as if the penalty were part of the (batch-mean) loss. sign(0)
    is taken as 0, so an exactly-zero activation (a ReLU that is off) feels no pull. This is
    Keras's `activity_regularizer=L1(lam)` divided by the batch size, as tf.keras 2 did; Keras
    3 adds lam * sum |h| over the whole batch, undivided, so a Keras 3 lam is this lam / N.

    `penalty` holds the last forward's penalty (a float; 0.0 in eval mode, where nothing is
    added to the gradient either). `fit` does not see it: its reported training loss is the
    loss alone; add `layer.penalty` yourself to report the full objective.
    """

    def __init__(self, lam):
        super().__init__()
        self.lam = _strength(lam, "lam", "ActivityL1")
        self.penalty = 0.0

    def forward(self, h):
        h = _checks.float_array(h, "input", "ActivityL1", min_ndim=1)
        xp = get_array_module(h)
        if not self.training:
            self.penalty = 0.0
            return self._save_for_backward(h, (None, 1))
        n = h.shape[0]
        self.penalty = self.lam * float(xp.abs(h).sum()) / n
        return self._save_for_backward(h, (xp.sign(h), n))

    def backward(self, dout):
        sign, n = self._cache_for(dout)
        if sign is None:
            return dout
        return dout + (self.lam / n) * sign.astype(dout.dtype)

    def extra_repr(self):
        return f"lam={self.lam:g}"


# -- max-norm --------------------------------------------------------------------------------


def max_norm_(layer_or_param, c, axis=0):
    """Rescale each unit's incoming weight vector to Euclidean norm <= c, in place.

    layer_or_param: a Module with a parameter `W` (e.g. Linear) or a Parameter.
    axis: the axis (int or tuple) holding one unit's incoming weights. For Linear's
    W of shape (in, out) that is axis=0: column j, W[:, j], feeds unit j. For a
    Conv2d weight (C_out, C_in, kH, kW) use axis=(1, 2, 3).
    Each vector w with ||w|| > c becomes w * c / ||w||; vectors already within c are
    left exactly as they were. Returns the norms BEFORE rescaling: an array of W's
    shape without `axis` (shape (out,) for Linear).
    """
    where = "max_norm_"
    if isinstance(layer_or_param, Parameter):
        p = layer_or_param
    elif isinstance(layer_or_param, Module):
        p = getattr(layer_or_param, "W", None)
        if not isinstance(p, Parameter):
            raise TypeError(f"{where}: {type(layer_or_param).__name__} has no weight "
                             f"parameter W; pass the Parameter itself")
    else:
        raise TypeError(f"{where}: expected a layer with a weight W or a Parameter, "
                        f"got {type(layer_or_param).__name__}")
    c = _checks.number(c, "c", where, low=0.0, high=math.inf, low_inclusive=False,
                       high_inclusive=False)
    axes = _axes(axis, p.data.ndim, where)
    xp = get_array_module(p.data)
    norms = xp.sqrt((p.data * p.data).sum(axis=axes, keepdims=True))
    # c / max(norm, c) is exactly 1 for vectors within c, and c / norm otherwise.
    p.data *= c / xp.maximum(norms, c)
    return norms.squeeze(axis=axes)


def _axes(axis, ndim, where):
    """axis as a sorted tuple of non-negative ints, each in range for `ndim`."""
    items = axis if isinstance(axis, (tuple, list)) else (axis,)
    out = []
    for a in items:
        if isinstance(a, bool) or not isinstance(a, numbers.Integral):
            raise TypeError(f"{where}: axis must be an int or a tuple of ints, got {axis!r}")
        if not -ndim <= a < ndim:
            raise ShapeError(f"{where}: axis {a} is out of range for a weight with {ndim} "
                             f"dimensions")
        out.append(int(a) % ndim)
    if not out or len(set(out)) != len(out):
        raise ValueError(f"{where}: axis must name distinct axes, got {axis!r}")
    if len(out) == ndim:
        raise ValueError(f"{where}: axis {axis!r} covers every axis of W, leaving no units; "
                         f"for a (in, out) Linear weight use axis=0")
    return tuple(sorted(out))


# -- early stopping --------------------------------------------------------------------------


_MONITORS = ("train_loss", "train_acc", "val_loss", "val_acc")


class EarlyStopping:
    """A `fit` callback that stops when the monitored metric stops improving.

    monitor: the History list to watch ("val_loss", "val_acc", "train_loss",
    "train_acc"). mode: "min", "max", or "auto" (max for names containing "acc",
    min otherwise). An epoch improves on the best so far when, in min mode,
    value < best - min_delta (max mode: value > best + min_delta); the first epoch
    always does. After `patience` epochs in a row without improvement, the callback
    asks fit to stop. With restore_best, it keeps a copy (`state_dict`) of the model
    at the best epoch and loads it back when it stops, or when fit ends without a stop
    (`on_train_end`).

    Attributes: best_epoch, best_value (None before the first epoch), stopped_epoch
    (the epoch after which it stopped, None if it did not), wait (epochs since the
    best). A new History (a new fit call) starts the count afresh.
    """

    def __init__(self, patience=5, min_delta=0.0, monitor="val_loss", mode="auto",
                 restore_best=True):
        where = "EarlyStopping"
        if isinstance(patience, bool) or not isinstance(patience, numbers.Integral) \
                or patience < 0:
            raise ValueError(f"{where}: patience must be a non-negative integer, "
                             f"got {patience!r}")
        self.patience = int(patience)
        self.min_delta = _checks.number(min_delta, "min_delta", where, low=0.0, high=math.inf,
                                        high_inclusive=False)
        if monitor not in _MONITORS:
            raise ValueError(f"{where}: monitor must be one of {_MONITORS}, got {monitor!r}")
        self.monitor = monitor
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"{where}: mode must be 'auto', 'min' or 'max', got {mode!r}")
        self.mode = ("max" if "acc" in monitor else "min") if mode == "auto" else mode
        if not isinstance(restore_best, bool):
            raise TypeError(f"{where}: restore_best must be True or False, "
                            f"got {restore_best!r}")
        self.restore_best = restore_best
        self.reset()

    def reset(self):
        """Forget the best epoch and the count (a new run)."""
        self.best_epoch = self.best_value = self.stopped_epoch = None
        self.wait = 0
        self.best_state = None
        self._history = None
        self._restored = False

    def _improves(self, value):
        if self.best_value is None:
            return True
        if self.mode == "min":
            return value < self.best_value - self.min_delta
        return value > self.best_value + self.min_delta

    def on_epoch_end(self, epoch, history, model):
        """Record this epoch's value; return True to stop (after restoring the best)."""
        if history is not self._history:
            self.reset()
            self._history = history
        values = getattr(history, self.monitor, None)
        if not values:
            hint = " (pass val=... to fit)" if self.monitor.startswith("val") else ""
            hint += " (accuracies need integer class labels)" if "acc" in self.monitor else ""
            raise ValueError(f"EarlyStopping: the history has no {self.monitor} to "
                             f"monitor{hint}")
        value = float(values[-1])
        if self._improves(value):
            self.best_epoch, self.best_value, self.wait = epoch, value, 0
            if self.restore_best:
                self.best_state = model.state_dict()
            return False
        self.wait += 1
        if self.wait < self.patience:
            return False
        self.stopped_epoch = epoch
        if self.restore_best:
            self.restore(model)
        return True

    def on_train_end(self, history, model):
        """fit has finished: load the best weights if they are not loaded already."""
        if self.restore_best and self.best_state is not None and not self._restored:
            self.restore(model)

    def restore(self, model):
        """Load the weights (parameters and buffers) of the best epoch into `model`."""
        if self.best_state is None:
            raise RuntimeError("EarlyStopping.restore: no best weights were kept yet "
                               "(no epoch seen, or restore_best=False)")
        model.load_state_dict(self.best_state)
        self._restored = True

    def __repr__(self):
        return (f"EarlyStopping(patience={self.patience}, min_delta={self.min_delta:g}, "
                f"monitor={self.monitor!r}, mode={self.mode!r}, "
                f"best_epoch={self.best_epoch}, stopped_epoch={self.stopped_epoch})")


# -- weight averaging ----------------------------------------------------------------------


class EMA:
    """Exponential moving average of parameters (Polyak averaging with decay).

    params_or_model: a Module (its parameters; buffers such as BatchNorm's running
    statistics are not averaged) or a list of Parameters. decay in [0, 1).
    `update()`, after each optimizer step, does for every parameter θ

        shadow <- decay * shadow + (1 - decay) * θ

    Without bias correction the shadow starts as a copy of θ at construction, so
    after t updates with values θ_1..θ_t it is
    decay^t θ_0 + (1 - decay) Σ_k decay^(t-k) θ_k. With bias_correction=True the
    shadow starts at 0 and the average is shadow / (1 - decay^t) (as Adam corrects
    its moments): weights (1 - decay) decay^(t-k) / (1 - decay^t) that sum to 1, with
    no pull toward θ_0; before the first update the average is θ itself.

    As a `fit` callback it updates after every step (`on_step_end`). Evaluate with
    the averaged weights inside `with ema.swapped(model): ...`.
    """

    def __init__(self, params_or_model, decay=0.999, bias_correction=False):
        where = "EMA"
        self.params = _as_params(params_or_model, where)
        self.decay = _checks.number(decay, "decay", where, low=0.0, high=1.0,
                                    high_inclusive=False)
        if not isinstance(bias_correction, bool):
            raise TypeError(f"{where}: bias_correction must be True or False, "
                            f"got {bias_correction!r}")
        self.bias_correction = bias_correction
        self.num_updates = 0
        if bias_correction:
            self.shadow = [get_array_module(p.data).zeros_like(p.data) for p in self.params]
        else:
            self.shadow = [p.data.copy() for p in self.params]

    def update(self):
        """shadow <- decay * shadow + (1 - decay) * θ for every parameter; returns None."""
        d = self.decay
        for i, (s, p) in enumerate(zip(self.shadow, self.params)):
            if tuple(p.data.shape) != tuple(s.shape):
                raise ShapeError(f"EMA.update: parameter {i} now has shape "
                                 f"{tuple(p.data.shape)} but its average {tuple(s.shape)}")
            s *= d
            s += (1.0 - d) * p.data
        self.num_updates += 1

    def on_step_end(self, model):
        """fit's hook after each optimizer step."""
        self.update()

    def averaged(self):
        """The averaged weights, one array per parameter (bias-corrected if asked)."""
        if not self.bias_correction:
            return [s.copy() for s in self.shadow]
        if self.num_updates == 0:
            return [p.data.copy() for p in self.params]
        scale = 1.0 / (1.0 - self.decay ** self.num_updates)
        return [s * scale for s in self.shadow]

    def _targets(self, model, where):
        if model is None:
            return self.params
        targets = _as_params(model, where)
        if len(targets) != len(self.params):
            raise ValueError(f"{where}: the model has {len(targets)} parameters but the EMA "
                             f"averages {len(self.params)}")
        for i, (t, s) in enumerate(zip(targets, self.shadow)):
            if tuple(t.data.shape) != tuple(s.shape):
                raise ShapeError(f"{where}: parameter {i} has shape {tuple(t.data.shape)} "
                                 f"but its average has shape {tuple(s.shape)}")
        return targets

    def copy_to(self, model=None):
        """Write the averaged weights into `model`'s parameters (default: the averaged
        parameters themselves), in place; the raw weights are lost."""
        for p, avg in zip(self._targets(model, "EMA.copy_to"), self.averaged()):
            p.data[...] = avg

    @contextlib.contextmanager
    def swapped(self, model=None):
        """Context manager: the averaged weights inside the block, the raw ones after
        it (also when the block raises)."""
        targets = self._targets(model, "EMA.swapped")
        raw = [p.data.copy() for p in targets]
        self.copy_to(targets)
        try:
            yield self
        finally:
            for p, r in zip(targets, raw):
                p.data[...] = r

    def __repr__(self):
        return (f"EMA(decay={self.decay:g}, bias_correction={self.bias_correction}, "
                f"{len(self.params)} parameters, {self.num_updates} updates)")


# -- label smoothing ---------------------------------------------------------------------------


def smooth_labels(y, num_classes, eps, dtype=np.float32):
    """Soft targets (N, C) = (1 - eps) * onehot(y) + eps / C.

    y: integer labels (N,) in [0, num_classes); eps in [0, 1]. Each row sums to 1.
    This is the target distribution q of `CrossEntropyLoss(label_smoothing=eps)`:
    -Σ_c q_c log p_c averaged over the batch equals that loss.
    """
    where = "smooth_labels"
    num_classes = _checks.positive_int(num_classes, "num_classes", where)
    eps = _checks.number(eps, "eps", where, low=0.0, high=1.0)
    if hasattr(y, "shape") and len(y.shape) != 1:
        raise ShapeError(f"{where}: y must be integer labels of shape (N,), "
                         f"got shape {tuple(y.shape)}")
    n = y.shape[0] if hasattr(y, "shape") else 0
    _checks.integer_labels(y, n, num_classes, where)
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"{where}: dtype must be a float type, got {dtype}")
    xp = get_array_module(y)
    q = xp.full((n, num_classes), eps / num_classes, dtype=dtype)
    q[xp.arange(n), y] += 1.0 - eps
    return q
