"""``RotationSignal``: "a rotation completed", for threads (Event) and asyncio (awaitable)."""

from __future__ import annotations

import asyncio
import contextlib
import threading


class RotationSignal:
    """Set after each rotation; each wait consumes the signal, so it reports new rotations.

    ``event`` is a plain ``threading.Event`` that stays set until a waiter
    (or the user) clears it. Thread-safe; ``fire()`` never blocks.
    """

    def __init__(self) -> None:
        self.event = threading.Event()
        self._lock = threading.Lock()
        self._futures: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[bool]]] = []

    def fire(self) -> None:
        """Mark a rotation: set the event and wake every asyncio waiter."""
        with self._lock:
            self.event.set()
            futures, self._futures = self._futures, []
        for loop, future in futures:
            with contextlib.suppress(RuntimeError):  # that event loop is closed
                loop.call_soon_threadsafe(_resolve, future)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until a rotation not yet consumed has completed; False after ``timeout`` s."""
        if not self.event.wait(timeout):
            return False
        self.event.clear()
        return True

    async def wait_async(self, timeout: float | None = None) -> bool:
        """``wait()`` for asyncio: does not block the event loop."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bool] = loop.create_future()
        with self._lock:
            if self.event.is_set():
                self.event.clear()
                return True
            self._futures.append((loop, future))
        try:
            await asyncio.wait_for(asyncio.shield(future), timeout)
        except TimeoutError:
            with self._lock:
                self._futures = [(lp, f) for lp, f in self._futures if f is not future]
            return False
        self.event.clear()
        return True

    def reset_after_fork(self) -> None:
        self._lock = threading.Lock()
        self._futures = []


def _resolve(future: asyncio.Future[bool]) -> None:
    if not future.done():
        future.set_result(True)
