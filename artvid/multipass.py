"""The schedule of a render: passes, budgets, initialisation, and Ruder's multi-pass blend.

Ruder, Dosovitskiy & Brox 2016, Sec. 3.3 (single pass) and Sec. 3.4 (multi-pass). The settings
live here; :mod:`artvid.rendering.plan` turns them into the steps of a render. Images here are
``(H, W, 3) float32`` arrays in [0, 1]; reliabilities ``(H, W) float32`` in [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Literal, get_args

import numpy as np

from artvid.errors import ConfigError
from artvid.settings import is_finite_number, setting


class Init(str, Enum):
    """How a frame's optimisation starts (artistic-videos ``-init``)."""

    RANDOM = "random"
    CONTENT = "content"
    PREV = "prev"
    PREV_WARPED = "prev-warped"
    FIRST = "first"


WarpInterpolation = Literal["bilinear", "bicubic"]
WARP_INTERPOLATIONS: tuple[str, ...] = get_args(WarpInterpolation)
"""Values of ``ScheduleConfig.warp_interpolation`` (:data:`flow.warp.INTERPOLATIONS`)."""

Carry = Literal["image", "residual"]
CARRIES: tuple[str, ...] = get_args(Carry)
"""Values of ``ScheduleConfig.carry``."""

FRESH_INITS = (Init.RANDOM, Init.CONTENT)
"""Initialisations that start from scratch rather than from a stylized result."""


