"""One file into the store: read, find the header, parse, merge, log, as one transaction.

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

import gc
import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from itertools import chain
from pathlib import Path

import sqlite_utils

from .. import clock
from ..db import write_transaction
from ..errors import FileRefused, UsageError
from ..excel import open_sheets
from ..facts import bulk_insert
from ..fields import FIELDS_BY_KIND, alias_table
from .header import HEADER_SCAN_ROWS, alternate_columns, find_header, map_columns
from .merge import field_getter, merge_rows
from .parse import parse_rows
from .result import ImportResult, ParsedRow, Problem, note_problems
from .sieve import RowSieve
from ..i18n import _

_now = clock.stamp
_user = clock.user_name


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
        raise UsageError(_("unknown import kind {kind!r}; use orders or vehicles").format(
                             kind=kind))
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
            result.message = _("same content as import #{id} of {when}: nothing to change (use "
                               "--force to process it again)").format(id=previous[0],
                                                                       when=previous[1])
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
                result.warnings.append(_(
                    "sheet(s) {sheets} also hold a header and were not imported; save each "
                    "sheet as a file of its own and import those").format(sheets=", ".join(others)))
            break
    if not found:
        if kind == "orders" and _delivery_list(path, aliases):
            raise FileRefused(_("{name}: this is a delivery list (VINs with delivery or "
                                "purchase dates, no order numbers); import it with `crmcli "
                                "import vehicles {name}`").format(name=path.name))
        wanted = "an order number column (工单号/委托书号/RO Number)" if kind == "orders" \
            else "a VIN or plate column (车架号/车牌号)"
        raise FileRefused(
            _("{name}: no header row with {wanted} in the first {HEADER_SCAN_ROWS} rows; check "
              "it is a DMS export, or add the column names to [import.aliases] in the settings").format(
                name=path.name, wanted=wanted, HEADER_SCAN_ROWS=HEADER_SCAN_ROWS)
        )
    header_row, header, mapping, pending = found
    if kind == "vehicles":
        order_col = next((h for h, f in map_columns(header, alias_table("orders", aliases)).items()
                          if f == "order_no"), None)
        if order_col is not None:
            # An order export read as a delivery list would move cars by its 送修人 and guess
            # usages: refused before anything is read.
            raise FileRefused(_("{name}: this is a repair-order export (column {strip!r} holds "
                                "order numbers); import it with `crmcli import orders {name}`").format(
                                  name=path.name, strip=str(header[order_col]).strip()))
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
                                                         progress, alternates,
                                                         sieve.sift if sieve else None)

        result.skipped = len(skipped)
        result.rows_read = len(parsed) + len(skipped) + (len(sieve.candidates) if sieve else 0)
        if result.rows_read == 0:
            result.message = _("no data rows under the header on row {row}").format(row=header_row)
            result.warnings.append(result.message)
        for row_no, reason in skipped:
            result.verdicts.append((row_no, f"skipped: {reason}"))
        note_problems(result, parsed)

        now = _now()
        try:
            with write_transaction(db):
                import_id = _log_import(db, result, path, now=now, status="running")
                result.import_id = import_id
                # The facts of what the import inserts are brought up to date once, at
                # the end, rather than by a trigger per row (facts.bulk_insert).
                with bulk_insert(db.conn):
                    merge_rows(db, result, parsed, rec_fields, kind, import_id, now, _user(),
                               sieve)
                _store_problems(db, result, parsed, rec_fields, import_id)
                _finish_import(db, result, import_id)
                if dry_run:
                    raise _DryRun
        except _DryRun:
            result.status = "dry-run"
            result.import_id = None
    return result


def _delivery_list(path: Path, aliases: dict[str, list[str]] | None) -> bool:
    """Whether a file refused as orders has a delivery list's header (read once more)."""
    table = alias_table("vehicles", aliases)
    try:
        _fmt, sheets = open_sheets(path)
        for sheet in sheets:
            found = find_header(sheet.rows, table, ("vin", "plate"))
            if found and {"delivery_date", "purchase_date"} & set(found[2].values()):
                return True
    except FileRefused:
        pass
    return False


@contextmanager
def _gc_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _store_problems(db, result: ImportResult, parsed: list[ParsedRow], fields: tuple[str, ...],
                    import_id: int) -> None:
    order_no = field_getter(fields, "order_no")
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
    from ..reasons import translate  # the reasons in the language of the run

    out = [["行号 Row", "处理 Verdict", "原因 Reason"] + list(result.header)]
    for row_no in sorted(by_row):
        probs = by_row[row_no]
        verdict = "拒绝 rejected" if any(p.severity == "rejected" for p in probs) else "已导入待核 flagged"
        reason = "; ".join(f"{p.column or p.field}: {translate(p.reason)}" for p in probs)
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
