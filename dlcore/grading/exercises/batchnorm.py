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

Hints: each classic slip of batch norm is recomputed from the case's inputs and compared
with the wrong answer (to 1e-9, far below the ~5e-6 a slip moves it by), so `check` names
the slip only when the numbers are exactly that slip: the path through the variance left out
of dx, eps outside the square root, the unbiased variance (1/(N-1)) where the biased one
normalises, and the reverse for the running variance.
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

def _slipped_backward(dout, x, gamma, eps, *, eps_outside=False, ddof=0, var_path=True,
                      var_path_divisor=None):
    """(dx, dgamma, dbeta) of the compact formula, computed with a slip: eps outside the root,
    the variance divided by N - ddof, the variance term dropped, or its mean taken over
    var_path_divisor values instead of N (the exact gradient of the 1/(N-1) forward)."""
    n = x.shape[0]
    xc = x - x.mean(axis=0)
    var = (xc * xc).sum(axis=0) / (n - ddof)
    inv_std = 1 / (np.sqrt(var) + eps) if eps_outside else 1 / np.sqrt(var + eps)
    xhat = xc * inv_std
    dxhat = gamma * dout
    dx = dxhat - dxhat.mean(axis=0)
    if var_path:
        dx = dx - xhat * (dxhat * xhat).sum(axis=0) / (var_path_divisor or n)
    return inv_std * dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)


def _backward_matches(case, name, got, **slip):
    dout, x, gamma = case.args
    eps = case.kwargs.get("eps", 1e-5)
    index = {"dx": 0, "dgamma": 1, "dbeta": 2}.get(name)
    if index is None:
        return False
    wrong = _slipped_backward(dout, x, gamma, eps, **slip)[index]
    return np.allclose(got, wrong, rtol=1e-9, atol=1e-12)


def _no_variance_path(case, name, expected, got):
    return name == "dx" and _backward_matches(case, name, got, var_path=False)


def _backward_eps_outside(case, name, expected, got):
    return _backward_matches(case, name, got, eps_outside=True)


def _backward_unbiased(case, name, expected, got):
    n = case.args[1].shape[0]
    return (_backward_matches(case, name, got, ddof=1)
            or _backward_matches(case, name, got, ddof=1, var_path_divisor=n - 1))


def _slipped_forward(x, gamma, beta, eps, *, eps_outside=False, ddof=0):
    xc = x - x.mean(axis=0)
    var = (xc * xc).sum(axis=0) / (x.shape[0] - ddof)
    std = np.sqrt(var) + eps if eps_outside else np.sqrt(var + eps)
    return gamma * xc / std + beta


def _forward_eps_outside(case, name, expected, got):
    x, gamma, beta = case.args
    wrong = _slipped_forward(x, gamma, beta, case.kwargs.get("eps", 1e-5), eps_outside=True)
    return np.allclose(got, wrong, rtol=1e-9, atol=1e-12)


def _forward_unbiased(case, name, expected, got):
    x, gamma, beta = case.args
    wrong = _slipped_forward(x, gamma, beta, case.kwargs.get("eps", 1e-5), ddof=1)
    return np.allclose(got, wrong, rtol=1e-9, atol=1e-12)


def _running_var_biased(case, name, expected, got):
    _, running_var, x = case.args
    momentum = case.kwargs.get("momentum", 0.1)
    return name == "running_var" and np.allclose(
        got, (1 - momentum) * running_var + momentum * x.var(axis=0), rtol=1e-9, atol=1e-12)


HINT_NO_VARIANCE_PATH = ("dx misses the path through the variance: var depends on x too, "
                         "which adds the term - xhat * mean(dxhat * xhat) inside the bracket")
HINT_EPS_OUTSIDE = ("eps sits outside the square root: divide by sqrt(var + eps), not "
                    "sqrt(var) + eps")
HINT_UNBIASED = ("the variance divides by N - 1: batch norm normalises with the BIASED "
                 "batch variance (divide by N); only the running variance is kept unbiased")
HINT_RUNNING_BIASED = ("the running variance is updated with the biased batch variance "
                       "(divide by N): PyTorch keeps the UNBIASED one, times N / (N - 1)")

FORWARD_HINTS = ((HINT_EPS_OUTSIDE, _forward_eps_outside), (HINT_UNBIASED, _forward_unbiased))
BACKWARD_HINTS = ((HINT_NO_VARIANCE_PATH, _no_variance_path),
                  (HINT_EPS_OUTSIDE, _backward_eps_outside),
                  (HINT_UNBIASED, _backward_unbiased))


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
                      _train_forward_2d_cases, batchnorm2d_train_forward, ("out",))),
    register(Exercise(PREFIX + "batchnorm_eval_forward", "batchnorm_eval_forward",
                      _eval_forward_cases, batchnorm_eval_forward, ("out",))),
    register(Exercise(PREFIX + "batchnorm_backward", "batchnorm_backward", _backward_cases,
                      batchnorm_backward, ("dx", "dgamma", "dbeta"), hints=BACKWARD_HINTS)),
    register(Exercise(PREFIX + "update_running", "update_running", _update_running_cases,
                      update_running, ("running_mean", "running_var"),
                      hints=((HINT_RUNNING_BIASED, _running_var_biased),))),
    register(Exercise(PREFIX + "fold_batchnorm", "fold_batchnorm", _fold_cases,
                      fold_batchnorm, ("W", "b"))),
    register(Exercise(PREFIX + "layernorm_backward", "layernorm_backward",
                      _layernorm_backward_cases, layernorm_backward, ("dx", "dgamma", "dbeta"))),
    register(Exercise(PREFIX + "running_after_repeats", "running_after_repeats",
                      _running_after_cases, running_after_repeats,
                      ("running_mean", "running_var"))),
    register(Exercise(PREFIX + "group_norm_forward", "group_norm_forward", _group_norm_cases,
                      group_norm_forward, ("out",))),
]
