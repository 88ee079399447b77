"""The render plan: which frame is solved when, from what, against which targets, for how long.

A plan is plain data, computed once from the frame count and the schedule, with no torch, no
flow and no files. Everything that decides the order of work lives here: the executor
(:mod:`artvid.rendering.execute`) only carries steps out, and the flow pairs a render needs are
derived from the steps themselves, so what is computed is exactly what is warped.

Ruder, Dosovitskiy & Brox 2016, Sec. 3.3 (pass 1: frames in order, each started from the warped
previous result, with short- and long-term temporal targets) and Sec. 3.4 (passes 2…N:
alternating sweeps that blend each frame with its already updated neighbour).
"""

from __future__ import annotations

from dataclasses import dataclass

from artvid.errors import ConfigError
from artvid.multipass import FRESH_INITS, Init, ScheduleConfig, pass_order, starts_from_scratch


@dataclass(frozen=True, order=True)
class Ref:
    """A finished frame: ``frame`` (0-based) of pass ``pass_index`` (1-based)."""

    pass_index: int
    frame: int


@dataclass(frozen=True)
class Start:
    """How a step's optimisation starts.

    Exactly one form applies:

    * ``fresh`` set: noise or the content (:data:`artvid.multipass.FRESH_INITS`).
    * ``result`` set, ``neighbour`` None: that finished frame, warped onto this frame's grid when
      ``warped`` (``Init.PREV_WARPED``), as it is otherwise (``Init.PREV``, ``Init.FIRST``, or the
      frame's own previous-pass result).
    * ``result`` and ``neighbour`` set: Ruder's blend of the frame's previous-pass result with the
      neighbour of this sweep warped onto it.
    """

    fresh: Init | None = None
    result: Ref | None = None
    warped: bool = False
    neighbour: Ref | None = None


@dataclass(frozen=True)
class Step:
    """One frame optimisation.

    Attributes:
        pass_index: 1-based pass.
        frame: 0-based frame.
        iterations: Iteration cap.
        start: Where the optimisation starts.
        temporal: Finished frames warped onto this frame as temporal targets, closest first.
        from_scratch: The step starts from noise or the content (coarse-to-fine applies).
    """

    pass_index: int
    frame: int
    iterations: int
    start: Start
    temporal: tuple[Ref, ...] = ()
    from_scratch: bool = False

    @property
    def ref(self) -> Ref:
        """The frame this step produces."""
        return Ref(self.pass_index, self.frame)

    def needs(self) -> list[Ref]:
        """Finished frames this step reads, in the order it reads them."""
        refs = [r for r in (self.start.result, self.start.neighbour) if r is not None]
        return refs + [r for r in self.temporal if r not in refs]

    def warps(self) -> list[tuple[int, int]]:
        """``(i, j)`` pairs whose flow this step warps with: frame ``j``'s result onto ``i``."""
        sources = []
        if self.start.warped and self.start.result is not None:
            sources.append(self.start.result.frame)
        if self.start.neighbour is not None:
            sources.append(self.start.neighbour.frame)
        sources += [r.frame for r in self.temporal]
        return [(self.frame, j) for j in dict.fromkeys(sources)]


@dataclass(frozen=True)
class RenderPlan:
    """Every step of a render in execution order, and the flow pairs they need.

    Attributes:
        frame_count: Frames of the clip.
        passes: Number of passes.
        steps: Steps in the order a single worker runs them.
        flow_pairs: ``(a, b)`` pairs with ``a < b`` whose flow (both directions) the steps warp
            with, in the order they are first needed.
        blend_weight: δ of the multi-pass blend (``ScheduleConfig.blend_weight``).
    """

    frame_count: int
    passes: int
    steps: tuple[Step, ...]
    flow_pairs: tuple[tuple[int, int], ...]
    blend_weight: float = 1.0

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

    def iterations(self) -> int:
        """The sum of every step's iteration cap (an upper bound on the work)."""
        return sum(s.iterations for s in self.steps)


def make_plan(
    frame_count: int, schedule: ScheduleConfig, offsets: tuple[int, ...] = (1,), temporal: bool = True
) -> RenderPlan:
    """The plan of a render.

    Args:
        frame_count: Number of frames (at least 1).
        schedule: Passes, budgets and initialisation.
        offsets: Long-term offsets J of pass 1's temporal targets (1 = the previous frame).
        temporal: False when the temporal weight is 0: no temporal targets and no blending.

    Returns:
        The plan.

    Raises:
        ConfigError: For an empty clip, or a temporal offset the clip is too short for.
    """
    if frame_count < 1:
        raise ConfigError(f"expected a clip of at least 1 frame, got {frame_count}")
    offsets = tuple(sorted(set(offsets)))
    if temporal and frame_count >= 2 and offsets and offsets[-1] >= frame_count:
        raise ConfigError(
            f"long-term offset {offsets[-1]} needs a clip of more than {offsets[-1]} frames, got {frame_count} frames"
        )
    steps: list[Step] = []
    for pass_index in range(1, schedule.passes + 1):
        uses_temporal = temporal and pass_index >= schedule.temporal_from_pass
        order = pass_order(pass_index, frame_count)
        for position, frame in enumerate(order):
            if pass_index == 1:
                step = _first_pass_step(frame, schedule, offsets, uses_temporal)
            else:
                neighbour = order[position - 1] if position > 0 and uses_temporal else None
                step = _later_pass_step(pass_index, frame, neighbour, schedule)
            steps.append(step)
    pairs = dict.fromkeys((min(i, j), max(i, j)) for step in steps for i, j in step.warps())
    return RenderPlan(frame_count, schedule.passes, tuple(steps), tuple(pairs), schedule.blend_weight)


def _first_pass_step(frame: int, schedule: ScheduleConfig, offsets: tuple[int, ...], uses_temporal: bool) -> Step:
    scratch = starts_from_scratch(schedule, 1, frame)
    if frame == 0:
        return Step(1, 0, schedule.iterations_first, Start(fresh=schedule.init_first), from_scratch=scratch)
    kind = schedule.init
    if kind in FRESH_INITS:
        start = Start(fresh=kind)
    elif kind is Init.FIRST:
        start = Start(result=Ref(1, 0))
    else:
        start = Start(result=Ref(1, frame - 1), warped=kind is Init.PREV_WARPED)
    temporal = tuple(Ref(1, frame - j) for j in offsets if frame - j >= 0) if uses_temporal else ()
    return Step(1, frame, schedule.iterations, start, temporal, from_scratch=scratch)


def _later_pass_step(pass_index: int, frame: int, neighbour: int | None, schedule: ScheduleConfig) -> Step:
    own = Ref(pass_index - 1, frame)
    if neighbour is None:
        return Step(pass_index, frame, schedule.pass_iterations, Start(result=own))
    other = Ref(pass_index, neighbour)
    return Step(pass_index, frame, schedule.pass_iterations, Start(result=own, neighbour=other), (other,))
