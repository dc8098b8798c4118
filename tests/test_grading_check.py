"""check(): the references pass, known-wrong answers fail with the right status and sentence,
time limits hold, and the printed lines keep their documented format."""
import importlib
import re
import threading
import time

import numpy as np
import pytest
from conftest import forward_difference, hint_lines, run

from dlcore.grading import (
    EXERCISES,
    CheckResult,
    UnknownExerciseError,
    check,
    get_exercise,
    list_exercises,
)
from dlcore.grading.exercises import backprop as bp

CHAPTER1 = [
    "backprop.linear_forward",
    "backprop.linear_backward",
    "backprop.relu_backward",
    "backprop.softmax_cross_entropy",
    "backprop.numerical_gradient",
    "backprop.two_layer_loss_and_grads",
    "backprop.silu_backward",
    "backprop.gate_gradients",
]

LINE = re.compile(
    r"^(✔|✘) (\w+)  (\w+|\w+\[\"\w+\"\])(  \[[^\]]+\])?  max rel err "
    r"(\de[-+]\d+|0e\+00) \(< (\de-\d+)\)$"
)
SUMMARY = re.compile(r"^(\w+): (\d+)/(\d+) case groups passed$")


# ---------------------------------------------------------------- the references pass

def test_chapter1_is_registered():
    assert set(CHAPTER1) <= set(EXERCISES)
    assert list_exercises("backprop.") == sorted(CHAPTER1)


@pytest.mark.parametrize("exercise_id", CHAPTER1)
def test_reference_passes_every_group(exercise_id):
    ex = get_exercise(exercise_id)
    result = run(exercise_id, ex.reference)
    groups = {c.group for c in ex.cases()}
    assert result.status == "ok" and bool(result)
    assert result.passed == result.total == len(groups) >= 2
    assert len(result.errors) == len(groups) * len(ex.output_names())
    assert all(err == 0.0 for err in result.errors.values())  # same code, same numbers


@pytest.mark.parametrize("exercise_id", CHAPTER1)
def test_cases_are_seeded_and_plain(exercise_id):
    ex = get_exercise(exercise_id)
    a, b, c = ex.cases(), ex.cases(), ex.cases(seed=12345)
    first = next(x for x in a[0].args if isinstance(x, np.ndarray))
    assert np.array_equal(first, next(x for x in b[0].args if isinstance(x, np.ndarray)))
    assert not np.array_equal(first, next(x for x in c[0].args if isinstance(x, np.ndarray)))

    # Every argument is an array, a number, a tuple of them, or a module-level function
    # without closure (the grader sends its source into the sandbox, see
    # tests/test_grader_parts.py), so the grader's sandbox can rebuild the same case.
    def plain(v):
        if isinstance(v, tuple):
            return all(plain(u) for u in v)
        if callable(v):
            module = importlib.import_module(v.__module__)
            return getattr(module, v.__qualname__) is v and v.__closure__ is None
        return isinstance(v, (np.ndarray, int, float))

    for case in a:
        assert all(plain(v) for v in case.args) and all(plain(v) for v in case.kwargs.values())


def test_another_seed_still_passes_the_reference():
    result = run("backprop.two_layer_loss_and_grads", bp.two_layer_loss_and_grads, seed=7)
    assert result and result.passed == 2


# ---------------------------------------------------------------- known wrong answers fail

def test_linear_forward_without_bias():
    result = run("backprop.linear_forward", lambda x, W, b: x @ W)
    assert result.status == "wrong" and result.passed == 0 and not result
    assert all(err > 1e-3 for err in result.errors.values())


def test_linear_backward_transposed_dW():
    def candidate(dout, cache):
        x, W, _ = cache
        return dout @ W.T, dout.T @ x, dout.sum(axis=0)

    result = run("backprop.linear_backward", candidate)
    assert result.status == "wrong" and result.passed == 0
    # Non-square W: a shape sentence with the transpose hint; square W: the values are wrong.
    assert any("expected dW of shape (5, 3), got (3, 5): a transpose may be missing" in line
               for line in result.lines)
    assert result.errors[("square W", "dW")] > 0.1
    assert result.errors[("square W", "dx")] == 0.0


