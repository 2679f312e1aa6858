"""The planner pinned case by case: each expected value is worked by hand from DOMAIN.md's
care-contact and combining rules (issue 17).

Calendar: 2026-11-26 is a Thursday, 11-28/29 a weekend. Default settings: post-repair
call due 3 days after the order, open 12 more days; 交强险 reminder 30 days before the
expiry, open 30 days; contact window 3 days.
"""

from __future__ import annotations

import copy
from datetime import date, datetime

import store

from crmcli import calls, planner
from crmcli.settings import DEFAULTS

S = copy.deepcopy(DEFAULTS)
THU = date(2026, 11, 26)


def task(db, kind, cols="id, state, due_date, expires_on, state_reason, contact_on"):
    return db.conn.execute(f"SELECT {cols} FROM tasks WHERE kind = ? ORDER BY id",
                           (kind,)).fetchall()


# --------------------------------------------------------------------------- today's list


def test_call_slot_reads_an_hour_at_the_start_of_the_text():
    # '9点' is 09:00, the digit being the first character.
    assert planner.call_slot("9点") == "09:00"
    assert planner.call_slot("下午3点") == "15:00"


def test_the_list_gives_the_owners_number_and_call_time_when_the_order_has_no_contact(db):
    c = store.customer(db, mobile="13900000001", preferred_call_time="下午")
    v = store.vehicle(db, c)
    store.order(db, v, c, "2026-11-23", "repair")  # post-repair due 11-26
    planner.plan(db, THU, S)
    (item,) = planner.today_list(db, THU, S, include_days_off=False)["tasks"]
    assert item["kind"] == "post_repair"
    assert (item["phone"], item["call_time"], item["contact_phone"]) == (
        "13900000001", "下午", None)


def test_the_weekend_ahead_is_counted_per_kind(db):
    c = store.customer(db)
    v = store.vehicle(db, c)
    store.order(db, v, c, "2026-11-25", "repair")  # post-repair due Saturday 11-28
    fri = date(2026, 11, 27)
    planner.plan(db, fri, S)
    got = planner.today_list(db, fri, S)
    assert got["days_off"] == ["2026-11-28", "2026-11-29"]
    assert got["days_off_counts"] == {"post_repair": 1}
    assert got["days_off_total"] == 1


# --------------------------------------------------------------------------- facts


def test_a_post_repair_task_names_the_orders_vehicle(db):
    store.customer(db)  # ids of customers and vehicles differ from here on
    store.customer(db)
    c = store.customer(db)
    v = store.vehicle(db, c)
    assert v != c
    store.order(db, v, c, "2026-11-23", "repair")
    planner.plan(db, THU, S)
    assert task(db, "post_repair", "vehicle_id, customer_id") == [(v, c)]


def test_declined_advice_is_not_followed_up_when_the_car_came_back(db):
    c = store.customer(db)
    v = store.vehicle(db, c)
    # Advice declined 10-20: follow-up due 11-19, open to 12-03; but the car came back 11-01.
    store.order(db, v, c, "2026-10-20", "repair", advice="更换刹车片")
    store.order(db, v, c, "2026-11-01", "repair")
    planner.plan(db, THU, S)
    assert task(db, "advice_followup") == []


def test_declined_advice_is_followed_up_when_the_car_did_not_come_back(db):
    c = store.customer(db)
    v = store.vehicle(db, c)
    store.order(db, v, c, "2026-10-20", "repair", advice="更换刹车片")
    planner.plan(db, THU, S)
    assert [r[1:4] for r in task(db, "advice_followup")] == [("open", "2026-11-19", "2026-12-03")]


def test_an_imported_inspection_date_without_delivery_gives_its_reminder(db):
    # No delivery date, a valid VIN (model year 2019) and an inspection due 12-05: the
    # reminder 15 days ahead, 11-20, open until 12-20.
    c = store.customer(db)
    store.vehicle(db, c, vin="1M8GDM9AXKP042788", inspection_due="2026-12-05")
    planner.plan(db, THU, S)
    assert [r[2:4] for r in task(db, "inspection")] == [("2026-11-20", "2026-12-20")]


