"""Logging calls: every outcome's effect; complaint deadlines on the official calendar."""

from __future__ import annotations

import copy
import json
from datetime import date, datetime, timedelta

import pytest
import store
from typer.testing import CliRunner

from crmcli import calls, planner
from crmcli.calendar import WorkCalendar
from crmcli.cli import app
from crmcli.errors import UsageError
from crmcli.settings import DEFAULTS

DAY = date(2026, 11, 26)  # Thursday
S = copy.deepcopy(DEFAULTS)
S["planning"]["contact_window_days"] = 0


def post_repair_task(db, **customer):
    c = store.customer(db, "张伟", gender="M", **customer)
    v = store.vehicle(db, c)
    store.order(db, v, c, "2026-11-23", "repair")
    planner.plan(db, DAY, S)
    return db.conn.execute("SELECT id FROM tasks WHERE kind='post_repair'").fetchone()[0], c


def task_row(db, tid):
    return db.conn.execute("SELECT state, attempts, next_try, call_at, state_reason FROM tasks"
                           " WHERE id=?", (tid,)).fetchone()


def at(s):
    return datetime.fromisoformat(s)


def test_reached_closes_the_task_keeps_scores_and_sends_thanks(db):
    tid, _ = post_repair_task(db)
    r = calls.log_call(db, tid, "reached", S, by="小李", at=at("2026-11-26 10:00"),
                       scores={"overall": 5, "advisor": 4}, note="满意", reminded=True)
    assert r["task_state"] == "done" and r["thank_you_sms"]
    assert task_row(db, tid)[0] == "done"
    row = db.conn.execute("SELECT clerk, outcome, score_overall, score_advisor, score_price,"
                          " note, reminded_maintenance FROM calls").fetchone()
    assert row == ("小李", "reached", 5, 4, None, "满意", 1)
    sms = db.conn.execute("SELECT channel, due_date, reason FROM tasks WHERE kind='thank_you_sms'"
                          ).fetchone()
    # Due the next morning: that day's SMS run went out before the call was made.
    assert sms[0] == "sms" and sms[1] == "2026-11-27" and "张先生" in sms[2]


def test_no_answer_retries_next_working_day_then_unreachable(db):
    tid, _ = post_repair_task(db)
    # Friday 2026-11-27: the next working day is Monday 2026-11-30.
    calls.log_call(db, tid, "no_answer", S, by="a", at=at("2026-11-27 10:00"))
    assert task_row(db, tid)[:3] == ("open", 1, "2026-11-30")
    assert planner.today_list(db, date(2026, 11, 27), S)["tasks"] == []
    assert [i["id"] for i in planner.today_list(db, date(2026, 11, 30), S)["tasks"]] == [tid]
    calls.log_call(db, tid, "no_answer", S, by="a", at=at("2026-11-30 10:00"))
    calls.log_call(db, tid, "no_answer", S, by="a", at=at("2026-12-01 10:00"))
    state, attempts, _, _, reason = task_row(db, tid)
    assert (state, attempts, reason) == ("unreachable", 3, "no answer after 3 tries")
    assert db.conn.execute("SELECT count(*) FROM calls WHERE task_id=?", (tid,)).fetchone()[0] == 3


def test_busy_is_due_at_the_time_the_customer_chose(db):
    tid, _ = post_repair_task(db)
    calls.log_call(db, tid, "busy", S, by="a", at=at("2026-11-26 10:00"),
                   call_at=at("2026-12-20 15:00"))
    assert task_row(db, tid)[:4] == ("open", 1, "2026-12-20", "2026-12-20 15:00")
    # Past the task's normal expiry (2026-12-08) it is still open: the customer chose the day.
    planner.plan(db, date(2026, 12, 20), S, as_of=date(2026, 12, 20))
    items = planner.today_list(db, date(2026, 12, 20), S)["tasks"]
    assert [(i["id"], i["call_at"]) for i in items] == [(tid, "2026-12-20 15:00")]


@pytest.mark.parametrize("outcome,state", [("wrong_number", "unreachable"),
                                           ("not_owner", "unreachable"),
                                           ("refused", "refused")])
