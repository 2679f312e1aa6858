"""Cleaning of single cell values read from dealer DMS exports (Excel or CSV).

Pure functions: no I/O, no clock (``parse_date`` takes ``today``), no state
but caches. A cell arrives as ``str``, ``int``, ``float``, ``bool``,
``datetime.datetime``, ``datetime.date`` or ``None`` (python-calamine, csv,
openpyxl all hand over something of that set). Every parser follows the same
contract:

* a blank cell (``None``, ``''``, whitespace, or one of ``BLANK_MARKERS`` such
  as ``'-'``, ``'/'``, ``'无'``, ``'NULL'``, ``'nan'``) gives ``None``;
* a value it understands gives the normalised value;
* anything else raises ``ValueError`` whose message is a short English reason
  that the import report shows to a clerk ("not a date", "check digit wrong
  (expected 5)"). ``parse_service_type`` is the one exception: an unknown
  order type is ``'other'``, never an error.

They run once per cell of 100,000-row imports, so the common case takes a
fast path (a precompiled regex, a dict lookup) and raises nothing.

Worked examples, one per function:

>>> text(20250101001.0), text('  张\u3000三  '), text('NULL')
('20250101001', '张 三', None)
>>> parse_date('2025年3月5日'), parse_date(45721), parse_date('20250305')
(datetime.date(2025, 3, 5), datetime.date(2025, 3, 5), datetime.date(2025, 3, 5))
>>> parse_date('2027-01-01', today=date(2026, 6, 1))
Traceback (most recent call last):
ValueError: in the future: 2027-01-01
>>> parse_phone('+86 138 1234 5678'), parse_phone(75586543210)
(('13812345678', 'mobile'), ('075586543210', 'landline'))
>>> parse_phones('13812345678/0755-86543210转123')
[('13812345678', 'mobile'), ('075586543210', 'landline')]
>>> parse_plate('粤b·d1234５'), parse_vin('1m8gdm9axkp042788')
('粤BD12345', '1M8GDM9AXKP042788')
>>> parse_vin('1M8GDM9A1KP042788')
Traceback (most recent call last):
ValueError: check digit wrong (expected X)
>>> parse_mileage('1.2万公里'), parse_money('￥1,234.5元'), parse_money('(50.00)')
(12000, 123450, -5000)
>>> parse_id_number('11010519491231002x')
IdInfo(number='11010519491231002X', birthday=datetime.date(1949, 12, 31), gender='F')
>>> mask_id_number('11010519491231002X')
'110105********002X'
>>> parse_gender('先生'), parse_usage('非营运'), guess_usage_from_owner('深圳市XX物流有限公司')
('M', ('private', False), 'commercial')
>>> parse_service_type('首保'), parse_service_type('事故维修'), parse_service_type('洗车')
('first_maintenance', 'accident', 'other')
>>> parse_name('欧阳 娜娜'), surname('欧阳娜娜'), greeting('欧阳娜娜', 'F'), greeting('张三', None)
('欧阳娜娜', '欧阳', '欧阳女士', '张三')
>>> halfwidth('ＡＢＣ１２３　')
'ABC123 '
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from math import isfinite, isnan
from operator import mul

from .names import (  # noqa: F401  (part of this module's interface)
    COMMERCIAL,
    COMPOUND_SURNAMES,
    OFFICIAL,
    greeting,
    guess_usage_from_owner,
    surname,
)

__all__ = [
    "BLANK_MARKERS",
    "IdInfo",
    "greeting",
    "guess_usage_from_owner",
    "halfwidth",
    "mask_id_number",
    "parse_date",
    "parse_gender",
    "parse_id_number",
    "parse_mileage",
    "parse_money",
    "parse_name",
    "parse_phone",
    "parse_phones",
    "parse_plate",
    "parse_service_type",
    "parse_usage",
    "parse_vin",
    "surname",
    "text",
    "vin_check_digit",
]

# --------------------------------------------------------------------------
# Shared helpers

_BLANK_BASE = ("", "-", "--", "/", "—", "——", "－", "／", "无", "null", "nan", "none", "n/a")
#: Cell contents (after stripping) that mean "no value".
BLANK_MARKERS: frozenset[str] = frozenset(
    v for m in _BLANK_BASE for v in (m, m.upper(), m.title())
) | {"NaN"}

# Full-width ASCII U+FF01..U+FF5E sits at a fixed offset from ASCII; U+3000 is
# the ideographic space.
_HALFWIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}
_HALFWIDTH[0x3000] = 0x20


def halfwidth(s: str) -> str:
    """Full-width ASCII (U+FF01..U+FF5E) and U+3000 to their half-width forms.

    >>> halfwidth('粤Ｂ１２３４５，ｏｋ')
    '粤B12345,ok'
    """
    if s.isascii():
        return s
    return s.translate(_HALFWIDTH)


def _strip(s: str) -> str | None:
    """Strip a string cell; None when it is one of the blank markers."""
    s = s.strip()
    return None if s in BLANK_MARKERS else s


def _missing(value: object) -> bool:
    """None, or the NaN that pandas and calamine give for an empty number cell."""
    return value is None or (isinstance(value, float) and isnan(value))


def _whole_float(value: float) -> str | None:
    """'20250101001' for 20250101001.0, None for a fractional or non-finite float."""
    if value.is_integer():
        return str(int(value))
    return None


# --------------------------------------------------------------------------
# text

# Zero-width characters and the BOM that Excel and web forms leave behind;
# str.split() does not treat them as whitespace.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))


def trim(s: str) -> str:
    """A string without the whitespace (tab, NBSP, U+3000 ...) and invisible marks around it.

    >>> trim('\\t440524198001010013 '), trim('\\u200b粤B12345\\u3000')
    ('440524198001010013', '粤B12345')
    """
    s = s.strip()
    if s and not s.isascii():
        s = s.strip("\u200b\u200c\u200d\u2060\ufeff").strip()
    return s


def text(value: object) -> str | None:
    """A cell as clean text: stripped, whitespace runs (NBSP, U+3000 too) made one space.

    Whole floats lose their '.0' (Excel stores order numbers as numbers);
    a datetime becomes '2025-03-05 14:30:00', or '2025-03-05' at midnight;
    a bool becomes '1' / '0', which is what the CSV export of the same
    column holds, so an .xlsx and a .csv import of one file agree.

    >>> text(20250101001.0), text(1.5), text('  a \\xa0  b '), text(True), text('  / ')
    ('20250101001', '1.5', 'a b', '1', None)
    """
    if type(value) is str:
        if not value.isascii():
            value = value.translate(_INVISIBLE)
        s = " ".join(value.split())  # split() knows NBSP and U+3000 as whitespace
        return None if s in BLANK_MARKERS else s
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if isnan(value):  # pandas' and calamine's empty number
            return None
        whole = _whole_float(value)
        return whole if whole is not None else repr(value)
    if isinstance(value, datetime):
        if not (value.hour or value.minute or value.second or value.microsecond):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    return text(str(value))


def texts(values: Iterable) -> list[str | None]:
    """text() of each cell of a column. A cell of ASCII letters and digits only, as
    nearly every order number is, is its own text: it is taken without a call."""
    return [v if type(v) is str and v.isascii() and v.isalnum() and v not in BLANK_MARKERS
            else text(v) for v in values]


# --------------------------------------------------------------------------
# Dates

MIN_YEAR = 1950
MAX_YEAR = 2099

# Excel's 1900 date system counts 1900-02-29, a day that never was, so for
# every serial after 60 the epoch is 1899-12-30. Serials 1..60 fall before
# MIN_YEAR and are rejected, which also disposes of the fake 1900-02-29.
_EXCEL_EPOCH = date(1899, 12, 30).toordinal()
_SERIAL_MIN = date(MIN_YEAR, 1, 1).toordinal() - _EXCEL_EPOCH  # 18264
_SERIAL_MAX = date(MAX_YEAR, 12, 31).toordinal() - _EXCEL_EPOCH  # 73050

_CLOCK = (
    r"(?:上午|下午|中午|晚上|早上|凌晨)?\s*"
    r"(?:(?:[01]?\d|2[0-3]):[0-5]?\d(?::[0-5]?\d(?:\.\d+)?)?"
    r"|(?:[01]?\d|2[0-3])[时点](?:[0-5]?\d分(?:[0-5]?\d秒)?)?)"
    r"(?:\s*[AaPp][Mm])?(?:Z|[+-]\d\d:?\d\d)?"
)
_DATE_RE = re.compile(
    # 2025-03-05, 2025/3/5, 2025.3.5 (one separator throughout), time optional
    rf"(\d{{4}})([-/.])(\d{{1,2}})\2(\d{{1,2}})(?:(?:T|\s+){_CLOCK})?"
    # 2025年3月5日 10时
    rf"|(\d{{4}})\s*年\s*(\d{{1,2}})\s*月\s*(\d{{1,2}})\s*[日号]?(?:(?<=[日号\s])\s*{_CLOCK})?"
    # 20250305
    rf"|(\d{{4}})(\d\d)(\d\d)(?:(?:T|\s+){_CLOCK})?",
    re.ASCII,  # \d is 0-9 only: int() would read any script's digits
)
_NUMBER_RE = re.compile(r"\d+(?:\.\d*)?", re.ASCII)
# English exports: 25-Sep-2025, 3 Jun 2025, Sep 25, 2025, 2025-Sep-25 (a time after it ignored)
_MONTH_NAME_RE = re.compile(
    rf"(\d{{1,2}})[-/. ]*([A-Za-z]{{3,9}})\.?[-/., ]*(\d{{4}})(?:\s+{_CLOCK})?"
    rf"|([A-Za-z]{{3,9}})\.?[-/. ]*(\d{{1,2}})(?:st|nd|rd|th)?[-/., ]+(\d{{4}})(?:\s+{_CLOCK})?"
    rf"|(\d{{4}})[-/. ]*([A-Za-z]{{3,9}})\.?[-/. ]*(\d{{1,2}})(?:\s+{_CLOCK})?",
    re.ASCII,
)


def _month_name_date(s: str, min_year: int) -> date:
    """'25-Sep-2025' -> 2025-09-25: a month written as an English word is unambiguous.

    The month names are python-dateutil's (Jan/January, Sep/Sept/September ...).
    """
    m = _MONTH_NAME_RE.fullmatch(s)
    if m is None:
        raise ValueError("not a date")
    g = m.groups()
    if g[0] is not None:
        day, name, year = g[0], g[1], g[2]
    elif g[3] is not None:
        name, day, year = g[3], g[4], g[5]
    else:
        year, name, day = g[6], g[7], g[8]
    from dateutil.parser import parserinfo  # only a file with English dates pays for it

    month = parserinfo().month(name)
    if not month:
        raise ValueError("not a date")
    return _make_date(int(year), month, int(day), s, min_year)


def _make_date(y: int, m: int, d: int, raw: object, min_year: int = MIN_YEAR) -> date:
    if not min_year <= y <= MAX_YEAR:
        raise ValueError(f"year {y} outside {min_year}-{MAX_YEAR}")
    try:
        return date(y, m, d)
    except ValueError:
        raise ValueError(f"not a real date: {raw}") from None


def _date_from_number(v: float, raw: object) -> date:
    if _SERIAL_MIN <= v < _SERIAL_MAX + 1:
        return date.fromordinal(_EXCEL_EPOCH + int(v))  # the fraction is the time of day
    if 19000101 <= v <= 21991231 and v == int(v):
        # Typed as 20250305 into a number cell: a yyyymmdd date, not a serial.
        n = int(v)
        return _make_date(n // 10000, n // 100 % 100, n % 100, raw)
    raise ValueError(f"not a date: number {raw} is not an Excel date in {MIN_YEAR}-{MAX_YEAR}")


def parse_date(value: object, *, today: date | None = None, min_year: int = MIN_YEAR) -> date | None:
    """A calendar date from a date/datetime, an Excel serial number or text.

    Text forms: '2025-03-05', '2025/3/5', '2025.3.5' (each with an optional
    time such as '14:30' or '14:30:00', ignored), '2025年3月5日' (optionally
    '10时'), '20250305', and with an English month name '25-Sep-2025',
    '3 Jun 2025', 'Sep 25, 2025'. Numbers: Excel serials of the 1900 date system
    between 1950-01-01 and 2099-12-31 (the fraction, a time, is ignored), and
    whole numbers that read as yyyymmdd. Years outside 1950-2099 are refused,
    and with ``today`` so is any later date. Two-digit years and day/month
    orders are ambiguous and refused. Birthdays pass ``min_year=1900``: the
    oldest customers were born before 1950, vehicles and orders were not.

    >>> parse_date('2025/03/05 14:30:00'), parse_date(45721.75), parse_date(20250305)
    (datetime.date(2025, 3, 5), datetime.date(2025, 3, 5), datetime.date(2025, 3, 5))
    >>> parse_date('2025-02-30')
    Traceback (most recent call last):
    ValueError: not a real date: 2025-02-30
    """
    if type(value) is str:
        s = value.strip()
        if s in BLANK_MARKERS:
            return None
        if not s.isascii():
            s = halfwidth(" ".join(s.split()))  # NBSP and U+3000 inside too
        m = _DATE_RE.fullmatch(s)
        if m is not None:
            g = m.groups()
            if g[0] is not None:
                d = _make_date(int(g[0]), int(g[2]), int(g[3]), s, min_year)
            elif g[4] is not None:
                d = _make_date(int(g[4]), int(g[5]), int(g[6]), s, min_year)
            else:
                d = _make_date(int(g[7]), int(g[8]), int(g[9]), s, min_year)
        elif _NUMBER_RE.fullmatch(s):
            d = _date_from_number(float(s), s)
        else:
            d = _month_name_date(s, min_year)
    elif value is None:
        return None
    elif isinstance(value, date):  # datetime included
        d = _make_date(value.year, value.month, value.day, value, min_year)
    elif isinstance(value, float) and isnan(value):
        return None
    elif isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        d = _date_from_number(value, value)
    else:
        raise ValueError("not a date")
    if today is not None and d > today:
        raise ValueError(f"in the future: {d.isoformat()}")
    return d


# --------------------------------------------------------------------------
# Phones

MOBILE = "mobile"
LANDLINE = "landline"
_NOT_A_PHONE = "not a mobile or landline number"

_MOBILE_RE = re.compile(r"1[3-9]\d{9}", re.ASCII)
# Validity by number prefix, filled from phonenumbers on first sight.
# Mobile: key is the first 5 digits; phonenumbers' CN mobile ranges are defined
# on at most the first 5 digits (e.g. 1740[0-5]), so the key is exact, and a
# city's customers share a few hundred keys rather than thousands of 号段.
# Landline (with its leading 0, 11 or 12 digits): key is all but the last 4
# digits; the CN fixed-line patterns constrain only the area code and the
# first local digits of a subscriber number (checked on 800,000 random
# prefixes against phonenumbers itself, and by a property test).
_MOBILE_OK: dict[str, bool] = {}
# phonenumbers 9.0's CN mobile pattern: 1(?:610\d|740[0-5])\d{6}|1(?:[38]\d|4[57]|...)\d{8}.
# A property test checks the cache against phonenumbers itself, so a deeper
# pattern in a later release shows up there.
_MOBILE_KEY = 5
_LANDLINE_OK: dict[str, bool] = {}

# Extensions ('转123', '分机 12', 'ext. 12', '#12') are not part of the number.
_EXTENSION_RE = re.compile(r"(?:转|分机|ext\.?|x|#)\s*\d{1,6}(?!\d)", re.IGNORECASE | re.ASCII)
# Anything but digits and the characters written inside a number separates numbers.
_PHONE_SPLIT_RE = re.compile(r"[^\d \-.()+\u00a0\u2013\u2014]+", re.ASCII)
_DIGITS_RE = re.compile(r"\d+", re.ASCII)
_PLAIN_NUMBER_RE = re.compile(r"(\d+)(?:\.0*)?", re.ASCII)
_MAX_PHONE_DIGITS = 15  # '0086' + 11
_PHONE_SEPARATORS = dict.fromkeys(map(ord, " -.()+\u00a0\u2013\u2014\u3000（）－"))


def _phone_type(national: str) -> int | None:
    """phonenumbers' PhoneNumberType of a CN national number, None if invalid."""
    # phonenumbers takes ~25 ms to import: load it on the first cache miss so
    # that importing this module (and the CLI's --help) stays cheap.
    import phonenumbers

    n = phonenumbers.PhoneNumber(country_code=86, national_number=int(national))
    if not phonenumbers.is_valid_number(n):
        return None
    return phonenumbers.number_type(n)


