"""Chapter 7, batch normalisation: the exercises and their cases.

The references are thin wrappers of `dlcore.functional.batchnorm_forward/_backward`, the
library's own math. Conventions, as PyTorch's:
the biased batch variance (divide by m) normalises; the running variance is updated with
the unbiased one (times m / (m - 1)); momentum weights the NEW value,
running = (1 - momentum) * running + momentum * batch_statistic.

All arrays are float64, so answers must agree with the reference to a relative error
below 1e-7 (rounding leaves ~1e-14; a wrong formula ~1e-2 or more). The backward pass is
graded with random upstream gradients: with dout = ones the true dx is 0, and so is the dx
of several wrong formulas (the variance path dropped, gamma forgotten).
`layernorm_backward` asks for the backward pass of layer norm with no formula given: the
learner derives it (the reference is `dlcore.functional.layernorm_backward`).
`running_after_repeats` asks for the running statistics after k steps on one batch, predicted
in closed form (a geometric series) rather than looped. `group_norm_forward` asks for group
norm from its definition alone, for images and for features.

Hints: each classic slip is recomputed from the case's inputs and compared with the wrong
answer (to 1e-9, far below the ~5e-6 that the smallest slip, eps outside the root, moves it
by), so `check` names a slip only when the numbers are exactly that slip. Named: eps outside
the square root or missing; the unbiased variance where the biased one normalises, and the
reverse for the running variance; statistics over the wrong axes (per example, per pixel
position, per image; for group norm interleaved groups, one channel per group, groups
across the batch); gamma and beta left out; the batch's statistics at test time; in dx the
path through the variance or the mean left out, or gamma forgotten; dgamma from x instead of
xhat; momentum on the old value (Keras's convention); the fold's bias left unscaled; for
layer norm gamma pulled out of the sums or the sums over the batch; for the running
statistics after k steps momentum^k, a start at 0 or an exponent off by one.
"""
import numpy as np

from ... import functional as F
from ..registry import Case, Exercise, register

PREFIX = "batchnorm."


def _normal(rng, *shape):
    return rng.standard_normal(shape)


def _affine(rng, d):
    """gamma (positive and negative, away from 0) and beta, each (d,)."""
    gamma = rng.uniform(0.5, 2.0, size=d) * rng.choice([-1.0, 1.0], size=d)
    return gamma, _normal(rng, d)


def _features(rng, n, d, loc=None, scale=None):
    """(n, d) inputs whose columns have their own mean and spread."""
    loc = rng.uniform(-3, 3, size=d) if loc is None else loc
    scale = rng.uniform(0.2, 4.0, size=d) if scale is None else scale
    return loc + scale * _normal(rng, n, d)


# ---------------------------------------------------------------- forward, training mode

def batchnorm_train_forward(x, gamma, beta, eps=1e-5):
    """x (N, D), gamma and beta (D,) -> out (N, D), normalised with the batch's statistics.

    out = gamma * (x - mean) / sqrt(var + eps) + beta, mean and the BIASED variance over N.
    """
    return F.batchnorm_forward(x, gamma, beta, eps=eps)[0]


def _train_forward_cases(rng):
    x_const = _features(rng, 6, 4)
    x_const[:, 1] = 3.0            # variance exactly 0: only eps keeps 0 / 0 away
    return [
        Case("random batches", (_features(rng, 8, 5), *_affine(rng, 5))),
        Case("random batches", (_features(rng, 32, 3), *_affine(rng, 3)), {"eps": 1e-3}),
        # N = 2: biased and unbiased variance differ by a factor 2
        Case("two examples", (_features(rng, 2, 4), *_affine(rng, 4))),
        Case("a constant feature (variance 0)", (x_const, *_affine(rng, 4))),
    ]


# ---------------------------------------------------------------- forward, images

def batchnorm2d_train_forward(x, gamma, beta, eps=1e-5):
    """x (N, C, H, W), gamma and beta (C,) -> out (N, C, H, W).

    Statistics per channel over the N * H * W values of that channel (biased variance).
    """
    return F.batchnorm_forward(x, gamma, beta, eps=eps)[0]


def _images(rng, n, c, h, w):
    loc = rng.uniform(-3, 3, size=(1, c, 1, 1))
    # every pixel position also gets its own offset, so per-position statistics are wrong
    loc = loc + rng.uniform(-1, 1, size=(1, c, h, w))
    return loc + rng.uniform(0.3, 3.0, size=(1, c, 1, 1)) * _normal(rng, n, c, h, w)


