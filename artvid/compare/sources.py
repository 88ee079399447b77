"""The compared clips as frames: probing, display names, evaluation size, aligned frame streams.

Every input is read as a stream, never loaded whole: :func:`aligned_frames` yields one list per
frame time with CONTENT's frame first and every STYLIZED frame resized to CONTENT's evaluation
size, and checks that each input has exactly CONTENT's frame count.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import cv2
import numpy as np

from artvid.compare.config import DEFAULT_MAX_SIDE, REFERENCE_NAME
from artvid.compare.result import CompareInput, CompareResult
from artvid.errors import ArtvidError, CompareError


def default_names(paths: Sequence[Path]) -> tuple[str, ...]:
    """Display names for inputs without ``names``: each path's stem, made unique (``x``, ``x_2``)."""
    names: list[str] = []
    for path in paths:
        base = (path.stem or path.name or "input").replace(",", "_")
        if base == REFERENCE_NAME:
            base = f"{base}_input"
        name, k = base, 2
        while name in names:
            name, k = f"{base}_{k}", k + 1
        names.append(name)
    return tuple(names)


def probe(path: Path, role: str):
    """:func:`artvid.video.probe` of one input, with errors that name its role and path.

    Args:
        path: Video file or image folder.
        role: ``"CONTENT"`` or ``"STYLIZED"``, for the message.

    Returns:
        The clip's :class:`artvid.video.VideoInfo`.

    Raises:
        CompareError: The path is missing or cannot be read as a clip.
    """
    from artvid import video

    if not path.exists():
        raise CompareError(f"{role} {path}: expected a video file or an image folder, got a missing path")
    try:
        return video.probe(path)
    except ArtvidError as exc:
        raise CompareError(f"{role} {path}: cannot be read ({exc})") from None


def eval_size(width: int, height: int, size: int | None) -> tuple[int, int, int]:
    """``(long side, width, height)`` of the evaluation grid of a ``width × height`` CONTENT clip.

    Args:
        width, height: CONTENT's native frame size.
        size: Requested long side, or None for CONTENT's own capped at :data:`DEFAULT_MAX_SIDE`.
    """
    from artvid.images import fit_long_side

    long_side = size if size is not None else min(max(width, height), DEFAULT_MAX_SIDE)
    eval_w, eval_h = fit_long_side(width, height, long_side)
    return long_side, eval_w, eval_h


def resize_to(frame: np.ndarray, width: int, height: int) -> np.ndarray:
    """``frame`` at ``width × height``: area averaging when shrinking, bilinear when enlarging."""
    if frame.shape[1] == width and frame.shape[0] == height:
        return frame
    shrinking = frame.shape[0] * frame.shape[1] > width * height
    return cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)


def _frames(path: Path, role: str, size: int | None, expected: int, exact: bool) -> Iterator[np.ndarray]:
    """The first ``expected`` frames of one input, checked to be all of them when ``exact``."""
    from artvid import video

    count = 0
    try:
        # Every input is read at CONTENT's evaluation size, which may enlarge a smaller input.
        for frame in video.iter_frames(path, size=size, upscale=True):
            if count == expected:
                if not exact:
                    return
                raise CompareError(f"{role} {path}: expected {expected} frames like CONTENT, got more")
            count += 1
            yield frame
    except CompareError:
        raise
    except ArtvidError as exc:
        raise CompareError(f"{role} {path}: cannot be read at frame {count} ({exc})") from None
    if count != expected:
        raise CompareError(f"{role} {path}: expected {expected} frames like CONTENT, got {count}")


def aligned_frames(
    inputs: Sequence[CompareInput], long_side: int, width: int, height: int, frame_count: int, exact: bool = True
) -> Iterator[list[np.ndarray]]:
    """The frames of every input, one list per frame time, all at the evaluation size.

    CONTENT is decoded at ``long_side`` and every input is then resized to ``width × height``.
    Memory holds one frame per input.

    Args:
        inputs: CONTENT first (``is_reference``), then the STYLIZED inputs.
        long_side: CONTENT's evaluation long side.
        width, height: Evaluation frame size.
        frame_count: Frames every input must have (the first ones read).
        exact: Whether an input with more frames is an error (else its later frames are not read).

    Yields:
        ``[content frame, stylized frame, ...]``, each ``(height, width, 3) uint8``, in
        ``inputs`` order.

    Raises:
        CompareError: An input cannot be read or has another frame count (after the last
            frame is consumed for a longer input).
    """
    streams = [
        _frames(i.path, "CONTENT" if i.is_reference else "STYLIZED", long_side if i.is_reference else None,
                frame_count, exact)
        for i in inputs
    ]
    for _ in range(frame_count):
        yield [resize_to(next(s), width, height) for s in streams]
    for stream in streams:
        # Each generator raises if a frame is left over.
        for _ in stream:
            pass


def iter_aligned(result: CompareResult) -> Iterator[list[np.ndarray]]:
    """The frames of every compared clip again, at the evaluation size, one list per frame.

    Streams the files, so memory holds one frame per input. Used by the report's side-by-side
    video.

    Yields:
        ``[content frame, stylized frame, ...]``, each ``(height, width, 3) uint8``, in
        ``result.inputs`` order.
    """
    long_side = max(result.width, result.height)
    exact = result.settings.get("frames") is None
    yield from aligned_frames(result.inputs, long_side, result.width, result.height, result.frame_count, exact)
