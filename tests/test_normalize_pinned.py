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


# --------------------------------------------------------------------------
# ID numbers. Check characters computed by ISO 7064 MOD 11-2 by hand-written
# reference (tests/test_normalize.py's reference_id_check): 11010520991231001 -> 0,
# 11010520250230001 -> 0.


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        # 1e16 is the smallest 17-digit number: an ID can only be that long once
        # Excel has rounded away its last digits
        (1e16, "stored as a number by Excel: the last digits are lost"),
        (9999999999999998.0, "wrong length (16 characters, 18 expected)"),
        # a number that is not whole has no ID's digits: refused, not taken as blank
        (4405241980.5, "not an ID number"),
        (float("-inf"), "not an ID number"),
        (True, "not an ID number"),
        (date(1980, 1, 1), "not an ID number"),
        # 15 and 18 characters are the two lengths; the wrong characters are the fault
        ("44052480010100X", "not digits with a final check character 0-9 or X"),
        ("11010519491231X02X", "not digits with a final check character 0-9 or X"),
        ("4405248001010011", "wrong length (16 characters, 18 expected)"),
        ("110105202502300010", "birthday is not a real date: 20250230"),
        ("110105210001010015", "birth year 2100 outside 1880-2099"),
    ],
)
def test_id_number_errors_whole_message(cell, message):
    _refused(nz.parse_id_number, cell, message)


def test_id_birth_year_2099_is_the_last_accepted():
    assert nz.parse_id_number("110105209912310010") == nz.IdInfo(
        "110105209912310010", date(2099, 12, 31), "M")


# --------------------------------------------------------------------------
# Phones. The validity caches are emptied so that phonenumbers is really asked.


@pytest.fixture
def cold_phone_caches(monkeypatch):
    monkeypatch.setattr(nz, "_MOBILE_OK", {})
    monkeypatch.setattr(nz, "_LANDLINE_OK", {})


@pytest.mark.usefixtures("cold_phone_caches")
@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        # '86' and a 10-digit national number (Beijing 010 8765 4321 without its 0)
        ("861087654321", ("01087654321", "landline")),
        # '86' and a landline written with its trunk 0 kept
        ("86075586543210", ("075586543210", "landline")),
        (86075586543210, ("075586543210", "landline")),
    ],
)
def test_country_code_before_a_landline(cell, expected):
    assert nz.parse_phone(cell) == expected


@pytest.mark.usefixtures("cold_phone_caches")
@pytest.mark.parametrize(
    "cell",
    [
        "+86 120 1234 5678",  # 11 digits after +86, but 120 is no mobile range
        "+86 400-810-8888",  # a 400 service number is no landline
        "001087654321",  # a doubled trunk zero
        # digits with separators do not get a lost leading zero back: only a
        # number cell, or a cell of bare digits, lost it to Excel
        "755-8654-3210",
    ],
)
def test_not_a_phone(cell):
    _refused(nz.parse_phone, cell, "not a mobile or landline number")


@pytest.mark.usefixtures("cold_phone_caches")
def test_parse_phones_restores_the_zero_of_bare_digits_only():
    assert nz.parse_phones("75586543210") == [("075586543210", "landline")]
    assert nz.parse_phones("755-8654-3210/13912345678") == [("13912345678", "mobile")]


@pytest.mark.usefixtures("cold_phone_caches")
def test_scan_reads_a_number_of_up_to_15_digits():
    # '0086' + 11 digits is 15 digits, the longest a number can be written; 16 is none
    assert nz.parse_phones("008613812345678/13912345678") == [
        ("13812345678", "mobile"), ("13912345678", "mobile")]
    assert nz.parse_phones("0086138123456789/13912345678") == [("13912345678", "mobile")]


def test_phonenumbers_is_asked_once_per_prefix(monkeypatch):
    # 100,000-row imports: numbers sharing a prefix share one answer.
    monkeypatch.setattr(nz, "_MOBILE_OK", {})
    monkeypatch.setattr(nz, "_LANDLINE_OK", {})
    asked = []
    real = nz._phone_type

    def counting(national):
        asked.append(national)
        return real(national)

    monkeypatch.setattr(nz, "_phone_type", counting)
    assert nz.parse_phone("13812345678") == ("13812345678", "mobile")
    assert nz.parse_phone("13812349999") == ("13812349999", "mobile")
    assert nz.parse_phone("075586543210") == ("075586543210", "landline")
    assert nz.parse_phone("075586549999") == ("075586549999", "landline")
    assert len(asked) == 2


# --------------------------------------------------------------------------
# Service types: a cold cache, so that the words themselves are matched.


@pytest.fixture
def cold_service_cache(monkeypatch):
    monkeypatch.setattr(nz, "_SERVICE_CACHE", {})


