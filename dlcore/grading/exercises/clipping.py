"""Chapter 6, cliffs and gradient clipping: exercises and cases.

A "gradient" here is a list of numpy arrays, one per parameter (e.g. [dW1, db1, dW2]).
Norm clipping uses the textbook factor max_norm / total when total > max_norm; PyTorch
(and dlcore.clip) divide by total + 1e-6 instead, which changes results by about 1e-6
relative, so those outputs are held to 1e-5 and either form passes.

The clipped gradients come back as a list of arrays of different shapes, as a network's
gradients are; `check` compares such a list array by array (lists of one shape are compared
as one stacked array, which gives the same verdict).
"""
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
    if abs(float(got)) > 1e-9 and abs(math.degrees(float(got)) - float(expected)) < 1e-3:
        note = "that looks like the angle in radians; give it in degrees"
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


# ---------------------------------------------------------------- the registry entries

EXERCISES = [
    register(Exercise(PREFIX + "global_norm", "global_norm", _global_norm_cases, global_norm,
                      ("norm",))),
    register(Exercise(PREFIX + "clip_by_value", "clip_by_value", _clip_by_value_cases,
                      clip_by_value, ("clipped",))),
    register(Exercise(PREFIX + "clip_by_global_norm", "clip_by_global_norm",
                      _clip_by_global_norm_cases, clip_by_global_norm,
                      ("clipped", "total_norm"), tolerance=NORM_TOL)),
    register(Exercise(PREFIX + "value_clip_angle", "value_clip_angle", _value_clip_angle_cases,
                      value_clip_angle, ("angle",), tolerance=1e-4, compare=_angle_compare)),
    register(Exercise(PREFIX + "clipped_step_length", "clipped_step_length", _step_length_cases,
                      clipped_step_length, ("length",), tolerance=NORM_TOL)),
    register(Exercise(PREFIX + "cliff_step", "cliff_step", _cliff_step_cases, cliff_step,
                      ("x_new",))),
    register(Exercise(PREFIX + "value_threshold_for_norm", "value_threshold_for_norm",
                      _threshold_cases, value_threshold_for_norm, ("c",))),
    register(Exercise(PREFIX + "clipped_gd_distance", "clipped_gd_distance", _clipped_gd_cases,
                      clipped_gd_distance, ("distance",))),
    register(Exercise(PREFIX + "rate_for_update_ratio", "rate_for_update_ratio", _rate_cases,
                      rate_for_update_ratio, ("lr",))),
]
