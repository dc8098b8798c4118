"""dlcore.optim's adaptive optimisers (Adagrad, RMSprop, Adadelta, Adam, AdamW): first steps
computed by hand, trajectories against torch.optim 2.13.0 reference numbers, param groups,
state_dict round trips, dtypes, and the messages for bad hyperparameters."""
import math

import numpy as np
import pytest

from dlcore import nn
from dlcore.nn import Parameter
from dlcore.optim import Adadelta, Adagrad, Adam, AdamW, RMSprop


def param(values, dtype=np.float64):
    return Parameter(np.array(values, dtype=dtype))


def step_with(opt, p, grad):
    p.grad[...] = grad
    opt.step()
    return p.data.copy()


# --- Adam ----------------------------------------------------------------------------------


def test_adam_first_step_moves_each_weight_by_lr_times_sign_of_g():
    # m / (1 - b1) = g and v / (1 - b2) = g^2, so the step is lr * g / (|g| + eps),
    # whatever the gradient's scale
    p = param([1.0, 2.0, -3.0, 0.5])
    g = np.array([100.0, -1e-3, 7.0, -0.25])
    new = step_with(Adam([p], lr=0.01), p, g)
    np.testing.assert_allclose(new, [0.99, 2.01, -3.01, 0.51], rtol=1e-7)
    q = param([1.0, 2.0, -3.0, 0.5])
    np.testing.assert_allclose(step_with(Adam([q], lr=0.01, eps=0.0), q, g),
                               [0.99, 2.01, -3.01, 0.51], rtol=1e-15)


def test_adam_eps_matters_for_tiny_gradients():
    # |g| = eps: the first step is lr * g / (2 |g|), half of lr
    p = param([0.0])
    np.testing.assert_allclose(step_with(Adam([p], lr=0.1, eps=1e-8), p, [1e-8]), [-0.05],
                               rtol=1e-12)


def test_adam_second_step_by_hand():
    p = param([1.0])
    opt = Adam([p], lr=0.1, eps=0.0)  # betas (0.9, 0.999)
    # step 1, g = 1: m = 0.1, v = 0.001; m_hat = 1, v_hat = 1 -> p = 0.9
    np.testing.assert_allclose(step_with(opt, p, [1.0]), [0.9], rtol=1e-15)
    # step 2, g = -1: m = 0.09 - 0.1 = -0.01, v = 0.000999 + 0.001 = 0.001999
    # m_hat = -0.01 / (1 - 0.9^2) = -0.01 / 0.19; v_hat = 0.001999 / (1 - 0.999^2) = 1
    np.testing.assert_allclose(step_with(opt, p, [-1.0]), [0.9 + 0.1 * 0.01 / 0.19],
                               rtol=1e-12)
    st = opt.state[id(p)]
    assert st["step"] == 2
    np.testing.assert_allclose(st["exp_avg"], [-0.01], rtol=1e-12)
    np.testing.assert_allclose(st["exp_avg_sq"], [0.001999], rtol=1e-12)


def test_adam_bias_correction_uses_the_step_number():
    # a constant gradient: m_hat = g and v_hat = g^2 at every step (1 - b^t, not 1 - b),
    # so every step is exactly lr * sign(g)
    p = param([0.0, 0.0])
    opt = Adam([p], lr=0.5, betas=(0.8, 0.7), eps=0.0)
    for t in range(1, 6):
        np.testing.assert_allclose(step_with(opt, p, [3.0, -0.2]), [-0.5 * t, 0.5 * t],
                                   rtol=1e-13)


def test_amsgrad_divides_by_the_largest_second_moment():
    # beta1 = 0 (m = g, no correction), beta2 = 0.5: v = 2, 1, 1 for g = 2, 0, 1
    grads = [[2.0], [0.0], [1.0]]
    p, q = param([0.0]), param([0.0])
    ams = Adam([p], lr=0.1, betas=(0.0, 0.5), eps=0.0, amsgrad=True)
    plain = Adam([q], lr=0.1, betas=(0.0, 0.5), eps=0.0)
    for g in grads[:2]:
        step_with(ams, p, g)
        step_with(plain, q, g)
    before_p, before_q = p.data.copy(), q.data.copy()
    step_with(ams, p, grads[2])
    step_with(plain, q, grads[2])
    st = ams.state[id(p)]
    np.testing.assert_allclose(st["exp_avg_sq"], [1.0], rtol=1e-15)
    np.testing.assert_allclose(st["max_exp_avg_sq"], [2.0], rtol=1e-15)  # kept from step 1
    # step 3: v_hat = v_max / (1 - 0.5^3)
    np.testing.assert_allclose(before_p - p.data, [0.1 / math.sqrt(2.0 / 0.875)], rtol=1e-13)
    np.testing.assert_allclose(before_q - q.data, [0.1 / math.sqrt(1.0 / 0.875)], rtol=1e-13)
    assert "max_exp_avg_sq" not in plain.state[id(q)]


