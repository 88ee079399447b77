"""Shape and dtype checks shared by the public functions of ``flow`` (torchvision-style messages)."""

from __future__ import annotations

import numpy as np

from flow.errors import FlowShapeError


def describe(x: object) -> str:
    """A short description of ``x`` for "expected …, got …" messages."""
    if isinstance(x, np.ndarray):
        return f"{x.dtype} array of shape {x.shape}"
    return type(x).__name__


def check_frame(frame: object, name: str = "frame") -> np.ndarray:
    """Check that ``frame`` is an (H, W, 3) uint8 RGB image.

    Raises:
        FlowShapeError: when it is not.
    """
    if not (isinstance(frame, np.ndarray) and frame.ndim == 3 and frame.shape[2] == 3 and frame.dtype == np.uint8):
        raise FlowShapeError(f"{name}: expected (H, W, 3) uint8, got {describe(frame)}")
    if frame.shape[0] < 1 or frame.shape[1] < 1:
        raise FlowShapeError(f"{name}: expected a non-empty image, got shape {frame.shape}")
    return frame


def check_flow(flow: object, name: str = "flow", shape: tuple[int, int] | None = None) -> np.ndarray:
    """Check that ``flow`` is an (H, W, 2) float array (and of spatial size ``shape`` if given).

    Returns:
        The flow as a float32 array (a view when it already was one).

    Raises:
        FlowShapeError: on a wrong shape, dtype or size.
    """
    if not (
        isinstance(flow, np.ndarray)
        and flow.ndim == 3
        and flow.shape[2] == 2
        and np.issubdtype(flow.dtype, np.floating)
        and flow.shape[0] >= 1
        and flow.shape[1] >= 1
    ):
        raise FlowShapeError(f"{name}: expected (H, W, 2) float32, got {describe(flow)}")
    if shape is not None and flow.shape[:2] != tuple(shape):
        raise FlowShapeError(f"{name}: expected spatial size {tuple(shape)}, got {flow.shape[:2]}")
    return flow.astype(np.float32, copy=False)
