"""Chapter 9, loss functions: exercises and cases.

Each loss exercise returns `(loss, dpred)`: the mean loss as a Python float and its gradient
with respect to the prediction, with PyTorch's definitions and reductions (those of
`dlcore.losses`). Arrays are float64; the tolerance is a relative error of 1e-7. Cases include
the inputs where the classic mistakes show: Huber with delta != 1 (where the slip
delta|r| - delta/2 differs from delta(|r| - delta/2)), residuals exactly 0 (MAE's gradient is
0 there, as PyTorch), logits of size 1000 (where exp overflows), and label smoothing with few
classes (eps / C, not eps / (C - 1)).
"""
import numpy as np

from ... import functional as F
from ..registry import Case, Exercise, register

PREFIX = "losses."


def _normal(rng, *shape):
    return rng.standard_normal(shape)


def _value_and_grad(forward, backward, *args, **hyper):
    """(value as a float, dpred) from a functional loss pair of dlcore."""
    value, cache = forward(*args, **hyper)
    return float(value), backward(cache)


def _labels(rng, n, c):
    return rng.integers(0, c, size=n)


# ---------------------------------------------------------------- huber

def huber(pred, target, delta=1.0):
    """pred, target (same shape) -> (mean Huber loss, dpred), r = pred - target:
    r^2 / 2 where |r| < delta, delta (|r| - delta / 2) elsewhere."""
    return _value_and_grad(F.huber_forward, F.huber_backward, pred, target, delta=delta)


def _residual_pair(rng, residuals):
    target = _normal(rng, *residuals.shape)
    return target + residuals, target


def _huber_cases(rng):
    both_sides = rng.choice([-1.0, 1.0], (5, 4)) * rng.uniform(0.0, 4.0, (5, 4))
    return [
        Case("delta = 1", _residual_pair(rng, 2 * _normal(rng, 4, 5))),
        Case("delta = 1", _residual_pair(rng, 3 * _normal(rng, 10))),
        # The slip delta|r| - delta/2 agrees with delta(|r| - delta/2) only when delta = 1.
        Case("other delta", _residual_pair(rng, both_sides), {"delta": 0.3}),
        Case("other delta", _residual_pair(rng, both_sides), {"delta": 2.5}),
        Case("all inside |r| < delta", _residual_pair(rng, 0.2 * _normal(rng, 3, 3)),
             {"delta": 1.5}),
        Case("all outside", _residual_pair(rng, np.sign(_normal(rng, 6)) * rng.uniform(2, 9, 6)),
             {"delta": 0.5}),
    ]


# ---------------------------------------------------------------- mae

def mae(pred, target):
    """pred, target (same shape) -> (mean absolute error, dpred = sign(pred - target) / n),
    with gradient 0 where pred == target (PyTorch's choice)."""
    return _value_and_grad(F.l1_forward, F.l1_backward, pred, target)


def _mae_cases(rng):
    exact = _normal(rng, 4, 6)
    target = exact.copy()
    hit = rng.random(exact.shape) < 0.4
    target[~hit] += _normal(rng, int((~hit).sum()))
    return [
        Case("random", (_normal(rng, 4, 5), _normal(rng, 4, 5))),
        Case("random", (3 * _normal(rng, 7), _normal(rng, 7))),
        Case("large residuals", (50 * _normal(rng, 3, 4), _normal(rng, 3, 4))),
        # Residuals exactly 0: the subgradient PyTorch takes there is 0.
        Case("some residuals exactly 0", (exact, target)),
    ]


# ---------------------------------------------------------------- log_softmax

def log_softmax(x):
    """x (..., C) -> log(softmax(x)) along the last axis, accurate for logits like 1000."""
    return F.log_softmax(x, axis=-1)


def _log_softmax_cases(rng):
    huge = np.array([[0.0, 1000.0, -1000.0], [1000.0, 1000.0, 999.0], [-800.0, -801.0, -1000.0]])
    return [
        Case("random", (_normal(rng, 4, 5),)),
        Case("random", (3 * _normal(rng, 2, 3, 6),)),
        Case("one vector", (_normal(rng, 7),)),
        # exp(1000) overflows and exp(-800) underflows: both give inf/nan naively.
        Case("logits of size 1000", (huge,)),
        Case("logits of size 1000", (rng.uniform(-1000, 1000, (3, 4)),)),
    ]


# ---------------------------------------------------------------- cross_entropy_label_smoothing

