"""Resolving ``--device`` once, at the start of a run, and out-of-memory errors as clear messages.

torch is imported only when a function is called.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

from artvid.errors import DeviceError

if TYPE_CHECKING:
    import torch


def resolve_device(name: str) -> torch.device:
    """Turn ``auto|cpu|cuda|cuda:N|mps`` into a device, once, at the start of a run.

    Raises:
        DeviceError: If the device is not available here.
    """
    import torch

    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise DeviceError(f"unknown device {name!r}: expected auto, cpu, cuda, cuda:N or mps") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise DeviceError("CUDA was requested but no CUDA GPU is available: use --device auto or cpu")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise DeviceError(f"no CUDA device {device.index}: {torch.cuda.device_count()} available")
    if device.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise DeviceError("MPS was requested but is not available: use --device auto or cpu")
    if device.type not in ("cpu", "cuda", "mps"):
        raise DeviceError(f"unsupported device {name!r}: expected auto, cpu, cuda, cuda:N or mps")
    return device


def amp_applies(amp: bool, device: torch.device | str) -> bool:
    """Whether bfloat16 autocast (``--amp``) runs on ``device``: only on CUDA GPUs with bf16
    tensor cores, compute capability 8.0 (Ampere) and later. Older ones (V100, T4) emulate
    bf16 convolutions, slower than float32, so they run float32. For a CUDA device that is not
    here (a memory estimate for another machine) a current GPU is assumed.
    """
    import torch

    device = torch.device(device)
    if not amp or device.type != "cuda":
        return False
    if not torch.cuda.is_available():
        return True
    return torch.cuda.get_device_capability(device) >= (8, 0)


_OUT_OF_MEMORY_MARKERS = ("DefaultCPUAllocator", "not enough memory", "out of memory")
"""Texts of the RuntimeErrors an allocator raises when memory runs out (CPU, CUDA, MPS)."""


def is_out_of_memory(exc: BaseException) -> bool:
    """Whether ``exc`` is an allocation failure of any device (CUDA, CPU or MPS)."""
    import torch

    if isinstance(exc, torch.cuda.OutOfMemoryError):
        return True
    return isinstance(exc, RuntimeError) and any(marker in str(exc) for marker in _OUT_OF_MEMORY_MARKERS)


@contextlib.contextmanager
def memory_errors(device: torch.device | str, height: int, width: int) -> Iterator[None]:
    """Turn running out of memory on ``device`` while working on a ``height × width`` frame
    into a :class:`DeviceError` that suggests a smaller ``--size``.

    Raises:
        DeviceError: The block ran out of memory.
    """
    try:
        yield
    except RuntimeError as exc:
        if not is_out_of_memory(exc):
            raise
        raise DeviceError(
            f"expected a frame that fits in memory on {device}, got {width}x{height} which does not; "
            "reduce the frame size with --size"
        ) from exc
