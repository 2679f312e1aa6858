"""The report's lists and windows pinned one day (or one minute, or one point) either side:
the follow-up lists with what happened since, the reminders' return window, the small
helpers of the report. November 2026; the default settings (satisfied from 4 points,
return window 30 days)."""

from __future__ import annotations

import copy
from datetime import date

import pytest
import store

from crmcli import stats
from crmcli.errors import UsageError
from crmcli.settings import DEFAULTS

S = copy.deepcopy(DEFAULTS)


def task(db, kind, due, customer, *, vehicle=None, state="done", channel="call", attempts=0,
         reason=None):
    return db.conn.execute(
        "INSERT INTO tasks (key, kind, customer_id, vehicle_id, due_date, expires_on, channel,"
        " weight, reason, state, state_reason, attempts, planned_at, updated_at)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (f"{kind}:{due}:{customer}:{vehicle}:{state}", kind, customer, vehicle, due, due, channel,
         50, "r", state, reason, attempts, due, due)).lastrowid


def call(db, tid, clerk, at, outcome, note=None, **scores):
    cols = "".join(f", score_{k}" for k in scores)
    return db.conn.execute(
        f"INSERT INTO calls (task_id, clerk, called_at, logged_at, outcome, note{cols})"
        f" VALUES (?,?,?,?,?,?{',?' * len(scores)})",
        (tid, clerk, at, at, outcome, note, *scores.values())).lastrowid


def complaint(db, customer, opened, state="open"):
    db.conn.execute("INSERT INTO complaints (customer_id, category, text, state, opened_at,"
                    " opened_by, escalate_by, reply_by) VALUES (?,?,?,?,?,?,?,?)",
                    (customer, "价格", "x", state, opened, "A", opened, opened))


@pytest.fixture
def lists(db):
    ids = {}
    ids["c1"] = c1 = store.customer(db, "张伟", mobile="13800000001")
    ids["c2"] = c2 = store.customer(db, "李娜", mobile="13800000002")
    ids["c3"] = c3 = store.customer(db, "王强", mobile="13800000003")
    ids["c4"] = c4 = store.customer(db, "赵六", mobile="13800000004")
    ids["v1"] = v1 = store.vehicle(db, c1)
    ids["v2"] = v2 = store.vehicle(db, c2)
    # Unsatisfied (a score below 4), due in November, not withdrawn or merged.
    ids["t1"] = t1 = task(db, "post_repair", "2026-11-05", c1, vehicle=v1)
    ids["k1"] = call(db, t1, "A", "2026-11-06 10:00", "reached", "慢", overall=3, advisor=4)
    ids["t2"] = t2 = task(db, "post_repair", "2026-11-10", c2, vehicle=v2)
    ids["k2"] = call(db, t2, "B", "2026-11-05 11:00", "reached", price=3, overall=5)
    # Not listed: every score 4 or more; withdrawn; merged; due in October or December.
    call(db, task(db, "post_repair", "2026-11-11", c1), "A", "2026-11-11 10:00", "reached",
         overall=4, advisor=4, quality=4, timeliness=4, price=4, cleanliness=4)
    for due, state in (("2026-11-12", "withdrawn"), ("2026-11-13", "merged"),
                       ("2026-10-31", "done"), ("2026-12-01", "done")):
        call(db, task(db, "post_repair", due, c1, state=state), "A", f"{due} 10:00", "reached",
             overall=1)
    # What happened since t1's call (2026-11-06 10:00): visits after that day, complaints
    # from that minute on, by customer or by the car.
    store.order(db, v1, c1, "2026-11-06", "repair")        # the same day: not after
    store.order(db, v1, c1, "2026-11-20", "repair")
    store.order(db, v1, None, "2026-11-25", "repair")       # the car, on no one's name
    complaint(db, c1, "2026-11-06 09:59")                  # before the call: not counted
    complaint(db, c1, "2026-11-06 10:00")
    complaint(db, c1, "2026-11-07 10:00", state="closed")
    # Since t2's call (2026-11-05): its car came in under another customer's name.
    store.order(db, v2, c3, "2026-11-15", "repair")
    # Unreached: tried, never reached, not done.
    ids["u1"] = u1 = task(db, "recovery", "2026-11-16", c3, state="unreachable", attempts=3,
                          reason="no answer after 3 tries")
    call(db, u1, "A", "2026-11-16 10:00", "no_answer")
    call(db, u1, "B", "2026-11-17 10:00", "no_answer")
    store.order(db, None, c3, "2026-11-18", "maintenance")
    ids["u6"] = u6 = task(db, "recovery", "2026-11-03", c4, state="open", attempts=1)
    call(db, u6, "A", "2026-11-03 10:00", "busy")
    task(db, "recovery", "2026-11-18", c4, state="open")                      # never tried
    ended = task(db, "recovery", "2026-11-19", c4, state="open")
    call(db, ended, "A", "2026-11-19 10:00", "no_answer")
    call(db, ended, "A", "2026-11-20 10:00", "booked")                        # reached at last
    done = task(db, "recovery", "2026-11-21", c4, state="done")
    call(db, done, "A", "2026-11-21 10:00", "no_answer")
    call(db, task(db, "recovery", "2026-12-01", c4, state="open"), "A", "2026-12-01 10:00",
         "no_answer")                                                           # December's
    return db, ids


