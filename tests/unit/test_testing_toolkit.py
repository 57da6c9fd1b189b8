"""The pytest plugin's fixtures and helpers."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

import logflume
from logflume.testing import Capture, WaitTimeout, wait_until


def test_memory_tmp_path_is_on_tmpfs_when_dev_shm_exists(memory_tmp_path: Path) -> None:
    assert memory_tmp_path.is_dir() and not any(memory_tmp_path.iterdir())
    if Path("/dev/shm").is_dir():
        assert str(memory_tmp_path).startswith("/dev/shm/")


def test_wait_until_returns_the_first_truthy_value() -> None:
    box: list[int] = []
    threading.Timer(0.01, box.append, args=(42,)).start()
    assert wait_until(lambda: box and box[0], timeout=5) == 42


def test_wait_until_raises_with_the_message_after_the_timeout() -> None:
    with pytest.raises(WaitTimeout, match="never true"):
        wait_until(lambda: False, timeout=0.05, message="never true")


def test_wait_until_fixture_is_the_helper(wait_until: object) -> None:
    from logflume.testing import wait_until as helper

    assert wait_until is helper


def test_capture_assertions_report_what_was_captured(logflume_capture: Capture) -> None:
    log = logflume.get_logger("cap")
    log.info("one", n=1)
    log.info("one", n=2)
    assert len(logflume_capture.assert_logged("one", count=2)) == 2
    logflume_capture.assert_not_logged("two")
    with pytest.raises(AssertionError, match="found 0") as info:
        logflume_capture.assert_logged("one", n=3)
    assert "'n': 2" in str(info.value)
    with pytest.raises(AssertionError, match="expected no matching record"):
        logflume_capture.assert_not_logged("one", n=1)
