"""Call outcomes pinned at their edges: the next working day, the last try, the score scale.

Working days from the State Council notice for 2026 (see test_calendar.py):
2026-11-27 is a Friday, so the next working day is Monday 2026-11-30;
2026-09-30 is the Wednesday before National Day, 2026-10-01..07 are off and
2026-10-10 (a Saturday) is worked.
"""

from __future__ import annotations

import copy
import warnings
from datetime import date, datetime, timedelta

import pytest
import store

from crmcli import calls, planner
from crmcli.errors import UsageError
from crmcli.settings import DEFAULTS

S = copy.deepcopy(DEFAULTS)
S["planning"]["contact_window_days"] = 0


def at(s: str) -> datetime:
    return datetime.fromisoformat(s)


def task(db, settled: str = "2026-11-23", day: date = date(2026, 11, 26)) -> int:
    c = store.customer(db, "张伟", gender="M")
    v = store.vehicle(db, c)
    store.order(db, v, c, settled, "repair")
    planner.plan(db, day, S)
    return db.conn.execute("SELECT id FROM tasks WHERE kind='post_repair'").fetchone()[0]


def row(db, tid):
    return db.conn.execute("SELECT state, attempts, next_try, call_at, state_reason FROM tasks"
                           " WHERE id=?", (tid,)).fetchone()


def test_busy_without_a_time_is_called_the_next_working_day_at_nine(db):
    tid = task(db)
    r = calls.log_call(db, tid, "busy", S, by="a", at=at("2026-11-27 10:00"))   # a Friday
    assert r == {"call_id": 1, "task_id": tid, "outcome": "busy", "task_state": "open",
                 "next_try": "2026-11-30 09:00"}
    assert row(db, tid) == ("open", 1, "2026-11-30", None,
                            "customer asked to be called 2026-11-30 09:00")


def test_busy_before_a_holiday_waits_for_the_first_working_day_after_it(db):
    tid = task(db, settled="2026-09-27", day=date(2026, 9, 30))
    calls.log_call(db, tid, "busy", S, by="a", at=at("2026-09-30 17:00"))
    assert row(db, tid)[2] == "2026-10-08"
    # The task stays open until then, past its own expiry.
    expires = db.conn.execute("SELECT expires_on FROM tasks WHERE id=?", (tid,)).fetchone()[0]
    assert expires == "2026-10-12"  # settled 09-27: due 09-30, open 12 days; 10-08 is earlier


def test_busy_with_a_time_keeps_the_time(db):
    tid = task(db)
    calls.log_call(db, tid, "busy", S, by="a", at=at("2026-11-27 10:00"),
                   call_at=at("2026-11-28 20:15"))
    assert row(db, tid) == ("open", 1, "2026-11-28", "2026-11-28 20:15",
                            "customer asked to be called 2026-11-28 20:15")


def test_no_answer_uses_a_try_a_day_and_the_last_try_closes(db):
    tid = task(db)
    assert S["planning"]["call_retries"] == 3
    calls.log_call(db, tid, "no_answer", S, by="a", at=at("2026-11-26 10:00"))
    assert row(db, tid) == ("open", 1, "2026-11-27", None, "no answer (1 of 3 tries)")
    # A second log the same day is kept but uses no try.
    r = calls.log_call(db, tid, "no_answer", S, by="a", at=at("2026-11-26 16:00"))
    assert (r["attempts"], r["used_try"], r["next_try"]) == (1, False, "2026-11-27")
    assert db.conn.execute("SELECT used_try FROM calls ORDER BY id").fetchall() == [(1,), (0,)]
    calls.log_call(db, tid, "no_answer", S, by="a", at=at("2026-11-27 10:00"))
    assert row(db, tid) == ("open", 2, "2026-11-30", None, "no answer (2 of 3 tries)")
    r = calls.log_call(db, tid, "no_answer", S, by="a", at=at("2026-11-30 10:00"))
    assert (r["task_state"], r["task_reason"]) == ("unreachable", "no answer after 3 tries")
    assert row(db, tid)[:2] == ("unreachable", 3)


@pytest.mark.parametrize(("outcome", "extra", "reason"), [
    ("reached", {}, "reached on 2026-11-26 10:05"),
    ("booked", {"appointment": at("2026-12-01 09:30")}, "booked for 2026-12-01 09:30"),
    ("done_elsewhere", {"elsewhere": "4S店A"}, "done elsewhere: 4S店A"),
    ("done_elsewhere", {}, "done elsewhere: the customer had it done elsewhere"),
    ("wrong_number", {}, "wrong number"),
    ("not_owner", {}, "the person reached is not the owner"),
    ("refused", {}, "the customer declines callbacks"),
])
def test_each_closing_outcome_and_its_reason(db, outcome, extra, reason):
    tid = task(db)
    r = calls.log_call(db, tid, outcome, S, by="a", at=at("2026-11-26 10:05"), **extra)
    assert r["task_reason"] == reason
    assert row(db, tid)[4] == reason and row(db, tid)[1] == 1


def test_scores_at_the_ends_of_the_scale_are_accepted(db):
    lo, hi = S["calls"]["score_min"], S["calls"]["score_max"]
    assert (lo, hi) == (1, 5)
    tid = task(db)
    for bad in (lo - 1, hi + 1):
        with pytest.raises(UsageError, match="outside the scale 1-5"):
            calls.log_call(db, tid, "reached", S, by="a", scores={"overall": bad})
    with pytest.raises(UsageError, match="unknown question"):
        calls.log_call(db, tid, "reached", S, by="a", scores={"mood": 3})
    calls.log_call(db, tid, "reached", S, by="a", at=at("2026-11-26 10:00"),
                   scores={"overall": lo, "price": hi, "advisor": None})
    assert db.conn.execute("SELECT score_overall, score_price, score_advisor FROM calls"
                           ).fetchone() == (1, 5, None)


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-11-27 15:00", datetime(2026, 11, 27, 15, 0)),
    ("2026-11-27T15:00", datetime(2026, 11, 27, 15, 0)),
    (" 2026-11-27 15:00:59 ", datetime(2026, 11, 27, 15, 0)),   # seconds dropped
    ("2026-11-27", datetime(2026, 11, 27, 9, 0)),               # a day alone: 09:00
])
def test_parse_when(text, expected):
    assert calls.parse_when(text) == expected


