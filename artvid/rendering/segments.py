"""The steps of one shot: frames in order, keyframes and chunks, and the later passes' sweeps.

Ruder, Dosovitskiy & Brox 2016, Sec. 3.3 (pass 1: each frame started from the warped previous
result, with short- and long-term temporal targets) and Sec. 3.4 (passes 2…N: alternating sweeps
that blend each frame with its already updated neighbour). A shot starts like a clip's first
frame; nothing reaches across a cut.

**Chunks** (a shot longer than ``chunk_frames``). The shot is cut into near-equal chunks whose first
frames are *keyframes*. Keyframes are solved first, one after another, each from the previous
keyframe warped onto it (with that warp as its temporal target) and with the first frame's budget;
they are final after pass 1 (anchors never move). Every warp across more than one frame here (a
keyframe from the previous one, an anchor onto a tail frame) follows the consecutive flows in
between (:attr:`Step.chained`, :func:`flow.chain`), as the chunk's own chain of frames does: a
direct estimate across the span loses large motion, and a chunked plan needs no flow beyond the
consecutive pairs (and Ruder's long-term offsets). Then every chunk runs on its own, pass 1 forward
from its keyframe with temporal targets only inside the chunk. Its last few frames (the *tail*, at
most :data:`MAX_TAIL`) also get the keyframe the chunk runs into as an *anchor*: one more temporal
target whose share of the temporal weight grows towards the keyframe (:func:`anchor_weight`), so
the difference between the chunk's own chain and the next keyframe is spread over the tail in
equal steps instead of falling between two frames, and no pixels are averaged (the style term
keeps every tail frame a painting). Passes 2…N sweep inside the chunk between its two keyframes,
each sweep anchored the same way at the keyframe it runs into.

A chunk's frames depend on its two keyframes and its own frames only, so chunks run in parallel.
Units: ``key`` (one keyframe), ``chunk`` (pass 1 up to the tail: needs its own keyframe), ``tail``
(needs the next keyframe too) and ``sweep`` (passes 2…N), so a chunk starts as soon as its own
keyframe is solved.
"""

from __future__ import annotations

from dataclasses import replace

from artvid.multipass import FRESH_INITS, Init, ScheduleConfig
from artvid.rendering.steps import Ref, Start, Step


MAX_TAIL = 5  # frames; longer tails would warp across more than 5 frames of motion


