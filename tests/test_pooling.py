"""Pooling: against direct loops, PyTorch's numbers (tie routing, padding counted in the
average), numerical gradients, and the layers' door."""
import numpy as np
import pytest

import dlcore.functional as F
from dlcore import nn
from dlcore.errors import DTypeError, ShapeError
from dlcore.gradcheck import check_module, numerical_gradient_array, relative_error


def loop_pool(x, k, s, p, reduce, fill):
    N, C, H, W = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=fill)
    Ho, Wo = (H + 2 * p - k) // s + 1, (W + 2 * p - k) // s + 1
    out = np.empty((N, C, Ho, Wo))
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    out[n, c, i, j] = reduce(xp[n, c, i * s:i * s + k, j * s:j * s + k])
    return out


# (kernel, stride, padding): non-overlapping, overlapping with padding, a stride that
# leaves the last row and column out (5x7 with 2x2 windows: floor), 1x1
GEOMETRIES = [(2, 2, 0), (3, 2, 1), (2, 3, 1), (3, 1, 1), (1, 1, 0)]


@pytest.mark.parametrize("k,s,p", GEOMETRIES)
def test_max_and_avg_pool_match_loops(k, s, p):
    x = np.random.default_rng(k * 7 + s).standard_normal((2, 3, 5, 7))
    out, _ = F.max_pool2d_forward(x, k, s, p)
    np.testing.assert_array_equal(out, loop_pool(x, k, s, p, np.max, -np.inf))
    out, _ = F.avg_pool2d_forward(x, k, s, p)
    np.testing.assert_allclose(out, loop_pool(x, k, s, p, lambda w: w.sum() / (k * k), 0.0),
                               atol=1e-12)


@pytest.mark.parametrize("k,s,p", GEOMETRIES)
def test_pool_gradients_match_numerical(k, s, p):
    rng = np.random.default_rng(k + s + p)
    x = rng.permutation(2 * 3 * 5 * 7).reshape(2, 3, 5, 7) / 210  # distinct: no ties
    for fwd, bwd in ((F.max_pool2d_forward, F.max_pool2d_backward),
                     (F.avg_pool2d_forward, F.avg_pool2d_backward)):
        out, cache = fwd(x, k, s, p)
        dout = rng.standard_normal(out.shape)
        num = numerical_gradient_array(lambda v, fwd=fwd: fwd(v, k, s, p)[0], x, dout, h=1e-5)
        assert relative_error(bwd(dout, cache), num) < 1e-7


def test_max_pool_stride_defaults_to_kernel_and_rectangular_windows():
    x = np.arange(2 * 6 * 6, dtype=float).reshape(1, 2, 6, 6)
    out, _ = F.max_pool2d_forward(x, (2, 3))
    assert out.shape == (1, 2, 3, 2)
    np.testing.assert_array_equal(out[0, 0], [[8, 11], [20, 23], [32, 35]])


def _torch_pool_inputs():
    """Seeded inputs of the PyTorch references (torch 2.13.0, float64); draws in this order."""
    rng = np.random.default_rng(2026)
    for shape in ((2, 3, 5, 7), (4, 3, 3, 3), (4,), (2, 4, 3, 4),
                  (2, 3, 6, 5), (6, 1, 3, 3), (6,), (2, 6, 3, 3)):
        rng.standard_normal(shape)  # the convolution tests' draws come first
    xi = rng.integers(0, 3, size=(1, 2, 5, 6)).astype(float)
    dout = rng.standard_normal((1, 2, 3, 3))
    x = rng.standard_normal((1, 2, 5, 6))
    return xi, dout, x


