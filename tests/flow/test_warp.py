"""Invariants of backward warping (flow.warp)."""

import numpy as np
import pytest

from flow import BORDERS, INTERPOLATIONS, FlowShapeError, chain, out_of_frame_mask, warp
from tests.helpers import textured_image, translating_clip


def _constant_flow(h, w, dx, dy):
    f = np.zeros((h, w, 2), np.float32)
    f[..., 0], f[..., 1] = dx, dy
    return f


@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
@pytest.mark.parametrize("border", BORDERS)
def test_zero_flow_is_identity(border, interpolation):
    img = textured_image(24, 32, seed=1)
    out = warp(img, np.zeros((24, 32, 2), np.float32), border=border, interpolation=interpolation)
    assert out.dtype == np.float32 and out.shape == img.shape
    np.testing.assert_array_equal(out, img.astype(np.float32))


@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
def test_integer_shift_is_exact_in_interior(interpolation):
    dx, dy = 3, 2
    prev, cur = translating_clip(2, 40, 48, dx, dy)
    out = warp(prev, _constant_flow(40, 48, dx, dy), interpolation=interpolation)
    np.testing.assert_allclose(out[: 40 - dy, : 48 - dx], cur[: 40 - dy, : 48 - dx].astype(np.float32), atol=1e-4)


def test_bicubic_reproduces_a_quadratic_at_sub_pixel_offsets():
    ys, xs = np.mgrid[0:20, 0:30].astype(np.float64)
    surface = 0.01 * xs**2 + 0.3 * ys + 0.02 * xs * ys
    out = warp(surface, _constant_flow(20, 30, 0.37, 0.61), border="replicate", interpolation="bicubic")
    x, y = xs + 0.37, ys + 0.61
    exact = 0.01 * x**2 + 0.3 * y + 0.02 * x * y
    np.testing.assert_allclose(out[1:-3, 1:-3], exact[1:-3, 1:-3], atol=1e-4)


def test_bicubic_keeps_texture_that_bilinear_blurs():
    # Half a pixel sideways and back: bilinear averages neighbours twice (a low-pass filter),
    # bicubic keeps most of a fine texture's contrast.
    img = np.random.default_rng(3).random((32, 40, 3)).astype(np.float32)  # pixel-sized strokes
    there, back = _constant_flow(32, 40, 0.5, 0.0), _constant_flow(32, 40, -0.5, 0.0)
    inside = np.s_[4:-4, 4:-4]
    detail = {}
    for interpolation in INTERPOLATIONS:
        twice = warp(warp(img, there, interpolation=interpolation), back, interpolation=interpolation)
        detail[interpolation] = np.abs(np.diff(twice[inside], axis=1)).mean()
    original = np.abs(np.diff(img[inside], axis=1)).mean()
    assert detail["bilinear"] < 0.8 * original
    assert detail["bicubic"] > detail["bilinear"] * 1.15


def test_bicubic_never_leaves_the_images_range():
    img = np.zeros((10, 12), np.float32)
    img[:, 6:] = 1.0  # a hard edge rings with a cubic kernel
    out = warp(img, _constant_flow(10, 12, 0.4, 0.0), border="replicate", interpolation="bicubic")
    assert out.min() >= 0.0 and out.max() <= 1.0
    assert 0.0 < out[0, 5] < 1.0


def test_half_pixel_shift_averages_neighbours():
    img = np.arange(20, dtype=np.float32).reshape(4, 5)
    out = warp(img, _constant_flow(4, 5, 0.5, 0.0))
    np.testing.assert_allclose(out[:, :4], (img[:, :4] + img[:, 1:]) / 2)


def test_accepts_2d_and_multichannel_and_any_dtype():
    flow = _constant_flow(8, 9, 1, 0)
    assert warp(np.ones((8, 9), np.uint16), flow).shape == (8, 9)
    assert warp(np.ones((8, 9, 5), np.float64), flow).shape == (8, 9, 5)
    assert warp(np.ones((8, 9), bool), flow).dtype == np.float32


def test_border_modes_fill_out_of_frame_pixels():
    img = np.arange(3 * 4 * 2, dtype=np.float32).reshape(3, 4, 2)
    flow = _constant_flow(3, 4, 2.0, 0.0)  # the last two columns look beyond the right edge
    inside = np.s_[:, :2]
    results = {b: warp(img, flow, border=b) for b in BORDERS}
    for out in results.values():
        np.testing.assert_array_equal(out[inside], img[:, 2:])
    np.testing.assert_allclose(results["mean"][:, 2:], np.broadcast_to(img.reshape(-1, 2).mean(0), (3, 2, 2)))
    np.testing.assert_array_equal(results["zeros"][:, 2:], 0)
    np.testing.assert_array_equal(results["replicate"][:, 2:], np.repeat(img[:, 3:4], 2, axis=1))
    # reflect mirrors about the last pixel centre: x = 4 -> 2, x = 5 -> 1
    np.testing.assert_array_equal(results["reflect"][:, 2], img[:, 2])
    np.testing.assert_array_equal(results["reflect"][:, 3], img[:, 1])


