"""Complaints followed to the end, actions with their effect, why lost customers left."""

from __future__ import annotations

import copy
from datetime import date, datetime

import pytest
import store

from crmcli import calls, planner, stats
from crmcli.errors import UsageError
from crmcli.settings import DEFAULTS

DAY = date(2026, 11, 26)  # Thursday
S = copy.deepcopy(DEFAULTS)
S["planning"]["contact_window_days"] = 0


def at(s):
    return datetime.fromisoformat(s)


def post_repair_task(db):
    c = store.customer(db, "张伟", gender="M")
    v = store.vehicle(db, c)
    store.order(db, v, c, "2026-11-23", "repair")
    planner.plan(db, DAY, S)
    return db.conn.execute("SELECT id FROM tasks WHERE kind='post_repair'").fetchone()[0], c


def opened_from_a_call(db, **kw):
    tid, c = post_repair_task(db)
    r = calls.log_call(db, tid, "reached", S, by="小李", at=at("2026-11-26 10:30"),
                       complaint="异响未修好", category="维修质量", **kw)
    return r["complaint_id"], c


def followup(db, cid):
    return db.conn.execute("SELECT t.id, t.kind, t.due_date, t.channel, t.state, t.customer_id"
                           " FROM complaints k JOIN tasks t ON t.id = k.followup_task_id"
                           " WHERE k.id=?", (cid,)).fetchone()


def test_an_unknown_category_is_refused_with_the_list(db):
    tid, c = post_repair_task(db)
    with pytest.raises(UsageError, match="not in the list: 服务态度, 维修质量, 维修时间, 价格"):
        calls.log_call(db, tid, "reached", S, by="a", complaint="x", category="洗车")
    # Refused before anything is written: the call is not logged either.
    assert db.conn.execute("SELECT count(*) FROM calls").fetchone()[0] == 0
    with pytest.raises(UsageError, match="not in the list"):
        calls.add_complaint(db, c, "维修", "x", S, by="a")
    own = copy.deepcopy(S)
    own["complaints"]["categories"] = ["洗车", "其他"]
    k = calls.add_complaint(db, c, "洗车", "没洗干净", own, by="a", at=at("2026-11-26 10:00"))
    assert k["category"] == "洗车"
    # No category given: 其他 while the list has it.
    assert calls.add_complaint(db, c, None, "x", S, by="a")["category"] == "其他"


def test_severity_in_chinese_or_english(db):
    cid, c = opened_from_a_call(db, severity="严重")
    assert calls.complaint(db, cid)["severity"] == "serious"
    assert calls.add_complaint(db, c, "价格", "x", S, by="a", severity="major")["severity"] == "major"
    assert calls.add_complaint(db, c, "价格", "x", S, by="a")["severity"] == "normal"
    with pytest.raises(UsageError, match="normal \\(一般\\), serious \\(严重\\), major \\(重大\\)"):
        calls.add_complaint(db, c, "价格", "x", S, by="a", severity="urgent")


def test_reply_deadline_counts_from_the_escalation(db):
    cid, _ = opened_from_a_call(db)
    # Opened Thursday 10:30: escalate by 15:45; the reply, until escalated, by Friday 15:45.
    k = calls.complaint(db, cid)
    assert (k["escalate_by"], k["reply_by"]) == ("2026-11-26 15:45", "2026-11-27 15:45")
    # Escalated on time at 11:00: the manager's working day runs to Friday 11:00.
    calls.advance(db, cid, "escalate", by="小李", at=at("2026-11-26 11:00"), settings=S)
    k = calls.complaint(db, cid)
    assert (k["reply_by"], k["late_escalation"]) == ("2026-11-27 11:00", 0)


def test_late_escalation_moves_the_reply_deadline_and_keeps_its_mark(db):
    cid, _ = opened_from_a_call(db)
    # Escalated at 16:00, a quarter of an hour late: reply by Friday 16:00.
    calls.advance(db, cid, "escalate", by="小李", at=at("2026-11-26 16:00"), settings=S)
    k = calls.complaint(db, cid)
    assert (k["reply_by"], k["late_escalation"]) == ("2026-11-27 16:00", 1)
    assert calls.overdue_marks(k, at("2026-11-26 16:30")) == ["escalation"]
    # Answered in time: the escalation mark stays, no reply mark.
    calls.advance(db, cid, "reply", by="王经理", at=at("2026-11-27 15:59"), settings=S)
    k = calls.complaint(db, cid)
    assert calls.overdue_marks(k, at("2026-12-10 09:00")) == ["escalation"]
    assert [x["id"] for x in calls.list_complaints(db, at("2026-12-10 09:00"))] == [cid]


