"""Chapter 14, model compression: the exercises and their cases.

The references call `dlcore.compress` where it has the function (magnitude masks, Huffman
code lengths, relative-index symbols, low-rank factors); the others are a few lines of
numpy written here. Conventions: weights are (in, out) with y = x @ W + b; a mask holds 1
(kept) and 0 (pruned); sizes are in bits, 32 per float.

Everything is float64 (or integer), so answers must agree with the reference to a relative
error below 1e-7, except where a case sets its own tolerance.
"""
import numpy as np

from ... import compress
from ..registry import Case, Exercise, register

PREFIX = "compression."


def _normal(rng, *shape):
    return rng.standard_normal(shape)


# ---------------------------------------------------------------- magnitude pruning

def prune_by_magnitude(W, sparsity):
    """W (any shape), sparsity in [0, 1] -> (W_pruned, mask), both of W's shape.

    The round(sparsity * W.size) entries of smallest |w| are set to 0; mask is 1.0 where a
    weight is kept and 0.0 where it is pruned (float, W's dtype).
    """
    (mask,) = compress.magnitude_masks([W], sparsity)
    return W * mask, mask


def _prune_cases(rng):
    return [
        Case("random layers", (_normal(rng, 8, 5), 0.5)),
        Case("random layers", (_normal(rng, 16, 10), 0.9)),
        # 0.3 * 10 = 3 entries; sign must not matter, only |w|
        Case("negative weights with large magnitude",
             (np.array([-3.0, 0.1, -0.2, 2.0, -0.05, 0.7, -1.5, 0.3, 4.0, -0.6]), 0.3)),
        # round(0.25 * 6) = round(1.5) = 2 (Python rounds half to even)
        Case("a count that needs rounding", (_normal(rng, 2, 3), 0.25)),
        Case("nothing or everything pruned", (_normal(rng, 4, 4), 0.0)),
        Case("nothing or everything pruned", (_normal(rng, 3, 5), 1.0)),
    ]


# ---------------------------------------------------------------- one k-means step

def kmeans_step(values, centroids):
    """values (n,), centroids (k,) sorted increasing -> new centroids (k,).

    One iteration of Lloyd's algorithm in 1-D: each value joins its nearest centroid (a
    value exactly halfway between two joins the lower one); each centroid moves to the
    mean of its values; a centroid that no value joins stays where it is.
    """
    midpoints = (centroids[:-1] + centroids[1:]) / 2
    assign = np.searchsorted(midpoints, values, side="left")
    k = centroids.size
    counts = np.bincount(assign, minlength=k)
    sums = np.bincount(assign, weights=values, minlength=k)
    return np.where(counts > 0, sums / np.maximum(counts, 1), centroids)


def _kmeans_cases(rng):
    w = _normal(rng, 200)
    linear = np.linspace(w.min(), w.max(), 8)
    heavy = rng.standard_t(3, size=300)
    return [
        Case("linear initialisation (Han et al.)", (w, linear)),
        Case("linear initialisation (Han et al.)", (heavy, np.linspace(heavy.min(),
                                                                       heavy.max(), 4))),
        # the centroid at 14 is nearest to no value: it must stay at 14, not become nan or 0
        Case("an empty cluster", (np.array([0.0, 1, 2, 6, 7, 8, 20, 21]),
                                  np.array([0.0, 7.0, 14.0, 21.0]))),
        # 1.5 is halfway between 1 and 2: it joins the lower centroid
        Case("a value halfway between two centroids", (np.array([0.9, 1.5, 2.2, 3.0]),
                                                       np.array([1.0, 2.0, 3.0]))),
    ]


# ---------------------------------------------------------------- Huffman code lengths

def huffman_code_lengths(counts):
    """counts (k,) nonnegative frequencies -> lengths (k,) integers, the number of bits of
    each symbol's codeword in a Huffman code; 0 for a symbol whose count is 0."""
    return compress.huffman_code_lengths(counts)


def _tie_free(rng, k, zeros=0):
    """Frequencies drawn from a continuous distribution: no two partial sums are equal, so
    the Huffman code lengths do not depend on how ties are broken."""
    counts = rng.dirichlet(np.full(k, 0.7))
    if zeros:
        counts[rng.choice(k, size=zeros, replace=False)] = 0.0
    return counts


