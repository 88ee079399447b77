"""Atomic file writes: a crash never leaves a partial file under the final name."""

from __future__ import annotations

import functools
import os
import tempfile
from pathlib import Path


@functools.cache
def default_file_mode() -> int:
    """The mode ``open()`` would give a new file (mkstemp's 0600 would hide outputs from others).

    Read once: ``os.umask`` can only be read by setting it, which is process-wide.
    """
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write_bytes(path: Path, data: bytes, fsync: bool = False) -> None:
    """Write ``data`` to a temporary file beside ``path``, then rename it over ``path``.

    The file gets the mode a plain ``open()`` would give it, not mkstemp's private 0600.

    Args:
        path: Destination; its folder must exist.
        data: The bytes.
        fsync: Flush to disk before the rename (survives a power loss, costs a few ms).

    Raises:
        OSError: If the folder is missing, not writable or full; the temporary file is removed.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if fsync:
                handle.flush()
                os.fsync(handle.fileno())
        os.chmod(tmp, default_file_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
