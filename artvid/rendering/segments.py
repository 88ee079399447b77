"""The steps of one shot: frames in order, keyframes and chunks, and the later passes' sweeps.

Ruder, Dosovitskiy & Brox 2016, Sec. 3.3 (pass 1: each frame started from the warped previous
result, with short- and long-term temporal targets) and Sec. 3.4 (passes 2…N: alternating sweeps
that blend each frame with its already updated neighbour). A shot starts like a clip's first
frame; nothing reaches across a cut.

**Chunks** (a shot longer than ``chunk_frames``). The shot is cut into near-equal chunks whose first
frames are *keyframes*. Keyframes are solved first, one after another, each from the previous
keyframe warped onto it (with that warp as its temporal target) and with the first frame's budget.
Then every chunk runs on its own: pass 1 forward from its keyframe, temporal targets only inside
the chunk; pass 2 backward from the *next* keyframe, blending each frame with its updated
neighbour (Ruder's multi-pass blend), so the chunk's end is pulled onto the next keyframe and the
seam is spread over the sweep instead of falling between two frames. A chunked shot therefore
always has at least 2 passes; keyframes are final after pass 1 (anchors never move). A chunk's
frames depend on its two keyframes and its own frames only, so chunks run in parallel: its pass 1
(a unit that needs its own keyframe) starts as soon as that keyframe is solved, its later passes
(a second unit) once the next keyframe is.
"""

from __future__ import annotations

from artvid.multipass import FRESH_INITS, Init, ScheduleConfig
from artvid.rendering.steps import Ref, Start, Step


def chunk_starts(start: int, stop: int, chunk_frames: int | None) -> list[int]:
    """First frames of the near-equal chunks of shot ``[start, stop)`` (just ``[start]`` unchunked)."""
    length = stop - start
    if chunk_frames is None or length <= chunk_frames:
        return [start]
    count = -(-length // chunk_frames)
    return [start + (length * c) // count for c in range(count)]


def shot_steps(
    start: int, stop: int, schedule: ScheduleConfig, offsets: tuple[int, ...], temporal: bool, chunk_frames: int | None
) -> tuple[dict[int, list[tuple[str, Step]]], dict[int, Ref]]:
    """The steps of shot ``[start, stop)``, by pass, each with the key of the unit it belongs to.

    Returns:
        ``({pass_index: [(unit key, step), …]}, {frame: the Ref of its final result})``.
    """
    keys = chunk_starts(start, stop, chunk_frames)
    chunked = len(keys) > 1
    passes = max(schedule.passes, 2) if chunked else schedule.passes
    bounds = keys + [stop]
    by_pass: dict[int, list[tuple[str, Step]]] = {p: [] for p in range(1, passes + 1)}
    for c, (first, end) in enumerate(zip(bounds, bounds[1:])):
        unit = f"shot{start}-chunk{c}" if chunked else f"shot{start}"
        key_unit = f"shot{start}-key{c}" if chunked else unit
        sweep_unit = f"shot{start}-sweep{c}" if chunked else unit
        previous_key = keys[c - 1] if c > 0 else None
        next_key = keys[c + 1] if chunked and c + 1 < len(keys) else None
        uses = temporal and 1 >= schedule.temporal_from_pass
        by_pass[1].append((key_unit, _key_step(first, start, previous_key, schedule, uses)))
        for frame in range(first + 1, end):
            by_pass[1].append((unit, _frame_step(frame, first, start, schedule, offsets, uses)))
        sweep = list(range(first + 1, end)) if chunked else list(range(first, end))
        for pass_index in range(2, passes + 1):
            uses = temporal and pass_index >= schedule.temporal_from_pass
            backward = pass_index % 2 == 0
            order = sweep[::-1] if backward else sweep
            anchor = (next_key if backward else first) if chunked else None
            previous = Ref(1, anchor) if anchor is not None else None
            for frame in order:
                step = _sweep_step(pass_index, frame, previous if uses else None, schedule)
                by_pass[pass_index].append((sweep_unit, step))
                previous = Ref(pass_index, frame)
    final = {f: Ref(passes, f) for f in range(start, stop)}
    if chunked:
        final.update({k: Ref(1, k) for k in keys})
    return by_pass, final


def _key_step(frame: int, shot_start: int, previous_key: int | None, schedule: ScheduleConfig, uses: bool) -> Step:
    if previous_key is None:  # the shot's first frame: a clip's first frame
        return Step(1, frame, schedule.iterations_first, Start(fresh=schedule.init_first),
                    from_scratch=schedule.init_first in FRESH_INITS)
    start = _start(frame, previous_key, shot_start, schedule)
    temporal = (Ref(1, previous_key),) if uses else ()
    return Step(1, frame, schedule.iterations_first, start, temporal, from_scratch=start.fresh is not None)


def _frame_step(
    frame: int, first: int, shot_start: int, schedule: ScheduleConfig, offsets: tuple[int, ...], uses: bool
) -> Step:
    start = _start(frame, frame - 1, shot_start, schedule)
    temporal = tuple(Ref(1, frame - j) for j in offsets if frame - j >= first) if uses else ()
    return Step(1, frame, schedule.iterations, start, temporal, from_scratch=start.fresh is not None)


def _start(frame: int, previous: int, shot_start: int, schedule: ScheduleConfig) -> Start:
    kind = schedule.init
    if kind in FRESH_INITS:
        return Start(fresh=kind)
    if kind is Init.FIRST:
        return Start(result=Ref(1, shot_start))
    return Start(result=Ref(1, previous), warped=kind is Init.PREV_WARPED)


def _sweep_step(pass_index: int, frame: int, neighbour: Ref | None, schedule: ScheduleConfig) -> Step:
    own = Ref(pass_index - 1, frame)
    if neighbour is None:
        return Step(pass_index, frame, schedule.pass_iterations, Start(result=own))
    return Step(pass_index, frame, schedule.pass_iterations, Start(result=own, neighbour=neighbour), (neighbour,))
