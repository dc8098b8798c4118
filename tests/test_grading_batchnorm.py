"""Chapter 7 exercises: each reference passes and agrees with dlcore's batch norm, and the
classic wrong answers fail in the right case group with the right printed line."""
import numpy as np
import pytest
from conftest import failed_line, hint_lines, run

from dlcore import nn
from dlcore.gradcheck import numerical_gradient_array
from dlcore.grading import list_exercises
from dlcore.grading.exercises import batchnorm as bn

CHAPTER7 = [
    "batchnorm.batchnorm2d_train_forward",
    "batchnorm.batchnorm_backward",
    "batchnorm.batchnorm_eval_forward",
    "batchnorm.batchnorm_train_forward",
    "batchnorm.fold_batchnorm",
    "batchnorm.group_norm_forward",
    "batchnorm.layernorm_backward",
    "batchnorm.running_after_repeats",
    "batchnorm.update_running",
]


def _stats(x, axes=0):
    mean = x.mean(axis=axes, keepdims=True)
    return mean, ((x - mean) ** 2).mean(axis=axes, keepdims=True)


# ---------------------------------------------------------------- the references pass

def test_chapter7_is_registered():
    assert list_exercises("batchnorm.") == CHAPTER7


# ---------------------------------------------------------------- references vs dlcore

def test_references_agree_with_the_formulas_written_out():
    """The references wrap dlcore.functional; here they meet the closed forms."""
    rng = np.random.default_rng(0)
    x = 2.0 + 3.0 * rng.standard_normal((9, 4))
    gamma, beta = rng.uniform(0.5, 2, 4), rng.standard_normal(4)
    rm, rv = rng.standard_normal(4), rng.uniform(0.5, 2, 4)
    mean, var = x.mean(axis=0), ((x - x.mean(axis=0)) ** 2).mean(axis=0)
    np.testing.assert_allclose(bn.batchnorm_train_forward(x, gamma, beta, eps=1e-3),
                               gamma * (x - mean) / np.sqrt(var + 1e-3) + beta, rtol=1e-12,
                               atol=1e-12)
    rm0, rv0 = rm.copy(), rv.copy()
    new_mean, new_var = bn.update_running(rm, rv, x, momentum=0.2)
    np.testing.assert_allclose(new_mean, 0.8 * rm0 + 0.2 * mean, rtol=1e-14)
    np.testing.assert_allclose(new_var, 0.8 * rv0 + 0.2 * var * 9 / 8, rtol=1e-14)
    assert np.array_equal(rm, rm0) and np.array_equal(rv, rv0)  # inputs left alone
    np.testing.assert_allclose(bn.batchnorm_eval_forward(x, gamma, beta, rm, rv),
                               gamma * (x - rm) / np.sqrt(rv + 1e-5) + beta, rtol=1e-13,
                               atol=1e-13)
    x4 = rng.standard_normal((3, 4, 5, 2)) + 1.0
    m4, v4 = _stats(x4, axes=(0, 2, 3))
    expected = (gamma.reshape(1, 4, 1, 1) * (x4 - m4) / np.sqrt(v4 + 1e-5)
                + beta.reshape(1, 4, 1, 1))
    np.testing.assert_allclose(bn.batchnorm2d_train_forward(x4, gamma, beta), expected,
                               rtol=1e-13, atol=1e-13)


def test_backward_reference_matches_central_differences():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((6, 3)) * 2 + 1
    gamma = rng.uniform(0.5, 2, 3)
    beta = rng.standard_normal(3)
    dout = rng.standard_normal(x.shape)
    dx, dgamma, dbeta = bn.batchnorm_backward(dout, x, gamma)
    f_x = lambda _: bn.batchnorm_train_forward(x, gamma, beta)
    f_g = lambda _: bn.batchnorm_train_forward(x, gamma, beta)
    assert np.max(np.abs(dx - numerical_gradient_array(f_x, x, dout))) < 1e-7
    assert np.max(np.abs(dgamma - numerical_gradient_array(f_g, gamma, dout))) < 1e-7
    np.testing.assert_allclose(dbeta, dout.sum(axis=0), rtol=1e-14)


