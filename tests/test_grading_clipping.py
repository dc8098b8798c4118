"""Chapter 6 exercises: each reference passes and agrees with dlcore.clip and closed forms;
the classic wrong answers (per-array norms, the norm after clipping, scaling up below the
threshold, clipping one side only, radians, changing the input in place) fail."""
import math

import numpy as np
import pytest
from conftest import run

from dlcore.clip import clip_grad_norm, clip_grad_value
from dlcore.grading import list_exercises
from dlcore.grading.exercises import clipping as cl
from dlcore.nn import Parameter

CHAPTER6 = [
    "clipping.cliff_step",
    "clipping.clip_by_global_norm",
    "clipping.clip_by_value",
    "clipping.clipped_gd_distance",
    "clipping.clipped_step_length",
    "clipping.global_norm",
    "clipping.rate_for_update_ratio",
    "clipping.value_clip_angle",
    "clipping.value_threshold_for_norm",
]


def failed(result, name, output, group):
    return any(line.startswith(f"✘ {name}  {output}  [{group}]") for line in result.lines)


def test_chapter6_is_registered():
    assert list_exercises("clipping.") == CHAPTER6


def _params(grads):
    ps = [Parameter(g.copy()) for g in grads]
    for p, g in zip(ps, grads):
        p.grad[...] = g
    return ps


def test_references_agree_with_dlcore_clip_and_hand_values():
    g = [np.array([[3.0, -4.0]]), np.array([12.0])]          # global norm 13
    assert cl.global_norm(g) == 13.0
    clipped, total = cl.clip_by_global_norm(g, 6.5)
    assert total == 13.0
    np.testing.assert_allclose(clipped[0], [[1.5, -2.0]], rtol=1e-15)
    np.testing.assert_allclose(clipped[1], [6.0], rtol=1e-15)
    ps = _params(g)
    assert clip_grad_norm(ps, 6.5) == pytest.approx(13.0, rel=1e-15)
    for p, c in zip(ps, clipped):
        np.testing.assert_allclose(p.grad, c, rtol=1e-6)        # torch's +1e-6 in the factor
    ps = _params(g)
    clip_grad_value(ps, 3.5)
    for p, c in zip(ps, cl.clip_by_value(g, 3.5)):
        np.testing.assert_array_equal(p.grad, c)
    assert cl.clip_by_value(g, 3.5)[0].tolist() == [[3.0, -3.5]]
    assert cl.clipped_step_length(g, 0.1, 6.5) == pytest.approx(0.65)
    assert cl.clipped_step_length(g, 0.1, 100.0) == pytest.approx(1.3)
    # (3, -4, 12) clipped at 3.5 -> (3, -3.5, 3.5): cos = (9 + 14 + 42) / (13 * sqrt(33.5))
    expected = math.degrees(math.acos(65 / (13 * math.sqrt(33.5))))
    assert cl.value_clip_angle(g, 3.5) == pytest.approx(expected, rel=1e-12)
    assert cl.value_clip_angle(g, 100.0) == 0.0
    # the middle of the wall: slope H k / 4
    assert cl.cliff_step(np.array([0.0]), 1.0, 6.0, 10.0)[0] == pytest.approx(-15.0)
    assert cl.cliff_step(np.array([0.0]), 1.0, 6.0, 10.0, clip=1.0)[0] == -1.0
    x = np.array([-0.3, 0.1, 0.7])
    h = 1e-6
    num = (6 * (1 / (1 + np.exp(-10 * (x + h)))) - 6 * (1 / (1 + np.exp(-10 * (x - h))))) / (2 * h)
    np.testing.assert_allclose(x - cl.cliff_step(x, 1.0, 6.0, 10.0), num, rtol=1e-7)


# ---------------------------------------------------------------- classic wrong answers

