"""One writer per store: a second writer fails fast; readers need no lock."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import logflume
from logflume._record import Record
from logflume.errors import ConfigurationError, LogflumeError
from logflume.formatting import json_line
from logflume.store import SegmentStore, StoreLockedError


def _record(i: int) -> Record:
    record = Record(1_700_000_000_000_000_000 + i, 20, "app", f"m{i}", {}, {})
    record.line = json_line(record)
    return record


def test_second_writer_gets_store_locked_error_within_the_timeout(tmp_path: Path) -> None:
    first = SegmentStore(tmp_path, compression="gzip")
    start = time.monotonic()
    with pytest.raises(StoreLockedError, match="locked by another writer") as caught:
        SegmentStore(tmp_path, compression="gzip", lock_timeout=0.2)
    elapsed = time.monotonic() - start
    assert 0.2 <= elapsed < 2.0
    assert isinstance(caught.value, LogflumeError)
    assert logflume.StoreLockedError is StoreLockedError
    first.close()
    second = SegmentStore(tmp_path, compression="gzip", lock_timeout=0.2)
    second.close()


def test_reader_runs_beside_the_writer_without_the_lock(tmp_path: Path) -> None:
    writer = SegmentStore(tmp_path, compression="gzip")
    writer.write_batch([_record(1), _record(2)])
    reader = SegmentStore(tmp_path, readonly=True)
    assert [r["msg"] for r in reader.query()] == ["m1", "m2"]
    with pytest.raises(ValueError, match="read-only"):
        reader.write_batch([_record(3)])
    writer.close()


def test_bad_options_and_missing_reader_directory_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="compression must be"):
        SegmentStore(tmp_path, compression="lz4")
    with pytest.raises(FileNotFoundError, match="no store directory"):
        SegmentStore(tmp_path / "missing", readonly=True)


def test_segments_roll_by_size_and_retention_deletes_whole_old_segments(tmp_path: Path) -> None:
    store = SegmentStore(tmp_path, compression="gzip", max_segment_bytes=300, max_total_bytes=1000)
    for i in range(40):
        store.write_batch([_record(i)])
    summary = store.summary()
    assert summary["compressed_bytes"] <= 1000 + 300
    assert store.stats()["segments_deleted"] > 0
    msgs = [r["msg"] for r in store.query()]
    assert msgs == [f"m{i}" for i in range(40 - len(msgs), 40)]  # newest kept, in order
    store.close()


def test_forked_child_cannot_append_to_the_parents_store(tmp_path: Path) -> None:
    store = SegmentStore(tmp_path, compression="gzip")
    store.after_fork_in_child()  # what the pipeline calls in a forked child
    with pytest.raises(ValueError, match="owned by the parent process"):
        store.write_batch([_record(1)])
    store.close()
    assert SegmentStore(tmp_path, readonly=True).summary()["records"] == 0
