"""``wait_until``: wait for a condition with a deadline, never a blind sleep."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class WaitTimeout(AssertionError):
    """The condition did not hold within the timeout."""


def wait_until(
    predicate: Callable[[], T],
    timeout: float = 5.0,
    *,
    interval: float = 0.001,
    message: str | None = None,
) -> T:
    """Return ``predicate()``'s first truthy value; raise ``WaitTimeout`` after ``timeout`` s.

    Polls with a backoff from ``interval`` up to 50 ms, so a condition that holds
    at once costs one call and a slow one is not hammered.

    >>> wait_until(lambda: sink.stats()["written"] == 100, timeout=5)
    """
    deadline = time.monotonic() + timeout
    delay = interval
    while True:
        value = predicate()
        if value:
            return value
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise WaitTimeout(message or f"condition not met within {timeout} s: {predicate!r}")
        time.sleep(min(delay, remaining))
        delay = min(delay * 2, 0.05)
