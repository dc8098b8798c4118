"""Learning-rate schedules: each is a pure function of the step, `lr_at(t)` for t = 0, 1, 2, ...

    schedule = CosineAnnealing(0.1, T_max=50)
    schedule.lr_at(25)                       # 0.05, the same whenever it is asked
    values(schedule, 51)                     # the whole curve, for a plot
    fit(..., schedule=schedule)              # t counts epochs there
    sched = LRScheduler(opt, schedule)       # or drive an optimizer by hand:
    for t in ...: ...; opt.step(); sched.step()

A schedule holds no state, so the same object can be plotted, shared by several runs
and asked about any step in any order. `LRScheduler` binds one to an optimizer and
counts the steps, as `torch.optim.lr_scheduler` does: every group's lr is `lr_at(0)`
as soon as it is built and `lr_at(k)` after its k-th `step()`.

Where PyTorch has a counterpart the numbers agree with it for the same hyperparameters
(`StepDecay` ~ `StepLR`, `ExponentialDecay` ~ `ExponentialLR`, `LinearDecay` ~ `LinearLR`
with `start_factor=1`, `CosineAnnealing` ~ `CosineAnnealingLR` for t <= T_max,
`CyclicLR` ~ `CyclicLR(mode="triangular")`), with one difference: a schedule here gives an
absolute learning rate that every param group receives, where PyTorch's scale each
group's own initial lr.
"""
import math
import numbers

import numpy as np

from . import _checks

__all__ = [
    "Constant",
    "CosineAnnealing",
    "CyclicLR",
    "ExponentialDecay",
    "InverseSigmoidDecay",
    "InverseTimeDecay",
    "LRScheduler",
    "LinearDecay",
    "Schedule",
    "StepDecay",
    "Warmup",
    "values",
]


def _lr(value, name, where):
    """A learning rate: a finite real number >= 0, returned as float."""
    return _checks.number(value, name, where, low=0.0, high=math.inf, high_inclusive=False)


def _step(t, where):
    """The step t: a Python or numpy integer >= 0 (not a bool, not a float such as 2.0)."""
    if isinstance(t, bool) or not isinstance(t, numbers.Integral):
        raise TypeError(f"{where}: the step t must be an integer >= 0 (0, 1, 2, ...), "
                        f"got {t!r} of type {type(t).__name__}")
    if t < 0:
        raise ValueError(f"{where}: the step t must be >= 0 (steps count from 0), got {t}")
    return int(t)


class Schedule:
    """Base class: subclasses define `_lr_at(t)` for a checked int t >= 0, and `_params()`
    (the constructor's arguments, in order, for `__repr__`)."""

    def lr_at(self, t):
        """The learning rate at step t (t = 0, 1, 2, ...), a Python float."""
        return float(self._lr_at(_step(t, f"{type(self).__name__}.lr_at")))

    def _lr_at(self, t):
        raise NotImplementedError(f"{type(self).__name__} does not define _lr_at()")

    def _params(self):
        return {}

    def __call__(self, t):
        return self.lr_at(t)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self._params().items())
        return f"{type(self).__name__}({args})"


class Constant(Schedule):
    """Constant(lr0): lr0 at every step (the "fixed" schedule, a baseline)."""

    def __init__(self, lr0):
        self.lr0 = _lr(lr0, "lr0", "Constant")

    def _lr_at(self, t):
        return self.lr0

    def _params(self):
        return {"lr0": self.lr0}


