"""Chapter 6, cliffs and gradient clipping: exercises and cases.

A "gradient" here is a list of numpy arrays, one per parameter (e.g. [dW1, db1, dW2]).
Norm clipping uses the textbook factor max_norm / total when total > max_norm; PyTorch
(and dlcore.clip) divide by total + 1e-6 instead, which changes results by about 1e-6
relative, so those outputs are held to 1e-5 and either form passes.

The clipped gradients come back as a list of arrays of different shapes, as a network's
gradients are; `check` compares such a list array by array (lists of one shape are compared
as one stacked array, which gives the same verdict).

Every exercise names its classic slips in a hint under a failure (the sum of the arrays'
norms for the global norm, Keras' per-array clipnorm for the global rule, the norm after
clipping, one side of a value clip, the cosine or radians for the angle, the step clipped
instead of the gradient, the chain-rule factor k, the arithmetic mean of ratios, ...). A hint
is shown only when the learner's numbers are exactly what that slip computes on the case.
"""
import copy
import math

import numpy as np

from ..registry import Case, Exercise, register

PREFIX = "clipping."
NORM_TOL = 1e-5


def _flat(grads):
    return np.concatenate([np.ravel(g) for g in grads])


# ---------------------------------------------------------------- global_norm

def global_norm(grads):
    """list of arrays -> float: the L2 norm of all their entries together."""
    return float(math.sqrt(sum(float(np.sum(g * g)) for g in grads)))


def _ragged(rng, scale=1.0):
    """Three gradient arrays of different shapes, as for W1 (4, 3), b1 (3,), W2 (3, 2)."""
    return [scale * rng.standard_normal(s) for s in ((4, 3), (3,), (3, 2))]


def _network(rng, scale=1.0):
    """Four gradient arrays of a two-layer network: W1 (5, 4), b1 (4,), W2 (4, 2), b2 (2,)."""
    return [scale * rng.standard_normal(s) for s in ((5, 4), (4,), (4, 2), (2,))]


def _global_norm_cases(rng):
    one = [rng.standard_normal((5, 4))]
    big = _ragged(rng)
    big[0][1, 2] = 300.0
    return [
        Case("several arrays", (_ragged(rng),)),
        Case("several arrays", ([rng.standard_normal((2, 2, 3)), rng.standard_normal(7)],)),
        Case("one array", (one,)),
        # one exploding entry: the per-array norms differ by orders of magnitude
        Case("one exploding entry", (big,)),
        Case("all zero", ([np.zeros((3, 3)), np.zeros(4)],)),
    ]


# ---------------------------------------------------------------- clip_by_value

def clip_by_value(grads, c):
    """list of arrays, c > 0 -> new list: every entry clamped to [-c, c]; inputs unchanged."""
    return [np.clip(g, -c, c) for g in grads]


def _clip_by_value_cases(rng):
    return [
        Case("mixed signs, some entries cut", (_ragged(rng, 2.0), 1.0)),
        Case("mixed signs, some entries cut", (_network(rng, 5.0), 0.5)),
        # very negative entries: clipping only from above leaves them alone
        Case("large negative entries", ([-np.abs(a) - 1.0 for a in _network(rng, 3.0)], 0.7)),
        Case("nothing to cut", (_ragged(rng, 0.1), 10.0)),
    ]


# ---------------------------------------------------------------- clip_by_global_norm

def clip_by_global_norm(grads, max_norm):
    """list of arrays, max_norm > 0 -> (clipped list, total norm BEFORE clipping).

    Every array is multiplied by max_norm / total when total > max_norm, else left as is.
    """
    total = global_norm(grads)
    scale = max_norm / total if total > max_norm else 1.0
    return [g * scale for g in grads], total


def _clip_by_global_norm_cases(rng):
    uneven = _network(rng, 0.05)
    uneven[2][2, 1] = 50.0       # W2 holds almost all of the norm
    return [
        Case("above the threshold", (_ragged(rng, 2.0), 1.0)),
        Case("above the threshold", (_network(rng, 3.0), 2.5)),
        # per-array clipping would shrink only the big array
        Case("one array dominates", (uneven, 1.0)),
        # nothing may be scaled up, and the returned norm is still the one measured
        Case("below the threshold", (_network(rng, 0.1), 5.0)),
        Case("all zero", ([np.zeros((3, 2)), np.zeros(2)], 1.0)),
    ]


