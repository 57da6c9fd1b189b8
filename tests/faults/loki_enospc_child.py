"""Child for the Loki spool ENOSPC test; runs with its spool on a 64 KiB tmpfs.

argv: url spool_dir count. Logs ``count`` padded records while Loki is down, so the
spool fills the disk; prints ``FULL <stats json>``; waits for ``UP`` on stdin (the
parent has started Loki); waits until everything is delivered; prints ``DONE <stats>``.
"""

from __future__ import annotations

import sys

import orjson

import logflume
from logflume.sinks.loki import LokiSink
from logflume.testing import wait_until


def main() -> None:
    url, spool_dir, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    sink = LokiSink(
        url,
        labels={"service": "enospc"},
        encoding="json",
        gzip=False,
        spool_dir=spool_dir,
        spool_max_bytes=16 * 1024 * 1024,  # far above the disk: the disk fills first
        batch_max_records=100,
        batch_max_wait=0.01,
        retry_base_delay=0.05,
        retry_max_delay=0.2,
    )
    logflume.configure(sinks=[sink])
    log = logflume.get_logger("enospc")
    for seq in range(count):
        log.info("r", seq=seq, pad="p" * 200)
    # Every record handed to the sink first, so the counts below add up whatever the speed.
    wait_until(lambda: logflume.stats()["sinks"][sink.name]["written"] == count, timeout=60)
    flushed = sink.flush(timeout=2.0)  # cannot all be spooled: the disk is full
    print("FULL", orjson.dumps({"flushed": flushed, **sink.stats()}).decode(), flush=True)
    if sys.stdin.readline().strip() != "UP":
        sys.exit(2)
    delivered = sink.wait_delivered(timeout=60)
    stats = sink.stats()
    print("DONE", orjson.dumps({"delivered": delivered, **stats}).decode(), flush=True)
    logflume.shutdown(timeout=10)


if __name__ == "__main__":
    main()
