"""Writing outputs without harming the user's files: frame folders, and outputs that are inputs.

A frame folder is artvid's when it holds ``.artvid-frames.json``, which lists the frames artvid
wrote there and whether the last write completed::

    {"artvid_frames": 1, "complete": true, "frames": ["000001.png", "000002.png"]}

Only those names (and artvid's own leftovers) are ever replaced or removed; a folder holding
anything else is refused before any rendering (:func:`check_frame_folder`). Artvid work
directories inside the folder (the default ``.artvid-work``) are left alone.

:func:`write_frame_folder` encodes every frame into a staging folder inside the output first, so
a failed or killed render leaves the previous frames as they were. Only then are the new frames
renamed into place and stale ones (from a longer earlier render) removed; while that happens the
marker says ``"complete": false`` and lists every name that may be present.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from artvid.errors import OutputIsInputError, VideoWriteError
from artvid.files import atomic_write_bytes
from artvid.images import save_image
from artvid.workdir import is_work_dir

FRAMES_MARKER = ".artvid-frames.json"
STAGING = ".artvid-frames.staging"
FRAMES_FORMAT = 1

_FRAME_NAME = re.compile(r"[0-9]{6}\.png")
# What atomic_write_bytes leaves behind when killed while writing a frame or the marker.
_PARTIAL = re.compile(rf"\.([0-9]{{6}}\.png|{re.escape(FRAMES_MARKER)})\..+\.partial")


def check_frame_folder(folder: Path) -> list[str]:
    """Refuse a frame folder artvid may not write into; call it before rendering.

    Args:
        folder: The output folder for numbered PNG frames (need not exist; its parent must).

    Returns:
        The names of frames an earlier artvid render wrote there (sorted).

    Raises:
        VideoWriteError: If the parent is missing, ``folder`` is not a folder, its marker is
            damaged, or it holds files artvid did not write.
    """
    folder = Path(folder)
    if not folder.exists():
        if not folder.parent.is_dir():
            raise VideoWriteError(f"output folder {folder.parent} does not exist")
        return []
    if not folder.is_dir():
        raise VideoWriteError(f"output {folder} is not a folder; expected a folder for PNG frames")
    names = set(os.listdir(folder))
    owned = set(_read_marker(folder)["frames"]) if FRAMES_MARKER in names else set()
    foreign = sorted(
        name for name in names - owned - {FRAMES_MARKER}
        if not _PARTIAL.fullmatch(name)
        and not (name == STAGING and FRAMES_MARKER in names and _only_frames(folder / name))
        and not (not (folder / name).is_symlink() and is_work_dir(folder / name))
    )
    if foreign:
        shown = ", ".join(foreign[:3]) + (", …" if len(foreign) > 3 else "")
        raise VideoWriteError(
            f"output folder {folder} holds files artvid did not write ({shown}); artvid never "
            "overwrites or deletes them: choose a new or empty folder (frames of a render by an "
            "older artvid must be deleted by hand)"
        )
    return sorted(owned & names)


def write_frame_folder(folder: Path, frames: Iterable[np.ndarray]) -> list[Path]:
    """Write frames as ``000001.png``, ``000002.png``, … replacing those of an earlier render.

    The folder is checked again first (see :func:`check_frame_folder`). Frames are encoded by
    :func:`artvid.images.save_image`, so the files are byte for byte those of
    :func:`artvid.video.write_frames`.

    Args:
        folder: The output folder (created if missing; its parent must exist).
        frames: ``(H, W, 3) uint8`` RGB frames, in order.

    Returns:
        The written paths, in order.

    Raises:
        VideoWriteError: If the folder may not or cannot be written. The earlier frames are
            then left as they were (or, if renaming failed midway, the marker says incomplete).
        ValueError: If a frame is not ``(H, W, 3) uint8``.
    """
    folder = Path(folder)
    previous = check_frame_folder(folder)
    staging = folder / STAGING
    try:
        folder.mkdir(exist_ok=True)
        for name in os.listdir(folder):
            if _PARTIAL.fullmatch(name):
                (folder / name).unlink()
        if not (folder / FRAMES_MARKER).exists():  # claim the folder before staging appears in it
            _write_marker(folder, [], complete=False)
        _remove_staging(staging)
        staging.mkdir()
    except OSError as exc:
        raise VideoWriteError(f"cannot write frames to {folder}: {exc.strerror or exc}") from None
    names = []
    try:
        for index, frame in enumerate(frames, start=1):
            names.append(f"{index:06d}.png")
            save_image(staging / names[-1], frame)
    except BaseException:
        _remove_staging(staging)
        raise
    try:
        _write_marker(folder, sorted(set(previous) | set(names)), complete=False)
        for name in names:
            os.replace(staging / name, folder / name)
        for name in sorted(set(previous) - set(names)):
            (folder / name).unlink(missing_ok=True)
        staging.rmdir()
        _write_marker(folder, names, complete=True)
    except OSError as exc:
        raise VideoWriteError(f"cannot write frames to {folder}: {exc.strerror or exc}") from None
    return [folder / name for name in names]


def _read_marker(folder: Path) -> dict:
    path = folder / FRAMES_MARKER
    try:
        marker = json.loads(path.read_text())
        frames = marker["frames"]
        if not all(isinstance(name, str) and _FRAME_NAME.fullmatch(name) for name in frames):
            raise ValueError(frames)
    except (OSError, ValueError, KeyError, TypeError):
        raise VideoWriteError(
            f"frame folder marker {path} is damaged, so artvid cannot tell its frames from other "
            "files; choose another output folder or empty this one by hand"
        ) from None
    return marker


def _write_marker(folder: Path, frames: list[str], complete: bool) -> None:
    marker = {"artvid_frames": FRAMES_FORMAT, "complete": complete, "frames": frames}
    atomic_write_bytes(folder / FRAMES_MARKER, json.dumps(marker, indent=1).encode())


def _only_frames(staging: Path) -> bool:
    try:
        return staging.is_dir() and not staging.is_symlink() and all(
            _FRAME_NAME.fullmatch(name) or _PARTIAL.fullmatch(name) for name in os.listdir(staging)
        )
    except OSError:
        return False


def _remove_staging(staging: Path) -> None:
    """Remove the staging folder of this or a killed write (only frames are ever in it)."""
    if not staging.exists():
        return
    for name in os.listdir(staging):
        if _FRAME_NAME.fullmatch(name) or _PARTIAL.fullmatch(name):
            (staging / name).unlink()
    staging.rmdir()


def check_not_input(output: Path, inputs: Sequence[Path]) -> None:
    """Refuse an output that is an input, lies inside an input folder, or contains an input.

    Paths are compared after resolving symlinks and ``..``; existing paths by identity
    (``os.path.samefile``, which also covers case-insensitive file systems), others by
    ``os.path.normcase``. Call it before rendering, with the work directory as an output too.

    Args:
        output: The output video file or frame folder (need not exist).
        inputs: The clip (file or frame folder), style images and any other input.

    Raises:
        OutputIsInputError: Naming the output and the input it would harm.
    """
    resolved_output = _resolve(output)
    for path in inputs:
        resolved_input = _resolve(path)
        if _same(resolved_output, resolved_input):
            raise OutputIsInputError(f"output {output} is the input {path}; choose another output")
        if _inside(resolved_output, resolved_input):
            raise OutputIsInputError(f"output {output} lies inside the input folder {path}; choose another output")
        if _inside(resolved_input, resolved_output):
            raise OutputIsInputError(
                f"input {path} lies inside the output folder {output}, which artvid writes; "
                "choose another output"
            )


def _resolve(path: Path) -> Path:
    return Path(path).expanduser().resolve()


def _same(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # one is missing: compare the names
        return os.path.normcase(a) == os.path.normcase(b)


def _inside(path: Path, folder: Path) -> bool:
    return any(_same(parent, folder) for parent in path.parents)
