"""Pinned behaviour of crmcli.calendar: business hours between two moments, the checks of
the business-hour and lunar-birthday arguments, the edges of the supported range, the
greeting holidays' names and the fallback warning.

Every expected value is worked out by hand from the rule (module doc, docstrings) or is a
published calendar fact, never copied from the code's output:
- Working days 2025: the State Council notice 国办发明电〔2024〕12号: 2025-10-01..08 off
  (National Day and Mid-Autumn), Sunday 2025-09-28 and Saturday 2025-10-11 worked.
- Default business hours 09:00-12:00 and 13:30-18:00 (7.5 h a day).
- Lunar facts: lunar 2024 12/1 = 2024-12-31 (so 12/2 = 2025-01-01); lunar 1900 1/1 =
  1900-01-31, the first day lunardate covers; the greeting holidays of 2025 from the
  published almanac (Spring Festival 01-29, Qingming 04-04, Dragon Boat 05-31,
  Mid-Autumn 10-06; Mother's Day, the 2nd Sunday of May, 05-11; Father's Day, the 3rd
  Sunday of June, 06-15).
"""

from __future__ import annotations

import warnings
from datetime import date, datetime, time, timedelta

import pytest

import crmcli.calendar as cal
from crmcli.calendar import (
    BEIJING,
    CalendarFallbackWarning,
    Holiday,
    Lunar,
    WorkCalendar,
    greeting_holidays,
    lunar_birthday_in,
    lunar_birthdays_between,
    solar_to_lunar,
    statutory_days_off,
    working_day_hours,
    working_hours_between,
)

D = date
T = datetime


@pytest.fixture(autouse=True)
def fresh_fallback_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    # "Once per year per process": give each test a fresh process-wide memory.
    monkeypatch.setattr(cal, "_warned_years", set())


# ---------------------------------------------------------------------------
# working_hours_between (default hours 09:00-12:00 + 13:30-18:00)
# ---------------------------------------------------------------------------

WC = WorkCalendar()


def hours(start: datetime, end: datetime, **kw) -> float:
    return working_hours_between(WC, start, end, **kw)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        # Wednesday 2025-09-24, a plain working day.
        (T(2025, 9, 24, 9, 0), T(2025, 9, 24, 18, 0), 7.5),  # the whole day
        (T(2025, 9, 24, 11, 0), T(2025, 9, 24, 14, 0), 1.5),  # 11-12 and 13:30-14
        (T(2025, 9, 24, 12, 30), T(2025, 9, 24, 13, 45), 0.25),  # from inside lunch
        (T(2025, 9, 24, 12, 0), T(2025, 9, 24, 13, 30), 0.0),  # lunch only
        (T(2025, 9, 24, 7, 0), T(2025, 9, 24, 20, 0), 7.5),  # wider than opening hours
        # One minute either side of opening, lunch and closing: one minute counts.
        (T(2025, 9, 24, 8, 59), T(2025, 9, 24, 9, 1), 1 / 60),
        (T(2025, 9, 24, 11, 59), T(2025, 9, 24, 12, 1), 1 / 60),
        (T(2025, 9, 24, 13, 29), T(2025, 9, 24, 13, 31), 1 / 60),
        (T(2025, 9, 24, 17, 59), T(2025, 9, 24, 18, 1), 1 / 60),
        # Thursday 10:30 to Friday 10:30: 1.5 + 4.5 + 1.5 (the docstring's example).
        (T(2025, 9, 25, 10, 30), T(2025, 9, 26, 10, 30), 7.5),
        # A plain weekend counts nothing: Friday 17:00 to Monday 10:00 = 1 + 1.
        (T(2025, 10, 17, 17, 0), T(2025, 10, 20, 10, 0), 2.0),
        # Days off: Tuesday 2025-09-30 16:00 to Thursday 2025-10-09 11:30, Oct 1-8 off:
        # 2 h on Sep 30 and 2.5 h on Oct 9 (the inverse of the module doc's deadline).
        (T(2025, 9, 30, 16, 0), T(2025, 10, 9, 11, 30), 4.5),
        # A swapped working Saturday counts in full: Friday 2025-10-10 17:00 to Monday
        # 2025-10-13 10:00 = 1 h + 7.5 h (Saturday Oct 11 worked) + 0 (Sunday) + 1 h.
        (T(2025, 10, 10, 17, 0), T(2025, 10, 13, 10, 0), 9.5),
        # ... and so does the swapped Sunday 2025-09-28: Saturday 12:00 to Monday 10:00.
        (T(2025, 9, 27, 12, 0), T(2025, 9, 29, 10, 0), 8.5),
        # A whole week of a Monday to the next Monday 09:00: five days of 7.5 h.
        (T(2025, 11, 3, 9, 0), T(2025, 11, 10, 9, 0), 37.5),
    ],
)
def test_working_hours_between(start: datetime, end: datetime, expected: float) -> None:
    assert hours(start, end) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (T(2025, 9, 24, 10, 0), T(2025, 9, 24, 10, 0)),  # empty interval
        (T(2025, 9, 24, 15, 0), T(2025, 9, 24, 10, 0)),  # end before start
        (T(2025, 9, 26, 10, 0), T(2025, 9, 24, 10, 0)),  # days before start
    ],
)
def test_working_hours_between_end_not_after_start_is_zero(start: datetime, end: datetime) -> None:
    assert hours(start, end) == 0.0
    # "0 when end <= start", whatever the hours: they are not even looked at.
    assert hours(start, end, day_start=time(18, 0), day_end=time(9, 0)) == 0.0


