"""The numbered backups of a rotating file: list, shift, compact and prune them.

``app.log.1`` is the newest backup, ``app.log.N`` the oldest; a backup may
carry ``.gz`` or ``.zst`` once compressed (both variants of one index move
together). Every method here is called with the sink's ``ProcessLock`` held,
so no other thread or process renames files underneath it.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

from ..fs.ops import FileOps

T = TypeVar("T")

SUFFIXES = ("", ".gz", ".zst")


class Runner(Protocol):
    """Runs one filesystem call with the sink's retry policy (see ``fs.retry_call``)."""

    def __call__(self, operation: str, path: str, fn: Callable[[], T]) -> T: ...


@dataclass(frozen=True)
class Backup:
    """One backup file as found on disk."""

    index: int
    suffix: str
    path: str
    size: int
    mtime: float
    ino: int


class BackupSet:
    """The backups of the active file ``path`` (``path.1``, ``path.2.gz``...)."""

    def __init__(self, path: Path, ops: FileOps, run: Runner) -> None:
        self.directory = str(path.parent)
        self.base = path.name
        self.ops = ops
        self.run = run
        self._pattern = re.compile(rf"^{re.escape(path.name)}\.([1-9][0-9]*)(\.gz|\.zst)?$")

    def name(self, index: int, suffix: str = "") -> str:
        """The path of backup ``index`` with ``suffix``."""
        return os.path.join(self.directory, f"{self.base}.{index}{suffix}")

    def scan(self) -> list[Backup]:
        """Every backup on disk, sorted by index (then suffix). Vanished files are skipped."""
        found: list[Backup] = []
        for entry in self.run("listdir", self.directory, lambda: self.ops.listdir(self.directory)):
            match = self._pattern.match(entry)
            if match is None:
                continue
            full = os.path.join(self.directory, entry)
            try:
                st = self.ops.stat(full)
            except FileNotFoundError:
                continue
            found.append(
                Backup(
                    int(match.group(1)),
                    match.group(2) or "",
                    full,
                    st.st_size,
                    st.st_mtime,
                    st.st_ino,
                )
            )
        found.sort(key=lambda b: (b.index, SUFFIXES.index(b.suffix)))
        return found

    def _move(self, backup: Backup, index: int) -> None:
        target = self.name(index, backup.suffix)
        self.run("rename", backup.path, lambda: self.ops.rename(backup.path, target))

    def delete(self, backup: Backup) -> None:
        """Unlink one backup file (already gone counts as done)."""

        def unlink() -> None:
            with contextlib.suppress(FileNotFoundError):
                self.ops.unlink(backup.path)

        self.run("unlink", backup.path, unlink)

    def shift(self, active: str, keep: int) -> list[Backup]:
        """Rotate: drop backups that would pass ``keep``, move ``i`` to ``i+1``, active to 1.

        Stops at the first failed rename (raising it), so a rename never lands
        on a file that has not moved yet: a failure can leave a gap in the
        numbers but never overwrites a backup. Returns the deleted backups.
        """
        backups = self.scan()
        deleted = [b for b in backups if b.index >= keep]
        for backup in reversed(deleted):
            self.delete(backup)
        for backup in sorted((b for b in backups if b.index < keep), key=lambda b: -b.index):
            self._move(backup, backup.index + 1)
        first = self.name(1)
        self.run("rename", active, lambda: self.ops.rename(active, first))
        return deleted

    def compact(self) -> int:
        """Renumber backups to 1..n without gaps (after a crash or failed shift); count moved."""
        moved = 0
        indices = sorted({b.index for b in self.scan()})
        if indices == list(range(1, len(indices) + 1)):
            return 0
        backups = self.scan()
        for rank, index in enumerate(indices, start=1):
            if index != rank:
                for backup in (b for b in backups if b.index == index):
                    self._move(backup, rank)
                    moved += 1
        return moved

    def drop_redundant(self) -> list[Backup]:
        """Unlink an uncompressed backup whose archive is already complete (crash leftover).

        An archive gets its final name only once it is complete and synced,
        so its presence proves the plain copy is redundant.
        """
        backups = self.scan()
        compressed = {b.index for b in backups if b.suffix}
        dropped = [b for b in backups if not b.suffix and b.index in compressed]
        for backup in dropped:
            self.delete(backup)
        return dropped

    def prune(
        self, *, max_total_bytes: int | None, reserve: int, max_age: float | None, now: float
    ) -> list[tuple[Backup, str]]:
        """Delete the oldest backups until the retention limits hold; returns (backup, reason).

        ``max_total_bytes`` caps the backups plus ``reserve`` (the room the
        active file may take); ``max_age`` drops backups last written more
        than that many seconds before ``now``. Deletion goes from the highest
        index down, so numbering stays contiguous.
        """
        backups = self.scan()
        removed: list[tuple[Backup, str]] = []
        total = sum(b.size for b in backups)
        for index in sorted({b.index for b in backups}, reverse=True):
            group = [b for b in backups if b.index == index]
            reason = None
            if max_age is not None and max(b.mtime for b in group) < now - max_age:
                reason = "max_age"
            elif max_total_bytes is not None and total + reserve > max_total_bytes:
                reason = "max_total_bytes"
            if reason is None:
                break
            for backup in group:
                self.delete(backup)
                total -= backup.size
                removed.append((backup, reason))
        return removed

    def shed_oldest(self) -> list[Backup]:
        """Delete the highest-numbered backup (all its variants); [] when there is none."""
        backups = self.scan()
        if not backups:
            return []
        top = backups[-1].index
        group = [b for b in backups if b.index == top]
        for backup in group:
            self.delete(backup)
        return group
