"""dlcore.functional: forward values at known points, every backward against central
differences in float64 with a random upstream gradient, and clear errors for bad input."""
import numpy as np
import pytest

from dlcore import functional as F
from dlcore import nn
from dlcore.errors import DTypeError, ShapeError
from dlcore.gradcheck import numerical_gradient_array, relative_error

TOL = 1e-7


def away_from_zero(rng, shape, margin=0.1):
    """Normal samples pushed at least `margin` away from 0 (kinks of the ReLU family)."""
    x = rng.standard_normal(shape)
    return np.where(np.abs(x) < margin, np.sign(x + 1e-12) * margin, x) + 0.0


ELEMENTWISE = {
    "relu": (F.relu_forward, F.relu_backward, {}),
    "leaky_relu": (F.leaky_relu_forward, F.leaky_relu_backward, {"negative_slope": 0.2}),
    "elu": (F.elu_forward, F.elu_backward, {"alpha": 1.5}),
    "sigmoid": (F.sigmoid_forward, F.sigmoid_backward, {}),
    "tanh": (F.tanh_forward, F.tanh_backward, {}),
}


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_elementwise_backward_matches_numerical_gradient(name, rng):
    forward, backward, hyper = ELEMENTWISE[name]
    x = away_from_zero(rng, (4, 5, 3))
    dout = rng.standard_normal(x.shape)
    _out, cache = forward(x, **hyper)
    dx = backward(dout, cache)
    dx_num = numerical_gradient_array(lambda x: forward(x, **hyper)[0], x, dout)
    assert relative_error(dx, dx_num) < TOL


def test_activation_values_at_known_points():
    x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])
    np.testing.assert_array_equal(F.relu_forward(x)[0], [0, 0, 0, 0.5, 2])
    np.testing.assert_allclose(F.leaky_relu_forward(x, 0.1)[0], [-0.2, -0.05, 0, 0.5, 2])
    np.testing.assert_allclose(F.elu_forward(x, 2.0)[0],
                               [2 * (np.exp(-2) - 1), 2 * (np.exp(-0.5) - 1), 0, 0.5, 2])
    np.testing.assert_allclose(F.sigmoid_forward(x)[0], 1 / (1 + np.exp(-x)), rtol=1e-15)
    np.testing.assert_allclose(F.tanh_forward(x)[0], np.tanh(x), rtol=1e-15)


def test_derivatives_at_kinks_follow_pytorch():
    x = np.zeros(3)
    dout = np.ones(3)
    assert F.relu_backward(dout, F.relu_forward(x)[1]).tolist() == [0, 0, 0]
    assert F.leaky_relu_backward(dout, F.leaky_relu_forward(x, 0.3)[1]).tolist() == [0.3] * 3
    # ELU'(0) from the left is alpha * exp(0) = alpha; PyTorch uses that branch at 0.
    assert F.elu_backward(dout, F.elu_forward(x, 1.5)[1]).tolist() == [1.5] * 3


@pytest.mark.parametrize("slope", [0.0, 0.01, 0.3, 1.0, 1.5, -0.2])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_leaky_relu_is_its_definition_bit_for_bit(slope, dtype):
    """max(x, slope x) for slopes in [0, 1] must give exactly x > 0 ? x : slope x (signed
    zeros, nan and infinities included), and the backward exactly dout or slope dout."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal(1000).astype(dtype)
    x[:5] = [0.0, -0.0, np.nan, np.inf, -np.inf]
    dout = rng.standard_normal(1000).astype(dtype)
    with np.errstate(invalid="ignore"):                 # -inf * 0 is nan in both
        out, cache = F.leaky_relu_forward(x, slope)
        expected = np.where(x > 0, x, x * slope)
    dx = F.leaky_relu_backward(dout, cache)
    assert out.dtype == dx.dtype == dtype
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(np.signbit(out), np.signbit(expected))
    np.testing.assert_array_equal(dx, np.where(x > 0, dout, dout * slope))


@pytest.mark.parametrize("alpha", [0.5, 1.0, 1.7])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_elu_and_sigmoid_are_their_two_branch_definitions_bit_for_bit(alpha, dtype):
    """ELU and sigmoid are written without numpy's `where` (slow on mixed signs); their
    values must be exactly the two-branch definitions', nan and infinities included."""
    rng = np.random.default_rng(4)
    x = (3 * rng.standard_normal(1000)).astype(dtype)
    x[:6] = [0.0, np.nan, np.inf, -np.inf, 100.0, -100.0]
    dout = rng.standard_normal(1000).astype(dtype)
    out, cache = F.elu_forward(x, alpha)
    with np.errstate(over="ignore"):
        two_branch = np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))
        e = np.exp(-np.abs(x))
        sig = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
    np.testing.assert_array_equal(out, two_branch)
    np.testing.assert_array_equal(F.elu_backward(dout, cache),
                                  np.where(x > 0, dout, dout * (two_branch + alpha)))
    np.testing.assert_array_equal(F.sigmoid(x), sig)
    assert out.dtype == F.elu_backward(dout, cache).dtype == F.sigmoid(x).dtype == dtype


