"""Demuxing and decoding the first video stream, with the packet rules probe and reader share.

Size-0 packets (the demuxer's end-of-stream flush) and discard-flagged ones (cut by an edit list)
are skipped. A packet flagged corrupt is decoded like any other when packets follow it (a glitch
in a broadcast recording, or the seam of MPEG-TS files joined with ``cat``, which FFmpeg decodes
through) and dropped when it is the last (a truncated tail, which would decode to a half-grey
frame). Reading stops at a packet that fails to decode. :func:`demux_count` counts exactly the
packets :func:`decode_video` decodes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import av

from artvid.errors import VideoReadError
from artvid.video.avio import av_reason, note_once, open_video

log = logging.getLogger(__name__)

__all__ = ["DROPPED", "KEPT", "decode_video", "demux_count", "frame_packets"]

KEPT = "kept"
"""A corrupt packet with packets after it: decoded (see :func:`frame_packets`)."""
DROPPED = "dropped"
"""A corrupt packet at the end of the stream: not decoded."""


def frame_packets(container, stream, damage: list[str] | None = None) -> Iterator[av.Packet]:
    """The stream's packets that hold a frame :func:`decode_video` decodes, in file order.

    Size-0 packets (the demuxer's end-of-stream flush) and discard-flagged ones (cut by an edit
    list, never shown) are skipped. A packet flagged corrupt is held until the next one arrives:
    kept when one does, dropped at the end of the stream (see the module docstring). Demuxing
    errors reach the caller.

    Args:
        container: The open container.
        stream: Its video stream.
        damage: If given, :data:`KEPT` is appended to it for each corrupt packet kept and
            :data:`DROPPED` for one dropped at the end.
    """
    held = None
    for packet in container.demux(stream):
        if packet.size == 0 or packet.is_discard:
            continue
        if held is not None:
            if damage is not None:
                damage.append(KEPT)
            yield held
            held = None
        if packet.is_corrupt:
            held = packet
            continue
        yield packet
    if held is not None and damage is not None:
        damage.append(DROPPED)


def demux_count(container, stream) -> tuple[int, av.VideoFrame | None]:
    """Count the stream's packets without decoding them, decoding only until a first frame appears.

    Returns:
        ``(packet count, the first decoded frame or None)``.
    """
    packets, first = 0, None
    try:
        for packet in frame_packets(container, stream):
            packets += 1
            if first is None:
                try:
                    for frame in packet.decode():
                        first = frame
                        break
                except av.FFmpegError:
                    break  # decode_video stops at this packet too
    except av.FFmpegError as exc:
        log.info("demux stopped early after %d packets: %s", packets, av_reason(exc))
    if first is None and packets:
        try:
            for frame in stream.codec_context.decode(None):  # drain frames the decoder delayed
                first = frame
                break
        except av.FFmpegError:
            pass
    return packets, first


def decode_video(path: Path, quiet: bool = False) -> Iterator[av.VideoFrame]:
    """Decoded frames of the first video stream.

    The packets are those of :func:`frame_packets` (a corrupt one is decoded unless it is the
    last); decoding stops at a packet that fails to decode or where demuxing fails, and the
    decoder is then drained, so the frames it still holds (B-frame reordering) are not lost.
    :func:`demux_count` counts the same packets. Damage is logged unless ``quiet``.
    """
    container = open_video(path)
    try:
        if not container.streams.video:
            raise VideoReadError(f"expected a video stream in {path}, got none")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"  # frame threads: same frames, faster
        count, problem, damaged = 0, None, []
        packets = frame_packets(container, stream, damaged)
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                break
            except av.FFmpegError as exc:
                problem = av_reason(exc)
                break
            try:
                frames = packet.decode()
            except av.FFmpegError as exc:
                problem = av_reason(exc)
                break
            for frame in frames:
                count += 1
                yield frame
        try:
            for frame in stream.codec_context.decode(None):
                count += 1
                yield frame
        except av.FFmpegError as exc:
            problem = problem or av_reason(exc)
        if count == 0:
            detail = f" ({problem})" if problem else ""
            raise VideoReadError(f"expected at least one decodable video frame in {path}, got none{detail}")
        if DROPPED in damaged:
            problem = problem or "an incomplete packet"
        if problem and not quiet:
            log.warning("%s is damaged or truncated: read %d frames, then %s", path, count, problem)
        elif KEPT in damaged and not quiet:
            note_once(log, path, "%s has %d damaged packet(s) (a glitch in the recording, or files joined "
                      "together): decoded through them", damaged.count(KEPT))
    finally:
        container.close()

