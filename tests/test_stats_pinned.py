"""The holding rate's 12 months and the active ratio's 180 days, one day either side.

DOMAIN.md: holding rate (客户掌握率) = vehicles that came back within the last 12
months / vehicles on file; the docstring of ``stats.retention`` makes the
12 months exclusive of the day 12 months back and inclusive of the day itself.
"""

from __future__ import annotations

import copy
from datetime import date

import pytest
import store

from crmcli import stats
from crmcli.settings import DEFAULTS

DAY = date(2026, 11, 26)


@pytest.mark.parametrize(("visit", "came_back"), [
    ("2025-11-26", 0),   # 12 months back to the day: outside
    ("2025-11-27", 1),   # the day after: inside
    ("2026-11-26", 1),   # the day itself
    ("2026-11-27", 0),   # after the day
])
def test_holding_rate_counts_visits_within_the_12_months_up_to_the_day(db, visit, came_back):
    c = store.customer(db, "张伟")
    v = store.vehicle(db, c, delivery_date="2020-05-01")
    store.order(db, v, c, visit, "repair", total_fen=10000)
    r = stats.retention(db, DAY)
    assert r["total"]["vehicles"] == 1 and r["total"]["came_back"] == came_back
    assert r["total"]["holding_rate"] == came_back
    # The month's report read on that day takes the rate through that day: the same bound.
    got = stats.report(db, copy.deepcopy(DEFAULTS), month="2026-11", today=DAY, compare=False)
    assert got["holding_rate"] == {"value": float(came_back), "num": came_back, "den": 1}


def test_the_report_holding_rate_at_the_month_end_one_day_either_side(db):
    c = store.customer(db, "张伟")
    for visit in ("2025-11-30", "2025-12-01"):
        v = store.vehicle(db, c, delivery_date="2020-05-01")
        store.order(db, v, c, visit, "repair", total_fen=10000)
    # A month read after it ended: the rate at its last day, 2026-11-30; 12 months back is
    # 2025-11-30 (outside), the day after (inside).
    got = stats.report(db, copy.deepcopy(DEFAULTS), month="2026-11", compare=False)
    assert got["holding_rate"] == {"value": 0.5, "num": 1, "den": 2}


@pytest.mark.parametrize(("visit", "active"), [
    ("2026-05-30", 0),   # 180 days back: outside
    ("2026-05-31", 1),   # 179 days back: inside
])
def test_active_ratio_counts_paid_visits_within_180_days(db, visit, active):
    c = store.customer(db, "张伟")
    v = store.vehicle(db, c, delivery_date="2024-01-01")
    store.order(db, v, c, visit, "repair", total_fen=10000)
    r = stats.retention(db, DAY)
    assert (r["total"]["customers"], r["total"]["active"]) == (1, active)


@pytest.mark.parametrize(("kind", "total_fen", "active"), [
    ("repair", 1, 1), ("repair", 0, 0), ("warranty", 10000, 0), ("free_check", 10000, 0),
    (None, 10000, 1)])
def test_only_paid_visits_make_a_customer_active(db, kind, total_fen, active):
    c = store.customer(db, "张伟")
    v = store.vehicle(db, c, delivery_date="2024-01-01")
    store.order(db, v, c, "2026-11-01", kind, total_fen=total_fen)
    assert stats.retention(db, DAY)["total"]["active"] == active


def test_rows_by_age_with_the_10_plus_row_and_unknown(db):
    # Ages on 2026-11-26: delivered 2016-11-26 -> 10 (10+), 2016-11-27 -> 9, 2026-11-26 -> 0;
    # delivered after the day: not on file yet; no date: unknown.
    c = store.customer(db, "张伟")
    for delivered in ("2016-11-26", "2016-11-27", "2026-11-26", "2026-11-27", None):
        store.vehicle(db, c, delivery_date=delivered)
    r = stats.retention(db, DAY)
    assert [(x["age"], x["vehicles"]) for x in r["rows"]] == [
        ("0", 1), ("9", 1), ("10+", 1), ("unknown", 1)]
    assert r["total"]["vehicles"] == 4 and r["total"]["holding_rate"] == 0.0
    assert r["day"] == "2026-11-26" and r["active_days"] == 180