def _is_mobile(d: str) -> bool:
    """d is 11 digits starting with 1."""
    key = d[:_MOBILE_KEY]
    ok = _MOBILE_OK.get(key)
    if ok is None:
        if not _MOBILE_RE.fullmatch(d):
            return False
        from phonenumbers import PhoneNumberType

        t = _phone_type(key + "0" * (11 - _MOBILE_KEY))
        ok = t in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)
        _MOBILE_OK[key] = ok
    return ok


def _is_landline(d: str) -> bool:
    """d is '0' + area code + subscriber number, 11 or 12 digits."""
    if not (len(d) in (11, 12) and d[0] == "0" and d[1] != "0"):
        return False
    key = d[:-4]
    ok = _LANDLINE_OK.get(key)
    if ok is None:
        from phonenumbers import PhoneNumberType

        t = _phone_type(key[1:] + "0000")
        ok = t in (PhoneNumberType.FIXED_LINE, PhoneNumberType.FIXED_LINE_OR_MOBILE)
        _LANDLINE_OK[key] = ok
    return ok


def _classify(d: str, restore_zero: bool) -> tuple[str, str] | None:
    """(number, kind) for a string of digits, None when it is neither kind."""
    n = len(d)
    if n == 11 and d[0] == "1":
        return (d, MOBILE) if _is_mobile(d) else None
    if d[0] == "0":
        if d.startswith("0086"):
            return _classify_national(d[4:])
        if n == 12 and d[1] == "1" and _is_mobile(d[1:]):
            return d[1:], MOBILE  # a trunk '0' dialled before a mobile
        return (d, LANDLINE) if _is_landline(d) else None
    if d.startswith("86") and n >= 12:
        return _classify_national(d[2:])
    if restore_zero and n in (10, 11) and _is_landline("0" + d):
        return "0" + d, LANDLINE  # Excel stored the landline as a number
    return None


