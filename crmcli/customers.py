"""The customer file: finding a customer, reading their whole file, editing what exports lack.

Plain functions over the store; they return dicts and lists and never print.
"""

from __future__ import annotations

import re
from datetime import date

import sqlite_utils

from . import clock
from . import normalize as nz
from .db import dicts, write_transaction
from .errors import NotFound, UsageError
from .i18n import _

# The fields imports fill as well: a clerk's value of one stands until an export brings
# new information about it (see note_sources and importing.merge.Merger._set).
IMPORTED = {"name", "gender", "mobile", "birthday", "lunar_birthday", "occupation", "address",
            "employer", "other_phones", "id_number", "usage", "plate", "vin"}

EDITABLE = {
    "name", "gender", "mobile", "birthday", "lunar_birthday", "occupation", "address", "employer",
    "preferred_call_time", "preferred_phone", "callback_consent", "notes",
}


def find(db: sqlite_utils.Database, query: str) -> list[dict]:
    """Customers matching a phone, plate, VIN, name or id (``#12`` or ``12``), best first."""
    q = (query or "").strip()
    if not q:
        raise UsageError(_("say whom to look for: a phone, plate, VIN, name or customer id"))
    if re.fullmatch(r"#?\d{1,9}", q):
        hit = dicts(db, "SELECT * FROM customers WHERE id = ?", (int(q.lstrip("#")),))
        if hit:
            return hit
    try:
        phone = nz.parse_phone(q)
    except ValueError:
        phone = None
    if phone:
        hit = dicts(db, "SELECT * FROM customers WHERE mobile = ? OR preferred_phone = ?"
                        " OR other_phones LIKE ? ORDER BY id", (phone[0], phone[0], f"%{phone[0]}%"))
        if hit:
            return hit
    cleaned = nz.halfwidth(q).upper().replace(" ", "").replace("·", "")
    if len(cleaned) == 17:
        hit = dicts(db, "SELECT c.* FROM customers c JOIN vehicles v ON v.customer_id = c.id"
                        " WHERE v.vin = ?", (cleaned,))
        if hit:
            return hit
    hit = dicts(db, "SELECT DISTINCT c.* FROM customers c JOIN vehicles v ON v.customer_id = c.id"
                    " WHERE v.plate = ? ORDER BY c.id", (cleaned,))
    if hit:
        return hit
    hit = dicts(db, "SELECT * FROM customers WHERE name = ? ORDER BY id", (q,))
    if hit:
        return hit
    return dicts(db, "SELECT * FROM customers WHERE name LIKE ? ORDER BY name, id LIMIT 50",
                 (f"%{q}%",))


def get_one(db: sqlite_utils.Database, query: str) -> dict:
    hits = find(db, query)
    if not hits:
        raise NotFound(_("no customer matches {query!r}; try a phone number, plate, VIN or name").format(
                           query=query))
    if len(hits) > 1:
        from .privacy import mask_phone

        # Only the candidates' masked numbers: the clerk has not named any of them yet.
        names = ", ".join(f"#{h['id']} {h['name'] or '?'} {mask_phone(h['mobile'])}".strip()
                          for h in hits[:8])
        raise UsageError(_("{count} customers match {query!r}: {names}; say which by #id").format(
                             count=len(hits), query=query, names=names))
    return hits[0]


