"""Lunar dates, greeting holidays and official working days.

Pure functions and one small class; no clock, no I/O (the only side effect is
a warning when a working-day year has to be guessed).

Lunar calendar
--------------
Built on ``lunardate`` (lunar years 1900-2099, i.e. solar 1900-01-31 to
2100-02-08); anything outside raises ``ValueError``.

- ``solar_to_lunar(date(2033, 12, 22))`` -> ``Lunar(2033, 11, 1, leap=True)``:
  2033 has a leap *eleventh* month (闰十一月), which old tables get wrong.
- ``lunar_to_solar(2024, 12, 30)`` raises ``ValueError`` because the twelfth
  month of lunar 2024 has only 29 days; ``lunar_to_solar(2024, 6, 1,
  leap=True)`` raises because 2024 has no leap month (2025 has a leap 6th).

Birthdays
---------
- Solar: a birthday is greeted on the same month and day; a 29 February birth
  is greeted on 28 February (the last day of the birth month) in a common
  year: ``solar_birthday_in(2025, 2, 29)`` -> 2025-02-28.
- Lunar, the 30th: a birth on the 30th of a lunar month is greeted on the 29th
  in a year where that month has 29 days (the last day of the month):
  lunar 12/30 in lunar year 2024 (12th month has 29 days) -> 12/29 =
  2025-01-28.
- Lunar, leap months: a birth in a leap month is greeted every year in the
  *ordinary* month of the same number, and NOT a second time when that leap
  month recurs (one greeting a year). A birth on 闰四月 15 (2020) is greeted on
  lunar 4/15: 2025-05-12. If that ordinary month has 29 days, the 30th rule
  applies.
- Lunar, which occurrence: the birthday "in a solar year" is the occurrence
  whose solar date lies in that year. Lunar 11th/12th-month birthdays can
  occur 0, 1 or 2 times in a solar year: lunar 12/1 falls on 2024-01-11 (lunar
  2023) and 2024-12-31 (lunar 2024), and not at all in 2025 (lunar 2025 12/1
  is 2026-01-19). ``lunar_birthdays_between`` returns every occurrence in a
  date range (what the planner uses); ``lunar_birthday_in`` returns one date:
  when two occur it returns the one of the lunar year that starts in that
  solar year (the later one, 2024-12-31 above), when none it returns None.

Greeting holidays
-----------------
``greeting_holidays(2025)``: new_year Jan 1; spring_festival lunar 1/1
(2025-01-29); qingming, the solar term, the Beijing-time (UTC+8) day on which
the sun's apparent ecliptic longitude reaches 15 degrees (2025-04-04),
computed with Meeus' low-precision solar position (Astronomical Algorithms
ch. 25) plus the main perturbations by Venus, Jupiter and the Moon (Meeus,
Astronomical Formulae for Calculators, ch. 18) and a bisection root find; the
moment lies within 5 minutes of a full VSOP87 ephemeris and the day agrees
with it every year 1901-2099 (closest call: 2071-04-05 00:10);
may_day May 1; mothers_day the 2nd Sunday of May (2025-05-11); fathers_day
the 3rd Sunday of June (2025-06-15); dragon_boat lunar 5/5 (2025-05-31);
teachers_day Sep 10; national_day Oct 1; mid_autumn lunar 8/15 (2025-10-06).
Lunar feasts always use the ordinary (non-leap) month. Sorted by date.

Working days
------------
``WorkCalendar`` follows the official calendar including swapped working
weekends (调休): 2025-01-26 is a Sunday and a working day; 2025-10-01..08 are
days off.

- Source, in order of precedence: the dealer's ``extra_workdays`` and
  ``extra_holidays`` (override everything, e.g. a newly published year);
  then the ``chinese_calendar`` package for the years it covers (2004-2026 in
  1.11); otherwise the fallback rule.
- Fallback rule (a year the package does not cover): Saturdays and Sundays
  off, plus the statutory days of the 2025 revision of the national holiday
  rules computed from the calendar: New Year Jan 1; Spring Festival = lunar
  New Year's Eve and lunar 1/1-1/3; Qingming; May 1-2; Dragon Boat; Mid-Autumn;
  Oct 1-3. No swapped weekends, no substitute days. For 2027: 2027-02-05
  (Eve, Friday) to 2027-02-08 (lunar 1/3, Monday) off, 2027-02-09 worked;
  2027-10-01..03 off (Fri-Sun), 2027-10-04 a working Monday. The dealer's
  extra dates for such a year are applied on top of this rule. When the
  dealer has given no extra date for that year, a ``CalendarFallbackWarning``
  is emitted (once per year per process) and ``covered(year)`` is False. It
  never raises: lunar feasts beyond lunardate's range are simply left out.
- ``next_working_day(d)`` is strictly after d; ``add_working_days(d, n)`` is
  the n-th working day after d (n=0 -> d, negative n counts back);
  ``days_off_after(d)`` is the run of non-working days right after d:
  ``days_off_after(date(2025, 9, 30))`` -> 2025-10-01..2025-10-08.
- Business hours: a working day is open ``day_start``-``day_end`` minus
  ``lunch`` (default 09:00-18:00 minus 12:00-13:30 = 7.5 h, see
  ``working_day_hours()``). ``add_working_hours(start, h)`` returns the
  earliest moment at which h business hours have elapsed since ``start``,
  counting only opening hours of working days; a start outside opening hours
  counts from the next opening; a deadline that ends exactly at closing stays
  at closing (9:00 + 7.5 h -> 18:00 the same day). "Half a working day" is
  ``working_day_hours() / 2`` (3.75 h), "one working day" is
  ``working_day_hours()``. Example: a complaint logged 2025-09-30 16:00 with
  4.5 h: 2 h on Sep 30, Oct 1-8 off, 2.5 h on Oct 9 -> 2025-10-09 11:30.

Examples (the statements above, run as doctests)
------------------------------------------------
>>> solar_to_lunar(date(2033, 12, 22))
Lunar(year=2033, month=11, day=1, leap=True)
>>> lunar_to_solar(2024, 12, 30)
Traceback (most recent call last):
ValueError: lunar 2024 month 12 has 29 days, so day 30 does not exist
>>> solar_birthday_in(2025, 2, 29), lunar_birthday_in(2025, 12, 30)
(datetime.date(2025, 2, 28), datetime.date(2025, 1, 28))
>>> lunar_birthday_in(2025, 4, 15, leap=True)  # born 闰四月十五: greeted on 四月十五
datetime.date(2025, 5, 12)
>>> lunar_birthdays_between(date(2024, 1, 1), date(2025, 12, 31), 12, 1)
[datetime.date(2024, 1, 11), datetime.date(2024, 12, 31)]
>>> {h.key: str(h.date) for h in greeting_holidays(2025)
...  if h.key in ("spring_festival", "qingming", "dragon_boat", "mid_autumn")}
{'spring_festival': '2025-01-29', 'qingming': '2025-04-04', 'dragon_boat': '2025-05-31', 'mid_autumn': '2025-10-06'}
>>> wc = WorkCalendar()
>>> wc.is_working_day(date(2025, 1, 26)), wc.is_working_day(date(2025, 10, 8))
(True, False)
>>> off = wc.days_off_after(date(2025, 9, 30))
>>> str(off[0]), str(off[-1]), len(off)
('2025-10-01', '2025-10-08', 8)
>>> working_day_hours(), wc.add_working_hours(datetime(2025, 9, 30, 16, 0), 4.5)
(7.5, datetime.datetime(2025, 10, 9, 11, 30))
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from functools import lru_cache

import chinese_calendar
from lunardate import LunarDate

__all__ = [
    "BEIJING",
    "DAY_END",
    "DAY_START",
    "LUNCH",
    "CalendarFallbackWarning",
    "Holiday",
    "Lunar",
    "WorkCalendar",
    "greeting_holidays",
    "leap_month",
    "lunar_birthday_in",
    "lunar_birthdays_between",
    "lunar_month_days",
    "lunar_to_solar",
    "qingming",
    "qingming_moment",
    "solar_birthday_in",
    "solar_to_lunar",
    "statutory_days_off",
    "working_day_hours",
]

BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")

LUNAR_MIN_YEAR = 1900
LUNAR_MAX_YEAR = 2099

# ---------------------------------------------------------------------------
# Lunar dates
# ---------------------------------------------------------------------------

_ZH_DIGITS = "〇一二三四五六七八九十"
_ZH_MONTHS = ["正", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二"]


@dataclass(frozen=True, order=True)
class Lunar:
    """A Chinese lunar date; ``leap`` is True inside a leap month (闰月)."""

    year: int
    month: int
    day: int
    leap: bool = False

    @property
    def zh(self) -> str:
        """Chinese form for display, e.g. ``农历2033年闰十一月初一``."""
        year = "".join(_ZH_DIGITS[int(c)] for c in str(self.year))
        month = ("闰" if self.leap else "") + _ZH_MONTHS[self.month - 1] + "月"
        if self.day <= 10:
            day = "初" + _ZH_DIGITS[self.day]
        elif self.day < 20:
            day = "十" + _ZH_DIGITS[self.day - 10]
        elif self.day == 20:
            day = "二十"
        elif self.day < 30:
            day = "廿" + _ZH_DIGITS[self.day - 20]
        else:
            day = "三十"
        return f"农历{year}年{month}{day}"


def _check_lunar_year(year: int) -> None:
    if not LUNAR_MIN_YEAR <= year <= LUNAR_MAX_YEAR:
        raise ValueError(
            f"lunar year {year} is outside the supported range {LUNAR_MIN_YEAR}-{LUNAR_MAX_YEAR}"
        )


def leap_month(year: int) -> int | None:
    """The leap month of lunar ``year`` (2033 -> 11, 2023 -> 2), or None."""
    _check_lunar_year(year)
    return LunarDate.leap_month_for_year(year)


@lru_cache(maxsize=4096)
def lunar_month_days(year: int, month: int, leap: bool = False) -> int:
    """Number of days (29 or 30) of a lunar month; ValueError if it does not exist."""
    _check_lunar_year(year)
    if not 1 <= month <= 12:
        raise ValueError(f"lunar month must be 1-12, got {month}")
    if leap:
        actual = LunarDate.leap_month_for_year(year)
        if actual != month:
            has = f"its leap month is {actual}" if actual else "it has no leap month"
            raise ValueError(f"lunar year {year} has no leap month {month} ({has})")
    try:
        LunarDate(year, month, 30, leap).to_solar_date()
    except ValueError:
        return 29
    return 30


@lru_cache(maxsize=65536)
def lunar_to_solar(year: int, month: int, day: int, leap: bool = False) -> date:
    """The solar date of a lunar date.

    Raises ValueError saying why when that lunar day does not exist:
    ``lunar_to_solar(2024, 12, 30)`` (that month has 29 days).
    """
    days = lunar_month_days(year, month, leap)
    if not 1 <= day <= 30:
        raise ValueError(f"lunar day must be 1-30, got {day}")
    if day > days:
        which = f"leap month {month}" if leap else f"month {month}"
        raise ValueError(f"lunar {year} {which} has {days} days, so day {day} does not exist")
    return LunarDate(year, month, day, leap).to_solar_date()


_SOLAR_MIN = date(1900, 1, 31)
_SOLAR_MAX = lunar_to_solar(LUNAR_MAX_YEAR, 12, lunar_month_days(LUNAR_MAX_YEAR, 12))


def solar_to_lunar(d: date) -> Lunar:
    """The lunar date of solar ``d``: 2023-01-22 -> Lunar(2023, 1, 1, False)."""
    if isinstance(d, datetime):
        d = d.date()
    if not _SOLAR_MIN <= d <= _SOLAR_MAX:
        raise ValueError(
            f"{d.isoformat()} is outside the supported range "
            f"{_SOLAR_MIN.isoformat()} to {_SOLAR_MAX.isoformat()}"
        )
    ld = LunarDate.from_solar_date(d.year, d.month, d.day)
    return Lunar(ld.year, ld.month, ld.day, bool(ld.is_leap_month))


# ---------------------------------------------------------------------------
# Birthdays
# ---------------------------------------------------------------------------


def solar_birthday_in(year: int, month: int, day: int) -> date:
    """The greeting date in ``year`` of a solar birthday; 29 Feb -> 28 Feb in common years."""
    if (month, day) == (2, 29) and not _is_leap_year(year):
        return date(year, 2, 28)
    return date(year, month, day)


def _is_leap_year(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _check_lunar_birthday(lmonth: int, lday: int) -> None:
    if not 1 <= lmonth <= 12:
        raise ValueError(f"lunar birth month must be 1-12, got {lmonth}")
    if not 1 <= lday <= 30:
        raise ValueError(f"lunar birth day must be 1-30, got {lday}")


def _lunar_birthday_of_lunar_year(lyear: int, lmonth: int, lday: int) -> date:
    # Leap-month births are greeted in the ordinary month (the leap flag is
    # ignored); a 30th becomes the last day of a 29-day month.
    day = min(lday, lunar_month_days(lyear, lmonth, False))
    return lunar_to_solar(lyear, lmonth, day, False)


def lunar_birthdays_between(
    start: date, end: date, lmonth: int, lday: int, leap: bool = False
) -> list[date]:
    """Every greeting date of a lunar birthday from ``start`` to ``end``, both included.

    ``leap`` is accepted for the record but does not change the result: a
    leap-month birth is greeted in the ordinary month of the same number.
    Occurrences outside lunardate's range (lunar years 1900-2099) are left out.
    """
    _check_lunar_birthday(lmonth, lday)
    if end < start:
        return []
    # Lunar year Y lies within solar Y (from late Jan/Feb) and early solar Y+1.
    first = max(LUNAR_MIN_YEAR, start.year - 1)
    last = min(LUNAR_MAX_YEAR, end.year)
    found = []
    for lyear in range(first, last + 1):
        d = _lunar_birthday_of_lunar_year(lyear, lmonth, lday)
        if start <= d <= end:
            found.append(d)
    return found


def lunar_birthday_in(solar_year: int, lmonth: int, lday: int, leap: bool = False) -> date | None:
    """The greeting date of a lunar birthday that lies in ``solar_year``.

    None when no occurrence falls in that year; when two do (an 11th/12th
    month birthday, one in January and one in December), the one of the lunar
    year starting in ``solar_year`` (the December one).
    """
    found = lunar_birthdays_between(
        date(solar_year, 1, 1), date(solar_year, 12, 31), lmonth, lday, leap
    )
    return found[-1] if found else None


# ---------------------------------------------------------------------------
# Sun position and Qingming
# ---------------------------------------------------------------------------

_J2000 = datetime(2000, 1, 1, 12, tzinfo=UTC)


def _delta_t_seconds(year: float) -> float:
    """TT - UT (Espenak & Meeus polynomials); about a minute, far below the formula's error."""
    if year >= 2050:
        u = (year - 1820) / 100
        return -20 + 32 * u * u - 0.5628 * (2150 - year)
    if year >= 2005:
        t = year - 2000
        return 62.92 + 0.32217 * t + 0.005589 * t * t
    if year >= 1986:
        t = year - 2000
        return (
            63.86
            + 0.3345 * t
            - 0.060374 * t**2
            + 0.0017275 * t**3
            + 0.000651814 * t**4
            + 0.00002373599 * t**5
        )
    if year >= 1961:
        t = year - 1975
        return 45.45 + 1.067 * t - t**2 / 260 - t**3 / 718
    if year >= 1941:
        t = year - 1950
        return 29.07 + 0.407 * t - t**2 / 233 + t**3 / 2547
    if year >= 1920:
        t = year - 1920
        return 21.20 + 0.84493 * t - 0.0761 * t**2 + 0.0020936 * t**3
    t = year - 1900
    return -2.79 + 1.494119 * t - 0.0598939 * t**2 + 0.0061966 * t**3 - 0.000197 * t**4


