"""LokiSink end to end against the fake Loki: delivery, retries, refusals, outages, restarts.

Every test waits on completion signals (flush, wait_delivered, the receiver's
counters) with timeouts; none sleeps. ``LOGFLUME_LOKI_REPEAT=10`` runs each test
ten times in a row (the stability run in ``.ci/run``).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

import logflume
from logflume._record import INFO, Record
from logflume.fs.alerts import Alert
from logflume.sinks.loki import ORIG_TS, OVERFLOW, LokiSink
from logflume.testing import wait_until
from logflume.testing.loki_receiver import LokiReceiver

REPEAT = int(os.environ.get("LOGFLUME_LOKI_REPEAT", "1"))
FAST: dict[str, Any] = {"retry_base_delay": 0.02, "retry_max_delay": 0.1, "batch_max_wait": 0.05}


@pytest.fixture(params=range(REPEAT), ids=lambda n: f"run{n}", autouse=True)
def _repeat(request: pytest.FixtureRequest) -> int:
    return int(request.param)


@pytest.fixture
def receiver() -> Iterator[LokiReceiver]:
    with LokiReceiver() as server:
        yield server


def seqs(entries: list[tuple[int, str, dict[str, str]]]) -> list[int]:
    return [orjson.loads(line)["seq"] for _, line, _ in entries]


def all_seqs(receiver: LokiReceiver) -> list[int]:
    return sorted(s for entries in receiver.streams().values() for s in seqs(entries))


@pytest.mark.parametrize("encoding", ["protobuf", "json"])
def test_100k_records_arrive_exactly_once_with_labels_and_in_order(
    receiver: LokiReceiver, encoding: Any
) -> None:
    sink = LokiSink(
        receiver.url,
        labels={"service": "shop", "env": "test"},
        label_fields=("level",),
        encoding=encoding,
        **FAST,
    )
    logflume.configure(sinks=[sink])
    log = logflume.get_logger("shop")
    total = 100_000
    for seq in range(total):
        (log.warning if seq % 10 == 0 else log.info)("order", seq=seq)
    assert logflume.flush(timeout=120)
    streams = receiver.streams()
    assert set(streams) == {
        (("env", "test"), ("level", level), ("service", "shop")) for level in ("info", "warning")
    }
    for key, entries in streams.items():
        numbers = seqs(entries)
        assert numbers == sorted(numbers), "entries of a stream arrive in time order"
        assert all((n % 10 == 0) == (dict(key)["level"] == "warning") for n in numbers)
        assert [ts for ts, _, _ in entries] == sorted(ts for ts, _, _ in entries)
    assert all_seqs(receiver) == list(range(total))
    assert receiver.duplicates == 0
    stats = logflume.stats()
    assert stats["dropped"] == 0 and stats["failed"] == 0
    assert stats["sinks"][sink.name]["entries_sent"] == total
    expected = "application/x-protobuf" if encoding == "protobuf" else "application/json"
    assert {r.content_type for r in receiver.requests} == {expected}
    if encoding == "json":
        assert {r.content_encoding for r in receiver.requests} == {"gzip"}


def test_500_then_429_with_retry_after_are_retried_and_all_arrive(receiver: LokiReceiver) -> None:
    receiver.fail_next(500, body="internal error")
    receiver.fail_next(429, body="Ingestion rate limit exceeded", headers={"Retry-After": "1"})
    sink = LokiSink(receiver.url, retry_base_delay=0.01, retry_max_delay=0.05, batch_max_wait=0)
    logflume.configure(sinks=[sink])
    for seq in range(1000):
        logflume.get_logger("app").info("r", seq=seq)
    assert logflume.flush(timeout=30)
    assert all_seqs(receiver) == list(range(1000))
    statuses = [r.status for r in receiver.requests]
    assert statuses[:2] == [500, 429] and set(statuses[2:]) == {204}
    stats = sink.stats()
    assert stats["retries"] == 2
    assert stats["last_retry_delay"] >= 1.0  # Retry-After: 1 beat the 0.05 s backoff
    # The wait really happened between the 429 and the next push:
    gap = receiver.requests[2].time - receiver.requests[1].time
    assert gap >= 1.0


def test_400_for_one_stream_dead_letters_only_that_stream(
    receiver: LokiReceiver, tmp_path: Path
) -> None:
    receiver.reject_stream({"level": "error"}, 400, "stream '{level=\"error\"}' is blocked")
    dead = tmp_path / "dead.jsonl"
    alerts: list[Alert] = []
    sink = LokiSink(receiver.url, dead_letter_path=dead, on_alert=alerts.append, **FAST)
    logflume.configure(sinks=[sink])
    log = logflume.get_logger("app")
    for seq in range(3000):
        (log.error if seq % 3 == 0 else log.info)("r", seq=seq)
    assert logflume.flush(timeout=30)
    assert all_seqs(receiver) == [s for s in range(3000) if s % 3]
    lines = [orjson.loads(line) for line in dead.read_bytes().splitlines()]
    assert sorted(orjson.loads(d["line"])["seq"] for d in lines) == list(range(0, 3000, 3))
    assert {d["status"] for d in lines} == {400}
    assert all("is blocked" in d["error"] and d["labels"]["level"] == "error" for d in lines)
    stats = sink.stats()
    assert stats["dead_lettered"] == 1000 and stats["dead_letter_unsaved"] == 0
    assert alerts and all(a.severity == "error" for a in alerts)


def test_outage_spools_then_replays_in_order_and_empties_the_spool(
    receiver: LokiReceiver, tmp_path: Path
) -> None:
    receiver.down()
    sink = LokiSink(receiver.url, spool_dir=tmp_path / "spool", batch_max_records=500, **FAST)
    logflume.configure(sinks=[sink])
    log = logflume.get_logger("app")
    for seq in range(10_000):
        log.info("r", seq=seq)
    assert logflume.flush(timeout=30)  # everything safely spooled
    stats = sink.stats()
    assert stats["spool_entries"] == 10_000 and stats["entries_sent"] == 0
    receiver.up()
    assert sink.wait_delivered(timeout=60)
    (entries,) = receiver.streams().values()
    assert seqs(entries) == list(range(10_000))  # in order, exactly once
    stats = sink.stats()
    assert stats["spool_entries"] == 0 and stats["spool_batches"] == 0
    assert stats["replayed_entries"] == 10_000 and stats["dropped"] == 0
    assert not list((tmp_path / "spool").glob("spool-*.seg")) or stats["spool_bytes"] == 0


def test_spool_bound_is_respected_and_overflow_is_counted(
    receiver: LokiReceiver, tmp_path: Path
) -> None:
    receiver.down()
    limit = 256 * 1024
    sink = LokiSink(
        receiver.url,
        spool_dir=tmp_path / "spool",
        spool_max_bytes=limit,
        batch_max_records=200,
        encoding="json",
        gzip=False,
        **FAST,
    )
    logflume.configure(sinks=[sink])
    log = logflume.get_logger("app")
    total = 20_000
    for seq in range(total):
        log.info("r", seq=seq, pad="x" * 100)
    assert logflume.flush(timeout=60)
    stats = sink.stats()
    assert stats["spool_bytes"] <= limit
    assert stats["spool_dropped"] > 0 and stats["dropped"] >= stats["spool_dropped"]
    receiver.up()
    assert sink.wait_delivered(timeout=60)
    delivered = all_seqs(receiver)
    assert len(delivered) + sink.stats()["dropped"] == total
    assert delivered == list(range(total - len(delivered), total))  # the oldest were dropped


def test_a_new_process_delivers_what_a_killed_one_spooled(
    receiver: LokiReceiver, tmp_path: Path
) -> None:
    receiver.down()
    spool = tmp_path / "spool"
    child = subprocess.Popen(
        [
            sys.executable,
            str(Path(__file__).with_name("loki_spool_child.py")),
            receiver.url,
            str(spool),
            "5000",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    line = child.stdout.readline()
    child.send_signal(signal.SIGKILL)
    child.wait(30)
    assert line.strip() == "SPOOLED 5000"
    receiver.up()
    sink = LokiSink(receiver.url, labels={"service": "child"}, spool_dir=spool, **FAST)
    assert sink.stats()["spool_recovered_entries"] == 5000
    assert sink.wait_delivered(timeout=60)
    assert all_seqs(receiver) == list(range(5000))
    sink.close()


def old_records(count: int, age_s: float) -> list[Record]:
    start = time.time_ns() - int(age_s * 1e9)
    return [
        Record(start + i, INFO, "app", "old", {}, {"seq": i}, line=orjson.dumps({"seq": i}) + b"\n")
        for i in range(count)
    ]


@pytest.mark.parametrize("refusal", ["too_far_behind", "too_old"])
def test_replay_after_a_long_outage_restamps_late_entries(tmp_path: Path, refusal: str) -> None:
    spool = tmp_path / "spool"
    limits: dict[str, Any] = (
        {"out_of_order_window": 3600.0}
        if refusal == "too_far_behind"
        else {"reject_older_than": 3600.0}
    )
    with LokiReceiver(**limits) as receiver:
        receiver.down()
        first = LokiSink(receiver.url, spool_dir=spool, **FAST)
        first.write_batch(old_records(1000, age_s=2 * 3600))  # logged two hours ago
        assert first.flush(timeout=30)
        first.close()
        receiver.up()
        fresh = LokiSink(receiver.url, **FAST)  # the stream moved on meanwhile
        fresh.write_batch(
            [Record(time.time_ns(), INFO, "app", "new", {}, {"seq": -1}, line=b'{"seq":-1}\n')]
        )
        assert fresh.wait_delivered(timeout=30)
        fresh.close()
        sent_at = time.time_ns()
        replay = LokiSink(receiver.url, spool_dir=spool, **FAST)
        assert replay.wait_delivered(timeout=60)
        (entries,) = receiver.streams().values()
        assert seqs(entries)[0] == -1 and sorted(seqs(entries)[1:]) == list(range(1000))
        for ts, _, metadata in entries[1:]:
            assert ts >= sent_at  # re-stamped with the time of sending
            assert int(metadata[ORIG_TS]) < sent_at - 3600 * 10**9  # the time it was logged
        assert len({m[ORIG_TS] for _, _, m in entries[1:]}) == 1000
        assert replay.stats()["restamped"] == 1000 and replay.stats()["dead_lettered"] == 0
        replay.close()


def test_late_entries_are_dead_lettered_when_restamping_is_off(tmp_path: Path) -> None:
    with LokiReceiver(reject_older_than=3600.0) as receiver:
        sink = LokiSink(
            receiver.url, restamp_late=False, dead_letter_path=tmp_path / "dead", **FAST
        )
        sink.write_batch(old_records(50, age_s=2 * 3600))
        assert sink.wait_delivered(timeout=30)
        lines = (tmp_path / "dead").read_bytes().splitlines()
        assert len(lines) == 50 and b"too old" in lines[0]
        assert receiver.entries_count() == 0 and sink.stats()["dead_lettered"] == 50
        sink.close()


def test_a_field_with_10000_values_does_not_make_10000_streams(receiver: LokiReceiver) -> None:
    sink = LokiSink(receiver.url, label_fields=("level", "user_id"), max_label_values=50, **FAST)
    logflume.configure(sinks=[sink])
    log = logflume.get_logger("app")
    for seq in range(10_000):
        log.info("r", seq=seq, user_id=f"user-{seq}")
    assert logflume.flush(timeout=60)
    streams = receiver.streams()
    assert len(streams) == 51
    assert any(dict(key)["user_id"] == OVERFLOW for key in streams)
    assert all_seqs(receiver) == list(range(10_000))  # the value stays in the line
    assert sink.stats()["label_overflow"] == 10_000 - 50


def test_tenant_auth_and_structured_metadata_are_sent(receiver: LokiReceiver) -> None:
    sink = LokiSink(
        receiver.url,
        tenant_id="acme",
        auth=("loki", "s3cret"),
        structured_metadata_fields=("trace_id",),
        **FAST,
    )
    logflume.configure(sinks=[sink])
    logflume.get_logger("app").info("r", seq=1, trace_id="abc123")
    assert logflume.flush(timeout=30)
    request = receiver.requests[0]
    assert request.headers["X-Scope-OrgID"] == "acme"
    assert request.headers["Authorization"] == "Basic bG9raTpzM2NyZXQ="
    ((_, _, metadata),) = next(iter(receiver.streams().values()))
    assert metadata == {"trace_id": "abc123"}


def test_401_alerts_and_keeps_the_data_until_credentials_work(
    receiver: LokiReceiver, tmp_path: Path
) -> None:
    receiver.fail_next(401, times=2, body="no org id")
    alerts: list[Alert] = []
    sink = LokiSink(receiver.url, spool_dir=tmp_path, on_alert=alerts.append, **FAST)
    logflume.configure(sinks=[sink])
    for seq in range(100):
        logflume.get_logger("app").info("r", seq=seq)
    assert logflume.flush(timeout=30)
    assert sink.wait_delivered(timeout=30)
    assert all_seqs(receiver) == list(range(100))
    assert [a.severity for a in alerts[:2]] == ["error", "error"]
    assert "401" in alerts[0].message


def test_dead_loki_without_spool_bounds_memory_and_never_stalls_other_sinks(
    receiver: LokiReceiver,
) -> None:
    receiver.down()
    loki = LokiSink(receiver.url, max_buffer_bytes=64 * 1024, **FAST)
    memory = logflume.MemorySink()
    logflume.configure(sinks=[loki, memory])
    for seq in range(20_000):
        logflume.get_logger("app").info("r", seq=seq)
    # Every record reaches the other sink while Loki is dead...
    wait_until(lambda: logflume.stats()["sinks"][memory.name]["written"] == 20_000, timeout=60)
    assert len(memory.records) == 20_000
    # ...and Loki's part cannot settle: nothing can be delivered or spooled.
    assert loki.flush(timeout=0.2) is False
    stats = loki.stats()
    assert stats["buffered_bytes"] <= 64 * 1024
    assert stats["dropped"] > 0
    receiver.up()
    assert loki.wait_delivered(timeout=30)
    assert receiver.entries_count() + loki.stats()["dropped"] == 20_000


def test_flush_from_asyncio(receiver: LokiReceiver) -> None:
    sink = LokiSink(receiver.url, **FAST)

    async def main() -> bool:
        sink.write_batch([Record(time.time_ns(), INFO, "a", "m", {}, {}, line=b'{"seq":0}\n')])
        return await sink.await_flushed(timeout=30)

    assert asyncio.run(main())
    assert receiver.entries_count() == 1
    sink.close()


def test_a_quiet_service_ships_after_batch_max_wait_without_any_flush(
    receiver: LokiReceiver,
) -> None:
    sink = LokiSink(receiver.url, batch_max_wait=0.05)
    sink.write_batch([Record(time.time_ns(), INFO, "a", "m", {}, {}, line=b'{"seq":0}\n')])
    assert receiver.wait_for_entries(1, timeout=10)  # nobody called flush()
    sink.write_batch([Record(time.time_ns(), INFO, "a", "m", {}, {}, line=b'{"seq":1}\n')])
    assert receiver.wait_for_entries(2, timeout=10)
    sink.close()


def test_flush_during_a_replay_returns_once_new_batches_are_spooled(
    receiver: LokiReceiver, tmp_path: Path
) -> None:
    receiver.down()
    sink = LokiSink(receiver.url, spool_dir=tmp_path, batch_max_records=100, **FAST)
    logflume.configure(sinks=[sink])
    log = logflume.get_logger("app")
    for seq in range(5000):
        log.info("r", seq=seq)
    assert logflume.flush(timeout=30)
    receiver.up()
    for seq in range(5000, 6000):  # while the backlog replays
        log.info("r", seq=seq)
    assert logflume.flush(timeout=30)
    assert sink.wait_delivered(timeout=60)
    (entries,) = receiver.streams().values()
    assert seqs(entries) == list(range(6000))  # new entries behind the backlog, in order
    logflume.shutdown()
    assert sink.stats()["lost_records"] == 0


def test_a_sender_that_keeps_failing_on_one_batch_dead_letters_it_and_goes_on(
    receiver: LokiReceiver, tmp_path: Path
) -> None:
    sink = LokiSink(receiver.url, dead_letter_path=tmp_path / "dead", **FAST)
    real_post = sink._transport.post
    calls: list[int] = []

    def broken(payload: Any) -> Any:
        calls.append(payload.entries)
        raise RuntimeError("a bug in the client")

    sink._transport.post = broken  # type: ignore[method-assign]
    sink.write_batch([Record(time.time_ns(), INFO, "a", "m", {}, {}, line=b'{"seq":0}\n')])
    assert sink.flush(timeout=30)  # settled: dead-lettered after three errors in a row
    assert len(calls) == 3 and sink.stats()["sender_errors"] == 3
    assert sink.stats()["dead_lettered"] == 1
    assert b"a bug in the client" in (tmp_path / "dead").read_bytes()
    sink._transport.post = real_post  # type: ignore[method-assign]
    sink.write_batch([Record(time.time_ns(), INFO, "a", "m", {}, {}, line=b'{"seq":1}\n')])
    assert sink.wait_delivered(timeout=30)
    assert all_seqs(receiver) == [1]
    sink.close()


def test_timestamps_before_1970_do_not_stop_the_sender(receiver: LokiReceiver) -> None:
    sink = LokiSink(receiver.url, **FAST)
    sink.write_batch([Record(-5, INFO, "a", "m", {}, {}, line=b'{"seq":0}\n')])
    sink.write_batch([Record(time.time_ns(), INFO, "a", "m", {}, {}, line=b'{"seq":1}\n')])
    assert sink.wait_delivered(timeout=30)
    assert sorted(ts for e in receiver.streams().values() for ts, _, _ in e)[0] == 0
    sink.close()


def test_a_forked_child_neither_hangs_nor_keeps_the_parents_spool_locked(
    receiver: LokiReceiver, tmp_path: Path
) -> None:
    sink = LokiSink(receiver.url, spool_dir=tmp_path, **FAST)
    logflume.configure(sinks=[sink])
    logflume.get_logger("app").info("parent", seq=0)
    assert logflume.flush(timeout=30)
    release_r, release_w = os.pipe()
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: log, report, then stay alive until the parent is done
        ok = False
        try:
            os.close(release_w)
            logflume.get_logger("app").info("child", seq=1)
            ok = logflume.flush(timeout=10) and sink.stats()["entries_sent"] == 1
            os.write(ready_w, b"1" if ok else b"0")
            os.read(release_r, 1)
        finally:
            os._exit(0 if ok else 1)
    os.close(ready_w)
    os.close(release_r)
    try:
        assert os.read(ready_r, 1) == b"1"
        logflume.shutdown()  # the parent's sink releases the spool...
        successor = LokiSink(receiver.url, spool_dir=tmp_path, **FAST)  # ...and it is free
        successor.close()
    finally:
        os.write(release_w, b"x")
        _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert all_seqs(receiver) == [0, 1]


def test_a_forked_child_spools_beside_the_parent_and_a_successor_replays_it(
    receiver: LokiReceiver, tmp_path: Path
) -> None:
    sink = LokiSink(receiver.url, spool_dir=tmp_path, **FAST)
    logflume.configure(sinks=[sink])
    receiver.down()
    pid = os.fork()
    if pid == 0:  # child (a pre-fork worker): Loki is down, so it spools, then dies
        ok = False
        try:
            for seq in range(100):
                logflume.get_logger("worker").info("r", seq=seq)
            ok = logflume.flush(timeout=10) and sink.stats()["spool_entries"] == 100
        finally:
            os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert (tmp_path / f"fork-{pid}").is_dir()
    logflume.shutdown()
    receiver.up()
    successor = LokiSink(receiver.url, spool_dir=tmp_path, **FAST)
    assert successor.stats()["adopted_entries"] == 100
    assert successor.wait_delivered(timeout=30)
    assert all_seqs(receiver) == list(range(100))
    assert not (tmp_path / f"fork-{pid}").exists()
    successor.close()


def test_close_with_a_hanging_loki_spools_what_is_in_memory(tmp_path: Path) -> None:
    import socket

    with socket.socket() as hanging:  # accepts connections (kernel backlog), never answers
        hanging.bind(("127.0.0.1", 0))
        hanging.listen(16)
        url = f"http://127.0.0.1:{hanging.getsockname()[1]}"
        sink = LokiSink(url, timeout=0.5, close_timeout=0.2, spool_dir=tmp_path, **FAST)
        sink.write_batch(
            [
                Record(time.time_ns(), INFO, "a", "m", {}, {}, line=b'{"seq":%d}\n' % i)
                for i in range(500)
            ]
        )
        sink.close()
    stats = sink.stats()
    assert stats["lost_records"] == 0
    assert stats["spooled_entries"] == 500
    with LokiReceiver() as receiver:
        successor = LokiSink(receiver.url, spool_dir=tmp_path, **FAST)
        assert successor.wait_delivered(timeout=30)
        assert all_seqs(receiver) == list(range(500))
        successor.close()


def test_refused_entries_with_no_dead_letter_file_count_as_failed(receiver: LokiReceiver) -> None:
    receiver.reject_stream({"level": "error"}, 400, "blocked")
    sink = LokiSink(receiver.url, **FAST)
    logflume.configure(sinks=[sink])
    for seq in range(10):
        logflume.get_logger("app").error("r", seq=seq)
    assert logflume.flush(timeout=30)
    stats = logflume.stats()
    assert stats["sinks"][sink.name]["dead_letter_unsaved"] == 10
    assert stats["sinks"][sink.name]["lost_records"] == 10
    assert stats["failed"] == 10


def orphan_spool(root: Path, name: str, seqs_: range, labels: dict[str, str]) -> None:
    """A spool left by a dead worker: ``root/name`` holding one batch of ``seqs_``."""
    from logflume.sinks.loki._spool import Spool
    from logflume.sinks.loki._wire import Encoding, Payload

    key = tuple(sorted(labels.items()))
    now = time.time_ns()
    entries = [(now + i, orjson.dumps({"seq": i}), ()) for i in seqs_]
    spool = Spool(root / name, 1024 * 1024, fsync=False)
    spool.append(Payload.build([(key, entries)], Encoding.PROTOBUF))
    spool.append(Payload.build([(key, entries[:1])], Encoding.PROTOBUF))
    spool.close()


def test_orphan_spools_are_adopted_even_with_our_own_pid_and_torn_files_kept(
    receiver: LokiReceiver, tmp_path: Path
) -> None:
    name = f"fork-{os.getpid()}"  # a dead worker whose pid we now have
    orphan_spool(tmp_path, name, range(50), {"service": "w"})
    (segment,) = (tmp_path / name).glob("spool-*.seg")
    with open(segment, "r+b") as handle:  # the worker died mid-append of its 2nd batch
        handle.truncate(segment.stat().st_size - 3)
    sink = LokiSink(receiver.url, spool_dir=tmp_path, **FAST)
    assert sink.stats()["adopted_entries"] == 50
    assert sink.stats()["spool_torn_bytes"] > 0
    assert sink.wait_delivered(timeout=30)
    assert all_seqs(receiver) == list(range(50))
    stats = sink.stats()
    assert stats["adopted_spools"] == 0 and stats["spool_torn_bytes"] > 0
    assert not (tmp_path / name).exists()
    assert list(tmp_path.glob(f"{name}-spool-*.seg.torn-*"))  # kept for inspection
    sink.close()


def test_an_adopted_spool_emptied_by_a_refusal_is_removed(
    receiver: LokiReceiver, tmp_path: Path
) -> None:
    receiver.reject_stream({"service": "bad"}, 400, "blocked")
    orphan_spool(tmp_path, "fork-999999", range(5), {"service": "bad"})
    sink = LokiSink(receiver.url, spool_dir=tmp_path, **FAST)
    assert sink.wait_delivered(timeout=30)
    stats = sink.stats()
    assert stats["dead_lettered"] == 6 and stats["adopted_spools"] == 0
    sink.close()
    assert not (tmp_path / "fork-999999").exists()


def test_close_spools_leftovers_in_batches_of_the_configured_size(tmp_path: Path) -> None:
    import socket

    with socket.socket() as hanging:
        hanging.bind(("127.0.0.1", 0))
        hanging.listen(16)
        url = f"http://127.0.0.1:{hanging.getsockname()[1]}"
        sink = LokiSink(url, timeout=0.3, close_timeout=0.1, spool_dir=tmp_path,
                        batch_max_records=100, batch_max_wait=60)  # fmt: skip
        sink.write_batch(
            [
                Record(time.time_ns(), INFO, "a", "m", {}, {}, line=b'{"seq":%d}\n' % i)
                for i in range(1000)
            ]
        )
        sink.close()
    stats = sink.stats()
    assert stats["lost_records"] == 0 and stats["spooled_entries"] == 1000
    assert stats["spooled_batches"] == 10
