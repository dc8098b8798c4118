"""Losses as forward/backward pairs: `<loss>_forward(pred, target, **hyper) -> (value, cache)`
with value a 0-d array, and `<loss>_backward(cache) -> dpred`, d(value)/d(pred).

Definitions and reductions are PyTorch's: the mean over all elements, except cross-entropy,
multi-margin and categorical hinge, which average one value per sample over the batch. The
losses PyTorch lacks (categorical hinge, MAPE, MSLE, log-cosh) follow Keras's formulas.
"""
import math

from ..backend import get_array_module
from .activations import sigmoid
from .softmax import log_softmax, softmax


def mse_forward(pred, target):
    """mean((pred - target)^2). Cache: the difference d."""
    d = pred - target
    return (d * d).mean(), d


def mse_backward(d):
    return 2 * d / d.size


def l1_forward(pred, target):
    """mean(|pred - target|) (MAE). Cache: d."""
    d = pred - target
    return get_array_module(d).abs(d).mean(), d


def l1_backward(d):
    """sign(d) / n: 0 where pred == target, as PyTorch."""
    return get_array_module(d).sign(d) / d.size


def huber_forward(pred, target, delta=1.0):
    """mean of 0.5 d^2 where |d| < delta, else delta (|d| - delta / 2). Cache: (d, delta)."""
    xp = get_array_module(pred)
    d = pred - target
    a = xp.abs(d)
    return xp.where(a < delta, 0.5 * d * d, delta * (a - 0.5 * delta)).mean(), (d, delta)


def huber_backward(cache):
    """clip(d, -delta, delta) / n."""
    d, delta = cache
    return get_array_module(d).clip(d, -delta, delta) / d.size


def cross_entropy_forward(logits, y, label_smoothing=0.0):
    """Softmax cross-entropy: logits (N, C) against integer labels y (N,) in [0, C)
    ("sparse" targets) or class probabilities y (N, C) (one-hot or soft targets).

    Against q = (1 - eps) target + eps / C (eps = label_smoothing, target the one-hot
    rows of the labels or the given probabilities): value = -sum(q * log_softmax(logits)) / N.
    Integer labels and their one-hot rows give the same number. Cache: (logits, q).
    """
    xp = get_array_module(logits)
    n, c = logits.shape
    if y.ndim == 2:
        q = (1.0 - label_smoothing) * y.astype(logits.dtype) + label_smoothing / c
    else:
        q = xp.full(logits.shape, label_smoothing / c, dtype=logits.dtype)
        q[xp.arange(n), y] += 1.0 - label_smoothing
    return -(q * log_softmax(logits, axis=1)).sum() / n, (logits, q)


def cross_entropy_backward(cache):
    """(softmax(logits) - q) / N, (N, C). This is the gradient only when every row of q sums
    to 1 (otherwise it is (softmax(logits) * sum(q) - q) / N); the loss classes check that."""
    logits, q = cache
    return (softmax(logits, axis=1) - q) / logits.shape[0]


def bce_with_logits_forward(x, t):
    """Binary cross-entropy on logits x against probabilities t, mean over elements:
    -[t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))] = max(x, 0) - x t + log1p(exp(-|x|)),
    a form that never overflows. Cache: (x, t)."""
    xp = get_array_module(x)
    return (xp.maximum(x, 0) - x * t + xp.log1p(xp.exp(-xp.abs(x)))).mean(), (x, t)


def bce_with_logits_backward(cache):
    """(sigmoid(x) - t) / n."""
    x, t = cache
    return (sigmoid(x) - t) / x.size


def multi_margin_forward(x, y, p=1, margin=1.0):
    """Multi-class hinge: scores x (N, C), labels y (N,); sample n contributes
    sum_{i != y_n} max(0, margin - x[n, y_n] + x[n, i])^p / C, averaged over N.
    Cache: (m, y), m the (N, C) hinge terms, and p."""
    xp = get_array_module(x)
    n, c = x.shape
    rows = xp.arange(n)
    m = xp.maximum(margin - x[rows, y][:, None] + x, 0)
    m[rows, y] = 0  # the i == y term is excluded
    return (m**p).sum() / (n * c), (m, y, p)


def multi_margin_backward(cache):
    """d/dx_i of max(0, m_i)^p is p m_i^(p-1) where m_i > 0 (0 at the kink); x_y gets
    minus their sum."""
    m, y, p = cache
    n, c = m.shape
    dm = (m > 0).astype(m.dtype) if p == 1 else 2 * m
    dx = dm.copy()
    dx[get_array_module(m).arange(n), y] = -dm.sum(axis=1)
    return dx / (n * c)


def categorical_hinge_forward(x, y):
    """Keras's categorical hinge: scores x (N, C), labels y (N,); sample n contributes
    max(0, neg - x[n, y_n] + 1) with neg = max(0, max_{j != y_n} x[n, j]), averaged over N.
    (Keras writes neg = max_j((1 - t_j) x_j) on one-hot t: the true class enters that max
    as 0, so neg is never below 0.) Cache: (x, y, j*, active, wrong_counts): j* (N,) the
    argmax among the wrong classes, active (N,) the samples with a positive term, wrong_counts
    (N,) those whose largest wrong score is above 0 (else the floor won the max)."""
    xp = get_array_module(x)
    n = x.shape[0]
    rows = xp.arange(n)
    wrong = x.copy()
    wrong[rows, y] = -xp.inf
    j = wrong.argmax(axis=1)
    neg = xp.maximum(wrong[rows, j], 0)
    m = neg - x[rows, y] + 1
    return xp.maximum(m, 0).sum() / n, (x, y, j, m > 0, neg > 0)


