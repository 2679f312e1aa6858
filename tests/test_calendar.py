"""Tests for crmcli.calendar against published calendar facts.

Where the expected literals come from:
- Spring Festival, Qingming, Dragon Boat and Mid-Autumn dates 2016-2030: the
  published Chinese almanacs; for 2008-2026 they are also cross-checked against
  the official holiday labels of the chinese_calendar package (State Council
  notices), and Qingming 1900-2100 against that package's solar-term formula
  (2100 worked by hand: the package's formula slips there).
- Leap months 2020 (4th), 2023 (2nd), 2025 (6th), 2033 (11th, 闰十一月):
  the published calendars (Purple Mountain / Hong Kong observatories).
- Working days 2024, 2025 and 2026: the State Council notices (国办发明电〔2023〕7号,
  国办发明电〔2024〕12号 and 国办发明电〔2025〕7号), written out here day by day; the
  product reads them from chinese_calendar, so comparing it with that package
  would check nothing.
"""

from __future__ import annotations

import warnings
from datetime import UTC, date, datetime, time, timedelta, timezone

import chinese_calendar
import pytest
from hypothesis import given
from hypothesis import strategies as st

import crmcli.calendar as cal
from crmcli.calendar import (
    CalendarFallbackWarning,
    Holiday,
    Lunar,
    WorkCalendar,
    greeting_holidays,
    leap_month,
    lunar_birthday_in,
    lunar_birthdays_between,
    lunar_month_days,
    lunar_to_solar,
    qingming,
    qingming_moment,
    solar_birthday_in,
    solar_to_lunar,
    working_day_hours,
)

D = date


@pytest.fixture(autouse=True)
def fresh_fallback_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    # "Once per year per process": give each test a fresh process-wide memory.
    monkeypatch.setattr(cal, "_warned_years", set())


# ---------------------------------------------------------------------------
# Lunar dates
# ---------------------------------------------------------------------------

SPRING_FESTIVAL = {
    2016: D(2016, 2, 8),
    2017: D(2017, 1, 28),
    2018: D(2018, 2, 16),
    2019: D(2019, 2, 5),
    2020: D(2020, 1, 25),
    2021: D(2021, 2, 12),
    2022: D(2022, 2, 1),
    2023: D(2023, 1, 22),
    2024: D(2024, 2, 10),
    2025: D(2025, 1, 29),
    2026: D(2026, 2, 17),
    2027: D(2027, 2, 6),
    2028: D(2028, 1, 26),
    2029: D(2029, 2, 13),
    2030: D(2030, 2, 3),
}
QINGMING = {
    2016: D(2016, 4, 4),
    2017: D(2017, 4, 4),
    2018: D(2018, 4, 5),
    2019: D(2019, 4, 5),
    2020: D(2020, 4, 4),
    2021: D(2021, 4, 4),
    2022: D(2022, 4, 5),
    2023: D(2023, 4, 5),
    2024: D(2024, 4, 4),
    2025: D(2025, 4, 4),
    2026: D(2026, 4, 5),
    2027: D(2027, 4, 5),
    2028: D(2028, 4, 4),
    2029: D(2029, 4, 4),
    2030: D(2030, 4, 5),
}
DRAGON_BOAT = {
    2016: D(2016, 6, 9),
    2017: D(2017, 5, 30),
    2018: D(2018, 6, 18),
    2019: D(2019, 6, 7),
    2020: D(2020, 6, 25),
    2021: D(2021, 6, 14),
    2022: D(2022, 6, 3),
    2023: D(2023, 6, 22),
    2024: D(2024, 6, 10),
    2025: D(2025, 5, 31),
    2026: D(2026, 6, 19),
    2027: D(2027, 6, 9),
    2028: D(2028, 5, 28),
    2029: D(2029, 6, 16),
    2030: D(2030, 6, 5),
}
MID_AUTUMN = {
    2016: D(2016, 9, 15),
    2017: D(2017, 10, 4),
    2018: D(2018, 9, 24),
    2019: D(2019, 9, 13),
    2020: D(2020, 10, 1),
    2021: D(2021, 9, 21),
    2022: D(2022, 9, 10),
    2023: D(2023, 9, 29),
    2024: D(2024, 9, 17),
    2025: D(2025, 10, 6),
    2026: D(2026, 9, 25),
    2027: D(2027, 9, 15),
    2028: D(2028, 10, 3),
    2029: D(2029, 9, 22),
    2030: D(2030, 9, 12),
}