# ---------------------------------------------------------------- value_clip_angle

def value_clip_angle(grads, c):
    """list of arrays, c > 0 -> the angle in DEGREES between the whole gradient (all arrays
    as one vector) and its value-clipped version; 0 when nothing is cut."""
    g = _flat(grads)
    v = np.clip(g, -c, c)
    cos = float(g @ v) / (float(np.linalg.norm(g)) * float(np.linalg.norm(v)))
    return float(np.degrees(np.arccos(min(1.0, max(-1.0, cos)))))


def _angle_compare(expected, got):
    """Absolute difference in degrees (arccos near 0 is only good to ~1e-6 degrees)."""
    err = float(abs(float(expected) - float(got)))
    note = None
    if err < 1e-4:
        return err, note
    if abs(float(got)) > 1e-9 and abs(math.degrees(float(got)) - float(expected)) < 1e-3:
        note = "that looks like the angle in radians; give it in degrees"
    elif abs(float(got) - math.cos(math.radians(float(expected)))) < 1e-9:
        note = "that is the cosine of the angle: take arccos of it and give the angle in degrees"
    return err, note


def _value_clip_angle_cases(rng):
    spike = _ragged(rng, 0.2)
    spike[2][0, 1] = -30.0
    return [
        Case("some entries cut", (_ragged(rng, 2.0), 1.0)),
        Case("some entries cut", (_ragged(rng, 1.0), 0.3)),
        # the cut entries are the negative ones
        Case("one exploding negative entry", (spike, 0.5)),
        Case("every entry cut (sign descent)", (_ragged(rng, 10.0), 1e-3)),
        Case("nothing cut", (_ragged(rng, 0.1), 5.0)),
    ]


# ---------------------------------------------------------------- clipped_step_length

def clipped_step_length(grads, lr, max_norm):
    """Length of the SGD step -lr * g after clipping g to global norm max_norm: a float."""
    return float(lr * min(global_norm(grads), max_norm))


def _step_length_cases(rng):
    return [
        Case("gradient above the threshold", (_ragged(rng, 3.0), 0.1, 1.0)),
        Case("gradient above the threshold", (_ragged(rng, 2.0), 0.5, 2.0)),
        Case("gradient below the threshold", (_ragged(rng, 0.1), 0.3, 4.0)),
    ]


# ---------------------------------------------------------------- cliff_step

def cliff_step(x, lr, height, steepness, clip=None):
    """One gradient-descent step on the 1-D cliff L(x) = height * sigmoid(steepness * x).

    x: array of positions (each an independent 1-D problem) -> new positions
    x - lr * g, with g = dL/dx = height * steepness * s * (1 - s), s = sigmoid(steepness * x),
    clipped to [-clip, clip] when clip is not None (in 1-D clipping by value and by norm
    agree).
    """
    s = 0.5 * (1.0 + np.tanh(0.5 * steepness * x))
    g = height * steepness * s * (1.0 - s)
    if clip is not None:
        g = np.clip(g, -clip, clip)
    return x - lr * g


def _cliff_step_cases(rng):
    def xs(n):
        return rng.uniform(-1.0, 1.0, n)

    return [
        Case("no clipping", (xs(6), 0.5, 4.0, 10.0)),
        Case("no clipping", (xs(5), 0.1, 2.0, 25.0)),
        Case("far from the wall", (rng.uniform(3.0, 5.0, 4), 0.5, 4.0, 10.0)),
        Case("clipped", (xs(6), 0.5, 4.0, 10.0), {"clip": 1.0}),
        Case("clipped", (xs(5), 1.0, 10.0, 8.0), {"clip": 0.25}),
    ]


# ---------------------------------------------------------------- derive: value threshold for a norm

