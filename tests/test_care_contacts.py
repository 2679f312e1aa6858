"""Care contacts that are never lost, combined by the day they really happen (issue 11).

Each test is a case the issue describes, worked by hand from the calendar:
2026-11-28/29 is a weekend, so a call due Saturday 11-28 is made Monday 11-30.
"""

from __future__ import annotations

import copy
from datetime import date, datetime, timedelta

import pytest
import store

from crmcli import calls, planner
from crmcli.planner import Contact, combine
from crmcli.settings import DEFAULTS

S = copy.deepcopy(DEFAULTS)  # contact window 3 days
MON, TUE, WED, THU = date(2026, 11, 30), date(2026, 12, 1), date(2026, 12, 2), date(2026, 12, 3)


def rows(db, where="1=1"):
    return db.conn.execute(f"SELECT id, kind, state, merged_into, state_reason, contact_on"
                           f" FROM tasks WHERE {where} ORDER BY id").fetchall()


def by_kind(db):
    return {r[1]: r for r in rows(db)}


def listed(db, day, settings=S, **kw):
    return [(i["kind"], [c["kind"] for c in i["carries"]])
            for i in planner.today_list(db, day, settings, include_days_off=False, **kw)["tasks"]]


# --------------------------------------------------------------------------- combining


def C(id, kind="x", channel="call", weight=50, day=MON, expires=None, pinned=False,
      engaged=False, customer=1):
    return Contact(id, kind, customer, channel, weight, day, expires or day + timedelta(days=30),
                   day, pinned, engaged)


@pytest.mark.parametrize("contacts,not_before,expected", [
    # Insurance and inspection calls of one car on the same day: one call, the heavier leads.
    ([C(1, "inspection", "sms_call", 45), C(2, "insurance_compulsory", "sms_call", 55)], {},
     {1: (2, None), 2: (None, None)}),
    # Days 2 apart fall within a 3-day window; the combined call is made on the earlier day.
    ([C(1, "post_repair", weight=80, day=WED), C(2, "insurance_compulsory", "sms_call", 55,
                                                 day=MON)], {},
     {1: (None, MON), 2: (1, None)}),
    # Days 3 apart do not.
    ([C(1, "post_repair", weight=80, day=THU), C(2, "insurance_compulsory", "sms_call", 55,
                                                 day=MON)], {},
     {1: (None, None), 2: (None, None)}),
    # A birthday SMS never folds into a call, even on its day.
    ([C(1, "post_repair", weight=80), C(2, "birthday", "sms", 20)], {},
     {1: (None, None), 2: (None, None)}),
    # Greetings of one day make one message with the other SMS of that day.
    ([C(1, "birthday", "sms", 20), C(2, "welcome_sms", "sms", 70), C(3, "holiday", "sms", 10)],
     {}, {1: (2, None), 2: (None, None), 3: (2, None)}),
    # ... but not with an SMS of another day.
    ([C(1, "birthday", "sms", 20, day=TUE), C(2, "welcome_sms", "sms", 70)], {},
     {1: (None, None), 2: (None, None)}),
    # A call never rides on an SMS: the SMS joins the call.
    ([C(1, "insurance_commercial", "sms", 55), C(2, "recovery", "call", 30)], {},
     {1: (2, None), 2: (None, None)}),
    # A time the customer chose leads, and is neither moved nor folded away.
    ([C(1, "rescheduled", weight=10, day=TUE, pinned=True), C(2, "post_repair", weight=80)],
     {1: THU}, {1: (None, None), 2: (1, None)}),
    # ... a contact that closes before that time stays on its own.
    ([C(1, "rescheduled", weight=10, day=WED, pinned=True),
      C(2, "post_repair", weight=80, expires=TUE)], {},
     {1: (None, None), 2: (None, None)}),
    # A call under way (tried once) leads a heavier new one.
    ([C(1, "recovery", weight=30, engaged=True), C(2, "post_repair", weight=80)], {},
     {1: (None, None), 2: (1, None)}),
    # Contacted on Monday: Wednesday's reminder moves to Thursday (Monday + 3), it is not
    # dropped; a greeting keeps its day.
    ([C(1, "insurance_compulsory", "sms_call", 55, day=WED), C(2, "birthday", "sms", 20,
                                                              day=TUE)], {1: THU},
     {1: (None, THU), 2: (None, None)}),
])
def test_combine_by_the_contact_day(contacts, not_before, expected):
    assert combine(contacts, 3, not_before) == expected


