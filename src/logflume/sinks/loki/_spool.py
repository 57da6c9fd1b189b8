"""The outage spool: push bodies kept on disk, in order, until Loki accepts them.

Layout of ``spool_dir``: segment files ``spool-<n>.seg`` holding records
``header + body`` (header: magic, encoding, entry count, body length, CRC-32
of the body), ``replay.offset`` (the segment and offset of the oldest record
not yet accepted, replaced atomically after each acknowledgement) and
``.lock`` (one process per spool). A process opening the spool replays what the
previous one left; a torn record at the end of a segment (a crash mid-append)
is moved aside to ``<segment>.torn-<offset>`` and counted.

Bodies are stored as sent, so a resend is byte-identical and Loki drops the
duplicate of a batch it accepted just before a crash. When a record does not
fit in ``max_bytes``, whole segments are dropped from the oldest, and their
entries counted in ``dropped_entries``.
"""

from __future__ import annotations

import contextlib
import os
import struct
import zlib
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from ...errors import LogflumeError
from ...store.lock import StoreLock
from ._wire import Encoding, Payload

_HEADER = struct.Struct("<4sB3xIII")  # magic, encoding, entries, body length, crc32(body)
_MAGIC = b"LFS1"
_OFFSET_FILE = "replay.offset"
_PREFIX, _SUFFIX = "spool-", ".seg"


class SpoolLockedError(LogflumeError):
    """Another live process uses this ``spool_dir`` (each process needs its own)."""


@dataclass
class _Ref:
    id: int
    segment: int
    offset: int
    size: int
    entries: int
    encoding: Encoding


