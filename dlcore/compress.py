"""Model compression: pruning, weight sharing, Huffman coding, low rank, BN folding.

The three stages of Deep Compression (Han et al., 2016), plus two inference-time rewrites:

    pruner = Pruner(model, sparsity=0.9)          # zero the 90% smallest |w| of each W
    fit(model, loss, opt, train, after_backward=pruner, callbacks=[pruner])  # masks kept
    sharing = WeightSharing(model, bits=5)        # k-means codebook per layer (2**5 values)
    fit(model, loss, opt, train, callbacks=[sharing])  # fine-tune the shared values
    report = model_size(model, sharing, index_bits=5, huffman=True)   # size in bits

    small = fold_batchnorm(model.eval())          # Linear -> BatchNorm1d pairs become one Linear
    A, B = low_rank_factors(W, rank=8)            # W ~ A @ B, the best rank-8 approximation

Conventions. A mask is an array of the weight's shape and dtype holding 1 (kept) and 0
(pruned). A codebook is a 1-D array of 2**bits values in increasing order; codes are integer
arrays of the weight's shape that index it, with -1 at pruned positions. Sizes are in bits;
a dense float is 32 bits. Quantisation, Huffman coding and sizes run on the CPU (numpy);
masks are applied with the parameters' own array module, so they also work on CuPy.
"""
import copy
import heapq
import numbers
from dataclasses import dataclass

import numpy as np

from . import _checks
from ._random import get_rng
from .backend import get_array_module, to_numpy
from .errors import ShapeError
from .nn import BatchNorm1d, Linear, Module, Sequential
from .nn.module import as_parameter_list

__all__ = [
    "FLOAT_BITS",
    "LayerSize",
    "Pruner",
    "WeightSharing",
    "canonical_codes",
    "dequantize",
    "fold_batchnorm",
    "fold_batchnorm_arrays",
    "huffman_bits",
    "huffman_code_lengths",
    "kmeans_quantize",
    "layer_size",
    "low_rank_factors",
    "low_rank_linear",
    "magnitude_masks",
    "model_size",
    "relative_index_symbols",
    "uniform_quantize",
]

FLOAT_BITS = 32  # a dense float32 weight, and each codebook entry


# -- pruning -------------------------------------------------------------------------------


def _weights(params, where):
    """A Module gives its W's (biases and BN parameters are not pruned); else a list."""
    if isinstance(params, Module):
        from .regularization import weights_only  # regularization imports nn too

        return weights_only(params)
    return as_parameter_list(params, where, allow_empty=False)


def _fraction(sparsity, where):
    return _checks.number(sparsity, "sparsity", where, low=0.0, high=1.0)


def magnitude_masks(arrays, sparsity, scope="layer"):
    """Masks that remove the `sparsity` fraction of entries with the smallest |w|.

    arrays: list of arrays. scope="layer": each array loses round(sparsity * size) entries;
    "global": one threshold over all arrays together (round(sparsity * total) entries), so
    layers with many small weights lose more. Ties are broken by position, so the count
    is exact. Returns a list of masks (1 kept, 0 pruned), each the shape and dtype of its
    array (float arrays) or float32.
    """
    where = "magnitude_masks"
    sparsity = _fraction(sparsity, where)
    if scope not in ("layer", "global"):
        raise ValueError(f"{where}: scope must be 'layer' or 'global', got {scope!r}")
    flat = [np.abs(to_numpy(a)).ravel() for a in arrays]
    if scope == "layer":
        keep = [_keep_largest(m, m.size - round(sparsity * m.size)) for m in flat]
    else:
        allm = np.concatenate(flat)
        kept = _keep_largest(allm, allm.size - round(sparsity * allm.size))
        keep = np.split(kept, np.cumsum([m.size for m in flat])[:-1])
    masks = []
    for a, k in zip(arrays, keep, strict=True):
        dtype = a.dtype if np.dtype(a.dtype).kind == "f" else np.float32
        xp = get_array_module(a)
        masks.append(xp.asarray(k.reshape(a.shape).astype(dtype)))
    return masks


def _keep_largest(magnitudes, n_keep):
    """Boolean vector keeping exactly n_keep entries of largest magnitude (stable on ties)."""
    keep = np.zeros(magnitudes.size, dtype=bool)
    if n_keep > 0:
        order = np.argsort(-magnitudes, kind="stable")
        keep[order[:n_keep]] = True
    return keep


