"""Reports of ``artvid compare``: a table for stdout, JSON, CSV, a plot and a side-by-side video.

:func:`write_report` writes a report folder::

    metrics.csv      one row per input and frame: input, frame, then every metric (empty = not
                     evaluated, e.g. frame 0 has no temporal pair)
    summary.json     :meth:`CompareResult.to_json`: per-input means, pair counts, settings
    metrics.png      per-frame temporal error (Ruder) and style loss (content loss without a
                     style image) of every input
    side_by_side.mp4 CONTENT and every input next to each other, each labelled with its name,
                     at the evaluation size, for looking at flicker

The plot is drawn on matplotlib's non-interactive Agg canvas, never through pyplot's global
backend. matplotlib keeps its configuration and font cache in a private folder next to the flow
cache (``matplotlib`` beside :func:`artvid.flowcache.default_cache_dir`, so
``~/.cache/artvid/matplotlib`` by default) instead of ``~/.config/matplotlib``, unless the user
set ``MPLCONFIGDIR``; its font-manager log lines ("building the font cache") are silenced.
"""

from __future__ import annotations

import csv
import json
import logging
import math
import os
import sys
from pathlib import Path

import cv2
import numpy as np

from artvid.compare import CompareResult, iter_aligned
from artvid.errors import CompareError

logger = logging.getLogger(__name__)

METRIC_LABELS = {
    "ruder": "Ruder E_temp",
    "lai_ewarp": "Lai E_warp",
    "rmse_short": "RMSE short",
    "rmse_long": "RMSE long",
    "edge_correlation": "edge corr.",
    "style_loss": "style loss",
    "content_loss": "content loss",
}

_LABEL_HEIGHT = 18


def _fmt(value: float) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{value:.4g}"


def format_table(result: CompareResult) -> str:
    """A plain-text table, one row per input (CONTENT first, marked as the reference).

    Args:
        result: What :func:`artvid.compare.run_compare` returned.

    Returns:
        The table, lines joined by ``\\n``, ending with a line on how the metrics were computed.
    """
    header = ["input"] + [METRIC_LABELS.get(m, m) for m in result.metric_names]
    body = []
    for item in result.inputs:
        name = f"{item.name} (reference)" if item.is_reference else item.name
        body.append([name] + [_fmt(result.summary[item.name][m]) for m in result.metric_names])
    widths = [max(len(row[c]) for row in [header, *body]) for c in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(cell.ljust(widths[0]) if c == 0 else cell.rjust(widths[c]) for c, cell in enumerate(cells))

    pairs = ", ".join(f"{METRIC_LABELS.get(m, m)} {result.pair_counts.get(m, 0)}" for m in result.metric_names)
    footer = (
        f"{result.frame_count} frames at {result.width}x{result.height}; flow: {result.settings.get('flow')}; "
        f"evaluated pairs/frames: {pairs}; lower is better, except edge corr. (the scene's edges kept: 1 = all)"
    )
    return "\n".join([line(header), line(["-" * w for w in widths]), *(line(r) for r in body), footer])


def summary_json(result: CompareResult) -> str:
    """The JSON summary (``--json`` on stdout and ``summary.json``); NaN is written as null."""
    return json.dumps(result.to_json(), indent=2, sort_keys=False)


def write_csv(result: CompareResult, path: Path) -> Path:
    """Per-frame metrics: columns ``input, frame, <metric>...``; not-evaluated cells are empty."""
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["input", "frame", *result.metric_names])
        for row in result.rows:
            cells = [row[m] for m in result.metric_names]
            writer.writerow([row["input"], row["frame"], *("" if not math.isfinite(v) else repr(float(v)) for v in cells)])
    return path


def _matplotlib_dir() -> Path:
    """matplotlib's private config and font-cache folder: ``matplotlib`` beside the flow cache."""
    from artvid.flowcache import default_cache_dir

    return default_cache_dir().parent / "matplotlib"


def _prepare_matplotlib() -> None:
    """Point matplotlib at :func:`_matplotlib_dir` and quiet its font manager, before its import.

    matplotlib reads ``MPLCONFIGDIR`` once, when it is first imported; a process that imported it
    already (or a user who set ``MPLCONFIGDIR``) keeps its own folder.
    """
    if "matplotlib" not in sys.modules and not os.environ.get("MPLCONFIGDIR"):
        os.environ["MPLCONFIGDIR"] = str(_matplotlib_dir())
    # Building the font cache logs a warning, which reaches stderr even without logging set up.
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)


