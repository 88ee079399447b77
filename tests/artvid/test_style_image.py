"""Tests for artvid.stylize.style_image: the one style resize shared by render, image and compare."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from artvid.errors import ConfigError
from artvid.stylize import STYLE_RESAMPLING, prepare_style, style_target_size
from tests.helpers import textured_image


def test_prepare_style_size_range_and_filter():
    style = textured_image(96, 120, seed=2)
    prepared = prepare_style(style, 48, 48, 1.0, "cpu")
    assert prepared.shape == (1, 3, *style_target_size((96, 120), 48, 48, 1.0))
    assert prepared.dtype == torch.float32 and 0 <= prepared.min() and prepared.max() <= 1
    assert STYLE_RESAMPLING == "bilinear-antialias"
    source = torch.from_numpy(style).permute(2, 0, 1)[None].float() / 255
    antialiased = F.interpolate(source, size=prepared.shape[-2:], mode="bilinear", antialias=True)
    torch.testing.assert_close(prepared, antialiased.contiguous(memory_format=torch.channels_last))
    plain = F.interpolate(source, size=prepared.shape[-2:], mode="bilinear", antialias=False)
    assert not torch.allclose(prepared, plain, atol=1e-3)


def test_prepare_style_rejects_non_images():
    with pytest.raises(ConfigError, match="expected style images as \\(H, W, 3\\) uint8"):
        prepare_style(np.zeros((8, 8), np.uint8), 8, 8, 1.0, "cpu")


@pytest.mark.parametrize("shape", [(1, 1), (40, 200)])
def test_small_style_images_are_logged(caplog, shape):
    style = np.full((*shape, 3), 128, np.uint8)
    with caplog.at_level(logging.WARNING, logger="artvid.stylize.style_image"):
        prepare_style(style, 48, 64, 1.0, "cpu")
    assert len(caplog.records) == 1
    assert f"{shape[1]}x{shape[0]} px is enlarged" in caplog.records[0].getMessage()


def test_enlarging_a_decent_style_image_a_lot_is_logged(caplog):
    style = textured_image(80, 80, seed=1)
    with caplog.at_level(logging.WARNING, logger="artvid.stylize.style_image"):
        prepare_style(style, 96, 96, 1.0, "cpu")  # 1.2x: fine
        assert not caplog.records
        prepare_style(style, 400, 400, 1.0, "cpu")  # 5x
    assert "enlarged 5.0x" in caplog.records[0].getMessage()


def test_style_target_keeps_the_short_side_the_style_layers_need():
    # A 16x16 frame: by area alone a 2:1 painting would be 11x23, too small for relu5_1's 16 px.
    assert style_target_size((100, 200), 16, 16, 1.0) == (11, 23)
    assert style_target_size((100, 200), 16, 16, 1.0, min_side=16) == (16, 32)
    assert style_target_size((300, 100), 64, 64, 0.1, min_side=16) == (48, 16)
    # Large enough already: unchanged.
    assert style_target_size((96, 120), 48, 48, 1.0, min_side=16) == style_target_size((96, 120), 48, 48, 1.0)
    assert prepare_style(textured_image(100, 200, seed=3), 16, 16, 1.0, "cpu", min_side=16).shape == (1, 3, 16, 32)
