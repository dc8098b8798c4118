"""Tests for dlcore.losses: hand-computed values, gradients against central
differences, PyTorch reference numbers, large-logit stability, dtypes, bad input."""
import math

import numpy as np
import pytest

from dlcore.errors import DTypeError, ShapeError
from dlcore.gradcheck import numerical_gradient, relative_error
from dlcore.losses import (
    BCEWithLogitsLoss,
    CategoricalHingeLoss,
    CosineProximityLoss,
    CrossEntropyLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    LogCoshLoss,
    MAPELoss,
    MSELoss,
    MSLELoss,
    MultiMarginLoss,
    PoissonNLLLoss,
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


BAD_INPUT = [  # (make, pred, target, error, message)
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
        (CrossEntropyLoss, a([[0.0, 1.0]]), a([1.0]), ShapeError,
         (r"CrossEntropyLoss: a float target holds class probabilities and must have pred's "
         r"shape \(N, C\) = \(1, 2\), got \(1,\); for class indices pass integer labels")),
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
]


BAD_HYPERPARAMETERS = [  # (make, error, message)
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
]


# === log-cosh, Poisson NLL and cosine proximity (the losses chapter 9 adds) ===

# --- hand-computed values ---------------------------------------------------------------


def test_log_cosh_hand_computed():
    # d = [0, 1, -2]: log cosh 0 = 0, log cosh 1, log cosh 2; gradient tanh(d) / 3
    value, grad = value_and_grad(LogCoshLoss(), a([1.0, 2.0, 3.0]), a([1.0, 1.0, 5.0]))
    assert value == pytest.approx((math.log(math.cosh(1)) + math.log(math.cosh(2))) / 3, rel=1e-14)
    np.testing.assert_allclose(grad, [0.0, math.tanh(1) / 3, -math.tanh(2) / 3], rtol=1e-14)


def test_log_cosh_limits_quadratic_near_zero_and_linear_far_out():
    loss = LogCoshLoss()
    # small d: log cosh d = d^2/2 - d^4/12 + ...
    assert loss(a([1e-3]), a([0.0])) == pytest.approx(0.5e-6 - 1e-12 / 12, rel=1e-9)
    # large d: |d| - log 2 (+ log1p(e^-2|d|), which is 0 in doubles at d = 1000); no overflow
    with np.errstate(over="raise", invalid="raise"):
        assert loss(a([1000.0, -1000.0]), a([0.0, 0.0])) == 1000.0 - math.log(2)
        np.testing.assert_array_equal(loss.backward(), [0.5, -0.5])
    with np.errstate(over="ignore"):  # what the naive form gives
        assert math.isinf(float(np.log(np.cosh(np.float64(1000.0)))))


def test_poisson_log_input_hand_computed():
    # log rate x = [0, log 2], counts [1, 3]: exp(x) - t x = [1, 2 - 3 log 2]
    x = a([0.0, math.log(2)])
    value, grad = value_and_grad(PoissonNLLLoss(), x, a([1.0, 3.0]))
    assert value == pytest.approx((1 + 2 - 3 * math.log(2)) / 2, rel=1e-14)
    np.testing.assert_allclose(grad, [0.0, (2 - 3) / 2], rtol=1e-14, atol=1e-16)


def test_poisson_is_minimised_at_the_mean_count():
    # the best single log rate for counts t is log(mean t): the gradient vanishes there
    t = a([0.0, 2.0, 3.0, 7.0])
    loss = PoissonNLLLoss()
    loss(np.full(4, math.log(3.0)), t)
    assert loss.backward().sum() == pytest.approx(0.0, abs=1e-15)


def test_poisson_full_adds_stirling_only_above_one():
    # targets 0 and 1 get no Stirling term; target 4 gets 4 log 4 - 4 + log(8 pi)/2
    x = a([0.1, -0.2, 0.3])
    t = a([0.0, 1.0, 4.0])
    base = PoissonNLLLoss()(x, t)
    full = PoissonNLLLoss(full=True)(x, t)
    assert full - base == pytest.approx((4 * math.log(4) - 4 + 0.5 * math.log(8 * math.pi)) / 3,
                                        rel=1e-12)


def test_cosine_proximity_hand_computed():
    loss = CosineProximityLoss()
    # same direction -> -1, opposite -> +1, orthogonal -> 0; lengths do not matter
    assert loss(a([[1.0, 2.0]]), a([[3.0, 6.0]])) == pytest.approx(-1.0, rel=1e-15)
    assert loss(a([[1.0, 2.0]]), a([[-0.5, -1.0]])) == pytest.approx(1.0, rel=1e-15)
    assert loss(a([[1.0, 0.0], [1.0, 1.0]]), a([[0.0, 5.0], [1.0, 0.0]])) == pytest.approx(
        -(0 + 1 / math.sqrt(2)) / 2, rel=1e-15)
    # the gradient at a perfect match is 0: no direction improves on cos = 1
    loss(a([[1.0, 2.0]]), a([[3.0, 6.0]]))
    np.testing.assert_allclose(loss.backward(), [[0.0, 0.0]], atol=1e-16)


def test_cosine_proximity_zero_vector_gives_zero_not_nan():
    loss = CosineProximityLoss()
    # torch 2.13.0: cosine_similarity([0,0,0],[1,0,0]) = 0, and [1e-9,0,0] vs [1,0,0] = 0.1
    # (each norm clamped below at eps = 1e-8)
    value = loss(a([[0.0, 0.0, 0.0], [1e-9, 0.0, 0.0]]), a([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]]))
    assert value == pytest.approx(-(0.0 + 0.1) / 2, rel=1e-12)
    grad = loss.backward()
    assert np.all(np.isfinite(grad))
    np.testing.assert_allclose(grad[0], [-1 / (2 * 1e-8), 0, 0], rtol=1e-12)