@pytest.mark.parametrize("due,next_try,call_at,channel,today,expected", [
    (date(2026, 11, 28), None, None, "call", date(2026, 11, 27), MON),  # Saturday -> Monday
    (date(2026, 11, 28), None, None, "sms", date(2026, 11, 27), date(2026, 11, 28)),  # SMS: Sat
    (date(2026, 11, 20), None, None, "call", TUE, TUE),  # overdue: today
    (date(2026, 11, 20), WED, None, "call", TUE, WED),  # the next try
    (date(2026, 11, 20), WED, "2026-12-05 15:00", "call", TUE, date(2026, 12, 5)),  # chosen time
    # The State Council's 2026 notice: National Day off 10-01 to 10-07, Thursday 10-08 worked.
    (date(2026, 10, 1), None, None, "call", date(2026, 9, 30), date(2026, 10, 8)),
])
def test_contact_day(due, next_try, call_at, channel, today, expected):
    wc = planner.work_calendar(S)
    assert planner.contact_day(due, next_try, call_at, channel, today, wc) == expected


def saturday_callback_and_insurance(db, **customer):
    c = store.customer(db, **customer)
    v = store.vehicle(db, c, insurance_compulsory_expiry="2027-01-01")  # call due 12-02
    store.order(db, v, c, "2026-11-25", "repair")  # callback due Saturday 11-28
    return c, v


def test_an_overdue_callback_and_a_new_reminder_make_one_call(db):
    saturday_callback_and_insurance(db)
    planner.plan(db, MON, S)
    assert listed(db, MON) == [("post_repair", [])]
    planner.plan(db, TUE, S)  # Monday's call was not made; the insurance comes due Wednesday
    got = by_kind(db)
    assert got["insurance_compulsory"][2:4] == ("merged", got["post_repair"][0])
    assert listed(db, TUE) == [("post_repair", ["insurance_compulsory"])]


def test_a_reminder_after_a_call_that_was_made_stands_on_its_own_past_the_window(db):
    # The case: reached on 11-30 for the callback; 交强险 expires 2027-01-01.
    saturday_callback_and_insurance(db)
    planner.plan(db, MON, S)
    tid = by_kind(db)["post_repair"][0]
    calls.log_call(db, tid, "reached", S, by="t", at=datetime(2026, 11, 30, 10))
    planner.plan(db, MON, S)
    planner.plan(db, TUE, S)
    ins = by_kind(db)["insurance_compulsory"]
    assert ins[2:4] == ("open", None) and ins[5] == THU.isoformat()
    assert listed(db, TUE, channel="call") == [] and listed(db, WED, channel="call") == []
    planner.plan(db, WED, S)
    planner.plan(db, THU, S)
    assert listed(db, THU) == [("insurance_compulsory", [])]


@pytest.mark.parametrize("outcome,expected_state", [
    ("wrong_number", "unreachable"), ("not_owner", "unreachable"), ("refused", "refused")])
def test_a_lead_that_ends_without_reaching_gives_back_what_it_carried(db, outcome,
                                                                      expected_state):
    saturday_callback_and_insurance(db)
    planner.plan(db, MON, S)
    planner.plan(db, TUE, S)
    lead = by_kind(db)["post_repair"][0]
    r = calls.log_call(db, lead, outcome, S, by="t", at=datetime(2026, 12, 1, 10))
    assert r["task_state"] == expected_state and r["released"] == 1
    ins = by_kind(db)["insurance_compulsory"]
    assert ins[2:4] == ("open", None) and f"task {lead}" in ins[4]
    planner.plan(db, TUE, S)
    ins = by_kind(db)["insurance_compulsory"]
    if outcome == "refused":  # no calls any more: the SMS of the reminder still goes
        assert db.conn.execute("SELECT channel, state FROM tasks WHERE id = ?",
                               (ins[0],)).fetchone() == ("sms", "open")
    else:
        assert ins[2] == "open"


def test_no_answer_three_days_running_gives_back_a_task_whose_window_closed_as_missed(db):
    s = copy.deepcopy(S)
    s["care"]["post_repair"]["weight"] = 40  # a dealer's weights: the insurance call leads
    c = store.customer(db)
    v = store.vehicle(db, c, insurance_compulsory_expiry="2026-12-31")  # due 12-01
    store.order(db, v, c, "2026-11-20", "repair")  # due 11-23, open to 12-05
    planner.plan(db, TUE, s)
    got = by_kind(db)
    lead = got["insurance_compulsory"][0]
    assert got["post_repair"][2:4] == ("merged", lead)
    for d in (1, 2, 7):
        r = calls.log_call(db, lead, "no_answer", s, by="t", at=datetime(2026, 12, d, 10))
    assert r["task_state"] == "unreachable" and "released" not in r
    # The callback's window closed on 12-05: missed, saying why.
    assert by_kind(db)["post_repair"][2:5] == (
        "missed", None,
        f"combined into task {lead}, which ended unreachable (no answer after 3 tries)")


