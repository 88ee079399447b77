"""Per-frame stylization: Gatys et al. optimisation with Ruder et al.'s temporal terms.

:class:`Stylizer` holds what stays fixed over a render: the encoder, the style images and their
target Grams (one set per frame size). :meth:`Stylizer.stylize` builds one frame's targets and
hands the :class:`~artvid.stylize.objective.Objective` to the solver
(:func:`~artvid.stylize.solve.solve`), coarse to fine where asked
(:mod:`artvid.stylize.coarse`).

The stylizer knows nothing about flow or video. A frame's temporal constraints arrive as
:class:`TemporalTarget` tensors (a previous result warped onto this frame and its per-pixel
weight ``c``), already long-term corrected by the caller (:func:`artvid.losses.long_term_weights`).
Images are ``(1, 3, H, W)`` float32 RGB in ``[0, 1]``; the result is clamped once at the end
(the reference clamps only when saving).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import torch
from torch import Tensor

from artvid.colors import original_colors
from artvid.device import amp_applies, memory_errors
from artvid.encoder import Encoder, load_encoder, min_input_side
from artvid.errors import ConfigError
from artvid.losses import gram_matrix
from artvid.stylize.coarse import coarse_to_fine_sizes, solve_levels
from artvid.stylize.config import StylizeConfig
from artvid.stylize.objective import Objective, Targets, TemporalTarget
from artvid.stylize.solve import MEMORY_FORMAT, Callback, Solution, solve
from artvid.stylize.style_image import check_style_image, prepare_style


@dataclass
class StylizeResult:
    """Outcome of :meth:`Stylizer.stylize`.

    Attributes:
        image: ``(1, 3, H, W)`` float32 in ``[0, 1]``, detached, clamped.
        losses: Final weighted terms ``content``, ``style``, ``tv``, ``temporal``, ``total``.
        iterations: Iterations actually run (all coarse-to-fine levels together).
    """

    image: Tensor
    losses: dict[str, float]
    iterations: int


class Stylizer:
    """Optimises one frame at a time against fixed style images.

    Args:
        config: The optimisation settings.
        styles: Style images, each ``(H, W, 3)`` uint8 RGB.
        device: Where the encoder and the optimisation run.
        encoder: A ready encoder (to share one between stylizers); it must return every content
            and style layer of ``config``. ``None`` loads ``config.weights``. It is moved to
            ``device`` and converted to channels_last in place.

    Raises:
        ConfigError: No style image, a malformed one, blend weights that do not match, or an
            encoder lacking layers.
        WeightsError: The VGG19 weights cannot be loaded.
    """

    def __init__(
        self,
        config: StylizeConfig,
        styles: Sequence[np.ndarray],
        device: torch.device | str = "cpu",
        encoder: Encoder | None = None,
    ) -> None:
        self.config = config
        self.device = torch.device(device)
        if len(styles) == 0:
            raise ConfigError("expected at least one style image, got none")
        # Kept on the CPU: only their Grams (one set per frame size) live on the device.
        self._styles = [np.array(check_style_image(style), copy=True) for style in styles]
        blend = config.style_blend_weights or (1.0,) * len(styles)
        if len(blend) != len(styles):
            raise ConfigError(
                f"expected one style blend weight per style image ({len(styles)}), got {len(blend)}"
            )
        self._blend = [w / sum(blend) for w in blend]
        layers = tuple(dict.fromkeys(config.content_layers + config.style_layers))
        if encoder is None:
            encoder = load_encoder(config.weights, layers, self.device, config.pooling)
        else:
            missing = [layer for layer in layers if layer not in encoder.layers]
            if missing:
                raise ConfigError(f"expected an encoder returning layers {list(layers)}, got one missing {missing}")
            encoder = encoder.to(self.device)
        # NHWC convolutions measured ~5–10 % faster on CPU (oneDNN) and are the layout tensor
        # cores want under bf16 autocast; the optimisation variable is NHWC too, so that its
        # gradient needs no conversion. Note: this converts a shared encoder too.
        self.encoder = encoder.to(memory_format=MEMORY_FORMAT)
        self._grams: dict[tuple[int, int], dict[str, Tensor]] = {}
        self._style_side = min_input_side(config.style_layers)
        self.min_side = min_input_side((*config.content_layers, *config.style_layers))
        """Smallest side (pixels) a frame may have: what the loss layers need."""
        self._amp = amp_applies(config.amp, self.device)
        self.objective = Objective.from_config(config, self._features)

    # ------------------------------------------------------------------ targets

    def _features(self, image: Tensor) -> dict[str, Tensor]:
        ctx = torch.autocast("cuda", dtype=torch.bfloat16) if self._amp else contextlib.nullcontext()
        with ctx:
            return self.encoder(image)

    def style_grams(self, height: int, width: int) -> dict[str, Tensor]:
        """Blended target Grams for a ``height × width`` frame (cached per size).

        Each style image is prepared by :func:`~artvid.stylize.style_image.prepare_style`
        (resized to the frame's area × ``style_scale²``, aspect ratio kept); the targets are the
        blend-weighted sums of the style images' Grams, as in neural-style.

        Returns:
            ``{style layer: (1, C, C)}`` float32 on the device.

        Raises:
            DeviceError: The style images' features do not fit in memory.
        """
        key = (height, width)
        if key not in self._grams:
            grams: dict[str, Tensor] = {}
            with memory_errors(self.device, height, width), torch.no_grad():
                for style, blend in zip(self._styles, self._blend):
                    image = prepare_style(style, height, width, self.config.style_scale, self.device, self._style_side)
                    feats = self._features(image)
                    for layer in self.config.style_layers:
                        g = gram_matrix(feats[layer]) * blend
                        grams[layer] = g if layer not in grams else grams[layer] + g
            self._grams[key] = grams
        return self._grams[key]

    def _targets(self, content: Tensor, temporal: Sequence[TemporalTarget]) -> Targets:
        """The frame's targets at ``content``'s size."""
        grams = self.style_grams(*content.shape[-2:])
        features: dict[str, Tensor] = {}
        if self.config.content_weight != 0:
            with torch.no_grad():
                feats = self._features(content)
            features = {layer: feats[layer] for layer in self.config.content_layers}
        return Targets(features, grams, temporal)

    def losses(
        self, image: Tensor, content: Tensor, temporal: Sequence[TemporalTarget] = ()
    ) -> dict[str, Tensor]:
        """The named weighted loss terms of ``image`` for this content frame.

        Args:
            image: ``(1, 3, H, W)`` float32 ``[0, 1]`` (may require grad).
            content: ``(1, 3, H, W)`` float32 ``[0, 1]`` content frame.
            temporal: Temporal targets on the same grid.

        Returns:
            ``{"content", "style", "tv", "temporal", "total"}`` scalar tensors; total is the sum.
        """
        content = _checked_image(content, "content").to(self.device)
        image = _checked_image(image, "image", content.shape).to(self.device)
        temporal = [_checked_temporal(t, content.shape, self.device) for t in temporal]
        return self.objective(image, self._targets(content, temporal))

    # ------------------------------------------------------------------ optimisation

    def stylize(
        self,
        content: Tensor,
        init: Tensor,
        *,
        iterations: int,
        temporal: Sequence[TemporalTarget] = (),
        callback: Callback | None = None,
        callback_every: int = 1,
        coarse_to_fine: int | None = None,
        tolerance: float | None = None,
    ) -> StylizeResult:
        """Optimise one frame.

        Args:
            content: ``(1, 3, H, W)`` float32 ``[0, 1]`` content frame (any device).
            init: ``(1, 3, H, W)`` float32 initial image (content, noise or warped previous result).
            iterations: Iteration budget at full size (see ``StylizeConfig.coarse_to_fine``).
            temporal: Temporal targets on this frame's grid (Ruder et al. 2016, Sec. 3.2–3.3).
            callback: Called as ``callback(iteration, losses)`` with the 0-based global iteration
                index and the float terms. Converting to floats synchronises a GPU, so it is
                called only every ``callback_every`` iterations (and on each level's last one).
            callback_every: See ``callback``.
            coarse_to_fine: Number of scales for this frame; ``None`` = ``config.coarse_to_fine``.
            tolerance: Early-stopping tolerance for this frame; ``None`` = ``config.tolerance``.

        Returns:
            The clamped result, final weighted losses and the number of iterations run.

        Raises:
            ConfigError: ``iterations`` < 1, ``callback_every`` < 1 or a frame too small for
                ``coarse_to_fine``.
            ValueError: Tensors of the wrong shape.
            DeviceError: The frame does not fit in memory (GPU or CPU).
            StylizeError: The loss is never finite, or every step diverged (weights or
                learning rate far too large).
        """
        if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 1:
            raise ConfigError(f"expected iterations to be an integer >= 1, got {iterations!r}")
        if isinstance(callback_every, bool) or not isinstance(callback_every, int) or callback_every < 1:
            raise ConfigError(f"expected callback_every to be an integer >= 1, got {callback_every!r}")
        levels = self.config.coarse_to_fine if coarse_to_fine is None else coarse_to_fine
        if isinstance(levels, bool) or not isinstance(levels, int) or levels < 1:
            raise ConfigError(f"expected coarse_to_fine to be an integer >= 1, got {levels!r}")
        content = _checked_image(content, "content").to(self.device, torch.float32)
        coarse_to_fine_sizes(*content.shape[-2:], levels, self.min_side)
        init = _checked_image(init, "init", content.shape).to(self.device, torch.float32)
        temporal = [_checked_temporal(t, content.shape, self.device) for t in temporal]
        config = self.config if tolerance is None else replace(self.config, tolerance=tolerance)
        with memory_errors(self.device, *content.shape[-2:]):
            return self._stylize(content, init, iterations, levels, temporal, callback, callback_every, config)

    def _stylize(
        self,
        content: Tensor,
        init: Tensor,
        iterations: int,
        levels: int,
        temporal: list[TemporalTarget],
        callback: Callback | None,
        callback_every: int,
        config: StylizeConfig,
    ) -> StylizeResult:
        def solve_level(
            level_content: Tensor, image: Tensor, budget: int, level_temporal: list[TemporalTarget], done: int
        ) -> Solution:
            targets = self._targets(level_content, level_temporal)
            return solve(
                lambda x: self.objective(x, targets), self.objective.names, image, budget, config,
                callback, callback_every, done,
            )

        solution = solve_levels(content, init, temporal, iterations, levels, solve_level)
        result = solution.image.clamp(0.0, 1.0)
        if self.config.original_colors:
            result = original_colors(result, content)
        names = self.objective.names
        values = torch.stack([solution.terms[name].detach().float() for name in names]).tolist()
        return StylizeResult(result, dict(zip(names, values)), solution.iterations)


def _checked_image(image: Tensor, name: str, shape: torch.Size | None = None) -> Tensor:
    if not isinstance(image, Tensor) or image.ndim != 4 or image.shape[:2] != (1, 3) or not image.is_floating_point():
        got = f"{image.dtype} {tuple(image.shape)}" if isinstance(image, Tensor) else type(image).__name__
        raise ValueError(f"expected {name} as a (1, 3, H, W) float tensor, got {got}")
    if shape is not None and image.shape != shape:
        raise ValueError(f"expected {name} of shape {tuple(shape)}, got {tuple(image.shape)}")
    return image


def _checked_temporal(target: TemporalTarget, shape: torch.Size, device: torch.device) -> TemporalTarget:
    warped = _checked_image(target.warped, "temporal warped image", shape)
    weight = target.weight
    if not isinstance(weight, Tensor) or tuple(weight.shape) != (1, 1, *shape[-2:]):
        got = tuple(weight.shape) if isinstance(weight, Tensor) else type(weight).__name__
        raise ValueError(f"expected temporal weight of shape (1, 1, {shape[-2]}, {shape[-1]}), got {got}")
    return TemporalTarget(warped.to(device, torch.float32), weight.to(device, torch.float32))
