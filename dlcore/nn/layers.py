"""Layers with parameters or shape changes: Linear, Maxout, Flatten."""
import math

import numpy as np

from .. import _checks
from .. import functional as F
from .. import init as init_module
from .._random import get_rng
from ..errors import DTypeError, ShapeError
from .module import Module, Parameter


def _check_input(x, n, layer, W):
    """Refuse anything but a (N, n) float array of W's dtype on W's device; the message
    names the layer. The fast test runs every step; the layer's repr only for a message."""
    if (getattr(x, "ndim", None) == 2 and x.shape[1] == n and x.dtype == W.dtype
            and type(x) is type(W)):
        return
    where = repr(layer)
    _checks.float_array(x, "input", where, ndim=2)
    if x.shape[1] != n:
        raise ShapeError(f"{where} expects input of shape (N, {n}), got {tuple(x.shape)}")
    _checks.same_device(x, W)
    if x.dtype == W.dtype:
        return  # e.g. a numpy subclass (memmap) on the right device
    raise DTypeError(
        f"{where}: input has dtype {x.dtype} but W has dtype {W.dtype}; use one dtype "
        f"(e.g. x.astype(np.float32), or module.to(dtype=np.float64) for gradient checks)"
    )


class Linear(Module):
    """y = x @ W + b.

    W: (in_features, out_features); b: (out_features,). Input (N, in_features),
    output (N, out_features). `init` is 'he' (N(0, 2/fan_in), default), 'xavier'
    (uniform), 'lecun', 'pytorch' (U(+-1/sqrt(fan_in)) for W and b, torch's default),
    or a callable(shape, rng=...) returning the weight. Biases start at 0 except with
    'pytorch'.
    """

    def __init__(self, in_features, out_features, bias=True, init="he", rng=None,
                 dtype=np.float32):
        super().__init__()
        rng = get_rng(rng)  # one stream for W and b, even when given an int seed
        self.in_features = _checks.positive_int(in_features, "in_features", "Linear")
        self.out_features = _checks.positive_int(out_features, "out_features", "Linear")
        shape = (self.in_features, self.out_features)
        self.W = Parameter(init_module.by_name(init, shape, rng, dtype, "Linear"), name="W")
        if bias:
            if init == "pytorch":  # torch also draws the bias from U(+-1/sqrt(fan_in))
                b = init_module._uniform((self.out_features,), 1 / math.sqrt(self.in_features),
                                         rng, dtype)
            else:
                b = np.zeros(self.out_features, dtype=dtype)
            self.b = Parameter(b, name="b")
        else:
            self.b = None

    def forward(self, x):
        _check_input(x, self.in_features, self, self.W.data)
        b = None if self.b is None else self.b.data
        return self._save_for_backward(*F.linear_forward(x, self.W.data, b))

    def backward(self, dout):
        dx, dW, db = F.linear_backward(dout, self._cache_for(dout))
        self._add_grad(self.W, dW)
        self._add_grad(self.b, db)
        return dx

    def backward_params(self, dout):
        """linear_backward without dx = dout @ W.T, a product as costly as the forward
        one: for the first layer of an MLP, whose input is data, a quarter of a step."""
        x, _, _ = self._cache_for(dout)
        self._add_grad(self.W, x.T @ dout)
        self._add_grad(self.b, dout.sum(axis=0))

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.b is not None}")


class Maxout(Module):
    """Maxout units: out[:, j] = max_k (x @ W[:, j, k] + b[j, k]).

    W: (in_features, out_features, pieces); b: (out_features, pieces). Each unit has
    `pieces` times the parameters of a linear unit. Weights start N(0, 1/in_features).
    """

    def __init__(self, in_features, out_features, pieces, rng=None, dtype=np.float32):
        super().__init__()
        self.in_features = _checks.positive_int(in_features, "in_features", "Maxout")
        self.out_features = _checks.positive_int(out_features, "out_features", "Maxout")
        self.pieces = _checks.positive_int(pieces, "pieces", "Maxout")
        W = init_module.lecun_normal((self.in_features, self.out_features * self.pieces), rng=rng,
                              dtype=dtype)
        self.W = Parameter(W.reshape(self.in_features, self.out_features, self.pieces), name="W")
        self.b = Parameter(np.zeros((self.out_features, self.pieces), dtype=dtype), name="b")

    def forward(self, x):
        _check_input(x, self.in_features, self, self.W.data)
        return self._save_for_backward(*F.maxout_forward(x, self.W.data, self.b.data))

    def backward(self, dout):
        dx, dW, db = F.maxout_backward(dout, self._cache_for(dout))
        self._add_grad(self.W, dW)
        self._add_grad(self.b, db)
        return dx

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, pieces={self.pieces}"


class Flatten(Module):
    """(N, d1, d2, ...) -> (N, d1*d2*...); backward restores the shape."""

    def forward(self, x):
        _checks.float_array(x, "input", "Flatten", min_ndim=1)
        return self._save_for_backward(x.reshape(x.shape[0], -1), x.shape)

    def backward(self, dout):
        return dout.reshape(self._cache_for(dout))
