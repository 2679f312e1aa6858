"""Rows of a DMS export -> normalised records -> the customer file, one transaction a file.

The data flow of one import::

    file --excel.open_sheets--> raw rows --find_header--> column mapping
         --parse_rows--> ParsedRow (record + problems, or a rejection)
         --Merger (inside BEGIN IMMEDIATE)--> inserts / updates / audit --> ImportResult

Rules (the issue's and DOMAIN.md's "never lose a row"):

* every data row is inserted, updated, unchanged, rejected, or skipped with a
  reason (blank rows are not data; totals rows and repeated headers are skipped
  and counted);
* an order row without an order number or a valid order date (settled date,
  else date in; not in the future) is rejected; an invalid phone, VIN or plate
  is imported and the field flagged;
* the same order number again updates the order; within one file the later row
  wins; a column the file does not carry, or a blank cell, never erases what is
  stored; a rejected row never touches the database;
* the same file again (same checksum, same kind) changes nothing: it is
  recorded and skipped unless ``force``; forced, it is processed and still
  changes nothing because every write is a comparison first;
* a file that cannot be read is refused before the database is touched.
"""

from __future__ import annotations

import functools
import gc
import getpass
import hashlib
import json
import os
import pickle
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from itertools import chain, repeat
from operator import itemgetter
from pathlib import Path

import sqlite_utils

from . import normalize as nz
from .db import write_transaction
from .errors import FileRefused, UsageError
from .excel import MAX_CELL_CHARS, open_sheets
from .facts import FactsFromOrders, note_inserted
from .fields import FIELDS_BY_KIND, alias_table, header_key

HEADER_SCAN_ROWS = 30
TOTALS_WORDS = ("合计", "总计", "小计", "total", "sum")
_TOTALS_FIRST = frozenset(w[0] for w in TOTALS_WORDS)
CHUNK = 500  # SQLite's variable limit is far higher; 500 keeps each IN query quick
MERGE_BATCH = 5000  # rows merged after each load of their stored orders
# An empty table that an import fills with at least this many rows gets its secondary
# indexes built once, after the rows are in (see Merger.bulk_load).
BULK_ROWS = 5000


@dataclass(slots=True)
class Problem:
    row_no: int
    severity: str  # "rejected" | "flagged"
    field: str | None
    column: str | None
    value: str | None
    reason: str
    order_no: str | None = None
    customer_id: int | None = None
    vehicle_id: int | None = None


@dataclass(slots=True)
class ParsedRow:
    row_no: int
    cells: list | None  # kept only for a row with problems (for --rejects)
    # the values of parse_rows' record fields; a dict while _row_rules runs, None once
    # a row without problems is merged
    record: tuple | None
    problems: list[Problem] | tuple  # () for a clean row
    rejected: bool = False
    fp: bytes | None = None  # the row's fingerprint (orders), stored when it merges clean


@dataclass
class ImportResult:
    file: str
    kind: str
    status: str = "done"  # done | same-file | dry-run | refused
    message: str = ""
    import_id: int | None = None
    format: str = ""
    sheet: str = ""
    header_row: int = 0
    checksum: str = ""
    mapping: list[tuple[str, str]] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    flagged: int = 0
    rejected: int = 0
    skipped: int = 0
    superseded: int = 0
    problems: list[Problem] = field(default_factory=list)
    verdicts: list[tuple[int, str]] = field(default_factory=list)
    header: list = field(default_factory=list)
    problem_rows: dict[int, list] = field(default_factory=dict)
    aliases_mark: str = ""
    warnings: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        if self.status == "refused":
            return 2
        return 1 if self.rejected else 0

    def summary(self) -> dict:
        """The result for scripts (--json): counts, mapping, problems; not the raw rows."""
        skip = {"header", "problem_rows", "verdicts", "problems", "mapping", "aliases_mark"}
        d = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in skip}
        d["mapping"] = [{"column": c, "field": f} for c, f in self.mapping]
        d["problems"] = [{k: getattr(p, k) for k in Problem.__slots__} for p in self.problems]
        d["exit_code"] = self.exit_code
        return d


# --------------------------------------------------------------------------- parsing


def find_header(rows: Iterator[tuple[int, list]], aliases: dict[str, str], key_fields: tuple[str, ...]):
    """Find the header among the first rows: the row matching the most known fields.

    Returns (row_no, header cells, {column index: field}, rows consumed after the
    header that were read while looking). DMS exports put a title and an export
    time above the header, so the first row is not assumed.
    """
    seen: list[tuple[int, list]] = []
    best = None
    for row_no, cells in rows:
        seen.append((row_no, cells))
        mapping = _map_columns(cells, aliases)
        fields = set(mapping.values())
        if fields & set(key_fields) and len(fields) >= 2:
            if best is None or len(fields) > len(set(best[2].values())):
                best = (row_no, cells, mapping, len(seen))
        if len(seen) >= HEADER_SCAN_ROWS:
            break
    if best is None:
        return None
    row_no, cells, mapping, used = best
    return row_no, cells, mapping, seen[used:]


def _map_columns(cells: list, aliases: dict[str, str]) -> dict[int, str]:
    mapping: dict[int, str] = {}
    taken: set[str] = set()
    for i, cell in enumerate(cells):
        if not isinstance(cell, str) or not cell:
            continue
        fld = aliases.get(header_key(cell))
        if fld and fld not in taken:
            mapping[i] = fld
            taken.add(fld)
    return mapping


def _is_blank(cells: list) -> bool:
    for c in cells:
        if c is None or c == "":
            continue
        if isinstance(c, str) and not c.strip():
            continue
        return False
    return True


def _is_totals(cells: list) -> bool:
    for c in cells[:4]:
        if isinstance(c, str) and c.strip():
            s = c.strip().lower().replace(" ", "")
            return s.startswith(TOTALS_WORDS)
    return False


# Parsers that need more than the normalize function: each raises ValueError with the reason.
def _p_phone(v):
    r = nz.parse_phone(v)
    return r[0] if r else None


# What a delivery list writes where a new car has no plate yet: not an error, no plate.
NO_PLATE = {"未上牌", "未上", "无牌", "无", "临牌", "临时牌", "新车", "待上牌", "暂无"}


def _p_plate(v):
    if isinstance(v, str) and v.strip() in NO_PLATE:
        return None
    return nz.parse_plate(v)


def _p_usage(v):
    r = nz.parse_usage(v)
    return r[0] if r else None


