"""Compare stylised versions of one clip: temporal consistency, style loss, content loss.

:func:`run_compare` is the library side of ``artvid compare``. It streams CONTENT and every
STYLIZED input in lockstep at one common evaluation size, keeps only the frames the temporal
metrics still need (a window of ``long_term + 1`` frames per input), and scores the CONTENT clip
itself as the reference floor row.

Which frame pairs the temporal metrics use (see :mod:`artvid.metrics` for the formulas):

* Estimated flow (default). Flow is computed on CONTENT with ``flow_method`` (DeepFlow by
  default, a different estimator than ``artvid render``'s DIS, so no method is graded by its own
  flow) through the flow cache. For frame ``t`` the short-term pair warps ``O_{t−1}`` onto ``t``'s
  grid with ``flow_cur_to_prev`` (``t → t−1``) and weights pixels by that flow's reliability
  (forward-backward consistency, on ``t``'s grid); the long-term pair does the same with
  ``t → t−long_term``.
* Ground-truth flow (``gt_flow``, MPI-Sintel layout). ``DIR/flow/frame_%04d.flo`` number ``k``
  holds the flow from CONTENT frame ``k`` to ``k+1`` on frame ``k``'s grid, with frames numbered
  from 1 as Sintel does (0-based frame index ``i`` is file number ``i+1``). Since only this
  forward flow exists, the pair ending at frame ``t`` is evaluated on frame ``t−1``'s grid:
  ``O_t`` is warped onto it by ``flow_{t−1 → t}`` and compared with ``O_{t−1}``, with weight
  ``M = not occluded (DIR/occlusions, 255 = occluded) and not invalid (DIR/invalid, optional)
  and p + flow(p) inside the frame``. This is exactly Lai et al.'s evaluation direction. Pairs
  without a ``.flo`` file are not evaluated (their cells are empty); long-term metrics need flow
  ``long_term`` frames apart, which Sintel does not provide, so they are not evaluated.

Per-frame rows attribute the pair ``(t−1, t)`` to frame ``t`` (and ``(t−k, t)`` to ``t``);
frame 0 has no temporal values. Summaries average the evaluated pairs (NaN-free) and the
perceptual losses over all frames.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np

import flow
from artvid import metrics
from artvid.device import resolve_device
from artvid.errors import ArtvidError, CompareError, ConfigError
from artvid.settings import setting

logger = logging.getLogger(__name__)

DEFAULT_MAX_SIDE = 512
"""Default evaluation long side: CONTENT's own long side, capped at this many pixels."""

REFERENCE_NAME = "content"
"""Row name of the CONTENT clip (the reference floor)."""

FlowMethod = Literal["dis", "deepflow"]


@dataclass(frozen=True)
class CompareConfig:
    """Settings of a comparison.

    Attributes:
        names: One display name per STYLIZED input (default: each file's stem, made unique).
        style: Style image for the style loss; without it the style loss is not computed.
        gt_flow: Sintel-layout ground-truth folder used instead of estimated flow (see the
            module docstring).
        flow_method: Estimator for CONTENT's flow when ``gt_flow`` is not given.
        long_term: Frame interval of the long-term RMSE (CCPL uses 10).
        size: Evaluation long side in pixels; None = CONTENT's long side capped at
            :data:`DEFAULT_MAX_SIDE`. Every input is resized to CONTENT's frame size at it.
        device: ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"auto"`` for the VGG encoder.
        weights: VGG19 weights (see :func:`artvid.encoder.load_encoder`).
        perceptual: Compute style/content losses (needs the VGG encoder); False gives temporal
            metrics only.
        cache_dir: Flow cache root (None = :func:`artvid.flowcache.default_cache_dir`).
        workers: Flow worker threads (None = all cores).
    """

    names: tuple[str, ...] | None = setting(None, help="Comma-separated display names, one per STYLIZED input.")
    style: Path | None = setting(None, help="Style image for the style loss (required with --baselines).")
    gt_flow: Path | None = setting(
        None, help="Sintel-layout ground truth (flow/, occlusions/, invalid/) instead of estimated flow."
    )
    flow_method: FlowMethod = setting(
        "deepflow", help="Estimator for CONTENT's flow (differs from render's default on purpose)."
    )
    long_term: int = setting(10, help="Interval of the long-term metric.", min=2)
    size: int | None = setting(None, help="Evaluation long side (default: CONTENT's, capped at 512).", min=16)
    device: str = setting("cpu", help="auto, cpu, cuda, cuda:N or mps.")
    weights: str = setting("original", help="VGG19 weights for the style and content losses.")
    perceptual: bool = setting(True, help="Compute style and content losses (needs the VGG encoder).")
    cache_dir: Path | None = setting(None, help="Flow cache root.")
    workers: int | None = setting(None, help="Flow worker threads (default: all cores).", min=1)

    def __post_init__(self) -> None:
        if self.flow_method not in ("dis", "deepflow"):
            raise ConfigError(f"flow method: expected 'dis' or 'deepflow', got {self.flow_method!r}")
        if isinstance(self.long_term, bool) or not isinstance(self.long_term, int) or self.long_term < 2:
            raise ConfigError(f"long-term interval: expected an integer >= 2, got {self.long_term!r}")
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


