"""Small synthetic data sets, generated with numpy and seeded by `rng=`.

- `spirals`: interleaved spiral arms, one class per arm (classification, 2-D).
- `moons`: two interleaving half circles, as scikit-learn's `make_moons` (classification, 2-D).
- `ravine`: a 2-feature linear regression whose loss surface is a narrow valley with a
  chosen condition number, with its closed-form loss, gradient and Hessian
  (`ravine_loss`, `ravine_grad`, `ravine_hessian`) for the optimiser chapters.
"""
import numbers

import numpy as np

from .. import _checks
from .._random import get_rng

__all__ = ["moons", "ravine", "ravine_grad", "ravine_hessian", "ravine_loss", "spirals"]


def _float_dtype(dtype, where):
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise TypeError(f"{where}: dtype must be a numpy float dtype, got {dtype!r}") from exc
    if dt.kind != "f":
        raise TypeError(f"{where}: dtype must be a float dtype (float32 or float64), got {dt}")
    return dt


def _int_at_least(value, low, name, where):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{where}: {name} must be an integer >= {low}, got {value!r}")
    return int(value)


def spirals(n_per_class=100, classes=2, noise=0.2, rng=None, *, turns=1.0, dtype=np.float32):
    """Interleaved spiral arms, one per class.

    Each point of class k has a radius t drawn uniformly from [0, 1) and the angle
    ``2π·(turns·t + k/classes) + noise·ε`` with ε ~ N(0, 1), so without noise arm k is the
    curve r = t, θ = 2π·turns·t + 2πk/classes: the arms are copies of one spiral rotated
    by 2π/classes. The noise is on the angle (radians, as in CS231n's spiral data), so
    points move along their circle and stay at radius t.

    Returns X of shape (n_per_class·classes, 2) in `dtype` (float32 by default) and y of
    shape (n_per_class·classes,) int64 in [0, classes), exactly n_per_class points per
    class, rows in a random (seeded) order.
    """
    where = "spirals"
    n_per_class = _checks.positive_int(n_per_class, "n_per_class", where)
    classes = _int_at_least(classes, 2, "classes", where)
    noise = _checks.number(noise, "noise", where, 0.0)
    turns = _checks.number(turns, "turns", where, 0.0, low_inclusive=False)
    dt = _float_dtype(dtype, where)
    gen = get_rng(rng)
    y = np.repeat(np.arange(classes, dtype=np.int64), n_per_class)
    t = gen.random(y.size)
    theta = 2 * np.pi * (turns * t + y / classes) + noise * gen.standard_normal(y.size)
    X = np.stack([t * np.cos(theta), t * np.sin(theta)], axis=1)
    order = gen.permutation(y.size)
    return X[order].astype(dt), y[order]


def moons(n=200, noise=0.1, rng=None, *, dtype=np.float32):
    """Two interleaving half circles, like scikit-learn's ``make_moons`` (made with numpy).

    Class 0 (n // 2 points): the upper half of the unit circle around (0, 0),
    (cos s, sin s) for s evenly spaced in [0, π]. Class 1 (the other n - n // 2 points):
    the lower half of the unit circle around (1, 0.5), (1 - cos s, 0.5 - sin s).
    Gaussian noise with standard deviation `noise` is added to each coordinate.

    Returns X of shape (n, 2) in `dtype` (float32 by default) and y of shape (n,) int64,
    rows in a random (seeded) order.
    """
    where = "moons"
    n = _int_at_least(n, 2, "n (two moons need a point each)", where)
    noise = _checks.number(noise, "noise", where, 0.0)
    dt = _float_dtype(dtype, where)
    gen = get_rng(rng)
    n_out = n // 2
    n_in = n - n_out
    s_out = np.linspace(0.0, np.pi, n_out)
    s_in = np.linspace(0.0, np.pi, n_in)
    X = np.concatenate([
        np.stack([np.cos(s_out), np.sin(s_out)], axis=1),
        np.stack([1.0 - np.cos(s_in), 0.5 - np.sin(s_in)], axis=1),
    ])
    y = np.concatenate([np.zeros(n_out, np.int64), np.ones(n_in, np.int64)])
    order = gen.permutation(n)
    X, y = X[order], y[order]
    if noise > 0:
        X = X + noise * gen.standard_normal(X.shape)
    return X.astype(dt), y


# --- the ravine ----------------------------------------------------------------------------
# One quadratic, two views. For the data (X, y) that `ravine` returns with noise=0 and a
# linear model without bias, pred = X @ w, the halved mean squared error
#     L(w) = ½·mean((X @ w - y)²) = ½ (w - w_true)ᵀ H (w - w_true),   H = XᵀX / n,
# and `ravine` builds X so that H is exactly R·diag(1/condition, 1)·Rᵀ (R: rotation by
# `angle`). `ravine_loss` evaluates the right-hand side without data, e.g. on a grid for
# contour plots. dlcore's MSELoss has no ½: its Hessian is 2H.

_W_TRUE = (1.0, 1.0)


