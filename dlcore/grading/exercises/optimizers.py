"""Chapter 4, gradient descent and its faster cousins: the exercises and their cases.

Each update rule is one function that takes the parameters, their gradient, the optimiser's
state (a dict of arrays and counts) and the hyperparameters, and returns the new parameters
and the new state, without changing its inputs in place. The cases start from an empty state
(zeros: the first step) and from the state that the reference reaches after a fixed sequence
of gradients drawn from the case generator, so a rule that is right only on its first step
fails. Groups with tiny gradients, or a large eps, make the position of eps visible (inside
or outside the square root), which the default eps hides behind a relative error of 1e-8.
The references wrap `dlcore.functional.optim` (the update rules of SGD, Adagrad, RMSprop
and Adam), i.e. PyTorch's, on copies; only the textbook momentum form and the bias
correction, which the library writes differently, are spelled out here.

Two exercises ask for a result derived before anything runs: `best_momentum` (the heavy
ball's step and momentum for a spectrum [lam_min, lam_max], from the 2x2 iteration per
eigen-direction; dlcore has no function for it) and `adam_displacement` (where Adam is after
t steps on a constant gradient; the reference runs the library's Adam). A third,
`saddle_escape_steps`, predicts from a saddle's Hessian eigenvalues how many gradient-descent
steps it takes to leave it; its hints name the classic slips (the eigenvalue of largest size
instead of the most negative one, and ln(1 + x) taken as x).

Every exercise names its classic slips in a hint under a failure: eps inside the square root,
a plus sign where the update subtracts, 1 - beta for 1 - beta^t, PyTorch's buffer kept as the
textbook velocity, gradient descent's step or rate where the heavy ball's belongs. A hint is
shown only when the learner's numbers are exactly what that slip computes on the case.
"""
import copy

import numpy as np

from ...functional import optim as F
from ..registry import Case, Exercise, register

PREFIX = "optimizers."


def _vec(rng, *shape, scale=1.0):
    return scale * rng.standard_normal(shape)


def _after(step, state, rng, shape, n, scale=1.0, **hyper):
    """The state after the reference `step` has taken n steps on random gradients."""
    theta = _vec(rng, *shape)
    for _ in range(n):
        theta, state = step(theta, _vec(rng, *shape, scale=scale), state, **hyper)
    return theta, state


def _cases(rng, step, zero_state, hyper, tiny=None):
    """First step, after a sequence of steps, and optional extra groups (name, hyper, scale)."""
    cases = []
    for shape in [(5,), (3, 4)]:
        cases.append(Case("first step (empty state)",
                          (_vec(rng, *shape), _vec(rng, *shape), zero_state(shape)), hyper))
    for shape, n in [(6,), 4], [(2, 3), 9]:
        theta, state = _after(step, zero_state(shape), rng, shape, n, **hyper)
        cases.append(Case("after a sequence of gradients", (theta, _vec(rng, *shape), state),
                          hyper))
    for name, extra, scale in tiny or ():
        shape = (4, 3)
        h = {**hyper, **extra}
        theta, state = _after(step, zero_state(shape), rng, shape, 3, scale=scale, **h)
        cases.append(Case(name, (theta, _vec(rng, *shape, scale=scale), state), h))
    return cases


# ---------------------------------------------------------------- momentum, textbook form

def sgd_momentum_step(theta, grad, state, lr, momentum):
    """v = momentum * v - lr * grad; theta = theta + v. state {"v": array like theta}."""
    v = momentum * state["v"] - lr * grad
    return theta + v, {"v": v}


def _zero_v(shape):
    return {"v": np.zeros(shape)}


def _sgd_momentum_cases(rng):
    return _cases(rng, sgd_momentum_step, _zero_v, {"lr": 0.1, "momentum": 0.9}) + [
        Case("no momentum (plain SGD)", (_vec(rng, 4), _vec(rng, 4), _zero_v((4,))),
             {"lr": 0.05, "momentum": 0.0}),
    ]


# ---------------------------------------------------------------- Nesterov, PyTorch's form

def nesterov_step(theta, grad, state, lr, momentum):
    """PyTorch's Nesterov: buf = momentum * buf + grad; theta = theta - lr * (grad + momentum * buf).
    state {"buf": array like theta} (zeros before the first step)."""
    theta, buf = theta.copy(), state["buf"].copy()
    F.sgd_step(theta, grad, {"momentum_buffer": buf}, lr, momentum=momentum, nesterov=True)
    return theta, {"buf": buf}


