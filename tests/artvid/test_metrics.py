"""Tests of artvid.metrics: the formulas on small arrays, invariants on exact motion."""

import math

import numpy as np
import pytest
import torch

from artvid import losses, metrics
from tests.helpers import textured_image, translating_clip


def _random(shape, seed):
    return np.random.default_rng(seed).uniform(0, 1, size=shape).astype(np.float32)


def test_formulas_match_explicit_loops():
    h, w = 5, 7
    cur, warped = _random((h, w, 3), 1), _random((h, w, 3), 2)
    weight = _random((h, w), 3)
    num, den = 0.0, 0.0
    for y in range(h):
        for x in range(w):
            for c in range(3):
                num += weight[y, x] * (float(cur[y, x, c]) - float(warped[y, x, c])) ** 2
            den += weight[y, x]
    errs = metrics.errors_from_warped(cur, warped, weight)
    assert errs == pytest.approx(
        {"ruder": num / (3 * h * w), "lai_ewarp": num / (3 * den), "rmse": math.sqrt(num / (3 * den))}, rel=1e-6
    )


def test_uint8_inputs_are_scaled_to_unit_range():
    cur = np.full((2, 2, 3), 255, np.uint8)
    other = np.zeros((2, 2, 3), np.uint8)
    assert metrics.errors_from_warped(cur, other, np.ones((2, 2), np.float32))["lai_ewarp"] == pytest.approx(1.0)


def test_ruder_counts_masked_pixels_in_denominator_lai_does_not():
    cur, warped = np.ones((4, 4, 3), np.float32), np.zeros((4, 4, 3), np.float32)
    weight = np.zeros((4, 4), np.float32)
    weight[:2] = 1
    errs = metrics.errors_from_warped(cur, warped, weight)
    assert errs["ruder"] == pytest.approx(0.5)
    assert errs["lai_ewarp"] == pytest.approx(1.0)


def test_empty_mask_gives_nan_for_normalised_metrics_and_zero_for_ruder():
    cur, warped = _random((3, 3, 3), 0), _random((3, 3, 3), 1)
    empty = np.zeros((3, 3), np.float32)
    errs = metrics.errors_from_warped(cur, warped, empty)
    assert errs["ruder"] == 0.0
    assert math.isnan(errs["lai_ewarp"])
    assert math.isnan(errs["rmse"])
    assert math.isnan(metrics.nanmean([math.nan, math.nan]))
    assert metrics.nanmean([1.0, math.nan, 3.0]) == 2.0


def test_exact_translation_scores_zero_and_out_of_frame_pixels_are_dropped():
    dx, dy = 2, 1
    prev, cur = translating_clip(2, 24, 32, dx=dx, dy=dy)
    flow_cur_to_prev = np.zeros((24, 32, 2), np.float32)
    flow_cur_to_prev[..., 0], flow_cur_to_prev[..., 1] = dx, dy
    (errs,) = metrics.pair_errors_batch([cur], [prev], flow_cur_to_prev, np.ones((24, 32), np.float32))
    assert errs["ruder"] == 0.0 and errs["lai_ewarp"] == 0.0 and errs["rmse"] == 0.0
    weight = metrics.valid_weight(flow_cur_to_prev, np.ones((24, 32), np.float32))
    assert weight[:, -dx:].sum() == 0 and weight[-dy:].sum() == 0 and weight[: 24 - dy, : 32 - dx].all()
    # Without motion compensation the same pair is far from consistent.
    (still,) = metrics.pair_errors_batch([cur], [prev], np.zeros_like(flow_cur_to_prev), np.ones((24, 32)))
    assert still["lai_ewarp"] > 1e-3


def test_batched_pair_errors_equal_each_clip_scored_alone():
    prev, cur = translating_clip(2, 24, 32, dx=2, dy=1)
    rng = np.random.default_rng(2)
    flow_cur_to_prev = rng.normal(0, 3, (24, 32, 2)).astype(np.float32)
    weight = _random((24, 32), 4)
    noisy = [np.clip(f + rng.normal(0, 20, f.shape), 0, 255).astype(np.uint8) for f in (prev, cur)]
    batch = metrics.pair_errors_batch([cur, noisy[1]], [prev, noisy[0]], flow_cur_to_prev, weight)
    alone = [metrics.pair_errors_batch([c], [o], flow_cur_to_prev, weight)[0] for c, o in ((cur, prev), noisy[::-1])]
    assert batch == alone
    assert batch[1]["lai_ewarp"] > batch[0]["lai_ewarp"]
    with pytest.raises(ValueError, match="others: expected 2 frames like currents"):
        metrics.pair_errors_batch([cur, cur], [prev], flow_cur_to_prev, weight)


