"""``--device`` resolution."""

import pytest
import torch

from artvid.device import is_out_of_memory, memory_errors, resolve_device
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


@pytest.mark.parametrize(
    "error,expected",
    [
        (RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 8 bytes"), True),
        (RuntimeError("[enforce fail at alloc_cpu.cpp:117] . DefaultCPUAllocator: not enough memory"), True),
        (RuntimeError("MPS backend out of memory (MPS allocated: 1 GB)"), True),
        (RuntimeError("mat1 and mat2 shapes cannot be multiplied"), False),
        (ValueError("out of memory"), False),
    ],
)
def test_out_of_memory_errors_of_every_device_are_recognised(error, expected):
    assert is_out_of_memory(error) is expected


def test_memory_errors_become_a_device_error_suggesting_size():
    with pytest.raises(DeviceError, match="fits in memory on cpu, got 640x360.*--size"):
        with memory_errors("cpu", 360, 640):
            raise RuntimeError("DefaultCPUAllocator: not enough memory: you tried to allocate 1 bytes")
    with pytest.raises(KeyError):
        with memory_errors("cpu", 360, 640):
            raise KeyError("other errors pass")
