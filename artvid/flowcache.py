"""On-disk cache of optical flow and reliability for the frame pairs of one clip.

One cache *key* covers one clip at one frame size with one flow method and every one of its
parameters; a changed setting gets a new key, so stale flow is never reused. Under a key, each
*entry* holds both directions of one frame pair ``(a, b)`` with ``a < b``::

    flow_ab  (H, W, 2)  flow from frame a to frame b, on a's grid     (float16)
    flow_ba  (H, W, 2)  flow from frame b to frame a, on b's grid     (float16)
    rel_ab   (H, W)     reliability of flow_ab, on a's grid          (uint8, 0-255)
    rel_ba   (H, W)     reliability of flow_ba, on b's grid          (uint8, 0-255)

Entries are written atomically (temporary file + ``os.replace``) and carry a SHA-256 of their
payload, so a killed run never leaves an entry that reads back as finished, and a corrupted entry
is detected and recomputed. The byte format is deterministic: an interrupted and resumed fill
produces the same files as an uninterrupted one.
"""

from __future__ import annotations

import concurrent.futures as futures
import errno
import hashlib
import json
import logging
import os
import struct
import threading
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

import flow
from artvid import video
from artvid.files import atomic_write_bytes
from artvid.errors import ConfigError, FlowCacheError
from artvid.settings import setting

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
_MAGIC = b"AVFC"
_HEADER = struct.Struct("<4sII")  # magic, format version, JSON header length
_ARRAYS = ("flow_ab", "flow_ba", "rel_ab", "rel_ba")

FlowMethod = Literal["dis", "deepflow"]


@dataclass(frozen=True)
class FlowConfig:
    """How flow is computed for a clip.

    Attributes:
        method: ``"dis"`` (OpenCV DIS, fast) or ``"deepflow"`` (OpenCV DeepFlow, the estimator
            of Ruder et al.; slower).
        params: Overrides of the method's parameters (see ``flow.default_params``), as
            ``(name, value)`` pairs. Unknown names are rejected.
        long_term: Frame offsets J whose pairs ``(i - j, i)`` are computed. ``(1,)`` is short-term
            only, the reference implementation's default; the paper's long-term experiments used
            ``(1, 10, 20, 40)``. Each extra offset costs one more flow pair per frame, so long-term
            is opt-in: it pays off on clips where objects occlude and reveal the background.
        check: The consistency check used for reliability (``flow.reliability``'s ``check``).
    """

    method: FlowMethod = setting("dis", help="Optical-flow estimator.")
    params: tuple[tuple[str, Any], ...] = setting(
        (), help="Overrides of the method's parameters.", hidden="set from Python: (name, value) pairs"
    )
    long_term: tuple[int, ...] = setting((1,), help="Temporal offsets J, comma-separated (paper's long-term: 1,10,20,40).", min=1)
    check: str = setting(
        default_factory=lambda: flow.DEFAULT_CHECK, help="Consistency check for the reliability masks."
    )

    def __post_init__(self) -> None:
        if self.method not in flow.METHODS:
            raise ConfigError(f"unknown flow method {self.method!r}: expected one of {', '.join(flow.METHODS)}")
        if not self.long_term or any(int(j) != j or j < 1 for j in self.long_term):
            raise ConfigError(f"long-term offsets must be positive integers, got {self.long_term!r}")
        if tuple(sorted(set(self.long_term))) != tuple(self.long_term):
            object.__setattr__(self, "long_term", tuple(sorted(set(int(j) for j in self.long_term))))
        if self.check not in flow.CHECKS:
            raise ConfigError(f"unknown consistency check {self.check!r}: expected one of {', '.join(flow.CHECKS)}")
        try:
            self.resolved_params()
        except flow.FlowError as exc:
            raise ConfigError(str(exc)) from None

    def resolved_params(self) -> dict[str, Any]:
        """Every parameter of the method with its value: defaults updated by ``params``."""
        resolved = flow.default_params(self.method)
        unknown = sorted(set(dict(self.params)) - set(resolved))
        if unknown:
            raise flow.FlowMethodError(
                f"unknown {self.method} parameter(s) {', '.join(unknown)}: expected some of {', '.join(sorted(resolved))}"
            )
        resolved.update(dict(self.params))
        return resolved


