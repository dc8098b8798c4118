"""The library's default random generator and the `rng=` convention.

Every stochastic function takes `rng=`: a `numpy.random.Generator`, an int seed,
or None for the default generator, which `dlcore.seed(n)` resets.
"""
import numbers

import numpy as np

_default_rng = np.random.default_rng(0)


def seed(n):
    """Reset the default generator so that every later `rng=None` call is reproducible."""
    global _default_rng
    if not isinstance(n, numbers.Integral) or isinstance(n, bool) or n < 0:
        raise ValueError(f"seed must be a non-negative int, got {n!r}")
    _default_rng = np.random.default_rng(int(n))


def get_rng(rng=None):
    """Resolve `rng=` to a `numpy.random.Generator` (None -> the default generator)."""
    if rng is None:
        return _default_rng
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise TypeError(
        f"rng must be a numpy.random.Generator, an int seed or None, got {type(rng).__name__}"
    )
