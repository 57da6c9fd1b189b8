"""Fault episodes: alert once when an area starts failing, probe it later, count recoveries.

A sink has a few independent things that can fail ("write", "rotate",
"retention"...). ``FaultTracker`` remembers which are failing, raises one alert
per episode (healthy -> failing) through an ``AlertChannel``, says when a
failing area may be tried again (every ``recover_interval`` seconds, so a dead
disk is not hammered on every batch) and counts recoveries. Not thread-safe on
its own: call it with the sink's lock held.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable

from .alerts import Alert, AlertChannel
from .errors import OperationFailed


class FaultTracker:
    """Which areas of one sink are failing, and when to try them again.

    >>> faults = FaultTracker(channel, "app", recover_interval=1.0)
    >>> faults.fail("write", failure)      # alerts the first time only
    >>> faults.may_try("write")            # False until 1 s has passed
    >>> faults.recovered("write")          # True: it was failing, now it works
    """

    def __init__(
        self,
        channel: AlertChannel,
        sink: str,
        recover_interval: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.channel = channel
        self.sink = sink
        self.recover_interval = recover_interval
        self._monotonic = monotonic
        self._failing: dict[str, OperationFailed] = {}
        self._retry_at: dict[str, float] = {}
        self.failures: dict[str, int] = {}
        self.recoveries = 0

    def fail(self, area: str, failure: OperationFailed) -> None:
        """Count a failure of ``area``; alert if it was healthy; defer the next try."""
        self.failures[area] = self.failures.get(area, 0) + 1
        self._retry_at[area] = self._monotonic() + self.recover_interval
        if area not in self._failing:
            self._failing[area] = failure
            self.channel.emit(Alert.from_failure(self.sink, failure))

    def recovered(self, area: str) -> bool:
        """Mark ``area`` healthy; True (and counted, noted on stderr) if it was failing."""
        if self._failing.pop(area, None) is None:
            return False
        self.recoveries += 1
        with contextlib.suppress(Exception):
            sys.stderr.write(f"logflume: sink {self.sink!r} recovered ({area})\n")
        return True

    def failing(self, area: str) -> bool:
        return area in self._failing

    def may_try(self, area: str) -> bool:
        """True if ``area`` is healthy or its ``recover_interval`` has passed."""
        return area not in self._failing or self._monotonic() >= self._retry_at.get(area, 0.0)

    def areas(self) -> list[str]:
        """The areas failing now, sorted."""
        return sorted(self._failing)
