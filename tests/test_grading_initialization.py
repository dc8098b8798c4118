"""Chapter 3 exercises: every reference passes, plausible wrong answers fail, and the
`compare` hook of the registry (statistics of samples, values up to a constant) works."""
import math

import numpy as np
import pytest
from conftest import failed_line, hint_lines, run

from dlcore.grading import EXERCISES, Case, Exercise, check, get_exercise, list_exercises
from dlcore.grading.exercises import initialization as ini

CHAPTER3 = [
    "initialization.fans",
    "initialization.xavier_uniform",
    "initialization.he_normal",
    "initialization.he_std",
    "initialization.relu_second_moment",
    "initialization.softmax_bias",
    "initialization.initial_cross_entropy",
    "initialization.he_std_fan_out",
    "initialization.relu_depth_std",
    "initialization.truncated_normal_std",
]


def _conv_fans(shape):
    k = math.prod(shape[2:])
    return shape[1] * k, shape[0] * k


def _fans(shape):
    return (shape[0], shape[1]) if len(shape) == 2 else _conv_fans(shape)


# ---------------------------------------------------------------- the references pass

def test_chapter3_is_registered():
    assert set(CHAPTER3) <= set(EXERCISES)
    assert list_exercises("initialization.") == sorted(CHAPTER3)


def test_statistics_of_a_correct_sampler_sit_well_below_the_tolerance():
    # Over 12 seeds the worst statistic of a correct sampler stays below a quarter of the
    # tolerance, so a correct answer does not fail on an unlucky seed.
    for exercise_id in ("initialization.xavier_uniform", "initialization.he_normal"):
        ex = get_exercise(exercise_id)
        worst = max(max(run(exercise_id, ex.reference, seed=s).errors.values())
                    for s in range(12))
        assert 0 < worst < ini.STATISTICS_TOLERANCE / 4, (exercise_id, worst)


def test_another_implementation_of_the_same_distribution_passes():
    # Different draws from the right distribution: (2u - 1) a instead of uniform(-a, a),
    # and float32 output.
    def xavier(shape, rng):
        fan_in, fan_out = _fans(shape)
        a = math.sqrt(6 / (fan_in + fan_out))
        return ((2 * rng.random(shape) - 1) * a).astype(np.float32)

    def he(shape, rng):
        return rng.normal(0.0, math.sqrt(2 / _fans(shape)[0]), size=shape)

    assert run("initialization.xavier_uniform", xavier)
    assert run("initialization.he_normal", he)


# ---------------------------------------------------------------- wrong answers fail

def test_he_with_std_one_over_fan_in_fails():
    def he(shape, rng):
        return rng.standard_normal(shape) / _fans(shape)[0]

    result = run("initialization.he_normal", he)
    assert result.status == "wrong" and result.passed == 0
    assert any("expected for shape (1024, 512): std 0.04419" in line for line in result.lines)


def test_he_with_variance_one_over_fan_in_or_fan_out_fails():
    def lecun(shape, rng):
        return rng.standard_normal(shape) * math.sqrt(1 / _fans(shape)[0])

    def fan_out(shape, rng):
        return rng.standard_normal(shape) * math.sqrt(2 / _fans(shape)[1])

    assert run("initialization.he_normal", lecun).passed == 0
    assert not run("initialization.he_normal", fan_out)


def test_he_with_a_uniform_of_the_right_std_fails_on_kurtosis():
    def he_uniform(shape, rng):
        a = math.sqrt(6 / _fans(shape)[0])
        return rng.uniform(-a, a, size=shape)

    result = run("initialization.he_normal", he_uniform)
    assert result.passed == 0
    assert any("(worst: kurtosis)" in line for line in result.lines)


def test_xavier_with_bound_sqrt_3_fails_large_groups():
    def xavier(shape, rng):
        fan_in, fan_out = _fans(shape)
        a = math.sqrt(3 / (fan_in + fan_out))
        return rng.uniform(-a, a, size=shape)

    result = run("initialization.xavier_uniform", xavier)
    assert result.status == "wrong"
    assert result.errors[("large linear", "W")] == pytest.approx(1 - math.sqrt(0.5), abs=0.01)
    # Inside the bound is not a failure on a few entries; only the large samples show it.
    assert result.passed == 1


