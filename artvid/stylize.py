"""Per-frame stylization: Gatys et al. optimisation with Ruder et al.'s temporal terms.

The stylizer knows nothing about flow or video. A frame's temporal constraints arrive as
:class:`TemporalTarget` tensors (a previous result warped onto this frame and its per-pixel
weight ``c``), already long-term corrected by the caller (:func:`artvid.losses.long_term_weights`).

Conventions (see :mod:`artvid.losses` for the loss normalisations):

* Images are ``(1, 3, H, W)`` float32 RGB in ``[0, 1]``. The optimisation variable is
  ``255·image`` so that the optimisers see the reference's pixel scale: L-BFGS's first step
  (``min(1, 1/|g|₁)·lr``) and Adam's ``learning_rate`` are in 0–255 units, as in neural-style and
  artistic-videos (whose Adam default is 10). Pixels may leave ``[0, 1]`` while optimising; the
  result is clamped once at the end (the reference clamps only when saving).
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
* GPU synchronisation: an iteration reads nothing back to the host. The safeguard's decisions
  are ``torch.where`` on the device; the loss is read only for the callback (every
  ``callback_every`` iterations), for early stopping (every ``tolerance_window``) and once at the
  end of a level.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from artvid.colors import original_colors
from artvid.encoder import LAYER_NAMES, Encoder, load_encoder
from artvid.errors import ConfigError, DeviceError
from artvid.losses import PIXEL_SCALE, content_loss, gram_matrix, style_loss, temporal_loss, tv_loss
from artvid.optim import LBFGS, Adam
from artvid.settings import setting

logger = logging.getLogger(__name__)

OptimizerName = Literal["lbfgs", "adam"]
Pooling = Literal["max", "avg"]
TERMS = ("content", "style", "tv", "temporal", "total")
_TRUST_LAST_AFTER = 10
"""Runs this long whose last evaluated loss is their best keep the last step unevaluated."""
_RESTART_FACTOR = 2.0
"""A loss above this multiple of the best one seen sends the optimiser back to the best point."""
_MEMORY_FORMAT = torch.channels_last
"""Layout of the encoder and of the optimised image (see Stylizer.__init__)."""
MIN_LEVEL_SIDE = 16
"""Smallest side (pixels) a coarse-to-fine level may have; VGG19 pools 4× before relu5_1."""


@dataclass(frozen=True)
class StylizeConfig:
    """Settings of the per-frame optimisation; defaults are artistic-videos' single-pass values.

    Attributes:
        content_weight: Weight of the content loss (``-content_weight``).
        style_weight: Weight of the style loss (``-style_weight``).
        tv_weight: Weight of the total-variation term, on the 0–255 scale (``-tv_weight``).
        temporal_weight: Weight of each temporal term, on the 0–255 scale (``-temporal_weight``).
        content_layers: VGG19 layers of the content loss.
        style_layers: VGG19 layers of the style loss.
        style_blend_weights: One non-negative weight per style image, normalised to sum 1 (the
            target Grams are blended, as in neural-style); ``None`` = equal.
        style_scale: Each style image is resized to the frame's area × ``style_scale²``.
        optimizer: ``"lbfgs"`` (reference) or ``"adam"``.
        learning_rate: L-BFGS step (reference 1, no line search) or Adam step, in 0–255 units.
        lbfgs_history: L-BFGS memory (reference 100).
        tolerance: Relative loss change below which a level stops early; 0 disables.
        tolerance_window: Iterations between two early-stopping checks (reference 50).
        original_colors: Keep the content's chroma (YIQ), take only luminance from the result.
        weights: VGG19 weights: ``"original"``, ``"torchvision"`` or a state-dict path.
        pooling: ``"max"`` (reference) or ``"avg"``.
        coarse_to_fine: Number of scales ``S``; 1 = off. Level ``k`` (0 = full size) works at
            ``1/2^k`` of the frame size. The full-size level runs ``iterations // 2`` iterations
            (at least 1) and so does every coarser level, so the whole solve costs at most about
            ⅔ of ``iterations`` full-size iterations (an iteration at half size costs ~¼).
            A render applies it only to frames that start from scratch (noise or the content);
            a warm-started frame already holds full-size detail that a coarse level would blur.
        amp: Run the VGG19 pass in bfloat16 autocast on CUDA (image, losses and optimiser stay
            float32). No effect on other devices.
    """

    content_weight: float = setting(5.0, help="Weight of the content loss.", min=0)
    style_weight: float = setting(100.0, help="Weight of the style loss.", min=0)
    tv_weight: float = setting(1e-3, help="Weight of the total-variation loss.", min=0)
    temporal_weight: float = setting(1e3, help="Weight of the temporal loss (0 = independent frames).", min=0)
    content_layers: tuple[str, ...] = setting(("relu4_2",), help="Content layers.")
    style_layers: tuple[str, ...] = setting(
        ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"), help="Style layers."
    )
    style_blend_weights: tuple[float, ...] | None = setting(None, help="Comma-separated weight per style (default: equal).")
    style_scale: float = setting(1.0, help="Style image resized to the frame's area times scale².", min=0, min_open=True)
    optimizer: OptimizerName = setting("lbfgs", help="Optimiser.")
    learning_rate: float = setting(1.0, help="Step size (L-BFGS step or Adam learning rate).", min=0, min_open=True)
    lbfgs_history: int = setting(100, help="L-BFGS memory: number of curvature pairs kept.", min=1)
    tolerance: float = setting(
        1e-4, help="Stop a frame when the loss changes less than this (relative) over the window; 0 = never.", min=0
    )
    tolerance_window: int = setting(50, help="Iterations between two early-stopping checks.", min=1)
    original_colors: bool = setting(False, help="Keep the content's colours (luminance-only transfer).")
    weights: str = setting("original", help="VGG19 weights: original (Caffe, bundled), torchvision, or a file.")
    pooling: Pooling = setting("max", help="VGG pooling.")
    coarse_to_fine: int = setting(
        1,
        help="Number of scales solved coarse to fine for frames started from noise or the content "
        "(1 = full size only).",
        min=1,
    )
    amp: bool = setting(True, help="bfloat16 autocast for the VGG19 pass on CUDA (no effect elsewhere).")

    def __post_init__(self) -> None:
        for name in ("content_weight", "style_weight", "tv_weight", "temporal_weight"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise ConfigError(f"expected {name} to be a finite number >= 0, got {value!r}")
        for name in ("content_layers", "style_layers"):
            layers = getattr(self, name)
            if isinstance(layers, str) or not isinstance(layers, (tuple, list)):
                raise ConfigError(f"expected {name} to be a tuple of layer names, got {layers!r}")
            object.__setattr__(self, name, tuple(layers))
            unknown = [layer for layer in layers if layer not in LAYER_NAMES]
            if unknown:
                raise ConfigError(f"expected {name} from {', '.join(LAYER_NAMES)}; got unknown {unknown}")
        if not self.style_layers:
            raise ConfigError("expected at least one style layer, got none")
        if self.style_blend_weights is not None:
            blend = tuple(self.style_blend_weights) if not isinstance(self.style_blend_weights, str) else ()
            if not blend or any(
                isinstance(w, bool) or not isinstance(w, (int, float)) or not math.isfinite(w) or w < 0 for w in blend
            ) or sum(blend) <= 0:
                raise ConfigError(
                    f"expected style_blend_weights to be non-negative numbers with a positive sum, "
                    f"got {self.style_blend_weights!r}"
                )
            object.__setattr__(self, "style_blend_weights", tuple(float(w) for w in blend))
        _positive(self, "style_scale")
        _positive(self, "learning_rate")
        if self.optimizer not in get_args(OptimizerName):
            raise ConfigError(f"expected optimizer in {get_args(OptimizerName)}, got {self.optimizer!r}")
        if self.pooling not in get_args(Pooling):
            raise ConfigError(f"expected pooling in {get_args(Pooling)}, got {self.pooling!r}")
        for name in ("lbfgs_history", "tolerance_window", "coarse_to_fine"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"expected {name} to be an integer >= 1, got {value!r}")
        tol = self.tolerance
        if isinstance(tol, bool) or not isinstance(tol, (int, float)) or not math.isfinite(tol) or tol < 0:
            raise ConfigError(f"expected tolerance to be a finite number >= 0, got {tol!r}")
        for name in ("original_colors", "amp"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"expected {name} to be True or False, got {getattr(self, name)!r}")
        if isinstance(self.weights, os.PathLike):
            object.__setattr__(self, "weights", os.fspath(self.weights))
        if not isinstance(self.weights, str) or not self.weights:
            raise ConfigError(
                f"expected weights 'original', 'torchvision' or a file path, got {self.weights!r}"
            )


def _positive(config: StylizeConfig, name: str) -> None:
    value = getattr(config, name)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ConfigError(f"expected {name} to be a finite number > 0, got {value!r}")


@dataclass
class TemporalTarget:
    """One temporal constraint of Ruder et al. 2016 (Sec. 3.2, long-term: Sec. 3.3).

    Attributes:
        warped: ``(1, 3, H, W)`` float32 in ``[0, 1]``: a previous result warped onto this frame.
        weight: ``(1, 1, H, W)`` float32 in ``[0, 1]``: per-pixel ``c`` (long-term corrected).
    """

    warped: Tensor
    weight: Tensor


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


Callback = Callable[[int, dict[str, float]], None]


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
        for style in styles:
            if not isinstance(style, np.ndarray) or style.dtype != np.uint8 or style.ndim != 3 or style.shape[2] != 3:
                got = f"{style.dtype} {style.shape}" if isinstance(style, np.ndarray) else type(style).__name__
                raise ConfigError(f"expected style images as (H, W, 3) uint8 RGB arrays, got {got}")
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
        self.encoder = encoder.to(memory_format=_MEMORY_FORMAT)
        # Kept on the CPU: only their Grams (one set per frame size) live on the device.
        self._styles = [torch.from_numpy(np.array(s, dtype=np.uint8, copy=True)).permute(2, 0, 1)[None] for s in styles]
        self._grams: dict[tuple[int, int], dict[str, Tensor]] = {}
        self._amp = config.amp and self.device.type == "cuda"

    # ------------------------------------------------------------------ targets

    def _features(self, image: Tensor) -> dict[str, Tensor]:
        ctx = torch.autocast("cuda", dtype=torch.bfloat16) if self._amp else contextlib.nullcontext()
        with ctx:
            return self.encoder(image)

    def style_grams(self, height: int, width: int) -> dict[str, Tensor]:
        """Blended target Grams for a ``height × width`` frame (cached per size).

        Each style image is resized (bilinear, antialiased) to the frame's area × ``style_scale²``
        keeping its aspect ratio (artistic-videos' ``-style_scale``); the targets are the
        blend-weighted sums of the style images' Grams, as in neural-style.

        Returns:
            ``{style layer: (1, C, C)}`` float32 on the device.
        """
        key = (height, width)
        if key not in self._grams:
            grams: dict[str, Tensor] = {}
            with torch.no_grad():
                for style, blend in zip(self._styles, self._blend):
                    size = style_target_size(style.shape[-2:], height, width, self.config.style_scale)
                    image = style.to(self.device, torch.float32) / 255.0
                    image = F.interpolate(image, size=size, mode="bilinear", align_corners=False, antialias=True)
                    feats = self._features(image.clamp(0.0, 1.0))
                    for layer in self.config.style_layers:
                        g = gram_matrix(feats[layer]) * blend
                        grams[layer] = g if layer not in grams else grams[layer] + g
            self._grams[key] = grams
        return self._grams[key]

    def _content_targets(self, content: Tensor) -> dict[str, Tensor]:
        if self.config.content_weight == 0:
            return {}
        with torch.no_grad():
            feats = self._features(content)
        return {layer: feats[layer] for layer in self.config.content_layers}

    # ------------------------------------------------------------------ losses

    def _terms(
        self,
        image: Tensor,
        content_targets: dict[str, Tensor],
        grams: dict[str, Tensor],
        temporal: Sequence[TemporalTarget],
    ) -> dict[str, Tensor]:
        cfg = self.config
        feats = self._features(image)
        zero = image.new_zeros(())
        terms = {"content": zero, "style": zero, "tv": zero, "temporal": zero}
        if content_targets:
            terms["content"] = cfg.content_weight * sum(
                content_loss(feats[layer], content_targets[layer]) for layer in cfg.content_layers
            )
        if cfg.style_weight:
            terms["style"] = cfg.style_weight * style_loss(feats, grams, cfg.style_layers)
        if cfg.tv_weight:
            terms["tv"] = cfg.tv_weight * tv_loss(image)
        if cfg.temporal_weight and temporal:
            terms["temporal"] = cfg.temporal_weight * sum(
                temporal_loss(image, t.warped, t.weight) for t in temporal
            )
        terms["total"] = terms["content"] + terms["style"] + terms["tv"] + terms["temporal"]
        return terms

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
        grams = self.style_grams(*content.shape[-2:])
        return self._terms(image, self._content_targets(content), grams, temporal)

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

        Returns:
            The clamped result, final weighted losses and the number of iterations run.

        Raises:
            ConfigError: ``iterations`` < 1, ``callback_every`` < 1 or a frame too small for
                ``coarse_to_fine``.
            ValueError: Tensors of the wrong shape.
            DeviceError: The frame does not fit in GPU memory.
        """
        if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 1:
            raise ConfigError(f"expected iterations to be an integer >= 1, got {iterations!r}")
        if isinstance(callback_every, bool) or not isinstance(callback_every, int) or callback_every < 1:
            raise ConfigError(f"expected callback_every to be an integer >= 1, got {callback_every!r}")
        levels = self.config.coarse_to_fine if coarse_to_fine is None else coarse_to_fine
        if isinstance(levels, bool) or not isinstance(levels, int) or levels < 1:
            raise ConfigError(f"expected coarse_to_fine to be an integer >= 1, got {levels!r}")
        content = _checked_image(content, "content").to(self.device, torch.float32)
        init = _checked_image(init, "init", content.shape).to(self.device, torch.float32)
        temporal = [_checked_temporal(t, content.shape, self.device) for t in temporal]
        try:
            return self._stylize(content, init, iterations, levels, temporal, callback, callback_every)
        except torch.cuda.OutOfMemoryError as exc:
            h, w = content.shape[-2:]
            raise DeviceError(
                f"expected a frame that fits in memory on {self.device}, got {w}x{h} which does not; "
                "reduce the frame size with --size"
            ) from exc

    @staticmethod
    def _levels(height: int, width: int, iterations: int, levels: int) -> list[tuple[int, int, int]]:
        if levels == 1:
            return [(height, width, iterations)]
        per_level = max(1, iterations // 2)
        return [(h, w, per_level) for h, w in coarse_to_fine_sizes(height, width, levels)]

    def _stylize(
        self,
        content: Tensor,
        init: Tensor,
        iterations: int,
        levels: int,
        temporal: list[TemporalTarget],
        callback: Callback | None,
        callback_every: int,
    ) -> StylizeResult:
        height, width = content.shape[-2:]
        image = init
        done = 0
        last: dict[str, Tensor] = {}
        for h, w, budget in self._levels(height, width, iterations, levels):
            if (h, w) == (height, width):
                level_content, level_temporal = content, temporal
            else:
                level_content = _resize(content, h, w)
                level_temporal = [TemporalTarget(_resize(t.warped, h, w), _resize(t.weight, h, w)) for t in temporal]
            if image.shape[-2:] != (h, w):
                image = _resize(image, h, w)
            image, ran, last = self._solve(level_content, image, budget, level_temporal, callback, callback_every, done)
            done += ran
        result = image.detach().clamp(0.0, 1.0)
        if self.config.original_colors:
            result = original_colors(result, content)
        values = torch.stack([last[name].detach().float() for name in TERMS]).tolist()
        return StylizeResult(result, dict(zip(TERMS, values)), done)

    def _optimizer(self, numel: int) -> LBFGS | Adam:
        cfg = self.config
        if cfg.optimizer == "lbfgs":
            return LBFGS(numel, history=cfg.lbfgs_history, lr=cfg.learning_rate, device=self.device)
        return Adam(numel, lr=cfg.learning_rate, device=self.device)

    def _solve(
        self,
        content: Tensor,
        init: Tensor,
        iterations: int,
        temporal: list[TemporalTarget],
        callback: Callback | None,
        callback_every: int,
        offset: int,
    ) -> tuple[Tensor, int, dict[str, Tensor]]:
        """One level: returns the (unclamped) image, iterations run and the last terms.

        Nothing in an iteration reads a tensor back to the host except the callback (every
        ``callback_every`` iterations) and the early-stopping test (every ``tolerance_window``).
        """
        cfg = self.config
        grams = self.style_grams(*content.shape[-2:])
        targets = self._content_targets(content)
        # The variable lives on the reference's 0–255 scale (see the module docstring), in the
        # encoder's memory format so that its gradient arrives in the same layout as the image.
        pixels = (init.detach() * PIXEL_SCALE).contiguous(memory_format=_MEMORY_FORMAT).requires_grad_(True)
        x = _flat(pixels.data)
        optimizer = self._optimizer(x.numel())
        # Without a line search (as in the reference) an L-BFGS step can overshoot badly, most
        # often in the first few iterations of a warm start, whose curvature estimate comes from
        # one tiny step. Every evaluated point is a candidate: the best one is returned, and a
        # step that makes the loss explode is taken back: the optimiser goes on from the best
        # point with a shorter step (artvid.optim.BACKTRACK), keeping its curvature pairs.
        best_loss = torch.full((), math.inf, device=self.device)
        best_x = x.clone()
        best_terms = torch.zeros(len(TERMS), device=self.device)
        terms = best_terms
        f_past: float | None = None
        ran = 0
        for i in range(iterations):
            pixels.grad = None
            evaluated = self._terms(pixels / PIXEL_SCALE, targets, grams, temporal)
            evaluated["total"].backward()
            grad = _flat(pixels.grad.contiguous(memory_format=_MEMORY_FORMAT))
            terms = torch.stack([evaluated[name].detach().float() for name in TERMS])
            loss = terms[-1]
            exploded = ~torch.isfinite(loss) | (loss > _RESTART_FACTOR * best_loss)
            improved = loss < best_loss
            best_loss = torch.where(improved, loss, best_loss)
            best_terms = torch.where(improved, terms, best_terms)
            best_x.copy_(torch.where(improved, x, best_x))
            optimizer.step(x, grad, rejected=exploded)
            x.copy_(torch.where(exploded, best_x, x))
            ran = i + 1
            is_last = ran == iterations
            if callback is not None and (ran % callback_every == 0 or is_last):
                callback(offset + i, dict(zip(TERMS, terms.tolist())))
            if cfg.tolerance > 0 and ran % cfg.tolerance_window == 0 and not is_last:
                f = float(loss)
                if f_past is not None and abs(f - f_past) <= cfg.tolerance * abs(f_past):
                    logger.debug("stopping after %d iterations: relative loss change below %g", ran, cfg.tolerance)
                    break
                f_past = f
        if ran >= _TRUST_LAST_AFTER and bool(best_loss == terms[-1]):
            # A settled run whose last evaluated point was its best: take the last step without
            # paying a forward pass to check it, as the reference does (losses are then those
            # of the point before it).
            return _unflat(x, pixels) / PIXEL_SCALE, ran, dict(zip(TERMS, best_terms))
        # A short or unsettled run: the last step's destination decides with one forward pass.
        with torch.no_grad():
            final = self._terms(pixels / PIXEL_SCALE, targets, grams, temporal)
        final_terms = torch.stack([final[name].float() for name in TERMS])
        improved = final_terms[-1] < best_loss
        best_terms = torch.where(improved, final_terms, best_terms)
        best_x.copy_(torch.where(improved, x, best_x))
        return _unflat(best_x, pixels) / PIXEL_SCALE, ran, dict(zip(TERMS, best_terms))


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


def coarse_to_fine_sizes(height: int, width: int, levels: int) -> list[tuple[int, int]]:
    """The ``(h, w)`` of each coarse-to-fine level of a ``height × width`` frame, coarsest first.

    Raises:
        ConfigError: The coarsest level would have a side under ``MIN_LEVEL_SIDE`` pixels.
    """
    sizes = [(round(height / 2**k), round(width / 2**k)) for k in range(levels - 1, -1, -1)]
    if min(sizes[0]) < MIN_LEVEL_SIDE:
        raise ConfigError(
            f"expected frames of at least {MIN_LEVEL_SIDE * 2 ** (levels - 1)} px on the short side "
            f"for coarse_to_fine={levels}, got {width}x{height}; use fewer levels"
        )
    return sizes


def style_target_size(style_hw: Sequence[int], height: int, width: int, scale: float) -> tuple[int, int]:
    """``(h, w)`` of a style image resized to the frame's area × ``scale²``, aspect ratio kept.

    Args:
        style_hw: The style image's ``(height, width)``.
        height: Frame height.
        width: Frame width.
        scale: ``StylizeConfig.style_scale``.

    Returns:
        The target size, each side at least 1.
    """
    sh, sw = int(style_hw[0]), int(style_hw[1])
    factor = math.sqrt(height * width / (sh * sw)) * scale
    return max(1, round(sh * factor)), max(1, round(sw * factor))


def _resize(image: Tensor, height: int, width: int) -> Tensor:
    antialias = height < image.shape[-2]
    return F.interpolate(image, size=(height, width), mode="bilinear", align_corners=False, antialias=antialias)


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
