"""Weeks of a dealer's desk, simulated: daily imports, a daily plan, every call made
(reached or not), every SMS sent. Afterwards no contact was lost or doubled.

The store is fed as the importer feeds it (``store`` records what changed for
planning the same way); some orders arrive late, weeks after they were settled.
A contact, for the contact window, is a call in which the customer was spoken
to, or an SMS of its own (not a greeting, not the SMS step before a call, not
the thank-you SMS that follows a call).
"""

from __future__ import annotations

import copy
import random
from datetime import date, datetime, time, timedelta

import pytest
import store

from crmcli import calls, planner
from crmcli.settings import DEFAULTS

S = copy.deepcopy(DEFAULTS)
START = date(2026, 8, 3)
DAYS = 75  # through National Day 2026 and into November
WINDOW = S["planning"]["contact_window_days"]
GREETINGS = planner.FIXED_DAY_KINDS
CLOSED = ("done", "sent", "withdrawn", "missed", "unreachable", "refused")


def simulate(db, seed: int):
    rnd = random.Random(seed)
    wc = planner.work_calendar(S)
    people: list[tuple[int, int]] = []  # (customer, vehicle)
    contacts: list[tuple[int, date, str, bool]] = []  # customer, day, kind, customer-chosen
    km = {}
    for n in range(25):  # the file before the first day: cars of every age
        c = store.customer(db, f"客{n}", birthday=f"19{rnd.randint(60, 99)}-"
                           f"{rnd.randint(8, 11):02d}-{rnd.randint(1, 28):02d}",
                           preferred_call_time=rnd.choice([None, None, "下午", "18:00后"]))
        delivered = START - timedelta(days=rnd.randint(30, 2500))
        v = store.vehicle(db, c, delivery_date=delivered.isoformat(),
                          insurance_compulsory_expiry=(START + timedelta(
                              days=rnd.randint(0, 110))).isoformat())
        km[v] = rnd.randint(1000, 90000)
        for k in range(rnd.randint(0, 3)):
            day = START - timedelta(days=rnd.randint(1, 400))
            store.order(db, v, c, day.isoformat(), rnd.choice(["maintenance", "repair"]),
                        km[v] - 1000 * (k + 1))
        people.append((c, v))
    for i in range(DAYS):
        day = START + timedelta(days=i)
        # The day's imports: a delivery now and then, orders settled yesterday, and now
        # and then an order settled weeks ago that nobody exported then.
        if rnd.random() < 0.3:
            c = store.customer(db, f"新{i}")
            v = store.vehicle(db, c, delivery_date=(day - timedelta(days=1)).isoformat())
            km[v] = 10
            people.append((c, v))
        for c, v in rnd.sample(people, k=min(len(people), rnd.randint(0, 3))):
            back = 1 if rnd.random() < 0.85 else rnd.randint(5, 40)
            km[v] += rnd.randint(200, 6000)
            store.order(db, v, c, (day - timedelta(days=back)).isoformat(),
                        rnd.choice(["maintenance", "repair", "repair", "warranty"]), km[v])
        planner.plan(db, day, S, as_of=day)
        listed = planner.today_list(db, day, S, include_days_off=False)["tasks"]
        for t in listed:
            if t["step"] == "sms":
                planner.mark_sent(db, t["id"], datetime.combine(day, time(8, 0)))
                if t["channel"] == "sms" and t["kind"] not in GREETINGS | {"thank_you_sms"}:
                    contacts.append((t["customer_id"], day, t["kind"], False))
        if not wc.is_working_day(day):
            continue
        for t in calls.due_calls(db, day, S, now=datetime.combine(day, time(20, 0)))[0]:
            at = datetime.combine(day, time(10, 0))
            if t["call_at"]:
                at = max(at, datetime.fromisoformat(t["call_at"]))
            roll = rnd.random()
            if roll < 0.45:
                outcome = "reached"
            elif roll < 0.7:
                outcome = "no_answer"
            elif roll < 0.8:
                outcome = "busy"
            elif roll < 0.9 and t["kind"] in calls.REMINDER_KINDS:
                outcome = rnd.choice(["booked", "done_elsewhere"])
            elif roll < 0.96:
                outcome = "reached"
            else:
                outcome = rnd.choice(["wrong_number", "refused", "not_owner"])
            kw = {}
            if outcome == "busy":
                kw["call_at"] = datetime.combine(wc.next_working_day(day), time(15, 0))
            if outcome == "booked":
                kw["appointment"] = datetime.combine(day + timedelta(days=3), time(9, 0))
            r = calls.log_call(db, t["id"], outcome, S, by="sim", at=at, **kw)
            if outcome in planner.SPOKEN:
                contacts.append((t["customer_id"], day, t["kind"], bool(t["call_at"])))
            if r["task_state"] == "open" and outcome == "no_answer" and rnd.random() < 0.2:
                # A second try the same day: kept, no try used.
                r2 = calls.log_call(db, t["id"], "no_answer", S, by="sim", at=at + timedelta(
                    hours=2))
                assert r2["used_try"] is False and r2["attempts"] == r["attempts"]
            if outcome == "booked" and rnd.random() < 0.5:  # the car came
                cid, vid = db.conn.execute("SELECT customer_id, vehicle_id FROM tasks"
                                           " WHERE id = ?", (t["id"],)).fetchone()
                if vid:
                    km[vid] = km.get(vid, 0) + 500
                    store.order(db, vid, cid, (day + timedelta(days=3)).isoformat(),
                                "maintenance", km[vid])
            assert r["task_state"] in ("open", "done", "unreachable", "refused")
    return START + timedelta(days=DAYS - 1), contacts


