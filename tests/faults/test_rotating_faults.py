"""Real faults against RotatingFileSink: libfiu-injected EBUSY/EIO/EAGAIN, a full tmpfs,
a read-only directory for an unprivileged user, and kill -9 mid-rotation/compression.

These need root, ``unshare``, ``setpriv`` and ``fiu-run`` (Debian ``fiu-utils``); a
missing tool fails the test with the reason, it is never skipped.
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from logflume.sinks.rotating import RotatingFileSink
from logflume.testing import wait_until

sys.path.insert(0, str(Path(__file__).parent.parent / "integration"))
from rotating_files import backup_indices, read_records

pytestmark = pytest.mark.faults
CHILD = Path(__file__).parent / "rotating_fault_child.py"


def need(tool: str) -> str:
    found = shutil.which(tool)
    if found is None:
        pytest.fail(
            f"{tool} is required for this fault test (apt-get install -y fiu-utils "
            f"util-linux); it is installed by .ci/run"
        )
    if os.geteuid() != 0:
        pytest.fail("fault tests need root (mounts, setpriv)")
    return found


def run_child(argv: list[str], **kw: Any) -> dict[str, Any]:
    proc = subprocess.run(argv, capture_output=True, timeout=60, check=False, **kw)
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    result: dict[str, Any] = orjson.loads(proc.stdout.splitlines()[-1])
    return result


def test_fiu_injected_rename_and_write_faults_are_retried_alerted_and_recovered(
    memory_tmp_path: Path,
) -> None:
    fiu_run = need("fiu-run")
    out = run_child(
        [fiu_run, "-x", "-f", "", sys.executable, str(CHILD), "fiu", str(memory_tmp_path)]
    )
    # EBUSY on rename() twice: retried after two backoff sleeps, rotation done, no alert.
    assert out["transient"] == {"sleeps": 2, "rotations": 1, "alerts": 0}
    # EBUSY that never clears: 4 calls, one alert, records kept in the current file.
    assert out["exhausted"]["alerts"] == [["rename", errno.EBUSY, 4]]
    assert out["exhausted"]["degraded"] == ["rotate"] and out["exhausted"]["fallback"] == 0
    assert out["exhausted"]["recovered"]
    # EIO on write() is permanent: not retried, the batch goes to the fallback, then recovery.
    assert out["eio"]["retries"] == 0 and out["eio"]["fallback"] == [21, 22]
    assert out["eio"]["alert"] == ["write", errno.EIO] and out["eio"]["recoveries"] == 2
    # EAGAIN on write() is transient: retried, nothing more in the fallback.
    assert out["eagain"]["fallback"] == 2
    rows = [r["i"] for r in read_records(memory_tmp_path / "app.log")]
    assert rows == [i for i in range(25) if i not in (21, 22)]
    alert_file = (memory_tmp_path / "ALERT_LOG_ROTATION_FAILED.txt").read_text()
    assert "operation=rename" in alert_file and "(EBUSY)" in alert_file


def test_full_disk_sends_records_to_the_fallback_and_recovers_when_space_returns(
    memory_tmp_path: Path,
) -> None:
    unshare = need("unshare")
    script = (
        f"mount -t tmpfs -o size=64k tmpfs {memory_tmp_path} && exec {sys.executable} "
        f"{CHILD} enospc {memory_tmp_path}"
    )
    out = run_child([unshare, "-m", "sh", "-c", script])
    assert out["alerts"][0] == ["write", errno.ENOSPC]
    assert out["fallback"], "the full disk never refused a write"
    stats = out["stats"]
    assert stats["recoveries"] == 1 and stats["lost_records"] == 0
    assert stats["records"] + stats["fallback_records"] == out["failed_at"] + 1
    assert stats["degraded"] == []


def test_unwritable_directory_alerts_without_retry_and_recovers_after_chmod(
    memory_tmp_path: Path,
) -> None:
    setpriv = need("setpriv")
    logs = memory_tmp_path / "logs"
    alerts = memory_tmp_path / "alerts"
    logs.mkdir()
    alerts.mkdir()
    os.chmod(logs, 0o555)
    os.chmod(alerts, 0o777)
    os.chmod(memory_tmp_path, 0o755)
    proc = subprocess.Popen(
        [
            setpriv,
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            sys.executable,
            str(CHILD),
            "eacces",
            str(logs),
            str(alerts / "ALERT.txt"),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd="/",
        env={**os.environ, "HOME": "/"},
    )
    assert proc.stdout is not None and proc.stdin is not None
    assert proc.stdout.readline() == b"blocked\n"
    os.chmod(logs, 0o777)  # the fault clears
    out_bytes, err = proc.communicate(b"go\n", timeout=30)
    assert proc.returncode == 0, err.decode()
    out = orjson.loads(out_bytes.splitlines()[-1])
    assert out["alerts"] == [["open", errno.EACCES, 1]]  # permanent: a single attempt
    assert out["fallback"] == [1]
    assert out["stats"]["recoveries"] == 1 and out["stats"]["lost_records"] == 0
    assert [r["i"] for r in read_records(logs / "app.log")] == [2]
    assert "errno=13 (EACCES)" in (alerts / "ALERT.txt").read_text()


@pytest.mark.parametrize("moment", ["rotation", "compression"])
def test_kill_9_during_rotation_or_compression_loses_no_backup(
    memory_tmp_path: Path, moment: str
) -> None:
    path = memory_tmp_path / "app.log"
    argv = [sys.executable, str(CHILD), "forever", str(memory_tmp_path)]
    if moment == "compression":
        argv.append("stuck-compressor")  # killed with a half-written archive on disk
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        if moment == "compression":
            wait_until(
                lambda: (
                    any(p.name.endswith(".tmp") for p in memory_tmp_path.iterdir())
                    and len(backup_indices(path)) > 5
                ),
                timeout=20,
            )
        else:
            wait_until(lambda: len(backup_indices(path)) > 20, timeout=20)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    sink = RotatingFileSink(
        path,
        max_bytes=2000,
        backup_count=1000,
        compress="gzip",
        max_total_bytes=None,
        min_free_bytes=0,
    )
    assert sink.wait_compressed(20)
    seqs = [r["i"] for r in read_records(path)]  # every file readable, no torn line
    assert seqs == list(range(len(seqs))), "a record was lost or duplicated"
    indices = backup_indices(path)
    assert indices == list(range(1, len(indices) + 1))
    assert not [p for p in memory_tmp_path.iterdir() if p.name.endswith(".tmp")]
    if moment == "compression":  # the half-written archive was found and removed
        assert sink.stats()["compress_orphans_removed"] >= 1
    from logflume import Record

    sink.write_batch([Record(0, 20, "t", "m", {}, {}, line=b'{"i":-1}\n')])
    assert path.read_bytes().endswith(b'{"i":-1}\n')  # the active file was reopened
    sink.close()
