"""Tests for artvid.levels: stretching a low-contrast content frame, and leaving others alone."""

from __future__ import annotations

import numpy as np
import pytest

from artvid.levels import LEVELS_RANGE, MAX_GAIN, ShotLevels, content_loader, measure_levels, stretch_levels
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


def test_every_frame_of_a_shot_goes_through_one_map_and_each_shot_has_its_own(scene):
    # A dark shot whose frames brighten a little (a light comes on), then a well-exposed shot.
    frames = {f: np.rint(scene * (0.2 + 0.01 * f)).astype(np.uint8) for f in range(6)}
    frames.update({f: scene for f in range(6, 9)})
    levels = ShotLevels.measure(frames.__getitem__, [(0, 6), (6, 9)])
    assert levels.maps[1] is None
    load = content_loader(frames.__getitem__, levels)
    assert load(7) is frames[7]
    # One map for the whole shot: frames that differ by a constant factor stay in that ratio,
    # where levels measured frame by frame would have stretched each to the same contrast.
    first, last = (load(f).astype(float) for f in (0, 5))
    own = [stretch_levels(frames[f]).astype(float) for f in (0, 5)]
    assert last.std() / first.std() == pytest.approx(frames[5].std() / frames[0].std(), rel=0.03)
    assert own[1].std() / own[0].std() == pytest.approx(1.0, abs=0.03)
    # The shot's levels together are spread as a frame's alone would be.
    pooled = np.concatenate([load(f) for f in range(6)])
    assert _span(pooled) == pytest.approx(LEVELS_RANGE, abs=0.02)
    np.testing.assert_array_equal(load(3), levels.maps[0].apply(frames[3]))


def test_the_levels_of_a_shot_come_from_frames_sampled_across_it(scene):
    seen = []

    def load(frame):
        seen.append(frame)
        return np.rint(scene * 0.3).astype(np.uint8)

    ShotLevels.measure(load, [(0, 100), (100, 103)], samples=5)
    assert seen == [0, 25, 50, 74, 99, 100, 101, 102]


def test_without_levels_the_content_is_loaded_as_it_is(scene):
    dark = np.rint(scene * 0.25).astype(np.uint8)
    assert content_loader({0: dark}.__getitem__, None)(0) is dark
    assert measure_levels([scene]) is None
    with pytest.raises(IndexError):
        ShotLevels.measure({0: dark}.__getitem__, [(0, 1)]).apply(1, dark)
