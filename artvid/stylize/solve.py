"""The safeguarded L-BFGS/Adam loop that minimises an objective at one image size.

* The optimisation variable is ``255·image`` so that the optimisers see the reference's pixel
  scale: L-BFGS's first step (``min(1, 1/|g|₁)·lr``) and Adam's ``learning_rate`` are in 0–255
  units, as in neural-style and artistic-videos (whose Adam default is 10). Pixels may leave
  ``[0, 1]`` while optimising; the caller clamps the result.
* L-BFGS: history 100, step ``learning_rate`` (1), no line search, one function evaluation per
  iteration, as ``torch.optim.LBFGS`` with ``max_iter=1`` (what pastiche runs); implemented in
  :mod:`artvid.optim` so that it never waits for the GPU.
* Early stopping as artistic-videos' modified ``lbfgs.lua``: every ``tolerance_window`` iterations
  the loss is compared with the loss ``tolerance_window`` iterations before; the level stops when
  ``|f − f_past| ≤ tolerance·|f_past|``.
* Safeguard (a deviation from the reference): without a line search an L-BFGS step can
  overshoot, most often early in a warm start. Every evaluated point is a candidate and the best
  one is returned; a loss above twice the best seen sends the optimiser back to the best point
  with a step ten times shorter (it grows back ×2 per step), keeping its curvature pairs.
  The last step's destination is checked with one extra forward pass only when the run is short
  (< 10 iterations) or its last evaluated point was not its best; otherwise it is kept, as in the
  reference, and the reported losses are those of the point before it.
* Failure (a deviation too): the safeguard would hide absurd settings, returning the start image
  (and, with a loss that is never finite, losses of 0). A level whose best loss is not finite, or
  that ends at its start after more than a few steps rejected as diverging, raises
  :class:`~artvid.errors.StylizeError` naming the likely cause.
* GPU synchronisation: an iteration reads nothing back to the host. The safeguard's decisions
  are ``torch.where`` on the device; the loss is read only for the callback (every
  ``callback_every`` iterations), for early stopping (every ``tolerance_window``) and at the
  end of the level (the last-step decision and the failure check).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from artvid.errors import StylizeError
from artvid.losses import PIXEL_SCALE
from artvid.optim import LBFGS, Adam
from artvid.stylize.config import StylizeConfig

logger = logging.getLogger(__name__)

MEMORY_FORMAT = torch.channels_last
"""Layout of the encoder and of the optimised image (see :class:`artvid.stylize.Stylizer`)."""
_TRUST_LAST_AFTER = 10
"""Runs this long whose last evaluated loss is their best keep the last step unevaluated."""
_RESTART_FACTOR = 2.0
"""A loss above this multiple of the best one seen sends the optimiser back to the best point."""
_STUCK_AFTER = 3
"""A level that rejects more steps than this as diverging and ends at its start has failed."""

Callback = Callable[[int, dict[str, float]], None]
Evaluate = Callable[[Tensor], dict[str, Tensor]]
"""``(1, 3, H, W)`` image on the ``[0, 1]`` scale → named scalar terms, the total last."""


@dataclass
class Solution:
    """Outcome of one level.

    Attributes:
        image: ``(1, 3, H, W)`` float32, unclamped, detached.
        iterations: Iterations run.
        terms: The weighted terms at ``image`` (or at the point before it; see the module
            docstring), scalar float32 tensors on the device.
    """

    image: Tensor
    iterations: int
    terms: dict[str, Tensor]


def make_optimizer(config: StylizeConfig, numel: int, device: torch.device) -> LBFGS | Adam:
    """The optimiser ``config`` names, for a flat vector of ``numel`` float32 values on ``device``."""
    if config.optimizer == "lbfgs":
        return LBFGS(numel, history=config.lbfgs_history, lr=config.learning_rate, device=device)
    return Adam(numel, lr=config.learning_rate, device=device)


def solve(
    evaluate: Evaluate,
    names: Sequence[str],
    init: Tensor,
    iterations: int,
    config: StylizeConfig,
    callback: Callback | None = None,
    callback_every: int = 1,
    offset: int = 0,
) -> Solution:
    """Minimise ``evaluate`` from ``init`` for at most ``iterations`` iterations.

    Args:
        evaluate: The objective (see :data:`Evaluate`).
        names: Names of ``evaluate``'s entries, in order; the last one is the total.
        init: ``(1, 3, H, W)`` float32 start image, ``[0, 1]`` scale.
        iterations: Iteration budget (>= 1).
        config: Optimiser, step, history and early-stopping settings.
        callback: Called as ``callback(offset + i, {name: float})`` every ``callback_every``
            iterations with the terms of the point just evaluated, and on the last one run (the
            budget's, or the one early stopping ends on) with the terms of the point returned.
        callback_every: See ``callback``.
        offset: Added to the 0-based iteration index passed to ``callback``.

    Returns:
        The best image found, the iterations run and its terms.

    Raises:
        StylizeError: The loss was never finite, or every step diverged and the image never moved.
    """
    # The variable lives on the reference's 0–255 scale (see the module docstring), in the
    # encoder's memory format so that its gradient arrives in the same layout as the image.
    pixels = (init.detach() * PIXEL_SCALE).contiguous(memory_format=MEMORY_FORMAT).requires_grad_(True)
    x = _flat(pixels.data)
    start = x.clone()
    optimizer = make_optimizer(config, x.numel(), x.device)
    # Without a line search (as in the reference) an L-BFGS step can overshoot badly, most
    # often in the first few iterations of a warm start, whose curvature estimate comes from
    # one tiny step. Every evaluated point is a candidate: the best one is returned, and a
    # step that makes the loss explode is taken back: the optimiser goes on from the best
    # point with a shorter step (artvid.optim.BACKTRACK), keeping its curvature pairs.
    best_loss = torch.full((), math.inf, device=x.device)
    best_x = x.clone()
    best_terms = torch.zeros(len(names), device=x.device)
    rejections = torch.zeros((), device=x.device, dtype=torch.long)
    terms = best_terms
    f_past: float | None = None
    ran = 0
    for i in range(iterations):
        pixels.grad = None
        evaluated = evaluate(pixels / PIXEL_SCALE)
        evaluated[names[-1]].backward()
        grad = _flat(pixels.grad.contiguous(memory_format=MEMORY_FORMAT))
        terms = torch.stack([evaluated[name].detach().float() for name in names])
        loss = terms[-1]
        exploded = ~torch.isfinite(loss) | (loss > _RESTART_FACTOR * best_loss)
        improved = loss < best_loss
        best_loss = torch.where(improved, loss, best_loss)
        best_terms = torch.where(improved, terms, best_terms)
        best_x.copy_(torch.where(improved, x, best_x))
        optimizer.step(x, grad, rejected=exploded)
        x.copy_(torch.where(exploded, best_x, x))
        rejections.add_(exploded.long())
        ran = i + 1
        is_last = ran == iterations
        if config.tolerance > 0 and ran % config.tolerance_window == 0 and not is_last:
            f = float(loss)
            if f_past is not None and abs(f - f_past) <= config.tolerance * abs(f_past):
                logger.debug("stopping after %d iterations: relative loss change below %g", ran, config.tolerance)
                is_last = True
            f_past = f
        if is_last:
            break
        if callback is not None and ran % callback_every == 0:
            callback(offset + i, dict(zip(names, terms.tolist())))
    if ran >= _TRUST_LAST_AFTER and bool(best_loss == terms[-1]):
        # A settled run whose last evaluated point was its best: take the last step without
        # paying a forward pass to check it, as the reference does (losses are then those
        # of the point before it).
        result_x = x
    else:
        # A short or unsettled run: the last step's destination decides with one forward pass.
        with torch.no_grad():
            final = evaluate(pixels / PIXEL_SCALE)
        final_terms = torch.stack([final[name].float() for name in names])
        improved = final_terms[-1] < best_loss
        best_loss = torch.where(improved, final_terms[-1], best_loss)
        best_terms = torch.where(improved, final_terms, best_terms)
        best_x.copy_(torch.where(improved, x, best_x))
        result_x = best_x
    if callback is not None:
        # The last report is of the point the level keeps, not of a rejected last step, so that
        # progress never ends a frame on a diverged step's loss.
        callback(offset + ran - 1, dict(zip(names, best_terms.tolist())))
    _check_progress(best_loss, result_x, start, rejections, ran, config)
    return Solution(_unflat(result_x, pixels) / PIXEL_SCALE, ran, dict(zip(names, best_terms)))


def _check_progress(
    best_loss: Tensor, x: Tensor, start: Tensor, rejections: Tensor, ran: int, config: StylizeConfig
) -> None:
    """Raise :class:`StylizeError` for a level that cannot have done what was asked.

    One host read, at the end of the level. A start that is already optimal (zero gradient) is
    not a failure: its steps are not rejected; nor is a short run that keeps its start after a
    few rejected steps (the safeguard at work).
    """
    finite, moved, rejected = torch.stack(
        [torch.isfinite(best_loss).long(), (x != start).any().long(), rejections]
    ).tolist()
    if not finite:
        raise StylizeError(
            "expected a finite loss, got inf or nan at every point evaluated: the loss weights are too large "
            f"(content {config.content_weight:g}, style {config.style_weight:g}, tv {config.tv_weight:g}, "
            f"temporal {config.temporal_weight:g})"
        )
    if not moved and rejected > _STUCK_AFTER:
        raise StylizeError(
            f"expected the image to move from its start, got {rejected} of {ran} steps rejected as diverging "
            f"and none kept: learning_rate {config.learning_rate:g} or a loss weight is too large"
        )


def _flat(image: Tensor) -> Tensor:
    """A flat view of ``image`` in its storage order (NCHW or NHWC), for the optimisers."""
    if image.is_contiguous():
        return image.view(-1)
    return image.permute(0, 2, 3, 1).view(-1)  # channels_last: NHWC storage


def _unflat(flat: Tensor, like: Tensor) -> Tensor:
    """``flat`` (as :func:`_flat` of ``like``) back to ``like``'s shape, NCHW, detached."""
    if like.is_contiguous():
        return flat.view(like.shape).detach().clone()
    b, c, h, w = like.shape
    return flat.view(b, h, w, c).permute(0, 3, 1, 2).contiguous().detach()
