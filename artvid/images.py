"""Still images: load style/content images, save frames, convert frames to and from tensors.

Every image leaves this module as a *frame*: ``np.ndarray (H, W, 3) uint8`` RGB. Whatever the file
holds (grayscale, palette, alpha, 16-bit, CMYK, float TIFF) is converted, never rejected:

- alpha is composited on white (a transparent style image should not paint black);
- 16-bit samples are scaled to 8 bits by ``round(v / 257)`` (so 65535 -> 255 exactly);
- EXIF orientation is applied, so a phone photo is used the way it is displayed.

``to_tensor`` / ``to_frame`` convert between frames and image tensors
``torch.Tensor (1, 3, H, W) float32`` in [0, 1] RGB, the form the stylizer works in. ``torch`` is
imported lazily, so reading video does not pay for it.
"""

from __future__ import annotations

import io
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from artvid.errors import ImageReadError, VideoWriteError
from artvid.files import atomic_write_bytes

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

__all__ = ["load_image", "save_image", "to_tensor", "to_frame", "resize_long_side", "fit_long_side"]

# PIL modes that convert to RGB(A) without losing anything we keep.
_PIL_TO_RGBA = {"LA", "PA", "RGBA", "RGBa", "La"}


def fit_long_side(width: int, height: int, size: int | None) -> tuple[int, int]:
    """The ``(width, height)`` an image gets when its long side is scaled to ``size`` pixels.

    The aspect ratio is kept; each side is rounded to the nearest integer (at least 1). Sides are
    *not* forced to be even: the video writer pads odd sizes itself.

    Args:
        width: source width in pixels.
        height: source height in pixels.
        size: target long side in pixels, or ``None`` to keep the source size.

    Returns:
        ``(width, height)`` after scaling.

    Raises:
        ValueError: ``size`` is not a positive integer.
    """
    if size is None:
        return width, height
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"expected size to be a positive int (long side in pixels), got {size!r}")
    scale = size / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def resize_long_side(frame: np.ndarray, size: int | None) -> np.ndarray:
    """Resize ``frame`` so its long side is ``size`` pixels (see :func:`fit_long_side`).

    Shrinking uses ``cv2.INTER_AREA`` (no aliasing), enlarging ``cv2.INTER_CUBIC``.

    Args:
        frame: ``(H, W, 3) uint8`` RGB.
        size: target long side in pixels, or ``None`` to return ``frame`` unchanged.

    Returns:
        The resized frame, ``(H', W', 3) uint8``; ``frame`` itself when the size already fits.
    """
    height, width = frame.shape[:2]
    new_w, new_h = fit_long_side(width, height, size)
    if (new_w, new_h) == (width, height):
        return frame
    shrinking = new_w * new_h < width * height
    interp = cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC
    return cv2.resize(frame, (new_w, new_h), interpolation=interp)


def _check_frame(frame: np.ndarray, name: str = "frame") -> None:
    if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
        got = f"{frame.dtype} array of shape {frame.shape}" if isinstance(frame, np.ndarray) else type(frame).__name__
        raise ValueError(f"expected {name} to be an (H, W, 3) uint8 RGB array, got {got}")


def array_to_rgb8(arr: np.ndarray) -> np.ndarray:
    """Convert a decoded image array of any common layout to an ``(H, W, 3) uint8`` RGB frame.

    Args:
        arr: ``(H, W)``, ``(H, W, 1)`` gray, ``(H, W, 2)`` gray+alpha, ``(H, W, 3)`` RGB or
            ``(H, W, 4)`` RGBA; dtype uint8, uint16 (0–65535), other integers (treated as 16-bit
            when they fit, else scaled by their maximum) or float (0–1 when the maximum is at most
            1, else 0–255).

    Returns:
        ``(H, W, 3) uint8`` RGB, alpha composited on white.

    Raises:
        ValueError: the array has no image layout listed above.
    """
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3 or arr.shape[2] not in (1, 2, 3, 4) or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"expected an (H, W[, 1-4]) image array, got shape {arr.shape}")
    data = _to_unit_float(arr)
    channels = data.shape[2]
    if channels in (2, 4):
        color, alpha = data[:, :, :-1], data[:, :, -1:]
        data = color * alpha + (1.0 - alpha)  # composite on white
    if data.shape[2] == 1:
        data = np.repeat(data, 3, axis=2)
    return np.clip(np.rint(data * 255.0), 0, 255).astype(np.uint8)


