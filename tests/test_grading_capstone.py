"""Chapter 15 exercises: each reference passes and agrees with dlcore (diagnostics, a real
ReLU network's activations, ExponentialDecay), and the classic wrong answers fail."""
import math

import numpy as np
import pytest

from dlcore import diagnostics, nn
from dlcore.grading import check, get_exercise, list_exercises
from dlcore.grading.exercises import capstone as ex
from dlcore.schedules import ExponentialDecay

CHAPTER15 = [
    "capstone.dead_fraction",
    "capstone.diagnose",
    "capstone.first_stable_epoch",
    "capstone.leaky_relu_init_std",
    "capstone.predicted_preactivation_std",
    "capstone.tanh_saturated_fraction",
]


def run(exercise_id, candidate, **kw):
    return check(exercise_id, candidate, verbose=False, **kw)


def failed(result, name, output, group):
    return any(line.startswith(f"✘ {name}  {output}  [{group}]") for line in result.lines)


def test_chapter15_is_registered():
    assert list_exercises("capstone.") == CHAPTER15


@pytest.mark.parametrize("exercise_id", CHAPTER15)
@pytest.mark.parametrize("seed", [None, 3, 2024])
def test_reference_passes_every_group(exercise_id, seed):
    exercise = get_exercise(exercise_id)
    result = run(exercise_id, exercise.reference, seed=seed)
    groups = {c.group for c in exercise.cases(seed)}
    assert result.status == "ok" and bool(result), result.lines
    assert result.passed == result.total == len(groups) >= 3


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


def test_leaky_init_std_keeps_a_real_leaky_network_at_scale():
    rng = np.random.default_rng(2)
    width, slope = 512, 0.2
    sigma = ex.leaky_relu_init_std(width, slope)
    init = lambda shape, rng=None: sigma * np.random.default_rng(rng).standard_normal(shape)
    layers = []
    for i in range(6):
        layers += [nn.Linear(width, width, init=init, rng=i, dtype=np.float64),
                   nn.LeakyReLU(slope)]
    x = rng.standard_normal((2000, width))
    first = nn.Sequential(*layers[:2])(x)
    last = nn.Sequential(*layers)(x)
    # the second moment stays put through 5 more layers (it would shrink by 0.52^5 = 0.04
    # with the plain ReLU factor 2 / fan_in, since (1 + 0.2^2) / 2 = 0.52)
    assert np.mean(last ** 2) / np.mean(first ** 2) == pytest.approx(1.0, rel=0.15)
    assert ex.leaky_relu_init_std(width, 0.0) == pytest.approx(math.sqrt(2 / width))


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

    def half_everywhere(input_std, weight_std, fan_in, depth):
        return input_std * (math.sqrt(fan_in / 2) * weight_std) ** depth

    assert run("capstone.predicted_preactivation_std", half_everywhere).passed == 0


def test_leaky_slope_not_squared_or_ignored():
    def slope_not_squared(fan_in, negative_slope):
        return math.sqrt(2 / ((1 + negative_slope) * fan_in))

    result = run("capstone.leaky_relu_init_std", slope_not_squared)
    assert failed(result, "leaky_relu_init_std", "std", "leaky ReLU")
    assert not failed(result, "leaky_relu_init_std", "std", "slope 0: ReLU")
    assert not failed(result, "leaky_relu_init_std", "std", "slope 1: the identity")

    def he_anyway(fan_in, negative_slope):
        return math.sqrt(2 / fan_in)

    result = run("capstone.leaky_relu_init_std", he_anyway)
    assert failed(result, "leaky_relu_init_std", "std", "slope 1: the identity")
    assert result.passed == 1                            # only slope 0

    def variance_not_std(fan_in, negative_slope):
        return 2 / ((1 + negative_slope ** 2) * fan_in)

    assert run("capstone.leaky_relu_init_std", variance_not_std).passed == 0


def test_dead_as_mostly_negative_or_strictly_negative():
    def mostly(z):
        return float(np.mean(np.mean(z <= 0, axis=0) > 0.9))

    assert failed(run("capstone.dead_fraction", mostly), "dead_fraction", "fraction",
                  "inputs exactly 0 and units alive for one example")

    def strictly(z):
        return float(np.mean(np.all(z < 0, axis=0)))

    assert failed(run("capstone.dead_fraction", strictly), "dead_fraction", "fraction",
                  "inputs exactly 0 and units alive for one example")


def test_saturation_of_one_sign_only():
    def positive_only(out, tol=1e-2):
        return float(np.mean(out > 1 - tol))

    assert failed(run("capstone.tanh_saturated_fraction", positive_only),
                  "tanh_saturated_fraction", "fraction", "both signs")


def test_floor_instead_of_ceiling():
    def floor(lr0, gamma, lr_max):
        return max(0, math.floor(math.log(lr_max / lr0) / math.log(gamma)))

    assert run("capstone.first_stable_epoch", floor).passed == 1   # only "already stable"


def test_diagnosis_in_the_wrong_order():
    def dead_first(out_std, dead, saturated):
        if np.max(dead) > 0.5:
            return 3
        return ex.diagnose(out_std, dead, saturated)

    result = run("capstone.diagnose", dead_first)
    assert failed(result, "diagnose", "diagnosis", "two symptoms at once")
    assert not failed(result, "diagnose", "diagnosis", "a healthy network")
