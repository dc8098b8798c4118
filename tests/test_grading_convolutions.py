"""Chapter 10 exercises: each reference passes and agrees with direct nested loops,
numerical gradients and count_flops, and the classic wrong answers fail in the right case
group."""
import numpy as np
import pytest
from conftest import failed_line, hint_lines, run
from numpy.lib.stride_tricks import sliding_window_view

from dlcore import nn
from dlcore.gradcheck import numerical_gradient_array
from dlcore.grading import get_exercise, list_exercises
from dlcore.grading.exercises import convolutions as cv

CHAPTER10 = [
    "convolutions.conv2d_backward",
    "convolutions.conv2d_forward",
    "convolutions.depthwise_conv2d_backward",
    "convolutions.depthwise_conv2d_forward",
    "convolutions.global_avg_pool_backward",
    "convolutions.im2col",
    "convolutions.receptive_field",
    "convolutions.separable_mult_adds",
]



def conv_loops(x, W, b, stride=1, padding=0, groups=1):
    """The definition, one multiply-add at a time: output channel o reads the input
    channels of its group, o // (C_out / groups)."""
    n_img, _, h, w = x.shape
    c_out, c_per_group, kh, kw = W.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    ho, wo = (h + 2 * padding - kh) // stride + 1, (w + 2 * padding - kw) // stride + 1
    out = np.zeros((n_img, c_out, ho, wo))
    per_group = c_out // groups
    for n in range(n_img):
        for o in range(c_out):
            first = (o // per_group) * c_per_group
            for i in range(ho):
                for j in range(wo):
                    total = b[o]
                    for c in range(c_per_group):
                        for p in range(kh):
                            for q in range(kw):
                                total += W[o, c, p, q] * xp[n, first + c, i * stride + p,
                                                            j * stride + q]
                    out[n, o, i, j] = total
    return out


def windows(x, kh, kw, stride, padding):
    """(N, C, H_out, W_out, kH, kW) view: [n, c, i, j, p, q] = x_pad[n, c, i*s + p, j*s + q]."""
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    return sliding_window_view(xp, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride]


# ---------------------------------------------------------------- the references pass

def test_chapter10_is_registered():
    assert list_exercises("convolutions.") == CHAPTER10




# ---------------------------------------------------------------- references vs the definition

@pytest.mark.parametrize("stride,padding", [(1, 0), (2, 1), (2, 0), (3, 2)])
def test_forward_references_match_nested_loops(stride, padding):
    rng = np.random.default_rng(stride * 10 + padding)
    x = rng.standard_normal((2, 3, 7, 8))
    W, b = rng.standard_normal((4, 3, 3, 2)), rng.standard_normal(4)
    out = cv.conv2d_forward(x, W, b, stride, padding)
    np.testing.assert_allclose(out, conv_loops(x, W, b, stride, padding), atol=1e-12)
    # im2col: one GEMM with the weights in (kernel row, kernel column, channel) order
    cols = cv.im2col(x, 3, 2, stride, padding)
    ho, wo = out.shape[2:]
    gemm = (cols @ W.transpose(2, 3, 1, 0).reshape(-1, 4) + b).reshape(2, ho, wo, 4)
    np.testing.assert_allclose(gemm.transpose(0, 3, 1, 2), out, atol=1e-12)
    np.testing.assert_array_equal(
        cols, windows(x, 3, 2, stride, padding).transpose(0, 2, 3, 4, 5, 1).reshape(cols.shape))
    Wd, bd = rng.standard_normal((6, 1, 3, 3)), rng.standard_normal(6)   # multiplier 2
    np.testing.assert_allclose(cv.depthwise_conv2d_forward(x, Wd, bd, stride, padding),
                               conv_loops(x, Wd, bd, stride, padding, groups=3), atol=1e-12)


@pytest.mark.parametrize("stride,padding", [(1, 1), (2, 1), (2, 0)])
def test_backward_references_match_numerical_gradients(stride, padding):
    rng = np.random.default_rng(7 + stride + padding)
    x = rng.standard_normal((2, 2, 6, 7))
    for forward, backward, W0, b0 in [
        (cv.conv2d_forward, cv.conv2d_backward, rng.standard_normal((3, 2, 3, 3)),
         rng.standard_normal(3)),
        (cv.depthwise_conv2d_forward, cv.depthwise_conv2d_backward,
         rng.standard_normal((4, 1, 3, 3)), rng.standard_normal(4)),
    ]:
        W, b = W0.copy(), b0.copy()
        out = forward(x, W, b, stride, padding)
        dout = rng.standard_normal(out.shape)
        dx, dW, db = backward(dout, x, W, stride, padding)

        def f(_, forward=forward, W=W, b=b):     # reads x, W and b, nudged in place
            return forward(x, W, b, stride, padding)

        for mine, wrt in ((dx, x), (dW, W), (db, b)):
            num = numerical_gradient_array(f, wrt, dout)
            assert np.max(np.abs(mine - num)) < 1e-6 * max(1.0, np.max(np.abs(num)))


def test_global_avg_pool_backward_matches_numerical_gradient():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 4, 5))
    dout = rng.standard_normal((2, 3))
    num = numerical_gradient_array(lambda _: x.mean(axis=(2, 3)), x, dout)
    np.testing.assert_allclose(cv.global_avg_pool_backward(dout, x.shape), num, atol=1e-8)


