"""Facts kept by triggers, and re-planning only the customers whose data changed.

The incremental re-plan is checked against the whole plan: the same changes
are applied, one copy is planned again for the changed customers and the
other in full, and the tasks must come out the same.
"""

from __future__ import annotations

import contextlib
import copy
import random
import sqlite3
from datetime import date, datetime

import pytest
import store

from crmcli import calls, customers, migrations, planner
from crmcli import db as dbmod
from crmcli.settings import DEFAULTS

DAY = date(2026, 11, 26)
S = copy.deepcopy(DEFAULTS)


# --------------------------------------------------------------------------- vehicle facts


def facts_in_python(db) -> dict[int, tuple]:
    """What vehicle_facts must hold, worked out from the orders row by row."""
    out: dict[int, dict] = {}
    for oid, vid, day, km, stype, ono in db.conn.execute(
            "SELECT id, vehicle_id, order_date, mileage, service_type, order_no FROM repair_orders"
            " WHERE vehicle_id IS NOT NULL"):
        f = out.setdefault(vid, {"last": None, "d": [], "k": [], "lm": None})
        f["last"] = max(f["last"] or day, day)
        if km is not None:
            f["d"].append(day)
            f["k"].append(km)
        if stype in ("maintenance", "first_maintenance"):
            # the latest day; of two orders on that day, the later id
            this = (day, oid, km, ono)
            f["lm"] = max(f["lm"] or this, this, key=lambda m: (m[0], m[1]))
    return {vid: (f["last"], min(f["d"], default=None), max(f["d"], default=None),
                  min(f["k"], default=None), max(f["k"], default=None),
                  *(f["lm"] or (None, None, None, None)))
            for vid, f in out.items()}


def facts_in_table(db) -> dict[int, tuple]:
    return {r[0]: tuple(r[1:]) for r in db.conn.execute(
        "SELECT vehicle_id, last_visit, km_first_date, km_last_date, km_min, km_max,"
        " last_maint_day, last_maint_order_id, last_maint_km, last_maint_order_no"
        " FROM vehicle_facts")}


def test_the_facts_sql_knows_the_maintenance_types_the_rules_know():
    from crmcli import facts, rules

    quoted = ", ".join(f"'{t}'" for t in rules.MAINTENANCE_TYPES)
    assert f"service_type IN ({quoted})" in facts.FACTS_SELECT
    assert facts.MAINTENANCE == rules.MAINTENANCE_TYPES


@pytest.mark.parametrize("seed", range(4))
def test_a_bulk_insert_leaves_the_facts_and_log_the_triggers_leave(tmp_path, seed):
    # The same rows written row by row (m022's insert triggers) and in a bulk_insert block
    # (triggers out, one refresh at the end): the same facts and the same customers and
    # vehicles logged for planning; the oracle for the facts is the row-by-row reading.
    from crmcli import facts

    def write(db, rnd, bulk):
        old = [store.customer(db, f"老{i}") for i in range(3)]  # before the block
        olds = [store.vehicle(db, c) for c in old]
        store.order(db, olds[0], old[0], "2026-01-05", "maintenance", 5000)
        start = db.conn.execute("SELECT max(seq) FROM plan_dirt").fetchone()[0]
        db.conn.commit()
        with dbmod.write_transaction(db), (facts.bulk_insert(db.conn) if bulk
                                           else contextlib.nullcontext()):
            cs = old + [store.customer(db, f"新{i}") for i in range(3)]
            vs = olds + [store.vehicle(db, rnd.choice(cs)) for _ in range(4)]
            for _ in range(40):
                day = f"2026-{rnd.randint(1, 3):02d}-{rnd.randint(1, 3):02d}"  # many ties
                store.order(db, rnd.choice(vs), rnd.choice(cs), day,
                            rnd.choice(["repair", "maintenance", "first_maintenance", None]),
                            rnd.choice([None, None, rnd.randint(0, 90000)]))
            # an update inside the block keeps its own trigger
            db.conn.execute("UPDATE repair_orders SET vehicle_id = ? WHERE id = 1", (vs[-1],))
        return {r for r in db.conn.execute(
            "SELECT customer_id, vehicle_id FROM plan_dirt WHERE seq > ?", (start,))}

    got = {}
    for bulk in (False, True):
        db = dbmod.connect(tmp_path / f"{bulk}.db")
        logged = write(db, random.Random(seed), bulk)
        got[bulk] = (facts_in_table(db), logged)
        assert facts_in_table(db) == facts_in_python(db)
        names = {r[0] for r in db.conn.execute("SELECT name FROM sqlite_master"
                                               " WHERE type = 'trigger'")}
        assert set(facts.INSERT_TRIGGERS) <= names  # put back
        db.conn.close()
    # (the order numbers differ: store numbers every order it makes)
    assert ({v: f[:-1] for v, f in got[True][0].items()}
            == {v: f[:-1] for v, f in got[False][0].items()})
    # Row by row logs more lines (a customer alone, then with a car); what they name is
    # the same: every customer and vehicle new in the block or named by a new order.
    for bulk in (False, True):
        logged = got[bulk][1]
        assert {c for c, _v in logged} == {c for c, _v in got[False][1]}
        assert {v for _c, v in logged} - {None} == {v for _c, v in got[False][1]} - {None}