def _sun_apparent_longitude(moment: datetime) -> float:
    """Apparent geocentric ecliptic longitude of the sun in degrees [0, 360).

    Meeus, Astronomical Algorithms, 2nd ed., ch. 25 (low accuracy, ~0.01 deg).
    """
    ut_days = (moment - _J2000).total_seconds() / 86400
    tt_days = ut_days + _delta_t_seconds(moment.year + (moment.month - 0.5) / 12) / 86400
    t = tt_days / 36525  # Julian centuries of TT since J2000.0
    l0 = 280.46646 + 36000.76983 * t + 0.0003032 * t * t
    m = math.radians(357.52911 + 35999.05029 * t - 0.0001537 * t * t)
    c = (
        (1.914602 - 0.004817 * t - 0.000014 * t * t) * math.sin(m)
        + (0.019993 - 0.000101 * t) * math.sin(2 * m)
        + 0.000289 * math.sin(3 * m)
    )
    # Perturbations by Venus (a, b), Jupiter (c), the Moon (d) and a long-period
    # term (e), from Meeus, Astronomical Formulae for Calculators, ch. 18 (T
    # counted from 1900, i.e. t + 1).
    t1900 = t + 1
    a = math.radians(153.23 + 22518.7541 * t1900)
    b = math.radians(216.57 + 45037.5082 * t1900)
    cj = math.radians(312.69 + 32964.3577 * t1900)
    d = math.radians(350.74 + 445267.1142 * t1900 - 0.00144 * t1900 * t1900)
    e = math.radians(231.19 + 20.20 * t1900)
    perturbation = (
        0.00134 * math.cos(a)
        + 0.00154 * math.cos(b)
        + 0.00200 * math.cos(cj)
        + 0.00179 * math.sin(d)
        + 0.00178 * math.sin(e)
    )
    omega = math.radians(125.04 - 1934.136 * t)
    return (l0 + c + perturbation - 0.00569 - 0.00478 * math.sin(omega)) % 360