def test_the_unsatisfied_list_row_by_row(lists):
    db, i = lists
    got = stats.follow_up(db, S, "unsatisfied", month="2026-11")
    # By the time of the call: t2's (5 November) before t1's (6 November).
    assert got == [
        {"call_id": i["k2"], "task_id": i["t2"], "clerk": "B", "called_at": "2026-11-05 11:00",
         "note": None, "kind": "post_repair", "task_state": "done", "customer_id": i["c2"],
         "customer": "李娜", "mobile": "13800000002", "scores": {"overall": 5, "price": 3},
         "since": "1 visit(s), last 2026-11-15"},
        {"call_id": i["k1"], "task_id": i["t1"], "clerk": "A", "called_at": "2026-11-06 10:00",
         "note": "慢", "kind": "post_repair", "task_state": "done", "customer_id": i["c1"],
         "customer": "张伟", "mobile": "13800000001", "scores": {"overall": 3, "advisor": 4},
         "since": "2 visit(s), last 2026-11-25; 2 complaint(s): open,closed"}]
    assert [r["clerk"] for r in stats.follow_up(db, S, "unsatisfied", month="2026-11",
                                                clerk="A")] == ["A"]


def test_satisfied_from_is_the_first_satisfied_point(lists):
    db, _ = lists
    own = copy.deepcopy(S)
    own["calls"]["satisfied_from"] = 3    # now 3 is satisfied: only scores of 1-2 are listed
    assert stats.follow_up(db, own, "unsatisfied", month="2026-11") == []
    own["calls"]["satisfied_from"] = 5    # now a 4 is unsatisfied too
    assert len(stats.follow_up(db, own, "unsatisfied", month="2026-11")) == 3


def test_the_unreached_list_row_by_row(lists):
    db, i = lists
    got = stats.follow_up(db, S, "unreached", month="2026-11")
    assert got == [
        {"task_id": i["u6"], "kind": "recovery", "due_date": "2026-11-03", "task_state": "open",
         "state_reason": None, "attempts": 1, "customer_id": i["c4"], "customer": "赵六",
         "mobile": "13800000004", "clerk": "A", "last_call": "2026-11-03 10:00",
         "since": "nothing yet"},
        {"task_id": i["u1"], "kind": "recovery", "due_date": "2026-11-16",
         "task_state": "unreachable", "state_reason": "no answer after 3 tries", "attempts": 3,
         "customer_id": i["c3"], "customer": "王强", "mobile": "13800000003", "clerk": "B",
         "last_call": "2026-11-17 10:00", "since": "1 visit(s), last 2026-11-18"}]
    # The clerk of the last call: u1 is B's, not A's, although A called it first.
    assert [r["task_id"] for r in stats.follow_up(db, S, "unreached", month="2026-11",
                                                  clerk="A")] == [i["u6"]]
    assert stats.follow_up(db, S, "unreached", week=date(2026, 11, 16)) == [got[1]]
    # No month or week: the month of the day the list is read.
    assert stats.follow_up(db, S, "unreached", today=date(2026, 11, 26)) == got
    assert stats.follow_up(db, S, "unreached", today=date(2026, 10, 26)) == []


def test_an_unknown_list_is_refused(db):
    with pytest.raises(UsageError) as e:
        stats.follow_up(db, S, "angry", month="2026-11")
    assert str(e.value) == "the lists are 'unsatisfied' and 'unreached'"


# --------------------------------------------------------------------------- return window


def test_the_return_window_runs_from_the_day_before_to_30_days_after(db):
    # Four maintenance reminders due 2026-11-10, each car back on another day: 11-08 (two
    # days before: not), 11-09 (the day before), 12-10 (due + 30 days), 12-11 (31: not).
    # Recovery calls the same way, by customer.
    for back in ("2026-11-08", "2026-11-09", "2026-12-10", "2026-12-11"):
        c = store.customer(db)
        v = store.vehicle(db, c)
        task(db, "regular_maintenance", "2026-11-10", c, vehicle=v, channel="sms_call")
        store.order(db, v, None, back, "maintenance")
        lost = store.customer(db)
        task(db, "recovery", "2026-11-10", lost)
        store.order(db, None, lost, back, "maintenance")
    r = stats.report(db, S, month="2026-11", compare=False)
    effect = r["reminder_effect"]
    assert effect["maintenance"] == {"value": 0.5, "num": 2, "den": 4}
    assert effect["recovery"] == {"value": 0.5, "num": 2, "den": 4}
    assert effect["warranty_check"] == {"value": None, "num": 0, "den": 0}
    assert effect["window_days"] == 30
    assert r["lost_customers"]["won_back"] == 2
    shorter = copy.deepcopy(S)
    shorter["stats"]["return_window_days"] = 29    # 12-10 is now one day late
    r = stats.report(db, shorter, month="2026-11", compare=False)
    assert r["reminder_effect"]["maintenance"]["num"] == 1
    assert r["lost_customers"]["won_back"] == 1


