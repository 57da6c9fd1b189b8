"""Retention (count, total bytes, age), time rotation on a fake clock, compression, events."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sys
import threading
import time
import zoneinfo
from collections.abc import Callable
from pathlib import Path

import orjson

from logflume import Record
from logflume.sinks._compress import GzipCodec
from logflume.sinks.rotating import RotatingFileSink

sys.path.insert(0, str(Path(__file__).parent))
from rotating_files import backup_indices, log_files, read_records


def rec(i: int, pad: int = 40) -> Record:
    return Record(0, 20, "t", "m", {}, {}, line=orjson.dumps({"i": i, "p": "x" * pad}) + b"\n")


def _sink(path: Path, **kw: object) -> RotatingFileSink:
    options: dict[str, object] = {"compress": None, "max_total_bytes": None, "min_free_bytes": 0}
    options.update(kw)
    return RotatingFileSink(path, **options)  # type: ignore[arg-type]


def test_backup_count_keeps_only_the_newest_backups(memory_tmp_path: Path) -> None:
    path = memory_tmp_path / "app.log"
    sink = _sink(path, max_bytes=200, backup_count=3)
    for i in range(40):
        sink.write_batch([rec(i)])
    assert backup_indices(path) == [1, 2, 3]
    seqs = [r["i"] for r in read_records(path)]
    assert seqs == list(range(seqs[0], 40))  # the newest records, contiguous
    assert sink.stats()["deleted_backups"] > 0
    sink.close()


def test_max_total_bytes_holds_after_every_rotation(memory_tmp_path: Path) -> None:
    path = memory_tmp_path / "app.log"
    cap = 1000
    totals: list[int] = []

    def measure(old: str, new: str) -> None:
        totals.append(sum(p.stat().st_size for p in log_files(path)))

    sink = _sink(path, max_bytes=200, backup_count=100, max_total_bytes=cap, on_rotate=measure)
    for i in range(60):
        sink.write_batch([rec(i)])
    assert len(totals) > 10
    assert max(totals) + 200 <= cap  # room for a full active file is reserved
    assert sum(p.stat().st_size for p in log_files(path)) <= cap
    sink.close()


def test_max_age_deletes_backups_older_than_the_fake_clock_allows(memory_tmp_path: Path) -> None:
    path = memory_tmp_path / "app.log"
    now = time.time()  # frozen: the fake clock never moves during the test
    sink = _sink(
        path, max_bytes=200, backup_count=50, max_age=dt.timedelta(days=1), clock=lambda: now
    )
    for i in range(12):
        sink.write_batch([rec(i)])
    indices = backup_indices(path)
    assert len(indices) >= 3
    for index in indices:  # .1 is an hour old, the rest three days
        age = 3600 if index == 1 else 3 * 86400
        os.utime(f"{path}.{index}", (now - age, now - age))
    while sink.stats()["rotations"] == len(indices):
        sink.write_batch([rec(99)])
    assert backup_indices(path) == [1, 2]  # the new backup and the hour-old one
    sink.close()


def _clock(start: dt.datetime) -> tuple[Callable[[], float], Callable[[dt.datetime], None]]:
    state = {"t": start.timestamp()}

    def set_to(moment: dt.datetime) -> None:
        state["t"] = moment.timestamp()

    return (lambda: state["t"]), set_to


def test_midnight_rotation_in_utc_on_a_fake_clock(memory_tmp_path: Path) -> None:
    path = memory_tmp_path / "app.log"
    clock, set_to = _clock(dt.datetime(2026, 3, 10, 23, 59, tzinfo=dt.UTC))
    sink = _sink(path, max_bytes=None, when="midnight", clock=clock)
    sink.write_batch([rec(1)])
    set_to(dt.datetime(2026, 3, 10, 23, 59, 59, tzinfo=dt.UTC))
    sink.write_batch([rec(2)])
    assert sink.stats()["rotations"] == 0
    set_to(dt.datetime(2026, 3, 11, 0, 0, 1, tzinfo=dt.UTC))
    sink.write_batch([rec(3)])
    assert sink.wait_rotated(0)
    assert [r["i"] for r in read_records(Path(f"{path}.1"))] == [1, 2]
    set_to(dt.datetime(2026, 3, 11, 18, 0, tzinfo=dt.UTC))
    sink.write_batch([rec(4)])
    set_to(dt.datetime(2026, 3, 12, 0, 0, 0, tzinfo=dt.UTC))
    sink.write_batch([rec(5)])
    assert sink.stats()["rotations"] == 2
    assert [r["i"] for r in read_records(path)] == [1, 2, 3, 4, 5]
    sink.close()


def test_midnight_rotation_follows_a_non_utc_zone(memory_tmp_path: Path) -> None:
    path = memory_tmp_path / "app.log"
    new_york = zoneinfo.ZoneInfo("America/New_York")  # UTC-5 in January
    clock, set_to = _clock(dt.datetime(2026, 1, 14, 23, 58, tzinfo=dt.UTC))
    sink = _sink(path, max_bytes=None, when="midnight", tz=new_york, clock=clock)
    sink.write_batch([rec(1)])
    set_to(dt.datetime(2026, 1, 15, 0, 1, tzinfo=dt.UTC))  # UTC midnight: 19:01 in New York
    sink.write_batch([rec(2)])
    assert sink.stats()["rotations"] == 0
    set_to(dt.datetime(2026, 1, 15, 5, 0, 30, tzinfo=dt.UTC))  # 00:00:30 in New York
    sink.write_batch([rec(3)])
    assert sink.stats()["rotations"] == 1
    assert [r["i"] for r in read_records(Path(f"{path}.1"))] == [1, 2]
    sink.close()


class HeldGzip(GzipCodec):
    """gzip that waits for ``release`` before compressing (to prove nobody waits on it)."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.started = threading.Event()

    def compress(self, read: Callable[[int], bytes], write: Callable[[bytes], None]) -> None:
        self.started.set()
        assert self.release.wait(10)
        super().compress(read, write)