def _sun_reaches(target: float, around: datetime) -> datetime:
    """The moment (UTC) within 10 days of ``around`` when the sun reaches ``target`` degrees."""

    def behind(moment: datetime) -> bool:
        # Signed angular difference, so 359 deg is "behind" 0 deg.
        return (_sun_apparent_longitude(moment) - target + 180) % 360 - 180 < 0

    lo, hi = around - timedelta(days=10), around + timedelta(days=10)
    if not (behind(lo) and not behind(hi)):
        raise ValueError(f"the sun does not reach {target} degrees near {around}")
    while hi - lo > timedelta(seconds=1):
        mid = lo + (hi - lo) / 2
        if behind(mid):
            lo = mid
        else:
            hi = mid
    return hi


def qingming_moment(year: int) -> datetime:
    """The moment of the Qingming solar term (sun at 15 degrees), Beijing time."""
    moment = _sun_reaches(15.0, datetime(year, 4, 5, tzinfo=UTC))
    return moment.astimezone(BEIJING).replace(microsecond=0)


def qingming(year: int) -> date:
    """The Qingming day (清明): the Beijing-time date of ``qingming_moment``."""
    return qingming_moment(year).date()


# ---------------------------------------------------------------------------
# Greeting holidays
# ---------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Holiday:
    """A greeting holiday on a given date."""

    date: date
    key: str
    name_zh: str
    name_en: str


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


