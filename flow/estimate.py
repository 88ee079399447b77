"""Dense optical flow between two RGB frames with OpenCV (DIS, DeepFlow).

Convention used everywhere in artvid: ``estimate(a, b)`` is defined on ``a``'s grid with
``a(p) ≈ b(p + flow(p))``, exactly like OpenCV's ``calc(I0, I1)``.
"""

from __future__ import annotations

import logging
from typing import Any

import cv2
import numpy as np

from flow.errors import FlowMethodError, FlowShapeError
from flow.validate import check_frame

logger = logging.getLogger(__name__)

METHODS = ("dis", "deepflow")

DIS_PRESETS = {
    "ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
    "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
    "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
}

# DIS tunables: name -> (OpenCV setter, type). Values not given explicitly come from the preset.
_DIS_SETTERS = {
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
_DIS_PRESET_VALUES: dict[str, dict[str, Any]] = {
    "ultrafast": dict(finest_scale=2, patch_size=8, patch_stride=4, gradient_descent_iterations=12,
                      variational_refinement_iterations=0),
    "fast": dict(finest_scale=2, patch_size=8, patch_stride=4, gradient_descent_iterations=16,
                 variational_refinement_iterations=5),
    "medium": dict(finest_scale=1, patch_size=8, patch_stride=3, gradient_descent_iterations=25,
                   variational_refinement_iterations=5),
}
_DIS_COMMON = dict(
    variational_refinement_alpha=20.0,
    variational_refinement_gamma=10.0,
    variational_refinement_delta=5.0,
    use_mean_normalization=True,
    use_spatial_propagation=True,
)

# OpenCV 5's Python binding of createOptFlow_DeepFlow() exposes no setters and no read/write of its
# settings (sigma 0.6, alpha 1, delta 0.5, gamma 5, 5 fixed-point and 25 SOR iterations, downscale
# factor 0.95 are fixed in C++), so DeepFlow has no tunable parameters here.
_DEEPFLOW_DEFAULTS: dict[str, Any] = {}


def _unknown_method(method: object) -> FlowMethodError:
    return FlowMethodError(f"unknown flow method: expected one of {', '.join(METHODS)}, got {method!r}")


def default_params(method: str) -> dict[str, Any]:
    """Every parameter of ``method`` with its default value.

    The flow cache hashes this into its key, so it lists every setting that changes the result.

    Args:
        method: one of ``METHODS``.

    Returns:
        A new dict, e.g. ``{"preset": "medium", "finest_scale": 1, ...}`` for DIS, ``{}`` for DeepFlow.

    Raises:
        FlowMethodError: for an unknown method.
    """
    if method == "dis":
        return resolve_params("dis", {})
    if method == "deepflow":
        return dict(_DEEPFLOW_DEFAULTS)
    raise _unknown_method(method)


def resolve_params(method: str, params: dict[str, Any]) -> dict[str, Any]:
    """Complete and validate user ``params`` for ``method``: every parameter, with its value.

    For DIS the ``preset`` supplies the values of the tunables the caller leaves out.

    Raises:
        FlowMethodError: for an unknown method, an unknown parameter or a value of the wrong kind.
    """
    if method == "deepflow":
        allowed: tuple[str, ...] = tuple(_DEEPFLOW_DEFAULTS)
        if params:
            unknown = sorted(params)
            raise FlowMethodError(
                f"unknown parameter(s) {', '.join(unknown)} for deepflow: expected none "
                "(OpenCV's DeepFlow binding exposes no settings)"
            )
        return dict(_DEEPFLOW_DEFAULTS)
    if method != "dis":
        raise _unknown_method(method)
    allowed = ("preset", *_DIS_SETTERS)
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise FlowMethodError(
            f"unknown parameter(s) {', '.join(unknown)} for dis: expected some of {', '.join(allowed)}"
        )
    preset = params.get("preset", "medium")
    if preset not in DIS_PRESETS:
        raise FlowMethodError(f"unknown dis preset: expected one of {', '.join(DIS_PRESETS)}, got {preset!r}")
    out: dict[str, Any] = {"preset": preset, **_DIS_PRESET_VALUES[preset], **_DIS_COMMON}
    for name, value in params.items():
        if name == "preset":
            continue
        kind = _DIS_SETTERS[name][1]
        if kind is bool:
            ok = isinstance(value, (bool, np.bool_))
        elif kind is int:
            ok = isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
        else:
            ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))
        if not ok:
            raise FlowMethodError(f"dis parameter {name}: expected {kind.__name__}, got {value!r}")
        if kind is not bool and value < 0:
            raise FlowMethodError(f"dis parameter {name}: expected a value >= 0, got {value!r}")
        out[name] = kind(value)
    if out["patch_size"] < 1 or not 1 <= out["patch_stride"] <= out["patch_size"]:
        raise FlowMethodError(
            "dis parameters: expected 1 <= patch_stride <= patch_size, "
            f"got patch_size={out['patch_size']}, patch_stride={out['patch_stride']}"
        )
    return out


def _gray(frame: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)


def _dis(gray_a: np.ndarray, gray_b: np.ndarray, params: dict[str, Any]) -> np.ndarray:
    dis = cv2.DISOpticalFlow_create(DIS_PRESETS[params["preset"]])
    for name, (setter, _) in _DIS_SETTERS.items():
        getattr(dis, setter)(params[name])
    return dis.calc(gray_a, gray_b, None)


def _deepflow(gray_a: np.ndarray, gray_b: np.ndarray, params: dict[str, Any]) -> np.ndarray:
    return cv2.optflow.createOptFlow_DeepFlow().calc(gray_a, gray_b, None)


def estimate(a: np.ndarray, b: np.ndarray, method: str = "dis", **params: Any) -> np.ndarray:
    """Dense optical flow from frame ``a`` to frame ``b``.

    The result lives on ``a``'s grid: ``a(p) ≈ b(p + flow(p))``. Pass ``(cur, prev)`` to get
    ``flow_cur_to_prev``, the flow that warps the previous frame onto the current one.

    Args:
        a: (H, W, 3) uint8 RGB frame (converted to grayscale inside, as both methods need).
        b: (H, W, 3) uint8 RGB frame of the same size.
        method: ``"dis"`` (fast, default) or ``"deepflow"`` (slower, the paper's choice).
        **params: method settings; for DIS ``preset`` in ``"ultrafast"``, ``"fast"``, ``"medium"``
            (default) and the tunables listed by ``default_params("dis")``. DeepFlow takes none.

    Returns:
        (H, W, 2) float32 flow in pixels, ``[..., 0]`` = dx, ``[..., 1]`` = dy.

    Raises:
        FlowShapeError: when a frame is not (H, W, 3) uint8 or the sizes differ.
        FlowMethodError: for an unknown method or parameter.
    """
    check_frame(a, "a")
    check_frame(b, "b")
    if a.shape != b.shape:
        raise FlowShapeError(f"b: expected the shape of a {a.shape}, got {b.shape}")
    resolved = resolve_params(method, params)
    gray_a, gray_b = _gray(np.ascontiguousarray(a)), _gray(np.ascontiguousarray(b))
    if method == "dis":
        flow = _dis(gray_a, gray_b, resolved)
    else:
        flow = _deepflow(gray_a, gray_b, resolved)
    return np.ascontiguousarray(flow, dtype=np.float32)
