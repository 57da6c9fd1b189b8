"""kill -9 mid-append, 20 times: every reopen succeeds and no acknowledged record is lost."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from pathlib import Path

from logflume.store import SegmentStore

CHILD = Path(__file__).with_name("store_kill_child.py")


def test_store_survives_kill_9_mid_append_and_counts_only_grow(tmp_path: Path) -> None:
    rng = random.Random(9)
    directory = tmp_path / "store"
    previous = 0
    for _ in range(20):
        child = subprocess.Popen(
            [sys.executable, str(CHILD), str(directory)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert child.stdout is not None
        acknowledged = previous
        for _ in range(rng.randrange(1, 6)):
            line = child.stdout.readline()
            assert line, child.stderr.read().decode() if child.stderr else "child died"
            acknowledged = int(line)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
        child.stdout.close()
        if child.stderr:
            child.stderr.close()

        store = SegmentStore(directory, compression="zstd", lock_timeout=5)
        ids = [r["i"] for r in store.query()]
        store.close()
        assert ids == list(range(len(ids)))  # in order, none twice, none missing
        assert len(ids) >= acknowledged >= previous
        previous = len(ids)
    assert previous > 20