def test_linear_backward_missing_bias_sum():
    def candidate(dout, cache):
        x, W, _ = cache
        return dout @ W.T, x.T @ dout, dout

    result = run("backprop.linear_backward", candidate)
    assert result.status == "wrong" and result.passed == 0
    assert any("expected db of shape (5,), got (1, 5): is a sum over the batch (axis 0) missing?"
               in line for line in result.lines)


def test_relu_backward_with_ge_fails_only_at_zero():
    result = run("backprop.relu_backward", lambda dout, x: dout * (x >= 0))
    assert result.status == "wrong" and (result.passed, result.total) == (1, 2)
    assert result.errors[("random x", "dx")] == 0.0
    assert result.errors[("x exactly 0", "dx")] == pytest.approx(1.0)
    assert "✘ relu_backward  dx  [x exactly 0]  max rel err 1e+0 (< 1e-7)" in result.lines
    detail = "\n".join(result.lines)
    assert "first failing case [x exactly 0]: relu_backward(dout (5, 6) float64, cache (5, 6)" in detail
    assert "(the worst entry)" in detail and "expected 0, got" in detail


def test_relu_backward_returning_a_mask_dtype():
    result = run("backprop.relu_backward", lambda dout, x: (x > 0))
    assert result.status == "wrong"
    assert any("should have a floating-point dtype, got bool" in line for line in result.lines)


def naive_softmax_cross_entropy(logits, y):
    e = np.exp(logits)  # overflows for logits near 1000
    p = e / e.sum(axis=1, keepdims=True)
    n = len(y)
    loss = -np.mean(np.log(p[np.arange(n), y]))
    d = p.copy()
    d[np.arange(n), y] -= 1
    return float(loss), d / n


def test_unstable_softmax_is_caught_as_nan():
    with np.errstate(all="ignore"):
        result = run("backprop.softmax_cross_entropy", naive_softmax_cross_entropy)
    assert result.status == "wrong" and (result.passed, result.total) == (2, 3)
    assert result.errors[("random logits", "dlogits")] < 1e-12
    assert any(line.startswith("✘ softmax_cross_entropy  loss  [huge logits]  loss contains nan")
               for line in result.lines)
    assert any("dlogits contains nan (20 of 20 entries)" in line for line in result.lines)


def central_difference(f, x, h=1e-5):
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        fp = f(x)
        x[i] = old - h
        fm = f(x)
        x[i] = old
        grad[i] = (fp - fm) / (2 * h)
    return grad


def test_numerical_gradient_tolerance_separates_central_from_forward():
    tol = bp.NUMERICAL_GRADIENT_TOLERANCE
    good = run("backprop.numerical_gradient", central_difference)
    bad = run("backprop.numerical_gradient", forward_difference)
    assert good.status == "ok" and good.passed == 2
    assert bad.status == "wrong" and bad.passed == 0
    # Both sides by a wide margin, for this seed and another.
    assert max(good.errors.values()) < tol / 10
    assert min(bad.errors.values()) > tol * 10
    other = run("backprop.numerical_gradient", forward_difference, seed=99)
    assert min(other.errors.values()) > tol * 10


def test_numerical_gradient_must_leave_x_unchanged():
    def leaves_x_shifted(f, x, h=1e-5):
        grad = central_difference(f, x, h)
        x += 1e-3
        return grad

    result = run("backprop.numerical_gradient", leaves_x_shifted)
    assert result.status == "wrong" and result.passed == 0
    assert any("changed its input x in place" in line for line in result.lines)


def test_a_list_input_emptied_in_place_is_reported():
    reference = get_exercise("clipping.clip_by_global_norm").reference

    def empties_grads(grads, max_norm):
        answer = reference([g.copy() for g in grads], max_norm)
        grads.clear()  # a zip over before and after would see nothing to compare
        return answer

    result = run("clipping.clip_by_global_norm", empties_grads)
    assert result.status == "wrong" and result.passed == 0
    assert any("changed its input grads in place" in line for line in result.lines)


def test_input_mutation_is_reported_and_cannot_corrupt_the_reference():
    def zeroes_dout_in_place(dout, x):
        dout[x <= 0] = 0  # right values, but the caller's dout is destroyed
        return dout

    result = run("backprop.relu_backward", zeroes_dout_in_place)
    assert result.status == "wrong" and result.passed == 0
    assert "✘ relu_backward  [random x]  changed its input dout in place" in result.lines[0]
    # The registry's own case arrays are untouched.
    ex = get_exercise("backprop.relu_backward")
    assert np.array_equal(ex.cases()[0].args[0], ex.cases()[0].args[0].copy())
    assert run("backprop.relu_backward", ex.reference).status == "ok"