def _train_forward_2d_cases(rng):
    return [
        Case("random images", (_images(rng, 4, 3, 5, 5), *_affine(rng, 3))),
        Case("random images", (_images(rng, 2, 4, 3, 6), *_affine(rng, 4))),
        # one image: statistics over its pixels, still more than one value per channel
        Case("one image (N = 1)", (_images(rng, 1, 2, 4, 4), *_affine(rng, 2))),
        Case("one channel (C = 1)", (_images(rng, 3, 1, 4, 3), *_affine(rng, 1))),
    ]


# ---------------------------------------------------------------- forward, eval mode

def batchnorm_eval_forward(x, gamma, beta, running_mean, running_var, eps=1e-5):
    """x (N, D); gamma, beta, running_mean, running_var (D,) -> out (N, D).

    Test time: normalise with the running statistics; the batch's own do not matter.
    """
    return F.batchnorm_forward(x, gamma, beta, eps=eps, train=False, running_mean=running_mean,
                               running_var=running_var)[0]


def _running(rng, d):
    return rng.uniform(-2, 2, size=d), rng.uniform(0.1, 5.0, size=d)


def _eval_forward_cases(rng):
    def case(group, n, d, **kw):
        # the batch is drawn far from the running statistics, so its own statistics give
        # a different answer
        return Case(group, (_features(rng, n, d), *_affine(rng, d), *_running(rng, d)), kw)

    small_var = list(_running(rng, 3))
    small_var[1] = np.array([1e-6, 2e-5, 0.5])   # eps = 1e-5 matters here
    return [
        case("batches", 8, 5),
        case("batches", 20, 3, eps=1e-3),
        case("a single example", 1, 6),
        Case("tiny running variance (eps matters)",
             (_features(rng, 4, 3, scale=np.full(3, 1e-3)), *_affine(rng, 3), *small_var)),
    ]


# ---------------------------------------------------------------- backward

def batchnorm_backward(dout, x, gamma, eps=1e-5):
    """dout (N, D), x (N, D), gamma (D,) -> dx (N, D), dgamma (D,), dbeta (D,).

    Training mode: mean and variance are functions of x, so dx has three paths. With
    xhat = (x - mean) / sqrt(var + eps) and m = N:
        dx = gamma / sqrt(var + eps) * (dout - mean(dout) - xhat * mean(dout * xhat)).
    """
    _, cache = F.batchnorm_forward(x, gamma, np.zeros_like(gamma), eps=eps)
    return F.batchnorm_backward(dout, cache)


def _backward_cases(rng):
    def case(group, n, d, dout=None, **kw):
        x = _features(rng, n, d)
        gamma, _ = _affine(rng, d)
        dout = _normal(rng, n, d) if dout is None else dout
        return Case(group, (dout, x, gamma), kw)

    return [
        case("random dout", 8, 5),
        case("random dout", 16, 3, eps=1e-3),
        case("two examples", 2, 4),
        # 1 plus a little noise: most of dout is the part whose dx is exactly 0
        case("dout close to all ones", 10, 4, dout=1.0 + 0.1 * _normal(rng, 10, 4)),
    ]


# ---------------------------------------------------------------- hints: the classic slips
#
# Each predicate recomputes one slip from the case's own inputs and holds only when the
# learner's output is exactly that wrong answer (to 1e-9; the slips move it by 5e-6 or more),
# so a hint never guesses. They are module-level functions: the instructor's grader imports
# them by name.

def _same(got, wrong):
    return np.allclose(got, wrong, rtol=1e-9, atol=1e-12)


def _per_channel(v, ndim):
    """A (C,) vector shaped to broadcast over axis 1 of an ndim-dimensional array."""
    return np.asarray(v).reshape((1, -1) + (1,) * (ndim - 2))


def _xhat(x, axes, eps, *, ddof=0, eps_outside=False):
    """x standardised over `axes` (keepdims), with the variance divided by m - ddof and eps
    inside (or, the slip, outside) the square root."""
    mean = x.mean(axis=axes, keepdims=True)
    xc = x - mean
    m = x.size // mean.size
    var = (xc * xc).sum(axis=axes, keepdims=True) / (m - ddof)
    return xc / (np.sqrt(var) + eps if eps_outside else np.sqrt(var + eps))


def _batch_axes(x):
    return (0,) if x.ndim == 2 else (0, 2, 3)


def _forward_with(case, *, axes=None, affine=True, eps=None, **slip):
    """batchnorm_train_forward (features or images) recomputed with one slip."""
    x, gamma, beta = case.args
    eps = case.kwargs.get("eps", 1e-5) if eps is None else eps
    with np.errstate(all="ignore"):
        xhat = _xhat(x, _batch_axes(x) if axes is None else axes, eps, **slip)
    if not affine:
        return xhat
    return _per_channel(gamma, x.ndim) * xhat + _per_channel(beta, x.ndim)


def _forward_eps_outside(case, name, expected, got):
    return _same(got, _forward_with(case, eps_outside=True))


