"""Tests for dlcore.losses: hand-computed values, gradients against central
differences, PyTorch reference numbers, large-logit stability, dtypes, bad input."""
import math

import numpy as np
import pytest

from dlcore.errors import DTypeError, ShapeError
from dlcore.gradcheck import numerical_gradient, relative_error
from dlcore.losses import (
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MSELoss,
    MultiMarginLoss,
)

LN2, LN3, LN4 = math.log(2), math.log(3), math.log(4)


def a(rows):
    return np.array(rows, dtype=np.float64)


def value_and_grad(loss, pred, target):
    value = loss(pred, target)
    return value, loss.backward()


# --- values at hand-computed cases ----------------------------------------------


def test_mse_hand_computed():
    # differences pred - target = [0, 2, -2]: mean of squares (0 + 4 + 4) / 3
    value, grad = value_and_grad(MSELoss(), a([1.0, 2.0, 3.0]), a([1.0, 0.0, 5.0]))
    assert value == pytest.approx(8 / 3, rel=1e-15)
    np.testing.assert_allclose(grad, [0.0, 4 / 3, -4 / 3], rtol=1e-15)  # 2 d / n


def test_l1_hand_computed_and_zero_subgradient():
    # |d| = [0, 2, 2]: mean 4/3; gradient sign(d)/3, with sign(0) = 0 as PyTorch
    value, grad = value_and_grad(L1Loss(), a([1.0, 2.0, 3.0]), a([1.0, 0.0, 5.0]))
    assert value == pytest.approx(4 / 3, rel=1e-15)
    np.testing.assert_array_equal(grad, [0.0, 1 / 3, -1 / 3])


def test_huber_hand_computed_both_pieces():
    pred, target = a([0.5, 3.0, -2.0]), a([0.0, 0.0, 0.0])
    # delta = 1: 0.5 * 0.5^2 = 0.125 (inside); 1 * (3 - 0.5) = 2.5; 1 * (2 - 0.5) = 1.5
    value, grad = value_and_grad(HuberLoss(), pred, target)
    assert value == pytest.approx((0.125 + 2.5 + 1.5) / 3, rel=1e-15)
    np.testing.assert_allclose(grad, [0.5 / 3, 1 / 3, -1 / 3], rtol=1e-15)  # clip(d, -1, 1)/n
    # delta = 2: 0.125; 2 * (3 - 1) = 4; |d| = 2 = delta, where both pieces give 0.5 * 4 = 2
    value, grad = value_and_grad(HuberLoss(delta=2.0), pred, target)
    assert value == pytest.approx((0.125 + 4.0 + 2.0) / 3, rel=1e-15)
    np.testing.assert_allclose(grad, [0.5 / 3, 2 / 3, -2 / 3], rtol=1e-15)


def test_huber_is_not_the_notes_formula():
    # Errata: outside the interval it is delta * (|d| - delta/2), not (|d| - delta/2)
    # alone; with delta = 3 and d = 5: 3 * (5 - 1.5) = 10.5 (the slip would give 3.5).
    assert HuberLoss(delta=3.0)(a([5.0]), a([0.0])) == pytest.approx(10.5, rel=1e-15)


def test_cross_entropy_hand_computed():
    # row 0: logits [0, ln 3] -> p = [1/4, 3/4]; label 1: -ln(3/4)
    # row 1: logits [ln 3, 0] -> p = [3/4, 1/4]; label 1: -ln(1/4) = ln 4
    logits = a([[0.0, LN3], [LN3, 0.0]])
    value, grad = value_and_grad(CrossEntropyLoss(), logits, np.array([1, 1]))
    assert value == pytest.approx((-math.log(3 / 4) + LN4) / 2, rel=1e-14)
    # (p - onehot) / N
    np.testing.assert_allclose(grad, [[0.25 / 2, -0.25 / 2], [0.75 / 2, -0.75 / 2]], rtol=1e-14)


def test_cross_entropy_single_row_is_minus_log_three_quarters():
    value = CrossEntropyLoss()(a([[0.0, LN3]]), np.array([1]))
    assert value == pytest.approx(-math.log(3 / 4), rel=1e-14)


