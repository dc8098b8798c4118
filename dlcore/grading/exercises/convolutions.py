"""Chapter 10, efficient convolutional building blocks: the exercises and their cases.

Conventions, as PyTorch's and dlcore's: images are NCHW; a convolution is a
cross-correlation (the kernel is not flipped); the output size is
floor((H + 2*padding - kH) / stride) + 1, so with a stride the last rows and columns of
the input may be read by no window; `Conv2d` weights are (C_out, C_in, kH, kW); depthwise
weights are (C*m, 1, kH, kW) in PyTorch's grouped layout: output channel c*m + j reads
input channel c (m is the depth multiplier). Multiply-adds count one per product of a
weight and an input value; biases are not counted.

The references are thin wrappers of `dlcore.functional` (im2col, conv2d_*,
depthwise_conv2d_*, global_avg_pool2d_*), so the exercises grade against the library's own
math; the two counts (receptive field, multiply-adds) are closed forms. Each exercise's
hints name its classic slips (a flipped kernel, channels in the wrong order, a missing 1/(H*W),
strides ignored, the input map counted) when the numbers show exactly that slip.
tests/test_grading_convolutions.py checks the references against direct nested loops,
numerical gradients, an independent numpy version and `count_flops`. All arrays are float64
(relative error below 1e-7 passes); counts are exact integers (below 1e-12: off by one in
462 million is 2e-9).
"""
import numpy as np

from ... import functional as F
from ..registry import Case, Exercise, register

PREFIX = "convolutions."


def _normal(rng, *shape):
    return rng.standard_normal(shape)


def _out_size(size, k, stride, padding):
    return (size + 2 * padding - k) // stride + 1


# ---------------------------------------------------------------- im2col

def im2col(x, kh, kw, stride=1, padding=0):
    """x (N, C, H, W) -> cols (N*H_out*W_out, kH*kW*C), dlcore's layout.

    Row n*H_out*W_out + i*W_out + j is the window of output pixel (i, j) of image n;
    column p*kW*C + q*C + c holds x_pad[n, c, i*stride + p, j*stride + q] (kernel row,
    kernel column, channel: channels last, so each kernel offset is one contiguous run).
    Then cols @ W.transpose(2, 3, 1, 0).reshape(kH*kW*C, C_out) is the convolution.
    """
    return F.im2col(x, kh, kw, stride, padding)


def _im2col_cases(rng):
    return [
        Case("3x3, stride 1, no padding", (_normal(rng, 2, 3, 5, 6), 3, 3)),
        Case("3x3 with padding 1", (_normal(rng, 1, 2, 4, 4), 3, 3), {"padding": 1}),
        # 7 + 2 - 3 = 6, 6 // 2 + 1 = 4 rows; the last input row is read by no window
        Case("stride 2 (the last row is never read)", (_normal(rng, 2, 2, 8, 7), 3, 2),
             {"stride": 2, "padding": 1}),
        Case("one channel, 1x1 kernel", (_normal(rng, 3, 1, 3, 4), 1, 1)),
    ]


# ---------------------------------------------------------------- standard convolution

def conv2d_forward(x, W, b, stride=1, padding=0):
    """x (N, C_in, H, W), W (C_out, C_in, kH, kW), b (C_out,) -> out (N, C_out, H_out, W_out).

    out[n, o, i, j] = b[o] + sum_{c,p,q} W[o, c, p, q] * x_pad[n, c, i*stride + p, j*stride + q].
    """
    return F.conv2d_forward(x, W, b, stride, padding)[0]


def _conv_case(rng, group, n, c_in, h, w, c_out, kh, kw, **kw_args):
    return Case(group, (_normal(rng, n, c_in, h, w), _normal(rng, c_out, c_in, kh, kw),
                        _normal(rng, c_out)), kw_args)


