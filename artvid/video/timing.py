"""Frame times of a variable-frame-rate clip, so that its output shows each frame when the clip did.

Phones record at a variable rate (the rate falls in low light), and screen recordings and edited
clips often have uneven timestamps. Rewritten at a constant rate (the clip's average), such a clip
ends in sync with its audio but drifts from it in between: seconds, on a minute of footage that
slowed down for half of it. :func:`frame_times` reads each frame's presentation time from the
packets (no decoding) so that :class:`~artvid.video.writer.VideoWriter` can give every output
frame its source time; for a constant-rate clip it returns ``None`` and the output is written at
the constant rate as before.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

from artvid.video.avio import av_reason, open_video
from artvid.video.decode import frame_packets

log = logging.getLogger(__name__)

__all__ = ["FrameTimes", "frame_times"]

UNEVEN = Fraction(1, 4)
"""A clip whose frames all lie within this fraction of a frame interval of a constant rate is
written at that constant rate."""


@dataclass(frozen=True)
class FrameTimes:
    """When each frame of a clip is shown, in seconds from the first frame.

    Attributes:
        starts: Frame ``i`` is shown from ``starts[i]``; ``starts[0] == 0``, strictly increasing.
        end: When the last frame stops being shown (after ``starts[-1]``).
    """

    starts: tuple[Fraction, ...]
    end: Fraction

    def __post_init__(self) -> None:
        if not self.starts or self.starts[0] != 0:
            raise ValueError(f"expected frame times starting at 0, got {self.starts[:1]}")
        times = (*self.starts, self.end)
        if any(b <= a for a, b in zip(times, times[1:])):
            raise ValueError("expected strictly increasing frame times ending after the last start")

    def __len__(self) -> int:
        return len(self.starts)

    def until(self, frames: int) -> Fraction:
        """When the first ``frames`` frames have been shown: the next frame's start, or :attr:`end`."""
        return self.starts[frames] if frames < len(self.starts) else self.end

    def deviation(self, fps: Fraction) -> Fraction:
        """The largest distance of a frame's start from where a constant ``fps`` would put it."""
        return max(abs(start - Fraction(index) / fps) for index, start in enumerate(self.starts))


def frame_times(path: Path, fps: Fraction, count: int) -> FrameTimes | None:
    """The presentation times of the ``count`` frames of ``path``'s first video stream.

    The packets are those of :func:`artvid.video.decode.frame_packets` (one per decoded frame),
    their timestamps sorted into presentation order; the last frame lasts its packet's duration
    (``1 / fps`` without one).

    Args:
        path: A video file.
        fps: The rate the output would otherwise be written at (:attr:`VideoInfo.fps`).
        count: The clip's frame count (:attr:`VideoInfo.frame_count`).

    Returns:
        The frame times; ``None`` when every frame is within :data:`UNEVEN` of a frame interval of
        ``fps`` (a constant-rate clip), or when the timestamps cannot be trusted (missing,
        repeated, or not one per frame), in which case the output keeps the constant rate.
    """
    packets: list[tuple[int, int]] = []
    container = open_video(path)
    try:
        stream = container.streams.video[0]
        time_base = stream.time_base
        try:
            for packet in frame_packets(container, stream):
                if packet.pts is None or time_base is None:
                    log.debug("%s: a packet without a timestamp; writing %s fps", path, fps)
                    return None
                packets.append((packet.pts, packet.duration or 0))
        except av.FFmpegError as exc:
            log.debug("%s: demux stopped after %d packets: %s", path, len(packets), av_reason(exc))
    finally:
        container.close()
    if len(packets) != count or count == 0:
        log.debug("%s: %d timestamps for %d frames; writing %s fps", path, len(packets), count, fps)
        return None
    packets.sort()
    first, time_base = packets[0][0], Fraction(time_base)
    starts = tuple((pts - first) * time_base for pts, _ in packets)
    last_duration = packets[-1][1]
    end = starts[-1] + (last_duration * time_base if last_duration > 0 else 1 / fps)
    try:
        times = FrameTimes(starts, end)
    except ValueError:
        log.debug("%s: repeated timestamps; writing %s fps", path, fps)
        return None
    deviation = times.deviation(fps)
    if deviation <= UNEVEN / fps:
        return None
    log.info("%s has a variable frame rate (a frame %.0f ms away from %.3g fps): keeping its frame times",
             path, float(deviation) * 1000, float(fps))
    return times
