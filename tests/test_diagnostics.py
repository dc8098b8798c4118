"""dlcore.diagnostics: hand-built networks whose statistics are known in closed form."""
import numpy as np
import pytest

from dlcore import diagnostics as D
from dlcore import losses, nn
from dlcore.errors import DTypeError, ShapeError


def _set(layer, W, b=None):
    layer.W.data = np.asarray(W, dtype=np.float64)
    layer.W.grad = np.zeros_like(layer.W.data)
    if b is not None:
        layer.b.data = np.asarray(b, dtype=np.float64)
        layer.b.grad = np.zeros_like(layer.b.data)


def _dead_net(activation):
    """Linear(3, 5) + activation + Linear(5, 2) on inputs x in [0.1, 1]^3, except x[0].

    Units 0 and 3: weights -1, bias -0.1: negative for every input -> dead.
    Units 1, 2: positive weights and bias: always active.
    Unit 4: 5 x0 - 3 x1 - 3 x2 - 2 > 0 only for x[0] = (5, 0.1, 0.1) -> alive, barely.
    """
    rng = np.random.default_rng(0)
    x = rng.uniform(0.1, 1.0, size=(20, 3))
    x[0] = [5.0, 0.1, 0.1]
    lin = nn.Linear(3, 5, dtype=np.float64)
    W = np.array([[-1, 1.0, 0.5, -1, 1],
                  [-1, 0.5, 0.2, -1, -3],
                  [-1, 0.2, 1.0, -1, -3]])
    _set(lin, W, [-0.1, 0.1, 0.1, -0.1, -2.0])
    model = nn.Sequential(lin, activation, nn.Linear(5, 2, dtype=np.float64, rng=1))
    return model, x


@pytest.mark.parametrize("activation", [nn.ReLU(), nn.LeakyReLU(0.1), nn.ELU()],
                         ids=["relu", "leaky_relu", "elu"])
def test_hand_built_dead_units(activation):
    model, x = _dead_net(activation)
    masks = D.dead_units(model, x)
    assert list(masks) == [1]
    np.testing.assert_array_equal(masks[1], [True, False, False, True, False])
    report = D.layer_report(model, x)
    assert report[1].dead_fraction == pytest.approx(0.4)
    assert report[0].dead_fraction is None and report[2].dead_fraction is None
    # without the one example that wakes unit 4, it is dead too
    np.testing.assert_array_equal(D.dead_units(model, x[1:])[1],
                                  [True, False, False, True, True])
    assert D.layer_report(model, x[1:])[1].dead_fraction == pytest.approx(0.6)


def test_relu_dead_means_output_zero_for_every_input():
    model, x = _dead_net(nn.ReLU())
    out = D.activations(model, x)[1]
    np.testing.assert_array_equal(D.dead_units(model, x)[1], np.all(out == 0, axis=0))


def test_saturated_fraction_of_hand_set_tanh_and_sigmoid_inputs():
    # atanh(0.99) = 2.6467: 2.66 is saturated, 2.64 is not
    x = np.array([[3.0, 0.1, 2.64], [-4.0, 2.0, -2.66]])
    (tanh,) = D.layer_report(nn.Sequential(nn.Tanh()), x)
    assert tanh.saturated_fraction == pytest.approx(3 / 6)
    assert tanh.dead_fraction is None
    # logit(0.99) = 4.595: sigmoid(5) > 0.99 and sigmoid(-5) < 0.01 saturate, 4 and 0 do not
    x = np.array([[5.0, -5.0], [4.0, 0.0]])
    (sig,) = D.layer_report(nn.Sequential(nn.Sigmoid()), x)
    assert sig.saturated_fraction == pytest.approx(0.5)
    (relu,) = D.layer_report(nn.Sequential(nn.ReLU()), x)
    assert relu.saturated_fraction is None


def test_output_mean_and_std_are_over_all_elements():
    x = np.array([[-1.0, 2.0], [3.0, -4.0], [0.5, 0.0]])
    (s,) = D.layer_report(nn.Sequential(nn.ReLU()), x)
    out = np.maximum(x, 0)
    assert s.out_mean == pytest.approx(out.mean()) and s.out_mean == pytest.approx(5.5 / 6)
    assert s.out_std == pytest.approx(out.std())
    assert s.grad_norm is None and s.dout_norm is None  # no backward pass asked for
    assert (s.index, s.name, s.kind) == (0, "0 ReLU", "ReLU")


