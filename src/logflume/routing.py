"""Routing rules: which file under ``root`` each record goes to (paths confined to root).

A ``Router`` turns a record into one or more relative paths: the category file
from ``template`` and, for warnings and errors, a copy in a level file. Every
value substituted into a template passes through ``sanitize_component``, so a
category such as ``"../../etc/passwd"`` becomes one harmless file name and the
rendered path can never leave ``root``; ``confine`` checks that again before
a path is used.
"""

from __future__ import annotations

import hashlib
import os
import re
import string
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from ._record import Record, level_name, parse_level
from .errors import ConfigurationError

PLACEHOLDERS = frozenset({"date", "hour", "category", "level", "service"})

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
_HASH_CHARS = 10


def sanitize_component(value: object, max_len: int = 100) -> str:
    """A file-name-safe form of ``value``: never empty, never ``.``/``..``, no separators.

    Characters outside ``A-Z a-z 0-9 . _ -`` (separators, NUL, control and
    non-ASCII characters) become ``_`` and a leading dot becomes ``_``. When the
    name had to be changed, or is longer than ``max_len``, it is cut and a
    short hash of the original is appended, so two different hostile names do
    not share a file: ``"../../etc/passwd"`` -> ``"_.._.._etc_passwd-<hash>"``.
    """
    text = value if isinstance(value, str) else str(value)
    clean = _UNSAFE.sub("_", text)
    if clean.startswith("."):
        clean = "_" + clean[1:]
    if clean and clean == text and len(clean) <= max_len:
        return clean
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:_HASH_CHARS]
    keep = max(1, max_len - _HASH_CHARS - 1)
    return f"{clean[:keep] or '_'}-{digest}"


def confine(root: Path, relative: str) -> Path:
    """``root / relative``, or ``ValueError`` if the result would not be inside ``root``.

    The check is lexical (``normpath``): it stops ``..``, absolute paths and NUL
    bytes. It does not follow symlinks an attacker could plant inside ``root``.
    """
    if "\x00" in relative or os.path.isabs(relative):
        raise ValueError(f"path {relative!r} is not a relative path")
    base = os.path.normpath(root)
    joined = os.path.normpath(os.path.join(base, relative))
    if os.path.commonpath([base, joined]) != base or joined == base:
        raise ValueError(f"path {relative!r} leaves the root directory {root}")
    return Path(joined)


class PathTemplate:
    """A compiled path template such as ``"{date}/{category}.jsonl"``.

    Placeholders: ``{date}`` (YYYY-MM-DD), ``{hour}`` (00-23), ``{category}``,
    ``{level}``, ``{service}``. The template itself must be relative and may
    not contain ``.``/``..`` components, empty components, format specs or
    unknown placeholders (``ConfigurationError`` says which).
    """

    def __init__(self, template: str, *, what: str = "template") -> None:
        if not isinstance(template, str) or not template:
            raise ConfigurationError(f"{what} must be a non-empty string, got {template!r}")
        if "\x00" in template or template.startswith("/") or "\\" in template:
            raise ConfigurationError(
                f"{what} {template!r} must be a relative path with '/' separators (no NUL)"
            )
        fields: set[str] = set()
        try:
            parsed = list(string.Formatter().parse(template))
        except ValueError as exc:
            raise ConfigurationError(
                f"{what} {template!r} is not a valid template: {exc}"
            ) from None
        for _literal, field, spec, conversion in parsed:
            if field is None:
                continue
            if field not in PLACEHOLDERS:
                raise ConfigurationError(
                    f"{what} {template!r} uses unknown placeholder {{{field}}}; "
                    f"use {', '.join('{' + p + '}' for p in sorted(PLACEHOLDERS))}"
                )
            if spec or conversion:
                raise ConfigurationError(
                    f"{what} {template!r}: placeholders take no format spec or conversion"
                )
            fields.add(field)
        for part in template.split("/"):
            if part in ("", ".", ".."):
                raise ConfigurationError(
                    f"{what} {template!r} has an empty, '.' or '..' path component"
                )
        self.template = template
        self.fields = frozenset(fields)

    def render(self, values: Mapping[str, str]) -> str:
        """The relative path for already sanitized ``values`` (one per placeholder used)."""
        return self.template.format_map(values)

    def __repr__(self) -> str:
        return f"PathTemplate({self.template!r})"


class Period(NamedTuple):
    """The time slot a batch is written in: ``date`` ``YYYY-MM-DD`` and ``hour`` ``HH``."""

    date: str
    hour: str


def period_of(now: float, *, utc: bool = True) -> Period:
    """The ``Period`` of ``now`` (seconds since the epoch), in UTC or local time."""
    parts = time.gmtime(now) if utc else time.localtime(now)
    return Period(time.strftime("%Y-%m-%d", parts), f"{parts.tm_hour:02d}")


def module_of(filename: str) -> str:
    """The dotted module name of a source file, from the longest ``sys.path`` entry holding it.

    ``/srv/app/shop/cart.py`` with ``/srv/app`` on ``sys.path`` -> ``shop.cart``;
    a file outside every entry gives its base name (``cart``).
    """
    path = os.path.abspath(filename)
    best = ""
    for entry in sys.path:
        base = os.path.abspath(entry or os.curdir)
        if path.startswith(base + os.sep) and len(base) > len(best):
            best = base
    relative = path[len(best) + 1 :] if best else os.path.basename(path)
    stem, _ext = os.path.splitext(relative)
    parts = [p for p in stem.split(os.sep) if p]
    if len(parts) > 1 and parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts) or stem


