"""dlcore.train: fit's loop (schedule, clipping, callbacks, divergence, progress bar),
evaluate's numbers, History and its plot, and errors on bad input."""
import math

import numpy as np
import pytest

from dlcore import nn
from dlcore.data import Split
from dlcore.errors import ShapeError
from dlcore.losses import CrossEntropyLoss, MSELoss
from dlcore.optim import SGD
from dlcore.train import History, TrainingDiverged, evaluate, fit


def blobs(n=40, seed=0):
    """Two well separated 2-D clusters: class 0 around (-2, -2), class 1 around (2, 2)."""
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1], n // 2).astype(np.int64)
    X = (rng.normal(0.0, 0.5, (n, 2)) + np.where(y[:, None] == 1, 2.0, -2.0)).astype(np.float32)
    return X, y


def regression(n=16, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 3)).astype(np.float32)
    y = (X @ np.array([[1.0], [-2.0], [0.5]], np.float32) + 0.3).astype(np.float32)
    return X, y


def classifier(seed=0):
    return nn.Sequential(nn.Linear(2, 4, rng=seed), nn.Tanh(), nn.Linear(4, 2, rng=seed + 1))


def quiet_fit(model, loss, opt, train, **kw):
    return fit(model, loss, opt, train, progress=False, **kw)


# --- it learns, and reports what evaluate() reports -------------------------------------