def _zero_buf(shape):
    return {"buf": np.zeros(shape)}


def _nesterov_cases(rng):
    return _cases(rng, nesterov_step, _zero_buf, {"lr": 0.05, "momentum": 0.9}) + [
        Case("other momentum", (_vec(rng, 5), _vec(rng, 5), {"buf": _vec(rng, 5)}),
             {"lr": 0.2, "momentum": 0.5}),
    ]


# ---------------------------------------------------------------- Adagrad

def adagrad_step(theta, grad, state, lr, eps=1e-10):
    """sum = sum + grad^2; theta = theta - lr * grad / (sqrt(sum) + eps). state {"sum": ...}."""
    theta, lib_state = theta.copy(), {"step": 0, "sum": state["sum"].copy()}
    F.adagrad_step(theta, grad, lib_state, lr=lr, eps=eps)
    return theta, {"sum": lib_state["sum"]}


def _zero_sum(shape):
    return {"sum": np.zeros(shape)}


def _adagrad_cases(rng):
    return _cases(rng, adagrad_step, _zero_sum, {"lr": 0.1, "eps": 1e-10},
                  tiny=[("tiny gradients (eps matters)", {"eps": 1e-6}, 1e-7)])


# ---------------------------------------------------------------- RMSprop

def rmsprop_step(theta, grad, state, lr, alpha=0.99, eps=1e-8):
    """square_avg = alpha * square_avg + (1 - alpha) * grad^2;
    theta = theta - lr * grad / (sqrt(square_avg) + eps)   (PyTorch: eps outside the root)."""
    theta, lib_state = theta.copy(), {"step": 0, "square_avg": state["square_avg"].copy()}
    F.rmsprop_step(theta, grad, lib_state, lr=lr, alpha=alpha, eps=eps)
    return theta, {"square_avg": lib_state["square_avg"]}


def _zero_square_avg(shape):
    return {"square_avg": np.zeros(shape)}


def _rmsprop_cases(rng):
    return _cases(rng, rmsprop_step, _zero_square_avg, {"lr": 0.01, "alpha": 0.99, "eps": 1e-8},
                  tiny=[("tiny gradients (eps matters)", {"eps": 1e-8}, 1e-6),
                        ("large eps", {"alpha": 0.9, "eps": 0.1}, 1.0)])


# ---------------------------------------------------------------- Adam

def bias_corrected(m, v, beta1, beta2, t):
    """Adam's bias correction after t steps (t >= 1): m / (1 - beta1^t), v / (1 - beta2^t)."""
    return m / (1 - beta1**t), v / (1 - beta2**t)


def _bias_corrected_cases(rng):
    def mv(shape):
        return _vec(rng, *shape), np.abs(_vec(rng, *shape))

    return [
        Case("first step (t = 1)", (*mv((5,)), 0.9, 0.999, 1)),
        Case("early steps", (*mv((3, 2)), 0.9, 0.999, int(rng.integers(2, 10)))),
        Case("early steps", (*mv((4,)), 0.8, 0.99, int(rng.integers(2, 30)))),
        Case("late steps (correction near 1)", (*mv((4,)), 0.9, 0.999, 20000)),
    ]


