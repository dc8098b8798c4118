"""Chapter 1, backpropagation and gradient checking: the exercises and their cases.

All arrays are float64, so analytic answers must agree with the reference to a relative
error below 1e-7 (float64 rounding leaves ~1e-15; a wrong formula leaves ~1e-1).
"""
import numpy as np

from ...functional import cross_entropy_backward as _cross_entropy_backward
from ...functional import cross_entropy_forward as _cross_entropy_forward
from ...functional import linear_backward as _linear_backward
from ...functional import linear_forward as _linear_forward
from ...functional import relu_backward as _relu_backward
from ...functional import relu_forward as _relu_forward
from ...functional import sigmoid_backward as _sigmoid_backward
from ...functional import sigmoid_forward as _sigmoid_forward
from ..registry import Case, Exercise, register

PREFIX = "backprop."


def _normal(rng, *shape):
    return rng.standard_normal(shape)


# ---------------------------------------------------------------- linear_forward

def linear_forward(x, W, b):
    """x (N, D), W (D, M), b (M,) -> out (N, M) = x @ W + b."""
    return _linear_forward(x, W, b)[0]


def _linear_forward_cases(rng):
    cases = [Case("random batches", (_normal(rng, n, d), _normal(rng, d, m), _normal(rng, m)))
             for n, d, m in [(4, 5, 3), (10, 3, 6)]]
    cases.append(Case("single row", (_normal(rng, 1, 4), _normal(rng, 4, 2), _normal(rng, 2))))
    return cases


# ---------------------------------------------------------------- linear_backward

def linear_backward(dout, cache):
    """dout (N, M), cache (x, W, b) -> dx (N, D), dW (D, M), db (M,)."""
    return _linear_backward(dout, cache)


def _linear_backward_case(rng, group, n, d, m):
    x, W, b = _normal(rng, n, d), _normal(rng, d, m), _normal(rng, m)
    return Case(group, (_normal(rng, n, m), (x, W, b)))


def _linear_backward_cases(rng):
    return [
        _linear_backward_case(rng, "random batches", 4, 5, 3),
        _linear_backward_case(rng, "random batches", 7, 2, 6),
        # D == M: a transposed dW has the right shape, so only its values give it away.
        _linear_backward_case(rng, "square W", 4, 4, 4),
        # N == 1: db must still be the sum over the batch, of shape (M,), not (1, M).
        _linear_backward_case(rng, "single row", 1, 3, 5),
    ]


# ---------------------------------------------------------------- relu_backward

def relu_backward(dout, cache):
    """dout and cache = x of the same shape -> dx = dout where x > 0, else 0."""
    return _relu_backward(dout, cache)


def _relu_backward_cases(rng):
    cases = [Case("random x", (_normal(rng, *s), _normal(rng, *s))) for s in [(4, 5), (2, 3, 4)]]
    # ReLU has no derivative at 0; like PyTorch we use 0 there, so x == 0 gets dx == 0.
    x = _normal(rng, 5, 6)
    x[rng.random(x.shape) < 0.4] = 0.0
    cases.append(Case("x exactly 0", (_normal(rng, 5, 6), x)))
    return cases


# ---------------------------------------------------------------- softmax_cross_entropy

def softmax_cross_entropy(logits, y):
    """logits (N, C), integer labels y (N,) -> (mean loss as float, dlogits (N, C))."""
    loss, cache = _cross_entropy_forward(logits, y)
    return float(loss), _cross_entropy_backward(cache)


def _softmax_ce_case(rng, group, n, c, scale=1.0, shift=0.0):
    logits = scale * _normal(rng, n, c) + shift
    return Case(group, (logits, rng.integers(0, c, size=n)))


def _softmax_ce_cases(rng):
    return [
        _softmax_ce_case(rng, "random logits", 5, 4),
        _softmax_ce_case(rng, "random logits", 8, 10, scale=3.0),
        _softmax_ce_case(rng, "single row", 1, 3),
        # exp(1000) overflows to inf and exp(-1000) underflows to 0: only an implementation
        # that subtracts each row's max before exp gets finite numbers here.
        _softmax_ce_case(rng, "huge logits", 4, 5, shift=1000.0),
        _softmax_ce_case(rng, "huge logits", 4, 5, shift=-1000.0),
    ]