def test_cosine_proximity_averages_over_leading_axes():
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 3, 4))
    loss = CosineProximityLoss()
    assert loss(x, y) == pytest.approx(loss(x.reshape(6, 4), y.reshape(6, 4)), rel=1e-14)
    g3 = loss.backward()
    loss(x.reshape(6, 4), y.reshape(6, 4))
    np.testing.assert_allclose(g3.reshape(6, 4), loss.backward(), rtol=1e-14)


# --- gradients against central differences ----------------------------------------------

_rng9 = np.random.default_rng(0)
_X9 = _rng9.standard_normal((4, 5))
_COUNTS9 = _rng9.poisson(2.0, size=(4, 5)).astype(np.float64)

GRAD_CASES_MORE = {
    "log_cosh": (LogCoshLoss(), _X9, _rng9.standard_normal((4, 5))),
    "poisson_log": (PoissonNLLLoss(), _X9, _COUNTS9),
    "poisson_log_full": (PoissonNLLLoss(full=True), _X9, _COUNTS9),
    "poisson_rate": (PoissonNLLLoss(log_input=False), _rng9.uniform(0.5, 3.0, (4, 5)), _COUNTS9),
    "cosine": (CosineProximityLoss(), _X9, _rng9.standard_normal((4, 5))),
    "cosine_3d": (CosineProximityLoss(), _rng9.standard_normal((2, 3, 4)),
                  _rng9.standard_normal((2, 3, 4))),
}


# --- reference numbers from PyTorch --------------------------------------------------------
# torch 2.13.0, float64, default reduction: F.poisson_nll_loss (log_input, full as named),
# -F.cosine_similarity(x, t, dim=1, eps=1e-8).mean(), and log(cosh(x - t)).mean() written
# out in torch (PyTorch has no log-cosh loss); gradients from .backward(). torch not imported.

COUNTS = a([[0.0, 2.0, 1.0], [3.0, 0.0, 5.0]])
RATES = a([[0.5, 2.5, 1.0], [3.0, 0.2, 4.0]])
_POISSON_LOG_GRAD = [[0.27478687845002137, -0.28313429801463297, 1.0648426831551083],
                     [2.8475894871979444, 0.18419515301260794, -0.750569116034765]]
