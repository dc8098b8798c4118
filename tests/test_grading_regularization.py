"""Chapter 8 exercises: each reference passes and agrees with dlcore (dropout, the L2
penalty, max_norm_, EarlyStopping, smooth_labels, EMA), and the classic wrong answers fail
in the right case group with the right printed line."""
import numpy as np
import pytest
from conftest import failed_line, run

from dlcore import functional as F
from dlcore import nn, regularization
from dlcore.functional.optim import sgd_step
from dlcore.grading import get_exercise, list_exercises
from dlcore.grading.exercises import regularization as reg

CHAPTER8 = [
    "regularization.decay_factor_momentum",
    "regularization.dropout_eval",
    "regularization.dropout_moments",
    "regularization.dropout_ridge_penalty",
    "regularization.early_stop_epoch",
    "regularization.ema_update",
    "regularization.ema_weights",
    "regularization.inverted_dropout_backward",
    "regularization.inverted_dropout_forward",
    "regularization.l2_penalty_and_grad",
    "regularization.max_norm",
    "regularization.smooth_labels",
]


# ---------------------------------------------------------------- the references pass

def test_chapter8_is_registered():
    assert list_exercises("regularization.") == CHAPTER8


# ---------------------------------------------------------------- references agree with dlcore

def test_dropout_references_agree_with_dlcore_functional():
    rng = np.random.default_rng(0)
    x, dout = rng.standard_normal((5, 7)), rng.standard_normal((5, 7))
    out, cache = F.dropout_forward(x, 0.3, rng=3)
    mask = cache[0].astype(np.float64)
    assert 0 < mask.sum() < mask.size
    np.testing.assert_allclose(reg.inverted_dropout_forward(x, mask, 0.3), out, rtol=1e-12)
    np.testing.assert_allclose(reg.inverted_dropout_backward(dout, mask, 0.3),
                               F.dropout_backward(dout, cache), rtol=1e-12)
    for classic in (False, True):
        out, _ = F.dropout_forward(x, 0.3, train=False, classic=classic)
        np.testing.assert_allclose(reg.dropout_eval(x, 0.3, classic), out, rtol=1e-12)
    # by hand: a kept entry of 2.0 with p = 0.2 becomes 2.5; classic test time gives 1.6
    assert reg.inverted_dropout_forward(np.array([2.0]), np.array([1.0]), 0.2)[0] == 2.5
    assert reg.dropout_eval(np.array([2.0]), 0.2, classic=True)[0] == pytest.approx(1.6)


def test_l2_reference_agrees_with_dlcore_and_hand_values():
    W = np.array([[1.0, -2.0], [3.0, 0.5]])
    penalty, grad = reg.l2_penalty_and_grad(W, 0.1)
    assert penalty == pytest.approx(0.05 * (1 + 4 + 9 + 0.25))
    np.testing.assert_allclose(grad, 0.1 * W)
    p = nn.Parameter(W.copy())
    assert regularization.l2_penalty([p], 0.1) == pytest.approx(penalty)
    regularization.add_l2_grad_([p], 0.1)
    np.testing.assert_allclose(p.grad, grad)


def test_max_norm_reference_agrees_with_max_norm_():
    W = reg._max_norm_columns(np.random.default_rng(3), 6, 4, 1.5)
    p = nn.Parameter(W.copy())
    regularization.max_norm_(p, 1.5)
    np.testing.assert_allclose(reg.max_norm(W, 1.5), p.data, rtol=1e-12)
    norms = np.linalg.norm(reg.max_norm(W, 1.5), axis=0)
    assert np.all(norms <= 1.5 + 1e-12) and np.isclose(norms, 1.5).sum() >= 1


class _FakeHistory:
    def __init__(self):
        self.val_loss = []


def _early_stopping_callback(values, patience, min_delta):
    """(best_epoch, stop_epoch) from dlcore's EarlyStopping fed the curve epoch by epoch."""
    es = regularization.EarlyStopping(patience=patience, min_delta=min_delta,
                                      restore_best=False)
    history, model = _FakeHistory(), nn.Linear(2, 2, rng=0)
    for epoch, value in enumerate(values):
        history.val_loss.append(value)
        if es.on_epoch_end(epoch, history, model):
            return es.best_epoch, es.stopped_epoch
    return es.best_epoch, len(values) - 1


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_early_stop_reference_agrees_with_the_callback(seed):
    for case in get_exercise("regularization.early_stop_epoch").cases(seed):
        values, patience = case.args
        min_delta = case.kwargs.get("min_delta", 0.0)
        assert reg.early_stop_epoch(values, patience, min_delta) == \
            _early_stopping_callback(values, patience, min_delta)