# ---------------------------------------------------------------- numerical_gradient

# Smooth test functions f(x) -> float with known gradients. They are module-level
# functions (not lambdas) so that a grader in another process can import the same ones.
# Their gradients stay away from 0 (>= 0.1), so a relative error measures the method,
# not the rounding of a tiny number.

def smooth_cubic(x):
    """sum(x^3 / 3 + x); gradient x^2 + 1."""
    return float(np.sum(x ** 3) / 3 + np.sum(x))


def smooth_sine(x):
    """sum(sin(x) + 2x); gradient cos(x) + 2."""
    return float(np.sum(np.sin(x)) + 2 * np.sum(x))


def smooth_exp(x):
    """sum(exp(x / 2)); gradient exp(x / 2) / 2."""
    return float(np.sum(np.exp(0.5 * x)))


GRADIENTS = {
    "smooth_cubic": lambda x: x ** 2 + 1,
    "smooth_sine": lambda x: np.cos(x) + 2,
    "smooth_exp": lambda x: 0.5 * np.exp(0.5 * x),
}


def numerical_gradient(f, x, h=1e-5):
    """The exact gradient of the test function f at x (what central differences approach)."""
    return GRADIENTS[f.__name__](np.array(x, dtype=np.float64))


def _numerical_gradient_cases(rng):
    def case(group, f, shape):
        return Case(group, (f, rng.uniform(-1.5, 1.5, size=shape)), {"h": 1e-5})

    return [
        case("vector x", smooth_cubic, (8,)),
        case("vector x", smooth_sine, (10,)),
        case("matrix x", smooth_exp, (3, 4)),
        case("matrix x", smooth_cubic, (4, 3)),
    ]


# With h = 1e-5 in float64, central differences are off by ~h^2 f''' / 6 plus rounding
# ~1e-16 |f| / h: relative errors of 1e-12 to 2e-10 on these functions. Forward
# differences are off by ~h f'' / 2: relative errors of 1e-6 to 3e-6. A tolerance of
# 1e-8 sits ~50x above the first and ~100x below the second, so it tells them apart.
NUMERICAL_GRADIENT_TOLERANCE = 1e-8


# ---------------------------------------------------------------- two_layer_loss_and_grads

def two_layer_loss_and_grads(X, y, W1, b1, W2, b2, reg=0.0):
    """Loss and gradients of X @ W1 + b1 -> ReLU -> @ W2 + b2 -> softmax cross-entropy.

    X (N, D), y (N,) integer labels, W1 (D, H), b1 (H,), W2 (H, C), b2 (C,).
    loss = mean cross-entropy + reg / 2 * (||W1||^2 + ||W2||^2).
    Returns (loss as float, {"W1": ..., "b1": ..., "W2": ..., "b2": ...}).
    """
    z1, cache1 = _linear_forward(X, W1, b1)
    a1, _ = _relu_forward(z1)
    scores, cache2 = _linear_forward(a1, W2, b2)
    loss, dscores = softmax_cross_entropy(scores, y)
    loss += 0.5 * reg * float(np.sum(W1 * W1) + np.sum(W2 * W2))
    da1, dW2, db2 = _linear_backward(dscores, cache2)
    dz1 = _relu_backward(da1, z1)
    _, dW1, db1 = _linear_backward(dz1, cache1)
    return loss, {"W1": dW1 + reg * W1, "b1": db1, "W2": dW2 + reg * W2, "b2": db2}


def _two_layer_case(rng, group, n, d, h, c, reg):
    X = _normal(rng, n, d)
    y = rng.integers(0, c, size=n)
    W1, b1 = _normal(rng, d, h) / np.sqrt(d), 0.1 * _normal(rng, h)
    W2, b2 = _normal(rng, h, c) / np.sqrt(h), 0.1 * _normal(rng, c)
    return Case(group, (X, y, W1, b1, W2, b2), {"reg": reg})