def test_adamw_decays_the_weights_adam_decays_the_gradient():
    # Adam: g' = 0.5 + 0.1 * 2 = 0.7 and the first step is lr * sign(g') -> 1.9 (the
    # penalty is normalised away); AdamW: p = 2 * (1 - 0.1 * 0.1) = 1.98, then -0.1 -> 1.88
    p, q = param([2.0]), param([2.0])
    np.testing.assert_allclose(step_with(Adam([p], lr=0.1, weight_decay=0.1, eps=0.0), p,
                                         [0.5]), [1.9], rtol=1e-15)
    np.testing.assert_allclose(step_with(AdamW([q], lr=0.1, weight_decay=0.1, eps=0.0), q,
                                         [0.5]), [1.88], rtol=1e-15)
    # with a zero gradient Adam still takes a full step along the penalty; AdamW only shrinks
    p, q = param([2.0]), param([2.0])
    # (g' = 0.2, so the step is 0.1 * 0.2 / (0.2 + 1e-8), 5e-9 short of 0.1)
    np.testing.assert_allclose(step_with(Adam([p], lr=0.1, weight_decay=0.1), p, [0.0]),
                               [1.9], rtol=1e-8)
    np.testing.assert_allclose(step_with(AdamW([q], lr=0.1, weight_decay=0.1), q, [0.0]),
                               [1.98], rtol=1e-15)


def test_adamw_default_weight_decay_is_pytorchs():
    p = param([1.0])
    opt = AdamW([p])
    assert opt.param_groups[0]["weight_decay"] == 0.01 and opt.param_groups[0]["lr"] == 1e-3
    assert Adam([param([1.0])]).param_groups[0]["weight_decay"] == 0.0
    # 1 * (1 - 1e-3 * 1e-2) - 1e-3 * sign(g)
    np.testing.assert_allclose(step_with(opt, p, [4.0]), [1 - 1e-5 - 1e-3], rtol=1e-9)


# --- Adagrad -------------------------------------------------------------------------------


def test_adagrad_accumulator_after_three_steps():
    p = param([0.0, 0.0])
    opt = Adagrad([p], lr=0.1, initial_accumulator_value=0.1)
    grads = [[1.0, -2.0], [3.0, 0.5], [-1.0, 1.0]]
    # step 1: sum = 0.1 + g^2 = [1.1, 4.1]
    np.testing.assert_allclose(step_with(opt, p, grads[0]),
                               [-0.1 / math.sqrt(1.1), 0.2 / math.sqrt(4.1)], rtol=1e-9)
    for g in grads[1:]:
        step_with(opt, p, g)
    st = opt.state[id(p)]
    np.testing.assert_allclose(st["sum"], [0.1 + 1 + 9 + 1, 0.1 + 4 + 0.25 + 1], rtol=1e-15)
    assert st["step"] == 3


def test_adagrad_steps_shrink_and_lr_decay():
    # constant g = 1, eps = 0: step t moves by clr_t / sqrt(t), clr_t = lr / (1 + (t-1) k)
    p = param([0.0])
    opt = Adagrad([p], lr=1.0, lr_decay=1.0, eps=0.0)
    moves = [1.0, 0.5 / math.sqrt(2), (1 / 3) / math.sqrt(3)]
    for t in range(3):
        np.testing.assert_allclose(step_with(opt, p, [1.0]), [-sum(moves[: t + 1])],
                                   rtol=1e-14)


def test_adagrad_weight_decay_enters_the_accumulator():
    p = param([2.0])
    opt = Adagrad([p], lr=0.1, weight_decay=0.5, eps=0.0)
    # g' = 1 + 0.5 * 2 = 2: sum = 4, p = 2 - 0.1 * 2 / 2 = 1.9
    np.testing.assert_allclose(step_with(opt, p, [1.0]), [1.9], rtol=1e-15)
    np.testing.assert_allclose(opt.state[id(p)]["sum"], [4.0])