def test_xavier_normal_instead_of_uniform_fails():
    def xavier(shape, rng):
        fan_in, fan_out = _fans(shape)
        return rng.standard_normal(shape) * math.sqrt(2 / (fan_in + fan_out))

    result = run("initialization.xavier_uniform", xavier)
    assert result.passed == 0   # kurtosis and max |w| on large samples, the bound on small ones


def test_xavier_above_the_bound_fails_even_on_small_shapes():
    def xavier(shape, rng):
        fan_in, fan_out = _fans(shape)
        a = math.sqrt(6 / (fan_in + fan_out))
        w = rng.uniform(-a, a, size=shape)
        w.flat[0] = 1.01 * a
        return w

    result = run("initialization.xavier_uniform", xavier)
    assert result.passed == 0
    assert result.errors[("small shapes, bounds", "W")] == 1.0
    assert any(line.startswith("    W: max |w| is ") and "every |w| must be <=" in line
               for line in result.lines)


def test_xavier_ignoring_the_kernel_fails_only_conv():
    def xavier(shape, rng):
        a = math.sqrt(6 / (shape[0] + shape[1]))
        return rng.uniform(-a, a, size=shape)

    result = run("initialization.xavier_uniform", xavier)
    assert result.errors[("large linear", "W")] < 0.02
    assert result.errors[("large conv", "W")] > 0.5


def test_constant_weights_fail():
    result = run("initialization.xavier_uniform", lambda shape, rng: np.zeros(shape))
    assert result.passed == 0
    assert any("every entry is 0: that is not a random sample" in line for line in result.lines)


def test_fans_without_the_kernel_size_fail():
    result = run("initialization.fans", lambda shape: (shape[1], shape[0]) if len(shape) > 2
                 else (shape[0], shape[1]))
    assert result.status == "wrong" and result.passed == 1


def test_fans_swapped_fail():
    result = run("initialization.fans", lambda shape: _fans(shape)[::-1])
    assert result.passed == 0


def test_softmax_bias_equal_to_c_fails_except_for_balanced_classes():
    result = run("initialization.softmax_bias", lambda c: np.array(c, dtype=np.float64))
    assert result.errors[("balanced classes", "b")] < 1e-12
    assert result.errors[("skewed classes", "b")] > 0.1
    assert result.passed == 1
    assert any(line.startswith("    b: softmax of your b is") for line in result.lines)


def test_softmax_bias_up_to_a_constant_passes():
    assert run("initialization.softmax_bias", lambda c: np.log(c) + 7.5)
    assert run("initialization.softmax_bias", lambda c: np.log(c) - np.log(c).mean())


@pytest.mark.parametrize("wrong", [
    lambda fan_in, negative_slope=0.0: 2 / ((1 + negative_slope**2) * fan_in),   # variance
    lambda fan_in, negative_slope=0.0: math.sqrt(1 / fan_in),                      # LeCun
    lambda fan_in, negative_slope=0.0: math.sqrt(2 / fan_in),                      # slope ignored
])
def test_he_std_wrong_answers(wrong):
    assert not run("initialization.he_std", wrong)


def test_he_std_value_for_512():
    assert ini.he_std(512) == pytest.approx(0.0625)


@pytest.mark.parametrize("wrong", [
    lambda var, negative_slope=0.0: var,                                     # factor 1
    lambda var, negative_slope=0.0: var / 4,
    lambda var, negative_slope=0.0: 0.5 * var,                               # slope ignored
])
def test_relu_second_moment_wrong_answers(wrong):
    assert not run("initialization.relu_second_moment", wrong)


