"""Maxout units (Goodfellow et al., 2013): each output is the max of `pieces` affine maps."""
from ..backend import get_array_module


def maxout_forward(x, W, b):
    """out[n, j] = max_k (x[n] @ W[:, j, k] + b[j, k]).

    x: (N, D); W: (D, M, K) with K pieces per unit; b: (M, K).
    Returns out (N, M) and cache (x, W, winner), winner (N, M) the index of the piece that
    won (the first one on ties).
    """
    xp = get_array_module(x)
    D, M, K = W.shape
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
    won = winner[..., None] == get_array_module(x).arange(K)  # (N, M, K) one-hot
    dz = (won * dout[..., None]).astype(dout.dtype)            # (N, M, K)
    dz2 = dz.reshape(-1, M * K)
    dx = dz2 @ W.reshape(D, M * K).T
    dW = (x.T @ dz2).reshape(D, M, K)
    db = dz.sum(axis=0)
    return dx, dW, db
