"""Chapter 14 exercises: each reference passes and agrees with dlcore (and with a model built
from dlcore.nn), and the classic wrong answers fail in the right case group."""
import warnings

import numpy as np
import pytest
from conftest import assert_one_hint_naming, hint_lines, run

from dlcore import compress, nn
from dlcore.grading import get_exercise, list_exercises
from dlcore.grading.exercises import compression as ex

CHAPTER14 = [
    "compression.best_rank_r",
    "compression.fold_batchnorm_before",
    "compression.huffman_code_lengths",
    "compression.kmeans_step",
    "compression.prune_by_magnitude",
    "compression.sparse_storage_bits",
]



def failed(result, name, output, group):
    return any(line.startswith(f"✘ {name}  {output}  [{group}]") for line in result.lines)


# ---------------------------------------------------------------- the references pass

def test_chapter14_is_registered():
    assert list_exercises("compression.") == CHAPTER14




# ---------------------------------------------------------------- references vs dlcore

def test_kmeans_step_is_one_iteration_of_kmeans_quantize():
    w = np.random.default_rng(0).standard_normal(500)
    start = np.linspace(w.min(), w.max(), 16)
    cb, _ = compress.kmeans_quantize(w, 4, iters=1)
    np.testing.assert_allclose(ex.kmeans_step(w, start), cb, rtol=1e-12)


def test_fold_batchnorm_before_reproduces_the_two_layers():
    rng = np.random.default_rng(1)
    norm, lin = nn.BatchNorm1d(5).to(dtype=np.float64), nn.Linear(5, 3, rng=0,
                                                                 dtype=np.float64)
    lin.b.data[:] = rng.standard_normal(3)
    model = nn.Sequential(norm, lin)
    for _ in range(5):
        model(rng.standard_normal((16, 5)) * 3 + 1)
    norm.gamma.data[:] = rng.uniform(-2, 2, 5)
    norm.beta.data[:] = rng.standard_normal(5)
    model.eval()
    x = rng.standard_normal((9, 5))
    W2, b2 = ex.fold_batchnorm_before(norm.gamma.data, norm.beta.data, norm.running_mean,
                                      norm.running_var, lin.W.data, lin.b.data, eps=norm.eps)
    np.testing.assert_allclose(x @ W2 + b2, model(x), rtol=1e-12, atol=1e-12)


def test_sparse_storage_bits_agrees_with_layer_size():
    rng = np.random.default_rng(2)
    w = rng.standard_normal((40, 30)) * (rng.random((40, 30)) < 0.05)
    _, codes = compress.kmeans_quantize(w, 3, mask=w != 0)
    size = compress.layer_size(w, codes=codes, bits=3, index_bits=4)
    assert ex.sparse_storage_bits(w != 0, 3, 4) == size.total
    long_gap = np.zeros(100)
    long_gap[[0, 40, 99]] = 1.0
    # 3 codes of 2 bits; indices 1, then 40 = 7*5 + 5 (5 fillers), 59 = 7*8 + 3 (8 fillers)
    assert ex.sparse_storage_bits(long_gap, 2, 3) == 3 * 2 + 3 * (3 + 5 + 8) + 32 * 4


def test_best_rank_r_error_is_eckart_young():
    W = np.random.default_rng(3).standard_normal((9, 6))
    s = np.linalg.svd(W, compute_uv=False)
    for r in (1, 3, 5):
        assert np.linalg.norm(W - ex.best_rank_r(W, r)) == pytest.approx(
            np.sqrt(np.sum(s[r:] ** 2)))


def test_huffman_cases_are_tie_free():
    # another tie-break (newest node first among equals) gives the same lengths on every case
    for case in get_exercise("compression.huffman_code_lengths").cases():
        counts = case.args[0]
        np.testing.assert_array_equal(compress.huffman_code_lengths(counts),
                                      compress.huffman_code_lengths(counts[::-1])[::-1])


