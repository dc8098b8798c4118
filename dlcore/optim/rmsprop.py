"""RMSprop: divide the gradient by a running root-mean-square of recent gradients, exactly
as `torch.optim.RMSprop`:

    g   = grad + weight_decay * p
    v   = alpha * v + (1 - alpha) * g * g                  (v starts at 0)
    avg = sqrt(v) + eps
        centered: m = alpha * m + (1 - alpha) * g;  avg = sqrt(v - m * m) + eps
    momentum > 0:  buf = momentum * buf + g / avg;  p = p - lr * buf   (buf starts at 0)
    otherwise:     p = p - lr * g / avg

Where the variants differ (the book states which one it uses): PyTorch, as here, adds eps
*outside* the square root, sqrt(v) + eps. Goodfellow et al.'s *Deep Learning* (Algorithm
8.5) puts it inside, sqrt(eps + v) with eps = 1e-6, and so does Keras (its RMSprop's
update_step divides by sqrt(velocity + epsilon), with rho = 0.9 and epsilon = 1e-7 by
default, as read in keras/src/optimizers/rmsprop.py of Keras 3). Hinton's lecture slides
(Coursera, lecture 6e), where RMSprop was proposed, divide by sqrt(v) with no eps and use
alpha = 0.9. Once v is much
larger than eps these agree; they differ in the first steps and for near-zero gradients.
"""
from ..functional import optim as F
from .optimizer import Optimizer, _flag, _fraction, _hyper, _nonnegative

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """RMSprop(params, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
    centered=False).

    params: list of Parameters or of param-group dicts (each may set its own lr, etc.).
    lr >= 0; alpha in [0, 1) (the smoothing constant); eps >= 0; weight_decay >= 0;
    momentum in [0, 1); centered: True to divide by an estimate of the gradient's
    standard deviation instead of its root mean square.
    State per parameter: "step" (int), "square_avg" (p's shape), "momentum_buffer"
    once momentum > 0, "grad_avg" once centered.
    """

    def __init__(self, params, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False):
        defaults = {"lr": lr, "alpha": alpha, "eps": eps, "weight_decay": weight_decay,
                    "momentum": momentum, "centered": centered}
        super().__init__(params, defaults)

    def _check_group(self, group, where):
        super()._check_group(group, where)
        # alpha = 1 would never update v (it stays 0), so it is refused.
        _fraction(group, where, "alpha", "momentum")
        _nonnegative(group, where, "eps", "weight_decay")
        _flag(group, where, "centered")

    def _update(self, p, group, state):
        F.rmsprop_step(p.data, p.grad, state, **_hyper(group, self.defaults))
