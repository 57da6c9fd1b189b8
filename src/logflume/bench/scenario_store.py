"""Scenario ``store``: SegmentStore appends as the store grows, against a naive rewrite.

Peers, each in a fresh interpreter, appending the same records (``info`` with
``user_id``, ``ip``, ``ok``) in batches of 100:

- ``logflume_store_zstd`` / ``logflume_store_gzip``: ``SegmentStore`` appends (one
  compressed frame per batch);
- ``naive_rewrite``: a gzip JSON-lines file decompressed, extended, recompressed
  and rewritten on every batch (the design the store replaces), on at most
  ``NAIVE_MAX`` records because it is O(n^2).

Metrics: mean append time of the first and last 10 % of batches, their ratio
(flat cost means ~1), records/s, compressed bytes and compression ratio.

``python -m logflume.bench.scenario_store --records N`` runs it alone.
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson

from .._record import Record
from ..formatting import json_line

BATCH = 100
NAIVE_MAX = 10_000
PEERS = ("logflume_store_zstd", "logflume_store_gzip", "naive_rewrite")


def _batches(records: int) -> list[list[Record]]:
    ts = time.time_ns()
    batches: list[list[Record]] = []
    for start in range(0, records, BATCH):
        batch = []
        for i in range(start, min(start + BATCH, records)):
            fields = {"user_id": i % 1000, "ip": f"10.0.{i % 256}.{i % 100}", "ok": i % 7 != 0}
            record = Record(ts + i * 10_000, 20, "bench", "user login", {}, fields)
            record.line = json_line(record)
            batch.append(record)
        batches.append(batch)
    return batches


def _tenths(times: list[int]) -> dict[str, float]:
    k = max(1, len(times) // 10)
    first, last = statistics.fmean(times[:k]), statistics.fmean(times[-k:])
    return {
        "first10_append_us": round(first / 1000, 2),
        "last10_append_us": round(last / 1000, 2),
        "append_ratio_last_over_first": round(last / first, 3),
    }


def measure(peer: str, records: int, workdir: Path) -> dict[str, Any]:
    """One peer's numbers (runs in the child interpreter)."""
    if peer == "naive_rewrite":
        records = min(records, NAIVE_MAX)
    batches = _batches(records)
    times: list[int] = []
    clock = time.perf_counter_ns
    start = clock()
    if peer == "naive_rewrite":
        path = workdir / "naive.jsonl.gz"
        path.write_bytes(gzip.compress(b""))
        for batch in batches:
            t0 = clock()
            data = gzip.decompress(path.read_bytes()) + b"".join(r.line for r in batch)
            path.write_bytes(gzip.compress(data))
            times.append(clock() - t0)
        compressed, raw = path.stat().st_size, len(data)
    else:
        from ..store import SegmentStore

        store = SegmentStore(workdir / peer, compression=peer.rsplit("_", 1)[1])
        for batch in batches:
            t0 = clock()
            store.write_batch(batch)
            times.append(clock() - t0)
        summary = store.summary()
        store.close()
        compressed, raw = summary["compressed_bytes"], summary["raw_bytes"]
    elapsed = (clock() - start) / 1e9
    return {
        "records": records,
        "records_per_s": round(records / elapsed),
        "compressed_bytes": compressed,
        "compression_ratio": round(raw / compressed, 2),
        **_tenths(times),
    }


def run(records: int, workdir: Path) -> dict[str, Any]:
    """Every peer in a fresh interpreter; the result dict ``logflume bench`` prints."""
    results: dict[str, Any] = {}
    for peer in PEERS:
        child = workdir / peer
        child.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run(
            [
                *(sys.executable, "-m", "logflume.bench.scenario_store", "--peer", peer),
                *("--records", str(records), "--workdir", str(child)),
            ],
            capture_output=True,
            check=True,
            timeout=600,
        )
        results[peer] = orjson.loads(proc.stdout)
    store = results["logflume_store_zstd"]["append_ratio_last_over_first"]
    return {
        "scenario": "store",
        "records": records,
        "results": results,
        "ratios": {
            "store_append_last_over_first": store,
            "naive_append_last_over_first": results["naive_rewrite"][
                "append_ratio_last_over_first"
            ],
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--peer", choices=PEERS)
    parser.add_argument("--workdir", type=Path, default=Path("bench-store"))
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    out = (
        measure(args.peer, args.records, args.workdir)
        if args.peer
        else run(args.records, args.workdir)
    )
    sys.stdout.write(orjson.dumps(out).decode() + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
