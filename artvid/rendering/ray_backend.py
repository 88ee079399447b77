"""Running a render plan on Ray: the driver's side (``--backend ray``).

Workers own the model, the driver owns the state. The driver keeps the work directory and the
flow cache; :class:`artvid.rendering.ray_worker.StylizeWorker` actors (one per GPU, or per share
of a GPU, or one per core) load the weights once and run whole units of the plan. The driver:

1. puts each input into the object store once, when a unit first needs it, and drops it when no
   unfinished unit needs it any more (content frames, finished frames read by other units,
   flow-cache entries);
2. computes the missing flow-cache entries in Ray tasks of one core each, stores them in its
   :class:`~artvid.flowcache.FlowCache` (a later local render reuses them) and hands the units
   the entry bytes read back from it, which they decode as the cache does;
3. submits every unit whose inputs are finished to an idle actor, in plan order, and stores each
   frame in the work directory as the actor yields it.

Faults: a unit whose actor dies is submitted again, to the first actor that answers (the dead one
restarts up to ``max_restarts`` times and takes work again once it has reloaded its weights); the
frames it already yielded are stored, so the retry runs only the rest. A killed driver leaves a
work directory that the next run resumes, exactly as locally. The flow tasks are retried by Ray.

Modules: this one (connection, actors, flow), :mod:`artvid.rendering.ray_schedule` (the loop of
step 3) and :mod:`artvid.rendering.ray_worker` (what runs in the workers). Ray is imported only in
them, and only when this backend is used.
"""

from __future__ import annotations

import collections
import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from artvid.errors import ConfigError
from artvid.rendering.execute import Executed
from artvid.rendering.plan import RenderPlan, Unit
from artvid.rendering.progress import Progress
from artvid.rendering.ray_schedule import Inputs, UnitLoop, WorkerError, unit_inputs, unwrapped  # noqa: F401 - WorkerError re-exported

if TYPE_CHECKING:
    from artvid.flowcache import FlowCache
    from artvid.workdir import WorkDir

logger = logging.getLogger(__name__)

MAX_RESTARTS = 3
"""How often Ray restarts a dead stylizer actor."""
FLOW_TASKS_PER_CPU = 2
"""Flow tasks in flight per core of the cluster: enough to keep every core busy, few enough
that their frames do not fill the object store on a long clip."""
PLACEMENT_GRACE_S = 60.0
"""How long the actors that the cluster has not placed may keep the placed ones waiting; then
the render goes on without them (an autoscaling cluster may still be adding a node until then)."""


@dataclass
class RayStats:
    """What the workers did: frames stylized per worker, iterations, the last frame's losses."""

    device: str
    workers: dict[str, int] = field(default_factory=dict)
    iterations: int = 0
    losses: dict[str, float] = field(default_factory=dict)


def _room(gpus: float, cpus: float, gpus_per_worker: float, gpu: bool) -> str:
    if gpu:
        return f"{gpus:g} GPU at {gpus_per_worker:g} per worker"
    return f"{cpus:g} CPUs, 1 per worker"


def connect(address: str | None) -> bool:
    """Connect to Ray unless this process already is; returns whether this call connected.

    Args:
        address: ``auto``, ``host:port``, or None to start a local Ray.

    Raises:
        ConfigError: If no Ray cluster answers at ``address``.
    """
    import ray

    if ray.is_initialized():
        return False
    if address not in (None, "auto"):
        check_reachable(address)
    # ray.init replaces this process's SIGTERM handler (with a Python one and a C++ one that
    # prints a stack dump); the command line's own (SIGTERM stops a render as Ctrl-C does, see
    # artvid.cli.app) is put back. A process without one of its own keeps Ray's.
    previous = signal.getsignal(signal.SIGTERM) if threading.current_thread() is threading.main_thread() else None
    try:
        # Workers' output would land on the driver's stdout, which --json keeps clean. Starting
        # options (the dashboard) are refused when joining a running cluster.
        # "local" starts a Ray of our own even when another one runs on this machine (None would
        # join the one named in /tmp/ray/ray_current_cluster).
        start = {"include_dashboard": False} if address is None else {}
        with _quiet_token_notice(address is None):
            ray.init(address=address or "local", log_to_driver=False, logging_level=logging.WARNING, **start)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        hint = ""
        if address not in (None, "auto") and os.environ.get("RAY_AUTH_MODE", "").lower() != "token":
            # A client that names the address does not learn the cluster's authentication mode.
            hint = ("; if the cluster uses token authentication (ray start's default), set RAY_AUTH_MODE=token "
                    "with its token in ~/.ray/auth_token or RAY_AUTH_TOKEN, or use --ray-address auto on its head node")
        raise ConfigError(f"cannot connect to Ray at {address}: {exc}{hint}") from None
    finally:
        if callable(previous):
            signal.signal(signal.SIGTERM, previous)
    return True