def test_parse_when_default_and_refusal():
    assert calls.parse_when(None) is None
    assert calls.parse_when(None, datetime(2026, 1, 1, 8, 0)) == datetime(2026, 1, 1, 8, 0)
    with pytest.raises(UsageError, match="is not a time like 2026-11-27 15:00"):
        calls.parse_when("明天下午")


@pytest.mark.parametrize(("said", "outcome"), [
    ("接通", "reached"), (" OK ", "reached"), ("未接", "no_answer"), ("no-answer", "no_answer"),
    ("忙", "busy"), ("later", "busy"), ("空号", "wrong_number"), ("拒绝", "refused"),
    ("非本人", "not_owner"), ("已预约", "booked"), ("已在别处", "done_elsewhere")])
def test_outcome_words(said, outcome):
    assert calls.normalise_outcome(said) == outcome


def test_an_unknown_outcome_names_the_known_ones():
    with pytest.raises(UsageError) as e:
        calls.normalise_outcome("maybe")
    assert str(e.value) == ("outcome 'maybe': use one of reached, no_answer, busy, wrong_number,"
                            " refused, not_owner, booked, done_elsewhere")


# --------------------------------------------------------------------------- what a call writes
# A post-repair callback for 张伟 (M), settled Monday 2026-11-23: due Thursday 2026-11-26
# (rules.py's docstring), one vehicle and one order.


def full_task(db, mobile: str = "13800000001", name: str = "张伟", gender: str = "M"):
    c = store.customer(db, name, mobile=mobile, gender=gender)
    v = store.vehicle(db, c)
    o = store.order(db, v, c, "2026-11-23", "repair")
    planner.plan(db, date(2026, 11, 26), S)
    tid = db.conn.execute("SELECT id FROM tasks WHERE kind='post_repair' AND customer_id=?",
                          (c,)).fetchone()[0]
    return tid, c, v, o


def test_a_reached_call_writes_every_column_and_says_what_happened(db):
    tid, c, v, o = full_task(db)
    r = calls.log_call(db, tid, " 接通 ", S, by="小李", at=at("2026-11-26 10:05"),
                       scores={"overall": 5, "advisor": 4, "quality": 3, "timeliness": 2,
                               "price": 1, "cleanliness": None},
                       note="很满意", phone="139 1234 5678", reminded=True,
                       complaint="等太久", category="维修时间", severity="严重")
    assert r == {"call_id": 1, "task_id": tid, "outcome": "reached", "task_state": "done",
                 "task_reason": "reached on 2026-11-26 10:05", "phone_corrected": "13912345678",
                 "complaint_id": 1, "thank_you_sms": True}
    logged = db.conn.execute(
        "SELECT task_id, customer_id, clerk, called_at, outcome, score_overall, score_advisor,"
        " score_quality, score_timeliness, score_price, score_cleanliness, note, call_back_at,"
        " corrected_phone, reminded_maintenance, complaint_id, appointment_at, used_try,"
        " lost_reason, resolution_ok, length(logged_at) FROM calls").fetchall()
    assert logged == [(tid, c, "小李", "2026-11-26 10:05", "reached", 5, 4, 3, 2, 1, None,
                       "很满意", None, "13912345678", 1, 1, None, 1, None, None, 16)]
    # The new number is the file's, from a call, and the merge key follows it.
    assert db.conn.execute("SELECT mobile, phone_kind, mobile_source, merge_key FROM customers"
                           ).fetchone() == ("13912345678", "mobile", "call", "m:13912345678:张伟")
    assert db.conn.execute("SELECT import_id, entity, entity_id, field, old_value, new_value,"
                           " by_user FROM changes").fetchall() == [
        (None, "customer", c, "mobile", "13800000001", "13912345678", "小李")]
    assert db.conn.execute("SELECT entity, entity_id, field, source, import_value, by_user"
                           " FROM field_sources").fetchall() == [
        ("customer", c, "mobile", "call", "13800000001", "小李")]
    # The complaint: opened Thursday 10:05. Half a working day is 3.75 h: 10:05-12:00 is
    # 1 h 55, the other 1 h 50 after lunch (13:30) ends at 15:20. The reply, one working
    # day (7.5 h) from there: 15:20-18:00 is 2 h 40, then Friday 09:00-12:00 3 h and
    # 1 h 50 from 13:30: Friday 15:20.
    assert db.conn.execute(
        "SELECT customer_id, task_id, call_id, category, text, owner, state, opened_at,"
        " opened_by, escalate_by, reply_by, severity FROM complaints").fetchall() == [
        (c, tid, 1, "维修时间", "等太久", None, "open", "2026-11-26 10:05", "小李",
         "2026-11-26 15:20", "2026-11-27 15:20", "serious")]
    assert db.conn.execute("SELECT complaint_id, at, by_user, action, note FROM complaint_events"
                           ).fetchall() == [(1, "2026-11-26 10:05", "小李", "opened", "等太久")]
    # The thank-you SMS goes out with the next morning's run: due and expiring Friday.
    assert db.conn.execute(
        "SELECT key, kind, customer_id, vehicle_id, order_id, due_date, expires_on, channel,"
        " weight, reason, state FROM tasks WHERE kind='thank_you_sms'").fetchall() == [
        (f"thank_you_sms:t{tid}", "thank_you_sms", c, v, o, "2026-11-27", "2026-11-27", "sms",
         15, "thank-you SMS: 感谢张先生的宝贵意见，本店竭诚为您服务。", "open")]


