"""The ranges every input is checked against, in one place.

- Days from the command line and typed times: 1900-01-01 to 2100-12-31. Outside
  that no customer, car or call of this product can be (lunardate covers
  1900-2099; a year 9999 would hide a task for good and overflow date
  arithmetic), so a day outside it is a typing mistake: refused with exit 2.
- Ids and limits: 1 to SQLite's largest integer (2**63 - 1); beyond it SQLite
  raises OverflowError instead of finding nothing.
- Text: every stored field has a length cap (``TEXT_CAPS``; ``cap_text``):
  a 100,000-character name from an export is cut, not stored whole.
"""

from __future__ import annotations

from datetime import date, datetime

from .errors import UsageError
from .i18n import N_, _

DAY_MIN = date(1900, 1, 1)
DAY_MAX = date(2100, 12, 31)
INT_MAX = 2**63 - 1

# Characters. Names and phones are short in life; notes and complaint texts are
# what a clerk types in a call; anything else an export carries gets the default.
TEXT_CAPS = {
    "name": 100,
    "mobile": 40,
    "other_phones": 200,
    "phone": 40,
    "id_number": 40,
    "plate": 20,
    "vin": 40,
    "address": 500,
    "occupation": 100,
    "employer": 200,
    "note": 2000,
    "notes": 4000,
    "text": 4000,
    "category": 100,
    "by": 100,
    "owner": 100,
    "model": 200,
}
TEXT_CAP_DEFAULT = 1000


def cap_text(value, field: str = ""):
    """``value`` cut to its field's cap (``TEXT_CAPS``, else ``TEXT_CAP_DEFAULT``);
    anything that is not a string passes as it is."""
    if not isinstance(value, str):
        return value
    return value[: TEXT_CAPS.get(field, TEXT_CAP_DEFAULT)]


def check_day(value: date, what: str = N_("the date")) -> date:
    """``value`` if it lies in 1900-2100, else a UsageError naming ``what``."""
    d = value.date() if isinstance(value, datetime) else value
    if not DAY_MIN <= d <= DAY_MAX:
        raise UsageError(_("{what} {day} is out of range: use a day between {first} and {last}")
                         .format(what=_(what), day=d.isoformat(), first=DAY_MIN, last=DAY_MAX))
    return value


# The forms a clerk types and the imports read: 2026-11-26, 2026/11/26, 2026.11.26,
# 2026年11月26日, 20261126 (one-digit months and days too).
_DAY_RE = None


def parse_day(value: str | None, what: str = "--date") -> date | None:
    """'2026-11-26', '2026/11/26', '2026.11.26', '2026年11月26日' or '20261126' -> date,
    range-checked; ``None`` stays ``None``."""
    global _DAY_RE
    if value is None:
        return None
    if _DAY_RE is None:
        import re

        _DAY_RE = re.compile(r"(\d{4})(?:[-/.年](\d{1,2})[-/.月](\d{1,2})日?|(\d{2})(\d{2}))")
    m = _DAY_RE.fullmatch(value.strip())
    try:
        if not m:
            raise ValueError
        d = date(int(m.group(1)), int(m.group(2) or m.group(4)), int(m.group(3) or m.group(5)))
    except ValueError:
        raise UsageError(_("{what}: {value!r} is not a date like 2026-11-26").format(
            what=what, value=value)) from None
    return check_day(d, what)


_MONTH_RE = None


def _month_hint() -> str:
    return _("{what} {value!r}: use YYYY-MM (2026-11), 2026/11, 2026年11月 or the month alone (11)")


def parse_month(value: str | None, today: date | None = None, what: str = "--month") -> str | None:
    """A month as a clerk types it -> 'YYYY-MM'; ``None`` stays ``None``.

    '2026-11', '2026/11', '2026.11', '2026年11月', '202611' name the month; a day in
    any of ``parse_day``'s forms names its month; the month alone ('11', '11月')
    is the last such month up to ``today`` (default: the real today), since a
    report is read after its month: in January, '12' is December of last year.

    >>> parse_month("2026/1"), parse_month("2026年11月"), parse_month("2026-11-26")
    ('2026-01', '2026-11', '2026-11')
    >>> parse_month("11", date(2026, 12, 7)), parse_month("12月", date(2027, 1, 5))
    ('2026-11', '2026-12')
    """
    global _MONTH_RE
    if value is None:
        return None
    if _MONTH_RE is None:
        import re

        _MONTH_RE = re.compile(r"(?:(\d{4})(?:[-/.年](\d{1,2})月?|(\d{2}))|(\d{1,2})月?)")
    text = value.strip()
    m = _MONTH_RE.fullmatch(text)
    if m is None:
        try:
            d = parse_day(text, what)
        except UsageError:
            d = None
        if d is None:
            raise UsageError(_month_hint().format(what=what, value=value)) from None
        return f"{d.year}-{d.month:02d}"
    year, month = m.group(1), int(m.group(2) or m.group(3) or m.group(4))
    if not 1 <= month <= 12:
        raise UsageError(_month_hint().format(what=what, value=value))
    if year is None:
        today = today or date.today()
        y = today.year if month <= today.month else today.year - 1
    else:
        y = int(year)
    check_day(date(y, month, 1), what)
    return f"{y}-{month:02d}"


def check_id(value: int, what: str = N_("the id")) -> int:
    """An id or a limit SQLite can hold (1 to 2**63 - 1)."""
    if not 1 <= value <= INT_MAX:
        raise UsageError(_("{what} {value} is out of range: use a whole number from {low} to"
                           " {high}").format(what=_(what), value=value, low=1, high=INT_MAX))
    return value


def check_count(value: int, what: str = "--limit") -> int:
    """A limit or count: 0 up to SQLite's largest integer."""
    if not 0 <= value <= INT_MAX:
        raise UsageError(_("{what} {value} is out of range: use a whole number from {low} to"
                           " {high}").format(what=what, value=value, low=0, high=INT_MAX))
    return value
