"""Append cost of SegmentStore as the store grows, next to a naive read-modify-write store.

Run: ``python benchmarks/store_append.py`` (10^5 records, a few seconds) or
``python benchmarks/store_append.py --records 1000000`` for the full claim:
the mean append time of the last 10 % of batches over the first 10 % stays
<= 1.5. The naive baseline (decompress the whole file, add the batch,
recompress and rewrite it) runs on ``--naive-records`` only: it is O(n^2).
Records look like the demo's (service logger names, a message, 3-5 fields).
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import gzip
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from logflume._record import Record
from logflume.formatting import json_line
from logflume.store import SegmentStore

SERVICES = ("api.http", "checkout", "payments", "inventory", "auth")


def demo_batches(records: int, batch: int, seed: int = 7) -> list[list[Record]]:
    """Records shaped like ``logflume demo``'s, in batches, timestamps increasing."""
    rng = random.Random(seed)
    ts = time.time_ns()
    out: list[list[Record]] = []
    current: list[Record] = []
    for i in range(records):
        ts += rng.randrange(1_000, 200_000)
        roll = rng.random()
        worker = rng.randrange(4)
        if roll < 0.90:
            level, msg = 20, "request handled"
            fields: dict[str, Any] = {
                "path": f"/api/items/{rng.randrange(500)}",
                "status": 200,
                "duration_ms": round(rng.uniform(0.3, 40.0), 2),
                "seq": i,
            }
        elif roll < 0.97:
            level, msg = 30, "slow dependency"
            fields = {
                "dependency": rng.choice(("db", "cache", "search")),
                "duration_ms": round(rng.uniform(200, 900), 1),
                "seq": i,
            }
        else:
            level, msg = 40, "request failed"
            fields = {"status": rng.choice((500, 502, 503)), "seq": i}
        record = Record(ts, level, SERVICES[i % 5], msg, {"worker": worker}, fields)
        record.line = json_line(record)
        current.append(record)
        if len(current) == batch:
            out.append(current)
            current = []
    if current:
        out.append(current)
    return out


def _tenths(times: list[int]) -> dict[str, float]:
    k = max(1, len(times) // 10)
    first, last = times[:k], times[-k:]
    return {
        "appends": len(times),
        "first10_mean_us": statistics.fmean(first) / 1000,
        "last10_mean_us": statistics.fmean(last) / 1000,
        "first10_median_us": statistics.median(first) / 1000,
        "last10_median_us": statistics.median(last) / 1000,
        "ratio_last_over_first": round(statistics.fmean(last) / statistics.fmean(first), 3),
        "ratio_median": round(statistics.median(last) / statistics.median(first), 3),
    }


def bench_store(batches: list[list[Record]], directory: Path, compression: str) -> dict[str, Any]:
    store = SegmentStore(directory, compression=compression)
    times: list[int] = []
    clock = time.perf_counter_ns
    start = clock()
    for batch in batches:
        t0 = clock()
        store.write_batch(batch)
        times.append(clock() - t0)
    total = (clock() - start) / 1e9
    summary = store.summary()
    store.close()
    result = _tenths(times)
    result.update(
        total_s=round(total, 3),
        records_per_s=round(summary["records"] / total),
        compressed_bytes=summary["compressed_bytes"],
        raw_bytes=summary["raw_bytes"],
        compression_ratio=summary["ratio"],
        segments=summary["segments"],
    )
    return result


def bench_naive(batches: list[list[Record]], path: Path) -> dict[str, Any]:
    """The design this replaces: read, decompress, append, recompress, rewrite."""
    path.write_bytes(gzip.compress(b""))
    times: list[int] = []
    clock = time.perf_counter_ns
    for batch in batches:
        t0 = clock()
        data = gzip.decompress(path.read_bytes()) + b"".join(r.line for r in batch)
        path.write_bytes(gzip.compress(data, compresslevel=6))
        times.append(clock() - t0)
    return _tenths(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=100, help="records per append")
    parser.add_argument("--compression", choices=("zstd", "gzip"), default="zstd")
    parser.add_argument("--naive-records", type=int, default=10_000)
    parser.add_argument("--dir", type=Path, help="work directory (default: a temporary one)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        work = Path(tmp)
        batches = demo_batches(args.records, args.batch)
        store = bench_store(batches, work / "store", args.compression)
        gzip_store = bench_store(
            demo_batches(min(args.records, 100_000), args.batch), work / "gz", "gzip"
        )
        naive = bench_naive(demo_batches(args.naive_records, args.batch), work / "naive.gz")
    result = {
        "benchmark": "store_append",
        "records": args.records,
        "batch": args.batch,
        "segment_store": {args.compression: store, "gzip_100k": gzip_store},
        "naive_rewrite": {"records": args.naive_records, **naive},
        "claim": {
            "append_cost_ratio_last_over_first": store["ratio_last_over_first"],
            "target": 1.5,
            "ok": store["ratio_last_over_first"] <= 1.5,
        },
    }
    sys.stdout.write(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode() + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