def test_greetings_keep_their_day_and_make_one_message(db):
    c = store.customer(db, birthday="1980-11-26")
    v = store.vehicle(db, c, delivery_date="2026-11-23")  # care SMS day 3: 11-26
    store.order(db, v, c, "2026-11-23", "repair")  # callback 11-26
    planner.plan(db, date(2026, 11, 26), S)
    got = by_kind(db)
    assert got["post_repair"][2:4] == ("open", None)
    assert got["welcome_sms"][2:4] == ("open", None)
    assert got["birthday"][2:4] == ("merged", got["welcome_sms"][0])


# --------------------------------------------------------------------------- calls


def callback(db, name="张伟", **customer):
    c = store.customer(db, name, **customer)
    v = store.vehicle(db, c)
    store.order(db, v, c, "2026-11-27", "repair")  # due Monday 11-30
    planner.plan(db, MON, S)
    return db.conn.execute("SELECT id FROM tasks WHERE customer_id = ? AND kind = 'post_repair'",
                           (c,)).fetchone()[0]


def test_a_busy_call_with_a_time_waits_for_it_and_is_ranked_by_it(db):
    first, second, third = callback(db, "甲"), callback(db, "乙"), callback(db, "丙")
    calls.log_call(db, first, "busy", S, by="t", at=datetime(2026, 11, 30, 9),
                   call_at=datetime(2026, 11, 30, 15))
    calls.log_call(db, second, "busy", S, by="t", at=datetime(2026, 11, 30, 9),
                   call_at=datetime(2026, 11, 30, 11))
    planner.plan(db, MON, S)
    ids = [t["id"] for t in calls.due_calls(db, MON, S, now=datetime(2026, 11, 30, 10, 59))[0]]
    assert ids == [third]
    ids = [t["id"] for t in calls.due_calls(db, MON, S, now=datetime(2026, 11, 30, 11))[0]]
    assert ids == [third, second]
    items = planner.today_list(db, MON, S)["tasks"]
    assert [(i["id"], i["call_at"]) for i in items] == [
        (third, None), (second, "2026-11-30 11:00"), (first, "2026-11-30 15:00")]


@pytest.mark.parametrize("text,slot", [
    ("工作日18:00后", "18:00"), ("9:30以后", "09:30"), ("下午", "14:00"), ("晚上8点", "20:00"),
    ("随时", ""), (None, ""), ("25:00", ""),
])
def test_call_slot(text, slot):
    assert planner.call_slot(text) == slot


def test_the_preferred_call_time_orders_the_day(db):
    late = callback(db, "甲", preferred_call_time="工作日18:00后")
    noon = callback(db, "乙", preferred_call_time="中午")
    any_time = callback(db, "丙")
    assert [i["id"] for i in planner.today_list(db, MON, S)["tasks"]] == [any_time, noon, late]


def test_a_no_answer_uses_one_try_a_day(db):
    tid = callback(db)
    for hour in (9, 11, 16):
        r = calls.log_call(db, tid, "no_answer", S, by="t", at=datetime(2026, 11, 30, hour))
    assert (r["attempts"], r["next_try"], r["used_try"]) == (1, "2026-12-01", False)
    assert db.conn.execute("SELECT count(*), sum(used_try) FROM calls").fetchone() == (3, 1)
    r = calls.log_call(db, tid, "no_answer", S, by="t", at=datetime(2026, 12, 1, 9))
    assert (r["task_state"], r["attempts"]) == ("open", 2)
    r = calls.log_call(db, tid, "no_answer", S, by="t", at=datetime(2026, 12, 2, 9))
    assert r["task_state"] == "unreachable"


# --------------------------------------------------------------------------- withdrawn


@pytest.mark.parametrize("tried", [0, 1])
def test_a_reminder_is_withdrawn_when_the_car_came_in_for_it_tried_or_not(db, tried):
    c = store.customer(db)
    v = store.vehicle(db, c)
    store.order(db, v, c, "2026-07-01", "maintenance", mileage=10000)
    store.order(db, v, c, "2026-09-01", "maintenance", mileage=17000)  # next due 2026-11-07
    day = date(2026, 11, 26)
    planner.plan(db, day, S)
    tid = by_kind(db)["regular_maintenance"][0]
    if tried:
        calls.log_call(db, tid, "no_answer", S, by="t", at=datetime(2026, 11, 26, 9))
    store.order(db, v, c, "2026-11-26", "maintenance", mileage=33000, order_no="RO-NEW")
    planner.plan(db, day, S)
    assert db.conn.execute("SELECT state, state_reason FROM tasks WHERE id = ?", (tid,)
                           ).fetchone() == (
        "withdrawn", "came in for maintenance on 2026-11-26 (RO-NEW) before the reminder")


# --------------------------------------------------------------------------- history