def _classify_national(d: str) -> tuple[str, str] | None:
    """Digits after the +86 country code: a mobile, or a landline without its trunk 0."""
    if len(d) == 11 and d[0] == "1":
        return (d, MOBILE) if _is_mobile(d) else None
    if d[:1] != "0":
        d = "0" + d
    return (d, LANDLINE) if _is_landline(d) else None


def _scan_phones(s: str):
    """Yield every valid number in a cell, in order (generator)."""
    s = _EXTENSION_RE.sub("/", halfwidth(s))
    for chunk in _PHONE_SPLIT_RE.split(s):
        groups = _DIGITS_RE.findall(chunk)
        i = 0
        while i < len(groups):
            # The longest run of digit groups from i that is a valid number:
            # '0755 8654 3210' is one number, '138 1234 5678 139 1234 5678' two.
            found, end, digits = None, i, ""
            for j in range(i, len(groups)):
                digits += groups[j]
                if len(digits) > _MAX_PHONE_DIGITS:
                    break
                hit = _classify(digits, False)
                if hit is not None:
                    found, end = hit, j
            if found is None:
                i += 1
            else:
                yield found
                i = end + 1


def _phone_digits(value: object) -> str | None:
    """The digits of a cell that holds one plain number (int, float, '123.0'), else None."""
    if isinstance(value, int):
        return str(value) if value > 0 else None
    if isinstance(value, float):
        return _whole_float(value) if value > 0 else None
    return None


