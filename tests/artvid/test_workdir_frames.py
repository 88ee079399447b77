"""Self-healing frames: a damaged stored frame is found, reported, removed and recomputed."""

import logging

import numpy as np
import pytest

from artvid import checked_frames
from artvid.errors import DamagedFrameError, WorkDirError
from artvid.files import checksum_path, read_checksum, sha256_file
from artvid.workdir import WorkDir

FRAME = np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3)


@pytest.fixture
def work(tmp_path):
    with WorkDir(tmp_path / "w", {"a": 1}) as work:
        for frame in range(3):
            work.save(1, frame, FRAME)
            work.save_content(frame, FRAME)
        yield work


def _reopen(work):
    """The same work directory as a new run sees it (nothing verified yet)."""
    work.close()
    return WorkDir(work.path, {"a": 1})


def _damage(path):
    path.write_bytes(path.read_bytes()[:-7])  # cut short, as a full disk or a bad copy would


def test_every_stored_frame_has_a_matching_checksum(work):
    for path in (work.frame_path(1, 0), work.content_path(2)):
        assert read_checksum(path) == sha256_file(path)


def test_a_damaged_frame_is_not_finished_and_is_removed_with_a_warning(work, caplog):
    path = work.frame_path(1, 1)
    _damage(path)
    with caplog.at_level(logging.WARNING, logger="artvid.checked_frames"):
        assert not work.has(1, 1)
    assert str(path) in caplog.text and "SHA-256" in caplog.text
    assert not path.exists() and not checksum_path(path).exists()
    assert work.finished(1, 3) == 2


def test_a_frame_without_its_checksum_is_not_trusted(work):
    # What a run killed between writing the frame and its checksum leaves.
    checksum_path(work.content_path(0)).unlink()
    with _reopen(work) as work:
        assert not work.has_content(0) and not work.content_path(0).exists()


def test_a_removed_frame_is_missing_without_a_warning(work, caplog):
    work.frame_path(1, 2).unlink()
    with caplog.at_level(logging.WARNING):
        assert not work.has(1, 2)
    assert not caplog.records


def test_load_of_a_damaged_frame_raises_a_specific_error(work):
    _damage(work.frame_path(1, 0))
    with pytest.raises(DamagedFrameError, match=r"pass1/000001.png is damaged .*removed") as caught:
        work.load(1, 0)
    assert (caught.value.pass_index, caught.value.frame, caught.value.path) == (1, 0, work.frame_path(1, 0))
    assert isinstance(caught.value, WorkDirError) and not work.frame_path(1, 0).exists()
    with pytest.raises(DamagedFrameError, match="is missing"):
        work.load(1, 0)


def test_load_content_of_a_damaged_frame_raises(work):
    _damage(work.content_path(1))
    with pytest.raises(DamagedFrameError) as caught:
        work.load_content(1)
    assert (caught.value.pass_index, caught.value.frame) == (0, 1)


def test_a_damaged_frame_is_computed_again(work):
    _damage(work.frame_path(1, 1))
    assert not work.has(1, 1)
    work.save(1, 1, FRAME)
    np.testing.assert_array_equal(work.load_frame(1, 1), FRAME)


def test_damaged_lists_and_removes_damaged_frames_only(work):
    _damage(work.frame_path(1, 0))
    _damage(work.content_path(2))
    work.frame_path(1, 2).unlink()  # missing is unfinished, not damaged
    assert work.damaged(1, 5) == [0]
    assert work.damaged(0, 3) == [2]
    assert work.damaged(1, 5) == [] and work.finished(1, 3) == 1


def test_discard_removes_frames_and_their_checksums(work):
    work.discard(1, [0, 2, 7])
    work.discard(0, range(3))
    assert [work.has(1, i) for i in range(3)] == [False, True, False]
    assert not any(work.has_content(i) for i in range(3))
    assert not checksum_path(work.frame_path(1, 0)).exists()


def test_a_verified_frame_is_hashed_once_until_it_changes(work, monkeypatch):
    calls = []
    monkeypatch.setattr(checked_frames, "sha256_file", lambda path: calls.append(path) or sha256_file(path))
    with _reopen(work) as work:
        for _ in range(3):
            assert work.has(1, 0) and work.load(1, 0) is not None
        assert calls == [work.frame_path(1, 0)]
        _damage(work.frame_path(1, 0))
        assert not work.has(1, 0) and len(calls) == 2


def test_a_frame_saved_in_this_run_is_not_hashed_again(work, monkeypatch):
    calls = []
    monkeypatch.setattr(checked_frames, "sha256_file", lambda path: calls.append(path) or sha256_file(path))
    assert work.finished(1, 3) == 3 and not calls


def test_an_unwritable_frame_is_a_work_dir_error(work):
    work.frame_path(5, 0).parent.write_text("a file where the folder should be")
    with pytest.raises(WorkDirError, match="cannot write"):
        work.save(5, 0, FRAME)
