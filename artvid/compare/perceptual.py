"""Perceptual scores of ``artvid compare``: style loss to the style image, content loss to CONTENT.

The losses are the stylizer's own definitions (:mod:`artvid.losses`, Gatys et al. 2016) on the
stylizer's VGG19 encoder, computed for CONTENT's frame and every STYLIZED frame in one batch per
frame time (:func:`artvid.metrics.style_losses_batch`, :func:`artvid.metrics.content_losses_batch`).
torch is imported only when a scorer is built.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from artvid import metrics
from artvid.errors import ArtvidError, CompareError

if TYPE_CHECKING:
    import torch


class PerceptualScorer:
    """Style loss to the style image and content loss to the content frame, batched per frame.

    Args:
        device: The resolved device of the VGG encoder (:func:`artvid.device.resolve_device`).
        weights: VGG19 weights (see :func:`artvid.encoder.load_encoder`).
        style: Style image; None = no style loss.
        width, height: Evaluation frame size (the style image is scaled to its pixel count).

    Raises:
        CompareError: The frames are too small for the VGG19 layers, or the style image cannot
            be read.
        WeightsError: The VGG weights cannot be loaded.
    """

    def __init__(self, device: torch.device, weights: str, style: Path | None, width: int, height: int) -> None:
        import torch

        from artvid import losses
        from artvid.encoder import load_encoder, min_input_side
        from artvid.images import load_image
        from artvid.stylize import prepare_style

        self.torch = torch
        self.device = device
        layers = metrics.STYLE_LAYERS + (metrics.CONTENT_LAYER,)
        if min(width, height) < min_input_side(layers):
            raise CompareError(
                f"frames of {width}x{height} are too small to score: the VGG19 layers need at least "
                f"{min_input_side(layers)} px on each side; use a larger --size or --no-perceptual"
            )
        # channels_last convolutions run about 20% faster on CPU (oneDNN); results agree to 1e-6.
        self.encoder = load_encoder(weights, layers=layers, device=self.device).to(
            memory_format=torch.channels_last
        )
        self.grams = None
        self.metric_names: tuple[str, ...] = ("content_loss",)
        """The loss names :meth:`losses` returns, in report order."""
        if style is not None:
            try:
                image = load_image(style)
            except ArtvidError as exc:
                raise CompareError(f"style image {style}: cannot be read ({exc})") from None
            with torch.inference_mode():
                # The render's own style preparation, at style scale 1 (one frame's pixel count).
                target = prepare_style(image, height, width, 1.0, self.device, min_input_side(metrics.STYLE_LAYERS))
                feats = self.encoder(target.contiguous(memory_format=torch.channels_last))
                self.grams = {layer: losses.gram_matrix(feats[layer]) for layer in metrics.STYLE_LAYERS}
            self.metric_names = ("style_loss", "content_loss")

    def _batch(self, frames: Sequence[np.ndarray]):
        stacked = np.stack(frames)  # (B, H, W, 3) uint8
        tensor = self.torch.from_numpy(stacked).to(self.device)
        # (B, H, W, 3) permuted to (B, 3, H, W) is already channels_last in memory.
        return tensor.permute(0, 3, 1, 2).float().div_(255.0).contiguous(memory_format=self.torch.channels_last)

    def losses(self, frames: Sequence[np.ndarray]) -> list[dict[str, float]]:
        """``frames[0]`` is the content frame; returns one dict per frame."""
        with self.torch.inference_mode():
            feats = self.encoder(self._batch(frames))
            content = metrics.content_losses_batch(feats, {metrics.CONTENT_LAYER: feats[metrics.CONTENT_LAYER][:1]})
            out = [{"content_loss": value} for value in content]
            if self.grams is not None:
                for row, value in zip(out, metrics.style_losses_batch(feats, self.grams)):
                    row["style_loss"] = value
        return out
