"""What runs inside Ray's worker processes: the stylizer actor and the flow task.

A :class:`StylizeWorker` owns the model: it loads the VGG weights once and then runs whole units
of a render plan with :func:`artvid.rendering.execute.execute`, from inputs that arrive through the
object store (content frames, finished frames of other units, flow-cache entries). It keeps no
state between units and writes no files: every finished frame is yielded back to the driver,
which alone owns the work directory. :func:`flow_entry` computes one flow-cache entry.

The frames a unit produces depend only on its inputs: the unit's store rounds every result to
uint8 exactly as the work directory's PNGs do, and flow is decoded from the cache's float16 entry
bytes exactly as :class:`artvid.flowcache.FlowCache` decodes them, so a frame is byte-identical
whichever worker computed it, and identical to a local render's, on CPUs (with equal thread
counts). GPU results may differ by rounding between GPU models and cuDNN algorithm choices.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from artvid.checked_frames import stored_frame
from artvid.errors import DeviceError

FAULT_FILE_ENV = "ARTVID_RAY_FAULT_FILE"
"""Test hook: names a file holding N; the first worker to start its N-th frame after the file
appears removes it and exits at once, as a killed worker process would."""


@dataclass(frozen=True)
class FrameResult:
    """One finished frame of a unit, as a worker hands it to the driver.

    Attributes:
        pass_index: 1-based pass.
        frame: 0-based frame.
        image: ``(H, W, 3) uint8``, exactly what the work directory stores.
        iterations: Optimiser iterations the frame took.
        losses: The named weighted loss terms at the end.
    """

    pass_index: int
    frame: int
    image: np.ndarray
    iterations: int
    losses: dict[str, float]


class _UnitStore:
    """The executor's frame store inside a worker: given frames plus the unit's own results, each
    held as uint8 (what a work directory stores) and loaded as ``float32 / 255`` like WorkDir.load."""

    def __init__(self, frames: dict[tuple[int, int], np.ndarray], on_save) -> None:
        self.frames = dict(frames)
        self.on_save = on_save

    def has(self, pass_index: int, frame: int) -> bool:
        return (pass_index, frame) in self.frames

    def load(self, pass_index: int, frame: int) -> np.ndarray:
        return self.frames[(pass_index, frame)].astype(np.float32) / 255.0

    def save(self, pass_index: int, frame: int, image: np.ndarray) -> None:
        self.frames[(pass_index, frame)] = stored = stored_frame(image)
        self.on_save(pass_index, frame, stored)


class _EntryFlows:
    """A flow source (``wait(i, j)``) over flow-cache entry bytes, decoded as the cache decodes them."""

    def __init__(self, entries: dict[tuple[int, int], bytes], key: str | None) -> None:
        self.entries = entries
        self.key = key
        self._decoded: dict[tuple[int, int], dict[str, np.ndarray]] = {}

    def wait(self, i: int, j: int):
        from artvid.flowcache import decode_entry
        from artvid.flowcache.store import flow_pair

        pair = (min(i, j), max(i, j))
        if pair not in self._decoded:
            self._decoded[pair] = decode_entry(self.entries[pair], pair, self.key)
        return flow_pair(self._decoded[pair], i, j)


_END = object()


def _unusable_gpu() -> DeviceError:
    """The error for a GPU that Ray assigned but this worker's torch cannot use, naming the node
    (a CPU-only torch, or no driver there); :func:`artvid.device.resolve_device` found it."""
    import ray
    import torch

    node = ray.get_runtime_context().get_node_id()
    gpus = os.environ.get("CUDA_VISIBLE_DEVICES", "")
    return DeviceError(
        f"expected a CUDA GPU for the Ray worker on node {node[:12]}, which the cluster gave GPU {gpus or '?'}, "
        f"but its torch {torch.__version__} sees none (a CPU-only torch or no NVIDIA driver there): "
        "install a CUDA build of torch on that node, or render with --device cpu"
    )


class StylizeWorker:
    """A Ray actor (wrapped by the driver with ``ray.remote``) that runs units of one render.

    The render (config, styles, plan, ...) arrives with :meth:`ready`, which the driver calls
    before an actor's first unit and again after every restart, not as creation arguments: Ray
    puts large creation arguments in the object store itself, where they can be evicted, and a
    restart then fails (ray-project/ray#53727); a task's arguments are held until it has run.

    Args:
        device: ``cpu`` or ``cuda`` (Ray assigns the GPU through ``CUDA_VISIBLE_DEVICES``).
        threads: torch intra-op threads (None = leave torch's default).
        gpu_share: The part of its GPU the actor may use (``--gpus-per-worker`` below 1: actors
            that share a GPU each keep to their fraction of its memory).
    """

    def __init__(self, device: str, threads: int | None, gpu_share: float = 1.0) -> None:
        if threads:
            import torch

            torch.set_num_threads(threads)
        self.device_name = device
        self.gpu_share = gpu_share
        self.config = self.styles = self.plan = self.flow_key = self.levels = None
        self.seed = 0
        self._stylizer = None
        self._started = 0

    def _load(self):
        # Lazily, so that an actor restarted after a crash loads the weights again on first use.
        if self._stylizer is None:
            from artvid.device import resolve_device
            from artvid.stylize import Stylizer

            try:
                self.device = resolve_device(self.device_name)
            except DeviceError:
                if self.device_name != "cuda":
                    raise
                raise _unusable_gpu() from None
            if self.device.type == "cuda" and self.gpu_share < 1.0:
                import torch

                # Its cached blocks never grow into the memory of the actors it shares the GPU with.
                torch.cuda.set_per_process_memory_fraction(self.gpu_share, self.device)
            self._stylizer = Stylizer(self.config, self.styles, device=self.device)
        return self._stylizer

    def ready(self, setup: dict[str, Any], height: int, width: int, temporal_targets: int) -> str:
        """Take the render, load the weights and check that a frame fits in memory; returns the
        worker's node.

        Args:
            setup: ``{"config": StylizeConfig, "styles": [(H, W, 3) uint8], "plan": RenderPlan,
                "seed": int (of noise initialisations), "flow_key": str | None (the flow cache key
                the entries were written under), "levels": ShotLevels | None (each shot's levels
                map, None for the content as it is)}``.
            height, width, temporal_targets: What the memory check is made for.

        Raises:
            WeightsError: If the weights cannot be loaded.
            DeviceError: If a frame does not fit in the device's memory.
        """
        from artvid.stylize import check_memory

        # An actor runs one render (the driver starts new ones for another plan): the weights
        # loaded for its first call serve every later one.
        self.config, self.styles, self.plan = setup["config"], setup["styles"], setup["plan"]
        self.seed, self.flow_key, self.levels = setup["seed"], setup["flow_key"], setup["levels"]
        self._load()
        check_memory(height, width, self.config, self.device, temporal_targets, share=self.gpu_share)
        import ray

        return ray.get_runtime_context().get_node_id()

    def run_unit(self, key: str, content: dict[int, Any], frames: dict[tuple[int, int], Any],
                 flows: dict[tuple[int, int], Any], coarse: dict[int, Any] | None = None) -> Iterator[FrameResult]:
        """Run one unit's steps that ``frames`` does not hold yet, yielding each result as it is done.

        Args:
            key: The unit (:attr:`artvid.rendering.plan.Unit.key`).
            content: Object refs of the content frames of the unit's steps, by 0-based frame.
            frames: Object refs of finished frames the unit reads (``(pass, frame)``), and of its
                own frames already stored (those steps are skipped).
            flows: Object refs of the flow-cache entry bytes of the pairs the steps warp with.
            coarse: Object refs of the scale below's final frames, by 0-based frame, for the steps
                of a multi-scale render's later scale that start from them.
        """
        import ray

        from artvid.rendering.execute import Parts, execute
        from artvid.levels import content_loader
        from artvid.rendering.parts import FrameStylizer, fresh_initializer, plan_warper
        from artvid.rendering.progress import Silent
        from artvid.rendering.scales import CoarseScale

        stylizer = self._load()
        content = dict(zip(content, ray.get(list(content.values()))))
        given = dict(zip(frames, ray.get(list(frames.values()))))
        entries = dict(zip(flows, ray.get(list(flows.values()))))
        below = dict(zip(coarse or {}, ray.get(list((coarse or {}).values()))))
        content_of = content_loader(content.__getitem__, self.levels)
        frame_stylizer = FrameStylizer(stylizer, content_of, self.plan, Silent(), self.device)
        results: queue.Queue = queue.Queue()
        counted = {"iterations": 0}

        def on_save(pass_index: int, frame: int, image: np.ndarray) -> None:
            iterations = frame_stylizer.iterations - counted["iterations"]
            counted["iterations"] = frame_stylizer.iterations
            results.put(FrameResult(pass_index, frame, image, iterations, dict(frame_stylizer.losses)))

        def stylize(*args):
            self._fault_hook()
            return frame_stylizer(*args)

        parts = Parts(
            stylize=stylize, warp=plan_warper(_EntryFlows(entries, self.flow_key), self.plan, content_of),
            fresh_init=fresh_initializer(content_of, self.seed), store=_UnitStore(given, on_save),
            coarse=CoarseScale(below.__getitem__, next(iter(content.values())).shape[:2]) if below else None,
        )

        def work() -> None:
            try:
                execute(self.plan, parts, units=[key])
                results.put(_END)
            except BaseException as exc:  # noqa: BLE001 - re-raised in the generator below
                results.put(exc)

        # The executor calls back once per frame; a thread turns those calls into a stream the
        # driver reads frame by frame, so it can store each frame as soon as it exists.
        thread = threading.Thread(target=work, name=f"artvid-unit-{key}", daemon=True)
        thread.start()
        while (item := results.get()) is not _END:
            if isinstance(item, BaseException):
                raise item
            yield item
        thread.join()

    def _fault_hook(self) -> None:
        path = os.environ.get(FAULT_FILE_ENV)
        if not path:
            return
        self._started += 1
        try:
            with open(path) as handle:
                at = int(handle.read().strip() or 1)
        except (OSError, ValueError):
            return
        if self._started < at:
            return
        try:
            os.rename(path, f"{path}.fired")  # only one worker claims the fault
        except OSError:
            return
        os._exit(1)


def flow_entry(frame_a: np.ndarray, frame_b: np.ndarray, config, pair: tuple[int, int], key: str) -> bytes:
    """A flow-cache entry of ``pair`` under ``key`` (a Ray task of one core)."""
    import cv2

    from artvid.flowcache import compute_entry

    # One core per task, as the cache's own thread pool runs OpenCV.
    cv2.setNumThreads(1)
    return compute_entry(frame_a, frame_b, config, pair, key)
