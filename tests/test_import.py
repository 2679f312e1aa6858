"""Importing repair orders and delivery lists from messy DMS exports."""

from __future__ import annotations

from datetime import date, datetime

import messy
import pytest

from crmcli import importing
from crmcli.errors import FileRefused

TODAY = date(2026, 11, 26)
HEADER = ["工单号", "车牌号码", "车架号", "客户名称", "联系电话", "进厂日期", "结算日期",
          "进厂里程(km)", "维修类别", "工时费", "材料费", "合计金额", "服务顾问"]
# Real-world VINs with correct check digits (position 9), checked by hand.
VIN_A = "LFV2A21K4E3066018"
VIN_B = "LSVAU2180N2183270"
TITLE = [["维修结算工单明细"], ["统计期间：2026-10-01 至 2026-11-25"]]


def vin_with_check(prefix8: str, suffix8: str) -> str:
    from crmcli.normalize import vin_check_digit

    body = prefix8 + "0" + suffix8
    return prefix8 + vin_check_digit(body) + suffix8


def good_rows():
    v1 = vin_with_check("LFV2A21K", "E3066018")
    v2 = vin_with_check("LSVAU218", "N2183270")
    v3 = vin_with_check("LGBH52E0", "1Y123456")
    return [
        ["RO2026100100001", "粤B12345", v1, "张伟", 13812345678.0, datetime(2026, 10, 1), datetime(2026, 10, 1),
         15000, "首保", 0, 0, 0, "李娜"],
        [2026100201, "粤B·23456", v2, "欧阳娜", "138 0013 8000", 46297, "2026/10/2", "23,456",
         "一般维修", "￥300.00", "450.5", "750.5", "王强"],
        ["RO2026100300003", "粤bd12345", v3, "深圳市某某科技有限公司", "0755-86543210", "2026年10月3日",
         "20261003", "1.2万", "钣喷", 1200, 800, 2000, "李娜"],
    ]


def table_dump(database, tables=("customers", "vehicles", "vehicle_owners", "repair_orders",
                                 "row_problems", "changes")):
    out = {}
    for t in tables:
        cur = database.conn.execute(f"SELECT * FROM {t} ORDER BY rowid")
        out[t] = cur.fetchall()
    return out


def orders_file(tmp_path, rows, name="orders.xlsx", header=HEADER, title=TITLE):
    return messy.write_xlsx(tmp_path / name, [header] + rows, title_rows=title)


def run(db, path, kind="orders", **kw):
    return importing.import_file(db, path, kind, today=TODAY, **kw)


# --------------------------------------------------------------------------- normalising


def test_messy_xlsx_is_normalised_field_by_field(db, tmp_path):
    path = orders_file(tmp_path, good_rows())
    r = run(db, path)
    assert (r.inserted, r.updated, r.rejected, r.status) == (3, 0, 0, "done")
    assert r.header_row == 3  # two title rows above the header
    rows = db.conn.execute(
        "SELECT order_no, order_date, date_in, mileage, service_type, labour_fen, parts_fen,"
        " total_fen FROM repair_orders ORDER BY order_no").fetchall()
    assert rows == [
        ("2026100201", "2026-10-02", "2026-10-02", 23456, "repair", 30000, 45050, 75050),
        ("RO2026100100001", "2026-10-01", "2026-10-01", 15000, "first_maintenance", 0, 0, 0),
        ("RO2026100300003", "2026-10-03", "2026-10-03", 12000, "bodypaint", 120000, 80000, 200000),
    ]
    phones = dict(db.conn.execute("SELECT name, mobile FROM customers").fetchall())
    assert phones == {"张伟": "13812345678", "欧阳娜": "13800138000",
                      "深圳市某某科技有限公司": "075586543210"}
    plates = {r[0] for r in db.conn.execute("SELECT plate FROM vehicles")}
    assert plates == {"粤B12345", "粤B23456", "粤BD12345"}


