"""The driver's loop on Ray: inputs put once, ready units submitted to idle actors in plan order,
every frame stored as it arrives, and units whose worker died submitted again.

Used by :class:`artvid.rendering.ray_backend.RayBackend`; see there for the whole picture.
"""

from __future__ import annotations

import collections
import logging
from collections.abc import Callable, Hashable, Iterable
from typing import TYPE_CHECKING, Any

from artvid.errors import ArtvidError
from artvid.rendering.execute import Executed
from artvid.rendering.plan import Ref, RenderPlan, Unit
from artvid.rendering.progress import Progress

if TYPE_CHECKING:
    from artvid.rendering.ray_backend import RayBackend
    from artvid.workdir import WorkDir

logger = logging.getLogger(__name__)

UNIT_ATTEMPTS = 4
"""How often a unit is submitted before its repeated worker deaths end the render."""
RETURN_TIMEOUT_S = 600.0
"""How long the driver waits for a dead worker to come back when no other worker is left."""


class WorkerError(ArtvidError):
    """Ray workers died too often, or none is left to run the render."""


def unwrapped(exc: BaseException) -> BaseException:
    """A worker's own error, when it is artvid's (one clean line for the CLI), else ``exc``."""
    cause = getattr(exc, "cause", None)
    return cause if isinstance(cause, ArtvidError) else exc


class Inputs:
    """Object-store refs of a render's inputs: each put once on first use, and dropped when the
    last unit (or flow task) that counted on it is done."""

    def __init__(self, load: Callable[[Hashable], Any]) -> None:
        self.load = load
        self.users: collections.Counter = collections.Counter()
        self.refs: dict[Hashable, Any] = {}

    def ref(self, key: Hashable):
        import ray

        if key not in self.refs:
            self.refs[key] = ray.put(self.load(key))
        return self.refs[key]

    def release(self, keys: Iterable[Hashable]) -> None:
        for key in keys:
            self.users[key] -= 1
            if self.users[key] <= 0:
                self.refs.pop(key, None)

    def forget(self, keys: Iterable[Hashable]) -> None:
        """Drop the refs of ``keys`` though users remain: the next :meth:`ref` puts them again."""
        for key in keys:
            self.refs.pop(key, None)


def unit_inputs(unit: Unit) -> list[Hashable]:
    pairs = dict.fromkeys(pair for step in unit.steps for pair in step.flow_pairs())
    # The content of the frames warped from too: a residual carry (ScheduleConfig.carry) reads it.
    warped_from = [j for step in unit.steps for _, j, _ in step.warps()]
    return (
        [("content", f) for f in dict.fromkeys([*(s.frame for s in unit.steps), *warped_from])]
        + [("frame", r) for r in unit.needs] + [("flow", p) for p in pairs]
        + [("coarse", s.frame) for s in unit.steps if s.start.coarse]
    )


