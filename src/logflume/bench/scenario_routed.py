"""Scenario ``routed``: records spread over many files by logger name, against peers.

Peers, each in a fresh interpreter, each logging the same record (``info``
with ``user_id``, ``ip``, ``ok``) through ``files`` loggers in turn:

- ``logflume_routed``: one ``RoutedFileSink`` writing ``{category}.jsonl`` per logger;
- ``logflume_single``: the same loggers into one ``FileSink`` (the reference figure);
- ``stdlib_routed``: stdlib ``logging`` with one ``FileHandler`` per logger (JSON via orjson);
- ``logflume_routed_nofile64`` / ``stdlib_routed_nofile64``: the routed runs again with
  ``RLIMIT_NOFILE`` lowered to 64 in the child (``ulimit -n 64``).

Metrics: throughput (first call until every file is written and fsynced),
caller p50/p99, peak RSS, the most descriptors open at once (sampled from
``/proc/self/fd`` every 20 ms), lines found in the files afterwards.

``python -m logflume.bench.scenario_routed --records N --files 48`` runs it alone.
"""

from __future__ import annotations

import argparse
import errno
import logging
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from .measure import result, time_calls
from .workers import IP, OrjsonFormatter

DEFAULT_FILES = 48
NOFILE_LIMIT = 64
PEERS: dict[str, int | None] = {
    "logflume_routed": None,
    "logflume_single": None,
    "stdlib_routed": None,
    "logflume_routed_nofile64": NOFILE_LIMIT,
    "stdlib_routed_nofile64": NOFILE_LIMIT,
}


class FdSampler:
    """Samples how many descriptors this process has open, in a daemon thread."""

    def __init__(self, interval: float = 0.02) -> None:
        self.interval = interval
        self.peak = self.count()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="fd-sampler")

    @staticmethod
    def count() -> int:
        try:
            return len(os.listdir("/proc/self/fd")) - 1  # minus listdir's own descriptor
        except OSError:
            return -1  # out of descriptors right now: the next sample will tell

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, self.count())

    def __enter__(self) -> FdSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.count())


def _fsync_tree(directory: Path) -> None:
    for path in directory.glob("*.jsonl"):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _logflume(records: int, directory: Path, files: int, routed: bool) -> dict[str, Any]:
    import logflume

    sink: Any
    if routed:
        sink = logflume.RoutedFileSink(directory, "{category}.jsonl", None)
    else:
        sink = logflume.FileSink(directory / "all.jsonl")
    logflume.configure(sinks=[sink], level="INFO")
    logs = [logflume.get_logger(f"svc.c{n:02d}") for n in range(files)]

    def call(i: int) -> None:
        logs[i % files].info("user login", user_id=i, ip=IP, ok=True)

    with FdSampler() as fds:
        samples, start = time_calls(call, records)
        flushed = logflume.flush(timeout=300)
        _fsync_tree(directory)
        end = time.perf_counter()
    stats = logflume.stats()
    logflume.shutdown()
    entry = stats["sinks"][sink.name]
    extra: dict[str, Any] = {
        "flushed": flushed,
        "dropped": stats["dropped"],
        "failed": stats["failed"] + entry.get("lost_records", 0),
        "max_open_fds": fds.peak,
    }
    if routed:
        extra["pool_peak_open"] = entry["pool"]["peak_open"]
        extra["pool_limit"] = entry["pool"]["limit"]
        extra["emfile_recoveries"] = entry["pool"]["emfile_recoveries"]
        extra["writes"] = entry["writes"]
        extra["peak_buffered_mb"] = round(entry["peak_buffered_bytes"] / 2**20, 2)
    return result(samples, start, end, records, **extra)


def _stdlib(records: int, directory: Path, files: int) -> dict[str, Any]:
    with FdSampler() as fds:
        handlers: list[logging.FileHandler] = []
        loggers = []
        try:
            for n in range(files):
                handler = logging.FileHandler(directory / f"c{n:02d}.jsonl")
                handler.setFormatter(OrjsonFormatter())
                logger = logging.getLogger(f"svc.c{n:02d}")
                logger.handlers[:] = [handler]
                logger.setLevel(logging.INFO)
                logger.propagate = False
                handlers.append(handler)
                loggers.append(logger)
        except OSError as exc:
            if exc.errno != errno.EMFILE:
                raise
            for handler in handlers:
                handler.close()
            return {"error": f"EMFILE after opening {len(handlers)} of {files} FileHandlers"}

        def call(i: int) -> None:
            loggers[i % files].info("user login", extra={"user_id": i, "ip": IP, "ok": True})

        samples, start = time_calls(call, records)
        for handler in handlers:
            handler.flush()
        _fsync_tree(directory)
        end = time.perf_counter()
        for handler in handlers:
            handler.close()
    return result(samples, start, end, records, max_open_fds=fds.peak)


