"""Progress reporting, injected into the executor: silent by default, a tqdm bar for the CLI."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from artvid.rendering.plan import RenderPlan, Step


class Progress:
    """Receives a render's events; this base class ignores them all (the library default).

    Attributes:
        every: Report optimiser iterations every this many iterations (0 = never). Each report
            reads the losses back from the device, so a GPU render wants it sparse.
    """

    every: int = 0

    def render_started(self, scales: Sequence[tuple[RenderPlan, int]]) -> None:
        """Called once before anything runs, with every scale's plan and its frames' pixel count
        (one scale for a direct render); :meth:`start` follows for each plan in turn."""

    def start(self, plan: RenderPlan) -> None:
        """Called once before the plan's first step."""

    def frame_started(self, step: Step) -> None:
        """Called before a frame's optimisation."""

    def iteration(self, step: Step, iteration: int, losses: dict[str, float]) -> None:
        """Called every :attr:`every` iterations with the 1-based iteration and the named losses."""

    def frame_done(self, step: Step, resumed: bool) -> None:
        """Called after a frame is stored, or found stored already (``resumed``)."""

    def close(self) -> None:
        """Called once at the end, also after an error."""


Silent = Progress
"""The library's default reporter: says nothing."""


class RemainingTime:
    """How much of a whole render is done, and about how long the rest takes.

    The work of a step is its iteration cap times its frame's pixels (an iteration's cost grows
    with the pixel count), so a shot's long first frame, the passes' shorter frames and the
    scales' sizes all weigh what they cost. The pace is the seconds per unit of the iterations
    run so far in this process (frames found finished count as done, not towards the pace). A
    frame that stopped early (a first frame's tolerance) counts with the iterations it ran;
    frames still to come count with their caps, so the estimate is on the high side.
    """

    def __init__(self, scales: Sequence[tuple[RenderPlan, int]]) -> None:
        self._pixels = {id(plan): pixels for plan, pixels in scales}
        self._total = sum(step.iterations * pixels for plan, pixels in scales for step in plan.steps)
        self._left = self._total
        self._seconds = 0.0
        self._measured = 0

    def covers(self, plan: RenderPlan) -> bool:
        """Whether ``plan`` is one of the render's scales."""
        return id(plan) in self._pixels

    def frame_done(self, plan: RenderPlan, step: Step, iterations: int | None = None,
                   seconds: float | None = None) -> None:
        """``step`` of ``plan`` is finished; ``iterations`` of it ran in ``seconds`` (None: resumed)."""
        pixels = self._pixels[id(plan)]
        self._left -= step.iterations * pixels
        if seconds is not None:
            ran = min(iterations or step.iterations, step.iterations)
            self._seconds += seconds
            self._measured += ran * pixels
            # A frame that stopped early did only that much of the render's work.
            self._total -= (step.iterations - ran) * pixels

    @property
    def fraction(self) -> float:
        """The share of the render's work done, 0 to 1."""
        return 1.0 - self._left / self._total if self._total else 1.0

    @property
    def seconds_left(self) -> float | None:
        """The estimate, or None before any iteration was timed."""
        return self._left * self._seconds / self._measured if self._measured else None

    def describe(self) -> str:
        """``render 12%, ~1h05m left``."""
        left = self.seconds_left
        return f"render {self.fraction:.0%}" + ("" if left is None else f", ~{_duration(left)} left")


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


class TqdmProgress(Progress):
    """One tqdm bar per pass on stderr, with the frame's iteration, speed and losses, and how
    much of the whole render (every pass and scale) is done and about how long the rest takes."""

    every = 10

    def __init__(self) -> None:
        self._bar = None
        self._pass = 0
        self._plan: RenderPlan | None = None
        self._started = 0.0
        self._iterations: int | None = None
        self._remaining: RemainingTime | None = None

    def render_started(self, scales: Sequence[tuple[RenderPlan, int]]) -> None:
        self._remaining = RemainingTime(scales)

    def start(self, plan: RenderPlan) -> None:
        # A multi-scale render starts one plan per scale: each gets bars of its own.
        self.close()
        self._plan = plan
        self._pass = 0

    def _ensure_bar(self, pass_index: int) -> None:
        from tqdm import tqdm

        if pass_index == self._pass:
            return
        self.close()
        self._pass = pass_index
        self._bar = tqdm(
            total=self._plan.frame_count, desc=f"pass {pass_index}/{self._plan.passes}", unit="frame",
            dynamic_ncols=True,
        )

    def frame_started(self, step: Step) -> None:
        self._ensure_bar(step.pass_index)
        self._started = time.perf_counter()
        self._iterations = None

    def iteration(self, step: Step, iteration: int, losses: dict[str, float]) -> None:
        self._iterations = iteration
        rate = iteration / max(time.perf_counter() - self._started, 1e-9)
        terms = " ".join(f"{k}={v:.3g}" for k, v in losses.items() if k != "total")
        self._bar.set_postfix_str(
            f"frame {step.frame + 1} it {iteration}/{step.iterations} {rate:.1f}it/s {terms}", refresh=True
        )

    def frame_done(self, step: Step, resumed: bool) -> None:
        self._ensure_bar(step.pass_index)
        if self._remaining is not None and self._remaining.covers(self._plan):
            seconds = None if resumed else time.perf_counter() - self._started
            self._remaining.frame_done(self._plan, step, self._iterations, seconds)
            self._bar.set_description_str(
                f"pass {step.pass_index}/{self._plan.passes} ({self._remaining.describe()})", refresh=False
            )
        self._bar.update()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


class OverallProgress(Progress):
    """One tqdm bar on stderr over every frame of every pass, with frames/s and the time left.

    For renders whose units run side by side (``--backend ray``), where a bar per pass would
    jump between passes. Frames found finished count towards the bar but not towards the rate.
    A multi-scale render has a bar per scale; each also shows how much of the whole render is
    done and the time the rest takes at the pace so far (wall-clock time, workers together).
    """

    def __init__(self) -> None:
        self._bar = None
        self._plan: RenderPlan | None = None
        self._remaining: RemainingTime | None = None
        self._last = 0.0

    def render_started(self, scales: Sequence[tuple[RenderPlan, int]]) -> None:
        if len(scales) > 1:  # one scale: the bar's own rate and time left are the render's
            self._remaining = RemainingTime(scales)

    def start(self, plan: RenderPlan) -> None:
        from tqdm import tqdm

        self._plan = plan
        self._last = time.perf_counter()

        passes = f"{plan.frame_count} frames × {plan.passes} passes" if plan.passes > 1 else f"{plan.frame_count} frames"
        # smoothing=0: the rate is the average since the start, which is what an ETA over
        # workers finishing frames in bursts wants.
        self._bar = tqdm(total=len(plan.steps), desc=passes, unit="frame", smoothing=0, dynamic_ncols=True)

    def frame_done(self, step: Step, resumed: bool) -> None:
        if self._bar is None:
            return
        if resumed:
            self._bar.initial += 1
            self._bar.n += 1
            self._bar.last_print_n += 1
            self._bar.refresh()
        else:
            self._bar.update()
        where = f"pass {step.pass_index} frame {step.frame + 1}"
        if self._remaining is not None and self._remaining.covers(self._plan):
            now = time.perf_counter()
            self._remaining.frame_done(self._plan, step, seconds=None if resumed else now - self._last)
            self._last = now
            where += f", {self._remaining.describe()}"
        self._bar.set_postfix_str(where, refresh=False)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