def test_shape_errors_say_expected_and_got():
    with pytest.raises(ValueError, match="expected an \\(H, W, 3\\) array, got"):
        metrics.errors_from_warped(np.zeros((4, 4)), np.zeros((4, 4)), np.ones((4, 4)))
    with pytest.raises(ValueError, match="expected shape"):
        metrics.errors_from_warped(np.zeros((4, 4, 3)), np.zeros((4, 5, 3)), np.ones((4, 4)))
    with pytest.raises(ValueError, match="mask: expected"):
        metrics.errors_from_warped(np.zeros((4, 4, 3)), np.zeros((4, 4, 3)), np.ones((4, 5)))


def test_perceptual_losses_are_the_stylizer_losses():
    gen = torch.Generator().manual_seed(0)
    layers = metrics.STYLE_LAYERS + (metrics.CONTENT_LAYER,)
    feats = {name: torch.rand(1, 4, 6, 5, generator=gen) for name in layers}
    other = {name: torch.rand(1, 4, 6, 5, generator=gen) for name in layers}
    grams = {name: losses.gram_matrix(other[name]) for name in metrics.STYLE_LAYERS}
    assert metrics.style_losses_batch(feats, grams) == pytest.approx(
        [float(losses.style_loss(feats, grams, metrics.STYLE_LAYERS))]
    )
    assert metrics.style_losses_batch(other, grams) == pytest.approx([0.0], abs=1e-12)
    assert metrics.content_losses_batch(feats, feats) == [0.0]
    expected = float(((feats["relu4_2"] - other["relu4_2"]) ** 2).mean())
    assert metrics.content_losses_batch(feats, other) == pytest.approx([expected], rel=1e-6)


def test_batched_perceptual_losses_equal_per_image_losses():
    gen = torch.Generator().manual_seed(1)
    layers = metrics.STYLE_LAYERS + (metrics.CONTENT_LAYER,)
    batch = {name: torch.rand(3, 4, 6, 5, generator=gen) for name in layers}
    style = {name: losses.gram_matrix(torch.rand(1, 4, 7, 7, generator=gen)) for name in metrics.STYLE_LAYERS}
    content = {name: batch[name][:1] for name in layers}
    singles = [{name: batch[name][b : b + 1] for name in layers} for b in range(3)]
    assert metrics.style_losses_batch(batch, style) == pytest.approx(
        [float(losses.style_loss(one, style, metrics.STYLE_LAYERS)) for one in singles], rel=1e-5
    )
    layer = metrics.CONTENT_LAYER
    assert metrics.content_losses_batch(batch, content) == pytest.approx(
        [float(losses.content_loss(one[layer], content[layer])) for one in singles], rel=1e-6
    )
    assert metrics.content_losses_batch(batch, content)[0] == 0.0


def test_edge_correlation_is_one_for_the_content_itself_at_any_exposure():
    content = textured_image(48, 64, seed=4)
    assert metrics.edge_correlation(content, content) == pytest.approx(1.0)
    darker = (content.astype(np.float32) * 0.25).astype(np.uint8)
    assert metrics.edge_correlation(darker, content) > 0.98


def test_edge_correlation_falls_as_the_scenes_edges_are_lost():
    content = textured_image(48, 64, seed=4).astype(np.float32) / 255
    paint = np.random.default_rng(5).random(content.shape).astype(np.float32)  # edges of its own
    scores = [metrics.edge_correlation((1 - k) * content + k * paint, content) for k in (0.0, 0.5, 0.8, 1.0)]
    assert scores == sorted(scores, reverse=True)
    assert scores[0] == pytest.approx(1.0) and abs(scores[-1]) < 0.2


def test_edge_correlation_of_a_flat_frame_is_nan_and_sizes_must_match():
    content = textured_image(16, 20, seed=1)
    assert math.isnan(metrics.edge_correlation(np.full_like(content, 90), content))
    with pytest.raises(ValueError, match="expected the output's size"):
        metrics.edge_correlation(content[:8], content)
