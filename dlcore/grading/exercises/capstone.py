"""Chapter 15, practical guidelines and a network trained from scratch: the exercises.

The references use `dlcore.diagnostics`' definitions (a dead unit has input <= 0 for every
example; a tanh output is saturated when |out| > 1 - tol) and the book's conventions (weights
(in, out), zero biases, inputs with mean 0). Everything is float64 or integer, so answers must
agree with the reference to a relative error below 1e-7.
"""
import math

import numpy as np

from ..registry import Case, Exercise, register

PREFIX = "capstone."

# the codes `diagnose` returns, in the order they are checked
DIAGNOSES = ("healthy", "exploding activations", "vanishing activations", "dead units",
             "saturated units")


# ---------------------------------------------------------------- activations through depth

def predicted_preactivation_std(input_std, weight_std, fan_in, depth):
    """The standard deviation of the pre-activations of layer `depth` (1, 2, ...) of a ReLU
    network whose layers all have `fan_in` inputs, weights i.i.d. N(0, weight_std^2), zero
    biases, and inputs i.i.d. with mean 0 and standard deviation input_std.

    Var(z_1) = fan_in * weight_std^2 * input_std^2; a ReLU keeps half the second moment of a
    symmetric input, so Var(z_{l+1}) = fan_in * weight_std^2 * Var(z_l) / 2.
    """
    var = fan_in * weight_std ** 2 * input_std ** 2
    var *= (fan_in * weight_std ** 2 / 2) ** (depth - 1)
    return math.sqrt(var)


def _std_cases(rng):
    return [
        Case("N(0, 1) weights (the broken run)", (1.0, 1.0, 128, 4)),
        Case("N(0, 1) weights (the broken run)", (float(rng.uniform(0.5, 2)), 1.0, 64, 3)),
        # He: fan_in * sigma^2 / 2 = 1, the std stays at sqrt(2) * input_std after layer 1
        Case("He initialisation", (1.0, math.sqrt(2 / 256), 256, 10)),
        # LeCun (1/fan_in) with ReLU: halves the variance at every layer after the first
        Case("LeCun initialisation", (float(rng.uniform(0.5, 2)), math.sqrt(1 / 100), 100, 6)),
        Case("one layer", (2.0, 0.1, 50, 1)),
    ]


def loss_per_logit_std(n_classes):
    """The limit of E[cross-entropy] / s as s -> infinity, for logits i.i.d. N(0, s^2) that
    know nothing of the label: the expected maximum of n_classes standard normals.

    For large s the softmax is one-hot on the largest logit, so the loss is
    max_j z_j - z_y, whose mean is s * E[max of C standard normals] - 0. That expectation is
    the integral of x * C * phi(x) * Phi(x)^(C-1), computed here on a fine grid.
    """
    x = np.linspace(-12.0, 12.0, 240_001)
    phi = np.exp(-x ** 2 / 2) / math.sqrt(2 * math.pi)
    cdf = 0.5 * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))
    density = n_classes * phi * cdf ** (n_classes - 1)
    return float(np.sum(x * density) * (x[1] - x[0]))


def _loss_cases(rng):
    return [
        # C = 2: E[max] = 1 / sqrt(pi); C = 3: 3 / (2 sqrt(pi)) (closed forms)
        Case("two classes", (2,)),
        Case("three classes", (3,)),
        Case("ten classes (the digits)", (10,)),
        Case("many classes", (int(rng.integers(50, 1000)),)),
    ]


# ---------------------------------------------------------------- dead and saturated units

def dead_fraction(pre_activations):
    """pre_activations (N, D): the inputs of a ReLU layer for N examples -> the fraction of
    the D units that are dead, i.e. whose input is <= 0 for every one of the N examples."""
    return float(np.mean(~np.any(pre_activations > 0, axis=0)))


def _dead_cases(rng):
    def layer(n, d, dead):
        z = rng.standard_normal((n, d))
        cols = rng.choice(d, size=dead, replace=False)
        z[:, cols] = -np.abs(z[:, cols])
        return z

    exact_zero = layer(16, 10, 3)
    exact_zero[:, 0] = 0.0          # input exactly 0 everywhere: dead (0 is not > 0)
    exact_zero[0, 1] = 1e-3         # positive for one example only: alive
    exact_zero[1:, 1] = -1.0
    return [
        Case("random layers", (layer(32, 20, 5),)),
        Case("random layers", (layer(8, 50, 30),)),
        # a unit negative for most examples but not all is alive: "dead" needs every example
        Case("inputs exactly 0 and units alive for one example", (exact_zero,)),
        Case("no dead unit", (np.abs(rng.standard_normal((4, 6))) + 0.1,)),
    ]


