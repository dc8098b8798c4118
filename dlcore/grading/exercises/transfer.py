"""Chapter 11, reusing pretrained layers: the exercises and their cases.

The references call the library where it has the computation (`nn.Linear` and
`Module.freeze` to count trainable parameters, `functional.optim.sgd_step` for the update,
`viz.transfer.target_subset`'s rule for picking examples). The cases are chosen so that the
classic slips show (and `check` names each slip in a hint when the learner's numbers are
exactly that slip's): networks with unequal layer sizes (so that counting weights without
biases, or the wrong layers, is wrong), weight decay and momentum switched on (so that merely
zeroing a frozen entry's gradient does not freeze it), frozen prefixes of every length
including none and all (so that the backward count's first trainable layer matters), classes
out of order in the shuffled labels, and learning curves where transfer helps only at the
small sizes, or helps again after a level point.
"""
import copy
import itertools

import numpy as np

from ... import nn
from ...functional.optim import sgd_step
from ..registry import Case, Exercise, register

PREFIX = "transfer."


# ---------------------------------------------------------------- trainable parameters

def count_trainable_params(sizes, n_frozen):
    """A multilayer perceptron of Linear layers sizes[0] -> sizes[1] -> ... -> sizes[-1]
    (each with a bias) whose first n_frozen Linear layers are frozen: the number of
    parameters that still train. Returns an int."""
    sizes = [int(s) for s in sizes]
    layers = [nn.Linear(a, b, rng=0) for a, b in itertools.pairwise(sizes)]
    for layer in layers[:int(n_frozen)]:
        layer.freeze()
    return int(sum(p.data.size for layer in layers for p in layer.parameters()
                   if p.requires_grad))


def _count_cases(rng):
    return [
        Case("the chapter's network", (np.array([64, 128, 128, 5]), 2)),
        Case("the chapter's network", (np.array([64, 128, 128, 5]), 1)),
        Case("other sizes", (np.array([784, 300, 100, 10]), 1)),
        Case("other sizes", (rng.integers(3, 200, size=5), int(rng.integers(1, 4)))),
        Case("nothing or everything frozen", (np.array([10, 20, 3]), 0)),
        Case("nothing or everything frozen", (np.array([10, 20, 3]), 2)),
    ]


# ---------------------------------------------------------------- SGD step that honours freezing

def sgd_step_with_frozen(theta, grad, buf, frozen, lr, momentum, weight_decay):
    """One step of PyTorch's SGD (g = grad + weight_decay theta; buf = momentum buf + g;
    theta = theta - lr buf) on the entries where `frozen` is False; frozen entries keep
    their value AND their momentum buffer. theta, grad, buf: arrays of one shape (buf from
    earlier steps, momentum > 0); frozen: a boolean array of that shape. Returns (new theta,
    new buf); the inputs are unchanged."""
    new_theta, state = theta.copy(), {"momentum_buffer": buf.copy()}
    sgd_step(new_theta, grad, state, lr, momentum=momentum, weight_decay=weight_decay)
    return (np.where(frozen, theta, new_theta), np.where(frozen, buf, state["momentum_buffer"]))


def _sgd_cases(rng):
    cases = []
    for shape in ((6, 4), (3, 5, 2)):
        frozen = rng.random(shape) < 0.5
        frozen.reshape(-1)[0], frozen.reshape(-1)[-1] = True, False
        cases.append(Case("momentum and weight decay",
                          (rng.standard_normal(shape), rng.standard_normal(shape),
                           rng.standard_normal(shape), frozen, float(rng.uniform(0.01, 0.2)),
                           0.9, float(rng.uniform(1e-3, 0.1)))))
    frozen = np.zeros((8, 3), dtype=bool)
    frozen[:4] = True                       # the first four rows: a frozen parameter's entries
    cases.append(Case("a frozen block", (rng.standard_normal((8, 3)), rng.standard_normal((8, 3)),
                                         rng.standard_normal((8, 3)), frozen, 0.1, 0.5, 0.01)))
    shape = (5, 5)
    frozen = rng.random(shape) < 0.5
    frozen[0, 0] = True
    cases.append(Case("momentum, no weight decay",
                      (rng.standard_normal(shape), rng.standard_normal(shape),
                       rng.standard_normal(shape), frozen, 0.05, 0.9, 0.0)))
    return cases


