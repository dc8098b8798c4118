"""Chapter 9 exercises: each reference passes, the classic wrong answers (the notes' Huber slip,
MSE for MAE, a nonzero MAE gradient at 0, naive softmax overflowing, label smoothing over C - 1
classes, naive BCE, hinge without excluding the true class) fail in the right case group."""
import math

import numpy as np
import pytest
from conftest import failed_line, run

from dlcore.grading import get_exercise, list_exercises
from dlcore.grading.exercises import losses as L

CHAPTER9 = [
    "losses.bce_with_logits",
    "losses.cross_entropy_label_smoothing",
    "losses.hinge",
    "losses.huber",
    "losses.huber_location",
    "losses.log_softmax",
    "losses.mae",
    "losses.msle_constant",
    "losses.sigmoid_output_grads",
    "losses.temperature",
]


def passed_groups(result, name, output):
    return {line.split("[")[1].split("]")[0] for line in result.lines
            if line.startswith(f"✔ {name}  {output}  [")}


# ---------------------------------------------------------------- the references pass

def test_chapter9_is_registered():
    assert list_exercises("losses.") == CHAPTER9


def test_references_agree_with_hand_computed_values():
    # Independent closed forms, so a change in dlcore.losses would show here too.
    r = np.array([0.5, -3.0])                       # residuals pred - target, delta = 2
    value, grad = L.huber(r, np.zeros(2), delta=2.0)
    assert value == pytest.approx((0.125 + 2 * (3 - 1)) / 2, rel=1e-15)
    np.testing.assert_allclose(grad, [0.25, -1.0], rtol=1e-15)
    value, grad = L.mae(np.array([1.0, 2.0, 5.0]), np.array([1.0, 4.0, 4.0]))
    assert value == pytest.approx(1.0, rel=1e-15)
    np.testing.assert_array_equal(grad, [0.0, -1 / 3, 1 / 3])
    np.testing.assert_allclose(np.exp(L.log_softmax(np.array([0.0, math.log(3)]))), [0.25, 0.75])
    # smoothing 0.3 over C = 3: q = [0.8, 0.1, 0.1] for label 0; equal logits: loss log 3
    value, grad = L.cross_entropy_label_smoothing(np.zeros((1, 3)), np.array([0]), 0.3)
    assert value == pytest.approx(math.log(3), rel=1e-15)
    np.testing.assert_allclose(grad, [[1 / 3 - 0.8, 1 / 3 - 0.1, 1 / 3 - 0.1]], rtol=1e-14)
    value, grad = L.bce_with_logits(np.array([0.0]), np.array([1.0]))
    assert value == pytest.approx(math.log(2), rel=1e-15) and grad[0] == -0.5
    # scores [1, 0.5, -2], label 0, margin 1: terms [., 0.5, 0] -> 0.5 / 3
    value, grad = L.hinge(np.array([[1.0, 0.5, -2.0]]), np.array([0]))
    assert value == pytest.approx(0.5 / 3, rel=1e-15)
    np.testing.assert_allclose(grad, [[-1 / 3, 1 / 3, 0.0]], rtol=1e-15)


# ---------------------------------------------------------------- known wrong answers fail

def test_huber_with_the_notes_slip_fails_only_where_delta_is_not_1():
    def huber(pred, target, delta=1.0):
        r = pred - target
        a = np.abs(r)
        per = np.where(a < delta, 0.5 * r * r, delta * a - delta / 2)   # slip: delta/2, not delta^2/2
        return float(per.mean()), np.clip(r, -delta, delta) / r.size

    result = run("losses.huber", huber)
    assert result.status == "wrong"
    assert failed_line(result, "huber", "loss", "other delta") is not None
    assert failed_line(result, "huber", "loss", "all outside") is not None
    # with delta = 1 the two forms agree, and the gradient is the same everywhere
    assert "delta = 1" in passed_groups(result, "huber", "loss")
    assert failed_line(result, "huber", "dpred", "other delta") is None


def test_huber_gradient_not_clipped():
    def huber(pred, target, delta=1.0):
        r = pred - target
        a = np.abs(r)
        per = np.where(a < delta, 0.5 * r * r, delta * (a - delta / 2))
        return float(per.mean()), r / r.size            # bug: the MSE-like gradient everywhere

    result = run("losses.huber", huber)
    assert result.status == "wrong"
    assert failed_line(result, "huber", "dpred", "all outside") is not None
    assert "all inside |r| < delta" in passed_groups(result, "huber", "dpred")


