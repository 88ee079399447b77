"""Reliability of a flow field: which pixels may carry the temporal constraint.

``check="reference"`` follows Ruder et al. 2016, Sec. 3.2 (Eqs. 5 and 6, coefficients from Sundaram
et al. 2010), as implemented in the authors' ``consistencyChecker``: disocclusions by a
forward-backward test, motion boundaries by the flow gradient, pixels leaving the frame, then a
small Gaussian smoothing. ``check="photometric"`` adds a colour test on the content frames.
"""

from __future__ import annotations

import numpy as np

from flow.errors import FlowMethodError, FlowShapeError
from flow.validate import check_flow, check_frame
from flow.warp import bilinear_sample

CHECKS = ("reference", "photometric")
# "photometric" catches far more Sintel occlusions (alley_1 DeepFlow: 47 % vs 27 %) but on market_5
# it also drops 5.6 points of visible pixels (72 % kept vs 78 %), so it is not clearly better on
# both sequences and stays opt-in. Numbers: ``python bench/occlusion.py``.
DEFAULT_CHECK = "reference"

# Ruder's smoothing: Gaussian sigma 0.8 cut at 2 sigma -> 5 taps, normalised to sum 1.
SMOOTH_SIGMA = 0.8
# Disoccluded pixels are held at this value before smoothing so that smoothing grows them.
_DISOCCLUDED = -1.0


def _mirror_pad(x: np.ndarray, r: int, axis: int) -> np.ndarray:
    # Brox's CFilter mirrors with the edge sample repeated (index -1 -> 0, -2 -> 1): numpy "symmetric".
    pad = [(0, 0)] * x.ndim
    pad[axis] = (r, r)
    return np.pad(x, pad, mode="symmetric")


def _filter1d(x: np.ndarray, taps: np.ndarray, axis: int) -> np.ndarray:
    """Correlate ``x`` along ``axis`` with centred odd-length ``taps`` and mirrored borders."""
    r = len(taps) // 2
    padded = _mirror_pad(x, r, axis)
    n = x.shape[axis]
    out = np.zeros_like(x)
    for k, t in enumerate(taps):
        if t != 0:
            out += t * np.take(padded, np.arange(k, k + n), axis=axis)
    return out


def _gaussian_taps(sigma: float) -> np.ndarray:
    r = int(np.ceil(2.0 * sigma))
    i = np.arange(-r, r + 1, dtype=np.float64)
    g = np.exp(-(i**2) / (2.0 * sigma**2))
    return (g / g.sum()).astype(np.float32)


def gaussian_smooth(rel: np.ndarray, sigma: float = SMOOTH_SIGMA) -> np.ndarray:
    """Separable Gaussian smoothing with mirrored borders (Ruder's ``CSmooth(0.8, 2)``).

    Args:
        rel: (H, W) float32.
        sigma: standard deviation in pixels; the kernel is cut at 2 sigma and normalised.

    Returns:
        (H, W) float32.
    """
    taps = _gaussian_taps(sigma)
    return _filter1d(_filter1d(rel.astype(np.float32), taps, axis=1), taps, axis=0)


# Central difference, Brox's CDerivative(3) as used by the reference checker. A 5-tap derivative
# (1/12, -2/3, 0, 2/3, -1/12) changes about 3000 pixels of each marple8 reference mask; this one
# reproduces them to within a few pixels (tests/flow/test_consistency.py).
_DERIVATIVE = np.array([-0.5, 0.0, 0.5], dtype=np.float32)


def motion_edge(flow: np.ndarray) -> np.ndarray:
    """Squared flow gradient ``|∇u|² + |∇v|²`` (Ruder et al. 2016, Eq. 6 left-hand side).

    Args:
        flow: (H, W, 2) float32.

    Returns:
        (H, W) float32.
    """
    dx = _filter1d(flow, _DERIVATIVE, axis=1)
    dy = _filter1d(flow, _DERIVATIVE, axis=0)
    return (dx**2).sum(axis=2) + (dy**2).sum(axis=2)