def test_early_stop_by_hand():
    plateau = [1.0, 0.8, 0.7, 0.72, 0.71, 0.6, 0.65, 0.66, 0.64, 0.7, 0.75]
    assert reg.early_stop_epoch(plateau, 3) == (5, 8)   # 0.6 at epoch 5; 6, 7, 8 do not improve
    assert reg.early_stop_epoch(plateau, 2) == (2, 4)   # stops in the plateau, before 0.6
    tiny = [1.0, 0.9, 0.897, 0.894, 0.891, 0.888, 0.885, 0.882]
    assert reg.early_stop_epoch(tiny, 3, 0.01) == (1, 4)
    assert reg.early_stop_epoch([1.0, 0.9], 5) == (1, 1)


def test_smooth_labels_and_ema_references_agree_with_dlcore():
    y = np.array([0, 3, 1, 3])
    np.testing.assert_allclose(reg.smooth_labels(y, 4, 0.2),
                               regularization.smooth_labels(y, 4, 0.2, dtype=np.float64))
    np.testing.assert_allclose(reg.smooth_labels(np.array([1]), 2, 0.2), [[0.1, 0.9]])
    p = nn.Parameter(np.array([1.0, 2.0]))
    ema = regularization.EMA([p], decay=0.9)          # shadow starts as a copy of p
    p.data[...] = [3.0, -2.0]
    ema.update()
    np.testing.assert_allclose(ema.shadow[0], reg.ema_update(np.array([1.0, 2.0]),
                                                             p.data, 0.9))
    np.testing.assert_allclose(ema.shadow[0], [1.2, 1.6])


# ---------------------------------------------------------------- wrong answers fail

def test_dropout_scaled_by_p_instead_of_1_minus_p_fails():
    def forward(x, mask, p):
        with np.errstate(divide="ignore", invalid="ignore"):
            return x * mask / p

    def backward(dout, mask, p):
        with np.errstate(divide="ignore", invalid="ignore"):
            return dout * mask / p

    for exercise_id, fn in (("regularization.inverted_dropout_forward", forward),
                            ("regularization.inverted_dropout_backward", backward)):
        result = run(exercise_id, fn)
        assert result.status in ("wrong", "error")
        assert result.passed == 0, result.lines   # p = 0 divides by zero: that group fails too


def test_dropout_without_rescaling_fails_but_only_where_p_is_not_0():
    def forward(x, mask, p):
        return x * mask

    result = run("regularization.inverted_dropout_forward", forward)
    assert result.status == "wrong" and result.passed == 1
    assert failed_line(result, "inverted_dropout_forward", "out", "batch of vectors")


def test_dropout_backward_forgetting_the_mask_fails():
    result = run("regularization.inverted_dropout_backward",
                 lambda dout, mask, p: dout / (1 - p))
    assert result.status == "wrong" and result.passed == 1   # only the p = 0 group passes


def test_rescaling_at_test_time_with_inverted_dropout_fails():
    def rescale_always(x, p, classic):
        return x * (1 - p)

    result = run("regularization.dropout_eval", rescale_always)
    assert result.status == "wrong" and result.passed == 1
    assert failed_line(result, "dropout_eval", "out", "inverted")


def test_classic_test_time_scaling_by_p_fails():
    def scale_by_p(x, p, classic):
        return x * p if classic else x

    result = run("regularization.dropout_eval", scale_by_p)
    assert result.status == "wrong" and result.passed == 1
    assert failed_line(result, "dropout_eval", "out", "classic")


def test_l2_gradient_2_lambda_w_with_the_half_convention_fails():
    def l2(W, weight_decay):
        return 0.5 * weight_decay * float(np.sum(W * W)), 2 * weight_decay * W

    result = run("regularization.l2_penalty_and_grad", l2)
    assert result.status == "wrong"
    assert result.passed == 1   # only weight_decay = 0 passes
    assert failed_line(result, "l2_penalty_and_grad", "grad", "linear weight")
    assert result.errors[("linear weight", "grad")] == pytest.approx(1 / 3)   # |2 - 1| / 3