def test_writes_and_rotations_continue_while_the_compressor_is_held(memory_tmp_path: Path) -> None:
    path = memory_tmp_path / "app.log"
    codec = HeldGzip()
    sink = _sink(path, max_bytes=200, backup_count=100, compress=codec)
    for i in range(30):
        sink.write_batch([rec(i)])
    assert codec.started.wait(5)
    assert sink.stats()["rotations"] >= 8 and sink.stats()["compressed"] == 0
    assert not sink.wait_compressed(0.01)
    codec.release.set()
    assert sink.wait_compressed(10)
    names = [p.name for p in log_files(path)]
    assert all(n.endswith(".gz") for n in names if n != "app.log")
    assert [r["i"] for r in read_records(path)] == list(range(30))
    assert not [p for p in memory_tmp_path.iterdir() if p.name.endswith(".tmp")]
    sink.close()


def test_zstd_backups_read_back_complete(memory_tmp_path: Path) -> None:
    path = memory_tmp_path / "app.log"
    sink = _sink(path, max_bytes=200, backup_count=100, compress="zstd")
    for i in range(20):
        sink.write_batch([rec(i)])
    assert sink.wait_compressed(10)
    assert any(p.name.endswith(".zst") for p in log_files(path))
    assert [r["i"] for r in read_records(path)] == list(range(20))
    sink.close()


def test_restart_compresses_leftovers_and_cleans_crash_debris(memory_tmp_path: Path) -> None:
    path = memory_tmp_path / "app.log"
    import gzip

    (memory_tmp_path / "app.log.1").write_bytes(rec(3).line)
    (memory_tmp_path / "app.log.2").write_bytes(rec(2).line)  # archive already complete
    (memory_tmp_path / "app.log.2.gz").write_bytes(gzip.compress(rec(2).line))
    (memory_tmp_path / "app.log.4").write_bytes(rec(1).line)  # gap left by a crash
    (memory_tmp_path / ".app.log.compress-999.gz.tmp").write_bytes(b"\x1f\x8b half")
    sink = _sink(path, max_bytes=1000, compress="gzip")
    assert sink.wait_compressed(10)
    names = sorted(p.name for p in memory_tmp_path.iterdir() if p.name != "app.log.lock")
    assert names == ["app.log", "app.log.1.gz", "app.log.2.gz", "app.log.3.gz"]
    assert [r["i"] for r in read_records(path)] == [1, 2, 3]
    assert sink.stats()["compress_orphans_removed"] == 1
    sink.close()


def test_rotation_events_for_threads_asyncio_and_callbacks(memory_tmp_path: Path) -> None:
    path = memory_tmp_path / "app.log"
    calls: list[tuple[str, str]] = []
    sink = _sink(
        path, max_bytes=200, backup_count=10, on_rotate=lambda old, new: calls.append((old, new))
    )
    assert not sink.wait_rotated(0.01)
    for i in range(5):
        sink.write_batch([rec(i)])
    assert sink.wait_rotated(1) and sink.rotation_complete.is_set() is False
    assert calls[0] == (str(path), f"{path}.1")

    async def main() -> tuple[bool, bool]:
        waiting = asyncio.ensure_future(sink.wait_rotated_async(5))
        await asyncio.sleep(0)
        writer = threading.Thread(target=lambda: [sink.write_batch([rec(i)]) for i in range(5)])
        writer.start()
        got = await waiting
        writer.join()
        sink.wait_rotated(0)
        timed_out = await sink.wait_rotated_async(0.01)
        return got, timed_out

    assert asyncio.run(main()) == (True, False)
    sink.close()


def test_a_torn_last_line_left_by_a_dead_writer_is_cut_at_start(memory_tmp_path: Path) -> None:
    path = memory_tmp_path / "app.log"
    path.write_bytes(rec(1).line + rec(2).line[:15])
    sink = _sink(path, max_bytes=10_000)
    sink.write_batch([rec(3)])
    assert [r["i"] for r in read_records(path)] == [1, 3]
    assert sink.stats()["torn_repaired"] == 1
    sink.close()
