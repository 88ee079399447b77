"""An exclusive, non-blocking lock on a file, held by one open handle and released by the OS.

Two artvid runs must never write one work directory at the same time. The lock is taken on an
open file with ``fcntl.flock`` (POSIX) or ``msvcrt.locking`` (Windows). Both belong to the open
handle, not to the process, so a second handle in the same process is refused too, and both are
dropped by the operating system when the process dies, so a crash never leaves a stale lock.

The lock file holds the owner's process id as text, for the refusal message. It is never
deleted: removing a lock file while another process waits to open it would let two processes lock
two different files under one name.
"""

from __future__ import annotations

import os
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None
    import msvcrt

# msvcrt locks a byte range; lock one byte far past the pid text so that others can still read it.
_WINDOWS_LOCK_OFFSET = 1 << 30


class LockHeldError(OSError):
    """The lock is held by another handle (``pid`` is its owner, None when unknown)."""

    def __init__(self, path: Path, pid: int | None) -> None:
        super().__init__(f"{path} is locked by {'process ' + str(pid) if pid else 'another process'}")
        self.path = path
        self.pid = pid


class FileLock:
    """An exclusive lock on ``path``, taken at construction and held until :meth:`release`.

    Args:
        path: The lock file (created if missing; its folder must exist).

    Raises:
        LockHeldError: If another handle, in this process or another, holds the lock.
        OSError: If the lock file cannot be created or opened.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._fd: int | None = None
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            _lock(fd)
        except OSError:
            os.close(fd)
            raise LockHeldError(self.path, read_pid(self.path)) from None
        self._fd = fd
        os.ftruncate(self._fd, 0)
        os.lseek(self._fd, 0, os.SEEK_SET)
        os.write(self._fd, f"{os.getpid()}\n".encode())

    @property
    def held(self) -> bool:
        """Whether this handle still holds the lock."""
        return self._fd is not None

    def release(self) -> None:
        """Drop the lock (idempotent). The file stays, see the module docstring."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            _unlock(fd)
        finally:
            os.close(fd)

    def __del__(self) -> None:
        self.release()


def read_pid(path: Path) -> int | None:
    """The process id written in a lock file, or None if it cannot be read."""
    try:
        with open(path, "rb") as handle:
            return int(handle.read(32).split(b"\n", 1)[0])
    except (OSError, ValueError):
        return None


if fcntl is not None:

    def _lock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)

else:

    def _lock(fd: int) -> None:
        os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)

    def _unlock(fd: int) -> None:
        os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
