"""What to do with a batch Loki refused (400, 413...): split, re-stamp or dead-letter.

Loki stores the valid entries of a push even when it answers 400 for others,
so a refused batch is never resent as it is; and since Loki drops an exact
duplicate (same stream, timestamp and line), resending a part that was in fact
accepted is harmless. The rules, applied again to each piece if it is refused:

- several streams: one piece per stream (the error is usually one stream's);
- one stream, refused as late ("entry too far behind", "timestamp too old",
  "out of order"): entries older than Loki's "oldest acceptable timestamp" are
  re-stamped with the time of sending (their original time kept as ``orig_ts``
  structured metadata) and the rest resent; with ``restamp_late=False``, or for
  entries re-stamped once already, they are dead-lettered;
- one stream, 413 or an entry too long: halves, down to single entries;
- anything else (a stream-level error): the stream's entries are dead-lettered.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ._labels import LabelKey
from ._wire import Entry, Stream

ORIG_TS = "orig_ts"
_LATE = ("too far behind", "too old", "out of order")
_TOO_BIG = ("Max entry size", "line too long", "too large")
_CUTOFF = re.compile(r"oldest acceptable timestamp is: (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?Z")


@dataclass
class Outcome:
    pieces: list[list[Stream]] = field(default_factory=list)
    """Each item becomes one new push, in this order, before anything else is sent."""
    dead: list[tuple[LabelKey, Entry]] = field(default_factory=list)
    restamped: int = 0


def refuse(
    streams: list[Stream],
    status: int,
    text: str,
    restamp_late: bool,
    clock_ns: Callable[[], int],
) -> Outcome:
    """Decide the fate of a refused batch (see the module docstring)."""
    if len(streams) > 1:
        return Outcome(pieces=[[stream] for stream in streams])
    if not streams:
        return Outcome()
    key, entries = streams[0]
    if status == 400 and any(marker in text for marker in _LATE):
        cutoff = oldest_acceptable_ns(text)
        old = [e for e in entries if cutoff is None or e[0] < cutoff]
        if old:
            keep = [e for e in entries if cutoff is not None and e[0] >= cutoff]
            outcome = Outcome(pieces=[[(key, keep)]] if keep else [])
            fresh = [e for e in old if restamp_late and not _restamped(e)]
            outcome.dead = [(key, e) for e in old if not (restamp_late and not _restamped(e))]
            if fresh:
                outcome.pieces.append([(key, restamp(fresh, clock_ns()))])
                outcome.restamped = len(fresh)
            return outcome
    if len(entries) > 1 and (status == 413 or any(marker in text for marker in _TOO_BIG)):
        half = len(entries) // 2
        return Outcome(pieces=[[(key, entries[:half])], [(key, entries[half:])]])
    return Outcome(dead=[(key, e) for e in entries])


def restamp(entries: list[Entry], now_ns: int) -> list[Entry]:
    """Entries moved to ``now_ns`` (1 ns apart, order kept), each with its ``orig_ts``."""
    return [
        (now_ns + i, line, (*metadata, (ORIG_TS, str(ts))))
        for i, (ts, line, metadata) in enumerate(entries)
    ]


def _restamped(entry: Entry) -> bool:
    return any(name == ORIG_TS for name, _ in entry[2])


def oldest_acceptable_ns(text: str) -> int | None:
    """The latest "oldest acceptable timestamp" in Loki's error text, in ns (None if absent)."""
    found: list[int] = []
    for match in _CUTOFF.finditer(text):
        base = datetime.strptime(match.group(1), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
        fraction = (match.group(2) or ".")[1:10].ljust(9, "0")
        found.append(int(base.timestamp()) * 1_000_000_000 + int(fraction))
    return max(found) if found else None
