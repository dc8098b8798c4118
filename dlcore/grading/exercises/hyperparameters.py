"""Chapter 12, hyperparameters: the exercises and their cases.

The references call `dlcore.search` where it has the function (`LogUniform.from_unit`,
`halving_schedule`). The cases are chosen so that the classic slips show: log-uniform ranges
whose low end is not 1 (so that forgetting `low` is wrong) and that span several decades (so
that a plain uniform map is far off); objectives whose best point is not the last or the first
draw; probabilities where rounding instead of taking the ceiling gives another count; numbers
of configurations that are not powers of eta (so that ceil instead of floor is wrong); numbers
of trials that are not multiples of the number of workers; grids with k >= 2, so that k and
k^2 trials differ.
"""
import math

import numpy as np

from ...search import LogUniform, halving_schedule
from ..registry import Case, Exercise, register

PREFIX = "hyperparameters."


# ---------------------------------------------------------------- log-uniform sampling

def log_uniform_from_unit(u, low, high):
    """Map uniform numbers u in [0, 1] to log-uniform values on [low, high]:
    low * (high / low) ** u, so that log(value) is uniform on [log low, log high]."""
    return LogUniform(low, high).from_unit(u)


def _range(rng):
    low = float(10.0 ** rng.uniform(-6, -3))
    return low, float(low * 10.0 ** rng.uniform(2, 5))


def _log_uniform_cases(rng):
    cases = []
    for _ in range(3):
        cases.append(Case("random u", (rng.random(7), *_range(rng))))
    cases.append(Case("u at 0, 1/2 and 1", (np.array([0.0, 0.5, 1.0]), 1e-4, 1.0)))
    cases.append(Case("u at 0, 1/2 and 1", (np.array([0.0, 0.5, 1.0]), 0.01, 100.0)))
    return cases


# ---------------------------------------------------------------- a random-search loop

def valley_loss(lr):
    """A validation loss as a function of the learning rate: a valley in log10(lr) with its
    floor at lr = 0.05, rising steeply above it (divergence)."""
    x = math.log10(lr) - math.log10(0.05)
    return 0.05 + 0.3 * x * x + (2.0 * x ** 4 if x > 0 else 0.0)


def shifted_valley_loss(lr):
    """The same shape with its floor at lr = 3e-4 (Adam-like rates)."""
    return valley_loss(lr * 0.05 / 3e-4)


def random_search_lr(u, low, high, objective):
    """Random search over a log-uniform learning rate: trial i uses
    lr_i = low * (high / low) ** u[i] and scores objective(lr_i) (lower is better). Returns
    (best_lr, best_value) of the lowest score, the earliest trial on a tie."""
    best_lr, best_value = None, math.inf
    for lr in log_uniform_from_unit(np.asarray(u, dtype=np.float64), low, high):
        value = objective(float(lr))
        if value < best_value:
            best_lr, best_value = float(lr), value
    return best_lr, best_value


def _random_search_cases(rng):
    cases = []
    for objective, (low, high) in ((valley_loss, (1e-4, 1.0)), (shifted_valley_loss, (1e-5, 1e-1)),
                                   (valley_loss, (1e-3, 10.0))):
        u = rng.random(12)
        cases.append(Case("12 trials", (u, low, high, objective)))
    u = np.array([0.9, 0.2, 0.55, 0.7])       # the best trial is neither first nor last
    cases.append(Case("4 trials", (u, 1e-4, 1.0, valley_loss)))
    return cases


# ---------------------------------------------------------------- trials to hit the top q

def trials_needed(q, p):
    """The smallest number n of independent random trials such that at least one lands in
    a region holding a fraction q of the search space with probability >= p:
    the least n with 1 - (1 - q)^n >= p. Returns an int."""
    n = max(1, math.ceil(math.log(1.0 - p) / math.log(1.0 - q)))
    while n > 1 and 1.0 - (1.0 - q) ** (n - 1) >= p:   # guard against rounding in the logs
        n -= 1
    while 1.0 - (1.0 - q) ** n < p:
        n += 1
    return n


