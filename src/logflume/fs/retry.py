"""Retry transient filesystem errors with jittered exponential backoff.

``retry_call(fn, operation=..., path=..., policy=...)`` calls ``fn`` and, while
it raises a *transient* ``OSError`` (see ``classify_errno``), sleeps
``policy.delay(n)`` and calls it again, at most ``policy.attempts`` more
times. A permanent error is not retried. Whatever ends the attempts is raised
as ``OperationFailed`` (an ``OSError``) with the number of calls made.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from .errors import OperationFailed, is_transient

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry a transient error.

    ``attempts`` is the number of *retries* after the first call (so the
    default makes at most 4 calls), not the total; delays are
    ``base_delay * 2**n`` capped at ``max_delay`` (0.1 s, 0.2 s, 0.4 s by
    default), each multiplied by a random factor in ``1 ± jitter`` so many
    processes hitting the same fault do not retry in lockstep.

    >>> RetryPolicy(attempts=3, base_delay=0.1).delay(2, rand=0.5)
    0.4
    """

    attempts: int = 3
    base_delay: float = 0.1
    max_delay: float = 5.0
    jitter: float = 0.1

    def __post_init__(self) -> None:
        if self.attempts < 0:
            raise ValueError(f"retry attempts must be >= 0, got {self.attempts}")
        if self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("retry delays must be >= 0 seconds")
        if not 0 <= self.jitter < 1:
            raise ValueError(f"retry jitter must be in [0, 1), got {self.jitter}")

    def delay(self, retry: int, rand: float | None = None) -> float:
        """Seconds to wait before retry number ``retry`` (0-based); ``rand`` in [0, 1)."""
        base = min(self.max_delay, self.base_delay * (2.0**retry))
        r = random.random() if rand is None else rand
        return round(base * (1 + self.jitter * (2 * r - 1)), 6)

    def without_retries(self) -> RetryPolicy:
        """The same policy with no retries (one call), for probing a known fault."""
        return RetryPolicy(0, self.base_delay, self.max_delay, self.jitter)


NO_RETRY = RetryPolicy(attempts=0)


def retry_call(
    fn: Callable[[], T],
    *,
    operation: str,
    path: str,
    policy: RetryPolicy,
    sleep: Callable[[float], None] = time.sleep,
    on_retry: Callable[[OSError, int, float], None] | None = None,
) -> T:
    """Return ``fn()``, retrying transient ``OSError``s per ``policy``.

    Blocks the calling thread for the backoff delays (through ``sleep``, which
    tests replace). ``on_retry(error, retry_number, delay)`` is called before
    each sleep. Raises ``OperationFailed`` naming ``operation`` and ``path``
    when the error is permanent or the retries are used up; other exceptions
    pass through unchanged.
    """
    retries = 0
    while True:
        try:
            return fn()
        except OSError as exc:
            if not is_transient(exc) or retries >= policy.attempts:
                raise OperationFailed.from_error(operation, path, exc, retries + 1) from exc
            wait = policy.delay(retries)
            if on_retry is not None:
                on_retry(exc, retries, wait)
            retries += 1
            sleep(wait)