# ---------------------------------------------------------------- backward cost with freezing

def backward_multiply_adds(sizes, n_frozen, batch):
    """The least number of multiply-adds in the backward pass of a batch through an MLP
    of Linear layers sizes[0] -> ... -> sizes[-1] whose first n_frozen layers are frozen,
    when the input is data (no gradient wanted for it). A trainable layer (in, out) needs
    its weight gradient x^T dout (batch * in * out); a layer needs its input gradient
    dout W^T (batch * in * out) only if a trainable layer lies below it. Elementwise work
    (activations, biases) is not counted. Returns an int."""
    shapes = list(zip([int(s) for s in sizes[:-1]], [int(s) for s in sizes[1:]]))
    total = 0
    for i, (n_in, n_out) in enumerate(shapes):
        if i >= n_frozen:
            total += batch * n_in * n_out       # dW
        if i > n_frozen:
            total += batch * n_in * n_out       # dx, needed by the trainable layer below
    return int(total)


def _backward_cases(rng):
    return [
        Case("the chapter's network", (np.array([64, 128, 128, 5]), 0, 50)),
        Case("the chapter's network", (np.array([64, 128, 128, 5]), 2, 50)),
        Case("other sizes", (np.array([784, 300, 100, 10]), 1, 32)),
        Case("other sizes", (rng.integers(3, 200, size=6), int(rng.integers(1, 5)),
                             int(rng.integers(1, 129)))),
        Case("everything frozen", (np.array([20, 30, 10]), 2, 16)),
    ]


# ---------------------------------------------------------------- a few examples per class

def few_per_class(y, n, order):
    """Indices of the first n examples of each class of the labels y, taking the examples
    in the order given by the permutation `order` (all of a class if it has fewer): the
    indices for class 0 first, then class 1, ..., each group in `order`'s order. Returns an
    int array."""
    return np.concatenate([order[y[order] == c][:n] for c in np.unique(y)]).astype(np.int64)


def _few_cases(rng):
    cases = []
    for n_classes, size, n in ((5, 60, 3), (3, 40, 1), (4, 30, 10)):
        y = rng.integers(0, n_classes, size=size)
        y[:n_classes] = np.arange(n_classes)            # every class present
        cases.append(Case("shuffled labels", (y, n, rng.permutation(size))))
    y = np.array([0, 0, 1, 1, 1, 1, 2])                 # class 0 and 2 have fewer than n
    cases.append(Case("a class with fewer than n", (y, 3, rng.permutation(7))))
    return cases


# ---------------------------------------------------------------- where transfer stops helping

def transfer_stops_helping(sizes, transfer_mean, transfer_sd, scratch_mean, scratch_sd):
    """Training-set sizes (increasing) with the mean and sd of two learning curves. Transfer
    is clearly better at a size when transfer_mean - scratch_mean > 2 * max(transfer_sd,
    scratch_sd). Returns the smallest size from which on transfer is not clearly better at
    that size or any larger one (the first size if it never is; -1 if it still is at the
    largest size)."""
    better = (np.asarray(transfer_mean) - np.asarray(scratch_mean)
              > 2 * np.maximum(transfer_sd, scratch_sd))
    if better[-1]:
        return -1
    helped = np.flatnonzero(better)
    return int(sizes[0] if helped.size == 0 else sizes[helped[-1] + 1])


