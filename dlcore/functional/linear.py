"""Affine layer: y = x @ W + b, with W stored as (in_features, out_features)."""
from .. import _checks

_WHERE_F = "linear_forward"
_WHERE_B = "linear_backward"


def linear_forward(x, W, b=None):
    """Affine map of a batch of vectors.

    x: (N, D) inputs; W: (D, M) weights; b: (M,) bias or None.
    Returns out (N, M) and cache (x, W, b) for `linear_backward`.
    """
    _checks.float_array(x, "x", _WHERE_F, ndim=2)
    _checks.float_array(W, "W", _WHERE_F, ndim=2)
    if x.shape[1] != W.shape[0]:
        raise _checks.ShapeError(
            f"{_WHERE_F}: x has {x.shape[1]} features per row but W expects {W.shape[0]} "
            f"(x has shape {tuple(x.shape)}, W has shape {tuple(W.shape)})"
        )
    _checks.same_dtype(x, W, "x", "W", _WHERE_F)
    _checks.same_device(x, W, b)
    out = x @ W
    if b is not None:
        _checks.float_array(b, "b", _WHERE_F, ndim=1)
        if b.shape[0] != W.shape[1]:
            raise _checks.ShapeError(
                f"{_WHERE_F}: b must have shape ({W.shape[1]},) to match W {tuple(W.shape)}, "
                f"got {tuple(b.shape)}"
            )
        out += b
    return out, (x, W, b)


def linear_backward(dout, cache, need_dx=True):
    """Gradients of the affine map.

    dout: (N, M) upstream gradient; cache: (x, W, b) from `linear_forward`.
    Returns dx (N, D), dW (D, M), db (M,) (db is None when the layer has no bias;
    dx is None with need_dx=False, which saves a product when x is data).
    """
    x, W, b = cache
    expected = (x.shape[0], W.shape[1])
    if tuple(dout.shape) != expected:
        raise _checks.ShapeError(
            f"{_WHERE_B}: dout must have the output's shape {expected}, got {tuple(dout.shape)}"
        )
    dx = dout @ W.T if need_dx else None
    dW = x.T @ dout
    db = dout.sum(axis=0) if b is not None else None
    return dx, dW, db
