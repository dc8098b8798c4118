"""dlcore.clip: clipping by value and by global norm, checked on hand-computed cases
(a 3-4-5 triangle across two parameters, angles before and after), against
torch.nn.utils 2.13.0 reference numbers pasted as literals, and inside fit."""
import math

import numpy as np
import pytest

from dlcore import nn
from dlcore.clip import clip_grad_norm, clip_grad_value
from dlcore.losses import MSELoss
from dlcore.nn import Parameter
from dlcore.optim import SGD
from dlcore.train import fit


def params_with_grads(*grads, dtype=np.float64):
    ps = []
    for g in grads:
        g = np.array(g, dtype=dtype)
        p = Parameter(np.zeros_like(g))
        p.grad[...] = g
        ps.append(p)
    return ps


def flat(ps):
    return np.concatenate([p.grad.ravel() for p in ps])


def cosine(a, b):
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


# --- by norm ----------------------------------------------------------------------------------


def test_global_norm_of_a_3_4_5_triangle_across_two_parameters():
    ps = params_with_grads([3.0], [[0.0], [4.0]])
    total = clip_grad_norm(ps, max_norm=1.0)
    assert isinstance(total, float) and total == 5.0  # sqrt(3^2 + 4^2), not per parameter
    scale = 1.0 / (5.0 + 1e-6)  # PyTorch's factor
    np.testing.assert_allclose(ps[0].grad, [3.0 * scale], rtol=1e-15)
    np.testing.assert_allclose(ps[1].grad, [[0.0], [4.0 * scale]], rtol=1e-15)
    assert np.linalg.norm(flat(ps)) == pytest.approx(1.0, abs=1e-6)


def test_norm_clipping_keeps_the_direction():
    rng = np.random.default_rng(0)
    ps = params_with_grads(rng.standard_normal((3, 4)) * 10, rng.standard_normal(5) * 10)
    before = flat(ps)
    total = clip_grad_norm(ps, 2.0)
    after = flat(ps)
    assert total == pytest.approx(np.linalg.norm(before), rel=1e-14)  # the norm before clipping
    assert cosine(before, after) == pytest.approx(1.0, abs=1e-14)
    assert np.linalg.norm(after) == pytest.approx(2.0, rel=1e-6)


def test_no_change_under_the_threshold():
    ps = params_with_grads([0.3, -0.4], [[0.1]])
    before = flat(ps).copy()
    total = clip_grad_norm(ps, 1.0)
    assert total == pytest.approx(math.sqrt(0.09 + 0.16 + 0.01), rel=1e-15)
    np.testing.assert_array_equal(flat(ps), before)  # multiplied by exactly 1


def test_inf_norm_and_one_norm():
    ps = params_with_grads([3.0, -7.0], [2.0])
    assert clip_grad_norm(ps, 3.5, norm_type=float("inf")) == 7.0  # largest |entry|
    scale = 3.5 / (7.0 + 1e-6)
    np.testing.assert_allclose(flat(ps), np.array([3.0, -7.0, 2.0]) * scale, rtol=1e-15)
    assert np.abs(flat(ps)).max() == pytest.approx(3.5, rel=1e-6)
    ps = params_with_grads([3.0, -7.0], [2.0])
    assert clip_grad_norm(ps, 100.0, norm_type=1) == 12.0  # 3 + 7 + 2; under: unchanged
    np.testing.assert_array_equal(flat(ps), [3.0, -7.0, 2.0])