_POISSON_RATE_GRAD = [[0.16666666666666666, 0.03333333386666665, 1.6666666380338313e-09],
                      [5.555555460112771e-10, 0.16666666666666666, -0.041666666145833336]]

TORCH_MORE = {
    "poisson_log": (PoissonNLLLoss(), P, COUNTS, 4.321044121099618, _POISSON_LOG_GRAD),
    "poisson_log_full": (PoissonNLLLoss(full=True), P, COUNTS, 5.518833301056254,
                         _POISSON_LOG_GRAD),
    "poisson_rate": (PoissonNLLLoss(log_input=False), RATES, COUNTS, -0.143315029308682,
                     _POISSON_RATE_GRAD),
    "poisson_rate_full": (PoissonNLLLoss(log_input=False, full=True), RATES, COUNTS,
                          1.0544741506479542, _POISSON_RATE_GRAD),
    "cosine": (CosineProximityLoss(), P, T, -0.28641417602305214,
               [[-0.11568693486169722, 0.07466139188210856, 0.07371856884468944],
                [-0.03625572132859466, -0.01119198354056618, -0.15698051762834372]]),
    "log_cosh": (LogCoshLoss(), P, T, 0.8015438559296596,
                 [[-0.07701952621000163, -0.032895886704150654, 0.15590151176718314],
                  [0.165438586700188, 0.0, -0.1626238550052419]]),
}


@pytest.mark.parametrize("name", list(TORCH_MORE))
def test_matches_pytorch_more_losses(name):
    loss, pred, target, torch_value, torch_grad = TORCH_MORE[name]
    value, grad = value_and_grad(loss, pred, target)
    assert value == pytest.approx(torch_value, rel=1e-13, abs=1e-15)
    np.testing.assert_allclose(grad, torch_grad, rtol=1e-9, atol=1e-15)


# --- dtypes ----------------------------------------------------------------------------------


@pytest.mark.parametrize("loss", [LogCoshLoss(), PoissonNLLLoss(), PoissonNLLLoss(full=True),
                                  CosineProximityLoss()], ids=repr)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gradient_keeps_pred_dtype_and_value_is_python_float_more_losses(loss, dtype):
    pred = np.random.default_rng(1).standard_normal((3, 4)).astype(dtype)
    target = np.full((3, 4), 2.0)  # float64 on purpose
    value = loss(pred, target)
    assert type(value) is float and math.isfinite(value)
    grad = loss.backward()
    assert grad.dtype == dtype and grad.shape == pred.shape
    loss(pred.astype(np.float64), target)
    np.testing.assert_allclose(grad, loss.backward(), rtol=1e-5, atol=1e-7)


# --- bad input --------------------------------------------------------------------------------


BAD_INPUT += [
        (PoissonNLLLoss, a([0.0, 1.0]), a([1.0, -1.0]), ValueError,
         r"PoissonNLLLoss: target must lie in \[0, inf\), got values from -1 to 1"),
        (lambda: PoissonNLLLoss(log_input=False), a([-0.5, 1.0]), a([1.0, 1.0]), ValueError,
         r"PoissonNLLLoss: pred \(a rate, log_input=False\) must lie in \[0, inf\)"),
        (PoissonNLLLoss, a([0.0, 1.0]), a([1.0]), ShapeError,
         r"PoissonNLLLoss: pred and target must have the same shape, got \(2,\) and \(1,\)"),
        (LogCoshLoss, a([[1.0, 2.0]]), a([1.0, 2.0]), ShapeError,
         r"LogCoshLoss: pred and target must have the same shape"),
        (CosineProximityLoss, np.array(1.0), np.array(1.0), ShapeError,
         r"CosineProximityLoss: pred must be vectors of shape \(\.\.\., D\), got a 0-d array"),
        (CosineProximityLoss, a([[1.0, 2.0]]), a([[1.0, 2.0, 3.0]]), ShapeError,
         r"CosineProximityLoss: pred and target must have the same shape"),
]


