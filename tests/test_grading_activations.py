"""Chapter 2 exercises: each reference passes, plausible wrong answers fail in the right
case group with the right printed line, and the cases are seeded."""
import numpy as np
import pytest
from conftest import failed_line, hint_lines, run

from dlcore import functional as F
from dlcore.grading import list_exercises
from dlcore.grading.exercises import activations as act

CHAPTER2 = [
    "activations.dead_units",
    "activations.elu_backward",
    "activations.elu_forward",
    "activations.leaky_relu_backward",
    "activations.maxout_backward",
    "activations.maxout_forward",
    "activations.maxout_parameter_count",
    "activations.relu_zero_fraction",
    "activations.sigmoid_backward",
    "activations.sigmoid_chain_bound",
    "activations.sigmoid_flat_beyond",
    "activations.tanh_backward",
]


# ---------------------------------------------------------------- the references pass

def test_chapter2_is_registered():
    assert list_exercises("activations.") == CHAPTER2


def test_functional_forms_are_what_the_references_use():
    # Independent closed forms, so a change in dlcore.functional would show here too.
    x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])
    dout = np.array([1.0, -2.0, 3.0, 0.5, -1.0])
    s = 1 / (1 + np.exp(-x))
    assert np.allclose(act.sigmoid_backward(dout, s), dout * s * (1 - s), rtol=1e-15, atol=0)
    t = np.tanh(x)
    assert np.allclose(act.tanh_backward(dout, t), dout * (1 - t ** 2), rtol=1e-15, atol=0)
    assert np.allclose(act.elu_forward(x, 0.5), np.where(x > 0, x, 0.5 * (np.exp(x) - 1)),
                       rtol=1e-15, atol=1e-17)
    _, cache = F.elu_forward(x, 0.5)
    assert np.allclose(act.elu_backward(dout, cache),
                       dout * np.where(x > 0, 1.0, 0.5 * np.exp(x)), rtol=1e-15, atol=0)
    assert act.elu_backward(dout, cache)[2] == 3.0 * 0.5  # ELU'(0) = alpha
    _, cache = F.leaky_relu_forward(x, 0.1)
    assert act.leaky_relu_backward(dout, cache).tolist() == [0.1, -0.2, 0.30000000000000004,
                                                             0.5, -1.0]
    assert act.maxout_parameter_count(10, 20, 3) == 3 * (10 * 20 + 20) == 660
    assert act.sigmoid_chain_bound(3) == 0.25 ** 3
    h = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 2.0]])
    assert act.dead_units(h).tolist() == [1, 0, 0]


def test_sigmoid_derivative_is_at_most_a_quarter():
    x = np.linspace(-10, 10, 20001)
    s = 1 / (1 + np.exp(-x))
    assert np.max(s * (1 - s)) == pytest.approx(0.25, abs=1e-12)


# ---------------------------------------------------------------- known wrong answers fail

def test_sigmoid_backward_using_x_instead_of_out():
    def sigmoid_backward(dout, cache):
        x = cache                      # bug: the cache holds sigma(x), not x
        s = 1 / (1 + np.exp(-x))
        return dout * s * (1 - s)

    result = run("activations.sigmoid_backward", sigmoid_backward)
    assert result.status == "wrong" and result.passed == 0
    assert failed_line(result, "sigmoid_backward", "dx", "random x") is not None
    assert result.errors[("random x", "dx")] > 1e-2
    assert "first failing case [random x]: sigmoid_backward(dout (4, 5) float64, cache (4, 5)" \
        in "\n".join(result.lines)


def test_sigmoid_backward_forgetting_one_minus_out():
    result = run("activations.sigmoid_backward", lambda dout, out: dout * out)
    assert result.status == "wrong" and result.passed == 0
    # Saturated at x -> +inf the derivative is 0 but dout * out is dout: a relative error of 1.
    assert result.errors[("saturated (|x| up to 40)", "dx")] == pytest.approx(1.0)


def test_tanh_backward_wrong_forms():
    using_x = run("activations.tanh_backward", lambda dout, out: dout * (1 - np.tanh(out) ** 2))
    not_squared = run("activations.tanh_backward", lambda dout, out: dout * (1 - out))
    for result in (using_x, not_squared):
        assert result.status == "wrong" and result.passed == 0
        assert failed_line(result, "tanh_backward", "dx", "random x") is not None
    # Saturated: out = +-1, the derivative is 0; 1 - tanh(+-1)^2 = 0.42 is far from it.
    assert using_x.errors[("saturated (|x| up to 40)", "dx")] == pytest.approx(1.0)


