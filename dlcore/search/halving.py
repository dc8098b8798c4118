"""Successive halving (Jamieson & Talwalkar, 2016), the building block of Hyperband and ASHA.

Start many configurations on a small budget (a few epochs), keep the best 1/eta of them,
give the survivors eta times the budget, and repeat until the budget reaches its maximum.
Bad configurations are dropped after a cheap look, so most of the compute goes to the
promising ones. Here every rung trains from scratch with its budget (no checkpoints are
carried between rungs), so a rung with n configurations at budget r costs n * r.
"""
import math
import numbers

import numpy as np

from .trials import Trials, run_trials

__all__ = ["halving_schedule", "successive_halving"]


def halving_schedule(n_configs, min_budget, max_budget, eta=2):
    """The rungs of successive halving as a list of (configs, budget per config).

    Rung k runs n_k = floor(n_configs / eta^k) configurations with budget
    min_budget * eta^k; rungs continue while the budget is at most max_budget and at least
    one configuration is left. The total cost is sum(n_k * budget_k).
    """
    for value, name in ((n_configs, "n_configs"), (min_budget, "min_budget"),
                        (max_budget, "max_budget"), (eta, "eta")):
        if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
            raise ValueError(f"halving_schedule: {name} must be a positive int, got {value!r}")
    if eta < 2:
        raise ValueError(f"halving_schedule: eta must be at least 2, got {eta}")
    if min_budget > max_budget:
        raise ValueError(f"halving_schedule: min_budget ({min_budget}) exceeds max_budget "
                         f"({max_budget})")
    rungs, n, budget = [], int(n_configs), int(min_budget)
    while n >= 1 and budget <= max_budget:
        rungs.append((n, budget))
        n, budget = n // eta, budget * eta
    return rungs


def successive_halving(train_fn, configs, min_budget, max_budget, eta=2, metric="val_loss",
                       mode="min", budget_key="epochs", seed=0, n_jobs=1):
    """Run successive halving over `configs`; return a `Trials` table with a "rung" column.

    train_fn(config, seed) -> dict of metrics, as for `run_trials`; each rung sets
    config[budget_key] to its budget. After each rung the best floor(n / eta) configs by
    `metric` ("min" or "max" by `mode`; failed trials count as worst) go on. The winner is
    `table.best(metric, mode)` among the rows of the last rung (`rung == table.rungs - 1`);
    the total cost is `table.column(budget_key).sum()`.
    """
    if mode not in ("min", "max"):
        raise ValueError(f"successive_halving: mode must be 'min' or 'max', got {mode!r}")
    schedule = halving_schedule(len(configs), min_budget, max_budget, eta)
    alive = list(range(len(configs)))
    rows, wall = [], 0.0
    for rung, (n, budget) in enumerate(schedule):
        alive = alive[:n] if rung == 0 else alive
        rung_configs = [{**configs[i], budget_key: budget} for i in alive]
        table = run_trials(train_fn, rung_configs, seeds=(seed,), n_jobs=n_jobs)
        wall += table.wall_seconds
        for i, row in zip(alive, table):
            rows.append({"rung": rung, **row, "trial": i})
        if rung + 1 < len(schedule):
            scores = table.column(metric).astype(np.float64)
            scores = np.where(np.isnan(scores), math.inf, scores if mode == "min" else -scores)
            keep = schedule[rung + 1][0]
            order = np.argsort(scores, kind="stable")[:keep]
            alive = [alive[j] for j in sorted(order)]
    keys = []
    for config in configs:
        keys.extend(k for k in config if k not in keys)
    result = Trials(rows, keys + ([budget_key] if budget_key not in keys else []),
                    wall_seconds=wall, n_jobs=n_jobs)
    result.rungs = len(schedule)
    return result