class StepDecay(Schedule):
    """StepDecay(lr0, step_size, gamma=0.1): lr0 * gamma^floor(t / step_size).

    The rate is multiplied by gamma every step_size steps (PyTorch's StepLR).
    lr0 >= 0; step_size a positive integer; gamma in (0, 1].
    """

    def __init__(self, lr0, step_size, gamma=0.1):
        where = "StepDecay"
        self.lr0 = _lr(lr0, "lr0", where)
        self.step_size = _checks.positive_int(step_size, "step_size", where)
        self.gamma = _checks.number(gamma, "gamma", where, low=0.0, high=1.0,
                                    low_inclusive=False)

    def _lr_at(self, t):
        return self.lr0 * self.gamma ** (t // self.step_size)

    def _params(self):
        return {"lr0": self.lr0, "step_size": self.step_size, "gamma": self.gamma}


class ExponentialDecay(Schedule):
    """ExponentialDecay(lr0, gamma): lr0 * gamma^t (PyTorch's ExponentialLR).

    `ExponentialDecay.from_rate(lr0, k)` is the same curve written lr0 * e^(-k t),
    i.e. gamma = e^(-k); it is computed in that form. lr0 >= 0; gamma in (0, 1]; k >= 0.
    """

    def __init__(self, lr0, gamma):
        where = "ExponentialDecay"
        self.lr0 = _lr(lr0, "lr0", where)
        self.gamma = _checks.number(gamma, "gamma", where, low=0.0, high=1.0,
                                    low_inclusive=False)
        self.k = None  # set by from_rate

    @classmethod
    def from_rate(cls, lr0, k):
        """lr0 * e^(-k t): the continuous-rate form; k >= 0 (k = 0 is a constant rate)."""
        where = "ExponentialDecay.from_rate"
        lr0 = _lr(lr0, "lr0", where)
        k = _checks.number(k, "k", where, low=0.0, high=math.inf, high_inclusive=False)
        schedule = cls.__new__(cls)  # gamma = e^-k may underflow to 0, which __init__ rejects
        schedule.lr0, schedule.gamma, schedule.k = lr0, math.exp(-k), k
        return schedule

    def _lr_at(self, t):
        if self.k is not None:
            return self.lr0 * math.exp(-self.k * t)
        return self.lr0 * self.gamma ** t

    def __repr__(self):
        if self.k is not None:
            return f"ExponentialDecay.from_rate(lr0={self.lr0!r}, k={self.k!r})"
        return f"ExponentialDecay(lr0={self.lr0!r}, gamma={self.gamma!r})"


class InverseTimeDecay(Schedule):
    """InverseTimeDecay(lr0, k): lr0 / (1 + k t), the 1/t schedule. lr0 >= 0; k >= 0."""

    def __init__(self, lr0, k):
        where = "InverseTimeDecay"
        self.lr0 = _lr(lr0, "lr0", where)
        self.k = _checks.number(k, "k", where, low=0.0, high=math.inf, high_inclusive=False)

    def _lr_at(self, t):
        return self.lr0 / (1.0 + self.k * t)

    def _params(self):
        return {"lr0": self.lr0, "k": self.k}


class LinearDecay(Schedule):
    """LinearDecay(lr0, total_steps, end_lr=0.0): a straight line from lr0 at t = 0 to
    end_lr at t = total_steps, then end_lr for good.

    Equals PyTorch's LinearLR(start_factor=1, end_factor=end_lr/lr0, total_iters=total_steps).
    lr0 >= 0; total_steps a positive integer; end_lr >= 0 (end_lr > lr0 makes a linear rise).
    """

    def __init__(self, lr0, total_steps, end_lr=0.0):
        where = "LinearDecay"
        self.lr0 = _lr(lr0, "lr0", where)
        self.total_steps = _checks.positive_int(total_steps, "total_steps", where)
        self.end_lr = _lr(end_lr, "end_lr", where)

    def _lr_at(self, t):
        frac = min(t, self.total_steps) / self.total_steps
        return self.lr0 + (self.end_lr - self.lr0) * frac

    def _params(self):
        return {"lr0": self.lr0, "total_steps": self.total_steps, "end_lr": self.end_lr}


class InverseSigmoidDecay(Schedule):
    """InverseSigmoidDecay(lr0, k): lr0 * k / (k + e^(t/k)) (Bengio et al.'s scheduled
    sampling decay). Starts at lr0 * k/(k+1), stays near it for about k*ln(k) steps, then
    falls towards 0. lr0 >= 0; k > 0 (k >= 1 is the usual choice)."""

    def __init__(self, lr0, k):
        where = "InverseSigmoidDecay"
        self.lr0 = _lr(lr0, "lr0", where)
        self.k = _checks.number(k, "k", where, low=0.0, high=math.inf, low_inclusive=False,
                                high_inclusive=False)

    def _lr_at(self, t):
        # k/(k + e^x) written with e^-x, which cannot overflow for large t
        shrink = math.exp(-t / self.k)
        return self.lr0 * self.k * shrink / (self.k * shrink + 1.0)

    def _params(self):
        return {"lr0": self.lr0, "k": self.k}


class CosineAnnealing(Schedule):
    """CosineAnnealing(lr0, T_max, lr_min=0.0): half a cosine from lr0 down to lr_min,

        lr(t) = lr_min + (lr0 - lr_min) * (1 + cos(pi * t / T_max)) / 2   for t <= T_max,
        lr(t) = lr_min                                                     for t > T_max.

    Up to T_max this is PyTorch's CosineAnnealingLR (its closed form). Past T_max
    PyTorch's curve keeps following the cosine and climbs back towards lr0 (a period of
    2*T_max); here it stays at lr_min, so training longer than T_max does not raise the
    rate again. For restarts, build the schedule per cycle (or use CyclicLR).
    lr0 >= 0; T_max a positive integer; 0 <= lr_min <= lr0.
    """

    def __init__(self, lr0, T_max, lr_min=0.0):
        where = "CosineAnnealing"
        self.lr0 = _lr(lr0, "lr0", where)
        self.T_max = _checks.positive_int(T_max, "T_max", where)
        self.lr_min = _lr(lr_min, "lr_min", where)
        if self.lr_min > self.lr0:
            raise ValueError(f"{where}: lr_min must be <= lr0 (the cosine anneals down), "
                             f"got lr_min={lr_min!r} > lr0={lr0!r}")

    def _lr_at(self, t):
        t = min(t, self.T_max)
        return self.lr_min + (self.lr0 - self.lr_min) * (1.0 + math.cos(math.pi * t / self.T_max)) / 2

    def _params(self):
        return {"lr0": self.lr0, "T_max": self.T_max, "lr_min": self.lr_min}


class CyclicLR(Schedule):
    """CyclicLR(base_lr, max_lr, step_size): Smith's triangular cyclical learning rate.

    The rate climbs linearly from base_lr at t = 0 to max_lr at t = step_size, falls back
    to base_lr at t = 2*step_size, and repeats (a cycle of 2*step_size steps):

        cycle = floor(1 + t / (2 step_size)),  x = |t / step_size - 2 cycle + 1|,
        lr(t) = base_lr + (max_lr - base_lr) * max(0, 1 - x).

    PyTorch's CyclicLR(base_lr, max_lr, step_size_up=step_size, mode="triangular");
    t counts iterations (batches) there, though any step unit works here.
    0 <= base_lr <= max_lr; step_size a positive integer.
    """

    def __init__(self, base_lr, max_lr, step_size):
        where = "CyclicLR"
        self.base_lr = _lr(base_lr, "base_lr", where)
        self.max_lr = _lr(max_lr, "max_lr", where)
        if self.base_lr > self.max_lr:
            raise ValueError(f"{where}: base_lr must be <= max_lr, got base_lr={base_lr!r} "
                             f"> max_lr={max_lr!r}")
        self.step_size = _checks.positive_int(step_size, "step_size", where)

    def _lr_at(self, t):
        cycle = 1 + t // (2 * self.step_size)
        x = abs(t / self.step_size - 2 * cycle + 1)
        return self.base_lr + (self.max_lr - self.base_lr) * max(0.0, 1.0 - x)

    def _params(self):
        return {"base_lr": self.base_lr, "max_lr": self.max_lr, "step_size": self.step_size}


class Warmup(Schedule):
    """Warmup(schedule, warmup_steps): a linear ramp up to `schedule`'s first value, then
    `schedule` itself, started afresh:

        lr(t) = schedule.lr_at(0) * (t + 1) / warmup_steps   for t < warmup_steps,
        lr(t) = schedule.lr_at(t - warmup_steps)              for t >= warmup_steps.

    The ramp's last step already reaches schedule.lr_at(0), which is then held for one
    more step as the wrapped schedule begins. schedule: any object with lr_at(t);
    warmup_steps a positive integer.
    """

    def __init__(self, schedule, warmup_steps):
        where = "Warmup"
        if not callable(getattr(schedule, "lr_at", None)):
            raise TypeError(f"{where}: schedule must have an lr_at(t) method (e.g. "
                            f"CosineAnnealing(0.1, 50)), got {type(schedule).__name__}")
        self.schedule = schedule
        self.warmup_steps = _checks.positive_int(warmup_steps, "warmup_steps", where)

    def _lr_at(self, t):
        if t < self.warmup_steps:
            return self.schedule.lr_at(0) * (t + 1) / self.warmup_steps
        return self.schedule.lr_at(t - self.warmup_steps)

    def _params(self):
        return {"schedule": self.schedule, "warmup_steps": self.warmup_steps}


def values(schedule, steps):
    """The learning rates of `schedule` as a float64 numpy array, for plotting.

    steps: an int n (the steps 0, 1, ..., n-1, so the result has shape (n,)) or a
    sequence of steps (the result has its length).
    """
    if not callable(getattr(schedule, "lr_at", None)):
        raise TypeError(f"values: schedule must have an lr_at(t) method, "
                        f"got {type(schedule).__name__}")
    if isinstance(steps, numbers.Integral) and not isinstance(steps, bool):
        if steps < 0:
            raise ValueError(f"values: steps must be >= 0 (how many steps, from t = 0), "
                             f"got {steps}")
        steps = range(int(steps))
    elif not hasattr(steps, "__iter__"):
        raise TypeError(f"values: steps must be an int or a sequence of integer steps, "
                        f"got {type(steps).__name__}")
    return np.array([schedule.lr_at(t) for t in steps], dtype=np.float64)


class LRScheduler:
    """LRScheduler(optimizer, schedule): drives an optimizer's learning rate from a schedule.

    Every param group's lr is set to schedule.lr_at(0) at once, and to lr_at(k) after
    the k-th call of `step()` (call it after `optimizer.step()`, as in PyTorch). `.t` is
    the number of step() calls so far; `get_last_lr()` the lr of each group, a list.
    `state_dict()` / `load_state_dict()` save and restore `t` (the schedule itself holds
    no state).
    """

    def __init__(self, optimizer, schedule):
        where = "LRScheduler"
        if not isinstance(getattr(optimizer, "param_groups", None), list):
            raise TypeError(f"{where}: optimizer must be a dlcore.optim optimizer (with "
                            f"param_groups), got {type(optimizer).__name__}")
        if not callable(getattr(schedule, "lr_at", None)):
            raise TypeError(f"{where}: schedule must have an lr_at(t) method (e.g. "
                            f"StepDecay(0.1, 10)), got {type(schedule).__name__}")
        self.optimizer = optimizer
        self.schedule = schedule
        self.t = 0
        self._apply()

    def _apply(self):
        lr = _lr(self.schedule.lr_at(self.t), f"schedule.lr_at({self.t})", "LRScheduler")
        for group in self.optimizer.param_groups:
            group["lr"] = lr

    def step(self):
        """Advance one step: every group's lr becomes schedule.lr_at(t + 1)."""
        self.t += 1
        self._apply()

    def get_last_lr(self):
        """The current learning rate of every param group, as a list of floats."""
        return [float(group["lr"]) for group in self.optimizer.param_groups]

    def state_dict(self):
        return {"t": self.t}

    def load_state_dict(self, state_dict):
        """Restore `t` saved by state_dict() and set the groups' lr to lr_at(t)."""
        if not isinstance(state_dict, dict) or "t" not in state_dict:
            raise ValueError("LRScheduler.load_state_dict: expected a dict with key 't' "
                             "(what state_dict() returns)")
        self.t = _step(state_dict["t"], "LRScheduler.load_state_dict")
        self._apply()

    def __repr__(self):
        return f"LRScheduler(t={self.t}, schedule={self.schedule!r})"