def test_global_norm_wrong_forms():
    summed = run("clipping.global_norm", lambda gs: float(sum(np.linalg.norm(g) for g in gs)))
    largest = run("clipping.global_norm", lambda gs: float(max(np.linalg.norm(g) for g in gs)))
    for result in (summed, largest):
        assert result.status == "wrong"
        assert failed(result, "global_norm", "norm", "several arrays")
    # one array: every form agrees, so that group passes
    assert not failed(summed, "global_norm", "norm", "one array")


def test_clip_by_value_only_the_positive_side():
    result = run("clipping.clip_by_value", lambda gs, c: [np.minimum(g, c) for g in gs])
    assert result.status == "wrong"
    assert failed(result, "clip_by_value", "clipped", "large negative entries")
    assert result.errors[("large negative entries", "clipped")] > 0.1
    assert not failed(result, "clip_by_value", "clipped", "nothing to cut")


def test_clip_by_value_returns_the_natural_list_of_arrays_of_different_shapes():
    # the cases hold three or four arrays of different shapes: the natural list passes as is
    cases = cl.EXERCISES[1].cases(np.random.default_rng(0))
    assert {len(c.args[0]) for c in cases} == {3, 4}
    assert all(len({g.shape for g in c.args[0]}) > 1 for c in cases)
    assert run("clipping.clip_by_value", lambda gs, c: [np.clip(g, -c, c) for g in gs]).status == "ok"
    assert run("clipping.clip_by_value", lambda gs, c: tuple(np.clip(g, -c, c) for g in gs)).status == "ok"
    # one flat vector instead of one array per parameter, or an array left out, fail with a sentence
    flat = run("clipping.clip_by_value",
               lambda gs, c: np.clip(np.concatenate([g.ravel() for g in gs]), -c, c))
    assert flat.status == "wrong" and flat.passed == 0
    short = run("clipping.clip_by_value", lambda gs, c: [np.clip(g, -c, c) for g in gs[:-1]])
    assert short.status == "wrong" and short.passed == 0
    assert "should hold" in "\n".join(short.lines)


def test_clip_by_value_in_place_fails():
    def in_place(gs, c):
        for g in gs:
            np.clip(g, -c, c, out=g)
        return gs

    result = run("clipping.clip_by_value", in_place)
    assert result.status == "wrong" and result.passed == 1      # only "nothing to cut"


def _per_array(gs, max_norm):
    with np.errstate(divide="ignore"):                          # all-zero arrays
        out = [g * min(1.0, max_norm / np.linalg.norm(g)) for g in gs]
    return out, cl.global_norm(gs)


def _norm_after(gs, max_norm):
    clipped, _ = cl.clip_by_global_norm(gs, max_norm)
    return clipped, cl.global_norm(clipped)


def _always_scale(gs, max_norm):
    total = cl.global_norm(gs)
    with np.errstate(invalid="ignore"):                         # 0 / 0 for all zeros
        return [g * max_norm / total for g in gs], total


def test_clip_by_global_norm_cases_are_ragged_and_transposes_fail():
    cases = cl.EXERCISES[2].cases(np.random.default_rng(0))
    assert all(len({g.shape for g in c.args[0]}) > 1 for c in cases)

    def transposed(gs, max_norm):
        clipped, total = cl.clip_by_global_norm(gs, max_norm)
        return [c.T for c in clipped], total

    result = run("clipping.clip_by_global_norm", transposed)
    assert failed(result, "clip_by_global_norm", "clipped", "above the threshold")
    assert "transpose" in "\n".join(result.lines)


def test_clip_by_global_norm_per_array():
    result = run("clipping.clip_by_global_norm", _per_array)
    assert result.status == "wrong"
    assert failed(result, "clip_by_global_norm", "clipped", "one array dominates")
    assert not failed(result, "clip_by_global_norm", "total_norm", "one array dominates")


