"""Input checks shared by the library, each raising an error that names what was expected.

They run once, at the door: in the `nn` layers, losses, optimisers and `fit` that a user
calls (never inside `dlcore.functional`, which is the math alone), so a learner sees
"Linear(in_features=4, out_features=10, bias=True) expects input of shape (N, 4), got
(32, 3)" instead of a numpy broadcasting traceback from deep inside.
"""
import numbers

import numpy as np

from .backend import get_array_module
from .errors import DTypeError, ShapeError


def float_array(x, name, where, ndim=None, min_ndim=None):
    """Check that `x` is a floating-point array (numpy or cupy) and return it.

    ndim: required number of dimensions; min_ndim: the least allowed.
    """
    if not hasattr(x, "shape") or not hasattr(x, "dtype"):
        raise TypeError(
            f"{where}: {name} must be a numpy (or cupy) array, got {type(x).__name__}"
        )
    if x.dtype.kind != "f":
        raise DTypeError(
            f"{where}: {name} must be a floating-point array (float32 or float64), "
            f"got dtype {x.dtype}; convert it with {name}.astype(np.float32)"
        )
    if ndim is not None and x.ndim != ndim:
        raise ShapeError(
            f"{where}: {name} must have {ndim} dimensions, got shape {tuple(x.shape)}"
        )
    if min_ndim is not None and x.ndim < min_ndim:
        raise ShapeError(
            f"{where}: {name} must have at least {min_ndim} dimensions, got shape {tuple(x.shape)}"
        )
    return x


def same_shape(a, b, name_a, name_b, where):
    if tuple(a.shape) != tuple(b.shape):
        raise ShapeError(
            f"{where}: {name_a} and {name_b} must have the same shape, "
            f"got {tuple(a.shape)} and {tuple(b.shape)}"
        )


def same_dtype(a, b, name_a, name_b, where):
    if a.dtype != b.dtype:
        raise DTypeError(
            f"{where}: {name_a} has dtype {a.dtype} but {name_b} has dtype {b.dtype}; use one dtype "
            f"(e.g. x.astype(np.float32), or module.to(dtype=np.float64) for gradient checks)"
        )


def same_device(*arrays):
    """Raise DeviceError if the arrays mix numpy and cupy (get_array_module does the check)."""
    return get_array_module(*arrays)


def integer_labels(y, n, num_classes, where, check_range=True):
    """Check class labels: integers of shape (n,) in [0, num_classes).

    check_range=False skips the range, which needs the values on the host (a GPU sync).
    """
    if not hasattr(y, "shape") or not hasattr(y, "dtype"):
        raise TypeError(f"{where}: labels must be an integer array, got {type(y).__name__}")
    if y.dtype.kind not in "iu":
        raise DTypeError(
            f"{where}: labels must be integer class indices (e.g. int64), got dtype {y.dtype}"
        )
    if y.ndim != 1 or y.shape[0] != n:
        raise ShapeError(
            f"{where}: labels must have shape ({n},) to match {n} rows of scores, "
            f"got {tuple(y.shape)}"
        )
    if n and check_range:
        lo, hi = int(y.min()), int(y.max())
        if lo < 0 or hi >= num_classes:
            raise ValueError(
                f"{where}: labels must lie in [0, {num_classes - 1}] for {num_classes} classes, "
                f"got values from {lo} to {hi}"
            )


def number(value, name, where, low=None, high=None, low_inclusive=True, high_inclusive=True):
    """Check a scalar hyperparameter against an interval and return it as float."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{where}: {name} must be a real number, got {value!r}")
    v = float(value)
    if np.isnan(v):
        raise ValueError(f"{where}: {name} must be a number, got nan")
    bad_low = low is not None and (v < low if low_inclusive else v <= low)
    bad_high = high is not None and (v > high if high_inclusive else v >= high)
    if bad_low or bad_high:
        lb = "[" if low_inclusive else "("
        hb = "]" if high_inclusive else ")"
        lo = "-inf" if low is None else low
        hi = "inf" if high is None else high
        raise ValueError(f"{where}: {name} must be in {lb}{lo}, {hi}{hb}, got {value!r}")
    return v


def positive_int(value, name, where):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{where}: {name} must be a positive integer, got {value!r}")
    return int(value)