def test_l2_penalty_without_the_half_fails():
    result = run("regularization.l2_penalty_and_grad",
                 lambda W, wd: (wd * float(np.sum(W * W)), wd * W))
    assert result.status == "wrong"
    assert failed_line(result, "l2_penalty_and_grad", "penalty", "conv weight")


def test_max_norm_over_rows_fails():
    def rows(W, c):
        norms = np.sqrt(np.sum(W * W, axis=1, keepdims=True))
        return W * (c / np.maximum(norms, c))

    result = run("regularization.max_norm", rows)
    assert result.status == "wrong" and result.passed == 1   # rows are within c there too
    assert failed_line(result, "max_norm", "W", "columns on both sides of c")


def test_max_norm_rescaling_every_column_to_c_fails():
    def every(W, c):
        return W * (c / np.sqrt(np.sum(W * W, axis=0, keepdims=True)))

    result = run("regularization.max_norm", every)
    assert result.status == "wrong" and result.passed == 0


def test_max_norm_changing_w_in_place_fails():
    def in_place(W, c):
        W *= c / np.maximum(np.linalg.norm(W, axis=0, keepdims=True), c)
        return W

    result = run("regularization.max_norm", in_place)
    assert not result   # the input was modified: reported, not silently accepted


def test_early_stopping_counting_from_the_wrong_epoch_fails():
    def one_based(values, patience, min_delta=0.0):
        best, stop = reg.early_stop_epoch(values, patience, min_delta)
        return best + 1, stop + 1

    def global_best(values, patience, min_delta=0.0):  # looks into the future
        best = int(np.argmin(values))
        return best, min(best + patience, len(values) - 1)

    assert run("regularization.early_stop_epoch", one_based).passed == 0
    result = run("regularization.early_stop_epoch", _late_stop)   # waits patience + 1 epochs
    assert result.status == "wrong"
    assert failed_line(result, "early_stop_epoch", "stop_epoch", "plateau shorter than patience")
    result = run("regularization.early_stop_epoch", global_best)
    assert result.status == "wrong"
    assert failed_line(result, "early_stop_epoch", "best_epoch", "plateau shorter than patience")


def test_early_stopping_ignoring_min_delta_fails():
    result = run("regularization.early_stop_epoch",
                 lambda values, patience, min_delta=0.0: reg.early_stop_epoch(values, patience))
    assert result.status == "wrong" and result.passed == result.total - 1
    assert failed_line(result, "early_stop_epoch", "best_epoch", "min_delta")


def test_label_smoothing_spreading_eps_over_the_other_classes_fails():
    def other_classes(y, num_classes, eps):
        q = np.full((len(y), num_classes), eps / (num_classes - 1))
        q[np.arange(len(y)), y] = 1 - eps
        return q

    result = run("regularization.smooth_labels", other_classes)
    assert result.status == "wrong" and result.passed == 1   # only eps = 0
    assert failed_line(result, "smooth_labels", "targets", "10 classes")


def test_ema_with_decay_and_1_minus_decay_swapped_fails():
    result = run("regularization.ema_update",
                 lambda shadow, param, decay: (1 - decay) * shadow + decay * param)
    assert result.status == "wrong" and result.passed == 0
    assert failed_line(result, "ema_update", "shadow", "decay near 1")


def test_a_blank_exercise_scores_zero():
    def blank(*args, **kwargs):
        raise NotImplementedError

    for exercise_id in CHAPTER8:
        result = run(exercise_id, blank)
        assert result.status == "not-implemented" and result.passed == 0


# ---------------------------------------------------------------- derive: decay under momentum