def _trials_needed_cases(rng):
    cases = [Case("top 5%, 95% sure", (0.05, 0.95)),      # 59, the answer the chapter leaves open
             Case("other fractions and targets", (0.01, 0.95)),
             Case("other fractions and targets", (0.05, 0.5))]
    for _ in range(3):
        cases.append(Case("random q and p", (float(rng.uniform(0.005, 0.3)),
                                             float(rng.uniform(0.5, 0.999)))))
    cases.append(Case("q large", (0.6, 0.99)))
    return cases


# ---------------------------------------------------------------- successive halving

def halving_rungs(n_configs, min_budget, max_budget, eta):
    """The rungs of successive halving: rung k runs floor(n_configs / eta^k) configurations
    with a budget of min_budget * eta^k each, while the budget is at most max_budget and at
    least one configuration is left. Returns (configs per rung, budget per rung, total cost)
    as two int arrays and an int."""
    rungs = halving_schedule(n_configs, min_budget, max_budget, eta)
    n = np.array([r[0] for r in rungs], dtype=np.int64)
    budget = np.array([r[1] for r in rungs], dtype=np.int64)
    return n, budget, int(np.sum(n * budget))


def _halving_cases(rng):
    return [
        Case("powers of eta", (16, 1, 8, 2)),
        Case("powers of eta", (81, 1, 81, 3)),
        Case("not powers of eta", (20, 1, 16, 2)),
        Case("not powers of eta", (50, 2, 40, 3)),
        Case("not powers of eta", (int(rng.integers(30, 200)), int(rng.integers(1, 4)), 100, 4)),
        Case("one configuration left early", (5, 1, 64, 2)),
    ]


# ---------------------------------------------------------------- wall time of parallel trials

def parallel_wall_time(n_trials, trial_seconds, n_workers, startup_seconds):
    """Wall time of n_trials independent trials of trial_seconds each on n_workers
    processes that start after startup_seconds: the workers run rounds of up to n_workers
    trials at once, so the time is startup + ceil(n_trials / n_workers) * trial_seconds."""
    return startup_seconds + math.ceil(n_trials / n_workers) * trial_seconds


def _parallel_cases(rng):
    return [
        Case("not a multiple of the workers", (9, 2.0, 2, 1.5)),
        Case("not a multiple of the workers", (13, 0.7, 4, 0.8)),
        Case("a multiple of the workers", (16, 1.25, 8, 2.0)),
        Case("more workers than trials", (3, 5.0, 8, 1.0)),
        Case("one worker", (int(rng.integers(5, 30)), float(rng.uniform(0.1, 3)), 1, 0.0)),
    ]


# ---------------------------------------------------------------- grid or random: which hits?

def grid_random_hit(k, w):
    """The chance that a k x k grid and k^2 random trials put at least one trial inside a
    good interval [a, a + w] of the important parameter x, a uniform on [0, 1 - w]. The
    grid's x-values are (i + 1/2) / k; with w <= 1 / (2k) each one is inside for a stretch
    of length w of the 1 - w possible positions, and never two at once: k w / (1 - w).
    Each random trial is inside with probability w, independently: 1 - (1 - w)^(k^2).
    Returns (p_grid, p_random)."""
    return k * w / (1.0 - w), 1.0 - (1.0 - w) ** (k * k)


def _grid_random_cases(rng):
    cases = [Case("3 x 3 against 9 trials", (3, 0.05)),
             Case("other grids", (5, 0.02)),
             Case("other grids", (4, 0.1))]
    for _ in range(3):
        k = int(rng.integers(2, 9))
        cases.append(Case("random k and w", (k, float(rng.uniform(0.01, 0.5 / k)))))
    return cases


# ---------------------------------------------------------------- hints for classic slips
#
# Each predicate recomputes what one slip returns for the failing case and compares it with
# the learner's output, so a hint shows only when the numbers are exactly that slip.

