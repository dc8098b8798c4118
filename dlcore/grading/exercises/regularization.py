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


def _ridge_keep_for_drop(case, name, expected, got):
    factor, p = _ridge_factor(case, got)
    return not case.kwargs.get("classic") and np.isclose(factor, (1 - p) / p, rtol=1e-6)


RIDGE_HINTS = (
    (("the factor is p instead of p / (1 - p): a kept input is divided by 1 - p, so the "
      "variance of x r / (1 - p) is x^2 p / (1 - p), not x^2 p"), _ridge_used_p),
    (("the factor is p / (1 - p)^2: the variance of the mask r is p (1 - p), and divided by "
      "(1 - p)^2 that is p / (1 - p)"), _ridge_squared),
    (("the factor is (1 - p) / p: drop and keep probabilities swapped (p is the probability "
      "of dropping, and the noise grows as p -> 1)"), _ridge_keep_for_drop),
    (("with classic=True that is the inverted penalty: unscaled, x r has variance "
      "x^2 p (1 - p)"), _ridge_classic_as_inverted),
    (("with classic=True the factor is p: the variance of a Bernoulli(1 - p) mask is "
      "p (1 - p), not p"), _ridge_classic_p),
    ("half the expected value: the loss here is the mean of (y - x.w)^2 without a factor 1/2",
     _ridge_used_half),
)


# ---------------------------------------------------------------- hints: the classic slips
#
# Each slip is written out as the function a learner would write; a hint is shown when the
# learner's output for the failing case is exactly that function's output there.

def _output_of(variant, outputs, case, name):
    """variant(*case.args, **case.kwargs)'s output `name` as a float64 array, or None."""
    try:
        with np.errstate(all="ignore"):
            out = variant(*case.args, **dict(case.kwargs))
    except Exception:  # noqa: BLE001  (a slip that cannot run on this case is not this slip)
        return None
    if len(outputs) > 1:
        out = out[outputs.index(name)]
    return np.asarray(out, dtype=np.float64)


def _is_slip(variant, outputs, case, name, got):
    v = _output_of(variant, outputs, case, name)
    return (v is not None and v.shape == got.shape and bool(np.all(np.isfinite(v)))
            and bool(np.allclose(got, v, rtol=1e-9, atol=1e-12)))


# inverted dropout, forward and backward (same signature: (x or dout, mask, p))

def _drop_by_p(x, mask, p):
    return x * mask / p


def _drop_unscaled(x, mask, p):
    return x * mask


def _drop_times_keep(x, mask, p):
    return x * mask * (1.0 - p)


def _drop_no_mask(x, mask, p):
    return x / (1.0 - p)


def _hint_drop_by_p(case, name, expected, got):
    return _is_slip(_drop_by_p, ("out",), case, name, got)


def _hint_drop_unscaled(case, name, expected, got):
    return _is_slip(_drop_unscaled, ("out",), case, name, got)


def _hint_drop_times_keep(case, name, expected, got):
    return _is_slip(_drop_times_keep, ("out",), case, name, got)


def _hint_drop_no_mask(case, name, expected, got):
    return _is_slip(_drop_no_mask, ("out",), case, name, got)


DROPOUT_HINTS = (
    (("divided by the drop probability p: divide the kept entries by the keep probability "
     "1 - p (the mask is 1 with probability 1 - p, so x * mask / (1 - p) has mean x)"),
     _hint_drop_by_p),
    (("the kept entries are not scaled (classic dropout's training pass): inverted dropout "
     "divides them by 1 - p, so that nothing needs rescaling at test time"), _hint_drop_unscaled),
    (("multiplied by 1 - p: that shrinks the output twice (the mask already keeps only a "
     "share 1 - p); inverted dropout divides by 1 - p"), _hint_drop_times_keep),
    (("the mask is not applied: where mask is 0 the result must be 0 (in the backward pass, "
     "no gradient flows to a dropped entry)"), _hint_drop_no_mask),
)


# dropout at test time

def _eval_classic_by_p(x, p, classic):
    return x * p if classic else x


def _eval_classic_identity(x, p, classic):
    return x


def _eval_inverted_rescaled(x, p, classic):
    return x * (1.0 - p) if classic else x / (1.0 - p)


def _eval_inverted_shrunk(x, p, classic):
    return x * (1.0 - p)


def _hint_eval_by_p(case, name, expected, got):
    return bool(case.kwargs.get("classic")) and _is_slip(_eval_classic_by_p, ("out",), case,
                                                          name, got)


