"""How much memory one stylization iteration needs, to refuse frame sizes that cannot fit.

A rough but honest upper-end estimate, not a measurement: allocator caching, cuDNN/oneDNN
workspaces and fragmentation come on top, and the one-off style-Gram pass (no gradients, at the
frame's area × ``style_scale²``) is not counted. Its parts:

* VGG19 activations of every layer up to the deepest used one, ×3: kept for the backward pass,
  their gradients during it, and temporaries (in-place ReLUs share storage with their conv, so
  this errs on the high side). 2 bytes per value under bf16 autocast on CUDA, else 4.
* the optimiser's state: L-BFGS keeps ``2·lbfgs_history`` vectors of ``3·H·W`` float32 values
  (its curvature pairs); Adam two (its moments).
* the image-sized vectors of the loop (variable, gradient, best point, start, previous gradient,
  last step, targets): :data:`IMAGE_BUFFERS` × ``3·H·W`` float32, plus each temporal target
  (warped image and weight, ``4·H·W`` float32).
* the encoder's float32 weights up to the deepest layer, the content features and the Grams.
"""

from __future__ import annotations

import logging
import os

import torch

from artvid.device import amp_applies
from artvid.encoder import LAYER_NAMES, feature_shapes, parameter_count
from artvid.errors import DeviceError
from artvid.stylize.config import StylizeConfig

logger = logging.getLogger(__name__)

FLOAT32 = 4
"""Bytes per float32 value."""
ACTIVATION_COPIES = 3
"""Forward activations, their gradients, temporaries (see the module docstring)."""
IMAGE_BUFFERS = 10
"""Image-sized float32 vectors the loop holds besides the optimiser's state."""


def estimate_iteration_bytes(
    height: int,
    width: int,
    config: StylizeConfig,
    device: torch.device | str = "cpu",
    temporal_targets: int = 0,
) -> int:
    """Estimated peak memory, in bytes, of one stylize iteration on a ``height × width`` frame.

    Grows linearly with the pixel count (VGG19 activations and image-sized buffers) and with
    ``config.lbfgs_history`` (``2·history·3·H·W·4`` bytes of curvature pairs).

    Args:
        height: Frame height in pixels (>= 1).
        width: Frame width in pixels (>= 1).
        config: The layers, optimiser, history and autocast setting used.
        device: Where the iteration runs (bf16 activations under ``config.amp`` on CUDA GPUs
            that have bf16 tensor cores: :func:`artvid.device.amp_applies`).
        temporal_targets: Number of temporal targets per frame (previous frames constrained).

    Returns:
        The estimate in bytes.

    Raises:
        ValueError: A non-positive size or a negative number of temporal targets.
    """
    if height < 1 or width < 1 or temporal_targets < 0:
        raise ValueError(
            f"expected height, width >= 1 and temporal_targets >= 0, got {height}, {width}, {temporal_targets}"
        )
    layers = config.content_layers + config.style_layers
    deepest = max(layers, key=LAYER_NAMES.index)
    shapes = {name: (c, h, w) for name, c, h, w in feature_shapes(height, width, deepest)}
    amp = amp_applies(config.amp, device)
    activation_bytes = 2 if amp else FLOAT32
    activations = sum(c * h * w for c, h, w in shapes.values()) * activation_bytes * ACTIVATION_COPIES
    pixels = 3 * height * width
    optimizer_vectors = 2 * config.lbfgs_history if config.optimizer == "lbfgs" else 2
    buffers = (optimizer_vectors + IMAGE_BUFFERS) * pixels * FLOAT32
    temporal = temporal_targets * 4 * height * width * FLOAT32
    content = sum(c * h * w for c, h, w in (shapes[layer] for layer in config.content_layers)) * FLOAT32
    grams = sum(shapes[layer][0] ** 2 for layer in config.style_layers) * FLOAT32
    weights = parameter_count(deepest) * FLOAT32
    return activations + buffers + temporal + content + grams + weights


def device_memory(device: torch.device | str) -> tuple[int, int] | None:
    """``(available, total)`` bytes of the device's memory, or None where it cannot be read.

    CPU: ``MemAvailable`` and ``MemTotal`` of ``/proc/meminfo`` (Linux), else the physical pages
    (available unknown, reported as the total). CUDA: ``torch.cuda.mem_get_info``.
    """
    device = torch.device(device)
    if device.type == "cuda":
        free, total = torch.cuda.mem_get_info(device)
        return free, total
    if device.type != "cpu":
        return None
    try:
        fields = dict(line.split(":", 1) for line in open("/proc/meminfo").read().splitlines() if ":" in line)
        return int(fields["MemAvailable"].split()[0]) * 1024, int(fields["MemTotal"].split()[0]) * 1024
    except (OSError, KeyError, ValueError):
        try:
            total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, AttributeError):
            return None
        return total, total


def check_memory(
    height: int, width: int, config: StylizeConfig, device: torch.device | str, temporal_targets: int = 0,
    share: float = 1.0,
) -> int:
    """Refuse a frame size whose iterations cannot fit in the device's memory, before any work.

    The estimate errs on the high side (measured here: 8.5 GiB estimated against 7.1 GiB used at
    1280×720 with a full L-BFGS history), so only an estimate above the device's *total* memory
    (or this process's ``share`` of it) is refused; one above what is available now is logged as
    a warning (other programs may free memory, and swap may carry the rest slowly).

    Args:
        share: The part of the device this process may use: Ray workers that share a GPU
            (``--gpus-per-worker 0.5``) each get their fraction of its memory.

    Returns:
        The estimate in bytes.

    Raises:
        DeviceError: The estimate exceeds the device's total memory, or this process's share of it.
    """
    needed = estimate_iteration_bytes(height, width, config, device, temporal_targets)
    memory = device_memory(device)
    if memory is None:
        return needed
    available, total = memory
    gib = 2**30
    if needed > total * share:
        has = f"the device has {total / gib:.1f} GiB"
        if share < 1.0:
            has = f"a worker's share of the device is {share:g} of its {total / gib:.1f} GiB (--gpus-per-worker)"
        raise DeviceError(
            f"expected a frame size that fits in memory on {device}: {width}x{height} needs about "
            f"{needed / gib:.1f} GiB per iteration, {has}; reduce it with --size"
        )
    if needed > available:
        logger.warning(
            "%dx%d frames need about %.1f GiB per iteration, more than the %.1f GiB available now on %s",
            width, height, needed / gib, available / gib, device,
        )
    return needed
