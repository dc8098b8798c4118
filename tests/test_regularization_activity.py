"""ActivityL1: an identity on the values whose backward adds the gradient of
lam * sum|h| / N; its penalty, a numerical gradient check, eval mode and bad input."""
import numpy as np
import pytest

from dlcore import nn
from dlcore.errors import ShapeError
from dlcore.regularization import ActivityL1


def test_penalty_and_gradient_by_hand():
    layer = ActivityL1(0.1)
    h = np.array([[1.0, -2.0, 0.0], [3.0, 0.0, -0.5]])
    np.testing.assert_array_equal(layer(h), h)
    assert layer.penalty == pytest.approx(0.1 * 6.5 / 2)          # N = 2 examples
    dout = np.ones_like(h)
    np.testing.assert_allclose(layer.backward(dout),
                               1 + 0.05 * np.array([[1, -1, 0], [1, 0, -1]]), rtol=1e-15)
    assert repr(layer) == "ActivityL1(lam=0.1)" and layer.parameters() == []


def test_backward_is_the_numerical_gradient_of_output_dot_dout_plus_penalty(rng):
    h = rng.standard_normal((5, 7))           # no entry near 0, where |h| has its kink
    h[np.abs(h) < 0.05] = 0.3
    dout = rng.standard_normal((5, 7))
    layer = ActivityL1(0.37)

    def objective(v):
        return float(np.sum(layer(v) * dout)) + layer.penalty

    num = np.zeros_like(h)
    eps = 1e-6
    for i in np.ndindex(h.shape):
        up, down = h.copy(), h.copy()
        up[i] += eps
        down[i] -= eps
        num[i] = (objective(up) - objective(down)) / (2 * eps)
    layer(h)
    got = layer.backward(dout)
    np.testing.assert_allclose(got, num, rtol=1e-7, atol=1e-9)
    assert np.max(np.abs(got - dout)) == pytest.approx(0.37 / 5)   # the penalty's part


def test_inside_a_network_the_penalty_pulls_hidden_units_to_zero(rng):
    # One SGD step on the penalty alone lowers it.
    model = nn.Sequential(nn.Linear(4, 8, rng=0, dtype=np.float64), nn.ReLU(), ActivityL1(1.0))
    x = rng.standard_normal((16, 4))
    model(x)
    before = model[2].penalty
    model.backward(np.zeros((16, 8)))
    for p in model.parameters():
        p.data -= 0.05 * p.grad
    model(x)
    assert model[2].penalty < before


def test_eval_mode_adds_nothing(rng):
    layer = ActivityL1(0.5).eval()
    h, dout = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    np.testing.assert_array_equal(layer(h), h)
    assert layer.penalty == 0.0
    np.testing.assert_array_equal(layer.backward(dout), dout)


def test_keeps_float32(rng):
    h = rng.standard_normal((4, 4)).astype(np.float32)
    layer = ActivityL1(1e-3)
    assert layer(h).dtype == layer.backward(h).dtype == np.float32


def test_bad_inputs_get_clear_errors():
    with pytest.raises(ValueError, match=r"ActivityL1: lam must be in \[0.0, inf\), got -1"):
        ActivityL1(-1)
    with pytest.raises(TypeError, match="ActivityL1: lam must be a real number, got '1e-3'"):
        ActivityL1("1e-3")
    with pytest.raises(TypeError, match="ActivityL1: input must be a floating-point array"):
        ActivityL1(0.1)(np.ones((2, 3), np.int64))
    layer = ActivityL1(0.1)
    layer(np.ones((2, 3)))
    with pytest.raises(ShapeError, match="dout must have the shape of the forward output"):
        layer.backward(np.ones((3, 2)))
    with pytest.raises(RuntimeError, match=r"backward\(\) was called before forward\(\)"):
        ActivityL1(0.1).backward(np.ones((2, 3)))
