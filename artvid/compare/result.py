"""What a comparison returns: the compared clips and their per-frame and summary scores.

:class:`CompareResult` is plain data, written by :func:`artvid.compare.run_compare` and read by
:mod:`artvid.report`; :meth:`CompareResult.to_json` is the ``summary.json`` / ``--json`` form.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class CompareInput:
    """One compared clip: CONTENT (``is_reference``) or a STYLIZED input."""

    name: str
    path: Path
    is_reference: bool
    width: int
    height: int


@dataclass
class CompareResult:
    """Everything :func:`artvid.report.write_report` needs.

    Attributes:
        content: The CONTENT clip.
        inputs: CONTENT first, then every STYLIZED input in the given order.
        width, height: Evaluation frame size.
        fps: CONTENT's frame rate.
        frame_count: Frames per clip.
        metric_names: The metric columns, in order.
        rows: One dict per input and frame: ``{"input", "frame", <metric>: float (NaN = not evaluated)}``.
        summary: ``{input name: {metric: mean over evaluated pairs/frames}}``.
        pair_counts: ``{metric: number of evaluated pairs (temporal) or frames (perceptual)}``.
        settings: How the metrics were computed (flow source, intervals, size, …).
    """

    content: Path
    inputs: tuple[CompareInput, ...]
    width: int
    height: int
    fps: Fraction
    frame_count: int
    metric_names: tuple[str, ...]
    rows: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, dict[str, float]] = field(default_factory=dict)
    pair_counts: dict[str, int] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (NaN becomes None) with the summary, inputs and settings."""
        return {
            "content": str(self.content),
            "frame_count": self.frame_count,
            "size": [self.width, self.height],
            "fps": str(self.fps),
            "metrics": list(self.metric_names),
            "inputs": [
                {"name": i.name, "path": str(i.path), "reference": i.is_reference, "native_size": [i.width, i.height]}
                for i in self.inputs
            ],
            "summary": {name: {k: _json_float(v) for k, v in values.items()} for name, values in self.summary.items()},
            "pairs": dict(self.pair_counts),
            "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in self.settings.items()},
        }


def _json_float(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)
