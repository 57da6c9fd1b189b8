"""Real readers of a store: zcat/zstdcat, a follower beside the writer, the pipeline."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path
from typing import Any

import orjson
import pytest

import logflume
from logflume._record import Record
from logflume.formatting import json_line
from logflume.store import SegmentStore
from logflume.store.index import list_segments
from logflume.testing import wait_until


def _record(i: int) -> Record:
    record = Record(1_700_000_000_000_000_000 + i, 20, "app", "event", {}, {"i": i})
    record.line = json_line(record)
    return record


@pytest.mark.parametrize(("compression", "tool"), [("gzip", "zcat"), ("zstd", "zstdcat")])
def test_standard_tool_reads_a_segment_as_json_lines(
    tmp_path: Path, compression: str, tool: str
) -> None:
    store = SegmentStore(tmp_path, compression=compression)
    for start in range(0, 30, 10):
        store.write_batch([_record(i) for i in range(start, start + 10)])
    store.close()
    [segment] = list_segments(tmp_path)
    out = subprocess.run([tool, str(segment)], capture_output=True, check=True, timeout=30)
    assert [orjson.loads(x)["i"] for x in out.stdout.splitlines()] == list(range(30))


def test_follower_sees_every_record_exactly_once_while_the_writer_appends(
    tmp_path: Path,
) -> None:
    writer = SegmentStore(tmp_path, compression="zstd", max_segment_bytes=2048)
    reader = SegmentStore(tmp_path, readonly=True)
    start = reader.end_position()
    stop = threading.Event()
    seen: list[int] = []

    def follow() -> None:
        for obj, _ in reader.follow(stop, start=start, poll=0.005):
            seen.append(obj["i"])

    thread = threading.Thread(target=follow)
    thread.start()
    try:
        for batch in range(60):
            writer.write_batch([_record(batch * 7 + k) for k in range(7)])
        wait_until(lambda: len(seen) >= 420, timeout=10)
    finally:
        stop.set()
        thread.join(5)
    writer.close()
    assert seen == list(range(420))
    assert len(list_segments(tmp_path)) > 2  # the follower crossed segment rolls


def test_pipeline_delivers_every_logged_record_into_the_store(tmp_path: Path) -> None:
    store = SegmentStore(tmp_path / "store", compression="gzip")
    logflume.configure(sinks=[store], level="DEBUG")
    log = logflume.get_logger("checkout").bind(service="shop")
    for i in range(500):
        log.info("order placed", user_id=i % 7, ip="10.0.0.1", ok=True)
    log.error("payment timeout", user_id=7)
    assert logflume.flush(timeout=10)
    logflume.shutdown()
    reader = SegmentStore(tmp_path / "store", readonly=True)
    rows: list[dict[str, Any]] = list(reader.query())
    assert len(rows) == 501
    assert [r["msg"] for r in reader.query(level="error", contains="timeout")] == [
        "payment timeout"
    ]
    assert reader.summary()["records"] == 501
