"""Loss functions: a scalar score of a batch of predictions, and its gradient.

Each loss is a small class used the same way::

    loss = CrossEntropyLoss()
    value = loss(logits, labels)   # a Python float
    dlogits = loss.backward()      # d(value)/d(logits): logits' shape and dtype

Definitions, defaults and reductions are PyTorch's (`torch.nn.functional`), so the
numbers match `torch.nn.<Name>Loss()` for the same inputs: the mean over all
elements, except CrossEntropy and MultiMargin, which average one value per sample
over the batch. The math is `dlcore.functional.losses` (forward/backward pairs); a
class is its door: it checks pred and target once, then calls the pair.
"""
import math

import numpy as np

from . import _checks
from . import functional as F
from .backend import get_array_module
from .errors import ShapeError

__all__ = [
    "BCEWithLogitsLoss",
    "CosineProximityLoss",
    "CrossEntropyLoss",
    "HuberLoss",
    "KLDivLoss",
    "L1Loss",
    "LogCoshLoss",
    "Loss",
    "MSELoss",
    "MultiMarginLoss",
    "PoissonNLLLoss",
]


def _value_range(t, name, where, low, high=None):
    """Raise ValueError if some entry of t lies outside [low, high]."""
    lo, hi = float(t.min()), float(t.max())
    if lo < low or (high is not None and hi > high):
        interval = f"[{low:g}, {high:g}]" if high is not None else f"[{low:g}, inf)"
        raise ValueError(
            f"{where}: {name} must lie in {interval}, got values from {lo:g} to {hi:g}"
        )


class Loss:
    """Base class: `loss(pred, target) -> float`, then `loss.backward() -> dpred`.

    A subclass names its functional pair (`_forward(pred, target, **hyper) -> (value,
    cache)`, `_backward(cache) -> dpred`) and its hyperparameters (`_hyper()`);
    `check_target` validates the target, by default a float array of pred's shape
    (regression-style losses).
    """

    _cache = None  # what backward needs, set by each call
    _pred_dtype = None
    _forward = None
    _backward = None

    def _hyper(self):
        return {}

    @property
    def _where(self):
        return type(self).__name__

    def check_target(self, pred, target):
        """Regression targets: float, pred's shape; returned in pred's dtype."""
        _checks.float_array(target, "target", self._where)
        _checks.same_shape(pred, target, "pred", "target", self._where)
        return target.astype(pred.dtype, copy=False)

    def value_ranges(self):
        """[("pred" or "target", name in messages, low, high or None)]: the intervals the
        values must lie in (none by default)."""
        return []

    def __call__(self, pred, target):
        _checks.float_array(pred, "pred", self._where)
        _checks.same_device(pred, target)
        if pred.size == 0:
            raise ShapeError(
                f"{self._where}: pred is empty (shape {tuple(pred.shape)}); "
                f"the mean of no values is undefined"
            )
        target = self.check_target(pred, target)
        ranges = [(pred if which == "pred" else target, name, low, high)
                  for which, name, low, high in self.value_ranges()]
        on_host = get_array_module(pred) is np
        if on_host:
            self._check_ranges(ranges)
        value, self._cache = self.forward(pred, target)
        if ranges and not on_host:
            # On a GPU a range check would wait for the device at every step: flag a value
            # out of range by a nan instead, and say why once the value is on the host.
            xp = get_array_module(pred)
            bad = xp.stack([((a < low) | (a > (xp.inf if high is None else high))).any()
                            for a, _, low, high in ranges]).any()
            value = xp.where(bad, xp.nan, value)
        self._pred_dtype = pred.dtype
        value = float(value)
        if ranges and not on_host and math.isnan(value):
            self._check_ranges(ranges)
        return value

    def _check_ranges(self, ranges):
        for a, name, low, high in ranges:
            _value_range(a, name, self._where, low, high)

    def backward(self):
        """d(value)/d(pred) for the last call, with pred's shape and dtype."""
        if self._cache is None:
            raise RuntimeError(
                f"{self._where}.backward() was called before the loss was computed; "
                f"call loss(pred, target) first"
            )
        return self.gradient(self._cache).astype(self._pred_dtype, copy=False)

    def forward(self, pred, target):
        """(value, cache) from the functional forward; pred and target already checked."""
        return type(self)._forward(pred, target, **self._hyper())

    def gradient(self, cache):
        return type(self)._backward(cache)

    def __repr__(self):
        return f"{type(self).__name__}()"


class MSELoss(Loss):
    """Mean squared error: mean((pred - target)^2) over all elements.

    pred, target: same shape (any). Gradient: 2 (pred - target) / n.
    """

    _forward = staticmethod(F.mse_forward)
    _backward = staticmethod(F.mse_backward)