def test_a_reply_one_minute_late_is_marked_and_one_on_the_minute_is_not(db):
    late, _ = opened_from_a_call(db)
    calls.advance(db, late, "escalate", by="a", at=at("2026-11-26 15:00"), settings=S)
    calls.advance(db, late, "reply", by="b", at=at("2026-11-27 15:01"), settings=S)
    k = calls.complaint(db, late)
    assert (k["late_escalation"], k["late_reply"]) == (0, 1)
    assert calls.overdue_marks(k, at("2026-11-27 15:02")) == ["reply"]
    c = k["customer_id"]
    on_time = calls.add_complaint(db, c, "价格", "x", S, by="a", at=at("2026-11-26 10:30"))["id"]
    calls.advance(db, on_time, "escalate", by="a", at=at("2026-11-26 15:00"), settings=S)
    calls.advance(db, on_time, "reply", by="b", at=at("2026-11-27 15:00"), settings=S)
    assert calls.complaint(db, on_time)["late_reply"] == 0


def test_a_reply_plans_the_follow_up_call_and_satisfied_closes_the_complaint(db):
    cid, c = opened_from_a_call(db)
    calls.advance(db, cid, "escalate", by="小李", at=at("2026-11-26 11:00"), settings=S)
    calls.advance(db, cid, "reply", by="王经理", at=at("2026-11-27 10:00"), settings=S)
    tid, kind, due, channel, state, customer = followup(db, cid)
    # Friday's reply: the follow-up call is due the next working day, Monday.
    assert (kind, due, channel, state, customer) == ("complaint_followup", "2026-11-30", "call",
                                                     "open", c)
    items = planner.today_list(db, date(2026, 11, 30), S)["tasks"]
    assert tid in [i["id"] for i in items]
    with pytest.raises(UsageError, match="--satisfied or --not-satisfied"):
        calls.log_call(db, tid, "reached", S, by="小李", at=at("2026-11-30 10:00"))
    r = calls.log_call(db, tid, "reached", S, by="小李", at=at("2026-11-30 10:00"),
                       resolution_ok=True)
    assert (r["complaint_id"], r["complaint_state"], r["task_state"]) == (cid, "closed", "done")
    k = calls.complaint(db, cid)
    assert (k["state"], k["closed_at"], k["resolution"]) == ("closed", "2026-11-30 10:00",
                                                             "satisfied")
    assert [e["action"] for e in k["events"]] == ["opened", "escalate", "reply", "close"]
    # The follow-up is a call of November's report: reached and answered, so successful.
    fu = stats.report(db, S, month="2026-11")["callbacks"]["by_kind"]["complaint_followup"]
    assert (fu["due"], fu["performed"], fu["successful"]) == (1, 1, 1)


def test_not_satisfied_sends_it_back_with_a_new_deadline_and_the_late_mark_survives(db):
    cid, _ = opened_from_a_call(db)
    calls.advance(db, cid, "escalate", by="a", at=at("2026-11-26 11:00"), settings=S)
    calls.advance(db, cid, "reply", by="b", at=at("2026-11-27 11:30"), settings=S)  # late
    tid = followup(db, cid)[0]
    calls.log_call(db, tid, "reached", S, by="a", at=at("2026-11-30 10:00"), resolution_ok=False)
    k = calls.complaint(db, cid)
    assert (k["state"], k["resolution"], k["reply_by"], k["late_reply"]) == (
        "escalated", "not_satisfied", "2026-12-01 10:00", 1)
    # Answered again in time, then satisfied: closed, still marked late for the first reply.
    calls.advance(db, cid, "reply", by="b", at=at("2026-11-30 16:00"), settings=S)
    second = followup(db, cid)
    assert second[0] != tid and second[2] == "2026-12-01"
    calls.log_call(db, second[0], "reached", S, by="a", at=at("2026-12-01 10:00"),
                   resolution_ok=True)
    k = calls.complaint(db, cid)
    assert (k["state"], k["resolution"]) == ("closed", "satisfied")
    assert calls.overdue_marks(k, at("2026-12-20 09:00")) == ["reply"]


