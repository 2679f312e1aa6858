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

from . import clock
from . import normalize as nz
from .db import dicts, write_transaction
from .errors import NotFound, UsageError
from .i18n import N_, _

OUTCOMES = ("reached", "no_answer", "busy", "wrong_number", "refused", "not_owner", "booked",
            "done_elsewhere")
# The outcomes where the customer was on the line (scores, complaints and answers allowed).
REACHED = ("reached", "booked", "done_elsewhere")
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
# Reminder calls ask what fits the customer (booked? when? done elsewhere?) rather than
# the six satisfaction questions of a post-repair callback.
REMINDER_KINDS = ("first_maintenance", "regular_maintenance", "warranty_check",
                  "insurance_compulsory", "insurance_commercial", "inspection", "advice_followup",
                  "no_show", "recovery")
QUESTIONS = ("overall", "advisor", "quality", "timeliness", "price", "cleanliness")


# The moments of calls, deadlines and appointments are stored to the minute (clock.py).
_now = clock.now
_iso = clock.minute


def parse_when(value: str | None, default: datetime | None = None,
               what: str = N_("the time"), *, past_only: bool = False,
               now: datetime | None = None) -> datetime | None:
    """'2026-11-27 15:00' -> datetime, the day in any form the imports read
    ('2026/11/27 15:00', '2026.11.27 15:00', '2026年11月27日 15:00', a 'T' between);
    a day alone is 09:00; in 1900-2100 (``limits.check_day``). With ``past_only`` a
    time more than 5 minutes after ``now`` (``clock.now()`` unless given) is refused:
    what happened cannot have happened tomorrow. 10:05 passes at 10:00, 10:06 does not.
    """
    from .i18n import _
    from .limits import check_day, parse_day

    if value is None:
        return default
    s = value.strip().replace("T", " ")
    day_text, _sep, time_text = s.partition(" ")
    what = _(what)
    bad = UsageError(_("{what}: {value!r} is not a time like 2026-11-27 15:00").format(
        what=what, value=value))
    try:
        clock_time = time.fromisoformat(time_text.strip()) if time_text.strip() else time(9, 0)
    except ValueError:
        raise bad from None
    try:
        day = parse_day(day_text, what)
    except UsageError:
        if not day_text[:4].isdigit() or len(day_text) < 8:
            raise bad from None
        raise  # a day of the right form but not real, or out of range: that message
    when = datetime.combine(day, clock_time).replace(second=0, microsecond=0, tzinfo=None)
    if past_only:
        if now is None:
            now = clock.now()
        if when > now + timedelta(minutes=5):
            raise UsageError(_("{what}: {when} is in the future; give the time it happened")
                             .format(what=what, when=when.isoformat(sep=" ", timespec="minutes")))
    return check_day(when, what)


# A call logged more than this from its task's due day, or a call-back or appointment
# set more than this after the call, is a mistyped year: 2062 for 2026 would hide a
# task for good.
FAR = timedelta(days=366)


def _check_far(task: dict, at: datetime, call_at: datetime | None,
               appointment: datetime | None, at_given: bool) -> None:
    due = datetime.fromisoformat(task["due_date"][:10])
    if at_given and abs(at - due) > FAR:
        raise UsageError(_("--at {iso} is more than a year from the task's due day {value}: "
                           "check the year").format(iso=_iso(at), value=task['due_date'][:10]))
    for name, when in (("--call-at", call_at), ("--appointment", appointment)):
        if when is not None and not timedelta(0) <= when - at <= FAR:
            raise UsageError(_("{name} {iso} must fall within a year after the call ({iso2}): "
                               "check the date").format(name=name, iso=_iso(when), iso2=_iso(at)))