def test_every_row_is_accounted_for(db, tmp_path):
    rows = good_rows()
    rows.insert(1, [None] * len(HEADER))  # blank row
    rows.append(["", "", "", "", "", "", "", "", "", "", "", "", ""])
    rows.append(["合计", "", "", "", "", "", "", "", "", 1500, 1250.5, 2750.5, ""])
    rows.append(["RO-NO-DATE", "粤B99999", "", "赵六", "13912345678", "", "", "", "", "", "", "", ""])
    rows.append(["", "粤B88888", "", "钱七", "13912345679", "2026-10-05", "2026-10-05", "", "", "", "", "", ""])
    rows.append(["RO-BAD-DATE", "粤B77777", "", "孙八", "13912345670", "", "2025-02-30", "", "", "", "", "", ""])
    rows.append(["RO-FUTURE", "粤B66666", "", "周九", "13912345671", "", "2027-01-01", "", "", "", "", "", ""])
    path = orders_file(tmp_path, rows)
    r = run(db, path)
    assert r.rows_read == r.inserted + r.updated + r.unchanged + r.rejected + r.skipped + r.superseded
    assert (r.inserted, r.rejected, r.skipped) == (3, 4, 1)
    reasons = sorted(p.reason for p in r.problems if p.severity == "rejected")
    assert reasons[0] == "no order date"
    assert any("no order number" == x for x in reasons)
    assert any("not a real date" in x for x in reasons)
    assert any("future" in x for x in reasons)
    # Rejections are stored with file row numbers (title rows and header counted).
    stored = db.conn.execute(
        "SELECT row_no, reason FROM row_problems WHERE severity='rejected' ORDER BY row_no").fetchall()
    assert [row for row, _ in stored] == sorted(p.row_no for p in r.problems if p.severity == "rejected")
    # rows 1-2 title, 3 header, 4-8 good and blank rows, 9 totals: the first rejected is row 10
    assert stored[0][0] == 10


def test_invalid_phone_vin_plate_are_imported_and_flagged(db, tmp_path):
    bad_vin = "LFV2A21K5E3066018" if vin_with_check("LFV2A21K", "E3066018")[8] != "5" else \
        "LFV2A21K6E3066018"
    rows = [["RO1", "粤B1234", bad_vin, "张伟", "12345", "2026-10-01", "2026-10-01", 1000, "保养",
             0, 0, 0, ""]]
    r = run(db, orders_file(tmp_path, rows))
    assert (r.inserted, r.flagged, r.rejected) == (1, 1, 0)
    fields = {p.field: p.reason for p in r.problems}
    assert set(fields) == {"mobile", "vin", "plate"}
    assert "check digit" in fields["vin"]
    vin, plate = db.conn.execute("SELECT vin, plate FROM vehicles").fetchone()
    assert (vin, plate) == (bad_vin, "粤B1234")  # kept as cleaned, to identify the vehicle
    assert db.conn.execute("SELECT mobile FROM customers").fetchone()[0] is None
    linked = db.conn.execute(
        "SELECT count(*) FROM row_problems WHERE severity='flagged' AND vehicle_id IS NOT NULL"
        " AND order_no='RO1'").fetchone()[0]
    assert linked == 3


@pytest.mark.parametrize("writer,encoding", [
    ("xls", None), ("csv", "gbk"), ("csv", "utf-8-sig"), ("csv", "utf-8"), ("csv", "gb18030"),
])
def test_every_format_stores_the_same_records(tmp_path, writer, encoding):
    from crmcli import db as dbmod

    rows = [[c.strftime("%Y-%m-%d") if isinstance(c, datetime) else c for c in r] for r in good_rows()]
    ref_db = dbmod.connect(tmp_path / "ref.db")
    run(ref_db, messy.write_xlsx(tmp_path / "ref.xlsx", [HEADER] + rows, title_rows=TITLE))
    other = dbmod.connect(tmp_path / "other.db")
    if writer == "xls":
        path = messy.write_xls(tmp_path / "o.xls", [HEADER] + rows, title_rows=TITLE)
    else:
        path = messy.write_csv(tmp_path / "o.csv", [HEADER] + rows, encoding=encoding,
                               title_rows=TITLE)
    r = run(other, path)
    assert r.inserted == 3 and r.rejected == 0
    q = "SELECT order_no, order_date, mileage, total_fen, service_type FROM repair_orders ORDER BY 1"
    assert other.conn.execute(q).fetchall() == ref_db.conn.execute(q).fetchall()
    q = "SELECT name, mobile FROM customers ORDER BY 1"
    assert other.conn.execute(q).fetchall() == ref_db.conn.execute(q).fetchall()


def test_formula_cells_are_read_as_their_values(db, tmp_path):
    header = ["工单号", "结算日期", "工时费", "材料费", "合计金额"]
    path = messy.write_xlsx_with_formula(tmp_path / "f.xlsx", header,
                                         [["RO9", "2026-10-01", 100, 250, 350]], formula_col=4)
    run(db, path)
    assert db.conn.execute("SELECT total_fen FROM repair_orders").fetchone()[0] == 35000


def test_hidden_sheet_is_ignored(db, tmp_path):
    path = messy.write_xlsx(tmp_path / "h.xlsx", [HEADER] + good_rows(), hidden_sheet_first=True)
    r = run(db, path)
    assert r.inserted == 3 and r.sheet != "hidden"


# --------------------------------------------------------------------------- idempotency


