"""Chapter 3, initialisation: the exercises and their cases.

Initialisers return random samples, so no two correct answers agree entry by entry. They are
graded by statistics of a large sample instead (`compare_init_sample`): the root mean square
against the target standard deviation, the mean, the kurtosis (1.8 for a uniform, 3 for a
normal distribution) and, for uniform ones, the largest |w| against the exact bound. With
half a million entries a correct sampler is off by ~0.1-0.3% (the kurtosis of a normal sample
by up to ~0.3%), so a tolerance of 2% sits ~9 standard errors above the noise, and far below
what a wrong formula gives: a factor sqrt(2) in the std is 41%, a uniform instead of a
normal 40% in the kurtosis. The softmax bias is defined up to an added constant, so it is
compared after a softmax (`compare_after_softmax`). Everything else is exact arithmetic.

Each exercise names its classic slips in a hint (a variance taken for a standard deviation,
LeCun's 1/fan_in for He's 2/fan_in, PyTorch's (out, in) layout, a uniform's bound taken for
its std, ...): registry hints for exact answers, sentences added to the note for samples.
"""
import math

import numpy as np

from ...functional import softmax
from ...init import calculate_gain, compute_fans
from ..registry import DEFAULT_TOLERANCE, Case, Exercise, register

PREFIX = "initialization."

# Samples of at least this many entries are graded by their statistics; smaller ones (and
# every sample's bounds) only by what holds for each entry.
MIN_STATISTICS_SIZE = 100_000
STATISTICS_TOLERANCE = 2e-2


def _seeded_rng(rng):
    """A fresh Generator for the learner's sampler, seeded from the case generator."""
    return np.random.default_rng(int(rng.integers(2**32)))


# ---------------------------------------------------------------- fans

def fans(shape):
    """(fan_in, fan_out) of a weight: (in, out) for a linear layer, (C_out, C_in, kH, kW) for a conv."""
    fan_in, fan_out = compute_fans(shape)
    return fan_in, fan_out


def _fans_cases(rng):
    def dims(*ranges):
        return tuple(int(rng.integers(lo, hi)) for lo, hi in ranges)

    return [
        Case("linear (in, out)", (dims((2, 600), (2, 600)),)),
        Case("linear (in, out)", (dims((2, 50), (50, 100)),)),   # in != out, both orders
        Case("conv (C_out, C_in, kH, kW)", (dims((2, 128), (2, 128), (3, 4), (3, 4)),)),
        Case("conv (C_out, C_in, kH, kW)", (dims((2, 64), (2, 64), (5, 6), (2, 3)),)),  # kH != kW
        Case("conv (C_out, C_in, kH, kW)", (dims((2, 64), (2, 64), (1, 2), (1, 2)),)),  # 1x1
    ]


# ---------------------------------------------------------------- samples graded by statistics

def _target_xavier_uniform(shape):
    fan_in, fan_out = compute_fans(shape)
    bound = math.sqrt(6.0 / (fan_in + fan_out))
    return bound / math.sqrt(3.0), 1.8, bound      # std, kurtosis, bound


def _target_he_normal(shape):
    fan_in, _ = compute_fans(shape)
    return math.sqrt(2.0 / fan_in), 3.0, None


def sample_statistics(w):
    """(rms, mean, kurtosis, max |w|) of a sample, in float64."""
    w = np.asarray(w, dtype=np.float64).ravel()
    second = float(np.mean(w * w))
    fourth = float(np.mean(w**4))
    kurtosis = fourth / second**2 if second > 0 else float("inf")
    return math.sqrt(second), float(np.mean(w)), kurtosis, float(np.max(np.abs(w)))


