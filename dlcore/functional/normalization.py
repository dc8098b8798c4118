"""Batch normalisation and layer normalisation as forward/backward pairs.

Batch norm (Ioffe & Szegedy, 2015) normalises each channel with statistics taken over
the batch: over N for x of shape (N, C), over (N, H, W) for images (N, C, H, W).
It follows PyTorch exactly: the BIASED batch variance normalises, the UNBIASED one
(times m / (m - 1), m values per channel) goes into the running variance, and
running = (1 - momentum) * running + momentum * batch_statistic with momentum 0.1.

Layer norm (Ba et al., 2016) normalises each sample over its last axes (those of gamma's
shape) and behaves the same in training and at test time.
"""
from .. import _checks
from ..errors import DTypeError, ShapeError

_BN_F = "batchnorm_forward"
_BN_B = "batchnorm_backward"
_LN_F = "layernorm_forward"
_LN_B = "layernorm_backward"


def _channel_vector(a, name, C, dtype, where):
    """gamma, beta and running statistics: float arrays of shape (C,) in x's dtype."""
    _checks.float_array(a, name, where)
    if tuple(a.shape) != (C,):
        raise ShapeError(f"{where}: {name} must have shape ({C},) for {C} channels, "
                         f"got {tuple(a.shape)}")
    if a.dtype != dtype:
        raise DTypeError(
            f"{where}: {name} has dtype {a.dtype} but x has dtype {dtype}; use one dtype "
            f"(e.g. x.astype(np.float32), or module.to(dtype=np.float64) for gradient checks)"
        )


def _check_dout(dout, shape, where):
    if tuple(getattr(dout, "shape", ())) != tuple(shape):
        raise ShapeError(f"{where}: dout must have the shape of the forward output "
                         f"{tuple(shape)}, got {tuple(getattr(dout, 'shape', ()))}")


def batchnorm_forward(x, gamma, beta, eps=1e-5, train=True, running_mean=None,
                      running_var=None, momentum=0.1):
    """Batch normalisation, per channel.

    x: (N, C) or (N, C, H, W); gamma, beta: (C,). Statistics are taken per channel over
    the m = N (or N*H*W) values of that channel.
    train=True: normalise with the batch mean and the biased batch variance; when
    running_mean and running_var (both (C,), x's dtype) are given, update them IN PLACE:
    running_mean = (1 - momentum) * running_mean + momentum * mean,
    running_var = (1 - momentum) * running_var + momentum * var * m / (m - 1).
    train=False: normalise with running_mean and running_var (both required).
    Returns out (x's shape and dtype) and cache (xhat, gamma, inv_std, axes, train) for
    `batchnorm_backward`.
    """
    _checks.float_array(x, "x", _BN_F)
    if x.ndim not in (2, 4):
        raise ShapeError(f"{_BN_F}: x must have shape (N, C) or (N, C, H, W), "
                         f"got {tuple(x.shape)}")
    C = x.shape[1]
    for a, name in ((gamma, "gamma"), (beta, "beta")):
        _channel_vector(a, name, C, x.dtype, _BN_F)
    eps = _checks.number(eps, "eps", _BN_F, low=0.0, low_inclusive=False)
    momentum = _checks.number(momentum, "momentum", _BN_F, low=0.0, high=1.0)
    if (running_mean is None) != (running_var is None):
        raise ValueError(f"{_BN_F}: give both running_mean and running_var, or neither")
    if running_mean is not None:
        _channel_vector(running_mean, "running_mean", C, x.dtype, _BN_F)
        _channel_vector(running_var, "running_var", C, x.dtype, _BN_F)
    xp = _checks.same_device(x, gamma, beta, *(() if running_mean is None
                                               else (running_mean, running_var)))

    axes = (0,) if x.ndim == 2 else (0, 2, 3)
    bshape = (1, C) if x.ndim == 2 else (1, C, 1, 1)  # broadcasts a (C,) vector over x
    if train:
        m = x.size // C
        if m < 2:
            raise ValueError(
                f"{_BN_F}: Expected more than 1 value per channel when training, got input "
                f"of shape {tuple(x.shape)} (the variance of one value is 0 and the "
                f"unbiased estimate divides by m - 1 = 0; use a larger batch, or eval mode)"
            )
        mean = x.mean(axis=axes)
        var = x.var(axis=axes)  # biased (divides by m): this is what normalises
        if running_mean is not None:
            running_mean *= 1 - momentum
            running_mean += momentum * mean
            running_var *= 1 - momentum
            running_var += (momentum * m / (m - 1)) * var  # unbiased, as PyTorch keeps it
    else:
        if running_mean is None:
            raise ValueError(f"{_BN_F}: train=False normalises with the running statistics; "
                             f"pass running_mean and running_var")
        mean, var = running_mean, running_var
    inv_std = 1 / xp.sqrt(var + eps)
    xhat = (x - mean.reshape(bshape)) * inv_std.reshape(bshape)
    out = gamma.reshape(bshape) * xhat + beta.reshape(bshape)
    return out, (xhat, gamma, inv_std, axes, bool(train))


