"""Dense optical flow between two RGB frames, by any registered estimator (see ``flow.registry``).

Convention used everywhere in artvid: ``estimate(a, b)`` is defined on ``a``'s grid with
``a(p) ≈ b(p + flow(p))``, exactly like OpenCV's ``calc(I0, I1)``.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from flow.errors import FlowShapeError
from flow.registry import get
from flow.validate import check_frame, describe


def default_params(method: str) -> dict[str, Any]:
    """Every parameter of ``method`` with its default value.

    The flow cache hashes this into its key, so it lists every setting that changes the result.

    Args:
        method: a registered method name (see ``flow.method_names()``).

    Returns:
        A new dict, e.g. ``{"preset": "medium", "finest_scale": 1, ...}`` for DIS, ``{}`` for DeepFlow.

    Raises:
        FlowMethodError: for an unknown method.
    """
    return get(method).default_params()


def resolve_params(method: str, params: dict[str, Any]) -> dict[str, Any]:
    """Complete and validate user ``params`` for ``method``: every parameter, with its value.

    For DIS the ``preset`` supplies the values of the tunables the caller leaves out.

    Raises:
        FlowMethodError: for an unknown method, an unknown parameter or a value of the wrong kind.
    """
    return get(method).resolve_params(dict(params))


def estimate(a: np.ndarray, b: np.ndarray, method: str = "dis", **params: Any) -> np.ndarray:
    """Dense optical flow from frame ``a`` to frame ``b``.

    The result lives on ``a``'s grid: ``a(p) ≈ b(p + flow(p))``. Pass ``(cur, prev)`` to get
    ``flow_cur_to_prev``, the flow that warps the previous frame onto the current one.

    Args:
        a: (H, W, 3) uint8 RGB frame (converted to grayscale for estimators that need it).
        b: (H, W, 3) uint8 RGB frame of the same size.
        method: a registered method: ``"dis"`` (fast, default), ``"deepflow"`` (slower, the
            paper's choice) or one registered with ``flow.register``.
        **params: method settings; for DIS ``preset`` in ``"ultrafast"``, ``"fast"``, ``"medium"``
            (default) and the tunables listed by ``default_params("dis")``. DeepFlow takes none.

    Returns:
        (H, W, 2) float32 flow in pixels, ``[..., 0]`` = dx, ``[..., 1]`` = dy.

    Raises:
        FlowShapeError: when a frame is not (H, W, 3) uint8, the sizes differ, or the estimator
            returns something other than an (H, W, 2) float array.
        FlowMethodError: for an unknown method or parameter.
    """
    check_frame(a, "a")
    check_frame(b, "b")
    if a.shape != b.shape:
        raise FlowShapeError(f"b: expected the shape of a {a.shape}, got {b.shape}")
    estimator = get(method)
    resolved = estimator.resolve_params(dict(params))
    a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)
    if estimator.input == "gray":
        a, b = cv2.cvtColor(a, cv2.COLOR_RGB2GRAY), cv2.cvtColor(b, cv2.COLOR_RGB2GRAY)
    flow = estimator.estimate(a, b, resolved)
    if not (
        isinstance(flow, np.ndarray) and flow.shape == (*a.shape[:2], 2) and np.issubdtype(flow.dtype, np.floating)
    ):
        raise FlowShapeError(
            f"{method} estimator result: expected ({a.shape[0]}, {a.shape[1]}, 2) float, got {describe(flow)}"
        )
    return np.ascontiguousarray(flow, dtype=np.float32)
