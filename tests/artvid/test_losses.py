"""Tests for artvid.losses: normalisations, zeros at the target, hand-computed examples."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from artvid.losses import content_loss, gram_matrix, long_term_weights, style_loss, temporal_loss, tv_loss


def test_gram_matrix_normalised_by_chw():
    features = torch.ones(2, 3, 4, 5)
    gram = gram_matrix(features)
    assert gram.shape == (2, 3, 3)
    # Each entry sums H*W products of ones, divided by C*H*W.
    torch.testing.assert_close(gram, torch.full((2, 3, 3), 20 / 60))


def test_gram_matrix_is_symmetric_and_layout_independent():
    features = torch.randn(1, 6, 5, 7)
    gram = gram_matrix(features)
    torch.testing.assert_close(gram, gram.transpose(1, 2))
    torch.testing.assert_close(gram_matrix(features.contiguous(memory_format=torch.channels_last)), gram)


def test_gram_matrix_rejects_3d():
    with pytest.raises(ValueError, match=r"\(B, C, H, W\)"):
        gram_matrix(torch.zeros(3, 4, 5))


@pytest.mark.parametrize("loss", ["content", "style"])
def test_loss_gradients_keep_channels_last(loss):
    """Inside a channels_last network the loss gradient must stay NHWC (an NCHW one costs a
    mixed-layout add and a conversion at every convolution below it)."""
    conv = torch.nn.Conv2d(8, 8, 3, padding=1).to(memory_format=torch.channels_last).requires_grad_(False)
    x = torch.randn(1, 8, 6, 10).contiguous(memory_format=torch.channels_last)
    features = torch.relu(conv(x.requires_grad_(True)))
    target = torch.randn_like(features)
    grads = []
    features.register_hook(grads.append)
    if loss == "content":
        content_loss(features, target).backward()
    else:
        style_loss({"relu1_1": features}, {"relu1_1": gram_matrix(target)}, ["relu1_1"]).backward()
    assert grads[0].is_contiguous(memory_format=torch.channels_last)


def test_content_loss_zero_at_target_and_mean_squared():
    target = torch.randn(1, 4, 3, 3)
    assert content_loss(target.clone(), target) == 0
    assert content_loss(target + 2, target).item() == pytest.approx(4.0)


def test_style_loss_is_sum_over_layers_of_gram_mse_with_gradient():
    feats = {name: torch.randn(1, 8, 6, 5, dtype=torch.float32, requires_grad=True) for name in ("a", "b")}
    targets = {name: gram_matrix(torch.randn(1, 8, 6, 5)) for name in ("a", "b")}
    loss = style_loss(feats, targets, ["a", "b"])
    expected = sum(F.mse_loss(gram_matrix(feats[n]), targets[n]) for n in ("a", "b"))
    torch.testing.assert_close(loss, expected)
    (grad,) = torch.autograd.grad(loss, feats["a"])
    (expected_grad,) = torch.autograd.grad(expected, feats["a"])
    torch.testing.assert_close(grad, expected_grad)
    assert style_loss(feats, {n: gram_matrix(f.detach()) for n, f in feats.items()}, ["a"]) < 1e-12


def test_style_loss_needs_a_layer():
    with pytest.raises(ValueError, match="at least one"):
        style_loss({}, {}, [])


def test_tv_zero_on_constant_image_and_hand_value():
    assert tv_loss(torch.full((1, 3, 8, 8), 0.3)) == 0
    image = torch.zeros(1, 1, 2, 2)
    image[0, 0, 0, 1] = 1.0  # one horizontal step inside the [:-1, :-1] corner
    assert tv_loss(image, scale=1.0).item() == pytest.approx(0.5)
    assert tv_loss(image).item() == pytest.approx(0.5 * 255**2)


def test_temporal_loss_zero_when_image_equals_warped():
    image = torch.rand(1, 3, 6, 7)
    assert temporal_loss(image, image.clone(), torch.ones(1, 1, 6, 7)) == 0


def test_temporal_loss_hand_formula():
    """Ruder et al. 2016: (1/D) Σ c (x − ω)², D = 3·H·W, on the 0–255 scale."""
    image = torch.zeros(1, 3, 2, 2)
    warped = torch.zeros(1, 3, 2, 2)
    warped[0, :, 0, 0] = 0.1  # differs at one pixel in all channels
    warped[0, 0, 1, 1] = 0.2  # and at another in one channel
    weight = torch.tensor([[[[1.0, 0.0], [0.0, 0.5]]]])
    expected = (3 * 1.0 * (0.1 * 255) ** 2 + 0.5 * (0.2 * 255) ** 2) / 12
    assert temporal_loss(image, warped, weight).item() == pytest.approx(expected, rel=1e-5)
    # Masked-out pixels do not count.
    assert temporal_loss(image, warped, torch.zeros(1, 1, 2, 2)) == 0


def test_temporal_loss_checks_shapes():
    image = torch.zeros(1, 3, 4, 4)
    with pytest.raises(ValueError, match="warped"):
        temporal_loss(image, torch.zeros(1, 3, 4, 5), torch.ones(1, 1, 4, 4))
    with pytest.raises(ValueError, match="weight"):
        temporal_loss(image, image, torch.ones(1, 2, 4, 4))


def test_long_term_weights_examples():
    c1 = np.array([[1.0, 0.0, 0.5, 0.0]], dtype=np.float32)
    c2 = np.array([[1.0, 1.0, 1.0, 0.0]], dtype=np.float32)
    c3 = np.array([[1.0, 1.0, 1.0, 1.0]], dtype=np.float32)
    out = long_term_weights([c1, c2, c3])
    np.testing.assert_array_equal(out[0], c1)
    np.testing.assert_allclose(out[1], [[0.0, 1.0, 0.5, 0.0]])
    np.testing.assert_allclose(out[2], [[0.0, 0.0, 0.0, 1.0]])


def test_long_term_weights_tensors_and_single_mask():
    masks = [torch.tensor([1.0, 0.0]), torch.tensor([1.0, 1.0])]
    out = long_term_weights(masks)
    assert torch.equal(out[1], torch.tensor([0.0, 1.0]))
    assert torch.equal(masks[0], torch.tensor([1.0, 0.0]))  # inputs untouched
    assert long_term_weights([masks[0]])[0] is masks[0]
    assert long_term_weights([]) == []
    with pytest.raises(ValueError, match="shape"):
        long_term_weights([torch.ones(2), torch.ones(3)])