def _forward_unbiased(case, name, expected, got):
    return _same(got, _forward_with(case, ddof=1))


def _forward_no_eps(case, name, expected, got):
    return _same(got, _forward_with(case, eps=0.0))


def _forward_no_affine(case, name, expected, got):
    return _same(got, _forward_with(case, affine=False))


def _forward_per_example(case, name, expected, got):
    x = case.args[0]
    return _same(got, _forward_with(case, axes=tuple(range(1, x.ndim))))


def _forward_per_position(case, name, expected, got):
    return case.args[0].ndim == 4 and _same(got, _forward_with(case, axes=(0,)))


def _forward_per_image(case, name, expected, got):
    return case.args[0].ndim == 4 and _same(got, _forward_with(case, axes=(2, 3)))


def _eval_with(case, *, batch=False, eps_outside=False, eps=None, sqrt=True):
    x, gamma, beta, running_mean, running_var = case.args
    eps = case.kwargs.get("eps", 1e-5) if eps is None else eps
    if batch:
        mean, var = x.mean(axis=0), x.var(axis=0)
    else:
        mean, var = running_mean, running_var
    if not sqrt:
        scale = var + eps
    else:
        scale = np.sqrt(var) + eps if eps_outside else np.sqrt(var + eps)
    return gamma * (x - mean) / scale + beta


def _eval_batch_statistics(case, name, expected, got):
    return _same(got, _eval_with(case, batch=True))


def _eval_eps_outside(case, name, expected, got):
    return _same(got, _eval_with(case, eps_outside=True))


def _eval_no_eps(case, name, expected, got):
    return _same(got, _eval_with(case, eps=0.0))


def _eval_no_sqrt(case, name, expected, got):
    return _same(got, _eval_with(case, sqrt=False))


def _slipped_backward(dout, x, gamma, eps, *, eps_outside=False, ddof=0, var_path=True,
                      var_path_divisor=None, mean_path=True):
    """(dx, dgamma, dbeta) of the compact formula, computed with a slip: eps outside the root,
    the variance divided by N - ddof, the variance or the mean term dropped, or the variance
    term's mean taken over var_path_divisor values instead of N (the exact gradient of the
    1/(N-1) forward)."""
    n = x.shape[0]
    xhat = _xhat(x, (0,), eps, ddof=ddof, eps_outside=eps_outside)
    xc = x - x.mean(axis=0)
    var = (xc * xc).sum(axis=0) / (n - ddof)
    inv_std = 1 / (np.sqrt(var) + eps) if eps_outside else 1 / np.sqrt(var + eps)
    dxhat = gamma * dout
    dx = dxhat - dxhat.mean(axis=0) if mean_path else dxhat
    if var_path:
        dx = dx - xhat * (dxhat * xhat).sum(axis=0) / (var_path_divisor or n)
    return inv_std * dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)


def _backward_matches(case, name, got, gamma=None, **slip):
    dout, x, case_gamma = case.args
    eps = case.kwargs.get("eps", 1e-5)
    index = {"dx": 0, "dgamma": 1, "dbeta": 2}.get(name)
    if index is None:
        return False
    wrong = _slipped_backward(dout, x, case_gamma if gamma is None else gamma, eps, **slip)
    return _same(got, wrong[index])


def _no_variance_path(case, name, expected, got):
    return name == "dx" and _backward_matches(case, name, got, var_path=False)


def _no_mean_path(case, name, expected, got):
    return name == "dx" and (_backward_matches(case, name, got, mean_path=False)
                             or _backward_matches(case, name, got, mean_path=False,
                                                  var_path=False))


def _no_gamma_in_dx(case, name, expected, got):
    gamma = case.args[2]
    return name == "dx" and _backward_matches(case, name, got, gamma=np.ones_like(gamma))


def _dgamma_from_x(case, name, expected, got):
    dout, x, _ = case.args
    return name == "dgamma" and (_same(got, (dout * x).sum(axis=0))
                                 or _same(got, dout.sum(axis=0)))


def _backward_eps_outside(case, name, expected, got):
    return _backward_matches(case, name, got, eps_outside=True)


def _backward_unbiased(case, name, expected, got):
    n = case.args[1].shape[0]
    return (_backward_matches(case, name, got, ddof=1)
            or _backward_matches(case, name, got, ddof=1, var_path_divisor=n - 1))


def _running_var_biased(case, name, expected, got):
    _, running_var, x = case.args
    momentum = case.kwargs.get("momentum", 0.1)
    return name == "running_var" and _same(got, (1 - momentum) * running_var
                                           + momentum * x.var(axis=0))


def _running_momentum_on_old(case, name, expected, got):
    running_mean, running_var, x = case.args
    momentum = case.kwargs.get("momentum", 0.1)
    if name == "running_mean":
        return _same(got, momentum * running_mean + (1 - momentum) * x.mean(axis=0))
    return any(_same(got, momentum * running_var + (1 - momentum) * x.var(axis=0, ddof=d))
               for d in (0, 1))


