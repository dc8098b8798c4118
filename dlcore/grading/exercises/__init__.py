"""Exercises, one module per chapter. Importing this package registers them all.

To add a chapter: write `<topic>.py` here that calls `register(Exercise(...))` for each
exercise, and add its name to the import below (kept sorted; the chapter number is in
each module's docstring).
"""
from . import activations, backprop, batchnorm, initialization, losses  # noqa: F401  (ch. 2, 1, 7, 3, 9)