def test_same_file_again_changes_nothing_even_forced(db, tmp_path):
    path = orders_file(tmp_path, good_rows())
    run(db, path)
    before = table_dump(db)
    again = run(db, path)
    assert again.status == "same-file" and "import #1" in again.message
    forced = run(db, path, force=True)
    assert (forced.inserted, forced.updated, forced.unchanged) == (0, 0, 3)
    after = table_dump(db, tables=("customers", "vehicles", "vehicle_owners", "repair_orders",
                                   "changes"))
    assert {k: before[k] for k in after} == after
    log = db.conn.execute("SELECT status, checksum FROM imports ORDER BY id").fetchall()
    assert [s for s, _ in log] == ["done", "same-file", "done"]
    assert len({c for _, c in log}) == 1


def test_reexport_with_new_amount_updates_and_is_audited(db, tmp_path):
    run(db, orders_file(tmp_path, good_rows()))
    rows = good_rows()
    rows[0][11] = 388.0
    r = run(db, orders_file(tmp_path, rows, name="again.xlsx"))
    assert (r.inserted, r.updated, r.unchanged) == (0, 1, 2)
    total = db.conn.execute(
        "SELECT total_fen FROM repair_orders WHERE order_no='RO2026100100001'").fetchone()[0]
    assert total == 38800
    change = db.conn.execute("SELECT entity, field, old_value, new_value FROM changes").fetchall()
    assert change == [("order", "total_fen", "0", "38800")]


@pytest.mark.parametrize("batch", [1, 2, 5000])
def test_forced_reexport_with_changes_records_exactly_them(db, tmp_path, monkeypatch, batch):
    # Stored orders are loaded a merge batch at a time and compared row by row first;
    # small batches make the three orders cross batch boundaries.
    monkeypatch.setattr(importing.merge, "MERGE_BATCH", batch)
    run(db, orders_file(tmp_path, good_rows()))
    rows = good_rows()
    first = list(rows[0])
    first[11] = 999  # superseded by the later row of the same order
    rows[0][7], rows[0][11] = 16000, 388.0
    rows[1][12] = ""  # a blank advisor never erases the stored one
    bad = list(rows[2])
    bad[6], bad[11] = "2026-02-30", 5  # rejected: never changes the stored order
    new = ["RO2026110100009", "粤B12345", rows[0][2], "张伟", "13812345678", "", "2026-11-01",
           17000, "保养", 10, 20, 30, "李娜"]
    path = orders_file(tmp_path, [first] + rows + [bad, new], name="again.xlsx")
    r = run(db, path, force=True)
    assert (r.inserted, r.updated, r.unchanged, r.rejected, r.superseded) == (1, 1, 2, 1, 1)
    changes = db.conn.execute("SELECT entity, field, old_value, new_value FROM changes"
                              " ORDER BY id").fetchall()
    assert changes == [("order", "mileage", "15000", "16000"), ("order", "total_fen", "0", "38800")]
    stored = dict(db.conn.execute("SELECT order_no, total_fen FROM repair_orders").fetchall())
    assert stored == {"RO2026100100001": 38800, "2026100201": 75050, "RO2026100300003": 200000,
                      "RO2026110100009": 3000}
    assert db.conn.execute("SELECT advisor FROM repair_orders WHERE order_no='2026100201'"
                           ).fetchone()[0] == "王强"
    before = table_dump(db)
    again = run(db, path, force=True)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 4)
    assert table_dump(db) == {**before, "row_problems": table_dump(db)["row_problems"]}


def test_later_row_in_the_same_file_wins(db, tmp_path):
    rows = good_rows()
    dup = list(rows[0])
    dup[11] = 999
    rows.append(dup)
    r = run(db, orders_file(tmp_path, rows))
    assert (r.inserted, r.superseded) == (3, 1)
    assert db.conn.execute("SELECT total_fen FROM repair_orders WHERE order_no='RO2026100100001'"
                           ).fetchone()[0] == 99900


def test_fewer_columns_update_only_those_columns(db, tmp_path):
    run(db, orders_file(tmp_path, good_rows()))
    path = messy.write_xlsx(tmp_path / "slim.xlsx", [["工单号", "结算日期", "合计金额"],
                                                     ["RO2026100300003", "2026-10-03", 2100]])
    r = run(db, path)
    assert r.updated == 1
    row = db.conn.execute("SELECT total_fen, mileage, advisor, labour_fen FROM repair_orders"
                          " WHERE order_no='RO2026100300003'").fetchone()
    assert row == (210000, 12000, "李娜", 120000)


def test_rejected_row_never_changes_a_stored_order(db, tmp_path):
    run(db, orders_file(tmp_path, good_rows()))
    before = table_dump(db, tables=("repair_orders",))
    bad = [["RO2026100100001", "粤B12345", "", "张伟", "13812345678", "", "2026-02-30", 1, "保养",
            5, 5, 10, ""]]
    r = run(db, orders_file(tmp_path, bad, name="bad.xlsx"))
    assert r.rejected == 1 and r.exit_code == 1
    assert table_dump(db, tables=("repair_orders",)) == before


