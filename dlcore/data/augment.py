"""Image augmentation for batches of shape (N, H, W) or (N, C, H, W).

Each function returns a new array of x's shape and dtype (x itself is never changed)
and draws its randomness from `rng=` (a Generator, an int seed, or None for dlcore's
default generator), one draw per image: every channel of an image gets the same flip
and shift.
"""
import numbers

from .. import _checks
from .._random import get_rng
from ..backend import get_array_module
from ..errors import ShapeError

__all__ = ["augment", "gaussian_noise", "random_flip", "random_shift"]


def _images(x, where):
    _checks.float_array(x, "x", where)
    if x.ndim not in (3, 4):
        raise ShapeError(
            f"{where}: x must be a batch of images, (N, H, W) or (N, C, H, W), "
            f"got shape {tuple(x.shape)}"
        )
    return x


def random_flip(x, p=0.5, rng=None):
    """Mirror each image left-right (reverse the last axis, W) with probability p.

    x: (N, H, W) or (N, C, H, W) float. Each image is flipped independently: p=1 flips
    every image, p=0 none. Returns a new array of x's shape and dtype.
    """
    where = "random_flip"
    _images(x, where)
    p = _checks.number(p, "p", where, 0.0, 1.0)
    xp = get_array_module(x)
    flip = xp.asarray(get_rng(rng).random(x.shape[0]) < p)  # random() is in [0, 1)
    return xp.where(flip.reshape((-1,) + (1,) * (x.ndim - 1)), x[..., ::-1], x)


def random_shift(x, max_shift=1, rng=None):
    """Translate each image by whole pixels, filling the uncovered border with zeros.

    Each image gets its own shifts dy, dx drawn uniformly from the integers in
    [-max_shift, max_shift]: the pixel at (row, col) moves to (row + dy, col + dx), and
    pixels moved past the edge are dropped (nothing wraps around). x: (N, H, W) or
    (N, C, H, W) float; 0 <= max_shift < min(H, W). Returns a new array of x's shape
    and dtype.
    """
    where = "random_shift"
    _images(x, where)
    h, w = x.shape[-2:]
    if isinstance(max_shift, bool) or not isinstance(max_shift, numbers.Integral):
        raise TypeError(f"{where}: max_shift must be an integer number of pixels, got {max_shift!r}")
    if not 0 <= max_shift < min(h, w):
        raise ValueError(
            f"{where}: max_shift must be in [0, {min(h, w) - 1}] for images of size {h}x{w}, "
            f"got {max_shift}"
        )
    m = int(max_shift)
    xp = get_array_module(x)
    shifts = get_rng(rng).integers(-m, m + 1, size=(x.shape[0], 2))
    x4 = x if x.ndim == 4 else x[:, None]
    n, c = x4.shape[:2]
    padded = xp.zeros((n, c, h + 2 * m, w + 2 * m), dtype=x.dtype)
    padded[:, :, m:m + h, m:m + w] = x4
    # output (r, q) reads input (r - dy, q - dx), which sits at (r - dy + m, q - dx + m)
    rows = xp.asarray(m - shifts[:, 0])[:, None] + xp.arange(h)  # (N, H)
    cols = xp.asarray(m - shifts[:, 1])[:, None] + xp.arange(w)  # (N, W)
    out = padded[
        xp.arange(n)[:, None, None, None],
        xp.arange(c)[None, :, None, None],
        rows[:, None, :, None],
        cols[:, None, None, :],
    ]
    return out if x.ndim == 4 else out[:, 0]


def gaussian_noise(x, std=0.1, rng=None):
    """Add independent N(0, std²) noise to every pixel.

    x: (N, H, W) or (N, C, H, W) float; std >= 0. Returns a new array of x's shape and
    dtype.
    """
    where = "gaussian_noise"
    _images(x, where)
    std = _checks.number(std, "std", where, 0.0)
    xp = get_array_module(x)
    noise = get_rng(rng).standard_normal(x.shape) * std
    return x + xp.asarray(noise, dtype=x.dtype)


def augment(x, flip=0.5, shift=1, noise=0.1, rng=None):
    """Flip, then shift, then add noise: `random_flip(x, p=flip)`, `random_shift(x,
    max_shift=shift)`, `gaussian_noise(x, std=noise)`.

    A step whose setting is 0 (or None) is skipped. With an int seed one generator is
    made from it and used by every step in turn, so the result is reproducible.
    x: (N, H, W) or (N, C, H, W) float. Returns a new array of x's shape and dtype
    (a copy of x when every step is skipped).
    """
    where = "augment"
    _images(x, where)
    gen = get_rng(rng)
    out = x
    if flip:
        out = random_flip(out, p=flip, rng=gen)
    if shift:
        out = random_shift(out, max_shift=shift, rng=gen)
    if noise:
        out = gaussian_noise(out, std=noise, rng=gen)
    return out.copy() if out is x else out
