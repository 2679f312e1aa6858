"""Opt-outs: what a customer declined, with the reason, the day and who set it.

One row per (customer, what). ``what`` is one of:

* ``all``: do not contact at all (全部拒绝);
* ``sms`` or ``call``: no contact by that channel;
* ``marketing`` or ``service``: no contact of that group of kinds (e.g. no
  greetings or campaigns, yes service reminders);
* one task kind, e.g. ``birthday``.

Planning (``planner.apply_consent``), ``today``, ``call``, the export and
broadcasts all ask ``allowed_channel`` what is left of a contact. Adding an
opt-out also withdraws (or narrows) the customer's open tasks at once, so the
day's lists honour it before the next plan.

>>> allowed_channel({'sms'}, 'first_maintenance', 'sms_call')
'call'
>>> allowed_channel({'marketing'}, 'birthday', 'sms') is None
True
"""

from __future__ import annotations

from datetime import date

import sqlite_utils

from . import clock
from .db import dicts, write_transaction
from .errors import NotFound, UsageError
from .i18n import _

# Greetings, campaigns and the offers of recovery calls: what "no marketing" stops.
# Everything else is service (reminders, callbacks, thank-you notes).
MARKETING_KINDS = frozenset({"birthday", "holiday", "campaign", "weather", "recovery"})
GROUPS = ("all", "sms", "call", "marketing", "service")
OTHER_KINDS = ("thank_you_sms", "campaign", "weather", "rescheduled")


def group(kind: str) -> str:
    """'marketing' or 'service'."""
    return "marketing" if kind in MARKETING_KINDS else "service"


def blocks_kind(outs: set[str] | frozenset[str], kind: str) -> bool:
    """True when an opt-out stops every contact of this kind, whatever the channel."""
    return bool(outs) and ("all" in outs or kind in outs or group(kind) in outs)


def allowed_channel(outs: set[str] | frozenset[str], kind: str, channel: str,
                    calls_ok: bool = True) -> str | None:
    """What is left of a contact after the customer's opt-outs: the channel, or None.

    An ``sms_call`` contact keeps its call when SMS is declined and its SMS when
    calls are (``calls_ok`` False: the customer refused callbacks).
    """
    if blocks_kind(outs, kind):
        return None
    sms_ok = "sms" not in outs
    calls_ok = calls_ok and "call" not in outs
    if channel == "sms_call":
        if sms_ok and calls_ok:
            return "sms_call"
        return "sms" if sms_ok else ("call" if calls_ok else None)
    if channel == "sms":
        return "sms" if sms_ok else None
    return channel if calls_ok else None


def known_whats() -> tuple[str, ...]:
    from .planner import PLANNED_KINDS

    return GROUPS + tuple(sorted(PLANNED_KINDS)) + OTHER_KINDS


def check_what(what: str) -> str:
    w = (what or "").strip().lower()
    if w not in known_whats():
        raise UsageError(_("opt-out {what!r}: use all, sms, call, marketing, service or a kind "
                           "({items})").format(
                             what=what, items=', '.join(known_whats()[len(GROUPS):])))
    return w


def for_customers(db: sqlite_utils.Database) -> dict[int, set[str]]:
    """Every customer's opt-outs: {customer id: {what, ...}}."""
    out: dict[int, set[str]] = {}
    for cid, what in db.conn.execute("SELECT customer_id, what FROM optouts"):
        out.setdefault(cid, set()).add(what)
    return out


def of_customer(db: sqlite_utils.Database, customer_id: int) -> list[dict]:
    return dicts(db, "SELECT what, since, reason, by_user FROM optouts WHERE customer_id = ?"
                     " ORDER BY what", (customer_id,))


def phone_flags(db: sqlite_utils.Database, customer: dict) -> list[dict]:
    """The customer's numbers the SMS platform reported as failing (see ``smsreport``)."""
    import re

    numbers = {customer.get("mobile"), customer.get("preferred_phone"),
               *re.findall(r"\d+", customer.get("other_phones") or "")} - {None, ""}
    if not numbers:
        return []
    marks = ",".join("?" * len(numbers))
    return dicts(db, f"SELECT phone, reason, since FROM phone_flags WHERE phone IN ({marks})"
                     " ORDER BY phone", sorted(numbers))


def unflag(db: sqlite_utils.Database, phone: str, *, by: str) -> dict:
    """The number works again (checked with the customer): SMS may go to it."""
    now = clock.stamp()
    with write_transaction(db):
        row = db.conn.execute("SELECT reason FROM phone_flags WHERE phone = ?", (phone,)
                              ).fetchone()
        if row is None:
            raise NotFound(_("{phone} is not flagged; flagged numbers show on `crmcli customer "
                             "show`").format(phone=phone))
        db.conn.execute("DELETE FROM phone_flags WHERE phone = ?", (phone,))
        for (cid,) in db.conn.execute("SELECT id FROM customers WHERE mobile = ?"
                                      " OR preferred_phone = ? OR other_phones LIKE ?",
                                      (phone, phone, f"%{phone}%")).fetchall():
            db.conn.execute(
                "INSERT INTO changes (import_id, entity, entity_id, field, old_value, new_value,"
                " changed_at, by_user) VALUES (NULL, 'customer', ?, 'phone_flag', ?, NULL, ?, ?)",
                (cid, f"{phone}: {row[0]}", now, by))
    return {"phone": phone, "unflagged": True}


