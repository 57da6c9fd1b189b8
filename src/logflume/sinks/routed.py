"""RoutedFileSink: many JSON-lines files by category and level, with bounded buffers and handles."""

from __future__ import annotations

import contextlib
import errno
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

from .._record import ERROR, WARNING, Record, level_name, parse_level
from ..errors import ConfigurationError, SinkOpenError
from ..fs.alerts import Alert, AlertChannel
from ..fs.errors import OperationFailed
from ..fs.handle_pool import HandlePool, Opener
from ..fs.retry import RetryPolicy, retry_call
from ..fs.write import write_all
from ..routing import Period, RouteKey, Router, confine, module_of
from ._routed_rotate import RotatingFiles

DEFAULT_LEVEL_FILES: Mapping[str, str] = {
    "error": "{date}/error.jsonl",
    "warning": "{date}/warning.jsonl",
}

_REPORT_INTERVAL = 60.0
_SRC_CACHE_MAX = 65536
Writer = Callable[[int, bytes], int]


class _FileBuffer:
    """Lines waiting for one file. ``io_lock`` keeps that file's writes in order."""

    __slots__ = (
        "chunks",
        "io_lock",
        "nbytes",
        "path",
        "pending",
        "records",
        "since",
        "sync_pending",
        "top_level",
    )

    def __init__(self, path: str) -> None:
        self.path = path
        self.chunks: list[bytes] = []  # one joined chunk per batch
        self.pending: list[bytes] = []  # lines of the batch being routed
        self.nbytes = 0
        self.records = 0
        self.top_level = 0
        self.since = 0.0
        self.sync_pending = False
        self.io_lock = threading.Lock()