# --------------------------------------------------------------------------------------------
# Inputs


def default_names(paths: Sequence[Path]) -> tuple[str, ...]:
    """Display names for inputs without ``names``: each path's stem, made unique (``x``, ``x_2``)."""
    names: list[str] = []
    for path in paths:
        base = (path.stem or path.name or "input").replace(",", "_")
        if base == REFERENCE_NAME:
            base = f"{base}_input"
        name, k = base, 2
        while name in names:
            name, k = f"{base}_{k}", k + 1
        names.append(name)
    return tuple(names)




def _probe(path: Path, role: str):
    from artvid import video

    if not path.exists():
        raise CompareError(f"{role} {path}: expected a video file or an image folder, got a missing path")
    try:
        return video.probe(path)
    except ArtvidError as exc:
        raise CompareError(f"{role} {path}: cannot be read ({exc})") from None


def _eval_size(width: int, height: int, size: int | None) -> tuple[int, int, int]:
    """``(long side, width, height)`` of the evaluation grid."""
    from artvid.images import fit_long_side

    long_side = size if size is not None else min(max(width, height), DEFAULT_MAX_SIDE)
    eval_w, eval_h = fit_long_side(width, height, long_side)
    return long_side, eval_w, eval_h


def _resize_to(frame: np.ndarray, width: int, height: int) -> np.ndarray:
    if frame.shape[1] == width and frame.shape[0] == height:
        return frame
    shrinking = frame.shape[0] * frame.shape[1] > width * height
    return cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)


def _frames(path: Path, role: str, size: int | None, expected: int) -> Iterator[np.ndarray]:
    """Frames of one input, checked to be exactly ``expected`` of them."""
    from artvid import video

    count = 0
    try:
        for frame in video.iter_frames(path, size=size):
            if count == expected:
                raise CompareError(f"{role} {path}: expected {expected} frames like CONTENT, got more")
            count += 1
            yield frame
    except CompareError:
        raise
    except ArtvidError as exc:
        raise CompareError(f"{role} {path}: cannot be read at frame {count} ({exc})") from None
    if count != expected:
        raise CompareError(f"{role} {path}: expected {expected} frames like CONTENT, got {count}")


def iter_aligned(result: CompareResult) -> Iterator[list[np.ndarray]]:
    """The frames of every compared clip again, at the evaluation size, one list per frame.

    Streams the files, so memory holds one frame per input. Used by the report's side-by-side
    video.

    Yields:
        ``[content frame, stylized frame, ...]``, each ``(height, width, 3) uint8``, in
        ``result.inputs`` order.
    """
    long_side = max(result.width, result.height)
    streams = [
        _frames(i.path, "CONTENT" if i.is_reference else "STYLIZED", long_side if i.is_reference else None, result.frame_count)
        for i in result.inputs
    ]
    for _ in range(result.frame_count):
        yield [_resize_to(next(s), result.width, result.height) for s in streams]