def test_leaky_relu_backward_with_ge_fails_only_at_zero():
    def leaky_relu_backward(dout, cache):
        x, slope = cache
        return np.where(x >= 0, dout, slope * dout)

    result = run("activations.leaky_relu_backward", leaky_relu_backward)
    assert result.status == "wrong" and (result.passed, result.total) == (2, 3)
    assert result.errors[("slope 0.01", "dx")] == 0.0
    assert failed_line(result, "leaky_relu_backward", "dx", "x exactly 0") is not None
    # slope 0.1 against 1: |1 - 0.1| / 1.1
    assert result.errors[("x exactly 0", "dx")] == pytest.approx(0.9 / 1.1)


def test_leaky_relu_backward_with_a_hardcoded_slope():
    def leaky_relu_backward(dout, cache):
        x, _ = cache
        return np.where(x > 0, dout, 0.01 * dout)

    result = run("activations.leaky_relu_backward", leaky_relu_backward)
    assert result.status == "wrong" and result.passed == 1
    assert result.errors[("slope 0.01", "dx")] == 0.0
    assert failed_line(result, "leaky_relu_backward", "dx", "other slopes") is not None


def test_elu_forward_that_overflows_or_ignores_alpha():
    def elu_overflow(x, alpha=1.0):
        e = np.exp(x)                 # inf for x = 1000 ...
        return np.where(x > 0, x, alpha * (e - 1)) * (e / e)   # ... and inf / inf = nan

    def elu_no_alpha(x, alpha=1.0):
        return np.where(x > 0, x, np.expm1(np.minimum(x, 0)))

    with np.errstate(all="ignore"):
        overflow = run("activations.elu_forward", elu_overflow)
    assert overflow.status == "wrong" and (overflow.passed, overflow.total) == (2, 3)
    assert any(line.startswith("✘ elu_forward  out  [huge |x| and x = 0]  out contains nan")
               for line in overflow.lines)
    no_alpha = run("activations.elu_forward", elu_no_alpha)
    assert no_alpha.status == "wrong" and no_alpha.passed == 1
    assert no_alpha.errors[("alpha = 1", "out")] == 0.0
    assert failed_line(no_alpha, "elu_forward", "out", "other alpha") is not None


def test_elu_backward_using_alpha_times_x():
    def elu_backward(dout, cache):
        x, _out, alpha = cache
        return np.where(x > 0, dout, dout * alpha * x)   # bug: alpha * x, not alpha * exp(x)

    result = run("activations.elu_backward", elu_backward)
    assert result.status == "wrong" and result.passed == 0
    assert failed_line(result, "elu_backward", "dx", "alpha = 1") is not None
    assert result.errors[("alpha = 1", "dx")] > 0.5


def test_elu_backward_with_slope_one_at_zero():
    def elu_backward(dout, cache):
        x, out, alpha = cache
        return np.where(x >= 0, dout, dout * (out + alpha))   # derivative 1 at x = 0

    result = run("activations.elu_backward", elu_backward)
    assert result.status == "wrong" and (result.passed, result.total) == (3, 4)
    assert failed_line(result, "elu_backward", "dx", "x exactly 0") is not None
    assert result.errors[("x exactly 0", "dx")] == pytest.approx(0.5 / 1.5)


def test_maxout_forward_over_the_wrong_axis():
    def maxout_forward(x, W, b):
        z = np.einsum("nd,dmk->nmk", x, W) + b
        return z.max(axis=1)          # bug: max over units, not over pieces

    result = run("activations.maxout_forward", maxout_forward)
    assert result.status == "wrong" and result.passed == 0
    assert "✘ maxout_forward  out  [random batches]  expected out of shape (5, 3), got (5, 2)" \
        in result.lines
    assert failed_line(result, "maxout_forward", "out", "as many pieces as units") is not None
    assert result.errors[("as many pieces as units", "out")] > 1e-3


def test_maxout_forward_without_bias_fails_and_plain_numpy_passes():
    def no_bias(x, W, b):
        return np.einsum("nd,dmk->nmk", x, W).max(axis=2)

    def right(x, W, b):
        return (np.einsum("nd,dmk->nmk", x, W) + b).max(axis=2)

    assert run("activations.maxout_forward", no_bias).passed == 0
    assert run("activations.maxout_forward", right).status == "ok"


def test_maxout_backward_gradient_to_every_piece():
    def maxout_backward(dout, cache):
        x, W, _winner = cache
        _D, _M, K = W.shape
        dz = np.repeat(dout[:, :, None], K, axis=2)    # bug: every piece gets dout
        return (np.einsum("nmk,dmk->nd", dz, W), np.einsum("nd,nmk->dmk", x, dz), dz.sum(0))

    result = run("activations.maxout_backward", maxout_backward)
    assert result.status == "wrong" and result.passed == 0
    assert failed_line(result, "maxout_backward", "dx", "random batches") is not None
    assert failed_line(result, "maxout_backward", "dW", "random batches") is not None