def test_receptive_field_is_the_support_of_one_output_gradient():
    # Backpropagate a 1 from one output value through a stack of all-ones kernels: the
    # input gradient is nonzero exactly on that value's receptive field.
    layers = [(3, 1), (2, 2), (3, 1), (3, 2), (3, 1)]       # (kernel, stride)
    x = np.ones((1, 1, 40, 40))
    shapes, h = [], x
    for k, s in layers:
        shapes.append(h.shape)
        h = cv.conv2d_forward(h, np.ones((1, 1, k, k)), np.zeros(1), stride=s)
    g = np.zeros_like(h)
    g[0, 0, 1, 1] = 1.0
    for (k, s), shape in zip(reversed(layers), reversed(shapes), strict=True):
        g = cv.conv2d_backward(g, np.ones(shape), np.ones((1, 1, k, k)), stride=s)[0]
    rows = np.flatnonzero(g[0, 0].any(axis=1))
    side = rows[-1] - rows[0] + 1
    assert side == cv.receptive_field([k for k, _ in layers], [s for _, s in layers]) == 20


def test_mult_adds_reference_equals_count_flops_on_every_case():
    for case in get_exercise("convolutions.separable_mult_adds").cases(seed=11):
        d_k, m, n, h, w = case.args
        s, p = case.kwargs.get("stride", 1), case.kwargs.get("padding", 0)
        standard = nn.Conv2d(m, n, d_k, stride=s, padding=p, bias=False)
        separable = nn.DepthwiseSeparableConv2d(m, n, d_k, stride=s, padding=p, bias=False)
        expected = (nn.count_flops(standard, (m, h, w)).total_macs,
                    nn.count_flops(separable, (m, h, w)).total_macs)
        assert cv.separable_mult_adds(d_k, m, n, h, w, s, p) == expected, case.group


def test_mult_adds_reproduce_mobilenet_table_3():
    # Howard et al. (2017), Table 3: 462M and 52.3M multiply-adds for 3x3, 512 -> 512, 14x14
    standard, separable = cv.separable_mult_adds(3, 512, 512, 14, 14, padding=1)
    assert standard == 462_422_016 and round(separable / 1e6, 1) == 52.3


# ---------------------------------------------------------------- known wrong answers fail

def test_im2col_with_channels_first_in_each_row():
    def channels_first(x, kh, kw, stride=1, padding=0):     # columns ordered (c, p, q)
        win = windows(x, kh, kw, stride, padding)
        n, c, ho, wo = win.shape[:4]
        return win.transpose(0, 2, 3, 1, 4, 5).reshape(n * ho * wo, c * kh * kw)

    result = run("convolutions.im2col", channels_first)
    assert result.status == "wrong"
    assert failed_line(result, "im2col", "cols", "3x3, stride 1, no padding")
    # with one channel the two orders coincide
    assert result.errors[("one channel, 1x1 kernel", "cols")] == 0.0


def test_conv_forward_with_a_flipped_kernel():
    def true_convolution(x, W, b, stride=1, padding=0):     # the textbook convolution
        return cv.conv2d_forward(x, W[:, :, ::-1, ::-1], b, stride, padding)

    result = run("convolutions.conv2d_forward", true_convolution)
    assert result.status == "wrong" and (result.passed, result.total) == (1, 5)
    assert result.errors[("1x1 kernel", "out")] == 0.0       # a 1x1 kernel has nothing to flip
    assert failed_line(result, "conv2d_forward", "out", "3x3, odd sizes")


def test_conv_forward_with_ceil_output_size_or_without_bias():
    def ceil_size(x, W, b, stride=1, padding=0):
        def more(size, k):       # rows or columns that make the last window fit
            extra = (size + 2 * padding - k) % stride
            return extra and stride - extra

        x = np.pad(x, ((0, 0), (0, 0), (0, more(x.shape[2], W.shape[2])),
                       (0, more(x.shape[3], W.shape[3]))))
        return cv.conv2d_forward(x, W, b, stride, padding)

    result = run("convolutions.conv2d_forward", ceil_size)
    assert failed_line(result, "conv2d_forward", "out", "stride 2 with padding")
    assert result.passed == result.total - 1

    def no_bias(x, W, b, stride=1, padding=0):
        return cv.conv2d_forward(x, W, np.zeros_like(b), stride, padding)

    assert run("convolutions.conv2d_forward", no_bias).passed == 0


