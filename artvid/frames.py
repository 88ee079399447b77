"""Small conversions between the stages' data: float arrays ↔ tensors, and random initialisation."""

from __future__ import annotations

import numpy as np
import torch

# Caffe's VGG mean pixel in RGB [0, 1]: the reference's random init is this colour plus noise.
_MEAN_RGB = np.array([123.68, 116.779, 103.939], dtype=np.float32) / 255.0
_RANDOM_INIT_STD = 0.1


def image_tensor(image: np.ndarray, device: torch.device | str) -> torch.Tensor:
    """``(H, W, 3)`` float array in [0, 1] → ``(1, 3, H, W) float32`` tensor on ``device``.

    Unlike :func:`artvid.images.to_tensor` (uint8 frames) this keeps values between the 8-bit
    levels, as blends and warped results have.
    """
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) image, got shape {image.shape}")
    array = np.ascontiguousarray(np.asarray(image, dtype=np.float32).transpose(2, 0, 1))
    return torch.from_numpy(array)[None].to(device)


def mask_tensor(mask: np.ndarray, device: torch.device | str) -> torch.Tensor:
    """``(H, W)`` float array → ``(1, 1, H, W) float32`` tensor on ``device``."""
    if mask.ndim != 2:
        raise ValueError(f"expected an (H, W) mask, got shape {mask.shape}")
    return torch.from_numpy(np.ascontiguousarray(mask, dtype=np.float32))[None, None].to(device)


def random_init(shape: tuple[int, ...], seed: int, index: int = 0) -> np.ndarray:
    """The reference's random initialisation: the VGG mean colour plus noise, ``(H, W, 3)`` in [0, 1].

    Seeded by ``(seed, index)`` rather than a global stream, so a resumed render draws the same
    noise for a frame as an uninterrupted one. (neural-style draws σ = 0.001 on the 0–255 scale;
    we use σ = 0.1 on [0, 1] so that Adam, too, starts from a non-degenerate image.)
    """
    rng = np.random.default_rng([seed, index])
    noise = rng.normal(0.0, _RANDOM_INIT_STD, size=shape).astype(np.float32)
    return np.clip(_MEAN_RGB + noise, 0.0, 1.0)
