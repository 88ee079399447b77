"""FFmpeg plumbing shared by reading and writing: opening a container, one-line error reasons."""

from __future__ import annotations

import logging
from pathlib import Path

import av

from artvid.errors import VideoReadError

__all__ = ["AV_ERRORS", "av_reason", "note_once", "open_video"]

# What PyAV raises for a file it cannot handle; all become VideoReadError or VideoWriteError.
AV_ERRORS = (av.FFmpegError, OSError, ValueError, UnicodeDecodeError)


def open_video(path: Path) -> av.container.InputContainer:
    """Open a media file for reading.

    Args:
        path: video (or audio) file.

    Returns:
        The open PyAV container; the caller closes it.

    Raises:
        VideoReadError: FFmpeg cannot open the file.
    """
    try:
        return av.open(str(path), mode="r")
    except AV_ERRORS as exc:
        raise VideoReadError(f"cannot read {path}: expected a video file (mp4, mov, mkv, avi, webm), got "
                             f"{av_reason(exc)}") from None


def av_reason(exc: BaseException) -> str:
    """One line describing an FFmpeg error without the path FFmpeg repeats in it."""
    if isinstance(exc, av.FFmpegError) and exc.strerror:
        return exc.strerror
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


_NOTED: set[tuple[str, Path]] = set()


def note_once(log: logging.Logger, path: Path, message: str, *args) -> None:
    """Log ``message`` about ``path`` at INFO the first time only: a render reads its clip several
    times (cuts, flow, levels, content), and each read finds the same thing."""
    if (log.name, path) not in _NOTED:
        _NOTED.add((log.name, path))
        log.info(message, path, *args)