@dataclass(frozen=True)
class FlowPair:
    """Flow from frame ``i`` to frame ``j`` and its reliability, both on ``i``'s grid.

    Attributes:
        flow: ``(H, W, 2) float32``, pixels, ``frame_i(p) ≈ frame_j(p + flow(p))``.
        reliability: ``(H, W) float32`` in [0, 1], 1 = trustworthy.
    """

    flow: np.ndarray
    reliability: np.ndarray


def default_cache_dir() -> Path:
    """The cache root: ``$ARTVID_CACHE``, else ``$XDG_CACHE_HOME/artvid/flow``, else ``~/.cache/artvid/flow``."""
    if os.environ.get("ARTVID_CACHE"):
        return Path(os.environ["ARTVID_CACHE"]).expanduser()
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "artvid" / "flow"


def pairs_for(frame_count: int, offsets: Sequence[int]) -> list[tuple[int, int]]:
    """All pairs ``(i - j, i)`` for offsets ``j``, ordered by the later frame so a renderer
    going forward finds its pairs early. Frame indices are 0-based.

    Raises:
        ConfigError: If the clip is shorter than the largest offset needs.
    """
    if frame_count < 2:
        raise ConfigError(f"flow needs a clip of at least 2 frames, got {frame_count}")
    largest = max(offsets)
    if largest >= frame_count:
        raise ConfigError(
            f"long-term offset {largest} needs a clip of more than {largest} frames, got {frame_count} frames"
        )
    return [(i - j, i) for i in range(1, frame_count) for j in sorted(offsets) if i - j >= 0]


def encode_entry(arrays: Mapping[str, np.ndarray]) -> bytes:
    """Serialise one entry: fixed header, JSON description with a SHA-256, zlib payload."""
    parts, layout = [], []
    for name in _ARRAYS:
        array = np.ascontiguousarray(arrays[name])
        layout.append({"name": name, "dtype": array.dtype.str, "shape": list(array.shape)})
        parts.append(array.tobytes())
    raw = b"".join(parts)
    header = json.dumps(
        {"arrays": layout, "sha256": hashlib.sha256(raw).hexdigest()}, sort_keys=True
    ).encode()
    return _HEADER.pack(_MAGIC, FORMAT_VERSION, len(header)) + header + zlib.compress(raw, 6)


def decode_entry(data: bytes) -> dict[str, np.ndarray]:
    """Inverse of :func:`encode_entry`.

    Raises:
        FlowCacheError: If the bytes are not a complete, intact entry.
    """
    if len(data) < _HEADER.size:
        raise FlowCacheError(f"expected an entry of at least {_HEADER.size} bytes, got {len(data)}")
    magic, version, header_len = _HEADER.unpack_from(data)
    if magic != _MAGIC or version != FORMAT_VERSION:
        raise FlowCacheError(f"expected magic {_MAGIC!r} version {FORMAT_VERSION}, got {magic!r} version {version}")
    try:
        header = json.loads(data[_HEADER.size : _HEADER.size + header_len])
        raw = zlib.decompress(data[_HEADER.size + header_len :])
    except (ValueError, zlib.error) as exc:
        raise FlowCacheError(f"damaged entry: {exc}") from None
    if hashlib.sha256(raw).hexdigest() != header.get("sha256"):
        raise FlowCacheError("entry checksum mismatch")
    arrays, offset = {}, 0
    for spec in header["arrays"]:
        dtype = np.dtype(spec["dtype"])
        count = int(np.prod(spec["shape"]))
        arrays[spec["name"]] = np.frombuffer(raw, dtype, count, offset).reshape(spec["shape"])
        offset += count * dtype.itemsize
    return arrays


