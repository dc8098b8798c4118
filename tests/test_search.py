"""dlcore.search: spaces and samplers (distributions checked by their quantiles), the trials
table, parallel runs equal to serial ones, successive halving's rungs and budget, and the
digits objective."""
import math
import os
import time

import numpy as np
import pytest

from dlcore.search import (
    Choice,
    LogUniform,
    Uniform,
    digits_trial,
    grid_configs,
    halving_schedule,
    mlp_from_config,
    random_configs,
    run_trials,
    successive_halving,
)


# Module-level, so that spawned workers can import them by name.
def quadratic_trial(config, seed):
    """A known objective: (log10 lr + 2)^2 plus a small seed-dependent offset."""
    return {"val_loss": (math.log10(config["lr"]) + 2) ** 2 + 0.01 * seed}


def rendezvous_trial(config, seed):
    """Record this worker in config["folder"] and wait (up to 30 s) until two workers have,
    so that a test of two workers does not depend on how fast each one starts."""
    folder = config["folder"]
    with open(os.path.join(folder, f"{os.getpid()}"), "w"):
        pass
    deadline = time.monotonic() + 30
    while len(os.listdir(folder)) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(config["sleep"])
    return 0.0


def budget_trial(config, seed):
    """The loss falls with the budget, faster for lr near 1e-2; the best x wins at any budget."""
    return {"val_loss": abs(config["x"]) + 1.0 / config["epochs"]}


def failing_trial(config, seed):
    if config["lr"] > 0.5:
        raise FloatingPointError("diverged")
    return 0.0


def hanging_trial(config, seed):
    """Seed 1 never returns (a deadlocked worker); the others return at once."""
    while seed == 1:
        time.sleep(0.05)
    return 0.0


def dying_trial(config, seed):
    """Seed 1 kills its worker process outright (as a segfault or the OOM killer would)."""
    if seed == 1:
        os._exit(3)
    return 0.0


# ---------------------------------------------------------------- spaces

def test_log_uniform_gives_each_decade_the_same_share():
    lr = LogUniform(1e-4, 1.0).sample(rng=0, size=40_000)
    assert lr.min() >= 1e-4 and lr.max() <= 1.0
    shares = np.histogram(np.log10(lr), bins=[-4, -3, -2, -1, 0])[0] / lr.size
    np.testing.assert_allclose(shares, 0.25, atol=0.01)
    # a uniform draw on the same range puts only 0.1% below 1e-3 and 90% above 0.1
    u = Uniform(1e-4, 1.0).sample(rng=0, size=40_000)
    assert np.mean(u > 0.1) == pytest.approx(0.9, abs=0.01)


def test_from_unit_and_grid_are_the_closed_forms():
    d = LogUniform(1e-3, 10.0)
    np.testing.assert_allclose(d.from_unit([0.0, 0.25, 0.5, 1.0]),
                               [1e-3, 1e-2, 1e-1, 10.0], rtol=1e-12)
    assert d.grid(5) == pytest.approx([1e-3, 1e-2, 1e-1, 1.0, 10.0], rel=1e-12)
    assert Uniform(2.0, 4.0).grid(3) == [2.0, 3.0, 4.0]
    assert Uniform(2.0, 4.0).grid(1) == [3.0]
    assert Choice(["a", "b"]).grid(7) == ["a", "b"]


def test_grid_configs_is_the_product_in_key_order():
    configs = grid_configs({"lr": LogUniform(0.01, 1.0), "h": [8, 16], "epochs": 3}, points=3)
    assert len(configs) == 6
    assert [c["h"] for c in configs] == [8, 16] * 3                 # last key fastest
    assert [c["lr"] for c in configs[::2]] == pytest.approx([0.01, 0.1, 1.0])
    assert all(c["epochs"] == 3 for c in configs)


def test_random_configs_are_seeded_and_distinct():
    space = {"lr": LogUniform(1e-4, 1.0), "p": Uniform(0.0, 0.5), "act": ["relu", "elu"]}
    a, b = random_configs(space, 9, rng=3), random_configs(space, 9, rng=3)
    assert a == b and a != random_configs(space, 9, rng=4)
    assert len({c["lr"] for c in a}) == 9                           # nine distinct rates
    assert {c["act"] for c in random_configs(space, 50, rng=0)} == {"relu", "elu"}


def test_bad_spaces_say_what_is_wrong():
    with pytest.raises(ValueError, match="low must be > 0"):
        LogUniform(0.0, 1.0)
    with pytest.raises(ValueError, match="low must be below high"):
        Uniform(1.0, 1.0)
    with pytest.raises(TypeError, match="non-empty dict"):
        grid_configs([("lr", 0.1)])
    with pytest.raises(ValueError, match="'h' is an empty list"):
        random_configs({"h": []}, 2)
    with pytest.raises(ValueError, match="n must be a positive int"):
        random_configs({"h": [1]}, 0)


# ---------------------------------------------------------------- run_trials

