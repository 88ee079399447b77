"""Loss terms of video style transfer, as pure functions.

Gatys, Ecker & Bethge, "Image Style Transfer Using Convolutional Neural Networks" (CVPR 2016)
for content and style; Ruder, Dosovitskiy & Brox, "Artistic style transfer for videos"
(GCPR 2016) for the temporal terms. Normalisations follow the reference implementations
(jcjohnson/neural-style, manuelruder/artistic-videos) so that their default weights
(content 5, style 100, tv 1e-3, temporal 1e3) mean the same here:

* content: mean squared error of the features (Torch ``nn.MSECriterion``, size-averaged);
* style: Gram matrices divided by ``C·H·W``, then the mean squared error of the ``C×C`` Grams;
* tv and temporal: the references evaluate them on the Caffe-preprocessed image (0–255 scale),
  while our images are ``[0, 1]``. Both functions therefore take ``scale=255`` and evaluate on
  ``scale·image`` (a factor ``scale²``), so the reference weights keep their meaning.

The feature losses need no such factor: the encoder itself maps ``[0, 1]`` to the Caffe scale.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor

PIXEL_SCALE = 255.0
"""The reference's pixel scale: Caffe images are 0–255, ours are 0–1."""


def gram_matrix(features: Tensor) -> Tensor:
    """Gram matrix of feature maps, normalised by ``C·H·W`` (neural-style's convention).

    Args:
        features: ``(B, C, H, W)`` activations (any float dtype; computed in float32).

    Returns:
        ``(B, C, C)`` float32, ``G[b, i, j] = Σ_p F[b, i, p]·F[b, j, p] / (C·H·W)``.

    Raises:
        ValueError: ``features`` is not 4-D.
    """
    if features.ndim != 4:
        raise ValueError(f"expected features of shape (B, C, H, W), got {tuple(features.shape)}")
    b, c, h, w = features.shape
    flat = _flat(features)
    return torch.bmm(flat, flat.transpose(1, 2)) / (c * h * w)


def _flat(features: Tensor) -> Tensor:
    """``(B, C, H·W)`` float32 view of the features, without a copy for either memory format."""
    b, c, h, w = features.shape
    if features.is_contiguous(memory_format=torch.channels_last) and not features.is_contiguous():
        return features.float().permute(0, 2, 3, 1).reshape(b, h * w, c).transpose(1, 2)
    return features.float().reshape(b, c, h * w)


class _GramMSE(torch.autograd.Function):
    """``mean((gram_matrix(F) − T)²)`` with a one-matmul backward.

    Autograd through ``bmm(F, Fᵀ)`` spends two matmuls (one per operand) and an add; since
    ``G − T`` is symmetric, ``∂L/∂F = 4 (G − T) F / (B·C²·C·H·W)`` needs one.
    """

    @staticmethod
    def forward(ctx, flat: Tensor, target: Tensor, norm: float) -> Tensor:  # type: ignore[override]
        diff = torch.bmm(flat, flat.transpose(1, 2)).div_(norm).sub_(target)
        ctx.save_for_backward(flat, diff)
        ctx.norm = norm
        return diff.square().mean()

    @staticmethod
    def backward(ctx, grad: Tensor):  # type: ignore[override]
        flat, diff = ctx.saved_tensors
        b, c, _ = diff.shape
        scale = grad * (4.0 / (b * c * c * ctx.norm))
        if flat.stride(1) == 1:
            # Channels-last features: build the gradient in the same layout (diff is symmetric),
            # else the NCHW gradient meets the NHWC one from the next conv in a slow mixed add.
            return torch.bmm(flat.transpose(1, 2), diff).mul_(scale).transpose(1, 2), None, None
        return torch.bmm(diff, flat).mul_(scale), None, None


def content_loss(features: Tensor, target: Tensor) -> Tensor:
    """Content loss of Gatys et al. 2016, Eq. 1, as neural-style computes it: the mean squared error.

    Args:
        features: ``(B, C, H, W)`` activations of the image being optimised.
        target: Activations of the content image, same shape.

    Returns:
        Scalar (unweighted).
    """
    # Written as sum / count, not F.mse_loss or .mean(): their backward expands the incoming
    # gradient into an NCHW tensor even for channels_last features, and that NCHW gradient then
    # meets the NHWC one of the next convolution in a slow mixed-layout add (about 2 % of an
    # iteration at 256 px). sum's backward keeps the features' layout.
    diff = features.float() - target.float()
    return diff.square().sum() / diff.numel()