BAD_HYPERPARAMETERS += [
        (lambda: PoissonNLLLoss(eps=0.0), ValueError, r"PoissonNLLLoss: eps must be in \(0\.0, inf\]"),
        (lambda: PoissonNLLLoss(log_input=1), TypeError,
         r"PoissonNLLLoss: log_input must be True or False, got 1"),
        (lambda: PoissonNLLLoss(full="no"), TypeError, r"full must be True or False, got 'no'"),
        (lambda: CosineProximityLoss(eps=-1.0), ValueError,
         r"CosineProximityLoss: eps must be in \(0\.0, inf\], got -1\.0"),
]


# === MAPE, MSLE, categorical hinge; cross-entropy on probability targets ===
# Keras 3's formulas (keras/src/losses/losses.py), transcribed to numpy with its epsilon 1e-7
# and evaluated on exactly these inputs (keras is not installed here either):
#   mape = 100 * mean(|(t - p) / maximum(|t|, eps)|)
#   msle = mean((log(maximum(p, eps) + 1) - log(maximum(t, eps) + 1))^2)
#   categorical_hinge = maximum(max((1 - t) * p) - sum(t * p) + 1, 0) on one-hot t
# then averaged over the rows (Keras's default "sum_over_batch_size").

MSLE_P = a([[0.5, 2.5, 1.0], [3.0, 0.2, 40.0]])
MSLE_T = a([[1.0, 2.0, 0.5], [3.0, 10.0, 100.0]])


def test_mape_matches_keras_formula_and_hand_computed_gradient():
    # |t - p| / |t| = [0.5, 0.2, 5.6667; 14, 0, 1.4667]: 100 * their mean
    value, grad = value_and_grad(MAPELoss(), P, T)
    assert value == pytest.approx(363.88888888888886, rel=1e-14)
    assert value == pytest.approx(100 * (0.5 + 0.2 + 1.7 / 0.3 + 14 + 0 + 2.2 / 1.5) / 6,
                                  rel=1e-14)
    # 100 sign(p - t) / (|t| n), with sign(0) = 0
    np.testing.assert_allclose(grad, 100 / 6 * a([[-1 / 1.0, -1 / 1.0, 1 / 0.3],
                                                  [1 / 0.2, 0.0, -1 / 1.5]]), rtol=1e-14)


def test_mape_is_asymmetric_in_the_prediction():
    # target 100: predicting 50 costs 50 %, predicting 150 costs 50 % too, but no
    # under-forecast can cost more than 100 % (pred >= 0), an over-forecast can cost any amount
    loss = MAPELoss()
    t = a([100.0])
    assert loss(a([50.0]), t) == loss(a([150.0]), t) == 50.0
    assert loss(a([0.0]), t) == 100.0 and loss(a([1000.0]), t) == 900.0
    # the scale does not matter
    assert loss(a([5.0]), a([10.0])) == loss(a([5000.0]), a([10000.0]))


def test_mape_zero_target_raises_unless_keras_number_is_asked_for():
    pred, target = a([1.0, 1.0]), a([0.0, 2.0])
    with pytest.raises(ValueError, match=r"MAPELoss: 1 target\(s\) with \|target\| < eps = 1e-07 "
                                         r"\(e\.g\. at index \(0,\)\); a percentage of 0 is "
                                         r"undefined\. Keras divides by eps there"):
        MAPELoss()(pred, target)
    # Keras: 100 * mean(|0 - 1| / 1e-7, |2 - 1| / 2) = 100 * (1e7 + 0.5) / 2
    loss = MAPELoss(allow_zero_target=True)
    assert loss(pred, target) == pytest.approx(500000025.0, rel=1e-12)
    np.testing.assert_allclose(loss.backward(), [100 / (1e-7 * 2), -100 / (2 * 2)], rtol=1e-12)


