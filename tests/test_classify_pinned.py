"""Each value-class rule one day, one fen or one visit either side of its threshold.

Defaults (settings ``[classes]``): A needs 3 paid visits, ¥3,000 and loyalty 0.8
in a 24-month window; C after 180 days without a paid visit; D after 365 days
without any visit; a customer with no visit yet is B for 180 days after
delivery. Loyalty counts months of 30.44 days. Every expected reason is worked
by hand in the comments.
"""

from __future__ import annotations

import copy
from datetime import date, timedelta

import pytest
import store

from crmcli import classify
from crmcli.classify import Order, Summary, Verdict
from crmcli.settings import DEFAULTS

CFG = DEFAULTS["classes"]
DAY = date(2026, 11, 26)
D = date


def cfg(**changes) -> dict:
    c = copy.deepcopy(CFG)
    c.update(changes)
    return c


def before(days: int) -> date:
    return DAY - timedelta(days=days)


def maint(day: date, yuan: int = 1200, km: int | None = None) -> Order:
    return Order(day, "maintenance", yuan * 100, km)


@pytest.mark.parametrize(("total_fen", "kind", "paid"), [
    (1, "repair", True), (0, "repair", False), (None, "repair", False),
    (50000, "warranty", False), (50000, "free_check", False), (50000, None, True)])
def test_a_paid_visit_is_any_amount_above_zero_not_warranty_or_free(total_fen, kind, paid):
    assert classify.is_paid(Order(DAY, kind, total_fen, None)) is paid


def test_summary_counts_the_day_itself_and_the_window_start():
    start = D(2024, 11, 26)  # 24 months before 2026-11-26
    orders = [Order(start - timedelta(days=1), "repair", 100, 5000),   # before the window
              Order(start, "maintenance", 200, 6000),                  # the window's first day
              Order(DAY, "warranty", 0, 9000),                         # the day itself
              Order(DAY + timedelta(days=1), "repair", 400, 9900)]     # after the day: unseen
    assert classify.summarize(orders, DAY, CFG) == Summary(
        last_visit=DAY, last_paid=start, window_visits=2, paid_visits=1, spend_fen=200,
        maintenance=1, km_low=6000, km_high=9000, readings=2)


def test_loyalty_by_mileage_needs_two_different_readings():
    s = Summary(DAY, DAY, 3, 3, 360000, 3, 10_000, 40_000, 2)
    # 30,000 km / 7,500 = 4 due, 3 done.
    assert classify.loyalty(s, D(2024, 11, 26), DAY, CFG) == (
        0.75, "3 maintenance here for 4.0 due (30,000 km driven)")
    # 7,500 km would be 1 due; done 2: capped at 1.
    s2 = s._replace(km_low=10_000, km_high=17_500, maintenance=2)
    assert classify.loyalty(s2, D(2024, 11, 26), DAY, CFG) == (
        1.0, "2 maintenance here for 1.0 due (7,500 km driven)")
    # 3,000 km is less than one interval: still 1 due (never fewer), 0 done.
    s3 = s._replace(km_low=10_000, km_high=13_000, maintenance=0)
    assert classify.loyalty(s3, D(2024, 11, 26), DAY, CFG) == (
        0.0, "0 maintenance here for 1.0 due (3,000 km driven)")


def test_loyalty_by_time_in_months_of_30_44_days():
    # Same readings (or one) say nothing of the distance: by time. 2024-11-26..2026-11-26 is
    # 730 days = 23.98 months of 30.44 days; one maintenance per 6 months: 3.997 due.
    s = Summary(DAY, DAY, 3, 3, 360000, 3, 20_000, 20_000, 2)
    assert classify.loyalty(s, D(2024, 11, 26), DAY, CFG) == (
        pytest.approx(3 / (730 / 30.44 / 6)), "3 maintenance here for 4.0 due (24 months)")
    one = s._replace(readings=1, km_high=None, km_low=20_000)
    assert classify.loyalty(one, D(2024, 11, 26), DAY, CFG)[0] == pytest.approx(0.7506, abs=1e-4)
    # 91 days = 2.99 months: less than one interval, so 1 due.
    assert classify.loyalty(s._replace(maintenance=1), DAY - timedelta(days=91), DAY, CFG) == (
        1.0, "1 maintenance here for 1.0 due (3 months)")
    # Months of 30.44 days, not 31: 700 days are 23.0 months (3.83 due, 3 done: 0.783), where
    # 31-day months would make 22.6 (3.76 due: 0.797) and pass a 0.79 bar.
    start = DAY - timedelta(days=700)
    loyal, why = classify.loyalty(s, start, DAY, CFG)
    assert round(loyal, 3) == 0.783 and why == "3 maintenance here for 3.8 due (23 months)"
    assert classify.judge(s._replace(last_paid=DAY), [], DAY,
                          cfg(window_months=23, a_min_loyalty=0.79)).value_class == "B"


