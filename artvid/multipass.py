"""Scheduling of the single pass and of Ruder's multi-pass bidirectional blending.

Ruder, Dosovitskiy & Brox 2016, Sec. 3.3 (single pass) and Sec. 3.4 (multi-pass). This module only
schedules: it receives the per-frame stylizer, the warping and the frame store as callables, so
its logic can be tested with a fake stylizer in milliseconds. Images here are
``(H, W, 3) float32`` arrays in [0, 1]; reliabilities ``(H, W) float32`` in [0, 1].
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

import numpy as np

from artvid.errors import ConfigError
from artvid.settings import setting

logger = logging.getLogger(__name__)


class Init(str, Enum):
    """How a frame's optimisation starts (artistic-videos ``-init``)."""

    RANDOM = "random"
    CONTENT = "content"
    PREV = "prev"
    PREV_WARPED = "prev-warped"
    FIRST = "first"


FRESH_INITS = (Init.RANDOM, Init.CONTENT)
"""Initialisations that start from scratch rather than from a stylized result."""


@dataclass(frozen=True)
class ScheduleConfig:
    """Iteration budgets, initialisation and pass structure of a render.

    Attributes:
        passes: Number of passes. Pass 1 is the single pass (frames in order); later passes
            alternate direction (backward, forward, …).
        iterations_first: Iteration cap for the first frame of pass 1.
        iterations: Iteration cap for the other frames of pass 1.
        pass_iterations: Iteration cap for every frame of passes 2 and later.
        init_first: Initialisation of the first frame (``random`` or ``content``). From the
            content, the example clip's first frame reaches the paper preset's final loss (2000
            iterations from noise) in 400 iterations; from noise, 500 come within 5 %.
        init: Initialisation of the other frames of pass 1.
        blend_weight: δ of the multi-pass blend ``(x + δ c ω(n)) / (1 + δ c)`` (Ruder Sec. 3.4;
            the reference uses 1).
        temporal_from_pass: First pass that uses temporal terms and blending. The paper's own
            multi-pass schedule starts them late, from independently initialised frames.
        seed: Seed of the random initialisation.
    """

    passes: int = setting(1, help="Passes; 2+ adds Ruder's bidirectional blending.", min=1)
    iterations_first: int = setting(400, help="Iteration cap for the first frame (balanced preset).", min=1)
    iterations: int = setting(120, help="Iteration cap for later frames of pass 1 (balanced preset).", min=1)
    pass_iterations: int = setting(15, help="Iteration cap per frame in passes 2+ (balanced preset).", min=1)
    init_first: Init = setting(Init.CONTENT, help="Initialisation of the first frame (random or content).")
    init: Init = setting(Init.PREV_WARPED, help="Initialisation of later frames.")
    blend_weight: float = setting(1.0, help="δ of the multi-pass blend.", min=0)
    temporal_from_pass: int = setting(1, help="First pass using temporal loss and blending.", min=1)
    seed: int = setting(0, help="Seed of the random initialisation.")

    def __post_init__(self) -> None:
        for name in ("init", "init_first"):
            try:
                object.__setattr__(self, name, Init(getattr(self, name)))
            except ValueError:
                choices = ", ".join(i.value for i in Init)
                raise ConfigError(f"{name.replace('_', '-')} must be one of {choices}, got {getattr(self, name)!r}") from None
        if self.passes < 1:
            raise ConfigError(f"passes must be at least 1, got {self.passes}")
        for name in ("iterations_first", "iterations", "pass_iterations"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name.replace('_', '-')} must be at least 1, got {getattr(self, name)}")
        if self.init_first not in FRESH_INITS:
            raise ConfigError(f"init-first must be random or content, got {self.init_first.value}")
        if self.blend_weight < 0:
            raise ConfigError(f"blend-weight must be non-negative, got {self.blend_weight}")
        if self.temporal_from_pass < 1:
            raise ConfigError(f"temporal-from-pass must be at least 1, got {self.temporal_from_pass}")


@dataclass(frozen=True)
class Temporal:
    """One temporal target of a frame: a result warped onto the frame and its reliability."""

    warped: np.ndarray
    reliability: np.ndarray


class FrameStore(Protocol):
    """Finished frames of every pass (``pass_index`` 1-based, ``frame`` 0-based)."""

    def has(self, pass_index: int, frame: int) -> bool: ...

    def load(self, pass_index: int, frame: int) -> np.ndarray: ...

    def save(self, pass_index: int, frame: int, image: np.ndarray) -> None: ...


# stylize(frame, init, temporal, iterations, pass_index) -> image
StylizeFn = Callable[[int, np.ndarray, Sequence[Temporal], int, int], np.ndarray]
# warp(image_on_j, i, j) -> (image warped onto i's grid, reliability on i's grid)
WarpFn = Callable[[np.ndarray, int, int], tuple[np.ndarray, np.ndarray]]
# fresh_init(frame, kind) -> image, for Init.RANDOM and Init.CONTENT
FreshInitFn = Callable[[int, Init], np.ndarray]


