"""Backward warping by a dense flow: ``out[p] = image(p + flow(p))``, bilinear or bicubic.

With ``flow_cur_to_prev = estimate(cur, prev)``, ``warp(prev, flow_cur_to_prev)`` brings the previous
frame (or its stylised version) onto the current frame's grid (Ruder et al. 2016, Sec. 3.2, ω).

Bilinear interpolation (Ruder's reference) is a low-pass filter at sub-pixel offsets: a stylized
frame shifted by half a pixel loses its finest brush texture (on the example, VGG's style loss of a
result warped onto the next frame is 13× the result's own; bicubic: 4×, the rest being
disocclusions). ``interpolation="bicubic"`` (Keys' cubic convolution, a = −0.5, clipped to the
image's own range) keeps it. Weights are computed exactly in numpy rather than with
``cv2.remap``, whose fixed-point weights (1/32 px steps) would add up to 1/64 px of position error.
"""

from __future__ import annotations

import numpy as np

from flow.errors import FlowShapeError
from flow.validate import check_flow, describe

BORDERS = ("mean", "zeros", "replicate", "reflect")
INTERPOLATIONS = ("bilinear", "bicubic")
_KEYS_A = -0.5
"""Keys' cubic convolution parameter: −0.5 reproduces quadratics (PIL, MATLAB; OpenCV uses −0.75)."""


