"""Turn records into JSON lines (orjson) or human-readable console lines.

Serialization happens once per record, on the writer thread. Whatever the
values are, the result is a bounded, valid JSON line: non-serializable values
become ``repr()``, lone surrogates are escaped, oversize records are truncated
with a visible marker.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Mapping
from typing import Any

import orjson

from ._record import LEVEL_NAMES, RESERVED_KEYS, Record, level_name

JSON_OPTIONS = orjson.OPT_APPEND_NEWLINE | orjson.OPT_NON_STR_KEYS
_OPTIONS = JSON_OPTIONS
TRUNCATION_MARKER = "…[truncated {} chars]"
_MAX_DEPTH = 32

_last_second: tuple[int, str] = (-1, "")


def format_ts(ts_ns: int) -> str:
    """RFC 3339 UTC with microseconds: ``2026-11-25T10:00:00.123456Z``."""
    global _last_second
    sec, ns = divmod(ts_ns, 1_000_000_000)
    cached = _last_second
    if cached[0] == sec:
        prefix = cached[1]
    else:
        prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec))
        _last_second = (sec, prefix)
    return f"{prefix}.{ns // 1000:06d}Z"


def json_default(value: Any) -> Any:
    """orjson fallback for types it does not know: readable, never raises."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", "backslashreplace")
    if isinstance(value, (set, frozenset)):
        return list(value)
    try:
        return repr(value)
    except Exception:  # a broken __repr__ must not cost the record
        return f"<unrepresentable {type(value).__qualname__}>"


def _safe_key(key: str, *taken: Mapping[str, Any]) -> str:
    renamed = "_" + key
    while any(renamed in mapping for mapping in taken):
        renamed = "_" + renamed
    return renamed


def _merge_user(target: dict[str, Any], values: Mapping[str, Any]) -> None:
    for key, value in values.items():
        if key in RESERVED_KEYS:
            key = _safe_key(key, values, target)
        target[key] = value


def build_dict(
    ts_ns: int,
    level: int,
    logger: str,
    msg: str,
    context: Mapping[str, Any],
    fields: Mapping[str, Any],
    exc: Mapping[str, str] | None = None,
    src: tuple[str, int, str] | None = None,
) -> dict[str, Any]:
    """The JSON object of a record: ``ts, level, logger, msg``, context, fields, ``exc``, ``src``.

    User keys named like reserved ones get a leading underscore (``level`` ->
    ``_level``) instead of overwriting them.
    """
    out: dict[str, Any] = {
        "ts": format_ts(ts_ns),
        "level": LEVEL_NAMES.get(level) or level_name(level),
        "logger": logger,
        "msg": msg,
    }
    if context:
        if RESERVED_KEYS.isdisjoint(context):
            out.update(context)
        else:
            _merge_user(out, context)
    if fields:
        if RESERVED_KEYS.isdisjoint(fields):
            out.update(fields)
        else:
            _merge_user(out, fields)
    if exc is not None:
        out["exc"] = exc
    if src is not None:
        out["src"] = {"file": src[0], "line": src[1], "function": src[2]}
    return out


def record_dict(record: Record) -> dict[str, Any]:
    """The JSON object of a ``Record`` (see ``build_dict``)."""
    return build_dict(
        record.ts_ns,
        record.level,
        record.logger,
        record.msg,
        record.context,
        record.fields,
        record.exc,
        record.src,
    )


def _sanitize(value: Any, depth: int = 0) -> Any:
    """A copy of ``value`` orjson can always serialize (slow path only)."""
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if value is None or isinstance(value, (bool, float)):
        return value
    if isinstance(value, int):
        return value if -(2**63) <= value < 2**64 else str(value)
    if depth >= _MAX_DEPTH:
        return (
            _sanitize(json_default(value), _MAX_DEPTH - 1) if not isinstance(value, str) else value
        )
    if isinstance(value, Mapping):
        return {
            _sanitize(k if isinstance(k, str) else json_default(k), depth + 1): _sanitize(
                v, depth + 1
            )
            for k, v in list(value.items())
        }
    if isinstance(value, (list, tuple)):
        return [_sanitize(v, depth + 1) for v in value]
    converted = json_default(value)
    if isinstance(converted, str):
        return _sanitize(converted, depth + 1)
    return _sanitize(converted, depth + 1) if isinstance(converted, list) else str(converted)


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + TRUNCATION_MARKER.format(len(text) - limit)


def _dumps(obj: dict[str, Any]) -> bytes:
    try:
        return orjson.dumps(obj, default=json_default, option=_OPTIONS)
    except (orjson.JSONEncodeError, TypeError, ValueError, RecursionError):
        return orjson.dumps(_sanitize(obj), default=json_default, option=_OPTIONS)