_SUNDAY = 6


def greeting_holidays(year: int) -> list[Holiday]:
    """The greeting holidays of solar ``year``, sorted by date (rules in the module doc)."""
    _check_lunar_year(year)
    items = [
        Holiday(date(year, 1, 1), "new_year", "元旦", "New Year's Day"),
        Holiday(lunar_to_solar(year, 1, 1), "spring_festival", "春节", "Spring Festival"),
        Holiday(qingming(year), "qingming", "清明节", "Qingming Festival"),
        Holiday(date(year, 5, 1), "may_day", "劳动节", "May Day"),
        Holiday(_nth_weekday(year, 5, _SUNDAY, 2), "mothers_day", "母亲节", "Mother's Day"),
        Holiday(_nth_weekday(year, 6, _SUNDAY, 3), "fathers_day", "父亲节", "Father's Day"),
        Holiday(lunar_to_solar(year, 5, 5), "dragon_boat", "端午节", "Dragon Boat Festival"),
        Holiday(lunar_to_solar(year, 8, 15), "mid_autumn", "中秋节", "Mid-Autumn Festival"),
        Holiday(date(year, 9, 10), "teachers_day", "教师节", "Teachers' Day"),
        Holiday(date(year, 10, 1), "national_day", "国庆节", "National Day"),
    ]
    return sorted(items)