def test_relu_second_moment_matches_monte_carlo():
    z = np.random.default_rng(0).normal(0.0, 1.5, size=2_000_000)
    for a in (0.0, 0.3):
        mc = np.mean(np.where(z > 0, z, a * z) ** 2)
        assert mc == pytest.approx(ini.relu_second_moment(1.5**2, a), rel=5e-3)


def test_initial_cross_entropy_is_the_loss_of_the_matching_bias():
    from dlcore.losses import CrossEntropyLoss

    c = np.array([0.5, 0.3, 0.15, 0.05])
    labels = np.repeat(np.arange(4), (c * 200).astype(int))
    logits = np.tile(ini.softmax_bias(c), (labels.size, 1))
    assert CrossEntropyLoss()(logits, labels) == pytest.approx(ini.initial_cross_entropy(c))
    assert ini.initial_cross_entropy(np.full(10, 0.1)) == pytest.approx(math.log(10))
    assert not run("initialization.initial_cross_entropy", lambda c: math.log(len(c)))


# ---------------------------------------------------------------- the `compare` hook

def _sum_and_order(expected, got):
    err = abs(float(np.sum(got)) - float(np.sum(expected))) / abs(float(np.sum(expected)))
    return err, f"sum {float(np.sum(got)):g}, expected {float(np.sum(expected)):g}"


HOOKED = Exercise("hooktest.shuffled", "shuffled",
                  lambda rng: [Case("vectors", (np.arange(1.0, 6.0),)),
                               Case("vectors", (np.arange(2.0, 9.0),))],
                  lambda x: x[::-1].copy(), ("y",), compare=_sum_and_order)


def test_compare_hook_replaces_the_elementwise_error():
    # Any order of the same numbers passes; the elementwise comparison would fail it.
    assert check(HOOKED, lambda x: np.roll(x, 2), verbose=False)
    assert not check(get_exercise("initialization.fans"), lambda s: (0, 0), verbose=False)
    result = check(HOOKED, lambda x: x + 1, verbose=False)
    assert result.status == "wrong"
    assert result.errors[("vectors", "y")] == pytest.approx(5 / 15)  # the worst case
    assert "    y: sum 20, expected 15" in result.lines


def test_compare_hook_runs_after_the_shape_and_nan_checks():
    bad_shape = check(HOOKED, lambda x: x[:-1], verbose=False)
    assert any("expected y of shape (5,), got (4,)" in line for line in bad_shape.lines)
    nan = check(HOOKED, lambda x: x * np.nan, verbose=False)
    assert any("contains nan" in line for line in nan.lines)


def test_exercises_without_the_hook_compare_elementwise():
    assert get_exercise("backprop.relu_backward").compare is None
    assert get_exercise("initialization.fans").compare is None


# ---------------------------------------------------------------- derived: fan_out, depth

def test_he_std_fan_out_reference_values():
    # conv (C_out, C_in, kH, kW) = (64, 3, 7, 7): fan_out = 64 * 49, gain sqrt(2) for ReLU.
    assert ini.he_std_fan_out((64, 3, 7, 7)) == pytest.approx(math.sqrt(2 / (64 * 49)), rel=1e-15)
    # a linear weight is (in, out) here: fan_out is its second dimension.
    assert ini.he_std_fan_out((100, 10), negative_slope=0.2) == pytest.approx(
        math.sqrt(2 / (1.04 * 10)), rel=1e-15)


def test_he_std_fan_out_wrong_answers():
    def fan_in_mode(shape, negative_slope=0.0):
        return math.sqrt(2 / ((1 + negative_slope**2) * _fans(shape)[0]))

    def no_slope(shape, negative_slope=0.0):
        return math.sqrt(2 / _fans(shape)[1])

    def channels_only(shape, negative_slope=0.0):      # forgets the kernel's kH * kW
        return math.sqrt(2 / ((1 + negative_slope**2) * shape[0 if len(shape) > 2 else 1]))

    wrong_mode = run("initialization.he_std_fan_out", fan_in_mode)
    assert wrong_mode.status == "wrong" and wrong_mode.passed == 0
    assert failed_line(wrong_mode, "he_std_fan_out", "std", "conv (C_out, C_in, kH, kW)")
    slope = run("initialization.he_std_fan_out", no_slope)
    assert slope.status == "wrong" and slope.passed == 0       # each group has a leaky case
    channels = run("initialization.he_std_fan_out", channels_only)
    assert channels.status == "wrong" and (channels.passed, channels.total) == (1, 2)
    assert failed_line(channels, "he_std_fan_out", "std", "conv (C_out, C_in, kH, kW)")