def _truncate(obj: dict[str, Any], size: int, max_bytes: int) -> bytes:
    """Shrink an oversize record to at most ``max_bytes``, keeping what matters most."""
    head: dict[str, Any] = {k: obj[k] for k in ("ts", "level", "logger") if k in obj}
    head["logger"] = _cut(str(head.get("logger", "")), 256)
    head["msg"] = _cut(str(obj.get("msg", "")), max_bytes // 4)
    head["_truncated"] = {"original_bytes": size}
    extras = {k: v for k, v in obj.items() if k not in head}
    if extras:
        per_field = max(16, max_bytes // (4 * len(extras)))
        shrunk = {k: _cut(v, per_field) if isinstance(v, str) else v for k, v in extras.items()}
        line = _dumps({**head, **shrunk})
        if len(line) <= max_bytes:
            return line
        rest = _dumps(extras).decode("utf-8", "replace")
        head["_fields"] = _cut(rest, max(16, max_bytes // 3))
    line = _dumps(head)
    if len(line) <= max_bytes:
        return line
    # Pathological (a tiny max_bytes): keep only the fixed keys.
    head.pop("_fields", None)
    head["msg"] = _cut(str(obj.get("msg", "")), max(16, max_bytes // 8))
    return _dumps(head)


def encode(obj: dict[str, Any], max_bytes: int = 65536) -> bytes:
    """One JSON line (``bytes`` ending in ``\\n``) of at most about ``max_bytes``."""
    line = _dumps(obj)
    if len(line) > max_bytes:
        line = _truncate(obj, len(line), max_bytes)
    # orjson's result sits in a malloc block of a few KiB whatever its length; a copy is
    # a right-sized object (pymalloc for short lines), so holding many lines costs their
    # size, not ~4 KiB each, and the writer stops paging in fresh memory per record.
    return bytes(memoryview(line))


def json_line(record: Record, max_bytes: int = 65536) -> bytes:
    """Serialize a ``Record`` to one JSON line (see ``encode``)."""
    return encode(record_dict(record), max_bytes)


def exception_dict(exc: BaseException) -> dict[str, str]:
    """``type``, ``message`` and formatted ``traceback`` of an exception."""
    cls = type(exc)
    module = cls.__module__
    name = (
        cls.__qualname__ if module in ("builtins", "__main__") else f"{module}.{cls.__qualname__}"
    )
    try:
        message = str(exc)
    except Exception:
        message = f"<unprintable {cls.__qualname__}>"
    try:
        tb = "".join(traceback.format_exception(exc))
    except Exception:
        tb = ""
    return {"type": name, "message": message, "traceback": tb}


# --- console -------------------------------------------------------------------

_COLOURS = {
    "trace": "\x1b[2m",
    "debug": "\x1b[36m",
    "info": "\x1b[32m",
    "warning": "\x1b[33m",
    "error": "\x1b[31m",
    "critical": "\x1b[1;41;97m",
}
_RESET = "\x1b[0m"
_DIM = "\x1b[2m"
_ESCAPES = str.maketrans({"\n": "\\n", "\r": "\\r", "\x1b": "\\x1b", "\t": "\\t"})


def escape_text(text: str) -> str:
    """Escape newlines and control characters so one record is one line (no log forging)."""
    return text.translate(_ESCAPES)


def console_line(record: Record, colours: bool = False) -> str:
    """A human-readable line: time, level, logger, message, ``key=value`` fields.

    A traceback follows on indented lines, each starting with ``"  | "``.
    """
    name = record.level_name
    fields = record.all_fields()
    parts = [
        format_ts(record.ts_ns).replace("T", " ").rstrip("Z"),
        (_COLOURS.get(name, "") + f"{name.upper():<8}" + _RESET)
        if colours
        else f"{name.upper():<8}",
        escape_text(record.logger) + ":",
        escape_text(record.msg),
    ]
    if fields:
        rendered = " ".join(
            f"{escape_text(str(k))}={escape_text(v if isinstance(v, str) else repr(v))}"
            for k, v in fields.items()
        )
        parts.append(f"{_DIM}{rendered}{_RESET}" if colours else rendered)
    if record.src is not None:
        parts.append(f"({escape_text(record.src[0])}:{record.src[1]} in {record.src[2]})")
    text = " ".join(parts)
    if record.exc is not None:
        tb = record.exc.get("traceback") or f"{record.exc['type']}: {record.exc['message']}"
        text += "".join("\n  | " + escape_text(line) for line in tb.rstrip("\n").split("\n"))
    return text + "\n"
