"""dlcore.nn: module gradients against numerical ones, the Module contract, and errors."""
import numpy as np
import pytest

from dlcore import nn
from dlcore.errors import DTypeError, ShapeError
from dlcore.gradcheck import check_module

TOL = 1e-7


def nudged(rng, shape, margin=0.1):
    x = rng.standard_normal(shape)
    return np.where(np.abs(x) < margin, margin, x)


@pytest.mark.parametrize(
    "make",
    [
        lambda: nn.Linear(4, 3, rng=0),
        lambda: nn.Linear(4, 3, bias=False, rng=0),
        lambda: nn.Maxout(4, 3, pieces=2, rng=0),
        lambda: nn.ReLU(),
        lambda: nn.LeakyReLU(0.2),
        lambda: nn.ELU(0.7),
        lambda: nn.Sigmoid(),
        lambda: nn.Tanh(),
    ],
    ids=["linear", "linear-nobias", "maxout", "relu", "leaky", "elu", "sigmoid", "tanh"],
)
def test_every_module_passes_check_module(make, rng):
    errors = check_module(make(), nudged(rng, (5, 4)), rng=rng)
    assert errors, "check_module returned no errors to look at"
    assert max(errors.values()) < TOL, errors


def test_deep_sequential_passes_check_module(rng):
    model = nn.Sequential(
        nn.Linear(6, 8, rng=1), nn.Tanh(), nn.Linear(8, 8, rng=2), nn.Sigmoid(),
        nn.Linear(8, 5, rng=3), nn.ELU(), nn.Linear(5, 3, rng=4),
    )
    errors = check_module(model, rng.standard_normal((4, 6)), rng=rng)
    assert set(errors) == {"input", "0.W", "0.b", "2.W", "2.b", "4.W", "4.b", "6.W", "6.b"}
    assert max(errors.values()) < TOL, errors


def test_flatten_round_trips_shapes(rng):
    x = rng.standard_normal((2, 3, 4, 5))
    flat = nn.Flatten()
    y = flat(x)
    assert y.shape == (2, 60)
    np.testing.assert_array_equal(flat.backward(y), x)


def test_parameter_gradients_accumulate_until_zero_grad(rng):
    layer = nn.Linear(3, 2, rng=0)
    x = rng.standard_normal((4, 3)).astype(np.float32)
    dout = np.ones((4, 2), np.float32)
    layer(x)
    layer.backward(dout)
    once = layer.W.grad.copy()
    layer(x)
    layer.backward(dout)
    np.testing.assert_allclose(layer.W.grad, 2 * once, rtol=1e-6)
    np.testing.assert_allclose(once, x.T @ dout, rtol=1e-6)
    layer.zero_grad()
    assert not layer.W.grad.any() and not layer.b.grad.any()


def test_named_parameters_follow_registration_order():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Maxout(3, 2, 2), nn.Linear(2, 1, bias=False))
    names = [name for name, _ in model.named_parameters()]
    assert names == ["0.W", "0.b", "2.W", "2.b", "3.W"]
    assert [p.shape for p in model.parameters()] == [(2, 3), (3,), (3, 2, 2), (2, 2), (2, 1)]


def test_shared_parameters_are_listed_once():
    a = nn.Linear(2, 2)
    model = nn.Sequential(a, nn.ReLU(), a)
    assert len(model.parameters()) == 2


def test_train_and_eval_reach_every_submodule():
    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.ReLU(), nn.Linear(2, 2)))
    assert model.eval() is model
    assert [m.training for m in model.modules()] == [False] * 5
    model.train()
    assert all(m.training for m in model.modules())


def test_state_dict_round_trip_restores_outputs(rng):
    src = nn.Sequential(nn.Linear(3, 4, rng=1), nn.ReLU(), nn.Linear(4, 2, rng=2))
    dst = nn.Sequential(nn.Linear(3, 4, rng=5), nn.ReLU(), nn.Linear(4, 2, rng=6))
    x = rng.standard_normal((5, 3)).astype(np.float32)
    state = src.state_dict()
    dst.load_state_dict(state)
    np.testing.assert_array_equal(dst(x), src(x))
    state["0.W"][:] = 0  # the dict holds copies: editing it leaves both models alone
    assert src[0].W.data.any() and dst[0].W.data.any()


