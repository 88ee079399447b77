"""Outputs that never harm the user's files: frame folders, and outputs that are inputs."""

import json
import os

import numpy as np
import pytest

from artvid import outputs
from artvid.errors import ConfigError, OutputIsInputError, VideoWriteError
from artvid.outputs import FRAMES_MARKER, STAGING, check_frame_folder, check_not_input, write_frame_folder
from artvid.video import write_frames
from artvid.workdir import WorkDir
from tests.helpers import snapshot, translating_clip

CLIP = translating_clip(4, 8, 10)


def _marker(folder):
    return json.loads((folder / FRAMES_MARKER).read_text())


def test_frames_are_byte_identical_to_write_frames(tmp_path):
    paths = write_frame_folder(tmp_path / "out", iter(CLIP))
    (tmp_path / "plain").mkdir()
    write_frames(tmp_path / "plain", CLIP)
    assert [p.name for p in paths] == ["000001.png", "000002.png", "000003.png", "000004.png"]
    assert {k: v for k, v in snapshot(tmp_path / "out").items() if k != FRAMES_MARKER} == snapshot(tmp_path / "plain")
    assert _marker(tmp_path / "out") == {"artvid_frames": 1, "complete": True, "frames": [p.name for p in paths]}


def test_stale_frames_of_a_longer_render_are_removed(tmp_path):
    write_frame_folder(tmp_path / "out", CLIP)
    assert check_frame_folder(tmp_path / "out") == ["000001.png", "000002.png", "000003.png", "000004.png"]
    write_frame_folder(tmp_path / "out", CLIP[:2][::-1])
    files = snapshot(tmp_path / "out")
    assert sorted(files) == [FRAMES_MARKER, "000001.png", "000002.png"]
    assert _marker(tmp_path / "out")["frames"] == ["000001.png", "000002.png"]


def test_a_folder_with_foreign_files_is_refused_and_untouched(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "000001.png").write_bytes(b"frames by an older artvid or by the user")
    (folder / "notes.txt").write_text("mine")
    before = snapshot(folder)
    for call in (check_frame_folder, lambda f: write_frame_folder(f, CLIP)):
        with pytest.raises(VideoWriteError, match=r"artvid did not write \(000001.png, notes.txt\).*new or empty folder"):
            call(folder)
    assert snapshot(folder) == before


def test_a_foreign_file_in_an_artvid_folder_is_refused(tmp_path):
    write_frame_folder(tmp_path / "out", CLIP)
    (tmp_path / "out" / "cover.jpg").write_bytes(b"mine")
    before = snapshot(tmp_path / "out")
    with pytest.raises(VideoWriteError, match="cover.jpg"):
        write_frame_folder(tmp_path / "out", CLIP[:1])
    assert snapshot(tmp_path / "out") == before


def test_a_work_directory_inside_is_left_alone(tmp_path):
    # The pipeline's default work directory for a frame-folder output is OUTPUT/.artvid-work.
    with WorkDir(tmp_path / "out" / ".artvid-work", {"a": 1}) as work:
        work.save(1, 0, CLIP[0])
    before = snapshot(tmp_path / "out")
    write_frame_folder(tmp_path / "out", CLIP)
    write_frame_folder(tmp_path / "out", CLIP[:1])
    after = snapshot(tmp_path / "out")
    assert {k: v for k, v in after.items() if k.startswith(".artvid-work/")} == before


def test_a_failed_render_leaves_the_previous_frames_as_they_were(tmp_path):
    write_frame_folder(tmp_path / "out", CLIP)
    before = snapshot(tmp_path / "out")

    def failing():
        yield CLIP[1]
        raise RuntimeError("render stopped")

    with pytest.raises(RuntimeError):
        write_frame_folder(tmp_path / "out", failing())
    assert snapshot(tmp_path / "out") == before and not (tmp_path / "out" / STAGING).exists()


