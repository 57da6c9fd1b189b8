"""Keep a log file free of torn lines: find whole records in a partial write, cut fragments.

A write can stop part-way (ENOSPC after a short write, a writer killed
mid-``write``). These helpers run with the rotation lock held, when no other
writer can append, so cutting the fragment off the end of the file is safe.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from ..fs.ops import FileOps

TAIL_SCAN = 64 * 1024


def whole_lines(lines: Sequence[bytes], landed: int) -> tuple[int, int]:
    """(how many of ``lines`` fit entirely in the first ``landed`` bytes, their byte length)."""
    count, end = 0, 0
    for line in lines:
        if end + len(line) > landed:
            break
        end += len(line)
        count += 1
    return count, end


def cut_fragment(ops: FileOps, fd: int, fragment: int) -> bool:
    """Truncate the last ``fragment`` bytes we just wrote through ``fd`` (opened O_APPEND).

    Only if the file still ends where our write ended (nobody appended after
    it); returns False when it could not, and the caller must then start its
    next write with a newline so the fragment at least stays on its own line.
    """
    try:
        pos = os.lseek(fd, 0, os.SEEK_CUR)
        if ops.fstat(fd).st_size != pos:
            return False
        ops.ftruncate(fd, pos - fragment)
        return True
    except OSError:
        return False


def repair_tail(ops: FileOps, path: str, fd: int, size: int) -> bool | None:
    """Cut a torn last line (left by a writer that died mid-write) off the file at ``path``.

    Returns True if something was cut, False if the file was fine, None if it
    could not be repaired (then terminate the fragment with a newline).
    """
    try:
        with open(path, "rb") as reader:
            reader.seek(max(0, size - TAIL_SCAN))
            tail = reader.read(TAIL_SCAN)
        if not tail or tail.endswith(b"\n") or len(tail) < min(size, TAIL_SCAN):
            return False
        cut = tail.rfind(b"\n")
        if cut < 0 and size > TAIL_SCAN:
            return None  # no newline in the last 64 KiB: too long a fragment to judge
        ops.ftruncate(fd, size - len(tail) + cut + 1)
        return True
    except OSError:
        return None