def test_maxout_backward_written_independently_passes():
    def maxout_backward(dout, cache):
        x, W, winner = cache
        K = W.shape[2]
        dz = np.eye(K)[winner] * dout[:, :, None]       # (N, M, K): one-hot of the winner
        return (np.einsum("nmk,dmk->nd", dz, W), np.einsum("nd,nmk->dmk", x, dz), dz.sum(0))

    result = run("activations.maxout_backward", maxout_backward)
    assert result.status == "ok" and result.passed == result.total == 3
    assert max(result.errors.values()) < 1e-12


def test_maxout_backward_forgetting_the_batch_sum_for_db():
    def maxout_backward(dout, cache):
        dx, dW, _db = F.maxout_backward(dout, cache)
        _x, W, winner = cache
        dz = np.eye(W.shape[2])[winner] * dout[:, :, None]
        return dx, dW, dz                                # bug: db per example

    result = run("activations.maxout_backward", maxout_backward)
    assert result.status == "wrong" and result.passed == 0
    assert any("expected db of shape (3, 2), got (1, 3, 2): is a sum over the batch (axis 0) "
               "missing?" in line for line in result.lines)


def test_dead_units_over_the_wrong_axis():
    result = run("activations.dead_units", lambda h: np.all(h == 0, axis=1))
    assert result.status == "wrong" and result.passed == 0
    assert "✘ dead_units  mask  [random batches]  expected mask of shape (6,), got (20,)" \
        in result.lines
    assert failed_line(result, "dead_units", "mask", "square batch") is not None
    assert result.errors[("square batch", "mask")] == 1.0


def test_dead_units_with_a_threshold_calls_tiny_outputs_dead():
    result = run("activations.dead_units", lambda h: h.max(axis=0) < 1e-3)
    assert result.status == "wrong" and (result.passed, result.total) == (3, 4)
    assert failed_line(result, "dead_units", "mask", "tiny outputs are alive") is not None


@pytest.mark.parametrize("candidate", [
    lambda h: np.all(h == 0, axis=0),                  # booleans
    lambda h: (h.sum(axis=0) == 0).astype(float),      # 0.0 / 1.0
    lambda h: ~np.any(h > 0, axis=0),
])
def test_dead_units_accepts_booleans_and_numbers(candidate):
    assert run("activations.dead_units", candidate).status == "ok"


def test_maxout_parameter_count_wrong_answers():
    no_bias = run("activations.maxout_parameter_count", lambda d, m, k: k * d * m)
    no_pieces = run("activations.maxout_parameter_count", lambda d, m, k: d * m + m)
    assert no_bias.status == no_pieces.status == "wrong"
    assert no_bias.passed == 0
    # without the pieces the count is right only for one piece
    assert (no_pieces.passed, no_pieces.total) == (1, 2)
    assert failed_line(no_pieces, "maxout_parameter_count", "count", "several pieces") is not None


def test_sigmoid_chain_bound_wrong_answers():
    half = run("activations.sigmoid_chain_bound", lambda depth: 0.5 ** depth)
    one = run("activations.sigmoid_chain_bound", lambda depth: 1.0)
    assert half.status == one.status == "wrong" and half.passed == one.passed == 0
    assert failed_line(half, "sigmoid_chain_bound", "bound", "one layer") is not None
    assert "bound: expected 0.25, got 0.5" in "\n".join(half.lines)


def test_relu_zero_fraction_reference_values():
    assert act.relu_zero_fraction(0.0, 2.0) == 0.5
    assert act.relu_zero_fraction(-1.0, 1.0) == pytest.approx(0.8413447460685429, rel=1e-12)
    # a sample agrees
    z = np.random.default_rng(0).normal(-0.7, 1.3, size=400_000)
    assert np.mean(np.maximum(z, 0) == 0) == pytest.approx(act.relu_zero_fraction(-0.7, 1.3),
                                                           abs=3e-3)


def test_relu_zero_fraction_written_with_erf_passes_on_other_seeds():
    import math

    def with_erf(mean, std):
        return 0.5 * (1 + math.erf(-mean / (std * math.sqrt(2))))

    for seed in range(20):
        assert run("activations.relu_zero_fraction", with_erf, seed=seed).status == "ok", seed


