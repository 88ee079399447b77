"""Content hashes of clips, the key the flow cache and the benchmarks store results under."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from artvid.errors import VideoReadError
from artvid.video.inputs import folder_images

__all__ = ["content_hash", "hash_file"]


def content_hash(path: str | os.PathLike) -> str:
    """A stable hash of a clip's content, for cache keys.

    SHA-256 over the file bytes (read in 1 MiB chunks, so a large clip is never held in memory:
    about a second per GB); for a folder, over each image's name, size and bytes in reading
    order. Unrelated files in the folder, file times and the path itself do not count.

    Args:
        path: video file or image folder.

    Returns:
        64 lowercase hex digits.

    Raises:
        VideoReadError: the path is missing or unreadable.
    """
    path = Path(path)
    if not path.exists():
        raise VideoReadError(f"input not found: {path}")
    digest = hashlib.sha256()
    try:
        if path.is_dir():
            digest.update(b"artvid-folder\0")
            for file in folder_images(path):
                digest.update(file.name.encode("utf-8", "surrogateescape") + b"\0")
                digest.update(file.stat().st_size.to_bytes(8, "little"))
                hash_file(digest, file)
        else:
            digest.update(b"artvid-video\0")
            hash_file(digest, path)
    except OSError as exc:
        raise VideoReadError(f"cannot read {path} to hash it: {exc.strerror or exc}") from None
    return digest.hexdigest()


def hash_file(digest, file: Path) -> None:
    """Feed a file's bytes to a hashlib ``digest`` in 1 MiB chunks (never the whole file in memory)."""
    with open(file, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