def test_run_trials_table_rows_best_and_aggregate():
    configs = [{"lr": 1e-3}, {"lr": 1e-2}, {"lr": 1e-1}]
    table = run_trials(quadratic_trial, configs, seeds=(0, 1, 2))
    assert len(table) == 9
    assert [(r["trial"], r["seed"]) for r in table][:4] == [(0, 0), (0, 1), (0, 2), (1, 0)]
    assert table.columns == ["trial", "seed", "lr", "val_loss", "worker", "started", "seconds",
                             "cpu_seconds"]
    best = table.best("val_loss")
    assert best["lr"] == 1e-2 and best["seed"] == 0 and best["val_loss"] == pytest.approx(0.0)
    worst = table.best("val_loss", mode="max")                      # 1.02 twice: first wins
    assert (worst["lr"], worst["seed"]) == (1e-3, 2)
    agg = table.aggregate("val_loss")
    assert [a["lr"] for a in agg] == [1e-3, 1e-2, 1e-1]
    assert agg[1]["val_loss_mean"] == pytest.approx(0.01)           # offsets 0, .01, .02
    assert agg[1]["val_loss_sd"] == pytest.approx(0.01)              # ddof=1: sd of 0,.01,.02
    assert agg[1]["n"] == 3
    text = table.to_string(["lr", "val_loss"])
    assert text.splitlines()[0].split() == ["lr", "val_loss"] and len(text.splitlines()) == 10


def test_parallel_rows_equal_serial_rows():
    configs = [{"lr": 10.0 ** -k} for k in range(6)]
    serial = run_trials(quadratic_trial, configs, seeds=(0, 1))
    parallel = run_trials(quadratic_trial, configs, seeds=(0, 1), n_jobs=2)
    assert parallel.column("val_loss").tolist() == serial.column("val_loss").tolist()
    assert set(serial.column("worker")) == {os.getpid()}
    assert os.getpid() not in set(parallel.column("worker"))        # ran in the workers


def test_timings_show_two_trials_at_once_with_two_workers(tmp_path):
    table = run_trials(rendezvous_trial, [{"sleep": 0.3, "folder": str(tmp_path)}] * 4,
                       n_jobs=2)
    assert len(set(table.column("worker"))) == 2
    start, end = table.column("started"), table.column("started") + table.column("seconds")
    assert np.all(table.column("seconds") >= 0.3)
    assert np.all(table.column("cpu_seconds") < table.column("seconds"))   # sleeping is not work
    overlaps = [(start[i] < end[j]) and (start[j] < end[i])
                for i in range(4) for j in range(i + 1, 4)]
    assert sum(overlaps) >= 2                                        # pairs ran side by side
    assert table.wall_seconds >= end.max() - 1e-3


def test_worker_environment_is_restored():
    before = dict(os.environ)
    run_trials(quadratic_trial, [{"lr": 0.1}, {"lr": 0.2}], n_jobs=2)
    assert dict(os.environ) == before


def test_errors_raise_with_the_config_or_are_recorded():
    configs = [{"lr": 0.1}, {"lr": 1.0}]
    with pytest.raises(RuntimeError, match=r"trial 1 \(config \{'lr': 1.0\}, seed 0\) "
                                           r"failed: FloatingPointError: diverged"):
        run_trials(failing_trial, configs)
    table = run_trials(failing_trial, configs, on_error="record")
    assert table[0]["score"] == 0.0 and math.isnan(table.column("score")[1])
    assert table[1]["error"] == "FloatingPointError: diverged"
    assert table.best("score")["lr"] == 0.1


def _alive(pids):
    return [pid for pid in pids if os.path.exists(f"/proc/{pid}")
            and open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] != "Z"]


def _pool_workers(pids):
    """The spawned pool workers among pids. Other children may come and go: the
    resource tracker multiprocessing starts with the first pool (and again if it died),
    or an orphan another test left and this process, a subreaper, inherited."""
    def cmdline(pid):
        try:
            return open(f"/proc/{pid}/cmdline").read()
        except OSError:
            return ""
    return [pid for pid in pids if "spawn_main" in cmdline(pid)]


def _children():
    """Process ids of this process's children (Linux; empty elsewhere)."""
    try:
        tasks = os.listdir(f"/proc/{os.getpid()}/task")
        return {int(c) for t in tasks
                for c in open(f"/proc/{os.getpid()}/task/{t}/children").read().split()}
    except OSError:
        return set()


def test_a_hung_worker_raises_at_the_timeout_and_is_killed():
    before = _children()
    start = time.perf_counter()
    with pytest.raises(TimeoutError, match=r"did not finish within timeout=8 s"):
        run_trials(hanging_trial, [{"lr": 0.1}], seeds=(0, 1, 2), n_jobs=2, timeout=8)
    assert time.perf_counter() - start < 8 + 15     # the timeout, plus killing and joining
    assert _pool_workers(_alive(_children() - before)) == []       # no worker left behind