def _target_coords(flow: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    height, width = flow.shape[:2]
    gx = np.arange(width, dtype=np.float32)[None, :]
    gy = np.arange(height, dtype=np.float32)[:, None]
    return gx + flow[..., 0], gy + flow[..., 1]


def out_of_frame_mask(flow: np.ndarray) -> np.ndarray:
    """Pixels whose target ``p + flow(p)`` lies outside the frame (or is not finite).

    The frame spans pixel centres ``0 <= x <= W-1`` and ``0 <= y <= H-1``.

    Args:
        flow: (H, W, 2) float flow in pixels.

    Returns:
        (H, W) bool, True = out of frame.

    Raises:
        FlowShapeError: when ``flow`` is not (H, W, 2) float.
    """
    flow = check_flow(flow)
    height, width = flow.shape[:2]
    x, y = _target_coords(flow)
    inside = (x >= 0) & (x <= width - 1) & (y >= 0) & (y <= height - 1)
    return ~inside


def _reflect101(index: np.ndarray, size: int) -> np.ndarray:
    # Mirror about the first and last pixel centres without repeating them (OpenCV's REFLECT_101):
    # on integer taps this equals reflecting the continuous coordinate before interpolating.
    if size == 1:
        return np.zeros_like(index)
    period = 2 * (size - 1)
    index = np.abs(index) % period
    return np.where(index >= size, period - index, index)


def _sampleable(x: np.ndarray, y: np.ndarray, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    # Non-finite coordinates sample pixel 0; far-away ones are clamped so the int conversion of
    # their taps cannot overflow.
    x = np.clip(np.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0), -2.0 * width - 2, 3.0 * width + 2)
    y = np.clip(np.nan_to_num(y, nan=0.0, posinf=0.0, neginf=0.0), -2.0 * height - 2, 3.0 * height + 2)
    return x, y


def bilinear_sample(image: np.ndarray, x: np.ndarray, y: np.ndarray, border: str = "replicate") -> np.ndarray:
    """Sample ``image`` at float coordinates with bilinear interpolation.

    Args:
        image: (H, W) or (H, W, C) array, any dtype.
        x: (h, w) float column coordinates (may be non-finite; those sample pixel 0).
        y: (h, w) float row coordinates.
        border: how taps outside the image are read: ``"replicate"`` (clamp) or ``"reflect"``.

    Returns:
        (h, w) or (h, w, C) float32.
    """
    height, width = image.shape[:2]
    x, y = _sampleable(x, y, height, width)
    x0f, y0f = np.floor(x), np.floor(y)
    ax = (x - x0f).astype(np.float32)
    ay = (y - y0f).astype(np.float32)
    x0, y0 = x0f.astype(np.int64), y0f.astype(np.int64)
    if border == "reflect":
        xs = (_reflect101(x0, width), _reflect101(x0 + 1, width))
        ys = (_reflect101(y0, height), _reflect101(y0 + 1, height))
    else:
        xs = (np.clip(x0, 0, width - 1), np.clip(x0 + 1, 0, width - 1))
        ys = (np.clip(y0, 0, height - 1), np.clip(y0 + 1, 0, height - 1))
    img = image.astype(np.float32, copy=False)
    if img.ndim == 3:
        ax, ay = ax[..., None], ay[..., None]
    top = img[ys[0], xs[0]] * (1 - ax) + img[ys[0], xs[1]] * ax
    bottom = img[ys[1], xs[0]] * (1 - ax) + img[ys[1], xs[1]] * ax
    return (top * (1 - ay) + bottom * ay).astype(np.float32, copy=False)


def _keys_weights(t: np.ndarray) -> list[np.ndarray]:
    # Weights of the taps at offsets -1, 0, 1, 2 from floor(x) for the fraction t in [0, 1).
    a = _KEYS_A

    def near(d: np.ndarray) -> np.ndarray:  # |d| <= 1
        return ((a + 2) * d - (a + 3)) * d * d + 1

    def far(d: np.ndarray) -> np.ndarray:  # 1 < |d| < 2
        return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a

    return [far(1 + t), near(t), near(1 - t), far(2 - t)]


def bicubic_sample(image: np.ndarray, x: np.ndarray, y: np.ndarray, border: str = "replicate") -> np.ndarray:
    """:func:`bilinear_sample` (same arguments and result) with Keys' bicubic convolution (a = −0.5).

    Exact at integer coordinates; reproduces linear and quadratic ramps. The result can overshoot
    the image's range near edges (ringing); :func:`warp` clips it.
    """
    height, width = image.shape[:2]
    x, y = _sampleable(x, y, height, width)
    x0f, y0f = np.floor(x), np.floor(y)
    wx = [w.astype(np.float32) for w in _keys_weights((x - x0f).astype(np.float32))]
    wy = [w.astype(np.float32) for w in _keys_weights((y - y0f).astype(np.float32))]
    x0, y0 = x0f.astype(np.int64), y0f.astype(np.int64)

    def taps(index: np.ndarray, size: int) -> list[np.ndarray]:
        offsets = [index + k for k in (-1, 0, 1, 2)]
        if border == "reflect":
            return [_reflect101(o, size) for o in offsets]
        return [np.clip(o, 0, size - 1) for o in offsets]

    xs, ys = taps(x0, width), taps(y0, height)
    img = image.astype(np.float32, copy=False)
    if img.ndim == 3:
        wx, wy = [w[..., None] for w in wx], [w[..., None] for w in wy]
    out = np.zeros(x.shape + img.shape[2:], np.float32)
    for row, weight_y in zip(ys, wy):
        line = sum(img[row, col] * weight_x for col, weight_x in zip(xs, wx))
        out += line * weight_y
    return out


def warp(image: np.ndarray, flow: np.ndarray, border: str = "mean", interpolation: str = "bilinear") -> np.ndarray:
    """Backward-warp ``image`` by ``flow``: ``out[p] = image(p + flow(p))``.

    Args:
        image: (H, W) or (H, W, C) array of any numeric dtype, on the grid ``flow`` points into.
        flow: (H, W, 2) float flow in pixels, on the output grid (e.g. ``flow_cur_to_prev``).
        border: what out-of-frame targets get: ``"mean"`` (the image's mean colour, as Ruder's
            reference fills them), ``"zeros"``, ``"replicate"`` (nearest edge pixel) or ``"reflect"``
            (mirrored about the edge pixel centres).
        interpolation: ``"bilinear"`` (Ruder's reference) or ``"bicubic"`` (sharper; clipped to
            the range of ``image``'s own values, so it never invents colours beyond them).

    Returns:
        float32 array of ``image``'s shape.

    Raises:
        FlowShapeError: on mismatched or malformed shapes, an unknown ``border`` or ``interpolation``.
    """
    if border not in BORDERS:
        raise FlowShapeError(f"border: expected one of {', '.join(BORDERS)}, got {border!r}")
    if interpolation not in INTERPOLATIONS:
        raise FlowShapeError(f"interpolation: expected one of {', '.join(INTERPOLATIONS)}, got {interpolation!r}")
    if not (
        isinstance(image, np.ndarray)
        and image.ndim in (2, 3)
        and image.size
        and (np.issubdtype(image.dtype, np.number) or image.dtype == np.bool_)
    ):
        raise FlowShapeError(f"image: expected (H, W) or (H, W, C) numeric array, got {describe(image)}")
    flow = check_flow(flow, shape=image.shape[:2])
    x, y = _target_coords(flow)
    taps = "reflect" if border == "reflect" else "replicate"
    if interpolation == "bilinear":
        out = bilinear_sample(image, x, y, taps)
    else:
        out = bicubic_sample(image, x, y, taps)
        np.clip(out, image.min(), image.max(), out=out)
    if border in ("mean", "zeros"):
        outside = out_of_frame_mask(flow)
        if outside.any():
            fill = image.reshape(-1, *image.shape[2:]).astype(np.float64).mean(axis=0) if border == "mean" else 0.0
            out[outside] = fill
    return out


def chain(steps: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Compose the flows of consecutive steps ``a → b → … → z`` into one flow ``a → z`` on ``a``'s grid.

    Each step is ``(flow, reliability)`` on its own start frame's grid. A pixel follows its
    trajectory step by step: ``F(p) = F_prev(p) + f(p + F_prev(p))``, every later step sampled
    bilinearly where the trajectory has arrived. Its reliability is the product of the steps'
    reliabilities along the trajectory, and 0 once it has left the frame. Over a long span this
    follows the motion where one direct estimate across the span loses it (large displacements),
    and it is unreliable wherever any frame in between occluded the pixel.

    Args:
        steps: ``[(flow (H, W, 2), reliability (H, W)), …]``, at least one, all of one size.

    Returns:
        ``(flow (H, W, 2) float32, reliability (H, W) float32)``.

    Raises:
        FlowShapeError: on an empty list or mismatched shapes.
    """
    if not steps:
        raise FlowShapeError("chain: expected at least one (flow, reliability) step, got none")
    first_flow, first_rel = steps[0]
    total = check_flow(first_flow).astype(np.float32, copy=True)
    rel = _check_reliability(first_rel, total.shape[:2]).astype(np.float32, copy=True)
    for step_flow, step_rel in steps[1:]:
        step_flow = check_flow(step_flow, shape=total.shape[:2])
        step_rel = _check_reliability(step_rel, total.shape[:2])
        x, y = _target_coords(total)
        sampled = bilinear_sample(np.dstack([step_flow, step_rel]).astype(np.float32), x, y, "replicate")
        rel *= sampled[..., 2]
        rel[out_of_frame_mask(total)] = 0.0
        total += sampled[..., :2]
    rel[out_of_frame_mask(total)] = 0.0
    return total, rel


def _check_reliability(rel: object, shape: tuple[int, ...]) -> np.ndarray:
    if not (isinstance(rel, np.ndarray) and rel.shape == tuple(shape) and np.issubdtype(rel.dtype, np.floating)):
        raise FlowShapeError(f"reliability: expected {tuple(shape)} float array, got {describe(rel)}")
    return rel