def _conv_forward_cases(rng):
    return [
        _conv_case(rng, "3x3, odd sizes", 2, 3, 5, 7, 4, 3, 3),
        _conv_case(rng, "3x3 with padding 1 (same size)", 1, 2, 6, 5, 3, 3, 3, padding=1),
        _conv_case(rng, "stride 2 with padding", 2, 2, 7, 8, 3, 3, 3, stride=2, padding=1),
        _conv_case(rng, "1x1 kernel", 2, 5, 4, 3, 2, 1, 1),
        # a 1 x n and an n x 1 kernel, as in Inception-v3's factorised layers
        _conv_case(rng, "1x3 and 3x1 kernels", 1, 2, 5, 5, 2, 1, 3, padding=1),
        _conv_case(rng, "1x3 and 3x1 kernels", 1, 2, 5, 6, 3, 3, 1),
    ]


def conv2d_backward(dout, x, W, stride=1, padding=0):
    """dout (N, C_out, H_out, W_out), x and W as in conv2d_forward -> (dx, dW, db).

    dW[o, c, p, q] = sum_{n,i,j} dout[n, o, i, j] * x_pad[n, c, i*stride + p, j*stride + q];
    db[o] = sum_{n,i,j} dout[n, o, i, j]; dx sends dout[n, o, i, j] * W[o, c, p, q] back
    to every input value that window (i, j) read, padding cropped off.
    """
    _, cache = F.conv2d_forward(x, W, np.zeros(W.shape[0], dtype=W.dtype), stride, padding)
    return F.conv2d_backward(dout, cache)


def _conv_backward_cases(rng):
    def case(group, n, c_in, h, w, c_out, kh, kw, stride=1, padding=0):
        ho, wo = _out_size(h, kh, stride, padding), _out_size(w, kw, stride, padding)
        return Case(group, (_normal(rng, n, c_out, ho, wo), _normal(rng, n, c_in, h, w),
                            _normal(rng, c_out, c_in, kh, kw)),
                    {"stride": stride, "padding": padding})

    return [
        case("3x3, odd sizes", 2, 3, 5, 7, 4, 3, 3),
        case("3x3 with padding 1", 1, 2, 6, 5, 3, 3, 3, padding=1),
        # (8 + 2 - 3) // 2 + 1 = 4: the last input column is read by no window, its dx is 0
        case("stride 2 with padding", 2, 2, 7, 8, 3, 3, 3, stride=2, padding=1),
        case("1x1 kernel", 2, 4, 3, 3, 2, 1, 1),
        case("1x3 kernel with padding", 1, 2, 4, 5, 2, 1, 3, padding=1),
    ]


# ---------------------------------------------------------------- depthwise convolution

def depthwise_conv2d_forward(x, W, b, stride=1, padding=0):
    """x (N, C, H, W), W (C*m, 1, kH, kW), b (C*m,) -> out (N, C*m, H_out, W_out).

    Output channel c*m + j is input channel c alone, cross-correlated with W[c*m + j, 0]
    (PyTorch's conv2d with groups=C); channels never mix.
    """
    return F.depthwise_conv2d_forward(x, W, b, stride, padding)[0]


def _depthwise_case(rng, group, n, c, h, w, m, kh, kw, dout=False, **kw_args):
    x, W = _normal(rng, n, c, h, w), _normal(rng, c * m, 1, kh, kw)
    if not dout:
        return Case(group, (x, W, _normal(rng, c * m)), kw_args)
    s, p = kw_args.get("stride", 1), kw_args.get("padding", 0)
    ho, wo = _out_size(h, kh, s, p), _out_size(w, kw, s, p)
    return Case(group, (_normal(rng, n, c * m, ho, wo), x, W), {"stride": s, "padding": p})