def test_label_smoothing_closed_form():
    # C = 2, eps = 0.2, logits [0, ln 3] (p = [1/4, 3/4]), label 1:
    # (1 - eps) * (-ln 3/4) + eps * mean(-ln 1/4, -ln 3/4)
    eps = 0.2
    expected = (1 - eps) * -math.log(3 / 4) + eps * (LN4 - math.log(3 / 4)) / 2
    # the same number as cross-entropy against q = [eps/2, 1 - eps + eps/2] = [0.1, 0.9]
    assert expected == pytest.approx(-(0.1 * math.log(1 / 4) + 0.9 * math.log(3 / 4)))
    loss = CrossEntropyLoss(label_smoothing=eps)
    assert loss(a([[0.0, LN3]]), np.array([1])) == pytest.approx(expected, rel=1e-14)
    np.testing.assert_allclose(loss.backward(), [[0.25 - 0.1, 0.75 - 0.9]], rtol=1e-14)


def test_label_smoothing_one_ignores_the_label():
    # eps = 1: the mean of -log p_c over classes, whatever the label
    logits = a([[0.0, LN3]])
    expected = (LN4 - math.log(3 / 4)) / 2
    for label in (0, 1):
        assert CrossEntropyLoss(label_smoothing=1.0)(logits, np.array([label])) == pytest.approx(
            expected, rel=1e-14
        )


def test_bce_with_logits_hand_computed():
    # sigmoid(0) = 1/2, sigmoid(ln 3) = 3/4
    # logit 0, t=1: ln 2; logit ln 3, t=1: -ln(3/4); logit ln 3, t=0: -ln(1/4) = ln 4
    value, grad = value_and_grad(BCEWithLogitsLoss(), a([0.0, LN3, LN3]), a([1.0, 1.0, 0.0]))
    assert value == pytest.approx((LN2 - math.log(3 / 4) + LN4) / 3, rel=1e-14)
    # (sigmoid(x) - t) / n
    np.testing.assert_allclose(grad, [-0.5 / 3, -0.25 / 3, 0.75 / 3], rtol=1e-14)


def test_multi_margin_hand_computed_with_kink():
    # x = [1.5, 0.5, 0.75], y = 0, margin 1: terms 1 - 1.5 + 0.5 = 0 (at the kink)
    # and 1 - 1.5 + 0.75 = 0.25; divided by C = 3
    x, y = a([[1.5, 0.5, 0.75]]), np.array([0])
    value, grad = value_and_grad(MultiMarginLoss(), x, y)
    assert value == pytest.approx(0.25 / 3, rel=1e-15)
    np.testing.assert_allclose(grad, [[-1 / 3, 0.0, 1 / 3]], rtol=1e-15)  # 0 at the kink
    # p = 2: 0.25^2 / 3; gradient 2 * 0.25 / 3 on x[2], minus that on x[y]
    value, grad = value_and_grad(MultiMarginLoss(p=2), x, y)
    assert value == pytest.approx(0.0625 / 3, rel=1e-15)
    np.testing.assert_allclose(grad, [[-0.5 / 3, 0.0, 0.5 / 3]], rtol=1e-15)


def test_multi_margin_zero_when_margins_are_met():
    loss = MultiMarginLoss(margin=1.0)
    assert loss(a([[3.0, 1.0, 0.5], [0.0, 0.0, 2.0]]), np.array([0, 2])) == 0.0
    np.testing.assert_array_equal(loss.backward(), np.zeros((2, 3)))


def test_kl_div_hand_computed_mean_is_over_all_elements():
    # p = [1/2, 1/2, 0], q = [1/4, 1/4, 1/2]: KL = 1/2 ln 2 + 1/2 ln 2 + 0 = ln 2 per row
    p = a([[0.5, 0.5, 0.0], [0.5, 0.5, 0.0]])
    log_q = np.log(a([[0.25, 0.25, 0.5], [0.25, 0.25, 0.5]]))
    value, grad = value_and_grad(KLDivLoss(), log_q, p)
    # 'mean' divides the sum 2 ln 2 by N*C = 6; 'batchmean' (the true KL) would divide by N = 2
    assert value == pytest.approx(2 * LN2 / 6, rel=1e-14)
    assert value * 3 == pytest.approx(LN2, rel=1e-14)  # 'mean' = batchmean / C
    np.testing.assert_allclose(grad, -p / 6, rtol=1e-15)