@pytest.mark.parametrize("year", sorted(SPRING_FESTIVAL))
def test_lunar_new_year(year: int) -> None:
    assert lunar_to_solar(year, 1, 1) == SPRING_FESTIVAL[year]
    assert solar_to_lunar(SPRING_FESTIVAL[year]) == Lunar(year, 1, 1, False)
    eve = solar_to_lunar(SPRING_FESTIVAL[year] - timedelta(days=1))
    assert (eve.year, eve.month, eve.leap) == (year - 1, 12, False)
    assert eve.day in (29, 30)


@pytest.mark.parametrize(
    ("year", "month"), [(2020, 4), (2023, 2), (2025, 6), (2033, 11), (2024, None), (2026, None)]
)
def test_leap_months(year: int, month: int | None) -> None:
    assert leap_month(year) == month


def test_2033_has_a_leap_eleventh_month_not_a_leap_seventh() -> None:
    # Published: 2033 闰十一月 from 2033-12-22; lunar 2034 starts 2034-02-19.
    assert lunar_to_solar(2033, 11, 1, leap=True) == D(2033, 12, 22)
    assert solar_to_lunar(D(2033, 12, 22)) == Lunar(2033, 11, 1, True)
    assert solar_to_lunar(D(2033, 12, 22)).zh == "农历二〇三三年闰十一月初一"
    assert lunar_to_solar(2033, 11, 1) == D(2033, 11, 22)
    assert lunar_to_solar(2033, 12, 1) == D(2034, 1, 20)
    assert lunar_to_solar(2034, 1, 1) == D(2034, 2, 19)
    with pytest.raises(ValueError, match="its leap month is 11"):
        lunar_to_solar(2033, 7, 1, leap=True)


def test_2033_winter_solstice_falls_in_the_ordinary_eleventh_month() -> None:
    # The defining rule: the month holding the winter solstice is the 11th.
    # The old tables' error was to put the solstice in the 10th month.
    solstice = cal._sun_reaches(270.0, datetime(2033, 12, 21, tzinfo=UTC)).astimezone(cal.BEIJING)
    assert solstice.date() == D(2033, 12, 21)
    assert solar_to_lunar(solstice.date()) == Lunar(2033, 11, 30, False)


@pytest.mark.parametrize(
    ("solar", "lunar"),
    [
        (D(2020, 5, 23), Lunar(2020, 4, 1, True)),
        (D(2020, 6, 6), Lunar(2020, 4, 15, True)),
        (D(2023, 3, 22), Lunar(2023, 2, 1, True)),
        (D(2025, 7, 25), Lunar(2025, 6, 1, True)),
        (D(2025, 7, 24), Lunar(2025, 6, 30, False)),
        (D(2025, 10, 6), Lunar(2025, 8, 15, False)),
        (D(2025, 1, 28), Lunar(2024, 12, 29, False)),
    ],
)
def test_solar_to_lunar_and_back(solar: date, lunar: Lunar) -> None:
    assert solar_to_lunar(solar) == lunar
    assert lunar_to_solar(lunar.year, lunar.month, lunar.day, lunar.leap) == solar


@given(st.dates(min_value=D(1900, 1, 31), max_value=D(2100, 2, 8)))
def test_round_trip(d: date) -> None:
    lunar = solar_to_lunar(d)
    assert lunar_to_solar(lunar.year, lunar.month, lunar.day, lunar.leap) == d
    assert 1 <= lunar.day <= lunar_month_days(lunar.year, lunar.month, lunar.leap)


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        ((2024, 12, 30), "lunar 2024 month 12 has 29 days, so day 30 does not exist"),
        ((2023, 3, 30), "lunar 2023 month 3 has 29 days"),
        ((2024, 6, 1, True), r"lunar year 2024 has no leap month 6 \(it has no leap month\)"),
        ((2023, 3, 1, True), r"lunar year 2023 has no leap month 3 \(its leap month is 2\)"),
        ((2025, 13, 1), "lunar month must be 1-12, got 13"),
        ((2025, 1, 0), "lunar day must be 1-30, got 0"),
        ((2025, 1, 31), "lunar day must be 1-30, got 31"),
        ((2100, 1, 1), "outside the supported range 1900-2099"),
        ((1899, 1, 1), "outside the supported range 1900-2099"),
    ],
)
def test_lunar_to_solar_says_why_a_day_does_not_exist(args: tuple, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        lunar_to_solar(*args)


def test_solar_to_lunar_out_of_range() -> None:
    with pytest.raises(ValueError, match="outside the supported range"):
        solar_to_lunar(D(1900, 1, 30))
    with pytest.raises(ValueError, match="outside the supported range"):
        solar_to_lunar(D(2100, 2, 9))


def test_lunar_zh() -> None:
    assert Lunar(2025, 1, 1).zh == "农历二〇二五年正月初一"
    assert Lunar(2024, 12, 29).zh == "农历二〇二四年十二月廿九"
    assert Lunar(2025, 8, 15).zh == "农历二〇二五年八月十五"
    assert Lunar(2025, 6, 30).zh == "农历二〇二五年六月三十"
    assert Lunar(2025, 6, 20, True).zh == "农历二〇二五年闰六月二十"
    assert Lunar(2025, 6, 10).zh == "农历二〇二五年六月初十"


# ---------------------------------------------------------------------------
# Birthdays
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("year", "month", "day", "expected"),
    [
        (2025, 2, 29, D(2025, 2, 28)),  # common year: last day of February
        (2100, 2, 29, D(2100, 2, 28)),  # 2100 is not a leap year
        (2024, 2, 29, D(2024, 2, 29)),
        (2000, 2, 29, D(2000, 2, 29)),
        (2025, 3, 1, D(2025, 3, 1)),
        (2025, 12, 31, D(2025, 12, 31)),
    ],
)
def test_solar_birthday(year: int, month: int, day: int, expected: date) -> None:
    assert solar_birthday_in(year, month, day) == expected


