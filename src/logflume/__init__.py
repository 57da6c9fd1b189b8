"""logflume: structured logging whose caller never waits on I/O and whose sinks lose nothing.

>>> import logflume
>>> logflume.configure(sinks=[logflume.FileSink("logs/app.jsonl")], level="INFO")
>>> log = logflume.get_logger("checkout").bind(service="shop")
>>> log.info("user login", user_id=7)
>>> logflume.flush(timeout=5)
True
"""

from typing import TYPE_CHECKING, Any

from ._record import CRITICAL, DEBUG, ERROR, INFO, TRACE, WARNING, Record
from .config import (
    aflush,
    configure,
    configure_from_dict,
    configure_from_env,
    configure_from_toml,
    flush,
    get_logger,
    get_pipeline,
    set_level,
    shutdown,
    stats,
)
from .errors import ConfigurationError, LogflumeError, MissingDependencyError, SinkOpenError
from .logger import Logger
from .pipeline import Pipeline
from .sinks import FileSink, MemorySink, Sink, StreamSink
from .sinks.rotating import RotatingFileSink
from .sinks.routed import RoutedFileSink
from .stdlib import LogflumeHandler, capture_stdlib
from .store import SegmentStore, StoreLockedError

if TYPE_CHECKING:
    from .sinks.loki import LokiSink

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # Network sinks load on first use: ``import logflume`` stays light.
    if name == "LokiSink":
        from .sinks.loki import LokiSink

        return LokiSink
    raise AttributeError(f"module 'logflume' has no attribute {name!r}")


__all__ = [
    "CRITICAL",
    "DEBUG",
    "ERROR",
    "INFO",
    "TRACE",
    "WARNING",
    "ConfigurationError",
    "FileSink",
    "LogflumeError",
    "LogflumeHandler",
    "Logger",
    "LokiSink",
    "MemorySink",
    "MissingDependencyError",
    "Pipeline",
    "Record",
    "RotatingFileSink",
    "RoutedFileSink",
    "SegmentStore",
    "Sink",
    "SinkOpenError",
    "StoreLockedError",
    "StreamSink",
    "__version__",
    "aflush",
    "capture_stdlib",
    "configure",
    "configure_from_dict",
    "configure_from_env",
    "configure_from_toml",
    "flush",
    "get_logger",
    "get_pipeline",
    "set_level",
    "shutdown",
    "stats",
]
