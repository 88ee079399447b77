"""Standalone optical-flow toolkit for artvid: numpy + OpenCV in, numpy out (no torch, no artvid).

Convention: ``estimate(a, b)`` lives on ``a``'s grid with ``a(p) ≈ b(p + flow(p))``;
``warp(prev, flow_cur_to_prev)`` brings ``prev`` onto the current frame.
"""

from flow.consistency import CHECKS, DEFAULT_CHECK, reliability
from flow.errors import FlowError, FlowFileError, FlowMethodError, FlowShapeError
from flow.estimate import METHODS, default_params, estimate
from flow.io import read_flo, read_mask, write_flo, write_flow_png, write_mask
from flow.viz import flow_to_color
from flow.warp import BORDERS, out_of_frame_mask, warp

__all__ = [
    "BORDERS",
    "CHECKS",
    "DEFAULT_CHECK",
    "METHODS",
    "FlowError",
    "FlowFileError",
    "FlowMethodError",
    "FlowShapeError",
    "default_params",
    "estimate",
    "flow_to_color",
    "out_of_frame_mask",
    "read_flo",
    "read_mask",
    "reliability",
    "warp",
    "write_flo",
    "write_flow_png",
    "write_mask",
]