@pytest.mark.parametrize("seed", range(6))
def test_vehicle_facts_follow_every_insert_update_and_delete(db, seed):
    rnd = random.Random(seed)
    c = store.customer(db)
    vehicles = [store.vehicle(db, c) for _ in range(4)]
    orders: list[int] = []
    types = ["repair", "maintenance", "first_maintenance", "bodywork", None]
    for _step in range(120):
        op = rnd.random()
        day = f"2026-{rnd.randint(1, 11):02d}-{rnd.randint(1, 28):02d}"
        if op < 0.5 or not orders:
            orders.append(store.order(db, rnd.choice(vehicles), c, day, rnd.choice(types),
                                      rnd.choice([None, rnd.randint(1000, 90000)])))
        elif op < 0.85:
            oid = rnd.choice(orders)
            col, value = rnd.choice([("order_date", day), ("mileage", rnd.randint(1000, 90000)),
                                     ("mileage", None), ("service_type", rnd.choice(types)),
                                     ("vehicle_id", rnd.choice(vehicles)),
                                     ("order_no", f"X{rnd.randint(1, 10**6)}")])
            db.conn.execute(f"UPDATE repair_orders SET {col} = ? WHERE id = ?", (value, oid))
        else:
            oid = orders.pop(rnd.randrange(len(orders)))
            db.conn.execute("DELETE FROM repair_orders WHERE id = ?", (oid,))
        assert facts_in_table(db) == facts_in_python(db)
    assert len(facts_in_table(db)) >= 2


def test_an_old_file_gets_its_vehicle_facts_when_upgraded(tmp_path):
    path = tmp_path / "old.db"
    old = dbmod.connect(path, migrate=False)
    with dbmod.write_transaction(old):
        migrations.MIGRATIONS.apply(old, stop_before="m008_vehicle_facts_and_plan_dirt")
    # Written as that release wrote them (it had no facts to keep).
    c = old.conn.execute("INSERT INTO customers (merge_key, name, created_at, updated_at)"
                         " VALUES ('k', '张伟', 'x', 'x')").lastrowid
    v = old.conn.execute("INSERT INTO vehicles (customer_id, created_at, updated_at)"
                         " VALUES (?, 'x', 'x')", (c,)).lastrowid
    for no, day, kind, km in (("A1", "2026-03-01", "maintenance", 12000),
                              ("A2", "2026-06-01", "repair", 15000)):
        old.conn.execute("INSERT INTO repair_orders (order_no, vehicle_id, customer_id, order_date,"
                         " service_type, mileage, created_at, updated_at)"
                         " VALUES (?, ?, ?, ?, ?, ?, 'x', 'x')", (no, v, c, day, kind, km))
    old.conn.close()
    upgraded = dbmod.connect(path)
    assert facts_in_table(upgraded) == facts_in_python(upgraded)
    assert facts_in_table(upgraded)[v][0] == "2026-06-01"


