"""Timing helpers shared by the benchmark workers (run inside the measured process)."""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Callable
from typing import Any


def percentile(sorted_ns: list[int], q: float) -> float:
    """The ``q`` quantile (0..1) of already sorted nanosecond samples, in microseconds."""
    if not sorted_ns:
        return 0.0
    index = min(len(sorted_ns) - 1, int(q * len(sorted_ns)))
    return sorted_ns[index] / 1000.0


def peak_rss_mb() -> float:
    """Peak resident memory of this process, in MiB (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def fsync_path(path: str) -> None:
    """Make a file durable, so every library is measured up to the same point."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def time_calls(call: Callable[[int], Any], records: int) -> tuple[list[int], float]:
    """Call ``call(i)`` ``records`` times, timing each call; returns (sorted ns, start time).

    The timer's own cost (two ``perf_counter_ns`` calls) is included and is the same
    for every library.
    """
    clock = time.perf_counter_ns
    samples = [0] * records
    start = time.perf_counter()
    for i in range(records):
        before = clock()
        call(i)
        samples[i] = clock() - before
    samples.sort()
    return samples, start


def disabled_cost_ns(call: Callable[[int], Any], loops: int = 200_000) -> float:
    """Mean cost of a call whose level is disabled, minus the cost of an empty loop."""

    def empty(i: int) -> None:
        return None

    def run(fn: Callable[[int], Any]) -> float:
        start = time.perf_counter_ns()
        for i in range(loops):
            fn(i)
        return (time.perf_counter_ns() - start) / loops

    baseline = min(run(empty) for _ in range(3))
    measured = min(run(call) for _ in range(3))
    return max(0.0, measured - baseline)


def result(
    samples: list[int], start: float, end: float, records: int, **extra: Any
) -> dict[str, Any]:
    """The metrics every worker reports."""
    elapsed = end - start
    out: dict[str, Any] = {
        "throughput_rps": records / elapsed if elapsed > 0 else 0.0,
        "elapsed_s": elapsed,
        "caller_p50_us": percentile(samples, 0.50),
        "caller_p99_us": percentile(samples, 0.99),
        "caller_p999_us": percentile(samples, 0.999),
        "peak_rss_mb": peak_rss_mb(),
    }
    out.update(extra)
    return out
