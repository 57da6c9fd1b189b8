"""EMFILE for real: a child with RLIMIT_NOFILE=40 routes 200 categories and loses nothing."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import orjson
import pytest

CHILD = Path(__file__).with_name("routed_emfile_child.py")

pytestmark = pytest.mark.faults


def test_200_categories_under_a_40_descriptor_limit_lose_nothing(memory_tmp_path: Path) -> None:
    root = memory_tmp_path / "logs"
    proc = subprocess.run(
        [sys.executable, str(CHILD), str(root)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "logflume:" not in proc.stderr  # no write error was reported
    report = orjson.loads(proc.stdout.strip().splitlines()[-1])
    sink = report["sink"]
    assert report["flushed"] and report["dropped"] == 0 and report["failed"] == 0
    assert sink["lost_records"] == 0 and sink["errors_by_errno"] == {}
    assert report["hogged"] > 0
    # The pool really hit EMFILE once the application took the free descriptors, and recovered.
    assert sink["pool"]["emfile_recoveries"] >= 1
    assert sink["pool"]["peak_open"] <= 20  # half of the 40-descriptor limit
    files = sorted(root.glob("*.jsonl"))
    assert len(files) == 200
    phases: Counter[str] = Counter()
    for path in files:
        records = [orjson.loads(line) for line in path.read_bytes().splitlines()]
        category = int(path.stem.removeprefix("cat"))
        phase2 = [r["seq"] for r in records if r["msg"] == "phase2"]
        assert phase2 == list(range(category, 2000, 200))
        phases.update(r["msg"] for r in records)
    assert phases == {"phase1": 200, "phase2": 2000}
