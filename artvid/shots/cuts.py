"""The cuts of a clip as users give them (``--cuts``) and the shots they make.

Cuts are the 0-based indices of the first frame of each new shot (never 0: frame 0 always starts
the first shot). Users write them 1-based, as the output file names count: ``--cuts 120,340``
starts new shots at ``000120.png`` and ``000340.png``; ``0`` means one shot, ``auto`` detection
(:func:`artvid.shots.detect_cuts`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from artvid.errors import ConfigError

__all__ = ["check_cuts", "crosses_cut", "format_cuts", "normalise_cuts", "parse_cuts", "resolve_cuts", "shots"]

_NUMBER = re.compile(r"[0-9]+")


def parse_cuts(text: str) -> tuple[int, ...] | None:
    """Parse the ``--cuts`` option.

    Args:
        text: ``"auto"`` to detect cuts; ``"0"`` for none (one shot); else comma-separated 1-based
            numbers of the first frame of each new shot, as the output files count them
            (``"120,340"`` for ``000120.png`` and ``000340.png``), in any order. Frame 1 always
            starts the first shot, so listing it is refused as a likely off-by-one.

    Returns:
        ``None`` for ``"auto"``, else the 0-based indices, ascending (``()`` for ``"0"``).

    Raises:
        ConfigError: for anything else: junk, an empty item, a number below 2, a duplicate, or
            0 among other numbers.
    """
    if not isinstance(text, str):
        raise ConfigError(f"expected cuts as a string ('auto', '0' or frame numbers like '120,340'), got {text!r}")
    spec = text.strip().lower()
    if spec == "auto":
        return None
    if spec == "0":
        return ()
    items = [item.strip() for item in spec.split(",")]
    numbers = []
    for item in items:
        if not _NUMBER.fullmatch(item):
            raise ConfigError(f"expected cuts as 'auto', '0' or frame numbers like '120,340', got {text!r} "
                              f"(bad item {item!r})")
        numbers.append(int(item))
    if 0 in numbers:
        raise ConfigError(f"expected frame numbers >= 2 ('0' alone turns cuts off), got {text!r}")
    if 1 in numbers:
        raise ConfigError(f"expected frame numbers >= 2 (frame 1 always starts the first shot), got {text!r}")
    duplicates = sorted({n for n in numbers if numbers.count(n) > 1})
    if duplicates:
        raise ConfigError(f"expected each cut once, got {', '.join(map(str, duplicates))} more than once in {text!r}")
    return tuple(n - 1 for n in sorted(numbers))


def normalise_cuts(text: str) -> str:
    """A ``cuts`` setting checked and written the one way :func:`format_cuts` writes it (``"auto"``
    stays ``"auto"``), for config fields.

    Raises:
        ConfigError: As :func:`parse_cuts`, its message starting with ``cuts:``.
    """
    try:
        parsed = parse_cuts(text)
    except ConfigError as exc:
        raise ConfigError(f"cuts: {exc}") from None
    return "auto" if parsed is None else format_cuts(parsed)


def format_cuts(cuts: Sequence[int]) -> str:
    """The ``--cuts`` text for 0-based ``cuts``: ``"0"`` for none, else ``"120,340"``; inverse of :func:`parse_cuts`."""
    return ",".join(str(c + 1) for c in cuts) if cuts else "0"


def check_cuts(cuts: Sequence[int], frame_count: int) -> tuple[int, ...]:
    """Check 0-based cuts against a clip of ``frame_count`` frames.

    Args:
        cuts: 0-based indices of the first frame of each new shot.
        frame_count: frames in the clip, at least 1.

    Returns:
        ``cuts`` as a tuple.

    Raises:
        ConfigError: a cut is not an int, is not in ``1 .. frame_count - 1``, or the cuts are not
            strictly ascending. Messages count frames from 1, as the user wrote them.
    """
    if isinstance(frame_count, bool) or not isinstance(frame_count, (int, np.integer)) or frame_count < 1:
        raise ConfigError(f"expected frame_count to be an int >= 1, got {frame_count!r}")
    previous = 0
    for cut in cuts:
        if isinstance(cut, bool) or not isinstance(cut, (int, np.integer)):
            raise ConfigError(f"expected cuts to be frame indices (int), got {cut!r}")
        if not 1 <= cut < frame_count:
            raise ConfigError(f"expected cuts at frames 2..{frame_count} of a {frame_count}-frame clip, "
                              f"got frame {cut + 1}")
        if cut <= previous:
            raise ConfigError(f"expected cuts in ascending order, each once, got frame {cut + 1} after {previous + 1}")
        previous = cut
    return tuple(int(c) for c in cuts)


def shots(frame_count: int, cuts: Sequence[int]) -> list[range]:
    """Split a clip into shots.

    Args:
        frame_count: frames in the clip, at least 1.
        cuts: 0-based indices of the first frame of each new shot (see :func:`check_cuts`).

    Returns:
        The shots as ranges of 0-based frame indices, in order, covering ``range(frame_count)``.

    Raises:
        ConfigError: as :func:`check_cuts`.
    """
    starts = [0, *check_cuts(cuts, frame_count)]
    return [range(start, stop) for start, stop in zip(starts, [*starts[1:], frame_count])]


def resolve_cuts(clip, text: str, frame_count: int) -> tuple[int, ...]:
    """The 0-based cuts of ``clip`` for a ``--cuts`` setting: as given, or detected for ``auto``.

    Args:
        clip: The clip (video file or image folder), read only for ``auto``.
        text: The setting (see :func:`parse_cuts`).
        frame_count: Frames of the clip, or the first this many that are used (cuts detected
            beyond them are left out).

    Raises:
        ConfigError: A given cut lies outside the clip.
    """
    parsed = parse_cuts(text)
    if parsed is not None:
        return check_cuts(parsed, frame_count)
    if frame_count < 2:
        return ()
    from artvid.shots.detect import MIN_SIDE, detect_clip_cuts
    from artvid.video import probe

    info = probe(clip)
    if max(info.width, info.height) < MIN_SIDE:
        return ()  # too small to measure flow: one shot
    # Within the frames scored or rendered (``frame_count`` may be fewer than the clip's).
    return check_cuts(tuple(c for c in detect_clip_cuts(clip) if c < frame_count), frame_count)


def crosses_cut(a: int, b: int, cuts: Sequence[int]) -> bool:
    """Whether frames ``a`` and ``b`` lie in different shots."""
    low, high = min(a, b), max(a, b)
    return any(low < cut <= high for cut in cuts)
