"""Bridge from the standard library's ``logging`` into the logflume pipeline."""

from __future__ import annotations

import logging
from typing import Any

from . import config

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD_ATTRS = frozenset(
    logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None).__dict__
) | {"message", "asctime", "taskName"}


class LogflumeHandler(logging.Handler):
    """A ``logging.Handler`` that queues stdlib records into logflume's pipeline.

    The message is formatted with its args (``"%s"`` style) on the caller's
    thread, exactly as stdlib would; ``extra=`` keys become fields; exceptions
    keep their traceback; the level maps to the nearest logflume level.

    >>> logging.getLogger().addHandler(LogflumeHandler())
    """

    def emit(self, record: logging.LogRecord) -> None:
        try:
            # Read the active pipeline without the configuration lock: this runs for every
            # stdlib record; the locked path is only for the very first one.
            pipeline = config._pipeline
            if pipeline is None or pipeline.closed:
                pipeline = config._current_or_default()
            fields: dict[str, Any] = {
                k: v for k, v in record.__dict__.items() if k not in _STANDARD_ATTRS
            }
            exc = record.exc_info[1] if record.exc_info else None
            src = (
                (record.pathname, record.lineno, record.funcName)
                if pipeline.capture_source
                else None
            )
            pipeline.emit_at(
                int(record.created * 1e9),
                record.levelno,
                record.name,
                record.getMessage(),
                fields,
                exc,
                src,
            )
        except Exception:
            self.handleError(record)


def capture_stdlib(level: int | str = logging.NOTSET, logger: str | None = None) -> LogflumeHandler:
    """Send records of stdlib logger ``logger`` (default: the root logger) to logflume.

    Sets that logger's level to ``level`` (when given) and adds one
    ``LogflumeHandler`` (once: calling again returns the existing one).
    """
    target = logging.getLogger(logger)
    if isinstance(level, str):
        level = logging.getLevelName(level.upper())
        if not isinstance(level, int):
            raise ValueError(f"unknown stdlib level {level!r}")
    for handler in target.handlers:
        if isinstance(handler, LogflumeHandler):
            existing = handler
            break
    else:
        existing = LogflumeHandler()
        target.addHandler(existing)
    if level != logging.NOTSET:
        target.setLevel(level)
    return existing