def _already_logged(db, task_id: int, outcome: str, at: datetime) -> dict | None:
    """The same call logged before (same task, outcome and minute): a re-run after a
    lost confirmation, recorded once."""
    row = db.conn.execute("SELECT id FROM calls WHERE task_id = ? AND outcome = ?"
                          " AND substr(called_at, 1, 16) = ?",
                          (task_id, outcome, _iso(at))).fetchone()
    if row is None:
        return None
    state = db.conn.execute("SELECT state, state_reason FROM tasks WHERE id = ?",
                            (task_id,)).fetchone()
    return {"call_id": row[0], "task_id": task_id, "outcome": outcome, "task_state": state[0],
            "task_reason": state[1], "already_logged": True, "called_at": _iso(at)}


def normalise_outcome(value: str) -> str:
    key = value.strip().lower()
    if key not in OUTCOME_ALIASES:
        from .choices import OUTCOMES as NAMES

        # The names the call session and the lists show, in either language.
        for code, (zh, en) in NAMES.items():
            if key in (zh, en):
                return code
        raise UsageError(_("outcome {value!r}: use one of {items}").format(
                             value=value, items=', '.join(OUTCOMES)))
    return OUTCOME_ALIASES[key]


def _task(db, task_id: int) -> dict:
    rows = dicts(db, "SELECT t.*, c.name, c.gender, c.mobile FROM tasks t"
                     " LEFT JOIN customers c ON c.id = t.customer_id WHERE t.id = ?", (task_id,))
    if not rows:
        raise NotFound(_("no task #{task_id}; see `crmcli today` for the ids").format(
                           task_id=task_id))
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
    severity: str | None = None,
    resolution_ok: bool | None = None,
    lost_reason: str | None = None,
) -> dict:
    """Record one call on a task and apply what its outcome means. Returns what happened.

    ``booked`` needs the ``appointment`` time; ``done_elsewhere`` may say where
    (``elsewhere``: serviced, insured or inspected elsewhere). On a complaint
    follow-up call, ``resolution_ok`` is the customer's answer to "are you
    satisfied with the resolution?" (needed when reached). On a recovery call,
    ``lost_reason`` is why the customer left (one of the settings' [lost] reasons).
    """
    outcome = normalise_outcome(outcome)
    if outcome == "booked" and appointment is None:
        raise UsageError(_("booked needs the appointment time, e.g. --appointment '2026-12-01 "
                           "09:00'"))
    if appointment is not None and outcome != "booked":
        raise UsageError(_("--appointment goes with --outcome booked"))
    at_given = at is not None
    at = at or _now()
    scores = {k: v for k, v in (scores or {}).items() if v is not None}
    lo, hi = settings["calls"]["score_min"], settings["calls"]["score_max"]
    for q, v in scores.items():
        if q not in QUESTIONS:
            raise UsageError(_("unknown question {q!r}; questions: {items}").format(
                                 q=q, items=', '.join(QUESTIONS)))
        if not lo <= v <= hi:
            raise UsageError(_("score {q}={v} is outside the scale {lo}-{hi}").format(
                                 q=q, v=v, lo=lo, hi=hi))
    if (scores or complaint or lost_reason or resolution_ok is not None) \
            and outcome not in REACHED:
        raise UsageError(_("scores, complaints, answers and reasons need the customer reached "
                           "(reached, booked or done_elsewhere)"))
    if complaint:
        category = check_category(category, settings)
        severity = check_severity(severity)
    lost_reason = check_lost_reason(lost_reason, settings)
    corrected = None
    if phone:
        try:
            parsed = nz.parse_phone(phone)
        except ValueError as exc:
            from .reasons import translate

            raise UsageError(_("phone {phone!r}: {exc}").format(
                phone=phone, exc=translate(str(exc)))) from None
        corrected = parsed[0] if parsed else None
    from .planner import work_calendar

    wc = work_calendar(settings)
    with write_transaction(db):
        task = _task(db, task_id)
        repeat = _already_logged(db, task_id, outcome, at)
        if repeat is not None:
            return repeat
        _check_far(task, at, call_at, appointment, at_given)
        if task["channel"] == "sms":
            from .choices import label
            from .i18n import language

            # English names the kind by its key (scripts match it), Chinese by its name.
            kind = label("kind", task["kind"]) if language() == "zh_CN" else task["kind"]
            raise UsageError(_("task #{task_id} is an SMS ({kind}); there is no call to log").format(
                                 task_id=task_id, kind=kind))
        if task["state"] not in ("open",):
            from .choices import label
            from .reasons import translate

            why = f" ({translate(task['state_reason'])})" if task["state_reason"] else ""
            raise UsageError(_("task #{task_id} is {state}{value}; nothing to log").format(
                                 task_id=task_id, state=label("state", task["state"]), value=why))
        if lost_reason and task["kind"] != "recovery":
            raise UsageError(_("task #{task_id} is not a recovery call; a reason for leaving is "
                               "asked on recovery calls").format(task_id=task_id))
        if resolution_ok is not None and task["kind"] != FOLLOWUP_KIND:
            raise UsageError(_("task #{task_id} is not a complaint follow-up call").format(
                                 task_id=task_id))
        now = _iso(_now())
        call_id = db.conn.execute(
            "INSERT INTO calls (task_id, customer_id, clerk, called_at, logged_at, outcome,"
            " score_overall, score_advisor, score_quality, score_timeliness, score_price,"
            " score_cleanliness, note, call_back_at, corrected_phone, reminded_maintenance,"
            " appointment_at, lost_reason, resolution_ok)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (task_id, task["customer_id"], by, _iso(at), now, outcome,
             *[scores.get(q) for q in QUESTIONS], note, _iso(call_at) if call_at else None,
             corrected, 1 if reminded else 0,
             _iso(appointment) if appointment else None, lost_reason,
             None if resolution_ok is None else int(resolution_ok))).lastrowid
        if task["kind"] == FOLLOWUP_KIND and outcome in REACHED:
            result_followup = _resolution(db, task, resolution_ok, by, at, settings, wc)
        else:
            result_followup = {}
        effect = _apply_outcome(db, task, outcome, at, call_at, settings, wc, now, call_id,
                                appointment, elsewhere)
        result = {"call_id": call_id, "task_id": task_id, "outcome": outcome, **effect,
                  **result_followup}
        if outcome == "refused" and task["customer_id"]:
            # Refusing on the phone withdraws consent: an opt-out like any other, on file
            # with who heard it and when.
            from .optouts import record

            record(db, task["customer_id"], "call", reason=f"refused on the call for task"
                   f" #{task_id}", by=by, day=at.date(), now=now)
        contact = _contact(db, task)
        if corrected and outcome in ("reached", "booked", "done_elsewhere") and contact \
                and corrected != contact[1]:
            # The call went to whoever brought the car: their number is corrected on the
            # order; the owner's stays as it is.
            db.conn.execute("UPDATE repair_orders SET contact_phone=? WHERE id=?",
                            (corrected, task["order_id"]))
            _audit(db, "order", task["order_id"], "contact_phone", contact[1], corrected, now, by)
            result["phone_corrected"] = corrected
        elif corrected and outcome in ("reached", "booked", "done_elsewhere") and not contact \
                and task["customer_id"] \
                and corrected != task["mobile"]:
            # A clerk's correction: imports of older DMS data do not undo it.
            db.conn.execute("UPDATE customers SET mobile=?, phone_kind=?, mobile_source='call',"
                            " updated_at=? WHERE id=?", (corrected, parsed[1], now,
                                                         task["customer_id"]))
            _audit(db, "customer", task["customer_id"], "mobile", task["mobile"], corrected, now, by)
            from .customers import rekey

            rekey(db, task["customer_id"])  # the old number leaves the merge key
            from .customers import note_sources

            note_sources(db, "customer", task["customer_id"], {"mobile": task["mobile"]}, "call",
                         now=now, by=by)
            result["phone_corrected"] = corrected
        if complaint:
            cid = _open_complaint(db, task["customer_id"], category, complaint, by, at,
                                  settings, wc, task_id=task_id, call_id=call_id,
                                  severity=severity)
            db.conn.execute("UPDATE calls SET complaint_id=? WHERE id=?", (cid, call_id))
            result["complaint_id"] = cid
        if outcome == "reached" and settings["calls"]["thank_you_sms"] \
                and task["kind"] == "post_repair":
            _thank_you(db, task, at, settings, now)
            result["thank_you_sms"] = True
    return result


