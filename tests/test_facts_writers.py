"""Every writer of customers, vehicles and orders leaves planning's facts as a recompute
from scratch gives them, and m022's insert triggers in place.

The stored ``vehicle_facts`` are compared after each kind of write with the facts worked
out again from the orders, row by row in Python (not with the product's query). A writer
that left facts stale (as the importer would if ``facts.bulk_insert`` forgot a vehicle,
or the benchmarks' builders did before it) fails here.
"""

from __future__ import annotations

import importlib.util
import sys
from datetime import date
from pathlib import Path

import messy

from crmcli import backup, duplicates, facts, importing, privacy
from crmcli import db as dbmod

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"
DAY = date(2026, 11, 26)
NOW = "2026-11-26T10:00:00"
MAINTENANCE = ("maintenance", "first_maintenance")


def recomputed(conn) -> dict[int, tuple]:
    """The facts of every vehicle with orders, from its orders one by one."""
    out: dict[int, dict] = {}
    for oid, vid, day, km, stype, ono in conn.execute(
            "SELECT id, vehicle_id, order_date, mileage, service_type, order_no FROM repair_orders"
            " WHERE vehicle_id IS NOT NULL"):
        f = out.setdefault(vid, {"days": [], "km": [], "lm": None})
        f["days"].append(day)
        if km is not None:
            f["km"].append((day, km))
        if stype in MAINTENANCE and (f["lm"] is None or (day, oid) > f["lm"][:2]):
            f["lm"] = (day, oid, km, ono)
    return {vid: (max(f["days"]), min((d for d, _k in f["km"]), default=None),
                  max((d for d, _k in f["km"]), default=None),
                  min((k for _d, k in f["km"]), default=None),
                  max((k for _d, k in f["km"]), default=None),
                  *(f["lm"] or (None, None, None, None)))
            for vid, f in out.items()}


def stored(conn) -> dict[int, tuple]:
    return {r[0]: tuple(r[1:]) for r in conn.execute(f"SELECT {facts.FACTS_COLS} FROM vehicle_facts")}


def assert_in_step(conn, what: str) -> None:
    got, want = stored(conn), recomputed(conn)
    stale = {v: (got.get(v), want.get(v)) for v in set(got) | set(want) if got.get(v) != want.get(v)}
    assert not stale, f"after {what}: stored != recomputed for {len(stale)} vehicles, e.g. " \
        f"{sorted(stale.items())[:3]}"
    triggers = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    assert set(facts.INSERT_TRIGGERS) <= triggers, f"after {what}: insert triggers missing"


def with_orders(conn, n: int = 2) -> list[int]:
    return [r[0] for r in conn.execute(
        "SELECT vehicle_id FROM repair_orders WHERE vehicle_id IS NOT NULL GROUP BY vehicle_id"
        " HAVING sum(service_type = 'maintenance') > 0 ORDER BY count(*) DESC, vehicle_id"
        " LIMIT ?", (n,))]


def test_imports_of_vehicles_and_orders_and_a_changed_re_export(db, tmp_path):
    importing.import_file(db, SAMPLE / "delivery_list.xlsx", "vehicles", today=DAY)
    assert_in_step(db.conn, "import vehicles")
    importing.import_file(db, SAMPLE / "dms_orders.xlsx", "orders", today=DAY)
    assert len(stored(db.conn)) > 100
    assert_in_step(db.conn, "import orders")
    # A later export: a known order's mileage, type and car change, and new orders come
    # for a known car and for a new one.
    (oid, no, plate, name, phone), other_plate = db.conn.execute(
        "SELECT o.id, o.order_no, v.plate, c.name, c.mobile FROM repair_orders o"
        " JOIN vehicles v ON v.id = o.vehicle_id JOIN customers c ON c.id = o.customer_id"
        " WHERE v.plate IS NOT NULL AND c.mobile IS NOT NULL ORDER BY o.id LIMIT 1"
    ).fetchone(), db.conn.execute(
        "SELECT plate FROM vehicles WHERE plate IS NOT NULL ORDER BY id DESC LIMIT 1").fetchone()[0]
    header = ["工单号", "车牌号码", "客户名称", "联系电话", "结算日期", "维修类别", "进厂里程"]
    rows = [[no, plate, name, phone, "2026-11-20", "保养", 99999],
            ["NEW-1", other_plate, name, phone, "2026-11-21", "保养", 88888],
            ["NEW-2", "粤B0NEW1", "新客户", "13900000001", "2026-11-22", "维修", 1234]]
    importing.import_file(db, messy.write_xlsx(tmp_path / "later.xlsx", [header] + rows),
                          "orders", today=DAY)
    assert db.conn.execute("SELECT mileage FROM repair_orders WHERE id = ?", (oid,)).fetchone() \
        == (99999,)
    assert_in_step(db.conn, "a re-export with changed and new orders")