def test_decay_factor_momentum_matches_dlcore_sgd_and_slips_fail():
    lr, wd, beta = 0.1, 0.05, 0.5          # real eigenvalues
    w, state = np.array([1.0]), {}
    ratios = []
    for _ in range(300):
        before = float(w[0])
        sgd_step(w, np.zeros(1), state, lr, momentum=beta, weight_decay=wd)
        ratios.append(float(w[0]) / before)
    assert ratios[-1] == pytest.approx(reg.decay_factor_momentum(lr, wd, beta), rel=1e-10)
    assert reg.decay_factor_momentum(0.5, 0.5, 0.9) == pytest.approx(np.sqrt(0.9), rel=1e-12)
    assert reg.decay_factor_momentum(0.2, 0.01, 0.0) == pytest.approx(0.998, rel=1e-12)

    def right(lr, weight_decay, momentum):
        b = 1 + momentum - lr * weight_decay
        d = b * b - 4 * momentum
        return np.sqrt(momentum) if d < 0 else (b + np.sqrt(d)) / 2

    def no_momentum(lr, weight_decay, momentum):
        return 1 - lr * weight_decay

    def first_order(lr, weight_decay, momentum):
        return 1 - lr * weight_decay / (1 - momentum)

    assert run("regularization.decay_factor_momentum", right).status == "ok"
    result = run("regularization.decay_factor_momentum", no_momentum)
    assert result.status == "wrong" and result.passed == 1        # only "no momentum"
    result = run("regularization.decay_factor_momentum", first_order)
    assert result.status == "wrong"
    for group in ("momentum 0.99, a usual decay", "strong decay, real eigenvalues",
                  "strong decay, complex eigenvalues (oscillates)"):
        assert failed_line(result, "decay_factor_momentum", "factor", group)
    assert not failed_line(result, "decay_factor_momentum", "factor", "no momentum")


# ---------------------------------------------------------------- derive: dropout's moments

def test_dropout_moments_match_sampling_and_slips_fail():
    rng = np.random.default_rng(3)
    x, p = np.array([1.0, -2.0, 0.5]), 0.3
    masks = (rng.random((200_000, 3)) >= p).astype(np.float64)
    out = reg.inverted_dropout_forward(np.tile(x, (200_000, 1)), masks, p)
    mean, var = reg.dropout_moments(x, p)
    np.testing.assert_allclose(out.mean(0), mean, rtol=0.02)
    np.testing.assert_allclose(out.var(0), var, rtol=0.02)
    np.testing.assert_allclose(var, x**2 * p / (1 - p), rtol=1e-12)

    def right(x, p):
        return x.copy(), x**2 * p / (1 - p)

    def unscaled_variance(x, p):           # Bernoulli variance without the 1/(1-p)^2
        return x.copy(), x**2 * p * (1 - p)

    def classic_mean(x, p):                # classic dropout's mean, (1 - p) x
        return (1 - p) * x, x**2 * p / (1 - p)

    assert run("regularization.dropout_moments", right).status == "ok"
    result = run("regularization.dropout_moments", unscaled_variance)
    assert result.status == "wrong"
    assert failed_line(result, "dropout_moments", "var", "p far from 0.5")
    assert not failed_line(result, "dropout_moments", "mean", "p far from 0.5")
    result = run("regularization.dropout_moments", classic_mean)
    assert failed_line(result, "dropout_moments", "mean", "p = 0.5")
    assert not failed_line(result, "dropout_moments", "mean", "p = 0 (no dropout)")


# ---------------------------------------------------------------- derive: the weights of an EMA

def test_ema_weights_unrolled_and_slips_fail():
    w = reg.ema_weights(0.9, 3, False)
    np.testing.assert_allclose(w, [0.729, 0.1 * 0.81, 0.1 * 0.9, 0.1], rtol=1e-12)
    w = reg.ema_weights(0.5, 2, True)
    np.testing.assert_allclose(w, [0.0, 0.25 / 0.75, 0.5 / 0.75], rtol=1e-12)
    assert reg.ema_weights(0.999, 10, False)[0] == pytest.approx(0.999**10)   # 0.990

    def right(decay, t, bias_correction):
        k = np.arange(t + 1)
        w = (1 - decay) * decay ** (t - k)
        if bias_correction:
            w[0] = 0.0
            return w / (1 - decay**t)
        w[0] = decay**t
        return w

    def start_forgotten(decay, t, bias_correction):    # no weight left on theta_0
        w = right(decay, t, True) * (1 - decay**t)
        return w / (1 - decay**t) if bias_correction else w

    def uncorrected(decay, t, bias_correction):        # the 1/(1 - decay^t) left out
        return right(decay, t, True) * (1 - decay**t) if bias_correction else right(
            decay, t, False)

    def reversed_order(decay, t, bias_correction):     # the newest value weighted least
        return right(decay, t, bias_correction)[::-1].copy()

    assert run("regularization.ema_weights", right).status == "ok"
    result = run("regularization.ema_weights", start_forgotten)
    assert result.status == "wrong"
    assert failed_line(result, "ema_weights", "weights",
                       "started at theta_0, decay 0.999, a few updates")
    assert not failed_line(result, "ema_weights", "weights", "bias-corrected, decay 0.9, t = 20")
    result = run("regularization.ema_weights", uncorrected)
    assert failed_line(result, "ema_weights", "weights",
                       "bias-corrected, decay 0.999, a few updates")
    assert not failed_line(result, "ema_weights", "weights", "started at theta_0, t = 1")
    result = run("regularization.ema_weights", reversed_order)
    assert result.status == "wrong" and result.passed == 0


