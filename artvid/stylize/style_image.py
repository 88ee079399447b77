"""Style-target preparation: one style image resized for one frame size, the same everywhere.

``artvid render``, ``artvid image`` and ``artvid compare`` all compare Gram matrices with the
style image's, and the style loss is very sensitive to how that image was resized (on one frame
relu4_1's Gram MSE was ~1.0e4 against a bilinear-antialiased target and 8.7e4 against an
area-averaged one), so the resize lives here once, in :func:`prepare_style`.

Size: the style image is resized to the frame's area × ``style_scale²`` keeping its aspect ratio
(artistic-videos' ``-style_scale``: neural-style scales the style image's *long side* to
``style_scale × image_size``; artistic-videos scales it to the content's pixel count, which is
what a frame of any aspect ratio needs).

Filter: bilinear, antialiased when shrinking (:data:`STYLE_RESAMPLING`), kept because renders
were made with it. PyTorch's ``antialias=True`` widens the bilinear (triangle) kernel by the
shrink factor: a prefilter over the source pixels each output pixel covers, close to an area
average, so shrinking a large painting does not alias its fine brush strokes into spurious
high-frequency texture (plain bilinear samples only 2×2 source pixels per output pixel and
does alias); when enlarging it is plain bilinear. The references (neural-style,
artistic-videos) call Torch7's ``image.scale(img, w, h, 'bilinear')``; note that its
"bilinear" shrinks by a box (area) average with fractional edge weights and enlarges by linear
interpolation with aligned corners (``torch/image``, ``generic/image.c``,
``Main_scaleLinear_rowcol``). Both prefilters keep the Grams free of aliasing; the triangle is
a little smoother than the box, which is why Grams of an area-resized style image differ
measurably from ours. Every consumer must therefore resize through this module.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from artvid.errors import ConfigError

logger = logging.getLogger(__name__)

STYLE_RESAMPLING = "bilinear-antialias"
"""Short name of the filter :func:`prepare_style` resizes with (for reports and settings)."""
SMALL_STYLE_SIDE = 64
"""A style image with a shorter short side than this (pixels) is logged as too small."""
MAX_STYLE_ENLARGEMENT = 4.0
"""A style image enlarged more than this for a frame is logged as too small for it."""


def style_target_size(
    style_hw: Sequence[int], height: int, width: int, scale: float, min_side: int = 1
) -> tuple[int, int]:
    """``(h, w)`` of a style image resized to the frame's area × ``scale²``, aspect ratio kept.

    Args:
        style_hw: The style image's ``(height, width)``.
        height: Frame height.
        width: Frame width.
        scale: ``StylizeConfig.style_scale``.
        min_side: The short side is at least this (the style layers need it: see
            :func:`~artvid.encoder.min_input_side`); the image is enlarged further, aspect ratio
            kept, when the frame's area would make it smaller.

    Returns:
        The target size, each side at least 1.
    """
    sh, sw = int(style_hw[0]), int(style_hw[1])
    factor = math.sqrt(height * width / (sh * sw)) * scale
    factor = max(factor, min_side / min(sh, sw))
    return max(min_side, round(sh * factor)), max(min_side, round(sw * factor))


def check_style_image(style: np.ndarray) -> np.ndarray:
    """Return ``style`` if it is an ``(H, W, 3)`` uint8 RGB array.

    Raises:
        ConfigError: It is not.
    """
    if not isinstance(style, np.ndarray) or style.dtype != np.uint8 or style.ndim != 3 or style.shape[2] != 3:
        got = f"{style.dtype} {style.shape}" if isinstance(style, np.ndarray) else type(style).__name__
        raise ConfigError(f"expected style images as (H, W, 3) uint8 RGB arrays, got {got}")
    return style


def prepare_style(
    style: np.ndarray, height: int, width: int, scale: float, device: torch.device | str, min_side: int = 1
) -> Tensor:
    """The style image as the encoder sees it for a ``height × width`` frame.

    Resized to :func:`style_target_size` with :data:`STYLE_RESAMPLING` (see the module
    docstring). Logs a warning when the style image is small (short side under
    :data:`SMALL_STYLE_SIDE` px) or must be enlarged more than :data:`MAX_STYLE_ENLARGEMENT`
    times: its Grams then describe blur rather than brush strokes.

    Args:
        style: ``(H, W, 3)`` uint8 RGB style image.
        height: Frame height.
        width: Frame width.
        scale: ``StylizeConfig.style_scale`` (> 0).
        device: Where the result lives.
        min_side: Smallest short side of the result (see :func:`style_target_size`).

    Returns:
        ``(1, 3, h, w)`` float32 RGB in ``[0, 1]`` on ``device`` (in the strides of an HWC image).

    Raises:
        ConfigError: ``style`` is not an ``(H, W, 3)`` uint8 array.
    """
    check_style_image(style)
    size = style_target_size(style.shape[:2], height, width, scale, min_side)
    enlargement = size[0] / style.shape[0]
    if min(style.shape[:2]) < SMALL_STYLE_SIDE or enlargement > MAX_STYLE_ENLARGEMENT:
        logger.warning(
            "style image of %dx%d px is enlarged %.1fx to %dx%d for %dx%d frames: too small to carry "
            "texture at this size; use a larger style image (short side >= %d px) or a smaller style scale",
            style.shape[1], style.shape[0], enlargement, size[1], size[0], width, height, SMALL_STYLE_SIDE,
        )
    pixels = torch.from_numpy(np.array(style, dtype=np.uint8, copy=True)).permute(2, 0, 1)[None]
    image = pixels.to(device, torch.float32) / 255.0
    image = F.interpolate(image, size=size, mode="bilinear", align_corners=False, antialias=True)
    return image.clamp(0.0, 1.0)