def worker(peer: str, records: int, directory: Path, files: int) -> dict[str, Any]:
    """Run one peer in this process (the child side); its metrics."""
    nofile = PEERS[peer]
    if nofile is not None:
        _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, hard))
    directory.mkdir(parents=True, exist_ok=True)
    runs: dict[str, Callable[[], dict[str, Any]]] = {
        "logflume_routed": lambda: _logflume(records, directory, files, routed=True),
        "logflume_single": lambda: _logflume(records, directory, files, routed=False),
        "stdlib_routed": lambda: _stdlib(records, directory, files),
    }
    metrics = runs[peer.removesuffix(f"_nofile{NOFILE_LIMIT}")]()
    if "error" not in metrics:
        written = list(directory.glob("*.jsonl"))
        metrics["files_written"] = len(written)
        metrics["lines_written"] = sum(p.read_bytes().count(b"\n") for p in written)
    return metrics


def _run_child(peer: str, records: int, workdir: Path, files: int) -> dict[str, Any]:
    directory = workdir / f"routed-{peer}"
    shutil.rmtree(directory, ignore_errors=True)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "logflume.bench.scenario_routed",
            "--worker",
            peer,
            "--records",
            str(records),
            "--files",
            str(files),
            "--dir",
            str(directory),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    shutil.rmtree(directory, ignore_errors=True)
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"exit {proc.returncode}: {tail}"}
    metrics: dict[str, Any] = orjson.loads(proc.stdout.strip().splitlines()[-1])
    return metrics


def _ratio(a: Any, b: Any) -> float | None:
    return (
        round(a / b, 3)
        if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b
        else None
    )


def run(
    records: int, workdir: Path, files: int = DEFAULT_FILES, only: list[str] | None = None
) -> dict[str, Any]:
    """Run every peer (or ``only`` those) in a fresh subprocess; metrics, ratios, targets."""
    results = {peer: _run_child(peer, records, workdir, files) for peer in (only or PEERS)}
    tp = {peer: m.get("throughput_rps") for peer, m in results.items()}
    ratios = {
        "routed_vs_single_throughput": _ratio(tp.get("logflume_routed"), tp.get("logflume_single")),
        "routed_vs_stdlib_routed_throughput": _ratio(
            tp.get("logflume_routed"), tp.get("stdlib_routed")
        ),
        "routed_nofile64_vs_routed_throughput": _ratio(
            tp.get("logflume_routed_nofile64"), tp.get("logflume_routed")
        ),
        "caller_p99_routed_vs_stdlib_routed": _ratio(
            results.get("logflume_routed", {}).get("caller_p99_us"),
            results.get("stdlib_routed", {}).get("caller_p99_us"),
        ),
    }
    targets: dict[str, Any] = {}
    ours = [m for peer, m in results.items() if peer.startswith("logflume_routed")]
    if ratios["routed_vs_single_throughput"] is not None:
        targets["within_20pct_of_single_file"] = ratios["routed_vs_single_throughput"] >= 0.8
    if ours:
        targets["peak_rss_lt_100mb"] = all(m.get("peak_rss_mb", 1e9) < 100 for m in ours)
        targets["zero_drops"] = all(
            m.get("lines_written") == records and not m.get("dropped") and not m.get("failed")
            for m in ours
        )
    nofile = results.get("logflume_routed_nofile64")
    if nofile is not None:
        targets["no_emfile_under_ulimit_64"] = (
            "error" not in nofile
            and nofile.get("lines_written") == records
            and nofile.get("max_open_fds", NOFILE_LIMIT) < NOFILE_LIMIT
        )
    return {
        "scenario": "routed",
        "records": records,
        "files": files,
        "results": results,
        "ratios": ratios,
        "targets": targets,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m logflume.bench.scenario_routed",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--files", type=int, default=DEFAULT_FILES)
    parser.add_argument("--only", action="append", choices=sorted(PEERS))
    parser.add_argument("--worker", choices=sorted(PEERS), help=argparse.SUPPRESS)
    parser.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.records < 1 or args.files < 1:
        parser.error("--records and --files must be >= 1")
    if args.worker:
        metrics = worker(args.worker, args.records, args.dir, args.files)
        sys.stdout.write(orjson.dumps(metrics).decode() + "\n")
        return 0
    import tempfile

    with tempfile.TemporaryDirectory(prefix="logflume-bench-routed-") as tmp:
        report = run(args.records, args.workdir or Path(tmp), args.files, args.only)
    sys.stdout.write(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode() + "\n")
    return 1 if any("error" in m for m in report["results"].values()) else 0


if __name__ == "__main__":
    sys.exit(main())
