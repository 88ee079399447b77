"""Tests for artvid.video's rotation metadata: phone clips are probed and decoded upright."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from artvid.errors import VideoReadError
from artvid.video import iter_frames, probe

H, W = 32, 48

pytestmark = pytest.mark.skipif(not hasattr(av.video.stream.VideoStream, "set_display_rotation"),
                                reason="PyAV too old to write a display matrix")


def asymmetric_frame() -> np.ndarray:
    """Flat blocks (8 px, so 4:2:0 chroma survives) with no rotational or mirror symmetry."""
    frame = np.full((H, W, 3), 40, np.uint8)
    frame[:16, :16] = (230, 30, 30)  # red, top left
    frame[:8, 32:] = (30, 230, 30)  # green, top right, flat
    frame[16:, 40:] = (30, 30, 230)  # blue, bottom right, tall
    frame[24:, :8] = (230, 230, 30)  # yellow, bottom left, small
    return frame


def write_rotated(path: Path, frame: np.ndarray, degrees: float, hflip: bool = False, frames: int = 3) -> Path:
    """An H.264 mp4 whose track matrix says: turn ``degrees`` counter-clockwise, then mirror.

    This is what a phone writes (its ``rotate`` tag, 90 for a portrait clip, is this turn clockwise).
    """
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = frame.shape[1], frame.shape[0], "yuv420p"
        stream.set_display_rotation(degrees, hflip=hflip)
        for pts in range(frames):
            vframe = av.VideoFrame.from_ndarray(frame, format="rgb24")
            vframe.pts = pts
            container.mux(stream.encode(vframe))
        container.mux(stream.encode(None))
    return path


def all_orientations(frame: np.ndarray) -> list[np.ndarray]:
    """The eight ways to show a frame: four turns, each plain and mirrored."""
    return [np.rot90(f, k) for f in (frame, np.fliplr(frame)) for k in range(4)]


def closest(decoded: np.ndarray, candidates: list[np.ndarray]) -> int:
    errors = [np.abs(decoded.astype(int) - c).mean() if c.shape == decoded.shape else np.inf for c in candidates]
    return int(np.argmin(errors))


@pytest.mark.parametrize("degrees", [90, 180, 270])
def test_rotated_clip_is_probed_and_decoded_upright(tmp_path, degrees):
    source = asymmetric_frame()
    path = write_rotated(tmp_path / "phone.mp4", source, degrees)
    upright = np.rot90(source, degrees // 90)

    info = probe(path)
    expected_w, expected_h = (H, W) if degrees in (90, 270) else (W, H)
    assert (info.width, info.height, info.source_width, info.source_height) == (expected_w, expected_h) * 2
    assert info.frame_count == 3

    frames = list(iter_frames(path))
    assert len(frames) == 3
    for frame in frames:
        assert frame.shape == upright.shape and frame.flags.c_contiguous
        assert np.abs(frame.astype(int) - upright).mean() < 4  # H.264 is lossy
        candidates = all_orientations(source)
        assert closest(frame, candidates) == closest(upright, candidates)  # no other turn fits


def test_rotation_is_applied_before_resizing_and_for_every_start(tmp_path):
    source = asymmetric_frame()
    path = write_rotated(tmp_path / "phone.mp4", source, 270)
    info = probe(path, size=24)
    assert (info.width, info.height) == (16, 24)
    small = list(iter_frames(path, size=24))
    assert all(frame.shape == (24, 16, 3) for frame in small)
    later = next(iter_frames(path, start=2))
    assert np.abs(later.astype(int) - np.rot90(source, 3)).mean() < 4


def test_mirrored_matrix_is_applied(tmp_path):
    source = asymmetric_frame()
    path = write_rotated(tmp_path / "mirror.mp4", source, 90, hflip=True)
    expected = np.fliplr(np.rot90(source, 1))  # PyAV: the turn, then the mirror
    frame = next(iter_frames(path))
    assert (probe(path).width, probe(path).height) == (H, W)
    assert closest(frame, all_orientations(source)) == closest(expected, all_orientations(source))
    assert np.abs(frame.astype(int) - expected).mean() < 4


def test_zero_rotation_matrix_changes_nothing(tmp_path):
    source = asymmetric_frame()
    path = write_rotated(tmp_path / "plain.mp4", source, 0)
    assert (probe(path).width, probe(path).height) == (W, H)
    assert np.abs(next(iter_frames(path)).astype(int) - source).mean() < 4


def test_rotation_by_other_angles_is_a_clear_error(tmp_path):
    path = write_rotated(tmp_path / "tilted.mp4", asymmetric_frame(), 30)
    with pytest.raises(VideoReadError, match=r"multiple of 90 degrees, got 30\.0"):
        probe(path)
    with pytest.raises(VideoReadError, match="multiple of 90 degrees"):
        next(iter_frames(path))
