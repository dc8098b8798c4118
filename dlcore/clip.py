"""Gradient clipping, in place on `p.grad`, as `torch.nn.utils.clip_grad_value_` and
`clip_grad_norm_` do. Call it after backward and before the optimizer's step:

    model.backward(loss.backward())
    total = clip_grad_norm(model.parameters(), max_norm=1.0)
    opt.step()

or `fit(..., clip=lambda ps: clip_grad_norm(ps, 1.0))`.

- By value: every gradient entry is clamped to [-c, c]. Entries are cut separately, so
  the step's direction changes when some entries are cut and others are not.
- By norm: one norm is taken over ALL the gradients together (as if they were one long
  vector); when it exceeds max_norm every gradient is multiplied by the same factor
  max_norm / norm, so the step keeps its direction and only gets shorter.

The arithmetic uses `xp` (numpy or CuPy) and multiplies by `min(1, ratio)` instead of
branching in Python on the norm, so on a GPU nothing waits for a device scalar except
the float returned at the end.
"""
import math

from . import _checks
from .backend import get_array_module
from .nn.module import as_parameter_list

__all__ = ["clip_grad_norm", "clip_grad_value"]


def clip_grad_value(params, clip_value):
    """Clamp every gradient entry to [-clip_value, clip_value], in place. Returns None.

    params: a Module or a list of Parameters; clip_value > 0.
    """
    where = "clip_grad_value"
    params = as_parameter_list(params, where)
    c = _checks.number(clip_value, "clip_value", where, low=0.0, low_inclusive=False)
    for p in params:
        xp = get_array_module(p.grad)
        xp.clip(p.grad, -c, c, out=p.grad)


def clip_grad_norm(params, max_norm, norm_type=2.0):
    """Rescale all gradients together so that their global norm is at most max_norm.

    total = ||(g_1, g_2, ...)||_p over every entry of every parameter's gradient
    (norm_type p > 0, float('inf') for the largest absolute entry); every gradient is
    multiplied in place by min(1, max_norm / (total + 1e-6)), PyTorch's factor.
    Returns total, the norm BEFORE clipping, as a Python float (0.0 for no parameters).
    A NaN or infinite norm is not an error, as in PyTorch: the gradients then become
    NaN (or 0 where they were finite), and the returned norm shows why.

    params: a Module or a list of Parameters (all on one device); max_norm > 0.
    """
    where = "clip_grad_norm"
    params = as_parameter_list(params, where)
    max_norm = _checks.number(max_norm, "max_norm", where, low=0.0, low_inclusive=False)
    p_norm = _checks.number(norm_type, "norm_type", where, low=0.0, low_inclusive=False)
    grads = [p.grad for p in params if p.grad.size]  # an empty array adds nothing
    if not grads:
        return 0.0
    xp = get_array_module(*grads)
    # the norm of the per-parameter norms equals the norm of all entries together
    if math.isinf(p_norm):
        norms = xp.stack([xp.max(xp.abs(g)) for g in grads])
        total = xp.max(norms)
    else:
        norms = xp.stack([xp.linalg.norm(g.ravel(), ord=p_norm) for g in grads])
        total = xp.linalg.norm(norms, ord=p_norm)
    scale = xp.minimum(1.0, max_norm / (total + 1e-6))
    for g in grads:
        g *= scale.astype(g.dtype)
    return float(total)
