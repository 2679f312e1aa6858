"""Duplicates in the customer file: found with their evidence, merged, and unmerged.

Exports disagree (a landline here, a mobile there; a VIN typed with an O for a 0),
and a record made twice splits a customer's history or a car's. ``suspected`` lists
the pairs worth a look, each with what makes them look alike::

    [{'kind': 'customer', 'a': 2, 'b': 323, 'evidence': ['same name 董雪 on the same car 粤BF1695']}]

``merge`` moves everything of the second record to the first (orders, cars,
ownership, tasks, calls, complaints, opt-outs, flags, the change history: every row
that names it), fills the kept record's blanks from it, keeps its phone numbers, and
deletes it. What moved is recorded (``merges``), so ``undo`` puts each row back; the
keys the merged record was found by go into ``merge_aliases``, so a later import finds
the kept record instead of making the duplicate again.
"""

from __future__ import annotations

import json
from itertools import combinations

import sqlite_utils

from .db import dicts, write_transaction
from .errors import NotFound, UsageError
from .i18n import _

TABLES = {"customer": "customers", "vehicle": "vehicles"}
# Fields of the kept record that the merged one may fill when the kept one has none.
FILL = {
    "customer": ("gender", "gender_source", "id_number", "birthday", "birthday_source",
                 "lunar_birthday", "occupation", "address", "employer"),
    "vehicle": ("plate", "model", "engine_no", "gearbox_no", "colour", "purchase_date",
                "delivery_date", "usage", "usage_source", "first_maintenance_date",
                "first_maintenance_km", "warranty_end", "insurance_compulsory_expiry",
                "insurance_commercial_expiry", "inspection_due"),
}


def _one_apart(a: str, b: str) -> bool:
    """Same length, one character different: a typo."""
    return len(a) == len(b) and sum(x != y for x, y in zip(a, b)) == 1


def suspected(db: sqlite_utils.Database) -> list[dict]:
    """Pairs of customers and of vehicles that may be one, with the evidence, by kind and id."""
    pairs: dict[tuple, list[str]] = {}

    def note(kind: str, a: int, b: int, why: str) -> None:
        pairs.setdefault((kind, min(a, b), max(a, b)), []).append(why)

    conn = db.conn
    for idn, ids in conn.execute(
            "SELECT id_number, group_concat(id) FROM customers WHERE id_number IS NOT NULL"
            " GROUP BY id_number HAVING count(*) > 1"):
        for a, b in combinations(sorted(map(int, ids.split(","))), 2):
            note("customer", a, b, f"same ID number ({idn[:6]}…{idn[-4:]})")
    # The same name on the same car (owned now or before, or brought in for an order).
    for a, b, name, car in conn.execute(
            "WITH touch AS (SELECT customer_id, vehicle_id FROM vehicle_owners"
            " UNION SELECT customer_id, vehicle_id FROM repair_orders WHERE customer_id IS NOT NULL"
            " AND vehicle_id IS NOT NULL)"
            " SELECT c1.id, c2.id, c1.name, coalesce(v.plate, v.vin) FROM touch t1"
            " JOIN touch t2 ON t2.vehicle_id = t1.vehicle_id AND t2.customer_id > t1.customer_id"
            " JOIN customers c1 ON c1.id = t1.customer_id JOIN customers c2 ON c2.id = t2.customer_id"
            " JOIN vehicles v ON v.id = t1.vehicle_id WHERE c1.name = c2.name"):
        note("customer", a, b, f"same name {name} on the same car {car}")
    by_name: dict[str, list[tuple[int, str]]] = {}
    for cid, name, mobile in conn.execute(
            "SELECT id, name, mobile FROM customers WHERE name IS NOT NULL AND mobile IS NOT NULL"):
        by_name.setdefault(name, []).append((cid, mobile))
    for name, people in by_name.items():
        for (a, ma), (b, mb) in combinations(people, 2):
            if _one_apart(ma, mb):
                note("customer", a, b, f"same name {name}, numbers one digit apart ({ma}, {mb})")
    by_plate: dict[str, list[tuple[int, str]]] = {}
    for vid, plate, vin in conn.execute(
            "SELECT id, plate, vin FROM vehicles WHERE plate IS NOT NULL AND vin IS NOT NULL"):
        by_plate.setdefault(plate, []).append((vid, vin))
    for plate, cars in by_plate.items():
        for (a, va), (b, vb) in combinations(cars, 2):
            if _one_apart(va, vb):
                note("vehicle", a, b, f"plate {plate}, VINs one character apart ({va}, {vb})")
    return [{"kind": k, "a": a, "b": b, "evidence": why}
            for (k, a, b), why in sorted(pairs.items())]


