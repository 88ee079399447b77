"""Video and image-folder input, H.264 output.

Input is a video file (mp4, mov, mkv, avi, webm, ... anything FFmpeg demuxes) or a folder of
numbered images; both are read as a stream of *frames*, ``np.ndarray (H, W, 3) uint8`` RGB, never
the whole clip at once. Output is a browser-playable H.264/yuv420p mp4 at exactly the input's frame
rate, with the input's audio copied across, or a folder of numbered PNGs.

Rules the rest of artvid relies on:

- ``probe(path).frame_count`` is the number of frames ``iter_frames(path)`` yields. It comes from
  the container when the container's count agrees with a demux of the packets (cheap: no
  decoding); when the container lacks a count, the demuxed packet count is used; when the two
  disagree, the frames are decoded and counted, and fewer than the index lists (a truncated or
  damaged file) raises :class:`~artvid.errors.VideoReadError`: a render must not silently be
  shorter than its clip.
- ``iter_frames`` alone reads a damaged file up to its first undecodable packet and logs a
  warning. A file with no decodable frame at all raises :class:`~artvid.errors.VideoReadError`.
- Sizes: ``size`` is the long side in pixels; the aspect ratio is kept and each side is rounded to
  the nearest integer, at least 1 (see :func:`artvid.images.fit_long_side`). Sides may be odd.
- Every FFmpeg/OpenCV/Pillow failure surfaces as ``VideoReadError`` or ``VideoWriteError`` with a
  one-line message; no raw ``av`` exception escapes.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Literal

import av
import numpy as np
from PIL import Image

from artvid.errors import ConfigError, ImageReadError, VideoReadError, VideoWriteError
from artvid.files import default_file_mode
from artvid.images import check_frame as _check_frame, fit_long_side, load_image, resize_long_side, save_image

log = logging.getLogger(__name__)

__all__ = [
    "IMAGE_SUFFIXES",
    "VideoInfo",
    "VideoWriter",
    "content_hash",
    "iter_frames",
    "probe",
    "write_frames",
]

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".ppm", ".bmp", ".tif", ".tiff", ".webp"})
DEFAULT_FOLDER_FPS = Fraction(24)

# Audio codecs the mp4 muxer stores as they are; anything else is transcoded to AAC.
_REMUX_AUDIO = frozenset({"aac", "mp3", "alac", "opus"})
_OUTPUT_FORMATS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov"}
_AV_ERRORS = (av.FFmpegError, OSError, ValueError, UnicodeDecodeError)


@dataclass(frozen=True)
class VideoInfo:
    """What :func:`probe` learns about a clip.

    Attributes:
        path: the clip (video file or image folder).
        kind: ``"video"`` for a file, ``"folder"`` for a folder of images.
        width: frame width after resizing to the requested long side.
        height: frame height after resizing.
        source_width: width stored in the file(s).
        source_height: height stored in the file(s).
        fps: frame rate, exact (e.g. ``Fraction(30000, 1001)``).
        frame_count: number of frames :func:`iter_frames` yields.
        has_audio: whether the file has an audio stream (always ``False`` for folders).
        duration: ``frame_count / fps`` in seconds.
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


# --------------------------------------------------------------------------------------------
# Input
# --------------------------------------------------------------------------------------------


