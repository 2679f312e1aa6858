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

# The last maintenance is the maintenance order with the latest (day, id): the
# subquery picks its id (day then id padded to 12 digits, so that max() orders them as a
# pair) and the join reads its day, mileage and number. No CTE: SQLite refuses them in
# triggers, and m021's triggers carry this query. The service types are
# rules.MAINTENANCE_TYPES (a test checks they agree).
FACTS_SELECT = """
    SELECT f.vehicle_id, f.last_visit, f.km_first_date, f.km_last_date, f.km_min, f.km_max,
           m.order_date, m.id, m.mileage, m.order_no
    FROM (SELECT vehicle_id, max(order_date) AS last_visit,
                 min(CASE WHEN mileage IS NOT NULL THEN order_date END) AS km_first_date,
                 max(CASE WHEN mileage IS NOT NULL THEN order_date END) AS km_last_date,
                 min(mileage) AS km_min, max(mileage) AS km_max,
                 max(CASE WHEN service_type IN ('maintenance', 'first_maintenance') THEN
                     order_date || printf('%012d', id) END) AS last_maint
          FROM repair_orders WHERE {where} GROUP BY vehicle_id) AS f
    LEFT JOIN repair_orders AS m ON m.id = CAST(substr(f.last_maint, -12) AS INTEGER)
"""
FACTS_COLS = ("vehicle_id, last_visit, km_first_date, km_last_date, km_min, km_max,"
              " last_maint_day, last_maint_order_id, last_maint_km, last_maint_order_no")


def refresh_vehicle_facts(conn: sqlite3.Connection, vehicle_ids: Iterable[int]) -> None:
    """Recompute the facts of these vehicles from their orders."""
    ids = json.dumps(sorted({v for v in vehicle_ids if v is not None}))
    conn.execute("DELETE FROM vehicle_facts WHERE vehicle_id IN (SELECT value FROM json_each(?))",
                 (ids,))
    conn.execute(f"INSERT INTO vehicle_facts ({FACTS_COLS})"
                 + FACTS_SELECT.format(where="vehicle_id IN (SELECT value FROM json_each(?))"),
                 (ids,))


# More changes than this pending, and planning everyone is about as quick as planning
# those customers again (planner.changed_customers).
DIRT_LIMIT = 20_000
MAINTENANCE = ("maintenance", "first_maintenance")  # FACTS_SELECT's service types


class FactsFromOrders:
    """FACTS_SELECT worked out in Python, fed orders a batch at a time as
    (vehicle_id, id, order_no, order_date, mileage, service_type). An import keeps
    the facts of the vehicles it creates with this rather than reading their orders
    back (a test checks both agree)."""

    def __init__(self) -> None:
        # vehicle id -> [last visit, km first/last date, km min/max,
        #                last maintenance (day, id, km, order no)]
        self.by_vehicle: dict[int, list] = {}

    def add(self, orders: Iterable[tuple]) -> FactsFromOrders:
        by_vehicle = self.by_vehicle
        for vid, oid, order_no, day, km, service in orders:
            f = by_vehicle.get(vid)
            if f is None:
                f = by_vehicle[vid] = [day, None, None, None, None, None]
            elif day > f[0]:
                f[0] = day
            if km is not None:
                if f[1] is None:
                    f[1:5] = [day, day, km, km]
                else:
                    f[1] = min(f[1], day)
                    f[2] = max(f[2], day)
                    f[3] = min(f[3], km)
                    f[4] = max(f[4], km)
            if service in MAINTENANCE and (f[5] is None or (day, oid) > f[5][:2]):
                f[5] = (day, oid, km, order_no)
        return self

    def rows(self) -> list[tuple]:
        """The facts of every vehicle seen, in FACTS_COLS order."""
        return [(vid, *f[:5], *(f[5] or (None, None, None, None)))
                for vid, f in self.by_vehicle.items()]


def facts_of(orders: Iterable[tuple]) -> list[tuple]:
    """The facts of vehicles all of whose orders are given (see FactsFromOrders)."""
    return FactsFromOrders().add(orders).rows()


def note_inserted(conn: sqlite3.Connection, *, customers: Iterable[int] = (),
                  vehicles: Iterable[tuple[int, int | None]] = (),
                  orders: Iterable[tuple[int | None, int | None]] = (),
                  facts: Iterable[tuple] = ()) -> None:
    """Record rows just inserted: customer ids, (vehicle id, owner id), (vehicle id,
    customer id) of the orders. ``facts`` are rows already worked out (FactsFromOrders)
    for vehicles whose orders are all new: only the others are refreshed from their
    orders.

    When more than DIRT_LIMIT customers and vehicles changed, the next plan will
    plan everyone anyway: one marker row raises plan_state's floor instead of
    logging each (a plan run that has not seen the marker plans everyone).
    """
    vehicles, orders = list(vehicles), set(orders)
    dirt = {(c, None) for c in customers}
    dirt |= {(owner, vid) for vid, owner in vehicles}
    dirt |= {(cid, vid) for vid, cid in orders}
    # A customer logged with a vehicle needs no line of its own.
    dirt -= {(c, None) for c, vid in dirt if vid is not None}
    if len(dirt) > DIRT_LIMIT:
        seq = conn.execute("INSERT INTO plan_dirt (customer_id, vehicle_id) VALUES (NULL, NULL)"
                           ).lastrowid
        conn.execute("UPDATE plan_state SET dirt_floor = max(dirt_floor, ?)", (seq,))
    else:
        conn.executemany("INSERT INTO plan_dirt (customer_id, vehicle_id) VALUES (?, ?)", sorted(
            dirt, key=lambda p: (p[0] is None, p[0] or 0, p[1] is None, p[1] or 0)))
    facts = list(facts)
    if facts:
        conn.executemany(f"INSERT OR REPLACE INTO vehicle_facts ({FACTS_COLS})"
                         " VALUES (?,?,?,?,?,?,?,?,?,?)", facts)
    known = {f[0] for f in facts}
    if orders:
        refresh_vehicle_facts(conn, (vid for vid, _cid in orders if vid not in known))
