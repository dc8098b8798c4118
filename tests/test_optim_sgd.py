"""dlcore.optim: the Optimizer base (param groups, state_dict) and SGD's update, checked
against steps computed by hand and against torch.optim.SGD 2.13.0 reference numbers."""
import numpy as np
import pytest

from dlcore import nn
from dlcore.errors import ShapeError
from dlcore.nn import Parameter
from dlcore.optim import SGD, Optimizer


def param(values, dtype=np.float64):
    return Parameter(np.array(values, dtype=dtype))


def step_with(opt, p, grad):
    p.grad[...] = grad
    opt.step()
    return p.data.copy()


# --- the update, step by step by hand ---------------------------------------------------


def test_plain_sgd_step():
    p = param([1.0, 2.0])
    np.testing.assert_allclose(step_with(SGD([p], lr=0.1), p, [0.5, -1.0]), [0.95, 2.1])


def test_momentum_first_step_uses_the_gradient_then_accumulates():
    p = param([1.0])
    opt = SGD([p], lr=0.1, momentum=0.9)
    # step 1: buf = g = 1 -> p = 1 - 0.1 * 1 = 0.9
    np.testing.assert_allclose(step_with(opt, p, [1.0]), [0.9], rtol=1e-15)
    np.testing.assert_allclose(opt.state[id(p)]["momentum_buffer"], [1.0])
    # step 2: buf = 0.9 * 1 + 1 = 1.9 -> p = 0.9 - 0.19 = 0.71
    np.testing.assert_allclose(step_with(opt, p, [1.0]), [0.71], rtol=1e-15)
    np.testing.assert_allclose(opt.state[id(p)]["momentum_buffer"], [1.9], rtol=1e-15)


def test_nesterov_steps():
    p = param([1.0])
    opt = SGD([p], lr=0.1, momentum=0.9, nesterov=True)
    # step 1: buf = 1, g + 0.9 buf = 1.9 -> p = 1 - 0.19 = 0.81
    np.testing.assert_allclose(step_with(opt, p, [1.0]), [0.81], rtol=1e-15)
    # step 2: buf = 0.9 + 1 = 1.9, g + 0.9 buf = 2.71 -> p = 0.81 - 0.271 = 0.539
    np.testing.assert_allclose(step_with(opt, p, [1.0]), [0.539], rtol=1e-14)


def test_weight_decay_is_added_to_the_gradient():
    p = param([2.0])
    # g' = 0.5 + 0.1 * 2 = 0.7 -> p = 2 - 0.1 * 0.7 = 1.93
    np.testing.assert_allclose(step_with(SGD([p], lr=0.1, weight_decay=0.1), p, [0.5]), [1.93],
                               rtol=1e-15)


def test_dampening_skips_the_first_step():
    p = param([1.0])
    opt = SGD([p], lr=0.1, momentum=0.9, dampening=0.5)
    # step 1: buf = g = 1 (no dampening yet) -> 0.9
    np.testing.assert_allclose(step_with(opt, p, [1.0]), [0.9], rtol=1e-15)
    # step 2: buf = 0.9 * 1 + 0.5 * 1 = 1.4 -> 0.9 - 0.14 = 0.76
    np.testing.assert_allclose(step_with(opt, p, [1.0]), [0.76], rtol=1e-15)


def test_all_zero_gradient_still_updates():
    # weight decay pulls towards 0 and momentum keeps moving, with a zero gradient
    p = param([1.0])
    np.testing.assert_allclose(step_with(SGD([p], lr=0.1, weight_decay=0.5), p, [0.0]),
                               [0.95], rtol=1e-15)
    q = param([1.0])
    opt = SGD([q], lr=0.1, momentum=0.5)
    step_with(opt, q, [1.0])  # 0.9, buf 1
    np.testing.assert_allclose(step_with(opt, q, [0.0]), [0.85], rtol=1e-15)  # buf 0.5


def test_goodfellow_form_is_the_same_update():
    # v = a v - e g; p = p + v  equals  buf = a buf + g; p = p - e buf  (v = -e buf)
    rng = np.random.default_rng(0)
    grads = rng.standard_normal((5, 3))
    p = param(np.zeros(3))
    opt = SGD([p], lr=0.05, momentum=0.8)
    theta, v = np.zeros(3), np.zeros(3)
    for g in grads:
        step_with(opt, p, g)
        v = 0.8 * v - 0.05 * g
        theta = theta + v
    np.testing.assert_allclose(p.data, theta, rtol=1e-12)