def test_clip_by_global_norm_returning_the_norm_after_clipping():
    result = run("clipping.clip_by_global_norm", _norm_after)
    assert result.status == "wrong"
    assert failed(result, "clip_by_global_norm", "total_norm", "above the threshold")
    assert not failed(result, "clip_by_global_norm", "clipped", "above the threshold")
    assert not failed(result, "clip_by_global_norm", "total_norm", "below the threshold")


def test_clip_by_global_norm_scaling_up_below_the_threshold():
    result = run("clipping.clip_by_global_norm", _always_scale)
    assert result.status == "wrong"
    assert failed(result, "clip_by_global_norm", "clipped", "below the threshold")
    assert failed(result, "clip_by_global_norm", "clipped", "all zero")      # NaN from 0 / 0
    assert not failed(result, "clip_by_global_norm", "clipped", "above the threshold")


def test_torch_style_epsilon_passes():
    def torch_style(gs, max_norm):
        total = cl.global_norm(gs)
        return [g * min(1.0, max_norm / (total + 1e-6)) for g in gs], total

    assert run("clipping.clip_by_global_norm", torch_style).status == "ok"


def test_value_clip_angle_wrong_forms():
    radians = run("clipping.value_clip_angle",
                  lambda gs, c: math.radians(cl.value_clip_angle(gs, c)))
    assert radians.status == "wrong"
    assert "radians" in "\n".join(radians.lines)

    def one_sided(gs, c):
        g = np.concatenate([a.ravel() for a in gs])
        v = np.minimum(g, c)                                    # forgot the -c side
        cos = g @ v / (np.linalg.norm(g) * np.linalg.norm(v))
        return float(np.degrees(np.arccos(np.clip(cos, -1, 1))))

    result = run("clipping.value_clip_angle", one_sided)
    assert failed(result, "value_clip_angle", "angle", "one exploding negative entry")
    assert result.errors[("one exploding negative entry", "angle")] > 1.0   # degrees


def test_clipped_step_length_wrong_forms():
    always = run("clipping.clipped_step_length", lambda gs, lr, m: lr * m)
    never = run("clipping.clipped_step_length", lambda gs, lr, m: lr * cl.global_norm(gs))
    assert failed(always, "clipped_step_length", "length", "gradient below the threshold")
    assert not failed(always, "clipped_step_length", "length", "gradient above the threshold")
    assert failed(never, "clipped_step_length", "length", "gradient above the threshold")


def test_cliff_step_wrong_forms():
    def no_chain_factor(x, lr, height, steepness, clip=None):
        s = 1 / (1 + np.exp(-steepness * x))
        g = height * s * (1 - s)                                 # forgot the factor k
        return x - lr * (g if clip is None else np.clip(g, -clip, clip))

    def ignores_clip(x, lr, height, steepness, clip=None):
        return cl.cliff_step(x, lr, height, steepness)

    result = run("clipping.cliff_step", no_chain_factor)
    assert failed(result, "cliff_step", "x_new", "no clipping")
    result = run("clipping.cliff_step", ignores_clip)
    assert failed(result, "cliff_step", "x_new", "clipped")
    assert not failed(result, "cliff_step", "x_new", "no clipping")


# ---------------------------------------------------------------- derive: the value threshold for a norm

def _threshold_sorted(grads, target):
    """An independent answer: solve on the sorted magnitudes."""
    a = np.sort(np.abs(np.concatenate([np.ravel(g) for g in grads])))[::-1]   # descending
    for m in range(1, a.size + 1):
        rest = target**2 - float(np.sum(a[m:] ** 2))
        if rest > 0:
            c = math.sqrt(rest / m)
            if c <= a[m - 1] and (m == a.size or c >= a[m]):
                return c
    raise AssertionError("no threshold")


