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