def value_threshold_for_norm(grads, target):
    """list of arrays, 0 < target < global norm -> the value-clipping threshold c > 0 at which
    the clipped gradient's global norm is exactly target. The norm of clip(g, -c, c) grows
    with c, so the reference bisects; the learner derives c from the sorted |g|:
    sum_{|g_i| <= c} g_i^2 + m c^2 = target^2, m = the number of entries cut."""
    a = np.abs(_flat(grads))
    lo, hi = 0.0, float(a.max())
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if float(np.linalg.norm(np.minimum(a, mid))) < target:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def _threshold_cases(rng):
    cases = []
    for fraction, group in [(0.999, "only the largest entries cut"),
                            (float(rng.uniform(0.5, 0.8)), "some entries cut"),
                            (float(rng.uniform(0.01, 0.05)), "every entry cut")]:
        g = _ragged(rng, 1.0)
        norm = global_norm(g)
        if group == "every entry cut":   # below sqrt(n) * min|g_i|: every entry is cut
            a = np.abs(_flat(g))
            fraction = 0.5 * math.sqrt(a.size) * float(a.min()) / norm
        cases.append(Case(group, (g, fraction * norm)))
    spike = _ragged(rng, 0.1)
    spike[0][0, 0] = 20.0
    cases.append(Case("one exploding entry", (spike, 0.5 * global_norm(spike))))
    return cases


# ---------------------------------------------------------------- predict: clipped gradient descent

def clipped_gd_distance(r0, lam, lr, max_norm, k):
    """Distance to the minimum after k steps of gradient descent on f(w) = lam |w|^2 / 2 from a
    point at distance r0, with each gradient (lam w) rescaled to norm max_norm when longer
    (factor min(1, max_norm / |g|), no epsilon), rate lr with lr * lam < 1. The reference
    takes the k steps in two dimensions."""
    w = np.array([0.6, -0.8]) * r0
    for _ in range(k):
        g = lam * w
        norm = float(np.linalg.norm(g))
        if norm > max_norm:
            g = g * (max_norm / norm)
        w = w - lr * g
    return float(np.linalg.norm(w))


def _clipped_gd_cases(rng):
    cases = []
    lam, lr, c = float(rng.uniform(1.0, 4.0)), 0.0, float(rng.uniform(0.5, 2.0))
    lr = float(rng.uniform(0.05, 0.2)) / lam
    r_cut = c / lam                          # beyond this distance every step is clipped
    cases.append(Case("every step clipped", (r_cut * 50.3, lam, lr, c, 5)))
    cases.append(Case("clipped, then not", (r_cut * float(rng.uniform(1.5, 3.0)), lam, lr, c,
                                            _ints(rng, 30, 60, 1)[0])))
    cases.append(Case("clipped, then not", (r_cut * float(rng.uniform(3.0, 6.0)), lam,
                                            lr * 2.0, c, _ints(rng, 20, 40, 1)[0])))
    cases.append(Case("never clipped", (r_cut * float(rng.uniform(0.2, 0.9)), lam, lr, c, 12)))
    return cases


def _ints(rng, low, high, n):
    return [int(v) for v in rng.integers(low, high, size=n)]


# ---------------------------------------------------------------- diagnose: a learning rate from update ratios

def rate_for_update_ratio(lr, ratios, target=1e-3):
    """Plain SGD at rate lr gave the update/weight ratios `ratios` (one per layer, all > 0)
    on one step. The learning rate at which their geometric mean would be `target`:
    each ratio is lr * |dW_l| / |W_l|, proportional to lr, so every ratio scales by the
    same factor and their geometric mean does too: lr * target / geomean(ratios)."""
    r = np.asarray(ratios, dtype=np.float64)
    return float(lr * target / math.exp(float(np.mean(np.log(r)))))


def _rate_cases(rng):
    def spread(n, low, high):
        return 10.0 ** rng.uniform(low, high, n)

    return [
        # the layers disagree by up to two decades: the mean of the ratios is pulled up by
        # the largest one, their geometric mean is not
        Case("layers spread over decades", (0.1, spread(4, -4.5, -2.0))),
        Case("layers spread over decades", (0.03, spread(3, -5.0, -2.5))),
        Case("rate far too high", (float(rng.uniform(1.0, 5.0)), spread(3, -1.5, -0.5))),
        Case("rate far too low", (float(rng.uniform(1e-4, 1e-3)), spread(3, -6.0, -5.0))),
        Case("another target", (0.05, spread(4, -3.5, -2.5)), {"target": 1e-2}),
    ]