# --------------------------------------------------------------------------------------------
# Flow sources: for the pair ending at frame t, which frame is the grid, which is warped, the
# flow from grid to other and the validity weight on the grid.


@dataclass(frozen=True)
class _PairSpec:
    grid: int
    other: int
    flow_grid_to_other: np.ndarray
    weight: np.ndarray


class _EstimatedFlow:
    """Backward pairs ``t → t−k`` from the flow cache (reliability as weight)."""

    def __init__(self, content: Path, long_side: int, frame_count: int, config: CompareConfig, progress: bool) -> None:
        from artvid.flowcache import FlowCache, FlowConfig, default_cache_dir

        self.offsets = (1, config.long_term) if config.long_term < frame_count else (1,)
        self.cache = FlowCache(
            config.cache_dir or default_cache_dir(),
            content,
            long_side,
            FlowConfig(method=config.flow_method, long_term=self.offsets),
        )
        pairs = [(t - k, t) for t in range(1, frame_count) for k in self.offsets if t - k >= 0]
        self.cache.ensure(pairs, workers=config.workers, progress=progress)
        self.describe = {"flow": f"estimated ({config.flow_method}, flow cache {self.cache.dir})"}

    def pair(self, t: int, k: int) -> _PairSpec | None:
        if k not in self.offsets or t - k < 0:
            return None
        got = self.cache.get(t, t - k)
        return _PairSpec(t, t - k, got.flow, got.reliability)


class _GroundTruthFlow:
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

    def pair(self, t: int, k: int) -> _PairSpec | None:
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
        return _PairSpec(grid, t, flow_fw, valid)

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


# --------------------------------------------------------------------------------------------
# Perceptual metrics


class _Perceptual:
    """Style loss to the style image and content loss to the content frame, batched per frame."""

    def __init__(self, config: CompareConfig, width: int, height: int) -> None:
        import torch

        from artvid import losses
        from artvid.encoder import load_encoder
        from artvid.images import load_image

        self.torch = torch
        self.device = resolve_device(config.device)
        layers = metrics.STYLE_LAYERS + (metrics.CONTENT_LAYER,)
        # channels_last convolutions run about 20% faster on CPU (oneDNN); results agree to 1e-6.
        self.encoder = load_encoder(config.weights, layers=layers, device=self.device).to(
            memory_format=torch.channels_last
        )
        self.grams = None
        if config.style is not None:
            try:
                style = load_image(config.style)
            except ArtvidError as exc:
                raise CompareError(f"style image {config.style}: cannot be read ({exc})") from None
            # Ruder et al.'s style scale 1: the style image gets the frame's pixel count.
            scale = math.sqrt(width * height / (style.shape[0] * style.shape[1]))
            style = _resize_to(style, max(1, round(style.shape[1] * scale)), max(1, round(style.shape[0] * scale)))
            with torch.inference_mode():
                feats = self.encoder(self._batch([style]))
                self.grams = {layer: losses.gram_matrix(feats[layer]) for layer in metrics.STYLE_LAYERS}

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


# --------------------------------------------------------------------------------------------


