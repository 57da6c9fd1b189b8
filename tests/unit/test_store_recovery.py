"""Crash recovery: a segment cut at any byte reopens with exactly its complete batches."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from logflume._record import Record
from logflume.formatting import json_line
from logflume.store import SegmentStore
from logflume.store.index import index_path, list_segments


def _record(i: int, text: str) -> Record:
    record = Record(1_700_000_000_000_000_000 + i * 1000, 20, "app", text, {}, {"i": i})
    record.line = json_line(record)
    return record


@settings(
    max_examples=50,
    deadline=None,
)
@given(
    batches=st.lists(
        st.lists(st.text(max_size=30), min_size=1, max_size=6), min_size=1, max_size=8
    ),
    cut_fraction=st.floats(min_value=0.0, max_value=1.0),
    compression=st.sampled_from(["gzip", "zstd"]),
)
def test_reopen_after_truncation_recovers_exactly_the_complete_batches(
    batches: list[list[str]], cut_fraction: float, compression: str
) -> None:
    directory = Path(tempfile.mkdtemp(dir="/dev/shm" if os.path.isdir("/dev/shm") else None))
    try:
        _truncate_and_reopen(directory, batches, cut_fraction, compression)
    finally:
        shutil.rmtree(directory)


def _truncate_and_reopen(
    directory: Path, batches: list[list[str]], cut_fraction: float, compression: str
) -> None:
    store = SegmentStore(directory, compression=compression)
    ends: list[int] = []
    n = 0
    for texts in batches:
        store.write_batch([_record(n + k, t) for k, t in enumerate(texts)])
        n += len(texts)
        ends.append(store._writer.path.stat().st_size)  # type: ignore[union-attr]
    store.close()
    [segment] = list_segments(directory)
    cut = int(cut_fraction * ends[-1])
    os.truncate(segment, cut)

    reopened = SegmentStore(directory, compression=compression)
    kept = [b for b, end in zip(batches, ends, strict=True) if end <= cut]
    expected = [t for texts in kept for t in texts]
    assert [r["msg"] for r in reopened.query()] == expected
    torn = cut - (max([e for e in ends if e <= cut], default=0))
    assert reopened.stats()["torn_bytes_recovered"] == torn
    assert segment.stat().st_size == cut - torn

    reopened.write_batch([_record(10_000, "after crash")])
    assert [r["msg"] for r in reopened.query()] == [*expected, "after crash"]
    reopened.close()
    assert index_path(segment).stat().st_size > 0


def test_torn_tail_is_moved_aside_not_discarded(tmp_path: Path) -> None:
    store = SegmentStore(tmp_path, compression="gzip")
    store.write_batch([_record(0, "kept")])
    store.write_batch([_record(1, "torn")])
    store.close()
    [segment] = list_segments(tmp_path)
    whole = segment.read_bytes()
    os.truncate(segment, len(whole) - 5)

    reopened = SegmentStore(tmp_path, compression="gzip")
    [aside] = reopened.torn_paths
    assert [r["msg"] for r in reopened.query()] == ["kept"]
    assert segment.read_bytes() + aside.read_bytes() == whole[:-5]
    reopened.close()


def test_missing_or_stale_index_is_rebuilt_from_the_segment(tmp_path: Path) -> None:
    store = SegmentStore(tmp_path, compression="zstd")
    for i in range(5):
        store.write_batch([_record(i, f"m{i}")])
    store.close()
    [segment] = list_segments(tmp_path)
    index = index_path(segment)
    full_index = index.read_bytes()
    index.write_bytes(full_index[: len(full_index) // 2])  # stale: covers ~2 frames
    reader = SegmentStore(tmp_path, readonly=True)
    assert [r["msg"] for r in reader.query()] == [f"m{i}" for i in range(5)]
    index.unlink()
    assert [r["msg"] for r in reader.query()] == [f"m{i}" for i in range(5)]
    SegmentStore(tmp_path, compression="zstd").close()  # the writer rewrites it
    assert index.read_bytes() == full_index
