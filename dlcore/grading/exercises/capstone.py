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


# ---------------------------------------------------------------- the registry entries

EXERCISES = [
    register(Exercise(PREFIX + "predicted_preactivation_std", "predicted_preactivation_std",
                      _std_cases, predicted_preactivation_std, ("std",))),
    register(Exercise(PREFIX + "loss_per_logit_std", "loss_per_logit_std", _loss_cases,
                      loss_per_logit_std, ("loss / s",), tolerance=1e-4)),
    register(Exercise(PREFIX + "dead_fraction", "dead_fraction", _dead_cases, dead_fraction,
                      ("fraction",))),
    register(Exercise(PREFIX + "tanh_saturated_fraction", "tanh_saturated_fraction",
                      _saturated_cases, tanh_saturated_fraction, ("fraction",))),
    register(Exercise(PREFIX + "first_stable_epoch", "first_stable_epoch", _epoch_cases,
                      first_stable_epoch, ("epoch",))),
    register(Exercise(PREFIX + "diagnose", "diagnose", _diagnose_cases, diagnose,
                      ("diagnosis",))),
]