def parse_phone(value: object) -> tuple[str, str] | None:
    """The first valid number in a cell as (digits, 'mobile' | 'landline').

    A mobile is 11 digits (after dropping +86, 0086 or 86); a landline is
    returned as digits with its leading zero, '075586543210'. Both are
    checked against phonenumbers' list of existing ranges. Spaces, dashes,
    dots and parentheses inside a number and extensions ('转123') are
    dropped. A number cell (or a cell of digits only) that lost a landline's
    leading zero to Excel gets the zero back. Only subscriber numbers count:
    service numbers (95xxx, 400) and landlines without an area code are refused.

    >>> parse_phone(13812345678.0), parse_phone('(0755)86543210'), parse_phone('0086 138-1234-5678')
    (('13812345678', 'mobile'), ('075586543210', 'landline'), ('13812345678', 'mobile'))
    >>> parse_phone('12345678')
    Traceback (most recent call last):
    ValueError: not a mobile or landline number
    """
    if type(value) is str:
        s = value.strip()
        if len(s) == 11 and s.isascii() and s.isdigit():
            if s[0] == "1" and _is_mobile(s):
                return s, MOBILE
        elif s in BLANK_MARKERS:
            return None
        m = _PLAIN_NUMBER_RE.fullmatch(s)
        if m is not None:
            hit = _classify(m.group(1), True)
            if hit is not None:
                return hit
        # One number written with separators ('138-1234-5678'): what the scan
        # below would find first, found without it.
        d = s.translate(_PHONE_SEPARATORS)
        if d.isascii() and d.isdigit() and len(d) <= _MAX_PHONE_DIGITS:
            hit = _classify(d, False)
            if hit is not None:
                return hit
        for hit in _scan_phones(s):
            return hit
        raise ValueError(_NOT_A_PHONE)
    if _missing(value):
        return None
    digits = None if isinstance(value, bool) else _phone_digits(value)
    hit = None if digits is None else _classify(digits, True)
    if hit is None:
        raise ValueError(_NOT_A_PHONE)
    return hit