def separable(n=60, seed=0):
    """Points in [-1, 1]^2 labelled by the side of the line x0 + 2 x1 = 0.2, with a margin."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, (4 * n, 2))
    s = X @ np.array([1.0, 2.0]) - 0.2
    keep = np.abs(s) > 0.2
    return X[keep][:n].astype(np.float32), (s[keep][:n] > 0).astype(np.int64)


def test_fit_separates_a_linearly_separable_set():
    X, y = separable()
    model = nn.Sequential(nn.Linear(2, 2, rng=0))
    loss = CrossEntropyLoss()
    assert evaluate(model, loss, X, y)[1] < 0.5  # this start gets it wrong
    hist = quiet_fit(model, loss, SGD(model.parameters(), lr=0.5), (X, y), epochs=20,
                     batch_size=8, rng=0)
    assert hist.train_acc[-1] == 1.0
    assert hist.train_loss[-1] < 0.5 * hist.train_loss[0]
    assert len(hist) == 20 and hist.epochs == list(range(20))
    assert not hist.stopped_early


def test_epoch_loss_and_accuracy_equal_evaluate_on_the_same_data():
    X, y = blobs()
    Xv, yv = blobs(20, seed=1)
    model, loss = classifier(), CrossEntropyLoss()
    hist = quiet_fit(model, loss, SGD(model.parameters(), lr=0.1), Split(X, y),
                     val=Split(Xv, yv), epochs=2, batch_size=16, rng=0)
    assert hist.train_loss[-1] == pytest.approx(evaluate(model, loss, X, y)[0], rel=1e-6)
    assert (hist.val_loss[-1], hist.val_acc[-1]) == pytest.approx(evaluate(model, loss, Xv, yv))
    assert hist.train_acc[-1] == evaluate(model, loss, X, y)[1]


def test_evaluate_by_hand_and_batched():
    model = nn.Sequential(nn.Linear(2, 2, bias=False, rng=0))
    model[0].W.data[...] = np.eye(2, dtype=np.float32)  # logits = x
    X = np.array([[0.0, math.log(3)], [math.log(3), 0.0], [0.0, math.log(3)]], np.float32)
    y = np.array([1, 1, 0])
    # rows 0 and 1 as in test_losses: -ln(3/4), ln 4; row 2 predicts 1, label 0: ln 4
    value, acc = evaluate(model, CrossEntropyLoss(), X, y, batch_size=2)
    assert value == pytest.approx((-math.log(3 / 4) + 2 * math.log(4)) / 3, rel=1e-6)
    assert acc == pytest.approx(1 / 3)
    assert model.training  # the mode it had before is restored
    model.eval()
    evaluate(model, CrossEntropyLoss(), X, y)
    assert not model.training


def test_regression_records_no_accuracy():
    X, y = regression()
    model = nn.Linear(3, 1, rng=0)
    hist = quiet_fit(model, MSELoss(), SGD(model.parameters(), lr=0.05), (X, y),
                     val=(X[:4], y[:4]), epochs=30, batch_size=4, rng=0)
    assert hist.train_acc == [] and hist.val_acc == []
    assert len(hist.val_loss) == 30
    assert hist.train_loss[-1] < 1e-3 * hist.train_loss[0]  # a linear target: near 0
    assert evaluate(model, MSELoss(), X, y)[1] is None


def test_same_seed_gives_the_same_history_and_another_seed_does_not():
    X, y = blobs()

    def run(seed):
        model = classifier()
        hist = quiet_fit(model, CrossEntropyLoss(), SGD(model.parameters(), lr=0.2, momentum=0.9),
                         (X, y), epochs=3, batch_size=8, rng=seed)
        return {k: v for k, v in hist.as_dict().items() if k != "seconds"}

    assert run(3) == run(3)
    assert run(3)["train_loss"] != run(4)["train_loss"]


# --- the hooks: schedule, clip, callbacks ----------------------------------------------------


class HalvingSchedule:
    def lr_at(self, t):
        return 0.4 * 0.5**t


def test_schedule_sets_every_group_lr_at_each_epoch():
    X, y = blobs()
    model = classifier()
    opt = SGD([{"params": model[0].parameters()}, {"params": model[2].parameters(), "lr": 9.0}],
              lr=1.0)
    hist = quiet_fit(model, CrossEntropyLoss(), opt, (X, y), epochs=4, rng=0,
                     schedule=HalvingSchedule())
    assert hist.lr == [0.4, 0.2, 0.1, 0.05]
    assert [g["lr"] for g in opt.param_groups] == [0.05, 0.05]


def test_without_a_schedule_lr_is_recorded_unchanged():
    X, y = blobs()
    model = classifier()
    hist = quiet_fit(model, CrossEntropyLoss(), SGD(model.parameters(), lr=0.3), (X, y),
                     epochs=3, rng=0)
    assert hist.lr == [0.3, 0.3, 0.3]


def test_a_schedule_giving_a_negative_lr_is_refused():
    class Bad:
        def lr_at(self, t):
            return -0.1

    X, y = blobs()
    model = classifier()
    with pytest.raises(ValueError, match=r"schedule.lr_at\(epoch\) must be in \[0.0, inf\)"):
        quiet_fit(model, CrossEntropyLoss(), SGD(model.parameters(), lr=0.3), (X, y),
                  schedule=Bad())


def test_clip_runs_once_per_step_with_the_parameters_between_backward_and_step():
    X, y = blobs(10)
    model = classifier()
    before = [p.data.copy() for p in model.parameters()]
    calls = []

    def zero_the_gradients(params):
        calls.append(params)
        assert any(p.grad.any() for p in params)  # backward has run
        for p in params:
            p.grad[...] = 0.0

    quiet_fit(model, CrossEntropyLoss(), SGD(model.parameters(), lr=1.0), (X, y), epochs=2,
              batch_size=4, clip=zero_the_gradients, rng=0)
    assert len(calls) == 2 * 3  # ceil(10 / 4) = 3 steps per epoch
    assert all([id(p) for p in c] == [id(p) for p in model.parameters()] for c in calls)
    for b, p in zip(before, model.parameters()):  # the step saw only zero gradients
        np.testing.assert_array_equal(b, p.data)


def test_after_backward_adds_a_penalty_gradient_before_clipping_and_the_step():
    """An L2 gradient through after_backward is SGD's weight decay, step for step."""
    from dlcore.regularization import add_l2_grad_

    X, y = blobs(12)
    order = []
    hooked, decayed = classifier(), classifier()

    def penalty(params):
        order.append("after_backward")
        add_l2_grad_(params, 0.1)

    quiet_fit(hooked, CrossEntropyLoss(), SGD(hooked.parameters(), lr=0.5), (X, y), epochs=2,
              batch_size=4, after_backward=penalty, clip=lambda ps: order.append("clip"), rng=0)
    quiet_fit(decayed, CrossEntropyLoss(), SGD(decayed.parameters(), lr=0.5, weight_decay=0.1),
              (X, y), epochs=2, batch_size=4, rng=0)
    assert order[:4] == ["after_backward", "clip"] * 2 and len(order) == 2 * 2 * 3
    for a, b in zip(hooked.parameters(), decayed.parameters()):
        np.testing.assert_allclose(a.data, b.data, rtol=1e-6, atol=1e-7)


