"""Chapter 9, loss functions: exercises and cases.

Each loss exercise returns `(loss, dpred)`: the mean loss as a Python float and its gradient
with respect to the prediction, with PyTorch's definitions and reductions (those of
`dlcore.losses`). Arrays are float64; the tolerance is a relative error of 1e-7. Cases include
the inputs where the classic mistakes show: Huber with delta != 1 (where the slip
delta|r| - delta/2 differs from delta(|r| - delta/2)), residuals exactly 0 (MAE's gradient is
0 there, as PyTorch), logits of size 1000 (where exp overflows), and label smoothing with few
classes (eps / C, not eps / (C - 1)).
"""
import math

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


# ---------------------------------------------------------------- tune: temperature scaling

def _nll_slope_in_beta(logits, labels, beta):
    """d/dbeta of the mean cross-entropy of beta * logits: sum of dlogits * logits, with
    dlogits from dlcore's cross_entropy_backward (chain rule through z -> beta z)."""
    _, cache = F.cross_entropy_forward(beta * logits, labels)
    return float((F.cross_entropy_backward(cache) * logits).sum())


def temperature(logits, labels):
    """logits (N, C), integer labels (N,) -> the T > 0 that minimises the mean cross-entropy
    of logits / T (Guo et al.'s temperature scaling). In beta = 1/T the loss is convex (a
    log-sum-exp of beta z minus beta z_y), so its slope, increasing in beta, is bisected to
    its zero on a log scale."""
    lo, hi = math.log(1e-4), math.log(1e4)
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if _nll_slope_in_beta(logits, labels, math.exp(mid)) < 0:
            lo = mid
        else:
            hi = mid
    return 1.0 / math.exp(0.5 * (lo + hi))


def _calibrated_logits(rng, n, c, spread):
    """Logits and labels drawn from softmax(logits): a calibrated model, whose T is near 1."""
    z = spread * rng.standard_normal((n, c))
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    labels = np.array([rng.choice(c, p=row) for row in p])
    return z, labels


def _temperature_cases(rng):
    cases = []
    for group, scale in (("over-confident logits (x3)", 3.0), ("under-confident logits (x0.4)", 0.4),
                         ("a calibrated model (T near 1)", 1.0)):
        z, y = _calibrated_logits(rng, int(rng.integers(300, 500)), int(rng.integers(3, 8)), 2.0)
        cases.append(Case(group, (scale * z, y)))
    z, y = _calibrated_logits(rng, 200, 10, 3.0)
    cases.append(Case("over-confident logits (x3)", (3.0 * z, y)))
    return cases


# ---------------------------------------------------------------- hints for the classic slips
# Each predicate recomputes one slip from the failing case's inputs and holds when the learner's
# output equals it (and the right answer does not): check() then names the slip in a sentence.

def _is(got, expected, slip):
    slip = np.asarray(slip, dtype=np.float64)
    return (got.shape == slip.shape and bool(np.allclose(got, slip, rtol=1e-9, atol=0))
            and not bool(np.allclose(expected, slip, rtol=1e-9, atol=0)))


def _residuals(case):
    pred, target = case.args[:2]
    delta = case.kwargs.get("delta", case.args[2] if len(case.args) > 2 else 1.0)
    return pred - target, delta


def _hint_huber_constant(case, name, expected, got):
    r, delta = _residuals(case)
    a = np.abs(r)
    return name == "loss" and _is(got, expected, np.where(a < delta, 0.5 * r * r,
                                                          delta * a - delta / 2).mean())


def _hint_huber_no_half(case, name, expected, got):
    r, delta = _residuals(case)
    a = np.abs(r)
    return name == "loss" and _is(got, expected, np.where(a < delta, r * r,
                                                          delta * (a - delta / 2)).mean())


def _hint_huber_clip_at_1(case, name, expected, got):
    r, _ = _residuals(case)
    return name == "dpred" and _is(got, expected, np.clip(r, -1.0, 1.0) / r.size)


HINT_HUBER_CONSTANT = ("the linear piece is delta (|r| - delta/2) = delta |r| - delta^2/2; with "
                       "delta |r| - delta/2 the two pieces do not meet at |r| = delta unless delta = 1")
HINT_HUBER_NO_HALF = ("the quadratic piece is r^2/2, not r^2: its slope r then meets the linear "
                      "piece's slope delta at |r| = delta")
