"""HandlePool: a bounded set of open append-mode files, LRU-evicted, recovering from EMFILE."""

from __future__ import annotations

import contextlib
import errno
import os
import resource
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

Opener = Callable[[str, int, int], int]

_FLAGS = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC
_OUT_OF_FDS = (errno.EMFILE, errno.ENFILE)


class _Handle:
    __slots__ = ("fd", "identity", "last_used", "path", "users")

    def __init__(self, path: str, fd: int, now: float) -> None:
        self.path = path
        self.fd = fd
        self.users = 0
        self.last_used = now
        st = os.fstat(fd)
        self.identity = (st.st_dev, st.st_ino)

    def replaced(self) -> bool:
        """True when ``path`` no longer names the open file (deleted or moved away)."""
        try:
            st = os.stat(self.path)
        except OSError:
            return True
        return (st.st_dev, st.st_ino) != self.identity


def fd_budget(max_open: int) -> int:
    """``max_open`` capped at half the process's soft ``RLIMIT_NOFILE``.

    The other half stays free for the application (sockets, other files), so a
    pool never causes an EMFILE elsewhere in the process.
    """
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft <= 0:
        return max_open
    return max(1, min(max_open, soft // 2))


class HandlePool:
    """At most ``max_open`` files open for appending, reused by path, closed LRU-first.

    ``with pool.handle(path) as fd:`` opens the file (``O_APPEND|O_CREAT``,
    making parent directories) or reuses the open descriptor; while the block
    runs the handle is in use and is never closed, by eviction, ``close_idle``
    or ``close_all``. A handle whose path was deleted or moved away since it
    was opened (checked with one ``stat`` each time it is taken) is reopened,
    so lines do not go to an unlinked file. When the pool is full the least
    recently used idle handle is closed first. An ``EMFILE``/``ENFILE`` from ``open`` closes an idle
    handle and retries, and lowers the pool's limit to what the process could
    hold, instead of failing; only when no handle can be given back does the
    ``OSError`` reach the caller. Thread-safe.

    The limit is also capped at half the soft ``RLIMIT_NOFILE`` (see
    ``fd_budget``). ``opener`` replaces ``os.open`` (a seam for tests).

    >>> pool = HandlePool(max_open=8)
    >>> with pool.handle("logs/a.jsonl") as fd:
    ...     write_all(fd, b"{}\\n")
    """

    def __init__(
        self,
        max_open: int = 64,
        idle_close: float | None = 60.0,
        *,
        mode: int = 0o644,
        opener: Opener | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not isinstance(max_open, int) or max_open < 1:
            raise ValueError(f"max_open must be an int >= 1, got {max_open!r}")
        if idle_close is not None and idle_close < 0:
            raise ValueError(f"idle_close must be None or >= 0 seconds, got {idle_close!r}")
        self.max_open = max_open
        self.idle_close = idle_close
        self.mode = mode
        self._opener: Opener = opener or os.open
        self._clock = clock
        self._limit = fd_budget(max_open)
        self._handles: OrderedDict[str, _Handle] = OrderedDict()
        self._cond = threading.Condition(threading.Lock())
        self._counts = {
            "opens": 0,
            "reuses": 0,
            "closes": 0,
            "evictions": 0,
            "idle_closes": 0,
            "emfile_recoveries": 0,
            "reopened": 0,
            "waits": 0,
            "peak_open": 0,
        }

    @contextmanager
    def handle(self, path: str | os.PathLike[str]) -> Iterator[int]:
        """The open descriptor of ``path``, reserved for the ``with`` block.

        Blocks only when every handle is in use by other threads. Raises the
        ``OSError`` of ``open`` (after the EMFILE recovery above).
        """
        key = os.fspath(path)
        entry = self._acquire(key)
        try:
            yield entry.fd
        finally:
            with self._cond:
                entry.users -= 1
                entry.last_used = self._clock()
                if entry.users == 0:
                    self._cond.notify_all()

    def _acquire(self, path: str) -> _Handle:
        with self._cond:
            entry = self._handles.get(path)
            if entry is not None and not entry.users and entry.replaced():
                # Deleted or moved away (logrotate, a cleanup job): writing on would lose lines.
                del self._handles[path]
                self._close_fd(entry)
                self._counts["reopened"] += 1
                entry = None
            if entry is not None:
                self._handles.move_to_end(path)
                entry.users += 1
                self._counts["reuses"] += 1
                return entry
            while len(self._handles) >= self._limit:
                if not self._evict_one():
                    self._counts["waits"] += 1
                    self._cond.wait(1.0)
                    entry = self._handles.get(path)
                    if entry is not None:
                        entry.users += 1
                        return entry
            fd = self._open(path)
            entry = _Handle(path, fd, self._clock())
            entry.users = 1
            self._handles[path] = entry
            self._counts["opens"] += 1
            self._counts["peak_open"] = max(self._counts["peak_open"], len(self._handles))
            return entry

    def _open(self, path: str) -> int:
        """Open ``path`` with the lock held, making directories and recovering from EMFILE."""
        made_dirs = False
        while True:
            try:
                return self._opener(path, _FLAGS, self.mode)
            except FileNotFoundError:
                if made_dirs:
                    raise
                os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
                made_dirs = True
            except OSError as exc:
                if exc.errno not in _OUT_OF_FDS:
                    raise
                # The process is out of descriptors: give one back and hold fewer from now on.
                if not self._evict_one():
                    if not any(h.users for h in self._handles.values()):
                        raise
                    self._counts["waits"] += 1
                    self._cond.wait(1.0)
                    continue
                self._counts["emfile_recoveries"] += 1
                self._limit = max(1, len(self._handles))

    def _evict_one(self) -> bool:
        """Close the least recently used idle handle; False if every handle is in use."""
        for path, entry in self._handles.items():
            if entry.users == 0:
                del self._handles[path]
                self._close_fd(entry)
                self._counts["evictions"] += 1
                return True
        return False

    def _close_fd(self, entry: _Handle) -> None:
        self._counts["closes"] += 1
        # EBADF/EIO on close: the descriptor is released either way.
        with contextlib.suppress(OSError):
            os.close(entry.fd)

    def close_idle(self, now: float | None = None) -> int:
        """Close handles unused for ``idle_close`` seconds; returns how many were closed."""
        if self.idle_close is None:
            return 0
        now = self._clock() if now is None else now
        closed = 0
        with self._cond:
            for path, entry in list(self._handles.items()):
                if entry.users == 0 and now - entry.last_used >= self.idle_close:
                    del self._handles[path]
                    self._close_fd(entry)
                    closed += 1
            self._counts["idle_closes"] += closed
        return closed

    def close_where(self, predicate: Callable[[str], bool]) -> int:
        """Close the handles whose path matches, waiting for writes in flight to end."""
        closed = 0
        with self._cond:
            for path in [p for p in self._handles if predicate(p)]:
                entry = self._handles[path]
                while entry.users:
                    self._counts["waits"] += 1
                    self._cond.wait()
                if self._handles.get(path) is entry:
                    del self._handles[path]
                    self._close_fd(entry)
                    closed += 1
        return closed

    def close_all(self) -> int:
        """Close every handle (waiting for writes in flight); the pool stays usable."""
        return self.close_where(lambda _path: True)

    def open_paths(self) -> list[str]:
        """Paths with an open handle, least recently used first."""
        with self._cond:
            return list(self._handles)

    @property
    def limit(self) -> int:
        """The current cap on open handles (lowered after an EMFILE)."""
        return self._limit

    def after_fork_in_child(self) -> None:
        """Fresh lock in a forked child; handles in use by other (gone) threads are released."""
        self._cond = threading.Condition(threading.Lock())
        for entry in self._handles.values():
            entry.users = 0

    def stats(self) -> dict[str, Any]:
        """Open handles, limit and counters (opens, evictions, EMFILE recoveries...)."""
        with self._cond:
            out: dict[str, Any] = dict(self._counts)
            out["open"] = len(self._handles)
            out["limit"] = self._limit
        return out