def test_mse_instead_of_mae_fails():
    def mae(pred, target):
        r = pred - target
        return float(np.mean(r * r)), 2 * r / r.size

    result = run("losses.mae", mae)
    assert result.status == "wrong" and result.passed == 0
    assert failed_line(result, "mae", "loss", "random") is not None
    assert result.errors[("large residuals", "loss")] > 0.9


def test_mae_with_nonzero_gradient_at_zero_fails_only_there():
    def mae(pred, target):
        r = pred - target
        return float(np.mean(np.abs(r))), np.where(r >= 0, 1.0, -1.0) / r.size

    result = run("losses.mae", mae)
    assert result.status == "wrong" and result.passed == result.total - 1
    assert failed_line(result, "mae", "dpred", "some residuals exactly 0") is not None


def test_naive_log_softmax_overflows_and_fails_on_big_logits():
    def log_softmax(x):
        e = np.exp(x)
        return np.log(e / e.sum(axis=-1, keepdims=True))

    with np.errstate(all="ignore"):
        result = run("losses.log_softmax", log_softmax)
    assert result.status == "wrong"
    assert failed_line(result, "log_softmax", "out", "logits of size 1000") is not None
    assert {"random", "one vector"} <= passed_groups(result, "log_softmax", "out")


def test_log_softmax_over_the_wrong_axis_fails():
    result = run("losses.log_softmax",
                 lambda x: x - np.log(np.exp(x - x.max(axis=0)).sum(axis=0)) - x.max(axis=0))
    assert result.status == "wrong"
    assert failed_line(result, "log_softmax", "out", "random") is not None


def _ce_smoothing(spread_over):
    def cross_entropy_label_smoothing(logits, labels, eps):
        n, c = logits.shape
        shifted = logits - logits.max(axis=1, keepdims=True)
        logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        q = np.full((n, c), eps / spread_over(c))
        q[np.arange(n), labels] = 1 - eps
        return float(-(q * logp).sum() / n), (np.exp(logp) - q) / n
    return cross_entropy_label_smoothing


def test_label_smoothing_over_c_minus_1_classes_fails():
    result = run("losses.cross_entropy_label_smoothing", _ce_smoothing(lambda c: c - 1))
    assert result.status == "wrong"
    assert failed_line(result, "cross_entropy_label_smoothing", "loss", "few classes") is not None
    assert failed_line(result, "cross_entropy_label_smoothing", "dlogits", "few classes")
    # without smoothing the two conventions coincide
    assert "eps = 0 (no smoothing)" in passed_groups(result, "cross_entropy_label_smoothing",
                                                     "loss")


def test_label_smoothing_over_c_classes_but_true_class_gets_only_1_minus_eps_passes_nothing():
    # q[y] = 1 - eps (forgetting the eps / C the true class also gets): q no longer sums to 1
    result = run("losses.cross_entropy_label_smoothing", _ce_smoothing(lambda c: c))
    assert result.status == "wrong"
    assert failed_line(result, "cross_entropy_label_smoothing", "dlogits", "eps = 0.1")


def test_naive_bce_fails_on_big_logits():
    def bce_with_logits(x, t):
        s = 1 / (1 + np.exp(-x))
        return float(np.mean(-(t * np.log(s) + (1 - t) * np.log(1 - s)))), (s - t) / x.size

    with np.errstate(all="ignore"):
        result = run("losses.bce_with_logits", bce_with_logits)
    assert result.status == "wrong"
    assert failed_line(result, "bce_with_logits", "loss", "logits of size 1000") is not None
    assert {"random, 0/1 targets", "soft targets"} <= passed_groups(result, "bce_with_logits",
                                                                    "loss")


def test_hinge_counting_the_true_class_fails():
    def hinge(scores, labels, margin=1.0):
        n, c = scores.shape
        m = np.maximum(0, margin - scores[np.arange(n), labels][:, None] + scores)  # includes i == y
        active = (m > 0).astype(float)
        d = active.copy()
        d[np.arange(n), labels] -= active.sum(axis=1)
        return float(m.sum() / (n * c)), d / (n * c)

    result = run("losses.hinge", hinge)
    assert result.status == "wrong"
    assert failed_line(result, "hinge", "loss", "margin 1") is not None
    assert failed_line(result, "hinge", "loss", "all margins met") is not None


