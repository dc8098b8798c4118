"""Ring all-reduce (Patarasuk and Yuan, 2009; popularised for deep learning by Baidu in
2017 and by Horovod, Sergeev and Del Balso, 2018), over MPI point-to-point messages.

K ranks stand in a ring; rank r sends only to r+1 and receives only from r-1. The
buffer is cut into K chunks. Two phases of K-1 steps each:

- reduce-scatter: at step s rank r sends chunk (r - s) mod K and adds the chunk
  (r - s - 1) mod K it receives into its own copy. After K-1 steps rank r holds the
  complete sum of chunk (r + 1) mod K.
- all-gather: at step s rank r sends chunk (r + 1 - s) mod K, complete by then, and
  overwrites chunk (r - s) mod K with what it receives.

Each rank sends 2(K-1) chunks of N/K values: 2(K-1)/K * N in all, less than 2N whatever
K is, and every link carries the same load. A parameter server instead receives K
gradients of N values and sends K copies of the weights: K*N each way through one link.

`ring_allreduce` runs this with MPI Sendrecv; `ring_allreduce_simulated` runs the same
schedule on K arrays in one process, so the schedule can be read and tested without MPI.
"""
import numpy as np

__all__ = [
    "allreduce_seconds",
    "chunk_bounds",
    "parameter_server_traffic",
    "ring_allreduce",
    "ring_allreduce_simulated",
    "ring_schedule",
    "ring_traffic",
]


def chunk_bounds(n, k):
    """Start offsets of k chunks of an n-value buffer, plus n at the end: (k+1,) ints
    (numpy.array_split's sizes: the first n % k chunks one longer)."""
    base, extra = divmod(n, k)
    sizes = [base + (1 if i < extra else 0) for i in range(k)]
    return np.concatenate([[0], np.cumsum(sizes)]).astype(int)


def ring_schedule(k):
    """Chunk index each rank SENDS at each step: int array (2(k-1), k).

    Row s < k-1 is reduce-scatter step s: rank r sends (r - s) mod k. Row k-1+s is
    all-gather step s: rank r sends (r + 1 - s) mod k. Rank r receives, at every step,
    what rank r-1 sends.
    """
    r = np.arange(k)
    rows = [(r - s) % k for s in range(k - 1)] + [(r + 1 - s) % k for s in range(k - 1)]
    return np.array(rows, dtype=int).reshape(2 * (k - 1), k)


def ring_allreduce_simulated(buffers, steps=None):
    """Sum of K equal-shaped arrays, computed by the ring schedule in one process.

    buffers: list of K arrays (rank r's input). Returns a list of K arrays: every rank's
    result after both phases (all equal to the sum, up to the order of additions).
    steps: stop after this many of the 2(K-1) steps (steps=K-1: the state after the
    reduce-scatter, where rank r holds the complete chunk (r + 1) mod K).
    """
    k = len(buffers)
    shape = np.shape(buffers[0])
    data = [np.array(b, dtype=np.result_type(b), copy=True).ravel() for b in buffers]
    if k == 1:
        return [data[0].reshape(shape)]
    bounds = chunk_bounds(data[0].size, k)
    schedule = ring_schedule(k)
    for step, sends in enumerate(schedule[:steps]):
        reduce = step < k - 1
        # every rank sends at once: take the messages before anyone changes a chunk
        messages = [data[r][bounds[c]:bounds[c + 1]].copy() for r, c in enumerate(sends)]
        for r in range(k):
            src = (r - 1) % k
            c = sends[src]
            if reduce:
                data[r][bounds[c]:bounds[c + 1]] += messages[src]
            else:
                data[r][bounds[c]:bounds[c + 1]] = messages[src]
    return [d.reshape(shape) for d in data]


def ring_allreduce(x, comm):
    """Sum of `x` over every rank of `comm`, by the ring schedule over Sendrecv.

    x: a numpy array (any shape); returns a new array of its shape and dtype, the same on
    every rank up to the order of additions. Compare with comm.Allreduce.
    """
    k, rank = comm.Get_size(), comm.Get_rank()
    data = np.array(x, copy=True).ravel()
    if k == 1:
        return data.reshape(np.shape(x))
    bounds = chunk_bounds(data.size, k)
    schedule = ring_schedule(k)
    right, left = (rank + 1) % k, (rank - 1) % k
    incoming = np.empty(bounds[1] - bounds[0], dtype=data.dtype)  # the longest chunk
    for step, sends in enumerate(schedule):
        c_out, c_in = sends[rank], sends[left]
        out = data[bounds[c_out]:bounds[c_out + 1]]
        buf = incoming[:bounds[c_in + 1] - bounds[c_in]]
        comm.Sendrecv(out, dest=right, sendtag=step, recvbuf=buf, source=left, recvtag=step)
        if step < k - 1:
            data[bounds[c_in]:bounds[c_in + 1]] += buf
        else:
            data[bounds[c_in]:bounds[c_in + 1]] = buf
    return data.reshape(np.shape(x))


def ring_traffic(n, k):
    """Values each rank sends (and receives) in a ring all-reduce of n values: 2(k-1)/k * n."""
    return 2 * (k - 1) / k * n


def allreduce_seconds(n, k, latency, bandwidth, algorithm="ring", bytes_per_value=4):
    """Time of an all-reduce of n values over k ranks in the latency-bandwidth model, where
    sending m bytes between two ranks takes latency + m / bandwidth (seconds, byte/s) and
    every rank sends at once. The additions are not counted.

    - "ring": 2(k-1) rounds, each sending a chunk of n/k values:
      2(k-1) * (latency + n/k * bytes / bandwidth).
    - "recursive_doubling" (k a power of 2): log2(k) rounds, in round j rank r swaps its
      whole buffer with rank r XOR 2^j and adds: log2(k) * (latency + n * bytes / bandwidth).
    The ring sends less data, recursive doubling pays fewer latencies: short messages favour
    the second, long ones the first (MPICH chooses by message size; Thakur et al., 2005).
    """
    if k == 1:
        return 0.0
    if algorithm == "ring":
        return 2 * (k - 1) * (latency + n / k * bytes_per_value / bandwidth)
    if algorithm == "recursive_doubling":
        rounds = int(k).bit_length() - 1
        if 2 ** rounds != k:
            raise ValueError(f"allreduce_seconds: recursive doubling needs a power of 2 "
                             f"ranks, got k={k}")
        return rounds * (latency + n * bytes_per_value / bandwidth)
    raise ValueError(f"allreduce_seconds: algorithm must be 'ring' or 'recursive_doubling', "
                     f"got {algorithm!r}")


def parameter_server_traffic(n, k):
    """Values through each link when k workers push n-value gradients to one server and
    pull n weights back: {"worker": 2n (n up, n down), "server": 2kn (kn in, kn out)}."""
    return {"worker": 2 * n, "server": 2 * k * n}