def _running_std(case, name, expected, got):
    _, running_var, x = case.args
    momentum = case.kwargs.get("momentum", 0.1)
    return name == "running_var" and any(
        _same(got, (1 - momentum) * running_var + momentum * x.std(axis=0, ddof=d))
        for d in (0, 1))


def _fold_with(case, *, eps_outside=False, eps=None):
    W, b, gamma, beta, running_mean, running_var = case.args
    eps = case.kwargs.get("eps", 1e-5) if eps is None else eps
    std = np.sqrt(running_var) + eps if eps_outside else np.sqrt(running_var + eps)
    s = gamma / std
    return W * s, (b - running_mean) * s + beta


def _fold_bias_unscaled(case, name, expected, got):
    _, b, gamma, beta, running_mean, running_var = case.args
    s = gamma / np.sqrt(running_var + case.kwargs.get("eps", 1e-5))
    return name == "b" and (_same(got, b - running_mean + beta)
                            or _same(got, b * s - running_mean + beta))


def _fold_eps_outside(case, name, expected, got):
    return _same(got, _fold_with(case, eps_outside=True)[name == "b"])


def _fold_no_eps(case, name, expected, got):
    return _same(got, _fold_with(case, eps=0.0)[name == "b"])


def _layernorm_slip(case, name, got, *, mean_path=True, var_path=True, gamma_outside=False,
                    axis=1):
    """layernorm_backward's dx with a slip: a path left out, gamma outside the sums, or the
    sums (and the statistics) taken over `axis` 0, as batch norm's."""
    dout, x, gamma = case.args
    eps = case.kwargs.get("eps", 1e-5)
    mean = x.mean(axis=axis, keepdims=True)
    inv_std = 1 / np.sqrt(((x - mean) ** 2).mean(axis=axis, keepdims=True) + eps)
    xhat = (x - mean) * inv_std
    g = dout if gamma_outside else gamma * dout
    dx = g - g.mean(axis=axis, keepdims=True) if mean_path else g
    if var_path:
        dx = dx - xhat * (g * xhat).mean(axis=axis, keepdims=True)
    dx = inv_std * dx * (gamma if gamma_outside else 1)
    return name == "dx" and _same(got, dx)


def _layernorm_no_variance_path(case, name, expected, got):
    return _layernorm_slip(case, name, got, var_path=False)


def _layernorm_no_mean_path(case, name, expected, got):
    return (_layernorm_slip(case, name, got, mean_path=False)
            or _layernorm_slip(case, name, got, mean_path=False, var_path=False))


def _layernorm_gamma_outside(case, name, expected, got):
    return _layernorm_slip(case, name, got, gamma_outside=True)


def _layernorm_over_the_batch(case, name, expected, got):
    return (_layernorm_slip(case, name, got, axis=0)
            or _layernorm_slip(case, name, got, axis=0, gamma_outside=True))


def _repeats_with(case, *, ddof=1, start_var=1.0, weight=None, k_shift=0):
    x, k = case.args
    momentum = case.kwargs.get("momentum", 0.1)
    r = (1 - momentum) ** (k + k_shift) if weight is None else weight(momentum, k)
    return (1 - r) * x.mean(axis=0), r * start_var + (1 - r) * x.var(axis=0, ddof=ddof)


def _repeats_match(case, name, got, **slip):
    wrong = _repeats_with(case, **slip)
    return _same(got, wrong[name == "running_var"])


def _repeats_biased(case, name, expected, got):
    return name == "running_var" and _repeats_match(case, name, got, ddof=0)


def _repeats_var_from_zero(case, name, expected, got):
    return name == "running_var" and _repeats_match(case, name, got, start_var=0.0)


def _momentum_to_the_k(momentum, k):
    return momentum ** k


def _repeats_momentum_power(case, name, expected, got):
    return _repeats_match(case, name, got, weight=_momentum_to_the_k)


def _repeats_off_by_one(case, name, expected, got):
    return any(_repeats_match(case, name, got, k_shift=s) for s in (-1, 1))


def _group_norm_with(case, groups_of):
    """group_norm_forward with the values that share a statistic chosen by groups_of(x):
    it returns an (A, B, m) view, each [a, b] a set of m values, and the inverse map."""
    x, gamma, beta, G = case.args
    eps = case.kwargs.get("eps", 1e-5)
    g, back = groups_of(x, G)
    xhat = back(_xhat(g, (2,), eps))
    return _per_channel(gamma, x.ndim) * xhat + _per_channel(beta, x.ndim)


