"""PNG frames stored with a SHA-256 sidecar each, so that a damaged one is found before it is used.

A frame ``000001.png`` is written atomically by :func:`artvid.images.save_image`, then its digest
goes to ``000001.png.sha256`` (``sha256sum`` format). A file is intact when both exist and agree;
a frame killed between the two writes has no sidecar and counts as damaged, which is safe: it is
computed again. Each file is hashed once per :class:`CheckedFrames`; later checks of an unchanged
file (same mtime, size and inode) only ``stat`` it.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from artvid import images
from artvid.errors import VideoWriteError, WorkDirError
from artvid.files import checksum_path, read_checksum, sha256_file, write_checksum

logger = logging.getLogger(__name__)

MISSING = "missing"


class CheckedFrames:
    """Reads, writes and verifies checksummed PNG frames; remembers which files it verified."""

    def __init__(self) -> None:
        self._verified: dict[Path, tuple[int, int, int]] = {}

    def check(self, path: Path) -> str | None:
        """Verify a frame; a damaged one is logged and removed with its sidecar.

        Returns:
            None if the frame is intact, :data:`MISSING` if there is no file, else a description
            of the damage (the file is gone by then).

        Raises:
            WorkDirError: If a damaged frame cannot be removed.
        """
        problem = self._problem(path)
        if problem is not None and problem != MISSING:
            logger.warning("stored frame %s is damaged (%s); removed, it will be computed again", path, problem)
            self.remove(path)
            problem = f"damaged ({problem}), so it was removed"
        return problem

    def _problem(self, path: Path) -> str | None:
        try:
            stat = path.stat()
        except FileNotFoundError:
            return MISSING
        except OSError as exc:
            return f"cannot stat it: {exc.strerror or exc}"
        if self._verified.get(path) == _stat_key(stat):
            return None
        expected = read_checksum(path)
        if expected is None:
            return f"no checksum in {checksum_path(path).name}"
        try:
            actual = sha256_file(path)
        except OSError as exc:
            return f"cannot read it: {exc.strerror or exc}"
        if actual != expected:
            return "its SHA-256 differs from the one recorded when it was written"
        self._verified[path] = _stat_key(stat)
        return None

    def save(self, path: Path, image: np.ndarray) -> None:
        """Write a frame (``(H, W, 3)`` float in [0, 1] or uint8) and then its checksum, each atomically.

        Raises:
            WorkDirError: If either file cannot be written.
        """
        image = stored_frame(image)
        self._verified.pop(path, None)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            images.save_image(path, image)
            # Hashing the written file (still in the page cache) keeps save_image the only encoder.
            write_checksum(path, sha256_file(path))
            self._verified[path] = _stat_key(path.stat())
        except (OSError, VideoWriteError) as exc:
            raise WorkDirError(f"cannot write {path}: {getattr(exc, 'strerror', None) or exc}") from None

    def remove(self, path: Path) -> None:
        """Remove a frame and its sidecar (either may be missing).

        Raises:
            WorkDirError: If they cannot be removed.
        """
        self._verified.pop(path, None)
        try:
            path.unlink(missing_ok=True)
            checksum_path(path).unlink(missing_ok=True)
        except OSError as exc:
            raise WorkDirError(f"cannot remove {path}: {exc.strerror or exc}") from None

    def forget(self) -> None:
        """Drop every remembered verification (after files were removed behind its back)."""
        self._verified.clear()


def _stat_key(stat) -> tuple[int, int, int]:
    return stat.st_mtime_ns, stat.st_size, stat.st_ino


def stored_frame(image: np.ndarray) -> np.ndarray:
    """A frame as :meth:`CheckedFrames.save` stores it: ``(H, W, 3)`` float in [0, 1] rounded to
    uint8 (uint8 passes unchanged), so an in-memory store can hold exactly what a file would."""
    if image.dtype == np.uint8:
        return image
    return np.clip(np.round(image * 255.0), 0, 255).astype(np.uint8)