# --------------------------------------------------------------------------- incremental plans


def snapshot(db) -> dict[str, tuple]:
    """Every task by key, with the lead it is merged into named by key (ids may differ)."""
    keys = dict(db.conn.execute("SELECT id, key FROM tasks"))
    return {r[0]: (*r[1:-1], keys.get(r[-1])) for r in db.conn.execute(
        "SELECT key, kind, customer_id, vehicle_id, order_id, due_date, expires_on, channel,"
        " weight, reason, state, attempts, next_try, merged_into FROM tasks")}


def twin(db, tmp_path):
    """A copy of the database, to plan in full beside the incremental plan."""
    path = tmp_path / "twin.db"
    dest = sqlite3.connect(path)
    db.conn.backup(dest)
    dest.close()
    return dbmod.connect(path)


def test_a_changed_day_is_planned_again_for_the_changed_customers_only(sample_db, tmp_path):
    db = sample_db
    planner.plan(db, DAY, S)
    open_tasks = db.conn.execute(
        "SELECT id, kind, customer_id, vehicle_id FROM tasks WHERE state='open' ORDER BY id"
    ).fetchall()
    by_kind: dict[str, list] = {}
    for t in open_tasks:
        by_kind.setdefault(t[1], []).append(t)
    touched: set[int] = set()
    now = "2026-11-26T09:00:00"

    # A car with a maintenance reminder comes in for maintenance: the reminder goes.
    maint = (by_kind.get("regular_maintenance") or by_kind["first_maintenance"])[0]
    store.order(db, maint[3], maint[2], "2026-11-25", "maintenance", 30000)
    touched.add(maint[2])
    # A customer with no task gets a birthday today.
    quiet = db.conn.execute("SELECT id FROM customers WHERE id NOT IN"
                            " (SELECT customer_id FROM tasks) ORDER BY id LIMIT 2").fetchall()
    customers.edit(db, quiet[0][0], {"birthday": "1980-11-26"}, by="test")
    touched.add(quiet[0][0])
    # One customer refuses calls; another opts out of one kind.
    call_tasks = [t for t in open_tasks if t[2] not in touched]
    customers.edit(db, call_tasks[0][2], {"callback_consent": False}, by="test")
    touched.add(call_tasks[0][2])
    other = next(t for t in call_tasks if t[2] not in touched)
    db.conn.execute("INSERT INTO optouts (customer_id, what, since) VALUES (?, ?, ?)",
                    (other[2], other[1], now))
    touched.add(other[2])
    # A car changes hands: its reminders follow it to the new owner.
    moving = next(t for t in open_tasks if t[3] and t[2] not in touched)
    db.conn.execute("UPDATE vehicles SET customer_id = ? WHERE id = ?", (quiet[1][0], moving[3]))
    touched |= {moving[2], quiet[1][0]}
    # An insurance expiry moves out of the window.
    ins = next((t for t in open_tasks if t[1].startswith("insurance") and t[2] not in touched),
               None)
    if ins:
        db.conn.execute("UPDATE vehicles SET insurance_compulsory_expiry = '2027-10-01',"
                        " insurance_commercial_expiry = '2027-10-01' WHERE id = ?", (ins[3],))
        touched.add(ins[2])
    # A call is logged on a post-repair callback.
    callback = next(t for t in open_tasks if t[1] == "post_repair" and t[2] not in touched)
    calls.log_call(db, callback[0], "no_answer", S, by="test", at=datetime(2026, 11, 26, 9))
    touched.add(callback[2])

    full = twin(db, tmp_path)
    assert planner.changed_customers(db, DAY, S) == touched
    again = planner.plan(db, DAY, S)
    whole = planner.plan(full, DAY, S, force=True)
    assert again.scope == "changed" and whole.scope == "full"
    assert again.customers == len(touched)
    assert snapshot(db) == snapshot(full)
    # And something did change, so the comparison means something.
    assert again.withdrawn + again.created + again.updated > 0
    assert (again.created, again.updated, again.withdrawn) == (
        whole.created, whole.updated, whole.withdrawn)


