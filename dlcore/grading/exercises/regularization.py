"""Chapter 8, regularisation: the exercises and their cases.

Every answer is exact arithmetic on small arrays, compared with a numpy reference by
relative error. The cases are chosen so that the classic slips show: a drop probability
p != 0.5 (so that scaling by p instead of 1 - p is wrong), non-square weights with some
columns inside and some outside the max-norm ball (so that rows instead of columns is
wrong), validation curves that improve again after a plateau shorter than the patience, and
improvements smaller than min_delta (so that early stopping's counting is tested), decays far
from 0.5 (so that swapping decay and 1 - decay is wrong).
"""
import numpy as np

from ..registry import Case, Exercise, register

PREFIX = "regularization."


def _keep_mask(rng, shape, p):
    """A 0/1 float mask of `shape` keeping each entry with probability 1 - p (at least one
    entry kept and one dropped, so every case exercises both)."""
    mask = (rng.random(shape) >= p).astype(np.float64)
    flat = mask.reshape(-1)
    flat[0], flat[-1] = 1.0, 0.0
    return mask


def _drop_probability(rng):
    # Away from 0.5, where p and 1 - p would coincide.
    return float(rng.choice([0.1, 0.2, 0.3, 0.7, 0.8]))


# ---------------------------------------------------------------- inverted dropout

def inverted_dropout_forward(x, mask, p):
    """Training-time inverted dropout with a given keep mask (1 = kept, 0 = dropped):
    out = x * mask / (1 - p). x, mask: same shape; p: drop probability in [0, 1)."""
    return x * mask / (1.0 - p)


def inverted_dropout_backward(dout, mask, p):
    """The gradient of `inverted_dropout_forward` with respect to x: dout * mask / (1 - p)."""
    return dout * mask / (1.0 - p)


def _dropout_cases(rng):
    cases = []
    for group, shape in (("batch of vectors", (6, 9)), ("batch of images", (2, 3, 4, 4))):
        for _ in range(2):
            p = _drop_probability(rng)
            cases.append(Case(group, (rng.standard_normal(shape), _keep_mask(rng, shape, p), p)))
    p = 0.0   # nothing dropped: the identity
    cases.append(Case("p = 0", (rng.standard_normal((4, 5)), np.ones((4, 5)), p)))
    return cases


# ---------------------------------------------------------------- dropout at test time

def dropout_eval(x, p, classic):
    """Dropout at test time. Inverted dropout (classic=False) already scaled in training, so
    it returns x unchanged; classic dropout (classic=True) multiplies by the keep
    probability 1 - p, so each unit's output equals its expected training-time output."""
    return x * (1.0 - p) if classic else x


def _dropout_eval_cases(rng):
    cases = []
    for classic in (True, False):
        group = "classic" if classic else "inverted"
        for shape in ((5, 7), (2, 3, 4, 4)):
            cases.append(Case(group, (rng.standard_normal(shape), _drop_probability(rng)),
                              {"classic": classic}))
    return cases


# ---------------------------------------------------------------- L2 penalty

def l2_penalty_and_grad(W, weight_decay):
    """The L2 penalty (weight_decay / 2) * ||W||^2 (sum of squares of every entry) as a
    float, and its gradient weight_decay * W (W's shape), as `dlcore.regularization` and
    SGD(weight_decay=...) define it."""
    return 0.5 * weight_decay * float(np.sum(W * W)), weight_decay * W


def _l2_cases(rng):
    return [
        Case("linear weight", (rng.standard_normal((8, 5)), float(rng.uniform(1e-3, 0.1)))),
        Case("linear weight", (rng.standard_normal((3, 11)), 0.5)),
        Case("conv weight", (rng.standard_normal((4, 2, 3, 3)), float(rng.uniform(1e-3, 0.1)))),
        Case("weight_decay = 0", (rng.standard_normal((4, 4)), 0.0)),
    ]


# ---------------------------------------------------------------- max-norm

def max_norm(W, c):
    """Max-norm projection of a Linear weight W of shape (in, out): each column W[:, j]
    (the incoming weights of unit j) with Euclidean norm above c is rescaled to norm c;
    the others are left unchanged. Returns a new array; W is not modified."""
    norms = np.sqrt(np.sum(W * W, axis=0, keepdims=True))
    return W * (c / np.maximum(norms, c))


def _max_norm_columns(rng, n_in, n_out, c):
    """A weight whose columns have norms on both sides of c, and whose rows do too."""
    W = rng.standard_normal((n_in, n_out))
    target = rng.uniform(0.3 * c, 2.5 * c, size=n_out)
    target[0], target[-1] = 0.5 * c, 2.0 * c          # one column inside, one outside
    return W * (target / np.linalg.norm(W, axis=0))


