"""Loss functions: a scalar score of a batch of predictions, and its gradient.

Each loss is a small class used the same way::

    loss = CrossEntropyLoss()
    value = loss(logits, labels)   # a Python float
    dlogits = loss.backward()      # d(value)/d(logits): logits' shape and dtype

Definitions, defaults and reductions are PyTorch's (`torch.nn.functional`), so the
numbers match `torch.nn.<Name>Loss()` for the same inputs: the mean over all
elements, except CrossEntropy and MultiMargin, which average one value per sample
over the batch. The math is written once with `xp` (numpy or CuPy).
"""
import math

from . import _checks
from .backend import get_array_module
from .errors import ShapeError
from .functional.softmax import log_softmax, softmax

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

    Subclasses implement `forward(pred, target) -> (value, cache)`, where value is a
    0-d array, and `gradient(cache) -> dpred`. `check_target` validates the target;
    the default asks for a float array of pred's shape (regression-style losses).
    """

    _cache = None  # what backward needs, set by each call
    _pred_dtype = None

    @property
    def _where(self):
        return type(self).__name__

    def check_target(self, pred, target):
        """Regression targets: float, pred's shape; returned in pred's dtype."""
        _checks.float_array(target, "target", self._where)
        _checks.same_shape(pred, target, "pred", "target", self._where)
        return target.astype(pred.dtype, copy=False)

    def __call__(self, pred, target):
        _checks.float_array(pred, "pred", self._where)
        _checks.same_device(pred, target)
        if pred.size == 0:
            raise ShapeError(
                f"{self._where}: pred is empty (shape {tuple(pred.shape)}); "
                f"the mean of no values is undefined"
            )
        target = self.check_target(pred, target)
        value, self._cache = self.forward(pred, target)
        self._pred_dtype = pred.dtype
        return float(value)

    def backward(self):
        """d(value)/d(pred) for the last call, with pred's shape and dtype."""
        if self._cache is None:
            raise RuntimeError(
                f"{self._where}.backward() was called before the loss was computed; "
                f"call loss(pred, target) first"
            )
        return self.gradient(self._cache).astype(self._pred_dtype, copy=False)

    def forward(self, pred, target):
        raise NotImplementedError

    def gradient(self, cache):
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}()"


class MSELoss(Loss):
    """Mean squared error: mean((pred - target)^2) over all elements.

    pred, target: same shape (any). Gradient: 2 (pred - target) / n.
    """

    def forward(self, pred, target):
        diff = pred - target
        return (diff * diff).mean(), diff

    def gradient(self, diff):
        return 2 * diff / diff.size


class L1Loss(Loss):
    """Mean absolute error (MAE): mean(|pred - target|) over all elements.

    pred, target: same shape (any). Gradient: sign(pred - target) / n, 0 where they
    are equal (as PyTorch).
    """

    def forward(self, pred, target):
        diff = pred - target
        xp = get_array_module(diff)
        return xp.abs(diff).mean(), diff

    def gradient(self, diff):
        xp = get_array_module(diff)
        return xp.sign(diff) / diff.size


class HuberLoss(Loss):
    """Huber loss, the mean over all elements of, with d = pred - target,

        0.5 d^2                  if |d| < delta
        delta (|d| - delta / 2)  otherwise

    (PyTorch's `huber_loss`; the two pieces meet with equal value and slope at
    |d| = delta). pred, target: same shape. Gradient: clip(d, -delta, delta) / n.
    """

    def __init__(self, delta=1.0):
        self.delta = _checks.number(delta, "delta", "HuberLoss", low=0.0, low_inclusive=False)

    def forward(self, pred, target):
        xp = get_array_module(pred)
        diff = pred - target
        a = xp.abs(diff)
        per_elem = xp.where(a < self.delta, 0.5 * diff * diff, self.delta * (a - 0.5 * self.delta))
        return per_elem.mean(), diff

    def gradient(self, diff):
        xp = get_array_module(diff)
        return xp.clip(diff, -self.delta, self.delta) / diff.size

    def __repr__(self):
        return f"HuberLoss(delta={self.delta:g})"


class _ClassScoresLoss(Loss):
    """Losses on class scores (N, C) against integer labels (N,)."""

    def check_target(self, pred, target):
        if pred.ndim != 2:
            raise ShapeError(
                f"{self._where}: pred must be class scores of shape (N, C), "
                f"got shape {tuple(pred.shape)}"
            )
        n, c = pred.shape
        _checks.integer_labels(target, n, c, self._where)
        return target


