"""RotatingFileSink: size/time rotation that never loses or duplicates a record.

Every batch is written under a ``ProcessLock`` (thread lock + ``flock`` on
``<path>.lock``): the sink re-checks, with the lock held, that its descriptor
is still the file at ``path`` (another process may have rotated it) and how
big that file is, rotates if the batch would pass ``max_bytes``, and appends
whole records with ``O_APPEND``. So however many threads and processes share
the path, a rotation happens once per threshold and a record is never split.

Filesystem errors go through ``logflume.fs``: transient ones are retried with
backoff, permanent ones (or exhausted retries) raise an alert and the sink
degrades (keeps the current file, or writes to ``fallback``) and recovers by
itself. Compression runs on a background thread (``_compress``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import functools
import os
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from .._record import Record, parse_level
from ..errors import ConfigurationError
from ..fs.alerts import DEFAULT_ALERT_FILE, Alert, AlertChannel
from ..fs.errors import OperationFailed, is_out_of_space
from ..fs.faults import FaultTracker
from ..fs.lock import ProcessLock
from ..fs.ops import FileOps, OsFileOps, fsync_dir
from ..fs.retry import RetryPolicy, retry_call
from ._backups import BackupSet
from ._compress import BackgroundCompressor, Codec, make_codec
from ._schedule import TzSpec, When, check_when, next_rollover, resolve_tz
from ._signal import RotationSignal
from ._torn import cut_fragment, repair_tail, whole_lines
from .base import Sink

T = TypeVar("T")
MiB = 1024 * 1024


class RotatingFileSink:
    """Append JSON lines to ``path``, rotating to ``path.1`` ... ``path.N`` by size and time.

    - ``max_bytes``: rotate before a write would make the file larger (a single
      record bigger than this gets a file of its own); ``None``: no size limit.
    - ``when``: ``"midnight"``, ``"H"`` or a ``timedelta``, in ``tz`` (``None`` =
      UTC, ``"local"``, or a ``tzinfo``), on the injectable ``clock``.
    - retention: ``backup_count`` files, ``max_total_bytes`` over backups plus
      room for a full active file, ``max_age`` seconds (or a ``timedelta``)
      since a backup was last written; below ``min_free_bytes`` of free space
      the oldest backups are shed (default: ``max_bytes``).
    - ``compress``: ``"gzip"``, ``"zstd"``, ``None`` or a codec; done on a
      background thread, never in ``write_batch``.
    - errors: ``retry_attempts`` retries of transient errors, delays from
      ``retry_base_delay`` doubling; then an alert (``alert_path``, default
      ``ALERT_LOG_ROTATION_FAILED.txt`` beside the log; ``on_alert(Alert)``)
      and degradation: records go to ``fallback`` (default stderr) until the
      file accepts writes again, probed every ``recover_interval`` seconds.
    - events: ``on_rotate(old_path, new_path)`` (called with the rotation lock
      held: keep it short), ``rotation_complete`` / ``wait_rotated()`` /
      ``await wait_rotated_async()``.

    ``write_batch`` is called by the pipeline's writer thread; the sink is
    thread-safe and process-safe (same ``path`` from many processes).

    >>> logflume.configure(sinks=[RotatingFileSink("logs/app.jsonl", max_bytes=50 * MiB,
    ...                                            backup_count=10, compress="gzip")])
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        max_bytes: int | None = 10 * MiB,
        when: When | None = None,
        backup_count: int = 5,
        max_total_bytes: int | None = 60 * MiB,
        max_age: float | dt.timedelta | None = None,
        compress: str | Codec | None = "gzip",
        retry_attempts: int = 3,
        retry_base_delay: float = 0.1,
        alert_path: str | os.PathLike[str] | None = None,
        on_alert: Callable[[Alert], object] | None = None,
        min_free_bytes: int | None = None,
        *,
        tz: TzSpec = None,
        on_rotate: Callable[[str, str], object] | None = None,
        fallback: Sink | None = None,
        fsync: bool = False,
        recover_interval: float = 1.0,
        level: int | str | None = None,
        name: str | None = None,
        mode: int = 0o644,
        clock: Callable[[], float] = time.time,
        ops: FileOps | None = None,
    ) -> None:
        self.path = Path(path)
        self._path = str(self.path)
        _check(
            max_bytes is None or (isinstance(max_bytes, int) and max_bytes >= 1),
            f"max_bytes must be an int >= 1 or None, got {max_bytes!r}",
        )
        _check(
            isinstance(backup_count, int) and backup_count >= 1,
            f"backup_count must be an int >= 1, got {backup_count!r}",
        )
        _check(
            max_total_bytes is None
            or (isinstance(max_total_bytes, int) and max_total_bytes >= (max_bytes or 0)),
            f"max_total_bytes must be None or >= max_bytes ({max_bytes}), got {max_total_bytes!r}",
        )
        _check(recover_interval >= 0, "recover_interval must be >= 0 seconds")
        try:
            self.when = check_when(when)
            self._tz = resolve_tz(tz)
            self.retry_policy = RetryPolicy(retry_attempts, retry_base_delay)
        except ValueError as exc:
            raise ConfigurationError(str(exc)) from None
        _check(
            max_bytes is not None or self.when is not None,
            "give max_bytes, when, or both: otherwise the file never rotates",
        )
        if isinstance(max_age, dt.timedelta):
            max_age = max_age.total_seconds()
        _check(max_age is None or max_age > 0, f"max_age must be > 0 seconds, got {max_age!r}")
        self.max_bytes = max_bytes
        self.backup_count = backup_count
        self.max_total_bytes = max_total_bytes
        self.max_age = max_age
        self.min_free_bytes = max_bytes or 10 * MiB if min_free_bytes is None else min_free_bytes
        self.fsync = fsync
        self.recover_interval = recover_interval
        self.level = parse_level(level) if level is not None else None
        self.name = name or f"rotating:{self.path}"
        self.mode = mode
        self.on_rotate = on_rotate
        self.clock = clock
        self._ops: FileOps = ops or OsFileOps()
        if fallback is None:
            from .stream import StreamSink

            fallback = StreamSink("stderr", format="json", name="rotating-fallback")
        self.fallback: Sink = fallback
        self._codec = make_codec(compress)
        self._lock = ProcessLock(f"{self._path}.lock")
        self._alerts = AlertChannel(
            alert_path if alert_path is not None else self.path.parent / DEFAULT_ALERT_FILE,
            on_alert,
        )
        self._backups = BackupSet(self.path, self._ops, self._run)
        self._compressor = (
            None
            if self._codec is None
            else BackgroundCompressor(
                self.path,
                self._backups,
                self._lock,
                self._codec,
                self._ops,
                self._run,
                self._compress_failed,
            )
        )
        self._signal = RotationSignal()
        self.rotation_complete = self._signal.event
        self._fd: int | None = None
        self._id: tuple[int, int] | None = None  # (st_dev, st_ino) of the open file
        self._rollover_at: float | None = None
        self._faults = FaultTracker(self._alerts, self.name, recover_interval)
        self._torn_tail = False
        self._closed = False
        self._retries_lock = threading.Lock()
        self._counts = dict.fromkeys(
            (
                "records",
                "bytes",
                "rotations",
                "reopened",
                "retries",
                "rotation_failures",
                "retention_failures",
                "fallback_records",
                "lost_records",
                "oversize_records",
                "torn_repaired",
                "shed_backups",
                "deleted_backups",
                "low_space_warnings",
                "callback_errors",
                "compacted",
            ),
            0,
        )
        self._start()

    # --- setup ------------------------------------------------------------------------

    def _start(self) -> None:
        with self._lock:
            try:
                self._ensure_current(self.retry_policy)
            except OperationFailed as failure:
                self._faults.fail("write", failure)
            try:
                self._counts["compacted"] += self._backups.compact()
            except OperationFailed as failure:
                self._faults.fail("rotate", failure)
        if self._compressor is not None:
            self._compressor.notify()  # leftovers from an earlier run or a crash

    def _run(
        self, operation: str, path: str, fn: Callable[[], T], policy: RetryPolicy | None = None
    ) -> T:
        def count(exc: OSError, retry: int, delay: float) -> None:
            # The writer thread and the compressor thread both retry through here.
            with self._retries_lock:
                self._counts["retries"] += 1

        return retry_call(
            fn,
            operation=operation,
            path=path,
            policy=policy or self.retry_policy,
            sleep=self._ops.sleep,
            on_retry=count,
        )

    def _ensure_current(self, policy: RetryPolicy) -> None:
        """With the lock held: make ``_fd`` the file now at ``path`` (reopen if rotated away)."""
        try:
            st = self._ops.stat(self._path)
        except OSError:
            st = None
        if self._fd is not None and st is not None and (st.st_dev, st.st_ino) == self._id:
            return
        if self._fd is not None:
            self._close_fd()
            if st is not None:
                self._counts["reopened"] += 1  # another process rotated it
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC

        def open_file() -> int:
            try:
                return self._ops.open(self._path, flags, self.mode)
            except FileNotFoundError:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                return self._ops.open(self._path, flags, self.mode)

        fd = self._run("open", self._path, open_file, policy)
        st = self._ops.fstat(fd)
        self._fd, self._id = fd, (st.st_dev, st.st_ino)
        if st.st_size:
            repaired = repair_tail(self._ops, self._path, fd, st.st_size)
            if repaired is None:
                self._torn_tail = True
            elif repaired:
                self._counts["torn_repaired"] += 1
        if self.when is not None:
            start = st.st_mtime if st.st_size else self.clock()
            self._rollover_at = next_rollover(self.when, start, self._tz)

    # --- the write path ---------------------------------------------------------------

    def write_batch(self, records: Sequence[Record]) -> None:
        """Append ``records`` (rotating as needed); what the file refuses goes to ``fallback``.

        Never raises for filesystem errors: they are retried, alerted and
        counted. Blocks the writer thread for retry backoff at most
        ``retry_attempts`` times per failing call.
        """
        if not records:
            return
        written = 0
        if not self._closed:
            written = self._write_primary([r.line for r in records])
        if written < len(records):
            self._to_fallback(records[written:])

    def _write_primary(self, lines: list[bytes]) -> int:
        probing = self._faults.failing("write")
        if probing and not self._faults.may_try("write"):
            return 0
        policy = self.retry_policy.without_retries() if probing else self.retry_policy
        with self._lock:
            try:
                self._ensure_current(policy)
            except OperationFailed as failure:
                self._faults.fail("write", failure)
                return 0
            done = self._write_lines(lines, policy)
            if self.fsync and done and self._fd is not None:
                try:
                    self._run("fsync", self._path, functools.partial(self._ops.fsync, self._fd))
                except OperationFailed as failure:
                    self._faults.fail("write", failure)
        return done

    def _write_lines(self, lines: list[bytes], policy: RetryPolicy) -> int:
        """With the lock held: write ``lines`` in chunks that fit, rotating between them."""
        i, n = 0, len(lines)
        size = self._size()
        while i < n:
            if self._due_by_time():
                if not size:  # nothing to rotate yet: just move the boundary
                    self._rollover_at = next_rollover(self.when, self.clock(), self._tz)  # type: ignore[arg-type]
                elif self._rotate("time"):
                    if self._fd is None:
                        return i
                    size = 0
            room = self.max_bytes - size if self.max_bytes is not None else None
            j, chunk = i, 0
            while j < n and (room is None or chunk + len(lines[j]) <= room):
                chunk += len(lines[j])
                j += 1
            if j == i:  # the next record does not fit
                if size and self._rotate("size"):
                    if self._fd is None:
                        return i
                    size = 0
                    continue
                if size:  # rotation failed or deferred: keep the current file (degraded)
                    j = n
                else:
                    j = i + 1
                    self._counts["oversize_records"] += 1
            wrote = self._write_chunk(lines[i:j], policy)
            if wrote < j - i:
                return i + wrote
            i = j
            size = self._size()
        return i

    def _size(self) -> int:
        assert self._fd is not None
        return self._ops.fstat(self._fd).st_size

    def _due_by_time(self) -> bool:
        return self._rollover_at is not None and self.clock() >= self._rollover_at

    def _write_chunk(self, lines: list[bytes], policy: RetryPolicy) -> int:
        """Write whole lines; on failure repair a torn line and return how many landed."""
        fd = self._fd
        assert fd is not None
        prefix = b"\n" if self._torn_tail else b""
        data = prefix + b"".join(lines)
        done, failure = self._write_bytes(fd, data, policy)
        if failure is None:
            self._torn_tail = False
            self._counts["records"] += len(lines)
            self._counts["bytes"] += len(data)
            self._faults.recovered("write")
            return len(lines)
        landed = max(0, done - len(prefix))
        complete, end = whole_lines(lines, landed)
        if done > len(prefix):
            self._torn_tail = False
        if landed > end:  # a line was cut
            if cut_fragment(self._ops, fd, landed - end):
                self._counts["torn_repaired"] += 1
            else:
                self._torn_tail = True
        self._counts["records"] += complete
        self._counts["bytes"] += end
        self._close_fd()
        self._faults.fail("write", failure)
        return complete

    def _write_bytes(
        self, fd: int, data: bytes, policy: RetryPolicy
    ) -> tuple[int, OperationFailed | None]:
        view = memoryview(data)
        done = 0
        while done < len(view):
            try:
                n = self._run(
                    "write", self._path, functools.partial(self._ops.write, fd, view[done:]), policy
                )
            except OperationFailed as failure:
                if is_out_of_space(failure) and self._shed_one("write: out of space"):
                    continue
                return done, failure
            if n <= 0:
                return done, OperationFailed(
                    "write", self._path, errno.EIO, "write made no progress", 1
                )
            done += n
        return done, None

    def _to_fallback(self, records: Sequence[Record]) -> None:
        try:
            self.fallback.write_batch(records)
        except Exception:
            self._counts["lost_records"] += len(records)
        else:
            self._counts["fallback_records"] += len(records)

    # --- rotation ---------------------------------------------------------------------

    def _rotate(self, reason: str) -> bool:
        """With the lock held: shift backups, reopen, apply retention. False if deferred."""
        if not self._faults.may_try("rotate"):
            return False
        try:
            if self._faults.failing("rotate"):
                self._counts["compacted"] += self._backups.compact()
            deleted = self._backups.shift(self._path, self.backup_count)
        except OperationFailed as failure:
            self._counts["rotation_failures"] += 1
            self._faults.fail("rotate", failure)
            return False
        self._faults.recovered("rotate")
        self._counts["rotations"] += 1
        self._counts["deleted_backups"] += len(deleted)
        if self.fsync and self._fd is not None:
            with contextlib.suppress(OSError):
                self._ops.fsync(self._fd)
        self._close_fd()
        try:
            self._ensure_current(self.retry_policy)
        except OperationFailed as failure:
            self._faults.fail("write", failure)
        self._apply_retention()
        fsync_dir(self._ops, str(self.path.parent))
        if self.when is not None:
            self._rollover_at = next_rollover(self.when, self.clock(), self._tz)
        if self._compressor is not None:
            self._compressor.notify()
        if self.on_rotate is not None:
            try:
                self.on_rotate(self._path, self._backups.name(1))
            except Exception:
                self._counts["callback_errors"] += 1
        self._signal.fire()
        return True

    def _apply_retention(self) -> None:
        try:
            removed = self._backups.prune(
                max_total_bytes=self.max_total_bytes,
                reserve=self.max_bytes or 0,
                max_age=self.max_age,
                now=self.clock(),
            )
            self._counts["deleted_backups"] += len(removed)
            free = self._ops.free_bytes(str(self.path.parent))
            if free < self.min_free_bytes:
                self._counts["low_space_warnings"] += 1
                self._alerts.emit(
                    Alert(
                        time.time(),
                        self.name,
                        "free_space",
                        self._path,
                        None,
                        f"{free} bytes free, below min_free_bytes="
                        f"{self.min_free_bytes}: shedding oldest backups",
                        severity="warning",
                    )
                )
                while free < self.min_free_bytes and self._shed_one("low free space"):
                    free = self._ops.free_bytes(str(self.path.parent))
        except OperationFailed as failure:
            self._counts["retention_failures"] += 1
            self._faults.fail("retention", failure)
        except OSError:
            self._counts["retention_failures"] += 1

    def _shed_one(self, why: str) -> bool:
        try:
            shed = self._backups.shed_oldest()
        except OSError:
            return False
        self._counts["shed_backups"] += len(shed)
        return bool(shed)

    # --- faults -----------------------------------------------------------------------

    def _compress_failed(self, failure: OperationFailed) -> None:
        self._alerts.emit(Alert.from_failure(self.name, failure))

    def _close_fd(self) -> None:
        fd, self._fd, self._id = self._fd, None, None
        if fd is not None:
            with contextlib.suppress(OSError):
                self._ops.close(fd)

    # --- protocol, events, stats ----------------------------------------------------

    def flush(self, timeout: float | None = None) -> bool:
        """Writes reach the kernel in ``write_batch``; with ``fsync=True`` they are synced there.

        Does not wait for background compression (see ``wait_compressed``).
        """
        return True

    def wait_compressed(self, timeout: float | None = None) -> bool:
        """Block until the compressor has nothing queued or running; False after ``timeout``."""
        return self._compressor is None or self._compressor.wait_idle(timeout)

    def wait_rotated(self, timeout: float | None = None) -> bool:
        """Block until a rotation this process made has completed and was not reported yet."""
        return self._signal.wait(timeout)

    async def wait_rotated_async(self, timeout: float | None = None) -> bool:
        """``wait_rotated`` for asyncio, without blocking the event loop."""
        return await self._signal.wait_async(timeout)

    def close(self, timeout: float | None = 10.0) -> None:
        """Close the file; let pending compression finish for up to ``timeout`` seconds."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self.fsync and self._fd is not None:
                with contextlib.suppress(OSError):
                    self._ops.fsync(self._fd)
            self._close_fd()
        if self._compressor is not None:
            self._compressor.close(timeout)
        self._lock.close()

    def after_fork_in_child(self) -> None:
        """Fresh locks and compressor thread in a forked child (the file stays open)."""
        self._retries_lock = threading.Lock()
        self._lock.after_fork_in_child()
        self._alerts.after_fork_in_child()
        self._signal.reset_after_fork()
        if self._compressor is not None:
            self._compressor.after_fork_in_child()

    def stats(self) -> dict[str, Any]:
        """Counters (records, rotations, retries, failures, fallback/lost records, alerts...)."""
        out: dict[str, Any] = dict(self._counts)
        out.update(self._alerts.stats())
        if self._compressor is not None:
            out.update(self._compressor.stats())
        out["lock_failures"] = self._lock.failures
        out["write_failures"] = self._faults.failures.get("write", 0)
        out["recoveries"] = self._faults.recoveries
        out["degraded"] = self._faults.areas()
        return out


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ConfigurationError(message)
