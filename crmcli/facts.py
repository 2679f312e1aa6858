"""What planning keeps per vehicle, and the log of what changed since a day was planned.

``vehicle_facts`` holds one row per vehicle with orders: the last visit, the
mileage span and the last maintenance, so planning reads 250,000 rows instead
of grouping 2,000,000 orders. ``plan_dirt`` logs the customers (and
vehicles) whose data changed, so a planned day is planned again for those
only (see ``planner.changed_customers``).

Who keeps them current: triggers, on every insert, update and delete of customers,
vehicles and orders (m008, m021, m022) and every write of opt-outs and calls, whoever
makes it. A writer does nothing for them.

A bulk load (the importer, the benchmarks' builders) runs inside ``bulk_insert``:
the three insert triggers are taken out for its transaction and, at the end, the
facts and log of everything it inserted are brought up to date in one statement
each. A trigger per row costs 100,000 inserts 0.6 s or more even when a WHEN
clause keeps it from doing anything (each row becomes a statement that may write
other tables, with a statement journal), and the importer's first import, which
builds the orders' indexes after the rows, would recompute each row's vehicle with
a scan of the table. A bulk writer that forgets ``bulk_insert`` is slower, never
wrong.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

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


# More changes than this pending, and planning everyone is about as quick as planning
# those customers again (planner.changed_customers).
DIRT_LIMIT = 20_000
MAINTENANCE = ("maintenance", "first_maintenance")  # FACTS_SELECT's service types


# m022's triggers, which bulk_insert takes out and puts back.
INSERT_TRIGGERS = ("customers_dirt_insert", "vehicles_dirt_insert", "repair_orders_facts_insert")


@contextmanager
def bulk_insert(conn: sqlite3.Connection) -> Iterator[None]:
    """Insert customers, vehicles and orders in bulk inside the caller's transaction,
    with the facts and the planning log brought up to date once, at the end.

    What is new is told by id: rows with an id above the highest when the block
    began (the importer and the builders take ids upwards from there). Updates and
    deletes inside the block keep their own triggers.
    """
    if not conn.in_transaction:
        raise RuntimeError("bulk_insert belongs inside the writer's transaction")
    marks = conn.execute(
        "SELECT (SELECT coalesce(max(id), 0) FROM customers),"
        " (SELECT coalesce(max(id), 0) FROM vehicles),"
        " (SELECT coalesce(max(id), 0) FROM repair_orders)").fetchone()
    saved = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
        f" AND name IN ({','.join('?' * len(INSERT_TRIGGERS))}) ORDER BY name",
        INSERT_TRIGGERS).fetchall()
    for name, _sql in saved:
        conn.execute(f'DROP TRIGGER "{name}"')
    try:
        yield
    finally:
        # A transaction rolled back already has its triggers back, and nothing to note.
        if conn.in_transaction:
            for _name, sql in saved:
                conn.execute(sql)
            note_inserted_since(conn, *marks)


def note_inserted_since(conn: sqlite3.Connection, customer: int, vehicle: int,
                        order: int) -> None:
    """What m022's insert triggers would have done for the customers, vehicles and
    orders with ids above these: the facts of the vehicles of the new orders
    (one statement), and their customers and vehicles logged for planning.

    When more than DIRT_LIMIT customers and vehicles changed, the next plan will
    plan everyone anyway: one marker row raises plan_state's floor instead of
    logging each (a plan run that has not seen the marker plans everyone).
    """
    ids = {"c": customer, "v": vehicle, "o": order}
    if order == 0:
        # The table was empty (a store's first import): one pass over it, sorted by
        # vehicle, takes about half the time of an index probe per order.
        select = FACTS_SELECT.format(where="vehicle_id IS NOT NULL").replace(
            "FROM repair_orders WHERE", "FROM repair_orders NOT INDEXED WHERE")
    else:
        select = FACTS_SELECT.format(
            where="vehicle_id IN (SELECT vehicle_id FROM repair_orders WHERE id > :o)")
    conn.execute(f"INSERT OR REPLACE INTO vehicle_facts ({FACTS_COLS})" + select, ids)
    # Each new vehicle and customer is at least one pair of its own: counting those
    # rows (a range of rowids) settles a large load without counting the pairs.
    many = conn.execute("SELECT (SELECT count(*) FROM vehicles WHERE id > :v) > :limit"
                        " OR (SELECT count(*) FROM customers WHERE id > :c) > :limit",
                        {**ids, "limit": DIRT_LIMIT}).fetchone()[0]
    if not many:
        many = conn.execute(f"SELECT count(*) > :limit FROM ({_NEW_PAIRS})",
                            {**ids, "limit": DIRT_LIMIT}).fetchone()[0]
    if many:
        seq = conn.execute("INSERT INTO plan_dirt (customer_id, vehicle_id) VALUES (NULL, NULL)"
                           ).lastrowid
        conn.execute("UPDATE plan_state SET dirt_floor = max(dirt_floor, ?)", (seq,))
    else:
        conn.execute(f"INSERT INTO plan_dirt (customer_id, vehicle_id) {_NEW_PAIRS}"
                     " ORDER BY customer_id IS NULL, customer_id, vehicle_id IS NULL, vehicle_id",
                     ids)


# (customer, vehicle) of what is new since the marks; a customer logged with a vehicle
# needs no line of its own.
_NEW_PAIRS = """
    SELECT customer_id, vehicle_id FROM (
        SELECT customer_id, id AS vehicle_id FROM vehicles WHERE id > :v
        UNION SELECT customer_id, vehicle_id FROM repair_orders WHERE id > :o
        UNION SELECT id, NULL FROM customers WHERE id > :c)
    WHERE vehicle_id IS NOT NULL OR customer_id NOT IN (
        SELECT customer_id FROM vehicles WHERE id > :v AND customer_id IS NOT NULL
        UNION SELECT customer_id FROM repair_orders
            WHERE id > :o AND vehicle_id IS NOT NULL AND customer_id IS NOT NULL)
"""