def ravine_hessian(condition=50.0, angle=0.0):
    """The ravine's 2x2 Hessian H = R·diag(1/condition, 1)·Rᵀ as a float64 array.

    Eigenvalues 1/condition (the long, flat axis of the valley, direction
    (cos angle, sin angle)) and 1 (the steep axis, perpendicular to it), so its
    condition number is `condition`. For gradient descent on ½(w-w*)ᵀH(w-w*) the
    largest stable learning rate is 2/λ_max = 2.
    """
    return _hessian(condition, angle, "ravine_hessian")


def _hessian(condition, angle, where):
    condition = _checks.number(condition, "condition", where, 1.0)
    angle = _checks.number(angle, "angle", where)
    c, s = np.cos(angle), np.sin(angle)
    R = np.array([[c, -s], [s, c]])
    return R @ np.diag([1.0 / condition, 1.0]) @ R.T


def _w_true(w_true, where):
    w = np.asarray(w_true, dtype=np.float64)
    if w.shape != (2,) or not np.all(np.isfinite(w)):
        raise ValueError(f"{where}: w_true must be two finite numbers, got {w_true!r}")
    return w


def ravine_loss(w, condition=50.0, angle=0.0, w_true=_W_TRUE):
    """The ravine's loss ½ (w - w_true)ᵀ H (w - w_true), H from `ravine_hessian`.

    w: (..., 2), e.g. one point (2,) or a grid (G, G, 2); returns an array of shape (...)
    (a 0-d array for one point). Equals ½·mean((X @ w - y)²) on `ravine(...)` data made with
    the same condition, angle and w_true and noise=0.
    """
    H = _hessian(condition, angle, "ravine_loss")
    d = _ravine_point(w, "ravine_loss") - _w_true(w_true, "ravine_loss")
    return 0.5 * np.einsum("...i,ij,...j->...", d, H, d)


def ravine_grad(w, condition=50.0, angle=0.0, w_true=_W_TRUE):
    """Gradient of `ravine_loss`: H (w - w_true), same shape as w (..., 2)."""
    H = _hessian(condition, angle, "ravine_grad")
    d = _ravine_point(w, "ravine_grad") - _w_true(w_true, "ravine_grad")
    return d @ H  # H is symmetric, so d @ H = (H d) for each point


def _ravine_point(w, where):
    w = np.asarray(w, dtype=np.float64)
    if w.ndim == 0 or w.shape[-1] != 2:
        raise _checks.ShapeError(f"{where}: w must have shape (..., 2), got {w.shape}")
    return w


def ravine(n=200, condition=50.0, noise=0.0, rng=None, *, angle=0.0, w_true=_W_TRUE,
           dtype=np.float32):
    """A 2-feature linear regression whose loss surface is a narrow ravine.

    X (n, 2) has columns of mean exactly 0 and XᵀX/n = H = R·diag(1/condition, 1)·Rᵀ
    exactly (up to rounding to `dtype`), with R the rotation by `angle`: the features
    have variances in ratio `condition` along the valley's axes. y (n, 1) = X @ w_true
    plus Gaussian noise of standard deviation `noise`.

    For a linear model without bias, pred = X @ w, the loss ½·mean((pred - y)²) has
    Hessian exactly H at every w (dlcore's MSELoss, without the ½: 2H): condition
    number `condition`, eigenvalues 1 (steep axis) and 1/condition (the valley's floor,
    direction (cos angle, sin angle)). With noise=0 its minimum is w_true and it equals
    `ravine_loss(w, condition, angle, w_true)`. A bias (e.g. `nn.Linear(2, 1)`) adds one
    direction of curvature 1, so the condition number is still `condition`, because the
    columns of X have mean 0. angle=0 puts the valley along w[0]; angle=π/4 along the
    diagonal, where per-coordinate step sizes (Adagrad, RMSprop, Adam) no longer help.

    Returns X (n, 2) and y (n, 1), both in `dtype` (float32 by default). n >= 3.
    """
    where = "ravine"
    n = _int_at_least(n, 3, "n", where)
    condition = _checks.number(condition, "condition", where, 1.0)
    noise = _checks.number(noise, "noise", where, 0.0)
    angle = _checks.number(angle, "angle", where)
    w = _w_true(w_true, where)
    dt = _float_dtype(dtype, where)
    gen = get_rng(rng)
    Z = gen.standard_normal((n, 2))
    Z -= Z.mean(axis=0)
    # whiten: after this ZᵀZ/n is exactly the identity, so H comes out exact, not only
    # on average over draws
    L = np.linalg.cholesky(Z.T @ Z / n)
    Z = np.linalg.solve(L, Z.T).T
    c, s = np.cos(angle), np.sin(angle)
    R = np.array([[c, -s], [s, c]])
    X = Z @ np.diag([np.sqrt(1.0 / condition), 1.0]) @ R.T
    y = X @ w
    if noise > 0:
        y = y + noise * gen.standard_normal(n)
    return X.astype(dt), y[:, None].astype(dt)
