"""Levels of a content frame: low-contrast footage is stretched before it is stylized.

The content term of Gatys et al. compares VGG features, whose differences grow with the frame's
contrast, while the style term does not look at the content at all. So the same weights paint
over a dark or flat scene (night, fog, an underexposed clip) that they keep on a well-exposed
one: Sintel's alley_1 at 256 px keeps an edge correlation of 0.64 (:func:`artvid.metrics.edge_correlation`),
the same frame at a quarter of its exposure 0.47, and normalising the content term by its
energy (the content loss of a flat frame) closes only a third of that gap on alley_1 and none of
it on Ruder's marple8 (bench/RESULTS.md). Stretching the frame itself does: a frame at a
quarter of its exposure stretched back is, up to quantisation, the frame.

:func:`stretch_levels` is a classic auto-levels with a floor: the frame's 1st–99th luma
percentiles are spread over at least :data:`LEVELS_RANGE` of the range (never compressed, by at
most :data:`MAX_GAIN`), one affine map for all three channels (hue kept). Frames whose levels
already span that much, as well-exposed footage does (alley_1 0.97, market_5 0.88, marple8
0.68 of the range), are left exactly as they are, so the weights keep Ruder's meaning there.
Images are ``(H, W, 3) uint8`` RGB.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

LEVELS_RANGE = 0.6
"""Fraction of the 0–255 range that a frame's 1st–99th luma percentiles are stretched to span."""
MAX_GAIN = 4.0
"""The most a frame's contrast is multiplied by (a flat frame has no levels to stretch)."""
_LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def stretch_levels(frame: np.ndarray) -> np.ndarray:
    """``frame`` with its luma levels spread over at least :data:`LEVELS_RANGE` of the range.

    The 1st and 99th percentiles of the luma (Rec. 601) bound the frame's levels; when they span
    less than :data:`LEVELS_RANGE`, every channel goes through one affine map that widens that span
    to :data:`LEVELS_RANGE` (gain at most :data:`MAX_GAIN`) about its centre, moved as little as
    needed to stay inside [0, 255]. Values past the percentiles are clipped.

    Args:
        frame: ``(H, W, 3) uint8`` RGB.

    Returns:
        ``(H, W, 3) uint8``: ``frame`` itself when its levels already span enough.
    """
    unit = frame.astype(np.float32) / np.float32(255.0)
    low, high = np.percentile(unit @ _LUMA, [1.0, 99.0])
    span = float(high - low)
    if span >= LEVELS_RANGE:
        return frame
    gain = min(MAX_GAIN, LEVELS_RANGE / max(span, 1e-6))
    width = span * gain
    start = min(max((low + high) / 2.0 - width / 2.0, 0.0), 1.0 - width)
    stretched = (unit - np.float32(low)) * np.float32(gain) + np.float32(start)
    return np.rint(np.clip(stretched, 0.0, 1.0) * 255.0).astype(np.uint8)


def content_loader(load: Callable[[int], np.ndarray], levels: str) -> Callable[[int], np.ndarray]:
    """``load`` (frame index → content frame) with ``levels`` applied (``"none"``: ``load`` itself)."""
    if levels == "none":
        return load
    return lambda frame: stretch_levels(load(frame))