def _interleaved_groups(x, G):
    N, C = x.shape[:2]
    k = C // G
    view = x.reshape(N, k, G, -1).swapaxes(1, 2).reshape(N, G, -1)
    return view, lambda h: h.reshape(N, G, k, -1).swapaxes(1, 2).reshape(x.shape)


def _one_channel_groups(x, G):
    N, C = x.shape[:2]
    return x.reshape(N, C, -1), lambda h: h.reshape(x.shape)


def _groups_across_the_batch(x, G):
    N = x.shape[0]
    view = x.reshape(N, G, -1).swapaxes(0, 1).reshape(1, G, -1)
    return view, lambda h: h.reshape(G, N, -1).swapaxes(0, 1).reshape(x.shape)


def _group_norm_interleaved(case, name, expected, got):
    return _same(got, _group_norm_with(case, _interleaved_groups))


def _group_norm_per_channel(case, name, expected, got):
    return _same(got, _group_norm_with(case, _one_channel_groups))


def _group_norm_across_the_batch(case, name, expected, got):
    return _same(got, _group_norm_with(case, _groups_across_the_batch))


def _group_norm_slip(case, **slip):
    x, gamma, beta, G = case.args
    N = x.shape[0]
    xhat = _xhat(x.reshape(N, G, -1), (2,), case.kwargs.get("eps", 1e-5), **slip)
    return _per_channel(gamma, x.ndim) * xhat.reshape(x.shape) + _per_channel(beta, x.ndim)


def _group_norm_unbiased(case, name, expected, got):
    return _same(got, _group_norm_slip(case, ddof=1))


def _group_norm_eps_outside(case, name, expected, got):
    return _same(got, _group_norm_slip(case, eps_outside=True))


HINT_NO_VARIANCE_PATH = ("dx misses the path through the variance: var depends on x too, "
                         "which adds the term - xhat * mean(dxhat * xhat) inside the bracket")
HINT_NO_MEAN_PATH = ("dx misses the path through the mean: mean depends on every x_i, which "
                     "adds the term - mean(dxhat) inside the bracket")
HINT_NO_GAMMA = ("dx forgets gamma: what flows back into xhat is dxhat = gamma * dout, so "
                 "dx carries gamma / sqrt(var + eps) in front of the bracket")
HINT_DGAMMA_XHAT = ("dgamma sums dout times the NORMALISED input: dgamma = sum(dout * xhat) "
                    "over the batch, not dout * x or dout alone")
HINT_EPS_OUTSIDE = ("eps sits outside the square root: divide by sqrt(var + eps), not "
                    "sqrt(var) + eps")
HINT_NO_EPS = ("eps is missing: divide by sqrt(var + eps); it also keeps a feature with "
               "variance 0 from dividing 0 by 0")
HINT_UNBIASED = ("the variance divides by m - 1: batch norm normalises with the BIASED "
                 "batch variance, divided by the m values behind each statistic (N, or "
                 "N * H * W for images); only the running variance is kept unbiased")
HINT_NO_AFFINE = ("this is xhat, the standardised input: the layer's output is "
                  "gamma * xhat + beta")
HINT_PER_EXAMPLE = ("the statistics were taken over each example's own values (axis 1 and "
                    "on: that is layer norm); batch norm takes each feature's or channel's "
                    "mean and variance over the batch")
HINT_PER_POSITION = ("the statistics were taken over N alone, one per pixel position: "
                     "BatchNorm2d shares one mean and variance per channel over N, H and W "
                     "(axes (0, 2, 3))")
HINT_PER_IMAGE = ("the statistics were taken over each image's H and W (that is instance "
                  "norm): BatchNorm2d takes them per channel over N, H and W (axes (0, 2, 3))")
HINT_EVAL_BATCH = ("the batch's own mean and variance were used: at test time batch norm "
                   "normalises with running_mean and running_var, whatever the batch")
HINT_EVAL_NO_SQRT = ("divided by running_var + eps: divide by its square root, the standard "
                     "deviation")
HINT_RUNNING_BIASED = ("the running variance is updated with the biased batch variance "
                       "(divide by N): PyTorch keeps the UNBIASED one, times N / (N - 1)")
HINT_MOMENTUM_ON_OLD = ("momentum weights the OLD value here (Keras's convention); in "
                        "PyTorch's, used here, it weights the new batch statistic: "
                        "new = (1 - momentum) * old + momentum * batch value")
HINT_RUNNING_STD = ("the running variance averages variances, not standard deviations: use "
                    "the batch's unbiased variance")
HINT_FOLD_BIAS = ("the bias must be scaled too: BN computes s * (x @ W + b - running_mean) + "
                  "beta, so b2 = (b - running_mean) * s + beta")
HINT_LN_NO_VARIANCE_PATH = ("dx misses the path through each row's variance: add "
                            "- xhat * mean(dxhat * xhat) over the row's features")
