"""Chapter 2, vanishing and exploding gradients and activation functions: exercises and cases.

Arrays are float64, so analytic answers must agree with the reference to a relative error
below 1e-7. Derivatives at kinks follow PyTorch (and `dlcore.functional`):
LeakyReLU'(0) = negative_slope, ELU'(0) = alpha; maxout's gradient goes to the piece
recorded as the winner (the first one on ties).
"""
import math

import numpy as np

from ...functional import elu_backward as _elu_backward
from ...functional import elu_forward as _elu_forward
from ...functional import leaky_relu_backward as _leaky_relu_backward
from ...functional import leaky_relu_forward as _leaky_relu_forward
from ...functional import maxout_backward as _maxout_backward
from ...functional import maxout_forward as _maxout_forward
from ...functional import sigmoid_backward as _sigmoid_backward
from ...functional import sigmoid_forward as _sigmoid_forward
from ...functional import tanh_backward as _tanh_backward
from ...functional import tanh_forward as _tanh_forward
from ..registry import Case, Exercise, register

PREFIX = "activations."


def _normal(rng, *shape):
    return rng.standard_normal(shape)


def _saturating_x(rng, shape, scale=40.0):
    """Inputs far out on both tails, where sigmoid and tanh are flat (|x| up to `scale`)."""
    return rng.uniform(-scale, scale, size=shape)


# ---------------------------------------------------------------- sigmoid_backward

def sigmoid_backward(dout, cache):
    """dout and cache = out = sigmoid(x), same shape -> dx = dout * out * (1 - out)."""
    return _sigmoid_backward(dout, cache)


def _sigmoid_case(rng, group, x):
    out, _ = _sigmoid_forward(x)
    return Case(group, (_normal(rng, *x.shape), out))


def _sigmoid_backward_cases(rng):
    return [
        _sigmoid_case(rng, "random x", 2 * _normal(rng, 4, 5)),
        _sigmoid_case(rng, "random x", _normal(rng, 2, 3, 4)),
        # out is 1.0 exactly for x above ~37 and ~1e-17 near x = -40: the derivative
        # must come out 0 or tiny, not the 0.25 of the middle.
        _sigmoid_case(rng, "saturated (|x| up to 40)", _saturating_x(rng, (6, 5))),
    ]


# ---------------------------------------------------------------- tanh_backward

def tanh_backward(dout, cache):
    """dout and cache = out = tanh(x), same shape -> dx = dout * (1 - out**2)."""
    return _tanh_backward(dout, cache)


def _tanh_case(rng, group, x):
    out, _ = _tanh_forward(x)
    return Case(group, (_normal(rng, *x.shape), out))


def _tanh_backward_cases(rng):
    return [
        _tanh_case(rng, "random x", _normal(rng, 4, 5)),
        _tanh_case(rng, "random x", 0.5 * _normal(rng, 3, 2, 2)),
        _tanh_case(rng, "saturated (|x| up to 40)", _saturating_x(rng, (5, 6))),
    ]


# ---------------------------------------------------------------- elu_forward

def elu_forward(x, alpha=1.0):
    """x of any shape -> out of that shape: x where x > 0, alpha * (exp(x) - 1) elsewhere."""
    return _elu_forward(x, alpha)[0]


def _elu_forward_cases(rng):
    huge = np.array([[-1000.0, -50.0, -1e-9, 0.0], [1e-9, 50.0, 700.0, 1000.0]])
    return [
        Case("alpha = 1", (_normal(rng, 4, 5),)),
        Case("alpha = 1", (3 * _normal(rng, 2, 3, 4),), {"alpha": 1.0}),
        Case("other alpha", (_normal(rng, 5, 4),), {"alpha": 0.3}),
        Case("other alpha", (_normal(rng, 6),), {"alpha": 2.5}),
        # exp(1000) overflows: only the x <= 0 side may go through exp.
        Case("huge |x| and x = 0", (huge,), {"alpha": 1.5}),
    ]


# ---------------------------------------------------------------- elu_backward

def elu_backward(dout, cache):
    """dout, cache = (x, out, alpha) -> dx: dout where x > 0, dout * alpha * exp(x) elsewhere."""
    return _elu_backward(dout, cache)


