"""Filesystem layer shared by every file sink.

- ``write_all``: write every byte, continuing after short writes.
- ``classify_errno`` / ``is_transient``: transient (retry) or permanent (alert).
- ``RetryPolicy`` / ``retry_call``: jittered exponential backoff, ``OperationFailed`` at the end.
- ``Alert`` / ``AlertChannel``: alert file + ``on_alert`` callback + counters.
- ``FaultTracker``: one alert per failure episode, deferred probes, recoveries.
- ``ProcessLock``: thread lock + ``flock``, across processes.
- ``FileOps`` / ``OsFileOps``: the seam tests use to inject faults.
- ``HandlePool``: a bounded LRU pool of open append-mode files, recovering from EMFILE.
"""

from .alerts import DEFAULT_ALERT_FILE, Alert, AlertChannel
from .errors import (
    PERMANENT_ERRNOS,
    TRANSIENT_ERRNOS,
    ErrorKind,
    OperationFailed,
    classify_errno,
    is_out_of_space,
    is_transient,
)
from .faults import FaultTracker
from .handle_pool import HandlePool
from .lock import ProcessLock, try_flock, unflock
from .ops import FileOps, OsFileOps, fsync_dir
from .retry import NO_RETRY, RetryPolicy, retry_call
from .write import write_all

__all__ = [
    "DEFAULT_ALERT_FILE",
    "NO_RETRY",
    "PERMANENT_ERRNOS",
    "TRANSIENT_ERRNOS",
    "Alert",
    "AlertChannel",
    "ErrorKind",
    "FaultTracker",
    "FileOps",
    "HandlePool",
    "OperationFailed",
    "OsFileOps",
    "ProcessLock",
    "RetryPolicy",
    "classify_errno",
    "fsync_dir",
    "is_out_of_space",
    "is_transient",
    "retry_call",
    "try_flock",
    "unflock",
    "write_all",
]