def test_two_layer_without_regularization_fails_only_with_reg():
    def no_reg(X, y, W1, b1, W2, b2, reg=0.0):
        return bp.two_layer_loss_and_grads(X, y, W1, b1, W2, b2, reg=0.0)

    result = run("backprop.two_layer_loss_and_grads", no_reg)
    assert result.status == "wrong" and (result.passed, result.total) == (1, 2)
    assert result.errors[("reg = 0", "loss")] == 0.0
    assert result.errors[("reg > 0", "loss")] > 1e-3
    assert result.errors[("reg > 0", 'grads["W1"]')] > 1e-3
    assert result.errors[("reg > 0", 'grads["b1"]')] == 0.0


def test_two_layer_grads_not_a_dict_and_missing_key():
    def as_list(*args, **kw):
        loss, g = bp.two_layer_loss_and_grads(*args, **kw)
        return loss, [g["W1"], g["b1"], g["W2"], g["b2"]]

    def no_b2(*args, **kw):
        loss, g = bp.two_layer_loss_and_grads(*args, **kw)
        del g["b2"]
        return loss, g

    r1 = run("backprop.two_layer_loss_and_grads", as_list)
    r2 = run("backprop.two_layer_loss_and_grads", no_b2)
    assert r1.status == r2.status == "wrong" and r1.passed == r2.passed == 0
    assert "grads should be a dict with keys 'W1', 'b1', 'W2', 'b2', got a list" in r1.lines[0]
    assert "grads is missing the key 'b2'" in r2.lines[0]


def test_loss_as_array_is_a_sentence():
    def loss_array(logits, y):
        loss, d = bp.softmax_cross_entropy(logits, y)
        return np.array([loss]), d

    result = run("backprop.softmax_cross_entropy", loss_array)
    assert result.status == "wrong"
    assert "loss should be a single number, got an array of shape (1,)" in result.lines[0]


# ---------------------------------------------------------------- non-numeric failures

def test_not_implemented():
    def relu_backward(dout, cache):
        raise NotImplementedError

    result = run("backprop.relu_backward", relu_backward)
    assert result.status == "not-implemented" and not result
    assert (result.passed, result.total) == (0, 2)
    assert result.lines == [
        "✘ relu_backward  not implemented yet: replace `raise NotImplementedError` with your code",
        "relu_backward: 0/2 case groups passed",
    ]


def test_exception_is_one_line_with_location():
    def relu_backward(dout, cache):
        return dout @ cache  # (4, 5) @ (4, 5): shapes do not fit

    result = run("backprop.relu_backward", relu_backward)
    assert result.status == "error" and result.passed == 0
    first = result.lines[0]
    assert first.startswith("✘ relu_backward  [random x]  raised ValueError: matmul")
    # the line in the learner's source (in a notebook: the line within the cell)
    assert first.endswith(f"(in relu_backward, line {relu_backward.__code__.co_firstlineno + 1})")
    assert not any("Traceback" in line for line in result.lines)


@pytest.mark.parametrize("returned, sentence", [
    (None, "returned None: is a `return` statement missing?"),
    ((1.0, 2.0), "should return 3 values (dx, dW, db), got 2"),
    ("text", "should return a tuple of 3 values (dx, dW, db), got a str"),
])
def test_wrong_return_values(returned, sentence):
    result = run("backprop.linear_backward", lambda dout, cache: returned)
    assert result.status == "wrong" and result.passed == 0
    assert result.lines[0].endswith(sentence)


def sleepy(dout, cache):
    time.sleep(30)


def test_time_limit_with_signal_in_main_thread():
    assert threading.current_thread() is threading.main_thread()
    start = time.perf_counter()
    result = run("backprop.relu_backward", sleepy, time_limit=0.2)
    elapsed = time.perf_counter() - start
    assert result.status == "timeout" and result.passed == 0 and not result
    assert elapsed < 2.0  # one case times out, the rest are skipped
    assert result.lines[0].startswith("✘ relu_backward  [random x]  did not finish within 0.2 s")


