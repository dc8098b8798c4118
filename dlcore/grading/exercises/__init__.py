"""Exercises, one module per chapter. Importing this package registers them all.

To add a chapter: write `<topic>.py` here that calls `register(Exercise(...))` for each
exercise, and add its name to the import line below.
"""
from . import activations  # noqa: F401  (chapter 2)
from . import backprop  # noqa: F401  (chapter 1)
from . import initialization  # noqa: F401  (chapter 3)
