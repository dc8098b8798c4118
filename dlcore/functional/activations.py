"""Elementwise activations as forward/backward pairs.

Every `*_forward(x, ...)` takes an array of any shape and returns (out, cache) with out
of x's shape and dtype; every `*_backward(dout, cache)` returns dx of that shape.
Derivatives at kinks follow PyTorch: ReLU'(0) = 0, LeakyReLU'(0) = slope, ELU'(0) = alpha.
"""
from ..backend import get_array_module


def relu_forward(x):
    """max(0, x). Cache: x."""
    return get_array_module(x).maximum(x, 0), x


def relu_backward(dout, x):
    """dx = dout where x > 0, else 0."""
    return dout * (x > 0)


def leaky_relu_forward(x, negative_slope=0.01):
    """x for x > 0, negative_slope * x otherwise. Cache: (x, negative_slope).

    For 0 < slope <= 1 that is max(x, slope * x), the same numbers (infinities included;
    slope 0 is not, since inf * 0 is nan): numpy's `where` is about 20x slower than
    `maximum` on arrays whose signs are mixed at random."""
    xp = get_array_module(x)
    if 0 < negative_slope <= 1:
        return xp.maximum(x, x * negative_slope), (x, negative_slope)
    return xp.where(x > 0, x, x * negative_slope), (x, negative_slope)


def leaky_relu_backward(dout, cache):
    """dx = dout where x > 0, else slope * dout: dout times a factor that is 1 or slope."""
    x, slope = cache
    xp = get_array_module(x)
    if 0 < slope <= 1:
        factor = (x > 0).astype(dout.dtype)            # 1 or 0 ...
        return dout * xp.maximum(factor, slope, out=factor)   # ... then 1 or slope
    return xp.where(x > 0, dout, dout * slope)


def elu_forward(x, alpha=1.0):
    """x for x > 0, alpha * (exp(x) - 1) otherwise. Cache: (x, out, alpha)."""
    xp = get_array_module(x)
    # expm1 of min(x, 0): exact near 0 and never overflows for large positive x. One of
    # the two terms is 0 for every x, so their sum is the two-branch definition (numpy's
    # `where` would cost 3x the whole sum on mixed signs).
    out = xp.maximum(x, 0) + alpha * xp.expm1(xp.minimum(x, 0))
    return out, (x, out, alpha)


def elu_backward(dout, cache):
    """dx = dout for x > 0; for x <= 0 the derivative alpha * exp(x) equals out + alpha."""
    x, out, alpha = cache
    xp = get_array_module(x)
    if 0 <= alpha <= 1:  # then max(1 if x > 0 else 0, min(out, 0) + alpha) is 1 or out + alpha
        factor = xp.maximum((x > 0).astype(dout.dtype), xp.minimum(out, 0) + alpha)
        return dout * factor
    return xp.where(x > 0, dout, dout * (out + alpha))


def sigmoid(x):
    """1 / (1 + exp(-x)), computed without overflow for large |x|:
    with e = exp(-|x|) in (0, 1], 1 / (1 + e) for x >= 0 and e / (1 + e) for x < 0."""
    xp = get_array_module(x)
    e = xp.exp(-xp.abs(x))  # in (0, 1]: never overflows
    return xp.maximum(e, x >= 0) / (1 + e)  # numerator 1 for x >= 0 (e <= 1), e otherwise


def sigmoid_forward(x):
    """sigmoid(x). Cache: out."""
    out = sigmoid(x)
    return out, out


def sigmoid_backward(dout, out):
    """sigma'(x) = sigma(x) (1 - sigma(x))."""
    return dout * out * (1 - out)


def tanh_forward(x):
    """tanh(x). Cache: out."""
    out = get_array_module(x).tanh(x)
    return out, out


def tanh_backward(dout, out):
    """tanh'(x) = 1 - tanh(x)^2."""
    return dout * (1 - out * out)
