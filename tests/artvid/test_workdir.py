"""The resumable work directory: settings, ownership, and ``fresh`` never touching other files."""

import json

import numpy as np
import pytest

from artvid.errors import WorkDirError
from artvid.workdir import LOCK, MANIFEST, MARKER, WorkDir, is_work_dir
from tests.helpers import snapshot

FRAME = np.zeros((2, 2, 3), np.uint8)


def test_frames_round_trip_through_8_bit_png(tmp_path):
    with WorkDir(tmp_path / "w", {"a": 1}) as work:
        image = np.random.default_rng(0).random((5, 6, 3)).astype(np.float32)
        assert not work.has(1, 0)
        work.save(1, 0, image)
        assert work.has(1, 0) and work.frame_path(1, 0).name == "000001.png"
        np.testing.assert_allclose(work.load(1, 0), np.round(image * 255) / 255, atol=1e-6)
        assert work.load_frame(1, 0).dtype == np.uint8
        assert work.finished(1, 3) == 1
    assert not list((tmp_path / "w").rglob(".*.partial"))


def test_same_manifest_reuses_frames(tmp_path):
    with WorkDir(tmp_path / "w", {"a": 1, "b": [1, 2]}) as work:
        work.save(1, 0, FRAME)
    with WorkDir(tmp_path / "w", {"b": [1, 2], "a": 1}) as work:
        assert work.has(1, 0)


def test_other_settings_are_refused_with_the_difference_named(tmp_path):
    WorkDir(tmp_path / "w", {"config": {"style_weight": 100.0, "seed": 0}}).close()
    with pytest.raises(WorkDirError, match=r"config.style_weight: 100.0 → 50.0.*--fresh"):
        WorkDir(tmp_path / "w", {"config": {"style_weight": 50.0, "seed": 0}})


def test_a_refusal_releases_the_lock(tmp_path):
    WorkDir(tmp_path / "w", {"a": 1}).close()
    with pytest.raises(WorkDirError, match="other settings"):
        WorkDir(tmp_path / "w", {"a": 2})
    WorkDir(tmp_path / "w", {"a": 1}).close()


def test_fresh_wipes_the_frames(tmp_path):
    with WorkDir(tmp_path / "w", {"a": 1}) as work:
        work.save(1, 0, FRAME)
        work.save_content(0, FRAME)
    with WorkDir(tmp_path / "w", {"a": 2}, fresh=True) as again:
        assert not again.has(1, 0) and not again.has_content(0)
        assert json.loads((tmp_path / "w" / MANIFEST).read_text()) == {"a": 2}
    assert not (tmp_path / "w" / "pass1").exists() and not (tmp_path / "w" / "content").exists()


def test_fresh_removes_only_what_artvid_wrote(tmp_path):
    folder = tmp_path / "w"
    with WorkDir(folder, {"a": 1}) as work:
        work.save(1, 0, FRAME)
        work.save(2, 0, FRAME)
    (folder / "notes.txt").write_text("my notes")
    (folder / "pass1" / "keep.png").write_bytes(b"mine")
    (folder / "pass1" / "0001.png").write_bytes(b"mine too")  # not artvid's six-digit name
    (folder / "pass1x").mkdir()
    (folder / "pass1x" / "000001.png").write_bytes(b"not in a frame folder")
    names = ["notes.txt", "pass1/0001.png", "pass1/keep.png", "pass1x/000001.png"]
    users = {name: data for name, data in snapshot(folder).items() if name in names}
    WorkDir(folder, {"a": 2}, fresh=True).close()
    after = snapshot(folder)
    assert {name: after[name] for name in users} == users
    assert sorted(set(after) - set(users)) == sorted([LOCK, MARKER, MANIFEST])


def test_a_folder_with_a_foreign_manifest_is_never_used_or_wiped(tmp_path):
    # The case that lost a user's source tree: any manifest.json used to mark a work directory.
    folder = tmp_path / "project"
    (folder / "src").mkdir(parents=True)
    (folder / MANIFEST).write_text('{"name": "app", "version": "1.0"}')
    (folder / "src" / "app.js").write_text("console.log('hi')")
    before = snapshot(folder)
    for fresh in (False, True):
        with pytest.raises(WorkDirError, match="not an artvid work directory") as caught:
            WorkDir(folder, {"a": 1}, fresh=fresh)
        assert "--fresh" not in str(caught.value) and "another --work-dir" in str(caught.value)
        assert snapshot(folder) == before and sorted(p.name for p in folder.iterdir()) == [MANIFEST, "src"]