def compute_entry(frame_a: np.ndarray, frame_b: np.ndarray, config: FlowConfig) -> bytes:
    """Both flows of a pair and their reliabilities, serialised (runs in worker threads)."""
    params = config.resolved_params()
    flow_ab = flow.estimate(frame_a, frame_b, config.method, **params)
    flow_ba = flow.estimate(frame_b, frame_a, config.method, **params)
    rel_ab = flow.reliability(flow_ab, flow_ba, check=config.check, frame_a=frame_a, frame_b=frame_b)
    rel_ba = flow.reliability(flow_ba, flow_ab, check=config.check, frame_a=frame_b, frame_b=frame_a)
    return encode_entry(
        {
            "flow_ab": flow_ab.astype(np.float16),
            "flow_ba": flow_ba.astype(np.float16),
            "rel_ab": np.round(np.clip(rel_ab, 0, 1) * 255).astype(np.uint8),
            "rel_ba": np.round(np.clip(rel_ba, 0, 1) * 255).astype(np.uint8),
        }
    )


def _atomic_write(path: Path, data: bytes) -> None:
    atomic_write_bytes(path, data, fsync=True)


def _cache_error(exc: OSError, where: Path) -> FlowCacheError:
    if exc.errno == errno.ENOSPC:
        return FlowCacheError(f"flow cache disk is full at {where}: free space or use --cache-dir elsewhere")
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return FlowCacheError(f"flow cache directory {where} is not writable: use --cache-dir elsewhere")
    return FlowCacheError(f"cannot write the flow cache at {where}: {exc.strerror or exc}")