# --------------------------------------------------------------------------- merging


def test_customers_merge_by_mobile_and_name_vehicles_by_vin_then_plate(db, tmp_path):
    v = vin_with_check("LFV2A21K", "E3066018")
    rows = [
        ["R1", "粤B12345", v, "张伟", "13812345678", "", "2026-01-05", 5000, "保养", 0, 0, 0, ""],
        ["R2", "粤 B 12345", "", "张伟", "+86 138-1234-5678", "", "2026-06-05", 10000, "保养", 0, 0, 0, ""],
        ["R3", "", v.lower(), "张伟", "8613812345678", "", "2026-09-05", 15000, "保养", 0, 0, 0, ""],
    ]
    run(db, orders_file(tmp_path, rows))
    assert db.conn.execute("SELECT count(*) FROM customers").fetchone()[0] == 1
    assert db.conn.execute("SELECT count(*) FROM vehicles").fetchone()[0] == 1
    assert db.conn.execute("SELECT count(DISTINCT vehicle_id) FROM repair_orders").fetchone()[0] == 1


def test_an_order_naming_someone_else_never_moves_the_car_a_delivery_list_does(db, tmp_path):
    v = vin_with_check("LFV2A21K", "E3066018")
    rows = [
        ["R1", "粤B12345", v, "张伟", "13812345678", "", "2025-01-05", 5000, "保养", 0, 0, 0, ""],
        ["R2", "粤B12345", v, "李雷", "13912345678", "", "2026-06-05", 40000, "保养", 0, 0, 0, ""],
    ]
    run(db, orders_file(tmp_path, rows))

    def owners():
        return db.conn.execute(
            "SELECT c.name, o.since, o.until FROM vehicle_owners o"
            " JOIN customers c ON c.id = o.customer_id ORDER BY o.since").fetchall()

    def orders():
        return db.conn.execute(
            "SELECT o.order_no, c.name, o.contact_name, o.contact_phone FROM repair_orders o"
            " JOIN customers c ON c.id = o.customer_id ORDER BY o.order_no").fetchall()

    # No delivery record: the first order's person owns the car, for now (no since).
    assert owners() == [("张伟", "", None)]
    assert orders() == [("R1", "张伟", None, None), ("R2", "张伟", "李雷", "13912345678")]
    assert db.conn.execute("SELECT name FROM customers").fetchall() == [("张伟",)]
    # The car is sold on: a delivery list names 李雷 from 2026-06-01. The order after
    # that is his, with no contact (he brought it); the one before stays 张伟's.
    header = ["客户姓名", "手机号码", "车架号", "车牌号", "交车日期"]
    run(db, messy.write_xlsx(tmp_path / "d.xlsx", [header, ["李雷", "13912345678", v, "粤B12345",
                                                            "2026-06-01"]]), kind="vehicles")
    assert owners() == [("张伟", "", "2026-06-01"), ("李雷", "2026-06-01", None)]
    assert orders() == [("R1", "张伟", None, None), ("R2", "李雷", None, None)]
    # An older order naming 张伟 imported later does not take the car back.
    old = [["R0", "粤B12345", v, "张伟", "13812345678", "", "2024-12-01", 3000, "保养", 0, 0, 0, ""]]
    run(db, orders_file(tmp_path, old, name="old.xlsx"))
    assert db.conn.execute("SELECT c.name FROM vehicles v JOIN customers c ON c.id = v.customer_id"
                           ).fetchone()[0] == "李雷"


def test_a_delivery_list_after_the_orders_gives_the_owner_the_orders(db, tmp_path):
    # The orders come first; the spouse brought the car first. The delivery list then
    # names the owner from before the first visit: every order is the owner's, the
    # spouse is their contact, and the spouse is no owner of anything.
    v = vin_with_check("LFV2A21K", "E3066018")
    rows = [
        ["R1", "粤B12345", v, "李娜", "13912345678", "", "2025-01-05", 5000, "保养", 0, 0, 0, ""],
        ["R2", "粤B12345", v, "张伟", "13812345678", "", "2025-06-05", 9000, "保养", 0, 0, 0, ""],
    ]
    run(db, orders_file(tmp_path, rows))
    header = ["客户姓名", "手机号码", "车架号", "车牌号", "交车日期"]
    run(db, messy.write_xlsx(tmp_path / "d.xlsx", [header, ["张伟", "13812345678", v, "粤B12345",
                                                            "2024-10-01"]]), kind="vehicles")
    assert db.conn.execute(
        "SELECT o.order_no, c.name, o.contact_name, o.contact_phone FROM repair_orders o"
        " JOIN customers c ON c.id = o.customer_id ORDER BY o.order_no").fetchall() == [
        ("R1", "张伟", "李娜", "13912345678"), ("R2", "张伟", None, None)]
    assert db.conn.execute(
        "SELECT c.name, o.since, o.until FROM vehicle_owners o"
        " JOIN customers c ON c.id = o.customer_id").fetchall() == [("张伟", "2024-10-01", None)]