def _huffman_cases(rng):
    return [
        Case("random histograms", (_tie_free(rng, 8),)),
        Case("random histograms", (_tie_free(rng, 32),)),
        Case("skewed histograms", (np.array([0.5, 0.26, 0.13, 0.07, 0.04]),)),
        Case("symbols that never occur", (_tie_free(rng, 10, zeros=3),)),
        Case("two symbols", (np.array([0.9, 0.1]),)),
    ]


# ---------------------------------------------------------------- BN before a Linear

def fold_batchnorm_before(gamma, beta, running_mean, running_var, W, b, eps=1e-5):
    """An eval-mode BatchNorm1d(D_in) followed by Linear (W (D_in, D_out), b (D_out,)) as
    one Linear: returns (W2, b2) with x @ W2 + b2 == (gamma * (x - mean) / sqrt(var + eps)
    + beta) @ W + b for every x (N, D_in).

    s = gamma / sqrt(running_var + eps) scales the ROWS of W: W2 = s[:, None] * W,
    b2 = (beta - running_mean * s) @ W + b.
    """
    s = gamma / np.sqrt(running_var + eps)
    return s[:, None] * W, (beta - running_mean * s) @ W + b


def _fold_before_cases(rng):
    def case(group, d_in, d_out, var=None, **kw):
        gamma = rng.uniform(0.5, 2.0, d_in) * rng.choice([-1.0, 1.0], d_in)
        var = rng.uniform(0.1, 5.0, d_in) if var is None else var
        return Case(group, (gamma, _normal(rng, d_in), rng.uniform(-2, 2, d_in), var,
                            _normal(rng, d_in, d_out), _normal(rng, d_out)), kw)

    return [
        case("random layers", 5, 3),
        case("random layers", 3, 7, eps=1e-3),
        # D_in == D_out: scaling the columns instead of the rows has the right shape
        case("square W", 4, 4),
        case("tiny running variance (eps matters)", 3, 2, var=np.array([1e-7, 2e-6, 1e-5])),
    ]


# ---------------------------------------------------------------- storage in bits

def sparse_storage_bits(mask, bits, index_bits):
    """Bits to store a pruned layer quantised to `bits` bits, in Deep Compression's sparse
    format: each kept weight is a `bits`-bit code plus a relative index of `index_bits`
    bits (the gap to the previous kept weight, in C order, the first counted from position
    -1); a gap longer than M = 2**index_bits - 1 first costs one filler index (no code) per
    M positions skipped; the codebook is 2**bits floats of 32 bits.
    mask (any shape) of 0/1 -> an integer.
    """
    counts = compress.relative_index_symbols(mask, index_bits)
    kept = int(counts[1:].sum())
    return bits * kept + index_bits * int(counts.sum()) + 32 * 2 ** bits


def _mask(rng, shape, keep):
    return (rng.random(shape) < keep).astype(np.float64)


def _storage_cases(rng):
    long_gap = np.zeros(100)
    long_gap[[0, 40, 99]] = 1.0     # gaps 1, 40, 59: fillers needed with 3-bit indices
    # the first kept weight at position M = 7: its gap from -1 is 8, so it needs a filler
    # (counting the first gap from position 0 would give 7 and none)
    late_start = np.zeros(30)
    late_start[[7, 14, 29]] = 1.0   # gaps 8, 7, 15 with 3-bit indices: 1 + 0 + 2 fillers
    return [
        Case("random masks", (_mask(rng, (30, 20), 0.1), 5, 5)),
        Case("random masks", (_mask(rng, (64, 16), 0.3), 4, 4)),
        Case("gaps longer than the index range (fillers)", (long_gap, 2, 3)),
        Case("gaps longer than the index range (fillers)", (late_start, 2, 3)),
        Case("gaps longer than the index range (fillers)", (_mask(rng, (50, 40), 0.02), 5, 4)),
        Case("a dense mask", (np.ones((6, 7)), 3, 2)),
    ]


# ---------------------------------------------------------------- best rank-r approximation

