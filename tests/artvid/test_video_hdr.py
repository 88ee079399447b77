"""HDR clips (HLG, PQ) are read as SDR BT.709 frames; SDR clips exactly as decoded."""

from __future__ import annotations

import logging

import av
import numpy as np
import pytest
from av.video.reformatter import ColorPrimaries, ColorRange, Colorspace, ColorTrc

from artvid.flowcache import FlowCache, FlowConfig
from artvid.video import iter_frames, probe
from artvid.video.hdr import HLG, PQ, to_sdr
from tests.helpers import decoded_frames

H, W = 32, 64


def gray(signal: float) -> np.ndarray:
    """A 2x2 BT.2020 frame of one non-linear signal level (0–1) on every channel."""
    return np.full((2, 2, 3), round(signal * 65535), np.uint16)


@pytest.mark.parametrize(
    ("transfer", "signal", "expected"),
    [
        # PQ 58 % is HDR reference white, 203 cd/m² (ITU-R BT.2408): relative 1, rolled off to
        # 0.75 + 0.25 (1 - 1/e) = 0.908, encoded for gamma 2.4: 0.961.
        (PQ, 0.5807, 245),
        # PQ 50.8 % is 100 cd/m²: relative 0.493, under the knee, 0.493 ** (1 / 2.4) = 0.744.
        (PQ, 0.5081, 190),
        # HLG 50 %: scene light 1/12, on a 1000 cd/m² display 1000 (1/12) ** 1.2 = 50.7 cd/m².
        (HLG, 0.5, 143),
        # HLG 75 %: 211 cd/m² on that display, about reference white.
        (HLG, 0.75, 246),
        (PQ, 0.0, 0),
        (HLG, 0.0, 0),
    ],
)
def test_reference_levels_land_where_bt2408_puts_them(transfer, signal, expected):
    out = to_sdr(gray(signal), transfer)
    assert out.dtype == np.uint8 and out.shape == (2, 2, 3)
    assert np.abs(out.astype(int) - expected).max() <= 2


@pytest.mark.parametrize("transfer", [PQ, HLG])
def test_levels_rise_and_highlights_roll_off_instead_of_clipping(transfer):
    ramp = np.concatenate([gray(s) for s in np.linspace(0, 1, 41)], axis=1)
    out = to_sdr(ramp, transfer)[0, ::2, 0].astype(int)
    assert np.all(np.diff(out) >= 0) and out[-1] == 255
    assert np.all(np.diff(out[-12:-1]) <= np.diff(out[8:19]).max())  # compressed at the top


def test_colours_keep_their_hue_and_bt2020_only_greens_are_clipped_into_bt709():
    # BT.709 red (1, 0, 0) in BT.2020 primaries is (0.6274, 0.0691, 0.0164) in linear light.
    linear_red = np.array([0.6274, 0.0691, 0.0164]) * 0.3  # a mid-level red, in PQ units of 10000 cd/m² / 203
    nits = linear_red * 203
    m1, m2, c1, c2, c3 = 2610 / 16384, 2523 / 4096 * 128, 3424 / 4096, 2413 / 4096 * 32, 2392 / 4096 * 32
    y = (nits / 10000) ** m1
    pq = ((c1 + c2 * y) / (1 + c3 * y)) ** m2
    red = to_sdr(np.round(pq * 65535).astype(np.uint16).reshape(1, 1, 3), PQ)[0, 0].astype(int)
    assert red[0] > 150 and red[1] < 20 and red[2] < 20  # back to BT.709 red, not a pink
    green = to_sdr(np.array([[[0, 50000, 0]]], np.uint16), PQ)[0, 0].astype(int)
    assert green[1] > 200 and green[0] == 0 and green[2] == 0


def test_only_hdr_transfers_are_mapped():
    with pytest.raises(ValueError, match="HDR transfer"):
        to_sdr(gray(0.5), 1)


def write(path, level: int, transfer: ColorTrc, primaries: ColorPrimaries, colorspace: Colorspace, params: str):
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx265", rate=10, options={"x265-params": f"log-level=none:{params}"})
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p10le"
        ctx = stream.codec_context
        ctx.colorspace, ctx.color_range = int(colorspace), int(ColorRange.MPEG)
        ctx.color_trc, ctx.color_primaries = int(transfer), int(primaries)
        for pts in range(3):
            frame = av.VideoFrame.from_ndarray(np.full((H, W, 3), level, np.uint16), format="rgb48le")
            frame = frame.reformat(format="yuv420p10le", dst_colorspace=colorspace, dst_color_range=ColorRange.MPEG)
            frame.pts = pts
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def test_an_hlg_clip_is_read_mapped_to_sdr(tmp_path, caplog):
    path = write(tmp_path / "iphone.mp4", 40000, ColorTrc.ARIB_STD_B67, ColorPrimaries.BT2020, Colorspace.BT2020,
                 "colorprim=bt2020:transfer=arib-std-b67:colormatrix=bt2020nc")
    info = probe(path)
    assert info.hdr == "HLG" and info.read_as == "HLG to SDR"
    caplog.set_level(logging.INFO, logger="artvid.video.hdr")
    frames = list(iter_frames(path))
    assert caplog.text.count("is HDR (HLG)") == 1
    assert len(frames) == 3
    assert np.array_equal(frames[0], to_sdr(decoded_frames(path, "rgb48le")[0], HLG))
    assert not np.array_equal(frames[0], decoded_frames(path, "rgb24")[0])
    assert FlowCache(tmp_path / "c", path, None, FlowConfig()).describe()["frames"] == "HLG to SDR"
    small = next(iter_frames(path, size=32))  # resized as 16-bit signal, then mapped
    assert small.shape == (16, 32, 3) and small.dtype == np.uint8
    assert np.abs(small.astype(int) - frames[0][:16, :32]).max() <= 1  # a flat frame stays flat


def test_a_ten_bit_sdr_clip_is_read_exactly_as_decoded(tmp_path):
    path = write(tmp_path / "sdr10.mp4", 40000, ColorTrc.BT709, ColorPrimaries.BT709, Colorspace.ITU709,
                 "colorprim=bt709:transfer=bt709:colormatrix=bt709")
    assert probe(path).hdr is None and probe(path).read_as == ""
    assert np.array_equal(next(iter_frames(path)), decoded_frames(path, "rgb24")[0])
    assert "frames" not in FlowCache(tmp_path / "c", path, None, FlowConfig()).describe()
