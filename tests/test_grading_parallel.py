"""Chapter 13 exercises: each reference passes and agrees with hand values and with
dlcore.parallel; the classic wrong answers (a plain mean of shard means, an all-gather
that starts one chunk off, an all-reduce where a reduce-scatter was asked, the last chunk
made the long one, a stale base as well as a stale gradient, the wrong sign in the
characteristic polynomial, FLOPs without the factor 2, bytes without the weights, a ring
of K-1 rounds, a crossover counted in bytes) fail, and each slip that has a hint of its own
gets that hint, no other."""
import math

import numpy as np
import pytest
from conftest import hint_lines, run

from dlcore.grading import list_exercises
from dlcore.grading.exercises import parallel as par

CHAPTER13 = [
    "parallel.allreduce_crossover",
    "parallel.delayed_spectral_radius",
    "parallel.linear_intensity",
    "parallel.ring_chunk_schedule",
    "parallel.ring_reduce_scatter",
    "parallel.shard_mean_gradient",
    "parallel.stale_sgd",
]



def failed(result, group):
    return any(f"[{group}]" in line and line.startswith("✘") for line in result.lines)


def test_chapter13_is_registered():
    assert list_exercises("parallel.") == CHAPTER13




def test_references_agree_with_hand_values():
    # shards of 1 and 3 rows with mean gradients 1 and 4: the batch mean is (1 + 12) / 4
    assert par.shard_mean_gradient(np.array([[1.0], [4.0]]), np.array([1, 3]))[0] == 3.25
    assert par.ring_chunk_schedule(3).tolist() == [[0, 1, 2], [2, 0, 1], [1, 2, 0], [0, 1, 2]]
    # after reduce-scatter rank r holds the full sum of chunk r + 1 (N=3, K=3: one value each)
    state = par.ring_reduce_scatter(np.array([[1.0, 2, 3], [10, 20, 30], [100, 200, 300]]))
    assert [state[r, (r + 1) % 3] for r in range(3)] == [222.0, 333.0, 111.0]
    # tau = 1, lam = 1, lr = 0.5: 1, 0.5, 0, -0.25
    assert par.stale_sgd(np.array([1.0]), np.array([1.0]), 0.5, 3, 1)[:, 0].tolist() == \
        [1.0, 0.5, 0.0, -0.25]
    assert par.delayed_spectral_radius(0.3, 0) == pytest.approx(0.7)
    assert par.delayed_spectral_radius(2.5, 0) == pytest.approx(1.5)
    assert par.delayed_spectral_radius(0.25, 1) == pytest.approx(0.5, abs=1e-7)  # (z - 1/2)^2
    for tau in (1, 2, 5):       # on the boundary a = 2 sin(pi / (2(2 tau + 1))): radius 1
        crit = 2 * math.sin(math.pi / (2 * (2 * tau + 1)))
        assert par.delayed_spectral_radius(crit, tau) == pytest.approx(1.0, abs=1e-9)
        assert par.delayed_spectral_radius(0.9 * crit, tau) < 1 < \
            par.delayed_spectral_radius(1.1 * crit, tau)
    flops, moved, intensity = par.linear_intensity(1, 1000, 1000)
    assert (flops, moved) == (2e6, 4 * (1000 + 1e6 + 1000))
    assert intensity == pytest.approx(0.5, rel=0.01)         # matrix-vector: ~1/2 FLOP/byte


def test_plain_mean_of_shard_means_fails_only_for_unequal_shards():
    result = run("parallel.shard_mean_gradient", lambda g, s: np.mean(g, axis=0))
    assert not result and failed(result, "unequal shards")
    assert not failed(result, "equal shards")
    assert hint_lines(result, prefix=False) == [par.HINTS["shard_mean_gradient"][0][0]]


def test_sum_of_shard_sums_fails_with_its_hint():
    result = run("parallel.shard_mean_gradient", lambda g, s: np.asarray(s, float) @ g)
    assert not result and failed(result, "equal shards")
    assert set(hint_lines(result, prefix=False)) == {par.HINTS["shard_mean_gradient"][1][0]}


def test_all_gather_starting_one_chunk_off_fails():
    def wrong(k):
        r = np.arange(k)
        rows = [(r - s) % k for s in range(k - 1)] * 2
        return np.array(rows, dtype=int)

    result = run("parallel.ring_chunk_schedule", wrong)
    assert not result and failed(result, "three ranks")
    assert set(hint_lines(result, prefix=False)) == {par.HINTS["ring_chunk_schedule"][0][0]}


def test_all_reduce_instead_of_reduce_scatter_fails():
    def wrong(buffers):
        return np.tile(buffers.sum(axis=0), (len(buffers), 1))

    result = run("parallel.ring_reduce_scatter", wrong)
    assert not result and failed(result, "N divisible by K")
    assert set(hint_lines(result, prefix=False)) == {par.HINTS["ring_reduce_scatter"][0][0]}


