"""The rows of an orders file unchanged since they were last imported, held back unparsed."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import pickle
from collections.abc import Iterable
from datetime import date
from operator import itemgetter
from pathlib import Path

from .. import normalize as nz
from .parse import DATE_FIELDS, Column, cell_days, learn_column, padded, parse_rows
from .result import ParsedRow

# Bump whenever a change to merging could make the same cells give another result:
# every stored fingerprint then stops matching, and each row is processed once more.
# (A digest of the parsing code is part of the key too, so a changed parser never
# trusts the prints of an older one.)
ROW_PRINT_VERSION = 2


@functools.cache
def _parser_mark() -> str:
    """A digest of the code that turns cells into records (this package, normalize,
    names, fields, excel): a fix to any of it makes every stored row print stale, even
    when the release number stays the same."""
    digest = hashlib.blake2b(digest_size=16)
    here = Path(__file__).resolve().parent
    sources = [*sorted(here.glob("*.py")),
               *(here.parent / name for name in ("normalize.py", "names.py", "fields.py", "excel.py"))]
    for path in sources:
        try:
            digest.update(path.read_bytes())
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

    def sift(self, chunk: list[tuple[int, list]], columns: list[Column]
             ) -> tuple[list[tuple[int, list]], list[bytes]]:
        """(the rows of the chunk to parse, their prints); keeps the candidates.

        A date column goes into the print as the day it parses to (the parse keeps
        no more of it), from the column's own cache: pickling a datetime cell costs
        a third of a row's print. A cell that does not parse cleanly stays as it is.
        """
        get, need, key = self.get, self.need, self.key
        dumps, blake2b = pickle.dumps, hashlib.blake2b
        cols = list(zip(*map(get, padded(chunk, need))))
        for col in columns:
            if col.field in self.DAY_FIELDS and col.index in self.cols:
                j = self.cols.index(col.index)
                days = cell_days(cols[j])
                learn_column(col, days)
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