class L1Loss(Loss):
    """Mean absolute error (MAE): mean(|pred - target|) over all elements.

    pred, target: same shape (any). Gradient: sign(pred - target) / n, 0 where they
    are equal (as PyTorch).
    """

    _forward = staticmethod(F.l1_forward)
    _backward = staticmethod(F.l1_backward)


class HuberLoss(Loss):
    """Huber loss, the mean over all elements of, with d = pred - target,

        0.5 d^2                  if |d| < delta
        delta (|d| - delta / 2)  otherwise

    (PyTorch's `huber_loss`; the two pieces meet with equal value and slope at
    |d| = delta). pred, target: same shape. Gradient: clip(d, -delta, delta) / n.
    """

    _forward = staticmethod(F.huber_forward)
    _backward = staticmethod(F.huber_backward)

    def __init__(self, delta=1.0):
        self.delta = _checks.number(delta, "delta", "HuberLoss", low=0.0, low_inclusive=False)

    def _hyper(self):
        return {"delta": self.delta}

    def __repr__(self):
        return f"HuberLoss(delta={self.delta:g})"


class _ClassScoresLoss(Loss):
    """Losses on class scores (N, C) against integer labels (N,).

    Labels are range-checked here for host (numpy) arrays; on a GPU that check would
    wait for the device at every step, so there `fit` checks the labels once when the
    data enters, and an out-of-range label met here turns the value into nan, which is
    then reported with the same message (the value is copied to the host anyway).
    """

    def check_target(self, pred, target):
        if pred.ndim != 2:
            raise ShapeError(
                f"{self._where}: pred must be class scores of shape (N, C), "
                f"got shape {tuple(pred.shape)}"
            )
        n, c = pred.shape
        on_host = get_array_module(target) is np
        _checks.integer_labels(target, n, c, self._where, check_range=on_host)
        return target

    def forward(self, pred, labels):
        value, cache = super().forward(pred, labels)
        xp = get_array_module(labels)
        if xp is not np:  # on the device: flag bad labels without waiting for the device
            bad = ((labels < 0) | (labels >= pred.shape[1])).any()
            value = xp.where(bad, xp.nan, value)
        return value, cache

    def __call__(self, pred, target):
        value = super().__call__(pred, target)
        if math.isnan(value) and get_array_module(target) is not np:  # bad labels?
            _checks.integer_labels(target, *pred.shape, self._where)
        return value


class CrossEntropyLoss(_ClassScoresLoss):
    """Softmax cross-entropy on logits, averaged over the batch.

    pred: logits (N, C), any real numbers; target: integer labels (N,) in [0, C).
    With p = softmax(pred) and smoothing eps, sample n contributes

        (1 - eps) * (-log p[n, y_n])  +  eps * mean_c(-log p[n, c])

    i.e. cross-entropy against the target distribution q = (1 - eps) onehot(y) + eps / C
    (PyTorch's `label_smoothing`). Gradient: (p - q) / N. log p comes from
    `log_softmax`, so logits far apart (e.g. 1000) give finite values.
    """

    _forward = staticmethod(F.cross_entropy_forward)
    _backward = staticmethod(F.cross_entropy_backward)

    def __init__(self, label_smoothing=0.0):
        self.label_smoothing = _checks.number(
            label_smoothing, "label_smoothing", "CrossEntropyLoss", low=0.0, high=1.0
        )

    def _hyper(self):
        return {"label_smoothing": self.label_smoothing}

    def __repr__(self):
        return f"CrossEntropyLoss(label_smoothing={self.label_smoothing:g})"


class BCEWithLogitsLoss(Loss):
    """Binary cross-entropy on logits, the mean over all elements.

    pred: logits x, any shape; target: probabilities t in [0, 1], same shape.
    Per element: -[t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))], computed as
    max(x, 0) - x t + log1p(exp(-|x|)), which never overflows. Gradient: (sigmoid(x) - t) / n.
    """

    _forward = staticmethod(F.bce_with_logits_forward)
    _backward = staticmethod(F.bce_with_logits_backward)

    def value_ranges(self):
        return [("target", "target", 0.0, 1.0)]


class MultiMarginLoss(_ClassScoresLoss):
    """Multi-class hinge loss (PyTorch's `multi_margin_loss`), averaged over the batch.

    pred: scores x (N, C); target: integer labels y (N,) in [0, C). Sample n contributes

        sum_{i != y_n} max(0, margin - x[n, y_n] + x[n, i])^p / C

    with p in {1, 2}. The gradient is 0 at the hinge's kink (margin term exactly 0).
    """

    _forward = staticmethod(F.multi_margin_forward)
    _backward = staticmethod(F.multi_margin_backward)

    def __init__(self, p=1, margin=1.0):
        if isinstance(p, bool) or p not in (1, 2):
            raise ValueError(f"MultiMarginLoss: p must be 1 or 2, got {p!r}")
        self.p = int(p)
        self.margin = _checks.number(margin, "margin", "MultiMarginLoss", low=0.0)

    def _hyper(self):
        return {"p": self.p, "margin": self.margin}

    def __repr__(self):
        return f"MultiMarginLoss(p={self.p}, margin={self.margin:g})"