def test_closing_by_hand_withdraws_the_follow_up(db):
    cid, _ = opened_from_a_call(db)
    calls.advance(db, cid, "reply", by="b", at=at("2026-11-26 14:00"), settings=S)
    tid = followup(db, cid)[0]
    calls.advance(db, cid, "close", by="b", at=at("2026-11-30 09:00"), note="客户电话停机",
                  settings=S)
    assert db.conn.execute("SELECT state FROM tasks WHERE id=?", (tid,)).fetchone()[0] == "withdrawn"


def test_answers_and_reasons_belong_to_their_own_kind_of_call(db):
    tid, _ = post_repair_task(db)
    with pytest.raises(UsageError, match="not a complaint follow-up"):
        calls.log_call(db, tid, "reached", S, by="a", resolution_ok=True)
    with pytest.raises(UsageError, match="not a recovery call"):
        calls.log_call(db, tid, "reached", S, by="a", lost_reason="价格")
    with pytest.raises(UsageError, match="need the customer reached"):
        calls.log_call(db, tid, "no_answer", S, by="a", lost_reason="价格")


def recovery_task(db):
    c = store.customer(db, "李娜", gender="F")
    tid = db.conn.execute(
        "INSERT INTO tasks (key, kind, customer_id, due_date, expires_on, channel, weight, reason,"
        " planned_at, updated_at) VALUES ('recovery:c1', 'recovery', ?, '2026-11-26',"
        " '2026-12-26', 'call', 30, 'lost', 'x', 'x')", (c,)).lastrowid
    return tid, c


def test_a_recovery_call_records_why_the_customer_left(db):
    tid, _c = recovery_task(db)
    with pytest.raises(UsageError, match="not in the list: 价格, 距离远, 维修质量"):
        calls.log_call(db, tid, "reached", S, by="a", lost_reason="太贵")
    calls.log_call(db, tid, "reached", S, by="a", at=at("2026-11-26 10:00"), lost_reason="距离远")
    assert db.conn.execute("SELECT lost_reason FROM calls").fetchone()[0] == "距离远"


# --------------------------------------------------------------------------- actions


def test_an_action_is_approved_once_and_not_after_it_is_done(db):
    a = calls.add_action(db, "洗车工序复查", "王经理", date(2026, 11, 20), by="gm")
    calls.approve_action(db, a, by="服务经理", at=at("2026-11-06 09:00"))
    row = db.conn.execute("SELECT approved_at, approved_by FROM actions").fetchone()
    assert row == ("2026-11-06 09:00", "服务经理")
    with pytest.raises(UsageError, match="was approved on 2026-11-06 09:00"):
        calls.approve_action(db, a, by="x")
    b = calls.add_action(db, "培训", "李", date(2026, 11, 20), by="gm")
    calls.finish_action(db, b, by="李")
    with pytest.raises(UsageError, match="already done"):
        calls.approve_action(db, b, by="x")


def test_an_unknown_metric_is_refused_with_the_list(db):
    with pytest.raises(UsageError, match="use one of due, performed_rate, success_rate"):
        calls.add_action(db, "x", "y", date(2026, 11, 20), by="gm", metric="happiness")


