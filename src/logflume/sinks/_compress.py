"""Compress rotated backups on a background thread, crash-safely.

The writer thread never waits for compression: rotation only calls
``notify()``. The worker compresses ``app.log.3`` into a hidden temporary
file named after the backup's inode (``.app.log.compress-<inode>.gz.tmp``),
so a rotation renaming ``app.log.3`` to ``app.log.4`` meanwhile changes
nothing for it; once the archive is complete and fsynced it is renamed to
the backup's *current* name plus ``.gz`` and only then is the plain backup
unlinked. A crash at any point leaves either the plain backup or a complete
archive (or both, and the next start drops the plain one): never a truncated
archive as the only copy.

Several processes may run a compressor on the same files: each temporary file
is claimed with ``flock``, which a dead process releases, so an abandoned
temporary file is recognised and removed.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ..errors import ConfigurationError, MissingDependencyError
from ..fs.errors import OperationFailed
from ..fs.lock import ProcessLock, try_flock, unflock
from ..fs.ops import FileOps, fsync_dir
from ._backups import Backup, BackupSet, Runner

CHUNK = 1 << 20


class Codec(Protocol):
    """A compression format: the suffix it adds and how to compress one file into another.

    ``compress`` reads ``read(n)`` until it returns ``b""`` and hands output to
    ``write(data)``; it runs on the compressor thread.
    """

    suffix: str

    def compress(self, read: Callable[[int], bytes], write: Callable[[bytes], None]) -> None: ...


class GzipCodec:
    """gzip (``.gz``, readable by ``gzip``/``zcat``); zlib releases the GIL while it works."""

    suffix = ".gz"

    def __init__(self, level: int = 6) -> None:
        self.level = level

    def compress(self, read: Callable[[int], bytes], write: Callable[[bytes], None]) -> None:
        engine = zlib.compressobj(self.level, zlib.DEFLATED, 31)  # 31: gzip container
        while chunk := read(CHUNK):
            out = engine.compress(chunk)
            if out:
                write(out)
        write(engine.flush())


class ZstdCodec:
    """zstd (``.zst``) through the ``zstandard`` package (extra ``logflume[zstd]``)."""

    suffix = ".zst"

    def __init__(self, level: int = 3) -> None:
        try:
            import zstandard
        except ImportError as exc:
            raise MissingDependencyError(
                "compress='zstd' needs the zstandard package: pip install 'logflume[zstd]'"
            ) from exc
        self._compressor: Any = zstandard.ZstdCompressor(level=level)

    def compress(self, read: Callable[[int], bytes], write: Callable[[bytes], None]) -> None:
        engine = self._compressor.compressobj()
        while chunk := read(CHUNK):
            out = engine.compress(chunk)
            if out:
                write(out)
        write(engine.flush())


def make_codec(compress: str | Codec | None) -> Codec | None:
    """``"gzip"``, ``"zstd"``, ``None`` or any object with ``suffix`` and ``compress``."""
    if compress is None:
        return None
    if compress in ("gzip", "gz"):
        return GzipCodec()
    if compress in ("zstd", "zst"):
        return ZstdCodec()
    if isinstance(compress, str) or not callable(getattr(compress, "compress", None)):
        raise ConfigurationError(
            f"compress must be 'gzip', 'zstd', None or a codec object, got {compress!r}"
        )
    return compress


@dataclass
class _Job:
    source_fd: int
    source_path: str
    temp_fd: int
    temp_path: str
    ino: int


class BackgroundCompressor:
    """One worker thread compressing the uncompressed backups of one rotating file."""

    def __init__(
        self,
        active: Path,
        backups: BackupSet,
        lock: ProcessLock,
        codec: Codec,
        ops: FileOps,
        run: Runner,
        on_failure: Callable[[OperationFailed], None],
    ) -> None:
        self.backups = backups
        self.lock = lock
        self.codec = codec
        self.ops = ops
        self.run = run
        self.on_failure = on_failure
        self._prefix = f".{active.name}.compress-"
        self._temp_re = re.compile(rf"^{re.escape(self._prefix)}\d+\{codec.suffix}\.tmp$")
        self.compressed = 0
        self.failures = 0
        self.orphans_removed = 0
        self.bytes_in = 0
        self.bytes_out = 0
        self._init_runtime()

    def _init_runtime(self) -> None:
        self._cond = threading.Condition()
        self._pending = False
        self._busy = False
        self._stopping = False
        self._thread: threading.Thread | None = None

    def notify(self) -> None:
        """Ask for a pass over the backups; returns at once (starts the thread if needed)."""
        with self._cond:
            if self._stopping:
                return
            self._pending = True
            self._cond.notify_all()
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, daemon=True, name="logflume-compressor"
                )
                self._thread.start()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """True once no pass is pending or running; False after ``timeout`` seconds."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._pending and not self._busy, timeout)

    def close(self, timeout: float | None = 10.0) -> bool:
        """Let queued work finish (up to ``timeout``), then stop the thread."""
        idle = self.wait_idle(timeout)
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(0 if not idle else timeout)
        return idle

    def after_fork_in_child(self) -> None:
        """The parent's thread does not exist here; start afresh on the next notify()."""
        self._init_runtime()

    def stats(self) -> dict[str, int]:
        return {
            "compressed": self.compressed,
            "compress_failures": self.failures,
            "compress_orphans_removed": self.orphans_removed,
            "compress_bytes_in": self.bytes_in,
            "compress_bytes_out": self.bytes_out,
        }

    def _loop(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending or self._stopping)
                if self._stopping:
                    self._pending = False
                    self._cond.notify_all()
                    return
                self._pending = False
                self._busy = True
            try:
                self._pass()
            except OperationFailed as failure:
                self.failures += 1
                self.on_failure(failure)
            except Exception as exc:  # a bug must not kill the thread silently
                self.failures += 1
                self.on_failure(
                    OperationFailed(
                        "compress", self.backups.directory, None, f"{type(exc).__name__}: {exc}", 1
                    )
                )
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _pass(self) -> None:
        skipped: set[int] = set()
        while not self._stopping:
            job = self._claim(skipped)
            if job is None:
                return
            skipped.add(job.ino)
            try:
                self._compress(job)
            except OperationFailed as failure:
                self.failures += 1
                self.on_failure(failure)
                with contextlib.suppress(OSError):
                    self.ops.unlink(job.temp_path)
            finally:
                for fd in (job.source_fd, job.temp_fd):
                    with contextlib.suppress(OSError):
                        self.ops.close(fd)

    def _claim(self, skipped: set[int]) -> _Job | None:
        with self.lock:
            self.backups.drop_redundant()
            self._remove_orphans()
            for backup in self.backups.scan():
                if backup.suffix or backup.ino in skipped:
                    continue
                job = self._open_job(backup)
                if job is not None:
                    return job
        return None

    def _open_job(self, backup: Backup) -> _Job | None:
        temp = os.path.join(
            self.backups.directory, f"{self._prefix}{backup.ino}{self.codec.suffix}.tmp"
        )
        flags = os.O_RDONLY | os.O_CLOEXEC
        source = self.run("open", backup.path, lambda: self.ops.open(backup.path, flags, 0))
        try:
            temp_fd = self.run(
                "open",
                temp,
                lambda: self.ops.open(temp, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644),
            )
        except OperationFailed:
            self.ops.close(source)
            raise
        if self.ops.fstat(source).st_ino != backup.ino or not try_flock(temp_fd, blocking=False):
            self.ops.close(source)  # replaced meanwhile, or another process compresses it
            self.ops.close(temp_fd)
            return None
        self.ops.ftruncate(temp_fd, 0)
        return _Job(source, backup.path, temp_fd, temp, backup.ino)

    def _remove_orphans(self) -> None:
        for entry in self.ops.listdir(self.backups.directory):
            if not self._temp_re.match(entry):
                continue
            path = os.path.join(self.backups.directory, entry)
            try:
                fd = self.ops.open(path, os.O_RDWR | os.O_CLOEXEC, 0)
            except OSError:
                continue
            try:
                if try_flock(fd, blocking=False):  # nobody alive is writing it
                    self.ops.unlink(path)
                    self.orphans_removed += 1
                    unflock(fd)
            except OSError:
                pass
            finally:
                self.ops.close(fd)

    def _compress(self, job: _Job) -> None:
        read = functools.partial(os.read, job.source_fd)

        def read_counted(n: int) -> bytes:
            data = self.run("read", job.source_path, lambda: read(n))
            self.bytes_in += len(data)
            return data

        def write(data: bytes) -> None:
            view = memoryview(data)
            while view:
                step = functools.partial(self.ops.write, job.temp_fd, view)
                n = self.run("write", job.temp_path, step)
                view = view[n:]
            self.bytes_out += len(data)

        self.codec.compress(read_counted, write)
        self.run("fsync", job.temp_path, lambda: self.ops.fsync(job.temp_fd))
        with self.lock:
            current = next(
                (b for b in self.backups.scan() if b.ino == job.ino and not b.suffix), None
            )
            if current is None:  # pruned by retention meanwhile: the archive is not needed
                self.run("unlink", job.temp_path, lambda: self.ops.unlink(job.temp_path))
                return
            final = self.backups.name(current.index, self.codec.suffix)
            # Keep the backup's mtime: max_age retention reads it. If the filesystem refuses,
            # keeping the archive (a later mtime only delays its retention) beats dropping it.
            with contextlib.suppress(OSError):
                os.utime(job.temp_fd, (current.mtime, current.mtime))
            self.run("rename", job.temp_path, lambda: self.ops.rename(job.temp_path, final))
            fsync_dir(self.ops, self.backups.directory)
            self.run("unlink", current.path, lambda: self.ops.unlink(current.path))
            self.compressed += 1