def _p_phones(v):
    found = nz.parse_phones(v)
    if not found and nz.text(v):
        raise ValueError("not a mobile or landline number")
    return ",".join(p for p, _k in found) or None


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

    Accepts '3-5', '03-05', '3月5日', '闰4月30', 'L4-30', and the written forms
    DMS users type: '农历八月十五', '农历1983年正月初八', '腊月廿三', '闰四月初一'.
    The year, when given, is dropped: the birthday recurs by month and day.
    """
    s = nz.text(value)
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


def _p_birthday(v):
    """The 生日 column holds solar dates, or lunar ones written as '农历八月十五'."""
    if isinstance(v, str) and v.strip().startswith(("农历", "阴历", "旧历", "闰")):
        return ("lunar", parse_lunar_birthday(v))
    try:
        return nz.parse_date(v, min_year=1900)
    except ValueError:
        # '八月十五', '腊月廿三': written in Chinese numerals, a date only the lunar calendar has.
        if isinstance(v, str) and any(ch in "正腊冬初廿十" for ch in v):
            try:
                return ("lunar", parse_lunar_birthday(v))
            except ValueError:
                pass
        raise


DATE_FIELDS = {
    "date_in", "date_settled", "purchase_date", "delivery_date", "birthday",
    "insurance_compulsory_expiry", "insurance_commercial_expiry", "inspection_due",
    "warranty_end", "first_maintenance_date",
}
# Dates that lie ahead by nature: an expiry or a due date is not "in the future" by mistake.
FUTURE_OK = {"insurance_compulsory_expiry", "insurance_commercial_expiry", "inspection_due",
             "warranty_end"}

PARSERS: dict[str, Callable] = {
    "order_no": nz.text, "customer_name": nz.parse_name, "mobile": _p_phone,
    "vin": nz.parse_vin, "plate": _p_plate, "labour": nz.parse_money, "parts": nz.parse_money,
    "total": nz.parse_money, "mileage": nz.parse_mileage, "first_maintenance_km": nz.parse_mileage,
    "service_type": nz.parse_service_type, "gender": nz.parse_gender, "usage": _p_usage,
    "lunar_birthday": parse_lunar_birthday, "other_phones": _p_phones,
    "id_number": nz.parse_id_number, "birthday": _p_birthday,
}

# Keep a flagged VIN or plate in its cleaned form: it still identifies the vehicle
# across imports, and the flag tells the clerk to check it.
KEEP_CLEANED_ON_ERROR = {"vin", "plate"}


class _TooLong(ValueError):
    def __init__(self, value: str):
        super().__init__(f"longer than {MAX_CELL_CHARS} characters; cut")
        self.value = value


# Columns whose values are nearly all different gain nothing from a cache.
UNCACHED = {"order_no", "mileage", "first_maintenance_km", "id_number"}


def _column_parser(fld: str, today: date) -> Callable:
    parser = PARSERS.get(fld)
    if parser is not None:
        return parser
    if fld in DATE_FIELDS:
        limit = None if fld in FUTURE_OK else today

        def parse_day(raw):
            d = nz.parse_date(raw, today=limit)
            return None if d is None else d.isoformat()

        return parse_day

    def parse_text(raw):
        v = nz.text(raw)
        if v is not None and len(v) > MAX_CELL_CHARS:
            raise _TooLong(v[:MAX_CELL_CHARS])
        return v

    return parse_text


def _convert(parse: Callable, fld: str, raw) -> tuple:
    """(field, value, problem reason or None, value as shown, raw text for service types)."""
    reason = shown = None
    try:
        value = parse(raw)
    except _TooLong as exc:
        value, reason, shown = exc.value, str(exc), exc.value[:60] + "…"
    except ValueError as exc:
        reason, shown = str(exc), _shown(raw)
        if fld in KEEP_CLEANED_ON_ERROR:
            value = nz.halfwidth(str(shown)).upper().replace(" ", "").replace("·", "")[:40] or None
        else:
            value = None
    if type(value) is tuple:  # ("lunar", 'MM-DD') from the birthday column
        fld, value = "lunar_birthday", value[1]
    elif type(value) is date:
        value = value.isoformat()
    extra = nz.text(raw) if fld == "service_type" else None
    return fld, value, reason, shown, extra


def alternate_columns(header: list, mapping: dict[int, str], aliases: dict[str, str]
                      ) -> dict[int, list[int]]:
    """Later columns that mean the same field as a mapped one (电话 and 手机 both
    mobile): {mapped column: [other columns]}, read when the mapped cell is blank."""
    first = {f: i for i, f in mapping.items()}
    out: dict[int, list[int]] = {}
    for i, cell in enumerate(header):
        if i in mapping or not isinstance(cell, str):
            continue
        fld = aliases.get(header_key(cell))
        if fld in first:
            out.setdefault(first[fld], []).append(i)
    return out


# Derived fields a record can hold besides the mapped ones (see _convert and _row_rules).
DERIVED_FIELDS = ("service_type_raw", "lunar_birthday", "order_date", "total", "usage_guess")
CHUNK_ROWS = 2048  # rows normalised together, column by column


def record_fields(mapping: dict[int, str]) -> tuple[str, ...]:
    """The fields of a parsed record, in order: a record is a tuple of their values.

    A tuple a row (None where a field is absent) costs a fifth of a dict a row,
    which matters with 100,000 rows held until they are merged.
    """
    names = [mapping[i] for i in sorted(mapping)]
    return tuple(names + [f for f in DERIVED_FIELDS if f not in names])


def record_dict(fields: tuple[str, ...], record: tuple) -> dict:
    """A record as the dict the merge reads (absent fields are None)."""
    return dict(zip(fields, record))


@dataclass(slots=True)
class _Column:
    index: int
    field: str
    name: str
    parse: Callable
    cache: dict | None  # raw -> _convert result, for the slow path too
    plain: dict  # raw -> value, for the raws whose value needs no flag nor another field
    raw_text: dict | None  # service_type only: raw -> the raw text kept beside the type


def parse_rows(
    kind: str,
    rows: Iterable[tuple[int, list]],
    mapping: dict[int, str],
    header: list,
    today: date,
    progress: Callable[[int], None] | None = None,
    alternates: dict[int, list[int]] | None = None,
    sieve: RowSieve | None = None,
) -> tuple[list[ParsedRow], list[tuple[int, str]], int, tuple[str, ...]]:
    """Normalise each data row. Returns (parsed rows, skipped (row, reason), blank
    count, the record fields: each ParsedRow.record is a tuple of their values).

    Each column's parser runs once per distinct cell value (DMS exports repeat
    VINs, names, dates and types row after row); dates come out as ISO text.
    Rows are normalised a chunk at a time, column by column; a row with anything
    to say (a flagged cell, a missing key field) is parsed again on its own by
    the row-by-row rules, so its record and problems are exactly theirs.

    With a ``sieve``, each chunk goes through it first: the rows it holds back
    (unchanged since they were last imported) are not parsed.
    """
    alternates = alternates or {}
    fields = record_fields(mapping)
    columns = [_Column(i, f, str(header[i]).strip(), _column_parser(f, today),
                       None if f in UNCACHED else {}, {}, {} if f == "service_type" else None)
               for i, f in sorted(mapping.items())]
    colnames = {c.field: c.name for c in columns}
    header_keys = {header_key(h) for h in header if isinstance(h, str) and h}
    key_col = next((i for i, f in mapping.items() if f == ("order_no" if kind == "orders" else "vin")), None)
    need = 1 + max([*mapping, *(j for js in alternates.values() for j in js)])
    out: list[ParsedRow] = []
    skipped: list[tuple[int, str]] = []
    blank = 0
    n = 0
    chunk: list[tuple[int, list]] = []
    for row_no, cells in rows:
        n += 1
        if progress and n % 2000 == 0:
            progress(n)
        c0 = cells[0] if cells else None
        if type(c0) is str and c0 and not c0[0].isspace() and c0[0].lower()[:1] not in _TOTALS_FIRST:
            pass  # the usual data row: neither blank nor a totals row, said without a call
        elif _is_blank(cells):
            blank += 1
            continue
        elif _is_totals(cells):
            skipped.append((row_no, "totals row"))
            continue
        if key_col is not None and key_col < len(cells) and isinstance(cells[key_col], str):
            key = cells[key_col]
            # header_key of plain ASCII letters and digits is just their lower case
            if (key.lower() if key.isascii() and key.isalnum() else header_key(key)) in header_keys \
                    and key.strip():
                skipped.append((row_no, "header repeated inside the data"))
                continue
        chunk.append((row_no, cells))
        if len(chunk) == CHUNK_ROWS:
            _parse_sifted(kind, chunk, columns, fields, colnames, alternates, need, out, sieve)
            chunk = []
    if chunk:
        _parse_sifted(kind, chunk, columns, fields, colnames, alternates, need, out, sieve)
    return out, skipped, blank, fields


def _parse_sifted(kind, chunk, columns, fields, colnames, alternates, need, out, sieve) -> None:
    if sieve is None:
        _parse_chunk(kind, chunk, columns, fields, colnames, alternates, need, out)
        return
    chunk, prints = sieve.sift(chunk, columns)
    if not chunk:
        return
    start = len(out)
    _parse_chunk(kind, chunk, columns, fields, colnames, alternates, need, out)
    for pr, fp in zip(out[start:], prints):
        pr.fp = fp


def _parse_chunk(kind: str, chunk: list[tuple[int, list]], columns: list[_Column],
                 fields: tuple[str, ...], colnames: dict[str, str],
                 alternates: dict[int, list[int]], need: int, out: list[ParsedRow]) -> None:
    """Normalise a chunk of rows column by column; append a ParsedRow for each."""
    raw_cols = list(zip(*_padded(chunk, need)))
    nrows = len(chunk)
    slow: set[int] = set()  # rows parsed again one by one
    values: list = [None] * len(fields)
    slot = {f: k for k, f in enumerate(fields)}
    for col in columns:
        raws = raw_cols[col.index]
        if col.index in alternates:  # a blank cell is read from a later column of the same field
            raws = list(raws)
            for k, raw in enumerate(raws):
                if raw is None or raw == "":
                    for j in alternates[col.index]:
                        raw = raw_cols[j][k]
                        if raw is not None and raw != "":
                            raws[k] = raw
                            break
        fld = col.field
        if col.cache is None:
            values[slot[fld]] = _uncached_values(col, raws, slow)
            continue
        if fld in DATE_FIELDS:  # the time of day is not kept; one cache entry a day
            raws = _days(raws)
        plain = col.plain
        odd = _learn(col, raws)
        if odd:
            slow.update(k for k, raw in enumerate(raws) if raw in odd)
        values[slot[fld]] = list(map(plain.get, raws))
        if col.raw_text is not None:
            values[slot["service_type_raw"]] = list(map(col.raw_text.get, raws))
    _fast_rules(kind, values, slot, nrows, slow)
    for k, record in enumerate(zip(*(v if v is not None else repeat(None, nrows)
                                      for v in values))):
        row_no, cells = chunk[k]
        if k in slow:
            out.append(_parse_row(kind, row_no, cells, columns, fields, colnames, alternates))
        else:
            out.append(ParsedRow(row_no, None, record, ()))


def _padded(chunk: list[tuple[int, list]], need: int) -> list[list]:
    """The cells of each row, with None for the columns past a short row's end."""
    return [cells if len(cells) >= need else [*cells, *repeat(None, need - len(cells))]
            for _row_no, cells in chunk]


def _days(raws) -> list:
    """A date column's cells with the time of day dropped: the parse keeps only the day,
    and a day is one cache entry however many times it was stamped."""
    return [raw.date() if type(raw) is datetime else raw for raw in raws]


def _learn(col: _Column, raws) -> set:
    """Parse each distinct cell of a column not parsed before into the column's caches
    (``plain`` takes the cells that need nothing more); return the odd ones, whose
    rows are parsed again one by one (a flag, another field, or no value)."""
    plain, fld = col.plain, col.field
    odd = set()
    for raw in set(raws).difference(plain):
        if raw is None or raw == "":
            plain[raw] = None  # a blank cell: the field is absent
            continue
        res = col.cache.get(raw)
        if res is None:
            res = col.cache[raw] = _convert(col.parse, fld, raw)
        out_fld, value, reason, _shown_value, extra = res
        if reason is None and out_fld == fld:
            plain[raw] = value
            if col.raw_text is not None:
                col.raw_text[raw] = None if value is None else extra
        else:
            odd.add(raw)
    return odd


def _uncached_values(col: _Column, raws, slow: set[int]) -> list:
    """Values of a column whose cells are nearly all different (order numbers, mileage).

    Their parsers return text, an int or an IdInfo, never a date or a tuple, so
    a value that parses needs nothing of _convert; a cell that raises is left
    to the row-by-row parse.
    """
    parse = col.parse
    if parse is nz.text:
        return nz.texts(raws)  # order numbers, nearly all clean already
    try:
        return [None if raw is None or raw == "" else parse(raw) for raw in raws]
    except ValueError:
        pass
    vals = []
    for k, raw in enumerate(raws):
        if raw is None or raw == "":
            vals.append(None)
            continue
        try:
            vals.append(parse(raw))
        except ValueError:
            vals.append(None)
            slow.add(k)
    return vals


