"""Normalisation layers: BatchNorm1d, BatchNorm2d, LayerNorm and GroupNorm (PyTorch's behaviour)."""
import numbers

import numpy as np

from .. import _checks
from .. import functional as F
from ..backend import get_array_module
from ..errors import DTypeError, ShapeError
from .module import Module, Parameter


class _BatchNorm(Module):
    """Shared by BatchNorm1d and BatchNorm2d; subclasses set the input's rank and its name."""

    _ndim = None    # 2 for (N, C), 4 for (N, C, H, W)
    _layout = None  # how the expected shape is written in messages

    def __init__(self, num_features, eps=1e-5, momentum=0.1, dtype=np.float32):
        super().__init__()
        name = type(self).__name__
        self.num_features = _checks.positive_int(num_features, "num_features", name)
        self.eps = _checks.number(eps, "eps", name, low=0.0, low_inclusive=False)
        self.momentum = _checks.number(momentum, "momentum", name, low=0.0, high=1.0)
        C = self.num_features
        self.gamma = Parameter(np.ones(C, dtype=dtype), name="gamma")
        self.beta = Parameter(np.zeros(C, dtype=dtype), name="beta")
        # Buffers: part of state_dict and moved by to(), never touched by an optimizer.
        self.register_buffer("running_mean", np.zeros(C, dtype=dtype))
        self.register_buffer("running_var", np.ones(C, dtype=dtype))

    def _check_input(self, x):
        """The input must be (N, C) or (N, C, H, W) as the subclass says, in gamma's dtype,
        with 2 or more values per channel in training. repr(self) only for a message."""
        if (getattr(x, "ndim", None) == self._ndim and x.shape[1] == self.num_features
                and x.dtype == self.gamma.data.dtype
                and (not self.training or x.size // self.num_features >= 2)):
            return
        where = repr(self)
        _checks.float_array(x, "input", where)
        if x.ndim != self._ndim or x.shape[1] != self.num_features:
            raise ShapeError(f"{where} expects input of shape {self._layout} with "
                             f"C = {self.num_features}, got {tuple(x.shape)}")
        if x.dtype != self.gamma.data.dtype:
            raise DTypeError(
                f"{where}: input has dtype {x.dtype} but gamma has dtype "
                f"{self.gamma.data.dtype}; use one dtype (e.g. x.astype(np.float32), or "
                f"module.to(dtype=np.float64) for gradient checks)"
            )
        raise ValueError(
            f"{where}: Expected more than 1 value per channel when training, got input "
            f"of shape {tuple(x.shape)} (use a batch of 2 or more, or eval mode)"
        )

    def forward(self, x):
        """Training: batch statistics, and the running ones updated in place. Eval: running."""
        self._check_input(x)
        return self._save_for_backward(*F.batchnorm_forward(
            x, self.gamma.data, self.beta.data, eps=self.eps, train=self.training,
            running_mean=self.running_mean, running_var=self.running_var,
            momentum=self.momentum,
        ))

    def backward(self, dout):
        dx, dgamma, dbeta = F.batchnorm_backward(dout, self._cache_for(dout))
        self._add_grad(self.gamma, dgamma)
        self._add_grad(self.beta, dbeta)
        return dx

    def extra_repr(self):
        return f"{self.num_features}, eps={self.eps:g}, momentum={self.momentum:g}"


class BatchNorm1d(_BatchNorm):
    """Batch norm over features: input and output (N, C), statistics per feature over N.

    gamma (C,) starts at ones, beta (C,) at zeros; buffers running_mean (zeros) and
    running_var (ones) follow running = (1 - momentum) * running + momentum * batch, the
    variance kept unbiased (m / (m - 1)) while the biased one normalises, as in PyTorch.
    eval() normalises with the running statistics. 2C learned values + 2C running ones.
    """

    _ndim = 2
    _layout = "(N, C)"


class BatchNorm2d(_BatchNorm):
    """Batch norm for images: input and output (N, C, H, W), statistics per channel over
    (N, H, W), so m = N*H*W values per channel. Parameters and buffers as BatchNorm1d."""

    _ndim = 4
    _layout = "(N, C, H, W)"


class LayerNorm(Module):
    """Layer norm: each sample normalised over its last axes, with learned gamma and beta.

    num_features: an int D (input (..., D)) or a tuple S, PyTorch's normalized_shape
    (input (..., *S), e.g. (C, H, W) for images). gamma (ones) and beta (zeros) have
    shape S. No running statistics: training and eval give the same outputs.
    """

    def __init__(self, num_features, eps=1e-5, dtype=np.float32):
        super().__init__()
        shape = (num_features,) if isinstance(num_features, numbers.Integral) else num_features
        try:
            shape = tuple(shape)
        except TypeError:
            raise ValueError(f"LayerNorm: num_features must be a positive integer or a tuple "
                             f"of them, got {num_features!r}") from None
        if not shape:
            raise ValueError("LayerNorm: num_features must not be empty")
        self.normalized_shape = tuple(_checks.positive_int(s, "num_features", "LayerNorm")
                                      for s in shape)
        self.eps = _checks.number(eps, "eps", "LayerNorm", low=0.0, low_inclusive=False)
        self.gamma = Parameter(np.ones(self.normalized_shape, dtype=dtype), name="gamma")
        self.beta = Parameter(np.zeros(self.normalized_shape, dtype=dtype), name="beta")

    def forward(self, x):
        S = self.normalized_shape
        if not (getattr(x, "ndim", 0) > len(S) and tuple(x.shape[-len(S):]) == S
                and x.dtype == self.gamma.data.dtype):
            self._refuse(x)
        return self._save_for_backward(
            *F.layernorm_forward(x, self.gamma.data, self.beta.data, eps=self.eps))

    def _refuse(self, x):
        where, S = repr(self), self.normalized_shape
        _checks.float_array(x, "input", where)
        if x.ndim < len(S) + 1 or tuple(x.shape[-len(S):]) != S:
            raise ShapeError(f"{where} expects input of shape (N, ..., "
                             f"{', '.join(map(str, S))}), got {tuple(x.shape)}")
        raise DTypeError(
            f"{where}: input has dtype {x.dtype} but gamma has dtype "
            f"{self.gamma.data.dtype}; use one dtype (e.g. x.astype(np.float32), or "
            f"module.to(dtype=np.float64) for gradient checks)"
        )

    def backward(self, dout):
        dx, dgamma, dbeta = F.layernorm_backward(dout, self._cache_for(dout))
        self._add_grad(self.gamma, dgamma)
        self._add_grad(self.beta, dbeta)
        return dx

    def extra_repr(self):
        S = self.normalized_shape
        return f"{S[0] if len(S) == 1 else S}, eps={self.eps:g}"


class GroupNorm(Module):
    """Group norm (Wu & He, 2018): per sample, the channels split into num_groups groups,
    each normalised over its channels and pixels; then a per-channel scale and shift.

    Input and output (N, C, *) with C = num_channels: (N, C), (N, C, L), (N, C, H, W). gamma (C,)
    starts at ones, beta (C,) at zeros (affine=False: no parameters, gamma = 1, beta = 0).
    No running statistics and nothing depends on the batch: training and eval give the
    same outputs, for any N. num_groups = 1 is layer norm over (C, H, W) (with a per-channel
    rather than per-element affine); num_groups = num_channels is instance norm.
    As torch.nn.GroupNorm(num_groups, num_channels, eps=1e-5, affine=True).
    """

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, dtype=np.float32):
        super().__init__()
        self.num_groups = _checks.positive_int(num_groups, "num_groups", "GroupNorm")
        self.num_channels = _checks.positive_int(num_channels, "num_channels", "GroupNorm")
        if self.num_channels % self.num_groups:
            raise ValueError(
                f"GroupNorm: num_channels ({self.num_channels}) must be divisible by "
                f"num_groups ({self.num_groups}); each group holds num_channels / "
                f"num_groups channels")
        self.eps = _checks.number(eps, "eps", "GroupNorm", low=0.0, low_inclusive=False)
        self.affine = bool(affine)
        C = self.num_channels
        self.gamma = Parameter(np.ones(C, dtype=dtype), name="gamma") if affine else None
        self.beta = Parameter(np.zeros(C, dtype=dtype), name="beta") if affine else None

    def forward(self, x):
        if not (getattr(x, "ndim", 0) >= 2 and x.shape[1] == self.num_channels
                and getattr(x, "dtype", None) is not None and x.dtype.kind == "f"
                and (not self.affine or x.dtype == self.gamma.data.dtype)):
            self._refuse(x)
        if self.affine:
            gamma, beta = self.gamma.data, self.beta.data
        else:
            xp = get_array_module(x)
            gamma = xp.ones(self.num_channels, dtype=x.dtype)
            beta = xp.zeros(self.num_channels, dtype=x.dtype)
        return self._save_for_backward(
            *F.group_norm_forward(x, gamma, beta, self.num_groups, eps=self.eps))

    def _refuse(self, x):
        where = repr(self)
        _checks.float_array(x, "input", where)
        if x.ndim < 2 or x.shape[1] != self.num_channels:
            raise ShapeError(f"{where} expects input of shape (N, C, *), e.g. (N, C) or "
                             f"(N, C, H, W), with C = num_channels = {self.num_channels}, "
                             f"got {tuple(x.shape)}")
        raise DTypeError(
            f"{where}: input has dtype {x.dtype} but gamma has dtype "
            f"{self.gamma.data.dtype}; use one dtype (e.g. x.astype(np.float32), or "
            f"module.to(dtype=np.float64) for gradient checks)"
        )

    def backward(self, dout):
        dx, dgamma, dbeta = F.group_norm_backward(dout, self._cache_for(dout))
        self._add_grad(self.gamma, dgamma)
        self._add_grad(self.beta, dbeta)
        return dx

    def extra_repr(self):
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps:g}, "
                f"affine={self.affine}")
