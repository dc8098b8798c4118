"""Batch normalisation and layer normalisation as forward/backward pairs.

Batch norm (Ioffe & Szegedy, 2015) normalises each channel with statistics taken over
the batch: over N for x of shape (N, C), over (N, H, W) for images (N, C, H, W).
It follows PyTorch exactly: the BIASED batch variance normalises, the UNBIASED one
(times m / (m - 1), m values per channel) goes into the running variance, and
running = (1 - momentum) * running + momentum * batch_statistic with momentum 0.1.

Layer norm (Ba et al., 2016) normalises each sample over its last axes (those of gamma's
shape) and behaves the same in training and at test time.

Group norm (Wu & He, 2018) splits the C channels of each sample into G groups of C/G and
normalises each group over its channels and pixels; a per-channel gamma and beta follow, as
PyTorch's GroupNorm. G = 1 is layer norm over (C, H, W) with a per-channel affine; G = C is
instance norm. Layer norm and group norm share `_standardize` and its backward: the same
math over other axes.
"""
from ..backend import get_array_module


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
    xp = get_array_module(x)
    C = x.shape[1]
    axes = (0,) if x.ndim == 2 else (0, 2, 3)
    bshape = (1, C) if x.ndim == 2 else (1, C, 1, 1)  # broadcasts a (C,) vector over x
    if train:
        m = x.size // C
        mean = x.mean(axis=axes)
        xc = x - mean.reshape(bshape)
        var = (xc * xc).mean(axis=axes)  # biased (divides by m): this is what normalises
        if running_mean is not None:
            running_mean *= 1 - momentum
            running_mean += momentum * mean
            running_var *= 1 - momentum
            running_var += (momentum * m / (m - 1)) * var  # unbiased, as PyTorch keeps it
    else:
        mean, var = running_mean, running_var
        xc = x - mean.reshape(bshape)
    inv_std = 1 / xp.sqrt(var + eps)
    xhat = xc * inv_std.reshape(bshape)
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


def _standardize(x, axes, eps):
    """xhat = (x - mean) / sqrt(var + eps) over `axes`, each slice on its own (biased variance).

    Returns xhat (x's shape) and inv_std = 1 / sqrt(var + eps) (x's shape with 1 on `axes`).
    """
    xp = get_array_module(x)
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)  # divides by m: biased, as every norm layer uses
    inv_std = 1 / xp.sqrt(var + eps)
    return (x - mean) * inv_std, inv_std


def _standardize_backward(dxhat, xhat, inv_std, axes):
    """dx from dxhat for `_standardize`, with m values per slice (sums over `axes`):
        dx = (1/m) * inv_std * (m * dxhat - sum(dxhat) - xhat * sum(dxhat * xhat)),
    the three paths through xhat itself, the mean and the variance."""
    m = xhat.size // inv_std.size
    return (inv_std / m) * (m * dxhat - dxhat.sum(axis=axes, keepdims=True)
                            - xhat * (dxhat * xhat).sum(axis=axes, keepdims=True))


def layernorm_forward(x, gamma, beta, eps=1e-5):
    """Layer normalisation: each sample normalised over its last k axes.

    x: (..., *S) where S = gamma.shape (k = gamma.ndim axes, e.g. (N, D) with gamma (D,),
    or (N, C, H, W) with gamma (C, H, W)); gamma, beta: S. Biased variance, as PyTorch's
    LayerNorm; no running statistics, so training and test behave the same.
    Returns out (x's shape and dtype) and cache (xhat, gamma, inv_std, axes).
    """
    axes = tuple(range(x.ndim - gamma.ndim, x.ndim))
    xhat, inv_std = _standardize(x, axes, eps)
    return gamma * xhat + beta, (xhat, gamma, inv_std, axes)


def layernorm_backward(dout, cache):
    """Gradients of layer normalisation.

    Returns dx (x's shape), dgamma and dbeta (gamma's shape). Per sample, over its m
    normalised values: dxhat = gamma * dout,
        dx = (1/m) * inv_std * (m * dxhat - sum(dxhat) - xhat * sum(dxhat * xhat)).
    (gamma varies across the summed axes here, so the sums do not reduce to dgamma, dbeta.)
    """
    xhat, gamma, inv_std, axes = cache
    lead = tuple(range(xhat.ndim - len(axes)))  # the sample axes gamma is shared over
    dbeta = dout.sum(axis=lead)
    dgamma = (dout * xhat).sum(axis=lead)
    return _standardize_backward(dout * gamma, xhat, inv_std, axes), dgamma, dbeta


def group_norm_forward(x, gamma, beta, num_groups, eps=1e-5):
    """Group normalisation: per sample, each group of C/G channels normalised together.

    x: (N, C, *) e.g. (N, C) or (N, C, H, W); gamma, beta: (C,); num_groups G divides C.
    Each sample's channels c = g*C/G ... (g+1)*C/G - 1 with all their pixels form group g
    (m = C/G * H * W values), standardised with its mean and BIASED variance; then
    out = gamma[c] * xhat + beta[c] per channel, as torch.nn.GroupNorm. No running
    statistics: training and test behave the same, whatever the batch size.
    Returns out (x's shape and dtype) and cache (xhat, gamma, inv_std) for
    `group_norm_backward` (inv_std: (N, G, 1)).
    """
    N, C = x.shape[:2]
    bshape = (1, C) + (1,) * (x.ndim - 2)  # broadcasts a (C,) vector over x
    xhat, inv_std = _standardize(x.reshape(N, num_groups, -1), (2,), eps)
    xhat = xhat.reshape(x.shape)
    return gamma.reshape(bshape) * xhat + beta.reshape(bshape), (xhat, gamma, inv_std)


def group_norm_backward(dout, cache):
    """Gradients of group normalisation.

    dout: x's shape; cache from `group_norm_forward`. Returns dx (x's shape), dgamma (C,),
    dbeta (C,). The affine part is per channel, so dgamma and dbeta sum over every axis
    but C; dxhat = gamma[c] * dout goes through each group's standardisation as in
    layer norm (`_standardize_backward` over the group's m values).
    """
    xhat, gamma, inv_std = cache
    N, C = xhat.shape[:2]
    G = inv_std.shape[1]
    others = (0,) + tuple(range(2, xhat.ndim))  # every axis but the channel
    bshape = (1, C) + (1,) * (xhat.ndim - 2)
    dbeta = dout.sum(axis=others)
    dgamma = (dout * xhat).sum(axis=others)
    dxhat = (dout * gamma.reshape(bshape)).reshape(N, G, -1)
    dx = _standardize_backward(dxhat, xhat.reshape(N, G, -1), inv_std, (2,))
    return dx.reshape(xhat.shape), dgamma, dbeta