def best_rank_r(W, r):
    """W (m, n), 1 <= r <= min(m, n) -> the rank-r matrix (m, n) closest to W in the
    Frobenius norm (the truncated SVD: keep the r largest singular values)."""
    A, B = compress.low_rank_factors(W, r)
    return A @ B


def _rank_cases(rng):
    # a matrix with a sharp spectrum: the answer is far from W but well defined
    U, _ = np.linalg.qr(_normal(rng, 12, 6))
    V, _ = np.linalg.qr(_normal(rng, 8, 6))
    sharp = U @ np.diag([10.0, 5.0, 2.0, 1.0, 0.5, 0.1]) @ V.T
    return [
        Case("random matrices", (_normal(rng, 10, 6), 2)),
        Case("random matrices", (_normal(rng, 5, 9), 3)),
        Case("a known spectrum", (sharp, 3)),
        Case("rank 1", (_normal(rng, 7, 7), 1)),
        Case("full rank (nothing dropped)", (_normal(rng, 4, 6), 4)),
    ]


# ---------------------------------------------------------------- classic slips, named in hints
# A hint predicate recomputes what a known slip returns on the failing case and compares it
# with what the learner returned for that output: a hint names a slip only when the numbers
# are exactly the slip's (relative 1e-9), never on a guess (a NaN output gets the grader's
# own NaN message before any hint). The slips are
# module-level functions with the exercise's signature (the grader imports the predicates).
# Scaling W's columns instead of its rows in fold_batchnorm_before has no hint: on a
# non-square W it raises a broadcasting error, which check() already shows.

def _is_slip(slip, case, name, got, names):
    """True when `got` is what `slip` returns for output `name` (one of `names`) here."""
    with np.errstate(all="ignore"):
        try:
            out = slip(*[np.copy(a) if isinstance(a, np.ndarray) else a for a in case.args],
                       **dict(case.kwargs))
        except (ValueError, IndexError):          # the slip cannot even run on this case
            return False
    if len(names) > 1:
        out = out[names.index(name)]
    want = np.asarray(out, dtype=np.float64)
    got = np.asarray(got, dtype=np.float64)
    return want.shape == got.shape and bool(np.allclose(got, want, rtol=1e-9, atol=0.0))


# -- prune_by_magnitude

def _prune(W, n_pruned, key):
    mask = np.ones(W.size, dtype=W.dtype)
    mask[np.argsort(key(W), axis=None, kind="stable")[:n_pruned]] = 0.0
    mask = mask.reshape(W.shape)
    return W * mask, mask


def _prune_by_value(W, sparsity):
    return _prune(W, round(sparsity * W.size), lambda w: w)


def _prune_with_floor(W, sparsity):
    return _prune(W, int(sparsity * W.size), np.abs)


def _prune_the_largest(W, sparsity):
    return _prune(W, round(sparsity * W.size), lambda w: -np.abs(w))


def _prune_the_kept_fraction(W, sparsity):
    return _prune(W, round((1 - sparsity) * W.size), np.abs)


def hint_prune_by_value(case, name, expected, got):
    return _is_slip(_prune_by_value, case, name, got, ("W_pruned", "mask"))


def hint_prune_with_floor(case, name, expected, got):
    return _is_slip(_prune_with_floor, case, name, got, ("W_pruned", "mask"))


def hint_prune_the_largest(case, name, expected, got):
    return _is_slip(_prune_the_largest, case, name, got, ("W_pruned", "mask"))


def hint_prune_the_kept_fraction(case, name, expected, got):
    return _is_slip(_prune_the_kept_fraction, case, name, got, ("W_pruned", "mask"))


PRUNE_HINTS = (
    ("you pruned the smallest VALUES (the most negative weights); rank by the magnitude |w|",
     hint_prune_by_value),
    ("int() rounds the count down; the number pruned is round(sparsity * W.size)",
     hint_prune_with_floor),
    ("you pruned the LARGEST |w|; magnitude pruning removes the smallest", hint_prune_the_largest),
    ("sparsity is the fraction PRUNED, not the fraction kept", hint_prune_the_kept_fraction),
)


# -- kmeans_step