HINT_LN_NO_MEAN_PATH = ("dx misses the path through each row's mean: add - mean(dxhat) over "
                        "the row's features")
HINT_LN_GAMMA_OUTSIDE = ("gamma was pulled out of the sums, as batch norm's compact form "
                         "allows; in layer norm gamma varies along the row that the sums run "
                         "over, so form dxhat = gamma * dout first")
HINT_LN_OVER_THE_BATCH = ("the sums run over the batch (axis 0), as in batch norm; layer "
                          "norm's mean and variance belong to each row, so its sums run over "
                          "the row's features (axis 1)")
HINT_REPEATS_VAR_FROM_ZERO = ("the running variance starts at 1, not 0: after k steps the "
                              "start still weighs r = (1 - momentum)^k, so var = r * 1 + "
                              "(1 - r) * the unbiased variance")
HINT_REPEATS_POWER = ("each step keeps (1 - momentum) of the old value, so after k steps the "
                      "starting value weighs (1 - momentum)^k, not momentum^k")
HINT_REPEATS_OFF_BY_ONE = ("off by one step: after k updates the starting value weighs "
                           "(1 - momentum)^k")
HINT_GN_INTERLEAVED = ("channels c, c + G, c + 2G, ... were put in one group: group g holds "
                       "the CONSECUTIVE channels g*C/G ... (g+1)*C/G - 1, as "
                       "x.reshape(N, G, -1) gives")
HINT_GN_PER_CHANNEL = ("each channel was normalised on its own (instance norm): the C/G "
                       "channels of a group share one mean and one variance")
HINT_GN_ACROSS_THE_BATCH = ("the statistics mix the samples of the batch: group norm takes "
                            "them per sample, over its group of channels and their pixels")
HINT_GN_UNBIASED = ("the variance divides by m - 1: group norm uses the BIASED variance, "
                    "divided by the group's m = C/G * H * W values")

FORWARD_HINTS = ((HINT_EPS_OUTSIDE, _forward_eps_outside), (HINT_UNBIASED, _forward_unbiased),
                 (HINT_NO_EPS, _forward_no_eps), (HINT_NO_AFFINE, _forward_no_affine),
                 (HINT_PER_EXAMPLE, _forward_per_example))
FORWARD_2D_HINTS = ((HINT_PER_POSITION, _forward_per_position),
                    (HINT_PER_IMAGE, _forward_per_image)) + FORWARD_HINTS
EVAL_HINTS = ((HINT_EVAL_BATCH, _eval_batch_statistics), (HINT_EPS_OUTSIDE, _eval_eps_outside),
              (HINT_NO_EPS, _eval_no_eps), (HINT_EVAL_NO_SQRT, _eval_no_sqrt))
BACKWARD_HINTS = ((HINT_NO_VARIANCE_PATH, _no_variance_path),
                  (HINT_NO_MEAN_PATH, _no_mean_path),
                  (HINT_NO_GAMMA, _no_gamma_in_dx),
                  (HINT_DGAMMA_XHAT, _dgamma_from_x),
                  (HINT_EPS_OUTSIDE, _backward_eps_outside),
                  (HINT_UNBIASED, _backward_unbiased))
RUNNING_HINTS = ((HINT_RUNNING_BIASED, _running_var_biased),
                 (HINT_MOMENTUM_ON_OLD, _running_momentum_on_old),
                 (HINT_RUNNING_STD, _running_std))
FOLD_HINTS = ((HINT_FOLD_BIAS, _fold_bias_unscaled), (HINT_EPS_OUTSIDE, _fold_eps_outside),
              (HINT_NO_EPS, _fold_no_eps))
LAYERNORM_HINTS = ((HINT_LN_NO_VARIANCE_PATH, _layernorm_no_variance_path),
                   (HINT_LN_NO_MEAN_PATH, _layernorm_no_mean_path),
                   (HINT_LN_GAMMA_OUTSIDE, _layernorm_gamma_outside),
                   (HINT_LN_OVER_THE_BATCH, _layernorm_over_the_batch))
REPEATS_HINTS = ((HINT_RUNNING_BIASED, _repeats_biased),
                 (HINT_REPEATS_VAR_FROM_ZERO, _repeats_var_from_zero),
                 (HINT_REPEATS_POWER, _repeats_momentum_power),
                 (HINT_REPEATS_OFF_BY_ONE, _repeats_off_by_one))
GROUP_NORM_HINTS = ((HINT_GN_INTERLEAVED, _group_norm_interleaved),
                    (HINT_GN_PER_CHANNEL, _group_norm_per_channel),
                    (HINT_GN_ACROSS_THE_BATCH, _group_norm_across_the_batch),
                    (HINT_GN_UNBIASED, _group_norm_unbiased),
                    (HINT_EPS_OUTSIDE, _group_norm_eps_outside))


