"""Four processes share one rotating path: every record once, no torn line, no numbering gap."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).parent))
from rotating_files import backup_indices, log_files, read_records

WRITER = Path(__file__).parent / "rotating_writer.py"


def test_four_processes_of_10000_records_with_16kb_rotation_land_exactly_once(
    memory_tmp_path: Path,
) -> None:
    path = memory_tmp_path / "app.log"
    procs_n, per_proc, max_bytes = 4, 10_000, 16 * 1024
    procs = [
        subprocess.Popen(
            [sys.executable, str(WRITER), str(path), str(w), str(per_proc), str(max_bytes)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for w in range(procs_n)
    ]
    stats = []
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err.decode()
        stats.append(orjson.loads(out))
    rows = read_records(path)  # fails on any torn or interleaved line
    assert len(rows) == procs_n * per_proc
    for worker in range(procs_n):
        seqs = [r["seq"] for r in rows if r["worker"] == worker]
        assert seqs == list(range(per_proc)), f"worker {worker}: lost, duplicated or reordered"
    indices = backup_indices(path)
    assert indices == list(range(1, len(indices) + 1))  # no gaps
    assert all(p.stat().st_size <= max_bytes for p in log_files(path))
    # One rotation per threshold in total, not one per process.
    total_bytes = sum(p.stat().st_size for p in log_files(path))
    rotations = sum(s["rotations"] for s in stats)
    assert rotations == len(indices)
    assert rotations <= total_bytes // (max_bytes // 2)
    assert sum(s["reopened"] for s in stats) > 0  # processes saw each other's rotations


def test_a_forked_child_and_its_parent_share_the_sink_without_double_rotation(
    memory_tmp_path: Path,
) -> None:
    from logflume import Record
    from logflume.sinks.rotating import RotatingFileSink

    path = memory_tmp_path / "app.log"
    sink = RotatingFileSink(
        path,
        max_bytes=4096,
        backup_count=10_000,
        compress=None,
        max_total_bytes=None,
        min_free_bytes=0,
    )

    def batch(who: int, start: int) -> list[Record]:
        return [
            Record(0, 20, "t", "m", {}, {}, line=orjson.dumps({"worker": who, "seq": s}) + b"\n")
            for s in range(start, start + 10)
        ]

    pid = os.fork()
    if pid == 0:  # child: what the pipeline's at-fork hook does, then write
        code = 1
        try:
            sink.after_fork_in_child()
            for start in range(0, 3000, 10):
                sink.write_batch(batch(1, start))
            code = 0
        finally:
            os._exit(code)
    for start in range(0, 3000, 10):
        sink.write_batch(batch(0, start))
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    rows = read_records(path)
    for worker in (0, 1):
        assert [r["seq"] for r in rows if r["worker"] == worker] == list(range(3000))
    indices = backup_indices(path)
    assert indices == list(range(1, len(indices) + 1))
    assert all(p.stat().st_size <= 4096 for p in log_files(path))
    sink.close()
