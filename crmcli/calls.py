"""Logging calls, complaints against working-day deadlines, corrective actions.

What each outcome does to the task and the customer file:

| outcome      | task                                                   | file                       |
|--------------|--------------------------------------------------------|----------------------------|
| reached      | done (a thank-you SMS follows a post-repair callback)  | a corrected phone is saved |
| no_answer    | retried the next working day; after the last try       |                            |
|              | closed as unreachable                                  |                            |
| busy         | due again at the time the customer chose (else the     |                            |
|              | next working day)                                      |                            |
| wrong_number | closed as unreachable                                  |                            |
| not_owner    | closed as unreachable                                  |                            |
| refused      | closed as refused                                      | callbacks refused from now |
| booked       | done, with the appointment time; a no-show follow-up   |                            |
|              | is planned when the car does not come by the day after |                            |
| done_elsewhere | done, with where it was done (serviced, insured or   |                            |
|              | inspected elsewhere): the report counts these          |                            |

A no-answer uses one try a day: a second one logged the same day is kept but
does not use up a try, and the next try is the next working day. A call that
ends unreachable or refused gives back what was combined into it: each task
comes back on its own while its window is open, else it is missed with that
reason. Reaching the customer (reached, booked, done elsewhere) covers them.

Every call is kept (the calls table is append-only); nothing is overwritten.
A complaint found in a call must reach the general manager within half a
working day and be answered within one working day (DOMAIN.md), counted in
business hours on official working days.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import sqlite_utils

from . import normalize as nz
from .db import dicts, write_transaction
from .errors import NotFound, UsageError

OUTCOMES = ("reached", "no_answer", "busy", "wrong_number", "refused", "not_owner", "booked",
            "done_elsewhere")
OUTCOME_ALIASES = {
    "reached": "reached", "ok": "reached", "接通": "reached",
    "no_answer": "no_answer", "no-answer": "no_answer", "noanswer": "no_answer", "未接": "no_answer",
    "busy": "busy", "call_later": "busy", "later": "busy", "忙": "busy",
    "wrong_number": "wrong_number", "wrong-number": "wrong_number", "wrong": "wrong_number",
    "空号": "wrong_number", "refused": "refused", "拒绝": "refused",
    "not_owner": "not_owner", "not-owner": "not_owner", "非本人": "not_owner",
    "booked": "booked", "预约": "booked", "已预约": "booked",
    "done_elsewhere": "done_elsewhere", "done-elsewhere": "done_elsewhere",
    "elsewhere": "done_elsewhere", "已在别处": "done_elsewhere",
}
QUESTIONS = ("overall", "advisor", "quality", "timeliness", "price", "cleanliness")


def _now() -> datetime:
    return datetime.now().replace(microsecond=0)


def _iso(dt: datetime) -> str:
    return dt.isoformat(sep=" ", timespec="minutes")


def parse_when(value: str | None, default: datetime | None = None) -> datetime | None:
    """'2026-11-27 15:00', '2026-11-27T15:00' or '2026-11-27' (09:00) -> datetime."""
    if value is None:
        return default
    s = value.strip().replace("T", " ")
    try:
        if len(s) <= 10:
            return datetime.combine(date.fromisoformat(s), time(9, 0))
        return datetime.fromisoformat(s).replace(second=0, microsecond=0)
    except ValueError:
        raise UsageError(f"{value!r} is not a time like 2026-11-27 15:00") from None


def normalise_outcome(value: str) -> str:
    key = value.strip().lower()
    if key not in OUTCOME_ALIASES:
        raise UsageError(f"outcome {value!r}: use one of {', '.join(OUTCOMES)}")
    return OUTCOME_ALIASES[key]


def _task(db, task_id: int) -> dict:
    rows = dicts(db, "SELECT t.*, c.name, c.gender, c.mobile FROM tasks t"
                     " LEFT JOIN customers c ON c.id = t.customer_id WHERE t.id = ?", (task_id,))
    if not rows:
        raise NotFound(f"no task #{task_id}; see `crmcli today` for the ids")
    return rows[0]


def log_call(
    db: sqlite_utils.Database,
    task_id: int,
    outcome: str,
    settings: dict,
    *,
    by: str,
    at: datetime | None = None,
    scores: dict[str, int] | None = None,
    note: str | None = None,
    complaint: str | None = None,
    category: str | None = None,
    call_at: datetime | None = None,
    phone: str | None = None,
    reminded: bool = False,
    appointment: datetime | None = None,
    elsewhere: str | None = None,
) -> dict:
    """Record one call on a task and apply what its outcome means. Returns what happened.

    ``booked`` needs the ``appointment`` time; ``done_elsewhere`` may say where
    (``elsewhere``: serviced, insured or inspected elsewhere).
    """
    outcome = normalise_outcome(outcome)
    if outcome == "booked" and appointment is None:
        raise UsageError("booked needs the appointment time, e.g. --appointment '2026-12-01 09:00'")
    if appointment is not None and outcome != "booked":
        raise UsageError("--appointment goes with --outcome booked")
    at = at or _now()
    scores = {k: v for k, v in (scores or {}).items() if v is not None}
    lo, hi = settings["calls"]["score_min"], settings["calls"]["score_max"]
    for q, v in scores.items():
        if q not in QUESTIONS:
            raise UsageError(f"unknown question {q!r}; questions: {', '.join(QUESTIONS)}")
        if not lo <= v <= hi:
            raise UsageError(f"score {q}={v} is outside the scale {lo}-{hi}")
    if (scores or complaint) and outcome not in ("reached", "booked", "done_elsewhere"):
        raise UsageError("scores and complaints need the customer reached (reached, booked or"
                         " done_elsewhere)")
    corrected = None
    if phone:
        try:
            parsed = nz.parse_phone(phone)
        except ValueError as exc:
            raise UsageError(f"phone {phone!r}: {exc}") from None
        corrected = parsed[0] if parsed else None
    from .planner import work_calendar

    wc = work_calendar(settings)
    with write_transaction(db):
        task = _task(db, task_id)
        if task["channel"] == "sms":
            raise UsageError(f"task #{task_id} is an SMS ({task['kind']}); there is no call to log")
        if task["state"] not in ("open",):
            raise UsageError(f"task #{task_id} is {task['state']}"
                             f"{' (' + task['state_reason'] + ')' if task['state_reason'] else ''};"
                             " nothing to log")
        now = _iso(_now())
        call_id = db.conn.execute(
            "INSERT INTO calls (task_id, customer_id, clerk, called_at, logged_at, outcome,"
            " score_overall, score_advisor, score_quality, score_timeliness, score_price,"
            " score_cleanliness, note, call_back_at, corrected_phone, reminded_maintenance,"
            " appointment_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (task_id, task["customer_id"], by, _iso(at), now, outcome,
             *[scores.get(q) for q in QUESTIONS], note, _iso(call_at) if call_at else None,
             corrected, 1 if reminded else 0,
             _iso(appointment) if appointment else None)).lastrowid
        effect = _apply_outcome(db, task, outcome, at, call_at, settings, wc, now, call_id,
                                appointment, elsewhere)
        result = {"call_id": call_id, "task_id": task_id, "outcome": outcome, **effect}
        if outcome == "refused" and task["customer_id"]:
            # Refusing on the phone withdraws consent: an opt-out like any other, on file
            # with who heard it and when.
            from .optouts import record

            record(db, task["customer_id"], "call", reason=f"refused on the call for task"
                   f" #{task_id}", by=by, day=at.date(), now=now)
        if corrected and outcome in ("reached", "booked", "done_elsewhere") \
                and task["customer_id"] \
                and corrected != task["mobile"]:
            # A clerk's correction: imports of older DMS data do not undo it.
            db.conn.execute("UPDATE customers SET mobile=?, phone_kind=?, mobile_source='call',"
                            " updated_at=? WHERE id=?", (corrected, parsed[1], now,
                                                         task["customer_id"]))
            _audit(db, "customer", task["customer_id"], "mobile", task["mobile"], corrected, now, by)
            result["phone_corrected"] = corrected
        if complaint:
            cid = _open_complaint(db, task["customer_id"], category, complaint, by, at,
                                  settings, wc, task_id=task_id, call_id=call_id)
            db.conn.execute("UPDATE calls SET complaint_id=? WHERE id=?", (cid, call_id))
            result["complaint_id"] = cid
        if outcome == "reached" and settings["calls"]["thank_you_sms"] \
                and task["kind"] == "post_repair":
            _thank_you(db, task, at, settings, now)
            result["thank_you_sms"] = True
    return result


def _audit(db, entity, entity_id, field, old, new, now, by) -> None:
    db.conn.execute(
        "INSERT INTO changes (import_id, entity, entity_id, field, old_value, new_value,"
        " changed_at, by_user) VALUES (NULL,?,?,?,?,?,?,?)",
        (entity, entity_id, field, None if old is None else str(old),
         None if new is None else str(new), now, by))


def _apply_outcome(db, task: dict, outcome: str, at: datetime, call_at: datetime | None,
                   settings: dict, wc, now: str, call_id: int,
                   appointment: datetime | None = None, elsewhere: str | None = None) -> dict:
    tid = task["id"]
    attempts = task["attempts"] + 1
    tries = settings["planning"]["call_retries"]

    def close(state: str, reason: str, **extra) -> dict:
        db.conn.execute("UPDATE tasks SET state=?, state_reason=?, attempts=?, closed_at=?,"
                        " contact_on=NULL, updated_at=? WHERE id=?",
                        (state, reason, attempts, now, now, tid))
        return {"task_state": state, "task_reason": reason, **extra}

    def covered() -> None:
        # The contacts combined into this one were covered by the same call.
        db.conn.execute("UPDATE tasks SET state='done', state_reason=?, closed_at=?, updated_at=?"
                        " WHERE merged_into=? AND state='merged'",
                        (f"covered by the call on task {tid}", now, now, tid))

    def release(why: str) -> dict:
        from .planner import release_combined

        back = release_combined(db, tid, at.date(), why, now)
        return {"released": back} if back else {}

    if outcome == "reached":
        covered()
        return close("done", f"reached on {at:%Y-%m-%d %H:%M}")
    if outcome == "booked":
        covered()
        db.conn.execute("UPDATE tasks SET appointment_at=? WHERE id=?", (_iso(appointment), tid))
        return close("done", f"booked for {appointment:%Y-%m-%d %H:%M}",
                     appointment_at=_iso(appointment))
    if outcome == "done_elsewhere":
        covered()
        return close("done", f"done elsewhere: {elsewhere or 'the customer had it done elsewhere'}")
    if outcome == "refused":
        if task["customer_id"]:
            old = db.conn.execute("SELECT callback_consent FROM customers WHERE id=?",
                                  (task["customer_id"],)).fetchone()[0]
            db.conn.execute("UPDATE customers SET callback_consent=0, updated_at=? WHERE id=?",
                            (now, task["customer_id"]))
            if old != 0:
                _audit(db, "customer", task["customer_id"], "callback_consent", old, 0, now,
                       "call")
        result = close("refused", "the customer declines callbacks")
        return {**result, **release("refused")}
    if outcome in ("wrong_number", "not_owner"):
        words = "wrong number" if outcome == "wrong_number" else "the person reached is not the owner"
        result = close("unreachable", words)
        return {**result, **release(f"unreachable ({words})")}
    if outcome == "busy":
        when = call_at or datetime.combine(wc.next_working_day(at.date()), time(9, 0))
        db.conn.execute("UPDATE tasks SET attempts=?, next_try=?, call_at=?, contact_on=NULL,"
                        " updated_at=?, state_reason=? WHERE id=?",
                        (attempts, when.date().isoformat(), _iso(when) if call_at else None, now,
                         f"customer asked to be called {when:%Y-%m-%d %H:%M}", tid))
        # A moved call stays open until the day the customer chose, whatever its expiry.
        db.conn.execute("UPDATE tasks SET expires_on=max(expires_on, ?) WHERE id=?",
                        (when.date().isoformat(), tid))
        return {"task_state": "open", "next_try": _iso(when)}
    # no_answer: a try a day. A second log the same day is kept but does not use a try.
    day = at.date().isoformat()
    earlier = db.conn.execute(
        "SELECT 1 FROM calls WHERE task_id = ? AND id <> ? AND outcome = 'no_answer'"
        " AND used_try = 1 AND substr(called_at, 1, 10) = ?", (tid, call_id, day)).fetchone()
    nxt = wc.next_working_day(at.date())
    if earlier:
        db.conn.execute("UPDATE calls SET used_try = 0 WHERE id = ?", (call_id,))
        return {"task_state": "open", "next_try": nxt.isoformat(), "attempts": task["attempts"],
                "used_try": False}
    if attempts >= tries:
        result = close("unreachable", f"no answer after {attempts} tries")
        return {**result, **release(f"unreachable (no answer after {attempts} tries)")}
    db.conn.execute("UPDATE tasks SET attempts=?, next_try=?, call_at=NULL, contact_on=NULL,"
                    " updated_at=?, state_reason=?, expires_on=max(expires_on, ?) WHERE id=?",
                    (attempts, nxt.isoformat(), now, f"no answer ({attempts} of {tries} tries)",
                     nxt.isoformat(), tid))
    return {"task_state": "open", "next_try": nxt.isoformat(), "attempts": attempts}


def _thank_you(db, task: dict, at: datetime, settings: dict, now: str) -> None:
    greeting = nz.greeting(task["name"], task["gender"]) if task["name"] else ""
    text = settings["calls"]["thank_you_text"].format(greeting=greeting,
                                                      dealer=settings["dealer"]["name"])
    # Sent by the next morning's SMS run: calls are made after that day's run.
    day = (at.date() + timedelta(days=1)).isoformat()
    db.conn.execute(
        "INSERT OR IGNORE INTO tasks (key, kind, customer_id, vehicle_id, order_id, due_date,"
        " expires_on, channel, weight, reason, state, planned_at, updated_at)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,'open',?,?)",
        (f"thank_you_sms:t{task['id']}", "thank_you_sms", task["customer_id"], task["vehicle_id"],
         task["order_id"], day, day, "sms", 15, f"thank-you SMS: {text}", now, now))


# --------------------------------------------------------------------------- complaints


def _hours(settings: dict) -> dict:
    c = settings["complaints"]
    try:
        return {"day_start": time.fromisoformat(c["day_start"]),
                "day_end": time.fromisoformat(c["day_end"]),
                "lunch": (time.fromisoformat(c["lunch_start"]), time.fromisoformat(c["lunch_end"]))
                if c["lunch_start"] and c["lunch_end"] else None}
    except ValueError:
        raise UsageError("[complaints] business hours must be times like 09:00") from None


def deadlines(opened: datetime, settings: dict, wc) -> tuple[datetime, datetime]:
    """(escalate by, reply by): half a working day and one working day of business hours."""
    from .calendar import working_day_hours

    h = _hours(settings)
    day_hours = working_day_hours(**h)
    c = settings["complaints"]
    return (wc.add_working_hours(opened, c["escalate_within_days"] * day_hours, **h),
            wc.add_working_hours(opened, c["reply_within_days"] * day_hours, **h))


def _open_complaint(db, customer_id, category, text, by, at, settings, wc, *, task_id=None,
                    call_id=None, owner=None) -> int:
    category = category or "其他"
    esc, reply = deadlines(at, settings, wc)
    cid = db.conn.execute(
        "INSERT INTO complaints (customer_id, task_id, call_id, category, text, owner, state,"
        " opened_at, opened_by, escalate_by, reply_by) VALUES (?,?,?,?,?,?,'open',?,?,?,?)",
        (customer_id, task_id, call_id, category, text, owner, _iso(at), by, _iso(esc),
         _iso(reply))).lastrowid
    db.conn.execute("INSERT INTO complaint_events (complaint_id, at, by_user, action, note)"
                    " VALUES (?,?,?,?,?)", (cid, _iso(at), by, "opened", text))
    return cid


def add_complaint(db, customer_id: int | None, category: str, text: str, settings: dict, *,
                  by: str, at: datetime | None = None, owner: str | None = None) -> dict:
    from .planner import work_calendar

    wc = work_calendar(settings)
    at = at or _now()
    with write_transaction(db):
        cid = _open_complaint(db, customer_id, category, text, by, at, settings, wc, owner=owner)
    return complaint(db, cid)


STEPS = {"escalate": ("open", "escalated"), "reply": ("escalated", "replied"),
         "close": ("replied", "closed")}


def advance(db, complaint_id: int, step: str, *, by: str, at: datetime | None = None,
            note: str | None = None, owner: str | None = None) -> dict:
    """Move a complaint on: escalate (to the GM), reply (to the customer), close.

    A reply may come before a formal escalation (the manager called the
    customer at once); closing needs a reply first.
    """
    at = at or _now()
    with write_transaction(db):
        row = db.conn.execute("SELECT state FROM complaints WHERE id=?", (complaint_id,)).fetchone()
        if row is None:
            raise NotFound(f"no complaint #{complaint_id}")
        state = row[0]
        allowed = {"escalate": ("open",), "reply": ("open", "escalated"), "close": ("replied",)}
        if state not in allowed[step]:
            raise UsageError(f"complaint #{complaint_id} is {state}; cannot {step} it"
                             + (" before a reply" if step == "close" else ""))
        new = STEPS[step][1]
        col = {"escalate": "escalated", "reply": "replied", "close": "closed"}[step]
        db.conn.execute(f"UPDATE complaints SET state=?, {col}_at=?, {col}_by=?,"
                        " owner=coalesce(?, owner) WHERE id=?",
                        (new, _iso(at), by, owner, complaint_id))
        db.conn.execute("INSERT INTO complaint_events (complaint_id, at, by_user, action, note)"
                        " VALUES (?,?,?,?,?)", (complaint_id, _iso(at), by, step, note))
    return complaint(db, complaint_id)


def complaint(db, complaint_id: int) -> dict:
    rows = dicts(db, "SELECT k.*, c.name AS customer_name, c.mobile FROM complaints k"
                     " LEFT JOIN customers c ON c.id = k.customer_id WHERE k.id = ?",
                 (complaint_id,))
    if not rows:
        raise NotFound(f"no complaint #{complaint_id}")
    out = rows[0]
    out["events"] = [dict(zip(("at", "by", "action", "note"), r)) for r in db.conn.execute(
        "SELECT at, by_user, action, note FROM complaint_events WHERE complaint_id=? ORDER BY id",
        (complaint_id,))]
    return out


def overdue_marks(k: dict, now: datetime) -> list[str]:
    """What a complaint is late for at ``now``: 'escalation' and/or 'reply'."""
    marks = []
    stamp = _iso(now)
    if k["state"] == "open" and k["escalate_by"] < stamp:
        marks.append("escalation")
    if k["state"] in ("open", "escalated") and k["reply_by"] < stamp:
        marks.append("reply")
    return marks


def list_complaints(db, now: datetime, *, include_closed: bool = False) -> list[dict]:
    """Complaints, overdue first (most late first), then newest."""
    where = "" if include_closed else "WHERE k.state != 'closed'"
    items = dicts(
        db, "SELECT k.id, k.customer_id, c.name AS customer_name, c.mobile, k.category, k.text,"
        " k.owner, k.state, k.opened_at, k.escalate_by, k.reply_by, k.escalated_at, k.replied_at,"
        f" k.closed_at FROM complaints k LEFT JOIN customers c ON c.id = k.customer_id {where}")
    for k in items:
        k["overdue"] = overdue_marks(k, now)
    late = sorted((k for k in items if k["overdue"]), key=lambda k: (k["escalate_by"], k["id"]))
    rest = sorted((k for k in items if not k["overdue"]), key=lambda k: k["opened_at"],
                  reverse=True)
    return late + rest


# --------------------------------------------------------------------------- actions


def add_action(db, text: str, owner: str, deadline: date, *, by: str, kind: str = "corrective",
               category: str | None = None, month: str | None = None,
               complaint_id: int | None = None, at: datetime | None = None) -> int:
    if kind not in ("corrective", "preventive"):
        raise UsageError("an action is corrective or preventive")
    if month is not None:
        try:
            datetime.strptime(month, "%Y-%m")
        except ValueError:
            raise UsageError(f"month {month!r}: use YYYY-MM") from None
    with write_transaction(db):
        if complaint_id is not None and db.conn.execute(
                "SELECT 1 FROM complaints WHERE id=?", (complaint_id,)).fetchone() is None:
            raise NotFound(f"no complaint #{complaint_id}")
        return db.conn.execute(
            "INSERT INTO actions (text, owner, deadline, kind, category, report_month,"
            " complaint_id, created_at, created_by) VALUES (?,?,?,?,?,?,?,?,?)",
            (text, owner, deadline.isoformat(), kind, category, month, complaint_id,
             _iso(at or _now()), by)).lastrowid


def finish_action(db, action_id: int, *, by: str, note: str | None = None,
                  at: datetime | None = None) -> None:
    with write_transaction(db):
        row = db.conn.execute("SELECT state FROM actions WHERE id=?", (action_id,)).fetchone()
        if row is None:
            raise NotFound(f"no action #{action_id}")
        if row[0] == "done":
            raise UsageError(f"action #{action_id} is already done")
        db.conn.execute("UPDATE actions SET state='done', done_at=?, done_by=?, note=? WHERE id=?",
                        (_iso(at or _now()), by, note, action_id))


def list_actions(db, day: date, *, include_done: bool = False) -> list[dict]:
    where = "" if include_done else "WHERE state = 'open'"
    items = dicts(db, f"SELECT * FROM actions {where} ORDER BY deadline, id")
    for a in items:
        a["overdue_days"] = max(0, (day - date.fromisoformat(a["deadline"])).days) \
            if a["state"] == "open" else 0
    items.sort(key=lambda a: (a["overdue_days"] == 0, a["deadline"], a["id"]))
    return items


def call_card(db, task_id: int) -> dict:
    """What the clerk needs on screen for one call: the customer, vehicles, last visit, why."""
    t = _task(db, task_id)
    cust = db.conn.execute("SELECT name, gender, mobile, preferred_phone, preferred_call_time,"
                           " notes FROM customers WHERE id=?", (t["customer_id"],)).fetchone()
    vehicles = db.conn.execute("SELECT plate, model FROM vehicles WHERE customer_id=?",
                               (t["customer_id"],)).fetchall()
    last = db.conn.execute(
        "SELECT order_no, order_date, service_type_raw, items, total_fen, advisor"
        " FROM repair_orders WHERE customer_id=? ORDER BY order_date DESC LIMIT 1",
        (t["customer_id"],)).fetchone()
    calls = db.conn.execute("SELECT called_at, outcome, note FROM calls WHERE task_id=? ORDER BY id",
                            (task_id,)).fetchall()
    return {"task": t, "customer": cust, "vehicles": vehicles, "last_order": last,
            "previous_calls": calls,
            "greeting": nz.greeting(cust[0], cust[1]) if cust and cust[0] else ""}


def due_calls(db, day: date, settings: dict, limit: int | None = None,
              now: datetime | None = None) -> tuple[list[dict], int]:
    """Today's calls in priority order (the call steps of today's list), and how many in all.

    With ``now``, a call the customer asked for at a later time is not offered yet.
    """
    from .planner import today_list

    data = today_list(db, day, settings, channel="call", include_days_off=False, limit=limit,
                      now=now)
    return data["tasks"], data["total"]
