"""Chapter 11 exercises: each reference passes under several seeds and agrees with dlcore
(freezing, the SGD optimiser, the chapter's example picker) and with hand values, and the
classic wrong answers fail in the right case group."""
import itertools

import numpy as np
import pytest
from conftest import assert_one_hint_naming, hint_lines, run

from dlcore import nn
from dlcore.data import Split
from dlcore.grading import list_exercises
from dlcore.grading.exercises import transfer as tr
from dlcore.optim import SGD
from dlcore.viz import transfer as tv

CHAPTER11 = [
    "transfer.backward_multiply_adds",
    "transfer.count_trainable_params",
    "transfer.few_per_class",
    "transfer.sgd_step_with_frozen",
    "transfer.transfer_stops_helping",
]



def failed_groups(result):
    return {line.split("[")[1].split("]")[0] for line in result.lines if line.startswith("✘")}


def test_chapter11_is_registered():
    assert list_exercises("transfer.") == CHAPTER11




# ---------------------------------------------------------------- references by hand / dlcore

def test_count_by_hand():
    assert tr.count_trainable_params([64, 128, 128, 5], 2) == 128 * 5 + 5
    assert tr.count_trainable_params([64, 128, 128, 5], 0) == 64 * 128 + 128 + 128 * 128 + 128 + 645
    assert tr.count_trainable_params([10, 20, 3], 2) == 0


def test_sgd_reference_equals_dlcore_sgd_on_a_frozen_and_a_free_parameter():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    ga, gb = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    pa, pb = nn.Parameter(a.copy()), nn.Parameter(b.copy())
    pa.requires_grad = False
    opt = SGD([pa, pb], lr=0.1, momentum=0.9, weight_decay=0.01)
    for step in range(2):                        # the second step uses the momentum buffer
        pa.grad[...], pb.grad[...] = ga, gb
        opt.step()
    theta, buf = np.concatenate([a, b]), np.zeros((8, 3))
    frozen = np.zeros((8, 3), dtype=bool)
    frozen[:4] = True
    grad = np.concatenate([ga, gb])
    buf = grad + 0.01 * theta                    # PyTorch's first step: buf = g
    theta = np.where(frozen, theta, theta - 0.1 * buf)
    buf = np.where(frozen, 0.0, buf)
    theta, buf = tr.sgd_step_with_frozen(theta, grad, buf, frozen, 0.1, 0.9, 0.01)
    np.testing.assert_allclose(theta[:4], pa.data, rtol=1e-12)
    np.testing.assert_allclose(theta[4:], pb.data, rtol=1e-6)


def test_backward_count_by_hand():
    full = tr.backward_multiply_adds([64, 128, 128, 5], 0, 50)
    assert full == 50 * (64 * 128 + 2 * 128 * 128 + 2 * 128 * 5)
    assert tr.backward_multiply_adds([64, 128, 128, 5], 2, 50) == 50 * 128 * 5
    assert tr.backward_multiply_adds([20, 30, 10], 2, 16) == 0


def test_few_per_class_is_the_chapters_picker():
    train = tv.digit_tasks()["target"][0]
    for n, seed in ((1, 0), (10, 2)):
        order = np.random.default_rng(seed).permutation(len(train.y))
        idx = tr.few_per_class(train.y, n, order)
        picked = tv.target_subset(train, n, seed)
        np.testing.assert_array_equal(train.X[idx], picked.X)
        assert np.bincount(picked.y).tolist() == [n] * 5
    assert isinstance(picked, Split)


def test_stops_helping_by_hand():
    sizes = [1, 3, 10]
    assert tr.transfer_stops_helping(sizes, [80, 70, 60], [1, 1, 1], [60, 70, 60], [1, 1, 1]) == 3
    assert tr.transfer_stops_helping(sizes, [80, 70, 90], [1, 1, 1], [60, 70, 60], [1, 1, 1]) == -1
    assert tr.transfer_stops_helping(sizes, [60, 70, 60], [1, 1, 1], [60, 70, 60], [1, 1, 1]) == 1


