"""dlcore.viz.transfer: the tasks, the reused and frozen layers of a run, and the figures."""
import numpy as np
import pytest

from dlcore.data import load_digits
from dlcore.viz import transfer as tv


def test_tasks_split_the_digits_into_two_five_class_problems():
    tasks = tv.digit_tasks()
    for task in ("source", "target"):
        for split in tasks[task]:
            assert sorted(set(split.y.tolist())) == [0, 1, 2, 3, 4]
    everything = load_digits()
    for k in range(3):                     # every image of every split lands in one task
        assert len(tasks["source"][k]) + len(tasks["target"][k]) == len(everything[k])


def test_target_subset_takes_n_per_class():
    train = tv.digit_tasks()["target"][0]
    sub = tv.target_subset(train, 3, seed=1)
    assert np.bincount(sub.y).tolist() == [3] * 5
    again = tv.target_subset(train, 3, seed=1)
    np.testing.assert_array_equal(sub.X, again.X)


def test_regimes_reuse_and_freeze_what_they_say():
    state = tv.pretrained_state()
    scratch = tv.transfer_run("scratch", 1, 1e-3, 0, steps=1)
    frozen2 = tv.transfer_run("frozen", 1, 1e-3, 0, reuse=2, steps=1)
    frozen1 = tv.transfer_run("frozen", 1, 1e-3, 0, reuse=1, steps=1)
    assert scratch["trainable"] == 64 * 128 + 128 + 128 * 128 + 128 + 128 * 5 + 5
    assert frozen2["trainable"] == 128 * 5 + 5
    assert frozen1["trainable"] == 128 * 128 + 128 + 128 * 5 + 5
    assert set(state) == {"0.W", "0.b", "2.W", "2.b", "4.W", "4.b"}
    with pytest.raises(ValueError, match="regime must be one of"):
        tv.transfer_run("linear probe", 1, 1e-3, 0)


def test_pretrained_network_solves_the_source_task():
    model = tv.transfer_mlp()
    model.load_state_dict(tv.pretrained_state())
    _, _, test = tv.digit_tasks()["source"]
    assert np.mean(model(test.X).argmax(axis=1) == test.y) > 0.95


def test_transfer_trial_passes_the_config_through():
    a = tv.transfer_trial({"regime": "frozen", "n_per_class": 3, "lr": 1e-2, "reuse": 1,
                           "steps": 5}, seed=2)
    b = tv.transfer_run("frozen", 3, 1e-2, 2, reuse=1, steps=5)
    assert a == b


def test_plot_transfer_run_draws_three_regimes():
    fig = tv.plot_transfer_run(n_per_class=3, seeds=(0,), steps=10)
    ax = fig.axes[0]
    assert [line.get_label() for line in ax.lines] == ["scratch", "fine-tuned (2 layers)",
                                                       "frozen (2 layers)"]
    assert ax.get_ylabel() == "validation accuracy (%)"


def test_widget_builds():
    import ipywidgets

    box = tv.transfer_widget(n_per_class=3, reuse=1, source="0-9")
    assert isinstance(box, ipywidgets.VBox)
    assert [c.value for c in box.children[0].children] == [3, 1, 3e-3, "0-9"]


def test_closer_source_sees_all_ten_digits_but_none_of_the_targets_images():
    closer = tv.closer_tasks()
    train = load_digits()[0]
    source, (pool, val, test) = closer["source"], closer["target"]
    assert sorted(set(source.y.tolist())) == list(range(10))
    assert sorted(set(pool.y.tolist())) == [0, 1, 2, 3, 4]
    # the 5-9 training images are split between the source and the target's pool, no overlap
    assert len(source) + len(pool) == len(train)
    assert np.sum(source.y >= 5) + len(pool) == np.sum(train.y >= 5)
    assert abs(np.sum(source.y >= 5) - len(pool)) <= 1
    _, target_val, target_test = tv.digit_tasks()["target"]
    np.testing.assert_array_equal(val.X, target_val.X)
    np.testing.assert_array_equal(test.y, target_test.y)
    state = tv.pretrained_state(source="0-9")
    assert state["4.W"].shape == (128, 10)
    run = tv.transfer_run("frozen", 1, 1e-2, 0, steps=1, source="0-9")
    assert run["trainable"] == 128 * 5 + 5                       # a fresh 5-way head
    with pytest.raises(ValueError, match="source must be one of"):
        tv.transfer_run("frozen", 1, 1e-2, 0, source="0-7")


def test_the_closer_sources_pool_caps_large_sizes_and_the_title_says_so():
    run = tv.transfer_run("scratch", 100, 1e-2, 0, steps=1, source="0-9")
    pool = tv.closer_tasks()["target"][0]
    assert run["n_train"] == len(pool) < 500                   # all of each class, fewer than 100
    fig = tv.plot_transfer_run(n_per_class=3, seeds=(0,), steps=10, source="0-9")
    assert fig.axes[0].get_title().startswith("0-9 source -> 5-9, 15 training images")
