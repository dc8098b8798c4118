"""Synchronous data parallelism on MPI: every rank holds the whole model, takes a shard
of each batch, and the ranks sum their weighted gradients with one `Allreduce`.

    comm = MPI.COMM_WORLD                       # K processes started by mpiexec -n K
    trainer = DataParallel(model, CrossEntropyLoss(), SGD(model.parameters(), lr=0.1), comm)
    for xb, yb in batches:                      # the same global batch on every rank
        value = trainer.step(xb, yb)            # the global batch's mean loss

Why the result equals one large-batch step: with a mean loss over a global batch of N
rows split into shards of n_k rows, the gradient is

    g = (1/N) sum_i grad l_i = sum_k (n_k/N) g_k,      g_k = the mean gradient on shard k,

so each rank scales its shard's gradient by n_k/N and the Allreduce (a sum) gives every
rank g. The ranks start from the same weights (rank 0's, broadcast) and apply the same
update to the same gradient, so they stay identical without ever sending weights.

Batch normalisation is the exception: each rank normalises with its own shard's
statistics (what PyTorch's DistributedDataParallel does unless the layers are converted
to SyncBatchNorm), so with BatchNorm the step is not the large-batch step.
"""
import time

import numpy as np

from .. import _checks
from .._random import get_rng
from ..errors import ShapeError

__all__ = [
    "DataParallel",
    "allreduce_gradients",
    "broadcast_parameters",
    "flatten_gradients",
    "shard_bounds",
    "unflatten_into_gradients",
]


def shard_bounds(n, rank, size):
    """Rows [lo, hi) of an n-row batch that `rank` of `size` takes: contiguous shards whose
    sizes differ by at most one, the first n % size shards one row longer."""
    base, extra = divmod(n, size)
    lo = rank * base + min(rank, extra)
    return lo, lo + base + (1 if rank < extra else 0)


def flatten_gradients(params, dtype=None):
    """Every parameter's gradient in one 1-D array (one message instead of one per layer,
    as DistributedDataParallel's buckets do)."""
    grads = [p.grad.ravel() for p in params]
    out = np.concatenate(grads) if grads else np.zeros(0)
    return out if dtype is None else out.astype(dtype, copy=False)


def unflatten_into_gradients(flat, params):
    """Copy consecutive pieces of `flat` back into each p.grad (inverse of flatten)."""
    start = 0
    for p in params:
        stop = start + p.grad.size
        p.grad[...] = flat[start:stop].reshape(p.grad.shape)
        start = stop
    if start != flat.size:
        raise ShapeError(f"unflatten_into_gradients: {flat.size} values for parameters "
                         f"holding {start}")


def allreduce_gradients(params, comm, weight=1.0):
    """Replace every p.grad by sum over ranks of weight_k * p.grad_k (one Allreduce).

    weight: this rank's share, n_k / N for a mean loss, so the sum is the mean gradient of
    the global batch. Returns the flat reduced gradient.
    """
    from ._mpi import mpi

    send = flatten_gradients(params)
    send *= send.dtype.type(weight)
    recv = np.empty_like(send)
    comm.Allreduce(send, recv, op=mpi().SUM)
    unflatten_into_gradients(recv, params)
    return recv


def broadcast_parameters(model, comm, root=0):
    """Give every rank the root's parameters and buffers (so all start identical)."""
    for p in model.parameters():
        comm.Bcast(p.data, root=root)
    for m in model.modules():
        for name, buf in list(m._buffers.items()):
            if hasattr(buf, "shape"):
                comm.Bcast(buf, root=root)


class DataParallel:
    """Train `model` with K MPI ranks, each working on 1/K of every batch.

    model, loss, optimizer: as for `fit` (the optimizer built on model.parameters()).
    comm: an mpi4py communicator (MPI.COMM_WORLD when None). The root's weights are
    broadcast at construction. `step(X, y)` takes the GLOBAL batch (the same on every
    rank); each rank computes on its shard only.
    """

    def __init__(self, model, loss, optimizer, comm=None):
        from ._mpi import world

        self.model, self.loss, self.optimizer = model, loss, optimizer
        self.comm = world() if comm is None else comm
        self.rank, self.size = self.comm.Get_rank(), self.comm.Get_size()
        self.params = model.parameters()
        self.seconds = {"compute": 0.0, "allreduce": 0.0}  # time spent in each, all steps
        broadcast_parameters(model, self.comm)

    def shard(self, n):
        """(lo, hi): the rows of an n-row global batch this rank works on."""
        return shard_bounds(n, self.rank, self.size)

    def step(self, X, y):
        """One synchronous step on the global batch (X, y); returns its mean loss (float),
        the same on every rank."""
        n = len(X)
        if n < self.size:
            raise ShapeError(f"DataParallel.step: a batch of {n} rows cannot be shared by "
                             f"{self.size} ranks; use a batch of at least {self.size}")
        if len(y) != n:
            raise ShapeError(f"DataParallel.step: X has {n} rows but y has {len(y)}")
        lo, hi = self.shard(n)
        start = time.perf_counter()
        self.model.train()
        value = self.loss(self.model(X[lo:hi]), y[lo:hi])
        self.optimizer.zero_grad()
        self.model.backward_params(self.loss.backward())
        middle = time.perf_counter()
        weight = (hi - lo) / n
        allreduce_gradients(self.params, self.comm, weight)
        value = self.comm.allreduce(value * weight)
        end = time.perf_counter()
        self.optimizer.step()
        self.seconds["compute"] += (middle - start) + (time.perf_counter() - end)
        self.seconds["allreduce"] += end - middle
        return float(value)

    def epoch(self, X, y, batch_size, rng=None):
        """One pass over (X, y) in shuffled global batches (every rank draws the same order
        from `rng`, so pass the same seed on every rank). Returns the per-step losses."""
        batch_size = _checks.positive_int(batch_size, "batch_size", "DataParallel.epoch")
        order = get_rng(rng).permutation(len(X))
        losses = []
        for start in range(0, len(X), batch_size):
            idx = order[start:start + batch_size]
            if len(idx) < self.size:      # a last batch too small to share: skipped
                break
            losses.append(self.step(X[idx], y[idx]))
        return losses