def test_nothing_changed_means_nothing_to_plan(sample_db):
    from conftest import SAMPLE

    from crmcli import importing

    planner.plan(sample_db, DAY, S)
    importing.import_file(sample_db, SAMPLE / "dms_orders.xlsx", "orders", today=DAY, force=True)
    result = planner.plan(sample_db, DAY, S)
    assert result.skipped
    n = sample_db.conn.execute("SELECT count(*) FROM plan_dirt").fetchone()[0]
    assert n == 0


def test_the_whole_file_is_planned_when_another_day_or_other_settings_came_between(db):
    c = store.customer(db)
    v = store.vehicle(db, c, delivery_date="2026-11-23")
    store.order(db, v, c, "2026-11-23", "repair")
    assert planner.plan(db, DAY, S).scope == "full"
    store.customer(db, "李娜")
    assert planner.plan(db, DAY, S).scope == "changed"
    planner.plan(db, date(2026, 11, 27), S, as_of=DAY)  # a look ahead
    store.customer(db, "王芳")
    assert planner.plan(db, DAY, S).scope == "full"  # the 27th was planned in between
    store.customer(db, "赵敏")
    other = copy.deepcopy(S)
    other["planning"]["contact_window_days"] = 5
    assert planner.plan(db, DAY, other).scope == "full"


def test_an_import_of_more_changes_than_the_limit_plans_everyone_once(db, tmp_path, monkeypatch):
    import messy

    from crmcli import facts
    from crmcli import importing

    c = store.customer(db)
    store.vehicle(db, c, delivery_date="2026-11-23")
    planner.plan(db, DAY, S)
    monkeypatch.setattr(facts, "DIRT_LIMIT", 2)
    header = ["工单号", "车牌号码", "客户名称", "联系电话", "结算日期", "维修类别"]
    rows = [[f"R{i}", f"粤B1234{i}", f"客户{i}", f"1391234567{i}", "2026-11-23", "维修"]
            for i in range(3)]
    importing.import_file(db, messy.write_xlsx(tmp_path / "a.xlsx", [header] + rows), "orders",
                         today=DAY)
    # One marker instead of a line per customer, and the next plan is a whole one.
    assert db.conn.execute("SELECT count(*) FROM plan_dirt WHERE customer_id IS NOT NULL"
                           ).fetchone()[0] == 0
    assert planner.changed_customers(db, DAY, S) is None
    assert planner.plan(db, DAY, S).scope == "full"
    assert db.conn.execute("SELECT count(*) FROM tasks WHERE customer_id IN"
                           " (SELECT customer_id FROM repair_orders WHERE order_no LIKE 'R%')"
                           ).fetchone()[0] > 0
    # Below the limit again, changes are logged one by one.
    importing.import_file(db, messy.write_xlsx(tmp_path / "b.xlsx", [header, [
        "R9", "粤B12349", "客户9", "13912345679", "2026-11-25", "维修"]]), "orders", today=DAY)
    new = db.conn.execute("SELECT customer_id FROM repair_orders WHERE order_no = 'R9'").fetchone()
    assert planner.changed_customers(db, DAY, S) == {new[0]}
    assert planner.plan(db, DAY, S).scope == "changed"


def test_too_many_changes_plan_everyone(db):
    c = store.customer(db)
    store.vehicle(db, c, delivery_date="2026-11-23")
    planner.plan(db, DAY, S)
    for i in range(5):
        store.customer(db, f"客户{i}")
    assert planner.changed_customers(db, DAY, S, limit=3) is None
    assert len(planner.changed_customers(db, DAY, S, limit=10)) == 5