# ---------------------------------------------------------------- derive: dropout as a ridge penalty

def test_dropout_ridge_penalty_is_the_sampled_excess_loss_and_slips_get_hints():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((40, 3)) * np.array([0.5, 1.0, 2.0])
    w, y, p = np.array([1.0, -0.5, 0.25]), rng.standard_normal(40), 0.3
    scale = np.sum(w**2 * np.mean(X**2, axis=0))
    # by hand: 0.3 / 0.7 and 0.3 * 0.7 times sum_j w_j^2 mean_i x_ij^2
    assert reg.dropout_ridge_penalty(w, X, p) == pytest.approx(3 / 7 * scale, rel=1e-12)
    assert reg.dropout_ridge_penalty(w, X, p, classic=True) == pytest.approx(0.21 * scale,
                                                                               rel=1e-12)
    # against dlcore's dropout: sampled loss minus the loss at the expected input
    for classic, mean_input in ((False, X), (True, (1 - p) * X)):
        sampled = np.mean([np.mean((y - F.dropout_forward(X, p, rng=s, classic=classic)[0] @ w)
                                   ** 2) for s in range(20_000)])
        excess = sampled - np.mean((y - mean_input @ w) ** 2)
        assert excess == pytest.approx(reg.dropout_ridge_penalty(w, X, p, classic), rel=0.03)

    def right(w, X, p, classic=False):
        return float((p * (1 - p) if classic else p / (1 - p)) * np.sum(w**2 * (X**2).mean(0)))

    def drop_probability(w, X, p, classic=False):   # the classic slip: p instead of p / (1 - p)
        return right(w, X, p, classic) * (1 - p) if not classic else right(w, X, p, classic)

    def with_half(w, X, p, classic=False):          # the 1/2 of another loss convention
        return 0.5 * right(w, X, p, classic)

    def summed(w, X, p, classic=False):             # sum over examples instead of the mean
        return right(w, X, p, classic) * len(X)

    def inverted_for_both(w, X, p, classic=False):  # classic scaling forgotten
        return right(w, X, p)

    def plain_ridge(w, X, p, classic=False):        # weight decay: forgets the inputs' scale
        return float(p / (1 - p) * np.sum(w**2))

    assert run("regularization.dropout_ridge_penalty", right).status == "ok"
    for wrong, group, hint in (
            (drop_probability, "many examples", "p instead of p / (1 - p)"),
            (with_half, "many examples", "without a factor 1/2"),
            (summed, "many examples", "a sum where a mean belongs"),
            (inverted_for_both, "classic (unscaled) dropout", "that is the inverted penalty")):
        result = run("regularization.dropout_ridge_penalty", wrong)
        assert result.status == "wrong"
        assert failed_line(result, "dropout_ridge_penalty", "penalty", group)
        assert any(hint in line for line in result.lines), (wrong.__name__, result.lines)
    result = run("regularization.dropout_ridge_penalty", inverted_for_both)
    assert not failed_line(result, "dropout_ridge_penalty", "penalty", "many examples")
    result = run("regularization.dropout_ridge_penalty", plain_ridge)
    assert failed_line(result, "dropout_ridge_penalty", "penalty", "a few inputs")


# ---------------------------------------------------------------- hints name the classic slips

def _late_stop(values, patience, min_delta=0.0):        # waits patience + 1 epochs
    best_epoch, best, wait = 0, None, 0
    for epoch, value in enumerate(values):
        if best is None or value < best - min_delta:
            best_epoch, best, wait = epoch, value, 0
            continue
        wait += 1
        if wait > patience:
            return best_epoch, epoch
    return best_epoch, len(values) - 1


def _complex_roots_as_real(lr, weight_decay, momentum):  # the real formula with |disc|
    b = 1.0 + momentum - lr * weight_decay
    return float((b + np.sqrt(abs(b * b - 4.0 * momentum))) / 2.0)


