"""Run one training function on many configurations, in parallel processes, into a table.

    def train_fn(config, seed):          # defined in an importable module when n_jobs > 1
        ...                              # train with config's hyperparameters and this seed
        return {"val_loss": ..., "val_acc": ...}

    table = run_trials(train_fn, configs, seeds=(0, 1, 2), n_jobs=2)
    table.best("val_loss")               # the row with the lowest validation loss
    print(table)

Trials are independent, so they parallelise perfectly ("hyperparameter parallelism"): each
worker process trains whole models. Processes are started with `spawn` (a fresh
interpreter, as on macOS and Windows), so the training function must be importable by name
from a module, not defined in a notebook; each worker is limited to one BLAS thread, so
n_jobs processes use n_jobs cores and do not fight over them. Rows come back in the order
of (config, seed), whatever order the workers finish in, so a seeded search gives the same
table with any n_jobs. In a script, call it under `if __name__ == "__main__":`, since the
workers import the script as their main module.
"""
import concurrent.futures
import contextlib
import math
import multiprocessing
import numbers
import os
import time

import numpy as np

__all__ = ["Trials", "run_trials"]

_BLAS_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


class Trials:
    """The results of a search: one row (a dict) per (config, seed).

    Each row holds "trial" (the config's index), "seed", the config's keys, the metrics
    returned by the training function, "worker" (the id of the process that ran it),
    "started" (seconds from the start of `run_trials` to the start of the call), "seconds"
    (the wall time of the call) and "cpu_seconds" (the processor time its process spent on
    it: less than "seconds" when the process waited for a core). `wall_seconds` is the time
    of the whole run. `columns` lists the keys in order; `column(name)` gives one as an array;
    `best(metric)` the best row; `aggregate(metric)` the mean and sample sd over seeds.
    """

    def __init__(self, rows, config_keys=(), wall_seconds=None, n_jobs=1):
        self.rows = [dict(r) for r in rows]
        self.config_keys = list(config_keys)
        self.wall_seconds, self.n_jobs = wall_seconds, n_jobs

    def __len__(self):
        return len(self.rows)

    def __iter__(self):
        return iter(self.rows)

    def __getitem__(self, i):
        return self.rows[i]

    @property
    def columns(self):
        names = []
        for row in self.rows:
            names.extend(k for k in row if k not in names)
        return names

    def column(self, name):
        """The values of one column as a numpy array (NaN where a row lacks it)."""
        if name not in self.columns:
            raise KeyError(f"Trials.column: no column {name!r}; columns are {self.columns}")
        return np.array([row.get(name, math.nan) for row in self.rows])

    def best(self, metric, mode="min"):
        """The row whose `metric` is lowest (mode "min") or highest ("max"); NaN rows (failed
        trials) are never best. The first such row wins a tie."""
        values = self._metric(metric, mode, "best")
        if np.all(np.isnan(values)):
            raise ValueError(f"Trials.best: every trial has {metric} = NaN")
        pick = np.nanargmin if mode == "min" else np.nanargmax
        return self.rows[int(pick(values))]

    def aggregate(self, metric):
        """One row per config: its keys, f"{metric}_mean", f"{metric}_sd" (sample sd,
        ddof=1; NaN with one seed) and "n" (seeds), in trial order. In a table of
        `successive_halving` a config is a trial at one budget: one row per (trial, rung),
        never the mean of one trial's results at different budgets."""
        self._metric(metric, "min", "aggregate")
        groups = {}
        for row in self.rows:
            groups.setdefault((row["trial"], row.get("rung")), []).append(row)
        out = []
        for (trial, rung), rows in groups.items():
            values = np.array([r[metric] for r in rows], dtype=np.float64)
            first = {k: v for k, v in rows[0].items() if k in self.config_keys}
            where = {"trial": trial} if rung is None else {"rung": rung, "trial": trial}
            out.append({**where, **first, f"{metric}_mean": float(values.mean()),
                        f"{metric}_sd": float(values.std(ddof=1)) if len(values) > 1 else math.nan,
                        "n": len(values)})
        return out

    def to_string(self, columns=None, digits=4):
        """A plain-text table of the given columns (all by default), floats to `digits`
        significant digits."""
        columns = self.columns if columns is None else list(columns)
        cells = [[_fmt(row.get(c, ""), digits) for c in columns] for row in self.rows]
        widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
        lines = ["  ".join(c.rjust(w) for c, w in zip(columns, widths))]
        lines += ["  ".join(v.rjust(w) for v, w in zip(r, widths)) for r in cells]
        return "\n".join(lines)

    def __str__(self):
        return self.to_string()

    def __repr__(self):
        return f"Trials({len(self)} rows, columns {self.columns})"

    def _metric(self, metric, mode, where):
        if mode not in ("min", "max"):
            raise ValueError(f"Trials.{where}: mode must be 'min' or 'max', got {mode!r}")
        if metric not in self.columns:
            raise KeyError(f"Trials.{where}: no column {metric!r}; columns are {self.columns}")
        return np.array([row.get(metric, math.nan) for row in self.rows], dtype=np.float64)