# ---------------------------------------------------------------- classic slips, named in hints
# A hint predicate recomputes what a known slip returns on the failing case and compares it
# with what the learner's function returned for that output: the hint names a slip only
# when the numbers are exactly the slip's (relative 1e-9), never on a guess. Each slip is a
# module-level function with the exercise's signature (the grader imports them). For a list
# of arrays of different shapes `check` passes the worst array only; it is matched to the
# slip's array of the same shape.

def _pick(out, name):
    """The output called `name` of a result: the first or second of a pair, else the whole."""
    position = {"clipped": 0, "total_norm": 1}
    if name in position and isinstance(out, tuple) and len(out) == 2:
        return out[position[name]]
    return out


def _is_slip(slip, case, name, got):
    """True when `got` is what `slip` returns for output `name` on this case."""
    with np.errstate(all="ignore"):
        out = _pick(slip(*copy.deepcopy(case.args), **dict(case.kwargs)), name)
    got = np.asarray(got, dtype=np.float64)
    parts = out if isinstance(out, (list, tuple)) else [out]
    for part in parts:
        want = np.asarray(part, dtype=np.float64)
        if want.shape == got.shape and np.all(np.isfinite(want)):
            return bool(np.allclose(got, want, rtol=1e-9, atol=1e-300))
    return False


# -- global_norm

def _sum_of_norms(grads):
    return float(sum(float(np.linalg.norm(g)) for g in grads))


def _largest_norm(grads):
    return float(max(float(np.linalg.norm(g)) for g in grads))


def _sum_of_squares(grads):
    return float(sum(float(np.sum(g * g)) for g in grads))


def hint_sum_of_norms(case, name, expected, got):
    return _is_slip(_sum_of_norms, case, name, got)


def hint_largest_norm(case, name, expected, got):
    return _is_slip(_largest_norm, case, name, got)


def hint_sum_of_squares(case, name, expected, got):
    return _is_slip(_sum_of_squares, case, name, got)


GLOBAL_NORM_HINTS = (
    (("that is the sum of the arrays' norms; the global norm is the square root of the sum of "
     "ALL squared entries (one long vector), which is smaller"), hint_sum_of_norms),
    ("that is the largest array's norm; the global norm takes every array's entries together",
     hint_largest_norm),
    ("that is the sum of the squares: take its square root", hint_sum_of_squares),
)


# -- clip_by_value

def _value_upper_only(grads, c):
    return [np.minimum(g, c) for g in grads]


def _value_sign(grads, c):
    return [c * np.sign(g) for g in grads]


def hint_value_upper_only(case, name, expected, got):
    return _is_slip(_value_upper_only, case, name, got)


def hint_value_sign(case, name, expected, got):
    return _is_slip(_value_sign, case, name, got)


CLIP_BY_VALUE_HINTS = (
    (("entries below -c were left as they are: clamp both sides, to [-c, c] "
     "(np.clip(g, -c, c))"), hint_value_upper_only),
    ("every entry became +-c: entries already within [-c, c] stay as they are",
     hint_value_sign),
)


# -- clip_by_global_norm

def _per_array_norm(grads, max_norm):
    out = []
    for g in grads:
        n = float(np.linalg.norm(g))
        out.append(g * (max_norm / n) if n > max_norm else g.copy())
    return out, global_norm(grads)


def _inverted_factor(grads, max_norm):
    total = global_norm(grads)
    return [g * (total / max_norm) if total > max_norm else g.copy() for g in grads], total


def _always_scaled(grads, max_norm):
    total = global_norm(grads)
    return [g * (max_norm / total) for g in grads], total


def _norm_after_clipping(grads, max_norm):
    clipped, _ = clip_by_global_norm(grads, max_norm)
    return clipped, global_norm(clipped)


def hint_per_array_norm(case, name, expected, got):
    return name == "clipped" and _is_slip(_per_array_norm, case, name, got)


def hint_inverted_factor(case, name, expected, got):
    return name == "clipped" and _is_slip(_inverted_factor, case, name, got)


def hint_always_scaled(case, name, expected, got):
    return name == "clipped" and _is_slip(_always_scaled, case, name, got)