def test_load_state_dict_reports_bad_keys_and_shapes():
    model = nn.Sequential(nn.Linear(3, 4))
    with pytest.raises(KeyError, match=r"missing keys \['0.b'\], unexpected keys \['0.bias'\]"):
        model.load_state_dict({"0.W": np.zeros((3, 4)), "0.bias": np.zeros(4)})
    with pytest.raises(ShapeError, match=r"0.W has shape \(3, 4\) in the model but \(4, 3\)"):
        model.load_state_dict({"0.W": np.zeros((4, 3)), "0.b": np.zeros(4)})
    # strict=False loads what is shared, but a state dict that shares nothing is refused
    before = model[0].W.data.copy()
    with pytest.raises(KeyError, match=r"no key of the state dict matches.*0.weight"):
        model.load_state_dict({"0.weight": np.ones((4, 3))}, strict=False)
    np.testing.assert_array_equal(model[0].W.data, before)
    model.load_state_dict({"0.W": np.ones((3, 4)), "9.W": np.ones(2)}, strict=False)
    np.testing.assert_array_equal(model[0].W.data, np.ones((3, 4)))


def test_to_dtype_casts_parameters_and_gradients():
    model = nn.Sequential(nn.Linear(3, 4)).to(dtype=np.float64)
    assert model[0].W.data.dtype == np.float64 and model[0].W.grad.dtype == np.float64
    with pytest.raises(DTypeError, match="dtype must be a float type, got int32"):
        model.to(dtype=np.int32)


def test_linear_init_statistics():
    n_in, n_out = 400, 500
    he = nn.Linear(n_in, n_out, rng=0).W.data
    assert he.std() == pytest.approx(np.sqrt(2 / n_in), rel=0.01)
    xav = nn.Linear(n_in, n_out, init="xavier", rng=0).W.data
    bound = np.sqrt(6 / (n_in + n_out))
    assert np.abs(xav).max() <= bound and np.abs(xav).max() > 0.99 * bound
    torch_like = nn.Linear(n_in, n_out, init="pytorch", rng=0)
    assert np.abs(torch_like.b.data).max() <= 1 / np.sqrt(n_in)
    assert np.abs(torch_like.b.data).max() > 0.9 / np.sqrt(n_in)
    assert not nn.Linear(n_in, n_out, rng=0).b.data.any()  # zero bias by default


def test_same_seed_gives_same_layer_and_int_seed_does_not_reuse_the_stream():
    a, b = nn.Linear(5, 5, init="pytorch", rng=3), nn.Linear(5, 5, init="pytorch", rng=3)
    np.testing.assert_array_equal(a.W.data, b.W.data)
    # W and b come from one stream: the bias is not a copy of W's first draws.
    assert not np.allclose(a.b.data, a.W.data.reshape(-1)[:5])


def test_sequential_names_the_layer_that_refused_the_input():
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(6, 2))
    with pytest.raises(ShapeError, match=r"Sequential layer 2: .*Linear\(in_features=6.*"
                                         r"expects input of shape \(N, 6\), got \(3, 8\)"):
        model(np.ones((3, 4), np.float32))


def test_module_errors_say_what_was_expected():
    layer = nn.Linear(4, 2)
    with pytest.raises(DTypeError, match="input has dtype float64 but W has dtype float32"):
        layer(np.ones((3, 4)))
    with pytest.raises(DTypeError, match="must be a floating-point array.*int64"):
        layer(np.ones((3, 4), dtype=np.int64))
    with pytest.raises(RuntimeError, match=r"backward\(\) was called before forward\(\)"):
        nn.Linear(4, 2).backward(np.ones((3, 2), np.float32))
    with pytest.raises(ValueError, match="in_features must be a positive integer, got 0"):
        nn.Linear(0, 2)
    with pytest.raises(ValueError, match="init must be one of"):
        nn.Linear(2, 2, init="glorot")
    with pytest.raises(TypeError, match="argument 1 must be a Module, got ufunc"):
        nn.Sequential(nn.ReLU(), np.tanh)


def test_subclass_that_forgets_super_init_gets_told():
    class Broken(nn.Module):
        def __init__(self):
            self.layer = nn.Linear(2, 2)

    with pytest.raises(RuntimeError, match=r"must call super\(\).__init__\(\)"):
        Broken()


