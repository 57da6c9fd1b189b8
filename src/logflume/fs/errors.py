"""Classify filesystem errors as transient (retry) or permanent (alert and degrade).

Every file sink asks the same question after an ``OSError``: is this worth
retrying? ``classify_errno`` answers it once for all of them. An errno that is
in neither table is treated as permanent: retrying an error we do not
understand only delays the alert.
"""

from __future__ import annotations

import enum
import errno as _errno
import os


class ErrorKind(enum.Enum):
    """What a sink should do about an ``OSError``."""

    TRANSIENT = "transient"
    """Retry with backoff: the same call is likely to succeed soon."""
    PERMANENT = "permanent"
    """Do not retry: alert, degrade, and try again only on a later batch."""


def _codes(*names: str) -> frozenset[int]:
    return frozenset(getattr(_errno, name) for name in names if hasattr(_errno, name))


TRANSIENT_ERRNOS: frozenset[int] = _codes("EAGAIN", "EWOULDBLOCK", "EBUSY", "ETXTBSY", "EINTR")
"""Errors retried with backoff."""

PERMANENT_ERRNOS: frozenset[int] = _codes(
    "ENOENT",
    "EACCES",
    "EPERM",
    "ENOSPC",
    "EROFS",
    "EDQUOT",
    "EIO",
    "EFBIG",
    "EMFILE",
    "ENFILE",
    "ENAMETOOLONG",
    "ENOTDIR",
    "EISDIR",
    "ELOOP",
    "EBADF",
    "EINVAL",
    "EXDEV",
    "ENXIO",
    "ENODEV",
    "ESTALE",
    "ENOMEM",
)
"""Errors that are not retried (listed for documentation; unknown errnos are permanent too)."""

OUT_OF_SPACE_ERRNOS: frozenset[int] = _codes("ENOSPC", "EDQUOT")
"""Errors a sink may cure itself by deleting old backups."""


def classify_errno(code: int | None) -> ErrorKind:
    """``TRANSIENT`` for EAGAIN, EBUSY, ETXTBSY and EINTR; ``PERMANENT`` for anything else.

    >>> classify_errno(errno.EBUSY)
    <ErrorKind.TRANSIENT: 'transient'>
    """
    return ErrorKind.TRANSIENT if code in TRANSIENT_ERRNOS else ErrorKind.PERMANENT


def is_transient(exc: BaseException) -> bool:
    """True when ``exc`` is an ``OSError`` whose errno is worth retrying."""
    return isinstance(exc, OSError) and classify_errno(exc.errno) is ErrorKind.TRANSIENT


def is_out_of_space(exc: BaseException) -> bool:
    """True for ENOSPC and EDQUOT (the disk or the quota is full)."""
    return isinstance(exc, OSError) and exc.errno in OUT_OF_SPACE_ERRNOS


class OperationFailed(OSError):
    """A filesystem operation failed for good: permanent error, or retries exhausted.

    Carries what an alert needs: ``operation`` (``"write"``, ``"rename"``...),
    ``filename``, ``errno``, ``strerror``, ``attempts`` (calls made, >= 1) and
    ``kind``. It is an ``OSError``, so ``except OSError`` still catches it.
    """

    def __init__(
        self, operation: str, path: str, code: int | None, message: str, attempts: int
    ) -> None:
        super().__init__(code, message, path)
        self.operation = operation
        self.attempts = attempts
        self.kind = classify_errno(code)

    @classmethod
    def from_error(cls, operation: str, path: str, exc: OSError, attempts: int) -> OperationFailed:
        """Wrap ``exc`` (keeping its errno and message) as the failure of ``operation``."""
        if isinstance(exc, OperationFailed):
            return exc
        message = exc.strerror or (os.strerror(exc.errno) if exc.errno else str(exc))
        return cls(operation, path, exc.errno, message, attempts)

    def __str__(self) -> str:
        name = _errno.errorcode.get(self.errno or 0, "E?")
        return (
            f"{self.operation} {self.filename}: [{name}] {self.strerror} "
            f"({self.kind.value}, {self.attempts} attempt{'s' if self.attempts != 1 else ''})"
        )
