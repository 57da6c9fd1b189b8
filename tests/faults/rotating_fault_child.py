"""Child process for the rotating fault tests; prints one JSON object of observations.

Modes: ``fiu DIR`` (run under ``fiu-run -x``: EBUSY/EIO injected into the real
rename()/write() calls via libfiu), ``enospc DIR`` (DIR is a 64 KiB tmpfs),
``eacces DIR`` (run as an unprivileged user; waits for a line on stdin after
printing ``blocked``), ``forever DIR [stuck-compressor]`` (writes and rotates until killed; with
``stuck-compressor`` the compressor hangs half-way through an archive).
"""

from __future__ import annotations

import ctypes
import sys
import threading
from pathlib import Path
from typing import Any

import orjson

from logflume import MemorySink, Record
from logflume.fs import Alert, OsFileOps
from logflume.sinks._compress import GzipCodec
from logflume.sinks.rotating import RotatingFileSink


def rec(i: int) -> Record:
    return Record(0, 20, "t", "m", {}, {}, line=orjson.dumps({"i": i, "p": "x" * 60}) + b"\n")


class HookedOps(OsFileOps):
    """Real operations; ``on_sleep`` runs at each backoff sleep (to clear a fault)."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []
        self.on_sleep: Any = None

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if self.on_sleep is not None:
            self.on_sleep(len(self.sleeps))


def make(
    directory: Path, ops: HookedOps | None = None, **kw: Any
) -> tuple[RotatingFileSink, list[Alert], MemorySink]:
    alerts: list[Alert] = []
    fallback = MemorySink()
    options: dict[str, Any] = {
        "max_bytes": 400,
        "backup_count": 1000,
        "compress": None,
        "max_total_bytes": None,
        "min_free_bytes": 0,
        "recover_interval": 0.0,
        "retry_base_delay": 0.001,
    }
    options.update(kw)
    sink = RotatingFileSink(
        directory / "app.log", on_alert=alerts.append, fallback=fallback, ops=ops, **options
    )
    return sink, alerts, fallback


def fiu(directory: Path) -> dict[str, Any]:
    lib = ctypes.CDLL("libfiu.so.0")
    lib.fiu_enable.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_uint]
    lib.fiu_disable.argtypes = [ctypes.c_char_p]
    rename, write = b"posix/io/dir/rename", b"posix/io/rw/write"
    out: dict[str, Any] = {}
    ops = HookedOps()
    sink, alerts, fallback = make(directory, ops)
    # 1. EBUSY on rename, cleared after the second backoff: retried, then it succeeds.
    sink.write_batch([rec(i) for i in range(5)])
    lib.fiu_enable(rename, 1, ctypes.c_void_p(16), 0)
    ops.on_sleep = lambda n: n == 2 and lib.fiu_disable(rename)
    sink.write_batch([rec(i) for i in range(5, 10)])
    out["transient"] = {
        "sleeps": len(ops.sleeps),
        "rotations": sink.stats()["rotations"],
        "alerts": len(alerts),
    }
    # 2. EBUSY that never clears: retries exhausted, alert, the current file keeps the records.
    ops.on_sleep = None
    lib.fiu_enable(rename, 1, ctypes.c_void_p(16), 0)
    sink.write_batch([rec(i) for i in range(10, 20)])
    lib.fiu_disable(rename)
    out["exhausted"] = {
        "alerts": [(a.operation, a.errno, a.attempts) for a in alerts],
        "degraded": sink.stats()["degraded"],
        "fallback": len(fallback.records),
    }
    sink.write_batch([rec(20)])  # fault cleared: the rotation is retried
    out["exhausted"]["recovered"] = sink.stats()["degraded"] == []
    # 3. EIO on write (permanent): no retry, records to the fallback, recovery after.
    sleeps_before = len(ops.sleeps)
    lib.fiu_enable(write, 1, ctypes.c_void_p(5), 0)
    sink.write_batch([rec(21), rec(22)])
    lib.fiu_disable(write)
    out["eio"] = {
        "retries": len(ops.sleeps) - sleeps_before,
        "fallback": [orjson.loads(r.line)["i"] for r in fallback.records],
        "alert": (alerts[-1].operation, alerts[-1].errno),
    }
    sink.write_batch([rec(23)])
    out["eio"]["recoveries"] = sink.stats()["recoveries"]
    # 4. EAGAIN on write, cleared after the first backoff: retried, nothing lost.
    lib.fiu_enable(write, 1, ctypes.c_void_p(11), 0)
    ops.on_sleep = lambda n: lib.fiu_disable(write)
    sink.write_batch([rec(24)])
    out["eagain"] = {"retries": sink.stats()["retries"], "fallback": len(fallback.records)}
    sink.close()
    return out


def enospc(directory: Path) -> dict[str, Any]:
    filler = directory / "filler"
    filler.write_bytes(b"f" * 40 * 1024)
    sink, alerts, fallback = make(directory, max_bytes=100_000)
    i = 0
    while not fallback.records and i < 2000:
        sink.write_batch([rec(i)])
        i += 1
    failed_at = i
    filler.unlink()  # the fault clears
    sink.write_batch([rec(i)])
    out = {
        "failed_at": failed_at,
        "alerts": [(a.operation, a.errno) for a in alerts],
        "fallback": [orjson.loads(r.line)["i"] for r in fallback.records],
        "stats": sink.stats(),
    }
    sink.close()
    return out


def eacces(directory: Path) -> dict[str, Any]:
    sink, alerts, fallback = make(directory, alert_path=Path(sys.argv[3]))
    sink.write_batch([rec(1)])
    out: dict[str, Any] = {
        "alerts": [(a.operation, a.errno, a.attempts) for a in alerts],
        "fallback": [orjson.loads(r.line)["i"] for r in fallback.records],
    }
    sys.stdout.write("blocked\n")
    sys.stdout.flush()
    sys.stdin.readline()  # the parent makes the directory writable
    sink.write_batch([rec(2)])
    out["stats"] = sink.stats()
    sink.close()
    return out


class StuckGzip(GzipCodec):
    """gzip that writes part of the archive and then hangs (until the process is killed)."""

    def compress(self, read: Any, write: Any) -> None:
        write(b"\x1f\x8b\x08\x00partial")
        threading.Event().wait()


def forever(directory: Path) -> dict[str, Any]:
    stuck = len(sys.argv) > 3 and sys.argv[3] == "stuck-compressor"
    sink, _, _ = make(directory, max_bytes=2000, compress=StuckGzip() if stuck else "gzip")
    i = 0
    while True:
        sink.write_batch([rec(n) for n in range(i, i + 7)])
        i += 7


if __name__ == "__main__":
    mode, where = sys.argv[1], Path(sys.argv[2])
    result = {"fiu": fiu, "enospc": enospc, "eacces": eacces, "forever": forever}[mode](where)
    sys.stdout.write(orjson.dumps(result).decode() + "\n")