# torch 2.13.0: a = [[0.5, -2], [3, 1]], b = [-4, 0.25, 1.5] (float64 grads),
# torch.nn.utils.clip_grad_norm_([a, b], 1.5, norm_type) -> total norm, clipped grads
TORCH_CLIP_NORM = {
    2.0: (5.706356105256663,
          [[0.13143236326887153, -0.5257294530754861], [0.7885941796132292, 0.26286472653774307]],
          [-1.0514589061509723, 0.06571618163443577, 0.3942970898066146]),
    1.0: (12.25,
          [[0.061224484798001244, -0.24489793919200498], [0.36734690878800746, 0.12244896959600249]],
          [-0.48979587838400995, 0.030612242399000622, 0.18367345439400373]),
    3.0: (4.695357192776339,
          [[0.15973222259248537, -0.6389288903699415], [0.9583933355549122, 0.31946444518497075]],
          [-1.277857780739883, 0.07986611129624269, 0.4791966677774561]),
    math.inf: (4.0,
               [[0.18749995312501172, -0.7499998125000469], [1.1249997187500704,
                                                              0.37499990625002344]],
               [-1.4999996250000938, 0.09374997656250586, 0.5624998593750352]),
}
A_GRAD = [[0.5, -2.0], [3.0, 1.0]]
B_GRAD = [-4.0, 0.25, 1.5]


@pytest.mark.parametrize("norm_type", sorted(TORCH_CLIP_NORM))
def test_clip_grad_norm_matches_pytorch(norm_type):
    total_ref, a_ref, b_ref = TORCH_CLIP_NORM[norm_type]
    ps = params_with_grads(A_GRAD, B_GRAD)
    assert clip_grad_norm(ps, 1.5, norm_type=norm_type) == pytest.approx(total_ref, rel=1e-14)
    np.testing.assert_allclose(ps[0].grad, a_ref, rtol=1e-13)
    np.testing.assert_allclose(ps[1].grad, b_ref, rtol=1e-13)


def test_accepts_a_module_and_keeps_float32():
    model = nn.Sequential(nn.Linear(3, 4, rng=0), nn.Linear(4, 2, rng=1))
    for p in model.parameters():
        p.grad[...] = 5.0
    n_entries = sum(p.grad.size for p in model.parameters())  # 12 + 4 + 8 + 2 = 26
    total = clip_grad_norm(model, 1.0)
    assert total == pytest.approx(5.0 * math.sqrt(n_entries), rel=1e-6)
    for p in model.parameters():
        assert p.grad.dtype == np.float32
        np.testing.assert_allclose(p.grad, 1.0 / math.sqrt(n_entries), rtol=1e-5)
    single = params_with_grads([6.0, 8.0])[0]
    assert clip_grad_norm(single, 5.0) == 10.0  # a single Parameter works too
    np.testing.assert_allclose(single.grad, [3.0, 4.0], rtol=1e-6)


def test_empty_list_and_non_finite_norm_behave_as_pytorch():
    assert clip_grad_norm([], 1.0) == 0.0
    ps = params_with_grads([1.0, np.nan])
    assert math.isnan(clip_grad_norm(ps, 1.0))  # reported, and the grads show it
    assert np.isnan(ps[0].grad).all()


# --- by value -----------------------------------------------------------------------------------


def test_value_clipping_clamps_entries_and_changes_the_direction():
    ps = params_with_grads([3.0], [0.5, -4.0])
    before = flat(ps).copy()
    assert clip_grad_value(ps, 1.0) is None
    after = flat(ps)
    np.testing.assert_array_equal(after, [1.0, 0.5, -1.0])
    # cos = (3*1 + 0.5*0.5 + 4*1) / (|(3, 0.5, -4)| |(1, 0.5, -1)|) = 7.25 / (sqrt(25.25) * 1.5)
    cos = cosine(before, after)
    assert cos == pytest.approx(7.25 / (math.sqrt(25.25) * 1.5), rel=1e-14)
    assert math.degrees(math.acos(cos)) == pytest.approx(15.873, abs=1e-3)  # turned ~16 degrees


def test_clip_grad_value_matches_pytorch():
    ps = params_with_grads(A_GRAD, B_GRAD)
    clip_grad_value(ps, 1.2)
    # torch 2.13.0 torch.nn.utils.clip_grad_value_([a, b], 1.2)
    np.testing.assert_array_equal(ps[0].grad, [[0.5, -1.2], [1.2, 1.0]])
    np.testing.assert_array_equal(ps[1].grad, [-1.2, 0.25, 1.2])