HINT_HUBER_CLIP_AT_1 = "clip the gradient at -delta and delta, not at -1 and 1"


def _hint_mae_squared(case, name, expected, got):
    r, _ = _residuals(case)
    slip = (r * r).mean() if name == "loss" else 2 * r / r.size
    return _is(got, expected, slip)


def _hint_mae_sign_at_zero(case, name, expected, got):
    r, _ = _residuals(case)
    return name == "dpred" and _is(got, expected, np.where(r >= 0, 1.0, -1.0) / r.size)


HINT_MAE_SQUARED = "this is the mean squared error: MAE is the mean of |r|, its gradient sign(r)/n"
HINT_MAE_SIGN_AT_ZERO = ("where r is exactly 0 the gradient is 0 (np.sign gives 0 there), as "
                         "PyTorch takes it; yours gives +-1/n")


def _hint_log_softmax_axis(case, name, expected, got):
    x = case.args[0]
    return x.ndim > 1 and _is(got, expected, F.log_softmax(x, axis=0))


HINT_LOG_SOFTMAX_AXIS = ("you normalised along axis 0 (the batch); the classes are the last axis: "
                         "max, sum and log-sum-exp along axis=-1 with keepdims=True")


def _smoothed(case, wrong_share, true_share):
    logits, labels, eps = case.args
    n, c = logits.shape
    q = np.full((n, c), wrong_share(eps, c))
    q[np.arange(n), labels] = true_share(eps, c)
    logp = F.log_softmax(logits, axis=-1)
    return float(-(q * logp).sum() / n), (np.exp(logp) - q) / n


def _hint_ce_c_minus_1(case, name, expected, got):
    loss, grad = _smoothed(case, lambda e, c: e / (c - 1), lambda e, c: 1 - e)
    return _is(got, expected, loss if name == "loss" else grad)


def _hint_ce_true_class_short(case, name, expected, got):
    loss, grad = _smoothed(case, lambda e, c: e / c, lambda e, c: 1 - e)
    return _is(got, expected, loss if name == "loss" else grad)


def _hint_ce_mean_over_classes(case, name, expected, got):
    c = case.args[0].shape[1]
    return _is(got, expected, expected / c)


HINT_CE_MEAN_OVER_CLASSES = ("got/expected = 1/C: you averaged over all N C entries; "
                             "cross-entropy sums over the classes and averages over the N samples")
HINT_CE_C_MINUS_1 = ("you spread eps over the C - 1 wrong classes; PyTorch's label smoothing "
                     "gives eps/C to every class, the true one included: q = (1 - eps) onehot + eps/C")
HINT_CE_TRUE_CLASS_SHORT = ("the true class gets 1 - eps + eps/C: it keeps its share eps/C of the "
                            "smoothing as well (add 1 - eps to it, do not overwrite it)")


def _hint_bce_sigmoid_slope(case, name, expected, got):
    x, t = case.args
    s = F.sigmoid(x)
    return name == "dx" and _is(got, expected, (s - t) * s * (1 - s) / x.size)


HINT_BCE_SIGMOID_SLOPE = ("the gradient with respect to the logit is sigmoid(x) - t: the "
                          "sigmoid's slope s(1 - s) cancels against the log's 1/s and 1/(1 - s)")


def _hinge_terms(case):
    scores, labels = case.args[:2]
    margin = case.kwargs.get("margin", 1.0)
    n, c = scores.shape
    rows = np.arange(n)
    m = np.maximum(0.0, margin - scores[rows, labels][:, None] + scores)
    return m, rows, labels, n, c


def _hint_hinge_true_class(case, name, expected, got):
    m, _, _, n, c = _hinge_terms(case)
    return name == "loss" and _is(got, expected, m.sum() / (n * c))


def _hint_hinge_true_grad(case, name, expected, got):
    m, rows, labels, n, c = _hinge_terms(case)
    m[rows, labels] = 0.0
    active = (m > 0) * 1.0
    d = active.copy()
    d[rows, labels] = -1.0 * (active.sum(axis=1) > 0)
    return name == "dscores" and _is(got, expected, d / (n * c))


def _hint_hinge_largest_only(case, name, expected, got):
    m, rows, labels, n, c = _hinge_terms(case)
    m[rows, labels] = 0.0
    largest = m.max(axis=1)
    return name == "loss" and any(_is(got, expected, largest.sum() / k) for k in (n, n * c))