def _ema_weights_1_minus_decay(decay, t, bias_correction):
    w = reg.ema_weights(decay, t, bias_correction)
    return w * (1 - decay**t) / (1 - decay) if bias_correction and t else w


SLIPS = [
    ("inverted_dropout_forward", lambda x, mask, p: x * mask / p, "divided by the drop probability p"),
    ("inverted_dropout_forward", lambda x, mask, p: x * mask, "the kept entries are not scaled"),
    ("inverted_dropout_forward", lambda x, mask, p: x * mask * (1 - p), "multiplied by 1 - p"),
    ("inverted_dropout_backward", lambda dout, mask, p: dout / (1 - p), "the mask is not applied"),
    ("dropout_eval", lambda x, p, classic: x * p if classic else x, "classic dropout multiplied by p"),
    ("dropout_eval", lambda x, p, classic: x.copy(), "classic dropout returned x"),
    ("dropout_eval", lambda x, p, classic: x * (1 - p), "inverted dropout rescaled at test time"),
    ("l2_penalty_and_grad", lambda W, wd: (wd * float(np.sum(W * W)), wd * W), "lacks the 1/2"),
    ("l2_penalty_and_grad", lambda W, wd: (0.5 * wd * float(np.sum(W * W)), 2 * wd * W),
     "2 lambda W is the gradient of lambda ||W||^2"),
    ("l2_penalty_and_grad", lambda W, wd: (0.5 * wd * float(np.linalg.norm(W)), wd * W),
     "the norm, not its square"),
    ("max_norm", lambda W, c: W * (c / np.maximum(np.linalg.norm(W, axis=1, keepdims=True), c)),
     "the norms were taken over rows"),
    ("max_norm", lambda W, c: W * (c / np.linalg.norm(W, axis=0, keepdims=True)),
     "every column was rescaled to norm c"),
    ("early_stop_epoch", lambda v, pat, min_delta=0.0: tuple(
        e + 1 for e in reg.early_stop_epoch(v, pat, min_delta)), "epochs count from 0"),
    ("early_stop_epoch", _late_stop, "one epoch late"),
    ("early_stop_epoch", lambda v, pat, min_delta=0.0: reg.early_stop_epoch(v, pat),
     "min_delta ignored"),
    ("smooth_labels", reg._smooth_other_classes, "spread over the C - 1 other classes"),
    ("smooth_labels", reg._smooth_true_class_without_share, "the true class got 1 - eps"),
    ("ema_update", lambda s, p, d: (1 - d) * s + d * p, "decay and 1 - decay swapped"),
    ("decay_factor_momentum", lambda lr, wd, m: 1 - lr * wd / (1 - m),
     "the first-order approximation"),
    ("decay_factor_momentum", lambda lr, wd, m: 1 - lr * wd, "the factor without momentum"),
    ("decay_factor_momentum", _complex_roots_as_real, "here the roots are complex"),
    ("dropout_moments", lambda x, p: (x.copy(), x**2 * p), "var = x^2 p: E[out^2]"),
    ("dropout_moments", lambda x, p: (x.copy(), x**2 * p * (1 - p)), "the variance of x * mask"),
    ("dropout_moments", lambda x, p: (x.copy(), x**2 * p / (1 - p) ** 2), "var = x^2 p / (1 - p)^2"),
    ("dropout_moments", lambda x, p: (x * (1 - p), x**2 * p / (1 - p)),
     "the mean of inverted dropout's output is x itself"),
    ("ema_weights", _ema_weights_1_minus_decay, "divided by 1 - decay instead of 1 - decay^t"),
    ("ema_weights", reg._ema_w_no_start, "what is left of the starting copy"),
    ("dropout_ridge_penalty", lambda w, X, p, classic=False: float(
        (1 - p) / p * np.sum(w**2 * np.mean(X**2, axis=0))), "drop and keep probabilities swapped"),
]


@pytest.mark.parametrize("function, wrong, hint", SLIPS, ids=[s[2][:40] for s in SLIPS])
def test_a_classic_slip_fails_with_its_hint(function, wrong, hint):
    with np.errstate(all="ignore"):
        result = run(f"regularization.{function}", wrong)
    assert result.status in ("wrong", "error"), result.lines
    hints = [line.strip() for line in result.lines if line.strip().startswith("hint:")]
    assert hints and hint in hints[0], (hint, result.lines)