def compare_init_sample(target, hints=()):
    """A `compare` for samplers: target(shape) -> (std, kurtosis, bound or None).

    The error is the largest relative deviation of the sample from the target among:
    rms / std - 1, |mean| / std, kurtosis / target - 1 and, for a bounded distribution,
    1 - max|w| / bound (the largest of 100,000 uniform draws is within ~1e-4 of the bound);
    these only for large samples. An entry above the bound is not a matter of statistics: it
    fails any sample with an error of 1 (1e-6 of slack lets float32 rounding through), and
    so does a sample whose entries are all equal.

    hints: (sentence, predicate(shape, sample)) pairs for classic slips; the first that holds
    on a failing sample is added to the note ("hint: ..."), since a compared sample is not
    kept for the registry's own hints.
    """
    def with_hint(err, note, shape, got):
        if err < STATISTICS_TOLERANCE:
            return err, note
        sample = np.asarray(got, dtype=np.float64)
        for sentence, predicate in hints:
            if predicate(shape, sample):
                return err, f"{note}; hint: {sentence}"
        return err, note

    def compare(expected, got):
        return with_hint(*measure(expected, got), tuple(expected.shape), got)

    def measure(expected, got):
        std, kurt, bound = target(expected.shape)
        rms, mean, kurtosis, top = sample_statistics(got)
        shape = tuple(expected.shape)
        if bound is not None and top > bound * (1 + 1e-6):
            return 1.0, (f"max |w| is {top:.6g}, but for shape {shape} every |w| must be "
                         f"<= {bound:.6g}")
        if got.size > 1 and np.all(got == got.flat[0]):
            return 1.0, f"every entry is {float(got.flat[0]):.4g}: that is not a random sample"
        if got.size < MIN_STATISTICS_SIZE:
            return 0.0, None   # too few entries for statistics; shape and bounds are right
        parts = {"std": abs(rms / std - 1), "mean": abs(mean) / std,
                 "kurtosis": abs(kurtosis / kurt - 1)}
        if bound is not None:
            parts["max |w|"] = 1 - top / bound
        worst = max(parts, key=parts.get)
        note = (f"your sample: std {rms:.4g}, mean {mean:.2g}, kurtosis {kurtosis:.3g}, "
                f"max |w| {top:.4g}; expected for shape {shape}: std {std:.4g}, mean 0, "
                f"kurtosis {kurt:g}" + (f", every |w| <= {bound:.4g}" if bound else "")
                + f" (worst: {worst})")
        return parts[worst], note

    return compare


def xavier_uniform(shape, rng):
    """U(-a, a), a = sqrt(6 / (fan_in + fan_out)): shape (in, out) or (C_out, C_in, kH, kW)."""
    _, _, bound = _target_xavier_uniform(shape)
    return rng.uniform(-bound, bound, size=shape)


def he_normal(shape, rng):
    """N(0, 2 / fan_in): std sqrt(2 / fan_in), for layers followed by a ReLU."""
    std, _, _ = _target_he_normal(shape)
    return rng.standard_normal(shape) * std


def _init_cases(rng, small):
    cases = [
        Case("large linear", ((1024, 512), _seeded_rng(rng))),   # in != out catches swapped fans
        Case("large conv", ((256, 128, 5, 5), _seeded_rng(rng))),
    ]
    if small:
        cases.append(Case("small shapes, bounds", ((3, 7), _seeded_rng(rng))))
        cases.append(Case("small shapes, bounds", ((4, 2, 3, 3), _seeded_rng(rng))))
    return cases


def _xavier_cases(rng):
    return _init_cases(rng, small=True)


def _he_cases(rng):
    return _init_cases(rng, small=False)


# ---------------------------------------------------------------- he_std

def he_std(fan_in, negative_slope=0.0):
    """The standard deviation of He's normal init: sqrt(2 / ((1 + a^2) fan_in))."""
    return math.sqrt(2.0 / ((1.0 + negative_slope**2) * fan_in))


def _he_std_cases(rng):
    return [
        Case("ReLU", (512,)),
        Case("ReLU", (int(rng.integers(3, 5000)),)),
        Case("leaky ReLU", (256,), {"negative_slope": 0.2}),
        Case("leaky ReLU", (int(rng.integers(3, 5000)),),
             {"negative_slope": float(rng.uniform(0.05, 0.9))}),
    ]


# ---------------------------------------------------------------- the ReLU variance factor

def relu_second_moment(var, negative_slope=0.0):
    """E[f(z)^2] for z ~ N(0, var) and f leaky ReLU with slope a (ReLU: a = 0): (1 + a^2) var / 2."""
    return 0.5 * (1.0 + negative_slope**2) * var