@pytest.mark.usefixtures("cold_service_cache")
@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("PM", "maintenance"),
        ("ｂｐ", "bodypaint"),
        ("Maintenance", "maintenance"),
        ("Accident Repair", "accident"),
        ("洗车", "other"),
        ("Car wash", "other"),
    ],
)
def test_service_type_cold(cell, expected):
    assert nz.parse_service_type(cell) == expected


def test_service_type_is_worked_out_once_per_wording(monkeypatch):
    monkeypatch.setattr(nz, "_SERVICE_CACHE", {})
    worked = []
    real = nz._service_key
    monkeypatch.setattr(nz, "_service_key", lambda low: worked.append(low) or real(low))
    assert [nz.parse_service_type(c) for c in ("定期保养", "定期保养", "首保")] == [
        "maintenance", "maintenance", "first_maintenance"]
    assert worked == ["定期保养", "首保"]


def test_service_cache_holds_at_most_4096_wordings(monkeypatch):
    monkeypatch.setattr(nz, "_SERVICE_CACHE", {f"w{i}": "other" for i in range(4095)})
    assert nz.parse_service_type("保养A") == "maintenance"
    assert len(nz._SERVICE_CACHE) == 4096  # the 4096th is kept ...
    assert nz.parse_service_type("保养B") == "maintenance"
    assert len(nz._SERVICE_CACHE) == 4096  # ... the 4097th is not


# --------------------------------------------------------------------------
# Mileage and money


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("12344.5km", 12345),  # half up, not half to even (which gives 12344)
        (0.0, 0),  # a new car
        (0.5, 1),
        (2_000_000.0, 2_000_000),
    ],
)
def test_mileage(cell, expected):
    assert nz.parse_mileage(cell) == expected


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("-5", "negative mileage"),
        (-0.5, "negative mileage"),
        (2_000_001.0, "more than 2,000,000 km"),
        ("约一万公里", "not a mileage"),
        (True, "not a mileage"),
    ],
)
def test_mileage_errors(cell, message):
    _refused(nz.parse_mileage, cell, message)


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("(50", "not an amount"),  # one parenthesis is no accounting negative
        ("50)", "not an amount"),
        ("(-50)", "not an amount"),  # two signs
        ("五十元", "not an amount"),
        # an exponent beyond Decimal's range: refused, not a crash
        ("1E9999999999999999999", "not an amount"),
        ("1E999999999", "not an amount"),
        (float("inf"), "not an amount"),
        (True, "not an amount"),
    ],
)
def test_money_errors(cell, message):
    _refused(nz.parse_money, cell, message)


# --------------------------------------------------------------------------
# The other parsers' messages, whole


@pytest.mark.parametrize(
    ("parser", "cell", "message"),
    [
        (nz.parse_plate, 12345, "not a plate number"),
        (nz.parse_plate, "AB12345", "does not start with a province abbreviation"),
        (nz.parse_plate, "粤BI2345", "contains I or O"),
        (nz.parse_plate, "粤1234567", "not a plate number"),
        (nz.parse_vin, 12345, "not a VIN"),
        (nz.parse_vin, "1M8GDM9AXKP04278O", "contains I, O or Q"),
        (nz.parse_vin, "1M8GDM9AXKP04278*", "contains characters other than letters and digits"),
        (nz.vin_check_digit, "1M8GDM9A", "not 17 characters of A-Z (no I, O, Q) and 0-9"),
        (nz.parse_gender, True, "not a gender"),
        (nz.parse_gender, "x", "not a gender"),
        (nz.parse_gender, 1.5, "not a gender"),  # a number, but no code: not a blank
        (nz.parse_name, "123", "not a name"),
        (nz.parse_usage, "xyz", "unknown vehicle usage"),
    ],
)
def test_error_messages_whole(parser, cell, message):
    _refused(parser, cell, message)


# --------------------------------------------------------------------------
# text, trim


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        (datetime(2025, 3, 5), "2025-03-05"),
        (datetime(2025, 3, 5, 14, 0), "2025-03-05 14:00:00"),
        (datetime(2025, 3, 5, 0, 30), "2025-03-05 00:30:00"),
        (datetime(2025, 3, 5, 0, 0, 30), "2025-03-05 00:00:30"),
        (datetime(2025, 3, 5, 0, 0, 0, 500000), "2025-03-05 00:00:00.500000"),
    ],
)
def test_text_of_a_datetime_keeps_any_time_but_midnight(cell, expected):
    assert nz.text(cell) == expected


def test_trim_keeps_letters_next_to_invisible_marks():
    assert nz.trim("\u200bX5 宝马\u3000") == "X5 宝马"