def test_out_of_frame_mask():
    flow = _constant_flow(5, 6, -1.5, 0.0)
    flow[0, 3] = (0.0, -0.1)
    flow[4, 5] = (np.nan, 0.0)
    mask = out_of_frame_mask(flow)
    assert mask.dtype == bool and mask.shape == (5, 6)
    assert mask[:, :1].all() and mask[0, 3] and mask[4, 5]
    assert not mask[1:4, 2:].any()


def test_rejects_bad_inputs():
    img = np.zeros((4, 5, 3), np.uint8)
    with pytest.raises(FlowShapeError, match="border: expected one of mean"):
        warp(img, np.zeros((4, 5, 2), np.float32), border="wrap")
    with pytest.raises(FlowShapeError, match="interpolation: expected one of bilinear, bicubic"):
        warp(img, np.zeros((4, 5, 2), np.float32), interpolation="lanczos")
    with pytest.raises(FlowShapeError, match=r"expected spatial size \(4, 5\)"):
        warp(img, np.zeros((5, 5, 2), np.float32))
    with pytest.raises(FlowShapeError, match=r"expected \(H, W, 2\) float32"):
        warp(img, np.zeros((4, 5, 2), np.int32))
    with pytest.raises(FlowShapeError, match="numeric array"):
        warp(np.zeros((4,), np.uint8), np.zeros((4, 5, 2), np.float32))


def _ramp_flow(h, w, scale):
    """A flow that varies linearly over the frame (bilinear sampling of it is exact)."""
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    return np.dstack([scale * ys, -scale * xs]).astype(np.float32)


def test_chain_of_translations_adds_them_and_multiplies_reliability():
    h, w = 20, 30
    rel1, rel2 = np.full((h, w), 0.5, np.float32), np.full((h, w), 0.8, np.float32)
    first = _constant_flow(h, w, 2, 1)
    total, rel = chain([(first, rel1), (_constant_flow(h, w, 3, -1), rel2)])
    inside = ~out_of_frame_mask(total) & ~out_of_frame_mask(first)  # in the frame after every step
    np.testing.assert_allclose(total[..., 0], 5)
    np.testing.assert_allclose(total[..., 1], 0)
    np.testing.assert_allclose(rel[inside], 0.4)
    assert not rel[~inside].any() and (~inside).any()


def test_chain_samples_each_step_where_the_trajectory_is():
    h, w = 24, 32
    first, second = _constant_flow(h, w, 1.5, 2.0), _ramp_flow(h, w, 0.05)
    total, _ = chain([(first, np.ones((h, w), np.float32)), (second, np.ones((h, w), np.float32))])
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    expected = first + np.dstack([0.05 * (ys + 2.0), -0.05 * (xs + 1.5)])
    inside = ~out_of_frame_mask(first)
    np.testing.assert_allclose(total[inside], expected[inside], atol=1e-5)


def test_chain_warp_matches_warping_step_by_step_in_the_interior():
    clip = translating_clip(3, 40, 48, 2, 1)
    total, rel = chain([(_constant_flow(40, 48, 2, 1), np.ones((40, 48), np.float32))] * 2)
    out = warp(clip[0], total)
    np.testing.assert_array_equal(out[: 40 - 2, : 48 - 4], clip[2][: 40 - 2, : 48 - 4].astype(np.float32))
    assert rel[: 40 - 2, : 48 - 4].min() == 1.0


def test_chain_is_unreliable_where_a_later_step_is():
    h, w = 16, 16
    later = np.ones((h, w), np.float32)
    later[:, 8:] = 0.0  # the second step's right half is occluded
    _, rel = chain([(_constant_flow(h, w, 4, 0), np.ones((h, w), np.float32)), (np.zeros((h, w, 2), np.float32), later)])
    assert rel[:, :3].min() == 1.0 and rel[:, 4:12].max() == 0.0


def test_chain_rejects_no_steps_and_mismatched_shapes():
    with pytest.raises(FlowShapeError):
        chain([])
    with pytest.raises(FlowShapeError):
        chain([(np.zeros((4, 4, 2), np.float32), np.ones((4, 4), np.float32)),
               (np.zeros((5, 4, 2), np.float32), np.ones((5, 4), np.float32))])
