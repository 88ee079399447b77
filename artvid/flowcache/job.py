"""A background fill of a flow cache, so flow stays off the optimiser's critical path."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from artvid.flowcache.config import FlowPair

if TYPE_CHECKING:
    from artvid.flowcache.store import FlowCache


class FlowJob:
    """A background fill of a :class:`FlowCache` (started by :meth:`FlowCache.start`).

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
            # Pairs cached before the job started (or by another writer) are never reported by it.
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
