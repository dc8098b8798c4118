"""dlcore.regularization: penalties and their gradients (L2 = SGD's weight decay), max-norm,
early stopping on scripted and real validation curves, EMA against hand-computed averages,
label smoothing against CrossEntropyLoss, fit's on_step_end / on_train_end hooks, bad input."""
import math

import numpy as np
import pytest

from dlcore import nn
from dlcore.errors import DTypeError, ShapeError
from dlcore.gradcheck import numerical_gradient
from dlcore.losses import CrossEntropyLoss, MSELoss
from dlcore.optim import SGD
from dlcore.regularization import (
    EMA,
    EarlyStopping,
    add_l1_grad_,
    add_l2_grad_,
    l1_penalty,
    l2_penalty,
    max_norm_,
    smooth_labels,
    weights_only,
)
from dlcore.train import History, evaluate, fit


def param(values, grad=None):
    p = nn.Parameter(np.array(values, dtype=np.float64))
    if grad is not None:
        p.grad[...] = grad
    return p


def mlp(seed=0):
    return nn.Sequential(nn.Linear(3, 4, rng=seed), nn.Tanh(), nn.Linear(4, 2, rng=seed + 1))


# --- penalties -----------------------------------------------------------------------------


def test_l2_and_l1_penalties_by_hand():
    a, b = param([[1.0, -2.0], [0.0, 3.0]]), param([-4.0])
    # squares: 1 + 4 + 0 + 9 + 16 = 30; absolute values: 1 + 2 + 0 + 3 + 4 = 10
    assert l2_penalty([a, b], 0.1) == pytest.approx(0.05 * 30, rel=1e-15)
    assert l1_penalty([a, b], 0.1) == pytest.approx(0.1 * 10, rel=1e-15)
    assert l2_penalty(a, 2.0) == pytest.approx(14.0)  # a single Parameter
    assert isinstance(l2_penalty([a], 1.0), float) and isinstance(l1_penalty([a], 1.0), float)
    assert l2_penalty([a, b], 0.0) == 0.0


def test_penalty_gradients_by_hand_and_numerically():
    w = param([[1.5, -2.0], [0.0, 0.25]], grad=[[1.0, 1.0], [1.0, 1.0]])
    add_l2_grad_([w], 0.1)
    np.testing.assert_array_equal(w.grad, [[1.15, 0.8], [1.0, 1.025]])
    w.grad[...] = 0.0
    add_l1_grad_([w], 0.5)
    np.testing.assert_array_equal(w.grad, [[0.5, -0.5], [0.0, 0.5]])  # 0 where W = 0

    rng = np.random.default_rng(0)
    v = nn.Parameter(rng.standard_normal((3, 4)))
    num = numerical_gradient(lambda _: l2_penalty([v], 0.3), v.data)
    add_l2_grad_([v], 0.3)
    np.testing.assert_allclose(v.grad, num, rtol=1e-7, atol=1e-9)
    v.grad[...] = 0.0
    num = numerical_gradient(lambda _: l1_penalty([v], 0.3), v.data)  # no entry near 0
    add_l1_grad_([v], 0.3)
    np.testing.assert_allclose(v.grad, num, rtol=1e-7, atol=1e-9)


def test_add_l2_grad_then_plain_sgd_is_sgd_weight_decay_exactly():
    rng = np.random.default_rng(1)
    data = [rng.standard_normal((5, 3)), rng.standard_normal(3)]
    grads = [rng.standard_normal((5, 3)), rng.standard_normal(3)]
    lr, lam = 0.1, 0.01

    def params():
        return [param(d.copy(), grad=g) for d, g in zip(data, grads)]

    decayed = params()
    SGD(decayed, lr=lr, weight_decay=lam).step()
    by_hand = params()
    add_l2_grad_(by_hand, lam)
    SGD(by_hand, lr=lr).step()
    for p, q, w, g in zip(decayed, by_hand, data, grads):
        np.testing.assert_array_equal(p.data, q.data)  # identical numbers
        # the multiplicative form: W <- (1 - lr λ) W - lr g
        np.testing.assert_allclose(p.data, (1 - lr * lam) * w - lr * g, rtol=1e-14)
        assert not np.allclose(p.data, w - lr * g)  # the decay did something


