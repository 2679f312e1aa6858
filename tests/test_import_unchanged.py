"""Rows of a re-export that did not change are counted unchanged without being processed.

Where a changed row is, the database ends exactly as if every row had been processed;
an unchanged group of rows (same customer or vehicle) is not merged again, so it does
not put the file's old values back over newer ones."""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from datetime import date, datetime, timedelta

import messy
import pytest
import store

from crmcli import db as dbmod
from crmcli import importing
from crmcli.normalize import vin_check_digit

TODAY = date(2026, 11, 26)
HEADER = ["工单号", "车牌号码", "车架号", "客户名称", "联系电话", "进厂日期", "结算日期",
          "进厂里程(km)", "维修类别", "工时费", "材料费", "合计金额", "服务顾问"]
COUNTS = ("rows_read", "inserted", "updated", "unchanged", "flagged", "rejected", "skipped",
          "superseded")


def vin(n: int) -> str:
    body = f"LFV2A21K0E{n:07d}"
    return body[:8] + vin_check_digit(body) + body[9:]


def orders(n_customers: int = 12, visits: int = 4) -> list[list]:
    """Customers with a vehicle each and several visits, rows not in date order."""
    rows = []
    for c in range(n_customers):
        for v in range(visits):
            day = datetime(2025, 1, 5) + timedelta(days=40 * v + c)
            rows.append([f"RO{c:03d}{v:02d}", f"粤B{c:05d}", vin(c), f"客户{c}",
                         f"138{c:08d}", day, day, 10000 + 5000 * v + c, "保养", 100, 200, 300,
                         "李娜"])
    rows.reverse()
    return rows


def write(tmp_path, rows, name, header=HEADER):
    return messy.write_xlsx(tmp_path / name, [header] + rows, title_rows=[["工单明细"]])


def run(database, path, **kw):
    return importing.import_file(database, path, "orders", today=TODAY, **kw)


def state(database) -> dict:
    """Every table the import writes, without the timestamps, and the import log."""
    out = store.import_tables(database)
    out["imports"] = database.conn.execute(
        f"SELECT status, {','.join(COUNTS)} FROM imports ORDER BY id").fetchall()
    return out


@pytest.fixture
def parsed_rows(monkeypatch):
    """How many rows were parsed (held-back rows are not)."""
    seen = []
    real = importing.parse._parse_chunk

    def spy(kind, chunk, *args):
        seen.extend(row_no for row_no, _cells in chunk)
        return real(kind, chunk, *args)

    monkeypatch.setattr(importing.parse, "_parse_chunk", spy)
    return seen


def reexport(rows):
    rows = [list(r) for r in rows]
    by_no = {r[0]: r for r in rows}
    by_no["RO00301"][7] += 7  # mileage corrected
    by_no["RO00502"][11] = 350  # amount corrected
    # an older visit read with another plate: the newer, unchanged rows of the same
    # vehicle must still have the last word on it
    by_no["RO00700"][1] = "粤B99999"
    new = [["RO09900", "粤B00003", vin(3), "客户3", "13800000003", datetime(2026, 11, 20),
            datetime(2026, 11, 20), 31000, "保养", 100, 200, 300, "王强"],
           ["RO09901", "粤B77777", vin(77), "新客户", "13900000077", datetime(2026, 11, 21),
            datetime(2026, 11, 21), 800, "首保", 0, 0, 0, "王强"]]
    return rows + new


