"""Content drift over long clips: does the picture keep following the scene, frame after frame?

For each real clip (``--clip``, repeatable; default the dark
``../shared/data/video/mmflow_demo_sintel.mp4`` and the well-lit ``examples/bunny.mp4``, their first
``--frames`` frames at ``--size`` px) and each preset (``--quality``, repeatable; default balanced
and draft), renders the clip in one pass and measures per frame:

* the **edge correlation** (:func:`artvid.metrics.edge_correlation`): Pearson correlation between
  the gradient-magnitude images of the output frame and its content frame (grayscale, σ = 1 px
  pre-blur); 1 = every edge of the scene is there;
* the **content loss** (relu4_2 feature MSE against the content frame, unweighted, as
  ``artvid compare`` reports it), and the **style loss** beside it (a style that fades over the
  clip shows as a rising style loss);
* the **warping error** (Ruder's E_temp, DeepFlow on the content as ``artvid compare``, or
  ``--metric-flow dis``), next to the content clip's own (its floor: what a "stylization" that
  is the content itself scores), and that floor scaled by the output's luma variance over the
  content's (a dark clip's floor is low because its frames are: a stylization with a
  painting's contrast cannot reach it).

Beside them, a few frames spread evenly over the clip (``--samples``) are solved independently
(no temporal term, started from the content, with the preset's first-frame budget) together
with their next frame, which gives the independent per-frame baseline's content loss, edge
correlation and warping error. The render is compared with it on the same pairs: a clip's
warping error varies tenfold between its calm and its fast stretches, the content's own with
it, so the whole clip's mean against a few pairs' would compare different frames (that ratio
is printed too, without a target).

Targets (issue "Long clips keep their subject"): edge correlation of the last 10 frames >= 0.85x
the first frame's; their mean content loss <= 1.15x the first 10 frames'; warping error <= 1.5x
the content's own and, on the sampled pairs, <= 0.2x the independent baseline's.

    python bench/drift.py                                  # 50 frames at 128 px, balanced and draft, both clips
    python bench/drift.py --set warp_interpolation=bilinear --plot /tmp/drift-bilinear.png
    python bench/drift.py --work DIR && python bench/drift.py --work DIR --metric-flow dis   # graded by both flows
    python bench/drift.py --replot new.json=defaults --replot old.json=Ruder --plot docs/drift.png
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import artvid
import flow
from artvid import images, metrics, video
from artvid.config import build_config, split_settings
from artvid.errors import ArtvidError
from artvid.video import write_frames

ROOT = Path(__file__).resolve().parents[1]
CLIPS = (ROOT.parent / "shared" / "data" / "video" / "mmflow_demo_sintel.mp4", ROOT / "examples" / "bunny.mp4")
WINDOW = 10
"""Frames averaged at the start and at the end of the clip."""


def _value(text: str):
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _frames(folder: Path) -> list[np.ndarray]:
    return [images.load_image(p) for p in sorted(folder.glob("*.png"))]


def _scores(content_dir: Path, output_dir: Path, style: Path, work: Path, metric_flow: str) -> dict[str, list[float]]:
    """Per-frame edge correlation, content loss and warping error (NaN on the first frame)."""
    result = artvid.compare_clips(content_dir, [output_dir], names=("out",), style=style, device="cpu",
                                  cache_dir=work / "cache", flow_method=metric_flow)
    rows = {name: sorted((r for r in result.rows if r["input"] == name), key=lambda r: r["frame"])
            for name in ("out", "content")}
    outputs, contents = _frames(output_dir), _frames(content_dir)
    correlation = [metrics.edge_correlation(o, c) for o, c in zip(outputs, contents)]
    return {"edge_correlation": correlation, "content_loss": [r["content_loss"] for r in rows["out"]],
            "luma_variance": [float(metrics.luma(o).var(dtype=np.float64)) for o in outputs],
            "content_luma_variance": [float(metrics.luma(c).var(dtype=np.float64)) for c in contents],
            "style_loss": [r["style_loss"] for r in rows["out"]],
            "warp": [r["ruder"] for r in rows["out"]], "warp_floor": [r["ruder"] for r in rows["content"]]}


def _independent(content_dir: Path, frames: list[int], style: Path, quality: str, work: Path,
                 settings: dict, metric_flow: str) -> dict[str, float]:
    """Frames ``t`` and ``t + 1`` solved independently with the first-frame budget, for each ``t``."""
    budget = build_config(quality, **split_settings(settings)).schedule.iterations_first
    paths = sorted(content_dir.glob("*.png"))
    rows = []
    for t in frames:
        pair = work / f"pair-{t + 1:03d}"
        pair.mkdir(parents=True, exist_ok=True)
        for k in (0, 1):
            target = pair / f"{k + 1:06d}.png"
            if not target.exists():
                target.write_bytes(paths[t + k].read_bytes())
        out = work / f"pair-{t + 1:03d}-out"
        artvid.render(pair, style, f"{out}/", device="cpu", cache_dir=work / "cache", quality=quality, cuts="0",
                      progress=False, **{**settings, "temporal_weight": 0.0, "init": "content", "iterations": budget})
        rows.append(_scores(pair, out, style, work, metric_flow))
    pair_warp = [r["warp"][1] for r in rows]
    return {
        "frames": list(frames),
        "edge_correlation": statistics.mean(v for r in rows for v in r["edge_correlation"]),
        "content_loss": statistics.mean(v for r in rows for v in r["content_loss"]),
        "warp": statistics.mean(pair_warp),
        "pair_warp": pair_warp,
    }


def _summary(scores: dict[str, list[float]], independent: dict[str, float]) -> dict[str, float]:
    corr, content = scores["edge_correlation"], scores["content_loss"]
    warp = statistics.mean(scores["warp"][1:])
    floor = statistics.mean(scores["warp_floor"][1:])
    return {
        "edge_correlation_first": corr[0],
        "edge_correlation_last": statistics.mean(corr[-WINDOW:]),
        "edge_correlation_ratio": statistics.mean(corr[-WINDOW:]) / corr[0],
        "content_loss_ratio": statistics.mean(content[-WINDOW:]) / statistics.mean(content[:WINDOW]),
        "style_loss_ratio": statistics.mean(scores["style_loss"][-WINDOW:]) / statistics.mean(scores["style_loss"][:WINDOW]),
        "warp": warp,
        "warp_over_floor": warp / floor,
        # On the same pairs: a clip's warping error varies tenfold between calm and fast stretches
        # (the content's own floor with it), so the whole clip's mean against a few pairs' would
        # compare different frames.
        "warp_over_independent": statistics.mean(scores["warp"][t + 1] for t in independent["frames"])
        / independent["warp"],
        "warp_clip_over_independent": warp / independent["warp"],
        # A painting has its own contrast: on a dark clip even a stylization that is a fixed
        # function of the content (gain g) scores g² times the content's warping error.
        "warp_over_floor_at_output_contrast": warp / floor
        * statistics.mean(scores["content_luma_variance"]) / statistics.mean(scores["luma_variance"]),
        "independent_edge_correlation": independent["edge_correlation"],
    }


TARGETS = {"edge_correlation_ratio": ">= 0.85", "content_loss_ratio": "<= 1.15",
           "style_loss_ratio": "(no target: above 1, the style fades)", "warp_over_floor": "<= 1.5",
           "warp_over_independent": "<= 0.2 (the render's pairs against the baseline's, the same frames)",
           "warp_clip_over_independent": "(no target: the whole clip's mean against the baseline's pairs)",
           "warp_over_floor_at_output_contrast": "(no target: the floor scaled by the output's luma variance)"}


def _plot(results: dict, path: Path) -> None:
    from artvid.report import _prepare_matplotlib

    _prepare_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 9))
    FigureCanvasAgg(fig)
    axes = fig.subplots(3, 1, sharex=True)
    for label, entry in results.items():
        frames = np.arange(1, len(entry["scores"]["edge_correlation"]) + 1)
        for ax, key in zip(axes, ("edge_correlation", "content_loss")):
            line, = ax.plot(frames, entry["scores"][key], marker=".", label=label)
            ax.axhline(entry["independent"][key], color=line.get_color(), linestyle=":", linewidth=1)
        line, = axes[2].plot(frames[1:], entry["scores"]["warp"][1:], marker=".", label=label)
        if "pair_warp" in entry["independent"]:
            axes[2].plot([t + 2 for t in entry["independent"]["frames"]], entry["independent"]["pair_warp"],
                         linestyle="none", marker="x", color=line.get_color())
    floors = {label.split(" ")[0]: entry["scores"]["warp_floor"] for label, entry in results.items()}
    for (clip, floor), style in zip(floors.items(), ("-", "--", ":", "-.")):
        axes[2].plot(np.arange(2, len(floor) + 1), floor[1:], color="grey", linewidth=1, linestyle=style,
                     label=f"{clip}, the content's own")
    axes[0].set_ylabel("edge correlation (higher: the scene is kept)")
    axes[1].set_ylabel("content loss (relu4_2 MSE)")
    axes[2].set_ylabel("warping error")
    axes[2].set_yscale("log")
    axes[2].set_xlabel("frame")
    axes[0].set_title("Per frame; dotted and ×: independent per-frame solves (first-frame budget)")
    axes[2].legend(fontsize="small")
    axes[0].legend(fontsize="small")
    for ax in axes:
        ax.grid(True, alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", type=Path, action="append",
                        help="A real clip (repeatable; default: the Sintel demo and examples/bunny.mp4).")
    parser.add_argument("--style", type=Path, default=ROOT / "examples" / "starry_night.jpg")
    parser.add_argument("--frames", type=int, default=50)
    parser.add_argument("--start", type=int, default=0, help="First frame of the clip to use (0-based).")
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--quality", action="append", help="Preset (repeatable; default: balanced and draft).")
    parser.add_argument("--samples", type=int, default=4,
                        help="Frame pairs solved independently as the baseline, spread evenly over the clip.")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="A render setting for every render, e.g. warp_interpolation=bilinear (repeatable).")
    parser.add_argument("--metric-flow", choices=flow.method_names(), default="deepflow",
                        help="Flow the warping error is measured with (default DeepFlow: renders use DIS, so "
                             "they are not graded by their own flow).")
    parser.add_argument("--work", type=Path, default=None,
                        help="Keep the renders here (default: a temporary folder); a later run with the same "
                             "folder resumes them, e.g. to score them again with --metric-flow dis.")
    parser.add_argument("--plot", type=Path, default=None, help="Write the per-frame plot here (PNG).")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--replot", action="append", default=[], metavar="FILE.json=LABEL",
                        help="Draw --plot from earlier --json results instead of rendering, each run's label "
                             "suffixed with LABEL (repeatable), e.g. to show two settings in one plot.")
    args = parser.parse_args()
    if args.replot:
        merged = {}
        for item in args.replot:
            path, _, suffix = item.partition("=")
            merged.update({f"{label}{', ' + suffix if suffix else ''}": entry
                           for label, entry in json.loads(Path(path).read_text()).items()})
        _plot(merged, args.plot or Path("drift.png"))
        return 0
    clips = args.clip or list(CLIPS)
    presets = args.quality or ["balanced", "draft"]
    settings = {name: _value(value) for name, value in (item.split("=", 1) for item in args.set)}
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = args.work or Path(tmp)
        for clip in clips:
            content_dir = root / clip.stem / "clip"
            content_dir.mkdir(parents=True, exist_ok=True)
            write_frames(content_dir, video.iter_frames(clip, size=args.size, start=args.start,
                                                        stop=args.start + args.frames))
            count = len(list(content_dir.glob("*.png")))
            if count < 2:
                print(f"drift.py: {clip} has {count} frames from frame {args.start + 1}; expected at least 2",
                      file=sys.stderr)
                return 1
            sampled = [round(k * (count - 2) / max(1, args.samples - 1)) for k in range(args.samples)]
            for quality in presets:
                work = root / clip.stem / quality
                work.mkdir(parents=True, exist_ok=True)
                started = time.perf_counter()
                artvid.render(content_dir, args.style, f"{work / 'out'}/", device="cpu", cache_dir=root / "cache",
                              quality=quality, cuts="0", progress=False, **settings)
                seconds = time.perf_counter() - started
                scores = _scores(content_dir, work / "out", args.style, root, args.metric_flow)
                independent = _independent(content_dir, sampled, args.style, quality, work / "independent", settings,
                                           args.metric_flow)
                label = f"{clip.stem} {quality}"
                results[label] = {"seconds": seconds, "scores": scores, "independent": independent,
                                  "summary": _summary(scores, independent)}
    print(f"{args.frames} frames from frame {args.start + 1} at {args.size} px, one pass; settings {settings or 'default'}; "
          f"warping error with {args.metric_flow}")
    for label, entry in results.items():
        s = entry["summary"]
        print(f"{label}: {entry['seconds']:.0f} s; edge correlation first {s['edge_correlation_first']:.3f}, "
              f"last {WINDOW} {s['edge_correlation_last']:.3f} (independent {s['independent_edge_correlation']:.3f}); "
              f"warping error {s['warp']:.5f}")
        for key, target in TARGETS.items():
            print(f"  {key:34s} {s[key]:7.3f}  {target}")
    if args.plot:
        _plot(results, args.plot)
        print(f"plot: {args.plot}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=float))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except ArtvidError as exc:  # a missing or unreadable clip or style: one line, as the CLI says it
        sys.exit(f"drift.py: {exc}")