def test_hinge_not_divided_by_classes_fails():
    ref = get_exercise("losses.hinge").reference

    def hinge(scores, labels, margin=1.0):
        value, grad = ref(scores, labels, margin)
        c = scores.shape[1]
        return value * c, grad * c                     # CS231n's SVM loss, without PyTorch's 1/C

    result = run("losses.hinge", hinge)
    assert result.status == "wrong"
    assert failed_line(result, "hinge", "loss", "margin 1") is not None
    assert "all margins met" in passed_groups(result, "hinge", "loss")   # 0 * C is still 0


def test_blank_exercise_is_not_implemented():
    def huber(pred, target, delta=1.0):
        raise NotImplementedError

    result = run("losses.huber", huber)
    assert result.status == "not-implemented" and result.passed == 0 and not result


# ---------------------------------------------------------------- derive: MSE on a sigmoid against CE

def test_sigmoid_output_grads_are_the_chain_rule_and_slips_fail():
    z, y = np.array([0.0, 8.0, -3.0]), np.array([1.0, 0.0, 0.0])
    dmse, dbce = L.sigmoid_output_grads(z, y)
    p = 1 / (1 + np.exp(-z))
    np.testing.assert_allclose(dbce, p - y, rtol=1e-12)
    np.testing.assert_allclose(dmse, 2 * (p - y) * p * (1 - p), rtol=1e-12)
    assert dmse[0] == pytest.approx(-0.25) and dbce[0] == pytest.approx(-0.5)
    assert abs(dmse[1]) < 1e-3 and dbce[1] > 0.99    # confidently wrong: MSE stalls, CE does not
    h = 1e-6                                          # and they are derivatives in z
    for k in range(3):
        e = np.zeros(3)
        e[k] = h
        sq = (1 / (1 + np.exp(-(z + e))) - y) ** 2 - (1 / (1 + np.exp(-(z - e))) - y) ** 2
        assert sq[k] / (2 * h) == pytest.approx(dmse[k], rel=1e-6, abs=1e-12)

    def right(z, y):
        p = 1 / (1 + np.exp(-z))
        return 2 * (p - y) * p * (1 - p), p - y

    def no_sigmoid_slope(z, y):          # d/dp instead of d/dz for the MSE
        p = 1 / (1 + np.exp(-z))
        return 2 * (p - y), p - y

    def ce_with_slope(z, y):             # sigma' kept in the CE gradient
        p = 1 / (1 + np.exp(-z))
        return 2 * (p - y) * p * (1 - p), (p - y) * p * (1 - p)

    assert run("losses.sigmoid_output_grads", right).status == "ok"
    result = run("losses.sigmoid_output_grads", no_sigmoid_slope)
    assert result.status == "wrong"
    assert failed_line(result, "sigmoid_output_grads", "dmse", "confidently wrong (saturated)")
    assert not failed_line(result, "sigmoid_output_grads", "dbce", "confidently wrong (saturated)")
    result = run("losses.sigmoid_output_grads", ce_with_slope)
    assert failed_line(result, "sigmoid_output_grads", "dbce", "logits near 0")
    assert not failed_line(result, "sigmoid_output_grads", "dmse", "logits near 0")


# ---------------------------------------------------------------- derive: Huber's location

def test_huber_location_minimises_and_mean_or_median_fail():
    x = np.array([0.0, 1.0, 2.0, 100.0])
    # within delta = 1 of c: 1 and 2 (0 is 1.5 below, 100 above): 1 + 2 + 1 - 1 = 2 c, c = 1.5
    assert L.huber_location(x, 1.0) == pytest.approx(1.5, rel=1e-12)
    assert L.huber_location(x, 1000.0) == pytest.approx(x.mean(), rel=1e-12)
    rng = np.random.default_rng(5)
    x = np.concatenate([rng.normal(0, 1, 20), [40.0, 55.0]])
    c = L.huber_location(x, 1.0)

    def total(c):
        r = np.abs(x - c)
        return np.sum(np.where(r <= 1.0, 0.5 * r * r, r - 0.5))

    assert total(c) < min(total(c - 1e-4), total(c + 1e-4))

    def mean(x, delta):
        return float(np.mean(x))

    def median(x, delta):
        return float(np.median(x))

    result = run("losses.huber_location", mean)
    assert result.status == "wrong"
    assert failed_line(result, "huber_location", "c", "a cluster and outliers on one side")
    assert not failed_line(result, "huber_location", "c", "no point beyond delta (the mean)")
    result = run("losses.huber_location", median)
    assert failed_line(result, "huber_location", "c", "no point beyond delta (the mean)")
    assert failed_line(result, "huber_location", "c", "a cluster and outliers on one side")
    assert not failed_line(result, "huber_location", "c", "tiny delta (near the median)")