@pytest.mark.parametrize("seed", [1, 2])
def test_weeks_of_daily_work_lose_and_double_no_contact(db, seed):
    last, contacts = simulate(db, seed)
    tasks = db.conn.execute(
        "SELECT t.id, t.kind, t.state, t.state_reason, t.expires_on, t.merged_into, lead.state,"
        " t.closed_at, lead.closed_at FROM tasks t LEFT JOIN tasks lead ON lead.id = t.merged_into"
    ).fetchall()
    assert len(tasks) > 150
    states = {t[2] for t in tasks}
    assert {"done", "sent", "missed"} <= states, states
    for tid, kind, state, reason, expires, lead, lead_state, closed, lead_closed in tasks:
        if expires < last.isoformat():
            # Every task whose window is over ended, and with a reason.
            assert state in CLOSED, (tid, kind, state)
            assert reason, (tid, kind, state)
        # Nothing is combined into a task that ended.
        if state == "merged":
            assert lead_state == "open", (tid, kind, lead, lead_state)
        # A contact covered by a call was carried by that very call.
        if state == "done" and reason.startswith("covered by the call"):
            assert closed == lead_closed and lead_state == "done"
    # A reminder combined into a lead that ended without the customer hearing it came
    # back, or was missed saying so.
    for (reason,) in db.conn.execute("SELECT state_reason FROM tasks WHERE combined_from"
                                     " IS NOT NULL"):
        assert reason.startswith(("back on its own", "combined into task")) or reason
    # No customer had two contacts within the window, but for a time they chose.
    by_customer: dict[int, list] = {}
    for cid, day, kind, chosen in contacts:
        by_customer.setdefault(cid, []).append((day, kind, chosen))
    doubled = []
    for cid, seen in by_customer.items():
        seen.sort()
        for (d1, k1, c1), (d2, k2, c2) in zip(seen, seen[1:]):
            if (d2 - d1).days < WINDOW and not (c1 or c2):
                doubled.append((cid, d1, k1, d2, k2))
    assert doubled == []
    assert len(contacts) > 60
    # The busy, booked and done-elsewhere paths were all walked.
    outcomes = {r[0] for r in db.conn.execute("SELECT DISTINCT outcome FROM calls")}
    assert {"reached", "no_answer", "busy", "booked", "done_elsewhere"} <= outcomes