def test_folded_layer_reproduces_linear_then_batchnorm_in_eval_mode():
    rng = np.random.default_rng(2)
    lin, norm = nn.Linear(5, 3, rng=0, dtype=np.float64), nn.BatchNorm1d(3)
    norm.to(dtype=np.float64)
    model = nn.Sequential(lin, norm)
    for _ in range(5):     # move the running statistics away from (0, 1)
        model(rng.standard_normal((8, 5)) * 3 + 1)
    norm.gamma.data[:] = rng.uniform(0.5, 2, 3)
    norm.beta.data[:] = rng.standard_normal(3)
    model.eval()
    x = rng.standard_normal((7, 5))
    W2, b2 = bn.fold_batchnorm(lin.W.data, lin.b.data, norm.gamma.data, norm.beta.data,
                               norm.running_mean, norm.running_var, eps=norm.eps)
    np.testing.assert_allclose(x @ W2 + b2, model(x), rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------- known wrong answers fail

def test_train_forward_with_the_unbiased_variance():
    def forward(x, gamma, beta, eps=1e-5):
        return gamma * (x - x.mean(0)) / np.sqrt(x.var(0, ddof=1) + eps) + beta

    result = run("batchnorm.batchnorm_train_forward", forward)
    assert result.status == "wrong" and result.passed == 0
    assert failed_line(result, "batchnorm_train_forward", "out", "two examples")
    assert failed_line(result, "batchnorm_train_forward", "out", "random batches")


def test_train_forward_over_the_wrong_axis_or_without_eps():
    def per_example(x, gamma, beta, eps=1e-5):       # that is layer norm
        mean, var = _stats(x, axes=1)
        return gamma * (x - mean) / np.sqrt(var + eps) + beta

    def no_eps(x, gamma, beta, eps=1e-5):
        return gamma * (x - x.mean(0)) / x.std(0) + beta

    assert run("batchnorm.batchnorm_train_forward", per_example).passed == 0
    with np.errstate(all="ignore"):
        result = run("batchnorm.batchnorm_train_forward", no_eps)
    # eps = 1e-5 against variances near 1 moves out by ~5e-6, above the 1e-7 tolerance
    assert result.status == "wrong" and (result.passed, result.total) == (0, 3)
    assert any(line.startswith("✘ batchnorm_train_forward  out  [a constant feature "
                               "(variance 0)]  out contains nan") for line in result.lines)


def test_2d_forward_with_per_position_statistics():
    def per_position(x, gamma, beta, eps=1e-5):      # statistics over N only
        mean, var = _stats(x, axes=0)
        return (gamma.reshape(1, -1, 1, 1) * (x - mean) / np.sqrt(var + eps)
                + beta.reshape(1, -1, 1, 1))

    with np.errstate(all="ignore"):
        result = run("batchnorm.batchnorm2d_train_forward", per_position)
    assert result.status == "wrong" and result.passed == 0
    assert failed_line(result, "batchnorm2d_train_forward", "out", "random images")


def test_eval_forward_with_the_batch_statistics():
    def forward(x, gamma, beta, running_mean, running_var, eps=1e-5):
        return gamma * (x - x.mean(0)) / np.sqrt(x.var(0) + eps) + beta

    result = run("batchnorm.batchnorm_eval_forward", forward)
    assert result.status == "wrong" and result.passed == 0
    assert failed_line(result, "batchnorm_eval_forward", "out", "a single example")


def test_eval_forward_without_eps():
    def forward(x, gamma, beta, running_mean, running_var, eps=1e-5):
        return gamma * (x - running_mean) / np.sqrt(running_var) + beta

    result = run("batchnorm.batchnorm_eval_forward", forward)
    assert result.status == "wrong" and (result.passed, result.total) == (0, 3)
    assert result.errors[("batches", "out")] < 1e-2
    assert result.errors[("tiny running variance (eps matters)", "out")] > 0.1


def _no_variance_path(dout, x, gamma, eps=1e-5):
    """Classic bug: mean and variance treated as constants except the mean's own path."""
    mean, var = _stats(x)
    dx = gamma / np.sqrt(var + eps) * (dout - dout.mean(0))
    xhat = (x - mean) / np.sqrt(var + eps)
    return dx, (dout * xhat).sum(0), dout.sum(0)


def _no_mean_terms(dout, x, gamma, eps=1e-5):
    """Classic bug: mean and variance treated as constants (the eval-mode gradient)."""
    mean, var = _stats(x)
    xhat = (x - mean) / np.sqrt(var + eps)
    return gamma * dout / np.sqrt(var + eps), (dout * xhat).sum(0), dout.sum(0)


def test_an_all_ones_dout_hides_a_missing_variance_path():
    # With dout = ones the true dx is 0, and so is this wrong formula's: a check with
    # dout = ones cannot tell them apart. The grader's random dout can.
    rng = np.random.default_rng(4)
    x, gamma = rng.standard_normal((8, 3)) * 2 + 1, rng.uniform(0.5, 2, 3)
    ones = np.ones_like(x)
    right, wrong = bn.batchnorm_backward(ones, x, gamma)[0], _no_variance_path(ones, x, gamma)[0]
    assert np.max(np.abs(right)) < 1e-12 and np.max(np.abs(wrong)) < 1e-12
    dout = rng.standard_normal(x.shape)
    right, wrong = bn.batchnorm_backward(dout, x, gamma)[0], _no_variance_path(dout, x, gamma)[0]
    assert np.max(np.abs(right - wrong)) > 0.1

    result = run("batchnorm.batchnorm_backward", _no_variance_path)
    assert result.status == "wrong" and result.passed == 0
    assert failed_line(result, "batchnorm_backward", "dx", "random dout")
    assert result.errors[("random dout", "dgamma")] < 1e-12      # only dx is wrong
    assert result.errors[("random dout", "dx")] > 1e-2


def test_backward_without_the_mean_terms():
    result = run("batchnorm.batchnorm_backward", _no_mean_terms)
    assert result.status == "wrong" and result.passed == 0
    for group in ("random dout", "two examples", "dout close to all ones"):
        assert failed_line(result, "batchnorm_backward", "dx", group)
    # Close to all ones the true dx is small and this one is about gamma / std.
    assert result.errors[("dout close to all ones", "dx")] > 0.5


def test_backward_without_gamma_or_with_dgamma_as_a_plain_sum():
    def no_gamma(dout, x, gamma, eps=1e-5):
        return bn.batchnorm_backward(dout, x, np.ones_like(gamma), eps)

    def dgamma_sum(dout, x, gamma, eps=1e-5):
        dx, _, dbeta = bn.batchnorm_backward(dout, x, gamma, eps)
        return dx, dout.sum(0), dbeta

    assert run("batchnorm.batchnorm_backward", no_gamma).passed == 0
    result = run("batchnorm.batchnorm_backward", dgamma_sum)
    assert result.passed == 0 and result.errors[("random dout", "dx")] == 0.0
    assert failed_line(result, "batchnorm_backward", "dgamma", "random dout")


def test_running_update_with_the_biased_variance():
    def update(running_mean, running_var, x, momentum=0.1):
        return ((1 - momentum) * running_mean + momentum * x.mean(0),
                (1 - momentum) * running_var + momentum * x.var(0))

    result = run("batchnorm.update_running", update)
    assert result.status == "wrong" and result.passed == 0
    assert result.errors[("two examples", "running_mean")] == 0.0
    assert failed_line(result, "update_running", "running_var", "two examples")
    assert result.errors[("two examples", "running_var")] > 1e-3


def test_running_update_with_momentum_on_the_old_value():
    def update(running_mean, running_var, x, momentum=0.1):   # Keras' convention
        return (momentum * running_mean + (1 - momentum) * x.mean(0),
                momentum * running_var + (1 - momentum) * x.var(0, ddof=1))

    result = run("batchnorm.update_running", update)
    assert result.status == "wrong"
    # momentum 0.5 is the one setting where the two conventions agree
    assert (result.passed, result.total) == (0, 3)
    assert result.errors[("momentum 0.1 (the default)", "running_mean")] > 1e-2


def test_running_update_in_place_fails_as_a_mutation():
    def update(running_mean, running_var, x, momentum=0.1):
        running_mean *= 1 - momentum
        running_mean += momentum * x.mean(0)
        running_var *= 1 - momentum
        running_var += momentum * x.var(0, ddof=1)
        return running_mean, running_var

    result = run("batchnorm.update_running", update)
    assert result.status == "wrong" and result.passed == 0
    assert any("changed" in line or "in place" in line for line in result.lines)


def test_fold_without_the_mean_or_with_the_variance():
    def no_mean(W, b, gamma, beta, running_mean, running_var, eps=1e-5):
        s = gamma / np.sqrt(running_var + eps)
        return W * s, b * s + beta

    def by_variance(W, b, gamma, beta, running_mean, running_var, eps=1e-5):
        s = gamma / (running_var + eps)
        return W * s, (b - running_mean) * s + beta

    result = run("batchnorm.fold_batchnorm", no_mean)
    assert result.status == "wrong" and result.passed == 0
    assert result.errors[("random layers", "W")] == 0.0
    assert failed_line(result, "fold_batchnorm", "b", "random layers")
    assert run("batchnorm.fold_batchnorm", by_variance).passed == 0


def test_fold_scaling_rows_or_without_eps():
    def rows(W, b, gamma, beta, running_mean, running_var, eps=1e-5):
        s = gamma / np.sqrt(running_var + eps)
        return W * s[:, None], (b - running_mean) * s + beta

    def no_eps(W, b, gamma, beta, running_mean, running_var, eps=1e-5):
        s = gamma / np.sqrt(running_var)
        return W * s, (b - running_mean) * s + beta

    result = run("batchnorm.fold_batchnorm", rows)
    assert result.status in ("wrong", "error") and result.passed == 0
    assert failed_line(result, "fold_batchnorm", "W", "square W")
    result = run("batchnorm.fold_batchnorm", no_eps)
    assert (result.passed, result.total) == (0, 3)
    assert result.errors[("tiny running variance (eps matters)", "W")] > 0.1


# ---------------------------------------------------------------- layer norm backward

def _layernorm_forward(x, gamma, beta, eps=1e-5):
    """Layer norm written out (per row, biased variance), for central differences."""
    mean, var = _stats(x, axes=1)
    return gamma * (x - mean) / np.sqrt(var + eps) + beta


def test_layernorm_backward_reference_matches_central_differences():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((5, 6)) * 2 + 1
    gamma, beta = rng.uniform(0.5, 2, 6) * rng.choice([-1, 1], 6), rng.standard_normal(6)
    dout = rng.standard_normal(x.shape)
    dx, dgamma, dbeta = bn.layernorm_backward(dout, x, gamma, eps=1e-3)

    def forward(_):
        return _layernorm_forward(x, gamma, beta, eps=1e-3)

    assert np.max(np.abs(dx - numerical_gradient_array(forward, x, dout))) < 1e-7
    assert np.max(np.abs(dgamma - numerical_gradient_array(forward, gamma, dout))) < 1e-7
    np.testing.assert_allclose(dbeta, dout.sum(axis=0), rtol=1e-14)
    # each row's dx sums to 0: shifting a row leaves its normalised values unchanged
    np.testing.assert_allclose(dx.sum(axis=1), 0, atol=1e-12)


def _layernorm_parts(dout, x, gamma, eps):
    mean, var = _stats(x, axes=1)
    inv_std = 1 / np.sqrt(var + eps)
    return (x - mean) * inv_std, inv_std


def test_layernorm_backward_without_the_mean_and_variance_paths():
    def direct_only(dout, x, gamma, eps=1e-5):
        xhat, inv_std = _layernorm_parts(dout, x, gamma, eps)
        return gamma * dout * inv_std, (dout * xhat).sum(0), dout.sum(0)

    result = run("batchnorm.layernorm_backward", direct_only)
    assert result.status == "wrong" and result.passed == 0
    assert failed_line(result, "layernorm_backward", "dx", "random dout")
    assert result.errors[("random dout", "dgamma")] < 1e-12   # only dx is wrong


def test_layernorm_backward_without_the_variance_path():
    def mean_path_only(dout, x, gamma, eps=1e-5):
        xhat, inv_std = _layernorm_parts(dout, x, gamma, eps)
        g = gamma * dout
        return inv_std * (g - g.mean(1, keepdims=True)), (dout * xhat).sum(0), dout.sum(0)

    result = run("batchnorm.layernorm_backward", mean_path_only)
    assert result.status == "wrong" and result.passed == 0
    assert result.errors[("two features", "dx")] > 0.1


def test_layernorm_backward_with_gamma_pulled_out_of_the_sums():
    """Batch norm's formula moved to rows: right only if gamma were constant along a row."""
    def gamma_outside(dout, x, gamma, eps=1e-5):
        xhat, inv_std = _layernorm_parts(dout, x, gamma, eps)
        dx = gamma * inv_std * (dout - dout.mean(1, keepdims=True)
                                - xhat * (dout * xhat).mean(1, keepdims=True))
        return dx, (dout * xhat).sum(0), dout.sum(0)

    result = run("batchnorm.layernorm_backward", gamma_outside)
    assert result.status == "wrong" and result.passed == 0
    assert result.errors[("random dout", "dx")] > 0.1


def test_layernorm_backward_with_batch_norm_sums_over_the_examples():
    def over_the_batch(dout, x, gamma, eps=1e-5):
        return bn.batchnorm_backward(dout, x, gamma, eps)

    result = run("batchnorm.layernorm_backward", over_the_batch)
    assert result.status == "wrong" and result.passed == 0
    # N == D: the shapes agree, only the values tell
    assert failed_line(result, "layernorm_backward", "dx", "square x (N = D)")


# ---------------------------------------------------------------- running statistics after k steps

def test_running_after_repeats_is_the_geometric_series():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((5, 3)) * 2 + 3
    for k, momentum in [(1, 0.1), (22, 0.1), (300, 0.01)]:
        r = (1 - momentum) ** k
        mean, var = bn.running_after_repeats(x, k, momentum=momentum)
        np.testing.assert_allclose(mean, (1 - r) * x.mean(0), rtol=1e-12)
        np.testing.assert_allclose(var, r + (1 - r) * x.var(0, ddof=1), rtol=1e-12)
    # and it is what dlcore's layer holds after k training steps on x
    norm = nn.BatchNorm1d(3, dtype=np.float64)
    for _ in range(22):
        norm(x)
    np.testing.assert_allclose(norm.running_mean, bn.running_after_repeats(x, 22)[0], rtol=1e-12)
    np.testing.assert_allclose(norm.running_var, bn.running_after_repeats(x, 22)[1], rtol=1e-12)


def test_running_after_repeats_classic_slips():
    def linear_in_k(x, k, momentum=0.1):            # k * momentum instead of 1 - (1 - momentum)^k
        w = min(k * momentum, 1.0)
        return w * x.mean(0), (1 - w) + w * x.var(0, ddof=1)

    def biased(x, k, momentum=0.1):
        r = (1 - momentum) ** k
        return (1 - r) * x.mean(0), r + (1 - r) * x.var(0)

    def var_from_zero(x, k, momentum=0.1):          # forgets the initial running variance 1
        r = (1 - momentum) ** k
        return (1 - r) * x.mean(0), (1 - r) * x.var(0, ddof=1)

    result = run("batchnorm.running_after_repeats", linear_in_k)
    assert result.status == "wrong"
    assert result.errors[("one step (k = 1)", "running_mean")] < 1e-12   # k = 1 agrees
    assert result.errors[("a few steps", "running_mean")] > 0.05
    result = run("batchnorm.running_after_repeats", biased)
    assert result.status == "wrong" and result.passed == 0
    assert result.errors[("two examples", "running_var")] > 0.2
    result = run("batchnorm.running_after_repeats", var_from_zero)
    assert result.status == "wrong" and result.passed == 0
    assert result.errors[("slow momentum (0.01)", "running_var")] > 0.1


# ---------------------------------------------------------------- the exercise's own hints

def _backward_with(dout, x, gamma, eps, *, eps_outside=False, ddof=0, var_path=True):
    """A learner's compact-formula backward, written out with one slip."""
    xc = x - x.mean(axis=0)
    var = x.var(axis=0, ddof=ddof)
    inv_std = 1 / (np.sqrt(var) + eps) if eps_outside else 1 / np.sqrt(var + eps)
    xhat = xc * inv_std
    g = gamma * dout
    bracket = g - g.mean(axis=0) - (xhat * (g * xhat).mean(axis=0) if var_path else 0)
    return inv_std * bracket, (dout * xhat).sum(axis=0), dout.sum(axis=0)


def backward_without_variance_path(dout, x, gamma, eps=1e-5):
    return _backward_with(dout, x, gamma, eps, var_path=False)


def backward_eps_outside(dout, x, gamma, eps=1e-5):
    return _backward_with(dout, x, gamma, eps, eps_outside=True)


def backward_unbiased(dout, x, gamma, eps=1e-5):
    return _backward_with(dout, x, gamma, eps, ddof=1)


def backward_unbiased_exact(dout, x, gamma, eps=1e-5):
    """The exact gradient of a forward pass that normalised with var * N / (N - 1)."""
    n = x.shape[0]
    inv_std = 1 / np.sqrt(x.var(axis=0, ddof=1) + eps)
    xhat = (x - x.mean(axis=0)) * inv_std
    g = gamma * dout
    dx = inv_std * (g - g.mean(axis=0) - xhat * (g * xhat).sum(axis=0) / (n - 1))
    return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)


