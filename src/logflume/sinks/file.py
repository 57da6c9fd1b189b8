"""FileSink: append JSON lines to one file with O_APPEND, optionally fsync per batch."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .._record import Record, parse_level
from ..errors import SinkOpenError
from ..fs.write import write_all


class FileSink:
    """Append each batch to ``path`` as one ``write`` of whole JSON lines.

    The file is opened with ``O_APPEND`` when the sink is created (parent
    directories are made), so several processes can share it without
    overwriting each other. ``fsync=True`` makes every batch durable before
    the next one is written (and before ``flush()`` returns); otherwise data
    is in the OS page cache when ``flush()`` returns.

    >>> logflume.configure(sinks=[FileSink("logs/app.jsonl")])
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        fsync: bool = False,
        level: int | str | None = None,
        name: str | None = None,
        mode: int = 0o644,
    ) -> None:
        self.path = Path(path)
        self.fsync = fsync
        self.level = parse_level(level) if level is not None else None
        self.name = name or f"file:{self.path}"
        self.mode = mode
        self._lock = threading.Lock()
        self._bytes = 0
        self._fsyncs = 0
        self._fd: int | None = None
        try:
            self._fd = self._open()
        except OSError as exc:
            raise SinkOpenError(
                exc.errno, f"cannot open log file {self.path}: {exc.strerror}", str(self.path)
            ) from exc

    def _open(self) -> int:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, self.mode)

    def write_batch(self, records: Sequence[Record]) -> None:
        data = b"".join([r.line for r in records])
        with self._lock:
            if self._fd is None:
                self._fd = self._open()
            write_all(self._fd, data)
            self._bytes += len(data)
            if self.fsync:
                os.fsync(self._fd)
                self._fsyncs += 1

    def flush(self, timeout: float | None = None) -> bool:
        # Writes go straight to the kernel; with fsync=True each batch is already synced.
        return True

    def reopen(self) -> None:
        """Close and reopen the path (after an external tool moved the file away)."""
        with self._lock:
            old, self._fd = self._fd, None
            if old is not None:
                os.close(old)
            self._fd = self._open()

    def close(self) -> None:
        with self._lock:
            fd, self._fd = self._fd, None
            if fd is not None:
                if self.fsync:
                    os.fsync(fd)
                os.close(fd)

    def after_fork_in_child(self) -> None:
        self._lock = threading.Lock()

    def stats(self) -> dict[str, Any]:
        return {"bytes": self._bytes, "fsyncs": self._fsyncs}
