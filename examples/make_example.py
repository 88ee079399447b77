"""Rebuild the bundled example inputs from the shared data (see ATTRIBUTION.md).

    python examples/make_example.py [--data ../shared/data]

Writes ``examples/sintel.mp4`` (12 consecutive frames of the mmflow Sintel demo, frames 0-11:
the girl running from the dragon, scaled to 256x109 and cropped to 256x108 by dropping the
bottom row, so H.264's 4:2:0 needs no padding; H.264 at the source's 10 fps) and
``examples/starry_night.jpg`` (long side 512 px).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from artvid.images import load_image, save_image
from artvid.video import VideoWriter, iter_frames, probe

HERE = Path(__file__).resolve().parent
FIRST_FRAME, FRAME_COUNT, LONG_SIDE = 0, 12, 256
STYLE_LONG_SIDE = 512


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=HERE.parent.parent / "shared" / "data",
                        help="the shared data folder (holds video/ and paintings/)")
    args = parser.parse_args()

    source = args.data / "video" / "mmflow_demo_sintel.mp4"
    info = probe(source, size=LONG_SIDE)
    # Even sides: the writer would otherwise pad the odd row by repeating the edge.
    width, height = info.width - info.width % 2, info.height - info.height % 2
    out = HERE / "sintel.mp4"
    with VideoWriter(out, info.fps, width, height, crf=18) as writer:
        for frame in iter_frames(source, size=LONG_SIDE, start=FIRST_FRAME, stop=FIRST_FRAME + FRAME_COUNT):
            writer.write(frame[:height, :width])
    print(f"{out}: {writer.frames_written} frames, {width}x{height}, {info.fps} fps")

    style = load_image(args.data / "paintings" / "starry_night.jpg", max_side=STYLE_LONG_SIDE)
    save_image(HERE / "starry_night.jpg", style)
    print(f"{HERE / 'starry_night.jpg'}: {style.shape[1]}x{style.shape[0]}")


if __name__ == "__main__":
    main()
