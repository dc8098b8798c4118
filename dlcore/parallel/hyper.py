"""Hyperparameter parallelism over MPI ranks: independent training runs, no communication
until the end, so K processes finish K trials in the time of one.

    results = map_trials(train_one, [{"lr": 0.01}, {"lr": 0.1}, ...], comm)

Trial i runs on rank i mod K; every rank gets back the whole list, in the configs' order.
(For processes on one machine without MPI, a process pool does the same job.)
"""
import time

__all__ = ["map_trials"]


def map_trials(run, configs, comm=None):
    """run(config) -> a picklable result, for every config, spread over the ranks of comm.

    Returns, on every rank, a list with one dict per config, in order:
    {"config": config, "result": run(config), "rank": the rank that ran it, "seconds": its
    wall time}.
    """
    from ._mpi import world

    comm = world() if comm is None else comm
    rank, size = comm.Get_rank(), comm.Get_size()
    configs = list(configs)
    mine = []
    for i in range(rank, len(configs), size):
        start = time.perf_counter()
        result = run(configs[i])
        mine.append((i, {"config": configs[i], "result": result, "rank": rank,
                         "seconds": time.perf_counter() - start}))
    gathered = comm.allgather(mine)
    done = dict(item for part in gathered for item in part)
    return [done[i] for i in range(len(configs))]