def test_merges_of_vehicles_and_customers_and_their_undo(sample_db):
    conn = sample_db.conn
    keep, drop = with_orders(conn)
    m = duplicates.merge(sample_db, "vehicle", keep, drop, by="clerk", now=NOW)
    assert drop not in stored(conn)
    assert_in_step(conn, "a merge of vehicles")
    duplicates.undo(sample_db, m["merge_id"], by="clerk", now=NOW)
    assert drop in stored(conn)
    assert_in_step(conn, "the undo of a merge of vehicles")
    a, b = [r[0] for r in conn.execute(
        "SELECT customer_id FROM repair_orders WHERE customer_id IS NOT NULL GROUP BY customer_id"
        " ORDER BY count(*) DESC, customer_id LIMIT 2")]
    m = duplicates.merge(sample_db, "customer", a, b, by="clerk", now=NOW)
    assert_in_step(conn, "a merge of customers")
    duplicates.undo(sample_db, m["merge_id"], by="clerk", now=NOW)
    assert_in_step(conn, "the undo of a merge of customers")


def test_forget_a_customer(sample_db):
    cid = sample_db.conn.execute("SELECT customer_id FROM repair_orders WHERE customer_id IS NOT"
                                 " NULL ORDER BY id LIMIT 1").fetchone()[0]
    privacy.forget(sample_db, cid, by="clerk", now=NOW)
    assert_in_step(sample_db.conn, "forget")


def test_restore_of_a_backup_taken_before_later_imports(sample_db, tmp_path):
    night = tmp_path / "night.db"
    backup.backup(sample_db, night)
    header = ["工单号", "车牌号码", "客户名称", "联系电话", "结算日期", "维修类别", "进厂里程"]
    importing.import_file(sample_db, messy.write_xlsx(tmp_path / "day.xlsx", [header, [
        "DAY-1", "粤B0DAY1", "白天", "13900000002", "2026-11-25", "保养", 5000]]),
        "orders", today=DAY)
    db_path = Path(sample_db.conn.execute("PRAGMA database_list").fetchone()[2])
    dbmod.close(sample_db)
    backup.restore(night, db_path)
    restored = dbmod.connect(db_path)
    try:
        assert restored.conn.execute("SELECT count(*) FROM repair_orders WHERE order_no = 'DAY-1'"
                                     ).fetchone()[0] == 0
        assert_in_step(restored.conn, "restore")
    finally:
        restored.conn.close()


def test_an_old_backup_restored_is_upgraded_with_its_facts(sample_db, tmp_path):
    # A backup of the release before m021 and m022: restore upgrades it.
    sample_db.conn.commit()
    old_path = tmp_path / "old.db"
    old = dbmod.connect(old_path, migrate=False)
    with dbmod.write_transaction(old):
        from crmcli import migrations

        migrations.MIGRATIONS.apply(old, stop_before="m021_last_maintenance_columns")
    old.conn.execute("ATTACH DATABASE ? AS src", (str(tmp_path / "test.db"),))
    for table in ("customers", "vehicles", "vehicle_owners", "repair_orders"):
        old.conn.execute(f"INSERT INTO main.{table} SELECT * FROM src.{table}")
    old.conn.commit()
    old.conn.execute("DETACH DATABASE src")
    with dbmod.write_transaction(old):  # that release's triggers fill its facts
        old.conn.execute("UPDATE repair_orders SET order_no = order_no")
    old.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    old.conn.close()
    target = tmp_path / "restored.db"
    backup.restore(old_path, target)
    restored = dbmod.connect(target)
    try:
        assert len(stored(restored.conn)) > 100
        assert_in_step(restored.conn, "restoring a backup made before m021")
    finally:
        restored.conn.close()


def _bench(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        spec.loader.exec_module(mod)
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    return mod


def test_the_large_sample_builder(tmp_path):
    make_big_db = _bench("make_big_db")
    out = tmp_path / "big.db"
    make_big_db.build(out, 300, 400, 3000, DAY, 7)
    db = dbmod.connect(out)
    try:
        assert len(stored(db.conn)) > 300
        assert_in_step(db.conn, "make_big_db")
    finally:
        db.conn.close()


def test_the_export_benchmark_s_builder(tmp_path):
    bench_export = _bench("bench_export")
    settings = tmp_path / "settings.toml"
    settings.write_text(bench_export.SETTINGS, encoding="utf-8")
    bench_export.build(tmp_path / "export.db", settings, 50)
    db = dbmod.connect(tmp_path / "export.db")
    try:
        assert_in_step(db.conn, "bench_export's builder")
    finally:
        db.conn.close()


def test_rows_written_one_at_a_time(db):
    # What tests/store.py and a clerk's sqlite3 session do: plain INSERTs, no helper.
    import store

    c = store.customer(db)
    v = store.vehicle(db, c)
    store.order(db, v, c, "2026-05-01", "maintenance", 8000)
    store.order(db, v, c, "2026-08-01", "repair", 11000)
    db.conn.commit()
    # the maintenance (order 1) is the last one, though the repair came later
    assert stored(db.conn)[v][:8] == ("2026-08-01", "2026-05-01", "2026-08-01", 8000, 11000,
                                      "2026-05-01", 1, 8000)
    assert_in_step(db.conn, "single inserts")