def test_msle_constant_is_the_closed_form_and_geometric_mean_or_mean_fail():
    # d/dc mean((log(1 + c) - log(1 + y))^2) = 0  <=>  log(1 + c) = mean log(1 + y):
    # c = exp(mean log(1 + y)) - 1, a geometric mean of 1 + y, shifted back by 1
    y = np.array([0.0, 3.0, 15.0])                 # 1 + y = 1, 4, 16: geometric mean 4
    assert L.msle_constant(y) == pytest.approx(3.0, rel=1e-12)
    rng = np.random.default_rng(3)
    y = np.floor(10 ** rng.uniform(0, 4, 30))
    assert L.msle_constant(y) == pytest.approx(np.expm1(np.log1p(y).mean()), rel=1e-12)

    def geometric_mean(y):                         # the classic slip: forgetting the +1
        with np.errstate(divide="ignore"):
            return float(np.exp(np.log(y).mean()))

    def mean(y):
        return float(np.mean(y))

    def median(y):
        return float(np.median(y))

    for wrong in (geometric_mean, mean, median):
        result = run("losses.msle_constant", wrong)
        assert result.status == "wrong", wrong.__name__
        assert failed_line(result, "msle_constant", "c", "small targets, zeros included")
        assert failed_line(result, "msle_constant", "c", "targets below 1")
    # far above 1 the +1 matters less, but still more than the tolerance
    assert failed_line(run("losses.msle_constant", geometric_mean), "msle_constant", "c",
                       "counts spanning orders of magnitude")

    def closed_form(y):
        return float(np.expm1(np.mean(np.log1p(y))))

    assert run("losses.msle_constant", closed_form).status == "ok"


# ---------------------------------------------------------------- the classic slips are named

def _sig(z):
    return 1 / (1 + np.exp(-z))


def _ls(x):
    s = x - x.max(axis=-1, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=-1, keepdims=True))


def huber_constant_slip(pred, target, delta=1.0):
    r = pred - target
    a = np.abs(r)
    return float(np.where(a < delta, 0.5 * r * r, delta * a - delta / 2).mean()), \
        np.clip(r, -delta, delta) / r.size


def huber_no_half(pred, target, delta=1.0):
    r = pred - target
    a = np.abs(r)
    return float(np.where(a < delta, r * r, delta * (a - delta / 2)).mean()), \
        np.clip(r, -delta, delta) / r.size


def huber_clip_at_1(pred, target, delta=1.0):
    r = pred - target
    a = np.abs(r)
    return float(np.where(a < delta, 0.5 * r * r, delta * (a - delta / 2)).mean()), \
        np.clip(r, -1.0, 1.0) / r.size


def mae_is_mse(pred, target):
    r = pred - target
    return float((r * r).mean()), 2 * r / r.size


def mae_sign_at_zero(pred, target):
    r = pred - target
    return float(np.abs(r).mean()), np.where(r >= 0, 1.0, -1.0) / r.size


def log_softmax_axis_0(x):
    s = x - x.max(axis=0, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=0, keepdims=True))


def _ce(logits, labels, q):
    lp = _ls(logits)
    n = logits.shape[0]
    return float(-(q * lp).sum() / n), (np.exp(lp) - q) / n


def ce_c_minus_1(logits, labels, eps):
    n, c = logits.shape
    q = np.full((n, c), eps / (c - 1))
    q[np.arange(n), labels] = 1 - eps
    return _ce(logits, labels, q)


def ce_true_class_short(logits, labels, eps):
    n, c = logits.shape
    q = np.full((n, c), eps / c)
    q[np.arange(n), labels] = 1 - eps
    return _ce(logits, labels, q)


def ce_mean_over_classes(logits, labels, eps):
    n, c = logits.shape
    q = np.full((n, c), eps / c)
    q[np.arange(n), labels] += 1 - eps
    value, grad = _ce(logits, labels, q)
    return value / c, grad / c


def bce_sigmoid_slope(x, t):
    e = np.exp(-np.abs(x))
    s = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
    return float((np.maximum(x, 0) - x * t + np.log1p(e)).mean()), (s - t) * s * (1 - s) / x.size


