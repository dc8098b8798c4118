"""Affine layer: y = x @ W + b, with W stored as (in_features, out_features)."""


def linear_forward(x, W, b=None):
    """x: (N, D) inputs; W: (D, M) weights; b: (M,) bias or None.
    Returns out (N, M) and cache (x, W, b)."""
    out = x @ W
    if b is not None:
        out += b
    return out, (x, W, b)


def linear_backward(dout, cache):
    """dout: (N, M). Returns dx (N, D), dW (D, M), db (M,) (None without a bias)."""
    x, W, b = cache
    dx = dout @ W.T
    dW = x.T @ dout
    db = dout.sum(axis=0) if b is not None else None
    return dx, dW, db
