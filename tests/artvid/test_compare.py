"""Tests of artvid.compare: exact formulas on Sintel ground truth, ordering, errors."""

import math
import shutil
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

import flow
from artvid import metrics, video
from artvid.compare import CompareConfig, run_compare
from artvid.errors import CompareError, ConfigError, DeviceError
from tests.helpers import textured_image, translating_clip

SINTEL = ("alley_1_clean", "market_5_final")


def _folder(root: Path, name: str, frames) -> Path:
    folder = root / name
    folder.mkdir()
    video.write_frames(folder, frames)
    return folder


def _read_flo(path: Path) -> np.ndarray:
    # Middlebury .flo: float32 tag 202021.25, int32 width, int32 height, then (u, v) row-major.
    raw = path.read_bytes()
    assert np.frombuffer(raw[:4], "<f4")[0] == np.float32(202021.25)
    width, height = np.frombuffer(raw[4:12], "<i4")
    return np.frombuffer(raw[12:], "<f4").reshape(height, width, 2).astype(np.float64)


def _bilinear(image: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Bilinear sample of (H, W, 3) float64 at (x, y), edge taps clamped."""
    height, width = image.shape[:2]
    x0, y0 = np.floor(x).astype(int), np.floor(y).astype(int)
    ax, ay = (x - x0)[..., None], (y - y0)[..., None]
    xa, xb = np.clip(x0, 0, width - 1), np.clip(x0 + 1, 0, width - 1)
    ya, yb = np.clip(y0, 0, height - 1), np.clip(y0 + 1, 0, height - 1)
    return (
        image[ya, xa] * (1 - ax) * (1 - ay)
        + image[ya, xb] * ax * (1 - ay)
        + image[yb, xa] * (1 - ax) * ay
        + image[yb, xb] * ax * ay
    )


def _sintel_content(shared_data: Path, seq: str, tmp_path: Path) -> tuple[Path, Path]:
    gt = shared_data / "sintel" / seq
    if not (gt / "flow" / "frame_0002.flo").exists():
        pytest.skip(f"Sintel sequence {seq} not found")
    content = tmp_path / "content"
    content.mkdir()
    for png in sorted(gt.glob("frame_*.png")):
        shutil.copy(png, content / png.name)
    return gt, content


@pytest.mark.parametrize("seq", SINTEL)
def test_gt_flow_metrics_of_content_match_hand_computed_formula(shared_data, seq, tmp_path):
    gt, content = _sintel_content(shared_data, seq, tmp_path)
    config = CompareConfig(gt_flow=gt, size=1024, perceptual=False)
    result = run_compare(content, [content], config, progress=False)

    # Hand computation on the files: Sintel flow/frame_0002.flo maps frame_0002 (index 1) to
    # frame_0003 (index 2); frame_0003 is warped onto frame_0002's grid and compared there.
    f2 = cv2.imread(str(gt / "frame_0002.png"))[..., ::-1].astype(np.float64) / 255
    f3 = cv2.imread(str(gt / "frame_0003.png"))[..., ::-1].astype(np.float64) / 255
    fl = _read_flo(gt / "flow" / "frame_0002.flo")
    height, width = fl.shape[:2]
    x = np.arange(width)[None, :] + fl[..., 0]
    y = np.arange(height)[:, None] + fl[..., 1]
    occluded = cv2.imread(str(gt / "occlusions" / "frame_0002.png"), cv2.IMREAD_GRAYSCALE) >= 128
    invalid = cv2.imread(str(gt / "invalid" / "frame_0002.png"), cv2.IMREAD_GRAYSCALE) >= 128
    inside = (x >= 0) & (x <= width - 1) & (y >= 0) & (y <= height - 1)
    mask = (~occluded & ~invalid & inside).astype(np.float64)
    sq = ((f2 - _bilinear(f3, x, y)) ** 2).sum(axis=2)
    ruder = (mask * sq).sum() / (3 * height * width)
    lai = (mask * sq).sum() / (3 * mask.sum())

    assert (result.width, result.height) == (width, height)
    summary = result.summary["content"]
    assert summary["ruder"] == pytest.approx(ruder, rel=1e-5)
    assert summary["lai_ewarp"] == pytest.approx(lai, rel=1e-5)
    assert summary["rmse_short"] == pytest.approx(math.sqrt(lai), rel=1e-5)
    assert math.isnan(summary["rmse_long"])
    assert result.pair_counts == {"ruder": 1, "lai_ewarp": 1, "rmse_short": 1, "rmse_long": 0, "edge_correlation": 4}
    # The pair (frame_0002, frame_0003) is reported on the later frame (index 2) only.
    rows = {r["frame"]: r for r in result.rows if r["input"] == "content"}
    assert [t for t, r in rows.items() if math.isfinite(r["ruder"])] == [2]
    assert 0 < ruder < 0.05


def test_gt_flow_metric_is_zero_for_exactly_warped_clip(shared_data, tmp_path):
    gt, content = _sintel_content(shared_data, "alley_1_clean", tmp_path)
    frames = list(video.iter_frames(content))
    fl = flow.read_flo(gt / "flow" / "frame_0002.flo")
    weight = (1 - flow.read_mask(gt / "occlusions" / "frame_0002.png")) * (
        1 - flow.read_mask(gt / "invalid" / "frame_0002.png")
    )
    # Exactly zero in float: the grid frame IS the other frame warped, on valid pixels.
    warped = flow.warp(frames[2].astype(np.float32) / 255, fl, border="replicate")
    noisy = np.random.default_rng(0).uniform(0, 1, warped.shape).astype(np.float32)
    grid = np.where(weight[..., None] > 0, warped, noisy)
    (errs,) = metrics.pair_errors_batch([grid], [frames[2]], fl, weight)
    assert errs["ruder"] == 0.0 and errs["lai_ewarp"] == 0.0 and errs["rmse"] == 0.0

    # Through files (uint8) the same clip is zero up to rounding: |d| <= 0.5/255 per channel.
    stable = [frames[0], np.round(grid * 255).astype(np.uint8), frames[2], frames[3]]
    folder = _folder(tmp_path, "warped", stable)
    result = run_compare(content, [folder], CompareConfig(gt_flow=gt, size=1024, perceptual=False), progress=False)
    assert result.summary["warped"]["lai_ewarp"] <= (0.5 / 255) ** 2
    assert result.summary["warped"]["ruder"] <= (0.5 / 255) ** 2
    assert result.summary["content"]["lai_ewarp"] > 20 * (0.5 / 255) ** 2


def test_flickering_stylization_scores_worse_than_stable_on_every_temporal_metric(tmp_path):
    clip = translating_clip(8, 48, 64, dx=2, dy=1)
    rng = np.random.default_rng(1)
    stable = [255 - f for f in clip]
    flicker = [np.clip(s.astype(np.int16) + rng.normal(0, 25, s.shape), 0, 255).astype(np.uint8) for s in stable]
    content = _folder(tmp_path, "content", clip)
    style = tmp_path / "style.png"
    cv2.imwrite(str(style), textured_image(40, 40, seed=3))
    config = CompareConfig(
        names=("stable", "flicker"), style=style, long_term=3, cache_dir=tmp_path / "cache", workers=1
    )
    result = run_compare(
        content, [_folder(tmp_path, "s", stable), _folder(tmp_path, "f", flicker)], config, progress=False
    )
    assert result.metric_names == (
        "ruder", "lai_ewarp", "rmse_short", "rmse_long", "edge_correlation", "style_loss", "content_loss"
    )
    for metric in metrics.TEMPORAL_METRICS:
        assert result.summary["flicker"][metric] > result.summary["stable"][metric], metric
        assert result.summary["content"][metric] < result.summary["flicker"][metric], metric
    assert result.pair_counts["rmse_short"] == 7 and result.pair_counts["rmse_long"] == 5
    assert result.summary["content"]["content_loss"] == 0.0
    assert result.summary["content"]["edge_correlation"] == pytest.approx(1.0)
    assert result.summary["stable"]["edge_correlation"] < 1.0
    assert result.summary["stable"]["content_loss"] > 0
    assert all(math.isfinite(result.summary[n]["style_loss"]) for n in ("content", "stable", "flicker"))
    assert result.settings["flow"].startswith("estimated (deepflow")


def test_inputs_of_other_sizes_are_resized_and_default_names_are_unique(tmp_path):
    clip = translating_clip(4, 24, 32)
    content = _folder(tmp_path, "content", clip)
    big = _folder(tmp_path, "big", [cv2.resize(f, (64, 48)) for f in clip])
    config = CompareConfig(flow_method="dis", perceptual=False, long_term=2, cache_dir=tmp_path / "c", workers=1)
    result = run_compare(content, [big, big], config, progress=False)
    assert [i.name for i in result.inputs] == ["content", "big", "big_2"]
    assert (result.width, result.height) == (32, 24)
    assert result.inputs[1].width == 64
    assert result.summary["big"]["lai_ewarp"] < 0.01


def test_frame_count_mismatch_names_the_file(tmp_path):
    clip = translating_clip(5, 24, 32)
    content = _folder(tmp_path, "content", clip)
    short = _folder(tmp_path, "short", clip[:4])
    with pytest.raises(CompareError, match=r"short.*expected 5 frames like CONTENT, got 4; --frames 4 scores the first 4"):
        run_compare(content, [short], CompareConfig(perceptual=False), progress=False)


def test_frames_scores_the_first_frames_of_inputs_of_other_lengths(tmp_path):
    # A method that drops the last frame, and one longer than CONTENT: the first 4 frames of each.
    clip = translating_clip(6, 24, 32)
    content = _folder(tmp_path, "content", clip[:5])
    short, long = _folder(tmp_path, "short", clip[:4]), _folder(tmp_path, "long", clip)
    config = CompareConfig(flow_method="dis", perceptual=False, long_term=2, cache_dir=tmp_path / "c", workers=1,
                           frames=4)
    result = run_compare(content, [short, long], config, progress=False)
    assert result.frame_count == 4 and result.settings["frames"] == 4
    assert {row["frame"] for row in result.rows} == {0, 1, 2, 3}
    # The same frames as a comparison of clips that have just those 4.
    exact = _folder(tmp_path, "exact", clip[:4])
    alone = run_compare(exact, [exact], replace(config, frames=None), progress=False)
    assert result.summary["content"] == alone.summary["content"]
    from artvid.compare.sources import iter_aligned

    assert sum(1 for _ in iter_aligned(result)) == 4  # the side-by-side video reads as many
    with pytest.raises(CompareError, match=r"short.*expected at least 5 frames \(--frames\), got 4"):
        run_compare(content, [short], replace(config, frames=5), progress=False)
    with pytest.raises(CompareError, match=r"CONTENT .*expected at least 6 frames \(--frames\), got 5"):
        run_compare(content, [long], replace(config, frames=6), progress=False)


def test_unreadable_and_missing_inputs_name_the_file(tmp_path):
    content = _folder(tmp_path, "content", translating_clip(3, 24, 32))
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video at all")
    with pytest.raises(CompareError, match="broken.mp4.*cannot be read"):
        run_compare(content, [broken], CompareConfig(perceptual=False), progress=False)
    with pytest.raises(CompareError, match="nothere.mp4.*missing"):
        run_compare(content, [tmp_path / "nothere.mp4"], CompareConfig(perceptual=False), progress=False)
    with pytest.raises(CompareError, match="CONTENT.*broken.mp4"):
        run_compare(broken, [content], CompareConfig(perceptual=False), progress=False)


def test_gt_flow_errors_name_the_file(tmp_path):
    content = _folder(tmp_path, "content", translating_clip(3, 24, 32))
    gt = tmp_path / "gt"
    with pytest.raises(CompareError, match="no flow/ folder"):
        run_compare(content, [content], CompareConfig(gt_flow=gt, perceptual=False), progress=False)
    (gt / "flow").mkdir(parents=True)
    with pytest.raises(CompareError, match="got none"):
        run_compare(content, [content], CompareConfig(gt_flow=gt, perceptual=False), progress=False)
    flow.write_flo(gt / "flow" / "frame_0001.flo", np.zeros((20, 30, 2), np.float32))
    with pytest.raises(CompareError, match=r"frame_0001.flo: expected size 32x24 like CONTENT, got 30x20"):
        run_compare(content, [content], CompareConfig(gt_flow=gt, perceptual=False), progress=False)
    flow.write_flo(gt / "flow" / "frame_0001.flo", np.zeros((24, 32, 2), np.float32))
    with pytest.raises(CompareError, match="occlusions.*frame_0001.png"):
        run_compare(content, [content], CompareConfig(gt_flow=gt, perceptual=False), progress=False)
    (gt / "occlusions").mkdir()
    flow.write_mask(gt / "occlusions" / "frame_0001.png", np.zeros((10, 10), np.float32))
    with pytest.raises(CompareError, match=r"occlusions.frame_0001.png: expected size 32x24"):
        run_compare(content, [content], CompareConfig(gt_flow=gt, perceptual=False), progress=False)


def test_gt_flow_is_rescaled_to_the_evaluation_size(tmp_path):
    clip = translating_clip(3, 24, 32, dx=2, dy=2)
    content = _folder(tmp_path, "content", clip)
    gt = tmp_path / "gt"
    (gt / "flow").mkdir(parents=True)
    (gt / "occlusions").mkdir()
    # Forward flow frame k -> k+1 of this clip is (-dx, -dy).
    flow.write_flo(gt / "flow" / "frame_0001.flo", np.full((24, 32, 2), -2, np.float32))
    flow.write_mask(gt / "occlusions" / "frame_0001.png", np.zeros((24, 32), np.float32))
    full = run_compare(content, [content], CompareConfig(gt_flow=gt, perceptual=False), progress=False)
    assert full.summary["content"]["lai_ewarp"] == 0.0
    half = run_compare(content, [content], CompareConfig(gt_flow=gt, size=16, perceptual=False), progress=False)
    assert (half.width, half.height) == (16, 12)
    assert half.summary["content"]["lai_ewarp"] < 2e-3


def test_config_validation():
    with pytest.raises(ConfigError, match="flow method"):
        CompareConfig(flow_method="raft")
    with pytest.raises(ConfigError, match="long-term"):
        CompareConfig(long_term=1)
    with pytest.raises(ConfigError, match="size"):
        CompareConfig(size=8)
    with pytest.raises(ConfigError, match="unique"):
        CompareConfig(names=("a", "a"))
    with pytest.raises(ConfigError, match="unique"):
        CompareConfig(names=("content",))
    with pytest.raises(ConfigError, match="non-empty"):
        CompareConfig(names=("a,b",))
    assert CompareConfig(style="x.png").style == Path("x.png")
    assert CompareConfig().flow_method == "deepflow" and CompareConfig().long_term == 10


def test_names_must_match_inputs(tmp_path):
    content = _folder(tmp_path, "content", translating_clip(3, 24, 32))
    with pytest.raises(ConfigError, match="expected 1 names"):
        run_compare(content, [content], CompareConfig(names=("a", "b"), perceptual=False), progress=False)
    with pytest.raises(ConfigError, match="at least one STYLIZED"):
        run_compare(content, [], CompareConfig(perceptual=False), progress=False)


def test_device_defaults_to_auto_and_is_resolved_once_like_render(tmp_path, monkeypatch):
    import artvid.compare.run
    from artvid.device import resolve_device

    assert CompareConfig().device == "auto"
    asked = []

    def spy(name):
        asked.append(name)
        return resolve_device(name)

    monkeypatch.setattr(artvid.compare.run, "resolve_device", spy)
    content = _folder(tmp_path, "content", translating_clip(3, 24, 32))
    config = CompareConfig(flow_method="dis", long_term=2, cache_dir=tmp_path / "cache", workers=1)
    result = run_compare(content, [content], config, progress=False)
    assert asked == ["auto"]
    assert result.settings["device"] == str(resolve_device("auto"))
    # Temporal metrics alone need no device.
    run_compare(content, [content], replace(config, perceptual=False), progress=False)
    assert asked == ["auto"]


def test_unknown_device_is_refused_before_any_flow_is_computed(tmp_path):
    content = _folder(tmp_path, "content", translating_clip(3, 24, 32))
    config = CompareConfig(flow_method="dis", device="abacus", cache_dir=tmp_path / "cache", workers=1)
    with pytest.raises(DeviceError, match="unknown device 'abacus'"):
        run_compare(content, [content], config, progress=False)
    assert not (tmp_path / "cache").exists()


def test_compare_scores_style_against_the_renders_own_style_target(tmp_path):
    import torch

    from artvid import images
    from artvid.compare.perceptual import PerceptualScorer
    from artvid.stylize import StylizeConfig, Stylizer

    style = np.random.default_rng(5).integers(0, 255, (90, 70, 3), dtype=np.uint8)
    path = tmp_path / "style.png"
    images.save_image(path, style)
    scorer = PerceptualScorer(torch.device("cpu"), "original", path, width=40, height=32)
    grams = Stylizer(StylizeConfig(), [style], device="cpu").style_grams(32, 40)
    for layer in metrics.STYLE_LAYERS:
        torch.testing.assert_close(scorer.grams[layer], grams[layer], rtol=1e-4, atol=1e-3)


def test_the_default_report_folder_of_a_long_title_fits_the_file_system():
    from artvid.compare import default_report_dir

    title = "Très long titre d'une vidéo téléchargée " * 6  # 258 bytes: a name of that length fails
    folder = default_report_dir(f"/clips/{title.strip()}.mp4")
    assert folder.parent == Path(".") and folder.name.startswith("compare-Très long titre")
    assert len(folder.name.encode()) <= len("compare-") + 100
    assert default_report_dir("/clips/short clip.mov") == Path("compare-short clip")
