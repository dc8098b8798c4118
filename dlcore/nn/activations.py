"""Activation modules: thin stateful wrappers around dlcore.functional."""
from .. import _checks
from .. import functional as F
from .module import Module


class _Elementwise(Module):
    """An activation without parameters: forward caches, backward uses the cache."""

    _forward = None   # functional forward, set by subclasses
    _backward = None  # functional backward

    def _hyper(self):
        return {}

    def forward(self, x):
        if getattr(getattr(x, "dtype", None), "kind", None) != "f":
            _checks.float_array(x, "input", type(self).__name__)
        return self._save_for_backward(*type(self)._forward(x, **self._hyper()))

    def backward(self, dout):
        return type(self)._backward(dout, self._cache_for(dout))


class ReLU(_Elementwise):
    """max(0, x), elementwise; any input shape."""

    _forward = staticmethod(F.relu_forward)
    _backward = staticmethod(F.relu_backward)


class Sigmoid(_Elementwise):
    """1 / (1 + exp(-x)), elementwise; any input shape."""

    _forward = staticmethod(F.sigmoid_forward)
    _backward = staticmethod(F.sigmoid_backward)


class Tanh(_Elementwise):
    """tanh(x), elementwise; any input shape."""

    _forward = staticmethod(F.tanh_forward)
    _backward = staticmethod(F.tanh_backward)


class LeakyReLU(_Elementwise):
    """x for x > 0, negative_slope * x otherwise."""

    _forward = staticmethod(F.leaky_relu_forward)
    _backward = staticmethod(F.leaky_relu_backward)

    def __init__(self, negative_slope=0.01):
        super().__init__()
        self.negative_slope = _checks.number(negative_slope, "negative_slope", "LeakyReLU")

    def _hyper(self):
        return {"negative_slope": self.negative_slope}

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


class ELU(_Elementwise):
    """x for x > 0, alpha * (exp(x) - 1) otherwise (Clevert et al., 2015)."""

    _forward = staticmethod(F.elu_forward)
    _backward = staticmethod(F.elu_backward)

    def __init__(self, alpha=1.0):
        super().__init__()
        self.alpha = _checks.number(alpha, "alpha", "ELU", low=0.0)

    def _hyper(self):
        return {"alpha": self.alpha}

    def extra_repr(self):
        return f"alpha={self.alpha}"
