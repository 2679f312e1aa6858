"""The small shared helpers for time and people: now, ISO text, the user's name, months.

One of each, so that every stored time has the same shape and every command
that records who did something asks the same way.

* ``now()`` is the wall clock to the second. Rules and reports never call it:
  they take a day. Only the edges that record when something happened do.
* ``stamp(t)`` is how a moment is stored in ``*_at`` columns written by the
  product ('2026-11-26T10:30:00'); ``minute(t)`` is how a call, a complaint
  deadline or an appointment is stored and shown ('2026-11-26 10:30'), to the
  minute because that is what a clerk types.
* ``user_name(given)``: the name given (``--by``), else ``$CRMCLI_USER``, else
  the login name, else 'unknown' (cron and containers may have no login name).
* ``add_months(d, n)``: calendar months, the day clamped to the month's end.

>>> from datetime import date, datetime
>>> stamp(datetime(2026, 11, 26, 10, 30, 5, 999)), minute(datetime(2026, 11, 26, 10, 30, 59))
('2026-11-26T10:30:05', '2026-11-26 10:30')
>>> add_months(date(2026, 8, 31), 6), add_months(date(2028, 2, 29), -12)
(datetime.date(2027, 2, 28), datetime.date(2027, 2, 28))
>>> user_name("小李")
'小李'
"""

from __future__ import annotations

import calendar as _stdcal
import os
from datetime import date, datetime

_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def now() -> datetime:
    """The local wall clock, to the second."""
    return datetime.now().replace(microsecond=0)


def stamp(t: datetime | None = None) -> str:
    """A stored moment: '2026-11-26T10:30:00' (now when no moment is given)."""
    return (t or now()).isoformat(timespec="seconds")


def minute(t: datetime) -> str:
    """A moment as clerks type and read it: '2026-11-26 10:30'."""
    return t.isoformat(sep=" ", timespec="minutes")


def user_name(given: str | None = None) -> str:
    """Who is acting: the name given, else $CRMCLI_USER, else the login name, else 'unknown'."""
    if given:
        return given
    env = os.environ.get("CRMCLI_USER")
    if env:
        return env
    try:
        import getpass

        return getpass.getuser()
    except (OSError, KeyError, ImportError):  # no login name in some cron and container setups
        return "unknown"


def add_months(d: date, months: int) -> date:
    """Calendar months later (or earlier), the day clamped to the month's end:
    2026-08-31 + 6 -> 2027-02-28."""
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    day = d.day
    if day > 28:
        last = 29 if month == 2 and _stdcal.isleap(year) else _MONTH_DAYS[month - 1]
        day = min(day, last)
    return date(year, month, day)