def test_teachers_day_greets_a_customer_who_teaches(db):
    teacher = store.customer(db, occupation="中学教师")
    store.customer(db, occupation="司机")
    planner.plan(db, date(2026, 9, 9), S)  # Teachers' Day is 09-10
    got = db.conn.execute("SELECT customer_id, due_date FROM tasks WHERE kind = 'holiday'"
                          " AND key LIKE 'holiday:teachers_day:%'").fetchall()
    assert got == [(teacher, "2026-09-10")]


def test_a_lunar_birthday_alone_gives_the_birthday_sms(db):
    # Lunar 8-15 (Mid-Autumn) falls on 2026-09-25.
    c = store.customer(db, lunar_birthday="08-15")
    planner.plan(db, date(2026, 9, 24), S)
    got = db.conn.execute("SELECT customer_id, due_date, reason FROM tasks"
                          " WHERE kind = 'birthday'").fetchall()
    assert got == [(c, "2026-09-25", "lunar birthday (8月15日)")]


# --------------------------------------------------------------------------- storing


def test_more_than_one_batch_of_keys_is_matched_to_the_stored_tasks(db):
    # 501 birthdays today: the stored tasks are looked up 500 keys at a time, and the
    # 501st must be found too, so planning again creates nothing.
    for _ in range(501):
        store.customer(db, birthday="1980-11-26")
    first = planner.plan(db, THU, S)
    assert first.created == 501
    again = planner.plan(db, THU, S, force=True)
    assert (again.created, again.updated, again.withdrawn) == (0, 0, 0)
    assert db.conn.execute("SELECT count(*) FROM tasks").fetchone()[0] == 501


def test_an_open_task_follows_a_corrected_order_date(db):
    c = store.customer(db)
    v = store.vehicle(db, c)
    o = store.order(db, v, c, "2026-11-23", "repair")
    planner.plan(db, THU, S)
    db.conn.execute("UPDATE repair_orders SET order_date = '2026-11-24' WHERE id = ?", (o,))
    r = planner.plan(db, THU, S, force=True)
    assert r.updated == 1
    assert [x[1:4] for x in task(db, "post_repair")] == [("open", "2026-11-27", "2026-12-09")]


def test_a_combined_task_follows_a_corrected_order_date(db):
    c = store.customer(db)
    v = store.vehicle(db, c)
    store.order(db, v, c, "2026-11-23", "repair")  # due 11-26, leads
    o2 = store.order(db, v, c, "2026-11-24", "repair")  # due 11-27, combined into it
    planner.plan(db, THU, S)
    (lead, second) = task(db, "post_repair", "id, state, merged_into")
    assert second[1:] == ("merged", lead[0])
    db.conn.execute("UPDATE repair_orders SET order_date = '2026-11-22' WHERE id = ?", (o2,))
    planner.plan(db, THU, S, force=True)
    got = db.conn.execute("SELECT due_date, expires_on, reason FROM tasks WHERE order_id = ?",
                          (o2,)).fetchone()
    assert got[:2] == ("2026-11-25", "2026-12-07")
    assert "settled 2026-11-22" in got[2]


# --------------------------------------------------------------------------- withdrawing


def test_advice_follow_up_withdrawn_as_the_car_came_in(db):
    c = store.customer(db)
    v = store.vehicle(db, c)
    store.order(db, v, c, "2026-10-20", "repair", advice="更换刹车片")
    planner.plan(db, THU, S)
    assert task(db, "advice_followup")[0][1] == "open"
    # It came in for maintenance 11-25: the advice follow-up no longer applies.
    store.order(db, v, c, "2026-11-25", "maintenance", mileage=20000)
    planner.plan(db, THU, S, force=True)
    assert [r[1] + ": " + r[4] for r in task(db, "advice_followup")] == [
        "withdrawn: the car came in on 2026-11-25"]


def booked(db):
    """A 交强险 reminder booked on Monday 11-30 at 10:00 for Tuesday 12-01 09:00."""
    c = store.customer(db)
    v = store.vehicle(db, c, insurance_compulsory_expiry="2026-12-30")  # due 11-30
    planner.plan(db, date(2026, 11, 30), S)
    (tid,) = [r[0] for r in task(db, "insurance_compulsory")]
    calls.log_call(db, tid, "booked", S, by="t", at=datetime(2026, 11, 30, 10),
                   appointment=datetime(2026, 12, 1, 9))
    # Logged when it was made (log_call stamps the task's closing with the real clock).
    db.conn.execute("UPDATE tasks SET closed_at = '2026-11-30 10:05' WHERE id = ?", (tid,))
    return c, v