def test_no_thank_you_for_a_booked_call_nor_when_the_setting_is_off(db):
    tid, *_ = full_task(db)
    r = calls.log_call(db, tid, "booked", S, by="a", at=at("2026-11-26 10:05"),
                       appointment=at("2026-11-28 09:30"))
    assert "thank_you_sms" not in r
    off = copy.deepcopy(S)
    off["calls"]["thank_you_sms"] = False
    tid2, *_ = full_task(db, mobile="13800000002", name="李娜", gender="F")
    assert "thank_you_sms" not in calls.log_call(db, tid2, "reached", off, by="a",
                                                 at=at("2026-11-26 10:06"))
    assert db.conn.execute("SELECT count(*) FROM tasks WHERE kind='thank_you_sms'"
                           ).fetchone()[0] == 0


def test_the_thank_you_greets_no_one_by_title_when_the_file_has_no_name(db):
    # greeting('', 'M') alone would be '先生'; the SMS leaves the greeting out instead.
    tid, *_ = full_task(db, name="")
    calls.log_call(db, tid, "reached", S, by="a", at=at("2026-11-26 10:05"))
    assert db.conn.execute("SELECT reason FROM tasks WHERE kind='thank_you_sms'").fetchone() == (
        "thank-you SMS: 感谢的宝贵意见，本店竭诚为您服务。",)


def test_a_booked_call_stores_the_appointment(db):
    tid, *_ = full_task(db)
    r = calls.log_call(db, tid, "booked", S, by="a", at=at("2026-11-26 10:05"),
                       appointment=at("2026-11-28 09:30"))
    assert r == {"call_id": 1, "task_id": tid, "outcome": "booked", "task_state": "done",
                 "task_reason": "booked for 2026-11-28 09:30",
                 "appointment_at": "2026-11-28 09:30"}
    assert db.conn.execute("SELECT appointment_at FROM calls").fetchone() == ("2026-11-28 09:30",)
    assert db.conn.execute("SELECT appointment_at FROM tasks WHERE id=?", (tid,)).fetchone() == (
        "2026-11-28 09:30",)


def test_the_same_number_or_a_call_not_reached_leaves_the_file_alone(db):
    tid, *_ = full_task(db)
    # The number the file has already: nothing to correct.
    r = calls.log_call(db, tid, "no_answer", S, by="a", at=at("2026-11-26 10:05"),
                       phone="139 1234 5678")
    assert "phone_corrected" not in r
    assert db.conn.execute("SELECT corrected_phone FROM calls").fetchone() == ("13912345678",)
    assert db.conn.execute("SELECT mobile, mobile_source FROM customers").fetchone() == (
        "13800000001", None)
    r = calls.log_call(db, tid, "reached", S, by="a", at=at("2026-11-27 10:05"),
                       phone="13800000001")
    assert "phone_corrected" not in r
    assert db.conn.execute("SELECT count(*) FROM changes WHERE field='mobile'").fetchone() == (0,)
    with pytest.raises(UsageError, match="^phone '12': "):
        calls.log_call(db, tid, "reached", S, by="a", phone="12")


def test_a_refusal_is_an_opt_out_on_file_and_consent_is_withdrawn(db):
    tid, c, *_ = full_task(db)
    r = calls.log_call(db, tid, "refused", S, by="小李", at=at("2026-11-26 10:05"))
    assert (r["task_state"], r["task_reason"]) == ("refused", "the customer declines callbacks")
    assert db.conn.execute("SELECT customer_id, what, since, reason, by_user FROM optouts"
                           ).fetchall() == [(c, "call", "2026-11-26",
                                             f"refused on the call for task #{tid}", "小李")]
    assert db.conn.execute("SELECT callback_consent FROM customers").fetchone() == (0,)
    # The consent's change is the call's (by 'call'); the opt-out is the clerk's.
    assert db.conn.execute("SELECT entity, entity_id, field, old_value, new_value, by_user"
                           " FROM changes ORDER BY id").fetchall() == [
        ("customer", c, "callback_consent", "1", "0", "call"),
        ("customer", c, "optout", None, f"call: refused on the call for task #{tid}", "小李")]
    # A closed task names its state and why.
    with pytest.raises(UsageError) as e:
        calls.log_call(db, tid, "reached", S, by="a", at=at("2026-11-26 11:00"))
    assert str(e.value) == (f"task #{tid} is refused (the customer declines callbacks);"
                            " nothing to log")


def test_consent_already_withdrawn_is_not_logged_again(db):
    tid, *_ = full_task(db)
    db.conn.execute("UPDATE customers SET callback_consent=0")
    calls.log_call(db, tid, "refused", S, by="a", at=at("2026-11-26 10:05"))
    assert db.conn.execute("SELECT field FROM changes ORDER BY id").fetchall() == [("optout",)]


def test_a_closed_task_without_a_reason_and_an_sms_task_are_refused_by_name(db):
    tid, *_ = full_task(db)
    db.conn.execute("UPDATE tasks SET state='done', state_reason=NULL WHERE id=?", (tid,))
    with pytest.raises(UsageError) as e:
        calls.log_call(db, tid, "reached", S, by="a", at=at("2026-11-26 10:05"))
    assert str(e.value) == f"task #{tid} is done; nothing to log"
    db.conn.execute("UPDATE tasks SET state='open', channel='sms' WHERE id=?", (tid,))
    with pytest.raises(UsageError) as e:
        calls.log_call(db, tid, "reached", S, by="a", at=at("2026-11-26 10:05"))
    assert str(e.value) == f"task #{tid} is an SMS (post_repair); there is no call to log"


