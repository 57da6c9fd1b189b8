"""Child for the ENOSPC test, run inside a private mount namespace on a 64 KiB tmpfs.

Usage: store_enospc_child.py DIR. Appends incompressible batches until the disk
is full, frees space, appends again, and prints one JSON object describing
what was acknowledged and what reads back.
"""

from __future__ import annotations

import errno
import os
import sys
from pathlib import Path

import orjson

from logflume._record import Record
from logflume.formatting import json_line
from logflume.store import SegmentStore

root = Path(sys.argv[1])
filler = root / "filler"
filler.write_bytes(b"\0" * 8192)
store = SegmentStore(root / "store", compression="gzip")
acked: list[int] = []
errors: list[int] = []
n = 0
while not errors:
    batch = []
    for _ in range(5):
        record = Record(1_700_000_000_000_000_000 + n, 20, "app", "x", {}, {"i": n})
        record.fields = {"i": n, "noise": os.urandom(300).hex()}
        record.line = json_line(record)
        batch.append(record)
        n += 1
    try:
        store.write_batch(batch)
    except OSError as exc:
        errors.append(exc.errno or 0)
        continue
    acked.extend(r.fields["i"] for r in batch)
filler.unlink()
after = Record(1_700_000_000_000_000_000 + n, 20, "app", "after", {}, {"i": -1})
after.line = json_line(after)
store.write_batch([after])
stats = store.stats()
store.close()
stored = [r["i"] for r in SegmentStore(root / "store", readonly=True).query()]
print(
    orjson.dumps(
        {
            "errno": errors[0],
            "enospc": errno.ENOSPC,
            "acked": acked,
            "stored": stored,
            "frames_undone": stats["frames_undone"],
        }
    ).decode()
)
