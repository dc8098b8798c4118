"""dlcore.parallel: shards, ring all-reduce schedule, parameter server, and real MPI runs.

The MPI tests start `mpiexec -n 2` (the mpich wheel's, next to the interpreter) as a
subprocess with a timeout; mpich's hydra launcher runs as root too, as CI does.
"""
import itertools
import json
import math
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from dlcore import nn
from dlcore.losses import CrossEntropyLoss
from dlcore.nn import Parameter
from dlcore.parallel import (
    ParameterServer,
    async_sgd,
    chunk_bounds,
    flatten_gradients,
    parameter_server_traffic,
    ring_allreduce_simulated,
    ring_schedule,
    ring_traffic,
    run_demo,
    run_mpi,
    shard_bounds,
    simulate_async_workers,
    sync_sgd,
    unflatten_into_gradients,
)

MPI_TIMEOUT = 120


# -- pieces that need no MPI ----------------------------------------------------------------

@pytest.mark.parametrize("n,size", [(10, 2), (11, 2), (257, 3), (5, 5), (7, 4)])
def test_shards_cover_the_batch_once_and_differ_by_at_most_one(n, size):
    bounds = [shard_bounds(n, r, size) for r in range(size)]
    assert bounds[0][0] == 0 and bounds[-1][1] == n
    assert all(a[1] == b[0] for a, b in itertools.pairwise(bounds))
    lengths = [hi - lo for lo, hi in bounds]
    assert max(lengths) - min(lengths) <= 1 and sorted(lengths, reverse=True) == lengths


def test_weighted_shard_gradients_sum_to_the_large_batch_gradient(rng):
    """The identity DataParallel relies on: sum_k (n_k/N) * mean-gradient on shard k equals
    the mean gradient on the whole batch, with unequal shards (float64)."""
    X = rng.standard_normal((23, 5))
    y = rng.integers(0, 3, 23)

    def grads(xb, yb):
        model = nn.Sequential(nn.Linear(5, 4, rng=0), nn.Tanh(), nn.Linear(4, 3, rng=1)).double()
        loss = CrossEntropyLoss()
        loss(model(xb), yb)
        model.backward(loss.backward())
        return flatten_gradients(model.parameters())

    total = sum((hi - lo) / 23 * grads(X[lo:hi], y[lo:hi])
                for lo, hi in (shard_bounds(23, r, 3) for r in range(3)))
    full = grads(X, y)
    np.testing.assert_allclose(total, full, rtol=1e-12, atol=1e-15)
    # an unweighted mean of the shard means is NOT the batch mean when shards differ
    plain = sum(grads(X[lo:hi], y[lo:hi]) for lo, hi in
                (shard_bounds(23, r, 3) for r in range(3))) / 3
    assert np.max(np.abs(plain - full)) > 1e-6


def test_flatten_and_unflatten_round_trip(rng):
    params = [Parameter(rng.standard_normal(s)) for s in ((3, 2), (2,), (4, 1, 2))]
    for p in params:
        p.grad[...] = rng.standard_normal(p.shape)
    flat = flatten_gradients(params)
    assert flat.shape == (6 + 2 + 8,)
    np.testing.assert_array_equal(flat[6:8], params[1].grad)
    unflatten_into_gradients(2 * flat, params)
    np.testing.assert_array_equal(params[2].grad.ravel(), 2 * flat[8:])
    with pytest.raises(ValueError, match="16 values for parameters holding|holding"):
        unflatten_into_gradients(np.zeros(20), params)


def test_ring_schedule_by_hand_for_three_ranks():
    # reduce-scatter: rank r sends r, then r-1; all-gather: r+1, then r
    assert ring_schedule(3).tolist() == [[0, 1, 2], [2, 0, 1], [1, 2, 0], [0, 1, 2]]
    assert ring_schedule(2).tolist() == [[0, 1], [1, 0]]
    assert chunk_bounds(10, 3).tolist() == [0, 4, 7, 10]