def a_customer(**change) -> Summary:
    """Just an A: 3 paid visits, exactly ¥3,000, loyalty exactly 0.8 (4 done, 37,500 km = 5 due)."""
    base = Summary(last_visit=before(10), last_paid=before(10), window_visits=4, paid_visits=3,
                   spend_fen=300_000, maintenance=4, km_low=10_000, km_high=47_500, readings=4)
    return base._replace(**change)


def test_class_a_at_each_threshold_exactly():
    assert classify.judge(a_customer(), [], DAY, CFG) == Verdict(
        "A", "3 paid visits, ¥3,000 in 24 months, loyalty 0.80 "
             "(4 maintenance here for 5.0 due (37,500 km driven))")


@pytest.mark.parametrize(("change", "missing"), [
    ({"paid_visits": 2}, "fewer than 3 paid visits"),
    ({"spend_fen": 299_999}, "under ¥3,000"),
    ({"maintenance": 3}, "loyalty under 0.8"),   # 3 of 5 due: 0.60
    ({"paid_visits": 2, "spend_fen": 299_999},
     "fewer than 3 paid visits, under ¥3,000"),
])
def test_one_unit_short_of_a_is_b_and_says_what_is_missing(change, missing):
    v = classify.judge(a_customer(**change), [], DAY, CFG)
    assert v.value_class == "B" and v.reason.endswith(f"; not A: {missing}")


def test_b_reason_in_full():
    v = classify.judge(a_customer(paid_visits=2, spend_fen=123_456, maintenance=3), [], DAY, CFG)
    assert v == Verdict("B", "2 paid visits, ¥1,235 in 24 months, loyalty 0.60 (3 maintenance "
                             "here for 5.0 due (37,500 km driven)); not A: fewer than 3 paid "
                             "visits, under ¥3,000, loyalty under 0.8")


@pytest.mark.parametrize(("days", "cls"), [(365, "A"), (366, "D")])
def test_d_after_365_days_without_any_visit(days, cls):
    s = a_customer(last_visit=before(days), last_paid=before(days))
    v = classify.judge(s, [], DAY, cfg(c_no_paid_visit_days=400))
    assert v.value_class == cls
    if cls == "D":
        assert v.reason == f"last visit {before(days)}, 366 days ago"


@pytest.mark.parametrize(("days", "cls"), [(180, "A"), (181, "C")])
def test_c_after_180_days_without_a_paid_visit(days, cls):
    v = classify.judge(a_customer(last_paid=before(days)), [], DAY, CFG)
    assert v.value_class == cls
    if cls == "C":
        assert v.reason == "last paid visit 2026-05-29, 181 days ago"


def test_c_for_only_free_work_and_for_no_paid_visit_at_all():
    only_free = a_customer(paid_visits=0, last_paid=None, spend_fen=0, window_visits=2)
    assert classify.judge(only_free, [], DAY, CFG) == Verdict(
        "C", "only warranty/free work in the last 24 months (2 visits)")
    # A free visit 8 months ago, outside a 6-month window, and nothing paid ever.
    none_paid = Summary(before(240), None, 0, 0, 0, 0, None, None, 0)
    assert classify.judge(none_paid, [], DAY, cfg(window_months=6)) == Verdict(
        "C", "no paid visit on file")


@pytest.mark.parametrize(("age", "verdict"), [
    (0, Verdict("B", "new customer: delivered 2026-11-26, 0 days ago, no visit yet")),
    (180, Verdict("B", "new customer: delivered 2026-05-30, 180 days ago, no visit yet")),
    (181, Verdict("C", "no visit since delivery 2026-05-29, 181 days ago")),
    (365, Verdict("C", "no visit since delivery 2025-11-26, 365 days ago")),
    (366, Verdict("D", "never came back: delivered 2025-11-25, 366 days ago")),
])
def test_no_visit_yet_by_days_since_delivery(age, verdict):
    empty = Summary(None, None, 0, 0, 0, 0, None, None, 0)
    # A delivery after the day does not count; the newest one up to the day does.
    deliveries = [before(age + 400), before(age), DAY + timedelta(days=1)]
    assert classify.judge(empty, deliveries, DAY, CFG) == verdict


def test_no_visit_and_no_delivery():
    empty = Summary(None, None, 0, 0, 0, 0, None, None, 0)
    assert classify.judge(empty, [DAY + timedelta(days=1)], DAY, CFG) == Verdict(
        "C", "no visit and no delivery on file")