def customer_file(db: sqlite_utils.Database, customer_id: int) -> dict:
    """Everything on file for one customer: the record, vehicles, orders with totals, flags."""
    cust = dicts(db, "SELECT * FROM customers WHERE id = ?", (customer_id,))
    if not cust:
        raise NotFound(_("no customer #{customer_id}").format(customer_id=customer_id))
    customer = cust[0]
    vehicles = dicts(
        db,
        "SELECT v.*, 1 AS current_owner FROM vehicles v WHERE v.customer_id = :id"
        " UNION ALL SELECT v.*, 0 FROM vehicles v JOIN vehicle_owners o ON o.vehicle_id = v.id"
        " WHERE o.customer_id = :id AND o.until IS NOT NULL AND v.customer_id IS NOT :id"
        " ORDER BY current_owner DESC, id",
        {"id": customer_id},
    )
    vehicle_ids = [v["id"] for v in vehicles]
    marks = ",".join("?" * len(vehicle_ids)) or "NULL"
    orders = dicts(
        db,
        f"SELECT o.*, v.plate FROM repair_orders o LEFT JOIN vehicles v ON v.id = o.vehicle_id"
        f" WHERE o.customer_id = ? OR o.vehicle_id IN ({marks})"
        f" ORDER BY o.order_date DESC, o.order_no DESC",
        (customer_id, *vehicle_ids),
    )
    # A flag once, as the latest import said it: a re-import of the same row flags it again.
    flags = dicts(
        db,
        f"SELECT p.row_no, p.field, p.column_name, p.value, p.reason, p.order_no, i.file_name,"
        f" i.started_at FROM row_problems p JOIN imports i ON i.id = p.import_id"
        f" WHERE p.id IN (SELECT MAX(id) FROM row_problems WHERE severity = 'flagged'"
        f" AND (customer_id = ? OR vehicle_id IN ({marks}))"
        f" GROUP BY field, value, reason, coalesce(order_no, ''))"
        f" ORDER BY p.id DESC LIMIT 50",
        (customer_id, *vehicle_ids),
    )
    total = sum(o["total_fen"] or 0 for o in orders)
    # The rest of the file, newest first: calls, open tasks, complaints, what changed.
    calls = dicts(db, "SELECT c.id, c.called_at, c.outcome, c.clerk, c.score_overall, c.note,"
                      " t.kind FROM calls c LEFT JOIN tasks t ON t.id = c.task_id"
                      " WHERE c.customer_id = ? ORDER BY c.called_at DESC, c.id DESC LIMIT 50",
                  (customer_id,))
    open_tasks = dicts(db, "SELECT id, kind, due_date, channel, state, attempts FROM tasks"
                           " WHERE customer_id = ? AND state IN ('open', 'sent')"
                           " ORDER BY due_date DESC, id DESC LIMIT 50", (customer_id,))
    complaints = dicts(db, "SELECT id, opened_at, category, state, severity, text, owner"
                           " FROM complaints WHERE customer_id = ?"
                           " ORDER BY opened_at DESC, id DESC LIMIT 50", (customer_id,))
    history = dicts(
        db,
        f"SELECT ch.changed_at, ch.entity, ch.entity_id, ch.field, ch.old_value, ch.new_value,"
        f" ch.by_user, ch.reason, i.file_name FROM changes ch"
        f" LEFT JOIN imports i ON i.id = ch.import_id"
        f" WHERE (ch.entity = 'customer' AND ch.entity_id = ?)"
        f" OR (ch.entity = 'vehicle' AND ch.entity_id IN ({marks}))"
        f" ORDER BY ch.changed_at DESC, ch.id DESC LIMIT 50",
        (customer_id, *vehicle_ids),
    )
    from .classify import explain
    from .optouts import of_customer, phone_flags

    return {
        "classification": explain(db, customer_id),
        "customer": customer,
        "greeting": nz.greeting(customer["name"], customer["gender"]),
        "vehicles": vehicles,
        "orders": orders,
        "orders_total_fen": total,
        "visits": len(orders),
        "last_visit": orders[0]["order_date"] if orders else None,
        "flags": flags,
        "calls": calls,
        "open_tasks": open_tasks,
        "complaints": complaints,
        "history": history,
        "optouts": of_customer(db, customer_id),
        "phone_flags": phone_flags(db, customer),
    }


