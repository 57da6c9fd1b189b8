"""logflume.fs: alert channel (file, callback, counters) and the cross-process lock."""

from __future__ import annotations

import errno
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from logflume.fs import Alert, AlertChannel, OperationFailed, ProcessLock


def _failure() -> OperationFailed:
    return OperationFailed("rename", "/logs/app.log", errno.EBUSY, "Device or resource busy", 4)


def test_alert_is_appended_to_the_file_and_passed_to_the_callback(memory_tmp_path: Path) -> None:
    seen: list[Alert] = []
    alert_file = memory_tmp_path / "ALERT.txt"
    channel = AlertChannel(alert_file, seen.append, stderr=False)
    channel.emit(Alert.from_failure("app", _failure(), timestamp=0.0))
    channel.emit(Alert.from_failure("app", _failure(), timestamp=60.0))
    lines = alert_file.read_text().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("1970-01-01T00:00:00Z ERROR sink=app operation=rename")
    assert "path=/logs/app.log errno=16 (EBUSY) attempts=4" in lines[0]
    assert "Device or resource busy" in lines[0]
    assert [a.operation for a in seen] == ["rename", "rename"]
    assert channel.stats()["alerts"] == 2 and channel.stats()["alert_file_errors"] == 0


def test_an_unwritable_alert_file_falls_back_to_stderr_and_is_counted(
    memory_tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    channel = AlertChannel(memory_tmp_path / "missing-dir" / "ALERT.txt")
    channel.emit(Alert.from_failure("app", _failure()))
    assert "logflume alert:" in capsys.readouterr().err
    assert channel.stats()["alert_file_errors"] == 1


def test_a_raising_callback_is_counted_never_propagated(memory_tmp_path: Path) -> None:
    def bad(alert: Alert) -> None:
        raise RuntimeError("pager down")

    channel = AlertChannel(memory_tmp_path / "A.txt", bad, stderr=False)
    channel.emit(Alert.from_failure("app", _failure()))
    assert channel.stats()["alert_callback_errors"] == 1


def test_warnings_go_to_the_callback_but_not_the_alert_file(memory_tmp_path: Path) -> None:
    seen: list[Alert] = []
    channel = AlertChannel(memory_tmp_path / "A.txt", seen.append, stderr=False)
    channel.emit(Alert(1.0, "app", "free_space", "/logs", None, "low", severity="warning"))
    assert not (memory_tmp_path / "A.txt").exists()
    assert seen[0].severity == "warning" and channel.stats()["alert_warnings"] == 1


def test_process_lock_excludes_another_process_until_released(memory_tmp_path: Path) -> None:
    lock_path = memory_tmp_path / "app.log.lock"
    probe = textwrap.dedent(f"""
        import fcntl, os
        fd = os.open({str(lock_path)!r}, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            print("free")
        except BlockingIOError:
            print("held")
    """)

    def other_process_sees() -> str:
        return subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, check=True
        ).stdout.strip()

    lock = ProcessLock(lock_path)
    with lock as flocked:
        assert flocked
        assert other_process_sees() == "held"
    assert other_process_sees() == "free"
    lock.close()


def test_process_lock_degrades_to_a_thread_lock_when_the_file_cannot_be_made(
    memory_tmp_path: Path,
) -> None:
    lock = ProcessLock(memory_tmp_path / "no-such-dir" / "x.lock")
    with lock as flocked:
        assert flocked is False
    assert lock.failures == 1
