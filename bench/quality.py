"""Quality ablation on the example clip: independent Gatys vs single pass vs ``--passes 3``.

Renders the clip three ways with the same total iteration budget and prints, side by side, the
masked warping error between consecutive output frames (Ruder et al. 2016: the previous output
warped by backward DeepFlow, weighted by the reliability mask, mean squared difference on [0, 1]
RGB) and the style loss, with ratios to the independent baseline.

    python bench/quality.py                   # the example clip, balanced budgets
    python bench/quality.py --iterations 40   # quicker

Acceptance (issue 3): ``--passes 3`` has at most 0.35x the baseline's warping error with a style
loss at most 1.3x the baseline's.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
from artvid import video  # noqa: E402
from artvid.compare import CompareConfig, run_compare  # noqa: E402
from artvid.config import build_config  # noqa: E402
from artvid.multipass import Init  # noqa: E402
from artvid.rendering import RunOptions, render  # noqa: E402


def budgets(frames: int, first: int, later: int, passes: int, pass_share: float) -> dict[str, int]:
    """Per-frame caps for a multi-pass render whose total equals ``first + (frames-1)·later``.

    Each later pass gets ``pass_share·later`` iterations per frame; pass 1 gives up the same
    total, taken evenly from every frame.
    """
    pass_iterations = max(1, round(pass_share * later))
    extra = (passes - 1) * frames * pass_iterations
    per_frame_cut = extra / frames
    return {
        "iterations_first": max(1, round(first - per_frame_cut)),
        "iterations": max(1, round(later - per_frame_cut)),
        "pass_iterations": pass_iterations,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clip", type=Path, default=ROOT / "examples" / "sintel.mp4")
    parser.add_argument("--style", type=Path, default=ROOT / "examples" / "starry_night.jpg")
    parser.add_argument("--size", type=int, default=None, help="long side in pixels (default: the clip's)")
    parser.add_argument("--iterations-first", type=int, default=200)
    parser.add_argument("--iterations", type=int, default=80)
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--pass-share", type=float, default=0.25, help="pass iterations as a share of --iterations")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--out", type=Path, default=Path("/tmp/artvid-bench-quality"))
    parser.add_argument("--json", type=Path, default=None, help="also write the table as JSON here")
    args = parser.parse_args()

    args.out.mkdir(parents=True, exist_ok=True)
    frames = video.probe(args.clip, size=args.size).frame_count
    base = {"iterations_first": args.iterations_first, "iterations": args.iterations}
    runs = {
        "independent": build_config(
            size=args.size,
            schedule={**base, "init": Init.RANDOM, "init_first": Init.RANDOM},
            stylize={"temporal_weight": 0.0},
        ),
        "single pass": build_config(size=args.size, schedule=base),
        f"passes {args.passes}": build_config(
            size=args.size,
            schedule={"passes": args.passes, **budgets(frames, args.iterations_first, args.iterations, args.passes, args.pass_share)},
        ),
    }
    outputs, rows = [], {}
    for name, config in runs.items():
        out = args.out / (name.replace(" ", "_") + ".mp4")
        options = RunOptions(device=args.device, cache_dir=args.out / "cache", work_dir=args.out / (out.stem + "-work"))
        started = time.perf_counter()
        summary = render(args.clip, [args.style], out, config, options)
        rows[name] = {"iterations": summary.iterations, "seconds": round(time.perf_counter() - started, 1)}
        outputs.append(out)
        print(f"rendered {name}: {summary.iterations} iterations, {rows[name]['seconds']} s", file=sys.stderr)

    result = run_compare(
        args.clip, outputs,
        CompareConfig(names=tuple(runs), style=args.style, flow_method="deepflow", size=args.size,
                      device=args.device, cache_dir=args.out / "cache"),
        progress=False,
    )
    baseline = result.summary["independent"]
    print(f"\n{args.clip.name}: {frames} frames, warping error = Ruder et al. masked MSE with DeepFlow\n")
    print(f"{'run':<14}{'iterations':>11}{'seconds':>9}{'warp error':>13}{'x base':>8}{'style loss':>13}{'x base':>8}")
    for name in runs:
        values = result.summary[name]
        rows[name].update(warp_error=values["ruder"], style_loss=values["style_loss"],
                          warp_ratio=values["ruder"] / baseline["ruder"],
                          style_ratio=values["style_loss"] / baseline["style_loss"])
        r = rows[name]
        print(f"{name:<14}{r['iterations']:>11}{r['seconds']:>9}{r['warp_error']:>13.3e}{r['warp_ratio']:>8.3f}"
              f"{r['style_loss']:>13.4g}{r['style_ratio']:>8.3f}")
    content = result.summary["content"]["ruder"]
    print(f"{'content clip':<14}{'':>11}{'':>9}{content:>13.3e}{content / baseline['ruder']:>8.3f}")
    multi = rows[f"passes {args.passes}"]
    verdict = multi["warp_ratio"] <= 0.35 and multi["style_ratio"] <= 1.3
    print(f"\npasses {args.passes}: warp error {multi['warp_ratio']:.3f}x (target <= 0.35), "
          f"style loss {multi['style_ratio']:.3f}x (target <= 1.3): {'PASS' if verdict else 'FAIL'}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
