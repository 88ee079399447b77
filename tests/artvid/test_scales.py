"""Multi-scale rendering: the scales, the refining plan, the coarse start, and renders that
resume and reuse finished scales (tiny frames, real VGG19 weights and OpenCV flow)."""

import re
from dataclasses import replace

import numpy as np
import pytest

from artvid import images
from artvid.config import build_config
from artvid.errors import ConfigError
from artvid.multipass import ScheduleConfig
from artvid.rendering import RunOptions, TqdmProgress, make_plan, render
from artvid.rendering.scales import CoarseScale, normalise_scales, scale_sides
from tests.helpers import interrupt_stylizer_at

FAST = {"iterations_first": 3, "iterations": 2, "pass_iterations": 1, "scale_iterations": 2, "scale_iterations_first": 3}


def options(tmp_path, **kwargs):
    return RunOptions(device="cpu", workers=1, cache_dir=tmp_path / "cache", **kwargs)


def frames(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.png"))}


def scale_dir(out, side):
    (found,) = sorted((out / ".artvid-work" / "scales").glob(f"{side}px-*"))
    return found


@pytest.mark.parametrize("text, final, sides", [
    ("auto", 256, (256,)), ("auto", 257, (129, 257)), ("auto", 512, (256, 512)), ("auto", 1920, (240, 480, 960, 1920)),
    ("auto", 4096, (256, 512, 1024, 2048, 4096)),
    ("1", 1920, (1920,)), ("3", 1024, (256, 512, 1024)), ("2", 75, (38, 75)),
    ("256,512", 1024, (256, 512, 1024)), ("256,1024", 1024, (256, 1024)), (" 64, 128 ", 128, (64, 128)),
])
def test_scale_sides(text, final, sides):
    assert scale_sides(text, final) == sides


@pytest.mark.parametrize("text, message", [
    ("0", "between 1 and"), ("7", "between 1 and"), ("512,256", "ascending"), ("16,64", "at least 32"),
    ("big", "expected scales"), ("", "expected scales"), ("1,", "expected scales"), (True, "expected scales"),
])
def test_bad_scales_are_refused(text, message):
    with pytest.raises(ConfigError, match=message):
        normalise_scales(text)


def test_scales_beyond_the_render_size_are_refused():
    with pytest.raises(ConfigError, match="up to the render's long side 512"):
        scale_sides("256,1024", 512)
    with pytest.raises(ConfigError, match="use fewer scales"):
        scale_sides("4", 128)
    with pytest.raises(ConfigError, match="scale-iterations"):
        ScheduleConfig(scale_iterations=0)


def test_a_refining_plan_starts_pass_one_from_the_scale_below():
    schedule = ScheduleConfig(passes=2, scale_iterations=7, scale_iterations_first=9, cuts="0")
    plain, refined = make_plan(6, schedule, cuts=(3,)), make_plan(6, schedule, cuts=(3,), refine=True)
    first_pass = refined.pass_steps(1)
    assert all(s.start.coarse and not s.from_scratch for s in first_pass)
    assert [s.iterations for s in first_pass] == [9, 7, 7, 9, 7, 7]
    # Their budget is scale_iterations_first: the first scale's tolerance_first does not apply.
    assert all(s.tolerance is None for s in first_pass)
    assert [s.tolerance for s in plain.pass_steps(1)] == [schedule.tolerance_first, None, None] * 2
    # A shot's first frame has no predecessor: the upsampled coarse result alone.
    assert [s.start.result for s in first_pass if s.frame in (0, 3)] == [None, None]
    assert all(s.start.result.frame == s.frame - 1 and s.start.warped for s in first_pass if s.frame not in (0, 3))
    assert [s.temporal for s in first_pass] == [s.temporal for s in plain.pass_steps(1)]
    assert refined.pass_steps(2) == plain.pass_steps(2)
    assert refined.flow_pairs == plain.flow_pairs
    chunked = make_plan(12, replace(schedule, chunk_frames=6), refine=True)
    assert {s.frame: s.iterations for s in chunked.pass_steps(1) if s.iterations == 9}.keys() == {0, 6}  # keyframes


def test_the_coarse_start_takes_the_warped_frame_where_the_flow_is_reliable():
    rng = np.random.default_rng(0)
    coarse = rng.integers(0, 256, (8, 10, 3), dtype=np.uint8)
    scale = CoarseScale(lambda frame: coarse, (16, 20))
    up = scale.frame(0)
    assert up.shape == (16, 20, 3) and up.dtype == np.float32
    np.testing.assert_allclose(up[::2, ::2].mean(), coarse.mean() / 255, atol=0.02)
    warped = rng.random((16, 20, 3)).astype(np.float32)
    np.testing.assert_allclose(scale.start(0, warped, np.zeros((16, 20), np.float32)), up)
    np.testing.assert_allclose(scale.start(0, warped, np.ones((16, 20), np.float32)), warped)
    half = np.zeros((16, 20), np.float32)
    half[:, 10:] = 1.0  # the right half reliable
    mixed = scale.start(0, warped, half)
    np.testing.assert_allclose(mixed[:, :10], up[:, :10])
    np.testing.assert_allclose(mixed[:, 10:], warped[:, 10:])


@pytest.fixture
def big_clip(make_clip):
    return make_clip(frames=3, height=48, width=64, name="big")


def test_the_first_scale_equals_a_one_scale_render_at_its_size(tmp_path, style, big_clip):
    two = render(big_clip, [style], tmp_path / "two", build_config(schedule={**FAST, "scales": "32,64"}),
                 options(tmp_path))
    render(big_clip, [style], tmp_path / "one", build_config(schedule={**FAST, "scales": "1"}, size=32),
           options(tmp_path))
    assert frames(scale_dir(tmp_path / "two", 32) / "pass1") == frames(tmp_path / "one" / ".artvid-work" / "pass1")
    assert sorted(frames(tmp_path / "two")) == ["000001.png", "000002.png", "000003.png"]
    assert two.size == [48, 64] and two.frames_stylized == 6
    final = sorted((scale_dir(tmp_path / "two", 64) / "pass1").glob("*.png"))
    written = sorted((tmp_path / "two").glob("*.png"))
    assert all(np.array_equal(images.load_image(a), images.load_image(b)) for a, b in zip(final, written))


def test_an_interrupted_multi_scale_render_resumes_to_the_same_frames(tmp_path, style, big_clip, monkeypatch):
    config = build_config(schedule={**FAST, "scales": "32,64", "passes": 2})
    render(big_clip, [style], tmp_path / "a", config, options(tmp_path))
    restore = interrupt_stylizer_at(monkeypatch, 8)  # the second scale's pass 1, frame 2
    with pytest.raises(KeyboardInterrupt):
        render(big_clip, [style], tmp_path / "b", config, options(tmp_path))
    restore()
    summary = render(big_clip, [style], tmp_path / "b", config, options(tmp_path))
    assert (summary.frames_resumed, summary.frames_stylized) == (7, 5)
    for side in (32, 64):
        for p in (1, 2):
            assert frames(scale_dir(tmp_path / "b", side) / f"pass{p}") == frames(scale_dir(tmp_path / "a", side) / f"pass{p}")
    assert frames(tmp_path / "b") == frames(tmp_path / "a")


def test_raising_the_final_size_reuses_the_finished_scales(tmp_path, style, make_clip):
    clip = make_clip(frames=2, height=60, width=80, name="wide")
    out = tmp_path / "out"
    render(clip, [style], out, build_config(schedule={**FAST, "scales": "2"}, size=64), options(tmp_path))
    before = {side: frames(scale_dir(out, side) / "pass1") for side in (32, 64)}
    summary = render(clip, [style], out, build_config(schedule={**FAST, "scales": "32,64"}, size=80), options(tmp_path))
    assert (summary.frames_resumed, summary.frames_stylized) == (4, 2)
    assert {side: frames(scale_dir(out, side) / "pass1") for side in (32, 64)} == before
    assert len(frames(scale_dir(out, 80) / "pass1")) == 2
    # Another budget at the scales above the first starts new ones; the first is kept.
    again = render(clip, [style], out, build_config(schedule={**FAST, "scales": "32,64", "scale_iterations": 3}, size=80),
                   options(tmp_path))
    assert (again.frames_resumed, again.frames_stylized) == (2, 4)


def test_a_damaged_frame_of_the_scale_below_is_recomputed_with_what_depends_on_it(tmp_path, style, big_clip):
    config = build_config(schedule={**FAST, "scales": "32,64"})
    out = tmp_path / "out"
    render(big_clip, [style], out, config, options(tmp_path))
    expected = {side: frames(scale_dir(out, side) / "pass1") for side in (32, 64)}
    (scale_dir(out, 32) / "pass1" / "000002.png").write_bytes(b"not a png")
    (scale_dir(out, 64) / "pass1" / "000002.png").unlink()  # the frame that reads it, gone too
    summary = render(big_clip, [style], out, config, options(tmp_path))
    assert {side: frames(scale_dir(out, side) / "pass1") for side in (32, 64)} == expected
    assert summary.frames_stylized >= 2


def test_progress_bars_follow_every_scale(tmp_path, style, big_clip, capsys):
    # The CLI's bars: a scale's plan starts after the previous one's bars closed.
    config = build_config(schedule={**FAST, "scales": "32,64", "scale_iterations": 10, "scale_iterations_first": 10})
    render(big_clip, [style], tmp_path / "out", config, options(tmp_path, progress=TqdmProgress()))
    err = capsys.readouterr().err
    assert "it 10/10" in err
    # Each scale's bar ends with how much of the whole render is done: part of it after the first.
    ends = [int(done) for done in re.findall(r"pass 1/1 \(render (\d+)%[^)]*\): 100%", err)]
    assert len(set(ends)) == 2 and 0 < ends[0] < 100 and ends[-1] == 100, ends