# --- RMSprop -------------------------------------------------------------------------------


def test_rmsprop_first_step():
    p = param([1.0, -1.0, 0.0])
    g = np.array([2.0, -0.5, 1e-3])
    # v = (1 - alpha) g^2; step = lr g / (sqrt(v) + eps) ~ lr sign(g) / sqrt(1 - alpha)
    want = p.data - 0.01 * g / (np.sqrt(0.01 * g * g) + 1e-8)
    np.testing.assert_allclose(step_with(RMSprop([p]), p, g), want, rtol=1e-15)
    np.testing.assert_allclose(want, [0.9, -0.9, -0.1], rtol=1e-4)


def test_rmsprop_eps_is_outside_the_square_root():
    # g = 0.001, alpha = 0, eps = 1e-3: sqrt(v) + eps = 0.002 (inside the root it
    # would be sqrt(1e-6 + 1e-3) ~ 0.0316)
    p = param([0.0])
    np.testing.assert_allclose(step_with(RMSprop([p], lr=1.0, alpha=0.0, eps=1e-3), p, [1e-3]),
                               [-0.5], rtol=1e-13)


def test_rmsprop_centered_first_step():
    # v = (1-a) g^2, m = (1-a) g: v - m^2 = a (1-a) g^2 = g^2 / 4 for a = 0.5
    p = param([0.0, 0.0])
    np.testing.assert_allclose(step_with(RMSprop([p], lr=0.1, alpha=0.5, eps=0.0, centered=True),
                                         p, [3.0, -0.1]), [-0.2, 0.2], rtol=1e-14)


def test_rmsprop_momentum_two_steps():
    p = param([0.0])
    opt = RMSprop([p], lr=0.1, alpha=0.5, eps=0.0, momentum=0.9)
    # step 1: v = 0.5, buf = 1 / sqrt(0.5) -> p = -0.1 sqrt(2)
    np.testing.assert_allclose(step_with(opt, p, [1.0]), [-0.1 * math.sqrt(2)], rtol=1e-15)
    # step 2: v = 0.75, buf = 0.9 sqrt(2) + 1 / sqrt(0.75)
    buf = 0.9 * math.sqrt(2) + 1 / math.sqrt(0.75)
    np.testing.assert_allclose(step_with(opt, p, [1.0]), [-0.1 * math.sqrt(2) - 0.1 * buf],
                               rtol=1e-14)
    np.testing.assert_allclose(opt.state[id(p)]["momentum_buffer"], [buf], rtol=1e-14)
    assert "grad_avg" not in opt.state[id(p)]


# --- Adadelta ------------------------------------------------------------------------------


def test_adadelta_first_step():
    p = param([1.0, 1.0])
    g = np.array([4.0, -0.01])
    opt = Adadelta([p])  # lr 1, rho 0.9, eps 1e-6
    delta = math.sqrt(1e-6) / np.sqrt(0.1 * g * g + 1e-6) * g
    np.testing.assert_allclose(step_with(opt, p, g), 1.0 - delta, rtol=1e-15)
    # about sqrt(eps / (1 - rho)) ~ 0.00316 for a gradient well above sqrt(eps)
    np.testing.assert_allclose(delta[0], math.sqrt(1e-5), rtol=1e-6)
    st = opt.state[id(p)]
    np.testing.assert_allclose(st["square_avg"], 0.1 * g * g, rtol=1e-15)
    np.testing.assert_allclose(st["acc_delta"], 0.1 * delta * delta, rtol=1e-15)


def test_adadelta_second_step_uses_the_past_updates():
    p = param([0.0])
    opt = Adadelta([p], lr=0.5, rho=0.5, eps=0.01)
    step_with(opt, p, [1.0])
    # step 1: v = 0.5, delta1 = sqrt(0.01) / sqrt(0.51), u = 0.5 delta1^2
    d1 = 0.1 / math.sqrt(0.51)
    # step 2: v = 0.25 + 0.5 = 0.75, delta2 = sqrt(u + 0.01) / sqrt(0.76)
    d2 = math.sqrt(0.5 * d1 * d1 + 0.01) / math.sqrt(0.76)
    np.testing.assert_allclose(step_with(opt, p, [1.0]), [-0.5 * (d1 + d2)], rtol=1e-14)