def test_a_free_check_on_the_delivery_day_is_a_new_owner_not_a_marginal_customer():
    # Delivered today and checked free of charge today: the newest delivery up to the day is
    # today, 0 days old, within the first 365 days: B, not C for only free work.
    v = classify.classify(classify.Customer(1, [Order(DAY, "free_check", 0, 12)], [DAY]),
                          DAY, CFG)
    assert v == Verdict("B", "new owner: delivered 2026-11-26, 0 days ago;"
                             " only free/warranty work so far (1 visits)")


@pytest.mark.parametrize(("delivered", "band"), [
    (D(2023, 11, 27), "in_warranty"),  # 2 completed years: under 3
    (D(2023, 11, 26), "mid"),          # 3 years to the day
    (D(2021, 11, 27), "mid"),          # 4 completed years
    (D(2021, 11, 26), "old"),          # 5 years to the day
    (None, "unknown"),
])
def test_age_bands(delivered, band):
    assert classify.age_band(delivered, DAY, CFG) == band


def test_band_labels():
    assert [classify.band_label(b, CFG) for b in classify.BANDS] == [
        "in warranty (<3y)", "3-5 years", "over 5 years", "age unknown"]


# ------------------------------------------------------------------ the store


def test_run_stores_classes_bands_and_moves_then_reports_them(db):
    a = store.customer(db, "甲")
    va = store.vehicle(db, a, delivery_date="2023-11-26", usage="official")
    for i, km in enumerate((10_000, 20_000, 30_000, 40_000)):
        store.order(db, va, a, f"2026-0{i + 6}-10", "maintenance", mileage=km, total_fen=100_000)
    lost = store.customer(db, "乙")
    vl = store.vehicle(db, lost, delivery_date="2020-01-01")
    store.order(db, vl, lost, "2025-01-10", "repair", total_fen=50_000)
    new = store.customer(db, "丙")
    store.vehicle(db, new, delivery_date="2026-11-01", usage="private")
    settings = {"classes": CFG}

    first = classify.run(db, DAY, settings)
    assert {k: first[k] for k in ("day", "customers", "changed", "counts")} == {
        "day": "2026-11-26", "customers": 3, "changed": 0,
        "counts": {"A": 1, "B": 1, "C": 0, "D": 1}}
    explained = classify.explain(db, lost)
    assert [(v["years"], v["source"]) for v in explained.pop("vehicles")] == [
        (6, "delivered 2020-01-01")]
    assert explained == {
        "value_class": "D", "reason": "last visit 2025-01-10, 685 days ago",
        "age_band": "old", "day": "2026-11-26"}
    assert classify.explain(db, 999) is None
    grid = classify.matrix(db)
    assert grid["day"] == "2026-11-26"
    assert grid["by_age"]["A"] == {"in_warranty": 0, "mid": 1, "old": 0, "unknown": 0}
    assert grid["by_age"]["D"]["old"] == 1 and grid["by_age"]["B"]["in_warranty"] == 1
    assert grid["by_usage"] == {"official": {"A": 1, "B": 0, "C": 0, "D": 0},
                                "private": {"A": 0, "B": 1, "C": 0, "D": 0},
                                "unknown": {"A": 0, "B": 0, "C": 0, "D": 1}}
    assert classify.changes(db) == []

    # A year later the A customer has slid to D, the lost one came back (a paid repair) as B,
    # and the new one never came: D.
    store.order(db, vl, lost, "2027-11-20", "repair", total_fen=80_000)
    later = D(2027, 11, 26)
    second = classify.run(db, later, settings)
    assert second["changed"] == 3 and second["run_id"] == first["run_id"] + 1
    moves = classify.changes(db)
    assert [(m["customer_id"], m["old"], m["new"]) for m in moves] == [
        (a, "A", "D"), (new, "B", "D"), (lost, "D", "B")]   # slides first, then won back
    assert moves[0]["name"] == "甲" and moves[0]["day"] == "2027-11-26"
    assert moves[0]["reason"] == "last visit 2026-09-10, 442 days ago"
    assert classify.changes(db, since=D(2027, 11, 26)) == moves
    assert classify.changes(db, since=D(2027, 11, 27)) == []


