"""Carrying out a render plan with injected parts: stylizer, warping, initialisation, frame store.

The executor knows no torch, no files and no flow estimator. It walks the plan's steps, skips the
ones whose frame the store already holds (resume), builds each step's start and temporal targets
from stored results, hands them to the stylizer and stores what comes back. It can run any
contiguous range of frames, provided the frames those steps read are already stored (by an earlier
run, or by another worker whose results were put in the store).

Images are ``(H, W, 3) float32`` arrays in [0, 1]; reliabilities ``(H, W) float32`` in [0, 1].
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from artvid.errors import ConfigError
from artvid.multipass import Init, ScheduleConfig, blend
from artvid.rendering.plan import Ref, RenderPlan, Step, make_plan
from artvid.rendering.progress import Progress, Silent


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


# stylize(frame, init, temporal, iterations, pass_index) -> image; ``temporal`` ends with the step's
# anchor when it has one
StylizeFn = Callable[[int, np.ndarray, Sequence[Temporal], int, int], np.ndarray]
# warp(image_on_j, i, j, chained) -> (image warped onto i's grid, reliability on i's grid); chained:
# along the consecutive flows between j and i (Step.chained) rather than the direct flow of (i, j)
WarpFn = Callable[[np.ndarray, int, int, bool], tuple[np.ndarray, np.ndarray]]
# fresh_init(frame, kind) -> image, for Init.RANDOM and Init.CONTENT
FreshInitFn = Callable[[int, Init], np.ndarray]


class CoarseStart(Protocol):
    """Starts from the scale below (e.g. :class:`artvid.rendering.scales.CoarseScale`)."""

    def frame(self, frame: int) -> np.ndarray: ...

    def start(self, frame: int, warped: np.ndarray, reliability: np.ndarray) -> np.ndarray: ...


@dataclass
class Parts:
    """What the executor needs from the outside world.

    Attributes:
        stylize: The per-frame stylizer.
        warp: Warps an image of frame j onto frame i's grid, with the reliability of that flow
            (directly, or along the consecutive flows in between).
        fresh_init: Builds ``random`` / ``content`` initialisations.
        store: Where finished frames live; every result goes through it, so a resumed run sees
            exactly what an uninterrupted one saw.
        progress: Told about every frame; silent by default.
        coarse: The scale below, for the steps of a multi-scale render's later scales that start
            from it (:attr:`Start.coarse`); None at a render's first (or only) scale.
    """

    stylize: StylizeFn
    warp: WarpFn
    fresh_init: FreshInitFn
    store: FrameStore
    progress: Progress = field(default_factory=Silent)
    coarse: CoarseStart | None = None


@dataclass
class Executed:
    """What an execution did: frames stylized, and frames found finished in the store."""

    stylized: int = 0
    resumed: int = 0


class MissingInputError(ConfigError):
    """A step of the requested range reads a frame that is neither stored nor produced by the range."""


def execute(
    plan: RenderPlan,
    parts: Parts,
    frames: range | None = None,
    done: Executed | None = None,
    units: Sequence[str] | None = None,
) -> Executed:
    """Run the plan's steps (those of ``frames`` only, when given), skipping stored frames.

    Args:
        plan: The render plan.
        parts: Stylizer, warping, initialisation, store and progress.
        frames: A contiguous range of 0-based frames; None = every frame.
        done: A tally to add to (it keeps its counts when the execution raises).
        units: Run only the steps of these units (:attr:`RenderPlan.units` keys).

    Returns:
        How many frames were stylized and how many were already stored.

    Raises:
        MissingInputError: If a step needs a frame outside the range that the store lacks.
    """
    done = done if done is not None else Executed()
    wanted = None if units is None else set(units)
    steps = plan.steps if wanted is None else [s for u in plan.units if u.key in wanted for s in u.steps]
    for step in steps:
        if frames is not None and step.frame not in frames:
            continue
        if parts.store.has(step.pass_index, step.frame):
            done.resumed += 1
            parts.progress.frame_done(step, resumed=True)
            continue
        for ref in step.needs():
            if not parts.store.has(ref.pass_index, ref.frame):
                raise MissingInputError(
                    f"frame {step.frame + 1} of pass {step.pass_index} needs frame {ref.frame + 1} of pass "
                    f"{ref.pass_index}, which is neither stored nor in the frames being run"
                )
        init, temporal = _prepare(step, parts, plan.blend_weight)
        parts.progress.frame_started(step)
        result = parts.stylize(step.frame, init, temporal, step.iterations, step.pass_index)
        parts.store.save(step.pass_index, step.frame, result)
        done.stylized += 1
        parts.progress.frame_done(step, resumed=False)
    return done


def _prepare(step: Step, parts: Parts, blend_weight: float) -> tuple[np.ndarray, list[Temporal]]:
    start, store = step.start, parts.store
    warps: dict[tuple[Ref, bool], tuple[np.ndarray, np.ndarray]] = {}

    def warped(ref: Ref, chained: bool = step.chained) -> tuple[np.ndarray, np.ndarray]:
        # A start warped from a frame (the previous one, a sweep's neighbour) also has it as a
        # temporal target: each is warped once.
        if (ref, chained) not in warps:
            warps[(ref, chained)] = parts.warp(store.load(ref.pass_index, ref.frame), step.frame, ref.frame, chained)
        return warps[(ref, chained)]

    if start.coarse:
        if parts.coarse is None:
            raise MissingInputError(f"frame {step.frame + 1} starts from the scale below, and there is none")
        init = parts.coarse.frame(step.frame) if start.result is None else parts.coarse.start(step.frame, *warped(start.result))
    elif start.fresh is not None:
        init = parts.fresh_init(step.frame, start.fresh)
    elif start.neighbour is not None:
        own = store.load(start.result.pass_index, start.result.frame)
        init = blend(own, *warped(start.neighbour), blend_weight)
    elif start.warped:
        init = warped(start.result)[0]
    else:
        init = store.load(start.result.pass_index, start.result.frame)
    temporal = [Temporal(*warped(r)) for r in step.temporal]  # a sweep's: its neighbour
    if step.anchor is None:
        return init, temporal
    # The keyframe, warped onto the step along the consecutive flows in between, becomes its last
    # temporal target, and the start takes the anchor's share a of it where the warp is reliable
    # (the blend with δ = a / (1 - a)).
    key_warped, key_reliability = warped(step.anchor, True)
    a = step.anchor_weight
    init = blend(init, key_warped, key_reliability, a / (1.0 - a)) if a < 1.0 else key_warped
    return init, [*temporal, Temporal(key_warped, key_reliability)]


def run_passes(
    frame_count: int,
    schedule: ScheduleConfig,
    offsets: Sequence[int],
    temporal_enabled: bool,
    stylize: StylizeFn,
    warp: WarpFn,
    fresh_init: FreshInitFn,
    store: FrameStore,
    progress: Progress | None = None,
) -> None:
    """Plan and execute every pass of a whole clip (see :func:`make_plan` and :func:`execute`)."""
    plan = make_plan(frame_count, schedule, tuple(offsets), temporal_enabled)
    parts = Parts(stylize, warp, fresh_init, store, progress or Silent())
    execute(plan, parts)
