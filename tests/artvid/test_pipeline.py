"""End-to-end renders on tiny clips with the real VGG19 weights and real OpenCV flow."""

import json
from fractions import Fraction

import numpy as np
import pytest

import flow
from artvid import images, video
from artvid.config import build_config
from artvid.errors import ConfigError, WorkDirError
from artvid.flowcache import FlowCache
from artvid.multipass import Init
from artvid.rendering import RunOptions, render
from artvid.rendering.parts import flow_warper
from artvid.stylize import Stylizer
from tests.helpers import interrupt_stylizer_at, render_pairs, translating_clip, write_clip_with_audio, write_frame_folder

FAST = {"iterations_first": 3, "iterations": 2, "pass_iterations": 1}


def options(tmp_path, **kwargs):
    return RunOptions(device="cpu", workers=1, cache_dir=tmp_path / "cache", **kwargs)


def work_frames(work_dir, pass_index):
    return {p.name: p.read_bytes() for p in sorted((work_dir / f"pass{pass_index}").glob("*.png"))}


def test_mp4_output_keeps_frame_count_fps_and_audio(tmp_path, style):
    source = tmp_path / "in.mp4"
    write_clip_with_audio(source, translating_clip(5, 32, 40, 2, 1), fps=Fraction(25, 2))
    out = tmp_path / "out.mp4"
    summary = render(source, [style], out, build_config(schedule=FAST), options(tmp_path))
    info = video.probe(out)
    assert (info.frame_count, info.fps, info.has_audio) == (5, Fraction(25, 2), True)
    assert (info.width, info.height) == (40, 32)
    assert summary.frames == 5 and summary.frames_stylized == 5 and summary.iterations > 0
    assert json.loads(json.dumps(summary.as_dict()))["passes"] == 1


def test_resume_after_interruption_gives_the_same_frames(tmp_path, style, clip, monkeypatch):
    config = build_config(schedule={**FAST, "passes": 2}, size=None)
    render(clip, [style], tmp_path / "a", config, options(tmp_path))
    expected = {p: work_frames(tmp_path / "a" / ".artvid-work", p) for p in (1, 2)}

    restore = interrupt_stylizer_at(monkeypatch, 6)  # pass 2, second frame (frame 3 of 4)
    with pytest.raises(KeyboardInterrupt):
        render(clip, [style], tmp_path / "b", config, options(tmp_path))
    restore()
    summary = render(clip, [style], tmp_path / "b", config, options(tmp_path))
    assert summary.frames_resumed == 5 and summary.frames_stylized == 3
    for p in (1, 2):
        assert work_frames(tmp_path / "b" / ".artvid-work", p) == expected[p]
    assert sorted(f.name for f in (tmp_path / "b").glob("*.png")) == ["000001.png", "000002.png", "000003.png", "000004.png"]


def test_changed_setting_is_refused_and_fresh_starts_over(tmp_path, style, clip):
    out = tmp_path / "out"
    render(clip, [style], out, build_config(schedule=FAST), options(tmp_path))
    changed = build_config(schedule=FAST, stylize={"style_weight": 50.0})
    with pytest.raises(WorkDirError, match="style_weight"):
        render(clip, [style], out, changed, options(tmp_path))
    summary = render(clip, [style], out, changed, options(tmp_path, fresh=True))
    assert summary.frames_stylized == 4


def test_more_passes_reuse_the_finished_ones(tmp_path, style, clip):
    out = tmp_path / "out"
    render(clip, [style], out, build_config(schedule=FAST), options(tmp_path))
    summary = render(clip, [style], out, build_config(schedule={**FAST, "passes": 2}), options(tmp_path))
    assert summary.frames_resumed == 4 and summary.frames_stylized == 4


def test_independent_frames_need_no_flow(tmp_path, style, clip):
    config = build_config(schedule={**FAST, "init": Init.RANDOM}, stylize={"temporal_weight": 0.0})
    render(clip, [style], tmp_path / "out", config, options(tmp_path))
    assert not (tmp_path / "cache").exists()


