"""dlcore.viz.regularization: the runs behind the widget (seeded, cached, the same as a
direct fit, L2 shrinking the weights) and the figures (axes, curves, titles)."""
import numpy as np
import pytest

from dlcore import viz
from dlcore.data import load_digits
from dlcore.losses import CrossEntropyLoss
from dlcore.optim import SGD
from dlcore.regularization import add_l2_grad_, weights_only
from dlcore.train import fit


def test_reg_mlp_layers_and_shared_initial_weights():
    plain, dropped = viz.reg_mlp(32, 0.0, rng=3), viz.reg_mlp(32, 0.5, rng=3)
    assert [type(m).__name__ for m in plain] == ["Linear", "ReLU", "Linear"]
    assert [type(m).__name__ for m in dropped] == ["Linear", "ReLU", "Dropout", "Linear"]
    assert dropped[2].p == 0.5
    np.testing.assert_array_equal(plain[0].W.data, dropped[0].W.data)
    np.testing.assert_array_equal(plain[2].W.data, dropped[3].W.data)
    assert plain(np.zeros((5, 64), np.float32)).shape == (5, 10)


def test_reg_run_is_a_fit_with_the_l2_gradient_on_the_weights_only():
    r = viz.reg_run(0.0, 1e-2, n_train=100, hidden=16, epochs=4, rng=2)
    train, val, _ = load_digits(rng=0)
    model = viz.reg_mlp(16, 0.0, rng=2)
    weights = weights_only(model)
    h = fit(model, CrossEntropyLoss(), SGD(model.parameters(), lr=0.05, momentum=0.9),
            (train.X[:100], train.y[:100]), val, epochs=4, batch_size=32,
            clip=lambda params: add_l2_grad_(weights, 1e-2), progress=False, rng=2)
    np.testing.assert_allclose(r["train_loss"], h.train_loss, rtol=1e-6)
    np.testing.assert_allclose(r["val_acc"], h.val_acc)
    norm = np.sqrt(sum(float((w.data ** 2).sum()) for w in weights))
    assert r["weight_norm"] == pytest.approx(norm, rel=1e-6)
    np.testing.assert_array_equal(r["epoch"], [1, 2, 3, 4])


def test_reg_run_is_cached_and_l2_shrinks_the_weights():
    a = viz.reg_run(0.0, 0.0, n_train=100, hidden=16, epochs=5)
    assert viz.reg_run(0.0, 0.0, n_train=100, hidden=16, epochs=5) is a
    strong = viz.reg_run(0.0, 0.1, n_train=100, hidden=16, epochs=5)
    assert strong["weight_norm"] < 0.8 * a["weight_norm"]
    # 100 examples and no regularisation: the net fits its training set better than val
    assert a["train_acc"][-1] > a["val_acc"][-1]


def test_reg_run_dropout_changes_the_run_and_errors_are_clear():
    a = viz.reg_run(0.0, 0.0, n_train=100, hidden=16, epochs=3)
    b = viz.reg_run(0.5, 0.0, n_train=100, hidden=16, epochs=3)
    assert not np.allclose(a["train_loss"], b["train_loss"])
    with pytest.raises(ValueError, match="n_train must be at most"):
        viz.reg_run(n_train=100000)
    with pytest.raises(ValueError, match="p"):
        viz.reg_run(p=1.0)
    with pytest.raises(ValueError, match="weight_decay"):
        viz.reg_run(weight_decay=-1e-3)


def test_plot_reg_run_draws_train_and_val_curves():
    axes = viz.plot_reg_run(0.0, 0.0, n_train=100, hidden=16, epochs=3)
    assert len(axes) == 2
    loss_ax, acc_ax = axes
    assert len(loss_ax.lines) == 2 and loss_ax.get_yscale() == "log"
    r = viz.reg_run(0.0, 0.0, n_train=100, hidden=16, epochs=3)
    np.testing.assert_allclose(acc_ax.lines[1].get_ydata(), 100 * r["val_acc"])
    assert "validation" in acc_ax.get_legend().get_texts()[1].get_text()
    with pytest.raises(ValueError, match="metrics"):
        viz.plot_reg_run(metrics=("speed",))


def test_plot_reg_grid_has_one_axes_per_setting():
    fig = viz.plot_reg_grid(train_sizes=(50, 100), settings=((0.0, 0.0), (0.5, 0.0),
                                                              (0.0, 1e-2)),
                            hidden=16, epochs=2)
    assert len(fig.axes) == 6
    assert fig.axes[5].get_title() == "dropout 0, L2 0.01, 100 examples"
    with pytest.raises(ValueError, match="at least one"):
        viz.plot_reg_grid(train_sizes=())