def adam_step(theta, grad, state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """One Adam step as PyTorch: t = t + 1; m = beta1 m + (1 - beta1) g;
    v = beta2 v + (1 - beta2) g^2; theta = theta - lr * m_hat / (sqrt(v_hat) + eps) with
    m_hat = m / (1 - beta1^t), v_hat = v / (1 - beta2^t). state {"m", "v", "t"} (t: steps
    taken so far, 0 at the start)."""
    theta = theta.copy()
    lib_state = {"step": state["t"], "exp_avg": state["m"].copy(),
                 "exp_avg_sq": state["v"].copy()}
    F.adam_step(theta, grad, lib_state, lr=lr, betas=(beta1, beta2), eps=eps)
    return theta, {"m": lib_state["exp_avg"], "v": lib_state["exp_avg_sq"],
                   "t": lib_state["step"]}


def _zero_adam(shape):
    return {"m": np.zeros(shape), "v": np.zeros(shape), "t": 0}


def _adam_cases(rng):
    return _cases(rng, adam_step, _zero_adam,
                  {"lr": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8},
                  tiny=[("tiny gradients (eps matters)", {"eps": 1e-8}, 1e-7),
                        ("other betas", {"beta1": 0.5, "beta2": 0.9}, 1.0)])


# ---------------------------------------------------------------- derived: the best heavy ball

def best_momentum(lam_min, lam_max):
    """The step and momentum of the heavy ball that converge fastest on a quadratic whose
    Hessian has eigenvalues in [lam_min, lam_max] (0 < lam_min <= lam_max): both ends of the
    spectrum get the same contraction sqrt(momentum) per step.

    Returns (lr, momentum): lr = (2 / (sqrt(lam_max) + sqrt(lam_min)))^2 and
    momentum = ((sqrt(kappa) - 1) / (sqrt(kappa) + 1))^2 with kappa = lam_max / lam_min.
    (dlcore has no function for this; the formula is the reference.)
    """
    root_kappa = np.sqrt(lam_max / lam_min)
    lr = (2.0 / (np.sqrt(lam_max) + np.sqrt(lam_min))) ** 2
    return float(lr), float(((root_kappa - 1) / (root_kappa + 1)) ** 2)


def _best_momentum_cases(rng):
    def spectrum(kappa):
        lam_min = float(np.exp(rng.uniform(np.log(0.01), np.log(10.0))))
        return lam_min, lam_min * kappa

    return [
        # lam_min = 1: lr and momentum depend on kappa alone
        Case("lam_min = 1", (1.0, float(rng.uniform(5, 50)))),
        Case("a ravine (kappa 10 to 1000)", spectrum(float(rng.uniform(10, 1000)))),
        Case("a ravine (kappa 10 to 1000)", spectrum(float(rng.uniform(10, 1000)))),
        Case("a deep ravine (kappa 1e4 to 1e6)", spectrum(float(np.exp(rng.uniform(9.2, 13.8))))),
        # kappa close to 1: momentum near 0, lr near 1 / lambda
        Case("almost round (kappa < 1.5)", spectrum(float(rng.uniform(1.01, 1.5)))),
    ]


# ---------------------------------------------------------------- predicted: Adam's steps

def adam_displacement(g, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """theta_t - theta_0 after t >= 1 Adam steps (PyTorch's, from a fresh state) that all see
    the same gradient g (an array). Predicted, not run: with bias correction m_hat = g and
    v_hat = g^2 at every step, so each step is -lr * g / (|g| + eps) and the displacement is
    t times that, whatever the betas. The reference runs dlcore's Adam t times."""
    theta = np.zeros_like(g, dtype=np.float64)
    state = {"step": 0, "exp_avg": np.zeros_like(theta), "exp_avg_sq": np.zeros_like(theta)}
    for _ in range(t):
        F.adam_step(theta, g, state, lr=lr, betas=(beta1, beta2), eps=eps)
    return theta


def _adam_displacement_cases(rng):
    return [
        Case("first step (t = 1)", (_vec(rng, 5), 1)),
        Case("after several steps", (_vec(rng, 3, 2), int(rng.integers(2, 12))), {"lr": 0.01}),
        Case("after several steps", (_vec(rng, 4, scale=100.0), int(rng.integers(12, 40))),
             {"lr": 0.003, "beta1": 0.8, "beta2": 0.99}),
        # |g| near eps: the step is no longer lr
        Case("tiny gradients (eps matters)", (_vec(rng, 6, scale=1e-8), int(rng.integers(2, 6))),
             {"lr": 0.1}),
        Case("large eps", (_vec(rng, 4), int(rng.integers(2, 6))), {"eps": 0.5}),
    ]


# ---------------------------------------------------------------- predicted: leaving a saddle

def saddle_escape_steps(eigenvalues, lr, delta, radius):
    """Gradient-descent steps to leave a saddle, predicted from its Hessian's eigenvalues.

    On J(d) = 1/2 d^T H d gradient descent with step lr multiplies the component of d along
    an eigenvector of eigenvalue lam by (1 - lr * lam) per step. Every component starts at
    size delta; with lr * max(eigenvalues) < 2 the positive directions shrink and the
    component of the most negative eigenvalue lam_min grows fastest. Returns the real t at
    which it reaches radius: ln(radius / delta) / ln(1 + lr * |lam_min|).

    eigenvalues: 1-D array (any order) with at least one negative entry; lr, delta, radius > 0.
    """
    lam_min = float(np.min(eigenvalues))
    return float(np.log(radius / delta) / np.log1p(-lr * lam_min))


def _spectrum(rng, n_neg, n_pos, neg_scale, pos_scale):
    ev = np.concatenate([-neg_scale * rng.uniform(0.1, 1.0, n_neg),
                         pos_scale * rng.uniform(0.1, 1.0, n_pos), np.zeros(2)])
    ev[0], ev[n_neg] = -neg_scale, pos_scale          # the extremes, exactly
    return rng.permutation(ev)


def _saddle_escape_cases(rng):
    cases = []
    # lr * |lam_min| from 0.2 to 1: ln(1 + x) and x differ by 10-30%
    for _ in range(2):
        ev = _spectrum(rng, 1, int(rng.integers(3, 8)), 1.0, float(rng.uniform(0.5, 2.0)))
        cases.append(Case("one negative eigenvalue",
                          (ev, float(rng.uniform(0.2, 0.9)), 1e-6, 1.0)))
    # the largest eigenvalue in size is positive: the slip that takes max |lam| is visible
    for _ in range(2):
        neg = float(rng.uniform(0.1, 0.5))
        ev = _spectrum(rng, int(rng.integers(2, 6)), int(rng.integers(4, 10)), neg,
                       float(rng.uniform(2, 4)) * neg)
        lr = float(rng.uniform(0.3, 0.9)) * 2 / np.max(ev)
        cases.append(Case("several negative, a larger positive",
                          (ev, lr, float(10.0 ** rng.uniform(-9, -3)), 0.5)))
    # a small step: ln(1 + x) ~ x to about 1%, still outside the tolerance
    ev = _spectrum(rng, 3, 5, 0.8, 1.0)
    cases.append(Case("small steps (lr |lam| ~ 0.02)", (ev, 0.025, 1e-8, 1.0)))
    return cases


def _escape_hint_args(case):
    eigenvalues, lr, delta, radius = case.args
    return np.asarray(eigenvalues, dtype=float), lr, np.log(radius / delta)


def _hint_first_order(case, name, expected, got):
    ev, lr, log_ratio = _escape_hint_args(case)
    return bool(np.allclose(got, log_ratio / (lr * -ev.min()), rtol=1e-6))


def _hint_largest_size(case, name, expected, got):
    ev, lr, log_ratio = _escape_hint_args(case)
    lam = np.abs(ev).max()
    candidates = [log_ratio / np.log1p(lr * lam), log_ratio / (lr * lam)]
    return ev.max() > -ev.min() and any(np.allclose(got, c, rtol=1e-6) for c in candidates)


HINT_FIRST_ORDER = ("you divided ln(radius / delta) by lr * |lam_min|: the component grows by the "
                    "factor (1 + lr |lam_min|) per step, so divide by ln(1 + lr |lam_min|) "
                    "(ln(1 + x) ~ x only for small x)")
HINT_LARGEST_SIZE = ("you used the eigenvalue of largest size, which is positive here: a positive "
                     "direction shrinks under gradient descent; the escape is along the MOST "
                     "NEGATIVE eigenvalue")


# ---------------------------------------------------------------- classic slips, named in hints
# A hint predicate recomputes what a known slip returns on the failing case and compares it
# with what the learner's function returned for that output: the hint names a slip only
# when the numbers are exactly the slip's (relative 1e-9), never on a guess. Each slip is a
# module-level function with the exercise's signature (the grader imports them).

def _pick(out, name):
    """The output called `name` ('theta', 'state["v"]', 'm_hat', 'lr', ...) of a result."""
    if name.startswith("state["):
        return out[1][name[len('state["'):-2]]
    position = {"theta": 0, "m_hat": 0, "v_hat": 1, "lr": 0, "momentum": 1}
    return out[position[name]] if name in position and isinstance(out, tuple) else out


def _is_slip(slip, case, name, got):
    """True when `got` is what `slip` returns for output `name` on this case."""
    with np.errstate(all="ignore"):
        out = slip(*copy.deepcopy(case.args), **dict(case.kwargs))
    want = np.asarray(_pick(out, name), dtype=np.float64)
    got = np.asarray(got, dtype=np.float64)
    return want.shape == got.shape and bool(np.allclose(got, want, rtol=1e-9, atol=0.0))


# -- SGD with momentum (textbook form)

def _momentum_uphill(theta, grad, state, lr, momentum):
    v = momentum * state["v"] + lr * grad
    return theta + v, {"v": v}


def _momentum_pytorch_buffer(theta, grad, state, lr, momentum):
    b = momentum * state["v"] + grad
    return theta - lr * b, {"v": b}


def _momentum_theta_minus_v(theta, grad, state, lr, momentum):
    v = momentum * state["v"] - lr * grad
    return theta - v, {"v": v}


def hint_momentum_uphill(case, name, expected, got):
    return _is_slip(_momentum_uphill, case, name, got)


def hint_momentum_pytorch_buffer(case, name, expected, got):
    return _is_slip(_momentum_pytorch_buffer, case, name, got)


def hint_momentum_theta_minus_v(case, name, expected, got):
    return _is_slip(_momentum_theta_minus_v, case, name, got)


MOMENTUM_HINTS = (
    (("v = alpha v + lr g climbs the loss: the velocity collects MINUS the scaled gradient, "
     "v = alpha v - lr g"), hint_momentum_uphill),
    (("you kept PyTorch's buffer b = mu b + g (and theta - lr b): the textbook velocity is "
     "v = -lr b, with the learning rate and the minus sign inside it"), hint_momentum_pytorch_buffer),
    ("v already points downhill (v = alpha v - lr g): the parameters move by + v",
     hint_momentum_theta_minus_v),
)


# -- Nesterov (PyTorch's form)

def _nesterov_plain(theta, grad, state, lr, momentum):
    buf = momentum * state["buf"] + grad
    return theta - lr * buf, {"buf": buf}


def _nesterov_textbook_grad_only(theta, grad, state, lr, momentum):
    buf = momentum * state["buf"] + grad
    return theta - lr * (grad + buf), {"buf": buf}


def hint_nesterov_plain(case, name, expected, got):
    return _is_slip(_nesterov_plain, case, name, got)


def hint_nesterov_no_mu(case, name, expected, got):
    return _is_slip(_nesterov_textbook_grad_only, case, name, got)


NESTEROV_HINTS = (
    (("that is plain momentum, theta - lr b (or the look-ahead taken with the OLD buffer, "
     "which is the same): Nesterov's step is theta - lr (g + mu b) with the NEW b = mu b + g"),
     hint_nesterov_plain),
    ("the look-ahead term is mu b, not b: theta - lr (g + mu b)", hint_nesterov_no_mu),
)


# -- AdaGrad and RMSprop: where eps goes, the sign, the root, the history

def _adagrad_eps_inside(theta, grad, state, lr, eps=1e-10):
    r = state["sum"] + grad * grad
    return theta - lr * grad / np.sqrt(r + eps), {"sum": r}


def _adagrad_plus(theta, grad, state, lr, eps=1e-10):
    r = state["sum"] + grad * grad
    return theta + lr * grad / (np.sqrt(r) + eps), {"sum": r}


def _adagrad_no_root(theta, grad, state, lr, eps=1e-10):
    r = state["sum"] + grad * grad
    return theta - lr * grad / (r + eps), {"sum": r}


def _adagrad_no_history(theta, grad, state, lr, eps=1e-10):
    r = grad * grad
    return theta - lr * grad / (np.sqrt(r) + eps), {"sum": r}


def _rmsprop_eps_inside(theta, grad, state, lr, alpha=0.99, eps=1e-8):
    r = alpha * state["square_avg"] + (1 - alpha) * grad * grad
    return theta - lr * grad / np.sqrt(r + eps), {"square_avg": r}


def _rmsprop_plus(theta, grad, state, lr, alpha=0.99, eps=1e-8):
    r = alpha * state["square_avg"] + (1 - alpha) * grad * grad
    return theta + lr * grad / (np.sqrt(r) + eps), {"square_avg": r}


def _rmsprop_no_root(theta, grad, state, lr, alpha=0.99, eps=1e-8):
    r = alpha * state["square_avg"] + (1 - alpha) * grad * grad
    return theta - lr * grad / (r + eps), {"square_avg": r}


def _rmsprop_swapped(theta, grad, state, lr, alpha=0.99, eps=1e-8):
    r = (1 - alpha) * state["square_avg"] + alpha * grad * grad
    return theta - lr * grad / (np.sqrt(r) + eps), {"square_avg": r}


def hint_adagrad_eps_inside(case, name, expected, got):
    return _is_slip(_adagrad_eps_inside, case, name, got)


def hint_adagrad_plus(case, name, expected, got):
    return _is_slip(_adagrad_plus, case, name, got)


def hint_adagrad_no_root(case, name, expected, got):
    return _is_slip(_adagrad_no_root, case, name, got)


def hint_adagrad_no_history(case, name, expected, got):
    return _is_slip(_adagrad_no_history, case, name, got)


def hint_rmsprop_eps_inside(case, name, expected, got):
    return _is_slip(_rmsprop_eps_inside, case, name, got)


def hint_rmsprop_plus(case, name, expected, got):
    return _is_slip(_rmsprop_plus, case, name, got)


def hint_rmsprop_no_root(case, name, expected, got):
    return _is_slip(_rmsprop_no_root, case, name, got)


def hint_rmsprop_swapped(case, name, expected, got):
    return _is_slip(_rmsprop_swapped, case, name, got)


HINT_EPS_INSIDE = ("eps is inside the square root, sqrt(r + eps): PyTorch adds it outside, "
                   "sqrt(r) + eps (the two differ where gradients are tiny or eps is large)")
HINT_PLUS = ("theta + ... climbs the loss (a plus sign copied from some summaries is a slip): "
             "subtract the scaled gradient, theta - lr g / (sqrt(r) + eps)")
HINT_NO_ROOT = "you divided by r itself: divide by its square root, sqrt(r) + eps"
ADAGRAD_HINTS = (
    (HINT_EPS_INSIDE, hint_adagrad_eps_inside),
    (HINT_PLUS, hint_adagrad_plus),
    (HINT_NO_ROOT, hint_adagrad_no_root),
    ("r must add up ALL past squared gradients, r = r + g^2, not only the latest one",
     hint_adagrad_no_history),
)
RMSPROP_HINTS = (
    (HINT_EPS_INSIDE, hint_rmsprop_eps_inside),
    (HINT_PLUS, hint_rmsprop_plus),
    (HINT_NO_ROOT, hint_rmsprop_no_root),
    (("alpha and 1 - alpha are swapped: the OLD average keeps the weight alpha, "
     "r = alpha r + (1 - alpha) g^2"), hint_rmsprop_swapped),
)


# -- Adam's bias correction and Adam's step

def _bias_one_minus_beta(m, v, beta1, beta2, t):
    return m / (1 - beta1), v / (1 - beta2)


def _bias_multiplied(m, v, beta1, beta2, t):
    return m * (1 - beta1**t), v * (1 - beta2**t)


def _bias_next_t(m, v, beta1, beta2, t):
    return m / (1 - beta1 ** (t + 1)), v / (1 - beta2 ** (t + 1))


def _bias_previous_t(m, v, beta1, beta2, t):
    return m / (1 - beta1 ** (t - 1)), v / (1 - beta2 ** (t - 1))


def hint_bias_one_minus_beta(case, name, expected, got):
    return _is_slip(_bias_one_minus_beta, case, name, got)


def hint_bias_multiplied(case, name, expected, got):
    return _is_slip(_bias_multiplied, case, name, got)


def hint_bias_off_by_one(case, name, expected, got):
    return (_is_slip(_bias_next_t, case, name, got)
            or (case.args[4] > 1 and _is_slip(_bias_previous_t, case, name, got)))


HINT_ONE_MINUS_BETA = ("1 - beta instead of 1 - beta^t: the two agree only at t = 1; the "
                       "averages started at 0 are too small by the factor 1 - beta^t")
BIAS_HINTS = (
    (HINT_ONE_MINUS_BETA, hint_bias_one_minus_beta),
    ("you multiplied by 1 - beta^t: the averages are too SMALL by that factor, so divide",
     hint_bias_multiplied),
    (("the exponent is off by one: after t steps the factor is 1 - beta^t, with the t you "
     "are given"), hint_bias_off_by_one),
)


def _adam_slip(kind):
    """Adam's step with one slip; kind picks which (a module-level function per kind below)."""
    def step(theta, grad, state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        t = state["t"] + 1
        m = beta1 * state["m"] + (1 - beta1) * grad
        v = beta2 * state["v"] + (1 - beta2) * grad * grad
        power = state["t"] if kind == "old_t" else t
        if kind == "one_minus_beta":
            m_hat, v_hat = m / (1 - beta1), v / (1 - beta2)
        elif kind == "none":
            m_hat, v_hat = m, v
        else:
            m_hat, v_hat = m / (1 - beta1**power), v / (1 - beta2**power)
        denominator = np.sqrt(v_hat + eps) if kind == "eps_inside" else np.sqrt(v_hat) + eps
        step = lr * m_hat / denominator
        new_state = ({"m": m_hat, "v": v_hat, "t": t} if kind == "corrected_state"
                     else {"m": m, "v": v, "t": t})
        return (theta + step if kind == "plus" else theta - step), new_state
    return step


_adam_one_minus_beta = _adam_slip("one_minus_beta")
_adam_no_correction = _adam_slip("none")
_adam_eps_inside = _adam_slip("eps_inside")
_adam_plus = _adam_slip("plus")
_adam_old_t = _adam_slip("old_t")
_adam_corrected_state = _adam_slip("corrected_state")


def hint_adam_one_minus_beta(case, name, expected, got):
    return _is_slip(_adam_one_minus_beta, case, name, got)


def hint_adam_no_correction(case, name, expected, got):
    return _is_slip(_adam_no_correction, case, name, got)


def hint_adam_eps_inside(case, name, expected, got):
    return _is_slip(_adam_eps_inside, case, name, got)


def hint_adam_plus(case, name, expected, got):
    return _is_slip(_adam_plus, case, name, got)


def hint_adam_old_t(case, name, expected, got):
    return case.args[2]["t"] > 0 and _is_slip(_adam_old_t, case, name, got)


def hint_adam_corrected_state(case, name, expected, got):
    return _is_slip(_adam_corrected_state, case, name, got)


ADAM_HINTS = (
    (HINT_ONE_MINUS_BETA, hint_adam_one_minus_beta),
    (("no bias correction: divide m by 1 - beta1^t and v by 1 - beta2^t (with the new t) "
     "before the step"), hint_adam_no_correction),
    (("eps is inside the square root, sqrt(v_hat + eps): PyTorch's Adam adds it outside, "
     "sqrt(v_hat) + eps"), hint_adam_eps_inside),
    ("theta + ... climbs the loss: subtract the step, theta - lr m_hat / (sqrt(v_hat) + eps)",
     hint_adam_plus),
    (("the correction used the old count: increase t first, then divide by 1 - beta^t with "
     "the new t"), hint_adam_old_t),
    (("the state must keep the raw averages m and v; only the step uses the corrected "
     "m_hat and v_hat"), hint_adam_corrected_state),
)


# -- the best heavy ball

def _best_momentum_parts(lam_min, lam_max):
    root_kappa = np.sqrt(lam_max / lam_min)
    root_a = (root_kappa - 1) / (root_kappa + 1)
    return (2.0 / (np.sqrt(lam_max) + np.sqrt(lam_min))) ** 2, root_a


def hint_best_momentum_gd_step(case, name, expected, got):
    lam_min, lam_max = case.args
    return name == "lr" and bool(np.isclose(got, 2 / (lam_min + lam_max), rtol=1e-9, atol=0))


def hint_best_momentum_unsquared_lr(case, name, expected, got):
    lam_min, lam_max = case.args
    return name == "lr" and bool(np.isclose(got, 2 / (np.sqrt(lam_max) + np.sqrt(lam_min)),
                                            rtol=1e-9, atol=0))


def hint_best_momentum_rate(case, name, expected, got):
    _, root_a = _best_momentum_parts(*case.args)
    return name == "momentum" and bool(np.isclose(got, root_a, rtol=1e-9, atol=0))


def hint_best_momentum_kappa(case, name, expected, got):
    lam_min, lam_max = case.args
    kappa = lam_max / lam_min
    candidates = ((kappa - 1) / (kappa + 1), ((kappa - 1) / (kappa + 1)) ** 2)
    return name == "momentum" and any(bool(np.isclose(got, c, rtol=1e-9, atol=0))
                                      for c in candidates)


BEST_MOMENTUM_HINTS = (
    (("2 / (lam_min + lam_max) is gradient descent's best step; with momentum both ends sit on "
     "the edge of the complex region: lr lam_min = (1 - sqrt(a))^2, lr lam_max = (1 + sqrt(a))^2"),
     hint_best_momentum_gd_step),
    (("square it: adding the square roots of the two edge conditions gives "
     "sqrt(lr) (sqrt(lam_max) + sqrt(lam_min)) = 2"), hint_best_momentum_unsquared_lr),
    (("that is the rate per step, sqrt(momentum) = (sqrt(kappa) - 1) / (sqrt(kappa) + 1): "
     "the momentum is its square"), hint_best_momentum_rate),
    (("(kappa - 1) / (kappa + 1) is gradient descent's rate: the heavy ball's depends on "
     "sqrt(kappa)"), hint_best_momentum_kappa),
)


# -- Adam on a constant gradient

def _displacement_sign(g, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    return -t * lr * np.sign(g)


def _displacement_eps_inside(g, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    return -t * lr * g / np.sqrt(g * g + eps)


def _displacement_one_step(g, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    return -lr * g / (np.abs(g) + eps)


def _displacement_unnormalised(g, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    return -t * lr * g


def _displacement_uncorrected(g, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    s = np.arange(1, t + 1).reshape((-1,) + (1,) * np.ndim(g))
    steps = (1 - beta1**s) * g / (np.sqrt(1 - beta2**s) * np.abs(g) + eps)
    return -lr * steps.sum(axis=0)


def hint_displacement_sign(case, name, expected, got):
    return _is_slip(_displacement_sign, case, name, got)


def hint_displacement_eps_inside(case, name, expected, got):
    return _is_slip(_displacement_eps_inside, case, name, got)


def hint_displacement_one_step(case, name, expected, got):
    return _is_slip(_displacement_one_step, case, name, got)


def hint_displacement_unnormalised(case, name, expected, got):
    return _is_slip(_displacement_unnormalised, case, name, got)


def hint_displacement_uncorrected(case, name, expected, got):
    return _is_slip(_displacement_uncorrected, case, name, got)


DISPLACEMENT_HINTS = (
    (("lr sign(g) per step forgets eps: each step is lr |g| / (|g| + eps), visibly less than "
     "lr when |g| is near eps (or eps is large)"), hint_displacement_sign),
    ("eps is inside the root, sqrt(g^2 + eps): PyTorch's Adam divides by sqrt(v_hat) + eps",
     hint_displacement_eps_inside),
    ("that is one step: after t steps on the same gradient the displacement is t times it",
     hint_displacement_one_step),
    ("Adam divides by sqrt(v_hat) = |g|: each step has length about lr whatever the size of g",
     hint_displacement_unnormalised),
    (("without the bias correction: with it, m_hat = g and v_hat = g^2 at EVERY step, so all "
     "t steps are the same"), hint_displacement_uncorrected),
)


# ---------------------------------------------------------------- the registry entries

EXERCISES = [
    register(Exercise(PREFIX + "sgd_momentum_step", "sgd_momentum_step", _sgd_momentum_cases,
                      sgd_momentum_step, ("theta", ("state", ("v",))), hints=MOMENTUM_HINTS)),
    register(Exercise(PREFIX + "nesterov_step", "nesterov_step", _nesterov_cases,
                      nesterov_step, ("theta", ("state", ("buf",))), hints=NESTEROV_HINTS)),
    register(Exercise(PREFIX + "adagrad_step", "adagrad_step", _adagrad_cases, adagrad_step,
                      ("theta", ("state", ("sum",))), hints=ADAGRAD_HINTS)),
    register(Exercise(PREFIX + "rmsprop_step", "rmsprop_step", _rmsprop_cases, rmsprop_step,
                      ("theta", ("state", ("square_avg",))), hints=RMSPROP_HINTS)),
    register(Exercise(PREFIX + "bias_corrected", "bias_corrected", _bias_corrected_cases,
                      bias_corrected, ("m_hat", "v_hat"), hints=BIAS_HINTS)),
    register(Exercise(PREFIX + "adam_step", "adam_step", _adam_cases, adam_step,
                      ("theta", ("state", ("m", "v", "t"))), hints=ADAM_HINTS)),
    register(Exercise(PREFIX + "best_momentum", "best_momentum", _best_momentum_cases,
                      best_momentum, ("lr", "momentum"), hints=BEST_MOMENTUM_HINTS)),
    register(Exercise(PREFIX + "adam_displacement", "adam_displacement",
                      _adam_displacement_cases, adam_displacement, ("displacement",),
                      hints=DISPLACEMENT_HINTS)),
    register(Exercise(PREFIX + "saddle_escape_steps", "saddle_escape_steps",
                      _saddle_escape_cases, saddle_escape_steps, ("steps",),
                      hints=((HINT_FIRST_ORDER, _hint_first_order),
                             (HINT_LARGEST_SIZE, _hint_largest_size)))),
]
