"""Chapter 11, reusing pretrained layers: the exercises and their cases.

The references call the library where it has the computation (`nn.Linear` and
`Module.freeze` to count trainable parameters, `functional.optim.sgd_step` for the update,
`viz.transfer.target_subset`'s rule for picking examples). The cases are chosen so that the
classic slips show: networks with unequal layer sizes (so that counting weights without
biases, or the wrong layers, is wrong), weight decay and momentum switched on (so that merely
zeroing a frozen entry's gradient does not freeze it), frozen prefixes of every length
including none and all (so that the backward count's first trainable layer matters), classes
out of order in the shuffled labels, and learning curves where transfer helps only at the
small sizes, or helps again after a level point.
"""
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


# ---------------------------------------------------------------- the registry entries

EXERCISES = [
    register(Exercise(PREFIX + "count_trainable_params", "count_trainable_params",
                      _count_cases, count_trainable_params, ("n",), tolerance=1e-12)),
    register(Exercise(PREFIX + "sgd_step_with_frozen", "sgd_step_with_frozen", _sgd_cases,
                      sgd_step_with_frozen, ("theta", "buf"))),
    register(Exercise(PREFIX + "backward_multiply_adds", "backward_multiply_adds",
                      _backward_cases, backward_multiply_adds, ("multiply_adds",),
                      tolerance=1e-12)),
    register(Exercise(PREFIX + "few_per_class", "few_per_class", _few_cases, few_per_class,
                      ("indices",), tolerance=1e-12)),
    register(Exercise(PREFIX + "transfer_stops_helping", "transfer_stops_helping", _stops_cases,
                      transfer_stops_helping, ("size",), tolerance=1e-12)),
]