def _hint_eval_classic_identity(case, name, expected, got):
    return bool(case.kwargs.get("classic")) and _is_slip(_eval_classic_identity, ("out",),
                                                          case, name, got)


def _hint_eval_inverted_rescaled(case, name, expected, got):
    return not case.kwargs.get("classic") and (
        _is_slip(_eval_inverted_rescaled, ("out",), case, name, got)
        or _is_slip(_eval_inverted_shrunk, ("out",), case, name, got))


DROPOUT_EVAL_HINTS = (
    (("classic dropout multiplied by p: p is the drop probability here, and the factor is the "
     "keep probability 1 - p (the expected training output is (1 - p) x)"), _hint_eval_by_p),
    (("classic dropout returned x: it trained on x * mask, whose expected value is (1 - p) x, so "
     "at test time it multiplies by 1 - p"), _hint_eval_classic_identity),
    (("inverted dropout rescaled at test time: it already divided by 1 - p in training, so its "
     "expected training output is x, and at test time it is the identity"),
     _hint_eval_inverted_rescaled),
)


# the L2 penalty

def _l2_no_half(W, weight_decay):
    return weight_decay * float(np.sum(W * W)), weight_decay * W


def _l2_grad_doubled(W, weight_decay):
    return 0.5 * weight_decay * float(np.sum(W * W)), 2.0 * weight_decay * W


def _l2_norm_not_squared(W, weight_decay):
    return 0.5 * weight_decay * float(np.sqrt(np.sum(W * W))), weight_decay * W


def _hint_l2_no_half(case, name, expected, got):
    return name == "penalty" and _is_slip(_l2_no_half, ("penalty", "grad"), case, name, got)


def _hint_l2_grad_doubled(case, name, expected, got):
    return name == "grad" and _is_slip(_l2_grad_doubled, ("penalty", "grad"), case, name, got)


def _hint_l2_norm(case, name, expected, got):
    return name == "penalty" and _is_slip(_l2_norm_not_squared, ("penalty", "grad"), case,
                                          name, got)


L2_HINTS = (
    (("the penalty lacks the 1/2: it is (lambda / 2) ||W||^2, the convention whose gradient is "
     "exactly lambda W (what SGD(weight_decay=lambda) adds)"), _hint_l2_no_half),
    (("2 lambda W is the gradient of lambda ||W||^2; the penalty here is (lambda / 2) ||W||^2, "
     "whose gradient is lambda W"), _hint_l2_grad_doubled),
    ("the norm, not its square: the penalty is lambda / 2 times the sum of the squared entries",
     _hint_l2_norm),
)


# max-norm

def _max_norm_rows(W, c):
    norms = np.sqrt(np.sum(W * W, axis=1, keepdims=True))
    return W * (c / np.maximum(norms, c))


def _max_norm_every_column(W, c):
    return W * (c / np.sqrt(np.sum(W * W, axis=0, keepdims=True)))


def _max_norm_whole(W, c):
    return W * (c / max(float(np.sqrt(np.sum(W * W))), c))


def _hint_max_norm_rows(case, name, expected, got):
    return _is_slip(_max_norm_rows, ("W",), case, name, got)


def _hint_max_norm_every(case, name, expected, got):
    return _is_slip(_max_norm_every_column, ("W",), case, name, got)


def _hint_max_norm_whole(case, name, expected, got):
    return _is_slip(_max_norm_whole, ("W",), case, name, got)


MAX_NORM_HINTS = (
    (("the norms were taken over rows: W has shape (in, out), so unit j's incoming weights are "
     "the column W[:, j] (sum over axis 0)"), _hint_max_norm_rows),
    (("every column was rescaled to norm c: a column already within c must stay exactly as it "
     "is (multiply by c / max(norm, c))"), _hint_max_norm_every),
    ("one norm for the whole matrix: the constraint holds per unit, one norm per column",
     _hint_max_norm_whole),
)


# early stopping

def _stop_variant(values, patience, min_delta, late=False, against_previous=False,
                  ignore_delta=False):
    best_epoch, best, wait, previous = 0, None, 0, None
    for epoch, value in enumerate(values):
        ref = previous if against_previous else best
        delta = 0.0 if ignore_delta else min_delta
        if ref is None or value < ref - delta:
            if best is None or value < best:
                best_epoch, best = epoch, value
            wait = 0
        else:
            wait += 1
            if (wait > patience) if late else (wait >= patience):
                return best_epoch, epoch
        previous = value
    return best_epoch, len(values) - 1