def test_penalties_accept_a_module_and_weights_only_picks_the_ws():
    model = nn.Sequential(nn.Linear(3, 4, rng=0), nn.ReLU(), nn.Linear(4, 2, rng=1))
    model[0].b.data[...] = 1.0
    ws = weights_only(model)
    assert [id(p) for p in ws] == [id(model[0].W), id(model[2].W)]
    all_sq = sum(float((p.data.astype(np.float64) ** 2).sum()) for p in model.parameters())
    w_sq = sum(float((p.data.astype(np.float64) ** 2).sum()) for p in ws)
    assert l2_penalty(model, 2.0) == pytest.approx(all_sq, rel=1e-6)
    assert l2_penalty(ws, 2.0) == pytest.approx(w_sq, rel=1e-6)
    assert all_sq - w_sq == pytest.approx(4.0)  # the four biases set to 1


# --- max-norm ------------------------------------------------------------------------------


def test_max_norm_rescales_each_column_of_a_linear_weight():
    layer = nn.Linear(2, 3, rng=0).double()
    layer.W.data[...] = [[3.0, 0.6, 0.0],
                         [4.0, 0.8, 0.0]]  # column norms 5, 1, 0
    before = layer.W.data.copy()
    norms = max_norm_(layer, 2.0)
    np.testing.assert_allclose(norms, [5.0, 1.0, 0.0], rtol=1e-15)
    np.testing.assert_allclose(layer.W.data[:, 0], [1.2, 1.6], rtol=1e-15)  # (3, 4) * 2/5
    np.testing.assert_array_equal(layer.W.data[:, 1:], before[:, 1:])  # within c: untouched
    np.testing.assert_allclose(np.linalg.norm(layer.W.data, axis=0), [2.0, 1.0, 0.0])
    np.testing.assert_array_equal(layer.b.data, np.zeros(3))  # the bias is not constrained


def test_max_norm_on_random_weights_and_other_axes():
    rng = np.random.default_rng(0)
    p = nn.Parameter(rng.standard_normal((20, 6)).astype(np.float32))
    before = p.data.copy()
    norms = max_norm_(p, 4.0)
    np.testing.assert_allclose(norms, np.linalg.norm(before, axis=0), rtol=1e-6)
    assert norms.shape == (6,) and (norms > 4.0).any() and (norms < 4.0).any()
    after = np.linalg.norm(p.data, axis=0)
    assert (after <= 4.0 * (1 + 1e-6)).all()
    big = norms > 4.0
    np.testing.assert_allclose(after[big], 4.0, rtol=1e-6)
    np.testing.assert_array_equal(p.data[:, ~big], before[:, ~big])
    # directions are kept
    np.testing.assert_allclose(p.data[:, big] * norms[big] / 4.0, before[:, big], rtol=1e-5)
    assert p.data.dtype == np.float32

    conv = nn.Parameter(rng.standard_normal((3, 2, 2, 2)))  # (C_out, C_in, kH, kW)
    norms = max_norm_(conv, 1.0, axis=(1, 2, 3))
    np.testing.assert_allclose(np.linalg.norm(conv.data.reshape(3, -1), axis=1), 1.0)
    assert norms.shape == (3,) and (norms > 1.0).all()


# --- early stopping on a scripted curve ------------------------------------------------------


