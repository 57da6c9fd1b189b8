"""The process-wide pipeline: ``configure()``, ``get_logger()``, ``flush()``, ``stats()``.

Until ``configure()`` is called, the first log call sets up a default
pipeline that writes to stderr at ``info`` (like loguru), so libraries can
log before the application configures anything.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from ._record import parse_level
from .errors import ConfigurationError
from .logger import Dispatch, Logger
from .pipeline import DEFAULT_REDACT_FIELDS, Pipeline, Policy
from .sinks.base import Sink
from .sinks.stream import StreamSink

_dispatch = Dispatch()
_config_lock = threading.RLock()
_pipeline: Pipeline | None = None


def _lazy_emit(*item: Any) -> None:
    """First log call before configure(): build the default pipeline, then log."""
    pipeline = _current_or_default()
    pipeline.emit(*item)


_dispatch.emit = _lazy_emit


def configure(
    sinks: Iterable[Sink] | None = None,
    *,
    level: int | str = "INFO",
    policy: Policy = "block",
    max_queue_records: int = 100_000,
    max_queue_bytes: int = 64 * 1024 * 1024,
    block_timeout: float = 1.0,
    batch_max_records: int = 2048,
    batch_max_wait: float = 0.005,
    max_record_bytes: int = 65536,
    capture_source: bool = False,
    redact_fields: Iterable[str] = DEFAULT_REDACT_FIELDS,
    shutdown_timeout: float = 5.0,
) -> Pipeline:
    """Set the sinks and options of the process-wide pipeline; returns it.

    A previous pipeline is drained (up to ``shutdown_timeout`` seconds) and its
    sinks closed first. Raises ``ConfigurationError`` for a bad option, naming it.

    >>> logflume.configure(sinks=[logflume.FileSink("logs/app.jsonl")], level="INFO")
    """
    global _pipeline
    try:
        levelno = parse_level(level)
    except ValueError as exc:
        raise ConfigurationError(str(exc)) from None
    new = Pipeline(
        [StreamSink()] if sinks is None else sinks,
        level=levelno,
        policy=policy,
        max_queue_records=max_queue_records,
        max_queue_bytes=max_queue_bytes,
        block_timeout=block_timeout,
        batch_max_records=batch_max_records,
        batch_max_wait=batch_max_wait,
        max_record_bytes=max_record_bytes,
        capture_source=capture_source,
        redact_fields=redact_fields,
    )
    with _config_lock:
        old, _pipeline = _pipeline, new
        _dispatch.emit = new.emit
        _dispatch.capture_source = capture_source
        _dispatch.level = levelno
    if old is not None:
        old.shutdown(shutdown_timeout)
    return new


def _current_or_default() -> Pipeline:
    with _config_lock:
        if _pipeline is None or _pipeline.closed:
            return configure()
        return _pipeline


def get_pipeline() -> Pipeline | None:
    """The active pipeline, or None before the first configure()/log call."""
    return _pipeline


def set_level(level: int | str) -> None:
    """Change the level every logger filters on, without touching the sinks."""
    levelno = parse_level(level)
    _dispatch.level = levelno
    if _pipeline is not None:
        _pipeline.level = levelno


def get_logger(name: str | None = None, **context: Any) -> Logger:
    """A logger named ``name`` (default ``"root"``), optionally with bound ``context``.

    >>> log = logflume.get_logger("checkout", service="shop")
    """
    logger = Logger(name or "root", None, _dispatch)
    return logger.bind(**context) if context else logger


def flush(timeout: float | None = None) -> bool:
    """Barrier: True once everything logged before the call is written by every sink."""
    pipeline = _pipeline
    return True if pipeline is None else pipeline.flush(timeout)


async def aflush(timeout: float | None = None) -> bool:
    """``flush()`` for asyncio, without blocking the event loop."""
    pipeline = _pipeline
    return True if pipeline is None else await pipeline.aflush(timeout)


def stats() -> dict[str, Any]:
    """Counters of the active pipeline: enqueued, processed, dropped, failed, per sink."""
    pipeline = _pipeline
    if pipeline is None:
        return {"enqueued": 0, "processed": 0, "dropped": 0, "failed": 0, "queued": 0, "sinks": {}}
    return pipeline.stats()


def shutdown(timeout: float | None = 5.0) -> bool:
    """Drain and close the active pipeline; later log calls start a default one."""
    global _pipeline
    with _config_lock:
        pipeline, _pipeline = _pipeline, None
        _dispatch.emit = _lazy_emit
    return True if pipeline is None else pipeline.shutdown(timeout)
