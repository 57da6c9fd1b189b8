"""Child process for the kill -9 test: log to an unreachable Loki with a spool, then wait.

argv: url spool_dir count. Prints ``SPOOLED <entries>`` once everything is on disk and
blocks on stdin until the parent kills it.
"""

from __future__ import annotations

import sys

import logflume
from logflume.sinks.loki import LokiSink


def main() -> None:
    url, spool_dir, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    sink = LokiSink(
        url,
        labels={"service": "child"},
        spool_dir=spool_dir,
        retry_base_delay=0.05,
        retry_max_delay=0.2,
        batch_max_records=500,
    )
    logflume.configure(sinks=[sink])
    log = logflume.get_logger("child")
    for seq in range(count):
        log.info("spooled", seq=seq)
    if not logflume.flush(timeout=60):
        print("FLUSH-TIMEOUT", flush=True)
        sys.exit(1)
    print(f"SPOOLED {sink.stats()['spool_entries']}", flush=True)
    sys.stdin.read()  # killed here


if __name__ == "__main__":
    main()
