"""Tests for artvid.stylize.memory: the per-iteration memory estimate."""

from __future__ import annotations

import pytest

from artvid.stylize import StylizeConfig, estimate_iteration_bytes


def test_grows_linearly_with_the_pixel_count():
    config = StylizeConfig()
    sizes = [estimate_iteration_bytes(side, side, config) for side in (64, 128, 256)]
    # Sides multiple of 16: every pooled size is exact, so the estimate is affine in H·W.
    assert sizes[2] - sizes[1] == 4 * (sizes[1] - sizes[0])
    assert sizes[0] < sizes[1] < sizes[2]
    per_pixel = (sizes[2] - sizes[1]) / (256 * 256 - 128 * 128)
    assert 1_000 < per_pixel < 20_000  # bytes: VGG19 activations and 2·100 history vectors


def test_grows_with_the_lbfgs_history_by_its_pairs():
    small = estimate_iteration_bytes(120, 160, StylizeConfig(lbfgs_history=10))
    large = estimate_iteration_bytes(120, 160, StylizeConfig(lbfgs_history=110))
    assert large - small == 2 * 100 * 3 * 120 * 160 * 4
    assert estimate_iteration_bytes(120, 160, StylizeConfig(optimizer="adam")) < small


def test_depends_on_layers_autocast_and_temporal_targets():
    shallow = StylizeConfig(content_layers=("relu2_1",), style_layers=("relu1_1", "relu2_1"))
    assert estimate_iteration_bytes(64, 64, shallow) < estimate_iteration_bytes(64, 64, StylizeConfig())
    assert estimate_iteration_bytes(64, 64, StylizeConfig(), device="cuda") < estimate_iteration_bytes(
        64, 64, StylizeConfig(amp=False), device="cuda"
    )
    assert estimate_iteration_bytes(64, 64, StylizeConfig(), temporal_targets=2) > estimate_iteration_bytes(
        64, 64, StylizeConfig()
    )


def test_rejects_bad_sizes():
    with pytest.raises(ValueError, match="expected height, width >= 1"):
        estimate_iteration_bytes(0, 10, StylizeConfig())
