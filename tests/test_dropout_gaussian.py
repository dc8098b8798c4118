"""Gaussian (multiplicative) dropout: the noise's mean and variance against inverted
Bernoulli dropout's, the same noise in backward, the identity in eval, a gradient check with
the noise held fixed, and the errors for bad input."""
import numpy as np
import pytest

from dlcore import functional as F
from dlcore import nn
from dlcore.gradcheck import check_module, numerical_gradient_array, relative_error

TOL = 1e-7
N = 1_000_000


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_noise_has_mean_one_and_the_variance_of_inverted_dropout(p):
    noise = F.gaussian_dropout_forward(np.ones(N), p, rng=0)[0]
    var = p / (1 - p)
    # Stated tolerances: 5 standard errors of the sample mean (sqrt(var / N)) and of the
    # sample variance of a normal (var * sqrt(2 / N)).
    assert abs(noise.mean() - 1.0) < 5 * np.sqrt(var / N)
    assert abs(noise.var(ddof=1) - var) < 5 * var * np.sqrt(2 / N)
    # Bernoulli inverted dropout's factor keep / (1 - p) has the same two moments.
    factor = F.dropout_forward(np.ones(N), p, rng=1)[0]
    assert abs(factor.mean() - 1.0) < 5 * np.sqrt(var / N)
    assert abs(factor.var(ddof=1) - var) < 0.02 * var
    # ...but a different shape: Gaussian noise is never exactly zero, and goes negative.
    assert np.mean(noise == 0) == 0 and np.mean(factor == 0) == pytest.approx(p, abs=3e-3)


def test_noise_scales_each_entry_and_a_wrong_sigma_would_show():
    # p = 0.2: sigma = sqrt(0.25) = 0.5 (the slip sqrt(p) would give 0.447, p gives 0.2).
    x = np.full((1000, 1000), 3.0)
    out, (noise,) = F.gaussian_dropout_forward(x, 0.2, rng=2)
    np.testing.assert_array_equal(out, x * noise)
    assert abs(noise.std(ddof=1) - 0.5) < 0.002
    assert out.std(ddof=1) == pytest.approx(1.5, abs=0.006)


def test_backward_uses_the_forward_noise_and_eval_is_the_identity(rng):
    x, dout = rng.standard_normal((4, 6)), rng.standard_normal((4, 6))
    out, cache = F.gaussian_dropout_forward(x, 0.3, rng=5)
    np.testing.assert_array_equal(F.gaussian_dropout_backward(dout, cache), dout * cache[0])
    out_eval, cache_eval = F.gaussian_dropout_forward(x, 0.3, train=False)
    np.testing.assert_array_equal(out_eval, x)
    assert cache_eval == (None,)
    np.testing.assert_array_equal(F.gaussian_dropout_backward(dout, cache_eval), dout)
    zero, _ = F.gaussian_dropout_forward(x, 0.0, rng=5)
    np.testing.assert_array_equal(zero, x)

    layer = nn.GaussianDropout(0.3, rng=5)
    out = layer(x)
    np.testing.assert_array_equal(out, x * layer.mask)
    np.testing.assert_array_equal(layer.backward(dout), dout * layer.mask)
    np.testing.assert_array_equal(layer.eval()(x), x)
    np.testing.assert_array_equal(layer.backward(dout), dout)
    assert layer.parameters() == [] and repr(layer) == "GaussianDropout(p=0.3)"


def test_same_seed_same_noise_and_a_layer_draws_new_noise_each_step():
    x = np.ones((5, 5))
    a, _ = F.gaussian_dropout_forward(x, 0.5, rng=3)
    b, _ = F.gaussian_dropout_forward(x, 0.5, rng=np.random.default_rng(3))
    np.testing.assert_array_equal(a, b)
    layer = nn.GaussianDropout(0.5, rng=3)
    first = layer(x)
    np.testing.assert_array_equal(first, a)
    assert not np.array_equal(layer(x), first)


def test_gradient_with_a_fixed_seed_and_with_a_frozen_mask(rng):
    x, dout = rng.standard_normal((6, 5)), rng.standard_normal((6, 5))
    dx = F.gaussian_dropout_backward(dout, F.gaussian_dropout_forward(x, 0.4, rng=7)[1])
    dx_num = numerical_gradient_array(
        lambda _: F.gaussian_dropout_forward(x, 0.4, rng=7)[0], x, dout)
    assert relative_error(dx, dx_num) < TOL

    layer = nn.GaussianDropout(0.4, rng=0)
    assert check_module(layer, x, rng=rng)["input"] > 0.1   # new noise per nudge: fails
    with layer.frozen_mask():
        errors = check_module(layer, x, rng=rng)
    assert errors["input"] < TOL, errors
    model = nn.Sequential(nn.Linear(5, 4, rng=1), nn.Tanh(), nn.GaussianDropout(0.5, rng=2),
                          nn.Linear(4, 3, rng=3))
    with model[2].frozen_mask():
        errors = check_module(model, x, rng=rng)
    assert max(errors.values()) < TOL, errors


def test_keeps_float32(rng):
    x = rng.standard_normal((8, 8)).astype(np.float32)
    layer = nn.GaussianDropout(0.5, rng=0)
    for mode in (layer.train, layer.eval):
        mode()
        out = layer(x)
        assert out.dtype == layer.backward(out).dtype == np.float32