def _relu_second_moment_cases(rng):
    return [
        Case("ReLU", (1.0,)),
        Case("ReLU", (float(rng.uniform(0.1, 10.0)),)),
        Case("leaky ReLU", (1.0,), {"negative_slope": 0.01}),
        Case("leaky ReLU", (float(rng.uniform(0.1, 10.0)),),
             {"negative_slope": float(rng.uniform(0.05, 0.9))}),
    ]


# ---------------------------------------------------------------- the output bias

def softmax_bias(class_freq):
    """b (C,) with softmax(b) = class_freq (C,): b = log(class_freq) (plus any constant)."""
    return np.log(np.asarray(class_freq, dtype=np.float64))


def compare_after_softmax(expected, got):
    """A `compare` for biases defined up to a constant: relative error of softmax(b)."""
    p_exp, p_got = softmax(np.asarray(expected, np.float64)), softmax(np.asarray(got, np.float64))
    err = float(np.max(np.abs(p_exp - p_got) / np.maximum(p_exp + p_got, 1e-12)))
    note = (f"softmax of your b is [{', '.join(f'{v:.4g}' for v in p_got[:5])}"
            f"{', ...' if p_got.size > 5 else ''}], the class frequencies are "
            f"[{', '.join(f'{v:.4g}' for v in p_exp[:5])}{', ...' if p_exp.size > 5 else ''}]")
    if err >= DEFAULT_TOLERANCE and np.allclose(got, p_exp, rtol=1e-9, atol=0):
        note += ("; hint: b = c gives softmax(c), which is not c: softmax exponentiates, so "
                 "take the log, b = log c")
    return err, note


def _frequencies(rng, c, concentration):
    return rng.dirichlet(np.full(c, concentration))


def _softmax_bias_cases(rng):
    return [
        Case("balanced classes", (np.full(10, 0.1),)),
        Case("skewed classes", (_frequencies(rng, 10, 1.0),)),
        Case("skewed classes", (_frequencies(rng, 5, 0.5),)),
        Case("two classes", (np.array([0.95, 0.05]),)),
    ]


# ---------------------------------------------------------------- the loss at initialisation

def initial_cross_entropy(class_freq):
    """Expected cross-entropy when the model predicts class_freq for every input: H(c) = -sum c log c."""
    c = np.asarray(class_freq, dtype=np.float64)
    nz = c > 0
    return float(-np.sum(c[nz] * np.log(c[nz])))


def _initial_ce_cases(rng):
    return [
        Case("balanced classes", (np.full(10, 0.1),)),
        Case("balanced classes", (np.full(4, 0.25),)),
        Case("skewed classes", (_frequencies(rng, 10, 1.0),)),
        Case("skewed classes", (np.array([0.95, 0.05]),)),
    ]


# ---------------------------------------------------------------- derived: fan_out mode, depth

def he_std_fan_out(shape, negative_slope=0.0):
    """He's normal std in fan_out mode (PyTorch's mode="fan_out") for a weight of `shape`.

    gain / sqrt(fan_out), gain = sqrt(2 / (1 + a^2)): keeps the variance of the gradients
    in the backward pass, where each input of a conv receives C_out * kH * kW terms.
    """
    _fan_in, fan_out = compute_fans(shape)
    return calculate_gain("leaky_relu", negative_slope) / math.sqrt(fan_out)


def _he_fan_out_cases(rng):
    def dims(*ranges):
        return tuple(int(rng.integers(lo, hi)) for lo, hi in ranges)

    return [
        Case("conv (C_out, C_in, kH, kW)", (dims((2, 128), (130, 256), (3, 4), (3, 4)),)),
        Case("conv (C_out, C_in, kH, kW)", (dims((130, 256), (2, 64), (5, 6), (2, 3)),),
             {"negative_slope": 0.2}),
        Case("linear (in, out)", (dims((2, 50), (60, 300)),)),
        Case("linear (in, out)", (dims((300, 600), (2, 50)),), {"negative_slope": 0.1}),
    ]