def test_relu_depth_std_reference_values():
    assert ini.relu_depth_std(1, 0.3, 50, first_std=2.0) == 2.0
    assert ini.relu_depth_std(10, math.sqrt(2 / 256), 256) == pytest.approx(1.0, rel=1e-14)
    # Xavier-like variance 1/n: the std halves every two layers, 2^-(19/2) after 20 layers.
    assert ini.relu_depth_std(20, math.sqrt(1 / 512), 512) == pytest.approx(2 ** -9.5, rel=1e-14)


def test_relu_depth_std_matches_a_simulation():
    rng = np.random.default_rng(0)
    n, depth, w_std = 400, 6, 0.08
    z = rng.standard_normal((2000, n))
    for _ in range(depth - 1):
        z = np.maximum(z, 0) @ (w_std * rng.standard_normal((n, n)))
    assert z.std() == pytest.approx(ini.relu_depth_std(depth, w_std, n), rel=0.05)


def test_relu_depth_std_wrong_answers():
    def off_by_one(depth, weight_std, fan_in, first_std=1.0):
        return first_std * math.sqrt(fan_in * weight_std**2 / 2) ** depth

    def no_half(depth, weight_std, fan_in, first_std=1.0):       # a linear net's factor
        return first_std * math.sqrt(fan_in * weight_std**2) ** (depth - 1)

    def variance_not_std(depth, weight_std, fan_in, first_std=1.0):
        return first_std * (fan_in * weight_std**2 / 2) ** (depth - 1)

    off = run("initialization.relu_depth_std", off_by_one)
    # At He's std the factor per layer is 1, so the exponent does not matter there.
    assert off.status == "wrong" and (off.passed, off.total) == (1, 4)
    assert failed_line(off, "relu_depth_std", "std", "one layer")
    half = run("initialization.relu_depth_std", no_half)
    assert half.status == "wrong" and (half.passed, half.total) == (1, 4)
    assert failed_line(half, "relu_depth_std", "std", "He's std: constant")
    var = run("initialization.relu_depth_std", variance_not_std)
    assert var.status == "wrong" and (var.passed, var.total) == (2, 4)
    assert failed_line(var, "relu_depth_std", "std", "Xavier-like std: shrinks")


# ---------------------------------------------------------------- derived: a truncated normal

def test_truncated_normal_std_reference_values():
    # Keras' and JAX's constant: "stddev of standard normal truncated to (-2, 2)"
    assert ini.truncated_normal_std(1.0, 2.0) == pytest.approx(0.87962566103423978, rel=1e-15)
    assert ini.truncated_normal_std(0.02, 2.0) == pytest.approx(0.02 * 0.87962566103423978, rel=1e-15)
    # k = 1: the closed form 1 - 2 phi(1) / erf(1/sqrt 2) = 0.291125... (std 0.5396)
    assert ini.truncated_normal_std(1.0, 1.0) ** 2 == pytest.approx(0.29112509, rel=1e-7)
    assert ini.truncated_normal_std(3.0, 12.0) == pytest.approx(3.0, rel=1e-15)   # nothing cut


def test_truncated_normal_std_matches_a_sample():
    rng = np.random.default_rng(0)
    sigma, k = 0.7, 1.5
    w = rng.normal(0.0, sigma, size=4_000_000)
    w = w[np.abs(w) <= k * sigma]
    assert w.std() == pytest.approx(ini.truncated_normal_std(sigma, k), rel=2e-3)


def untruncated(sigma, k):
    return sigma