def test_planning_a_day_before_the_newest_is_refused_and_writes_nothing(db):
    saturday_callback_and_insurance(db)
    planner.plan(db, TUE, S)
    before = rows(db)
    with pytest.raises(planner.PastDay, match="2026-11-30 is before 2026-12-01"):
        planner.plan(db, MON, S)
    assert rows(db) == before
    # A look ahead (as_of today) does not move history: today can still be planned.
    planner.plan(db, date(2026, 12, 10), S, as_of=TUE)
    planner.plan(db, TUE, S, as_of=TUE)


def test_an_order_imported_after_its_window_gets_its_callback_recorded_as_missed(db):
    c = store.customer(db)
    v = store.vehicle(db, c)
    store.order(db, v, c, "2026-11-20", "repair")
    planner.plan(db, date(2026, 11, 26), S)
    # Weeks later an export brings orders nobody planned: one whose window (due 11-25,
    # open to 12-07) closed, one still open (settled 11-27: open to 12-09), one free check.
    late = store.order(db, v, c, "2026-11-22", "repair")
    store.order(db, v, c, "2026-11-27", "repair")
    store.order(db, v, c, "2026-11-22", "free_check")
    planner.plan(db, date(2026, 12, 8), S)
    got = db.conn.execute("SELECT order_id, state, state_reason FROM tasks"
                          " WHERE kind = 'post_repair' ORDER BY order_id").fetchall()
    assert [g[1:] for g in got if g[0] == late] == [("missed", "imported after the window closed")]
    assert sorted(g[1] for g in got) == ["missed", "missed", "open"]


# --------------------------------------------------------------------------- booked


def reminder(db):
    c = store.customer(db)
    v = store.vehicle(db, c, insurance_compulsory_expiry="2026-12-30")  # due 11-30
    planner.plan(db, MON, S)
    return by_kind(db)["insurance_compulsory"][0], c, v


@pytest.mark.parametrize("order_day,follow_up", [
    (None, True), ("2026-12-02", False), ("2026-12-03", True), ("2026-12-01", False)])
def test_booked_is_done_and_a_no_show_is_followed_up(db, order_day, follow_up):
    tid, c, v = reminder(db)
    r = calls.log_call(db, tid, "booked", S, by="t", at=datetime(2026, 11, 30, 10),
                       appointment=datetime(2026, 12, 1, 9))
    assert (r["task_state"], r["appointment_at"]) == ("done", "2026-12-01 09:00")
    if order_day:
        store.order(db, v, c, order_day, "repair")
    planner.plan(db, date(2026, 12, 2), S)
    planner.plan(db, date(2026, 12, 3), S)
    got = db.conn.execute("SELECT due_date, reason FROM tasks WHERE kind = 'no_show'").fetchall()
    assert len(got) == follow_up
    if follow_up:
        assert got[0][0] == "2026-12-03" and "booked for 2026-12-01 09:00" in got[0][1]


def test_done_elsewhere_ends_the_reminder_with_that_reason(db):
    tid, _c, _v = reminder(db)
    r = calls.log_call(db, tid, "done_elsewhere", S, by="t", at=datetime(2026, 11, 30, 10),
                       elsewhere="insured elsewhere")
    assert (r["task_state"], r["task_reason"]) == ("done", "done elsewhere: insured elsewhere")
    assert db.conn.execute("SELECT outcome FROM calls").fetchone() == ("done_elsewhere",)
    with pytest.raises(Exception, match="booked needs the appointment time"):
        calls.log_call(db, tid, "booked", S, by="t")


# --------------------------------------------------------------------------- the commands


def test_plan_cli_refuses_a_past_day_in_one_line_and_today_shows_it_as_it_stands(db):
    from typer.testing import CliRunner

    from crmcli.cli import app

    saturday_callback_and_insurance(db)
    runner = CliRunner()
    assert runner.invoke(app, ["plan", "--date", "2026-12-01"]).exit_code == 0
    before = rows(db)
    r = runner.invoke(app, ["plan", "--date", "2026-11-30"])
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and "before 2026-12-01, the newest day planned" in r.stderr
    r = runner.invoke(app, ["today", "--date", "2026-11-30", "--json"])
    assert r.exit_code == 0 and rows(db) == before


def test_log_cli_books_a_reminder_call(db):
    from typer.testing import CliRunner

    from crmcli.cli import app

    tid, _c, _v = reminder(db)
    r = CliRunner().invoke(app, ["log", str(tid), "-o", "booked", "--appointment",
                                 "2026-12-01 09:00", "--at", "2026-11-30 10:00"])
    assert r.exit_code == 0, r.output
    assert r.stdout.strip() == f"task #{tid}: booked -> done (booked for 2026-12-01 09:00)"