def _fast_rules(kind: str, values: list, slot: dict[str, int], nrows: int, slow: set[int]) -> None:
    """_row_rules for a chunk of clean rows; a row it would reject goes to the slow path."""
    def col(f):
        v = values[slot[f]] if f in slot else None
        return v if v is not None else [None] * nrows

    if kind == "orders":
        order_no, settled, date_in = col("order_no"), col("date_settled"), col("date_in")
        order_date = [s or d for s, d in zip(settled, date_in)]
        slow.update(k for k in range(nrows) if not order_no[k] or order_date[k] is None)
        values[slot["order_date"]] = order_date
        labour = values[slot["labour"]] if "labour" in slot else None
        parts = values[slot["parts"]] if "parts" in slot else None
        if labour is not None or parts is not None:
            labour, parts, total = col("labour"), col("parts"), col("total")
            values[slot["total"]] = [
                t if t is not None or (lb is None and pt is None)
                else (0 if lb is None else lb) + (0 if pt is None else pt)
                for t, lb, pt in zip(total, labour, parts)]
        return
    vin, plate = col("vin"), col("plate")
    slow.update(k for k in range(nrows) if not vin[k] and not plate[k])
    names, usage = col("customer_name"), col("usage")
    if "customer_name" in slot and values[slot["customer_name"]] is not None:
        values[slot["usage_guess"]] = [
            (_guess_usage(name) or None) if name and usage_k is None else None
            for name, usage_k in zip(names, usage)]


_USAGE_GUESSES: dict[str, str | None] = {}


def _guess_usage(name: str) -> str | None:
    try:
        return _USAGE_GUESSES[name]
    except KeyError:
        guess = nz.guess_usage_from_owner(name)
        if len(_USAGE_GUESSES) < 100_000:
            _USAGE_GUESSES[name] = guess
        return guess


def _parse_row(kind: str, row_no: int, cells: list, columns: list[_Column],
               fields: tuple[str, ...], colnames: dict[str, str],
               alternates: dict[int, list[int]]) -> ParsedRow:
    """One row, cell by cell: the record, every flagged cell, and the verdict of _row_rules."""
    record: dict = {}
    problems: list[Problem] = []
    ncells = len(cells)
    for col in columns:
        i, fld, parse, cache = col.index, col.field, col.parse, col.cache
        raw = cells[i] if i < ncells else None
        if (raw is None or raw == "") and i in alternates:
            for j in alternates[i]:
                raw = cells[j] if j < ncells else None
                if raw is not None and raw != "":
                    break
        if raw is None or raw == "":
            continue
        if cache is None:
            res = _convert(parse, fld, raw)
        else:
            if type(raw) is datetime and fld in DATE_FIELDS:
                raw = raw.date()  # the time of day is not kept; one cache entry a day
            res = cache.get(raw)
            if res is None:
                res = cache[raw] = _convert(parse, fld, raw)
        out_fld, value, reason, shown, extra = res
        if reason is not None:
            problems.append(Problem(row_no, "flagged", fld, col.name, shown, reason))
        if value is not None:
            record[out_fld] = value
            if extra is not None:
                record["service_type_raw"] = extra
    pr = ParsedRow(row_no, cells if problems else None, record, problems)
    _row_rules(kind, pr, colnames)
    if pr.problems and pr.cells is None:
        pr.cells = cells  # a row rejected for a missing field keeps its cells for --rejects
    pr.record = tuple(map(record.get, fields))
    return pr


def _shown(raw) -> str:
    s = nz.text(raw) if not isinstance(raw, str) else raw
    s = "" if s is None else str(s)
    return s if len(s) <= 200 else s[:200] + "…"


def _row_rules(kind: str, pr: ParsedRow, colnames: dict[str, str]) -> None:
    """Decide rejection: the fields without which a row cannot be stored."""
    rec = pr.record
    flagged = {p.field: p for p in pr.problems}
    if kind == "orders":
        if not rec.get("order_no"):
            _reject(pr, "order_no", "no order number", colnames=colnames)
            return
        if "date_settled" in flagged and "date_settled" not in rec:
            # A settled date that is not a real date makes the row unusable even
            # when a date in exists: which day the work ended is unknown.
            p = flagged["date_settled"]
            _reject(pr, "date_settled", f"order date: {p.reason}", p.value, colnames=colnames)
            return
        order_date = rec.get("date_settled") or rec.get("date_in")
        if order_date is None:
            if "date_in" in flagged:
                p = flagged["date_in"]
                _reject(pr, "date_in", f"order date: {p.reason}", p.value, colnames=colnames)
            else:
                _reject(pr, "date_settled", "no order date", colnames=colnames)
            return
        rec["order_date"] = order_date
        if "total" not in rec and ("labour" in rec or "parts" in rec):
            rec["total"] = rec.get("labour", 0) + rec.get("parts", 0)
    else:
        if not rec.get("vin") and not rec.get("plate"):
            _reject(pr, "vin", "no VIN and no plate: the vehicle cannot be identified", colnames=colnames)
            return
    if rec.get("customer_name") and "usage" not in rec and kind == "vehicles":
        guess = nz.guess_usage_from_owner(rec["customer_name"])
        if guess:
            rec["usage_guess"] = guess


def _reject(pr: ParsedRow, fld: str, reason: str, value: str | None = None,
            colnames: dict[str, str] | None = None) -> None:
    pr.rejected = True
    pr.problems = [p for p in pr.problems if p.field != fld]
    pr.problems.insert(0, Problem(pr.row_no, "rejected", fld, (colnames or {}).get(fld), value, reason))


# --------------------------------------------------------------------------- unchanged rows

# Bump whenever a change to merging could make the same cells give another result:
# every stored fingerprint then stops matching, and each row is processed once more.
# (A digest of the parsing code is part of the key too, so a changed parser never
# trusts the prints of an older one.)
ROW_PRINT_VERSION = 2


@functools.cache
def _parser_mark() -> str:
    """A digest of the code that turns cells into records (this module, normalize,
    fields, excel): a fix to any of it makes every stored row print stale, even when
    the release number stays the same."""
    digest = hashlib.blake2b(digest_size=16)
    here = Path(__file__).resolve().parent
    for name in ("importer.py", "normalize.py", "names.py", "fields.py", "excel.py"):
        try:
            digest.update((here / name).read_bytes())
        except OSError:  # no sources (a frozen build): never trust old prints
            digest.update(os.urandom(16))
    return digest.hexdigest()


