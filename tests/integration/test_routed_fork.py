"""A forked child writes its own records through an inherited RoutedFileSink, never the parent's."""

from __future__ import annotations

import os
from pathlib import Path

import orjson

import logflume
from logflume import RoutedFileSink
from logflume.testing import wait_until


def test_a_forked_child_does_not_write_the_parents_buffered_lines_again(
    memory_tmp_path: Path,
) -> None:
    sink = RoutedFileSink(memory_tmp_path, "{category}.jsonl", None, flush_interval=3600)
    logflume.configure(sinks=[sink])
    log = logflume.get_logger("shared")
    for seq in range(5):
        log.info("parent", seq=seq)
    # Routed into the sink's buffers but not written: the flusher sleeps for an hour.
    wait_until(lambda: sink.stats()["records"] == 5, timeout=10)
    assert sink.stats()["buffered_bytes"] > 0
    assert not (memory_tmp_path / "shared.jsonl").exists()
    pid = os.fork()
    if pid == 0:  # child
        ok = False
        try:
            for seq in range(3):
                log.info("child", seq=seq)
            ok = logflume.flush(timeout=10)
        finally:
            os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert logflume.flush(timeout=10)
    records = [
        orjson.loads(x) for x in (memory_tmp_path / "shared.jsonl").read_bytes().split(b"\n") if x
    ]
    assert sorted((r["msg"], r["seq"]) for r in records) == sorted(
        [("parent", s) for s in range(5)] + [("child", s) for s in range(3)]
    )
