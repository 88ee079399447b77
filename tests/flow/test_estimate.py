"""flow.estimate on synthetic clips with known motion, and its parameter handling."""

import subprocess
import sys

import numpy as np
import pytest

from flow import FlowMethodError, FlowShapeError, default_params, estimate, method_names
from tests.helpers import translating_clip

DX, DY = 2, 1


@pytest.fixture(scope="module")
def clip():
    return translating_clip(2, 64, 80, DX, DY)


@pytest.mark.parametrize("method", method_names())
def test_recovers_translation_in_interior(clip, method):
    prev, cur = clip
    flow_cur_to_prev = estimate(cur, prev, method)
    assert flow_cur_to_prev.shape == (64, 80, 2) and flow_cur_to_prev.dtype == np.float32
    interior = flow_cur_to_prev[8:-8, 8:-8]
    np.testing.assert_allclose(np.median(interior.reshape(-1, 2), axis=0), (DX, DY), atol=0.1)
    assert np.mean(np.linalg.norm(interior - (DX, DY), axis=2)) < 0.25


@pytest.mark.parametrize("preset", ["ultrafast", "fast", "medium"])
def test_dis_presets(clip, preset):
    prev, cur = clip
    flow = estimate(cur, prev, "dis", preset=preset)
    np.testing.assert_allclose(np.median(flow[8:-8, 8:-8].reshape(-1, 2), axis=0), (DX, DY), atol=0.25)


# Sizes on which OpenCV's DIS itself crashes the process (segmentation fault) or raises.
_SMALL_FRAMES = [(13, 128, "medium"), (24, 320, "fast"), (20, 100, "ultrafast"), (6, 64, "medium"), (8, 8, "medium")]


@pytest.mark.parametrize(("height", "width", "preset"), _SMALL_FRAMES)
def test_dis_small_frames(height, width, preset):
    # In a child process: a crash there fails this test instead of killing the test run.
    code = (
        "import numpy as np; from flow import estimate; from tests.helpers import translating_clip;"
        f"prev, cur = translating_clip(2, {height}, {width}, {DX}, {DY});"
        f"f = estimate(cur, prev, 'dis', preset={preset!r});"
        f"assert f.shape == ({height}, {width}, 2) and np.isfinite(f).all(), f.shape;"
        "print(*np.median(f.reshape(-1, 2), axis=0))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr[-2000:] or f"exit status {run.returncode}"
    if min(height, width) >= 13:
        np.testing.assert_allclose([float(v) for v in run.stdout.split()], (DX, DY), atol=0.5)


def test_dis_tunables_are_applied(clip):
    prev, cur = clip
    base = estimate(cur, prev, "dis", variational_refinement_iterations=0)
    other = estimate(cur, prev, "dis", variational_refinement_iterations=0, patch_size=12, patch_stride=4,
                     finest_scale=0, gradient_descent_iterations=10, use_mean_normalization=False,
                     use_spatial_propagation=False, variational_refinement_alpha=10.0,
                     variational_refinement_gamma=5.0, variational_refinement_delta=2.0)
    assert not np.array_equal(base, other)


def test_default_params_list_every_setting():
    dis = default_params("dis")
    assert dis["preset"] == "medium" and dis["finest_scale"] == 1 and dis["variational_refinement_iterations"] == 5
    assert set(dis) == {"preset", "finest_scale", "patch_size", "patch_stride", "gradient_descent_iterations",
                        "variational_refinement_iterations", "variational_refinement_alpha",
                        "variational_refinement_gamma", "variational_refinement_delta",
                        "use_mean_normalization", "use_spatial_propagation"}
    assert default_params("deepflow") == {}
    dis["preset"] = "fast"  # a copy: mutating it must not leak into the next call
    assert default_params("dis")["preset"] == "medium"


def test_unknown_method_and_params():
    a = np.zeros((16, 16, 3), np.uint8)
    with pytest.raises(FlowMethodError, match="expected one of dis, deepflow, got 'raft'"):
        estimate(a, a, "raft")
    with pytest.raises(FlowMethodError, match="expected one of dis, deepflow"):
        default_params("raft")
    with pytest.raises(FlowMethodError, match="unknown parameter.*bogus.*expected some of preset"):
        estimate(a, a, "dis", bogus=1)
    with pytest.raises(FlowMethodError, match="for deepflow: expected none"):
        estimate(a, a, "deepflow", alpha=1.0)
    with pytest.raises(FlowMethodError, match="expected one of ultrafast, fast, medium"):
        estimate(a, a, "dis", preset="slow")
    with pytest.raises(FlowMethodError, match="patch_size: expected int"):
        estimate(a, a, "dis", patch_size=8.5)
    with pytest.raises(FlowMethodError, match="use_mean_normalization: expected bool"):
        estimate(a, a, "dis", use_mean_normalization=1)
    with pytest.raises(FlowMethodError, match="variational_refinement_alpha: expected float"):
        estimate(a, a, "dis", variational_refinement_alpha="x")
    with pytest.raises(FlowMethodError, match="expected a value >= 0"):
        estimate(a, a, "dis", gradient_descent_iterations=-1)
    with pytest.raises(FlowMethodError, match="patch_stride <= patch_size"):
        estimate(a, a, "dis", patch_size=4, patch_stride=6)


def test_rejects_bad_frames():
    a = np.zeros((16, 16, 3), np.uint8)
    with pytest.raises(FlowShapeError, match=r"a: expected \(H, W, 3\) uint8, got float32 array"):
        estimate(a.astype(np.float32), a)
    with pytest.raises(FlowShapeError, match=r"b: expected \(H, W, 3\) uint8, got uint8 array of shape \(16, 16\)"):
        estimate(a, a[..., 0])
    with pytest.raises(FlowShapeError, match="b: expected the shape of a"):
        estimate(a, np.zeros((16, 17, 3), np.uint8))
    with pytest.raises(FlowShapeError, match="got list"):
        estimate([[0]], a)