class RowSieve:
    """Holds back the rows of an orders file that are as they were when last imported.

    A row's fingerprint is a keyed blake2b digest of the raw cells of its mapped
    columns as read (pickled, so types count: 1, 1.0 and '1' differ; a date cell
    as the day it parses to, see ``sift``); the key is
    the column mapping, ROW_PRINT_VERSION and a digest of the parsing code. An order keeps the print
    of the row it was last merged from, when that row was clean (no flag, not
    rejected), with the day it was read as (``as_of``: a row clean on one day is
    clean on every later day; read as of an earlier day a date might lie ahead).

    While the file is parsed, a row whose order number is stored with the same
    print (from the same day or earlier) is a *candidate*: it is not parsed. In
    the write transaction a candidate is still processed, parsed from the cells
    kept here, when

    * its print is no longer the stored one (another import ran in between), or
      its order number is on another row of the file too (the later row wins);
    * it shares a customer or vehicle with a row that is processed
      (``widen``): merged in date order with that row, as if no row were held
      back, so an older changed row does not overwrite what a newer unchanged
      row says about the same customer.

    Every other candidate is ``unchanged`` and not merged at all. Merging it
    would write nothing when its customer and vehicle are as the import that
    stored its print left them. When they are not (a clerk edited an address; a
    delivery list or another file changed the customer since), merging the old
    row again would put the file's old values back; holding it back keeps the
    newer data. A re-export updates what changed in it, and nothing else.
    """

    # Date fields whose parse keeps only the day, as ISO text (a birthday may be lunar).
    DAY_FIELDS = frozenset(DATE_FIELDS - {"birthday"})

    def __init__(self, db, kind: str, mapping: dict[int, str], alternates: dict[int, list[int]],
                 header: list, today: date, skip: bool = True):
        self.conn = db.conn
        cols = sorted({*mapping, *(j for js in alternates.values() for j in js)})
        self.cols = cols
        self.need = cols[-1] + 1
        self.get = itemgetter(*cols) if len(cols) > 1 else (lambda cells, i=cols[0]: (cells[i],))
        self.key_col = next((i for i, f in mapping.items() if f == "order_no"), None)
        mark = repr((ROW_PRINT_VERSION, _parser_mark(), kind, sorted(mapping.items()),
                     sorted((i, list(js)) for i, js in alternates.items())))
        self.key = hashlib.blake2b(mark.encode(), digest_size=32).digest()
        self.today = today.isoformat()
        self.parse_args = (kind, mapping, header, today)
        self.alternates = alternates
        self.candidates: dict[str, tuple[int, bytes, bytes]] = {}  # order_no -> (row, fp, cells)
        self.dups: set[str] = set()  # order numbers of candidates found on another row too
        self.widened: tuple[set, set] = (set(), set())  # customers, vehicles looked up by widen
        # Another connection's commit changes data_version: what was read here before the
        # write transaction is read again in it only then.
        self.data_version = self.conn.execute("PRAGMA data_version").fetchone()[0]
        self.skip = (skip and kind == "orders" and self.key_col is not None
                     and self.conn.execute("SELECT 1 FROM order_row_prints LIMIT 1").fetchone()
                     is not None)

    def _stored(self, order_nos: list[str]) -> dict[str, bytes]:
        """order_no -> print of the stored orders with a print (read from the indexes only)."""
        return dict(self.conn.execute(
            "SELECT r.order_no, p.fp FROM order_row_prints p JOIN repair_orders r"
            " ON r.id = p.order_id WHERE r.order_no IN (SELECT value FROM json_each(?))"
            " AND p.as_of <= ?", (json.dumps(order_nos, ensure_ascii=False), self.today)))

    def sift(self, chunk: list[tuple[int, list]], columns: list[_Column]
             ) -> tuple[list[tuple[int, list]], list[bytes]]:
        """(the rows of the chunk to parse, their prints); keeps the candidates.

        A date column goes into the print as the day it parses to (the parse keeps
        no more of it), from the column's own cache: pickling a datetime cell costs
        a third of a row's print. A cell that does not parse cleanly stays as it is.
        """
        get, need, key = self.get, self.need, self.key
        dumps, blake2b = pickle.dumps, hashlib.blake2b
        cols = list(zip(*map(get, _padded(chunk, need))))
        for col in columns:
            if col.field in self.DAY_FIELDS and col.index in self.cols:
                j = self.cols.index(col.index)
                days = _days(cols[j])
                _learn(col, days)
                cols[j] = list(map(col.plain.get, days, days))
        # Pickled: unambiguous and quick, and the cells are kept so for the rows held back.
        # Protocol 5 is fixed: another release of Python may only make prints differ.
        blobs = [dumps(cells, 5) for cells in zip(*cols)]
        prints = [blake2b(b, digest_size=8, key=key).digest() for b in blobs]
        if not self.skip:
            return chunk, prints
        k = self.key_col
        nos = nz.texts([cells[k] if k < len(cells) else None for _row_no, cells in chunk])
        stored = self._stored([n for n in nos if n])
        keep, keep_prints = [], []
        for row, fp, blob, no in zip(chunk, prints, blobs, nos):
            if no is not None and stored.get(no) == fp:
                if no not in self.candidates:
                    self.candidates[no] = (row[0], fp, blob)
                    continue
                self.dups.add(no)
            keep.append(row)
            keep_prints.append(fp)
        return keep, keep_prints

    def settle(self, accepted_nos: set[str]) -> list[ParsedRow]:
        """In the write transaction: release the candidates whose print changed since it
        was read, or whose order number is on another row too."""
        if not self.candidates:
            return []
        out = [no for no in self.candidates if no in self.dups or no in accepted_nos]
        if self.conn.execute("PRAGMA data_version").fetchone()[0] != self.data_version:
            current = self._stored(list(self.candidates))
            out += [no for no, (_row_no, fp, _blob) in self.candidates.items()
                    if current.get(no) != fp]
        return self.release(list(dict.fromkeys(out)))

    def widen(self, customers: Iterable[int], vehicles: Iterable[int]) -> list[ParsedRow]:
        """Release the candidates whose stored order has one of these customers or vehicles
        (each is looked up once)."""
        seen_c, seen_v = self.widened
        new_c = [c for c in customers if c not in seen_c]
        new_v = [v for v in vehicles if v not in seen_v]
        seen_c.update(new_c)
        seen_v.update(new_v)
        if not self.candidates or not (new_c or new_v):
            return []
        rows = self.conn.execute(
            "SELECT order_no FROM repair_orders WHERE customer_id IN"
            " (SELECT value FROM json_each(?)) UNION SELECT order_no FROM repair_orders"
            " WHERE vehicle_id IN (SELECT value FROM json_each(?))",
            (json.dumps(new_c), json.dumps(new_v)))
        return self.release([no for (no,) in rows if no in self.candidates])

    def release(self, order_nos: list[str]) -> list[ParsedRow]:
        """Parse these candidates after all (from the cells kept of them)."""
        rows, prints = [], []
        for no in order_nos:
            row_no, fp, blob = self.candidates.pop(no)
            cells = [None] * self.need
            for i, v in zip(self.cols, pickle.loads(blob)):
                cells[i] = v
            rows.append((row_no, cells))
            prints.append(fp)
        if not rows:
            return []
        kind, mapping, header, today = self.parse_args
        parsed, _skipped, _blank, _fields = parse_rows(kind, rows, mapping, header, today,
                                                       alternates=self.alternates)
        by_row = {row_no: fp for (row_no, _c), fp in zip(rows, prints)}
        for pr in parsed:
            pr.fp = by_row[pr.row_no]
        return parsed

    def unchanged(self) -> list[int]:
        """The row numbers of the candidates still held back."""
        return [row_no for row_no, _fp, _blob in self.candidates.values()]

    def store(self, keep: list[tuple[int, bytes]], drop: list[int]) -> None:
        """Store the prints of orders merged from clean rows; drop those of flagged ones."""
        if drop:
            self.conn.execute("DELETE FROM order_row_prints WHERE order_id IN"
                              " (SELECT value FROM json_each(?))", (json.dumps(drop),))
        self.conn.executemany("INSERT OR REPLACE INTO order_row_prints (order_id, fp, as_of)"
                              " VALUES (?,?,?)", [(oid, fp, self.today) for oid, fp in keep])


# --------------------------------------------------------------------------- merging


_TITLES = ("先生", "女士", "小姐", "太太")


def same_person(a: str, b: str) -> bool:
    """Names that, on one phone number, are one person: '张伟' ~ '张伟先生' ~ '张先生'.

    Titles are set aside; a surname with a title matches any name with that
    surname (the DMS writes '张先生' when the name was not asked).
    """
    if a == b:
        return True

    def core(n: str) -> tuple[str, bool]:
        for t in _TITLES:
            if n.endswith(t) and len(n) > len(t):
                return n[: -len(t)], True
        return n, False

    (ca, ta), (cb, tb) = core(a), core(b)
    if ca == cb:
        return True
    if ta and len(ca) <= 2 and cb.startswith(ca):
        return True
    return tb and len(cb) <= 2 and ca.startswith(cb)


def _now() -> str:
    return datetime.now().isoformat(timespec="seconds")


def _user() -> str:
    try:
        return os.environ.get("CRMCLI_USER") or getpass.getuser()
    except Exception:  # no login name in some cron/container setups
        return "unknown"


def _iso(v):
    return v.isoformat() if isinstance(v, date) else v


def _chunks(items: list, n: int = CHUNK) -> Iterator[list]:
    for i in range(0, len(items), n):
        yield items[i:i + n]


