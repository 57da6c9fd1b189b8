"""A lock shared by the threads of a process and by every process using the same file.

``ProcessLock(path)`` is a ``threading.Lock`` plus ``fcntl.flock`` on a lock
file. The thread lock comes first because ``flock`` locks belong to the open
file description, which all threads of a process share. The kernel drops a
dead process's ``flock``, so a ``kill -9`` never leaves the lock stuck.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from pathlib import Path
from types import TracebackType


def try_flock(fd: int, *, blocking: bool = True) -> bool:
    """Take an exclusive ``flock`` on ``fd``; with ``blocking=False`` return False if held."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
    except BlockingIOError:
        return False
    return True


def unflock(fd: int) -> None:
    """Release ``flock`` on ``fd`` (closing the descriptor releases it too)."""
    fcntl.flock(fd, fcntl.LOCK_UN)


class ProcessLock:
    """Exclusive lock across threads and processes, on the lock file ``path``.

    Used as a context manager. If the lock file cannot be opened (read-only
    or full directory) the lock degrades to the thread lock alone, counts
    ``failures`` and tries the file again on the next acquire: logging must
    go on, and a single-process program loses nothing by it.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._thread_lock = threading.Lock()
        self._fd: int | None = None
        self._flocked = False
        self.failures = 0
        self.acquisitions = 0

    def acquire(self) -> bool:
        """Block until held. Returns True if the file lock is held too, False if degraded."""
        self._thread_lock.acquire()
        self.acquisitions += 1
        try:
            if self._fd is None:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            fcntl.flock(self._fd, fcntl.LOCK_EX)
        except OSError:
            self.failures += 1
            self._flocked = False
            return False
        except BaseException:
            self._thread_lock.release()
            raise
        self._flocked = True
        return True

    def release(self) -> None:
        """Release both locks."""
        try:
            if self._flocked and self._fd is not None:
                self._flocked = False
                try:
                    fcntl.flock(self._fd, fcntl.LOCK_UN)
                except OSError:
                    self._close_fd()
        finally:
            self._thread_lock.release()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    def _close_fd(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)

    def close(self) -> None:
        """Close the lock file descriptor (the lock file itself stays)."""
        with self._thread_lock:
            self._close_fd()

    def after_fork_in_child(self) -> None:
        """Forget the parent's descriptor: a shared open file description would share the lock."""
        self._thread_lock = threading.Lock()
        self._close_fd()
        self._flocked = False
