"""Multi-scale rendering: the sizes a render solves at, smallest first, and how a scale starts
from the one below.

With Gatys' method the strokes are sized in pixels by VGG's receptive fields, so a direct HD
render paints fine, busy texture and pays the full pixel count on every iteration. A multi-scale
render solves the whole clip (every pass, temporal term and cut) at a small size first; each
next scale starts every frame from the scale below, upsampled, and refines it with its own
smaller budget (``ScheduleConfig.scale_iterations``), with flow, reliability, temporal terms and
blending at its own size. The style image follows the scale (it is resized to the frame's area),
so the strokes keep their size relative to the frame.

A refining frame that follows its warped predecessor starts from ``c ⊙ w + (1 − c) ⊙ up(coarse)``:
where the flow is reliable (c), the previous frame at this scale, warped (w), as a direct render
starts, so the strokes this scale already painted (and every correction it made to the scale
below) move with the scene; where it is not (disoccluded, or out of frame), the coarse scale's
own result for this frame, already painted, instead of a direct render's mean colour. (A first
design took the low frequencies from the coarse scale everywhere, ``up(coarse) + c ⊙ (w −
up(down(w)))``: every frame then undid what the previous one had corrected, and the refining
frames flickered: 1.7× a direct render's warping error in bench/scales.py.)

``--scales`` takes ``auto`` (the default: as many scales, each half the next, as bring the
smallest one to at most :data:`AUTO_BASE` px; one scale up to that size), ``1`` (a direct
render), a count ``N`` (``N`` scales, each half the next), or the long sides themselves
(``256,512``; the final size is added when missing). ``auto`` is the default from
``bench/scales.py`` at 512 px (12 frames of a real clip, 256 → 512): 0.76× a direct render's
time, the same warping error (1.00×), a 20 % closer match of the painting's large strokes (style
loss at 256 px 0.80×), for a 4.6 % higher per-frame loss at 512 px (bench/RESULTS.md).
"""

from __future__ import annotations

import re

import numpy as np

from artvid.errors import ConfigError

AUTO_BASE = 256
"""Long side in px up to which ``--scales auto`` renders in one scale; above it, scales halve
down to it. The presets' budgets were chosen at this size (``bench/convergence.py`` on the
example), and a painting's large strokes are matched here (``bench/scales.py`` measures the
style loss at this size)."""

MAX_SCALES = 6
MIN_SIDE = 32
"""Smallest long side a scale may have (VGG19's five poolings leave too little below it)."""

_SIDES = re.compile(r"[0-9]+(,[0-9]+)*")


def normalise_scales(text: object) -> str:
    """The ``--scales`` setting in its one written form (``auto``, ``N`` or ``a,b,c``).

    Raises:
        ConfigError: For anything else.
    """
    spec = str(text).strip().lower().replace(" ", "") if isinstance(text, (str, int)) and not isinstance(text, bool) else None
    if spec == "auto":
        return spec
    if spec is None or not _SIDES.fullmatch(spec):
        raise ConfigError(f"expected scales as 'auto', a count such as 3, or long sides such as 256,512, got {text!r}")
    numbers = [int(n) for n in spec.split(",")]
    if len(numbers) == 1:
        if not 1 <= numbers[0] <= MAX_SCALES:
            raise ConfigError(f"expected between 1 and {MAX_SCALES} scales, got {numbers[0]}")
        return str(numbers[0])
    if any(b <= a for a, b in zip(numbers, numbers[1:])):
        raise ConfigError(f"expected the scales' long sides in ascending order, got {text!r}")
    if numbers[0] < MIN_SIDE:
        raise ConfigError(f"expected scales of at least {MIN_SIDE} px, got {numbers[0]} in {text!r}")
    return ",".join(map(str, numbers))


def scale_sides(text: str, final: int) -> tuple[int, ...]:
    """The long sides a render solves at, ascending, the last one ``final``.

    Args:
        text: A normalised ``--scales`` setting (:func:`normalise_scales`).
        final: The render's long side (``--size``, or the clip's own).

    Raises:
        ConfigError: If a listed side is not below ``final``, or the scales would go below
            :data:`MIN_SIDE`.
    """
    spec = normalise_scales(text)
    if spec == "auto":
        sides = [final]
        while sides[0] > AUTO_BASE and len(sides) < MAX_SCALES and sides[0] // 2 >= MIN_SIDE:
            sides.insert(0, _half(sides[0]))
        return tuple(sides)
    numbers = [int(n) for n in spec.split(",")]
    if len(numbers) == 1:
        sides = [final]
        for _ in range(numbers[0] - 1):
            sides.insert(0, _half(sides[0]))
        if sides[0] < MIN_SIDE:
            raise ConfigError(
                f"{numbers[0]} scales of a {final}-px render would start at {sides[0]} px; the smallest "
                f"scale needs at least {MIN_SIDE} px: use fewer scales"
            )
        return tuple(sides)
    if numbers[-1] > final:
        raise ConfigError(f"expected scales up to the render's long side {final} px, got {numbers[-1]} px")
    return tuple(numbers if numbers[-1] == final else [*numbers, final])


def _half(side: int) -> int:
    return (side + 1) // 2


def upsample(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """``image`` ``(h, w, 3) float32`` resized to ``(height, width)``, bicubic, clipped to [0, 1]."""
    import cv2

    return np.clip(cv2.resize(image, (width, height), interpolation=cv2.INTER_CUBIC), 0.0, 1.0).astype(np.float32)


class CoarseScale:
    """The scale below the one being solved, as a refining frame's start needs it.

    Args:
        load: Returns the coarse scale's final result of frame ``i``, ``(h, w, 3) uint8``.
        size: ``(height, width)`` of the scale being solved.
    """

    def __init__(self, load, size: tuple[int, int]) -> None:
        self.load = load
        self.size = size

    def frame(self, frame: int) -> np.ndarray:
        """The coarse result of ``frame``, upsampled to this scale, ``float32`` in [0, 1]."""
        return upsample(self.load(frame).astype(np.float32) / 255.0, *self.size)

    def start(self, frame: int, warped: np.ndarray, reliability: np.ndarray) -> np.ndarray:
        """``c ⊙ w + (1 − c) ⊙ up(coarse)``: ``warped`` (this scale's previous frame, warped) where
        its flow is reliable, the upsampled coarse result of ``frame`` where it is not."""
        c = reliability[..., None].astype(np.float32)
        return (c * warped + (1.0 - c) * self.frame(frame)).astype(np.float32)