def test_sigmoid_and_elu_do_not_overflow_for_large_inputs():
    x = np.array([-1000.0, 1000.0], dtype=np.float32)
    with np.errstate(over="raise", invalid="raise"):
        s, _ = F.sigmoid_forward(x)
        e, _ = F.elu_forward(x)
    assert s.tolist() == [0.0, 1.0]
    assert e.tolist() == [-1.0, 1000.0]


def test_sigmoid_largest_derivative_is_one_quarter():
    _out, cache = F.sigmoid_forward(np.array([0.0]))
    assert F.sigmoid_backward(np.array([1.0]), cache)[0] == 0.25


def test_linear_backward_matches_numerical_gradient(rng):
    x, W, b = rng.standard_normal((6, 4)), rng.standard_normal((4, 3)), rng.standard_normal(3)
    dout = rng.standard_normal((6, 3))
    out, cache = F.linear_forward(x, W, b)
    np.testing.assert_allclose(out, x @ W + b)
    dx, dW, db = F.linear_backward(dout, cache)

    def f(_):  # reads the nudged array in place
        return F.linear_forward(x, W, b)[0]

    assert relative_error(dx, numerical_gradient_array(f, x, dout)) < TOL
    assert relative_error(dW, numerical_gradient_array(f, W, dout)) < TOL
    assert relative_error(db, numerical_gradient_array(f, b, dout)) < TOL


def test_linear_without_bias_returns_no_bias_gradient(rng):
    x, W = rng.standard_normal((2, 3)), rng.standard_normal((3, 4))
    _out, cache = F.linear_forward(x, W)
    _dx, dW, db = F.linear_backward(np.ones((2, 4)), cache)
    assert db is None and dW.shape == (3, 4)


def test_maxout_backward_matches_numerical_gradient(rng):
    x = rng.standard_normal((5, 4))
    W = rng.standard_normal((4, 3, 2))
    b = rng.standard_normal((3, 2))
    dout = rng.standard_normal((5, 3))
    out, cache = F.maxout_forward(x, W, b)
    z = np.einsum("nd,dmk->nmk", x, W) + b
    np.testing.assert_allclose(out, z.max(axis=2))
    dx, dW, db = F.maxout_backward(dout, cache)

    def f(_):  # reads the nudged array in place
        return F.maxout_forward(x, W, b)[0]

    assert relative_error(dx, numerical_gradient_array(f, x, dout)) < TOL
    assert relative_error(dW, numerical_gradient_array(f, W, dout)) < TOL
    assert relative_error(db, numerical_gradient_array(f, b, dout)) < TOL


def test_maxout_gradient_reaches_only_the_winning_piece():
    x = np.array([[1.0]])
    W = np.array([[[1.0, 3.0, 2.0]]])  # the second piece wins for x = 1
    b = np.zeros((1, 3))
    _, cache = F.maxout_forward(x, W, b)
    _, dW, db = F.maxout_backward(np.array([[2.0]]), cache)
    assert dW.tolist() == [[[0.0, 2.0, 0.0]]]
    assert db.tolist() == [[0.0, 2.0, 0.0]]


def test_softmax_and_log_softmax_known_values_and_stability():
    x = np.array([[0.0, np.log(3.0)], [1000.0, 1000.0 + np.log(3.0)]])
    np.testing.assert_allclose(F.softmax(x), [[0.25, 0.75], [0.25, 0.75]], rtol=1e-12)
    np.testing.assert_allclose(F.log_softmax(x), np.log([[0.25, 0.75], [0.25, 0.75]]), rtol=1e-12)
    # log_softmax stays finite where softmax underflows to exactly 0.
    ls = F.log_softmax(np.array([0.0, -2000.0]))
    assert ls[1] == pytest.approx(-2000.0)
    assert F.softmax(np.array([[1.0, 2.0, 3.0]]), axis=0).tolist() == [[1.0, 1.0, 1.0]]


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_elementwise_ops_keep_float32(name, rng):
    forward, backward, hyper = ELEMENTWISE[name]
    x = rng.standard_normal((3, 3)).astype(np.float32)
    out, cache = forward(x, **hyper)
    assert out.dtype == np.float32
    assert backward(np.ones_like(out), cache).dtype == np.float32