def test_time_limit_with_a_thread_elsewhere():
    box = {}
    worker = threading.Thread(
        target=lambda: box.update(r=run("backprop.relu_backward", sleepy, time_limit=0.2)))
    start = time.perf_counter()
    worker.start()
    worker.join(5)
    assert time.perf_counter() - start < 2.0
    assert box["r"].status == "timeout"


def test_default_time_limit_is_five_seconds():
    assert all(ex.time_limit == 5 for ex in EXERCISES.values())


def test_unknown_exercise_lists_known_ids():
    result = run("backprop.relu_bwd", lambda *a: None)
    assert result.status == "error" and not result and result.total == 0
    assert result.lines[0].startswith("✘ unknown exercise id 'backprop.relu_bwd'; known ids: ")
    assert all(i in result.lines[0] for i in CHAPTER1)
    with pytest.raises(UnknownExerciseError, match="known ids: .*backprop.linear_backward"):
        get_exercise("nope")


def test_candidate_must_be_callable():
    result = run("backprop.relu_backward", np.zeros(3))
    assert result.status == "error"
    assert "check needs the function itself" in result.lines[0]


# ---------------------------------------------------------------- format and result object

def test_printed_lines_follow_the_format(capsys):
    result = check("backprop.linear_backward", bp.linear_backward)
    printed = capsys.readouterr().out
    assert printed == "\n".join(result.lines) + "\n"
    *lines, summary = result.lines
    assert len(lines) == 3 * 3  # 3 groups x (dx, dW, db)
    for line in lines:
        m = LINE.match(line)
        assert m, line
        assert m.group(1) == "✔" and m.group(2) == "linear_backward" and m.group(6) == "1e-7"
    assert lines[3] == "✔ linear_backward  dx  [square W]  max rel err 0e+00 (< 1e-7)"
    assert SUMMARY.match(summary).groups() == ("linear_backward", "3", "3")


def test_failing_lines_follow_the_format():
    result = run("backprop.numerical_gradient", forward_difference)
    assert LINE.match(result.lines[0]).group(1) == "✘"
    assert result.lines[0].startswith("✘ numerical_gradient  grad  [vector x]  max rel err ")
    assert result.lines[0].endswith(" (< 1e-8)")
    assert SUMMARY.match(result.lines[-1]).groups() == ("numerical_gradient", "0", "2")


def test_single_group_lines_have_no_label():
    from dlcore.grading import Case, Exercise

    ex = Exercise("test.double", "double", lambda rng: [Case("only", (rng.standard_normal(3),))],
                  lambda x: 2 * x, ("y",))
    good, bad = run(ex, lambda x: 2 * x), run(ex, lambda x: 3 * x)
    assert good.lines == ["✔ double  y  max rel err 0e+00 (< 1e-7)", "double: 1/1 case groups passed"]
    assert bad.lines[0] == "✘ double  y  max rel err 2e-1 (< 1e-7)"


def test_result_truthiness_and_repr():
    ok = run("backprop.relu_backward", bp.relu_backward)
    bad = run("backprop.relu_backward", lambda dout, x: dout)
    assert isinstance(ok, CheckResult) and bool(ok) is True and bool(bad) is False
    assert repr(ok) == "CheckResult(backprop.relu_backward: 2/2 case groups passed, status='ok')"
    assert len(repr(bad)) < 100


def test_boolean_outputs_are_compared_as_numbers():
    from dlcore.grading.check import _compare

    mask = np.array([True, False, True])
    assert _compare("mask", mask, mask.copy(), 1e-7).error == 0.0
    wrong = _compare("mask", mask, np.array([True, True, True]), 1e-7)
    assert wrong.error == 1.0 and wrong.worst == (1,)


# ---------------------------------------------------------------- hints for classic slips

from dlcore.grading.exercises import clipping, losses
from dlcore.grading.exercises import regularization as reg


def mae_sum_gradient(pred, target):
    """The gradient of the summed absolute error, not the mean: n times too large."""
    loss, dpred = losses.mae(pred, target)
    return loss, dpred * pred.size


def mae_gradient_divided_twice(pred, target):
    loss, dpred = losses.mae(pred, target)
    return loss, dpred / pred.size


def relu_backward_sign_flipped(dout, x):
    return -bp.relu_backward(dout, x)


