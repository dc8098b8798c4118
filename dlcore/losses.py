"""Loss functions: a scalar score of a batch of predictions, and its gradient.

Each loss is a small class used the same way::

    loss = CrossEntropyLoss()
    value = loss(logits, labels)   # a Python float
    dlogits = loss.backward()      # d(value)/d(logits): logits' shape and dtype

Definitions, defaults and reductions are PyTorch's (`torch.nn.functional`), so the
numbers match `torch.nn.<Name>Loss()` for the same inputs: the mean over all
elements, except CrossEntropy, MultiMargin and CategoricalHinge, which average one value
per sample over the batch. Losses PyTorch lacks (MAPE, MSLE, categorical hinge, log-cosh)
follow Keras's formulas, with the mean over all elements that Keras's default reduction
gives. The math is `dlcore.functional.losses` (forward/backward pairs); a
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
    "CategoricalHingeLoss",
    "CosineProximityLoss",
    "CrossEntropyLoss",
    "HuberLoss",
    "KLDivLoss",
    "L1Loss",
    "LogCoshLoss",
    "Loss",
    "MAPELoss",
    "MSELoss",
    "MSLELoss",
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

    pred: logits (N, C), any real numbers; target: either integer labels (N,) in [0, C)
    (Keras's "sparse categorical" cross-entropy) or class probabilities (N, C), one-hot or
    soft, each row >= 0 and summing to 1 (Keras's "categorical" cross-entropy; PyTorch
    accepts such targets since 1.10). Labels and their one-hot rows give the same value and
    gradient. With p = softmax(pred), target distribution t (the one-hot row of a label, or
    the given row) and smoothing eps, sample n contributes

        -sum_c q[n, c] log p[n, c],    q = (1 - eps) t + eps / C

    (PyTorch's `label_smoothing`, applied to probability targets the same way). Gradient:
    (p - q) / N. log p comes from `log_softmax`, so logits far apart (e.g. 1000) give finite
    values. PyTorch does not check probability targets; here a row that does not sum to 1
    (within 1e-4) is rejected, since it is usually logits or counts passed by mistake (for
    numpy arrays: on a GPU that check would wait for the device, so only the [0, 1] range is
    checked there, through a nan, as for labels).
    """

    _forward = staticmethod(F.cross_entropy_forward)
    _backward = staticmethod(F.cross_entropy_backward)
    _probabilities = False  # the kind of target of the latest call

    def __init__(self, label_smoothing=0.0):
        self.label_smoothing = _checks.number(
            label_smoothing, "label_smoothing", "CrossEntropyLoss", low=0.0, high=1.0
        )

    def _hyper(self):
        return {"label_smoothing": self.label_smoothing}

    def check_target(self, pred, target):
        self._probabilities = hasattr(target, "dtype") and target.dtype.kind == "f"
        if not self._probabilities:
            return super().check_target(pred, target)
        if pred.ndim != 2 or target.shape != pred.shape:
            raise ShapeError(
                f"{self._where}: a float target holds class probabilities and must have "
                f"pred's shape (N, C) = {tuple(pred.shape)}, got {tuple(target.shape)}; "
                f"for class indices pass integer labels of shape (N,)"
            )
        if get_array_module(target) is np:  # on a GPU this would wait for the device
            sums = target.sum(axis=1)
            worst = int(np.argmax(np.abs(sums - 1)))
            if abs(float(sums[worst]) - 1) > 1e-4:
                raise ValueError(
                    f"{self._where}: each row of probability targets must sum to 1, "
                    f"row {worst} sums to {float(sums[worst]):g}"
                )
        return target.astype(pred.dtype, copy=False)

    def value_ranges(self):
        return [("target", "probability targets", 0.0, 1.0)] if self._probabilities else []

    def forward(self, pred, target):
        if self._probabilities:
            return Loss.forward(self, pred, target)
        return super().forward(pred, target)

    def __call__(self, pred, target):
        if hasattr(target, "dtype") and target.dtype.kind == "f":
            return Loss.__call__(self, pred, target)
        return super().__call__(pred, target)

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


