"""Softmax and log-softmax, shifted by the max so that large logits do not overflow."""
from ..backend import get_array_module


def softmax(x, axis=-1):
    """exp(x) / sum(exp(x)) along `axis`; same shape and dtype as x."""
    e = get_array_module(x).exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax(x, axis=-1):
    """x - logsumexp(x) along `axis`; accurate even where softmax underflows to 0."""
    xp = get_array_module(x)
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))
