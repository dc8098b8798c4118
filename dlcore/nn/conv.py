"""Convolution layers for NCHW images: Conv2d, DepthwiseConv2d, DepthwiseSeparableConv2d.

Weights are PyTorch's: Conv2d.W (C_out, C_in, kH, kW); DepthwiseConv2d.W (C*m, 1, kH, kW)
with output channel c*m + j reading input channel c (PyTorch's conv2d with groups=C).
Sizes: kernel_size, stride and padding are ints or (height, width) pairs; the output
is floor((H + 2*padding - kH) / stride) + 1 high, likewise wide.
"""
import numbers

import numpy as np

from .. import _checks
from .. import functional as F
from .. import init as init_module
from .._random import get_rng
from ..errors import DTypeError, ShapeError
from .module import Module, Parameter


def _pair(value, name, where, minimum):
    """An int or an (h, w) pair of ints >= minimum, as a pair."""
    pair = (value, value) if isinstance(value, numbers.Integral) else value
    try:
        pair = tuple(pair)
    except TypeError:
        pair = ()
    if (len(pair) != 2 or any(isinstance(v, bool) or not isinstance(v, numbers.Integral)
                              or v < minimum for v in pair)):
        raise ValueError(f"{where}: {name} must be an int >= {minimum} or a pair of them, "
                         f"got {value!r}")
    return tuple(int(v) for v in pair)


def _bias(bias, init, shape, rng, dtype):
    if not bias:
        return None
    C_out = shape[0]
    if init == "pytorch":  # torch draws the bias from the weight's U(+-1/sqrt(fan_in)) too
        return Parameter(init_module._uniform((C_out,), init_module.pytorch_bound(shape), rng, dtype), "b")
    return Parameter(np.zeros(C_out, dtype=dtype), name="b")


class _Conv(Module):
    """What Conv2d and DepthwiseConv2d share: the door, backward, and the repr."""

    _forward = None   # functional forward, backward and its parameters' half, set by subclasses
    _backward = None
    _backward_params = None

    def _check_input(self, x, C):
        """x must be (N, C, H, W) in W's dtype, with room for one window; the fast test runs
        every step, and the message (with the layer's repr) is built only to raise."""
        (kH, kW), (ph, pw), W = self.kernel_size, self.padding, self.W.data
        if (getattr(x, "ndim", None) == 4 and x.shape[1] == C and x.dtype == W.dtype
                and x.shape[2] + 2 * ph >= kH and x.shape[3] + 2 * pw >= kW
                and type(x) is type(W)):
            return
        where = repr(self)
        _checks.float_array(x, "input", where)
        if x.ndim != 4:
            raise ShapeError(f"{where} expects images of shape (N, C, H, W) with C = {C}, "
                             f"got an array of shape {tuple(x.shape)}")
        if x.shape[1] != C:
            hint = ""
            if x.shape[3] == C:
                hint = ("; it looks channels-last (N, H, W, C): dlcore is NCHW, use "
                        "x.transpose(0, 3, 1, 2)")
            raise ShapeError(f"{where} expects {C} input channels on axis 1, "
                             f"(N, {C}, H, W), got shape {tuple(x.shape)}{hint}")
        if x.shape[2] + 2 * ph < kH or x.shape[3] + 2 * pw < kW:
            raise ShapeError(f"{where}: input of spatial size {tuple(x.shape[2:])} with "
                             f"padding {self.padding} is smaller than the kernel "
                             f"{self.kernel_size}")
        _checks.same_device(x, W)
        if x.dtype != W.dtype:
            raise DTypeError(
                f"{where}: input has dtype {x.dtype} but W has dtype {W.dtype}; use one dtype "
                f"(e.g. x.astype(np.float32), or module.to(dtype=np.float64) for gradient checks)"
            )

    def _conv(self, x):
        b = None if self.b is None else self.b.data
        return self._save_for_backward(*type(self)._forward(x, self.W.data, b, self.stride,
                                                            self.padding))

    def backward(self, dout):
        dx, dW, db = type(self)._backward(dout, self._cache_for(dout))
        self._add_grad(self.W, dW)
        self._add_grad(self.b, db)
        return dx

    def backward_params(self, dout):
        """Parameter gradients only: skips dx (the col2im half of the backward) when the
        input is data."""
        dW, db = type(self)._backward_params(dout, self._cache_for(dout))
        self._add_grad(self.W, dW)
        self._add_grad(self.b, db)

    def _size_repr(self):
        s = f"kernel_size={self.kernel_size}"
        if self.stride != (1, 1):
            s += f", stride={self.stride}"
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        return s + ("" if self.b is not None else ", bias=False")


