"""Batch norm and layer norm: gradients against central differences in float64 with a
RANDOM upstream gradient, running statistics by hand and against PyTorch 2.13.0 (numbers
pasted below; torch is not imported), eval mode, the parameter/buffer contract, errors."""
import numpy as np
import pytest

from dlcore import functional as F
from dlcore import nn
from dlcore.errors import DTypeError, ShapeError
from dlcore.gradcheck import check_module, numerical_gradient_array, relative_error

TOL = 1e-7
H = 1e-5  # central-difference step (CS231n's); float64 round-off stays near 1e-10


def bn_case(rng, shape, train):
    """x (shifted and scaled so normalising does something), params, and running stats."""
    C = shape[1]
    x = 2.0 * rng.standard_normal(shape) + 1.0
    gamma, beta = rng.standard_normal(C), rng.standard_normal(C)
    hyper = {"train": train}
    if not train:
        hyper.update(running_mean=rng.standard_normal(C), running_var=rng.random(C) + 0.5)
    return x, gamma, beta, hyper


@pytest.mark.parametrize("shape", [(8, 5), (4, 3, 3, 2)], ids=["1d", "2d"])
@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
def test_batchnorm_backward_matches_numerical_gradient(shape, train, rng):
    x, gamma, beta, hyper = bn_case(rng, shape, train)
    dout = rng.standard_normal(shape)
    _out, cache = F.batchnorm_forward(x, gamma, beta, **hyper)
    dx, dgamma, dbeta = F.batchnorm_backward(dout, cache)

    def f(_):  # reads whichever array is being nudged in place
        return F.batchnorm_forward(x, gamma, beta, **hyper)[0]

    for name, analytic, wrt in (("dx", dx, x), ("dgamma", dgamma, gamma), ("dbeta", dbeta, beta)):
        err = relative_error(analytic, numerical_gradient_array(f, wrt, dout, h=H))
        assert err < TOL, (name, err)


def test_batchnorm_eval_backward_is_gamma_times_running_inv_std(rng):
    x, gamma, beta, hyper = bn_case(rng, (6, 4), train=False)
    dout = rng.standard_normal(x.shape)
    dx, _, _ = F.batchnorm_backward(dout, F.batchnorm_forward(x, gamma, beta, **hyper)[1])
    np.testing.assert_allclose(dx, gamma / np.sqrt(hyper["running_var"] + 1e-5) * dout,
                               rtol=1e-14)


def test_all_ones_dout_hides_a_wrong_batchnorm_backward(rng):
    """Why gradient checks use a random dout: with dout = 1 the true dx is ~0 (the output's
    sum does not depend on x: sum(xhat) = 0 per channel), so a backward that forgets the
    variance term agrees with the numerical gradient; a random dout exposes it."""
    x, gamma, beta, hyper = bn_case(rng, (10, 3), train=True)

    def f(_):
        return F.batchnorm_forward(x, gamma, beta, **hyper)[0]

    def wrong_dx(dout, cache):  # drops "- xhat * sum(dxhat * xhat)"
        xhat, g, inv_std, _, _ = cache
        m = xhat.shape[0]
        dxhat = dout * g
        return inv_std / m * (m * dxhat - dxhat.sum(axis=0))

    _out, cache = F.batchnorm_forward(x, gamma, beta, **hyper)
    ones = np.ones(x.shape)
    dx_ones = F.batchnorm_backward(ones, cache)[0]
    num_ones = numerical_gradient_array(f, x, ones, h=H)
    assert np.abs(dx_ones).max() < 1e-14
    assert np.abs(num_ones).max() < 1e-8
    assert np.abs(wrong_dx(ones, cache) - num_ones).max() < 1e-8  # the wrong one "passes"

    dout = rng.standard_normal(x.shape)
    num = numerical_gradient_array(f, x, dout, h=H)
    assert relative_error(F.batchnorm_backward(dout, cache)[0], num) < TOL
    assert relative_error(wrong_dx(dout, cache), num) > 1e-2  # and is caught here