def _elu_backward_case(rng, group, x, alpha):
    _, cache = _elu_forward(x, alpha)
    return Case(group, (_normal(rng, *x.shape), cache))


def _elu_backward_cases(rng):
    x0 = _normal(rng, 5, 6)
    x0[rng.random(x0.shape) < 0.4] = 0.0
    return [
        _elu_backward_case(rng, "alpha = 1", _normal(rng, 4, 5), 1.0),
        _elu_backward_case(rng, "other alpha", 2 * _normal(rng, 3, 4, 2), 0.5),
        _elu_backward_case(rng, "other alpha", _normal(rng, 7), 2.0),
        # At x = 0 the derivative is alpha (PyTorch's choice); with alpha != 1 that
        # differs from the slope 1 of the positive side.
        _elu_backward_case(rng, "x exactly 0", x0, 0.5),
        _elu_backward_case(rng, "very negative x", -rng.uniform(5.0, 60.0, size=(4, 4)), 1.0),
    ]


# ---------------------------------------------------------------- leaky_relu_backward

def leaky_relu_backward(dout, cache):
    """dout, cache = (x, negative_slope) -> dx: dout where x > 0, dout * negative_slope elsewhere."""
    return _leaky_relu_backward(dout, cache)


def _leaky_case(rng, group, x, slope):
    _, cache = _leaky_relu_forward(x, slope)
    return Case(group, (_normal(rng, *x.shape), cache))


def _leaky_relu_backward_cases(rng):
    x0 = _normal(rng, 5, 6)
    x0[rng.random(x0.shape) < 0.4] = 0.0
    return [
        _leaky_case(rng, "slope 0.01", _normal(rng, 4, 5), 0.01),
        _leaky_case(rng, "slope 0.01", _normal(rng, 2, 3, 4), 0.01),
        _leaky_case(rng, "other slopes", _normal(rng, 5, 3), 0.2),
        _leaky_case(rng, "other slopes", _normal(rng, 6), 0.5),
        # Like PyTorch, the derivative at exactly 0 is the negative slope.
        _leaky_case(rng, "x exactly 0", x0, 0.1),
    ]


# ---------------------------------------------------------------- maxout_forward

def maxout_forward(x, W, b):
    """x (N, D), W (D, M, K), b (M, K) -> out (N, M) = max over k of x @ W[:, :, k] + b[:, k]."""
    return _maxout_forward(x, W, b)[0]


def _maxout_args(rng, n, d, m, k):
    return _normal(rng, n, d), _normal(rng, d, m, k) / np.sqrt(d), 0.1 * _normal(rng, m, k)


def _maxout_forward_cases(rng):
    return [
        Case("random batches", _maxout_args(rng, 5, 4, 3, 2)),
        Case("random batches", _maxout_args(rng, 8, 6, 2, 4)),
        # M == K: a max over the unit axis instead of the piece axis has the right shape.
        Case("as many pieces as units", _maxout_args(rng, 6, 5, 3, 3)),
        # K == 1: maxout is a plain linear layer.
        Case("one piece", _maxout_args(rng, 4, 3, 5, 1)),
    ]


# ---------------------------------------------------------------- maxout_backward

def maxout_backward(dout, cache):
    """dout (N, M), cache (x, W, winner) -> dx (N, D), dW (D, M, K), db (M, K).

    winner (N, M) holds the index of the piece that won each unit; only that piece gets
    the upstream gradient.
    """
    return _maxout_backward(dout, cache)


def _maxout_backward_case(rng, group, n, d, m, k):
    _, cache = _maxout_forward(*_maxout_args(rng, n, d, m, k))
    return Case(group, (_normal(rng, n, m), cache))


def _maxout_backward_cases(rng):
    return [
        _maxout_backward_case(rng, "random batches", 5, 4, 3, 2),
        _maxout_backward_case(rng, "random batches", 8, 6, 2, 4),
        # M == K: a gradient laid out (D, K, M) instead of (D, M, K) has the right shape.
        _maxout_backward_case(rng, "as many pieces as units", 6, 5, 3, 3),
        # N == 1: db must still be summed over the batch, shape (M, K).
        _maxout_backward_case(rng, "single row", 1, 4, 3, 2),
    ]