def test_msle_matches_keras_formula_and_hand_computed_gradient():
    value, grad = value_and_grad(MSLELoss(), MSLE_P, MSLE_T)
    assert value == pytest.approx(0.9851401467842443, rel=1e-13)
    r = np.log1p(MSLE_P) - np.log1p(MSLE_T)
    assert value == pytest.approx(np.mean(r**2), rel=1e-14)
    np.testing.assert_allclose(grad, 2 * r / ((1 + MSLE_P) * 6), rtol=1e-14)
    # equal relative errors cost about the same at any scale: 2x at 1000 and at 100000 both
    # cost about (log 2)^2 (log(2001/1001)^2 = 0.4798, log(200001/100001)^2 = 0.4804)
    loss = MSLELoss()
    assert loss(a([2000.0]), a([1000.0])) == pytest.approx(math.log(2001 / 1001) ** 2, rel=1e-14)
    assert loss(a([2e5]), a([1e5])) == pytest.approx(LN2**2, rel=2e-5)
    assert MSELoss()(a([2e5]), a([1e5])) == 1e4 * MSELoss()(a([2000.0]), a([1000.0]))


def test_msle_punishes_under_prediction_more_than_over():
    # the same absolute miss of 50 around a target of 100
    loss = MSLELoss()
    assert loss(a([50.0]), a([100.0])) > 2 * loss(a([150.0]), a([100.0]))


def test_msle_differs_from_keras_only_where_keras_clips():
    # a zero target: Keras takes log(1 + 1e-7); we take log(1 + 0) = 0: 4e-8 apart here
    # (torch has no MSLE; the Keras number from the transcription above)
    p, t = a([0.5, 2.0]), a([0.0, 1.0])
    assert MSLELoss()(p, t) == pytest.approx(0.16440195389316548, rel=1e-14)
    assert MSLELoss()(p, t) - 0.16440191334666165 == pytest.approx(4.0547e-8, rel=1e-3)
    # a negative prediction in (-1, 0): Keras clips it to 1e-7 (0.0822..., zero gradient);
    # we keep log(1 + p)
    loss = MSLELoss()
    assert loss(a([-0.5, 2.0]), t) == pytest.approx(0.32242748390568343, rel=1e-14)
    assert loss.backward()[0] == pytest.approx(2 * math.log(0.5) / (0.5 * 2), rel=1e-14)


def test_categorical_hinge_matches_keras_formula():
    # rows: 1 + 0.5 - 0.8 = 0.7; 1 + 1.0 - 1.1 = 0.9; 1 + 0.6 - 0.1 = 1.5
    loss = CategoricalHingeLoss()
    value, grad = value_and_grad(loss, SCORES, LABELS)
    assert value == pytest.approx(1.0333333333333332, rel=1e-14)
    np.testing.assert_allclose(grad, a([[0, -1, 0, 1], [1, 0, 0, -1], [-1, 0, 1, 0]]) / 3,
                               rtol=1e-15)
    # one-hot rows (Keras's input) give the same number and gradient
    assert loss(SCORES, np.eye(4)[LABELS]) == value
    np.testing.assert_array_equal(loss.backward(), grad)


def test_categorical_hinge_floors_the_wrong_class_maximum_at_zero():
    # shift every score by -2: all wrong scores negative. Keras: 2.2, 1.9, 2.9 (the true class
    # enters max((1 - t) * x) as 0); Crammer-Singer (shift-invariant) would still give 0.7, 0.9, 1.5
    loss = CategoricalHingeLoss()
    assert loss(SCORES - 2, LABELS) == pytest.approx(2.3333333333333335, rel=1e-14)
    crammer_singer = np.mean([1 + np.max(np.delete(row, y)) - row[y]
                              for row, y in zip(SCORES - 2, LABELS)])
    assert crammer_singer == pytest.approx(1.0333333333333332, rel=1e-14)
    # only -1 on the true class: the floor (a constant) gets no gradient
    np.testing.assert_allclose(loss.backward(), a([[0, -1, 0, 0], [0, 0, 0, -1], [-1, 0, 0, 0]]) / 3)