class CrossEntropyLoss(_ClassScoresLoss):
    """Softmax cross-entropy on logits, averaged over the batch.

    pred: logits (N, C), any real numbers; target: integer labels (N,) in [0, C).
    With p = softmax(pred) and smoothing eps, sample n contributes

        (1 - eps) * (-log p[n, y_n])  +  eps * mean_c(-log p[n, c])

    i.e. cross-entropy against the target distribution q = (1 - eps) onehot(y) + eps / C
    (PyTorch's `label_smoothing`). Gradient: (p - q) / N. log p comes from
    `log_softmax`, so logits far apart (e.g. 1000) give finite values.
    """

    def __init__(self, label_smoothing=0.0):
        self.label_smoothing = _checks.number(
            label_smoothing, "label_smoothing", "CrossEntropyLoss", low=0.0, high=1.0
        )

    def _target_distribution(self, pred, labels):
        xp = get_array_module(pred)
        n, c = pred.shape
        eps = self.label_smoothing
        q = xp.full(pred.shape, eps / c, dtype=pred.dtype)
        q[xp.arange(n), labels] += 1.0 - eps
        return q

    def forward(self, pred, labels):
        q = self._target_distribution(pred, labels)
        logp = log_softmax(pred, axis=1)
        value = -(q * logp).sum() / pred.shape[0]
        return value, (pred, q)

    def gradient(self, cache):
        pred, q = cache
        return (softmax(pred, axis=1) - q) / pred.shape[0]

    def __repr__(self):
        return f"CrossEntropyLoss(label_smoothing={self.label_smoothing:g})"


class BCEWithLogitsLoss(Loss):
    """Binary cross-entropy on logits, the mean over all elements.

    pred: logits x, any shape; target: probabilities t in [0, 1], same shape.
    Per element: -[t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))], computed as
    max(x, 0) - x t + log1p(exp(-|x|)), which never overflows. Gradient: (sigmoid(x) - t) / n.
    """

    def check_target(self, pred, target):
        target = super().check_target(pred, target)
        _value_range(target, "target", self._where, 0.0, 1.0)
        return target

    def forward(self, pred, target):
        xp = get_array_module(pred)
        per_elem = xp.maximum(pred, 0) - pred * target + xp.log1p(xp.exp(-xp.abs(pred)))
        return per_elem.mean(), (pred, target)

    def gradient(self, cache):
        x, t = cache
        xp = get_array_module(x)
        # sigmoid from exp(-|x|) <= 1, so neither branch overflows.
        e = xp.exp(-xp.abs(x))
        sig = xp.where(x >= 0, 1 / (1 + e), e / (1 + e))
        return (sig - t) / x.size


class MultiMarginLoss(_ClassScoresLoss):
    """Multi-class hinge loss (PyTorch's `multi_margin_loss`), averaged over the batch.

    pred: scores x (N, C); target: integer labels y (N,) in [0, C). Sample n contributes

        sum_{i != y_n} max(0, margin - x[n, y_n] + x[n, i])^p / C

    with p in {1, 2}. The gradient is 0 at the hinge's kink (margin term exactly 0).
    """

    def __init__(self, p=1, margin=1.0):
        if isinstance(p, bool) or p not in (1, 2):
            raise ValueError(f"MultiMarginLoss: p must be 1 or 2, got {p!r}")
        self.p = int(p)
        self.margin = _checks.number(margin, "margin", "MultiMarginLoss", low=0.0)

    def forward(self, pred, labels):
        xp = get_array_module(pred)
        n, c = pred.shape
        rows = xp.arange(n)
        m = self.margin - pred[rows, labels][:, None] + pred  # (N, C) margin terms
        m = xp.maximum(m, 0)
        m[rows, labels] = 0  # the i == y term is excluded
        value = (m**self.p).sum() / (n * c)
        return value, (m, labels)

    def gradient(self, cache):
        m, labels = cache
        xp = get_array_module(m)
        n, c = m.shape
        # d/dx_i of max(0, m_i)^p is p * m_i^(p-1) where m_i > 0; x_y gets minus their sum.
        dm = (m > 0).astype(m.dtype) if self.p == 1 else 2 * m
        dx = dm.copy()
        dx[xp.arange(n), labels] = -dm.sum(axis=1)
        return dx / (n * c)

    def __repr__(self):
        return f"MultiMarginLoss(p={self.p}, margin={self.margin:g})"


