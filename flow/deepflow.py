"""OpenCV's DeepFlow (Weinzaepfel et al. 2013), the estimator of Ruder et al.; slower than DIS."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from flow.estimator import FlowEstimator

# Bump when this wrapper changes the flow it returns for the same OpenCV.
REVISION = 1


class DeepFlow(FlowEstimator):
    """DeepFlow on grayscale frames, without parameters.

    OpenCV 5's Python binding of ``createOptFlow_DeepFlow()`` exposes no setters and no read/write
    of its settings (sigma 0.6, alpha 1, delta 0.5, gamma 5, 5 fixed-point and 25 SOR iterations,
    downscale factor 0.95 are fixed in C++), so DeepFlow has no tunable parameters here.
    """

    name = "deepflow"

    @property
    def cache_token(self) -> str:
        """``deepflow/<wrapper revision>/opencv-<version>`` (the fixed settings live in that version)."""
        return f"deepflow/{REVISION}/opencv-{cv2.__version__}"

    def estimate(self, a: np.ndarray, b: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        """DeepFlow from gray ``a`` to gray ``b``; OpenCV's contrib ``optflow`` module computes it."""
        return cv2.optflow.createOptFlow_DeepFlow().calc(a, b, None)