def test_a_repeated_call_answers_as_the_first(db):
    tid, *_ = full_task(db)
    calls.log_call(db, tid, "no_answer", S, by="a", at=at("2026-11-26 10:05"))
    assert calls.log_call(db, tid, "no_answer", S, by="a", at=at("2026-11-26 10:05")) == {
        "call_id": 1, "task_id": tid, "outcome": "no_answer", "task_state": "open",
        "task_reason": "no answer (1 of 3 tries)", "already_logged": True,
        "called_at": "2026-11-26 10:05"}


def test_the_year_check_is_pinned_a_minute_either_side(db):
    tid, *_ = full_task(db)   # due 2026-11-26 (00:00)
    year = timedelta(days=366)
    due = at("2026-11-26 00:00")
    for when in (due + year + timedelta(minutes=1), due - year - timedelta(minutes=1)):
        with pytest.raises(UsageError) as e:
            calls.log_call(db, tid, "no_answer", S, by="a", at=when)
        assert str(e.value) == (f"--at {when:%Y-%m-%d %H:%M} is more than a year from the"
                                " task's due day 2026-11-26: check the year")
    # Without --at the year is not checked (a call logged now is a call made now).
    call = at("2026-11-26 10:30")
    with pytest.raises(UsageError) as e:
        calls.log_call(db, tid, "busy", S, by="a", at=call, call_at=call - timedelta(minutes=1))
    assert str(e.value) == ("--call-at 2026-11-26 10:29 must fall within a year after the call"
                            " (2026-11-26 10:30): check the date")
    with pytest.raises(UsageError, match="^--appointment 2027-11-27 10:31 must fall"):
        calls.log_call(db, tid, "booked", S, by="a", at=call,
                       appointment=call + year + timedelta(minutes=1))
    calls.log_call(db, tid, "busy", S, by="a", at=due - year, call_at=due - year)
    calls.log_call(db, tid, "busy", S, by="a", at=due + year, call_at=due + year + year)
    assert db.conn.execute("SELECT call_back_at FROM calls ORDER BY id").fetchall() == [
        ("2025-11-25 00:00",), ("2028-11-27 00:00",)]


def test_a_lost_reason_is_one_of_the_list_trimmed(db):
    assert calls.check_lost_reason(None, S) is None
    assert calls.check_lost_reason("  ", S) is None
    assert calls.check_lost_reason(" 价格 ", S) == "价格"
    with pytest.raises(UsageError) as e:
        calls.check_lost_reason("太贵", S)
    assert str(e.value) == ("reason '太贵' is not in the list: 价格, 距离远, 维修质量, 服务态度,"
                            " 搬迁, 已卖车, 其他 (the list is [lost] reasons in the settings)")


def test_reasons_and_answers_need_the_customer_on_the_line(db):
    tid, *_ = full_task(db)
    for kw in ({"complaint": "x"}, {"resolution_ok": False}, {"scores": {"overall": 3}}):
        with pytest.raises(UsageError) as e:
            calls.log_call(db, tid, "busy", S, by="a", at=at("2026-11-26 10:05"), **kw)
        assert str(e.value) == ("scores, complaints, answers and reasons need the customer"
                                " reached (reached, booked or done_elsewhere)")
    with pytest.raises(UsageError) as e:
        calls.log_call(db, tid, "booked", S, by="a")
    assert str(e.value) == ("booked needs the appointment time, e.g. --appointment"
                            " '2026-12-01 09:00'")
    with pytest.raises(UsageError) as e:
        calls.log_call(db, tid, "reached", S, by="a", appointment=at("2026-11-28 09:00"))
    assert str(e.value) == "--appointment goes with --outcome booked"
    assert db.conn.execute("SELECT count(*) FROM calls").fetchone() == (0,)


def test_in_chinese_the_refusals_name_the_kind_and_the_state(db, monkeypatch):
    # English names an SMS kind by its key (scripts match it), Chinese by its name
    # (choices: post_repair is 修后回访, done is 已完成); the catalog's sentences.
    tid, *_ = full_task(db)
    monkeypatch.setenv("CRMCLI_LANG", "zh_CN")
    db.conn.execute("UPDATE tasks SET channel='sms' WHERE id=?", (tid,))
    with pytest.raises(UsageError) as e:
        calls.log_call(db, tid, "reached", S, by="a", at=at("2026-11-26 10:05"))
    assert str(e.value) == f"任务 #{tid} 是短信（修后回访）；没有通话可记录"
    db.conn.execute("UPDATE tasks SET channel='call', state='done', state_reason=NULL"
                    " WHERE id=?", (tid,))
    with pytest.raises(UsageError) as e:
        calls.log_call(db, tid, "reached", S, by="a", at=at("2026-11-26 10:05"))
    assert str(e.value) == f"任务 #{tid} 状态为 已完成；无需记录"


def test_a_second_no_answer_the_same_day_says_so_whole(db):
    tid, *_ = full_task(db)
    calls.log_call(db, tid, "no_answer", S, by="a", at=at("2026-11-26 10:00"))
    # Thursday's second try: nothing used, the next try still Friday 11-27.
    assert calls.log_call(db, tid, "no_answer", S, by="a", at=at("2026-11-26 16:00")) == {
        "call_id": 2, "task_id": tid, "outcome": "no_answer", "task_state": "open",
        "next_try": "2026-11-27", "attempts": 1, "used_try": False}


