"""HandlePool: bounded open files, LRU eviction, idle close, EMFILE recovery, no close in use."""

from __future__ import annotations

import errno
import os
import resource
import threading
from pathlib import Path

import pytest

from logflume.fs import HandlePool, write_all
from logflume.fs.handle_pool import fd_budget
from logflume.testing import wait_until


def write(pool: HandlePool, path: Path, data: bytes) -> None:
    with pool.handle(path) as fd:
        write_all(fd, data)


def test_at_most_max_open_files_are_open_and_the_least_recent_is_evicted(
    memory_tmp_path: Path,
) -> None:
    pool = HandlePool(max_open=2)
    a, b, c = (memory_tmp_path / n for n in ("a", "b", "c"))
    write(pool, a, b"1")
    write(pool, b, b"1")
    write(pool, a, b"2")  # a is now the most recent
    write(pool, c, b"1")
    assert pool.open_paths() == [str(a), str(c)]
    assert pool.stats()["evictions"] == 1
    assert pool.stats()["peak_open"] == 2
    write(pool, b, b"2")
    assert a.read_bytes() == b"12" and b.read_bytes() == b"12" and c.read_bytes() == b"1"
    pool.close_all()
    assert pool.open_paths() == []


def test_missing_parent_directories_are_created(memory_tmp_path: Path) -> None:
    pool = HandlePool()
    target = memory_tmp_path / "x" / "y" / "z.jsonl"
    write(pool, target, b"ok\n")
    assert target.read_bytes() == b"ok\n"
    pool.close_all()


def test_a_handle_in_use_is_never_evicted_the_other_opener_waits(memory_tmp_path: Path) -> None:
    pool = HandlePool(max_open=1)
    first, second = memory_tmp_path / "first", memory_tmp_path / "second"
    release = threading.Event()
    opened = threading.Event()

    def other() -> None:
        write(pool, second, b"second")
        opened.set()

    with pool.handle(first) as fd:
        thread = threading.Thread(target=other)
        thread.start()
        wait_until(lambda: pool.stats()["waits"] >= 1, timeout=10)
        assert not opened.is_set()
        write_all(fd, b"still open")  # the in-flight handle was not closed under us
        release.set()
    thread.join(10)
    assert opened.is_set()
    assert first.read_bytes() == b"still open" and second.read_bytes() == b"second"
    pool.close_all()


def test_emfile_on_open_evicts_and_retries_then_holds_fewer(memory_tmp_path: Path) -> None:
    real_open = os.open
    calls = {"n": 0}

    def opener(path: str, flags: int, mode: int) -> int:
        calls["n"] += 1
        if calls["n"] == 4:  # the fourth open finds the process out of descriptors
            raise OSError(errno.EMFILE, "Too many open files")
        return real_open(path, flags, mode)

    pool = HandlePool(max_open=8, opener=opener)
    for name in "abcd":
        write(pool, memory_tmp_path / name, name.encode())
    stats = pool.stats()
    assert stats["emfile_recoveries"] == 1 and stats["evictions"] == 1
    assert stats["limit"] == 2  # what the process could hold when open failed
    for name in "abcdef":
        write(pool, memory_tmp_path / name, b"+")
    assert len(pool.open_paths()) <= 2
    assert (memory_tmp_path / "d").read_bytes() == b"d+"
    pool.close_all()


def test_emfile_with_nothing_to_give_back_reaches_the_caller(memory_tmp_path: Path) -> None:
    def opener(path: str, flags: int, mode: int) -> int:
        raise OSError(errno.EMFILE, "Too many open files")

    pool = HandlePool(opener=opener)
    with pytest.raises(OSError) as info, pool.handle(memory_tmp_path / "a"):
        pass
    assert info.value.errno == errno.EMFILE


def test_idle_handles_are_closed_after_idle_close(memory_tmp_path: Path) -> None:
    now = [100.0]
    pool = HandlePool(idle_close=60, clock=lambda: now[0])
    write(pool, memory_tmp_path / "old", b"x")
    now[0] = 130.0
    write(pool, memory_tmp_path / "new", b"x")
    now[0] = 165.0
    assert pool.close_idle() == 1
    assert pool.open_paths() == [str(memory_tmp_path / "new")]
    assert pool.stats()["idle_closes"] == 1
    pool.close_all()


def test_close_all_waits_for_a_write_in_flight(memory_tmp_path: Path) -> None:
    pool = HandlePool()
    closed = threading.Event()

    def close() -> None:
        pool.close_all()
        closed.set()

    with pool.handle(memory_tmp_path / "a") as fd:
        thread = threading.Thread(target=close)
        thread.start()
        wait_until(lambda: pool.stats()["waits"] >= 1, timeout=10)
        assert not closed.is_set()
        write_all(fd, b"done")
    thread.join(10)
    assert closed.is_set() and pool.open_paths() == []
    assert (memory_tmp_path / "a").read_bytes() == b"done"


def test_the_pool_keeps_half_the_descriptor_limit_for_the_application() -> None:
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert fd_budget(10**9) == soft // 2
    assert fd_budget(3) == 3
    assert HandlePool(max_open=10**9).limit == soft // 2


def test_bad_options_are_refused() -> None:
    with pytest.raises(ValueError, match="max_open"):
        HandlePool(max_open=0)
    with pytest.raises(ValueError, match="idle_close"):
        HandlePool(idle_close=-1)


def test_a_file_deleted_or_moved_away_is_reopened_not_written_into_the_void(
    memory_tmp_path: Path,
) -> None:
    pool = HandlePool()
    target = memory_tmp_path / "app.jsonl"
    write(pool, target, b"one\n")
    target.rename(memory_tmp_path / "app.jsonl.1")  # logrotate moved it
    write(pool, target, b"two\n")
    target.unlink()  # a cleanup job deleted it
    write(pool, target, b"three\n")
    assert (memory_tmp_path / "app.jsonl.1").read_bytes() == b"one\n"
    assert target.read_bytes() == b"three\n"
    assert pool.stats()["reopened"] == 2
    pool.close_all()