class Recorder(nn.Module):
    """A one-parameter 'model' whose weight is set to the epoch number, so that restored
    weights say which epoch they came from."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(np.zeros(2))
        self.register_buffer("count", np.zeros(1))


def scripted_run(values, stopper, metric="val_loss"):
    """Feed `values` as the monitored metric, one epoch at a time, as fit would.
    Returns (model, number of epochs run)."""
    model, history = Recorder(), History()
    for epoch, v in enumerate(values):
        model.w.data[...] = [epoch, 10.0 * epoch]
        model.count[...] = epoch
        history.epochs.append(epoch)
        getattr(history, metric).append(v)
        if stopper.on_epoch_end(epoch, history, model):
            return model, epoch + 1
    stopper.on_train_end(history, model)
    return model, len(values)


CURVE = [1.0, 0.8, 0.7, 0.75, 0.72, 0.71, 0.9]


def test_early_stopping_on_a_scripted_curve_stops_and_restores_the_best_epoch():
    stop = EarlyStopping(patience=3)
    model, ran = scripted_run(CURVE, stop)
    # best 0.7 at epoch 2; epochs 3, 4, 5 do not improve: stop after epoch 5
    assert (stop.best_epoch, stop.best_value, stop.stopped_epoch) == (2, 0.7, 5)
    assert ran == 6
    np.testing.assert_array_equal(model.w.data, [2.0, 20.0])  # epoch 2's weights
    np.testing.assert_array_equal(model.count, [2.0])  # buffers too


def test_patience_and_no_stop():
    stop = EarlyStopping(patience=5)
    model, ran = scripted_run(CURVE, stop)
    assert ran == 7 and stop.stopped_epoch is None and stop.best_epoch == 2
    # fit ended without a stop: on_train_end still restores the best weights
    np.testing.assert_array_equal(model.w.data, [2.0, 20.0])

    keep = EarlyStopping(patience=5, restore_best=False)
    model, _ = scripted_run(CURVE, keep)
    np.testing.assert_array_equal(model.w.data, [6.0, 60.0])  # the last epoch's weights
    with pytest.raises(RuntimeError, match="no best weights were kept"):
        keep.restore(model)

    stop0 = EarlyStopping(patience=0)  # stop at the first epoch that does not improve
    _, ran = scripted_run(CURVE, stop0)
    assert (ran, stop0.stopped_epoch, stop0.best_epoch) == (4, 3, 2)


def test_min_delta_requires_an_improvement_larger_than_it():
    curve = [1.0, 0.875, 0.75, 0.625, 0.5]  # steps of 1/8: exact in binary
    plain = EarlyStopping(patience=2)
    _, ran = scripted_run(curve, plain)
    assert (ran, plain.best_epoch, plain.stopped_epoch) == (5, 4, None)
    # min_delta 1/4: 0.875 and 0.75 are not MORE than 1/4 below 1.0 (strict), stop after 2
    strict = EarlyStopping(patience=2, min_delta=0.25)
    model, ran = scripted_run(curve, strict)
    assert (ran, strict.best_epoch, strict.best_value, strict.stopped_epoch) == (3, 0, 1.0, 2)
    np.testing.assert_array_equal(model.w.data, [0.0, 0.0])
    # min_delta 1/8: every other epoch counts (0.75 < 1.0 - 1/8, 0.5 < 0.75 - 1/8)
    half = EarlyStopping(patience=2, min_delta=0.125)
    _, ran = scripted_run(curve, half)
    assert (ran, half.best_epoch, half.best_value, half.stopped_epoch) == (5, 4, 0.5, None)
    assert half.wait == 0


def test_mode_is_auto_from_the_metric_name():
    accs = [0.5, 0.7, 0.65, 0.6, 0.62, 0.9]
    stop = EarlyStopping(patience=3, monitor="val_acc")
    assert stop.mode == "max"
    _, ran = scripted_run(accs, stop, metric="val_acc")
    assert (ran, stop.best_epoch, stop.best_value, stop.stopped_epoch) == (5, 1, 0.7, 4)
    assert EarlyStopping(monitor="train_loss").mode == "min"
    assert EarlyStopping(monitor="train_acc").mode == "max"
    # mode="min" on an accuracy treats a falling accuracy as progress
    wrong_way = EarlyStopping(patience=3, monitor="val_acc", mode="min")
    _, ran = scripted_run(accs, wrong_way, metric="val_acc")
    assert (ran, wrong_way.best_epoch, wrong_way.stopped_epoch) == (4, 0, 3)


def test_a_new_history_starts_the_count_afresh():
    stop = EarlyStopping(patience=3)
    scripted_run(CURVE, stop)
    assert stop.stopped_epoch == 5
    scripted_run([2.0, 1.0], stop)
    assert (stop.best_epoch, stop.best_value, stop.stopped_epoch) == (1, 1.0, None)


def test_early_stopping_complains_when_the_metric_is_missing():
    stop = EarlyStopping()
    with pytest.raises(ValueError, match=r"no val_loss to monitor \(pass val=\.\.\. to fit\)"):
        stop.on_epoch_end(0, History(), Recorder())


# --- early stopping inside fit -----------------------------------------------------------


def overfit_problem():
    """12 noisy samples of sin(3x) and a 64-unit net trained with momentum 0.9: the
    validation loss (on the clean curve) zigzags down, reaches its lowest around epoch 35,
    then stops improving as the net fits the noise (seeded, so the same curve every run)."""
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (12, 1)).astype(np.float32)
    y = (np.sin(3 * X) + rng.normal(0, 0.4, X.shape)).astype(np.float32)
    Xv = np.linspace(-1, 1, 50, dtype=np.float32)[:, None]
    model = nn.Sequential(nn.Linear(1, 64, rng=0), nn.Tanh(), nn.Linear(64, 1, rng=1))
    return model, (X, y), (Xv, np.sin(3 * Xv).astype(np.float32))


class Snapshots:
    """Keeps the model's state at the end of every epoch (runs before EarlyStopping)."""

    def __init__(self):
        self.states = []

    def on_epoch_end(self, epoch, history, model):
        self.states.append(model.state_dict())


