"""Child for test_routed_enospc: routes into ROOT on a 64 KiB tmpfs, fills it, frees space.

Usage: python routed_enospc_child.py ROOT. Prints one JSON line with counts.
"""

from __future__ import annotations

import os
import sys

import orjson

import logflume

PAD = "x" * 200


def main(root: str) -> int:
    alerts: list[str] = []
    sink = logflume.RoutedFileSink(
        root, "{category}.jsonl", None, flush_interval=0, on_alert=lambda a: alerts.append(a.path)
    )
    logflume.configure(sinks=[sink], batch_max_records=20)
    ballast = os.path.join(root, "ballast")
    with open(ballast, "wb") as f:
        f.write(b"b" * 16 * 1024)
    # Phase 1: about three times what the filesystem holds.
    for seq in range(600):
        logflume.get_logger(f"cat{seq % 4}").info("fill", seq=seq, pad=PAD)
    full_ok = logflume.flush(timeout=30)
    lost = logflume.stats()["sinks"][sink.name]["lost_records"]
    # Phase 2: free space (delete the ballast and the two first files), log again.
    os.unlink(ballast)
    for n in range(2):
        os.unlink(os.path.join(root, f"cat{n}.jsonl"))
    for seq in range(600, 640):
        logflume.get_logger(f"cat{seq % 4}").info("after", seq=seq)
    after_ok = logflume.flush(timeout=30)
    stats = logflume.stats()
    logflume.shutdown()
    seqs: list[int] = []
    fragments = 0
    for n in range(4):
        with open(os.path.join(root, f"cat{n}.jsonl"), "rb") as f:
            for line in f.read().splitlines():
                try:
                    seqs.append(orjson.loads(line)["seq"])
                except orjson.JSONDecodeError:
                    fragments += 1  # the part of a line ENOSPC cut, on a line of its own
    out = {
        "full_flush_ok": full_ok,
        "after_flush_ok": after_ok,
        "lost_when_full": lost,
        "alerts": len(alerts),
        "dropped": stats["dropped"],
        "sink": stats["sinks"][sink.name],
        "seqs": seqs,
        "fragments": fragments,
    }
    sys.stdout.write(orjson.dumps(out).decode() + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