def _depthwise_forward_cases(rng):
    return [
        _depthwise_case(rng, "3x3, one filter per channel", 2, 3, 5, 6, 1, 3, 3),
        _depthwise_case(rng, "3x3, one filter per channel", 1, 4, 4, 4, 1, 3, 3, padding=1),
        _depthwise_case(rng, "stride 2 with padding", 2, 3, 7, 6, 1, 3, 3, stride=2,
                        padding=1),
        # m = 2: channel c*2 + j, not j*C + c
        _depthwise_case(rng, "depth multiplier 2", 2, 3, 5, 5, 2, 3, 3, padding=1),
    ]


def depthwise_conv2d_backward(dout, x, W, stride=1, padding=0):
    """dout (N, C*m, H_out, W_out), x and W as in depthwise_conv2d_forward -> (dx, dW, db),
    dW of W's shape (C*m, 1, kH, kW). Each output channel sends gradient only to its own
    input channel; with m > 1 the m channels of one input channel add up in its dx."""
    _, cache = F.depthwise_conv2d_forward(x, W, np.zeros(W.shape[0], dtype=W.dtype), stride,
                                          padding)
    return F.depthwise_conv2d_backward(dout, cache)


def _depthwise_backward_cases(rng):
    return [
        _depthwise_case(rng, "3x3, one filter per channel", 2, 3, 5, 6, 1, 3, 3, dout=True),
        _depthwise_case(rng, "3x3, one filter per channel", 1, 2, 4, 4, 1, 3, 3, dout=True,
                        padding=1),
        _depthwise_case(rng, "stride 2 with padding", 2, 3, 7, 8, 1, 3, 3, dout=True,
                        stride=2, padding=1),
        _depthwise_case(rng, "depth multiplier 2", 2, 2, 5, 5, 2, 3, 3, dout=True,
                        padding=1),
    ]


# ---------------------------------------------------------------- global average pooling

def global_avg_pool_backward(dout, input_shape):
    """dout (N, C), the gradient of GlobalAvgPool2d's output; input_shape (N, C, H, W)
    -> dx (N, C, H, W): every pixel of channel c got weight 1/(H*W) in its mean."""
    _, cache = F.global_avg_pool2d_forward(np.zeros(input_shape, dtype=dout.dtype))
    return F.global_avg_pool2d_backward(dout, cache)


def _gap_cases(rng):
    return [
        Case("square maps", (_normal(rng, 4, 3), (4, 3, 5, 5))),
        # H != W: dividing by H*H or W*W fails here
        Case("H different from W", (_normal(rng, 2, 5), (2, 5, 3, 7))),
        Case("1x1 maps (pooling does nothing)", (_normal(rng, 3, 2), (3, 2, 1, 1))),
    ]


# ---------------------------------------------------------------- receptive field

def receptive_field(kernel_sizes, strides):
    """Side of the input square that one output value of a stack of convolutions (or
    pooling layers) depends on. kernel_sizes, strides: one int per layer, input side first.

    Each layer widens the field by (k - 1) steps of the layer's input grid, and one step
    there is the product of the strides of the layers below it:
    r = 1 + sum_l (k_l - 1) * prod_{i<l} s_i. Returns an int.
    """
    r, jump = 1, 1
    for k, s in zip(kernel_sizes, strides, strict=True):
        r += (k - 1) * jump
        jump *= s
    return r


def _receptive_cases(rng):
    n3 = int(rng.integers(2, 6))
    return [
        Case("stacked 3x3, stride 1", ([3] * n3, [1] * n3)),
        Case("stacked 3x3, stride 1", ([3, 3, 3], [1, 1, 1])),
        Case("one large kernel", ([int(rng.choice([5, 7, 11]))], [1])),
        # conv, 2x2 pool with stride 2, conv: the last 3x3 steps over pairs of pixels
        Case("with strides", ([3, 2, 3], [1, 2, 1])),
        Case("with strides", ([7, 3, 3, 3, 3], [2, 2, 1, 2, 1])),
        Case("1x1 kernels add nothing", ([1, 3, 1, 3], [1, 1, 1, 1])),
    ]


# ---------------------------------------------------------------- multiply-adds

