"""What the store's CLI commands share: parsing bounds and filters, rendering records."""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from .._record import parse_level
from ..errors import LogflumeError
from ..formatting import escape_text
from .index import StoreCorruptError
from .query import Query, to_ns
from .segment_store import SegmentStore

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_RESERVED = ("ts", "level", "logger", "msg", "exc", "src")
LEVEL_STYLES = {
    "trace": "dim",
    "debug": "blue",
    "info": "green",
    "warning": "yellow",
    "error": "red",
    "critical": "bold white on red",
}


class BadInput(ValueError):
    """A command-line value the store commands cannot use."""


def parse_time(text: str, now: float | None = None) -> float:
    """``10m`` / ``2h`` / ``1d`` ago, or an ISO 8601 time (naive = UTC), as epoch seconds."""
    match = _DURATION.match(text.strip())
    if match:
        return (time.time() if now is None else now) - float(match.group(1)) * _UNITS[
            match.group(2)
        ]
    try:
        ns = to_ns(datetime.fromisoformat(text.strip()))
    except ValueError:
        raise BadInput(
            f"bad time {text!r}: use a duration like 10m, 2h, 1d or an ISO time "
            "like 2026-11-25T10:00:00"
        ) from None
    assert ns is not None
    return ns / 1e9


def parse_where(items: list[str]) -> dict[str, Any]:
    """``key=value`` pairs; values are JSON when they parse (``7``, ``true``), else strings."""
    where: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise BadInput(f"bad --where {item!r}: use key=value, e.g. user_id=7")
        try:
            where[key] = orjson.loads(raw)
        except orjson.JSONDecodeError:
            where[key] = raw
    return where


def add_filter_arguments(parser: argparse.ArgumentParser) -> None:
    """The filter options shared by ``query`` and ``tail``."""
    parser.add_argument("--since", help="start: a duration ago (10m, 2h) or an ISO time")
    parser.add_argument("--until", help="end: a duration ago or an ISO time")
    parser.add_argument("--level", help="minimum level (debug, info, warning, error, ...)")
    parser.add_argument("--logger", help="logger name (also matches its dotted children)")
    parser.add_argument(
        "--where", action="append", default=[], metavar="KEY=VALUE", help="field equality"
    )
    parser.add_argument("--contains", help="substring anywhere in the record")


def add_output_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("directory", type=Path, help="the store directory")
    parser.add_argument("--json", action="store_true", help="print JSON lines")


def build_query(args: argparse.Namespace) -> Query:
    """A ``Query`` from parsed filter options (raises ``BadInput``)."""
    try:
        level = None if args.level is None else parse_level(args.level)
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    return Query.build(
        since=None if args.since is None else parse_time(args.since),
        until=None if args.until is None else parse_time(args.until),
        level=level,
        logger=args.logger,
        where=parse_where(args.where),
        contains=args.contains,
    )


def open_store(directory: Path) -> SegmentStore:
    """A read-only store, or ``BadInput`` saying why not."""
    if not directory.is_dir():
        raise BadInput(f"no store directory at {directory}")
    return SegmentStore(directory, compression="gzip", readonly=True)


class Printer:
    """Prints records as JSON lines or as coloured one-liners (colours only on a TTY)."""

    def __init__(self, as_json: bool) -> None:
        from rich.console import Console

        self.as_json = as_json
        self.console = Console(highlight=False, soft_wrap=True)

    def __call__(self, obj: dict[str, Any], line: bytes) -> None:
        if self.as_json:
            out = sys.stdout.buffer
            out.write(line if line.endswith(b"\n") else line + b"\n")
            return
        self.console.print(render(obj))

    def flush(self) -> None:
        if self.as_json:
            sys.stdout.buffer.flush()


def _value_text(value: Any) -> str:
    return value if isinstance(value, str) else orjson.dumps(value).decode()


def render(obj: dict[str, Any]) -> Any:
    """One readable line (a rich ``Text``, never markup) for a stored record."""
    from rich.text import Text

    level = str(obj.get("level", "?"))
    text = Text()
    text.append(str(obj.get("ts", "")).replace("T", " ").rstrip("Z"), style="dim")
    text.append(" ")
    text.append(f"{level.upper():<8}", style=LEVEL_STYLES.get(level, ""))
    text.append(escape_text(str(obj.get("logger", ""))) + ":", style="cyan")
    text.append(" " + escape_text(str(obj.get("msg", ""))))
    fields = [
        f"{escape_text(str(k))}={escape_text(_value_text(v))}"
        for k, v in obj.items()
        if k not in _RESERVED
    ]
    if fields:
        text.append(" " + " ".join(fields), style="dim")
    exc = obj.get("exc")
    if isinstance(exc, dict):
        text.append(f" exc={escape_text(str(exc.get('type')))}: ", style="red")
        text.append(escape_text(str(exc.get("message"))), style="red")
    return text


def guarded(command: str, body: Callable[[], int]) -> int:
    """Run ``body``; turn bad input and store errors into a one-line message and exit code."""
    try:
        return body()
    except BadInput as exc:
        print(f"logflume {command}: error: {exc}", file=sys.stderr)
        return 2
    except StoreCorruptError as exc:
        print(f"logflume {command}: corrupt store: {exc}", file=sys.stderr)
        return 1
    except (LogflumeError, OSError, orjson.JSONDecodeError) as exc:
        print(f"logflume {command}: error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 0
