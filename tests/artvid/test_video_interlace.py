"""Interlaced clips are read as progressive frames; progressive clips exactly as decoded."""

from __future__ import annotations

import logging

import av
import numpy as np
import pytest

from artvid.flowcache import FlowCache, FlowConfig
from artvid.video import iter_frames, probe
from tests.helpers import decoded_frames, translating_clip

H, W = 48, 64


def combed(n: int) -> list[np.ndarray]:
    """A bar moving right, its odd lines 4 px ahead: the second field of an interlaced frame."""
    frames = []
    for t in range(n):
        frame = np.full((H, W, 3), 30, np.uint8)
        frame[:, 8 * t : 8 * t + 16] = 220
        frame[1::2] = np.roll(frame[1::2], 4, axis=1)
        frames.append(frame)
    return frames


def write(path, frames, interlaced: bool, rotation: float | None = None):
    options = {"x264-params": "interlaced=1:tff=1"} if interlaced else {}
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25, options=options)
        stream.width, stream.height, stream.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv420p"
        if rotation is not None:
            stream.set_display_rotation(rotation)
        for pts, frame in enumerate(frames):
            vframe = av.VideoFrame.from_ndarray(frame, format="rgb24")
            vframe.pts = pts
            container.mux(stream.encode(vframe))
        container.mux(stream.encode(None))
    return path


def combing(frame: np.ndarray) -> float:
    """Mean difference between neighbouring lines (two fields) over that within one field."""
    luma = frame.astype(np.float64).mean(axis=2)
    across = np.abs(luma[0:-1:2] - luma[1::2]).mean()
    within = np.abs(luma[0:-2:2] - luma[2::2]).mean()
    return across / (within + 1.0)


@pytest.mark.parametrize("n", [1, 2, 6])
def test_an_interlaced_clip_is_read_deinterlaced_with_every_frame(tmp_path, n, caplog):
    path = write(tmp_path / "camcorder.mp4", combed(n), interlaced=True)
    raw = decoded_frames(path)
    assert min(combing(f) for f in raw) > 10  # the combs are in the file
    caplog.set_level(logging.INFO, logger="artvid.video.interlace")
    frames = list(iter_frames(path))
    assert "is interlaced: deinterlacing it" in caplog.text
    assert len(frames) == n == probe(path).frame_count
    assert all(f.shape == (H, W, 3) for f in frames)
    assert max(combing(f) for f in frames) < 0.25 * min(combing(f) for f in raw)


def test_start_stop_and_size_select_the_same_deinterlaced_frames(tmp_path):
    path = write(tmp_path / "camcorder.mp4", combed(6), interlaced=True)
    whole = list(iter_frames(path, size=32))
    part = list(iter_frames(path, size=32, start=2, stop=5))
    assert len(part) == 3
    assert all(np.array_equal(a, b) for a, b in zip(part, whole[2:5]))


def test_a_progressive_clip_is_read_exactly_as_decoded(tmp_path, caplog):
    path = write(tmp_path / "phone.mp4", translating_clip(5, H, W), interlaced=False)
    caplog.set_level(logging.INFO, logger="artvid.video.interlace")
    frames = list(iter_frames(path))
    assert "interlaced" not in caplog.text
    assert all(np.array_equal(a, b) for a, b in zip(frames, decoded_frames(path), strict=True))


@pytest.mark.skipif(not hasattr(av.video.stream.VideoStream, "set_display_rotation"),
                    reason="PyAV too old to write a display matrix")
def test_an_interlaced_clip_with_a_rotation_tag_is_deinterlaced_and_turned(tmp_path):
    path = write(tmp_path / "turned.mp4", combed(3), interlaced=True, rotation=90)
    info = probe(path)
    frames = list(iter_frames(path))
    assert (info.width, info.height) == (H, W)
    assert all(f.shape == (W, H, 3) for f in frames)


def test_probe_says_whether_a_clip_is_read_deinterlaced_and_the_flow_cache_keys_it(tmp_path):
    interlaced = write(tmp_path / "camcorder.mp4", combed(3), interlaced=True)
    progressive = write(tmp_path / "phone.mp4", combed(3), interlaced=False)
    assert probe(interlaced).interlaced and not probe(progressive).interlaced
    # Flow cached from the combed frames (before artvid deinterlaced) is not the flow of these.
    assert FlowCache(tmp_path / "c", interlaced, None, FlowConfig()).describe()["frames"] == "deinterlaced"
    assert "frames" not in FlowCache(tmp_path / "c", progressive, None, FlowConfig()).describe()