@pytest.mark.parametrize("shape, normalized", [((6, 5), (5,)), ((3, 2, 3, 4), (2, 3, 4))],
                         ids=["features", "chw"])
def test_layernorm_backward_matches_numerical_gradient(shape, normalized, rng):
    x = 2.0 * rng.standard_normal(shape) - 0.5
    gamma, beta = rng.standard_normal(normalized), rng.standard_normal(normalized)
    dout = rng.standard_normal(shape)
    out, cache = F.layernorm_forward(x, gamma, beta)
    dx, dgamma, dbeta = F.layernorm_backward(dout, cache)
    axes = tuple(range(x.ndim - len(normalized), x.ndim))
    mu, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
    np.testing.assert_allclose(out, gamma * (x - mu) / np.sqrt(var + 1e-5) + beta, rtol=1e-12)

    def f(_):
        return F.layernorm_forward(x, gamma, beta)[0]

    for name, analytic, wrt in (("dx", dx, x), ("dgamma", dgamma, gamma), ("dbeta", dbeta, beta)):
        err = relative_error(analytic, numerical_gradient_array(f, wrt, dout, h=H))
        assert err < TOL, (name, err)


@pytest.mark.parametrize(
    "make, shape, train",
    [
        (lambda: nn.BatchNorm1d(5), (6, 5), True),
        (lambda: nn.BatchNorm1d(5), (6, 5), False),
        (lambda: nn.BatchNorm2d(3), (2, 3, 4, 4), True),
        (lambda: nn.BatchNorm2d(3), (2, 3, 4, 4), False),
        (lambda: nn.LayerNorm(5), (6, 5), True),
        (lambda: nn.LayerNorm((3, 4, 4)), (2, 3, 4, 4), True),
    ],
    ids=["bn1d-train", "bn1d-eval", "bn2d-train", "bn2d-eval", "ln", "ln-chw"],
)
def test_modules_pass_check_module(make, shape, train, rng):
    layer = make()
    C = layer.gamma.shape
    layer.gamma.data = rng.standard_normal(C).astype(np.float32)  # away from the ones/zeros start
    layer.beta.data = rng.standard_normal(C).astype(np.float32)
    if not train:
        layer.running_mean[:] = rng.standard_normal(C)
        layer.running_var[:] = rng.random(C) + 0.5
        layer.eval()
    errors = check_module(layer, 2 * rng.standard_normal(shape) + 1, rng=rng)
    assert set(errors) == {"input", "gamma", "beta"}
    assert max(errors.values()) < TOL, errors


def test_batchnorm_in_a_network_passes_check_module_and_zeroes_a_preceding_bias(rng):
    model = nn.Sequential(nn.Linear(4, 6, bias=False, rng=1), nn.BatchNorm1d(6), nn.Tanh(),
                          nn.Linear(6, 3, rng=2))
    errors = check_module(model, rng.standard_normal((8, 4)), rng=rng)
    assert max(errors.values()) < TOL, errors
    # A bias just before batch norm is subtracted out with the mean: its gradient is 0.
    with_bias = nn.Sequential(nn.Linear(4, 6, rng=1), nn.BatchNorm1d(6)).double()
    with_bias(rng.standard_normal((8, 4)))
    with_bias.backward(rng.standard_normal((8, 6)))
    assert np.abs(with_bias[0].b.grad).max() < 1e-13
    assert np.abs(with_bias[0].W.grad).max() > 1e-2


# --- running statistics: by hand and against PyTorch ------------------------------------
def deterministic_batch(shape, k):
    """Batch k of a fixed, seed-free sequence (the same one fed to PyTorch)."""
    n = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape)
    per_channel = 0.5 * np.arange(shape[1]).reshape((1, -1) + (1,) * (len(shape) - 2))
    return ((n * 7 + 5 * k) % 11) / 4 - 1 + per_channel


