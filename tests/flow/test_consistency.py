"""flow.reliability: synthetic invariants and Ruder's reference masks."""

import numpy as np
import pytest

from flow import CHECKS, DEFAULT_CHECK, FlowMethodError, FlowShapeError, read_flo, read_mask, reliability
from tests.helpers import translating_clip

H, W = 40, 48


def _constant(dx, dy, h=H, w=W):
    f = np.zeros((h, w, 2), np.float32)
    f[..., 0], f[..., 1] = dx, dy
    return f


@pytest.mark.parametrize("smooth", [True, False])
def test_consistent_constant_flow(smooth):
    rel = reliability(_constant(5, -4), _constant(-5, 4), smooth=smooth)
    assert rel.shape == (H, W) and rel.dtype == np.float32
    # The 2x2 footprint of target (x + 5, y - 4) is inside for 4 <= y and x + 5 + 1 <= W - 1.
    inside = np.zeros((H, W), bool)
    inside[4:, : W - 6] = True
    # Smoothing (5 taps) blurs 2 pixels either side of that edge; beyond them values are exact.
    margin = 2 if smooth else 0
    np.testing.assert_array_equal(rel[4 + margin :, : W - 6 - margin], 1.0)
    np.testing.assert_array_equal(rel[: 4 - margin], 0.0)
    np.testing.assert_array_equal(rel[:, W - 6 + margin :], 0.0)
    if not smooth:
        np.testing.assert_array_equal(rel, inside.astype(np.float32))


def test_inconsistent_backward_flow_is_caught():
    back = _constant(-3, 2)
    back[10:20, 20:30] = (4.0, 0.0)  # a region of b whose backward flow points elsewhere
    rel = reliability(_constant(3, -2), back, smooth=False)
    # a-pixels whose target (x + 3, y - 2) has a 2x2 footprint touching the bad region
    expected = np.ones((H, W), np.float32)
    expected[12:22, 17:27] = 0.0
    expected[:2] = expected[:, W - 4 :] = 0.0
    np.testing.assert_array_equal(rel, expected)
    # Disocclusions are held at -1 before smoothing so the smoothing grows them: a pixel next to the
    # region drops to 0.5, where a plain 0 region would only pull it to 0.75.
    smoothed = reliability(_constant(3, -2), back)
    np.testing.assert_array_equal(smoothed[12:22, 17:27], 0.0)
    assert np.all(smoothed[14:20, 16] <= 0.51) and np.all(smoothed[14:20, 27] <= 0.51)


def test_motion_boundary_is_unreliable():
    fwd = _constant(0, 0)
    fwd[:, W // 2 :, 0] = 0.4  # a flow step: consistent, but a motion boundary
    back = _constant(0, 0)
    back[:, W // 2 :, 0] = -0.4
    rel = reliability(fwd, back, smooth=False)
    assert (rel[5:-5, W // 2 - 1 : W // 2 + 1] == 0).all()
    assert (rel[5:-5, 5:15] == 1).all()


def test_nonfinite_flow_is_unreliable():
    fwd = _constant(1, 0)
    fwd[5, 5] = np.nan
    assert reliability(fwd, _constant(-1, 0), smooth=False)[5, 5] == 0.0


def test_photometric_check_catches_colour_mismatch():
    prev, cur = translating_clip(2, H, W, 2, 1)
    flow_cur_to_prev, flow_prev_to_cur = _constant(2, 1), _constant(-2, -1)
    kwargs = dict(frame_a=cur, frame_b=prev, smooth=False)
    clean = reliability(flow_cur_to_prev, flow_prev_to_cur, check="photometric", **kwargs)
    ref = reliability(flow_cur_to_prev, flow_prev_to_cur, check="reference", smooth=False)
    np.testing.assert_array_equal(clean, ref)  # exact motion: nothing more is flagged
    spoiled = prev.copy()
    spoiled[20:30, 20:30] = 255 - spoiled[20:30, 20:30]  # content appearing only in b: "occluder"
    rel = reliability(flow_cur_to_prev, flow_prev_to_cur, check="photometric", frame_a=cur, frame_b=spoiled,
                      smooth=False)
    assert (rel[20:28, 19:27] == 0).mean() > 0.9
    assert (rel[5:15, 5:15] == 1).all()


def test_check_names_and_errors():
    assert CHECKS == ("reference", "photometric") and DEFAULT_CHECK in CHECKS
    f = _constant(0, 0)
    with pytest.raises(FlowMethodError, match="expected one of reference, photometric, got 'strict'"):
        reliability(f, f, check="strict")
    with pytest.raises(FlowMethodError, match="expected frame_a and frame_b"):
        reliability(f, f, check="photometric")
    frame = np.zeros((H, W, 3), np.uint8)
    with pytest.raises(FlowShapeError, match="frame_b: expected spatial size"):
        reliability(f, f, check="photometric", frame_a=frame, frame_b=np.zeros((H, W + 1, 3), np.uint8))
    with pytest.raises(FlowShapeError, match=r"frame_a: expected \(H, W, 3\) uint8"):
        reliability(f, f, check="photometric", frame_a=frame[..., 0], frame_b=frame)
    with pytest.raises(FlowShapeError, match=r"flow_ba: expected spatial size \(40, 48\)"):
        reliability(f, _constant(0, 0, H + 1, W))
    with pytest.raises(FlowShapeError, match=r"flow_ab: expected \(H, W, 2\) float32"):
        reliability(f[..., 0], f)


MARPLE_PAIRS = [(1, 2), (2, 1), (2, 3), (3, 2), (3, 4), (4, 3), (4, 5), (5, 4)]


@pytest.mark.parametrize("i, j", MARPLE_PAIRS)
def test_reproduces_ruders_reference_masks(shared_data, i, j):
    folder = shared_data / "ruder_marple8" / "deepflow"
    if not folder.is_dir():
        pytest.skip(f"{folder} not found")

    def name(s, t):
        return f"{'forward' if s < t else 'backward'}_{s}_{t}.flo"

    rel = reliability(read_flo(folder / name(i, j)), read_flo(folder / name(j, i)))
    ref = read_mask(folder / f"reliable_{i}_{j}.pgm")
    assert np.abs(rel - ref).mean() <= 0.01
    # Beyond the bound: the reference stores floor(255 * value) of a float sum that lands just
    # below 255, so its fully reliable pixels read 254; emulating that matches all but a few pixels.
    ref8 = np.round(ref * 255).astype(int)
    emulated = np.maximum(np.floor(rel * 255 - 1e-3), 0).astype(int)
    assert (ref8 != emulated).mean() < 1e-4