def test_backward_without_input_grad_gives_the_same_parameter_gradients(rng):
    def make(**kw):
        return nn.Sequential(nn.Linear(5, 4, rng=1), nn.ReLU(), nn.Linear(4, 3, rng=2), **kw)

    x = rng.standard_normal((6, 5)).astype(np.float32)
    dout = rng.standard_normal((6, 3)).astype(np.float32)
    full, params_only = make(input_grad=True), make()
    full(x)
    dx = full.backward(dout)
    params_only(x)
    assert params_only.backward(dout) is None  # the input is data by default
    assert dx.shape == x.shape
    np.testing.assert_allclose(dx, (dout @ full[2].W.data.T) * (full[0](x) > 0)
                               @ full[0].W.data.T, rtol=1e-5)
    for (name, a), (_, b) in zip(full.named_parameters(), params_only.named_parameters()):
        np.testing.assert_array_equal(a.grad, b.grad, err_msg=name)
    # backward_params is the same for any module: a nested Sequential, or an activation first
    nested = nn.Sequential(nn.Sequential(nn.Tanh(), make()))
    nested(x)
    assert nested.backward_params(dout) is None
    assert nested[0][1][0].W.grad.any()


def test_a_sequential_after_another_module_returns_its_input_gradient(rng):
    inner = nn.Sequential(nn.Linear(4, 3, rng=2), nn.Tanh())
    assert inner.input_grad is False
    model = nn.Sequential(nn.Linear(5, 4, rng=1), inner)
    assert inner.input_grad is True  # its input is an activation, so the outer layer gets dx
    errors = check_module(model, rng.standard_normal((3, 5)), rng=rng)
    assert max(errors.values()) < TOL, errors
    # chaining two models by hand: the one whose input is data returns None, and says so
    head = nn.Sequential(nn.Linear(3, 2, rng=3))
    feats = model(rng.standard_normal((3, 5)).astype(np.float32))
    head(feats)
    with pytest.raises(TypeError, match="dout is None.*input_grad = True"):
        model.backward(head.backward(np.ones((3, 2), np.float32)))


def test_a_nested_sequential_first_gives_its_input_gradient_when_the_outer_one_asks(rng):
    # the inner model was built with input_grad=False (its input is data), but inside an
    # outer model that wants the input gradient it must be run through to its input
    inner = nn.Sequential(nn.Linear(5, 4, rng=1), nn.Tanh())
    model = nn.Sequential(inner, nn.Linear(4, 2, rng=2), input_grad=True)
    x = rng.standard_normal((3, 5))
    model.to(dtype=np.float64)
    model(x)
    dx = model.backward(np.ones((3, 2)))
    assert dx is not None and dx.shape == (3, 5)
    errors = check_module(model, x, rng=rng)
    assert max(errors.values()) < TOL, errors
    assert inner.input_grad is False  # the inner model itself was not changed


# -- freezing ---------------------------------------------------------------------------


def test_frozen_parameters_get_no_gradient_but_the_input_gradient_still_flows(rng):
    from dlcore.optim import SGD

    model = nn.Sequential(nn.Linear(4, 3, rng=1), nn.ReLU(), nn.BatchNorm1d(3),
                          nn.Linear(3, 2, rng=2), input_grad=True)
    assert model[3].freeze() is model[3]  # chainable
    model[2].freeze()
    x = rng.standard_normal((5, 4)).astype(np.float32)
    dout = rng.standard_normal((5, 2)).astype(np.float32)
    before = {n: p.data.copy() for n, p in model.named_parameters()}
    model(x)
    dx = model.backward(dout)
    assert not model[3].W.grad.any() and not model[2].gamma.grad.any()
    assert model[0].W.grad.any() and dx.shape == x.shape
    reference = nn.Sequential(nn.Linear(4, 3, rng=1), nn.ReLU(), nn.BatchNorm1d(3),
                              nn.Linear(3, 2, rng=2), input_grad=True)
    reference(x)
    np.testing.assert_array_equal(dx, reference.backward(dout))  # freezing changes no dx
    np.testing.assert_array_equal(model[0].W.grad, reference[0].W.grad)
    SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=0.1).step()
    for n, p in model.named_parameters():
        moved = not np.array_equal(p.data, before[n])
        assert moved == n.startswith("0."), n
    assert [p.requires_grad for p in model.unfreeze().parameters()] == [True] * 6
    backbone = model[:2].freeze()  # a slice shares the modules, as in PyTorch
    assert isinstance(backbone, nn.Sequential) and backbone[0] is model[0]
    assert [p.requires_grad for p in model.parameters()] == [False, False, True, True, True, True]
    assert "requires_grad=False" in repr(nn.Linear(2, 2).freeze().W)


