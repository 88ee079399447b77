"""Coarse-to-fine solving: a frame solved at ``1/2^k`` of its size first, then upsampled.

Level ``k`` (0 = full size) works at ``1/2^k`` of the frame size, coarsest first; each level
starts from the previous level's result resized to its size, with the content frame and the
temporal targets resized the same way. With ``S`` levels every level runs ``iterations // 2``
iterations (at least 1), so the whole solve costs at most about ⅔ of ``iterations`` full-size
iterations (an iteration at half size costs ~¼). One level is the plain full-size solve.
"""

from __future__ import annotations

from collections.abc import Callable

import torch.nn.functional as F
from torch import Tensor

from artvid.errors import ConfigError
from artvid.stylize.objective import TemporalTarget
from artvid.stylize.solve import Solution

MIN_LEVEL_SIDE = 16
"""Smallest side (pixels) a coarse-to-fine level may have; VGG19 pools 4× before relu5_1."""

SolveLevel = Callable[[Tensor, Tensor, int, "list[TemporalTarget]", int], Solution]
"""``(content, init, iterations, temporal, offset) → Solution`` at ``content``'s size;
``offset`` is the number of iterations run by the coarser levels."""


def coarse_to_fine_sizes(height: int, width: int, levels: int, min_side: int = 1) -> list[tuple[int, int]]:
    """The ``(h, w)`` of each coarse-to-fine level of a ``height × width`` frame, coarsest first.

    Args:
        height: Frame height.
        width: Frame width.
        levels: Number of levels (1: the frame's own size only).
        min_side: Smallest side the frame may have: what the loss layers need (see
            :func:`~artvid.encoder.min_input_side`).

    Raises:
        ConfigError: The frame has a side under ``min_side`` pixels, or the coarsest level one
            under ``MIN_LEVEL_SIDE``.
    """
    if min(height, width) < min_side:
        raise ConfigError(
            f"expected frames of at least {min_side} px on each side for the VGG19 layers used, "
            f"got {width}x{height}; stylize them at a larger size"
        )
    sizes = [(round(height / 2**k), round(width / 2**k)) for k in range(levels - 1, -1, -1)]
    if min(sizes[0]) < MIN_LEVEL_SIDE:
        raise ConfigError(
            f"expected frames of at least {MIN_LEVEL_SIDE * 2 ** (levels - 1)} px on the short side "
            f"for coarse_to_fine={levels}, got {width}x{height}; use fewer levels"
        )
    return sizes


def level_plan(height: int, width: int, iterations: int, levels: int) -> list[tuple[int, int, int]]:
    """``(h, w, iterations)`` of each level, coarsest first (see the module docstring)."""
    if levels == 1:
        return [(height, width, iterations)]
    per_level = max(1, iterations // 2)
    return [(h, w, per_level) for h, w in coarse_to_fine_sizes(height, width, levels)]


def solve_levels(
    content: Tensor,
    init: Tensor,
    temporal: list[TemporalTarget],
    iterations: int,
    levels: int,
    solve_level: SolveLevel,
) -> Solution:
    """Run ``solve_level`` at each level's size, coarsest first.

    Args:
        content: ``(1, 3, H, W)`` float32 ``[0, 1]`` content frame.
        init: ``(1, 3, H, W)`` float32 start image.
        temporal: Temporal targets on the full-size grid.
        iterations: Full-size iteration budget.
        levels: Number of scales (>= 1).
        solve_level: Solves one level (see :data:`SolveLevel`).

    Returns:
        The full-size level's solution, with ``iterations`` counting every level.

    Raises:
        ConfigError: The coarsest level would be too small.
    """
    height, width = content.shape[-2:]
    image = init
    done = 0
    solution: Solution | None = None
    for h, w, budget in level_plan(height, width, iterations, levels):
        if (h, w) == (height, width):
            level_content, level_temporal = content, temporal
        else:
            level_content = resize(content, h, w)
            level_temporal = [TemporalTarget(resize(t.warped, h, w), resize(t.weight, h, w)) for t in temporal]
        if image.shape[-2:] != (h, w):
            image = resize(image, h, w)
        solution = solve_level(level_content, image, budget, level_temporal, done)
        image = solution.image
        done += solution.iterations
    assert solution is not None  # level_plan returns at least one level
    return Solution(solution.image, done, solution.terms)


def resize(image: Tensor, height: int, width: int) -> Tensor:
    """Bilinear resize of a ``(B, C, H, W)`` tensor, antialiased when shrinking."""
    antialias = height < image.shape[-2]
    return F.interpolate(image, size=(height, width), mode="bilinear", align_corners=False, antialias=antialias)
