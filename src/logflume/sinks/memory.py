"""MemorySink: keeps records in a list, for tests and inspection."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import orjson

from .._record import Record, parse_level


class MemorySink:
    """Collects every record it is given. Thread-safe; ``wait_for`` blocks until a condition holds.

    >>> sink = MemorySink()
    >>> logflume.configure(sinks=[sink]); log.info("hi"); logflume.flush()
    >>> sink.messages()
    ['hi']
    """

    def __init__(
        self,
        *,
        level: int | str | None = None,
        name: str = "memory",
        max_records: int | None = None,
    ) -> None:
        self.name = name
        self.level = parse_level(level) if level is not None else None
        self.max_records = max_records
        self._records: list[Record] = []
        self._evicted = 0
        self._cond = threading.Condition()
        self.closed = False

    def write_batch(self, records: Sequence[Record]) -> None:
        with self._cond:
            self._records.extend(records)
            if self.max_records is not None and len(self._records) > self.max_records:
                extra = len(self._records) - self.max_records
                del self._records[:extra]
                self._evicted += extra
            self._cond.notify_all()

    def flush(self, timeout: float | None = None) -> bool:
        return True

    def close(self) -> None:
        self.closed = True

    def after_fork_in_child(self) -> None:
        self._cond = threading.Condition()
        self._records = []

    # --- inspection -----------------------------------------------------------------

    @property
    def records(self) -> list[Record]:
        """A copy of the records received so far, in order."""
        with self._cond:
            return list(self._records)

    def messages(self) -> list[str]:
        return [r.msg for r in self.records]

    def lines(self) -> list[bytes]:
        """The JSON lines as the file sinks would write them."""
        return [r.line for r in self.records]

    def dicts(self) -> list[dict[str, Any]]:
        """Each record's JSON object, parsed back."""
        return [orjson.loads(r.line) for r in self.records]

    def clear(self) -> None:
        with self._cond:
            self._records.clear()

    def wait_for(self, predicate: Callable[[list[Record]], bool], timeout: float = 5.0) -> bool:
        """Block until ``predicate(records)`` is true or ``timeout`` passes; return which."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate(self._records):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return True

    def stats(self) -> dict[str, Any]:
        with self._cond:
            return {"held": len(self._records), "evicted": self._evicted}