CHUNK_HINT_FRAMES = 30
"""Shortest chunk :func:`chunk_hint` suggests: a chunk's keyframe costs a shot's first-frame budget,
which a chunk this long spreads over enough frames (README, "Chunks")."""


def chunk_hint(plan: RenderPlan, todo: Sequence[Unit], workers: int) -> str | None:
    """A line advising ``--chunk-frames`` when whole shots leave Ray workers idle, else None.

    Without chunks each shot is one unit that one worker runs from start to end, so a clip with
    fewer shots than workers keeps the others idle for as long as its longest shot takes. Said
    only when that shot is long enough to split into chunks of :data:`CHUNK_HINT_FRAMES` or more.
    """
    chunked = len(plan.units) > len(plan.shots)  # a unit per shot unless some shot was split
    if workers < 2 or len(todo) >= workers or chunked:
        return None
    longest = max(len({step.frame for step in unit.steps}) for unit in todo)
    chunk = max(CHUNK_HINT_FRAMES, -(-longest // workers))
    if longest < 2 * chunk:
        return None
    shots, idle = f"{len(todo)} shot{'s' if len(todo) > 1 else ''}", workers - len(todo)
    return (f"{shots} for {workers} Ray workers: without --chunk-frames a shot runs on one worker from start to "
            f"end, so {idle} stay{'s' if idle == 1 else ''} idle; --chunk-frames {chunk} splits the longest "
            f"({longest} frames) so that all of them work")


REACH_TIMEOUT_S = 10.0
"""How long :func:`check_reachable` waits for a cluster's port to accept a connection."""


def check_reachable(address: str) -> None:
    """Refuse at once a ``host:port`` (or ``ray://host:port``) where nothing accepts a connection.

    ``ray.init`` retries such an address for minutes, printing its own warnings, before it gives
    up; a typo in the host or the port, or a head node that is not started, deserves one line.
    An address of another form is left to Ray to judge.

    Raises:
        ConfigError: Nothing listens there, the host is unknown, or no answer came within
            :data:`REACH_TIMEOUT_S`.
    """
    host, colon, port = address.removeprefix("ray://").rpartition(":")
    if not colon or not host or not port.isdigit():
        return
    if not 0 < int(port) < 65536:
        raise ConfigError(f"cannot connect to Ray at {address}: port {port} is out of range (1 to 65535)")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=REACH_TIMEOUT_S):
            pass
    except socket.gaierror:
        reason = f"unknown host {host}"
    except TimeoutError:
        reason = f"no answer in {REACH_TIMEOUT_S:g} s"
    except OSError as exc:
        reason = exc.strerror or str(exc)
    else:
        return
    raise ConfigError(f"cannot connect to Ray at {address}: {reason}; start the cluster there with "
                      "`ray start --head`, or check the host, the port and the firewall")


TOKEN_NOTICE_LOGGER = "ray._private.authentication.authentication_token_setup"
"""Where Ray logs the authentication mode of a cluster it starts or joins."""


def _not_the_token_on_notice(record: logging.LogRecord) -> bool:
    return not record.getMessage().startswith("Token authentication is enabled for this Ray cluster")


@contextmanager
def _quiet_token_notice(own_cluster: bool):
    """Leaves out Ray's notice that a local cluster it starts has token authentication on.

    Ray logs it as a warning on every start; for a cluster artvid starts for one render and stops
    after it, that is the secure default working as meant, not something to act on, and it was
    the one line a ``-q`` render printed. Every other message stays, its warning that
    authentication is off included, and a cluster artvid joins keeps them all.
    """
    notice = logging.getLogger(TOKEN_NOTICE_LOGGER)
    if own_cluster:
        notice.addFilter(_not_the_token_on_notice)
    try:
        yield
    finally:
        notice.removeFilter(_not_the_token_on_notice)


def _remote_flow():
    # Made per render, not cached: a remote function outlives neither its Ray session nor a
    # reconnection (its arguments would be looked up from the old driver).
    import ray

    from artvid.rendering.ray_worker import flow_entry

    return ray.remote(num_cpus=1, max_retries=3)(flow_entry)


class RayBackend:
    """Ray for one render: the connection, the stylizer actors and the driver's loop.

    Args:
        address: ``auto``, ``host:port``, or None (start a local Ray; an existing connection of
            this process is used as it is).
        workers: Stylizer actors (None = the cluster's GPUs / ``gpus_per_worker`` when it has
            GPUs and ``device`` allows them, else its CPUs).
        gpus_per_worker: GPUs per actor; fractions share a GPU.
        device: ``auto`` (GPUs when the cluster has them), ``cpu`` or ``cuda``.

    Raises:
        ConfigError: For an unreachable cluster or a device the cluster lacks.
    """

    def __init__(self, address: str | None, workers: int | None, gpus_per_worker: float, device: str) -> None:
        import ray

        if device not in ("auto", "cpu", "cuda"):
            raise ConfigError(f"on Ray the device is auto, cpu or cuda (Ray assigns each worker its GPU), got {device!r}")
        self.actors: list[Any] = []
        self._actors_plan: Any = None
        self._setup: Any = None  # object ref of the render the actors run (StylizeWorker.ready)
        self.started = connect(address)
        resources = ray.cluster_resources()
        gpus, cpus = resources.get("GPU", 0.0), resources.get("CPU", 0.0)
        if device == "cuda" and gpus <= 0:
            self.close()
            raise ConfigError("--device cuda was requested but the Ray cluster has no GPU")
        self.gpu = device != "cpu" and gpus > 0
        self.device = "cuda" if self.gpu else "cpu"
        self.gpus_per_worker = gpus_per_worker
        room = max(int(gpus / gpus_per_worker + 1e-9) if self.gpu else int(cpus), 1)
        self.workers = workers or room
        if self.started and self.workers > room:
            # artvid's own Ray has no autoscaler: actors beyond its resources would wait forever.
            logger.warning(
                "--ray-workers %d: this machine's Ray has room for %d (%s); starting %d",
                self.workers, room, _room(gpus, cpus, gpus_per_worker, self.gpu), room,
            )
            self.workers = room
        self.check: tuple[int, int, int] = (0, 0, 0)
        self.stats = RayStats(self.device)
        self._hinted = False

    def close(self) -> None:
        """End the actors, and disconnect if this backend connected."""
        import ray

        for actor in self.actors:
            ray.kill(actor, no_restart=True)
        self.actors, self._setup = [], None
        if self.started:
            ray.shutdown()
            self.started = False

    def ready(self, actor: int):
        """Hand actor ``actor`` the render and have it load the weights and check its memory: the
        object ref of its :meth:`~artvid.rendering.ray_worker.StylizeWorker.ready` call."""
        return self.actors[actor].ready.remote(self._setup, *self.check)

    def _start_actors(self, count: int, worker_args: dict[str, Any], check: tuple[int, int, int]) -> None:
        """Start ``count`` actors and wait until each has loaded the weights and passed the memory check."""
        import ray

        from artvid.rendering.ray_worker import StylizeWorker

        if self.actors and self._actors_plan is worker_args["plan"]:
            return
        for actor in self.actors:  # started for another plan (the scale below)
            ray.kill(actor, no_restart=True)
        self._actors_plan = worker_args["plan"]
        # A CPU worker is one core: one torch thread, as many workers as cores.
        resources = {"num_gpus": self.gpus_per_worker, "num_cpus": 0} if self.gpu else {"num_cpus": 1}
        cls = ray.remote(StylizeWorker).options(max_restarts=MAX_RESTARTS, max_task_retries=0, **resources)
        threads = None if self.gpu else 1
        share = min(1.0, self.gpus_per_worker) if self.gpu else 1.0
        self.actors = [cls.remote(device=self.device, threads=threads, gpu_share=share) for _ in range(count)]
        self._setup = ray.put(worker_args)  # held while the actors live: each restart reads it again
        self.check = check
        placed = self._await_ready(count)
        if len(placed) < count:
            for actor in sorted(set(range(count)) - set(placed)):
                ray.kill(self.actors[actor], no_restart=True)
            logger.warning(
                "%d of %d Ray workers started: the cluster has placed no more in %.0f s (each needs %s); "
                "going on with %d", len(placed), count, PLACEMENT_GRACE_S, self._needs(), len(placed),
            )
            self.actors = [self.actors[actor] for actor in sorted(placed)]

    def _needs(self) -> str:
        return f"{self.gpus_per_worker:g} GPU" if self.gpu else "1 CPU"

    def _await_ready(self, count: int) -> list[int]:
        """The actors that loaded the weights and passed the memory check: all ``count``, or
        those ready :data:`PLACEMENT_GRACE_S` after the first was (the cluster has no room for
        the rest). While none is placed it waits, saying so once.

        Raises:
            The error an actor's check raised (weights, memory).
        """
        import ray

        pending = {self.ready(actor): actor for actor in range(count)}
        placed: list[int] = []
        started = time.monotonic()
        first = None
        said = False
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1, timeout=1.0)
            for ref in done:
                try:
                    ray.get(ref)
                except ray.exceptions.RayTaskError as exc:
                    raise unwrapped(exc) from None
                placed.append(pending.pop(ref))
            now = time.monotonic()
            if placed:
                first = now if first is None else first
                if now - first >= PLACEMENT_GRACE_S:
                    break
            elif not said and now - started >= PLACEMENT_GRACE_S:
                logger.warning("waiting for the Ray cluster to place a stylizer worker (each needs %s)", self._needs())
                said = True
        return placed

    def run(
        self, plan: RenderPlan, work: WorkDir, flows: FlowCache | None, stylize_config, styles, seed: int,
        size: tuple[int, int], progress: Progress, tally: Executed, coarse=None, levels=None,
    ) -> RayStats:
        """Run every unit of ``plan`` whose frames ``work`` lacks; store each frame as it arrives.

        Args:
            plan: The render plan.
            work: The driver's work directory (content frames extracted).
            flows: The flow cache (None when the plan warps nothing).
            stylize_config: The :class:`artvid.stylize.StylizeConfig`.
            styles: Style images, ``(H, W, 3) uint8``.
            seed: Seed of noise initialisations.
            size: ``(height, width)`` of the frames.
            progress: Told about every frame.
            tally: Counts of frames stylized and found stored, added to.
            coarse: The scale below (:class:`artvid.rendering.scales.CoarseScale`) when ``plan`` is
                a multi-scale render's later scale; its frames travel to the workers like the rest.
            levels: Each shot's levels map (:class:`artvid.levels.ShotLevels`), None for the
                content as it is.

        Returns:
            What the workers did (accumulated over calls).

        Raises:
            WorkerError: If workers die too often or none is left.
            DamagedFrameError: If a stored frame a unit reads is damaged.
        """
        import ray

        stored = {s.ref for s in plan.steps if work.has(s.pass_index, s.frame)}
        for step in plan.steps:
            if step.ref in stored:
                tally.resumed += 1
                progress.frame_done(step, resumed=True)
        todo = [u for u in plan.units if any(r not in stored for r in u.refs)]
        if not todo:
            return self.stats
        hint = None if self._hinted else chunk_hint(plan, todo, self.workers)
        if hint:  # once, not at every scale of a multi-scale render
            self._hinted = True
            logger.warning("%s", hint)

        def load(key):
            kind, what = key
            if kind == "content":
                return work.load_content(what)
            if kind == "frame":
                return work.load_frame(what.pass_index, what.frame)
            if kind == "coarse":
                return coarse.load(what)
            return flows.ensured_entry_bytes(*what)  # computed here if it went missing since the fill

        inputs = Inputs(load)
        for unit in todo:
            inputs.users.update(unit_inputs(unit))
        self._fill_flow(todo, flows, inputs)
        flow_key = flows.key if flows is not None else None
        count = min(self.workers, len(todo))
        worker_args = {"config": stylize_config, "styles": list(styles), "plan": plan, "seed": seed,
                       "flow_key": flow_key, "levels": levels}
        self._start_actors(count, worker_args, (*size, plan.most_temporal_targets()))
        UnitLoop(self, plan, work, inputs, stored, progress, tally).run(todo)
        return self.stats

    def _fill_flow(self, todo: list[Unit], flows: FlowCache | None, inputs: Inputs) -> None:
        """Compute the pairs ``todo`` warps with that the cache lacks, in Ray tasks, and store them.

        Memory stays bounded on long clips: the entries go to the cache, not the driver's memory
        (units read them from there when they are submitted), at most :data:`FLOW_TASKS_PER_CPU`
        tasks per core are in flight, and a content frame leaves the object store once the last
        pair that needs it is done (a unit puts it again when it is submitted).
        """
        import ray

        pairs = [key[1] for unit in todo for key in unit_inputs(unit) if key[0] == "flow"]
        if flows is None or not pairs:
            return
        waiting = collections.deque(sorted(flows.missing(pairs)))  # neighbours share their frames
        if not waiting:
            return
        frames = collections.Counter(("content", f) for pair in waiting for f in pair)
        inputs.users.update(frames)
        task = _remote_flow()
        limit = max(1, FLOW_TASKS_PER_CPU * int(ray.cluster_resources().get("CPU", 1)))
        running: dict[Any, tuple[int, int]] = {}
        while waiting or running:
            while waiting and len(running) < limit:
                a, b = waiting.popleft()
                ref = task.remote(inputs.ref(("content", a)), inputs.ref(("content", b)), flows.config, (a, b), flows.key)
                running[ref] = (a, b)
            ready, _ = ray.wait(list(running), num_returns=1)
            pair = running.pop(ready[0])
            try:
                data = ray.get(ready[0])
            except ray.exceptions.RayTaskError as exc:
                raise unwrapped(exc) from None
            flows.write_entry(*pair, data)
            done = [("content", f) for f in pair]
            inputs.release(done)
            frames.subtract(done)
            inputs.forget(key for key in done if frames[key] <= 0)
