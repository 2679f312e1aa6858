"""The mobile-validity cache is keyed by the first 5 digits: neighbours that differ in the
5th digit get their own answer, whatever order they are seen in.

phonenumbers' CN mobile ranges (checked against the installed release): 1740[0-5] are
mobile, 17406 and 1741x are not; 1610x is mobile, 1611x is not.
"""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest

from crmcli import normalize as nz

VALID = ["17400123456", "17405123456", "16100123456"]
INVALID = ["17406123456", "17412345678", "16110123456"]


@pytest.mark.parametrize("first", ["valid", "invalid"])
def test_neighbouring_prefixes_are_told_apart_in_either_order(monkeypatch, first):
    monkeypatch.setattr(nz, "_MOBILE_OK", {})
    order = VALID + INVALID if first == "valid" else INVALID + VALID
    for number in order:
        if number in VALID:
            assert nz.parse_phone(number) == (number, "mobile"), number
        else:
            with pytest.raises(ValueError):
                nz.parse_phone(number)
    assert set(nz._MOBILE_OK) == {"17400", "17405", "16100", "17406", "17412", "16110"}
    assert nz._MOBILE_KEY == 5


# --------------------------------------------------------------------------
# Dates. Every error message is what the import report shows the clerk, so it is
# pinned whole.


def _refused(parser, value, message, **kw):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        parser(value, **kw)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        # day month year
        ("25-Sep-2025", date(2025, 9, 25)),
        ("3 Jun 2025", date(2025, 6, 3)),
        ("25-Sep-2025 14:30", date(2025, 9, 25)),
        # month day, year
        ("Sep 25, 2025", date(2025, 9, 25)),
        ("September 3rd, 2025", date(2025, 9, 3)),
        ("Sept 3, 2025", date(2025, 9, 3)),
        # year month day
        ("2025-Sep-25", date(2025, 9, 25)),
        ("2025 Jun 3", date(2025, 6, 3)),
    ],
)
def test_english_month_names_in_each_order(cell, expected):
    assert nz.parse_date(cell) == expected


def test_english_month_names_obey_min_year_both_sides():
    _refused(nz.parse_date, "31 Dec 1949", "year 1949 outside 1950-2099")
    assert nz.parse_date("1 Jan 1950") == date(1950, 1, 1)
    assert nz.parse_date("3 Jun 1949", min_year=1900) == date(1949, 6, 3)
    _refused(nz.parse_date, "31 Dec 1899", "year 1899 outside 1900-2099", min_year=1900)


def test_english_month_name_errors():
    _refused(nz.parse_date, "30 Feb 2025", "not a real date: 30 Feb 2025")
    _refused(nz.parse_date, "Foo 25, 2025", "not a date")  # a word, but no month's name
    _refused(nz.parse_date, "yesterday", "not a date")


@pytest.mark.parametrize(
    "cell",
    ["1949-06-03", "1949/6/3", "1949年6月3日", "19490603", date(1949, 6, 3),
     datetime(1949, 6, 3, 8, 0)],
)
def test_birthdays_reach_back_to_min_year_in_every_text_form(cell):
    assert nz.parse_date(cell, min_year=1900) == date(1949, 6, 3)
    _refused(nz.parse_date, cell, "year 1949 outside 1950-2099")


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("2025年2月30日", "not a real date: 2025年2月30日"),
        ("20250230", "not a real date: 20250230"),
        ("20250230.0", "not a real date: 20250230.0"),  # a number cell exported as text
        (20250230, "not a real date: 20250230"),
        ("123", "not a date: number 123 is not an Excel date in 1950-2099"),
        (123, "not a date: number 123 is not an Excel date in 1950-2099"),
        # zero and a fraction of a day are numbers too, just not dates in range
        (0, "not a date: number 0 is not an Excel date in 1950-2099"),
        (0.5, "not a date: number 0.5 is not an Excel date in 1950-2099"),
        (-1, "not a date"),
        (True, "not a date"),
    ],
)
def test_date_error_messages_quote_the_cell(cell, message):
    _refused(nz.parse_date, cell, message)


def test_year_range_upper_bound_one_day_either_side():
    assert nz.parse_date("2099-12-31") == date(2099, 12, 31)
    _refused(nz.parse_date, "2100-01-01", "year 2100 outside 1950-2099")


@pytest.mark.parametrize(
    ("number", "message"),
    [
        # 19000101..21991231 is read as yyyymmdd (then the year range applies) ...
        (19000101, "year 1900 outside 1950-2099"),
        (21991231, "year 2199 outside 1950-2099"),
        # ... one past either end it is just a number
        (19000100, "not a date: number 19000100 is not an Excel date in 1950-2099"),
        (21991232, "not a date: number 21991232 is not an Excel date in 1950-2099"),
    ],
)
def test_yyyymmdd_number_range_one_unit_either_side(number, message):
    _refused(nz.parse_date, number, message)


@pytest.mark.parametrize("serial", [59, 60, 61, 62])
def test_serials_around_excels_fake_1900_02_29_are_refused(serial):
    # Excel's serial 60 is the 1900-02-29 that never was; 59 is 1900-02-28 and 61
    # 1900-03-01. All lie before 1950 (serial 18264, 7305 days before 1970-01-01's
    # well-known 25569), so none is a date this program accepts.
    _refused(nz.parse_date, serial, f"not a date: number {serial} is not an Excel date in 1950-2099")


# --------------------------------------------------------------------------
# Lunar birthdays: Chinese numerals for month and day, leap months marked 闰 or L.


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("农历八月二十", "08-20"),  # 二十: digit before 十, nothing after
        ("农历八月二十三", "08-23"),  # 二十三 = 2*10 + 3
        ("农历十一月初九", "11-09"),  # 十一 = 10 + 1
        ("8月十五", "08-15"),  # an Arabic month with a written day
        ("农历 八月 十五", "08-15"),  # spaces typed between the parts
        ("L4-30", "L04-30"),
        ("l4-30", "L04-30"),
        ("闰4月30", "L04-30"),
        # the range 1-12 / 1-30, one unit inside each end
        ("1-1", "01-01"),
        ("正月初一", "01-01"),
        ("12-30", "12-30"),
        ("腊月三十", "12-30"),
    ],
)
def test_lunar_birthday_forms(cell, expected):
    assert nz.parse_lunar_birthday(cell) == expected


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        # one unit outside each end of the month and day ranges
        ("0-5", "lunar month must be 1-12 and day 1-30"),
        ("13-5", "lunar month must be 1-12 and day 1-30"),
        ("8-0", "lunar month must be 1-12 and day 1-30"),
        ("8-31", "lunar month must be 1-12 and day 1-30"),
        ("八月三十一", "lunar month must be 1-12 and day 1-30"),
        # numerals that do not make a number
        ("农历八月二三", "not a lunar month-day"),
        ("腊十月初一", "not a lunar month-day"),  # 腊 is a month's name, not a digit
        # a stray letter is not a leap-month mark
        ("X8-15", "lunar birthday not in a form like 3-5, 闰4月30 or 八月十五"),
        ("八月中秋", "lunar birthday not in a form like 3-5, 闰4月30 or 八月十五"),
    ],
)
def test_lunar_birthday_errors(cell, message):
    _refused(nz.parse_lunar_birthday, cell, message)