# --------------------------------------------------------------------------- delivery list

VEH_HEADER = ["客户姓名", "性别", "手机号码", "身份证号", "车架号", "车牌号", "车型", "交车日期",
              "使用性质", "生日", "职业", "交强险到期日", "商业险到期日", "年检到期日"]


def test_delivery_list_builds_customers_and_vehicles(db, tmp_path):
    v = vin_with_check("LFV2A21K", "E3066018")
    rows = [
        ["王芳", "", "13812345678", "11010519491231002X", v, "京A12345", "卡罗拉", "2026-11-20",
         "私家车", "", "教师", "2027-11-19", "2027-11-19", "2028-11-30"],
        ["某某物流有限公司", "", "13912345678", "", "", "京B54321", "汉兰达", "2026-10-01",
         "", "", "", "2027-09-30", "", ""],
    ]
    path = messy.write_xlsx(tmp_path / "d.xlsx", [VEH_HEADER] + rows, title_rows=[["交车客户明细表"]])
    r = run(db, path, kind="vehicles")
    assert (r.inserted, r.rejected) == (2, 0)
    c = db.conn.execute("SELECT gender, gender_source, birthday, birthday_source, occupation,"
                        " id_number FROM customers WHERE name='王芳'").fetchone()
    # GB 11643's own example number: female, born 1949-12-31.
    assert c == ("F", "id", "1949-12-31", "id", "教师", "11010519491231002X")
    v1 = db.conn.execute("SELECT usage, usage_source, delivery_date, insurance_compulsory_expiry,"
                         " inspection_due FROM vehicles WHERE plate='京A12345'").fetchone()
    assert v1 == ("private", "import", "2026-11-20", "2027-11-19", "2028-11-30")
    v2 = db.conn.execute("SELECT usage, usage_source FROM vehicles WHERE plate='京B54321'").fetchone()
    assert v2 == ("commercial", "guess")


def test_gender_column_beats_id_number_and_edit_beats_both(db, tmp_path):
    from crmcli import customers

    rows = [["王芳", "男", "13812345678", "11010519491231002X", "", "京A12345", "", "2026-11-20", "",
             "", "", "", "", ""]]
    run(db, messy.write_xlsx(tmp_path / "d.xlsx", [VEH_HEADER] + rows), kind="vehicles")
    cid, gender = db.conn.execute("SELECT id, gender FROM customers").fetchone()
    assert gender == "M"
    customers.edit(db, cid, {"gender": "女"}, by="tester")
    rows[0][1] = "男"
    rows[0][6] = "新车型"  # a changed file, so it is processed again
    run(db, messy.write_xlsx(tmp_path / "d2.xlsx", [VEH_HEADER] + rows), kind="vehicles")
    assert db.conn.execute("SELECT gender FROM customers").fetchone()[0] == "F"


def test_dealer_aliases_from_settings_map_unknown_headers(db, tmp_path):
    path = messy.write_xlsx(tmp_path / "a.xlsx", [["单据编号", "结算日期", "客户手机"],
                                                  ["X1", "2026-10-01", "13812345678"]])
    with pytest.raises(FileRefused):
        run(db, path)
    r = run(db, path, aliases={"order_no": ["单据编号"], "mobile": ["客户手机"]})
    assert r.inserted == 1
    assert db.conn.execute("SELECT mobile FROM customers").fetchone()[0] == "13812345678"


def test_dry_run_writes_nothing_but_reports_mapping_and_verdicts(db, tmp_path):
    rows = good_rows() + [["", "粤B1", "", "x", "", "", "2026-10-01", "", "", "", "", "", ""]]
    r = run(db, orders_file(tmp_path, rows), dry_run=True)
    assert r.status == "dry-run"
    assert ("工单号", "order_no") in r.mapping and ("进厂里程(km)", "mileage") in r.mapping
    assert [v for _, v in r.verdicts].count("inserted") == 3
    assert any(v.startswith("rejected: no order number") for _, v in r.verdicts)
    assert db.conn.execute("SELECT count(*) FROM repair_orders").fetchone()[0] == 0
    assert db.conn.execute("SELECT count(*) FROM imports").fetchone()[0] == 0