def test_closing_outcomes(db, outcome, state):
    tid, cid = post_repair_task(db)
    calls.log_call(db, tid, outcome, S, by="a", at=at("2026-11-26 10:00"))
    assert task_row(db, tid)[0] == state
    consent = db.conn.execute("SELECT callback_consent FROM customers WHERE id=?",
                              (cid,)).fetchone()[0]
    assert consent == (0 if outcome == "refused" else 1)


def test_refusal_stops_future_calls(db):
    tid, cid = post_repair_task(db)
    calls.log_call(db, tid, "refused", S, by="a", at=at("2026-11-26 10:00"))
    v = db.conn.execute("SELECT id FROM vehicles WHERE customer_id=?", (cid,)).fetchone()[0]
    store.order(db, v, cid, "2026-11-25", "repair")
    planner.plan(db, date(2026, 11, 28), S, force=True)
    assert db.conn.execute("SELECT count(*) FROM tasks WHERE state='open' AND channel != 'sms'"
                           ).fetchone()[0] == 0


def test_reached_on_another_number_corrects_the_file(db):
    tid, cid = post_repair_task(db, mobile="13800000001")
    r = calls.log_call(db, tid, "reached", S, by="a", phone="139 1234 5678")
    assert r["phone_corrected"] == "13912345678"
    assert db.conn.execute("SELECT mobile FROM customers WHERE id=?", (cid,)).fetchone()[0] \
        == "13912345678"
    assert db.conn.execute("SELECT old_value, new_value FROM changes WHERE field='mobile'"
                           ).fetchone() == ("13800000001", "13912345678")


def test_bad_input_is_refused_and_nothing_is_written(db):
    tid, _ = post_repair_task(db)
    with pytest.raises(UsageError, match="outside the scale"):
        calls.log_call(db, tid, "reached", S, by="a", scores={"overall": 9})
    with pytest.raises(UsageError, match="need the customer reached"):
        calls.log_call(db, tid, "no_answer", S, by="a", scores={"overall": 3})
    with pytest.raises(UsageError, match="outcome"):
        calls.log_call(db, tid, "maybe", S, by="a")
    assert db.conn.execute("SELECT count(*) FROM calls").fetchone()[0] == 0
    calls.log_call(db, tid, "reached", S, by="a", at=at("2026-11-26 10:30"))
    with pytest.raises(UsageError, match="is done"):  # another call on a done task
        calls.log_call(db, tid, "reached", S, by="a", at=at("2026-11-26 11:00"))


def test_the_same_call_logged_twice_is_recorded_once(db):
    tid, _ = post_repair_task(db)
    first = calls.log_call(db, tid, "no_answer", S, by="a", at=at("2026-11-26 10:30"))
    again = calls.log_call(db, tid, "no_answer", S, by="a", at=at("2026-11-26 10:30"))
    assert "already_logged" not in first
    assert again["already_logged"] and again["call_id"] == first["call_id"]
    assert db.conn.execute("SELECT count(*) FROM calls").fetchone()[0] == 1
    # One minute later it is another attempt.
    calls.log_call(db, tid, "no_answer", S, by="a", at=at("2026-11-26 10:31"))
    assert db.conn.execute("SELECT count(*) FROM calls").fetchone()[0] == 2
    # A reached call repeated after the task is done: recorded once, not refused.
    done = calls.log_call(db, tid, "reached", S, by="a", at=at("2026-11-26 11:00"))
    assert calls.log_call(db, tid, "reached", S, by="a", at=at("2026-11-26 11:00")) == {
        **{k: done[k] for k in ("call_id", "task_id", "outcome", "task_state")},
        "task_reason": done.get("task_reason"), "already_logged": True,
        "called_at": "2026-11-26 11:00"}


