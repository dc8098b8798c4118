"""Chapter 5, learning-rate schedules: the exercises and their cases.

Each exercise is one schedule as a function of the step, `f(..., t) -> float` for an integer
t >= 0, with dlcore.schedules as the reference (so the book's library and the graded answers
agree by construction). The cases sit where the classic slips show: t = 0, a step boundary
hit exactly (t = step_size, where a floor division has already counted one decay), the
middle and the end of a cosine (t = T_max/2, t = T_max), the rising half of a triangular
cycle (where a missing abs() gives rates above max_lr), the last warm-up step and the first
step after it. Exact arithmetic: the default tolerance (relative error 1e-7). Each exercise
has hints that recognise its classic slips from the numbers (a predicate per slip, called on a
failing output: the slip's formula gives exactly what the learner returned).
"""
import math

import numpy as np

from ... import schedules as S
from ..registry import Case, Exercise, register

PREFIX = "schedules."


def _lr0(rng):
    return float(rng.choice([0.1, 0.05, 1.0, 0.3]) * rng.uniform(0.5, 2.0))


def _ints(rng, low, high, n):
    """n integers drawn from [low, high) (high exclusive), as Python ints."""
    return [int(v) for v in rng.integers(low, high, size=n)]


# ---------------------------------------------------------------- step decay

def step_decay(lr0, step_size, gamma, t):
    """lr0 * gamma ** floor(t / step_size): multiplied by gamma every step_size steps."""
    return S.StepDecay(lr0, step_size, gamma).lr_at(t)


def _step_cases(rng):
    cases = []
    for _ in range(2):
        lr0, s, g = _lr0(rng), int(rng.integers(2, 12)), float(rng.uniform(0.1, 0.9))
        cases += [Case("t = 0", (lr0, s, g, 0)),
                  Case("t = step_size exactly", (lr0, s, g, s)),
                  Case("t a later multiple of step_size", (lr0, s, g, 3 * s)),
                  Case("t one before a boundary", (lr0, s, g, s - 1)),
                  Case("t one before a boundary", (lr0, s, g, 2 * s - 1)),
                  Case("random t", (lr0, s, g, _ints(rng, 1, 60, 1)[0]))]
    return cases


# ---------------------------------------------------------------- exponential decay, two forms

def exponential_decay(lr0, gamma, t):
    """lr0 * gamma ** t."""
    return S.ExponentialDecay(lr0, gamma).lr_at(t)


def _exponential_cases(rng):
    cases = [Case("t = 0", (_lr0(rng), float(rng.uniform(0.5, 0.99)), 0))]
    for t in _ints(rng, 1, 10, 2):
        cases.append(Case("small t", (_lr0(rng), float(rng.uniform(0.5, 0.99)), t)))
    for t in _ints(rng, 50, 300, 2):
        cases.append(Case("large t", (_lr0(rng), float(rng.uniform(0.95, 0.999)), t)))
    return cases


def exponential_decay_rate(lr0, k, t):
    """lr0 * e^(-k t): the same curve as exponential_decay with gamma = e^(-k)."""
    return S.ExponentialDecay.from_rate(lr0, k).lr_at(t)


def _exponential_rate_cases(rng):
    cases = [Case("t = 0", (_lr0(rng), float(rng.uniform(0.01, 0.5)), 0)),
             Case("k = 0 (constant)", (_lr0(rng), 0.0, int(rng.integers(1, 100))))]
    for t in _ints(rng, 1, 100, 4):
        cases.append(Case("random k and t", (_lr0(rng), float(rng.uniform(0.005, 0.3)), t)))
    return cases


# ---------------------------------------------------------------- 1/t decay

def inverse_time_decay(lr0, k, t):
    """lr0 / (1 + k t)."""
    return S.InverseTimeDecay(lr0, k).lr_at(t)


