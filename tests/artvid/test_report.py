"""Tests of artvid.report: every report file is written and parses back."""

import csv
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from artvid import video
from artvid.compare import CompareConfig, run_compare
from artvid.report import format_table, summary_json, tile, write_report
from tests.helpers import translating_clip

ROOT = Path(__file__).resolve().parents[2]


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
    assert list(rows[0]) == ["input", "frame", "ruder", "lai_ewarp", "rmse_short", "rmse_long", "edge_correlation"]
    assert len(rows) == 3 * 5
    assert {r["input"] for r in rows} == {"content", "noisy", "content_input"}
    first = [r for r in rows if r["frame"] == "0"]
    assert all(r["ruder"] == "" for r in first)
    later = [r for r in rows if r["frame"] == "4"]
    assert all(float(r["rmse_long"]) >= 0 for r in later)
    assert all(float(r["edge_correlation"]) == 1.0 for r in rows if r["input"] == "content")
    assert all(float(r["edge_correlation"]) < 1.0 for r in rows if r["input"] == "noisy")

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


# Environment a fresh process must not inherit: it decides where matplotlib writes.
_MPL_ENV = ("MPLCONFIGDIR", "MPLBACKEND", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "ARTVID_CACHE", "HOME", "PYTHONPATH")


_PLOT_SCRIPT = """
import math, sys
from fractions import Fraction
from pathlib import Path
from artvid.compare import CompareInput, CompareResult
from artvid.report import write_report

rows = [{"input": "content", "frame": t, "ruder": math.nan if t == 0 else 0.1 * t} for t in range(3)]
result = CompareResult(
    Path("clip.mp4"), (CompareInput("content", Path("clip.mp4"), True, 32, 24),), 32, 24, Fraction(10), 3,
    ("ruder",), rows, {"content": {"ruder": 0.15}}, {"ruder": 2}, {"flow": "test"},
)
write_report(result, Path(sys.argv[1]), side_by_side=False)
# matplotlib logs this only when building the cache takes over 5 s: stand in for a slow machine.
import logging
logging.getLogger("matplotlib.font_manager").warning("Matplotlib is building the font cache; this may take a moment.")
"""


def _write_report_in_fresh_process(tmp_path, **env_extra):
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in _MPL_ENV}
    env.update(HOME=str(home), PYTHONPATH=str(ROOT), **env_extra)
    done = subprocess.run(
        [sys.executable, "-c", _PLOT_SCRIPT, str(tmp_path / "out")], env=env, cwd=ROOT, capture_output=True,
        text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / "metrics.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return home, done.stderr


def test_plot_keeps_matplotlib_out_of_the_home_config_and_quiet(tmp_path):
    home, stderr = _write_report_in_fresh_process(tmp_path)
    assert not (home / ".config" / "matplotlib").exists()
    assert not (home / ".cache" / "matplotlib").exists()
    private = home / ".cache" / "artvid" / "matplotlib"
    assert list(private.glob("fontlist*.json")), "matplotlib's font cache belongs in artvid's cache"
    assert "font" not in stderr.lower(), stderr


def test_plot_respects_the_users_mplconfigdir(tmp_path):
    mine = tmp_path / "mine"
    home, stderr = _write_report_in_fresh_process(tmp_path, MPLCONFIGDIR=str(mine))
    assert list(mine.glob("fontlist*.json"))
    assert not (home / ".cache" / "artvid" / "matplotlib").exists()
    assert not (home / ".config" / "matplotlib").exists()
