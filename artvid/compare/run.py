"""The comparison itself: :func:`run_compare` scores every input on every metric.

It streams CONTENT and every STYLIZED input in lockstep at one common evaluation size
(:mod:`artvid.compare.sources`), keeps only the frames the temporal metrics still need (a window
of ``long_term + 1`` frames per input), takes each frame pair from a flow source
(:mod:`artvid.compare.flows`) and scores the CONTENT clip itself as the reference floor row. The
formulas are in :mod:`artvid.metrics`.

Per-frame rows attribute the pair ``(t−1, t)`` to frame ``t`` (and ``(t−k, t)`` to ``t``);
frame 0 has no temporal values. Summaries average the evaluated pairs (NaN-free) and the
perceptual losses over all frames.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from artvid import metrics
from artvid.compare.config import REFERENCE_NAME, CompareConfig
from artvid.compare.flows import flow_source
from artvid.compare.perceptual import PerceptualScorer
from artvid.compare.result import CompareInput, CompareResult
from artvid.compare.sources import aligned_frames, default_names, eval_size, probe
from artvid.device import resolve_device
from artvid.errors import CompareError, ConfigError


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
        ConfigError: ``config.names`` does not match the inputs.
        DeviceError: ``config.device`` is unknown or not available here (raised before any
            flow is computed).
        FlowCacheError, WeightsError: The flow cache or VGG weights cannot be used.
    """
    content = Path(content)
    stylized = [Path(p) for p in stylized]
    if not stylized:
        raise ConfigError("expected at least one STYLIZED input, got none")
    names = config.names if config.names is not None else default_names(stylized)
    if len(names) != len(stylized):
        raise ConfigError(f"names: expected {len(stylized)} names (one per STYLIZED input), got {len(names)}")

    n, info, inputs = _probe_inputs(content, stylized, names, config.frames)
    long_side, width, height = eval_size(info.width, info.height, config.size)
    # Resolved once, before minutes of flow, like render does.
    device = resolve_device(config.device) if config.perceptual else None
    source = flow_source(content, (info.width, info.height), long_side, (width, height), n, config, progress)
    perceptual = PerceptualScorer(device, config.weights, config.style, width, height) if device is not None else None

    metric_names = list(metrics.TEMPORAL_METRICS) + [metrics.EDGE_CORRELATION]
    if perceptual is not None:
        metric_names += perceptual.metric_names
    temporal = (("short", 1), ("long", config.long_term))

    window: deque[list[np.ndarray]] = deque(maxlen=config.long_term + 1)  # one frame per input, float32
    rows: list[dict[str, Any]] = []
    from tqdm import tqdm

    frame_lists = aligned_frames(inputs, long_side, width, height, n, exact=config.frames is None)
    bar = tqdm(frame_lists, total=n, desc="compare", unit="frame", disable=not progress, dynamic_ncols=True)
    for t, frames in enumerate(bar):
        window.append([frame.astype(np.float32) / 255.0 for frame in frames])
        values = [{"input": i.name, "frame": t} | {m: math.nan for m in metric_names} for i in inputs]
        for which, k in temporal:
            spec = source.pair(t, k)
            if spec is None:
                continue
            grid, other = (window[len(window) - 1 - (t - idx)] for idx in (spec.grid, spec.other))
            scores = metrics.pair_errors_batch(grid, other, spec.flow_grid_to_other, spec.weight)
            for row, errs in zip(values, scores):
                if which == "short":
                    row.update(ruder=errs["ruder"], lai_ewarp=errs["lai_ewarp"], rmse_short=errs["rmse"])
                else:
                    row["rmse_long"] = errs["rmse"]
        for row, frame in zip(values, frames):  # frames[0] is CONTENT's
            row[metrics.EDGE_CORRELATION] = metrics.edge_correlation(frame, frames[0])
        if perceptual is not None:
            for row, loss in zip(values, perceptual.losses(frames)):
                row.update(loss)
        rows.extend(values)

    summary = {
        i.name: {m: metrics.nanmean([r[m] for r in rows if r["input"] == i.name]) for m in metric_names} for i in inputs
    }
    counts = {m: sum(1 for r in rows if r["input"] == REFERENCE_NAME and math.isfinite(r[m])) for m in metric_names}
    settings = {
        "long_term": config.long_term,
        "frames": config.frames,
        "size": long_side,
        "style": config.style,
        "style_resampling": _style_resampling() if perceptual is not None and config.style is not None else None,
        "device": str(perceptual.device) if perceptual is not None else None,
        "weights": config.weights if perceptual is not None else None,
        **source.describe,
        "cuts": [c + 1 for c in getattr(source, "cuts", ())],
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


def _probe_inputs(content: Path, stylized: Sequence[Path], names: Sequence[str], frames: int | None):
    """The number of frames scored, CONTENT's :class:`artvid.video.VideoInfo` and every clip as a
    :class:`CompareInput`.

    Raises:
        CompareError: A clip is missing or unreadable, CONTENT has fewer than 2 frames (or fewer
            than ``frames``), or a STYLIZED clip has another frame count than CONTENT (fewer
            than ``frames`` when it is given).
    """
    info = probe(content, "CONTENT")
    n = info.frame_count
    if n < 2:
        raise CompareError(f"CONTENT {content}: expected at least 2 frames, got {n}")
    if frames is not None:
        if frames > n:
            raise CompareError(f"CONTENT {content}: expected at least {frames} frames (--frames), got {n}")
        n = frames
    inputs = [CompareInput(REFERENCE_NAME, content, True, info.width, info.height)]
    for name, path in zip(names, stylized):
        other = probe(path, "STYLIZED")
        if frames is not None and other.frame_count < n:
            raise CompareError(f"STYLIZED {path}: expected at least {n} frames (--frames), got {other.frame_count}")
        if frames is None and other.frame_count != n:
            shared = min(n, other.frame_count)
            hint = f"; --frames {shared} scores the first {shared} of every input" if shared >= 2 else ""
            raise CompareError(f"STYLIZED {path}: expected {n} frames like CONTENT, got {other.frame_count}{hint}")
        inputs.append(CompareInput(name, path, False, other.width, other.height))
    return n, info, inputs


def _style_resampling() -> str:
    from artvid.stylize import STYLE_RESAMPLING  # torch: only when the perceptual scorer exists

    return STYLE_RESAMPLING
