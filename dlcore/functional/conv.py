"""2-D convolution (cross-correlation, as in PyTorch) and depthwise convolution.

Images are NCHW. Output size per axis: floor((H + 2*padding - kH) / stride) + 1.
Inside, the math runs channels-last (N, H, W, C): a window's rows are then contiguous
runs of C values, so gathering them copies runs instead of single numbers (about 4x
faster than gathering from NCHW), and `x.transpose(0, 2, 3, 1)` of what these
functions return is free. Outputs and input gradients are NCHW *views* of channels-last
arrays (PyTorch calls this memory format channels_last): logically (N, C, H, W), and any
numpy operation accepts them.

stride and padding are ints or (height, width) pairs.
"""
import numbers

from ..backend import get_array_module


def _pair(v):
    return (v, v) if isinstance(v, numbers.Integral) else tuple(v)


def conv_output_size(size, kernel, stride=1, padding=0):
    """floor((size + 2*padding - kernel) / stride) + 1, one spatial axis (PyTorch's rule)."""
    return (size + 2 * padding - kernel) // stride + 1


def _pad_channels_last(x, padding):
    """(N, C, H, W) -> zero-padded (N, H + 2ph, W + 2pw, C)."""
    ph, pw = padding
    N, C, H, W = x.shape
    if ph == pw == 0:
        return x.transpose(0, 2, 3, 1)
    x_pad = get_array_module(x).zeros((N, H + 2 * ph, W + 2 * pw, C), dtype=x.dtype)
    x_pad[:, ph:ph + H, pw:pw + W, :] = x.transpose(0, 2, 3, 1)
    return x_pad


def _channels_last(a):
    """(N, C, H, W) -> C-contiguous (N, H, W, C): free for the channels-last views these
    functions return, one copy otherwise. The offset loops below read rows of C values;
    from an NCHW-contiguous array each row would be C scattered numbers (3x slower)."""
    return get_array_module(a).ascontiguousarray(a.transpose(0, 2, 3, 1))