def _referring(conn, kind: str) -> list[tuple[str, str]]:
    """(table, column) of every column that holds a customer id (or a vehicle id)."""
    col = f"{kind}_id"
    out = []
    for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"
                                 " AND name NOT LIKE 'sqlite_%'"):
        if table in ("merges", "merge_aliases"):
            continue
        names = [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')]
        if col in names:
            out.append((table, col))
    return out


def merge(db: sqlite_utils.Database, kind: str, keep: int, drop: int, *, by: str,
          now: str) -> dict:
    """Merge record ``drop`` into ``keep`` (kind 'customer' or 'vehicle'); return the merge."""
    if kind not in TABLES:
        raise UsageError(_("merge customers or vehicles"))
    if keep == drop:
        raise UsageError(_("#{keep} is one record already: name two different {kind}s").format(
                             keep=keep, kind=kind))
    table = TABLES[kind]
    conn = db.conn
    with write_transaction(db):
        rows = {r["id"]: r for r in dicts(db, f"SELECT * FROM {table} WHERE id IN (?, ?)",
                                          (keep, drop))}
        for i in (keep, drop):
            if i not in rows:
                raise NotFound(_("no {kind} #{i}").format(kind=kind, i=i))
        kept, gone = rows[keep], rows[drop]
        moved: dict = {"record": gone, "kept_before": {}, "rows": {}, "deleted": {},
                       "entity_rows": {}}
        # Fill the kept record's blanks; keep the other's phone numbers.
        fill = {f: gone[f] for f in FILL[kind] if kept.get(f) is None and gone.get(f) is not None}
        if kind == "customer":
            numbers = [p for p in (kept.get("other_phones") or "").split(",") if p]
            for p in [gone.get("mobile"), *(gone.get("other_phones") or "").split(",")]:
                if p and p != kept.get("mobile") and p not in numbers:
                    numbers.append(p)
            if ",".join(numbers) != (kept.get("other_phones") or ""):
                fill["other_phones"] = ",".join(numbers) or None
        moved["kept_before"] = {f: kept.get(f) for f in fill}
        # Every row naming the merged record now names the kept one; a row that cannot
        # (a unique key the kept one holds already) is kept in the merge and deleted.
        for t, col in _referring(conn, kind):
            ids = [r[0] for r in conn.execute(f'SELECT rowid FROM "{t}" WHERE {col} = ?', (drop,))]
            if not ids:
                continue
            conn.execute(f'UPDATE OR IGNORE "{t}" SET {col} = ? WHERE {col} = ?', (keep, drop))
            left = dicts(db, f'SELECT rowid AS _rowid, * FROM "{t}" WHERE {col} = ?', (drop,))
            if left:
                conn.execute(f'DELETE FROM "{t}" WHERE {col} = ?', (drop,))
                moved["deleted"][t] = left
            gone_ids = {r["_rowid"] for r in left}
            moved["rows"][t] = [i for i in ids if i not in gone_ids]
        # The change history follows the record; who set which field does not (the kept
        # record's own values stand).
        ids = [r[0] for r in conn.execute(
            "SELECT rowid FROM changes WHERE entity = ? AND entity_id = ?", (kind, drop))]
        conn.execute("UPDATE changes SET entity_id = ? WHERE entity = ? AND entity_id = ?",
                     (keep, kind, drop))
        moved["entity_rows"]["changes"] = ids
        moved["deleted"]["field_sources"] = dicts(
            db, "SELECT * FROM field_sources WHERE entity = ? AND entity_id = ?", (kind, drop))
        conn.execute("DELETE FROM field_sources WHERE entity = ? AND entity_id = ?", (kind, drop))
        if fill:
            conn.execute(f"UPDATE {table} SET {', '.join(f'{f} = ?' for f in fill)},"
                         f" updated_at = ? WHERE id = ?", (*fill.values(), now, keep))
        conn.execute(f"DELETE FROM {table} WHERE id = ?", (drop,))
        cur = conn.execute("INSERT INTO merges (kind, kept_id, merged_id, merged_at, by_user,"
                           " moved) VALUES (?,?,?,?,?,?)",
                           (kind, keep, drop, now, by, json.dumps(moved, ensure_ascii=False)))
        merge_id = cur.lastrowid
        aliases = []
        if kind == "customer":
            if gone.get("merge_key"):
                aliases.append(("customer_key", gone["merge_key"]))
        else:
            if gone.get("vin") and gone["vin"] != kept.get("vin"):
                aliases.append(("vin", gone["vin"]))
            if gone.get("plate") and gone["plate"] != kept.get("plate"):
                aliases.append(("plate", gone["plate"]))
        conn.executemany("INSERT OR REPLACE INTO merge_aliases (kind, key, target_id, merge_id)"
                         " VALUES (?,?,?,?)", [(k, v, keep, merge_id) for k, v in aliases])
        conn.execute("INSERT INTO changes (import_id, entity, entity_id, field, old_value,"
                     " new_value, changed_at, by_user, reason) VALUES (NULL,?,?,?,?,?,?,?,?)",
                     (kind, keep, "merged", str(drop), str(keep), now, by,
                      f"merge #{merge_id}: {kind} #{drop} merged into #{keep}"))
    return {"merge_id": merge_id, "kind": kind, "kept": keep, "merged": drop,
            "moved": {t: len(v) for t, v in moved["rows"].items() if v}}


def undo(db: sqlite_utils.Database, merge_id: int, *, by: str, now: str) -> dict:
    """Put a merge back: the merged record again, with every row that moved."""
    conn = db.conn
    with write_transaction(db):
        m = dicts(db, "SELECT * FROM merges WHERE id = ?", (merge_id,))
        if not m:
            raise NotFound(_("no merge #{merge_id}").format(merge_id=merge_id))
        m = m[0]
        if m["undone_at"]:
            raise UsageError(_("merge #{merge_id} was undone on {undone_at}").format(
                                 merge_id=merge_id, undone_at=m['undone_at']))
        kind, keep, drop = m["kind"], m["kept_id"], m["merged_id"]
        moved = json.loads(m["moved"])
        table = TABLES[kind]
        rec = moved["record"]
        conn.execute(f"INSERT INTO {table} ({', '.join(rec)}) VALUES"
                     f" ({', '.join('?' * len(rec))})", tuple(rec.values()))
        col = f"{kind}_id"
        for t, ids in moved["rows"].items():
            for i in range(0, len(ids), 500):
                chunk = ids[i:i + 500]
                conn.execute(f'UPDATE "{t}" SET {col} = ? WHERE rowid IN'
                             f" ({','.join('?' * len(chunk))})", (drop, *chunk))
        for t, rows in moved["deleted"].items():
            for r in rows:
                r = {k: v for k, v in r.items() if k != "_rowid"}
                conn.execute(f'INSERT OR IGNORE INTO "{t}" ({", ".join(r)}) VALUES'
                             f" ({', '.join('?' * len(r))})", tuple(r.values()))
        for ids in moved["entity_rows"].values():
            for i in range(0, len(ids), 500):
                chunk = ids[i:i + 500]
                conn.execute(f"UPDATE changes SET entity_id = ? WHERE rowid IN"
                             f" ({','.join('?' * len(chunk))})", (drop, *chunk))
        before = moved["kept_before"]
        if before:
            conn.execute(f"UPDATE {table} SET {', '.join(f'{f} = ?' for f in before)},"
                         f" updated_at = ? WHERE id = ?", (*before.values(), now, keep))
        conn.execute("DELETE FROM merge_aliases WHERE merge_id = ?", (merge_id,))
        conn.execute("UPDATE merges SET undone_at = ?, undone_by = ? WHERE id = ?",
                     (now, by, merge_id))
        conn.execute("INSERT INTO changes (import_id, entity, entity_id, field, old_value,"
                     " new_value, changed_at, by_user, reason) VALUES (NULL,?,?,?,?,?,?,?,?)",
                     (kind, keep, "merged", str(keep), str(drop), now, by,
                      f"merge #{merge_id} undone: {kind} #{drop} is its own record again"))
    return {"merge_id": merge_id, "kind": kind, "kept": keep, "restored": drop}


# Rows that only follow from a customer being on file: dropped with a customer who is
# nothing else (see drop_unused). A task counts only while nothing was done about it.
_DERIVED = {"plan_dirt", "classifications", "class_changes", "row_problems"}


def drop_unused(conn, ids) -> int:
    """Delete the customers among ``ids`` that no row names but derived ones (plan
    marks, classes, import flags, a planned task nobody worked): a person an older
    import made a customer of for bringing someone else's car, once their orders are
    the owner's. Returns how many were deleted."""
    ids = sorted(set(ids))
    if not ids:
        return 0
    refs = [(t, c) for t, c in _referring(conn, "customer") if t not in _DERIVED]
    dropped = []
    for cid in ids:
        used = False
        for table, col in refs:
            extra = (" AND NOT (state = 'open' AND attempts = 0 AND NOT EXISTS"
                     " (SELECT 1 FROM sms_ledger l WHERE l.task_id = tasks.id))"
                     if table == "tasks" else "")
            if conn.execute(f'SELECT 1 FROM "{table}" WHERE "{col}" = ?{extra} LIMIT 1',
                            (cid,)).fetchone():
                used = True
                break
        if not used:
            dropped.append(cid)
    for cid in dropped:
        conn.execute("DELETE FROM tasks WHERE customer_id = ?", (cid,))
        conn.execute("UPDATE row_problems SET customer_id = NULL WHERE customer_id = ?", (cid,))
        for table in ("plan_dirt", "classifications", "class_changes"):
            conn.execute(f"DELETE FROM {table} WHERE customer_id = ?", (cid,))
        conn.execute("DELETE FROM changes WHERE entity = 'customer' AND entity_id = ?", (cid,))
        conn.execute("DELETE FROM field_sources WHERE entity = 'customer' AND entity_id = ?",
                     (cid,))
        conn.execute("DELETE FROM customers WHERE id = ?", (cid,))
    return len(dropped)
