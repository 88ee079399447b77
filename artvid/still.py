"""``artvid image``: one image through the same engine as the video frames."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from artvid import images
from artvid.device import resolve_device
from artvid.errors import ImageReadError
from artvid.multipass import Init
from artvid.frames import image_tensor, random_init
from artvid.levels import stretch_levels
from artvid.stylize import StylizeConfig, Stylizer, check_memory

def stylize_image(
    content: Path,
    styles: Sequence[Path],
    output: Path,
    config: StylizeConfig,
    iterations: int,
    tolerance: float | None = None,
    init: Init = Init.RANDOM,
    seed: int = 0,
    size: int | None = None,
    device: str = "auto",
    progress: bool = True,
) -> dict[str, Any]:
    """Stylize ``content`` with ``styles`` and write ``output``; returns a JSON-friendly summary.

    ``tolerance`` is the early-stopping tolerance (None = ``config.tolerance``), as a video's
    first frame has ``tolerance_first``.

    Raises:
        ImageReadError: If an image cannot be read or the output folder is missing.
        ConfigError: For invalid settings.
    """
    from tqdm import tqdm

    output = Path(output)
    if not output.parent.exists():
        raise ImageReadError(f"output folder {output.parent} does not exist")
    started = time.perf_counter()
    frame = images.load_image(content, max_side=size)
    if config.content_levels == "stretch":
        frame = stretch_levels(frame)
    style_frames = [images.load_image(path) for path in styles]
    torch_device = resolve_device(device)
    check_memory(frame.shape[0], frame.shape[1], config, torch_device)
    stylizer = Stylizer(config, style_frames, device=torch_device)
    start = frame.astype(np.float32) / 255.0 if init is Init.CONTENT else random_init(frame.shape, seed)
    content_tensor = images.to_tensor(frame, torch_device)
    with tqdm(total=iterations, desc="image", unit="it", disable=not progress, dynamic_ncols=True) as bar:

        def on_iteration(iteration: int, losses: dict[str, float]) -> None:
            bar.set_postfix({k: f"{v:.3g}" for k, v in losses.items() if k != "total"}, refresh=False)
            bar.update(iteration + 1 - bar.n)

        # Every 10 iterations, as a render's bar: reading the losses waits for a GPU.
        result = stylizer.stylize(
            content_tensor, image_tensor(start, torch_device), iterations=iterations, tolerance=tolerance,
            callback=on_iteration if progress else None, callback_every=10,
        )
    images.save_image(output, images.to_frame(result.image))
    return {
        "output": str(output), "size": list(frame.shape[:2]), "iterations": result.iterations,
        "seconds": round(time.perf_counter() - started, 3), "losses": result.losses, "device": str(torch_device),
    }