def _two_layer_cases(rng):
    return [
        _two_layer_case(rng, "reg = 0", 6, 4, 5, 3, 0.0),
        _two_layer_case(rng, "reg = 0", 10, 3, 7, 4, 0.0),
        _two_layer_case(rng, "reg > 0", 6, 4, 5, 3, 0.1),
        _two_layer_case(rng, "reg > 0", 1, 5, 4, 2, 1.0),
    ]


# ---------------------------------------------------------------- derived: silu_backward

def silu_backward(dout, x):
    """dout and x of one shape -> dx for y = x * sigmoid(x) (SiLU / swish), derived by the learner.

    Product rule: dy/dx = s + x * s * (1 - s) with s = sigmoid(x); the chapter gives no formula.
    """
    s, _ = _sigmoid_forward(x)
    return dout * s + _sigmoid_backward(dout * x, s)


def _silu_backward_cases(rng):
    return [
        Case("random x", (_normal(rng, 4, 5), 2 * _normal(rng, 4, 5))),
        Case("random x", (_normal(rng, 2, 3, 4), _normal(rng, 2, 3, 4))),
        # Far out on both sides: dy/dx -> 1 for x >> 0 and -> 0 for x << 0.
        Case("large |x|", (_normal(rng, 5, 6), rng.uniform(-30.0, 30.0, size=(5, 6)))),
    ]


# ---------------------------------------------------------------- derived: gate_gradients

def gate_gradients(x, y, z, dout):
    """x, y, z, dout of one shape -> (dx, dy, dz) for f = (x + y) * max(y, z), elementwise.

    The add gate hands dout on unchanged, the multiply gate swaps its inputs, the max gate routes
    to the larger input only, and y, used twice, sums both of its paths. Cases have y != z.
    """
    m = np.maximum(y, z)
    dsum = dout * m                   # through the multiply gate to (x + y)
    dm = dout * (x + y)               # through the multiply gate to max(y, z)
    y_wins = y > z
    return dsum, dsum + np.where(y_wins, dm, 0.0), np.where(y_wins, 0.0, dm)


def _gate_args(rng, *shape):
    x, y = _normal(rng, *shape), _normal(rng, *shape)
    gap = rng.uniform(0.1, 1.5, size=shape) * rng.choice([-1.0, 1.0], size=shape)
    return x, y, y + gap, _normal(rng, *shape)     # z = y + gap: never a tie


def _gate_gradients_cases(rng):
    return [
        Case("random inputs", _gate_args(rng, 4, 5)),
        Case("random inputs", _gate_args(rng, 3, 2, 2)),
        Case("single entry", _gate_args(rng, 1)),
    ]


# ---------------------------------------------------------------- hints for classic slips

def _close(a, b):
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-7, atol=1e-12))


def _forward_difference(case, name, expected, got):   # error of order h, not h^2
    err = np.max(np.abs(got - expected) / np.maximum(np.abs(got) + np.abs(expected), 1e-12))
    return 1e-8 <= err < 1e-4


def _decay_doubled(case, name, expected, got):        # d/dW (reg/2 ||W||^2) taken as 2 reg W
    key = name.split('"')[1] if '"' in name else ""
    if key not in ("W1", "W2"):
        return False
    W = np.asarray(case.args[2 if key == "W1" else 4], dtype=np.float64)
    return _close(got - expected, case.kwargs["reg"] * W)


def _decay_missing(case, name, expected, got):
    key = name.split('"')[1] if '"' in name else ""
    if key not in ("W1", "W2") or not case.kwargs["reg"]:
        return False
    W = np.asarray(case.args[2 if key == "W1" else 4], dtype=np.float64)
    return _close(expected - got, case.kwargs["reg"] * W)


def _no_relu_mask(case, name, expected, got):         # dz1 = da1: ReLU's slope forgotten
    if name not in ('grads["W1"]', 'grads["b1"]'):
        return False
    X, y, W1, b1, W2, b2 = (np.asarray(a, dtype=np.float64) if i != 1 else a
                            for i, a in enumerate(case.args))
    z1 = X @ W1 + b1
    _, dscores = softmax_cross_entropy(np.maximum(z1, 0) @ W2 + b2, y)
    da1 = dscores @ W2.T
    wrong = X.T @ da1 + case.kwargs["reg"] * W1 if name == 'grads["W1"]' else da1.sum(axis=0)
    return _close(got, wrong)