def test_solar_birthday_rejects_impossible_dates() -> None:
    with pytest.raises(ValueError):
        solar_birthday_in(2025, 2, 30)


@pytest.mark.parametrize(
    ("year", "lmonth", "lday", "leap", "expected"),
    [
        # Usual case: lunar 8/15 of lunar 2025.
        (2025, 8, 15, False, D(2025, 10, 6)),
        # The 30th in a 29-day month: 12th month of lunar 2024 has 29 days.
        (2025, 12, 30, False, D(2025, 1, 28)),
        # ... and in a 30-day month: 6th month of lunar 2025 has 30 days.
        (2025, 6, 30, False, D(2025, 7, 24)),
        (2024, 6, 30, False, D(2024, 8, 3)),  # lunar 2024 6th month: 29 days
        # Born 2020 闰四月十五: greeted on the ordinary 4/15.
        (2025, 4, 15, True, D(2025, 5, 12)),
        (2020, 4, 15, True, D(2020, 5, 7)),  # not on 2020-06-06 (闰四月十五)
        # Born 2017 闰六月三十 (a 30-day leap month): ordinary 6th month,
        # 30th rule applies; in 2025 the leap 6th recurs and is NOT used.
        (2025, 6, 30, True, D(2025, 7, 24)),
        (2024, 6, 30, True, D(2024, 8, 3)),
        # 2033 leap 11th month birth, greeted in the ordinary 11th month.
        (2033, 11, 1, True, D(2033, 11, 22)),
    ],
)
def test_lunar_birthday_in(year: int, lmonth: int, lday: int, leap: bool, expected: date) -> None:
    assert lunar_birthday_in(year, lmonth, lday, leap) == expected


def test_leap_month_birth_is_greeted_once_a_year_even_when_the_leap_month_recurs() -> None:
    # 2025 has a leap 6th month (2025-07-25..2025-08-22); a 闰六月 birth is
    # greeted only in the ordinary 6th month.
    got = lunar_birthdays_between(D(2025, 1, 1), D(2025, 12, 31), 6, 10, leap=True)
    assert got == [lunar_to_solar(2025, 6, 10)] == [D(2025, 7, 4)]


def test_twelfth_month_birthday_twice_and_never_in_a_solar_year() -> None:
    # Lunar 12/1: 2024-01-11 (lunar 2023) and 2024-12-31 (lunar 2024);
    # lunar 2025's 12/1 is 2026-01-19, so none falls in 2025.
    assert lunar_birthdays_between(D(2024, 1, 1), D(2024, 12, 31), 12, 1) == [
        D(2024, 1, 11),
        D(2024, 12, 31),
    ]
    assert lunar_birthday_in(2024, 12, 1) == D(2024, 12, 31)
    assert lunar_birthdays_between(D(2025, 1, 1), D(2025, 12, 31), 12, 1) == []
    assert lunar_birthday_in(2025, 12, 1) is None
    assert lunar_birthday_in(2026, 12, 1) == D(2026, 1, 19)


def test_lunar_birthdays_between_is_inclusive_and_spans_years() -> None:
    assert lunar_birthdays_between(D(2025, 10, 6), D(2025, 10, 6), 8, 15) == [D(2025, 10, 6)]
    assert lunar_birthdays_between(D(2025, 10, 7), D(2026, 9, 24), 8, 15) == []
    assert lunar_birthdays_between(D(2024, 1, 1), D(2026, 12, 31), 8, 15) == [
        D(2024, 9, 17),
        D(2025, 10, 6),
        D(2026, 9, 25),
    ]
    assert lunar_birthdays_between(D(2026, 1, 1), D(2025, 1, 1), 8, 15) == []