def run_compare(
    content: Path, stylized: Sequence[Path], config: CompareConfig = CompareConfig(), progress: bool = True
) -> CompareResult:
    """Score each STYLIZED clip (and CONTENT itself, the reference floor) on every metric.

    Args:
        content: The content clip (video file or image folder).
        stylized: Stylised versions of it (video files or image folders), each with CONTENT's
            frame count; any frame size (everything is resized to CONTENT's evaluation size).
        config: Metric settings.
        progress: Show progress bars on stderr.

    Returns:
        Per-frame rows and per-input summaries.

    Raises:
        CompareError: An input is missing or unreadable, has another frame count than CONTENT,
            or the ground-truth flow does not fit (message names the file).
        ConfigError: ``config.names`` does not match the inputs, or a bad device.
        FlowCacheError, WeightsError: The flow cache or VGG weights cannot be used.
    """
    content = Path(content)
    stylized = [Path(p) for p in stylized]
    if not stylized:
        raise ConfigError("expected at least one STYLIZED input, got none")
    names = config.names if config.names is not None else default_names(stylized)
    if len(names) != len(stylized):
        raise ConfigError(f"names: expected {len(stylized)} names (one per STYLIZED input), got {len(names)}")

    info = _probe(content, "CONTENT")
    n = info.frame_count
    if n < 2:
        raise CompareError(f"CONTENT {content}: expected at least 2 frames, got {n}")
    inputs = [CompareInput(REFERENCE_NAME, content, True, info.width, info.height)]
    for name, path in zip(names, stylized):
        other = _probe(path, "STYLIZED")
        if other.frame_count != n:
            raise CompareError(f"STYLIZED {path}: expected {n} frames like CONTENT, got {other.frame_count}")
        inputs.append(CompareInput(name, path, False, other.width, other.height))

    long_side, width, height = _eval_size(info.width, info.height, config.size)
    if config.gt_flow is not None:
        source: Any = _GroundTruthFlow(config.gt_flow, (info.width, info.height), (width, height), n)
    else:
        source = _EstimatedFlow(content, long_side, n, config, progress)
    perceptual = _Perceptual(config, width, height) if config.perceptual else None

    metric_names = list(metrics.TEMPORAL_METRICS)
    if perceptual is not None:
        metric_names += (["style_loss"] if perceptual.grams is not None else []) + ["content_loss"]
    temporal = (("short", 1), ("long", config.long_term))

    streams = [_frames(content, "CONTENT", long_side, n)] + [_frames(p, "STYLIZED", None, n) for p in stylized]
    window: deque[np.ndarray] = deque(maxlen=config.long_term + 1)  # (H, W, 3·inputs) float32 per frame
    rows: list[dict[str, Any]] = []
    from tqdm import tqdm

    for t in tqdm(range(n), desc="compare", unit="frame", disable=not progress, dynamic_ncols=True):
        frames = [_resize_to(next(s), width, height) for s in streams]
        if frames[0].shape[:2] != (height, width):
            raise CompareError(f"CONTENT {content}: expected frames of {width}x{height}, got {frames[0].shape[1]}x{frames[0].shape[0]}")
        # All inputs side by side along channels: one warp per pair serves every input.
        window.append(np.concatenate(frames, axis=2).astype(np.float32) / 255.0)
        values = [{"input": i.name, "frame": t} | {m: math.nan for m in metric_names} for i in inputs]
        for which, k in temporal:
            spec = source.pair(t, k)
            if spec is None:
                continue
            stack = {idx: window[len(window) - 1 - (t - idx)] for idx in (spec.grid, spec.other)}
            warped = flow.warp(stack[spec.other], spec.flow_grid_to_other, border="replicate")
            weight = metrics.valid_weight(spec.flow_grid_to_other, spec.weight)
            for b, row in enumerate(values):
                sl = slice(3 * b, 3 * b + 3)
                errs = metrics.errors_from_warped(stack[spec.grid][..., sl], warped[..., sl], weight)
                if which == "short":
                    row.update(ruder=errs["ruder"], lai_ewarp=errs["lai_ewarp"], rmse_short=errs["rmse"])
                else:
                    row["rmse_long"] = errs["rmse"]
        if perceptual is not None:
            for row, loss in zip(values, perceptual.losses(frames)):
                row.update(loss)
        rows.extend(values)
    for stream in streams:
        # Each generator raises if a frame is left over.
        for _ in stream:
            pass

    summary = {
        i.name: {m: metrics.nanmean([r[m] for r in rows if r["input"] == i.name]) for m in metric_names} for i in inputs
    }
    counts = {m: sum(1 for r in rows if r["input"] == REFERENCE_NAME and math.isfinite(r[m])) for m in metric_names}
    settings = {
        "long_term": config.long_term,
        "size": long_side,
        "style": config.style,
        "device": str(perceptual.device) if perceptual is not None else None,
        "weights": config.weights if perceptual is not None else None,
        **source.describe,
    }
    return CompareResult(
        content=content,
        inputs=tuple(inputs),
        width=width,
        height=height,
        fps=Fraction(info.fps),
        frame_count=n,
        metric_names=tuple(metric_names),
        rows=rows,
        summary=summary,
        pair_counts=counts,
        settings=settings,
    )