def linear_backward_dW_transposed(dout, cache):
    """dW transposed where the shape check cannot see it (square W); right elsewhere, so
    the square-W case is the first failing one."""
    x, W, _ = cache
    dW = x.T @ dout
    return dout @ W.T, (dW.T if W.shape[0] == W.shape[1] else dW), dout.sum(axis=0)


def bias_corrected_without_t(m, v, beta1, beta2, t):
    return m / (1 - beta1), v / (1 - beta2)


def l2_gradient_doubled(W, weight_decay):
    penalty, grad = reg.l2_penalty_and_grad(W, weight_decay)
    return penalty, 2 * grad


def test_hint_sum_for_mean_names_the_factor_and_where_it_comes_from():
    result = run("losses.mae", mae_sum_gradient)
    assert not result
    assert hint_lines(result) == [("hint: got/expected = 20 for every entry (20 = the number of "
                              "entries of pred): a sum where a mean belongs, or a missing "
                              "division by it?")]
    assert hint_lines(run("losses.mae", mae_gradient_divided_twice)) == [
        ("hint: got/expected = 1/20 for every entry (20 = the number of entries of pred): a "
         "mean where a sum belongs, or an extra division by it?")]


def test_hint_sign_flip():
    result = run("backprop.relu_backward", relu_backward_sign_flipped)
    assert hint_lines(result) == ["hint: got = -expected for every entry: a sign is flipped"]


def test_hint_transposed_weight_gradient():
    result = run("backprop.linear_backward", linear_backward_dW_transposed)
    assert result.passed == 2 and "[square W]" in "".join(result.lines)
    assert len(hint_lines(result)) == 1 and "equals the expected one transposed" in hint_lines(result)[0]


def without_own_hints(exercise_id):
    """The registered exercise with its own hints removed: what the generic hints say."""
    import dataclasses

    return dataclasses.replace(get_exercise(exercise_id), hints=())


def test_hint_factor_two():
    # chapter 8 names this slip itself ("2 lambda W ..."); the generic rule says it without that
    result = run(without_own_hints("regularization.l2_penalty_and_grad"), l2_gradient_doubled)
    assert hint_lines(result) == [("hint: got/expected = 2 for every entry: a factor 2 too many "
                              "(e.g. the 2 from d(x^2)/dx twice)?")]
    own = hint_lines(run("regularization.l2_penalty_and_grad", l2_gradient_doubled))
    assert len(own) == 1 and "lambda W" in own[0]


def test_hint_generic_constant_factor_for_a_bias_correction_without_t():
    result = run(without_own_hints("optimizers.bias_corrected"), bias_corrected_without_t)
    # the first failing case has t = 2: (1 - 0.9^2) / (1 - 0.9) = 1.9 for every entry of m_hat
    assert hint_lines(result) == [("hint: got/expected = 1.9 for every entry: right up to a constant "
                              "factor (a scale or coefficient, e.g. a bias correction 1-beta "
                              "instead of 1-beta^t)?")]
    own = hint_lines(run("optimizers.bias_corrected", bias_corrected_without_t))
    assert own == [("hint: 1 - beta instead of 1 - beta^t: the two agree only at t = 1; the "
                    "averages started at 0 are too small by the factor 1 - beta^t")]


def test_no_hint_when_the_numbers_show_no_slip():
    # forward differences: wrong by a varying amount, no constant ratio (the exercise's own
    # hint names the forward difference; no generic factor hint is claimed)
    assert [h for h in hint_lines(run("backprop.numerical_gradient", forward_difference))
            if "forward difference" not in h] == []
    # off by a factor that is constant except in one entry: not claimed
    def almost_doubled(W, weight_decay):
        penalty, grad = reg.l2_penalty_and_grad(W, weight_decay)
        grad = 2 * grad
        grad.flat[0] *= 1.001
        return penalty, grad
    assert hint_lines(run("regularization.l2_penalty_and_grad", almost_doubled)) == []
    # a symmetric matrix equals its transpose: no transpose hint for a wrong one
    from dlcore.grading.check import _slip
    e = np.array([[1.0, 2.0], [2.0, 5.0]])
    assert _slip(e, e + np.array([[0.0, 1.0], [1.0, 0.0]]), ()) is None


