"""Scenario ``loki``: records/s through a Loki push endpoint, and the caller while Loki is down.

The endpoint is ``logflume.testing.loki_receiver`` (the fake Loki the tests use,
which decodes and validates every push) in its own process, a fresh one per
peer, so it never shares a GIL with the measured process. Every peer runs in a
fresh interpreter and logs the same record (``info`` with ``user_id``, ``ip``,
``ok``):

- ``logflume_protobuf`` / ``logflume_json``: ``LokiSink`` (protobuf+snappy, JSON+gzip);
- ``loki_logger_handler``: the ``loki-logger-handler`` package (stdlib handler, batches
  in a thread, JSON+gzip);
- ``python_logging_loki``: the ``python-logging-loki`` package's ``LokiQueueHandler``
  (one push per record, so it logs at most ``SLOW_PEER_RECORDS`` records);
- ``logflume_protobuf_down``: ``LokiSink`` with a spool while nothing listens (the
  receiver was stopped): what the caller pays during an outage.

Throughput is records / (first call .. everything acknowledged, or spooled for the
``_down`` run); ``delivered`` is what the receiver stored, counted by the receiver.

``python -m logflume.bench.scenario_loki --records N`` runs it alone.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson

from ..testing.loki_receiver import ReceiverProcess
from .measure import result, time_calls
from .workers import IP, stdlib_logger

PEERS = [
    "logflume_protobuf",
    "logflume_json",
    "loki_logger_handler",
    "python_logging_loki",
    "logflume_protobuf_down",
]
SLOW_PEER_RECORDS = 2000
PUSH_PATH = "/loki/api/v1/push"


def _logflume(records: int, url: str, directory: Path, encoding: str, down: bool) -> dict[str, Any]:
    import logflume
    from logflume.sinks.loki import LokiSink

    sink = LokiSink(
        url,
        labels={"service": "bench"},
        encoding="json" if encoding == "json" else "protobuf",
        spool_dir=directory / "spool" if down else None,
    )
    logflume.configure(sinks=[sink], level="INFO")
    log = logflume.get_logger("bench")
    samples, start = time_calls(
        lambda i: log.info("user login", user_id=i, ip=IP, ok=True), records
    )
    flushed = logflume.flush(timeout=300)
    end = time.perf_counter()
    stats = logflume.stats()["sinks"][sink.name]
    logflume.shutdown(timeout=30)
    return result(
        samples,
        start,
        end,
        records,
        flushed=flushed,
        spooled_entries=stats.get("spooled_entries", 0),
        dropped=stats["dropped"],
    )


def _loki_logger_handler(records: int, url: str) -> dict[str, Any]:
    from loki_logger_handler.loki_logger_handler import LokiLoggerHandler

    handler = LokiLoggerHandler(url=url + PUSH_PATH, labels={"service": "bench"}, timeout=1)
    logger = stdlib_logger(handler)
    samples, start = time_calls(
        lambda i: logger.info("user login", extra={"user_id": i, "ip": IP, "ok": True}), records
    )
    handler._send()  # drains its buffer with a synchronous push (what its atexit hook does)
    end = time.perf_counter()
    return result(samples, start, end, records)


def _python_logging_loki(records: int, url: str) -> dict[str, Any]:
    import queue

    import logging_loki

    handler = logging_loki.LokiQueueHandler(
        queue.Queue(-1), url=url + PUSH_PATH, tags={"service": "bench"}, version="1"
    )
    logger = stdlib_logger(handler)
    samples, start = time_calls(
        lambda i: logger.info("user login", extra={"user_id": i, "ip": IP, "ok": True}), records
    )
    handler.listener.stop()  # waits until its thread has pushed every queued record
    end = time.perf_counter()
    return result(samples, start, end, records)


def worker(peer: str, records: int, url: str, directory: Path) -> dict[str, Any]:
    """Run one peer in this process (the child side); its metrics."""
    directory.mkdir(parents=True, exist_ok=True)
    if peer.startswith("logflume_"):
        encoding = peer.split("_")[1]
        return _logflume(records, url, directory, encoding, down=peer.endswith("_down"))
    if peer == "loki_logger_handler":
        return _loki_logger_handler(records, url)
    if peer == "python_logging_loki":
        return _python_logging_loki(records, url)
    raise ValueError(f"unknown peer {peer!r}")


def _run_child(peer: str, records: int, workdir: Path) -> dict[str, Any]:
    directory = workdir / f"loki-{peer}"
    shutil.rmtree(directory, ignore_errors=True)
    if peer == "python_logging_loki":
        records = min(records, SLOW_PEER_RECORDS)
    receiver = ReceiverProcess()
    url = receiver.url
    if peer.endswith("_down"):
        receiver.totals()  # stopped before the run: nothing listens on that port
    proc = subprocess.run(
        [sys.executable, "-m", "logflume.bench.scenario_loki", "--worker", peer,
         "--records", str(records), "--url", url, "--dir", str(directory)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )  # fmt: skip
    totals = {} if peer.endswith("_down") else receiver.totals()
    shutil.rmtree(directory, ignore_errors=True)
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"exit {proc.returncode}: {tail}"}
    metrics: dict[str, Any] = orjson.loads(proc.stdout.strip().splitlines()[-1])
    metrics["records"] = records
    metrics["delivered"] = totals.get("entries", 0)
    metrics["push_requests"] = totals.get("requests", 0)
    return metrics


def _ratio(a: Any, b: Any) -> float | None:
    ok = isinstance(a, (int, float)) and isinstance(b, (int, float)) and b
    return round(a / b, 3) if ok else None


def run(records: int, workdir: Path, only: list[str] | None = None) -> dict[str, Any]:
    """Run every peer (or ``only`` those) against a fresh receiver; metrics and ratios."""
    results = {peer: _run_child(peer, records, workdir) for peer in (only or PEERS)}

    def metric(peer: str, name: str) -> Any:
        return results.get(peer, {}).get(name)

    ratios = {
        "protobuf_vs_loki_logger_handler_throughput": _ratio(
            metric("logflume_protobuf", "throughput_rps"),
            metric("loki_logger_handler", "throughput_rps"),
        ),
        "protobuf_vs_python_logging_loki_throughput": _ratio(
            metric("logflume_protobuf", "throughput_rps"),
            metric("python_logging_loki", "throughput_rps"),
        ),
        "json_vs_protobuf_throughput": _ratio(
            metric("logflume_json", "throughput_rps"), metric("logflume_protobuf", "throughput_rps")
        ),
        "caller_p99_down_vs_up": _ratio(
            metric("logflume_protobuf_down", "caller_p99_us"),
            metric("logflume_protobuf", "caller_p99_us"),
        ),
        "caller_p99_vs_loki_logger_handler": _ratio(
            metric("logflume_protobuf", "caller_p99_us"),
            metric("loki_logger_handler", "caller_p99_us"),
        ),
    }
    targets: dict[str, Any] = {}
    for peer in ("logflume_protobuf", "logflume_json"):
        if peer in results:
            targets[f"{peer}_all_delivered"] = metric(peer, "delivered") == records
    if "logflume_protobuf_down" in results:
        down = "logflume_protobuf_down"
        targets["down_all_spooled"] = metric(down, "spooled_entries") == records
        ratio = ratios["caller_p99_down_vs_up"]
        if ratio is not None:
            targets["caller_p99_unaffected_while_down"] = ratio <= 1.5
    return {
        "scenario": "loki",
        "records": records,
        "results": results,
        "ratios": ratios,
        "targets": targets,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m logflume.bench.scenario_loki")
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--worker", choices=PEERS)
    parser.add_argument("--url", default="")
    parser.add_argument("--dir", type=Path, default=Path("bench-loki"))
    parser.add_argument("--only", action="append", choices=PEERS)
    args = parser.parse_args(argv)
    if args.worker:
        print(orjson.dumps(worker(args.worker, args.records, args.url, args.dir)).decode())
        return 0
    report = run(args.records, args.dir, args.only)
    print(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