def check_lost_reason(reason: str | None, settings: dict) -> str | None:
    """Why a lost customer left: one of the settings' [lost] reasons, so the report
    can count them."""
    if reason is None or not reason.strip():
        return None
    reasons = settings["lost"]["reasons"]
    if reason.strip() not in reasons:
        raise UsageError(_("reason {reason!r} is not in the list: {items} (the list is [lost] "
                           "reasons in the settings)").format(
                             reason=reason, items=', '.join(reasons)))
    return reason.strip()


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


def _contact(db, task: dict) -> tuple | None:
    """(name, phone) of whoever brought the car, when a post-repair call goes to them
    rather than to the owner (the order's contact), else None."""
    if task["kind"] != "post_repair" or not task["order_id"]:
        return None
    row = db.conn.execute("SELECT contact_name, contact_phone FROM repair_orders WHERE id = ?",
                          (task["order_id"],)).fetchone()
    return tuple(row) if row and (row[0] or row[1]) else None


def _thank_you(db, task: dict, at: datetime, settings: dict, now: str) -> None:
    greeting = nz.greeting(task["name"], task["gender"]) if task["name"] else ""
    contact = db.conn.execute("SELECT contact_name FROM repair_orders WHERE id = ?",
                              (task["order_id"],)).fetchone() if task["order_id"] else None
    if contact and contact[0]:  # the person called: who brought the car (gender unknown)
        greeting = nz.greeting(contact[0], None)
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
        raise UsageError(_("[complaints] business hours must be times like 09:00")) from None