def test_long_last_chunk_fails_when_n_is_not_divisible():
    def wrong(buffers):
        k, n = buffers.shape
        bounds = [i * (n // k) for i in range(k)] + [n]          # the LAST chunk is the long one
        data = buffers.astype(float).copy()
        for s in range(k - 1):
            sent = [data[r, bounds[(r - s) % k]:bounds[(r - s) % k + 1]].copy() for r in range(k)]
            for r in range(k):
                c = (r - 1 - s) % k
                data[r, bounds[c]:bounds[c + 1]] += sent[(r - 1) % k]
        return data

    result = run("parallel.ring_reduce_scatter", wrong)
    assert not result and failed(result, "N not divisible by K")
    assert not failed(result, "N divisible by K")
    assert hint_lines(result, prefix=False) == [par.HINTS["ring_reduce_scatter"][1][0]]


def test_stale_base_as_well_as_stale_gradient_fails():
    def wrong(lam, theta0, lr, steps, tau):
        path = [np.asarray(theta0, float)]
        for t in range(steps):
            old = path[max(t - tau, 0)]
            path.append(old - lr * lam * old)
        return np.array(path)

    result = run("parallel.stale_sgd", wrong)
    assert not result and failed(result, "stale gradients")
    assert not failed(result, "no staleness")
    assert hint_lines(result, prefix=False) == [par.HINTS["stale_sgd"][0][0]]


def test_staleness_off_by_one_fails_with_its_hint():
    def wrong(lam, theta0, lr, steps, tau):             # the gradient of theta_{t - tau - 1}
        path = [np.asarray(theta0, float)]
        for t in range(steps):
            path.append(path[t] - lr * lam * path[max(t - tau - 1, 0)])
        return np.array(path)

    result = run("parallel.stale_sgd", wrong)
    assert not result and failed(result, "no staleness") and failed(result, "stale gradients")
    assert set(hint_lines(result, prefix=False)) == {par.HINTS["stale_sgd"][1][0]}


def test_wrong_sign_in_characteristic_polynomial_fails():
    def wrong(a, tau):
        coeffs = np.zeros(tau + 2)
        coeffs[0], coeffs[1] = 1.0, -1.0
        coeffs[-1] += -a
        return float(np.max(np.abs(np.roots(coeffs))))

    result = run("parallel.delayed_spectral_radius", wrong)
    assert not result and failed(result, "delay")
    assert set(hint_lines(result, prefix=False)) == {par.HINTS["delayed_spectral_radius"][0][0]}


def test_flops_without_the_factor_two_and_bytes_without_weights_fail():
    def no_two(b, n_in, n_out, bpv=4):
        flops, moved = b * n_in * n_out, (b * n_in + n_in * n_out + b * n_out) * bpv
        return float(flops), float(moved), flops / moved

    def no_weights(b, n_in, n_out, bpv=4):
        flops, moved = 2 * b * n_in * n_out, (b * n_in + b * n_out) * bpv
        return float(flops), float(moved), flops / moved

    for wrong in (no_two, no_weights):
        result = run("parallel.linear_intensity", wrong)
        assert not result and failed(result, "a batch")
    assert set(hint_lines(result, prefix=False)) == {par.HINTS["linear_intensity"][0][0]}


def test_in_place_reduce_scatter_passes_since_no_rank_sends_the_chunk_it_receives():
    # at step s rank r sends chunk (r - s) and adds into chunk (r - s - 1): different chunks,
    # so updating the ranks one after another, without copying the messages first, is right
    def in_place(buffers):
        k, n = buffers.shape
        chunks = np.array_split(np.arange(n), k)
        data = buffers.astype(float).copy()
        for s in range(k - 1):
            for r in range(k):
                c = chunks[(r - 1 - s) % k]
                data[r, c] += data[(r - 1) % k, c]
        return data

    assert run("parallel.ring_reduce_scatter", in_place)


def test_allreduce_crossover_by_hand_and_its_classic_slips_fail():
    # k=4: ring 6 rounds of n/4 values, doubling 2 rounds of n: 6a + 1.5 n b/B = 2a + 2 n b/B
    # -> n* = 8 a B / b; with a = 1 s, B = 1 byte/s, b = 1 byte: 8
    assert par.allreduce_crossover(4, 1.0, 1.0, 1) == pytest.approx(8.0, rel=1e-12)
    assert par.allreduce_crossover(8, 5e-6, 1e10) == pytest.approx(110_000, rel=1e-12)

    def ring_k_minus_1_rounds(k, latency, bandwidth, b=4):
        L = math.log2(k)
        return latency * bandwidth * ((k - 1) - L) / (b * (L - (k - 1) / k))

    def in_bytes(k, latency, bandwidth, b=4):       # n* in bytes, not values
        L = math.log2(k)
        return latency * bandwidth * (2 * (k - 1) - L) / (L - 2 * (k - 1) / k)

    for wrong, (hint, _) in zip((ring_k_minus_1_rounds, in_bytes), par.HINTS["allreduce_crossover"]):
        result = run("parallel.allreduce_crossover", wrong)
        assert not result and failed(result, "four ranks")
        assert set(hint_lines(result, prefix=False)) == {hint}