def hint_norm_after_clipping(case, name, expected, got):
    return name == "total_norm" and _is_slip(_norm_after_clipping, case, name, got)


CLIP_BY_GLOBAL_NORM_HINTS = (
    (("each array was scaled by its own norm: that is Keras' clipnorm (the chapter's third "
     "rule), which turns the step; the global rule multiplies every array by ONE factor, "
     "max_norm / (norm of all arrays together)"), hint_per_array_norm),
    ("the factor is max_norm / total (at most 1), not total / max_norm", hint_inverted_factor),
    (("below the threshold the gradient is returned unchanged: the factor is "
     "min(1, max_norm / total), never above 1"), hint_always_scaled),
    (("total_norm is the norm measured BEFORE clipping (what clip_grad_norm_ returns, for "
     "logging), not the norm after it"), hint_norm_after_clipping),
)


# -- clipped_step_length

def _step_always_clipped(grads, lr, max_norm):
    return float(lr * max_norm)


def _step_never_clipped(grads, lr, max_norm):
    return float(lr * global_norm(grads))


def _step_clipped_not_gradient(grads, lr, max_norm):
    return float(min(lr * global_norm(grads), max_norm))


def _step_without_lr(grads, lr, max_norm):
    return float(min(global_norm(grads), max_norm))


def _step_is_max_norm(grads, lr, max_norm):
    return float(max_norm)


def hint_step_is_max_norm(case, name, expected, got):
    lr = case.args[1]
    return lr != 1 and _is_slip(_step_is_max_norm, case, name, got)


def hint_step_always_clipped(case, name, expected, got):
    return _is_slip(_step_always_clipped, case, name, got)


def hint_step_never_clipped(case, name, expected, got):
    return _is_slip(_step_never_clipped, case, name, got)


def hint_step_clipped_not_gradient(case, name, expected, got):
    return _is_slip(_step_clipped_not_gradient, case, name, got)


def hint_step_without_lr(case, name, expected, got):
    return _is_slip(_step_without_lr, case, name, got)


STEP_LENGTH_HINTS = (
    (("that is max_norm itself: max_norm bounds the gradient's norm, not the step's length; "
     "the step is lr times the clipped gradient"), hint_step_is_max_norm),
    ("below the threshold nothing is clipped: the step is then lr * (global norm)",
     hint_step_always_clipped),
    (("above the threshold the gradient is rescaled to norm max_norm first: the step is "
     "then lr * max_norm"), hint_step_never_clipped),
    (("that clips the step, not the gradient: max_norm bounds the gradient's norm, and the "
     "step is lr times the clipped gradient"), hint_step_clipped_not_gradient),
    ("that is the clipped gradient's norm; the step is lr times it", hint_step_without_lr),
)


# -- cliff_step

def _cliff_no_k(x, lr, height, steepness, clip=None):
    s = 0.5 * (1.0 + np.tanh(0.5 * steepness * x))
    g = height * s * (1.0 - s)
    return x - lr * (g if clip is None else np.clip(g, -clip, clip))


def _cliff_uphill(x, lr, height, steepness, clip=None):
    return 2.0 * x - cliff_step(x, lr, height, steepness, clip)


def _cliff_clip_ignored(x, lr, height, steepness, clip=None):
    return cliff_step(x, lr, height, steepness)


def _cliff_step_clipped(x, lr, height, steepness, clip=None):
    step = x - cliff_step(x, lr, height, steepness)
    return x - (step if clip is None else np.clip(step, -clip, clip))


def hint_cliff_no_k(case, name, expected, got):
    return _is_slip(_cliff_no_k, case, name, got)


def hint_cliff_uphill(case, name, expected, got):
    return _is_slip(_cliff_uphill, case, name, got)


def hint_cliff_clip_ignored(case, name, expected, got):
    return case.kwargs.get("clip") is not None and _is_slip(_cliff_clip_ignored, case, name, got)


def hint_cliff_step_clipped(case, name, expected, got):
    return case.kwargs.get("clip") is not None and _is_slip(_cliff_step_clipped, case, name, got)


