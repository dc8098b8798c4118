"""Chapter 13, GPUs and parallel training: exercises and cases.

Data-parallel gradient averaging with unequal shards, the ring all-reduce chunk schedule
and its reduce-scatter phase, SGD with tau-stale gradients, the stability of delayed
gradient descent on a quadratic, the message size where a ring all-reduce overtakes
recursive doubling, and the arithmetic intensity of a linear layer. The
references call dlcore.parallel's own functions.
"""
import numpy as np

from ...parallel import (
    allreduce_seconds,
    async_sgd,
    matmul_cost,
    ring_allreduce_simulated,
    ring_schedule,
)
from ..registry import Case, Exercise, register

PREFIX = "parallel."


# ---------------------------------------------------------------- shard_mean_gradient

def shard_mean_gradient(shard_grads, shard_sizes):
    """shard_grads (K, P): the mean gradient over each shard's rows; shard_sizes (K,) ints
    -> (P,) the mean gradient over the whole batch: sum_k (n_k / N) g_k."""
    sizes = np.asarray(shard_sizes, dtype=float)
    return (sizes / sizes.sum()) @ np.asarray(shard_grads, dtype=float)


def _shard_cases(rng):
    return [
        Case("unequal shards", (rng.standard_normal((3, 5)), np.array([5, 4, 4]))),
        Case("unequal shards", (rng.standard_normal((4, 3)), np.array([1, 7, 2, 10]))),
        Case("equal shards", (rng.standard_normal((2, 6)), np.array([8, 8]))),
        Case("one rank", (rng.standard_normal((1, 4)), np.array([13]))),
    ]


# ---------------------------------------------------------------- ring_chunk_schedule

def ring_chunk_schedule(k):
    """k ranks in a ring -> int array (2(k-1), k): the chunk rank r sends at step s."""
    return ring_schedule(k)


def _schedule_cases(rng):
    return [Case("two ranks", (2,)), Case("three ranks", (3,)),
            Case("more ranks", (int(rng.integers(4, 6)),)), Case("more ranks", (7,))]


# ---------------------------------------------------------------- ring_reduce_scatter

def ring_reduce_scatter(buffers):
    """buffers (K, N): row r is rank r's vector -> (K, N): every rank's vector after the
    K - 1 reduce-scatter steps (chunks as np.array_split(range(N), K))."""
    buffers = np.asarray(buffers, dtype=float)
    k = len(buffers)
    return np.array(ring_allreduce_simulated(list(buffers), steps=k - 1))


def _reduce_scatter_cases(rng):
    return [
        Case("N divisible by K", (rng.standard_normal((3, 6)),)),
        Case("N divisible by K", (rng.standard_normal((4, 8)),)),
        Case("N not divisible by K", (rng.standard_normal((3, 7)),)),
        Case("N not divisible by K", (rng.standard_normal((5, 13)),)),
        Case("two ranks", (rng.standard_normal((2, 5)),)),
    ]


# ---------------------------------------------------------------- stale_sgd

def stale_sgd(lam, theta0, lr, steps, tau):
    """SGD on f(theta) = 1/2 sum_i lam_i theta_i^2 with gradients tau steps stale:
    theta_{t+1} = theta_t - lr * lam * theta_{t - tau} (theta_s = theta_0 for s < 0).
    Returns the path, (steps + 1, d) with row 0 = theta0."""
    lam = np.asarray(lam, dtype=float)
    return async_sgd(lambda theta, t: lam * theta, np.asarray(theta0, dtype=float), lr,
                     steps, staleness=tau)


def _stale_cases(rng):
    def d3():
        return rng.uniform(0.5, 2.0, 3), rng.standard_normal(3)

    return [
        Case("no staleness", (*d3(), 0.3, 6, 0)),
        Case("stale gradients", (*d3(), 0.3, 8, 1)),
        Case("stale gradients", (*d3(), 0.2, 10, 3)),
        # lr * lam near 1 with tau = 2: the path oscillates and grows
        Case("unstable", (np.array([1.0, 2.0]), rng.standard_normal(2), 0.9, 12, 2)),
    ]


# ---------------------------------------------------------------- delayed_spectral_radius

