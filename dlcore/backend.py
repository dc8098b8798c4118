"""Where arrays live: numpy on the CPU, CuPy on a GPU.

Library code never imports cupy directly. It asks the arrays it was given for
their module, `xp = get_array_module(x)`, and writes the math once with `xp`
(Chainer's idiom), so the same chapter code runs on either device.
"""
import numpy as np

from .errors import DeviceError

__all__ = [
    "DeviceError",
    "default_device",
    "device_of",
    "get_array_module",
    "gpu_available",
    "to_device",
    "to_numpy",
]

_DEVICES = ("cpu", "gpu")
_cupy = None
_cupy_problem = None  # why CuPy cannot be used, as a sentence, once we know


def _load_cupy():
    """Import CuPy once and check a GPU answers; remember why not if it fails."""
    global _cupy, _cupy_problem
    if _cupy is not None or _cupy_problem is not None:
        return _cupy
    try:
        import cupy
    except Exception as exc:  # noqa: BLE001  (ImportError, or a CUDA library that fails to load)
        _cupy_problem = f"CuPy is not installed or failed to import ({exc.__class__.__name__}: {exc})"
        return None
    try:
        if cupy.cuda.runtime.getDeviceCount() < 1:
            _cupy_problem = "CuPy is installed but reports no CUDA device"
            return None
    except Exception as exc:  # noqa: BLE001  (any CUDA failure means: no usable GPU)
        _cupy_problem = f"CuPy is installed but no CUDA device is usable ({exc})"
        return None
    _cupy = cupy
    return cupy


def gpu_available():
    """True when CuPy imports and at least one CUDA device answers."""
    return _load_cupy() is not None


def default_device():
    """'gpu' if CuPy and a GPU are usable, else 'cpu'."""
    return "gpu" if gpu_available() else "cpu"


def _is_cupy_array(x):
    return type(x).__module__.startswith("cupy")


def get_array_module(*arrays):
    """The array module (numpy or cupy) that the given arrays belong to.

    Mixing CPU and GPU arrays raises `DeviceError`: the caller must move one side.
    Non-array arguments (Python numbers, None) are ignored.
    """
    on_gpu = [_is_cupy_array(a) for a in arrays if a is not None and hasattr(a, "shape")]
    if any(on_gpu):
        if not all(on_gpu):
            raise DeviceError(
                "arrays live on different devices (some numpy, some cupy); "
                "move them to one device with dlcore.backend.to_device(x, 'cpu' or 'gpu')"
            )
        return _load_cupy()
    return np


def device_of(x):
    """'gpu' for a CuPy array, 'cpu' otherwise."""
    return "gpu" if _is_cupy_array(x) else "cpu"


def _check_device_name(device):
    if device not in _DEVICES:
        raise ValueError(f"device must be 'cpu' or 'gpu', got {device!r}")


def to_device(x, device):
    """Return `x` as an array on `device` ('cpu' or 'gpu'); no copy if it is already there."""
    _check_device_name(device)
    if device == "cpu":
        return to_numpy(x)
    cupy = _load_cupy()
    if cupy is None:
        raise DeviceError(f"a GPU was requested but none is usable: {_cupy_problem}")
    return cupy.asarray(x)


def to_numpy(x):
    """Return `x` as a numpy array (copies from the GPU if needed)."""
    if _is_cupy_array(x):
        return x.get()
    return np.asarray(x)
