"""Image files: read any common image as a frame, write a frame atomically.

Pillow reads; formats it cannot decode (e.g. some 16-bit RGB TIFFs) fall back to OpenCV. The
conversions to a frame are those of :func:`artvid.images.array_to_rgb8`, plus EXIF orientation.
"""

from __future__ import annotations

import io
import logging
import os
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from artvid.errors import ImageReadError, VideoWriteError
from artvid.files import atomic_write_bytes
from artvid.images.arrays import array_to_rgb8, check_frame
from artvid.images.sizing import fit_long_side, resize_long_side

log = logging.getLogger(__name__)

__all__ = ["load_image", "open_image", "save_image"]

# PIL modes that convert to RGB(A) without losing anything we keep.
_PIL_TO_RGBA = {"LA", "PA", "RGBA", "RGBa", "La"}


@contextmanager
def open_image(path: Path, reduce_jpeg: bool = False) -> Iterator[Image.Image]:
    """``PIL.Image.open`` with Pillow's decompression-bomb check answered in one line.

    Above ``PIL.Image.MAX_IMAGE_PIXELS`` (about 89 megapixels) Pillow warns with a
    ``DecompressionBombWarning``, raw text on stderr; here the image is read (the user chose it)
    and one line is logged instead. Above twice that Pillow refuses, and so does this, with an
    :class:`~artvid.errors.ImageReadError` saying what to do; with ``reduce_jpeg`` a JPEG is
    decoded instead at 1/2, 1/4 or 1/8 of its size, whichever is the first under the warning
    limit.

    Args:
        path: image file.
        reduce_jpeg: Decode a JPEG above the hard limit reduced (a still, not a video frame,
            whose size must match its clip's).

    Yields:
        The open image, closed on exit.

    Raises:
        ImageReadError: the image has more pixels than Pillow's hard limit.
        OSError: as ``PIL.Image.open`` (also ``UnidentifiedImageError``, ``ValueError``,
            ``SyntaxError`` for malformed files).
    """
    with warnings.catch_warnings():
        # Kept while the caller decodes too: Pillow checks again when some formats load.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        reduced = False
        try:
            img = Image.open(path)
        except Image.DecompressionBombError as exc:
            img = _open_jpeg_reduced(path) if reduce_jpeg else None
            if img is None:
                found = re.search(r"\((\d+) pixels\)", str(exc))
                got = f"{int(found.group(1)):,} pixels" if found else str(exc)
                raise ImageReadError(f"cannot read image {path}: expected at most {2 * Image.MAX_IMAGE_PIXELS:,} "
                                     f"pixels (Pillow's decompression-bomb limit), got {got}; shrink it first") from None
            reduced = True
        with img:
            limit = Image.MAX_IMAGE_PIXELS
            if not reduced and limit is not None and img.width * img.height > limit:
                log.warning("%s is a very large image (%dx%d, %.0f megapixels); reading it anyway",
                            path, img.width, img.height, img.width * img.height / 1e6)
            yield img


