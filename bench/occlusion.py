"""How many Sintel ground-truth occlusions each consistency check catches.

For alley_1_clean and market_5_final (frames 2 -> 3), flows from every registered method with its
default parameters (DIS medium, DeepFlow), prints the share of GT-occluded pixels marked unreliable
(rel < 0.5) and the share of visible pixels kept reliable (rel >= 0.5), invalid pixels excluded,
for every check in ``flow.CHECKS``.

Run: ``python bench/occlusion.py [DATA_DIR] [--methods dis ...]`` (default ``../shared/data`` next to the repo).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np

import flow

SEQUENCES = ("alley_1_clean", "market_5_final")


def _rgb(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise SystemExit(f"cannot read {path}")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def _gray(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise SystemExit(f"cannot read {path}")
    return image


def main(data: Path, methods: list[str]) -> None:
    print(f"{'sequence':16s} {'flow':9s} {'check':12s} {'occl. caught':>12s} {'visible kept':>12s}")
    for seq in SEQUENCES:
        folder = data / "sintel" / seq
        a, b = _rgb(folder / "frame_0002.png"), _rgb(folder / "frame_0003.png")
        invalid = _gray(folder / "invalid" / "frame_0002.png") > 127
        occluded = (_gray(folder / "occlusions" / "frame_0002.png") > 127) & ~invalid
        visible = ~occluded & ~invalid
        for method in methods:
            t0 = time.perf_counter()
            flow_ab, flow_ba = flow.estimate(a, b, method), flow.estimate(b, a, method)
            t_flow = time.perf_counter() - t0
            for check in flow.CHECKS:
                t0 = time.perf_counter()
                rel = flow.reliability(flow_ab, flow_ba, check=check, frame_a=a, frame_b=b)
                t_check = time.perf_counter() - t0
                caught = float((rel[occluded] < 0.5).mean())
                kept = float((rel[visible] >= 0.5).mean())
                print(
                    f"{seq:16s} {method:9s} {check:12s} {caught:12.3f} {kept:12.3f}"
                    f"   (flow x2 {t_flow:.2f}s, check {t_check:.2f}s)"
                )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(__file__).resolve().parents[2] / "shared" / "data"
    parser.add_argument("data", type=Path, nargs="?", default=default, help="folder holding sintel/")
    parser.add_argument("--methods", nargs="+", default=list(flow.method_names()), choices=flow.method_names())
    args = parser.parse_args()
    main(args.data, args.methods)
