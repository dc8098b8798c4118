"""dlcore.gradcheck: numerical gradients of known functions, the relative error measure,
and check_module catching a wrong backward pass."""
import numpy as np
import pytest

from dlcore import nn
from dlcore.gradcheck import (
    check_module,
    numerical_gradient,
    numerical_gradient_array,
    relative_error,
)


def test_central_difference_of_a_known_function(rng):
    x = rng.standard_normal((3, 4))
    x0 = x.copy()
    grad = numerical_gradient(lambda x: np.sum(np.sin(x) * x**2), x)
    exact = np.cos(x) * x**2 + 2 * x * np.sin(x)
    assert relative_error(grad, exact) < 1e-8
    np.testing.assert_array_equal(x, x0)  # every nudge was undone


def test_forward_difference_is_first_order():
    # f(x) = exp(x) at 0: forward error ~ h/2, central error ~ h^2/6.
    x = np.zeros(1)
    h = 1e-4
    fwd = numerical_gradient(lambda x: np.exp(x).sum(), x, h=h, method="forward")[0]
    cen = numerical_gradient(lambda x: np.exp(x).sum(), x, h=h, method="central")[0]
    assert fwd - 1 == pytest.approx(h / 2, rel=1e-3)
    assert cen - 1 == pytest.approx(h**2 / 6, rel=1e-2)


def test_numerical_gradient_array_is_a_vector_jacobian_product(rng):
    x = rng.standard_normal(5)
    A = rng.standard_normal((3, 5))
    dout = rng.standard_normal(3)
    grad = numerical_gradient_array(lambda x: A @ np.tanh(x), x, dout)
    exact = (A.T @ dout) * (1 - np.tanh(x) ** 2)
    assert relative_error(grad, exact) < 1e-8


def test_relative_error_known_values():
    assert relative_error(np.array([1.0, 2.0]), np.array([1.0, 2.0])) == 0.0
    assert relative_error(np.array([1.0]), np.array([3.0])) == pytest.approx(0.5)
    # elementwise, then the worst: the small entry dominates
    assert relative_error(np.array([100.0, 1e-3]), np.array([100.0, 2e-3])) == pytest.approx(1 / 3)
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    with pytest.raises(ValueError, match="shapes differ"):
        relative_error(np.zeros(2), np.zeros(3))


def test_numerical_gradient_refuses_bad_input():
    with pytest.raises(TypeError, match="float array"):
        numerical_gradient(lambda x: 0.0, np.arange(3))
    with pytest.raises(ValueError, match="h must be positive"):
        numerical_gradient(lambda x: 0.0, np.zeros(3), h=0)
    with pytest.raises(ValueError, match="C-contiguous"):
        numerical_gradient(lambda x: 0.0, np.zeros((3, 4)).T)


class ForgetsBias(nn.Linear):
    """A Linear whose backward leaves out the bias gradient's sum over the batch."""

    def backward(self, dout):
        dx = super().backward(dout)
        self.b.grad[...] = dout[0]
        return dx


class SwappedGradient(nn.Tanh):
    """A tanh whose backward uses 1 - x^2 (the input) instead of 1 - tanh(x)^2."""

    def forward(self, x):
        self._x = x
        return super().forward(x)

    def backward(self, dout):
        return dout * (1 - self._x**2)


def test_check_module_catches_wrong_backward_passes(rng):
    x = rng.standard_normal((4, 3))
    errors = check_module(ForgetsBias(3, 2, rng=0), x, rng=rng)
    assert errors["W"] < 1e-7 and errors["input"] < 1e-7
    assert errors["b"] > 1e-2
    assert check_module(SwappedGradient(), x, rng=rng)["input"] > 1e-2


def test_check_module_leaves_the_original_module_alone(rng):
    layer = nn.Linear(3, 2, rng=0)
    before = layer.W.data.copy()
    check_module(layer, rng.standard_normal((2, 3)).astype(np.float32))
    assert layer.W.data.dtype == np.float32
    np.testing.assert_array_equal(layer.W.data, before)
    assert not layer.W.grad.any()


class ForgetsToReturn(nn.Tanh):
    def backward(self, dout):
        super().backward(dout)


def test_check_module_says_when_backward_returns_nothing(rng):
    with pytest.raises(TypeError, match=r"ForgetsToReturn.backward\(\) returned NoneType; it must "
                                        r"return the gradient .* shape \(2, 3\)"):
        check_module(ForgetsToReturn(), rng.standard_normal((2, 3)))