def chunk_starts(start: int, stop: int, chunk_frames: int | None) -> list[int]:
    """First frames of the near-equal chunks of shot ``[start, stop)`` (just ``[start]`` unchunked)."""
    length = stop - start
    if chunk_frames is None or length <= chunk_frames:
        return [start]
    count = -(-length // chunk_frames)
    return [start + (length * c) // count for c in range(count)]


def tail_frames(chunk_length: int) -> int:
    """How many frames at a chunk's end are pulled onto the keyframe the chunk runs into."""
    return min(MAX_TAIL, chunk_length // 2)


def anchor_weight(distance: int) -> float:
    """Share of the temporal weight a tail frame ``distance`` frames before its keyframe gives it.

    ``2 / (distance + 2)``: 2/3 next to the keyframe, 1/2, 2/5, 1/3, 2/7 further back. Were every
    frame solved to the optimum of its temporal terms, ``1 / (distance + 1)`` would spread the
    chain's difference from the keyframe over the tail in equal steps; but a frame's budget stops
    short of that optimum and the longer warps of the tail's start are less reliable, so with it
    the difference still piled up on the last pairs (measured in ``bench/scale.py``). The stronger
    pull starts the transition earlier.
    """
    return 2.0 / (distance + 2)


def shot_steps(
    start: int, stop: int, schedule: ScheduleConfig, offsets: tuple[int, ...], temporal: bool, chunk_frames: int | None
) -> tuple[dict[int, list[tuple[str, Step]]], dict[int, Ref]]:
    """The steps of shot ``[start, stop)``, by pass, each with the key of the unit it belongs to.

    Returns:
        ``({pass_index: [(unit key, step), …]}, {frame: the Ref of its final result})``.
    """
    keys = chunk_starts(start, stop, chunk_frames)
    chunked = len(keys) > 1
    bounds = keys + [stop]
    by_pass: dict[int, list[tuple[str, Step]]] = {p: [] for p in range(1, schedule.passes + 1)}
    if not chunked:
        unit = f"shot{start}"
        by_pass[1].append((unit, _key_step(start, start, None, schedule, temporal)))
        by_pass[1] += [(unit, _frame_step(f, start, start, schedule, offsets, temporal)) for f in range(start + 1, stop)]
        _add_sweeps(by_pass, unit, list(range(start, stop)), None, None, schedule, temporal)
        return by_pass, {f: Ref(schedule.passes, f) for f in range(start, stop)}
    # Every keyframe comes first: a chunk's tail reads the next one.
    for c, first in enumerate(keys):
        by_pass[1].append((f"shot{start}-key{c}", _key_step(first, start, keys[c - 1] if c else None, schedule, temporal)))
    for c, (first, end) in enumerate(zip(bounds, bounds[1:])):
        own_key = Ref(1, first)
        next_key = Ref(1, end) if c + 1 < len(keys) else None
        tail = tail_frames(end - first) if next_key is not None else 0
        for frame in range(first + 1, end):
            step = _frame_step(frame, first, start, schedule, offsets, temporal)
            unit = f"shot{start}-chunk{c}"
            if _uses(temporal, 1, schedule) and end - frame <= tail:
                step, unit = _anchored(step, next_key, end - frame), f"shot{start}-tail{c}"
            by_pass[1].append((unit, step))
        _add_sweeps(by_pass, f"shot{start}-sweep{c}", list(range(first + 1, end)), own_key, next_key, schedule, temporal)
    final = {f: Ref(schedule.passes, f) for f in range(start, stop)}
    final.update({k: Ref(1, k) for k in keys})
    return by_pass, final


def _add_sweeps(
    by_pass: dict[int, list[tuple[str, Step]]], unit: str, frames: list[int], own_key: Ref | None,
    next_key: Ref | None, schedule: ScheduleConfig, temporal: bool,
) -> None:
    """Passes 2…N over ``frames``: backward from ``next_key``, forward from ``own_key``, alternately;
    in a chunk each sweep also runs into the keyframe at its far end (an anchored tail)."""
    for pass_index in range(2, schedule.passes + 1):
        uses = _uses(temporal, pass_index, schedule)
        backward = pass_index % 2 == 0
        order = frames[::-1] if backward else frames
        previous, far = (next_key, own_key) if backward else (own_key, next_key)
        for frame in order:
            step = _sweep_step(pass_index, frame, previous if uses else None, schedule)
            if uses and far is not None and abs(far.frame - frame) <= tail_frames(len(frames) + 1):
                step = _anchored(step, far, abs(far.frame - frame))
            by_pass[pass_index].append((unit, step))
            previous = Ref(pass_index, frame)


def _anchored(step: Step, key: Ref, distance: int) -> Step:
    return replace(step, anchor=key, anchor_weight=anchor_weight(distance))


def _key_step(frame: int, shot_start: int, previous_key: int | None, schedule: ScheduleConfig, temporal: bool) -> Step:
    if previous_key is None:  # the shot's first frame: a clip's first frame
        return Step(1, frame, schedule.iterations_first, Start(fresh=schedule.init_first),
                    from_scratch=schedule.init_first in FRESH_INITS, tolerance=schedule.tolerance_first)
    start = _start(frame, previous_key, shot_start, schedule)
    targets = (Ref(1, previous_key),) if _uses(temporal, 1, schedule) else ()
    # Ten or more frames apart, one direct estimate loses large motion; the chained flows follow it.
    return Step(1, frame, schedule.iterations_first, start, targets, from_scratch=start.fresh is not None,
                tolerance=schedule.tolerance_first, chained=True)


def _frame_step(
    frame: int, first: int, shot_start: int, schedule: ScheduleConfig, offsets: tuple[int, ...], temporal: bool
) -> Step:
    start = _start(frame, frame - 1, shot_start, schedule)
    targets = tuple(Ref(1, frame - j) for j in offsets if frame - j >= first) if _uses(temporal, 1, schedule) else ()
    return Step(1, frame, schedule.iterations, start, targets, from_scratch=start.fresh is not None)


def _uses(temporal: bool, pass_index: int, schedule: ScheduleConfig) -> bool:
    return temporal and pass_index >= schedule.temporal_from_pass


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
