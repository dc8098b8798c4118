"""The MPI demonstration of chapter 13: run it on K processes and it writes one JSON file.

    mpiexec -n 2 python -m dlcore.parallel.demo --out result.json      (or: make mpi)

What rank 0 writes (every rank computes, only rank 0 writes):

- "equality": a data-parallel SGD-with-momentum step on K ranks against the same steps
  on one process with the whole batch (rank 0 runs both), 257-row batches so the shards
  are unequal: worst relative error of the weights, float64 and float32.
- "training": an MLP trained on scikit-learn's digits with DataParallel: mean loss of
  each epoch, test accuracy, seconds per epoch.
- "timing": seconds per step of a larger MLP on a large synthetic batch, split into the
  part spent computing and the part spent in the Allreduce.
- "ring": ring_allreduce (point-to-point) against comm.Allreduce on a vector of a million
  values: largest difference, and the time of each.
- "trials": hyperparameter parallelism, a learning-rate sweep of chapter 12's digits objective
  (`dlcore.search.digits_trial`) spread over the ranks.

The same command runs across hosts with `mpiexec -n K -hosts a,b python -m ...`.
"""
import argparse
import itertools
import json
import time

import numpy as np

from .. import nn
from ..data import load_digits
from ..gradcheck import relative_error
from ..losses import CrossEntropyLoss
from ..optim import SGD
from ..search import digits_trial
from ..train import evaluate
from ._mpi import mpi
from .data_parallel import DataParallel
from .hyper import map_trials
from .ring import ring_allreduce


def mlp(sizes, seed, dtype=np.float32):
    """Linear-ReLU stack with the given layer sizes, seeded."""
    layers = []
    for i, (a, b) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(a, b, rng=seed + i))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers).to(dtype=dtype)


def equality(comm, train, dtype, steps=3, rows=257):
    """Worst relative error between K-rank data-parallel steps and one-process steps."""
    X, y = train.X.astype(dtype), train.y
    batches = [(X[s * rows:(s + 1) * rows], y[s * rows:(s + 1) * rows]) for s in range(steps)]
    model = mlp([64, 32, 10], seed=0, dtype=dtype)
    trainer = DataParallel(model, CrossEntropyLoss(),
                           SGD(model.parameters(), lr=0.1, momentum=0.9), comm)
    for xb, yb in batches:
        trainer.step(xb, yb)
    if comm.Get_rank() != 0:
        return None
    ref = mlp([64, 32, 10], seed=0, dtype=dtype)
    loss, opt = CrossEntropyLoss(), SGD(ref.parameters(), lr=0.1, momentum=0.9)
    for xb, yb in batches:
        loss(ref(xb), yb)
        opt.zero_grad()
        ref.backward_params(loss.backward())
        opt.step()
    pairs = list(zip(model.parameters(), ref.parameters()))
    return {
        "elementwise": max(relative_error(a.data, b.data) for a, b in pairs),
        "normwise": max(float(np.max(np.abs(a.data - b.data)) / np.max(np.abs(b.data)))
                        for a, b in pairs),
        "rows": rows, "steps": steps,
    }


def training(comm, train, test, epochs, batch, lr):
    model = mlp([64, 128, 10], seed=0)
    loss = CrossEntropyLoss()
    trainer = DataParallel(model, loss, SGD(model.parameters(), lr=lr, momentum=0.9), comm)
    rng = np.random.default_rng(0)   # the same shuffling on every rank
    losses, seconds = [], []
    for _ in range(epochs):
        comm.Barrier()
        start = time.perf_counter()
        steps = trainer.epoch(train.X, train.y, batch, rng=rng)
        seconds.append(time.perf_counter() - start)
        losses.append(float(np.mean(steps)))
    test_loss, test_acc = evaluate(model, loss, test.X, test.y)
    return {"epoch_loss": losses, "test_loss": test_loss, "test_acc": test_acc,
            "seconds_per_epoch": seconds, "batch": batch, "lr": lr}


