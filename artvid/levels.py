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

In a render every frame of a shot goes through the same map (:class:`ShotLevels`), measured on
the levels of frames sampled across the shot: levels measured frame by frame would change with
what enters and leaves the picture (on the Sintel demo clip the gain goes from 1.51 to 1.81
between two frames), and the stylized video would pulse with them. Images are ``(H, W, 3) uint8``
RGB.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

LEVELS_RANGE = 0.6
"""Fraction of the 0–255 range that a frame's 1st–99th luma percentiles are stretched to span."""
MAX_GAIN = 4.0
"""The most a frame's contrast is multiplied by (a flat frame has no levels to stretch)."""
SAMPLES = 16
"""Frames of a shot (evenly spaced, first and last included) whose levels set the shot's map."""
_LUMA = np.array([0.299, 0.587, 0.114], np.float32)
_PIXELS = 1 << 18
"""About this many pixels of each sampled frame enter the percentiles (a strided subsample)."""


@dataclass(frozen=True)
class Levels:
    """An affine map of levels, on values in [0, 1]: ``(value - low) * gain + start``, clipped."""

    low: float
    gain: float
    start: float

    def apply(self, frame: np.ndarray) -> np.ndarray:
        """``frame`` (``(H, W, 3) uint8``) mapped, rounded back to ``uint8``."""
        unit = frame.astype(np.float32) / np.float32(255.0)
        mapped = (unit - np.float32(self.low)) * np.float32(self.gain) + np.float32(self.start)
        return np.rint(np.clip(mapped, 0.0, 1.0) * 255.0).astype(np.uint8)


def measure_levels(frames: Sequence[np.ndarray]) -> Levels | None:
    """The map that spreads the luma levels of ``frames`` together over :data:`LEVELS_RANGE`.

    The 1st and 99th percentiles of the luma (Rec. 601) of all ``frames`` pooled bound their
    levels; when they span less than :data:`LEVELS_RANGE`, the map widens that span to
    :data:`LEVELS_RANGE` (gain at most :data:`MAX_GAIN`) about its centre, moved as little as
    needed to stay inside [0, 1]. None when they already span enough (nothing to stretch).

    Args:
        frames: ``(H, W, 3) uint8`` RGB frames (at least one).
    """
    luma = np.concatenate([_subsample(f).reshape(-1, 3).astype(np.float32) @ _LUMA for f in frames])
    low, high = (float(v) for v in np.percentile(luma / np.float32(255.0), [1.0, 99.0]))
    span = high - low
    if span >= LEVELS_RANGE:
        return None
    gain = min(MAX_GAIN, LEVELS_RANGE / max(span, 1e-6))
    width = span * gain
    start = min(max((low + high) / 2.0 - width / 2.0, 0.0), 1.0 - width)
    return Levels(low, gain, start)


def _subsample(frame: np.ndarray) -> np.ndarray:
    step = max(1, int((frame.shape[0] * frame.shape[1] / _PIXELS) ** 0.5))
    return frame[::step, ::step]


@dataclass(frozen=True)
class ShotLevels:
    """The levels map of every shot of a render (None for a shot left as it is).

    Attributes:
        shots: ``(start, stop)`` of every shot (0-based, ``stop`` exclusive), in order.
        maps: The map of each shot.
    """

    shots: tuple[tuple[int, int], ...]
    maps: tuple[Levels | None, ...]

    @classmethod
    def measure(cls, load: Callable[[int], np.ndarray], shots: Sequence[tuple[int, int]],
                samples: int = SAMPLES) -> ShotLevels:
        """Each shot's map from ``samples`` of its frames (``load``: frame index → content frame)."""
        maps = []
        for start, stop in shots:
            picked = np.unique(np.rint(np.linspace(start, stop - 1, min(samples, stop - start))).astype(int))
            maps.append(measure_levels([load(int(frame)) for frame in picked]))
        return cls(tuple((int(a), int(b)) for a, b in shots), tuple(maps))

    def apply(self, frame: int, image: np.ndarray) -> np.ndarray:
        """``image``, the content of ``frame``, through its shot's map."""
        for (start, stop), levels in zip(self.shots, self.maps):
            if start <= frame < stop:
                return image if levels is None else levels.apply(image)
        raise IndexError(f"frame {frame + 1} is in no shot of {self.shots}")


def stretch_levels(frame: np.ndarray) -> np.ndarray:
    """One frame with its own levels spread (:func:`measure_levels` of ``frame`` alone), as a
    still is stylized (``artvid image``).

    Args:
        frame: ``(H, W, 3) uint8`` RGB.

    Returns:
        ``(H, W, 3) uint8``: ``frame`` itself when its levels already span enough.
    """
    levels = measure_levels([frame])
    return frame if levels is None else levels.apply(frame)


def content_loader(load: Callable[[int], np.ndarray], levels: ShotLevels | None) -> Callable[[int], np.ndarray]:
    """``load`` (frame index → content frame) with each shot's ``levels`` applied (None: ``load`` itself)."""
    if levels is None:
        return load
    return lambda frame: levels.apply(frame, load(frame))