def parse_phones(value: object) -> list[tuple[str, str]]:
    """Every valid number of a cell, in order, without repeats; [] for a blank cell.

    Unlike ``parse_phone`` this never raises: what is not a number is skipped
    (the caller keeps the raw text when it wants to report it).

    >>> parse_phones('13812345678，0755-8654 3210; 13812345678 / 123')
    [('13812345678', 'mobile'), ('075586543210', 'landline')]
    """
    if type(value) is not str:
        try:
            one = parse_phone(value)
        except ValueError:
            return []
        return [] if one is None else [one]
    s = _strip(value)
    if s is None:
        return []
    m = _PLAIN_NUMBER_RE.fullmatch(s)
    if m is not None:
        hit = _classify(m.group(1), True)
        if hit is not None:
            return [hit]
    found: list[tuple[str, str]] = []
    for hit in _scan_phones(s):
        if hit not in found:
            found.append(hit)
    return found


# --------------------------------------------------------------------------
# Plates

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_PLATE_LETTER = "A-HJ-NP-Z"  # I and O are never used on plates
_PLATE_RE = re.compile(
    rf"[{PROVINCES}][{_PLATE_LETTER}]"
    rf"(?:[{_PLATE_LETTER}0-9]{{4}}[{_PLATE_LETTER}0-9学警挂港澳领试超]"  # 京A12345, 粤Z1234港
    # small new-energy: D/F (and since 2022 A B C E / G H J K once D/F run out)
    rf"|[ABCDEFGHJK][{_PLATE_LETTER}0-9]\d{{4}}"
    rf"|\d{{5}}[DF])",  # large new-energy: 粤B12345D
    re.ASCII,
)
# Separators people type inside a plate, and full-width letters/digits.
_PLATE_TABLE = dict(_HALFWIDTH)
_PLATE_TABLE.update(dict.fromkeys(map(ord, " \u00a0\u3000·•・‧∙.-－．")))


def parse_plate(value: object) -> str | None:
    """A plate number, upper case, without spaces or dots: '粤BD12345'.

    Ordinary plates have 7 characters (province, letter, 5 letters/digits,
    the last may be 学 警 挂 港 澳 领 试 超); new-energy plates have 8 (粤BD12345,
    粤B12345D). Embassy (使), military and temporary plates are refused.

    >>> parse_plate(' 京a·12345 '), parse_plate('粤Ｂ１２３４５Ｄ'), parse_plate('粤Z1234港')
    ('京A12345', '粤B12345D', '粤Z1234港')
    """
    if type(value) is not str:
        if _missing(value):
            return None
        raise ValueError("not a plate number")
    s = value.translate(_PLATE_TABLE).upper()
    if _PLATE_RE.fullmatch(s):
        return s
    if s in BLANK_MARKERS:
        return None
    if s[0] not in PROVINCES:
        raise ValueError("does not start with a province abbreviation")
    if "I" in s or "O" in s:
        raise ValueError("contains I or O")
    if len(s) not in (7, 8):
        raise ValueError(f"wrong length ({len(s)} characters; 7, or 8 for new-energy)")
    raise ValueError("not a plate number")


# --------------------------------------------------------------------------
# VINs

_VIN_VALUES = {str(d): d for d in range(10)}
_VIN_VALUES.update(zip("ABCDEFGH", range(1, 9)))
_VIN_VALUES.update(zip("JKLMN", range(1, 6)))
_VIN_VALUES.update({"P": 7, "R": 9})
_VIN_VALUES.update(zip("STUVWXYZ", range(2, 10)))
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
_VIN_RE = re.compile(r"[A-HJ-NPR-Z0-9]{17}")
_VIN_TABLE = dict(_HALFWIDTH)
_VIN_TABLE.update(dict.fromkeys(map(ord, " \u00a0\u3000-")))


def vin_check_digit(vin17: str) -> str:
    """The ISO 3779 / GB 16735 check digit of a 17-character VIN (its 9th character ignored).

    >>> vin_check_digit('1M8GDM9A_KP042788'.replace('_', '0'))
    'X'
    """
    if not _VIN_RE.fullmatch(vin17[:8] + "0" + vin17[9:]):
        raise ValueError("not 17 characters of A-Z (no I, O, Q) and 0-9")
    return _vin_check(vin17)


def _vin_check(vin17: str) -> str:
    r = sum(map(mul, _VIN_WEIGHTS, map(_VIN_VALUES.__getitem__, vin17))) % 11
    return "X" if r == 10 else str(r)


def parse_vin(value: object) -> str | None:
    """A 17-character VIN, upper case, with a correct check digit at position 9.

    >>> parse_vin(' 1m8gdm9a-xkp042788 ')
    '1M8GDM9AXKP042788'
    """
    if type(value) is not str:
        if _missing(value):
            return None
        raise ValueError("not a VIN")
    s = value.translate(_VIN_TABLE).upper()
    if len(s) != 17 or not _VIN_RE.fullmatch(s):
        if s in BLANK_MARKERS:
            return None
        if len(s) != 17:
            raise ValueError(f"wrong length ({len(s)} characters, 17 expected)")
        if "I" in s or "O" in s or "Q" in s:
            raise ValueError("contains I, O or Q")
        raise ValueError("contains characters other than letters and digits")
    c = _vin_check(s)
    if s[8] != c:
        raise ValueError(f"check digit wrong (expected {c})")
    return s


# --------------------------------------------------------------------------
# Mileage and money

MAX_MILEAGE = 2_000_000
_AMOUNT_RE = re.compile(r"([-+]?)(\d+(?:\.\d*)?|\.\d+)(万)?", re.ASCII)
_MILEAGE_UNIT_RE = re.compile(r"(?:km|公里|千米)$", re.IGNORECASE)
_NUMBER_DROP = dict.fromkeys(map(ord, ", \u00a0\u3000，"))


def _check_mileage(km: int) -> int:
    if km < 0:
        raise ValueError("negative mileage")
    if km > MAX_MILEAGE:
        raise ValueError(f"more than {MAX_MILEAGE:,} km")
    return km


