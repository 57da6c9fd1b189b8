"""ENOSPC for real (a 64 KiB tmpfs): losses are counted and alerted, never raised or glued."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

CHILD = Path(__file__).with_name("routed_enospc_child.py")

pytestmark = pytest.mark.faults


def _need_mount_namespace() -> None:
    missing = [tool for tool in ("unshare", "mount") if shutil.which(tool) is None]
    if missing or os.geteuid() != 0:
        pytest.fail(
            f"this fault test needs root and unshare/mount (missing: {missing or 'root'}); "
            "run it as root on Linux, as .ci/run does",
            pytrace=False,
        )


def test_a_full_disk_loses_only_counted_records_and_writing_resumes(tmp_path: Path) -> None:
    _need_mount_namespace()
    root = tmp_path / "small"
    root.mkdir()
    script = (
        f"mount -t tmpfs -o size=64k tmpfs {root} && "
        f"exec {sys.executable} {CHILD} {root} > {tmp_path / 'out.json'}"
    )
    proc = subprocess.run(
        ["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    report = orjson.loads((tmp_path / "out.json").read_text())
    sink = report["sink"]
    # The app never saw an exception; the losses are counted, alerted and reported.
    assert report["dropped"] == 0
    assert not report["full_flush_ok"]  # flush() says records were lost
    assert report["lost_when_full"] > 0
    assert sink["errors_by_errno"].get("ENOSPC", 0) >= 1
    assert report["alerts"] >= 1 and "lost_records" in proc.stderr
    assert report["after_flush_ok"]
    # 600 records of ~290 bytes cannot fit in 64 KiB: most were lost, none silently.
    assert sink["lost_records"] == report["lost_when_full"]
    assert sink["records"] == 640
    written = sink["records"] - sink["lost_records"]
    assert 0 < written < 640
    # Every record after the disk had room again is there and readable: a line cut by
    # ENOSPC was terminated first, not glued to the next record.
    seqs = report["seqs"]
    assert len(seqs) == len(set(seqs))
    assert [s for s in seqs if s >= 600] == sorted(range(600, 640), key=lambda s: (s % 4, s))
    assert report["fragments"] <= 2  # at most one cut line in each file that was kept