@pytest.mark.parametrize(("lmonth", "lday"), [(0, 1), (13, 1), (1, 0), (1, 31)])
def test_lunar_birthday_rejects_impossible_births(lmonth: int, lday: int) -> None:
    with pytest.raises(ValueError):
        lunar_birthday_in(2025, lmonth, lday)


@given(
    st.integers(1901, 2098),
    st.integers(1, 12),
    st.integers(1, 30),
    st.booleans(),
)
def test_lunar_birthday_properties(year: int, lmonth: int, lday: int, leap: bool) -> None:
    found = lunar_birthdays_between(D(year, 1, 1), D(year, 12, 31), lmonth, lday, leap)
    assert len(found) <= 2
    for d in found:
        lunar = solar_to_lunar(d)
        assert (lunar.month, lunar.leap) == (lmonth, False)
        assert lunar.day == min(lday, lunar_month_days(lunar.year, lmonth))
    assert lunar_birthday_in(year, lmonth, lday, leap) == (found[-1] if found else None)


# ---------------------------------------------------------------------------
# Greeting holidays
# ---------------------------------------------------------------------------


# Mother's Day (2nd Sunday of May) and Father's Day (3rd Sunday of June), 2016-2030, from
# the printed calendars: the day of the month.
MOTHERS_DAY = dict(zip(range(2016, 2031), (8, 14, 13, 12, 10, 9, 8, 14, 12, 11, 10, 9, 14, 13, 12)))
FATHERS_DAY = dict(zip(range(2016, 2031), (19, 18, 17, 16, 21, 20, 19, 18, 16, 15, 21, 20, 18, 17,
                                           16)))


@pytest.mark.parametrize("year", range(2016, 2031))
def test_greeting_holidays_against_published_calendars(year: int) -> None:
    got = {h.key: h.date for h in greeting_holidays(year)}
    assert got == {
        "new_year": D(year, 1, 1),
        "spring_festival": SPRING_FESTIVAL[year],
        "qingming": QINGMING[year],
        "may_day": D(year, 5, 1),
        "mothers_day": D(year, 5, MOTHERS_DAY[year]),
        "fathers_day": D(year, 6, FATHERS_DAY[year]),
        "dragon_boat": DRAGON_BOAT[year],
        "mid_autumn": MID_AUTUMN[year],
        "teachers_day": D(year, 9, 10),
        "national_day": D(year, 10, 1),
    }


@pytest.mark.parametrize(
    ("year", "mothers", "fathers"),
    [
        (2024, D(2024, 5, 12), D(2024, 6, 16)),
        (2025, D(2025, 5, 11), D(2025, 6, 15)),
        (2026, D(2026, 5, 10), D(2026, 6, 21)),
        (2028, D(2028, 5, 14), D(2028, 6, 18)),
    ],
)
def test_mothers_and_fathers_day(year: int, mothers: date, fathers: date) -> None:
    got = {h.key: h.date for h in greeting_holidays(year)}
    assert (got["mothers_day"], got["fathers_day"]) == (mothers, fathers)


def test_greeting_holidays_shape() -> None:
    holidays = greeting_holidays(2025)
    assert holidays == sorted(holidays, key=lambda h: h.date)
    assert holidays[0] == Holiday(D(2025, 1, 1), "new_year", "元旦", "New Year's Day")
    by_key = {h.key: h for h in holidays}
    assert by_key["mid_autumn"].name_zh == "中秋节"
    assert by_key["qingming"].name_en == "Qingming Festival"
    assert len(holidays) == 10
    with pytest.raises(ValueError):
        greeting_holidays(2100)


def _in_official_block(d: date, *names: chinese_calendar.Holiday) -> bool:
    # The package lists the weekdays of each holiday block (not always its
    # weekend days), so check that d lies within the block's first..last day.
    values = {n.value for n in names}
    days = [x for x, name in chinese_calendar.holidays.items() if name in values]
    before = [x for x in days if timedelta(0) <= d - x < timedelta(days=9)]
    after = [x for x in days if timedelta(0) <= x - d < timedelta(days=9)]
    return bool(before and after) and (max(after) - min(before)).days < 10


