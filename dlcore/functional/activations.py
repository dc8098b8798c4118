"""Elementwise activations as forward/backward pairs.

Every `*_forward(x, ...)` takes an array of any shape and returns (out, cache) with
out of x's shape and dtype; every `*_backward(dout, cache)` returns dx of that shape.
Derivatives at kinks follow PyTorch: ReLU'(0) = 0, LeakyReLU'(0) = slope, ELU'(0) = alpha.
"""
from .. import _checks
from ..backend import get_array_module


def _check_input(x, where):
    return _checks.float_array(x, "x", where)


def _check_dout(dout, shape, where):
    if tuple(dout.shape) != tuple(shape):
        raise _checks.ShapeError(
            f"{where}: dout must have the shape of the forward output {tuple(shape)}, "
            f"got {tuple(dout.shape)}"
        )


def relu_forward(x):
    """max(0, x). Cache: x."""
    _check_input(x, "relu_forward")
    xp = get_array_module(x)
    return xp.maximum(x, 0), x


def relu_backward(dout, cache):
    """dx = dout where x > 0, else 0."""
    x = cache
    _check_dout(dout, x.shape, "relu_backward")
    return dout * (x > 0)


def leaky_relu_forward(x, negative_slope=0.01):
    """x for x > 0, negative_slope * x otherwise. Cache: (x, negative_slope)."""
    _check_input(x, "leaky_relu_forward")
    slope = _checks.number(negative_slope, "negative_slope", "leaky_relu_forward")
    xp = get_array_module(x)
    return xp.where(x > 0, x, x * slope), (x, slope)


def leaky_relu_backward(dout, cache):
    x, slope = cache
    _check_dout(dout, x.shape, "leaky_relu_backward")
    xp = get_array_module(x)
    return xp.where(x > 0, dout, dout * slope)


def elu_forward(x, alpha=1.0):
    """x for x > 0, alpha * (exp(x) - 1) otherwise. Cache: (x, out, alpha)."""
    _check_input(x, "elu_forward")
    alpha = _checks.number(alpha, "alpha", "elu_forward", low=0.0)
    xp = get_array_module(x)
    # expm1 of min(x, 0): exact near 0 and never overflows for large positive x.
    out = xp.where(x > 0, x, alpha * xp.expm1(xp.minimum(x, 0)))
    return out, (x, out, alpha)


def elu_backward(dout, cache):
    """For x <= 0 the derivative alpha * exp(x) equals out + alpha."""
    x, out, alpha = cache
    _check_dout(dout, x.shape, "elu_backward")
    xp = get_array_module(x)
    return xp.where(x > 0, dout, dout * (out + alpha))


def sigmoid_forward(x):
    """1 / (1 + exp(-x)), computed without overflow for large |x|. Cache: out."""
    _check_input(x, "sigmoid_forward")
    xp = get_array_module(x)
    e = xp.exp(-xp.abs(x))  # in (0, 1]: never overflows
    out = xp.where(x >= 0, 1 / (1 + e), e / (1 + e))
    return out, out


def sigmoid_backward(dout, cache):
    """sigma'(x) = sigma(x) (1 - sigma(x))."""
    out = cache
    _check_dout(dout, out.shape, "sigmoid_backward")
    return dout * out * (1 - out)


def tanh_forward(x):
    """tanh(x). Cache: out."""
    _check_input(x, "tanh_forward")
    xp = get_array_module(x)
    out = xp.tanh(x)
    return out, out


def tanh_backward(dout, cache):
    """tanh'(x) = 1 - tanh(x)^2."""
    out = cache
    _check_dout(dout, out.shape, "tanh_backward")
    return dout * (1 - out * out)
