"""dlcore.compress: pruning masks, quantisation, Huffman coding, sizes, low rank, BN folding.

Every test checks a number that a wrong implementation would get wrong: Huffman lengths of
a textbook histogram, k-means on a set whose clusters are known, an exact pruned count,
masks surviving optimiser steps, Eckart-Young's error, folded BN against the original.
"""
import numpy as np
import pytest

from dlcore import compress as C
from dlcore import nn
from dlcore.grading.exercises import batchnorm as bn_exercises
from dlcore.losses import CrossEntropyLoss
from dlcore.optim import SGD, Adam
from dlcore.train import fit

# ---------------------------------------------------------------- pruning


def test_magnitude_masks_remove_exactly_the_smallest():
    w = np.array([[0.3, -0.1, 2.0], [-0.05, 1.0, -0.7]], dtype=np.float32)
    (mask,) = C.magnitude_masks([w], 0.5)
    assert mask.dtype == np.float32 and mask.shape == w.shape
    np.testing.assert_array_equal(mask, [[0, 0, 1], [0, 1, 1]])


@pytest.mark.parametrize("sparsity", [0.0, 0.3, 0.9, 0.97, 1.0])
def test_pruned_fraction_is_exact_per_layer(sparsity):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((64, 33)), rng.standard_normal((33, 10))]
    masks = C.magnitude_masks(arrays, sparsity)
    for a, m in zip(arrays, masks):
        assert int(a.size - m.sum()) == round(sparsity * a.size)
        if 0 < m.sum() < m.size:  # every kept |w| >= every pruned |w|
            assert np.abs(a[m == 1]).min() >= np.abs(a[m == 0]).max()


def test_ties_do_not_change_the_count():
    w = np.ones(10)
    (mask,) = C.magnitude_masks([w], 0.35)
    assert mask.sum() == 10 - round(3.5)  # Python rounds half to even: 4 pruned


def test_global_scope_uses_one_threshold():
    small = np.full((4, 4), 0.01)
    large = np.linspace(1, 2, 16).reshape(4, 4)
    m_small, m_large = C.magnitude_masks([small, large], 0.5, scope="global")
    assert m_small.sum() == 0 and m_large.sum() == 16      # all 16 pruned from the small one
    m_small, m_large = C.magnitude_masks([small, large], 0.5, scope="layer")
    assert m_small.sum() == 8 and m_large.sum() == 8


def _mlp(rng=0):
    gen = np.random.default_rng(rng)
    return nn.Sequential(nn.Linear(6, 16, rng=gen), nn.ReLU(), nn.Linear(16, 3, rng=gen))


@pytest.mark.parametrize("make_opt", [
    lambda ps: SGD(ps, lr=0.1, momentum=0.9, weight_decay=1e-3),
    lambda ps: Adam(ps, lr=1e-2),
])
def test_masks_stay_applied_through_fine_tuning(make_opt):
    model = _mlp()
    pruner = C.Pruner(model, 0.75)
    assert pruner.sparsity == pytest.approx(0.75)
    zeros_before = [p.data == 0 for p in pruner.params]
    rng = np.random.default_rng(1)
    X = rng.standard_normal((40, 6)).astype(np.float32)
    y = rng.integers(0, 3, 40)
    opt = make_opt(model.parameters())
    # one manual step without the hook: momentum/Adam really do move pruned weights
    loss = CrossEntropyLoss()
    for _ in range(2):
        loss(model(X), y)
        opt.zero_grad()
        model.backward(loss.backward())
        opt.step()
    assert any(np.any(p.data[z] != 0) for p, z in zip(pruner.params, zeros_before))
    pruner.apply()
    fit(model, loss, opt, (X, y), epochs=3, batch_size=8, callbacks=[pruner],
        after_backward=pruner, progress=False, rng=0)
    for p, z in zip(pruner.params, zeros_before):
        assert np.all(p.data[z] == 0)
        assert np.all(p.grad[z] == 0)   # the after_backward hook zeroed their gradients
    assert model[0].b.data.any()        # biases are not pruned


def test_iterative_pruning_only_grows():
    model = _mlp()
    pruner = C.Pruner(model, 0.5)
    first = [m.copy() for m in pruner.masks]
    pruner.prune(0.8)
    for old, new in zip(first, pruner.masks):
        assert np.all(new <= old)
    assert pruner.sparsity == pytest.approx(0.8, abs=1 / 96)


