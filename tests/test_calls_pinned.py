"""Call outcomes pinned at their edges: the next working day, the last try, the score scale.

Working days from the State Council notice for 2026 (see test_calendar.py):
2026-11-27 is a Friday, so the next working day is Monday 2026-11-30;
2026-09-30 is the Wednesday before National Day, 2026-10-01..07 are off and
2026-10-10 (a Saturday) is worked.
"""

from __future__ import annotations

import copy
from datetime import date, datetime

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
