"""HDR footage (HLG, as phones record by default, and PQ/HDR10) read as SDR BT.709 frames.

Stylization works on 8-bit SDR frames, and artvid writes SDR BT.709 video. An HDR clip's samples
are not SDR values: read as they are, an HLG clip comes out desaturated (BT.2020 primaries shown
as BT.709's) and a PQ clip dim and flat (its reference white, 203 cd/m², sits at 58 % of the
signal). :func:`to_sdr` maps 16-bit BT.2020 RGB to 8-bit BT.709 RGB the way ITU-R BT.2408 and
BT.2390 describe it:

1. to display light in cd/m²: PQ's EOTF (SMPTE ST 2084); HLG's inverse OETF and its OOTF for a
   1000 cd/m² display (system gamma 1.2, ITU-R BT.2100);
2. relative to HDR reference white (203 cd/m² = 1), the luminance left as it is up to
   :data:`KNEE` and rolled off smoothly towards 1 above it (highlights compressed, not clipped;
   the colour's chromaticity kept);
3. BT.2020 → BT.709 primaries (BT.2087), out-of-gamut values clipped;
4. encoded for a BT.1886 (gamma 2.4) display, as SDR video is.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from artvid.video.avio import note_once

log = logging.getLogger(__name__)

__all__ = ["HDR_TRANSFERS", "hdr_transfer", "to_sdr"]

PQ, HLG = 16, 18
"""FFmpeg's ``color_trc`` numbers of SMPTE ST 2084 (PQ) and ARIB STD-B67 (HLG)."""
HDR_TRANSFERS = {PQ: "PQ", HLG: "HLG"}

REFERENCE_WHITE = 203.0
"""cd/m² of HDR reference (diffuse) white, which becomes SDR white (ITU-R BT.2408)."""
HLG_DISPLAY_PEAK = 1000.0
"""cd/m² of the nominal HLG display whose OOTF is applied (system gamma 1.2)."""
KNEE = 0.75
"""Relative luminance above which highlights are rolled off towards SDR white."""

_BT2020_LUMA = np.array([0.2627, 0.6780, 0.0593], np.float32)
_BT2020_TO_BT709 = np.array([
    [1.6605, -0.5876, -0.0728],
    [-0.1246, 1.1329, -0.0083],
    [-0.0182, -0.1006, 1.1187],
], np.float32)


def _pq_to_nits(signal: np.ndarray) -> np.ndarray:
    m1, m2 = 2610 / 16384, 2523 / 4096 * 128
    c1, c2, c3 = 3424 / 4096, 2413 / 4096 * 32, 2392 / 4096 * 32
    p = np.power(signal, 1 / m2)
    return 10000.0 * np.power(np.maximum(p - c1, 0.0) / (c2 - c3 * p), 1 / m1)


def _hlg_to_nits(signal: np.ndarray) -> np.ndarray:
    a, b, c = 0.17883277, 0.28466892, 0.55991073
    scene = np.where(signal <= 0.5, signal * signal / 3.0, (np.exp((signal - c) / a) + b) / 12.0)
    luma = np.maximum(scene @ _BT2020_LUMA, 1e-6)[..., None]
    return HLG_DISPLAY_PEAK * np.power(luma, 0.2) * scene


def _roll_off(luminance: np.ndarray) -> np.ndarray:
    """Identity up to :data:`KNEE`, then ``KNEE + (1 - KNEE)(1 - exp(-(y - KNEE)/(1 - KNEE)))``:
    continuous with slope 1 at the knee, approaching 1 (SDR white) for the brightest highlights."""
    span = 1.0 - KNEE
    above = KNEE + span * (1.0 - np.exp(-(luminance - KNEE) / span))
    return np.where(luminance > KNEE, above, luminance)


def hdr_transfer(frame, path: Path) -> int | None:
    """The HDR transfer (``PQ`` or ``HLG``) a decoded frame is tagged with, or None for SDR."""
    transfer = getattr(frame, "color_trc", None)
    if transfer not in HDR_TRANSFERS:
        return None
    note_once(log, path, "%s is HDR (%s): mapped to SDR BT.709 as it is read", HDR_TRANSFERS[transfer])
    return int(transfer)


def to_sdr(rgb48: np.ndarray, transfer: int) -> np.ndarray:
    """An HDR frame as SDR.

    Args:
        rgb48: ``(H, W, 3) uint16`` non-linear BT.2020 RGB, full range (as decoded to ``rgb48``).
        transfer: ``PQ`` or ``HLG`` (FFmpeg's ``color_trc``).

    Returns:
        ``(H, W, 3) uint8`` BT.709 RGB for a gamma-2.4 display.

    Raises:
        ValueError: ``transfer`` is neither PQ nor HLG.
    """
    if transfer not in HDR_TRANSFERS:
        raise ValueError(f"expected an HDR transfer ({PQ} PQ or {HLG} HLG), got {transfer}")
    signal = rgb48.astype(np.float32) / np.float32(65535.0)
    nits = _pq_to_nits(signal) if transfer == PQ else _hlg_to_nits(signal)
    linear = nits / REFERENCE_WHITE
    luminance = linear @ _BT2020_LUMA
    scale = np.where(luminance > 0, _roll_off(luminance) / np.maximum(luminance, 1e-9), 1.0)
    bt709 = np.clip((linear * scale[..., None]) @ _BT2020_TO_BT709.T, 0.0, 1.0)
    return np.rint(np.power(bt709, 1 / 2.4) * 255.0).astype(np.uint8)