def test_backward_slips_are_named_in_a_hint():
    cases = [(backward_without_variance_path, bn.HINT_NO_VARIANCE_PATH),
             (backward_eps_outside, bn.HINT_EPS_OUTSIDE),
             (backward_unbiased, bn.HINT_UNBIASED),
             (backward_unbiased_exact, bn.HINT_UNBIASED)]
    for candidate, hint in cases:
        result = run("batchnorm.batchnorm_backward", candidate)
        assert result.status == "wrong" and result.passed == 0, candidate.__name__
        assert hint_lines(result) == [f"hint: {hint}"], (candidate.__name__, result.lines)
    # eps outside the root moves dx by ~1e-5 relative: a slip the tolerance catches
    assert failed_line(run("batchnorm.batchnorm_backward", backward_eps_outside),
                       "batchnorm_backward", "dx", "random dout")
    # the right answer, and a slip that is none of the named ones (the mean term added
    # instead of subtracted), claim no hint
    assert bool(run("batchnorm.batchnorm_backward", bn.batchnorm_backward))

    def mean_term_sign(dout, x, gamma, eps=1e-5):
        dx, dgamma, dbeta = _backward_with(dout, x, gamma, eps)
        g = gamma * dout
        return dx + 2 * g.mean(axis=0) / np.sqrt(x.var(axis=0) + eps), dgamma, dbeta

    other = run("batchnorm.batchnorm_backward", mean_term_sign)
    assert not other and hint_lines(other) == []