def cross_entropy_label_smoothing(logits, labels, eps):
    """logits (N, C), integer labels (N,), eps in [0, 1] -> (mean loss, dlogits (N, C)):
    cross-entropy against q = (1 - eps) onehot(y) + eps / C, as
    torch.nn.CrossEntropyLoss(label_smoothing=eps)."""
    return _value_and_grad(F.cross_entropy_forward, F.cross_entropy_backward, logits, labels,
                           label_smoothing=eps)


def _ce_ls_cases(rng):
    return [
        Case("eps = 0 (no smoothing)", (_normal(rng, 5, 4), _labels(rng, 5, 4), 0.0)),
        Case("eps = 0.1", (2 * _normal(rng, 6, 10), _labels(rng, 6, 10), 0.1)),
        # With C = 3, eps / C and eps / (C - 1) differ by half.
        Case("few classes", (_normal(rng, 8, 3), _labels(rng, 8, 3), 0.2)),
        Case("few classes", (_normal(rng, 4, 2), _labels(rng, 4, 2), 0.3)),
        Case("logits of size 1000", (rng.uniform(-1000, 1000, (4, 5)), _labels(rng, 4, 5), 0.1)),
    ]


# ---------------------------------------------------------------- bce_with_logits

def bce_with_logits(x, t):
    """logits x, targets t in [0, 1] (same shape) -> (mean binary cross-entropy, dx):
    -[t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))], finite for any x; dx = (sigmoid(x) - t) / n."""
    return _value_and_grad(F.bce_with_logits_forward, F.bce_with_logits_backward, x, t)


def _bce_cases(rng):
    return [
        Case("random, 0/1 targets", (2 * _normal(rng, 4, 5), rng.integers(0, 2, (4, 5)) * 1.0)),
        Case("soft targets", (_normal(rng, 8), rng.uniform(0, 1, 8))),
        # exp(-x) overflows for x = -1000, and log(sigmoid(1000)) = log(1) hides a 1000.
        Case("logits of size 1000", (rng.uniform(-1000, 1000, (3, 4)),
                                     rng.integers(0, 2, (3, 4)) * 1.0)),
        Case("logits of size 1000", (np.array([1000.0, -1000.0, 1000.0, -1000.0]),
                                     np.array([0.0, 1.0, 1.0, 0.0]))),
    ]


# ---------------------------------------------------------------- hinge

def hinge(scores, labels, margin=1.0):
    """scores (N, C), integer labels (N,) -> (mean multi-class hinge loss, dscores), PyTorch's
    MultiMarginLoss(p=1): sample n gives sum_{i != y} max(0, margin - s[y] + s[i]) / C."""
    return _value_and_grad(F.multi_margin_forward, F.multi_margin_backward, scores, labels,
                           margin=margin)


def _scores_away_from_kinks(rng, n, c, margin):
    """Scores whose margin terms all lie at least 0.05 away from the hinge's kink."""
    while True:
        s = _normal(rng, n, c)
        y = _labels(rng, n, c)
        m = margin - s[np.arange(n), y][:, None] + s
        m[np.arange(n), y] = 1.0
        if np.min(np.abs(m)) > 0.05:
            return s, y


def _hinge_cases(rng):
    s_sep = _normal(rng, 4, 5)
    y_sep = _labels(rng, 4, 5)
    s_sep[np.arange(4), y_sep] = s_sep.max(axis=1) + 3.0  # every margin met: loss and grad 0
    return [
        Case("margin 1", _scores_away_from_kinks(rng, 5, 4, 1.0)),
        Case("margin 1", _scores_away_from_kinks(rng, 8, 10, 1.0)),
        Case("other margin", _scores_away_from_kinks(rng, 6, 3, 0.3), {"margin": 0.3}),
        Case("all margins met", (s_sep, y_sep)),
    ]


# ---------------------------------------------------------------- derive: MSE on a sigmoid against CE

def sigmoid_output_grads(z, y):
    """logits z, targets y in {0, 1} (same shape) -> (dmse, dbce): per element, the derivative
    with respect to z of (sigmoid(z) - y)^2 and of the binary cross-entropy of sigmoid(z)
    against y. Built from dlcore's functional pieces (their means times n)."""
    p = F.sigmoid(z)
    _, cache = F.mse_forward(p, y)
    dmse = F.sigmoid_backward(F.mse_backward(cache) * z.size, p)
    _, cache = F.bce_with_logits_forward(z, y)
    return dmse, F.bce_with_logits_backward(cache) * z.size