class Pruner:
    """Magnitude pruning whose masks stay applied while the network is fine-tuned.

    params: a Module (its weights `W`, as `regularization.weights_only`) or a list of
    Parameters. Creating a Pruner prunes at once: the `sparsity` fraction of smallest-|w|
    entries (per layer, or over all layers with scope="global") is set to 0.
    During fine-tuning an optimiser would move pruned weights again (through momentum,
    Adam's moments or weight decay even when their gradient is 0), so:

    - as a `fit` callback, `on_step_end` sets them back to 0 after every optimiser step;
    - as `fit(..., after_backward=pruner)` (or `clip=pruner`: both run after backward,
      before the step) it zeros their gradients, so momentum and Adam's moments of pruned
      weights decay to 0 instead of being fed.

        pruner = Pruner(model, 0.9)
        fit(model, loss, opt, train, after_backward=pruner, callbacks=[pruner])

    `prune(sparsity)` prunes further from the current magnitudes (iterative pruning);
    masks only ever lose entries.
    """

    def __init__(self, params, sparsity, scope="layer"):
        self.params = _weights(params, "Pruner")
        self.scope = scope
        self.masks = [get_array_module(p.data).ones_like(p.data) for p in self.params]
        self._asked = 0.0
        self.prune(sparsity)

    def prune(self, sparsity):
        """Raise the sparsity to `sparsity` (a fraction of each layer, or of all weights).

        A lower sparsity than asked before is an error: it would give pruned weights (now 0)
        a mask of 1 again, and fine-tuning would grow them back."""
        if isinstance(sparsity, numbers.Real) and sparsity < self._asked:
            raise ValueError(f"Pruner.prune: sparsity can only grow; the masks remove "
                             f"{self._asked:g} already, asked for {sparsity:g} (a new Pruner "
                             f"on the unpruned weights starts again)")
        data = [p.data * m for p, m in zip(self.params, self.masks, strict=True)]
        self.masks = magnitude_masks(data, sparsity, scope=self.scope)
        self._asked = float(sparsity)
        self.apply()
        return self

    def apply(self):
        """Set every pruned weight to 0."""
        for p, m in zip(self.params, self.masks, strict=True):
            p.data *= m

    def mask_grads(self):
        """Set the gradient of every pruned weight to 0."""
        for p, m in zip(self.params, self.masks, strict=True):
            p.grad *= m

    def __call__(self, params=None):  # fit's after_backward (or clip) hook
        self.mask_grads()

    def on_step_end(self, model=None):  # fit's callback hook: after each optimiser step
        self.apply()

    @property
    def sparsity(self):
        """Fraction of the pruned parameters' entries that the masks remove."""
        total = sum(int(m.size) for m in self.masks)
        kept = sum(float(m.sum()) for m in self.masks)
        return 1.0 - kept / total

    def __repr__(self):
        return (f"Pruner({len(self.params)} weights, sparsity {self.sparsity:.4g}, "
                f"scope={self.scope!r})")


# -- quantisation --------------------------------------------------------------------------


def _bits(bits, where):
    bits = _checks.positive_int(bits, "bits", where)
    if bits > 16:
        raise ValueError(f"{where}: bits must be at most 16 (a codebook of 2**bits values), "
                         f"got {bits}")
    return bits


def _selected(x, mask, where):
    """The entries of x to quantise (all, or those where mask != 0), as float64, and mask."""
    x = np.asarray(to_numpy(x), dtype=np.float64)
    if mask is None:
        return x.ravel(), None
    mask = np.asarray(to_numpy(mask)) != 0
    if mask.shape != x.shape:
        raise ShapeError(f"{where}: mask has shape {mask.shape} but x has shape {x.shape}")
    return x[mask], mask


def _assign(values, codebook):
    """Index of the nearest codebook entry for each value (codebook sorted increasing)."""
    midpoints = (codebook[:-1] + codebook[1:]) / 2
    return np.searchsorted(midpoints, values, side="left")


def _codes(x, mask, sel_codes):
    codes = np.full(np.shape(x), -1, dtype=np.int64)
    if mask is None:
        codes[...] = sel_codes.reshape(codes.shape)
    else:
        codes[mask] = sel_codes
    return codes