def _kmeans_step_with(values, centroids, side="left", empty=None):
    midpoints = (centroids[:-1] + centroids[1:]) / 2
    assign = np.searchsorted(midpoints, values, side=side)
    k = centroids.size
    counts = np.bincount(assign, minlength=k)
    sums = np.bincount(assign, weights=values, minlength=k)
    return np.where(counts > 0, sums / np.maximum(counts, 1),
                    centroids if empty is None else empty)


def _kmeans_ties_up(values, centroids):
    return _kmeans_step_with(values, centroids, side="right")


def _kmeans_empty_to_zero(values, centroids):
    return _kmeans_step_with(values, centroids, empty=0.0)


def hint_kmeans_ties_up(case, name, expected, got):
    return _is_slip(_kmeans_ties_up, case, name, got, ("centroids",))


def hint_kmeans_empty_cluster(case, name, expected, got):
    return _is_slip(_kmeans_empty_to_zero, case, name, got, ("centroids",))


KMEANS_HINTS = (
    (("a value exactly halfway between two centroids joined the UPPER one; it joins the lower "
     "(np.searchsorted(midpoints, values, side='left'))"), hint_kmeans_ties_up),
    ("a centroid that no value joins became 0; it stays where it is", hint_kmeans_empty_cluster),
)


# -- huffman_code_lengths

def _shannon_lengths(counts):
    p = counts / counts.sum()
    with np.errstate(divide="ignore"):
        return np.where(p > 0, np.ceil(-np.log2(np.where(p > 0, p, 1.0))), 0)


def _absent_symbols_coded(counts):
    return compress.huffman_code_lengths(np.where(counts > 0, counts, 1e-300))


def hint_shannon_lengths(case, name, expected, got):
    return _is_slip(_shannon_lengths, case, name, got, ("lengths",))


def hint_absent_symbols_coded(case, name, expected, got):
    return (np.any(case.args[0] == 0)
            and _is_slip(_absent_symbols_coded, case, name, got, ("lengths",)))


HUFFMAN_HINTS = (
    (("those are Shannon's lengths ceil(-log2 p), which can be longer than needed; Huffman's come "
     "from merging the two least frequent nodes"), hint_shannon_lengths),
    (("a symbol with count 0 never occurs and gets no codeword: its length is 0, and it takes "
     "part in no merge"), hint_absent_symbols_coded),
)


# -- fold_batchnorm_before

def _fold_shift_not_through_w(gamma, beta, running_mean, running_var, W, b, eps=1e-5):
    s = gamma / np.sqrt(running_var + eps)
    return s[:, None] * W, b + np.sum(beta - running_mean * s)


def _fold_without_eps(gamma, beta, running_mean, running_var, W, b, eps=1e-5):
    return fold_batchnorm_before(gamma, beta, running_mean, running_var, W, b, eps=0.0)


def hint_fold_shift_not_through_w(case, name, expected, got):
    return name == "b" and _is_slip(_fold_shift_not_through_w, case, name, got, ("W", "b"))


def hint_fold_without_eps(case, name, expected, got):
    return _is_slip(_fold_without_eps, case, name, got, ("W", "b"))


FOLD_HINTS = (
    (("the shift beta - running_mean * s is added BEFORE the linear layer, so it goes through W: "
     "(beta - running_mean * s) @ W"), hint_fold_shift_not_through_w),
    ("eps is missing: s = gamma / sqrt(running_var + eps)", hint_fold_without_eps),
)


# -- sparse_storage_bits

def _storage(mask, bits, index_bits, start=-1, fillers_of=lambda g, m: (g - 1) // m,
             code_fillers=False, codebook=True):
    pos = np.flatnonzero(np.asarray(mask).ravel() != 0)
    m = 2 ** index_bits - 1
    gaps = np.diff(np.concatenate([[start], pos]))
    f = int(np.sum(fillers_of(np.maximum(gaps, 1), m)))
    n = pos.size
    return (bits * (n + f if code_fillers else n) + index_bits * (n + f)
            + (32 * 2 ** bits if codebook else 0))


