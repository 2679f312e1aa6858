"""What planning keeps per vehicle, and the log of what changed since a day was planned.

``vehicle_facts`` holds one row per vehicle with orders: the last visit, the
mileage span and the last maintenance, so planning reads 250,000 rows instead
of grouping 2,000,000 orders. ``plan_dirt`` logs the customers (and
vehicles) whose data changed, so a planned day is planned again for those
only (see ``planner.changed_customers``).

Who keeps them current (migration m008):

* triggers, for every UPDATE and DELETE of customers, vehicles and orders, and
  for every write of opt-outs and calls, whoever makes it;
* ``note_inserted``, called by the one writer that inserts customers, vehicles
  and orders in bulk, the importer, in the same transaction. Per-row INSERT
  triggers would cost an import of 100,000 orders several seconds: each row
  would become a statement that writes several tables, and SQLite keeps a
  statement journal for each.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable

# The last maintenance is packed as 'date|id(12 digits)|km|order no', so that max()
# picks the latest one. The service types are rules.MAINTENANCE_TYPES (a test
# checks they agree).
FACTS_SELECT = """
    SELECT vehicle_id, max(order_date),
           min(CASE WHEN mileage IS NOT NULL THEN order_date END),
           max(CASE WHEN mileage IS NOT NULL THEN order_date END),
           min(mileage), max(mileage),
           max(CASE WHEN service_type IN ('maintenance', 'first_maintenance') THEN
               order_date || '|' || printf('%012d', id) || '|' || coalesce(mileage, '')
               || '|' || order_no END)
    FROM repair_orders WHERE {where} GROUP BY vehicle_id
"""
FACTS_COLS = "vehicle_id, last_visit, km_first_date, km_last_date, km_min, km_max, last_maintenance"


def refresh_vehicle_facts(conn: sqlite3.Connection, vehicle_ids: Iterable[int]) -> None:
    """Recompute the facts of these vehicles from their orders."""
    ids = json.dumps(sorted({v for v in vehicle_ids if v is not None}))
    conn.execute("DELETE FROM vehicle_facts WHERE vehicle_id IN (SELECT value FROM json_each(?))",
                 (ids,))
    conn.execute(f"INSERT INTO vehicle_facts ({FACTS_COLS})"
                 + FACTS_SELECT.format(where="vehicle_id IN (SELECT value FROM json_each(?))"),
                 (ids,))


def note_inserted(conn: sqlite3.Connection, *, customers: Iterable[int] = (),
                  vehicles: Iterable[tuple[int, int | None]] = (),
                  orders: Iterable[tuple[int | None, int | None]] = ()) -> None:
    """Record rows just inserted: customer ids, (vehicle id, owner id), (vehicle id, customer id)."""
    vehicles, orders = list(vehicles), set(orders)
    dirt = {(c, None) for c in customers}
    dirt |= {(owner, vid) for vid, owner in vehicles}
    dirt |= {(cid, vid) for vid, cid in orders}
    conn.executemany("INSERT INTO plan_dirt (customer_id, vehicle_id) VALUES (?, ?)", sorted(
        dirt, key=lambda p: (p[0] is None, p[0] or 0, p[1] is None, p[1] or 0)))
    if orders:
        refresh_vehicle_facts(conn, (vid for vid, _cid in orders))