def deterministic_dout(shape):
    n = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape)
    return ((n * 5) % 7) / 3 - 1


GAMMA, BETA = np.array([0.5, 1.5, -2.0]), np.array([0.1, -0.2, 0.3])

# torch 2.13.0+cpu, float64: BatchNorm{1,2}d(3) with weight GAMMA, bias BETA, trained on
# batches 0, 1, 2; backward of sum(out * dout) at batch 2; eval on batch 3. Row 0 shown.
TORCH = {
    "1d": {
        "running_mean": [0.1569375, 0.20087500000000003, 0.257875],
        "running_var": [0.8546822916666666, 0.9016041666666667, 0.8775416666666667],
        "out": [0.7707774648658499, 1.8123323945975494, 0.9311911842824412],
        "dx": [-0.00011446470252191784, -1.2514998250226343, 0.8556721718864653],
        "dgamma": [-1.4906165885907774, 2.683109859463399, 0.9678264825664098],
        "dbeta": [-2.0, 0.0, 2.0],
        "eval": [0.01512264432246197, -1.3071882410173545, -2.8856558365929366],
    },
    "2d": {
        "running_mean": [0.08575000000000002, 0.18946875000000002, 0.33443750000000005],
        "running_var": [0.9057299107142858, 0.9073872767857143, 0.9201674107142856],
        "out": [0.7701170237571727, 0.07838332181428476, -0.6133503801286032,
                0.5971835982714507, 0.3836503110143117, -1.6915507948143522,
                1.9400511403858096, -0.1351499654428543, 3.777247718194594,
                -0.45592341699882477, 1.9630315173974147, -2.270139617796004],
        "dx": [-0.24911659516757353, 0.5658857788303153, -0.2331571517052013,
               -0.10301047683000873, 2.0855412794620998, 0.05043441204154053,
               -0.19266393065836496, -2.227770798078924, -2.690782147550849,
               0.35708007448821993, 1.1495877836429076, -1.4467781745759154],
        "dgamma": [-2.824579282933459, -1.8158009676000808, 2.24257280376318],
        "dbeta": [-1.3333333333333333, 0.6666666666666664, 0.33333333333333326],
        "eval": [0.054949213165975334, -0.4704243942278983, 0.44897941871138053,
                 -0.07639418868249306, 2.6510087386557184, 1.0763279709773266,
                 -0.49835279670106536, 2.25733854673612, -1.6088957375103674,
                 0.4760473848983895, -3.172603079316935, -1.0876599569081782],
    },
}


