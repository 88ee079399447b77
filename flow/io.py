"""Flow and mask files: Middlebury ``.flo``, 8-bit PGM/PNG reliability masks, colour-coded flow PNGs.

All writers are atomic (temporary file in the target folder, then ``os.replace``), so a crash never
leaves a half-written file that a cache could later mistake for a complete one.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import cv2
import numpy as np

from flow.errors import FlowFileError, FlowShapeError
from flow.validate import check_flow, describe

# Middlebury .flo: float32 magic 202021.25 (bytes "PIEH"), int32 width, int32 height, then
# height*width*2 float32 (dx, dy interleaved, row-major), all little-endian.
FLO_MAGIC = np.float32(202021.25)
_FLO_HEADER = 12
# Larger than any real frame (16k x 16k), small enough that a corrupt header cannot make us
# allocate gigabytes.
MAX_FLO_SIDE = 1 << 14
MASK_SUFFIXES = (".pgm", ".png")


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to a new temporary file beside ``path``, then rename it over ``path``.

    The temporary file is created like ``open()`` creates one (mode 0666 less the umask), not
    with mkstemp's private 0600, so written files are as readable as any other output. Its name
    is random and created exclusively, so concurrent writers of one path never share it.
    """
    path = Path(path)
    while True:
        tmp = path.parent / f".{path.name}.{secrets.token_hex(8)}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
            break
        except FileExistsError:
            continue
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def read_flo(path: str | os.PathLike) -> np.ndarray:
    """Read a Middlebury ``.flo`` file.

    Args:
        path: the file.

    Returns:
        (H, W, 2) float32 flow in pixels.

    Raises:
        FlowFileError: when the file is missing, has a wrong magic number, an absurd size, or is
            truncated or followed by trailing bytes.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FlowFileError(f"{path}: expected a readable .flo file, got {exc.strerror or exc}") from exc
    if len(data) < _FLO_HEADER:
        raise FlowFileError(f"{path}: expected a {_FLO_HEADER}-byte .flo header, got {len(data)} bytes")
    magic = np.frombuffer(data, "<f4", 1, 0)[0]
    if magic != FLO_MAGIC:
        raise FlowFileError(f"{path}: expected .flo magic {float(FLO_MAGIC)} ('PIEH'), got {data[:4]!r}")
    width, height = (int(v) for v in np.frombuffer(data, "<i4", 2, 4))
    if not (1 <= width <= MAX_FLO_SIDE and 1 <= height <= MAX_FLO_SIDE):
        raise FlowFileError(
            f"{path}: expected width and height in 1..{MAX_FLO_SIDE}, got width={width}, height={height}"
        )
    expected = _FLO_HEADER + width * height * 2 * 4
    if len(data) != expected:
        what = "truncated" if len(data) < expected else "trailing bytes"
        raise FlowFileError(
            f"{path}: expected {expected} bytes for a {width}x{height} flow, got {len(data)} ({what})"
        )
    flow = np.frombuffer(data, "<f4", width * height * 2, _FLO_HEADER).reshape(height, width, 2)
    return flow.astype(np.float32)


def write_flo(path: str | os.PathLike, flow: np.ndarray) -> None:
    """Write ``flow`` as a Middlebury ``.flo`` file, atomically.

    Args:
        path: target file (its folder must exist).
        flow: (H, W, 2) float flow in pixels.

    Raises:
        FlowShapeError: when ``flow`` is not (H, W, 2) float.
        FlowFileError: when the file cannot be written.
    """
    flow = check_flow(flow)
    height, width = flow.shape[:2]
    header = np.array([FLO_MAGIC], "<f4").tobytes() + np.array([width, height], "<i4").tobytes()
    body = np.ascontiguousarray(flow, dtype="<f4").tobytes()
    try:
        _atomic_write_bytes(Path(path), header + body)
    except OSError as exc:
        raise FlowFileError(f"{path}: expected a writable location, got {exc.strerror or exc}") from exc


def _check_mask_suffix(path: Path) -> None:
    if path.suffix.lower() not in MASK_SUFFIXES:
        raise FlowFileError(f"{path}: expected a mask file ending in {' or '.join(MASK_SUFFIXES)}, got {path.suffix!r}")


def read_mask(path: str | os.PathLike) -> np.ndarray:
    """Read an 8-bit grayscale PGM or PNG reliability mask (255 = reliable).

    Args:
        path: a ``.pgm`` or ``.png`` file.

    Returns:
        (H, W) float32 in [0, 1] (pixel value / 255).

    Raises:
        FlowFileError: when the file is missing, undecodable, or not 8-bit single-channel.
    """
    path = Path(path)
    _check_mask_suffix(path)
    try:
        data = np.frombuffer(path.read_bytes(), np.uint8)
    except OSError as exc:
        raise FlowFileError(f"{path}: expected a readable mask file, got {exc.strerror or exc}") from exc
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if image is None:
        raise FlowFileError(f"{path}: expected a decodable 8-bit PGM/PNG image, got undecodable data")
    if image.dtype != np.uint8 or image.ndim != 2:
        raise FlowFileError(f"{path}: expected an 8-bit single-channel mask, got {describe(image)}")
    return image.astype(np.float32) / 255.0


def write_mask(path: str | os.PathLike, rel: np.ndarray) -> None:
    """Write a reliability mask as an 8-bit PGM or PNG (chosen by the suffix), atomically.

    Args:
        path: target ``.pgm`` or ``.png`` file.
        rel: (H, W) float in [0, 1]; stored as ``round(255 * rel)``.

    Raises:
        FlowShapeError: when ``rel`` is not a 2-D float array.
        FlowFileError: for another suffix or when the file cannot be written.
    """
    path = Path(path)
    _check_mask_suffix(path)
    if not (isinstance(rel, np.ndarray) and rel.ndim == 2 and np.issubdtype(rel.dtype, np.floating) and rel.size):
        raise FlowShapeError(f"rel: expected (H, W) float32 in [0, 1], got {describe(rel)}")
    image = np.round(np.clip(rel, 0.0, 1.0) * 255.0).astype(np.uint8)
    _write_encoded(path, image, "the mask")


def _write_encoded(path: Path, image: np.ndarray, what: str) -> None:
    """Encode ``image`` (OpenCV channel order) by ``path``'s suffix and write it atomically."""
    ok, buf = cv2.imencode(path.suffix.lower(), image)
    if not ok:
        raise FlowFileError(f"{path}: expected OpenCV to encode {what}, got a failure")
    try:
        _atomic_write_bytes(path, buf.tobytes())
    except OSError as exc:
        raise FlowFileError(f"{path}: expected a writable location, got {exc.strerror or exc}") from exc


def write_flow_png(path: str | os.PathLike, flow: np.ndarray, max_flow: float | None = None) -> None:
    """Write the Middlebury colour coding of ``flow`` as an RGB PNG, atomically (for inspection).

    Args:
        path: target ``.png`` file.
        flow: (H, W, 2) float flow in pixels.
        max_flow: flow magnitude mapped to full saturation; default the largest in ``flow``.

    Raises:
        FlowShapeError: when ``flow`` is not (H, W, 2) float.
        FlowFileError: when the file cannot be written.
    """
    from flow.viz import flow_to_color

    path = Path(path)
    if path.suffix.lower() != ".png":
        raise FlowFileError(f"{path}: expected a file ending in .png, got {path.suffix!r}")
    rgb = flow_to_color(flow, max_flow)
    _write_encoded(path, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), "the PNG")
