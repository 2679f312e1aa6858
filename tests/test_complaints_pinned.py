"""Complaints and corrective actions pinned at their edges: each deadline one minute
either side, each step's columns, the order of the lists.

Business hours are the defaults: 09:00-12:00 and 13:30-18:00, 7.5 h a working day;
escalate within half a day (3.75 h), reply within one day (7.5 h). 2026-11-26 is a
Thursday; 2026-11-28/29 are a weekend (State Council notice for 2026).
"""

from __future__ import annotations

import copy
from datetime import date, datetime

import pytest
import store

from crmcli import calls
from crmcli.errors import NotFound, UsageError
from crmcli.settings import DEFAULTS

S = copy.deepcopy(DEFAULTS)


def at(s: str) -> datetime:
    return datetime.fromisoformat(s)


def opened(db, when="2026-11-26 10:30", customer=True, **kw) -> int:
    c = store.customer(db, "张伟", gender="M") if customer else None
    return calls.add_complaint(db, c, "价格", "贵", S, by="前台", at=at(when), **kw)["id"]


def steps(db, cid):
    return db.conn.execute(
        "SELECT state, escalated_at, escalated_by, replied_at, replied_by, closed_at, closed_by,"
        " owner, late_escalation, late_reply, reply_by FROM complaints WHERE id=?",
        (cid,)).fetchone()


def test_a_complaint_as_opened(db):
    c = store.customer(db, "张伟", mobile="13800000001", gender="M")
    k = calls.add_complaint(db, c, " 价格 ", "贵", S, by="前台", at=at("2026-11-26 10:30"),
                            owner="王经理", severity=" Major ")
    # Thursday 10:30 + 3.75 h: 1.5 h to noon, 2.25 h from 13:30 -> 15:45; the reply a
    # working day later, Friday 15:45 (calls.deadlines' docstring).
    assert {key: k[key] for key in (
        "customer_id", "task_id", "call_id", "category", "text", "owner", "state", "opened_at",
        "opened_by", "escalate_by", "reply_by", "severity", "late_escalation", "late_reply",
        "followup_task_id", "resolution", "customer_name", "mobile")} == {
        "customer_id": c, "task_id": None, "call_id": None, "category": "价格", "text": "贵",
        "owner": "王经理", "state": "open", "opened_at": "2026-11-26 10:30", "opened_by": "前台",
        "escalate_by": "2026-11-26 15:45", "reply_by": "2026-11-27 15:45", "severity": "major",
        "late_escalation": 0, "late_reply": 0, "followup_task_id": None, "resolution": None,
        "customer_name": "张伟", "mobile": "13800000001"}
    assert k["events"] == [{"at": "2026-11-26 10:30", "by": "前台", "action": "opened",
                            "note": "贵"}]
    with pytest.raises(NotFound, match="^no complaint #99$"):
        calls.complaint(db, 99)


def test_escalating_on_the_minute_is_on_time_and_a_minute_later_is_late(db):
    on_time, late = opened(db), opened(db)
    k = calls.advance(db, on_time, "escalate", by="小李", at=at("2026-11-26 15:45"), note="已报",
                      owner=None, settings=S)
    # One working day from 15:45: 2.25 h to 18:00, Friday 3 h to noon, 2.25 h from 13:30.
    assert steps(db, on_time) == ("escalated", "2026-11-26 15:45", "小李", None, None, None,
                                  None, None, 0, 0, "2026-11-27 15:45")
    assert k["events"][-1] == {"at": "2026-11-26 15:45", "by": "小李", "action": "escalate",
                               "note": "已报"}
    calls.advance(db, late, "escalate", by="小李", at=at("2026-11-26 15:46"), owner="王经理",
                  settings=S)
    # 15:46 + 7.5 h: 2 h 14 to 18:00, Friday 3 h, then 2 h 16 from 13:30: 15:46.
    assert steps(db, late) == ("escalated", "2026-11-26 15:46", "小李", None, None, None, None,
                               "王经理", 1, 0, "2026-11-27 15:46")


def test_escalating_after_the_reply_deadline_marks_the_escalation_only(db):
    cid = opened(db)   # escalate by Thursday 15:45, reply (until escalated) Friday 15:45
    calls.advance(db, cid, "escalate", by="a", at=at("2026-11-27 16:00"), settings=S)
    # Friday 16:00 + 7.5 h: 2 h to 18:00, Monday 3 h to noon and 2.5 h from 13:30: 16:00.
    assert steps(db, cid)[8:] == (1, 0, "2026-11-30 16:00")
    # The reply is not late yet: its deadline moved with the escalation.
    assert calls.overdue_marks(calls.complaint(db, cid), at("2026-11-30 16:00")) == ["escalation"]


