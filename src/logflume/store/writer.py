"""SegmentWriter: append frames to the newest segment, roll by size, apply retention."""

from __future__ import annotations

import os
import time
from pathlib import Path

from ..fs.write import write_all
from .frames import EXTENSIONS, FrameEncoder, FrameInfo, parse_header
from .index import encode_entry, index_path, list_segments, read_index, segment_name
from .index import segment_number as _number
from .recovery import recover_segment


class SegmentWriter:
    """Appends one frame per batch; the caller holds the store's writer lock.

    An append writes the frame (one ``write`` with ``O_APPEND``) and then its
    index entry: its cost depends only on the batch, never on the store's size.
    Not thread-safe on its own (``SegmentStore`` serializes calls).
    """

    def __init__(
        self,
        directory: Path,
        compression: str,
        level: int | None,
        max_segment_bytes: int,
        max_total_bytes: int | None,
        max_age: float | None,
        fsync: bool,
    ) -> None:
        self.directory = directory
        self.encoder = FrameEncoder(compression, level)
        self.extension = EXTENSIONS[compression]
        self.max_segment_bytes = max_segment_bytes
        self.max_total_bytes = max_total_bytes
        self.max_age = max_age
        self.fsync = fsync
        self.torn_bytes = 0
        self.torn_paths: list[Path] = []
        self.segments_deleted = 0
        self.index_errors = 0
        self.frames_undone = 0
        self._number_needs_roll = False
        self._fd: int | None = None
        self._idx_fd: int | None = None
        segments = list_segments(directory)
        for segment in segments[-1:]:
            found = recover_segment(segment)
            self.torn_bytes += found.torn_bytes
            if found.torn_path is not None:
                self.torn_paths.append(found.torn_path)
        last = segments[-1] if segments else None
        self._number = (_number(last) or 0) if last is not None else 0
        if last is not None and last.name.endswith(self.extension):
            self._open(last)
        else:
            self._roll()

    @property
    def path(self) -> Path:
        """The segment being appended to."""
        return self.directory / segment_name(self._number, self.extension)

    def _open(self, segment: Path) -> None:
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC
        self._fd = os.open(segment, flags, 0o644)
        self._idx_fd = os.open(index_path(segment), flags, 0o644)
        self._size = os.fstat(self._fd).st_size

    def _close_files(self) -> None:
        for fd in (self._fd, self._idx_fd):
            if fd is not None:
                if self.fsync:
                    os.fsync(fd)
                os.close(fd)
        self._fd = self._idx_fd = None

    def _roll(self) -> None:
        self._close_files()
        self._number += 1
        self._open(self.path)
        self._apply_retention()

    def append(
        self, data: bytes, count: int, ts_min: int, ts_max: int, lv_min: int, lv_max: int
    ) -> FrameInfo:
        """Compress ``data`` (``count`` JSON lines) into one frame and append it."""
        frame = self.encoder.encode(data, count, ts_min, ts_max, lv_min, lv_max)
        if (
            self._fd is None
            or self._number_needs_roll
            or (self._size and self._size + len(frame) > self.max_segment_bytes)
        ):
            self._number_needs_roll = False
            self._roll()
        if self._fd is None or self._idx_fd is None:
            raise OSError("segment writer is closed")
        parsed = parse_header(frame, self._size)
        assert parsed is not None
        try:
            write_all(self._fd, frame)
        except OSError:
            self._undo_partial_frame()
            raise
        self._size += len(frame)
        try:
            write_all(self._idx_fd, encode_entry(parsed))
        except OSError:
            # The frame is stored; the index is a cache that the next open rebuilds.
            self.index_errors += 1
        if self.fsync:
            os.fsync(self._fd)
        return parsed

    def _undo_partial_frame(self) -> None:
        """Cut a partly written frame off (ENOSPC, EIO) so later frames stay readable."""
        assert self._fd is not None
        self.frames_undone += 1
        try:
            os.ftruncate(self._fd, self._size)
        except OSError:
            # Leave the stub at the end of this segment and continue in a new one:
            # readers stop at an incomplete frame, so nothing after it is hidden.
            self._number_needs_roll = True

    def _apply_retention(self) -> None:
        if self.max_total_bytes is None and self.max_age is None:
            return
        older = [s for s in list_segments(self.directory) if s != self.path]
        sizes = {s: s.stat().st_size for s in older}
        total = sum(sizes.values())
        cutoff = None if self.max_age is None else time.time_ns() - int(self.max_age * 1e9)
        for segment in older:
            too_big = self.max_total_bytes is not None and total > self.max_total_bytes
            too_old = False
            if cutoff is not None and not too_big:
                frames = read_index(segment, sizes[segment])
                too_old = bool(frames) and max(f.ts_max for f in frames) < cutoff
            if not (too_big or too_old):
                if cutoff is None:
                    break
                continue
            segment.unlink(missing_ok=True)
            index_path(segment).unlink(missing_ok=True)
            total -= sizes[segment]
            self.segments_deleted += 1

    def close(self) -> None:
        """Close the current segment (fsynced when ``fsync`` is on)."""
        self._close_files()