CLIFF_STEP_HINTS = (
    ("the derivative of H sigmoid(k x) has the chain rule's factor k: H k s (1 - s)",
     hint_cliff_no_k),
    ("x + lr L'(x) climbs the wall: a gradient step subtracts", hint_cliff_uphill),
    ("clip was given but not used: clip L'(x) to [-clip, clip] before the step",
     hint_cliff_clip_ignored),
    ("that clips the step lr L'(x); clip the derivative L'(x) itself, then multiply by lr",
     hint_cliff_step_clipped),
)


# -- value_threshold_for_norm

def _threshold_all_cut(grads, target):
    return target / math.sqrt(sum(np.size(g) for g in grads))


def _threshold_norm_rule(grads, target):
    return float(np.max(np.abs(_flat(grads)))) * target / global_norm(grads)


def _threshold_one_cut(grads, target):
    a = np.sort(np.abs(_flat(grads)))
    return math.sqrt(max(target**2 - float(np.sum(a[:-1] ** 2)), 0.0))


def hint_threshold_all_cut(case, name, expected, got):
    return _is_slip(_threshold_all_cut, case, name, got)


def hint_threshold_norm_rule(case, name, expected, got):
    return _is_slip(_threshold_norm_rule, case, name, got)


def hint_threshold_one_cut(case, name, expected, got):
    return _is_slip(_threshold_one_cut, case, name, got)


THRESHOLD_HINTS = (
    (("target / sqrt(n) holds only when EVERY entry is cut; here some entries are smaller "
     "than c and keep their own values"), hint_threshold_all_cut),
    (("that is norm clipping's factor target / |g| applied to the largest entry; value "
     "clipping cuts entries, it does not scale them"), hint_threshold_norm_rule),
    (("that assumes only the largest entry is cut; check that c lies between the largest "
     "uncut and the smallest cut magnitude, and cut more entries if it does not"),
     hint_threshold_one_cut),
)


# -- clipped_gd_distance

def _gd_unclipped(r0, lam, lr, max_norm, k):
    return r0 * (1.0 - lr * lam) ** k


def _gd_always_clipped(r0, lam, lr, max_norm, k):
    return abs(r0 - k * lr * max_norm)


def _gd_floor(r0, lam, lr, max_norm, k):
    m = min(k, max(0, math.floor((r0 - max_norm / lam) / (lr * max_norm))))
    return (r0 - m * lr * max_norm) * (1.0 - lr * lam) ** (k - m)


def _gd_floor_plus_one(r0, lam, lr, max_norm, k):
    m = min(k, max(0, math.floor((r0 - max_norm / lam) / (lr * max_norm)) + 1))
    return (r0 - m * lr * max_norm) * (1.0 - lr * lam) ** (k - m)


def _gd_step_with_lam(r0, lam, lr, max_norm, k):
    step = lr * max_norm * lam
    m = min(k, max(0, math.ceil((r0 - max_norm / lam) / step)))
    return abs(r0 - m * step) * (1.0 - lr * lam) ** (k - m)


def hint_gd_unclipped(case, name, expected, got):
    return _is_slip(_gd_unclipped, case, name, got)


def hint_gd_always_clipped(case, name, expected, got):
    return _is_slip(_gd_always_clipped, case, name, got)


def hint_gd_off_by_one(case, name, expected, got):
    return _is_slip(_gd_floor, case, name, got) or _is_slip(_gd_floor_plus_one, case, name, got)


def hint_gd_step_with_lam(case, name, expected, got):
    return _is_slip(_gd_step_with_lam, case, name, got)


CLIPPED_GD_HINTS = (
    (("that is plain gradient descent: while lam * r > max_norm every step is clipped to "
     "length lr * max_norm, and the distance falls by that, not by a factor"), hint_gd_unclipped),
    (("once lam * r <= max_norm the steps are no longer clipped: from there each step "
     "multiplies the distance by (1 - lr lam)"), hint_gd_always_clipped),
    (("the number of clipped steps is off by one: step j (j = 0, 1, ...) is clipped while "
     "r_j = r0 - j lr max_norm > max_norm / lam"), hint_gd_off_by_one),
    (("a clipped gradient has norm max_norm, so a clipped step has length lr * max_norm; lam "
     "does not enter it"), hint_gd_step_with_lam),
)