def test_without_settings_the_defaults_count(db):
    cid = opened(db)
    calls.advance(db, cid, "escalate", by="a", at=at("2026-11-26 11:00"))
    assert steps(db, cid)[10] == "2026-11-27 11:00"


def test_a_reply_on_the_minute_is_on_time_and_plans_the_follow_up(db):
    cid = opened(db)
    calls.advance(db, cid, "reply", by="王经理", at=at("2026-11-27 15:45"), note="已退差价",
                  settings=S)
    # Not escalated by Thursday 15:45: the reply on Friday is late for the escalation.
    assert steps(db, cid) == ("replied", None, None, "2026-11-27 15:45", "王经理", None, None,
                              None, 1, 0, "2026-11-27 15:45")
    k = calls.complaint(db, cid)
    # Replied Friday: the follow-up call is due the next working day, Monday 11-30, and is
    # open for 7 days (to 12-07) with the complaint weight, 100.
    assert db.conn.execute(
        "SELECT id, key, kind, customer_id, due_date, expires_on, channel, weight, reason, state"
        " FROM tasks").fetchall() == [
        (k["followup_task_id"], f"complaint_followup:k{cid}:1", "complaint_followup",
         k["customer_id"], "2026-11-30", "2026-12-07", "call", 100,
         f"投诉回访 #{cid}（价格）：客户对处理结果是否满意？ 贵", "open")]
    late = opened(db)
    calls.advance(db, late, "reply", by="王经理", at=at("2026-11-27 15:46"), settings=S)
    assert steps(db, late)[8:] == (1, 1, "2026-11-27 15:45")


def test_the_follow_up_waits_the_days_the_settings_say(db):
    two = copy.deepcopy(S)
    two["complaints"]["followup_after_days"] = 2
    two["complaints"]["followup_open_days"] = 3
    cid = opened(db)
    calls.advance(db, cid, "reply", by="b", at=at("2026-11-26 14:00"), settings=two)
    # Thursday + 2 working days: Friday, Monday 11-30; open 3 days, to 12-03.
    assert db.conn.execute("SELECT due_date, expires_on FROM tasks").fetchone() == (
        "2026-11-30", "2026-12-03")


def test_a_complaint_with_no_customer_has_no_follow_up_call(db):
    cid = opened(db, customer=False)
    calls.advance(db, cid, "reply", by="b", at=at("2026-11-26 14:00"), settings=S)
    assert calls.complaint(db, cid)["followup_task_id"] is None
    assert db.conn.execute("SELECT count(*) FROM tasks").fetchone() == (0,)


def test_steps_out_of_order_are_refused_by_name(db):
    cid = opened(db)
    with pytest.raises(UsageError) as e:
        calls.advance(db, cid, "close", by="a", settings=S)
    assert str(e.value) == (f"complaint #{cid} has no reply yet: cannot close it before a reply;"
                            f" record the reply first (crmcli complaint reply {cid})")
    calls.advance(db, cid, "escalate", by="a", at=at("2026-11-26 11:00"), settings=S)
    # The same step again is done already: nothing changes, and the caller is told so.
    again = calls.advance(db, cid, "escalate", by="b", at=at("2026-11-26 12:00"), settings=S)
    assert (again["unchanged"], again["escalated_at"], again["escalated_by"]) == (
        True, "2026-11-26 11:00", "a")
    assert [e["action"] for e in again["events"]] == ["opened", "escalate"]
    calls.advance(db, cid, "reply", by="b", at=at("2026-11-26 14:00"), settings=S)
    with pytest.raises(UsageError) as e:
        calls.advance(db, cid, "escalate", by="a", settings=S)
    assert str(e.value) == (f"complaint #{cid} was replied to on 2026-11-26 14:00: escalating"
                            " comes before the reply, so there is nothing to escalate now")
    with pytest.raises(NotFound, match="^no complaint #99$"):
        calls.advance(db, 99, "reply", by="a", settings=S)


