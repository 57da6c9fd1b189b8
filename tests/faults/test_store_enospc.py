"""A full disk mid-append: the error reaches the caller, the partial frame is cut off,
every acknowledged record reads back and appending resumes once space is freed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

CHILD = Path(__file__).with_name("store_enospc_child.py")


@pytest.mark.faults
def test_full_disk_mid_append_loses_nothing_acknowledged(tmp_path: Path) -> None:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.fail("this fault test needs root and util-linux unshare (tmpfs mount)")
    mount = tmp_path / "mnt"
    mount.mkdir()
    script = 'mount -t tmpfs -o size=64k tmpfs "$1" && exec "$2" "$3" "$1"'
    proc = subprocess.run(
        ["unshare", "-m", "sh", "-c", script, "sh", str(mount), sys.executable, str(CHILD)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    result = orjson.loads(proc.stdout)
    assert result["errno"] == result["enospc"]
    assert result["frames_undone"] == 1
    assert len(result["acked"]) > 10
    assert result["stored"] == [*result["acked"], -1]