def test_won_back_counts_customers_of_the_clerks_calls_once(db):
    c = store.customer(db)
    for due in ("2026-11-10", "2026-11-12"):       # two recovery calls for one customer
        call(db, task(db, "recovery", due, c), "A", f"{due} 10:00", "reached")
    store.order(db, None, c, "2026-11-20", "maintenance")
    withdrawn = store.customer(db)
    task(db, "recovery", "2026-11-10", withdrawn, state="withdrawn")
    store.order(db, None, withdrawn, "2026-11-20", "maintenance")
    assert stats.report(db, S, month="2026-11", compare=False)["lost_customers"]["won_back"] == 1
    assert stats.report(db, S, month="2026-11", compare=False, clerk="A"
                        )["lost_customers"]["won_back"] == 1
    assert stats.report(db, S, month="2026-11", compare=False, clerk="B"
                        )["lost_customers"]["won_back"] == 0


# --------------------------------------------------------------------------- small helpers


def test_the_small_helpers():
    assert stats.month_of(date(2026, 1, 31), -1) == "2025-12"
    assert stats.month_of(date(2026, 12, 31), 1) == "2027-01"
    assert stats.month_of(date(2026, 11, 26)) == "2026-11"
    assert stats.check_metric("score_price") == "score_price"
    with pytest.raises(UsageError) as e:
        stats.check_metric("mood")
    assert str(e.value).startswith("metric 'mood': use one of due, performed_rate,")
    assert str(e.value).endswith(", score_price, score_cleanliness")
    assert stats._delta(0.5, 0.25) == 0.25
    assert stats._delta(0.8, 0.66666) == 0.1333     # rounded to 4 places
    assert stats._delta(None, 1) is None and stats._delta(1, None) is None
    assert stats._delta(0, 0) == 0
    assert stats._cutoff(date(2026, 11, 30), None) == "2026-11-30 24:00"
    assert stats._cutoff(date(2026, 11, 30), "2026-11-30 10:00") == "2026-11-30 10:00"
    assert stats._cutoff(date(2026, 11, 30), "2026-12-05 10:00") == "2026-11-30 24:00"
    # The later of two stamps; the planner's 'T' and seconds are read as the same minute.
    assert stats._later(None, "2026-11-30T08:00:05") == "2026-11-30 08:00"
    assert stats._later("2026-11-30 08:01", "2026-11-30T08:00:59") == "2026-11-30 08:01"
    assert stats._later("2026-11-30 08:00", "2026-11-30 08:01") == "2026-11-30 08:01"
    assert stats._later("2026-11-30 08:00", None) == "2026-11-30 08:00"
    assert stats._later("2026-11-30 08:00", "") == "2026-11-30 08:00"
    assert stats._later("2026-11-30 08:00", "x2027") == "2026-11-30 08:00"   # not a time


@pytest.mark.parametrize(("month", "expected"), [
    ("2026-02", (date(2026, 2, 1), date(2026, 2, 28), "2026-02")),
    ("2028-02", (date(2028, 2, 1), date(2028, 2, 29), "2028-02")),
    ("2026-12", (date(2026, 12, 1), date(2026, 12, 31), "2026-12")),
])
def test_period_bounds_of_a_month(month, expected):
    assert stats.period_bounds(month=month) == expected


def test_period_bounds_refusals_and_the_default_month():
    with pytest.raises(UsageError) as e:
        stats.period_bounds(month="2026-13")
    assert str(e.value) == ("--month '2026-13': use YYYY-MM (2026-11), 2026/11, 2026年11月 or"
                            " the month alone (11)")
    with pytest.raises(UsageError, match="^--month 1800-01-01 is out of range"):
        stats.period_bounds(month="1800-01")
    assert stats.period_bounds(today=date(2026, 11, 26)) == (
        date(2026, 11, 1), date(2026, 11, 30), "2026-11")
    # A Sunday belongs to the week that began on the Monday before it.
    assert stats.period_bounds(week=date(2026, 11, 29)) == (
        date(2026, 11, 23), date(2026, 11, 29), "2026-W48")
    assert stats.previous_period(date(2026, 11, 23), date(2026, 11, 29), "2026-W48") == (
        date(2026, 11, 16), date(2026, 11, 22), "2026-W47")
    assert stats.previous_period(date(2026, 1, 1), date(2026, 1, 31), "2026-01") == (
        date(2025, 12, 1), date(2025, 12, 31), "2025-12")


# --------------------------------------------------------------------------- edges of the period

ACTION = ("INSERT INTO actions (text, owner, deadline, state, created_at, created_by, done_at,"
          " metric) VALUES (?,?,?,?,?,?,?,?)")