class UnitLoop:
    """The driver's loop of one :meth:`RayBackend.run`: submit ready units, store what comes back."""

    def __init__(self, backend: RayBackend, plan: RenderPlan, work: WorkDir, inputs: Inputs, stored: set[Ref],
                 progress: Progress, tally: Executed) -> None:
        self.backend, self.plan, self.work, self.inputs = backend, plan, work, inputs
        self.stored, self.progress, self.tally = stored, progress, tally
        self.steps = {s.ref: s for s in plan.steps}
        self.order = {unit.key: index for index, unit in enumerate(plan.units)}
        self.idle = collections.deque(range(len(backend.actors)))
        self.running: dict[Any, tuple[Unit, int]] = {}
        self.probing: dict[Any, int] = {}
        self.attempts: collections.Counter = collections.Counter()

    def run(self, todo: list[Unit]) -> None:
        import ray

        pending = list(todo)
        while pending or self.running:
            for unit in [u for u in pending if all(r in self.stored for r in u.needs)]:
                if not self.idle:
                    break
                pending.remove(unit)
                self._submit(unit, self.idle.popleft())
            waiting = [*self.running, *self.probing]
            if not waiting:
                raise WorkerError("no Ray worker is left to run the render")
            ready, _ = ray.wait(waiting, num_returns=1, timeout=None if self.running else RETURN_TIMEOUT_S)
            if not ready:
                raise WorkerError(f"no Ray worker came back within {RETURN_TIMEOUT_S:.0f} s")
            if ready[0] in self.probing:
                self._probed(ready[0])
                continue
            unit = self._advance(ready[0])
            if unit is not None:  # its worker died: run it again, before later units
                pending.append(unit)
                pending.sort(key=lambda u: self.order[u.key])

    def _submit(self, unit: Unit, actor: int) -> None:
        import ray

        self.attempts[unit.key] += 1
        keys = unit_inputs(unit)
        content = {what: self.inputs.ref(key) for key in keys if key[0] == "content" for what in [key[1]]}
        frames = {(r.pass_index, r.frame): self.inputs.ref(("frame", r)) for r in unit.needs}
        # Its own frames stored by an earlier attempt or run: the worker skips those steps.
        for ref in unit.refs:
            if ref in self.stored:
                frames[(ref.pass_index, ref.frame)] = ray.put(self.work.load_frame(ref.pass_index, ref.frame))
        flows = {key[1]: self.inputs.ref(key) for key in keys if key[0] == "flow"}
        coarse = {key[1]: self.inputs.ref(key) for key in keys if key[0] == "coarse"}
        generator = self.backend.actors[actor].run_unit.remote(unit.key, content, frames, flows, coarse)
        self.running[generator] = (unit, actor)
        self._announce_next(unit)

    def _announce_next(self, unit: Unit) -> None:
        step = next((s for s in unit.steps if s.ref not in self.stored), None)
        if step is not None:
            self.progress.frame_started(step)

    def _advance(self, generator) -> Unit | None:
        """Take the next frame of a running unit; returns the unit when its worker died."""
        import ray

        unit, actor = self.running[generator]
        try:
            result = ray.get(next(generator))
        except StopIteration:
            del self.running[generator]
            self.inputs.release(unit_inputs(unit))
            self.idle.append(actor)
            return None
        except (ray.exceptions.RayActorError, ray.exceptions.ObjectLostError) as exc:
            del self.running[generator]
            logger.warning("Ray worker %d died running %s (%s); running it again", actor, unit.key, type(exc).__name__)
            if self.attempts[unit.key] >= UNIT_ATTEMPTS:
                raise WorkerError(f"unit {unit.key} lost its Ray worker {UNIT_ATTEMPTS} times; giving up") from None
            self._probe(actor)
            return unit
        except ray.exceptions.RayTaskError as exc:
            raise unwrapped(exc) from None
        ref = Ref(result.pass_index, result.frame)
        self.work.save(result.pass_index, result.frame, result.image)
        self.stored.add(ref)
        stats = self.backend.stats
        name = f"worker-{actor}"
        stats.workers[name] = stats.workers.get(name, 0) + 1
        stats.iterations += result.iterations
        stats.losses = result.losses
        self.tally.stylized += 1
        self.progress.frame_done(self.steps[ref], resumed=False)
        self._announce_next(unit)
        return None

    def _probe(self, actor: int) -> None:
        # A restarted actor takes work again only once it answers (it reloads its weights first);
        # one whose restart waits for resources never does, and the others carry on meanwhile.
        self.probing[self.backend.ready(actor)] = actor

    def _probed(self, probe) -> None:
        import ray

        actor = self.probing.pop(probe)
        try:
            ray.get(probe)
        except ray.exceptions.ActorUnavailableError:
            self._probe(actor)
        except ray.exceptions.RayActorError:
            logger.warning("Ray worker %d is gone for good", actor)
        else:
            self.idle.append(actor)
