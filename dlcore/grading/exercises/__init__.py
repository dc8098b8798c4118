"""Exercises, one module per chapter. Importing this package registers them all.

To add a chapter: write `<topic>.py` here that calls `register(Exercise(...))` for each
exercise, and add its name to the import below (kept sorted; the chapter number is in
each module's docstring).
"""
from . import (  # noqa: F401  (chapters 2, 1, 7, 15, 6, 14, 10, 12, 3, 9, 4, 13, 5, 8, 11)
    activations,
    backprop,
    batchnorm,
    capstone,
    clipping,
    compression,
    convolutions,
    hyperparameters,
    initialization,
    losses,
    optimizers,
    parallel,
    regularization,
    schedules,
    transfer,
)
