"""Segment files and their per-segment index (frame offsets, time and level ranges).

A segment ``seg-00000001.jsonl.zst`` has an index ``seg-00000001.jsonl.zst.idx``
beside it: fixed-size entries, one per frame, each with its own CRC32. The
index is a cache: entries past the segment's end or with a bad CRC are
ignored, and frames it does not cover are found by reading their headers from
the segment (a missing or stale index is rebuilt that way).
"""

from __future__ import annotations

import os
import re
import struct
import zlib
from collections.abc import Iterable
from pathlib import Path

from ..errors import LogflumeError
from ..fs.write import replace_file
from .frames import MAX_PREFIX, FrameError, FrameInfo, parse_header

_SEGMENT_RE = re.compile(r"^seg-(\d{8})\.jsonl\.(gz|zst)$")
_ENTRY = struct.Struct("<QHIqqHHIII")
ENTRY_SIZE = _ENTRY.size + 4


class StoreCorruptError(LogflumeError):
    """A segment holds bytes that are not a valid frame (not merely a torn tail)."""


def segment_name(number: int, extension: str) -> str:
    """File name of segment ``number`` (``seg-00000042.jsonl.gz``)."""
    return f"seg-{number:08d}{extension}"


def segment_number(path: Path) -> int | None:
    """The number in a segment's file name, or None if ``path`` is not a segment."""
    match = _SEGMENT_RE.match(path.name)
    return int(match.group(1)) if match else None


def list_segments(directory: Path) -> list[Path]:
    """Segments of a store, oldest first."""
    found = []
    with os.scandir(directory) as entries:
        for entry in entries:
            match = _SEGMENT_RE.match(entry.name)
            if match:
                found.append((int(match.group(1)), Path(entry.path)))
    return [path for _, path in sorted(found)]


def index_path(segment: Path) -> Path:
    """Where the index of ``segment`` lives."""
    return segment.with_name(segment.name + ".idx")


def encode_entry(info: FrameInfo) -> bytes:
    """One index entry (fixed size, CRC-protected)."""
    body = _ENTRY.pack(
        info.offset,
        info.header_len,
        info.count,
        info.ts_min,
        info.ts_max,
        info.level_min,
        info.level_max,
        info.raw_len,
        info.payload_len,
        info.payload_crc,
    )
    return body + struct.pack("<I", zlib.crc32(body))


def read_index(segment: Path, size: int) -> list[FrameInfo]:
    """Index entries of ``segment`` that are intact, contiguous from 0 and inside ``size``."""
    try:
        data = index_path(segment).read_bytes()
    except FileNotFoundError:
        return []
    frames: list[FrameInfo] = []
    expected = 0
    for pos in range(0, len(data) - ENTRY_SIZE + 1, ENTRY_SIZE):
        body = data[pos : pos + _ENTRY.size]
        (crc,) = struct.unpack_from("<I", data, pos + _ENTRY.size)
        if zlib.crc32(body) != crc:
            break
        info = FrameInfo(*_ENTRY.unpack(body))
        if info.offset != expected or info.end > size:
            break
        frames.append(info)
        expected = info.end
    return frames


def write_index(segment: Path, frames: Iterable[FrameInfo]) -> None:
    """Replace the index of ``segment`` atomically (temporary file + rename)."""
    replace_file(index_path(segment), b"".join(encode_entry(f) for f in frames))


def scan_frames(fd: int, start: int, size: int, path: Path) -> tuple[list[FrameInfo], int]:
    """Read frame headers from ``start`` up to ``size`` without reading payloads.

    Returns the complete frames and the offset where scanning stopped (the
    start of an incomplete frame, or ``size``). Raises ``StoreCorruptError``
    when bytes at a frame boundary are not a frame header.
    """
    frames: list[FrameInfo] = []
    offset = start
    while offset < size:
        buf = os.pread(fd, MAX_PREFIX, offset)
        try:
            info = parse_header(buf, offset)
        except FrameError as exc:
            raise StoreCorruptError(f"{path}: {exc}") from exc
        if info is None or info.end > size:
            break
        frames.append(info)
        offset = info.end
    return frames, offset


def load_frames(segment: Path, fd: int, size: int) -> tuple[list[FrameInfo], int, bool]:
    """Frames of ``segment`` (index first, then a header scan of what it misses).

    Returns ``(frames, end_of_last_complete_frame, index_was_complete)``.
    """
    frames = read_index(segment, size)
    start = frames[-1].end if frames else 0
    more, stop = scan_frames(fd, start, size, segment)
    return frames + more, stop, not more
