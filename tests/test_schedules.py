"""dlcore.schedules: every schedule at known steps (hand-computed values and
torch.optim.lr_scheduler 2.13.0 reference numbers pasted as literals), purity,
validation, LRScheduler driving SGD with two param groups, and fit(schedule=...)."""
import math

import numpy as np
import pytest

from dlcore import nn
from dlcore.losses import MSELoss
from dlcore.nn import Parameter
from dlcore.optim import SGD
from dlcore.schedules import (
    Constant,
    CosineAnnealing,
    CyclicLR,
    ExponentialDecay,
    InverseSigmoidDecay,
    InverseTimeDecay,
    LinearDecay,
    LRScheduler,
    StepDecay,
    Warmup,
    values,
)
from dlcore.train import fit

# --- hand-computed values ---------------------------------------------------------------


def test_constant():
    s = Constant(0.3)
    assert [s.lr_at(t) for t in (0, 1, 1000)] == [0.3, 0.3, 0.3]


def test_step_decay_at_known_steps():
    s = StepDecay(0.1, 10, 0.5)
    assert s.lr_at(0) == s.lr_at(9) == 0.1
    assert s.lr_at(10) == pytest.approx(0.05, rel=1e-15)
    assert s.lr_at(25) == pytest.approx(0.025, rel=1e-15)  # two halvings: 0.1 * 0.5^2
    assert StepDecay(1.0, 5).lr_at(12) == pytest.approx(0.01, rel=1e-14)  # gamma defaults to 0.1


def test_exponential_decay_gamma_form():
    s = ExponentialDecay(0.1, 0.9)
    assert s.lr_at(0) == 0.1
    assert s.lr_at(3) == pytest.approx(0.0729, rel=1e-14)  # 0.1 * 0.9^3


def test_exponential_decay_rate_form():
    s = ExponentialDecay.from_rate(0.2, 0.5)
    assert s.lr_at(0) == 0.2
    assert s.lr_at(4) == pytest.approx(0.2 * 0.1353352832366127, rel=1e-14)  # 0.2 e^-2
    # the two forms are one curve with gamma = e^-k
    g = ExponentialDecay(0.2, math.exp(-0.5))
    np.testing.assert_allclose(values(s, 30), values(g, 30), rtol=1e-12)
    assert ExponentialDecay.from_rate(0.2, 0.0).lr_at(50) == 0.2  # k = 0: constant
    assert ExponentialDecay.from_rate(1.0, 1000.0).lr_at(1) == 0.0  # e^-1000 underflows, no error


def test_inverse_time_decay():
    s = InverseTimeDecay(0.1, 0.5)
    assert [s.lr_at(t) for t in (0, 2, 6)] == pytest.approx([0.1, 0.05, 0.025], rel=1e-15)


def test_linear_decay_reaches_end_lr_and_stays():
    s = LinearDecay(0.2, 4, end_lr=0.05)
    assert [s.lr_at(t) for t in (0, 2, 4, 10)] == pytest.approx([0.2, 0.125, 0.05, 0.05],
                                                                rel=1e-14)
    assert LinearDecay(1.0, 10).lr_at(3) == pytest.approx(0.7, rel=1e-14)  # end_lr = 0
    assert LinearDecay(1.0, 10).lr_at(10) == 0.0
    assert LinearDecay(0.1, 2, end_lr=0.3).lr_at(1) == pytest.approx(0.2)  # a rise is allowed


def test_inverse_sigmoid_decay():
    s = InverseSigmoidDecay(1.0, 10)
    assert s.lr_at(0) == pytest.approx(10 / 11, rel=1e-15)
    assert s.lr_at(20) == pytest.approx(10 / (10 + 7.38905609893065), rel=1e-14)  # k/(k+e^2)
    s2 = InverseSigmoidDecay(0.5, 2)
    assert s2.lr_at(2) == pytest.approx(0.5 * 2 / (2 + math.e), rel=1e-14)
    assert 0.0 <= s2.lr_at(10**6) < 1e-300  # far out: towards 0, no overflow
    lrs = values(s, 100)
    assert np.all(np.diff(lrs) < 0)  # strictly decreasing