def test_a_dead_worker_raises_instead_of_hanging():
    before = _children()
    start = time.perf_counter()
    with pytest.raises(RuntimeError, match="a worker process died"):
        run_trials(dying_trial, [{"lr": 0.1}], seeds=(0, 1, 2), n_jobs=2, timeout=60)
    assert time.perf_counter() - start < 60
    assert _pool_workers(_alive(_children() - before)) == []


def test_bad_timeouts_are_refused():
    for bad in (0, -1.0, "10", True):
        with pytest.raises(ValueError, match="timeout must be a positive number of seconds"):
            run_trials(quadratic_trial, [{"lr": 0.1}], timeout=bad)


def test_functions_workers_cannot_import_are_refused_at_the_door():
    with pytest.raises(ValueError, match="module-level function of an importable module"):
        run_trials(lambda c, s: 0.0, [{"a": 1}], n_jobs=2)
    with pytest.raises(TypeError, match="non-empty list of dicts"):
        run_trials(quadratic_trial, {"lr": 0.1})
    with pytest.raises(ValueError, match="n_jobs must be a positive int or -1"):
        run_trials(quadratic_trial, [{"lr": 0.1}], n_jobs=0)
    with pytest.raises(ValueError, match=r"table's own column names \['seed'\]"):
        run_trials(quadratic_trial, [{"lr": 0.1, "seed": 3}])


# ---------------------------------------------------------------- successive halving

def test_halving_schedule_rungs_and_cost():
    assert halving_schedule(16, 1, 8, eta=2) == [(16, 1), (8, 2), (4, 4), (2, 8)]
    assert sum(n * r for n, r in halving_schedule(16, 1, 8)) == 64
    assert halving_schedule(27, 1, 27, eta=3) == [(27, 1), (9, 3), (3, 9), (1, 27)]
    assert halving_schedule(10, 2, 100, eta=3) == [(10, 2), (3, 6), (1, 18)]
    with pytest.raises(ValueError, match="eta must be at least 2"):
        halving_schedule(8, 1, 8, eta=1)
    with pytest.raises(ValueError, match="min_budget .* exceeds max_budget"):
        halving_schedule(8, 9, 8)


def test_successive_halving_keeps_the_best_half_each_rung():
    xs = [0.7, -0.1, 0.4, 0.05, -0.9, 0.3, -0.25, 0.6]
    table = successive_halving(budget_trial, [{"x": x} for x in xs], 1, 4, eta=2)
    assert table.rungs == 3
    by_rung = [[r["x"] for r in table if r["rung"] == k] for k in range(3)]
    assert by_rung[0] == xs
    assert by_rung[1] == [-0.1, 0.05, 0.3, -0.25]                   # best half, original order
    assert by_rung[2] == [-0.1, 0.05]
    assert table.column("epochs").sum() == 8 * 1 + 4 * 2 + 2 * 4
    last = [r for r in table if r["rung"] == 2]
    assert min(last, key=lambda r: r["val_loss"])["x"] == 0.05


def test_aggregate_of_a_halving_table_keeps_each_rung_apart():
    xs = [0.7, -0.1, 0.4, 0.05]
    table = successive_halving(budget_trial, [{"x": x} for x in xs], 1, 4, eta=2)
    agg = table.aggregate("val_loss")
    assert [(a["rung"], a["trial"], a["epochs"]) for a in agg] == [
        (0, 0, 1), (0, 1, 1), (0, 2, 1), (0, 3, 1), (1, 1, 2), (1, 3, 2), (2, 3, 4)]
    assert all(a["n"] == 1 and math.isnan(a["val_loss_sd"]) for a in agg)
    rows = {(r["rung"], r["trial"]): r["val_loss"] for r in table}
    assert [a["val_loss_mean"] for a in agg] == [rows[a["rung"], a["trial"]] for a in agg]


# ---------------------------------------------------------------- the digits objective

def test_mlp_from_config_builds_what_the_config_says():
    model = mlp_from_config({"depth": 2, "hidden": 16, "batchnorm": True, "dropout": 0.2,
                             "activation": "elu"}, rng=0)
    names = [type(m).__name__ for m in model]
    assert names == ["Linear", "BatchNorm1d", "ELU", "Dropout"] * 2 + ["Linear"]
    assert model[0].W.shape == (64, 16) and model[-1].W.shape == (16, 10)
    with pytest.raises(ValueError, match="activation must be one of"):
        mlp_from_config({"activation": "swish"})


def test_digits_trial_learns_and_reports_divergence():
    good = digits_trial({"lr": 0.1, "epochs": 3}, seed=0)
    assert good["val_acc"] > 0.85 and good["val_loss"] < 0.6
    assert digits_trial({"lr": 0.1, "epochs": 3}, seed=0) == good   # seeded
    bad = digits_trial({"lr": 1e4, "epochs": 1}, seed=0)
    assert bad["val_loss"] == math.inf and math.isnan(bad["val_acc"])
    with pytest.raises(ValueError, match=r"unknown config keys \['learning_rate'\]"):
        digits_trial({"learning_rate": 0.1})