# ---------------------------------------------------------------- dead_units

def dead_units(h):
    """ReLU outputs h (N, H) of a batch -> mask (H,): True for units that output 0 on every row.

    (Returned as 0/1 integers: the learner may return booleans or numbers.)
    """
    return np.all(h <= 0, axis=0).astype(np.int64)


def _relu_batch(rng, n, h, dead=(), tiny=()):
    out = np.maximum(_normal(rng, n, h), 0.0)
    out[:, list(dead)] = 0.0
    # alive, but only just: one small positive output in the column (1e-12 catches a
    # threshold such as h < 1e-6 or np.isclose(h, 0) standing in for "h <= 0")
    for j, value in zip(tiny, (1e-6, 1e-12)):
        out[:, j] = 0.0
        out[rng.integers(0, n), j] = value
    return out


def _dead_units_cases(rng):
    return [
        Case("random batches", (_relu_batch(rng, 20, 6, dead=(1, 4)),)),
        Case("random batches", (_relu_batch(rng, 12, 9, dead=(0, 2, 3, 8)),)),
        # N == H: summarising over the wrong axis gives a mask of the right shape.
        Case("square batch", (_relu_batch(rng, 7, 7, dead=(2, 5)),)),
        Case("tiny outputs are alive", (_relu_batch(rng, 10, 5, dead=(0,), tiny=(2, 3)),)),
        Case("single row", (_relu_batch(rng, 1, 6, dead=(5,)),)),
    ]


# ---------------------------------------------------------------- conceptual: counts and bounds

def maxout_parameter_count(in_features, out_features, pieces):
    """Number of trainable numbers (weights and biases) in a maxout layer."""
    return int(pieces * (in_features * out_features + out_features))


def _maxout_count_cases(rng):
    def sizes():
        return int(rng.integers(2, 300)), int(rng.integers(2, 100))

    return [
        Case("several pieces", (*sizes(), 2)),
        Case("several pieces", (*sizes(), 5)),
        # K = 1 is a linear layer: weights and biases of one affine map.
        Case("one piece", (*sizes(), 1)),
    ]


def sigmoid_chain_bound(depth):
    """The largest value a product of `depth` sigmoid derivatives sigma'(z_1)...sigma'(z_depth) can take."""
    return float(0.25 ** depth)


def _sigmoid_chain_cases(rng):
    return [
        Case("one layer", (1,)),
        Case("deep", (int(rng.integers(5, 10)),)),
        Case("deep", (20,)),
    ]


# ---------------------------------------------------------------- predicted: zero fraction, flat tails

def relu_zero_fraction(mean, std):
    """Fraction of a ReLU's outputs that are 0 when its pre-activation is N(mean, std^2).

    P(z <= 0) = Phi(-mean / std) = erfc(mean / (std sqrt 2)) / 2: a bias shift of -std kills
    about 84% of the outputs, not half.
    """
    return 0.5 * math.erfc(mean / (std * math.sqrt(2.0)))


def _relu_zero_fraction_cases(rng):
    def shifted(sign):
        # |mean| <= 2 std: the fraction stays above 2%, where 1 - erf(t) loses at most ~2 of
        # float64's digits, so a learner's Phi written with erf passes as well as erfc does.
        std = float(rng.uniform(0.3, 3.0))
        return sign * float(rng.uniform(0.2, 2.0)) * std, std

    return [
        Case("centred", (0.0, 1.0)),
        Case("shifted down", (-1.0, 1.0)),
        Case("shifted down", shifted(-1.0)),
        Case("shifted up", shifted(1.0)),
    ]


def sigmoid_flat_beyond(ratio):
    """|x| at which sigmoid'(x) has fallen to `ratio` times its peak sigmoid'(0) = 1/4.

    sigmoid'(x) = 1 / (4 cosh^2(x / 2)), so the ratio is 1 / cosh^2(x / 2) and
    |x| = 2 arccosh(1 / sqrt(ratio)). (For tanh the same ratio is reached at half that |x|.)
    """
    return 2.0 * math.acosh(1.0 / math.sqrt(ratio))


