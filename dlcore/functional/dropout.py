"""Dropout (Srivastava et al., 2014) as a forward/backward pair.

`p` is the probability of DROPPING a unit, as in PyTorch. Two scalings:
- inverted (default, PyTorch's): in training the kept units are divided by 1 - p, so the
  expected output equals the input, and at test time nothing changes (identity);
- classic (the original paper's): in training the mask is applied unscaled, and at test
  time every output is multiplied by the keep probability 1 - p.
"""
from .. import _checks
from .._random import get_rng
from ..backend import get_array_module
from ..errors import ShapeError

_WHERE_F = "dropout_forward"


def _keep_mask(mask, x, xp):
    """A given keep mask: x's shape, boolean or 0/1 values; returned as booleans."""
    if not hasattr(mask, "shape") or not hasattr(mask, "dtype"):
        raise TypeError(f"{_WHERE_F}: mask must be an array of x's shape, "
                        f"got {type(mask).__name__}")
    if tuple(mask.shape) != tuple(x.shape):
        raise ShapeError(f"{_WHERE_F}: mask must have x's shape {tuple(x.shape)}, "
                         f"got {tuple(mask.shape)}")
    _checks.same_device(x, mask)
    if mask.dtype == bool:
        return mask
    if mask.dtype.kind not in "iuf" or not bool(((mask == 0) | (mask == 1)).all()):
        raise ValueError(f"{_WHERE_F}: mask must hold only 0 (dropped) and 1 (kept), "
                         f"or be boolean")
    return mask != 0


def dropout_forward(x, p, rng=None, train=True, classic=False, mask=None):
    """Drop each entry of x with probability p, independently.

    x: any shape; p: drop probability in [0, 1). rng: Generator, int seed or None
    (dlcore's default generator). mask: optional keep mask of x's shape (True/1 = kept)
    to use instead of a random one, e.g. to hold the mask fixed in a gradient check;
    it is only meaningful in training.
    train=True: out = x * mask / (1 - p) (inverted) or x * mask (classic=True).
    train=False: out = x itself (inverted) or x * (1 - p) (classic=True).
    Returns out (x's shape and dtype) and cache (mask, scale, shape): mask is the boolean
    keep mask (None at test time), scale the factor applied to what passes.
    """
    _checks.float_array(x, "x", _WHERE_F)
    p = _checks.number(p, "p", _WHERE_F, low=0.0, high=1.0, high_inclusive=False)
    xp = get_array_module(x)
    if not train:
        if mask is not None:
            raise ValueError(f"{_WHERE_F}: a mask is only used in training (train=True); "
                             f"at test time dropout drops nothing")
        scale = 1 - p if classic else 1.0
        return (x * scale if classic else x), (None, scale, x.shape)
    if mask is not None:
        keep = _keep_mask(mask, x, xp)
    elif p == 0:
        keep = xp.ones(x.shape, dtype=bool)
    else:
        # Drawn on the host by the numpy Generator (the rng= convention), then moved.
        keep = xp.asarray(get_rng(rng).random(x.shape) >= p)
    scale = 1.0 if classic else 1 / (1 - p)
    return x * (keep * x.dtype.type(scale)), (keep, scale, x.shape)


def dropout_backward(dout, cache):
    """dx = dout * mask * scale in training; dout * scale at test time (scale as in forward)."""
    keep, scale, shape = cache
    if tuple(getattr(dout, "shape", ())) != tuple(shape):
        raise ShapeError(f"dropout_backward: dout must have the shape of the forward output "
                         f"{tuple(shape)}, got {tuple(getattr(dout, 'shape', ()))}")
    if keep is None:
        return dout if scale == 1.0 else dout * scale
    return dout * (keep * dout.dtype.type(scale))
