"""The dead-letter file: entries Loki refused for good, with Loki's reason, one JSON per line."""

from __future__ import annotations

import base64
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson

from ...fs.write import append_file
from ._labels import LabelKey
from ._transport import Answer
from ._wire import Entry, Payload


class DeadLetters:
    """Append refused entries to ``path`` (``None``: count them only, as lost).

    Each line: ``{"at", "status", "error", "labels", "ts", "line", "metadata"}``,
    with ``ts`` the entry's Loki timestamp in ns (a string, as in Loki's JSON).
    """

    def __init__(self, path: str | os.PathLike[str] | None) -> None:
        self.path = Path(path) if path is not None else None
        self._lock = threading.Lock()
        self.entries = 0
        self.unsaved = 0
        self.errors = 0

    def write(self, items: Sequence[tuple[LabelKey, Entry]], answer: Answer) -> None:
        at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        lines = [
            orjson.dumps(
                {
                    "at": at,
                    "status": answer.status,
                    "error": answer.text,
                    "labels": dict(key),
                    "ts": str(ts),
                    "line": line.decode("utf-8", "replace"),
                    "metadata": dict(metadata),
                }
            )
            + b"\n"
            for key, (ts, line, metadata) in items
        ]
        self._append(b"".join(lines), len(items))

    def write_raw(self, payload: Payload, answer: Answer, why: str) -> None:
        """A batch that cannot even be decoded: keep its body, base64-encoded."""
        line = orjson.dumps(
            {
                "status": answer.status,
                "error": f"{answer.text} ({why})",
                "encoding": payload.encoding.name,
                "body_base64": base64.b64encode(payload.body).decode("ascii"),
            }
        )
        self._append(line + b"\n", payload.entries)

    def _append(self, data: bytes, entries: int) -> None:
        with self._lock:
            self.entries += entries
            if self.path is None:
                self.unsaved += entries
                return
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                append_file(self.path, data)
            except OSError:
                self.errors += 1
                self.unsaved += entries

    def after_fork_in_child(self) -> None:
        """A fresh lock (the parent's sender may have held it at fork)."""
        self._lock = threading.Lock()

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "dead_lettered": self.entries,
                "dead_letter_unsaved": self.unsaved,
                "dead_letter_errors": self.errors,
            }