def parse_mileage(value: object) -> int | None:
    """An odometer reading in whole km: 12345, '12,345km', '1.2万公里' (12000).

    Fractions are rounded half up; negative or over 2,000,000 km is refused.

    >>> parse_mileage(12345.0), parse_mileage('12，345 公里'), parse_mileage('1.2万')
    (12345, 12345, 12000)
    """
    if type(value) is str:
        if value.isascii() and value.isdigit():
            return _check_mileage(int(value))
        s = _strip(value)
        if s is None:
            return None
        s = _MILEAGE_UNIT_RE.sub("", halfwidth(s).translate(_NUMBER_DROP))
        m = _AMOUNT_RE.fullmatch(s)
        if m is None:
            raise ValueError("not a mileage")
        km = Decimal(m.group(2)) * (10000 if m.group(3) else 1)
        km = int(km.to_integral_value(ROUND_HALF_UP))
        return _check_mileage(-km if m.group(1) == "-" else km)
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return _check_mileage(value)
    if isinstance(value, float):
        if isnan(value):
            return None
        if value < 0:
            raise ValueError("negative mileage")
        if value > MAX_MILEAGE:
            raise ValueError(f"more than {MAX_MILEAGE:,} km")
        return int(value + 0.5)
    raise ValueError("not a mileage")


_MONEY_RE = re.compile(
    r"([-+]?)(?:[¥￥]|RMB|CNY)?([-+]?)"  # '-¥50' and '¥-50'
    r"((?:\d+(?:\.\d*)?|\.\d+)(?:E[-+]?\d+)?)(万)?(?:元|RMB|CNY)?",
    re.ASCII | re.IGNORECASE,
)


def _fen(number: str, wan: bool) -> int:
    # Decimal rounds half away from zero: 0.005 -> 1 fen, -0.005 -> -1 fen.
    try:
        return int((Decimal(number) * (1_000_000 if wan else 100)).to_integral_value(ROUND_HALF_UP))
    except ArithmeticError:  # InvalidOperation, or Overflow: an exponent beyond Decimal's range
        raise ValueError("not an amount") from None


def parse_money(value: object) -> int | None:
    """An amount in fen (1/100 yuan), exact: '¥1,234.50' -> 123450.

    Strings are read with Decimal, never float. Accepts ¥ ￥ 元 RMB CNY,
    thousands commas, '万' (10,000 yuan), a leading minus or accounting
    parentheses for refunds. A float is read through its repr, so float
    noise does not leak (1234.5600000001 -> 123456). Rounding to the fen is
    half away from zero.

    >>> parse_money(1234.5), parse_money('1.2万'), parse_money('-50'), parse_money(0.1 + 0.2)
    (123450, 1200000, -5000, 30)
    """
    if type(value) is str:
        if value.isascii() and value.isdigit():
            return int(value) * 100
        s = _strip(value)
        if s is None:
            return None
        s = halfwidth(s).translate(_NUMBER_DROP)
        parenthesised = s[:1] == "(" and s[-1:] == ")"  # accounting negative
        if parenthesised:
            s = s[1:-1]
        m = _MONEY_RE.fullmatch(s)
        if m is None:
            raise ValueError("not an amount")
        sign = m.group(1) + m.group(2)
        if len(sign) + parenthesised > 1:
            raise ValueError("not an amount")
        fen = _fen(m.group(3), m.group(4) is not None)
        return -fen if sign == "-" or parenthesised else fen
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value * 100
    if isinstance(value, float):
        if isnan(value):
            return None
        if isfinite(value):
            return _fen(repr(value), False)
    raise ValueError("not an amount")


# --------------------------------------------------------------------------
# Resident ID numbers

ID_MIN_YEAR = 1880  # GB 11643-1999's own example is born 1880-01-01
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_RE = re.compile(r"\d{17}[\dX]|\d{15}", re.ASCII)
_ID_TABLE = dict(_HALFWIDTH)
_ID_TABLE.update(dict.fromkeys(map(ord, " \u00a0\u3000-")))


@dataclass(frozen=True, slots=True)
class IdInfo:
    """A resident ID number (always 18 characters) and what its digits say."""

    number: str
    birthday: date
    gender: str  # 'M' or 'F'


_ID_ZERO = ord("0") * sum(_ID_WEIGHTS)


def _id_check_char(first17: str) -> str:
    # zip() stops at the 17th weight; digits' code points minus ord('0') are their values.
    return _ID_CHECK[(sum(map(mul, _ID_WEIGHTS, first17.encode())) - _ID_ZERO) % 11]


