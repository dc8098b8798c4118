"""Weight initialisers, with fans and gains computed as PyTorch computes them.

Every initialiser takes `(shape, ..., rng=None)` and returns a new float array
(float32 unless `dtype=` says otherwise). Fans follow our layouts:

- 2-D `(in, out)` (dlcore's Linear): fan_in = shape[0], fan_out = shape[1].
  (PyTorch stores Linear weights as (out, in); the fans are the same numbers.)
- conv `(C_out, C_in, kH, kW)`: fan_in = C_in*kH*kW, fan_out = C_out*kH*kW.
"""
import math
import numbers

import numpy as np

from ._random import get_rng
from .errors import ShapeError

__all__ = [
    "calculate_gain",
    "compute_fans",
    "constant",
    "he_normal",
    "he_uniform",
    "lecun_normal",
    "xavier_normal",
    "xavier_uniform",
    "zeros",
]


def _as_shape(shape, where):
    if isinstance(shape, numbers.Integral):
        shape = (shape,)
    try:
        shape = tuple(int(s) for s in shape)
    except TypeError:
        raise TypeError(f"{where}: shape must be a tuple of ints, got {shape!r}") from None
    if any(s < 0 for s in shape):
        raise ShapeError(f"{where}: shape must not have negative sizes, got {shape}")
    return shape


def compute_fans(shape):
    """(fan_in, fan_out) of a weight of `shape`: (in, out) for 2-D, (C_out, C_in, kH, kW) for conv."""
    shape = _as_shape(shape, "compute_fans")
    if len(shape) < 2:
        raise ShapeError(
            f"fan-in and fan-out need a weight with at least 2 dimensions, got shape {shape}"
        )
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def calculate_gain(nonlinearity, param=None):
    """The gain PyTorch recommends for a nonlinearity (torch.nn.init.calculate_gain).

    linear/conv/sigmoid: 1; tanh: 5/3; relu: sqrt(2);
    leaky_relu: sqrt(2 / (1 + slope^2)) with slope = param or 0.01; selu: 3/4.
    """
    linear_like = {"linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                   "conv_transpose2d", "conv_transpose3d", "sigmoid"}
    if nonlinearity in linear_like:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, numbers.Real) and not isinstance(param, bool):
            slope = float(param)
        else:
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    known = sorted(linear_like | {"tanh", "relu", "leaky_relu", "selu"})
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}; known: {known}")


def _uniform(shape, bound, rng, dtype):
    return get_rng(rng).uniform(-bound, bound, size=shape).astype(dtype)


def _normal(shape, std, rng, dtype):
    return (get_rng(rng).standard_normal(size=shape) * std).astype(dtype)


def xavier_uniform(shape, gain=1.0, rng=None, dtype=np.float32):
    """U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio, 2010)."""
    fan_in, fan_out = compute_fans(shape)
    return _uniform(_as_shape(shape, "xavier_uniform"), gain * math.sqrt(6.0 / (fan_in + fan_out)),
                    rng, dtype)


def xavier_normal(shape, gain=1.0, rng=None, dtype=np.float32):
    """N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = compute_fans(shape)
    return _normal(_as_shape(shape, "xavier_normal"), gain * math.sqrt(2.0 / (fan_in + fan_out)),
                   rng, dtype)


def _he_fan(shape, mode, where):
    """The fan He et al. (2015) scale by: fan_in keeps the forward signal's variance,
    fan_out the backward gradient's."""
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"{where}: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = compute_fans(shape)
    return fan_in if mode == "fan_in" else fan_out


def he_uniform(shape, negative_slope=0.0, mode="fan_in", rng=None, dtype=np.float32):
    """U(-a, a) with a = sqrt(6 / ((1 + slope^2) * fan)) (He et al., 2015).

    mode="fan_in" (default) preserves the variance of activations in the forward pass,
    mode="fan_out" that of gradients in the backward pass (torch's kaiming_uniform_ mode).
    """
    fan = _he_fan(shape, mode, "he_uniform")
    return _uniform(_as_shape(shape, "he_uniform"),
                    math.sqrt(6.0 / ((1 + negative_slope**2) * fan)), rng, dtype)


def he_normal(shape, negative_slope=0.0, mode="fan_in", rng=None, dtype=np.float32):
    """N(0, 2 / ((1 + slope^2) * fan)): variance 2/fan_in for ReLU (He et al., 2015).

    mode="fan_out" uses fan_out instead (shape[1] for our (in, out) Linear weights,
    C_out*kH*kW for conv weights), as torch's kaiming_normal_(mode="fan_out").
    """
    fan = _he_fan(shape, mode, "he_normal")
    return _normal(_as_shape(shape, "he_normal"),
                   math.sqrt(2.0 / ((1 + negative_slope**2) * fan)), rng, dtype)


def lecun_normal(shape, rng=None, dtype=np.float32):
    """N(0, 1 / fan_in), not truncated (LeCun et al., 1998)."""
    fan_in, _ = compute_fans(shape)
    return _normal(_as_shape(shape, "lecun_normal"), math.sqrt(1.0 / fan_in), rng, dtype)


SCHEMES = ("he", "xavier", "lecun", "pytorch")


def pytorch_bound(shape):
    """1/sqrt(fan_in): PyTorch's default Linear and Conv2d weights (and biases) are U(+-this)."""
    return 1 / math.sqrt(compute_fans(shape)[0])


def by_name(scheme, shape, rng=None, dtype=np.float32, where="init"):
    """A weight for a layer's `init=` argument: "he" (He normal), "xavier" (Xavier uniform),
    "lecun" (LeCun normal), "pytorch" (PyTorch's default, U(+-1/sqrt(fan_in))), or a
    callable(shape, rng=...). `where` names the layer in the error for anything else."""
    if callable(scheme):
        return np.asarray(scheme(shape, rng=rng), dtype=dtype)
    if scheme == "he":
        return he_normal(shape, rng=rng, dtype=dtype)
    if scheme == "xavier":
        return xavier_uniform(shape, rng=rng, dtype=dtype)
    if scheme == "lecun":
        return lecun_normal(shape, rng=rng, dtype=dtype)
    if scheme == "pytorch":
        return _uniform(shape, pytorch_bound(shape), rng, dtype)
    raise ValueError(f"{where}: init must be one of {SCHEMES} or a callable, got {scheme!r}")


def zeros(shape, dtype=np.float32):
    """All zeros (the usual bias initialisation)."""
    return np.zeros(_as_shape(shape, "zeros"), dtype=dtype)


def constant(shape, value, dtype=np.float32):
    """Every entry equal to `value` (e.g. 0.1 for ReLU biases)."""
    return np.full(_as_shape(shape, "constant"), value, dtype=dtype)
