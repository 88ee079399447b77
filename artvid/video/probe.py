"""Probing a clip: frame size, exact frame rate, exact frame count and audio, as a VideoInfo."""

from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Literal

from artvid.errors import ConfigError, VideoReadError
from artvid.video.avio import open_video
from artvid.video.decode import decode_video, demux_count
from artvid.video.hdr import HDR_TRANSFERS
from artvid.video.inputs import (DEFAULT_FOLDER_FPS, IMAGE_SUFFIXES, as_fps, check_input_path, check_size,
                                 fit_size, folder_images, header_size)
from artvid.video.orientation import display_width, frame_orientation, pixel_aspect

__all__ = ["VideoInfo", "probe"]


@dataclass(frozen=True)
class VideoInfo:
    """What :func:`probe` learns about a clip.

    Attributes:
        path: the clip (video file or image folder).
        kind: ``"video"`` for a file, ``"folder"`` for a folder of images.
        width: frame width after resizing to the requested long side.
        height: frame height after resizing.
        source_width: width of the frames in the file(s), as displayed: after a video's rotation
            metadata (see :mod:`artvid.video.orientation`) or an image's EXIF orientation.
        source_height: height of the frames in the file(s), as displayed.
        fps: frame rate, exact (e.g. ``Fraction(30000, 1001)``).
        frame_count: number of frames :func:`iter_frames` yields.
        has_audio: whether the file has an audio stream (always ``False`` for folders).
        duration: ``frame_count / fps`` in seconds.
        interlaced: whether the frames are deinterlaced as they are read (the first decoded frame
            is flagged interlaced; see :mod:`artvid.video.interlace`).
        hdr: ``"HLG"`` or ``"PQ"`` for an HDR clip, whose frames are mapped to SDR as they are
            read (see :mod:`artvid.video.hdr`); None for SDR.
    """

    path: Path
    kind: Literal["video", "folder"]
    width: int
    height: int
    source_width: int
    source_height: int
    fps: Fraction
    frame_count: int
    has_audio: bool
    duration: float
    interlaced: bool = False
    hdr: str | None = None

    @property
    def read_as(self) -> str:
        """How the frames differ from the decoder's (``""`` when they do not): for cache keys, so
        that results from the frames as they were once read are not reused."""
        return ", ".join([*(["deinterlaced"] if self.interlaced else []),
                          *([f"{self.hdr} to SDR"] if self.hdr else [])])



def probe(path: str | os.PathLike, size: int | None = None, fps=None, upscale: bool = False) -> VideoInfo:
    """Describe a clip: frame size, exact frame rate, exact frame count, audio.

    Args:
        path: a video file, or a folder of images (png, jpg/jpeg, ppm, bmp, tif/tiff, webp; read in
            natural name order; other files are ignored; all must have the same size).
        size: long side of the frames :func:`iter_frames` yields, in pixels, aspect kept and each
            side rounded to the nearest integer (at least 1); ``None`` keeps the source size.
        fps: frame rate of an image folder (int, Fraction, float or str like ``"30000/1001"``);
            default 24. Video files carry their own rate, so passing ``fps`` for one is an error.
        upscale: allow a ``size`` above the clip's long side (enlarging); refused by default.

    Returns:
        A :class:`VideoInfo`.

    Raises:
        VideoReadError: the path is missing, not a video, has no video stream, no decodable frame,
            or (folder) no images or images of different sizes.
        ConfigError: ``size``, ``fps`` or ``upscale`` is invalid, or ``size`` is above the clip's
            long side without ``upscale``.
    """
    check_size(size, upscale)
    path = check_input_path(path)
    if path.is_dir():
        return _probe_folder(path, size, DEFAULT_FOLDER_FPS if fps is None else as_fps(fps), upscale)
    if fps is not None:
        raise ConfigError(f"expected fps only for an image folder; the video {path} has its own frame rate")
    return _probe_video(path, size, upscale)


def _probe_folder(path: Path, size: int | None, fps: Fraction, upscale: bool) -> VideoInfo:
    files = folder_images(path)
    if not files:
        raise VideoReadError(f"expected image files ({', '.join(sorted(IMAGE_SUFFIXES))}) in folder {path}, got none")
    src_w, src_h = header_size(files[0])
    width, height = fit_size(src_w, src_h, size, upscale)
    for file in files[1:]:
        got = header_size(file)
        if got != (src_w, src_h):
            raise VideoReadError(f"frame {file} has size {got[0]}x{got[1]}, expected {src_w}x{src_h} "
                                 f"like {files[0].name}")
    return VideoInfo(path=path, kind="folder", width=width, height=height, source_width=src_w,
                     source_height=src_h, fps=fps, frame_count=len(files), has_audio=False,
                     duration=float(len(files) / fps))