def test_cosine_annealing_at_start_middle_end_and_past_t_max():
    s = CosineAnnealing(0.1, 10, lr_min=0.01)
    assert s.lr_at(0) == pytest.approx(0.1, rel=1e-15)
    assert s.lr_at(5) == pytest.approx(0.055, rel=1e-14)  # halfway: the mean of lr0 and lr_min
    assert s.lr_at(10) == pytest.approx(0.01, rel=1e-14)
    # documented difference from PyTorch: past T_max we stay at lr_min (torch climbs back)
    assert s.lr_at(15) == s.lr_at(20) == s.lr_at(1000) == pytest.approx(0.01, rel=1e-14)
    assert CosineAnnealing(1.0, 4).lr_at(1) == pytest.approx((1 + math.sqrt(0.5)) / 2)


def test_cyclic_triangular_at_known_steps():
    s = CyclicLR(0.01, 0.1, step_size=4)
    assert s.lr_at(0) == pytest.approx(0.01, rel=1e-14)  # start of a cycle: base_lr
    assert s.lr_at(4) == pytest.approx(0.1, rel=1e-14)  # step_size: max_lr
    assert s.lr_at(8) == pytest.approx(0.01, rel=1e-14)  # 2 step_size: base_lr again
    assert s.lr_at(6) == pytest.approx(0.055, rel=1e-14)  # 1.5 step_size: halfway down
    assert s.lr_at(2) == pytest.approx(0.055, rel=1e-14)  # halfway up
    assert s.lr_at(12) == pytest.approx(0.1, rel=1e-14)  # the second cycle's peak
    np.testing.assert_allclose(values(s, 8), values(s, range(8, 16)), rtol=1e-14)  # period 8


def test_warmup_ramps_then_starts_the_schedule():
    inner = StepDecay(0.1, 10, 0.5)
    s = Warmup(inner, 4)
    ramp = [s.lr_at(t) for t in range(4)]
    assert ramp == pytest.approx([0.025, 0.05, 0.075, 0.1], rel=1e-14)
    assert s.lr_at(4) == inner.lr_at(0) == 0.1
    assert s.lr_at(14) == pytest.approx(inner.lr_at(10)) == pytest.approx(0.05)
    assert s.lr_at(29) == pytest.approx(0.025)
    w1 = Warmup(CosineAnnealing(0.2, 10), 1)  # one warm-up step: lr_at(0) twice
    assert w1.lr_at(0) == w1.lr_at(1) == pytest.approx(0.2)


# --- PyTorch's numbers (torch 2.13.0, lr read from the optimizer before each step) ------------

TORCH_STEP_LR = [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125]  # (0.1, 3, 0.5)
TORCH_EXPONENTIAL_LR = [0.1, 0.09000000000000001, 0.08100000000000002, 0.07290000000000002,
                        0.06561000000000002, 0.05904900000000002]  # lr 0.1, gamma 0.9
# CosineAnnealingLR(T_max=10, eta_min=0.01), lr 0.1, t = 0..15
TORCH_COSINE = [0.1, 0.09779754323328192, 0.09140576474687263, 0.08145033635316129,
                0.06890576474687264, 0.05500000000000001, 0.04109423525312737,
                0.028549663646838717, 0.01859423525312737, 0.012202456766718092, 0.01,
                0.012202456766718092, 0.0185942352531274, 0.028549663646838794,
                0.04109423525312751, 0.05500000000000021]
# CyclicLR(base_lr=0.01, max_lr=0.1, step_size_up=4, cycle_momentum=False), t = 0..12
TORCH_CYCLIC = [0.01, 0.0325, 0.05500000000000001, 0.0775, 0.1, 0.0775, 0.05500000000000001,
                0.0325, 0.01, 0.0325, 0.05500000000000001, 0.0775, 0.1]
# LinearLR(start_factor=1, end_factor=0.25, total_iters=4), lr 0.2, t = 0..6
TORCH_LINEAR = [0.2, 0.1625, 0.125, 0.0875, 0.049999999999999996, 0.049999999999999996,
                0.049999999999999996]


