"""Search spaces: what each hyperparameter may be, and configurations drawn from them.

A space is a dict `name -> domain`. A domain is a `LogUniform`, `Uniform` or `Choice`
(sampled by random search, discretised by grid search), a list or tuple (a choice among
its values), or any other value (held fixed):

    space = {"lr": LogUniform(1e-4, 1.0), "hidden": [32, 64, 128], "epochs": 5}
    grid_configs(space, points=3)       # 3 x 3 = 9 configs, lr in {1e-4, 1e-2, 1}
    random_configs(space, 9, rng=0)     # 9 configs, 9 different learning rates
"""
import itertools
import math
import numbers

import numpy as np

from .._random import get_rng

__all__ = ["Choice", "LogUniform", "Uniform", "grid_configs", "random_configs"]


class Uniform:
    """A real number drawn uniformly from [low, high]."""

    def __init__(self, low, high):
        self.low, self.high = _interval(low, high, type(self).__name__)

    def from_unit(self, u):
        """The value at quantile u in [0, 1]: low + u (high - low)."""
        return self.low + np.asarray(u, dtype=np.float64) * (self.high - self.low)

    def sample(self, rng=None, size=None):
        """A float (size None) or an array of `size` draws."""
        value = self.from_unit(get_rng(rng).random(size))
        return float(value) if size is None else value

    def grid(self, points):
        """`points` evenly spaced values from low to high (both included)."""
        return [float(v) for v in self.from_unit(_unit_grid(points, type(self).__name__))]

    def __repr__(self):
        return f"{type(self).__name__}({self.low:g}, {self.high:g})"


class LogUniform(Uniform):
    """A positive real whose logarithm is uniform on [log low, log high]: every factor of 10
    in the range gets the same share of the draws (learning rates, weight decays).

    The value at quantile u is low * (high / low) ** u = exp(log low + u (log high - log low)).
    """

    def __init__(self, low, high):
        super().__init__(low, high)
        if self.low <= 0:
            raise ValueError(f"LogUniform: low must be > 0 (its logarithm is taken), got {low!r}")

    def from_unit(self, u):
        return self.low * (self.high / self.low) ** np.asarray(u, dtype=np.float64)


class Choice:
    """One of a fixed list of values, each equally likely."""

    def __init__(self, values):
        self.values = list(values)
        if not self.values:
            raise ValueError("Choice: give at least one value")

    def sample(self, rng=None, size=None):
        rng = get_rng(rng)
        if size is None:
            return self.values[int(rng.integers(len(self.values)))]
        return [self.values[int(i)] for i in rng.integers(len(self.values), size=size)]

    def grid(self, points=None):
        """Every value, whatever `points` asks for."""
        return list(self.values)

    def __repr__(self):
        return f"Choice({self.values!r})"


def grid_configs(space, points=3):
    """Every combination of the space's values: the grid of grid search.

    Continuous domains contribute `points` values each (evenly spaced, on a log scale for
    LogUniform); lists and Choices all their values; fixed values themselves. Returns a
    list of dicts in itertools.product order (the last key varies fastest).
    """
    axes = {name: _domain(name, domain).grid(points) if _is_domain(domain) else [domain]
            for name, domain in _checked_space(space, "grid_configs").items()}
    names = list(axes)
    return [dict(zip(names, values)) for values in itertools.product(*axes.values())]


def random_configs(space, n, rng=None):
    """`n` configurations, each hyperparameter drawn independently from its domain.

    rng: a Generator or an int seed. The draws are made config by config, key by key in the
    space's order, so the same seed gives the same configs. Returns a list of n dicts.
    """
    space = _checked_space(space, "random_configs")
    if not isinstance(n, numbers.Integral) or isinstance(n, bool) or n < 1:
        raise ValueError(f"random_configs: n must be a positive int, got {n!r}")
    rng = get_rng(rng)
    configs = []
    for _ in range(int(n)):
        configs.append({name: _domain(name, d).sample(rng) if _is_domain(d) else d
                        for name, d in space.items()})
    return configs


# -- helpers ------------------------------------------------------------------------------

def _interval(low, high, where):
    for value, name in ((low, "low"), (high, "high")):
        if not isinstance(value, numbers.Real) or isinstance(value, bool) \
                or not math.isfinite(value):
            raise ValueError(f"{where}: {name} must be a finite number, got {value!r}")
    if not low < high:
        raise ValueError(f"{where}: low must be below high, got low={low!r}, high={high!r}")
    return float(low), float(high)


def _unit_grid(points, where):
    if not isinstance(points, numbers.Integral) or isinstance(points, bool) or points < 1:
        raise ValueError(f"{where}.grid: points must be a positive int, got {points!r}")
    return np.array([0.5]) if points == 1 else np.linspace(0.0, 1.0, int(points))


def _is_domain(domain):
    return isinstance(domain, (Uniform, Choice, list, tuple))


def _domain(name, domain):
    if isinstance(domain, (list, tuple)):
        if not domain:
            raise ValueError(f"search space: {name!r} is an empty list; give at least one value")
        return Choice(domain)
    return domain


def _checked_space(space, where):
    if not isinstance(space, dict) or not space:
        raise TypeError(f"{where}: space must be a non-empty dict name -> domain, "
                        f"got {type(space).__name__}")
    for name in space:
        if not isinstance(name, str):
            raise TypeError(f"{where}: hyperparameter names must be strings, got {name!r}")
    return space
