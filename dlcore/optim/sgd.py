"""Stochastic gradient descent with optional momentum, Nesterov momentum and weight
decay, exactly as `torch.optim.SGD`:

    g   = grad + weight_decay * p
    buf = g                                       (first step)
    buf = momentum * buf + (1 - dampening) * g    (later steps)
    g   = g + momentum * buf   if nesterov else   buf        (when momentum > 0)
    p   = p - lr * g

With dampening 0 this is the textbook (Goodfellow et al.) form `v = a v - e g;
p = p + v` with `v = -lr * buf` whenever lr stays fixed.
"""

from .. import _checks
from ..functional import optim as F
from .optimizer import Optimizer, _flag, _fraction, _nonnegative

__all__ = ["SGD"]


class SGD(Optimizer):
    """SGD(params, lr, momentum=0, dampening=0, weight_decay=0, nesterov=False).

    params: list of Parameters or of param-group dicts (each may set its own lr, etc.).
    lr >= 0; momentum in [0, 1); dampening in [0, 1]; weight_decay >= 0 (L2 penalty
    `weight_decay/2 * |p|^2` added through the gradient); nesterov needs momentum > 0
    and dampening = 0. State per parameter: "momentum_buffer" (p's shape) once
    momentum > 0.
    """

    def __init__(self, params, lr, momentum=0, dampening=0, weight_decay=0, nesterov=False):
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening,
                    "weight_decay": weight_decay, "nesterov": nesterov}
        super().__init__(params, defaults)

    def _check_group(self, group, where):
        super()._check_group(group, where)
        _fraction(group, where, "momentum")
        group["dampening"] = _checks.number(group["dampening"], "dampening", where,
                                            low=0.0, high=1.0)
        _nonnegative(group, where, "weight_decay")
        _flag(group, where, "nesterov")
        if group["nesterov"] and (group["momentum"] == 0 or group["dampening"] != 0):
            raise ValueError(
                f"{where}: nesterov=True needs momentum > 0 and dampening = 0, got "
                f"momentum={group['momentum']:g}, dampening={group['dampening']:g}"
            )

    def _update(self, p, group, state):
        F.sgd_step(p.data, p.grad, state, group["lr"], momentum=group["momentum"],
                   dampening=group["dampening"], weight_decay=group["weight_decay"],
                   nesterov=group["nesterov"])
