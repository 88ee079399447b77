"""Evaluation metrics for stylised videos: temporal consistency, style loss and content loss.

All temporal metrics compare an output frame ``O_t`` with another output frame ``O_s`` brought
onto ``t``'s grid by optical flow computed on the *content* clip, restricted to the pixels where
that flow can be trusted. With ``flow_cur_to_other`` defined on ``t``'s grid
(``I_t(p) ≈ I_s(p + flow(p))``, the ``flow`` package convention) the warped frame is
``ω(O_s) = flow.warp(O_s, flow_cur_to_other)`` and the per-pixel residual is
``d(p) = O_t(p) − ω(O_s)(p)``, a 3-vector over RGB channels. Images are float in ``[0, 1]``.

Notation used in every docstring below: ``H × W`` pixels, ``C = 3`` channels,
``w(p) ∈ [0, 1]`` the per-pixel validity weight (a reliability map, or a binary
non-occlusion mask), ``‖d(p)‖² = Σ_c d_c(p)²``.

* Ruder et al. 2016 ("Artistic style transfer for videos", GCPR, Sec. 3.2 Eq. 7 and the
  temporal-consistency evaluation of Sec. 7.1)::

      E_ruder = 1 / (C·H·W) · Σ_p w(p) · ‖d(p)‖²

  i.e. the short-term temporal loss itself with ``D = C·H·W``: unreliable pixels count as zero
  but still count in the denominator.

* Lai et al. 2018 ("Learning blind video temporal consistency", ECCV, Sec. 5.1 "Temporal
  stability", E_warp)::

      E_warp = Σ_p w(p) · ‖d(p)‖² / (C · Σ_p w(p))

  The paper writes ``‖·‖²`` over the channels divided by ``Σ_p M(p)``; its released evaluation
  script (``evaluate_WarpError.py`` in phoenix104104/fast_blind_video_consistency) reads the
  occlusion mask as a 3-channel image, so its normaliser is ``Σ_p Σ_c M = C·Σ_p M``: the
  published numbers are the mean over channels. We follow the script, so numbers are comparable
  with published tables. Lai's masks are binary; a soft reliability acts as a pixel weight.

* Masked RMSE, short- and long-term, as reported by ReReVST (Wang et al. 2020, "Consistent video
  style transfer via relaxation and regularization") and CCPL (Wu et al. 2022, "CCPL:
  Contrastive coherence preserving loss for versatile style transfer", Sec. 5 "Temporal
  consistency"), which compare frames 1 apart (short-term) and a fixed interval apart
  (long-term; CCPL uses 10)::

      RMSE = sqrt( Σ_p w(p) · ‖d(p)‖² / (C · Σ_p w(p)) )

  computed per frame pair and averaged over pairs (the square root is taken per pair).

A pair with ``Σ_p w(p) = 0`` has no valid pixel: E_warp and RMSE are NaN for it (Lai's script
would report 0, rewarding a clip whose flow is unusable) and summaries skip NaNs.

The perceptual metrics reuse the stylizer's own loss definitions (:mod:`artvid.losses`,
Gatys et al. 2016): the style loss is the Gram-matrix MSE summed over ``relu1_1 … relu5_1``
against the style image, the content loss the ``relu4_2`` feature MSE against the content frame.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

import flow

TEMPORAL_METRICS: tuple[str, ...] = ("ruder", "lai_ewarp", "rmse_short", "rmse_long")
"""Names of the temporal metrics, in report order."""

STYLE_LAYERS: tuple[str, ...] = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
CONTENT_LAYER = "relu4_2"


def as_float_image(image: np.ndarray, name: str = "image") -> np.ndarray:
    """An ``(H, W, 3)`` image as float32 in ``[0, 1]``.

    Args:
        image: ``(H, W, 3)`` uint8 (0–255) or float (already in ``[0, 1]``).
        name: Used in the error message.

    Returns:
        ``(H, W, 3)`` float32.

    Raises:
        ValueError: If the shape is not ``(H, W, 3)``.
    """
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3:
        got = f"{type(image).__name__} {getattr(image, 'shape', '')}".strip()
        raise ValueError(f"{name}: expected an (H, W, 3) array, got {got}")
    if image.dtype == np.uint8:
        return image.astype(np.float32) / 255.0
    return image.astype(np.float32, copy=False)


def _check_weight(weight: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    if not isinstance(weight, np.ndarray) or weight.shape != shape:
        raise ValueError(f"mask: expected an {shape} array, got {getattr(weight, 'shape', type(weight).__name__)}")
    return weight.astype(np.float32, copy=False)


def masked_squared_error(current: np.ndarray, warped: np.ndarray, weight: np.ndarray) -> tuple[float, float]:
    """The two sums every temporal metric is made of.

    Args:
        current: ``(H, W, 3)`` output frame ``O_t`` (uint8 or float in ``[0, 1]``).
        warped: ``(H, W, 3)`` the other output frame warped onto ``t``'s grid, ``ω(O_s)``.
        weight: ``(H, W)`` validity ``w(p)`` in ``[0, 1]``.

    Returns:
        ``(Σ_p w(p)·‖d(p)‖², Σ_p w(p))`` as Python floats (accumulated in float64).

    Raises:
        ValueError: On mismatched shapes.
    """
    cur = as_float_image(current, "current")
    other = as_float_image(warped, "warped")
    if other.shape != cur.shape:
        raise ValueError(f"warped: expected shape {cur.shape} like current, got {other.shape}")
    w = _check_weight(weight, cur.shape[:2])
    sq = np.square(cur - other, dtype=np.float32).sum(axis=2, dtype=np.float64)
    return float(np.dot(sq.ravel(), w.ravel().astype(np.float64))), float(w.sum(dtype=np.float64))


def valid_weight(flow_cur_to_other: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """``weight`` with pixels whose flow target leaves the frame set to 0.

    A warp cannot know what lies outside the other frame, so no metric scores those pixels
    whatever the reliability map says.

    Args:
        flow_cur_to_other: ``(H, W, 2)`` float32 flow on ``t``'s grid.
        weight: ``(H, W)`` validity in ``[0, 1]`` on ``t``'s grid.

    Returns:
        ``(H, W)`` float32.
    """
    inside = ~flow.out_of_frame_mask(flow_cur_to_other)
    return _check_weight(weight, flow_cur_to_other.shape[:2]) * inside


def errors_from_warped(current: np.ndarray, warped: np.ndarray, weight: np.ndarray) -> dict[str, float]:
    """Ruder, Lai and RMSE errors of one frame pair whose other frame is already warped.

    Args:
        current: ``(H, W, 3)`` ``O_t``, uint8 or float in ``[0, 1]``.
        warped: ``(H, W, 3)`` ``ω(O_s)`` on ``t``'s grid.
        weight: ``(H, W)`` validity on ``t``'s grid, out-of-frame targets already zeroed
            (:func:`valid_weight`).

    Returns:
        ``{"ruder": …, "lai_ewarp": …, "rmse": …}`` (the last two NaN without valid pixels).
    """
    sq_sum, w_sum = masked_squared_error(current, warped, weight)
    height, width = weight.shape
    lai = sq_sum / (3 * w_sum) if w_sum > 0 else math.nan
    return {"ruder": sq_sum / (3 * height * width), "lai_ewarp": lai, "rmse": math.sqrt(lai)}


def pair_errors_batch(
    currents: Sequence[np.ndarray], others: Sequence[np.ndarray], flow_cur_to_other: np.ndarray, weight: np.ndarray
) -> list[dict[str, float]]:
    """Ruder, Lai and RMSE errors of the same frame pair in several clips sharing one flow.

    Warps every ``others[b]`` onto ``currents[b]``'s grid in one call (bilinear,
    :func:`flow.warp`; out-of-frame targets read the nearest edge pixel but get weight 0 through
    :func:`valid_weight`) and evaluates the three formulas of the module docstring per clip.
    Equal to scoring each clip alone: the warp is per channel.

    Args:
        currents: ``B`` frames ``O_t``, each ``(H, W, 3)`` uint8 or float in ``[0, 1]``.
        others: ``B`` frames ``O_s`` on their own grid, the same shape as ``currents``.
        flow_cur_to_other: ``(H, W, 2)`` flow on ``t``'s grid with ``I_t(p) ≈ I_s(p + flow(p))``.
        weight: ``(H, W)`` reliability / non-occlusion mask on ``t``'s grid.

    Returns:
        ``B`` dicts ``{"ruder": …, "lai_ewarp": …, "rmse": …}``.

    Raises:
        ValueError: On a frame that is not ``(H, W, 3)``, mismatched shapes or a ``B`` that
            differs between ``currents`` and ``others``.
    """
    if len(currents) != len(others) or not currents:
        raise ValueError(f"others: expected {len(currents)} frames like currents (at least 1), got {len(others)}")
    # All clips side by side along channels: one warp serves every clip.
    stacked = np.concatenate([as_float_image(other, "other") for other in others], axis=2)
    warped = flow.warp(stacked, flow_cur_to_other, border="replicate")
    valid = valid_weight(flow_cur_to_other, weight)
    return [errors_from_warped(cur, warped[..., 3 * b : 3 * b + 3], valid) for b, cur in enumerate(currents)]


def nanmean(values: Sequence[float]) -> float:
    """Mean of the finite values; NaN when there are none (a metric never evaluated)."""
    finite = [v for v in values if v is not None and math.isfinite(v)]
    return float(np.mean(finite)) if finite else math.nan


def style_losses_batch(features: Mapping[str, "object"], target_grams: Mapping[str, "object"]) -> list[float]:
    """Style loss of every image of a batch against the style image (Gatys et al. 2016, Eq. 5; unweighted).

    ``Σ_l MSE(G_l(image), G_l(style))`` over :data:`STYLE_LAYERS`, with Gram matrices normalised
    by ``C·H·W``: equal to the stylizer's :func:`artvid.losses.style_loss` applied to each image
    alone (``MSE`` is a mean over the ``C×C`` Gram entries of one image), but one batched ``bmm``
    per layer instead of one per image.

    Args:
        features: ``{layer: (B, C, H, W) tensor}``.
        target_grams: ``{layer: (1, C, C) tensor}`` Gram matrices of the style image.

    Returns:
        ``B`` floats.
    """
    from artvid import losses

    total = None
    for layer in STYLE_LAYERS:
        gram = losses.gram_matrix(features[layer])
        term = (gram - target_grams[layer].float()).square().mean(dim=(1, 2))
        total = term if total is None else total + term
    return [float(v) for v in total]


def content_losses_batch(features: Mapping[str, "object"], content_features: Mapping[str, "object"]) -> list[float]:
    """Content loss of every image of a batch against one content frame (Gatys et al. 2016, Eq. 1; unweighted).

    The ``relu4_2`` feature MSE of each image, equal to the stylizer's
    :func:`artvid.losses.content_loss` applied to each image alone.

    Args:
        features: ``{layer: (B, C, H, W) tensor}`` of the output frames.
        content_features: ``{layer: (1, C, H, W) tensor}`` of the content frame.

    Returns:
        ``B`` floats.
    """
    feats = features[CONTENT_LAYER].float()
    target = content_features[CONTENT_LAYER].float()
    return [float(v) for v in (feats - target).square().mean(dim=(1, 2, 3))]


EDGE_CORRELATION = "edge_correlation"
"""Name of :func:`edge_correlation` among ``artvid compare``'s metrics (the one where higher is better)."""