@pytest.mark.parametrize("year", range(2008, 2027))
def test_lunar_holidays_lie_in_the_official_holidays(year: int) -> None:
    # An independent published source: the State Council notices as encoded by
    # chinese_calendar (Qingming, Dragon Boat and Mid-Autumn are official since 2008).
    h = chinese_calendar.Holiday
    got = {x.key: x.date for x in greeting_holidays(year)}
    assert _in_official_block(got["spring_festival"], h.spring_festival)
    assert _in_official_block(got["qingming"], h.tomb_sweeping_day)
    assert _in_official_block(got["dragon_boat"], h.dragon_boat_festival)
    # Mid-Autumn merges into the National Day block in some years (2020: Oct 1).
    assert _in_official_block(got["mid_autumn"], h.mid_autumn_festival, h.national_day)
    assert _in_official_block(got["new_year"], h.new_years_day)
    assert _in_official_block(got["national_day"], h.national_day)


def test_qingming_agrees_with_the_shouxing_formula_1900_2100() -> None:
    # chinese_calendar's solar terms come from an empirical formula (寿星通式),
    # an independent method; the astronomical computation agrees every year,
    # including the near-midnight ones (2009 23:33, 2042 23:40, 2071 00:10).
    # 1900-2100 is every year a date the product accepts (limits.DAY_MIN/DAY_MAX),
    # so this covers every Qingming day the product can ever use.
    for year in range(1900, 2100):
        terms = chinese_calendar.get_solar_terms(D(year, 4, 1), D(year, 4, 30))
        (formula,) = [d for d, name in terms if name == "清明"]
        assert qingming(year) == formula, year
    # 2100: the package takes Y = year % 100 = 0 with the 21st century's C = 4.81 and
    # L = Y // 4 = 0, i.e. it treats 2100 like 2000 and says April 4. Counted from 2000 as
    # for every other year of the century, Y = 100 and L = the 24 leap days 2004-2096
    # (2100 itself is a common year): [100 * 0.2422 + 4.81] - 24 = 29 - 24 = 5, April 5.
    assert qingming(2100) == D(2100, 4, 5)


@pytest.mark.parametrize(
    "published",
    [
        # Published moments of 清明 (Beijing time), to the minute.
        datetime(2019, 4, 5, 9, 51),
        datetime(2020, 4, 4, 15, 38),
        datetime(2024, 4, 4, 15, 2),
        datetime(2025, 4, 4, 20, 48),
        datetime(2026, 4, 5, 2, 40),
    ],
)
def test_qingming_moment_within_minutes_of_published(published: datetime) -> None:
    got = qingming_moment(published.year)
    assert got.utcoffset() == timedelta(hours=8)
    # The low-precision solar position is good to a few minutes.
    assert abs(got.replace(tzinfo=None) - published) < timedelta(minutes=6)


# ---------------------------------------------------------------------------
# Working days
# ---------------------------------------------------------------------------

# 国办发明电〔2023〕7号 (the 2024 schedule), days off and the weekends worked in exchange.
OFF_2024 = [
    D(2024, 1, 1),
    *(D(2024, 2, 10) + timedelta(days=i) for i in range(8)),  # 2-10 .. 2-17
    D(2024, 4, 4),
    D(2024, 4, 5),
    D(2024, 4, 6),
    *(D(2024, 5, i) for i in range(1, 6)),
    D(2024, 6, 8),
    D(2024, 6, 9),
    D(2024, 6, 10),
    D(2024, 9, 15),
    D(2024, 9, 16),
    D(2024, 9, 17),
    *(D(2024, 10, i) for i in range(1, 8)),
]
WORKED_WEEKENDS_2024 = [
    D(2024, 2, 4),
    D(2024, 2, 18),
    D(2024, 4, 7),
    D(2024, 4, 28),
    D(2024, 5, 11),
    D(2024, 9, 14),
    D(2024, 9, 29),
    D(2024, 10, 12),
]
OFF_2025 = [
    D(2025, 1, 1),
    *(D(2025, 1, 28) + timedelta(days=i) for i in range(8)),  # 1-28 .. 2-4
    D(2025, 4, 4),
    D(2025, 4, 5),
    D(2025, 4, 6),
    *(D(2025, 5, i) for i in range(1, 6)),
    D(2025, 5, 31),
    D(2025, 6, 1),
    D(2025, 6, 2),
    *(D(2025, 10, i) for i in range(1, 9)),
]
WORKED_WEEKENDS_2025 = [
    D(2025, 1, 26),
    D(2025, 2, 8),
    D(2025, 4, 27),
    D(2025, 9, 28),
    D(2025, 10, 11),
]
OFF_2026 = [
    D(2026, 1, 1),
    D(2026, 1, 2),
    D(2026, 1, 3),
    *(D(2026, 2, 15) + timedelta(days=i) for i in range(9)),  # 2-15 .. 2-23
    D(2026, 4, 4),
    D(2026, 4, 5),
    D(2026, 4, 6),
    *(D(2026, 5, i) for i in range(1, 6)),
    D(2026, 6, 19),
    D(2026, 6, 20),
    D(2026, 6, 21),
    D(2026, 9, 25),
    D(2026, 9, 26),
    D(2026, 9, 27),
    *(D(2026, 10, i) for i in range(1, 8)),
]
WORKED_WEEKENDS_2026 = [
    D(2026, 1, 4),
    D(2026, 2, 14),
    D(2026, 2, 28),
    D(2026, 5, 9),
    D(2026, 9, 20),
    D(2026, 10, 10),
]