def test_early_stopping_inside_fit_restores_the_best_epoch():
    model, train, val = overfit_problem()
    snaps, stop = Snapshots(), EarlyStopping(patience=5)
    hist = fit(model, MSELoss(), SGD(model.parameters(), lr=0.05, momentum=0.9), train, val=val,
               epochs=100, batch_size=12, callbacks=[snaps, stop], progress=False, rng=0)
    assert hist.stopped_early and len(hist) < 100
    assert stop.stopped_epoch == hist.epochs[-1] == stop.best_epoch + 5
    assert stop.best_epoch == int(np.argmin(hist.val_loss))
    assert stop.best_value == min(hist.val_loss) < hist.val_loss[-1]
    for name, arr in model.state_dict().items():
        np.testing.assert_array_equal(arr, snaps.states[stop.best_epoch][name])
    assert evaluate(model, MSELoss(), *val)[0] == pytest.approx(stop.best_value, rel=1e-6)


def test_fit_calls_on_train_end_so_the_best_weights_come_back_without_a_stop():
    model, train, val = overfit_problem()
    snaps, stop = Snapshots(), EarlyStopping(patience=1000)
    hist = fit(model, MSELoss(), SGD(model.parameters(), lr=0.05, momentum=0.9), train, val=val,
               epochs=40, batch_size=12, callbacks=[snaps, stop], progress=False, rng=0)
    assert not hist.stopped_early and stop.stopped_epoch is None
    assert stop.best_epoch == int(np.argmin(hist.val_loss)) < 39
    for name, arr in model.state_dict().items():
        np.testing.assert_array_equal(arr, snaps.states[stop.best_epoch][name])
    assert not np.array_equal(model[0].W.data, snaps.states[-1]["0.W"])


# --- fit's hooks -----------------------------------------------------------------------------