def timing(comm, steps, batch, hidden, features=256):
    """Seconds per data-parallel step on a synthetic batch (median over steps)."""
    data = np.random.default_rng(1)
    X = data.standard_normal((batch, features)).astype(np.float32)
    y = data.integers(0, 10, batch)
    model = mlp([features, hidden, hidden, 10], seed=0)
    trainer = DataParallel(model, CrossEntropyLoss(), SGD(model.parameters(), lr=0.01), comm)
    trainer.step(X, y)                                   # warm-up: caches, first allocations
    trainer.seconds = {"compute": 0.0, "allreduce": 0.0}
    per_step = []
    for _ in range(steps):
        comm.Barrier()
        start = time.perf_counter()
        trainer.step(X, y)
        per_step.append(comm.allreduce(time.perf_counter() - start, op=mpi().MAX))
    n_params = sum(p.data.size for p in model.parameters())
    return {"median_step_seconds": float(np.median(per_step)),
            "step_seconds": [float(t) for t in per_step], "steps": steps, "batch": batch,
            "hidden": hidden, "features": features, "parameters": int(n_params),
            "compute_seconds": trainer.seconds["compute"] / steps,
            "allreduce_seconds": trainer.seconds["allreduce"] / steps}


def ring(comm, n, repeats=5):
    rank = comm.Get_rank()
    x = np.random.default_rng(rank).standard_normal(n)
    ours, theirs = [], []
    for _ in range(repeats):
        comm.Barrier()
        start = time.perf_counter()
        mine = ring_allreduce(x, comm)
        ours.append(time.perf_counter() - start)
        comm.Barrier()
        start = time.perf_counter()
        ref = np.empty_like(x)
        comm.Allreduce(x, ref)
        theirs.append(time.perf_counter() - start)
    err = float(np.max(np.abs(mine - ref)) / np.max(np.abs(ref)))
    worst = comm.allreduce(err, op=mpi().MAX)
    return {"n": n, "max_relative_difference": worst,
            "ring_seconds": float(np.median(ours)), "allreduce_seconds": float(np.median(theirs))}


def _trial(config):
    """One learning rate of chapter 12's digits objective (an MLP trained with `fit`)."""
    return digits_trial(config, seed=0)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None, help="JSON file rank 0 writes (else stdout)")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--time-steps", type=int, default=8)
    parser.add_argument("--time-batch", type=int, default=2048)
    parser.add_argument("--time-hidden", type=int, default=256)
    parser.add_argument("--ring-size", type=int, default=1_000_003)
    parser.add_argument("--trial-epochs", type=int, default=8)
    parser.add_argument("--parts", default="equality,training,timing,ring,trials",
                        help="comma-separated parts to run")
    args = parser.parse_args(argv)
    MPI = mpi()
    comm = MPI.COMM_WORLD
    parts = set(args.parts.split(","))
    start = time.perf_counter()
    train, _, test = load_digits()
    hosts = sorted(set(comm.allgather(MPI.Get_processor_name())))
    result = {"ranks": comm.Get_size(), "hosts": hosts,
              "mpi": MPI.Get_library_version().splitlines()[0].strip()}
    if "equality" in parts:
        result["equality"] = {"float64": equality(comm, train, np.float64),
                              "float32": equality(comm, train, np.float32)}
    if "training" in parts:
        result["training"] = training(comm, train, test, args.epochs, args.batch, args.lr)
    if "timing" in parts:
        result["timing"] = timing(comm, args.time_steps, args.time_batch, args.time_hidden)
    if "ring" in parts:
        result["ring"] = ring(comm, args.ring_size)
    if "trials" in parts:
        configs = [{"optimizer": "momentum", "lr": lr, "epochs": args.trial_epochs}
                   for lr in (0.001, 0.003, 0.01, 0.03, 0.1, 0.3)]
        result["trials"] = map_trials(_trial, configs, comm)
    result["seconds"] = time.perf_counter() - start
    if comm.Get_rank() == 0:
        text = json.dumps(result, indent=1)
        if args.out:
            with open(args.out, "w") as f:
                f.write(text)
        else:
            print(text)


if __name__ == "__main__":
    main()
