"""Tests of artvid.report: every report file is written and parses back."""

import csv
import json
import math

import numpy as np
import pytest

from artvid import video
from artvid.compare import CompareConfig, run_compare
from artvid.report import format_table, summary_json, tile, write_report
from tests.helpers import translating_clip


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    clip = translating_clip(5, 24, 32)
    content, noisy = root / "content", root / "noisy"
    content.mkdir()
    noisy.mkdir()
    video.write_frames(content, clip)
    rng = np.random.default_rng(0)
    video.write_frames(noisy, [np.clip(f + rng.normal(0, 20, f.shape), 0, 255).astype(np.uint8) for f in clip])
    config = CompareConfig(flow_method="dis", long_term=2, perceptual=False, cache_dir=root / "cache", workers=1)
    return run_compare(content, [noisy, content], config, progress=False)


def test_report_files_are_written_and_parse(result, tmp_path):
    written = write_report(result, tmp_path / "out")
    assert set(written) == {"csv", "json", "plot", "video"}

    with open(written["csv"], newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["input", "frame", "ruder", "lai_ewarp", "rmse_short", "rmse_long"]
    assert len(rows) == 3 * 5
    assert {r["input"] for r in rows} == {"content", "noisy", "content_input"}
    first = [r for r in rows if r["frame"] == "0"]
    assert all(r["ruder"] == "" for r in first)
    later = [r for r in rows if r["frame"] == "4"]
    assert all(float(r["rmse_long"]) >= 0 for r in later)

    summary = json.loads(written["json"].read_text())
    assert {"content", "frame_count", "size", "fps", "metrics", "inputs", "summary", "pairs", "settings"} <= set(summary)
    assert summary["frame_count"] == 5 and summary["size"] == [32, 24]
    assert summary["inputs"][0] == {"name": "content", "path": str(result.content), "reference": True, "native_size": [32, 24]}
    assert summary["summary"]["noisy"]["ruder"] > summary["summary"]["content"]["ruder"]
    assert summary["pairs"]["rmse_long"] == 3

    assert written["plot"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    info = video.probe(written["video"])
    assert info.frame_count == 5
    assert info.fps == result.fps
    # Three labelled 32x24 panels in one row (the writer pads odd sides to even).
    assert info.width == 96 and info.height in (24 + 18, 24 + 18 + 1)


def test_table_and_json_text(result):
    table = format_table(result)
    lines = table.splitlines()
    assert lines[0].split()[0] == "input" and "Lai" in lines[0]
    assert lines[2].startswith("content (reference)")
    assert any(line.startswith("noisy ") for line in lines)
    assert "5 frames at 32x24" in lines[-1]
    parsed = json.loads(summary_json(result))
    assert parsed["metrics"] == list(result.metric_names)
    # NaN never reaches JSON: a metric without pairs is null.
    result.summary["content"]["rmse_long"] = math.nan
    assert json.loads(summary_json(result))["summary"]["content"]["rmse_long"] is None


def test_tile_lays_out_labelled_panels():
    frames = [np.full((10, 12, 3), v, np.uint8) for v in (50, 100, 150, 200)]
    grid = tile(frames, ["a", "b", "c", "d"])
    assert grid.shape == (2 * (10 + 18), 3 * 12, 3)
    assert (grid[18:28, :12] == 50).all()  # first image below its label strip
    assert (grid[28 + 18 :, 12:] == 0).all()  # empty cells stay black