# ---------------------------------------------------------------- running statistics

def update_running(running_mean, running_var, x, momentum=0.1):
    """running_mean, running_var (D,), a batch x (N, D) -> (new_mean, new_var), both (D,).

    new = (1 - momentum) * old + momentum * batch value, with the UNBIASED batch variance
    (sum of squares / (N - 1)) for the variance. New arrays; the inputs are not changed.
    """
    new_mean, new_var = running_mean.copy(), running_var.copy()  # updated in place below
    F.batchnorm_forward(x, np.ones(x.shape[1]), np.zeros(x.shape[1]), running_mean=new_mean,
                        running_var=new_var, momentum=momentum)
    return new_mean, new_var


def _update_running_cases(rng):
    def case(group, n, d, **kw):
        return Case(group, (*_running(rng, d), _features(rng, n, d)), kw)

    return [
        case("momentum 0.1 (the default)", 16, 4),
        case("momentum 0.1 (the default)", 5, 3, momentum=0.1),
        # m / (m - 1) = 2: a biased variance is off by half
        case("two examples", 2, 5),
        case("other momentum", 8, 3, momentum=0.01),
        case("other momentum", 6, 4, momentum=0.5),
    ]


# ---------------------------------------------------------------- folding into Linear

def fold_batchnorm(W, b, gamma, beta, running_mean, running_var, eps=1e-5):
    """Fold an eval-mode BatchNorm1d into the Linear layer before it.

    W (D_in, D_out), b (D_out,) of `y = x @ W + b`; gamma, beta, running_mean,
    running_var (D_out,). Returns (W2, b2) with x @ W2 + b2 == batchnorm_eval(x @ W + b):
    s = gamma / sqrt(running_var + eps), W2 = W * s (each output column scaled),
    b2 = (b - running_mean) * s + beta.
    """
    s = gamma / np.sqrt(running_var + eps)
    return W * s, (b - running_mean) * s + beta


def _fold_cases(rng):
    def case(group, d_in, d_out, running=None, **kw):
        W, b = _normal(rng, d_in, d_out), _normal(rng, d_out)
        running = _running(rng, d_out) if running is None else running
        return Case(group, (W, b, *_affine(rng, d_out), *running), kw)

    return [
        case("random layers", 5, 3),
        case("random layers", 4, 7, eps=1e-3),
        # D_in == D_out: scaling the rows instead of the columns has the right shape
        case("square W", 6, 6),
        case("tiny running variance (eps matters)", 3, 3,
             running=(rng.uniform(-1, 1, size=3), np.array([1e-7, 3e-6, 1e-5]))),
    ]


# ---------------------------------------------------------------- layer norm backward, derived

def layernorm_backward(dout, x, gamma, eps=1e-5):
    """dout (N, D), x (N, D), gamma (D,) -> dx (N, D), dgamma (D,), dbeta (D,).

    Layer norm normalises each ROW over its D features (biased variance) and then scales by
    gamma, which varies along that axis: dx must carry dxhat = gamma * dout through the mean
    and variance of each row. The reference is dlcore.functional's layernorm pair.
    """
    _, cache = F.layernorm_forward(x, gamma, np.zeros_like(gamma), eps=eps)
    return F.layernorm_backward(dout, cache)


def _layernorm_rows(rng, n, d):
    """(n, d) inputs whose rows have their own mean and spread."""
    loc = rng.uniform(-3, 3, size=(n, 1))
    return loc + rng.uniform(0.2, 4.0, size=(n, 1)) * _normal(rng, n, d)


def _layernorm_backward_cases(rng):
    def case(group, n, d, dout=None, **kw):
        x = _layernorm_rows(rng, n, d)
        gamma, _ = _affine(rng, d)
        dout = _normal(rng, n, d) if dout is None else dout
        return Case(group, (dout, x, gamma), kw)

    return [
        case("random dout", 6, 5),
        case("random dout", 3, 8, eps=1e-3),
        # N == D: sums over the wrong axis keep the right shape
        case("square x (N = D)", 4, 4),
        # two features per row: xhat is +-1 and the variance path is half of dx
        case("two features", 5, 2),
        case("dout close to all ones", 7, 4, dout=1.0 + 0.1 * _normal(rng, 7, 4)),
    ]


# ---------------------------------------------------------------- running statistics, predicted

def running_after_repeats(x, k, momentum=0.1):
    """x (N, D), k >= 1 -> (running_mean, running_var), both (D,): a fresh BatchNorm1d
    (running mean 0, running variance 1) after k training steps on the same batch x.
    Predicted in closed form: with r = (1 - momentum)^k, mean = (1 - r) * mean(x) and
    var = r * 1 + (1 - r) * unbiased var(x). The reference runs dlcore's update k times."""
    d = x.shape[1]
    mean, var = np.zeros(d), np.ones(d)
    for _ in range(k):
        F.batchnorm_forward(x, np.ones(d), np.zeros(d), running_mean=mean, running_var=var,
                            momentum=momentum)
    return mean, var