SEVERITIES = {"normal": "一般", "serious": "严重", "major": "重大"}
_SEVERITY_ALIASES = {**{k: k for k in SEVERITIES}, **{v: k for k, v in SEVERITIES.items()}}


def check_category(category: str | None, settings: dict) -> str:
    """The complaint category, which must be one of the settings' list (the report
    counts by it: a free word would become a category of its own)."""
    cats = settings["complaints"]["categories"]
    if category is None or not category.strip():
        if "其他" in cats:
            return "其他"
        raise UsageError(_("a complaint needs a category: one of {items}").format(
                             items=', '.join(cats)))
    if category.strip() not in cats:
        raise UsageError(_("complaint category {category!r} is not in the list: {items} (the "
                           "list is [complaints] categories in the settings)").format(
                             category=category, items=', '.join(cats)))
    return category.strip()


def check_severity(severity: str | None) -> str:
    """'normal' (一般), 'serious' (严重) or 'major' (重大); Chinese or English."""
    if severity is None:
        return "normal"
    key = _SEVERITY_ALIASES.get(severity.strip().lower())
    if key is None:
        raise UsageError(_("severity {severity!r}: use one of {items}").format(
            severity=severity, items=", ".join(f"{k} ({v})" for k, v in SEVERITIES.items())))
    return key


def deadlines(opened: datetime, settings: dict, wc) -> tuple[datetime, datetime]:
    """(escalate by, reply by) for a complaint opened at ``opened``.

    Half a working day to reach the general manager; the manager's working day
    to reply counts from the moment it reached them (DOMAIN.md). Until it is
    escalated, the reply deadline counts from the escalation deadline, and
    escalating moves it to count from the escalation itself (``reply_deadline``).
    Thursday 2026-11-26 10:30 (hours 09:00-18:00, lunch 12:00-13:30, 7.5 h a day):
    escalate by 15:45, reply by Friday 15:45.
    """
    esc = _add_days(opened, settings["complaints"]["escalate_within_days"], settings, wc)
    return esc, reply_deadline(esc, settings, wc)