def test_working_hours_between_with_other_hours() -> None:
    start, end = T(2025, 9, 24, 7, 0), T(2025, 9, 25, 12, 0)
    # 08:00-17:00 without lunch: 9 h on Wednesday, 4 h on Thursday morning.
    assert hours(start, end, day_start=time(8, 0), day_end=time(17, 0), lunch=None) == 13.0
    # 08:00-17:00 with lunch 12:00-13:00: 8 h, then 4 h.
    assert hours(start, end, day_start=time(8, 0), day_end=time(17, 0),
                 lunch=(time(12, 0), time(13, 0))) == 12.0
    # Only the day's end moves: 09:00-12:00 + 13:30-17:00 = 6.5, then 3 h.
    assert hours(start, end, day_end=time(17, 0)) == 9.5
    # Only the start moves: 10:00-12:00 + 13:30-18:00 = 6.5, then 2 h.
    assert hours(start, end, day_start=time(10, 0)) == 8.5


def test_working_hours_between_keeps_the_time_zone() -> None:
    # Aware moments (Beijing time) are compared with the day's opening in that zone.
    start = T(2025, 9, 25, 10, 30, tzinfo=BEIJING)
    end = T(2025, 9, 26, 10, 30, tzinfo=BEIJING)
    assert hours(start, end) == 7.5


def test_working_hours_between_inverts_add_working_hours() -> None:
    # The docstring calls it the inverse of add_working_hours: the module doc's example.
    start = T(2025, 9, 30, 16, 0)
    deadline = WC.add_working_hours(start, 4.5)
    assert deadline == T(2025, 10, 9, 11, 30)
    assert hours(start, deadline) == 4.5


# ---------------------------------------------------------------------------
# Business hours: the checks and the edges of lunch
# ---------------------------------------------------------------------------


def test_business_day_must_have_a_length() -> None:
    with pytest.raises(ValueError, match=r"day_start 09:00:00 must be before day_end 09:00:00"):
        working_day_hours(time(9, 0), time(9, 0), None)
    with pytest.raises(ValueError, match=r"day_start 18:00:00 must be before day_end 09:00:00"):
        working_day_hours(time(18, 0), time(9, 0))


def test_lunch_must_lie_within_the_day() -> None:
    with pytest.raises(ValueError, match=r"lunch 08:00:00-10:00:00 must lie within "
                                         r"09:00:00-18:00:00"):
        working_day_hours(lunch=(time(8, 0), time(10, 0)))
    with pytest.raises(ValueError, match=r"lunch 13:00:00-12:00:00 must lie within"):
        working_day_hours(lunch=(time(13, 0), time(12, 0)))


@pytest.mark.parametrize(
    ("lunch", "expected"),
    [
        ((time(9, 0), time(10, 0)), 8.0),  # lunch right at opening: 10:00-18:00
        ((time(17, 0), time(18, 0)), 8.0),  # lunch right at closing: 09:00-17:00
        ((time(12, 0), time(12, 0)), 9.0),  # an empty lunch: the whole day
        ((time(9, 0), time(18, 0)), 0.0),  # lunch all day: nothing open
    ],
)
def test_lunch_at_the_edges_of_the_day(lunch: tuple[time, time], expected: float) -> None:
    assert working_day_hours(lunch=lunch) == expected


