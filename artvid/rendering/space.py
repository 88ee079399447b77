"""Disk space: warn before a render (or ``artvid flow``) starts when what it will write does not fit.

A render keeps every content frame and every frame of every pass (PNG) in its work directory,
and two flow fields with their reliability for every frame pair in the flow cache. At 1080p that
is about 30 MB per frame with three passes: 40 GB for a minute at 24 fps. Running out of space
loses no work (the render stops with one line and resumes), but it may stop hours in; so the
space still needed is estimated from the frames and pairs not yet stored and compared with the
free space of each file system, before anything is computed.

The sizes per pixel were measured and rounded up: stylized frames 2.5 bytes per pixel and
content frames 1.6 (the bundled example's work directory, 256x108), a flow entry 5.2 (a Sintel
pair at 1920x817: two float16 fields and two uint8 masks, zlib-compressed). They are estimates:
a clip with much flat area compresses better.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from artvid.flowcache import FlowCache
from artvid.rendering.plan import RenderPlan
from artvid.workdir import content_file, frame_file

logger = logging.getLogger(__name__)

FRAME_BYTES_PER_PIXEL = 3.0
"""Bytes per pixel of a stored frame (PNG; stylized ~2.5, content ~1.6), rounded up."""
FLOW_BYTES_PER_PIXEL = 6.0
"""Bytes per pixel of one flow-cache entry (~5.2 measured), rounded up."""


def needed_bytes(plan: RenderPlan, work_dir: Path, cache: FlowCache | None, width: int, height: int) -> dict[Path, int]:
    """Bytes a render (or one scale of it) still writes, by folder: frames not yet in the work
    directory ``work_dir`` (which need not exist yet), pairs not yet in ``cache``.

    Files are only looked for, not read: a damaged one counts as stored.
    """
    pixels = width * height
    frames = sum(not content_file(work_dir, f).exists() for f in range(plan.frame_count))
    frames += sum(not frame_file(work_dir, p, f).exists() for p in range(1, plan.passes + 1) for f in range(plan.frame_count))
    needed = {Path(work_dir): round(frames * pixels * FRAME_BYTES_PER_PIXEL)}
    if cache is not None:
        needed[cache.dir] = missing_flow_bytes(cache, plan.flow_pairs)
    return needed


def missing_flow_bytes(cache: FlowCache, pairs: Iterable[tuple[int, int]]) -> int:
    """Bytes the entries of ``pairs`` that ``cache`` does not hold yet will take."""
    missing = sum(not cache.entry_path(a, b).exists() for a, b in pairs)
    return round(missing * cache.info.width * cache.info.height * FLOW_BYTES_PER_PIXEL)


def _existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def warn_if_short(needed: dict[Path, int], task: str = "render", options: str = "--work-dir / --cache-dir") -> bool:
    """Log one warning per file system whose free space is less than what will be written there.

    Args:
        needed: Bytes to be written, by folder (which need not exist yet).
        task: What writes them, for the message ("render", "flow computation").
        options: The options that choose the folders, for the message.

    Returns:
        Whether a warning was logged.
    """
    by_device: dict[int, list[Path]] = defaultdict(list)
    total: dict[int, int] = defaultdict(int)
    for folder, size in needed.items():
        if size > 0:
            device = os.stat(_existing(folder)).st_dev
            by_device[device].append(folder)
            total[device] += size
    short = False
    for device, folders in by_device.items():
        free = shutil.disk_usage(_existing(folders[0])).free
        if total[device] > free:
            short = True
            where = " and ".join(f"{format_bytes(needed[f])} in {f}" for f in folders)
            logger.warning(
                "this %s will write about %s (%s), but only %s is free there: free some space or choose "
                "%s on a larger disk (if the disk fills up, the %s stops and resumes when run again)",
                task, format_bytes(total[device]), where, format_bytes(free), options, task,
            )
    return short


def format_bytes(size: int) -> str:
    """``2.1 GB``, ``35 MB``, ``12 kB``."""
    if size >= 1e9:
        return f"{size / 1e9:.1f} GB"
    return f"{size / 1e6:.0f} MB" if size >= 1e6 else f"{size / 1e3:.0f} kB"


def folder_bytes(folder: Path) -> int:
    """The bytes of every file under ``folder`` (0 if it is gone)."""
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            try:
                total += os.stat(os.path.join(root, name)).st_size
            except OSError:  # removed meanwhile
                pass
    return total
