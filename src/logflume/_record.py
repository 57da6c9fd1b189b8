"""Levels and the Record that travels from the writer thread to every sink."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

TRACE = 5
DEBUG = 10
INFO = 20
WARNING = 30
ERROR = 40
CRITICAL = 50

LEVEL_NAMES: dict[int, str] = {
    TRACE: "trace",
    DEBUG: "debug",
    INFO: "info",
    WARNING: "warning",
    ERROR: "error",
    CRITICAL: "critical",
}
LEVELS_BY_NAME: dict[str, int] = {name: no for no, name in LEVEL_NAMES.items()}
LEVELS_BY_NAME.update({"warn": WARNING, "fatal": CRITICAL, "notset": 0})

# Keys the record owns in its JSON form; user fields never overwrite them.
RESERVED_KEYS = frozenset({"ts", "level", "logger", "msg", "exc", "src"})


def level_name(levelno: int) -> str:
    """Lower-case name of a level number; numbers between levels map to the one below."""
    name = LEVEL_NAMES.get(levelno)
    if name is not None:
        return name
    below = [no for no in LEVEL_NAMES if no <= levelno]
    return LEVEL_NAMES[max(below)] if below else "trace"


def parse_level(level: int | str) -> int:
    """Turn ``"info"``, ``"INFO"``, ``20`` or ``logging.INFO`` into a level number.

    Raises ``ValueError`` naming the accepted names when the level is unknown.
    """
    if isinstance(level, bool):
        raise ValueError(f"level must be a name or an int, not {level!r}")
    if isinstance(level, int):
        if level < 0:
            raise ValueError(f"level must be >= 0, got {level}")
        return level
    if isinstance(level, str):
        found = LEVELS_BY_NAME.get(level.strip().lower())
        if found is not None:
            return found
    raise ValueError(
        f"unknown level {level!r}; use one of {', '.join(LEVEL_NAMES.values())} or an int"
    )


class Record:
    """One log event as the sinks see it (built by the writer thread, not the caller).

    ``line`` is the record serialized once as a JSON line (``bytes`` ending in
    ``b"\\n"``); sinks that write JSON use it as is. ``exc`` is a dict with
    ``type``, ``message`` and ``traceback`` when the event carries an exception,
    ``src`` a ``(file, line, function)`` tuple when source capture is on.
    """

    __slots__ = ("context", "exc", "fields", "level", "line", "logger", "msg", "src", "ts_ns")

    def __init__(
        self,
        ts_ns: int,
        level: int,
        logger: str,
        msg: str,
        context: Mapping[str, Any],
        fields: Mapping[str, Any],
        exc: dict[str, str] | None = None,
        src: tuple[str, int, str] | None = None,
        line: bytes = b"",
    ) -> None:
        self.ts_ns = ts_ns
        self.level = level
        self.logger = logger
        self.msg = msg
        self.context = context
        self.fields = fields
        self.exc = exc
        self.src = src
        self.line = line

    @property
    def level_name(self) -> str:
        return level_name(self.level)

    @property
    def ts(self) -> float:
        """Seconds since the epoch (UTC), as ``time.time()`` gives them."""
        return self.ts_ns / 1e9

    def all_fields(self) -> dict[str, Any]:
        """Bound context and call fields merged (call fields win)."""
        merged = dict(self.context)
        merged.update(self.fields)
        return merged

    def __repr__(self) -> str:
        return (
            f"Record(level={self.level_name!r}, logger={self.logger!r}, msg={self.msg!r}, "
            f"fields={self.all_fields()!r})"
        )
