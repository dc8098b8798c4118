"""Dropout (Srivastava et al., 2014) as forward/backward pairs: Bernoulli and Gaussian.

`p` is the probability of DROPPING a unit, as in PyTorch. Two scalings:
- inverted (default, PyTorch's): in training the kept units are divided by 1 - p, so the
  expected output equals the input, and at test time nothing changes (identity);
- classic (the original paper's): in training the mask is applied unscaled, and at test
  time every output is multiplied by the keep probability 1 - p.
Gaussian dropout multiplies by noise from N(1, p / (1 - p)) instead of keep / (1 - p): the
same mean and variance, and the identity at test time.
The mask (or noise) comes from `rng`: the same int seed gives the same mask, which is how a
gradient check holds it fixed.
"""
from .._random import get_rng
from ..backend import get_array_module


def dropout_forward(x, p, rng=None, train=True, classic=False):
    """Drop each entry of x with probability p, independently.

    x: any shape; p: drop probability in [0, 1); rng: Generator, int seed or None
    (dlcore's default generator).
    train=True: out = x * keep / (1 - p) (inverted) or x * keep (classic=True).
    train=False: out = x (inverted) or x * (1 - p) (classic=True).
    Returns out (x's shape and dtype) and cache (keep, scale): keep the boolean keep
    mask (None at test time), scale the factor applied to what passes.
    """
    if not train:
        scale = 1 - p if classic else 1.0
        return x * x.dtype.type(scale), (None, scale)
    xp = get_array_module(x)
    # Drawn on the host by the numpy Generator (the rng= convention), then moved; p = 0
    # draws nothing, so a model without dropout leaves the random stream untouched.
    keep = xp.asarray(get_rng(rng).random(x.shape) >= p) if p else xp.ones(x.shape, bool)
    scale = 1.0 if classic else 1 / (1 - p)
    return x * (keep * x.dtype.type(scale)), (keep, scale)


def dropout_backward(dout, cache):
    """dx = dout * keep * scale in training; dout * scale at test time."""
    keep, scale = cache
    if keep is None:
        return dout * dout.dtype.type(scale)
    return dout * (keep * dout.dtype.type(scale))


def gaussian_dropout_forward(x, p, rng=None, train=True):
    """Multiply each entry of x by its own noise drawn from N(1, p / (1 - p)).

    Gaussian (multiplicative) dropout (Srivastava et al., 2014, section 10): the noise
    has the mean (1) and the variance (p / (1 - p)) of inverted dropout's factor
    keep / (1 - p), so the two perturb a unit by the same amount on average.
    x: any shape; p: the matching drop probability in [0, 1); rng: Generator, int
    seed or None (dlcore's default generator).
    train=True: out = x * noise; train=False: out = x (the noise's mean is 1).
    Returns out (x's shape and dtype) and cache (noise,): noise of x's shape and dtype,
    or None at test time and when p = 0 (then nothing is drawn).
    """
    if not train or not p:
        return x * x.dtype.type(1), (None,)
    xp = get_array_module(x)
    sigma = (p / (1 - p)) ** 0.5
    # Drawn on the host by the numpy Generator (the rng= convention), then moved.
    noise = xp.asarray(1 + sigma * get_rng(rng).standard_normal(x.shape)).astype(x.dtype)
    return x * noise, (noise,)


def gaussian_dropout_backward(dout, cache):
    """dx = dout * noise in training (the forward's noise); dout at test time."""
    (noise,) = cache
    return dout * dout.dtype.type(1) if noise is None else dout * noise