# --- against torch.optim -----------------------------------------------------------------

# torch.optim 2.13.0 (CPU wheel), float64, p0 = [1, 2, -3] and these four gradients in turn;
# p after each step, printed with 15 significant digits (torch was not imported here).
GRADS = [[1.0, -2.0, 0.5], [0.5, 1.0, -1.0], [-1.0, 0.25, 2.0], [0.0, -0.5, 1.5]]
TORCH_REFERENCE = [
    (Adagrad, {},
     [[0.990000000001, 2.0099999999995, -3.009999999998],
      [0.9855278640464, 2.0055278640447, -3.0010557280888],
      [0.992194530712623, 2.00441675293364, -3.00978444369786],
      [0.992194530712623, 2.00658605751173, -3.01526166927271]]),
    (Adagrad, {"lr": 0.1, "lr_decay": 0.5, "weight_decay": 0.1, "initial_accumulator_value": 0.2},
     [[0.907363288690484, 2.09704949587786, -3.04082482903805],
      [0.877668976015689, 2.06062947803135, -2.97841653569875],
      [0.90600445159551, 2.0505433208494, -3.01711005133202],
      [0.903756648908296, 2.05571781997559, -3.03624616671784]]),
    (RMSprop, {},
     [[0.900000009999999, 2.099999995, -3.09999998],
      [0.855098688525563, 2.05509867150944, -3.01046769180887],
      [0.922099701119586, 2.04388790968032, -3.09787959914381],
      [0.922099701119586, 2.065871142937, -3.1528993575136]]),
    (RMSprop, {"lr": 0.05, "alpha": 0.9, "momentum": 0.8, "centered": True, "weight_decay": 0.1},
     [[0.833333338383838, 2.16666666358025, -3.16666663888889],
      [0.615155094271227, 2.20808125573532, -3.13745644124584],
      [0.541946272951989, 2.20479007200753, -3.24130855644326],
      [0.477211023774413, 2.2247247492305, -3.40703512967453]]),
    (RMSprop, {"lr": 0.05, "momentum": 0.5},
     [[0.500000049999995, 2.499999975, -3.49999990000002],
      [0.0254934676278127, 2.52549334504718, -3.30233840904434],
      [0.123245239411837, 2.4821862209252, -3.6405672002412],
      [0.172121125303849, 2.57044882514761, -4.08478038768862]]),
    (RMSprop, {"lr": 0.05, "alpha": 0.5, "centered": True, "eps": 0.001},
     [[0.900199600798403, 2.0999000999001, -3.0996015936255],
      [0.829688358589811, 2.0591085769927, -3.02273989406137],
      [0.892854012858225, 2.0448391706, -3.1012191667135],
      [0.892854012858225, 2.08085399842407, -3.17896382554322]]),
    (Adadelta, {},
     [[0.996837738151101, 2.00316227370733, -3.00316221441651],
      [0.994752608289108, 2.00107713313643, -2.99912166113501],
      [0.998139790502621, 2.00048787103795, -3.00438405704028],
      [0.998139790502621, 2.00166529797536, -3.00884389137948]]),
    (Adadelta, {"lr": 0.5, "rho": 0.5, "eps": 0.001, "weight_decay": 0.1},
     [[0.977657777248184, 2.02235378152409, -3.0218217890236],
      [0.958416214619318, 2.00064979865502, -2.99077847343157],
      [0.984946200054059, 1.98871853436278, -3.02699848872087],
      [0.980232865257069, 1.99844952623861, -3.05931923493628]]),
    (Adam, {},
     [[0.99900000001, 2.000999999995, -3.00099999998],
      [0.998067820382982, 2.00126633703298, -3.00063389645759],
      [0.997957037312939, 2.00139989681474, -3.00105355207282],
      [0.997866290563062, 2.00163292010417, -3.00165954416112]]),
    (Adam, {"lr": 0.1, "betas": (0.8, 0.9), "weight_decay": 0.1, "amsgrad": True},
     [[0.900000000909091, 2.09999999944444, -3.099999995],
      [0.806097289955756, 2.10841569693003, -3.03346920408243],
      [0.794258803028407, 2.09949119257617, -3.05829325220045],
      [0.782028525686766, 2.10154964179982, -3.10720960805617]]),
    (Adam, {"lr": 0.1, "betas": (0.5, 0.6), "eps": 0.01},
     [[0.900990099009901, 2.09950248756219, -3.09803921568627],
      [0.810762104801653, 2.09950248756219, -3.03974997559091],
      [0.842946959862163, 2.0858412853764, -3.09939283097681],
      [0.863295121002323, 2.10955368554272, -3.17971316231522]]),
    (AdamW, {},
     [[0.99899000001, 2.000979999995, -3.00096999998],
      [0.998047830482982, 2.00122632723298, -3.00057388675759],
      [0.997927066934634, 2.00133987475147, -3.00096353663395],
      [0.997826340914088, 2.00155288464215, -3.00153951908688]]),
    (AdamW, {"lr": 0.1, "betas": (0.8, 0.9), "weight_decay": 0.5, "amsgrad": True},
     [[0.850000001, 1.9999999995, -2.949999998],
      [0.714667784032981, 1.92142281895122, -2.76098667534519],
      [0.677042606254977, 1.83258676464015, -2.66833640538515],
      [0.641781292600479, 1.76099185299728, -2.60014697918496]]),
]


