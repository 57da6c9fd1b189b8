"""Test helpers (also a pytest plugin, registered as ``logflume`` by entry point).

- ``wait_until(predicate, timeout)``: poll a condition with a deadline instead of sleeping.
- ``Capture``: a ``MemorySink`` with assertion helpers (fixture ``logflume_capture``).
- fixture ``memory_tmp_path``: a temporary directory on tmpfs (``/dev/shm``) when present.
"""

from .capture import Capture
from .wait import WaitTimeout, wait_until

__all__ = ["Capture", "WaitTimeout", "wait_until"]
