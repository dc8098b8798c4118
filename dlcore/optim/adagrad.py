"""Adagrad: a per-parameter learning rate that shrinks with the sum of all past squared
gradients, exactly as `torch.optim.Adagrad` (Duchi et al., 2011):

    g   = grad + weight_decay * p
    clr = lr / (1 + (t - 1) * lr_decay)          t = 1, 2, ... this parameter's step
    sum = sum + g * g                           (sum starts at initial_accumulator_value)
    p   = p - clr * g / (sqrt(sum) + eps)

Because `sum` only grows, every coordinate's step only shrinks: Adagrad can stop making
progress long before it reaches a minimum.
"""

from ..functional import optim as F
from .optimizer import Optimizer, _hyper, _nonnegative

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Adagrad(params, lr=0.01, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
    eps=1e-10).

    params: list of Parameters or of param-group dicts (each may set its own lr, etc.).
    lr, lr_decay, weight_decay, initial_accumulator_value, eps: all >= 0.
    State per parameter: "step" (int, steps taken), "sum" (p's shape, the running sum
    of squared gradients).
    """

    def __init__(self, params, lr=0.01, lr_decay=0, weight_decay=0,
                 initial_accumulator_value=0, eps=1e-10):
        defaults = {"lr": lr, "lr_decay": lr_decay, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value, "eps": eps}
        super().__init__(params, defaults)

    def _check_group(self, group, where):
        super()._check_group(group, where)
        _nonnegative(group, where, "lr_decay", "weight_decay", "initial_accumulator_value",
                     "eps")

    def _update(self, p, group, state):
        F.adagrad_step(p.data, p.grad, state, **_hyper(group, self.defaults))