def test_forward_and_running_variance_slips_are_named_in_a_hint():
    def eps_outside(x, gamma, beta, eps=1e-5):
        return gamma * (x - x.mean(0)) / (x.std(0) + eps) + beta

    def unbiased(x, gamma, beta, eps=1e-5):
        return gamma * (x - x.mean(0)) / np.sqrt(x.var(0, ddof=1) + eps) + beta

    def biased_running(running_mean, running_var, x, momentum=0.1):
        return ((1 - momentum) * running_mean + momentum * x.mean(0),
                (1 - momentum) * running_var + momentum * x.var(0))

    for candidate, hint in ((eps_outside, bn.HINT_EPS_OUTSIDE), (unbiased, bn.HINT_UNBIASED)):
        result = run("batchnorm.batchnorm_train_forward", candidate)
        assert not result and hint_lines(result) == [f"hint: {hint}"], result.lines
    result = run("batchnorm.update_running", biased_running)
    assert not result and hint_lines(result) == [f"hint: {bn.HINT_RUNNING_BIASED}"], result.lines


# ---------------------------------------------------------------- group norm forward

def _gn_from(groups_of, x, gamma, beta, num_groups, eps):
    """Standardise the (N, G, m) view `groups_of(x)` returns, map back, apply the affine."""
    C = x.shape[1]
    g, back = groups_of(x)
    xhat = back((g - g.mean(axis=2, keepdims=True)) / np.sqrt(g.var(axis=2, keepdims=True) + eps))
    shape = (1, C) + (1,) * (x.ndim - 2)
    return gamma.reshape(shape) * xhat + beta.reshape(shape)