def _sigmoid_flat_cases(rng):
    return [
        Case("one percent", (0.01,)),
        Case("other ratios", (float(rng.uniform(0.05, 0.9)),)),
        Case("other ratios", (1e-4,)),
    ]


# ---------------------------------------------------------------- hints for classic slips

def _all_close(a, b):
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-9, atol=1e-300))


def _chain_half(case, name, expected, got):            # 1/2 per layer instead of 1/4
    return _all_close(got, np.full_like(expected, 0.5 ** float(case.args[0])))


def _zero_fraction_flipped(case, name, expected, got):  # P(z > 0) instead of P(z <= 0)
    return _all_close(got, 1.0 - expected)


def _zero_fraction_variance(case, name, expected, got):  # mean / std^2 instead of mean / std
    mean, std = case.args
    return _all_close(got, np.array(0.5 * math.erfc(mean / (std * std * math.sqrt(2.0)))))


def _flat_tanh(case, name, expected, got):             # tanh's |x|: half the sigmoid's
    return _all_close(got, expected / 2)


HINTS = {
    "sigmoid_chain_bound": (
        (("each factor was taken as 1/2: sigma(z) (1 - sigma(z)) is largest at sigma = 1/2, "
          "where it is 1/2 * 1/2 = 1/4"), _chain_half),),
    "relu_zero_fraction": (
        (("this is the fraction of outputs that are positive, P(z > 0): a ReLU outputs 0 where "
          "z <= 0, i.e. Phi(-mean / std)"), _zero_fraction_flipped),
        (("the normal is standardised with the standard deviation, (z - mean) / std, not with "
          "the variance std^2"), _zero_fraction_variance)),
    "sigmoid_flat_beyond": (
        (("this is where tanh reaches the ratio: sigma(x) = (1 + tanh(x / 2)) / 2, so sigmoid's "
          "derivative is 1 / (4 cosh^2(x / 2)) and its |x| is twice tanh's"), _flat_tanh),),
}


# ---------------------------------------------------------------- the registry entries

EXERCISES = [
    register(Exercise(PREFIX + "sigmoid_backward", "sigmoid_backward", _sigmoid_backward_cases,
                      sigmoid_backward, ("dx",))),
    register(Exercise(PREFIX + "tanh_backward", "tanh_backward", _tanh_backward_cases,
                      tanh_backward, ("dx",))),
    register(Exercise(PREFIX + "leaky_relu_backward", "leaky_relu_backward",
                      _leaky_relu_backward_cases, leaky_relu_backward, ("dx",))),
    register(Exercise(PREFIX + "elu_forward", "elu_forward", _elu_forward_cases, elu_forward,
                      ("out",))),
    register(Exercise(PREFIX + "elu_backward", "elu_backward", _elu_backward_cases,
                      elu_backward, ("dx",))),
    register(Exercise(PREFIX + "maxout_forward", "maxout_forward", _maxout_forward_cases,
                      maxout_forward, ("out",))),
    register(Exercise(PREFIX + "maxout_backward", "maxout_backward", _maxout_backward_cases,
                      maxout_backward, ("dx", "dW", "db"))),
    register(Exercise(PREFIX + "dead_units", "dead_units", _dead_units_cases, dead_units,
                      ("mask",))),
    register(Exercise(PREFIX + "maxout_parameter_count", "maxout_parameter_count",
                      _maxout_count_cases, maxout_parameter_count, ("count",))),
    register(Exercise(PREFIX + "sigmoid_chain_bound", "sigmoid_chain_bound",
                      _sigmoid_chain_cases, sigmoid_chain_bound, ("bound",),
                      hints=HINTS["sigmoid_chain_bound"])),
    register(Exercise(PREFIX + "relu_zero_fraction", "relu_zero_fraction",
                      _relu_zero_fraction_cases, relu_zero_fraction, ("fraction",),
                      hints=HINTS["relu_zero_fraction"])),
    register(Exercise(PREFIX + "sigmoid_flat_beyond", "sigmoid_flat_beyond",
                      _sigmoid_flat_cases, sigmoid_flat_beyond, ("x",),
                      hints=HINTS["sigmoid_flat_beyond"])),
]