# ---------------------------------------------------------------------------
# Working days
# ---------------------------------------------------------------------------


class CalendarFallbackWarning(UserWarning):
    """A year's official working-day schedule is unknown; the fallback rule is used."""

    # The command line says it once a day, not on every run (cron would repeat it all year).
    once_a_day = True


@dataclass(frozen=True)
class _YearTable:
    days_off: frozenset[date]  # non-working days that are not plain weekends
    workdays: frozenset[date]  # working days that fall on a weekend (调休)


@lru_cache(maxsize=1)
def _package_tables() -> dict[int, _YearTable]:
    off: dict[int, set[date]] = {}
    work: dict[int, set[date]] = {}
    for d in chinese_calendar.holidays:
        off.setdefault(d.year, set()).add(d)
    for d in chinese_calendar.workdays:
        work.setdefault(d.year, set()).add(d)
    years = list(off) + list(work)
    return {
        y: _YearTable(frozenset(off.get(y, ())), frozenset(work.get(y, ())))
        for y in range(min(years), max(years) + 1)
    }


def statutory_days_off(year: int) -> frozenset[date]:
    """The statutory days off of the fallback rule (2025 revision), without weekends.

    Lunar feasts are left out for years lunardate does not cover.
    """
    days = {date(year, 1, 1), date(year, 5, 1), date(year, 5, 2)}
    days.update(date(year, 10, d) for d in (1, 2, 3))
    try:
        days.add(qingming(year))
    except (ValueError, OverflowError):
        pass
    if LUNAR_MIN_YEAR <= year <= LUNAR_MAX_YEAR:
        new_year = lunar_to_solar(year, 1, 1)
        days.update(new_year + timedelta(days=k) for k in (-1, 0, 1, 2))
        days.add(lunar_to_solar(year, 5, 5))
        days.add(lunar_to_solar(year, 8, 15))
    return frozenset(days)