# ---------------------------------------------------------------- wrong answers fail

def test_counting_weights_only_or_frozen_layers_fails():
    no_bias = run("transfer.count_trainable_params",
                  lambda s, k: sum(a * b for a, b in list(itertools.pairwise(s))[k:]))
    assert no_bias.status == "wrong" and "the chapter's network" in failed_groups(no_bias)
    frozen_ones = run("transfer.count_trainable_params",
                      lambda s, k: sum(a * b + b for a, b in list(itertools.pairwise(s))[:k]))
    assert frozen_ones.status == "wrong" and "the chapter's network" in failed_groups(frozen_ones)


def test_zeroing_the_gradient_is_not_freezing():
    def zero_grad_only(theta, grad, buf, frozen, lr, momentum, weight_decay):
        g = np.where(frozen, 0.0, grad) + weight_decay * theta
        new_buf = momentum * buf + g
        return theta - lr * new_buf, new_buf

    result = run("transfer.sgd_step_with_frozen", zero_grad_only)
    assert result.status == "wrong" and result.passed == 0, result.lines


def test_backward_count_with_input_gradient_of_the_first_trainable_layer_fails():
    def too_much(sizes, n_frozen, batch):
        shapes = list(itertools.pairwise(sizes))
        return int(sum(2 * batch * a * b for a, b in shapes[n_frozen:]))

    result = run("transfer.backward_multiply_adds", too_much)
    assert result.status == "wrong"
    assert {"the chapter's network", "other sizes"} <= failed_groups(result)
    assert "everything frozen" not in failed_groups(result)


def test_few_per_class_in_label_order_instead_of_the_given_order_fails():
    result = run("transfer.few_per_class",
                 lambda y, n, order: np.concatenate([np.flatnonzero(y == c)[:n]
                                                     for c in np.unique(y)]))
    assert result.status == "wrong" and "shuffled labels" in failed_groups(result)


def test_stops_helping_at_the_first_level_size_fails_when_it_helps_again():
    def first_level(sizes, tm, ts, sm, ss):
        better = np.asarray(tm) - np.asarray(sm) > 2 * np.maximum(ts, ss)
        if better[-1]:
            return -1
        return int(sizes[int(np.argmin(better))])

    result = run("transfer.transfer_stops_helping", first_level)
    assert result.status == "wrong"
    assert failed_groups(result) == {"helps again after a level point"}


# ---------------------------------------------------------------- hints name the classic slips
# The wrong answers below are written here, apart from the grading module's slip functions,
# so that a hint test cannot pass by a predicate recognising itself.

def _pairs(sizes):
    return list(itertools.pairwise([int(s) for s in sizes]))


def _zeroed_grad(theta, grad, buf, frozen, lr, momentum, weight_decay):
    b = momentum * buf + np.where(frozen, 0.0, grad) + weight_decay * theta
    return theta - lr * b, b


def _buffer_not_kept(theta, grad, buf, frozen, lr, momentum, weight_decay):
    b = momentum * buf + grad + weight_decay * theta
    return np.where(frozen, theta, theta - lr * b), b


def _mask_backwards(theta, grad, buf, frozen, lr, momentum, weight_decay):
    b = momentum * buf + grad + weight_decay * theta
    return np.where(frozen, theta - lr * b, theta), np.where(frozen, b, buf)


def _no_decay(theta, grad, buf, frozen, lr, momentum, weight_decay):
    b = momentum * buf + grad
    return np.where(frozen, theta, theta - lr * b), np.where(frozen, buf, b)


def _first_not_better(sizes, tm, ts, sm, ss):
    better = [m1 - m2 > 2 * max(s1, s2) for m1, s1, m2, s2 in zip(tm, ts, sm, ss)]
    return -1 if better[-1] else int(sizes[better.index(False)])


def _last_better(sizes, tm, ts, sm, ss):
    better = [m1 - m2 > 2 * max(s1, s2) for m1, s1, m2, s2 in zip(tm, ts, sm, ss)]
    if better[-1]:
        return -1
    return int(sizes[max(i for i, b in enumerate(better) if b)]) if any(better) else int(sizes[0])