def test_the_effect_is_filled_in_from_the_report_before_and_after(db):
    c = store.customer(db)

    def due_call(day, called, reached):
        tid = db.conn.execute(
            "INSERT INTO tasks (key, kind, customer_id, due_date, expires_on, channel, weight,"
            " reason, state, planned_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (f"k{day}{called}{reached}", "post_repair", c, day, day, "call", 1, "r",
             "done" if called else "missed", day, day)).lastrowid
        if called:
            db.conn.execute("INSERT INTO calls (task_id, clerk, called_at, logged_at, outcome,"
                            " score_overall) VALUES (?,?,?,?,?,?)",
                            (tid, "a", day + " 10:00", day + " 10:00",
                             "reached" if reached else "no_answer", 5 if reached else None))

    # October: 4 due, 1 performed (25%). November to the 10th: 2 due, both performed.
    for d, called in (("2026-10-05", 1), ("2026-10-06", 0), ("2026-10-07", 0), ("2026-10-08", 0),
                      ("2026-11-03", 1), ("2026-11-09", 1)):
        due_call(d, called, 1)
    due_call("2026-11-20", 0, 0)  # due after the action closed: not in its "after"
    a = calls.add_action(db, "回访排班", "王经理", date(2026, 11, 30), by="gm",
                         metric="performed_rate", at=at("2026-11-02 09:00"), settings=S)
    row = db.conn.execute("SELECT effect_before, effect_before_period FROM actions").fetchone()
    assert row == (0.25, "2026-10")  # the month before it was added
    r = calls.finish_action(db, a, by="王经理", at=at("2026-11-10 17:00"), settings=S)
    assert (r["after"], r["after_period"]) == (1.0, "2026-11")
    # The next report lists it with its effect; an open one shows this report's figure.
    b = calls.add_action(db, "话术培训", "李", date(2026, 11, 25), by="gm", month="2026-10",
                         metric="success_rate", at=at("2026-11-05 09:00"), settings=S)
    rep = stats.report(db, S, month="2026-11")
    listed = {x["id"]: x for x in rep["actions"]["list"]}
    assert (listed[a]["state"], listed[a]["effect_before"], listed[a]["effect_after"]) == (
        "done", 0.25, 1.0)
    # b: October's success 1/4 before; November's 2/3 now (the 20th's call was never made).
    assert (listed[b]["state"], listed[b]["effect_before"], listed[b]["effect_after"],
            listed[b]["effect_after_period"], listed[b]["overdue"]) == (
        "open", 0.25, pytest.approx(2 / 3), "2026-11", True)


def test_the_lists_in_the_settings_are_checked(tmp_path):
    from crmcli import settings
    from crmcli.errors import SettingsError

    f = tmp_path / "s.toml"
    f.write_text('[complaints]\ncategories = []\n', encoding="utf-8")
    with pytest.raises(SettingsError, match="line 2.*complaints.categories must list words"):
        settings.load(f)
    f.write_text('[stats]\ncoach_question = "smile"\n', encoding="utf-8")
    with pytest.raises(SettingsError, match="line 2.*coach_question must be one of overall"):
        settings.load(f)
    f.write_text('[lost]\nreasons = ["价格", "停车难"]\n', encoding="utf-8")
    assert settings.load(f)["lost"]["reasons"] == ["价格", "停车难"]


def test_the_call_session_asks_the_follow_up_question(db):
    from typer.testing import CliRunner

    from crmcli.cli import app

    cid, _ = opened_from_a_call(db)
    calls.advance(db, cid, "reply", by="b", at=at("2026-11-26 14:00"), settings=S)
    assert followup(db, cid)[2] == "2026-11-27"
    # A wrong key is asked again; "n" is not satisfied: back to the manager.
    r = CliRunner().invoke(app, ["call", "--date", "2026-11-27"], input="r\nx\nn\n还是响\nq\n")
    assert r.exit_code == 0, r.output
    assert "Satisfied with the resolution? (y/n)" in r.stdout
    k = calls.complaint(db, cid)
    assert (k["state"], k["resolution"]) == ("escalated", "not_satisfied")


def test_a_step_done_twice_or_out_of_turn_says_so(db):
    from typer.testing import CliRunner

    from crmcli.cli import app

    cid, _ = opened_from_a_call(db)
    with pytest.raises(UsageError, match=f"complaint #{cid} has no reply yet: cannot close it"
                                         " before a reply"):
        calls.advance(db, cid, "close", by="b", at=at("2026-11-26 11:00"), settings=S)
    calls.advance(db, cid, "escalate", by="a", at=at("2026-11-26 11:00"), settings=S)
    # The same step again changes nothing, not even the events, and says it was done.
    again = calls.advance(db, cid, "escalate", by="c", at=at("2026-11-26 12:00"), settings=S)
    assert again["unchanged"] and again["escalated_by"] == "a"
    calls.advance(db, cid, "reply", by="b", at=at("2026-11-26 14:00"), settings=S)
    with pytest.raises(UsageError, match="was replied to on 2026-11-26 14:00: escalating comes"):
        calls.advance(db, cid, "escalate", by="a", settings=S)
    calls.advance(db, cid, "close", by="b", at=at("2026-11-30 09:00"), settings=S)
    events = len(calls.complaint(db, cid)["events"])
    assert calls.advance(db, cid, "close", by="c", at=at("2026-11-30 10:00"),
                         settings=S)["unchanged"]
    k = calls.complaint(db, cid)
    assert (len(k["events"]), k["closed_at"], k["closed_by"]) == (events, "2026-11-30 09:00", "b")
    with pytest.raises(UsageError, match="was closed on 2026-11-30 09:00: there is nothing left"):
        calls.advance(db, cid, "reply", by="b", settings=S)
    with pytest.raises(UsageError, match="cannot be escalated any more"):
        calls.advance(db, cid, "escalate", by="b", settings=S)

    runner = CliRunner()
    r = runner.invoke(app, ["complaint", "close", str(cid)])
    assert r.exit_code == 0, r.stderr
    assert r.stdout.strip() == (f"complaint #{cid} was already closed on 2026-11-30 09:00 by b;"
                                " nothing changed")
    r = runner.invoke(app, ["complaint", "reply", str(cid)], env={"CRMCLI_LANG": "zh_CN"})
    assert r.exit_code == 2 and r.stdout == ""
    assert f"投诉 #{cid} 已于 2026-11-30 09:00 关闭" in r.stderr