@pytest.mark.parametrize("kind, shape", [("1d", (4, 3)), ("2d", (2, 3, 2, 2))])
def test_three_training_steps_match_hand_computation_and_pytorch(kind, shape):
    layer = (nn.BatchNorm1d if kind == "1d" else nn.BatchNorm2d)(3, dtype=np.float64)
    layer.gamma.data[:] = GAMMA
    layer.beta.data[:] = BETA
    axes = (0,) if kind == "1d" else (0, 2, 3)
    m = int(np.prod(shape)) // 3
    mean_hand, var_hand = np.zeros(3), np.ones(3)
    for k in range(3):
        x = deterministic_batch(shape, k)
        out = layer(x)
        # By hand: momentum 0.1 on the new value, the unbiased variance in the running one.
        mean_hand = 0.9 * mean_hand + 0.1 * x.mean(axis=axes)
        var_hand = 0.9 * var_hand + 0.1 * x.var(axis=axes) * m / (m - 1)
    np.testing.assert_allclose(layer.running_mean, mean_hand, rtol=1e-14)
    np.testing.assert_allclose(layer.running_var, var_hand, rtol=1e-14)

    ref = TORCH[kind]
    np.testing.assert_allclose(layer.running_mean, ref["running_mean"], rtol=1e-13)
    np.testing.assert_allclose(layer.running_var, ref["running_var"], rtol=1e-13)
    np.testing.assert_allclose(out[0].ravel(), ref["out"], rtol=1e-12, atol=1e-14)
    dx = layer.backward(deterministic_dout(shape))
    np.testing.assert_allclose(dx[0].ravel(), ref["dx"], rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(layer.gamma.grad, ref["dgamma"], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(layer.beta.grad, ref["dbeta"], rtol=1e-12, atol=1e-14)

    layer.eval()
    x_eval = deterministic_batch(shape, 3)
    out_eval = layer(x_eval)
    np.testing.assert_allclose(out_eval[0].ravel(), ref["eval"], rtol=1e-12, atol=1e-14)
    bshape = (1, 3) + (1,) * (len(shape) - 2)
    by_hand = (GAMMA.reshape(bshape) * (x_eval - mean_hand.reshape(bshape))
               / np.sqrt(var_hand.reshape(bshape) + 1e-5) + BETA.reshape(bshape))
    np.testing.assert_allclose(out_eval, by_hand, rtol=1e-12)


def test_float32_layer_agrees_with_the_float64_numbers():
    layer = nn.BatchNorm1d(3)
    layer.gamma.data[:] = GAMMA
    layer.beta.data[:] = BETA
    for k in range(3):
        out = layer(deterministic_batch((4, 3), k).astype(np.float32))
    assert out.dtype == layer.running_mean.dtype == layer.running_var.dtype == np.float32
    np.testing.assert_allclose(layer.running_var, TORCH["1d"]["running_var"], rtol=1e-6)
    np.testing.assert_allclose(out[0], TORCH["1d"]["out"], rtol=1e-5)


def test_training_output_is_normalised_per_channel(rng):
    x = 3 * rng.standard_normal((16, 4, 5, 5)) + 7
    out = nn.BatchNorm2d(4).double()(x)
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
                               / (x.var(axis=(0, 2, 3)) + 1e-5), rtol=1e-12)


def test_eval_uses_running_statistics_not_the_batch(rng):
    layer = nn.BatchNorm1d(4).double()
    for _ in range(5):
        layer(rng.standard_normal((32, 4)) * 2 + 3)
    mean, var = layer.running_mean.copy(), layer.running_var.copy()
    layer.eval()
    x = rng.standard_normal((10, 4))
    out = layer(x)
    np.testing.assert_allclose(out, (x - mean) / np.sqrt(var + 1e-5), rtol=1e-12)
    # Each row's output is the same alone as inside the batch, and nothing is updated.
    np.testing.assert_allclose(layer(x[3:4]), out[3:4], rtol=1e-14)
    np.testing.assert_array_equal(layer.running_mean, mean)
    np.testing.assert_array_equal(layer.running_var, var)
    # Back in training, the same input is normalised by its own statistics.
    assert np.abs(layer.train()(x).mean(axis=0)).max() < 1e-12


def test_momentum_zero_freezes_and_one_replaces_the_running_statistics(rng):
    x = rng.standard_normal((5, 2))
    frozen = nn.BatchNorm1d(2, momentum=0.0).double()
    frozen(x)
    np.testing.assert_array_equal(frozen.running_mean, [0, 0])
    np.testing.assert_array_equal(frozen.running_var, [1, 1])
    latest = nn.BatchNorm1d(2, momentum=1.0).double()
    latest(x)
    np.testing.assert_allclose(latest.running_mean, x.mean(axis=0), rtol=1e-14)
    np.testing.assert_allclose(latest.running_var, x.var(axis=0, ddof=1), rtol=1e-14)


def test_functional_without_running_arrays_uses_batch_statistics_only(rng):
    x, gamma, beta = rng.standard_normal((7, 3)), np.ones(3), np.zeros(3)
    out, _ = F.batchnorm_forward(x, gamma, beta)
    np.testing.assert_allclose(out, (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5), rtol=1e-13)
    rm, rv = np.zeros(3), np.ones(3)
    F.batchnorm_forward(x, gamma, beta, running_mean=rm, running_var=rv, momentum=0.25)
    np.testing.assert_allclose(rm, 0.25 * x.mean(0), rtol=1e-14)  # updated in place
    np.testing.assert_allclose(rv, 0.75 + 0.25 * x.var(0, ddof=1), rtol=1e-14)


# --- parameters, buffers and state -----------------------------------------------------
@pytest.mark.parametrize("cls", [nn.BatchNorm1d, nn.BatchNorm2d])
def test_parameters_buffers_and_state_dict(cls):
    layer = cls(7)
    assert [name for name, _ in layer.named_parameters()] == ["gamma", "beta"]
    assert sum(p.data.size for p in layer.parameters()) == 2 * 7  # 2C learned
    assert [name for name, _ in layer.named_buffers()] == ["running_mean", "running_var"]
    assert sum(b.size for _, b in layer.named_buffers()) == 2 * 7  # 2C running
    np.testing.assert_array_equal(layer.gamma.data, np.ones(7))
    np.testing.assert_array_equal(layer.beta.data, np.zeros(7))
    np.testing.assert_array_equal(layer.running_mean, np.zeros(7))
    np.testing.assert_array_equal(layer.running_var, np.ones(7))
    assert list(layer.state_dict()) == ["gamma", "beta", "running_mean", "running_var"]
    model = nn.Sequential(nn.Linear(3, 7) if cls is nn.BatchNorm1d else nn.Flatten(), layer)
    assert [k for k in model.state_dict() if k.startswith("1.")] == [
        "1.gamma", "1.beta", "1.running_mean", "1.running_var"]
    assert repr(layer) == f"{cls.__name__}(7, eps=1e-05, momentum=0.1)"


def test_state_dict_round_trip_and_to_move_the_running_statistics(rng):
    layer = nn.BatchNorm1d(3)
    for _ in range(3):
        layer(rng.standard_normal((8, 3)).astype(np.float32))
    state = layer.state_dict()
    fresh = nn.BatchNorm1d(3)
    fresh.load_state_dict(state)
    np.testing.assert_array_equal(fresh.running_mean, layer.running_mean)
    np.testing.assert_array_equal(fresh.running_var, layer.running_var)
    x = rng.standard_normal((4, 3)).astype(np.float32)
    np.testing.assert_array_equal(fresh.eval()(x), layer.eval()(x))
    layer.to(dtype=np.float64)
    assert layer.running_mean.dtype == layer.running_var.dtype == np.float64
    np.testing.assert_allclose(layer.running_var, state["running_var"], rtol=1e-7)
    layer.train()(rng.standard_normal((4, 3)))  # the moved buffers are the ones updated
    assert not np.array_equal(layer.running_mean, state["running_mean"].astype(np.float64))
    assert layer.state_dict()["running_mean"].dtype == np.float64


def test_layernorm_is_the_same_in_training_and_eval_and_has_no_buffers(rng):
    layer = nn.LayerNorm(4).double()
    x = rng.standard_normal((3, 4)) * 5 - 2
    out = layer(x)
    np.testing.assert_allclose(layer.eval()(x), out, rtol=0)
    np.testing.assert_allclose(out.mean(axis=1), 0, atol=1e-12)
    assert list(layer.state_dict()) == ["gamma", "beta"]
    assert repr(layer) == "LayerNorm(4, eps=1e-05)"
    assert nn.LayerNorm((2, 3)).gamma.shape == (2, 3)


def test_layers_keep_float32(rng):
    x = rng.standard_normal((4, 3, 2, 2)).astype(np.float32)
    layer = nn.BatchNorm2d(3)
    out = layer(x)
    dx = layer.backward(np.ones_like(out))
    assert out.dtype == dx.dtype == layer.gamma.grad.dtype == np.float32
    ln = nn.LayerNorm((3, 2, 2))
    assert ln(x).dtype == ln.backward(x).dtype == np.float32


# --- errors ---------------------------------------------------------------------------
def test_batch_of_one_is_refused_in_training_like_pytorch():
    layer = nn.BatchNorm1d(3)
    with pytest.raises(ValueError, match=r"Expected more than 1 value per channel when "
                                         r"training, got input of shape \(1, 3\)"):
        layer(np.ones((1, 3), np.float32))
    layer.eval()
    assert layer(np.ones((1, 3), np.float32)).shape == (1, 3)  # fine at test time
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        nn.BatchNorm2d(2)(np.ones((1, 2, 1, 1), np.float32))
    assert nn.BatchNorm2d(2)(np.ones((1, 2, 2, 1), np.float32)).shape == (1, 2, 2, 1)


def test_module_input_errors_say_what_was_expected():
    with pytest.raises(ShapeError, match=r"BatchNorm1d\(3, .*\) expects input of shape "
                                         r"\(N, C\) with C = 3, got \(4, 5\)"):
        nn.BatchNorm1d(3)(np.ones((4, 5), np.float32))
    with pytest.raises(ShapeError, match=r"expects input of shape \(N, C\) with C = 3, "
                                         r"got \(4, 3, 2, 2\)"):
        nn.BatchNorm1d(3)(np.ones((4, 3, 2, 2), np.float32))
    with pytest.raises(ShapeError, match=r"BatchNorm2d\(3, .*\) expects input of shape "
                                         r"\(N, C, H, W\) with C = 3, got \(4, 3\)"):
        nn.BatchNorm2d(3)(np.ones((4, 3), np.float32))
    with pytest.raises(DTypeError, match="input has dtype float64 but gamma has dtype float32"):
        nn.BatchNorm1d(3)(np.ones((4, 3)))
    with pytest.raises(DTypeError, match="must be a floating-point array.*int64"):
        nn.BatchNorm1d(3)(np.ones((4, 3), np.int64))
    with pytest.raises(RuntimeError, match=r"backward\(\) was called before forward\(\)"):
        nn.BatchNorm1d(3).backward(np.ones((4, 3), np.float32))
    with pytest.raises(ValueError, match="num_features must be a positive integer, got 0"):
        nn.BatchNorm2d(0)
    with pytest.raises(ValueError, match=r"momentum must be in \[0.0, 1.0\], got 1.5"):
        nn.BatchNorm1d(3, momentum=1.5)
    with pytest.raises(ValueError, match=r"eps must be in \(0.0, inf\], got 0"):
        nn.BatchNorm1d(3, eps=0)
    with pytest.raises(ShapeError, match=r"LayerNorm\(4, .*\) expects input of shape "
                                         r"\(N, \.\.\., 4\), got \(2, 3\)"):
        nn.LayerNorm(4)(np.ones((2, 3), np.float32))
    with pytest.raises(DTypeError, match="input has dtype float64 but gamma has dtype float32"):
        nn.LayerNorm(3)(np.ones((2, 3)))
    with pytest.raises(ValueError, match="num_features must be a positive integer"):
        nn.LayerNorm((3, 0))
    with pytest.raises(ValueError, match="num_features must be a positive integer or a tuple"):
        nn.LayerNorm(None)


def test_backward_errors_name_the_layer():
    bn = nn.BatchNorm1d(3)
    bn(np.arange(12.0, dtype=np.float32).reshape(4, 3))
    with pytest.raises(ShapeError, match=r"BatchNorm1d\(3, .*\).backward: dout must have the "
                                         r"shape of the forward output \(4, 3\), got \(3, 4\)"):
        bn.backward(np.ones((3, 4), np.float32))
    ln = nn.LayerNorm(3)
    ln(np.ones((4, 3), np.float32))
    with pytest.raises(ShapeError, match=r"dout must have the shape of the forward output"):
        ln.backward(np.ones((4, 2), np.float32))
