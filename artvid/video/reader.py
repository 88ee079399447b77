"""Reading a clip as a stream of frames, ``(H, W, 3) uint8`` RGB, one at a time."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from artvid.errors import ConfigError, ImageReadError, VideoReadError
from artvid.images import fit_into, load_image, resize_long_side, resize_to
from artvid.video.avio import AV_ERRORS, av_reason, note_once, open_video
from artvid.video.decode import decode_video
from artvid.video.hdr import hdr_transfer, to_sdr
from artvid.video.interlace import progressive
from artvid.video.inputs import check_input_path, check_size, fit_size, folder_images, header_size
from artvid.video.orientation import display_width, frame_orientation, pixel_aspect

__all__ = ["iter_frames"]

log = logging.getLogger(__name__)


def iter_frames(path: str | os.PathLike, size: int | None = None, start: int = 0,
                stop: int | None = None, upscale: bool = False) -> Iterator[np.ndarray]:
    """Stream the frames of a clip, one at a time.

    Frames are decoded in order (frames before ``start`` are decoded and dropped, which is exact
    whatever the keyframe layout), deinterlaced when the clip is interlaced (see
    :mod:`artvid.video.interlace`), mapped to SDR BT.709 when it is HDR (HLG or PQ, see
    :mod:`artvid.video.hdr`), given square pixels when they are not (anamorphic footage, see
    :mod:`artvid.video.orientation`), turned upright as the video's rotation metadata asks (see
    :mod:`artvid.video.orientation`), fitted into the first frame's size where the size changes
    mid-clip (aspect ratio kept, on black: :func:`artvid.images.fit_into`) and resized with ``cv2.INTER_AREA`` when shrinking,
    ``cv2.INTER_CUBIC`` when enlarging. Images in a folder are converted to RGB uint8 as by
    :func:`artvid.images.load_image` (gray, alpha on white, 16-bit scaled).

    Args:
        path: video file or image folder (see :func:`probe`).
        size: long side in pixels (see :func:`probe`), or ``None`` for the source size.
        start: index of the first frame to yield (0-based).
        stop: index one past the last frame to yield; ``None`` reads to the end. A ``stop`` beyond
            the clip is not an error.
        upscale: allow a ``size`` above the clip's long side (enlarging); refused by default.

    Returns:
        An iterator of ``(H, W, 3) uint8`` RGB frames, ``(H, W)`` as in ``probe(path, size)``.

    Raises:
        VideoReadError: as :func:`probe` (raised here for a missing/unreadable path, during
            iteration for a frame that cannot be read or a folder image of another size).
        ConfigError: ``size``, ``start``, ``stop`` or ``upscale`` is invalid (raised here), or
            ``size`` is above the clip's long side without ``upscale`` (raised at the first frame,
            which tells the size; :func:`probe` raises it at once).
    """
    check_size(size, upscale)
    if isinstance(start, bool) or not isinstance(start, (int, np.integer)) or start < 0:
        raise ConfigError(f"expected start to be an int >= 0, got {start!r}")
    if stop is not None and (isinstance(stop, bool) or not isinstance(stop, (int, np.integer)) or stop < start):
        raise ConfigError(f"expected stop to be None or an int >= start ({start}), got {stop!r}")
    path = check_input_path(path)
    if path.is_dir():
        files = folder_images(path)
        if not files:
            raise VideoReadError(f"expected image files in folder {path}, got none")
        return _iter_folder(files, size, start, stop, upscale)
    container = open_video(path)  # fail now, not at the first next()
    try:
        if not container.streams.video:
            raise VideoReadError(f"expected a video stream in {path}, got none")
        aspect = pixel_aspect(container.streams.video[0])
    finally:
        container.close()
    return _iter_video(path, size, start, stop, upscale, aspect)


def _iter_video(path: Path, size: int | None, start: int, stop: int | None, upscale: bool,
                aspect: Fraction) -> Iterator[np.ndarray]:
    orientation, transfer, shown = None, None, None

    def upright_first(frames: Iterator[av.VideoFrame]) -> Iterator[av.VideoFrame]:
        # Orientation and transfer are read from the decoder's first frame (the deinterlacer
        # drops its side data) and hold for the whole clip, as probe reports them.
        nonlocal orientation, transfer, shown
        for frame in frames:
            if orientation is None:
                orientation = frame_orientation(frame, path)
                shown = (display_width(frame.width, aspect), frame.height)
                fit_size(*shown, size, upscale)  # the long side is the same upright
                transfer = hdr_transfer(frame, path)
            yield frame

    for index, frame in enumerate(progressive(upright_first(decode_video(path)), path)):
        if stop is not None and index >= stop:
            break
        if index < start:
            continue
        try:
            # An HDR frame is resized as 16-bit signal and mapped at the size asked for: a 4K
            # clip read at --size 1024 maps a sixteenth of its pixels.
            rgb = frame.to_ndarray(format="rgb24" if transfer is None else "rgb48le")
        except AV_ERRORS as exc:
            raise VideoReadError(f"cannot convert frame {index} of {path} to RGB: {av_reason(exc)}") from None
        own = (display_width(frame.width, aspect), frame.height)
        if aspect != 1:
            rgb = resize_to(rgb, *own)
        if own != shown:
            # The size changed mid-clip (a stream recorded at adaptive quality, files joined
            # together): the frame is fitted into the first frame's size, which probe reports.
            note_once(log, path, "%s changes frame size at frame %d (%dx%d to %dx%d): fitting the frames into "
                      "the first size", index, *own, *shown)
            rgb = fit_into(rgb, *shown)
        rgb = resize_long_side(orientation.apply(rgb), size)
        yield rgb if transfer is None else to_sdr(rgb, transfer)


def _iter_folder(files: list[Path], size: int | None, start: int, stop: int | None,
                 upscale: bool) -> Iterator[np.ndarray]:
    expected = None
    for index, file in enumerate(files[start:stop], start=start):
        try:
            frame = load_image(file)
        except ImageReadError as exc:
            raise VideoReadError(f"frame {index}: {exc}") from None
        if expected is None:
            expected = header_size(files[0])
            fit_size(*expected, size, upscale)
        got = (frame.shape[1], frame.shape[0])
        if got != expected:
            raise VideoReadError(f"frame {file} has size {got[0]}x{got[1]}, expected {expected[0]}x{expected[1]} "
                                 f"like {files[0].name}")
        yield resize_long_side(frame, size)