# --------------------------------------------------------------------------- the gates


def ungated(db, day, settings):
    """Every vehicle rule on every vehicle, with no gate: what the gates must not lose."""
    from crmcli import rules

    care, kmpd = settings["care"], settings["planning"]["default_km_per_day"]
    end = planner.horizon(day, planner.work_calendar(settings))
    window = (day, end)
    out = []
    for v in planner.load_vehicles(db):
        out += rules.delivery_contacts(v, care, window)
        out += rules.first_maintenance(v, care, kmpd, window)
        out += rules.regular_maintenance(v, care, kmpd, window)
        out += rules.warranty_checks(v, care, kmpd, window)
        out += rules.insurance(v, care, window)
        out += rules.inspection(v, care, settings["inspection_rules"], day, end)
    return {(c.key, c.due, c.reason) for c in out if c.due <= end and c.expires >= day}


def test_the_vehicle_gates_never_lose_a_contact(db):
    rnd = random.Random(5)
    for _ in range(300):
        c = store.customer(db, occupation=None)
        delivered = date(2014, 1, 1).toordinal() + rnd.randint(0, 13 * 365)
        d = date.fromordinal(delivered)
        fields = {"delivery_date": d.isoformat(),
                  "usage": rnd.choice(["private", "commercial", "official", None])}
        if rnd.random() < 0.5:
            fields["insurance_compulsory_expiry"] = date.fromordinal(
                DAY.toordinal() + rnd.randint(-40, 60)).isoformat()
        if rnd.random() < 0.3:
            fields["inspection_due"] = date.fromordinal(
                DAY.toordinal() + rnd.randint(-40, 400)).isoformat()
        v = store.vehicle(db, c, **fields)
        km, day = 0, delivered
        while True:
            day += rnd.randint(20, 260)
            if day >= DAY.toordinal():
                break
            km += rnd.randint(100, 15000)
            store.order(db, v, c, date.fromordinal(day).isoformat(),
                        rnd.choice(["maintenance", "repair", "first_maintenance"]),
                        None if rnd.random() < 0.2 else km)
    kinds = {"welcome_sms", "delivery_call", "delivery_questionnaire", "first_maintenance",
             "regular_maintenance", "warranty_check", "insurance_compulsory",
             "insurance_commercial", "inspection"}
    other = copy.deepcopy(S)  # a dealer's own timings, and a higher default km/day
    other["care"]["regular_maintenance"].update(months=4, km=5000, expires_after_days=10)
    other["care"]["warranty_check"].update(points=[[3, 3000], [18, 40000], [60, 150000]],
                                           lead_days=45)
    other["planning"]["default_km_per_day"] = 90
    for settings in (S, other):
        for offset in range(0, 400, 23):
            day = date.fromordinal(DAY.toordinal() - offset)
            wc = planner.work_calendar(settings)
            got = {(c.key, c.due, c.reason) for c in planner.candidates(db, day, settings, wc)[0]
                   if c.kind in kinds}
            assert got == ungated(db, day, settings), day
            assert len({k for k, _d, _r in got if k.startswith(("regular", "warranty"))}) > 0
    assert got  # the comparison is about something