def test_a_time_more_than_a_year_away_is_refused(db):
    tid, _ = post_repair_task(db)
    due = db.conn.execute("SELECT due_date FROM tasks WHERE id = ?", (tid,)).fetchone()[0]
    d = date.fromisoformat(due)
    with pytest.raises(UsageError, match="more than a year from the task's due day"):
        calls.log_call(db, tid, "no_answer", S, by="a", at=datetime(d.year + 2, 1, 1, 10))
    with pytest.raises(UsageError, match="within a year after the call"):
        calls.log_call(db, tid, "busy", S, by="a", at=at("2026-11-26 10:30"),
                       call_at=datetime(2099, 12, 31, 9))
    with pytest.raises(UsageError, match="out of range"):
        calls.parse_when("9999-12-31")
    with pytest.raises(UsageError, match="out of range"):
        calls.parse_when("0001-01-01 10:00")
    # 366 days after the call is still taken; 367 is not.
    with pytest.raises(UsageError, match="within a year after the call"):
        calls.log_call(db, tid, "busy", S, by="a", at=at("2026-11-26 10:30"),
                       call_at=at("2026-11-26 10:30") + timedelta(days=367))
    calls.log_call(db, tid, "busy", S, by="a", at=at("2026-11-26 10:30"),
                   call_at=at("2026-11-26 10:30") + timedelta(days=366))
    assert db.conn.execute("SELECT count(*) FROM calls").fetchone()[0] == 1


# Deadlines: business hours 09:00-12:00 and 13:30-18:00 (7.5 h a day); half a day 3.75 h.
# Facts from the State Council notices: 2025-10-01..08 off, 2025-09-28 (Sun) and 2025-10-11
# (Sat) worked; 2026-01-01..03 off, 2026-01-04 (Sun) worked; 2026-02-15..23 off (Spring
# Festival), 2026-02-14 (Sat) and 2026-02-28 (Sat) worked. The reply deadline counts one
# working day from the escalation (DOMAIN.md: the manager's day starts when the complaint
# reaches them); before the escalation, from its deadline.
@pytest.mark.parametrize("opened,escalate_by,reply_by", [
    ("2026-11-26 10:30", "2026-11-26 15:45", "2026-11-27 15:45"),  # an ordinary Thursday
    ("2026-11-27 16:00", "2026-11-30 10:45", "2026-12-01 10:45"),  # over a weekend
    ("2025-09-30 16:00", "2025-10-09 10:45", "2025-10-10 10:45"),  # over National Day
    # Saturday 2025-09-27 is off; the Sunday after works: 09:00-12:00 + 0.75 h after lunch.
    ("2025-09-27 11:00", "2025-09-28 14:15", "2025-09-29 14:15"),
    ("2025-12-31 17:00", "2026-01-04 11:45", "2026-01-05 11:45"),  # New Year, a working Sunday
    # Friday 15:00-18:00 is 3 h; the rest on the working Saturday.
    ("2026-02-13 15:00", "2026-02-14 09:45", "2026-02-24 09:45"),
    ("2026-02-14 17:00", "2026-02-24 11:45", "2026-02-25 11:45"),  # into the Spring Festival
    # Opened on a Saturday evening: counted from Monday's opening.
    ("2026-11-28 20:00", "2026-11-30 14:15", "2026-12-01 14:15"),
])
def test_complaint_deadlines_on_the_official_calendar(opened, escalate_by, reply_by):
    esc, rep = calls.deadlines(at(opened), S, WorkCalendar())
    assert (esc.isoformat(sep=" ", timespec="minutes"),
            rep.isoformat(sep=" ", timespec="minutes")) == (escalate_by, reply_by)


def test_complaint_from_a_call_and_its_steps(db):
    tid, cid = post_repair_task(db)
    r = calls.log_call(db, tid, "reached", S, by="小李", at=at("2026-11-26 10:30"),
                       complaint="异响未修好", category="维修质量")
    k = calls.complaint(db, r["complaint_id"])
    assert (k["state"], k["escalate_by"], k["reply_by"]) == ("open", "2026-11-26 15:45",
                                                              "2026-11-27 15:45")
    late = calls.list_complaints(db, at("2026-11-26 16:00"))
    assert late[0]["overdue"] == ["escalation"]
    calls.advance(db, k["id"], "escalate", by="小李", at=at("2026-11-26 15:00"))
    # Escalated at 15:00: the manager's working day runs to Friday 15:00.
    assert calls.complaint(db, k["id"])["reply_by"] == "2026-11-27 15:00"
    with pytest.raises(UsageError, match="before a reply"):
        calls.advance(db, k["id"], "close", by="王经理")
    calls.advance(db, k["id"], "reply", by="王经理", at=at("2026-11-27 09:30"), note="已安排返修")
    calls.advance(db, k["id"], "close", by="王经理", at=at("2026-11-28 10:00"))
    k = calls.complaint(db, k["id"])
    assert [(e["action"], e["by"]) for e in k["events"]] == [
        ("opened", "小李"), ("escalate", "小李"), ("reply", "王经理"), ("close", "王经理")]
    assert calls.list_complaints(db, at("2026-12-01 09:00")) == []