def _max_norm_cases(rng):
    cases = []
    for n_in, n_out in ((10, 4), (4, 10), (7, 7)):     # tall, wide, square
        c = float(rng.uniform(0.5, 3.0))
        cases.append(Case("columns on both sides of c", (_max_norm_columns(rng, n_in, n_out, c),
                                                         c)))
    c = 5.0
    W = rng.standard_normal((6, 3))
    W *= 0.5 * c / np.linalg.norm(W, axis=0)            # every column inside: unchanged
    cases.append(Case("every column within c", (W, c)))
    return cases


# ---------------------------------------------------------------- early stopping

def early_stop_epoch(values, patience, min_delta=0.0):
    """Early stopping on a validation loss curve (lower is better), epochs counted from 0.

    Epoch i improves when values[i] < best - min_delta (epoch 0 always improves); training
    stops after `patience` epochs in a row without improvement. Returns (best_epoch,
    stop_epoch): the last epoch that improved, and the epoch after which training stops,
    or len(values) - 1 if the patience never runs out. This is what
    `dlcore.regularization.EarlyStopping(patience, min_delta)` does in `fit`.
    """
    best_epoch, best, wait = 0, None, 0
    for epoch, value in enumerate(values):
        if best is None or value < best - min_delta:
            best_epoch, best, wait = epoch, value, 0
            continue
        wait += 1
        if wait >= patience:
            return best_epoch, epoch
    return best_epoch, len(values) - 1


def _validation_curve(rng, n):
    """A noisy U-shaped validation loss: falls, then rises (overfitting)."""
    t = np.arange(n)
    turn = rng.uniform(0.3, 0.6) * n
    curve = 1.0 / (1 + 0.3 * t) + 0.004 * np.maximum(t - turn, 0) ** 1.3
    return [round(float(v), 4) for v in curve + rng.normal(0, 0.01, n)]


def _early_stop_cases(rng):
    # A curve that plateaus for 2 epochs, improves again, then rises for good: patience 3
    # must keep going through the plateau.
    plateau = [1.0, 0.8, 0.7, 0.72, 0.71, 0.6, 0.65, 0.66, 0.64, 0.7, 0.75]
    # Improvements of 0.003 that min_delta = 0.01 does not count (none near the boundary).
    tiny = [1.0, 0.9, 0.897, 0.894, 0.891, 0.888, 0.885, 0.882]
    return [
        Case("plateau shorter than patience", (plateau, 3)),
        Case("plateau shorter than patience", (plateau, 2)),
        Case("noisy U-shaped curve", (_validation_curve(rng, 40), 5)),
        Case("noisy U-shaped curve", (_validation_curve(rng, 60), int(rng.integers(3, 8)))),
        Case("min_delta", (tiny, 3), {"min_delta": 0.01}),
        Case("min_delta", (tiny, 3), {"min_delta": 0.0}),
        Case("never stops", ([1.0, 0.9, 0.8, 0.85, 0.7], 10)),
    ]


# ---------------------------------------------------------------- label smoothing

def smooth_labels(y, num_classes, eps):
    """Label-smoothed targets (N, num_classes): (1 - eps) * onehot(y) + eps / num_classes,
    so the true class gets 1 - eps + eps / C and every other class eps / C (rows sum to 1).
    This is the target of PyTorch's CrossEntropyLoss(label_smoothing=eps)."""
    q = np.full((len(y), num_classes), eps / num_classes)
    q[np.arange(len(y)), y] += 1.0 - eps
    return q


def _smooth_cases(rng):
    return [
        Case("10 classes", (rng.integers(0, 10, size=12), 10, 0.1)),
        Case("10 classes", (rng.integers(0, 10, size=5), 10, float(rng.uniform(0.05, 0.3)))),
        Case("2 classes", (np.array([0, 1, 1, 0]), 2, 0.2)),
        Case("eps = 0", (rng.integers(0, 4, size=6), 4, 0.0)),
    ]


# ---------------------------------------------------------------- EMA

def ema_update(shadow, param, decay):
    """One step of an exponential moving average of the weights (Polyak averaging):
    returns decay * shadow + (1 - decay) * param, a new array of the same shape."""
    return decay * shadow + (1.0 - decay) * param


def _ema_cases(rng):
    cases = []
    for decay in (0.9, 0.999, float(rng.uniform(0.95, 0.995))):
        shape = (5, 3) if decay != 0.999 else (2, 3, 3, 3)
        cases.append(Case("decay near 1", (rng.standard_normal(shape),
                                           rng.standard_normal(shape), decay)))
    cases.append(Case("decay = 0", (rng.standard_normal(4), rng.standard_normal(4), 0.0)))
    return cases


# ---------------------------------------------------------------- derive: weight decay under momentum

