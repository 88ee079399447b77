"""Resolving ``--device`` once, at the start of a run (torch is imported only when called)."""

from __future__ import annotations

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