def _sigmoid_grads_cases(rng):
    def labels(n):
        return rng.integers(0, 2, n) * 1.0

    z_bad = rng.uniform(5.0, 9.0, 6)
    y_bad = np.array([0.0, 1.0, 0.0, 1.0, 0.0, 1.0])
    z_bad = np.where(y_bad == 1.0, -z_bad, z_bad)      # confidently wrong
    return [
        Case("logits near 0", (rng.uniform(-1.0, 1.0, 8), labels(8))),
        Case("confidently wrong (saturated)", (z_bad, y_bad)),
        Case("confidently right", (np.array([6.0, -7.0, 5.0]), np.array([1.0, 0.0, 1.0]))),
        Case("a batch", (2.0 * _normal(rng, 3, 4), rng.integers(0, 2, (3, 4)) * 1.0)),
    ]


# ---------------------------------------------------------------- derive: Huber's location

def huber_location(x, delta):
    """points x (n,), delta > 0 -> the constant c minimising sum_i huber(x_i - c; delta). The
    loss is convex in c; the reference bisects on the sign of its derivative, taken from
    dlcore's huber_backward."""
    lo, hi = float(x.min()), float(x.max())
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        _, cache = F.huber_forward(np.full_like(x, mid), x, delta=delta)
        if float(F.huber_backward(cache).sum()) < 0:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def _huber_location_cases(rng):
    cluster = rng.normal(0.0, 1.0, 9)
    outliers = np.concatenate([cluster, rng.uniform(15.0, 30.0, 3)])
    return [
        Case("no point beyond delta (the mean)", (cluster, 10.0)),
        Case("a cluster and outliers on one side", (outliers, 1.0)),
        Case("a cluster and outliers on one side", (np.concatenate(
            [rng.normal(5.0, 2.0, 15), -rng.uniform(20.0, 40.0, 4)]), 1.5)),
        Case("tiny delta (near the median)", (rng.normal(0.0, 1.0, 11), 1e-3)),
    ]


# ---------------------------------------------------------------- derive: MSLE's best constant

def msle_constant(y):
    """targets y >= 0 (n,) -> the constant c minimising mean((log(1 + c) - log(1 + y_i))^2).
    The loss is convex in log(1 + c); the reference bisects on the sign of its derivative,
    taken from dlcore's msle_backward."""
    lo, hi = float(y.min()), float(y.max())
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        _, cache = F.msle_forward(np.full_like(y, mid), y)
        if float(F.msle_backward(cache).sum()) < 0:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def _msle_constant_cases(rng):
    return [
        # a zero target: the geometric mean of y is 0 here, log(1 + y) is fine
        Case("small targets, zeros included", (np.concatenate(
            [[0.0], rng.uniform(0.0, 3.0, 11)]),)),
        Case("counts spanning orders of magnitude", (np.floor(10 ** rng.uniform(0, 4, 40)),)),
        Case("counts spanning orders of magnitude", (np.floor(10 ** rng.uniform(1, 6, 25)),)),
        Case("targets below 1", (rng.uniform(0.05, 1.0, 15),)),
    ]


# ---------------------------------------------------------------- the registry entries

EXERCISES = [
    register(Exercise(PREFIX + "huber", "huber", _huber_cases, huber, ("loss", "dpred"))),
    register(Exercise(PREFIX + "mae", "mae", _mae_cases, mae, ("loss", "dpred"))),
    register(Exercise(PREFIX + "log_softmax", "log_softmax", _log_softmax_cases, log_softmax,
                      ("out",))),
    register(Exercise(PREFIX + "cross_entropy_label_smoothing", "cross_entropy_label_smoothing",
                      _ce_ls_cases, cross_entropy_label_smoothing, ("loss", "dlogits"))),
    register(Exercise(PREFIX + "bce_with_logits", "bce_with_logits", _bce_cases, bce_with_logits,
                      ("loss", "dx"))),
    register(Exercise(PREFIX + "hinge", "hinge", _hinge_cases, hinge, ("loss", "dscores"))),
    register(Exercise(PREFIX + "sigmoid_output_grads", "sigmoid_output_grads",
                      _sigmoid_grads_cases, sigmoid_output_grads, ("dmse", "dbce"))),
    register(Exercise(PREFIX + "huber_location", "huber_location", _huber_location_cases,
                      huber_location, ("c",))),
    register(Exercise(PREFIX + "msle_constant", "msle_constant", _msle_constant_cases,
                      msle_constant, ("c",))),
]