def run_trials(train_fn, configs, seeds=(0,), n_jobs=1, on_error="raise", timeout=None):
    """Call `train_fn(config, seed)` for every config and seed; return a `Trials` table.

    train_fn: returns a dict of metrics (numbers) or one number (stored as "score"). With
    n_jobs > 1 it must be a module-level function of an importable module (the workers are
    fresh interpreters that import it by name). configs: a list of dicts. seeds: ints; each
    config runs once per seed. n_jobs: worker processes (1 runs in this process; -1 uses
    every CPU). on_error: "raise" stops at the first exception, naming the config;
    "record" keeps going and stores the error's text in an "error" column, the metrics
    of that row missing (NaN in `column`). timeout: seconds the whole search may take with
    n_jobs > 1 (None: no limit); past it, or when a worker dies, the workers are killed and
    TimeoutError or RuntimeError is raised, so a hung or crashed worker never hangs the caller.
    """
    configs, seeds, n_jobs = _check_arguments(train_fn, configs, seeds, n_jobs, on_error,
                                              timeout)
    jobs = [(i, config, seed) for i, config in enumerate(configs) for seed in seeds]
    started, start = time.time(), time.perf_counter()
    if n_jobs == 1:
        results = [_run_one(train_fn, config, seed) for _, config, seed in jobs]
        results = [_raise_or_keep(r, job, on_error) for r, job in zip(results, jobs)]
    else:
        deadline = None if timeout is None else start + timeout
        with _one_blas_thread(), _spawned_workers(min(n_jobs, len(jobs))) as pool:
            futures = [pool.submit(_run_one, train_fn, config, seed) for _, config, seed in jobs]
            results = [_raise_or_keep(_result(f, deadline, timeout), job, on_error)
                       for f, job in zip(futures, jobs)]
    wall = time.perf_counter() - start
    rows = []
    for (i, config, seed), (metrics, timing, error) in zip(jobs, results):
        worker, trial_start, seconds, cpu_seconds = timing
        row = {"trial": i, "seed": seed, **config}
        if error is None:
            clash = sorted(set(metrics) & set(row))
            if clash:
                raise ValueError(f"run_trials: train_fn returned metrics named like config "
                                 f"keys or columns: {clash}; rename them")
            row.update(metrics)
        else:
            row["error"] = error
        row.update(worker=worker, started=trial_start - started, seconds=seconds,
                   cpu_seconds=cpu_seconds)
        rows.append(row)
    config_keys = []
    for config in configs:
        config_keys.extend(k for k in config if k not in config_keys)
    return Trials(rows, config_keys, wall_seconds=wall, n_jobs=n_jobs)


# -- helpers ------------------------------------------------------------------------------

def _run_one(train_fn, config, seed):
    """(metrics dict, timing, error text or None), timing = (process id, wall-clock start,
    seconds): runs in a worker or in this process."""
    started, start, cpu = time.time(), time.perf_counter(), time.process_time()
    try:
        result = train_fn(dict(config), seed)
    except Exception as exc:  # noqa: BLE001  (any failure of a trial is reported, with its config)
        timing = (os.getpid(), started, time.perf_counter() - start, time.process_time() - cpu)
        return None, timing, f"{type(exc).__name__}: {exc}"
    timing = (os.getpid(), started, time.perf_counter() - start, time.process_time() - cpu)
    if isinstance(result, numbers.Real) and not isinstance(result, bool):
        return {"score": float(result)}, timing, None
    if not isinstance(result, dict):
        return None, timing, (f"TypeError: train_fn must return a dict of metrics or a "
                              f"number, got {type(result).__name__}")
    return {k: (float(v) if isinstance(v, (numbers.Real, np.floating)) else v)
            for k, v in result.items()}, timing, None