def test_fit_calls_on_step_end_after_each_step_and_on_train_end_once():
    events = []

    class Spy:
        def on_step_end(self, model):
            events.append(("step", model[0].W.data.copy()))

        def on_train_end(self, history, model):
            events.append(("end", len(history)))

    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((10, 3)).astype(np.float32), rng.integers(0, 2, 10)
    model = mlp()
    w0 = model[0].W.data.copy()
    hist = fit(model, CrossEntropyLoss(), SGD(model.parameters(), lr=0.5), (X, y), epochs=2,
               batch_size=4, callbacks=Spy(), progress=False, rng=0)  # a lone callback
    steps = [e for e in events if e[0] == "step"]
    assert len(steps) == 2 * 3 and events[-1] == ("end", 2) and len(hist) == 2
    assert not np.array_equal(steps[0][1], w0)  # called after the optimizer's step
    np.testing.assert_array_equal(steps[-1][1], model[0].W.data)

    events.clear()

    class StopAtOnce(Spy):
        def on_epoch_end(self, epoch, history, model):
            return True

    fit(model, CrossEntropyLoss(), SGD(model.parameters(), lr=0.5), (X, y), epochs=5,
        batch_size=4, callbacks=[StopAtOnce()], progress=False, rng=0)
    assert [e[0] for e in events] == ["step"] * 3 + ["end"]  # also after an early stop


# --- EMA ---------------------------------------------------------------------------------------


def test_ema_shadow_is_the_hand_computed_geometric_average():
    p = param([1.0, 2.0])
    ema = EMA([p], decay=0.9)
    values = [[3.0, 0.0], [5.0, -2.0], [7.0, 4.0]]
    for v in values:
        p.data[...] = v
        ema.update()
    theta = np.array([[1.0, 2.0]] + values)
    d = 0.9
    expected = d**3 * theta[0] + (1 - d) * (d**2 * theta[1] + d * theta[2] + theta[3])
    np.testing.assert_allclose(ema.shadow[0], expected, rtol=1e-14)
    np.testing.assert_allclose(ema.averaged()[0], expected, rtol=1e-14)
    assert ema.num_updates == 3


def test_ema_bias_correction_weights_sum_to_one():
    p = param([1.0, 2.0])
    ema = EMA(p, decay=0.9, bias_correction=True)
    np.testing.assert_array_equal(ema.averaged()[0], [1.0, 2.0])  # before any update: θ
    values = np.array([[3.0, 0.0], [5.0, -2.0], [7.0, 4.0]])
    for v in values:
        p.data[...] = v
        ema.update()
    d = 0.9
    w = (1 - d) * d ** np.array([2.0, 1.0, 0.0]) / (1 - d**3)
    assert w.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(ema.averaged()[0], w @ values, rtol=1e-14)
    # a constant parameter averages to itself with the correction (not pulled toward 0)
    q = param([4.0])
    ema = EMA([q], decay=0.99, bias_correction=True)
    ema.update()
    np.testing.assert_allclose(ema.averaged()[0], [4.0], rtol=1e-12)
    # decay 0: the average is the latest value
    ema = EMA([q], decay=0.0)
    q.data[...] = 9.0
    ema.update()
    np.testing.assert_array_equal(ema.shadow[0], [9.0])


def test_ema_swapped_and_copy_to():
    model = mlp().double()
    ema = EMA(model, decay=0.5)
    start = [p.data.copy() for p in model.parameters()]
    for p in model.parameters():
        p.data += 1.0
    ema.update()  # averages: start + 0.5
    raw = [p.data.copy() for p in model.parameters()]
    with ema.swapped(model) as swapped:
        assert swapped is ema
        for p, s in zip(model.parameters(), start):
            np.testing.assert_allclose(p.data, s + 0.5, rtol=1e-14)
    for p, r in zip(model.parameters(), raw):
        np.testing.assert_array_equal(p.data, r)
    with pytest.raises(KeyError), ema.swapped():  # restored also when the block raises
        raise KeyError("inside")
    for p, r in zip(model.parameters(), raw):
        np.testing.assert_array_equal(p.data, r)

    other = mlp(seed=5).double()
    ema.copy_to(other)
    for p, s in zip(other.parameters(), start):
        np.testing.assert_allclose(p.data, s + 0.5, rtol=1e-14)
    with pytest.raises(ValueError, match="the model has 2 parameters but the EMA averages 4"):
        ema.copy_to(nn.Linear(3, 4))
    with pytest.raises(ShapeError, match=r"parameter 0 has shape \(2, 4\)"):
        ema.copy_to(nn.Sequential(nn.Linear(2, 4), nn.Linear(4, 2)))