def test_closing_by_hand_after_the_reply(db):
    cid = opened(db)
    calls.advance(db, cid, "reply", by="b", at=at("2026-11-26 14:00"), settings=S)
    tid = calls.complaint(db, cid)["followup_task_id"]
    k = calls.advance(db, cid, "close", by="王经理", at=at("2026-11-30 09:00"), note="停机",
                      settings=S)
    assert steps(db, cid) == ("closed", None, None, "2026-11-26 14:00", "b", "2026-11-30 09:00",
                              "王经理", None, 0, 0, "2026-11-27 15:45")
    assert [e["action"] for e in k["events"]] == ["opened", "reply", "close"]
    assert db.conn.execute("SELECT state, state_reason, closed_at, updated_at FROM tasks"
                           " WHERE id=?", (tid,)).fetchone() == (
        "withdrawn", f"complaint #{cid} closed by 王经理", "2026-11-30 09:00", "2026-11-30 09:00")


def test_closing_leaves_a_follow_up_that_is_no_longer_open(db):
    cid = opened(db)
    calls.advance(db, cid, "reply", by="b", at=at("2026-11-26 14:00"), settings=S)
    tid = calls.complaint(db, cid)["followup_task_id"]
    db.conn.execute("UPDATE tasks SET state='unreachable' WHERE id=?", (tid,))
    calls.advance(db, cid, "close", by="b", at=at("2026-11-30 09:00"), settings=S)
    assert db.conn.execute("SELECT state FROM tasks WHERE id=?", (tid,)).fetchone() == (
        "unreachable",)


def test_the_follow_up_call_answers(db):
    cid = opened(db)
    calls.advance(db, cid, "reply", by="b", at=at("2026-11-26 14:00"), settings=S)
    tid = calls.complaint(db, cid)["followup_task_id"]   # due Friday 11-27
    r = calls.log_call(db, tid, "reached", S, by="小李", at=at("2026-11-27 10:00"),
                       resolution_ok=False)
    # Not satisfied: back to the manager, a working day from the call (Monday 10:00).
    assert r == {"call_id": 1, "task_id": tid, "outcome": "reached", "task_state": "done",
                 "task_reason": "reached on 2026-11-27 10:00", "complaint_id": cid,
                 "complaint_state": "escalated"}
    assert db.conn.execute("SELECT state, resolution, reply_by, closed_at FROM complaints"
                           ).fetchone() == ("escalated", "not_satisfied", "2026-11-30 10:00", None)
    assert db.conn.execute("SELECT resolution_ok FROM calls").fetchone() == (0,)
    assert calls.complaint(db, cid)["events"][-1] == {
        "at": "2026-11-27 10:00", "by": "小李", "action": "reopen",
        "note": "客户对处理结果不满意 (not satisfied with the resolution)"}
    calls.advance(db, cid, "reply", by="b", at=at("2026-11-27 14:00"), settings=S)
    second = calls.complaint(db, cid)["followup_task_id"]
    assert db.conn.execute("SELECT key FROM tasks WHERE id=?", (second,)).fetchone() == (
        f"complaint_followup:k{cid}:2",)
    r = calls.log_call(db, second, "reached", S, by="小李", at=at("2026-11-30 10:00"),
                       resolution_ok=True)
    assert (r["complaint_id"], r["complaint_state"]) == (cid, "closed")
    assert db.conn.execute("SELECT state, resolution, closed_at, closed_by FROM complaints"
                           ).fetchone() == ("closed", "satisfied", "2026-11-30 10:00", "小李")
    assert calls.complaint(db, cid)["events"][-1] == {
        "at": "2026-11-30 10:00", "by": "小李", "action": "close",
        "note": "客户对处理结果满意 (satisfied with the resolution)"}


def test_a_follow_up_on_a_complaint_closed_meanwhile_only_closes_the_call(db):
    cid = opened(db)
    calls.advance(db, cid, "reply", by="b", at=at("2026-11-26 14:00"), settings=S)
    tid = calls.complaint(db, cid)["followup_task_id"]
    db.conn.execute("UPDATE complaints SET state='closed'")
    r = calls.log_call(db, tid, "reached", S, by="a", at=at("2026-11-27 10:00"),
                       resolution_ok=False)
    assert "complaint_state" not in r and r["task_state"] == "done"
    assert db.conn.execute("SELECT resolution FROM complaints").fetchone() == (None,)
    with pytest.raises(UsageError) as e:
        calls.log_call(db, tid, "busy", S, by="a", at=at("2026-11-27 11:00"))
    assert "is done" in str(e.value)


# --------------------------------------------------------------------------- overdue marks