@lru_cache(maxsize=256)
def _fallback_table(year: int) -> _YearTable:
    return _YearTable(statutory_days_off(year), frozenset())


_warned_years: set[int] = set()


def _warn_fallback(year: int) -> None:
    if year in _warned_years:
        return
    _warned_years.add(year)
    from .i18n import _

    warnings.warn(
        _("no official working-day calendar for {year}: using weekends plus computed "
          "statutory holidays without swapped weekends; add the State Council notice's "
          "dates as extra holidays/workdays in the settings").format(year=year),
        CalendarFallbackWarning,
        stacklevel=5,
    )


DAY_START = time(9, 0)
DAY_END = time(18, 0)
LUNCH: tuple[time, time] = (time(12, 0), time(13, 30))

_MAX_SEARCH_DAYS = 400


def _business_segments(
    day_start: time, day_end: time, lunch: tuple[time, time] | None
) -> list[tuple[time, time]]:
    if not day_start < day_end:
        raise ValueError(f"day_start {day_start} must be before day_end {day_end}")
    if lunch is None:
        return [(day_start, day_end)]
    lunch_start, lunch_end = lunch
    if not day_start <= lunch_start <= lunch_end <= day_end:
        raise ValueError(f"lunch {lunch_start}-{lunch_end} must lie within {day_start}-{day_end}")
    return [(s, e) for s, e in ((day_start, lunch_start), (lunch_end, day_end)) if s < e]


def working_day_hours(
    day_start: time = DAY_START,
    day_end: time = DAY_END,
    lunch: tuple[time, time] | None = LUNCH,
) -> float:
    """Business hours in one working day: 09:00-18:00 minus 12:00-13:30 -> 7.5."""
    total = timedelta()
    for s, e in _business_segments(day_start, day_end, lunch):
        total += datetime.combine(date.min, e) - datetime.combine(date.min, s)
    return total / timedelta(hours=1)


def _as_date(d: date) -> date:
    return d.date() if isinstance(d, datetime) else d