def test_a_folder_with_any_file_is_refused(tmp_path):
    folder = tmp_path / "w"
    folder.mkdir()
    (folder / "precious.txt").write_text("keep me")
    for fresh in (False, True):
        with pytest.raises(WorkDirError, match="not an artvid work directory"):
            WorkDir(folder, {"a": 1}, fresh=fresh)
    assert snapshot(folder) == {"precious.txt": b"keep me"}


def test_a_work_directory_of_the_previous_format_is_refused_even_with_fresh(tmp_path):
    folder = tmp_path / "old.mp4.artvid-work"
    (folder / "pass1").mkdir(parents=True)
    (folder / MANIFEST).write_text(json.dumps({"format": 1, "clip_sha256": "ab", "config": {"seed": 0}}))
    (folder / "pass1" / "000001.png").write_bytes(b"old frame")
    before = snapshot(folder)
    for fresh in (False, True):
        with pytest.raises(WorkDirError, match="older artvid.*delete it by hand or choose another --work-dir") as caught:
            WorkDir(folder, {"a": 1}, fresh=fresh)
        assert "--fresh" not in str(caught.value)
    assert snapshot(folder) == before


def test_the_marker_comes_first_and_names_the_format(tmp_path):
    assert not is_work_dir(tmp_path)
    WorkDir(tmp_path / "w", {"a": 1}).close()
    assert is_work_dir(tmp_path / "w")
    assert json.loads((tmp_path / "w" / MARKER).read_text()) == {"artvid_work_dir": 2}


def test_a_folder_holding_only_the_lock_file_is_artvids(tmp_path):
    # A run killed between taking the lock and writing the marker.
    (tmp_path / "w").mkdir()
    (tmp_path / "w" / LOCK).write_text("1\n")
    assert is_work_dir(tmp_path / "w")
    WorkDir(tmp_path / "w", {"a": 1}).close()


def test_a_marker_of_a_newer_format_is_refused(tmp_path):
    WorkDir(tmp_path / "w", {"a": 1}).close()
    (tmp_path / "w" / MARKER).write_text('{"artvid_work_dir": 99}')
    for fresh in (False, True):
        with pytest.raises(WorkDirError, match="newer artvid"):
            WorkDir(tmp_path / "w", {"a": 1}, fresh=fresh)


def test_damaged_marker_and_manifest(tmp_path):
    WorkDir(tmp_path / "w", {"a": 1}).close()
    for name in (MARKER, MANIFEST):
        (tmp_path / "w" / name).write_text("{not json")
        with pytest.raises(WorkDirError, match="damaged; add --fresh"):
            WorkDir(tmp_path / "w", {"a": 1})
        WorkDir(tmp_path / "w", {"a": 1}, fresh=True).close()


def test_leftovers_of_killed_writes_are_removed_but_not_similar_user_files(tmp_path):
    folder = tmp_path / "w"
    with WorkDir(folder, {"a": 1}) as work:
        work.save(1, 0, FRAME)
    leftovers = [folder / "pass1" / ".000002.png.x1y2.partial", folder / f".{MANIFEST}.abc.partial"]
    kept = [folder / "pass1" / "draft.partial", folder / ".notes.txt.abc.partial"]
    for path in leftovers + kept:
        path.write_bytes(b"x")
    WorkDir(folder, {"a": 1}).close()
    assert [path.exists() for path in leftovers + kept] == [False, False, True, True]


def test_unusable_location(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(WorkDirError, match="cannot use"):
        WorkDir(blocker / "w", {"a": 1})


def test_content_frames(tmp_path):
    with WorkDir(tmp_path / "w", {"a": 1}) as work:
        frame = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
        assert not work.has_content(0)
        work.save_content(0, frame)
        assert work.has_content(0)
        np.testing.assert_array_equal(work.load_content(0), frame)


def test_files_are_not_private_to_their_writer(tmp_path):
    with WorkDir(tmp_path / "w", {"a": 1}) as work:
        work.save(1, 0, FRAME)
        assert work.frame_path(1, 0).stat().st_mode & 0o044  # not mkstemp's 0600
        assert (tmp_path / "w" / MANIFEST).stat().st_mode & 0o044
