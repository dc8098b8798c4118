"""Pooling layers for NCHW images: MaxPool2d, AvgPool2d (PyTorch's definitions), and
GlobalAvgPool2d, which maps (N, C, H, W) to (N, C)."""
from .. import _checks
from .. import functional as F
from ..errors import ShapeError
from .conv import _pair
from .module import Module


def _check_images(x, layer):
    """x must be a float (N, C, H, W) array; the layer's repr only when raising."""
    if getattr(x, "ndim", None) == 4 and getattr(x.dtype, "kind", None) == "f":
        return
    where = repr(layer)
    _checks.float_array(x, "input", where)
    raise ShapeError(f"{where} expects images of shape (N, C, H, W), got an array of shape "
                     f"{tuple(x.shape)}")


class _Pool2d(Module):
    """kernel_size, stride (default: kernel_size) and padding: ints or (h, w) pairs."""

    _forward = None
    _backward = None

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        name = type(self).__name__
        self.kernel_size = _pair(kernel_size, "kernel_size", name, 1)
        self.stride = self.kernel_size if stride is None else _pair(stride, "stride", name, 1)
        self.padding = _pair(padding, "padding", name, 0)
        if any(2 * p > k for p, k in zip(self.padding, self.kernel_size)):
            raise ValueError(f"{name}: padding {self.padding} must be at most half the kernel "
                             f"size {self.kernel_size} (as PyTorch requires: a window must "
                             f"hold at least one real pixel)")

    def forward(self, x):
        _check_images(x, self)
        (kH, kW), (ph, pw) = self.kernel_size, self.padding
        if x.shape[2] + 2 * ph < kH or x.shape[3] + 2 * pw < kW:
            raise ShapeError(f"{self!r}: input of spatial size {tuple(x.shape[2:])} is "
                             f"smaller than the kernel {self.kernel_size}")
        return self._save_for_backward(*type(self)._forward(x, self.kernel_size, self.stride,
                                                            self.padding))

    def backward(self, dout):
        return type(self)._backward(dout, self._cache_for(dout))

    def extra_repr(self):
        s = f"kernel_size={self.kernel_size}"
        if self.stride != self.kernel_size:
            s += f", stride={self.stride}"
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        return s


class MaxPool2d(_Pool2d):
    """Maximum over each window. Input (N, C, H, W), output (N, C, Ho, Wo); padding is
    -inf (never wins). The gradient goes to the first maximum of each window (row-major
    order), as in PyTorch."""

    _forward = staticmethod(F.max_pool2d_forward)
    _backward = staticmethod(F.max_pool2d_backward)


class AvgPool2d(_Pool2d):
    """Mean over each window. Input (N, C, H, W), output (N, C, Ho, Wo); zero padding is
    counted in the divisor kH*kW (PyTorch's default count_include_pad=True)."""

    _forward = staticmethod(F.avg_pool2d_forward)
    _backward = staticmethod(F.avg_pool2d_backward)


class GlobalAvgPool2d(Module):
    """Mean of each channel over all its pixels: (N, C, H, W) -> (N, C). No parameters:
    what replaces the large dense layers at the top of a network (Network in Network)."""

    def forward(self, x):
        _check_images(x, self)
        return self._save_for_backward(*F.global_avg_pool2d_forward(x))

    def backward(self, dout):
        return F.global_avg_pool2d_backward(dout, self._cache_for(dout))