def not_renormalised(sigma, k):
    phi = math.exp(-k * k / 2) / math.sqrt(2 * math.pi)
    return sigma * math.sqrt(1 - 2 * k * phi)


def variance_not_std(sigma, k):
    return ini.truncated_normal_std(sigma, k) ** 2


def cut_at_values(sigma, k):     # PyTorch's trunc_normal_ reading: cut-offs +-k, not +-k sigma
    c = k / sigma
    phi = math.exp(-c * c / 2) / math.sqrt(2 * math.pi)
    return sigma * math.sqrt(1 - 2 * c * phi / math.erf(c / math.sqrt(2)))


def uniform_bound_slip(sigma, k):  # the uniform slip carried over: std = bound / sqrt(3)
    return k * sigma / math.sqrt(3)


@pytest.mark.parametrize("wrong, hint", [
    (untruncated, "that is sigma, the std of the normal before the cut"),
    (not_renormalised, "divide the integral of z^2 phi(z) over [-k, k] by the kept mass"),
    (variance_not_std, "that is the variance: take its square root"),
    (cut_at_values, "the cut is at k standard deviations"),
])
def test_truncated_normal_std_classic_slips_fail_with_their_hint(wrong, hint):
    result = run("initialization.truncated_normal_std", wrong)
    assert result.status == "wrong"
    shown = hint_lines(result)
    assert len(shown) >= 1 and all(hint in h for h in shown), shown


def test_truncated_normal_std_slips_fail_every_group():
    for wrong in (untruncated, not_renormalised, variance_not_std, uniform_bound_slip):
        assert run("initialization.truncated_normal_std", wrong).passed == 0, wrong.__name__
    # cutting at the values +-k is right only where sigma = 1 (the first case)
    values = run("initialization.truncated_normal_std", cut_at_values)
    assert values.passed == 0 and failed_line(values, "truncated_normal_std", "std", "other cuts")


def test_truncated_normal_std_an_unknown_slip_gets_no_special_hint():
    result = run("initialization.truncated_normal_std", uniform_bound_slip)
    assert not any("sigma" in h or "kept mass" in h for h in hint_lines(result))


# ---------------------------------------------------------------- hints for the classic slips

def _uniform(shape, rng, bound):
    return rng.uniform(-bound, bound, size=shape)


def xavier_bound_is_std(shape, rng):
    return _uniform(shape, rng, math.sqrt(2 / sum(_fans(shape))))


def xavier_normal_draw(shape, rng):
    return rng.standard_normal(shape) * math.sqrt(2 / sum(_fans(shape)))


def xavier_fan_in_only(shape, rng):
    return _uniform(shape, rng, math.sqrt(6 / _fans(shape)[0]))


def he_variance_as_std(shape, rng):
    return rng.standard_normal(shape) * (2 / _fans(shape)[0])


def he_fan_out(shape, rng):
    return rng.standard_normal(shape) * math.sqrt(2 / _fans(shape)[1])


def he_lecun(shape, rng):
    return rng.standard_normal(shape) * math.sqrt(1 / _fans(shape)[0])


def he_uniform_draw(shape, rng):
    return _uniform(shape, rng, math.sqrt(6 / _fans(shape)[0]))


