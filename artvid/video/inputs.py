"""Input clips: checking the path, listing an image folder, validating ``size`` and ``fps``."""

from __future__ import annotations

import os
import re
from fractions import Fraction
from pathlib import Path

from artvid.errors import ConfigError, ImageReadError, VideoReadError
from artvid.images import fit_long_side, load_image, open_image

__all__ = ["DEFAULT_FOLDER_FPS", "IMAGE_SUFFIXES", "as_fps", "check_input_path", "check_size", "fit_size",
           "folder_images", "header_size"]

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".ppm", ".bmp", ".tif", ".tiff", ".webp"})
DEFAULT_FOLDER_FPS = Fraction(24)


def _natural_key(name: str) -> list:
    """Sort key comparing digit runs as numbers, so ``f2.png`` < ``f10.png`` (zero-padded names
    sort the same as with plain ``sorted``)."""
    return [(0, int(part), part) if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", name)]


def folder_images(folder: Path) -> list[Path]:
    """Image files directly in ``folder``, in natural name order.

    Hidden files are left out: macOS writes a ``._<name>`` companion (AppleDouble metadata, not an
    image) next to every file copied to a FAT or exFAT drive.
    """
    try:
        names = [p for p in folder.iterdir()
                 if p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".") and p.is_file()]
    except OSError as exc:
        raise VideoReadError(f"cannot list image folder {folder}: {exc.strerror or exc}") from None
    return sorted(names, key=lambda p: _natural_key(p.name))


def as_fps(fps, what: str = "fps") -> Fraction:
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


def check_size(size, upscale: bool = False) -> None:
    """Raise :class:`~artvid.errors.ConfigError` unless ``size`` is ``None`` or a positive int and
    ``upscale`` is a bool."""
    try:
        fit_long_side(1, 1, size)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    if not isinstance(upscale, bool):
        raise ConfigError(f"expected upscale to be True or False, got {upscale!r}")


def fit_size(width: int, height: int, size: int | None, upscale: bool) -> tuple[int, int]:
    """:func:`~artvid.images.fit_long_side`, refusing to enlarge unless asked to.

    Enlarging is refused by default because a mistyped ``--size`` (100000 for 1000) asks for
    frames, and a stylizer, far beyond any memory; a clip is never sharper for being enlarged.

    Args:
        width: source width in pixels.
        height: source height in pixels.
        size: target long side in pixels, or ``None`` for the source size.
        upscale: allow ``size`` above the source's long side.

    Returns:
        ``(width, height)`` after scaling.

    Raises:
        ConfigError: ``size`` is above the long side and ``upscale`` is false.
    """
    long_side = max(width, height)
    if size is not None and size > long_side and not upscale:
        raise ConfigError(f"--size {size} is larger than the clip's long side ({long_side} px); "
                          f"add --upscale to enlarge")
    return fit_long_side(width, height, size)


def header_size(path: Path) -> tuple[int, int]:
    """``(width, height)`` of an image as :func:`load_image` will return it, from the header
    when Pillow can read it (EXIF rotations by 90 degrees swap the sides)."""
    try:
        try:
            with open_image(path) as img:
                width, height = img.size
                if img.getexif().get(0x0112) in (5, 6, 7, 8):
                    width, height = height, width
                return width, height
        except (OSError, ValueError, SyntaxError):
            pass
        frame = load_image(path)
    except ImageReadError as exc:
        raise VideoReadError(str(exc)) from None
    return frame.shape[1], frame.shape[0]


def check_input_path(path: str | os.PathLike) -> Path:
    """``path`` as a Path, after checking it exists and is not a single image."""
    path = Path(path)
    if not path.exists():
        raise VideoReadError(f"input not found: {path}")
    if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES:
        raise VideoReadError(f"expected a video file or a folder of images, got a single image: {path}")
    return path
