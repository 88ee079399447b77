"""Time ``run_compare`` on a 100-frame clip at 256 px with flow already cached.

The clip is the Sintel demo (50 frames) played forward then backward (100 frames) at 256 px on
the long side. Compared inputs: the clip blurred (temporally stable), the clip with fresh noise
in every frame (flicker), and optionally a folder made by ``bench/fast_baseline.py`` (per-frame
feed-forward stylisation of the same 100 frames). The first run fills the flow cache (DeepFlow,
short-term and 10-frame pairs); the second run, which is what ``artvid compare`` costs once the
flow is cached, is timed and profiled::

    /work/venv/bin/python bench/compare.py [--work DIR] [--fast DIR] [--device DEV] [--profile]

Target: under 2 minutes for the cached run on this 2-core CPU (``--device cpu``, the default
here although ``artvid compare`` defaults to ``auto``).
"""

from __future__ import annotations

import argparse
import dataclasses
import cProfile
import os
import pstats
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
CLIP = DATA / "video" / "mmflow_demo_sintel.mp4"
STYLE = DATA / "paintings" / "starry_night.jpg"


def make_inputs(work: Path, size: int) -> tuple[Path, list[Path]]:
    """Write the 100-frame content clip and two synthetic 'stylised' versions as PNG folders."""
    from artvid import video

    content = work / "content"
    if not content.is_dir():
        frames = list(video.iter_frames(CLIP, size=size))
        clip = frames + frames[::-1]
        content.mkdir(parents=True)
        video.write_frames(content, clip)
        blurred = work / "blurred"
        blurred.mkdir()
        video.write_frames(blurred, [cv2.GaussianBlur(f, (0, 0), 1.5) for f in clip])
        rng = np.random.default_rng(0)
        noised = work / "noised"
        noised.mkdir()
        video.write_frames(noised, [np.clip(f + rng.normal(0, 10, f.shape), 0, 255).astype(np.uint8) for f in clip])
    return content, [work / "blurred", work / "noised"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="time artvid compare with cached flow")
    parser.add_argument("--work", type=Path, default=Path("/tmp/artvid-bench-compare"))
    parser.add_argument("--fast", type=Path, default=None, help="folder from bench/fast_baseline.py (100 frames)")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--device", default="cpu", help="VGG device (the target is for cpu)")
    parser.add_argument("--profile", action="store_true", help="print the top functions of the timed run")
    args = parser.parse_args(argv)

    from artvid.compare import CompareConfig, run_compare
    from artvid.report import format_table, write_report

    if not CLIP.exists():
        raise SystemExit(f"missing {CLIP}")
    content, stylized = make_inputs(args.work, args.size)
    if args.fast is not None:
        stylized.append(args.fast)
    config = CompareConfig(style=STYLE, size=args.size, device=args.device, cache_dir=args.work / "cache")

    # The first run only has to fill the flow cache, so it skips the VGG losses.
    start = time.perf_counter()
    run_compare(content, stylized, dataclasses.replace(config, perceptual=False), progress=False)
    first = time.perf_counter() - start

    profiler = cProfile.Profile() if args.profile else None
    start, cpu_start = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    result = run_compare(content, stylized, config, progress=False)
    if profiler:
        profiler.disable()
    cached, cpu = time.perf_counter() - start, time.process_time() - cpu_start

    start = time.perf_counter()
    write_report(result, args.work / "report")
    report = time.perf_counter() - start

    print(format_table(result))
    print(
        f"\n{result.frame_count} frames at {result.width}x{result.height}, {len(stylized)} inputs + content:"
        f"\n  first run (flow cache, no VGG):    {first:7.1f} s"
        f"\n  cached run (timed):               {cached:7.1f} s  ({cached / result.frame_count * 1000:.0f} ms/frame)"
        f"\n  cached run CPU time (all threads): {cpu:7.1f} s  on {os.cpu_count()} cores, load average"
        f" {os.getloadavg()[0]:.1f} (other users share this machine: wall time depends on their load)"
        f"\n  write_report (csv/json/png/mp4):  {report:7.1f} s"
        f"\n  target < 120 s for the cached run: {'met' if cached < 120 else 'MISSED'}"
    )
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(20)
    return 0


if __name__ == "__main__":
    sys.exit(main())