def _running_after_cases(rng):
    def case(group, n, d, k, **kw):
        return Case(group, (_features(rng, n, d), k), kw)

    return [
        case("one step (k = 1)", 8, 4, 1),
        case("a few steps", 16, 3, int(rng.integers(3, 15))),
        case("a few steps", 6, 5, int(rng.integers(3, 15)), momentum=0.3),
        # m / (m - 1) = 2: a biased variance is off by half
        case("two examples", 2, 4, int(rng.integers(3, 10))),
        # the initial variance 1 has not yet faded: (1 - 0.01)^k is about 0.37 to 0.82
        case("slow momentum (0.01)", 10, 3, int(rng.integers(20, 100)), momentum=0.01),
    ]


# ---------------------------------------------------------------- group norm forward, from its definition

def group_norm_forward(x, gamma, beta, num_groups, eps=1e-5):
    """x (N, C) or (N, C, H, W), gamma and beta (C,), num_groups G dividing C -> out (x's shape).

    Per sample, channels g*C/G ... (g+1)*C/G - 1 with all their pixels form group g, which is
    standardised with its own mean and biased variance; then gamma and beta per channel, as
    torch.nn.GroupNorm. The reference is dlcore.functional.group_norm_forward."""
    return F.group_norm_forward(x, gamma, beta, num_groups, eps=eps)[0]


def _group_images(rng, n, c, h, w):
    """(n, c, h, w) inputs: each channel of each sample with its own offset and spread, so
    statistics per channel, per sample or over the batch all give other answers."""
    loc = rng.uniform(-3, 3, size=(n, c, 1, 1))
    return loc + rng.uniform(0.3, 3.0, size=(n, c, 1, 1)) * _normal(rng, n, c, h, w)


def _group_norm_cases(rng):
    def case(group, shape, G, **kw):
        x = _group_images(rng, *shape) if len(shape) == 4 else _features(rng, *shape)
        return Case(group, (x, *_affine(rng, shape[1]), G), kw)

    return [
        case("images", (3, 6, 4, 4), 3),
        case("images", (2, 8, 3, 5), 2, eps=1e-3),
        # one group: layer norm over (C, H, W); as many groups as channels: instance norm
        case("one group (G = 1)", (2, 4, 3, 3), 1),
        case("a group per channel (G = C)", (2, 4, 3, 3), 4),
        # features, no pixels; a single sample must not need a batch
        case("features (N, C)", (5, 8), 4),
        case("a single sample", (1, 6, 2, 2), 2),
    ]


# ---------------------------------------------------------------- the registry entries

EXERCISES = [
    register(Exercise(PREFIX + "batchnorm_train_forward", "batchnorm_train_forward",
                      _train_forward_cases, batchnorm_train_forward, ("out",),
                      hints=FORWARD_HINTS)),
    register(Exercise(PREFIX + "batchnorm2d_train_forward", "batchnorm2d_train_forward",
                      _train_forward_2d_cases, batchnorm2d_train_forward, ("out",),
                      hints=FORWARD_2D_HINTS)),
    register(Exercise(PREFIX + "batchnorm_eval_forward", "batchnorm_eval_forward",
                      _eval_forward_cases, batchnorm_eval_forward, ("out",),
                      hints=EVAL_HINTS)),
    register(Exercise(PREFIX + "batchnorm_backward", "batchnorm_backward", _backward_cases,
                      batchnorm_backward, ("dx", "dgamma", "dbeta"), hints=BACKWARD_HINTS)),
    register(Exercise(PREFIX + "update_running", "update_running", _update_running_cases,
                      update_running, ("running_mean", "running_var"), hints=RUNNING_HINTS)),
    register(Exercise(PREFIX + "fold_batchnorm", "fold_batchnorm", _fold_cases,
                      fold_batchnorm, ("W", "b"), hints=FOLD_HINTS)),
    register(Exercise(PREFIX + "layernorm_backward", "layernorm_backward",
                      _layernorm_backward_cases, layernorm_backward, ("dx", "dgamma", "dbeta"),
                      hints=LAYERNORM_HINTS)),
    register(Exercise(PREFIX + "running_after_repeats", "running_after_repeats",
                      _running_after_cases, running_after_repeats,
                      ("running_mean", "running_var"), hints=REPEATS_HINTS)),
    register(Exercise(PREFIX + "group_norm_forward", "group_norm_forward", _group_norm_cases,
                      group_norm_forward, ("out",), hints=GROUP_NORM_HINTS)),
]
