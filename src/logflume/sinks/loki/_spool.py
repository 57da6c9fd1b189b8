"""The outage spool: push bodies kept on disk, in order, until Loki accepts them.

Layout of ``spool_dir``:

- ``spool-<n>.seg``: segment files of records ``header + body`` (header: magic,
  encoding, entry count, body length, CRC-32 of the body), appended in order;
- ``replay.offset``: the segment and offset of the oldest record not yet accepted,
  replaced atomically after each acknowledgement;
- ``front.seg``: batches that go *before* the segments: the parts of a batch Loki
  refused (split per stream, or re-stamped). Rewritten atomically; it names the
  segment record it replaces, so a crash between writing it and moving the replay
  offset never sends both, and re-stamped entries keep the time they were given;
- ``.lock``: one process per spool.

A process opening the spool replays what the previous one left; a torn record at
the end of a segment (a crash mid-append) is moved aside to
``<segment>.torn-<offset>`` and counted. Bodies are stored as sent, so a resend is
byte-identical and Loki drops the duplicate of a batch it accepted just before a
crash. When a record does not fit in ``max_bytes``, whole segments are dropped
from the oldest, and their entries counted in ``dropped_entries``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import struct
import zlib
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ...errors import LogflumeError
from ...fs.write import replace_file, write_all
from ...store.lock import StoreLock
from ._wire import Encoding, Payload

_HEADER = struct.Struct("<4sB3xIII")  # magic, encoding, entries, body length, crc32(body)
_MAGIC = b"LFS1"
_FRONT_HEADER = struct.Struct("<4sqq")  # magic, segment and offset of the record replaced
_FRONT_MAGIC = b"LFF1"
_OFFSET_FILE = "replay.offset"
_FRONT_FILE = "front.seg"
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


def _record(payload: Payload) -> bytes:
    body = payload.body
    header = _HEADER.pack(_MAGIC, payload.encoding, payload.entries, len(body), zlib.crc32(body))
    return header + body


def _records(data: bytes, pos: int) -> tuple[list[tuple[int, Encoding, int, bytes]], int]:
    """The whole, intact records in ``data`` from ``pos``: (offset, encoding, entries, body),
    and where the first torn or corrupt one starts (``len(data)`` if none)."""
    found = []
    while pos + _HEADER.size <= len(data):
        magic, encoding, entries, length, crc = _HEADER.unpack_from(data, pos)
        start, end = pos + _HEADER.size, pos + _HEADER.size + length
        if magic != _MAGIC or end > len(data) or encoding not in Encoding._value2member_map_:
            break
        body = data[start:end]
        if zlib.crc32(body) != crc:
            break
        found.append((pos, Encoding(encoding), entries, body))
        pos = end
    return found, pos


class Spool:
    """Append-only FIFO of push bodies on disk; used by the sink's sender thread only.

    ``batches``, ``entries`` and ``disk_bytes`` are plain counters other threads may read.
    """

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
        self._front: list[Payload] = []
        self._front_marker = (-1, -1)
        self._front_bytes = 0
        self._sizes: dict[int, int] = {}  # segment number -> bytes on disk
        self._next_id = 0
        self._entries = 0
        self._disk = 0
        self.batches = 0
        self.dropped_entries = 0
        self.dropped_batches = 0
        self.torn_bytes = 0
        self.corrupt_batches = 0
        self.offset_errors = 0
        self.recovered_entries = 0
        self._active = 1
        self._fd: int | None = None
        try:
            self._load()
        except BaseException:
            self._lock.release()  # a spool we cannot read must not stay locked
            raise

    # --- state -------------------------------------------------------------------------

    @property
    def entries(self) -> int:
        return self._entries

    @property
    def disk_bytes(self) -> int:
        return self._disk

    def _count(self, batches: int, entries: int) -> None:
        self.batches += batches
        self._entries += entries

    def _set_size(self, segment: int, size: int) -> None:
        self._disk += size - self._sizes.get(segment, 0)
        self._sizes[segment] = size

    def _path(self, segment: int) -> Path:
        return self.directory / f"{_PREFIX}{segment:012d}{_SUFFIX}"

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    # --- opening: what the previous process left -----------------------------------------

    def _load(self) -> None:
        head_segment, head_offset = self._read_offset()
        newest = head_segment
        for path in sorted(self.directory.glob(f"{_PREFIX}*{_SUFFIX}")):
            try:
                segment = int(path.name[len(_PREFIX) : -len(_SUFFIX)])
            except ValueError:
                continue
            newest = max(newest, segment)
            if segment < head_segment:
                try:
                    path.unlink(missing_ok=True)  # fully replayed before the last stop
                except OSError:
                    self.offset_errors += 1
                continue
            start = head_offset if segment == head_segment else 0
            self._set_size(segment, self._scan(path, segment, start))
        self._load_front()
        # Never reuse a segment number: a position names one record for good.
        self._active = max(newest, self._front_marker[0]) + 1
        # The front file replaced the record at its marker, and everything before it was
        # accepted: if the replay offset did not get that far (a crash between the two
        # writes, or a failed offset write), move it now.
        stale = 0
        while self._refs and (self._refs[0].segment, self._refs[0].offset) <= self._front_marker:
            ref = self._refs.popleft()
            self._count(-1, -ref.entries)
            stale += 1
        if stale:
            self._write_offset()
        self.recovered_entries = self._entries

    def _read_offset(self) -> tuple[int, int]:
        try:
            text = (self.directory / _OFFSET_FILE).read_text("ascii").split()
            return int(text[0]), int(text[1])
        except (OSError, ValueError, IndexError):
            return 0, 0

    def _scan(self, path: Path, segment: int, start: int) -> int:
        """Index the whole records of ``path`` from ``start``; move a torn tail aside."""
        data = path.read_bytes()
        found, end = _records(data, min(start, len(data)))
        for offset, encoding, entries, body in found:
            size = _HEADER.size + len(body)
            self._refs.append(_Ref(self._new_id(), segment, offset, size, entries, encoding))
            self._count(1, entries)
        if end < len(data):
            aside = path.with_name(f"{path.name}.torn-{end}")
            aside.write_bytes(data[end:])
            with open(path, "r+b") as handle:
                handle.truncate(end)
            self.torn_bytes += len(data) - end
        return end

    def _load_front(self) -> None:
        path = self.directory / _FRONT_FILE
        try:
            data = path.read_bytes()
        except OSError:
            return
        if len(data) < _FRONT_HEADER.size:
            return
        magic, segment, offset = _FRONT_HEADER.unpack_from(data)
        if magic != _FRONT_MAGIC:
            self.torn_bytes += len(data)
            return
        found, end = _records(data, _FRONT_HEADER.size)
        self.torn_bytes += len(data) - end
        self._front_marker = (segment, offset)
        self._front = [
            Payload(encoding, body, entries, spool_id=self._new_id(), source=self)
            for _, encoding, entries, body in found
        ]
        self._front_bytes = len(data)
        self._disk += len(data)
        self._count(len(self._front), sum(p.entries for p in self._front))

    # --- appending ----------------------------------------------------------------------

    def append(self, payload: Payload) -> bool:
        """Store ``payload`` at the tail; drop the oldest segments if it does not fit.

        Returns False (and counts it dropped) if it alone is larger than ``max_bytes``.
        Raises ``OSError`` if the disk refuses (the caller keeps the payload).
        """
        record = _record(payload)
        if len(record) > self.max_bytes:
            self.dropped_entries += payload.entries
            self.dropped_batches += 1
            return False
        self._make_room(len(record))
        size = self._sizes.get(self._active, 0)
        if size and size + len(record) > self.segment_bytes:
            self._close_active()
            self._active += 1
            size = 0
        fd = self._open_active()
        try:
            write_all(fd, record)
            if self.fsync:
                os.fsync(fd)
        except OSError:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, size)  # no torn record left behind
            raise
        self._set_size(self._active, size + len(record))
        ref = _Ref(
            self._new_id(), self._active, size, len(record), payload.entries, payload.encoding
        )
        self._refs.append(ref)
        self._count(1, payload.entries)
        return True

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
        while self._disk + size > self.max_bytes and self._sizes:
            oldest = min(self._sizes)
            if oldest == self._active:
                # Only the active segment is left: give up its unsent records, start afresh.
                self._close_active()
                self._active += 1
            dropped = [ref for ref in self._refs if ref.segment == oldest]
            self.dropped_entries += sum(ref.entries for ref in dropped)
            self.dropped_batches += len(dropped)
            self._count(-len(dropped), -sum(ref.entries for ref in dropped))
            self._refs = deque(ref for ref in self._refs if ref.segment != oldest)
            self._remove_segment(oldest)
            self._write_offset()

    def _remove_segment(self, segment: int) -> None:
        self._disk -= self._sizes.pop(segment, 0)
        try:
            self._path(segment).unlink(missing_ok=True)
        except OSError:
            # Left on disk, no longer ours: the replay offset is past it, so the next
            # process deletes it instead of replaying it.
            self.offset_errors += 1

    # --- replaying ----------------------------------------------------------------------

    def head(self) -> Payload | None:
        """The oldest batch not yet accepted (the front file first), None if empty.

        A segment record whose checksum no longer matches is skipped and counted.
        """
        if self._front:
            return self._front[0]
        while self._refs:
            ref = self._refs[0]
            try:
                with open(self._path(ref.segment), "rb") as handle:
                    handle.seek(ref.offset)
                    data = handle.read(ref.size)
            except OSError:
                data = b""
            found, _ = _records(data, 0)
            if len(found) == 1:
                _, encoding, entries, body = found[0]
                return Payload(encoding, body, entries, spool_id=ref.id, source=self)
            self.corrupt_batches += 1
            self.dropped_entries += ref.entries
            self._pop()
        return None

    def ack(self, spool_id: int) -> None:
        """The head batch ``spool_id`` is delivered (or dead-lettered): forget it."""
        if self._front:
            if self._front[0].spool_id == spool_id:
                done = self._front[0]
                try:
                    self._write_front(self._front[1:], self._front_marker)
                except OSError:
                    # Kept in memory as done; a later process may send it again (Loki
                    # drops the byte-identical duplicate).
                    self._front = self._front[1:]
                self._count(-1, -done.entries)
        elif self._refs and self._refs[0].id == spool_id:
            self._pop()

    def replace_head(self, spool_id: int, pieces: Sequence[Payload]) -> None:
        """Loki refused the head batch: ``pieces`` (its parts, split or re-stamped) take
        its place, durably, before anything else. Raises ``OSError`` if the disk refuses."""
        entries = sum(p.entries for p in pieces)
        if self._front and self._front[0].spool_id == spool_id:
            replaced = self._front[0]
            self._write_front([*self._stamp(pieces), *self._front[1:]], self._front_marker)
            self._count(len(pieces) - 1, entries - replaced.entries)
        elif not self._front and self._refs and self._refs[0].id == spool_id:
            head = self._refs[0]
            self._write_front(self._stamp(pieces), (head.segment, head.offset))
            self._count(len(pieces), entries)
            self._pop()

    def push_front(self, pieces: Sequence[Payload]) -> None:
        """Put ``pieces`` before everything spooled (parts of a refused in-memory batch).
        Raises ``OSError`` if the disk refuses (then nothing changed)."""
        self._write_front([*self._stamp(pieces), *self._front], self._front_marker)
        self._count(len(pieces), sum(p.entries for p in pieces))

    def _stamp(self, pieces: Sequence[Payload]) -> list[Payload]:
        return [
            Payload(
                p.encoding,
                p.body,
                p.entries,
                spool_id=self._new_id(),
                source=self,
                _streams=p._streams,
            )
            for p in pieces
        ]

    def _write_front(self, front: list[Payload], marker: tuple[int, int]) -> None:
        """Make ``front`` the front file's content, then (only if that worked) the state.

        The file stays, with its marker, when it holds no batch any more: the marker keeps
        telling a later process which segment record the parts replaced.
        """
        data = _FRONT_HEADER.pack(_FRONT_MAGIC, *marker) + b"".join(_record(p) for p in front)
        try:
            self._replace(self.directory / _FRONT_FILE, data)
        except OSError:
            self.offset_errors += 1
            raise
        self._front, self._front_marker = front, marker
        self._disk += len(data) - self._front_bytes
        self._front_bytes = len(data)

    def _replace(self, path: Path, data: bytes) -> None:
        replace_file(path, data, fsync=self.fsync)

    def _pop(self) -> None:
        done = self._refs.popleft()
        self._count(-1, -done.entries)
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
        try:
            self._replace(self.directory / _OFFSET_FILE, f"{segment} {offset}\n".encode())
        except OSError:
            self.offset_errors += 1  # a stale offset only means resends, deduplicated by Loki
        for old in [s for s in self._sizes if s < segment and s != self._active]:
            self._remove_segment(old)

    def forget_in_child(self) -> None:
        """In a forked child: close the inherited descriptors without unlocking the parent's
        spool (an ``flock`` is held as long as any descriptor to it stays open)."""
        self._close_active()
        self._lock.release()

    def close(self) -> None:
        self._close_active()
        if not self._refs and not self._sizes.get(self._active):
            self._remove_segment(self._active)
        self._lock.release()

    def discard(self, keep_torn_in: Path) -> None:
        """Delete an emptied spool of a dead process; never raises.

        Torn records moved aside are kept, moved to ``keep_torn_in``. The directory is
        renamed away while still locked, so a process taking the same name afterwards
        (a re-forked worker with the same pid) starts from a fresh directory.
        """
        with contextlib.suppress(OSError):
            self._close_active()
            for torn in self.directory.glob("*.torn-*"):
                torn.rename(keep_torn_in / f"{self.directory.name}-{torn.name}")
        gone = self.directory.with_name(f".gone-{self.directory.name}-{os.getpid()}")
        try:
            os.rename(self.directory, gone)
        except OSError:
            gone = self.directory
        with contextlib.suppress(OSError):
            self._lock.release()
        shutil.rmtree(gone, ignore_errors=True)


FORK_PREFIX = "fork-"


def child_spool_dir(root: Path) -> Path:
    """Where a forked child spools: ``<spool_dir>/fork-<pid>``."""
    return root / f"{FORK_PREFIX}{os.getpid()}"


def adopt_orphans(
    root: Path, max_bytes: int, *, fsync: bool, exclude: Path | None = None
) -> list[Spool]:
    """The spools of forked processes that are gone (their lock is free) and still hold
    batches: this process replays them. Empty ones are deleted. ``exclude``: our own."""
    adopted = []
    for directory in sorted(root.glob(f"{FORK_PREFIX}*")):
        if not directory.is_dir() or directory == exclude:
            continue
        try:
            spool = Spool(directory, max_bytes, fsync=fsync)
        except (SpoolLockedError, OSError):
            continue  # its process is alive (or the directory is unreadable: leave it)
        if spool.batches:
            adopted.append(spool)
        else:
            spool.discard(root)
    return adopted
