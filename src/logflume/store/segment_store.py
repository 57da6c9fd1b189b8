"""SegmentStore: the compressed, append-only, queryable store (a sink and a reader)."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from .._record import Record, parse_level
from ..errors import ConfigurationError, SinkOpenError
from .frames import EXTENSIONS, zstd_module
from .lock import StoreLock
from .query import Query, Timestamp
from .reader import Position, StoreReader
from .writer import SegmentWriter


class SegmentStore:
    """Append each batch as one compressed frame; query by time, level, logger, fields.

    A store is a directory of segments (``seg-00000001.jsonl.zst`` or ``.gz``),
    each a concatenation of independent frames that ``zstdcat`` / ``zcat`` read
    as JSON lines. An append costs O(batch): it compresses the batch once and
    appends it; it never reads or rewrites what is stored. Segments roll at
    ``max_segment_bytes``; retention (``max_total_bytes``, ``max_age`` seconds)
    deletes whole old segments when a segment rolls.

    One writer per directory: opening for writing takes ``DIR/.lock`` and
    raises ``StoreLockedError`` after ``lock_timeout`` seconds if another
    writer holds it. ``readonly=True`` opens a reader that needs no lock and
    runs beside the writer. Opening for writing recovers a torn tail left by a
    crash (moved aside to ``<segment>.torn-<offset>``, counted in ``stats()``).

    ``level`` is the compression level; ``min_level`` filters records as a
    sink (the pipeline's ``level`` attribute).

    >>> store = SegmentStore("logs/store", compression="gzip")
    >>> logflume.configure(sinks=[store])
    >>> for rec in SegmentStore("logs/store", readonly=True).query(level="error"):
    ...     print(rec["msg"])
    """

    def __init__(
        self,
        directory: str | Path,
        compression: str = "zstd",
        level: int | None = None,
        max_segment_bytes: int = 64 * 1024 * 1024,
        max_total_bytes: int | None = None,
        max_age: float | None = None,
        *,
        readonly: bool = False,
        lock_timeout: float = 5.0,
        fsync: bool = False,
        min_level: int | str | None = None,
        name: str | None = None,
    ) -> None:
        if compression not in EXTENSIONS:
            raise ConfigurationError(f"compression must be 'zstd' or 'gzip', not {compression!r}")
        if max_segment_bytes < 1:
            raise ConfigurationError(f"max_segment_bytes must be >= 1, got {max_segment_bytes}")
        if compression == "zstd":
            zstd_module()
        self.directory = Path(directory)
        self.compression = compression
        self.compression_level = level
        self.readonly = readonly
        self.level = parse_level(min_level) if min_level is not None else None
        self.name = name or f"store:{self.directory}"
        self._reader = StoreReader(self.directory)
        self._lock = threading.Lock()
        self._writer: SegmentWriter | None = None
        self._store_lock: StoreLock | None = None
        self._forked = False
        self._frames = 0
        self._records = 0
        self._raw = 0
        self._compressed = 0
        if readonly:
            if not self.directory.is_dir():
                raise FileNotFoundError(f"no store directory at {self.directory}")
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SinkOpenError(
                exc.errno, f"cannot create store {self.directory}: {exc.strerror}"
            ) from exc
        self._store_lock = StoreLock(self.directory, lock_timeout)
        try:
            self._writer = SegmentWriter(
                self.directory,
                compression,
                level,
                max_segment_bytes,
                max_total_bytes,
                max_age,
                fsync,
            )
        except BaseException:
            self._store_lock.release()
            raise

    # -- sink side -------------------------------------------------------------
    def write_batch(self, records: Sequence[Record]) -> None:
        """Append ``records`` as one frame (raises if closed or read-only; the pipeline
        counts the batch as failed)."""
        if not records:
            return
        data = b"".join([r.line for r in records])
        stamps = [r.ts_ns for r in records]
        levels = [r.level for r in records]
        self.append_lines(data, len(records), min(stamps), max(stamps), min(levels), max(levels))

    def append_lines(
        self, data: bytes, count: int, ts_min: int, ts_max: int, lv_min: int, lv_max: int
    ) -> None:
        """Append ``count`` ready JSON lines as one frame, with the header's ranges."""
        with self._lock:
            if self._writer is None:
                why = "owned by the parent process" if self._forked else "read-only or closed"
                raise ValueError(f"store {self.directory} is {why}")
            self._writer.append(data, count, ts_min, ts_max, lv_min, lv_max)
            self._frames += 1
            self._records += count
            self._raw += len(data)

    def flush(self, timeout: float | None = None) -> bool:
        """Every appended frame is in the kernel already (and fsynced with ``fsync=True``)."""
        return True

    def close(self) -> None:
        """Close the segment and release the writer lock (idempotent)."""
        with self._lock:
            writer, self._writer = self._writer, None
            if writer is not None:
                writer.close()
            if self._store_lock is not None:
                self._store_lock.release()
                self._store_lock = None

    def after_fork_in_child(self) -> None:
        # The lock belongs to the parent's open file; two processes appending to one
        # segment would interleave frames, so the child's batches fail (and are counted).
        self._lock = threading.Lock()
        self._writer = None
        self._forked = True

    def stats(self) -> dict[str, Any]:
        writer = self._writer
        return {
            "frames": self._frames,
            "records": self._records,
            "raw_bytes": self._raw,
            "torn_bytes_recovered": writer.torn_bytes if writer else 0,
            "segments_deleted": writer.segments_deleted if writer else 0,
            "frames_undone": writer.frames_undone if writer else 0,
            "index_errors": writer.index_errors if writer else 0,
        }

    @property
    def torn_paths(self) -> list[Path]:
        """Files the torn tails found at open were moved to."""
        return list(self._writer.torn_paths) if self._writer else []

    # -- reader side -----------------------------------------------------------
    @property
    def frames_decompressed(self) -> int:
        """How many frame payloads this store object has decompressed so far."""
        return self._reader.frames_decompressed

    def query(
        self,
        since: Timestamp | None = None,
        until: Timestamp | None = None,
        level: int | str | None = None,
        logger: str | None = None,
        where: Mapping[str, Any] | None = None,
        contains: str | None = None,
        limit: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Matching records as dicts, oldest segment first, in append order inside one.

        ``since``/``until`` (inclusive) are datetimes or epoch seconds; ``level``
        is a minimum; ``logger`` matches the name and its ``.``-children;
        ``where`` compares fields for equality; ``contains`` is a substring of
        the JSON line. Frames whose header excludes them are not decompressed.
        """
        query = Query.build(since, until, level, logger, where, contains)
        for n, (obj, _) in enumerate(self._reader.scan(query)):
            if limit is not None and n >= limit:
                return
            yield obj

    def scan(self, query: Query) -> Iterator[tuple[dict[str, Any], bytes]]:
        """Like ``query`` with a built ``Query``; yields ``(record, json_line)``."""
        return self._reader.scan(query)

    def last(
        self, count: int, query: Query | None = None, before: Position | None = None
    ) -> list[tuple[dict[str, Any], bytes]]:
        """The last ``count`` matching records (before ``before``), oldest first."""
        q = query or Query()
        return self._reader.last(count, q, before or self._reader.end_position())

    def end_position(self) -> Position:
        """Where the complete frames end now (a start point for ``follow``)."""
        return self._reader.end_position()

    def follow(
        self,
        stop: threading.Event,
        query: Query | None = None,
        start: Position | None = None,
        poll: float = 0.2,
    ) -> Iterator[tuple[dict[str, Any], bytes]]:
        """Records of frames completed after ``start`` (default: now), until ``stop``."""
        return self._reader.follow(
            query or Query(), start or self._reader.end_position(), stop, poll
        )

    def summary(self) -> dict[str, Any]:
        """Records, segments, compressed and raw bytes, ratio, time span — from headers only."""
        records = raw = compressed = segments = frames = 0
        ts_min: int | None = None
        ts_max: int | None = None
        for _, infos, size in self._reader.segment_frames():
            segments += 1
            compressed += size
            frames += len(infos)
            for info in infos:
                records += info.count
                raw += info.raw_len
                ts_min = info.ts_min if ts_min is None else min(ts_min, info.ts_min)
                ts_max = info.ts_max if ts_max is None else max(ts_max, info.ts_max)
        return {
            "records": records,
            "frames": frames,
            "segments": segments,
            "compressed_bytes": compressed,
            "raw_bytes": raw,
            "ratio": round(raw / compressed, 2) if compressed else None,
            "first_ts_ns": ts_min,
            "last_ts_ns": ts_max,
        }