def _image_blocks(N, values_per_image):
    """Slices of the batch of about 2**18 values (1 MB of float32) each. The loops over
    kernel offsets run block by block, so a block stays in the CPU's cache through all
    kH*kW passes instead of the whole batch streaming through memory kH*kW times."""
    step = max(1, (1 << 18) // values_per_image)
    return [slice(n, n + step) for n in range(0, N, step)]


def _windows(x_pad, kH, kW, stride):
    """Read-only view (N, Ho, Wo, kH, kW, C) of every kH x kW window of x_pad (N, Hp, Wp, C)."""
    sh, sw = stride
    sliding_window_view = get_array_module(x_pad).lib.stride_tricks.sliding_window_view
    win = sliding_window_view(x_pad, (kH, kW), axis=(1, 2))[:, ::sh, ::sw]  # (N, Ho, Wo, C, kH, kW)
    return win.transpose(0, 1, 2, 4, 5, 3)


def im2col(x, kH, kW, stride=1, padding=0):
    """Every receptive field of x as one row: convolution becomes one matrix product.

    x: (N, C, H, W). Returns cols (N*Ho*Wo, kH*kW*C): row (n, ho, wo) holds the window
    whose top-left corner is (ho*stride - padding, wo*stride - padding), in the order
    (kernel row i, kernel column j, channel c). A weight W (C_out, C, kH, kW) in the same
    order is W.transpose(2, 3, 1, 0).reshape(kH*kW*C, C_out), and cols @ that is the conv.
    """
    N = x.shape[0]
    win = _windows(_pad_channels_last(x, _pair(padding)), kH, kW, _pair(stride))
    return win.reshape(N * win.shape[1] * win.shape[2], -1)  # the one copy


def col2im(cols, x_shape, kH, kW, stride=1, padding=0):
    """The adjoint of im2col: add every row of cols back onto the pixels it came from.

    cols: (N*Ho*Wo, kH*kW*C) in im2col's order; x_shape: (N, C, H, W).
    Returns (N, C, H, W): a pixel inside k windows receives the sum of its k copies.
    One strided add per kernel offset (kH*kW of them), no np.add.at.
    """
    N, C, H, W = x_shape
    (sh, sw), (ph, pw) = _pair(stride), _pair(padding)
    Ho, Wo = conv_output_size(H, kH, sh, ph), conv_output_size(W, kW, sw, pw)
    cols = cols.reshape(N, Ho, Wo, kH, kW, C)
    dx_pad = get_array_module(cols).zeros((N, H + 2 * ph, W + 2 * pw, C), dtype=cols.dtype)
    for i in range(kH):
        for j in range(kW):
            dx_pad[:, i:i + sh * Ho:sh, j:j + sw * Wo:sw, :] += cols[:, :, :, i, j, :]
    return dx_pad[:, ph:ph + H, pw:pw + W, :].transpose(0, 3, 1, 2)


def conv2d_forward(x, W, b, stride=1, padding=0):
    """out[n, f] = sum over c, i, j of W[f, c, i, j] * x_pad[n, c, s*ho + i, s*wo + j] + b[f].

    x: (N, C, H, W); W: (C_out, C, kH, kW); b: (C_out,) or None.
    Returns out (N, C_out, Ho, Wo) and cache for `conv2d_backward`.
    """
    C_out, _, kH, kW = W.shape
    N, _, H, W_in = x.shape
    (sh, sw), (ph, pw) = _pair(stride), _pair(padding)
    Ho, Wo = conv_output_size(H, kH, sh, ph), conv_output_size(W_in, kW, sw, pw)
    cols = im2col(x, kH, kW, stride, padding)              # (N*Ho*Wo, kH*kW*C)
    W_col = W.transpose(2, 3, 1, 0).reshape(-1, C_out)     # (kH*kW*C, C_out)
    out = cols @ W_col                                     # one big matrix product
    if b is not None:
        out += b
    out = out.reshape(N, Ho, Wo, C_out).transpose(0, 3, 1, 2)
    return out, (x.shape, cols, W, b is not None, (sh, sw), (ph, pw))


def conv2d_backward_params(dout, cache):
    """The parameters' half of conv2d_backward: dW (C_out, C, kH, kW), db (C_out,) or None.

    With D_n = dout[n] as a (C_out, Ho*Wo) matrix and cols_n image n's rows of cols:
        dW = sum over n of D_n @ cols_n,   db = sum of dout over n, ho, wo.
    """
    x_shape, cols, W, has_bias = cache[:4]
    N, C_out = x_shape[0], W.shape[0]
    D = dout.reshape(N, C_out, -1)
    dW_col = (D @ cols.reshape(N, D.shape[2], -1)).sum(axis=0)   # (C_out, kH*kW*C)
    dW = dW_col.reshape(C_out, W.shape[2], W.shape[3], -1).transpose(0, 3, 1, 2)
    return get_array_module(dout).ascontiguousarray(dW), D.sum(axis=(0, 2)) if has_bias else None


def conv2d_backward(dout, cache):
    """Gradients of conv2d_forward: dout (N, C_out, Ho, Wo) -> dx (N, C, H, W), dW, db.

    dW and db as conv2d_backward_params; dx = col2im(D_n.T @ W_col.T) for each image,
    built one kernel offset (i, j) at a time: D_n.T @ W[:, :, i, j] added onto the pixels
    that offset read, so the (N*Ho*Wo, kH*kW*C) matrix never exists (and a few images at
    a time, so that they stay in the cache through the kH*kW passes).
    """
    x_shape, _, W, _, (sh, sw), (ph, pw) = cache
    N, C, H, W_in = x_shape
    C_out, _, kH, kW = W.shape
    Ho, Wo = dout.shape[2], dout.shape[3]
    dW, db = conv2d_backward_params(dout, cache)
    DT = dout.reshape(N, C_out, Ho * Wo).transpose(0, 2, 1)   # (N, Ho*Wo, C_out)
    if (kH, kW, sh, sw, ph, pw) == (1, 1, 1, 1, 0, 0):  # pointwise: each pixel read once
        return (DT @ W[:, :, 0, 0]).reshape(N, H, W_in, C).transpose(0, 3, 1, 2), dW, db
    dx_pad = get_array_module(dout).zeros((N, H + 2 * ph, W_in + 2 * pw, C), dtype=dout.dtype)
    for blk in _image_blocks(N, dx_pad[0].size):
        for i in range(kH):
            for j in range(kW):
                dx_pad[blk, i:i + sh * Ho:sh, j:j + sw * Wo:sw, :] += (
                    (DT[blk] @ W[:, :, i, j]).reshape(-1, Ho, Wo, C))
    dx = dx_pad[:, ph:ph + H, pw:pw + W_in, :].transpose(0, 3, 1, 2)
    return dx, dW, db


def _taps_along_rows(W, Wo):
    """Depthwise weights (C*m, 1, kH, kW) as (kH, kW, Wo, C*m): tap (i, j) of every
    channel, repeated for each of the Wo pixels of an output row. Multiplying a
    channels-last row (Wo, C*m) by it, numpy runs its loops over Wo*C*m values at a time
    instead of C*m (about 2x faster than broadcasting the (C*m,) vector)."""
    Cm, _, kH, kW = W.shape
    taps = W.reshape(Cm, kH, kW).transpose(1, 2, 0)[:, :, None, :]
    return get_array_module(W).ascontiguousarray(
        get_array_module(W).broadcast_to(taps, (kH, kW, Wo, Cm)))


def depthwise_conv2d_forward(x, W, b, stride=1, padding=0):
    """Each input channel convolved with its own m kernels (PyTorch: groups=C).

    x: (N, C, H, W); W: (C*m, 1, kH, kW), output channel c*m + k reading input
    channel c; b: (C*m,) or None. Returns out (N, C*m, Ho, Wo) and cache:
        out[n, c*m + k] = sum over i, j of W[c*m + k, 0, i, j] * x_pad[n, c, s*ho+i, s*wo+j].
    One multiply-add per kernel offset (kH*kW of them), a few images at a time.
    """
    N, C, H, W_in = x.shape
    Cm, _, kH, kW = W.shape
    (sh, sw), (ph, pw) = _pair(stride), _pair(padding)
    Ho, Wo = conv_output_size(H, kH, sh, ph), conv_output_size(W_in, kW, sw, pw)
    xp = get_array_module(x)
    x_pad = _pad_channels_last(x, (ph, pw))                 # (N, Hp, Wp, C)
    if Cm > C:  # depth multiplier m: channel c feeds output channels c*m ... c*m + m - 1
        x_pad = xp.repeat(x_pad, Cm // C, axis=3)           # (N, Hp, Wp, C*m)
    taps = _taps_along_rows(W, Wo)                          # (kH, kW, Wo, C*m)
    out = xp.empty((N, Ho, Wo, Cm), dtype=x.dtype)
    for blk in _image_blocks(N, x_pad[0].size):
        out_blk = out[blk]
        out_blk[...] = 0 if b is None else b
        for i in range(kH):
            for j in range(kW):
                out_blk += x_pad[blk, i:i + sh * Ho:sh, j:j + sw * Wo:sw, :] * taps[i, j]
    return out.transpose(0, 3, 1, 2), (x_pad, x.shape, W, b is not None, (sh, sw), (ph, pw))


def depthwise_conv2d_backward_params(dout, cache):
    """The parameters' half of depthwise_conv2d_backward: dW (C*m, 1, kH, kW), db (C*m,).

    Per kernel offset (i, j), with x_ij the pixels it read (channel c repeated m times):
        dW[c*m + k, 0, i, j] = sum over n, ho, wo of dout[n, c*m + k] * x_ij[n, c*m + k].
    """
    x_pad, _, W, has_bias, (sh, sw), _ = cache
    Cm, _, kH, kW = W.shape
    N, Ho, Wo = dout.shape[0], dout.shape[2], dout.shape[3]
    xp = get_array_module(dout)
    D = _channels_last(dout)                                    # (N, Ho, Wo, C*m)
    dtaps = xp.zeros((kH, kW, Wo, Cm), dtype=dout.dtype)       # summed over Wo at the end
    for blk in _image_blocks(N, x_pad[0].size):
        for i in range(kH):
            for j in range(kW):
                x_ij = x_pad[blk, i:i + sh * Ho:sh, j:j + sw * Wo:sw, :]
                dtaps[i, j] += xp.einsum("nhwc,nhwc->wc", x_ij, D[blk])
    dW = xp.ascontiguousarray(dtaps.sum(axis=2).transpose(2, 0, 1)).reshape(Cm, 1, kH, kW)
    return dW, D.sum(axis=(0, 1, 2)) if has_bias else None


def depthwise_conv2d_backward(dout, cache):
    """Gradients of depthwise_conv2d_forward: dout (N, C*m, Ho, Wo) -> dx (N, C, H, W),
    dW (C*m, 1, kH, kW), db (C*m,). dW and db as depthwise_conv2d_backward_params; per
    kernel offset (i, j), the pixels x_ij it read receive
        dx_ij[n, c] += sum over k of dout[n, c*m + k] * W[c*m + k, 0, i, j].
    """
    x_pad, x_shape, W, _, (sh, sw), (ph, pw) = cache
    N, C, H, W_in = x_shape
    Cm = W.shape[0]
    kH, kW = W.shape[2], W.shape[3]
    Ho, Wo = dout.shape[2], dout.shape[3]
    D = _channels_last(dout)                                    # (N, Ho, Wo, C*m)
    dW, db = depthwise_conv2d_backward_params(D.transpose(0, 3, 1, 2), cache)
    taps = _taps_along_rows(W, Wo)                             # (kH, kW, Wo, C*m)
    dx_pad = get_array_module(dout).zeros(x_pad.shape, dtype=dout.dtype)  # (N, Hp, Wp, C*m)
    for blk in _image_blocks(N, x_pad[0].size):
        for i in range(kH):
            for j in range(kW):
                dx_pad[blk, i:i + sh * Ho:sh, j:j + sw * Wo:sw, :] += D[blk] * taps[i, j]
    if Cm > C:  # the m copies of channel c each pass back their share
        dx_pad = dx_pad.reshape(*dx_pad.shape[:3], C, Cm // C).sum(axis=4)
    dx = dx_pad[:, ph:ph + H, pw:pw + W_in, :].transpose(0, 3, 1, 2)
    return dx, dW, db
