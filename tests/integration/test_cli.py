"""The ``logflume demo`` and ``logflume bench`` commands, run as a user would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson

from logflume.cli import main


def test_demo_writes_every_record_to_every_local_sink(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    proc = subprocess.run(
        [sys.executable, "-m", "logflume.cli", "demo", "--records", "3000", "--threads", "3",
         "--out", str(out)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "every record accounted for in every sink" in proc.stdout
    rows = [orjson.loads(x) for x in (out / "app" / "app.jsonl").read_bytes().splitlines()]
    assert len(rows) == 3000  # below the rotation threshold: one file
    assert sorted((r["worker"], r["seq"]) for r in rows) == sorted(
        (w, s) for w in range(3) for s in range(1000)
    )
    [error_file] = (out / "by-category").rglob("error.jsonl")
    errors = [orjson.loads(x) for x in error_file.read_bytes().splitlines()]
    assert len(errors) == sum(1 for r in rows if r["level"] in ("error", "critical"))
    from logflume.store import SegmentStore

    store = SegmentStore(out / "store", readonly=True)
    try:
        assert sum(1 for _ in store.query()) == 3000
        assert [r["seq"] for r in store.query(where={"worker": 1})] == list(range(1000))
    finally:
        store.close()


def test_bench_json_reports_every_metric_for_each_library(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "logflume.cli",
            "bench",
            "--records",
            "2000",
            "--json",
            "--only",
            "logflume",
            "--only",
            "stdlib_file",
            "--only",
            "stdlib_queue",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    report = orjson.loads(proc.stdout)
    assert report["records"] == 2000
    assert set(report["results"]) == {"logflume", "stdlib_file", "stdlib_queue"}
    for metrics in report["results"].values():
        for key in (
            "throughput_rps",
            "caller_p50_us",
            "caller_p99_us",
            "caller_p999_us",
            "peak_rss_mb",
        ):
            assert metrics[key] > 0, key
        assert metrics["lines_written"] == 2000
    assert report["targets"]["no_record_lost"] is True
    assert report["ratios"]["throughput_vs_stdlib_file"] > 0


def test_cli_without_a_command_prints_help_and_fails(capsys: object) -> None:
    assert main([]) == 2


def test_demo_rejects_bad_arguments(tmp_path: Path) -> None:
    assert main(["demo", "--records", "0", "--out", str(tmp_path)]) == 2