@pytest.mark.parametrize(
    ("year", "off", "worked", "working_days"),
    [
        (2024, OFF_2024, WORKED_WEEKENDS_2024, 251),
        (2025, OFF_2025, WORKED_WEEKENDS_2025, 248),
        (2026, OFF_2026, WORKED_WEEKENDS_2026, 248),
    ],
)
def test_official_year(year: int, off: list[date], worked: list[date], working_days: int) -> None:
    wc = WorkCalendar()
    assert wc.covered(year)
    for d in off:
        assert not wc.is_working_day(d), d
    for d in worked:
        assert d.weekday() >= 5 and wc.is_working_day(d), d
    days = [D(year, 1, 1) + timedelta(days=i) for i in range((D(year + 1, 1, 1) - D(year, 1, 1)).days)]
    expected = {d for d in days if d.weekday() < 5} - set(off) | set(worked)
    assert {d for d in days if wc.is_working_day(d)} == expected
    assert len(expected) == working_days


def test_the_package_table_is_used_only_for_the_years_it_covers() -> None:
    # What the product adds to the package it wraps, checked against facts stated here
    # rather than against the package: a covered year follows its notice (above); a year
    # the package does not know follows the stated fallback rule (below), with a warning.
    wc = WorkCalendar()
    assert wc.covered(2024) and wc.covered(2026)
    assert not wc.covered(2035)
    assert not wc.is_working_day(D(2024, 6, 10))  # 端午 2024 on a Monday: off by the notice
    assert wc.is_working_day(D(2024, 6, 11))      # the Tuesday after: an ordinary workday


def test_next_and_add_working_days() -> None:
    wc = WorkCalendar()
    assert wc.next_working_day(D(2025, 9, 30)) == D(2025, 10, 9)
    assert wc.next_working_day(D(2025, 1, 24)) == D(2025, 1, 26)  # swapped Sunday
    assert wc.next_working_day(D(2025, 3, 14)) == D(2025, 3, 17)  # plain weekend
    assert wc.next_working_day(D(2025, 3, 11)) == D(2025, 3, 12)  # strictly after
    assert wc.add_working_days(D(2025, 9, 26), 1) == D(2025, 9, 28)
    assert wc.add_working_days(D(2025, 9, 26), 3) == D(2025, 9, 30)
    assert wc.add_working_days(D(2025, 9, 26), 4) == D(2025, 10, 9)
    assert wc.add_working_days(D(2025, 10, 4), 0) == D(2025, 10, 4)
    assert wc.add_working_days(D(2025, 10, 9), -1) == D(2025, 9, 30)
    assert wc.add_working_days(D(2025, 10, 9), -2) == D(2025, 9, 29)
    assert wc.add_working_days(datetime(2025, 9, 30, 16), 1) == D(2025, 10, 9)


def test_days_off_after() -> None:
    wc = WorkCalendar()
    assert wc.days_off_after(D(2025, 9, 30)) == [D(2025, 10, i) for i in range(1, 9)]
    assert wc.days_off_after(D(2025, 3, 14)) == [D(2025, 3, 15), D(2025, 3, 16)]
    assert wc.days_off_after(D(2025, 1, 24)) == [D(2025, 1, 25)]  # Sunday 26th is worked
    assert wc.days_off_after(D(2025, 1, 27)) == [
        D(2025, 1, 28) + timedelta(days=i) for i in range(8)
    ]
    assert wc.days_off_after(D(2025, 3, 12)) == []
    assert wc.days_off_after(D(2025, 3, 15)) == [D(2025, 3, 16)]


def test_working_day_hours() -> None:
    assert working_day_hours() == 7.5
    assert working_day_hours(lunch=None) == 9.0
    assert working_day_hours(time(8, 30), time(17, 30), (time(12, 0), time(13, 0))) == 8.0
    with pytest.raises(ValueError):
        working_day_hours(time(18), time(9))
    with pytest.raises(ValueError):
        working_day_hours(lunch=(time(13), time(12)))
    with pytest.raises(ValueError):
        working_day_hours(lunch=(time(8), time(9)))