def test_coarse_to_fine_only_for_frames_started_from_scratch(tmp_path, style, clip, monkeypatch):
    levels = []
    original = Stylizer.stylize

    def recording(self, *args, **kwargs):
        levels.append(kwargs.get("coarse_to_fine"))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Stylizer, "stylize", recording)
    config = build_config(schedule={**FAST, "passes": 2}, stylize={"coarse_to_fine": 2})
    render(clip, [style], tmp_path / "out", config, options(tmp_path))
    # Pass 1: frame 0 from noise (the config's levels), frames 1-3 warm-started; pass 2 all warm.
    assert levels == [None, 1, 1, 1, 1, 1, 1, 1]


def test_too_many_coarse_to_fine_levels_are_refused_before_any_work(tmp_path, style, clip):
    config = build_config(schedule=FAST, stylize={"coarse_to_fine": 3})  # 32x40 frames need 64 px
    with pytest.raises(ConfigError, match="coarse_to_fine=3"):
        render(clip, [style], tmp_path / "out.mp4", config, options(tmp_path))
    assert not (tmp_path / "out.mp4.artvid-work").exists()


def test_original_colors_output(tmp_path, style, clip):
    config = build_config(schedule=FAST, stylize={"original_colors": True})
    render(clip, [style], tmp_path / "out", config, options(tmp_path))
    assert len(list((tmp_path / "out").glob("*.png"))) == 4


@pytest.mark.parametrize("interpolation", flow.INTERPOLATIONS)
def test_prev_warped_init_of_a_translated_clip_is_the_shifted_previous_result(tmp_path, clip, interpolation):
    dx, dy = 2, 1
    cache = FlowCache(tmp_path / "cache", clip, None, build_config().flow)
    job = cache.start(render_pairs(4, (1,)), workers=1)
    previous = np.random.default_rng(0).random((32, 40, 3)).astype(np.float32)
    warped, reliability = flow_warper(job, interpolation)(previous, 2, 1)
    job.close()
    interior = (slice(6, -6), slice(6, -6))
    shifted = np.roll(previous, shift=(-dy, -dx), axis=(0, 1))
    # DIS on a 32x40 frame is not exact everywhere: nearly every interior pixel must match.
    error = np.abs(warped[interior] - shifted[interior])
    assert np.mean(error < 0.02) > 0.97 and error.mean() < 0.004
    assert reliability[interior].mean() > 0.95


def test_stretched_levels_are_measured_once_per_shot(tmp_path, style, monkeypatch):
    from artvid.levels import ShotLevels

    clip = tmp_path / "dark"
    write_frame_folder(clip, [np.rint(f * 0.3).astype(np.uint8) for f in translating_clip(4, 32, 40, 2, 1)])

    measured = []
    measure = ShotLevels.measure.__func__

    def spy(cls, load, shots, *args, **kwargs):
        levels = measure(cls, load, shots, *args, **kwargs)
        measured.append(levels)
        return levels

    monkeypatch.setattr(ShotLevels, "measure", classmethod(spy))
    schedule = {**FAST, "cuts": "3", "carry": "image"}
    runs = {}
    for levels in ("none", "stretch"):
        out = tmp_path / levels
        render(clip, [style], out, build_config(schedule=schedule, stylize={"content_levels": levels}, size=None),
               options(tmp_path))
        runs[levels] = work_frames(out / ".artvid-work", 1)
        manifest = json.loads((out / ".artvid-work" / "manifest.json").read_text())
        assert ("levels" in manifest) == (levels == "stretch")
    # A dark clip: each shot is stretched by its own map.
    assert [m.shots for m in measured] == [((0, 2), (2, 4))]
    assert all(m is not None and m.gain > 1 for m in measured[0].maps)
    assert runs["stretch"] != runs["none"]