def _identity_chain(scales, d=4, n=6, seed=0):
    layers = []
    for c in scales:
        lin = nn.Linear(d, d, bias=False, dtype=np.float64)
        _set(lin, c * np.eye(d))
        layers.append(lin)
    rng = np.random.default_rng(seed)
    return nn.Sequential(*layers), rng.standard_normal((n, d)), rng.standard_normal((n, d))


def test_gradient_norms_of_a_scaled_identity_chain():
    # h_l = c^l x, so the gradient flowing into layer l's output is c^(L-1-l) G with
    # G = dMSE/dout = 2 (c^L x - y) / (n d): it shrinks (c < 1) or grows by exactly c per
    # layer toward the input. The weight gradient h_(l-1)^T delta_l = c^(L-1) x^T G is the
    # same for every layer: the two powers of c cancel.
    c, L = 0.5, 5
    model, x, y = _identity_chain([c] * L)
    n, d = x.shape
    G = 2 * (c**L * x - y) / (n * d)
    report = D.layer_report(model, x, y, losses.MSELoss())
    dout = np.array([s.dout_norm for s in report])
    np.testing.assert_allclose(dout, [c ** (L - 1 - l) * np.linalg.norm(G) for l in range(L)],
                               rtol=1e-12)
    np.testing.assert_allclose(dout[:-1] / dout[1:], c, rtol=1e-12)
    norms = D.gradient_norms(model, x, y, losses.MSELoss())
    assert [i for i, _ in norms] == list(range(L))
    np.testing.assert_allclose([g for _, g in norms], c ** (L - 1) * np.linalg.norm(x.T @ G),
                               rtol=1e-12)


def test_weight_gradient_ratio_with_a_different_scale_per_layer():
    # W_l = c_l I: dW_l = (prod_k c_k / c_l) x^T G, so |dW_l| / |dW_(l+1)| = c_(l+1) / c_l
    scales = [2.0, 0.5, 3.0, 0.25]
    model, x, y = _identity_chain(scales, seed=3)
    n, d = x.shape
    G = 2 * (np.prod(scales) * x - y) / (n * d)
    norms = np.array([g for _, g in D.gradient_norms(model, x, y, losses.MSELoss())])
    expected = np.prod(scales) / np.array(scales) * np.linalg.norm(x.T @ G)
    np.testing.assert_allclose(norms, expected, rtol=1e-12)
    np.testing.assert_allclose(norms[:-1] / norms[1:], np.array(scales[1:]) / scales[:-1],
                               rtol=1e-12)


def test_gradient_norms_zero_the_gradients_first():
    model, x, y = _identity_chain([1.5, 0.5, 2.0])
    first = D.gradient_norms(model, x, y, losses.MSELoss())
    second = D.gradient_norms(model, x, y, losses.MSELoss())  # would double if accumulated
    np.testing.assert_allclose([g for _, g in second], [g for _, g in first], rtol=1e-15)
    np.testing.assert_allclose(np.linalg.norm(model[0].W.grad), first[0][1], rtol=1e-12)


def test_report_table_rounds_to_three_significant_digits():
    stats = [
        D.LayerStats(0, "0 Linear", "Linear", 0.123456, 2.34567, grad_norm=0.000123456,
                     dout_norm=98765.4),
        D.LayerStats(1, "1 ReLU", "ReLU", 1.0, 0.5, dead_fraction=0.4, dout_norm=1.23e-7),
        D.LayerStats(2, "2 Tanh", "Tanh", -0.0314159, 0.271828, saturated_fraction=0.0625),
    ]
    table = D.report_table(stats)
    lines = table.splitlines()
    assert len(lines) == 2 + len(stats)
    assert len({len(line) for line in lines}) == 1  # fixed width
    assert lines[0].split() == ["layer", "mean", "std", "dead", "saturated", "|dW|", "|dout|"]
    assert lines[2].split() == ["0", "Linear", "0.123", "2.35", "-", "-", "0.000123",
                                "9.88e+04"]
    assert lines[3].split() == ["1", "ReLU", "1", "0.5", "0.4", "-", "-", "1.23e-07"]
    assert lines[4].split() == ["2", "Tanh", "-0.0314", "0.272", "-", "0.0625", "-", "-"]


