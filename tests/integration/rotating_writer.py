"""Child process for the rotating tests: ``rotating_writer.py PATH WORKER N MAX_BYTES``.

Logs N records ``{"worker": W, "seq": i}`` through a RotatingFileSink and prints
the sink's stats as JSON.
"""

from __future__ import annotations

import sys

import orjson

import logflume
from logflume.sinks.rotating import RotatingFileSink


def main() -> None:
    path, worker, count, max_bytes = (
        sys.argv[1],
        int(sys.argv[2]),
        int(sys.argv[3]),
        int(sys.argv[4]),
    )
    sink = RotatingFileSink(
        path,
        max_bytes=max_bytes,
        backup_count=100_000,
        compress=None,
        max_total_bytes=None,
        min_free_bytes=0,
    )
    logflume.configure(sinks=[sink], batch_max_records=256)
    log = logflume.get_logger("proc").bind(worker=worker)
    for seq in range(count):
        log.info("tick", seq=seq)
    assert logflume.flush(timeout=60)
    stats = sink.stats()
    logflume.shutdown()
    sys.stdout.write(orjson.dumps(stats).decode() + "\n")


if __name__ == "__main__":
    main()