def write_plot(result: CompareResult, path: Path) -> Path:
    """Per-frame Ruder temporal error and style loss (or content loss) of every input, as PNG."""
    _prepare_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    perceptual = "style_loss" if "style_loss" in result.metric_names else "content_loss"
    panels = ["ruder"] + ([perceptual] if perceptual in result.metric_names else [])
    panels += [m for m in ("edge_correlation",) if m in result.metric_names]
    fig = Figure(figsize=(8, 3 * len(panels)))
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(panels), 1, squeeze=False, sharex=True)
    for ax, metric in zip(axes[:, 0], panels):
        for item in result.inputs:
            rows = [r for r in result.rows if r["input"] == item.name]
            frames = [r["frame"] for r in rows]
            values = [r[metric] for r in rows]
            style = "--" if item.is_reference else "-"
            ax.plot(frames, values, style, marker=".", label=item.name + (" (reference)" if item.is_reference else ""))
        ax.set_ylabel(METRIC_LABELS[metric])
        ax.grid(True, alpha=0.3)
    axes[0, 0].set_title(f"{result.content.name}: per-frame metrics (lower is better, except edge corr.)")
    axes[0, 0].legend(fontsize="small")
    axes[-1, 0].set_xlabel("frame")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return path


def _label(frame: np.ndarray, text: str) -> np.ndarray:
    """``frame`` under a black strip with ``text`` in white (never covering the image)."""
    strip = np.zeros((_LABEL_HEIGHT, frame.shape[1], 3), np.uint8)
    scale = 0.45
    (text_w, _), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    if text_w > frame.shape[1] - 4:
        scale *= (frame.shape[1] - 4) / text_w
    cv2.putText(strip, text, (2, _LABEL_HEIGHT - 5), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA)
    return np.concatenate([strip, frame], axis=0)


def tile(frames: list[np.ndarray], names: list[str], columns: int | None = None) -> np.ndarray:
    """Labelled frames in a grid (at most 3 per row unless ``columns`` says otherwise).

    Args:
        frames: ``(H, W, 3) uint8`` frames of one size.
        names: One label per frame.
        columns: Panels per row.

    Returns:
        ``(rows·(H + label), columns·W, 3) uint8``; empty grid cells are black.
    """
    columns = columns or min(len(frames), 3)
    labelled = [_label(f, n) for f, n in zip(frames, names)]
    blank = np.zeros_like(labelled[0])
    labelled += [blank] * (-len(labelled) % columns)
    rows = [np.concatenate(labelled[r : r + columns], axis=1) for r in range(0, len(labelled), columns)]
    return np.concatenate(rows, axis=0)


def write_side_by_side(result: CompareResult, path: Path) -> Path:
    """CONTENT and every input side by side, labelled, at CONTENT's frame rate (H.264 mp4)."""
    from artvid import video

    names = [i.name for i in result.inputs]
    writer = None
    try:
        for frames in iter_aligned(result):
            grid = tile(frames, names)
            if writer is None:
                writer = video.VideoWriter(path, result.fps, grid.shape[1], grid.shape[0])
            writer.write(grid)
        if writer is not None:
            writer.close()
            writer = None
    finally:
        if writer is not None:
            writer.abort()
    return path


def write_report(result: CompareResult, out_dir: Path, side_by_side: bool = True) -> dict[str, Path]:
    """Write ``metrics.csv``, ``summary.json``, ``metrics.png`` and ``side_by_side.mp4``.

    Args:
        result: What :func:`artvid.compare.run_compare` returned.
        out_dir: Report folder (created if missing; existing report files are replaced).
        side_by_side: Also write the side-by-side video (re-reads every input once).

    Returns:
        ``{"csv", "json", "plot"[, "video"]}`` → written paths.

    Raises:
        CompareError: The folder cannot be created or written.
        VideoWriteError: The video cannot be encoded.
    """
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        written = {
            "csv": write_csv(result, out_dir / "metrics.csv"),
            "json": out_dir / "summary.json",
        }
        written["json"].write_text(summary_json(result) + "\n")
        written["plot"] = write_plot(result, out_dir / "metrics.png")
    except OSError as exc:
        raise CompareError(f"report folder {out_dir}: expected a writable folder, got {exc.strerror or exc}") from None
    if side_by_side:
        written["video"] = write_side_by_side(result, out_dir / "side_by_side.mp4")
    logger.debug("report written to %s", out_dir)  # the command line says where, after its table
    return written