def test_kl_div_zero_target_with_minus_inf_log_prob_counts_zero():
    # a zero-probability class whose log-probability is -inf contributes 0, not nan
    p = a([[0.5, 0.5, 0.0]])
    log_q = a([[-LN2, -LN2, -np.inf]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        value = KLDivLoss()(log_q, p)
    assert value == 0.0  # q equals p on the support of p


# --- gradients against central differences -----------------------------------------

rng = np.random.default_rng(0)
_X = rng.standard_normal((4, 5))
# differences whose size lies in [0.3, 2] and away from Huber's delta = 1, so no kink is near
_D = rng.choice([-1.0, 1.0], size=(4, 5)) * rng.choice([0.3, 0.5, 1.5, 2.0], size=(4, 5))
_LABELS = np.array([0, 3, 4, 1])

GRAD_CASES = {
    "mse": (MSELoss(), _X, _X - _D),
    "l1": (L1Loss(), _X, _X - _D),
    "huber": (HuberLoss(), _X, _X - _D),
    "huber_delta_0.4": (HuberLoss(delta=0.4), _X, _X - _D),
    "cross_entropy": (CrossEntropyLoss(), _X, _LABELS),
    "cross_entropy_smoothed": (CrossEntropyLoss(label_smoothing=0.3), _X, _LABELS),
    "bce_with_logits": (BCEWithLogitsLoss(), _X, rng.uniform(0, 1, size=(4, 5))),
    "multi_margin": (MultiMarginLoss(), _X, _LABELS),
    "multi_margin_p2": (MultiMarginLoss(p=2, margin=0.7), _X, _LABELS),
    "kl_div": (
        KLDivLoss(),
        _X - np.log(np.exp(_X).sum(axis=1, keepdims=True)),
        np.concatenate([rng.dirichlet(np.ones(4), size=4), np.zeros((4, 1))], axis=1),
    ),
}


def _margin_terms(x, labels, margin):
    return margin - x[np.arange(len(labels)), labels][:, None] + x


def test_gradient_cases_are_away_from_kinks():
    # a kink under the finite difference would make the comparison meaningless
    for margin in (1.0, 0.7):
        m = _margin_terms(_X, _LABELS, margin)
        m[np.arange(4), _LABELS] = 1.0
        assert np.min(np.abs(m)) > 1e-3
        assert np.any(m > 0) and np.any(m < 0)  # both active and inactive terms are tested


@pytest.mark.parametrize("name", sorted(GRAD_CASES))
def test_gradient_matches_central_differences(name):
    loss, pred, target = GRAD_CASES[name]
    pred = pred.copy()
    loss(pred, target)
    analytic = loss.backward()
    # central differences, h = 1e-6; numerical_gradient nudges pred in place
    numeric = numerical_gradient(lambda _: loss(pred, target), pred)
    assert analytic.shape == pred.shape
    assert relative_error(analytic, numeric) < 1e-7


# --- reference numbers from PyTorch ------------------------------------------------
# Computed with torch 2.13.0's functional losses (torch.nn.functional.mse_loss, l1_loss,
# huber_loss, cross_entropy, binary_cross_entropy_with_logits, multi_margin_loss,
# kl_div), default reduction, float64, on exactly these inputs; gradients from
# .backward() on the input. torch is not imported here.

P = a([[0.5, -1.2, 2.0], [3.0, 0.1, -0.7]])
T = a([[1.0, -1.0, 0.3], [0.2, 0.1, 1.5]])
LOGITS = a([[1.0, 2.0, 0.5, -1.0], [0.0, -0.3, 2.5, 1.0], [3.0, 1.0, 0.2, 0.4]])
LABELS = np.array([1, 3, 0])
SCORES = a([[0.3, 0.8, -0.1, 0.5], [1.0, 0.2, 0.9, 1.1], [0.1, 0.4, 0.6, -0.5]])
BCE_X = a([[2.0, -1.0, 0.0], [-3.0, 0.5, 4.0]])
BCE_T = a([[1.0, 0.0, 0.5], [0.2, 1.0, 0.0]])
KL_LOGQ = np.log(a([[0.2, 0.5, 0.3], [0.6, 0.3, 0.1]]))
KL_P = a([[0.1, 0.6, 0.3], [0.0, 0.5, 0.5]])

TORCH = {
    "mse_loss": (
        MSELoss(), P, T, 2.643333333333333,
        [[-0.16666666666666666, -0.06666666666666665, 0.5666666666666667],
         [0.9333333333333332, 0.0, -0.7333333333333334]],
    ),
    "l1_loss": (
        L1Loss(), P, T, 1.2333333333333334,
        [[-0.16666666666666666, -0.16666666666666666, 0.16666666666666666],
         [0.16666666666666666, 0.0, -0.16666666666666666]],
    ),
    "huber_loss": (
        HuberLoss(), P, T, 0.8908333333333333,
        [[-0.08333333333333333, -0.033333333333333326, 0.16666666666666666],
         [0.16666666666666666, 0.0, -0.16666666666666666]],
    ),
    "huber_loss_delta_0.5": (
        HuberLoss(delta=0.5), P, T, 0.52,
        [[-0.08333333333333333, -0.033333333333333326, 0.08333333333333333],
         [0.08333333333333333, 0.0, -0.08333333333333333]],
    ),
    "cross_entropy": (
        CrossEntropyLoss(), LOGITS, LABELS, 0.8488112767690899,
        [[0.07473593934940037, -0.13017998746704096, 0.045329638597835176, 0.010114409519805408],
         [0.020030132518324386, 0.01483868713224409, 0.24401696843657708, -0.27888578808714554],
         [-0.0709526909985776, 0.035509358546178545, 0.015955383292021418, 0.019487949160377646]],
    ),
    "cross_entropy_label_smoothing_0.1": (
        CrossEntropyLoss(label_smoothing=0.1), LOGITS, LABELS, 0.9629779434357566,
        [[0.06640260601606707, -0.10517998746704092, 0.03699630526450186, 0.001781076186472078],
         [0.011696799184991056, 0.00650535379891076, 0.23568363510324378, -0.25388578808714557],
         [-0.04595269099857754, 0.027176025212845224, 0.007622049958688089, 0.011154615827044318]],
    ),
    "cross_entropy_label_smoothing_1.0": (
        CrossEntropyLoss(label_smoothing=1.0), LOGITS, LABELS, 1.9904779434357565,
        [[-0.008597393983932953, 0.11982001253295904, -0.03800369473549815, -0.07321892381352792],
         [-0.06330320081500894, -0.06849464620108923, 0.16068363510324374, -0.028885788087145536],
         [0.1790473090014224, -0.047823974787154784, -0.06737795004131192, -0.06384538417295568]],
    ),
    "binary_cross_entropy_with_logits": (
        BCEWithLogitsLoss(), BCE_X, BCE_T, 1.045691857132133,
        [[-0.01986715367035295, 0.04482357022833252, 0.0],
         [-0.025429021137072207, -0.0629234447996909, 0.16366896500631808]],
    ),
    "multi_margin_loss": (
        MultiMarginLoss(), SCORES, LABELS, 0.5249999999999999,
        [[0.08333333333333333, -0.25, 0.08333333333333333, 0.08333333333333333],
         [0.08333333333333333, 0.08333333333333333, 0.08333333333333333, -0.25],
         [-0.25, 0.08333333333333333, 0.08333333333333333, 0.08333333333333333]],
    ),
    "multi_margin_loss_p2_margin_0.5": (
        MultiMarginLoss(p=2, margin=0.5), SCORES, LABELS, 0.16083333333333333,
        [[0.0, -0.033333333333333326, 0.0, 0.033333333333333326],
         [0.06666666666666665, 0.0, 0.04999999999999999, -0.11666666666666664],
         [-0.3, 0.13333333333333333, 0.16666666666666666, 0.0]],
    ),
    "kl_div": (
        KLDivLoss(), KL_LOGQ, KL_P, 0.1833683306867373,
        [[-0.016666666666666666, -0.09999999999999999, -0.049999999999999996],
         [0.0, -0.08333333333333333, -0.08333333333333333]],
    ),
}


@pytest.mark.parametrize("name", list(TORCH))
def test_matches_pytorch(name):
    loss, pred, target, torch_value, torch_grad = TORCH[name]
    value, grad = value_and_grad(loss, pred, target)
    assert value == pytest.approx(torch_value, rel=1e-13, abs=1e-15)
    np.testing.assert_allclose(grad, torch_grad, rtol=1e-12, atol=1e-15)


def test_kl_div_mean_differs_from_batchmean_by_class_count():
    # torch 2.13.0: kl_div(KL_LOGQ, KL_P, reduction="batchmean") = 0.5501049920602119
    value = KLDivLoss()(KL_LOGQ, KL_P)
    assert value != pytest.approx(0.5501049920602119)
    assert value * KL_P.shape[1] == pytest.approx(0.5501049920602119, rel=1e-13)


# --- large logits --------------------------------------------------------------------


def test_cross_entropy_logits_1000_apart():
    loss = CrossEntropyLoss()
    # label 0 with logits [0, 1000]: -log p_0 = 1000 + log(1 + e^-1000) = 1000 exactly in floats;
    # p = [e^-1000, 1] = [0, 1] to double precision, so the gradient is p - onehot = [-1, 1]
    assert loss(a([[0.0, 1000.0]]), np.array([0])) == 1000.0
    np.testing.assert_array_equal(loss.backward(), [[-1.0, 1.0]])
    # the right label: loss 0, gradient 0
    assert loss(a([[0.0, 1000.0]]), np.array([1])) == 0.0
    np.testing.assert_array_equal(loss.backward(), [[0.0, 0.0]])
    # float32 too, where exp(1000) would overflow
    loss(np.array([[0.0, 1000.0], [-1000.0, 1000.0]], dtype=np.float32), np.array([0, 0]))
    np.testing.assert_array_equal(loss.backward(), np.float32([[-0.5, 0.5], [-0.5, 0.5]]))


def test_bce_with_logits_large_logits():
    loss = BCEWithLogitsLoss()
    # x = 1000, t = 0: -log(1 - sigmoid(1000)) = 1000 (+ log1p(e^-1000) = 0);
    # x = -1000, t = 1: -log sigmoid(-1000) = 1000; gradient (sigmoid(x) - t)/2 = [1/2, -1/2]
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        assert loss(a([[1000.0, -1000.0]]), a([[0.0, 1.0]])) == 1000.0
        np.testing.assert_array_equal(loss.backward(), [[0.5, -0.5]])
        # correctly classified with huge margins: loss and gradient 0
        assert loss(a([[1000.0, -1000.0]]), a([[1.0, 0.0]])) == 0.0
        np.testing.assert_array_equal(loss.backward(), [[0.0, 0.0]])


# --- dtypes ------------------------------------------------------------------------

# float targets are float64 on purpose: the gradient must still take pred's dtype
_FLOAT_TARGET = np.full((3, 4), 0.25)
_LABEL_TARGET = np.array([0, 2, 1])
DTYPE_CASES = [
    (MSELoss(), _FLOAT_TARGET),
    (L1Loss(), _FLOAT_TARGET),
    (HuberLoss(), _FLOAT_TARGET),
    (BCEWithLogitsLoss(), _FLOAT_TARGET),
    (KLDivLoss(), _FLOAT_TARGET),
    (CrossEntropyLoss(label_smoothing=0.1), _LABEL_TARGET),
    (MultiMarginLoss(p=2), _LABEL_TARGET),
]


@pytest.mark.parametrize("loss, target", DTYPE_CASES, ids=lambda v: type(v).__name__)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gradient_keeps_pred_dtype_and_value_is_python_float(loss, target, dtype):
    pred = np.random.default_rng(1).standard_normal((3, 4)).astype(dtype)
    value = loss(pred, target)
    assert type(value) is float and math.isfinite(value)
    grad = loss.backward()
    assert grad.dtype == dtype and grad.shape == pred.shape
    # the float32 gradient is the float64 one, rounded
    loss(pred.astype(np.float64), target)
    np.testing.assert_allclose(grad, loss.backward(), rtol=1e-5, atol=1e-7)


def test_float32_cross_entropy_matches_pytorch_float32():
    # torch 2.13.0: cross_entropy(LOGITS.float(), LABELS) = 0.8488112092018127
    loss = CrossEntropyLoss()
    value = loss(LOGITS.astype(np.float32), LABELS)
    assert value == pytest.approx(0.8488112092018127, rel=1e-6)
    np.testing.assert_allclose(loss.backward(), TORCH["cross_entropy"][4], rtol=1e-5, atol=1e-7)


# --- state --------------------------------------------------------------------------


def test_backward_before_call_raises():
    with pytest.raises(RuntimeError, match=r"MSELoss\.backward\(\) was called before the loss"):
        MSELoss().backward()


def test_backward_reflects_the_latest_call():
    loss = MSELoss()
    loss(a([1.0]), a([0.0]))
    loss(a([3.0]), a([0.0]))
    np.testing.assert_array_equal(loss.backward(), [6.0])


# --- bad input ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make, pred, target, error, message",
    [
        (MSELoss, np.array([1, 2]), a([1.0, 2.0]), DTypeError,
         r"MSELoss: pred must be a floating-point array .* got dtype int"),
        (MSELoss, [1.0, 2.0], a([1.0, 2.0]), TypeError,
         r"MSELoss: pred must be a numpy \(or cupy\) array, got list"),
        (L1Loss, a([1.0, 2.0]), np.array([1, 2]), DTypeError,
         r"L1Loss: target must be a floating-point array"),
        (HuberLoss, a([[1.0, 2.0, 3.0]]), a([[1.0], [2.0], [3.0]]), ShapeError,
         r"HuberLoss: pred and target must have the same shape, got \(1, 3\) and \(3, 1\)"),
        (MSELoss, np.zeros((0, 3)), np.zeros((0, 3)), ShapeError,
         r"MSELoss: pred is empty \(shape \(0, 3\)\)"),
        (CrossEntropyLoss, a([[0.0, 1.0, 2.0]]), np.array([3]), ValueError,
         r"CrossEntropyLoss: labels must lie in \[0, 2\] for 3 classes, got values from 3 to 3"),
        (CrossEntropyLoss, a([[0.0, 1.0], [1.0, 0.0]]), np.array([-1, 1]), ValueError,
         r"labels must lie in \[0, 1\] for 2 classes, got values from -1 to 1"),
        (CrossEntropyLoss, a([[0.0, 1.0]]), a([1.0]), DTypeError,
         r"CrossEntropyLoss: labels must be integer class indices .* got dtype float64"),
        (CrossEntropyLoss, a([[0.0, 1.0], [1.0, 0.0]]), np.array([[0], [1]]), ShapeError,
         r"CrossEntropyLoss: labels must have shape \(2,\) .* got \(2, 1\)"),
        (CrossEntropyLoss, a([0.0, 1.0]), np.array([1]), ShapeError,
         r"CrossEntropyLoss: pred must be class scores of shape \(N, C\), got shape \(2,\)"),
        (MultiMarginLoss, a([[0.0, 1.0]]), np.array([2]), ValueError,
         r"MultiMarginLoss: labels must lie in \[0, 1\] for 2 classes, got values from 2 to 2"),
        (BCEWithLogitsLoss, a([0.0, 1.0]), a([0.0, 1.5]), ValueError,
         r"BCEWithLogitsLoss: target must lie in \[0, 1\], got values from 0 to 1.5"),
        (BCEWithLogitsLoss, a([0.0, 1.0]), a([-0.5, 1.0]), ValueError,
         r"target must lie in \[0, 1\], got values from -0.5 to 1"),
        (KLDivLoss, a([-1.0, -1.0]), a([0.5, -0.1]), ValueError,
         r"KLDivLoss: target must lie in \[0, inf\), got values from -0.1 to 0.5"),
        (KLDivLoss, a([-1.0, -1.0]), a([0.5, 0.5, 0.0]), ShapeError,
         r"KLDivLoss: pred and target must have the same shape, got \(2,\) and \(3,\)"),
    ],
)
def test_bad_input_raises_with_message(make, pred, target, error, message):
    with pytest.raises(error, match=message):
        make()(pred, target)


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda: HuberLoss(delta=0.0), ValueError, r"HuberLoss: delta must be in \(0\.0, inf\]"),
        (lambda: HuberLoss(delta=-1.0), ValueError, r"delta must be in \(0\.0, inf\], got -1\.0"),
        (lambda: HuberLoss(delta="1"), TypeError, r"HuberLoss: delta must be a real number"),
        (lambda: CrossEntropyLoss(label_smoothing=1.5), ValueError,
         r"CrossEntropyLoss: label_smoothing must be in \[0\.0, 1\.0\], got 1\.5"),
        (lambda: CrossEntropyLoss(label_smoothing=-0.1), ValueError,
         r"label_smoothing must be in \[0\.0, 1\.0\], got -0\.1"),
        (lambda: MultiMarginLoss(p=3), ValueError, r"MultiMarginLoss: p must be 1 or 2, got 3"),
        (lambda: MultiMarginLoss(p=True), ValueError, r"p must be 1 or 2, got True"),
        (lambda: MultiMarginLoss(margin=-1.0), ValueError,
         r"MultiMarginLoss: margin must be in \[0\.0, inf\], got -1\.0"),
    ],
)
def test_bad_hyperparameter_raises_with_message(make, error, message):
    with pytest.raises(error, match=message):
        make()