K = {"state": "open", "escalate_by": "2026-11-26 15:45", "reply_by": "2026-11-27 15:45"}


@pytest.mark.parametrize(("k", "now", "marks"), [
    (K, "2026-11-26 15:45", []),
    (K, "2026-11-26 15:46", ["escalation"]),
    (K, "2026-11-27 15:45", ["escalation"]),
    (K, "2026-11-27 15:46", ["escalation", "reply"]),
    ({**K, "state": "escalated"}, "2026-11-27 15:45", []),
    ({**K, "state": "escalated"}, "2026-11-27 15:46", ["reply"]),
    ({**K, "state": "replied"}, "2026-12-27 09:00", []),
    ({**K, "state": "replied", "late_escalation": 1, "late_reply": 0}, "2026-12-27 09:00",
     ["escalation"]),
    ({**K, "state": "closed", "late_escalation": 0, "late_reply": 1}, "2026-11-26 09:00",
     ["reply"]),
])
def test_overdue_marks_a_minute_either_side(k, now, marks):
    assert calls.overdue_marks(k, at(now)) == marks


def test_complaints_are_listed_most_late_first_then_newest(db):
    # Escalation deadlines: Thursday 10:30 -> Thursday 15:45; Wednesday 10:30 -> Wednesday
    # 15:45; Thursday 16:00 -> Friday 10:45 (2 h + 1.75 h); Thursday 17:00 -> Friday 11:45.
    a = opened(db, "2026-11-26 10:30")
    b = opened(db, "2026-11-25 10:30")
    c = opened(db, "2026-11-26 16:00")
    d = opened(db, "2026-11-26 17:00")
    e = opened(db, "2026-11-25 10:30")
    closed = opened(db, "2026-11-20 10:30")
    calls.advance(db, closed, "reply", by="b", at=at("2026-11-20 11:00"), settings=S)
    calls.advance(db, closed, "close", by="b", at=at("2026-11-23 11:00"), settings=S)
    now = at("2026-11-27 09:00")
    listed = calls.list_complaints(db, now)
    # Late: b and e (Wednesday 15:45, by id), then a (Thursday 15:45); then on time,
    # newest first: d, c.
    assert [k["id"] for k in listed] == [b, e, a, d, c]
    assert [k["overdue"] for k in listed] == [["escalation", "reply"], ["escalation", "reply"],
                                              ["escalation"], [], []]
    assert listed[0]["customer_name"] == "张伟" and listed[0]["followup_task_id"] is None
    everything = calls.list_complaints(db, now, include_closed=True)
    assert [k["id"] for k in everything] == [b, e, a, d, c, closed]


# --------------------------------------------------------------------------- business hours


def test_a_day_without_lunch_and_hours_that_are_not_times(db):
    none = copy.deepcopy(S)
    none["complaints"]["lunch_start"] = ""
    # 9 h a day: Thursday 10:30 + 4.5 h = 15:00; the reply 9 h later, Friday 15:00.
    wc = __import__("crmcli.planner", fromlist=["work_calendar"]).work_calendar(none)
    assert calls.deadlines(at("2026-11-26 10:30"), none, wc) == (
        at("2026-11-26 15:00"), at("2026-11-27 15:00"))
    bad = copy.deepcopy(S)
    bad["complaints"]["day_end"] = "6pm"
    with pytest.raises(UsageError) as e:
        calls.deadlines(at("2026-11-26 10:30"), bad, wc)
    assert str(e.value) == "[complaints] business hours must be times like 09:00"


def test_categories_and_severities(db):
    assert calls.check_category(None, S) == "其他"
    assert calls.check_category("  ", S) == "其他"
    assert calls.check_category(" 价格 ", S) == "价格"
    own = copy.deepcopy(S)
    own["complaints"]["categories"] = ["洗车", "价格"]
    with pytest.raises(UsageError) as e:
        calls.check_category(None, own)
    assert str(e.value) == "a complaint needs a category: one of 洗车, 价格"
    with pytest.raises(UsageError) as e:
        calls.check_category("配件", own)
    assert str(e.value) == ("complaint category '配件' is not in the list: 洗车, 价格"
                            " (the list is [complaints] categories in the settings)")
    assert calls.check_severity(None) == "normal"
    assert calls.check_severity(" SERIOUS ") == "serious"
    assert calls.check_severity("重大") == "major"
    assert calls.check_severity("一般") == "normal"
    with pytest.raises(UsageError) as e:
        calls.check_severity("急")
    assert str(e.value) == ("severity '急': use one of normal (一般), serious (严重),"
                            " major (重大)")