def _sigmoid(x):
    return _sigmoid_forward(np.asarray(x, dtype=np.float64))[0]


def _silu_gate_constant(case, name, expected, got):   # d(x s)/dx = s: no product rule
    dout, x = case.args
    return _close(got, dout * _sigmoid(x))


def _silu_x_dropped(case, name, expected, got):       # s + s (1 - s): the x of x s' lost
    dout, x = case.args
    s = _sigmoid(x)
    return _close(got, dout * (s + s * (1 - s)))


def _gate_fork_lost(case, name, expected, got):       # dy from the add gate only
    _, y, z, dout = case.args
    return name == "dy" and _close(got, dout * np.maximum(y, z))


def _gate_max_to_both(case, name, expected, got):     # the max gate fed both of its inputs
    x, y, z, dout = case.args
    if name == "dz":
        return _close(got, dout * (x + y))
    return name == "dy" and _close(got, dout * np.maximum(y, z) + dout * (x + y))


HINTS = {
    "numerical_gradient": (
        (("the error is of order h (here ~1e-6), not h^2: a forward difference "
          "(f(x + h) - f(x)) / h instead of the central (f(x + h) - f(x - h)) / (2h)?"),
         _forward_difference),),
    "two_layer_loss_and_grads": (
        (("off by exactly reg * W: the penalty (reg / 2) ||W||^2 has the gradient reg * W, "
          "not 2 reg * W"), _decay_doubled),
        ("short of exactly reg * W: the penalty's gradient reg * W is missing", _decay_missing),
        (("this is the gradient of a network without the ReLU: multiply da1 by relu'(z1) = "
          "(z1 > 0) before the first layer's backward"), _no_relu_mask)),
    "silu_backward": (
        (("this is dout * sigmoid(x): the gate sigmoid(x) depends on x too, so the product rule "
          "adds x * sigmoid'(x)"), _silu_gate_constant),
        (("this is dout * (s + s (1 - s)): the second term of the product rule is x * s (1 - s), "
          "with x"), _silu_x_dropped)),
    "gate_gradients": (
        (("dy holds only the add gate's path: y also feeds the max gate, and a variable used "
          "twice receives the sum of both paths"), _gate_fork_lost),
        (("the max gate sent the gradient to both of its inputs: it goes to the larger one only "
          "(y where y > z, else z)"), _gate_max_to_both)),
}


# ---------------------------------------------------------------- the registry entries

EXERCISES = [
    register(Exercise(PREFIX + "linear_forward", "linear_forward", _linear_forward_cases,
                      linear_forward, ("out",))),
    register(Exercise(PREFIX + "linear_backward", "linear_backward", _linear_backward_cases,
                      linear_backward, ("dx", "dW", "db"))),
    register(Exercise(PREFIX + "relu_backward", "relu_backward", _relu_backward_cases,
                      relu_backward, ("dx",))),
    register(Exercise(PREFIX + "softmax_cross_entropy", "softmax_cross_entropy",
                      _softmax_ce_cases, softmax_cross_entropy, ("loss", "dlogits"))),
    register(Exercise(PREFIX + "numerical_gradient", "numerical_gradient",
                      _numerical_gradient_cases, numerical_gradient, ("grad",),
                      tolerance=NUMERICAL_GRADIENT_TOLERANCE, hints=HINTS["numerical_gradient"])),
    register(Exercise(PREFIX + "two_layer_loss_and_grads", "two_layer_loss_and_grads",
                      _two_layer_cases, two_layer_loss_and_grads,
                      ("loss", ("grads", ("W1", "b1", "W2", "b2"))),
                      hints=HINTS["two_layer_loss_and_grads"])),
    register(Exercise(PREFIX + "silu_backward", "silu_backward", _silu_backward_cases,
                      silu_backward, ("dx",), hints=HINTS["silu_backward"])),
    register(Exercise(PREFIX + "gate_gradients", "gate_gradients", _gate_gradients_cases,
                      gate_gradients, ("dx", "dy", "dz"), hints=HINTS["gate_gradients"])),
]
