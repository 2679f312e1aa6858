"""Duplicates found with their evidence, merged with everything that names them, undone,
and not split again by a later import; the customer file shows calls, tasks,
complaints and the change history."""

from __future__ import annotations

from datetime import date

import messy
import pytest

from crmcli import customers, duplicates, importing
from crmcli.errors import UsageError

TODAY = date(2026, 11, 26)
VIN_A = "LFV2A21K6E3066018"  # check digit worked by hand
VIN_A_TYPO = "LFV2A21K6E3066O18"
ORDERS = ["工单号", "车牌号码", "车架号", "客户名称", "联系电话", "结算日期"]
NOW = "2026-11-26T10:00:00"


def run(db, path, kind="orders", **kw):
    return importing.import_file(db, path, kind, today=TODAY, **kw)


def two_zhangs(db, tmp_path):
    """张伟 on two mobiles one digit apart, on two cars: two records of one person."""
    rows = [["R1", "粤B12345", VIN_A, "张伟", "13812345678", "2026-09-01"],
            ["R2", "粤B54321", "", "张伟", "13812345679", "2026-09-05"]]
    path = messy.write_xlsx(tmp_path / "o.xlsx", [ORDERS] + rows)
    run(db, path)
    return path, [r[0] for r in db.conn.execute("SELECT id FROM customers ORDER BY id")]


def test_duplicates_lists_pairs_with_their_evidence(db, tmp_path):
    _path, (a, b) = two_zhangs(db, tmp_path)
    run(db, messy.write_xlsx(tmp_path / "v.xlsx", [ORDERS, ["R3", "粤B12345", VIN_A_TYPO, "张伟",
                                                           "13812345678", "2026-09-09"]]))
    pairs = duplicates.suspected(db)
    assert {"kind": "customer", "a": a, "b": b, "evidence": [
        "same name 张伟, numbers one digit apart (13812345678, 13812345679)"]} in pairs
    # the mistyped VIN found its car by plate (one car), so no vehicle pair is left
    assert [p for p in pairs if p["kind"] == "vehicle"] == []


def test_vins_one_character_apart_on_one_plate_are_suspected(db):
    with db.conn:
        db.conn.execute("INSERT INTO vehicles (id, vin, plate, created_at, updated_at)"
                        " VALUES (1, ?, '粤B12345', ?, ?), (2, ?, '粤B12345', ?, ?)",
                        (VIN_A, NOW, NOW, VIN_A_TYPO, NOW, NOW))
    assert duplicates.suspected(db) == [{"kind": "vehicle", "a": 1, "b": 2, "evidence": [
        f"plate 粤B12345, VINs one character apart ({VIN_A}, {VIN_A_TYPO})"]}]


def test_merge_moves_everything_keeps_the_numbers_and_undo_puts_it_back(db, tmp_path):
    path, (a, b) = two_zhangs(db, tmp_path)
    before = {t: db.conn.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall()
              for t in ("customers", "vehicles", "vehicle_owners", "repair_orders")}
    with db.conn:
        db.conn.execute("INSERT INTO complaints (customer_id, category, text, state, opened_at, opened_by,"
                        " escalate_by, reply_by) VALUES (?, 'service', '等太久', 'open', ?, 'clerk', ?, ?)",
                        (b, NOW, NOW, NOW))
    m = duplicates.merge(db, "customer", a, b, by="clerk", now=NOW)
    assert db.conn.execute("SELECT count(*) FROM customers").fetchone()[0] == 1
    assert db.conn.execute("SELECT DISTINCT customer_id FROM repair_orders").fetchall() == [(a,)]
    assert db.conn.execute("SELECT DISTINCT customer_id FROM vehicles").fetchall() == [(a,)]
    assert db.conn.execute("SELECT customer_id FROM complaints").fetchone()[0] == a
    assert db.conn.execute("SELECT mobile, other_phones FROM customers").fetchone() == (
        "13812345678", "13812345679")
    # a later import of the same file does not split them again
    r = run(db, path, force=True, skip_unchanged=False)
    assert (r.inserted, db.conn.execute("SELECT count(*) FROM customers").fetchone()[0]) == (0, 1)
    assert db.conn.execute("SELECT DISTINCT customer_id FROM repair_orders").fetchall() == [(a,)]

    duplicates.undo(db, m["merge_id"], by="clerk", now=NOW)
    after = {t: db.conn.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall() for t in before}
    assert after["repair_orders"] == before["repair_orders"]
    assert after["vehicles"] == before["vehicles"]
    assert [r[0] for r in db.conn.execute("SELECT id FROM customers ORDER BY id")] == [a, b]
    assert db.conn.execute("SELECT customer_id FROM complaints").fetchone()[0] == b
    with pytest.raises(UsageError, match="undone"):
        duplicates.undo(db, m["merge_id"], by="clerk", now=NOW)


