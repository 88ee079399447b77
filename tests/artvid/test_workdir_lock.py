"""One run at a time per work directory: the lock, in this process and in another one."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from artvid.errors import WorkDirError, WorkDirInUseError
from artvid.lock import FileLock, LockHeldError, read_pid
from artvid.workdir import LOCK, WorkDir

FRAME = np.zeros((2, 2, 3), np.uint8)


def test_a_second_workdir_in_this_process_is_refused_until_the_first_closes(tmp_path):
    first = WorkDir(tmp_path / "w", {"a": 1})
    with pytest.raises(WorkDirInUseError, match=rf"in use by another artvid run \(pid {os.getpid()}\); wait for it or use another --work-dir"):
        WorkDir(tmp_path / "w", {"a": 1})
    first.close()
    first.close()  # idempotent
    with WorkDir(tmp_path / "w", {"a": 1}) as second:
        assert not second.closed
    assert second.closed
    WorkDir(tmp_path / "w", {"a": 1}).close()


def test_fresh_takes_the_lock_before_removing_anything(tmp_path):
    with WorkDir(tmp_path / "w", {"a": 1}) as work:
        work.save(1, 0, FRAME)
        with pytest.raises(WorkDirInUseError):
            WorkDir(tmp_path / "w", {"a": 2}, fresh=True)
        assert work.has(1, 0)


def test_a_closed_workdir_no_longer_writes(tmp_path):
    work = WorkDir(tmp_path / "w", {"a": 1})
    work.close()
    with pytest.raises(WorkDirError, match="closed"):
        work.save(1, 0, FRAME)
    with pytest.raises(WorkDirError, match="closed"):
        work.discard(1, [0])


_HOLDER = textwrap.dedent(
    """
    import sys
    from artvid.workdir import WorkDir
    work = WorkDir(sys.argv[1], {"a": 1})
    print("ready", flush=True)
    sys.stdin.readline()
    """
)


@pytest.fixture
def holder(tmp_path):
    """Start a process that holds ``tmp_path / "w"``; yields it (killed afterwards)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    process = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(tmp_path / "w")], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env,
    )
    try:
        assert process.stdout.readline() == b"ready\n"
        yield process
    finally:
        process.kill()
        process.wait()


def test_another_process_holding_it_is_named(tmp_path, holder):
    with pytest.raises(WorkDirInUseError, match=rf"\(pid {holder.pid}\)"):
        WorkDir(tmp_path / "w", {"a": 1})
    with pytest.raises(WorkDirInUseError):
        WorkDir(tmp_path / "w", {"a": 2}, fresh=True)
    assert read_pid(tmp_path / "w" / LOCK) == holder.pid


def test_the_lock_dies_with_its_process(tmp_path, holder):
    holder.kill()  # no chance to clean up
    holder.wait()
    WorkDir(tmp_path / "w", {"a": 1}).close()


def test_file_lock_is_exclusive_per_handle_and_records_the_pid(tmp_path):
    lock = FileLock(tmp_path / "lock")
    assert lock.held and read_pid(tmp_path / "lock") == os.getpid()
    with pytest.raises(LockHeldError) as caught:
        FileLock(tmp_path / "lock")
    assert caught.value.pid == os.getpid()
    lock.release()
    assert not lock.held and (tmp_path / "lock").exists()  # never deleted, see artvid.lock
    FileLock(tmp_path / "lock").release()


def test_read_pid_of_an_unreadable_lock_file(tmp_path):
    assert read_pid(tmp_path / "missing") is None
    (tmp_path / "lock").write_text("")
    assert read_pid(tmp_path / "lock") is None