def test_actions_at_the_edges_of_the_report(db):
    # Read at 2026-11-20 10:00 ("now"): actions made before that minute, not done before
    # 1 November; done only when done before that minute; overdue when the deadline is
    # before that day.
    rows = [("made a minute before", "2026-11-19", "open", "2026-11-20 09:59", None, None),
            ("made on the minute", "2026-11-19", "open", "2026-11-20 10:00", None, None),
            ("done on the 1st", "2026-11-05", "done", "2026-10-01 09:00", "2026-11-01 00:00",
             None),
            ("done on 31 October", "2026-11-05", "done", "2026-10-01 09:00", "2026-10-31 23:59",
             None),
            ("done on the minute", "2026-11-30", "done", "2026-10-01 09:00", "2026-11-20 10:00",
             "due"),
            ("due today", "2026-11-20", "open", "2026-11-02 09:00", None, None)]
    for text, deadline, state, created, done, metric in rows:
        db.conn.execute(ACTION, (text, "王", deadline, state, created, "gm", done, metric))
    r = stats.report(db, S, month="2026-11", now="2026-11-20 10:00", compare=False)
    a = r["actions"]
    listed = {x["text"]: (x["state"], x["overdue"], x["done_at"]) for x in a["list"]}
    assert listed == {"made a minute before": ("open", True, None),
                      "done on the 1st": ("done", False, "2026-11-01 00:00"),
                      # done after the minute the report is read: still open then
                      "done on the minute": ("open", False, None),
                      "due today": ("open", False, None)}
    # Opened in November before the minute: 2; done in that time: 1; overdue: 1.
    assert (a["opened"], a["done"], a["overdue"]) == (2, 1, 1)
    # An open action with a metric shows this report's figure of it (nothing due: 0).
    still = next(x for x in a["list"] if x["text"] == "done on the minute")
    assert (still["effect_after"], still["effect_after_period"]) == (0, "2026-11")


def test_work_done_is_the_calls_made_in_the_period_to_the_minute(db):
    c = store.customer(db)
    t = task(db, "post_repair", "2026-11-10", c)
    for at in ("2026-10-31 23:59", "2026-11-01 00:00", "2026-11-30 23:59", "2026-12-01 00:00"):
        call(db, t, "A", at, "no_answer")
    call(db, t, "B", "2026-11-15 10:00", "reached", overall=5)
    call(db, t, "B", "2026-11-16 10:00", "reached")              # reached, nothing answered
    call(db, t, "B", "2026-11-17 10:00", "no_answer", overall=5)  # a score, not reached
    w = stats.report(db, S, month="2026-11", compare=False)["work_done"]
    assert w == {"by_clerk": {
        "A": {"calls": 2, "successful": 0, "tasks": 1, "outcomes": {"no_answer": 2}},
        "B": {"calls": 3, "successful": 1, "tasks": 1, "outcomes": {"reached": 2,
                                                                    "no_answer": 1}}},
        "total": {"calls": 5, "successful": 1}}
    assert list(stats.report(db, S, month="2026-11", compare=False, clerk="B"
                             )["work_done"]["by_clerk"]) == ["B"]


# --------------------------------------------------------------------------- the comparison

COMPLAINT = ("INSERT INTO complaints (customer_id, task_id, category, severity, text, state,"
             " opened_at, opened_by, escalate_by, reply_by, resolution)"
             " VALUES (?,?,?,?,?,?,?,?,?,?,?)")


@pytest.fixture
def two_months(db):
    c = store.customer(db)
    v = store.vehicle(db, c, delivery_date="2020-01-01")
    store.order(db, v, c, "2026-09-01", "maintenance")   # back within 12 months of both ends
    t10 = task(db, "post_repair", "2026-10-10", c)
    call(db, t10, "A", "2026-10-10 10:00", "reached", overall=4, advisor=2)
    call(db, task(db, "post_repair", "2026-10-12", c), "B", "2026-10-12 10:00", "reached",
         overall=2)
    call(db, task(db, "post_repair", "2026-10-14", c), "B", "2026-10-14 10:00", "no_answer")
    task(db, "regular_maintenance", "2026-10-15", c, channel="sms_call", state="missed")
    call(db, task(db, "post_repair", "2026-10-16", c, state="withdrawn"), "A",
         "2026-10-16 10:00", "reached", overall=5)
    # October's complaints: one from t10's call, never escalated (late at the month's end);
    # one opened by A by hand and closed in time.
    db.conn.execute(COMPLAINT, (c, t10, "价格", "normal", "x", "open", "2026-10-10 10:00", "A",
                                "2026-10-10 14:00", "2026-10-12 14:00", None))
    db.conn.execute(COMPLAINT, (c, None, "价格", "normal", "y", "closed", "2026-10-20 09:00",
                                "A", "2026-10-20 13:00", "2026-10-21 13:00", "satisfied"))
    call(db, task(db, "post_repair", "2026-11-05", c), "A", "2026-11-05 10:00", "reached",
         overall=5)
    return db


def test_the_previous_month_and_the_change(two_months):
    r = stats.report(two_months, S, month="2026-11")
    # October: due 10-10, 10-12, 10-14 and the maintenance call (not the withdrawn one);
    # performed 3; successful 2 (reached with answers); overall 4 and 2: average 3.0, one
    # of two satisfied; 2 complaints, 1 overdue; the car came back: holding 1 of 1.
    assert r["previous"] == {"period": "2026-10", "due": 4, "performed_rate": 0.75,
                             "success_rate": 0.5, "satisfied_share": 0.5,
                             "overall_average": 3.0, "complaints_opened": 2,
                             "complaints_overdue": 1, "holding_rate": 1.0}
    # November: one call, reached, overall 5.
    assert r["change"] == {"due": -3, "performed_rate": 0.25, "success_rate": 0.5,
                           "satisfied_share": 0.5, "overall_average": 2.0,
                           "complaints_opened": -2, "complaints_overdue": -1,
                           "holding_rate": 0.0}
    assert "previous" not in stats.report(two_months, S, month="2026-11", compare=False)