# -- rate_for_update_ratio

def _rate_arithmetic(lr, ratios, target=1e-3):
    return float(lr * target / float(np.mean(ratios)))


def _rate_inverted(lr, ratios, target=1e-3):
    return float(lr * math.exp(float(np.mean(np.log(ratios)))) / target)


def _rate_without_lr(lr, ratios, target=1e-3):
    return float(target / math.exp(float(np.mean(np.log(ratios)))))


def _rate_largest(lr, ratios, target=1e-3):
    return float(lr * target / float(np.max(ratios)))


def _rate_median(lr, ratios, target=1e-3):
    return float(lr * target / float(np.median(ratios)))


def _rate_default_target(lr, ratios, target=1e-3):
    return rate_for_update_ratio(lr, ratios)


def hint_rate_ignores_target(case, name, expected, got):
    return "target" in case.kwargs and _is_slip(_rate_default_target, case, name, got)


def hint_rate_arithmetic(case, name, expected, got):
    return _is_slip(_rate_arithmetic, case, name, got)


def hint_rate_inverted(case, name, expected, got):
    return _is_slip(_rate_inverted, case, name, got)


def hint_rate_without_lr(case, name, expected, got):
    return _is_slip(_rate_without_lr, case, name, got)


def hint_rate_largest_or_median(case, name, expected, got):
    return _is_slip(_rate_largest, case, name, got) or _is_slip(_rate_median, case, name, got)


RATE_HINTS = (
    (("that uses the arithmetic mean of the ratios, which the largest layer rules; the "
     "geometric mean (exp of the mean log) weighs each decade alike"), hint_rate_arithmetic),
    (("upside down: a ratio above the target means the rate is too high, so the new rate is "
     "lr * target / ratio"), hint_rate_inverted),
    ("the ratio is proportional to the rate: scale the CURRENT rate lr by target / ratio",
     hint_rate_without_lr),
    (("that matches one layer's ratio (the largest, or the median); the exercise asks for the "
     "geometric mean of all of them"), hint_rate_largest_or_median),
    ("the target argument was not used (1e-3 was assumed): aim at the target you are given",
     hint_rate_ignores_target),
)


# ---------------------------------------------------------------- the registry entries

EXERCISES = [
    register(Exercise(PREFIX + "global_norm", "global_norm", _global_norm_cases, global_norm,
                      ("norm",), hints=GLOBAL_NORM_HINTS)),
    register(Exercise(PREFIX + "clip_by_value", "clip_by_value", _clip_by_value_cases,
                      clip_by_value, ("clipped",), hints=CLIP_BY_VALUE_HINTS)),
    register(Exercise(PREFIX + "clip_by_global_norm", "clip_by_global_norm",
                      _clip_by_global_norm_cases, clip_by_global_norm,
                      ("clipped", "total_norm"), tolerance=NORM_TOL,
                      hints=CLIP_BY_GLOBAL_NORM_HINTS)),
    register(Exercise(PREFIX + "value_clip_angle", "value_clip_angle", _value_clip_angle_cases,
                      value_clip_angle, ("angle",), tolerance=1e-4, compare=_angle_compare)),
    register(Exercise(PREFIX + "clipped_step_length", "clipped_step_length", _step_length_cases,
                      clipped_step_length, ("length",), tolerance=NORM_TOL,
                      hints=STEP_LENGTH_HINTS)),
    register(Exercise(PREFIX + "cliff_step", "cliff_step", _cliff_step_cases, cliff_step,
                      ("x_new",), hints=CLIFF_STEP_HINTS)),
    register(Exercise(PREFIX + "value_threshold_for_norm", "value_threshold_for_norm",
                      _threshold_cases, value_threshold_for_norm, ("c",), hints=THRESHOLD_HINTS)),
    register(Exercise(PREFIX + "clipped_gd_distance", "clipped_gd_distance", _clipped_gd_cases,
                      clipped_gd_distance, ("distance",), hints=CLIPPED_GD_HINTS)),
    register(Exercise(PREFIX + "rate_for_update_ratio", "rate_for_update_ratio", _rate_cases,
                      rate_for_update_ratio, ("lr",), hints=RATE_HINTS)),
]