def _hint_hinge_times_c(case, name, expected, got):
    c = case.args[0].shape[1]
    return _is(got, expected, c * expected)


HINT_HINGE_TRUE_CLASS = ("leave out the term i = y: it is always max(0, margin) = margin, so it "
                         "adds margin/C to every sample's loss")
HINT_HINGE_TRUE_GRAD = ("s_y enters every active term with a minus sign: its gradient is minus "
                        "the number of active terms (over N C), not -1")
HINT_HINGE_LARGEST_ONLY = ("you charged only the largest violation (Crammer and Singer's hinge, "
                           "Keras's categorical hinge); MultiMarginLoss sums every violated class")
HINT_HINGE_TIMES_C = ("got/expected = C, the number of classes: MultiMarginLoss divides each "
                      "sample's sum by C as well as averaging over the N samples")


def _hint_sigmoid_mse_no_slope(case, name, expected, got):
    z, y = case.args
    return name == "dmse" and _is(got, expected, 2 * (F.sigmoid(z) - y))


def _hint_sigmoid_bce_slope(case, name, expected, got):
    z, y = case.args
    p = F.sigmoid(z)
    return name == "dbce" and _is(got, expected, (p - y) * p * (1 - p))


HINT_SIGMOID_MSE_NO_SLOPE = ("that is the derivative with respect to p; the chain rule to z "
                             "multiplies it by sigma'(z) = p (1 - p)")
HINT_SIGMOID_BCE_SLOPE = ("for the cross-entropy, sigma'(z) = p (1 - p) cancels the 1/p and "
                          "1/(1 - p) of the log's derivative: what is left is p - y")


def _hint_huber_location_mean(case, name, expected, got):
    return _is(got, expected, np.mean(case.args[0]))


def _hint_huber_location_median(case, name, expected, got):
    return _is(got, expected, np.median(case.args[0]))


def _hint_huber_location_trimmed(case, name, expected, got):
    x, delta = case.args
    for start in (np.median(x), np.mean(x), expected):
        inside = np.abs(x - start) <= delta
        if inside.any() and _is(got, expected, x[inside].mean()):
            return True
    x_in = np.abs(x - expected) <= delta   # the right set, but the outer pulls left out
    return bool(x_in.any()) and _is(got, expected, x[x_in].mean())


HINT_HUBER_LOCATION_MEAN = ("that is the mean: under Huber a point farther than delta from c "
                            "pulls with delta only, not with its full distance")
HINT_HUBER_LOCATION_MEDIAN = ("that is the median: within delta of c a point pulls with its "
                              "distance, as under squared error, not with a constant force")
HINT_HUBER_LOCATION_TRIMMED = ("points farther than delta still pull, each with +-delta: c = (sum "
                               "of the points within delta + delta (#above - #below)) / #within")


def _hint_msle_geometric(case, name, expected, got):
    y = case.args[0]
    with np.errstate(divide="ignore"):
        return _is(got, expected, np.exp(np.mean(np.log(y))))


def _hint_msle_plus_one(case, name, expected, got):
    return _is(got, expected, np.exp(np.mean(np.log1p(case.args[0]))))


def _hint_msle_mean(case, name, expected, got):
    return _is(got, expected, np.mean(case.args[0]))


HINT_MSLE_GEOMETRIC = ("that is the geometric mean of y; MSLE compares log(1 + c) with "
                       "log(1 + y_i), so the mean is taken of log(1 + y_i)")
HINT_MSLE_PLUS_ONE = ("you returned 1 + c: the optimum has log(1 + c) = mean log(1 + y_i), so "
                      "subtract the 1 again (np.expm1)")
HINT_MSLE_MEAN = "the arithmetic mean is MSE's constant; MSLE averages on the log(1 + y) scale"


def _hint_temperature_inverse(case, name, expected, got):
    return _is(got, expected, 1.0 / expected)


def _confidence_matching_temperature(logits, labels):
    """The T at which mean confidence equals accuracy (not what temperature scaling fits)."""
    acc = float(np.mean(logits.argmax(axis=1) == labels))
    lo, hi = math.log(1e-4), math.log(1e4)
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        conf = float(F.softmax(logits / math.exp(mid), axis=1).max(axis=1).mean())
        lo, hi = (mid, hi) if conf > acc else (lo, mid)
    return math.exp(0.5 * (lo + hi))