@pytest.mark.parametrize("k,n", [(2, 8), (3, 10), (4, 3), (5, 101), (1, 4)])
def test_simulated_ring_gives_every_rank_the_sum(k, n, rng):
    inputs = [rng.standard_normal(n) for _ in range(k)]
    outputs = ring_allreduce_simulated(inputs)
    expected = np.sum(inputs, axis=0)
    for out in outputs:
        np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-14)
    for a in inputs[1:]:            # inputs untouched
        assert not np.allclose(a, expected)


def test_simulated_ring_each_rank_sends_each_chunk_twice_in_total():
    sched = ring_schedule(5)
    half = sched[:4]
    # in reduce-scatter every rank sends 4 different chunks, never the one it ends up owning
    for r in range(5):
        assert len(set(half[:, r])) == 4 and (r + 1) % 5 not in half[:, r]
    # all-gather starts by sending the chunk the rank owns
    assert sched[4].tolist() == [(r + 1) % 5 for r in range(5)]


def test_traffic_ring_against_parameter_server():
    assert ring_traffic(1000, 2) == 1000
    assert ring_traffic(1000, 4) == 1500
    assert ring_traffic(1000, 1000) == pytest.approx(1998)     # tends to 2N, never beyond
    assert parameter_server_traffic(1000, 4) == {"worker": 2000, "server": 8000}


def _quadratic_grad(lam):
    def g(theta, t):
        return lam * theta
    return g


def test_async_sgd_staleness_zero_is_plain_sgd_and_matches_by_hand():
    g = _quadratic_grad(np.array([1.0, 3.0]))
    sync = sync_sgd(g, np.array([1.0, 1.0]), 0.1, 5)
    plain = async_sgd(g, np.array([1.0, 1.0]), 0.1, 5, staleness=0)
    np.testing.assert_allclose(plain, sync, rtol=0, atol=0)
    np.testing.assert_allclose(plain[5], [0.9 ** 5, 0.7 ** 5], rtol=1e-14)
    # tau = 2: theta_1 = theta_2 = theta_0 - lr*g(theta_0) chain, then g uses theta_{t-2}
    stale = async_sgd(_quadratic_grad(1.0), np.array([1.0]), 0.5, 4, staleness=2)[:, 0]
    assert stale.tolist() == [1.0, 0.5, 0.0, -0.5, -0.75]


def test_delayed_gradient_descent_threshold_on_a_quadratic():
    """GD with delay tau on curvature lam is stable iff lr*lam < 2 sin(pi / (2(2 tau + 1)))."""
    for tau in (0, 1, 3, 6):
        crit = 2 * math.sin(math.pi / (2 * (2 * tau + 1)))
        for factor, stable in ((0.95, True), (1.05, False)):
            path = async_sgd(_quadratic_grad(1.0), np.array([1.0]), factor * crit, 1500,
                             staleness=tau)
            assert (abs(path[-1, 0]) < 1e-3) == stable, (tau, factor)


def test_round_robin_workers_are_exactly_k_minus_one_stale():
    rng = np.random.default_rng(3)
    A = rng.standard_normal((20, 4))
    b = rng.standard_normal(20)

    def g(theta, t):            # minibatch t: rows 2t, 2t+1 (mod 20) of a least-squares problem
        rows = [(2 * t) % 20, (2 * t + 1) % 20]
        return A[rows].T @ (A[rows] @ theta - b[rows]) / 2

    for k in (1, 2, 4):
        path, stale = simulate_async_workers(g, np.zeros(4), 0.05, 30, workers=k)
        assert stale[k:] == [k - 1] * (30 - k) and stale[:k] == list(range(k))
        np.testing.assert_array_equal(path, async_sgd(g, np.zeros(4), 0.05, 30, staleness=k - 1))


