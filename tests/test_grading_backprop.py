"""Chapter 1's derivation exercises (SiLU backward, gate routing): the references agree with
finite differences, and the classic wrong derivations fail in the right case group."""
import numpy as np
import pytest
from conftest import failed_line, forward_difference, hint_lines, run

from dlcore.gradcheck import numerical_gradient_array, relative_error
from dlcore.grading import list_exercises
from dlcore.grading.exercises import backprop as bp


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def test_new_exercises_are_registered():
    assert {"backprop.silu_backward", "backprop.gate_gradients"} <= set(list_exercises("backprop."))


# ---------------------------------------------------------------- silu_backward

def test_silu_backward_agrees_with_finite_differences():
    rng = np.random.default_rng(0)
    x, dout = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    numeric = numerical_gradient_array(lambda v: v * _sigmoid(v), x.copy(), dout)
    assert relative_error(bp.silu_backward(dout, x), numeric) < 1e-7
    # the limits the notebook asks the learner to predict: 1 for x >> 0, 0 for x << 0
    assert bp.silu_backward(np.ones(2), np.array([40.0, -40.0])) == pytest.approx([1.0, 0.0],
                                                                                  abs=1e-14)


def test_silu_backward_wrong_derivations():
    def gate_as_constant(dout, x):                 # d(x s)/dx = s: no product rule
        return dout * _sigmoid(x)

    def only_the_gate_term(dout, x):               # x s (1 - s): the first term dropped
        s = _sigmoid(x)
        return dout * x * s * (1 - s)

    def x_dropped(dout, x):                        # s + s (1 - s)
        s = _sigmoid(x)
        return dout * (s + s * (1 - s))

    for wrong in (gate_as_constant, only_the_gate_term, x_dropped):
        result = run("backprop.silu_backward", wrong)
        assert result.status == "wrong", wrong.__name__
        assert failed_line(result, "silu_backward", "dx", "random x"), wrong.__name__


# ---------------------------------------------------------------- gate_gradients

def test_gate_gradients_agree_with_finite_differences():
    rng = np.random.default_rng(1)
    x, y, dout = (rng.standard_normal((2, 3)) for _ in range(3))
    z = y + rng.uniform(0.2, 1.0, size=(2, 3)) * rng.choice([-1.0, 1.0], size=(2, 3))
    dx, dy, dz = bp.gate_gradients(x, y, z, dout)
    f = [lambda v: (v + y) * np.maximum(y, z), lambda v: (x + v) * np.maximum(v, z),
         lambda v: (x + y) * np.maximum(y, v)]
    for got, fn, v in zip((dx, dy, dz), f, (x, y, z)):
        assert relative_error(got, numerical_gradient_array(fn, v.copy(), dout)) < 1e-7
    # the notebook's question: x = 1, y = 2, z = 3 -> max routes to z, so only dy's max path is 0
    one = np.ones(1)
    assert [g.item() for g in bp.gate_gradients(one, 2 * one, 3 * one, one)] == [3.0, 3.0, 3.0]
    assert [g.item() for g in bp.gate_gradients(one, 3 * one, 2 * one, one)] == [3.0, 7.0, 0.0]


def test_gate_gradients_wrong_routing():
    def no_fork_sum(x, y, z, dout):                # y's path through the max is lost
        m = np.maximum(y, z)
        return dout * m, dout * m, np.where(z > y, dout * (x + y), 0.0)

    def max_to_both(x, y, z, dout):                # the max gate treated like an add gate
        m = np.maximum(y, z)
        return dout * m, dout * m + dout * (x + y), dout * (x + y)

    def multiply_as_add(x, y, z, dout):            # the multiply gate passes dout unchanged
        return dout, dout + np.where(y > z, dout, 0.0), np.where(z > y, dout, 0.0)

    fork = run("backprop.gate_gradients", no_fork_sum)
    assert fork.status == "wrong"
    assert fork.errors[("random inputs", "dx")] == 0.0
    assert failed_line(fork, "gate_gradients", "dy", "random inputs")
    both = run("backprop.gate_gradients", max_to_both)
    assert both.status == "wrong" and both.passed == 0
    assert failed_line(both, "gate_gradients", "dz", "random inputs")
    add = run("backprop.gate_gradients", multiply_as_add)
    assert add.status == "wrong" and add.passed == 0
    assert failed_line(add, "gate_gradients", "dx", "random inputs")


def test_not_implemented_is_reported():
    def blank(*args, **kwargs):
        raise NotImplementedError

    for exercise_id in ("backprop.silu_backward", "backprop.gate_gradients"):
        result = run(exercise_id, blank)
        assert result.status == "not-implemented" and result.passed == 0 and result.total >= 2


# ---------------------------------------------------------------- chapter 1's own hints

def _two_layer(decay_factor=1.0, relu_mask=True):
    def grads(X, y, W1, b1, W2, b2, reg=0.0):
        loss, g = bp.two_layer_loss_and_grads(X, y, W1, b1, W2, b2, reg=reg)
        g = dict(g)
        g["W1"] = g["W1"] + (decay_factor - 1) * reg * W1
        g["W2"] = g["W2"] + (decay_factor - 1) * reg * W2
        if not relu_mask:
            z1 = X @ W1 + b1
            _, dscores = bp.softmax_cross_entropy(np.maximum(z1, 0) @ W2 + b2, y)
            da1 = dscores @ W2.T
            g["W1"], g["b1"] = X.T @ da1 + reg * W1, da1.sum(axis=0)
        return loss, g
    return grads


@pytest.mark.parametrize("candidate, exercise_id, words", [
    (forward_difference, "backprop.numerical_gradient", "forward difference"),
    (_two_layer(decay_factor=2.0), "backprop.two_layer_loss_and_grads", "not 2 reg * W"),
    (_two_layer(decay_factor=0.0), "backprop.two_layer_loss_and_grads", "is missing"),
    (_two_layer(relu_mask=False), "backprop.two_layer_loss_and_grads", "without the ReLU"),
    (lambda dout, x: dout * _sigmoid(x), "backprop.silu_backward", "product rule adds"),
    (lambda dout, x: dout * (_sigmoid(x) + _sigmoid(x) * (1 - _sigmoid(x))),
     "backprop.silu_backward", "with x"),
    (lambda x, y, z, d: (d * np.maximum(y, z), d * np.maximum(y, z), d * (x + y) * (z > y)),
     "backprop.gate_gradients", "sum of both paths"),
    (lambda x, y, z, d: (d * np.maximum(y, z), d * np.maximum(y, z) + d * (x + y), d * (x + y)),
     "backprop.gate_gradients", "larger one only"),
])
def test_classic_slips_get_their_own_hint(candidate, exercise_id, words):
    result = run(exercise_id, candidate)
    assert result.status == "wrong"
    assert any(words in hint for hint in hint_lines(result, prefix=False)), result.lines


def test_a_right_answer_or_an_unrelated_slip_gets_no_exercise_hint():
    # the reference itself: no failure, no hint; a sign flip in SiLU: none of SiLU's hints
    assert not hint_lines(run("backprop.silu_backward", bp.silu_backward), prefix=False)
    flipped = run("backprop.silu_backward", lambda dout, x: -bp.silu_backward(dout, x))
    assert flipped.status == "wrong"
    assert not any("product rule" in h for h in hint_lines(flipped, prefix=False))
