"""Adadelta: RMSprop whose step is rescaled by a running RMS of the past *updates*, so the
step has the units of the parameter (Zeiler, 2012); exactly as `torch.optim.Adadelta`:

    g     = grad + weight_decay * p
    v     = rho * v + (1 - rho) * g * g                        (v starts at 0)
    delta = sqrt(u + eps) / sqrt(v + eps) * g                  (u starts at 0)
    u     = rho * u + (1 - rho) * delta * delta
    p     = p - lr * delta

Zeiler's paper has no learning rate (lr = 1, PyTorch's default). Both square roots take
eps inside; on the first step u = 0, so the step is about sqrt(eps) / sqrt(1 - rho) in
size: with the defaults, about 0.003 whatever the gradient's scale.
"""

from ..functional import optim as F
from .optimizer import Optimizer, _fraction, _hyper, _nonnegative

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """Adadelta(params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0).

    params: list of Parameters or of param-group dicts (each may set its own lr, etc.).
    lr >= 0 (scales delta); rho in [0, 1) (the decay of both running averages); eps >= 0;
    weight_decay >= 0.
    State per parameter: "step" (int), "square_avg" (running mean of g^2) and
    "acc_delta" (running mean of delta^2), both p's shape.
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0):
        defaults = {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay}
        super().__init__(params, defaults)

    def _check_group(self, group, where):
        super()._check_group(group, where)
        # rho = 1 would freeze both averages at 0 (PyTorch allows it; it never learns).
        _fraction(group, where, "rho")
        _nonnegative(group, where, "eps", "weight_decay")

    def _update(self, p, group, state):
        F.adadelta_step(p.data, p.grad, state, **_hyper(group, self.defaults))