def decay_factor_momentum(lr, weight_decay, momentum):
    """The factor by which weight decay alone (no loss gradient) shrinks a weight per step in the
    long run under SGD with heavy-ball momentum (PyTorch's form, dampening 0):
    v <- momentum v + weight_decay w, w <- w - lr v. The state (w, v) is multiplied by
    [[1 - lr wd, -lr momentum], [wd, momentum]] each step; the factor is that matrix's
    spectral radius (sqrt(momentum) when its eigenvalues are complex)."""
    M = np.array([[1.0 - lr * weight_decay, -lr * momentum], [weight_decay, momentum]])
    return float(np.max(np.abs(np.linalg.eigvals(M))))


def _decay_factor_cases(rng):
    return [
        Case("no momentum", (float(rng.uniform(0.01, 0.5)), float(rng.uniform(1e-4, 1e-2)), 0.0)),
        Case("momentum 0.9, a usual decay", (float(rng.uniform(0.05, 0.2)),
                                             float(rng.uniform(1e-4, 1e-3)), 0.9)),
        Case("momentum 0.99, a usual decay", (float(rng.uniform(0.01, 0.03)),
                                              float(rng.uniform(1e-4, 3e-4)), 0.99)),
        Case("strong decay, real eigenvalues", (0.1, float(rng.uniform(0.05, 0.1)), 0.5)),
        Case("strong decay, complex eigenvalues (oscillates)",
             (float(rng.uniform(0.5, 1.0)), float(rng.uniform(0.5, 1.0)), 0.9)),
    ]


# ---------------------------------------------------------------- derive: dropout's moments

def dropout_moments(x, p):
    """The mean and variance of inverted dropout's output for a fixed input x (each entry on its
    own): out = x / (1 - p) with probability 1 - p, 0 with probability p. Computed from that
    two-point distribution; the learner derives mean x and variance x^2 p / (1 - p)."""
    kept = x / (1.0 - p)
    mean = (1.0 - p) * kept + p * 0.0
    second = (1.0 - p) * kept**2 + p * 0.0
    return mean, second - mean**2


def _moments_cases(rng):
    return [
        Case("p = 0.5", (rng.standard_normal((4, 3)), 0.5)),
        Case("p far from 0.5", (rng.standard_normal(6) * 3.0, float(rng.uniform(0.1, 0.3)))),
        Case("p far from 0.5", (rng.standard_normal((2, 5)), float(rng.uniform(0.7, 0.9)))),
        Case("p = 0 (no dropout)", (rng.standard_normal(3), 0.0)),
    ]


# ---------------------------------------------------------------- derive: the weights of an EMA

def ema_weights(decay, t, bias_correction):
    """The weights (t + 1,) that dlcore's EMA, after t updates, puts on the initial weights
    theta_0 and on the values theta_1 .. theta_t it was updated with, in that order. The EMA
    is linear, so the reference feeds it theta_k = the k-th unit vector and reads the average."""
    from ... import regularization as R
    from ...nn import Parameter

    theta = Parameter(np.eye(t + 1)[0].copy())
    ema = R.EMA([theta], decay=decay, bias_correction=bias_correction)
    for k in range(1, t + 1):
        theta.data[...] = np.eye(t + 1)[k]
        ema.update()
    return ema.averaged()[0]


def _ema_weights_cases(rng):
    cases = []
    for corrected, name in ((False, "started at theta_0"), (True, "bias-corrected")):
        cases += [Case(f"{name}, t = 1", (float(rng.uniform(0.5, 0.95)), 1, corrected)),
                  Case(f"{name}, decay 0.9, t = 20", (0.9, 20, corrected)),
                  Case(f"{name}, decay 0.999, a few updates",
                       (0.999, int(rng.integers(5, 15)), corrected))]
    return cases


# ---------------------------------------------------------------- derive: dropout as a ridge penalty

def dropout_ridge_penalty(w, X, p, classic=False):
    """What dropout on the inputs (drop probability p) adds, in expectation over the masks, to
    the mean squared error mean_i (y_i - x~_i . w)^2 of a linear model without bias, beyond the
    error of the expected input: E[loss] = mean_i (y_i - E[x~_i] . w)^2 + penalty. The noise
    x~ - E[x~] has mean zero, so the penalty is the variance of x~_i . w averaged over i:
    inverted (x~ = x r / (1 - p), E[x~] = x): p / (1 - p) * sum_j w_j^2 * mean_i X[i, j]^2;
    classic (x~ = x r, E[x~] = (1 - p) x): p (1 - p) * sum_j w_j^2 * mean_i X[i, j]^2.
    w: (d,); X: (n, d); returns a float."""
    factor = p * (1.0 - p) if classic else p / (1.0 - p)
    return float(factor * np.sum(w**2 * np.mean(X**2, axis=0)))