HALF_DAY = working_day_hours() / 2  # "to the GM within half a working day"
ONE_DAY = working_day_hours()  # "reply within one working day"


@pytest.mark.parametrize(
    ("start", "hours", "deadline"),
    [
        # Across National Day: 2 h on Sep 30, Oct 1-8 off, 2.5 h on Oct 9.
        (datetime(2025, 9, 30, 16), 4.5, datetime(2025, 10, 9, 11, 30)),
        (datetime(2025, 9, 30, 16), ONE_DAY, datetime(2025, 10, 9, 16, 0)),
        # Across a weekend: 1 h on Friday, 2.75 h on Monday.
        (datetime(2025, 3, 14, 17), HALF_DAY, datetime(2025, 3, 17, 11, 45)),
        # Across a swapped working weekend: Sat 27th off, Sun 28th worked.
        (datetime(2025, 9, 26, 17), ONE_DAY, datetime(2025, 9, 28, 17, 0)),
        (datetime(2025, 1, 24, 17), HALF_DAY, datetime(2025, 1, 26, 11, 45)),
        # Same morning, across lunch.
        (datetime(2025, 3, 12, 10), HALF_DAY, datetime(2025, 3, 12, 15, 15)),
        (datetime(2025, 3, 12, 9), 3, datetime(2025, 3, 12, 12, 0)),
        (datetime(2025, 3, 12, 9), ONE_DAY, datetime(2025, 3, 12, 18, 0)),
        (datetime(2025, 3, 12, 9), ONE_DAY * 2, datetime(2025, 3, 13, 18, 0)),
        # Starts outside opening hours count from the next opening.
        (datetime(2025, 3, 12, 7, 15), 1, datetime(2025, 3, 12, 10, 0)),
        (datetime(2025, 3, 12, 12, 30), 1, datetime(2025, 3, 12, 14, 30)),
        (datetime(2025, 3, 12, 18, 0), 1, datetime(2025, 3, 13, 10, 0)),
        (datetime(2025, 3, 12, 22, 0), 1, datetime(2025, 3, 13, 10, 0)),
        (datetime(2025, 3, 15, 10, 0), 1, datetime(2025, 3, 17, 10, 0)),
        (datetime(2025, 10, 3, 10, 0), 1, datetime(2025, 10, 9, 10, 0)),
        # Zero hours: the start itself.
        (datetime(2025, 3, 15, 10, 0), 0, datetime(2025, 3, 15, 10, 0)),
    ],
)
def test_add_working_hours(start: datetime, hours: float, deadline: datetime) -> None:
    assert WorkCalendar().add_working_hours(start, hours) == deadline


def test_add_working_hours_options() -> None:
    wc = WorkCalendar()
    start = datetime(2025, 3, 12, 17, 0)
    assert wc.add_working_hours(start, 2, lunch=None) == datetime(2025, 3, 13, 10, 0)
    assert wc.add_working_hours(
        start, 2, day_start=time(8, 30), day_end=time(17, 30), lunch=None
    ) == datetime(2025, 3, 13, 10, 0)
    aware = datetime(2025, 9, 30, 16, tzinfo=cal.BEIJING)
    assert wc.add_working_hours(aware, 4.5) == datetime(2025, 10, 9, 11, 30, tzinfo=cal.BEIJING)
    with pytest.raises(ValueError, match="negative"):
        wc.add_working_hours(start, -1)


def test_extra_dates_override_the_package() -> None:
    wc = WorkCalendar(
        extra_holidays=[D(2025, 1, 26), D(2025, 3, 12)],
        extra_workdays=[D(2025, 10, 8), datetime(2025, 3, 15, 9)],
    )
    assert not wc.is_working_day(D(2025, 1, 26))  # package: swapped working Sunday
    assert not wc.is_working_day(D(2025, 3, 12))  # a plain Wednesday
    assert wc.is_working_day(D(2025, 10, 8))  # package: National Day
    assert wc.is_working_day(D(2025, 3, 15))  # a plain Saturday
    assert wc.is_working_day(D(2025, 1, 27))  # untouched days keep the package value
    assert not wc.is_working_day(D(2025, 10, 7))
    assert wc.next_working_day(D(2025, 9, 30)) == D(2025, 10, 8)


def test_extra_dates_must_not_conflict() -> None:
    with pytest.raises(ValueError, match="2025-03-12"):
        WorkCalendar(extra_holidays=[D(2025, 3, 12)], extra_workdays=[D(2025, 3, 12)])