def test_report_table_of_a_real_report():
    model, x = _dead_net(nn.ReLU())
    y = np.array([0, 1] * 10)
    report = D.layer_report(model, x, y, losses.CrossEntropyLoss())
    table = D.report_table(report)
    assert f"{report[1].out_std:.3g}" in table.splitlines()[3]
    assert f"{report[2].grad_norm:.3g}" in table.splitlines()[4]


def test_activations_shapes_and_last_output():
    model = nn.Sequential(nn.Flatten(), nn.Linear(6, 8, rng=0), nn.ReLU(),
                          nn.Linear(8, 3, rng=1))
    x = np.random.default_rng(0).standard_normal((5, 2, 3)).astype(np.float32)
    acts = D.activations(model, x)
    assert [a.shape for a in acts] == [(5, 6), (5, 8), (5, 8), (5, 3)]
    np.testing.assert_array_equal(acts[-1], model(x))
    assert acts[-1].dtype == np.float32


def test_nested_sequential_counts_as_one_layer():
    inner = nn.Sequential(nn.Linear(4, 4, rng=0, dtype=np.float64), nn.ReLU())
    model = nn.Sequential(inner, nn.Linear(4, 2, rng=1, dtype=np.float64))
    x = np.random.default_rng(1).standard_normal((8, 4))
    report = D.layer_report(model, x, np.zeros(8, dtype=np.int64), losses.CrossEntropyLoss())
    assert [s.kind for s in report] == ["Sequential", "Linear"]
    assert report[0].grad_norm is None and report[1].grad_norm > 0
    assert report[0].out_mean == pytest.approx(inner(x).mean())


def test_clear_errors():
    model = nn.Sequential(nn.Linear(4, 3, rng=0), nn.ReLU())
    x = np.zeros((2, 4), dtype=np.float32)
    with pytest.raises(TypeError, match="must be a dlcore.nn.Sequential"):
        D.layer_report(nn.Linear(4, 3), x)
    with pytest.raises(ShapeError, match=r"layer 0 \(Linear\) refused its input of shape \(2, 5\)"):
        D.activations(model, np.zeros((2, 5), dtype=np.float32))
    with pytest.raises(DTypeError, match="floating-point"):
        D.dead_units(model, np.zeros((2, 4), dtype=np.int64))
    with pytest.raises(DTypeError, match="layer 0"):
        D.layer_report(model, np.zeros((2, 4)))  # float64 input, float32 weights
    with pytest.raises(ShapeError, match="no examples"):
        D.layer_report(model, np.zeros((0, 4), dtype=np.float32))
    with pytest.raises(ValueError, match="both y and loss"):
        D.layer_report(model, x, y=np.zeros(2, dtype=np.int64))
    with pytest.raises(ValueError, match="needs the targets y and a loss"):
        D.gradient_norms(model, x, None, None)
    with pytest.raises(TypeError, match="dlcore.losses"):
        D.layer_report(model, x, np.zeros(2, dtype=np.int64), lambda p, t: 0.0)
    with pytest.raises(ShapeError, match="the loss refused"):
        D.layer_report(model, x, np.zeros(3, dtype=np.int64), losses.CrossEntropyLoss())
    with pytest.raises(ValueError, match="no layers"):
        D.layer_report(nn.Sequential(), x)
    with pytest.raises(TypeError, match="LayerStats"):
        D.report_table([{"index": 0}])
    with pytest.raises(ValueError, match="empty"):
        D.report_table([])


# ---------------------------------------------------------------- update ratios, output gradients

