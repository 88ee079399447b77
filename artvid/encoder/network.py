"""VGG19 feature network: layer names, feature shapes, parameter counts and :class:`Encoder`.

The encoder is the only place that knows about a network's input convention. Everything
outside sees ``(B, 3, H, W)`` float32 RGB in ``[0, 1]``; :meth:`Encoder.forward` applies the
preprocessing that belongs to its weights (``preprocess``):

* ``"caffe"``: the Caffe VGG19 of Simonyan & Zisserman that neural-style and artistic-videos
  use: BGR, 0–255, minus the mean pixel ``[103.939, 116.779, 123.68]`` (BGR). The BGR swap is
  folded into ``conv1_1``'s input channels, which is exact (zero padding is channel-blind).
* ``"imagenet"``: torchvision's ImageNet VGG19: RGB in ``[0, 1]`` normalised by the ImageNet
  mean/std.

Layer names follow neural-style: ``conv1_1``, ``relu1_1``, ``conv1_2``, ``relu1_2``, ``pool1``,
…, ``relu5_4``, ``pool5``. The network is truncated after the deepest requested layer. Where the
weights come from is :mod:`artvid.encoder.weights`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch
from torch import Tensor, nn

from artvid.errors import ConfigError

# Convolutions per block in VGG19 (configuration "E" of Simonyan & Zisserman 2015).
_BLOCKS = (2, 2, 4, 4, 4)


def _layer_names() -> tuple[str, ...]:
    names: list[str] = []
    for block, n_conv in enumerate(_BLOCKS, start=1):
        for conv in range(1, n_conv + 1):
            names += [f"conv{block}_{conv}", f"relu{block}_{conv}"]
        names.append(f"pool{block}")
    return tuple(names)


LAYER_NAMES: tuple[str, ...] = _layer_names()
"""All VGG19 feature layers in order; index ``i`` equals torchvision's ``features[i]``."""

CONV_NAMES: tuple[str, ...] = tuple(n for n in LAYER_NAMES if n.startswith("conv"))

CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
IMAGENET_MEAN_RGB = (0.485, 0.456, 0.406)
IMAGENET_STD_RGB = (0.229, 0.224, 0.225)


def conv_in_out(name: str) -> tuple[int, int]:
    """``(in channels, out channels)`` of the VGG19 convolution ``name`` (e.g. ``"conv3_1"``)."""
    block, conv = (int(v) for v in name[4:].split("_"))
    widths = (64, 128, 256, 512, 512)
    out = widths[block - 1]
    if conv > 1:
        return out, out
    return (3 if block == 1 else widths[block - 2]), out


def feature_shapes(height: int, width: int, deepest: str) -> list[tuple[str, int, int, int]]:
    """``(layer, C, h, w)`` of every VGG19 layer up to ``deepest`` for a ``height × width`` input.

    Convolutions keep the size (3×3, padding 1); each 2×2 stride-2 pooling halves it, rounding
    down, as :class:`Encoder` does.

    Raises:
        ConfigError: ``deepest`` is not a layer name.
    """
    if deepest not in LAYER_NAMES:
        raise ConfigError(f"expected a VGG19 layer name from {', '.join(LAYER_NAMES)}, got {deepest!r}")
    shapes = []
    channels, h, w = 3, height, width
    for name in LAYER_NAMES[: LAYER_NAMES.index(deepest) + 1]:
        if name.startswith("conv"):
            channels = conv_in_out(name)[1]
        elif name.startswith("pool"):
            h, w = h // 2, w // 2
        shapes.append((name, channels, h, w))
    return shapes


def min_input_side(layers: Iterable[str]) -> int:
    """Smallest input side (pixels) for which every layer of ``layers`` has at least one pixel.

    Each 2×2 stride-2 pooling halves the size, rounding down, so a layer behind ``k`` poolings
    (its own included) needs ``2**k`` pixels: 16 for ``relu5_1``, 8 for ``relu4_2``.

    Raises:
        ConfigError: A layer is not a layer name.
    """
    poolings = 0
    for layer in layers:
        shapes = feature_shapes(1, 1, layer)
        poolings = max(poolings, sum(name.startswith("pool") for name, *_ in shapes))
    return 2**poolings