def style_loss(
    features_by_layer: dict[str, Tensor],
    target_grams_by_layer: dict[str, Tensor],
    layers: Sequence[str],
) -> Tensor:
    """Style loss of Gatys et al. 2016, Eqs. 3–5: sum over layers of the MSE between Grams.

    Layer weights are all 1 as in neural-style (its ``style_weight`` multiplies the sum).

    Args:
        features_by_layer: ``{layer: (B, C, H, W)}`` activations of the image being optimised.
        target_grams_by_layer: ``{layer: (B or 1, C, C)}`` target Grams (see :func:`gram_matrix`).
        layers: The layers to sum over.

    Returns:
        Scalar (unweighted).
    """
    total = None
    for layer in layers:
        features = features_by_layer[layer]
        b, c, h, w = features.shape
        target = target_grams_by_layer[layer].float().expand(b, c, c)
        term = _GramMSE.apply(_flat(features), target, float(c * h * w))
        total = term if total is None else total + term
    if total is None:
        raise ValueError("expected at least one style layer, got none")
    return total


def tv_loss(image: Tensor, scale: float = PIXEL_SCALE) -> Tensor:
    """Total-variation smoothness term, as the gradient of neural-style's ``TVLoss`` implies.

    ``½ Σ_{i<H-1, j<W-1} (x[i,j] − x[i,j+1])² + (x[i,j] − x[i+1,j])²`` on ``scale·image``:
    summed, not averaged (so it grows with the frame size, as in the reference).

    Args:
        image: ``(B, 3, H, W)`` image in ``[0, 1]``.
        scale: Pixel scale the term is evaluated at; 255 matches the reference's Caffe image.

    Returns:
        Scalar (unweighted).
    """
    corner = image[..., :-1, :-1]
    dx = corner - image[..., :-1, 1:]
    dy = corner - image[..., 1:, :-1]
    return 0.5 * scale * scale * (dx.square().sum() + dy.square().sum())


def temporal_loss(image: Tensor, warped: Tensor, weight: Tensor, scale: float = PIXEL_SCALE) -> Tensor:
    """Temporal consistency loss, Ruder et al. 2016, Sec. 3.2: ``(1/D) Σ_k c_k (x_k − ω_k)²``.

    ``D = 3·H·W`` (averaged over the batch too); evaluated on ``scale·image`` like the reference's
    ``WeightedContentLoss`` on the Caffe image, hence the ``scale²`` factor.

    Args:
        image: ``(B, 3, H, W)`` image ``x`` being optimised, ``[0, 1]``.
        warped: ``(B, 3, H, W)`` previous result warped onto this frame, ``ω``, ``[0, 1]``.
        weight: ``(B, 1, H, W)`` or ``(B, 3, H, W)`` per-pixel weight ``c`` in ``[0, 1]``.
        scale: Pixel scale the term is evaluated at; 255 matches the reference.

    Returns:
        Scalar (unweighted).

    Raises:
        ValueError: Shapes do not fit together.
    """
    if warped.shape != image.shape:
        raise ValueError(f"expected warped of shape {tuple(image.shape)}, got {tuple(warped.shape)}")
    if weight.ndim != 4 or weight.shape[1] not in (1, 3) or weight.shape[-2:] != image.shape[-2:]:
        raise ValueError(
            f"expected weight of shape (B, 1, {image.shape[-2]}, {image.shape[-1]}), got {tuple(weight.shape)}"
        )
    return scale * scale * (weight * (image - warped).square()).mean()


def long_term_weights(masks: Sequence[Tensor | np.ndarray]) -> list[Tensor | np.ndarray]:
    """Long-term weights of Ruder et al. 2016, Sec. 3.3: ``c_long_j = max(c_j − Σ_{k<j} c_k, 0)``.

    A pixel is constrained only by the closest previous frame in which it is reliable, so the
    long-term terms do not pull it towards several (possibly different) targets at once.

    Args:
        masks: Reliability weights ``c_j`` for the previous frames, ordered closest first
            (``j = 1`` is frame ``i−1``); all the same shape, tensors or arrays, values ``[0, 1]``.

    Returns:
        The corrected weights, same order, types and shapes; the first equals its input.

    Raises:
        ValueError: The masks differ in shape.
    """
    result: list[Tensor | np.ndarray] = []
    covered = None
    for mask in masks:
        if covered is not None and tuple(covered.shape) != tuple(mask.shape):
            raise ValueError(f"expected all masks of shape {tuple(covered.shape)}, got {tuple(mask.shape)}")
        if isinstance(mask, Tensor):
            corrected = mask if covered is None else (mask - covered).clamp_min(0)
            covered = mask.clone() if covered is None else covered + mask
        else:
            mask = np.asarray(mask)
            corrected = mask if covered is None else np.maximum(mask - covered, 0)
            covered = mask.astype(np.float32, copy=True) if covered is None else covered + mask
        result.append(corrected)
    return result