def test_pruner_rejects_bad_sparsity():
    with pytest.raises(ValueError, match="sparsity"):
        C.Pruner(_mlp(), 1.5)


def test_pruner_refuses_a_lower_sparsity_instead_of_reviving_pruned_weights():
    model = _mlp()
    pruner = C.Pruner(model, 0.9)
    zeros = [int((m.W.data == 0).sum()) for m in model if isinstance(m, nn.Linear)]
    with pytest.raises(ValueError, match=r"Pruner.prune: sparsity can only grow; the masks "
                                         r"remove 0.9 already, asked for 0.5"):
        pruner.prune(0.5)
    assert pruner.sparsity == pytest.approx(0.9, abs=1 / 96)      # masks unchanged
    assert [int((m.W.data == 0).sum()) for m in model if isinstance(m, nn.Linear)] == zeros
    pruner.prune(0.9)                                             # the same sparsity: fine


# ---------------------------------------------------------------- quantisation


def test_uniform_levels_and_error_bound():
    x = np.linspace(-1, 3, 1001)
    cb, codes = C.uniform_quantize(x, 2)
    np.testing.assert_allclose(cb, [-1, 1 / 3, 5 / 3, 3])
    err = np.abs(C.dequantize(cb, codes) - x).max()
    assert err <= 4 / 6 + 1e-12 and err > 0.66


def test_kmeans_on_a_known_1d_set():
    x = np.array([0.0, 0.2, 0.4, 5.0, 5.2, 9.0, 9.4, 9.8])
    # 2 clusters, linear init at 0 and 9.8: split at 4.9 -> {0, .2, .4} and {5, ..., 9.8},
    # means 0.2 and 38.4 / 5 = 7.68; the new split at 3.94 assigns the same: converged
    cb, codes = C.kmeans_quantize(x, 1)
    np.testing.assert_allclose(cb, [0.2, 7.68], rtol=1e-12)
    np.testing.assert_array_equal(codes, [0, 0, 0, 1, 1, 1, 1, 1])


def test_kmeans_lloyd_steps_by_hand():
    x = np.array([0.0, 1.0, 2.0, 6.0, 7.0, 8.0, 20.0, 21.0])
    # linear init for 4 clusters (2 bits): 0, 7, 14, 21 -> {0,1,2}, {6,7,8}, {}, {20,21}
    cb, _ = C.kmeans_quantize(x, 2, iters=1)
    np.testing.assert_allclose(cb, [1.0, 7.0, 14.0, 20.5])      # the empty cluster stays
    cb, codes = C.kmeans_quantize(x, 2)
    np.testing.assert_allclose(cb, [1.0, 7.0, 14.0, 20.5])
    np.testing.assert_array_equal(codes, [0, 0, 0, 1, 1, 1, 3, 3])
    cb0, codes0 = C.kmeans_quantize(x, 2, iters=0)
    cbu, codesu = C.uniform_quantize(x, 2)
    np.testing.assert_array_equal(cb0, cbu)
    np.testing.assert_array_equal(codes0, codesu)


def test_kmeans_beats_uniform_on_bell_shaped_weights():
    w = np.random.default_rng(0).standard_normal(4000)
    for bits in (2, 3, 4):
        mse = {}
        for name, (cb, codes) in {"uniform": C.uniform_quantize(w, bits),
                                  "kmeans": C.kmeans_quantize(w, bits)}.items():
            mse[name] = np.mean((C.dequantize(cb, codes) - w) ** 2)
        assert mse["kmeans"] < 0.6 * mse["uniform"]


def test_kmeans_random_init_is_seeded_and_mask_keeps_zeros():
    w = np.random.default_rng(0).standard_normal((20, 20))
    w[w ** 2 < 0.3] = 0.0
    a = C.kmeans_quantize(w, 3, mask=w != 0, init="random", rng=5)
    b = C.kmeans_quantize(w, 3, mask=w != 0, init="random", rng=5)
    np.testing.assert_array_equal(a[0], b[0])
    assert np.all(a[1][w == 0] == -1) and np.all(a[1][w != 0] >= 0)
    assert np.all(C.dequantize(*a)[w == 0] == 0)