def _linear_codebook(values, bits):
    if values.size == 0:
        raise ValueError("nothing to quantise: every entry is masked out")
    return np.linspace(values.min(), values.max(), 2 ** bits)


def uniform_quantize(x, bits, mask=None):
    """Uniform quantisation to 2**bits evenly spaced levels from min(x) to max(x).

    x: array; mask: None or an array of x's shape (entries where it is 0 are not
    quantised, their code is -1). Returns (codebook (2**bits,), codes of x's shape);
    `dequantize(codebook, codes)` is the quantised array. Each value goes to its nearest
    level, so the error is at most half a step, (max - min) / (2 * (2**bits - 1)).
    """
    where = "uniform_quantize"
    bits = _bits(bits, where)
    values, mask = _selected(x, mask, where)
    codebook = _linear_codebook(values, bits)
    return codebook, _codes(x, mask, _assign(values, codebook))


def kmeans_quantize(x, bits, mask=None, iters=100, init="linear", rng=None):
    """Weight sharing: 1-D k-means with k = 2**bits clusters (Lloyd's algorithm).

    init="linear": centroids evenly spaced over [min, max] (Han et al., 2016, found it
    best: it keeps centroids for the rare large weights); "random": k distinct values of
    x drawn with `rng` (Forgy). Each iteration assigns every value to its nearest
    centroid, then moves each centroid to the mean of its values (a centroid with none
    stays). Stops when no centroid moves or after `iters` iterations; iters=0 gives
    `uniform_quantize`. Returns (codebook sorted increasing (2**bits,), codes of x's
    shape, -1 where mask is 0).
    """
    where = "kmeans_quantize"
    bits = _bits(bits, where)
    if isinstance(iters, bool) or not isinstance(iters, numbers.Integral) or iters < 0:
        raise ValueError(f"{where}: iters must be an integer >= 0, got {iters!r}")
    values, mask = _selected(x, mask, where)
    if init == "linear":
        codebook = _linear_codebook(values, bits)
    elif init == "random":
        if values.size == 0:
            raise ValueError("nothing to quantise: every entry is masked out")
        distinct = np.unique(values)
        k = min(2 ** bits, distinct.size)
        codebook = np.sort(get_rng(rng).choice(distinct, size=2 ** bits,
                                               replace=k < 2 ** bits))
    else:
        raise ValueError(f"{where}: init must be 'linear' or 'random', got {init!r}")
    # In 1-D each cluster is an interval of the sorted values, so one sort and a cumulative
    # sum give every cluster's count and sum in O(k log n) per iteration.
    ordered = np.sort(values)
    csum = np.concatenate([[0.0], np.cumsum(ordered)])
    for _ in range(iters):
        midpoints = (codebook[:-1] + codebook[1:]) / 2
        ends = np.concatenate([[0], np.searchsorted(ordered, midpoints, side="right"),
                               [ordered.size]])
        counts = np.diff(ends)
        sums = np.diff(csum[ends])
        new = np.where(counts > 0, sums / np.maximum(counts, 1), codebook)
        new.sort()
        if np.array_equal(new, codebook):
            break
        codebook = new
    return codebook, _codes(x, mask, _assign(values, codebook))


def dequantize(codebook, codes):
    """codebook[codes], with 0 where a code is -1 (a pruned weight)."""
    codebook, codes = np.asarray(codebook), np.asarray(codes)
    return np.where(codes >= 0, codebook[np.maximum(codes, 0)], 0.0)


