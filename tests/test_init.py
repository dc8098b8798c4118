"""dlcore.init: exact bounds, statistics over large samples, fans and gains as PyTorch."""
import math

import numpy as np
import pytest

from dlcore import init
from dlcore.errors import ShapeError

LINEAR = (300, 500)            # (in, out): fan_in 300, fan_out 500
CONV = (64, 32, 3, 3)          # (C_out, C_in, kH, kW): fan_in 288, fan_out 576


def test_fans_follow_our_layouts():
    assert init.compute_fans(LINEAR) == (300, 500)
    assert init.compute_fans(CONV) == (32 * 9, 64 * 9)
    with pytest.raises(ShapeError, match="at least 2 dimensions, got shape \\(7,\\)"):
        init.compute_fans((7,))


@pytest.mark.parametrize("shape", [LINEAR, CONV])
def test_xavier_uniform_bound_and_variance(shape):
    fan_in, fan_out = init.compute_fans(shape)
    w = init.xavier_uniform(shape, gain=2.0, rng=0)
    bound = 2.0 * math.sqrt(6 / (fan_in + fan_out))
    assert np.abs(w).max() <= bound
    assert np.abs(w).max() > 0.999 * bound
    # U(-a, a) has variance a^2 / 3 = gain^2 * 2 / (fan_in + fan_out)
    assert w.var() == pytest.approx(4.0 * 2 / (fan_in + fan_out), rel=0.02)


@pytest.mark.parametrize("shape", [LINEAR, CONV])
def test_xavier_normal_std(shape):
    fan_in, fan_out = init.compute_fans(shape)
    w = init.xavier_normal(shape, rng=1)
    assert w.std() == pytest.approx(math.sqrt(2 / (fan_in + fan_out)), rel=0.01)
    assert abs(w.mean()) < 5 * w.std() / math.sqrt(w.size)  # 5 standard errors


@pytest.mark.parametrize("slope", [0.0, 0.2])
def test_he_normal_is_two_over_fan_in(slope):
    w = init.he_normal(CONV, negative_slope=slope, rng=2)
    assert w.var() == pytest.approx(2 / ((1 + slope**2) * 288), rel=0.02)


def test_he_uniform_bound():
    w = init.he_uniform(LINEAR, rng=3)
    bound = math.sqrt(6 / 300)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.999 * bound
    assert w.var() == pytest.approx(2 / 300, rel=0.02)


# torch.nn.init.kaiming_normal_/kaiming_uniform_(w, a=slope, mode=...) on torch 2.13, for the
# same weights in PyTorch's layout ((out, in) for Linear, so our (300, 500) is its (500, 300)):
# the std gain/sqrt(fan) and the bound sqrt(3)*std it uses, pasted as literals.
TORCH_KAIMING = [
    # our shape,   slope, mode,      std,           uniform bound
    (LINEAR,       0.0, "fan_in",  0.0816496581, 0.1414213562),
    (LINEAR,       0.0, "fan_out", 0.0632455532, 0.1095445115),
    (LINEAR,       0.2, "fan_out", 0.0620173673, 0.1074172311),
    (CONV,         0.0, "fan_in",  0.0833333333, 0.1443375673),
    (CONV,         0.0, "fan_out", 0.0589255651, 0.1020620726),
    (CONV,         0.2, "fan_out", 0.0577812704, 0.1000800961),
    ((784, 10),    0.0, "fan_out", 0.4472135955, 0.7745966692),
]


@pytest.mark.parametrize("shape, slope, mode, std, bound", TORCH_KAIMING)
def test_he_modes_match_pytorch_kaiming(shape, slope, mode, std, bound):
    # the same generator's draws, scaled: the scale must be PyTorch's exactly
    z = np.random.default_rng(5).standard_normal(shape)
    w = init.he_normal(shape, negative_slope=slope, mode=mode, rng=5, dtype=np.float64)
    np.testing.assert_allclose(w, z * std, rtol=1e-9)
    u = np.random.default_rng(6).uniform(-1.0, 1.0, size=shape)
    w = init.he_uniform(shape, negative_slope=slope, mode=mode, rng=6, dtype=np.float64)
    np.testing.assert_allclose(w, u * bound, rtol=1e-7, atol=1e-12)
    assert np.abs(w).max() <= bound


def test_he_fan_out_differs_from_fan_in_when_the_fans_differ():
    # (in, out) = (300, 500): fan_out mode's variance is 2/500, not 2/300
    w = init.he_normal(LINEAR, mode="fan_out", rng=4)
    assert w.var() == pytest.approx(2 / 500, rel=0.02)
    assert init.he_normal(LINEAR, mode="fan_out", rng=4).std() < 0.8 * init.he_normal(
        LINEAR, rng=4).std()


@pytest.mark.parametrize("fn", [init.he_normal, init.he_uniform])
def test_he_mode_is_checked(fn):
    with pytest.raises(ValueError, match="mode must be 'fan_in' or 'fan_out', got 'fan_avg'"):
        fn(LINEAR, mode="fan_avg")


def test_lecun_normal_is_not_truncated():
    w = init.lecun_normal(LINEAR, rng=4)
    assert w.std() == pytest.approx(math.sqrt(1 / 300), rel=0.01)
    # 150,000 normal draws: some lie beyond 2 std, which truncation would forbid
    assert (np.abs(w) > 2 * math.sqrt(1 / 300)).mean() == pytest.approx(0.0455, abs=0.003)


def test_zeros_constant_and_dtype():
    assert init.zeros((2, 3)).tolist() == [[0.0] * 3] * 2
    assert init.constant((3,), 0.1).dtype == np.float32
    assert init.constant((3,), 0.1, dtype=np.float64).tolist() == [0.1] * 3
    assert init.he_normal(LINEAR, rng=0).dtype == np.float32


def test_calculate_gain_matches_pytorch():
    assert init.calculate_gain("linear") == 1.0
    assert init.calculate_gain("sigmoid") == 1.0
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01**2)))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")


def test_same_seed_same_weights():
    np.testing.assert_array_equal(init.he_normal(LINEAR, rng=7), init.he_normal(LINEAR, rng=7))
    assert not np.array_equal(init.he_normal(LINEAR, rng=7), init.he_normal(LINEAR, rng=8))


def test_bad_rng_is_refused():
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator, an int seed or None"):
        init.he_normal(LINEAR, rng="seed")
