"""``Capture``: a MemorySink with helpers to assert on what was logged."""

from __future__ import annotations

from typing import Any

from .._record import Record, parse_level
from ..sinks.memory import MemorySink


class Capture(MemorySink):
    """Records captured from the pipeline, with query and assertion helpers.

    >>> def test_login(logflume_capture):
    ...     login(user_id=7)
    ...     logflume_capture.assert_logged("user login", level="info", user_id=7)
    """

    def __init__(self, *, name: str = "capture") -> None:
        super().__init__(name=name)

    @property
    def records(self) -> list[Record]:
        """Everything logged so far (flushes the pipeline first, so nothing is in flight)."""
        flush()
        return super().records

    def find(
        self,
        msg: str | None = None,
        *,
        level: int | str | None = None,
        logger: str | None = None,
        **fields: Any,
    ) -> list[Record]:
        """Records whose message, level, logger and fields all match what is given."""
        levelno = parse_level(level) if level is not None else None
        found = []
        for record in self.records:
            if msg is not None and record.msg != msg:
                continue
            if levelno is not None and record.level != levelno:
                continue
            if logger is not None and record.logger != logger:
                continue
            merged = record.all_fields()
            if any(k not in merged or merged[k] != v for k, v in fields.items()):
                continue
            found.append(record)
        return found

    def assert_logged(
        self,
        msg: str | None = None,
        *,
        count: int | None = None,
        level: int | str | None = None,
        logger: str | None = None,
        **fields: Any,
    ) -> list[Record]:
        """Fail (AssertionError listing what was captured) unless a matching record exists.

        With ``count``, exactly that many must match. Returns the matches.
        """
        found = self.find(msg, level=level, logger=logger, **fields)
        ok = len(found) == count if count is not None else bool(found)
        if not ok:
            wanted = {"msg": msg, "level": level, "logger": logger, **fields}
            seen = "\n".join(f"  {r!r}" for r in self.records[-20:]) or "  (nothing)"
            raise AssertionError(
                f"expected {'a' if count is None else count} record(s) matching "
                f"{ {k: v for k, v in wanted.items() if v is not None} }, found {len(found)}; "
                f"last captured:\n{seen}"
            )
        return found

    def assert_not_logged(
        self,
        msg: str | None = None,
        *,
        level: int | str | None = None,
        logger: str | None = None,
        **fields: Any,
    ) -> None:
        """Fail if any record matches."""
        found = self.find(msg, level=level, logger=logger, **fields)
        if found:
            raise AssertionError(f"expected no matching record, found {found!r}")


def flush() -> None:
    from ..config import flush as _flush

    _flush(timeout=10)