def relu_depth_std(depth, weight_std, fan_in, first_std=1.0):
    """Std of the pre-activation z_depth of a bias-free ReLU net, z_1 having std `first_std`.

    z_{l+1} = W relu(z_l) with W's entries iid N(0, weight_std^2) over `fan_in` inputs:
    Var z_{l+1} = fan_in weight_std^2 Var(z_l) / 2, so the std is
    first_std * (fan_in weight_std^2 / 2) ** ((depth - 1) / 2).
    """
    per_layer = fan_in * weight_std**2 * relu_second_moment(1.0)
    return first_std * per_layer ** ((depth - 1) / 2.0)


def _relu_depth_cases(rng):
    n = int(rng.integers(64, 1024))
    return [
        Case("one layer", (1, 0.1, 100), {"first_std": 2.0}),
        Case("He's std: constant", (10, math.sqrt(2.0 / n), n)),
        Case("Xavier-like std: shrinks", (int(rng.integers(8, 30)), math.sqrt(1.0 / n), n)),
        Case("too large: grows", (int(rng.integers(5, 20)), 0.1, 512),
             {"first_std": float(rng.uniform(0.5, 2.0))}),
    ]


# ---------------------------------------------------------------- derived: a truncated normal

def _normal_pdf(x):
    return math.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


def truncated_normal_std(sigma, k):
    """Std of N(0, sigma^2) with every value beyond k * sigma cut off (and redrawn).

    The kept mass is 2 Phi(k) - 1 = erf(k / sqrt 2) and, integrating by parts,
    int_{-k}^{k} z^2 phi(z) dz = erf(k / sqrt 2) - 2 k phi(k), so the std is
    sigma * sqrt(1 - 2 k phi(k) / erf(k / sqrt 2)) (0.8796 sigma for TensorFlow's k = 2).
    """
    mass = math.erf(k / math.sqrt(2.0))
    return sigma * math.sqrt(1.0 - 2.0 * k * _normal_pdf(k) / mass)


def _truncated_std_cases(rng):
    return [
        Case("TensorFlow's cut, k = 2", (1.0, 2.0)),
        Case("TensorFlow's cut, k = 2", (float(rng.uniform(0.01, 0.5)), 2.0)),
        Case("other cuts", (float(rng.uniform(0.05, 3.0)), float(rng.uniform(0.5, 1.5)))),
        Case("other cuts", (float(rng.uniform(0.05, 3.0)), float(rng.uniform(2.5, 4.0)))),
    ]


def _hint_untruncated(case, name, expected, got):
    sigma, _k = case.args
    return np.allclose(got, sigma, rtol=1e-9, atol=0)


def _hint_not_renormalised(case, name, expected, got):
    sigma, k = case.args
    return np.allclose(got, sigma * math.sqrt(1.0 - 2.0 * k * _normal_pdf(k)), rtol=1e-9, atol=0)


def _hint_variance(case, name, expected, got):
    return np.allclose(got, expected**2, rtol=1e-9, atol=0)


def _hint_absolute_cut(case, name, expected, got):
    sigma, k = case.args
    c = k / sigma                       # the cut at +-k, as if k were a value, not a multiple
    mass = math.erf(c / math.sqrt(2.0))
    return np.allclose(got, sigma * math.sqrt(1.0 - 2.0 * c * _normal_pdf(c) / mass),
                       rtol=1e-9, atol=0)


TRUNCATED_STD_HINTS = (
    (("that is sigma, the std of the normal before the cut: removing the tails removes the "
      "largest |w|, so the std must be smaller"), _hint_untruncated),
    (("the density of the truncated normal is phi(z) / P(|z| <= k): divide the integral of "
      "z^2 phi(z) over [-k, k] by the kept mass erf(k / sqrt(2))"), _hint_not_renormalised),
    ("that is the variance: take its square root", _hint_variance),
    (("the cut is at k standard deviations (+-k sigma), not at the values +-k "
      "(PyTorch's trunc_normal_ takes values; TensorFlow's cuts at 2 sigma)"), _hint_absolute_cut),
)


# ---------------------------------------------------------------- hints for the classic slips
# Each predicate recognises one slip from the numbers a failing case shows (the case's
# arguments, the reference's output `expected` and the learner's `got`, float64 arrays); the
# first that holds is printed under the failure. Ratios are matched to 1e-9 for exact answers,
# and to 3% for statistics of samples (a correct sampler is within ~0.3%).

def _is(got, value, rtol=1e-9):
    return bool(np.allclose(got, value, rtol=rtol, atol=0))