def _storage_no_fillers(mask, bits, index_bits):
    return _storage(mask, bits, index_bits, fillers_of=lambda g, m: 0 * g)


def _storage_gap_floor(mask, bits, index_bits):
    return _storage(mask, bits, index_bits, fillers_of=lambda g, m: g // m)


def _storage_from_zero(mask, bits, index_bits):
    return _storage(mask, bits, index_bits, start=0)


def _storage_coded_fillers(mask, bits, index_bits):
    return _storage(mask, bits, index_bits, code_fillers=True)


def _storage_no_codebook(mask, bits, index_bits):
    return _storage(mask, bits, index_bits, codebook=False)


def hint_storage_no_fillers(case, name, expected, got):
    return _is_slip(_storage_no_fillers, case, name, got, ("bits",))


def hint_storage_gap_floor(case, name, expected, got):
    return _is_slip(_storage_gap_floor, case, name, got, ("bits",))


def hint_storage_from_zero(case, name, expected, got):
    return _is_slip(_storage_from_zero, case, name, got, ("bits",))


def hint_storage_coded_fillers(case, name, expected, got):
    return _is_slip(_storage_coded_fillers, case, name, got, ("bits",))


def hint_storage_no_codebook(case, name, expected, got):
    return _is_slip(_storage_no_codebook, case, name, got, ("bits",))


STORAGE_HINTS = (
    ("no fillers counted: a gap longer than M = 2**index_bits - 1 needs filler index symbols",
     hint_storage_no_fillers),
    ("a gap d needs (d - 1) // M fillers, not d // M: a gap of exactly M fits in one index",
     hint_storage_gap_floor),
    ("the first gap is counted from position -1 (a weight at position 0 has gap 1), not from 0",
     hint_storage_from_zero),
    ("a filler carries no code: count bits per KEPT weight, index_bits per index symbol",
     hint_storage_coded_fillers),
    ("the codebook is missing: 2**bits values of 32 bits each", hint_storage_no_codebook),
)


# -- best_rank_r

def _rank_smallest(W, r):
    U, s, Vt = np.linalg.svd(W, full_matrices=False)
    return (U[:, -r:] * s[-r:]) @ Vt[-r:]


def _rank_without_s(W, r):
    U, _, Vt = np.linalg.svd(W, full_matrices=False)
    return U[:, :r] @ Vt[:r]


def hint_rank_smallest(case, name, expected, got):
    return _is_slip(_rank_smallest, case, name, got, ("W_r",))


def hint_rank_without_s(case, name, expected, got):
    return _is_slip(_rank_without_s, case, name, got, ("W_r",))


RANK_HINTS = (
    (("you kept the SMALLEST singular values; np.linalg.svd returns them in decreasing order, so "
     "keep the first r"), hint_rank_smallest),
    ("the singular values are missing: W_r = U_r diag(s_r) V_r^T, not U_r V_r^T",
     hint_rank_without_s),
)


# ---------------------------------------------------------------- the registry entries

EXERCISES = [
    register(Exercise(PREFIX + "prune_by_magnitude", "prune_by_magnitude", _prune_cases,
                      prune_by_magnitude, ("W_pruned", "mask"), hints=PRUNE_HINTS)),
    register(Exercise(PREFIX + "kmeans_step", "kmeans_step", _kmeans_cases, kmeans_step,
                      ("centroids",), hints=KMEANS_HINTS)),
    register(Exercise(PREFIX + "huffman_code_lengths", "huffman_code_lengths",
                      _huffman_cases, huffman_code_lengths, ("lengths",), hints=HUFFMAN_HINTS)),
    register(Exercise(PREFIX + "fold_batchnorm_before", "fold_batchnorm_before",
                      _fold_before_cases, fold_batchnorm_before, ("W", "b"), hints=FOLD_HINTS)),
    register(Exercise(PREFIX + "sparse_storage_bits", "sparse_storage_bits",
                      _storage_cases, sparse_storage_bits, ("bits",), hints=STORAGE_HINTS)),
    register(Exercise(PREFIX + "best_rank_r", "best_rank_r", _rank_cases, best_rank_r,
                      ("W_r",), tolerance=1e-6, hints=RANK_HINTS)),
]
