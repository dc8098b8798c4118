"""mpi4py, imported only when a function that talks to other processes is called.

dlcore's core needs numpy alone; MPI comes with the `parallel` extra
(`pip install -e ".[parallel]"`: mpi4py and the mpich wheel, which puts `mpiexec` next
to the Python interpreter).
"""

__all__ = ["MPIUnavailable", "mpi", "world"]


class MPIUnavailable(ImportError):
    """mpi4py (or the MPI library under it) cannot be imported."""


def mpi():
    """The `mpi4py.MPI` module, or MPIUnavailable saying how to install it."""
    try:
        from mpi4py import MPI
    except ImportError as exc:
        raise MPIUnavailable(
            f"dlcore.parallel needs mpi4py and an MPI library ({exc}); install them with "
            f"pip install -e \".[parallel]\" (mpi4py and the mpich wheel from PyPI)"
        ) from exc
    return MPI


def world():
    """MPI.COMM_WORLD: every process that mpiexec started."""
    return mpi().COMM_WORLD