@pytest.mark.parametrize("schedule, reference", [
    (StepDecay(0.1, 3, 0.5), TORCH_STEP_LR),
    (ExponentialDecay(0.1, 0.9), TORCH_EXPONENTIAL_LR),
    (CosineAnnealing(0.1, 10, lr_min=0.01), TORCH_COSINE[:11]),
    (CyclicLR(0.01, 0.1, 4), TORCH_CYCLIC),
    (LinearDecay(0.2, 4, end_lr=0.05), TORCH_LINEAR),
], ids=["StepLR", "ExponentialLR", "CosineAnnealingLR", "CyclicLR", "LinearLR"])
def test_matches_pytorch(schedule, reference):
    np.testing.assert_allclose(values(schedule, len(reference)), reference, rtol=1e-12)


def test_cosine_past_t_max_differs_from_pytorch_as_documented():
    ours = values(CosineAnnealing(0.1, 10, lr_min=0.01), 16)
    np.testing.assert_allclose(ours[11:], 0.01, rtol=1e-14)  # held at lr_min
    assert np.all(np.array(TORCH_COSINE[11:]) > 0.012)  # torch's cosine climbs back


# --- purity, steps, repr, values() ----------------------------------------------------------

ALL = [
    Constant(0.1), StepDecay(0.1, 3, 0.5), ExponentialDecay(0.1, 0.9),
    ExponentialDecay.from_rate(0.1, 0.2), InverseTimeDecay(0.1, 0.5), LinearDecay(0.1, 5),
    InverseSigmoidDecay(0.1, 4), CosineAnnealing(0.1, 7), CyclicLR(0.01, 0.1, 3),
    Warmup(CosineAnnealing(0.1, 7), 3),
]


@pytest.mark.parametrize("s", ALL, ids=lambda s: type(s).__name__)
def test_lr_at_is_a_pure_function_of_t(s):
    forward = [s.lr_at(t) for t in range(20)]
    backward = [s.lr_at(t) for t in reversed(range(20))][::-1]
    assert forward == backward == [s.lr_at(t) for t in range(20)]
    assert all(isinstance(v, float) and v >= 0 for v in forward)
    assert s.lr_at(np.int64(5)) == s.lr_at(5) == s(5)


@pytest.mark.parametrize("s", ALL, ids=lambda s: type(s).__name__)
def test_bad_steps_are_refused(s):
    with pytest.raises(ValueError, match="must be >= 0"):
        s.lr_at(-1)
    for bad in (2.5, 2.0, True, "3", None):
        with pytest.raises(TypeError, match="the step t must be an integer"):
            s.lr_at(bad)


def test_repr_names_the_hyperparameters():
    assert repr(StepDecay(0.1, 10, 0.5)) == "StepDecay(lr0=0.1, step_size=10, gamma=0.5)"
    assert repr(ExponentialDecay(0.1, 0.9)) == "ExponentialDecay(lr0=0.1, gamma=0.9)"
    assert repr(ExponentialDecay.from_rate(0.1, 0.2)) == "ExponentialDecay.from_rate(lr0=0.1, k=0.2)"
    assert repr(CosineAnnealing(0.1, 50)) == "CosineAnnealing(lr0=0.1, T_max=50, lr_min=0.0)"
    assert repr(CyclicLR(0.01, 0.1, 4)) == "CyclicLR(base_lr=0.01, max_lr=0.1, step_size=4)"
    assert repr(Warmup(Constant(0.1), 5)) == "Warmup(schedule=Constant(lr0=0.1), warmup_steps=5)"
    assert repr(InverseSigmoidDecay(1, 10)) == "InverseSigmoidDecay(lr0=1.0, k=10.0)"
    assert repr(LinearDecay(0.2, 4)) == "LinearDecay(lr0=0.2, total_steps=4, end_lr=0.0)"
    assert repr(InverseTimeDecay(0.1, 0.5)) == "InverseTimeDecay(lr0=0.1, k=0.5)"


