"""Settings of ``artvid compare``: :class:`CompareConfig` and the names it reserves.

Every field is declared with :func:`artvid.settings.setting`, so the command line can build its
options (type, choices, default, help, bounds) from this dataclass alone. This module imports
nothing heavy: the CLI imports it to build ``artvid compare`` without numpy, OpenCV or torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from artvid.errors import ConfigError
from artvid.files import name_part
from artvid.settings import setting

DEFAULT_MAX_SIDE = 512
"""Default evaluation long side: CONTENT's own long side, capped at this many pixels."""

REFERENCE_NAME = "content"
"""Row name of the CONTENT clip (the reference floor)."""

def check_flow_method(method: object) -> None:
    """Refuse a flow estimator name that is not registered (the one place compare checks it).

    Args:
        method: The estimator name from the configuration.

    Raises:
        ConfigError: ``method`` is not one of :func:`flow.method_names`.
    """
    import flow

    names = flow.method_names()
    if method not in names:
        raise ConfigError(f"flow method: expected {' or '.join(repr(n) for n in names)}, got {method!r}")


@dataclass(frozen=True)
class CompareConfig:
    """Settings of a comparison.

    Attributes:
        names: One display name per STYLIZED input (default: each file's stem, made unique).
        style: Style image for the style loss; without it the style loss is not computed.
        gt_flow: Sintel-layout ground-truth folder used instead of estimated flow (see
            :mod:`artvid.compare.flows`).
        flow_method: Estimator for CONTENT's flow when ``gt_flow`` is not given.
        long_term: Frame interval of the long-term RMSE (CCPL uses 10).
        size: Evaluation long side in pixels; None = CONTENT's long side capped at
            :data:`DEFAULT_MAX_SIDE`. Every input is resized to CONTENT's frame size at it.
        device: ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"mps"`` for the VGG encoder,
            resolved once by :func:`artvid.device.resolve_device` when a comparison starts.
        weights: VGG19 weights (see :func:`artvid.encoder.load_encoder`).
        perceptual: Compute style/content losses (needs the VGG encoder); False gives temporal
            metrics only.
        cache_dir: Flow cache root (None = :func:`artvid.flowcache.default_cache_dir`).
        workers: Flow worker threads (None = all cores).
        cuts: Where CONTENT cuts to a new shot (``"120,340"``, ``"0"`` = none, ``"auto"`` =
            detected, see :mod:`artvid.shots`): estimated-flow pairs across a cut are not scored.
        frames: Score only the first this many frames of every input (each needs at least as
            many); None = all of CONTENT's, which every STYLIZED input must then have exactly.
    """

    names: tuple[str, ...] | None = setting(None, help="Comma-separated display names, one per STYLIZED input.")
    style: Path | None = setting(None, help="Style image for the style loss (required with --baselines).")
    gt_flow: Path | None = setting(
        None, help="Sintel-layout ground truth (flow/, occlusions/, invalid/) instead of estimated flow."
    )
    flow_method: str = setting(
        "deepflow", help="Estimator for CONTENT's flow (differs from render's default on purpose)."
    )
    long_term: int = setting(10, help="Interval of the long-term metric.", min=2)
    size: int | None = setting(None, help="Evaluation long side (default: CONTENT's, capped at 512).", min=16)
    device: str = setting("auto", help="auto, cpu, cuda, cuda:N or mps.")
    weights: str = setting("original", help="VGG19 weights for the style and content losses.")
    perceptual: bool = setting(True, help="Compute style and content losses (needs the VGG encoder).")
    cache_dir: Path | None = setting(None, help="Flow cache root.")
    workers: int | None = setting(None, help="Flow worker threads (default: all cores).", min=1)
    cuts: str = setting(
        "auto", help="Frames (numbered from 1) where CONTENT cuts to a new shot, e.g. 120,340; 0 = none; auto = detect."
    )
    frames: int | None = setting(
        None, help="Score only the first N frames of every input (default: all of CONTENT's, as many in each input).",
        min=2,
    )

    def __post_init__(self) -> None:
        from artvid.shots.cuts import normalise_cuts

        object.__setattr__(self, "cuts", normalise_cuts(self.cuts))
        check_flow_method(self.flow_method)
        if isinstance(self.long_term, bool) or not isinstance(self.long_term, int) or self.long_term < 2:
            raise ConfigError(f"long-term interval: expected an integer >= 2, got {self.long_term!r}")
        if self.frames is not None and (isinstance(self.frames, bool) or not isinstance(self.frames, int)
                                        or self.frames < 2):
            raise ConfigError(f"frames: expected an integer >= 2 or None, got {self.frames!r}")
        if self.size is not None and (isinstance(self.size, bool) or not isinstance(self.size, int) or self.size < 16):
            raise ConfigError(f"size: expected a long side of at least 16 pixels or None, got {self.size!r}")
        if self.names is not None:
            names = tuple(self.names)
            object.__setattr__(self, "names", names)
            bad = [n for n in names if not isinstance(n, str) or not n.strip() or "," in n]
            if bad:
                raise ConfigError(f"names: expected non-empty names without commas, got {bad!r}")
            if len(set(names)) != len(names) or REFERENCE_NAME in names:
                raise ConfigError(f"names: expected unique names other than {REFERENCE_NAME!r}, got {list(names)!r}")
        for attr in ("style", "gt_flow", "cache_dir"):
            value = getattr(self, attr)
            if value is not None and not isinstance(value, Path):
                object.__setattr__(self, attr, Path(value))


def default_report_dir(content: str | Path) -> Path:
    """``compare-<clip>`` in the current folder (the clip's name cut to 100 bytes)."""
    return Path(f"compare-{name_part(Path(content).stem)}")
