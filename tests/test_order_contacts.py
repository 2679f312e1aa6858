"""The person who brought the car (送修人) is the order's contact, not a customer.

The scenario of issue 13: 张伟 bought the car (the delivery list says so); his wife
李娜 brings it in for a repair, and the DMS writes her name and number on the order.
The car stays 张伟's, the order is his with her as its contact, the post-repair
call goes to her number, and the customer counts, classes and retention do not
see her. One car and its owner's name are one customer whatever the number.
"""

from __future__ import annotations

from datetime import date, datetime

import messy
import pytest

from crmcli import classify, export, importing, planner, stats
from crmcli import settings as settings_mod

TODAY = date(2026, 11, 26)
VIN = "LFV2A21K6E3066018"  # check digit worked by hand (see test_provenance)
DELIVERY = ["客户姓名", "性别", "手机号码", "车架号", "车牌号", "交车日期"]
ORDERS = ["工单号", "车牌号码", "车架号", "客户名称", "联系电话", "结算日期", "维修类别", "合计金额"]


def settings() -> dict:
    s = settings_mod.load()
    s["dealer"].update(short_name="安达丰田", hotline="0755-86543210", rescue="400-800-1234",
                       address="深圳市南山区科技园南路8号")
    s["planning"]["contact_window_days"] = 0
    return s


def run(db, path, kind):
    return importing.import_file(db, path, kind, today=TODAY)


@pytest.fixture
def spouse(db, tmp_path):
    """张伟's car, delivered 2026-10-01; 李娜 brings it in, settled 2026-11-20."""
    run(db, messy.write_xlsx(tmp_path / "d.xlsx", [DELIVERY, [
        "张伟", "男", "13607958890", VIN, "粤B12345", "2026-10-01"]]), "vehicles")
    run(db, messy.write_xlsx(tmp_path / "o.xlsx", [ORDERS, [
        "R1", "粤B12345", VIN, "李娜", "13912345678", "2026-11-20", "一般维修", 800]]), "orders")
    return db


def test_the_owner_keeps_the_car_and_the_order_names_who_brought_it(spouse):
    db = spouse
    assert db.conn.execute("SELECT name, mobile FROM customers").fetchall() == [
        ("张伟", "13607958890")]
    assert db.conn.execute(
        "SELECT c.name FROM vehicles v JOIN customers c ON c.id = v.customer_id").fetchall() == [
        ("张伟",)]
    assert db.conn.execute(
        "SELECT o.order_no, c.name, o.contact_name, o.contact_phone FROM repair_orders o"
        " JOIN customers c ON c.id = o.customer_id").fetchall() == [
        ("R1", "张伟", "李娜", "13912345678")]
    # Her number is not made one of his: it is hers.
    assert db.conn.execute("SELECT other_phones FROM customers").fetchone()[0] is None
    assert db.conn.execute("SELECT count(*) FROM vehicle_owners").fetchone()[0] == 1


def test_the_post_repair_call_goes_to_whoever_brought_the_car(spouse, tmp_path):
    db, s = spouse, settings()
    day = date(2026, 11, 23)  # settled 11-20, the post-repair call on the third day
    planner.plan(db, day, s)
    tasks = [t for t in planner.today_list(db, day, s)["tasks"] if t["kind"] == "post_repair"]
    assert len(tasks) == 1
    t = tasks[0]
    # The task is the owner's; the call is to her, on her number.
    assert (t["name"], t["customer"]) == ("张伟", "张先生")
    assert (t["contact"], t["contact_phone"], t["phone"]) == ("李娜", "13912345678",
                                                              "13912345678")
    out = tmp_path / "out"
    out.mkdir()
    export.export_day(db, day, s, out, now=datetime(2026, 11, 23, 6, 30))
    from openpyxl import load_workbook

    rows = [list(r) for r in load_workbook(out / "calls-2026-11-23.xlsx").active.iter_rows(
        values_only=True)]
    header, row = rows[0], next(r for r in rows[1:] if r[0] == t["id"])
    assert header[2:5] == ["客户", "送修人", "电话"]
    assert row[2:4] == ["张先生", "李娜"]
    assert row[4].split(" / ") == ["13912345678", "13607958890"]  # hers first, then his
    assert "李娜" in row[-1] and "张先生" not in row[-1]  # the script greets the person called


