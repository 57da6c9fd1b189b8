"""LokiSink: push records to Grafana Loki from a sender thread of its own.

``write_batch`` (the pipeline's writer thread) only labels the records and
appends them to a bounded buffer; the sender thread cuts push bodies, sends
them, and when Loki is unreachable spools them to disk, replaying the spool in
order before anything newer once Loki answers again. See docs/sinks/loki.md.
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from ..._record import Record, parse_level
from ...errors import ConfigurationError
from ...fs.alerts import Alert, AlertChannel
from ._deadletter import DeadLetters
from ._labels import Labeler, LabelKey, label_value, sanitize_name
from ._refusal import ORIG_TS, refuse
from ._spool import Spool, SpoolLockedError, adopt_orphans, child_spool_dir
from ._transport import Answer, Transport, auth_headers, push_url
from ._wire import Encoding, Entry, Payload, group, snappy_module

_Pending = tuple[LabelKey, Entry]


class LokiSink:
    """Ship records to Loki's push API in batches, retrying and spooling; lose nothing silently.

    >>> sink = LokiSink("http://127.0.0.1:3100", labels={"service": "shop"},
    ...                 spool_dir="/var/spool/shop-loki")
    >>> logflume.configure(sinks=[sink])

    Labels are ``labels`` plus the values of ``label_fields`` (``"level"``,
    ``"logger"`` or any record field), bounded by ``max_label_values`` per field
    and ``max_streams`` in all. ``flush(timeout)`` returns True once everything
    written before it is accepted by Loki, spooled, or accounted for as
    dead-lettered or dropped.
    """

    def __init__(
        self,
        url: str = "http://127.0.0.1:3100",
        *,
        labels: Mapping[str, Any] | None = None,
        label_fields: Sequence[str] = ("level",),
        encoding: Literal["protobuf", "json"] = "protobuf",
        gzip: bool = True,
        tenant_id: str | None = None,
        auth: tuple[str, str] | str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = 5.0,
        batch_max_records: int = 10_000,
        batch_max_bytes: int = 1_000_000,
        batch_max_wait: float = 1.0,
        max_buffer_bytes: int = 64 * 1024 * 1024,
        spool_dir: str | Path | None = None,
        spool_max_bytes: int = 256 * 1024 * 1024,
        spool_fsync: bool = False,
        structured_metadata_fields: Sequence[str] = (),
        max_label_values: int = 100,
        max_streams: int = 1000,
        restamp_late: bool = True,
        dead_letter_path: str | Path | None = None,
        retry_base_delay: float = 0.5,
        retry_max_delay: float = 30.0,
        retry_after_max: float = 300.0,
        close_timeout: float = 5.0,
        on_alert: Callable[[Alert], object] | None = None,
        level: int | str | None = None,
        name: str | None = None,
    ) -> None:
        if encoding not in ("protobuf", "json"):
            raise ConfigurationError(f"encoding must be 'protobuf' or 'json', not {encoding!r}")
        for option, value in (
            ("batch_max_records", batch_max_records),
            ("batch_max_bytes", batch_max_bytes),
            ("max_buffer_bytes", max_buffer_bytes),
            ("spool_max_bytes", spool_max_bytes),
        ):
            if value < 1:
                raise ConfigurationError(f"{option} must be >= 1, got {value}")
        for option, delay in (
            ("timeout", timeout),
            ("batch_max_wait", batch_max_wait),
            ("retry_base_delay", retry_base_delay),
            ("retry_max_delay", retry_max_delay),
            ("retry_after_max", retry_after_max),
        ):
            if delay < 0:
                raise ConfigurationError(f"{option} must be >= 0, got {delay}")
        if labels is None:
            labels = {"service": "logflume"}
        self.url = push_url(url)
        self.encoding = (
            Encoding.PROTOBUF
            if encoding == "protobuf"
            else (Encoding.JSON_GZIP if gzip else Encoding.JSON)
        )
        self.level = parse_level(level) if level is not None else None
        self.name = name or f"loki:{self.url}"
        self.batch_max_records = batch_max_records
        self.batch_max_bytes = batch_max_bytes
        self.batch_max_wait = batch_max_wait
        self.max_buffer_bytes = max_buffer_bytes
        self.restamp_late = restamp_late
        self.retry_base_delay = retry_base_delay
        self.retry_max_delay = retry_max_delay
        self.retry_after_max = retry_after_max
        self.close_timeout = close_timeout
        if self.encoding is Encoding.PROTOBUF:
            snappy_module()  # MissingDependencyError now, not in the sender thread later
        self._labeler = Labeler(
            labels, label_fields, max_label_values=max_label_values, max_streams=max_streams
        )
        self._metadata_fields = tuple((f, sanitize_name(f)) for f in structured_metadata_fields)
        names = [name for _, name in self._metadata_fields]
        if len(set(names)) != len(names) or ORIG_TS in names:
            raise ConfigurationError(
                f"structured_metadata_fields {tuple(structured_metadata_fields)!r} give the "
                f"names {names!r}: each must be distinct and not {ORIG_TS!r} (set on "
                "re-stamped entries)"
            )
        all_headers = {**auth_headers(auth), **dict(headers or {})}
        if tenant_id:
            all_headers["X-Scope-OrgID"] = tenant_id
        self._transport = Transport(self.url, all_headers, timeout)
        self.alerts = AlertChannel(None, on_alert)
        self._spool_root = Path(spool_dir) if spool_dir is not None else None
        self._spool_max_bytes, self._spool_fsync = spool_max_bytes, spool_fsync
        self._spool: Spool | None = None
        self._adopted: list[Spool] = []  # spools of dead forked processes, replayed first
        self._to_discard: list[Spool] = []  # adopted spools replayed to the end
        self._retired = {"dropped": 0, "torn": 0, "corrupt": 0}  # their counters, kept
        if self._spool_root is not None:
            self._spool = Spool(self._spool_root, spool_max_bytes, fsync=spool_fsync)
            self._adopted = adopt_orphans(self._spool_root, spool_max_bytes, fsync=spool_fsync)
        if dead_letter_path is None and spool_dir is not None:
            dead_letter_path = Path(spool_dir) / "dead-letter.jsonl"
        self._dead = DeadLetters(dead_letter_path)

        self._cond = threading.Condition()
        self._pending: list[_Pending] = []
        self._pending_bytes = 0
        self._pending_start = 0  # seq of _pending[0]
        self._pending_since = 0.0
        self._next_seq = 0
        self._ready: deque[Payload] = deque()
        self._ready_bytes = 0
        self._front: deque[Payload] = deque()  # pieces of a refused batch, sent first
        self._front_origin: tuple[Spool, int] | None = None  # the spool batch pieces came from
        self._busy: Payload | None = None
        self._flush_to = 0
        self._retry_at = 0.0
        self._failures = 0
        self._spool_retry_at = 0.0
        self._spool_failures = 0
        self._encoding: tuple[int, int] | None = None  # (first seq, count) being encoded
        self._error_streak: tuple[int, int] = (0, 0)  # (payload key, sender errors in a row)
        self._stop = False
        self._closed = False
        self._counts: dict[str, int] = dict.fromkeys(
            (
                "pushes",
                "entries_sent",
                "bytes_sent",
                "retries",
                "spooled_batches",
                "spooled_entries",
                "replayed_entries",
                "restamped",
                "dropped",
                "spool_errors",
                "lost_records",
                "refused_pushes",
                "sender_errors",
            ),
            0,
        )
        self.last_retry_delay = 0.0
        self.last_error = ""
        self._sender = self._start_sender()

    def _start_sender(self) -> threading.Thread:
        thread = threading.Thread(target=self._run, name=f"logflume-{self.name}", daemon=True)
        thread.start()
        return thread

    # --- the pipeline's side ------------------------------------------------------------

    def write_batch(self, records: Sequence[Record]) -> None:
        key = self._labeler.key
        fields = self._metadata_fields
        items: list[_Pending] = []
        size = 0
        for record in records:
            line = record.line
            if line.endswith(b"\n"):
                line = line[:-1]
            size += len(line)
            metadata = self._metadata(record) if fields else ()
            ts = record.ts_ns if record.ts_ns > 0 else 0  # Loki has no time before 1970
            items.append((key(record), (ts, line, metadata)))
        with self._cond:
            if self._closed:
                self._counts["lost_records"] += len(items)
                return
            first = not self._pending
            if first:
                self._pending_since = time.monotonic()
            self._pending.extend(items)
            self._pending_bytes += size
            self._next_seq += len(items)
            self._bound_memory()
            if (
                first  # the sender may sleep without a deadline: start the linger clock
                or len(self._pending) >= self.batch_max_records
                or self._pending_bytes >= self.batch_max_bytes
            ):
                self._cond.notify_all()

    def _metadata(self, record: Record) -> tuple[tuple[str, str], ...]:
        pairs = []
        for field, name in self._metadata_fields:
            value = record.fields.get(field)
            if value is None:
                value = record.context.get(field)
            if value is not None:
                pairs.append((name, label_value(value)))
        return tuple(pairs)

    def _bound_memory(self) -> None:
        """With the lock held: drop the oldest unsent entries beyond ``max_buffer_bytes``."""
        while self._pending_bytes + self._ready_bytes > self.max_buffer_bytes:
            if self._ready:
                payload = self._ready.popleft()
                self._ready_bytes -= len(payload.body)
                self._counts["dropped"] += payload.entries
                continue
            excess = self._pending_bytes - self.max_buffer_bytes
            cut = 0
            while cut < len(self._pending) and excess > 0:
                excess -= len(self._pending[cut][1][1])
                cut += 1
            self._pending_bytes -= sum(len(item[1][1]) for item in self._pending[:cut])
            del self._pending[:cut]
            self._pending_start += cut
            self._counts["dropped"] += cut
            break

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every entry written before this call is accepted by Loki, spooled,
        dead-lettered or counted as dropped; False if ``timeout`` passes first."""
        return self._wait(timeout, delivered=False)

    def wait_flushed(self, timeout: float | None = None) -> bool:
        """Same as ``flush``: wait for what was written so far to be delivered or spooled."""
        return self.flush(timeout)

    async def await_flushed(self, timeout: float | None = None) -> bool:
        """``wait_flushed`` for asyncio, without blocking the event loop."""
        import asyncio

        return await asyncio.to_thread(self.flush, timeout)

    def wait_delivered(self, timeout: float | None = None) -> bool:
        """Wait until Loki accepted (or we dead-lettered/dropped) everything written so far,
        spooled batches included; False if ``timeout`` passes first."""
        return self._wait(timeout, delivered=True)

    def _wait(self, timeout: float | None, *, delivered: bool) -> bool:
        """Cut what is pending now, then wait until it is settled (and, if ``delivered``,
        until nothing is in flight, refused-and-split, spooled or left to delete)."""

        def done() -> bool:
            if self._settled() < target:
                return False
            if not delivered:
                return True
            return (
                self._busy is None
                and not self._front
                and not self._spooled()
                and not self._to_discard
            )

        with self._cond:
            target = self._next_seq
            self._flush_to = max(self._flush_to, target)
            self._cond.notify_all()
            return self._cond.wait_for(done, timeout)

    def _settled(self) -> int:
        """With the lock held: every entry with a lower seq is delivered, spooled or gone."""
        floor = self._pending_start if self._pending else self._next_seq
        if self._encoding is not None:
            floor = min(floor, self._encoding[0])
        for payload in (self._busy, *self._front, *self._ready):
            if payload is not None and 0 <= payload.first_seq < floor:
                floor = payload.first_seq
        return floor

    def close(self) -> None:
        """Deliver or spool what is buffered, then stop.

        Waits up to ``close_timeout`` s for delivery, then for a push in flight to end
        (at most the HTTP ``timeout``); what is still only in memory then goes to the
        spool, if there is one. Entries that end up nowhere count in ``lost_records``.
        """
        if self._closed:
            return
        self.flush(self.close_timeout)
        with self._cond:
            self._closed = True
            self._stop = True
            self._cond.notify_all()
        self._sender.join(self.close_timeout + self._transport.timeout + 1.0)
        with self._cond:
            busy = [] if self._busy is None or self._busy in self._front else [self._busy]
            leftovers = [p for p in (*self._front, *busy, *self._ready) if p.first_seq >= 0]
            pending = list(self._pending)
            self._pending.clear()
            self._ready.clear()
            self._front.clear()
            self._pending_bytes = self._ready_bytes = 0
        if self._sender.is_alive():  # stuck in the HTTP client: leave the rest to process exit
            with self._cond:
                self._counts["lost_records"] += len(pending) + sum(p.entries for p in leftovers)
            return
        lost = self._spool_leftovers(leftovers, pending)
        with self._cond:
            self._counts["lost_records"] += lost
        self._discard_retired()
        self._transport.close()
        for spool in (*self._adopted, self._spool):
            if spool is not None:
                spool.close()

    def _spool_leftovers(self, leftovers: list[Payload], pending: list[_Pending]) -> int:
        """At close, with the sender stopped: spool what is only in memory; how many lost."""
        lost = 0
        while pending:
            count, _ = self._batch_size(pending)
            chunk, pending = pending[:count], pending[count:]
            try:
                leftovers.append(Payload.build(group(chunk), self.encoding))
            except Exception:
                lost += len(chunk)
        for payload in leftovers:
            if self._spool is None:
                lost += payload.entries
                continue
            try:
                if self._spool.append(payload):
                    self._counts["spooled_batches"] += 1
                    self._counts["spooled_entries"] += payload.entries
            except OSError:
                lost += payload.entries
        return lost

    def after_fork_in_child(self) -> None:
        """The child keeps the configuration, not the parent's buffers, spool or thread."""
        self._cond = threading.Condition()
        self._pending, self._ready, self._front = [], deque(), deque()
        self._pending_bytes = self._ready_bytes = 0
        self._pending_start = self._next_seq = self._flush_to = 0
        self._busy = None
        self._front_origin = None
        self._retry_at = self._spool_retry_at = 0.0
        self._failures = self._spool_failures = 0
        self._encoding = None
        self._error_streak = (0, 0)
        self._stop = self._closed = False
        self._counts = dict.fromkeys(self._counts, 0)
        for spool in (*self._adopted, self._spool):
            if spool is not None:
                # The parent owns these (their locks, their replay offsets): close our
                # copies of its descriptors so its locks go away with it.
                spool.forget_in_child()
        self._spool, self._adopted, self._to_discard = None, [], []
        if self._spool_root is not None:
            # Our own spool beside the parent's; a later process adopts it if we die
            # with batches in it, as we adopt those of dead siblings now.
            try:
                root, size, fsync = self._spool_root, self._spool_max_bytes, self._spool_fsync
                self._spool = Spool(child_spool_dir(root), size, fsync=fsync)
                self._adopted = adopt_orphans(
                    root, size, fsync=fsync, exclude=child_spool_dir(root)
                )
            except (OSError, SpoolLockedError) as exc:
                self.last_error = f"child spool: {exc}"  # batches wait in memory instead
        self._dead.after_fork_in_child()
        self.alerts.after_fork_in_child()
        old = self._transport
        self._transport = Transport(self.url, old.headers, old.timeout)
        self._sender = self._start_sender()

    def stats(self) -> dict[str, Any]:
        with self._cond:
            out: dict[str, Any] = dict(self._counts)
            out.update(
                buffered_entries=len(self._pending)
                + (self._encoding[1] if self._encoding is not None else 0)
                + sum(p.entries for p in (*self._ready, *self._front)),
                buffered_bytes=self._pending_bytes + self._ready_bytes,
                streams=self._labeler.stream_count,
                label_overflow=self._labeler.overflowed,
                consecutive_failures=self._failures,
                last_retry_delay=self.last_retry_delay,
                last_error=self.last_error,
            )
            adopted, retired = self._adopted, dict(self._retired)
        dead = self._dead.stats()
        out.update(dead)
        out["lost_records"] += dead["dead_letter_unsaved"]  # refused and kept nowhere
        if self._spool is not None:
            spool = self._spool
            out.update(
                spool_batches=spool.batches,
                spool_entries=spool.entries,
                spool_bytes=spool.disk_bytes,
                spool_dropped=spool.dropped_entries
                + retired["dropped"]
                + sum(s.dropped_entries for s in adopted),
                spool_torn_bytes=spool.torn_bytes
                + retired["torn"]
                + sum(s.torn_bytes for s in adopted),
                spool_corrupt_batches=spool.corrupt_batches
                + retired["corrupt"]
                + sum(s.corrupt_batches for s in adopted),
                spool_recovered_entries=spool.recovered_entries,
                spool_offset_errors=spool.offset_errors,
                adopted_spools=len(adopted),
                adopted_entries=sum(s.entries for s in adopted),
            )
            out["dropped"] += out["spool_dropped"]
        out.update(self.alerts.stats())
        return out

    # --- the sender thread --------------------------------------------------------------

    def _run(self) -> None:
        while True:
            if self._to_discard:
                self._discard_retired()
            job = self._next_job()
            if job is None:
                return
            action, payload = job
            try:
                if action == "encode":
                    self._encode()
                    continue
                if payload is None:  # a spool's head, read without holding the lock
                    payload = self._spool_head()
                    if payload is None:
                        continue
                if action == "spool":
                    self._spool_one(payload)
                else:
                    self._send(payload)
            except Exception as exc:  # a bug here must not end delivery
                self._sender_error(payload, exc)

    def _sender_error(self, payload: Payload | None, exc: Exception) -> None:
        """Keep the payload and retry later; the third failure in a row on the same payload
        dead-letters it (its raw body), so one poisonous batch cannot block the rest."""
        self.last_error = f"sender: {type(exc).__name__}: {exc}"
        give_up = False
        if payload is not None:
            key = payload.spool_id if payload.spool_id is not None else id(payload)
            streak = self._error_streak[1] + 1 if self._error_streak[0] == key else 1
            self._error_streak = (key, streak)
            give_up = streak >= 3
        if give_up and payload is not None:
            with contextlib.suppress(Exception):
                self._dead.write_raw(payload, Answer(0, error=self.last_error), self.last_error)
            if payload.spool_id is not None and payload.source is not None:
                with contextlib.suppress(Exception):
                    self._ack(payload.source, payload.spool_id)
        with self._cond:
            self._counts["sender_errors"] += 1
            if payload is not None:
                if give_up:
                    self._done_with(payload)
                else:
                    self._requeue(payload)
            self._retry_at = time.monotonic() + self.retry_base_delay
            self._cond.notify_all()

    def _next_job(self) -> tuple[str, Payload | None] | None:
        """Wait for something to do, or None to stop: ("encode", None) to cut a batch,
        ("spool", payload), ("send", payload), or ("send", None) for the spool's head."""
        with self._cond:
            while True:
                if self._stop:
                    return None
                now = time.monotonic()
                if self._pending and self._cut_due(now):
                    return "encode", None
                wait: float | None = None
                if self._spool is not None and self._ready and self._spool_now():
                    if now >= self._spool_retry_at:
                        return "spool", self._take_ready()
                    wait = self._spool_retry_at - now  # the disk refused lately: not yet
                if self._front or self._ready or self._spooled():
                    if now >= self._retry_at:
                        if self._front:
                            self._busy = self._front[0]
                            return "send", self._front[0]
                        if self._spooled():
                            return "send", None
                        return "send", self._take_ready()
                    later = self._retry_at - now
                    wait = later if wait is None else min(wait, later)
                if self._pending:
                    linger = self._pending_since + self.batch_max_wait - now
                    wait = linger if wait is None else min(wait, linger)
                self._cond.wait(wait)

    def _spool_now(self) -> bool:
        """With the lock held: should in-memory batches go to the spool rather than wait?
        Yes during an outage, behind a spool backlog (so flush() need not wait for the
        replay), and when the buffer is half full."""
        return (
            self._failures > 0
            or self._spooled() > 0
            or self._ready_bytes > self.max_buffer_bytes // 2
        )

    def _spooled(self) -> int:
        """Batches waiting on disk, in our spool and in adopted ones."""
        own = self._spool.batches if self._spool is not None else 0
        return own + sum(spool.batches for spool in self._adopted)

    def _spool_head(self) -> Payload | None:
        """The next spooled batch: adopted spools first (they are older), then ours."""
        while self._adopted:
            head = self._adopted[0].head()
            if head is not None:
                return head
            self._retire_if_empty(self._adopted[0])
            self._discard_retired()
        return self._spool.head() if self._spool is not None else None

    def _ack(self, spool: Spool, spool_id: int) -> None:
        """A spooled batch is done with (may run with the lock held: no deleting here)."""
        spool.ack(spool_id)
        self._retire_if_empty(spool)

    def _retire_if_empty(self, spool: Spool) -> None:
        """An adopted spool replayed to the end leaves the list; deleted by the sender
        outside the lock (``_discard_retired``); its loss counters stay in ``stats()``."""
        if spool is self._spool or spool.batches:
            return
        with self._cond:
            if spool in self._adopted:
                self._adopted = [s for s in self._adopted if s is not spool]
                self._to_discard.append(spool)
                self._retired["dropped"] += spool.dropped_entries
                self._retired["torn"] += spool.torn_bytes
                self._retired["corrupt"] += spool.corrupt_batches

    def _discard_retired(self) -> None:
        with self._cond:
            done = list(self._to_discard)
        for spool in done:
            assert self._spool_root is not None
            spool.discard(self._spool_root)
        with self._cond:
            self._to_discard = [s for s in self._to_discard if s not in done]
            self._cond.notify_all()

    def _take_ready(self) -> Payload:
        payload = self._ready.popleft()
        self._ready_bytes -= len(payload.body)
        self._busy = payload
        return payload

    def _cut_due(self, now: float) -> bool:
        return (
            len(self._pending) >= self.batch_max_records
            or self._pending_bytes >= self.batch_max_bytes
            or now - self._pending_since >= self.batch_max_wait
            or self._flush_to > self._pending_start
        )

    def _encode(self) -> None:
        """Cut the oldest pending entries into one push body (encoded without the lock)."""
        with self._cond:
            count, size = self._batch_size(self._pending)
            chunk = self._pending[:count]
            first_seq = self._pending_start
            del self._pending[:count]
            self._pending_start += count
            self._pending_bytes -= size
            self._pending_since = time.monotonic()
            self._encoding = (first_seq, count)
        try:
            payload: Payload | None = Payload.build(group(chunk), self.encoding, first_seq)
        except Exception as exc:  # cannot happen with valid entries; never kill the sender
            payload = None
            self.last_error = f"encode: {type(exc).__name__}: {exc}"
        with self._cond:
            self._encoding = None
            if payload is None:
                self._counts["sender_errors"] += 1
                self._counts["lost_records"] += len(chunk)
            else:
                self._ready.append(payload)
                self._ready_bytes += len(payload.body)
                self._bound_memory()
            self._cond.notify_all()

    def _batch_size(self, items: list[_Pending]) -> tuple[int, int]:
        """How many of ``items`` make the next batch, and their line bytes."""
        count, size = 0, 0
        for _, entry in items:
            if count and (count >= self.batch_max_records or size >= self.batch_max_bytes):
                break
            count += 1
            size += len(entry[1])
        return count, size

    def _requeue(self, payload: Payload) -> None:
        """With the lock held: put an unsent payload back where it came from."""
        if self._busy is payload:
            self._busy = None
        if payload.spool_id is not None or payload in self._front:
            return  # still in the spool / still first in line
        self._ready.appendleft(payload)
        self._ready_bytes += len(payload.body)

    def _spool_one(self, payload: Payload) -> None:
        assert self._spool is not None
        try:
            stored = self._spool.append(payload)
        except OSError as exc:
            # The batch stays in memory (bounded by max_buffer_bytes); try the disk again
            # later with the same backoff as pushes, alerting once per streak of failures.
            with self._cond:
                self._counts["spool_errors"] += 1
                self._spool_failures += 1
                self._requeue(payload)
                delay = self.retry_base_delay * 2 ** (self._spool_failures - 1)
                self._spool_retry_at = time.monotonic() + min(self.retry_max_delay, delay)
                first = self._spool_failures == 1
                self._cond.notify_all()
            if first:
                self._alert("spool", str(self._spool.directory), exc.errno, str(exc))
            return
        with self._cond:
            self._spool_failures = 0
            self._spool_retry_at = 0.0
            if stored:  # else larger than spool_max_bytes: counted in the spool's drops
                self._counts["spooled_batches"] += 1
                self._counts["spooled_entries"] += payload.entries
            self._busy = None
            self._cond.notify_all()

    def _send(self, payload: Payload) -> None:
        answer = self._transport.post(payload)
        if answer.ok:
            self._delivered(payload)
        elif answer.retryable:
            self._failed(payload, answer)
        else:
            self._refused(payload, answer)

    def _delivered(self, payload: Payload) -> None:
        from_spool = payload.spool_id is not None
        if payload.spool_id is not None:
            self._ack(payload.source, payload.spool_id)
        with self._cond:
            self._counts["pushes"] += 1
            self._counts["entries_sent"] += payload.entries
            self._counts["bytes_sent"] += len(payload.body)
            if from_spool:
                self._counts["replayed_entries"] += payload.entries
            self._failures = 0
            self._retry_at = 0.0
            self._error_streak = (0, 0)
            self._done_with(payload)
            self._cond.notify_all()

    def _done_with(self, payload: Payload) -> None:
        """With the lock held: ``payload`` needs no more sending."""
        if self._busy is payload:
            self._busy = None
        if self._front and self._front[0] is payload:
            self._front.popleft()
            if not self._front and self._front_origin is not None:
                spool, spool_id = self._front_origin
                self._ack(spool, spool_id)
                self._front_origin = None

    def _failed(self, payload: Payload, answer: Answer) -> None:
        payload.attempts += 1
        with self._cond:
            self._failures += 1
            self._counts["retries"] += 1
            delay = min(self.retry_max_delay, self.retry_base_delay * 2 ** (self._failures - 1))
            delay *= 1 + random.uniform(-0.2, 0.2)
            if answer.status in (401, 403):
                delay = self.retry_max_delay
            if answer.retry_after is not None:
                delay = max(delay, min(answer.retry_after, self.retry_after_max))
            self.last_retry_delay = delay
            self._retry_at = time.monotonic() + delay
            self.last_error = answer.error or f"HTTP {answer.status}: {answer.text[:200]}"
            first = self._failures == 1
            self._requeue(payload)
            self._cond.notify_all()
        if answer.status in (401, 403) or first:
            severity: Literal["error", "warning"] = (
                "error" if answer.status in (401, 403) else "warning"
            )
            self._alert("push", self.url, None, self.last_error, severity)

    def _refused(self, payload: Payload, answer: Answer) -> None:
        """Loki answered 400/413/another 4xx: split, re-stamp or dead-letter, never resend as is.

        With a spool the parts are written to its front before anything else happens, so
        a restart sends exactly those parts (re-stamped entries keep the time given once).
        """
        try:
            streams = payload.streams()
        except Exception as exc:  # unreadable batch: keep its bytes in the dead-letter file
            self._dead.write_raw(payload, answer, f"undecodable batch: {exc}")
            pieces: list[Payload] = []
            restamped = 0
        else:
            outcome = refuse(streams, answer.status, answer.text, self.restamp_late, time.time_ns)
            pieces = [Payload.build(s, payload.encoding, payload.first_seq) for s in outcome.pieces]
            restamped = outcome.restamped
            if outcome.dead:
                self._dead.write(outcome.dead, answer)
        self._alert(
            "push",
            self.url,
            None,
            f"Loki refused {payload.entries} entries (HTTP {answer.status}): {answer.text[:300]}",
        )
        in_front = bool(self._front) and self._front[0] is payload
        persisted, spool_error = False, False
        spool: Spool | None = payload.source if payload.spool_id is not None else self._spool
        if spool is not None and not in_front:
            try:
                if payload.spool_id is not None:
                    spool.replace_head(payload.spool_id, pieces)
                elif pieces:
                    spool.push_front(pieces)
                persisted = True
                self._retire_if_empty(spool)
            except OSError as exc:
                spool_error = True
                self._alert("spool", str(spool.directory), exc.errno, str(exc))
        with self._cond:
            self._counts["spool_errors"] += spool_error
            self._counts["refused_pushes"] += 1
            self._counts["restamped"] += restamped
            self._busy = None
            if not persisted:
                if in_front:
                    self._front.popleft()
                elif payload.spool_id is not None:
                    self._front_origin = (payload.source, payload.spool_id)
                self._front.extendleft(reversed(pieces))
                if not self._front and self._front_origin is not None:
                    origin, origin_id = self._front_origin
                    self._ack(origin, origin_id)
                    self._front_origin = None
            self._cond.notify_all()

    def _alert(
        self,
        operation: str,
        path: str,
        errno: int | None,
        message: str,
        severity: Literal["error", "warning"] = "error",
    ) -> None:
        with contextlib.suppress(Exception):
            self.alerts.emit(
                Alert(time.time(), self.name, operation, path, errno, message, severity=severity)
            )
