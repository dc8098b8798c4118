"""dlcore.backend and dlcore.seed: device handling and the default generator."""
import numpy as np
import pytest

import dlcore
from dlcore import backend, nn
from dlcore.errors import DeviceError


def test_numpy_arrays_use_numpy():
    assert backend.get_array_module(np.ones(2), None, 3.0) is np
    assert backend.device_of(np.ones(2)) == "cpu"
    x = np.arange(3.0)
    assert backend.to_device(x, "cpu") is x
    assert backend.to_numpy([1, 2]).tolist() == [1, 2]


def test_unknown_device_name():
    with pytest.raises(ValueError, match="device must be 'cpu' or 'gpu', got 'cuda'"):
        backend.to_device(np.ones(2), "cuda")


def test_gpu_request_without_gpu_says_why_and_with_gpu_moves():
    """Both branches assert: which one runs depends on the machine, neither is skipped."""
    if backend.gpu_available():
        assert backend.default_device() == "gpu"
        x = backend.to_device(np.arange(4.0), "gpu")
        assert backend.device_of(x) == "gpu"
        assert backend.to_numpy(x * 2).tolist() == [0.0, 2.0, 4.0, 6.0]
    else:
        assert backend.default_device() == "cpu"
        with pytest.raises(DeviceError, match="a GPU was requested but none is usable: CuPy"):
            backend.to_device(np.ones(2), "gpu")
        with pytest.raises(DeviceError, match="none is usable"):
            nn.Linear(2, 2).to("gpu")


def test_seed_makes_default_draws_reproducible():
    dlcore.seed(5)
    a = nn.Linear(3, 3).W.data.copy()
    dlcore.seed(5)
    b = nn.Linear(3, 3).W.data
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="seed must be a non-negative int"):
        dlcore.seed(-1)