def test_reexport_gives_exactly_what_processing_every_row_gives(tmp_path, parsed_rows):
    rows = orders()
    first, second = write(tmp_path, rows, "d1.xlsx"), write(tmp_path, reexport(rows), "d2.xlsx")
    dbs = []
    for name, skip in (("skip.db", True), ("all.db", False)):
        database = dbmod.connect(tmp_path / name)
        run(database, first)
        parsed_rows.clear()
        r = run(database, second, skip_unchanged=skip)
        dbs.append((database, r, len(parsed_rows)))
    (skipping, r_skip, n_skip), (every, r_all, n_all) = dbs
    assert state(skipping) == state(every)
    assert [getattr(r_skip, k) for k in COUNTS] == [getattr(r_all, k) for k in COUNTS]
    assert r_skip.verdicts == r_all.verdicts
    # RO00700 moves its car to the other plate and RO00701, a newer visit, moves it back:
    # the car's net change is none, so neither row counts as updated (nor is it logged)
    assert (r_skip.inserted, r_skip.updated, r_skip.unchanged) == (2, 2, 44 + 2)
    assert skipping.conn.execute("SELECT count(*) FROM changes WHERE field = 'plate'"
                                 ).fetchone()[0] == 0
    assert n_all == 50
    # the 4 visits of each of the 3 cars with a changed row, the new visit of one of
    # them, and the new car's visit
    assert n_skip == 3 * 4 + 1 + 1
    plate = skipping.conn.execute("SELECT plate FROM vehicles WHERE vin=?", (vin(7),)).fetchone()
    assert plate == ("粤B00007",)


def test_forced_same_file_parses_nothing_and_changes_nothing(db, tmp_path, parsed_rows):
    path = write(tmp_path, orders(), "d.xlsx")
    run(db, path)
    assert db.conn.execute("SELECT count(*) FROM order_row_prints").fetchone()[0] == 48
    before = state(db)
    parsed_rows.clear()
    r = run(db, path, force=True)
    assert (r.status, r.rows_read, r.inserted, r.updated, r.unchanged) == ("done", 48, 0, 0, 48)
    assert parsed_rows == []
    after = state(db)
    assert after.pop("imports")[-1] == ("done", 48, 0, 0, 48, 0, 0, 0, 0)
    before.pop("imports")
    assert after == before
    assert sorted(r.verdicts) == [(n, "unchanged") for n in range(3, 51)]


def test_another_column_mapping_processes_every_row_again(db, tmp_path, parsed_rows):
    rows = orders()
    run(db, write(tmp_path, rows, "d.xlsx"))
    parsed_rows.clear()
    wider = [r + ["换机油"] for r in rows]
    r = run(db, write(tmp_path, wider, "w.xlsx", header=HEADER + ["维修建议"]))
    assert len(parsed_rows) == 48 and r.updated == 48  # every order gets its advice
    parsed_rows.clear()
    r = run(db, write(tmp_path, wider, "w2.xlsx", header=HEADER + ["维修建议"]), force=True)
    assert parsed_rows == [] and r.unchanged == 48


def test_a_new_parser_version_processes_every_row_again(db, tmp_path, parsed_rows, monkeypatch):
    path = write(tmp_path, orders(), "d.xlsx")
    run(db, path)
    monkeypatch.setattr(importing.sieve, "ROW_PRINT_VERSION", importing.sieve.ROW_PRINT_VERSION + 1)
    parsed_rows.clear()
    r = run(db, path, force=True)
    assert len(parsed_rows) == 48 and r.unchanged == 48
    parsed_rows.clear()
    run(db, path, force=True)
    assert parsed_rows == []


def test_changed_parsing_code_processes_every_row_again(db, tmp_path, parsed_rows, monkeypatch):
    path = write(tmp_path, orders(), "d.xlsx")
    run(db, path)
    # What a fix to normalize.py (or the importer) without a version bump amounts to.
    monkeypatch.setattr(importing.sieve, "_parser_mark", lambda: "another parser")
    parsed_rows.clear()
    r = run(db, path, force=True)
    assert len(parsed_rows) == 48 and r.unchanged == 48


def test_a_flagged_row_is_processed_every_time(db, tmp_path, parsed_rows):
    rows = orders(3, 2)
    rows[0][4] = "12345"  # not a phone number: imported, flagged
    path = write(tmp_path, rows, "d.xlsx")
    assert run(db, path).flagged == 1
    parsed_rows.clear()
    r = run(db, path, force=True)
    assert (r.flagged, r.unchanged) == (1, 6)
    # the flagged row, and the other visit of its vehicle
    assert len(parsed_rows) == 2
    flags = db.conn.execute("SELECT import_id, field FROM row_problems ORDER BY id").fetchall()
    assert flags == [(1, "mobile"), (2, "mobile")]


