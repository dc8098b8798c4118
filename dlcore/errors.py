"""Exceptions raised by dlcore when an input is not what an operation expects.

Each subclasses the built-in exception a Python programmer would expect
(`ValueError` for shapes and ranges, `TypeError` for dtypes), so existing
`except ValueError` code keeps working, and each message says what was
expected and what arrived.
"""


class ShapeError(ValueError):
    """An array has the wrong number of dimensions or a size that does not fit."""


class DTypeError(TypeError):
    """An array has a dtype the operation cannot use (e.g. integers where floats are needed)."""


class DeviceError(RuntimeError):
    """A GPU was asked for where none is usable, or arrays live on different devices."""