def test_weight_sharing_fine_tuning_is_a_centroid_step():
    model = _mlp()
    C.Pruner(model, 0.5)
    sharing = C.WeightSharing(model, bits=2)
    W = model[0].W
    assert len(np.unique(W.data[W.data != 0])) <= 4
    codes, cb = sharing.codes[0], sharing.codebooks[0].copy()
    rng = np.random.default_rng(3)
    g = rng.standard_normal(W.data.shape).astype(np.float32)
    W.grad[...] = g
    W.data -= 0.1 * g                       # a plain SGD step on every weight...
    sharing.on_step_end()                   # ...then re-tie: centroid -= lr * mean grad
    for k in range(4):
        sel = codes == k
        if sel.any():
            assert sharing.codebooks[0][k] == pytest.approx(cb[k] - 0.1 * g[sel].mean(),
                                                            abs=1e-6)
    assert np.all(W.data[codes == -1] == 0)


# ---------------------------------------------------------------- Huffman


def test_huffman_lengths_of_a_textbook_histogram():
    # Cormen et al., Introduction to Algorithms, sec. 16.3: a:45 b:13 c:12 d:16 e:9 f:5
    counts = [45, 13, 12, 16, 9, 5]
    np.testing.assert_array_equal(C.huffman_code_lengths(counts), [1, 3, 3, 3, 4, 4])
    assert C.huffman_bits(counts) == 224


def test_huffman_dyadic_matches_entropy_and_special_cases():
    p = np.array([8, 4, 2, 1, 1])                 # probabilities 1/2, 1/4, 1/8, 1/16, 1/16
    np.testing.assert_array_equal(C.huffman_code_lengths(p), [1, 2, 3, 4, 4])
    np.testing.assert_array_equal(C.huffman_code_lengths([0, 7, 0]), [0, 1, 0])
    np.testing.assert_array_equal(C.huffman_code_lengths([3, 0, 3]), [1, 0, 1])
    np.testing.assert_array_equal(C.huffman_code_lengths([5, 5, 5, 5]), [2, 2, 2, 2])


@pytest.mark.parametrize("seed", range(5))
def test_huffman_is_prefix_free_kraft_tight_and_within_entropy_plus_one(seed):
    rng = np.random.default_rng(seed)
    counts = rng.integers(0, 200, size=rng.integers(2, 40))
    counts[0] = max(counts[0], 1)
    counts[-1] = max(counts[-1], 1)
    lengths = C.huffman_code_lengths(counts)
    used = counts > 0
    assert np.all((lengths > 0) == used)
    assert np.sum(2.0 ** -lengths[used]) == pytest.approx(1.0)   # a full binary tree
    codes = [c for c in C.canonical_codes(lengths) if c]
    assert [len(c) for c in C.canonical_codes(lengths)] == list(lengths)
    for a in codes:
        assert not any(b != a and b.startswith(a) for b in codes)
    p = counts[used] / counts.sum()
    entropy = -np.sum(p * np.log2(p))
    mean_len = C.huffman_bits(counts) / counts.sum()
    assert entropy - 1e-12 <= mean_len < entropy + 1


def test_canonical_codes_reject_impossible_lengths():
    with pytest.raises(ValueError, match="Kraft"):
        C.canonical_codes([1, 1, 2])


# ---------------------------------------------------------------- sizes


def test_relative_index_symbols_with_fillers():
    mask = np.zeros(23)
    mask[[2, 21, 22]] = 1           # gaps 3, 19, 1; 19 = 7 + 7 + 5 with 3-bit indices
    np.testing.assert_array_equal(C.relative_index_symbols(mask, 3), [2, 1, 0, 1, 0, 1, 0, 0])


def test_layer_size_each_stage():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((100, 50))
    assert C.layer_size(w).total == 32 * 5000
    (mask,) = C.magnitude_masks([w], 0.9)
    wp = w * mask
    s = C.layer_size(wp, index_bits=5)
    n_fill = C.relative_index_symbols(mask, 5)[0]
    assert s.entries == 500 and s.values == 32 * 500 and s.indices == 5 * (500 + n_fill)
    _, codes = C.kmeans_quantize(wp, 4, mask=mask)
    q = C.layer_size(wp, codes=codes, bits=4, index_bits=5)
    assert q.values == 4 * 500 and q.codebook == 32 * 16 and q.tables == 0
    h = C.layer_size(wp, codes=codes, bits=4, index_bits=5, huffman=True)
    assert h.values == C.huffman_bits(np.bincount(codes[codes >= 0], minlength=16))
    assert h.values < q.values and h.tables == 8 * (16 + 32)


