"""``--device`` resolution."""

import pytest
import torch

from artvid.device import resolve_device
from artvid.errors import DeviceError


def test_auto_picks_an_available_device():
    expected = "cuda" if torch.cuda.is_available() else None
    device = resolve_device("auto")
    if expected:
        assert device.type == expected
    else:
        assert device.type in ("cpu", "mps")


def test_cpu():
    assert resolve_device("cpu") == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is present")
@pytest.mark.parametrize("name", ["cuda", "cuda:0"])
def test_cuda_without_a_gpu_is_a_clear_error(name):
    with pytest.raises(DeviceError, match="no CUDA GPU"):
        resolve_device(name)


@pytest.mark.parametrize("name", ["tpu", "banana", "xpu"])
def test_unknown_devices(name):
    with pytest.raises(DeviceError):
        resolve_device(name)


@pytest.mark.skipif(torch.backends.mps.is_available(), reason="MPS is present")
def test_mps_without_mps():
    with pytest.raises(DeviceError, match="MPS"):
        resolve_device("mps")


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_index_out_of_range():
    with pytest.raises(DeviceError, match="no CUDA device"):
        resolve_device(f"cuda:{torch.cuda.device_count()}")