def categorical_hinge_backward(cache):
    """Where the term is positive: -1 on the true class, +1 on the largest wrong class
    when its score is above 0 (else the max picked Keras's 0, which has no gradient); / N."""
    x, y, j, active, wrong_counts = cache
    xp = get_array_module(x)
    n = x.shape[0]
    rows = xp.arange(n)
    dx = xp.zeros_like(x)
    dx[rows, y] -= active
    dx[rows, j] += active & wrong_counts
    return dx / n


def mape_forward(pred, target, eps=1e-7):
    """Keras's mean absolute percentage error: 100 mean(|target - pred| / max(|target|, eps)).
    Cache: (d, the clamped |target|)."""
    xp = get_array_module(pred)
    d = pred - target
    scale = xp.maximum(xp.abs(target), eps)
    return 100 * (xp.abs(d) / scale).mean(), (d, scale)


def mape_backward(cache):
    """100 sign(pred - target) / (max(|target|, eps) n)."""
    d, scale = cache
    return 100 * get_array_module(d).sign(d) / (scale * d.size)


def msle_forward(pred, target):
    """Mean squared logarithmic error: mean((log(1 + pred) - log(1 + target))^2), for
    pred, target > -1 (no clipping here). Cache: (the log difference, 1 + pred)."""
    xp = get_array_module(pred)
    r = xp.log1p(pred) - xp.log1p(target)
    return (r * r).mean(), (r, 1 + pred)


def msle_backward(cache):
    """2 (log(1 + pred) - log(1 + target)) / ((1 + pred) n)."""
    r, one_plus_pred = cache
    return 2 * r / (one_plus_pred * r.size)


def kl_div_forward(log_q, p):
    """KL(p || q), PyTorch's reduction='mean': the mean over ALL elements of
    p (log p - log q), a term with p == 0 counting 0. Cache: p."""
    xp = get_array_module(log_q)
    positive = p > 0
    # log of 1 where p == 0 keeps log(0) out; log q of 0 there keeps -inf * 0 = nan out.
    per_elem = p * (xp.log(xp.where(positive, p, 1)) - xp.where(positive, log_q, 0))
    return per_elem.mean(), p


def kl_div_backward(p):
    return -p / p.size


def log_cosh_forward(pred, target):
    """mean(log cosh d) = mean(|d| + log1p(exp(-2|d|)) - log 2): cosh never overflows."""
    xp = get_array_module(pred)
    d = pred - target
    a = xp.abs(d)
    return (a + xp.log1p(xp.exp(-2 * a)) - math.log(2.0)).mean(), d


def log_cosh_backward(d):
    return get_array_module(d).tanh(d) / d.size


def poisson_nll_forward(pred, target, log_input=True, full=False, eps=1e-8):
    """Poisson negative log-likelihood, mean over elements, without log(target!):
    exp(pred) - target pred (log_input) or pred - target log(pred + eps); full=True adds
    Stirling's target log target - target + log(2 pi target) / 2 where target > 1.
    Cache: (pred, target, log_input, eps)."""
    xp = get_array_module(pred)
    if log_input:
        per_elem = xp.exp(pred) - target * pred
    else:
        per_elem = pred - target * xp.log(pred + eps)
    if full:
        big = target > 1
        t = xp.where(big, target, 1)  # keeps log(0) out of the masked entries
        per_elem = per_elem + xp.where(big, t * xp.log(t) - t + 0.5 * xp.log(2 * math.pi * t), 0)
    return per_elem.mean(), (pred, target, log_input, eps)


def poisson_nll_backward(cache):
    """(exp(pred) - target) / n, or (1 - target / (pred + eps)) / n."""
    pred, target, log_input, eps = cache
    if log_input:
        return (get_array_module(pred).exp(pred) - target) / pred.size
    return (1 - target / (pred + eps)) / pred.size


def cosine_proximity_forward(x, y, eps=1e-8):
    """-mean of cos = <x, y> / (max(|x|, eps) max(|y|, eps)) along the last axis.
    Cache: (x, y, |x|, the clamped norms, cos, eps)."""
    xp = get_array_module(x)
    nx = xp.sqrt((x * x).sum(axis=-1, keepdims=True))
    ny = xp.sqrt((y * y).sum(axis=-1, keepdims=True))
    cx, cy = xp.maximum(nx, eps), xp.maximum(ny, eps)
    cos = (x * y).sum(axis=-1, keepdims=True) / (cx * cy)
    return -cos.mean(), (x, y, nx, cx, cy, cos, eps)


def cosine_proximity_backward(cache):
    """-(y / (|x| |y|) - cos x / |x|^2) / M; where |x| was clamped, the first term only."""
    x, y, nx, cx, cy, cos, eps = cache
    radial = get_array_module(x).where(nx > eps, cos * x / (cx * cx), 0)
    return -(y / (cx * cy) - radial) / cos.size
