"""Decoded image arrays of any common layout (gray, alpha, 16-bit, float) to frames."""

from __future__ import annotations

import numpy as np

__all__ = ["array_to_rgb8", "check_frame"]


def check_frame(frame: np.ndarray, name: str = "frame") -> None:
    """Check that ``frame`` is a frame: ``(H, W, 3) uint8`` RGB.

    Args:
        frame: the array to check.
        name: what to call it in the error message.

    Raises:
        ValueError: ``frame`` is not an ``(H, W, 3) uint8`` array.
    """
    if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
        got = f"{frame.dtype} array of shape {frame.shape}" if isinstance(frame, np.ndarray) else type(frame).__name__
        raise ValueError(f"expected {name} to be an (H, W, 3) uint8 RGB array, got {got}")


def array_to_rgb8(arr: np.ndarray) -> np.ndarray:
    """Convert a decoded image array of any common layout to an ``(H, W, 3) uint8`` RGB frame.

    Args:
        arr: ``(H, W)``, ``(H, W, 1)`` gray, ``(H, W, 2)`` gray+alpha, ``(H, W, 3)`` RGB or
            ``(H, W, 4)`` RGBA; dtype uint8, uint16 (0–65535), other integers (treated as 16-bit
            when they fit, else scaled by their maximum) or float (0–1 when the maximum is at most
            1, else 0–255).

    Returns:
        ``(H, W, 3) uint8`` RGB, alpha composited on white.

    Raises:
        ValueError: the array has no image layout listed above.
    """
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3 or arr.shape[2] not in (1, 2, 3, 4) or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"expected an (H, W[, 1-4]) image array, got shape {arr.shape}")
    data = _to_unit_float(arr)
    channels = data.shape[2]
    if channels in (2, 4):
        color, alpha = data[:, :, :-1], data[:, :, -1:]
        data = color * alpha + (1.0 - alpha)  # composite on white
    if data.shape[2] == 1:
        data = np.repeat(data, 3, axis=2)
    return np.clip(np.rint(data * 255.0), 0, 255).astype(np.uint8)


def _to_unit_float(arr: np.ndarray) -> np.ndarray:
    """Samples scaled to [0, 1] float32, by dtype (see :func:`array_to_rgb8`)."""
    if arr.dtype == np.uint8:
        return arr.astype(np.float32) / 255.0
    if arr.dtype == np.uint16:
        return arr.astype(np.float32) / 65535.0
    if np.issubdtype(arr.dtype, np.integer):
        # PIL's "I" mode: 16-bit files decoded into int32; anything larger is scaled by its peak.
        peak = float(arr.max()) if arr.size else 0.0
        scale = 65535.0 if peak <= 65535 else peak
        return np.clip(arr.astype(np.float32) / scale, 0.0, 1.0)
    if np.issubdtype(arr.dtype, np.floating) or arr.dtype == np.bool_:
        data = np.nan_to_num(arr.astype(np.float32))
        scale = 1.0 if data.max(initial=0.0) <= 1.0 else 255.0
        return np.clip(data / scale, 0.0, 1.0)
    raise ValueError(f"expected an integer or float image array, got dtype {arr.dtype}")