def reply_deadline(escalated: datetime, settings: dict, wc) -> datetime:
    """One working day (a setting) of business hours from the escalation."""
    return _add_days(escalated, settings["complaints"]["reply_within_days"], settings, wc)


def _add_days(start: datetime, days: float, settings: dict, wc) -> datetime:
    from .calendar import working_day_hours

    h = _hours(settings)
    return wc.add_working_hours(start, days * working_day_hours(**h), **h)


def _open_complaint(db, customer_id, category, text, by, at, settings, wc, *, task_id=None,
                    call_id=None, owner=None, severity=None) -> int:
    category = check_category(category, settings)
    esc, reply = deadlines(at, settings, wc)
    cid = db.conn.execute(
        "INSERT INTO complaints (customer_id, task_id, call_id, category, text, owner, state,"
        " opened_at, opened_by, escalate_by, reply_by, severity)"
        " VALUES (?,?,?,?,?,?,'open',?,?,?,?,?)",
        (customer_id, task_id, call_id, category, text, owner, _iso(at), by, _iso(esc),
         _iso(reply), check_severity(severity))).lastrowid
    db.conn.execute("INSERT INTO complaint_events (complaint_id, at, by_user, action, note)"
                    " VALUES (?,?,?,?,?)", (cid, _iso(at), by, "opened", text))
    return cid


def add_complaint(db, customer_id: int | None, category: str, text: str, settings: dict, *,
                  by: str, at: datetime | None = None, owner: str | None = None,
                  severity: str | None = None) -> dict:
    from .planner import work_calendar

    wc = work_calendar(settings)
    at = at or _now()
    category = check_category(category, settings)
    severity = check_severity(severity)
    with write_transaction(db):
        cid = _open_complaint(db, customer_id, category, text, by, at, settings, wc, owner=owner,
                              severity=severity)
    return complaint(db, cid)


STEPS = {"escalate": ("open", "escalated"), "reply": ("escalated", "replied"),
         "close": ("replied", "closed")}
FOLLOWUP_KIND = "complaint_followup"


def advance(db, complaint_id: int, step: str, *, by: str, at: datetime | None = None,
            note: str | None = None, owner: str | None = None,
            settings: dict | None = None) -> dict:
    """Move a complaint on: escalate (to the GM), reply (to the customer), close.

    * escalating sets the reply deadline: one working day from now;
    * a reply may come before a formal escalation (the manager called the
      customer at once); it plans a call, a working day later, asking the
      customer whether they are satisfied with the resolution, whose outcome
      closes the complaint (``log_call(..., resolution_ok=...)``);
    * closing by hand needs a reply first (a customer who cannot be reached
      for the follow-up), and withdraws the follow-up call;
    * a step done after its deadline marks the complaint late for it, and the
      mark stays whatever comes later.
    """
    from .planner import work_calendar
    from .settings import DEFAULTS

    settings = settings or DEFAULTS
    wc = work_calendar(settings)
    at = at or _now()
    stamp = _iso(at)
    with write_transaction(db):
        row = dicts(db, "SELECT * FROM complaints WHERE id=?", (complaint_id,))
        if not row:
            raise NotFound(_("no complaint #{complaint_id}").format(complaint_id=complaint_id))
        k = row[0]
        state = k["state"]
        new = STEPS[step][1]
        col = {"escalate": "escalated", "reply": "replied", "close": "closed"}[step]
        if state == new:  # the same step again: done already, nothing to change
            return dict(complaint(db, complaint_id), unchanged=True)
        _check_step(k, step)
        late_esc = k["late_escalation"] or (state == "open" and stamp > k["escalate_by"])
        late_reply = k["late_reply"] or (step == "reply" and stamp > k["reply_by"])
        reply_by = _iso(reply_deadline(at, settings, wc)) if step == "escalate" else k["reply_by"]
        db.conn.execute(f"UPDATE complaints SET state=?, {col}_at=?, {col}_by=?,"
                        " owner=coalesce(?, owner), late_escalation=?, late_reply=?, reply_by=?"
                        " WHERE id=?", (new, stamp, by, owner, int(bool(late_esc)),
                                        int(bool(late_reply)), reply_by, complaint_id))
        db.conn.execute("INSERT INTO complaint_events (complaint_id, at, by_user, action, note)"
                        " VALUES (?,?,?,?,?)", (complaint_id, stamp, by, step, note))
        if step == "reply" and k["customer_id"]:
            _plan_followup(db, k, at, settings, wc)
        if step == "close" and k["followup_task_id"]:
            db.conn.execute("UPDATE tasks SET state='withdrawn', state_reason=?, closed_at=?,"
                            " updated_at=? WHERE id=? AND state='open'",
                            (f"complaint #{complaint_id} closed by {by}", stamp, stamp,
                             k["followup_task_id"]))
    return complaint(db, complaint_id)