def test_a_refusal_gives_back_what_was_combined_into_the_call(db):
    tid, c, *_ = full_task(db)
    # A birthday SMS combined into the call, open until 12-05: it comes back on its own
    # (an SMS, so the opt-out of calls leaves it).
    sms = db.conn.execute(
        "INSERT INTO tasks (key, kind, customer_id, due_date, expires_on, channel, weight,"
        " reason, state, merged_into, planned_at, updated_at) VALUES ('birthday:t', 'birthday',"
        " ?, '2026-11-26', '2026-12-05', 'sms', 10, 'r', 'merged', ?, 'x', 'x')",
        (c, tid)).lastrowid
    r = calls.log_call(db, tid, "refused", S, by="a", at=at("2026-11-26 10:05"))
    assert r["released"] == 1
    assert db.conn.execute("SELECT state, state_reason FROM tasks WHERE id=?", (sms,)).fetchone() \
        == ("open", f"back on its own: task {tid} ended refused")


def test_due_calls_are_the_calls_of_the_day_not_its_messages_nor_later_times(db):
    tid, c, *_ = full_task(db)
    db.conn.execute(
        "INSERT INTO tasks (key, kind, customer_id, due_date, expires_on, channel, weight,"
        " reason, state, planned_at, updated_at) VALUES ('birthday:s', 'birthday', ?,"
        " '2026-11-26', '2026-11-30', 'sms', 10, 'r', 'open', 'x', 'x')", (c,))
    tasks, total = calls.due_calls(db, date(2026, 11, 26), S)
    assert ([t["id"] for t in tasks], total) == ([tid], 1)
    # The customer asked to be called at 15:00: not offered before then.
    calls.log_call(db, tid, "busy", S, by="a", at=at("2026-11-26 10:00"),
                   call_at=at("2026-11-26 15:00"))
    assert calls.due_calls(db, date(2026, 11, 26), S, now=at("2026-11-26 14:59"))[0] == []
    assert [t["id"] for t in calls.due_calls(db, date(2026, 11, 26), S,
                                             now=at("2026-11-26 15:00"))[0]] == [tid]


def test_the_call_list_of_new_years_eve_does_not_look_into_the_next_year(db, monkeypatch):
    # Thursday 2026-12-31 is the last working day of 2026; 2027's official calendar is not
    # in the package (its days off would be guessed, with a warning). The call list is the
    # day's calls alone, and looks at no day after it: nothing is said about 2027.
    from crmcli import calendar as cal

    c = store.customer(db, "张伟", gender="M")
    due, _new_years_day = (db.conn.execute(
        "INSERT INTO tasks (key, kind, customer_id, due_date, expires_on, channel, weight,"
        " reason, state, planned_at, updated_at) VALUES (?, 'recovery', ?, ?, '2027-01-31',"
        " 'call', 10, 'r', 'open', 'x', 'x')", (f"recovery:{d}", c, d)).lastrowid
        for d in ("2026-12-31", "2027-01-01"))
    monkeypatch.setattr(cal, "_warned_years", set())  # as in a new process
    with warnings.catch_warnings():
        warnings.simplefilter("error", cal.CalendarFallbackWarning)
        tasks, total = calls.due_calls(db, date(2026, 12, 31), S)
    # The call due on New Year's Day is not today's.
    assert ([t["id"] for t in tasks], total) == ([due], 1)


def test_times_refused_say_what_and_which(db):
    with pytest.raises(UsageError) as e:
        calls.parse_when("明天下午")
    assert str(e.value) == "the time: '明天下午' is not a time like 2026-11-27 15:00"
    with pytest.raises(UsageError) as e:
        calls.parse_when("2099-01-01", what="--at", past_only=True)
    assert str(e.value) == "--at: 2099-01-01 09:00 is in the future; give the time it happened"
    assert calls.parse_when("2026-01-01 08:00", past_only=True) == datetime(2026, 1, 1, 8, 0)


def test_a_score_refused_names_the_question_and_the_scale(db):
    tid, *_ = full_task(db)
    with pytest.raises(UsageError) as e:
        calls.log_call(db, tid, "reached", S, by="a", scores={"price": 6})
    assert str(e.value) == "score price=6 is outside the scale 1-5"
    with pytest.raises(UsageError) as e:
        calls.log_call(db, tid, "reached", S, by="a", scores={"mood": 3})
    assert str(e.value) == ("unknown question 'mood'; questions: overall, advisor, quality,"
                            " timeliness, price, cleanliness")


def test_a_number_corrected_on_a_call_to_whoever_brought_the_car_is_theirs(db):
    # The order names a contact (李娜, who brought the car); the post-repair call went to
    # her: the new number goes on the order, audited as the order's, the owner's stays.
    c = store.customer(db, "张伟", mobile="13800000001", gender="M")
    v = store.vehicle(db, c)
    o = store.order(db, v, c, "2026-11-23", "repair", contact_name="李娜",
                    contact_phone="13800000009")
    planner.plan(db, date(2026, 11, 26), S)
    tid = db.conn.execute("SELECT id FROM tasks WHERE kind='post_repair'").fetchone()[0]
    r = calls.log_call(db, tid, "reached", S, by="小李", at=at("2026-11-26 10:05"),
                       phone="13912345678")
    assert r["phone_corrected"] == "13912345678"
    assert db.conn.execute("SELECT contact_phone FROM repair_orders WHERE id=?", (o,)
                           ).fetchone() == ("13912345678",)
    assert db.conn.execute("SELECT entity, entity_id, field, old_value, new_value, by_user"
                           " FROM changes").fetchall() == [
        ("order", o, "contact_phone", "13800000009", "13912345678", "小李")]
    assert db.conn.execute("SELECT mobile FROM customers").fetchone() == ("13800000001",)