class FlowCache:
    """The flow of one clip at one size and one flow setting, stored under ``root``.

    Args:
        root: Cache root folder (created if missing); see :func:`default_cache_dir`.
        clip: Video file or image folder.
        size: Long side in pixels the frames are resized to, or None for the native size.
        config: Flow settings.
        clip_hash: The clip's :func:`artvid.video.content_hash`, when the caller has it already.

    Raises:
        VideoReadError: If the clip cannot be read.
        FlowCacheError: If the cache folder cannot be created or written.
    """

    def __init__(self, root: Path, clip: Path, size: int | None, config: FlowConfig, clip_hash: str | None = None) -> None:
        self.clip = Path(clip)
        self.size = size
        self.config = config
        self.info = video.probe(self.clip, size=size)
        self.clip_hash = clip_hash or video.content_hash(self.clip)
        self.key = self._key()
        self.dir = Path(root) / self.key
        self._make_dirs()

    def _key(self) -> str:
        import cv2

        description = self.describe()
        description["opencv"] = cv2.__version__
        blob = json.dumps(description, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:24]

    def describe(self) -> dict[str, Any]:
        """Everything the key is made of, written to ``key.json`` for humans."""
        return {
            "format_version": FORMAT_VERSION,
            "clip_sha256": self.clip_hash,
            "frame_size": [self.info.height, self.info.width],
            "method": self.config.method,
            "params": self.config.resolved_params(),
            "check": self.config.check,
        }

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
        path = self.entry_path(a, b)
        try:
            return decode_entry(path.read_bytes())
        except FileNotFoundError:
            return None
        except FlowCacheError as exc:
            logger.warning("flow cache entry %s is damaged (%s); recomputing it", path.name, exc)
            path.unlink(missing_ok=True)
            return None
        except OSError as exc:
            raise FlowCacheError(f"cannot read flow cache entry {path}: {exc.strerror or exc}") from None

    def has(self, a: int, b: int) -> bool:
        """Whether an intact entry for the pair exists (reads and verifies it)."""
        return self._load(min(a, b), max(a, b)) is not None

    def get(self, i: int, j: int) -> FlowPair:
        """Flow from frame ``i`` to frame ``j`` (either order) with its reliability, on ``i``'s grid.

        Computes and stores the entry first when it is missing or damaged.
        """
        a, b = min(i, j), max(i, j)
        arrays = self._load(a, b)
        if arrays is None:
            self.ensure([(a, b)], workers=1, progress=False)
            arrays = self._load(a, b)
            if arrays is None:
                raise FlowCacheError(f"flow cache entry {self.entry_path(a, b)} vanished after it was written")
        forward = i == a
        flow_ij = arrays["flow_ab" if forward else "flow_ba"].astype(np.float32)
        rel = arrays["rel_ab" if forward else "rel_ba"].astype(np.float32) / 255.0
        return FlowPair(flow=flow_ij, reliability=rel)

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
        held, so memory stays bounded for long clips. Finished entries are never rewritten.

        Args:
            pairs: Frame pairs (0-based, either order).
            workers: Worker threads (None = all cores; 1 = in the calling thread).
            progress: Show a progress bar on stderr.
            on_done: Called with each pair ``(a, b)`` once its entry is on disk.
            stop: When set, no further pair is started (pairs in flight still finish).
        """
        todo = self.missing(pairs)
        if not todo:
            return 0
        self._remove_stale_temporaries()
        workers = max(1, workers or os.cpu_count() or 1)
        needed: dict[int, list[tuple[int, int]]] = {}
        for a, b in todo:
            needed.setdefault(b, []).append((a, b))
        window = max(b - a for a, b in todo) + 1
        from tqdm import tqdm

        bar = tqdm(total=len(todo), desc="flow", unit="pair", disable=not progress, dynamic_ncols=True)
        frames: deque[tuple[int, np.ndarray]] = deque(maxlen=window)
        try:
            if workers == 1:
                self._fill_serial(needed, frames, bar, on_done, stop)
            else:
                self._fill_parallel(needed, frames, bar, on_done, stop, workers)
        finally:
            bar.close()
        return len(todo)

    def _remove_stale_temporaries(self, age_seconds: float = 3600.0) -> None:
        # A killed writer leaves its temporary file behind; a live one touches it within seconds.
        import time

        now = time.time()
        for tmp in (self.dir / "pairs").glob(".*.partial"):
            try:
                if now - tmp.stat().st_mtime > age_seconds:
                    tmp.unlink()
            except OSError:
                pass

    def _frames_needed(self, needed: Mapping[int, list[tuple[int, int]]], frames: deque) -> Iterable[tuple[int, int, np.ndarray, np.ndarray]]:
        last = max(needed)
        first = min(a for pairs in needed.values() for a, _ in pairs)
        for index, frame in enumerate(video.iter_frames(self.clip, size=self.size, start=first, stop=last + 1), first):
            frames.append((index, frame))
            for a, b in needed.get(index, ()):
                frame_a = next(f for k, f in frames if k == a)
                yield a, b, frame_a, frame

    def _store(self, a: int, b: int, data: bytes) -> None:
        try:
            _atomic_write(self.entry_path(a, b), data)
        except OSError as exc:
            raise _cache_error(exc, self.dir) from None

    def _fill_serial(self, needed, frames, bar, on_done, stop) -> None:
        for a, b, frame_a, frame_b in self._frames_needed(needed, frames):
            if stop is not None and stop.is_set():
                return
            self._store(a, b, compute_entry(frame_a, frame_b, self.config))
            bar.update()
            if on_done:
                on_done((a, b))

    def _fill_parallel(self, needed, frames, bar, on_done, stop, workers) -> None:
        # Threads, not processes: OpenCV's flow and most of numpy release the GIL, so threads run
        # the pairs in parallel without a process start-up (about a second per spawned worker,
        # more than a whole small clip's flow) or pickling frames across.
        import cv2

        in_flight: dict[futures.Future, tuple[int, int]] = {}

        def drain(block_until: int) -> None:
            while len(in_flight) > block_until:
                done, _ = futures.wait(in_flight, return_when=futures.FIRST_COMPLETED)
                for future in done:
                    a, b = in_flight.pop(future)
                    self._store(a, b, future.result())
                    bar.update()
                    if on_done:
                        on_done((a, b))

        # Each worker is one core's worth of work; OpenCV's own thread pool would oversubscribe.
        opencv_threads = cv2.getNumThreads()
        cv2.setNumThreads(1)
        try:
            with futures.ThreadPoolExecutor(workers, thread_name_prefix="artvid-flow") as pool:
                try:
                    for a, b, frame_a, frame_b in self._frames_needed(needed, frames):
                        if stop is not None and stop.is_set():
                            break
                        in_flight[pool.submit(compute_entry, frame_a, frame_b, self.config)] = (a, b)
                        drain(2 * workers)
                    drain(0)
                except BaseException:
                    for future in in_flight:
                        future.cancel()
                    raise
        finally:
            cv2.setNumThreads(opencv_threads)

    def start(self, pairs: Sequence[tuple[int, int]], workers: int | None = None) -> "FlowJob":
        """Fill the cache in a background thread; see :class:`FlowJob`."""
        return FlowJob(self, pairs, workers)

    def export(self, folder: Path, pairs: Iterable[tuple[int, int]]) -> int:
        """Write Ruder-compatible files for ``pairs``; returns the number of files written.

        For each pair ``(i, j)`` with ``i < j`` (1-based in the names, as artistic-videos expects):
        ``forward_i_j.flo`` (on frame i, towards j), ``backward_j_i.flo`` (on frame j, towards i),
        ``reliable_j_i.pgm`` (reliability of the backward flow) and ``reliable_i_j.pgm``.
        """
        folder = Path(folder)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise FlowCacheError(f"cannot create export folder {folder}: {exc.strerror or exc}") from None
        count = 0
        for a, b in sorted({(min(p), max(p)) for p in pairs}):
            forward, backward = self.get(a, b), self.get(b, a)
            i, j = a + 1, b + 1
            try:
                flow.write_flo(folder / f"forward_{i}_{j}.flo", forward.flow)
                flow.write_flo(folder / f"backward_{j}_{i}.flo", backward.flow)
                flow.write_mask(folder / f"reliable_{j}_{i}.pgm", backward.reliability)
                flow.write_mask(folder / f"reliable_{i}_{j}.pgm", forward.reliability)
            except OSError as exc:
                raise FlowCacheError(f"cannot write to export folder {folder}: {exc.strerror or exc}") from None
            count += 4
        return count


class FlowJob:
    """A background fill of a :class:`FlowCache`, so flow stays off the optimiser's critical path.

    ``wait(i, j)`` blocks until that pair is on disk (or computes it here if the background
    thread failed); errors of the background fill are re-raised by ``wait`` and ``close``.
    """

    def __init__(self, cache: FlowCache, pairs: Sequence[tuple[int, int]], workers: int | None) -> None:
        self.cache = cache
        self._done: set[tuple[int, int]] = set()
        self._cond = threading.Condition()
        self._error: BaseException | None = None
        self._finished = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(list(pairs), workers), daemon=True, name="artvid-flow")
        self._thread.start()

    def _run(self, pairs, workers) -> None:
        try:
            self.cache.ensure(pairs, workers=workers, progress=False, on_done=self._mark, stop=self._stop)
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
            with self._cond:
                self._error = exc
        finally:
            with self._cond:
                self._finished = True
                self._cond.notify_all()

    def _mark(self, pair: tuple[int, int]) -> None:
        with self._cond:
            self._done.add(pair)
            self._cond.notify_all()

    def wait(self, i: int, j: int) -> FlowPair:
        """The flow from ``i`` to ``j``, waiting for the background fill if needed."""
        pair = (min(i, j), max(i, j))
        with self._cond:
            # Pairs that were cached before the job started are never reported by it.
            while pair not in self._done and not self._finished and not self.cache.entry_path(*pair).exists():
                self._cond.wait(timeout=0.5)
            if self._error is not None:
                raise self._error
        return self.cache.get(i, j)

    def cancel(self) -> None:
        """Start no further pair and wait for the ones in flight (each is written whole or not at all)."""
        self._stop.set()
        self._thread.join()

    def close(self) -> None:
        """Wait for the background fill to end; re-raise its error."""
        self._thread.join()
        if self._error is not None:
            raise self._error
