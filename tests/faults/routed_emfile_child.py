"""Child for test_routed_emfile: RLIMIT_NOFILE=40, 200 categories, descriptors taken mid-run.

Usage: python routed_emfile_child.py ROOT. Prints one JSON line: the sink's stats and more.
"""

from __future__ import annotations

import errno
import os
import resource
import sys

import orjson

import logflume

LIMIT = 40


def main(root: str) -> int:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (LIMIT, hard))
    sink = logflume.RoutedFileSink(root, "{category}.jsonl", None, max_open=64, flush_interval=0.01)
    logflume.configure(sinks=[sink], batch_max_records=256)
    # Phase 1: a few categories, so the pool holds fewer handles than its limit.
    for seq in range(200):
        logflume.get_logger(f"cat{seq % 10:03d}").info("phase1", seq=seq)
    assert logflume.flush(timeout=30)
    # The application now takes every free descriptor: the pool's next open gets EMFILE.
    hog: list[int] = []
    try:
        while True:
            hog.append(os.open("/dev/null", os.O_RDONLY))
    except OSError as exc:
        if exc.errno != errno.EMFILE:
            raise
    # Phase 2: 200 categories round-robin, the worst case for an LRU pool.
    for seq in range(2000):
        logflume.get_logger(f"cat{seq % 200:03d}").info("phase2", seq=seq)
    flushed = logflume.flush(timeout=30)
    stats = logflume.stats()
    for fd in hog:
        os.close(fd)
    logflume.shutdown()
    out = {
        "flushed": flushed,
        "hogged": len(hog),
        "dropped": stats["dropped"],
        "failed": stats["failed"],
        "sink": stats["sinks"][sink.name],
    }
    sys.stdout.write(orjson.dumps(out).decode() + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
