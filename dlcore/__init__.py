"""dlcore: the small numpy (and optionally CuPy) library behind the book
*Training Deep Networks, Interactively*.

The math lives in `dlcore.functional` as forward/backward pairs; `dlcore.nn`
wraps it in PyTorch-style modules; `dlcore.losses`, `dlcore.init`, `dlcore.optim`,
`dlcore.schedules`, `dlcore.clip`, `dlcore.regularization`, `dlcore.gradcheck`,
`dlcore.data`, `dlcore.train` and `dlcore.diagnostics` complete the core;
`dlcore.parallel` trains on several processes (MPI, imported only when used).
`dlcore.viz` and `dlcore.grading` sit on top and nothing in the core imports them
(except `History.plot()`, which imports `dlcore.viz` when it is called).
"""
from . import (
    backend,
    clip,
    compress,
    data,
    diagnostics,
    functional,
    gradcheck,
    init,
    losses,
    nn,
    optim,
    parallel,
    regularization,
    schedules,
    train,
)
from ._random import get_rng, seed
from .errors import DeviceError, DTypeError, ShapeError
from .nn.module import load, save
from .nn.summary import count_flops, count_params

__version__ = "0.1.0"

__all__ = [
    "DTypeError",
    "DeviceError",
    "ShapeError",
    "backend",
    "clip",
    "compress",
    "count_flops",
    "count_params",
    "data",
    "diagnostics",
    "functional",
    "get_rng",
    "gradcheck",
    "init",
    "load",
    "losses",
    "nn",
    "optim",
    "parallel",
    "regularization",
    "save",
    "schedules",
    "seed",
    "train",
]
