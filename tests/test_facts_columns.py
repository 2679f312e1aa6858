"""The last maintenance as real columns (m021): an old file's packed strings converted.

m008 stored the last maintenance of a vehicle as one string 'date|id(12 digits)|km|order
no'. m021 splits it into last_maint_day, last_maint_order_id, last_maint_km and
last_maint_order_no; the tests build a file at m019, let that release's own triggers fill
the facts, upgrade it and compare with values worked by hand and with a recompute.
"""

from __future__ import annotations

import copy
from datetime import date

from crmcli import db as dbmod
from crmcli import facts, migrations, planner
from crmcli.settings import DEFAULTS

COLS = ("vehicle_id, last_visit, km_first_date, km_last_date, km_min, km_max, last_maint_day,"
        " last_maint_order_id, last_maint_km, last_maint_order_no")
DAY = date(2026, 11, 26)


def old_file(path):
    """A database as the release before m021 left it (no rows)."""
    old = dbmod.connect(path, migrate=False)
    with dbmod.write_transaction(old):
        migrations.MIGRATIONS.apply(old, stop_before="m021_last_maintenance_columns")
    return old


def fill_facts_as_m008_did(conn) -> None:
    # That release's update trigger recomputes a vehicle's facts with its own query.
    conn.execute("UPDATE repair_orders SET order_no = order_no")


def stored(conn) -> dict[int, tuple]:
    return {r[0]: r[1:] for r in conn.execute(f"SELECT {COLS} FROM vehicle_facts")}


def recomputed(conn) -> dict[int, tuple]:
    return {r[0]: r[1:] for r in conn.execute(
        facts.FACTS_SELECT.format(where="vehicle_id IS NOT NULL"))}


def test_an_old_file_s_packed_last_maintenance_becomes_four_columns(tmp_path):
    path = tmp_path / "old.db"
    old = old_file(path)
    c = old.conn.execute("INSERT INTO customers (merge_key, name, created_at, updated_at)"
                         " VALUES ('k', '张伟', 'x', 'x')").lastrowid
    v = [old.conn.execute("INSERT INTO vehicles (customer_id, created_at, updated_at)"
                          " VALUES (?, 'x', 'x')", (c,)).lastrowid for _ in range(4)]
    orders = [
        # id 1..: vehicle, number, day, type, km
        (v[0], "A1", "2026-03-01", "maintenance", 12000),
        (v[0], "A2", "2026-06-01", "repair", 15000),  # later, but not a maintenance
        (v[1], "B|1", "2026-05-05", "first_maintenance", None),  # no km, a '|' in its number
        (v[2], "C1", "2026-04-04", "maintenance", 0),  # a km of 0 is a km
        (v[2], "C2", "2026-04-04", "maintenance", 9000),  # same day: the later id wins
        (v[3], "D1", "2026-02-02", "bodywork", 500),  # no maintenance at all
    ]
    for vid, no, day, kind, km in orders:
        old.conn.execute("INSERT INTO repair_orders (order_no, vehicle_id, customer_id,"
                         " order_date, service_type, mileage, created_at, updated_at)"
                         " VALUES (?, ?, ?, ?, ?, ?, 'x', 'x')", (no, vid, c, day, kind, km))
    fill_facts_as_m008_did(old.conn)
    packed = dict(old.conn.execute("SELECT vehicle_id, last_maintenance FROM vehicle_facts"))
    # What m008 stored, so the test converts the real old form.
    assert packed == {v[0]: "2026-03-01|000000000001|12000|A1",
                      v[1]: "2026-05-05|000000000003||B|1",
                      v[2]: "2026-04-04|000000000005|9000|C2",
                      v[3]: None}
    old.conn.commit()
    old.conn.close()

    new = dbmod.connect(path)
    assert stored(new.conn) == {
        v[0]: ("2026-06-01", "2026-03-01", "2026-06-01", 12000, 15000, "2026-03-01", 1, 12000, "A1"),
        v[1]: ("2026-05-05", None, None, None, None, "2026-05-05", 3, None, "B|1"),
        v[2]: ("2026-04-04", "2026-04-04", "2026-04-04", 0, 9000, "2026-04-04", 5, 9000, "C2"),
        v[3]: ("2026-02-02", "2026-02-02", "2026-02-02", 500, 500, None, None, None, None),
    }
    assert stored(new.conn) == recomputed(new.conn)
    cols = [r[1] for r in new.conn.execute("PRAGMA table_info(vehicle_facts)")]
    assert "last_maintenance" not in cols
    # m021's triggers keep the new columns: a later maintenance of the first car.
    with dbmod.write_transaction(new):
        new.conn.execute("UPDATE repair_orders SET service_type = 'maintenance' WHERE order_no = 'A2'")
    assert stored(new.conn)[v[0]][5:] == ("2026-06-01", 2, 15000, "A2")
    assert stored(new.conn) == recomputed(new.conn)


def _copy_records(src, dst) -> None:
    dst.conn.execute("ATTACH DATABASE ? AS src", (str(src),))
    for table in ("customers", "vehicles", "vehicle_owners", "repair_orders"):
        dst.conn.execute(f"INSERT INTO main.{table} SELECT * FROM src.{table}")
    dst.conn.commit()
    dst.conn.execute("DETACH DATABASE src")


def _tasks(db) -> list[tuple]:
    return db.conn.execute("SELECT kind, key, customer_id, vehicle_id, due_date, expires_on,"
                           " channel, state, reason, contact_on FROM tasks ORDER BY key").fetchall()


def test_the_sample_converted_gives_the_facts_and_the_plan_of_a_fresh_import(sample_db, tmp_path):
    # The sample imported by this release, and the same records in a file of the release
    # before (its facts filled by its own triggers), upgraded: same facts, same tasks.
    s = copy.deepcopy(DEFAULTS)
    sample_db.conn.commit()
    old = old_file(tmp_path / "old.db")
    _copy_records(tmp_path / "test.db", old)
    with dbmod.write_transaction(old):
        fill_facts_as_m008_did(old.conn)
    assert old.conn.execute("SELECT count(*) FROM vehicle_facts"
                            " WHERE last_maintenance IS NOT NULL").fetchone()[0] > 100
    old.conn.close()
    upgraded = dbmod.connect(tmp_path / "old.db")
    assert stored(upgraded.conn) == stored(sample_db.conn)
    assert sum(1 for f in stored(upgraded.conn).values() if f[6] is not None) > 100
    planner.plan(sample_db, DAY, s, as_of=DAY)
    planner.plan(upgraded, DAY, s, as_of=DAY)
    fresh = _tasks(sample_db)
    assert any(t[0] == "regular_maintenance" for t in fresh)
    assert _tasks(upgraded) == fresh
