"""The Sink protocol every destination implements.

A sink is any object with ``write_batch``, ``flush`` and ``close``. The pipeline's
single writer thread calls ``write_batch`` with records in the order they were
logged; each record's ``line`` is already serialized (JSON, ending in a newline).
Optional attributes the pipeline uses when present:

- ``name: str`` — the key of the sink in ``logflume.stats()`` (default: class name).
- ``level: int`` — records below it are not passed to this sink.
- ``pipeline_retries: int`` — how many times the pipeline calls ``write_batch``
  again after it raised (default 0: the sink retries internally, like the file
  sinks do through ``logflume.fs``).
- ``stats() -> dict`` — extra counters merged into the sink's entry in ``stats()``.
  A sink that handles its own write errors (instead of raising) reports the records it
  could not write anywhere as ``lost_records``; they are added to the top-level
  ``failed`` count.
- ``after_fork_in_child() -> None`` — rebuild locks/threads in a forked child.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from .._record import Record


@runtime_checkable
class Sink(Protocol):
    """What the pipeline needs from a destination."""

    def write_batch(self, records: Sequence[Record]) -> None:
        """Deliver ``records`` (called from the writer thread only).

        Raise on failure: the pipeline counts the records as failed for this
        sink, reports the error once to stderr and carries on with other sinks.
        """

    def flush(self, timeout: float | None = None) -> bool:
        """Make everything given to ``write_batch`` so far durable per the sink's
        policy; return False if that did not finish within ``timeout`` seconds."""

    def close(self) -> None:
        """Flush and release resources; the sink is not used afterwards."""


def sink_name(sink: object) -> str:
    """The name a sink is reported under in ``stats()``."""
    name = getattr(sink, "name", None)
    return name if isinstance(name, str) and name else type(sink).__name__
