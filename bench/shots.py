"""Cut handling on a clip joined from different real shots: the frames right after each cut.

Joins real footage into one clip with hard cuts (segments of the Sintel cave chase
``../shared/data/video/mmflow_demo_sintel.mp4`` in shuffled order and the Sintel alley_1 and
market_5 frames, all at one size), renders it twice with the same settings, with cut handling
(``--cuts auto``: detection) and without it (``--cuts 0``: one shot, so each new shot starts from
the previous shot's result warped by a meaningless flow), and prints for the first three frames
after each cut:

* the masked warping error of the pairs (cut, cut+1), (cut+1, cut+2), (cut+2, cut+3) (Ruder et
  al. 2016, DeepFlow on the content, scored by ``artvid compare`` with the true cuts);
* the content loss of the frames cut, cut+1, cut+2 (relu4_2 against the content frame): the old
  shot ghosting into the new one shows up here first.

    python bench/shots.py                    # draft preset, ~3 min on 2 CPU cores
    python bench/shots.py --quality balanced
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

import cv2

import artvid
from artvid.images import load_image
from artvid.shots import format_cuts, resolve_cuts
from artvid.video import iter_frames, write_frames

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"


def joined_clip(folder: Path, width: int, height: int) -> tuple[Path, tuple[int, ...]]:
    """Write the joined clip as PNG frames; returns it and its true cuts (0-based)."""
    chase = list(iter_frames(DATA / "video" / "mmflow_demo_sintel.mp4"))
    alley = [load_image(p) for p in sorted((DATA / "sintel" / "alley_1_clean").glob("frame_*.png"))]
    market = [load_image(p) for p in sorted((DATA / "sintel" / "market_5_final").glob("frame_*.png"))]
    segments = [chase[30:40], alley, chase[0:10], market, chase[44:50]]
    frames, cuts = [], []
    for segment in segments:
        if frames:
            cuts.append(len(frames))
        frames += [cv2.resize(f, (width, height), interpolation=cv2.INTER_AREA) for f in segment]
    folder.mkdir(parents=True, exist_ok=True)
    write_frames(folder, frames)
    return folder, tuple(cuts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--style", type=Path, default=ROOT / "examples" / "starry_night.jpg")
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--quality", default="draft")
    parser.add_argument("--work", type=Path, default=None, help="Keep the renders here (default: a temporary folder).")
    args = parser.parse_args()
    height = round(args.width * 436 / 1024)
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        clip, cuts = joined_clip(work / "clip", args.width, height)
        artvid.render(clip, args.style, f"{work}/handled/", quality=args.quality, cuts="auto", device="cpu",
                      cache_dir=work / "cache")
        artvid.render(clip, args.style, f"{work}/ignored/", quality=args.quality, cuts="0", device="cpu",
                      cache_dir=work / "cache")
        detected = resolve_cuts(clip, "auto", len(list(clip.glob("*.png"))))
        result = artvid.compare_clips(
            clip, [work / "handled", work / "ignored"], names=("handled", "ignored"), style=args.style,
            cuts=format_cuts(cuts), device="cpu", cache_dir=work / "cache",
        )
    rows = {(r["input"], r["frame"]): r for r in result.rows}
    print(f"clip: {len(rows) // 3} frames at {args.width}x{height}, true cuts at frames {format_cuts(cuts)}, "
          f"detected {format_cuts(detected)}; preset {args.quality}")
    print(f"{'cut':>4} {'after':>5}  {'warp err handled':>16} {'ignored':>9}  {'content loss handled':>20} {'ignored':>9}")
    ratios = {"warp": [], "content": []}
    for cut in cuts:
        for k in range(3):
            warp = [rows[(name, cut + k + 1)]["ruder"] for name in ("handled", "ignored")]
            content = [rows[(name, cut + k)]["content_loss"] for name in ("handled", "ignored")]
            ratios["warp"].append(warp[0] / warp[1])
            ratios["content"].append(content[0] / content[1])
            print(f"{cut + 1:>4} {k + 1:>5}  {warp[0]:16.5f} {warp[1]:9.5f}  {content[0]:20.4g} {content[1]:9.4g}")
    print(f"median ratio handled / ignored over the first three frames after each cut: warping error "
          f"{statistics.median(ratios['warp']):.3f}, content loss {statistics.median(ratios['content']):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
