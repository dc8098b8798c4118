"""Chapter 5 exercises: every reference passes, independent hand-written answers pass, and
the classic slips (off by one at a step boundary, T_max - 1 in the cosine, a cycle without
abs, e^{+kt}, a warm-up ramp starting at 0) fail in the case groups where they show."""
import math

import numpy as np
import pytest
from conftest import run

from dlcore.grading import EXERCISES, get_exercise, list_exercises
from dlcore.grading.exercises import schedules as _registers_chapter5  # noqa: F401

CHAPTER5 = [
    "schedules.cosine_annealing",
    "schedules.cyclic_triangular",
    "schedules.exponential_decay",
    "schedules.exponential_decay_rate",
    "schedules.exponential_total",
    "schedules.inverse_time_decay",
    "schedules.sgd_noise_floor",
    "schedules.step_decay",
    "schedules.warmup_cosine",
]


def failed_groups(result):
    return {line.split("[", 1)[1].split("]", 1)[0] for line in result.lines
            if line.startswith("✘") and "[" in line}


# ---------------------------------------------------------------- independent right answers

def step_decay(lr0, step_size, gamma, t):
    return lr0 * gamma ** (t // step_size)


def exponential_decay(lr0, gamma, t):
    return lr0 * gamma**t


def exponential_decay_rate(lr0, k, t):
    return lr0 * math.exp(-k * t)


def inverse_time_decay(lr0, k, t):
    return lr0 / (1 + k * t)


def cosine_annealing(lr0, T_max, lr_min, t):
    return lr_min + 0.5 * (lr0 - lr_min) * (1 + math.cos(math.pi * t / T_max))


def cyclic_triangular(base_lr, max_lr, step_size, t):
    cycle = math.floor(1 + t / (2 * step_size))
    x = abs(t / step_size - 2 * cycle + 1)
    return base_lr + (max_lr - base_lr) * max(0.0, 1 - x)


def warmup_cosine(lr0, warmup_steps, T_max, t):
    if t < warmup_steps:
        return lr0 * (t + 1) / warmup_steps
    return cosine_annealing(lr0, T_max, 0.0, t - warmup_steps)


def exponential_total(lr0, gamma, T):
    return lr0 * (1 - gamma**T) / (1 - gamma)


def sgd_noise_floor(lr, lam, sigma2):
    return lr * sigma2 / (2 * (2 - lr * lam))


HAND = {
    "schedules.step_decay": step_decay,
    "schedules.exponential_decay": exponential_decay,
    "schedules.exponential_decay_rate": exponential_decay_rate,
    "schedules.inverse_time_decay": inverse_time_decay,
    "schedules.cosine_annealing": cosine_annealing,
    "schedules.cyclic_triangular": cyclic_triangular,
    "schedules.warmup_cosine": warmup_cosine,
    "schedules.exponential_total": exponential_total,
    "schedules.sgd_noise_floor": sgd_noise_floor,
}


def test_chapter5_is_registered():
    assert set(CHAPTER5) <= set(EXERCISES)
    assert list_exercises("schedules.") == CHAPTER5
    assert set(HAND) == set(CHAPTER5)


@pytest.mark.parametrize("exercise_id", CHAPTER5)
@pytest.mark.parametrize("seed", [None, 1, 987654])
def test_reference_and_a_hand_written_answer_pass_every_group(exercise_id, seed):
    ex = get_exercise(exercise_id)
    groups = {c.group for c in ex.cases(seed)}
    for candidate in (ex.reference, HAND[exercise_id]):
        result = run(exercise_id, candidate, seed=seed)
        assert result.status == "ok" and bool(result), result.lines
        assert result.passed == result.total == len(groups) >= 3


def test_the_references_at_hand_computed_steps():
    from dlcore.grading.exercises import schedules as ex

    assert ex.step_decay(0.1, 10, 0.5, 9) == pytest.approx(0.1)
    assert ex.step_decay(0.1, 10, 0.5, 10) == pytest.approx(0.05)    # decays AT t = step_size
    assert ex.exponential_decay_rate(0.2, math.log(2), 3) == pytest.approx(0.025)
    assert ex.exponential_decay(0.2, 0.5, 3) == pytest.approx(0.025)
    assert ex.inverse_time_decay(0.3, 0.5, 2) == pytest.approx(0.15)
    assert ex.cosine_annealing(0.1, 10, 0.02, 5) == pytest.approx(0.06)
    assert ex.cosine_annealing(0.1, 10, 0.02, 10) == pytest.approx(0.02)
    assert ex.cyclic_triangular(0.1, 0.5, 4, 2) == pytest.approx(0.3)
    assert ex.cyclic_triangular(0.1, 0.5, 4, 4) == pytest.approx(0.5)
    assert ex.cyclic_triangular(0.1, 0.5, 4, 14) == pytest.approx(0.3)  # falling in cycle 2
    assert ex.warmup_cosine(0.4, 4, 10, 0) == pytest.approx(0.1)
    assert ex.warmup_cosine(0.4, 4, 10, 3) == pytest.approx(0.4)
    assert ex.warmup_cosine(0.4, 4, 10, 4) == pytest.approx(0.4)
    assert ex.warmup_cosine(0.4, 4, 10, 9) == pytest.approx(0.2)


# ---------------------------------------------------------------- classic wrong answers

def test_step_decay_off_by_one_at_the_boundary_fails_there():
    def late(lr0, step_size, gamma, t):          # decays one step too late (t > boundary)
        return lr0 * gamma ** max(0, (t - 1) // step_size)

    result = run("schedules.step_decay", late)
    assert result.status == "wrong"
    bad = failed_groups(result)
    assert {"t = step_size exactly", "t a later multiple of step_size"} <= bad
    assert "t = 0" not in bad and "t one before a boundary" not in bad

    def early(lr0, step_size, gamma, t):         # (t + 1) // step_size: one step too early
        return lr0 * gamma ** ((t + 1) // step_size)

    bad = failed_groups(run("schedules.step_decay", early))
    assert "t one before a boundary" in bad and "t = step_size exactly" not in bad


def test_exponential_with_a_plus_sign_fails_all_but_t_0():
    def growing(lr0, k, t):
        return lr0 * math.exp(k * t)

    result = run("schedules.exponential_decay_rate", growing)
    assert result.status == "wrong"
    assert failed_groups(result) == {"random k and t"}  # t = 0 and k = 0 cannot tell
    assert result.passed == 2


def test_exponential_with_gamma_times_t_fails():
    def linear(lr0, gamma, t):
        return lr0 * gamma * t if t else lr0

    result = run("schedules.exponential_decay", linear)
    assert failed_groups(result) == {"small t", "large t"}


def test_inverse_time_without_the_one_fails():
    def no_one(lr0, k, t):
        return lr0 / (k * t) if t else lr0

    result = run("schedules.inverse_time_decay", no_one)
    assert "t = 1/k (half of lr0)" in failed_groups(result)
    assert result.status == "wrong"


def test_cosine_with_t_max_minus_one_fails_at_the_midpoint_and_end():
    def off(lr0, T_max, lr_min, t):
        return lr_min + 0.5 * (lr0 - lr_min) * (1 + math.cos(math.pi * t / (T_max - 1)))

    result = run("schedules.cosine_annealing", off)
    bad = failed_groups(result)
    assert {"t = T_max / 2 (the midpoint)", "t = T_max (lr_min)"} <= bad
    assert "t = 0 (lr0)" not in bad
    assert any("expected" in line for line in result.lines)   # the detail block


def test_cosine_without_the_half_fails():
    def no_half(lr0, T_max, lr_min, t):
        return lr_min + (lr0 - lr_min) * (1 + math.cos(math.pi * t / T_max))

    bad = failed_groups(run("schedules.cosine_annealing", no_half))
    assert "t = 0 (lr0)" in bad and "t = T_max (lr_min)" not in bad


def test_cycle_without_abs_fails_on_the_rising_half():
    def no_abs(base_lr, max_lr, step_size, t):
        cycle = math.floor(1 + t / (2 * step_size))
        x = t / step_size - 2 * cycle + 1
        return base_lr + (max_lr - base_lr) * max(0.0, 1 - x)

    result = run("schedules.cyclic_triangular", no_abs)
    bad = failed_groups(result)
    assert {"t = 0 (base_lr)", "rising half"} <= bad
    assert "falling half" not in bad and "t = step_size (the peak)" not in bad


def test_cycle_of_length_step_size_fails():
    def short(base_lr, max_lr, step_size, t):   # step_size taken as the whole cycle
        return cyclic_triangular(base_lr, max_lr, step_size / 2, t)

    assert not run("schedules.cyclic_triangular", short)


def test_warmup_ramp_from_zero_fails_at_t_0():
    def from_zero(lr0, warmup_steps, T_max, t):
        if t < warmup_steps:
            return lr0 * t / warmup_steps
        return cosine_annealing(lr0, T_max, 0.0, t - warmup_steps)

    result = run("schedules.warmup_cosine", from_zero)
    bad = failed_groups(result)
    assert {"t = 0", "last warm-up step (t = warmup_steps - 1)"} <= bad
    assert "after warm-up" not in bad


def test_warmup_then_cosine_not_restarted_fails_after_warmup():
    def no_restart(lr0, warmup_steps, T_max, t):  # the cosine keeps counting from t = 0
        if t < warmup_steps:
            return lr0 * (t + 1) / warmup_steps
        return cosine_annealing(lr0, T_max, 0.0, min(t, T_max))

    bad = failed_groups(run("schedules.warmup_cosine", no_restart))
    assert "first step after warm-up" in bad and "t = 0" not in bad


def test_a_blank_answer_is_not_implemented():
    def blank(lr0, step_size, gamma, t):
        raise NotImplementedError

    result = run("schedules.step_decay", blank)
    assert result.status == "not-implemented" and result.passed == 0


# ---------------------------------------------------------------- derive: total distance, noise floor

def test_exponential_total_is_the_geometric_sum_and_slips_fail():
    from dlcore.grading.exercises import schedules as ex

    assert ex.exponential_total(0.2, 0.5, 3) == pytest.approx(0.35)
    for lr0, gamma, T in [(0.1, 0.9, 7), (1.0, 0.999, 120)]:
        assert ex.exponential_total(lr0, gamma, T) == pytest.approx(
            lr0 * (1 - gamma**T) / (1 - gamma), rel=1e-12)

    def right(lr0, gamma, T):
        return lr0 * (1 - gamma**T) / (1 - gamma)

    def limit(lr0, gamma, T):             # the T -> infinity answer
        return lr0 / (1 - gamma)

    def one_too_many(lr0, gamma, T):      # t = 0 .. T, T + 1 terms
        return lr0 * (1 - gamma ** (T + 1)) / (1 - gamma)

    assert run("schedules.exponential_total", right).status == "ok"
    result = run("schedules.exponential_total", limit)
    assert result.status == "wrong"
    assert {"T = 1 (one step)", "a few steps", "gamma close to 1, T << 1/(1 - gamma)"} \
        <= failed_groups(result)
    assert "many steps (gamma^T tiny)" not in failed_groups(result)
    result = run("schedules.exponential_total", one_too_many)
    assert result.status == "wrong" and "T = 1 (one step)" in failed_groups(result)


def test_sgd_noise_floor_matches_a_simulation():
    from dlcore.grading.exercises import schedules as ex

    rng = np.random.default_rng(0)
    for lr, lam, sigma2 in [(0.5, 1.0, 2.0), (0.18, 10.0, 0.5)]:
        w = np.zeros(20000)
        for _ in range(400):            # (1 - lr lam)^2 <= 0.67: 400 steps forget w_0
            w = w - lr * (lam * w + rng.normal(0.0, np.sqrt(sigma2), w.shape))
        simulated = np.mean(0.5 * lam * w**2)
        assert simulated == pytest.approx(ex.sgd_noise_floor(lr, lam, sigma2), rel=0.05)
    assert ex.sgd_noise_floor(0.1, 10.0, 2.0) == pytest.approx(0.1)   # lr lam = 1: lr s2 / 2


def test_sgd_noise_floor_slips_fail():
    def right(lr, lam, sigma2):
        return lr * sigma2 / (2 * (2 - lr * lam))

    def small_rate(lr, lam, sigma2):      # lr sigma2 / 4, true only as lr lam -> 0
        return lr * sigma2 / 4

    def variance_of_w(lr, lam, sigma2):   # Var w instead of E f = lam Var w / 2
        return lr * sigma2 / (lam * (2 - lr * lam))

    def no_square(lr, lam, sigma2):       # (1 - lr lam) instead of its square
        return 0.5 * lam * lr**2 * sigma2 / (lr * lam)

    assert run("schedules.sgd_noise_floor", right).status == "ok"
    result = run("schedules.sgd_noise_floor", small_rate)
    assert result.status == "wrong"
    assert "lr lam near 2 (edge of stability)" in failed_groups(result)
    assert result.errors[("small lr lam", "loss")] < 0.03   # only ~ lr lam / 2 off there
    for slip in (variance_of_w, no_square):
        result = run("schedules.sgd_noise_floor", slip)
        assert result.status == "wrong" and result.passed <= 1


# ---------------------------------------------------------------- hints that name the slip

def _ceil_step(lr0, step_size, gamma, t):
    return lr0 * gamma ** math.ceil(t / step_size)


def _late_step(lr0, step_size, gamma, t):
    return lr0 * gamma ** max(0, (t - 1) // step_size)


def _exp_t_plus_one(lr0, gamma, t):
    return lr0 * gamma ** (t + 1)


def _exp_plus_k(lr0, k, t):
    return lr0 * math.exp(k * t)


def _inverse_no_one(lr0, k, t):
    return lr0 / (k * t) if t else lr0


def _cos_t_minus_one(lr0, T_max, lr_min, t):
    return lr_min + (lr0 - lr_min) * (1 + math.cos(math.pi * t / (T_max - 1))) / 2


def _cos_no_half(lr0, T_max, lr_min, t):
    return lr_min + (lr0 - lr_min) * (1 + math.cos(math.pi * t / T_max))


def _cos_no_lr_min(lr0, T_max, lr_min, t):
    return lr0 * (1 + math.cos(math.pi * t / T_max)) / 2


def _cycle_no_abs(base_lr, max_lr, step_size, t):
    cycle = math.floor(1 + t / (2 * step_size))
    return base_lr + (max_lr - base_lr) * max(0.0, 1 - (t / step_size - 2 * cycle + 1))


def _warmup_from_zero(lr0, warmup_steps, T_max, t):
    if t < warmup_steps:
        return lr0 * t / warmup_steps
    return lr0 * (1 + math.cos(math.pi * (t - warmup_steps) / T_max)) / 2


def _warmup_no_restart(lr0, warmup_steps, T_max, t):
    if t < warmup_steps:
        return lr0 * (t + 1) / warmup_steps
    return lr0 * (1 + math.cos(math.pi * t / T_max)) / 2


def _total_limit(lr0, gamma, T):
    return lr0 / (1 - gamma)


def _total_one_too_many(lr0, gamma, T):
    return lr0 * (1 - gamma ** (T + 1)) / (1 - gamma)


def _floor_small_rate(lr, lam, sigma2):
    return lr * sigma2 / 4


def _floor_variance(lr, lam, sigma2):
    return lr * sigma2 / (lam * (2 - lr * lam))


def _floor_without_half(lr, lam, sigma2):
    return lr * sigma2 / (2 - lr * lam)


HINTED_SLIPS = [
    ("step_decay", _ceil_step, "dropped before the boundary"),
    ("step_decay", _late_step, "decays one step late"),
    ("exponential_decay", _exp_t_plus_one, "off by one factor gamma"),
    ("exponential_decay_rate", _exp_plus_k, "your rate grows"),
    ("inverse_time_decay", _inverse_no_one, "the 1 in 1 + k t is missing"),
    ("cosine_annealing", _cos_t_minus_one, "divide by T_max, not T_max - 1"),
    ("cosine_annealing", _cos_no_half, "without the /2"),
    ("cosine_annealing", _cos_no_lr_min, "from lr0 down to lr_min"),
    ("cyclic_triangular", _cycle_no_abs, "take |x|"),
    ("warmup_cosine", _warmup_from_zero, "the first step already moves"),
    ("warmup_cosine", _warmup_no_restart, "counts its own steps from 0"),
    ("exponential_total", _total_limit, "the limit T -> infinity"),
    ("exponential_total", _total_one_too_many, "one term too many"),
    ("sgd_noise_floor", _floor_small_rate, "the small-rate limit"),
    ("sgd_noise_floor", _floor_variance, "that is Var w"),
    ("sgd_noise_floor", _floor_without_half, "twice the answer"),
]


@pytest.mark.parametrize("name, slip, words", HINTED_SLIPS,
                         ids=[f"{n}-{s.__name__}" for n, s, _ in HINTED_SLIPS])
def test_each_classic_slip_gets_its_own_hint(name, slip, words):
    slip.__name__ = name
    result = run("schedules." + name, slip)
    assert result.status == "wrong"
    hints = [line for line in result.lines if line.strip().startswith("hint:")]
    assert hints and words in hints[0], result.lines


def test_a_slip_no_hint_describes_gets_none_of_them():
    def linear_instead(lr0, k, t):           # 1 - k t: not a slip the hints know
        return lr0 * (1 - k * t)

    result = run("schedules.inverse_time_decay", linear_instead)
    assert result.status == "wrong"
    assert not any("1 + k t is missing" in line for line in result.lines)
