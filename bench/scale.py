"""Chunked rendering of one long shot: seams, quality and speed against an unchunked render.

Renders one continuous real shot (default: the first 40 frames of
``../shared/data/video/mmflow_demo_sintel.mp4`` at a long side of 128 px) three ways:

1. unchunked, local backend (today's single chain of frames);
2. split into ``--chunks`` chunks (keyframes + chunks pulled onto the next keyframe), on Ray with
   1 worker;
3. the same chunked plan on Ray with 2 workers (one torch thread each).

and prints side by side: the masked warping error (Ruder et al. 2016, DeepFlow on the content) at
the seam pairs (the pair ending on each keyframe after the first) against the unchunked render's
median pair, the overall warping error and style loss of both, the wall time of 1 and 2 workers,
and, from the plan alone, the critical path of a 1000-frame shot with 8 and 64 workers.

Targets (issue "Real footage at scale"): seam pairs <= 1.5x the unchunked median pair; overall
warping error <= 1.15x and style loss <= 1.05x unchunked; 2 workers >= 1.7x faster than 1.

    python bench/scale.py                      # default preset, ~30 min on 2 CPU cores
    python bench/scale.py --quality draft      # quicker
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

import artvid
from artvid import video
from artvid.flowcache import FlowCache, FlowConfig
from artvid.multipass import ScheduleConfig
from artvid.rendering import make_plan
from artvid.video import write_frames

ROOT = Path(__file__).resolve().parents[1]
CLIP = ROOT.parent / "shared" / "data" / "video" / "mmflow_demo_sintel.mp4"


def extract(clip: Path, frames: int, size: int, folder: Path) -> Path:
    """The first ``frames`` frames of ``clip`` at a long side of ``size`` px, as a PNG folder."""
    folder.mkdir(parents=True, exist_ok=True)
    write_frames(folder, video.iter_frames(clip, size=size, stop=frames))
    return folder


def keyframes(frames: int, chunk_frames: int) -> list[int]:
    """0-based keyframes of the chunked plan after the first (each ends a seam pair)."""
    plan = make_plan(frames, ScheduleConfig(chunk_frames=chunk_frames))
    return sorted({u.steps[0].frame for u in plan.units if "-key" in u.key} - {0})


def timed_render(clip: Path, style: Path, out: Path, cache: Path, **settings) -> float:
    started = time.perf_counter()
    artvid.render(clip, style, f"{out}/", device="cpu", cache_dir=cache, **settings)
    return time.perf_counter() - started


def frames_of(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.png"))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", type=Path, default=CLIP)
    parser.add_argument("--style", type=Path, default=ROOT / "examples" / "starry_night.jpg")
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--chunks", type=int, default=4)
    parser.add_argument("--quality", default="balanced")
    parser.add_argument("--work", type=Path, default=None, help="Keep the renders here (default: a temporary folder).")
    parser.add_argument("--json", type=Path, default=None, help="Also write the results as JSON here.")
    args = parser.parse_args()
    chunk_frames = math.ceil(args.frames / args.chunks)
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        cache = work / "cache"
        clip = extract(args.clip, args.frames, args.size, work / "clip")
        common = {"quality": args.quality, "cuts": "0"}  # one continuous shot: no detection
        seconds = {"unchunked": timed_render(clip, args.style, work / "unchunked", cache, **common)}
        # Flow of the chunked plan cached first (the unchunked render computed it already), so
        # neither timed run pays for it.
        chunked = make_plan(args.frames, ScheduleConfig(chunk_frames=chunk_frames, cuts="0"))
        FlowCache(cache, clip, None, FlowConfig()).ensure(list(chunked.flow_pairs), progress=False)
        import ray

        # One Ray session for both runs (a second ray.init in one process is not reliable).
        ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
        for workers in (1, 2):
            seconds[f"ray{workers}"] = timed_render(
                clip, args.style, work / f"ray{workers}", cache, chunk_frames=chunk_frames, backend="ray",
                ray_workers=workers, **common,
            )
        identical = frames_of(work / "ray1") == frames_of(work / "ray2")
        result = artvid.compare_clips(
            clip, [work / "unchunked", work / "ray2"], names=("unchunked", "chunked"), style=args.style,
            device="cpu", cache_dir=cache,
        )
    per_frame = {name: {r["frame"]: r["ruder"] for r in result.rows if r["input"] == name} for name in ("unchunked", "chunked")}
    seams = keyframes(args.frames, chunk_frames)
    median_pair = statistics.median(v for f, v in per_frame["unchunked"].items() if f > 0)
    seam_error = statistics.mean(per_frame["chunked"][k] for k in seams)
    unchunked_at_seams = statistics.mean(per_frame["unchunked"][k] for k in seams)
    overall = {n: result.summary[n]["ruder"] for n in per_frame}
    style = {n: result.summary[n]["style_loss"] for n in per_frame}
    long_shot = {
        "frames": {w: make_plan(1000, ScheduleConfig(chunk_frames=25)).critical_path(w) for w in (8, 64)},
        "iterations": {w: make_plan(1000, ScheduleConfig(chunk_frames=25)).critical_path(w, True) for w in (8, 64)},
        "unchunked_frames": 1000,
    }
    rows = [
        ("seam pairs / unchunked median pair", seam_error / median_pair, "<= 1.5"),
        ("(unchunked at the same pairs / its median)", unchunked_at_seams / median_pair, ""),
        ("overall warping error, chunked / unchunked", overall["chunked"] / overall["unchunked"], "<= 1.15"),
        ("style loss, chunked / unchunked", style["chunked"] / style["unchunked"], "<= 1.05"),
        ("speed, 2 workers / 1 worker", seconds["ray1"] / seconds["ray2"], ">= 1.7"),
    ]
    print(f"clip: {args.clip.name}, {args.frames} frames at {args.size} px, {args.chunks} chunks of "
          f"{chunk_frames} (keyframes {[k + 1 for k in seams]} after the first), preset {args.quality}")
    print(f"seconds: unchunked local {seconds['unchunked']:.0f}, chunked Ray 1 worker {seconds['ray1']:.0f}, "
          f"2 workers {seconds['ray2']:.0f}; 1- and 2-worker frames byte-identical: {identical}")
    print(f"warping error: unchunked {overall['unchunked']:.5f} (median pair {median_pair:.5f}), chunked "
          f"{overall['chunked']:.5f}, chunked seam pairs {seam_error:.5f}; style loss: unchunked "
          f"{style['unchunked']:.4g}, chunked {style['chunked']:.4g}")
    for label, value, target in rows:
        print(f"  {label:48s} {value:6.3f}  {target}")
    print("critical path of a 1000-frame shot in chunks of 25 (frames one after another; iterations): "
          + ", ".join(f"{w} workers: {long_shot['frames'][w]} frames, {long_shot['iterations'][w]} iterations"
                      for w in (8, 64))
          + " (unchunked: 1000 frames at any worker count)")
    if args.json:
        args.json.write_text(json.dumps({"seconds": seconds, "identical": identical, "rows": rows, "long_shot": long_shot}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