def test_max_pool_ties_route_like_pytorch():
    # Integers in {0, 1, 2}: most windows have tied maxima. torch max_pool2d(x, 3, 2, 1),
    # then backward(dout): each output's gradient lands on the first maximum in row-major
    # window order; cells that win several overlapping windows get the sum.
    xi, dout, _ = _torch_pool_inputs()
    assert xi[0, 0, 0].tolist() == [0, 2, 1, 2, 2, 1]  # the draw the literals below saw
    out, cache = F.max_pool2d_forward(xi, 3, stride=2, padding=1)
    assert out.shape == (1, 2, 3, 3)
    torch_dx = [
        [[0.0, 0.989945493742, 0.0, 0.349374564675, 0.0, 0.0],
         [0.0, 0.0, -0.322937359015, 0.0, 0.981473037623, 0.0],
         [-0.388785433176, 0.0, 0.0, 0.0, 0.0, 0.0],
         [0.053738030519, 0.0, 0.0, 0.449516999404, 0.0, 0.0],
         [0.0, 0.0, 0.0, 0.0, 0.0, 0.0]],
        [[0.665502146974, -0.754289817566, 0.0, -0.647699064088, 0.0, 0.0],
         [0.71229967421, 0.52606407898, 0.0, 0.0, 0.0, -0.209587424689],
         [0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
         [0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
         [1.19585575848, -0.099117801009, 0.0, 0.0, 0.0, -1.931364362225]]]
    np.testing.assert_allclose(F.max_pool2d_backward(dout, cache), [torch_dx], atol=1e-11)


def test_avg_pool_counts_padding_like_pytorch():
    # torch avg_pool2d(x, 3, 2, 1) (count_include_pad=True): a corner window holds 4 real
    # pixels and 5 zeros and still divides by 9
    _, _, x = _torch_pool_inputs()
    out, cache = F.avg_pool2d_forward(x, 3, stride=2, padding=1)
    assert out.shape == (1, 2, 3, 3)
    assert out[0, 1, 0, 0] == pytest.approx(0.2255636811995263, abs=1e-12)
    assert out[0, 1, 0, 0] == pytest.approx(x[0, 1, :2, :2].sum() / 9, abs=1e-12)
    assert out[0, 0, 2, 2] == pytest.approx(-0.2329260665512481, abs=1e-12)
    assert out.sum() == pytest.approx(-1.9037739677974033, abs=1e-12)
    dx = F.avg_pool2d_backward(np.ones_like(out), cache)
    assert dx[0, 0, 0, 0] == pytest.approx(1 / 9) and dx[0, 1, 4, 5] == pytest.approx(1 / 9)


def test_max_pool_propagates_nan():
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 1, 1] = np.nan
    out, _ = F.max_pool2d_forward(x, 2)
    assert np.isnan(out[0, 0, 0, 0]) and not np.isnan(out[0, 0, 1, 1])


def test_global_avg_pool():
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5))
    out, cache = F.global_avg_pool2d_forward(x)
    np.testing.assert_allclose(out, x.mean(axis=(2, 3)))
    dout = np.random.default_rng(1).standard_normal((2, 3))
    dx = F.global_avg_pool2d_backward(dout, cache)
    assert dx.shape == x.shape and dx.flags.writeable
    np.testing.assert_allclose(dx[1, 2], np.full((4, 5), dout[1, 2] / 20))


# ---------------------------------------------------------------------------- layers

@pytest.mark.parametrize("layer", [nn.MaxPool2d(3, stride=2, padding=1), nn.AvgPool2d(2),
                                   nn.AvgPool2d((2, 3), stride=1, padding=1),
                                   nn.GlobalAvgPool2d()])
def test_pool_layers_pass_check_module(layer):
    x = np.random.default_rng(3).permutation(2 * 2 * 5 * 6).reshape(2, 2, 5, 6) * 0.1
    errors = check_module(layer, x, rng=0)
    assert errors["input"] < 1e-7


def test_pool_layers_keep_dtype_and_shapes():
    x = np.random.default_rng(0).standard_normal((2, 3, 7, 7)).astype(np.float32)
    assert nn.MaxPool2d(2)(x).shape == (2, 3, 3, 3)
    assert nn.MaxPool2d(2)(x).dtype == np.float32
    assert nn.AvgPool2d(3, stride=2, padding=1)(x).shape == (2, 3, 4, 4)
    assert nn.AvgPool2d(3, stride=2, padding=1)(x).dtype == np.float32
    assert nn.GlobalAvgPool2d()(x).shape == (2, 3)
    assert nn.GlobalAvgPool2d()(x).dtype == np.float32


def test_pool_door():
    with pytest.raises(ValueError, match="at most half the kernel"):
        nn.MaxPool2d(2, padding=2)
    with pytest.raises(ValueError, match="kernel_size must be an int >= 1"):
        nn.AvgPool2d(0)
    with pytest.raises(ShapeError, match=r"\(N, C, H, W\).*\(3, 4\)"):
        nn.GlobalAvgPool2d()(np.zeros((3, 4), np.float32))
    with pytest.raises(ShapeError, match="smaller than the kernel"):
        nn.MaxPool2d(3)(np.zeros((1, 1, 2, 5), np.float32))
    with pytest.raises(DTypeError, match="floating-point"):
        nn.MaxPool2d(2)(np.zeros((1, 1, 4, 4), np.int32))