@pytest.mark.parametrize("cls, hyper, expected", TORCH_REFERENCE,
                         ids=[f"{c.__name__}-{i}" for i, (c, _, _) in enumerate(TORCH_REFERENCE)])
def test_matches_torch_reference(cls, hyper, expected):
    p = param([1.0, 2.0, -3.0])
    opt = cls([p], **hyper)
    for g, want in zip(GRADS, expected):
        np.testing.assert_allclose(step_with(opt, p, g), want, rtol=1e-12)


# --- param groups, state_dict, dtype -----------------------------------------------------

ALL = [
    (Adagrad, {"lr": 0.1, "lr_decay": 0.1, "initial_accumulator_value": 0.1}),
    (RMSprop, {"lr": 0.01, "momentum": 0.9, "centered": True}),
    (Adadelta, {"lr": 1.0, "weight_decay": 0.01}),
    (Adam, {"lr": 0.01, "amsgrad": True, "weight_decay": 0.01}),
    (AdamW, {"lr": 0.01, "amsgrad": True}),
]
IDS = [c.__name__ for c, _ in ALL]


def test_param_groups_use_their_own_lr_and_hyperparameters():
    a, b, c = param([1.0]), param([1.0]), param([1.0])
    opt = Adam([{"params": [a]}, {"params": [b], "lr": 0.01},
                {"params": [c], "betas": (0.5, 0.5), "lr": 0.2}], lr=0.1, eps=0.0)
    assert opt.param_groups[1]["betas"] == (0.9, 0.999)
    for p in (a, b, c):
        p.grad[...] = -1.0
    opt.step()
    np.testing.assert_allclose([a.data[0], b.data[0], c.data[0]], [1.1, 1.01, 1.2],
                               rtol=1e-15)
    # RMSprop: different lr and alpha per group; first step lr / sqrt(1 - alpha)
    d, e = param([0.0]), param([0.0])
    opt = RMSprop([{"params": [d]}, {"params": [e], "lr": 0.3, "alpha": 0.75}], lr=0.1, eps=0.0)
    d.grad[...] = e.grad[...] = 1.0
    opt.step()
    np.testing.assert_allclose([d.data[0], e.data[0]], [-1.0, -0.6], rtol=1e-14)


def run_two_steps(cls, hyper, seed=0):
    rng = np.random.default_rng(seed)
    ps = [param(rng.standard_normal((2, 3))), param(rng.standard_normal(3))]
    opt = cls([{"params": [ps[0]]}, {"params": [ps[1]], "lr": hyper["lr"] / 2}], **hyper)
    for _ in range(2):
        for p in ps:
            p.grad[...] = rng.standard_normal(p.shape)
        opt.step()
    return ps, opt


