"""Parallel training: data parallelism on MPI, ring all-reduce, a parameter server, and
hyperparameter parallelism.

- `DataParallel`: each of K ranks takes 1/K of every batch; one `Allreduce` sums the
  weighted gradients, so a step equals the large-batch step. Run it under
  `mpiexec -n K python script.py` on one machine or across hosts, unchanged.
- `ring_allreduce` over MPI point-to-point messages, and `ring_allreduce_simulated`, the
  same schedule on K arrays in one process; `allreduce_seconds`, its time (and recursive
  doubling's) in the latency-bandwidth model.
- `sync_sgd`, `async_sgd`, `ParameterServer`, `simulate_async_workers`: a parameter server
  with synchronous and asynchronous (tau-stale) updates, simulated exactly in one process.
- `matmul_cost`, `elementwise_cost`, `attainable_flops`, `ridge_point`,
  `roofline_seconds`: arithmetic intensity and the roofline model.
- `map_trials`: independent runs (e.g. hyperparameter settings) spread over the ranks.
- `run_mpi`, `run_demo`: start an MPI job from Python (a notebook) with a timeout.

mpi4py is imported only by the functions that talk to other processes; everything else
needs numpy alone.
"""
from ._mpi import MPIUnavailable, mpi, world
from .data_parallel import (
    DataParallel,
    allreduce_gradients,
    broadcast_parameters,
    flatten_gradients,
    shard_bounds,
    unflatten_into_gradients,
)
from .hyper import map_trials
from .launch import mpiexec_path, run_demo, run_mpi
from .parameter_server import ParameterServer, async_sgd, simulate_async_workers, sync_sgd
from .ring import (
    allreduce_seconds,
    chunk_bounds,
    parameter_server_traffic,
    ring_allreduce,
    ring_allreduce_simulated,
    ring_schedule,
    ring_traffic,
)
from .roofline import (
    attainable_flops,
    elementwise_cost,
    matmul_cost,
    ridge_point,
    roofline_seconds,
)

__all__ = [
    "DataParallel",
    "MPIUnavailable",
    "ParameterServer",
    "allreduce_gradients",
    "allreduce_seconds",
    "async_sgd",
    "attainable_flops",
    "broadcast_parameters",
    "chunk_bounds",
    "elementwise_cost",
    "flatten_gradients",
    "map_trials",
    "matmul_cost",
    "mpi",
    "mpiexec_path",
    "parameter_server_traffic",
    "ridge_point",
    "ring_allreduce",
    "ring_allreduce_simulated",
    "ring_schedule",
    "ring_traffic",
    "roofline_seconds",
    "run_demo",
    "run_mpi",
    "shard_bounds",
    "simulate_async_workers",
    "sync_sgd",
    "unflatten_into_gradients",
    "world",
]
