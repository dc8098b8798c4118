"""Convolutions: functional math against direct nested loops and PyTorch's numbers,
gradients against central differences (float64), and the layers' door."""
import numpy as np
import pytest

import dlcore.functional as F
from dlcore import nn
from dlcore.errors import DTypeError, ShapeError
from dlcore.gradcheck import check_module, numerical_gradient_array, relative_error


def loop_conv(x, W, b, stride, padding):
    """The definition, one output number at a time (cross-correlation, as PyTorch)."""
    N, _, H, Wd = x.shape
    F_, _, kh, kw = W.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    Ho, Wo = (H + 2 * padding - kh) // stride + 1, (Wd + 2 * padding - kw) // stride + 1
    out = np.zeros((N, F_, Ho, Wo))
    for n in range(N):
        for f in range(F_):
            for i in range(Ho):
                for j in range(Wo):
                    window = xp[n, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
                    out[n, f, i, j] = (window * W[f]).sum() + (0 if b is None else b[f])
    return out


def dense_from_depthwise(Wd, C):
    """The (C*m, C, kH, kW) dense weight equal to a depthwise one: channel c*m + j reads c."""
    Cm = Wd.shape[0]
    W = np.zeros((Cm, C) + Wd.shape[2:])
    for o in range(Cm):
        W[o, o // (Cm // C)] = Wd[o, 0]
    return W


# (stride, padding, kernel): odd sizes, a stride with padding, 1x1 and 2x2 kernels,
# and one where the stride leaves the last row and column unread.
GEOMETRIES = [(1, 0, 3), (2, 1, 3), (1, 0, 1), (1, 0, 2), (2, 0, 2), (3, 2, 3), (2, 0, 3),
              (2, 0, 1)]


@pytest.mark.parametrize("stride,padding,k", GEOMETRIES)
def test_conv2d_forward_matches_nested_loops(stride, padding, k):
    rng = np.random.default_rng(k + 10 * stride + 100 * padding)
    x = rng.standard_normal((2, 3, 5, 7))
    W, b = rng.standard_normal((4, 3, k, k)), rng.standard_normal(4)
    out, _ = F.conv2d_forward(x, W, b, stride, padding)
    np.testing.assert_allclose(out, loop_conv(x, W, b, stride, padding), rtol=0, atol=1e-12)


def test_conv2d_rectangular_kernel_and_pairs():
    rng = np.random.default_rng(3)
    x, W = rng.standard_normal((1, 2, 6, 5)), rng.standard_normal((3, 2, 1, 3))
    out, _ = F.conv2d_forward(x, W, None, stride=(2, 1), padding=(0, 1))
    xp = np.pad(x, ((0, 0), (0, 0), (0, 0), (1, 1)))
    expected = np.array([[[[(xp[0, :, 2 * i:2 * i + 1, j:j + 3] * W[f]).sum()
                            for j in range(5)] for i in range(3)] for f in range(3)]])
    np.testing.assert_allclose(out, expected, atol=1e-12)


@pytest.mark.parametrize("stride,padding,k", GEOMETRIES)
def test_conv2d_backward_matches_numerical_gradients(stride, padding, k):
    rng = np.random.default_rng(7 + k + stride)
    x = rng.standard_normal((2, 3, 5, 7))
    W, b = rng.standard_normal((4, 3, k, k)), rng.standard_normal(4)
    out, cache = F.conv2d_forward(x, W, b, stride, padding)
    dout = rng.standard_normal(out.shape)
    dx, dW, db = F.conv2d_backward(dout, cache)
    assert dx.shape == x.shape and dW.shape == W.shape and db.shape == b.shape
    num_dx = numerical_gradient_array(lambda v: F.conv2d_forward(v, W, b, stride, padding)[0],
                                      x, dout, h=1e-5)
    num_dW = numerical_gradient_array(lambda v: F.conv2d_forward(x, v, b, stride, padding)[0],
                                      W, dout, h=1e-5)
    assert relative_error(dx, num_dx) < 1e-7
    assert relative_error(dW, num_dW) < 1e-7
    np.testing.assert_allclose(db, dout.sum(axis=(0, 2, 3)), atol=1e-12)
    # the parameters' half alone (what a first layer, whose input is data, computes)
    dW2, db2 = F.conv2d_backward_params(dout, cache)
    np.testing.assert_array_equal(dW2, dW)
    np.testing.assert_array_equal(db2, db)


def test_im2col_rows_are_windows_and_col2im_is_its_adjoint():
    rng = np.random.default_rng(11)
    x = rng.standard_normal((2, 3, 5, 7))
    cols = F.im2col(x, 3, 2, stride=2, padding=1)
    Ho, Wo = (5 + 2 - 3) // 2 + 1, (7 + 2 - 2) // 2 + 1
    assert cols.shape == (2 * Ho * Wo, 3 * 2 * 3)
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    # row (n=1, ho=2, wo=1) is that window, ordered (kernel row, kernel column, channel)
    window = xp[1, :, 4:7, 2:4]
    np.testing.assert_array_equal(cols[1 * Ho * Wo + 2 * Wo + 1], window.transpose(1, 2, 0).ravel())
    # <im2col(x), c> == <x, col2im(c)> for any c: col2im is im2col's transpose
    c = rng.standard_normal(cols.shape)
    lhs = (cols * c).sum()
    rhs = (x * F.col2im(c, x.shape, 3, 2, stride=2, padding=1)).sum()
    assert abs(lhs - rhs) < 1e-10


@pytest.mark.parametrize("stride,padding,k,m", [(1, 1, 3, 2), (2, 1, 3, 1), (1, 0, 2, 3),
                                                 (2, 0, 1, 2)])
def test_depthwise_forward_and_backward(stride, padding, k, m):
    rng = np.random.default_rng(17 + m)
    C = 3
    x = rng.standard_normal((2, C, 5, 7))
    Wd, b = rng.standard_normal((C * m, 1, k, k)), rng.standard_normal(C * m)
    out, cache = F.depthwise_conv2d_forward(x, Wd, b, stride, padding)
    np.testing.assert_allclose(out, loop_conv(x, dense_from_depthwise(Wd, C), b, stride,
                                              padding), atol=1e-12)
    dout = rng.standard_normal(out.shape)
    dx, dW, db = F.depthwise_conv2d_backward(dout, cache)
    f_x = lambda v: F.depthwise_conv2d_forward(v, Wd, b, stride, padding)[0]
    f_W = lambda v: F.depthwise_conv2d_forward(x, v, b, stride, padding)[0]
    assert relative_error(dx, numerical_gradient_array(f_x, x, dout, h=1e-5)) < 1e-7
    assert relative_error(dW, numerical_gradient_array(f_W, Wd, dout, h=1e-5)) < 1e-7
    np.testing.assert_allclose(db, dout.sum(axis=(0, 2, 3)), atol=1e-12)
    dW2, db2 = F.depthwise_conv2d_backward_params(dout, cache)
    np.testing.assert_array_equal(dW2, dW)
    np.testing.assert_array_equal(db2, db)


def test_depthwise_backward_does_not_depend_on_the_gradients_memory_layout():
    """A layer hands the backward a channels-last view; a direct call usually an NCHW array.
    Both are the same numbers, so they must give the same bits (the backward reads
    rows of channels, and copies an NCHW gradient into that order once)."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, 8, 9, 11)).astype(np.float32)
    Wd, b = rng.standard_normal((16, 1, 3, 3)).astype(np.float32), np.zeros(16, np.float32)
    out, cache = F.depthwise_conv2d_forward(x, Wd, b, 1, 1)
    dout_nchw = rng.standard_normal(out.shape).astype(np.float32)
    dout_nhwc = np.ascontiguousarray(dout_nchw.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    assert dout_nchw.flags.c_contiguous and not dout_nhwc.flags.c_contiguous
    for a, b_ in zip(F.depthwise_conv2d_backward(dout_nchw, cache),
                     F.depthwise_conv2d_backward(dout_nhwc, cache)):
        np.testing.assert_array_equal(a, b_)


def _torch_inputs():
    """The seeded inputs the PyTorch reference numbers below were computed from (torch
    2.13.0, float64): the draws must stay in this order."""
    rng = np.random.default_rng(2026)
    conv = [rng.standard_normal(s) for s in ((2, 3, 5, 7), (4, 3, 3, 3), (4,), (2, 4, 3, 4))]
    dw = [rng.standard_normal(s) for s in ((2, 3, 6, 5), (6, 1, 3, 3), (6,), (2, 6, 3, 3))]
    return conv, dw


def test_conv2d_matches_pytorch():
    # torch.nn.functional.conv2d(x, W, b, stride=2, padding=1), then out.backward(dout)
    (x, W, b, dout), _ = _torch_inputs()
    out, cache = F.conv2d_forward(x, W, b, stride=2, padding=1)
    assert out.shape == (2, 4, 3, 4)  # floor((5 + 2 - 3)/2) + 1 = 3, floor((7 + 2 - 3)/2) + 1 = 4
    assert out[1, 2, 1, 3] == pytest.approx(6.282683341651518, abs=1e-12)
    assert out.sum() == pytest.approx(5.591588384292134, abs=1e-12)
    dx, dW, db = F.conv2d_backward(dout, cache)
    assert dx[0, 1, 4, 6] == pytest.approx(0.5867402768978571, abs=1e-12)
    assert dx.sum() == pytest.approx(-37.09698386600011, abs=1e-11)
    assert dW[3, 2, 0, 1] == pytest.approx(-2.806223863258484, abs=1e-12)
    np.testing.assert_allclose(db, [1.8439835723073417, -7.517542465008707,
                                    4.120095086811878, 1.8480926788037892], atol=1e-12)


def test_depthwise_matches_pytorch_grouped_conv():
    # torch conv2d(x, W (6, 1, 3, 3), b, stride=2, padding=1, groups=3): multiplier 2
    _, (x, Wd, b, dout) = _torch_inputs()
    out, cache = F.depthwise_conv2d_forward(x, Wd, b, stride=2, padding=1)
    assert out.shape == (2, 6, 3, 3)
    assert out[1, 5, 2, 1] == pytest.approx(-3.083849029650021, abs=1e-12)
    assert out[0, 2, 0, 0] == pytest.approx(-1.0246334525137848, abs=1e-12)
    assert out.sum() == pytest.approx(-66.92113576019557, abs=1e-11)
    dx, dW, _ = F.depthwise_conv2d_backward(dout, cache)
    assert dx[1, 2, 3, 4] == pytest.approx(0.06345578779027225, abs=1e-12)
    assert dW[5, 0, 2, 2] == pytest.approx(-1.8317282460724822, abs=1e-12)
    assert dW.sum() == pytest.approx(2.3024538474242133, abs=1e-11)


# ---------------------------------------------------------------------------- layers

def test_conv2d_layer_shapes_init_dtype_and_seed():
    layer = nn.Conv2d(3, 8, 3, padding=1, rng=0)
    assert layer.W.shape == (8, 3, 3, 3) and layer.b.shape == (8,)
    assert layer.W.dtype == np.float32
    np.testing.assert_array_equal(layer.W.data, nn.Conv2d(3, 8, 3, padding=1, rng=0).W.data)
    # He: std sqrt(2 / fan_in), fan_in = C_in*kH*kW = 27; 64*32*9 draws pin it to ~1 %
    big = nn.Conv2d(32, 64, 3, rng=1)
    assert big.W.data.std() == pytest.approx(np.sqrt(2 / (32 * 9)), rel=0.03)
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 7)).astype(np.float32)
    out = layer(x)
    assert out.shape == (2, 8, 5, 7) and out.dtype == np.float32
    # 'pytorch' init: U(+-1/sqrt(fan_in)) for W and b
    t = nn.Conv2d(32, 64, 3, init="pytorch", rng=2)
    bound = 1 / np.sqrt(32 * 9)
    assert np.abs(t.W.data).max() <= bound and np.abs(t.W.data).max() > 0.95 * bound
    assert np.abs(t.b.data).max() <= bound and np.abs(t.b.data).max() > 0.5 * bound


@pytest.mark.parametrize("make", [
    lambda: nn.Conv2d(3, 4, 3, stride=2, padding=1, rng=0),
    lambda: nn.Conv2d(3, 2, (1, 3), padding=(0, 1), bias=False, rng=0),
    lambda: nn.DepthwiseConv2d(3, 3, padding=1, depth_multiplier=2, rng=0),
    lambda: nn.DepthwiseSeparableConv2d(3, 4, 3, stride=2, padding=1, rng=0),
    # a bias before BatchNorm has gradient 0 exactly (the mean removes it): bias=False
    lambda: nn.Sequential(nn.Conv2d(3, 4, 3, padding=1, bias=False, rng=0), nn.BatchNorm2d(4),
                          nn.ReLU(),
                          nn.MaxPool2d(2), nn.Conv2d(4, 2, 1, rng=1), nn.GlobalAvgPool2d(),
                          input_grad=True),
    lambda: nn.Residual(nn.Sequential(nn.Conv2d(3, 3, 3, padding=1, bias=False, rng=0),
                                      nn.BatchNorm2d(3), nn.ReLU())),
])
def test_layers_pass_check_module(make):
    x = np.random.default_rng(5).standard_normal((2, 3, 5, 6))
    errors = check_module(make(), x, rng=0)
    assert max(errors.values()) < 1e-6, errors


@pytest.mark.parametrize("first", [
    lambda: [nn.Conv2d(3, 4, 3, stride=2, padding=1, rng=1)],
    lambda: [nn.DepthwiseSeparableConv2d(3, 4, 3, stride=2, padding=1, rng=1)],
    lambda: [nn.Residual(nn.Conv2d(3, 3, 3, padding=1, rng=3)),
             nn.Conv2d(3, 4, 3, stride=2, padding=1, rng=1)],
])
def test_first_layer_skips_input_gradient_with_same_parameter_gradients(first):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 6, 6)).astype(np.float32)
    dout = rng.standard_normal((2, 4, 3, 3)).astype(np.float32)
    grads = []
    for input_grad in (True, False):
        model = nn.Sequential(*first(), nn.DepthwiseConv2d(4, 3, padding=1, rng=2),
                              input_grad=input_grad)
        model(x)
        dx = model.backward(dout)
        assert (dx is None) == (not input_grad)
        grads.append([p.grad.copy() for p in model.parameters()])
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_depthwise_layer_is_pytorch_grouped_layout():
    layer = nn.DepthwiseConv2d(4, 3, depth_multiplier=2, rng=0)
    assert layer.W.shape == (8, 1, 3, 3) and layer.b.shape == (8,)
    assert layer.out_channels == 8
    # He with fan_in = kH*kW = 9
    big = nn.DepthwiseConv2d(256, 3, depth_multiplier=4, rng=0)
    assert big.W.data.std() == pytest.approx(np.sqrt(2 / 9), rel=0.03)


def test_separable_is_depthwise_then_pointwise():
    layer = nn.DepthwiseSeparableConv2d(3, 5, 3, padding=1, depth_multiplier=2, rng=0)
    assert layer.depthwise.W.shape == (6, 1, 3, 3)
    assert layer.pointwise.W.shape == (5, 6, 1, 1)
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 5)).astype(np.float32)
    np.testing.assert_allclose(layer(x), layer.pointwise(layer.depthwise(x)), rtol=1e-6)


def test_residual_gradient_is_dout_plus_block_gradient():
    block = nn.Conv2d(2, 2, 3, padding=1, rng=0).double()
    res = nn.Residual(block)
    x = np.random.default_rng(1).standard_normal((1, 2, 4, 4))
    dout = np.random.default_rng(2).standard_normal((1, 2, 4, 4))
    np.testing.assert_allclose(res(x), x + block(x))
    res.zero_grad()
    dx = res.backward(dout)
    block(x)
    np.testing.assert_allclose(dx, dout + block.backward(dout), atol=1e-12)


# ---------------------------------------------------------------------------- the door

def test_channel_mismatch_names_the_shapes():
    layer = nn.Conv2d(3, 8, 3)
    with pytest.raises(ShapeError, match=r"expects 3 input channels .*\(N, 3, H, W\).*\(2, 4, 8, 8\)"):
        layer(np.zeros((2, 4, 8, 8), np.float32))


def test_nhwc_input_is_recognised():
    with pytest.raises(ShapeError, match=r"channels-last \(N, H, W, C\).*transpose\(0, 3, 1, 2\)"):
        nn.Conv2d(3, 8, 3)(np.zeros((2, 8, 8, 3), np.float32))
    with pytest.raises(ShapeError, match="channels-last"):
        nn.DepthwiseConv2d(3, 3)(np.zeros((2, 8, 8, 3), np.float32))


def test_other_bad_inputs_raise_clear_errors():
    layer = nn.Conv2d(3, 8, 3)
    with pytest.raises(ShapeError, match=r"\(N, C, H, W\).*\(3, 8, 8\)"):
        layer(np.zeros((3, 8, 8), np.float32))
    with pytest.raises(ShapeError, match="smaller than the kernel"):
        layer(np.zeros((1, 3, 2, 8), np.float32))
    with pytest.raises(DTypeError, match="float64.*float32"):
        layer(np.zeros((1, 3, 8, 8)))
    with pytest.raises(DTypeError, match="floating-point"):
        layer(np.zeros((1, 3, 8, 8), np.int64))
    with pytest.raises(ValueError, match="kernel_size must be an int >= 1"):
        nn.Conv2d(3, 8, 0)
    with pytest.raises(ValueError, match="padding must be an int >= 0"):
        nn.Conv2d(3, 8, 3, padding=-1)
    with pytest.raises(ValueError, match="stride"):
        nn.DepthwiseConv2d(3, 3, stride=(1, 2, 3))
    with pytest.raises(ValueError, match="depth_multiplier"):
        nn.DepthwiseConv2d(3, 3, depth_multiplier=0)
    with pytest.raises(ShapeError, match="Residual: the block maps shape"):
        nn.Residual(nn.Conv2d(3, 3, 3))(np.zeros((1, 3, 5, 5), np.float32))
    with pytest.raises(ShapeError, match=r"dout must have the shape .*\(1, 8, 6, 6\)"):
        layer(np.zeros((1, 3, 8, 8), np.float32))
        layer.backward(np.zeros((1, 8, 8, 8), np.float32))


def test_batchnorm2d_inside_a_conv_net_normalises_each_channel():
    # Conv outputs are channels-last views; BatchNorm2d's per-channel statistics over
    # (N, H, W) must not care.
    rng = np.random.default_rng(0)
    conv, bn = nn.Conv2d(3, 4, 3, padding=1, rng=0), nn.BatchNorm2d(4)
    y = bn(conv(rng.standard_normal((8, 3, 6, 6)).astype(np.float32) * 3 + 1))
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(y.var(axis=(0, 2, 3)), 1, atol=1e-3)


def test_functional_takes_numpy_integers_and_pairs():
    rng = np.random.default_rng(4)
    x, W = rng.standard_normal((1, 2, 5, 7)), rng.standard_normal((3, 2, 3, 3))
    expected, _ = F.conv2d_forward(x, W, None, stride=2, padding=1)
    out, _ = F.conv2d_forward(x, W, None, stride=np.int64(2), padding=(np.int64(1), 1))
    np.testing.assert_array_equal(out, expected)