def _stop_late(values, patience, min_delta=0.0):
    return _stop_variant(values, patience, min_delta, late=True)


def _stop_no_delta(values, patience, min_delta=0.0):
    return _stop_variant(values, patience, min_delta, ignore_delta=True)


def _stop_against_previous(values, patience, min_delta=0.0):
    return _stop_variant(values, patience, min_delta, against_previous=True)


def _stop_one_based(values, patience, min_delta=0.0):
    best, stop = early_stop_epoch(values, patience, min_delta)
    return best + 1, stop + 1


def _stop_global_best(values, patience, min_delta=0.0):
    stop = early_stop_epoch(values, patience, min_delta)[1]
    return int(np.argmin(values)), stop


STOP_OUTPUTS = ("best_epoch", "stop_epoch")


def _hint_stop_late(case, name, expected, got):
    return _is_slip(_stop_late, STOP_OUTPUTS, case, name, got)


def _hint_stop_no_delta(case, name, expected, got):
    return _is_slip(_stop_no_delta, STOP_OUTPUTS, case, name, got)


def _hint_stop_previous(case, name, expected, got):
    return _is_slip(_stop_against_previous, STOP_OUTPUTS, case, name, got)


def _hint_stop_one_based(case, name, expected, got):
    # on best_epoch only: one epoch late and counted from 1 can give the same stop_epoch
    return name == "best_epoch" and _is_slip(_stop_one_based, STOP_OUTPUTS, case, name, got)


def _hint_stop_global(case, name, expected, got):
    return name == "best_epoch" and _is_slip(_stop_global_best, STOP_OUTPUTS, case, name, got)


EARLY_STOP_HINTS = (
    ("epochs count from 0 here: the first value is epoch 0", _hint_stop_one_based),
    (("one epoch late: training stops at the patience-th epoch in a row without an improvement "
      "(wait >= patience), not after one more"), _hint_stop_late),
    (("min_delta ignored: an epoch improves only when it beats the best by more than min_delta "
      "(value < best - min_delta)"), _hint_stop_no_delta),
    (("compared with the previous epoch: an improvement is measured against the best value so "
      "far, so a small recovery after a bad epoch does not reset the patience"),
     _hint_stop_previous),
    (("the best epoch over the whole curve: early stopping cannot look past the epoch where it "
      "stops; the best epoch is the best among those it has seen"), _hint_stop_global),
)


# label smoothing

def _smooth_other_classes(y, num_classes, eps):
    q = np.full((len(y), num_classes), eps / (num_classes - 1))
    q[np.arange(len(y)), y] = 1.0 - eps
    return q


def _smooth_true_class_without_share(y, num_classes, eps):
    q = np.full((len(y), num_classes), eps / num_classes)
    q[np.arange(len(y)), y] = 1.0 - eps
    return q


def _smooth_eps_everywhere(y, num_classes, eps):
    q = np.full((len(y), num_classes), eps)
    q[np.arange(len(y)), y] += 1.0 - eps
    return q


def _hint_smooth_other(case, name, expected, got):
    return _is_slip(_smooth_other_classes, ("targets",), case, name, got)


def _hint_smooth_true(case, name, expected, got):
    return _is_slip(_smooth_true_class_without_share, ("targets",), case, name, got)


def _hint_smooth_everywhere(case, name, expected, got):
    return _is_slip(_smooth_eps_everywhere, ("targets",), case, name, got)


SMOOTH_HINTS = (
    (("eps spread over the C - 1 other classes: here (as in PyTorch) eps / C goes to every "
     "class, the true one included, which gets 1 - eps + eps / C"), _hint_smooth_other),
    (("the true class got 1 - eps: it also gets its share eps / C, so 1 - eps + eps / C "
     "(each row must sum to 1)"), _hint_smooth_true),
    ("eps added to every class: each class gets eps / C", _hint_smooth_everywhere),
)


# EMA update

def _ema_swapped(shadow, param, decay):
    return (1.0 - decay) * shadow + decay * param


def _hint_ema_swapped(case, name, expected, got):
    return _is_slip(_ema_swapped, ("shadow",), case, name, got)


EMA_HINTS = (
    (("decay and 1 - decay swapped: the old average keeps the weight decay (close to 1), the "
     "new weights get 1 - decay"), _hint_ema_swapped),
)