def test_rejects_sheet_is_the_original_row_plus_reason(db, tmp_path):
    rows = good_rows() + [["", "粤B1", "", "x", "", "", "2026-10-01", "", "", "", "", "", ""]]
    r = run(db, orders_file(tmp_path, rows))
    sheet = importing.rejects_sheet(r)
    assert sheet[0][3:] == HEADER
    # Every problem of the row is listed, the rejection first, each with its column.
    assert sheet[1][2].startswith("工单号: no order number; 车牌号码:")
    # Title rows 1-2, header 3, good rows 4-6: the rejected row is row 7.
    assert sheet[1][:2] == [7, "拒绝 rejected"]
    # Its cells are the row as it was in the file, to be fixed and imported again.
    assert sheet[1][3:] == rows[-1]


def test_birthday_column_takes_old_dates_and_lunar_text(db, tmp_path):
    rows = [
        ["李老", "", "13812345678", "", "", "京A11111", "", "2026-11-20", "", "1942-03-05", "", "", "", ""],
        ["陈姐", "", "13812345679", "", "", "京A22222", "", "2026-11-20", "", "农历八月十五", "", "", "", ""],
        ["赵哥", "", "13812345670", "", "", "京A33333", "", "2026-11-20", "", "闰四月三十", "", "", "", ""],
        ["钱总", "", "13812345671", "", "", "京A44444", "", "2026-11-20", "", "未知", "", "", "", ""],
    ]
    r = run(db, messy.write_xlsx(tmp_path / "b.xlsx", [VEH_HEADER] + rows), kind="vehicles")
    got = dict((n, (b, lb)) for n, b, lb in db.conn.execute(
        "SELECT name, birthday, lunar_birthday FROM customers"))
    assert got["李老"] == ("1942-03-05", None)
    assert got["陈姐"] == (None, "08-15")
    # A lunar birthday in a leap month is kept as such (the planner applies the leap rule).
    assert got["赵哥"] == (None, "L04-30")
    assert [p.reason for p in r.problems] == ["not a date"] and got["钱总"] == (None, None)


def test_same_phone_is_the_same_customer_with_or_without_a_title(db, tmp_path):
    rows = [
        ["R1", "粤B12345", "", "张伟", "13812345678", "", "2026-01-05", 5000, "保养", 0, 0, 0, ""],
        ["R2", "粤B12345", "", "张伟先生", "13812345678", "", "2026-03-05", 9000, "保养", 0, 0, 0, ""],
        ["R3", "粤B12345", "", "张先生", "13812345678", "", "2026-05-05", 13000, "保养", 0, 0, 0, ""],
        ["R4", "粤B54321", "", "李娜", "13812345678", "", "2026-06-05", 15000, "保养", 0, 0, 0, ""],
    ]
    run(db, orders_file(tmp_path, rows))
    names = [n for (n,) in db.conn.execute("SELECT name FROM customers ORDER BY id")]
    assert names == ["张伟", "李娜"]  # another name on the phone (her own car) is another person
    slim = messy.write_xlsx(tmp_path / "noname.xlsx", [["工单号", "结算日期", "联系电话"],
                                                      ["R5", "2026-07-01", "13812345678"]])
    run(db, slim)
    assert db.conn.execute("SELECT count(*) FROM customers").fetchone()[0] == 2


def test_a_clerks_phone_fix_is_not_undone_by_the_next_import(db, tmp_path):
    from crmcli import customers

    rows = [["R1", "粤B12345", "", "张伟", "13812345678", "", "2026-01-05", 5000, "保养", 0, 0, 0, ""]]
    run(db, orders_file(tmp_path, rows))
    cid = db.conn.execute("SELECT id FROM customers").fetchone()[0]
    customers.edit(db, cid, {"mobile": "13912345678"}, by="clerk")
    rows[0][11] = 350  # tomorrow's export, still with the old number
    run(db, orders_file(tmp_path, rows, name="again.xlsx"))
    assert db.conn.execute("SELECT mobile, mobile_source FROM customers").fetchall() == [
        ("13912345678", "edit")]


def test_a_file_seen_before_is_read_again_when_it_had_rejections_or_aliases_changed(db, tmp_path):
    path = messy.write_xlsx(tmp_path / "a.xlsx", [["工单号", "单据日期", "合计金额"],
                                                  ["X1", "2026-10-01", 100]])
    first = run(db, path)
    assert (first.inserted, first.rejected) == (0, 1)  # 单据日期 is not a known date column
    fixed = run(db, path, aliases={"date_settled": ["单据日期"]})
    assert fixed.status == "done" and fixed.inserted == 1
    again = run(db, path, aliases={"date_settled": ["单据日期"]})
    assert again.status == "same-file"