def _open_jpeg_reduced(path: Path) -> Image.Image | None:
    """A JPEG beyond Pillow's hard limit, opened to decode at the first DCT reduction (1/2, 1/4,
    1/8) under ``MAX_IMAGE_PIXELS``; None for other formats or when even 1/8 is over the limit."""
    limit = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None  # checked here instead, on the reduced size (open reads the header only)
    try:
        img = Image.open(path)
    finally:
        Image.MAX_IMAGE_PIXELS = limit
    if img.format != "JPEG":
        img.close()
        return None
    width, height = img.size
    scale = next((s for s in (2, 4, 8) if -(-width // s) * -(-height // s) <= limit), 8)
    img.draft("RGB", (-(-width // scale), -(-height // scale)))
    if img.width * img.height > 2 * limit:
        img.close()
        return None
    log.warning("%s is a very large image (%dx%d, %.0f megapixels); reading it at 1/%d of its size (%dx%d)",
                path, width, height, width * height / 1e6, scale, img.width, img.height)
    return img


def _pil_to_array(img: Image.Image) -> np.ndarray:
    """A PIL image as a numpy array :func:`array_to_rgb8` understands, keeping 16-bit depth."""
    if img.mode in _PIL_TO_RGBA or "transparency" in img.info:
        # A palette (or L/RGB) image with a transparent colour carries alpha too.
        img = img.convert("RGBA")
    elif img.mode in ("L", "RGB", "I", "F") or img.mode.startswith("I;16"):
        pass
    else:  # "1", CMYK, YCbCr, LAB, HSV, ...
        img = img.convert("RGB")
    arr = np.asarray(img)
    if img.mode.startswith("I;16"):
        arr = arr.astype(np.uint16)  # big-endian variants come back as '>u2'
    return arr


def load_image(path: str | os.PathLike, max_side: int | None = None) -> np.ndarray:
    """Read a style or content image as a frame.

    Pillow reads the file; formats it cannot decode (e.g. some 16-bit RGB TIFFs) fall back to
    OpenCV. Conversions are listed in the module docstring.

    Args:
        path: image file (PNG, JPEG, TIFF, BMP, PPM, WebP, GIF, ...).
        max_side: if given and the long side is larger, shrink (``INTER_AREA``, aspect kept) so the
            long side is ``max_side`` pixels. Smaller images are never enlarged.

    Returns:
        ``(H, W, 3) uint8`` RGB.

    Raises:
        ImageReadError: the path is missing, not a file, not a readable image, or larger than
            Pillow's decompression-bomb limit and not a JPEG (see :func:`open_image`).
        ValueError: ``max_side`` is not a positive int.
    """
    path = Path(path)
    if max_side is not None:
        fit_long_side(1, 1, max_side)  # validates
    if not path.exists():
        raise ImageReadError(f"image not found: {path}")
    if not path.is_file():
        raise ImageReadError(f"expected an image file, got a directory: {path}")
    arr = None
    try:
        # Museums' scans of paintings run to hundreds of megapixels, and a style image is
        # shrunk to the frame's area anyway: a JPEG beyond Pillow's limit is decoded reduced.
        with open_image(path, reduce_jpeg=True) as img:
            img = ImageOps.exif_transpose(img)
            arr = _pil_to_array(img)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        # SyntaxError is what PIL raises for some malformed headers.
        log.debug("Pillow cannot read %s (%s); trying OpenCV", path, exc)
        arr = _cv2_read(path)
        if arr is None:
            raise ImageReadError(f"cannot read image {path}: expected an image file, got {exc}") from None
    try:
        frame = array_to_rgb8(arr)
    except ValueError as exc:
        raise ImageReadError(f"cannot read image {path}: {exc}") from None
    height, width = frame.shape[:2]
    if max_side is not None and max(height, width) > max_side:
        frame = resize_long_side(frame, max_side)
    return frame


def _cv2_read(path: Path) -> np.ndarray | None:
    """Decode with OpenCV (unchanged depth and channels), converted from BGR(A) to RGB(A)."""
    try:
        data = np.fromfile(path, dtype=np.uint8)
        arr = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    except (OSError, cv2.error):
        return None
    if arr is None:
        return None
    if arr.ndim == 3 and arr.shape[2] == 3:
        arr = arr[:, :, ::-1]
    elif arr.ndim == 3 and arr.shape[2] == 4:
        arr = arr[:, :, [2, 1, 0, 3]]
    return np.ascontiguousarray(arr)


_SAVE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".bmp": "BMP", ".tif": "TIFF",
                 ".tiff": "TIFF", ".ppm": "PPM", ".webp": "WEBP"}


def check_image_output(path: str | os.PathLike) -> str:
    """Refuse an image output that :func:`save_image` could not write, before any work is done.

    Args:
        path: The output file.

    Returns:
        Pillow's format name for the suffix.

    Raises:
        VideoWriteError: The suffix is not an image format, or the folder is missing or not
            writable.
    """
    path = Path(path)
    fmt = _SAVE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise VideoWriteError(f"expected an image suffix ({', '.join(sorted(_SAVE_FORMATS))}), got {path.name!r}")
    if not path.parent.is_dir():
        raise VideoWriteError(f"output folder does not exist: {path.parent}")
    if not os.access(path.parent, os.W_OK):
        raise VideoWriteError(f"output folder is not writable: {path.parent}")
    return fmt


def save_image(path: str | os.PathLike, frame: np.ndarray) -> Path:
    """Write a frame to an image file atomically (temp file in the same folder, then rename).

    A crash never leaves a half-written file under ``path``. The format follows the suffix
    (``.png``, ``.jpg``/``.jpeg`` at quality 95, ``.bmp``, ``.tif``/``.tiff``, ``.ppm``, ``.webp``).

    Args:
        path: output file; its folder must exist.
        frame: ``(H, W, 3) uint8`` RGB.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        VideoWriteError: the folder is missing or unwritable, or the suffix is not an image
            format. (An output problem, so the same error as for output videos and frame folders.)
        ValueError: ``frame`` is not an ``(H, W, 3) uint8`` array.
    """
    check_frame(frame)
    path = Path(path)
    fmt = check_image_output(path)
    options = {"quality": 95} if fmt in ("JPEG", "WEBP") else {}
    try:
        encoded = io.BytesIO()
        Image.fromarray(frame, "RGB").save(encoded, format=fmt, **options)
        atomic_write_bytes(path, encoded.getvalue())
    except OSError as exc:
        raise VideoWriteError(f"cannot write image {path}: {exc.strerror or exc}") from None
    return path
