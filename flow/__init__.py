"""Standalone optical-flow toolkit for artvid: numpy + OpenCV in, numpy out (no torch, no artvid).

Convention: ``estimate(a, b)`` lives on ``a``'s grid with ``a(p) ≈ b(p + flow(p))``;
``warp(prev, flow_cur_to_prev)`` brings ``prev`` onto the current frame.

Flow methods are :class:`FlowEstimator` objects in a registry (:func:`register`,
:func:`get_estimator`, :func:`method_names`), the one list of method names.
"""

from typing import Any

from flow.consistency import CHECKS, DEFAULT_CHECK, reliability
from flow.errors import FlowError, FlowFileError, FlowMethodError, FlowShapeError
from flow.estimate import default_params, estimate, resolve_params
from flow.estimator import FlowEstimator
from flow.io import read_flo, read_mask, write_flo, write_flow_png, write_mask
from flow.registry import get as get_estimator
from flow.registry import method_names, register, unregister
from flow.viz import flow_to_color
from flow.warp import BORDERS, INTERPOLATIONS, chain, out_of_frame_mask, warp

__all__ = [
    "BORDERS",
    "CHECKS",
    "INTERPOLATIONS",
    "DEFAULT_CHECK",
    "METHODS",
    "FlowError",
    "FlowEstimator",
    "FlowFileError",
    "FlowMethodError",
    "FlowShapeError",
    "chain",
    "default_params",
    "estimate",
    "flow_to_color",
    "get_estimator",
    "method_names",
    "out_of_frame_mask",
    "read_flo",
    "read_mask",
    "register",
    "reliability",
    "resolve_params",
    "unregister",
    "warp",
    "write_flo",
    "write_flow_png",
    "write_mask",
]


def __getattr__(name: str) -> Any:
    # Compatibility: ``flow.METHODS`` was a fixed tuple; it is now read from the registry on every
    # access, so estimators registered later are included. New code calls ``method_names()``.
    if name == "METHODS":
        return method_names()
    raise AttributeError(f"module 'flow' has no attribute {name!r}")
