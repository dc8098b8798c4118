"""Chapter 4 exercises: the references agree with dlcore.optim, pass every group, and the
classic wrong update rules fail with the right status."""
import numpy as np
import pytest
from conftest import hint_lines, run

from dlcore import optim
from dlcore.grading import EXERCISES, list_exercises
from dlcore.grading.exercises import optimizers as ex
from dlcore.nn import Parameter

CHAPTER4 = [
    "optimizers.sgd_momentum_step",
    "optimizers.nesterov_step",
    "optimizers.adagrad_step",
    "optimizers.rmsprop_step",
    "optimizers.bias_corrected",
    "optimizers.adam_step",
    "optimizers.best_momentum",
    "optimizers.adam_displacement",
    "optimizers.saddle_escape_steps",
]


def test_chapter4_is_registered():
    assert set(CHAPTER4) <= set(EXERCISES)
    assert list_exercises("optimizers.") == sorted(CHAPTER4)


# ---------------------------------------------------------------- references == dlcore.optim

def _library_path(opt_cls, grads, theta0, **hyper):
    p = Parameter(theta0.copy())
    opt = opt_cls([p], **hyper)
    out = []
    for g in grads:
        p.grad[...] = g
        opt.step()
        out.append(p.data.copy())
    return np.array(out)


def _exercise_path(step, state, grads, theta0, **hyper):
    theta, out = theta0.copy(), []
    for g in grads:
        theta, state = step(theta, g, state, **hyper)
        out.append(theta)
    return np.array(out)


GRADS = np.random.default_rng(0).standard_normal((12, 5))
THETA0 = np.random.default_rng(1).standard_normal(5)