class WorkCalendar:
    """Official Chinese working days with the dealer's own extra dates on top."""

    def __init__(
        self, extra_holidays: Iterable[date] = (), extra_workdays: Iterable[date] = ()
    ) -> None:
        self._extra_off = frozenset(_as_date(d) for d in extra_holidays)
        self._extra_work = frozenset(_as_date(d) for d in extra_workdays)
        both = self._extra_off & self._extra_work
        if both:
            listed = ", ".join(d.isoformat() for d in sorted(both))
            raise ValueError(f"dates given both as extra holiday and extra workday: {listed}")
        self._extra_years = {d.year for d in self._extra_off | self._extra_work}
        self._tables: dict[int, _YearTable] = {}

    def _table(self, year: int) -> _YearTable:
        table = self._tables.get(year)
        if table is None:
            table = self._build(year)
            self._tables[year] = table
        return table

    def _build(self, year: int) -> _YearTable:
        base = _package_tables().get(year)
        if base is None:
            base = _fallback_table(year)
            if year not in self._extra_years:
                _warn_fallback(year)
        if year not in self._extra_years:
            return base
        off = {d for d in self._extra_off if d.year == year}
        work = {d for d in self._extra_work if d.year == year}
        return _YearTable(
            frozenset((base.days_off - work) | off),
            frozenset((base.workdays - off) | work),
        )

    def covered(self, year: int) -> bool:
        """True when the year's schedule is known (package or the dealer's extra dates)."""
        return year in _package_tables() or year in self._extra_years

    def is_working_day(self, d: date) -> bool:
        """Whether ``d`` is a working day (2025-01-26, a swapped Sunday, is)."""
        d = _as_date(d)
        table = self._table(d.year)
        if d in table.workdays:
            return True
        if d in table.days_off:
            return False
        return d.weekday() < 5

    def next_working_day(self, d: date) -> date:
        """The first working day strictly after ``d``."""
        day = _as_date(d)
        for _ in range(_MAX_SEARCH_DAYS):
            day += timedelta(days=1)
            if self.is_working_day(day):
                return day
        raise ValueError(f"no working day within {_MAX_SEARCH_DAYS} days after {d}")

    def previous_working_day(self, d: date) -> date:
        """The last working day strictly before ``d``."""
        day = _as_date(d)
        for _ in range(_MAX_SEARCH_DAYS):
            day -= timedelta(days=1)
            if self.is_working_day(day):
                return day
        raise ValueError(f"no working day within {_MAX_SEARCH_DAYS} days before {d}")

    def add_working_days(self, d: date, n: int) -> date:
        """The n-th working day after ``d`` (n=0 -> d; negative n counts back)."""
        d = _as_date(d)
        step = self.next_working_day if n >= 0 else self.previous_working_day
        for _ in range(abs(n)):
            d = step(d)
        return d

    def days_off_after(self, d: date) -> list[date]:
        """The run of non-working days right after ``d`` (empty if the next day is worked)."""
        d = _as_date(d)
        run = []
        day = d + timedelta(days=1)
        while not self.is_working_day(day) and len(run) < _MAX_SEARCH_DAYS:
            run.append(day)
            day += timedelta(days=1)
        return run

    def add_working_hours(
        self,
        start: datetime,
        hours: float,
        day_start: time = DAY_START,
        day_end: time = DAY_END,
        lunch: tuple[time, time] | None = LUNCH,
    ) -> datetime:
        """The deadline ``hours`` business hours after ``start`` (rules in the module doc)."""
        if hours < 0:
            raise ValueError(f"hours must not be negative, got {hours}")
        segments = _business_segments(day_start, day_end, lunch)
        remaining = timedelta(hours=hours)
        if not remaining:
            return start
        tz = start.tzinfo
        day = start.date()
        if not self.is_working_day(day):
            day = self.next_working_day(day)
        while True:
            for seg_start, seg_end in segments:
                opens = datetime.combine(day, seg_start, tz)
                closes = datetime.combine(day, seg_end, tz)
                if closes <= start:
                    continue
                opens = max(opens, start)
                available = closes - opens
                if remaining <= available:
                    return opens + remaining
                remaining -= available
            day = self.next_working_day(day)


def working_hours_between(
    wc: WorkCalendar,
    start: datetime,
    end: datetime,
    day_start: time = DAY_START,
    day_end: time = DAY_END,
    lunch: tuple[time, time] | None = LUNCH,
) -> float:
    """Business hours from ``start`` to ``end`` on working days (0 when end <= start).

    The inverse of ``add_working_hours``: Thursday 10:30 to Friday 10:30 with
    the default hours is 7.5 h; over a weekend the Saturday and Sunday count 0.
    """
    if end <= start:
        return 0.0
    segments = _business_segments(day_start, day_end, lunch)
    total = timedelta()
    day = start.date()
    while day <= end.date():
        if wc.is_working_day(day):
            for s, e in segments:
                lo = max(datetime.combine(day, s, start.tzinfo), start)
                hi = min(datetime.combine(day, e, start.tzinfo), end)
                if hi > lo:
                    total += hi - lo
        day += timedelta(days=1)
    return total / timedelta(hours=1)
