"""Flow and mask files: round trips and every FlowFileError branch."""

import os
import stat
import struct
from pathlib import Path

import numpy as np
import pytest

from flow import (
    FlowFileError,
    FlowShapeError,
    flow_to_color,
    read_flo,
    read_mask,
    write_flo,
    write_flow_png,
    write_mask,
)


def _flow(h=5, w=7, seed=0):
    return np.random.default_rng(seed).normal(0, 3, (h, w, 2)).astype(np.float32)


def _header(w, h, magic=202021.25):
    return struct.pack("<fii", magic, w, h)


def test_flo_round_trip(tmp_path):
    flow = _flow()
    path = tmp_path / "a.flo"
    write_flo(path, flow)
    assert path.stat().st_size == 12 + 5 * 7 * 8
    assert path.read_bytes()[:4] == b"PIEH"
    back = read_flo(path)
    assert back.dtype == np.float32
    np.testing.assert_array_equal(back, flow)
    assert not [p for p in tmp_path.iterdir() if p.name != "a.flo"]  # no temp files left behind


def test_write_flo_accepts_float64_and_rejects_bad_shape(tmp_path):
    write_flo(tmp_path / "b.flo", _flow().astype(np.float64))
    with pytest.raises(FlowShapeError, match=r"expected \(H, W, 2\) float32"):
        write_flo(tmp_path / "c.flo", np.zeros((3, 3, 3), np.float32))
    with pytest.raises(FlowFileError, match="expected a writable location"):
        write_flo(tmp_path / "missing_dir" / "d.flo", _flow())


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "expected a 12-byte .flo header, got 0 bytes"),
        (_header(2, 2, magic=1.0) + bytes(32), "expected .flo magic 202021.25"),
        (_header(0, 2), "expected width and height in 1..16384, got width=0"),
        (_header(2, 10**6), "got width=2, height=1000000"),
        (_header(-3, 2), "width=-3"),
        (_header(2, 2) + bytes(31), r"expected 44 bytes for a 2x2 flow, got 43 \(truncated\)"),
        (_header(2, 2) + bytes(33), r"got 45 \(trailing bytes\)"),
    ],
)
def test_read_flo_errors(tmp_path, content, message):
    path = tmp_path / "bad.flo"
    path.write_bytes(content)
    with pytest.raises(FlowFileError, match=message) as info:
        read_flo(path)
    assert str(path) in str(info.value)


def test_read_flo_missing_file(tmp_path):
    with pytest.raises(FlowFileError, match="expected a readable .flo file"):
        read_flo(tmp_path / "nope.flo")


@pytest.mark.parametrize("suffix", [".pgm", ".png"])
def test_mask_round_trip(tmp_path, suffix):
    rel = np.linspace(0, 1, 6 * 8, dtype=np.float32).reshape(6, 8)
    path = tmp_path / f"m{suffix}"
    write_mask(path, rel)
    back = read_mask(path)
    assert back.dtype == np.float32 and back.shape == (6, 8)
    np.testing.assert_allclose(back, np.round(rel * 255) / 255, atol=1e-7)
    assert back.min() == 0.0 and back.max() == 1.0


def test_mask_errors(tmp_path):
    rel = np.ones((3, 3), np.float32)
    with pytest.raises(FlowFileError, match="expected a mask file ending in .pgm or .png, got '.jpg'"):
        write_mask(tmp_path / "m.jpg", rel)
    with pytest.raises(FlowFileError, match="ending in .pgm or .png"):
        read_mask(tmp_path / "m.bmp")
    with pytest.raises(FlowShapeError, match=r"expected \(H, W\) float32"):
        write_mask(tmp_path / "m.png", np.ones((3, 3, 1), np.float32))
    with pytest.raises(FlowFileError, match="expected a readable mask file"):
        read_mask(tmp_path / "none.png")
    (tmp_path / "junk.pgm").write_bytes(b"not an image")
    with pytest.raises(FlowFileError, match="expected a decodable 8-bit PGM/PNG"):
        read_mask(tmp_path / "junk.pgm")
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(FlowFileError, match="decodable"):
        read_mask(tmp_path / "empty.png")
    import cv2

    cv2.imwrite(str(tmp_path / "color.png"), np.zeros((3, 3, 3), np.uint8))
    with pytest.raises(FlowFileError, match="expected an 8-bit single-channel mask, got uint8 array of shape"):
        read_mask(tmp_path / "color.png")
    with pytest.raises(FlowFileError, match="expected a writable location"):
        write_mask(tmp_path / "no" / "m.png", rel)


def test_flow_to_color():
    flow = _flow(9, 11)
    rgb = flow_to_color(flow)
    assert rgb.shape == (9, 11, 3) and rgb.dtype == np.uint8
    np.testing.assert_array_equal(flow_to_color(np.zeros((4, 6, 2), np.float32)), 255)
    right = np.zeros((1, 1, 2), np.float32)
    right[..., 0] = 1
    np.testing.assert_array_equal(flow_to_color(right)[0, 0], (255, 0, 0))  # Middlebury: +x is red
    weak = flow_to_color(right, max_flow=4.0)[0, 0]
    assert weak[0] == 255 and weak[1] > 150  # desaturated towards white
    strong = flow_to_color(right * 8, max_flow=4.0)[0, 0]
    assert strong.max() < 255  # beyond max_flow: darkened
    flow[0, 0] = np.nan
    np.testing.assert_array_equal(flow_to_color(flow)[0, 0], 0)
    with pytest.raises(FlowShapeError):
        flow_to_color(np.zeros((4, 6), np.float32))


def test_write_flow_png(tmp_path):
    import cv2

    flow = _flow(9, 11)
    write_flow_png(tmp_path / "f.png", flow)
    back = cv2.cvtColor(cv2.imread(str(tmp_path / "f.png")), cv2.COLOR_BGR2RGB)
    np.testing.assert_array_equal(back, flow_to_color(flow))
    with pytest.raises(FlowFileError, match="ending in .png"):
        write_flow_png(tmp_path / "f.jpg", flow)
    with pytest.raises(FlowFileError, match="writable"):
        write_flow_png(tmp_path / "no" / "f.png", flow)


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_written_files_honour_the_umask(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        write_flo(tmp_path / "f.flo", np.zeros((3, 4, 2), np.float32))
        write_mask(tmp_path / "m.pgm", np.ones((3, 4), np.float32))
        write_flow_png(tmp_path / "c.png", np.zeros((3, 4, 2), np.float32))
    finally:
        os.umask(old)
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.iterdir()} == {
        "f.flo": mode, "m.pgm": mode, "c.png": mode
    }


def test_concurrent_writers_use_distinct_temporaries(tmp_path, monkeypatch):
    from flow import io

    seen = []
    real_replace = os.replace

    def record(src, dst):
        seen.append(Path(src).name)
        real_replace(src, dst)

    monkeypatch.setattr(io.os, "replace", record)
    for _ in range(2):
        write_flo(tmp_path / "f.flo", np.zeros((3, 4, 2), np.float32))
    assert len(set(seen)) == 2 and all(name.startswith(".f.flo.") for name in seen)
    assert [p.name for p in tmp_path.iterdir()] == ["f.flo"]
