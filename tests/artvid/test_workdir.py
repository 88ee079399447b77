"""The resumable work directory."""

import numpy as np
import pytest

from artvid.errors import WorkDirError
from artvid.workdir import MANIFEST, WorkDir


def test_frames_round_trip_through_8_bit_png(tmp_path):
    work = WorkDir(tmp_path / "w", {"a": 1})
    image = np.random.default_rng(0).random((5, 6, 3)).astype(np.float32)
    assert not work.has(1, 0)
    work.save(1, 0, image)
    assert work.has(1, 0) and work.frame_path(1, 0).name == "000001.png"
    np.testing.assert_allclose(work.load(1, 0), np.round(image * 255) / 255, atol=1e-6)
    assert work.finished(1, 3) == 1
    assert not list((tmp_path / "w").rglob(".*.partial"))


def test_same_manifest_reuses_frames(tmp_path):
    WorkDir(tmp_path / "w", {"a": 1, "b": [1, 2]}).save(1, 0, np.zeros((2, 2, 3), np.uint8))
    assert WorkDir(tmp_path / "w", {"b": [1, 2], "a": 1}).has(1, 0)


def test_other_settings_are_refused_with_the_difference_named(tmp_path):
    WorkDir(tmp_path / "w", {"config": {"style_weight": 100.0, "seed": 0}})
    with pytest.raises(WorkDirError, match=r"config.style_weight: 100.0 → 50.0.*--fresh"):
        WorkDir(tmp_path / "w", {"config": {"style_weight": 50.0, "seed": 0}})


def test_fresh_wipes_the_frames(tmp_path):
    work = WorkDir(tmp_path / "w", {"a": 1})
    work.save(1, 0, np.zeros((2, 2, 3), np.uint8))
    again = WorkDir(tmp_path / "w", {"a": 2}, fresh=True)
    assert not again.has(1, 0)


def test_a_foreign_folder_is_never_used_or_wiped(tmp_path):
    folder = tmp_path / "w"
    folder.mkdir()
    (folder / "precious.txt").write_text("keep me")
    with pytest.raises(WorkDirError, match="not an artvid work directory"):
        WorkDir(folder, {"a": 1})
    with pytest.raises(WorkDirError, match="refusing to wipe"):
        WorkDir(folder, {"a": 1}, fresh=True)
    assert (folder / "precious.txt").exists()


def test_damaged_manifest(tmp_path):
    WorkDir(tmp_path / "w", {"a": 1})
    (tmp_path / "w" / MANIFEST).write_text("{not json")
    with pytest.raises(WorkDirError, match="damaged"):
        WorkDir(tmp_path / "w", {"a": 1})


def test_unusable_location(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(WorkDirError, match="cannot use"):
        WorkDir(blocker / "w", {"a": 1})


def test_content_frames(tmp_path):
    work = WorkDir(tmp_path / "w", {"a": 1})
    frame = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    work.save_content(0, frame)
    np.testing.assert_array_equal(work.load_content(0), frame)


def test_files_are_not_private_to_their_writer(tmp_path):
    work = WorkDir(tmp_path / "w", {"a": 1})
    work.save(1, 0, np.zeros((2, 2, 3), np.uint8))
    assert work.frame_path(1, 0).stat().st_mode & 0o044  # not mkstemp's 0600
    assert (tmp_path / "w" / MANIFEST).stat().st_mode & 0o044