def test_a_booked_call_corrects_the_file_too(db):
    tid, c, *_ = full_task(db)
    r = calls.log_call(db, tid, "booked", S, by="a", at=at("2026-11-26 10:05"),
                       appointment=at("2026-11-28 09:30"), phone="13912345678")
    assert r["phone_corrected"] == "13912345678"
    assert db.conn.execute("SELECT mobile FROM customers WHERE id=?", (c,)).fetchone() == (
        "13912345678",)


def test_more_refusals_word_for_word(db):
    # An 8-character day that is not real is the day parser's refusal, not "not a time".
    with pytest.raises(UsageError) as e:
        calls.parse_when("20260230", what="--at")
    assert str(e.value) == "--at: '20260230' is not a date like 2026-11-26"
    with pytest.raises(UsageError) as e:
        calls.parse_when("1899-12-31 10:00", what="--at")
    assert str(e.value) == ("--at 1899-12-31 is out of range: use a day between 1900-01-01"
                            " and 2100-12-31")
    with pytest.raises(UsageError) as e:
        calls.check_deadline(date(2026, 11, 25), at("2026-11-26 10:00"))
    assert str(e.value) == ("--deadline 2026-11-25 is already past (on 2026-11-26); give a later"
                            " day, or --force to record it anyway")
    # A follow-up call reached without the answer.
    c = store.customer(db, "张伟", gender="M")
    k = calls.add_complaint(db, c, "价格", "贵", S, by="a", at=at("2026-11-26 10:30"))
    calls.advance(db, k["id"], "reply", by="b", at=at("2026-11-26 14:00"), settings=S)
    tid = calls.complaint(db, k["id"])["followup_task_id"]
    with pytest.raises(UsageError) as e:
        calls.log_call(db, tid, "reached", S, by="a", at=at("2026-11-27 10:00"))
    assert str(e.value) == (f"task #{tid} asks whether the customer is satisfied with the"
                            " resolution: say --satisfied or --not-satisfied")


def test_due_calls_up_to_the_limit_and_how_many_in_all(db):
    full_task(db)
    full_task(db, mobile="13800000002", name="李娜", gender="F")
    tasks, total = calls.due_calls(db, date(2026, 11, 26), S, limit=1)
    assert (len(tasks), total) == (1, 2)


def test_a_booked_call_to_whoever_brought_the_car_corrects_their_number(db):
    c = store.customer(db, "张伟", mobile="13800000001", gender="M")
    v = store.vehicle(db, c)
    o = store.order(db, v, c, "2026-11-23", "repair", contact_name="李娜",
                    contact_phone="13800000009")
    planner.plan(db, date(2026, 11, 26), S)
    tid = db.conn.execute("SELECT id FROM tasks WHERE kind='post_repair'").fetchone()[0]
    calls.log_call(db, tid, "booked", S, by="a", at=at("2026-11-26 10:05"),
                   appointment=at("2026-11-28 09:30"), phone="13912345678")
    assert db.conn.execute("SELECT contact_phone FROM repair_orders WHERE id=?", (o,)
                           ).fetchone() == ("13912345678",)


# --------------------------------------------------------------------------- complete run's survivors


def test_what_a_plain_call_stores_and_says(db):
    tid, *_ = full_task(db)
    r = calls.log_call(db, tid, "no_answer", S, by="a", at=at("2026-11-26 10:05"), phone=" ")
    assert r == {"call_id": 1, "task_id": tid, "outcome": "no_answer", "task_state": "open",
                 "next_try": "2026-11-27", "attempts": 1}
    # Not reminded, no number: 0 and NULL (not '').
    assert db.conn.execute("SELECT reminded_maintenance, corrected_phone FROM calls"
                           ).fetchone() == (0, None)


def test_a_number_corrected_on_a_done_elsewhere_call(db):
    tid, *_ = full_task(db)
    r = calls.log_call(db, tid, "done_elsewhere", S, by="a", at=at("2026-11-26 10:05"),
                       phone="13912345678")
    assert r["phone_corrected"] == "13912345678"
    c2 = store.customer(db, "王强", mobile="13800000005")
    v = store.vehicle(db, c2)
    o = store.order(db, v, c2, "2026-11-23", "repair", contact_name="李娜",
                    contact_phone="13800000009")
    planner.plan(db, date(2026, 11, 26), S)
    t2 = db.conn.execute("SELECT id FROM tasks WHERE kind='post_repair' AND customer_id=?",
                         (c2,)).fetchone()[0]
    calls.log_call(db, t2, "done_elsewhere", S, by="a", at=at("2026-11-26 10:06"),
                   phone="13912345677")
    assert db.conn.execute("SELECT contact_phone FROM repair_orders WHERE id=?", (o,)
                           ).fetchone() == ("13912345677",)


def test_the_opt_out_of_a_refusal_is_stamped_as_the_call(db):
    tid, *_ = full_task(db)
    calls.log_call(db, tid, "refused", S, by="a", at=at("2026-11-26 10:05"))
    logged = db.conn.execute("SELECT logged_at FROM calls").fetchone()[0]
    assert db.conn.execute("SELECT changed_at FROM changes WHERE field='optout'").fetchone() == (
        logged,)


def test_wrong_kind_refusals_word_for_word(db):
    tid, *_ = full_task(db)
    with pytest.raises(UsageError) as e:
        calls.log_call(db, tid, "reached", S, by="a", lost_reason="价格")
    assert str(e.value) == (f"task #{tid} is not a recovery call; a reason for leaving is asked"
                            " on recovery calls")
    with pytest.raises(UsageError) as e:
        calls.log_call(db, tid, "reached", S, by="a", resolution_ok=True)
    assert str(e.value) == f"task #{tid} is not a complaint follow-up call"
    from crmcli import normalize as nz

    try:
        nz.parse_phone("12")
    except ValueError as exc:
        why = str(exc)
    with pytest.raises(UsageError) as e:
        calls.log_call(db, tid, "reached", S, by="a", phone="12")
    assert str(e.value) == f"phone '12': {why}"


