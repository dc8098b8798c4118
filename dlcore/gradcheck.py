"""Gradient checking: compare an analytic gradient with central differences.

Use float64: with h = 1e-6 the difference f(x+h) - f(x-h) keeps ~10 significant
digits in float64 but none worth having in float32. Use a random upstream gradient:
with dout = ones, some wrong backward passes (batch norm's, for instance) still agree.
"""
import copy

import numpy as np

from ._random import get_rng
from .backend import get_array_module, to_numpy

__all__ = ["check_module", "numerical_gradient", "numerical_gradient_array", "relative_error"]


def _check_x(x, where):
    if not hasattr(x, "dtype") or x.dtype.kind != "f":
        raise TypeError(
            f"{where}: x must be a float array (float64 for a meaningful check), "
            f"got {getattr(x, 'dtype', type(x).__name__)}"
        )


def numerical_gradient(f, x, h=1e-6, method="central"):
    """Numerical gradient of a scalar function f at x.

    f: callable f(x) -> scalar (CS231n's convention); x: float array of any shape.
    Each entry of x is nudged by +-h IN PLACE and restored, so f may also ignore its
    argument and read x (or a model holding it) directly: `lambda _: loss(model(X))`.
    method: 'central' (f(x+h) - f(x-h)) / 2h, error O(h^2); or 'forward'
    (f(x+h) - f(x)) / h, error O(h). Returns an array of x's shape.
    """
    _check_x(x, "numerical_gradient")
    if not h > 0:
        raise ValueError(f"numerical_gradient: h must be positive, got {h!r}")
    if method not in ("central", "forward"):
        raise ValueError(f"numerical_gradient: method must be 'central' or 'forward', got {method!r}")
    xp = get_array_module(x)
    grad = xp.zeros_like(x)
    if not x.flags.c_contiguous:  # reshape(-1) would copy, and the nudges would not reach f
        raise ValueError("numerical_gradient: x must be C-contiguous (use np.ascontiguousarray)")
    flat_x, flat_g = x.reshape(-1), grad.reshape(-1)
    f0 = float(f(x)) if method == "forward" else None
    for i in range(x.size):
        old = flat_x[i].item()
        flat_x[i] = old + h
        f_plus = float(f(x))
        if method == "central":
            flat_x[i] = old - h
            f_minus = float(f(x))
            flat_g[i] = (f_plus - f_minus) / (2 * h)
        else:
            flat_g[i] = (f_plus - f0) / h
        flat_x[i] = old
    return grad


def numerical_gradient_array(f, x, dout, h=1e-6):
    """Numerical gradient of sum(f(x) * dout) with respect to x, for array-valued f.

    This is the vector-Jacobian product a backward pass computes, so it is what to
    compare a layer's dx (or dW) with. dout must have the shape of f(x)'s output.
    The outputs are subtracted before they are summed (as CS231n does), so outputs that
    x[i] does not touch cancel exactly instead of adding round-off.
    """
    _check_x(x, "numerical_gradient_array")
    if not x.flags.c_contiguous:
        raise ValueError("numerical_gradient_array: x must be C-contiguous")
    xp = get_array_module(x)
    grad = xp.zeros_like(x)
    flat_x, flat_g = x.reshape(-1), grad.reshape(-1)
    for i in range(x.size):
        old = flat_x[i].item()
        flat_x[i] = old + h
        f_plus = f(x).copy()
        flat_x[i] = old - h
        f_minus = f(x).copy()
        flat_x[i] = old
        flat_g[i] = ((f_plus - f_minus) * dout).sum() / (2 * h)
    return grad


def relative_error(a, b):
    """max over elements of |a - b| / max(|a| + |b|, 1e-12) (CS231n's measure).

    In float64, ~1e-7 or less means a correct gradient; around 1e-2 something is wrong.
    """
    a, b = to_numpy(a).astype(np.float64), to_numpy(b).astype(np.float64)
    if a.shape != b.shape:
        raise ValueError(f"relative_error: shapes differ, {a.shape} vs {b.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-12)))


def check_module(module, x, rng=None, h=1e-5):
    """Compare a module's backward pass with numerical gradients.

    The check runs on a float64 copy of `module` and `x` (the originals are untouched),
    with a random upstream gradient dout ~ N(0, 1) of the output's shape.
    Returns {"input": err, <param name>: err, ...}: the worst relative error of each.
    h defaults to 1e-5, not 1e-6: through several layers the round-off in each
    difference (~1e-16 * |output| / h) starts to rival the truncation error (~h^2), and
    1e-5 keeps both near 1e-10 for float64 networks of moderate depth.
    """
    _check_x(x, "check_module")
    model = copy.deepcopy(module).double()
    if hasattr(model, "input_grad"):
        model.input_grad = True  # a Sequential skips the input's gradient unless asked
    xp = get_array_module(x)
    x64 = x.astype(xp.float64, copy=True)
    out = model(x64)
    dout = xp.asarray(get_rng(rng).standard_normal(out.shape))
    model.zero_grad()
    dx = model.backward(dout)
    if dx is None or not hasattr(dx, "shape"):
        raise TypeError(
            f"check_module: {type(module).__name__}.backward() returned "
            f"{type(dx).__name__}; it must return the gradient with respect to its input, "
            f"an array of shape {tuple(x.shape)}"
        )

    def f(_):  # reads the nudged x64 or parameter in place
        return model(x64)

    errors = {"input": relative_error(dx, numerical_gradient_array(f, x64, dout, h))}
    for name, p in model.named_parameters():
        errors[name] = relative_error(p.grad, numerical_gradient_array(f, p.data, dout, h))
    return errors
