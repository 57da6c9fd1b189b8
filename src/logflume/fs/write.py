"""Low-level file writes that never lose bytes silently."""

from __future__ import annotations

import errno
import os


def write_all(fd: int, data: bytes | memoryview) -> int:
    """Write every byte of ``data`` to ``fd``, continuing after short writes.

    Raises ``OSError`` (with the real errno) if the kernel refuses; a write that
    makes no progress raises ``OSError(EIO)`` rather than looping forever.
    Returns the number of bytes written (``len(data)``).
    """
    view = memoryview(data)
    total = len(view)
    done = 0
    while done < total:
        n = os.write(fd, view[done:])
        if n <= 0:
            raise OSError(errno.EIO, "write made no progress", None)
        done += n
    return done


def append_file(path: str | os.PathLike[str], data: bytes, mode: int = 0o644) -> None:
    """Append ``data`` to ``path`` (created if missing) in one ``O_APPEND`` write, then close.

    For occasional lines (alerts, dead letters) several processes may add to; raises
    ``OSError`` if the kernel refuses.
    """
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, mode)
    try:
        write_all(fd, data)
    finally:
        os.close(fd)


def replace_file(path: str | os.PathLike[str], data: bytes, *, fsync: bool = False) -> None:
    """Give ``path`` the content ``data`` atomically: a temporary file renamed over it.

    With ``fsync`` the file and its directory are synced too, so the new content
    survives a power loss. Raises ``OSError``; the old content stays if it does.
    """
    target = os.fspath(path)
    tmp = target + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
    try:
        write_all(fd, data)
        if fsync:
            os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, target)
    if fsync:
        dir_fd = os.open(os.path.dirname(target) or ".", os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