def test_group_norm_reference_matches_nn_group_norm_and_wrong_groupings_fail():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 6, 3, 3)) * 2 + 1
    gamma, beta = rng.standard_normal(6), rng.standard_normal(6)
    layer = nn.GroupNorm(3, 6, dtype=np.float64)
    layer.gamma.data[:], layer.beta.data[:] = gamma, beta
    np.testing.assert_allclose(bn.group_norm_forward(x, gamma, beta, 3), layer(x), rtol=1e-14)

    def interleaved(x, gamma, beta, num_groups, eps=1e-5):   # channels c, c + G, ... together
        N, C = x.shape[:2]
        k = C // num_groups

        def groups_of(x):
            g = x.reshape(N, k, num_groups, -1).swapaxes(1, 2).reshape(N, num_groups, -1)
            return g, lambda h: h.reshape(N, num_groups, k, -1).swapaxes(1, 2).reshape(x.shape)
        return _gn_from(groups_of, x, gamma, beta, num_groups, eps)

    def per_channel(x, gamma, beta, num_groups, eps=1e-5):   # instance norm, whatever G is
        N, C = x.shape[:2]
        return _gn_from(lambda x: (x.reshape(N, C, -1), lambda h: h.reshape(x.shape)),
                        x, gamma, beta, num_groups, eps)

    def over_the_batch(x, gamma, beta, num_groups, eps=1e-5):  # groups mixed across samples
        N = x.shape[0]

        def groups_of(x):
            g = x.reshape(N, num_groups, -1).swapaxes(0, 1).reshape(1, num_groups, -1)
            return g, lambda h: h.reshape(num_groups, N, -1).swapaxes(0, 1).reshape(x.shape)
        return _gn_from(groups_of, x, gamma, beta, num_groups, eps)

    interleaved_result = run("batchnorm.group_norm_forward", interleaved)
    assert interleaved_result.status == "wrong"
    assert failed_line(interleaved_result, "group_norm_forward", "out", "images")
    # with one group, or one channel per group, the order of channels does not matter
    assert not failed_line(interleaved_result, "group_norm_forward", "out", "one group (G = 1)")
    channel = run("batchnorm.group_norm_forward", per_channel)
    assert failed_line(channel, "group_norm_forward", "out", "one group (G = 1)")
    assert not failed_line(channel, "group_norm_forward", "out", "a group per channel (G = C)")
    batch = run("batchnorm.group_norm_forward", over_the_batch)
    assert failed_line(batch, "group_norm_forward", "out", "images")
    assert not failed_line(batch, "group_norm_forward", "out", "a single sample")