def test_transform_changes_training_batches_only():
    X, y = blobs(12)
    seen = []

    def flip_sign(xb, yb):
        seen.append(len(xb))
        return -xb, yb

    plain, flipped = classifier(), classifier()
    quiet_fit(plain, CrossEntropyLoss(), SGD(plain.parameters(), lr=0.5), (-X, y), epochs=1,
              batch_size=5, rng=0)
    history = quiet_fit(flipped, CrossEntropyLoss(), SGD(flipped.parameters(), lr=0.5), (X, y),
                        epochs=1, batch_size=5, transform=flip_sign, rng=0)
    assert seen == [5, 5, 2]
    for a, b in zip(plain.parameters(), flipped.parameters()):  # trained on -X either way
        np.testing.assert_array_equal(a.data, b.data)
    # ... but evaluated on X as given: the flipped model misclassifies the clean set
    assert history.train_acc[-1] == evaluate(flipped, CrossEntropyLoss(), X, y)[1]
    with pytest.raises(TypeError, match="fit: transform must be a callable or None, got int"):
        quiet_fit(plain, CrossEntropyLoss(), SGD(plain.parameters(), lr=0.5), (X, y), transform=3)


def test_callback_returning_true_stops_after_that_epoch():
    seen = []

    class StopAtTwo:
        def on_epoch_end(self, epoch, history, model):
            seen.append((epoch, len(history)))
            return epoch == 2

    class Silent:  # no on_epoch_end at all: ignored
        pass

    X, y = blobs()
    model = classifier()
    hist = quiet_fit(model, CrossEntropyLoss(), SGD(model.parameters(), lr=0.1), (X, y),
                     epochs=10, callbacks=[Silent(), StopAtTwo()], rng=0)
    assert seen == [(0, 1), (1, 2), (2, 3)]  # called after the epoch was recorded
    assert hist.epochs == [0, 1, 2] and hist.stopped_early


def test_a_single_callback_object_is_accepted():
    class Never:
        calls = 0

        def on_epoch_end(self, epoch, history, model):
            Never.calls += 1

    X, y = blobs()
    model = classifier()
    hist = quiet_fit(model, CrossEntropyLoss(), SGD(model.parameters(), lr=0.1), (X, y),
                     epochs=3, callbacks=Never(), rng=0)
    assert Never.calls == 3 and not hist.stopped_early


# --- divergence ------------------------------------------------------------------------


class NanOnCall(MSELoss):
    """MSE that returns nan on its k-th call (1-based), counting evaluation calls too."""

    def __init__(self, k):
        self.k, self.calls, self.values = k, 0, []

    def __call__(self, pred, target):
        self.calls += 1
        value = super().__call__(pred, target)
        value = math.nan if self.calls == self.k else value
        self.values.append(value)
        return value


def test_nan_loss_names_epoch_step_and_last_finite_loss():
    X, y = regression(8)
    model = nn.Linear(3, 1, rng=0)
    # calls: epoch 0 steps 0, 1 (1, 2), its evaluation (3); epoch 1 step 0 (4), step 1 (5)
    loss = NanOnCall(5)
    with pytest.raises(TrainingDiverged, match=r"epoch 1, step 1 .*the loss is nan; the last "
                                               r"finite loss was .*lower learning rate") as err:
        quiet_fit(model, loss, SGD(model.parameters(), lr=0.01), (X, y), epochs=5,
                  batch_size=4, rng=0)
    assert (err.value.epoch, err.value.step) == (1, 1)
    assert err.value.last_loss == loss.values[3]
    assert f"{loss.values[3]:.4g}" in str(err.value)
    assert isinstance(err.value, FloatingPointError)


def test_nan_in_the_epoch_evaluation_is_caught_too():
    X, y = regression(8)
    model = nn.Linear(3, 1, rng=0)
    with pytest.raises(TrainingDiverged, match=r"epoch 0, after step 1"):
        quiet_fit(model, NanOnCall(3), SGD(model.parameters(), lr=0.01), (X, y), epochs=2,
                  batch_size=4, rng=0)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy's overflow warnings on the way
