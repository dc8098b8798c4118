"""Chapter 12 exercises: each reference passes under several seeds and agrees with
dlcore.search and with hand values, and the classic wrong answers fail in the right case
group."""
import math

import numpy as np
import pytest
from conftest import hint_lines, run

from dlcore.grading import list_exercises
from dlcore.grading.exercises import hyperparameters as hp
from dlcore.search import LogUniform, halving_schedule

CHAPTER12 = [
    "hyperparameters.grid_random_hit",
    "hyperparameters.halving_rungs",
    "hyperparameters.log_uniform_from_unit",
    "hyperparameters.parallel_wall_time",
    "hyperparameters.random_search_lr",
    "hyperparameters.trials_needed",
]



def failed_groups(result):
    return {line.split("[")[1].split("]")[0] for line in result.lines if line.startswith("✘")}


# ---------------------------------------------------------------- the references pass

def test_chapter12_is_registered():
    assert list_exercises("hyperparameters.") == CHAPTER12




# ---------------------------------------------------------------- references by hand

def test_log_uniform_reference_by_hand_and_against_dlcore():
    np.testing.assert_allclose(hp.log_uniform_from_unit(np.array([0, 0.25, 0.5, 1]), 1e-4, 1.0),
                               [1e-4, 1e-3, 1e-2, 1.0], rtol=1e-12)
    u = np.random.default_rng(0).random(5)
    np.testing.assert_array_equal(hp.log_uniform_from_unit(u, 3e-5, 0.2),
                                  LogUniform(3e-5, 0.2).from_unit(u))


def test_trials_needed_by_hand():
    assert hp.trials_needed(0.05, 0.95) == 59          # 1 - 0.95^58 = 0.9490, ^59: 0.9515
    assert 1 - 0.95 ** 58 < 0.95 <= 1 - 0.95 ** 59
    assert hp.trials_needed(0.5, 0.75) == 2            # exactly 1 - 0.5^2: no rounding up to 3
    assert hp.trials_needed(0.1, 0.05) == 1
    assert hp.trials_needed(0.01, 0.95) == 299


def test_halving_rungs_by_hand_and_against_the_schedule():
    configs, budgets, total = hp.halving_rungs(20, 1, 16, 2)
    assert configs.tolist() == [20, 10, 5, 2, 1] and budgets.tolist() == [1, 2, 4, 8, 16]
    assert total == 20 + 20 + 20 + 16 + 16
    assert list(zip(configs.tolist(), budgets.tolist())) == halving_schedule(20, 1, 16, 2)


def test_random_search_reference_finds_the_valley_floor():
    u = np.linspace(0, 1, 401)                         # lr from 1e-4 to 1, dense
    lr, value = hp.random_search_lr(u, 1e-4, 1.0, hp.valley_loss)
    assert lr == pytest.approx(0.05, rel=0.02) and value == pytest.approx(0.05, abs=1e-4)
    assert hp.random_search_lr([0.0], 1e-3, 1.0, hp.valley_loss)[0] == pytest.approx(1e-3)


def test_parallel_wall_time_by_hand():
    assert hp.parallel_wall_time(9, 2.0, 2, 1.5) == 1.5 + 5 * 2.0
    assert hp.parallel_wall_time(3, 5.0, 8, 1.0) == 6.0


def test_grid_random_hit_by_hand_and_by_simulation():
    assert hp.grid_random_hit(3, 0.05) == pytest.approx((0.15 / 0.95, 1 - 0.95 ** 9), rel=1e-12)
    rng = np.random.default_rng(0)
    for k, w in ((3, 0.05), (4, 0.1)):
        n = 200_000
        a = rng.uniform(0, 1 - w, n)[:, None]              # the good interval [a, a + w]
        grid_x = (np.arange(k) + 0.5) / k
        random_x = rng.random((n, k * k))
        grid = np.mean(np.any((grid_x >= a) & (grid_x <= a + w), axis=1))
        random = np.mean(np.any((random_x >= a) & (random_x <= a + w), axis=1))
        p_grid, p_random = hp.grid_random_hit(k, w)
        assert grid == pytest.approx(p_grid, abs=0.005)     # ~4 standard errors
        assert random == pytest.approx(p_random, abs=0.005)