class WeightSharing:
    """Quantise weights to a shared codebook per layer and fine-tune the shared values.

    params: a Module (its W's) or a list of Parameters. Each weight gets a k-means codebook
    of 2**bits values (linear init) over its nonzero entries (0 stays 0: pruned weights
    stay pruned) and is replaced by its quantised values. As a `fit` callback,
    `on_step_end` re-ties the weights after every optimiser step: each centroid becomes
    the mean of the weights that share it and every weight is set back to its centroid.
    With plain SGD that is exactly a step on each centroid with the mean gradient of its
    cluster (Han et al. use the sum, which only rescales the learning rate).
    """

    def __init__(self, params, bits, iters=100):
        self.params = _weights(params, "WeightSharing")
        self.bits = _bits(bits, "WeightSharing")
        self.codebooks, self.codes = [], []
        for p in self.params:
            cb, codes = kmeans_quantize(p.data, self.bits, mask=to_numpy(p.data) != 0,
                                        iters=iters)
            self.codebooks.append(cb)
            self.codes.append(codes)
        self._write()

    def _write(self):
        for p, cb, codes in zip(self.params, self.codebooks, self.codes, strict=True):
            xp = get_array_module(p.data)
            p.data[...] = xp.asarray(dequantize(cb, codes).astype(p.data.dtype))

    def on_step_end(self, model=None):
        for i, (p, codes) in enumerate(zip(self.params, self.codes, strict=True)):
            data = np.asarray(to_numpy(p.data), dtype=np.float64)
            used = codes >= 0
            k = self.codebooks[i].size
            counts = np.bincount(codes[used], minlength=k)
            sums = np.bincount(codes[used], weights=data[used], minlength=k)
            self.codebooks[i] = np.where(counts > 0, sums / np.maximum(counts, 1),
                                         self.codebooks[i])
        self._write()

    def __repr__(self):
        return f"WeightSharing({len(self.params)} weights, bits={self.bits})"


# -- Huffman coding ------------------------------------------------------------------------


def huffman_code_lengths(counts):
    """Code length in bits of each symbol of an optimal prefix code (Huffman, 1952).

    counts: 1-D array of nonnegative symbol frequencies (counts or probabilities).
    Returns an int array of the same length: 0 for symbols with count 0 (never coded),
    1 for the only symbol when one symbol occurs. Repeatedly merges the two least
    frequent nodes; each merge adds one bit to every symbol below them. Ties are broken
    by age (leaves in index order first, then merged nodes in the order they were made),
    so the result is deterministic; other tie-breaks give other lengths with the same
    total `huffman_bits`.
    """
    counts = np.asarray(to_numpy(counts), dtype=np.float64)
    if counts.ndim != 1:
        raise ShapeError(f"huffman_code_lengths: counts must be 1-D, got shape {counts.shape}")
    if np.any(~np.isfinite(counts)) or np.any(counts < 0):
        raise ValueError("huffman_code_lengths: counts must be finite and nonnegative")
    lengths = np.zeros(counts.size, dtype=np.int64)
    used = np.flatnonzero(counts > 0)
    if used.size == 1:
        lengths[used] = 1
        return lengths
    heap = [(counts[i], n, [int(i)]) for n, i in enumerate(used)]
    heapq.heapify(heap)
    age = len(heap)
    while len(heap) > 1:
        c1, _, s1 = heapq.heappop(heap)
        c2, _, s2 = heapq.heappop(heap)
        lengths[s1 + s2] += 1
        heapq.heappush(heap, (c1 + c2, age, s1 + s2))
        age += 1
    return lengths


def huffman_bits(counts):
    """Total bits to Huffman-code a message with this histogram: sum(counts * lengths)."""
    counts = np.asarray(to_numpy(counts))
    return int(np.sum(counts * huffman_code_lengths(counts)))


def canonical_codes(lengths):
    """The canonical prefix code for these lengths: a list of bit strings ('' for 0).

    Symbols are sorted by (length, index) and numbered consecutively, shifting left when
    the length grows (as DEFLATE does), so a decoder needs only the lengths. Raises
    ValueError when the lengths break Kraft's inequality sum 2**-l <= 1 (no prefix code
    has them).
    """
    lengths = [int(v) for v in np.asarray(lengths)]
    if any(v < 0 for v in lengths):
        raise ValueError("canonical_codes: lengths must be nonnegative")
    if sum(2.0 ** -v for v in lengths if v > 0) > 1 + 1e-12:
        raise ValueError("canonical_codes: the lengths break Kraft's inequality "
                         "(sum of 2**-length > 1), so no prefix code has them")
    codes = [""] * len(lengths)
    code, prev = 0, 0
    for i in sorted((i for i, v in enumerate(lengths) if v > 0), key=lambda i: (lengths[i], i)):
        code <<= lengths[i] - prev
        codes[i] = format(code, f"0{lengths[i]}b")
        code, prev = code + 1, lengths[i]
    return codes