# ---------------------------------------------------------------- known wrong answers fail

def test_pruning_by_value_instead_of_magnitude():
    def by_value(W, sparsity):
        k = round(sparsity * W.size)
        mask = np.ones(W.size)
        mask[np.argsort(W, axis=None)[:k]] = 0
        mask = mask.reshape(W.shape)
        return W * mask, mask

    result = run("compression.prune_by_magnitude", by_value)
    assert result.status == "wrong"
    assert failed(result, "prune_by_magnitude", "W_pruned",
                  "negative weights with large magnitude")


def test_pruning_with_floor_or_a_boolean_mask():
    def floor(W, sparsity):
        k = int(sparsity * W.size)
        mask = np.ones(W.size)
        mask[np.argsort(np.abs(W), axis=None)[:k]] = 0
        mask = mask.reshape(W.shape)
        return W * mask, mask

    result = run("compression.prune_by_magnitude", floor)
    assert failed(result, "prune_by_magnitude", "W_pruned", "a count that needs rounding")

    def boolean(W, sparsity):
        W2, mask = ex.prune_by_magnitude(W, sparsity)
        return W2, mask.astype(bool)

    assert run("compression.prune_by_magnitude", boolean).passed == 0


def test_kmeans_step_with_an_empty_cluster_or_ties_upwards():
    def nan_for_empty(values, centroids):
        assign = np.argmin(np.abs(values[:, None] - centroids[None]), axis=1)
        with warnings.catch_warnings():       # "mean of empty slice": the bug under test
            warnings.simplefilter("ignore")
            return np.array([values[assign == k].mean() for k in range(centroids.size)])

    result = run("compression.kmeans_step", nan_for_empty)
    assert failed(result, "kmeans_step", "centroids", "an empty cluster")
    assert not failed(result, "kmeans_step", "centroids", "linear initialisation (Han et al.)")

    def ties_up(values, centroids):
        mid = (centroids[:-1] + centroids[1:]) / 2
        assign = np.searchsorted(mid, values, side="right")
        out = centroids.copy()
        for k in range(centroids.size):
            if np.any(assign == k):
                out[k] = values[assign == k].mean()
        return out

    result = run("compression.kmeans_step", ties_up)
    assert failed(result, "kmeans_step", "centroids", "a value halfway between two centroids")


def test_shannon_lengths_are_not_huffman():
    def shannon(counts):
        p = counts / counts.sum()
        with np.errstate(divide="ignore"):
            return np.where(p > 0, np.ceil(-np.log2(p)), 0).astype(int)

    result = run("compression.huffman_code_lengths", shannon)
    assert result.status == "wrong" and failed(result, "huffman_code_lengths", "lengths",
                                               "random histograms")

    def codes_for_absent_symbols(counts):
        return compress.huffman_code_lengths(np.maximum(counts, 1e-9))

    result = run("compression.huffman_code_lengths", codes_for_absent_symbols)
    assert failed(result, "huffman_code_lengths", "lengths", "symbols that never occur")


def test_folding_into_the_columns_instead_of_the_rows():
    def columns(gamma, beta, running_mean, running_var, W, b, eps=1e-5):
        s = gamma / np.sqrt(running_var + eps)
        return W * s, (beta - running_mean * s) @ W + b

    result = run("compression.fold_batchnorm_before", columns)
    assert failed(result, "fold_batchnorm_before", "W", "square W")

    def bias_not_through_w(gamma, beta, running_mean, running_var, W, b, eps=1e-5):
        s = gamma / np.sqrt(running_var + eps)
        return s[:, None] * W, b + (beta - running_mean * s).sum()

    assert run("compression.fold_batchnorm_before", bias_not_through_w).passed == 0