def test_fallback_for_2027_warns_once_and_follows_the_rule() -> None:
    wc = WorkCalendar()
    assert not wc.covered(2027)
    with pytest.warns(CalendarFallbackWarning, match="2027"):
        assert not wc.is_working_day(D(2027, 1, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no second warning, even from a new calendar
        assert WorkCalendar().is_working_day(D(2027, 1, 4))
        # Spring Festival: Eve (Fri 02-05) and lunar 1/1-1/3 (02-06..02-08).
        assert wc.days_off_after(D(2027, 2, 4)) == [
            D(2027, 2, 5),
            D(2027, 2, 6),
            D(2027, 2, 7),
            D(2027, 2, 8),
        ]
        assert wc.is_working_day(D(2027, 2, 9))
        # Qingming Mon 04-05; May 1-2 fall on the weekend, no substitute day.
        assert not wc.is_working_day(D(2027, 4, 5))
        assert wc.is_working_day(D(2027, 5, 3))
        assert not wc.is_working_day(D(2027, 6, 9))  # Dragon Boat (Wed)
        assert not wc.is_working_day(D(2027, 9, 15))  # Mid-Autumn (Wed)
        assert wc.days_off_after(D(2027, 9, 30)) == [D(2027, 10, 1), D(2027, 10, 2), D(2027, 10, 3)]
        assert wc.is_working_day(D(2027, 10, 4))
        assert not wc.is_working_day(D(2027, 3, 6))  # plain Saturday
    assert sorted(cal.statutory_days_off(2027)) == [
        D(2027, 1, 1),
        D(2027, 2, 5),
        D(2027, 2, 6),
        D(2027, 2, 7),
        D(2027, 2, 8),
        D(2027, 4, 5),
        D(2027, 5, 1),
        D(2027, 5, 2),
        D(2027, 6, 9),
        D(2027, 9, 15),
        D(2027, 10, 1),
        D(2027, 10, 2),
        D(2027, 10, 3),
    ]


def test_fallback_warns_once_per_year() -> None:
    wc = WorkCalendar()
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        wc.is_working_day(D(2028, 1, 3))
        wc.is_working_day(D(2028, 6, 3))
        WorkCalendar().is_working_day(D(2028, 6, 3))
        wc.is_working_day(D(2029, 1, 3))
    messages = [str(w.message) for w in record if w.category is CalendarFallbackWarning]
    assert len(messages) == 2
    assert "for 2028:" in messages[0] and "for 2029:" in messages[1]


def test_fallback_rule_is_a_subset_of_the_official_days_off() -> None:
    # The statutory days the fallback computes are days off in the real
    # 2025 and 2026 schedules (the real ones add bridges and substitutes).
    wc = WorkCalendar()
    for year in (2025, 2026):
        for d in cal.statutory_days_off(year):
            assert not wc.is_working_day(d), d


def test_dealer_dates_for_a_new_year_silence_the_warning() -> None:
    wc = WorkCalendar(extra_holidays=[D(2027, 10, 4)], extra_workdays=[D(2027, 9, 26)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert wc.covered(2027)
        assert not wc.is_working_day(D(2027, 10, 4))
        assert wc.is_working_day(D(2027, 9, 26))  # a Sunday made a working day
        assert not wc.is_working_day(D(2027, 10, 1))  # the rule still applies below
        assert wc.is_working_day(D(2027, 10, 5))


@pytest.mark.parametrize("day", [D(2150, 2, 3), D(2003, 1, 1), D(1899, 6, 1)])
def test_never_crashes_outside_every_table(day: date) -> None:
    wc = WorkCalendar()
    with pytest.warns(CalendarFallbackWarning):
        wc.is_working_day(day)
    assert wc.next_working_day(day) > day
    assert wc.add_working_hours(datetime.combine(day, time(10)), 8) > datetime.combine(
        day, time(10)
    )


def test_is_working_day_is_a_set_lookup_after_the_first_call() -> None:
    wc = WorkCalendar()
    wc.is_working_day(D(2025, 6, 1))
    table = wc._tables[2025]
    assert isinstance(table.days_off, frozenset) and isinstance(table.workdays, frozenset)
    wc.is_working_day(D(2025, 12, 1))
    assert wc._tables[2025] is table


def test_beijing_offset() -> None:
    assert cal.BEIJING.utcoffset(None) == timedelta(hours=8)
    assert datetime(2025, 1, 1, tzinfo=UTC).astimezone(cal.BEIJING).hour == 8
    assert timezone(timedelta(hours=8)).utcoffset(None) == cal.BEIJING.utcoffset(None)