def test_kinds_and_clerk_keep_their_complaints(two_months):
    def figures(**kw):
        r = stats.report(two_months, S, month="2026-10", compare=False, **kw)
        t = r["callbacks"]["total"]
        return (t["due"], t["performed"], t["successful"]), r["complaints"]["opened"]

    assert figures() == ((4, 3, 2), 2)
    # Post-repair calls only: the maintenance call goes, and the complaint opened by hand
    # (of no task, so of no kind).
    assert figures(kinds=["post_repair"]) == ((3, 3, 2), 1)
    assert figures(kinds=["regular_maintenance", "post_repair"]) == ((4, 3, 2), 1)
    # A called t10 and opened the other complaint by hand; B called neither of them.
    assert figures(clerk="A") == ((1, 1, 1), 2)
    assert figures(clerk="B") == ((2, 2, 1), 0)


def test_counts_add_up_when_values_repeat(two_months):
    # October's two complaints are both 价格: one category counted twice.
    r = stats.report(two_months, S, month="2026-10", compare=False)
    assert r["problems"]["complaint_categories"] == [{"category": "价格", "count": 2}]


def test_scores_tags_and_reasons_that_repeat(db):
    c = store.customer(db)
    v = store.vehicle(db, c)
    o = store.order(db, v, c, "2026-11-01", "repair", advisor="刘洋")

    def reached(due, note=None, **scores):
        t = db.conn.execute(
            "INSERT INTO tasks (key, kind, customer_id, vehicle_id, order_id, due_date,"
            " expires_on, channel, weight, reason, state, planned_at, updated_at)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (f"k{due}", "post_repair", c, v, o, due, due, "call", 50, "r", "done", due, due)
        ).lastrowid
        call(db, t, "A", f"{due} 10:00", "reached", note, **scores)

    # Three overall 5s in three different rows of answers, one advisor 4 and two 3s.
    reached("2026-11-02", overall=5, advisor=4)
    reached("2026-11-03", overall=5, advisor=3)
    reached("2026-11-04", overall=5, advisor=3, price=2)
    # Eleven tags: #a twice, #k twice, the others once; the first ten by count, then name.
    reached("2026-11-05", "#a #b #c #d #e #f")
    reached("2026-11-06", "#a #g #h #i #j #k")
    reached("2026-11-07", "#k")
    r = stats.report(db, S, month="2026-11", compare=False)
    q = r["satisfaction"]["questions"]
    assert (q["overall"]["answers"], q["overall"]["average"]) == (3, 5.0)
    assert q["overall"]["distribution"] == {"1": 0, "2": 0, "3": 0, "4": 0, "5": 3}
    # Advisor: (4 + 3 + 3) / 3 = 3.333.
    assert (q["advisor"]["answers"], q["advisor"]["average"]) == (3, 3.333)
    assert q["advisor"]["distribution"] == {"1": 0, "2": 0, "3": 2, "4": 1, "5": 0}
    adv = r["by_advisor"]["advisors"]
    assert [(a["advisor"], a["questions"]["overall"], a["questions"]["advisor"]) for a in adv] \
        == [("刘洋", {"answers": 3, "average": 5.0}, {"answers": 3, "average": 3.333})]
    assert r["problems"]["note_tags"] == [
        {"tag": "a", "count": 2}, {"tag": "k", "count": 2}, {"tag": "b", "count": 1},
        {"tag": "c", "count": 1}, {"tag": "d", "count": 1}, {"tag": "e", "count": 1},
        {"tag": "f", "count": 1}, {"tag": "g", "count": 1}, {"tag": "h", "count": 1},
        {"tag": "i", "count": 1}]


def test_reasons_for_leaving_most_said_first(db):
    for due, why in (("2026-11-02", "价格"), ("2026-11-03", "距离远"), ("2026-11-04", "距离远"),
                     ("2026-11-05", "搬迁")):
        t = task(db, "recovery", due, store.customer(db))
        db.conn.execute("INSERT INTO calls (task_id, clerk, called_at, logged_at, outcome,"
                        " lost_reason) VALUES (?,?,?,?,?,?)",
                        (t, "A", f"{due} 10:00", f"{due} 10:00", "reached", why))
    lost = stats.report(db, S, month="2026-11", compare=False)["lost_customers"]
    # 距离远 twice first; then 价格 and 搬迁 once each, by name (价 U+4EF7 before 搬 U+642C).
    assert lost["reasons"] == [{"reason": "距离远", "count": 2}, {"reason": "价格", "count": 1},
                               {"reason": "搬迁", "count": 1}]
    assert (lost["recovery_due"], lost["reached"]) == (4, 4)


def test_the_report_reads_the_day_it_is_read(two_months):
    # No month: the month of `today`. Read before the month begins: nothing through the
    # day before its first (31 October), not two days before.
    r = stats.report(two_months, S, today=date(2026, 10, 20), compare=False)
    assert (r["period"], r["through"], r["so_far"]) == ("2026-10", "2026-10-20", True)
    r = stats.report(two_months, S, month="2026-11", today=date(2026, 10, 15), compare=False)
    assert (r["through"], r["callbacks"]["total"]["due"]) == ("2026-10-31", 0)