def parse_id_number(value: object) -> IdInfo | None:
    """A PRC resident ID number with the birthday and gender its digits carry.

    18 characters: 17 digits and the ISO 7064 MOD 11-2 check character (0-9
    or X, x accepted); digits 7-14 are the birthday, the 17th is odd for men.
    The old 15-digit form (birthday 19YYMMDD at digits 7-12, no check) is
    upgraded to 18 characters the way GB 11643 defines (insert '19', append
    the check character), so one person has one number whichever form the
    file had. A birthday before 1880 or after 2099 is refused.

    >>> parse_id_number('440524800101001')
    IdInfo(number='440524198001010013', birthday=datetime.date(1980, 1, 1), gender='M')
    >>> parse_id_number('110105194912310021')
    Traceback (most recent call last):
    ValueError: check character wrong (expected X)
    """
    if value is None:
        return None
    if type(value) is str:
        s = value.translate(_ID_TABLE).upper()
    elif isinstance(value, int) and not isinstance(value, bool):
        s = str(value)
    elif isinstance(value, float):
        if isnan(value):
            return None
        if value >= 1e16:
            # Excel keeps 15 significant digits: an 18-digit ID typed into a
            # number cell has lost its last digits and cannot be recovered.
            raise ValueError("stored as a number by Excel: the last digits are lost")
        s = _whole_float(value)
        if s is None:  # 1.5, -inf: a number, but no ID's digits
            raise ValueError("not an ID number")
    else:
        raise ValueError("not an ID number")
    if not _ID_RE.fullmatch(s):
        if s in BLANK_MARKERS:
            return None
        if len(s) not in (15, 18):
            raise ValueError(f"wrong length ({len(s)} characters, 18 expected)")
        raise ValueError("not digits with a final check character 0-9 or X")
    if len(s) == 15:
        s = s[:6] + "19" + s[6:]
        s += _id_check_char(s)
    else:
        c = _id_check_char(s)
        if s[17] != c:
            raise ValueError(f"check character wrong (expected {c})")
    y = int(s[6:10])
    if not ID_MIN_YEAR <= y <= MAX_YEAR:
        raise ValueError(f"birth year {y} outside {ID_MIN_YEAR}-{MAX_YEAR}")
    try:
        birthday = date(y, int(s[10:12]), int(s[12:14]))
    except ValueError:
        raise ValueError(f"birthday is not a real date: {s[6:14]}") from None
    return IdInfo(s, birthday, "M" if int(s[16]) % 2 else "F")


def mask_id_number(n: str) -> str:
    """First 6 and last 4 characters, '*' between; fully masked when 10 or shorter.

    >>> mask_id_number('440524188001010014'), mask_id_number('12345')
    ('440524********0014', '*****')
    """
    if len(n) <= 10:
        return "*" * len(n)
    return n[:6] + "*" * (len(n) - 10) + n[-4:]


# --------------------------------------------------------------------------
# Gender, usage, service type

# fmt: off
_GENDERS = {
    **dict.fromkeys(("男", "男士", "男性", "先生", "m", "male", "man", "mr", "mr.", "1"), "M"),
    **dict.fromkeys(
        ("女", "女士", "女性", "小姐", "太太", "夫人", "f", "female", "woman",
         "mrs", "mrs.", "ms", "ms.", "miss", "2"),
        "F",
    ),
    # GB/T 2261.1 codes 0 (unknown) and 9 (not stated), and the words for them.
    **dict.fromkeys(("0", "9", "未知", "不详", "保密", "未说明", "unknown"), None),
}
# fmt: on


def parse_gender(value: object) -> str | None:
    """'M' or 'F' from 男/女, 先生/女士/小姐, M/F, male/female, or GB/T 2261.1 codes 1/2.

    'unknown', '未知', codes 0 and 9 give None like a blank cell.

    >>> parse_gender('女士'), parse_gender('Male'), parse_gender(2), parse_gender('未知')
    ('F', 'M', 'F', None)
    """
    if type(value) is str:
        s = halfwidth(value).strip().lower()
    elif value is None or isinstance(value, float) and isnan(value):
        return None
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        s = _whole_float(float(value))
        if s is None:  # 1.5: not a code
            raise ValueError("not a gender")
    else:
        raise ValueError("not a gender")
    try:
        return _GENDERS[s]
    except KeyError:
        pass
    if _strip(s) is None:
        return None
    raise ValueError("not a gender")


PRIVATE = "private"
# fmt: off
_USAGE_WORDS = {
    PRIVATE: (
        "私家车", "私家", "私用", "私人", "个人", "非营运", "家用", "营转非", "出租转非",
        "private", "personal", "non-commercial", "non commercial", "family",
    ),
    OFFICIAL: (
        "公务车", "公务", "公司", "单位", "企业", "机关", "警用", "消防", "救护",
        "official", "government", "company", "corporate",
    ),
    COMMERCIAL: (
        "营运车", "营运", "出租车", "出租", "网约车", "租赁", "货运", "客运", "教练",
        "commercial", "taxi", "rental", "ride-hailing", "ride hailing", "freight",
    ),
}
# fmt: on
_USAGE_EXACT = {w: (u, False) for u, words in _USAGE_WORDS.items() for w in words}
# Longest first, so that '非营运' wins over '营运' and '出租转非' over '出租'.
_USAGE_SEARCH = sorted(_USAGE_EXACT.items(), key=lambda kv: -len(kv[0]))


def parse_usage(value: object) -> tuple[str, bool] | None:
    """(usage, False), usage one of 'private', 'official', 'commercial'.

    The flag is ``is_guess``: always False here, where the file states the
    usage; ``guess_usage_from_owner`` supplies guesses. Matching is on the
    whole cell first, then by the longest keyword it contains.

    >>> parse_usage('私家车'), parse_usage('非营运（个人）'), parse_usage('Taxi')
    (('private', False), ('private', False), ('commercial', False))
    """
    s = text(value)
    if s is None:
        return None
    s = halfwidth(s).lower()
    hit = _USAGE_EXACT.get(s)
    if hit is not None:
        return hit
    for word, hit in _USAGE_SEARCH:
        if word in s:
            return hit
    raise ValueError("unknown vehicle usage")


