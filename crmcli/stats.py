"""Report figures as plain data; the SQL lives here. Never prints."""

from __future__ import annotations

from datetime import date, timedelta

import sqlite_utils
from dateutil.relativedelta import relativedelta


def retention(db: sqlite_utils.Database, day: date, *, active_days: int = 180,
              max_age: int = 10) -> dict:
    """Customer holding rate and active customer ratio by vehicle age in years, on ``day``.

    * holding rate (客户掌握率) = vehicles that came back (any order) within the
      12 months up to ``day`` / vehicles on file delivered by ``day``;
    * active customer ratio (活跃客户比例) = customers with a paid visit (total > 0,
      not warranty or free check) within ``active_days`` / customers, each
      customer counted at the age of their newest vehicle.
    Vehicles without a delivery or purchase date are counted as 'unknown'.
    Ages of ``max_age`` and more share one row ("10+").
    """
    since = (day - relativedelta(months=12)).isoformat()
    active_since = (day - timedelta(days=active_days)).isoformat()
    d = day.isoformat()
    rows: dict[str, dict] = {}

    def row(age: int | None) -> dict:
        label = "unknown" if age is None else (f"{max_age}+" if age >= max_age else str(age))
        return rows.setdefault(label, {"age": label, "vehicles": 0, "came_back": 0,
                                       "customers": 0, "active": 0})

    for delivered, came_back in db.conn.execute(
            "SELECT coalesce(v.delivery_date, v.purchase_date),"
            " EXISTS (SELECT 1 FROM repair_orders o WHERE o.vehicle_id = v.id"
            "         AND o.order_date > ? AND o.order_date <= ?)"
            " FROM vehicles v WHERE coalesce(v.delivery_date, v.purchase_date, '') <= ?",
            (since, d, d)):
        r = row(_age(delivered, day))
        r["vehicles"] += 1
        r["came_back"] += came_back
    for newest, active in db.conn.execute(
            "SELECT (SELECT max(coalesce(v.delivery_date, v.purchase_date)) FROM vehicles v"
            "        WHERE v.customer_id = c.id),"
            " EXISTS (SELECT 1 FROM repair_orders o WHERE o.customer_id = c.id"
            "         AND o.order_date > ? AND o.order_date <= ? AND o.total_fen > 0"
            "         AND coalesce(o.service_type, '') NOT IN ('warranty', 'free_check'))"
            " FROM customers c", (active_since, d)):
        r = row(_age(newest, day) if newest is None or newest <= d else None)
        r["customers"] += 1
        r["active"] += active
    order = sorted((k for k in rows if k not in ("unknown",)),
                   key=lambda k: int(k.rstrip("+")))
    out = [rows[k] for k in order] + ([rows["unknown"]] if "unknown" in rows else [])
    for r in out:
        r["holding_rate"] = r["came_back"] / r["vehicles"] if r["vehicles"] else None
        r["active_ratio"] = r["active"] / r["customers"] if r["customers"] else None
    totals = {k: sum(r[k] for r in out) for k in ("vehicles", "came_back", "customers", "active")}
    totals["holding_rate"] = totals["came_back"] / totals["vehicles"] if totals["vehicles"] else None
    totals["active_ratio"] = totals["active"] / totals["customers"] if totals["customers"] else None
    return {"day": d, "rows": out, "total": totals, "active_days": active_days}


def _age(delivered: str | None, day: date) -> int | None:
    if not delivered:
        return None
    return relativedelta(day, date.fromisoformat(delivered[:10])).years