def test_the_previous_month_keeps_the_kinds(two_months):
    # Maintenance calls only: October had one (never performed), November none.
    r = stats.report(two_months, S, month="2026-11", kinds=["regular_maintenance"])
    assert (r["previous"]["due"], r["previous"]["performed_rate"]) == (1, 0.0)


def test_resolutions_count_up_and_hours_follow_the_settings(db):
    c = store.customer(db)
    # Two satisfied; one answered the same day from 10:00 to 15:00 with the dealer's lunch
    # 12:00-14:00: 2 h + 1 h = 3 h (with the default lunch to 13:30 it would be 3.5 h).
    for replied in ("2026-11-10 15:00", "2026-11-11 15:00"):
        db.conn.execute(
            "INSERT INTO complaints (customer_id, category, text, state, opened_at, opened_by,"
            " escalate_by, reply_by, replied_at, resolution) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (c, "价格", "x", "closed", replied[:10] + " 10:00", "A", replied, replied, replied,
             "satisfied"))
    own = copy.deepcopy(S)
    own["complaints"]["lunch_end"] = "14:00"
    k = stats.report(db, own, month="2026-11", compare=False)["complaints"]
    assert k["resolution"] == {"satisfied": 2, "not_satisfied": 0, "pending": 0}
    assert k["to_reply"] == {"average_hours": 3.0, "count": 2}


def test_unreached_since_counts_from_the_last_call_not_the_due_day(db):
    c = store.customer(db)
    t = task(db, "recovery", "2026-11-03", c, state="open")
    call(db, t, "A", "2026-11-10 10:00", "no_answer")
    store.order(db, None, c, "2026-11-05", "maintenance")    # between the due day and the call
    assert [r["since"] for r in stats.follow_up(db, S, "unreached", month="2026-11")] == [
        "nothing yet"]


def test_the_report_says_what_it_was_asked_and_the_previous_month_keeps_the_clerk(two_months):
    r = stats.report(two_months, S, month="2026-11", clerk="B", kinds=["post_repair"])
    assert (r["clerk"], r["kinds"]) == ("B", ["post_repair"])
    assert r["definitions"]      # the definitions of the figures come with the report
    # B called two of October's post-repair calls (10-12 and 10-14): the previous month
    # counts those two, not all three.
    assert r["previous"]["due"] == 2


def test_a_withdrawn_reminder_is_not_in_the_return_rate(db):
    c = store.customer(db)
    v = store.vehicle(db, c)
    task(db, "regular_maintenance", "2026-11-10", c, vehicle=v, channel="sms_call",
         state="withdrawn")
    store.order(db, v, None, "2026-11-12", "maintenance")
    r = stats.report(db, S, month="2026-11", compare=False)
    assert r["reminder_effect"]["maintenance"] == {"value": None, "num": 0, "den": 0}


def test_an_unsatisfied_row_names_its_call_not_its_task(db):
    c = store.customer(db)
    task(db, "post_repair", "2026-11-04", c)                 # task 1, never called
    t = task(db, "post_repair", "2026-11-05", c)             # task 2
    k = call(db, t, "A", "2026-11-05 10:00", "reached", overall=2)   # call 1
    (row,) = stats.follow_up(db, S, "unsatisfied", month="2026-11")
    assert (row["call_id"], row["task_id"]) == (k, t) and k != t


# --------------------------------------------------------------------------- the complete run's rest
# (tests for the survivors of the complete mutation run of stats.py: each names what it pins)

FULL = ("INSERT INTO complaints (customer_id, task_id, category, severity, text, state,"
        " opened_at, opened_by, escalate_by, reply_by, escalated_at, replied_at, closed_at,"
        " resolution) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)")


def test_kinds_and_clerk_choose_complaints_by_their_task_and_by_who_opened_them(db):
    c = store.customer(db)
    # t1: A called first (no answer), B reached the customer and opened the complaint.
    t1 = task(db, "post_repair", "2026-11-05", c)
    call(db, t1, "A", "2026-11-05 09:00", "no_answer")
    call(db, t1, "B", "2026-11-05 10:00", "reached", overall=2)
    t2 = task(db, "post_repair", "2026-11-06", c)                 # B's alone
    call(db, t2, "B", "2026-11-06 10:00", "reached", overall=1)
    t3 = task(db, "regular_maintenance", "2026-11-07", c)         # A's maintenance call
    call(db, t3, "A", "2026-11-07 10:00", "reached", overall=2)
    for tid, by, opened in ((t1, "B", "2026-11-05 10:00"), (t2, "B", "2026-11-06 10:00"),
                            (t3, "A", "2026-11-07 10:00"),
                            (None, "A", "2026-11-10 10:00"),     # opened by hand, no task
                            (None, "B", "2026-11-11 10:00")):
        db.conn.execute(COMPLAINT, (c, tid, "价格", "normal", "x", "open", opened, by, opened,
                                    opened, None))

    def opened(**kw):
        return stats.report(db, S, month="2026-11", compare=False, **kw)["complaints"]["opened"]

    assert opened() == 5
    # A kind keeps the complaints of its tasks; one opened by hand has no task, so no kind.
    assert opened(kinds=["post_repair"]) == 2                    # t1's and t2's
    assert opened(kinds=["regular_maintenance"]) == 1            # t3's
    # A clerk: the complaints of the tasks they called (whoever opened them), and those they
    # opened by hand. A called t1 and t3 and opened one by hand; B called t1 and t2.
    assert opened(clerk="A") == 3
    assert opened(clerk="B") == 3
    assert opened(clerk="A", kinds=["post_repair"]) == 1         # t1's alone