def test_an_order_on_the_booking_day_means_the_car_came(db):
    c, v = booked(db)
    store.order(db, v, c, "2026-11-30", "repair")
    planner.plan(db, date(2026, 12, 3), S)
    assert task(db, "no_show") == []


def test_a_no_show_follow_up_withdrawn_when_the_car_turns_out_to_have_come(db):
    c, v = booked(db)
    planner.plan(db, date(2026, 12, 3), S)
    assert [r[1:3] for r in task(db, "no_show")] == [("open", "2026-12-03")]
    # The order of 12-02 (the day after the appointment) is imported late.
    store.order(db, v, c, "2026-12-02", "maintenance", mileage=15000)
    planner.plan(db, date(2026, 12, 3), S, force=True)
    assert [(r[1], r[4]) for r in task(db, "no_show")] == [
        ("withdrawn", "the car came in on 2026-12-02")]


def test_a_tried_insurance_reminder_stays_when_its_expiry_date_is_cleared(db):
    c = store.customer(db)
    v = store.vehicle(db, c, insurance_compulsory_expiry="2026-12-27")  # due 11-27
    planner.plan(db, THU, S)
    db.conn.execute("UPDATE tasks SET attempts = 1 WHERE kind = 'insurance_compulsory'")
    db.conn.execute("UPDATE vehicles SET insurance_compulsory_expiry = NULL WHERE id = ?", (v,))
    r = planner.plan(db, THU, S, force=True)
    assert r.withdrawn == 0
    assert [x[1] for x in task(db, "insurance_compulsory")] == ["open"]


def test_a_delivery_contact_of_a_corrected_delivery_date_no_longer_applies(db):
    c = store.customer(db)
    v = store.vehicle(db, c, delivery_date="2026-11-20")  # questionnaire due 11-27
    planner.plan(db, THU, S)
    db.conn.execute("UPDATE vehicles SET delivery_date = '2026-11-21' WHERE id = ?", (v,))
    planner.plan(db, THU, S, force=True)
    got = db.conn.execute("SELECT due_date, state, state_reason FROM tasks"
                          " WHERE kind = 'delivery_questionnaire' ORDER BY id").fetchall()
    # (The new one, due Saturday 11-28, is beyond today's horizon.)
    assert got == [("2026-11-27", "withdrawn", "no longer applies after the latest data")]


# --------------------------------------------------------------------------- combining


def spoken(db, c, at: str):
    """The customer was reached on a call at ``at`` (about a task already done)."""
    tid = db.conn.execute(
        "INSERT INTO tasks (key, kind, customer_id, due_date, expires_on, channel, weight,"
        " reason, state, planned_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        (f"done:{c}:{at}", "post_repair", c, at[:10], at[:10], "call", 1, "r", "done", at,
         at)).lastrowid
    db.conn.execute("INSERT INTO calls (task_id, customer_id, clerk, called_at, logged_at,"
                    " outcome) VALUES (?,?,?,?,?,?)", (tid, c, "t", at, at, "reached"))


def test_a_new_task_moved_after_a_recent_contact_says_why(db):
    c = store.customer(db)
    v = store.vehicle(db, c)
    spoken(db, c, "2026-11-25 10:00")  # not before 11-28 then (window 3)
    store.order(db, v, c, "2026-11-24", "repair")  # post-repair due 11-27
    planner.plan(db, THU, S)
    (row,) = db.conn.execute("SELECT state, contact_on, state_reason, due_date FROM tasks"
                             " WHERE order_id IS NOT NULL").fetchall()
    assert row == ("open", "2026-11-28",
                   "moved to 2026-11-28: the customer was contacted within 3 days", "2026-11-27")


def test_a_stored_task_moved_past_its_expiry_stays_open_until_that_day(db):
    c = store.customer(db)
    v = store.vehicle(db, c)
    o = store.order(db, v, c, "2026-11-13", "repair")  # due 11-16, open until 11-28
    planner.plan(db, THU, S)
    spoken(db, c, "2026-11-26 10:00")  # not before 11-29 then
    r = planner.plan(db, THU, S, force=True)
    assert r.updated == 1
    got = db.conn.execute("SELECT state, contact_on, expires_on, state_reason FROM tasks"
                          " WHERE order_id = ?", (o,)).fetchone()
    assert got == ("open", "2026-11-29", "2026-11-29",
                   "moved to 2026-11-29: the customer was contacted within 3 days")