def test_imports_keep_the_facts_and_log_their_customers(sample_db, tmp_path):
    import messy

    from crmcli import importing

    assert facts_in_table(sample_db) == facts_in_python(sample_db)
    planner.plan(sample_db, DAY, S)
    assert planner.changed_customers(sample_db, DAY, S) == set()
    # A new order from a new customer, and a new maintenance on a car already on file.
    plate, owner = sample_db.conn.execute(
        "SELECT plate, customer_id FROM vehicles WHERE plate IS NOT NULL AND customer_id IS NOT NULL"
        " ORDER BY id LIMIT 1").fetchone()
    mobile = sample_db.conn.execute("SELECT mobile FROM customers WHERE id = ?", (owner,)).fetchone()[0]
    name = sample_db.conn.execute("SELECT name FROM customers WHERE id = ?", (owner,)).fetchone()[0]
    rows = [{"工单号": "NEW0001", "车牌号码": "粤B9Z9Z9", "客户名称": "新客户", "联系电话": "13912345678",
             "结算日期": "2026-11-25", "维修类别": "维修", "行驶里程": "1000"},
            {"工单号": "NEW0002", "车牌号码": plate, "客户名称": name, "联系电话": mobile,
             "结算日期": "2026-11-25", "维修类别": "保养", "行驶里程": "99000"}]
    path = messy.write_xlsx(tmp_path / "new.xlsx", [list(rows[0])] + [list(r.values()) for r in rows])
    importing.import_file(sample_db, path, "orders", today=DAY)
    assert facts_in_table(sample_db) == facts_in_python(sample_db)
    newcomer = sample_db.conn.execute(
        "SELECT customer_id FROM repair_orders WHERE order_no = 'NEW0001'").fetchone()[0]
    assert planner.changed_customers(sample_db, DAY, S) == {newcomer, owner}
    result = planner.plan(sample_db, DAY, S)
    assert result.scope == "changed" and result.customers == 2


def test_an_order_moved_to_a_car_new_in_the_file_counts_in_its_facts(db, tmp_path):
    import messy

    from crmcli import importing

    header = ["工单号", "车架号", "客户名称", "联系电话", "结算日期", "维修类别", "行驶里程"]
    first = [["A1", "LSVAU2180N2183294", "张伟", "13912345678", "2026-10-01", "保养", "5000"]]
    importing.import_file(db, messy.write_xlsx(tmp_path / "a.xlsx", [header] + first), "orders",
                         today=DAY)
    # The re-export puts A1 on another car (a corrected VIN), new to the store, and adds
    # a later order of that car.
    again = [["A1", "LFV2A21K6K3019357", "张伟", "13912345678", "2026-10-01", "保养", "5000"],
             ["A2", "LFV2A21K6K3019357", "张伟", "13912345678", "2026-11-01", "维修", "6000"]]
    importing.import_file(db, messy.write_xlsx(tmp_path / "b.xlsx", [header] + again), "orders",
                         today=DAY)
    moved = db.conn.execute("SELECT vehicle_id FROM repair_orders WHERE order_no = 'A1'"
                            ).fetchone()[0]
    assert facts_in_table(db) == facts_in_python(db)
    assert facts_in_table(db)[moved][3:5] == (5000, 6000)


def test_a_task_covered_by_a_call_follows_its_car_and_both_plans_agree(db, tmp_path):
    # A lead (insurance) with a maintenance reminder merged into it; the lead's call is
    # made (wrong number), which gives the reminder back on its own; then the car is
    # sold; later only the seller's data changes.
    day = date(2026, 11, 24)
    a, b = store.customer(db, "张伟"), store.customer(db, "李娜")
    v = store.vehicle(db, a, delivery_date="2020-01-10",
                      insurance_compulsory_expiry=date(2026, 12, 24).isoformat())
    store.order(db, v, a, "2026-05-25", "maintenance", 30000)
    store.order(db, v, a, "2026-01-02", "repair", 25000)
    planner.plan(db, day, S)
    merged = db.conn.execute("SELECT id, merged_into FROM tasks WHERE state = 'merged'").fetchone()
    assert merged is not None
    calls.log_call(db, merged[1], "wrong_number", S, by="test", at=datetime(2026, 11, 24, 9))
    db.conn.execute("UPDATE vehicles SET customer_id = ? WHERE id = ?", (b, v))
    planner.plan(db, day, S)
    assert db.conn.execute("SELECT customer_id, state FROM tasks WHERE id = ?",
                           (merged[0],)).fetchone() == (b, "open")
    customers.edit(db, a, {"birthday": "1980-03-03"}, by="test")
    full = twin(db, tmp_path)
    assert planner.plan(db, day, S).scope == "changed"
    planner.plan(full, day, S, force=True)
    assert snapshot(db) == snapshot(full)