def test_storage_without_fillers_or_codebook():
    def no_fillers(mask, bits, index_bits):
        n = int(np.count_nonzero(mask))
        return (bits + index_bits) * n + 32 * 2 ** bits

    result = run("compression.sparse_storage_bits", no_fillers)
    assert failed(result, "sparse_storage_bits", "bits",
                  "gaps longer than the index range (fillers)")
    assert not failed(result, "sparse_storage_bits", "bits", "a dense mask")

    def no_codebook(mask, bits, index_bits):
        return ex.sparse_storage_bits(mask, bits, index_bits) - 32 * 2 ** bits

    assert run("compression.sparse_storage_bits", no_codebook).passed == 0


def test_storage_with_the_first_gap_counted_from_position_0():
    def from_zero(mask, bits, index_bits):
        pos = np.flatnonzero(np.asarray(mask).ravel() != 0)
        gaps = np.diff(np.concatenate([[0], pos]))
        fillers = int(np.sum(np.maximum(gaps - 1, 0) // (2 ** index_bits - 1)))
        return bits * pos.size + index_bits * (pos.size + fillers) + 32 * 2 ** bits

    result = run("compression.sparse_storage_bits", from_zero)
    assert failed(result, "sparse_storage_bits", "bits",
                  "gaps longer than the index range (fillers)")
    assert not failed(result, "sparse_storage_bits", "bits", "a dense mask")


def test_rank_r_with_the_smallest_values_or_without_s():
    def smallest(W, r):
        U, s, Vt = np.linalg.svd(W, full_matrices=False)
        return (U[:, -r:] * s[-r:]) @ Vt[-r:]

    def no_s(W, r):
        U, _, Vt = np.linalg.svd(W, full_matrices=False)
        return U[:, :r] @ Vt[:r]

    result = run("compression.best_rank_r", smallest)
    assert failed(result, "best_rank_r", "W_r", "a known spectrum")
    assert not failed(result, "best_rank_r", "W_r", "full rank (nothing dropped)")
    assert run("compression.best_rank_r", no_s).passed == 0


# ---------------------------------------------------------------- hints name the classic slips
# The wrong answers below are written here, apart from the grading module's slip functions,
# so that a hint test cannot pass by a predicate recognising itself.

def _prune_order(W, k, order):
    mask = np.ones(W.size)
    mask[order[:k]] = 0.0
    mask = mask.reshape(W.shape)
    return W * mask, mask


def _lloyd(values, centroids, side="left", empty="stay"):
    assign = np.searchsorted((centroids[:-1] + centroids[1:]) / 2, values, side=side)
    out = []
    for k, c in enumerate(centroids):
        members = values[assign == k]
        out.append(members.mean() if members.size else {"stay": c, "zero": 0.0,
                                                        "nan": np.nan}[empty])
    return np.array(out)


def _bits_by_loop(mask, bits, index_bits, first=-1, per_gap=lambda d, M: (d - 1) // M,
                  filler_codes=False, codebook=True):
    M = 2 ** index_bits - 1
    total, prev = 0, first
    for p in np.flatnonzero(np.ravel(mask)):
        f = per_gap(max(p - prev, 1), M)
        total += index_bits * (1 + f) + bits * (1 + (f if filler_codes else 0))
        prev = p
    return total + (32 * 2 ** bits if codebook else 0)


def _fold(gamma, beta, mean, var, W, b, eps=1e-5, through_w=True):
    s = gamma / np.sqrt(var + eps)
    shift = beta - mean * s
    return s[:, None] * W, (shift @ W + b if through_w else b + shift.sum())


def _terms(W, r, largest=True, with_s=True):
    """A sum of r rank-one terms u_i s_i v_i^T of the SVD (the largest or smallest s_i)."""
    U, s, Vt = np.linalg.svd(W, full_matrices=False)
    keep = range(r) if largest else range(s.size - r, s.size)
    return sum((s[i] if with_s else 1.0) * np.outer(U[:, i], Vt[i]) for i in keep)


SLIPS = [
    ("compression.prune_by_magnitude",
     lambda W, s: _prune_order(W, round(s * W.size), np.argsort(W.ravel())), "smallest VALUES"),
    ("compression.prune_by_magnitude",
     lambda W, s: _prune_order(W, int(s * W.size), np.argsort(np.abs(W).ravel())),
     "rounds the count down"),
    ("compression.prune_by_magnitude",
     lambda W, s: _prune_order(W, round(s * W.size), np.argsort(-np.abs(W).ravel())),
     "LARGEST |w|"),
    ("compression.prune_by_magnitude",
     lambda W, s: _prune_order(W, round((1 - s) * W.size), np.argsort(np.abs(W).ravel())),
     "fraction PRUNED"),
    ("compression.kmeans_step", lambda v, c: _lloyd(v, c, side="right"), "UPPER one"),
    ("compression.kmeans_step", lambda v, c: _lloyd(v, c, empty="zero"), "stays where it is"),
    ("compression.huffman_code_lengths",
     lambda c: np.array([int(np.ceil(np.log2(c.sum() / x))) if x > 0 else 0 for x in c]),
     "Shannon's lengths"),
    ("compression.huffman_code_lengths",
     lambda c: compress.huffman_code_lengths(c + 1e-12 * (c == 0)), "count 0 never occurs"),
    ("compression.fold_batchnorm_before", lambda *a, **k: _fold(*a, **k, through_w=False),
     "goes through W"),
    ("compression.fold_batchnorm_before", lambda *a, eps=1e-5: _fold(*a, eps=0.0),
     "eps is missing"),
    ("compression.sparse_storage_bits",
     lambda m, b, i: _bits_by_loop(m, b, i, per_gap=lambda d, M: 0), "no fillers counted"),
    ("compression.sparse_storage_bits",
     lambda m, b, i: _bits_by_loop(m, b, i, per_gap=lambda d, M: d // M), "not d // M"),
    ("compression.sparse_storage_bits", lambda m, b, i: _bits_by_loop(m, b, i, first=0),
     "position -1"),
    ("compression.sparse_storage_bits", lambda m, b, i: _bits_by_loop(m, b, i, filler_codes=True),
     "a filler carries no code"),
    ("compression.sparse_storage_bits", lambda m, b, i: _bits_by_loop(m, b, i, codebook=False),
     "codebook is missing"),
    ("compression.best_rank_r", lambda W, r: _terms(W, r, largest=False),
     "SMALLEST singular values"),
    ("compression.best_rank_r", lambda W, r: _terms(W, r, with_s=False),
     "singular values are missing"),
]


@pytest.mark.parametrize("exercise, slip, words", SLIPS, ids=[f"{e}-{w}" for e, _, w in SLIPS])
def test_each_classic_slip_is_named_in_its_hint(exercise, slip, words):
    assert_one_hint_naming(run(exercise, slip), words)


def test_hints_stay_silent_on_wrong_answers_that_are_no_known_slip():
    quiet = [
        run("compression.prune_by_magnitude",
            lambda W, s: tuple(np.roll(x, 1) for x in ex.prune_by_magnitude(W, s))),
        run("compression.kmeans_step", lambda v, c: ex.kmeans_step(v, c) + 0.01),
        run("compression.huffman_code_lengths", lambda c: ex.huffman_code_lengths(c) + 1),
        run("compression.fold_batchnorm_before",
            lambda *a, **k: tuple(x + 0.1 for x in ex.fold_batchnorm_before(*a, **k))),
        run("compression.sparse_storage_bits", lambda *a: ex.sparse_storage_bits(*a) + 1),
        run("compression.best_rank_r", lambda W, r: ex.best_rank_r(W, r)[::-1]),
    ]
    own_words = [words for _, _, words in SLIPS]
    for result in quiet:                  # generic hints (a constant factor) may still show
        assert result.status == "wrong"
        text = "\n".join(hint_lines(result))
        assert not any(words in text for words in own_words), text