# -- storage size --------------------------------------------------------------------------


def relative_index_symbols(mask, index_bits):
    """Histogram of the relative-index symbols of a sparse layer (Han et al.'s format).

    The nonzeros of `mask` (flattened in C order) are stored in order, each with the gap
    d >= 1 from the previous one (the first from position -1) in `index_bits` bits. Gaps
    1 .. M = 2**index_bits - 1 are stored as they are; a longer gap first emits filler
    symbols 0, each meaning "skip M positions, no weight here". Returns the counts of
    symbols 0 .. M (length 2**index_bits); counts[0] is the number of fillers.
    """
    index_bits = _checks.positive_int(index_bits, "index_bits", "relative_index_symbols")
    pos = np.flatnonzero(np.asarray(to_numpy(mask)).ravel() != 0)
    m = 2 ** index_bits - 1
    gaps = np.diff(np.concatenate([[-1], pos]))
    fillers = (gaps - 1) // m
    symbols = gaps - fillers * m
    counts = np.bincount(symbols, minlength=m + 1)
    counts[0] = int(fillers.sum())
    return counts


@dataclass(frozen=True)
class LayerSize:
    """Bits to store one weight array: values + indices + codebook + Huffman tables."""

    values: int
    indices: int
    codebook: int
    tables: int
    entries: int  # weights stored (a dense layer: all of them)

    @property
    def total(self):
        return self.values + self.indices + self.codebook + self.tables


def layer_size(weight, codes=None, bits=None, index_bits=None, huffman=False):
    """Size in bits of one weight array under each stage of Deep Compression.

    Dense (index_bits=None, codes=None): 32 bits per entry. Pruned (index_bits given): only
    the nonzeros, each with a relative index of index_bits bits (plus fillers, see
    `relative_index_symbols`). Quantised (codes and bits given, codes -1 at pruned
    positions): each stored value is a bits-bit code, plus a codebook of 2**bits floats.
    huffman=True: codes and index symbols are Huffman coded from their own histograms,
    and each alphabet's code lengths are stored in 8 bits per symbol.
    """
    weight = np.asarray(to_numpy(weight))
    if codes is not None:
        codes = np.asarray(codes)
        if codes.shape != weight.shape:
            raise ShapeError(f"layer_size: codes have shape {codes.shape}, weight "
                             f"{weight.shape}")
        if bits is None:
            raise ValueError("layer_size: give bits with codes")
        present = codes >= 0
    else:
        present = weight != 0 if index_bits is not None else np.ones(weight.shape, bool)
    n = int(present.sum())
    values = indices = codebook = tables = 0
    if codes is None:
        values = FLOAT_BITS * n
    else:
        codebook = FLOAT_BITS * 2 ** bits
        if huffman:
            hist = np.bincount(codes[present], minlength=2 ** bits)
            values, tables = huffman_bits(hist), 8 * 2 ** bits
        else:
            values = bits * n
    if index_bits is not None:
        sym = relative_index_symbols(present, index_bits)
        if huffman:
            indices, tables = huffman_bits(sym), tables + 8 * sym.size
        else:
            indices = index_bits * int(sym.sum())
    return LayerSize(values, indices, codebook, tables, n)


def model_size(model, sharing=None, index_bits=None, huffman=False):
    """Total size in bits of a model's parameters and the per-parameter LayerSize.

    The weights W (those a Pruner or WeightSharing works on) are sized by `layer_size`:
    with `sharing` (a WeightSharing over them) their codes are used; with index_bits they
    are stored sparse. Every other parameter (biases, BN's gamma and beta) stays dense
    at 32 bits. Returns (total_bits, {name: LayerSize}).
    """
    from .regularization import weights_only

    weights = weights_only(model)
    codes = {}
    if sharing is not None:
        codes = {id(p): (c, sharing.bits) for p, c in zip(sharing.params, sharing.codes,
                                                          strict=True)}
    sizes = {}
    for name, p in model.named_parameters():
        if any(p is w for w in weights):
            c, b = codes.get(id(p), (None, None))
            sizes[name] = layer_size(p.data, codes=c, bits=b, index_bits=index_bits,
                                     huffman=huffman)
        else:
            sizes[name] = layer_size(p.data)
    return sum(s.total for s in sizes.values()), sizes


