"""Tests for the losses added for chapter 9 (LogCoshLoss, PoissonNLLLoss, CosineProximityLoss):
hand values, central-difference gradients, PyTorch reference numbers, stability, bad input."""
import math

import numpy as np
import pytest

from dlcore.errors import ShapeError
from dlcore.gradcheck import numerical_gradient, relative_error
from dlcore.losses import CosineProximityLoss, LogCoshLoss, PoissonNLLLoss


def a(rows):
    return np.array(rows, dtype=np.float64)


def value_and_grad(loss, pred, target):
    value = loss(pred, target)
    return value, loss.backward()


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

rng = np.random.default_rng(0)
_X = rng.standard_normal((4, 5))
_COUNTS = rng.poisson(2.0, size=(4, 5)).astype(np.float64)

GRAD_CASES = {
    "log_cosh": (LogCoshLoss(), _X, rng.standard_normal((4, 5))),
    "poisson_log": (PoissonNLLLoss(), _X, _COUNTS),
    "poisson_log_full": (PoissonNLLLoss(full=True), _X, _COUNTS),
    "poisson_rate": (PoissonNLLLoss(log_input=False), rng.uniform(0.5, 3.0, (4, 5)), _COUNTS),
    "cosine": (CosineProximityLoss(), _X, rng.standard_normal((4, 5))),
    "cosine_3d": (CosineProximityLoss(), rng.standard_normal((2, 3, 4)),
                  rng.standard_normal((2, 3, 4))),
}


@pytest.mark.parametrize("name", sorted(GRAD_CASES))
def test_gradient_matches_central_differences(name):
    loss, pred, target = GRAD_CASES[name]
    pred = pred.copy()
    loss(pred, target)
    analytic = loss.backward()
    numeric = numerical_gradient(lambda _: loss(pred, target), pred)
    assert analytic.shape == pred.shape
    assert relative_error(analytic, numeric) < 1e-7


# --- reference numbers from PyTorch --------------------------------------------------------
# torch 2.13.0, float64, default reduction: F.poisson_nll_loss (log_input, full as named),
# -F.cosine_similarity(x, t, dim=1, eps=1e-8).mean(), and log(cosh(x - t)).mean() written
# out in torch (PyTorch has no log-cosh loss); gradients from .backward(). torch not imported.

P = a([[0.5, -1.2, 2.0], [3.0, 0.1, -0.7]])
T = a([[1.0, -1.0, 0.3], [0.2, 0.1, 1.5]])
COUNTS = a([[0.0, 2.0, 1.0], [3.0, 0.0, 5.0]])
RATES = a([[0.5, 2.5, 1.0], [3.0, 0.2, 4.0]])
_POISSON_LOG_GRAD = [[0.27478687845002137, -0.28313429801463297, 1.0648426831551083],
                     [2.8475894871979444, 0.18419515301260794, -0.750569116034765]]
_POISSON_RATE_GRAD = [[0.16666666666666666, 0.03333333386666665, 1.6666666380338313e-09],
                      [5.555555460112771e-10, 0.16666666666666666, -0.041666666145833336]]

TORCH = {
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


@pytest.mark.parametrize("name", list(TORCH))
def test_matches_pytorch(name):
    loss, pred, target, torch_value, torch_grad = TORCH[name]
    value, grad = value_and_grad(loss, pred, target)
    assert value == pytest.approx(torch_value, rel=1e-13, abs=1e-15)
    np.testing.assert_allclose(grad, torch_grad, rtol=1e-9, atol=1e-15)


# --- dtypes ----------------------------------------------------------------------------------


@pytest.mark.parametrize("loss", [LogCoshLoss(), PoissonNLLLoss(), PoissonNLLLoss(full=True),
                                  CosineProximityLoss()], ids=repr)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gradient_keeps_pred_dtype_and_value_is_python_float(loss, dtype):
    pred = np.random.default_rng(1).standard_normal((3, 4)).astype(dtype)
    target = np.full((3, 4), 2.0)  # float64 on purpose
    value = loss(pred, target)
    assert type(value) is float and math.isfinite(value)
    grad = loss.backward()
    assert grad.dtype == dtype and grad.shape == pred.shape
    loss(pred.astype(np.float64), target)
    np.testing.assert_allclose(grad, loss.backward(), rtol=1e-5, atol=1e-7)


# --- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make, pred, target, error, message",
    [
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
    ],
)
def test_bad_input_raises_with_message(make, pred, target, error, message):
    with pytest.raises(error, match=message):
        make()(pred, target)


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda: PoissonNLLLoss(eps=0.0), ValueError, r"PoissonNLLLoss: eps must be in \(0\.0, inf\]"),
        (lambda: PoissonNLLLoss(log_input=1), TypeError,
         r"PoissonNLLLoss: log_input must be True or False, got 1"),
        (lambda: PoissonNLLLoss(full="no"), TypeError, r"full must be True or False, got 'no'"),
        (lambda: CosineProximityLoss(eps=-1.0), ValueError,
         r"CosineProximityLoss: eps must be in \(0\.0, inf\], got -1\.0"),
    ],
)
def test_bad_hyperparameter_raises_with_message(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_reprs():
    assert repr(PoissonNLLLoss(log_input=False, full=True)) == \
        "PoissonNLLLoss(log_input=False, full=True, eps=1e-08)"
    assert repr(CosineProximityLoss()) == "CosineProximityLoss(eps=1e-08)"
    assert repr(LogCoshLoss()) == "LogCoshLoss()"