def test_conv_backward_with_the_padding_left_on_dx():
    def padded_dx(dout, x, W, stride=1, padding=0):
        xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
        dxp, dW, db = cv.conv2d_backward(dout, xp, W, stride, 0)
        return dxp, dW, db

    result = run("convolutions.conv2d_backward", padded_dx)
    assert result.status == "wrong"
    assert result.errors[("3x3, odd sizes", "dx")] == 0.0     # no padding, no difference
    assert failed_line(result, "conv2d_backward", "dx", "3x3 with padding 1")


def test_conv_backward_with_dx_from_the_unflipped_kernel_and_db_as_a_mean():
    def unflipped_full(dout, x, W, stride=1, padding=0):
        # dx as a "full" cross-correlation with W itself: the flip is forgotten
        kh = W.shape[2]
        Wt = W.transpose(1, 0, 2, 3)
        dx_full = cv.conv2d_forward(dout, Wt, np.zeros(Wt.shape[0]), 1, kh - 1)
        _, dW, db = cv.conv2d_backward(dout, x, W, stride, padding)
        h, w = x.shape[2:]
        return dx_full[:, :, padding:padding + h, padding:padding + w], dW, db

    result = run("convolutions.conv2d_backward", unflipped_full)
    assert failed_line(result, "conv2d_backward", "dx", "3x3, odd sizes")
    assert result.errors[("1x1 kernel", "dx")] < 1e-12

    def db_mean(dout, x, W, stride=1, padding=0):
        dx, dW, _ = cv.conv2d_backward(dout, x, W, stride, padding)
        return dx, dW, dout.mean(axis=(0, 2, 3))

    result = run("convolutions.conv2d_backward", db_mean)
    assert result.passed == 0 and result.errors[("3x3, odd sizes", "dW")] == 0.0


def test_depthwise_with_the_channel_order_of_a_transpose():
    def j_major(x, W, b, stride=1, padding=0):          # output channel j*C + c
        c = x.shape[1]
        m = W.shape[0] // c
        perm = np.arange(c * m).reshape(c, m).T.reshape(-1)     # position -> c*m + j index
        out = cv.depthwise_conv2d_forward(x, W, b, stride, padding)
        return out[:, perm]

    result = run("convolutions.depthwise_conv2d_forward", j_major)
    # identical when m = 1, wrong with a depth multiplier
    assert (result.passed, result.total) == (2, 3)
    assert failed_line(result, "depthwise_conv2d_forward", "out", "depth multiplier 2")


def test_depthwise_backward_that_mixes_channels():
    def as_standard(dout, x, W, stride=1, padding=0):
        # treats the (C*m, 1) weights as one filter applied to the sum over channels
        c = x.shape[1]
        dx, dW, db = cv.conv2d_backward(dout, x.sum(axis=1, keepdims=True), W, stride, padding)
        return np.repeat(dx, c, axis=1), dW, db

    result = run("convolutions.depthwise_conv2d_backward", as_standard)
    assert result.status == "wrong" and result.passed == 0
    assert failed_line(result, "depthwise_conv2d_backward", "dx", "3x3, one filter per channel")


def test_global_avg_pool_backward_without_the_division_or_with_h_squared():
    def no_division(dout, input_shape):
        return np.broadcast_to(dout[:, :, None, None], input_shape).copy()

    def h_squared(dout, input_shape):
        h = input_shape[2]
        return np.broadcast_to(dout[:, :, None, None] / (h * h), input_shape).copy()

    result = run("convolutions.global_avg_pool_backward", no_division)
    assert (result.passed, result.total) == (1, 3)          # right only for 1x1 maps
    result = run("convolutions.global_avg_pool_backward", h_squared)
    assert (result.passed, result.total) == (2, 3)
    assert failed_line(result, "global_avg_pool_backward", "dx", "H different from W")


def test_receptive_field_that_ignores_strides_or_sums_kernels():
    def no_strides(kernel_sizes, strides):
        return 1 + sum(k - 1 for k in kernel_sizes)

    def sum_of_kernels(kernel_sizes, strides):
        return sum(kernel_sizes)

    result = run("convolutions.receptive_field", no_strides)
    assert (result.passed, result.total) == (3, 4)
    assert failed_line(result, "receptive_field", "r", "with strides")
    result = run("convolutions.receptive_field", sum_of_kernels)
    assert (result.passed, result.total) == (1, 4)            # right for a single layer only
    assert result.errors[("one large kernel", "r")] == 0.0