def test_a_customer_is_counted_once_at_the_age_of_the_newest_vehicle(db):
    c = store.customer(db, "张伟")
    store.vehicle(db, c, delivery_date="2016-11-26")
    store.vehicle(db, c, delivery_date="2023-11-26")
    r = stats.retention(db, DAY)
    assert [(x["age"], x["vehicles"], x["customers"]) for x in r["rows"]] == [
        ("3", 1, 1), ("10+", 1, 0)]


def test_purchase_date_stands_in_for_a_missing_delivery(db):
    c = store.customer(db, "张伟")
    store.vehicle(db, c, purchase_date="2021-11-26")
    r = stats.retention(db, DAY, max_age=5)
    assert [(x["age"], x["vehicles"], x["customers"]) for x in r["rows"]] == [("5+", 1, 1)]


def test_an_empty_file_has_no_rate(db):
    r = stats.retention(db, DAY)
    assert r["rows"] == [] and r["total"] == {"vehicles": 0, "came_back": 0, "customers": 0,
                                              "active": 0, "holding_rate": None,
                                              "active_ratio": None}


def test_a_delivery_stored_with_a_time_counts_by_its_day(db):
    # Some exports carry a time with the delivery: '2020-11-27 08:00' is 5 years old on
    # 2026-11-26 (6 years the next day), the same as the day alone.
    c = store.customer(db, "张伟")
    store.vehicle(db, c, delivery_date="2020-11-27 08:00")
    r = stats.retention(db, DAY)
    assert [(x["age"], x["vehicles"], x["customers"]) for x in r["rows"]] == [("5", 1, 1)]


def test_a_car_with_no_date_is_aged_by_its_vin_and_a_date_beats_the_vin(db):
    # '1M8GDM9AXKP042788' is model year 2019 (rules.vehicle_age's docstring): counted from
    # 2019-01-01, 7 completed years on 2026-11-26. Its owner has no dated car: 'unknown'.
    # The other car was delivered 2024-01-01 (2 years), whatever its VIN says (2003).
    c1, c2 = store.customer(db, "张伟"), store.customer(db, "李娜")
    store.vehicle(db, c1, vin="1M8GDM9AXKP042788")
    store.vehicle(db, c2, vin="1HGCM82633A004352", delivery_date="2024-01-01")
    r = stats.retention(db, DAY)
    assert [(x["age"], x["vehicles"], x["customers"]) for x in r["rows"]] == [
        ("2", 1, 1), ("7", 1, 0), ("unknown", 0, 1)]


def test_each_row_has_its_rates_and_the_total_its_own(db):
    # Two customers with 2-year-old cars: one came back (a paid visit on 2026-11-01), one
    # did not; a 5-year-old car whose owner has no visit. Holding per row: 1/2 and 0/1;
    # active per row: 1/2 and 0/1; in all 1/3 and 1/3.
    for delivered, visit in (("2024-01-01", "2026-11-01"), ("2024-02-01", None),
                             ("2021-01-01", None)):
        c = store.customer(db)
        v = store.vehicle(db, c, delivery_date=delivered)
        if visit:
            store.order(db, v, c, visit, "repair", total_fen=10000)
    r = stats.retention(db, DAY)
    assert [(x["age"], x["holding_rate"], x["active_ratio"]) for x in r["rows"]] == [
        ("2", 0.5, 0.5), ("5", 0.0, 0.0)]
    assert (r["total"]["holding_rate"], r["total"]["active_ratio"]) == (1 / 3, 1 / 3)
    # A row of customers without a car on file yet (delivered after the day): no vehicles,
    # so no holding rate, but an active ratio.
    c = store.customer(db)
    store.vehicle(db, c, delivery_date="2026-12-01")
    r = stats.retention(db, DAY)
    assert [(x["age"], x["vehicles"], x["customers"], x["holding_rate"], x["active_ratio"])
            for x in r["rows"]][-1] == ("unknown", 0, 1, None, 0.0)


def test_a_customer_whose_car_came_on_the_day_is_counted_at_age_0(db):
    c = store.customer(db, "张伟")
    store.vehicle(db, c, delivery_date="2026-11-26")
    r = stats.retention(db, DAY)
    assert [(x["age"], x["vehicles"], x["customers"]) for x in r["rows"]] == [("0", 1, 1)]