def _stops_cases(rng):
    sizes = np.array([1, 3, 10, 30, 100])
    cases = [
        Case("helps at small sizes", (sizes, np.array([70.0, 85, 92, 95, 97]),
                                      np.array([2.0, 1, 1, 1, 1]), np.array([55.0, 78, 90, 95, 97]),
                                      np.array([3.0, 2, 1, 0.5, 0.5]))),
        Case("helps again after a level point", (sizes, np.array([70.0, 80, 92, 95, 97]),
                                                 np.array([1.0, 5, 1, 1, 1]),
                                                 np.array([60.0, 75, 85, 95, 97]),
                                                 np.array([1.0, 5, 1, 1, 1]))),
        Case("never helps", (sizes, np.array([56.0, 78, 90, 95, 97]), np.array([7.0, 6, 3, 1, 1]),
                             np.array([59.0, 84, 92, 95, 97]), np.array([6.0, 2, 4, 1, 1]))),
        Case("still helps at the largest size", (sizes, np.array([80.0, 90, 95, 97, 99]),
                                                 np.full(5, 0.5), np.array([60.0, 80, 90, 93, 95]),
                                                 np.full(5, 0.5))),
    ]
    gain = np.sort(rng.uniform(0, 20, size=5))[::-1]
    scratch = np.sort(rng.uniform(50, 95, size=5))
    cases.append(Case("helps at small sizes", (sizes, scratch + gain, np.full(5, 2.0), scratch,
                                               np.full(5, 2.0))))
    return cases


# ---------------------------------------------------------------- classic slips, named in hints
# A hint predicate recomputes what a known slip returns on the failing case and compares it
# with what the learner's function returned for that output: the hint names a slip only
# when the numbers are exactly the slip's (relative 1e-9), never on a guess. The slips are
# module-level functions with the exercise's signature (the grader imports the predicates).

def _is_slip(slip, case, name, got):
    """True when `got` is what `slip` returns for output `name` on this case."""
    with np.errstate(all="ignore"):
        out = slip(*copy.deepcopy(case.args), **dict(case.kwargs))
    if isinstance(out, tuple):                       # sgd_step_with_frozen: (theta, buf)
        out = out[{"theta": 0, "buf": 1}[name]]
    want = np.asarray(out, dtype=np.float64)
    got = np.asarray(got, dtype=np.float64)
    return want.shape == got.shape and bool(np.allclose(got, want, rtol=1e-9, atol=0.0))


def _layer_shapes(sizes):
    return list(itertools.pairwise([int(s) for s in sizes]))


# -- count_trainable_params

def _count_weights_only(sizes, n_frozen):
    return sum(a * b for a, b in _layer_shapes(sizes)[n_frozen:])


def _count_the_frozen(sizes, n_frozen):
    return sum(a * b + b for a, b in _layer_shapes(sizes)[:n_frozen])


def _count_everything(sizes, n_frozen):
    return sum(a * b + b for a, b in _layer_shapes(sizes))


def _count_frozen_from_the_top(sizes, n_frozen):
    shapes = _layer_shapes(sizes)
    return sum(a * b + b for a, b in shapes[:len(shapes) - n_frozen])


def hint_count_weights_only(case, name, expected, got):
    return _is_slip(_count_weights_only, case, name, got)


def hint_count_the_frozen(case, name, expected, got):
    return _is_slip(_count_the_frozen, case, name, got)


def hint_count_everything(case, name, expected, got):
    return case.args[1] > 0 and _is_slip(_count_everything, case, name, got)


def hint_count_frozen_from_the_top(case, name, expected, got):
    return _is_slip(_count_frozen_from_the_top, case, name, got)


COUNT_HINTS = (
    ("that counts the weights only: each Linear layer (in, out) also has a bias of out entries",
     hint_count_weights_only),
    ("that is the number of FROZEN parameters; count the layers from n_frozen on",
     hint_count_the_frozen),
    ("that counts every layer: the first n_frozen layers are frozen and do not train",
     hint_count_everything),
    (("that freezes the layers nearest the OUTPUT; the frozen ones are the first n_frozen, "
     "counted from the input"), hint_count_frozen_from_the_top),
)


# -- sgd_step_with_frozen

