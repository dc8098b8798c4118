"""dlcore: the small numpy (and optionally CuPy) library behind the book
*Training Deep Networks, Interactively*.

The math lives in `dlcore.functional` as forward/backward pairs; `dlcore.nn`
wraps it in PyTorch-style modules; `dlcore.losses`, `dlcore.init` and
`dlcore.gradcheck` complete the core. `dlcore.viz` and `dlcore.grading` sit on
top and nothing in the core imports them.
"""
from . import backend, data, functional, gradcheck, init, losses, nn, optim, train
from ._random import get_rng, seed
from .errors import DeviceError, DTypeError, ShapeError

__version__ = "0.1.0"

__all__ = [
    "DTypeError",
    "DeviceError",
    "ShapeError",
    "backend",
    "data",
    "functional",
    "get_rng",
    "gradcheck",
    "init",
    "losses",
    "nn",
    "optim",
    "seed",
    "train",
]
