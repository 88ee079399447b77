"""Deinterlacing: interlaced footage (camcorder 1080i, broadcast) read as progressive frames.

An interlaced frame holds two fields recorded 1/50 or 1/60 s apart, so anything that moves is
drawn twice, shifted, on alternate lines ("combing"). Stylized as it is, the combs become part of
the picture, and optical flow between such frames follows neither field. :func:`progressive`
passes the frames of a clip whose first frame is flagged interlaced through FFmpeg's ``yadif``
(one output frame per input frame, so frame counts and indices are unchanged; frames flagged
progressive pass through it untouched); any other clip's frames are returned as they are.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterable, Iterator
from fractions import Fraction
from pathlib import Path

import av
import av.filter

from artvid.errors import VideoReadError
from artvid.video.avio import av_reason, note_once

log = logging.getLogger(__name__)

__all__ = ["progressive"]

DEINTERLACER = "yadif=mode=send_frame:parity=auto:deint=interlaced"
"""FFmpeg filter and options: one frame per frame, field order from each frame's flags."""


def progressive(frames: Iterable[av.VideoFrame], path: Path) -> Iterator[av.VideoFrame]:
    """``frames`` (decoded, in order) deinterlaced when the first one is flagged interlaced.

    Raises:
        VideoReadError: FFmpeg cannot deinterlace the frames, or returns fewer than it was given.
    """
    frames = iter(frames)
    first = next(frames, None)
    if first is None:
        return
    if not first.interlaced_frame:
        yield first
        yield from frames
        return
    note_once(log, path, "%s is interlaced: deinterlacing it (yadif)")
    given, returned = 0, 0
    try:
        graph = _graph(first)
        for frame in itertools.chain([first], frames):
            graph.push(frame)
            given += 1
            for out in _pull(graph):
                returned += 1
                yield out
        graph.push(None)
        for out in _pull(graph):
            returned += 1
            yield out
    except (av.FFmpegError, ValueError) as exc:
        raise VideoReadError(f"cannot deinterlace {path}: {av_reason(exc)}") from None
    if returned != given:
        raise VideoReadError(f"cannot deinterlace {path}: {given} frames in, {returned} out")


def _graph(first: av.VideoFrame) -> av.filter.Graph:
    graph = av.filter.Graph()
    name, _, options = DEINTERLACER.partition("=")
    source = graph.add_buffer(width=first.width, height=first.height, format=first.format.name,
                              time_base=first.time_base or Fraction(1, 1000))
    deinterlace = graph.add(name, options)
    sink = graph.add("buffersink")
    source.link_to(deinterlace)
    deinterlace.link_to(sink)
    graph.configure()
    return graph


def _pull(graph: av.filter.Graph) -> Iterator[av.VideoFrame]:
    while True:
        try:
            yield graph.pull()
        except (av.BlockingIOError, av.EOFError):
            return