def test_sync_server_averages_the_workers_gradients():
    calls = []

    def g(theta, t):
        calls.append(t)
        return np.array([float(t)])

    path = sync_sgd(g, np.array([0.0]), 1.0, 2, workers=3)
    assert calls == [0, 1, 2, 3, 4, 5]
    assert path[:, 0].tolist() == [0.0, -1.0, -5.0]       # -(0+1+2)/3, then -(3+4+5)/3


def test_parameter_server_records_staleness():
    server = ParameterServer(np.array([1.0]), lr=0.5)
    _, v = server.pull()
    server.push(np.array([1.0]), v)
    server.push(np.array([1.0]), v)
    assert server.staleness == [0, 1] and server.theta.tolist() == [0.0]


def test_bad_arguments_are_named():
    g = _quadratic_grad(1.0)
    with pytest.raises(ValueError, match="staleness must be an integer >= 0"):
        async_sgd(g, np.array([1.0]), 0.1, 3, staleness=-1)
    with pytest.raises(ValueError, match="workers must be a positive integer"):
        sync_sgd(g, np.array([1.0]), 0.1, 3, workers=0)


# -- real MPI runs ----------------------------------------------------------------------------

def test_mpi_ring_allreduce_and_data_parallel_on_two_ranks(tmp_path):
    """Two real MPI ranks: the ring over Sendrecv equals Allreduce on an odd length; a
    DataParallel step with BatchNorm-free MLP equals one-process large-batch SGD; and
    map_trials returns every trial, in order, from both ranks."""
    script = tmp_path / "job.py"
    script.write_text(textwrap.dedent("""
        import json, sys
        import numpy as np
        from mpi4py import MPI
        from dlcore import nn
        from dlcore.losses import CrossEntropyLoss
        from dlcore.optim import Adam
        from dlcore.parallel import DataParallel, map_trials, ring_allreduce

        comm = MPI.COMM_WORLD
        rank = comm.Get_rank()
        x = np.random.default_rng(rank).standard_normal(1001)
        ring = ring_allreduce(x, comm)
        ref = np.empty_like(x)
        comm.Allreduce(x, ref)

        data = np.random.default_rng(7)
        X, y = data.standard_normal((3, 37, 6)), data.integers(0, 4, (3, 37))
        def build():
            return nn.Sequential(nn.Linear(6, 8, rng=1), nn.ReLU(), nn.Linear(8, 4, rng=2)).double()
        model = build()
        dp = DataParallel(model, CrossEntropyLoss(), Adam(model.parameters(), lr=0.01), comm)
        losses = [dp.step(X[s], y[s]) for s in range(3)]
        trials = map_trials(lambda c: c["v"] ** 2, [{"v": v} for v in range(5)], comm)
        out = {"ring_err": float(np.max(np.abs(ring - ref))), "ref_sum": float(ref.sum()),
               "losses": losses, "W": [p.data.tolist() for p in model.parameters()],
               "trials": [(t["result"], t["rank"]) for t in trials]}
        with open(sys.argv[1] + f".{rank}", "w") as f:
            json.dump(out, f)
    """))
    out = tmp_path / "out.json"
    run_mpi(2, [script, out], timeout=MPI_TIMEOUT)
    r0, r1 = (json.loads((tmp_path / f"out.json.{r}").read_text()) for r in (0, 1))
    expected_sum = sum(np.random.default_rng(r).standard_normal(1001).sum() for r in (0, 1))
    assert r0["ref_sum"] == pytest.approx(expected_sum, rel=1e-12)
    assert r0["ring_err"] < 1e-12 and r1["ring_err"] < 1e-12
    assert r0["W"] == r1["W"] and r0["losses"] == r1["losses"]   # ranks stay identical
    assert r0["trials"] == [[0, 0], [1, 1], [4, 0], [9, 1], [16, 0]]
    # the same three Adam steps on one process with the whole 37-row batches
    data = np.random.default_rng(7)
    X, y = data.standard_normal((3, 37, 6)), data.integers(0, 4, (3, 37))
    from dlcore.optim import Adam
    model = nn.Sequential(nn.Linear(6, 8, rng=1), nn.ReLU(), nn.Linear(8, 4, rng=2)).double()
    loss, opt = CrossEntropyLoss(), Adam(model.parameters(), lr=0.01)
    losses = []
    for s in range(3):
        losses.append(loss(model(X[s]), y[s]))
        opt.zero_grad()
        model.backward(loss.backward())
        opt.step()
    np.testing.assert_allclose(r0["losses"], losses, rtol=1e-12)
    for got, p in zip(r0["W"], model.parameters()):
        np.testing.assert_allclose(np.array(got), p.data, rtol=1e-10, atol=1e-12)


