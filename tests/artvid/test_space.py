"""The disk-space warning before a render: estimated from what is not stored yet, per file system."""

from __future__ import annotations

import collections
import logging

import pytest
from click.testing import CliRunner

from artvid import cli
from artvid.rendering import run, space
from tests.helpers import tiny_draft_budget, translating_clip, write_frame_folder

Usage = collections.namedtuple("Usage", "total used free")


@pytest.fixture
def free(monkeypatch) -> list[int]:
    """``free[0]``: the free space (bytes) every file system reports."""
    value = [10**12]
    monkeypatch.setattr(space.shutil, "disk_usage", lambda path: Usage(10**13, 0, value[0]))
    return value


def _args(clip, style, tmp_path, *extra):
    return ["render", str(clip), "--style", str(style), "--quality", "draft", "--device", "cpu",
            "--cache-dir", str(tmp_path / "cache"), "-o", str(tmp_path / "out.mp4"), *extra]


def _warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == space.logger.name]


def test_a_render_that_does_not_fit_is_warned_about_before_it_starts(clip, style, tmp_path, monkeypatch, free,
                                                                       caplog):
    tiny_draft_budget(monkeypatch)
    args = _args(clip, style, tmp_path, "--passes", "2")
    free[0] = 1000
    started, extract = [], run._extract_content

    def extract_content(*args):  # the first frame the render writes
        started.append(len(_warnings(caplog)))
        extract(*args)

    monkeypatch.setattr(run, "_extract_content", extract_content)
    with caplog.at_level(logging.WARNING, logger=space.logger.name):
        result = CliRunner().invoke(cli.main, args)
    assert result.exit_code == 0, result.output
    # 4 content frames + 2 passes x 4 frames at 40x32 px, 3 bytes a pixel; 3 pairs at 6 bytes a pixel.
    frames, pairs = 12 * 40 * 32 * 3, 3 * 40 * 32 * 6
    [warning] = _warnings(caplog)
    assert f"will write about {(frames + pairs) / 1e3:.0f} kB" in warning
    assert f"{frames / 1e3:.0f} kB in {tmp_path / 'out.mp4.artvid-work'}" in warning
    assert "only 1 kB is free there" in warning and "--work-dir / --cache-dir" in warning
    assert started == [1]  # before the first frame is written
    # Everything is stored now: nothing more to write, no warning.
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger=space.logger.name):
        assert CliRunner().invoke(cli.main, args).exit_code == 0
    assert _warnings(caplog) == []


def test_enough_space_gives_no_warning(clip, style, tmp_path, monkeypatch, free, caplog):
    tiny_draft_budget(monkeypatch)
    with caplog.at_level(logging.WARNING, logger=space.logger.name):
        assert CliRunner().invoke(cli.main, _args(clip, style, tmp_path)).exit_code == 0
    assert _warnings(caplog) == []


def test_needed_bytes_counts_only_what_is_missing(clip, style, tmp_path, monkeypatch, free):
    tiny_draft_budget(monkeypatch)
    args = _args(clip, style, tmp_path, "-q")
    assert CliRunner().invoke(cli.main, args).exit_code == 0
    seen = []
    monkeypatch.setattr("artvid.rendering.run.warn_if_short", lambda needed: seen.append(needed) or False)
    work = tmp_path / "out.mp4.artvid-work"
    (work / "pass1" / "000002.png").unlink()
    assert CliRunner().invoke(cli.main, args).exit_code == 0
    [needed] = seen
    assert needed[work] == 40 * 32 * 3
    assert [size for folder, size in needed.items() if folder != work] == [0]  # the flow cache: complete


def test_a_multi_scale_render_is_checked_for_every_scale_before_the_first(style, tmp_path, monkeypatch, free, caplog):
    # The last scale writes the most and may start hours in: its share is in the one warning given
    # before the first scale writes anything.
    tiny_draft_budget(monkeypatch)
    free[0] = 1000
    clip = tmp_path / "clip"
    write_frame_folder(clip, translating_clip(4, 32, 64, 2, 1))
    started, extract = [], run._extract_content

    def extract_content(*args):
        started.append(len(_warnings(caplog)))
        extract(*args)

    monkeypatch.setattr(run, "_extract_content", extract_content)
    with caplog.at_level(logging.WARNING, logger=space.logger.name):
        result = CliRunner().invoke(cli.main, _args(clip, style, tmp_path, "--scales", "32,64", "--scale-iterations", "1",
                                                        "--scale-iterations-first", "2"))
    assert result.exit_code == 0, result.output
    # Per scale 4 content + 4 stylized frames and 3 pairs: at 32x16 px, then at 64x32 px.
    frames = 8 * (32 * 16 + 64 * 32) * 3
    pairs = 3 * (32 * 16 + 64 * 32) * 6
    [warning] = _warnings(caplog)
    assert f"will write about {(frames + pairs) / 1e3:.0f} kB" in warning
    assert f"{frames / 1e3:.0f} kB in {tmp_path / 'out.mp4.artvid-work'} and {pairs / 1e3:.0f} kB in " \
           f"{tmp_path / 'cache'}" in warning
    assert started == [1, 1]


def test_artvid_flow_that_does_not_fit_is_warned_about_before_it_starts(clip, tmp_path, free, caplog):
    free[0] = 1000
    args = ["flow", str(clip), "--cache-dir", str(tmp_path / "cache"), "--cuts", "0", "-q"]
    with caplog.at_level(logging.WARNING, logger=space.logger.name):
        assert CliRunner().invoke(cli.main, args).exit_code == 0
    # 3 pairs at 40x32 px, 6 bytes a pixel, at the one scale a 40-px render has.
    [warning] = _warnings(caplog)
    assert f"this flow computation will write about {3 * 40 * 32 * 6 / 1e3:.0f} kB " \
           f"({3 * 40 * 32 * 6 / 1e3:.0f} kB in {tmp_path / 'cache'})" in warning
    assert "choose --cache-dir on a larger disk" in warning
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger=space.logger.name):
        assert CliRunner().invoke(cli.main, args).exit_code == 0
    assert _warnings(caplog) == []  # all stored