def record(db: sqlite_utils.Database, customer_id: int, what: str, *, reason: str, by: str,
           day: date, now: str | None = None) -> bool:
    """Store one opt-out and apply it to the open tasks; inside the caller's transaction.

    Returns False when the customer had it already (the first reason is kept).
    """
    now = now or clock.stamp()
    cur = db.conn.execute("INSERT OR IGNORE INTO optouts (customer_id, what, since, reason, by_user)"
                          " VALUES (?,?,?,?,?)", (customer_id, what, day.isoformat(), reason, by))
    if not cur.rowcount:
        return False
    db.conn.execute(
        "INSERT INTO changes (import_id, entity, entity_id, field, old_value, new_value,"
        " changed_at, by_user) VALUES (NULL, 'customer', ?, 'optout', NULL, ?, ?, ?)",
        (customer_id, f"{what}: {reason}", now, by))
    _apply_to_open_tasks(db, customer_id, what, now)
    return True


def _apply_to_open_tasks(db, customer_id: int, what: str, now: str) -> None:
    outs = {r[0] for r in db.conn.execute("SELECT what FROM optouts WHERE customer_id = ?",
                                          (customer_id,))}
    consent = db.conn.execute("SELECT callback_consent FROM customers WHERE id = ?",
                              (customer_id,)).fetchone()
    calls_ok = not consent or consent[0] != 0
    for tid, kind, channel in db.conn.execute(
            "SELECT id, kind, channel FROM tasks WHERE customer_id = ? AND state = 'open'",
            (customer_id,)).fetchall():
        left = allowed_channel(outs, kind, channel, calls_ok)
        if left is None:
            db.conn.execute("UPDATE tasks SET state='withdrawn', state_reason=?, closed_at=?,"
                            " updated_at=? WHERE id=?", (f"opted out: {what}", now, now, tid))
        elif left != channel:
            db.conn.execute("UPDATE tasks SET channel=?, updated_at=? WHERE id=?",
                            (left, now, tid))


def add(db: sqlite_utils.Database, customer_id: int, what: str, *, reason: str, by: str,
        day: date) -> dict:
    """``crmcli optout add``: one opt-out for one customer, in its own transaction."""
    what = check_what(what)
    if not (reason or "").strip():
        raise UsageError(_("say why (--reason), e.g. 'asked on the phone 2026-12-01'"))
    with write_transaction(db):
        if not db.conn.execute("SELECT 1 FROM customers WHERE id = ?", (customer_id,)).fetchone():
            raise NotFound(_("no customer #{customer_id}").format(customer_id=customer_id))
        added = record(db, customer_id, what, reason=reason.strip(), by=by, day=day)
    return {"customer_id": customer_id, "what": what, "added": added}


def remove(db: sqlite_utils.Database, customer_id: int, what: str, *, by: str) -> dict:
    """``crmcli optout remove``: the customer agrees again; tasks withdrawn stay withdrawn."""
    what = check_what(what)
    now = clock.stamp()
    with write_transaction(db):
        row = db.conn.execute("SELECT reason FROM optouts WHERE customer_id = ? AND what = ?",
                              (customer_id, what)).fetchone()
        if row is None:
            raise NotFound(_("customer #{customer_id} has no {what!r} opt-out; see `crmcli "
                             "optout list`").format(customer_id=customer_id, what=what))
        db.conn.execute("DELETE FROM optouts WHERE customer_id = ? AND what = ?",
                        (customer_id, what))
        db.conn.execute(
            "INSERT INTO changes (import_id, entity, entity_id, field, old_value, new_value,"
            " changed_at, by_user) VALUES (NULL, 'customer', ?, 'optout', ?, NULL, ?, ?)",
            (customer_id, f"{what}: {row[0]}", now, by))
    return {"customer_id": customer_id, "what": what, "removed": True}


def list_all(db: sqlite_utils.Database, customer_id: int | None = None) -> list[dict]:
    """Opt-outs with the customer's name and mobile, newest first."""
    where = "WHERE o.customer_id = ?" if customer_id is not None else ""
    return dicts(db, "SELECT o.customer_id, c.name, c.mobile, o.what, o.since, o.reason,"
                     " o.by_user FROM optouts o LEFT JOIN customers c ON c.id = o.customer_id"
                     f" {where} ORDER BY o.since DESC, o.customer_id, o.what",
                 (customer_id,) if customer_id is not None else ())