def test_textbook_momentum_is_pytorch_momentum_with_v_equal_minus_lr_buf():
    lib = _library_path(optim.SGD, GRADS, THETA0, lr=0.1, momentum=0.9)
    ours = _exercise_path(ex.sgd_momentum_step, {"v": np.zeros(5)}, GRADS, THETA0, lr=0.1,
                          momentum=0.9)
    np.testing.assert_allclose(ours, lib, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("opt_cls, step, state, hyper, lib_hyper", [
    (optim.SGD, ex.nesterov_step, {"buf": np.zeros(5)}, {"lr": 0.05, "momentum": 0.9},
     {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    (optim.Adagrad, ex.adagrad_step, {"sum": np.zeros(5)}, {"lr": 0.1, "eps": 1e-10},
     {"lr": 0.1, "eps": 1e-10}),
    (optim.RMSprop, ex.rmsprop_step, {"square_avg": np.zeros(5)},
     {"lr": 0.01, "alpha": 0.9, "eps": 1e-8}, {"lr": 0.01, "alpha": 0.9, "eps": 1e-8}),
    (optim.Adam, ex.adam_step, {"m": np.zeros(5), "v": np.zeros(5), "t": 0},
     {"lr": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 1e-8},
     {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-8}),
])
def test_references_agree_with_the_library(opt_cls, step, state, hyper, lib_hyper):
    lib = _library_path(opt_cls, GRADS, THETA0, **lib_hyper)
    ours = _exercise_path(step, state, GRADS, THETA0, **hyper)
    np.testing.assert_allclose(ours, lib, rtol=1e-12, atol=1e-14)


def test_adam_first_step_is_lr_times_sign():
    theta, state = ex.adam_step(np.zeros(3), np.array([2.0, -0.001, 50.0]),
                                {"m": np.zeros(3), "v": np.zeros(3), "t": 0}, lr=0.01)
    np.testing.assert_allclose(theta, [-0.01, 0.01, -0.01], rtol=1e-5)
    assert state["t"] == 1


def test_bias_correction_by_hand():
    m_hat, v_hat = ex.bias_corrected(np.array([0.1]), np.array([0.001]), 0.9, 0.999, 1)
    np.testing.assert_allclose([m_hat[0], v_hat[0]], [1.0, 1.0])
    m_hat, _ = ex.bias_corrected(np.array([0.19]), np.array([0.0]), 0.9, 0.999, 2)
    np.testing.assert_allclose(m_hat, [1.0])   # 0.19 / (1 - 0.81)


# ---------------------------------------------------------------- classic wrong answers fail

def test_momentum_sign_error_fails():
    def wrong(theta, grad, state, lr, momentum):
        v = momentum * state["v"] + lr * grad      # climbs the gradient
        return theta + v, {"v": v}

    result = run("optimizers.sgd_momentum_step", wrong)
    assert result.status == "wrong" and result.passed == 0
    assert any(line.startswith("✘ sgd_momentum_step  theta") for line in result.lines)


def test_momentum_returning_pytorch_buffer_as_v_fails():
    def wrong(theta, grad, state, lr, momentum):
        buf = momentum * state["v"] + grad          # PyTorch's buffer, not v = -lr buf
        return theta - lr * buf, {"v": buf}

    result = run("optimizers.sgd_momentum_step", wrong)
    assert result.status == "wrong"
    assert result.errors[("first step (empty state)", 'state["v"]')] > 0.5


def test_nesterov_without_look_ahead_fails():
    def plain_momentum(theta, grad, state, lr, momentum):
        buf = momentum * state["buf"] + grad
        return theta - lr * buf, {"buf": buf}

    result = run("optimizers.nesterov_step", plain_momentum)
    assert result.status == "wrong" and result.passed == 0


def test_adagrad_without_sqrt_fails():
    def wrong(theta, grad, state, lr, eps=1e-10):
        s = state["sum"] + grad**2
        return theta - lr * grad / (s + eps), {"sum": s}

    result = run("optimizers.adagrad_step", wrong)
    assert result.status == "wrong" and result.passed == 0


def test_adagrad_that_forgets_the_history_fails_only_after_a_sequence():
    def wrong(theta, grad, state, lr, eps=1e-10):
        s = grad**2                                 # no accumulation
        return theta - lr * grad / (np.sqrt(s) + eps), {"sum": state["sum"] + grad**2}

    result = run("optimizers.adagrad_step", wrong)
    assert result.errors[("first step (empty state)", "theta")] < 1e-12
    assert result.errors[("after a sequence of gradients", "theta")] > 1e-3
    assert result.status == "wrong"


def test_rmsprop_with_eps_inside_the_sqrt_fails_where_eps_matters():
    def eps_inside(theta, grad, state, lr, alpha=0.99, eps=1e-8):
        r = alpha * state["square_avg"] + (1 - alpha) * grad**2
        return theta - lr * grad / np.sqrt(r + eps), {"square_avg": r}

    result = run("optimizers.rmsprop_step", eps_inside)
    assert result.status == "wrong"
    # invisible at the default eps and unit gradients, plain with tiny gradients or a big eps
    assert result.errors[("after a sequence of gradients", "theta")] < 1e-7
    assert result.errors[("tiny gradients (eps matters)", "theta")] > 0.1
    assert result.errors[("large eps", "theta")] > 1e-4   # of theta, not only of the step


def test_rmsprop_with_1_minus_alpha_swapped_fails():
    def wrong(theta, grad, state, lr, alpha=0.99, eps=1e-8):
        r = (1 - alpha) * state["square_avg"] + alpha * grad**2
        return theta - lr * grad / (np.sqrt(r) + eps), {"square_avg": r}

    assert run("optimizers.rmsprop_step", wrong).passed == 0


def test_bias_correction_by_one_minus_beta_fails():
    def notes_slip(m, v, beta1, beta2, t):
        return m / (1 - beta1), v / (1 - beta2)

    result = run("optimizers.bias_corrected", notes_slip)
    assert result.status == "wrong"
    # t = 1 makes 1 - beta^t = 1 - beta: that group passes, every other fails
    assert result.errors[("first step (t = 1)", "m_hat")] < 1e-12
    assert result.errors[("early steps", "m_hat")] > 0.1
    assert result.passed == 1


@pytest.mark.parametrize("variant", ["one_minus_beta", "no_correction", "t_not_incremented"])
def test_wrong_adam_fails(variant):
    def wrong(theta, grad, state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        t = state["t"] + 1
        m = beta1 * state["m"] + (1 - beta1) * grad
        v = beta2 * state["v"] + (1 - beta2) * grad**2
        if variant == "one_minus_beta":
            m_hat, v_hat = m / (1 - beta1), v / (1 - beta2)
        elif variant == "no_correction":
            m_hat, v_hat = m, v
        else:
            t -= 1
            with np.errstate(divide="ignore", invalid="ignore"):
                m_hat, v_hat = m / (1 - beta1 ** (t + 1)), v / (1 - beta2 ** (t + 1))
        return theta - lr * m_hat / (np.sqrt(v_hat) + eps), {"m": m, "v": v, "t": t}

    result = run("optimizers.adam_step", wrong)
    assert result.status == "wrong" and not result
    if variant == "t_not_incremented":      # theta right, the count wrong
        assert result.errors[("first step (empty state)", 'state["t"]')] == 1.0


def test_mutating_the_state_in_place_fails():
    def in_place(theta, grad, state, lr, momentum):
        state["v"] *= momentum
        state["v"] -= lr * grad
        theta += state["v"]
        return theta, state

    result = run("optimizers.sgd_momentum_step", in_place)
    assert result.status == "wrong" and result.passed == 0


def test_blank_exercise_is_not_implemented():
    def blank(theta, grad, state, lr, beta1=0.9, beta2=0.999, eps=1e-8):
        raise NotImplementedError

    result = run("optimizers.adam_step", blank)
    assert result.status == "not-implemented" and result.passed == 0


# ---------------------------------------------------------------- derived: the best heavy ball

def _heavy_ball_rate(lam, lr, momentum):
    """Spectral radius of the heavy ball's 2x2 iteration in the direction of eigenvalue lam."""
    matrix = np.array([[1 + momentum - lr * lam, -momentum], [1.0, 0.0]])
    return np.abs(np.linalg.eigvals(matrix)).max()


def test_best_momentum_by_hand():
    lr, momentum = ex.best_momentum(1.0, 100.0)     # sqrt(kappa) = 10
    np.testing.assert_allclose([lr, momentum], [(2 / 11) ** 2, (9 / 11) ** 2], rtol=1e-14)
    lr, momentum = ex.best_momentum(4.0, 4.0)       # round: one exact Newton-like step
    np.testing.assert_allclose([lr, momentum], [0.25, 0.0], atol=1e-15)


def test_best_momentum_is_the_fastest_heavy_ball():
    lam_min, lam_max = 0.3, 0.3 * 250
    lr, momentum = ex.best_momentum(lam_min, lam_max)
    spectrum = np.linspace(lam_min, lam_max, 401)

    def worst(lr, momentum):
        return max(_heavy_ball_rate(lam, lr, momentum) for lam in spectrum)

    best = worst(lr, momentum)
    # every direction contracts by sqrt(momentum), to the precision of a double root
    np.testing.assert_allclose(best, np.sqrt(momentum), rtol=1e-6)
    np.testing.assert_allclose(best, (np.sqrt(250) - 1) / (np.sqrt(250) + 1), rtol=1e-6)
    for d_lr, d_m in [(1.02, 1), (0.98, 1), (1, 1.02), (1, 0.98)]:
        assert worst(lr * d_lr, min(momentum * d_m, 0.999)) > best + 1e-4
    # and it beats gradient descent at its own best step, (kappa - 1) / (kappa + 1)
    assert best < worst(2 / (lam_min + lam_max), 0.0) - 0.1


@pytest.mark.parametrize("variant", ["kappa_not_root", "gd_step", "no_square_momentum",
                                     "no_square_lr"])
def test_wrong_best_momentum_fails(variant):
    def wrong(lam_min, lam_max):
        kappa = lam_max / lam_min
        lr = (2 / (np.sqrt(lam_max) + np.sqrt(lam_min))) ** 2
        momentum = ((np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1)) ** 2
        if variant == "kappa_not_root":
            momentum = ((kappa - 1) / (kappa + 1)) ** 2
        elif variant == "gd_step":
            lr = 2 / (lam_min + lam_max)
        elif variant == "no_square_momentum":
            momentum = (np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1)
        else:
            lr = 2 / (np.sqrt(lam_max) + np.sqrt(lam_min))
        return float(lr), float(momentum)

    result = run("optimizers.best_momentum", wrong)
    assert result.status == "wrong"
    output = "lr" if variant in ("gd_step", "no_square_lr") else "momentum"
    assert result.errors[("a ravine (kappa 10 to 1000)", output)] > 1e-2
    assert result.passed <= 1          # at most the almost-round group, where kappa ~ 1


# ---------------------------------------------------------------- predicted: Adam's steps

def test_adam_displacement_is_t_equal_steps():
    g = np.array([3.0, -1e-3, 2e-8, -50.0])
    for t in [1, 7, 30]:
        np.testing.assert_allclose(ex.adam_displacement(g, t, lr=0.01, beta1=0.7, beta2=0.95),
                                   -t * 0.01 * g / (np.abs(g) + 1e-8), rtol=1e-12)


@pytest.mark.parametrize("variant", ["one_minus_beta", "no_correction", "one_step"])
def test_wrong_adam_displacement_fails_after_the_first_step(variant):
    def wrong(g, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        total = np.zeros_like(g)
        for s in range(1, t + 1):
            m, v = (1 - beta1**s) * g, (1 - beta2**s) * g * g
            if variant == "one_minus_beta":     # 1 - beta instead of 1 - beta^t
                m, v = m / (1 - beta1), v / (1 - beta2)
            elif variant == "no_correction":
                pass
            else:                               # every step taken as the first
                m, v = g, g * g
            total -= lr * m / (np.sqrt(v) + eps)
        return total / t if variant == "one_step" else total

    result = run("optimizers.adam_displacement", wrong)
    assert result.status == "wrong"
    assert result.errors[("after several steps", "displacement")] > 0.1
    if variant == "no_correction":      # 0.1 / sqrt(0.001) = 3.2 times too far at t = 1
        assert result.passed == 0
    else:                               # t = 1 makes them right: that group passes
        assert result.errors[("first step (t = 1)", "displacement")] < 1e-12


def test_adam_displacement_of_lr_times_sign_fails_where_eps_matters():
    def sign_only(g, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        return -t * lr * np.sign(g)

    result = run("optimizers.adam_displacement", sign_only)
    assert result.status == "wrong"
    assert result.errors[("after several steps", "displacement")] < 1e-7
    assert result.errors[("tiny gradients (eps matters)", "displacement")] > 0.1
    assert result.errors[("large eps", "displacement")] > 0.1


# ---------------------------------------------------------------- predicted: leaving a saddle

def test_saddle_escape_steps_matches_gradient_descent_on_the_quadratic():
    # H = diag(ev); each component starts at delta; count the steps until the largest
    # component reaches radius: the prediction t lies in (steps - 1, steps]
    ev, lr, delta, radius = np.array([0.9, -0.3, 0.2, -0.05, 0.0]), 0.5, 1e-6, 1.0
    t = ex.saddle_escape_steps(ev, lr, delta, radius)
    d, steps = np.full(5, delta), 0
    while np.abs(d).max() < radius:
        d = d - lr * ev * d
        steps += 1
    assert steps - 1 < t <= steps
    assert t == pytest.approx(np.log(1e6) / np.log(1.15), rel=1e-12)     # 98.85 steps


def test_saddle_escape_steps_by_hand():
    # the chapter's saddle: lam_min = -0.7589, lr 0.1: 31.5 extra steps per tenfold smaller delta
    per_decade = (ex.saddle_escape_steps(np.array([-0.7589, 0.7589]), 0.1, 1e-9, 1.0)
                  - ex.saddle_escape_steps(np.array([-0.7589, 0.7589]), 0.1, 1e-8, 1.0))
    assert per_decade == pytest.approx(np.log(10) / np.log(1.07589), rel=1e-12)
    assert 31.4 < per_decade < 31.6


def test_first_order_escape_fails_with_its_hint():
    def first_order(eigenvalues, lr, delta, radius):
        return np.log(radius / delta) / (lr * -np.min(eigenvalues))

    result = run("optimizers.saddle_escape_steps", first_order)
    assert result.status == "wrong" and result.passed == 0
    assert result.errors[("one negative eigenvalue", "steps")] > 0.05
    assert hint_lines(result) == [f"hint: {ex.HINT_FIRST_ORDER}"]


def test_largest_size_eigenvalue_fails_with_its_hint():
    def largest_size(eigenvalues, lr, delta, radius):
        return np.log(radius / delta) / np.log1p(lr * np.abs(eigenvalues).max())

    result = run("optimizers.saddle_escape_steps", largest_size)
    assert result.status == "wrong"
    assert result.errors[("several negative, a larger positive", "steps")] > 0.1
    assert any(line == f"hint: {ex.HINT_LARGEST_SIZE}" for line in hint_lines(result))


@pytest.mark.parametrize("variant", ["no_lr", "log10", "first_entry", "shrink_factor"])
def test_other_wrong_escape_steps_fail(variant):
    def wrong(eigenvalues, lr, delta, radius):
        lam = np.min(eigenvalues)
        if variant == "no_lr":
            return np.log(radius / delta) / np.log1p(-lam)
        if variant == "log10":
            return np.log10(radius / delta) / np.log1p(-lr * lam)
        if variant == "first_entry":            # assumes the eigenvalues come sorted
            with np.errstate(divide="ignore"):      # a zero eigenvalue first: inf
                return np.log(radius / delta) / np.log1p(-lr * eigenvalues[0])
        return np.log(radius / delta) / -np.log(1 + lr * lam)     # 1 - lr|lam|: shrinking

    result = run("optimizers.saddle_escape_steps", wrong)
    assert result.status == "wrong" and result.passed == 0
    assert hint_lines(result)[:1] != [f"hint: {ex.HINT_FIRST_ORDER}"]


# ---------------------------------------------------------------- the classic slips get named

def _momentum_buffer(theta, grad, state, lr, momentum):
    buf = momentum * state["v"] + grad
    return theta - lr * buf, {"v": buf}


def _momentum_uphill(theta, grad, state, lr, momentum):
    v = momentum * state["v"] + lr * grad
    return theta + v, {"v": v}


def _nesterov_old_buffer(theta, grad, state, lr, momentum):
    new = momentum * state["buf"] + grad
    return theta - lr * (grad + momentum * state["buf"]), {"buf": new}


def _adagrad_eps_inside(theta, grad, state, lr, eps=1e-10):
    s = state["sum"] + grad**2
    return theta - lr * grad / np.sqrt(s + eps), {"sum": s}


def _adagrad_plus(theta, grad, state, lr, eps=1e-10):
    s = state["sum"] + grad**2
    return theta + lr * grad / (np.sqrt(s) + eps), {"sum": s}


def _rmsprop_eps_inside(theta, grad, state, lr, alpha=0.99, eps=1e-8):
    r = alpha * state["square_avg"] + (1 - alpha) * grad**2
    return theta - lr * grad / np.sqrt(r + eps), {"square_avg": r}


def _rmsprop_plus(theta, grad, state, lr, alpha=0.99, eps=1e-8):
    r = alpha * state["square_avg"] + (1 - alpha) * grad**2
    return theta + lr * grad / (np.sqrt(r) + eps), {"square_avg": r}


def _bias_one_minus_beta(m, v, beta1, beta2, t):
    return m / (1 - beta1), v / (1 - beta2)


def _adam(variant):
    def step(theta, grad, state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        t = state["t"] + 1
        m = beta1 * state["m"] + (1 - beta1) * grad
        v = beta2 * state["v"] + (1 - beta2) * grad**2
        if variant == "one_minus_beta":
            m_hat, v_hat = m / (1 - beta1), v / (1 - beta2)
        else:
            m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
        if variant == "eps_inside":
            return theta - lr * m_hat / np.sqrt(v_hat + eps), {"m": m, "v": v, "t": t}
        if variant == "corrected_state":
            return theta - lr * m_hat / (np.sqrt(v_hat) + eps), {"m": m_hat, "v": v_hat, "t": t}
        return theta - lr * m_hat / (np.sqrt(v_hat) + eps), {"m": m, "v": v, "t": t}
    return step


def _best_momentum_gd_step(lam_min, lam_max):
    root = np.sqrt(lam_max / lam_min)
    return 2 / (lam_min + lam_max), float(((root - 1) / (root + 1)) ** 2)


def _best_momentum_rate(lam_min, lam_max):
    root = np.sqrt(lam_max / lam_min)
    return float((2 / (np.sqrt(lam_max) + np.sqrt(lam_min))) ** 2), float((root - 1) / (root + 1))


def _displacement_sign(g, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    return -t * lr * np.sign(g)


def _displacement_one_step(g, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    return -lr * g / (np.abs(g) + eps)


@pytest.mark.parametrize("exercise, wrong, words", [
    ("sgd_momentum_step", _momentum_buffer, "PyTorch's buffer"),
    ("sgd_momentum_step", _momentum_uphill, "climbs the loss"),
    ("nesterov_step", _nesterov_old_buffer, "plain momentum"),
    ("adagrad_step", _adagrad_eps_inside, "inside the square root"),
    ("adagrad_step", _adagrad_plus, "climbs the loss"),
    ("rmsprop_step", _rmsprop_eps_inside, "inside the square root"),
    ("rmsprop_step", _rmsprop_plus, "climbs the loss"),
    ("bias_corrected", _bias_one_minus_beta, "1 - beta instead of 1 - beta^t"),
    ("adam_step", _adam("one_minus_beta"), "1 - beta instead of 1 - beta^t"),
    ("adam_step", _adam("eps_inside"), "inside the square root"),
    ("adam_step", _adam("corrected_state"), "raw averages"),
    ("best_momentum", _best_momentum_gd_step, "gradient descent's best step"),
    ("best_momentum", _best_momentum_rate, "the momentum is its square"),
    ("adam_displacement", _displacement_sign, "forgets eps"),
    ("adam_displacement", _displacement_one_step, "t times"),
])
def test_classic_slip_is_named_in_a_hint(exercise, wrong, words):
    result = run(f"optimizers.{exercise}", wrong)
    assert result.status == "wrong"
    hints = hint_lines(result)
    assert len(hints) == 1 and words in hints[0], hints


def test_a_right_answer_to_another_question_gets_no_slip_hint():
    # lr = 1 / lam_max is no slip this exercise knows: no hint rather than a wrong one
    def guess(lam_min, lam_max):
        root = np.sqrt(lam_max / lam_min)
        return 1 / lam_max, float(((root - 1) / (root + 1)) ** 2)

    result = run("optimizers.best_momentum", guess)
    assert result.status == "wrong" and hint_lines(result) == []