def test_complaint_figures_count_each_answer_and_work_in_the_settings_hours(db):
    # The dealer's lunch is 12:00-14:00 (the default ends at 13:30); days 09:00-18:00.
    # November 2026: the 10th is a Tuesday, the 16th a Monday; no holiday in the month.
    own = copy.deepcopy(S)
    own["complaints"]["lunch_end"] = "14:00"
    c = store.customer(db)
    for row in (
            # 1: open, never escalated nor answered.
            ("服务态度", "open", "2026-11-02 10:00", "2026-11-02 15:15", "2026-11-03 15:15",
             None, None, None, None),
            # 2, 3: answered without an escalation, awaiting the follow-up call.
            ("维修质量", "replied", "2026-11-16 09:00", "2026-11-16 14:15", "2026-11-17 14:15",
             None, "2026-11-16 11:00", None, None),
            ("维修质量", "replied", "2026-11-17 09:00", "2026-11-17 14:15", "2026-11-18 14:15",
             None, "2026-11-17 15:00", None, None),
            # 4: escalated after 20 minutes, answered, closed: the customer was satisfied.
            ("维修质量", "closed", "2026-11-11 10:00", "2026-11-11 15:15", "2026-11-12 10:20",
             "2026-11-11 10:20", "2026-11-11 11:20", "2026-11-12 10:00", "satisfied"),
            # 5: escalated, answered, not satisfied: back with the manager, a new reply by
            # 13 November 10:00.
            ("价格", "escalated", "2026-11-10 10:00", "2026-11-10 15:15", "2026-11-13 10:00",
             "2026-11-10 15:00", "2026-11-11 09:00", None, "not_satisfied")):
        category, state, opened, esc_by, reply_by, esc, replied, closed, resolution = row
        db.conn.execute(FULL, (c, None, category, "normal", "x", state, opened, "A", esc_by,
                               reply_by, esc, replied, closed, resolution))
    r = stats.report(db, own, month="2026-11", compare=False)
    k = r["complaints"]
    # Overdue at the month's end: 1 (escalation due 2 November) and 5 (reply due 13 November).
    assert (k["opened"], k["closed"], k["overdue"]) == (5, 1, 2)
    # Pending: the two awaiting the follow-up call (replied, no answer yet); the open one is
    # not pending, and the one sent back keeps its "not satisfied".
    assert k["resolution"] == {"satisfied": 1, "not_satisfied": 1, "pending": 2}
    # To the GM: 4 took 10:00-10:20 = 1/3 h; 5 took 10:00-12:00 and 14:00-15:00 = 3 h (3.5 h
    # with the default lunch). (1/3 + 3) / 2 = 1.6667, shown to 2 places.
    assert k["to_escalation"] == {"average_hours": 1.67, "count": 2}
    # To the reply, from the escalation or else the opening: 2 h (09:00-11:00), 4 h
    # (09:00-12:00, 14:00-15:00), 1 h (10:20-11:20), 3 h (15:00-18:00, the 11th at 09:00).
    assert k["to_reply"] == {"average_hours": 2.5, "count": 4}
    # Categories: the most frequent first, then by name (价 U+4EF7 before 服 U+670D),
    # whatever order they were opened in.
    assert r["problems"]["complaint_categories"] == [
        {"category": "维修质量", "count": 3}, {"category": "价格", "count": 1},
        {"category": "服务态度", "count": 1}]


def test_the_data_last_changed_when_the_latest_call_was_logged_even_if_the_task_stayed(db):
    c = store.customer(db)
    t1 = task(db, "post_repair", "2026-11-05", c)
    call(db, t1, "A", "2026-11-05 10:00", "reached", overall=5)
    t2 = task(db, "post_repair", "2026-11-06", c, state="open", attempts=1)
    call(db, t2, "A", "2026-11-06 10:00", "no_answer")
    late = call(db, t2, "A", "2026-11-06 16:00", "no_answer")
    # Each call is logged a minute after it was made; logging the first call of a task
    # stamps the task too. A second no-answer the same day uses no try and leaves the task
    # as it was: it is still a change of the month's data, the latest one.
    db.conn.execute("UPDATE calls SET logged_at = substr(called_at, 1, 15) || '1'")
    db.conn.execute("UPDATE calls SET used_try = 0 WHERE id = ?", (late,))
    db.conn.execute("UPDATE tasks SET updated_at = due_date || ' 10:01'")
    r = stats.report(db, S, month="2026-11", compare=False)
    assert r["last_changed"] == "2026-11-06 16:01"