class Merger:
    """Resolve parsed rows against the store and write them. Runs inside one transaction."""

    ORDER_COLS = ("vehicle_id", "customer_id", "date_in", "date_settled", "order_date", "mileage",
                  "service_type", "service_type_raw", "items", "labour_fen", "parts_fen",
                  "total_fen", "advisor", "advice")
    CUSTOMER_COLS = ("name", "gender", "gender_source", "mobile", "phone_kind", "other_phones",
                     "id_number", "birthday", "birthday_source", "lunar_birthday", "occupation",
                     "address", "employer")
    VEHICLE_COLS = ("vin", "plate", "customer_id", "model", "engine_no", "gearbox_no", "colour",
                    "purchase_date", "delivery_date", "usage", "usage_source",
                    "first_maintenance_date", "first_maintenance_km", "warranty_end",
                    "insurance_compulsory_expiry", "insurance_commercial_expiry", "inspection_due")

    def __init__(self, db: sqlite_utils.Database, import_id: int, now: str, user: str):
        self.db = db
        self.conn = db.conn
        self.import_id = import_id
        self.now = now
        self.user = user
        self.customers: dict[str, dict] = {}  # merge_key -> row
        self.cust_by_id: dict[int, dict] = {}
        self.by_mobile: dict[str, list[dict]] = {}
        self.row_flags: list[tuple[str, str, str]] = []  # (field, value, reason) of this row
        self.vehicles_by_vin: dict[str, dict] = {}
        self.vehicles_by_plate: dict[str, dict] = {}
        self.veh_by_id: dict[int, dict] = {}
        # Stored orders of the rows about to be merged, as (id, order_no, *ORDER_COLS),
        # loaded a batch at a time by load_orders and dropped once merged.
        self.orders: dict[str, tuple] = {}
        self.new_customers: list[dict] = []
        self.new_vehicles: list[dict] = []
        # Written a merge batch at a time (write_orders): the new customers and vehicles,
        # then the orders, which are final once merged. A customer or vehicle that a later
        # row changes is written again by flush.
        self.new_orders: list[tuple] = []  # (id, order_no, created_at, updated_at, *ORDER_COLS)
        self.order_pairs: set[tuple] = set()  # (vehicle id, customer id) of orders written
        self.new_vehicle_ids: set[int] = set()
        self.order_facts = FactsFromOrders()  # of the orders written, by vehicle
        self.dropped_indexes: list[str] = []  # CREATE INDEX statements to run again
        self.written = {"customers": 0, "vehicles": 0}  # how many of new_* write_new wrote
        self.dirty_customers: dict[int, dict] = {}
        self.dirty_vehicles: dict[int, dict] = {}
        self.dirty_orders: dict[int, dict] = {}
        self.owner_changes: list[tuple] = []
        self.changes: list[tuple] = []
        self.order_id: int | None = None  # the id of the order merge_order merged last
        self.vehicle: dict | None = None  # and its vehicle and customer
        self.customer: dict | None = None
        self.next_id = {
            t: (self.conn.execute(f"SELECT COALESCE(MAX(id), 0) FROM {t}").fetchone()[0] + 1)
            for t in ("customers", "vehicles", "repair_orders")
        }
        self.no_orders = self.next_id["repair_orders"] == 1

    # ---- loading only what this file can touch
    def _load(self, table: str, column: str, keys: Iterable[str], cols: str = "*",
              known: dict | None = None) -> list[dict]:
        """Rows whose column is one of keys, as dicts; with ``known`` (id -> row, and
        the first column is the id), the rows already known are left out."""
        keys = list({k for k in keys if k})
        rows: list[dict] = []
        cur = self.conn.cursor()
        for chunk in _chunks(keys):
            marks = ",".join("?" * len(chunk))
            cur.execute(f"SELECT {cols} FROM {table} WHERE {column} IN ({marks})", chunk)
            names = [d[0] for d in cur.description]
            if known is None:
                rows.extend(dict(zip(names, r)) for r in cur.fetchall())
            else:
                rows.extend(dict(zip(names, r)) for r in cur.fetchall() if r[0] not in known)
        return rows

    def preload(self, records: list[tuple], fields: tuple[str, ...], kind: str) -> None:
        """Load what the records (tuples of ``fields``) can touch."""
        get = {f: _field_getter(fields, f) for f in ("vin", "plate", "mobile", "customer_name",
                                                     "order_no")}
        vins = list(map(get["vin"], records))
        plates = list(map(get["plate"], records))
        # Each query's rows are indexed before the next runs, so a row the next finds
        # again is skipped before it is made a dict (_index_* would ignore it anyway).
        for v in self._load("vehicles", "vin", vins):
            self._index_vehicle(v)
        for v in self._load("vehicles", "plate", plates, known=self.veh_by_id):
            self._index_vehicle(v)
        mobiles = list(map(get["mobile"], records))
        # customer_key of each record (a vehicle found on file can only add a key for a
        # row with neither VIN nor plate, and such a row has no vehicle to be found by)
        keys = [(f"m:{mobile}:{name or ''}" if mobile
                 else f"n:{name}:{vin or plate or ''}" if name else None)
                for name, mobile, vin, plate in zip(map(get["customer_name"], records), mobiles,
                                                    vins, plates)]
        for c in self._load("customers", "merge_key", keys):
            self._index_customer(c)
        owner_ids = [v["customer_id"] for v in self.veh_by_id.values()
                     if v["customer_id"] and v["customer_id"] not in self.cust_by_id]
        for c in self._load("customers", "id", owner_ids):
            self._index_customer(c)
        for c in self._load("customers", "mobile", mobiles, known=self.cust_by_id):
            self._index_customer(c)
        since = self._load("vehicle_owners", "vehicle_id", list(self.veh_by_id))
        for row in since:
            v = self.veh_by_id[row["vehicle_id"]]
            if row["until"] is None and row["customer_id"] == v["customer_id"]:
                v["_owner_since"] = row["since"]

    def load_orders(self, order_nos: Iterable[str]) -> None:
        """Load the stored orders with these numbers (the next batch of rows to merge).

        A batch at a time rather than all at once: a re-export of 100,000 orders
        would otherwise hold every stored order in memory through the merge.
        """
        if self.no_orders:
            return  # the first import into an empty store: no stored order to compare with
        keys = [k for k in order_nos if k]
        cols = "id, order_no, " + ", ".join(self.ORDER_COLS)
        cur = self.conn.cursor()
        for chunk in _chunks(keys):
            cur.execute(f"SELECT {cols} FROM repair_orders WHERE order_no IN"
                        f" ({','.join('?' * len(chunk))})", chunk)
            for row in cur:
                self.orders[row[1]] = row

    def _index_vehicle(self, v: dict) -> None:
        if v["id"] in self.veh_by_id:
            return
        v["_ver"] = 0  # counts the changes _set makes (see merge_order_row)
        self.veh_by_id[v["id"]] = v
        if v.get("vin"):
            self.vehicles_by_vin[v["vin"]] = v
        if v.get("plate"):
            cur = self.vehicles_by_plate.get(v["plate"])
            if cur is None or (v["updated_at"] or "") >= (cur["updated_at"] or ""):
                self.vehicles_by_plate[v["plate"]] = v

    def _index_customer(self, c: dict) -> None:
        if c["id"] in self.cust_by_id:
            return
        c["_ver"] = 0
        self.customers[c["merge_key"]] = c
        self.cust_by_id[c["id"]] = c
        if c.get("mobile"):
            self.by_mobile.setdefault(c["mobile"], []).append(c)

    # ---- identity
    @staticmethod
    def customer_key(rec: dict, vehicle: dict | None) -> str | None:
        name = rec.get("customer_name")
        mobile = rec.get("mobile")
        if mobile:
            return f"m:{mobile}:{name or ''}"
        if name:
            vkey = rec.get("vin") or rec.get("plate") or (vehicle or {}).get("vin") or ""
            return f"n:{name}:{vkey}"
        return None

    def find_vehicle(self, rec: dict) -> dict | None:
        if rec.get("vin"):
            v = self.vehicles_by_vin.get(rec["vin"])
            if v is not None:
                return v
            # A vehicle first known by plate only gets its VIN now.
            v = self.vehicles_by_plate.get(rec.get("plate") or "")
            if v is not None and not v.get("vin"):
                return v
            return None
        if rec.get("plate"):
            return self.vehicles_by_plate.get(rec["plate"])
        return None

    def resolve_customer(self, rec: dict, vehicle: dict | None) -> dict | None:
        """The customer a row names: found by mobile and name, else created.

        The same person is not made twice: a row without a phone belongs to the
        vehicle's owner when the name agrees or is missing; a phone already on
        file is that customer when the names agree once titles (先生/女士) are
        set aside or a name is missing ('张伟', '张伟先生', '张先生'). The same
        name on another phone stays another customer: a file cannot tell a
        changed number from a namesake or a second phone, and a rule that
        guessed made re-reading a file move orders between records.
        """
        name = rec.get("customer_name")
        mobile = rec.get("mobile")
        owner = None
        if vehicle is not None and vehicle.get("customer_id"):
            owner = self.cust_by_id.get(vehicle["customer_id"])
        if not mobile and owner is not None and (not name or owner.get("name") == name):
            return owner  # no phone: the owner, when the name agrees or is missing
        key = self.customer_key(rec, vehicle)
        if key is None:
            return None
        c = self.customers.get(key)
        if c is None and mobile:
            c = next((x for x in self.by_mobile.get(mobile, ())
                      if not name or not x.get("name") or same_person(x["name"], name)), None)
        if c is None:
            c = {"id": self._take_id("customers"), "merge_key": key, "name": name,
                 "callback_consent": 1, "created_at": self.now, "updated_at": self.now}
            for col in self.CUSTOMER_COLS:
                c.setdefault(col, None)
            c["_new"] = True
            self.new_customers.append(c)
            self._index_customer(c)
            if mobile:
                self.by_mobile.setdefault(mobile, []).append(c)
        elif name and not c.get("name"):
            self._set("customer", c, "name", name, self.dirty_customers)
        return c

    def _take_id(self, table: str) -> int:
        n = self.next_id[table]
        self.next_id[table] = n + 1
        return n

    # ---- field updates with an audit trail
    def _set(self, entity: str, row: dict, col: str, value, dirty: dict) -> bool:
        if value is None:
            return False
        if isinstance(value, date):
            value = value.isoformat()
        old = row.get(col)
        if old == value:
            return False
        row[col] = value
        row["_ver"] = row.get("_ver", 0) + 1
        if not row.get("_new"):
            dirty[row["id"]] = row
            self.changes.append((self.import_id, entity, row["id"], col,
                                 None if old is None else str(old), str(value), self.now, self.user))
        elif row.get("_written"):  # new, and written already: flush writes its final values
            dirty[row["id"]] = row
        return True

    def update_customer(self, c: dict, rec: dict) -> bool:
        d = self.dirty_customers
        changed = False
        if rec.get("mobile") and c.get("mobile_source") not in ("edit", "call"):
            changed |= self._set("customer", c, "mobile", rec["mobile"], d)
            changed |= self._set("customer", c, "phone_kind", "landline" if rec["mobile"].startswith("0") else "mobile", d)
        for col in ("occupation", "address", "employer", "other_phones"):
            if col in rec:
                changed |= self._set("customer", c, col, rec[col], d)
        idinfo = rec.get("id_number")
        if idinfo is not None:
            changed |= self._set("customer", c, "id_number", idinfo.number, d)
        # Precedence for gender and birthday: a clerk's edit > a column of the file > the ID number.
        if rec.get("gender") and c.get("gender_source") != "edit":
            changed |= self._set("customer", c, "gender", rec["gender"], d)
            changed |= self._set("customer", c, "gender_source", "column", d)
        elif idinfo is not None and c.get("gender_source") in (None, "id"):
            changed |= self._set("customer", c, "gender", idinfo.gender, d)
            changed |= self._set("customer", c, "gender_source", "id", d)
        if rec.get("birthday") and c.get("birthday_source") != "edit":
            changed |= self._set("customer", c, "birthday", rec["birthday"], d)
            changed |= self._set("customer", c, "birthday_source", "column", d)
        elif idinfo is not None and c.get("birthday_source") in (None, "id"):
            changed |= self._set("customer", c, "birthday", idinfo.birthday, d)
            changed |= self._set("customer", c, "birthday_source", "id", d)
        if rec.get("lunar_birthday") and c.get("birthday_source") != "edit":
            changed |= self._set("customer", c, "lunar_birthday", rec["lunar_birthday"], d)
        return changed

    def get_vehicle(self, rec: dict) -> tuple[dict | None, bool]:
        v = self.find_vehicle(rec)
        if v is None:
            if not rec.get("vin") and not rec.get("plate"):
                return None, False
            v = {col: None for col in self.VEHICLE_COLS}
            v.update({"id": self._take_id("vehicles"), "vin": rec.get("vin"),
                      "plate": rec.get("plate"), "created_at": self.now,
                      "updated_at": self.now, "_new": True})
            self.new_vehicles.append(v)
            self.new_vehicle_ids.add(v["id"])
            self._index_vehicle(v)
            return v, True
        return v, False

    def update_vehicle(self, v: dict, rec: dict, fields: Iterable[str]) -> bool:
        d = self.dirty_vehicles
        changed = False
        if rec.get("vin") and v.get("vin") != rec["vin"] and not v.get("vin"):
            changed |= self._set("vehicle", v, "vin", rec["vin"], d)
            self.vehicles_by_vin[rec["vin"]] = v
        if rec.get("plate") and v.get("plate") != rec["plate"]:
            other = self.vehicles_by_plate.get(rec["plate"])
            if other is not None and other is not v and other.get("vin"):
                # The VIN says one car and the plate another: most likely a typo. Keep
                # both cars as they are and ask the clerk.
                self.row_flags.append(("plate", rec["plate"],
                                       f"plate belongs to another vehicle ({other['vin']}); "
                                       f"not moved to VIN {v.get('vin')}"))
            else:
                changed |= self._set("vehicle", v, "plate", rec["plate"], d)
                self.vehicles_by_plate[rec["plate"]] = v
        for col in fields:
            if col in rec:
                changed |= self._set("vehicle", v, col, rec[col], d)
        if rec.get("usage") and v.get("usage_source") != "edit":
            changed |= self._set("vehicle", v, "usage", rec["usage"], d)
            changed |= self._set("vehicle", v, "usage_source", "import", d)
        elif rec.get("usage_guess") and v.get("usage") is None:
            changed |= self._set("vehicle", v, "usage", rec["usage_guess"], d)
            changed |= self._set("vehicle", v, "usage_source", "guess", d)
        return changed

    def set_owner(self, v: dict, c: dict | None, since: str | None) -> bool:
        """A newer row naming someone else as the customer moves the vehicle to them.

        The previous ownership is closed, not deleted: a vehicle that changes
        hands keeps its history, and its past orders stay with the old owner.
        """
        if c is None or v.get("customer_id") == c["id"]:
            return False
        current_since = v.get("_owner_since")
        if v.get("customer_id") is not None and since and current_since and since < current_since:
            return False  # an older row does not take the vehicle back
        if v.get("customer_id") is not None:
            self.owner_changes.append(("close", v["id"], v["customer_id"], since))
        self.owner_changes.append(("open", v["id"], c["id"], since))
        v["_owner_since"] = since
        self._set("vehicle", v, "customer_id", c["id"], self.dirty_vehicles)
        return True

    # ---- per kind
    # The fields of a row that merge_order finds and updates its customer and vehicle
    # from: vin, mobile and name first. A test checks it reads no others but ORDER_FIELDS.
    ENTITY_FIELDS = ("vin", "mobile", "customer_name", "plate", "occupation", "address",
                     "employer", "other_phones", "id_number", "gender", "birthday",
                     "lunar_birthday", "model", "usage", "usage_guess")
    # ORDER_COLS after vehicle_id and customer_id, as the record's fields name them
    ORDER_FIELDS = ("date_in", "date_settled", "order_date", "mileage", "service_type",
                    "service_type_raw", "items", "labour", "parts", "total", "advisor", "advice")

    def use_fields(self, fields: tuple[str, ...]) -> None:
        """The fields of the record tuples merge_order_row is given."""
        self.fields = fields
        present = [f for f in self.ENTITY_FIELDS if f in fields]
        self.entity_sig = itemgetter(*(fields.index(f) for f in present))
        self.repeats: dict[tuple, tuple] = {}
        # Only a row with a VIN and a mobile is found again without a search (below).
        self.short_cut = present[:2] == ["vin", "mobile"] and "customer_name" in fields
        self.name_at = present.index("customer_name") if "customer_name" in present else None
        blank = len(fields)  # a field the file has not: the None added at the end
        self.order_values = itemgetter(*(fields.index(f) if f in fields else blank
                                         for f in self.ORDER_FIELDS))
        self.order_no_at = fields.index("order_no")

    def merge_order_row(self, record: tuple) -> str:
        """merge_order for a record tuple, with a short cut for a row that repeats one
        merged before.

        A DMS export lists a car's every visit with the same customer and car details.
        When a row names the same VIN, mobile and name with the same details as an
        earlier clean row, and that row's car and customer have not changed since (their
        _set count is the same, the car is still that customer's, and the VIN and the
        merge key still find them), merging it again would find the same two and change
        neither: it goes straight to its order.
        """
        sig = self.entity_sig(record)
        seen = self.repeats.get(sig)
        if seen is not None:
            v, c, v_ver, c_ver, key = seen
            if (v["_ver"] == v_ver and c["_ver"] == c_ver and v["customer_id"] == c["id"]
                    and self.vehicles_by_vin.get(sig[0]) is v and self.customers.get(key) is c):
                self.vehicle, self.customer = v, c
                return self._merge_order_values(record[self.order_no_at], (v["id"], c["id"])
                                                + self.order_values(record + (None,)), False)
        verdict = self.merge_order(dict(zip(self.fields, record)))
        v, c = self.vehicle, self.customer
        if (self.short_cut and not self.row_flags and v is not None and c is not None
                and sig[0] and sig[1]):
            key = f"m:{sig[1]}:{sig[self.name_at] or ''}"  # customer_key of the row
            if self.customers.get(key) is c and self.vehicles_by_vin.get(sig[0]) is v:
                self.repeats[sig] = (v, c, v["_ver"], c["_ver"], key)
        return verdict

    def merge_order(self, rec: dict) -> str:
        vehicle, _ = self.get_vehicle(rec)
        customer = self.resolve_customer(rec, vehicle)
        self.vehicle, self.customer = vehicle, customer
        changed = False
        if customer is not None:
            changed |= self.update_customer(customer, rec)
        if vehicle is not None:
            changed |= self.update_vehicle(vehicle, rec, ("model",))
            changed |= self.set_owner(vehicle, customer, _iso(rec["order_date"]))
        get = rec.get
        # In ORDER_COLS order. Every value is as stored: ISO text, int or None.
        values = (vehicle["id"] if vehicle else None, customer["id"] if customer else None,
                  get("date_in"), get("date_settled"), rec["order_date"], get("mileage"),
                  get("service_type"), get("service_type_raw"), get("items"), get("labour"),
                  get("parts"), get("total"), get("advisor"), get("advice"))
        return self._merge_order_values(rec["order_no"], values, changed)

    def _merge_order_values(self, order_no: str, values: tuple, changed: bool) -> str:
        # _merge gives each order number once (the later row of a file wins), so an
        # order is never seen twice here: a new one is final, and a stored one is dropped.
        stored = self.orders.pop(order_no, None)
        if stored is None:
            self.order_id = self._take_id("repair_orders")
            self.new_orders.append((self.order_id, order_no, self.now, self.now) + values)
            return "inserted"
        self.order_id = stored[0]
        if values != stored[2:]:  # the whole row first: a re-export mostly changes nothing
            existing = dict(zip(("id", "order_no") + self.ORDER_COLS, stored))
            for col, val in zip(self.ORDER_COLS, values):
                changed |= self._set("order", existing, col, val, self.dirty_orders)
        return "updated" if changed else "unchanged"

    def merge_vehicle_row(self, rec: dict) -> str:
        vehicle, v_new = self.get_vehicle(rec)
        customer = self.resolve_customer(rec, vehicle)
        changed = False
        if customer is not None:
            changed |= self.update_customer(customer, rec)
        fields = ("model", "engine_no", "gearbox_no", "colour", "purchase_date", "delivery_date",
                  "first_maintenance_date", "first_maintenance_km", "warranty_end",
                  "insurance_compulsory_expiry", "insurance_commercial_expiry", "inspection_due")
        changed |= self.update_vehicle(vehicle, rec, fields)
        since = _iso(rec.get("delivery_date") or rec.get("purchase_date"))
        changed |= self.set_owner(vehicle, customer, since)
        if v_new:
            return "inserted"
        return "updated" if changed else "unchanged"

    # ---- writing
    def bulk_load(self, table: str, rows: int) -> None:
        """Before filling an empty table with ``rows`` rows: drop its secondary indexes,
        to be built again by ``restore_indexes`` in the same transaction.

        Building an index over rows already in costs a sort; keeping it up to date
        row by row costs a B-tree insert per row and index. For a store's first
        import of 100,000 orders that is 0.1 s against 0.3 s. A table with rows, or
        a small import, keeps its indexes; the UNIQUE ones are never dropped (they
        check the rows as they go in).
        """
        if rows < BULK_ROWS or self.conn.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone():
            return
        for name, sql in self.conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?"
                " AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%'", (table,)).fetchall():
            self.conn.execute(f'DROP INDEX "{name}"')
            self.dropped_indexes.append(sql)

    def restore_indexes(self) -> None:
        for sql in self.dropped_indexes:
            self.conn.execute(sql)
        self.dropped_indexes = []

    def write_new(self) -> None:
        """Write the customers and vehicles made since the last call, as they are now.

        One that changes later (a later row of the file adds a phone, the car is
        sold) is in the dirty set from then on, and flush writes its final values.
        """
        for table, rows, cols in (
                ("customers", self.new_customers, ("id", "merge_key", "callback_consent",
                                                   "created_at", "updated_at") + self.CUSTOMER_COLS),
                ("vehicles", self.new_vehicles, ("id", "created_at", "updated_at")
                 + self.VEHICLE_COLS)):
            start = self.written[table]
            if start == len(rows):
                continue
            fresh = rows[start:]
            self.conn.executemany(f"INSERT INTO {table} ({','.join(cols)})"
                                  f" VALUES ({','.join('?' * len(cols))})",
                                  map(itemgetter(*cols), fresh))
            for row in fresh:
                row["_written"] = True
            self.written[table] = len(rows)

    def write_orders(self) -> None:
        """Write the new orders merged so far, after the customers and vehicles they name.

        Orders are final once merged; holding 100,000 of them until flush would add
        their 25 MB to the import's peak memory.
        """
        if not self.new_orders:
            return
        self.write_new()
        cols = ("id", "order_no", "created_at", "updated_at") + self.ORDER_COLS
        self.conn.executemany(f"INSERT INTO repair_orders ({','.join(cols)})"
                              f" VALUES ({','.join('?' * len(cols))})", self.new_orders)
        self.order_pairs.update(map(itemgetter(4, 5), self.new_orders))
        # Facts of every new order's vehicle; flush keeps those of the vehicles new here.
        self.order_facts.add(map(itemgetter(4, 0, 1, 8, 9, 10), self.new_orders))
        self.new_orders = []

    def flush(self) -> None:
        conn = self.conn
        now = self.now
        self.write_orders()
        self.write_new()
        self.restore_indexes()  # before anything reads or updates these tables again

        def update(table: str, cols: tuple, rows: Iterable[dict]) -> None:
            rows = list(rows)
            if not rows:
                return
            sets = ",".join(f"{c}=?" for c in cols)
            conn.executemany(f"UPDATE {table} SET {sets}, updated_at=? WHERE id=?",
                             [tuple(r.get(c) for c in cols) + (now, r["id"]) for r in rows])

        update("customers", self.CUSTOMER_COLS, self.dirty_customers.values())
        update("vehicles", self.VEHICLE_COLS, self.dirty_vehicles.values())
        update("repair_orders", self.ORDER_COLS, self.dirty_orders.values())
        # Updates reach planning's facts and log through triggers; bulk inserts through this.
        # A vehicle made by this import has no orders but the new ones (unless an update
        # above moved a stored order to it): its facts are worked out here.
        complete = self.new_vehicle_ids - {o.get("vehicle_id") for o in self.dirty_orders.values()}
        note_inserted(conn, customers=[c["id"] for c in self.new_customers],
                      vehicles=[(v["id"], v.get("customer_id")) for v in self.new_vehicles],
                      orders=self.order_pairs,
                      facts=[f for f in self.order_facts.rows() if f[0] in complete])
        # Opens first, then each close ends the ownership it follows (since <= the close
        # date), so a vehicle that changes hands twice in one file keeps both steps.
        opens = [(vid, cid, since or "") for op, vid, cid, since in self.owner_changes
                 if op == "open"]
        closes = [(since, vid, cid, since or "9999") for op, vid, cid, since in self.owner_changes
                  if op == "close"]
        conn.executemany("INSERT OR IGNORE INTO vehicle_owners (vehicle_id, customer_id, since)"
                         " VALUES (?,?,?)", opens)
        conn.executemany("UPDATE vehicle_owners SET until=? WHERE vehicle_id=? AND customer_id=?"
                         " AND until IS NULL AND since <= ?", closes)
        if self.changes:
            conn.executemany(
                "INSERT INTO changes (import_id, entity, entity_id, field, old_value, new_value,"
                " changed_at, by_user) VALUES (?,?,?,?,?,?,?,?)", self.changes)