# torch.optim.SGD 2.13.0, float64, p0 = [1, 2, -3] and these three gradients in turn
GRADS = [[1.0, -2.0, 0.5], [0.5, 1.0, -1.0], [-1.0, 0.25, 2.0]]
TORCH_REFERENCE = [
    ({"lr": 0.1, "momentum": 0.9, "dampening": 0.5, "weight_decay": 0.1},
     [[0.89, 2.18, -3.02], [0.76155, 2.2811, -2.9729], [0.69213725, 2.3481845, -3.0156455]]),
    ({"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01},
     [[0.8081, 2.3762, -3.0893], [0.62975461, 2.34206522, -2.93150033],
      [0.703774515241, 2.351532574082, -3.256691146373]]),
    ({"lr": 0.05, "momentum": 0.5},
     [[0.95, 2.1, -3.025], [0.9, 2.1, -2.9875], [0.925, 2.0875, -3.06875]]),
]


@pytest.mark.parametrize("hyper, expected", TORCH_REFERENCE, ids=["damp-wd", "nesterov", "mom"])
def test_matches_torch_reference(hyper, expected):
    p = param([1.0, 2.0, -3.0])
    opt = SGD([p], **hyper)
    for g, want in zip(GRADS, expected):
        np.testing.assert_allclose(step_with(opt, p, g), want, rtol=1e-12)


def test_updates_in_place_and_keeps_dtype():
    layer = nn.Linear(3, 2, rng=0)
    W = layer.W.data
    layer.W.grad[...] = 1.0
    SGD(layer.parameters(), lr=0.5, momentum=0.9).step()
    assert layer.W.data is W  # the module's array is the one that moved
    assert W.dtype == np.float32
    assert layer.W.grad.dtype == np.float32


def test_zero_grad_clears_every_parameter():
    ps = [param([1.0, 2.0]), param([[3.0]])]
    for p in ps:
        p.grad += 5.0
    SGD(ps, lr=0.1).zero_grad()
    assert all(not p.grad.any() for p in ps)


def test_closure_value_is_returned():
    p = param([1.0])
    assert SGD([p], lr=0.1).step(lambda: 3.5) == 3.5


# --- param groups ------------------------------------------------------------------------


def test_param_groups_use_their_own_lr_and_the_defaults_otherwise():
    a, b = param([1.0]), param([1.0])
    opt = SGD([{"params": [a]}, {"params": [b], "lr": 0.01, "momentum": 0.5}], lr=0.1)
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[0]["momentum"] == 0.0
    assert opt.param_groups[1]["lr"] == 0.01 and opt.param_groups[1]["weight_decay"] == 0.0
    for _ in range(2):
        a.grad[...] = 1.0
        b.grad[...] = 1.0
        opt.step()
    np.testing.assert_allclose(a.data, [0.8], rtol=1e-15)  # two plain steps of 0.1
    np.testing.assert_allclose(b.data, [1 - 0.01 - 0.015], rtol=1e-14)  # buf 1 then 1.5
    assert id(a) not in opt.state or not opt.state[id(a)]


def test_changing_a_group_lr_changes_the_next_step():
    p = param([1.0])
    opt = SGD([p], lr=0.1)
    opt.param_groups[0]["lr"] = 0.5
    np.testing.assert_allclose(step_with(opt, p, [1.0]), [0.5])


# --- state_dict ---------------------------------------------------------------------------


def run_two_steps(seed=0):
    rng = np.random.default_rng(seed)
    ps = [param(rng.standard_normal((2, 3))), param(rng.standard_normal(3))]
    opt = SGD([{"params": [ps[0]]}, {"params": [ps[1]], "lr": 0.05}], lr=0.1, momentum=0.9,
              nesterov=True)
    for _ in range(2):
        for p in ps:
            p.grad[...] = rng.standard_normal(p.shape)
        opt.step()
    return ps, opt


def test_state_dict_layout_is_pytorchs():
    _, opt = run_two_steps()
    sd = opt.state_dict()
    assert set(sd["state"]) == {0, 1}
    assert set(sd["state"][0]) == {"momentum_buffer"} and sd["state"][0]["momentum_buffer"].shape \
        == (2, 3)
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1]]
    assert [g["lr"] for g in sd["param_groups"]] == [0.1, 0.05]
    assert sd["param_groups"][1]["nesterov"] is True


def test_state_dict_round_trip_continues_identically():
    ps, opt = run_two_steps()
    saved = opt.state_dict()
    saved_buf = saved["state"][0]["momentum_buffer"].copy()
    # a fresh optimizer, with other hyperparameters, on copies of the parameters
    qs = [param(p.data.copy()) for p in ps]
    fresh = SGD([{"params": [qs[0]]}, {"params": [qs[1]]}], lr=0.9, momentum=0.1, nesterov=True)
    fresh.load_state_dict(saved)
    assert [g["lr"] for g in fresh.param_groups] == [0.1, 0.05]
    rng = np.random.default_rng(7)
    for _ in range(3):
        for p, q in zip(ps, qs):
            p.grad[...] = q.grad[...] = rng.standard_normal(p.shape)
        opt.step()
        fresh.step()
    for p, q in zip(ps, qs):
        np.testing.assert_array_equal(p.data, q.data)
    # the saved dict was a copy: later steps did not change it
    np.testing.assert_array_equal(saved["state"][0]["momentum_buffer"], saved_buf)


