"""Frames to image tensors and back: ``(H, W, 3) uint8`` <-> ``(1, 3, H, W) float32`` in [0, 1].

``torch`` is imported inside the functions, so reading video does not pay for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from artvid.images.arrays import check_frame

if TYPE_CHECKING:
    import torch

__all__ = ["to_frame", "to_tensor"]


def to_tensor(frame: np.ndarray, device: str | torch.device = "cpu") -> torch.Tensor:
    """Frame to image tensor.

    Args:
        frame: ``(H, W, 3) uint8`` RGB.
        device: where the tensor goes.

    Returns:
        ``(1, 3, H, W) float32`` in [0, 1] RGB (``value / 255``), contiguous.

    Raises:
        ValueError: ``frame`` is not an ``(H, W, 3) uint8`` array.
    """
    import torch

    check_frame(frame)
    tensor = torch.from_numpy(np.ascontiguousarray(frame)).to(device)
    return tensor.permute(2, 0, 1).unsqueeze(0).to(torch.float32).div_(255.0).contiguous()


def to_frame(tensor: torch.Tensor) -> np.ndarray:
    """Image tensor to frame: clamp to [0, 1], scale by 255, round to nearest.

    Args:
        tensor: ``(1, 3, H, W)`` or ``(3, H, W)`` float RGB, nominally in [0, 1]; any device,
            gradients are ignored.

    Returns:
        ``(H, W, 3) uint8`` RGB on the CPU.

    Raises:
        ValueError: wrong shape, or the tensor holds NaN/inf (a diverged optimisation should not be
            saved as a silently black frame).
    """
    import torch

    if not isinstance(tensor, torch.Tensor):
        raise ValueError(f"expected a torch.Tensor, got {type(tensor).__name__}")
    if tensor.ndim == 4 and tensor.shape[0] == 1:
        tensor = tensor[0]
    if tensor.ndim != 3 or tensor.shape[0] != 3:
        raise ValueError(f"expected a (1, 3, H, W) or (3, H, W) image tensor, got shape {tuple(tensor.shape)}")
    tensor = tensor.detach()
    if not torch.isfinite(tensor).all():
        raise ValueError("expected finite image tensor values, got NaN or inf")
    out = (tensor.to(torch.float32).clamp(0.0, 1.0) * 255.0).round().to(torch.uint8)
    return np.ascontiguousarray(out.permute(1, 2, 0).cpu().numpy())