def test_steps_refused_word_for_word(db):
    c = store.customer(db, "张伟", gender="M")
    k = calls.add_complaint(db, c, "价格", "贵", S, by="a", at=at("2026-11-26 10:30"))["id"]
    with pytest.raises(UsageError) as e:
        calls.advance(db, k, "close", by="a", settings=S)
    assert str(e.value) == (f"complaint #{k} has no reply yet: cannot close it before a reply;"
                            f" record the reply first (crmcli complaint reply {k})")
    calls.advance(db, k, "escalate", by="a", at=at("2026-11-26 11:00"), settings=S)
    with pytest.raises(UsageError) as e:
        calls.advance(db, k, "close", by="a", settings=S)
    assert str(e.value).startswith(f"complaint #{k} has no reply yet")
    calls.advance(db, k, "reply", by="b", at=at("2026-11-26 14:00"), settings=S)
    with pytest.raises(UsageError) as e:
        calls.advance(db, k, "escalate", by="a", settings=S)
    assert str(e.value) == (f"complaint #{k} was replied to on 2026-11-26 14:00: escalating"
                            " comes before the reply, so there is nothing to escalate now")
    calls.advance(db, k, "close", by="b", at=at("2026-11-27 09:00"), settings=S)
    with pytest.raises(UsageError) as e:
        calls.advance(db, k, "escalate", by="a", settings=S)
    assert str(e.value) == (f"complaint #{k} was closed on 2026-11-27 09:00: it cannot be"
                            " escalated any more; open a new complaint if the customer"
                            " complains again")


def test_parse_when_edges(db):
    assert calls.parse_when("2099-01-01") == datetime(2099, 1, 1, 9, 0)   # future is fine
    assert calls.parse_when("2026-11-27 15:00:59.5") == datetime(2026, 11, 27, 15, 0)
    assert calls.parse_when("2026-11-27 15:00+08:00") == datetime(2026, 11, 27, 15, 0)
    with pytest.raises(UsageError) as e:
        calls.parse_when("abcdefghij")
    assert str(e.value) == "the time: 'abcdefghij' is not a time like 2026-11-27 15:00"
    from crmcli import clock

    # Two minutes ago (whatever the clock says) is the past.
    recent = (clock.now() - timedelta(minutes=2)).strftime("%Y-%m-%d %H:%M")
    assert calls.parse_when(recent, past_only=True) is not None


def test_due_calls_leave_the_weekend_for_the_weekend(db):
    tid, *_ = full_task(db)
    db.conn.execute("UPDATE tasks SET due_date='2026-11-28' WHERE id=?", (tid,))
    assert calls.due_calls(db, date(2026, 11, 27), S) == ([], 0)   # Friday: not Saturday's


def test_a_call_without_a_number_stores_none(db):
    tid, *_ = full_task(db)
    calls.log_call(db, tid, "reached", S, by="a", at=at("2026-11-26 10:05"))
    assert db.conn.execute("SELECT corrected_phone FROM calls").fetchone() == (None,)


# --------------------------------------------------------------------------- the last 14 survivors

def merged_birthday(db, c: int, lead: int, expires: str) -> int:
    """A birthday SMS combined into the call ``lead``, open until ``expires``."""
    return db.conn.execute(
        "INSERT INTO tasks (key, kind, customer_id, due_date, expires_on, channel, weight,"
        " reason, state, merged_into, planned_at, updated_at) VALUES (?, 'birthday', ?,"
        " '2026-11-26', ?, 'sms', 10, 'r', 'merged', ?, 'x', 'x')",
        (f"birthday:{expires}", c, expires, lead)).lastrowid


@pytest.mark.parametrize(("typed", "now", "refused"), [
    # At 10:00 the grace runs to 10:05: 10:04 and 10:05 happened (not later than
    # now + 5 minutes), 10:06 is the future.
    ("2026-11-26 10:04", "2026-11-26 10:00", False),
    ("2026-11-26 10:05", "2026-11-26 10:00", False),
    ("2026-11-26 10:06", "2026-11-26 10:00", True),
    # The seconds of now count: at 10:00:59 the bound is 10:05:59, so 10:06 is later;
    # at 10:01 it is 10:06 itself, accepted.
    ("2026-11-26 10:06", "2026-11-26 10:00:59", True),
    ("2026-11-26 10:06", "2026-11-26 10:01", False),
    # Across midnight: at 23:58 the bound is 00:03 the next day.
    ("2026-11-27 00:03", "2026-11-26 23:58", False),
    ("2026-11-27 00:04", "2026-11-26 23:58", True),
])
def test_past_only_allows_five_minutes_pinned_a_minute_either_side(typed, now, refused):
    if refused:
        with pytest.raises(UsageError) as e:
            calls.parse_when(typed, what="--at", past_only=True, now=at(now))
        assert str(e.value) == f"--at: {typed} is in the future; give the time it happened"
    else:
        assert calls.parse_when(typed, what="--at", past_only=True, now=at(now)) == at(typed)


def test_now_matters_only_to_past_only():
    # A call-back time may be any time ahead; now is not read for it.
    assert calls.parse_when("2026-11-26 10:06", now=at("2026-11-26 10:00")) == \
        at("2026-11-26 10:06")


@pytest.mark.parametrize(("outcome", "words"), [
    ("wrong_number", "wrong number"), ("not_owner", "the person reached is not the owner")])
