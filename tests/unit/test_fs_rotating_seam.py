"""RotatingFileSink's retry, alert and degradation paths, driven through the FileOps seam.

A ``FaultyOps`` fails chosen calls with chosen errnos and records backoff sleeps
instead of sleeping, so these tests are deterministic and take milliseconds. The
same paths are proven against the real kernel in ``tests/faults``.
"""

from __future__ import annotations

import errno
import os
from collections import defaultdict
from pathlib import Path

import orjson
import pytest

from logflume import MemorySink, Record
from logflume.fs import Alert, OsFileOps
from logflume.sinks.rotating import RotatingFileSink


class FaultyOps(OsFileOps):
    """Real file operations, except that queued errnos make the next calls fail."""

    def __init__(self) -> None:
        self.faults: dict[str, list[int]] = defaultdict(list)
        self.sleeps: list[float] = []
        self.short_write: int | None = None  # next write stops after this many bytes

    def _maybe_fail(self, op: str) -> None:
        if self.faults[op]:
            code = self.faults[op].pop(0)
            raise OSError(code, os.strerror(code))

    def fail(self, op: str, code: int, times: int = 1) -> None:
        self.faults[op].extend([code] * times)

    def open(self, path: str, flags: int, mode: int) -> int:
        self._maybe_fail("open")
        return super().open(path, flags, mode)

    def write(self, fd: int, data: memoryview) -> int:
        if self.short_write is not None:
            n, self.short_write = self.short_write, None
            return super().write(fd, data[:n])
        self._maybe_fail("write")
        return super().write(fd, data)

    def rename(self, src: str, dst: str) -> None:
        self._maybe_fail("rename")
        super().rename(src, dst)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


def rec(i: int, pad: int = 0) -> Record:
    line = orjson.dumps({"i": i, "pad": "x" * pad}) + b"\n"
    return Record(0, 20, "t", "m", {}, {}, line=line)


def read_all(directory: Path) -> list[int]:
    """Record numbers in every log file (active and plain backups), oldest file first."""
    files = sorted(
        (
            p
            for p in directory.iterdir()
            if p.name.startswith("app.log") and not p.name.endswith(".lock")
        ),
        key=lambda p: -int(p.suffix[1:]) if p.suffix[1:].isdigit() else 0,
    )
    out: list[int] = []
    for path in files:
        for line in path.read_bytes().splitlines():
            out.append(orjson.loads(line)["i"])
    return out


def make_sink(
    tmp: Path, ops: FaultyOps, **kw: object
) -> tuple[RotatingFileSink, list[Alert], MemorySink]:
    alerts: list[Alert] = []
    fallback = MemorySink()
    options: dict[str, object] = {
        "fallback": fallback,
        "max_bytes": 100,
        "backup_count": 50,
        "compress": None,
        "max_total_bytes": None,
        "min_free_bytes": 0,
        "recover_interval": 0.0,
        "ops": ops,
        "alert_path": tmp / "alerts" / "ALERT.txt",
    }
    options.update(kw)
    (tmp / "alerts").mkdir(exist_ok=True)
    sink = RotatingFileSink(tmp / "app.log", on_alert=alerts.append, **options)  # type: ignore[arg-type]
    return sink, alerts, fallback


def test_transient_rename_error_is_retried_with_backoff_and_rotation_succeeds(
    memory_tmp_path: Path,
) -> None:
    ops = FaultyOps()
    sink, alerts, _fallback = make_sink(memory_tmp_path, ops)
    sink.write_batch([rec(i) for i in range(5)])  # ~80 bytes
    ops.fail("rename", errno.EBUSY, times=2)
    sink.write_batch([rec(i) for i in range(5, 10)])
    stats = sink.stats()
    assert stats["rotations"] == 1 and stats["rotation_failures"] == 0
    assert len(ops.sleeps) == 2
    assert 0.09 <= ops.sleeps[0] <= 0.11 and 0.18 <= ops.sleeps[1] <= 0.22
    assert stats["retries"] == 2 and alerts == []
    assert read_all(memory_tmp_path) == list(range(10))
    sink.close()


def test_exhausted_rename_retries_alert_keep_writing_and_recover(memory_tmp_path: Path) -> None:
    ops = FaultyOps()
    sink, alerts, fallback = make_sink(memory_tmp_path, ops)
    sink.write_batch([rec(i) for i in range(5)])
    ops.fail("rename", errno.EBUSY, times=4)  # first try + 3 retries
    sink.write_batch([rec(i) for i in range(5, 10)])
    stats = sink.stats()
    assert stats["rotation_failures"] == 1 and stats["rotations"] == 0
    assert stats["degraded"] == ["rotate"]
    assert len(alerts) == 1 and alerts[0].operation == "rename"
    assert alerts[0].errno == errno.EBUSY and alerts[0].attempts == 4
    alert_text = (memory_tmp_path / "alerts" / "ALERT.txt").read_text()
    assert "operation=rename" in alert_text and "errno=16 (EBUSY)" in alert_text
    # Degraded: the current file kept every record, past max_bytes.
    assert (memory_tmp_path / "app.log").stat().st_size > 100
    assert fallback.records == []
    sink.write_batch([rec(i) for i in range(10, 15)])  # fault cleared: rotation retried
    stats = sink.stats()
    assert stats["rotations"] >= 1 and stats["recoveries"] == 1 and stats["degraded"] == []
    assert read_all(memory_tmp_path) == list(range(15))
    sink.close()


