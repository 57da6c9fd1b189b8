"""Logger: level methods, immutable ``bind()``, ``exception()``.

The hot path is a level check against the shared dispatch and one call into
the pipeline; everything else (formatting, serialization) happens later on the
writer thread.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from ._record import CRITICAL, DEBUG, ERROR, INFO, TRACE, WARNING, parse_level


class Dispatch:
    """What every logger consults: the active level and the function that queues records.

    ``configure()`` replaces the attributes; loggers read them without a lock.
    """

    __slots__ = ("capture_source", "emit", "level")

    def __init__(self) -> None:
        self.level = INFO
        self.emit: Any = _emit_nowhere
        self.capture_source = False


def _emit_nowhere(*_: Any) -> None:
    return None


_EMPTY: Mapping[str, Any] = MappingProxyType({})


def _caller(depth: int) -> tuple[Any, int] | None:
    try:
        frame = sys._getframe(depth)
    except ValueError:
        return None
    return (frame.f_code, frame.f_lineno)


class Logger:
    """A named logger with bound context. Cheap to create; ``bind()`` returns a new one.

    >>> log = get_logger("checkout").bind(service="shop")
    >>> log.info("user login", user_id=7)

    Methods never raise into the caller and never wait on I/O. Positional
    ``args`` are applied to the message %-style (stdlib habit), on the writer.
    """

    __slots__ = ("_context", "_dispatch", "_name")

    def __init__(self, name: str, context: Mapping[str, Any] | None, dispatch: Dispatch) -> None:
        self._name = name
        self._context = context if context is not None else _EMPTY
        self._dispatch = dispatch

    @property
    def name(self) -> str:
        return self._name

    @property
    def context(self) -> Mapping[str, Any]:
        """The bound key/values (read-only)."""
        return self._context

    def bind(self, **context: Any) -> Logger:
        """A new logger whose records also carry ``context``; this one is unchanged."""
        merged = dict(self._context)
        merged.update(context)
        return Logger(self._name, MappingProxyType(merged), self._dispatch)

    def unbind(self, *keys: str) -> Logger:
        """A new logger without ``keys`` in its context (missing keys are ignored)."""
        remaining = {k: v for k, v in self._context.items() if k not in keys}
        return Logger(self._name, MappingProxyType(remaining), self._dispatch)

    def new(self, **context: Any) -> Logger:
        """A new logger with only ``context`` bound."""
        return Logger(self._name, MappingProxyType(dict(context)), self._dispatch)

    def is_enabled_for(self, level: int | str) -> bool:
        """Would a record at ``level`` be queued? (Like stdlib ``isEnabledFor``.)"""
        try:
            return parse_level(level) >= self._dispatch.level
        except ValueError:
            return False

    isEnabledFor = is_enabled_for

    def _log(
        self, level: int, msg: Any, args: tuple[Any, ...], fields: dict[str, Any], exc: Any
    ) -> None:
        # Slow path shared by log() and exc_info handling: depth 3 is the user's frame.
        dispatch = self._dispatch
        src = _caller(3) if dispatch.capture_source else None
        if exc is None and "exc_info" in fields:
            exc = _exc_from(fields.pop("exc_info"))
        dispatch.emit(level, self._name, msg, args, self._context, fields, exc, src)

    def trace(self, msg: Any, /, *args: Any, **fields: Any) -> None:
        d = self._dispatch
        if d.level > TRACE:
            return
        if d.capture_source or "exc_info" in fields:
            return self._log(TRACE, msg, args, fields, None)
        d.emit(TRACE, self._name, msg, args, self._context, fields, None, None)

    def debug(self, msg: Any, /, *args: Any, **fields: Any) -> None:
        d = self._dispatch
        if d.level > DEBUG:
            return
        if d.capture_source or "exc_info" in fields:
            return self._log(DEBUG, msg, args, fields, None)
        d.emit(DEBUG, self._name, msg, args, self._context, fields, None, None)

    def info(self, msg: Any, /, *args: Any, **fields: Any) -> None:
        d = self._dispatch
        if d.level > INFO:
            return
        if d.capture_source or "exc_info" in fields:
            return self._log(INFO, msg, args, fields, None)
        d.emit(INFO, self._name, msg, args, self._context, fields, None, None)

    def warning(self, msg: Any, /, *args: Any, **fields: Any) -> None:
        d = self._dispatch
        if d.level > WARNING:
            return
        if d.capture_source or "exc_info" in fields:
            return self._log(WARNING, msg, args, fields, None)
        d.emit(WARNING, self._name, msg, args, self._context, fields, None, None)

    warn = warning

    def error(self, msg: Any, /, *args: Any, **fields: Any) -> None:
        d = self._dispatch
        if d.level > ERROR:
            return
        if d.capture_source or "exc_info" in fields:
            return self._log(ERROR, msg, args, fields, None)
        d.emit(ERROR, self._name, msg, args, self._context, fields, None, None)

    def critical(self, msg: Any, /, *args: Any, **fields: Any) -> None:
        d = self._dispatch
        if d.level > CRITICAL:
            return
        if d.capture_source or "exc_info" in fields:
            return self._log(CRITICAL, msg, args, fields, None)
        d.emit(CRITICAL, self._name, msg, args, self._context, fields, None, None)

    def exception(self, msg: Any, /, *args: Any, **fields: Any) -> None:
        """Log at ``error`` with the exception being handled (type, message, traceback)."""
        if self._dispatch.level > ERROR:
            return
        exc = sys.exc_info()[1]
        self._log(ERROR, msg, args, fields, exc)

    def log(self, level: int | str, msg: Any, /, *args: Any, **fields: Any) -> None:
        """Log at any level, given by number or name; an unknown name logs at ``error``
        with the bad level in the ``bad_level`` field rather than raising."""
        try:
            levelno = parse_level(level)
        except ValueError:
            levelno = ERROR
            fields["bad_level"] = repr(level)
        if self._dispatch.level > levelno:
            return
        self._log(levelno, msg, args, fields, None)

    def __repr__(self) -> str:
        return f"<Logger {self._name!r} context={dict(self._context)!r}>"


def _exc_from(value: Any) -> BaseException | None:
    if isinstance(value, BaseException):
        return value
    if isinstance(value, tuple) and len(value) == 3 and isinstance(value[1], BaseException):
        return value[1]
    if value:
        return sys.exc_info()[1]
    return None