EDGE_BLUR_SIGMA = 1.0
"""Gaussian pre-blur (px) of :func:`edge_correlation`, so single-pixel brush texture does not count as an edge."""


_NO_GRADIENT = 1e-6
"""Gradient magnitudes spanning less than this (far below one 8-bit level, 1/255) are a flat frame."""


_LUMA = np.array([0.299, 0.587, 0.114], np.float32)
"""ITU-R BT.601 luma weights of R, G, B."""


def luma(image: np.ndarray) -> np.ndarray:
    """``(H, W)`` float32 BT.601 luma in ``[0, 1]`` of an ``(H, W, 3)`` uint8 or float ``[0, 1]`` RGB image."""
    return as_float_image(image) @ _LUMA


def gradient_magnitude(image: np.ndarray, sigma: float = EDGE_BLUR_SIGMA) -> np.ndarray:
    """``|∇ gray(image)|`` after a Gaussian blur of ``sigma`` px (central differences).

    Args:
        image: ``(H, W, 3)`` uint8 or float ``[0, 1]`` RGB.
        sigma: Standard deviation of the pre-blur in pixels (0 = none).

    Returns:
        ``(H, W)`` float32.
    """
    import cv2

    gray = luma(image)
    if sigma > 0:
        gray = cv2.GaussianBlur(gray, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
    gy, gx = np.gradient(gray)
    return np.hypot(gx, gy).astype(np.float32)


def edge_correlation(output: np.ndarray, content: np.ndarray, sigma: float = EDGE_BLUR_SIGMA) -> float:
    """How much of the scene's structure a stylized frame keeps: the Pearson correlation between
    the gradient-magnitude images (:func:`gradient_magnitude`) of ``output`` and of its ``content``
    frame. 1 = every edge of the scene is there, at its strength; about 0 = none is (paint that
    no longer follows the scene). Independent of exposure: a frame and a darker copy of it score 1.

    Args:
        output: ``(H, W, 3)`` stylized frame, uint8 or float ``[0, 1]``.
        content: ``(H, W, 3)`` content frame of the same size.

    Returns:
        The correlation in ``[-1, 1]``; NaN when either image has no gradient at all.

    Raises:
        ValueError: On shapes that are not ``(H, W, 3)`` or differ.
    """
    a = gradient_magnitude(output, sigma)
    b = gradient_magnitude(content, sigma)
    if a.shape != b.shape:
        raise ValueError(f"content: expected the output's size {a.shape}, got {b.shape}")
    if np.ptp(a) < _NO_GRADIENT or np.ptp(b) < _NO_GRADIENT:
        return math.nan
    a = a.astype(np.float64).ravel() - a.mean()
    b = b.astype(np.float64).ravel() - b.mean()
    return float(a @ b) / math.sqrt(float(a @ a) * float(b @ b))