def test_load_state_dict_refuses_a_different_layout():
    _, opt = run_two_steps()
    saved = opt.state_dict()
    one_group = SGD([param(np.zeros((2, 3))), param(np.zeros(3))], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match="has 2 param groups but this optimizer has 1"):
        one_group.load_state_dict(saved)
    sizes = SGD([{"params": [param(np.zeros((2, 3))), param([0.0])]},
                 {"params": [param(np.zeros(3))]}], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match="param group 0 has 1 parameters in the state dict but 2"):
        sizes.load_state_dict(saved)
    shapes = SGD([{"params": [param(np.zeros((3, 2)))]}, {"params": [param(np.zeros(3))]}],
                 lr=0.1, momentum=0.9)
    with pytest.raises(ShapeError, match=r"momentum_buffer' has shape \(2, 3\) but the "
                                         r"parameter has shape \(3, 2\)"):
        shapes.load_state_dict(saved)
    with pytest.raises(ValueError, match="keys 'state' and 'param_groups'"):
        shapes.load_state_dict({"state": {}})


def test_load_state_dict_checks_the_loaded_hyperparameters():
    p = param([1.0])
    opt = SGD([p], lr=0.1)
    sd = opt.state_dict()
    sd["param_groups"][0]["lr"] = -1.0
    with pytest.raises(ValueError, match=r"lr must be in \[0.0, inf\), got -1.0"):
        opt.load_state_dict(sd)
    assert opt.param_groups[0]["lr"] == 0.1  # nothing changed


# --- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize("hyper, message", [
    ({"lr": -0.1}, r"SGD: lr must be in \[0.0, inf\), got -0.1"),
    ({"lr": float("nan")}, r"SGD: lr must be a number, got nan"),
    ({"lr": 0.1, "momentum": 1.0}, r"SGD: momentum must be in \[0.0, 1.0\), got 1.0"),
    ({"lr": 0.1, "momentum": -0.5}, r"SGD: momentum must be in \[0.0, 1.0\), got -0.5"),
    ({"lr": 0.1, "dampening": 1.5}, r"SGD: dampening must be in \[0.0, 1.0\], got 1.5"),
    ({"lr": 0.1, "weight_decay": -1e-4}, r"SGD: weight_decay must be in \[0.0, inf\), got -0.0001"),
    ({"lr": 0.1, "nesterov": True},
     r"SGD: nesterov=True needs momentum > 0 and dampening = 0, got momentum=0, dampening=0"),
    ({"lr": 0.1, "momentum": 0.9, "dampening": 0.1, "nesterov": True},
     r"nesterov=True needs momentum > 0 and dampening = 0, got momentum=0.9, dampening=0.1"),
])
def test_bad_hyperparameters_say_which_and_the_range(hyper, message):
    with pytest.raises(ValueError, match=message):
        SGD([param([1.0])], **hyper)


def test_bad_hyperparameter_types():
    with pytest.raises(TypeError, match="SGD: lr must be a real number, got '0.1'"):
        SGD([param([1.0])], lr="0.1")
    with pytest.raises(TypeError, match="SGD: nesterov must be True or False, got 1"):
        SGD([param([1.0])], lr=0.1, momentum=0.9, nesterov=1)


def test_bad_group_hyperparameter_names_the_group():
    with pytest.raises(ValueError, match=r"SGD param group 1: lr must be in \[0.0, inf\)"):
        SGD([{"params": [param([1.0])]}, {"params": [param([1.0])], "lr": -1}], lr=0.1)


def test_bad_params():
    model = nn.Linear(2, 2, rng=0)
    with pytest.raises(TypeError, match=r"pass model.parameters\(\)"):
        SGD(model, lr=0.1)
    with pytest.raises(TypeError, match=r"got Parameter; pass \[param\]"):
        SGD(model.W, lr=0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        SGD([], lr=0.1)
    with pytest.raises(TypeError, match=r"params\[1\] must be a dlcore.nn.Parameter, got ndarray"):
        SGD([model.W, np.zeros(2)], lr=0.1)
    with pytest.raises(ValueError, match="a parameter appears twice"):
        SGD([model.W, model.W], lr=0.1)
    with pytest.raises(ValueError, match="a parameter appears twice"):
        SGD([{"params": [model.W]}, {"params": [model.W, model.b]}], lr=0.1)
    with pytest.raises(ValueError, match="param group 0: has no 'params' entry"):
        SGD([{"lr": 0.1}], lr=0.1)


def test_base_class_needs_an_update_rule():
    opt = Optimizer([param([1.0])], {"lr": 0.1})
    with pytest.raises(NotImplementedError, match="Optimizer does not define _update"):
        opt.step()
