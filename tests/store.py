"""Tiny helpers that put customers, vehicles and orders straight into a test database,
and read back the tables an import writes. Planning's facts follow by themselves
(the insert triggers of m022)."""

from __future__ import annotations

import itertools

_n = itertools.count(1)


def customer(db, name="张伟", mobile=None, **fields) -> int:
    mobile = mobile or f"139{next(_n):08d}"
    row = {"merge_key": f"m:{mobile}:{name}", "name": name, "mobile": mobile,
           "created_at": "2020-01-01", "updated_at": "2020-01-01", **fields}
    cols = ",".join(row)
    cur = db.conn.execute(f"INSERT INTO customers ({cols}) VALUES ({','.join('?' * len(row))})",
                          list(row.values()))
    return cur.lastrowid


def vehicle(db, customer_id, plate=None, **fields) -> int:
    plate = plate or f"粤B{next(_n):05d}"
    row = {"plate": plate, "customer_id": customer_id, "created_at": "2020-01-01",
           "updated_at": "2020-01-01", **fields}
    cols = ",".join(row)
    cur = db.conn.execute(f"INSERT INTO vehicles ({cols}) VALUES ({','.join('?' * len(row))})",
                          list(row.values()))
    return cur.lastrowid


def order(db, vehicle_id, customer_id, day, service_type="repair", mileage=None, **fields) -> int:
    row = {"order_no": f"RO{next(_n):08d}", "vehicle_id": vehicle_id, "customer_id": customer_id,
           "order_date": day, "date_settled": day, "service_type": service_type,
           "mileage": mileage, "created_at": "2020-01-01", "updated_at": "2020-01-01", **fields}
    cols = ",".join(row)
    cur = db.conn.execute(f"INSERT INTO repair_orders ({cols}) VALUES ({','.join('?' * len(row))})",
                          list(row.values()))
    return cur.lastrowid


IMPORT_TABLES = ("customers", "vehicles", "vehicle_owners", "repair_orders", "changes",
                 "row_problems", "vehicle_facts", "plan_dirt", "order_row_prints")


def import_tables(db) -> dict[str, list]:
    """Every table an import writes, without the timestamps (two runs differ in those)."""
    out = {}
    for t in IMPORT_TABLES:
        cols = [r[1] for r in db.conn.execute(f"PRAGMA table_info({t})")
                if not r[1].endswith("_at") and r[1] != "as_of"]
        out[t] = db.conn.execute(f"SELECT {','.join(cols)} FROM {t} ORDER BY rowid").fetchall()
    return out