def test_categorical_hinge_vs_multi_margin_max_vs_sum():
    # scores [2, 1.5, 1.2], label 0: violations 0.5 and 0.2. Categorical hinge charges the
    # largest (0.5); MultiMarginLoss sums them and divides by C = 3: 0.7 / 3
    x, y = a([[2.0, 1.5, 1.2]]), np.array([0])
    assert CategoricalHingeLoss()(x, y) == pytest.approx(0.5, rel=1e-15)
    assert MultiMarginLoss()(x, y) == pytest.approx(0.7 / 3, rel=1e-15)


# torch 2.13.0: F.cross_entropy(LOGITS, PROBS, label_smoothing=ls) in float64, gradients from
# .backward(); F.cross_entropy(LOGITS, one_hot(LABELS, 4).double(), label_smoothing=0.1)
# = 0.9629779434357566 (the label value above); float32: 1.2038112878799438.
PROBS = a([[0.1, 0.6, 0.2, 0.1], [0.0, 0.0, 0.25, 0.75], [0.7, 0.1, 0.1, 0.1]])
TORCH_PROBS = {
    0.0: (1.20381127676909,
          [[0.041402606016067045, 0.0031533458662923804, -0.021337028068831494,
            -0.023218923813527925],
           [0.020030132518324386, 0.01483868713224409, 0.16068363510324374, -0.1955524547538122],
           [0.029047309001422415, 0.002176025212845212, -0.017377950041311915,
            -0.013845384172955688]]),
    0.2: (1.3611446101024234,
          [[0.03140260601606706, 0.02648667919962573, -0.024670361402164828,
            -0.03321892381352792],
           [0.003363465851657723, -0.0018279795344225732, 0.1606836351032438,
            -0.1622191214204789],
           [0.05904730900142242, -0.00782397478715479, -0.027377950041311917,
            -0.02384538417295569]]),
}


@pytest.mark.parametrize("smoothing", sorted(TORCH_PROBS))
def test_cross_entropy_probability_targets_match_pytorch(smoothing):
    torch_value, torch_grad = TORCH_PROBS[smoothing]
    value, grad = value_and_grad(CrossEntropyLoss(label_smoothing=smoothing), LOGITS, PROBS)
    assert value == pytest.approx(torch_value, rel=1e-13)
    np.testing.assert_allclose(grad, torch_grad, rtol=1e-12, atol=1e-15)
    value32 = CrossEntropyLoss()(LOGITS.astype(np.float32), PROBS.astype(np.float32))
    assert value32 == pytest.approx(1.2038112878799438, rel=1e-6)


def test_sparse_and_one_hot_targets_give_the_same_loss():
    for smoothing in (0.0, 0.1):
        loss = CrossEntropyLoss(label_smoothing=smoothing)
        sparse = loss(LOGITS, LABELS)
        g_sparse = loss.backward()
        one_hot = loss(LOGITS, np.eye(4)[LABELS])
        assert one_hot == pytest.approx(sparse, rel=1e-15)
        np.testing.assert_allclose(loss.backward(), g_sparse, rtol=1e-15, atol=1e-17)
    assert CrossEntropyLoss(label_smoothing=0.1)(LOGITS, np.eye(4)[LABELS]) == pytest.approx(
        0.9629779434357566, rel=1e-13)
    # the label path still takes integer labels after a call with probabilities
    loss = CrossEntropyLoss()
    loss(LOGITS, PROBS)
    assert loss(LOGITS, LABELS) == pytest.approx(TORCH["cross_entropy"][3], rel=1e-13)


_rng12 = np.random.default_rng(12)
_T12 = _rng12.choice([-1.0, 1.0], (4, 5)) * _rng12.uniform(0.5, 3.0, (4, 5))
_CH_X = a([[0.5, 1.2, -0.3, 0.2, -1.0],      # label 0: 1 + 1.2 - 0.5 = 1.7
           [-0.6, -1.1, -0.8, -0.2, -1.5],   # label 3: wrong max -0.6 < 0, floored: 1.2
           [0.1, -0.5, 0.4, -0.9, 2.0],      # label 4: 1 + 0.4 - 2 < 0, inactive
           [0.7, 0.3, 0.9, 1.4, -0.2]])      # label 2: 1 + 1.4 - 0.9 = 1.5