def _inverse_time_cases(rng):
    cases = [Case("t = 0", (_lr0(rng), float(rng.uniform(0.01, 1.0)), 0)),
             Case("t = 1/k (half of lr0)", (_lr0(rng), 0.1, 10)),
             Case("t = 1/k (half of lr0)", (_lr0(rng), 0.25, 4))]
    for t in _ints(rng, 1, 200, 3):
        cases.append(Case("random k and t", (_lr0(rng), float(rng.uniform(0.01, 2.0)), t)))
    return cases


# ---------------------------------------------------------------- cosine annealing

def cosine_annealing(lr0, T_max, lr_min, t):
    """lr_min + (lr0 - lr_min) * (1 + cos(pi t / T_max)) / 2, for 0 <= t <= T_max."""
    return S.CosineAnnealing(lr0, T_max, lr_min).lr_at(t)


def _cosine_cases(rng):
    cases = []
    for lr_min_factor in (0.0, float(rng.uniform(0.01, 0.2))):
        lr0 = _lr0(rng)
        T = 2 * int(rng.integers(5, 60))  # even, so T/2 is a step
        lr_min = lr0 * lr_min_factor
        cases += [Case("t = 0 (lr0)", (lr0, T, lr_min, 0)),
                  Case("t = T_max / 2 (the midpoint)", (lr0, T, lr_min, T // 2)),
                  Case("t = T_max (lr_min)", (lr0, T, lr_min, T)),
                  Case("random t < T_max", (lr0, T, lr_min, _ints(rng, 1, T, 1)[0])),
                  Case("random t < T_max", (lr0, T, lr_min, _ints(rng, 1, T, 1)[0]))]
    return cases


# ---------------------------------------------------------------- triangular cyclic

def cyclic_triangular(base_lr, max_lr, step_size, t):
    """Smith's triangle: up from base_lr (t = 0) to max_lr (t = step_size), down to base_lr
    (t = 2 step_size), and again: base_lr + (max_lr - base_lr) * max(0, 1 - x) with
    x = |t / step_size - 2 cycle + 1|, cycle = floor(1 + t / (2 step_size))."""
    return S.CyclicLR(base_lr, max_lr, step_size).lr_at(t)


def _cyclic_cases(rng):
    cases = []
    for _ in range(2):
        base = float(rng.uniform(0.001, 0.05))
        top = base + float(rng.uniform(0.05, 1.0))
        s = int(rng.integers(3, 40))
        cases += [Case("t = 0 (base_lr)", (base, top, s, 0)),
                  Case("rising half", (base, top, s, _ints(rng, 1, s, 1)[0])),
                  Case("t = step_size (the peak)", (base, top, s, s)),
                  Case("falling half", (base, top, s, _ints(rng, s + 1, 2 * s, 1)[0])),
                  Case("t = 2 step_size (base again)", (base, top, s, 2 * s)),
                  Case("later cycles", (base, top, s, _ints(rng, 2 * s + 1, 10 * s, 1)[0])),
                  Case("later cycles", (base, top, s, 4 * s + s // 2))]
    return cases


# ---------------------------------------------------------------- warm-up, then cosine

def warmup_cosine(lr0, warmup_steps, T_max, t):
    """lr0 * (t + 1) / warmup_steps for t < warmup_steps, then
    cosine_annealing(lr0, T_max, 0, t - warmup_steps)."""
    return S.Warmup(S.CosineAnnealing(lr0, T_max), warmup_steps).lr_at(t)


def _warmup_cases(rng):
    cases = []
    for _ in range(2):
        lr0, w, T = _lr0(rng), int(rng.integers(2, 20)), int(rng.integers(10, 100))
        cases += [Case("t = 0", (lr0, w, T, 0)),
                  Case("during warm-up", (lr0, w, T, _ints(rng, 1, w, 1)[0])),
                  Case("last warm-up step (t = warmup_steps - 1)", (lr0, w, T, w - 1)),
                  Case("first step after warm-up", (lr0, w, T, w)),
                  Case("after warm-up", (lr0, w, T, w + _ints(rng, 1, T, 1)[0])),
                  Case("after warm-up", (lr0, w, T, w + T))]
    return cases


# ---------------------------------------------------------------- derive: the total distance

def exponential_total(lr0, gamma, T):
    """The sum of the first T rates of exponential decay, lr_0 + ... + lr_{T-1}: the farthest a
    unit gradient can move a parameter. The reference adds the library's rates one by one; the
    learner is asked for the closed form lr0 (1 - gamma^T) / (1 - gamma)."""
    schedule = S.ExponentialDecay(lr0, gamma)
    return float(sum(schedule.lr_at(t) for t in range(T)))


def _total_cases(rng):
    cases = [Case("T = 1 (one step)", (_lr0(rng), float(rng.uniform(0.5, 0.95)), 1))]
    for T in _ints(rng, 2, 8, 2):
        cases.append(Case("a few steps", (_lr0(rng), float(rng.uniform(0.3, 0.9)), T)))
    cases.append(Case("gamma close to 1, T << 1/(1 - gamma)",
                      (_lr0(rng), float(rng.uniform(0.998, 0.9995)), _ints(rng, 50, 200, 1)[0])))
    cases.append(Case("many steps (gamma^T tiny)",
                      (_lr0(rng), float(rng.uniform(0.5, 0.8)), _ints(rng, 200, 400, 1)[0])))
    return cases


# ---------------------------------------------------------------- derive: SGD's noise floor

def sgd_noise_floor(lr, lam, sigma2):
    """The stationary expected loss E[f(w)] of SGD with constant rate lr on f(w) = lam w^2 / 2
    when each gradient is lam w + xi, xi independent with mean 0 and variance sigma2:
    Var w = (1 - lr lam)^2 Var w + lr^2 sigma2 at the fixed point, so
    Var w = lr sigma2 / (lam (2 - lr lam)) and E f = lr sigma2 / (2 (2 - lr lam)),
    for 0 < lr lam < 2 (the mean goes to 0)."""
    var_w = lr * lr * sigma2 / (1.0 - (1.0 - lr * lam) ** 2)
    return 0.5 * lam * var_w


def _floor_cases(rng):
    cases = []
    for product, group in [(float(rng.uniform(0.005, 0.05)), "small lr lam"),
                           (1.0, "lr lam = 1 (one-step contraction)"),
                           (float(rng.uniform(1.2, 1.6)), "lr lam between 1 and 2"),
                           (float(rng.uniform(1.9, 1.99)), "lr lam near 2 (edge of stability)")]:
        lam = float(rng.uniform(0.5, 5.0))
        cases.append(Case(group, (product / lam, lam, float(rng.uniform(0.1, 4.0)))))
    return cases


# ---------------------------------------------------------------- hints: the classic slips
# predicate(case, name, expected, got), expected and got float64 arrays; each recomputes
# what one slip returns for the case and compares it with the learner's value

def _same(got, value):
    return bool(np.allclose(got, value, rtol=1e-9, atol=0.0))


def _decays_before_the_boundary(case, name, expected, got):
    _, s, _, t = case.args
    return t % s != 0 and float(got) < float(expected)


def _decays_after_the_boundary(case, name, expected, got):
    _, s, _, t = case.args
    return t > 0 and t % s == 0 and float(got) > float(expected)


def _exponent_t_plus_one(case, name, expected, got):
    lr0, gamma, t = case.args
    return _same(got, lr0 * gamma ** (t + 1)) or _same(got, lr0 * gamma ** (t - 1))


def _plus_k(case, name, expected, got):
    lr0, k, t = case.args
    return k > 0 and t > 0 and _same(got, lr0 * math.exp(k * t))


def _k_as_gamma(case, name, expected, got):
    lr0, k, t = case.args
    return _same(got, lr0 * k**t)


def _no_one_in_denominator(case, name, expected, got):
    lr0, k, t = case.args
    return t > 0 and _same(got, lr0 / (k * t))


def _cosine(lr0, T, lr_min, t, period=None, half=0.5, angle=math.pi):
    return lr_min + (lr0 - lr_min) * half * (1 + math.cos(angle * t / (period or T)))


def _cosine_over_t_minus_one(case, name, expected, got):
    lr0, T, lr_min, t = case.args
    return _same(got, _cosine(lr0, T, lr_min, t, period=T - 1))


def _cosine_without_half(case, name, expected, got):
    lr0, T, lr_min, t = case.args
    return _same(got, _cosine(lr0, T, lr_min, t, half=1.0))


def _cosine_without_pi(case, name, expected, got):
    lr0, T, lr_min, t = case.args
    return _same(got, _cosine(lr0, T, lr_min, t, angle=1.0))


def _cosine_without_lr_min(case, name, expected, got):
    lr0, T, lr_min, t = case.args
    return lr_min > 0 and _same(got, _cosine(lr0, T, 0.0, t))


def _triangle(base, top, s, t, absolute=True):
    cycle = math.floor(1 + t / (2 * s))
    x = t / s - 2 * cycle + 1
    return base + (top - base) * max(0.0, 1.0 - (abs(x) if absolute else x))


def _cycle_without_abs(case, name, expected, got):
    base, top, s, t = case.args
    return _same(got, _triangle(base, top, s, t, absolute=False))


def _cycle_of_step_size(case, name, expected, got):
    base, top, s, t = case.args
    return _same(got, _triangle(base, top, s / 2, t))


def _ramp_from_zero(case, name, expected, got):
    lr0, w, _, t = case.args
    return t < w and _same(got, lr0 * t / w)


def _cosine_not_restarted(case, name, expected, got):
    lr0, w, T, t = case.args
    return t >= w and _same(got, _cosine(lr0, T, 0.0, t))


def _geometric(lr0, gamma, T):
    return lr0 * (1 - gamma**T) / (1 - gamma)


def _one_term_too_many(case, name, expected, got):
    lr0, gamma, T = case.args
    return _same(got, _geometric(lr0, gamma, T + 1))


def _one_term_too_few(case, name, expected, got):
    lr0, gamma, T = case.args
    return _same(got, _geometric(lr0, gamma, T - 1))


def _the_limit(case, name, expected, got):
    lr0, gamma, _ = case.args
    return _same(got, lr0 / (1 - gamma))


def _small_rate_floor(case, name, expected, got):
    lr, _, sigma2 = case.args
    return _same(got, lr * sigma2 / 4)


def _variance_not_loss(case, name, expected, got):
    lr, lam, sigma2 = case.args
    return _same(got, lr * sigma2 / (lam * (2 - lr * lam)))


def _loss_without_half(case, name, expected, got):
    return _same(got, 2 * expected)


def _contraction_not_squared(case, name, expected, got):
    lr, lam, sigma2 = case.args
    return _same(got, 0.5 * lam * lr * lr * sigma2 / (lr * lam))


STEP_HINTS = (
    (("the rate dropped before the boundary: the exponent is floor(t / step_size) "
      "(t // step_size), which stays 0 until t = step_size"), _decays_before_the_boundary),
    (("at t = step_size the rate has already been multiplied once, since floor(s / s) = 1; "
      "yours decays one step late"), _decays_after_the_boundary),
)
EXPONENTIAL_HINTS = (
    ("off by one factor gamma: at t = 0 the rate is lr0 itself, so the exponent is t",
     _exponent_t_plus_one),
)
EXPONENTIAL_RATE_HINTS = (
    ("your rate grows: the exponent is -k t (e^(+kt) with k > 0 grows)", _plus_k),
    ("k is not the factor: in this form the factor per step is gamma = e^(-k)", _k_as_gamma),
)
INVERSE_TIME_HINTS = (
    ("the 1 in 1 + k t is missing: at t = 1/k the rate must be half of lr0, not lr0",
     _no_one_in_denominator),
)
COSINE_HINTS = (
    (("divide by T_max, not T_max - 1: the cosine reaches lr_min at t = T_max, its midpoint "
      "at T_max / 2"), _cosine_over_t_minus_one),
    ("(1 + cos)/2 runs from 1 to 0; without the /2 the rate starts at 2 lr0 - lr_min",
     _cosine_without_half),
    ("the cosine's argument is pi t / T_max (radians), so that it reaches pi at t = T_max",
     _cosine_without_pi),
    ("the rate runs from lr0 down to lr_min: lr_min + (lr0 - lr_min) (1 + cos)/2",
     _cosine_without_lr_min),
)
CYCLIC_HINTS = (
    (("without the absolute value, x = t/s - 2 cycle + 1 is negative on the rising half and "
      "the rate overshoots max_lr: take |x|"), _cycle_without_abs),
    (("step_size is half a cycle: the rate reaches max_lr at t = step_size and base_lr again "
      "at t = 2 step_size"), _cycle_of_step_size),
)
WARMUP_HINTS = (
    (("the first step already moves: the ramp is lr0 (t + 1) / W, lr0 / W at t = 0 and lr0 "
      "at t = W - 1"), _ramp_from_zero),
    ("the cosine counts its own steps from 0: call it at t - warmup_steps",
     _cosine_not_restarted),
)
TOTAL_HINTS = (
    ("one term too many: lr_0 + ... + lr_(T-1) has T terms, so gamma^T, not gamma^(T+1)",
     _one_term_too_many),
    ("one term too few: lr_0 + ... + lr_(T-1) has T terms, so gamma^T, not gamma^(T-1)",
     _one_term_too_few),
    (("that is the limit T -> infinity; for a finite T the tail lr0 gamma^T / (1 - gamma) "
      "is missing"), _the_limit),
)
FLOOR_HINTS = (
    (("that is the small-rate limit lr sigma2 / 4: keep the lr^2 lam^2 term when you solve "
      "Var w = (1 - lr lam)^2 Var w + lr^2 sigma2"), _small_rate_floor),
    ("that is Var w at the fixed point; the question asks for the loss E f = (lam / 2) Var w",
     _variance_not_loss),
    ("twice the answer: f(w) = lam w^2 / 2, so E f = (lam / 2) Var w", _loss_without_half),
    ("square the contraction: Var((1 - lr lam) w) = (1 - lr lam)^2 Var w",
     _contraction_not_squared),
)


# ---------------------------------------------------------------- the registry entries

EXERCISES = [
    register(Exercise(PREFIX + "step_decay", "step_decay", _step_cases, step_decay, ("lr",),
                      hints=STEP_HINTS)),
    register(Exercise(PREFIX + "exponential_decay", "exponential_decay", _exponential_cases,
                      exponential_decay, ("lr",), hints=EXPONENTIAL_HINTS)),
    register(Exercise(PREFIX + "exponential_decay_rate", "exponential_decay_rate",
                      _exponential_rate_cases, exponential_decay_rate, ("lr",),
                      hints=EXPONENTIAL_RATE_HINTS)),
    register(Exercise(PREFIX + "inverse_time_decay", "inverse_time_decay", _inverse_time_cases,
                      inverse_time_decay, ("lr",), hints=INVERSE_TIME_HINTS)),
    register(Exercise(PREFIX + "cosine_annealing", "cosine_annealing", _cosine_cases,
                      cosine_annealing, ("lr",), hints=COSINE_HINTS)),
    register(Exercise(PREFIX + "cyclic_triangular", "cyclic_triangular", _cyclic_cases,
                      cyclic_triangular, ("lr",), hints=CYCLIC_HINTS)),
    register(Exercise(PREFIX + "warmup_cosine", "warmup_cosine", _warmup_cases, warmup_cosine,
                      ("lr",), hints=WARMUP_HINTS)),
    register(Exercise(PREFIX + "exponential_total", "exponential_total", _total_cases,
                      exponential_total, ("total",), hints=TOTAL_HINTS)),
    register(Exercise(PREFIX + "sgd_noise_floor", "sgd_noise_floor", _floor_cases,
                      sgd_noise_floor, ("loss",), hints=FLOOR_HINTS)),
]