# --------------------------------------------------------------------------- actions


def action_row(db, a):
    return db.conn.execute(
        "SELECT text, owner, deadline, state, kind, category, report_month, complaint_id,"
        " created_at, created_by, done_at, done_by, note, metric, effect_before,"
        " effect_before_period, effect_after, effect_after_period FROM actions WHERE id=?",
        (a,)).fetchone()


def test_an_action_as_added_and_as_finished(db):
    cid = opened(db)
    a = calls.add_action(db, "价格公示", "王经理", date(2026, 12, 1), by="gm", kind="preventive",
                         category="价格", month="2026-10", complaint_id=cid,
                         at=at("2026-11-05 09:00"))
    assert action_row(db, a) == ("价格公示", "王经理", "2026-12-01", "open", "preventive", "价格",
                                 "2026-10", cid, "2026-11-05 09:00", "gm", None, None, None,
                                 None, None, None, None, None)
    r = calls.finish_action(db, a, by="王经理", note="已公示", at=at("2026-11-20 17:00"),
                            settings=S)
    # No metric: nothing to measure, even with the settings at hand.
    assert r == {"action_id": a, "metric": None, "after": None, "after_period": None}
    assert action_row(db, a)[3:4] + action_row(db, a)[10:13] == (
        "done", "2026-11-20 17:00", "王经理", "已公示")
    with pytest.raises(UsageError, match=f"^action #{a} is already done$"):
        calls.finish_action(db, a, by="x")


def test_a_metric_without_settings_keeps_no_figures(db):
    a = calls.add_action(db, "x", "y", date(2026, 12, 1), by="gm", metric="performed_rate",
                         at=at("2026-11-05 09:00"))
    assert action_row(db, a)[13:16] == ("performed_rate", None, None)
    r = calls.finish_action(db, a, by="y", at=at("2026-11-20 17:00"))
    assert r == {"action_id": a, "metric": "performed_rate", "after": None, "after_period": None}


@pytest.mark.filterwarnings("ignore::crmcli.calendar.CalendarFallbackWarning")
def test_an_action_on_january_1900_reads_that_months_report_alone(db):
    # (1900 has no official working-day calendar: the deadlines' warning is expected.)
    # January 1900 is the first month a day can name (limits: 1900-01-01 to 2100-12-31).
    # An action's "before" and "after" are figures of one month's report; its comparison
    # with the month before (December 1899, out of range) is not needed to read them.
    opened(db, when="1900-01-10 10:00", customer=False)
    a = calls.add_action(db, "x", "y", date(1900, 1, 31), by="gm", month="1900-01",
                         metric="complaints_opened", at=at("1900-01-15 09:00"), settings=S)
    # One complaint opened in the month (none with a task): before = 1.
    assert action_row(db, a)[13:16] == ("complaints_opened", 1, "1900-01")
    opened(db, when="1900-01-18 10:00", customer=False)
    r = calls.finish_action(db, a, by="y", at=at("1900-01-20 17:00"), settings=S)
    # Closed on 01-20: January so far holds both complaints (01-10 and 01-18).
    assert r == {"action_id": a, "metric": "complaints_opened", "after": 2,
                 "after_period": "1900-01"}
    assert action_row(db, a)[16:18] == (2, "1900-01")


def test_an_action_is_approved_once_by_its_number(db):
    a = calls.add_action(db, "x", "y", date(2026, 12, 1), by="gm", at=at("2026-11-05 09:00"))
    calls.approve_action(db, a, by="服务经理", at=at("2026-11-06 09:00"))
    with pytest.raises(UsageError) as e:
        calls.approve_action(db, a, by="x")
    assert str(e.value) == f"action #{a} was approved on 2026-11-06 09:00"
    b = calls.add_action(db, "x", "y", date(2026, 12, 1), by="gm", at=at("2026-11-05 09:00"))
    calls.finish_action(db, b, by="y", at=at("2026-11-07 09:00"))
    with pytest.raises(UsageError) as e:
        calls.approve_action(db, b, by="x")
    assert str(e.value) == f"action #{b} is already done"