def _hinge_parts(scores, labels, margin, keep_true=False):
    n, c = scores.shape
    rows = np.arange(n)
    m = np.maximum(0.0, margin - scores[rows, labels][:, None] + scores)
    if not keep_true:
        m[rows, labels] = 0.0
    active = (m > 0) * 1.0
    active[rows, labels] = 0.0
    d = active.copy()
    d[rows, labels] = -active.sum(axis=1)
    return m, d, n, c, rows


def hinge_true_class_kept(scores, labels, margin=1.0):
    m, d, n, c, _ = _hinge_parts(scores, labels, margin, keep_true=True)
    return float(m.sum() / (n * c)), d / (n * c)


def hinge_true_grad_minus_1(scores, labels, margin=1.0):
    m, d, n, c, rows = _hinge_parts(scores, labels, margin)
    d[rows, labels] = -1.0 * (d[rows, labels] < 0)
    return float(m.sum() / (n * c)), d / (n * c)


def hinge_largest_only(scores, labels, margin=1.0):
    m, _, n, _c, rows = _hinge_parts(scores, labels, margin)
    j = m.argmax(axis=1)
    d = np.zeros_like(scores)
    d[rows, j] = m[rows, j] > 0
    d[rows, labels] -= m[rows, j] > 0
    return float(m.max(axis=1).sum() / n), d / n


def hinge_not_over_c(scores, labels, margin=1.0):
    m, d, n, _c, _ = _hinge_parts(scores, labels, margin)
    return float(m.sum() / n), d / n


def sigmoid_mse_no_slope(z, y):
    p = _sig(z)
    return 2 * (p - y), p - y


def sigmoid_bce_with_slope(z, y):
    p = _sig(z)
    return 2 * (p - y) * p * (1 - p), (p - y) * p * (1 - p)


def location_mean(x, delta):
    return float(np.mean(x))


def location_median(x, delta):
    return float(np.median(x))


def location_trimmed(x, delta):        # the points within delta of the median, outer pulls dropped
    inside = np.abs(x - np.median(x)) <= delta
    return float(x[inside].mean())


def msle_geometric(y):
    with np.errstate(divide="ignore"):
        return float(np.exp(np.mean(np.log(y))))


def msle_plus_one(y):
    return float(np.exp(np.mean(np.log1p(y))))


def msle_mean(y):
    return float(np.mean(y))


def temperature_as_beta(logits, labels):
    return 1.0 / L.temperature(logits, labels)


def temperature_matching_confidence(logits, labels):   # mean confidence = accuracy
    acc = np.mean(logits.argmax(axis=1) == labels)
    lo, hi = -10.0, 10.0                              # log T
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        z = logits / np.exp(mid)
        p = np.exp(z - z.max(axis=1, keepdims=True))
        conf = np.mean(p.max(axis=1) / p.sum(axis=1))
        lo, hi = (mid, hi) if conf > acc else (lo, mid)
    return float(np.exp(0.5 * (lo + hi)))


SLIPS = [
    ("losses.huber", huber_constant_slip, "HINT_HUBER_CONSTANT"),
    ("losses.huber", huber_no_half, "HINT_HUBER_NO_HALF"),
    ("losses.huber", huber_clip_at_1, "HINT_HUBER_CLIP_AT_1"),
    ("losses.mae", mae_is_mse, "HINT_MAE_SQUARED"),
    ("losses.mae", mae_sign_at_zero, "HINT_MAE_SIGN_AT_ZERO"),
    ("losses.log_softmax", log_softmax_axis_0, "HINT_LOG_SOFTMAX_AXIS"),
    ("losses.cross_entropy_label_smoothing", ce_c_minus_1, "HINT_CE_C_MINUS_1"),
    ("losses.cross_entropy_label_smoothing", ce_true_class_short, "HINT_CE_TRUE_CLASS_SHORT"),
    ("losses.cross_entropy_label_smoothing", ce_mean_over_classes, "HINT_CE_MEAN_OVER_CLASSES"),
    ("losses.bce_with_logits", bce_sigmoid_slope, "HINT_BCE_SIGMOID_SLOPE"),
    ("losses.hinge", hinge_true_class_kept, "HINT_HINGE_TRUE_CLASS"),
    ("losses.hinge", hinge_true_grad_minus_1, "HINT_HINGE_TRUE_GRAD"),
    ("losses.hinge", hinge_largest_only, "HINT_HINGE_LARGEST_ONLY"),
    ("losses.hinge", hinge_not_over_c, "HINT_HINGE_TIMES_C"),
    ("losses.sigmoid_output_grads", sigmoid_mse_no_slope, "HINT_SIGMOID_MSE_NO_SLOPE"),
    ("losses.sigmoid_output_grads", sigmoid_bce_with_slope, "HINT_SIGMOID_BCE_SLOPE"),
    ("losses.huber_location", location_mean, "HINT_HUBER_LOCATION_MEAN"),
    ("losses.huber_location", location_median, "HINT_HUBER_LOCATION_MEDIAN"),
    ("losses.huber_location", location_trimmed, "HINT_HUBER_LOCATION_TRIMMED"),
    ("losses.msle_constant", msle_geometric, "HINT_MSLE_GEOMETRIC"),
    ("losses.msle_constant", msle_plus_one, "HINT_MSLE_PLUS_ONE"),
    ("losses.msle_constant", msle_mean, "HINT_MSLE_MEAN"),
    ("losses.temperature", temperature_as_beta, "HINT_TEMPERATURE_INVERSE"),
    ("losses.temperature", temperature_matching_confidence, "HINT_TEMPERATURE_CONFIDENCE"),
]