def tanh_saturated_fraction(out, tol=1e-2):
    """out: outputs of a tanh layer (any shape) -> the fraction of entries with
    |out| > 1 - tol, where the derivative 1 - out^2 is below about 2 * tol."""
    return float(np.mean(np.abs(out) > 1 - tol))


def _saturated_cases(rng):
    big = np.tanh(3.0 * rng.standard_normal((64, 32)))
    small = np.tanh(0.3 * rng.standard_normal((64, 32)))
    signs = np.tanh(np.array([[-4.0, 4.0, 0.1, -0.1, 2.0, -2.0]]))   # both signs count
    return [
        Case("large pre-activations", (big,)),
        Case("small pre-activations", (small,)),
        Case("both signs", (signs,)),
        Case("another tolerance", (big,), {"tol": 1e-3}),
    ]


# ---------------------------------------------------------------- exponential decay

def first_stable_epoch(lr0, gamma, lr_max):
    """The first epoch t = 0, 1, 2, ... at which lr0 * gamma^t <= lr_max (0 < gamma < 1):
    how long an exponential decay from a too-high lr0 spends above the largest stable rate."""
    if lr0 <= lr_max:
        return 0
    return math.ceil(math.log(lr_max / lr0) / math.log(gamma))


def _epoch_cases(rng):
    return [
        Case("decays from too high a rate", (0.1, 0.7, 0.03)),
        Case("decays from too high a rate", (float(rng.uniform(0.5, 1.0)), 0.9, 0.01)),
        Case("decays from too high a rate", (1.0, float(rng.uniform(0.5, 0.95)), 1e-3)),
        # gamma close to 1: hundreds of epochs, where a loop with a float error drifts
        Case("slow decay", (0.5, 0.99, 0.001)),
        Case("already stable", (0.01, 0.5, 0.03)),
    ]


# ---------------------------------------------------------------- diagnosis from statistics

def diagnose(out_std, dead, saturated):
    """Statistics of the hidden layers of a network on one batch, input side first:
    out_std (L,) the standard deviation of each layer's output; dead (L,) the fraction of dead
    units (0 where the activation has none); saturated (L,) the fraction of saturated outputs
    (0 where it has none). Returns the index in DIAGNOSES of the FIRST that applies:
    1 exploding if out_std[-1] / out_std[0] > 10; 2 vanishing if it is < 0.1; 3 dead units if
    any layer has dead > 0.5; 4 saturated units if any layer has saturated > 0.5; else 0.
    """
    ratio = out_std[-1] / out_std[0]
    if ratio > 10:
        return 1
    if ratio < 0.1:
        return 2
    if np.max(dead) > 0.5:
        return 3
    if np.max(saturated) > 0.5:
        return 4
    return 0


def _stats(rng, layers, growth, dead=0.0, saturated=0.0):
    std = 0.8 * growth ** np.arange(layers) * rng.uniform(0.9, 1.1, layers)
    d = rng.uniform(0, 0.05, layers)
    d[-1] = dead if dead else d[-1]
    s = rng.uniform(0, 0.05, layers)
    s[layers // 2] = saturated if saturated else s[layers // 2]
    return std, d, s


def _diagnose_cases(rng):
    return [
        Case("a healthy network", _stats(rng, 4, 1.0)),
        Case("the broken run: N(0, 1) weights, ReLU", _stats(rng, 4, 8.0)),
        Case("tiny weights", _stats(rng, 6, 0.3)),
        Case("after too high a learning rate", _stats(rng, 4, 1.0, dead=0.96)),
        Case("tanh with large weights", _stats(rng, 5, 1.0, saturated=0.8)),
        # exploding AND many dead units: the first rule that applies wins
        Case("two symptoms at once", _stats(rng, 4, 9.0, dead=0.7)),
    ]


# ---------------------------------------------------------------- hints for classic slips

def _all_close(a, b):
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-9, atol=1e-300))


def _no_relu_half(case, name, expected, got):          # fan_in * sigma^2 per layer, not half
    depth = case.args[3]
    return depth > 1 and _all_close(got, expected * math.sqrt(2.0) ** (depth - 1))


