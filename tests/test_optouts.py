"""Opt-outs: per kind, per group, per channel and global; kept with who and why; honoured
by planning and applied to open tasks at once; a refused call becomes one."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import store

from crmcli import calls, optouts, planner
from crmcli import settings as settings_mod
from crmcli.errors import NotFound, UsageError

DAY = date(2026, 11, 26)


@pytest.mark.parametrize("outs, kind, channel, left", [
    (set(), "first_maintenance", "sms_call", "sms_call"),
    ({"sms"}, "first_maintenance", "sms_call", "call"),
    ({"call"}, "first_maintenance", "sms_call", "sms"),
    ({"sms", "call"}, "first_maintenance", "sms_call", None),
    ({"marketing"}, "birthday", "sms", None),
    ({"marketing"}, "holiday", "sms", None),
    ({"marketing"}, "first_maintenance", "sms_call", "sms_call"),  # no marketing, yes service
    ({"service"}, "first_maintenance", "sms_call", None),
    ({"service"}, "birthday", "sms", "sms"),
    ({"all"}, "post_repair", "call", None),
    ({"birthday"}, "birthday", "sms", None),
    ({"birthday"}, "holiday", "sms", "sms"),
    ({"sms"}, "post_repair", "call", "call"),
])
def test_what_is_left_of_a_contact(outs, kind, channel, left):
    assert optouts.allowed_channel(outs, kind, channel) == left


def test_refused_callbacks_keep_the_sms_half():
    assert optouts.allowed_channel(set(), "inspection", "sms_call", calls_ok=False) == "sms"
    assert optouts.allowed_channel(set(), "post_repair", "call", calls_ok=False) is None


def test_planning_honours_a_marketing_optout_but_keeps_service(db):
    c = store.customer(db, birthday="1980-11-26")
    store.vehicle(db, c, insurance_compulsory_expiry="2026-12-26")
    optouts.add(db, c, "marketing", reason="asked by phone", by="clerk", day=DAY)
    s = settings_mod.load()
    s["planning"]["contact_window_days"] = 0
    planner.plan(db, DAY, s)
    kinds = {r[0] for r in db.conn.execute("SELECT kind FROM tasks WHERE state = 'open'")}
    assert kinds == {"insurance_compulsory"}


def test_adding_an_optout_withdraws_or_narrows_open_tasks(db):
    c = store.customer(db, birthday="1980-11-26")
    store.vehicle(db, c, insurance_compulsory_expiry="2026-12-26")
    s = settings_mod.load()
    s["planning"]["contact_window_days"] = 0
    planner.plan(db, DAY, s)
    optouts.add(db, c, "sms", reason="replied TD", by="clerk", day=DAY)
    rows = dict(db.conn.execute("SELECT kind, state || '/' || channel FROM tasks"))
    assert rows == {"birthday": "withdrawn/sms", "insurance_compulsory": "open/call"}
    assert db.conn.execute("SELECT state_reason FROM tasks WHERE kind = 'birthday'"
                           ).fetchone()[0] == "opted out: sms"


def test_an_optout_keeps_reason_day_and_who_and_is_audited(db):
    c = store.customer(db)
    assert optouts.add(db, c, "all", reason="do not contact", by="王经理", day=DAY)["added"]
    assert not optouts.add(db, c, "all", reason="again", by="x", day=DAY)["added"]
    assert optouts.list_all(db) == [{"customer_id": c, "name": "张伟", "mobile": store_mobile(db, c),
                                     "what": "all", "since": "2026-11-26",
                                     "reason": "do not contact", "by_user": "王经理"}]
    optouts.remove(db, c, "all", by="王经理")
    assert optouts.list_all(db) == []
    audit = db.conn.execute("SELECT old_value, new_value, by_user FROM changes"
                            " WHERE field = 'optout' ORDER BY id").fetchall()
    assert audit == [(None, "all: do not contact", "王经理"), ("all: do not contact", None, "王经理")]


def store_mobile(db, c):
    return db.conn.execute("SELECT mobile FROM customers WHERE id = ?", (c,)).fetchone()[0]


def test_bad_optouts_are_refused(db):
    c = store.customer(db)
    with pytest.raises(UsageError):
        optouts.add(db, c, "spam", reason="x", by="a", day=DAY)
    with pytest.raises(UsageError):
        optouts.add(db, c, "sms", reason=" ", by="a", day=DAY)
    with pytest.raises(NotFound):
        optouts.add(db, 999, "sms", reason="x", by="a", day=DAY)
    with pytest.raises(NotFound):
        optouts.remove(db, c, "sms", by="a")


def test_a_refused_call_becomes_a_call_optout(db):
    c = store.customer(db)
    store.vehicle(db, c, insurance_compulsory_expiry="2026-12-27")
    s = settings_mod.load()
    planner.plan(db, DAY, s)
    planner.plan(db, date(2026, 11, 27), s)
    tid = db.conn.execute("SELECT id FROM tasks WHERE kind = 'insurance_compulsory'").fetchone()[0]
    calls.log_call(db, tid, "refused", s, by="李娜", at=datetime(2026, 11, 27, 10, 0))
    assert optouts.of_customer(db, c) == [{"what": "call", "since": "2026-11-27",
                                           "reason": f"refused on the call for task #{tid}",
                                           "by_user": "李娜"}]


def test_the_call_session_skips_a_customer_who_opted_out_of_calls(db):
    c = store.customer(db)
    store.vehicle(db, c, insurance_compulsory_expiry="2026-12-26")
    s = settings_mod.load()
    planner.plan(db, DAY, s)
    due_ids = {t["customer_id"] for t in calls.due_calls(db, DAY, s)[0]}
    assert c in due_ids
    optouts.add(db, c, "call", reason="只要短信", by="clerk", day=DAY)
    assert c not in {t["customer_id"] for t in calls.due_calls(db, DAY, s)[0]}
    # ... and planning again does not bring the call back.
    planner.plan(db, DAY, s, force=True)
    assert c not in {t["customer_id"] for t in calls.due_calls(db, DAY, s)[0]}
