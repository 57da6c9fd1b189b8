"""``logflume bench --scenario rotating``: rotating JSON files, logflume against its peers.

Single process: logflume ``RotatingFileSink`` vs stdlib ``RotatingFileHandler``
(orjson formatter) vs loguru ``rotation=`` (``serialize=True``) vs
concurrent-log-handler. Multi-process: 4 processes sharing one path, logflume
vs concurrent-log-handler (the peer that claims multi-process safety). Each
library runs in fresh interpreters, rotates at 1 MiB with no compression, and
every run is checked for lost lines.
"""

from __future__ import annotations

import gzip
import importlib
import logging
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson

MAX_BYTES = 1024 * 1024
BACKUPS = 1000
IP = "10.0.0.1"
PEERS = ("logflume", "stdlib_rotating", "loguru_rotation", "concurrent_log_handler")
MULTI_PEERS = ("logflume", "concurrent_log_handler")
PROCESSES = 4
_IMPORTS = {
    "logflume": ("logflume", "logflume.sinks.rotating"),
    "stdlib_rotating": ("logging.handlers",),
    "loguru_rotation": ("loguru",),
    "concurrent_log_handler": ("concurrent_log_handler",),
}


def _stdlib(handler: logging.Handler) -> logging.Logger:
    from .workers import OrjsonFormatter

    handler.setFormatter(OrjsonFormatter())
    logger = logging.getLogger("bench")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return logger


def _work(lib: str, records: int, path: str, offset: int) -> None:
    """Log ``records`` lines to ``path`` with ``lib`` and wait until they are written."""
    if lib == "logflume":
        import logflume
        from logflume.sinks.rotating import RotatingFileSink

        sink = RotatingFileSink(
            path,
            max_bytes=MAX_BYTES,
            backup_count=BACKUPS,
            compress=None,
            max_total_bytes=None,
            min_free_bytes=0,
        )
        logflume.configure(sinks=[sink])
        log = logflume.get_logger("bench")
        for i in range(offset, offset + records):
            log.info("user login", user_id=i, ip=IP, ok=True)
        logflume.shutdown(timeout=120)
    elif lib == "loguru_rotation":
        from loguru import logger

        logger.remove()
        logger.add(path, serialize=True, rotation=MAX_BYTES, level="INFO")
        bound = logger.bind(logger_name="bench")
        for i in range(offset, offset + records):
            bound.info("user login", user_id=i, ip=IP, ok=True)
        logger.remove()
    else:
        if lib == "stdlib_rotating":
            from logging.handlers import RotatingFileHandler

            handler: logging.Handler = RotatingFileHandler(
                path, maxBytes=MAX_BYTES, backupCount=BACKUPS
            )
        else:
            from concurrent_log_handler import ConcurrentRotatingFileHandler

            handler = ConcurrentRotatingFileHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS)
        std_logger = _stdlib(handler)
        for i in range(offset, offset + records):
            std_logger.info("user login", extra={"user_id": i, "ip": IP, "ok": True})
        handler.close()


def _log_files(directory: Path) -> list[Path]:
    """Every log file a library left in ``directory`` (loguru names backups by date)."""
    return [
        p
        for p in directory.iterdir()
        if not p.name.endswith((".lock", ".tmp")) and not p.name.startswith(".")
    ]


def _count_lines(directory: Path) -> tuple[int, int]:
    """(lines, distinct user_ids) over the active file and every backup."""
    lines, ids = 0, set()
    for path in _log_files(directory):
        data = (
            gzip.decompress(path.read_bytes()) if path.name.endswith(".gz") else path.read_bytes()
        )
        for line in data.splitlines():
            lines += 1
            row = orjson.loads(line)
            ids.add(row.get("user_id", row.get("record", {}).get("extra", {}).get("user_id")))
    return lines, len(ids)


def _spawn(lib: str, records: int, path: Path, offset: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "logflume.bench.scenario_rotating",
            "worker",
            lib,
            str(records),
            str(path),
            str(offset),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _measure(lib: str, records: int, workdir: Path, processes: int) -> dict[str, Any]:
    where = workdir / f"{lib}-{processes}p"
    where.mkdir(parents=True, exist_ok=True)
    path = where / "app.log"
    share = records // processes
    procs = [_spawn(lib, share, path, n * share) for n in range(processes)]
    spans = []
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        if proc.returncode != 0:
            return {"error": f"exit {proc.returncode}: {(err.strip().splitlines() or [''])[-1]}"}
        spans.append(orjson.loads(out.strip().splitlines()[-1]))
    elapsed = max(s["end"] for s in spans) - min(s["start"] for s in spans)
    lines, distinct = _count_lines(where)
    files = len(_log_files(where))
    total = share * processes
    return {
        "throughput_rps": total / elapsed if elapsed > 0 else 0.0,
        "elapsed_s": elapsed,
        "records": total,
        "lines_written": lines,
        "distinct_records": distinct,
        "lost": total - distinct,
        "duplicated": lines - distinct,
        "files": files,
    }


def run(records: int, workdir: Path) -> dict[str, Any]:
    """Measure every peer (single process) and the 4-process variant; ratios vs logflume."""
    single = {lib: _measure(lib, records, workdir, 1) for lib in PEERS}
    multi = {lib: _measure(lib, records, workdir, PROCESSES) for lib in MULTI_PEERS}
    results: dict[str, Any] = dict(single)
    results.update({f"{lib}_{PROCESSES}proc": m for lib, m in multi.items()})
    ratios: dict[str, Any] = {}
    for group, suffix in ((single, ""), (multi, f"_{PROCESSES}proc")):
        ours = group["logflume"].get("throughput_rps")
        for lib, metrics in group.items():
            theirs = metrics.get("throughput_rps")
            if lib != "logflume" and ours and theirs:
                ratios[f"throughput_vs_{lib}{suffix}"] = round(ours / theirs, 3)
    return {
        "scenario": "rotating",
        "records": records,
        "results": results,
        "ratios": ratios,
        "targets": {
            "throughput_ge_5x_stdlib_rotating": ratios.get("throughput_vs_stdlib_rotating", 0) >= 5,
            "no_record_lost": all(
                m.get("lost") == 0 and m.get("duplicated") == 0 for m in results.values()
            ),
        },
    }


def main(argv: list[str]) -> int:
    if argv[:1] == ["worker"]:
        lib, records, path, offset = argv[1], int(argv[2]), argv[3], int(argv[4])
        for module in _IMPORTS[lib]:  # import outside the timed section
            importlib.import_module(module)
        start = time.time()
        _work(lib, records, path, offset)
        sys.stdout.write(orjson.dumps({"start": start, "end": time.time()}).decode() + "\n")
        return 0
    records = int(argv[0]) if argv else 100_000
    report = run(records, Path(argv[1]) if len(argv) > 1 else Path("bench-rotating"))
    sys.stdout.write(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode() + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