def delayed_spectral_radius(a, tau):
    """Largest |z| over the roots of z^(tau+1) - z^tau + a = 0: the factor by which
    x_{t+1} = x_t - a x_{t-tau} (gradient descent with delay tau, a = lr * lambda) grows or
    shrinks per step in the long run. Below 1: converges."""
    coeffs = np.zeros(tau + 2)
    coeffs[0], coeffs[1], coeffs[-1] = 1.0, -1.0, a
    if tau == 0:
        coeffs = np.array([1.0, a - 1.0])
    return float(np.max(np.abs(np.roots(coeffs))))


def _radius_cases(rng):
    return [
        Case("no delay", (float(rng.uniform(0.1, 1.5)), 0)),
        Case("no delay", (2.5, 0)),
        Case("delay", (float(rng.uniform(0.1, 0.9)), 1)),
        Case("delay", (0.3, 4)),
        Case("delay", (float(rng.uniform(0.05, 0.5)), 3)),
    ]


# ---------------------------------------------------------------- allreduce_crossover

def allreduce_crossover(k, latency, bandwidth, bytes_per_value=4):
    """k ranks (a power of 2, k >= 4), latency (s) and bandwidth (byte/s) of a link -> the
    number of values n* at which a ring all-reduce and recursive doubling take equal time
    in the latency-bandwidth model; below n* recursive doubling is faster, above it the
    ring. Both times are straight lines in n, so n* = (intercept gap) / (slope gap):
    latency * bandwidth * (2(k-1) - log2 k) / (bytes * (log2 k - 2(k-1)/k))."""
    def line(algorithm, far=2.0 ** 40):     # slope from a distant point: no cancellation
        t0 = allreduce_seconds(0, k, latency, bandwidth, algorithm, bytes_per_value)
        t_far = allreduce_seconds(far, k, latency, bandwidth, algorithm, bytes_per_value)
        return t0, (t_far - t0) / far

    (a_ring, s_ring), (a_rd, s_rd) = line("ring"), line("recursive_doubling")
    return float((a_ring - a_rd) / (s_rd - s_ring))


def _crossover_cases(rng):
    return [
        Case("four ranks", (4, 1e-5, 1e10)),
        Case("more ranks", (8, float(rng.uniform(1e-6, 2e-5)), 2.5e10)),
        Case("more ranks", (int(2 ** rng.integers(4, 7)), 3e-6, float(rng.uniform(5e9, 5e10)))),
        Case("float64 values", (16, 2e-6, 1e11, 8)),
    ]


# ---------------------------------------------------------------- linear_intensity

def linear_intensity(batch, n_in, n_out, bytes_per_value=4):
    """Forward pass of a linear layer, Y = X @ W (bias ignored), X (batch, n_in),
    W (n_in, n_out) -> (flops, bytes moved, flops per byte), each operand read once and Y
    written once."""
    flops, moved = matmul_cost(batch, n_in, n_out, bytes_per_value)
    return float(flops), float(moved), flops / moved


def _intensity_cases(rng):
    return [
        Case("a batch", (128, 784, 256)),
        Case("a batch", (int(rng.integers(16, 64)), 512, 512)),
        Case("one example (matrix-vector)", (1, 1024, 1024)),
        Case("float64", (256, 300, 100, 8)),
    ]


# ---------------------------------------------------------------- the registry entries

EXERCISES = [
    register(Exercise(PREFIX + "shard_mean_gradient", "shard_mean_gradient", _shard_cases,
                      shard_mean_gradient, ("gradient",))),
    register(Exercise(PREFIX + "ring_chunk_schedule", "ring_chunk_schedule", _schedule_cases,
                      ring_chunk_schedule, ("schedule",))),
    register(Exercise(PREFIX + "ring_reduce_scatter", "ring_reduce_scatter",
                      _reduce_scatter_cases, ring_reduce_scatter, ("buffers",))),
    register(Exercise(PREFIX + "stale_sgd", "stale_sgd", _stale_cases, stale_sgd, ("path",))),
    register(Exercise(PREFIX + "delayed_spectral_radius", "delayed_spectral_radius",
                      _radius_cases, delayed_spectral_radius, ("radius",), tolerance=1e-6)),
    register(Exercise(PREFIX + "allreduce_crossover", "allreduce_crossover", _crossover_cases,
                      allreduce_crossover, ("n_star",), tolerance=1e-8)),
    register(Exercise(PREFIX + "linear_intensity", "linear_intensity", _intensity_cases,
                      linear_intensity, ("flops", "bytes", "intensity"))),
]