def test_demo_on_two_ranks_matches_the_large_batch_step():
    r = run_demo(2, timeout=MPI_TIMEOUT, parts="equality,ring", ring_size=10_001)
    assert r["ranks"] == 2
    assert r["equality"]["float64"]["elementwise"] < 1e-6
    assert r["equality"]["float32"]["normwise"] < 1e-6
    assert r["ring"]["max_relative_difference"] < 1e-12


def test_mpi_failure_is_reported_with_its_stderr(tmp_path):
    script = tmp_path / "fail.py"
    script.write_text("raise SystemExit('rank gave up')\n")
    with pytest.raises(RuntimeError, match="rank gave up"):
        run_mpi(2, [script], timeout=MPI_TIMEOUT)


def test_mpi_job_that_hangs_is_stopped_by_the_timeout(tmp_path):
    script = tmp_path / "hang.py"
    script.write_text("import time\ntime.sleep(60)\n")
    with pytest.raises(subprocess.TimeoutExpired):
        run_mpi(1, [script, "--marker-7f3a"], timeout=3)
    # the rank went with mpiexec: no process still runs the script
    from pathlib import Path

    def running():
        found = []
        for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
            try:
                if b"marker-7f3a" in cmdline.read_bytes():
                    found.append(cmdline.parent.name)
            except OSError:            # the process ended while we looked
                pass
        return found

    assert running() == []


def test_mpiexec_is_the_one_the_mpich_wheel_put_beside_this_interpreter():
    from pathlib import Path

    from dlcore.parallel import mpiexec_path
    assert mpiexec_path() == str(Path(sys.executable).parent / "mpiexec")


def test_allreduce_seconds_by_hand_and_the_crossover_between_ring_and_doubling():
    from dlcore.parallel import allreduce_seconds

    # ring, k=4: 6 rounds of (1 s + 25 values * 4 bytes / 100 byte/s) = 6 * 2 s
    assert allreduce_seconds(100, 4, 1.0, 100.0) == pytest.approx(12.0)
    # doubling, k=4: 2 rounds of (1 s + 400 bytes / 100 byte/s) = 2 * 5 s
    assert allreduce_seconds(100, 4, 1.0, 100.0, "recursive_doubling") == pytest.approx(10.0)
    # k=8, 5 us, 10 GB/s: equal at n* = a*B*(2(k-1) - log2 k) / (4 (log2 k - 2(k-1)/k)) = 110,000
    ring, dbl = (allreduce_seconds(110_000, 8, 5e-6, 1e10, a) for a in ("ring", "recursive_doubling"))
    assert ring == pytest.approx(dbl, rel=1e-12)
    assert allreduce_seconds(10_000, 8, 5e-6, 1e10) > allreduce_seconds(10_000, 8, 5e-6, 1e10, "recursive_doubling")
    assert allreduce_seconds(10**7, 8, 5e-6, 1e10) < allreduce_seconds(10**7, 8, 5e-6, 1e10, "recursive_doubling")
    assert allreduce_seconds(123, 1, 1.0, 1.0) == 0.0
    with pytest.raises(ValueError, match="power of 2"):
        allreduce_seconds(100, 6, 1.0, 1.0, "recursive_doubling")
    with pytest.raises(ValueError, match="'ring' or 'recursive_doubling'"):
        allreduce_seconds(100, 4, 1.0, 1.0, "tree")