def test_the_owners_own_visit_has_no_contact(db, tmp_path):
    run(db, messy.write_xlsx(tmp_path / "d.xlsx", [DELIVERY, [
        "张伟", "男", "13607958890", VIN, "粤B12345", "2026-10-01"]]), "vehicles")
    run(db, messy.write_xlsx(tmp_path / "o.xlsx", [ORDERS, [
        "R1", "粤B12345", VIN, "张先生", "13607958890", "2026-11-20", "一般维修", 800]]), "orders")
    day = date(2026, 11, 23)
    planner.plan(db, day, settings())
    t = next(t for t in planner.today_list(db, day, settings())["tasks"]
             if t["kind"] == "post_repair")
    assert (t["contact"], t["phone"]) == (None, "13607958890")


def test_counts_classes_and_retention_do_not_see_the_spouse(spouse):
    db = spouse
    day = date(2026, 11, 26)
    classify.run(db, day, settings())
    assert db.conn.execute("SELECT count(*) FROM classifications").fetchone()[0] == 1
    assert db.conn.execute(
        "SELECT c.name FROM classifications k JOIN customers c ON c.id = k.customer_id"
        ).fetchall() == [("张伟",)]
    r = stats.retention(db, day)
    # One car, delivered this year, that came back (R1); one customer, active (paid R1).
    assert (r["total"]["vehicles"], r["total"]["came_back"]) == (1, 1)
    assert (r["total"]["customers"], r["total"]["active"]) == (1, 1)


def test_a_second_visit_by_the_spouse_changes_nothing_of_the_owner(spouse, tmp_path):
    db = spouse
    before = db.conn.execute("SELECT * FROM customers").fetchall()
    r = run(db, messy.write_xlsx(tmp_path / "o2.xlsx", [ORDERS, [
        "R2", "粤B12345", VIN, "李娜", "13912345678", "2026-11-25", "一般维修", 300]]), "orders")
    assert (r.inserted, r.updated) == (1, 0)
    assert db.conn.execute("SELECT * FROM customers").fetchall() == before
    assert db.conn.execute("SELECT count(*) FROM customers").fetchone()[0] == 1
    assert db.conn.execute("SELECT count(*) FROM vehicle_owners").fetchone()[0] == 1


@pytest.mark.parametrize("number", ["0755-86543210", "13812345678", "1381234", ""])
def test_the_owners_name_on_the_car_finds_the_owner_before_the_number(db, tmp_path, number):
    # 13812345678 is already another customer's (王强, on his own car): the VIN and
    # the owner's name come first, so the order is 张伟's, not 王强's.
    other_vin = "LSVAU2187N2183270"
    run(db, messy.write_xlsx(tmp_path / "d.xlsx", [DELIVERY,
        ["张伟", "男", "13607958890", VIN, "粤B12345", "2026-10-01"],
        ["王强", "男", "13812345678", other_vin, "粤B54321", "2026-10-02"]]), "vehicles")
    run(db, messy.write_xlsx(tmp_path / "o.xlsx", [ORDERS, [
        "R1", "粤B12345", VIN, "张伟", number, "2026-11-20", "一般维修", 800]]), "orders")
    assert db.conn.execute("SELECT count(*) FROM customers").fetchone()[0] == 2
    assert db.conn.execute(
        "SELECT c.name, o.contact_name FROM repair_orders o JOIN customers c"
        " ON c.id = o.customer_id").fetchall() == [("张伟", None)]
    others = db.conn.execute("SELECT other_phones FROM customers WHERE name = '张伟'").fetchone()[0]
    kept = {"0755-86543210": "075586543210", "13812345678": "13812345678"}.get(number)
    assert others == kept  # a valid number is kept as one of his; an invalid one is not


