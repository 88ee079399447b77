"""Flow for a high scale computed at a lower resolution and upsampled: as good as at full size?

For each Sintel pair with ground truth under ``../shared/data/sintel`` (frame 2 → 3), estimates
the flow with DIS and DeepFlow at full size, 1/2 and 1/4 (INTER_AREA downscaling; the flow
upsampled bilinearly and its vectors scaled back), and prints the mean end-point error against
the ground truth (all pixels, and non-occluded ones) with the estimation time, side by side.

A multi-scale render computes every scale's flow at that scale's own size; this bench is why
(bench/RESULTS.md, session 6).

    python bench/flow_resolution.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import cv2
import numpy as np

import flow
from artvid import images

SINTEL = Path(__file__).resolve().parents[2] / "shared" / "data" / "sintel"
FACTORS = (1, 2, 4)


def endpoint_errors(a: np.ndarray, b: np.ndarray, gt: np.ndarray, occluded: np.ndarray, method: str, factor: int):
    height, width = a.shape[:2]
    h, w = height // factor, width // factor
    small = [cv2.resize(x, (w, h), interpolation=cv2.INTER_AREA) for x in (a, b)]
    started = time.perf_counter()
    estimate = flow.estimate(*small, method)
    seconds = time.perf_counter() - started
    if factor > 1:
        estimate = cv2.resize(estimate, (width, height), interpolation=cv2.INTER_LINEAR)
        estimate *= np.array([width / w, height / h], np.float32)
    error = np.linalg.norm(estimate - gt, axis=2)
    return float(error.mean()), float(error[~occluded].mean()), seconds


def main() -> int:
    sequences = sorted(p for p in SINTEL.glob("*") if (p / "flow" / "frame_0002.flo").exists())
    if not sequences:
        print(f"no Sintel ground truth under {SINTEL}", file=sys.stderr)
        return 1
    print("mean end-point error in px (all pixels / non-occluded), estimation seconds")
    for folder in sequences:
        a, b = (images.load_image(folder / f"frame_000{k}.png") for k in (2, 3))
        gt = flow.read_flo(folder / "flow" / "frame_0002.flo")
        occluded = images.load_image(folder / "occlusions" / "frame_0002.png")[..., 0] > 127
        for method in ("dis", "deepflow"):
            cells = []
            for factor in FACTORS:
                all_px, visible, seconds = endpoint_errors(a, b, gt, occluded, method, factor)
                cells.append(f"1/{factor}: {all_px:6.2f} / {visible:6.2f} ({seconds:.2f} s)")
            print(f"{folder.name:16s} {method:9s} " + "   ".join(cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
