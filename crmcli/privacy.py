"""Personal data (PIPL): masking what is shown, erasing a person on request.

- ``mask_phone('13900000079')`` is ``'139****0079'``: how a phone appears where
  the clerk did not ask for one person (a list of candidates for an ambiguous
  look-up).
- ``mask_value(field, value)``: an ID number flagged by an import is masked like
  a valid one (``441302********7255``), wherever a flagged value is shown.
- ``forget(db, customer_id, by=...)`` erases one person everywhere: the
  customer's name, phones, ID number, birthdays, occupation, address,
  employer, call preferences and notes; the values in the change log; call
  notes and corrected numbers; complaint texts and their notes; the cells kept
  for flagged and rejected rows; SMS texts and numbers sent; the row
  fingerprints of their orders; their open tasks are withdrawn. Kept, with no
  name attached: the record itself (``#id``, so orders, vehicles, calls,
  classes and the monthly figures still add up), opt-outs (they must never be
  contacted again: consent is set to refused). ``forgotten`` records who did it
  and when, and nothing about the person.

  A later import of a DMS file that still holds the person brings them back as
  a new customer: erase them in the DMS too.
"""

from __future__ import annotations

import sqlite_utils

from .db import dicts, write_transaction
from .i18n import _

ERASED = "(forgotten)"


def mask_phone(phone: str | None) -> str:
    """The first 3 and last 4 digits of a mobile, the middle starred; a shorter
    number keeps its last 4 only."""
    if not phone:
        return ""
    p = str(phone)
    if len(p) >= 11:
        return p[:3] + "*" * (len(p) - 7) + p[-4:]
    return "*" * max(len(p) - 4, 0) + p[-4:]


def mask_value(field: str | None, value: str | None) -> str | None:
    """A flagged or rejected cell as it may be shown: ID numbers masked."""
    if value and field == "id_number":
        from .normalize import mask_id_number  # not on `today`'s path: normalize is heavy

        return mask_id_number(str(value).strip())
    return value


CUSTOMER_ERASED = ("name", "gender", "gender_source", "mobile", "phone_kind", "other_phones",
                   "id_number", "birthday", "birthday_source", "lunar_birthday", "occupation",
                   "address", "employer", "preferred_call_time", "preferred_phone", "notes",
                   "mobile_source")


def forget(db: sqlite_utils.Database, customer_id: int, *, by: str, now: str) -> dict:
    """Erase customer ``customer_id``'s personal data; see the module docstring.
    Returns how many rows of each kind were cleared."""
    from .errors import NotFound

    with write_transaction(db):
        rows = dicts(db, "SELECT * FROM customers WHERE id = ?", (customer_id,))
        if not rows:
            raise NotFound(_("no customer #{customer_id}").format(customer_id=customer_id))
        c = rows[0]
        phones = {p for p in (c["mobile"], c["preferred_phone"]) if p}
        phones |= {p for p in (c["other_phones"] or "").replace(",", " ").split() if p}
        ex = db.conn.execute
        done: dict[str, int] = {}
        ex(f"UPDATE customers SET {', '.join(f'{k} = NULL' for k in CUSTOMER_ERASED)},"
           " merge_key = ?, callback_consent = 0, updated_at = ? WHERE id = ?",
           (f"forgotten:{customer_id}", now, customer_id))
        done["change_log_values"] = ex(
            "UPDATE changes SET old_value = NULL, new_value = NULL"
            " WHERE entity = 'customer' AND entity_id = ?", (customer_id,)).rowcount
        done["calls"] = ex("UPDATE calls SET note = NULL, corrected_phone = NULL"
                           " WHERE customer_id = ?", (customer_id,)).rowcount
        done["complaint_notes"] = ex(
            "UPDATE complaint_events SET note = NULL WHERE complaint_id IN"
            " (SELECT id FROM complaints WHERE customer_id = ?)", (customer_id,)).rowcount
        done["complaints"] = ex("UPDATE complaints SET text = ?, resolution = NULL"
                                " WHERE customer_id = ?", (ERASED, customer_id)).rowcount
        done["flagged_cells"] = ex("UPDATE row_problems SET value = NULL WHERE customer_id = ?",
                                   (customer_id,)).rowcount
        done["sms_sent"] = ex("UPDATE sms_ledger SET mobile = '', text = ? WHERE customer_id = ?",
                              (ERASED, customer_id)).rowcount
        marks = ",".join("?" * len(phones))
        done["phone_flags"] = ex(f"DELETE FROM phone_flags WHERE phone IN ({marks})",
                                 tuple(phones)).rowcount if phones else 0
        done["order_fingerprints"] = ex(
            "DELETE FROM order_row_prints WHERE order_id IN"
            " (SELECT id FROM repair_orders WHERE customer_id = ?)", (customer_id,)).rowcount
        # Birthdays and names can sit in a task's reason: every task keeps its kind only.
        done["tasks_withdrawn"] = ex(
            "UPDATE tasks SET state = 'withdrawn', state_reason = 'customer forgotten',"
            " updated_at = ? WHERE customer_id = ? AND state = 'open'",
            (now, customer_id)).rowcount
        ex("UPDATE tasks SET reason = ? WHERE customer_id = ?", (ERASED, customer_id))
        ex("INSERT INTO forgotten (customer_id, at, by_user) VALUES (?, ?, ?)",
           (customer_id, now, by))
    return {"customer_id": customer_id, "at": now, "by": by, **done}