def _same(got, value):
    value = np.asarray(value, dtype=np.float64)
    return got.shape == value.shape and bool(np.allclose(got, value, rtol=1e-9, atol=0.0))


def _uniform_map(case, name, expected, got):          # low + u (high - low)
    u, low, high = case.args
    return _same(got, low + np.asarray(u) * (high - low))


def _missing_low(case, name, expected, got):          # (high / low) ** u or high ** u
    u, low, high = case.args
    u = np.asarray(u, dtype=np.float64)
    return _same(got, (high / low) ** u) or _same(got, high ** u)


def _search_slip(case, name, got, lr_of, pick):
    u, low, high, objective = case.args
    lrs = [float(lr_of(x, low, high)) for x in np.asarray(u, dtype=np.float64)]
    values = [objective(lr) for lr in lrs]
    i = int(pick(values))
    return _same(got, lrs[i] if name == "best_lr" else values[i])


def _kept_the_highest(case, name, expected, got):     # argmax of a lower-is-better loss
    return _search_slip(case, name, got, lambda x, lo, hi: lo * (hi / lo) ** x, np.argmax)


def _uniform_draws(case, name, expected, got):        # lr = low + u (high - low)
    return _search_slip(case, name, got, lambda x, lo, hi: lo + x * (hi - lo), np.argmin)


def _ratio(case):
    q, p = case.args
    return math.log(1.0 - p) / math.log(1.0 - q)


def _rounded(case, name, expected, got):              # round() or floor instead of ceil
    return _same(got, round(_ratio(case))) or _same(got, math.floor(_ratio(case)))


def _linear_in_q(case, name, expected, got):          # p / q trials
    q, p = case.args
    return _same(got, math.ceil(p / q)) or _same(got, round(p / q))


def _log_of_p(case, name, expected, got):             # log(p) where log(1 - p) belongs
    q, p = case.args
    return _same(got, math.ceil(math.log(p) / math.log(1.0 - q)))


