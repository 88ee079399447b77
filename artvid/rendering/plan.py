"""The render plan: which frame is solved when, from what, against which targets, for how long.

A plan is plain data, computed once from the frame count, the shots and the schedule, with no
torch, no flow and no files. Everything that decides the order of work lives here: the executors
(:mod:`artvid.rendering.execute`, and the Ray backend) only carry steps out, and the flow pairs a
render needs are derived from the steps themselves, so what is computed is exactly what is warped.

The steps of each shot come from :mod:`artvid.rendering.segments` (Ruder et al.'s passes, and
chunks of long shots). Steps are grouped into *units*: a whole shot, or a keyframe, a chunk's
head or tail, or a chunk's later passes.
A unit runs its steps in order on one worker; units whose inputs are finished run at the same
time. The frames a render produces depend only on the plan and the settings, never on how many
workers ran it or in which order.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, replace

from artvid.errors import ConfigError
from artvid.multipass import ScheduleConfig
from artvid.rendering.segments import shot_steps
from artvid.rendering.steps import Ref, Start, Step

__all__ = ["Ref", "RenderPlan", "Start", "Step", "Unit", "make_plan"]


@dataclass(frozen=True)
class Unit:
    """Steps one worker runs in order.

    Attributes:
        key: A stable name (``shot0``, ``shot0-key2``, ``shot0-chunk2``, ``shot0-tail2``, ``shot0-sweep2``).
        steps: The steps, in execution order.
        needs: Finished frames of other units that the steps read.
    """

    key: str
    steps: tuple[Step, ...]
    needs: tuple[Ref, ...]

    @property
    def refs(self) -> tuple[Ref, ...]:
        """The frames this unit produces."""
        return tuple(s.ref for s in self.steps)


@dataclass(frozen=True)
class RenderPlan:
    """Every step of a render in execution order, and what they need.

    Attributes:
        frame_count: Frames of the clip.
        passes: The highest pass of any frame.
        steps: Steps in the order a single worker runs them.
        flow_pairs: ``(a, b)`` pairs with ``a < b`` whose flow (both directions) the steps warp
            with, in the order they are first needed.
        blend_weight: δ of the multi-pass blend (``ScheduleConfig.blend_weight``).
        warp_interpolation: How warps sample a frame (``ScheduleConfig.warp_interpolation``).
        carry: What warps carry: the image or its residual over the content (``ScheduleConfig.carry``).
        shots: ``(start, stop)`` of every shot.
        final: Per frame, the finished frame that is its output.
        units: The steps grouped for workers.
    """

    frame_count: int
    passes: int
    steps: tuple[Step, ...]
    flow_pairs: tuple[tuple[int, int], ...]
    blend_weight: float = 1.0
    shots: tuple[tuple[int, int], ...] = ()
    final: tuple[Ref, ...] = ()
    units: tuple[Unit, ...] = ()
    warp_interpolation: str = "bilinear"
    carry: str = "image"

    def pass_steps(self, pass_index: int) -> list[Step]:
        """The steps of one pass, in order."""
        return [s for s in self.steps if s.pass_index == pass_index]

    def dependents(self, refs: set[Ref]) -> set[Ref]:
        """The frames whose steps read any of ``refs``, directly or through other steps."""
        tainted, found = set(refs), set()
        for step in self.steps:  # execution order: a step's inputs come before it
            if any(r in tainted for r in step.needs()):
                tainted.add(step.ref)
                found.add(step.ref)
        return found

    def most_temporal_targets(self) -> int:
        """The most temporal targets any step has (what one iteration's memory depends on)."""
        return max((s.target_count for s in self.steps), default=0)

    def iterations(self) -> int:
        """The sum of every step's iteration cap (an upper bound on the work)."""
        return sum(s.iterations for s in self.steps)

    def critical_path(self, workers: int, by_iterations: bool = False) -> int:
        """How long ``workers`` take to run the units, in frames solved one after another (with
        ``by_iterations``: in iterations, a keyframe costing the first frame's budget).

        Simulates the Ray driver's policy (:mod:`artvid.rendering.ray_schedule`): whenever a worker
        is idle it takes the first unit, in plan order, whose inputs are finished.
        """
        cost = {u.key: sum(s.iterations for s in u.steps) if by_iterations else len(u.steps) for u in self.units}
        deps = _unit_deps(self.units)
        finished: set[str] = set()
        pending = [u.key for u in self.units]
        running: list[tuple[int, int, str]] = []  # (finish time, submission, key)
        now = submitted = 0
        while pending or running:
            for key in [k for k in pending if deps[k] <= finished][: max(workers, 1) - len(running)]:
                pending.remove(key)
                heapq.heappush(running, (now + cost[key], submitted, key))
                submitted += 1
            now, _, key = heapq.heappop(running)
            finished.add(key)
        return now


def make_plan(
    frame_count: int,
    schedule: ScheduleConfig,
    offsets: tuple[int, ...] = (1,),
    temporal: bool = True,
    cuts: tuple[int, ...] = (),
    refine: bool = False,
) -> RenderPlan:
    """The plan of a render.

    Args:
        frame_count: Number of frames (at least 1).
        schedule: Passes, budgets, initialisation and chunk length.
        offsets: Long-term offsets J of pass 1's temporal targets (1 = the previous frame).
        temporal: False when the temporal weight is 0: no temporal targets and no blending.
        cuts: 0-based first frames of the shots after the first (hard cuts).
        refine: The plan of a scale above the first in a multi-scale render
            (:mod:`artvid.rendering.scales`): every step of pass 1 starts from the scale below
            (:attr:`Start.coarse`) with ``schedule.scale_iterations`` (``scale_iterations_first``
            for a shot's first frame and a keyframe).

    Returns:
        The plan.

    Raises:
        ConfigError: For an empty clip, cuts outside it, or a temporal offset the clip is too
            short for.
    """
    if frame_count < 1:
        raise ConfigError(f"expected a clip of at least 1 frame, got {frame_count}")
    offsets = tuple(sorted(set(offsets)))
    if temporal and frame_count >= 2 and offsets and offsets[-1] >= frame_count:
        raise ConfigError(
            f"long-term offset {offsets[-1]} needs a clip of more than {offsets[-1]} frames, got {frame_count} frames"
        )
    cuts = tuple(sorted(set(cuts)))
    if cuts and (cuts[0] < 1 or cuts[-1] >= frame_count):
        raise ConfigError(f"expected cuts between frame 2 and {frame_count}, got frames {[c + 1 for c in cuts]}")
    bounds = (0, *cuts, frame_count)
    shots = tuple(zip(bounds, bounds[1:]))
    by_pass: dict[int, list[tuple[str, Step]]] = {}
    final: dict[int, Ref] = {}
    for start, stop in shots:
        shot_passes, shot_final = shot_steps(start, stop, schedule, offsets, temporal, schedule.chunk_frames)
        for pass_index, steps in shot_passes.items():
            by_pass.setdefault(pass_index, []).extend(steps)
        final.update(shot_final)
    ordered = [entry for p in sorted(by_pass) for entry in by_pass[p]]
    if refine:
        ordered = [(unit, _refining(step, schedule) if step.pass_index == 1 else step) for unit, step in ordered]
    steps = tuple(step for _, step in ordered)
    pairs = dict.fromkeys(pair for step in steps for pair in step.flow_pairs())
    return RenderPlan(
        frame_count, max(by_pass), steps, tuple(pairs), schedule.blend_weight, shots,
        tuple(final[f] for f in range(frame_count)), _units(ordered), schedule.warp_interpolation,
        schedule.carry,
    )


def _refining(step: Step, schedule: ScheduleConfig) -> Step:
    """A pass-1 step at a scale above the first: it starts from the scale below, and from its
    warped predecessor at this scale where that is reliable, when it follows one (``Init.PREV_WARPED``)."""
    start = step.start
    detail = start.result if start.warped else None
    # A shot's first frame (started from scratch at the first scale) or a keyframe (chained to the
    # previous keyframe): the frames after it start from it.
    first = start.fresh is not None or step.chained
    return replace(
        step, iterations=schedule.scale_iterations_first if first else schedule.scale_iterations, from_scratch=False,
        tolerance=None, start=Start(coarse=True, result=detail, warped=detail is not None),
    )


def _units(ordered: list[tuple[str, Step]]) -> tuple[Unit, ...]:
    grouped: dict[str, list[Step]] = {}
    for key, step in ordered:
        grouped.setdefault(key, []).append(step)
    units = []
    for key, steps in grouped.items():
        produced = {s.ref for s in steps}
        needs = dict.fromkeys(r for s in steps for r in s.needs() if r not in produced)
        units.append(Unit(key, tuple(steps), tuple(needs)))
    # Longest remaining work first (list scheduling by bottom level, in iterations): the keyframe
    # chain, then the chunks with the most work behind them, so no worker is left with a long
    # chain at the end. Python's sort is stable: ties keep the plan's order.
    deps = _unit_deps(units)
    successors: dict[str, list[str]] = {u.key: [] for u in units}
    for unit in units:
        for dep in deps[unit.key]:
            successors[dep].append(unit.key)
    work = {u.key: sum(s.iterations for s in u.steps) for u in units}
    level: dict[str, int] = {}
    for unit in reversed(units):  # successors first, so each level is final when it is read
        _bottom_level(unit.key, successors, work, level)
    return tuple(sorted(units, key=lambda u: -level[u.key]))


def _unit_deps(units) -> dict[str, set[str]]:
    """Per unit key, the keys of the units producing what it needs."""
    producer = {ref: unit.key for unit in units for ref in unit.refs}
    return {unit.key: {producer[r] for r in unit.needs} for unit in units}


def _bottom_level(key: str, successors: dict[str, list[str]], work: dict[str, int], level: dict[str, int]) -> int:
    """The iterations from the start of unit ``key`` to the end of the longest chain after it."""
    if key not in level:
        level[key] = work[key] + max((_bottom_level(k, successors, work, level) for k in successors[key]), default=0)
    return level[key]