def test_a_second_column_of_the_same_meaning_fills_a_blank_first(db, tmp_path):
    path = messy.write_xlsx(tmp_path / "two.xlsx", [
        ["工单号", "结算日期", "客户名称", "电话", "手机"],
        ["R1", "2026-10-01", "张伟", "", "13812345678"],
        ["R2", "2026-10-02", "李娜", "13912345678", "13700000000"],
    ])
    r = run(db, path)
    assert r.inserted == 2 and ("手机", "mobile (when 电话 is blank)") in r.mapping
    assert dict(db.conn.execute("SELECT name, mobile FROM customers").fetchall()) == {
        "张伟": "13812345678", "李娜": "13912345678"}


def test_vin_of_one_car_with_the_plate_of_another_is_flagged_not_moved(db, tmp_path):
    va, vb = vin_with_check("LFV2A21K", "E3066018"), vin_with_check("LSVAU218", "N2183270")
    rows = [
        ["R1", "粤B11111", va, "张伟", "13812345678", "", "2026-01-05", 5000, "保养", 0, 0, 0, ""],
        ["R2", "粤B22222", vb, "李娜", "13912345678", "", "2026-02-05", 5000, "保养", 0, 0, 0, ""],
    ]
    run(db, orders_file(tmp_path, rows))
    typo = [["R3", "粤B22222", va, "张伟", "13812345678", "", "2026-03-05", 9000, "保养", 0, 0, 0, ""]]
    r = run(db, orders_file(tmp_path, typo, name="typo.xlsx"))
    assert r.flagged == 1 and "belongs to another vehicle" in r.problems[0].reason
    plates = dict(db.conn.execute("SELECT vin, plate FROM vehicles").fetchall())
    assert plates == {va: "粤B11111", vb: "粤B22222"}