def test_ema_as_a_fit_callback_updates_after_every_step():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((10, 3)), rng.integers(0, 2, 10)
    model = mlp().double()
    ema = EMA(model, decay=0.8)
    start = [p.data.copy() for p in model.parameters()]
    seen = []

    class Watch:
        def on_step_end(self, model):
            seen.append([p.data.copy() for p in model.parameters()])

    fit(model, CrossEntropyLoss(), SGD(model.parameters(), lr=0.3), (X.astype(np.float64), y),
        epochs=2, batch_size=5, callbacks=[ema, Watch()], progress=False, rng=0)
    assert ema.num_updates == len(seen) == 4
    for i, p in enumerate(model.parameters()):
        expected = ema.decay ** 4 * start[i]
        for k, snap in enumerate(seen):
            expected = expected + (1 - ema.decay) * ema.decay ** (3 - k) * snap[i]
        np.testing.assert_allclose(ema.shadow[i], expected, rtol=1e-12)


# --- label smoothing ---------------------------------------------------------------------------


def test_smooth_labels_by_hand():
    q = smooth_labels(np.array([2, 0]), 4, 0.2)
    np.testing.assert_allclose(q, [[0.05, 0.05, 0.85, 0.05], [0.85, 0.05, 0.05, 0.05]],
                               rtol=1e-6)
    assert q.dtype == np.float32
    np.testing.assert_allclose(q.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(smooth_labels(np.array([1]), 3, 0.0, dtype=np.float64),
                                  [[0.0, 1.0, 0.0]])


@pytest.mark.parametrize("eps", [0.0, 0.1, 0.35, 1.0])
def test_cross_entropy_on_smoothed_labels_equals_the_built_in(eps):
    rng = np.random.default_rng(3)
    logits = rng.standard_normal((6, 5)) * 3
    y = rng.integers(0, 5, 6)
    q = smooth_labels(y, 5, eps, dtype=np.float64)
    logp = logits - logits.max(axis=1, keepdims=True)
    logp -= np.log(np.exp(logp).sum(axis=1, keepdims=True))
    by_hand = float(-(q * logp).sum(axis=1).mean())
    built_in = CrossEntropyLoss(label_smoothing=eps)
    assert built_in(logits, y) == pytest.approx(by_hand, rel=1e-12)
    p = np.exp(logp)
    np.testing.assert_allclose(built_in.backward(), (p - q) / 6, rtol=1e-12, atol=1e-15)


# --- bad input -------------------------------------------------------------------------------


def test_bad_arguments_say_what_was_wrong():
    p = param([1.0, 2.0])
    with pytest.raises(ValueError, match=r"l2_penalty: weight_decay must be in \[0.0, inf\), "
                                         r"got -0.1"):
        l2_penalty([p], -0.1)
    with pytest.raises(ValueError, match=r"l1_penalty: strength must be in"):
        l1_penalty([p], math.inf)
    with pytest.raises(ValueError, match=r"add_l2_grad_: weight_decay must be in"):
        add_l2_grad_([p], -1)
    with pytest.raises(TypeError, match=r"add_l1_grad_: strength must be a real number"):
        add_l1_grad_([p], "0.1")
    with pytest.raises(TypeError, match=r"l2_penalty: params\[1\] must be a "
                                        r"dlcore.nn.Parameter, got ndarray"):
        l2_penalty([p, np.ones(2)], 0.1)
    with pytest.raises(ValueError, match="l1_penalty: got an empty parameter list"):
        l1_penalty([], 0.1)
    with pytest.raises(TypeError, match="l2_penalty: params must be a Module or a list of Parameters"):
        l2_penalty(3.0, 0.1)
    with pytest.raises(TypeError, match="weights_only: model must be a dlcore.nn.Module"):
        weights_only([p])
    with pytest.raises(ValueError, match="weights_only: Sequential has no parameter named W"):
        weights_only(nn.Sequential(nn.ReLU()))


def test_bad_max_norm_arguments():
    layer = nn.Linear(3, 2)
    with pytest.raises(ValueError, match=r"max_norm_: c must be in \(0.0, inf\), got 0"):
        max_norm_(layer, 0)
    with pytest.raises(ValueError, match=r"max_norm_: c must be in"):
        max_norm_(layer, -1.0)
    with pytest.raises(TypeError, match="max_norm_: ReLU has no weight parameter W"):
        max_norm_(nn.ReLU(), 1.0)
    with pytest.raises(TypeError, match="max_norm_: expected a layer with a weight W or a "
                                        "Parameter, got ndarray"):
        max_norm_(np.ones((3, 2)), 1.0)
    with pytest.raises(ShapeError, match="max_norm_: axis 2 is out of range for a weight with "
                                         "2 dimensions"):
        max_norm_(layer, 1.0, axis=2)
    with pytest.raises(ValueError, match="covers every axis of W"):
        max_norm_(layer, 1.0, axis=(0, 1))
    with pytest.raises(TypeError, match="axis must be an int or a tuple of ints"):
        max_norm_(layer, 1.0, axis=0.0)


def test_bad_early_stopping_and_ema_arguments():
    with pytest.raises(ValueError, match="EarlyStopping: patience must be a non-negative "
                                         "integer, got -1"):
        EarlyStopping(patience=-1)
    with pytest.raises(ValueError, match="patience must be a non-negative integer, got 2.5"):
        EarlyStopping(patience=2.5)
    with pytest.raises(ValueError, match=r"EarlyStopping: min_delta must be in \[0.0, inf\)"):
        EarlyStopping(min_delta=-0.01)
    with pytest.raises(ValueError, match="EarlyStopping: monitor must be one of"):
        EarlyStopping(monitor="val_accuracy")
    with pytest.raises(ValueError, match="mode must be 'auto', 'min' or 'max', got 'down'"):
        EarlyStopping(mode="down")
    with pytest.raises(TypeError, match="restore_best must be True or False"):
        EarlyStopping(restore_best="yes")
    p = param([1.0])
    for bad in (1.0, -0.1, 1.5):
        with pytest.raises(ValueError, match=r"EMA: decay must be in \[0.0, 1.0\)"):
            EMA([p], decay=bad)
    with pytest.raises(TypeError, match="EMA: bias_correction must be True or False"):
        EMA([p], bias_correction=1)
    with pytest.raises(TypeError, match=r"EMA: params\[0\] must be a dlcore.nn.Parameter"):
        EMA([np.ones(2)])
    ema = EMA([p])
    p.data = np.ones(3)
    with pytest.raises(ShapeError, match=r"EMA.update: parameter 0 now has shape \(3,\)"):
        ema.update()


def test_bad_smooth_labels_arguments():
    y = np.array([0, 2])
    with pytest.raises(ValueError, match=r"smooth_labels: eps must be in \[0.0, 1.0\], got 1.5"):
        smooth_labels(y, 3, 1.5)
    with pytest.raises(ValueError, match="smooth_labels: num_classes must be a positive "
                                         "integer, got 0"):
        smooth_labels(y, 0, 0.1)
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 1\] for 2 classes"):
        smooth_labels(y, 2, 0.1)
    with pytest.raises(DTypeError, match="labels must be integer class indices"):
        smooth_labels(y.astype(np.float32), 3, 0.1)
    with pytest.raises(ShapeError, match=r"y must be integer labels of shape \(N,\), got shape "
                                         r"\(2, 1\)"):
        smooth_labels(y[:, None], 3, 0.1)
    with pytest.raises(TypeError, match="smooth_labels: labels must be an integer array, "
                                        "got list"):
        smooth_labels([0, 1], 3, 0.1)
    with pytest.raises(TypeError, match="dtype must be a float type, got int64"):
        smooth_labels(y, 3, 0.1, dtype=np.int64)