class KLDivLoss(Loss):
    """Kullback-Leibler divergence KL(target || input) with PyTorch's default reduction.

    pred: log-probabilities log q (any shape); target: probabilities p >= 0, same shape.
    Value: mean over ALL elements of p (log p - log q), a term with p == 0 counting 0.
    This is PyTorch's reduction='mean'; the true KL per sample ('batchmean') is this
    times the number of classes. Gradient: -p / n.
    """

    _forward = staticmethod(F.kl_div_forward)
    _backward = staticmethod(F.kl_div_backward)

    def value_ranges(self):
        return [("target", "target", 0.0, None)]


class LogCoshLoss(Loss):
    """Log-cosh loss: mean(log(cosh(pred - target))) over all elements.

    pred, target: same shape (any). Close to d^2 / 2 for small d and to |d| - log 2 for
    large |d|, smooth everywhere. Computed as |d| + log1p(exp(-2|d|)) - log 2, so that
    cosh never overflows (cosh(1000) is inf in float64). Gradient: tanh(d) / n.
    (PyTorch has no built-in; Keras has a `log_cosh` loss, here with a mean reduction.)
    """

    _forward = staticmethod(F.log_cosh_forward)
    _backward = staticmethod(F.log_cosh_backward)


class PoissonNLLLoss(Loss):
    """Negative log-likelihood of counts under a Poisson distribution (PyTorch's definition).

    pred: the predicted rate, as its log (log_input=True, the default) or as the rate itself;
    target: observed counts (float, >= 0), pred's shape. Per element, dropping the constant
    log(target!):

        log_input=True:   exp(pred) - target * pred
        log_input=False:  pred - target * log(pred + eps)     (pred >= 0)

    full=True adds Stirling's approximation of log(target!),
    target log target - target + log(2 pi target) / 2, for targets > 1 (0 elsewhere); it does
    not depend on pred, so it changes the value, not the gradient. Mean over all elements.
    Gradient: (exp(pred) - target) / n, or (1 - target / (pred + eps)) / n.
    """

    _forward = staticmethod(F.poisson_nll_forward)
    _backward = staticmethod(F.poisson_nll_backward)

    def __init__(self, log_input=True, full=False, eps=1e-8):
        for name, flag in (("log_input", log_input), ("full", full)):
            if not isinstance(flag, bool):
                raise TypeError(f"PoissonNLLLoss: {name} must be True or False, got {flag!r}")
        self.log_input = log_input
        self.full = full
        self.eps = _checks.number(eps, "eps", "PoissonNLLLoss", low=0.0, low_inclusive=False)

    def _hyper(self):
        return {"log_input": self.log_input, "full": self.full, "eps": self.eps}

    def value_ranges(self):
        ranges = [("target", "target", 0.0, None)]
        if not self.log_input:
            ranges.append(("pred", "pred (a rate, log_input=False)", 0.0, None))
        return ranges

    def __repr__(self):
        return f"PoissonNLLLoss(log_input={self.log_input}, full={self.full}, eps={self.eps:g})"


class CosineProximityLoss(Loss):
    """Negative cosine similarity (Keras's cosine proximity), averaged over the vectors.

    pred, target: same shape (..., D); the cosine is taken along the last axis and
    -cos is averaged over all other positions (for (N, D): over the N rows). Lies in [-1, 1],
    -1 when every pred points the same way as its target; the lengths do not matter.
    As `torch.nn.functional.cosine_similarity(eps=1e-8)`, each norm is clamped below at eps:
    cos = <x, y> / (max(|x|, eps) max(|y|, eps)), so a zero vector gives cos 0, not nan.
    Gradient (for |x| > eps): -(y / (|x| |y|) - cos x / |x|^2) / M, M the number of vectors.
    """

    _forward = staticmethod(F.cosine_proximity_forward)
    _backward = staticmethod(F.cosine_proximity_backward)

    def __init__(self, eps=1e-8):
        self.eps = _checks.number(eps, "eps", "CosineProximityLoss", low=0.0, low_inclusive=False)

    def _hyper(self):
        return {"eps": self.eps}

    def check_target(self, pred, target):
        if pred.ndim < 1:
            raise ShapeError(
                f"{self._where}: pred must be vectors of shape (..., D), got a 0-d array"
            )
        return super().check_target(pred, target)

    def __repr__(self):
        return f"CosineProximityLoss(eps={self.eps:g})"