# -- low rank ------------------------------------------------------------------------------


def low_rank_factors(W, rank):
    """W (m, n) ~ A @ B with A (m, rank) = U_r diag(s_r), B (rank, n) = V_r^T.

    The truncated SVD, the best rank-r approximation in the Frobenius and spectral norms
    (Eckart and Young, 1936): ||W - A B||_F = sqrt(sum of the discarded s_i**2) and
    ||W - A B||_2 = s_{r+1}. Parameters: rank * (m + n) instead of m * n.
    """
    W = np.asarray(W)
    if W.ndim != 2:
        raise ShapeError(f"low_rank_factors: W must be 2-D, got shape {W.shape}")
    rank = _checks.positive_int(rank, "rank", "low_rank_factors")
    if rank > min(W.shape):
        raise ValueError(f"low_rank_factors: rank must be at most min{W.shape} = "
                         f"{min(W.shape)}, got {rank}")
    U, s, Vt = np.linalg.svd(W.astype(np.float64), full_matrices=False)
    A = (U[:, :rank] * s[:rank]).astype(W.dtype)
    return A, Vt[:rank].astype(W.dtype)


def low_rank_linear(layer, rank):
    """Replace a Linear(m, n) by Sequential(Linear(m, rank, bias=False), Linear(rank, n))
    holding the truncated SVD of its W (and its bias on the second layer)."""
    if not isinstance(layer, Linear):
        raise TypeError(f"low_rank_linear: layer must be a dlcore.nn.Linear, "
                        f"got {type(layer).__name__}")
    A, B = low_rank_factors(to_numpy(layer.W.data), rank)
    dtype = layer.W.data.dtype
    first = Linear(layer.in_features, rank, bias=False, dtype=dtype)
    second = Linear(rank, layer.out_features, bias=layer.b is not None, dtype=dtype)
    first.W.data[...] = A
    second.W.data[...] = B
    if layer.b is not None:
        second.b.data[...] = to_numpy(layer.b.data)
    return Sequential(first, second)


# -- folding batch norm --------------------------------------------------------------------


def fold_batchnorm_arrays(W, b, gamma, beta, running_mean, running_var, eps=1e-5):
    """(W2, b2) with x @ W2 + b2 == BatchNorm_eval(x @ W + b), for W (in, out).

    s = gamma / sqrt(running_var + eps) scales each output column: W2 = W * s,
    b2 = (b - running_mean) * s + beta (b = 0 for a layer without bias).
    """
    s = gamma / np.sqrt(running_var + eps)
    return W * s, (b - running_mean) * s + beta


def fold_batchnorm(model):
    """A new Sequential for inference: each Linear followed by a BatchNorm1d becomes one
    Linear (the BN's running statistics folded into it, `fold_batchnorm_arrays`); other
    layers are copied. Equal to `model` in eval mode up to rounding. The new model is in
    eval mode; `model` is not changed, then or later (pruning the new model, or putting
    it in eval mode, leaves every layer of `model` as it was)."""
    if not isinstance(model, Sequential):
        raise TypeError(f"fold_batchnorm: model must be a dlcore.nn.Sequential, "
                        f"got {type(model).__name__}")
    layers, mods, i = [], list(model), 0
    while i < len(mods):
        m = mods[i]
        nxt = mods[i + 1] if i + 1 < len(mods) else None
        if isinstance(m, Linear) and isinstance(nxt, BatchNorm1d):
            W, b = to_numpy(m.W.data).astype(np.float64), 0.0
            if m.b is not None:
                b = to_numpy(m.b.data).astype(np.float64)
            W2, b2 = fold_batchnorm_arrays(
                W, b, *(to_numpy(a).astype(np.float64) for a in
                        (nxt.gamma.data, nxt.beta.data, nxt.running_mean, nxt.running_var)),
                eps=nxt.eps)
            new = Linear(m.in_features, m.out_features, dtype=m.W.data.dtype)
            xp = get_array_module(m.W.data)
            new.W.data = xp.asarray(W2.astype(m.W.data.dtype))
            new.b.data = xp.asarray(b2.astype(m.W.data.dtype))
            layers.append(new)
            i += 2
        else:
            layers.append(copy.deepcopy(m))
            i += 1
    return Sequential(*layers).eval()