def test_relu_zero_fraction_wrong_answers():
    import math

    def sign_flipped(mean, std):
        return 0.5 * (1 + math.erf(mean / (std * math.sqrt(2))))

    def always_half(mean, std):
        return 0.5

    def variance_for_std(mean, std):
        return 0.5 * math.erfc(mean / (std**2 * math.sqrt(2)))

    for wrong in (sign_flipped, always_half):
        result = run("activations.relu_zero_fraction", wrong)
        assert result.status == "wrong" and (result.passed, result.total) == (1, 3)
        assert failed_line(result, "relu_zero_fraction", "fraction", "shifted down")
        assert failed_line(result, "relu_zero_fraction", "fraction", "shifted up")
    var = run("activations.relu_zero_fraction", variance_for_std)
    assert var.status == "wrong" and var.passed == 1
    assert failed_line(var, "relu_zero_fraction", "fraction", "shifted up")


def test_sigmoid_flat_beyond_reference_values():
    import math

    x = act.sigmoid_flat_beyond(0.01)
    s = 1 / (1 + math.exp(-x))
    assert s * (1 - s) == pytest.approx(0.01 * 0.25, rel=1e-12)
    assert x == pytest.approx(2 * math.log(10 + math.sqrt(99)), rel=1e-14)   # 5.986


def test_sigmoid_flat_beyond_wrong_answers():
    import math

    def tanh_answer(ratio):                      # 1 / cosh^2(x): tanh's derivative
        return math.acosh(1 / math.sqrt(ratio))

    def forgot_the_peak(ratio):                  # solves s (1 - s) = ratio, not ratio / 4
        s = 0.5 * (1 + math.sqrt(1 - 4 * min(ratio, 0.25)))
        return math.log(s / (1 - s))

    half = run("activations.sigmoid_flat_beyond", tanh_answer)
    assert half.status == "wrong" and half.passed == 0
    assert "twice tanh's" in "\n".join(half.lines)     # the exercise's own hint, not only 1/2
    peak = run("activations.sigmoid_flat_beyond", forgot_the_peak)
    assert peak.status == "wrong" and peak.passed == 0
    assert failed_line(peak, "sigmoid_flat_beyond", "x", "one percent")


def test_not_implemented_is_reported_for_every_exercise():
    def blank(*args, **kwargs):
        raise NotImplementedError

    for exercise_id in CHAPTER2:
        result = run(exercise_id, blank)
        assert result.status == "not-implemented" and result.passed == 0 and result.total >= 2


def test_dead_units_with_a_float_tolerance_calls_a_tiny_output_dead():
    # np.isclose(h, 0) (atol 1e-8) and h < 1e-6 both pass 1e-6 as alive; the 1e-12 output catches them
    for candidate in (lambda h: np.all(np.isclose(h, 0), axis=0), lambda h: np.all(h < 1e-6, axis=0)):
        result = run("activations.dead_units", candidate)
        assert result.status == "wrong"
        assert failed_line(result, "dead_units", "mask", "tiny outputs are alive") is not None


# ---------------------------------------------------------------- chapter 2's own hints

@pytest.mark.parametrize("candidate, exercise_id, words", [
    (lambda depth: 0.5 ** depth, "activations.sigmoid_chain_bound", "1/2 * 1/2 = 1/4"),
    (lambda mean, std: 1 - act.relu_zero_fraction(mean, std), "activations.relu_zero_fraction",
     "P(z > 0)"),
    (lambda mean, std: act.relu_zero_fraction(mean / std, std), "activations.relu_zero_fraction",
     "not with the variance"),
    (lambda ratio: act.sigmoid_flat_beyond(ratio) / 2, "activations.sigmoid_flat_beyond",
     "twice tanh's"),
])
def test_classic_slips_get_their_own_hint(candidate, exercise_id, words):
    result = run(exercise_id, candidate)
    assert result.status == "wrong"
    assert any(words in hint for hint in hint_lines(result, prefix=False)), result.lines


def test_an_unrelated_slip_gets_none_of_the_exercise_hints():
    # depth - 1 factors: wrong, but not the 1/2-per-layer slip
    result = run("activations.sigmoid_chain_bound", lambda depth: 0.25 ** (depth - 1))
    assert result.status == "wrong"
    assert not any("1/2 * 1/2" in hint for hint in hint_lines(result, prefix=False))


def test_elu_forward_that_blends_the_branches_fails_on_huge_x():
    # the trap the exercise describes: 0 * inf = nan where x is huge
    def blended(x, alpha=1.0):
        mask = (x > 0).astype(x.dtype)
        with np.errstate(over="ignore", invalid="ignore"):
            return mask * x + (1 - mask) * alpha * (np.exp(x) - 1)

    result = run("activations.elu_forward", blended)
    assert result.status == "wrong"
    assert failed_line(result, "elu_forward", "out", "huge |x| and x = 0") is not None
