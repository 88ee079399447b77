"""Rendering a clip: a plan (plain data), its execution with injected parts, and the output's assembly.

* :mod:`~artvid.rendering.plan`: which frame is solved when, from what, for how long; the flow
  pairs needed.
* :mod:`~artvid.rendering.execute`: carries a plan out (whole, or a range of frames) with injected
  stylizer, warping, initialisation, frame store and progress.
* :mod:`~artvid.rendering.parts`: the real parts (VGG stylizer, flow warping, initialisation).
* :mod:`~artvid.rendering.assemble`: the output video or PNG folder.
* :mod:`~artvid.rendering.run`: :func:`render`, wiring it all for one clip.
* :mod:`~artvid.rendering.ray_backend` (driver) and :mod:`~artvid.rendering.ray_worker` (actors):
  the plan's units on Ray workers (``backend="ray"``); Ray is imported only there.
"""

from artvid.rendering.assemble import check_output, default_output
from artvid.rendering.execute import Executed, MissingInputError, Parts, Temporal, execute, run_passes
from artvid.rendering.plan import Ref, RenderPlan, Start, Step, make_plan
from artvid.rendering.progress import OverallProgress, Progress, Silent, TqdmProgress

_RUN = ("RenderSummary", "RunOptions", "plan_render", "render")


def __getattr__(name: str):
    # The plan and the executor need no torch; the wiring (and so the stylizer) loads on first use.
    if name in _RUN:
        from artvid.rendering import run

        return getattr(run, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "Executed", "MissingInputError", "OverallProgress", "Parts", "Progress", "Ref", "RenderPlan", "RenderSummary", "RunOptions",
    "Silent", "Start", "Step", "Temporal", "TqdmProgress", "check_output", "default_output", "execute",
    "make_plan", "plan_render", "render", "run_passes",
]
