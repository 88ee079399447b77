"""The public Python API: settings by name, refusals before any work."""

import numpy as np
import pytest

import artvid
from artvid import images
from artvid.errors import ConfigError, OutputIsInputError, VideoWriteError
from artvid.stylize import Stylizer
from tests.helpers import snapshot, textured_image


@pytest.fixture
def picture(tmp_path):
    path = tmp_path / "photo.png"
    images.save_image(path, textured_image(32, 40))
    return path


@pytest.fixture
def no_work(monkeypatch):
    monkeypatch.setattr(Stylizer, "__init__", lambda *a, **k: pytest.fail("the optimisation started"))


@pytest.mark.parametrize("name", ["x.gif", "x", "missing/x.png"])
def test_an_image_output_that_cannot_be_written_is_refused_before_any_work(tmp_path, picture, style, no_work, name):
    with pytest.raises(VideoWriteError):
        artvid.stylize_image(picture, style, tmp_path / name, device="cpu")


def test_an_image_output_that_is_an_input_is_refused(tmp_path, picture, style, no_work):
    before = snapshot(tmp_path)
    for output in (picture, style):
        with pytest.raises(OutputIsInputError):
            artvid.stylize_image(picture, style, output, device="cpu")
    assert snapshot(tmp_path) == before


def test_stylize_image_writes_the_output(tmp_path, picture, style):
    summary = artvid.stylize_image(picture, style, tmp_path / "out.png", iterations=3, device="cpu", style_weight=10.0)
    assert summary["iterations"] == 3 and images.load_image(tmp_path / "out.png").shape == (32, 40, 3)


def test_a_still_stops_on_the_first_frames_tolerance(tmp_path, picture, style):
    # Started at a converged content-only problem: the loss never changes, so the check at
    # iteration 4 stops it (the first, at 2, records the loss to compare with).
    summary = artvid.stylize_image(picture, style, tmp_path / "out.png", iterations=30, device="cpu",
                                   style_weight=0.0, tv_weight=0.0, tolerance=0.0, tolerance_window=2,
                                   tolerance_first=1e-4)
    assert summary["iterations"] == 4


def test_a_stills_bad_first_frame_tolerance_is_refused_by_name(tmp_path, picture, style, no_work):
    with pytest.raises(ConfigError, match="tolerance-first must be a finite number >= 0, got nan"):
        artvid.stylize_image(picture, style, tmp_path / "out.png", device="cpu", tolerance_first=float("nan"))


def test_render_refuses_unknown_settings_and_mixed_config(tmp_path, picture, style):
    with pytest.raises(ConfigError, match="unknown settings \\['bogus'\\]"):
        artvid.render(picture, style, tmp_path / "out.mp4", bogus=1)
    from artvid.config import build_config

    with pytest.raises(ConfigError, match="either config"):
        artvid.render(picture, style, tmp_path / "out.mp4", config=build_config(), passes=2)


def test_importing_artvid_loads_no_torch():
    import subprocess
    import sys

    code = "import sys, artvid; assert 'torch' not in sys.modules and 'cv2' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
