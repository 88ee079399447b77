"""The render configuration: one frozen dataclass per stage, composed, plus quality presets."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from artvid.errors import ConfigError
from artvid.flowcache import FlowConfig
from artvid.multipass import ScheduleConfig
from artvid.settings import setting
from artvid.stylize import StylizeConfig


class Quality(str, Enum):
    """Presets of iteration budgets. Explicit options override a preset."""

    DRAFT = "draft"
    BALANCED = "balanced"
    PAPER = "paper"


# What each preset changes from the dataclass defaults ("balanced" is the defaults themselves,
# the later-frame budgets chosen with bench/convergence.py: on the example clip they come within
# 5 % of the paper preset's final loss on every frame with 16 % of its iterations; a shot's first
# frame runs until its loss stops falling, tolerance_first, chosen with bench/drift.py so that the
# look the chain converges to is there from the first frame). "paper" is Ruder et al.'s
# published setting: 2000 iterations for the first frame (from noise), 1000 for the others, 100
# per frame in later passes, no coarse-to-fine, their weights (the defaults), the stylized image
# carried by the flow and the content frames as they are.
PRESETS: dict[Quality, dict[str, dict[str, Any]]] = {
    Quality.DRAFT: {
        "schedule": {"iterations_first": 400, "tolerance_first": 5e-3, "iterations": 30, "pass_iterations": 10,
                     "scale_iterations": 15, "scale_iterations_first": 50},
        "stylize": {},
    },
    Quality.BALANCED: {"schedule": {}, "stylize": {}},
    Quality.PAPER: {
        "schedule": {
            "iterations_first": 2000, "tolerance_first": None, "iterations": 1000, "pass_iterations": 100,
            "init_first": "random",
            "scale_iterations": 500, "scale_iterations_first": 1000, "scales": "1", "carry": "image",
        },
        "stylize": {"coarse_to_fine": 1, "content_levels": "none"},
    },
}


_SECTIONS = {"stylize": StylizeConfig, "flow": FlowConfig, "schedule": ScheduleConfig}
_FLAT_ALIASES = {"flow_method": ("flow", "method")}
"""Flat names that differ from the field's own: ``method`` alone would not say which method."""



@dataclass(frozen=True)
class RenderConfig:
    """Everything that determines the frames of a render.

    Attributes:
        stylize: Loss weights, layers, optimiser, encoder weights.
        flow: Flow method, parameters and long-term offsets.
        schedule: Passes, budgets and initialisation.
        size: Long side of the frames in pixels (None = the clip's size).
        upscale: Allow ``size`` above the clip's own long side; refused otherwise, since a typo
            such as ``--size 100000`` would ask for more memory than any machine has.
    """

    stylize: StylizeConfig = field(default_factory=StylizeConfig)
    flow: FlowConfig = field(default_factory=FlowConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    size: int | None = setting(None, help="Long side of the frames in pixels (default: native).", min=16)
    upscale: bool = setting(False, help="Allow a --size above the clip's own long side (enlarged frames).")

    def __post_init__(self) -> None:
        if self.size is not None and self.size < 16:
            raise ConfigError(f"size must be at least 16 pixels, got {self.size}")


def build_config(
    quality: Quality | str = Quality.BALANCED, size: int | None = None, upscale: bool = False, **overrides: dict[str, Any]
) -> RenderConfig:
    """A :class:`RenderConfig` from a preset and explicit per-stage overrides.

    Args:
        quality: The preset.
        size: Long side in pixels.
        upscale: Allow ``size`` above the clip's long side.
        **overrides: ``stylize=``, ``flow=``, ``schedule=`` dicts of field values that win over
            the preset.
    """
    try:
        preset = PRESETS[Quality(quality)]
    except ValueError:
        raise ConfigError(f"expected quality one of {[q.value for q in Quality]}, got {quality!r}") from None
    unknown = set(overrides) - set(_SECTIONS)
    if unknown:
        raise ConfigError(f"unknown configuration sections {sorted(unknown)}")
    built = {}
    for name, cls in _SECTIONS.items():
        values = {**preset.get(name, {}), **overrides.get(name, {})}
        unknown_fields = set(values) - {f.name for f in dataclasses.fields(cls)}
        if unknown_fields:
            raise ConfigError(f"unknown {name} settings {sorted(unknown_fields)}")
        built[name] = cls(**values)
    return RenderConfig(size=size, upscale=upscale, **built)


def split_settings(settings: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Flat settings (``style_weight=50``, ``passes=3``, ``flow_method="deepflow"``) by section.

    Every field name of :class:`StylizeConfig`, :class:`ScheduleConfig` and :class:`FlowConfig`
    is accepted as it is (no name is shared between them), the flow method as ``flow_method``.

    Raises:
        ConfigError: For a name that is no setting.
    """
    sections: dict[str, dict[str, Any]] = {name: {} for name in _SECTIONS}
    owners = {f.name: (section, f.name) for section, cls in _SECTIONS.items() for f in dataclasses.fields(cls)}
    del owners["method"]
    owners.update(_FLAT_ALIASES)
    unknown = sorted(set(settings) - set(owners))
    if unknown:
        raise ConfigError(f"unknown settings {unknown}: expected some of {sorted(owners)}")
    for name, value in settings.items():
        section, field_name = owners[name]
        sections[section][field_name] = value
    return sections


def to_dict(config: Any) -> Any:
    """A JSON-friendly view of a (nested) config: enums by value, tuples as lists."""
    if dataclasses.is_dataclass(config):
        return {f.name: to_dict(getattr(config, f.name)) for f in dataclasses.fields(config)}
    if isinstance(config, Enum):
        return config.value
    if isinstance(config, (tuple, list)):
        return [to_dict(v) for v in config]
    if isinstance(config, dict):
        return {str(k): to_dict(v) for k, v in config.items()}
    return config
