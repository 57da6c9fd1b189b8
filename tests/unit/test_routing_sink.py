"""RoutedFileSink unit behaviour: coalesced writes, the memory cap, rollover, errors, sources."""

from __future__ import annotations

import errno
import os
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import logflume
from logflume import ERROR, INFO, WARNING, ConfigurationError, Record, RoutedFileSink
from logflume.formatting import json_line
from logflume.fs import write_all
from logflume.fs.alerts import Alert
from logflume.testing import wait_until


def rec(logger: str, level: int = INFO, **fields: object) -> Record:
    record = Record(1_764_000_000_000_000_000, level, logger, "m", {}, fields)
    record.line = json_line(record)
    return record


class RecordingWriter:
    """The write seam: remembers which file each write went to, optionally held by an Event."""

    def __init__(self, held: bool = False) -> None:
        self.paths: list[str] = []
        self.gate = threading.Event()
        self.waiting = threading.Event()
        if not held:
            self.gate.set()

    def __call__(self, fd: int, data: bytes) -> int:
        self.waiting.set()
        assert self.gate.wait(30), "test never released the disk"
        self.paths.append(os.path.basename(os.readlink(f"/proc/self/fd/{fd}")))
        return write_all(fd, data)


def lines(path: Path) -> list[dict[str, object]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


@pytest.fixture
def sinks() -> Iterator[list[RoutedFileSink]]:
    made: list[RoutedFileSink] = []
    yield made
    for sink in made:
        sink.close()


def test_one_write_per_file_per_batch_with_flush_interval_zero(
    memory_tmp_path: Path, sinks: list[RoutedFileSink]
) -> None:
    writer = RecordingWriter()
    sink = RoutedFileSink(memory_tmp_path, "{category}.jsonl", None, flush_interval=0, write=writer)
    sinks.append(sink)
    sink.write_batch([rec(f"c{i % 3}", seq=i) for i in range(30)])
    assert sorted(writer.paths) == ["c0.jsonl", "c1.jsonl", "c2.jsonl"]
    assert [r["seq"] for r in lines(memory_tmp_path / "c1.jsonl")] == list(range(1, 30, 3))
    assert sink.stats()["writes"] == 3 and sink.stats()["buffered_bytes"] == 0


def test_buffers_are_written_by_the_background_flusher_without_a_flush_call(
    memory_tmp_path: Path, sinks: list[RoutedFileSink]
) -> None:
    sink = RoutedFileSink(memory_tmp_path, "{category}.jsonl", None, flush_interval=0.02)
    sinks.append(sink)
    sink.write_batch([rec("bg", seq=i) for i in range(5)])
    target = memory_tmp_path / "bg.jsonl"
    wait_until(lambda: target.exists() and len(lines(target)) == 5, timeout=10)
    assert sink.stats()["buffered_bytes"] == 0


def test_errors_are_written_and_fsynced_at_the_end_of_their_batch(
    memory_tmp_path: Path, sinks: list[RoutedFileSink]
) -> None:
    sink = RoutedFileSink(
        memory_tmp_path, "{category}.jsonl", {"error": "error.jsonl"}, flush_interval=3600
    )
    sinks.append(sink)
    sink.write_batch([rec("api", seq=1), rec("api", ERROR, seq=2), rec("quiet", seq=3)])
    # No flush() and the flusher sleeps for an hour: the error's files are already durable.
    assert [r["seq"] for r in lines(memory_tmp_path / "error.jsonl")] == [2]
    assert [r["seq"] for r in lines(memory_tmp_path / "api.jsonl")] == [1, 2]
    assert not (memory_tmp_path / "quiet.jsonl").exists()
    assert sink.stats()["fsyncs"] == 2


def test_at_the_cap_errors_then_warnings_then_the_largest_buffers_are_written_first(
    memory_tmp_path: Path, sinks: list[RoutedFileSink]
) -> None:
    writer = RecordingWriter()
    sink = RoutedFileSink(
        memory_tmp_path,
        "{category}.jsonl",
        {"error": "error.jsonl", "warning": "warning.jsonl"},
        max_buffer_bytes=4096,
        flush_interval=3600,
        fsync_levels=(),
        write=writer,
    )
    sinks.append(sink)
    sink.write_batch(
        [rec("small"), rec("errs", ERROR), rec("warns", WARNING)]
        + [rec("big") for _ in range(30)]
        + [rec("mid") for _ in range(4)]
    )
    assert writer.paths == []  # everything fits: nothing written yet
    room = 4096 - sink.stats()["buffered_bytes"]
    assert 0 < room < 1500
    sink.write_batch([rec("tail", pad="x" * 1500)])  # does not fit
    stats = sink.stats()
    assert sorted(writer.paths[:2]) == ["error.jsonl", "errs.jsonl"]
    assert sorted(writer.paths[2:4]) == ["warning.jsonl", "warns.jsonl"]
    # The largest buffer brought the total under half the cap: the small ones stay buffered.
    assert writer.paths[4:] == ["big.jsonl"]
    assert stats["cap_flushes"] == 1
    assert stats["cap_flushed"] == {"error": 2, "warning": 2, "largest": 1}
    assert stats["peak_buffered_bytes"] <= 4096
    assert sink.flush()
    assert sum(len(lines(p)) for p in memory_tmp_path.iterdir()) == 38 + 2


def test_a_slow_disk_keeps_buffered_bytes_under_the_cap_and_nothing_is_lost(
    memory_tmp_path: Path,
) -> None:
    writer = RecordingWriter(held=True)
    cap = 16 * 1024
    sink = RoutedFileSink(
        memory_tmp_path,
        "{category}.jsonl",
        {"warning": "warning.jsonl"},
        max_buffer_bytes=cap,
        flush_interval=0.01,
        write=writer,
    )
    logflume.configure(sinks=[sink], max_queue_records=200, batch_max_records=50, block_timeout=60)
    total = 3000
    done = threading.Event()

    def produce() -> None:
        for i in range(total):
            level = WARNING if i % 100 == 0 else INFO
            logflume.get_logger(f"cat{i % 7}").log(level, "slow disk", seq=i, pad="x" * 60)
        done.set()

    producer = threading.Thread(target=produce)
    producer.start()
    # The disk is stuck: the cap is reached, the writer thread waits, the pipeline queue fills.
    wait_until(
        lambda: sink.stats()["cap_flushes"] >= 1 and logflume.stats()["queued"] >= 150, timeout=20
    )
    held = sink.stats()
    assert held["buffered_bytes"] <= cap and held["peak_buffered_bytes"] <= cap
    assert not done.is_set()  # backpressure reached the caller instead of memory growing
    writer.gate.set()
    producer.join(60)
    assert logflume.flush(timeout=30)
    stats = logflume.stats()
    routed = stats["sinks"][sink.name]
    assert stats["dropped"] == 0 and routed["lost_records"] == 0
    assert routed["peak_buffered_bytes"] <= cap
    assert routed["cap_flushes"] >= 1 and routed["cap_flushed"]["largest"] >= 1
    seqs = sorted(int(r["seq"]) for i in range(7) for r in lines(memory_tmp_path / f"cat{i}.jsonl"))
    assert seqs == list(range(total))
    assert len(lines(memory_tmp_path / "warning.jsonl")) == total // 100


def test_date_rollover_switches_files_and_closes_yesterdays_handles(
    memory_tmp_path: Path, sinks: list[RoutedFileSink]
) -> None:
    now = [1_764_028_799.0]  # 2025-11-24 23:59:59 UTC
    sink = RoutedFileSink(memory_tmp_path, clock=lambda: now[0], flush_interval=3600)
    sinks.append(sink)
    sink.write_batch([rec("api", seq=1), rec("api", ERROR, seq=2)])
    assert sink.flush()
    day1 = str(memory_tmp_path / "2025-11-24")
    assert any(p.startswith(day1) for p in sink.open_paths())
    now[0] += 1.0  # midnight
    sink.write_batch([rec("api", seq=3)])
    assert sink.flush()
    assert not any(p.startswith(day1) for p in sink.open_paths())
    fds = [
        os.readlink(f"/proc/self/fd/{fd}")
        for fd in os.listdir("/proc/self/fd")
        if os.path.exists(f"/proc/self/fd/{fd}")
    ]
    assert not any(target.startswith(day1) for target in fds)
    assert [r["seq"] for r in lines(memory_tmp_path / "2025-11-24" / "api.jsonl")] == [1, 2]
    assert [r["seq"] for r in lines(memory_tmp_path / "2025-11-24" / "error.jsonl")] == [2]
    assert [r["seq"] for r in lines(memory_tmp_path / "2025-11-25" / "api.jsonl")] == [3]
    assert sink.stats()["rollovers"] == 1


def test_hourly_template_rolls_over_every_hour(
    memory_tmp_path: Path, sinks: list[RoutedFileSink]
) -> None:
    now = [1_764_000_000.0]  # 2025-11-24 16:00 UTC
    sink = RoutedFileSink(
        memory_tmp_path,
        "{date}/{hour}/{category}.jsonl",
        None,
        clock=lambda: now[0],
        flush_interval=0,
    )
    sinks.append(sink)
    sink.write_batch([rec("api", seq=1)])
    now[0] += 3600
    sink.write_batch([rec("api", seq=2)])
    assert [r["seq"] for r in lines(memory_tmp_path / "2025-11-24" / "16" / "api.jsonl")] == [1]
    assert [r["seq"] for r in lines(memory_tmp_path / "2025-11-24" / "17" / "api.jsonl")] == [2]


def test_a_permanent_write_error_is_counted_and_other_files_still_get_their_lines(
    memory_tmp_path: Path, sinks: list[RoutedFileSink], capsys: pytest.CaptureFixture[str]
) -> None:
    def writer(fd: int, data: bytes) -> int:
        if os.readlink(f"/proc/self/fd/{fd}").endswith("full.jsonl"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return write_all(fd, data)

    alerts: list[Alert] = []
    alert_file = memory_tmp_path / "alerts" / "ALERTS.txt"
    alert_file.parent.mkdir()
    sink = RoutedFileSink(
        memory_tmp_path / "logs",
        "{category}.jsonl",
        None,
        flush_interval=0,
        write=writer,
        alert_file=alert_file,
        on_alert=alerts.append,
    )
    sinks.append(sink)
    sink.write_batch([rec("full", seq=1), rec("ok", seq=2), rec("full", seq=3)])
    stats = sink.stats()
    assert stats["alerts"] == 1 and len(alerts) == 1
    assert alerts[0].errno == errno.ENOSPC and alerts[0].path.endswith("full.jsonl")
    assert "ENOSPC" in alert_file.read_text()
    assert stats["lost_records"] == 2 and stats["errors_by_errno"] == {"ENOSPC": 1}
    assert stats["retries"] == 0  # ENOSPC is permanent: no retry
    assert "full.jsonl" in (stats["last_io_error"] or "")
    assert [r["seq"] for r in lines(memory_tmp_path / "logs" / "ok.jsonl")] == [2]
    assert "lost_records" in capsys.readouterr().err


def test_a_transient_write_error_is_retried_and_nothing_is_lost(
    memory_tmp_path: Path, sinks: list[RoutedFileSink]
) -> None:
    failures = [errno.EAGAIN]

    def writer(fd: int, data: bytes) -> int:
        if failures:
            raise OSError(failures.pop(), "Resource temporarily unavailable")
        return write_all(fd, data)

    sink = RoutedFileSink(memory_tmp_path, "{category}.jsonl", None, flush_interval=0, write=writer)
    sinks.append(sink)
    sink.write_batch([rec("api", seq=1), rec("api", seq=2)])
    stats = sink.stats()
    assert stats["retries"] == 1 and stats["lost_records"] == 0
    assert stats["errors_by_errno"] == {"EAGAIN": 1} and stats["alerts"] == 0
    assert [r["seq"] for r in lines(memory_tmp_path / "api.jsonl")] == [1, 2]


def test_capture_source_adds_the_module_and_reports_the_cache_hit_rate(
    memory_tmp_path: Path,
) -> None:
    sink = RoutedFileSink(memory_tmp_path, "{category}.jsonl", None, capture_source=True)
    logflume.configure(sinks=[sink], capture_source=True)
    log = logflume.get_logger("src")
    for i in range(10):
        log.info("here", seq=i)  # one code location, ten records
    assert logflume.flush(timeout=10)
    found = lines(memory_tmp_path / "src.jsonl")
    assert {tuple(sorted(r["src"])) for r in found} == {("file", "function", "line", "module")}
    assert found[0]["src"]["module"].endswith("test_routing_sink")
    stats = sink.stats()
    assert stats["src_cache_misses"] == 1 and stats["src_cache_hits"] == 9
    assert stats["src_cache_hit_rate"] == pytest.approx(0.9)


def test_capture_source_without_pipeline_capture_is_counted(
    memory_tmp_path: Path, sinks: list[RoutedFileSink]
) -> None:
    sink = RoutedFileSink(
        memory_tmp_path, "{category}.jsonl", None, capture_source=True, flush_interval=0
    )
    sinks.append(sink)
    sink.write_batch([rec("api"), rec("api")])
    assert sink.stats()["src_missing"] == 2
    assert len(lines(memory_tmp_path / "api.jsonl")) == 2


def test_bad_options_name_themselves(memory_tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="rotate"):
        RoutedFileSink(memory_tmp_path, rotate={"max_bytez": 1024})
    with pytest.raises(ConfigurationError, match="backup_count"):
        RoutedFileSink(memory_tmp_path, rotate={"max_bytes": 1024, "backup_count": 0})
    with pytest.raises(ConfigurationError, match="path"):
        RoutedFileSink(memory_tmp_path, rotate={"path": "elsewhere.jsonl"})
    with pytest.raises(ConfigurationError, match="max_buffer_bytes"):
        RoutedFileSink(memory_tmp_path, max_buffer_bytes=10)
    with pytest.raises(ConfigurationError, match="placeholder"):
        RoutedFileSink(memory_tmp_path, "{day}/{category}.jsonl")
    with pytest.raises(ConfigurationError, match="unknown level"):
        RoutedFileSink(memory_tmp_path, fsync_levels=("loud",))


CATEGORIES = st.sampled_from(["a", "b.c", "../up", "", "x" * 300, "nul\x00", "error", "dé"])


@settings(max_examples=25, deadline=None)
@given(
    batches=st.lists(
        st.lists(st.tuples(CATEGORIES, st.sampled_from([INFO, WARNING, ERROR])), max_size=40),
        max_size=6,
    ),
    max_open=st.integers(1, 4),
    cap=st.sampled_from([1024, 4096, 1 << 20]),
)
def test_every_record_is_written_exactly_once_in_order_per_file(
    batches: list[list[tuple[str, int]]], max_open: int, cap: int
) -> None:
    shm = "/dev/shm" if os.path.isdir("/dev/shm") else None
    with tempfile.TemporaryDirectory(dir=shm) as tmp:
        root = Path(tmp)
        sink = RoutedFileSink(
            root,
            "{category}.jsonl",
            {"warning": "warning.jsonl"},
            category_from="cat",
            max_open=max_open,
            max_buffer_bytes=cap,
            flush_interval=3600,
            fsync_levels=(),
        )
        seq = biggest = 0
        for batch in batches:
            records = []
            for category, level in batch:
                records.append(rec("p", level, cat=category, seq=seq))
                biggest = max(biggest, 2 * len(records[-1].line))  # category + level copy
                seq += 1
            sink.write_batch(records)
        sink.close()
        found = {p.name: [r["seq"] for r in lines(p)] for p in root.iterdir()}
        # Only a record bigger than the cap on its own may exceed it (it is written alone).
        assert sink.stats()["peak_buffered_bytes"] <= max(cap, biggest)
        main = sorted(s for name, seqs in found.items() if name != "warning.jsonl" for s in seqs)
        assert main == list(range(seq))
        for seqs in found.values():
            assert seqs == sorted(seqs)
        flat = [(c, lv) for batch in batches for c, lv in batch]
        assert found.get("warning.jsonl", []) == [
            i for i, (_c, lv) in enumerate(flat) if lv >= WARNING
        ]


def test_rotate_gives_each_routed_file_its_own_rotation_within_the_descriptor_budget(
    memory_tmp_path: Path, sinks: list[RoutedFileSink]
) -> None:
    sink = RoutedFileSink(
        memory_tmp_path,
        "{category}.jsonl",
        None,
        max_open=4,
        flush_interval=0,
        rotate={"max_bytes": 2048, "backup_count": 50},
    )
    sinks.append(sink)
    for start in range(0, 600, 50):
        sink.write_batch([rec(f"c{i % 6}", seq=i) for i in range(start, start + 50)])
        assert len(sink.open_paths()) <= 2  # 4 descriptors: 2 rotating files (file + lock)
    sink.close()
    for n in range(6):
        parts = sorted(memory_tmp_path.glob(f"c{n}.jsonl*"), reverse=True)  # .N ... .1, active
        files = [p for p in parts if not p.name.endswith(".lock")]
        assert len(files) > 1, "the file never rotated"
        assert all(p.stat().st_size <= 2048 for p in files)
        ordered = sorted(files, key=lambda p: -int(p.suffix[1:]) if p.suffix[1:].isdigit() else 0)
        seqs = [r["seq"] for p in ordered for r in lines(p)]
        assert seqs == list(range(n, 600, 6))
    stats = sink.stats()["rotate"]
    assert stats["rotations"] > 6 and stats["lost_records"] == 0
    assert stats["records"] == 600 and stats["open"] == 0
