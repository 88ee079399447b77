"""``--device`` resolution."""

import pytest
import torch

from artvid.device import amp_applies, is_out_of_memory, memory_errors, resolve_device
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


@pytest.mark.parametrize("capability, applies", [((7, 0), False), ((7, 5), False), ((8, 0), True), ((9, 0), True)])
def test_bf16_autocast_only_on_gpus_with_bf16_tensor_cores(monkeypatch, capability, applies):
    # A V100 or T4 emulates bf16 convolutions, slower than float32: they run float32.
    import torch

    from artvid.stylize import StylizeConfig, estimate_iteration_bytes

    asked = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: asked.append(device) or capability)
    assert amp_applies(True, "cuda:1") is applies
    assert asked == [torch.device("cuda:1")]
    assert amp_applies(False, "cuda") is False and amp_applies(True, "cpu") is False
    float32 = estimate_iteration_bytes(64, 64, StylizeConfig(amp=False), device="cuda")
    assert (estimate_iteration_bytes(64, 64, StylizeConfig(), device="cuda") < float32) is applies
