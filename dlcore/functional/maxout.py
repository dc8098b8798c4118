"""Maxout units (Goodfellow et al., 2013): each output is the max of `pieces` affine maps."""
from .. import _checks
from ..backend import get_array_module

_WHERE_F = "maxout_forward"


def maxout_forward(x, W, b):
    """out[n, j] = max_k (x[n] @ W[:, j, k] + b[j, k]).

    x: (N, D); W: (D, M, K) with K pieces per unit; b: (M, K).
    Returns out (N, M) and cache (x, W, winner) where winner (N, M) is the index of the
    piece that won (the first one on ties).
    """
    _checks.float_array(x, "x", _WHERE_F, ndim=2)
    _checks.float_array(W, "W", _WHERE_F, ndim=3)
    _checks.float_array(b, "b", _WHERE_F, ndim=2)
    D, M, K = W.shape
    if x.shape[1] != D:
        raise _checks.ShapeError(
            f"{_WHERE_F}: x has {x.shape[1]} features per row but W expects {D} "
            f"(x has shape {tuple(x.shape)}, W has shape {tuple(W.shape)})"
        )
    if tuple(b.shape) != (M, K):
        raise _checks.ShapeError(
            f"{_WHERE_F}: b must have shape ({M}, {K}) to match W {tuple(W.shape)}, "
            f"got {tuple(b.shape)}"
        )
    _checks.same_dtype(x, W, "x", "W", _WHERE_F)
    xp = get_array_module(x, W, b)
    z = (x @ W.reshape(D, M * K)).reshape(-1, M, K) + b
    winner = xp.argmax(z, axis=2)
    out = xp.take_along_axis(z, winner[..., None], axis=2)[..., 0]
    return out, (x, W, winner)


def maxout_backward(dout, cache):
    """Only the winning piece of each unit receives the upstream gradient.

    dout: (N, M). Returns dx (N, D), dW (D, M, K), db (M, K).
    """
    x, W, winner = cache
    D, M, K = W.shape
    if tuple(dout.shape) != (x.shape[0], M):
        raise _checks.ShapeError(
            f"maxout_backward: dout must have shape {(x.shape[0], M)}, got {tuple(dout.shape)}"
        )
    xp = get_array_module(x, dout)
    won = winner[..., None] == xp.arange(K)          # (N, M, K) one-hot of the winner
    dz = (won * dout[..., None]).astype(dout.dtype)  # (N, M, K)
    dz2 = dz.reshape(-1, M * K)
    dx = dz2 @ W.reshape(D, M * K).T
    dW = (x.T @ dz2).reshape(D, M, K)
    db = dz.sum(axis=0)
    return dx, dW, db