def test_an_action_is_refused_before_anything_is_written(db):
    with pytest.raises(UsageError, match="^an action is corrective or preventive$"):
        calls.add_action(db, "x", "y", date(2026, 12, 1), by="gm", kind="other")
    with pytest.raises(UsageError, match=r"^--month '2026-13': use YYYY-MM \(2026-11\), 2026/11,"
                                         r" 2026年11月 or the month alone \(11\)$"):
        calls.add_action(db, "x", "y", date(2026, 12, 1), by="gm", month="2026-13")
    with pytest.raises(UsageError, match="^--month 1800-01-01 is out of range"):
        calls.add_action(db, "x", "y", date(2026, 12, 1), by="gm", month="1800-01")
    with pytest.raises(NotFound, match="^no complaint #99$"):
        calls.add_action(db, "x", "y", date(2026, 12, 1), by="gm", complaint_id=99)
    for fn in (calls.approve_action, calls.finish_action):
        with pytest.raises(NotFound, match="^no action #99$"):
            fn(db, 99, by="x")
    assert db.conn.execute("SELECT count(*) FROM actions").fetchone() == (0,)


def test_actions_overdue_first_by_days_late(db):
    def add(deadline):
        return calls.add_action(db, "x", "y", date.fromisoformat(deadline), by="gm",
                                at=at("2026-11-01 09:00"))

    later, late6, late1, today = (add("2026-11-30"), add("2026-11-20"), add("2026-11-25"),
                                  add("2026-11-26"))
    done = add("2026-11-10")
    calls.finish_action(db, done, by="y", at=at("2026-11-11 09:00"))
    day = date(2026, 11, 26)
    listed = calls.list_actions(db, day)
    # 11-26 minus 11-20 is 6 days; minus 11-25 one day; due today is not late yet.
    assert [(a["id"], a["overdue_days"]) for a in listed] == [
        (late6, 6), (late1, 1), (today, 0), (later, 0)]
    # A done action is never overdue, however old its deadline: it sorts with the rest.
    listed = calls.list_actions(db, day, include_done=True)
    assert [(a["id"], a["overdue_days"]) for a in listed] == [
        (late6, 6), (late1, 1), (done, 0), (today, 0), (later, 0)]


# --------------------------------------------------------------------------- the call card


def test_the_call_card(db):
    from crmcli import planner

    c = store.customer(db, "张伟", mobile="13800000001", gender="M", preferred_phone="13900000000",
                       preferred_call_time="晚上", notes="老客户")
    v = store.vehicle(db, c, plate="粤B12345", model="卡罗拉")
    store.order(db, v, c, "2026-11-23", "repair", order_no="RO1", service_type_raw="机修",
                items="换刹车片", total_fen=50000, advisor="陈")
    store.order(db, v, c, "2026-10-01", "maintenance", order_no="RO0")
    planner.plan(db, date(2026, 11, 26), S)
    tid = db.conn.execute("SELECT id FROM tasks WHERE kind='post_repair'").fetchone()[0]
    calls.log_call(db, tid, "no_answer", S, by="a", at=at("2026-11-26 10:00"), note="没人接")
    calls.log_call(db, tid, "busy", S, by="a", at=at("2026-11-27 10:00"))
    card = calls.call_card(db, tid)
    assert (card["task"]["id"], card["task"]["name"], card["task"]["mobile"]) == (
        tid, "张伟", "13800000001")
    assert card["customer"] == ("张伟", "M", "13800000001", "13900000000", "晚上", "老客户")
    assert card["vehicles"] == [("粤B12345", "卡罗拉")]
    assert card["last_order"] == ("RO1", "2026-11-23", "机修", "换刹车片", 50000, "陈")
    assert card["previous_calls"] == [("2026-11-26 10:00", "no_answer", "没人接"),
                                      ("2026-11-27 10:00", "busy", None)]
    assert card["greeting"] == "张先生"
    db.conn.execute("UPDATE customers SET name=''")
    assert calls.call_card(db, tid)["greeting"] == ""
    with pytest.raises(NotFound, match="^no task #99; see `crmcli today` for the ids$"):
        calls.call_card(db, 99)


def test_an_actions_month_is_read_as_typed(db):
    # As stats --month: '2026年10月' is stored as 2026-10; '10' alone is the last October
    # up to the day the action is added.
    a = calls.add_action(db, "x", "y", date(2026, 12, 1), by="gm", month="2026年10月",
                         at=at("2026-11-05 09:00"))
    b = calls.add_action(db, "x", "y", date(2026, 12, 1), by="gm", month="12",
                         at=at("2026-11-05 09:00"))
    assert [action_row(db, i)[6] for i in (a, b)] == ["2026-10", "2025-12"]