def _sgd_zero_grad_only(theta, grad, buf, frozen, lr, momentum, weight_decay):
    g = np.where(frozen, 0.0, grad) + weight_decay * theta
    new_buf = momentum * buf + g
    return theta - lr * new_buf, new_buf


def _sgd_buffer_moves(theta, grad, buf, frozen, lr, momentum, weight_decay):
    new_buf = momentum * buf + grad + weight_decay * theta
    return np.where(frozen, theta, theta - lr * new_buf), new_buf


def _sgd_mask_inverted(theta, grad, buf, frozen, lr, momentum, weight_decay):
    new_buf = momentum * buf + grad + weight_decay * theta
    return np.where(frozen, theta - lr * new_buf, theta), np.where(frozen, new_buf, buf)


def _sgd_no_weight_decay(theta, grad, buf, frozen, lr, momentum, weight_decay):
    new_buf = momentum * buf + grad
    return np.where(frozen, theta, theta - lr * new_buf), np.where(frozen, buf, new_buf)


def hint_sgd_zero_grad_only(case, name, expected, got):
    return _is_slip(_sgd_zero_grad_only, case, name, got)


def hint_sgd_buffer_moves(case, name, expected, got):
    return name == "buf" and _is_slip(_sgd_buffer_moves, case, name, got)


def hint_sgd_mask_inverted(case, name, expected, got):
    return _is_slip(_sgd_mask_inverted, case, name, got)


def hint_sgd_no_weight_decay(case, name, expected, got):
    return case.args[6] != 0 and _is_slip(_sgd_no_weight_decay, case, name, got)


SGD_HINTS = (
    (("zeroing the gradient is not freezing: weight decay (lambda theta) and the momentum buffer "
     "still move a frozen entry; keep theta and b unchanged where frozen is True"),
     hint_sgd_zero_grad_only),
    (("theta is right but the frozen entries' momentum buffer changed: keep b where frozen too "
     "(an optimiser skips a frozen parameter entirely)"), hint_sgd_buffer_moves),
    (("the step was taken where frozen is True and skipped where it is False: the mask is the "
     "wrong way round"), hint_sgd_mask_inverted),
    ("weight decay is missing: g = grad + weight_decay * theta", hint_sgd_no_weight_decay),
)


# -- backward_multiply_adds

def _backward_input_grad_of_lowest_trainable(sizes, n_frozen, batch):
    return sum(2 * batch * a * b for a, b in _layer_shapes(sizes)[n_frozen:])


def _backward_weights_only(sizes, n_frozen, batch):
    return sum(batch * a * b for a, b in _layer_shapes(sizes)[n_frozen:])


def _backward_freezing_ignored(sizes, n_frozen, batch):
    return backward_multiply_adds(sizes, 0, batch)


def hint_backward_input_grad_of_lowest(case, name, expected, got):
    return _is_slip(_backward_input_grad_of_lowest_trainable, case, name, got)


def hint_backward_weights_only(case, name, expected, got):
    return _is_slip(_backward_weights_only, case, name, got)


def hint_backward_freezing_ignored(case, name, expected, got):
    return case.args[1] > 0 and _is_slip(_backward_freezing_ignored, case, name, got)


BACKWARD_HINTS = (
    (("that counts the input gradient of the lowest trainable layer too: nothing below it trains "
     "and the network's input is data, so its delta W^T is never needed"),
     hint_backward_input_grad_of_lowest),
    (("that counts the weight gradients only: a trainable layer above another trainable layer "
     "must also pass the gradient down (delta W^T)"), hint_backward_weights_only),
    (("freezing changed nothing in that count: a frozen layer needs no weight gradient, and "
     "below the lowest trainable layer no input gradient either"), hint_backward_freezing_ignored),
)


# -- few_per_class

def _few_in_index_order(y, n, order):
    return np.concatenate([np.flatnonzero(y == c)[:n] for c in np.unique(y)])


def _few_positions_not_indices(y, n, order):
    return np.concatenate([np.flatnonzero(y[order] == c)[:n] for c in np.unique(y)])


