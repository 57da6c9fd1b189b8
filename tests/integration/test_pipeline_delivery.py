"""The pipeline delivers every record exactly once, in order, through real files."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import orjson

import logflume


def _lines(path: Path) -> list[dict[str, object]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def test_eight_threads_of_20000_records_land_exactly_once_in_order(memory_tmp_path: Path) -> None:
    path = memory_tmp_path / "app.jsonl"
    logflume.configure(sinks=[logflume.FileSink(path)])
    log = logflume.get_logger("load")
    threads_n, per_thread = 8, 20_000

    def produce(worker: int) -> None:
        bound = log.bind(worker=worker)
        for seq in range(per_thread):
            bound.info("tick", seq=seq)

    threads = [threading.Thread(target=produce, args=(w,)) for w in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert logflume.flush(timeout=60)
    rows = _lines(path)
    assert len(rows) == threads_n * per_thread
    seen: dict[int, list[int]] = {w: [] for w in range(threads_n)}
    for row in rows:
        seen[int(row["worker"])].append(int(row["seq"]))  # type: ignore[call-overload]
    for worker, seqs in seen.items():
        assert seqs == list(range(per_thread)), f"worker {worker} out of order or incomplete"
    stats = logflume.stats()
    assert stats["enqueued"] == stats["processed"] == threads_n * per_thread
    assert stats["dropped"] == 0 and stats["failed"] == 0


def test_flush_is_a_barrier_for_everything_logged_before_it(memory_tmp_path: Path) -> None:
    path = memory_tmp_path / "app.jsonl"
    logflume.configure(sinks=[logflume.FileSink(path)], batch_max_wait=0.5)
    log = logflume.get_logger("barrier")
    for round_no in range(20):
        for i in range(50):
            log.info("r", round=round_no, i=i)
        assert logflume.flush(timeout=10)
        # No sleep, no retry: the file already holds every record of this round.
        assert len(path.read_bytes().splitlines()) == (round_no + 1) * 50


def test_aflush_waits_without_blocking_the_event_loop(memory_tmp_path: Path) -> None:
    gate = threading.Event()

    class HeldSink:
        name = "held"

        def __init__(self) -> None:
            self.records = 0

        def write_batch(self, records: list[logflume.Record]) -> None:
            gate.wait(30)
            self.records += len(records)

        def flush(self, timeout: float | None = None) -> bool:
            return True

        def close(self) -> None:
            pass

    sink = HeldSink()
    logflume.configure(sinks=[sink])
    log = logflume.get_logger("async")

    async def main() -> tuple[bool, int, int]:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                if ticks == 20:
                    gate.set()  # release the sink only after the loop proved it runs
                await asyncio.sleep(0)

        for i in range(100):
            log.info("a", i=i)
        task = asyncio.create_task(ticker())
        ok = await logflume.aflush(timeout=30)
        task.cancel()
        return ok, ticks, sink.records

    ok, ticks, written = asyncio.run(main())
    assert ok
    assert ticks >= 20
    assert written == 100


def test_flush_returns_false_at_its_timeout_instead_of_hanging() -> None:
    gate = threading.Event()

    class Stuck:
        name = "stuck"

        def write_batch(self, records: list[logflume.Record]) -> None:
            gate.wait(30)

        def flush(self, timeout: float | None = None) -> bool:
            return True

        def close(self) -> None:
            pass

    logflume.configure(sinks=[Stuck()])
    logflume.get_logger("t").info("x")
    started = time.monotonic()
    assert logflume.flush(timeout=0.2) is False
    assert time.monotonic() - started < 5
    gate.set()
    assert logflume.flush(timeout=10) is True


def test_a_sink_that_always_raises_does_not_stop_the_others(
    memory_tmp_path: Path, capsys: object
) -> None:
    class Broken:
        name = "broken"

        def write_batch(self, records: list[logflume.Record]) -> None:
            raise OSError(5, "device on fire")

        def flush(self, timeout: float | None = None) -> bool:
            return True

        def close(self) -> None:
            pass

    path = memory_tmp_path / "ok.jsonl"
    logflume.configure(sinks=[Broken(), logflume.FileSink(path, name="good")], batch_max_records=64)
    log = logflume.get_logger("iso")
    for i in range(1000):
        log.info("m", i=i)
    assert logflume.flush(timeout=10)
    assert [row["i"] for row in _lines(path)] == list(range(1000))
    stats = logflume.stats()
    assert stats["sinks"]["good"]["written"] == 1000
    assert stats["sinks"]["broken"]["failed"] == 1000
    assert stats["sinks"]["broken"]["errors"] >= 1000 // 64
    assert "device on fire" in (stats["sinks"]["broken"]["last_error"] or "")
    err = capsys.readouterr().err  # type: ignore[attr-defined]
    assert err.count("sink 'broken' write_batch failed") == 1  # reported once, not per batch


def test_pipeline_retries_of_a_sink_are_honoured() -> None:
    class Flaky:
        name = "flaky"
        pipeline_retries = 2

        def __init__(self) -> None:
            self.calls = 0
            self.got: list[str] = []

        def write_batch(self, records: list[logflume.Record]) -> None:
            self.calls += 1
            if self.calls % 3 != 0:
                raise OSError(11, "try again")
            self.got.extend(r.msg for r in records)

        def flush(self, timeout: float | None = None) -> bool:
            return True

        def close(self) -> None:
            pass

    sink = Flaky()
    logflume.configure(sinks=[sink])
    logflume.get_logger("r").info("once")
    assert logflume.flush(timeout=10)
    assert sink.got == ["once"] and sink.calls == 3
    assert logflume.stats()["sinks"]["flaky"]["failed"] == 0


def test_shutdown_drains_and_closes_sinks(memory_tmp_path: Path) -> None:
    path = memory_tmp_path / "app.jsonl"
    sink = logflume.FileSink(path)
    logflume.configure(sinks=[sink])
    log = logflume.get_logger("bye")
    for i in range(5000):
        log.info("m", i=i)
    assert logflume.shutdown(timeout=30)
    assert len(path.read_bytes().splitlines()) == 5000
    assert sink.stats()["bytes"] == path.stat().st_size


def test_records_are_drained_at_interpreter_exit(tmp_path: Path) -> None:
    path = tmp_path / "exit.jsonl"
    code = (
        "import logflume\n"
        f"logflume.configure(sinks=[logflume.FileSink({str(path)!r})])\n"
        "log = logflume.get_logger('exit')\n"
        "for i in range(20000): log.info('m', i=i)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
    assert len(path.read_bytes().splitlines()) == 20000


def test_forked_child_logs_through_a_fresh_writer_and_nothing_is_duplicated(
    memory_tmp_path: Path,
) -> None:
    class Gate:
        """Holds the parent's writer so records are surely queued when fork() happens."""

        name = "gate"

        def __init__(self) -> None:
            self.open = threading.Event()

        def write_batch(self, records: list[logflume.Record]) -> None:
            self.open.wait(30)

        def flush(self, timeout: float | None = None) -> bool:
            return True

        def close(self) -> None:
            pass

        def after_fork_in_child(self) -> None:
            self.open = threading.Event()
            self.open.set()

    path = memory_tmp_path / "fork.jsonl"
    gate = Gate()
    logflume.configure(sinks=[gate, logflume.FileSink(path)], batch_max_records=100)
    log = logflume.get_logger("fork")
    for i in range(500):
        log.info("before", i=i)
    assert logflume.stats()["queued"] > 0  # still queued at fork time
    pid = os.fork()
    if pid == 0:  # child
        code = 1
        try:
            for i in range(1000):
                log.info("child", i=i)
            code = 0 if logflume.flush(timeout=30) else 3
        finally:
            os._exit(code)
    for i in range(1000):
        log.info("parent", i=i)
    gate.open.set()
    assert logflume.flush(timeout=30)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    rows = _lines(path)
    for msg, count in (("before", 500), ("parent", 1000), ("child", 1000)):
        got = [row["i"] for row in rows if row["msg"] == msg]
        assert got == list(range(count)), msg


def test_records_a_sink_reports_lost_count_as_failed_at_the_top() -> None:
    class Lossy:
        name = "lossy"

        def __init__(self) -> None:
            self.lost = 0

        def write_batch(self, records: list[logflume.Record]) -> None:
            self.lost += len(records)  # handled its own error: nothing written anywhere

        def flush(self, timeout: float | None = None) -> bool:
            return True

        def close(self) -> None:
            pass

        def stats(self) -> dict[str, int]:
            return {"lost_records": self.lost}

    logflume.configure(sinks=[Lossy()])
    for i in range(7):
        logflume.get_logger("l").info("m", i=i)
    assert logflume.flush(timeout=5)
    stats = logflume.stats()
    assert stats["sinks"]["lossy"]["lost_records"] == 7
    assert stats["failed"] == 7