def test_mult_adds_on_the_input_map_or_with_a_full_depthwise_filter():
    def input_size(d_k, m, n, h, w, stride=1, padding=0):
        return d_k * d_k * m * n * h * w, (d_k * d_k * m + m * n) * h * w

    def depthwise_as_standard(d_k, m, n, h, w, stride=1, padding=0):
        # the depthwise layer counted as a full m -> m convolution
        standard, _ = cv.separable_mult_adds(d_k, m, n, h, w, stride, padding)
        pixels = standard // (d_k * d_k * m * n)
        return standard, (d_k * d_k * m * m + m * n) * pixels

    result = run("convolutions.separable_mult_adds", input_size)
    # "same" padding keeps the size: only strides and missing padding show the mistake
    assert (result.passed, result.total) == (2, 4)
    assert failed_line(result, "separable_mult_adds", "standard", "stride 2")
    result = run("convolutions.separable_mult_adds", depthwise_as_standard)
    assert result.passed == 0
    assert result.errors[("stride 2", "standard")] == 0.0


# ---------------------------------------------------------------- each slip gets its own hint

def _im2col_channels_first(x, kh, kw, stride=1, padding=0):
    win = windows(x, kh, kw, stride, padding)
    n, c, ho, wo = win.shape[:4]
    return win.transpose(0, 2, 3, 1, 4, 5).reshape(n * ho * wo, c * kh * kw)


def _conv_flipped(x, W, b, stride=1, padding=0):
    return cv.conv2d_forward(x, W[:, :, ::-1, ::-1], b, stride, padding)


def _depthwise_j_major(x, W, b, stride=1, padding=0):
    c = x.shape[1]
    m = W.shape[0] // c
    out = cv.depthwise_conv2d_forward(x, W, b, stride, padding)
    return out[:, np.arange(c * m).reshape(c, m).T.reshape(-1)]


def _gap_no_division(dout, input_shape):
    return np.broadcast_to(dout[:, :, None, None], input_shape).copy()


def _gap_h_squared(dout, input_shape):
    h = input_shape[2]
    return np.broadcast_to(dout[:, :, None, None] / (h * h), input_shape).copy()


def _receptive_no_strides(kernel_sizes, strides):
    return 1 + sum(k - 1 for k in kernel_sizes)


def _receptive_own_stride(kernel_sizes, strides):
    r, jump = 1, 1
    for k, s in zip(kernel_sizes, strides):
        jump *= s
        r += (k - 1) * jump
    return r


def _mult_adds_input_map(d_k, m, n, h, w, stride=1, padding=0):
    return d_k * d_k * m * n * h * w, (d_k * d_k * m + m * n) * h * w


SLIPS = [
    ("convolutions.im2col", _im2col_channels_first, "HINT_IM2COL_CHANNELS_FIRST"),
    ("convolutions.conv2d_forward", _conv_flipped, "HINT_CONV_FLIPPED"),
    ("convolutions.depthwise_conv2d_forward", _depthwise_j_major, "HINT_DEPTHWISE_J_MAJOR"),
    ("convolutions.global_avg_pool_backward", _gap_no_division, "HINT_GAP_NO_DIVISION"),
    ("convolutions.global_avg_pool_backward", _gap_h_squared, "HINT_GAP_SQUARE"),
    ("convolutions.receptive_field", _receptive_no_strides, "HINT_RECEPTIVE_NO_STRIDES"),
    ("convolutions.receptive_field", _receptive_own_stride, "HINT_RECEPTIVE_OWN_STRIDE"),
    ("convolutions.separable_mult_adds", _mult_adds_input_map, "HINT_MULT_ADDS_INPUT_MAP"),
]


@pytest.mark.parametrize("exercise_id, slip, hint", SLIPS, ids=[s[1].__name__ for s in SLIPS])
def test_each_classic_slip_fails_with_its_own_hint(exercise_id, slip, hint):
    result = run(exercise_id, slip)
    assert result.status == "wrong"
    assert hint_lines(result) == [f"hint: {getattr(cv, hint)}"]


def test_no_hint_predicate_holds_for_the_reference():
    # a hint names a slip only where the answer differs from the right one
    for exercise_id in CHAPTER10:
        ex = get_exercise(exercise_id)
        for case in ex.cases():
            out = ex.reference(*case.args, **case.kwargs)
            outs = out if len(ex.output_names()) > 1 else (out,)
            for name, value in zip(ex.output_names(), outs, strict=True):
                v = np.asarray(value, dtype=np.float64)
                for sentence, predicate in ex.hints:
                    assert not predicate(case, name, v, v), (exercise_id, sentence)
