"""A render never touches files it did not create, and every interruption resumes to the same output.

Each data-loss case of the issue is reproduced as a user would meet it and asserts that every
pre-existing file is byte-identical afterwards.
"""

import random
import shutil

import numpy as np
import pytest

from artvid import images
from artvid.config import build_config
from artvid.errors import ConfigError, OutputIsInputError, VideoWriteError, WorkDirError, WorkDirInUseError
from artvid.rendering import RunOptions, render
from artvid.stylize import Stylizer
from artvid.workdir import WorkDir
from tests.helpers import snapshot, translating_clip, write_frame_folder

FAST = {"iterations_first": 3, "iterations": 2, "pass_iterations": 1}


def options(tmp_path, **kwargs):
    return RunOptions(**{"device": "cpu", "workers": 1, "cache_dir": tmp_path / "cache", **kwargs})


def test_fresh_never_deletes_a_folder_artvid_did_not_make(tmp_path, clip, style):
    project = tmp_path / "project"
    (project / "src").mkdir(parents=True)
    (project / "manifest.json").write_text('{"name": "my-app"}')
    (project / "src" / "app.js").write_text("console.log('hi')")
    before = snapshot(project)
    for fresh in (False, True):
        with pytest.raises(WorkDirError) as refused:
            render(clip, [style], tmp_path / "out", build_config(schedule=FAST), options(tmp_path, work_dir=project, fresh=fresh))
        assert "--fresh" not in str(refused.value)
    assert snapshot(project) == before


@pytest.mark.parametrize("which", ["clip file", "clip folder", "inside clip folder", "style"])
def test_an_output_that_is_an_input_is_refused(tmp_path, clip, style, which):
    video_clip = tmp_path / "in.mp4"
    shutil.copy(__import__("pathlib").Path(__file__).parents[2] / "examples" / "sintel.mp4", video_clip)
    source, output = {
        "clip file": (video_clip, video_clip),
        "clip folder": (clip, clip),
        "inside clip folder": (clip, clip / "out"),
        "style": (clip, style.with_suffix("")),
    }[which]
    if which == "style":
        output = style  # a .png output is refused for its suffix; the same path as a folder below
        with pytest.raises((OutputIsInputError, VideoWriteError)):
            render(source, [style], output, build_config(schedule=FAST), options(tmp_path))
    before = snapshot(tmp_path)
    with pytest.raises((OutputIsInputError, VideoWriteError)) as refused:
        render(source, [style], output, build_config(schedule=FAST), options(tmp_path))
    if which != "style":
        assert isinstance(refused.value, OutputIsInputError)
    assert snapshot(tmp_path) == before


def test_the_output_through_a_symlink_or_dotdot_is_still_the_input(tmp_path, clip, style):
    (tmp_path / "link").symlink_to(clip)
    before = snapshot(tmp_path / "clip")
    for output in (tmp_path / "link", tmp_path / "clip" / ".." / "clip"):
        with pytest.raises(OutputIsInputError):
            render(clip, [style], output, build_config(schedule=FAST), options(tmp_path))
    assert snapshot(tmp_path / "clip") == before


def test_a_second_render_on_a_busy_work_directory_is_refused(tmp_path, clip, style):
    out = tmp_path / "out"
    render(clip, [style], out, build_config(schedule=FAST), options(tmp_path))
    work = out / ".artvid-work"
    before = snapshot(work)
    manifest = __import__("json").loads((work / "manifest.json").read_text())
    with WorkDir(work, manifest):  # another render holds it
        with pytest.raises(WorkDirInUseError, match="in use by another artvid run"):
            changed = build_config(schedule=FAST, stylize={"style_weight": 50.0})
            render(clip, [style], out, changed, options(tmp_path, fresh=True))
    assert snapshot(work) == before


def test_a_frame_folder_with_stale_frames_ends_with_exactly_the_new_ones(tmp_path, style):
    long_clip, short_clip = tmp_path / "long", tmp_path / "short"
    write_frame_folder(long_clip, translating_clip(6, 32, 40, 2, 1))
    write_frame_folder(short_clip, translating_clip(4, 32, 40, 1, 1, seed=3))
    out = tmp_path / "out"
    render(long_clip, [style], out, build_config(schedule=FAST), options(tmp_path, work_dir=tmp_path / "w1"))
    render(short_clip, [style], out, build_config(schedule=FAST), options(tmp_path, work_dir=tmp_path / "w2"))
    assert sorted(p.name for p in out.glob("*.png")) == [f"{i:06d}.png" for i in range(1, 5)]