def test_a_second_data_sheet_is_reported_not_dropped_in_silence(db, tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.title = "1月"
    wb.active.append(["工单号", "结算日期"])
    wb.active.append(["R1", "2026-01-05"])
    ws = wb.create_sheet("2月")
    ws.append(["工单号", "结算日期"])
    ws.append(["R2", "2026-02-05"])
    path = tmp_path / "months.xlsx"
    wb.save(path)
    r = run(db, path)
    assert r.inserted == 1 and r.sheet == "1月"
    assert r.warnings and "2月" in r.warnings[0] and "not imported" in r.warnings[0]
    assert r.summary()["warnings"] == r.warnings


def test_a_bulk_load_into_empty_tables_ends_with_the_same_tables_and_indexes(tmp_path, monkeypatch):
    # Bulk loading drops an empty table's secondary indexes and builds them after the rows
    # are in. With every import a bulk load, the store must end as with none.
    from conftest import SAMPLE

    from crmcli import db as dbmod

    files = [("vehicles", SAMPLE / "delivery_list.xlsx"), ("orders", SAMPLE / "dms_orders.xlsx"),
             ("orders", SAMPLE / "dms_orders_gbk.csv")]
    dropped: list[str] = []
    real = importing.Merger.bulk_load

    def spy(self, table, rows):
        before = len(self.dropped_indexes)
        real(self, table, rows)
        dropped.extend(self.dropped_indexes[before:])

    monkeypatch.setattr(importing.Merger, "bulk_load", spy)
    ends = []
    for bulk_rows in (1, 10**9):
        monkeypatch.setattr(importing.merge, "BULK_ROWS", bulk_rows)
        database = dbmod.connect(tmp_path / f"{bulk_rows}.db")
        for kind, path in files:
            importing.import_file(database, path, kind, today=TODAY)
        assert database.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        tables = {}
        for t in ("customers", "vehicles", "vehicle_owners", "repair_orders", "vehicle_facts",
                  "order_row_prints"):
            cols = [r[1] for r in database.conn.execute(f"PRAGMA table_info({t})")
                    if not r[1].endswith("_at") and r[1] != "as_of"]  # the two runs' times
            tables[t] = database.conn.execute(
                f"SELECT {','.join(cols)} FROM {t} ORDER BY rowid").fetchall()
        ends.append({"schema": database.conn.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name").fetchall(),
            **tables})
        assert tables["repair_orders"] and tables["customers"]
    # the delivery list filled customers and vehicles, the first orders file repair_orders
    assert {"customers_mobile", "vehicles_plate", "repair_orders_date"} <= {
        sql.split()[2] for sql in dropped}
    assert ends[0] == ends[1]


def test_a_bulk_load_cuts_over_long_text_as_the_length_caps_do(tmp_path, monkeypatch):
    # A bulk load makes m018's cut once over the table instead of a trigger a row: the
    # stored values are the same either way, and the triggers are back afterwards.
    from crmcli import db as dbmod

    v = vin_with_check("LFV2A21K", "E3066018")
    rows = [["R1", "粤B12345", v, "张" * 130, "13912345678", "", "2026-01-01", 1000, "保养", 0, 0, 0,
             "王" * 150]]
    path = orders_file(tmp_path, rows)
    ends = []
    for bulk_rows in (1, 10**9):
        monkeypatch.setattr(importing.merge, "BULK_ROWS", bulk_rows)
        database = dbmod.connect(tmp_path / f"{bulk_rows}.db")
        importing.import_file(database, path, "orders", today=TODAY)
        ends.append((database.conn.execute("SELECT length(name) FROM customers").fetchall(),
                     database.conn.execute("SELECT length(advisor) FROM repair_orders").fetchall(),
                     database.conn.execute("SELECT count(*) FROM sqlite_master WHERE type ="
                                           " 'trigger' AND name LIKE 'cap%insert'").fetchone()))
    assert ends[0] == ends[1] == ([(100,)], [(100,)], (9,))


def test_a_row_flagged_while_merging_comes_back_whole_in_the_rejects_sheet(db, tmp_path):
    # R3 names car 2 with car 1's plate: clean when parsed, flagged when merged.
    v1, v2 = vin_with_check("LFV2A21K", "E3066018"), vin_with_check("LSVAU218", "N2183270")
    rows = [["R1", "粤B11111", v1, "张伟", "13912345678", "", "2026-01-01", 1000, "保养", 0, 0, 0, ""],
            ["R2", "粤B22222", v2, "李娜", "13912345679", "", "2026-01-02", 2000, "保养", 0, 0, 0, ""],
            ["R3", "粤B11111", v2, "李娜", "13912345679", "", "2026-01-03", 3000, "保养", 0, 0, 0, ""]]
    path = orders_file(tmp_path, rows)
    r = run(db, path)
    assert [(p.field, p.severity) for p in r.problems] == [("plate", "flagged")]
    sheet = importing.rejects_sheet(r)
    assert sheet[1][:2] == [r.problems[0].row_no, "已导入待核 flagged"]
    assert sheet[1][3:6] == ["R3", "粤B11111", v2]
    # the file changed since: the row is still listed, without cells read from another file
    orders_file(tmp_path, rows[:2])
    assert importing.rejects_sheet(r)[1][3:] == []


def _rows_listed(problems):
    rejected = {p.row_no for p in problems if p.severity == "rejected"}
    flagged = {p.row_no for p in problems} - rejected
    return len(flagged), len(rejected)


def test_the_counts_agree_with_the_rows_listed(db, tmp_path):
    rows = good_rows()
    first = list(rows[0])
    first[4] = "12345"  # a bad phone: this row alone would be flagged ...
    rows.insert(0, first)  # ... but a later row of the same order supersedes it
    bad = list(rows[2])
    bad[0], bad[6], bad[4] = "RO9", "2026-02-30", "999"  # rejected (no such day), bad phone too
    rows.append(bad)
    flagged = list(rows[3])
    flagged[0], flagged[4] = "RO8", "12"  # imported and flagged
    rows.append(flagged)
    r = run(db, orders_file(tmp_path, rows))
    assert (r.superseded, r.flagged, r.rejected) == (1, 1, 1)
    assert _rows_listed(r.problems) == (r.flagged, r.rejected)
    assert 3 not in {p.row_no for p in r.problems}  # the superseded row (under two title rows)
    # Its flag is not stored either: nothing of that row is in the database.
    assert db.conn.execute("SELECT count(DISTINCT row_no) FROM row_problems WHERE severity ="
                           " 'flagged'").fetchone()[0] == 2  # the flagged row, the rejected one
    from rich.console import Console

    from crmcli.render import problems_table

    console = Console(width=200, record=True)
    console.print(problems_table(r.problems))
    lines = [line for line in console.export_text().splitlines() if "│" in line]
    verdicts = {line.split("│")[1].strip(): line.split("│")[4].strip() for line in lines}
    rejected_row = next(p.row_no for p in r.problems if p.severity == "rejected")
    assert verdicts[str(rejected_row)] == "rejected"  # every line of it, its bad phone too
    assert list(verdicts.values()).count("flagged") == 1


def test_the_sample_files_counts_agree_with_their_rows_to_check(db):
    from pathlib import Path

    sample = Path(__file__).resolve().parent.parent / "sample_data"
    for path, kind in ((sample / "delivery_list.xlsx", "vehicles"),
                       (sample / "dms_orders.xlsx", "orders")):
        r = run(db, path, kind)
        assert _rows_listed(r.problems) == (r.flagged, r.rejected), path.name
        assert r.rows_read == (r.inserted + r.updated + r.unchanged + r.rejected + r.skipped
                               + r.superseded), path.name
