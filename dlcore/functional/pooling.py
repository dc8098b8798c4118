"""Pooling over kH x kW windows of (N, C, H, W) images, with PyTorch's definitions.

Output size per axis: floor((H + 2*padding - kH) / stride) + 1; stride defaults to
the kernel size. Max pooling pads with -inf (a padded cell never wins); average pooling
pads with zeros and always divides by kH*kW (PyTorch's default count_include_pad=True).
Each op loops over the kH*kW kernel offsets, never over pixels or channels: offset
(i, j) of every window at once is the strided slice x_pad[:, :, i::stride, j::stride].
kernel_size, stride and padding are ints or (height, width) pairs.
"""
from ..backend import get_array_module
from .conv import _pair, conv_output_size


def _geometry(x_shape, kernel_size, stride, padding):
    (kH, kW), (ph, pw) = _pair(kernel_size), _pair(padding)
    sh, sw = (kH, kW) if stride is None else _pair(stride)
    Ho = conv_output_size(x_shape[2], kH, sh, ph)
    Wo = conv_output_size(x_shape[3], kW, sw, pw)
    return kH, kW, sh, sw, ph, pw, Ho, Wo


def _offsets(kH, kW, sh, sw, Ho, Wo):
    """(t, slice of rows, slice of columns) that picks kernel offset t = i*kW + j of every window."""
    for i in range(kH):
        for j in range(kW):
            yield i * kW + j, slice(i, i + sh * Ho, sh), slice(j, j + sw * Wo, sw)


def _padded(x, ph, pw, fill):
    if ph == pw == 0:
        return x
    N, C, H, W = x.shape
    x_pad = get_array_module(x).full((N, C, H + 2 * ph, W + 2 * pw), fill, dtype=x.dtype)
    x_pad[:, :, ph:ph + H, pw:pw + W] = x
    return x_pad


def _unpad(dx_pad, x_shape, ph, pw):
    return dx_pad[:, :, ph:ph + x_shape[2], pw:pw + x_shape[3]]


def max_pool2d_forward(x, kernel_size, stride=None, padding=0):
    """out[n, c, ho, wo] = max of the window at (ho*stride - padding, wo*stride - padding).

    x: (N, C, H, W). Returns out (N, C, Ho, Wo) and cache (argmax, geometry) for the
    backward. argmax holds, per output, the offset i*kW + j of the FIRST maximum in
    row-major window order (PyTorch's tie rule); a NaN in a window makes the output NaN.
    """
    kH, kW, sh, sw, ph, pw, Ho, Wo = _geometry(x.shape, kernel_size, stride, padding)
    xp = get_array_module(x)
    x_pad = _padded(x, ph, pw, -xp.inf)
    out = xp.full((x.shape[0], x.shape[1], Ho, Wo), -xp.inf, dtype=x.dtype)
    argmax = xp.zeros(out.shape, dtype=xp.int8 if kH * kW < 128 else xp.int32)
    for t, rows, cols in _offsets(kH, kW, sh, sw, Ho, Wo):
        window_cell = x_pad[:, :, rows, cols]
        argmax = xp.where(window_cell > out, t, argmax)  # strictly greater: ties keep the first
        out = xp.maximum(out, window_cell)               # maximum() propagates NaN
    return out, (argmax, x.shape, (kH, kW, sh, sw, ph, pw, Ho, Wo))


def max_pool2d_backward(dout, cache):
    """dout: (N, C, Ho, Wo). Returns dx (N, C, H, W): each output's gradient goes to the
    one input cell that was its maximum; a cell that wins several windows gets the sum."""
    argmax, x_shape, (kH, kW, sh, sw, ph, pw, Ho, Wo) = cache
    xp = get_array_module(dout)
    N, C, H, W = x_shape
    dx_pad = xp.zeros((N, C, H + 2 * ph, W + 2 * pw), dtype=dout.dtype)
    for t, rows, cols in _offsets(kH, kW, sh, sw, Ho, Wo):
        dx_pad[:, :, rows, cols] += xp.where(argmax == t, dout, 0)
    return _unpad(dx_pad, x_shape, ph, pw)


def avg_pool2d_forward(x, kernel_size, stride=None, padding=0):
    """out[n, c, ho, wo] = sum of the zero-padded window / (kH*kW).

    x: (N, C, H, W). Returns out (N, C, Ho, Wo) and cache. Padded zeros count in the
    divisor (PyTorch's default count_include_pad=True), so a corner window of a padded
    input averages fewer real pixels but still divides by kH*kW.
    """
    kH, kW, sh, sw, ph, pw, Ho, Wo = _geometry(x.shape, kernel_size, stride, padding)
    x_pad = _padded(x, ph, pw, 0)
    out = get_array_module(x).zeros((x.shape[0], x.shape[1], Ho, Wo), dtype=x.dtype)
    for _, rows, cols in _offsets(kH, kW, sh, sw, Ho, Wo):
        out += x_pad[:, :, rows, cols]
    out /= kH * kW
    return out, (x.shape, (kH, kW, sh, sw, ph, pw, Ho, Wo))


def avg_pool2d_backward(dout, cache):
    """dout: (N, C, Ho, Wo). Returns dx (N, C, H, W): every cell of a window receives
    dout / (kH*kW) from it (gradients that fall on padding are dropped)."""
    x_shape, (kH, kW, sh, sw, ph, pw, Ho, Wo) = cache
    xp = get_array_module(dout)
    N, C, H, W = x_shape
    share = dout / (kH * kW)
    dx_pad = xp.zeros((N, C, H + 2 * ph, W + 2 * pw), dtype=dout.dtype)
    for _, rows, cols in _offsets(kH, kW, sh, sw, Ho, Wo):
        dx_pad[:, :, rows, cols] += share
    return _unpad(dx_pad, x_shape, ph, pw)


def global_avg_pool2d_forward(x):
    """out[n, c] = mean of x[n, c] over its H*W pixels. x: (N, C, H, W) -> out (N, C)."""
    return x.mean(axis=(2, 3)), x.shape


def global_avg_pool2d_backward(dout, cache):
    """dout: (N, C). Returns dx (N, C, H, W) = dout / (H*W) at every pixel."""
    H, W = cache[2:]
    xp = get_array_module(dout)
    return xp.broadcast_to((dout / (H * W))[:, :, None, None], cache).copy()
