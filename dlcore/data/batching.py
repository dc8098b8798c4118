"""Minibatches: one pass over a data set in (optionally shuffled) batches."""
import numpy as np

from .. import _checks
from .._random import get_rng

__all__ = ["minibatches"]


def minibatches(X, y, batch_size, shuffle=True, rng=None, drop_last=False):
    """Yield (X_batch, y_batch) pairs that cover the data once (the last may be smaller).

    X: (N, ...); y: (N,) or None. With shuffle=True the order is a fresh permutation
    drawn from `rng` each call. drop_last=True leaves out a final batch smaller than
    batch_size (batch norm cannot train on a batch of one).
    """
    batch_size = _checks.positive_int(batch_size, "batch_size", "minibatches")
    n = X.shape[0]
    if y is not None and y.shape[0] != n:
        raise _checks.ShapeError(
            f"minibatches: X has {n} rows but y has {y.shape[0]}; they must match"
        )
    order = get_rng(rng).permutation(n) if shuffle else np.arange(n)
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        idx = order[start:start + batch_size]
        yield X[idx], (None if y is None else y[idx])