def _hint_fans_pytorch_layout(case, name, expected, got):
    shape = case.args[0]
    return len(shape) == 2 and _is(got, shape[1] if name == "fan_in" else shape[0])


def _hint_fans_without_kernel(case, name, expected, got):
    shape = case.args[0]
    return len(shape) > 2 and _is(got, shape[1] if name == "fan_in" else shape[0])


def _hint_fans_conv_swapped(case, name, expected, got):
    shape = case.args[0]
    fan_in, fan_out = compute_fans(shape)
    return len(shape) > 2 and _is(got, fan_out if name == "fan_in" else fan_in)


FANS_HINTS = (
    (("a linear weight here is (n_in, n_out), dlcore's layout: fan_in = shape[0]. PyTorch "
      "stores it as (out_features, in_features), so its fan_in is shape[1]: same number, "
      "other index"), _hint_fans_pytorch_layout),
    (("each output of a convolution sums over C_in * kH * kW inputs (and each input feeds "
      "C_out * kH * kW outputs): multiply the channels by the kernel size"),
     _hint_fans_without_kernel),
    (("fan_in and fan_out are swapped: the layout is (C_out, C_in, kH, kW), output channels "
      "first, so fan_in uses shape[1]"), _hint_fans_conv_swapped),
)


def _sample_ratio(shape, got, target):
    """rms of the learner's sample over the target std, or None for a small sample."""
    if got.size < MIN_STATISTICS_SIZE:
        return None
    return math.sqrt(float(np.mean(got * got))) / target(shape)[0]


def _kurtosis(got):
    second = float(np.mean(got * got))
    return float(np.mean(got**4)) / second**2 if second > 0 else float("inf")


def _near(ratio, value):
    return ratio is not None and abs(ratio / value - 1) < 0.03


def _hint_xavier_bound_is_std(shape, got):
    return _near(_sample_ratio(shape, got, _target_xavier_uniform), math.sqrt(1 / 3))


def _hint_xavier_one_fan(shape, got):
    ratio = _sample_ratio(shape, got, _target_xavier_uniform)
    fan_in, fan_out = compute_fans(shape)
    total = fan_in + fan_out
    return any(_near(ratio, math.sqrt(total / (m * fan)))
               for fan in (fan_in, fan_out) for m in (1, 2))


def _hint_xavier_normal(shape, got):
    return got.size >= 1000 and _kurtosis(got) > 2.5


XAVIER_HINTS = (
    (("your sample has normal tails (kurtosis near 3): Xavier uniform draws from "
      "rng.uniform(-r, r), which never goes beyond r"), _hint_xavier_normal),
    (("the std is sqrt(1/3) of the target: r is the bound, not the standard deviation. "
      "U(-r, r) has variance r^2 / 3, so r = sqrt(3 Var) = sqrt(6 / (fan_in + fan_out))"),
     _hint_xavier_bound_is_std),
    (("Xavier's variance averages the two fans: 2 / (fan_in + fan_out), not a variance from "
      "fan_in or fan_out alone"), _hint_xavier_one_fan),
)


def _hint_he_variance_as_std(shape, got):
    ratio = _sample_ratio(shape, got, _target_he_normal)
    fan_in, _ = compute_fans(shape)
    return any(_near(ratio, (c / fan_in) / math.sqrt(2.0 / fan_in)) for c in (1.0, 2.0))


def _hint_he_no_two(shape, got):
    return _near(_sample_ratio(shape, got, _target_he_normal), math.sqrt(0.5))


def _hint_he_fan_out(shape, got):
    fan_in, fan_out = compute_fans(shape)
    return _near(_sample_ratio(shape, got, _target_he_normal), math.sqrt(fan_in / fan_out))


def _hint_he_uniform(shape, got):
    return (_near(_sample_ratio(shape, got, _target_he_normal), 1.0)
            and abs(_kurtosis(got) / 1.8 - 1) < 0.05)


