"""Middlebury colour coding of flow fields (Baker et al., IJCV 2011): hue = direction, saturation = speed."""

from __future__ import annotations

import numpy as np

from flow.validate import check_flow

# Segment lengths of the Middlebury colour wheel: red-yellow, yellow-green, green-cyan, cyan-blue,
# blue-magenta, magenta-red (chosen for perceptual uniformity in the original code).
_SEGMENTS = (("ry", 15), ("yg", 6), ("gc", 4), ("cb", 11), ("bm", 13), ("mr", 6))


def _color_wheel() -> np.ndarray:
    """(55, 3) float RGB in [0, 255] around the hue circle."""
    rows = []
    for name, n in _SEGMENTS:
        ramp = np.arange(n, dtype=np.float64) / n * 255
        full, zero = np.full(n, 255.0), np.zeros(n)
        rows.append(
            {
                "ry": (full, ramp, zero),
                "yg": (255 - ramp, full, zero),
                "gc": (zero, full, ramp),
                "cb": (zero, 255 - ramp, full),
                "bm": (ramp, zero, full),
                "mr": (full, zero, 255 - ramp),
            }[name]
        )
    return np.concatenate([np.stack(r, axis=1) for r in rows], axis=0)


_WHEEL = _color_wheel()


def flow_to_color(flow: np.ndarray, max_flow: float | None = None) -> np.ndarray:
    """Colour-code a flow field with the Middlebury wheel.

    Args:
        flow: (H, W, 2) float flow in pixels; non-finite vectors are drawn black.
        max_flow: magnitude drawn fully saturated; default the largest finite magnitude in ``flow``.

    Returns:
        (H, W, 3) uint8 RGB; zero flow is white.

    Raises:
        FlowShapeError: when ``flow`` is not (H, W, 2) float.
    """
    flow = check_flow(flow)
    u, v = flow[..., 0].astype(np.float64), flow[..., 1].astype(np.float64)
    valid = np.isfinite(u) & np.isfinite(v)
    u, v = np.where(valid, u, 0.0), np.where(valid, v, 0.0)
    mag = np.hypot(u, v)
    if max_flow is None:
        max_flow = float(mag.max()) if mag.size else 0.0
    scale = max(float(max_flow), np.finfo(np.float64).eps)
    rad = mag / scale
    ncols = len(_WHEEL)
    # Angle from the positive x axis, mapped onto [0, ncols - 1] as in the Middlebury code.
    angle = np.arctan2(-v, -u) / np.pi
    fk = (angle + 1) / 2 * (ncols - 1)
    k0 = np.floor(fk).astype(int) % ncols
    k1 = (k0 + 1) % ncols
    f = (fk - np.floor(fk))[..., None]
    col = ((1 - f) * _WHEEL[k0] + f * _WHEEL[k1]) / 255.0
    r = rad[..., None]
    # Inside the unit disc desaturate towards white; beyond it darken.
    col = np.where(r <= 1, 1 - r * (1 - col), col * 0.75)
    col[~valid] = 0.0
    return np.clip(np.floor(255 * col), 0, 255).astype(np.uint8)