def test_actions_overdue_first(db):
    a1 = calls.add_action(db, "洗车工序复查", "王经理", date(2026, 11, 20), by="gm",
                          category="环境卫生", month="2026-10")
    a2 = calls.add_action(db, "培训接待话术", "李主管", date(2026, 12, 31), by="gm")
    items = calls.list_actions(db, DAY)
    assert [(a["id"], a["overdue_days"]) for a in items] == [(a1, 6), (a2, 0)]
    calls.finish_action(db, a1, by="王经理", note="已完成")
    assert [a["id"] for a in calls.list_actions(db, DAY)] == [a2]


def test_log_cli_both_ways_and_the_interactive_session_resumes(sample_db):
    runner = CliRunner()
    due = json.loads(runner.invoke(app, ["today", "--channel", "call", "--json"]).stdout)
    assert len(due) >= 4
    r = runner.invoke(app, ["log", str(due[-1]["id"]), "--outcome", "reached", "--overall", "5",
                            "--complaint", "等待时间太长", "--category", "维修时间", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["complaint_id"] == 1
    r = runner.invoke(app, ["log", "999999", "--outcome", "reached"])
    assert r.exit_code == 3 and r.stderr.startswith("crmcli: no task #999999")

    # A session: no answer on the first, skip the second, reached on the third, then quit.
    r = runner.invoke(app, ["call"], input="n\ns\nr\n5\n4\n\n\n\n\n\n很好\nq\n")
    assert r.exit_code == 0, r.output
    assert "Session ended: 2 calls saved, 1 skipped." in r.stdout
    from crmcli import db as dbmod

    database = dbmod.connect()
    logged = [t for (t,) in database.conn.execute("SELECT task_id FROM calls ORDER BY id")]
    assert logged[1:] == [due[0]["id"], due[2]["id"]]
    # The next session starts with what is still open: the skipped one is first again.
    r = runner.invoke(app, ["call"], input="q\n")
    assert f"task #{due[1]['id']}" in r.stdout and "0 calls saved" in r.stdout
    # End of input is as good as quitting: nothing lost, exit 0.
    r = runner.invoke(app, ["call"], input="")
    assert r.exit_code == 0


def test_a_call_covers_the_contacts_merged_into_it_and_they_stay_closed(db):
    s = copy.deepcopy(DEFAULTS)  # the default 3-day contact window merges
    c = store.customer(db)
    v = store.vehicle(db, c, insurance_compulsory_expiry="2026-12-27")  # due 11-27
    store.order(db, v, c, "2026-11-23", "repair")  # post-repair due 11-26, the lead
    planner.plan(db, DAY, s)
    lead, merged = (db.conn.execute(f"SELECT id FROM tasks WHERE kind='{k}'").fetchone()[0]
                    for k in ("post_repair", "insurance_compulsory"))
    calls.log_call(db, lead, "reached", s, by="a", at=at("2026-11-26 10:00"))
    assert task_row(db, merged)[0] == "done"
    # After the lead's window has passed, planning does not bring the covered one back.
    planner.plan(db, date(2026, 12, 9), s, as_of=date(2026, 12, 9))
    state, reason = db.conn.execute("SELECT state, state_reason FROM tasks WHERE id=?",
                                    (merged,)).fetchone()
    assert (state, reason) == ("done", f"covered by the call on task {lead}")


def test_sms_tasks_have_no_call_to_log(db):
    c = store.customer(db, birthday="1980-11-26")
    planner.plan(db, DAY, S)
    tid = db.conn.execute("SELECT id FROM tasks WHERE kind='birthday'").fetchone()[0]
    with pytest.raises(UsageError, match="is an SMS"):
        calls.log_call(db, tid, "no_answer", S, by="a")
    assert c