def test_a_row_whose_order_number_repeats_is_processed(db, tmp_path, parsed_rows):
    rows = orders(3, 2)
    path = write(tmp_path, rows, "d.xlsx")
    run(db, path)
    parsed_rows.clear()
    r = run(db, write(tmp_path, rows + [list(rows[2])], "dup.xlsx"))
    assert (r.superseded, r.unchanged, r.updated) == (1, 6, 0)
    # both rows of the order, and the other visit of its car
    assert sorted(parsed_rows) == [5, 6, 9]


def test_an_unchanged_row_does_not_undo_what_a_later_file_changed(db, tmp_path):
    """The decision where skipping and processing differ: a row as it was last imported
    does not put its old values back over newer data from elsewhere (here a delivery
    list that gave the car a new plate); processed, it would."""
    rows = orders(2, 2)
    path = write(tmp_path, rows, "d.xlsx")
    run(db, path)
    deliveries = messy.write_xlsx(tmp_path / "v.xlsx", [["车架号", "车牌号", "客户姓名", "手机号码"],
                                                       [vin(1), "粤B88888", "客户1", "13800000001"]])
    importing.import_file(db, deliveries, "vehicles", today=TODAY)
    r = run(db, path, force=True)
    assert r.unchanged == 4
    assert db.conn.execute("SELECT plate FROM vehicles WHERE vin=?", (vin(1),)).fetchone() == (
        "粤B88888",)
    run(db, path, force=True, skip_unchanged=False)
    assert db.conn.execute("SELECT plate FROM vehicles WHERE vin=?", (vin(1),)).fetchone() == (
        "粤B00001",)


def test_prints_read_before_another_import_committed_are_checked_again(db, tmp_path, monkeypatch,
                                                                       parsed_rows):
    rows = orders(3, 2)
    path = write(tmp_path, rows, "d.xlsx")
    run(db, path)
    real = importing.run.write_transaction

    @contextmanager
    def after_another_import(database):
        # between the parse and the write transaction, another process changes an order
        other = sqlite3.connect(tmp_path / "test.db")
        with other:
            other.execute("UPDATE order_row_prints SET fp = x'00' WHERE order_id = 1")
        other.close()
        with real(database) as d:
            yield d

    monkeypatch.setattr(importing.run, "write_transaction", after_another_import)
    parsed_rows.clear()
    r = run(db, path, force=True)
    assert r.unchanged == 6
    order_1 = db.conn.execute("SELECT order_no FROM repair_orders WHERE id = 1").fetchone()[0]
    row_1 = next(n for n, row in enumerate(rows, start=3) if row[0] == order_1)
    assert row_1 in parsed_rows and len(parsed_rows) == 2  # it and its vehicle's other visit
    fp = db.conn.execute("SELECT fp FROM order_row_prints WHERE order_id = 1").fetchone()[0]
    assert fp != b"\x00"


def test_a_date_counts_as_the_day_it_reads_as(db, tmp_path, parsed_rows):
    rows = orders()
    run(db, write(tmp_path, rows, "d1.xlsx"))
    again = [list(r) for r in rows]
    by_no = {r[0]: r for r in again}
    day1, day2 = by_no["RO00100"][5], by_no["RO00200"][5]
    by_no["RO00100"][5] = day1 + timedelta(hours=9)  # the hour it came in: the import keeps no hours
    by_no["RO00200"][5] = day2.strftime("%Y/%m/%d")  # the same day, typed as text
    by_no["RO00400"][6] = "下周三"  # no date at all
    parsed_rows.clear()
    r = run(db, write(tmp_path, again, "d2.xlsx"))
    # Only the row without a date is read again, and rejected; the other two changes
    # read as the same days as before, so neither they nor their cars' visits are parsed.
    assert parsed_rows == [again.index(by_no["RO00400"]) + 3]  # a title row and the header
    assert [(p.field, p.severity) for p in r.problems] == [("date_settled", "rejected")]
    assert (r.inserted, r.updated, r.unchanged, r.rejected) == (0, 0, 47, 1)
    assert db.conn.execute("SELECT date_in FROM repair_orders WHERE order_no = 'RO00200'"
                           ).fetchone()[0] == day2.date().isoformat()