def test_an_unreachable_call_gives_back_what_it_carried_saying_why(db, outcome, words):
    tid, c, *_ = full_task(db)
    # One birthday SMS still in its window on Thursday 11-26 (to 12-05): back on its own;
    # one whose window closed the day before (11-25): missed. Both name the call's end.
    back = merged_birthday(db, c, tid, "2026-12-05")
    gone = merged_birthday(db, c, tid, "2026-11-25")
    r = calls.log_call(db, tid, outcome, S, by="a", at=at("2026-11-26 10:05"))
    assert r == {"call_id": 1, "task_id": tid, "outcome": outcome, "task_state": "unreachable",
                 "task_reason": words, "released": 1}
    got = {i: (s, why) for i, s, why in db.conn.execute(
        "SELECT id, state, state_reason FROM tasks WHERE id IN (?, ?)", (back, gone))}
    assert got == {
        back: ("open", f"back on its own: task {tid} ended unreachable ({words})"),
        gone: ("missed", f"combined into task {tid}, which ended unreachable ({words})")}


def test_a_number_given_to_a_customer_without_one_has_no_old_value(db):
    # The file has no mobile: the change is from nothing (NULL), not from the text 'None'.
    tid, c, *_ = full_task(db)
    db.conn.execute("UPDATE customers SET mobile=NULL WHERE id=?", (c,))
    r = calls.log_call(db, tid, "reached", S, by="小李", at=at("2026-11-26 10:05"),
                       phone="13912345678")
    assert r["phone_corrected"] == "13912345678"
    assert db.conn.execute("SELECT entity, entity_id, field, old_value, new_value, by_user"
                           " FROM changes").fetchall() == [
        ("customer", c, "mobile", None, "13912345678", "小李")]
    assert db.conn.execute("SELECT field, source, import_value FROM field_sources"
                           ).fetchall() == [("mobile", "call", None)]
    assert db.conn.execute("SELECT mobile, mobile_source FROM customers").fetchone() == (
        "13912345678", "call")


def test_a_contact_known_by_name_alone_is_still_whoever_was_called(db):
    # 李娜 brought the car; the order has her name but no number. The call went to her:
    # the number given is hers (on the order, changed from nothing), the owner's stays,
    # and the thank-you greets her by name (no gender known: the name itself).
    c = store.customer(db, "张伟", mobile="13800000001", gender="M")
    v = store.vehicle(db, c)
    o = store.order(db, v, c, "2026-11-23", "repair", contact_name="李娜")
    planner.plan(db, date(2026, 11, 26), S)
    tid = db.conn.execute("SELECT id FROM tasks WHERE kind='post_repair'").fetchone()[0]
    r = calls.log_call(db, tid, "reached", S, by="小李", at=at("2026-11-26 10:05"),
                       phone="13912345678")
    assert r["phone_corrected"] == "13912345678"
    assert db.conn.execute("SELECT contact_name, contact_phone FROM repair_orders WHERE id=?",
                           (o,)).fetchone() == ("李娜", "13912345678")
    assert db.conn.execute("SELECT entity, entity_id, field, old_value, new_value FROM changes"
                           ).fetchall() == [("order", o, "contact_phone", None, "13912345678")]
    assert db.conn.execute("SELECT mobile FROM customers").fetchone() == ("13800000001",)
    assert db.conn.execute("SELECT reason FROM tasks WHERE kind='thank_you_sms'").fetchone() == (
        "thank-you SMS: 感谢李娜的宝贵意见，本店竭诚为您服务。",)


def test_the_thank_you_greets_whoever_brought_the_car_not_the_owner(db):
    c = store.customer(db, "张伟", mobile="13800000001", gender="M")
    v = store.vehicle(db, c)
    store.order(db, v, c, "2026-11-23", "repair", contact_name="欧阳娜娜",
                contact_phone="13800000009")
    planner.plan(db, date(2026, 11, 26), S)
    tid = db.conn.execute("SELECT id FROM tasks WHERE kind='post_repair'").fetchone()[0]
    calls.log_call(db, tid, "reached", S, by="a", at=at("2026-11-26 10:05"))
    # Her gender is not known: greeted by her name, not as 张先生 (the owner) nor 欧阳女士.
    assert db.conn.execute("SELECT reason FROM tasks WHERE kind='thank_you_sms'").fetchone() == (
        "thank-you SMS: 感谢欧阳娜娜的宝贵意见，本店竭诚为您服务。",)


def test_only_the_post_repair_call_goes_to_the_orders_contact(db):
    # 李娜 brought the car on 10-27 and the owner declined the advice. The advice
    # follow-up (30 days later, 11-26) is the owner's call, not hers: a number corrected
    # on it is his, and her number on the order stays.
    c = store.customer(db, "张伟", mobile="13800000001", gender="M")
    v = store.vehicle(db, c)
    o = store.order(db, v, c, "2026-10-27", "repair", advice="建议更换轮胎",
                    contact_name="李娜", contact_phone="13800000009")
    planner.plan(db, date(2026, 11, 26), S)
    tid = db.conn.execute("SELECT id FROM tasks WHERE kind='advice_followup'").fetchone()[0]
    r = calls.log_call(db, tid, "reached", S, by="小李", at=at("2026-11-26 10:05"),
                       phone="13912345678")
    assert r["phone_corrected"] == "13912345678"
    assert db.conn.execute("SELECT mobile, mobile_source FROM customers").fetchone() == (
        "13912345678", "call")
    assert db.conn.execute("SELECT contact_name, contact_phone FROM repair_orders WHERE id=?",
                           (o,)).fetchone() == ("李娜", "13800000009")
    assert db.conn.execute("SELECT entity, field, old_value, new_value FROM changes"
                           ).fetchall() == [("customer", "mobile", "13800000001", "13912345678")]