def test_vehicle_merge_moves_orders_and_a_later_import_finds_the_kept_car(db, tmp_path):
    with db.conn:
        db.conn.execute("INSERT INTO vehicles (id, vin, plate, created_at, updated_at)"
                        " VALUES (1, ?, '粤B12345', ?, ?), (2, ?, '粤B99999', ?, ?)",
                        (VIN_A, NOW, NOW, VIN_A_TYPO, NOW, NOW))
    path = messy.write_xlsx(tmp_path / "o.xlsx", [ORDERS, ["R1", "粤B99999", VIN_A_TYPO, "张伟",
                                                          "13812345678", "2026-09-01"]])
    run(db, path)
    assert db.conn.execute("SELECT vehicle_id FROM repair_orders").fetchone()[0] == 2
    duplicates.merge(db, "vehicle", 1, 2, by="clerk", now=NOW)
    assert db.conn.execute("SELECT vehicle_id FROM repair_orders").fetchone()[0] == 1
    run(db, path, force=True, skip_unchanged=False)
    assert db.conn.execute("SELECT count(*) FROM vehicles").fetchone()[0] == 1


def test_the_customer_file_shows_calls_tasks_complaints_and_changes_newest_first(db, tmp_path):
    _path, (a, _b) = two_zhangs(db, tmp_path)
    customers.edit(db, a, {"occupation": "教师"}, by="clerk")
    customers.edit(db, a, {"occupation": "律师"}, by="clerk")
    with db.conn:
        db.conn.execute("INSERT INTO complaints (customer_id, category, text, state, opened_at, opened_by,"
                        " escalate_by, reply_by) VALUES (?, 'service', '等太久', 'open', ?, 'clerk', ?, ?)",
                        (a, NOW, NOW, NOW))
    f = customers.customer_file(db, a)
    assert [(h["old_value"], h["new_value"]) for h in f["history"]][:2] == [
        ("教师", "律师"), (None, "教师")]
    assert [c["text"] for c in f["complaints"]] == ["等太久"]
    assert f["calls"] == [] and f["open_tasks"] == []


def test_the_commands_list_merge_undo_and_show(db, tmp_path):
    import json

    from typer.testing import CliRunner

    from crmcli.cli import app

    _path, (a, b) = two_zhangs(db, tmp_path)

    def invoke(*args):
        return CliRunner().invoke(app, [str(x) for x in args])

    r = invoke("customer", "duplicates", "--json")
    assert r.exit_code == 0, r.output
    assert [(p["a"], p["b"]) for p in json.loads(r.stdout)] == [(a, b)]
    r = invoke("customer", "duplicates")
    assert r.exit_code == 0 and "numbers one digit apart" in r.stdout
    r = invoke("customer", "merge", f"#{a}", f"#{b}")
    assert r.exit_code == 0, r.output
    assert f"customer #{b} merged into #{a}" in r.stdout and "--undo 1" in r.stdout
    r = invoke("customer", "show", f"#{a}")
    assert r.exit_code == 0, r.output
    assert "Changes to the record" in r.stdout and "merge #1" in r.stdout
    r = invoke("customer", "merge", "--undo", "1")
    assert r.exit_code == 0, r.output
    assert db.conn.execute("SELECT count(*) FROM customers").fetchone()[0] == 2
    r = invoke("customer", "merge", f"#{a}")
    assert r.exit_code == 2 and "--undo MERGE_ID" in r.stderr
    r = invoke("vehicle", "merge", "粤B12345", "粤B54321", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["moved"]["repair_orders"] == 1
