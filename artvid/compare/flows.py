"""Where the temporal metrics' frame pairs come from: estimated flow or Sintel ground truth.

A flow source answers, for the pair ending at frame ``t`` and ``k`` frames long, which frame is
the grid, which frame is warped onto it, the flow from grid to other and the validity weight on
the grid (:class:`PairSpec`), or None when the pair is not evaluated.

* Estimated flow (default, :class:`EstimatedFlow`). Flow is computed on CONTENT with
  ``flow_method`` (DeepFlow by default, a different estimator than ``artvid render``'s DIS, so
  no method is graded by its own flow) through the flow cache. For frame ``t`` the short-term
  pair warps ``O_{t−1}`` onto ``t``'s grid with ``flow_cur_to_prev`` (``t → t−1``) and weights
  pixels by that flow's reliability (forward-backward consistency, on ``t``'s grid); the
  long-term pair does the same with ``t → t−long_term``.
* Ground-truth flow (``gt_flow``, MPI-Sintel layout, :class:`GroundTruthFlow`).
  ``DIR/flow/frame_%04d.flo`` number ``k`` holds the flow from CONTENT frame ``k`` to ``k+1`` on
  frame ``k``'s grid, with frames numbered from 1 as Sintel does (0-based frame index ``i`` is
  file number ``i+1``). Since only this forward flow exists, the pair ending at frame ``t`` is
  evaluated on frame ``t−1``'s grid: ``O_t`` is warped onto it by ``flow_{t−1 → t}`` and
  compared with ``O_{t−1}``, with weight ``M = not occluded (DIR/occlusions, 255 = occluded)
  and not invalid (DIR/invalid, optional) and p + flow(p) inside the frame``. This is exactly
  Lai et al.'s evaluation direction. Pairs without a ``.flo`` file are not evaluated (their
  cells are empty); long-term metrics need flow ``long_term`` frames apart, which Sintel does
  not provide, so they are not evaluated.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

import flow
from artvid.compare.config import CompareConfig
from artvid.errors import CompareError


@dataclass(frozen=True)
class PairSpec:
    """One evaluated frame pair.

    Attributes:
        grid: Frame index whose grid the pair is evaluated on.
        other: Frame index warped onto ``grid``.
        flow_grid_to_other: ``(H, W, 2) float32`` flow on ``grid``'s grid.
        weight: ``(H, W) float32`` validity in ``[0, 1]`` on ``grid``'s grid.
    """

    grid: int
    other: int
    flow_grid_to_other: np.ndarray
    weight: np.ndarray


class FlowSource(Protocol):
    """What the comparison loop needs from a flow source."""

    describe: dict
    """Entries for :attr:`artvid.compare.CompareResult.settings` (at least ``"flow"``)."""

    def pair(self, t: int, k: int) -> PairSpec | None:
        """The pair ending at frame ``t`` spanning ``k`` frames, or None if not evaluated."""


class EstimatedFlow:
    """Backward pairs ``t → t−k`` from the flow cache (reliability as weight)."""

    def __init__(self, content: Path, long_side: int, frame_count: int, config: CompareConfig, progress: bool) -> None:
        from artvid.flowcache import FlowCache, FlowConfig, default_cache_dir

        self.offsets = (1, config.long_term) if config.long_term < frame_count else (1,)
        self.cache = FlowCache(
            config.cache_dir or default_cache_dir(),
            content,
            long_side,
            FlowConfig(method=config.flow_method, long_term=self.offsets),
            upscale=True,  # the evaluation size, like the frames, may enlarge CONTENT
        )
        from artvid.shots.cuts import crosses_cut, resolve_cuts

        # No temporal error across a cut: those pairs are neither computed nor evaluated.
        self.cuts = resolve_cuts(content, config.cuts, frame_count)
        pairs = [
            (t - k, t) for t in range(1, frame_count) for k in self.offsets
            if t - k >= 0 and not crosses_cut(t - k, t, self.cuts)
        ]
        self.cache.ensure(pairs, workers=config.workers, progress=progress)
        self.describe = {"flow": f"estimated ({config.flow_method}, flow cache {self.cache.dir})"}

    def pair(self, t: int, k: int) -> PairSpec | None:
        from artvid.shots.cuts import crosses_cut

        if k not in self.offsets or t - k < 0 or crosses_cut(t - k, t, self.cuts):
            return None
        got = self.cache.get(t, t - k)
        return PairSpec(t, t - k, got.flow, got.reliability)


class GroundTruthFlow:
    """Forward Sintel pairs ``t−1 → t`` from ``.flo`` files and occlusion/invalid masks."""

    def __init__(self, folder: Path, native: tuple[int, int], size: tuple[int, int], frame_count: int) -> None:
        self.folder = folder
        self.native = native
        self.size = size
        flow_dir = folder / "flow"
        if not flow_dir.is_dir():
            raise CompareError(f"ground truth {folder}: expected a Sintel folder with flow/frame_%04d.flo, got no flow/ folder")
        self.available = [t for t in range(1, frame_count) if self._flo(t - 1).exists()]
        if not self.available:
            raise CompareError(
                f"ground truth {flow_dir}: expected frame_%04d.flo files for frames 1..{frame_count - 1}, got none"
            )
        self.describe = {"flow": f"ground truth ({folder})", "gt_pairs": [(t - 1, t) for t in self.available]}

    def _flo(self, index: int) -> Path:
        return self.folder / "flow" / f"frame_{index + 1:04d}.flo"

    def _mask(self, sub: str, index: int) -> Path:
        return self.folder / sub / f"frame_{index + 1:04d}.png"

    def _read(self, path: Path, reader) -> np.ndarray:
        try:
            data = reader(path)
        except flow.FlowError as exc:
            raise CompareError(f"ground truth {path}: cannot be read ({exc})") from None
        native_w, native_h = self.native
        if data.shape[:2] != (native_h, native_w):
            raise CompareError(
                f"ground truth {path}: expected size {native_w}x{native_h} like CONTENT, got {data.shape[1]}x{data.shape[0]}"
            )
        return data

    def pair(self, t: int, k: int) -> PairSpec | None:
        if k != 1 or t not in self.available:
            return None
        grid = t - 1
        flow_fw = self._read(self._flo(grid), flow.read_flo)
        occ_path = self._mask("occlusions", grid)
        if not occ_path.exists():
            raise CompareError(f"ground truth {occ_path}: expected an occlusion mask next to {self._flo(grid).name}, got none")
        valid = 1.0 - (self._read(occ_path, flow.read_mask) >= 0.5)
        invalid_path = self._mask("invalid", grid)
        if invalid_path.exists():
            valid = valid * (self._read(invalid_path, flow.read_mask) < 0.5)
        valid = valid.astype(np.float32)
        flow_fw, valid = self._rescale(flow_fw, valid)
        return PairSpec(grid, t, flow_fw, valid)

    def _rescale(self, flow_fw: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        (native_w, native_h), (eval_w, eval_h) = self.native, self.size
        if (native_w, native_h) == (eval_w, eval_h):
            return flow_fw, valid
        # Flow vectors scale with the image; a pixel stays valid only if all of its source area was.
        resized = cv2.resize(flow_fw, (eval_w, eval_h), interpolation=cv2.INTER_LINEAR)
        resized[..., 0] *= eval_w / native_w
        resized[..., 1] *= eval_h / native_h
        area = cv2.resize(valid, (eval_w, eval_h), interpolation=cv2.INTER_AREA)
        return resized.astype(np.float32), (area > 0.999).astype(np.float32)


def flow_source(
    content: Path,
    native: tuple[int, int],
    long_side: int,
    size: tuple[int, int],
    frame_count: int,
    config: CompareConfig,
    progress: bool,
) -> FlowSource:
    """The flow source ``config`` asks for: Sintel ground truth if ``gt_flow`` is set, else estimated.

    Args:
        content: The CONTENT clip.
        native: CONTENT's native ``(width, height)``.
        long_side: CONTENT's evaluation long side (the flow cache's size).
        size: Evaluation ``(width, height)``.
        frame_count: CONTENT's frame count.
        config: Comparison settings (``gt_flow``, ``flow_method``, ``long_term``, cache, workers).
        progress: Show the flow cache's progress bar on stderr.

    Returns:
        The source; estimated flow is computed into the cache before this returns.

    Raises:
        CompareError: The ground-truth folder has no usable ``flow/``.
        FlowCacheError: The flow cache cannot be used.
    """
    if config.gt_flow is not None:
        return GroundTruthFlow(config.gt_flow, native, size, frame_count)
    return EstimatedFlow(content, long_side, frame_count, config, progress)