def test_huge_learning_rate_diverges_with_a_clear_error():
    X, y = regression(32)
    model = nn.Linear(3, 1, rng=0)
    with pytest.raises(TrainingDiverged, match=r"training diverged at epoch 0, (after )?step \d .*"
                                               r"the loss is (nan|inf).*lr is 1e\+06"):
        quiet_fit(model, MSELoss(), SGD(model.parameters(), lr=1e6), (X, y), epochs=50,
                  batch_size=8, rng=0)


# --- progress bar ------------------------------------------------------------------------


def test_progress_false_prints_nothing(capsys):
    X, y = blobs()
    model = classifier()
    fit(model, CrossEntropyLoss(), SGD(model.parameters(), lr=0.1), (X, y), epochs=2,
        progress=False, rng=0)
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""


def test_progress_true_draws_a_tqdm_bar(capsys):
    X, y = blobs()
    model = classifier()
    fit(model, CrossEntropyLoss(), SGD(model.parameters(), lr=0.1), (X, y), epochs=3,
        progress=True, rng=0)
    err = capsys.readouterr().err
    assert "3/3" in err and "100%" in err and "train_loss=" in err


# --- History -----------------------------------------------------------------------------


def make_history():
    h = History()
    h.epochs = [0, 1, 2]
    h.train_loss, h.val_loss = [1.0, 0.5, 0.6], [1.2, 0.7, 0.8]
    h.train_acc, h.val_acc = [0.5, 0.8, 0.9], [0.4, 0.9, 0.85]
    h.lr, h.seconds = [0.1, 0.1, 0.1], [0.01, 0.01, 0.01]
    return h