# weight decay under momentum

def _decay_first_order(lr, weight_decay, momentum):
    return 1.0 - lr * weight_decay / (1.0 - momentum)


def _decay_no_momentum(lr, weight_decay, momentum):
    return 1.0 - lr * weight_decay


def _decay_smaller_root(lr, weight_decay, momentum):
    b = 1.0 + momentum - lr * weight_decay
    return (b - np.sqrt(b * b - 4.0 * momentum)) / 2.0


def _decay_roots_complex(case):
    lr, weight_decay, momentum = case.args
    return (1.0 + momentum - lr * weight_decay) ** 2 < 4.0 * momentum


def _hint_decay_complex(case, name, expected, got):
    return _decay_roots_complex(case)


def _hint_decay_first_order(case, name, expected, got):
    return case.args[2] > 0 and _is_slip(_decay_first_order, ("factor",), case, name, got)


def _hint_decay_no_momentum(case, name, expected, got):
    return case.args[2] > 0 and _is_slip(_decay_no_momentum, ("factor",), case, name, got)


def _hint_decay_smaller_root(case, name, expected, got):
    return _is_slip(_decay_smaller_root, ("factor",), case, name, got)


DECAY_HINTS = (
    (("here the roots are complex (the weight oscillates as it shrinks): both have the modulus "
     "sqrt(momentum), since their product is momentum"), _hint_decay_complex),
    (("that is the first-order approximation 1 - lr wd / (1 - momentum): return the exact "
     "factor, the larger root of z^2 - (1 + momentum - lr wd) z + momentum"),
     _hint_decay_first_order),
    (("1 - lr wd is the factor without momentum: with momentum the velocity accumulates the "
     "decay's pull over many steps"), _hint_decay_no_momentum),
    ("that is the smaller root: it dies out, and the long run is set by the larger one",
     _hint_decay_smaller_root),
)


# dropout's moments

def _moments_var_p(x, p):
    return x.copy(), x**2 * p


def _moments_var_classic(x, p):
    return x.copy(), x**2 * p * (1.0 - p)


def _moments_var_squared(x, p):
    return x.copy(), x**2 * p / (1.0 - p) ** 2


def _moments_second(x, p):
    return x.copy(), x**2 / (1.0 - p)


def _hint_var_p(case, name, expected, got):
    return name == "var" and _is_slip(_moments_var_p, ("mean", "var"), case, name, got)


def _hint_var_classic(case, name, expected, got):
    return name == "var" and _is_slip(_moments_var_classic, ("mean", "var"), case, name, got)


def _hint_var_squared(case, name, expected, got):
    return name == "var" and _is_slip(_moments_var_squared, ("mean", "var"), case, name, got)


def _hint_var_second(case, name, expected, got):
    return name == "var" and _is_slip(_moments_second, ("mean", "var"), case, name, got)


def _hint_mean_scaled(case, name, expected, got):
    x, p = case.args
    return name == "mean" and p > 0 and (np.allclose(got, x * (1 - p), rtol=1e-9)
                                         or np.allclose(got, x / (1 - p), rtol=1e-9))


MOMENTS_HINTS = (
    ("the mean of inverted dropout's output is x itself: (1 - p) * x / (1 - p) + p * 0",
     _hint_mean_scaled),
    (("var = x^2 p (1 - p) is the variance of x * mask, without the division: inverted dropout "
     "divides by 1 - p, which divides the variance by (1 - p)^2"), _hint_var_classic),
    (("var = x^2 p / (1 - p)^2: the mask's variance p (1 - p), divided by (1 - p)^2, is "
     "p / (1 - p)"), _hint_var_squared),
    (("var = x^2 p: E[out^2] = (1 - p) (x / (1 - p))^2 = x^2 / (1 - p); subtract the squared "
     "mean x^2"), _hint_var_p),
    ("that is E[out^2] = x^2 / (1 - p), not the variance: subtract the squared mean x^2",
     _hint_var_second),
)


# the weights of an EMA

def _ema_weights_variant(decay, t, bias_correction, corrected_by=None, w0=None):
    k = np.arange(t + 1)
    w = (1.0 - decay) * decay ** (t - k).astype(np.float64)
    if bias_correction:
        w[0] = 0.0
        return w / (corrected_by if corrected_by is not None else 1.0 - decay**t)
    w[0] = decay**t if w0 is None else w0
    return w


