"""Demuxing and decoding the first video stream, with the packet rules probe and reader share.

Size-0 packets (the demuxer's end-of-stream flush) and discard-flagged ones (cut by an edit list)
are skipped; reading stops at the first packet flagged corrupt (a truncated tail) or that fails to
decode. :func:`demux_count` counts exactly the packets :func:`decode_video` decodes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import av

from artvid.errors import VideoReadError
from artvid.video.avio import av_reason, open_video

log = logging.getLogger(__name__)

__all__ = ["decode_video", "demux_count", "frame_packets"]


def frame_packets(container, stream) -> Iterator[av.Packet]:
    """The stream's packets that hold a frame :func:`decode_video` decodes, in file order.

    Size-0 packets (the demuxer's end-of-stream flush) and discard-flagged ones (cut by an edit
    list, never shown) are skipped; the packets end at the first one flagged corrupt (a truncated
    tail: :func:`decode_video` stops there too). Demuxing errors reach the caller.
    """
    for packet in container.demux(stream):
        if packet.size == 0 or packet.is_discard:
            continue
        if packet.is_corrupt:
            return
        yield packet


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

    Decoding stops at the first packet that is flagged corrupt (a truncated tail) or fails to
    decode, or where demuxing fails; the decoder is then drained, so the frames it still holds
    (B-frame reordering) are not lost. :func:`demux_count` skips the same packets.
    """
    container = open_video(path)
    try:
        if not container.streams.video:
            raise VideoReadError(f"expected a video stream in {path}, got none")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"  # frame threads: same frames, faster
        count, problem = 0, None
        demuxer = container.demux(stream)
        while True:
            try:
                packet = next(demuxer)
            except StopIteration:
                break
            except av.FFmpegError as exc:
                problem = av_reason(exc)
                break
            if packet.size == 0 or packet.is_discard:
                continue
            if packet.is_corrupt:
                problem = "an incomplete packet"
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
        if problem and not quiet:
            log.warning("%s is damaged or truncated: read %d frames, then %s", path, count, problem)
    finally:
        container.close()