class Conv2d(_Conv):
    """out[n, f] = sum over c, i, j of W[f, c, i, j] * x_pad[n, c, s*ho + i, s*wo + j] + b[f].

    Input (N, in_channels, H, W); output (N, out_channels, Ho, Wo). W: (out_channels,
    in_channels, kH, kW), b: (out_channels,). init: 'he' (default, N(0, 2/fan_in) with
    fan_in = in_channels*kH*kW), 'xavier' (uniform), 'lecun', 'pytorch' (U(+-1/sqrt(fan_in))
    for W and b, torch's default) or a callable(shape, rng=...). Biases start at 0
    except with 'pytorch'.
    """

    _forward = staticmethod(F.conv2d_forward)
    _backward = staticmethod(F.conv2d_backward)
    _backward_params = staticmethod(F.conv2d_backward_params)

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True,
                 init="he", rng=None, dtype=np.float32):
        super().__init__()
        rng = get_rng(rng)  # one stream for W and b, even when given an int seed
        self.in_channels = _checks.positive_int(in_channels, "in_channels", "Conv2d")
        self.out_channels = _checks.positive_int(out_channels, "out_channels", "Conv2d")
        self.kernel_size = _pair(kernel_size, "kernel_size", "Conv2d", 1)
        self.stride = _pair(stride, "stride", "Conv2d", 1)
        self.padding = _pair(padding, "padding", "Conv2d", 0)
        shape = (self.out_channels, self.in_channels, *self.kernel_size)
        self.W = Parameter(init_module.by_name(init, shape, rng, dtype, "Conv2d"), name="W")
        self.b = _bias(bias, init, shape, rng, dtype)

    def forward(self, x):
        self._check_input(x, self.in_channels)
        return self._conv(x)

    def extra_repr(self):
        return f"{self.in_channels}, {self.out_channels}, {self._size_repr()}"


class DepthwiseConv2d(_Conv):
    """Each channel convolved with its own depth_multiplier (m) kernels; channels never mix.

    out[n, c*m + j] = sum over i, k of W[c*m + j, 0, i, k] * x_pad[n, c, s*ho + i, s*wo + k]
    + b[c*m + j]. Input (N, channels, H, W); output (N, channels*m, Ho, Wo). W: (channels*m,
    1, kH, kW), b: (channels*m,): PyTorch's Conv2d(channels, channels*m, kernel_size,
    groups=channels). init as Conv2d; fan_in = kH*kW (one input channel per kernel).
    """

    _forward = staticmethod(F.depthwise_conv2d_forward)
    _backward = staticmethod(F.depthwise_conv2d_backward)
    _backward_params = staticmethod(F.depthwise_conv2d_backward_params)

    def __init__(self, channels, kernel_size, stride=1, padding=0, depth_multiplier=1,
                 bias=True, init="he", rng=None, dtype=np.float32):
        super().__init__()
        rng = get_rng(rng)
        where = "DepthwiseConv2d"
        self.channels = _checks.positive_int(channels, "channels", where)
        self.depth_multiplier = _checks.positive_int(depth_multiplier, "depth_multiplier", where)
        self.kernel_size = _pair(kernel_size, "kernel_size", where, 1)
        self.stride = _pair(stride, "stride", where, 1)
        self.padding = _pair(padding, "padding", where, 0)
        shape = (self.channels * self.depth_multiplier, 1, *self.kernel_size)
        self.W = Parameter(init_module.by_name(init, shape, rng, dtype, where), name="W")
        self.b = _bias(bias, init, shape, rng, dtype)

    @property
    def out_channels(self):
        return self.channels * self.depth_multiplier

    def forward(self, x):
        self._check_input(x, self.channels)
        return self._conv(x)

    def extra_repr(self):
        m = f", depth_multiplier={self.depth_multiplier}" if self.depth_multiplier > 1 else ""
        return f"{self.channels}, {self._size_repr()}{m}"


class DepthwiseSeparableConv2d(Module):
    """A depthwise convolution followed by a pointwise (1x1) one (MobileNet's factorisation).

    .depthwise = DepthwiseConv2d(in_channels, kernel_size, stride, padding, depth_multiplier)
    .pointwise = Conv2d(in_channels*depth_multiplier, out_channels, 1)
    Input (N, in_channels, H, W); output (N, out_channels, Ho, Wo). Multiply-adds per
    image: kH*kW*M*m*Ho*Wo + M*m*N*Ho*Wo for M = in_channels, N = out_channels, against
    kH*kW*M*N*Ho*Wo for a Conv2d. Nothing in between: MobileNet puts BatchNorm2d and ReLU
    after each half; build that with Sequential(DepthwiseConv2d, BatchNorm2d, ReLU,
    Conv2d(.., 1), BatchNorm2d, ReLU).
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 depth_multiplier=1, bias=True, init="he", rng=None, dtype=np.float32):
        super().__init__()
        rng = get_rng(rng)
        self.depthwise = DepthwiseConv2d(in_channels, kernel_size, stride, padding,
                                         depth_multiplier, bias=bias, init=init, rng=rng,
                                         dtype=dtype)
        self.pointwise = Conv2d(self.depthwise.out_channels, out_channels, 1, bias=bias,
                                init=init, rng=rng, dtype=dtype)

    def forward(self, x):
        return self.pointwise(self.depthwise(x))

    def backward(self, dout):
        return self.depthwise.backward(self.pointwise.backward(dout))

    def backward_params(self, dout):
        self.depthwise.backward_params(self.pointwise.backward(dout))
