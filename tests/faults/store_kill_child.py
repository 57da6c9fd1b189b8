"""Child for the kill -9 test: append numbered batches to a store forever.

Usage: store_kill_child.py DIR. Numbering continues from the records already
stored; after each append it prints the number of records acknowledged.
"""

from __future__ import annotations

import sys
import time

from logflume._record import Record
from logflume.formatting import json_line
from logflume.store import SegmentStore

store = SegmentStore(sys.argv[1], compression="zstd", max_segment_bytes=16 * 1024)
n = store.summary()["records"]
while True:
    batch = []
    for i in range(n, n + 20):
        record = Record(time.time_ns(), 20, "child", "tick", {}, {"i": i, "pad": "x" * (i % 50)})
        record.line = json_line(record)
        batch.append(record)
    store.write_batch(batch)
    n += len(batch)
    sys.stdout.write(f"{n}\n")
    sys.stdout.flush()