def _check_step(k: dict, step: str) -> None:
    """Refuse a step the complaint's state does not allow, saying why and what to do."""
    state, cid = k["state"], k["id"]
    if state == "closed":
        raise UsageError((_("complaint #{id} was closed on {at}: it cannot be escalated any more; "
                            "open a new complaint if the customer complains again")
                          if step == "escalate" else
                          _("complaint #{id} was closed on {at}: there is nothing left to reply "
                            "to; open a new complaint if the customer complains again"))
                         .format(id=cid, at=k["closed_at"]))
    if step == "escalate" and state == "replied":
        raise UsageError(_("complaint #{id} was replied to on {at}: escalating comes before the "
                           "reply, so there is nothing to escalate now").format(
                               id=cid, at=k["replied_at"]))
    if step == "close" and state in ("open", "escalated"):
        raise UsageError(_("complaint #{id} has no reply yet: cannot close it before a reply; "
                           "record the reply first (crmcli complaint reply {id})").format(id=cid))


def _plan_followup(db, k: dict, at: datetime, settings: dict, wc) -> int:
    """The call asking whether the customer is satisfied with the resolution."""
    c = settings["complaints"]
    due = at.date()
    for _day in range(c["followup_after_days"]):
        due = wc.next_working_day(due)
    n = db.conn.execute("SELECT count(*) FROM complaint_events WHERE complaint_id=?"
                        " AND action='reply'", (k["id"],)).fetchone()[0]
    now = _iso(_now())
    tid = db.conn.execute(
        "INSERT INTO tasks (key, kind, customer_id, due_date, expires_on, channel, weight,"
        " reason, state, planned_at, updated_at) VALUES (?,?,?,?,?,'call',?,?,'open',?,?)",
        (f"{FOLLOWUP_KIND}:k{k['id']}:{n}", FOLLOWUP_KIND, k["customer_id"], due.isoformat(),
         (due + timedelta(days=c["followup_open_days"])).isoformat(),
         settings["planning"]["weight_complaint"],
         f"投诉回访 #{k['id']}（{k['category']}）：客户对处理结果是否满意？ {k['text']}",
         now, now)).lastrowid
    db.conn.execute("UPDATE complaints SET followup_task_id=? WHERE id=?", (tid, k["id"]))
    return tid