def test_value_threshold_gives_the_target_norm_and_slips_fail():
    grads = [np.array([3.0, -4.0]), np.array([[0.5], [1.0]])]
    c = cl.value_threshold_for_norm(grads, 3.0)
    clipped = [np.clip(g, -c, c) for g in grads]
    assert cl.global_norm(clipped) == pytest.approx(3.0, rel=1e-12)
    # |g| = 0.5, 1, 3, 4: cutting 3 and 4 at c: 1.25 + 2 c^2 = 9, c = sqrt(3.875)
    assert c == pytest.approx(math.sqrt(3.875), rel=1e-12)
    assert run("clipping.value_threshold_for_norm", _threshold_sorted).status == "ok"

    def all_cut(grads, target):              # true only when every entry is cut
        n = sum(g.size for g in grads)
        return target / math.sqrt(n)

    def norm_rule(grads, target):            # norm clipping's factor applied to the largest entry
        a = np.abs(np.concatenate([np.ravel(g) for g in grads]))
        return float(a.max()) * target / float(np.linalg.norm(a))

    result = run("clipping.value_threshold_for_norm", all_cut)
    assert result.status == "wrong"
    assert failed(result, "value_threshold_for_norm", "c", "only the largest entries cut")
    assert not failed(result, "value_threshold_for_norm", "c", "every entry cut")
    result = run("clipping.value_threshold_for_norm", norm_rule)
    assert result.status == "wrong" and result.passed == 0


# ---------------------------------------------------------------- predict: clipped gradient descent

def test_clipped_gd_distance_matches_dlcore_clip_and_slips_fail():
    # the reference's steps against dlcore's clip_grad_norm (its 1e-6 guard: rel 1e-6)
    r0, lam, lr, c, k = 10.0, 2.0, 0.1, 1.0, 60
    p = Parameter(np.array([6.0, -8.0]))
    for _ in range(k):
        p.grad[...] = lam * p.data
        clip_grad_norm([p], c)
        p.data -= lr * p.grad
    assert float(np.linalg.norm(p.data)) == pytest.approx(
        cl.clipped_gd_distance(r0, lam, lr, c, k), rel=1e-4)
    # by hand: clipped while 2 r > 1, steps of 0.1: after 60 steps r = 10 - 6 = 4
    assert cl.clipped_gd_distance(r0, lam, lr, c, k) == pytest.approx(4.0, rel=1e-12)
    # 100 steps: 95 clipped steps to r = 0.5, then 5 plain ones, each a factor 1 - 0.2
    assert cl.clipped_gd_distance(r0, lam, lr, c, 100) == pytest.approx(0.5 * 0.8**5, rel=1e-9)

    def right(r0, lam, lr, max_norm, k):
        m = min(k, max(0, math.ceil((r0 - max_norm / lam) / (lr * max_norm))))
        return (r0 - m * lr * max_norm) * (1 - lr * lam) ** (k - m)

    def unclipped(r0, lam, lr, max_norm, k):
        return r0 * (1 - lr * lam) ** k

    def always_clipped(r0, lam, lr, max_norm, k):
        return abs(r0 - k * lr * max_norm)

    assert run("clipping.clipped_gd_distance", right).status == "ok"
    result = run("clipping.clipped_gd_distance", unclipped)
    assert result.status == "wrong"
    assert not failed(result, "clipped_gd_distance", "distance", "never clipped")
    assert failed(result, "clipped_gd_distance", "distance", "every step clipped")
    result = run("clipping.clipped_gd_distance", always_clipped)
    assert failed(result, "clipped_gd_distance", "distance", "clipped, then not")
    assert not failed(result, "clipped_gd_distance", "distance", "every step clipped")


# ---------------------------------------------------------------- diagnose: a rate from update ratios