GRAD_CASES_MORE.update({
    "mape": (MAPELoss(), _T12 + _D, _T12),
    "msle": (MSLELoss(), _rng12.uniform(-0.5, 3.0, (4, 5)), _rng12.uniform(0.0, 5.0, (4, 5))),
    "categorical_hinge": (CategoricalHingeLoss(), _CH_X, np.array([0, 3, 4, 2])),
    "cross_entropy_probs": (CrossEntropyLoss(), _X, _rng12.dirichlet(np.ones(5), size=4)),
    "cross_entropy_probs_smoothed": (CrossEntropyLoss(label_smoothing=0.3), _X,
                                     _rng12.dirichlet(np.ones(5), size=4)),
})


@pytest.mark.parametrize("loss, target", [
    (MAPELoss(), np.full((3, 4), 2.0)),
    (MSLELoss(), np.full((3, 4), 2.0)),
    (CategoricalHingeLoss(), np.array([0, 2, 1])),
    (CrossEntropyLoss(label_smoothing=0.1), np.full((3, 4), 0.25)),
], ids=lambda v: type(v).__name__)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gradient_keeps_pred_dtype_new_losses(loss, target, dtype):
    pred = np.random.default_rng(1).uniform(-0.5, 1.0, (3, 4)).astype(dtype)
    value = loss(pred, target)
    assert type(value) is float and math.isfinite(value)
    grad = loss.backward()
    assert grad.dtype == dtype and grad.shape == pred.shape
    loss(pred.astype(np.float64), target)
    np.testing.assert_allclose(grad, loss.backward(), rtol=1e-5, atol=1e-6)


BAD_INPUT += [
        (MSLELoss, a([-1.0, 1.0]), a([1.0, 1.0]), ValueError,
         (r"MSLELoss: pred must be > -1 \(log\(1 \+ pred\) is undefined otherwise\), got a minimum "
         r"of -1; Keras would clip it to 1e-7 silently")),
        (MSLELoss, a([-3.0, 1.0]), a([1.0, 1.0]), ValueError, r"got a minimum of -3"),
        (MSLELoss, a([0.0, 1.0]), a([-0.5, 1.0]), ValueError,
         r"MSLELoss: target must lie in \[0, inf\), got values from -0.5 to 1"),
        (MAPELoss, a([[1.0, 2.0], [3.0, 4.0]]), a([[1.0, 2.0], [3.0, 0.0]]), ValueError,
         r"MAPELoss: 1 target\(s\) with \|target\| < eps = 1e-07 \(e\.g\. at index \(1, 1\)\)"),
        (MAPELoss, a([1.0]), a([1.0, 2.0]), ShapeError,
         r"MAPELoss: pred and target must have the same shape"),
        (CategoricalHingeLoss, a([[0.0, 1.0]]), a([[0.5, 0.5]]), ValueError,
         r"CategoricalHingeLoss: float targets must be one-hot rows \(a single 1, the rest 0\)"),
        (CategoricalHingeLoss, a([[0.0, 1.0]]), a([[0.0, 1.0, 0.0]]), ShapeError,
         r"CategoricalHingeLoss: one-hot targets must have pred's shape \(1, 2\), got \(1, 3\)"),
        (CategoricalHingeLoss, a([[0.0, 1.0]]), np.array([2]), ValueError,
         r"CategoricalHingeLoss: labels must lie in \[0, 1\] for 2 classes"),
        (CrossEntropyLoss, a([[0.0, 1.0]]), a([[0.7, 0.7]]), ValueError,
         r"CrossEntropyLoss: each row of probability targets must sum to 1, row 0 sums to 1\.4"),
        (CrossEntropyLoss, a([[0.0, 1.0]]), a([[-0.5, 1.5]]), ValueError,
         r"CrossEntropyLoss: probability targets must lie in \[0, 1\], got values from -0.5 to 1.5"),
        (CrossEntropyLoss, a([[0.0, 1.0]]), a([[1.0, 0.0, 0.0]]), ShapeError,
         r"must have pred's shape \(N, C\) = \(1, 2\), got \(1, 3\)"),
]