class RoutedFileSink:
    """Route records into many files under ``root``: by category, with level-file copies.

    Each record goes to ``root/template`` (default ``{date}/{category}.jsonl``;
    placeholders ``{date} {hour} {category} {level} {service}``) and, when its
    level reaches a key of ``level_files``, also to that level file (default:
    ``{date}/error.jsonl`` and ``{date}/warning.jsonl``). The category is the
    logger name (its first ``category_depth`` dotted parts) or, with
    ``category_from="tenant"``, that record field. Category values are
    sanitized: whatever they contain, files land under ``root``.

    Writes are buffered per file and written as one ``write`` per file when a
    buffer is ``flush_interval`` seconds old (a background thread), when
    ``flush()`` is called, or at the end of the batch with
    ``flush_interval=0``. Buffers holding a record whose level is in
    ``fsync_levels`` are written and fsynced at the end of the batch. All
    buffers together hold at most ``max_buffer_bytes``: when full, the sink
    writes buffers in priority order (errors, warnings, then the largest) before
    taking more, so a slow disk slows the pipeline (its backpressure policy
    applies) instead of growing memory.

    At most ``max_open`` files are open at once (a ``HandlePool``: LRU
    eviction, idle handles closed after ``idle_close`` seconds, EMFILE
    recovered). The date comes from ``clock()`` once per batch (UTC unless
    ``utc=False``); when it changes, yesterday's buffers are written and their
    handles closed. ``rotate={...}`` gives each file its own ``RotatingFileSink``
    with those options (at most half the handle budget open at once). With
    ``capture_source=True`` (and ``configure(...,
    capture_source=True)``), each line's ``src`` object also gets ``module``,
    resolved once per code location; the cache's hit rate is in ``stats()``.

    Write errors never reach the application: transient ones (EAGAIN, EBUSY,
    ETXTBSY, EINTR) are retried per ``retry`` (``logflume.fs.RetryPolicy``:
    0.1, 0.2, 0.4 s by default); then, as for permanent errors (ENOSPC,
    EACCES, ...), the records are counted in ``lost_records``, the errno in
    ``errors_by_errno``, an alert goes to ``alert_file`` (if set) and
    ``on_alert``, and a rate-limited line to stderr. EMFILE is handled by the
    handle pool before it becomes an error.

    >>> sink = RoutedFileSink("logs", max_open=32)
    >>> logflume.configure(sinks=[sink])
    >>> logflume.get_logger("shop.cart").error("declined")   # logs/<date>/shop.cart.jsonl
    ...                                                       # + logs/<date>/error.jsonl
    """

    def __init__(
        self,
        root: str | os.PathLike[str] = "logs",
        template: str = "{date}/{category}.jsonl",
        level_files: Mapping[str, str] | None = DEFAULT_LEVEL_FILES,
        *,
        category_from: str = "logger",
        category_depth: int | None = None,
        default_category: str = "default",
        service: str | None = None,
        max_open: int = 64,
        idle_close: float | None = 60.0,
        max_buffer_bytes: int = 32 * 1024 * 1024,
        flush_interval: float = 0.2,
        fsync_levels: Iterable[str | int] = ("error", "critical"),
        rotate: Mapping[str, Any] | None = None,
        capture_source: bool = False,
        level: int | str | None = None,
        name: str | None = None,
        mode: int = 0o644,
        utc: bool = True,
        max_name_len: int = 100,
        retry: RetryPolicy | None = None,
        alert_file: str | os.PathLike[str] | None = None,
        on_alert: Callable[[Alert], object] | None = None,
        clock: Callable[[], float] = time.time,
        opener: Opener | None = None,
        write: Writer = write_all,
    ) -> None:
        if not isinstance(max_buffer_bytes, int) or max_buffer_bytes < 1024:
            raise ConfigurationError(
                f"max_buffer_bytes must be an int >= 1024, got {max_buffer_bytes!r}"
            )
        if not isinstance(max_open, int) or max_open < 1:
            raise ConfigurationError(f"max_open must be an int >= 1, got {max_open!r}")
        if flush_interval < 0 or (idle_close is not None and idle_close < 0):
            raise ConfigurationError("flush_interval and idle_close must be >= 0 seconds")
        try:
            self._sync_levels = frozenset(level_name(parse_level(x)) for x in fsync_levels)
            self.level = parse_level(level) if level is not None else None
        except ValueError as exc:
            raise ConfigurationError(str(exc)) from None
        self._router = Router(
            template,
            level_files,
            category_from=category_from,
            category_depth=category_depth,
            default_category=default_category,
            service=service,
            max_name_len=max_name_len,
            utc=utc,
        )
        self.root = Path(os.path.abspath(root))
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SinkOpenError(
                exc.errno, f"cannot create log root {self.root}: {exc.strerror}", str(self.root)
            ) from exc
        self.name = name or f"routed:{self.root}"
        self.max_buffer_bytes = max_buffer_bytes
        self.flush_interval = flush_interval
        self.capture_source = capture_source
        self._clock = clock
        self._write = write
        self._retry = retry if retry is not None else RetryPolicy()
        # stderr is reported by _report(), rate-limited; the channel keeps file, callback, counts.
        self._alerts = AlertChannel(alert_file, on_alert, stderr=False)
        self._pool = HandlePool(max_open, idle_close, mode=mode, opener=opener)
        # Each rotating file holds two descriptors (the file and its lock file).
        self._rotating = (
            None
            if rotate is None
            else RotatingFiles(rotate, max(1, self._pool.limit // 2), idle_close, mode)
        )
        self._period: Period | None = None
        self._closed = False
        self._reported_at: float | None = None
        self._init_runtime()

    def _init_runtime(self) -> None:
        """Fresh locks, buffers, counters and flusher thread (at start and after fork)."""
        self._lock = threading.Lock()
        self._space = threading.Condition(self._lock)
        self._buffers: dict[str, _FileBuffer] = {}
        self._routes: dict[RouteKey, tuple[_FileBuffer, ...]] = {}
        self._sync_by_level: dict[int, bool] = {}
        self._buffered = 0  # bytes in buffers plus bytes being written
        self._torn: set[str] = set()  # files a failed write left mid-line
        self._lost_at_flush = 0
        self._src_cache: dict[tuple[str, int, str], tuple[bytes, bytes]] = {}
        self._counts: dict[str, int] = {
            "records": 0,
            "bytes": 0,
            "writes": 0,
            "fsyncs": 0,
            "peak_buffered_bytes": 0,
            "cap_flushes": 0,
            "space_waits": 0,
            "retries": 0,
            "lost_records": 0,
            "lost_bytes": 0,
            "rollovers": 0,
            "src_cache_hits": 0,
            "src_cache_misses": 0,
            "src_missing": 0,
        }
        self._cap_flushed = {"error": 0, "warning": 0, "largest": 0}
        self._errors_by_errno: dict[str, int] = {}
        self._last_io_error: str | None = None
        self._stop = threading.Event()
        self._flusher: threading.Thread | None = None
        if self.flush_interval > 0 and not self._closed:
            self._flusher = threading.Thread(
                target=self._flush_loop, daemon=True, name="logflume-routed-flush"
            )
            self._flusher.start()

    # --- writer thread -------------------------------------------------------------

    def write_batch(self, records: Sequence[Record]) -> None:
        """Route ``records`` into per-file buffers (writing some out if the cap is reached)."""
        if self._closed:
            raise RuntimeError(f"{self.name} is closed")
        period = self._router.period(self._clock())
        if period != self._period:
            if self._period is not None:
                self._rollover()
            self._period = period
        urgent: dict[str, _FileBuffer] = {}
        done, total = 0, len(records)
        while done < total:
            with self._lock:
                done, need = self._route(records, done, period, urgent)
            if need:
                self._make_room(need)
        for buf in urgent.values():
            self._drain(buf)
        if self._flusher is None:
            self._drain_all()

    def _route(
        self, records: Sequence[Record], start: int, period: Period, urgent: dict[str, _FileBuffer]
    ) -> tuple[int, int]:
        """With the lock held: buffer records from ``start`` on.

        Returns (next index, 0) when done, or (index, bytes needed) when the next
        record does not fit under the cap.
        """
        routes = self._routes
        key_of = self._router.key
        sync_by_level = self._sync_by_level
        cap = self.max_buffer_bytes
        capture = self.capture_source
        buffered = self._buffered
        now = time.monotonic()
        touched: list[_FileBuffer] = []
        for index in range(start, len(records)):
            record = records[index]
            key = key_of(record)
            targets = routes.get(key)
            if targets is None:
                targets = self._resolve(key, period)
            line = self._with_module(record) if capture else record.line
            size = len(line)
            need = size * len(targets)
            if buffered and buffered + need > cap:
                self._settle(buffered, index - start, touched)
                return index, need
            levelno = record.level
            for buf in targets:
                if not buf.pending:
                    touched.append(buf)
                    if not buf.nbytes:
                        buf.since = now
                buf.pending.append(line)
                buf.nbytes += size
                buf.records += 1
                if levelno > buf.top_level:
                    buf.top_level = levelno
            sync = sync_by_level.get(levelno)
            if sync is None:
                sync = sync_by_level[levelno] = level_name(levelno) in self._sync_levels
            if sync:
                for buf in targets:
                    buf.sync_pending = True
                    urgent[buf.path] = buf
            buffered += need
        self._settle(buffered, len(records) - start, touched)
        return len(records), 0

    def _settle(self, buffered: int, routed: int, touched: list[_FileBuffer]) -> None:
        """With the lock held: one chunk per file for this pass, and the counters.

        Joining copies the lines: a line from orjson keeps a much larger allocation
        alive (about 4 KiB of RSS for a 160-byte line), so lines are not held as is.
        """
        for buf in touched:
            pending = buf.pending
            chunk = b"".join(pending) if len(pending) > 1 else bytes(memoryview(pending[0]))
            buf.chunks.append(chunk)
            buf.pending = []
        self._buffered = buffered
        self._counts["records"] += routed
        if buffered > self._counts["peak_buffered_bytes"]:
            self._counts["peak_buffered_bytes"] = buffered

    def _resolve(self, key: RouteKey, period: Period) -> tuple[_FileBuffer, ...]:
        """With the lock held: the buffers of a route key in this period (cached)."""
        targets = []
        for relative in self._router.paths(key, period):
            path = str(confine(self.root, relative))
            buf = self._buffers.get(path)
            if buf is None:
                buf = self._buffers[path] = _FileBuffer(path)
            targets.append(buf)
        found = tuple(targets)
        if len(self._routes) >= _SRC_CACHE_MAX:
            self._routes.clear()
        self._routes[key] = found
        return found

    def _with_module(self, record: Record) -> bytes:
        """``record.line`` with ``"module"`` added to its ``src`` object (cached per location)."""
        src = record.src
        if src is None:
            self._counts["src_missing"] += 1
            if self._counts["src_missing"] == 1:
                self._report(
                    "capture_source=True but records carry no source location; "
                    "also pass capture_source=True to logflume.configure()"
                )
            return record.line
        entry = self._src_cache.get(src)
        if entry is None:
            self._counts["src_cache_misses"] += 1
            function = orjson.dumps(src[2])
            tail = b',"function":' + function + b"}}\n"
            module = orjson.dumps(module_of(src[0]))
            entry = (tail, b',"function":' + function + b',"module":' + module + b"}}\n")
            if len(self._src_cache) < _SRC_CACHE_MAX:
                self._src_cache[src] = entry
        else:
            self._counts["src_cache_hits"] += 1
        line = record.line
        # src is the last key of a record's JSON; a truncated record has none and stays as is.
        if line.endswith(entry[0]):
            return line[: -len(entry[0])] + entry[1]
        return line

    def _make_room(self, need: int) -> None:
        """Write buffers out, errors first, until ``need`` more bytes fit under the cap."""
        cap = self.max_buffer_bytes
        low = cap // 2
        with self._lock:
            self._counts["cap_flushes"] += 1
            order = self._priority_order()
        for buf, reason in order:
            with self._lock:
                if self._buffered + need <= cap and self._buffered <= low:
                    break
            if self._drain(buf) is not None:
                with self._lock:
                    self._cap_flushed[reason] += 1
        with self._lock:
            # What is left is being written by the flusher thread: wait for it.
            while self._buffered and self._buffered + need > cap:
                self._counts["space_waits"] += 1
                self._space.wait(1.0)

    def _priority_order(self) -> list[tuple[_FileBuffer, str]]:
        """With the lock held: non-empty buffers, errors first, then warnings, then by size."""
        full = sorted((b for b in self._buffers.values() if b.nbytes), key=lambda b: -b.nbytes)
        errors = [(b, "error") for b in full if b.top_level >= ERROR]
        warnings = [(b, "warning") for b in full if WARNING <= b.top_level < ERROR]
        rest = [(b, "largest") for b in full if b.top_level < WARNING]
        return errors + warnings + rest

    def _drain(self, buf: _FileBuffer) -> bool | None:
        """Write out what ``buf`` holds (fsync if asked). None: nothing to do; else success."""
        with buf.io_lock:
            with self._lock:
                chunks, nbytes, count, sync = buf.chunks, buf.nbytes, buf.records, buf.sync_pending
                if not chunks and not sync:
                    return None
                buf.chunks, buf.nbytes, buf.records = [], 0, 0
                buf.top_level, buf.sync_pending = 0, False
            ok = False
            try:
                ok = self._write_out(buf.path, chunks, sync)
            finally:
                with self._lock:
                    self._buffered -= nbytes
                    if ok:
                        self._counts["bytes"] += nbytes
                        self._counts["writes"] += 1 if chunks else 0
                        self._counts["fsyncs"] += 1 if sync else 0
                    else:
                        self._counts["lost_records"] += count
                        self._counts["lost_bytes"] += nbytes
                    self._space.notify_all()
            return ok

    def _write_out(self, path: str, chunks: list[bytes], sync: bool) -> bool:
        """One write (and fsync) of ``chunks`` to ``path``; transient errors retried."""
        data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        if self._rotating is not None:
            # RotatingFileSink retries, alerts and falls back on its own; see its stats.
            self._rotating.write(path, data)
            return True

        def attempt() -> None:
            # After a failed write left part of a line, start on a fresh line.
            torn = path in self._torn
            try:
                with self._pool.handle(path) as fd:
                    if torn and not os.fstat(fd).st_size:  # deleted and started afresh
                        torn = False
                    if data:
                        self._write(fd, b"\n" + data if torn else data)
                    if sync:
                        os.fsync(fd)
            except OSError:
                self._check_torn(path)
                raise
            self._torn.discard(path)

        try:
            retry_call(
                attempt, operation="write", path=path, policy=self._retry, on_retry=self._note_retry
            )
            return True
        except OperationFailed as failure:
            self._note_error(path, failure)
            self._alerts.emit(Alert.from_failure(self.name, failure))
            self._report(
                f"{failure}; {len(data)} bytes not written, "
                "those records are counted in stats()['lost_records']"
            )
            return False

    def _check_torn(self, path: str) -> None:
        """After a failed write: remember ``path`` if it now ends in the middle of a line."""
        try:
            with open(path, "rb") as reader:
                if reader.seek(0, os.SEEK_END):
                    reader.seek(-1, os.SEEK_END)
                    if reader.read(1) != b"\n":
                        self._torn.add(path)
        except FileNotFoundError:
            pass
        except OSError:
            self._torn.add(path)  # cannot tell: an empty line is better than a glued one

    def _note_retry(self, exc: OSError, _retry: int, _delay: float) -> None:
        self._note_error(getattr(exc, "filename", None) or "?", exc)
        with self._lock:
            self._counts["retries"] += 1

    def _note_error(self, path: str, exc: OSError) -> None:
        code = errno.errorcode.get(exc.errno or 0, str(exc.errno))
        with self._lock:
            self._errors_by_errno[code] = self._errors_by_errno.get(code, 0) + 1
            self._last_io_error = f"{path}: {exc}"

    def _rollover(self) -> None:
        """The period changed: write out the old files' buffers and close their handles."""
        self._drain_all()
        self._pool.close_all()
        if self._rotating is not None:
            self._rotating.close_where(lambda _path: True)
        with self._lock:
            self._buffers = {
                p: b for p, b in self._buffers.items() if b.nbytes or b.io_lock.locked()
            }
            self._routes.clear()
            self._counts["rollovers"] += 1

    def _drain_all(self, deadline: float | None = None) -> bool:
        with self._lock:
            order = self._priority_order()
            order += [
                (b, "sync") for b in self._buffers.values() if b.sync_pending and not b.nbytes
            ]
        ok = True
        for buf, _reason in order:
            if deadline is not None and time.monotonic() > deadline:
                return False
            if self._drain(buf) is False:
                ok = False
        return ok

    # --- flusher thread ------------------------------------------------------------

    def _flush_loop(self) -> None:
        stop = self._stop
        while not stop.wait(self.flush_interval / 2):
            try:
                self._tick()
            except Exception as exc:  # never let the thread die: report and go on
                self._report(f"background flush failed: {type(exc).__name__}: {exc}")

    def _tick(self) -> None:
        """Write buffers older than ``flush_interval``; close idle handles; prune buffers."""
        now = time.monotonic()
        with self._lock:
            stale = [
                b
                for b in self._buffers.values()
                if b.nbytes and now - b.since >= self.flush_interval
            ]
        for buf in stale:
            self._drain(buf)
        self._pool.close_idle()
        if self._rotating is not None:
            self._rotating.close_idle()
        with self._lock:
            if len(self._buffers) > 4 * self._pool.max_open:
                self._buffers = {
                    p: b
                    for p, b in self._buffers.items()
                    if b.nbytes or b.sync_pending or b.io_lock.locked()
                }
                self._routes.clear()

    # --- protocol ------------------------------------------------------------------

    def flush(self, timeout: float | None = None) -> bool:
        """Write every buffer out (errors first).

        False on a timeout, or if records were lost (``lost_records`` grew) since
        the previous ``flush()``, here or in an earlier write.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        ok = self._drain_all(deadline)
        with self._lock:
            lost = self._counts["lost_records"]
            ok = ok and lost == self._lost_at_flush
            self._lost_at_flush = lost
        return ok

    def close(self) -> None:
        """Stop the flusher, write every buffer and close every file. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        if self._flusher is not None and self._flusher is not threading.current_thread():
            self._flusher.join(10)
        self._drain_all()
        self._pool.close_all()
        if self._rotating is not None:
            self._rotating.close_where(lambda _path: True)

    def after_fork_in_child(self) -> None:
        """In a forked child: new locks and flusher; the parent's buffered lines stay
        the parent's to write (they are dropped here, not duplicated)."""
        self._pool.after_fork_in_child()
        self._alerts.after_fork_in_child()
        if self._rotating is not None:
            self._rotating.after_fork_in_child()
        self._init_runtime()

    def stats(self) -> dict[str, Any]:
        """Counters: records routed, bytes and writes, buffer cap policy, losses, cache, pool."""
        with self._lock:
            out: dict[str, Any] = dict(self._counts)
            out["buffered_bytes"] = self._buffered
            out["max_buffer_bytes"] = self.max_buffer_bytes
            out["files"] = len(self._buffers)
            out["cap_flushed"] = dict(self._cap_flushed)
            out["errors_by_errno"] = dict(self._errors_by_errno)
            out["last_io_error"] = self._last_io_error
        lookups = out["src_cache_hits"] + out["src_cache_misses"]
        out["src_cache_hit_rate"] = out["src_cache_hits"] / lookups if lookups else None
        out["pool"] = self._pool.stats()
        out.update(self._alerts.stats())
        if self._rotating is not None:
            out["rotate"] = self._rotating.stats()
        return out

    def open_paths(self) -> list[str]:
        """Files with an open handle right now (for tests and diagnostics)."""
        if self._rotating is not None:
            return self._pool.open_paths() + self._rotating.open_paths()
        return self._pool.open_paths()

    def _report(self, message: str) -> None:
        """One line on stderr, at most once a minute."""
        now = time.monotonic()
        if self._reported_at is not None and now - self._reported_at < _REPORT_INTERVAL:
            return
        self._reported_at = now
        with contextlib.suppress(Exception):  # a closed stderr must not break the sink
            sys.stderr.write(f"logflume: {self.name}: {message}\n")
