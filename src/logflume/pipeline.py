"""The bounded queue, the single writer thread, backpressure and the flush barrier.

Callers append a small tuple to a deque under a short lock (no I/O, no
allocation beyond the tuple). One writer thread takes batches, builds
``Record`` objects, serializes each once and hands the batch to every sink.

Flush barrier: every record ever accepted has a position ``p`` (1, 2, ...).
Records leave the queue only from the front, taken by the writer or dropped
by ``drop_oldest``, so "``removed >= p``" means record ``p`` is no longer
queued. ``flush()`` notes the current position and waits until the writer has
written everything up to it and flushed every sink.
"""

from __future__ import annotations

import atexit
import contextlib
import operator
import os
import sys
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from types import CodeType
from typing import TYPE_CHECKING, Any, Literal

from ._record import INFO, Record, parse_level
from .errors import ConfigurationError
from .formatting import build_dict, encode, exception_dict
from .sinks.base import Sink, sink_name

if TYPE_CHECKING:
    import asyncio

Policy = Literal["block", "drop_newest", "drop_oldest"]
POLICIES: tuple[str, ...] = ("block", "drop_newest", "drop_oldest")

# Queue item: (ts_ns, level, logger, msg, args, context, fields, exc, src, nbytes)
_Item = tuple[int, int, str, Any, tuple[Any, ...], Any, Any, Any, Any, int]

_FIXED_ITEM_BYTES = 160  # tuple + dict + record overhead, per queued record
_FIELD_BYTES = 64
_NO_CONTEXT: dict[str, Any] = {}
_NBYTES = operator.itemgetter(9)


REDACTED = "[REDACTED]"
DEFAULT_REDACT_FIELDS = frozenset(
    {
        "password",
        "passwd",
        "secret",
        "token",
        "api_key",
        "apikey",
        "authorization",
        "access_token",
        "refresh_token",
        "client_secret",
        "private_key",
        "cookie",
    }
)


def _redacted(values: Any, names: frozenset[str]) -> Any:
    if names.isdisjoint(values):
        return values
    return {k: (REDACTED if k in names else v) for k, v in values.items()}


class _Waiter:
    """One flush() or aflush() caller waiting for the writer to pass ``target``."""

    __slots__ = ("callback", "deadline", "event", "ok", "target")

    def __init__(
        self, target: int, deadline: float | None, callback: Callable[[bool], None] | None
    ) -> None:
        self.target = target
        self.deadline = deadline
        self.event = threading.Event()
        self.ok = False
        self.callback = callback

    def resolve(self, ok: bool) -> None:
        self.ok = ok
        self.event.set()
        if self.callback is not None:
            with contextlib.suppress(RuntimeError):  # the waiting event loop is already closed
                self.callback(ok)


class _SinkState:
    """Counters and error-reporting state of one sink."""

    __slots__ = (
        "errors",
        "failed",
        "last_error",
        "level",
        "name",
        "reported_at",
        "retries",
        "sink",
        "written",
    )

    def __init__(self, sink: Sink, name: str) -> None:
        self.sink = sink
        self.name = name
        level = getattr(sink, "level", None)
        self.level = parse_level(level) if level is not None else 0
        self.retries = int(getattr(sink, "pipeline_retries", 0) or 0)
        self.written = 0
        self.failed = 0
        self.errors = 0
        self.last_error: str | None = None
        self.reported_at: float | None = None


_ERROR_REPORT_INTERVAL = 60.0


