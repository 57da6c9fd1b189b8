"""The file-operations seam: one object through which a sink touches the filesystem.

Sinks call ``ops.open``, ``ops.write``, ``ops.rename``... instead of ``os``
directly, so a test can hand them an object that fails the third rename with
EBUSY and records the backoff sleeps, deterministically and without waiting.
``OsFileOps`` is the real thing; subclass it and override what you need.
"""

from __future__ import annotations

import os
import time
from typing import Protocol


class FileOps(Protocol):
    """What a file sink needs from the OS (the ``os`` functions of the same names)."""

    def open(self, path: str, flags: int, mode: int) -> int: ...
    def write(self, fd: int, data: memoryview) -> int: ...
    def close(self, fd: int) -> None: ...
    def fsync(self, fd: int) -> None: ...
    def fstat(self, fd: int) -> os.stat_result: ...
    def stat(self, path: str) -> os.stat_result: ...
    def rename(self, src: str, dst: str) -> None: ...
    def unlink(self, path: str) -> None: ...
    def ftruncate(self, fd: int, length: int) -> None: ...
    def listdir(self, path: str) -> list[str]: ...
    def free_bytes(self, path: str) -> int: ...
    def sleep(self, seconds: float) -> None: ...


class OsFileOps:
    """``FileOps`` on the real ``os`` module (and ``time.sleep`` for backoff)."""

    def open(self, path: str, flags: int, mode: int) -> int:
        return os.open(path, flags, mode)

    def write(self, fd: int, data: memoryview) -> int:
        return os.write(fd, data)

    def close(self, fd: int) -> None:
        os.close(fd)

    def fsync(self, fd: int) -> None:
        os.fsync(fd)

    def fstat(self, fd: int) -> os.stat_result:
        return os.fstat(fd)

    def stat(self, path: str) -> os.stat_result:
        return os.stat(path)

    def rename(self, src: str, dst: str) -> None:
        os.rename(src, dst)

    def unlink(self, path: str) -> None:
        os.unlink(path)

    def ftruncate(self, fd: int, length: int) -> None:
        os.ftruncate(fd, length)

    def listdir(self, path: str) -> list[str]:
        return os.listdir(path)

    def free_bytes(self, path: str) -> int:
        """Bytes an unprivileged process may still write on ``path``'s filesystem."""
        st = os.statvfs(path)
        return st.f_bavail * st.f_frsize

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


def fsync_dir(ops: FileOps, directory: str) -> None:
    """Make renames and unlinks in ``directory`` durable (no-op where directories can't sync)."""
    try:
        fd = ops.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC, 0)
    except OSError:
        return
    try:
        ops.fsync(fd)
    except OSError:
        pass
    finally:
        ops.close(fd)
