"""The small import misses of issue 13, each as the scenario a clerk met, and the two
rules that keep a good record good: an invalid value never beats a valid one, and a
delivery list row without a real delivery date is not a delivery."""

from __future__ import annotations

from datetime import date

import messy
import pytest

from crmcli import importing, render
from crmcli.errors import FileRefused

TODAY = date(2026, 11, 26)
# VINs whose check digit (position 9) was worked by hand; VIN_A_TYPO has an O for a 0.
VIN_A = "LFV2A21K6E3066018"
VIN_A_TYPO = "LFV2A21K6E3066O18"
VIN_B = "LSVAU2187N2183270"
ORDERS = ["工单号", "车牌号码", "车架号", "客户名称", "联系电话", "进厂日期", "结算日期"]
DELIVERY = ["客户姓名", "手机号码", "身份证号", "车架号", "车牌号", "交车日期", "商业险到期日"]


def run(db, path, kind="orders", **kw):
    return importing.import_file(db, path, kind, today=TODAY, **kw)


def one(db, sql, *args):
    return db.conn.execute(sql, args).fetchone()


# --------------------------------------------------------------------------- small misses


def test_an_english_header_export_with_month_names_loses_no_row(db, tmp_path):
    header = ["RO Number", "Plate", "VIN", "Customer Name", "Phone", "Date In", "Settled",
              "Mileage"]
    rows = [["E1", "粤B12345", VIN_A, "Zhang Wei", "13812345678", "24-Sep-2025", "25-Sep-2025", 9000],
            ["E2", "粤B12345", VIN_A, "Zhang Wei", "13812345678", "3-Jun-2025", "3-Jun-2025", 5000],
            ["E3", "粤B12345", VIN_A, "Zhang Wei", "13812345678", "Oct 2, 2025", "", 11000]]
    r = run(db, messy.write_xlsx(tmp_path / "en.xlsx", [header] + rows))
    assert (r.inserted, r.rejected) == (3, 0)
    got = db.conn.execute("SELECT order_no, order_date, mileage FROM repair_orders"
                          " ORDER BY order_no").fetchall()
    assert got == [("E1", "2025-09-25", 9000), ("E2", "2025-06-03", 5000),
                   ("E3", "2025-10-02", 11000)]


def test_date_out_is_the_settled_date(db, tmp_path):
    rows = [["Job Card No", "Registration", "Date Out"], ["J1", "粤B12345", "2026-10-01"]]
    r = run(db, messy.write_xlsx(tmp_path / "d.xlsx", rows))
    assert r.inserted == 1
    assert one(db, "SELECT date_settled FROM repair_orders")[0] == "2026-10-01"


def test_whitespace_around_any_cell_is_not_part_of_it(db, tmp_path):
    # GB 11643's own example number (female, 1949-12-31) after a tab, a VIN after a
    # no-break space, a plate with an ideographic space and a zero-width space after it.
    rows = [["王芳", "13812345678", "\t11010519491231002X", "\u00a0" + VIN_A,
             "粤B12345\u3000\u200b", "2026-11-20", " 2027-11-19\t"]]
    r = run(db, messy.write_xlsx(tmp_path / "d.xlsx", [DELIVERY] + rows), kind="vehicles")
    assert (r.inserted, r.flagged, r.rejected) == (1, 0, 0)
    assert one(db, "SELECT id_number, birthday, gender FROM customers") == (
        "11010519491231002X", "1949-12-31", "F")
    assert one(db, "SELECT vin, plate, insurance_commercial_expiry FROM vehicles") == (
        VIN_A, "粤B12345", "2027-11-19")


def test_an_order_export_given_to_import_vehicles_is_refused_naming_the_command(db, tmp_path):
    path = messy.write_xlsx(tmp_path / "ro.xlsx", [ORDERS, ["R1", "粤B12345", VIN_A, "张伟",
                                                            "13812345678", "", "2026-10-01"]])
    with pytest.raises(FileRefused, match="crmcli import orders ro.xlsx"):
        run(db, path, kind="vehicles")
    assert one(db, "SELECT count(*) FROM vehicles")[0] == 0


def test_a_delivery_list_given_to_import_orders_is_refused_naming_the_command(db, tmp_path):
    path = messy.write_xlsx(tmp_path / "dl.xlsx", [DELIVERY, ["王芳", "13812345678", "", VIN_A,
                                                              "粤B12345", "2026-11-20", ""]])
    with pytest.raises(FileRefused, match="crmcli import vehicles dl.xlsx"):
        run(db, path, kind="orders")


def test_a_header_without_rows_says_no_data_rows(db, tmp_path):
    r = run(db, messy.write_xlsx(tmp_path / "empty.xlsx", [ORDERS], title_rows=[["明细"]]))
    assert r.rows_read == 0 and r.inserted == 0
    assert r.warnings == ["no data rows under the header on row 2"]
    assert r.summary()["message"] == "no data rows under the header on row 2"


