"""The real parts a render injects into the executor: the VGG stylizer, flow warping, initialisation.

:class:`FrameStylizer` adapts :class:`artvid.stylize.Stylizer` (tensors) to the executor's array
interface and adds Ruder's long-term weights; :func:`flow_warper` turns a flow source into the
executor's warp; :func:`fresh_initializer` builds noise or content starts from stored content.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np

import flow
from artvid import images
from artvid.multipass import Init
from artvid.rendering.execute import FreshInitFn, Temporal, WarpFn
from artvid.rendering.plan import RenderPlan, Step
from artvid.rendering.progress import Progress
from artvid.rendering.steps import consecutive_steps


class FlowSource(Protocol):
    """Flow between two frames with its reliability (e.g. :class:`artvid.flowcache.FlowJob`)."""

    def wait(self, i: int, j: int) -> Any:
        """A pair with ``.flow`` ``(H, W, 2)`` from ``i`` to ``j`` on ``i``'s grid and ``.reliability`` ``(H, W)``."""


def flow_warper(flows: FlowSource, interpolation: str, content: Callable[[int], np.ndarray] | None = None) -> WarpFn:
    """The executor's warp: image of frame ``j`` → frame ``i``'s grid (out-of-frame pixels get the
    mean colour), by the flow of ``(i, j)``, or when ``chained`` by the consecutive flows from ``i``
    to ``j`` composed (:func:`flow.chain`), sampled with ``interpolation`` (:func:`flow.warp`).

    With ``content`` (frame ``i`` → its content, ``(H, W, 3) uint8``), the flow carries the
    residual of the image over frame ``j``'s content, added onto frame ``i``'s content and clipped
    to [0, 1]: ``c_i + warp(x_j - c_j)`` (``ScheduleConfig.carry == "residual"``).
    """

    def move(image: np.ndarray, i: int, j: int, chained: bool) -> tuple[np.ndarray, np.ndarray]:
        if chained and abs(i - j) > 1:
            steps = [flows.wait(m, n) for m, n in consecutive_steps(i, j)]
            total, reliability = flow.chain([(s.flow, s.reliability) for s in steps])
            return flow.warp(image, total, border="mean", interpolation=interpolation), reliability
        pair = flows.wait(i, j)
        return flow.warp(image, pair.flow, border="mean", interpolation=interpolation), pair.reliability

    def warp(image: np.ndarray, i: int, j: int, chained: bool = False) -> tuple[np.ndarray, np.ndarray]:
        if content is None:
            return move(image, i, j, chained)
        residual, reliability = move(image - _unit(content(j)), i, j, chained)
        return np.clip(_unit(content(i)) + residual, 0.0, 1.0, out=residual), reliability

    return warp


def plan_warper(flows: FlowSource, plan: RenderPlan, content: Callable[[int], np.ndarray]) -> WarpFn:
    """The warp that ``plan`` asks for: :func:`flow_warper` with its interpolation, carrying the
    residual over ``content`` when its carry is ``"residual"``."""
    return flow_warper(flows, plan.warp_interpolation, content if plan.carry == "residual" else None)


def _unit(frame: np.ndarray) -> np.ndarray:
    """``(H, W, 3) uint8`` → float32 in [0, 1]."""
    return frame.astype(np.float32) / np.float32(255.0)


def fresh_initializer(content: Callable[[int], np.ndarray], seed: int) -> FreshInitFn:
    """Starts from the content frame (``Init.CONTENT``) or from seeded noise (``Init.RANDOM``).

    Args:
        content: Returns frame ``i``'s content, ``(H, W, 3) uint8``.
        seed: Seed of the noise; each frame draws from ``(seed, frame)``.
    """
    from artvid.frames import random_init

    def fresh_init(frame: int, kind: Init) -> np.ndarray:
        image = _unit(content(frame))
        if kind is Init.CONTENT:
            return image
        return random_init(image.shape, seed, frame)

    return fresh_init


class FrameStylizer:
    """The executor's stylize callable around a :class:`artvid.stylize.Stylizer`.

    Args:
        stylizer: The VGG stylizer.
        content: Returns frame ``i``'s content, ``(H, W, 3) uint8``.
        plan: The plan being executed (to find each call's step).
        progress: Receives iteration reports every ``progress.every`` iterations.
        device: The stylizer's device.
    """

    def __init__(self, stylizer, content: Callable[[int], np.ndarray], plan: RenderPlan, progress: Progress, device) -> None:
        self.stylizer = stylizer
        self.content = content
        self.steps = {(s.pass_index, s.frame): s for s in plan.steps}
        self.progress = progress
        self.device = device
        self.iterations = 0
        self.losses: dict[str, float] = {}
        self._content_cache: tuple[int, Any] | None = None

    def _content_tensor(self, frame: int):
        if self._content_cache is None or self._content_cache[0] != frame:
            self._content_cache = (frame, images.to_tensor(self.content(frame), self.device))
        return self._content_cache[1]

    def __call__(self, frame: int, init: np.ndarray, temporal: Sequence[Temporal], iterations: int, pass_index: int) -> np.ndarray:
        from artvid.frames import image_tensor, mask_tensor
        from artvid.losses import long_term_weights
        from artvid.stylize import TemporalTarget

        step: Step = self.steps[(pass_index, frame)]
        ruder = list(temporal[:-1] if step.anchor is not None else temporal)
        weights = [t.reliability for t in ruder]
        if len(weights) > 1:
            # Ruder et al. 2016, Eq. 8: each longer-term target only counts where no closer one does.
            weights = [np.asarray(w, dtype=np.float32) for w in long_term_weights(weights)]
        if step.anchor is not None:
            # The chunk's end is pulled onto its next keyframe: the anchor takes share a of the weight.
            a = step.anchor_weight
            weights = [np.asarray(w * (1.0 - a), dtype=np.float32) for w in weights]
            weights.append(np.asarray(temporal[-1].reliability * a, dtype=np.float32))
        targets = [
            TemporalTarget(warped=image_tensor(t.warped, self.device), weight=mask_tensor(w, self.device))
            for t, w in zip(temporal, weights)
        ]
        every = self.progress.every

        def on_iteration(iteration: int, losses: dict[str, float]) -> None:
            # Every ``every`` iterations and on the frame's last one, as the solver calls it.
            self.progress.iteration(step, iteration + 1, losses)

        result = self.stylizer.stylize(
            self._content_tensor(frame), image_tensor(init, self.device), iterations=iterations,
            temporal=targets, callback=on_iteration if every else None, callback_every=max(every, 1),
            coarse_to_fine=None if step.from_scratch else 1, tolerance=step.tolerance,
        )
        self.iterations += result.iterations
        self.losses = dict(result.losses)
        return images.to_frame(result.image).astype(np.float32) / 255.0
