"""Value classes at each boundary, explanations, change history, holding-rate arithmetic."""

from __future__ import annotations

import copy
import json
from datetime import date, timedelta

import pytest
import store
from typer.testing import CliRunner

from crmcli import classify, planner, stats
from crmcli.classify import Customer, Order
from crmcli.cli import app
from crmcli.settings import DEFAULTS

CFG = DEFAULTS["classes"]
DAY = date(2026, 11, 26)


def days_ago(n: int) -> date:
    return DAY - timedelta(days=n)


def paid(n_days_ago: int, fen: int = 150000, kind: str = "maintenance", km=None) -> Order:
    return Order(days_ago(n_days_ago), kind, fen, km)


@pytest.mark.parametrize("last_visit,expected", [(365, "C"), (366, "D")])
def test_d_after_a_year_without_any_visit(last_visit, expected):
    c = Customer(1, [paid(last_visit)])
    assert classify.classify(c, DAY, CFG).value_class == expected


@pytest.mark.parametrize("last_paid,expected", [(180, "B"), (181, "C")])
def test_c_after_six_months_without_a_paid_visit(last_paid, expected):
    c = Customer(1, [paid(last_paid)])
    v = classify.classify(c, DAY, CFG)
    assert v.value_class == expected
    if expected == "C":
        assert v.reason == f"last paid visit {days_ago(181)}, 181 days ago"


def test_c_for_warranty_and_free_work_only():
    c = Customer(1, [Order(days_ago(10), "warranty", 0, None),
                     Order(days_ago(100), "free_check", 0, None)])
    v = classify.classify(c, DAY, CFG)
    assert v.value_class == "C" and v.reason.startswith("only warranty/free work")


