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


# ---------------------------------------------------------------- hints: the classic slips
#
# Each predicate recomputes one slip from the case's own inputs and holds only when the
# learner's output is exactly that wrong answer (to 1e-9), so a hint never guesses. They are
# module-level functions: the instructor's grader imports them by name.

def _same(got, wrong):
    wrong = np.asarray(wrong, dtype=float)
    return got.shape == wrong.shape and np.allclose(got, wrong, rtol=1e-9, atol=1e-12)


def _plain_mean(case, name, expected, got):
    return _same(got, np.mean(case.args[0], axis=0))


def _sum_not_mean(case, name, expected, got):
    grads, sizes = case.args
    return _same(got, np.asarray(sizes, dtype=float) @ grads)


def _gather_from_own_chunk(case, name, expected, got):
    k = case.args[0]
    r = np.arange(k)
    return _same(got, [(r - s) % k for s in range(k - 1)] * 2)


def _whole_allreduce(case, name, expected, got):
    buffers = np.asarray(case.args[0], dtype=float)
    return _same(got, np.tile(buffers.sum(axis=0), (len(buffers), 1)))


def _reduce_scatter_with(buffers, bounds):
    """The reduce-scatter of `buffers` (K, N) with chunk c = [bounds[c], bounds[c + 1])."""
    k = len(buffers)
    data = np.array(buffers, dtype=float)
    for s in range(k - 1):
        sent = [data[r, bounds[(r - s) % k]:bounds[(r - s) % k + 1]].copy() for r in range(k)]
        for r in range(k):
            c = (r - 1 - s) % k
            data[r, bounds[c]:bounds[c + 1]] += sent[(r - 1) % k]
    return data


