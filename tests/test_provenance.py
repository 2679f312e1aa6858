"""Every field knows where its value came from; a clerk's edit stands until an export
brings new information; a file's net change is what is applied, logged and counted; one
car and its owner's name are one customer whatever number a file gives."""

from __future__ import annotations

from datetime import date

import messy

from crmcli import customers, importing

TODAY = date(2026, 11, 26)
VIN_A = "LFV2A21K6E3066018"  # check digits worked by hand
VIN_B = "LSVAU2187N2183270"
DELIVERY = ["客户姓名", "手机号码", "车架号", "车牌号", "交车日期", "职业"]
ORDERS = ["工单号", "车牌号码", "车架号", "客户名称", "联系电话", "结算日期", "车型"]


def run(db, path, kind="vehicles", **kw):
    return importing.import_file(db, path, kind, today=TODAY, **kw)


def deliveries(tmp_path, name, occupation="医生", other="教练"):
    rows = [["张伟", "13607958890", VIN_A, "粤B12345", "2026-10-01", occupation],
            ["李娜", "13912345678", VIN_B, "粤B54321", "2026-10-02", other]]
    return messy.write_xlsx(tmp_path / name, [DELIVERY] + rows)


def occupation(db):
    return db.conn.execute("SELECT occupation FROM customers WHERE mobile='13607958890'"
                           ).fetchone()[0]


def test_a_clerks_edit_stands_until_the_export_brings_new_information(db, tmp_path):
    run(db, deliveries(tmp_path, "d1.xlsx"))
    cid = customers.get_one(db, "13607958890")["id"]
    customers.edit(db, cid, {"occupation": "教师"}, by="clerk")
    assert customers.provenance(db, "customer", cid)["occupation"]["source"] == "edit"

    # a re-export where only the other customer's row changed
    r = run(db, deliveries(tmp_path, "d2.xlsx", other="厨师"))
    assert (r.updated, r.unchanged) == (1, 1)
    assert occupation(db) == "教师"
    # the same file forced, every row processed: the edit still stands
    r = run(db, deliveries(tmp_path, "d2.xlsx", other="厨师"), force=True, skip_unchanged=False)
    assert (r.updated, occupation(db)) == (0, "教师")
    assert db.conn.execute("SELECT count(*) FROM changes WHERE field='occupation'"
                           " AND import_id IS NOT NULL AND entity_id=?", (cid,)).fetchone()[0] == 0

    # the export says something new: it wins, and the log says why
    r = run(db, deliveries(tmp_path, "d3.xlsx", occupation="律师", other="厨师"))
    assert (r.updated, occupation(db)) == (1, "律师")
    old, new, reason = db.conn.execute(
        "SELECT old_value, new_value, reason FROM changes WHERE field='occupation'"
        " AND import_id IS NOT NULL AND entity_id=?", (cid,)).fetchone()
    assert (old, new) == ("教师", "律师")
    assert reason.startswith("the export now says 律师 (it said 医生 before): new information"
                             " replaces the edit of ")
    assert customers.provenance(db, "customer", cid)["occupation"]["source"] == "import"


def test_a_corrected_mobile_from_a_call_stands_against_the_old_export(db, tmp_path):
    from crmcli.customers import note_sources

    run(db, deliveries(tmp_path, "d1.xlsx"))
    cid = customers.get_one(db, "13607958890")["id"]
    with db.conn:
        db.conn.execute("UPDATE customers SET mobile='13607958891', mobile_source='call'"
                        " WHERE id=?", (cid,))
        note_sources(db, "customer", cid, {"mobile": "13607958890"}, "call", now="2026-11-20T10:00",
                     by="clerk")
    run(db, deliveries(tmp_path, "d2.xlsx", other="厨师"))
    assert db.conn.execute("SELECT mobile FROM customers WHERE id=?", (cid,)).fetchone()[0] \
        == "13607958891"


def test_within_one_file_the_net_change_is_applied_logged_and_counted(db, tmp_path):
    # The same car's model read three ways in one file: 卡罗拉 -> 雷凌 -> 卡罗拉.
    rows = [["R1", "粤B12345", VIN_A, "张伟", "13607958890", "2026-09-01", "卡罗拉"],
            ["R2", "粤B12345", VIN_A, "张伟", "13607958890", "2026-09-05", "雷凌"],
            ["R3", "粤B12345", VIN_A, "张伟", "13607958890", "2026-09-09", "卡罗拉"]]
    path = messy.write_xlsx(tmp_path / "o.xlsx", [ORDERS] + rows)
    first = run(db, path, kind="orders")
    assert (first.inserted, first.updated) == (3, 0)
    again = run(db, path, kind="orders", force=True, skip_unchanged=False)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3)
    assert db.conn.execute("SELECT count(*) FROM changes").fetchone()[0] == 0
    assert db.conn.execute("SELECT model FROM vehicles").fetchone()[0] == "卡罗拉"


def test_one_car_and_its_owners_name_are_one_customer_whatever_the_number(db, tmp_path):
    # The delivery list gives a landline; the orders a mobile, then an invalid number.
    run(db, messy.write_xlsx(tmp_path / "d.xlsx", [DELIVERY, ["王芳", "0755-86543210", VIN_A,
                                                             "粤B12345", "2026-10-01", ""]]))
    rows = [["R1", "粤B12345", VIN_A, "王芳", "13812345678", "2026-10-20", ""],
            ["R2", "粤B12345", VIN_A, "王芳", "1381234", "2026-11-02", ""]]
    path = messy.write_xlsx(tmp_path / "o.xlsx", [ORDERS] + rows)
    r = run(db, path, kind="orders")
    assert (r.inserted, r.flagged) == (2, 1)
    assert db.conn.execute("SELECT name, mobile, phone_kind, other_phones FROM customers"
                           ).fetchall() == [("王芳", "13812345678", "mobile", "075586543210")]
    assert db.conn.execute("SELECT count(DISTINCT customer_id) FROM repair_orders").fetchone()[0] == 1
    again = run(db, path, kind="orders", force=True, skip_unchanged=False)
    assert (again.updated, db.conn.execute("SELECT count(*) FROM customers").fetchone()[0]) == (0, 1)