def test_a_task_combined_into_one_that_ended_is_missed_once_its_window_closed(db):
    c = store.customer(db)
    v = store.vehicle(db, c, insurance_compulsory_expiry="2026-12-27")  # due 11-27 to 12-27
    store.order(db, v, c, "2026-11-23", "repair")  # due 11-26: leads
    planner.plan(db, THU, S)
    (lead,) = [r[0] for r in task(db, "post_repair")]
    (ins,) = task(db, "insurance_compulsory", "id, state, merged_into")
    assert ins[1:] == ("merged", lead)
    db.conn.execute("UPDATE tasks SET state = 'unreachable' WHERE id = ?", (lead,))
    planner.plan(db, date(2026, 12, 28), S)
    assert db.conn.execute("SELECT state, state_reason, merged_into FROM tasks WHERE id = ?",
                           (ins[0],)).fetchone() == (
        "missed", f"combined into task {lead}, which ended unreachable", None)


# --------------------------------------------------------------------------- missed


def test_missed_counts_late_imports_and_expired_tasks_together(db):
    c = store.customer(db)
    v = store.vehicle(db, c)
    store.order(db, v, c, "2026-11-23", "repair")  # due 11-26, open until 12-08
    planner.plan(db, THU, S)
    # Imported after its window (11-27 to 12-09) closed: missed on 12-10 as imported late.
    store.order(db, v, c, "2026-11-24", "repair")
    r = planner.plan(db, date(2026, 12, 10), S)
    assert r.missed == 2
    got = sorted(db.conn.execute("SELECT state_reason FROM tasks WHERE kind = 'post_repair'"))
    assert got == [("imported after the window closed",), ("not done by 2026-12-08",)]


# --------------------------------------------------------------------------- the gates


def test_a_maintenance_due_a_month_ago_is_still_reminded_while_open(db):
    # No lead: maintenance 04-28 without mileage is due 6 months on, 10-28, and the
    # reminder stays open 30 days, to 11-27 (past today, 11-26).
    s = copy.deepcopy(DEFAULTS)
    s["care"]["regular_maintenance"]["lead_days"] = 0
    c = store.customer(db)
    v = store.vehicle(db, c)
    store.order(db, v, c, "2026-04-28", "maintenance")
    planner.plan(db, THU, s)
    assert [r[1:4] for r in task(db, "regular_maintenance")] == [
        ("open", "2026-10-28", "2026-11-27")]


def test_an_inspection_due_on_the_first_of_the_month_the_window_ends_on(db):
    # Planning Wednesday 12-16 looks to Thursday 12-17; an inspection reminder goes 15
    # days ahead, so an inspection due 2027-01-01 (a private car delivered 2025-01-01,
    # every 24 months while young) is reminded on 12-17, open until 2027-01-16.
    wed = date(2026, 12, 16)
    assert planner.horizon(wed, planner.work_calendar(S)) == date(2026, 12, 17)
    c = store.customer(db)
    store.vehicle(db, c, delivery_date="2025-01-01")
    planner.plan(db, wed, S)
    got = db.conn.execute("SELECT due_date, expires_on, reason FROM tasks"
                          " WHERE kind = 'inspection'").fetchall()
    assert got == [("2026-12-17", "2027-01-16", "annual inspection due 2027-01-01")]


def test_a_warranty_point_reached_by_mileage_before_an_imported_warranty_end(db):
    # Delivered 2023-11-23 (36 months and 3 days before today, the earliest delivery
    # whose warranty checks the planner looks at), 27,000 km in the 300 days from
    # 2026-01-01 to 10-28: 90 km/day, so 100,000 km (the last point) is reached after
    # ceil(1,111.1) = 1,112 days, on 2026-12-09, before the imported warranty end
    # 2027-06-30: the check 30 days ahead, 11-09, open until 12-09.
    c = store.customer(db)
    v = store.vehicle(db, c, delivery_date="2023-11-23", warranty_end="2027-06-30")
    store.order(db, v, c, "2026-01-01", "repair", mileage=10000)
    store.order(db, v, c, "2026-10-28", "repair", mileage=37000)
    planner.plan(db, THU, S)
    assert [r[1:4] for r in task(db, "warranty_check")] == [("open", "2026-11-09", "2026-12-09")]
