"""Softmax and log-softmax, shifted by the max so that large logits do not overflow."""
from .. import _checks
from ..backend import get_array_module


def softmax(x, axis=-1):
    """exp(x) / sum(exp(x)) along `axis`; same shape and dtype as x."""
    _checks.float_array(x, "x", "softmax")
    xp = get_array_module(x)
    e = xp.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax(x, axis=-1):
    """x - logsumexp(x) along `axis`; accurate even where softmax underflows to 0."""
    _checks.float_array(x, "x", "log_softmax")
    xp = get_array_module(x)
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))