@dataclass(frozen=True)
class ScheduleConfig:
    """Iteration budgets, initialisation and pass structure of a render.

    Attributes:
        passes: Number of passes. Pass 1 is the single pass (frames in order); later passes
            alternate direction (backward, forward, …).
        iterations_first: Iteration cap for the first frame of pass 1 (a shot's first frame, a
            keyframe).
        tolerance_first: Early stopping for those frames: they stop when their loss changes by
            less than this (relative) over ``tolerance_window`` iterations, at most
            ``iterations_first``; None = the per-frame ``tolerance``. Every frame after a shot's
            first one starts from it and the chain goes on converging towards the objective's
            optimum (on a still, well-lit shot the edge correlation fell from 0.59 to 0.35 over
            100 draft frames), so a first frame solved only part of the way makes the look change
            over the shot; solved until its loss stops falling, the look holds from the start.
        iterations: Iteration cap for the other frames of pass 1.
        pass_iterations: Iteration cap for every frame of passes 2 and later.
        init_first: Initialisation of the first frame (``random`` or ``content``). From the
            content, the example clip's first frame reaches the paper preset's final loss (2000
            iterations from noise) in 400 iterations; from noise, 500 come within 5 % (measured
            with Ruder's carry and levels, bench/convergence.py).
        init: Initialisation of the other frames of pass 1.
        blend_weight: δ of the multi-pass blend ``(x + δ c ω(n)) / (1 + δ c)`` (Ruder Sec. 3.4;
            the reference uses 1).
        temporal_from_pass: First pass that uses temporal terms and blending. The paper's own
            multi-pass schedule starts them late, from independently initialised frames.
        seed: Seed of the random initialisation.
        cuts: Where new shots start (hard cuts), as users write them: ``"120,340"`` (frame
            numbers from 1), ``"0"`` = one shot, ``"auto"`` = detected from the clip
            (:mod:`artvid.shots`). A shot starts like a first frame and nothing (flow, temporal
            terms, blending) reaches across a cut.
        chunk_frames: Shots longer than this are split into chunks that run in parallel (see
            :mod:`artvid.rendering.segments`); None = no chunks.
        scales: The sizes the render solves at, smallest first (:mod:`artvid.rendering.scales`):
            ``"auto"`` (the default: halving down to at most 256 px, so one scale up to 256 px),
            ``"1"`` (a direct render), a count, or long sides ``"256,512"``.
        scale_iterations: Iteration cap per frame of pass 1 at every scale after the first (each
            frame starts from the scale below, upsampled).
        scale_iterations_first: The same for the frames that start from the scale below alone
            (a shot's first frame, a keyframe): every frame after them starts from them.
        warp_interpolation: How a result is sampled when it is warped onto another frame (the
            warped start, the temporal loss's target, the multi-pass blend): ``bilinear``
            (Ruder's reference, the default) or ``bicubic``, which keeps the brush texture that
            bilinear blurs at sub-pixel offsets (see :mod:`flow.warp`): sharper strokes and a
            lower per-frame loss, for a slightly higher warping error (bench/RESULTS.md).
        carry: What the flow carries from one frame to another (the warped start, the temporal
            loss's target, the multi-pass blend): ``image``, the stylized frame itself (Ruder's
            method), or ``residual``, the stylization's difference from its content frame, added
            onto the new frame's content: ``c_i + warp(x_j - c_j)``. With a residual the scene's
            edges come from each new frame rather than from a result warped again and again, and
            a disoccluded region starts from its own content rather than from what covered it.
    """

    passes: int = setting(1, help="Passes; 2+ adds Ruder's bidirectional blending.", min=1)
    iterations_first: int = setting(1500, help="Iteration cap for a shot's first frame (balanced preset).", min=1)
    tolerance_first: float | None = setting(
        2e-3, help="Stop a shot's first frame when its loss changes less than this (relative) over the window "
        "(balanced preset; default of the paper preset: --tolerance).", min=0
    )
    iterations: int = setting(120, help="Iteration cap for later frames of pass 1 (balanced preset).", min=1)
    pass_iterations: int = setting(15, help="Iteration cap per frame in passes 2+ (balanced preset).", min=1)
    init_first: Init = setting(Init.CONTENT, help="Initialisation of the first frame (random or content).")
    init: Init = setting(Init.PREV_WARPED, help="Initialisation of later frames.")
    blend_weight: float = setting(1.0, help="δ of the multi-pass blend.", min=0)
    temporal_from_pass: int = setting(1, help="First pass using temporal loss and blending.", min=1)
    seed: int = setting(0, help="Seed of the random initialisation.")
    cuts: str = setting(
        "auto", help="Frames (numbered from 1) where a new shot starts, e.g. 120,340; 0 = one shot; auto = detect."
    )
    chunk_frames: int | None = setting(
        None, help="Split shots longer than this into chunks that can run at the same time (default: no chunks).",
        min=2,
    )
    scales: str = setting(
        "auto", help="Scales, smallest first: auto = halve down to 256 px; 1 = direct; a count; or long sides like 256,512."
    )
    scale_iterations: int = setting(60, help="Iteration cap per frame of pass 1 at scales after the first (balanced preset).", min=1)
    scale_iterations_first: int = setting(
        200, help="Iteration cap for a shot's first frame and keyframes at scales after the first (balanced preset).", min=1
    )

    warp_interpolation: WarpInterpolation = setting(
        "bilinear", help="Sampling of warped results: bilinear (Ruder's reference) or bicubic (keeps brush texture)."
    )

    carry: Carry = setting(
        "residual", help="What the flow carries between frames: the stylization's residual over the content, or the "
        "stylized image (Ruder's, the paper preset's)."
    )

    def __post_init__(self) -> None:
        if self.carry not in CARRIES:
            raise ConfigError(f"carry must be one of {', '.join(CARRIES)}, got {self.carry!r}")
        if self.warp_interpolation not in WARP_INTERPOLATIONS:
            raise ConfigError(
                f"warp-interpolation must be one of {', '.join(WARP_INTERPOLATIONS)}, got {self.warp_interpolation!r}"
            )
        for name in ("init", "init_first"):
            try:
                object.__setattr__(self, name, Init(getattr(self, name)))
            except ValueError:
                choices = ", ".join(i.value for i in Init)
                raise ConfigError(f"{name.replace('_', '-')} must be one of {choices}, got {getattr(self, name)!r}") from None
        if self.passes < 1:
            raise ConfigError(f"passes must be at least 1, got {self.passes}")
        for name in ("iterations_first", "iterations", "pass_iterations", "scale_iterations", "scale_iterations_first"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name.replace('_', '-')} must be at least 1, got {getattr(self, name)}")
        tol = self.tolerance_first
        if tol is not None and (not is_finite_number(tol) or tol < 0):
            raise ConfigError(f"tolerance-first must be a finite number >= 0, got {tol!r}")
        if self.init_first not in FRESH_INITS:
            raise ConfigError(f"init-first must be random or content, got {self.init_first.value}")
        if self.blend_weight < 0:
            raise ConfigError(f"blend-weight must be non-negative, got {self.blend_weight}")
        from artvid.shots.cuts import normalise_cuts

        object.__setattr__(self, "cuts", normalise_cuts(self.cuts))
        from artvid.rendering.scales import normalise_scales

        object.__setattr__(self, "scales", normalise_scales(self.scales))
        if self.chunk_frames is not None and (isinstance(self.chunk_frames, bool) or self.chunk_frames < 2):
            raise ConfigError(f"chunk-frames must be at least 2, got {self.chunk_frames!r}")
        if self.temporal_from_pass < 1:
            raise ConfigError(f"temporal-from-pass must be at least 1, got {self.temporal_from_pass}")


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
