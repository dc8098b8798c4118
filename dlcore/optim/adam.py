"""Adam and AdamW: momentum (a running mean of the gradient) divided by the root of a
running mean of its square, both corrected for starting at zero; exactly as
`torch.optim.Adam` and `torch.optim.AdamW` (Kingma & Ba, 2015; Loshchilov & Hutter, 2019):

    t   = t + 1                                    this parameter's step, 1, 2, ...
    Adam:  g = grad + weight_decay * p             (L2 penalty, through the gradient)
    AdamW: p = p * (1 - lr * weight_decay); g = grad   (decoupled weight decay)
    m   = beta1 * m + (1 - beta1) * g              (m, v start at 0)
    v   = beta2 * v + (1 - beta2) * g * g
    amsgrad: v_max = max(v_max, v), used below in place of v
    p   = p - lr / (1 - beta1^t) * m / (sqrt(v / (1 - beta2^t)) + eps)

The bias corrections divide by 1 - beta^t (t the step number), not by 1 - beta: m and v
start at 0, so after t steps of a constant gradient g, m = (1 - beta1^t) g, and dividing
by 1 - beta1^t gives back g. On the first step m / (1 - beta1) = g and
v / (1 - beta2) = g^2, so each weight moves by lr * g / (|g| + eps) ~ lr * sign(g).
With amsgrad the maximum is taken of the *uncorrected* v, then bias-corrected, as
PyTorch does.
"""
import numbers

from .. import _checks
from ..functional import optim as F
from .optimizer import Optimizer, _flag, _hyper, _nonnegative

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    """Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False).

    params: list of Parameters or of param-group dicts (each may set its own lr, etc.).
    lr >= 0; betas: a pair (beta1, beta2), each in [0, 1); eps >= 0; weight_decay >= 0,
    added to the gradient as an L2 penalty (use AdamW for decoupled decay); amsgrad:
    True to divide by the largest second moment seen so far.
    State per parameter: "step" (int), "exp_avg" and "exp_avg_sq" (p's shape), and
    "max_exp_avg_sq" when amsgrad.
    """

    _decoupled = False  # AdamW: weight decay multiplies p instead of entering the gradient

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False):
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "amsgrad": amsgrad}
        super().__init__(params, defaults)

    def _check_group(self, group, where):
        super()._check_group(group, where)
        betas = group["betas"]
        if (isinstance(betas, (str, bytes)) or not hasattr(betas, "__len__")
                or len(betas) != 2 or not all(isinstance(b, numbers.Real) for b in betas)):
            raise TypeError(f"{where}: betas must be a pair of numbers (beta1, beta2), "
                            f"got {betas!r}")
        group["betas"] = tuple(
            _checks.number(b, f"betas[{i}]", where, low=0.0, high=1.0, high_inclusive=False)
            for i, b in enumerate(betas))
        _nonnegative(group, where, "eps", "weight_decay")
        _flag(group, where, "amsgrad")

    def _update(self, p, group, state):
        F.adam_step(p.data, p.grad, state, **_hyper(group, self.defaults), decoupled=self._decoupled)


class AdamW(Adam):
    """AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
    amsgrad=False): Adam with decoupled weight decay.

    Before each Adam step the weights shrink, p = p * (1 - lr * weight_decay), instead of
    weight_decay * p being added to the gradient. The two differ because Adam divides the
    gradient by sqrt(v): an L2 term inside the gradient is rescaled per coordinate (and
    weakened where gradients are large), decoupled decay is not. Same arguments and state
    as Adam; note the default weight_decay is 1e-2, not 0.
    """

    _decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad)