def _to_unit_float(arr: np.ndarray) -> np.ndarray:
    """Samples scaled to [0, 1] float32, by dtype (see :func:`array_to_rgb8`)."""
    if arr.dtype == np.uint8:
        return arr.astype(np.float32) / 255.0
    if arr.dtype == np.uint16:
        return arr.astype(np.float32) / 65535.0
    if np.issubdtype(arr.dtype, np.integer):
        # PIL's "I" mode: 16-bit files decoded into int32; anything larger is scaled by its peak.
        peak = float(arr.max()) if arr.size else 0.0
        scale = 65535.0 if peak <= 65535 else peak
        return np.clip(arr.astype(np.float32) / scale, 0.0, 1.0)
    if np.issubdtype(arr.dtype, np.floating) or arr.dtype == np.bool_:
        data = np.nan_to_num(arr.astype(np.float32))
        scale = 1.0 if data.max(initial=0.0) <= 1.0 else 255.0
        return np.clip(data / scale, 0.0, 1.0)
    raise ValueError(f"expected an integer or float image array, got dtype {arr.dtype}")


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
        ImageReadError: the path is missing, not a file, or not a readable image.
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
        with Image.open(path) as img:
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
    _check_frame(frame)
    path = Path(path)
    formats = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".bmp": "BMP", ".tif": "TIFF",
               ".tiff": "TIFF", ".ppm": "PPM", ".webp": "WEBP"}
    fmt = formats.get(path.suffix.lower())
    if fmt is None:
        raise VideoWriteError(f"expected an image suffix ({', '.join(sorted(formats))}), got {path.name!r}")
    if not path.parent.is_dir():
        raise VideoWriteError(f"output folder does not exist: {path.parent}")
    options = {"quality": 95} if fmt in ("JPEG", "WEBP") else {}
    try:
        encoded = io.BytesIO()
        Image.fromarray(frame, "RGB").save(encoded, format=fmt, **options)
        atomic_write_bytes(path, encoded.getvalue())
    except OSError as exc:
        raise VideoWriteError(f"cannot write image {path}: {exc.strerror or exc}") from None
    return path


def to_tensor(frame: np.ndarray, device: str | torch.device = "cpu") -> torch.Tensor:
    """Frame to image tensor.

    Args:
        frame: ``(H, W, 3) uint8`` RGB.
        device: where the tensor goes.

    Returns:
        ``(1, 3, H, W) float32`` in [0, 1] RGB (``value / 255``), contiguous.

    Raises:
        ValueError: ``frame`` is not an ``(H, W, 3) uint8`` array.
    """
    import torch

    _check_frame(frame)
    tensor = torch.from_numpy(np.ascontiguousarray(frame)).to(device)
    return tensor.permute(2, 0, 1).unsqueeze(0).to(torch.float32).div_(255.0).contiguous()


def to_frame(tensor: torch.Tensor) -> np.ndarray:
    """Image tensor to frame: clamp to [0, 1], scale by 255, round to nearest.

    Args:
        tensor: ``(1, 3, H, W)`` or ``(3, H, W)`` float RGB, nominally in [0, 1]; any device,
            gradients are ignored.

    Returns:
        ``(H, W, 3) uint8`` RGB on the CPU.

    Raises:
        ValueError: wrong shape, or the tensor holds NaN/inf (a diverged optimisation should not be
            saved as a silently black frame).
    """
    import torch

    if not isinstance(tensor, torch.Tensor):
        raise ValueError(f"expected a torch.Tensor, got {type(tensor).__name__}")
    if tensor.ndim == 4 and tensor.shape[0] == 1:
        tensor = tensor[0]
    if tensor.ndim != 3 or tensor.shape[0] != 3:
        raise ValueError(f"expected a (1, 3, H, W) or (3, H, W) image tensor, got shape {tuple(tensor.shape)}")
    tensor = tensor.detach()
    if not torch.isfinite(tensor).all():
        raise ValueError("expected finite image tensor values, got NaN or inf")
    out = (tensor.to(torch.float32).clamp(0.0, 1.0) * 255.0).round().to(torch.uint8)
    return np.ascontiguousarray(out.permute(1, 2, 0).cpu().numpy())
