"""dlcore.viz.compression: the sweep behind the widget (its corners are plain computations
with dlcore.compress) and the figures (axes, labels, the marked setting)."""
import numpy as np
import pytest

from dlcore import compress, viz
from dlcore.data import load_digits
from dlcore.losses import CrossEntropyLoss
from dlcore.train import evaluate


@pytest.fixture(scope="module")
def trained():
    train, val, _ = load_digits(rng=0)
    model, history = viz.train_digits_mlp(train, val, rng=0, epochs=3)
    return model, history, val


def test_digits_mlp_layers_and_batchnorm_variant():
    plain, with_bn = viz.digits_mlp(1), viz.digits_mlp(1, batchnorm=True)
    assert [type(m).__name__ for m in plain] == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]
    assert [type(m).__name__ for m in with_bn].count("BatchNorm1d") == 2
    np.testing.assert_array_equal(plain[0].W.data, with_bn[0].W.data)
    assert plain(np.zeros((4, 64), np.float32)).shape == (4, 10)


def test_l1_training_makes_more_small_weights():
    train, _, _ = load_digits(rng=0)
    plain, _ = viz.train_digits_mlp(train, rng=0, epochs=3)
    sparse, _ = viz.train_digits_mlp(train, rng=0, epochs=3, l1=1e-3)
    small = [np.mean(np.abs(m[2].W.data) < 1e-3) for m in (plain, sparse)]
    assert small[1] > 3 * small[0]


def test_sweep_corners_are_the_plain_computations(trained):
    model, history, val = trained
    sweep = viz.compression_sweep(model, val.X, val.y, sparsities=(0.0, 0.9), bits=(2, 32))
    assert sweep["acc"].shape == sweep["size_bits"].shape == (2, 2)
    # no pruning, float weights: the model itself, dense
    assert sweep["acc"][0, 1] == pytest.approx(history.val_acc[-1])
    assert sweep["size_bits"][0, 1] == sweep["dense_bits"] == 32 * sum(
        p.data.size for p in model.parameters())
    # 90% pruned, 2-bit k-means: rebuild it by hand
    import copy
    small = copy.deepcopy(model)
    compress.Pruner(small, 0.9, scope="global")
    sharing = compress.WeightSharing(small, 2)
    total, _ = compress.model_size(small, sharing, index_bits=5, huffman=True)
    assert sweep["size_bits"][1, 0] == total
    acc = evaluate(small, CrossEntropyLoss(), val.X, val.y)[1]
    assert sweep["acc"][1, 0] == pytest.approx(acc)
    assert sweep["size_bits"][1, 0] < sweep["size_bits"][1, 1] < sweep["dense_bits"]
    # the model passed in is not changed
    assert np.count_nonzero(model[0].W.data) == model[0].W.data.size


def test_plots_mark_the_chosen_setting(trained):
    model, _, val = trained
    sweep = viz.compression_sweep(model, val.X, val.y, sparsities=(0.0, 0.5, 0.9),
                                  bits=(2, 4, 32))
    fig = viz.plot_compression(0.5, 4, sweep=sweep)
    left, right = fig.axes
    assert left.get_ylabel() == right.get_ylabel() == "validation accuracy (%)"
    assert "compression ratio" in right.get_xlabel()
    assert len(left.lines) == 3 + 1 and right.get_xscale() == "log"
    ratio = sweep["dense_bits"] / sweep["size_bits"][1, 1]
    assert f"{ratio:.1f}x smaller" in right.get_title()
    np.testing.assert_allclose(right.lines[-1].get_xdata(), [ratio])
    with pytest.raises(ValueError, match="bits must be one of"):
        viz.plot_compression(0.5, 3, sweep=sweep)
    grid = viz.plot_compression_grid(views=((0.0, 32), (0.9, 2)), sweep=sweep)
    assert len(grid.axes) == 4
    box = viz.compression_widget(0.9, 2, sweep=sweep)
    sliders = box.children[0].children
    assert sliders[0].value == 0.9 and sliders[1].value == 2


def test_default_sweep_is_cached_and_is_the_l1_network():
    a = viz.default_compression_sweep(1e-3)
    assert viz.default_compression_sweep(l1=0.001, rng=0) is a
    assert a["acc"].shape == (len(viz.COMPRESSION_SPARSITIES), len(viz.COMPRESSION_BITS))
    train, val, _ = load_digits(rng=0)
    model, _ = viz.train_digits_mlp(train, rng=0, l1=1e-3)
    assert a["dense_acc"] == evaluate(model, CrossEntropyLoss(), val.X, val.y)[1]
