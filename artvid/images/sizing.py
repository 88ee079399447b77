"""Long-side sizing: the one rule for how big a frame becomes when a ``size`` is asked for."""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["fit_long_side", "resize_long_side"]


def fit_long_side(width: int, height: int, size: int | None) -> tuple[int, int]:
    """The ``(width, height)`` an image gets when its long side is scaled to ``size`` pixels.

    The aspect ratio is kept; each side is rounded to the nearest integer (at least 1). Sides are
    *not* forced to be even: the video writer pads odd sizes itself.

    Args:
        width: source width in pixels.
        height: source height in pixels.
        size: target long side in pixels, or ``None`` to keep the source size.

    Returns:
        ``(width, height)`` after scaling.

    Raises:
        ValueError: ``size`` is not a positive integer.
    """
    if size is None:
        return width, height
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"expected size to be a positive int (long side in pixels), got {size!r}")
    scale = size / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def resize_long_side(frame: np.ndarray, size: int | None) -> np.ndarray:
    """Resize ``frame`` so its long side is ``size`` pixels (see :func:`fit_long_side`).

    Shrinking uses ``cv2.INTER_AREA`` (no aliasing), enlarging ``cv2.INTER_CUBIC``.

    Args:
        frame: ``(H, W, 3) uint8`` RGB.
        size: target long side in pixels, or ``None`` to return ``frame`` unchanged.

    Returns:
        The resized frame, ``(H', W', 3) uint8``; ``frame`` itself when the size already fits.
    """
    height, width = frame.shape[:2]
    return resize_to(frame, *fit_long_side(width, height, size))


def fit_into(frame: np.ndarray, width: int, height: int) -> np.ndarray:
    """``frame`` resized (as by :func:`resize_to`) to fit ``width`` x ``height`` with its aspect
    ratio kept, centred on black; ``frame`` itself when it has that size."""
    h, w = frame.shape[:2]
    if (w, h) == (width, height):
        return frame
    scale = min(width / w, height / h)
    inner_w, inner_h = min(width, max(1, round(w * scale))), min(height, max(1, round(h * scale)))
    out = np.zeros((height, width, *frame.shape[2:]), frame.dtype)
    top, left = (height - inner_h) // 2, (width - inner_w) // 2
    out[top:top + inner_h, left:left + inner_w] = resize_to(frame, inner_w, inner_h)
    return out


def resize_to(frame: np.ndarray, width: int, height: int) -> np.ndarray:
    """``frame`` resized to ``width`` x ``height`` (``cv2.INTER_AREA`` shrinking, ``cv2.INTER_CUBIC``
    enlarging); ``frame`` itself when it has that size."""
    if (width, height) == (frame.shape[1], frame.shape[0]):
        return frame
    shrinking = width * height < frame.shape[0] * frame.shape[1]
    interp = cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC
    return cv2.resize(frame, (width, height), interpolation=interp)