# Most specific category first: '事故维修' is an accident, '钣喷维修' body and
# paint, '保修维修' warranty, '保养+维修' maintenance, '检测维修' a repair.
# Substrings, so '保养' also covers 定期保养, 常规保养 and 例行保养, '维修' 一般维修.
_SERVICE_WORDS = (
    ("first_maintenance", ("首次保养", "首保")),
    ("accident", ("事故", "保险(?!杠)", "理赔", "accident", "insurance")),  # 保险杠: bumper
    ("bodypaint", ("钣金", "钣喷", "喷漆", "板喷", "板金", "body", "paint")),
    ("warranty", ("保修", "索赔", "三包", "质保", "召回", "warranty", "recall")),
    ("maintenance", ("保养", "二保", "一保", "快保", "maintenance")),
    ("repair", ("维修", "机修", "电修", "小修", "大修", "快修", "返修", "repair")),
    ("free_check", ("免检", "检测", "检查", "活动", "check")),
)
_SERVICE_PATTERNS = [(key, re.compile("|".join(words))) for key, words in _SERVICE_WORDS]
# Short codes only match a whole cell: 'pm' inside another word means nothing.
_SERVICE_CODES = {"pm": "maintenance", "bp": "bodypaint"}
_SERVICE_CACHE: dict[str, str] = {}


def parse_service_type(value: object) -> str | None:
    """Repair-order type key: 'first_maintenance', 'maintenance', 'repair',
    'warranty', 'bodypaint', 'accident', 'free_check', or 'other'.

    'first_maintenance' (首保) is a maintenance that also satisfies the
    first-maintenance reminder; a recall (召回) is warranty work. Unknown
    types are 'other', never an error: the raw text is kept by the caller.

    >>> parse_service_type('定期保养'), parse_service_type('钣金喷漆'), parse_service_type('PM')
    ('maintenance', 'bodypaint', 'maintenance')
    """
    s = text(value)
    if s is None:
        return None
    key = _SERVICE_CACHE.get(s)
    if key is None:
        key = _service_key(halfwidth(s).lower())
        if len(_SERVICE_CACHE) < 4096:  # one dealer's vocabulary is small
            _SERVICE_CACHE[s] = key
    return key


def _service_key(low: str) -> str:
    key = _SERVICE_CODES.get(low)
    if key is not None:
        return key
    for key, pattern in _SERVICE_PATTERNS:
        if pattern.search(low):
            return key
    return "other"


# --------------------------------------------------------------------------
# Names

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_SPACE_RE = re.compile(rf"(?<=[{_CJK}·]) (?=[{_CJK}·])")
_MIDDLE_DOT_RE = re.compile(r"\s*[·•・‧∙]\s*")


def parse_name(value: object) -> str | None:
    """A person's or an organisation's name as given, without spaces between Chinese characters.

    Titles are kept ('王先生' stays, the greeting copes); the dots of
    transliterated names become '·'. A cell without any letter is refused.

    >>> parse_name(' 张  三 '), parse_name('阿卜杜拉 • 艾山'), parse_name('John  Smith')
    ('张三', '阿卜杜拉·艾山', 'John Smith')
    """
    s = text(value)
    if s is None or s.isalpha():
        return s
    if not s.isascii():
        s = _MIDDLE_DOT_RE.sub("·", s)
        s = _CJK_SPACE_RE.sub("", s)
    if not any(c.isalpha() for c in s):
        raise ValueError("not a name")
    return s


_CN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
              "十": 10, "廿": 20, "卅": 30}
_CN_MONTHS = {"正": 1, "冬": 11, "腊": 12}


def _cn_number(s: str) -> int:
    """'十五' -> 15, '廿三' -> 23, '初八' -> 8, '三十' -> 30, '12' -> 12."""
    s = s.removeprefix("初")
    if s.isdigit():
        return int(s)
    if not s or any(ch not in _CN_DIGITS for ch in s):
        raise ValueError("not a lunar month-day")
    if len(s) == 1:
        return _CN_DIGITS[s]
    if s[0] in "十廿卅" and len(s) == 2:
        return _CN_DIGITS[s[0]] + _CN_DIGITS[s[1]]
    if s[1] == "十" and len(s) in (2, 3):
        return _CN_DIGITS[s[0]] * 10 + (_CN_DIGITS[s[2]] if len(s) == 3 else 0)
    raise ValueError("not a lunar month-day")


def parse_lunar_birthday(value) -> str | None:
    """A lunar birthday as 'MM-DD', or 'LMM-DD' for a birth in a leap month.

    >>> parse_lunar_birthday('农历八月十五'), parse_lunar_birthday('闰四月初一')
    ('08-15', 'L04-01')
    >>> parse_lunar_birthday('农历1983年腊月廿三'), parse_lunar_birthday('3-5')
    ('12-23', '03-05')

    Accepts '3-5', '03-05', '3月5日', '闰4月30', 'L4-30', and the written forms
    DMS users type: '农历八月十五', '农历1983年正月初八', '腊月廿三', '闰四月初一'.
    The year, when given, is dropped: the birthday recurs by month and day.
    """
    s = text(value)
    if s is None:
        return None
    s = re.sub(r"^(农历|阴历|旧历)", "", s.replace(" ", ""))
    s = re.sub(r"^\d{2,4}年", "", s)
    leap = s.startswith(("闰", "L", "l"))
    s = s.lstrip("闰Ll")
    m = re.fullmatch(r"(\d{1,2})(?:月|-|/|\.)(\d{1,2})日?", s)
    if m:
        month, day = int(m.group(1)), int(m.group(2))
    else:
        m = re.fullmatch(r"([正冬腊一二三四五六七八九十]{1,2}|\d{1,2})月(初?[一二三四五六七八九十廿卅]{1,3}|\d{1,2})日?", s)
        if not m:
            raise ValueError("lunar birthday not in a form like 3-5, 闰4月30 or 八月十五")
        mon = m.group(1)
        month = _CN_MONTHS.get(mon) or _cn_number(mon)
        day = _cn_number(m.group(2))
    if not (1 <= month <= 12 and 1 <= day <= 30):
        raise ValueError("lunar month must be 1-12 and day 1-30")
    return f"{'L' if leap else ''}{month:02d}-{day:02d}"