def test_history_best_and_as_dict():
    h = make_history()
    assert h.best() == (1, 0.9)
    assert h.best("val_loss") == (1, 0.7)
    assert h.best("train_acc") == (2, 0.9)
    d = h.as_dict()
    assert d["train_loss"] == [1.0, 0.5, 0.6] and set(d) == {
        "epochs", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds"}
    d["train_loss"].append(9.0)
    assert h.train_loss == [1.0, 0.5, 0.6]  # a copy
    with pytest.raises(ValueError, match="metric must be one of"):
        h.best("accuracy")
    with pytest.raises(ValueError, match="no val_acc was recorded"):
        History().best()


def test_history_plot_draws_loss_and_accuracy():
    import matplotlib.pyplot as plt

    fig = make_history().plot()
    try:
        assert isinstance(fig, plt.Figure) and len(fig.axes) == 2
        ax_loss, ax_acc = fig.axes
        assert [list(line.get_ydata()) for line in ax_loss.lines] == [[1.0, 0.5, 0.6],
                                                                      [1.2, 0.7, 0.8]]
        assert list(ax_acc.lines[1].get_ydata()) == pytest.approx([40, 90, 85])
        assert ax_acc.get_ylabel() == "accuracy (%)"
    finally:
        plt.close(fig)


def test_history_plot_shows_the_lr_without_accuracy():
    import matplotlib.pyplot as plt

    h = make_history()
    h.train_acc, h.val_acc, h.lr = [], [], [0.4, 0.2, 0.1]
    fig = h.plot()
    try:
        assert len(fig.axes) == 2
        assert list(fig.axes[1].lines[0].get_ydata()) == [0.4, 0.2, 0.1]
    finally:
        plt.close(fig)
    with pytest.raises(ValueError, match="nothing to plot"):
        History().plot()


# --- bad input ---------------------------------------------------------------------------


def test_bad_inputs_say_what_was_wrong():
    X, y = blobs()
    model = classifier()
    loss, opt = CrossEntropyLoss(), SGD(model.parameters(), lr=0.1)
    with pytest.raises(TypeError, match=r"train must be a dlcore.data.Split or an \(X, y\) "
                                        r"tuple, got ndarray"):
        quiet_fit(model, loss, opt, X)
    with pytest.raises(TypeError, match=r"val must be a dlcore.data.Split or an \(X, y\) tuple"):
        quiet_fit(model, loss, opt, (X, y), val=(X, y, y))
    with pytest.raises(ValueError, match="fit: epochs must be a positive integer, got 0"):
        quiet_fit(model, loss, opt, (X, y), epochs=0)
    with pytest.raises(ValueError, match="fit: batch_size must be a positive integer, got 0"):
        quiet_fit(model, loss, opt, (X, y), batch_size=0)
    with pytest.raises(ShapeError, match="train: X has 40 rows but y has 39; they must match"):
        quiet_fit(model, loss, opt, (X, y[:-1]))
    with pytest.raises(ShapeError, match="train: the data set is empty"):
        quiet_fit(model, loss, opt, (X[:0], y[:0]))
    with pytest.raises(TypeError, match="train: y must be an array"):
        quiet_fit(model, loss, opt, (X, list(y)))


def test_fit_drop_last_lets_batchnorm_train_when_one_example_is_left_over():
    from dlcore import nn as dnn
    from dlcore.losses import CrossEntropyLoss
    from dlcore.optim import SGD

    rng = np.random.default_rng(0)
    X = rng.standard_normal((9, 3)).astype(np.float32)   # 9 = 2 * 4 + 1
    y = rng.integers(0, 2, 9)
    model = dnn.Sequential(dnn.Linear(3, 4, rng=0), dnn.BatchNorm1d(4), dnn.ReLU(),
                           dnn.Linear(4, 2, rng=1))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        fit(model, CrossEntropyLoss(), SGD(model.parameters(), lr=0.1), (X, y), epochs=1,
            batch_size=4, progress=False, rng=0)
    history = fit(model, CrossEntropyLoss(), SGD(model.parameters(), lr=0.1), (X, y), epochs=2,
                  batch_size=4, progress=False, rng=0, drop_last=True)
    assert len(history.train_loss) == 2 and np.isfinite(history.train_loss).all()


class _Ramp:
    """lr_at(t) = 0.01 * (t + 1), recording every t it is asked for."""

    def __init__(self):
        self.asked = []

    def lr_at(self, t):
        self.asked.append(t)
        return 0.01 * (t + 1)


def test_per_step_schedule_sets_the_rate_before_every_step():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((10, 3)).astype(np.float32)
    y = rng.integers(0, 2, 10)
    model = nn.Sequential(nn.Linear(3, 2, rng=0))
    ramp = _Ramp()
    history = fit(model, CrossEntropyLoss(), SGD(model.parameters(), lr=1.0), (X, y), epochs=2,
                  batch_size=4, progress=False, rng=0, schedule=ramp, schedule_per="step")
    assert ramp.asked == [0, 1, 2, 3, 4, 5]          # 3 steps per epoch, counted over the run
    assert history.lr == pytest.approx([0.03, 0.06])  # the last step's rate in each epoch
    with pytest.raises(ValueError, match="schedule_per must be 'epoch' or 'step', got 'batch'"):
        fit(model, CrossEntropyLoss(), SGD(model.parameters(), lr=1.0), (X, y), epochs=1,
            progress=False, schedule=ramp, schedule_per="batch")


def test_training_diverged_carries_the_finished_epochs():
    class NanAfterTwoEpochs:
        def __init__(self):
            self.inner, self.calls = MSELoss(), 0

        def __call__(self, pred, target):
            self.calls += 1
            value = self.inner(pred, target)
            return float("nan") if self.calls > 2 * 3 + 2 else value  # fit evaluates too

        def backward(self):
            return self.inner.backward()

    rng = np.random.default_rng(1)
    X = rng.standard_normal((6, 2)).astype(np.float32)
    y = rng.standard_normal((6, 1)).astype(np.float32)
    model = nn.Sequential(nn.Linear(2, 1, rng=0))
    with pytest.raises(TrainingDiverged) as info:
        fit(model, NanAfterTwoEpochs(), SGD(model.parameters(), lr=0.01), (X, y), epochs=5,
            batch_size=2, progress=False, rng=0)
    assert info.value.epoch == 2 and info.value.history is not None
    assert info.value.history.epochs == list(range(info.value.epoch))


def test_progress_bars_start_no_monitor_thread():
    import threading

    from dlcore.train import _progress_bar

    before = {t.ident for t in threading.enumerate()}
    for _ in _progress_bar(3, True):
        pass
    started = [t.name for t in threading.enumerate() if t.ident not in before]
    assert started == []