def test_rows_to_check_show_the_order_number_and_plate(db, tmp_path):
    from rich.console import Console

    rows = [["R1", "粤B12345", VIN_A, "张伟", "1381234", "", "2026-10-01"],  # a short phone
            ["R2", "粤B54321", VIN_B, "李娜", "13812345679", "", "2026-13-01"]]  # no such month
    r = run(db, messy.write_xlsx(tmp_path / "p.xlsx", [ORDERS] + rows))
    assert [(p.row_no, p.severity, p.order_no, p.plate) for p in r.problems] == [
        (2, "flagged", "R1", "粤B12345"), (3, "rejected", "R2", "粤B54321")]
    console = Console(width=160, record=True)
    console.print(render.problems_table(r.problems))
    text = console.export_text()
    assert "Order" in text and "Plate" in text
    assert "R1" in text and "粤B12345" in text and "R2" in text and "粤B54321" in text


def test_a_flag_shows_once_on_customer_show_however_often_the_row_is_imported(db, tmp_path):
    from crmcli import customers

    rows = [["R1", "粤B12345", VIN_A, "张伟", "13812345678", "", "2026-10-01"],
            ["R2", "粤B12345", VIN_A, "张伟", "1381234", "", "2026-10-05"]]
    path = messy.write_xlsx(tmp_path / "f.xlsx", [ORDERS] + rows)
    run(db, path)
    run(db, path, force=True)
    run(db, path, force=True)
    cid = one(db, "SELECT id FROM customers")[0]
    flags = customers.customer_file(db, cid)["flags"]
    assert [(f["order_no"], f["field"]) for f in flags] == [("R2", "mobile")]


# --------------------------------------------------------------------------- invalid never beats valid


def test_a_flagged_plate_never_replaces_a_valid_one_and_the_file_again_changes_nothing(db, tmp_path):
    rows = [["R1", "粤BFN2766", VIN_A, "张伟", "13812345678", "", "2026-10-01"],
            ["R2", "粤B1234", VIN_A, "张伟", "13812345678", "", "2026-10-05"],  # too short
            ["R3", "粤BFN2766", VIN_A, "张伟", "13812345678", "", "2026-10-09"]]
    path = messy.write_xlsx(tmp_path / "pl.xlsx", [ORDERS] + rows)
    r = run(db, path)
    assert (r.inserted, r.flagged) == (3, 1)
    assert one(db, "SELECT plate FROM vehicles")[0] == "粤BFN2766"
    assert one(db, "SELECT count(*) FROM changes WHERE field = 'plate'")[0] == 0
    again = run(db, path, force=True)
    assert (again.inserted, again.updated) == (0, 0)
    assert one(db, "SELECT count(*) FROM changes")[0] == 0
    # kept as a flag on its row
    assert one(db, "SELECT order_no, field, value FROM row_problems WHERE severity='flagged'"
                   " LIMIT 1") == ("R2", "plate", "粤B1234")


def test_a_mistyped_vin_on_a_known_plate_is_the_same_car(db, tmp_path):
    rows = [["R1", "粤B12345", VIN_A, "张伟", "13812345678", "", "2026-10-01"],
            ["R2", "粤B12345", VIN_A_TYPO, "张伟", "13812345678", "", "2026-10-05"]]
    r = run(db, messy.write_xlsx(tmp_path / "v.xlsx", [ORDERS] + rows))
    assert (r.inserted, r.flagged) == (2, 1)
    assert db.conn.execute("SELECT vin, plate FROM vehicles").fetchall() == [(VIN_A, "粤B12345")]
    assert one(db, "SELECT count(DISTINCT vehicle_id) FROM repair_orders")[0] == 1


def test_a_valid_vin_replaces_a_flagged_one(db, tmp_path):
    run(db, messy.write_xlsx(tmp_path / "a.xlsx", [ORDERS, ["R1", "粤B12345", VIN_A_TYPO, "张伟",
                                                           "13812345678", "", "2026-10-01"]]))
    assert one(db, "SELECT vin FROM vehicles")[0] == VIN_A_TYPO  # kept, cleaned, flagged
    run(db, messy.write_xlsx(tmp_path / "b.xlsx", [ORDERS, ["R2", "粤B12345", VIN_A, "张伟",
                                                           "13812345678", "", "2026-10-05"]]))
    assert db.conn.execute("SELECT vin FROM vehicles").fetchall() == [(VIN_A,)]


# --------------------------------------------------------------------------- deliveries


@pytest.mark.parametrize("day, reason", [
    ("待定", "no real delivery date (not a date): a pending sale is not a delivery"),
    ("", "no delivery date: a pending sale is not a delivery"),
    ("2026-02-30", "no real delivery date (not a real date: 2026-02-30): a pending sale is"
                   " not a delivery"),
])
def test_a_delivery_row_without_a_real_delivery_date_changes_nothing(db, tmp_path, day, reason):
    run(db, messy.write_xlsx(tmp_path / "a.xlsx", [DELIVERY, ["王芳", "13812345678", "", VIN_A,
                                                             "粤B12345", "2026-11-20", ""]]),
        kind="vehicles")
    before = db.conn.execute("SELECT * FROM vehicles").fetchall()
    r = run(db, messy.write_xlsx(tmp_path / "b.xlsx", [DELIVERY, ["李四", "13912345678", "", VIN_A,
                                                                 "粤B99999", day, ""]]),
            kind="vehicles")
    assert (r.inserted, r.updated, r.rejected) == (0, 0, 1)
    assert r.problems[0].reason == reason
    assert db.conn.execute("SELECT * FROM vehicles").fetchall() == before
    assert one(db, "SELECT count(*) FROM customers")[0] == 1