def _reference_raw(flow_ab: np.ndarray, flow_ba: np.ndarray) -> np.ndarray:
    """Ruder's unsmoothed labels: 1 reliable, 0 out of frame or motion boundary, -1 disoccluded."""
    height, width = flow_ab.shape[:2]
    u2, v2 = flow_ab[..., 0], flow_ab[..., 1]
    bx = np.arange(width, dtype=np.float32)[None, :] + u2
    by = np.arange(height, dtype=np.float32)[:, None] + v2
    x1, y1 = np.floor(bx), np.floor(by)
    # The reference rejects a target whose whole 2x2 bilinear footprint is not inside the frame.
    # Non-finite flow compares False everywhere, so test "inside" and negate.
    inside = (x1 >= 0) & (x1 + 1 < width) & (y1 >= 0) & (y1 + 1 < height)
    back = bilinear_sample(flow_ba, bx, by, "replicate")
    u, v = back[..., 0], back[..., 1]
    # Eq. 5: |w + ŵ(p+w)|² < 0.01 (|w|² + |ŵ(p+w)|²) + 0.5
    err = (u2 + u) ** 2 + (v2 + v) ** 2
    disoccluded = err >= 0.01 * (u2**2 + v2**2 + u**2 + v**2) + 0.5
    # Eq. 6: |∇u|² + |∇v|² > 0.01 |w|² + 0.002
    boundary = motion_edge(flow_ab) > 0.01 * (u2**2 + v2**2) + 0.002
    rel = np.ones((height, width), np.float32)
    rel[boundary] = 0.0
    rel[disoccluded] = _DISOCCLUDED
    rel[~inside] = 0.0
    return rel


def reliability(
    flow_ab: np.ndarray,
    flow_ba: np.ndarray,
    *,
    check: str = DEFAULT_CHECK,
    frame_a: np.ndarray | None = None,
    frame_b: np.ndarray | None = None,
    smooth: bool = True,
) -> np.ndarray:
    """Per-pixel reliability of ``flow_ab`` judged against the reverse flow ``flow_ba``.

    For the temporal loss of frame ``i``: ``flow_ab = estimate(frame_i, frame_{i-1})`` (flow_cur_to_prev)
    and ``flow_ba = estimate(frame_{i-1}, frame_i)``; Ruder's ``reliable_2_1.pgm`` is
    ``reliability(read_flo("backward_2_1.flo"), read_flo("forward_1_2.flo"))``.

    Args:
        flow_ab: (H, W, 2) float flow on a's grid, ``a(p) ≈ b(p + flow_ab(p))``.
        flow_ba: (H, W, 2) float flow on b's grid.
        check: ``"reference"`` (Ruder's consistencyChecker) or ``"photometric"`` (reference plus a
            colour residual test; needs ``frame_a`` and ``frame_b``).
        frame_a: (H, W, 3) uint8 RGB frame a, for ``check="photometric"``.
        frame_b: (H, W, 3) uint8 RGB frame b, for ``check="photometric"``.
        smooth: apply Ruder's Gaussian smoothing (sigma 0.8); False gives binary 0/1 values.

    Returns:
        (H, W) float32 in [0, 1], 1 = reliable, on a's grid.

    Raises:
        FlowShapeError: on malformed or mismatched arrays.
        FlowMethodError: for an unknown ``check`` or missing frames for ``"photometric"``.
    """
    if check not in CHECKS:
        raise FlowMethodError(f"unknown consistency check: expected one of {', '.join(CHECKS)}, got {check!r}")
    flow_ab = check_flow(flow_ab, "flow_ab")
    flow_ba = check_flow(flow_ba, "flow_ba", shape=flow_ab.shape[:2])
    rel = _reference_raw(flow_ab, flow_ba)
    if check == "photometric":
        if frame_a is None or frame_b is None:
            raise FlowMethodError("check='photometric': expected frame_a and frame_b, got None")
        from flow.photometric import photometric_unreliable

        check_frame(frame_a, "frame_a")
        check_frame(frame_b, "frame_b")
        for name, frame in (("frame_a", frame_a), ("frame_b", frame_b)):
            if frame.shape[:2] != flow_ab.shape[:2]:
                raise FlowShapeError(f"{name}: expected spatial size {flow_ab.shape[:2]}, got {frame.shape[:2]}")
        bad = photometric_unreliable(flow_ab, frame_a, frame_b) & (rel > 0)
        rel[bad] = _DISOCCLUDED
    if smooth:
        rel = gaussian_smooth(rel)
    return np.clip(rel, 0.0, 1.0).astype(np.float32)
