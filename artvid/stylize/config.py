"""Settings of the per-frame optimisation (:class:`StylizeConfig`).

The command line builds its options from these fields (:func:`artvid.settings.setting` carries
each one's help and bounds), so a default lives here only.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal, get_args

from artvid.encoder import LAYER_NAMES
from artvid.errors import ConfigError
from artvid.settings import is_finite_number, setting

OptimizerName = Literal["lbfgs", "adam"]
Pooling = Literal["max", "avg"]
ContentLevels = Literal["none", "stretch"]


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
        content_levels: ``"none"``: the content frame as it is (Gatys, Ruder); ``"stretch"``: a
            low-contrast shot's levels are stretched before it is stylized, every frame of the
            shot by one map (:class:`artvid.levels.ShotLevels`; a still by its own,
            :func:`artvid.levels.stretch_levels`), so that dark or flat footage keeps its scene
            as well-exposed footage does; shots whose levels span enough are left as they are.
        amp: Run the VGG19 pass in bfloat16 autocast on CUDA (image, losses and optimiser stay
            float32), on GPUs with bf16 tensor cores (Ampere and later; older ones would emulate
            it, slower than float32). No effect on other devices.
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
    content_levels: ContentLevels = setting(
        "stretch", help="Stretch a low-contrast shot's levels (one map per shot) before stylizing it (none: as it is, the paper preset's)."
    )
    amp: bool = setting(True, help="bfloat16 autocast for the VGG19 pass on CUDA GPUs from Ampere on (no effect elsewhere).")

    def __post_init__(self) -> None:
        for name in ("content_weight", "style_weight", "tv_weight", "temporal_weight"):
            value = getattr(self, name)
            if not is_finite_number(value) or value < 0:
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
                not is_finite_number(w) or w < 0 for w in blend
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
        if self.content_levels not in get_args(ContentLevels):
            raise ConfigError(f"expected content_levels in {get_args(ContentLevels)}, got {self.content_levels!r}")
        if self.pooling not in get_args(Pooling):
            raise ConfigError(f"expected pooling in {get_args(Pooling)}, got {self.pooling!r}")
        for name in ("lbfgs_history", "tolerance_window", "coarse_to_fine"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"expected {name} to be an integer >= 1, got {value!r}")
        tol = self.tolerance
        if not is_finite_number(tol) or tol < 0:
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
    if not is_finite_number(value) or value <= 0:
        raise ConfigError(f"expected {name} to be a finite number > 0, got {value!r}")