def test_values_of_a_count_and_of_given_steps():
    s = StepDecay(0.1, 10, 0.5)
    v = values(s, 30)
    assert v.shape == (30,) and v.dtype == np.float64
    assert v[25] == pytest.approx(0.025)
    np.testing.assert_array_equal(values(s, [0, 10, 25]), [s.lr_at(0), s.lr_at(10), s.lr_at(25)])
    assert values(s, 0).shape == (0,)
    with pytest.raises(ValueError, match="steps must be >= 0"):
        values(s, -1)
    with pytest.raises(TypeError, match="lr_at"):
        values(lambda t: 0.1, 3)
    with pytest.raises(TypeError, match="the step t must be an integer"):
        values(s, [0.5])


# --- validation -----------------------------------------------------------------------------


@pytest.mark.parametrize("make, error, message", [
    (lambda: Constant(-0.1), ValueError, r"Constant: lr0 must be in \[0.0, inf\)"),
    (lambda: StepDecay(-1.0, 10), ValueError, r"StepDecay: lr0 must be in"),
    (lambda: StepDecay(float("nan"), 10), ValueError, r"lr0 must be a number, got nan"),
    (lambda: StepDecay(float("inf"), 10), ValueError, r"lr0 must be in \[0.0, inf\)"),
    (lambda: StepDecay(0.1, 0), ValueError, r"StepDecay: step_size must be a positive integer"),
    (lambda: StepDecay(0.1, 2.5), ValueError, r"step_size must be a positive integer, got 2.5"),
    (lambda: StepDecay(0.1, 10, gamma=0.0), ValueError, r"gamma must be in \(0.0, 1.0\]"),
    (lambda: StepDecay(0.1, 10, gamma=1.5), ValueError, r"gamma must be in \(0.0, 1.0\]"),
    (lambda: StepDecay("0.1", 10), TypeError, r"lr0 must be a real number"),
    (lambda: ExponentialDecay(0.1, 1.01), ValueError, r"ExponentialDecay: gamma must be in"),
    (lambda: ExponentialDecay.from_rate(0.1, -0.5), ValueError,
     r"ExponentialDecay.from_rate: k must be in \[0.0, inf\)"),
    (lambda: InverseTimeDecay(0.1, -1), ValueError, r"InverseTimeDecay: k must be in \[0.0"),
    (lambda: LinearDecay(0.1, 0), ValueError, r"LinearDecay: total_steps must be a positive"),
    (lambda: LinearDecay(0.1, 5, end_lr=-0.01), ValueError, r"end_lr must be in \[0.0, inf\)"),
    (lambda: InverseSigmoidDecay(0.1, 0), ValueError, r"InverseSigmoidDecay: k must be in \(0.0"),
    (lambda: CosineAnnealing(0.1, 0), ValueError, r"CosineAnnealing: T_max must be a positive"),
    (lambda: CosineAnnealing(0.1, 10, lr_min=0.2), ValueError, r"lr_min must be <= lr0"),
    (lambda: CosineAnnealing(0.1, 10, lr_min=-0.01), ValueError, r"lr_min must be in \[0.0"),
    (lambda: CyclicLR(0.1, 0.01, 4), ValueError, r"CyclicLR: base_lr must be <= max_lr"),
    (lambda: CyclicLR(-0.1, 0.1, 4), ValueError, r"CyclicLR: base_lr must be in \[0.0"),
    (lambda: CyclicLR(0.01, 0.1, 0), ValueError, r"CyclicLR: step_size must be a positive"),
    (lambda: Warmup(Constant(0.1), 0), ValueError, r"Warmup: warmup_steps must be a positive"),
    (lambda: Warmup(0.1, 5), TypeError, r"Warmup: schedule must have an lr_at\(t\) method"),
])
def test_bad_hyperparameters_are_refused_with_a_clear_message(make, error, message):
    with pytest.raises(error, match=message):
        make()


# --- LRScheduler with an optimizer ------------------------------------------------------------


def two_group_sgd():
    p1 = Parameter(np.array([1.0, 2.0]))
    p2 = Parameter(np.array([[3.0]]))
    opt = SGD([{"params": [p1]}, {"params": [p2], "lr": 0.7}], lr=0.3)
    return opt, p1, p2