def test_permanent_write_error_is_not_retried_and_records_go_to_the_fallback(
    memory_tmp_path: Path,
) -> None:
    ops = FaultyOps()
    sink, alerts, fallback = make_sink(memory_tmp_path, ops, max_bytes=10_000)
    sink.write_batch([rec(0)])
    ops.fail("write", errno.EIO)
    sink.write_batch([rec(1), rec(2)])
    assert ops.sleeps == []
    assert [orjson.loads(r.line)["i"] for r in fallback.records] == [1, 2]
    assert len(alerts) == 1 and alerts[0].operation == "write" and alerts[0].errno == errno.EIO
    ops.fail("write", errno.EIO)
    sink.write_batch([rec(3)])  # still failing: one more fallback, no second alert
    assert len(alerts) == 1 and len(fallback.records) == 3
    sink.write_batch([rec(4)])  # fault cleared: the file is reopened and written again
    stats = sink.stats()
    assert stats["recoveries"] == 1 and stats["write_failures"] == 2
    assert stats["fallback_records"] == 3 and stats["lost_records"] == 0
    assert read_all(memory_tmp_path) == [0, 4]
    sink.close()


def test_records_neither_file_nor_fallback_accepts_are_counted_as_lost(
    memory_tmp_path: Path,
) -> None:
    class BrokenSink(MemorySink):
        def write_batch(self, records: object) -> None:
            raise OSError(errno.EPIPE, "stderr closed")

    ops = FaultyOps()
    sink, _alerts, _ = make_sink(memory_tmp_path, ops, fallback=BrokenSink())
    ops.fail("write", errno.EROFS)
    sink.write_batch([rec(1), rec(2), rec(3)])
    assert sink.stats()["lost_records"] == 3
    sink.close()


def test_open_failure_at_start_degrades_to_fallback_then_recovers(memory_tmp_path: Path) -> None:
    ops = FaultyOps()
    ops.fail("open", errno.EACCES)
    sink, alerts, fallback = make_sink(memory_tmp_path, ops)
    assert alerts[0].operation == "open" and alerts[0].errno == errno.EACCES
    sink.write_batch([rec(1)])
    assert read_all(memory_tmp_path) == [1] and fallback.records == []
    assert sink.stats()["recoveries"] == 1
    sink.close()


def test_writes_during_the_recover_interval_skip_the_failing_file(memory_tmp_path: Path) -> None:
    ops = FaultyOps()
    sink, _alerts, fallback = make_sink(memory_tmp_path, ops, recover_interval=3600.0)
    ops.fail("write", errno.EIO)
    sink.write_batch([rec(1)])
    sink.write_batch([rec(2)])  # the file would work now, but is not probed yet
    assert [orjson.loads(r.line)["i"] for r in fallback.records] == [1, 2]
    sink.close()


def test_short_write_then_enospc_leaves_no_torn_line(memory_tmp_path: Path) -> None:
    ops = FaultyOps()
    sink, _alerts, fallback = make_sink(memory_tmp_path, ops, max_bytes=10_000)
    first, second = rec(1, pad=30), rec(2, pad=30)
    ops.short_write = len(first.line) + 10  # first record and part of the second land
    ops.fail("write", errno.ENOSPC)
    sink.write_batch([first, second])
    assert (memory_tmp_path / "app.log").read_bytes() == first.line
    assert [orjson.loads(r.line)["i"] for r in fallback.records] == [2]
    assert sink.stats()["torn_repaired"] == 1
    sink.write_batch([rec(3)])
    assert read_all(memory_tmp_path) == [1, 3]
    sink.close()


def test_out_of_space_sheds_the_oldest_backup_and_retries(memory_tmp_path: Path) -> None:
    ops = FaultyOps()
    sink, alerts, fallback = make_sink(memory_tmp_path, ops)
    for i in range(0, 20, 5):
        sink.write_batch([rec(n) for n in range(i, i + 5)])
    backups_before = sorted(p.name for p in memory_tmp_path.glob("app.log.*[0-9]"))
    assert len(backups_before) == 3
    ops.fail("write", errno.ENOSPC)
    sink.write_batch([rec(20)])
    assert fallback.records == [] and alerts == []
    assert sink.stats()["shed_backups"] == 1
    # The oldest backup (records 0-4) made room; everything newer is intact.
    assert read_all(memory_tmp_path) == list(range(5, 21))
    sink.close()


def test_a_record_larger_than_max_bytes_gets_a_file_of_its_own_unsplit(
    memory_tmp_path: Path,
) -> None:
    ops = FaultyOps()
    sink, _, _ = make_sink(memory_tmp_path, ops, max_bytes=100)
    big = rec(1, pad=300)
    sink.write_batch([rec(0), big, rec(2)])
    assert (memory_tmp_path / "app.log.1").read_bytes() == big.line
    assert read_all(memory_tmp_path) == [0, 1, 2]
    assert sink.stats()["oversize_records"] == 1
    sink.close()


def test_retry_attempts_is_not_exposed_to_the_pipeline_as_its_own_retry_count(
    memory_tmp_path: Path,
) -> None:
    sink, _, _ = make_sink(memory_tmp_path, FaultyOps(), retry_attempts=7)
    # The pipeline re-calls write_batch `retry_attempts` times; this sink retries inside.
    assert not hasattr(sink, "retry_attempts")
    assert sink.retry_policy.attempts == 7
    sink.close()


@pytest.mark.parametrize(
    "bad",
    [
        {"backup_count": 0},
        {"max_bytes": 0},
        {"max_bytes": None, "when": None},
        {"when": "weekly"},
        {"compress": "bz2"},
        {"max_total_bytes": 10},
    ],
)
def test_bad_options_raise_configuration_errors_naming_the_option(
    memory_tmp_path: Path, bad: dict[str, object]
) -> None:
    from logflume import ConfigurationError

    with pytest.raises(ConfigurationError):
        RotatingFileSink(memory_tmp_path / "app.log", **bad)  # type: ignore[arg-type]
