"""Cuts reach every command: render starts a new shot fresh, flow and compare stop at a cut."""

import math

import numpy as np
import pytest

import artvid
from artvid import images
from artvid.config import build_config
from artvid.rendering import RunOptions, render
from artvid.stylize import Stylizer
from tests.helpers import join_shots, real_footage, translating_clip, write_frame_folder

FAST = {"iterations_first": 3, "iterations": 2, "pass_iterations": 1}


@pytest.fixture
def two_shots(tmp_path):
    """Two different textures, 3 frames each: a hard cut before frame 4 (1-based)."""
    frames, cuts = join_shots([translating_clip(3, 32, 40, 2, 1, seed=1), translating_clip(3, 32, 40, 1, 2, seed=9)])
    write_frame_folder(tmp_path / "cut", frames)
    assert cuts == (3,)
    return tmp_path / "cut"


def test_a_given_cut_starts_the_new_shot_like_a_first_frame(tmp_path, two_shots, style, monkeypatch):
    calls = []
    real = Stylizer.stylize

    def recording(self, content, init, **kwargs):
        calls.append((kwargs["iterations"], len(kwargs.get("temporal", ()))))
        return real(self, content, init, **kwargs)

    monkeypatch.setattr(Stylizer, "stylize", recording)
    config = build_config(schedule={**FAST, "cuts": "4"})
    render(two_shots, [style], tmp_path / "out", config, RunOptions(device="cpu", cache_dir=tmp_path / "cache"))
    assert calls == [(3, 0), (2, 1), (2, 1), (3, 0), (2, 1), (2, 1)]
    entries = sorted(p.name for p in (tmp_path / "cache").rglob("*.avfc"))
    assert entries == ["000000_000001.avfc", "000001_000002.avfc", "000003_000004.avfc", "000004_000005.avfc"]


def test_flow_and_compare_stop_at_the_cut(tmp_path, two_shots):
    summary = artvid.compute_flow(two_shots, cache_dir=tmp_path / "cache", cuts="4")
    assert summary["cuts"] == [4] and summary["pairs"] == 4
    result = artvid.compare_clips(two_shots, [two_shots], cuts="4", perceptual=False, cache_dir=tmp_path / "cache")
    ruder = {r["frame"]: r["ruder"] for r in result.rows if r["input"] == "cut"}
    assert math.isnan(ruder[3]) and all(math.isfinite(ruder[t]) for t in (1, 2, 4, 5))
    assert result.settings["cuts"] == [4]


def test_a_cut_past_the_clip_is_refused(tmp_path, two_shots, style):
    from artvid.errors import ConfigError

    with pytest.raises(ConfigError, match="frame 9"):
        render(two_shots, [style], tmp_path / "out", build_config(schedule={**FAST, "cuts": "9"}),
               RunOptions(device="cpu", cache_dir=tmp_path / "cache"))


def test_auto_finds_the_cut_of_joined_real_footage(tmp_path, shared_data):
    from artvid.shots import resolve_cuts

    footage = real_footage(shared_data, 128, 54)
    frames, cuts = join_shots([footage["mmflow"][:6], footage["alley"], footage["mmflow"][30:36]])
    write_frame_folder(tmp_path / "joined", frames)
    assert resolve_cuts(tmp_path / "joined", "auto", len(frames)) == cuts
    assert resolve_cuts(tmp_path / "joined", "0", len(frames)) == ()