def test_hints_do_not_change_the_verdict_or_the_lines():
    result = run("losses.mae", mae_sum_gradient)
    assert result.passed == 0 and result.status == "wrong"
    assert all(LINE.match(line) for line in result.lines[:6])


# ---------------------------------------------------------------- lists of arrays of different shapes

def _clip_by_value_as_one_list():
    """Chapter 6's clip_by_value with its clipped list as ONE output (arrays of three shapes)."""
    from dlcore.grading import Exercise

    return Exercise("test.clip_by_value", "clip_by_value", clipping._clip_by_value_cases,
                    clipping.clip_by_value, ("clipped",))


def clip_from_above_only(grads, c):
    return [np.minimum(g, c) for g in grads]


def test_a_list_of_arrays_of_different_shapes_is_compared():
    ex = _clip_by_value_as_one_list()
    good = run(ex, clipping.clip_by_value)
    assert bool(good) and good.passed == good.total == 3
    assert all(err == 0.0 for err in good.errors.values())
    as_tuple = run(ex, lambda grads, c: tuple(np.clip(g, -c, c) for g in grads))
    assert bool(as_tuple)

    bad = run(ex, clip_from_above_only)
    assert not bad and bad.passed == 1  # only "nothing to cut" passes
    # the worst entry is named by the array it is in, then its index
    detail = [line for line in bad.lines if "the worst entry" in line]
    assert len(detail) == 1 and re.match(r"^    clipped\[\d\]\[\d+(, \d+)?\]: expected ", detail[0])


def test_a_list_of_arrays_with_a_part_missing_or_misshapen_is_a_sentence():
    ex = _clip_by_value_as_one_list()
    short = run(ex, lambda grads, c: [np.clip(g, -c, c) for g in grads[:2]])
    assert "clipped should hold 3 arrays, got 2" in short.lines[0]
    flat = run(ex, lambda grads, c: np.concatenate([np.ravel(g) for g in grads]))
    assert "clipped should be a list of 3 arrays, got an array of shape (21,)" in flat.lines[0]
    transposed = run(ex, lambda grads, c: [np.clip(g, -c, c).T for g in grads])
    assert "expected clipped[0] of shape (4, 3), got (3, 4): a transpose may be missing" \
        in transposed.lines[0]


# ---------------------------------------------------------------- an exercise's own hints

def bn_dx_without_variance_path(case, name, expected, got):
    """BN backward's dx with the path through the variance left out:
    gamma / sqrt(var + eps) * (dout - mean(dout))."""
    if name != "dx":
        return False
    dout, x, gamma = case.args
    eps = case.kwargs.get("eps", 1e-5)
    s = 1.0 / np.sqrt(x.var(axis=0) + eps)
    partial = gamma * s * (dout - dout.mean(axis=0))
    return np.allclose(got, partial, rtol=1e-6, atol=1e-12)


def raising_predicate(case, name, expected, got):
    raise RuntimeError("a broken hint")


def bn_backward_without_variance_path(dout, x, gamma, eps=1e-5):
    from dlcore.grading.exercises import batchnorm as bn

    _, dgamma, dbeta = bn.batchnorm_backward(dout, x, gamma, eps)
    s = 1.0 / np.sqrt(x.var(axis=0) + eps)
    return gamma * s * (dout - dout.mean(axis=0)), dgamma, dbeta


BN_HINT = "dx misses the path through the variance: the term - xhat * mean(dout * xhat)"


def test_an_exercises_own_hint_is_shown_when_its_predicate_holds():
    import dataclasses

    plain = get_exercise("batchnorm.batchnorm_backward")
    ex = dataclasses.replace(plain, hints=((BN_HINT, raising_predicate),
                                           (BN_HINT, bn_dx_without_variance_path)))
    result = run(ex, bn_backward_without_variance_path)
    assert not result and hint_lines(result) == [f"hint: {BN_HINT}"]
    # without hints of its own (batch norm now registers this one), no such line
    no_hints = dataclasses.replace(plain, hints=())
    assert hint_lines(run(no_hints, bn_backward_without_variance_path)) == []
    # a different slip: the predicate does not hold, so no hint is claimed
    assert hint_lines(run(ex, lambda dout, x, gamma, eps=1e-5: (
        dout, *bn_backward_without_variance_path(dout, x, gamma, eps)[1:]))) == []
    assert bool(run(ex, plain.reference))