def test_m020_gives_a_stored_file_its_owners_back_and_the_orders_their_contacts(tmp_path):
    # A file as imports before m020 left it: 李娜 brought 张伟's car on 11-20, became a
    # customer, and the car moved to her; 赵六 brought 王强's car (on no delivery list)
    # and it moved to him. 赵六 asked for no SMS: that is his own, so he stays.
    import store

    from crmcli import db as dbmod
    from crmcli import migrations

    old = dbmod.connect(tmp_path / "old.db", migrate=False)
    with dbmod.write_transaction(old):
        migrations.MIGRATIONS.apply(old, stop_before="m020_order_contacts")
        zhang = store.customer(old, "张伟", "13607958890")
        li = store.customer(old, "李娜", "13912345678")
        wang = store.customer(old, "王强", "13800000003")
        zhao = store.customer(old, "赵六", "13800000004")
        v1 = store.vehicle(old, li, delivery_date="2026-10-01")
        v2 = store.vehicle(old, zhao)
        old.conn.executemany(
            "INSERT INTO vehicle_owners (vehicle_id, customer_id, since, until) VALUES (?,?,?,?)",
            [(v1, zhang, "2026-10-01", "2026-11-20"), (v1, li, "2026-11-20", None),
             (v2, wang, "2026-01-05", "2026-06-05"), (v2, zhao, "2026-06-05", None)])
        r1 = store.order(old, v1, zhang, "2026-11-01")
        r2 = store.order(old, v1, li, "2026-11-20")
        r3 = store.order(old, v2, wang, "2026-01-05")
        r4 = store.order(old, v2, zhao, "2026-06-05")
        old.conn.execute(
            "INSERT INTO tasks (key, kind, customer_id, vehicle_id, order_id, due_date, expires_on,"
            " channel, reason, planned_at, updated_at) VALUES (?, 'post_repair', ?, ?, ?,"
            " '2026-11-23', '2026-12-05', 'call', 'r', 'x', 'x')", (f"post_repair:o{r2}", li, v1, r2))
        old.conn.execute("INSERT INTO optouts (customer_id, what, since) VALUES (?, 'sms', 'x')",
                         (zhao,))
    old.conn.close()
    db = dbmod.connect(tmp_path / "old.db")
    q = db.conn.execute
    assert q("SELECT id, customer_id FROM vehicles ORDER BY id").fetchall() == [(v1, zhang),
                                                                                (v2, wang)]
    assert q("SELECT vehicle_id, customer_id, since, until FROM vehicle_owners"
             " ORDER BY vehicle_id").fetchall() == [(v1, zhang, "2026-10-01", None),
                                                    (v2, wang, "", None)]
    assert q("SELECT id, customer_id, contact_name, contact_phone FROM repair_orders ORDER BY id"
             ).fetchall() == [(r1, zhang, None, None), (r2, zhang, "李娜", "13912345678"),
                              (r3, wang, None, None), (r4, wang, "赵六", "13800000004")]
    assert q("SELECT customer_id FROM tasks").fetchall() == [(zhang,)]
    # 李娜 had nothing of her own: gone. 赵六's opt-out is his: he stays, owning nothing.
    assert q("SELECT name FROM customers ORDER BY id").fetchall() == [("张伟",), ("王强",),
                                                                      ("赵六",)]
    assert q("SELECT entity, entity_id, old_value, new_value FROM changes WHERE reason LIKE"
             " 'm020%' ORDER BY entity, entity_id").fetchall() == [
        ("order", r2, str(li), str(zhang)), ("order", r4, str(zhao), str(wang)),
        ("vehicle", v1, str(li), str(zhang)), ("vehicle", v2, str(zhao), str(wang))]


def test_an_export_with_an_owner_column_and_a_senders_column(db, tmp_path):
    # 车主/车主电话 name the owner, 送修人/送修人电话 who brought the car. No delivery list:
    # the owner column makes 张伟 the owner; 李娜 is R1's contact; R2 he brought himself.
    header = ["工单号", "车牌号码", "车架号", "车主", "车主电话", "送修人", "送修人电话", "结算日期"]
    rows = [["R1", "粤B12345", VIN, "张伟", "13607958890", "李娜", "13912345678", "2026-11-01"],
            ["R2", "粤B12345", VIN, "张伟", "13607958890", "张伟", "13607958890", "2026-11-20"]]
    r = run(db, messy.write_xlsx(tmp_path / "o.xlsx", [header] + rows), "orders")
    assert (r.inserted, r.rejected, r.ignored_columns) == (2, 0, [])
    assert db.conn.execute("SELECT name, mobile FROM customers").fetchall() == [
        ("张伟", "13607958890")]
    assert db.conn.execute(
        "SELECT order_no, contact_name, contact_phone FROM repair_orders ORDER BY order_no"
        ).fetchall() == [("R1", "李娜", "13912345678"), ("R2", None, None)]