def separable_mult_adds(d_k, m, n, h, w, stride=1, padding=0):
    """Multiply-adds of one layer on an (M, h, w) input, biases not counted.

    standard: Conv2d(m, n, d_k, stride, padding), i.e. d_k^2 * m * n per output pixel;
    separable: DepthwiseConv2d(m, d_k, stride, padding) (multiplier 1), d_k^2 * m per
    output pixel, then a 1x1 Conv2d(m, n), m * n per output pixel, on the depthwise
    layer's output. Output pixels: H_out * W_out with the floor formula.
    Returns (standard, separable), two ints.
    """
    ho, wo = _out_size(h, d_k, stride, padding), _out_size(w, d_k, stride, padding)
    pixels = ho * wo
    return d_k * d_k * m * n * pixels, (d_k * d_k * m + m * n) * pixels


def _mult_adds_cases(rng):
    return [
        Case("MobileNet's example (14x14, 512 channels)", (3, 512, 512, 14, 14),
             {"padding": 1}),
        Case("same padding", (3, 32, 64, 56, 56), {"padding": 1}),
        Case("same padding", (5, 24, 40, 28, 28), {"padding": 2}),
        # the output map, not the input map, sets the count
        Case("stride 2", (3, 32, 64, 112, 112), {"stride": 2, "padding": 1}),
        Case("stride 2", (3, 16, 8, 9, 7), {"stride": 2}),
        Case("no padding", (7, 3, 16, 20, 24)),
    ]


# ---------------------------------------------------------------- hints: the classic slips
# predicate(case, name, expected, got) -> True when `got` is exactly what the slip gives
# (and the right answer is not); expected and got are float64 arrays of the same shape.

def _is(got, expected, slip):
    slip = np.asarray(slip, dtype=np.float64)
    return (got.shape == slip.shape and bool(np.allclose(got, slip, rtol=1e-9, atol=1e-12))
            and not bool(np.allclose(expected, slip, rtol=1e-9, atol=1e-12)))


def _hint_im2col_channels_first(case, name, expected, got):
    x, kh, kw = case.args
    stride, padding = case.kwargs.get("stride", 1), case.kwargs.get("padding", 0)
    n, c = x.shape[:2]
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    win = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(2, 3))
    win = win[:, :, ::stride, ::stride]
    ho, wo = win.shape[2:4]
    return _is(got, expected, win.transpose(0, 2, 3, 1, 4, 5).reshape(n * ho * wo, c * kh * kw))


def _hint_conv_flipped(case, name, expected, got):
    x, W, b = case.args
    return _is(got, expected, conv2d_forward(x, W[:, :, ::-1, ::-1], b, **case.kwargs))