def _long_last_chunk(case, name, expected, got):
    buffers = np.asarray(case.args[0], dtype=float)
    k, n = buffers.shape
    if n % k == 0:
        return False
    return _same(got, _reduce_scatter_with(buffers, [i * (n // k) for i in range(k)] + [n]))


def _stale_path(lam, theta0, lr, steps, tau, stale_base=False):
    path = [np.asarray(theta0, dtype=float)]
    for t in range(steps):
        old = path[max(t - tau, 0)]
        path.append((old if stale_base else path[t]) - lr * np.asarray(lam) * old)
    return np.array(path)


def _stale_base(case, name, expected, got):
    return case.args[4] > 0 and _same(got, _stale_path(*case.args, stale_base=True))


def _staleness_off_by_one(case, name, expected, got):
    lam, theta0, lr, steps, tau = case.args
    return any(_same(got, _stale_path(lam, theta0, lr, steps, t))
               for t in (tau - 1, tau + 1) if t >= 0)


def _minus_a(case, name, expected, got):
    a, tau = case.args
    coeffs = np.zeros(tau + 2)
    coeffs[0] += 1.0
    coeffs[1] -= 1.0
    coeffs[-1] -= a
    return _same(got, np.max(np.abs(np.roots(coeffs))))


def _crossover_with(k, latency, bandwidth, bytes_per_value, ring_rounds):
    log_k = np.log2(k)
    slope_gap = (log_k - ring_rounds / k) * bytes_per_value / bandwidth
    return (ring_rounds - log_k) * latency / slope_gap


def _ring_k_minus_1_rounds(case, name, expected, got):
    k, latency, bandwidth, *rest = case.args
    return _same(got, _crossover_with(k, latency, bandwidth, rest[0] if rest else 4, k - 1))


def _crossover_in_bytes(case, name, expected, got):
    k, latency, bandwidth, *rest = case.args
    b = rest[0] if rest else 4
    return b != 1 and _same(got, b * _crossover_with(k, latency, bandwidth, b, 2 * (k - 1)))


def _bytes_without_weights(case, name, expected, got):
    batch, n_in, n_out, *rest = case.args
    return name == "bytes" and _same(got, (batch * n_in + batch * n_out) * (rest[0] if rest else 4))


HINTS = {
    "shard_mean_gradient": (
        (("this is the plain average of the shard means: it weights every shard alike, which is "
          "right only when the shards are equal; weight g_k by n_k / B, B the sum of the n_k"),
         _plain_mean),
        (("this is sum_k n_k g_k, the gradient of the SUMMED loss: the loss is a mean over the "
          "batch, so divide by B, the sum of the n_k"), _sum_not_mean)),
    "ring_chunk_schedule": (
        (("the all-gather repeats the reduce-scatter's rows: it starts from the chunk each rank "
          "holds complete after the reduce-scatter, (r + 1) mod K, not from its own chunk r"),
         _gather_from_own_chunk),),
    "ring_reduce_scatter": (
        (("every rank holds the whole sum: that is the all-reduce, after the all-gather too; "
          "return the state after the K - 1 reduce-scatter steps, where rank r holds only chunk "
          "(r + 1) mod K complete"), _whole_allreduce),
        (("the chunks are cut with the LAST one longer: np.array_split makes the FIRST N mod K "
          "chunks one value longer"), _long_last_chunk)),
    "stale_sgd": (
        (("the step starts from the stale weights: only the gradient is stale, "
          "theta_{t+1} = theta_t - lr * grad(theta_{t - tau}), from the current theta_t"),
         _stale_base),
        (("the staleness is off by one: the gradient of step t uses theta_{t - tau} (tau = 0 is "
          "plain gradient descent), with theta_s = theta_0 for s < 0"), _staleness_off_by_one)),
    "delayed_spectral_radius": (
        (("the sign of a: x_t = z^t in x_{t+1} = x_t - a x_{t - tau} gives "
          "z^(tau + 1) - z^tau + a = 0, with +a"), _minus_a),),
    "allreduce_crossover": (
        (("the ring here has K - 1 rounds: an all-reduce is a reduce-scatter AND an all-gather, "
          "2(K - 1) rounds of N/K values each"), _ring_k_minus_1_rounds),
        (("this is n* in bytes: the answer is a number of values, so divide by bytes_per_value"),
         _crossover_in_bytes)),
    "linear_intensity": (
        (("the bytes leave out the weights: W (n_in x n_out values) is read too, and with a "
          "small batch it is most of the traffic"), _bytes_without_weights),),
}


# ---------------------------------------------------------------- the registry entries

EXERCISES = [
    register(Exercise(PREFIX + "shard_mean_gradient", "shard_mean_gradient", _shard_cases,
                      shard_mean_gradient, ("gradient",),
                      hints=HINTS["shard_mean_gradient"])),
    register(Exercise(PREFIX + "ring_chunk_schedule", "ring_chunk_schedule", _schedule_cases,
                      ring_chunk_schedule, ("schedule",),
                      hints=HINTS["ring_chunk_schedule"])),
    register(Exercise(PREFIX + "ring_reduce_scatter", "ring_reduce_scatter",
                      _reduce_scatter_cases, ring_reduce_scatter, ("buffers",),
                      hints=HINTS["ring_reduce_scatter"])),
    register(Exercise(PREFIX + "stale_sgd", "stale_sgd", _stale_cases, stale_sgd, ("path",),
                      hints=HINTS["stale_sgd"])),
    register(Exercise(PREFIX + "delayed_spectral_radius", "delayed_spectral_radius",
                      _radius_cases, delayed_spectral_radius, ("radius",), tolerance=1e-6,
                      hints=HINTS["delayed_spectral_radius"])),
    register(Exercise(PREFIX + "allreduce_crossover", "allreduce_crossover", _crossover_cases,
                      allreduce_crossover, ("n_star",), tolerance=1e-8,
                      hints=HINTS["allreduce_crossover"])),
    register(Exercise(PREFIX + "linear_intensity", "linear_intensity", _intensity_cases,
                      linear_intensity, ("flops", "bytes", "intensity"),
                      hints=HINTS["linear_intensity"])),
]
