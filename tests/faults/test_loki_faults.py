"""LokiSink against real faults: a full spool disk (64 KiB tmpfs) and a stopped Loki process."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

import logflume
from logflume.sinks.loki import LokiSink
from logflume.testing.loki_receiver import LokiReceiver, ReceiverProcess

CHILD = Path(__file__).with_name("loki_enospc_child.py")


def _seqs(receiver: LokiReceiver) -> list[int]:
    return [
        orjson.loads(line)["seq"]
        for entries in receiver.streams().values()
        for _, line, _ in entries
    ]


@pytest.mark.faults
def test_full_spool_disk_keeps_batches_in_memory_and_loses_nothing(tmp_path: Path) -> None:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.fail("this fault test needs root and util-linux unshare (tmpfs mount)")
    mount = tmp_path / "mnt"
    mount.mkdir()
    count = 2000
    with LokiReceiver() as receiver:
        receiver.down()
        script = 'mount -t tmpfs -o size=64k tmpfs "$1" && exec "$2" "$3" "$4" "$1" "$5"'
        child = subprocess.Popen(
            ["unshare", "-m", "sh", "-c", script, "sh", str(mount), sys.executable, str(CHILD),
             receiver.url, str(count)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        assert child.stdin is not None and child.stdout is not None
        try:
            tag, _, text = child.stdout.readline().partition(" ")
            assert tag == "FULL", child.stderr.read() if child.stderr else ""
            full: dict[str, Any] = orjson.loads(text)
            receiver.up()
            child.stdin.write("UP\n")
            child.stdin.flush()
            tag, _, text = child.stdout.readline().partition(" ")
            assert tag == "DONE"
            done: dict[str, Any] = orjson.loads(text)
        finally:
            child.stdin.close()
            child.wait(60)
        # While the disk was full: some batches were spooled, the rest waited in memory.
        assert full["flushed"] is False
        assert full["spool_errors"] > 0 and full["alerts"] >= 1
        assert full["spool_entries"] > 0 and full["buffered_entries"] > 0
        assert full["spool_entries"] + full["buffered_entries"] == count
        assert "No space left" in (full["last_alert"] or "")
        # Once Loki was back: everything, exactly once, in order.
        assert done["delivered"] is True
        assert done["dropped"] == 0 and done["lost_records"] == 0
        assert _seqs(receiver) == list(range(count))
        assert receiver.duplicates == 0
    assert child.returncode == 0


@pytest.mark.faults
def test_stopped_loki_times_out_spools_and_delivers_after_it_resumes(tmp_path: Path) -> None:
    server = ReceiverProcess()
    try:
        os.kill(server.pid, signal.SIGSTOP)  # the kernel still accepts; nobody answers
        sink = LokiSink(
            server.url,
            timeout=0.3,
            spool_dir=tmp_path / "spool",
            batch_max_wait=0.01,
            retry_base_delay=0.05,
            retry_max_delay=0.2,
        )
        logflume.configure(sinks=[sink])
        for seq in range(2000):
            logflume.get_logger("app").info("r", seq=seq)
        assert logflume.flush(timeout=30)  # all spooled once the first push timed out
        stats = sink.stats()
        assert stats["spool_entries"] == 2000 and stats["retries"] >= 1
        assert "Timeout" in stats["last_error"]
        os.kill(server.pid, signal.SIGCONT)
        assert sink.wait_delivered(timeout=60)
        logflume.shutdown(timeout=10)
    finally:
        os.kill(server.pid, signal.SIGCONT)
        totals = server.totals()
    # The push that timed out may have been stored too when the server resumed; the
    # byte-identical resend is then dropped as a duplicate, as Loki does.
    assert totals["entries"] == 2000