RouteKey = tuple[str, int, str]


class Router:
    """Decides the relative paths of a record: its category file plus a level file copy.

    - category: the logger name cut to its first ``category_depth`` dotted parts
      (``category_from="logger"``), or the value of a record field
      (``category_from="tenant"``: call fields first, then bound context);
      ``default_category`` when the field is missing or empty.
    - level files: ``level_files={"error": ..., "warning": ...}`` maps a minimum
      level to a template; a record is copied to the file of the highest key it
      reaches (``critical`` goes to the ``error`` file when there is no
      ``critical`` key).
    - service: the ``service`` field of the record, else ``service``, else ``"-"``.

    Not thread-safe by itself: the sink calls it under its lock.
    """

    def __init__(
        self,
        template: str = "{date}/{category}.jsonl",
        level_files: Mapping[str, str] | None = None,
        *,
        category_from: str = "logger",
        category_depth: int | None = None,
        default_category: str = "default",
        service: str | None = None,
        max_name_len: int = 100,
        utc: bool = True,
    ) -> None:
        if not isinstance(category_from, str) or not category_from:
            raise ConfigurationError(
                f"category_from must be 'logger' or a field name, got {category_from!r}"
            )
        if category_depth is not None and (
            not isinstance(category_depth, int) or category_depth < 1
        ):
            raise ConfigurationError(
                f"category_depth must be None or an int >= 1, got {category_depth!r}"
            )
        if not isinstance(max_name_len, int) or max_name_len < 16:
            raise ConfigurationError(f"max_name_len must be an int >= 16, got {max_name_len!r}")
        self.template = PathTemplate(template)
        self.level_files: list[tuple[int, PathTemplate]] = []
        for key, value in (level_files or {}).items():
            try:
                levelno = parse_level(key)
            except ValueError as exc:
                raise ConfigurationError(f"level_files key: {exc}") from None
            self.level_files.append((levelno, PathTemplate(value, what=f"level_files[{key!r}]")))
        self.level_files.sort(key=lambda item: -item[0])
        self.category_from = category_from
        self.category_depth = category_depth
        self.max_name_len = max_name_len
        self.default_category = sanitize_component(default_category, max_name_len)
        self.service = sanitize_component(service, max_name_len) if service else "-"
        self.utc = utc
        templates = [self.template, *(t for _, t in self.level_files)]
        self.uses_service = any("service" in t.fields for t in templates)
        self.uses_hour = any("hour" in t.fields for t in templates)
        self._sanitized: dict[str, str] = {}
        self.key: Callable[[Record], RouteKey] = self._make_key()

    def _make_key(self) -> Callable[[Record], RouteKey]:
        field = self.category_from
        by_logger = field == "logger"
        uses_service = self.uses_service

        def key(record: Record) -> RouteKey:
            if by_logger:
                category = record.logger
            else:
                value = record.fields.get(field)
                if value is None:
                    value = record.context.get(field)
                category = "" if value is None else value if type(value) is str else str(value)
            service = ""
            if uses_service:
                value = record.fields.get("service")
                if value is None:
                    value = record.context.get("service")
                service = "" if value is None else str(value)
            return (category, record.level, service)

        return key

    def period(self, now: float) -> Period:
        """The period of ``now``; ``hour`` is ``""`` when no template uses it."""
        found = period_of(now, utc=self.utc)
        return found if self.uses_hour else Period(found.date, "")

    def _clean(self, raw: str) -> str:
        clean = self._sanitized.get(raw)
        if clean is None:
            clean = sanitize_component(raw, self.max_name_len)
            if len(self._sanitized) >= 65536:
                self._sanitized.clear()
            self._sanitized[raw] = clean
        return clean

    def category_of(self, raw: str) -> str:
        """The sanitized category for a raw logger name or field value."""
        if not raw:
            return self.default_category
        if self.category_from == "logger" and self.category_depth is not None:
            raw = ".".join(raw.split(".")[: self.category_depth])
        return self._clean(raw)

    def paths(self, key: RouteKey, period: Period) -> tuple[str, ...]:
        """Relative paths (category file first, then the level file if any) for ``key``.

        A category whose file would coincide with a level file gets a hashed name,
        so ``category="error"`` cannot write into ``error.jsonl``.
        """
        raw_category, levelno, raw_service = key
        values = {
            "date": period.date,
            "hour": period.hour,
            "level": level_name(levelno),
            "service": self._clean(raw_service) if raw_service else self.service,
            "category": self.category_of(raw_category),
        }
        level_paths = [t.render(values) for _, t in self.level_files]
        main = self.template.render(values)
        if main in level_paths:
            values["category"] = sanitize_component(
                values["category"] + "\x00category", self.max_name_len
            )
            main = self.template.render(values)
        found = [main]
        for threshold, template in self.level_files:
            if levelno >= threshold:
                path = template.render(values)
                if path != main:
                    found.append(path)
                break
        return tuple(found)

    def describe(self) -> dict[str, Any]:
        """The routing rules, for ``stats()`` and docs."""
        return {
            "template": self.template.template,
            "level_files": {level_name(no): t.template for no, t in self.level_files},
            "category_from": self.category_from,
            "category_depth": self.category_depth,
        }
