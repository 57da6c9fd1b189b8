"""One writer per directory: an ``flock`` on ``DIR/.lock``, taken with a timeout."""

from __future__ import annotations

import os
import time
from pathlib import Path

from ..errors import LogflumeError
from ..fs.lock import try_flock

_POLL = 0.01  # seconds between attempts; the lock is never waited on while holding another


class StoreLockedError(LogflumeError):
    """Another writer holds the store's lock file (the message names its pid)."""


class StoreLock:
    """The writer lock of a directory; the kernel frees it if the holder dies.

    ``what`` names the directory in the error (``"store"``, ``"spool"``), ``hint``
    tells the user what to do instead; ``error`` is the exception class raised.
    """

    def __init__(
        self,
        directory: Path,
        timeout: float,
        *,
        what: str = "store",
        hint: str = "open it with readonly=True to read",
        error: type[LogflumeError] = StoreLockedError,
    ) -> None:
        self.path = directory / ".lock"
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        deadline = time.monotonic() + max(timeout, 0.0)
        while not try_flock(fd, blocking=False):
            if time.monotonic() >= deadline:
                holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
                os.close(fd)
                raise error(
                    f"{what} {directory} is locked by another writer (pid {holder}); "
                    f"gave up after {timeout:g} s — {hint}"
                )
            time.sleep(_POLL)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd: int | None = fd

    def release(self) -> None:
        """Release the lock (idempotent). In a forked child this only closes the child's
        descriptor: the ``flock`` stays held while the parent's copy is open."""
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)
