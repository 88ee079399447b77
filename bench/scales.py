"""Multi-scale against direct rendering at one size: time, per-frame loss, flicker, large strokes.

Renders the first ``--frames`` frames of a real clip (default: ``../shared/data/video/
mmflow_demo_sintel.mp4``) at a long side of ``--size`` px twice with the same preset: directly
(``--scales 1``) and with the multi-scale default (``--scales auto``), and prints side by side:

* total wall time (flow included; the two renders share no flow: each size is computed once);
* per-frame loss at ``--size`` (content_weight · content loss + style_weight · style loss, the
  stylizer's own terms, evaluated on the output frames by ``artvid compare``), as the mean over
  frames and the worst frame's ratio;
* the masked warping error (Ruder et al. 2016; DeepFlow on the content);
* the style loss measured at 256 px (the match of the painting's large strokes).

Targets (issue "HD output"): multi-scale <= 0.5x the direct time, per-frame loss <= 1.02x,
warping error <= 1.1x, style loss at 256 px clearly lower. It also writes one frame of each side
by side to ``--still`` when given.

    python bench/scales.py                           # 12 frames at 512 px, balanced preset
    python bench/scales.py --size 1024 --frames 3 --still docs/scales_1024.png
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
from artvid import images, video
from artvid.config import build_config
from artvid.rendering.scales import scale_sides
from artvid.video import write_frames

ROOT = Path(__file__).resolve().parents[1]
CLIP = ROOT.parent / "shared" / "data" / "video" / "mmflow_demo_sintel.mp4"
LARGE_STROKES = 256


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", type=Path, default=CLIP)
    parser.add_argument("--style", type=Path, default=ROOT / "examples" / "starry_night.jpg")
    parser.add_argument("--frames", type=int, default=12)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--quality", default="balanced")
    parser.add_argument("--scales", default="auto", help="The multi-scale setting to measure (default: the default).")
    parser.add_argument("--scale-iterations", type=int, default=None, help="Override the preset's budget above the first scale.")
    parser.add_argument("--scale-iterations-first", type=int, default=None,
                        help="Override the preset's budget of a shot's first frame above the first scale.")
    parser.add_argument("--work", type=Path, default=None, help="Keep the renders here (default: a temporary folder).")
    parser.add_argument("--still", type=Path, default=None, help="Write the middle frame of both side by side here.")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        clip = work / "clip"
        clip.mkdir(parents=True, exist_ok=True)
        write_frames(clip, video.iter_frames(args.clip, size=args.size, stop=args.frames))
        sides = scale_sides(args.scales, args.size)
        seconds = {}
        extra = {name: getattr(args, name) for name in ("scale_iterations", "scale_iterations_first")
                 if getattr(args, name) is not None}
        for name, scales in (("direct", "1"), ("multi", args.scales)):
            started = time.perf_counter()
            artvid.render(clip, args.style, f"{work / name}/", device="cpu", cache_dir=work / "cache",
                          quality=args.quality, cuts="0", scales=scales, **extra)
            seconds[name] = time.perf_counter() - started
        outputs = [work / "direct", work / "multi"]
        names = ("direct", "multi")
        at_size = artvid.compare_clips(clip, outputs, names=names, style=args.style, device="cpu",
                                       cache_dir=work / "cache", size=args.size)
        at_256 = artvid.compare_clips(clip, outputs, names=names, style=args.style, device="cpu",
                                      cache_dir=work / "cache", size=LARGE_STROKES)
        if args.still:
            middle = args.frames // 2 + 1
            pair = [images.load_image(work / n / f"{middle:06d}.png") for n in names]
            gap = np.full((pair[0].shape[0], 8, 3), 255, np.uint8)
            args.still.parent.mkdir(parents=True, exist_ok=True)
            images.save_image(args.still, np.concatenate([pair[0], gap, pair[1]], axis=1))
    weights = build_config(args.quality).stylize
    loss = {n: {r["frame"]: weights.content_weight * r["content_loss"] + weights.style_weight * r["style_loss"]
                for r in at_size.rows if r["input"] == n} for n in names}
    mean_loss = {n: statistics.mean(loss[n].values()) for n in names}
    worst = max(loss["multi"][f] / loss["direct"][f] for f in loss["direct"])
    warp = {n: at_size.summary[n]["ruder"] for n in names}
    style_256 = {n: at_256.summary[n]["style_loss"] for n in names}
    rows = [
        ("time, multi-scale / direct", seconds["multi"] / seconds["direct"], "<= 0.5"),
        (f"per-frame loss at {args.size} px, mean", mean_loss["multi"] / mean_loss["direct"], "<= 1.02"),
        (f"per-frame loss at {args.size} px, worst frame", worst, ""),
        ("warping error", warp["multi"] / warp["direct"], "<= 1.1"),
        (f"style loss at {LARGE_STROKES} px", style_256["multi"] / style_256["direct"], "clearly < 1"),
    ]
    print(f"clip: {args.clip.name}, {args.frames} frames at {args.size} px, preset {args.quality}; "
          f"multi-scale sides {list(sides)} (--scales {args.scales})")
    print(f"seconds: direct {seconds['direct']:.0f}, multi-scale {seconds['multi']:.0f}")
    print(f"per-frame loss at {args.size} px: direct {mean_loss['direct']:.4g}, multi {mean_loss['multi']:.4g}; "
          f"warping error: direct {warp['direct']:.5f}, multi {warp['multi']:.5f}; style loss at "
          f"{LARGE_STROKES} px: direct {style_256['direct']:.4g}, multi {style_256['multi']:.4g}")
    for label, value, target in rows:
        print(f"  {label:44s} {value:6.3f}  {target}")
    if args.still:
        print(f"still frame {args.frames // 2 + 1} (direct left, multi-scale right): {args.still}")
    if args.json:
        per_frame = {n: [loss[n][f] for f in sorted(loss[n])] for n in names}
        args.json.write_text(json.dumps({"seconds": seconds, "sides": list(sides), "rows": rows,
                                         "per_frame_loss": per_frame}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