# --------------------------------------------------------------------------- one file


class _DryRun(Exception):
    pass


def aliases_mark(aliases: dict[str, list[str]] | None) -> str:
    """A short fingerprint of the dealer's column aliases ('' when there are none)."""
    if not aliases:
        return ""
    return hashlib.sha1(json.dumps(aliases, sort_keys=True, ensure_ascii=False).encode()
                        ).hexdigest()[:16]


def file_checksum(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def import_file(
    db: sqlite_utils.Database,
    path: Path | str,
    kind: str,
    *,
    today: date,
    aliases: dict[str, list[str]] | None = None,
    dry_run: bool = False,
    force: bool = False,
    progress: Callable[[int], None] | None = None,
    skip_unchanged: bool = True,
) -> ImportResult:
    """Import one file of ``kind`` ("orders" or "vehicles") as one transaction.

    The rows of an orders file that are as they were when last imported are
    counted ``unchanged`` without being parsed or merged (see RowSieve), forced
    or not; ``skip_unchanged=False`` processes every row (their fingerprints are
    stored all the same).

    Raises FileRefused (nothing written, not even the log line: a refused file
    is reported by the caller) when the file cannot be read or has no header.
    """
    if kind not in FIELDS_BY_KIND:
        raise UsageError(f"unknown import kind {kind!r}; use orders or vehicles")
    path = Path(path)
    result = ImportResult(file=str(path), kind=kind)
    result.aliases_mark = aliases_mark(aliases)
    fmt, sheets = open_sheets(path)
    result.format = fmt
    result.checksum = file_checksum(path)
    # The same content imported before changes nothing: say so without reading it again.
    if not force and not dry_run:
        # Only a clean earlier run counts: one that rejected rows, or read the columns
        # with other aliases, may read differently now.
        previous = db.conn.execute(
            "SELECT id, finished_at FROM imports WHERE checksum=? AND kind=? AND status='done'"
            " AND rejected = 0 AND coalesce(aliases_mark, '') = ? ORDER BY id DESC LIMIT 1",
            (result.checksum, kind, aliases_mark(aliases))).fetchone()
        if previous:
            result.status = "same-file"
            result.message = (f"same content as import #{previous[0]} of {previous[1]}: "
                              "nothing to change (use --force to process it again)")
            with write_transaction(db):
                result.import_id = _log_import(db, result, path, now=_now())
            return result
    table = alias_table(kind, aliases)
    key_fields = ("order_no",) if kind == "orders" else ("vin", "plate")
    found = None
    for n, sheet in enumerate(sheets):
        found = find_header(sheet.rows, table, key_fields)
        if found:
            result.sheet = sheet.name
            # One data sheet a file. Another sheet that looks like data too is said
            # out loud rather than passed over in silence.
            others = [s.name for s in sheets[n + 1:] if find_header(s.rows, table, key_fields)]
            if others:
                result.warnings.append(
                    f"sheet(s) {', '.join(others)} also hold a header and were not imported;"
                    " save each sheet as a file of its own and import those")
            break
    if not found:
        wanted = "an order number column (工单号/委托书号/RO Number)" if kind == "orders" \
            else "a VIN or plate column (车架号/车牌号)"
        raise FileRefused(
            f"{path.name}: no header row with {wanted} in the first {HEADER_SCAN_ROWS} rows; "
            "check it is a DMS export, or add the column names to [import.aliases] in the settings"
        )
    header_row, header, mapping, pending = found
    result.header_row = header_row
    result.header = list(header)
    alternates = alternate_columns(header, mapping, table)
    result.mapping = [(str(header[i]).strip(), f) for i, f in sorted(mapping.items())]
    for i, others in alternates.items():
        for j in others:
            result.mapping.append((str(header[j]).strip(),
                                   f"{mapping[i]} (when {str(header[i]).strip()} is blank)"))
    fallback = {j for others in alternates.values() for j in others}
    result.ignored_columns = [str(h).strip() for i, h in enumerate(header)
                              if i not in mapping and i not in fallback
                              and isinstance(h, str) and h.strip()]

    # The parsed rows and the merge's records are 100,000s of containers that live to the
    # end: the cycle collector would walk them again and again (0.3-0.5 s of a large
    # import) and find next to nothing to free: the import makes no cycles of its own.
    with _gc_paused():
        sieve = None
        if kind == "orders":
            sieve = RowSieve(db, kind, mapping, alternates, header, today, skip=skip_unchanged)
        parsed, skipped, _blank, rec_fields = parse_rows(kind, chain(pending, sheet.rows), mapping,
                                                         header, today,
                                                         progress, alternates, sieve)

        result.skipped = len(skipped)
        result.rows_read = len(parsed) + len(skipped) + (len(sieve.candidates) if sieve else 0)
        for row_no, reason in skipped:
            result.verdicts.append((row_no, f"skipped: {reason}"))
        _note_problems(result, parsed)

        now = _now()
        try:
            with write_transaction(db):
                import_id = _log_import(db, result, path, now=now, status="running")
                result.import_id = import_id
                _merge(db, result, parsed, rec_fields, kind, import_id, now, sieve)
                _store_problems(db, result, parsed, rec_fields, import_id)
                _finish_import(db, result, import_id)
                if dry_run:
                    raise _DryRun
        except _DryRun:
            result.status = "dry-run"
            result.import_id = None
    return result


@contextmanager
def _gc_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _field_getter(fields: tuple[str, ...], name: str) -> Callable[[tuple], object]:
    """record tuple -> the value of one field (None when the file has no such field)."""
    if name in fields:
        return itemgetter(fields.index(name))
    return lambda _record: None


def _note_problems(result: ImportResult, parsed: list[ParsedRow]) -> None:
    for pr in parsed:
        if pr.problems:
            result.problems.extend(pr.problems)
            result.problem_rows[pr.row_no] = pr.cells


def _merge(db, result: ImportResult, parsed: list[ParsedRow], fields: tuple[str, ...], kind: str,
           import_id: int, now: str, sieve: RowSieve | None = None):
    if sieve is not None and sieve.candidates:
        # Rows held back while parsing that must be processed after all (see RowSieve);
        # they join ``parsed`` so that their problems are stored like any other's.
        order_no = _field_getter(fields, "order_no")
        more = sieve.settle({order_no(pr.record) for pr in parsed if not pr.rejected})
        _note_problems(result, more)
        parsed.extend(more)
    accepted = [pr for pr in parsed if not pr.rejected]
    result.rejected = len(parsed) - len(accepted)
    for pr in parsed:
        if pr.rejected:
            result.verdicts.append((pr.row_no, "rejected: " + pr.problems[0].reason))
    # Within one file the later row of the same order (or vehicle) wins; earlier ones
    # are superseded and said so, never silently dropped.
    get = {f: _field_getter(fields, f) for f in (
        "order_no", "vin", "plate", "order_date", "delivery_date", "purchase_date", "mobile",
        "customer_name")}
    order_no, vin, plate = get["order_no"], get["vin"], get["plate"]
    last: dict[str, ParsedRow] = {}
    for pr in accepted:
        rec = pr.record
        key = order_no(rec) if kind == "orders" else (vin(rec) or "p:" + plate(rec))
        prev = last.pop(key, None)
        if prev is not None:
            result.superseded += 1
            what = "order number" if kind == "orders" else "vehicle"
            result.verdicts.append((prev.row_no, f"superseded by row {pr.row_no} (same {what})"))
        last[key] = pr
    accepted = list(last.values())  # merged in the order sorted below
    merger = Merger(db, import_id, now, _user())
    merger.preload([pr.record for pr in accepted], fields, kind)
    counts = {"inserted": 0, "updated": 0, "unchanged": 0}
    if sieve is not None:
        # A held-back row that shares a customer or vehicle with a row to merge is merged
        # too, and so, in turn, are the rows that share one with it. What preload loaded
        # is all a merge can touch.
        while more := sieve.widen(merger.cust_by_id, merger.veh_by_id):
            _note_problems(result, more)
            parsed.extend(more)
            for pr in more:
                if pr.rejected:  # not expected: it was clean when its print was stored
                    result.rejected += 1
                    result.verdicts.append((pr.row_no, "rejected: " + pr.problems[0].reason))
            more = [pr for pr in more if not pr.rejected]
            accepted.extend(more)
            merger.preload([pr.record for pr in more], fields, kind)
        held = sieve.unchanged()
        counts["unchanged"] += len(held)
        result.verdicts.extend((row_no, "unchanged") for row_no in held)
    prints_kept: list[tuple[int, bytes]] = []
    prints_dropped: list[int] = []
    if kind == "orders":
        merger.use_fields(fields)
    # Merge in an order that does not depend on how the DMS sorted its rows: by date,
    # so ownership history is built forwards in time; rows with a usable phone before
    # rows without one, so a phone-less row finds the customer its vehicle belongs to.
    order_date, delivery_date, purchase_date = (
        get["order_date"], get["delivery_date"], get["purchase_date"])
    mobile, customer_name = get["mobile"], get["customer_name"]

    recs = [pr.record for pr in accepted]
    whens = [w if type(w) is str else _iso(w) or "" for w in map(
        lambda a, b, c: a or b or c, map(order_date, recs), map(delivery_date, recs),
        map(purchase_date, recs))]
    keys = [(m is None and n is not None, w, pr.row_no) for m, n, w, pr in zip(
        map(mobile, recs), map(customer_name, recs), whens, accepted)]
    del recs, whens
    ordered = [pr for _key, pr in sorted(zip(keys, accepted), key=itemgetter(0))]
    del keys
    verdicts = result.verdicts
    for table in ("customers", "vehicles") + (("repair_orders",) if kind == "orders" else ()):
        merger.bulk_load(table, len(ordered))
    merge_row = (merger.merge_order_row if kind == "orders"
                 else lambda record: merger.merge_vehicle_row(dict(zip(fields, record))))
    for start in range(0, len(ordered), MERGE_BATCH):
        batch = ordered[start:start + MERGE_BATCH]
        if kind == "orders":
            merger.load_orders([order_no(pr.record) for pr in batch])
        for pr in batch:
            verdict = merge_row(pr.record)
            if merger.row_flags:
                for fld, value, reason in merger.row_flags:
                    p = Problem(pr.row_no, "flagged", fld, None, value, reason)
                    if not pr.problems:
                        pr.problems = []
                    pr.problems.append(p)
                    result.problems.append(p)
                merger.row_flags = []
            counts[verdict] += 1
            if pr.problems:
                if sieve is not None:
                    prints_dropped.append(merger.order_id)
                result.flagged += 1
                verdicts.append((pr.row_no, verdict + " (flagged)"))
            else:
                if sieve is not None:
                    prints_kept.append((merger.order_id, pr.fp))
                pr.record = None  # merged: only a row with problems is read again (below)
                verdicts.append((pr.row_no, verdict))
        if kind == "orders":
            merger.write_orders()
        if sieve is not None:
            sieve.store(prints_kept, prints_dropped)
            prints_kept, prints_dropped = [], []
    merger.flush()
    result.inserted, result.updated, result.unchanged = (
        counts["inserted"], counts["updated"], counts["unchanged"])
    result.verdicts.sort()
    # Link flagged problems to the records they belong to, for `customer show`.
    for pr in accepted:
        if not pr.problems:
            continue
        rec = dict(zip(fields, pr.record))
        v = merger.find_vehicle(rec)
        for p in pr.problems:
            p.vehicle_id = v["id"] if v else None
            p.order_no = rec.get("order_no")
            c = None
            key = Merger.customer_key(rec, v)
            if key:
                c = merger.customers.get(key)
            if c is None and v is not None:
                c = merger.cust_by_id.get(v.get("customer_id"))
            p.customer_id = c["id"] if c else None


def _store_problems(db, result: ImportResult, parsed: list[ParsedRow], fields: tuple[str, ...],
                    import_id: int) -> None:
    order_no = _field_getter(fields, "order_no")
    rows = []
    for pr in parsed:
        for p in pr.problems:
            rows.append((import_id, p.row_no, p.severity, p.field, p.column, p.value, p.reason,
                         p.order_no or order_no(pr.record), p.customer_id, p.vehicle_id))
    if rows:
        db.conn.executemany(
            "INSERT INTO row_problems (import_id, row_no, severity, field, column_name, value,"
            " reason, order_no, customer_id, vehicle_id) VALUES (?,?,?,?,?,?,?,?,?,?)", rows)


def _log_import(db, result: ImportResult, path: Path, *, now: str, status: str | None = None) -> int:
    cur = db.conn.execute(
        "INSERT INTO imports (kind, file_name, file_path, checksum, size, sheet, header_row, mapping,"
        " started_at, finished_at, status, message, by_user, aliases_mark)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (result.kind, path.name, str(path.resolve()), result.checksum, path.stat().st_size,
         result.sheet, result.header_row, json.dumps(dict(result.mapping), ensure_ascii=False),
         now, None if status == "running" else now, status or result.status, result.message,
         _user(), result.aliases_mark))
    return cur.lastrowid


