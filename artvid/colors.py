"""Colour preservation: keep the content's colours, take only the luminance from the stylization.

neural-style's ``-original_colors 1`` (Gatys et al., "Preserving Color in Neural Artistic Style
Transfer", 2016, luminance-only transfer) done in YIQ. Because the chroma comes from the content
frame, not from the optimisation, it is as stable over time as the input video.
"""

from __future__ import annotations

import torch
from torch import Tensor

# NTSC YIQ (FCC 1953 coefficients); rows give Y, I, Q from R, G, B.
_RGB_TO_YIQ = (
    (0.299, 0.587, 0.114),
    (0.595716, -0.274453, -0.321263),
    (0.211456, -0.522591, 0.311135),
)


def _matrices(ref: Tensor) -> tuple[Tensor, Tensor]:
    forward = torch.tensor(_RGB_TO_YIQ, dtype=torch.float64)
    return (
        forward.to(device=ref.device, dtype=ref.dtype),
        torch.linalg.inv(forward).to(device=ref.device, dtype=ref.dtype),
    )


def original_colors(stylized: Tensor, content: Tensor) -> Tensor:
    """Luminance (Y) of ``stylized`` combined with the chroma (I, Q) of ``content``.

    Args:
        stylized: ``(B, 3, H, W)`` float RGB in ``[0, 1]``.
        content: ``(B, 3, H, W)`` float RGB in ``[0, 1]``, same shape.

    Returns:
        ``(B, 3, H, W)`` RGB, clamped to ``[0, 1]``.

    Raises:
        ValueError: The shapes differ or are not ``(B, 3, H, W)``.
    """
    if stylized.ndim != 4 or stylized.shape[1] != 3 or stylized.shape != content.shape:
        raise ValueError(
            f"expected stylized and content of one shape (B, 3, H, W), got {tuple(stylized.shape)} "
            f"and {tuple(content.shape)}"
        )
    to_yiq, to_rgb = _matrices(stylized)
    y = torch.einsum("c,bchw->bhw", to_yiq[0], stylized)
    iq = torch.einsum("kc,bchw->bkhw", to_yiq[1:], content.to(stylized))
    yiq = torch.cat([y.unsqueeze(1), iq], dim=1)
    return torch.einsum("ck,bkhw->bchw", to_rgb, yiq).clamp(0.0, 1.0)