def list_customers(
    db: sqlite_utils.Database,
    *,
    name: str | None = None,
    phone: str | None = None,
    plate: str | None = None,
    model: str | None = None,
    no_consent: bool = False,
    value_class: str | None = None,
    age_band: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[dict]:
    """Customers with their vehicle count, last visit and spend, filtered, by name."""
    where, params = [], []
    if name:
        where.append("c.name LIKE ?")
        params.append(f"%{name}%")
    if phone:
        where.append("(c.mobile LIKE ? OR c.other_phones LIKE ?)")
        params += [f"%{phone}%", f"%{phone}%"]
    if plate:
        where.append("c.id IN (SELECT customer_id FROM vehicles WHERE plate LIKE ?)")
        params.append(f"%{nz.halfwidth(plate).upper()}%")
    if model:
        where.append("c.id IN (SELECT customer_id FROM vehicles WHERE model LIKE ?)")
        params.append(f"%{model}%")
    if no_consent:
        where.append("c.callback_consent = 0")
    if value_class or age_band:
        from .classify import BAND_ALIASES, CLASSES

        if value_class and value_class.upper() not in CLASSES:
            raise UsageError(_("class {value_class!r}: use A, B, C or D").format(
                                 value_class=value_class))
        if age_band and age_band not in BAND_ALIASES:
            raise UsageError(_("age band {age_band!r}: use warranty, 2-5 (or 3-5), 5+ or unknown").format(
                                 age_band=age_band))
        sub, sub_params = [], []
        if value_class:
            sub.append("value_class = ?")
            sub_params.append(value_class.upper())
        if age_band:
            sub.append("age_band = ?")
            sub_params.append(BAND_ALIASES[age_band])
        where.append(f"c.id IN (SELECT customer_id FROM classifications WHERE {' AND '.join(sub)})")
        params += sub_params
    sql = (
        "SELECT c.id, c.name, c.gender, c.mobile, c.callback_consent,"
        " (SELECT value_class FROM classifications WHERE customer_id = c.id) AS value_class,"
        " (SELECT group_concat(plate, ' ') FROM vehicles WHERE customer_id = c.id) AS plates,"
        " (SELECT max(order_date) FROM repair_orders WHERE customer_id = c.id) AS last_visit,"
        " (SELECT count(*) FROM repair_orders WHERE customer_id = c.id) AS visits,"
        " (SELECT coalesce(sum(total_fen), 0) FROM repair_orders WHERE customer_id = c.id)"
        " AS spend_fen FROM customers c"
    )
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY c.name, c.id LIMIT ? OFFSET ?"
    return dicts(db, sql, (*params, limit, offset))


def edit(db: sqlite_utils.Database, customer_id: int, changes: dict, *, by: str) -> list[str]:
    """Apply a clerk's edits; each field is validated and audited. Returns the fields changed."""
    unknown = set(changes) - EDITABLE
    if unknown:
        raise UsageError(_("cannot edit {items}").format(items=', '.join(sorted(unknown))))
    values: dict = {}
    for key, raw in changes.items():
        values.update(_validate(key, raw))
    now = clock.stamp()
    with write_transaction(db):
        rows = dicts(db, "SELECT * FROM customers WHERE id = ?", (customer_id,))
        if not rows:
            raise NotFound(_("no customer #{customer_id}").format(customer_id=customer_id))
        current = rows[0]
        changed = [k for k, v in values.items() if current.get(k) != v]
        if not changed:
            return []
        sets = ",".join(f"{k} = ?" for k in changed)
        db.conn.execute(f"UPDATE customers SET {sets}, updated_at = ? WHERE id = ?",
                        (*[values[k] for k in changed], now, customer_id))
        if "mobile" in changed:
            rekey(db, customer_id)
        db.conn.executemany(
            "INSERT INTO changes (import_id, entity, entity_id, field, old_value, new_value,"
            " changed_at, by_user, reason) VALUES (NULL, 'customer', ?, ?, ?, ?, ?, ?,"
            " 'clerk edit')",
            [(customer_id, k, None if current.get(k) is None else str(current.get(k)),
              None if values[k] is None else str(values[k]), now, by) for k in changed],
        )
        note_sources(db, "customer", customer_id, {k: current.get(k) for k in changed},
                     "edit", now=now, by=by)
    return [k for k in changed if not k.endswith("_source")]


def note_sources(db: sqlite_utils.Database, entity: str, entity_id: int, old: dict,
                 source: str, *, now: str, by: str | None) -> None:
    """Record that a clerk ('edit') or a call ('call') set these fields; ``old`` holds their
    values before, which (unless a clerk set them before) are what the exports said.

    The next import changes such a field only when its export says something else than
    that: new information. Saying again what it said before does not undo the clerk.
    """
    rows = [(entity, entity_id, k, source, None if v is None else str(v), now, by)
            for k, v in old.items() if k in IMPORTED]
    db.conn.executemany(
        "INSERT INTO field_sources (entity, entity_id, field, source, import_value, set_at,"
        " by_user) VALUES (?,?,?,?,?,?,?) ON CONFLICT (entity, entity_id, field) DO UPDATE"
        " SET source = excluded.source, set_at = excluded.set_at, by_user = excluded.by_user",
        rows)


def provenance(db: sqlite_utils.Database, entity: str, entity_id: int) -> dict[str, dict]:
    """Where each field's value came from: {field: {source, at, by, import_id, reason}}.

    A field a clerk or a call set says so (field_sources); any other field has the value
    the latest change logged for it gave, or the one the record was made with.
    """
    out: dict[str, dict] = {}
    for fld, new, at, by, import_id, reason in db.conn.execute(
            "SELECT field, new_value, changed_at, by_user, import_id, reason FROM changes"
            " WHERE entity = ? AND entity_id = ? ORDER BY id", (entity, entity_id)):
        out[fld] = {"source": "import" if import_id else "edit", "at": at, "by": by,
                    "import_id": import_id, "reason": reason}
    for fld, source, at, by in db.conn.execute(
            "SELECT field, source, set_at, by_user FROM field_sources WHERE entity = ?"
            " AND entity_id = ?", (entity, entity_id)):
        out[fld] = {"source": source, "at": at, "by": by, "import_id": None,
                    "reason": out.get(fld, {}).get("reason")}
    return out


def rekey(db: sqlite_utils.Database, customer_id: int) -> str:
    """The merge key after a clerk changed the mobile: the new number (as an import
    keys it), never the old one (PIPL: a number the customer gave up is not kept).
    When another record already has that key (a duplicate to merge), a key of the
    record's own that holds no number. Imports still find the customer through the
    car for rows with the old number (importing.merge)."""
    name, mobile = db.conn.execute("SELECT name, mobile FROM customers WHERE id = ?",
                                   (customer_id,)).fetchone()
    key = f"m:{mobile}:{name or ''}" if mobile else f"e:{customer_id}"
    if db.conn.execute("SELECT 1 FROM customers WHERE merge_key = ? AND id != ?",
                       (key, customer_id)).fetchone():
        key = f"e:{customer_id}"
    db.conn.execute("UPDATE customers SET merge_key = ? WHERE id = ?", (key, customer_id))
    return key


def set_usage(db: sqlite_utils.Database, query: str, usage: str, *, by: str) -> dict:
    """Set a vehicle's usage (private/official/commercial) by plate or VIN; it beats imports."""
    parsed = None
    try:
        parsed = nz.parse_usage(usage)
    except ValueError:
        pass
    if not parsed:
        raise UsageError(_("usage {usage!r}: use private, official or commercial (私家车/公务车/营运车)").format(
                             usage=usage))
    cleaned = nz.halfwidth(query).upper().replace(" ", "").replace("·", "")
    rows = dicts(db, "SELECT id, plate, vin, usage FROM vehicles WHERE plate = ? OR vin = ?",
                 (cleaned, cleaned))
    if len(rows) != 1:
        raise NotFound(f"no single vehicle with plate or VIN {query!r}") if not rows else \
            UsageError(f"{len(rows)} vehicles match {query!r}; use the VIN")
    v = rows[0]
    now = clock.stamp()
    with write_transaction(db):
        db.conn.execute("UPDATE vehicles SET usage=?, usage_source='edit', updated_at=? WHERE id=?",
                        (parsed[0], now, v["id"]))
        db.conn.execute(
            "INSERT INTO changes (import_id, entity, entity_id, field, old_value, new_value,"
            " changed_at, by_user, reason) VALUES (NULL, 'vehicle', ?, 'usage', ?, ?, ?, ?,"
            " 'clerk edit')", (v["id"], v["usage"], parsed[0], now, by))
        note_sources(db, "vehicle", v["id"], {"usage": v["usage"]}, "edit", now=now, by=by)
    return {"vehicle_id": v["id"], "plate": v["plate"], "old": v["usage"], "new": parsed[0]}


def _validate(key: str, raw) -> dict:
    if raw is None:
        return {key: None}
    if key == "birthday":
        try:
            d = nz.parse_date(raw, today=date.max) if raw != "" else None
        except ValueError as exc:
            raise UsageError(_("birthday {raw!r}: {exc}").format(raw=raw, exc=_said(exc))) from None
        return {"birthday": d.isoformat() if d else None, "birthday_source": "edit"}
    if key == "lunar_birthday":
        try:
            return {"lunar_birthday": nz.parse_lunar_birthday(raw)}
        except ValueError as exc:
            raise UsageError(_("lunar birthday {raw!r}: {exc}").format(raw=raw, exc=_said(exc))) from None
    if key == "gender":
        try:
            return {"gender": nz.parse_gender(raw), "gender_source": "edit"}
        except ValueError:
            raise UsageError(_("gender {raw!r}: use 男/女 or M/F").format(raw=raw)) from None
    if key in ("mobile", "preferred_phone"):
        try:
            found = nz.parse_phone(raw)
        except ValueError as exc:
            raise UsageError(_("{raw!r}: {exc}").format(raw=raw, exc=_said(exc))) from None
        out = {key: found[0] if found else None}
        if key == "mobile" and found:
            out["phone_kind"] = found[1]
            out["mobile_source"] = "edit"  # imports of older DMS data do not undo it
        return out
    if key == "callback_consent":
        return {"callback_consent": 1 if raw else 0}
    return {key: nz.text(raw)}


def _said(exc: Exception) -> str:
    """A parser's reason (``normalize``'s words) in the clerk's language."""
    from .reasons import translate

    return translate(str(exc))
