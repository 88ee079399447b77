"""Tests for artvid.levels: stretching a low-contrast content frame, and leaving others alone."""

from __future__ import annotations

import numpy as np
import pytest

from artvid.levels import LEVELS_RANGE, MAX_GAIN, content_loader, stretch_levels
from tests.helpers import textured_image

_LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def _span(frame: np.ndarray) -> float:
    low, high = np.percentile(frame.astype(np.float32) @ _LUMA / 255, [1, 99])
    return float(high - low)


@pytest.fixture()
def scene() -> np.ndarray:
    """A well-exposed frame: a texture over the whole 0-255 range, tinted."""
    gray = textured_image(64, 80, seed=3)[..., :1].astype(np.float32)
    gray = (gray - gray.min()) / (gray.max() - gray.min())
    return np.rint(255 * gray * np.array([1.0, 0.9, 0.8], np.float32)).astype(np.uint8)


def test_a_well_exposed_frame_is_left_exactly_as_it_is(scene):
    assert _span(scene) >= LEVELS_RANGE
    assert stretch_levels(scene) is scene


@pytest.mark.parametrize("gain", [0.5, 0.25])
def test_a_darkened_frame_is_stretched_back_towards_the_frame(scene, gain):
    dark = np.rint(scene * gain).astype(np.uint8)
    stretched = stretch_levels(dark)
    assert stretched.dtype == np.uint8 and stretched.shape == dark.shape
    assert _span(stretched) == pytest.approx(LEVELS_RANGE, abs=0.02)
    # One affine map for every channel: the stretched frame is the dark one's contrast times a gain.
    a, b = np.polyfit(dark.ravel().astype(float), stretched.ravel().astype(float), 1)
    assert a == pytest.approx(LEVELS_RANGE / _span(dark), rel=0.05)
    # Its edges are the scene's, at (at least) the well-exposed frame's contrast times the range kept.
    assert np.corrcoef(stretched.ravel(), scene.ravel())[0, 1] > 0.99


def test_the_gain_is_capped_and_the_frame_stays_in_range():
    rng = np.random.default_rng(0)
    flat = np.full((32, 32, 3), 240, np.uint8) + rng.integers(0, 3, (32, 32, 3), dtype=np.uint8)
    stretched = stretch_levels(flat)
    assert stretched.max() <= 255 and _span(stretched) <= MAX_GAIN * _span(flat) + 2 / 255
    assert stretched.std() > flat.std()
    constant = np.full((8, 8, 3), 7, np.uint8)
    np.testing.assert_array_equal(stretch_levels(constant), constant)


def test_the_content_loader_applies_the_levels_asked_for(scene):
    dark = np.rint(scene * 0.25).astype(np.uint8)
    frames = {0: dark}
    assert content_loader(frames.__getitem__, "none")(0) is dark
    np.testing.assert_array_equal(content_loader(frames.__getitem__, "stretch")(0), stretch_levels(dark))