def test_update_ratio_of_a_hand_set_step():
    # W = [[3, 4]] (norm 5), b = [1]; one SGD step with a hand-set gradient (0.6, 0.8) (norm 1)
    from dlcore.optim import SGD
    lin = nn.Linear(2, 1, dtype=np.float64)
    _set(lin, [[3.0], [4.0]], [1.0])
    model = nn.Sequential(lin, nn.ReLU())
    before = D.weight_snapshot(model)
    assert list(before) == [0]
    lin.W.grad[...] = [[0.6], [0.8]]
    lin.b.grad[...] = [50.0]                            # biases do not enter the ratio
    SGD(model.parameters(), lr=0.05).step()
    ((index, ratio),) = D.update_ratios(model, before)
    assert index == 0 and ratio == pytest.approx(0.05 * 1.0 / 5.0, rel=1e-12)
    np.testing.assert_array_equal(before[0], [[3.0], [4.0]])   # a copy, not a view


def test_update_ratio_is_proportional_to_the_sgd_learning_rate():
    # the same gradient from the same weights: ratio = lr |dW| / |W| for each layer
    from dlcore.optim import SGD
    x = np.random.default_rng(0).standard_normal((16, 5))
    y = np.arange(16) % 3
    ratios = {}
    for lr in (0.01, 0.04):
        model = nn.Sequential(nn.Linear(5, 7, rng=0, dtype=np.float64), nn.ReLU(),
                              nn.Linear(7, 3, rng=1, dtype=np.float64))
        W = [model[0].W.data.copy(), model[2].W.data.copy()]
        norms = D.gradient_norms(model, x, y, losses.CrossEntropyLoss())
        before = D.weight_snapshot(model)
        SGD(model.parameters(), lr=lr).step()
        ratios[lr] = D.update_ratios(model, before)
        assert [i for i, _ in ratios[lr]] == [0, 2]
        expected = [lr * g / np.linalg.norm(w) for (_, g), w in zip(norms, W)]
        np.testing.assert_allclose([r for _, r in ratios[lr]], expected, rtol=1e-12)
    np.testing.assert_allclose([r for _, r in ratios[0.04]],
                               [4 * r for _, r in ratios[0.01]], rtol=1e-12)


def test_output_gradients_of_a_linear_layer_under_mse():
    # y_hat = x W: dMSE/dy_hat = 2 (x W - y) / (n d); the gradient into the ReLU's output too
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    lin = nn.Linear(3, 2, bias=False, dtype=np.float64)
    W = rng.standard_normal((3, 2))
    _set(lin, W)
    grads = D.output_gradients(nn.Sequential(lin), x, y, losses.MSELoss())
    np.testing.assert_allclose(grads[0], 2 * (x @ W - y) / 8, rtol=1e-12)
    model = nn.Sequential(nn.Linear(3, 5, rng=0, dtype=np.float64), nn.ReLU(),
                          nn.Linear(5, 2, rng=1, dtype=np.float64))
    grads = D.output_gradients(model, x, y, losses.MSELoss())
    assert [g.shape for g in grads] == [(4, 5), (4, 5), (4, 2)]
    h = model[0](x)
    np.testing.assert_allclose(grads[1], grads[2] @ model[2].W.data.T, rtol=1e-12)
    np.testing.assert_allclose(grads[0], grads[1] * (h > 0), rtol=1e-12)


def test_update_ratio_errors():
    model = nn.Sequential(nn.Linear(3, 2, rng=0), nn.ReLU(), nn.Linear(2, 2, rng=1))
    with pytest.raises(TypeError, match="weight_snapshot"):
        D.update_ratios(model, [model[0].W.data])
    with pytest.raises(ValueError, match=r"holds layers \[0\] but .* \[0, 2\]"):
        D.update_ratios(model, {0: model[0].W.data.copy()})
    snap = D.weight_snapshot(model)
    snap[2] = np.zeros((3, 3))
    with pytest.raises(ShapeError, match="layer 2 has shape"):
        D.update_ratios(model, snap)
    snap[2] = np.zeros((2, 2))
    with pytest.raises(ValueError, match="layer 2's weight was 0.0"):
        D.update_ratios(model, snap)
    with pytest.raises(ValueError, match="no top-level layer"):
        D.weight_snapshot(nn.Sequential(nn.ReLU()))
    with pytest.raises(ValueError, match="needs the targets"):
        D.output_gradients(model, np.zeros((2, 3), dtype=np.float32), None, None)
