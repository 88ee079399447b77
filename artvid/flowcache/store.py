"""On-disk cache of optical flow and reliability for the frame pairs of one clip.

One cache *key* covers one clip at one frame size with one flow estimator (its ``cache_token``)
and every one of its parameters; a changed setting or estimator version gets a new key, so stale
flow is never reused. Under a key, each *entry* holds both directions of one frame pair
``(a, b)`` with ``a < b`` (format: :mod:`artvid.flowcache.codec`).

Entries are written atomically (a temporary file with a unique name, then ``os.replace``) and
carry a SHA-256 covering their payload, pair and key, so a killed run never leaves an entry that
reads back as finished, a corrupted or misplaced entry is detected and recomputed, and several
processes can fill one key at once. The byte format is deterministic: an interrupted and resumed
fill produces the same files as an uninterrupted one.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from artvid import video
from artvid.errors import FlowCacheError
from artvid.files import atomic_write_bytes
from artvid.flowcache.codec import FORMAT_VERSION, decode_entry
from artvid.flowcache.config import FlowConfig, FlowPair
from artvid.flowcache.fill import Filler

if TYPE_CHECKING:
    from artvid.flowcache.job import FlowJob

logger = logging.getLogger(__name__)


def _atomic_write(path: Path, data: bytes) -> None:
    # mkstemp gives each writer its own temporary name, so concurrent writers never collide.
    atomic_write_bytes(path, data, fsync=True)


def _cache_error(exc: OSError, where: Path) -> FlowCacheError:
    if exc.errno == errno.ENOSPC:
        return FlowCacheError(f"flow cache disk is full at {where}: free space or use --cache-dir elsewhere")
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return FlowCacheError(f"flow cache directory {where} is not writable: use --cache-dir elsewhere")
    return FlowCacheError(f"cannot write the flow cache at {where}: {exc.strerror or exc}")


def flow_pair(arrays: dict[str, np.ndarray], i: int, j: int) -> FlowPair:
    """The flow from ``i`` to ``j`` (either order) in a decoded entry of the pair, as every reader
    of the cache sees it: float16 flow widened to float32, reliability from 0-255 to [0, 1]."""
    forward = i < j
    flow_ij = arrays["flow_ab" if forward else "flow_ba"].astype(np.float32)
    rel = arrays["rel_ab" if forward else "rel_ba"].astype(np.float32) / 255.0
    return FlowPair(flow=flow_ij, reliability=rel)


class FlowCache:
    """The flow of one clip at one size and one flow setting, stored under ``root``.

    Args:
        root: Cache root folder (created if missing); see :func:`default_cache_dir`.
        clip: Video file or image folder.
        size: Long side in pixels the frames are resized to, or None for the native size.
        config: Flow settings.
        clip_hash: The clip's :func:`artvid.video.content_hash`, when the caller has it already.
        upscale: Allow ``size`` above the clip's own long side.

    Raises:
        VideoReadError: If the clip cannot be read.
        ConfigError: If ``size`` would enlarge the clip without ``upscale``.
        FlowCacheError: If the cache folder cannot be created or written.
    """

    def __init__(
        self, root: Path, clip: Path, size: int | None, config: FlowConfig, clip_hash: str | None = None,
        upscale: bool = False,
    ) -> None:
        self.clip = Path(clip)
        self.size = size
        self.upscale = upscale
        self.config = config
        self.info = video.probe(self.clip, size=size, upscale=upscale)
        self.clip_hash = clip_hash or video.content_hash(self.clip)
        self.key = self._key()
        self.dir = Path(root) / self.key
        self._make_dirs()

    def _key(self) -> str:
        blob = json.dumps(self.describe(), sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:24]

    def describe(self) -> dict[str, Any]:
        """Everything the key is made of, written to ``key.json`` for humans."""
        described = {
            "format_version": FORMAT_VERSION,
            "clip_sha256": self.clip_hash,
            "frame_size": [self.info.height, self.info.width],
            "method": self.config.method,
            "estimator": self.config.estimator.cache_token,
            "params": self.config.resolved_params(),
            "check": self.config.check,
        }
        if self.info.read_as:  # deinterlaced or HDR mapped: not the flow of the frames as once read
            described["frames"] = self.info.read_as
        return described

    def _make_dirs(self) -> None:
        try:
            (self.dir / "pairs").mkdir(parents=True, exist_ok=True)
            manifest = self.dir / "key.json"
            if not manifest.exists():
                text = json.dumps({**self.describe(), "clip": str(self.clip)}, indent=2, default=str)
                _atomic_write(manifest, text.encode())
        except OSError as exc:
            raise _cache_error(exc, self.dir) from None

    def entry_path(self, a: int, b: int) -> Path:
        """Path of the entry for frames ``a < b`` (0-based)."""
        return self.dir / "pairs" / f"{a:06d}_{b:06d}.avfc"

    def _load(self, a: int, b: int) -> dict[str, np.ndarray] | None:
        read = self._read(a, b)
        return None if read is None else read[1]

    def entry_bytes(self, a: int, b: int) -> bytes | None:
        """The verified bytes of the entry for frames ``a < b`` (0-based), or None when it is
        missing or damaged (a damaged one is removed, so that it is computed again).

        Raises:
            FlowCacheError: If the entry cannot be read.
        """
        read = self._read(a, b)
        return None if read is None else read[0]

    def _read(self, a: int, b: int) -> tuple[bytes, dict[str, np.ndarray]] | None:
        path = self.entry_path(a, b)
        try:
            with open(path, "rb") as handle:
                read = os.fstat(handle.fileno())
                data = handle.read()
            return data, decode_entry(data, (a, b), self.key)
        except FileNotFoundError:
            return None
        except FlowCacheError as exc:
            logger.warning("flow cache entry %s is damaged (%s); recomputing it", path.name, exc)
            self._discard(path, read)
            return None
        except OSError as exc:
            raise FlowCacheError(f"cannot read flow cache entry {path}: {exc.strerror or exc}") from None

    @staticmethod
    def _discard(path: Path, read: os.stat_result) -> None:
        # Another writer may have renamed a good entry into place since this one was read: only
        # the file that was read is removed.
        try:
            now = os.stat(path)
            if (now.st_ino, now.st_dev) == (read.st_ino, read.st_dev):
                path.unlink()
        except FileNotFoundError:
            pass

    def write_entry(self, a: int, b: int, data: bytes) -> None:
        """Store the encoded entry of pair ``a < b``, atomically.

        Raises:
            FlowCacheError: If the cache cannot be written (full disk, no permission).
        """
        try:
            _atomic_write(self.entry_path(a, b), data)
        except OSError as exc:
            raise _cache_error(exc, self.dir) from None

    def has(self, a: int, b: int) -> bool:
        """Whether an intact entry for the pair exists (reads and verifies it)."""
        return self._load(min(a, b), max(a, b)) is not None

    def get(self, i: int, j: int) -> FlowPair:
        """Flow from frame ``i`` to frame ``j`` (either order) with its reliability, on ``i``'s grid.

        Computes and stores the entry first when it is missing or damaged.
        """
        return flow_pair(self._read_ensured(min(i, j), max(i, j))[1], i, j)

    def ensured_entry_bytes(self, a: int, b: int) -> bytes:
        """The verified bytes of the entry for frames ``a < b``, computed and stored first when it
        is missing or damaged.

        Raises:
            FlowCacheError: If it cannot be read or written.
        """
        return self._read_ensured(a, b)[0]

    def _read_ensured(self, a: int, b: int) -> tuple[bytes, dict[str, np.ndarray]]:
        read = self._read(a, b)
        if read is None:
            self.ensure([(a, b)], workers=1, progress=False)
            read = self._read(a, b)
            if read is None:
                raise FlowCacheError(f"flow cache entry {self.entry_path(a, b)} vanished after it was written")
        return read

    def missing(self, pairs: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
        """The pairs (normalised to ``a < b``) without an intact entry, in the given order."""
        seen, out = set(), []
        for i, j in pairs:
            pair = (min(i, j), max(i, j))
            if pair not in seen:
                seen.add(pair)
                if not self.has(*pair):
                    out.append(pair)
        return out

    def ensure(
        self,
        pairs: Iterable[tuple[int, int]],
        workers: int | None = None,
        progress: bool = True,
        on_done: Callable[[tuple[int, int]], None] | None = None,
        stop: threading.Event | None = None,
    ) -> int:
        """Compute every missing pair, in parallel threads; returns how many were computed.

        Frames are decoded once, streamed, and only a window of ``largest offset + 1`` frames is
        held, so memory stays bounded for long clips. Finished entries are never rewritten, also
        not those another process finishes while this one fills the same key.

        Args:
            pairs: Frame pairs (0-based, either order).
            workers: Worker threads (None = all cores for a CPU estimator, 1 for another device;
                1 = in the calling thread).
            progress: Show a progress bar on stderr.
            on_done: Called with each pair ``(a, b)`` once its entry is on disk.
            stop: When set, no further pair is started (pairs in flight still finish).
        """
        todo = self.missing(pairs)
        if not todo:
            return 0
        self._remove_stale_temporaries()
        if not workers:
            workers = (os.cpu_count() or 1) if self.config.estimator.device == "cpu" else 1
        from tqdm import tqdm

        bar = tqdm(total=len(todo), desc="flow", unit="pair", disable=not progress, dynamic_ncols=True)
        filler = Filler(self, todo, bar, on_done, stop)
        try:
            return filler.serial() if workers <= 1 else filler.parallel(workers)
        finally:
            bar.close()

    def _remove_stale_temporaries(self, age_seconds: float = 3600.0) -> None:
        # A killed writer leaves its temporary file behind; a live one finishes it within seconds.
        now = time.time()
        for tmp in (self.dir / "pairs").glob(".*.partial"):
            try:
                if now - tmp.stat().st_mtime > age_seconds:
                    tmp.unlink()
            except OSError:
                pass

    def start(self, pairs: Sequence[tuple[int, int]], workers: int | None = None) -> FlowJob:
        """Fill the cache in a background thread; see :class:`FlowJob`."""
        from artvid.flowcache.job import FlowJob

        return FlowJob(self, pairs, workers)

    def export(self, folder: Path, pairs: Iterable[tuple[int, int]]) -> int:
        """Write Ruder-compatible files for ``pairs``; see :func:`artvid.flowcache.export.export`."""
        from artvid.flowcache.export import export

        return export(self, folder, pairs)