def blend(own: np.ndarray, neighbour_warped: np.ndarray, reliability: np.ndarray, delta: float) -> np.ndarray:
    """Ruder et al. 2016, Sec. 3.4: ``(x + δ c ⊙ ω(n)) / (1 + δ c)``.

    Args:
        own: ``(H, W, 3)`` the frame's result of the previous pass.
        neighbour_warped: ``(H, W, 3)`` the neighbour's result of this pass warped onto the frame.
        reliability: ``(H, W)`` c, in [0, 1].
        delta: δ ≥ 0; 0 returns ``own`` unchanged.
    """
    c = delta * reliability[..., None]
    return ((own + c * neighbour_warped) / (1.0 + c)).astype(np.float32)


def starts_from_scratch(schedule: ScheduleConfig, pass_index: int, frame: int) -> bool:
    """Whether a frame's optimisation starts from noise or the content, not from a result."""
    if pass_index != 1:
        return False
    kind = schedule.init_first if frame == 0 else schedule.init
    return kind in FRESH_INITS


def pass_order(pass_index: int, frame_count: int) -> list[int]:
    """Frame order of a pass: pass 1 forward, then backward, forward, … alternately."""
    frames = list(range(frame_count))
    return frames[::-1] if pass_index % 2 == 0 else frames


def run_passes(
    frame_count: int,
    schedule: ScheduleConfig,
    offsets: Sequence[int],
    temporal_enabled: bool,
    stylize: StylizeFn,
    warp: WarpFn,
    fresh_init: FreshInitFn,
    store: FrameStore,
    on_frame: Callable[[int, int, bool], None] | None = None,
) -> None:
    """Run every pass, skipping frames the store already has (resume).

    Args:
        frame_count: Number of frames.
        schedule: Passes, budgets and initialisation.
        offsets: Long-term offsets J for pass 1 (1 = previous frame), closest first after sorting.
        temporal_enabled: False when the temporal weight is 0: no temporal targets are built.
        stylize: The per-frame stylizer.
        warp: Warps an image of frame j onto frame i's grid, with the reliability of that flow.
        fresh_init: Builds ``random`` / ``content`` initialisations.
        store: Where finished frames live; every result goes through it, so a resumed run
            sees exactly what an uninterrupted one saw.
        on_frame: Called with ``(pass_index, frame, skipped)`` after each frame.
    """
    offsets = sorted(set(offsets))
    for pass_index in range(1, schedule.passes + 1):
        uses_temporal = temporal_enabled and pass_index >= schedule.temporal_from_pass
        order = pass_order(pass_index, frame_count)
        for position, frame in enumerate(order):
            if store.has(pass_index, frame):
                if on_frame:
                    on_frame(pass_index, frame, True)
                continue
            if pass_index == 1:
                init, temporal, iterations = _first_pass_frame(
                    frame, schedule, offsets, uses_temporal, warp, fresh_init, store
                )
            else:
                neighbour = order[position - 1] if position > 0 else None
                init, temporal = _later_pass_frame(
                    pass_index, frame, neighbour, schedule, uses_temporal, warp, store
                )
                iterations = schedule.pass_iterations
            result = stylize(frame, init, temporal, iterations, pass_index)
            store.save(pass_index, frame, result)
            if on_frame:
                on_frame(pass_index, frame, False)


def _first_pass_frame(frame, schedule, offsets, uses_temporal, warp, fresh_init, store):
    if frame == 0:
        return fresh_init(0, schedule.init_first), [], schedule.iterations_first
    kind = schedule.init
    if kind in FRESH_INITS:
        init = fresh_init(frame, kind)
    elif kind is Init.PREV:
        init = store.load(1, frame - 1)
    elif kind is Init.FIRST:
        init = store.load(1, 0)
    else:
        init, _ = warp(store.load(1, frame - 1), frame, frame - 1)
    temporal = []
    if uses_temporal:
        for offset in offsets:
            if frame - offset >= 0:
                warped, reliability = warp(store.load(1, frame - offset), frame, frame - offset)
                temporal.append(Temporal(warped, reliability))
    return init, temporal, schedule.iterations


def _later_pass_frame(pass_index, frame, neighbour, schedule, uses_temporal, warp, store):
    own = store.load(pass_index - 1, frame)
    if neighbour is None or not uses_temporal:
        return own, []
    warped, reliability = warp(store.load(pass_index, neighbour), frame, neighbour)
    init = blend(own, warped, reliability, schedule.blend_weight)
    return init, [Temporal(warped, reliability)]
