"""Dropout: the statistics of the mask, inverted vs classic scaling, seeding, gradients
with a fixed mask (a fixed seed in functional, the layer's frozen mask under check_module),
and the errors for bad input."""
import numpy as np
import pytest

import dlcore
from dlcore import functional as F
from dlcore import nn
from dlcore.errors import ShapeError
from dlcore.gradcheck import check_module, numerical_gradient_array, relative_error

TOL = 1e-7


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_fraction_dropped_is_p_and_inverted_scaling_keeps_the_mean(p):
    x = np.ones((1000, 1000))
    out, (keep, scale) = F.dropout_forward(x, p, rng=0)
    # 1e6 Bernoulli draws: the fraction's standard deviation is at most 5e-4.
    assert abs(np.mean(out == 0) - p) < 3e-3
    assert abs(out.mean() - 1.0) < 3e-3 / (1 - p)  # E[out] = x
    np.testing.assert_array_equal(out[keep], 1 / (1 - p))  # kept: scaled by 1/(1-p)
    assert scale == 1 / (1 - p)


def test_inverted_dropout_is_the_identity_at_test_time(rng):
    x = rng.standard_normal((4, 5))
    out, cache = F.dropout_forward(x, 0.5, train=False)
    np.testing.assert_array_equal(out, x)
    dout = rng.standard_normal((4, 5))
    np.testing.assert_array_equal(F.dropout_backward(dout, cache), dout)


def test_classic_dropout_masks_unscaled_and_multiplies_by_keep_probability_at_test(rng):
    x = rng.standard_normal((200, 50))
    out, (keep, scale) = F.dropout_forward(x, 0.3, rng=1, classic=True)
    assert scale == 1.0
    np.testing.assert_array_equal(out, np.where(keep, x, 0))
    out_eval, cache = F.dropout_forward(x, 0.3, train=False, classic=True)
    np.testing.assert_allclose(out_eval, 0.7 * x, rtol=1e-15)
    np.testing.assert_allclose(F.dropout_backward(np.ones_like(x), cache), 0.7, rtol=1e-15)
    # Over many masks the training output averages to the test-time output (1-p) x.
    means = np.mean([F.dropout_forward(x[:1], 0.3, rng=s, classic=True)[0] for s in range(4000)],
                    axis=0)
    np.testing.assert_allclose(means, 0.7 * x[:1], atol=0.05 * np.abs(x[:1]).max())


def test_p_zero_is_the_identity_in_training(rng):
    x = rng.standard_normal((3, 4))
    out, cache = F.dropout_forward(x, 0.0, rng=0)
    np.testing.assert_array_equal(out, x)
    np.testing.assert_array_equal(F.dropout_backward(x, cache), x)
    np.testing.assert_array_equal(nn.Dropout(0.0)(x), x)


def test_same_seed_gives_the_same_mask_and_a_layer_draws_a_new_one_each_step():
    x = np.ones((6, 7))
    a, _ = F.dropout_forward(x, 0.5, rng=3)
    b, _ = F.dropout_forward(x, 0.5, rng=np.random.default_rng(3))
    c, _ = F.dropout_forward(x, 0.5, rng=4)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    one, two = nn.Dropout(0.5, rng=3), nn.Dropout(0.5, rng=3)
    first = one(x)
    np.testing.assert_array_equal(first, a)  # an int seed is one stream, started once
    second = one(x)
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(two(x), first)
    np.testing.assert_array_equal(two(x), second)


def test_layer_without_rng_follows_dlcore_seed(monkeypatch):
    # put the default generator back afterwards, whatever this test seeds
    monkeypatch.setattr(dlcore._random, "_default_rng", dlcore._random._default_rng)
    x = np.ones((5, 8))
    layer = nn.Dropout(0.5)
    dlcore.seed(11)
    first = layer(x)
    dlcore.seed(11)
    np.testing.assert_array_equal(layer(x), first)
    dlcore.seed(12)
    assert not np.array_equal(layer(x), first)


def test_layer_modes_follow_train_and_eval(rng):
    x = rng.standard_normal((40, 30))
    layer = nn.Dropout(0.25, rng=0)
    out = layer(x)
    np.testing.assert_allclose(out, np.where(layer.mask, x / 0.75, 0), rtol=1e-15)
    assert out.dtype == x.dtype
    np.testing.assert_array_equal(layer.backward(np.ones_like(x)), np.where(layer.mask, 1 / 0.75, 0))
    layer.eval()
    np.testing.assert_array_equal(layer(x), x)
    classic = nn.Dropout(0.25, rng=0, classic=True).eval()
    np.testing.assert_allclose(classic(x), 0.75 * x, rtol=1e-15)
    assert nn.Sequential(nn.Linear(30, 2), layer).state_dict().keys() == {"0.W", "0.b"}
    assert layer.parameters() == []
    assert repr(layer) == "Dropout(p=0.25)" and repr(classic) == "Dropout(p=0.25, classic=True)"