# ---------------------------------------------------------------------------
# Lunar birthdays and the supported range
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lmonth", "lday", "message"),
    [
        (0, 1, "lunar birth month must be 1-12, got 0"),
        (13, 1, "lunar birth month must be 1-12, got 13"),
        (1, 0, "lunar birth day must be 1-30, got 0"),
        (1, 31, "lunar birth day must be 1-30, got 31"),
    ],
)
def test_lunar_birthday_checks_name_the_problem(lmonth: int, lday: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        lunar_birthday_in(2025, lmonth, lday)
    # Checked before anything else, even for an empty range.
    with pytest.raises(ValueError, match=message):
        lunar_birthdays_between(D(2026, 1, 1), D(2025, 1, 1), lmonth, lday)


def test_lunar_birthday_on_new_years_day() -> None:
    # Lunar 2024 12/1 is 2024-12-31, so 12/2 is 2025-01-01; lunar 2025 12/2 is 2026-01-20.
    assert lunar_birthday_in(2025, 12, 2) == D(2025, 1, 1)
    assert lunar_birthdays_between(D(2025, 1, 1), D(2025, 1, 1), 12, 2) == [D(2025, 1, 1)]


@pytest.mark.parametrize("end", [D(2099, 12, 31), D(2100, 12, 31)])
def test_lunar_birthdays_in_the_last_lunar_year(end: date) -> None:
    # Lunar 2099 is the last year covered: its Mid-Autumn lies in solar 2099, and a range
    # reaching into 2100 leaves the uncovered lunar 2100 out instead of failing.
    found = lunar_birthdays_between(D(2099, 1, 1), end, 8, 15)
    assert len(found) == 1
    assert found[0].year == 2099
    assert solar_to_lunar(found[0]) == Lunar(2099, 8, 15)


def test_solar_to_lunar_edges_of_the_range() -> None:
    assert solar_to_lunar(D(1900, 1, 31)) == Lunar(1900, 1, 1)  # the first day covered
    with pytest.raises(ValueError, match="outside the supported range"):
        solar_to_lunar(D(1900, 1, 30))
    # 2100-02-08 is the last day of lunar 2099 (the module doc); 2100-02-09 is not covered.
    last = solar_to_lunar(D(2100, 2, 8))
    assert (last.year, last.month, last.leap) == (2099, 12, False)
    assert last.day in (29, 30)
    with pytest.raises(ValueError, match="outside the supported range"):
        solar_to_lunar(D(2100, 2, 9))


def test_solar_to_lunar_takes_a_datetime() -> None:
    # The module doc's example, given as a moment of that day.
    assert solar_to_lunar(T(2033, 12, 22, 23, 59)) == Lunar(2033, 11, 1, leap=True)


def test_statutory_days_off_at_the_ends_of_the_lunar_range() -> None:
    # 1900: lunar New Year 1900-01-31, so the Eve and 1/1-1/3 are Jan 30 - Feb 2.
    days = statutory_days_off(1900)
    assert {D(1900, 1, 30), D(1900, 1, 31), D(1900, 2, 1), D(1900, 2, 2)} <= days
    # 2099, the last lunar year: its lunar feasts are still there.
    lunar = {solar_to_lunar(d) for d in statutory_days_off(2099)}
    assert {Lunar(2099, 1, 1), Lunar(2099, 5, 5), Lunar(2099, 8, 15)} <= lunar


# ---------------------------------------------------------------------------
# Greeting holidays: names and dates of 2025
# ---------------------------------------------------------------------------


def test_greeting_holidays_2025_in_full() -> None:
    assert greeting_holidays(2025) == [
        Holiday(D(2025, 1, 1), "new_year", "元旦", "New Year's Day"),
        Holiday(D(2025, 1, 29), "spring_festival", "春节", "Spring Festival"),
        Holiday(D(2025, 4, 4), "qingming", "清明节", "Qingming Festival"),
        Holiday(D(2025, 5, 1), "may_day", "劳动节", "May Day"),
        Holiday(D(2025, 5, 11), "mothers_day", "母亲节", "Mother's Day"),
        Holiday(D(2025, 5, 31), "dragon_boat", "端午节", "Dragon Boat Festival"),
        Holiday(D(2025, 6, 15), "fathers_day", "父亲节", "Father's Day"),
        Holiday(D(2025, 9, 10), "teachers_day", "教师节", "Teachers' Day"),
        Holiday(D(2025, 10, 1), "national_day", "国庆节", "National Day"),
        Holiday(D(2025, 10, 6), "mid_autumn", "中秋节", "Mid-Autumn Festival"),
    ]


# ---------------------------------------------------------------------------
# WorkCalendar: messages and the bounded searches
# ---------------------------------------------------------------------------


def test_dates_both_off_and_worked_are_all_listed() -> None:
    both = [D(2025, 10, 2), D(2025, 10, 1)]
    with pytest.raises(ValueError, match=r"extra workday: 2025-10-01, 2025-10-02$"):
        WorkCalendar(extra_holidays=both, extra_workdays=both)


def test_searches_stop_after_400_days() -> None:
    # 500 days off in a row (2025-01-01 .. 2026-05-15): no working day within 400 days.
    first = D(2025, 1, 1)
    wc = WorkCalendar(extra_holidays=[first + timedelta(days=k) for k in range(500)])
    with pytest.raises(ValueError, match="no working day within 400 days after 2025-01-01"):
        wc.next_working_day(D(2025, 1, 1))
    with pytest.raises(ValueError, match="no working day within 400 days before 2026-05-15"):
        wc.previous_working_day(D(2026, 5, 15))
    off = wc.days_off_after(D(2024, 12, 31))
    assert (len(off), off[0], off[-1]) == (400, first, first + timedelta(days=399))


# ---------------------------------------------------------------------------
# The fallback warning
# ---------------------------------------------------------------------------


def test_fallback_warning_text() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        WorkCalendar().is_working_day(D(2090, 3, 1))
    assert [str(w.message) for w in caught if w.category is CalendarFallbackWarning] == [
        ("no official working-day calendar for 2090: using weekends plus computed statutory "
         "holidays without swapped weekends; add the State Council notice's dates as extra "
         "holidays/workdays in the settings")
    ]