def _ceil_rungs(n_configs, min_budget, max_budget, eta):
    configs, budgets, n, b = [], [], n_configs, min_budget
    while n >= 1 and b <= max_budget:
        configs.append(n)
        budgets.append(b)
        n, b = -(-n // eta), b * eta
    return np.array(configs), np.array(budgets), int(np.sum(np.array(configs) * np.array(budgets)))


def _kept_the_ceiling(case, name, expected, got):     # ceil(n / eta) survivors
    configs, budgets, total = _ceil_rungs(*case.args)
    return _same(got, {"configs": configs, "budgets": budgets, "total": total}[name])


def _total_at_full_budget(case, name, expected, got):  # every config at max_budget
    n_configs, max_budget = case.args[0], case.args[2]
    configs, budgets, _ = halving_rungs(*case.args)
    return name == "total" and (_same(got, n_configs * max_budget)
                                or _same(got, int(configs.sum()) * int(budgets[-1])))


def _no_ceiling(case, name, expected, got):           # n / k rounds, a fraction allowed
    n, t, k, s = case.args
    return _same(got, s + n / k * t)


def _no_startup(case, name, expected, got):           # the workers start for free
    n, t, k, _ = case.args
    return _same(got, math.ceil(n / k) * t) or _same(got, n / k * t)


def _grid_without_range(case, name, expected, got):   # k w: a's range of 1 - w forgotten
    k, w = case.args
    return name == "p_grid" and _same(got, k * w)


def _grid_counted_k2(case, name, expected, got):      # k^2 distinct x-values
    k, w = case.args
    return name == "p_grid" and (_same(got, k * k * w / (1.0 - w)) or _same(got, k * k * w)
                                 or _same(got, 1.0 - (1.0 - w) ** (k * k)))


def _random_union_bound(case, name, expected, got):   # k^2 w, chances added
    k, w = case.args
    return name == "p_random" and (_same(got, k * k * w) or _same(got, k * k * w / (1.0 - w)))


def _random_k_trials(case, name, expected, got):      # k trials, as if it were the grid
    k, w = case.args
    return name == "p_random" and _same(got, 1.0 - (1.0 - w) ** k)


HINTS = {
    "log_uniform_from_unit": (
        (("these are uniform on [low, high]: then most values fall in the top decade. Make "
          "log(value) linear in u instead: log low + u (log high - log low)"), _uniform_map),
        (("u = 0 must give low: the map is low * (high / low) ** u; without the factor low "
          "(or with high ** u) it starts at 1"), _missing_low)),
    "random_search_lr": (
        (("you kept the trial with the highest score; the objective is a validation loss, "
          "so the best trial is the one with the lowest"), _kept_the_highest),
        (("the learning rates were drawn uniformly on [low, high]; trial i must use the "
          "log-uniform rate of exercise 1, low * (high / low) ** u[i]"), _uniform_draws)),
    "trials_needed": (
        (("the smallest whole n with 1 - (1 - q)^n >= p is the ceiling of "
          "log(1 - p) / log(1 - q), not its rounding or floor"), _rounded),
        (("p / q would be right only if the chances of the trials added up; they do not: "
          "all n trials miss with probability (1 - q)^n"), _linear_in_q),
        (("the target is on the miss probability: (1 - q)^n <= 1 - p, so the logarithm "
          "is of 1 - p, not of p"), _log_of_p)),
    "halving_rungs": (
        (("after each rung keep floor(n / eta) configurations (the best 1/eta, rounded "
          "down), not the ceiling"), _kept_the_ceiling),
        (("each rung costs its configurations times its own budget, summed over the rungs; "
          "most configurations never reach the largest budget"), _total_at_full_budget)),
    "parallel_wall_time": (
        (("trials are whole: with n trials on k workers some worker runs ceil(n / k) of "
          "them, so the time does not fall in fractions of a trial"), _no_ceiling),
        ("the workers need startup_seconds before the first trial; add it once",
         _no_startup)),
    "grid_random_hit": (
        (("the left end a of the interval is uniform on [0, 1 - w], not [0, 1]: each grid "
          "value is inside for a stretch of length w out of 1 - w"), _grid_without_range),
        (("the k x k grid tries only k distinct values of x (each repeated k times along y), "
          "so only k chances to land in the interval"), _grid_counted_k2),
        (("chances of independent trials do not add (k^2 w can exceed 1): all k^2 miss with "
          "probability (1 - w)^(k^2)"), _random_union_bound),
        (("the random search has k^2 trials, each with its own x, not k"), _random_k_trials)),
}


# ---------------------------------------------------------------- the registry entries

EXERCISES = [
    register(Exercise(PREFIX + "log_uniform_from_unit", "log_uniform_from_unit",
                      _log_uniform_cases, log_uniform_from_unit, ("values",),
                      hints=HINTS["log_uniform_from_unit"])),
    register(Exercise(PREFIX + "random_search_lr", "random_search_lr", _random_search_cases,
                      random_search_lr, ("best_lr", "best_value"),
                      hints=HINTS["random_search_lr"])),
    register(Exercise(PREFIX + "trials_needed", "trials_needed", _trials_needed_cases,
                      trials_needed, ("n",), tolerance=1e-12, hints=HINTS["trials_needed"])),
    register(Exercise(PREFIX + "halving_rungs", "halving_rungs", _halving_cases, halving_rungs,
                      ("configs", "budgets", "total"), tolerance=1e-12,
                      hints=HINTS["halving_rungs"])),
    register(Exercise(PREFIX + "parallel_wall_time", "parallel_wall_time", _parallel_cases,
                      parallel_wall_time, ("seconds",), hints=HINTS["parallel_wall_time"])),
    register(Exercise(PREFIX + "grid_random_hit", "grid_random_hit", _grid_random_cases,
                      grid_random_hit, ("p_grid", "p_random"), hints=HINTS["grid_random_hit"])),
]
