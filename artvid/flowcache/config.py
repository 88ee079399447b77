"""What a flow cache computes: the flow settings of a clip, the pairs, and where the cache lives."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import flow
from artvid.errors import ConfigError
from artvid.settings import setting


@dataclass(frozen=True)
class FlowConfig:
    """How flow is computed for a clip.

    Attributes:
        method: A registered flow method (``flow.method_names()``): ``"dis"`` (OpenCV DIS, fast),
            ``"deepflow"`` (OpenCV DeepFlow, the estimator of Ruder et al.; slower) or one
            registered with ``flow.register``.
        params: Overrides of the method's parameters (see ``flow.default_params``), as
            ``(name, value)`` pairs. Unknown names and values of the wrong kind are rejected.
        long_term: Frame offsets J whose pairs ``(i - j, i)`` are computed. ``(1,)`` is short-term
            only, the reference implementation's default; the paper's long-term experiments used
            ``(1, 10, 20, 40)``. Each extra offset costs one more flow pair per frame, so long-term
            is opt-in: it pays off on clips where objects occlude and reveal the background.
        check: The consistency check used for reliability (``flow.reliability``'s ``check``).
    """

    method: str = setting("dis", help="Optical-flow estimator.")
    params: tuple[tuple[str, Any], ...] = setting(
        (), help="Overrides of the method's parameters.", hidden="set from Python: (name, value) pairs"
    )
    long_term: tuple[int, ...] = setting((1,), help="Temporal offsets J, comma-separated (paper's long-term: 1,10,20,40).", min=1)
    check: str = setting(
        default_factory=lambda: flow.DEFAULT_CHECK, help="Consistency check for the reliability masks."
    )

    def __post_init__(self) -> None:
        if self.method not in flow.method_names():
            raise ConfigError(
                f"unknown flow method {self.method!r}: expected one of {', '.join(flow.method_names())}"
            )
        if not self.long_term or any(int(j) != j or j < 1 for j in self.long_term):
            raise ConfigError(f"long-term offsets must be positive integers, got {self.long_term!r}")
        if tuple(sorted(set(self.long_term))) != tuple(self.long_term):
            object.__setattr__(self, "long_term", tuple(sorted(set(int(j) for j in self.long_term))))
        if self.check not in flow.CHECKS:
            raise ConfigError(f"unknown consistency check {self.check!r}: expected one of {', '.join(flow.CHECKS)}")
        try:
            self.resolved_params()
        except flow.FlowError as exc:
            raise ConfigError(str(exc)) from None

    @property
    def estimator(self) -> flow.FlowEstimator:
        """The registered estimator of :attr:`method`."""
        return flow.get_estimator(self.method)

    def resolved_params(self) -> dict[str, Any]:
        """Every parameter of the method with its value: ``params`` completed and validated by
        the estimator (for DIS, an overridden ``preset`` supplies the tunables left out).

        Raises:
            FlowMethodError: for an unknown method or parameter, or a value of the wrong kind.
        """
        return flow.resolve_params(self.method, dict(self.params))


@dataclass(frozen=True)
class FlowPair:
    """Flow from frame ``i`` to frame ``j`` and its reliability, both on ``i``'s grid.

    Attributes:
        flow: ``(H, W, 2) float32``, pixels, ``frame_i(p) ≈ frame_j(p + flow(p))``.
        reliability: ``(H, W) float32`` in [0, 1], 1 = trustworthy.
    """

    flow: np.ndarray
    reliability: np.ndarray


def default_cache_dir() -> Path:
    """The cache root: ``$ARTVID_CACHE``, else ``$XDG_CACHE_HOME/artvid/flow``, else ``~/.cache/artvid/flow``."""
    if os.environ.get("ARTVID_CACHE"):
        return Path(os.environ["ARTVID_CACHE"]).expanduser()
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "artvid" / "flow"