def loyal_customer(spend_each=110000, visits=3, maint=4, km_span=30000):
    # Mileage readings spanning km_span in the window: due = km_span / 7,500.
    orders = [paid(30 + i * 150, spend_each, "maintenance" if i < maint else "repair",
                   km=40000 - i * (km_span // max(1, visits - 1))) for i in range(visits)]
    return Customer(1, orders)


def test_a_needs_visits_spend_and_loyalty_together():
    # 4 paid maintenance visits of ¥1,100 over 30,000 km (4 due): A.
    a = classify.classify(loyal_customer(visits=4, maint=4), DAY, CFG)
    assert a.value_class == "A", a.reason
    # Boundary on spend: ¥2,999.97 over 3 visits is not A; ¥3,000 is.
    assert classify.classify(loyal_customer(99999, 3, 3, 15000), DAY, CFG).value_class == "B"
    assert classify.classify(loyal_customer(100000, 3, 3, 15000), DAY, CFG).value_class == "A"
    # Money alone never makes an A: big spend, but only 2 visits.
    rich = classify.classify(loyal_customer(5_000_000, 2, 2, 7500), DAY, CFG)
    assert rich.value_class == "B" and "fewer than 3 paid visits" in rich.reason
    # Loyalty: 3 paid repair visits but maintenance done elsewhere (0 of 4 due here).
    disloyal = classify.classify(loyal_customer(200000, 3, 0, 30000), DAY, CFG)
    assert disloyal.value_class == "B" and "loyalty under 0.8" in disloyal.reason


@pytest.mark.parametrize("delivered,expected", [(180, "B"), (181, "C"), (365, "C"), (366, "D")])
def test_customers_with_no_visit_yet_by_delivery_age(delivered, expected):
    c = Customer(1, [], [days_ago(delivered)])
    assert classify.classify(c, DAY, CFG).value_class == expected


@pytest.mark.parametrize("delivered,band", [
    (date(2023, 11, 27), "in_warranty"),  # 2 years 364 days
    (date(2023, 11, 26), "mid"),          # exactly 3 years
    (date(2021, 11, 27), "mid"),
    (date(2021, 11, 26), "old"),          # exactly 5 years
    (None, "unknown"),
])
def test_vehicle_age_band_boundaries(delivered, band):
    assert classify.age_band(delivered, DAY, CFG) == band


def test_loyalty_is_maintenance_done_against_due():
    orders = [Order(days_ago(300), "maintenance", 1, 10000), Order(days_ago(100), "maintenance", 1,
                                                                   25000),
              Order(days_ago(10), "repair", 1, 40000)]
    value, why = classify.loyalty(classify.summarize(orders, DAY, CFG), days_ago(730), DAY, CFG)
    assert value == pytest.approx(2 / 4) and why == "2 maintenance here for 4.0 due (30,000 km driven)"


def test_run_stores_classes_and_history_a_to_b_first(db):
    settings = copy.deepcopy(DEFAULTS)
    a = store.customer(db, "甲")
    d = store.customer(db, "乙")
    va, vd = store.vehicle(db, a), store.vehicle(db, d)
    for i in range(4):
        store.order(db, va, a, (DAY - timedelta(days=30 + 150 * i)).isoformat(), "maintenance",
                    mileage=40000 - i * 7500 - 2500, total_fen=120000)
    store.order(db, vd, d, "2025-06-01", "repair", total_fen=50000)
    first = classify.run(db, DAY, settings)
    assert first["counts"] == {"A": 1, "B": 0, "C": 0, "D": 1}
    assert classify.explain(db, d)["reason"] == "last visit 2025-06-01, 543 days ago"
    # 200 days later: 甲 has no paid visit for 230 days -> C; 乙 comes back -> B.
    later = DAY + timedelta(days=200)
    store.order(db, vd, d, (later - timedelta(days=1)).isoformat(), "repair", total_fen=80000)
    classify.run(db, later, settings)
    moves = classify.changes(db)
    assert [(m["name"], m["old"], m["new"]) for m in moves] == [("甲", "A", "C"), ("乙", "D", "B")]
    assert len(classify.changes(db, since=DAY)) == 2


def test_a_class_customers_come_first_in_today(db):
    settings = copy.deepcopy(DEFAULTS)
    settings["planning"]["contact_window_days"] = 0
    b = store.customer(db, "乙")
    a = store.customer(db, "甲")
    vb, va = store.vehicle(db, b), store.vehicle(db, a)
    store.order(db, vb, b, "2026-11-23", "repair", total_fen=1000)
    for i in range(4):
        store.order(db, va, a, (DAY - timedelta(days=3 + 150 * i)).isoformat(), "maintenance",
                    mileage=30000 - i * 7500, total_fen=120000)
    classify.run(db, DAY, settings)
    planner.plan(db, DAY, settings)
    items = [i for i in planner.today_list(db, DAY, settings)["tasks"] if i["kind"] == "post_repair"]
    assert [(i["name"], i["value_class"]) for i in items] == [("甲", "A"), ("乙", "B")]


def test_holding_rate_on_a_hand_computed_example(db):
    # Four vehicles: two aged 1 (one came back within 12 months), two aged 6 (neither did).
    c1, c2, c3 = store.customer(db, "甲"), store.customer(db, "乙"), store.customer(db, "丙")
    v1 = store.vehicle(db, c1, delivery_date="2025-06-01")
    store.vehicle(db, c2, delivery_date="2025-03-01")
    v3 = store.vehicle(db, c3, delivery_date="2020-05-01")
    store.vehicle(db, c3, delivery_date="2020-01-01")
    store.order(db, v1, c1, "2026-02-01", "maintenance", total_fen=50000)
    store.order(db, v3, c3, "2025-10-01", "repair", total_fen=30000)  # 13.8 months ago
    r = stats.retention(db, DAY)
    rows = {x["age"]: x for x in r["rows"]}
    assert (rows["1"]["vehicles"], rows["1"]["came_back"], rows["1"]["holding_rate"]) == (2, 1, 0.5)
    assert (rows["6"]["vehicles"], rows["6"]["came_back"], rows["6"]["holding_rate"]) == (2, 0, 0.0)
    # Active: 甲 paid within 180 days? 2026-02-01 is 298 days ago: no. Nobody is active.
    assert r["total"]["active"] == 0 and r["total"]["holding_rate"] == 0.25


def test_classify_and_retention_commands(sample_db):
    runner = CliRunner()
    r = runner.invoke(app, ["classify", "--date", "2026-11-26", "--json"])
    assert r.exit_code == 0
    data = json.loads(r.stdout)
    assert sum(data["counts"].values()) == data["customers"] > 0
    assert sum(sum(row.values()) for row in data["by_age"].values()) == data["customers"]
    r = runner.invoke(app, ["classify", "--date", "2026-11-26"])
    assert r.exit_code == 0 and "value class and vehicle age" in r.stdout
    listed = json.loads(runner.invoke(app, ["customer", "list", "--class", "C", "--age", "2-5",
                                            "--json", "--limit", "1000"]).stdout)
    assert all(c["value_class"] == "C" for c in listed)
    r = runner.invoke(app, ["retention", "--date", "2026-11-26", "--json"])
    assert r.exit_code == 0 and json.loads(r.stdout)["total"]["vehicles"] > 0
    r = runner.invoke(app, ["customer", "list", "--class", "X"])
    assert r.exit_code == 2 and "A (loyal), B (opportunity), C (marginal), D (lost)" in r.stderr


def test_summaries_counted_by_sqlite_give_the_same_classes(db):
    # Orders over six years; classes computed from every order must equal the loaded ones.
    import random

    rnd = random.Random(3)
    ids = []
    for n in range(40):
        c = store.customer(db, f"客{n}")
        v = store.vehicle(db, c)
        ids.append(c)
        for _ in range(rnd.randint(0, 8)):
            day = DAY - timedelta(days=rnd.randint(1, 6 * 365))
            store.order(db, v, c, day.isoformat(), rnd.choice(["maintenance", "repair", "warranty",
                                                               "free_check"]),
                        mileage=rnd.randint(1000, 90000), total_fen=rnd.choice([0, 50000, 200000]))
    loaded = classify.load(db, DAY, CFG)
    for cid in ids:
        full = Customer(cid, [Order(date.fromisoformat(d), st, t, km) for d, st, t, km in
                              db.conn.execute("SELECT order_date, service_type, total_fen, mileage"
                                              " FROM repair_orders WHERE customer_id=?", (cid,))])
        summary, deliveries = loaded[cid]
        assert summary == classify.summarize(full.orders, DAY, CFG)
        assert classify.judge(summary, deliveries, DAY, CFG) == classify.classify(full, DAY, CFG)


def test_report_holding_rate_is_the_retention_total(sample_db):
    for day in (date(2026, 6, 30), date(2026, 11, 26)):
        r = stats.retention(sample_db, day)
        assert stats._holding(sample_db, day) == stats.ratio(r["total"]["came_back"],
                                                              r["total"]["vehicles"])


FREE = [Order(days_ago(10), "warranty", 0, None), Order(days_ago(100), "free_check", 0, None)]


@pytest.mark.parametrize("orders,delivered,expected", [
    # A new car's first months: only the free check and warranty work; still B.
    (FREE, 365, "B"),
    # A day past the first year: free work only is the marginal customer's habit.
    (FREE, 366, "C"),
    # No delivery on file: nothing says the relationship is young.
    (FREE, None, "C"),
    # A paid visit once: the ordinary rules (last paid 200 days ago: C).
    ([*FREE, paid(200)], 100, "C"),
])
def test_new_owners_with_only_free_work_stay_b_while_young(orders, delivered, expected):
    c = Customer(1, orders, [days_ago(delivered)] if delivered is not None else [])
    v = classify.classify(c, DAY, CFG)
    assert v.value_class == expected
    if expected == "B":
        assert v.reason == (f"new owner: delivered {days_ago(365)}, 365 days ago;"
                            " only free/warranty work so far (2 visits)")


def test_a_car_without_dates_is_banded_by_its_vin_and_the_explanation_says_so(db):
    c = store.customer(db)
    store.vehicle(db, c, plate="粤B1K000", vin="1M8GDM9AXKP042788")  # model year 2019
    store.order(db, 1, c, "2026-10-01", "repair", total_fen=50000)
    classify.run(db, DAY, DEFAULTS)
    e = classify.explain(db, c)
    assert e["age_band"] == "old"  # 7 years
    assert e["vehicles"] == [{"plate": "粤B1K000", "vin": "1M8GDM9AXKP042788", "years": 7,
                              "source": "model year 2019 (VIN)"}]
    rows = {r["age"]: r["vehicles"] for r in stats.retention(db, DAY)["rows"]}
    assert rows == {"7": 1, "unknown": 0}
