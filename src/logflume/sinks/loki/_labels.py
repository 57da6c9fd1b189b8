"""Loki labels: sanitized names, escaped values, and a cap on how many streams exist.

Loki indexes labels, so they must stay few and bounded: static ``labels`` plus
the values of ``label_fields`` taken from each record. A field that suddenly
carries a user id must not create thousands of streams: each field keeps at
most ``max_label_values`` distinct values and the sink at most ``max_streams``
label sets; beyond that the value becomes ``OVERFLOW`` (the real value is still
in the JSON line) and the entry is counted in ``label_overflow``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from ..._record import Record, level_name
from ...errors import ConfigurationError

LabelKey = tuple[tuple[str, str], ...]
"""A stream's labels as ``(name, value)`` pairs sorted by name."""

OVERFLOW = "_overflow"
MAX_VALUE_BYTES = 1024  # Loki's default limit is 2048 bytes
_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")
_NOT_NAME_CHAR = re.compile(r"[^a-zA-Z0-9_]")
_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n"})


def sanitize_name(name: str) -> str:
    """Map any string onto Loki's label-name rule ``[a-zA-Z_][a-zA-Z0-9_]*``.

    Invalid characters become ``_``; a leading digit gets a ``_`` prefix; the
    ``__`` prefix, reserved by Loki and Prometheus, is cut to one ``_``.
    """
    clean = name if _NAME.match(name) else _NOT_NAME_CHAR.sub("_", name)
    if not clean or clean[0].isdigit():
        clean = "_" + clean
    if clean.startswith("__"):
        clean = "_" + clean.lstrip("_")
    return clean


def label_value(value: Any) -> str:
    """A record value as a label value: text, at most ``MAX_VALUE_BYTES`` bytes of UTF-8."""
    if isinstance(value, str):
        text = value
    elif isinstance(value, bool):
        text = "true" if value else "false"
    else:
        text = str(value)
    # Lone surrogates become \\udcXX text; long values are cut on a character boundary.
    return text.encode("utf-8", "backslashreplace")[:MAX_VALUE_BYTES].decode("utf-8", "ignore")


def format_labels(key: LabelKey) -> str:
    """Prometheus label syntax, as Loki's protobuf ``labels`` field wants it: ``{a="b", c="d"}``."""
    return "{" + ", ".join(f'{name}="{value.translate(_ESCAPES)}"' for name, value in key) + "}"


_UNESCAPE = re.compile(r"\\(.)")
_PAIR = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(?:,|\Z)', re.S)


def parse_labels(text: str) -> LabelKey:
    """Inverse of ``format_labels`` (for batches read back from the spool)."""
    inner = text.strip()
    if not (inner.startswith("{") and inner.endswith("}")):
        raise ValueError(f"not a label set: {text!r}")
    inner = inner[1:-1]
    pairs: list[tuple[str, str]] = []
    pos = 0
    while pos < len(inner):
        match = _PAIR.match(inner, pos)
        if match is None:
            raise ValueError(f"bad label set at offset {pos}: {text!r}")
        value = _UNESCAPE.sub(lambda m: "\n" if m.group(1) == "n" else m.group(1), match.group(2))
        pairs.append((match.group(1), value))
        pos = match.end()
    return tuple(sorted(pairs))


class Labeler:
    """Compute each record's stream labels, keeping the number of streams bounded.

    Called from the pipeline's writer thread only (no lock needed).
    """

    def __init__(
        self,
        labels: Mapping[str, Any],
        label_fields: Sequence[str],
        *,
        max_label_values: int,
        max_streams: int,
    ) -> None:
        if max_label_values < 1 or max_streams < 1:
            raise ConfigurationError("max_label_values and max_streams must be >= 1")
        static: dict[str, str] = {}
        for name, value in labels.items():
            static[sanitize_name(str(name))] = label_value(value)
        fields: list[tuple[str, str]] = []
        for field in label_fields:
            name = sanitize_name(field)
            if name in static or any(name == seen for _, seen in fields):
                raise ConfigurationError(
                    f"label {name!r} (from label_fields {field!r}) is given twice; "
                    "each label name may come from one place only"
                )
            fields.append((field, name))
        if not static and not fields:
            raise ConfigurationError("Loki needs at least one label: give labels= or label_fields=")
        self._static = tuple(sorted(static.items()))
        self._fields = tuple(fields)
        self.max_label_values = max_label_values
        self.max_streams = max_streams
        self._values: dict[str, set[str]] = {name: set() for _, name in fields}
        self._known: dict[tuple[str | None, ...], LabelKey] = {}
        self._streams: set[LabelKey] = set()
        self.overflowed = 0

    @property
    def stream_count(self) -> int:
        return len(self._streams) if self._fields else 1

    def key(self, record: Record) -> LabelKey:
        """The label set of ``record``'s stream."""
        if not self._fields:
            return self._static
        raw = tuple(self._raw(record, field) for field, _ in self._fields)
        found = self._known.get(raw)
        if found is not None:
            return found
        return self._new_key(raw)

    @staticmethod
    def _raw(record: Record, field: str) -> str | None:
        if field == "level":
            return level_name(record.level)
        if field == "logger":
            return record.logger
        value = record.fields.get(field)
        if value is None:
            value = record.context.get(field)
        return None if value is None else label_value(value)

    def _new_key(self, raw: tuple[str | None, ...]) -> LabelKey:
        overflow = False
        pairs = dict(self._static)
        for (_, name), value in zip(self._fields, raw, strict=True):
            if value is None or value == "":
                continue  # an empty label is no label, for Loki too
            seen = self._values[name]
            if value not in seen:
                if len(seen) >= self.max_label_values:
                    value, overflow = OVERFLOW, True
                else:
                    seen.add(value)
            pairs[name] = value
        key = tuple(sorted(pairs.items()))
        if key not in self._streams:
            if len(self._streams) >= self.max_streams:
                overflow = True
                key = tuple(
                    sorted({**pairs, **{name: OVERFLOW for _, name in self._fields}}.items())
                )
            self._streams.add(key)
        if overflow:
            self.overflowed += 1
        else:
            self._known[raw] = key
        return key
