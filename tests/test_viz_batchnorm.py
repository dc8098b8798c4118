"""dlcore.viz batch-norm helpers: the network, the numbers behind the curves, the figures."""
import numpy as np
import pytest

from dlcore import nn, viz


def test_sigmoid_mlp_layout_and_shared_initial_weights():
    plain, with_bn = viz.sigmoid_mlp(3, 8), viz.sigmoid_mlp(3, 8, batchnorm=True)
    assert [type(m).__name__ for m in with_bn] == (["Linear", "BatchNorm1d", "Sigmoid"] * 3
                                                   + ["Linear"])
    assert len(plain) == 3 * 2 + 1
    lin_plain = [m for m in plain if isinstance(m, nn.Linear)]
    lin_bn = [m for m in with_bn if isinstance(m, nn.Linear)]
    for a, b in zip(lin_plain, lin_bn, strict=True):
        assert np.array_equal(a.W.data, b.W.data)
    assert with_bn(np.zeros((4, 64), np.float32)).shape == (4, 10)


def test_bn_run_numbers_are_seeded_cached_and_bn_trains_the_deep_sigmoid_net():
    a = viz.bn_run(32, 1.0, batchnorm=True, epochs=4)
    assert viz.bn_run(32, 1.0, batchnorm=True, epochs=4) is a       # cached
    assert a["steps_per_epoch"] == 512 // 32 and a["diverged_at"] is None
    assert a["epoch"].tolist() == [1, 2, 3, 4]
    plain = viz.bn_run(32, 1.0, batchnorm=False, epochs=4)
    # 6 sigmoid layers without BN stay at the loss of a uniform guess, log 10 = 2.303;
    # with BN the training loss falls well below it and validation accuracy is far above 10%
    assert np.all(np.abs(plain["train_loss"] - np.log(10)) < 0.1)
    assert a["train_loss"][-1] < 1.0 and a["val_acc"][-1] > 0.5
    assert a["train_loss"][-1] < a["train_loss"][0]


def test_bn_run_refuses_a_last_batch_of_one():
    with pytest.raises(ValueError, match="last batch of one example"):
        viz.bn_run(batch_size=7, n_train=512)    # 512 = 73 * 7 + 1
    with pytest.raises(ValueError, match="lr"):
        viz.bn_run(lr=0.0)


def test_bn_run_keeps_the_epochs_before_a_divergence(monkeypatch):
    # A sigmoid net does not overflow even at lr 1e8 (float32), so fake fit: two epochs
    # recorded through the callback, then the loss becomes NaN in epoch 2 (0-based).
    from dlcore.train import History, TrainingDiverged
    from dlcore.viz import batchnorm as vb

    def fake_fit(model, loss, opt, train, val, epochs, batch_size, callbacks, progress, rng):
        h = History()
        for e in range(2):
            h.epochs.append(e)
            h.train_loss.append(2.0 - e)
            h.val_acc.append(0.5)
            callbacks[0].on_epoch_end(e, h, model)
        raise TrainingDiverged("loss is nan", epoch=2, step=0)

    monkeypatch.setattr(vb, "fit", fake_fit)
    r = vb.bn_run(16, 0.123, batchnorm=False, depth=1, width=4, epochs=4)
    assert r["diverged_at"] == 2
    np.testing.assert_array_equal(r["train_loss"][:2], [2.0, 1.0])
    assert np.all(np.isnan(r["train_loss"][2:])) and np.all(np.isnan(r["val_acc"][2:]))
    ax = vb.plot_bn_runs(16, 0.123, depth=1, width=4, epochs=4)
    assert "diverged in epoch 3" in ax.get_legend().get_texts()[0].get_text()
    vb._run.cache_clear()


def test_plot_bn_runs_and_grid():
    ax = viz.plot_bn_runs(32, 1.0, epochs=4)
    lines = [ln for ln in ax.get_lines() if ln.get_label().startswith("with")]
    assert len(lines) == 2
    np.testing.assert_allclose(lines[1].get_ydata(),
                               viz.bn_run(32, 1.0, batchnorm=True, epochs=4)["train_loss"])
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[0].startswith("without BN: val. acc.") and labels[1].startswith("with BN")
    fig = viz.plot_bn_grid(batch_sizes=(16, 32), learning_rates=(1.0,), epochs=4)
    assert len(fig.axes) == 2
    assert [a.get_title() for a in fig.axes] == ["batch 16, lr 1", "batch 32, lr 1"]
    with pytest.raises(ValueError, match="at least one batch size"):
        viz.plot_bn_grid(batch_sizes=())


# ---------------------------------------------------------------- normalising without the batch

def test_norm_mlp_variants_share_weights_and_place_the_norm_layer():
    nets = {k: viz.norm_mlp(k, depth=2, width=16, num_groups=4, rng=3)
            for k in (None, "batch", "layer", "group")}
    assert [type(m).__name__ for m in nets["group"]] == ["Linear", "GroupNorm", "ReLU"] * 2 + ["Linear"]
    assert [type(m).__name__ for m in nets[None]] == ["Linear", "ReLU"] * 2 + ["Linear"]
    assert nets["group"][1].num_groups == 4 and nets["batch"][0].b is None
    first = [m.W.data for m in nets["layer"] if isinstance(m, nn.Linear)]
    for k in (None, "batch", "group"):
        for a, b in zip(first, [m.W.data for m in nets[k] if isinstance(m, nn.Linear)], strict=True):
            assert np.array_equal(a, b)
    with pytest.raises(ValueError, match="norm must be None, 'batch', 'layer' or 'group'"):
        viz.norm_mlp("instance")


def test_norm_axes_masks_count_the_values_behind_one_statistic():
    N, C, HW = 4, 6, 5
    sizes = {k: int(viz.norm_axes_mask(k, (N, C, HW), num_groups=3).sum()) for k in viz.NORM_KINDS}
    assert sizes == {"batch": N * HW, "layer": C * HW, "instance": HW, "group": C // 3 * HW}
    gn = viz.norm_axes_mask("group", (N, C, HW), num_groups=3)
    assert gn[0, :2].all() and not gn[0, 2:].any() and not gn[1:].any()
    with pytest.raises(ValueError, match="kind must be one of"):
        viz.norm_axes_mask("weight")


def test_plot_norm_axes_draws_four_labelled_cubes():
    fig = viz.plot_norm_axes(num_groups=3)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["batch norm", "layer norm", "instance norm", "group norm (3 groups)"]
    assert all(ax.get_xlabel() == "C (channels)" and ax.get_ylabel() == "N (samples)"
               for ax in fig.axes)