def _resolution(db, task: dict, ok: bool | None, by: str, at: datetime, settings: dict,
                wc) -> dict:
    """A reached follow-up call: satisfied closes the complaint; not satisfied sends it
    back to the manager with a new reply deadline (its late marks stay)."""
    if ok is None:
        raise UsageError(_("task #{id} asks whether the customer is satisfied with the "
                           "resolution: say --satisfied or --not-satisfied").format(id=task['id']))
    row = db.conn.execute("SELECT id, state FROM complaints WHERE followup_task_id=?",
                          (task["id"],)).fetchone()
    if row is None or row[1] != "replied":
        return {}
    cid, stamp = row[0], _iso(at)
    if ok:
        db.conn.execute("UPDATE complaints SET state='closed', closed_at=?, closed_by=?,"
                        " resolution='satisfied' WHERE id=?", (stamp, by, cid))
        action, note = "close", "客户对处理结果满意 (satisfied with the resolution)"
    else:
        db.conn.execute("UPDATE complaints SET state='escalated', resolution='not_satisfied',"
                        " reply_by=? WHERE id=?",
                        (_iso(reply_deadline(at, settings, wc)), cid))
        action, note = "reopen", "客户对处理结果不满意 (not satisfied with the resolution)"
    db.conn.execute("INSERT INTO complaint_events (complaint_id, at, by_user, action, note)"
                    " VALUES (?,?,?,?,?)", (cid, stamp, by, action, note))
    return {"complaint_id": cid, "complaint_state": "closed" if ok else "escalated"}


def complaint(db, complaint_id: int) -> dict:
    rows = dicts(db, "SELECT k.*, c.name AS customer_name, c.mobile FROM complaints k"
                     " LEFT JOIN customers c ON c.id = k.customer_id WHERE k.id = ?",
                 (complaint_id,))
    if not rows:
        raise NotFound(_("no complaint #{complaint_id}").format(complaint_id=complaint_id))
    out = rows[0]
    out["events"] = [dict(zip(("at", "by", "action", "note"), r)) for r in db.conn.execute(
        "SELECT at, by_user, action, note FROM complaint_events WHERE complaint_id=? ORDER BY id",
        (complaint_id,))]
    return out


def overdue_marks(k: dict, now: datetime) -> list[str]:
    """What a complaint is or was late for at ``now``: 'escalation' and/or 'reply'.

    A step done after its deadline keeps its mark: a complaint escalated late
    and answered on time still shows 'escalation'."""
    marks = []
    stamp = _iso(now)
    if k.get("late_escalation") or (k["state"] == "open" and k["escalate_by"] < stamp):
        marks.append("escalation")
    if k.get("late_reply") or (k["state"] in ("open", "escalated") and k["reply_by"] < stamp):
        marks.append("reply")
    return marks


def list_complaints(db, now: datetime, *, include_closed: bool = False) -> list[dict]:
    """Complaints, overdue first (most late first), then newest."""
    where = "" if include_closed else "WHERE k.state != 'closed'"
    items = dicts(
        db, "SELECT k.id, k.customer_id, c.name AS customer_name, c.mobile, k.category, k.text,"
        " k.severity, k.owner, k.state, k.opened_at, k.escalate_by, k.reply_by, k.escalated_at,"
        " k.replied_at, k.closed_at, k.late_escalation, k.late_reply, k.resolution,"
        f" k.followup_task_id FROM complaints k LEFT JOIN customers c ON c.id = k.customer_id"
        f" {where}")
    for k in items:
        k["overdue"] = overdue_marks(k, now)
    late = sorted((k for k in items if k["overdue"]), key=lambda k: (k["escalate_by"], k["id"]))
    rest = sorted((k for k in items if not k["overdue"]), key=lambda k: k["opened_at"],
                  reverse=True)
    return late + rest


# --------------------------------------------------------------------------- actions


def check_deadline(deadline: date, at: datetime, force: bool = False) -> date:
    """An action's deadline must not be past when it is added (``at``): a typo in the
    year would make it overdue from its first day. ``force`` accepts it (recording an
    old action from paper). The day it is added is not past.

    >>> check_deadline(date(2026, 11, 26), datetime(2026, 11, 26, 10, 0))
    datetime.date(2026, 11, 26)
    """
    if deadline < at.date() and not force:
        raise UsageError(_("--deadline {due} is already past (on {day}); give a later day, or "
                           "--force to record it anyway").format(due=deadline, day=at.date()))
    return deadline