@contextlib.contextmanager
def _spawned_workers(workers):
    """A pool of `workers` spawned processes. Left normally, it waits for them to exit; left
    by an exception (a failed trial, a timeout, a dead worker, Ctrl-C), it cancels the trials
    not yet started and kills the workers, since waiting for a hung one would hang forever."""
    pool = concurrent.futures.ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("spawn"))
    try:
        yield pool
    except BaseException:
        processes = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.kill()
        for process in processes:
            process.join(5)
        raise
    pool.shutdown(wait=True)


def _result(future, deadline, timeout):
    """The future's result, waiting at most until `deadline` (time.perf_counter; None: no
    limit); a dead worker and a timeout become errors that say what happened."""
    wait = None if deadline is None else max(0.0, deadline - time.perf_counter())
    try:
        return future.result(timeout=wait)
    except concurrent.futures.TimeoutError:
        raise TimeoutError(f"run_trials: the trials did not finish within timeout={timeout} s; "
                           f"the workers were stopped") from None
    except concurrent.futures.process.BrokenProcessPool as exc:
        raise RuntimeError(
            "run_trials: a worker process died before finishing its trials. In a "
            "script, call run_trials under `if __name__ == '__main__':` (spawned "
            "workers import the script); otherwise a trial may have run out of "
            "memory or crashed the interpreter.") from exc


def _raise_or_keep(result, job, on_error):
    error = result[2]
    if error is not None and on_error == "raise":
        i, config, seed = job
        raise RuntimeError(f"run_trials: trial {i} (config {config}, seed {seed}) failed: {error}")
    return result


@contextlib.contextmanager
def _one_blas_thread():
    """Workers inherit the environment: give each one BLAS thread unless the user chose."""
    added = [name for name in _BLAS_THREAD_VARS if name not in os.environ]
    for name in added:
        os.environ[name] = "1"
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)


def _check_arguments(train_fn, configs, seeds, n_jobs, on_error, timeout=None):
    if not callable(train_fn):
        raise TypeError(f"run_trials: train_fn must be callable, got {type(train_fn).__name__}")
    if isinstance(configs, dict) or not isinstance(configs, (list, tuple)) or not configs:
        raise TypeError("run_trials: configs must be a non-empty list of dicts "
                        "(e.g. from grid_configs or random_configs)")
    for i, config in enumerate(configs):
        if not isinstance(config, dict):
            raise TypeError(f"run_trials: configs[{i}] must be a dict, got "
                            f"{type(config).__name__}")
        taken = sorted({"trial", "seed", "worker", "started", "seconds", "cpu_seconds",
                        "error"} & set(config))
        if taken:
            raise ValueError(f"run_trials: configs[{i}] uses the table's own column names "
                             f"{taken}; rename those keys")
    if isinstance(seeds, numbers.Integral):
        seeds = (seeds,)
    seeds = tuple(seeds)
    if not seeds or not all(isinstance(s, numbers.Integral) and not isinstance(s, bool)
                            for s in seeds):
        raise TypeError(f"run_trials: seeds must be a non-empty sequence of ints, got {seeds!r}")
    seeds = tuple(int(s) for s in seeds)
    if n_jobs == -1:
        n_jobs = os.cpu_count() or 1
    if not isinstance(n_jobs, numbers.Integral) or isinstance(n_jobs, bool) or n_jobs < 1:
        raise ValueError(f"run_trials: n_jobs must be a positive int or -1 (every CPU), "
                         f"got {n_jobs!r}")
    if timeout is not None and (not isinstance(timeout, numbers.Real) or isinstance(timeout, bool)
                                or not timeout > 0):
        raise ValueError(f"run_trials: timeout must be a positive number of seconds or None, "
                         f"got {timeout!r}")
    if on_error not in ("raise", "record"):
        raise ValueError(f"run_trials: on_error must be 'raise' or 'record', got {on_error!r}")
    if n_jobs > 1:
        module = getattr(train_fn, "__module__", None)
        qualname = getattr(train_fn, "__qualname__", "")
        if module in (None, "__main__") or "<" in qualname:
            raise ValueError(
                f"run_trials: with n_jobs > 1, train_fn must be a module-level function of an "
                f"importable module, because the worker processes import it by name; "
                f"{qualname or train_fn!r} is defined in {module or 'no module'}"
                f"{' (a lambda or a nested function)' if '<' in qualname else ''}. Put it in "
                f"a .py file beside the notebook and import it, or use n_jobs=1.")
    return list(configs), seeds, int(n_jobs)


def _fmt(value, digits):
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)
