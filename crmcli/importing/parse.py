"""Cells -> fields: each data row of a sheet normalised into a record, or rejected."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from itertools import repeat

from .. import normalize as nz
from ..excel import MAX_CELL_CHARS
from ..fields import header_key
from ..normalize import parse_lunar_birthday
from .result import ParsedRow, Problem

TOTALS_WORDS = ("合计", "总计", "小计", "total", "sum")
_TOTALS_FIRST = frozenset(w[0] for w in TOTALS_WORDS)


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
    "contact_name": nz.parse_name, "contact_phone": _p_phone,
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


def _trimming(parse: Callable) -> Callable:
    """The parser, given a text cell without the whitespace around it: a tab or a
    no-break space before an ID number or a VIN is how the DMS wrote it, not part of it."""
    trim = nz.trim

    def parse_trimmed(raw):
        return parse(trim(raw) if type(raw) is str else raw)

    return parse_trimmed


def _column_parser(fld: str, today: date) -> Callable:
    parser = PARSERS.get(fld)
    if parser is nz.text:
        return parser  # text() trims, and the order numbers' fast path knows it by name
    if parser is not None:
        return _trimming(parser)
    if fld in DATE_FIELDS:
        limit = None if fld in FUTURE_OK else today

        def parse_day(raw):
            d = nz.parse_date(raw, today=limit)
            return None if d is None else d.isoformat()

        return _trimming(parse_day)

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
class Column:
    index: int
    field: str
    name: str
    parse: Callable
    cache: dict | None  # raw -> _convert result, for the slow path too
    plain: dict  # raw -> value, for the raws whose value needs no flag nor another field
    raw_text: dict | None  # service_type only: raw -> the raw text kept beside the type


# (a chunk of (row, cells), the columns) -> (the rows to parse, their prints): RowSieve.sift
Sift = Callable[[list[tuple[int, list]], list[Column]], tuple[list[tuple[int, list]], list[bytes]]]


def parse_rows(
    kind: str,
    rows: Iterable[tuple[int, list]],
    mapping: dict[int, str],
    header: list,
    today: date,
    progress: Callable[[int], None] | None = None,
    alternates: dict[int, list[int]] | None = None,
    sift: Sift | None = None,
) -> tuple[list[ParsedRow], list[tuple[int, str]], int, tuple[str, ...]]:
    """Normalise each data row. Returns (parsed rows, skipped (row, reason), blank
    count, the record fields: each ParsedRow.record is a tuple of their values).

    Each column's parser runs once per distinct cell value (DMS exports repeat
    VINs, names, dates and types row after row); dates come out as ISO text.
    Rows are normalised a chunk at a time, column by column; a row with anything
    to say (a flagged cell, a missing key field) is parsed again on its own by
    the row-by-row rules, so its record and problems are exactly theirs.

    With ``sift`` (sieve.RowSieve.sift), each chunk goes through it first: the rows
    it holds back (unchanged since they were last imported) are not parsed.
    """
    alternates = alternates or {}
    fields = record_fields(mapping)
    columns = [Column(i, f, str(header[i]).strip(), _column_parser(f, today),
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
            _parse_sifted(kind, chunk, columns, fields, colnames, alternates, need, out, sift)
            chunk = []
    if chunk:
        _parse_sifted(kind, chunk, columns, fields, colnames, alternates, need, out, sift)
    return out, skipped, blank, fields


def _parse_sifted(kind, chunk, columns, fields, colnames, alternates, need, out, sift) -> None:
    if sift is None:
        _parse_chunk(kind, chunk, columns, fields, colnames, alternates, need, out)
        return
    chunk, prints = sift(chunk, columns)
    if not chunk:
        return
    start = len(out)
    _parse_chunk(kind, chunk, columns, fields, colnames, alternates, need, out)
    for pr, fp in zip(out[start:], prints):
        pr.fp = fp


def _parse_chunk(kind: str, chunk: list[tuple[int, list]], columns: list[Column],
                 fields: tuple[str, ...], colnames: dict[str, str],
                 alternates: dict[int, list[int]], need: int, out: list[ParsedRow]) -> None:
    """Normalise a chunk of rows column by column; append a ParsedRow for each."""
    raw_cols = list(zip(*padded(chunk, need)))
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
            raws = cell_days(raws)
        plain = col.plain
        odd = learn_column(col, raws)
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


def padded(chunk: list[tuple[int, list]], need: int) -> list[list]:
    """The cells of each row, with None for the columns past a short row's end."""
    return [cells if len(cells) >= need else [*cells, *repeat(None, need - len(cells))]
            for _row_no, cells in chunk]


def cell_days(raws) -> list:
    """A date column's cells with the time of day dropped: the parse keeps only the day,
    and a day is one cache entry however many times it was stamped."""
    return [raw.date() if type(raw) is datetime else raw for raw in raws]


def learn_column(col: Column, raws) -> set:
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


def _uncached_values(col: Column, raws, slow: set[int]) -> list:
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
    if "delivery_date" in slot or "purchase_date" in slot:
        delivered, bought = col("delivery_date"), col("purchase_date")
        slow.update(k for k in range(nrows) if not delivered[k] and not bought[k])
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


def _parse_row(kind: str, row_no: int, cells: list, columns: list[Column],
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
        dated = [f for f in ("delivery_date", "purchase_date") if f in colnames]
        if dated and not any(rec.get(f) for f in dated):
            # A delivery list lists deliveries: a row without a real date (待定, blank,
            # 2025-02-30) is a pending sale or a typo, and must not move a car or make one.
            fld = dated[0]
            p = flagged.get(fld) or next((flagged[f] for f in dated if f in flagged), None)
            if p is not None:
                _reject(pr, p.field, f"no real delivery date ({p.reason}): a pending sale is"
                        " not a delivery", p.value, colnames=colnames)
            else:
                _reject(pr, fld, "no delivery date: a pending sale is not a delivery",
                        colnames=colnames)
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