def test_rate_for_update_ratio_by_hand_and_against_a_real_sgd_step():
    # ratios 1e-4 and 1e-2: geometric mean 1e-3, already on target
    assert cl.rate_for_update_ratio(0.1, [1e-4, 1e-2]) == pytest.approx(0.1, rel=1e-12)
    assert cl.rate_for_update_ratio(0.1, [1e-2, 1e-2], target=1e-3) == pytest.approx(0.01)
    # the premise: one SGD step at the returned rate puts the geometric mean on target
    from dlcore import diagnostics as D
    from dlcore import losses, nn
    from dlcore.optim import SGD
    x = np.random.default_rng(0).standard_normal((32, 6))
    y = np.arange(32) % 4

    def ratios_at(lr):
        model = nn.Sequential(nn.Linear(6, 8, rng=0, dtype=np.float64), nn.ReLU(),
                              nn.Linear(8, 4, rng=1, dtype=np.float64))
        D.gradient_norms(model, x, y, losses.CrossEntropyLoss())
        before = D.weight_snapshot(model)
        SGD(model.parameters(), lr=lr).step()
        return np.array([r for _, r in D.update_ratios(model, before)])

    r = ratios_at(0.5)
    new_lr = cl.rate_for_update_ratio(0.5, r)
    assert math.exp(np.mean(np.log(ratios_at(new_lr)))) == pytest.approx(1e-3, rel=1e-9)


def test_rate_for_update_ratio_wrong_forms():
    def arithmetic(lr, ratios, target=1e-3):
        return lr * target / float(np.mean(ratios))

    def inverted(lr, ratios, target=1e-3):
        return lr * float(np.exp(np.mean(np.log(ratios)))) / target

    def largest(lr, ratios, target=1e-3):
        return lr * target / float(np.max(ratios))

    def ignores_target(lr, ratios, target=1e-3):
        return cl.rate_for_update_ratio(lr, ratios)

    for wrong in (arithmetic, inverted, largest):
        result = run("clipping.rate_for_update_ratio", wrong)
        assert result.status == "wrong" and result.passed == 0, wrong.__name__
    result = run("clipping.rate_for_update_ratio", ignores_target)
    assert failed(result, "rate_for_update_ratio", "lr", "another target")
    assert not failed(result, "rate_for_update_ratio", "lr", "rate far too high")


# ---------------------------------------------------------------- hints name the classic slips

def _hint(result):
    return "\n".join(line for line in result.lines if line.strip().startswith(("hint:", "angle:")))


def _per_array_keras(gs, max_norm):
    out = []
    for g in gs:
        n = float(np.linalg.norm(g))
        out.append(g * (max_norm / n) if n > max_norm else g.copy())
    return out, cl.global_norm(gs)


def _inverted(gs, max_norm):
    total = cl.global_norm(gs)
    return [g * (total / max_norm) if total > max_norm else g.copy() for g in gs], total


def _no_k(x, lr, height, steepness, clip=None):
    s = 1 / (1 + np.exp(-steepness * x))
    g = height * s * (1 - s)
    return x - lr * (g if clip is None else np.clip(g, -clip, clip))


def _one_cut(gs, target):
    a = np.sort(np.abs(np.concatenate([np.ravel(g) for g in gs])))
    return math.sqrt(max(target**2 - float(np.sum(a[:-1] ** 2)), 0.0))


def _floor_count(r0, lam, lr, max_norm, k):
    m = min(k, max(0, math.floor((r0 - max_norm / lam) / (lr * max_norm))))
    return (r0 - m * lr * max_norm) * (1 - lr * lam) ** (k - m)


def _cosine(gs, c):
    g = np.concatenate([a.ravel() for a in gs])
    v = np.clip(g, -c, c)
    return float(g @ v / (np.linalg.norm(g) * np.linalg.norm(v)))