STATE_KEYS = {
    Adagrad: {"step", "sum"},
    RMSprop: {"step", "square_avg", "momentum_buffer", "grad_avg"},
    Adadelta: {"step", "square_avg", "acc_delta"},
    Adam: {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"},
    AdamW: {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"},
}


@pytest.mark.parametrize("cls, hyper", ALL, ids=IDS)
def test_state_dict_round_trip_continues_identically(cls, hyper):
    ps, opt = run_two_steps(cls, hyper)
    saved = opt.state_dict()
    assert set(saved["state"][0]) == STATE_KEYS[cls]  # PyTorch's buffer names
    assert saved["state"][1]["step"] == 2
    saved_copy = {k: np.copy(v) for k, v in saved["state"][0].items()}
    qs = [param(p.data.copy()) for p in ps]
    # a fresh optimizer with other hyperparameters: load_state_dict brings the saved ones
    fresh = cls([{"params": [qs[0]]}, {"params": [qs[1]]}], lr=0.5)
    fresh.load_state_dict(saved)
    assert [g["lr"] for g in fresh.param_groups] == [hyper["lr"], hyper["lr"] / 2]
    rng = np.random.default_rng(7)
    for _ in range(3):
        for p, q in zip(ps, qs):
            p.grad[...] = q.grad[...] = rng.standard_normal(p.shape)
        opt.step()
        fresh.step()
    for p, q in zip(ps, qs):
        np.testing.assert_array_equal(p.data, q.data)
    assert fresh.state[id(qs[0])]["step"] == 5
    for k, v in saved_copy.items():  # later steps did not change the saved dict
        np.testing.assert_array_equal(saved["state"][0][k], v)


@pytest.mark.parametrize("cls, hyper", ALL, ids=IDS)
def test_float32_is_kept_and_updates_are_in_place(cls, hyper):
    layer = nn.Linear(3, 2, rng=0)
    W, before = layer.W.data, layer.W.data.copy()
    opt = cls(layer.parameters(), **hyper)
    for _ in range(2):
        layer.W.grad[...] = 0.5
        layer.b.grad[...] = -0.5
        opt.step()
    assert layer.W.data is W and W.dtype == np.float32
    assert not np.array_equal(W, before)
    for st in opt.state.values():
        for name, buf in st.items():
            if name != "step":
                assert buf.dtype == np.float32, (name, buf.dtype)


def test_float32_and_float64_agree():
    rng = np.random.default_rng(1)
    p0 = rng.standard_normal(5)
    grads = rng.standard_normal((10, 5))
    for cls, hyper in ALL:
        p64, p32 = param(p0), param(p0, dtype=np.float32)
        o64, o32 = cls([p64], **hyper), cls([p32], **hyper)
        for g in grads:
            step_with(o64, p64, g)
            step_with(o32, p32, g.astype(np.float32))
        np.testing.assert_allclose(p32.data, p64.data, rtol=1e-5, atol=1e-6,
                                   err_msg=cls.__name__)


def test_defaults_are_pytorchs():
    def hyper(opt):
        return {k: v for k, v in opt.param_groups[0].items() if k != "params"}
    p = [param([1.0])]
    assert hyper(Adagrad(p)) == {"lr": 0.01, "lr_decay": 0.0, "weight_decay": 0.0,
                                 "initial_accumulator_value": 0.0, "eps": 1e-10}
    assert hyper(RMSprop(p)) == {"lr": 0.01, "alpha": 0.99, "eps": 1e-8, "weight_decay": 0.0,
                                 "momentum": 0.0, "centered": False}
    assert hyper(Adadelta(p)) == {"lr": 1.0, "rho": 0.9, "eps": 1e-6, "weight_decay": 0.0}
    assert hyper(Adam(p)) == {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8,
                              "weight_decay": 0.0, "amsgrad": False}
    assert hyper(AdamW(p)) == {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8,
                               "weight_decay": 0.01, "amsgrad": False}


# --- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize("cls, hyper, message", [
    (Adagrad, {"lr": -0.1}, r"Adagrad: lr must be in \[0.0, inf\), got -0.1"),
    (Adagrad, {"eps": -1e-10}, r"Adagrad: eps must be in \[0.0, inf\), got -1e-10"),
    (Adagrad, {"lr_decay": -0.5}, r"Adagrad: lr_decay must be in \[0.0, inf\), got -0.5"),
    (Adagrad, {"weight_decay": -1}, r"Adagrad: weight_decay must be in \[0.0, inf\), got -1"),
    (Adagrad, {"initial_accumulator_value": -0.1},
     r"Adagrad: initial_accumulator_value must be in \[0.0, inf\), got -0.1"),
    (RMSprop, {"lr": -1.0}, r"RMSprop: lr must be in \[0.0, inf\), got -1.0"),
    (RMSprop, {"alpha": 1.0}, r"RMSprop: alpha must be in \[0.0, 1.0\), got 1.0"),
    (RMSprop, {"alpha": -0.1}, r"RMSprop: alpha must be in \[0.0, 1.0\), got -0.1"),
    (RMSprop, {"eps": -1e-8}, r"RMSprop: eps must be in \[0.0, inf\), got -1e-08"),
    (RMSprop, {"momentum": 1.0}, r"RMSprop: momentum must be in \[0.0, 1.0\), got 1.0"),
    (RMSprop, {"momentum": -0.9}, r"RMSprop: momentum must be in \[0.0, 1.0\), got -0.9"),
    (RMSprop, {"weight_decay": -0.01},
     r"RMSprop: weight_decay must be in \[0.0, inf\), got -0.01"),
    (Adadelta, {"lr": -1.0}, r"Adadelta: lr must be in \[0.0, inf\), got -1.0"),
    (Adadelta, {"rho": 1.0}, r"Adadelta: rho must be in \[0.0, 1.0\), got 1.0"),
    (Adadelta, {"rho": -0.5}, r"Adadelta: rho must be in \[0.0, 1.0\), got -0.5"),
    (Adadelta, {"eps": -1e-6}, r"Adadelta: eps must be in \[0.0, inf\), got -1e-06"),
    (Adadelta, {"weight_decay": -1.0},
     r"Adadelta: weight_decay must be in \[0.0, inf\), got -1.0"),
    (Adam, {"lr": -1e-3}, r"Adam: lr must be in \[0.0, inf\), got -0.001"),
    (Adam, {"lr": float("nan")}, r"Adam: lr must be a number, got nan"),
    (Adam, {"eps": -1e-8}, r"Adam: eps must be in \[0.0, inf\), got -1e-08"),
    (Adam, {"betas": (1.0, 0.999)}, r"Adam: betas\[0\] must be in \[0.0, 1.0\), got 1.0"),
    (Adam, {"betas": (0.9, 1.0)}, r"Adam: betas\[1\] must be in \[0.0, 1.0\), got 1.0"),
    (Adam, {"betas": (-0.1, 0.999)}, r"Adam: betas\[0\] must be in \[0.0, 1.0\), got -0.1"),
    (Adam, {"weight_decay": -0.1}, r"Adam: weight_decay must be in \[0.0, inf\), got -0.1"),
    (AdamW, {"weight_decay": -0.01}, r"AdamW: weight_decay must be in \[0.0, inf\), got -0.01"),
    (AdamW, {"betas": (0.9, 1.5)}, r"AdamW: betas\[1\] must be in \[0.0, 1.0\), got 1.5"),
])
def test_bad_hyperparameters_say_which_and_the_range(cls, hyper, message):
    with pytest.raises(ValueError, match=message):
        cls([param([1.0])], **hyper)


