"""The render work directory: every finished frame of every pass, and the settings that made them.

Layout::

    WORK/.artvid-work.json         marker: {"artvid_work_dir": FORMAT}, written first
    WORK/.artvid-work.lock         lock file with the owner's pid (see artvid.lock)
    WORK/manifest.json             settings that determine the frames (a JSON object)
    WORK/content/000001.png        content frames at the render size (extracted once)
    WORK/content/000001.png.sha256 its SHA-256 in sha256sum format
    WORK/pass1/000001.png          finished frames of pass 1 (1-based names), pass2/, …

A folder is artvid's only if it holds the marker; anything else that is not empty is refused and
never written to. ``fresh`` removes only the names above (never other files a user put there).
One run at a time: the lock is held from construction to :meth:`WorkDir.close`. Every file is
written to a temporary name and renamed, and every frame has a checksum, so a frame that was
cut short or damaged later is detected, removed and recomputed instead of stopping the run.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from artvid import images
from artvid.checked_frames import CheckedFrames
from artvid.errors import DamagedFrameError, WorkDirError, WorkDirInUseError
from artvid.files import atomic_write_bytes
from artvid.lock import FileLock, LockHeldError

logger = logging.getLogger(__name__)

FORMAT = 2  # format 1 had no marker, no lock and no checksums
MARKER = ".artvid-work.json"
LOCK = ".artvid-work.lock"
MANIFEST = "manifest.json"
CONTENT = "content"

_FRAME_DIR = re.compile(r"(content|pass[1-9][0-9]*)")
# A frame, its checksum, or what atomic_write_bytes leaves behind when killed while writing one.
_OWNED_FILE = re.compile(r"[0-9]{6}\.png(\.sha256)?|\.[0-9]{6}\.png(\.sha256)?\..+\.partial")
_PARTIAL_TOP = re.compile(rf"\.({re.escape(MANIFEST)}|{re.escape(MARKER)})\..+\.partial")


def frame_file(folder: Path, pass_index: int, frame: int) -> Path:
    """Where the work directory ``folder`` keeps a finished frame (``pass_index`` 1-based, ``frame`` 0-based)."""
    return Path(folder) / f"pass{pass_index}" / f"{frame + 1:06d}.png"


def content_file(folder: Path, frame: int) -> Path:
    """Where the work directory ``folder`` keeps an extracted content frame (``frame`` 0-based)."""
    return Path(folder) / CONTENT / f"{frame + 1:06d}.png"


def is_work_dir(path: Path) -> bool:
    """Whether ``path`` is a folder artvid made as a work directory.

    That is, it holds the marker, or nothing but the lock file (a run killed while creating it).
    """
    path = Path(path)
    try:
        names = set(os.listdir(path))
    except OSError:
        return False
    return MARKER in names or names == {LOCK}


class WorkDir:
    """Frames of a render, resumable, used by one run at a time.

    Use as a context manager, or call :meth:`close`, to release the lock (the process's exit
    releases it too).

    Args:
        path: The folder (created if missing). It must be missing, empty or artvid's.
        manifest: JSON-serialisable settings; must equal the stored one to reuse frames.
        fresh: Delete every frame artvid stored there, and the manifest, and start over. Other
            files are kept.

    Raises:
        WorkDirInUseError: If another WorkDir, in this process or another, holds the folder.
        WorkDirError: If the folder is not artvid's, is from an older artvid, holds frames made
            with other settings, or is not writable.
    """

    def __init__(self, path: Path, manifest: dict[str, Any], fresh: bool = False) -> None:
        self.path = Path(path)
        self.manifest = json.loads(json.dumps(manifest, sort_keys=True, default=str))
        self._lock: FileLock | None = None
        self._frames = CheckedFrames()
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            self._refuse_unless_ours()  # before the lock file is created in someone else's folder
            self._take_lock()
            try:
                self._refuse_unless_ours()  # again: another run may have changed it meanwhile
                self._check_marker(fresh)
                self._remove_owned(frames=fresh)
                if fresh:
                    (self.path / MANIFEST).unlink(missing_ok=True)
                atomic_write_bytes(self.path / MARKER, json.dumps({"artvid_work_dir": FORMAT}).encode())
                self._check_manifest()
            except BaseException:
                self.close()
                raise
        except OSError as exc:
            raise WorkDirError(f"cannot use work directory {self.path}: {exc.strerror or exc}") from None

    def _refuse_unless_ours(self) -> None:
        if not os.listdir(self.path) or is_work_dir(self.path):
            return
        if _is_format_1(self.path / MANIFEST):
            raise WorkDirError(
                f"{self.path} is a work directory of an older artvid, whose frames cannot be reused; "
                "delete it by hand or choose another --work-dir"
            )
        raise WorkDirError(
            f"{self.path} is not empty and is not an artvid work directory (it has no {MARKER}); "
            "artvid never writes into or deletes from such a folder: choose another --work-dir"
        )

    def _take_lock(self) -> None:
        try:
            self._lock = FileLock(self.path / LOCK)
        except LockHeldError as exc:
            owner = f" (pid {exc.pid})" if exc.pid else ""
            raise WorkDirInUseError(
                f"work directory {self.path} is in use by another artvid run{owner}; "
                "wait for it or use another --work-dir"
            ) from None

    def _check_marker(self, fresh: bool) -> None:
        path = self.path / MARKER
        if not path.exists():
            return
        try:
            version = json.loads(path.read_text())["artvid_work_dir"]
        except (ValueError, KeyError, TypeError):
            if fresh:
                return
            raise WorkDirError(f"work directory marker {path} is damaged; add --fresh to start over") from None
        if not isinstance(version, int) or version > FORMAT:
            raise WorkDirError(
                f"work directory {self.path} was made by a newer artvid (format {version!r}, this one "
                f"reads {FORMAT}); choose another --work-dir"
            )

    def _remove_owned(self, frames: bool) -> None:
        """Remove leftovers of killed writes and, with ``frames``, every stored frame (never other files)."""
        for entry in os.scandir(self.path):
            if entry.is_dir(follow_symlinks=False) and _FRAME_DIR.fullmatch(entry.name):
                for item in os.scandir(entry.path):
                    if _OWNED_FILE.fullmatch(item.name) and (frames or item.name.endswith(".partial")):
                        os.unlink(item.path)
                if frames and not any(os.scandir(entry.path)):
                    os.rmdir(entry.path)
            elif _PARTIAL_TOP.fullmatch(entry.name):
                os.unlink(entry.path)
        self._frames.forget()

    def _check_manifest(self) -> None:
        path = self.path / MANIFEST
        if not path.exists():
            atomic_write_bytes(path, json.dumps(self.manifest, indent=2, sort_keys=True).encode())
            return
        try:
            stored = json.loads(path.read_text())
        except ValueError:
            raise WorkDirError(f"work directory manifest {path} is damaged; add --fresh to start over") from None
        if stored != self.manifest:
            raise WorkDirError(
                f"work directory {self.path} holds frames made with other settings "
                f"({_describe_difference(stored, self.manifest)}); "
                "add --fresh to start over or choose another --work-dir"
            )

    @property
    def closed(self) -> bool:
        """Whether the lock was released; a closed WorkDir no longer writes."""
        return self._lock is None or not self._lock.held

    def close(self) -> None:
        """Release the lock (idempotent). Frames stay for the next run."""
        if self._lock is not None:
            self._lock.release()

    def __enter__(self) -> WorkDir:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close()

    def frame_path(self, pass_index: int, frame: int) -> Path:
        """Path of a finished frame (``pass_index`` 1-based, ``frame`` 0-based)."""
        return frame_file(self.path, pass_index, frame)

    def content_path(self, frame: int) -> Path:
        """Path of an extracted content frame (``frame`` 0-based)."""
        return content_file(self.path, frame)

    def _path(self, pass_index: int, frame: int) -> Path:
        return self.content_path(frame) if pass_index == 0 else self.frame_path(pass_index, frame)

    def has(self, pass_index: int, frame: int) -> bool:
        """Whether the frame of that pass is finished and intact (a damaged one is removed)."""
        return self._intact(pass_index, frame)

    def has_content(self, frame: int) -> bool:
        """Whether the content frame is extracted and intact (a damaged one is removed)."""
        return self._intact(0, frame)

    def load(self, pass_index: int, frame: int) -> np.ndarray:
        """A finished frame as ``(H, W, 3) float32`` in [0, 1].

        Raises:
            DamagedFrameError: If it is missing or damaged (a damaged one is removed).
        """
        return self.load_frame(pass_index, frame).astype(np.float32) / 255.0

    def load_frame(self, pass_index: int, frame: int) -> np.ndarray:
        """A finished frame as stored, ``(H, W, 3) uint8`` (for writing the output).

        Raises:
            DamagedFrameError: If it is missing or damaged (a damaged one is removed).
        """
        return self._load(pass_index, frame)

    def load_content(self, frame: int) -> np.ndarray:
        """An extracted content frame, ``(H, W, 3) uint8``.

        Raises:
            DamagedFrameError: If it is missing or damaged (a damaged one is removed).
        """
        return self._load(0, frame)

    def save(self, pass_index: int, frame: int, image: np.ndarray) -> None:
        """Store a finished frame (``(H, W, 3)`` float in [0, 1] or uint8) and its checksum, atomically."""
        self._require_open()
        self._frames.save(self.frame_path(pass_index, frame), image)

    def save_content(self, frame: int, image: np.ndarray) -> None:
        """Store an extracted content frame and its checksum, atomically."""
        self._require_open()
        self._frames.save(self.content_path(frame), image)

    def discard(self, pass_index: int, frames: Iterable[int]) -> None:
        """Remove frames of a pass (0 = content frames) so that they are computed again."""
        self._require_open()
        for frame in frames:
            self._frames.remove(self._path(pass_index, frame))

    def damaged(self, pass_index: int, frame_count: int) -> list[int]:
        """Check every stored frame of a pass (0 = content frames); remove and list the damaged ones.

        Missing frames are not listed (they are merely unfinished). Each intact file is hashed once
        per WorkDir, later checks of an unchanged file only ``stat`` it.
        """
        found = []
        for frame in range(frame_count):
            if self._path(pass_index, frame).exists() and not self._intact(pass_index, frame):
                found.append(frame)
        return found

    def finished(self, pass_index: int, frame_count: int) -> int:
        """How many frames of a pass are finished and intact."""
        return sum(self.has(pass_index, i) for i in range(frame_count))

    def _intact(self, pass_index: int, frame: int) -> bool:
        return self._frames.check(self._path(pass_index, frame)) is None

    def _load(self, pass_index: int, frame: int) -> np.ndarray:
        path = self._path(pass_index, frame)
        problem = self._frames.check(path)
        if problem is not None:
            raise DamagedFrameError(
                f"stored frame {path} is {problem}; it will be computed again", path, pass_index, frame
            )
        return images.load_image(path)

    def _require_open(self) -> None:
        if self.closed:
            raise WorkDirError(f"work directory {self.path} is closed; open it again to write")


def _is_format_1(manifest: Path) -> bool:
    """Whether ``manifest`` looks like the one artvid wrote before work directories had a marker."""
    try:
        stored = json.loads(manifest.read_text())
    except (OSError, ValueError):
        return False
    return isinstance(stored, dict) and stored.get("format") == 1 and isinstance(stored.get("config"), dict)


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