def test_backward_stops_at_the_lowest_layer_that_trains(rng):
    calls = []

    class Spy(nn.Tanh):
        def backward(self, dout):
            calls.append(len(dout))
            return super().backward(dout)

    model = nn.Sequential(nn.Linear(4, 5, rng=1), Spy(), nn.Linear(5, 3, rng=2), Spy(),
                          nn.Linear(3, 2, rng=3))
    x = rng.standard_normal((6, 4)).astype(np.float32)
    dout = rng.standard_normal((6, 2)).astype(np.float32)
    model(x)
    model.backward(dout)
    assert calls == [6, 6]  # everything trains: both activations pass the gradient down
    full = [p.grad.copy() for p in model.parameters()]
    model.zero_grad()
    calls.clear()
    model[:2].freeze()
    model(x)
    assert model.backward(dout) is None
    assert calls == [6]  # the frozen first layer and the activation above it are skipped
    grads = [p.grad for p in model.parameters()]
    assert not grads[0].any() and not grads[1].any()
    for a, b in zip(full[2:], grads[2:]):
        np.testing.assert_array_equal(a, b)  # the layers that train get the same gradients
    model.freeze().zero_grad()
    model(x)
    calls.clear()
    model.backward(dout)
    assert calls == [] and not any(p.grad.any() for p in model.parameters())


def test_fit_trains_only_the_unfrozen_layers(rng):
    from dlcore.losses import CrossEntropyLoss
    from dlcore.optim import Adam
    from dlcore.train import fit

    X = rng.standard_normal((40, 4)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    model = nn.Sequential(nn.Linear(4, 8, rng=1), nn.ReLU(), nn.Linear(8, 2, rng=2))
    model[0].freeze()
    frozen = model[0].W.data.copy()
    head = model[2].W.data.copy()
    fit(model, CrossEntropyLoss(), Adam(model.parameters(), lr=0.01), (X, y), epochs=2,
        batch_size=8, progress=False, rng=0)
    np.testing.assert_array_equal(model[0].W.data, frozen)
    assert np.abs(model[2].W.data - head).max() > 1e-3


# -- saving and loading ------------------------------------------------------------------


def _small_net(seed):
    return nn.Sequential(nn.Linear(3, 4, rng=seed), nn.BatchNorm1d(4), nn.ReLU(),
                         nn.Linear(4, 2, rng=seed + 1))


def test_state_dict_round_trips_through_an_npz_file(tmp_path, rng):
    import dlcore

    src, dst = _small_net(1), _small_net(7)
    src(rng.standard_normal((6, 3)).astype(np.float32))  # moves the running statistics
    path = dlcore.save(src, tmp_path / "net")
    assert path.endswith("net.npz")
    state = dlcore.load(tmp_path / "net")
    assert list(state) == ["0.W", "0.b", "1.gamma", "1.beta", "3.W", "3.b",
                           "1.running_mean", "1.running_var"]
    assert dst.load(path) is dst
    x = rng.standard_normal((5, 3)).astype(np.float32)
    np.testing.assert_array_equal(src.eval()(x), dst.eval()(x))
    np.testing.assert_array_equal(dst[1].running_var, src[1].running_var)
    src.save(tmp_path / "again.npz")
    np.testing.assert_array_equal(dlcore.load(tmp_path / "again.npz")["3.W"], src[3].W.data)


def test_a_bad_state_dict_changes_nothing_and_names_the_key(tmp_path):
    import dlcore

    model = _small_net(1)
    before = {k: v.copy() for k, v in model.state_dict().items()}
    bad = _small_net(5).state_dict()
    bad["3.W"] = np.zeros((4, 3), np.float32)  # 3.W is the last parameter: all else fits
    with pytest.raises(ShapeError, match=r"3\.W has shape \(4, 2\) in the model but "
                                         r"\(4, 3\) in the state dict"):
        model.load_state_dict(bad)
    missing = _small_net(5).state_dict()
    del missing["1.running_var"]
    missing["extra"] = np.zeros(1)
    dlcore.save(missing, tmp_path / "m.npz")
    with pytest.raises(KeyError, match=r"missing keys \['1.running_var'\], unexpected keys "
                                       r"\['extra'\]"):
        model.load(tmp_path / "m.npz")
    for k, v in model.state_dict().items():  # never half-loaded
        np.testing.assert_array_equal(v, before[k], err_msg=k)
    del missing["extra"]
    model.load_state_dict(missing, strict=False)  # loads what both share
    np.testing.assert_array_equal(model[0].W.data, _small_net(5)[0].W.data)
    np.testing.assert_array_equal(model[1].running_var, before["1.running_var"])