def test_model_size_counts_biases_dense():
    model = _mlp()
    total, sizes = C.model_size(model)
    assert total == 32 * sum(p.data.size for p in model.parameters())
    C.Pruner(model, 0.5)
    sharing = C.WeightSharing(model, bits=3)
    total, sizes = C.model_size(model, sharing, index_bits=4, huffman=True)
    assert sizes["0.b"].total == 32 * 16 and sizes["0.W"].codebook == 32 * 8
    assert total == sum(s.total for s in sizes.values())


# ---------------------------------------------------------------- low rank


def test_low_rank_error_is_the_tail_singular_values():
    rng = np.random.default_rng(0)
    W = rng.standard_normal((40, 25))
    s = np.linalg.svd(W, compute_uv=False)
    for r in (1, 5, 24, 25):
        A, B = C.low_rank_factors(W, r)
        assert A.shape == (40, r) and B.shape == (r, 25)
        assert np.linalg.norm(W - A @ B) == pytest.approx(np.sqrt(np.sum(s[r:] ** 2)),
                                                          abs=1e-10)
        if r < 25:
            assert np.linalg.norm(W - A @ B, 2) == pytest.approx(s[r])


def test_low_rank_linear_matches_factors():
    layer = nn.Linear(20, 12, rng=0, dtype=np.float64)
    layer.b.data[...] = np.arange(12.0)
    small = C.low_rank_linear(layer, 4)
    x = np.random.default_rng(1).standard_normal((5, 20))
    A, B = C.low_rank_factors(layer.W.data, 4)
    np.testing.assert_allclose(small(x), x @ A @ B + layer.b.data, rtol=1e-12)
    assert sum(p.data.size for p in small.parameters()) == 4 * (20 + 12) + 12
    with pytest.raises(ValueError, match="at most"):
        C.low_rank_factors(layer.W.data, 13)


# ---------------------------------------------------------------- folding batch norm


def test_fold_batchnorm_matches_eval_model_and_chapter7_algebra():
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(8, 16, rng=1), nn.BatchNorm1d(16), nn.ReLU(),
                          nn.Linear(16, 4, rng=2))
    bn = model[1]
    bn.gamma.data[...] = rng.uniform(-2, 2, 16)
    bn.beta.data[...] = rng.standard_normal(16)
    for _ in range(20):                     # real running statistics
        model(rng.normal(1.5, 3.0, (32, 8)).astype(np.float32))
    model.eval()
    x = rng.normal(1.5, 3.0, (64, 8)).astype(np.float32)
    folded = C.fold_batchnorm(model)
    assert len(folded) == 3 and not any(isinstance(m, nn.BatchNorm1d) for m in folded)
    assert np.max(np.abs(folded(x) - model(x))) < 1e-5
    args = (model[0].W.data.astype(np.float64), model[0].b.data.astype(np.float64),
            *(a.astype(np.float64) for a in (bn.gamma.data, bn.beta.data, bn.running_mean,
                                              bn.running_var)))
    for mine, ref in zip(C.fold_batchnorm_arrays(*args), bn_exercises.fold_batchnorm(*args)):
        np.testing.assert_allclose(mine, ref, rtol=1e-14)
    assert model[0] is not folded[0] and model[1] is bn    # the original is untouched


def test_fold_batchnorm_shares_no_layer_with_the_original():
    model = nn.Sequential(nn.Linear(4, 3, rng=0), nn.BatchNorm1d(3), nn.ReLU(), nn.Dropout(0.5),
                          nn.Linear(3, 2, rng=1))
    last = model[4].W.data.copy()
    folded = C.fold_batchnorm(model)                   # model stays in training mode
    C.Pruner(folded, 0.5)                              # prunes the folded copy in place
    np.testing.assert_array_equal(model[4].W.data, last)
    assert model[3].training and not folded[3].training
    assert all(a is not b for a in model for b in folded)