def test_a_killed_write_is_cleaned_up_by_the_next(tmp_path, monkeypatch):
    write_frame_folder(tmp_path / "out", CLIP)
    # Killed during the swap: new frames partly renamed in, the marker not final.
    calls = []
    real_replace = os.replace

    def dying_replace(src, dst):
        if os.path.dirname(dst) == os.path.dirname(os.path.dirname(src)):  # the swap out of staging
            if calls:
                raise KeyboardInterrupt  # stands in for a kill: no cleanup code runs after it
            calls.append(src)
        real_replace(src, dst)

    monkeypatch.setattr(outputs.os, "replace", dying_replace)
    with pytest.raises(KeyboardInterrupt):
        write_frame_folder(tmp_path / "out", CLIP[:3][::-1])
    monkeypatch.undo()
    marker = _marker(tmp_path / "out")
    assert not marker["complete"] and marker["frames"] == ["000001.png", "000002.png", "000003.png", "000004.png"]
    (tmp_path / "out" / f".{FRAMES_MARKER}.abc.partial").write_bytes(b"{")
    write_frame_folder(tmp_path / "out", CLIP[:2])
    assert sorted(snapshot(tmp_path / "out")) == [FRAMES_MARKER, "000001.png", "000002.png"]
    assert _marker(tmp_path / "out")["complete"]


def test_a_staging_folder_with_foreign_files_is_refused(tmp_path):
    write_frame_folder(tmp_path / "out", CLIP)
    (tmp_path / "out" / STAGING).mkdir()
    (tmp_path / "out" / STAGING / "mine.txt").write_text("x")
    with pytest.raises(VideoWriteError, match=STAGING):
        check_frame_folder(tmp_path / "out")


def test_a_damaged_marker_is_refused(tmp_path):
    write_frame_folder(tmp_path / "out", CLIP)
    for text in ("{", '{"frames": ["../../etc/passwd"]}', '{"frames": 3}'):
        (tmp_path / "out" / FRAMES_MARKER).write_text(text)
        with pytest.raises(VideoWriteError, match="damaged"):
            check_frame_folder(tmp_path / "out")


def test_frame_folder_locations(tmp_path):
    assert check_frame_folder(tmp_path / "new") == []
    with pytest.raises(VideoWriteError, match="does not exist"):
        check_frame_folder(tmp_path / "missing" / "out")
    (tmp_path / "file").write_text("x")
    with pytest.raises(VideoWriteError, match="not a folder"):
        check_frame_folder(tmp_path / "file")
    with pytest.raises(ValueError):
        write_frame_folder(tmp_path / "bad", [np.zeros((2, 2), np.uint8)])


@pytest.fixture
def inputs(tmp_path):
    (tmp_path / "frames").mkdir()
    (tmp_path / "frames" / "001.png").write_bytes(b"x")
    (tmp_path / "clip.mp4").write_bytes(b"x")
    (tmp_path / "style.jpg").write_bytes(b"x")
    return [tmp_path / "clip.mp4", tmp_path / "frames", tmp_path / "style.jpg"]


def test_unrelated_outputs_pass(tmp_path, inputs):
    check_not_input(tmp_path / "out.mp4", inputs)
    check_not_input(tmp_path / "frames2", inputs)  # a common prefix is not containment
    check_not_input(tmp_path / "clip.mp4.artvid-work", inputs)


@pytest.mark.parametrize(
    "output, match",
    [
        ("clip.mp4", "is the input"),
        ("sub/../clip.mp4", "is the input"),
        ("frames", "is the input"),
        ("frames/001.png", "inside the input folder"),
        ("frames/out", "inside the input folder"),
        (".", "lies inside the output folder"),
    ],
)
def test_an_output_on_an_input_is_refused(tmp_path, inputs, output, match):
    (tmp_path / "sub").mkdir()
    with pytest.raises(OutputIsInputError, match=match) as caught:
        check_not_input(tmp_path / output, inputs)
    assert isinstance(caught.value, ConfigError)


def test_symlinks_are_seen_through(tmp_path, inputs):
    (tmp_path / "alias.mp4").symlink_to(tmp_path / "clip.mp4")
    (tmp_path / "frames-link").symlink_to(tmp_path / "frames", target_is_directory=True)
    with pytest.raises(OutputIsInputError, match="is the input"):
        check_not_input(tmp_path / "alias.mp4", inputs)
    with pytest.raises(OutputIsInputError, match="inside the input folder"):
        check_not_input(tmp_path / "frames-link" / "new", inputs)
    with pytest.raises(OutputIsInputError, match="inside the output folder"):
        check_not_input(tmp_path / "out", [tmp_path / "frames-link" / ".." / "out" / "style.jpg"])


def test_hard_links_are_the_same_file(tmp_path, inputs):
    os.link(tmp_path / "clip.mp4", tmp_path / "other-name.mp4")
    with pytest.raises(OutputIsInputError, match="is the input"):
        check_not_input(tmp_path / "other-name.mp4", inputs)