SLIPS = [
    ("clipping.global_norm", lambda gs: float(sum(np.linalg.norm(g) for g in gs)), "sum of the arrays' norms"),
    ("clipping.global_norm", lambda gs: float(max(np.linalg.norm(g) for g in gs)), "largest array's norm"),
    ("clipping.global_norm", lambda gs: float(sum(np.sum(g * g) for g in gs)), "square root"),
    ("clipping.clip_by_value", lambda gs, c: [np.minimum(g, c) for g in gs], "clamp both sides"),
    ("clipping.clip_by_value", lambda gs, c: [c * np.sign(g) for g in gs], "stay as they are"),
    ("clipping.clip_by_global_norm", _per_array_keras, "Keras' clipnorm"),
    ("clipping.clip_by_global_norm", _inverted, "not total / max_norm"),
    ("clipping.clip_by_global_norm", _always_scale, "never above 1"),
    ("clipping.clip_by_global_norm", _norm_after, "BEFORE clipping"),
    ("clipping.value_clip_angle", _cosine, "cosine"),
    ("clipping.clipped_step_length", lambda gs, lr, m: lr * m, "below the threshold nothing is clipped"),
    ("clipping.clipped_step_length", lambda gs, lr, m: lr * cl.global_norm(gs), "rescaled to norm max_norm"),
    ("clipping.clipped_step_length", lambda gs, lr, m: min(cl.global_norm(gs), m), "max_norm itself"),
    ("clipping.cliff_step", _no_k, "factor k"),
    ("clipping.cliff_step", lambda x, lr, h, k, clip=None: 2 * x - cl.cliff_step(x, lr, h, k, clip), "subtracts"),
    ("clipping.value_threshold_for_norm", lambda gs, t: t / math.sqrt(sum(g.size for g in gs)), "EVERY entry"),
    ("clipping.value_threshold_for_norm", _one_cut, "only the largest entry is cut"),
    ("clipping.clipped_gd_distance", lambda r0, lam, lr, c, k: r0 * (1 - lr * lam) ** k, "plain gradient descent"),
    ("clipping.clipped_gd_distance", lambda r0, lam, lr, c, k: abs(r0 - k * lr * c), "no longer clipped"),
    ("clipping.clipped_gd_distance", _floor_count, "off by one"),
    ("clipping.rate_for_update_ratio", lambda lr, r, target=1e-3: lr * target / float(np.mean(r)), "arithmetic mean"),
    ("clipping.rate_for_update_ratio",
     lambda lr, r, target=1e-3: lr * float(np.exp(np.mean(np.log(r)))) / target, "upside down"),
    ("clipping.rate_for_update_ratio",
     lambda lr, r, target=1e-3: target / float(np.exp(np.mean(np.log(r)))), "CURRENT rate"),
    ("clipping.rate_for_update_ratio", lambda lr, r, target=1e-3: lr * target / float(np.max(r)), "one layer's ratio"),
]


@pytest.mark.parametrize("exercise, slip, words", SLIPS, ids=[f"{e}-{w}" for e, _, w in SLIPS])
def test_each_classic_slip_is_named_in_a_hint(exercise, slip, words):
    result = run(exercise, slip)
    assert result.status == "wrong"
    assert words in _hint(result), _hint(result) or "\n".join(result.lines)


def test_ignored_target_is_named_where_a_target_is_given():
    result = run("clipping.rate_for_update_ratio",
                 lambda lr, r, target=1e-3: cl.rate_for_update_ratio(lr, r))
    assert "target argument was not used" in "\n".join(result.lines)


def test_hints_stay_silent_on_a_wrong_answer_that_is_no_known_slip():
    # a clipping factor off by 3% matches none of the slips: no exercise hint is named
    def off(gs, max_norm):
        clipped, total = cl.clip_by_global_norm(gs, max_norm)
        return [1.03 * c for c in clipped], total

    text = "\n".join(run("clipping.clip_by_global_norm", off).lines)
    assert not any(h in text for h in ("Keras", "not total / max_norm", "never above 1", "BEFORE"))
    text = "\n".join(run("clipping.rate_for_update_ratio",
                         lambda lr, r, target=1e-3: 1.5 * cl.rate_for_update_ratio(lr, r, target)).lines)
    assert not any(h in text for h in ("arithmetic", "upside", "CURRENT", "one layer's", "target argument"))
