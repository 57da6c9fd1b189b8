"""Crash recovery of a segment's tail: keep every complete frame, move the rest aside."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .frames import MAX_PREFIX, FrameInfo, decode_payload, parse_header
from .index import ENTRY_SIZE, index_path, read_index, write_index


@dataclass(frozen=True, slots=True)
class Recovery:
    """What opening a segment for appending found."""

    frames: list[FrameInfo]
    size: int
    torn_bytes: int
    torn_path: Path | None


def _verified(fd: int, offset: int, size: int) -> FrameInfo | None:
    """The frame at ``offset`` if it is whole and its checksums match, else None."""
    try:
        info = parse_header(os.pread(fd, MAX_PREFIX, offset), offset)
        if info is None or info.end > size:
            return None
        decode_payload(os.pread(fd, info.end - offset, offset), info)
    except Exception:  # FrameError, zlib.error, zstandard.ZstdError: the torn tail starts here
        return None
    return info


def _index_size(segment: Path) -> int:
    try:
        return index_path(segment).stat().st_size
    except FileNotFoundError:
        return -1


def recover_segment(path: Path) -> Recovery:
    """Check the frames the index does not cover; truncate a torn tail.

    The index only lists frames written completely, so only the frames after it
    are decompressed and checked. The first frame that is short or fails its
    checksum starts the torn tail: those bytes are copied to
    ``<segment>.torn-<offset>`` (kept for inspection), then the segment is
    truncated there and the index rewritten.
    """
    fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    try:
        size = os.fstat(fd).st_size
        frames = read_index(path, size)
        indexed = len(frames)
        offset = frames[-1].end if frames else 0
        while offset < size:
            info = _verified(fd, offset, size)
            if info is None:
                break
            frames.append(info)
            offset = info.end
        torn_path: Path | None = None
        torn = size - offset
        if torn:
            torn_path = path.with_name(f"{path.name}.torn-{offset}")
            with open(torn_path, "wb") as out:
                out.write(os.pread(fd, torn, offset))
                out.flush()
                os.fsync(out.fileno())
            os.ftruncate(fd, offset)
            os.fsync(fd)
        if torn or len(frames) != indexed or _index_size(path) != indexed * ENTRY_SIZE:
            write_index(path, frames)
        return Recovery(frames, offset, torn, torn_path)
    finally:
        os.close(fd)