def _ridge_cases(rng):
    cases = []
    for group, (n, d) in (("a few inputs", (30, 4)), ("many examples", (200, 7))):
        for _ in range(2):
            X = rng.standard_normal((n, d)) * rng.uniform(0.3, 3.0, size=d)  # unequal scales
            cases.append(Case(group, (rng.standard_normal(d), X, _drop_probability(rng))))
    cases.append(Case("p = 0.5", (rng.standard_normal(3), rng.standard_normal((50, 3)), 0.5)))
    for _ in range(2):
        X = rng.standard_normal((40, 5)) * rng.uniform(0.3, 3.0, size=5)
        cases.append(Case("classic (unscaled) dropout", (rng.standard_normal(5), X,
                                                          _drop_probability(rng)),
                          {"classic": True}))
    return cases


def _ridge_factor(case, got):
    """got divided by sum_j w_j^2 mean_i x_ij^2: the factor in front of the learner's penalty."""
    w, X, p = case.args
    return float(np.ravel(got)[0]) / float(np.sum(w**2 * np.mean(X**2, axis=0))), p


def _ridge_used_p(case, name, expected, got):
    factor, p = _ridge_factor(case, got)
    return not case.kwargs.get("classic") and np.isclose(factor, p, rtol=1e-6)


def _ridge_squared(case, name, expected, got):
    factor, p = _ridge_factor(case, got)
    return not case.kwargs.get("classic") and np.isclose(factor, p / (1 - p) ** 2, rtol=1e-6)


def _ridge_classic_as_inverted(case, name, expected, got):
    factor, p = _ridge_factor(case, got)
    return bool(case.kwargs.get("classic")) and np.isclose(factor, p / (1 - p), rtol=1e-6)


def _ridge_classic_p(case, name, expected, got):
    factor, p = _ridge_factor(case, got)
    return bool(case.kwargs.get("classic")) and np.isclose(factor, p, rtol=1e-6)


def _ridge_used_half(case, name, expected, got):
    return bool(np.allclose(got, expected / 2, rtol=1e-6))


RIDGE_HINTS = (
    ("the factor is p instead of p / (1 - p): a kept input is divided by 1 - p, so the "
     "variance of x r / (1 - p) is x^2 p / (1 - p), not x^2 p", _ridge_used_p),
    ("the factor is p / (1 - p)^2: the variance of the mask r is p (1 - p), and divided by "
     "(1 - p)^2 that is p / (1 - p)", _ridge_squared),
    ("with classic=True that is the inverted penalty: unscaled, x r has variance "
     "x^2 p (1 - p)", _ridge_classic_as_inverted),
    ("with classic=True the factor is p: the variance of a Bernoulli(1 - p) mask is "
     "p (1 - p), not p", _ridge_classic_p),
    ("half the expected value: the loss here is the mean of (y - x.w)^2 without a factor 1/2",
     _ridge_used_half),
)


# ---------------------------------------------------------------- the registry entries

EXERCISES = [
    register(Exercise(PREFIX + "inverted_dropout_forward", "inverted_dropout_forward",
                      _dropout_cases, inverted_dropout_forward, ("out",))),
    register(Exercise(PREFIX + "inverted_dropout_backward", "inverted_dropout_backward",
                      _dropout_cases, inverted_dropout_backward, ("dx",))),
    register(Exercise(PREFIX + "dropout_eval", "dropout_eval", _dropout_eval_cases,
                      dropout_eval, ("out",))),
    register(Exercise(PREFIX + "l2_penalty_and_grad", "l2_penalty_and_grad", _l2_cases,
                      l2_penalty_and_grad, ("penalty", "grad"))),
    register(Exercise(PREFIX + "max_norm", "max_norm", _max_norm_cases, max_norm, ("W",))),
    register(Exercise(PREFIX + "early_stop_epoch", "early_stop_epoch", _early_stop_cases,
                      early_stop_epoch, ("best_epoch", "stop_epoch"))),
    register(Exercise(PREFIX + "smooth_labels", "smooth_labels", _smooth_cases, smooth_labels,
                      ("targets",))),
    register(Exercise(PREFIX + "ema_update", "ema_update", _ema_cases, ema_update,
                      ("shadow",))),
    register(Exercise(PREFIX + "decay_factor_momentum", "decay_factor_momentum",
                      _decay_factor_cases, decay_factor_momentum, ("factor",))),
    register(Exercise(PREFIX + "dropout_moments", "dropout_moments", _moments_cases,
                      dropout_moments, ("mean", "var"))),
    register(Exercise(PREFIX + "ema_weights", "ema_weights", _ema_weights_cases, ema_weights,
                      ("weights",))),
    register(Exercise(PREFIX + "dropout_ridge_penalty", "dropout_ridge_penalty", _ridge_cases,
                      dropout_ridge_penalty, ("penalty",), hints=RIDGE_HINTS)),
]