def test_a_frame_folder_holding_other_files_is_refused_before_any_work(tmp_path, clip, style, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    (out / "000001.png").write_bytes(b"my own picture")
    (out / "notes.txt").write_text("keep me")
    before = snapshot(out)
    monkeypatch.setattr(Stylizer, "__init__", lambda *a, **k: pytest.fail("work started"))
    with pytest.raises(VideoWriteError):
        render(clip, [style], out, build_config(schedule=FAST), options(tmp_path))
    assert snapshot(out) == before


def _damage(path, rng):
    data = bytearray(path.read_bytes())
    if rng.random() < 0.5:
        path.write_bytes(bytes(data[: len(data) // 2]))  # cut short
    else:
        data[len(data) // 2] ^= 0xFF  # one flipped byte: still a file, wrong pixels or a bad CRC
        path.write_bytes(bytes(data))


@pytest.mark.slow
def test_interrupted_and_damaged_renders_end_identical_to_an_undisturbed_one(tmp_path, style, monkeypatch):
    clip = tmp_path / "clip"
    write_frame_folder(clip, translating_clip(5, 32, 40, 2, 1))
    config = build_config(schedule={**FAST, "passes": 3}, flow={"long_term": (1, 2)})
    render(clip, [style], tmp_path / "expected", config, options(tmp_path, cache_dir=tmp_path / "c0"))
    expected = {p.name: p.read_bytes() for p in sorted((tmp_path / "expected").glob("*.png"))}

    import artvid.flowcache as flowcache
    import artvid.outputs as outputs
    from artvid.rendering.parts import FrameStylizer

    def pass_filter(pass_index):
        return lambda frame, init, temporal, iterations, p: p == pass_index

    # Interruption points: a flow entry, a frame of each pass, a frame of the output. Taken in the
    # order a render reaches them, each after a random number of calls, then random ones again.
    hooks = {
        "flow": (flowcache.FlowCache, "get", None),
        "pass 1": (FrameStylizer, "__call__", pass_filter(1)),
        "pass 2": (FrameStylizer, "__call__", pass_filter(2)),
        "pass 3": (FrameStylizer, "__call__", pass_filter(3)),
        "output": (outputs, "save_image", None),
    }
    rng, killed = random.Random(11), []
    out, cache = tmp_path / "out", tmp_path / "c1"
    for where in [*hooks, *rng.choices(sorted(hooks), k=3)]:
        owner, name, counts = hooks[where]
        real = getattr(owner, name)
        stop_at = rng.randint(1, 2)
        calls = {"n": 0}

        def interrupted(*args, _real=real, _stop=stop_at, _counts=counts, _where=where, **kwargs):
            if _counts is None or _counts(*args[1:], **kwargs):
                calls["n"] += 1
                if calls["n"] == _stop:
                    raise KeyboardInterrupt(f"killed in {_where}")
            return _real(*args, **kwargs)

        monkeypatch.setattr(owner, name, interrupted)
        try:
            render(clip, [style], out, config, options(tmp_path, cache_dir=cache))
        except KeyboardInterrupt:
            killed.append(where)
        monkeypatch.setattr(owner, name, real)
        stored = sorted((out / ".artvid-work").glob("*/0*.png"))
        if stored:
            _damage(rng.choice(stored), rng)
    render(clip, [style], out, config, options(tmp_path, cache_dir=cache))
    assert set(killed) == set(hooks)  # every kind of interruption happened
    assert {p.name: p.read_bytes() for p in sorted(out.glob("*.png"))} == expected


def test_a_size_above_the_clips_own_is_refused_unless_upscale(tmp_path, clip, style):
    with pytest.raises(ConfigError, match="--size 100000 is larger than the clip's long side .* --upscale"):
        render(clip, [style], tmp_path / "out", build_config(size=100000, schedule=FAST), options(tmp_path))
    assert not (tmp_path / "out").exists()
    summary = render(clip, [style], tmp_path / "big", build_config(size=48, upscale=True, schedule=FAST), options(tmp_path))
    assert summary.size == [38, 48]
