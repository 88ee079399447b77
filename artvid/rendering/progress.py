"""Progress reporting, injected into the executor: silent by default, a tqdm bar for the CLI."""

from __future__ import annotations

import time
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

    def start(self, plan: RenderPlan) -> None:
        """Called once before the first step."""

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


class TqdmProgress(Progress):
    """One tqdm bar per pass on stderr, with the frame's iteration, speed and losses."""

    every = 10

    def __init__(self) -> None:
        self._bar = None
        self._pass = 0
        self._plan: RenderPlan | None = None
        self._started = 0.0

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

    def iteration(self, step: Step, iteration: int, losses: dict[str, float]) -> None:
        rate = iteration / max(time.perf_counter() - self._started, 1e-9)
        terms = " ".join(f"{k}={v:.3g}" for k, v in losses.items() if k != "total")
        self._bar.set_postfix_str(
            f"frame {step.frame + 1} it {iteration}/{step.iterations} {rate:.1f}it/s {terms}", refresh=True
        )

    def frame_done(self, step: Step, resumed: bool) -> None:
        self._ensure_bar(step.pass_index)
        self._bar.update()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


class OverallProgress(Progress):
    """One tqdm bar on stderr over every frame of every pass, with frames/s and the time left.

    For renders whose units run side by side (``--backend ray``), where a bar per pass would
    jump between passes. Frames found finished count towards the bar but not towards the rate.
    """

    def __init__(self) -> None:
        self._bar = None

    def start(self, plan: RenderPlan) -> None:
        from tqdm import tqdm

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
        self._bar.set_postfix_str(f"pass {step.pass_index} frame {step.frame + 1}", refresh=False)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
