"""Clips joined from several files, or damaged in the middle: MPEG-TS seams and mid-clip size changes.

Camcorders (AVCHD) split a long recording into .MTS files that users join with ``cat``; broadcast
and stream recordings change resolution with the bitrate. FFmpeg decodes through both.
"""

from __future__ import annotations

import logging

import av
import numpy as np
import pytest

from artvid.images import fit_into
from artvid.video import iter_frames, probe
from tests.helpers import translating_clip


def _write_ts(path, frames, first_pts=0):
    with av.open(str(path), "w", format="mpegts") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = "yuv420p"
        for i, rgb in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts = first_pts + i
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path.read_bytes()


def _seam_is_flagged(path) -> bool:
    with av.open(str(path)) as container:
        return any(packet.is_corrupt for packet in container.demux(video=0) if packet.size)


def test_ts_files_joined_with_cat_read_to_the_end(tmp_path, caplog):
    first = _write_ts(tmp_path / "a.ts", translating_clip(6, 48, 64, seed=1))
    second = _write_ts(tmp_path / "b.ts", translating_clip(6, 48, 64, seed=2), first_pts=6)
    joined = tmp_path / "joined.ts"
    joined.write_bytes(first + second)
    assert _seam_is_flagged(joined)  # FFmpeg marks the packet before the seam: the case at hand
    info = probe(joined)
    with caplog.at_level(logging.INFO, logger="artvid.video"):
        frames = list(iter_frames(joined))
    assert info.frame_count == len(frames) == 12  # it used to stop at the seam, after 5 frames
    assert "damaged packet(s)" in caplog.text and "truncated" not in caplog.text
    # The frames after the seam are the second file's. (A truncated tail is still dropped:
    # test_video.test_truncated_file_is_a_clear_error.)
    diff = [np.abs(frames[8].astype(int) - clip[2]).mean() for clip in (translating_clip(6, 48, 64, seed=s) for s in (1, 2))]
    assert diff[1] < diff[0] / 2


def test_a_size_change_mid_clip_is_fitted_into_the_first_size(tmp_path, caplog):
    small = _write_ts(tmp_path / "a.ts", translating_clip(4, 64, 96, seed=1))
    wide = _write_ts(tmp_path / "b.ts", translating_clip(4, 72, 128, seed=2), first_pts=4)
    joined = tmp_path / "joined.ts"
    joined.write_bytes(small + wide)
    info = probe(joined)
    with caplog.at_level(logging.INFO, logger="artvid.video"):
        frames = list(iter_frames(joined))
        resized = list(iter_frames(joined, size=48))
    assert (info.width, info.height, info.frame_count) == (96, 64, 8)
    assert {f.shape for f in frames} == {(64, 96, 3)} and {f.shape for f in resized} == {(32, 48, 3)}
    assert "changes frame size at frame 4 (128x72 to 96x64)" in caplog.text
    # 16:9 into 3:2: 96x54 in the middle, black bands of 5 rows above and below.
    later = frames[6]
    assert later[:5].max() == 0 and later[-5:].max() == 0 and later[5:59].mean() > 20


@pytest.mark.parametrize(("shape", "box", "inner"), [((72, 128, 3), (96, 64), (54, 96)), ((100, 50, 3), (40, 40), (40, 20)),
                                                      ((30, 40, 3), (40, 30), (30, 40))])
def test_fit_into_keeps_the_aspect_ratio_on_black(shape, box, inner):
    frame = np.full(shape, 200, np.uint8)
    out = fit_into(frame, *box)
    assert out.shape == (box[1], box[0], 3) and out.dtype == np.uint8
    assert int((out[..., 0] > 0).sum()) == inner[0] * inner[1]
    assert fit_into(frame, shape[1], shape[0]) is frame