def _half_at_layer_one(case, name, expected, got):     # the input was treated as a ReLU output
    return _all_close(got, expected / math.sqrt(2.0))


def _variance(case, name, expected, got):               # the variance, not its square root
    return _all_close(got, expected ** 2)


def _uniform_guess(case, name, expected, got):          # ln C: the loss of equal logits
    return _all_close(got, np.array(math.log(case.args[0])))


def _extreme_value_limit(case, name, expected, got):    # sqrt(2 ln C): only as C -> infinity
    return _all_close(got, np.array(math.sqrt(2.0 * math.log(case.args[0]))))


def _strictly_negative(case, name, expected, got):      # z < 0: a unit at exactly 0 looked alive
    z = case.args[0]
    return _all_close(got, np.array(np.mean(np.all(z < 0, axis=0))))


def _dead_entries(case, name, expected, got):           # entries <= 0 instead of units
    z = case.args[0]
    return _all_close(got, np.array(np.mean(z <= 0)))


def _one_sign(case, name, expected, got):               # out > 1 - tol: only the +1 end
    tol = case.kwargs.get("tol", 1e-2)
    return _all_close(got, np.array(np.mean(case.args[0] > 1 - tol)))


def _rounded_down(case, name, expected, got):           # floor instead of ceiling
    return _all_close(got, expected - 1)


HINTS = {
    "predicted_preactivation_std": (
        (("each ReLU keeps half of the second moment of a zero-mean symmetric input, so every "
          "layer after the first multiplies the variance by fan_in * sigma^2 / 2, not by "
          "fan_in * sigma^2"), _no_relu_half),
        (("layer 1 acts on the input itself, not on a ReLU output: its variance is "
          "fan_in * sigma^2 * input_std^2, with no 1/2"), _half_at_layer_one),
        ("this is the variance; the question asks for the standard deviation", _variance)),
    "loss_per_logit_std": (
        (("ln C is the loss when all logits are equal (s = 0), not its growth for large s: "
          "there the loss is close to max_j z_j - z_y; what is the mean of that, over s?"),
         _uniform_guess),
        (("sqrt(2 ln C) is only how the maximum of C standard normals grows as C -> infinity; "
          "for a given C its mean comes from the maximum's density"), _extreme_value_limit)),
    "dead_fraction": (
        (("a unit whose input is exactly 0 is dead too (ReLU's output and gradient are 0 there): "
          "dead means no example has input > 0, not every example has input < 0"),
         _strictly_negative),
        (("this is the fraction of entries <= 0; dead is a property of a unit (a column): its "
          "input must be <= 0 for every example (every row)"), _dead_entries)),
    "tanh_saturated_fraction": (
        (("tanh saturates at both ends: count |out| > 1 - tol, near -1 as well as near +1"),
         _one_sign),),
    "first_stable_epoch": (
        (("rounded down: at that epoch the rate is still above lr_max; the first epoch with "
          "lr0 * gamma^t <= lr_max is the ceiling of log(lr_max / lr0) / log(gamma)"),
         _rounded_down),),
}


# ---------------------------------------------------------------- the registry entries

EXERCISES = [
    register(Exercise(PREFIX + "predicted_preactivation_std", "predicted_preactivation_std",
                      _std_cases, predicted_preactivation_std, ("std",),
                      hints=HINTS["predicted_preactivation_std"])),
    register(Exercise(PREFIX + "loss_per_logit_std", "loss_per_logit_std", _loss_cases,
                      loss_per_logit_std, ("loss / s",), tolerance=1e-4,
                      hints=HINTS["loss_per_logit_std"])),
    register(Exercise(PREFIX + "dead_fraction", "dead_fraction", _dead_cases, dead_fraction,
                      ("fraction",),
                      hints=HINTS["dead_fraction"])),
    register(Exercise(PREFIX + "tanh_saturated_fraction", "tanh_saturated_fraction",
                      _saturated_cases, tanh_saturated_fraction, ("fraction",),
                      hints=HINTS["tanh_saturated_fraction"])),
    register(Exercise(PREFIX + "first_stable_epoch", "first_stable_epoch", _epoch_cases,
                      first_stable_epoch, ("epoch",),
                      hints=HINTS["first_stable_epoch"])),
    register(Exercise(PREFIX + "diagnose", "diagnose", _diagnose_cases, diagnose,
                      ("diagnosis",))),
]