HE_NORMAL_HINTS = (
    (("your std is a variance: 2 / fan_in is the variance, and numpy's generators take the "
      "standard deviation, sqrt(2 / fan_in)"), _hint_he_variance_as_std),
    (("the variance is 1 / fan_in (LeCun's), half of He's 2 / fan_in: the 2 puts back the "
      "half of the variance a ReLU zeroes"), _hint_he_no_two),
    (("that is the fan_out std: He's default divides by fan_in, shape[0] for a linear "
      "(in, out) weight, C_in * kH * kW for a convolution"), _hint_he_fan_out),
    (("the std is right but the sample's kurtosis is a uniform's (1.8): he_normal draws from a "
      "normal, rng.standard_normal(shape) * std"), _hint_he_uniform),
)


def _slope(case):
    return float(case.kwargs.get("negative_slope", case.args[1] if len(case.args) > 1 else 0.0))


def _hint_variance_not_std(case, name, expected, got):
    return _is(got, expected**2)


def _hint_he_std_no_two(case, name, expected, got):
    return _is(got, expected / math.sqrt(2.0))


def _hint_slope_not_squared(case, name, expected, got):
    a = _slope(case)
    return a > 0 and _is(got, expected * math.sqrt((1 + a**2) / (1 + a)))


def _hint_slope_ignored(case, name, expected, got):
    a = _slope(case)
    return a > 0 and _is(got, expected * math.sqrt(1 + a**2))


HE_STD_HINTS = (
    (("that is the variance 2 / ((1 + a^2) fan_in): the standard deviation is its square "
      "root"), _hint_variance_not_std),
    (("that is sqrt(1 / fan_in), LeCun's std: He's variance is 2 / fan_in, the 2 putting back "
      "the half a ReLU zeroes"), _hint_he_std_no_two),
    ("the slope enters squared: a leaky ReLU's variance factor is (1 + a^2) / 2, not (1 + a) / 2",
     _hint_slope_not_squared),
    (("with a leaky ReLU the negative half keeps a^2 of its variance: divide by (1 + a^2) "
      "fan_in"), _hint_slope_ignored),
)


def _hint_second_moment_no_half(case, name, expected, got):
    return _is(got, 2.0 * expected)


def _hint_second_moment_slope_not_squared(case, name, expected, got):
    a = _slope(case)
    return a > 0 and _is(got, expected * (1 + a) / (1 + a**2))


def _hint_second_moment_slope_ignored(case, name, expected, got):
    a = _slope(case)
    return a > 0 and _is(got, expected / (1 + a**2))


def _hint_second_moment_std(case, name, expected, got):
    var = float(case.args[0])
    return var != 1.0 and _is(got, expected / math.sqrt(var))


RELU_SECOND_MOMENT_HINTS = (
    (("twice the answer: by symmetry each half of the real line carries half of E[z^2], so "
      "the positive half gives var / 2 and the negative half a^2 var / 2"),
     _hint_second_moment_no_half),
    ("(a z)^2 = a^2 z^2: the slope enters squared", _hint_second_moment_slope_not_squared),
    (("a leaky ReLU does not zero the negative half: it keeps a z there, which adds "
      "a^2 var / 2"), _hint_second_moment_slope_ignored),
    (("`var` is already the variance sigma^2 = E[z^2]: the answer is proportional to var, "
      "not to its square root"), _hint_second_moment_std),
)


def _hint_log_c(case, name, expected, got):
    return _is(got, math.log(np.asarray(case.args[0]).size))


def _hint_log2(case, name, expected, got):
    return _is(got, expected / math.log(2.0))


INITIAL_CE_HINTS = (
    (("that is log C, the loss of a uniform prediction (b = 0): with b = log c the model "
      "predicts c, and its expected loss is the entropy -sum c log c"), _hint_log_c),
    ("that is in bits (log2): cross-entropy losses use the natural log", _hint_log2),
)


def _hint_fan_out_used_fan_in(case, name, expected, got):
    fan_in, fan_out = compute_fans(case.args[0])
    return _is(got, expected * math.sqrt(fan_out / fan_in))


def _hint_fan_out_without_kernel(case, name, expected, got):
    shape = case.args[0]
    return len(shape) > 2 and _is(got, expected * math.sqrt(math.prod(shape[2:])))