@pytest.mark.parametrize("classic", [False, True], ids=["inverted", "classic"])
def test_backward_with_a_fixed_seed_matches_numerical_gradient(classic, rng):
    """The same int seed draws the same mask: that is how the math holds it fixed."""
    x = rng.standard_normal((6, 5))
    dout = rng.standard_normal((6, 5))
    out, (keep, _) = F.dropout_forward(x, 0.4, rng=7, classic=classic)
    assert 0 < keep.sum() < keep.size
    np.testing.assert_allclose(out, x * keep / (1.0 if classic else 0.6), rtol=1e-15)
    dx = F.dropout_backward(dout, F.dropout_forward(x, 0.4, rng=7, classic=classic)[1])
    dx_num = numerical_gradient_array(
        lambda _: F.dropout_forward(x, 0.4, rng=7, classic=classic)[0], x, dout)
    assert relative_error(dx, dx_num) < TOL


def test_check_module_passes_on_dropout_with_a_frozen_mask(rng):
    """check_module runs the layer once per nudge; a new mask each time would make the
    numerical gradient meaningless. `frozen_mask()` holds one mask for the whole check."""
    x = rng.standard_normal((5, 7))
    layer = nn.Dropout(0.3, rng=0)
    unfrozen = check_module(layer, x, rng=rng)
    assert unfrozen["input"] > 0.1  # masks differ between nudges: the check cannot pass
    with layer.frozen_mask():
        errors = check_module(layer, x, rng=rng)
    assert set(errors) == {"input"}
    assert errors["input"] < TOL, errors
    assert layer._frozen_seed is None  # restored after the block
    # The same inside a network: freeze the dropout layer, check the whole model.
    model = nn.Sequential(nn.Linear(7, 6, rng=1), nn.Tanh(), nn.Dropout(0.5, rng=2),
                          nn.Linear(6, 3, rng=3))
    with model[2].frozen_mask():
        errors = check_module(model, x, rng=rng)
    assert max(errors.values()) < TOL, errors


def test_frozen_mask_reuses_one_mask_within_the_block(rng):
    x = rng.standard_normal((4, 9))
    layer = nn.Dropout(0.5, rng=5)
    with layer.frozen_mask():
        first = layer(x)
        np.testing.assert_array_equal(layer(x), first)
        np.testing.assert_array_equal(layer(2 * x), 2 * first)
        np.testing.assert_array_equal(layer.mask, first != 0)
    masks = {layer(x).tobytes() for _ in range(5)}
    assert len(masks) > 1


def test_layers_keep_float32(rng):
    x = rng.standard_normal((8, 8)).astype(np.float32)
    for layer in (nn.Dropout(0.5, rng=0), nn.Dropout(0.5, rng=0, classic=True)):
        for mode in (layer.train, layer.eval):
            mode()
            out = layer(x)
            assert out.dtype == layer.backward(out).dtype == np.float32


@pytest.mark.parametrize("layer_class", [nn.Dropout, nn.GaussianDropout])
def test_bad_inputs_get_clear_errors(layer_class):
    name, x = layer_class.__name__, np.ones((2, 3))
    with pytest.raises(ValueError, match=rf"{name}: p must be in \[0.0, 1.0\), got 1.0"):
        layer_class(1.0)
    with pytest.raises(ValueError, match=rf"{name}: p must be in \[0.0, 1.0\), got -0.1"):
        layer_class(-0.1)
    with pytest.raises(TypeError, match=f"{name}: p must be a real number, got '0.5'"):
        layer_class("0.5")
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator, an int seed"):
        layer_class(0.5, rng="seed")
    with pytest.raises(TypeError, match=f"{name}: input must be a floating-point array.*int64"):
        layer_class(0.5)(np.ones((2, 3), np.int64))
    layer = layer_class(0.5, rng=0)
    layer(x)
    with pytest.raises(ShapeError, match=r"dout must have the shape of the forward output "
                                         r"\(2, 3\), got \(3, 2\)"):
        layer.backward(np.ones((3, 2)))
    layer.eval()(x)
    with pytest.raises(ShapeError, match="dout must have the shape of the forward output"):
        layer.backward(np.ones(6))
    with pytest.raises(RuntimeError, match=r"backward\(\) was called before forward\(\)"):
        layer_class().backward(x)