def _hint_temperature_confidence(case, name, expected, got):
    slip = _confidence_matching_temperature(*case.args)
    return bool(np.isclose(got, slip, rtol=1e-4)) and not bool(np.isclose(expected, slip, rtol=1e-4))


HINT_TEMPERATURE_INVERSE = ("got = 1/expected: you returned beta = 1/T, the factor the logits are "
                            "multiplied by; temperature scaling divides them by T")
HINT_TEMPERATURE_CONFIDENCE = ("you matched the mean confidence to the accuracy; temperature "
                               "scaling minimises the cross-entropy (the NLL) of logits / T instead")


# ---------------------------------------------------------------- the registry entries

EXERCISES = [
    register(Exercise(PREFIX + "huber", "huber", _huber_cases, huber, ("loss", "dpred"),
                      hints=((HINT_HUBER_CONSTANT, _hint_huber_constant),
                             (HINT_HUBER_NO_HALF, _hint_huber_no_half),
                             (HINT_HUBER_CLIP_AT_1, _hint_huber_clip_at_1)))),
    register(Exercise(PREFIX + "mae", "mae", _mae_cases, mae, ("loss", "dpred"),
                      hints=((HINT_MAE_SQUARED, _hint_mae_squared),
                             (HINT_MAE_SIGN_AT_ZERO, _hint_mae_sign_at_zero)))),
    register(Exercise(PREFIX + "log_softmax", "log_softmax", _log_softmax_cases, log_softmax,
                      ("out",), hints=((HINT_LOG_SOFTMAX_AXIS, _hint_log_softmax_axis),))),
    register(Exercise(PREFIX + "cross_entropy_label_smoothing", "cross_entropy_label_smoothing",
                      _ce_ls_cases, cross_entropy_label_smoothing, ("loss", "dlogits"),
                      hints=((HINT_CE_C_MINUS_1, _hint_ce_c_minus_1),
                             (HINT_CE_TRUE_CLASS_SHORT, _hint_ce_true_class_short),
                             (HINT_CE_MEAN_OVER_CLASSES, _hint_ce_mean_over_classes)))),
    register(Exercise(PREFIX + "bce_with_logits", "bce_with_logits", _bce_cases, bce_with_logits,
                      ("loss", "dx"), hints=((HINT_BCE_SIGMOID_SLOPE, _hint_bce_sigmoid_slope),))),
    register(Exercise(PREFIX + "hinge", "hinge", _hinge_cases, hinge, ("loss", "dscores"),
                      hints=((HINT_HINGE_TRUE_CLASS, _hint_hinge_true_class),
                             (HINT_HINGE_TRUE_GRAD, _hint_hinge_true_grad),
                             (HINT_HINGE_LARGEST_ONLY, _hint_hinge_largest_only),
                             (HINT_HINGE_TIMES_C, _hint_hinge_times_c)))),
    register(Exercise(PREFIX + "sigmoid_output_grads", "sigmoid_output_grads",
                      _sigmoid_grads_cases, sigmoid_output_grads, ("dmse", "dbce"),
                      hints=((HINT_SIGMOID_MSE_NO_SLOPE, _hint_sigmoid_mse_no_slope),
                             (HINT_SIGMOID_BCE_SLOPE, _hint_sigmoid_bce_slope)))),
    register(Exercise(PREFIX + "huber_location", "huber_location", _huber_location_cases,
                      huber_location, ("c",),
                      hints=((HINT_HUBER_LOCATION_MEAN, _hint_huber_location_mean),
                             (HINT_HUBER_LOCATION_MEDIAN, _hint_huber_location_median),
                             (HINT_HUBER_LOCATION_TRIMMED, _hint_huber_location_trimmed)))),
    register(Exercise(PREFIX + "msle_constant", "msle_constant", _msle_constant_cases,
                      msle_constant, ("c",),
                      hints=((HINT_MSLE_GEOMETRIC, _hint_msle_geometric),
                             (HINT_MSLE_PLUS_ONE, _hint_msle_plus_one),
                             (HINT_MSLE_MEAN, _hint_msle_mean)))),
    register(Exercise(PREFIX + "temperature", "temperature", _temperature_cases, temperature,
                      ("T",), tolerance=1e-6,
                      hints=((HINT_TEMPERATURE_INVERSE, _hint_temperature_inverse),
                             (HINT_TEMPERATURE_CONFIDENCE, _hint_temperature_confidence)))),
]
