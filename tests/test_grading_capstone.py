"""Chapter 15 exercises: each reference passes and agrees with dlcore (diagnostics, a real
ReLU network's activations, ExponentialDecay), and the classic wrong answers fail."""
import math

import numpy as np
import pytest
from conftest import hint_lines, run

from dlcore import diagnostics, nn
from dlcore.grading import list_exercises
from dlcore.grading.exercises import capstone as ex
from dlcore.schedules import ExponentialDecay

CHAPTER15 = [
    "capstone.dead_fraction",
    "capstone.diagnose",
    "capstone.first_stable_epoch",
    "capstone.loss_per_logit_std",
    "capstone.predicted_preactivation_std",
    "capstone.tanh_saturated_fraction",
]



def failed(result, name, output, group):
    return any(line.startswith(f"✘ {name}  {output}  [{group}]") for line in result.lines)


def test_chapter15_is_registered():
    assert list_exercises("capstone.") == CHAPTER15




# ---------------------------------------------------------------- references vs dlcore

def test_predicted_std_matches_a_real_relu_network():
    rng = np.random.default_rng(0)
    width, depth, sigma = 512, 4, 1.5 / math.sqrt(512)
    init = lambda shape, rng=None: sigma * np.random.default_rng(rng).standard_normal(shape)
    layers = []
    for i in range(depth):
        layers += [nn.Linear(width, width, init=init, rng=i, dtype=np.float64), nn.ReLU()]
    model = nn.Sequential(*layers[:-1])            # ends with the pre-activations of layer 4
    x = rng.standard_normal((2000, width))
    measured = float(np.std(model(x)))
    assert measured == pytest.approx(ex.predicted_preactivation_std(1.0, sigma, width, depth),
                                     rel=0.1)


def test_loss_per_logit_std_matches_the_cross_entropy_of_huge_random_logits():
    from dlcore.losses import CrossEntropyLoss

    rng = np.random.default_rng(2)
    for n_classes in (2, 10):
        s = 1e4
        logits = s * rng.standard_normal((40_000, n_classes))
        labels = rng.integers(0, n_classes, size=40_000)
        measured = float(CrossEntropyLoss()(logits, labels)) / s
        assert measured == pytest.approx(ex.loss_per_logit_std(n_classes), rel=0.02)
    assert ex.loss_per_logit_std(2) == pytest.approx(1 / math.sqrt(math.pi), rel=1e-9)
    assert ex.loss_per_logit_std(3) == pytest.approx(3 / (2 * math.sqrt(math.pi)), rel=1e-9)


def test_dead_and_saturated_fractions_agree_with_diagnostics():
    rng = np.random.default_rng(1)
    z = rng.standard_normal((16, 40)) - 1.5
    model = nn.Sequential(nn.ReLU()).to(dtype=np.float64)
    (stats,) = diagnostics.layer_report(model, z)
    assert ex.dead_fraction(z) == stats.dead_fraction > 0
    tanh = nn.Sequential(nn.Tanh()).to(dtype=np.float64)
    x = 3 * rng.standard_normal((16, 40))
    (stats,) = diagnostics.layer_report(tanh, x)
    assert ex.tanh_saturated_fraction(np.tanh(x)) == pytest.approx(stats.saturated_fraction)


def test_first_stable_epoch_agrees_with_exponential_decay():
    for lr0, gamma, lr_max in [(0.1, 0.7, 0.03), (0.9, 0.9, 0.01), (0.5, 0.99, 0.001)]:
        t = ex.first_stable_epoch(lr0, gamma, lr_max)
        schedule = ExponentialDecay(lr0, gamma)
        assert schedule.lr_at(t) <= lr_max < schedule.lr_at(t - 1)


# ---------------------------------------------------------------- known wrong answers fail