def _stream_fps(stream) -> Fraction | None:
    """The stream's frame rate: the average rate (frames / duration; the output's nominal rate,
    while a variable-rate clip's output keeps its frame times, see :mod:`artvid.video.timing`),
    replaced by FFmpeg's guessed base rate when the two agree within 0.01 %, since timestamp
    jitter turns an average such as 30000/1001 into an unwieldy fraction."""
    average, guessed = stream.average_rate, stream.guessed_rate
    if average and guessed and abs(Fraction(guessed) / Fraction(average) - 1) < Fraction(1, 10000):
        return Fraction(guessed.numerator, guessed.denominator)
    for rate in (average, guessed, stream.base_rate):
        if rate:
            return Fraction(rate.numerator, rate.denominator)
    return None


def _spans_ticks(count: int, first_pts: int | None, last_pts: int | None, ticks: int) -> bool:
    """Whether ``count`` frames, from ``first_pts`` to ``last_pts``, fill an index of ``ticks``
    time-base ticks up to its end (within two mean frame intervals), as a complete file's frames
    do, rather than ending early, as a truncated file's do. Only a time base finer than the
    frames' interval (two ticks or more apart) counts: where a tick is a frame, the index's count
    is a frame count."""
    if count < 2 or first_pts is None or last_pts is None or last_pts - first_pts < 2 * (count - 1):
        return False
    return last_pts + 2 * Fraction(last_pts - first_pts, count - 1) >= ticks


def _probe_video(path: Path, size: int | None, upscale: bool) -> VideoInfo:
    container = open_video(path)
    try:
        if not container.streams.video:
            others = (f"{len(container.streams.audio)} audio stream(s)" if container.streams
                      else "no streams at all: empty or truncated?")
            raise VideoReadError(f"expected a video stream in {path}, got none ({others})")
        stream = container.streams.video[0]
        has_audio = bool(container.streams.audio)
        fps = _stream_fps(stream)
        aspect = pixel_aspect(stream)
        claimed = stream.frames
        claimed_ticks = claimed > 0 and claimed == stream.duration
        tick = stream.time_base
        packets, first = demux_count(container, stream)
    finally:
        container.close()
    if first is None:
        raise VideoReadError(f"expected at least one decodable video frame in {path}, got none "
                             f"({packets} packet(s), {claimed} frame(s) claimed)")
    if fps is None:
        raise VideoReadError(f"expected a frame rate in {path}, got none")
    if claimed and claimed != packets:
        # The container's index disagrees with its data: the file is truncated or damaged. A
        # render of the frames that happen to decode would silently be shorter than the clip.
        count, first_pts, last_pts = 0, None, None
        for frame in decode_video(path, quiet=True):
            if count == 0:
                first_pts = frame.pts
            count, last_pts = count + 1, frame.pts
        if count != claimed and claimed_ticks and _spans_ticks(count, first_pts, last_pts, claimed):
            # An AVI whose rate is its time base (1/1000 from a variable-rate source) lists one
            # entry per tick, empty ones meaning "show the last frame on": its frame count is the
            # decoded one, and its rate that of its frames' mean interval.
            fps = Fraction(count - 1) / ((last_pts - first_pts) * tick)
        elif count != claimed:
            raise VideoReadError(
                f"{path} is truncated or damaged: expected the {claimed} frames its index lists, "
                f"got {count} decodable; re-encode it to keep those (e.g. ffmpeg -i IN -c:v libx264 OUT.mp4)"
            )
    else:
        count = packets
    src_w, src_h = frame_orientation(first, path).upright_size(display_width(first.width, aspect), first.height)
    width, height = fit_size(src_w, src_h, size, upscale)
    return VideoInfo(path=path, kind="video", width=width, height=height, source_width=src_w,
                     source_height=src_h, fps=fps, frame_count=count, has_audio=has_audio,
                     duration=float(count / fps), interlaced=bool(first.interlaced_frame),
                     hdr=HDR_TRANSFERS.get(getattr(first, "color_trc", None)))
