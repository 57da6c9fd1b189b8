"""The process-wide pipeline: ``configure()``, ``get_logger()``, ``flush()``, ``stats()``.

Until ``configure()`` is called, the first log call sets up a default
pipeline that writes to stderr at ``info`` (like loguru), so libraries can
log before the application configures anything.
"""

from __future__ import annotations

import importlib
import os
import threading
import tomllib
from collections.abc import Iterable, Mapping
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


# --- configuration from data: dict, TOML, environment ---------------------------------

# Sink "type" names usable in dict/TOML configuration, imported only when used.
SINK_TYPES: dict[str, str] = {
    "file": "logflume.sinks.file:FileSink",
    "stream": "logflume.sinks.stream:StreamSink",
    "memory": "logflume.sinks.memory:MemorySink",
    "rotating": "logflume.sinks.rotating:RotatingFileSink",
    "routed": "logflume.sinks.routed:RoutedFileSink",
    "store": "logflume.store:SegmentStore",
    "loki": "logflume.sinks.loki:LokiSink",
}
_OPTION_NAMES = frozenset(
    {
        "level", "policy", "max_queue_records", "max_queue_bytes", "block_timeout",
        "batch_max_records", "batch_max_wait", "max_record_bytes", "capture_source",
        "redact_fields", "shutdown_timeout",
    }
)  # fmt: skip


def build_sink(spec: Mapping[str, Any]) -> Sink:
    """A sink from ``{"type": "file", "path": "logs/app.jsonl", ...}`` (other keys: its options).

    Raises ``ConfigurationError`` naming the sink type and what to change.
    """
    if not isinstance(spec, Mapping) or "type" not in spec:
        raise ConfigurationError(f"each sink needs a 'type' ({', '.join(SINK_TYPES)}): {spec!r}")
    kind = spec["type"]
    target = SINK_TYPES.get(kind)
    if target is None:
        raise ConfigurationError(
            f"unknown sink type {kind!r}; use one of {', '.join(sorted(SINK_TYPES))}"
        )
    module_name, _, class_name = target.partition(":")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise ConfigurationError(f"sink type {kind!r} is not available: {exc}") from None
    options = {k: v for k, v in spec.items() if k != "type"}
    try:
        sink: Sink = cls(**options)
    except TypeError as exc:
        raise ConfigurationError(f"sink type {kind!r}: {exc}") from None
    return sink


def configure_from_dict(settings: Mapping[str, Any]) -> Pipeline:
    """``configure()`` from plain data, e.g. parsed JSON/YAML/TOML.

    >>> logflume.configure_from_dict({
    ...     "level": "info",
    ...     "sinks": [{"type": "file", "path": "logs/app.jsonl"}, {"type": "stream"}],
    ... })
    """
    unknown = set(settings) - _OPTION_NAMES - {"sinks"}
    if unknown:
        raise ConfigurationError(
            f"unknown option(s) {', '.join(sorted(unknown))}; "
            f"known: sinks, {', '.join(sorted(_OPTION_NAMES))}"
        )
    raw_sinks = settings.get("sinks")
    if raw_sinks is not None and not isinstance(raw_sinks, list):
        raise ConfigurationError("'sinks' must be a list of tables/dicts, each with a 'type'")
    sinks = None if raw_sinks is None else [build_sink(spec) for spec in raw_sinks]
    options = {k: v for k, v in settings.items() if k != "sinks"}
    if "redact_fields" in options:
        options["redact_fields"] = tuple(options["redact_fields"])
    return configure(sinks, **options)


def load_toml(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The logflume settings in a TOML file: its ``[tool.logflume]`` or ``[logflume]``
    table if present, else the whole document."""
    try:
        with open(path, "rb") as f:
            document = tomllib.load(f)
    except OSError as exc:
        raise ConfigurationError(f"cannot read {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{path} is not valid TOML: {exc}") from None
    table = document.get("tool", {}).get("logflume") or document.get("logflume") or document
    if not isinstance(table, dict):
        raise ConfigurationError(f"{path}: the logflume settings must be a table")
    return table


def configure_from_toml(path: str | os.PathLike[str]) -> Pipeline:
    """``configure()`` from a TOML file (see ``load_toml``)::

    [logflume]
    level = "info"
    [[logflume.sinks]]
    type = "file"
    path = "logs/app.jsonl"
    """
    return configure_from_dict(load_toml(path))


def settings_from_env(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Settings from ``LOGFLUME_*`` variables, for twelve-factor deployments.

    ``LOGFLUME_CONFIG`` names a TOML file read first; then ``LOGFLUME_LEVEL``,
    ``LOGFLUME_POLICY``, ``LOGFLUME_CAPTURE_SOURCE`` (1/0, true/false),
    ``LOGFLUME_MAX_QUEUE_RECORDS``, ``LOGFLUME_BLOCK_TIMEOUT`` override it;
    ``LOGFLUME_FILE`` adds a file sink and ``LOGFLUME_STREAM`` (stderr/stdout) a stream sink.
    """
    env = os.environ if environ is None else environ
    settings: dict[str, Any] = {}
    if env.get("LOGFLUME_CONFIG"):
        settings.update(load_toml(env["LOGFLUME_CONFIG"]))
    for name, convert in (
        ("level", str), ("policy", str), ("capture_source", _env_bool),
        ("max_queue_records", int), ("block_timeout", float),
    ):  # fmt: skip
        raw = env.get(f"LOGFLUME_{name.upper()}")
        if raw is not None and raw != "":
            try:
                settings[name] = convert(raw)
            except ValueError:
                raise ConfigurationError(f"LOGFLUME_{name.upper()}={raw!r} is not valid") from None
    extra_sinks: list[dict[str, Any]] = []
    if env.get("LOGFLUME_FILE"):
        extra_sinks.append({"type": "file", "path": env["LOGFLUME_FILE"]})
    if env.get("LOGFLUME_STREAM"):
        extra_sinks.append({"type": "stream", "stream": env["LOGFLUME_STREAM"]})
    if extra_sinks:
        settings["sinks"] = list(settings.get("sinks") or []) + extra_sinks
    return settings


def configure_from_env(environ: Mapping[str, str] | None = None) -> Pipeline:
    """``configure()`` from ``LOGFLUME_*`` environment variables (see ``settings_from_env``)."""
    return configure_from_dict(settings_from_env(environ))


def _env_bool(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError(raw)
