"""The render work directory: every finished frame of every pass, and the settings that made them.

Layout::

    WORK/manifest.json      settings that determine the frames (a JSON object)
    WORK/content/000001.png content frames at the render size (extracted once)
    WORK/pass1/000001.png   finished frames of pass 1 (1-based names), pass2/, …

Every file is written to a temporary name and renamed, so nothing partial is ever read back as
finished. A work directory made with other settings is refused (or wiped with ``fresh``).
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from artvid import images
from artvid.errors import WorkDirError
from artvid.files import atomic_write_bytes

logger = logging.getLogger(__name__)

MANIFEST = "manifest.json"


class WorkDir:
    """Frames of a render, resumable.

    Args:
        path: The folder (created if missing).
        manifest: JSON-serialisable settings; must equal the stored one to reuse frames.
        fresh: Delete whatever the folder holds and start over.

    Raises:
        WorkDirError: If the folder holds frames made with other settings, or is not writable.
    """

    def __init__(self, path: Path, manifest: dict[str, Any], fresh: bool = False) -> None:
        self.path = Path(path)
        self.manifest = json.loads(json.dumps(manifest, sort_keys=True, default=str))
        try:
            if fresh and self.path.exists():
                self._wipe()
            self.path.mkdir(parents=True, exist_ok=True)
            stored = self._read_manifest()
            if stored is None:
                atomic_write_bytes(self.path / MANIFEST, json.dumps(self.manifest, indent=2, sort_keys=True).encode())
            elif stored != self.manifest:
                raise WorkDirError(
                    f"work directory {self.path} holds frames made with other settings "
                    f"({_describe_difference(stored, self.manifest)}); "
                    "add --fresh to start over or choose another --work-dir"
                )
        except OSError as exc:
            raise WorkDirError(f"cannot use work directory {self.path}: {exc.strerror or exc}") from None

    def _wipe(self) -> None:
        if any(self.path.iterdir()) and not (self.path / MANIFEST).exists():
            raise WorkDirError(f"refusing to wipe {self.path}: it is not an artvid work directory")
        shutil.rmtree(self.path)

    def _read_manifest(self) -> dict[str, Any] | None:
        path = self.path / MANIFEST
        if not path.exists():
            if any(self.path.iterdir()):
                raise WorkDirError(f"{self.path} is not empty and is not an artvid work directory")
            return None
        try:
            return json.loads(path.read_text())
        except ValueError:
            raise WorkDirError(f"work directory manifest {path} is damaged; add --fresh to start over") from None

    def frame_path(self, pass_index: int, frame: int) -> Path:
        """Path of a finished frame (``pass_index`` 1-based, ``frame`` 0-based)."""
        return self.path / f"pass{pass_index}" / f"{frame + 1:06d}.png"

    def content_path(self, frame: int) -> Path:
        """Path of an extracted content frame (``frame`` 0-based)."""
        return self.path / "content" / f"{frame + 1:06d}.png"

    def has(self, pass_index: int, frame: int) -> bool:
        """Whether the frame of that pass is finished."""
        return self.frame_path(pass_index, frame).exists()

    def load(self, pass_index: int, frame: int) -> np.ndarray:
        """A finished frame as ``(H, W, 3) float32`` in [0, 1]."""
        return images.load_image(self.frame_path(pass_index, frame)).astype(np.float32) / 255.0

    def save(self, pass_index: int, frame: int, image: np.ndarray) -> None:
        """Store a finished frame (``(H, W, 3)`` float in [0, 1] or uint8), atomically."""
        self._save_png(self.frame_path(pass_index, frame), image)

    def load_content(self, frame: int) -> np.ndarray:
        """An extracted content frame, ``(H, W, 3) uint8``."""
        return images.load_image(self.content_path(frame))

    def save_content(self, frame: int, image: np.ndarray) -> None:
        """Store an extracted content frame, atomically."""
        self._save_png(self.content_path(frame), image)

    def _save_png(self, path: Path, image: np.ndarray) -> None:
        if image.dtype != np.uint8:
            image = np.clip(np.round(image * 255.0), 0, 255).astype(np.uint8)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            images.save_image(path, image)
        except OSError as exc:
            raise WorkDirError(f"cannot write {path}: {exc.strerror or exc}") from None

    def finished(self, pass_index: int, frame_count: int) -> int:
        """How many frames of a pass are finished."""
        return sum(self.has(pass_index, i) for i in range(frame_count))


def _describe_difference(old: dict[str, Any], new: dict[str, Any], prefix: str = "") -> str:
    changes = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            changes.append(_describe_difference(a, b, f"{prefix}{key}."))
        else:
            changes.append(f"{prefix}{key}: {a!r} → {b!r}")
    return "; ".join(changes[:4]) + ("; …" if len(changes) > 4 else "")