def test_forgetting_the_relu_halving_or_the_first_layer():
    def no_half(input_std, weight_std, fan_in, depth):
        return input_std * (math.sqrt(fan_in) * weight_std) ** depth

    result = run("capstone.predicted_preactivation_std", no_half)
    assert failed(result, "predicted_preactivation_std", "std", "He initialisation")
    assert not failed(result, "predicted_preactivation_std", "std", "one layer")
    assert "half of the second moment" in " ".join(hint_lines(result))

    def half_everywhere(input_std, weight_std, fan_in, depth):
        return input_std * (math.sqrt(fan_in / 2) * weight_std) ** depth

    result = run("capstone.predicted_preactivation_std", half_everywhere)
    assert result.passed == 0
    assert "layer 1 acts on the input itself" in " ".join(hint_lines(result))

    def variance(input_std, weight_std, fan_in, depth):
        return ex.predicted_preactivation_std(input_std, weight_std, fan_in, depth) ** 2

    result = run("capstone.predicted_preactivation_std", variance)
    assert result.passed == 0 and "this is the variance" in " ".join(hint_lines(result))


def test_uniform_guess_or_the_asymptotic_maximum_or_sampling():
    def uniform_guess(n_classes):                 # ln C is the loss of logits that are all 0
        return math.log(n_classes)

    result = run("capstone.loss_per_logit_std", uniform_guess)
    assert result.passed == 0 and "ln C is the loss when all logits" in " ".join(hint_lines(result))

    def asymptotic(n_classes):                    # sqrt(2 ln C): right only as C -> infinity
        return math.sqrt(2 * math.log(n_classes))

    result = run("capstone.loss_per_logit_std", asymptotic)
    assert result.passed == 0 and "C -> infinity" in " ".join(hint_lines(result))

    def mean_abs(n_classes):                      # E|z - z'| / 2 style guesses: C-independent
        return math.sqrt(2 / math.pi)

    result = run("capstone.loss_per_logit_std", mean_abs)
    assert failed(result, "loss_per_logit_std", "loss / s", "ten classes (the digits)")

    def sampled(n_classes):                       # 10,000 samples: about 1e-2 off, not 1e-4
        rng = np.random.default_rng(0)
        return float(np.mean(np.max(rng.standard_normal((10_000, n_classes)), axis=1)))

    assert failed(run("capstone.loss_per_logit_std", sampled), "loss_per_logit_std", "loss / s",
                  "two classes")


def test_dead_as_mostly_negative_or_strictly_negative():
    def mostly(z):
        return float(np.mean(np.mean(z <= 0, axis=0) > 0.9))

    assert failed(run("capstone.dead_fraction", mostly), "dead_fraction", "fraction",
                  "inputs exactly 0 and units alive for one example")

    def strictly(z):
        return float(np.mean(np.all(z < 0, axis=0)))

    result = run("capstone.dead_fraction", strictly)
    assert failed(result, "dead_fraction", "fraction",
                  "inputs exactly 0 and units alive for one example")
    assert "exactly 0 is dead too" in " ".join(hint_lines(result))

    def entries(z):                               # the fraction of entries, not of units
        return float(np.mean(z <= 0))

    result = run("capstone.dead_fraction", entries)
    assert failed(result, "dead_fraction", "fraction", "random layers")
    assert "property of a unit" in " ".join(hint_lines(result))


def test_saturation_of_one_sign_only():
    def positive_only(out, tol=1e-2):
        return float(np.mean(out > 1 - tol))

    result = run("capstone.tanh_saturated_fraction", positive_only)
    assert failed(result, "tanh_saturated_fraction", "fraction", "both signs")
    assert "both ends" in " ".join(hint_lines(result))


def test_floor_instead_of_ceiling():
    def floor(lr0, gamma, lr_max):
        return max(0, math.floor(math.log(lr_max / lr0) / math.log(gamma)))

    result = run("capstone.first_stable_epoch", floor)
    assert result.passed == 1                      # only "already stable"
    assert "rounded down" in " ".join(hint_lines(result))


def test_diagnosis_in_the_wrong_order():
    def dead_first(out_std, dead, saturated):
        if np.max(dead) > 0.5:
            return 3
        return ex.diagnose(out_std, dead, saturated)

    result = run("capstone.diagnose", dead_first)
    assert failed(result, "diagnose", "diagnosis", "two symptoms at once")
    assert not failed(result, "diagnose", "diagnosis", "a healthy network")
