"""Test helpers: synthetic clips with known motion, shared by all test modules."""

from __future__ import annotations

import numpy as np


def textured_image(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A smooth random texture, (H, W, 3) uint8 RGB, rich enough for optical flow."""
    rng = np.random.default_rng(seed)
    import cv2

    base = rng.uniform(0, 255, size=(height // 4 + 2, width // 4 + 2, 3)).astype(np.float32)
    img = cv2.resize(base, (width + 8, height + 8), interpolation=cv2.INTER_CUBIC)
    fine = rng.uniform(-30, 30, size=img.shape).astype(np.float32)
    img = cv2.GaussianBlur(img + fine, (0, 0), 1.0)
    return np.clip(img[4 : 4 + height, 4 : 4 + width], 0, 255).astype(np.uint8)


def translating_clip(n: int, height: int, width: int, dx: int = 2, dy: int = 1, seed: int = 0) -> list[np.ndarray]:
    """``n`` frames of a texture translating by integer ``(dx, dy)`` pixels per frame.

    Frame ``t`` shows the big canvas cropped at offset ``(t*dy, t*dx)``, so content moves by
    ``(-dx, -dy)`` on screen and ``frame[t](p) == frame[t-1](p + (dx, dy))`` away from borders:
    the exact flow from frame t to frame t-1 is ``(dx, dy)`` everywhere.
    """
    canvas = textured_image(height + n * abs(dy) + 2, width + n * abs(dx) + 2, seed)
    return [canvas[t * dy : t * dy + height, t * dx : t * dx + width].copy() for t in range(n)]