@pytest.mark.parametrize("exercise_id, slip, hint", SLIPS, ids=[s[1].__name__ for s in SLIPS])
def test_each_classic_slip_fails_with_its_own_hint(exercise_id, slip, hint):
    with np.errstate(all="ignore"):
        result = run(exercise_id, slip)
    assert result.status == "wrong"
    hints = [line.strip() for line in result.lines if line.strip().startswith("hint:")]
    assert hints == [f"hint: {getattr(L, hint)}"]


def test_no_hint_predicate_holds_for_the_reference():
    # a hint names a slip only where the answer differs from the right one
    for exercise_id in CHAPTER9:
        ex = get_exercise(exercise_id)
        for case in ex.cases():
            out = ex.reference(*case.args, **case.kwargs)
            outs = out if len(ex.outputs) > 1 else (out,)
            for name, value in zip(ex.output_names(), outs):
                v = np.asarray(value, dtype=np.float64)
                for sentence, predicate in ex.hints:
                    with np.errstate(all="ignore"):
                        assert not predicate(case, name, v, v), (exercise_id, sentence)


# ---------------------------------------------------------------- tune: temperature scaling

def _mean_ce(z, y):
    s = z - z.max(axis=1, keepdims=True)
    return float(np.mean(np.log(np.exp(s).sum(axis=1)) - s[np.arange(len(y)), y]))


def test_temperature_minimises_the_cross_entropy_and_scales_with_the_logits():
    rng = np.random.default_rng(4)
    z = 2.0 * rng.standard_normal((300, 5))
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    y = np.array([rng.choice(5, p=row) for row in p])       # labels drawn from softmax(z)
    t = L.temperature(z, y)
    # the minimum: a small step of T either way raises the loss; the slope in beta is 0 there
    assert _mean_ce(z / t, y) < min(_mean_ce(z / (t * 1.001), y), _mean_ce(z / (t / 1.001), y))
    q = np.exp(z / t) / np.exp(z / t).sum(axis=1, keepdims=True)
    assert abs(np.mean((q * z).sum(axis=1) - z[np.arange(300), y])) < 1e-9
    # logits k times larger need a k times larger temperature (the loss depends on z / T only)
    assert L.temperature(3.0 * z, y) == pytest.approx(3.0 * t, rel=1e-10)
    assert 0.8 < t < 1.25                                   # labels drawn from the model itself

    def correct(logits, labels):
        lo, hi = -10.0, 10.0                                # log T, bisect d/dT on its sign
        for _ in range(100):
            mid = 0.5 * (lo + hi)
            zz = logits / np.exp(mid)
            pp = np.exp(zz - zz.max(axis=1, keepdims=True))
            pp /= pp.sum(axis=1, keepdims=True)
            # d/dbeta at beta = 1/T: > 0 means beta too large, T too small
            up = np.mean((pp * logits).sum(axis=1) - logits[np.arange(len(labels)), labels]) > 0
            lo, hi = (mid, hi) if up else (lo, mid)
        return float(np.exp(0.5 * (lo + hi)))

    assert run("losses.temperature", correct).status == "ok"

    def fixed_one(logits, labels):                          # no scaling at all
        return 1.0

    result = run("losses.temperature", fixed_one)
    assert failed_line(result, "temperature", "T", "over-confident logits (x3)")
    assert failed_line(result, "temperature", "T", "under-confident logits (x0.4)")