def test_clip_grad_value_in_place_on_a_module():
    model = nn.Sequential(nn.Linear(2, 2, rng=0))
    grad_objects = [p.grad for p in model.parameters()]
    model[0].W.grad[...] = [[5.0, -0.1], [-3.0, 0.2]]
    clip_grad_value(model, 0.5)
    np.testing.assert_allclose(model[0].W.grad, [[0.5, -0.1], [-0.5, 0.2]], rtol=1e-7)
    assert all(p.grad is g for p, g in zip(model.parameters(), grad_objects))


# --- validation ------------------------------------------------------------------------------------


@pytest.mark.parametrize("call, error, message", [
    (lambda ps: clip_grad_norm(ps, 0.0), ValueError, r"clip_grad_norm: max_norm must be in \(0.0"),
    (lambda ps: clip_grad_norm(ps, -1.0), ValueError, r"max_norm must be in \(0.0"),
    (lambda ps: clip_grad_norm(ps, 1.0, norm_type=0), ValueError, r"norm_type must be in \(0.0"),
    (lambda ps: clip_grad_norm(ps, 1.0, norm_type=-2.0), ValueError, r"norm_type must be in"),
    (lambda ps: clip_grad_norm(ps, 1.0, norm_type="fro"), TypeError, r"norm_type must be a real"),
    (lambda ps: clip_grad_value(ps, 0.0), ValueError, r"clip_grad_value: clip_value must be in"),
    (lambda ps: clip_grad_value(ps, -0.5), ValueError, r"clip_value must be in \(0.0"),
    (lambda ps: clip_grad_norm(ps + [np.zeros(2)], 1.0), TypeError,
     r"params\[1\] must be a dlcore.nn.Parameter, got ndarray"),
    (lambda ps: clip_grad_value(3.0, 1.0), TypeError, r"params must be a Module or a list"),
])
def test_bad_arguments_are_refused(call, error, message):
    ps = params_with_grads([1.0, 2.0])
    with pytest.raises(error, match=message):
        call(ps)
    np.testing.assert_array_equal(ps[0].grad, [1.0, 2.0])  # nothing was touched


# --- inside fit --------------------------------------------------------------------------------------


def test_norm_clipping_inside_fit_is_the_step_taken_by_hand():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((8, 3))
    y = X @ np.array([[10.0], [-20.0], [5.0]]) + 3.0  # large targets: large gradients

    def model():
        return nn.Sequential(nn.Linear(3, 1, rng=0, dtype=np.float64))

    # one epoch, one full batch: one step, so the shuffle does not matter
    clipped, norms = model(), []
    fit(clipped, MSELoss(), SGD(clipped.parameters(), lr=0.1), (X, y), epochs=1, batch_size=8,
        clip=lambda ps: norms.append(clip_grad_norm(ps, 1.0)), progress=False, rng=0)
    by_hand, loss = model(), MSELoss()
    loss(by_hand(X), y)
    by_hand.backward(loss.backward())
    pre = np.sqrt(sum((p.grad ** 2).sum() for p in by_hand.parameters()))
    assert norms == [pytest.approx(pre, rel=1e-12)] and pre > 10  # the clip really bit
    for p in by_hand.parameters():
        p.data -= 0.1 * p.grad / (pre + 1e-6)  # the step has length lr * max_norm
    for a, b in zip(clipped.parameters(), by_hand.parameters()):
        np.testing.assert_allclose(a.data, b.data, rtol=1e-10)
    moved = np.sqrt(sum(((a.data - b.data) ** 2).sum()
                        for a, b in zip(clipped.parameters(), model().parameters())))
    assert moved == pytest.approx(0.1, rel=1e-5)