BAD_HYPERPARAMETERS += [
        (lambda: MAPELoss(eps=0.0), ValueError, r"MAPELoss: eps must be in \(0\.0, inf\]"),
        (lambda: MAPELoss(allow_zero_target=1), TypeError,
         r"MAPELoss: allow_zero_target must be True or False, got 1"),
]


def test_reprs_new_losses():
    assert repr(MAPELoss()) == "MAPELoss(eps=1e-07, allow_zero_target=False)"
    assert repr(MSLELoss()) == "MSLELoss()"
    assert repr(CategoricalHingeLoss()) == "CategoricalHingeLoss()"


# --- the checks shared by both groups of losses ----------------------------------------------


@pytest.mark.parametrize("name", sorted({**GRAD_CASES, **GRAD_CASES_MORE}))
def test_gradient_matches_central_differences(name):
    loss, pred, target = {**GRAD_CASES, **GRAD_CASES_MORE}[name]
    pred = pred.copy()
    loss(pred, target)
    analytic = loss.backward()
    # central differences, h = 1e-6; numerical_gradient nudges pred in place
    numeric = numerical_gradient(lambda _: loss(pred, target), pred)
    assert analytic.shape == pred.shape
    assert relative_error(analytic, numeric) < 1e-7


@pytest.mark.parametrize("make, pred, target, error, message", BAD_INPUT)
def test_bad_input_raises_with_message(make, pred, target, error, message):
    with pytest.raises(error, match=message):
        make()(pred, target)


@pytest.mark.parametrize("make, error, message", BAD_HYPERPARAMETERS)
def test_bad_hyperparameter_raises_with_message(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_reprs():
    assert repr(PoissonNLLLoss(log_input=False, full=True)) == \
        "PoissonNLLLoss(log_input=False, full=True, eps=1e-08)"
    assert repr(CosineProximityLoss()) == "CosineProximityLoss(eps=1e-08)"
    assert repr(LogCoshLoss()) == "LogCoshLoss()"


# === on a GPU: range checks that do not wait for the device ===


class _FakeDevice:
    """numpy under another name: makes the losses take their device path (no GPU here)."""

    def __getattr__(self, name):
        return getattr(np, name)


def test_on_a_device_bad_values_are_flagged_without_a_sync_then_named(monkeypatch):
    import dlcore.losses as L

    host_value = BCEWithLogitsLoss()(P, np.clip(T, 0, 1))
    host_ce = CrossEntropyLoss()(LOGITS, LABELS)
    monkeypatch.setattr(L, "get_array_module", lambda *a: _FakeDevice())
    assert BCEWithLogitsLoss()(P, np.clip(T, 0, 1)) == host_value  # good values: same number
    assert CrossEntropyLoss()(LOGITS, LABELS) == host_ce
    with pytest.raises(ValueError, match=r"BCEWithLogitsLoss: target must lie in \[0, 1\], "
                                         r"got values from -1 to 1.5"):
        BCEWithLogitsLoss()(P, T)
    with pytest.raises(ValueError, match=r"PoissonNLLLoss: pred \(a rate, log_input=False\) "
                                         r"must lie in \[0, inf\)"), np.errstate(invalid="ignore"):
        PoissonNLLLoss(log_input=False)(P, np.abs(T))  # log of a negative rate: nan anyway
    with pytest.raises(ValueError, match=r"CrossEntropyLoss: labels must lie in \[0, 3\] for 4 "
                                         r"classes, got values from -1 to 3"):
        CrossEntropyLoss()(LOGITS, np.array([1, -1, 3]))  # -1 indexes like a GPU's wrap-around
