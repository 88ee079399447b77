"""Atomic file writes (a crash never leaves a partial file under the final name), checksum sidecars,
and parts of default file names."""

from __future__ import annotations

import functools
import hashlib
import os
import tempfile
from pathlib import Path


NAME_PART_BYTES = 100
"""The most bytes a default file name takes from one input's name.

File names have at most 255 bytes, and names derived from an output are longer still (the
video's temporary file, the work directory: about 25 bytes more); a long downloaded title
would otherwise make a default name unusable."""


def name_part(name: str) -> str:
    """``name`` cut to :data:`NAME_PART_BYTES` bytes of UTF-8, on a character boundary."""
    return name.encode()[:NAME_PART_BYTES].decode("utf-8", "ignore")


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


CHECKSUM_SUFFIX = ".sha256"


def checksum_path(path: Path) -> Path:
    """The sidecar holding ``path``'s SHA-256: ``000001.png`` → ``000001.png.sha256``."""
    path = Path(path)
    return path.with_name(path.name + CHECKSUM_SUFFIX)


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file's bytes, as 64 lowercase hex digits.

    Raises:
        OSError: If the file cannot be read.
    """
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def write_checksum(path: Path, digest: str) -> None:
    """Store ``digest`` in ``path``'s sidecar, atomically, in ``sha256sum`` format.

    ``sha256sum -c 000001.png.sha256`` run in the file's folder checks it by hand.

    Raises:
        OSError: If the sidecar cannot be written.
    """
    path = Path(path)
    atomic_write_bytes(checksum_path(path), f"{digest}  {path.name}\n".encode())


def read_checksum(path: Path) -> str | None:
    """The digest stored in ``path``'s sidecar, or None if the sidecar is missing or unreadable."""
    try:
        text = checksum_path(path).read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError):
        return None
    digest = text.split(" ", 1)[0].strip().lower()
    return digest if len(digest) == 64 and all(c in "0123456789abcdef" for c in digest) else None