class Pipeline:
    """Queue + writer thread delivering records to sinks. Usually built by ``configure()``.

    Fields (bound or per call) named in ``redact_fields`` are written as
    ``"[REDACTED]"`` in every sink; pass ``redact_fields=()`` to turn that off.

    ``policy`` decides what happens when the queue is full (``max_queue_records``
    records or about ``max_queue_bytes`` bytes): ``"block"`` waits up to
    ``block_timeout`` seconds for room and then drops the record; ``"drop_newest"``
    drops the record being logged; ``"drop_oldest"`` drops the oldest queued one.
    Every drop is counted in ``stats()``.
    """

    def __init__(
        self,
        sinks: Iterable[Sink],
        *,
        level: int | str = INFO,
        max_queue_records: int = 100_000,
        max_queue_bytes: int = 64 * 1024 * 1024,
        policy: Policy = "block",
        block_timeout: float = 1.0,
        batch_max_records: int = 2048,
        batch_max_wait: float = 0.005,
        max_record_bytes: int = 65536,
        capture_source: bool = False,
        redact_fields: Iterable[str] = DEFAULT_REDACT_FIELDS,
    ) -> None:
        if policy not in POLICIES:
            raise ConfigurationError(f"policy must be one of {', '.join(POLICIES)}, got {policy!r}")
        for opt, val, low in (
            ("max_queue_records", max_queue_records, 1),
            ("max_queue_bytes", max_queue_bytes, 1024),
            ("batch_max_records", batch_max_records, 1),
            ("max_record_bytes", max_record_bytes, 1024),
        ):
            if not isinstance(val, int) or val < low:
                raise ConfigurationError(f"{opt} must be an int >= {low}, got {val!r}")
        if block_timeout < 0 or batch_max_wait < 0:
            raise ConfigurationError("block_timeout and batch_max_wait must be >= 0 seconds")
        try:
            self.level = parse_level(level)
        except ValueError as exc:
            raise ConfigurationError(str(exc)) from None
        self.policy: Policy = policy
        self.max_queue_records = max_queue_records
        self.max_queue_bytes = max_queue_bytes
        self.block_timeout = block_timeout
        self.batch_max_records = batch_max_records
        self.batch_max_wait = batch_max_wait
        self.max_record_bytes = max_record_bytes
        self.capture_source = capture_source
        if isinstance(redact_fields, str):
            raise ConfigurationError(
                "redact_fields must be a collection of field names, not a single string"
            )
        self.redact_fields = frozenset(redact_fields)
        sink_list = list(sinks)
        for sink in sink_list:
            if not callable(getattr(sink, "write_batch", None)):
                raise ConfigurationError(
                    f"{sink!r} is not a sink: it needs write_batch(), flush() and close()"
                )
        self._states = self._make_states(sink_list)
        self._src_cache: dict[tuple[CodeType, int], tuple[str, int, str]] = {}
        self._init_runtime()
        _PIPELINES.add(self)

    @staticmethod
    def _make_states(sinks: list[Sink]) -> list[_SinkState]:
        states: list[_SinkState] = []
        seen: dict[str, int] = {}
        for sink in sinks:
            name = sink_name(sink)
            if name in seen:
                seen[name] += 1
                name = f"{name}#{seen[name]}"
            else:
                seen[name] = 1
            states.append(_SinkState(sink, name))
        return states

    def _init_runtime(self) -> None:
        """Fresh lock, queue, counters and writer thread (at start and in a forked child)."""
        self._lock = threading.Lock()
        self._not_full = threading.Condition(self._lock)
        self._wake = threading.Event()
        self._urgent = threading.Event()
        self._queue: deque[_Item] = deque()
        self._accepted = 0  # records ever put in the queue
        self._bytes_in = 0
        self._bytes_out = 0  # written by the writer thread only
        self._bytes_dropped = 0
        self._blocked = 0
        self._idle = False
        self._closed = False
        self._stopping = False
        self._waiters: list[_Waiter] = []
        self._dropped = {"queue_full": 0, "block_timeout": 0, "oldest": 0, "closed": 0}
        self._internal_errors = 0
        self._processed = 0
        self._batches = 0
        self._src_hits = 0
        self._src_misses = 0
        self._writer_ident: int | None = None
        self._writer = threading.Thread(target=self._run, name="logflume-writer", daemon=True)
        self._writer.start()

    # --- caller side ----------------------------------------------------------------

    def emit(
        self,
        level: int,
        logger: str,
        msg: Any,
        args: tuple[Any, ...],
        context: Any,
        fields: Any,
        exc: Any,
        src: Any,
    ) -> None:
        """Queue one record. Never raises, never waits on I/O (``block`` waits for room)."""
        try:
            nbytes = _FIXED_ITEM_BYTES + (len(msg) if type(msg) is str else 64)
            if fields:
                nbytes += _FIELD_BYTES * len(fields)
                for value in fields.values():
                    if type(value) is str:
                        nbytes += len(value)
            self._put((time.time_ns(), level, logger, msg, args, context, fields, exc, src, nbytes))
        except Exception:
            self._internal_errors += 1

    def emit_at(
        self,
        ts_ns: int,
        level: int,
        logger: str,
        msg: str,
        fields: dict[str, Any],
        exc: Any = None,
        src: Any = None,
    ) -> None:
        """Queue a record built elsewhere (the stdlib bridge): explicit time, no context."""
        if level < self.level:
            return
        try:
            nbytes = _FIXED_ITEM_BYTES + len(msg) + _FIELD_BYTES * len(fields)
            self._put((ts_ns, level, logger, msg, (), _NO_CONTEXT, fields, exc, src, nbytes))
        except Exception:
            self._internal_errors += 1

    def _put(self, item: _Item) -> None:
        nbytes = item[9]
        wake = False
        with self._lock:
            queue = self._queue
            if (
                len(queue) >= self.max_queue_records
                or self._bytes_in - self._bytes_out - self._bytes_dropped + nbytes
                > self.max_queue_bytes
            ) and queue:
                if not self._make_room(nbytes):
                    return
                queue = self._queue
            elif self._closed:
                self._dropped["closed"] += 1
                return
            queue.append(item)
            self._accepted += 1
            self._bytes_in += nbytes
            if self._idle:
                self._idle = False
                wake = True
        if wake:
            self._wake.set()

    def _make_room(self, nbytes: int) -> bool:
        """Called with the lock held and the queue full: apply the policy."""
        if self._closed:
            self._dropped["closed"] += 1
            return False
        policy = self.policy
        if policy == "drop_oldest":
            while self._queue and self._is_full(nbytes):
                old = self._queue.popleft()
                self._bytes_dropped += old[9]
                self._dropped["oldest"] += 1
            return True
        if policy == "block" and threading.get_ident() != self._writer_ident:
            deadline = time.monotonic() + self.block_timeout
            self._urgent.set()
            self._wake.set()
            self._blocked += 1
            try:
                while self._is_full(nbytes) and not self._closed:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0 or not self._writer.is_alive():
                        break
                    self._not_full.wait(remaining)
            finally:
                self._blocked -= 1
            if self._closed:
                self._dropped["closed"] += 1
                return False
            if not self._is_full(nbytes):
                return True
            self._dropped["block_timeout"] += 1
            return False
        self._dropped["queue_full"] += 1
        return False

    def _is_full(self, nbytes: int) -> bool:
        queue = self._queue
        return bool(queue) and (
            len(queue) >= self.max_queue_records
            or self._bytes_in - self._bytes_out - self._bytes_dropped + nbytes
            > self.max_queue_bytes
        )

    # --- flush barrier ---------------------------------------------------------------

    def _add_waiter(
        self, timeout: float | None, callback: Callable[[bool], None] | None
    ) -> _Waiter:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            waiter = _Waiter(self._accepted, deadline, callback)
            if not self._writer.is_alive():
                waiter.resolve(self._removed() >= waiter.target and not self._queue)
                return waiter
            self._waiters.append(waiter)
            self._idle = False
        self._urgent.set()
        self._wake.set()
        return waiter

    def _removed(self) -> int:
        return self._accepted - len(self._queue)

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every record logged before this call is written by every sink.

        Returns True once that holds and each sink's ``flush()`` reported success;
        False if ``timeout`` seconds pass first (it never hangs past the timeout).
        Called from a sink on the writer thread it returns False at once.
        """
        if threading.get_ident() == self._writer_ident:
            return False
        waiter = self._add_waiter(timeout, None)
        if not waiter.event.wait(timeout):
            return False
        return waiter.ok

    async def aflush(self, timeout: float | None = None) -> bool:
        """``flush()`` for asyncio: awaits the barrier without blocking the event loop."""
        import asyncio  # here, not at import: the core import stays light

        loop = asyncio.get_running_loop()
        future: asyncio.Future[bool] = loop.create_future()

        def done(ok: bool) -> None:
            loop.call_soon_threadsafe(_set_result, future, ok)

        self._add_waiter(timeout, done)
        try:
            return await asyncio.wait_for(asyncio.shield(future), timeout)
        except TimeoutError:
            return False

    # --- writer side -----------------------------------------------------------------

    def _take(self) -> tuple[Sequence[_Item], int]:
        """With the lock held: the next batch, and how many records have left the queue."""
        queue = self._queue
        if len(queue) <= self.batch_max_records:
            batch: Sequence[_Item] = queue
            self._queue = deque()
        else:
            popleft = queue.popleft
            batch = [popleft() for _ in range(self.batch_max_records)]
        if self._blocked:
            self._not_full.notify_all()
        return batch, self._removed()

    def _run(self) -> None:
        self._writer_ident = threading.get_ident()
        while True:
            with self._lock:
                batch, removed = self._take()
                if not batch and not self._waiters:
                    if self._stopping:
                        break
                    self._idle = True
                    self._wake.clear()
            if batch:
                try:
                    self._process(batch)
                except Exception:  # a bug here must not kill the writer; count the batch
                    self._internal_errors += len(batch)
                self._bytes_out += sum(map(_NBYTES, batch))
            elif not self._waiters:
                self._wake.wait(0.5)
                if self.batch_max_wait and not self._stopping:
                    # Let a burst accumulate into one batch, unless someone waits.
                    self._urgent.wait(self.batch_max_wait)
                self._urgent.clear()
                continue
            if self._waiters:
                self._release_waiters(removed)

    def _release_waiters(self, removed: int) -> None:
        with self._lock:
            ready = [w for w in self._waiters if w.target <= removed]
            if not ready:
                return
            self._waiters = [w for w in self._waiters if w.target > removed]
        deadlines = [w.deadline for w in ready if w.deadline is not None]
        timeout = max(0.0, min(deadlines) - time.monotonic()) if deadlines else None
        ok = self._flush_sinks(timeout)
        for waiter in ready:
            waiter.resolve(ok)

    def _flush_sinks(self, timeout: float | None) -> bool:
        ok = True
        for state in self._states:
            try:
                if state.sink.flush(timeout) is False:
                    ok = False
            except Exception as exc:
                ok = False
                self._note_error(state, exc, "flush")
        return ok

    def _build(self, item: _Item) -> Record:
        ts_ns, level, logger, msg, args, context, fields, exc, src, _ = item
        if type(msg) is not str:
            msg = _to_text(msg)
        if args:
            try:
                msg = msg % args
            except Exception:
                msg = f"{msg} {_safe_repr(args)}"
        exc_dict = None
        if exc is not None:
            exc_dict = exc if isinstance(exc, dict) else exception_dict(exc)
        if src is not None and not isinstance(src[0], str):
            cached = self._src_cache.get(src)
            if cached is not None:
                self._src_hits += 1
            else:
                self._src_misses += 1
                code = src[0]
                cached = (code.co_filename, src[1], code.co_name)
                if len(self._src_cache) < 65536:
                    self._src_cache[src] = cached
            src = cached
        line = encode(
            build_dict(ts_ns, level, logger, msg, context, fields, exc_dict, src),
            self.max_record_bytes,
        )
        return Record(ts_ns, level, logger, msg, context, fields, exc_dict, src, line)

    def _process(self, batch: Sequence[_Item]) -> None:
        records: list[Record] = []
        append = records.append
        max_bytes = self.max_record_bytes
        redact = self.redact_fields
        for item in batch:
            try:
                ts_ns, level, logger, msg, args, context, fields, exc, src, _ = item
                if redact and not (redact.isdisjoint(fields) and redact.isdisjoint(context)):
                    context, fields = _redacted(context, redact), _redacted(fields, redact)
                    item = (ts_ns, level, logger, msg, args, context, fields, exc, src, 0)
                if args or exc is not None or src is not None or type(msg) is not str:
                    append(self._build(item))
                else:  # the common case, inlined: one dict, one orjson call
                    line = encode(build_dict(ts_ns, level, logger, msg, context, fields), max_bytes)
                    append(Record(ts_ns, level, logger, msg, context, fields, None, None, line))
            except Exception:
                self._internal_errors += 1
        self._processed += len(batch)
        self._batches += 1
        for state in self._states:
            chosen = records if not state.level else [r for r in records if r.level >= state.level]
            if chosen:
                self._deliver(state, chosen)

    def _deliver(self, state: _SinkState, records: list[Record]) -> None:
        attempts = 1 + state.retries
        for attempt in range(attempts):
            try:
                state.sink.write_batch(records)
            except Exception as exc:
                self._note_error(state, exc, "write_batch")
                if attempt + 1 < attempts:
                    time.sleep(min(0.05 * 2**attempt, 1.0))
                continue
            state.written += len(records)
            return
        state.failed += len(records)

    def _note_error(self, state: _SinkState, exc: BaseException, what: str) -> None:
        state.errors += 1
        state.last_error = f"{type(exc).__name__}: {exc}"
        now = time.monotonic()
        if state.reported_at is None or now - state.reported_at >= _ERROR_REPORT_INTERVAL:
            later = "" if state.reported_at is None else f" ({state.errors} errors so far)"
            state.reported_at = now
            with contextlib.suppress(Exception):  # no stderr: the counters still say it
                sys.stderr.write(
                    f"logflume: sink {state.name!r} {what} failed: {state.last_error}{later}; "
                    f"failed records are counted in logflume.stats()['sinks'][{state.name!r}] "
                    f"(next report in {_ERROR_REPORT_INTERVAL:.0f}s at most)\n"
                )

    # --- lifecycle ---------------------------------------------------------------------

    @property
    def sinks(self) -> list[Sink]:
        return [state.sink for state in self._states]

    def shutdown(self, timeout: float | None = 5.0) -> bool:
        """Drain the queue, stop the writer and close every sink. Idempotent.

        Returns False if the drain did not finish within ``timeout``; records
        still queued then are counted as dropped (reason ``closed``).
        """
        if self._closed:
            return True
        deadline = None if timeout is None else time.monotonic() + timeout
        drained = self.flush(timeout)
        with self._lock:
            self._closed = True
            self._stopping = True
            self._not_full.notify_all()
        self._wake.set()
        self._urgent.set()
        if threading.get_ident() != self._writer_ident:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            self._writer.join(remaining)
        with self._lock:
            leftover = len(self._queue)
            self._queue.clear()
            self._dropped["closed"] += leftover
        for state in self._states:
            try:
                state.sink.close()
            except Exception as exc:
                self._note_error(state, exc, "close")
        _PIPELINES.discard(self)
        return drained and leftover == 0

    @property
    def closed(self) -> bool:
        return self._closed

    def _after_fork_in_child(self) -> None:
        for state in self._states:
            hook = getattr(state.sink, "after_fork_in_child", None)
            if hook is not None:
                try:
                    hook()
                except Exception as exc:
                    self._note_error(state, exc, "after_fork_in_child")
            state.written = state.failed = state.errors = 0
        closed = self._closed
        self._init_runtime()
        if closed:
            self.shutdown(0)

    def stats(self) -> dict[str, Any]:
        """Counters of this pipeline and of each sink (a snapshot; safe from any thread)."""
        with self._lock:
            queued = len(self._queue)
            dropped = dict(self._dropped)
            accepted = self._accepted
            queued_bytes = self._bytes_in - self._bytes_out - self._bytes_dropped
        sinks: dict[str, Any] = {}
        for state in self._states:
            entry: dict[str, Any] = {
                "written": state.written,
                "failed": state.failed,
                "errors": state.errors,
                "last_error": state.last_error,
            }
            extra = getattr(state.sink, "stats", None)
            if callable(extra):
                try:
                    entry.update(extra())
                except Exception as exc:
                    entry["stats_error"] = repr(exc)
            sinks[state.name] = entry
        return {
            "enqueued": accepted,
            "processed": self._processed,
            # Records a sink gave up on: raised batches, plus what sinks that handle their
            # own errors report as ``lost_records`` (written nowhere, not even a fallback).
            "failed": sum(s.failed for s in self._states)
            + sum(int(e.get("lost_records", 0) or 0) for e in sinks.values()),
            "dropped": sum(dropped.values()),
            "dropped_by_reason": dropped,
            "queued": queued,
            "queued_bytes": max(0, queued_bytes),
            "batches": self._batches,
            "internal_errors": self._internal_errors,
            "policy": self.policy,
            "src_cache": {
                "hits": self._src_hits,
                "misses": self._src_misses,
                "size": len(self._src_cache),
            },
            "sinks": sinks,
        }


def _set_result(future: asyncio.Future[bool], ok: bool) -> None:
    if not future.done():
        future.set_result(ok)


def _to_text(value: Any) -> str:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "backslashreplace")
    try:
        return str(value)
    except Exception:
        return _safe_repr(value)


def _safe_repr(value: Any) -> str:
    try:
        return repr(value)
    except Exception:
        return f"<unrepresentable {type(value).__qualname__}>"


_PIPELINES: weakref.WeakSet[Pipeline] = weakref.WeakSet()


def _reinit_after_fork() -> None:
    for pipeline in list(_PIPELINES):
        pipeline._after_fork_in_child()


def _drain_at_exit() -> None:
    for pipeline in list(_PIPELINES):
        pipeline.shutdown(timeout=float(os.environ.get("LOGFLUME_EXIT_TIMEOUT", "5")))


os.register_at_fork(after_in_child=_reinit_after_fork)
atexit.register(_drain_at_exit)
