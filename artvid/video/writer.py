"""Writing frames: an H.264 mp4 that plays in browsers, or a folder of numbered PNGs."""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from artvid.errors import ConfigError, VideoWriteError
from artvid.files import default_file_mode
from artvid.images import check_frame, save_image
from artvid.video.audio import AudioCopy, open_audio_copy
from artvid.video.avio import AV_ERRORS, av_reason
from artvid.video.inputs import as_fps
from artvid.video.timing import FrameTimes

log = logging.getLogger(__name__)

__all__ = ["VIDEO_SUFFIXES", "VideoWriter", "write_frames"]

_OUTPUT_FORMATS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov"}
VIDEO_SUFFIXES = tuple(_OUTPUT_FORMATS)
"""The suffixes of the videos :class:`VideoWriter` writes."""
_TIMES_BASE = Fraction(1, 90000)
"""Time base of a video written with :class:`~artvid.video.timing.FrameTimes` (MPEG's clock)."""


class VideoWriter:
    """Encode frames to an H.264 (libx264, yuv420p, BT.709) mp4 that plays in browsers.

    - The frame rate is exact: the stream's rate is ``fps`` and its time base ``1 / fps``, frame
      ``i`` has timestamp ``i``, so ``probe`` reads back the same ``Fraction`` and frame count.
    - ``times`` (a variable-rate clip's :class:`~artvid.video.timing.FrameTimes`): frame ``i`` is
      shown from ``times.starts[i]`` instead (to 1/90000 s), until the next frame's start or
      ``times.end``, and the audio follows the same clock.
    - yuv420p needs even sides: an odd width or height is padded by one column/row on the right/
      bottom, replicating the edge pixels (the padding is in the file; nothing crops it).
    - ``audio_from``: the main audio stream of that file (its default one, else its first) is
      copied. aac, mp3, alac and opus packets are remuxed untouched; other codecs (pcm, vorbis,
      ...) are transcoded to AAC. Audio is interleaved with the video as frames arrive, timed
      from the source's first video frame and cut after the last video frame's end time, so a
      clip rendered from the first N frames gets the first N frames' audio. A file with no audio
      stream gives a silent output.
    - The file is written under a hidden temporary name in the target folder and renamed to
      ``path`` by :meth:`close`, so an interrupted render never leaves a half file under ``path``.
      Leaving a ``with`` block by an exception deletes the temporary file.
    - ``.mp4``/``.m4v`` and ``.mov`` are written with ``movflags=+faststart`` (index first, so
      playback starts before the download ends).

    Example::

        with VideoWriter("out.mp4", info.fps, info.width, info.height, audio_from=src) as writer:
            for frame in frames:
                writer.write(frame)

    Args:
        path: output file (``.mp4``, ``.m4v`` or ``.mov``); its folder must exist.
        fps: frame rate (Fraction, int, float or str like ``"30000/1001"``).
        width: frame width in pixels (before padding).
        height: frame height in pixels (before padding).
        audio_from: a media file whose audio is copied, or ``None``.
        crf: x264 constant rate factor, 0 (lossless) to 51; 18 is visually lossless.
        times: each frame's presentation time, or ``None`` for a constant ``fps``.

    Raises:
        VideoWriteError: the folder is missing or unwritable, the suffix is not supported, or
            FFmpeg fails (here, in :meth:`write` or in :meth:`close`).
        VideoReadError: ``audio_from`` exists but cannot be read.
        ConfigError: ``fps``, ``width``, ``height`` or ``crf`` is invalid.
    """

    def __init__(self, path: str | os.PathLike, fps, width: int, height: int,
                 audio_from: str | os.PathLike | None = None, crf: int = 18,
                 times: FrameTimes | None = None) -> None:
        self.path = Path(path)
        self.fps = as_fps(fps)
        self.times = times
        self._times_pts: list[int] = []
        if times is not None:
            self._times_pts = [round(start / _TIMES_BASE) for start in (*times.starts, times.end)]
            if any(b <= a for a, b in zip(self._times_pts, self._times_pts[1:])):
                raise ConfigError(f"expected frame times at least 1/{_TIMES_BASE.denominator} s apart")
        self._index_of = {pts: index for index, pts in enumerate(self._times_pts)}
        for name, value in (("width", width), ("height", height)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ConfigError(f"expected {name} to be a positive int, got {value!r}")
        if isinstance(crf, bool) or not isinstance(crf, (int, np.integer)) or not 0 <= crf <= 51:
            raise ConfigError(f"expected crf to be an int in [0, 51], got {crf!r}")
        self.width, self.height = int(width), int(height)
        self.frames_written = 0
        fmt = _OUTPUT_FORMATS.get(self.path.suffix.lower())
        if fmt is None:
            raise VideoWriteError(f"expected an output video ending in {', '.join(_OUTPUT_FORMATS)}, "
                                  f"got {self.path.name!r}")
        if not self.path.parent.is_dir():
            raise VideoWriteError(f"output folder does not exist: {self.path.parent}")
        self._container = None
        self._audio: AudioCopy | None = None
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{self.path.stem}.", suffix=f".partial{self.path.suffix}",
                                       dir=self.path.parent)
            os.close(fd)
        except OSError as exc:
            raise VideoWriteError(f"cannot write to folder {self.path.parent}: {exc.strerror or exc}") from None
        self._tmp = Path(tmp)
        try:
            self._open(fmt, int(crf), audio_from)
        except BaseException:
            self._discard()
            raise

    def _open(self, fmt: str, crf: int, audio_from) -> None:
        try:
            self._container = av.open(str(self._tmp), mode="w", format=fmt,
                                      container_options={"movflags": "+faststart"})
            stream = self._container.add_stream("libx264", rate=self.fps, options={"crf": str(crf)})
            stream.width = self.width + self.width % 2
            stream.height = self.height + self.height % 2
            stream.pix_fmt = "yuv420p"
            time_base = 1 / self.fps if self.times is None else _TIMES_BASE
            stream.time_base = time_base
            stream.codec_context.time_base = time_base
            # Tag the colours we convert with, so players and our own reader agree on them.
            ctx = stream.codec_context
            ctx.colorspace = int(av.video.reformatter.Colorspace.ITU709)
            ctx.color_range = int(av.video.reformatter.ColorRange.MPEG)
            ctx.color_primaries = int(av.video.reformatter.ColorPrimaries.BT709)
            ctx.color_trc = int(av.video.reformatter.ColorTrc.BT709)
            self._stream = stream
        except AV_ERRORS as exc:
            raise VideoWriteError(f"cannot create video {self.path}: {av_reason(exc)}") from None
        if audio_from is not None:
            self._audio = open_audio_copy(Path(audio_from), self._container, self.path)

    def _pts(self, index: int) -> int:
        """Frame ``index``'s timestamp in the stream's time base."""
        if self.times is None:
            return index
        if index >= len(self.times):
            raise VideoWriteError(f"cannot write frame {index + 1} to {self.path}: the clip's frame times "
                                  f"cover {len(self.times)} frames")
        return self._times_pts[index]

    def _shown_until(self, frames: int) -> float:
        """Seconds until which the first ``frames`` frames are shown."""
        return float(frames / self.fps if self.times is None else self.times.until(frames))

    def _mux_video(self, packets: list[av.Packet]) -> None:
        if self.times is not None:
            # Each frame lasts until the next one's start: the muxer would otherwise guess the
            # last frame's duration from the average rate.
            for packet in packets:
                index = self._index_of.get(packet.pts)
                if index is not None and index < len(self.times):
                    packet.duration = self._times_pts[index + 1] - packet.pts
        self._container.mux(packets)

    def _mux_audio_until(self, end: float | None) -> None:
        if self._audio is not None:
            self._audio.mux_until(end)

    def write(self, frame: np.ndarray) -> None:
        """Encode one frame.

        Args:
            frame: ``(height, width, 3) uint8`` RGB, the size given to the constructor.

        Raises:
            ValueError: wrong shape or dtype.
            VideoWriteError: the writer is closed or FFmpeg fails.
        """
        if self._container is None:
            raise VideoWriteError(f"cannot write to {self.path}: the writer is closed")
        check_frame(frame)
        if frame.shape[:2] != (self.height, self.width):
            raise ValueError(f"expected a frame of {self.height}x{self.width} (HxW), got "
                             f"{frame.shape[0]}x{frame.shape[1]}")
        pad_h, pad_w = self.height % 2, self.width % 2
        if pad_h or pad_w:
            frame = np.pad(frame, ((0, pad_h), (0, pad_w), (0, 0)), mode="edge")
        try:
            vframe = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
            vframe = vframe.reformat(format="yuv420p", dst_colorspace=av.video.reformatter.Colorspace.ITU709,
                                     dst_color_range=av.video.reformatter.ColorRange.MPEG)
            vframe.pts = self._pts(self.frames_written)
            vframe.time_base = self._stream.codec_context.time_base
            self._mux_video(self._stream.encode(vframe))
            self.frames_written += 1
            self._mux_audio_until(self._shown_until(self.frames_written))
        except AV_ERRORS as exc:
            raise VideoWriteError(f"cannot encode frame {self.frames_written} to {self.path}: "
                                  f"{av_reason(exc)}") from None

    def close(self) -> Path:
        """Finish the file and move it to ``path``. Closing twice is harmless.

        Returns:
            The output path.

        Raises:
            VideoWriteError: no frame was written, or FFmpeg or the rename fails (the temporary
                file is removed and nothing appears under ``path``).
        """
        if self._container is None:
            return self.path
        try:
            if self.frames_written == 0:
                raise VideoWriteError(f"expected at least one frame for {self.path}, got none")
            self._mux_video(self._stream.encode(None))
            self._mux_audio_until(self._shown_until(self.frames_written))
            self._container.close()
            self._container = None
            self._close_audio()
            os.chmod(self._tmp, default_file_mode())
            os.replace(self._tmp, self.path)
        except AV_ERRORS as exc:
            self._discard()
            raise VideoWriteError(f"cannot finish video {self.path}: {av_reason(exc)}") from None
        except BaseException:
            self._discard()
            raise
        return self.path

    def abort(self) -> None:
        """Stop writing and delete the temporary file; nothing appears under ``path``."""
        self._discard()

    def _close_audio(self) -> None:
        if self._audio is not None:
            self._audio.close()
            self._audio = None

    def _discard(self) -> None:
        if self._container is not None:
            try:
                self._container.close()
            except AV_ERRORS:
                pass  # the file is being thrown away; its trailer does not matter
            self._container = None
        self._close_audio()
        try:
            self._tmp.unlink(missing_ok=True)
        except OSError as exc:
            log.warning("cannot remove temporary file %s: %s", self._tmp, exc)

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self._discard()


def write_frames(folder: str | os.PathLike, frames: Iterable[np.ndarray], start_index: int = 1) -> list[Path]:
    """Write frames as numbered PNGs: ``000001.png``, ``000002.png``, ... (each atomically).

    Args:
        folder: existing output folder.
        frames: ``(H, W, 3) uint8`` RGB frames.
        start_index: number of the first file.

    Returns:
        The written paths, in order.

    Raises:
        VideoWriteError: the folder is missing or unwritable.
        ValueError: a frame is not ``(H, W, 3) uint8``.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise VideoWriteError(f"output folder does not exist: {folder}")
    if isinstance(start_index, bool) or not isinstance(start_index, (int, np.integer)) or start_index < 0:
        raise ConfigError(f"expected start_index to be an int >= 0, got {start_index!r}")
    return [save_image(folder / f"{index:06d}.png", frame) for index, frame in enumerate(frames, start=start_index)]
