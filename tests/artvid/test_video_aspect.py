"""Anamorphic clips (non-square pixels) are probed and read at the size they are shown at."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
import pytest

from artvid.video import iter_frames, probe
from artvid.video.orientation import display_width

H, W = 32, 32


def blob_clip(path, aspect: Fraction, rotation: float | None = None):
    """Frames with a white disc that looks round once stored pixels are shown ``aspect`` wide."""
    rows, cols = np.mgrid[0:H, 0:W]
    radius = 7.0
    inside = ((cols - W / 2) * aspect / radius) ** 2 + ((rows - H / 2) / radius) ** 2 <= 1
    frame = np.where(inside[..., None], 235, 20).astype(np.uint8).repeat(3, axis=2)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        stream.codec_context.sample_aspect_ratio = aspect
        if rotation is not None:
            stream.set_display_rotation(rotation)
        for pts in range(3):
            vframe = av.VideoFrame.from_ndarray(frame, format="rgb24")
            vframe.pts = pts
            container.mux(stream.encode(vframe))
        container.mux(stream.encode(None))
    return path


def extent(frame: np.ndarray) -> tuple[int, int]:
    """Width and height of the bright blob."""
    bright = frame.mean(axis=2) > 128
    return int(bright.any(axis=0).sum()), int(bright.any(axis=1).sum())


@pytest.mark.parametrize("aspect", [Fraction(2), Fraction(4, 3), Fraction(8, 9), Fraction(1, 2)])
def test_an_anamorphic_clip_is_read_with_square_pixels(tmp_path, aspect):
    path = blob_clip(tmp_path / "hdv.mp4", aspect)
    info = probe(path)
    assert (info.source_width, info.source_height) == (display_width(W, aspect), H) == (round(W * aspect), H)
    frames = list(iter_frames(path))
    assert len(frames) == 3 and frames[0].shape == (H, round(W * aspect), 3)
    width, height = extent(frames[0])
    assert abs(width - height) <= 2  # round, as shown; stored, it is `aspect` times narrower


def test_size_applies_to_the_shown_frame(tmp_path):
    path = blob_clip(tmp_path / "hdv.mp4", Fraction(2))
    assert (probe(path, size=32).width, probe(path, size=32).height) == (32, 16)
    assert next(iter_frames(path, size=32)).shape == (16, 32, 3)


@pytest.mark.skipif(not hasattr(av.video.stream.VideoStream, "set_display_rotation"),
                    reason="PyAV too old to write a display matrix")
def test_the_pixels_are_made_square_before_the_frame_is_turned(tmp_path):
    path = blob_clip(tmp_path / "turned.mp4", Fraction(2), rotation=90)
    info = probe(path)
    assert (info.source_width, info.source_height) == (H, 2 * W)
    frame = next(iter_frames(path))
    assert frame.shape == (2 * W, H, 3)
    width, height = extent(frame)
    assert abs(width - height) <= 2