def batchnorm_backward(dout, cache):
    """Gradients of batch normalisation, in the compact form.

    dout: the output's shape; cache from `batchnorm_forward`. Returns dx (x's shape),
    dgamma (C,), dbeta (C,).
    With m values per channel, dxhat = gamma * dout and (sums per channel)
        dx = (1/m) * inv_std * (m * dxhat - sum(dxhat) - xhat * sum(dxhat * xhat)),
    and since sum(dxhat) = gamma * dbeta and sum(dxhat * xhat) = gamma * dgamma,
        dx = gamma * inv_std / m * (m * dout - dbeta - xhat * dgamma).
    In eval mode the statistics are constants and dx = gamma * inv_std * dout.
    """
    xhat, gamma, inv_std, axes, train = cache
    _check_dout(dout, xhat.shape, _BN_B)
    C = xhat.shape[1]
    bshape = (1, C) if xhat.ndim == 2 else (1, C, 1, 1)
    dbeta = dout.sum(axis=axes)
    dgamma = (dout * xhat).sum(axis=axes)
    scale = (gamma * inv_std).reshape(bshape)
    if not train:
        return scale * dout, dgamma, dbeta
    m = xhat.size // C
    dx = (scale / m) * (m * dout - dbeta.reshape(bshape) - xhat * dgamma.reshape(bshape))
    return dx, dgamma, dbeta


def layernorm_forward(x, gamma, beta, eps=1e-5):
    """Layer normalisation: each sample normalised over its last k axes.

    x: (..., *S) where S = gamma.shape (k = gamma.ndim axes, e.g. (N, D) with gamma (D,),
    or (N, C, H, W) with gamma (C, H, W)); gamma, beta: S. Biased variance, as PyTorch's
    LayerNorm; no running statistics, so training and test behave the same.
    Returns out (x's shape and dtype) and cache (xhat, gamma, inv_std, axes).
    """
    _checks.float_array(x, "x", _LN_F)
    _checks.float_array(gamma, "gamma", _LN_F, min_ndim=1)
    _checks.float_array(beta, "beta", _LN_F)
    S = tuple(gamma.shape)
    k = len(S)
    if x.ndim < k + 1 or tuple(x.shape[-k:]) != S:
        raise ShapeError(f"{_LN_F}: x must have shape (N, ..., {', '.join(map(str, S))}) to "
                         f"match gamma {S}, got {tuple(x.shape)}")
    if tuple(beta.shape) != S:
        raise ShapeError(f"{_LN_F}: beta must have gamma's shape {S}, got {tuple(beta.shape)}")
    _checks.same_dtype(x, gamma, "x", "gamma", _LN_F)
    _checks.same_dtype(x, beta, "x", "beta", _LN_F)
    eps = _checks.number(eps, "eps", _LN_F, low=0.0, low_inclusive=False)
    xp = _checks.same_device(x, gamma, beta)
    axes = tuple(range(x.ndim - k, x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    inv_std = 1 / xp.sqrt(var + eps)
    xhat = (x - mean) * inv_std
    return gamma * xhat + beta, (xhat, gamma, inv_std, axes)


def layernorm_backward(dout, cache):
    """Gradients of layer normalisation.

    Returns dx (x's shape), dgamma and dbeta (gamma's shape). Per sample, over its m
    normalised values: dxhat = gamma * dout,
        dx = (1/m) * inv_std * (m * dxhat - sum(dxhat) - xhat * sum(dxhat * xhat)).
    (gamma varies across the summed axes here, so the sums do not reduce to dgamma, dbeta.)
    """
    xhat, gamma, inv_std, axes = cache
    _check_dout(dout, xhat.shape, _LN_B)
    lead = tuple(range(xhat.ndim - len(axes)))  # the sample axes gamma is shared over
    dbeta = dout.sum(axis=lead)
    dgamma = (dout * xhat).sum(axis=lead)
    dxhat = dout * gamma
    m = gamma.size
    dx = (inv_std / m) * (m * dxhat - dxhat.sum(axis=axes, keepdims=True)
                          - xhat * (dxhat * xhat).sum(axis=axes, keepdims=True))
    return dx, dgamma, dbeta