def _one_sd(sizes, tm, ts, sm, ss):
    better = [m1 - m2 > max(s1, s2) for m1, s1, m2, s2 in zip(tm, ts, sm, ss)]
    if better[-1]:
        return -1
    return int(sizes[max(i for i, b in enumerate(better) if b) + 1]) if any(better) else int(sizes[0])


SLIPS = [
    ("transfer.count_trainable_params", lambda s, k: sum(a * b for a, b in _pairs(s)[k:]),
     "weights only"),
    ("transfer.count_trainable_params", lambda s, k: sum(a * b + b for a, b in _pairs(s)[:k]),
     "FROZEN parameters"),
    ("transfer.count_trainable_params", lambda s, k: sum(a * b + b for a, b in _pairs(s)),
     "counts every layer"),
    ("transfer.count_trainable_params",
     lambda s, k: sum(a * b + b for a, b in _pairs(s)[:len(s) - 1 - k]), "nearest the OUTPUT"),
    ("transfer.sgd_step_with_frozen", _zeroed_grad, "zeroing the gradient is not freezing"),
    ("transfer.sgd_step_with_frozen", _buffer_not_kept, "keep b where frozen too"),
    ("transfer.sgd_step_with_frozen", _mask_backwards, "wrong way round"),
    ("transfer.sgd_step_with_frozen", _no_decay, "weight decay is missing"),
    ("transfer.backward_multiply_adds", lambda s, k, n: sum(2 * n * a * b for a, b in _pairs(s)[k:]),
     "input gradient of the lowest trainable layer"),
    ("transfer.backward_multiply_adds", lambda s, k, n: sum(n * a * b for a, b in _pairs(s)[k:]),
     "weight gradients only"),
    ("transfer.backward_multiply_adds",
     lambda s, k, n: tr.backward_multiply_adds(s, 0, n), "freezing changed nothing"),
    ("transfer.few_per_class",
     lambda y, n, order: np.concatenate([np.flatnonzero(y == c)[:n] for c in np.unique(y)]),
     "in index order"),
    ("transfer.few_per_class",
     lambda y, n, order: np.concatenate([np.flatnonzero(y[order] == c)[:n] for c in np.unique(y)]),
     "positions in the shuffled order"),
    ("transfer.few_per_class",
     lambda y, n, order: np.concatenate([np.sort(order[y[order] == c][:n]) for c in np.unique(y)]),
     "indices were sorted"),
    ("transfer.transfer_stops_helping", _first_not_better, "after the LAST clearly better"),
    ("transfer.transfer_stops_helping", _last_better, "the answer is the next size"),
    ("transfer.transfer_stops_helping", _one_sd, "TWICE the larger standard deviation"),
]


@pytest.mark.parametrize("exercise, slip, words", SLIPS, ids=[f"{e}-{w}" for e, _, w in SLIPS])
def test_each_classic_slip_is_named_in_its_hint(exercise, slip, words):
    assert_one_hint_naming(run(exercise, slip), words)


def test_hints_stay_silent_on_wrong_answers_that_are_no_known_slip():
    quiet = [
        run("transfer.count_trainable_params", lambda s, k: tr.count_trainable_params(s, k) + 1),
        run("transfer.sgd_step_with_frozen",
            lambda *a: tuple(1.01 * x for x in tr.sgd_step_with_frozen(*a))),
        run("transfer.backward_multiply_adds",
            lambda s, k, n: 2 * tr.backward_multiply_adds(s, k, n) + 1),
        run("transfer.few_per_class", lambda y, n, order: tr.few_per_class(y, n, order)[::-1]),
        run("transfer.transfer_stops_helping", lambda s, *curves: int(s[-1])),
    ]
    own_words = [words for _, _, words in SLIPS]
    for result in quiet:                  # generic hints (a constant factor) may still show
        assert result.status == "wrong"
        text = "\n".join(hint_lines(result))
        assert not any(words in text for words in own_words), text