def _finish_import(db, result: ImportResult, import_id: int) -> None:
    db.conn.execute(
        "UPDATE imports SET finished_at=?, status='done', rows_read=?, inserted=?, updated=?,"
        " unchanged=?, flagged=?, rejected=?, skipped=?, superseded=? WHERE id=?",
        (_now(), result.rows_read, result.inserted, result.updated, result.unchanged,
         result.flagged, result.rejected, result.skipped, result.superseded, import_id))


def record_refusal(db: sqlite_utils.Database, path: Path | str, kind: str, message: str) -> None:
    """Log a refused file in its own small transaction (the data tables stay untouched)."""
    path = Path(path)
    try:
        checksum = file_checksum(path) if path.is_file() else None
        size = path.stat().st_size if path.is_file() else None
    except OSError:
        checksum = size = None
    with write_transaction(db):
        db.conn.execute(
            "INSERT INTO imports (kind, file_name, file_path, checksum, size, started_at,"
            " finished_at, status, message, by_user) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (kind, path.name, str(path), checksum, size, _now(), _now(), "refused", message,
             _user()))


def rejects_sheet(result: ImportResult) -> list[list]:
    """The original rows of every rejected or flagged row, with the reasons in front.

    Laid out so a clerk can fix the cells and import this file again: the header
    is the file's own header, the added columns come first so they are seen.
    """
    by_row: dict[int, list[Problem]] = {}
    for p in result.problems:
        by_row.setdefault(p.row_no, []).append(p)
    cells = dict(result.problem_rows)
    missing = [row_no for row_no in by_row if not cells.get(row_no)]
    if missing:
        cells.update(_cells_again(result, missing))
    out = [["行号 Row", "处理 Verdict", "原因 Reason"] + list(result.header)]
    for row_no in sorted(by_row):
        probs = by_row[row_no]
        verdict = "拒绝 rejected" if any(p.severity == "rejected" for p in probs) else "已导入待核 flagged"
        reason = "; ".join(f"{p.column or p.field}: {p.reason}" for p in probs)
        out.append([row_no, verdict, reason] + list(cells.get(row_no) or []))
    return out


def _cells_again(result: ImportResult, row_nos: list[int]) -> dict[int, list]:
    """The cells of these rows, read from the file again.

    A row flagged while merging (a plate another car holds) was clean when parsed,
    and the cells of clean rows are not kept through an import. Nothing is read
    when the file is no longer the one imported.
    """
    path = Path(result.file)
    try:
        if file_checksum(path) != result.checksum:
            return {}
        _fmt, sheets = open_sheets(path)
        sheet = next((s for s in sheets if s.name == result.sheet), None)
        if sheet is None:
            return {}
        want, out = set(row_nos), {}
        for row_no, cells in sheet.rows:
            if row_no in want:
                out[row_no] = cells
                if len(out) == len(want):
                    break
        return out
    except (OSError, FileRefused):
        return {}