def _hint_depthwise_j_major(case, name, expected, got):
    x, W, b = case.args
    c, cm = x.shape[1], W.shape[0]
    out = depthwise_conv2d_forward(x, W, b, **case.kwargs)
    # the slip's channel j*C + c holds the right answer's channel c*m + j
    return _is(got, expected, out[:, np.arange(cm).reshape(c, cm // c).T.reshape(-1)])


def _hint_gap_no_division(case, name, expected, got):
    dout, shape = case.args
    return _is(got, expected, np.broadcast_to(dout[:, :, None, None], shape))


def _hint_gap_square(case, name, expected, got):
    dout, (n, c, h, w) = case.args
    return any(_is(got, expected, np.broadcast_to(dout[:, :, None, None] / side**2, (n, c, h, w)))
               for side in (h, w))


def _hint_receptive_no_strides(case, name, expected, got):
    kernel_sizes, _ = case.args
    return _is(got, expected, 1 + sum(k - 1 for k in kernel_sizes))


def _hint_receptive_own_stride(case, name, expected, got):
    r, jump = 1, 1
    for k, s in zip(*case.args):
        jump *= s                       # the slip: a layer's own stride already counted
        r += (k - 1) * jump
    return _is(got, expected, r)


def _hint_mult_adds_input_map(case, name, expected, got):
    d_k, m, n, h, w = case.args
    slip = d_k * d_k * m * n * h * w if name == "standard" else (d_k * d_k * m + m * n) * h * w
    return _is(got, expected, slip)


HINT_IM2COL_CHANNELS_FIRST = ("your columns run channel first (c, p, q); dlcore's order is kernel "
                              "row, kernel column, then channel: column p*kw*C + q*C + c")
HINT_CONV_FLIPPED = ("this is the textbook convolution, with the kernel flipped; PyTorch's and "
                     "dlcore's is a cross-correlation: W[o, c, p, q] multiplies "
                     "x_pad[n, c, i*stride + p, j*stride + q]")
HINT_DEPTHWISE_J_MAJOR = ("right values, channels in the wrong order: output channel c*m + j "
                          "(all m filters of input channel c side by side), not j*C + c")
HINT_GAP_NO_DIVISION = ("each pixel enters its channel's mean with weight 1/(H*W): divide the "
                        "upstream gradient by H*W")
HINT_GAP_SQUARE = "divide by H*W, not H*H or W*W: the maps need not be square"
HINT_RECEPTIVE_NO_STRIDES = ("a layer above a stride-s layer steps over s input pixels at a time: "
                             "multiply its k - 1 by the product of the strides below it")
HINT_RECEPTIVE_OWN_STRIDE = ("a layer's own stride does not widen its own window: multiply k - 1 "
                             "by the strides of the layers below it only, then update the step")
HINT_MULT_ADDS_INPUT_MAP = ("you counted on the input map; a multiply-add happens per output "
                            "pixel, and the output is floor((h + 2*padding - d_k)/stride) + 1 "
                            "rows")


# ---------------------------------------------------------------- the registry entries

EXERCISES = [
    register(Exercise(PREFIX + "im2col", "im2col", _im2col_cases, im2col, ("cols",),
                      hints=((HINT_IM2COL_CHANNELS_FIRST, _hint_im2col_channels_first),))),
    register(Exercise(PREFIX + "conv2d_forward", "conv2d_forward", _conv_forward_cases,
                      conv2d_forward, ("out",),
                      hints=((HINT_CONV_FLIPPED, _hint_conv_flipped),))),
    register(Exercise(PREFIX + "conv2d_backward", "conv2d_backward", _conv_backward_cases,
                      conv2d_backward, ("dx", "dW", "db"))),
    register(Exercise(PREFIX + "depthwise_conv2d_forward", "depthwise_conv2d_forward",
                      _depthwise_forward_cases, depthwise_conv2d_forward, ("out",),
                      hints=((HINT_DEPTHWISE_J_MAJOR, _hint_depthwise_j_major),))),
    register(Exercise(PREFIX + "depthwise_conv2d_backward", "depthwise_conv2d_backward",
                      _depthwise_backward_cases, depthwise_conv2d_backward,
                      ("dx", "dW", "db"))),
    register(Exercise(PREFIX + "global_avg_pool_backward", "global_avg_pool_backward",
                      _gap_cases, global_avg_pool_backward, ("dx",),
                      hints=((HINT_GAP_NO_DIVISION, _hint_gap_no_division),
                             (HINT_GAP_SQUARE, _hint_gap_square)))),
    register(Exercise(PREFIX + "receptive_field", "receptive_field", _receptive_cases,
                      receptive_field, ("r",), tolerance=1e-12,
                      hints=((HINT_RECEPTIVE_NO_STRIDES, _hint_receptive_no_strides),
                             (HINT_RECEPTIVE_OWN_STRIDE, _hint_receptive_own_stride)))),
    register(Exercise(PREFIX + "separable_mult_adds", "separable_mult_adds",
                      _mult_adds_cases, separable_mult_adds, ("standard", "separable"),
                      tolerance=1e-12,
                      hints=((HINT_MULT_ADDS_INPUT_MAP, _hint_mult_adds_input_map),))),
]
