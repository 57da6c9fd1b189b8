"""Alerts: the file, the callback and the counters a sink uses when the disk fails it.

A sink raises an alert when a filesystem operation fails for good (permanent
error, or transient retries exhausted) and for warnings such as low free
space. ``AlertChannel.emit`` never raises: if the alert file cannot be written
(the same full disk, the same read-only directory) the alert goes to stderr,
and every failure along the way is counted.
"""

from __future__ import annotations

import contextlib
import errno as _errno
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from .errors import OperationFailed
from .write import append_file

DEFAULT_ALERT_FILE = "ALERT_LOG_ROTATION_FAILED.txt"

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Alert:
    """One failure (or warning) of a sink's filesystem operation."""

    timestamp: float
    """Seconds since the epoch (UTC) when it was raised."""
    sink: str
    operation: str
    """What failed: ``"write"``, ``"open"``, ``"rename"``, ``"compress"``, ``"free_space"``..."""
    path: str
    errno: int | None
    message: str
    attempts: int = 1
    severity: Severity = "error"

    @classmethod
    def from_failure(
        cls, sink: str, failure: OperationFailed, timestamp: float | None = None
    ) -> Alert:
        """The alert for an ``OperationFailed`` raised by ``retry_call``."""
        return cls(
            time.time() if timestamp is None else timestamp,
            sink,
            failure.operation,
            str(failure.filename),
            failure.errno,
            failure.strerror or str(failure),
            failure.attempts,
        )

    def line(self) -> str:
        """One human-readable line: timestamp, severity, sink, operation, path, errno, message."""
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.timestamp))
        name = _errno.errorcode.get(self.errno, "-") if self.errno is not None else "-"
        return (
            f"{stamp} {self.severity.upper()} sink={self.sink} operation={self.operation} "
            f"path={self.path} errno={self.errno if self.errno is not None else '-'} "
            f"({name}) attempts={self.attempts} message={self.message}\n"
        )


class AlertChannel:
    """Deliver alerts to an append-only file, a callback and counters; thread-safe.

    ``path`` is the alert file (``None``: no file); only ``"error"`` alerts
    are written there, warnings go to the callback and stderr.
    ``on_alert(alert)`` runs on the thread that raised the alert (usually the
    pipeline's writer thread): keep it short; its exceptions are counted,
    never propagated.

    >>> channel = AlertChannel(Path("logs") / DEFAULT_ALERT_FILE, on_alert=page_someone)
    >>> channel.emit(Alert.from_failure("app", failure))
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None,
        on_alert: Callable[[Alert], object] | None = None,
        *,
        stderr: bool = True,
    ) -> None:
        self.path = Path(path) if path is not None else None
        self.on_alert = on_alert
        self.stderr = stderr
        self._lock = threading.Lock()
        self.alerts = 0
        self.warnings = 0
        self.file_errors = 0
        self.callback_errors = 0
        self.last: Alert | None = None

    def emit(self, alert: Alert) -> None:
        """Record, write and announce ``alert``. Never raises."""
        with self._lock:
            if alert.severity == "error":
                self.alerts += 1
            else:
                self.warnings += 1
            self.last = alert
        line = alert.line()
        written = False
        if alert.severity == "error" and self.path is not None:
            written = self._append(line)
        if self.stderr and (not written or alert.severity != "error"):
            with contextlib.suppress(Exception):
                sys.stderr.write(f"logflume alert: {line}")
        if self.on_alert is not None:
            try:
                self.on_alert(alert)
            except Exception:
                with self._lock:
                    self.callback_errors += 1

    def _append(self, line: str) -> bool:
        assert self.path is not None
        try:
            append_file(self.path, line.encode("utf-8", "backslashreplace"))
            return True
        except OSError:
            with self._lock:
                self.file_errors += 1
            return False

    def stats(self) -> dict[str, Any]:
        """Counters: ``alerts``, ``alert_warnings``, ``alert_file_errors``,
        ``alert_callback_errors`` and ``last_alert`` (a line, or None)."""
        with self._lock:
            return {
                "alerts": self.alerts,
                "alert_warnings": self.warnings,
                "alert_file_errors": self.file_errors,
                "alert_callback_errors": self.callback_errors,
                "last_alert": self.last.line().strip() if self.last else None,
            }

    def after_fork_in_child(self) -> None:
        """A fresh lock (the parent's may have been held by another thread at fork)."""
        self._lock = threading.Lock()