# ---------------------------------------------------------------- every named slip, named

def _bn_forward(x, gamma, beta, eps, axes, ddof=0, eps_outside=False, affine=True):
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True, ddof=ddof)
    xhat = (x - mean) / (np.sqrt(var) + eps if eps_outside else np.sqrt(var + eps))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    return gamma.reshape(shape) * xhat + beta.reshape(shape) if affine else xhat


def _ln_backward(dout, x, gamma, eps, *, mean_path=True, var_path=True, gamma_outside=False):
    xhat, inv_std = _layernorm_parts(dout, x, gamma, eps)
    g = dout if gamma_outside else gamma * dout
    dx = g - g.mean(1, keepdims=True) if mean_path else g
    if var_path:
        dx = dx - xhat * (g * xhat).mean(1, keepdims=True)
    dx = inv_std * dx * (gamma if gamma_outside else 1)
    return dx, (dout * xhat).sum(0), dout.sum(0)


def _repeats(x, k, momentum, *, ddof=1, start=1.0, r=None):
    r = (1 - momentum) ** k if r is None else r
    return (1 - r) * x.mean(0), r * start + (1 - r) * x.var(0, ddof=ddof)


SLIPS = [
    ("batchnorm_train_forward", "HINT_NO_EPS",
     lambda x, gamma, beta, eps=1e-5: _bn_forward(x, gamma, beta, 0.0, 0)),
    ("batchnorm_train_forward", "HINT_NO_AFFINE",
     lambda x, gamma, beta, eps=1e-5: _bn_forward(x, gamma, beta, eps, 0, affine=False)),
    ("batchnorm_train_forward", "HINT_PER_EXAMPLE",
     lambda x, gamma, beta, eps=1e-5: _bn_forward(x, gamma, beta, eps, 1)),
    ("batchnorm2d_train_forward", "HINT_PER_POSITION",
     lambda x, gamma, beta, eps=1e-5: _bn_forward(x, gamma, beta, eps, 0)),
    ("batchnorm2d_train_forward", "HINT_PER_IMAGE",
     lambda x, gamma, beta, eps=1e-5: _bn_forward(x, gamma, beta, eps, (2, 3))),
    ("batchnorm2d_train_forward", "HINT_UNBIASED",
     lambda x, gamma, beta, eps=1e-5: _bn_forward(x, gamma, beta, eps, (0, 2, 3), ddof=1)),
    ("batchnorm2d_train_forward", "HINT_EPS_OUTSIDE",
     lambda x, gamma, beta, eps=1e-5: _bn_forward(x, gamma, beta, eps, (0, 2, 3),
                                                 eps_outside=True)),
    ("batchnorm_eval_forward", "HINT_EVAL_BATCH",
     lambda x, gamma, beta, rm, rv, eps=1e-5: _bn_forward(x, gamma, beta, eps, 0)),
    ("batchnorm_eval_forward", "HINT_EPS_OUTSIDE",
     lambda x, gamma, beta, rm, rv, eps=1e-5: gamma * (x - rm) / (np.sqrt(rv) + eps) + beta),
    ("batchnorm_eval_forward", "HINT_NO_EPS",
     lambda x, gamma, beta, rm, rv, eps=1e-5: gamma * (x - rm) / np.sqrt(rv) + beta),
    ("batchnorm_eval_forward", "HINT_EVAL_NO_SQRT",
     lambda x, gamma, beta, rm, rv, eps=1e-5: gamma * (x - rm) / (rv + eps) + beta),
    ("batchnorm_backward", "HINT_NO_MEAN_PATH",
     lambda dout, x, gamma, eps=1e-5: _no_mean_terms(dout, x, gamma, eps)),
    ("batchnorm_backward", "HINT_NO_GAMMA",
     lambda dout, x, gamma, eps=1e-5: (_backward_with(dout, x, np.ones_like(gamma), eps)[0],
                                       *bn.batchnorm_backward(dout, x, gamma, eps)[1:])),
    ("batchnorm_backward", "HINT_DGAMMA_XHAT",
     lambda dout, x, gamma, eps=1e-5: (bn.batchnorm_backward(dout, x, gamma, eps)[0],
                                       (dout * x).sum(0), dout.sum(0))),
    ("update_running", "HINT_MOMENTUM_ON_OLD",
     lambda rm, rv, x, momentum=0.1: (momentum * rm + (1 - momentum) * x.mean(0),
                                      momentum * rv + (1 - momentum) * x.var(0, ddof=1))),
    ("update_running", "HINT_RUNNING_STD",
     lambda rm, rv, x, momentum=0.1: ((1 - momentum) * rm + momentum * x.mean(0),
                                      (1 - momentum) * rv + momentum * x.std(0, ddof=1))),
    ("fold_batchnorm", "HINT_FOLD_BIAS",
     lambda W, b, gamma, beta, rm, rv, eps=1e-5: (W * gamma / np.sqrt(rv + eps),
                                                  b - rm + beta)),
    ("fold_batchnorm", "HINT_EPS_OUTSIDE",
     lambda W, b, gamma, beta, rm, rv, eps=1e-5: (W * gamma / (np.sqrt(rv) + eps),
                                                  (b - rm) * gamma / (np.sqrt(rv) + eps) + beta)),
    ("fold_batchnorm", "HINT_NO_EPS",
     lambda W, b, gamma, beta, rm, rv, eps=1e-5: (W * gamma / np.sqrt(rv),
                                                  (b - rm) * gamma / np.sqrt(rv) + beta)),
    ("layernorm_backward", "HINT_LN_NO_VARIANCE_PATH",
     lambda dout, x, gamma, eps=1e-5: _ln_backward(dout, x, gamma, eps, var_path=False)),
    ("layernorm_backward", "HINT_LN_NO_MEAN_PATH",
     lambda dout, x, gamma, eps=1e-5: _ln_backward(dout, x, gamma, eps, mean_path=False)),
    ("layernorm_backward", "HINT_LN_GAMMA_OUTSIDE",
     lambda dout, x, gamma, eps=1e-5: _ln_backward(dout, x, gamma, eps, gamma_outside=True)),
    ("layernorm_backward", "HINT_LN_OVER_THE_BATCH",
     lambda dout, x, gamma, eps=1e-5: bn.batchnorm_backward(dout, x, gamma, eps)),
    ("running_after_repeats", "HINT_RUNNING_BIASED",
     lambda x, k, momentum=0.1: _repeats(x, k, momentum, ddof=0)),
    ("running_after_repeats", "HINT_REPEATS_VAR_FROM_ZERO",
     lambda x, k, momentum=0.1: _repeats(x, k, momentum, start=0.0)),
    ("running_after_repeats", "HINT_REPEATS_POWER",
     lambda x, k, momentum=0.1: _repeats(x, k, momentum, r=momentum ** k)),
    ("running_after_repeats", "HINT_REPEATS_OFF_BY_ONE",
     lambda x, k, momentum=0.1: _repeats(x, k + 1, momentum)),
]