# ---------------------------------------------------------------- wrong answers fail

def test_uniform_instead_of_log_uniform_fails():
    result = run("hyperparameters.log_uniform_from_unit",
                 lambda u, low, high: low + u * (high - low))
    assert result.status == "wrong" and failed_groups(result) == {"random u", "u at 0, 1/2 and 1"}


def test_log_uniform_forgetting_low_fails():
    result = run("hyperparameters.log_uniform_from_unit", lambda u, low, high: high ** u)
    assert result.status == "wrong" and result.passed == 0


def test_random_search_taking_the_highest_loss_or_uniform_draws_fails():
    for wrong in (_worst_trial, _uniform_trials):
        result = run("hyperparameters.random_search_lr", wrong)
        assert result.status == "wrong" and result.passed == 0, result.lines


def test_trials_needed_without_the_ceiling_or_with_p_over_q_fails():
    rounded = run("hyperparameters.trials_needed",
                  lambda q, p: round(math.log(1 - p) / math.log(1 - q)))
    assert rounded.status == "wrong" and "top 5%, 95% sure" in failed_groups(rounded)
    linear = run("hyperparameters.trials_needed", lambda q, p: math.ceil(p / q))
    assert linear.status == "wrong" and linear.passed == 0
    swapped = run("hyperparameters.trials_needed",
                  lambda q, p: math.ceil(math.log(p) / math.log(1 - q)))
    assert swapped.status == "wrong" and "top 5%, 95% sure" in failed_groups(swapped)


def test_halving_with_ceiling_fails_only_where_counts_are_not_powers_of_eta():
    result = run("hyperparameters.halving_rungs", _ceil_survivors)
    assert result.status == "wrong"
    assert "powers of eta" not in failed_groups(result)
    assert "not powers of eta" in failed_groups(result)


def test_halving_total_as_configs_times_max_budget_fails():
    def naive_total(n_configs, min_budget, max_budget, eta):
        configs, budgets = hp.halving_rungs(n_configs, min_budget, max_budget, eta)[:2]
        return configs, budgets, n_configs * max_budget

    result = run("hyperparameters.halving_rungs", naive_total)
    assert result.status == "wrong" and result.passed == 0


def test_parallel_time_without_ceiling_or_startup_fails():
    no_ceil = run("hyperparameters.parallel_wall_time", lambda n, t, k, s: s + n / k * t)
    assert no_ceil.status == "wrong"
    assert failed_groups(no_ceil) == {"not a multiple of the workers", "more workers than trials"}
    no_start = run("hyperparameters.parallel_wall_time",
                   lambda n, t, k, s: math.ceil(n / k) * t)
    assert no_start.status == "wrong" and "one worker" not in failed_groups(no_start)


# ---------------------------------------------------------------- each slip's hint names it

def _worst_trial(u, low, high, objective):
    lrs = [low * (high / low) ** x for x in u]
    values = [objective(lr) for lr in lrs]
    i = int(np.argmax(values))
    return lrs[i], values[i]


def _uniform_trials(u, low, high, objective):
    lrs = [low + x * (high - low) for x in u]
    values = [objective(lr) for lr in lrs]
    i = int(np.argmin(values))
    return lrs[i], values[i]