def _ema_w_corrected_by_1_minus_decay(decay, t, bias_correction):
    return _ema_weights_variant(decay, t, bias_correction, corrected_by=1.0 - decay)


def _ema_w_no_start(decay, t, bias_correction):
    return _ema_weights_variant(decay, t, bias_correction, w0=0.0)


def _ema_w_start_as_update(decay, t, bias_correction):
    return _ema_weights_variant(decay, t, bias_correction, w0=(1.0 - decay) * decay**t)


def _ema_w_reversed(decay, t, bias_correction):
    return _ema_weights_variant(decay, t, bias_correction)[::-1]


def _hint_ema_w_one_minus(case, name, expected, got):
    return bool(case.args[2]) and _is_slip(_ema_w_corrected_by_1_minus_decay, ("weights",),
                                           case, name, got)


def _hint_ema_w_start(case, name, expected, got):
    return not case.args[2] and (_is_slip(_ema_w_no_start, ("weights",), case, name, got)
                                 or _is_slip(_ema_w_start_as_update, ("weights",), case, name,
                                             got))


def _hint_ema_w_corrected_keeps_start(case, name, expected, got):
    return bool(case.args[2]) and got[0] != 0.0 and expected[0] == 0.0


def _hint_ema_w_reversed(case, name, expected, got):
    return _is_slip(_ema_w_reversed, ("weights",), case, name, got)


EMA_WEIGHTS_HINTS = (
    (("divided by 1 - decay instead of 1 - decay^t: the weights (1 - decay) decay^(t - k) of "
     "theta_1 .. theta_t sum to 1 - decay^t"), _hint_ema_w_one_minus),
    (("theta_0's weight is what is left of the starting copy after t updates, decay^t, so that "
     "the weights sum to 1"), _hint_ema_w_start),
    ("with bias correction the shadow starts at 0, so theta_0 gets no weight",
     _hint_ema_w_corrected_keeps_start),
    ("the order is reversed: the newest value theta_t gets the largest weight, 1 - decay",
     _hint_ema_w_reversed),
)


# ---------------------------------------------------------------- the registry entries

EXERCISES = [
    register(Exercise(PREFIX + "inverted_dropout_forward", "inverted_dropout_forward",
                      _dropout_cases, inverted_dropout_forward, ("out",),
                      hints=DROPOUT_HINTS)),
    register(Exercise(PREFIX + "inverted_dropout_backward", "inverted_dropout_backward",
                      _dropout_cases, inverted_dropout_backward, ("dx",),
                      hints=DROPOUT_HINTS)),
    register(Exercise(PREFIX + "dropout_eval", "dropout_eval", _dropout_eval_cases,
                      dropout_eval, ("out",), hints=DROPOUT_EVAL_HINTS)),
    register(Exercise(PREFIX + "l2_penalty_and_grad", "l2_penalty_and_grad", _l2_cases,
                      l2_penalty_and_grad, ("penalty", "grad"), hints=L2_HINTS)),
    register(Exercise(PREFIX + "max_norm", "max_norm", _max_norm_cases, max_norm, ("W",),
                      hints=MAX_NORM_HINTS)),
    register(Exercise(PREFIX + "early_stop_epoch", "early_stop_epoch", _early_stop_cases,
                      early_stop_epoch, STOP_OUTPUTS, hints=EARLY_STOP_HINTS)),
    register(Exercise(PREFIX + "smooth_labels", "smooth_labels", _smooth_cases, smooth_labels,
                      ("targets",), hints=SMOOTH_HINTS)),
    register(Exercise(PREFIX + "ema_update", "ema_update", _ema_cases, ema_update,
                      ("shadow",), hints=EMA_HINTS)),
    register(Exercise(PREFIX + "decay_factor_momentum", "decay_factor_momentum",
                      _decay_factor_cases, decay_factor_momentum, ("factor",),
                      hints=DECAY_HINTS)),
    register(Exercise(PREFIX + "dropout_moments", "dropout_moments", _moments_cases,
                      dropout_moments, ("mean", "var"), hints=MOMENTS_HINTS)),
    register(Exercise(PREFIX + "ema_weights", "ema_weights", _ema_weights_cases, ema_weights,
                      ("weights",), hints=EMA_WEIGHTS_HINTS)),
    register(Exercise(PREFIX + "dropout_ridge_penalty", "dropout_ridge_penalty", _ridge_cases,
                      dropout_ridge_penalty, ("penalty",), hints=RIDGE_HINTS)),
]