@pytest.mark.parametrize("cls, hyper, message", [
    (Adam, {"betas": 0.9}, r"Adam: betas must be a pair of numbers \(beta1, beta2\), got 0.9"),
    (Adam, {"betas": (0.9, 0.99, 0.999)}, r"Adam: betas must be a pair of numbers"),
    (Adam, {"betas": "ab"}, r"Adam: betas must be a pair of numbers"),
    (Adam, {"amsgrad": 1}, r"Adam: amsgrad must be True or False, got 1"),
    (RMSprop, {"centered": "yes"}, r"RMSprop: centered must be True or False, got 'yes'"),
    (Adagrad, {"lr": "0.1"}, r"Adagrad: lr must be a real number, got '0.1'"),
])
def test_bad_hyperparameter_types(cls, hyper, message):
    with pytest.raises(TypeError, match=message):
        cls([param([1.0])], **hyper)


def test_bad_group_hyperparameter_names_the_group():
    with pytest.raises(ValueError, match=r"AdamW param group 1: betas\[0\] must be in "
                                         r"\[0.0, 1.0\), got 1.0"):
        AdamW([{"params": [param([1.0])]}, {"params": [param([1.0])], "betas": (1.0, 0.9)}])


def test_load_state_dict_checks_the_loaded_hyperparameters():
    opt = RMSprop([param([1.0])])
    sd = opt.state_dict()
    sd["param_groups"][0]["alpha"] = 1.0
    with pytest.raises(ValueError, match=r"alpha must be in \[0.0, 1.0\), got 1.0"):
        opt.load_state_dict(sd)
    assert opt.param_groups[0]["alpha"] == 0.99