def _ceil_survivors(n_configs, min_budget, max_budget, eta):
    configs, budgets, n, b = [], [], n_configs, min_budget
    while n >= 1 and b <= max_budget:
        configs.append(n)
        budgets.append(b)
        n, b = -(-n // eta), b * eta
    configs, budgets = np.array(configs), np.array(budgets)
    return configs, budgets, int(np.sum(configs * budgets))


def _everyone_at_max(n_configs, min_budget, max_budget, eta):
    configs, budgets, _ = hp.halving_rungs(n_configs, min_budget, max_budget, eta)
    return configs, budgets, n_configs * max_budget


SLIPS = [
    ("hyperparameters.log_uniform_from_unit", lambda u, low, high: low + u * (high - low),
     "uniform on [low, high]"),
    ("hyperparameters.log_uniform_from_unit", lambda u, low, high: high ** u, "u = 0 must give low"),
    ("hyperparameters.log_uniform_from_unit", lambda u, low, high: (high / low) ** u,
     "u = 0 must give low"),
    ("hyperparameters.random_search_lr", _worst_trial, "the highest score"),
    ("hyperparameters.random_search_lr", _uniform_trials, "drawn uniformly"),
    ("hyperparameters.trials_needed", lambda q, p: round(math.log(1 - p) / math.log(1 - q)),
     "not its rounding or floor"),
    ("hyperparameters.trials_needed", lambda q, p: math.floor(math.log(1 - p) / math.log(1 - q)),
     "not its rounding or floor"),
    ("hyperparameters.trials_needed", lambda q, p: math.ceil(p / q), "added up"),
    ("hyperparameters.trials_needed", lambda q, p: math.ceil(math.log(p) / math.log(1 - q)),
     "not of p"),
    ("hyperparameters.halving_rungs", _ceil_survivors, "not the ceiling"),
    ("hyperparameters.halving_rungs", _everyone_at_max, "its own budget"),
    ("hyperparameters.parallel_wall_time", lambda n, t, k, s: s + n / k * t, "trials are whole"),
    ("hyperparameters.parallel_wall_time", lambda n, t, k, s: math.ceil(n / k) * t,
     "startup_seconds"),
    ("hyperparameters.grid_random_hit", lambda k, w: (k * w, 1 - (1 - w) ** (k * k)),
     "uniform on [0, 1 - w]"),
    ("hyperparameters.grid_random_hit", lambda k, w: (k * k * w / (1 - w), 1 - (1 - w) ** (k * k)),
     "only k distinct values"),
    ("hyperparameters.grid_random_hit", lambda k, w: (k * w / (1 - w), k * k * w),
     "do not add"),
    ("hyperparameters.grid_random_hit", lambda k, w: (k * w / (1 - w), 1 - (1 - w) ** k),
     "k^2 trials"),
]


@pytest.mark.parametrize("exercise, slip, words", SLIPS, ids=[f"{e}:{w}" for e, _, w in SLIPS])
def test_each_classic_slip_gets_the_hint_that_names_it(exercise, slip, words):
    result = run(exercise, slip)
    assert result.status == "wrong"
    hints = hint_lines(result, prefix=False)
    assert hints and words in hints[0], hints


@pytest.mark.parametrize("exercise, wrong", [
    ("hyperparameters.log_uniform_from_unit", lambda u, low, high: np.sqrt(low * high) + 0 * u),
    ("hyperparameters.random_search_lr", lambda u, low, high, objective: (0.123, 4.56)),
    ("hyperparameters.trials_needed", lambda q, p: 7),
    ("hyperparameters.halving_rungs",
     lambda n, lo, hi, eta: (np.array([n, 1]), np.array([lo, hi]), n * lo + hi)),
    ("hyperparameters.parallel_wall_time", lambda n, t, k, s: 2 * s + n * t),
    ("hyperparameters.grid_random_hit", lambda k, w: (0.5, 0.5)),
])
def test_an_unrecognised_wrong_answer_gets_no_hint(exercise, wrong):
    result = run(exercise, wrong)
    assert result.status == "wrong"
    own = {text for text, _ in hp.HINTS[exercise.split(".")[1]]}
    assert not own & set(hint_lines(result, prefix=False))
