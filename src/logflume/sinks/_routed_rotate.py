"""Per-file rotation for RoutedFileSink: one RotatingFileSink per routed path, LRU-bounded."""

from __future__ import annotations

import inspect
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from .._record import Record
from ..errors import ConfigurationError

_ROTATE_RESERVED = frozenset({"path", "level", "name", "mode", "clock"})
_ROTATE_TOTALS = (
    "records",
    "rotations",
    "write_failures",
    "rotation_failures",
    "fallback_records",
    "lost_records",
    "alerts",
)


class RotatingFiles:
    """One ``RotatingFileSink`` per routed path, at most ``limit`` open, LRU-closed.

    A sink in use (being written by one thread) is never closed by another.
    Counters of closed sinks are kept in ``stats()``.
    """

    def __init__(
        self, options: Mapping[str, Any], limit: int, idle_close: float | None, mode: int
    ) -> None:
        from .rotating import RotatingFileSink

        bad = _ROTATE_RESERVED.intersection(options)
        if bad:
            raise ConfigurationError(
                f"rotate={{...}} may not set {', '.join(sorted(bad))}: the routed sink sets them"
            )
        self._factory = RotatingFileSink
        self.options = dict(options)
        self.options.setdefault("compress", None)
        self._check(mode)
        self.mode = mode
        self.limit = limit
        self.idle_close = idle_close
        self._open: OrderedDict[str, list[Any]] = OrderedDict()  # path -> [sink, users, used_at]
        self._cond = threading.Condition(threading.Lock())
        self._totals = dict.fromkeys(_ROTATE_TOTALS, 0)
        self._closes = 0

    def _check(self, mode: int) -> None:
        """Build one sink in a scratch directory: bad options fail at configure time."""
        import tempfile

        try:
            inspect.signature(self._factory).bind("probe", **self.options)
        except TypeError as exc:
            raise ConfigurationError(f"rotate={{...}}: {exc}") from None
        with tempfile.TemporaryDirectory(prefix="logflume-rotate-check-") as tmp:
            probe = self._factory(os.path.join(tmp, "probe.jsonl"), mode=mode, **self.options)
            probe.close()

    def write(self, path: str, data: bytes) -> None:
        """Append ``data`` (whole JSON lines) to ``path`` through its rotating sink."""
        records = [
            Record(0, 0, "", "", {}, {}, line=line) for line in data.splitlines(keepends=True)
        ]
        entry = self._acquire(path)
        try:
            entry[0].write_batch(records)
        finally:
            with self._cond:
                entry[1] -= 1
                entry[2] = time.monotonic()
                self._cond.notify_all()

    def _acquire(self, path: str) -> list[Any]:
        with self._cond:
            entry = self._open.get(path)
            if entry is None:
                while len(self._open) >= self.limit:
                    idle = next((p for p, e in self._open.items() if not e[1]), None)
                    if idle is None:
                        self._cond.wait(1.0)
                        continue
                    self._close(idle)
                entry = [self._factory(path, mode=self.mode, **self.options), 0, 0.0]
                self._open[path] = entry
            self._open.move_to_end(path)
            entry[1] += 1
            return entry

    def _close(self, path: str) -> None:
        """With the lock held: close an idle sink and keep its counters."""
        sink = self._open.pop(path)[0]
        sink.close()
        self._closes += 1
        counts = sink.stats()
        for key in _ROTATE_TOTALS:
            self._totals[key] += int(counts.get(key, 0))

    def close_where(self, predicate: Callable[[str], bool]) -> None:
        with self._cond:
            for path in [p for p in self._open if predicate(p)]:
                while self._open[path][1]:
                    self._cond.wait()
                self._close(path)

    def close_idle(self) -> None:
        if self.idle_close is None:
            return
        now = time.monotonic()
        with self._cond:
            for path in [
                p for p, e in self._open.items() if not e[1] and now - e[2] >= self.idle_close
            ]:
                self._close(path)

    def open_paths(self) -> list[str]:
        with self._cond:
            return list(self._open)

    def after_fork_in_child(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        for entry in self._open.values():
            entry[1] = 0
            entry[0].after_fork_in_child()

    def stats(self) -> dict[str, Any]:
        """Counters summed over every rotating file, open or closed since."""
        with self._cond:
            out: dict[str, Any] = dict(self._totals)
            for sink, _users, _used in self._open.values():
                counts = sink.stats()
                for key in _ROTATE_TOTALS:
                    out[key] += int(counts.get(key, 0))
            out["open"] = len(self._open)
            out["limit"] = self.limit
            out["closes"] = self._closes
        return out
