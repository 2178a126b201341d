"""The one place for time.

Two rules, because the server's own time zone is an accident of where it runs:
- ORTPSA days ("day N of M", due dates, overdue) are counted in India: the citizen's
  "today" is the date in Asia/Kolkata. On a server running in UTC, ``date.today()`` is
  still yesterday from 00:00 to 05:30 IST, so "day N" would be one short for 5½ hours.
- Stored timestamps are timezone-aware UTC, so they compare and serialise (ISO 8601 with
  an offset) the same on every machine.

Everything else asks this module. Tests fix the clock by monkeypatching ``now_utc``; so call
it as ``clock.now_utc()`` (module attribute), not a name imported from here.

The zone comes from the system's tz database (/usr/share/zoneinfo) or, where that is
missing (slim containers, Windows), from the pinned ``tzdata`` package.
"""
from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Optional

IST = zoneinfo.ZoneInfo("Asia/Kolkata")
UTC = dt.timezone.utc


def now_utc() -> dt.datetime:
    """Now, aware, in UTC, to the second (what the stores keep)."""
    return dt.datetime.now(UTC).replace(microsecond=0)


def now_utc_precise() -> dt.datetime:
    """Now, aware, in UTC, to the microsecond: for ordering and leases (the WhatsApp inbox,
    message claims), where the stores' seconds are too coarse."""
    return dt.datetime.now(UTC)


def as_utc(moment: dt.datetime) -> dt.datetime:
    """``moment`` as aware UTC; a naive value is taken to be UTC already (how it was stored)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def to_ist(moment: dt.datetime) -> dt.datetime:
    """``moment`` on Indian wall-clock time (a naive value is taken to be UTC)."""
    return as_utc(moment).astimezone(IST)


def ist_date(moment: dt.datetime) -> dt.date:
    """The date in India at ``moment``: the ORTPSA day it falls on."""
    return to_ist(moment).date()


def today_ist(now: Optional[dt.datetime] = None) -> dt.date:
    """Today's date in India (at ``now``, default the current instant)."""
    return ist_date(now if now is not None else now_utc())