def test_an_action_deadline_before_the_day_it_is_added_needs_force():
    added = at("2026-11-26 17:59")
    assert calls.check_deadline(date(2026, 11, 26), added) == date(2026, 11, 26)
    assert calls.check_deadline(date(2026, 11, 27), added) == date(2026, 11, 27)
    with pytest.raises(UsageError, match="--deadline 2026-11-25 is already past"):
        calls.check_deadline(date(2026, 11, 25), added)
    assert calls.check_deadline(date(2026, 11, 25), added, force=True) == date(2026, 11, 25)


def test_a_follow_up_call_left_at_its_question_resumes_there(db):
    from typer.testing import CliRunner

    from crmcli.cli import app

    cid, _ = opened_from_a_call(db)
    calls.advance(db, cid, "reply", by="b", at=at("2026-11-26 14:00"), settings=S)
    tid = followup(db, cid)[0]
    runner = CliRunner()
    # Reached, then the input ends at "satisfied with the resolution?": kept, nothing saved.
    first = runner.invoke(app, ["call", "--date", "2026-11-27"], input="r\n")
    assert first.exit_code == 0 and f"Kept the answers so far for task #{tid}" in first.stdout
    assert db.conn.execute("SELECT count(*) FROM calls WHERE task_id=?", (tid,)).fetchone()[0] == 0
    # Next time it starts at that question; answered, then the input ends at the note.
    second = runner.invoke(app, ["call", "--date", "2026-11-27"], input="y\n")
    resumed = second.stdout.split("Resuming")[1]
    assert "Satisfied with the resolution?" in resumed and "Kept the answers" in resumed
    # Then only the note is left: the answer given before is not asked again.
    third = runner.invoke(app, ["call", "--date", "2026-11-27"], input="已解决\nq\n")
    resumed = third.stdout.split("Resuming")[1].split("Saved:")[0]
    assert "Satisfied with the resolution?" not in resumed and "Note" in resumed
    assert (calls.complaint(db, cid)["state"], calls.complaint(db, cid)["resolution"]) == (
        "closed", "satisfied")
    assert db.conn.execute("SELECT outcome, note FROM calls WHERE task_id=?", (tid,)
                           ).fetchone() == ("reached", "已解决")


def test_a_busy_call_left_at_the_call_back_time_resumes_there(db):
    from typer.testing import CliRunner

    from crmcli.cli import app

    cid, _ = opened_from_a_call(db)
    calls.advance(db, cid, "reply", by="b", at=at("2026-11-26 14:00"), settings=S)
    tid = followup(db, cid)[0]
    runner = CliRunner()
    first = runner.invoke(app, ["call", "--date", "2026-11-27"], input="b\n")
    assert f"Kept the answers so far for task #{tid}" in first.stdout
    again = runner.invoke(app, ["call", "--date", "2026-11-27"],
                          input="明天\n2026-11-28 15:30\nq\n")
    resumed = again.stdout.split("Resuming")[1].split("Saved:")[0]
    assert "busy" in resumed and "Call back when" in resumed
    assert "[r]eached" not in resumed  # the outcome is not asked again
    assert db.conn.execute("SELECT outcome FROM calls WHERE task_id=?", (tid,)).fetchone() == (
        "busy",)
    assert db.conn.execute("SELECT call_at FROM tasks WHERE id=?", (tid,)).fetchone()[0] \
        .startswith("2026-11-28 15:30")