class CategoricalHingeLoss(_ClassScoresLoss):
    """Keras's categorical hinge loss, averaged over the batch.

    pred: scores x (N, C); target: integer labels y (N,) in [0, C), or their one-hot rows
    (N, C) as floats (what Keras takes; anything but exact one-hot rows is rejected). Sample
    n contributes

        max(0, 1 + neg - x[n, y_n]),    neg = max(0, max_{j != y_n} x[n, j])

    Keras writes neg = max_j((1 - t_j) x_j) and pos = sum_j t_j x_j on the one-hot t, so the
    true class enters the max as 0: neg is floored at 0. Where some wrong score is >= 0
    (always, on softmax outputs) this is Crammer and Singer's multi-class hinge, which charges
    the largest violation only; `MultiMarginLoss` (Weston and Watkins) sums the violations of
    every wrong class and divides by C. Where every wrong score is negative the floor makes
    the loss depend on a shift of all scores, which Crammer-Singer's does not.
    Gradient (where the term is positive): -1 on x[n, y_n], +1 on the largest wrong score if
    it is above 0, divided by N; 0 at the kink, as the other hinges here.
    """

    _forward = staticmethod(F.categorical_hinge_forward)
    _backward = staticmethod(F.categorical_hinge_backward)

    def check_target(self, pred, target):
        if hasattr(target, "dtype") and target.dtype.kind == "f" and target.ndim == 2:
            if pred.ndim != 2 or target.shape != pred.shape:
                raise ShapeError(
                    f"{self._where}: one-hot targets must have pred's shape "
                    f"{tuple(pred.shape)}, got {tuple(target.shape)}"
                )
            xp = get_array_module(target)
            one_hot = ((target == 0) | (target == 1)).all() & (target.sum(axis=1) == 1).all()
            if not bool(one_hot):
                raise ValueError(
                    f"{self._where}: float targets must be one-hot rows (a single 1, the rest 0); "
                    f"for class indices pass integer labels of shape (N,)"
                )
            target = target.argmax(axis=1).astype(xp.int64)
        return super().check_target(pred, target)


class MAPELoss(Loss):
    """Mean absolute percentage error (Keras's `mean_absolute_percentage_error`):

        100 * mean(|target - pred| / max(|target|, eps)),   eps = 1e-7 (Keras's epsilon)

    over all elements. pred, target: same shape. Scale-free, but a target near 0 makes its
    term explode: Keras divides by eps there (a target of 0 and a prediction of 1 cost
    1e9 percent), which `MAPELoss` refuses with an error instead (allow_zero_target=True
    gives Keras's number). Gradient: 100 sign(pred - target) / (max(|target|, eps) n).
    """

    _forward = staticmethod(F.mape_forward)
    _backward = staticmethod(F.mape_backward)

    def __init__(self, eps=1e-7, allow_zero_target=False):
        self.eps = _checks.number(eps, "eps", "MAPELoss", low=0.0, low_inclusive=False)
        if not isinstance(allow_zero_target, bool):
            raise TypeError(
                f"MAPELoss: allow_zero_target must be True or False, got {allow_zero_target!r}"
            )
        self.allow_zero_target = allow_zero_target

    def _hyper(self):
        return {"eps": self.eps}

    def check_target(self, pred, target):
        target = super().check_target(pred, target)
        if not self.allow_zero_target and get_array_module(target) is np:
            small = np.abs(target) < self.eps
            if small.any():
                raise ValueError(
                    f"MAPELoss: {int(small.sum())} target(s) with |target| < eps = {self.eps:g} "
                    f"(e.g. at index {tuple(int(i) for i in np.argwhere(small)[0])}); a "
                    f"percentage of 0 is undefined. Keras divides by eps there; pass "
                    f"allow_zero_target=True for its number, or use a loss without a ratio"
                )
        return target

    def __repr__(self):
        return f"MAPELoss(eps={self.eps:g}, allow_zero_target={self.allow_zero_target})"


class MSLELoss(Loss):
    """Mean squared logarithmic error: mean((log(1 + pred) - log(1 + target))^2) over all
    elements (Keras's `mean_squared_logarithmic_error`). pred, target: same shape.

    The error of log(1 + y): relative for large values, so it suits targets spanning orders
    of magnitude. Keras clips pred and target below at eps = 1e-7 before the log, which
    silently gives a zero gradient to every negative prediction; here nothing is clipped
    (the same number as Keras's for values >= 1e-7): targets must be >= 0 and predictions
    > -1, where log(1 + pred) exists, or the loss raises. Gradient:
    2 (log(1 + pred) - log(1 + target)) / ((1 + pred) n).
    """

    _forward = staticmethod(F.msle_forward)
    _backward = staticmethod(F.msle_backward)

    def check_target(self, pred, target):
        target = super().check_target(pred, target)
        if get_array_module(pred) is np and float(pred.min()) <= -1:
            raise ValueError(
                f"MSLELoss: pred must be > -1 (log(1 + pred) is undefined otherwise), got a "
                f"minimum of {float(pred.min()):g}; Keras would clip it to 1e-7 silently. Map "
                f"the output into (-1, inf) first, e.g. with exp or softplus"
            )
        return target

    def value_ranges(self):
        return [("target", "target", 0.0, None)]


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