SLIPS = [
    ("fans", lambda s: (s[1], s[0]) if len(s) == 2 else _fans(s), "PyTorch stores it as"),
    ("fans", lambda s: (s[0], s[1]) if len(s) == 2 else (s[1], s[0]), "multiply the channels by"),
    ("fans", lambda s: _fans(s) if len(s) == 2 else _fans(s)[::-1], "output channels first"),
    ("xavier_uniform", xavier_bound_is_std, "r is the bound, not the standard deviation"),
    ("xavier_uniform", xavier_normal_draw, "normal tails"),
    ("xavier_uniform", xavier_fan_in_only, "averages the two fans"),
    ("he_normal", he_variance_as_std, "your std is a variance"),
    ("he_normal", he_fan_out, "that is the fan_out std"),
    ("he_normal", he_lecun, "LeCun's"),
    ("he_normal", he_uniform_draw, "kurtosis is a uniform's"),
    ("he_std", lambda n, negative_slope=0.0: 2 / ((1 + negative_slope**2) * n), "that is the variance"),
    ("he_std", lambda n, negative_slope=0.0: math.sqrt(1 / ((1 + negative_slope**2) * n)), "LeCun's std"),
    ("he_std", lambda n, negative_slope=0.0: math.sqrt(2 / ((1 + negative_slope) * n)), "enters squared"),
    ("he_std", lambda n, negative_slope=0.0: math.sqrt(2 / n), "keeps a^2 of its variance"),
    ("relu_second_moment", lambda v, negative_slope=0.0: (1 + negative_slope**2) * v, "twice the answer"),
    ("relu_second_moment", lambda v, negative_slope=0.0: 0.5 * (1 + negative_slope) * v, "enters squared"),
    ("relu_second_moment", lambda v, negative_slope=0.0: 0.5 * v, "does not zero the negative half"),
    ("relu_second_moment", lambda v, negative_slope=0.0: 0.5 * (1 + negative_slope**2) * math.sqrt(v),
     "already the variance"),
    ("softmax_bias", lambda c: np.asarray(c, dtype=np.float64), "take the log, b = log c"),
    ("initial_cross_entropy", lambda c: math.log(len(c)), "that is log C"),
    ("initial_cross_entropy", lambda c: float(-np.sum(c * np.log2(c))), "in bits"),
    ("he_std_fan_out", lambda s, negative_slope=0.0: math.sqrt(2 / ((1 + negative_slope**2) * _fans(s)[0])),
     "that is the fan_in std"),
    ("he_std_fan_out", lambda s, negative_slope=0.0: math.sqrt(
        2 / ((1 + negative_slope**2) * (s[0] if len(s) > 2 else s[1]))), "include the kernel size"),
    ("he_std_fan_out", lambda s, negative_slope=0.0: 2 / ((1 + negative_slope**2) * _fans(s)[1]),
     "that is the variance"),
    ("relu_depth_std", lambda d, w, n, first_std=1.0: first_std * math.sqrt(n * w * w / 2) ** d,
     "count the layers"),
    ("relu_depth_std", lambda d, w, n, first_std=1.0: first_std * math.sqrt(n * w * w) ** (d - 1),
     "each ReLU keeps half"),
    ("relu_depth_std", lambda d, w, n, first_std=1.0: first_std * (n * w * w / 2) ** (d - 1),
     "that is a variance"),
]


def _hint_text(result):
    """Every 'hint: ...' in the failure lines, whether on its own line or after a note."""
    return [line.split("hint: ", 1)[1] for line in result.lines if "hint: " in line]


@pytest.mark.parametrize("name, wrong, hint", SLIPS, ids=[f"{n}-{h[:24]}" for n, _, h in SLIPS])
def test_classic_slips_fail_with_their_hint(name, wrong, hint):
    result = run(f"initialization.{name}", wrong)
    assert result.status == "wrong"
    found = _hint_text(result)
    assert len(found) == 1 and hint in found[0], found


def test_each_slip_gets_only_its_own_hint():
    # the hints of one exercise are distinct: no slip's answer triggers another slip's sentence
    for name in {n for n, _, _ in SLIPS}:
        own = [h for n, _, h in SLIPS if n == name]
        for n, wrong, hint in SLIPS:
            if n != name:
                continue
            found = _hint_text(run(f"initialization.{name}", wrong))
            assert not any(other in found[0] for other in own if other != hint), (name, hint, found)


def test_an_unrecognised_slip_gets_no_special_hint():
    def he_three_times(shape, rng):
        return 3 * rng.standard_normal(shape) * math.sqrt(2 / _fans(shape)[0])

    assert _hint_text(run("initialization.he_normal", he_three_times)) == []
    assert _hint_text(run("initialization.he_std", lambda n, negative_slope=0.0: 0.1)) == []
    assert _hint_text(run("initialization.fans", lambda s: (1, 1))) == []