def test_lr_scheduler_sets_every_group_at_once_and_after_each_step():
    opt, p1, p2 = two_group_sgd()
    schedule = StepDecay(0.1, 2, 0.5)
    sched = LRScheduler(opt, schedule)
    assert sched.t == 0
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.1]  # lr_at(0), before any step
    seen = []
    for k in range(1, 6):
        seen.append(sched.get_last_lr())
        p1.grad[...] = [1.0, -2.0]
        p2.grad[...] = [[4.0]]
        before1, before2 = p1.data.copy(), p2.data.copy()
        opt.step()
        lr = schedule.lr_at(k - 1)  # this step ran with lr_at(k-1) in both groups
        np.testing.assert_allclose(p1.data, before1 - lr * np.array([1.0, -2.0]), rtol=1e-15)
        np.testing.assert_allclose(p2.data, before2 - lr * 4.0, rtol=1e-15)
        sched.step()
        assert sched.t == k
        assert sched.get_last_lr() == [schedule.lr_at(k)] * 2
    # torch 2.13.0 StepLR(step_size=2, gamma=0.5), two groups of lr 0.1: get_last_lr()
    assert seen == [[0.1, 0.1], [0.1, 0.1], [0.05, 0.05], [0.05, 0.05], [0.025, 0.025]]


def test_lr_scheduler_state_dict_round_trip():
    opt, _, _ = two_group_sgd()
    sched = LRScheduler(opt, CosineAnnealing(0.1, 10))
    for _ in range(3):
        sched.step()
    saved = sched.state_dict()
    assert saved == {"t": 3}
    opt2, _, _ = two_group_sgd()
    sched2 = LRScheduler(opt2, CosineAnnealing(0.1, 10))
    sched2.load_state_dict(saved)
    assert sched2.t == 3
    assert sched2.get_last_lr() == sched.get_last_lr() == [CosineAnnealing(0.1, 10).lr_at(3)] * 2
    sched2.step()
    assert sched2.get_last_lr()[0] == pytest.approx(CosineAnnealing(0.1, 10).lr_at(4))
    with pytest.raises(ValueError, match="expected a dict with key 't'"):
        sched2.load_state_dict({"last_epoch": 3})
    with pytest.raises(ValueError, match="must be >= 0"):
        sched2.load_state_dict({"t": -1})


def test_lr_scheduler_refuses_bad_arguments():
    opt, _, _ = two_group_sgd()
    with pytest.raises(TypeError, match="optimizer must be a dlcore.optim optimizer"):
        LRScheduler([Parameter(np.zeros(2))], Constant(0.1))
    with pytest.raises(TypeError, match=r"schedule must have an lr_at\(t\) method"):
        LRScheduler(opt, 0.1)

    class Negative:
        def lr_at(self, t):
            return 0.1 - 0.1 * t

    sched = LRScheduler(opt, Negative())
    sched.step()  # lr_at(1) = 0: allowed
    with pytest.raises(ValueError, match=r"schedule.lr_at\(2\) must be in \[0.0, inf\)"):
        sched.step()


def test_lr_scheduler_repr():
    opt, _, _ = two_group_sgd()
    assert repr(LRScheduler(opt, Constant(0.1))) == "LRScheduler(t=0, schedule=Constant(lr0=0.1))"


# --- inside fit --------------------------------------------------------------------------------


@pytest.mark.parametrize("schedule", [
    StepDecay(0.1, 2, 0.5), CosineAnnealing(0.1, 4, lr_min=0.01), CyclicLR(0.01, 0.1, 2),
    Warmup(ExponentialDecay(0.1, 0.8), 2),
], ids=lambda s: type(s).__name__)
def test_fit_records_the_scheduled_lr_of_every_epoch(schedule):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((16, 3)).astype(np.float32)
    y = (X @ np.array([[1.0], [-2.0], [0.5]], np.float32)).astype(np.float32)
    model = nn.Sequential(nn.Linear(3, 1, rng=0))
    opt = SGD(model.parameters(), lr=0.5)
    hist = fit(model, MSELoss(), opt, (X, y), epochs=6, batch_size=8, schedule=schedule,
               progress=False, rng=0)
    assert hist.lr == [schedule.lr_at(e) for e in hist.epochs]
    assert hist.epochs == list(range(6))
    assert len(set(hist.lr)) > 1  # the schedule really changed the rate