FAN_OUT_HINTS = (
    (("that is the fan_in std: in the backward pass an input's gradient sums over the outputs "
      "it feeds, fan_out = shape[1] for a linear (in, out) weight (PyTorch's (out, in) weight "
      "reads shape[0]) and C_out * kH * kW for a convolution"), _hint_fan_out_used_fan_in),
    (("each input of a convolution feeds C_out * kH * kW outputs: include the kernel size in "
      "fan_out"), _hint_fan_out_without_kernel),
    (("that is the variance 2 / ((1 + a^2) fan_out): the standard deviation is its square "
      "root"), _hint_variance_not_std),
)


def _depth_args(case):
    depth, weight_std, fan_in = case.args
    first = float(case.kwargs.get("first_std", 1.0))
    return int(depth), float(weight_std), int(fan_in), first


def _hint_depth_off_by_one(case, name, expected, got):
    depth, w, n, first = _depth_args(case)
    g = math.sqrt(n * w * w / 2)
    return abs(g - 1) > 1e-6 and any(_is(got, first * g ** (depth - 1 + s)) for s in (1, -1))


def _hint_depth_no_half(case, name, expected, got):
    depth, w, n, first = _depth_args(case)
    return depth > 1 and _is(got, first * math.sqrt(n * w * w) ** (depth - 1))


def _hint_depth_variance(case, name, expected, got):
    depth, w, n, first = _depth_args(case)
    factor = n * w * w / 2
    return (depth > 1 and abs(factor - 1) > 1e-6
            and (_is(got, first * factor ** (depth - 1)) or _is(got, expected**2)))


RELU_DEPTH_HINTS = (
    (("count the layers: z_1 is given, so z_depth is depth - 1 layers further, and the factor "
      "per layer is raised to depth - 1"), _hint_depth_off_by_one),
    (("each ReLU keeps half of E[z^2] (exercise 5): a layer multiplies the variance by "
      "fan_in * weight_std^2 / 2, not fan_in * weight_std^2"), _hint_depth_no_half),
    (("that is a variance (or a variance factor per layer): the std is multiplied by the "
      "square root of fan_in * weight_std^2 / 2 per layer"), _hint_depth_variance),
)


# ---------------------------------------------------------------- the registry entries

EXERCISES = [
    register(Exercise(PREFIX + "fans", "fans", _fans_cases, fans, ("fan_in", "fan_out"),
                      hints=FANS_HINTS)),
    register(Exercise(PREFIX + "xavier_uniform", "xavier_uniform", _xavier_cases,
                      xavier_uniform, ("W",), tolerance=STATISTICS_TOLERANCE,
                      compare=compare_init_sample(_target_xavier_uniform, XAVIER_HINTS))),
    register(Exercise(PREFIX + "he_normal", "he_normal", _he_cases, he_normal, ("W",),
                      tolerance=STATISTICS_TOLERANCE,
                      compare=compare_init_sample(_target_he_normal, HE_NORMAL_HINTS))),
    register(Exercise(PREFIX + "he_std", "he_std", _he_std_cases, he_std, ("std",),
                      hints=HE_STD_HINTS)),
    register(Exercise(PREFIX + "relu_second_moment", "relu_second_moment",
                      _relu_second_moment_cases, relu_second_moment, ("second_moment",),
                      hints=RELU_SECOND_MOMENT_HINTS)),
    register(Exercise(PREFIX + "softmax_bias", "softmax_bias", _softmax_bias_cases,
                      softmax_bias, ("b",), compare=compare_after_softmax)),
    register(Exercise(PREFIX + "initial_cross_entropy", "initial_cross_entropy",
                      _initial_ce_cases, initial_cross_entropy, ("loss",),
                      hints=INITIAL_CE_HINTS)),
    register(Exercise(PREFIX + "he_std_fan_out", "he_std_fan_out", _he_fan_out_cases,
                      he_std_fan_out, ("std",), hints=FAN_OUT_HINTS)),
    register(Exercise(PREFIX + "relu_depth_std", "relu_depth_std", _relu_depth_cases,
                      relu_depth_std, ("std",), hints=RELU_DEPTH_HINTS)),
    register(Exercise(PREFIX + "truncated_normal_std", "truncated_normal_std",
                      _truncated_std_cases, truncated_normal_std, ("std",),
                      hints=TRUNCATED_STD_HINTS)),
]