def add_action(db, text: str, owner: str, deadline: date, *, by: str, kind: str = "corrective",
               category: str | None = None, month: str | None = None,
               complaint_id: int | None = None, at: datetime | None = None,
               metric: str | None = None, settings: dict | None = None) -> int:
    """Add a corrective or preventive action. ``metric`` names the report figure it is
    meant to move (``stats.METRICS``); its value in the report of ``month`` (default:
    the month before the action was added) is kept as the effect's "before"."""
    from . import stats

    if kind not in ("corrective", "preventive"):
        raise UsageError(_("an action is corrective or preventive"))
    at = at or _now()
    if month is not None:
        from .limits import parse_month

        month = parse_month(month, at.date())  # as in stats: '2026/11', '2026年11月', '11'
    before = before_period = None
    if metric is not None:
        stats.check_metric(metric)
        if settings is not None:
            before_period = month or stats.month_of(at.date(), -1)
            before = stats.metric_value(
                stats.report(db, settings, month=before_period, compare=False), metric)
    with write_transaction(db):
        if complaint_id is not None and db.conn.execute(
                "SELECT 1 FROM complaints WHERE id=?", (complaint_id,)).fetchone() is None:
            raise NotFound(_("no complaint #{complaint_id}").format(complaint_id=complaint_id))
        return db.conn.execute(
            "INSERT INTO actions (text, owner, deadline, kind, category, report_month,"
            " complaint_id, created_at, created_by, metric, effect_before, effect_before_period)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (text, owner, deadline.isoformat(), kind, category, month, complaint_id,
             _iso(at), by, metric, before, before_period)).lastrowid


def approve_action(db, action_id: int, *, by: str, at: datetime | None = None) -> None:
    """The service manager's approval of an action (整改措施审批)."""
    with write_transaction(db):
        row = db.conn.execute("SELECT state, approved_at FROM actions WHERE id=?",
                              (action_id,)).fetchone()
        if row is None:
            raise NotFound(_("no action #{action_id}").format(action_id=action_id))
        if row[1]:
            raise UsageError(_("action #{action_id} was approved on {value}").format(
                                 action_id=action_id, value=row[1]))
        if row[0] == "done":
            raise UsageError(_("action #{action_id} is already done").format(action_id=action_id))
        db.conn.execute("UPDATE actions SET approved_at=?, approved_by=? WHERE id=?",
                        (_iso(at or _now()), by, action_id))


def finish_action(db, action_id: int, *, by: str, note: str | None = None,
                  at: datetime | None = None, settings: dict | None = None) -> dict:
    """Close an action. When it names a metric, its effect's "after" is that figure in
    the report of the month it was closed in, up to the closing day (the month so
    far counts only what has fallen due)."""
    from . import stats

    at = at or _now()
    row = db.conn.execute("SELECT state, metric FROM actions WHERE id=?", (action_id,)).fetchone()
    if row is None:
        raise NotFound(_("no action #{action_id}").format(action_id=action_id))
    if row[0] == "done":
        raise UsageError(_("action #{action_id} is already done").format(action_id=action_id))
    after = after_period = None
    if row[1] and settings is not None:
        after_period = stats.month_of(at.date())
        after = stats.metric_value(stats.report(db, settings, month=after_period,
                                                today=at.date(), compare=False), row[1])
    with write_transaction(db):
        db.conn.execute("UPDATE actions SET state='done', done_at=?, done_by=?, note=?,"
                        " effect_after=?, effect_after_period=? WHERE id=? AND state='open'",
                        (_iso(at), by, note, after, after_period, action_id))
    return {"action_id": action_id, "metric": row[1], "after": after,
            "after_period": after_period}


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
