"""Flow throughput, and flow off the render's critical path.

Part 1 fills an empty flow cache for the example clip (forward + backward flow and reliability
for every adjacent pair) with DIS and with DeepFlow, with 1 worker and with all cores, and prints
frames per second and the speed-up, measured side by side in one run.

Part 2 (``--overlap``) renders the example clip twice with the same settings, once with an empty
flow cache (flow computed in background threads while the optimiser runs) and once with a full
one, and prints the ratio of the two wall times (issue target: at most 1.15).

    python bench/flow_speed.py                 # part 1
    python bench/flow_speed.py --overlap       # parts 1 and 2
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import flow
from artvid.flowcache import FlowCache, FlowConfig
from artvid.multipass import ScheduleConfig
from artvid.rendering.plan import make_plan

ROOT = Path(__file__).resolve().parents[1]


def fill_seconds(clip: Path, size: int | None, method: str, workers: int) -> tuple[float, int]:
    """Seconds to fill an empty cache for every adjacent pair, and the number of frames."""
    root = Path(tempfile.mkdtemp(prefix="artvid-bench-flow-"))
    try:
        cache = FlowCache(root, clip, size, FlowConfig(method=method))
        pairs = list(make_plan(cache.info.frame_count, ScheduleConfig()).flow_pairs)
        started = time.perf_counter()
        cache.ensure(pairs, workers=workers)
        return time.perf_counter() - started, cache.info.frame_count
    finally:
        shutil.rmtree(root, ignore_errors=True)


def throughput(args) -> None:
    cores = os.cpu_count() or 1
    print(f"{args.clip.name}, size {args.size or 'native'}, {cores} cores; frames/s = adjacent pairs "
          "(forward + backward flow + both reliabilities) per second, median of "
          f"{args.repeats}\n")
    print(f"{'method':<10}{'1 worker':>12}{f'{cores} workers':>12}{'speed-up':>10}")
    for method in args.methods:
        rates = {}
        for workers in (1, cores):
            runs = [fill_seconds(args.clip, args.size, method, workers) for _ in range(args.repeats)]
            frames = runs[0][1]
            rates[workers] = (frames - 1) / statistics.median(seconds for seconds, _ in runs)
        print(f"{method:<10}{rates[1]:>10.2f}/s{rates[cores]:>10.2f}/s{rates[cores] / rates[1]:>9.2f}x")


def overlap(args) -> None:
    from artvid.config import build_config
    from artvid.rendering import RunOptions, render

    config = build_config(schedule={"iterations_first": args.iterations, "iterations": args.iterations},
                          flow={"method": args.overlap_method})
    work = Path(tempfile.mkdtemp(prefix="artvid-bench-overlap-"))
    style = ROOT / "examples" / "starry_night.jpg"
    times = {}
    try:
        for label, keep_cache in (("empty cache", False), ("full cache", True)):
            if not keep_cache:
                shutil.rmtree(work / "cache", ignore_errors=True)
            shutil.rmtree(work / "out.mp4.artvid-work", ignore_errors=True)
            options = RunOptions(device=args.device, cache_dir=work / "cache")
            started = time.perf_counter()
            render(args.clip, [style], work / "out.mp4", config, options)
            times[label] = time.perf_counter() - started
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"\nrender of {args.clip.name} ({args.overlap_method} flow, {args.iterations} iterations per frame):")
    for label, seconds in times.items():
        print(f"  {label:<12}{seconds:>8.1f} s")
    print(f"  ratio empty/full: {times['empty cache'] / times['full cache']:.3f} (target <= 1.15)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clip", type=Path, default=ROOT / "examples" / "sintel.mp4")
    parser.add_argument("--size", type=int, default=None)
    parser.add_argument("--methods", nargs="+", default=list(flow.method_names()), choices=flow.method_names())
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--overlap", action="store_true", help="also time a render with an empty vs a full cache")
    parser.add_argument("--overlap-method", default="deepflow", choices=flow.method_names(), help="flow method of the overlap render")
    parser.add_argument("--iterations", type=int, default=20, help="iterations per frame of the overlap render")
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    throughput(args)
    if args.overlap:
        overlap(args)


if __name__ == "__main__":
    main()
