"""Computing missing flow-cache entries: frames streamed once, pairs run in parallel threads.

Several writers may fill one cache key at once (two renders of one clip, two processes): every
entry is written under a unique temporary name and renamed into place, so a reader sees a whole
entry or none, and a pair that another writer finished meanwhile is skipped, not recomputed.
"""

from __future__ import annotations

import concurrent.futures as futures
import threading
from collections import deque
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import numpy as np

import flow
from artvid import video
from artvid.flowcache.codec import encode_entry
from artvid.flowcache.config import FlowConfig

if TYPE_CHECKING:
    from artvid.flowcache.store import FlowCache

Pair = tuple[int, int]


def compute_entry(
    frame_a: np.ndarray, frame_b: np.ndarray, config: FlowConfig, pair: Pair | None = None, key: str | None = None
) -> bytes:
    """Both flows of a pair and their reliabilities, serialised for ``pair`` under ``key``
    (runs in worker threads)."""
    params = config.resolved_params()
    flow_ab = flow.estimate(frame_a, frame_b, config.method, **params)
    flow_ba = flow.estimate(frame_b, frame_a, config.method, **params)
    rel_ab = flow.reliability(flow_ab, flow_ba, check=config.check, frame_a=frame_a, frame_b=frame_b)
    rel_ba = flow.reliability(flow_ba, flow_ab, check=config.check, frame_a=frame_b, frame_b=frame_a)
    arrays = {
        "flow_ab": flow_ab.astype(np.float16),
        "flow_ba": flow_ba.astype(np.float16),
        "rel_ab": np.round(np.clip(rel_ab, 0, 1) * 255).astype(np.uint8),
        "rel_ba": np.round(np.clip(rel_ba, 0, 1) * 255).astype(np.uint8),
    }
    return encode_entry(arrays, pair, key)


class Filler:
    """One fill of ``todo`` pairs of ``cache`` (see :meth:`FlowCache.ensure` for the arguments).

    Frames are decoded once, streamed, and only a window of ``largest offset + 1`` frames is held,
    so memory stays bounded for long clips.
    """

    def __init__(
        self,
        cache: FlowCache,
        todo: list[Pair],
        bar,
        on_done: Callable[[Pair], None] | None,
        stop: threading.Event | None,
    ) -> None:
        self.cache = cache
        self.needed: dict[int, list[Pair]] = {}
        for a, b in todo:
            self.needed.setdefault(b, []).append((a, b))
        self.window = max(b - a for a, b in todo) + 1
        self.bar = bar
        self.on_done = on_done
        self.stop = stop
        self.computed = 0

    def _finished(self, pair: Pair, data: bytes | None) -> None:
        if data is not None:
            self.cache.write_entry(*pair, data)
            self.computed += 1
        self.bar.update()
        if self.on_done:
            self.on_done(pair)

    def _work(self) -> Iterable[tuple[Pair, np.ndarray, np.ndarray]]:
        """The pairs still to compute with their frames; pairs another writer stored are finished here."""
        frames: deque[tuple[int, np.ndarray]] = deque(maxlen=self.window)
        last = max(self.needed)
        first = min(a for pairs in self.needed.values() for a, _ in pairs)
        clip = video.iter_frames(
            self.cache.clip, size=self.cache.size, start=first, stop=last + 1, upscale=self.cache.upscale
        )
        for index, frame in enumerate(clip, first):
            frames.append((index, frame))
            for pair in self.needed.get(index, ()):
                if self.stop is not None and self.stop.is_set():
                    return
                if self.cache.entry_path(*pair).exists():  # whole: entries appear by rename
                    self._finished(pair, None)
                    continue
                frame_a = next(f for k, f in frames if k == pair[0])
                yield pair, frame_a, frame

    def _compute(self, pair: Pair, frame_a: np.ndarray, frame_b: np.ndarray) -> bytes:
        return compute_entry(frame_a, frame_b, self.cache.config, pair, self.cache.key)

    def serial(self) -> int:
        """Compute in the calling thread; returns how many entries were computed."""
        for pair, frame_a, frame_b in self._work():
            self._finished(pair, self._compute(pair, frame_a, frame_b))
        return self.computed

    def parallel(self, workers: int) -> int:
        """Compute in ``workers`` threads; returns how many entries were computed."""
        # Threads, not processes: OpenCV's flow and most of numpy release the GIL, so threads run
        # the pairs in parallel without a process start-up (about a second per spawned worker,
        # more than a whole small clip's flow) or pickling frames across.
        import cv2

        in_flight: dict[futures.Future, Pair] = {}

        def drain(block_until: int) -> None:
            while len(in_flight) > block_until:
                done, _ = futures.wait(in_flight, return_when=futures.FIRST_COMPLETED)
                for future in done:
                    self._finished(in_flight.pop(future), future.result())

        # Each worker is one core's worth of work; OpenCV's own thread pool would oversubscribe.
        opencv_threads = cv2.getNumThreads()
        cv2.setNumThreads(1)
        try:
            with futures.ThreadPoolExecutor(workers, thread_name_prefix="artvid-flow") as pool:
                try:
                    for pair, frame_a, frame_b in self._work():
                        in_flight[pool.submit(self._compute, pair, frame_a, frame_b)] = pair
                        drain(2 * workers)
                    drain(0)
                except BaseException:
                    for future in in_flight:
                        future.cancel()
                    raise
        finally:
            cv2.setNumThreads(opencv_threads)
        return self.computed