@pytest.mark.parametrize("exercise, hint, candidate", SLIPS,
                         ids=[f"{e}-{h}" for e, h, _ in SLIPS])
def test_each_classic_slip_is_named_in_its_hint(exercise, hint, candidate):
    with np.errstate(all="ignore"):
        result = run(f"batchnorm.{exercise}", candidate)
    assert result.status == "wrong", result.lines
    assert hint_lines(result) == [f"hint: {getattr(bn, hint)}"], result.lines


def test_group_norm_slips_are_named_in_their_hints():
    def by(groups_of):
        def forward(x, gamma, beta, num_groups, eps=1e-5):
            return _gn_from(lambda x: groups_of(x, num_groups), x, gamma, beta, num_groups, eps)
        return forward

    def plain(ddof=0, eps_outside=False):
        def forward(x, gamma, beta, num_groups, eps=1e-5):
            N = x.shape[0]
            g = x.reshape(N, num_groups, -1)
            var = g.var(axis=2, keepdims=True, ddof=ddof)
            std = np.sqrt(var) + eps if eps_outside else np.sqrt(var + eps)
            xhat = ((g - g.mean(axis=2, keepdims=True)) / std).reshape(x.shape)
            shape = (1, -1) + (1,) * (x.ndim - 2)
            return gamma.reshape(shape) * xhat + beta.reshape(shape)
        return forward

    cases = [(by(bn._interleaved_groups), bn.HINT_GN_INTERLEAVED),
             (by(bn._one_channel_groups), bn.HINT_GN_PER_CHANNEL),
             (by(bn._groups_across_the_batch), bn.HINT_GN_ACROSS_THE_BATCH),
             (plain(ddof=1), bn.HINT_GN_UNBIASED),
             (plain(eps_outside=True), bn.HINT_EPS_OUTSIDE)]
    for candidate, hint in cases:
        result = run("batchnorm.group_norm_forward", candidate)
        assert not result and hint_lines(result) == [f"hint: {hint}"], result.lines
    assert bool(run("batchnorm.group_norm_forward", plain()))


def test_a_hint_never_names_a_slip_the_numbers_do_not_show():
    """Wrong answers that are none of the named slips get no exercise hint."""
    def shifted(x, gamma, beta, eps=1e-5):            # beta added twice
        return bn.batchnorm_train_forward(x, gamma, beta, eps) + beta

    def no_update(rm, rv, x, momentum=0.1):
        return rm.copy(), rv.copy()

    for exercise, candidate in (("batchnorm_train_forward", shifted),
                                ("update_running", no_update)):
        result = run(f"batchnorm.{exercise}", candidate)
        assert not result and hint_lines(result) == [], result.lines