def test_linear_and_maxout_keep_float32(rng):
    x = rng.standard_normal((3, 4)).astype(np.float32)
    W = rng.standard_normal((4, 2)).astype(np.float32)
    b = np.zeros(2, np.float32)
    out, cache = F.linear_forward(x, W, b)
    assert out.dtype == np.float32
    assert all(g.dtype == np.float32 for g in F.linear_backward(np.ones_like(out), cache))
    out, cache = F.maxout_forward(x, W.reshape(4, 1, 2), b.reshape(1, 2))
    assert out.dtype == np.float32
    assert all(g.dtype == np.float32 for g in F.maxout_backward(np.ones_like(out), cache))


# -- errors: functional is bare math, so bad input is refused at the door (nn) --------------


def test_linear_shape_mismatch_says_what_was_expected():
    layer = nn.Linear(4, 2)
    with pytest.raises(ShapeError, match=r"Linear\(in_features=4, .*\) expects input of shape "
                                         r"\(N, 4\), got \(5, 3\)"):
        layer(np.ones((5, 3), np.float32))
    with pytest.raises(ShapeError, match=r"input must have 2 dimensions, got shape \(5, 4, 1\)"):
        layer(np.ones((5, 4, 1), np.float32))


def test_integer_input_is_refused_with_a_hint():
    with pytest.raises(DTypeError, match=r"ReLU: input must be a floating-point array.*got "
                                         r"dtype int64; convert it with input.astype"):
        nn.ReLU()(np.arange(4))
    with pytest.raises(DTypeError, match="floating-point"):
        nn.Linear(2, 2)(np.ones((2, 2), dtype=np.int32))
    with pytest.raises(TypeError, match="must be a numpy \\(or cupy\\) array, got list"):
        nn.Sigmoid()([1.0, 2.0])


def test_mixed_dtypes_are_refused():
    with pytest.raises(DTypeError, match="input has dtype float64 but W has dtype float32"):
        nn.Linear(2, 2)(np.ones((2, 2)))


def test_backward_with_wrong_dout_shape_is_refused(rng):
    relu = nn.ReLU()
    relu(rng.standard_normal((3, 4)))
    with pytest.raises(ShapeError, match=r"ReLU\(\).backward: dout must have the shape of the "
                                         r"forward output \(3, 4\), got \(4, 3\)"):
        relu.backward(np.ones((4, 3)))
    layer = nn.Linear(4, 2)
    layer(np.ones((3, 4), np.float32))
    with pytest.raises(ShapeError, match=r"dout must have the shape of the forward output "
                                         r"\(3, 2\), got \(2, 3\)"):
        layer.backward(np.ones((2, 3), np.float32))
    with pytest.raises(ShapeError, match=r"got \(2, 3\)"):
        layer.backward_params(np.ones((2, 3), np.float32))


def test_maxout_shape_errors():
    with pytest.raises(ShapeError, match=r"Maxout\(.*\) expects input of shape \(N, 4\), "
                                         r"got \(1, 5\)"):
        nn.Maxout(4, 3, 2)(np.ones((1, 5), np.float32))


def test_hyperparameters_out_of_range():
    with pytest.raises(ValueError, match=r"alpha must be in \[0.0, inf\], got -1"):
        nn.ELU(alpha=-1)
    with pytest.raises(TypeError, match="negative_slope must be a real number"):
        nn.LeakyReLU(negative_slope="0.1")


def test_functional_is_the_math_alone():
    """No module of dlcore.functional checks its input or raises: that is the door's job."""
    import ast
    from pathlib import Path

    import dlcore.functional

    folder = Path(dlcore.functional.__file__).parent
    for path in sorted(folder.glob("*.py")):
        tree = ast.parse(path.read_text())
        raises = [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Raise)]
        imports = [alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                   for alias in node.names if alias.name in ("_checks", "errors")]
        imports += [node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                    and node.module and node.module.split(".")[-1] in ("_checks", "errors")]
        assert not raises and not imports, f"{path.name}: raise at {raises}, imports {imports}"