class Spool:
    """Append-only FIFO of push bodies on disk; used by the sink's sender thread only."""

    def __init__(self, directory: str | os.PathLike[str], max_bytes: int, *, fsync: bool) -> None:
        self.directory = Path(directory)
        self.max_bytes = max_bytes
        self.segment_bytes = max(64 * 1024, min(16 * 1024 * 1024, max_bytes // 8))
        self.fsync = fsync
        self.directory.mkdir(parents=True, exist_ok=True)
        self._lock = StoreLock(
            self.directory,
            0.0,
            what="spool",
            hint="give each process its own spool_dir",
            error=SpoolLockedError,
        )
        self._refs: deque[_Ref] = deque()
        self._sizes: dict[int, int] = {}  # segment number -> bytes on disk
        self._next_id = 0
        self._entries = 0  # these two are kept up to date: stats() reads them from other threads
        self._disk = 0
        self.dropped_entries = 0
        self.dropped_batches = 0
        self.torn_bytes = 0
        self.corrupt_batches = 0
        self.recovered_entries = 0
        self._load()
        self._active = max(self._sizes, default=0) + 1
        self._fd: int | None = None

    # --- state -------------------------------------------------------------------------

    @property
    def batches(self) -> int:
        return len(self._refs)

    @property
    def entries(self) -> int:
        return self._entries

    @property
    def disk_bytes(self) -> int:
        return self._disk

    def _set_size(self, segment: int, size: int) -> None:
        self._disk += size - self._sizes.get(segment, 0)
        self._sizes[segment] = size

    def _path(self, segment: int) -> Path:
        return self.directory / f"{_PREFIX}{segment:012d}{_SUFFIX}"

    # --- opening: what the previous process left -----------------------------------------

    def _load(self) -> None:
        head_segment, head_offset = self._read_offset()
        for path in sorted(self.directory.glob(f"{_PREFIX}*{_SUFFIX}")):
            try:
                segment = int(path.name[len(_PREFIX) : -len(_SUFFIX)])
            except ValueError:
                continue
            if segment < head_segment:
                path.unlink(missing_ok=True)  # fully replayed before the last stop
                continue
            start = head_offset if segment == head_segment else 0
            self._set_size(segment, self._scan(path, segment, start))
        self.recovered_entries = self.entries

    def _read_offset(self) -> tuple[int, int]:
        try:
            text = (self.directory / _OFFSET_FILE).read_text("ascii").split()
            return int(text[0]), int(text[1])
        except (OSError, ValueError, IndexError):
            return 0, 0

    def _scan(self, path: Path, segment: int, start: int) -> int:
        """Index the whole records of ``path`` from ``start``; move a torn tail aside."""
        data = path.read_bytes()
        pos = start if start <= len(data) else len(data)
        while pos + _HEADER.size <= len(data):
            magic, encoding, entries, length, crc = _HEADER.unpack_from(data, pos)
            end = pos + _HEADER.size + length
            if magic != _MAGIC or end > len(data) or encoding not in Encoding._value2member_map_:
                break
            if zlib.crc32(data[pos + _HEADER.size : end]) != crc:
                break
            ref = _Ref(self._new_id(), segment, pos, end - pos, entries, Encoding(encoding))
            self._refs.append(ref)
            self._entries += entries
            pos = end
        if pos < len(data):
            aside = path.with_name(f"{path.name}.torn-{pos}")
            aside.write_bytes(data[pos:])
            with open(path, "r+b") as handle:
                handle.truncate(pos)
            self.torn_bytes += len(data) - pos
        return pos

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    # --- appending ----------------------------------------------------------------------

    def append(self, payload: Payload) -> None:
        """Store ``payload`` at the tail; drop the oldest segments if it does not fit.

        Raises ``OSError`` if the disk refuses (the caller keeps the payload).
        """
        record = (
            _HEADER.pack(
                _MAGIC,
                payload.encoding,
                payload.entries,
                len(payload.body),
                zlib.crc32(payload.body),
            )
            + payload.body
        )
        if len(record) > self.max_bytes:
            self.dropped_entries += payload.entries
            self.dropped_batches += 1
            return
        size = self._sizes.get(self._active, 0)
        if size and size + len(record) > self.segment_bytes:
            self._close_active()
            self._active += 1
            size = 0
        self._make_room(len(record))
        fd = self._open_active()
        written = 0
        try:
            while written < len(record):
                written += os.write(fd, record[written:])
            if self.fsync:
                os.fsync(fd)
        except OSError:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, size)  # no torn record left behind
            raise
        self._set_size(self._active, size + len(record))
        self._refs.append(
            _Ref(self._new_id(), self._active, size, len(record), payload.entries, payload.encoding)
        )
        self._entries += payload.entries

    def _open_active(self) -> int:
        if self._fd is None:
            flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC
            self._fd = os.open(self._path(self._active), flags, 0o644)
            self._set_size(self._active, self._sizes.get(self._active, 0))
        return self._fd

    def _close_active(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)

    def _make_room(self, size: int) -> None:
        while self.disk_bytes + size > self.max_bytes:
            oldest = min(self._sizes)
            if oldest == self._active:
                # Only the active segment is left: give up its unsent records, start afresh.
                self._close_active()
                self._active += 1
            dropped = [ref for ref in self._refs if ref.segment == oldest]
            self.dropped_entries += sum(ref.entries for ref in dropped)
            self._entries -= sum(ref.entries for ref in dropped)
            self.dropped_batches += len(dropped)
            self._refs = deque(ref for ref in self._refs if ref.segment != oldest)
            self._remove_segment(oldest)
            self._write_offset()

    def _remove_segment(self, segment: int) -> None:
        self._disk -= self._sizes.pop(segment, 0)
        self._path(segment).unlink(missing_ok=True)

    # --- replaying ----------------------------------------------------------------------

    def head(self) -> Payload | None:
        """The oldest record not yet accepted, read back from disk (None if empty).

        A record whose checksum no longer matches is skipped and counted.
        """
        while self._refs:
            ref = self._refs[0]
            try:
                with open(self._path(ref.segment), "rb") as handle:
                    handle.seek(ref.offset)
                    data = handle.read(ref.size)
            except OSError:
                data = b""
            if len(data) == ref.size:
                magic, _, _, length, crc = _HEADER.unpack_from(data)
                body = data[_HEADER.size :]
                if magic == _MAGIC and length == len(body) and zlib.crc32(body) == crc:
                    return Payload(ref.encoding, body, ref.entries, spool_id=ref.id)
            self.corrupt_batches += 1
            self.dropped_entries += ref.entries
            self._pop()
        return None

    def ack(self, spool_id: int) -> None:
        """The head record ``spool_id`` is delivered (or dead-lettered): forget it."""
        if self._refs and self._refs[0].id == spool_id:
            self._pop()

    def _pop(self) -> None:
        done = self._refs.popleft()
        self._entries -= done.entries
        if not self._refs:
            # All replayed: give the disk back, the next append starts a fresh segment.
            self._close_active()
            self._active += 1
        segment_done = not self._refs or self._refs[0].segment != done.segment
        if segment_done and done.segment != self._active:
            self._remove_segment(done.segment)
        self._write_offset()

    def _write_offset(self) -> None:
        if self._refs:
            segment, offset = self._refs[0].segment, self._refs[0].offset
        else:
            segment, offset = self._active, self._sizes.get(self._active, 0)
        tmp = self.directory / f"{_OFFSET_FILE}.tmp"
        with contextlib.suppress(OSError):
            tmp.write_text(f"{segment} {offset}\n", "ascii")
            os.replace(tmp, self.directory / _OFFSET_FILE)
        for old in [s for s in self._sizes if s < segment and s != self._active]:
            self._remove_segment(old)

    def close(self) -> None:
        self._close_active()
        if not self._refs and not self._sizes.get(self._active):
            self._remove_segment(self._active)
        self._lock.release()