class KLDivLoss(Loss):
    """Kullback-Leibler divergence KL(target || input) with PyTorch's default reduction.

    pred: log-probabilities log q (any shape); target: probabilities p >= 0, same shape.
    Value: mean over ALL elements of p (log p - log q), a term with p == 0 counting 0.
    This is PyTorch's reduction='mean'; the true KL per sample ('batchmean') is this
    times the number of classes. Gradient: -p / n.
    """

    def check_target(self, pred, target):
        target = super().check_target(pred, target)
        _value_range(target, "target", self._where, 0.0)
        return target

    def forward(self, pred, target):
        xp = get_array_module(pred)
        positive = target > 0
        # log of 1 where p == 0 keeps log(0) out; those terms are zeroed anyway.
        log_t = xp.log(xp.where(positive, target, 1))
        log_q = xp.where(positive, pred, 0)  # so that p == 0 with log q == -inf gives 0, not nan
        per_elem = target * (log_t - log_q)
        return per_elem.mean(), target

    def gradient(self, target):
        return -target / target.size


class LogCoshLoss(Loss):
    """Log-cosh loss: mean(log(cosh(pred - target))) over all elements.

    pred, target: same shape (any). Close to d^2 / 2 for small d and to |d| - log 2 for
    large |d|, smooth everywhere. Computed as |d| + log1p(exp(-2|d|)) - log 2, so that
    cosh never overflows (cosh(1000) is inf in float64). Gradient: tanh(d) / n.
    (PyTorch has no built-in; this is Keras's `log_cosh`, with a mean reduction.)
    """

    def forward(self, pred, target):
        xp = get_array_module(pred)
        diff = pred - target
        a = xp.abs(diff)
        per_elem = a + xp.log1p(xp.exp(-2 * a)) - math.log(2.0)
        return per_elem.mean(), diff

    def gradient(self, diff):
        xp = get_array_module(diff)
        return xp.tanh(diff) / diff.size


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

    def __init__(self, log_input=True, full=False, eps=1e-8):
        for name, flag in (("log_input", log_input), ("full", full)):
            if not isinstance(flag, bool):
                raise TypeError(f"PoissonNLLLoss: {name} must be True or False, got {flag!r}")
        self.log_input = log_input
        self.full = full
        self.eps = _checks.number(eps, "eps", "PoissonNLLLoss", low=0.0, low_inclusive=False)

    def check_target(self, pred, target):
        target = super().check_target(pred, target)
        _value_range(target, "target", self._where, 0.0)
        if not self.log_input:
            _value_range(pred, "pred (a rate, log_input=False)", self._where, 0.0)
        return target

    def forward(self, pred, target):
        xp = get_array_module(pred)
        if self.log_input:
            per_elem = xp.exp(pred) - target * pred
        else:
            per_elem = pred - target * xp.log(pred + self.eps)
        if self.full:
            big = target > 1
            t = xp.where(big, target, 1)  # keeps log(0) out of the masked entries
            stirling = t * xp.log(t) - t + 0.5 * xp.log(2 * math.pi * t)
            per_elem = per_elem + xp.where(big, stirling, 0)
        return per_elem.mean(), (pred, target)

    def gradient(self, cache):
        pred, target = cache
        xp = get_array_module(pred)
        if self.log_input:
            return (xp.exp(pred) - target) / pred.size
        return (1 - target / (pred + self.eps)) / pred.size

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

    def __init__(self, eps=1e-8):
        self.eps = _checks.number(eps, "eps", "CosineProximityLoss", low=0.0, low_inclusive=False)

    def check_target(self, pred, target):
        if pred.ndim < 1:
            raise ShapeError(
                f"{self._where}: pred must be vectors of shape (..., D), got a 0-d array"
            )
        return super().check_target(pred, target)

    def forward(self, pred, target):
        xp = get_array_module(pred)
        nx = xp.sqrt((pred * pred).sum(axis=-1, keepdims=True))
        ny = xp.sqrt((target * target).sum(axis=-1, keepdims=True))
        cx, cy = xp.maximum(nx, self.eps), xp.maximum(ny, self.eps)
        cos = (pred * target).sum(axis=-1, keepdims=True) / (cx * cy)
        return -cos.mean(), (pred, target, nx, cx, cy, cos)

    def gradient(self, cache):
        pred, target, nx, cx, cy, cos = cache
        xp = get_array_module(pred)
        m = cos.size
        # Where |x| was clamped to eps the denominator is a constant: only the first term.
        radial = xp.where(nx > self.eps, cos * pred / (cx * cx), 0)
        return -(target / (cx * cy) - radial) / m

    def __repr__(self):
        return f"CosineProximityLoss(eps={self.eps:g})"