def parameter_count(deepest: str) -> int:
    """Number of weights and biases of the VGG19 convolutions up to ``deepest``."""
    last = LAYER_NAMES.index(deepest)
    count = 0
    for name in CONV_NAMES:
        if LAYER_NAMES.index(name) <= last:
            c_in, c_out = conv_in_out(name)
            count += c_out * c_in * 9 + c_out
    return count


class Encoder(nn.Module):
    """VGG19 features by layer name, truncated after the deepest requested layer.

    Parameters are frozen (``requires_grad=False``) and the module is in eval mode.

    Args:
        convs: ``{conv name: (weight (out, in, 3, 3), bias (out,))}`` for every convolution up to
            the deepest layer, expecting input in the weights' own convention (see ``preprocess``).
        layers: Layer names whose activations :meth:`forward` returns.
        preprocess: ``"caffe"`` (BGR 0–255 minus mean pixel) or ``"imagenet"`` (RGB mean/std).
        pooling: ``"max"`` or ``"avg"`` (2×2, stride 2).
    """

    def __init__(
        self,
        convs: dict[str, tuple[Tensor, Tensor]],
        layers: Sequence[str],
        preprocess: str,
        pooling: str = "max",
    ) -> None:
        super().__init__()
        self.layers = tuple(layers)
        self.preprocess = preprocess
        self.pooling = pooling
        wanted = set(self.layers)
        last = max(LAYER_NAMES.index(name) for name in self.layers)
        modules: list[nn.Module] = []
        for name in LAYER_NAMES[: last + 1]:
            if name.startswith("conv"):
                weight, bias = convs[name]
                if name == "conv1_1" and preprocess == "caffe":
                    # Caffe weights read BGR; reversing their input channels lets them read RGB.
                    weight = weight.flip(1)
                conv = nn.Conv2d(weight.shape[1], weight.shape[0], kernel_size=3, padding=1)
                conv.weight.data.copy_(weight)
                conv.bias.data.copy_(bias)
                modules.append(conv)
            elif name.startswith("relu"):
                # In place is safe unless the conv output right before it is itself requested.
                conv_name = "conv" + name[4:]
                modules.append(nn.ReLU(inplace=conv_name not in wanted))
            else:
                modules.append(nn.MaxPool2d(2, 2) if pooling == "max" else nn.AvgPool2d(2, 2))
        self.net = nn.ModuleList(modules)
        self._names = LAYER_NAMES[: last + 1]
        if preprocess == "caffe":
            scale = torch.full((1, 3, 1, 1), 255.0)
            shift = torch.tensor(CAFFE_MEAN_BGR[::-1]).view(1, 3, 1, 1)  # RGB order after the flip
        else:
            scale = 1.0 / torch.tensor(IMAGENET_STD_RGB).view(1, 3, 1, 1)
            shift = torch.tensor(IMAGENET_MEAN_RGB).view(1, 3, 1, 1) * scale
        # x_net = x * scale - shift
        self.register_buffer("scale", scale, persistent=False)
        self.register_buffer("shift", shift, persistent=False)
        for param in self.parameters():
            param.requires_grad_(False)
        self.eval()

    def forward(self, image: Tensor) -> dict[str, Tensor]:
        """Activations of the requested layers.

        Args:
            image: ``(B, 3, H, W)`` float32 RGB in ``[0, 1]`` (values outside are allowed while
                optimising); the encoder applies its own preprocessing.

        Returns:
            ``{layer name: (B, C, H_l, W_l)}`` for every requested layer.

        Raises:
            ValueError: ``image`` is not ``(B, 3, H, W)``.
        """
        if image.ndim != 4 or image.shape[1] != 3:
            raise ValueError(f"expected image of shape (B, 3, H, W), got {tuple(image.shape)}")
        x = image * self.scale - self.shift
        first = self.net[0].weight
        if first.is_contiguous(memory_format=torch.channels_last) and not first.is_contiguous():
            # Follow the weights' layout (``encoder.to(memory_format=torch.channels_last)``).
            x = x.contiguous(memory_format=torch.channels_last)
        out: dict[str, Tensor] = {}
        wanted = self.layers
        for name, module in zip(self._names, self.net):
            x = module(x)
            if name in wanted:
                out[name] = x
        return out