def test_an_export_with_a_senders_column_alone_reads_it_as_the_person_named(db, tmp_path):
    header = ["工单号", "车牌号码", "车架号", "送修人", "送修人电话", "结算日期"]
    run(db, messy.write_xlsx(tmp_path / "d.xlsx", [DELIVERY, [
        "张伟", "男", "13607958890", VIN, "粤B12345", "2026-10-01"]]), "vehicles")
    r = run(db, messy.write_xlsx(tmp_path / "o.xlsx", [header, [
        "R1", "粤B12345", VIN, "李娜", "13912345678", "2026-11-01"]]), "orders")
    assert dict(r.mapping)["送修人"] == "customer_name"
    assert dict(r.mapping)["送修人电话"] == "mobile"
    assert db.conn.execute("SELECT c.name, o.contact_name, o.contact_phone FROM repair_orders o"
                           " JOIN customers c ON c.id = o.customer_id").fetchall() == [
        ("张伟", "李娜", "13912345678")]


def test_a_number_corrected_on_the_call_is_the_contacts_and_the_thank_you_greets_her(spouse):
    from crmcli import calls

    db, s = spouse, settings()
    day = date(2026, 11, 23)
    planner.plan(db, day, s)
    t = next(t for t in planner.today_list(db, day, s)["tasks"] if t["kind"] == "post_repair")
    r = calls.log_call(db, t["id"], "reached", s, by="小李", at=datetime(2026, 11, 23, 10, 0),
                       phone="13912345670")
    assert r["phone_corrected"] == "13912345670"
    assert db.conn.execute("SELECT contact_phone FROM repair_orders").fetchone()[0] == \
        "13912345670"
    assert db.conn.execute("SELECT mobile, mobile_source FROM customers").fetchone() == (
        "13607958890", None)  # the owner's number is his, untouched
    thanks = db.conn.execute("SELECT reason FROM tasks WHERE kind = 'thank_you_sms'").fetchone()[0]
    assert "李娜" in thanks and "张先生" not in thanks


def test_m023_an_owner_an_order_made_gives_way_to_the_delivery_list(tmp_path):
    # Before m020: 李娜 brought the car first (2025-01-05) and became its owner from that
    # day; the delivery list (张伟, delivered 2024-10-01) came later and, being older,
    # did not move it. After m023 the same delivery list again gives 张伟 the car and
    # the order, with 李娜 as its contact.
    import store

    from crmcli import db as dbmod
    from crmcli import migrations

    old = dbmod.connect(tmp_path / "old.db", migrate=False)
    with dbmod.write_transaction(old):
        migrations.MIGRATIONS.apply(old, stop_before="m023_order_owners_for_now")
        li = store.customer(old, "李娜", "13912345678")
        delivered = store.customer(old, "王强", "13800000003")
        v = store.vehicle(old, li, vin=VIN, plate="粤B12345")
        v2 = store.vehicle(old, delivered, delivery_date="2024-05-01")
        old.conn.executemany(
            "INSERT INTO vehicle_owners (vehicle_id, customer_id, since) VALUES (?,?,?)",
            [(v, li, "2025-01-05"), (v2, delivered, "2024-05-01")])
        store.order(old, v, li, "2025-01-05")
        store.order(old, v2, delivered, "2024-05-01")  # a visit on the delivery day
    old.conn.close()
    db = dbmod.connect(tmp_path / "old.db")
    assert db.conn.execute("SELECT vehicle_id, since FROM vehicle_owners ORDER BY vehicle_id"
                           ).fetchall() == [(v, ""), (v2, "2024-05-01")]
    run(db, messy.write_xlsx(tmp_path / "d.xlsx", [DELIVERY, [
        "张伟", "男", "13607958890", VIN, "粤B12345", "2024-10-01"]]), "vehicles")
    assert db.conn.execute(
        "SELECT c.name, o.contact_name, o.contact_phone FROM repair_orders o"
        " JOIN customers c ON c.id = o.customer_id WHERE o.vehicle_id = ?", (v,)).fetchall() == [
        ("张伟", "李娜", "13912345678")]