def _few_sorted_within_class(y, n, order):
    return np.concatenate([np.sort(order[y[order] == c][:n]) for c in np.unique(y)])


def hint_few_in_index_order(case, name, expected, got):
    return _is_slip(_few_in_index_order, case, name, got)


def hint_few_positions_not_indices(case, name, expected, got):
    return _is_slip(_few_positions_not_indices, case, name, got)


def hint_few_sorted_within_class(case, name, expected, got):
    return _is_slip(_few_sorted_within_class, case, name, got)


FEW_HINTS = (
    (("those are the first n of each class in index order; go through the examples in the order "
     "that `order` gives"), hint_few_in_index_order),
    (("those are positions in the shuffled order; return the examples' own indices, "
     "order[position]"), hint_few_positions_not_indices),
    ("right examples, but each class's indices were sorted: keep them in the order they were met",
     hint_few_sorted_within_class),
)


# -- transfer_stops_helping

def _clearly_better(tm, ts, sm, ss):
    return np.asarray(tm) - np.asarray(sm) > 2 * np.maximum(ts, ss)


def _stops_at_first_level(sizes, tm, ts, sm, ss):
    better = _clearly_better(tm, ts, sm, ss)
    return -1 if better[-1] else int(sizes[int(np.argmin(better))])


def _stops_at_last_better(sizes, tm, ts, sm, ss):
    better = _clearly_better(tm, ts, sm, ss)
    if better[-1]:
        return -1
    helped = np.flatnonzero(better)
    return int(sizes[0] if helped.size == 0 else sizes[helped[-1]])


def _stops_one_sd(sizes, tm, ts, sm, ss):
    better = np.asarray(tm) - np.asarray(sm) > np.maximum(ts, ss)
    if better[-1]:
        return -1
    helped = np.flatnonzero(better)
    return int(sizes[0] if helped.size == 0 else sizes[helped[-1] + 1])


def hint_stops_at_first_level(case, name, expected, got):
    return _is_slip(_stops_at_first_level, case, name, got)


def hint_stops_at_last_better(case, name, expected, got):
    return _is_slip(_stops_at_last_better, case, name, got)


def hint_stops_one_sd(case, name, expected, got):
    return _is_slip(_stops_one_sd, case, name, got)


STOPS_HINTS = (
    (("that is the first size where transfer is not clearly better, but it is clearly better "
     "again at a larger size; answer the size after the LAST clearly better one"),
     hint_stops_at_first_level),
    (("that is the last size where transfer was still clearly better; the answer is the next "
     "size, from which on it no longer is"), hint_stops_at_last_better),
    (("that uses one standard deviation as the margin; clearly better means ahead by more than "
     "TWICE the larger standard deviation"), hint_stops_one_sd),
)


# ---------------------------------------------------------------- the registry entries

EXERCISES = [
    register(Exercise(PREFIX + "count_trainable_params", "count_trainable_params",
                      _count_cases, count_trainable_params, ("n",), tolerance=1e-12,
                      hints=COUNT_HINTS)),
    register(Exercise(PREFIX + "sgd_step_with_frozen", "sgd_step_with_frozen", _sgd_cases,
                      sgd_step_with_frozen, ("theta", "buf"), hints=SGD_HINTS)),
    register(Exercise(PREFIX + "backward_multiply_adds", "backward_multiply_adds",
                      _backward_cases, backward_multiply_adds, ("multiply_adds",),
                      tolerance=1e-12, hints=BACKWARD_HINTS)),
    register(Exercise(PREFIX + "few_per_class", "few_per_class", _few_cases, few_per_class,
                      ("indices",), tolerance=1e-12, hints=FEW_HINTS)),
    register(Exercise(PREFIX + "transfer_stops_helping", "transfer_stops_helping", _stops_cases,
                      transfer_stops_helping, ("size",), tolerance=1e-12,
                      hints=STOPS_HINTS)),
]
