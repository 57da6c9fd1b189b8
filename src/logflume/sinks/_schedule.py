"""When a time-rotated file is due: the next midnight, hour or interval after a moment."""

from __future__ import annotations

import datetime as dt
from typing import Literal

When = Literal["midnight", "H"] | dt.timedelta
TzSpec = dt.tzinfo | Literal["local"] | None


def resolve_tz(tz: TzSpec) -> dt.tzinfo | None:
    """``None`` means UTC; ``"local"`` the machine's zone (``None`` for ``datetime``)."""
    if tz is None:
        return dt.UTC
    if tz == "local":
        return None
    if isinstance(tz, dt.tzinfo):
        return tz
    raise ValueError(f"tz must be a tzinfo, 'local' or None (UTC), got {tz!r}")


def check_when(when: object) -> When | None:
    """Validate the ``when`` option; raises ``ValueError`` saying what is accepted."""
    if when is None or when in ("midnight", "H"):
        return when
    if isinstance(when, dt.timedelta):
        if when.total_seconds() <= 0:
            raise ValueError(f"when must be a positive timedelta, got {when!r}")
        return when
    raise ValueError(f"when must be 'midnight', 'H', a timedelta or None, got {when!r}")


def next_rollover(when: When, now: float, tz: dt.tzinfo | None) -> float:
    """Epoch seconds of the first boundary strictly after ``now``.

    ``"midnight"`` is the next 00:00 and ``"H"`` the next full hour in ``tz``
    (``None``: local time); DST changes are followed because the boundary is
    computed as a wall-clock time and converted back. A ``timedelta`` is an
    interval counted from ``now``.
    """
    if isinstance(when, dt.timedelta):
        return now + when.total_seconds()
    moment = dt.datetime.fromtimestamp(now, tz)
    if when == "midnight":
        day = moment.date() + dt.timedelta(days=1)
        boundary = dt.datetime.combine(day, dt.time(0), tzinfo=tz)
    else:
        top = moment.replace(minute=0, second=0, microsecond=0, tzinfo=None)
        boundary = (top + dt.timedelta(hours=1)).replace(tzinfo=tz)
    at = boundary.timestamp()
    # Wall-clock arithmetic can land on or before `now` around a DST fold; step past it.
    return at if at > now else now + 3600.0
