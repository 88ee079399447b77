"""Loss versus iterations per frame: the paper preset against artvid's defaults (single pass).

For every frame it records the total loss after each iteration of both runs, then prints, side by
side, the paper preset's final per-frame loss, the iterations and seconds each run needs to come
within 5 % of it, each run's final loss as a multiple of the paper's, and the warping error of both
outputs (Ruder et al.'s masked MSE with DeepFlow). Issue 5's target: the defaults come within 5 %
using at most 30 % of the paper's iterations, with a warping error no worse.

    python bench/convergence.py                      # the whole example clip (slow on a CPU)
    python bench/convergence.py --frames 3 --size 128
    python bench/convergence.py --workdir /tmp/conv  # keep each run's video and curves ...
    python bench/convergence.py --workdir /tmp/conv --set schedule.iterations=120
                                                     # ... and reuse the paper run for a candidate

With ``--workdir`` every run leaves ``NAME.mp4`` and ``NAME.json`` (its configuration and loss
curves) there, and a later run whose configuration and clip are the same reuses them instead of
rendering again: the paper preset is rendered once while candidate defaults are explored with
``--set``. Losses on the CPU are deterministic (seeded initialisation), so a reused run is the
run that would be rendered again; its seconds are those of the run that made it.

The paper preset spends 2000 + 1000·(frames − 1) iterations: about an hour for the 12-frame
example at 256 px on a 2-core CPU.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
from artvid import video  # noqa: E402
from artvid.compare import CompareConfig, run_compare  # noqa: E402
from artvid.config import Quality, build_config, to_dict  # noqa: E402
from artvid.errors import ConfigError  # noqa: E402
from artvid.rendering import Progress, RunOptions, render  # noqa: E402

TOLERANCE = 0.05


def trajectories(clip: Path, style: Path, config, out: Path, cache: Path, device: str):
    """Render pass 1 and return ``{frame: [(iteration, total, seconds since frame start)]}``."""
    curves: dict[int, list[tuple[int, float, float]]] = {}
    starts: dict[int, float] = {}

    class Record(Progress):
        every = 1  # every iteration's loss (each read waits for the device)

        def iteration(self, step, iteration: int, losses: dict[str, float]) -> None:
            now = time.perf_counter()
            starts.setdefault(step.frame, now)
            curves.setdefault(step.frame, []).append((iteration, losses["total"], now - starts[step.frame]))

    # fresh: a work directory left by an earlier run with other settings is started over.
    render(clip, [style], out, config, RunOptions(device=device, cache_dir=cache, fresh=True, progress=Record()))
    return curves


def cached_trajectories(name: str, clip: Path, style: Path, config, work: Path, device: str):
    """:func:`trajectories`, reusing ``work/NAME.json`` when its configuration and inputs match."""
    key = {"config": to_dict(config), "clip": video.content_hash(clip), "style": video.content_hash(style),
           "device": device}
    record, out = work / f"{name}.json", work / f"{name}.mp4"
    if record.is_file() and out.is_file():
        saved = json.loads(record.read_text())
        if saved["key"] == key:
            print(f"{name}: reusing {record}", file=sys.stderr)
            return {int(frame): [tuple(p) for p in curve] for frame, curve in saved["curves"].items()}
    curves = trajectories(clip, style, config, out, work / "cache", device)
    record.write_text(json.dumps({"key": key, "curves": curves}))
    return curves


def _override(text: str) -> tuple[str, str, object]:
    """``SECTION.FIELD=VALUE`` (VALUE a Python literal, else a string) for build_config."""
    target, _, value = text.partition("=")
    section, _, name = target.partition(".")
    if not name or not value:
        raise SystemExit(f"--set expects SECTION.FIELD=VALUE, got {text!r}")
    try:
        parsed = ast.literal_eval(value)
    except (ValueError, SyntaxError):
        parsed = value
    return section, name, parsed


def reach(curve: list[tuple[int, float, float]], target: float) -> tuple[int | None, float | None]:
    """First iteration (and seconds) whose loss is within ``TOLERANCE`` of ``target``."""
    for iteration, loss, seconds in curve:
        if loss <= (1 + TOLERANCE) * target:
            return iteration, seconds
    return None, None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clip", type=Path, default=ROOT / "examples" / "sintel.mp4")
    parser.add_argument("--style", type=Path, default=ROOT / "examples" / "starry_night.jpg")
    parser.add_argument("--frames", type=int, default=None, help="use only the first N frames")
    parser.add_argument("--size", type=int, default=None)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--workdir", type=Path, default=None,
                        help="keep (and reuse) each run's video and curves here; default: a temporary folder")
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.FIELD=VALUE",
                        help="override a setting of the defaults run, e.g. schedule.iterations=120")
    args = parser.parse_args()

    work = args.workdir or Path(tempfile.mkdtemp(prefix="artvid-bench-convergence-"))
    work.mkdir(parents=True, exist_ok=True)
    clip = args.clip
    if args.frames:
        clip = work / f"clip-{args.frames}-{args.size}"
        if not clip.is_dir():
            clip.mkdir()
            video.write_frames(clip, video.iter_frames(args.clip, size=args.size, stop=args.frames))
    overrides: dict[str, dict[str, object]] = {}
    for text in args.set:
        section, name, value = _override(text)
        overrides.setdefault(section, {})[name] = value
    defaults_name = "defaults" if not overrides else "defaults-" + hashlib.sha256(
        json.dumps(overrides, sort_keys=True).encode()).hexdigest()[:8]
    try:
        runs = {"paper": build_config(Quality.PAPER, size=args.size),
                defaults_name: build_config(size=args.size, **overrides)}
    except ConfigError as exc:
        raise SystemExit(f"--set: {exc}") from None
    if overrides:
        print(f"{defaults_name}: the defaults with {overrides}", file=sys.stderr)
    curves, outputs = {}, []
    for name, config in runs.items():
        curves[name] = cached_trajectories(name, clip, args.style, config, work, args.device)
        outputs.append(work / f"{name}.mp4")
    curves["defaults"] = curves[defaults_name]
    scores = run_compare(clip, outputs, CompareConfig(names=("paper", "defaults"), style=args.style, device=args.device,
                                                      cache_dir=work / "cache"), progress=False).summary
    rows = []
    print(f"{'frame':>5} {'paper final':>12} {'paper it':>9} {'paper s':>8} {'default it':>11} {'default s':>10} {'default final':>14}")
    totals = {"paper_iterations": 0, "default_iterations": 0, "paper_seconds": 0.0, "default_seconds": 0.0}
    for frame in sorted(curves["paper"]):
        paper, default = curves["paper"][frame], curves["defaults"][frame]
        target = min(loss for _, loss, _ in paper)
        paper_it, paper_s = reach(paper, target)
        default_it, default_s = reach(default, target)
        default_final = min(loss for _, loss, _ in default) / target
        totals["paper_iterations"] += paper[-1][0]
        totals["default_iterations"] += default[-1][0]
        totals["paper_seconds"] += paper[-1][2]
        totals["default_seconds"] += default[-1][2]
        rows.append({"frame": frame + 1, "paper_final": target, "paper_iterations_to_5pct": paper_it,
                     "default_iterations_to_5pct": default_it, "default_final_ratio": default_final})
        print(f"{frame + 1:>5} {target:>12.4g} {paper_it:>9} {paper_s:>8.1f} {str(default_it or '-'):>11} "
              f"{(f'{default_s:.1f}' if default_s is not None else '-'):>10} {default_final:>13.3f}x")
    share = totals["default_iterations"] / totals["paper_iterations"]
    print(f"\niterations run: defaults {totals['default_iterations']} vs paper {totals['paper_iterations']} "
          f"({share:.1%}); seconds {totals['default_seconds']:.0f} vs {totals['paper_seconds']:.0f}")
    reached = sum(r["default_iterations_to_5pct"] is not None for r in rows)
    print(f"frames where the defaults come within {TOLERANCE:.0%} of the paper's final loss: {reached}/{len(rows)}")
    print(f"warping error (Ruder, DeepFlow): defaults {scores['defaults']['ruder']:.4g} vs paper {scores['paper']['ruder']:.4g}")
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "totals": totals, "scores": scores}, indent=2, default=str))
    if args.workdir is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