def _natural_key(name: str) -> list:
    """Sort key comparing digit runs as numbers, so ``f2.png`` < ``f10.png`` (zero-padded names
    sort the same as with plain ``sorted``)."""
    return [(0, int(part), part) if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", name)]


def _folder_images(folder: Path) -> list[Path]:
    """Image files directly in ``folder``, in natural name order."""
    try:
        names = [p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()]
    except OSError as exc:
        raise VideoReadError(f"cannot list image folder {folder}: {exc.strerror or exc}") from None
    return sorted(names, key=lambda p: _natural_key(p.name))


def _as_fps(fps, what: str = "fps") -> Fraction:
    """Validate a frame rate given as int, Fraction, float or string and return it exactly."""
    try:
        if isinstance(fps, float):
            # 29.97002997 -> 30000/1001; NTSC-style rates have denominators up to 1001.
            value = Fraction(fps).limit_denominator(1001)
        else:
            value = Fraction(fps)
    except (TypeError, ValueError, ZeroDivisionError):
        raise ConfigError(f"expected {what} to be a positive number, got {fps!r}") from None
    if value <= 0:
        raise ConfigError(f"expected {what} to be a positive number, got {fps!r}")
    return value


def _check_size(size) -> None:
    try:
        fit_long_side(1, 1, size)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def _header_size(path: Path) -> tuple[int, int]:
    """``(width, height)`` of an image as :func:`load_image` will return it, from the header
    when Pillow can read it (EXIF rotations by 90 degrees swap the sides)."""
    try:
        with Image.open(path) as img:
            width, height = img.size
            if img.getexif().get(0x0112) in (5, 6, 7, 8):
                width, height = height, width
            return width, height
    except (OSError, ValueError, SyntaxError):
        pass
    try:
        frame = load_image(path)
    except ImageReadError as exc:
        raise VideoReadError(str(exc)) from None
    return frame.shape[1], frame.shape[0]


def _open_video(path: Path) -> av.container.InputContainer:
    try:
        return av.open(str(path), mode="r")
    except _AV_ERRORS as exc:
        raise VideoReadError(f"cannot read {path}: expected a video file (mp4, mov, mkv, avi, webm), got "
                             f"{_av_reason(exc)}") from None


def _av_reason(exc: BaseException) -> str:
    """One line describing an FFmpeg error without the path FFmpeg repeats in it."""
    if isinstance(exc, av.FFmpegError) and exc.strerror:
        return exc.strerror
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _check_input_path(path: str | os.PathLike) -> Path:
    path = Path(path)
    if not path.exists():
        raise VideoReadError(f"input not found: {path}")
    if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES:
        raise VideoReadError(f"expected a video file or a folder of images, got a single image: {path}")
    return path


def probe(path: str | os.PathLike, size: int | None = None, fps=None) -> VideoInfo:
    """Describe a clip: frame size, exact frame rate, exact frame count, audio.

    Args:
        path: a video file, or a folder of images (png, jpg/jpeg, ppm, bmp, tif/tiff, webp; read in
            natural name order; other files are ignored; all must have the same size).
        size: long side of the frames :func:`iter_frames` yields, in pixels, aspect kept and each
            side rounded to the nearest integer (at least 1); ``None`` keeps the source size.
        fps: frame rate of an image folder (int, Fraction, float or str like ``"30000/1001"``);
            default 24. Video files carry their own rate, so passing ``fps`` for one is an error.

    Returns:
        A :class:`VideoInfo`.

    Raises:
        VideoReadError: the path is missing, not a video, has no video stream, no decodable frame,
            or (folder) no images or images of different sizes.
        ConfigError: ``size`` or ``fps`` is invalid.
    """
    _check_size(size)
    path = _check_input_path(path)
    if path.is_dir():
        return _probe_folder(path, size, DEFAULT_FOLDER_FPS if fps is None else _as_fps(fps))
    if fps is not None:
        raise ConfigError(f"expected fps only for an image folder; the video {path} has its own frame rate")
    return _probe_video(path, size)


def _probe_folder(path: Path, size: int | None, fps: Fraction) -> VideoInfo:
    files = _folder_images(path)
    if not files:
        raise VideoReadError(f"expected image files ({', '.join(sorted(IMAGE_SUFFIXES))}) in folder {path}, got none")
    src_w, src_h = _header_size(files[0])
    for file in files[1:]:
        got = _header_size(file)
        if got != (src_w, src_h):
            raise VideoReadError(f"frame {file} has size {got[0]}x{got[1]}, expected {src_w}x{src_h} "
                                 f"like {files[0].name}")
    width, height = fit_long_side(src_w, src_h, size)
    return VideoInfo(path=path, kind="folder", width=width, height=height, source_width=src_w,
                     source_height=src_h, fps=fps, frame_count=len(files), has_audio=False,
                     duration=float(len(files) / fps))


def _stream_fps(stream) -> Fraction | None:
    """The stream's frame rate: the average rate (frames / duration, which keeps a variable-rate
    clip in sync with its audio when rewritten at a constant rate), replaced by FFmpeg's guessed
    base rate when the two agree within 0.01 %, since timestamp jitter turns an average such as
    30000/1001 into an unwieldy fraction."""
    average, guessed = stream.average_rate, stream.guessed_rate
    if average and guessed and abs(Fraction(guessed) / Fraction(average) - 1) < Fraction(1, 10000):
        return Fraction(guessed.numerator, guessed.denominator)
    for rate in (average, guessed, stream.base_rate):
        if rate:
            return Fraction(rate.numerator, rate.denominator)
    return None


def _probe_video(path: Path, size: int | None) -> VideoInfo:
    container = _open_video(path)
    try:
        if not container.streams.video:
            others = (f"{len(container.streams.audio)} audio stream(s)" if container.streams
                      else "no streams at all: empty or truncated?")
            raise VideoReadError(f"expected a video stream in {path}, got none ({others})")
        stream = container.streams.video[0]
        has_audio = bool(container.streams.audio)
        fps = _stream_fps(stream)
        claimed = stream.frames
        packets, first = _demux_count(container, stream)
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
        count = sum(1 for _ in _decode_video(path, quiet=True))
        if count != claimed:
            raise VideoReadError(
                f"{path} is truncated or damaged: expected the {claimed} frames its index lists, "
                f"got {count} decodable; re-encode it to keep those (e.g. ffmpeg -i IN -c:v libx264 OUT.mp4)"
            )
    else:
        count = packets
    src_w, src_h = first
    width, height = fit_long_side(src_w, src_h, size)
    return VideoInfo(path=path, kind="video", width=width, height=height, source_width=src_w,
                     source_height=src_h, fps=fps, frame_count=count, has_audio=has_audio,
                     duration=float(count / fps))


def _demux_count(container, stream) -> tuple[int, tuple[int, int] | None]:
    """Count the stream's packets without decoding them, decoding only until a first frame appears.

    Returns:
        ``(packet count, (width, height) of the first decoded frame or None)``.
    """
    packets, first = 0, None
    try:
        for packet in container.demux(stream):
            # Size-0 packets are the demuxer's end-of-stream flush; discard-flagged ones are cut by
            # an edit list and never shown.
            if packet.size == 0 or packet.is_discard:
                continue
            if packet.is_corrupt:  # truncated tail: _decode_video stops here too
                break
            packets += 1
            if first is None:
                try:
                    for frame in packet.decode():
                        first = (frame.width, frame.height)
                        break
                except av.FFmpegError:
                    break  # _decode_video stops at this packet too
    except av.FFmpegError as exc:
        log.info("demux stopped early after %d packets: %s", packets, _av_reason(exc))
    if first is None and packets:
        try:
            for frame in stream.codec_context.decode(None):  # drain frames the decoder delayed
                first = (frame.width, frame.height)
                break
        except av.FFmpegError:
            pass
    return packets, first


def _decode_video(path: Path, quiet: bool = False) -> Iterator[av.VideoFrame]:
    """Decoded frames of the first video stream.

    Decoding stops at the first packet that is flagged corrupt (a truncated tail) or fails to
    decode, or where demuxing fails; the decoder is then drained, so the frames it still holds
    (B-frame reordering) are not lost. :func:`_demux_count` skips the same packets.
    """
    container = _open_video(path)
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
                problem = _av_reason(exc)
                break
            if packet.size == 0 or packet.is_discard:
                continue
            if packet.is_corrupt:
                problem = "an incomplete packet"
                break
            try:
                frames = packet.decode()
            except av.FFmpegError as exc:
                problem = _av_reason(exc)
                break
            for frame in frames:
                count += 1
                yield frame
        try:
            for frame in stream.codec_context.decode(None):
                count += 1
                yield frame
        except av.FFmpegError as exc:
            problem = problem or _av_reason(exc)
        if count == 0:
            detail = f" ({problem})" if problem else ""
            raise VideoReadError(f"expected at least one decodable video frame in {path}, got none{detail}")
        if problem and not quiet:
            log.warning("%s is damaged or truncated: read %d frames, then %s", path, count, problem)
    finally:
        container.close()


def iter_frames(path: str | os.PathLike, size: int | None = None, start: int = 0,
                stop: int | None = None) -> Iterator[np.ndarray]:
    """Stream the frames of a clip, one at a time.

    Frames are decoded in order (frames before ``start`` are decoded and dropped, which is exact
    whatever the keyframe layout) and resized with ``cv2.INTER_AREA`` when shrinking,
    ``cv2.INTER_CUBIC`` when enlarging. Images in a folder are converted to RGB uint8 as by
    :func:`artvid.images.load_image` (gray, alpha on white, 16-bit scaled).

    Args:
        path: video file or image folder (see :func:`probe`).
        size: long side in pixels (see :func:`probe`), or ``None`` for the source size.
        start: index of the first frame to yield (0-based).
        stop: index one past the last frame to yield; ``None`` reads to the end. A ``stop`` beyond
            the clip is not an error.

    Returns:
        An iterator of ``(H, W, 3) uint8`` RGB frames, ``(H, W)`` as in ``probe(path, size)``.

    Raises:
        VideoReadError: as :func:`probe` (raised here for a missing/unreadable path, during
            iteration for a frame that cannot be read or a folder image of another size).
        ConfigError: ``size``, ``start`` or ``stop`` is invalid.
    """
    _check_size(size)
    if isinstance(start, bool) or not isinstance(start, (int, np.integer)) or start < 0:
        raise ConfigError(f"expected start to be an int >= 0, got {start!r}")
    if stop is not None and (isinstance(stop, bool) or not isinstance(stop, (int, np.integer)) or stop < start):
        raise ConfigError(f"expected stop to be None or an int >= start ({start}), got {stop!r}")
    path = _check_input_path(path)
    if path.is_dir():
        files = _folder_images(path)
        if not files:
            raise VideoReadError(f"expected image files in folder {path}, got none")
        return _iter_folder(files, size, start, stop)
    container = _open_video(path)  # fail now, not at the first next()
    has_video = bool(container.streams.video)
    container.close()
    if not has_video:
        raise VideoReadError(f"expected a video stream in {path}, got none")
    return _iter_video(path, size, start, stop)


def _iter_video(path: Path, size: int | None, start: int, stop: int | None) -> Iterator[np.ndarray]:
    for index, frame in enumerate(_decode_video(path)):
        if stop is not None and index >= stop:
            break
        if index < start:
            continue
        try:
            rgb = frame.to_ndarray(format="rgb24")
        except _AV_ERRORS as exc:
            raise VideoReadError(f"cannot convert frame {index} of {path} to RGB: {_av_reason(exc)}") from None
        yield resize_long_side(rgb, size)


def _iter_folder(files: list[Path], size: int | None, start: int, stop: int | None) -> Iterator[np.ndarray]:
    expected = None
    for index, file in enumerate(files[start:stop], start=start):
        try:
            frame = load_image(file)
        except ImageReadError as exc:
            raise VideoReadError(f"frame {index}: {exc}") from None
        if expected is None:
            expected = _header_size(files[0])
        got = (frame.shape[1], frame.shape[0])
        if got != expected:
            raise VideoReadError(f"frame {file} has size {got[0]}x{got[1]}, expected {expected[0]}x{expected[1]} "
                                 f"like {files[0].name}")
        yield resize_long_side(frame, size)


def content_hash(path: str | os.PathLike) -> str:
    """A stable hash of a clip's content, for cache keys.

    SHA-256 over the file bytes (read in 1 MiB chunks, so a large clip is never held in memory:
    about a second per GB); for a folder, over each image's name, size and bytes in reading
    order. Unrelated files in the folder, file times and the path itself do not count.

    Args:
        path: video file or image folder.

    Returns:
        64 lowercase hex digits.

    Raises:
        VideoReadError: the path is missing or unreadable.
    """
    path = Path(path)
    if not path.exists():
        raise VideoReadError(f"input not found: {path}")
    digest = hashlib.sha256()
    try:
        if path.is_dir():
            digest.update(b"artvid-folder\0")
            for file in _folder_images(path):
                digest.update(file.name.encode("utf-8", "surrogateescape") + b"\0")
                digest.update(file.stat().st_size.to_bytes(8, "little"))
                hash_file(digest, file)
        else:
            digest.update(b"artvid-video\0")
            hash_file(digest, path)
    except OSError as exc:
        raise VideoReadError(f"cannot read {path} to hash it: {exc.strerror or exc}") from None
    return digest.hexdigest()


def hash_file(digest, file: Path) -> None:
    """Feed a file's bytes to a hashlib ``digest`` in 1 MiB chunks (never the whole file in memory)."""
    with open(file, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)


# --------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------


def _standard_layout(stream) -> str:
    """A named channel layout for the AAC encoder, which rejects unnamed ones ("1 channels",
    as Matroska PCM tracks report)."""
    named = {1: "mono", 2: "stereo", 3: "2.1", 4: "quad", 5: "5.0", 6: "5.1", 7: "6.1", 8: "7.1"}
    layout = stream.layout
    if layout.name in named.values():
        return layout.name
    return named.get(stream.channels, "stereo")


class VideoWriter:
    """Encode frames to an H.264 (libx264, yuv420p, BT.709) mp4 that plays in browsers.

    - The frame rate is exact: the stream's rate is ``fps`` and its time base ``1 / fps``, frame
      ``i`` has timestamp ``i``, so ``probe`` reads back the same ``Fraction`` and frame count.
    - yuv420p needs even sides: an odd width or height is padded by one column/row on the right/
      bottom, replicating the edge pixels (the padding is in the file; nothing crops it).
    - ``audio_from``: the first audio stream of that file is copied. aac, mp3, alac and opus
      packets are remuxed untouched; other codecs (pcm, vorbis, ...) are transcoded to AAC. Audio
      is interleaved with the video as frames arrive and cut after the last video frame's end
      time, so a clip rendered from the first N frames gets the first N frames' audio. A file with
      no audio stream gives a silent output.
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

    Raises:
        VideoWriteError: the folder is missing or unwritable, the suffix is not supported, or
            FFmpeg fails (here, in :meth:`write` or in :meth:`close`).
        VideoReadError: ``audio_from`` exists but cannot be read.
        ConfigError: ``fps``, ``width``, ``height`` or ``crf`` is invalid.
    """

    def __init__(self, path: str | os.PathLike, fps, width: int, height: int,
                 audio_from: str | os.PathLike | None = None, crf: int = 18) -> None:
        self.path = Path(path)
        self.fps = _as_fps(fps)
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
        self._audio_in = None
        self._audio_packets: Iterator[av.Packet] | None = None
        self._pending_audio: av.Packet | None = None
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
            stream.time_base = 1 / self.fps
            stream.codec_context.time_base = 1 / self.fps
            # Tag the colours we convert with, so players and our own reader agree on them.
            ctx = stream.codec_context
            ctx.colorspace = int(av.video.reformatter.Colorspace.ITU709)
            ctx.color_range = int(av.video.reformatter.ColorRange.MPEG)
            ctx.color_primaries = int(av.video.reformatter.ColorPrimaries.BT709)
            ctx.color_trc = int(av.video.reformatter.ColorTrc.BT709)
            self._stream = stream
        except _AV_ERRORS as exc:
            raise VideoWriteError(f"cannot create video {self.path}: {_av_reason(exc)}") from None
        if audio_from is not None:
            self._open_audio(Path(audio_from))

    def _open_audio(self, source: Path) -> None:
        if not source.exists():
            raise VideoReadError(f"audio source not found: {source}")
        self._audio_in = _open_video(source)
        if not self._audio_in.streams.audio:
            log.info("%s has no audio stream; writing a silent video", source)
            self._audio_in.close()
            self._audio_in = None
            return
        in_stream = self._audio_in.streams.audio[0]
        codec = in_stream.codec_context.codec.canonical_name  # "mp3", not the decoder's "mp3float"
        try:
            if codec in _REMUX_AUDIO:
                out_stream = self._container.add_stream_from_template(in_stream)
                self._audio_packets = self._remux_audio(in_stream, out_stream)
            else:
                out_stream = self._container.add_stream("aac", rate=in_stream.rate)
                out_stream.layout = _standard_layout(in_stream)
                self._audio_packets = self._transcode_audio(in_stream, out_stream)
        except _AV_ERRORS as exc:
            raise VideoWriteError(f"cannot add the audio of {source} to {self.path}: {_av_reason(exc)}") from None
        log.debug("audio from %s: %s (%s)", source, codec, "remux" if codec in _REMUX_AUDIO else "to aac")

    def _remux_audio(self, in_stream, out_stream) -> Iterator[av.Packet]:
        for packet in self._audio_in.demux(in_stream):
            if packet.dts is None:  # demuxer flush packet
                continue
            packet.stream = out_stream
            yield packet

    def _transcode_audio(self, in_stream, out_stream) -> Iterator[av.Packet]:
        samples = 0
        for packet in self._audio_in.demux(in_stream):
            for frame in packet.decode():
                # Timestamps counted in samples: continuous whatever the source's time base.
                frame.pts = samples
                frame.time_base = Fraction(1, frame.sample_rate)
                samples += frame.samples
                yield from out_stream.encode(frame)
        yield from out_stream.encode(None)

    def _mux_audio_until(self, end: float | None) -> None:
        """Mux audio packets starting before ``end`` seconds (all when ``None``)."""
        if self._audio_packets is None:
            return
        while True:
            if self._pending_audio is None:
                self._pending_audio = next(self._audio_packets, None)
                if self._pending_audio is None:
                    self._audio_packets = None
                    return
            packet = self._pending_audio
            ts = packet.pts if packet.pts is not None else packet.dts
            if end is not None and ts is not None and float(ts * packet.time_base) >= end:
                return
            self._container.mux(packet)
            self._pending_audio = None

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
        _check_frame(frame)
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
            vframe.pts = self.frames_written
            vframe.time_base = self._stream.codec_context.time_base
            self._container.mux(self._stream.encode(vframe))
            self.frames_written += 1
            self._mux_audio_until(float(self.frames_written / self.fps))
        except _AV_ERRORS as exc:
            raise VideoWriteError(f"cannot encode frame {self.frames_written} to {self.path}: "
                                  f"{_av_reason(exc)}") from None

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
            self._container.mux(self._stream.encode(None))
            self._mux_audio_until(float(self.frames_written / self.fps))
            self._container.close()
            self._container = None
            self._close_audio()
            os.chmod(self._tmp, default_file_mode())
            os.replace(self._tmp, self.path)
        except _AV_ERRORS as exc:
            self._discard()
            raise VideoWriteError(f"cannot finish video {self.path}: {_av_reason(exc)}") from None
        except BaseException:
            self._discard()
            raise
        return self.path

    def abort(self) -> None:
        """Stop writing and delete the temporary file; nothing appears under ``path``."""
        self._discard()

    def _close_audio(self) -> None:
        self._audio_packets = None
        self._pending_audio = None
        if self._audio_in is not None:
            self._audio_in.close()
            self._audio_in = None

    def _discard(self) -> None:
        if self._container is not None:
            try:
                self._container.close()
            except _AV_ERRORS:
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
