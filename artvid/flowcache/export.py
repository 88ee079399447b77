"""Export of cached flow as the files Ruder et al.'s artistic-videos reads (``.flo`` + ``.pgm``)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import flow
from artvid.errors import FlowCacheError

if TYPE_CHECKING:
    from artvid.flowcache.store import FlowCache


def export(cache: FlowCache, folder: Path, pairs: Iterable[tuple[int, int]]) -> int:
    """Write Ruder-compatible files for ``pairs`` of ``cache``; returns the number of files written.

    For each pair ``(i, j)`` with ``i < j`` (1-based in the names, as artistic-videos expects):
    ``forward_i_j.flo`` (on frame i, towards j), ``backward_j_i.flo`` (on frame j, towards i),
    ``reliable_j_i.pgm`` (reliability of the backward flow) and ``reliable_i_j.pgm``. Missing
    entries are computed first. Files are written atomically, with the mode the umask gives.

    Raises:
        FlowCacheError: If the folder cannot be created or written.
    """
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FlowCacheError(f"cannot create export folder {folder}: {exc.strerror or exc}") from None
    count = 0
    for a, b in sorted({(min(p), max(p)) for p in pairs}):
        forward, backward = cache.get(a, b), cache.get(b, a)
        i, j = a + 1, b + 1
        try:
            flow.write_flo(folder / f"forward_{i}_{j}.flo", forward.flow)
            flow.write_flo(folder / f"backward_{j}_{i}.flo", backward.flow)
            flow.write_mask(folder / f"reliable_{j}_{i}.pgm", backward.reliability)
            flow.write_mask(folder / f"reliable_{i}_{j}.pgm", forward.reliability)
        except (OSError, flow.FlowFileError) as exc:
            raise FlowCacheError(f"cannot write to export folder {folder}: {exc}") from None
        count += 4
    return count
