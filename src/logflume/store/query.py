"""Query filters, compiled once: which frames to skip and which records to keep."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .._record import LEVELS_BY_NAME, parse_level
from .frames import FrameInfo

Timestamp = datetime | float | int


def to_ns(value: Timestamp | None) -> int | None:
    """A bound as ns since the epoch: a ``datetime`` (naive means UTC) or seconds."""
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        delta = value - datetime(1970, 1, 1, tzinfo=UTC)
        return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"since/until must be a datetime or seconds, not {value!r}")
    return int(value * 1_000_000_000)


def record_ts_ns(obj: Mapping[str, Any]) -> int:
    """The ``ts`` of a stored record (RFC 3339, microseconds) as ns; 0 if unreadable."""
    ts = obj.get("ts")
    if not isinstance(ts, str):
        return 0
    try:
        return to_ns(datetime.fromisoformat(ts)) or 0
    except ValueError:
        return 0


@dataclass(slots=True)
class Query:
    """Filters of ``SegmentStore.query``; bounds are inclusive, in ns."""

    since_ns: int | None = None
    until_ns: int | None = None
    level: int = 0
    logger: str | None = None
    where: dict[str, Any] = field(default_factory=dict)
    contains: bytes | None = None

    @classmethod
    def build(
        cls,
        since: Timestamp | None = None,
        until: Timestamp | None = None,
        level: int | str | None = None,
        logger: str | None = None,
        where: Mapping[str, Any] | None = None,
        contains: str | None = None,
    ) -> Query:
        since_ns = to_ns(since)
        # Records keep microseconds: compare on that grid so both paths agree.
        return cls(
            since_ns=None if since_ns is None else since_ns // 1000 * 1000,
            until_ns=to_ns(until),
            level=0 if level is None else parse_level(level),
            logger=logger,
            where=dict(where or {}),
            contains=None if contains is None else contains.encode(),
        )

    def frame_may_match(self, info: FrameInfo) -> bool:
        """False when the header alone proves no record of the frame matches."""
        if self.since_ns is not None and info.ts_max < self.since_ns:
            return False
        if self.until_ns is not None and info.ts_min // 1000 * 1000 > self.until_ns:
            return False
        return info.level_max >= self.level

    def frame_inside_time(self, info: FrameInfo) -> bool:
        """True when every record of the frame is inside the time bounds."""
        return (self.since_ns is None or info.ts_min // 1000 * 1000 >= self.since_ns) and (
            self.until_ns is None or info.ts_max <= self.until_ns
        )

    def matches(self, obj: Mapping[str, Any], line: bytes, check_time: bool) -> bool:
        """Whether one record (parsed ``obj`` of JSON ``line``) passes every filter."""
        if self.contains is not None and self.contains not in line:
            return False
        if self.level and LEVELS_BY_NAME.get(str(obj.get("level")), 0) < self.level:
            return False
        if self.logger is not None:
            name = obj.get("logger")
            if not isinstance(name, str) or not (
                name == self.logger or name.startswith(self.logger + ".")
            ):
                return False
        for key, value in self.where.items():
            if key not in obj or obj[key] != value:
                return False
        if check_time:
            ts = record_ts_ns(obj)
            if self.since_ns is not None and ts < self.since_ns:
                return False
            if self.until_ns is not None and ts > self.until_ns:
                return False
        return True