def test_changes_list_the_a_to_b_slide_first_then_slides_then_won_back_then_the_rest(db):
    # Moves written in the opposite order to the one the list must show.
    moves = [("B", "A"), ("C", "B"), ("D", "B"), ("B", "C"), ("A", "C"), ("A", "B")]
    ids = {}
    for old, new in moves:
        ids[(old, new)] = store.customer(db, f"客户{old}{new}", mobile=None)
    db.conn.execute("INSERT INTO classify_runs (id, day, run_at, customers) VALUES"
                    " (1, '2026-11-25', '2026-11-25T08:00:00', 6),"
                    " (2, '2026-11-26', '2026-11-26T08:00:00', 6)")
    # Run 1 is older and has one move of its own; run 2 holds the six.
    db.conn.execute("INSERT INTO class_changes (run_id, customer_id, old_class, new_class, day,"
                    " reason) VALUES (1, ?, 'C', 'D', '2026-11-25', 'old move')",
                    (ids[("B", "A")],))
    for old, new in moves:
        db.conn.execute("INSERT INTO class_changes (run_id, customer_id, old_class, new_class,"
                        " day, reason) VALUES (2, ?, ?, ?, '2026-11-26', ?)",
                        (ids[(old, new)], old, new, f"{old} to {new}"))
    got = classify.changes(db)
    assert [(m["old"], m["new"]) for m in got] == [
        ("A", "B"),                           # the slide the manuals tell us to watch
        ("A", "C"), ("B", "C"),               # other slides down, by old then new class
        ("D", "B"),                           # won back
        ("B", "A"), ("C", "B")]               # the rest, in the order they were written
    mobile = db.conn.execute("SELECT mobile FROM customers WHERE id=?",
                             (ids[("A", "B")],)).fetchone()[0]
    assert got[0] == {"customer_id": ids[("A", "B")], "name": "客户AB", "mobile": mobile,
                      "old": "A", "new": "B", "day": "2026-11-26", "reason": "A to B"}
    assert len(classify.changes(db, since=D(2026, 11, 25))) == 7


def test_matrix_of_a_file_never_classified(db):
    got = classify.matrix(db)
    assert got["day"] is None and got["by_usage"] == {}
    assert got["by_age"]["A"] == {"in_warranty": 0, "mid": 0, "old": 0, "unknown": 0}


# Valid VINs that differ in position 10, the model year, and the serial (check digit,
# position 9, worked with the ISO 3779 weights): 'K' 2019, 'S' 2025, 'V' 2027 (on 2026-11-26
# each the latest year of its 30-year cycle not after next year).
VIN_2019, VIN_2025, VIN_2027 = "1M8GDM9AXKP042788", "1M8GDM9AXSP042788", "1M8GDM9A4VP042788"
VIN_2019_B, VIN_2025_B = "1M8GDM9A1KP042789", "1M8GDM9A1SP042789"


def bands(db) -> dict[int, str]:
    return dict(db.conn.execute("SELECT customer_id, age_band FROM classifications"))


def test_a_customer_without_dates_is_banded_by_the_newest_model_year_among_their_vins(db):
    newest_first = store.customer(db, "新先")
    store.vehicle(db, newest_first, vin=VIN_2025)   # 1 completed year on 2026-11-26
    store.vehicle(db, newest_first, vin=VIN_2019)   # 7 completed years
    newest_last = store.customer(db, "新后")
    store.vehicle(db, newest_last, vin=VIN_2019_B)
    store.vehicle(db, newest_last, vin=VIN_2025_B)
    # A VIN whose check digit is wrong (position 9 says 5, the weights give X) dates nothing.
    bad = store.customer(db, "坏码")
    store.vehicle(db, bad, vin="1M8GDM9A5KP042788")
    classify.run(db, DAY, DEFAULTS)
    assert bands(db) == {newest_first: "in_warranty", newest_last: "in_warranty",
                         bad: "unknown"}


@pytest.mark.parametrize(("day", "band"), [
    (D(2026, 12, 31), "unknown"),       # model year 2027 starts tomorrow: no age yet
    (D(2027, 1, 1), "in_warranty"),     # it starts today: 0 years
])
def test_a_model_year_counts_from_its_first_of_january(db, day, band):
    c = store.customer(db)
    store.vehicle(db, c, vin=VIN_2027)
    classify.run(db, day, DEFAULTS)
    assert bands(db) == {c: band}


def test_explain_gives_a_car_bought_but_not_delivered_its_age_from_the_purchase(db):
    c = store.customer(db)
    store.vehicle(db, c, plate="粤B2P000", purchase_date="2024-06-15")
    classify.run(db, DAY, DEFAULTS)
    # 2024-06-15 to 2026-11-26: 2 completed years.
    assert classify.explain(db, c)["vehicles"] == [
        {"plate": "粤B2P000", "vin": None, "years": 2, "source": "bought 2024-06-15"}]


def test_explain_reads_a_stored_date_with_a_time_by_its_date_as_the_classes_do(db):
    c = store.customer(db)
    store.vehicle(db, c, plate="粤B3T000", delivery_date="2021-03-01 09:30:00")
    classify.run(db, DAY, DEFAULTS)
    # 2021-03-01 to 2026-11-26: 5 completed years, old (5 years and over).
    e = classify.explain(db, c)
    assert e["age_band"] == "old"
    assert e["vehicles"] == [{"plate": "粤B3T000", "vin": None, "years": 5,
                              "source": "delivered 2021-03-01"}]
