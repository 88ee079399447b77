"""OpenCV's DIS optical flow (Kroeger et al. 2016): fast, the default estimator."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from flow.errors import FlowMethodError
from flow.estimator import FlowEstimator, typed_param

PRESETS = {
    "ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
    "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
    "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
}

# Tunables: name -> (OpenCV setter, type). Values not given explicitly come from the preset.
SETTERS = {
    "finest_scale": ("setFinestScale", int),
    "patch_size": ("setPatchSize", int),
    "patch_stride": ("setPatchStride", int),
    "gradient_descent_iterations": ("setGradientDescentIterations", int),
    "variational_refinement_iterations": ("setVariationalRefinementIterations", int),
    "variational_refinement_alpha": ("setVariationalRefinementAlpha", float),
    "variational_refinement_gamma": ("setVariationalRefinementGamma", float),
    "variational_refinement_delta": ("setVariationalRefinementDelta", float),
    "use_mean_normalization": ("setUseMeanNormalization", bool),
    "use_spatial_propagation": ("setUseSpatialPropagation", bool),
}

# OpenCV's own preset values (checked against OpenCV 5.0's getters), spelled out so that every
# setting is explicit and hashable. Untouched: "medium" already gives a non-occluded EPE of 0.29 px
# on Sintel alley_1 (bound 0.35), see tests/flow/test_sintel.py.
_PRESET_VALUES: dict[str, dict[str, Any]] = {
    "ultrafast": dict(finest_scale=2, patch_size=8, patch_stride=4, gradient_descent_iterations=12,
                      variational_refinement_iterations=0),
    "fast": dict(finest_scale=2, patch_size=8, patch_stride=4, gradient_descent_iterations=16,
                 variational_refinement_iterations=5),
    "medium": dict(finest_scale=1, patch_size=8, patch_stride=3, gradient_descent_iterations=25,
                   variational_refinement_iterations=5),
}
_COMMON = dict(
    variational_refinement_alpha=20.0,
    variational_refinement_gamma=10.0,
    variational_refinement_delta=5.0,
    use_mean_normalization=True,
    use_spatial_propagation=True,
)

# Bump when this wrapper changes the flow it returns for the same OpenCV (input conversion,
# how settings are applied), so flow caches stop reusing the old results.
# 2: frames smaller than min_side() are padded (OpenCV crashed or raised on them).
REVISION = 2


def min_side(params: dict[str, Any]) -> int:
    """The smallest frame side OpenCV's DIS handles with resolved ``params``, in pixels.

    DIS's finest pyramid level, ``2**finest_scale`` times smaller than the frame, must hold a
    patch; below that OpenCV 5.0 raises, or crashes the process (a 128x13 frame with the medium
    preset, 320x24 with fast). Probed on sides of 4 to 1000 px for finest scales 0 to 2: every
    frame with both sides at least this size works.
    """
    return max(params["patch_size"] << params["finest_scale"], 2 * params["patch_size"])


class DIS(FlowEstimator):
    """DIS on grayscale frames; ``preset`` plus every OpenCV tunable (see :data:`SETTERS`)."""

    name = "dis"

    @property
    def cache_token(self) -> str:
        """``dis/<wrapper revision>/opencv-<version>``."""
        return f"dis/{REVISION}/opencv-{cv2.__version__}"

    def resolve_params(self, params: dict[str, Any]) -> dict[str, Any]:
        """Every DIS setting: the ``preset`` (default ``"medium"``) supplies the tunables left out.

        Raises:
            FlowMethodError: for an unknown parameter or preset, a value of the wrong kind, a
                negative value, or ``patch_stride`` outside ``1..patch_size``.
        """
        allowed = ("preset", *SETTERS)
        unknown = sorted(set(params) - set(allowed))
        if unknown:
            raise FlowMethodError(
                f"unknown parameter(s) {', '.join(unknown)} for dis: expected some of {', '.join(allowed)}"
            )
        preset = params.get("preset", "medium")
        if preset not in PRESETS:
            raise FlowMethodError(f"unknown dis preset: expected one of {', '.join(PRESETS)}, got {preset!r}")
        out: dict[str, Any] = {"preset": preset, **_PRESET_VALUES[preset], **_COMMON}
        for name, value in params.items():
            if name != "preset":
                out[name] = typed_param("dis", name, value, SETTERS[name][1])
        if out["patch_size"] < 1 or not 1 <= out["patch_stride"] <= out["patch_size"]:
            raise FlowMethodError(
                "dis parameters: expected 1 <= patch_stride <= patch_size, "
                f"got patch_size={out['patch_size']}, patch_stride={out['patch_stride']}"
            )
        return out

    def estimate(self, a: np.ndarray, b: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        """DIS flow from gray ``a`` to gray ``b`` with resolved ``params``.

        A frame with a side under :func:`min_side` is extended to it by repeating its last row or
        column, and the flow cropped back to the frame.
        """
        dis = cv2.DISOpticalFlow_create(PRESETS[params["preset"]])
        for name, (setter, _) in SETTERS.items():
            getattr(dis, setter)(params[name])
        height, width = a.shape[:2]
        need = min_side(params)
        if height >= need and width >= need:
            return dis.calc(a, b, None)
        pad = ((0, max(0, need - height)), (0, max(0, need - width)))
        return dis.calc(np.pad(a, pad, mode="edge"), np.pad(b, pad, mode="edge"), None)[:height, :width]
