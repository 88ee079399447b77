"""Full-resolution accuracy on Sintel alley_1 (clean), frames 2 -> 3, against ground truth.

Each flow is computed once per module (DeepFlow takes about a second at 1024x436).
"""

import numpy as np
import pytest

from flow import estimate, read_flo

BOUNDS = {"deepflow": 0.20, "dis": 0.35}  # non-occluded end-point error, pixels


@pytest.fixture(scope="module")
def alley(shared_data):
    import cv2

    folder = shared_data / "sintel" / "alley_1_clean"
    if not folder.is_dir():
        pytest.skip(f"{folder} not found")

    def rgb(name):
        return cv2.cvtColor(cv2.imread(str(folder / name)), cv2.COLOR_BGR2RGB)

    occluded = cv2.imread(str(folder / "occlusions" / "frame_0002.png"), cv2.IMREAD_GRAYSCALE) > 127
    invalid = cv2.imread(str(folder / "invalid" / "frame_0002.png"), cv2.IMREAD_GRAYSCALE) > 127
    return {
        "a": rgb("frame_0002.png"),
        "b": rgb("frame_0003.png"),
        "gt": read_flo(folder / "flow" / "frame_0002.flo"),
        "noc": ~occluded & ~invalid,
    }


@pytest.fixture(scope="module")
def flows(alley):
    return {method: estimate(alley["a"], alley["b"], method) for method in BOUNDS}


@pytest.mark.parametrize("method", sorted(BOUNDS))
def test_noc_epe_within_bound(alley, flows, method):
    epe = np.linalg.norm(flows[method] - alley["gt"], axis=2)[alley["noc"]].mean()
    assert epe <= BOUNDS[method], f"{method}: non-occluded EPE {epe:.3f} px > {BOUNDS[method]}"


def test_gt_flow_warps_frame(alley):
    from flow import warp

    err_warped = np.abs(warp(alley["b"], alley["gt"]) - alley["a"]).mean(axis=2)[alley["noc"]].mean()
    err_static = np.abs(alley["b"].astype(np.float32) - alley["a"]).mean(axis=2)[alley["noc"]].mean()
    assert err_warped < 0.5 * err_static