def test_a_reason_for_leaving_counts_every_call_that_gave_it_whatever_their_scores(db):
    for due, why, scores in (("2026-11-02", "价格", {"overall": 2}), ("2026-11-03", "价格", {}),
                             ("2026-11-04", "距离远", {"overall": 2})):
        t = task(db, "recovery", due, store.customer(db))
        k = call(db, t, "A", f"{due} 10:00", "reached", **scores)
        db.conn.execute("UPDATE calls SET lost_reason = ? WHERE id = ?", (why, k))
    lost = stats.report(db, S, month="2026-11", compare=False)["lost_customers"]
    assert lost["reasons"] == [{"reason": "价格", "count": 2}, {"reason": "距离远", "count": 1}]


def test_the_unreached_list_of_a_clerk_whose_task_comes_after_anothers(lists):
    db, i = lists
    # u6 (A's, due 3 November) comes before u1 (B's last call, due 16 November).
    assert [r["task_id"] for r in stats.follow_up(db, S, "unreached", month="2026-11",
                                                  clerk="B")] == [i["u1"]]


def test_unreached_since_counts_the_cars_visits_under_any_name(db):
    c = store.customer(db)
    v = store.vehicle(db, c)
    t = task(db, "regular_maintenance", "2026-11-10", c, vehicle=v, state="open", attempts=1)
    call(db, t, "A", "2026-11-10 10:00", "no_answer")
    store.order(db, v, c, "2026-11-10", "maintenance")                       # the call's day
    store.order(db, v, None, "2026-11-20", "maintenance")                    # on no one's name
    store.order(db, v, store.customer(db, "李娜"), "2026-11-25", "repair")   # another's name
    (row,) = stats.follow_up(db, S, "unreached", month="2026-11")
    assert row["since"] == "2 visit(s), last 2026-11-25"


def test_the_previous_month_judges_its_complaints_at_the_same_now(db):
    c = store.customer(db)
    # Opened by hand on Friday 30 October at 16:00 and never escalated. Half a working day
    # (3.75 h) to the GM: 2 h on Friday, 1.75 h on Monday 2 November: 10:45.
    db.conn.execute(COMPLAINT, (c, None, "价格", "normal", "x", "open", "2026-10-30 16:00", "A",
                                "2026-11-02 10:45", "2026-11-03 10:45", None))

    def previous(now):
        return stats.report(db, S, month="2026-11", now=now)["previous"]

    assert previous("2026-11-20 10:00")["complaints_opened"] == 1
    assert previous("2026-11-20 10:00")["complaints_overdue"] == 1
    # One minute either side of the deadline: late only after it.
    assert previous("2026-11-02 10:45")["complaints_overdue"] == 0
    assert previous("2026-11-02 10:46")["complaints_overdue"] == 1
    # No `now`: each month is judged at its own end; on 31 October it was not late yet.
    assert previous(None)["complaints_overdue"] == 0


def test_the_reports_definitions_are_english_with_the_settings_values(db, monkeypatch):
    # The JSON speaks English whatever the interface's language; the terminal and the
    # workbook translate. The sixth definition is the satisfied share's, with its setting.
    monkeypatch.setenv("CRMCLI_LANG", "zh_CN")
    own = copy.deepcopy(S)
    own["calls"]["satisfied_from"] = 5
    d = stats.report(db, own, month="2026-11", compare=False)["definitions"]
    assert d[5] == "Satisfied: overall scores of 5 or more / overall answers."
    assert d[0].startswith("Attribution: every figure of a callback task")


def test_the_data_last_changed_compares_the_planners_and_the_exports_stamps_by_time(db):
    # The planner stamps a task it lets lapse '2026-11-20T09:00:00' (clock.stamp); the SMS
    # export stamps the one it withdraws '2026-11-20 12:00:00' (a space). By time the
    # withdrawal at 12:00 is the later change, although 'T' sorts after ' ' as text.
    c = store.customer(db)
    missed = task(db, "post_repair", "2026-11-05", c, state="missed")
    withdrawn = task(db, "post_repair", "2026-11-06", c, state="withdrawn")
    db.conn.execute("UPDATE tasks SET updated_at = '2026-11-20T09:00:00' WHERE id = ?", (missed,))
    db.conn.execute("UPDATE tasks SET updated_at = '2026-11-20 12:00:00' WHERE id = ?",
                    (withdrawn,))
    r = stats.report(db, S, month="2026-11", compare=False)
    assert r["last_changed"] == "2026-11-20 12:00"


def test_lost_customers_reasons_of_equal_count_come_by_name_whatever_their_order(db):
    # One call each: the count ties, so the name decides (价 U+4EF7 before 距 U+8DDD), even
    # when 距离远 was given first.
    for due, why in (("2026-11-02", "距离远"), ("2026-11-03", "价格")):
        t = task(db, "recovery", due, store.customer(db))
        k = call(db, t, "A", f"{due} 10:00", "reached", overall=2 if why == "价格" else 1)
        db.conn.execute("UPDATE calls SET lost_reason = ? WHERE id = ?", (why, k))
    lost = stats.report(db, S, month="2026-11", compare=False)["lost_customers"]
    assert lost["reasons"] == [{"reason": "价格", "count": 1}, {"reason": "距离远", "count": 1}]
