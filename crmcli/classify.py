"""Customer value classes (A/B/C/D), vehicle age bands and usage, each with its reason.

Pure functions first (facts + settings + day -> class and reason), then the
store: ``run(db, day, settings)`` classifies everyone, keeps the current class
of each customer and a history of every move between classes.

The rules, with the default settings (``[classes]``):

* **D lost** (流失客户): no visit of any kind for over 365 days; or never a visit
  and the vehicle delivered over a year ago. "D because: last visit 2025-06-01,
  543 days ago".
* **C marginal** (边缘客户): no paid visit for over 180 days (potential loss); or
  in the 24-month window only warranty/free work (pays elsewhere).
* **A loyal** (忠诚客户): in the window at least 3 paid visits AND at least
  ¥3,000 spent AND loyalty at least 0.8, loyalty being the maintenance done
  here against the maintenance the vehicle's mileage says was due. Money alone
  never makes an A.
* **B opportunity** (机会客户): everyone else with a recent paid visit, and new
  customers (no visit yet, delivered within 180 days), and new owners whose only
  visits are free or warranty work, while the car is within its first year
  (``young_owner_days``): C is for those who come only for free work past that.

A paid visit is an order with a total above zero that is not warranty or a
free check. Age bands are from delivery (else purchase, else the model year
position 10 of a valid VIN encodes): in warranty (under 3 years), 3-5 years,
over 5 years, unknown.

Worked examples on 2026-11-26 with the defaults (the docstring runs as a test):

>>> from crmcli.settings import DEFAULTS
>>> cfg, day = DEFAULTS["classes"], date(2026, 11, 26)
>>> classify(Customer(1, [Order(date(2025, 6, 1), "repair", 50000, None)]), day, cfg)
Verdict(value_class='D', reason='last visit 2025-06-01, 543 days ago')

Three maintenances of ¥1,200 while the odometer went from 10,000 to 40,000 km:
30,000 km / 7,500 = 4 due, 3 done, loyalty 0.75: below 0.8, so B however much
was spent. A fourth (¥800, 41,000 km) makes 4 of 4.1 due, 0.97: A.

>>> three = [Order(date(2025, 2, 10), "maintenance", 120000, 10000),
...          Order(date(2025, 9, 10), "maintenance", 120000, 20000),
...          Order(date(2026, 6, 10), "maintenance", 120000, 40000)]
>>> print(classify(Customer(2, three), day, cfg).reason)
3 paid visits, ¥3,600 in 24 months, loyalty 0.75 (3 maintenance here for 4.0 due (30,000 km driven)); not A: loyalty under 0.8
>>> four = three + [Order(date(2026, 11, 20), "maintenance", 80000, 41000)]
>>> classify(Customer(2, four), day, cfg).value_class
'A'
>>> classify(Customer(3, [], [date(2026, 8, 1)]), day, cfg)
Verdict(value_class='B', reason='new customer: delivered 2026-08-01, 117 days ago, no visit yet')
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

import sqlite_utils

from . import clock
from .db import write_transaction
from .rules import MAINTENANCE_TYPES, IsoDays, add_months, vehicle_age, years_between

FREE_TYPES = ("warranty", "free_check")
CLASSES = ("A", "B", "C", "D")
BANDS = ("in_warranty", "mid", "old", "unknown")
BAND_ALIASES = {"warranty": "in_warranty", "in_warranty": "in_warranty", "0-2": "in_warranty",
                "0-3": "in_warranty", "2-5": "mid", "3-5": "mid", "mid": "mid", "5+": "old",
                "old": "old", "unknown": "unknown"}


class Order(NamedTuple):
    """One order as classification sees it (a NamedTuple: millions are loaded at once)."""

    day: date
    service_type: str | None
    total_fen: int | None
    mileage: int | None


@dataclass(slots=True)
class Customer:
    id: int
    orders: list[Order] = field(default_factory=list)
    deliveries: list[date] = field(default_factory=list)


@dataclass(frozen=True)
class Verdict:
    value_class: str
    reason: str


def band_label(band: str, cfg: dict) -> str:
    """The band's name in this run's language, with the settings' years."""
    from .i18n import _

    return {"in_warranty": _("in warranty (<{years}y)"),
            "mid": _("{years}-{old} years"),
            "old": _("over {old} years"), "unknown": _("age unknown")}[band].format(
                years=cfg["warranty_years"], old=cfg["old_years"])


def age_band(delivered: date | None, day: date, cfg: dict) -> str:
    """'in_warranty' under warranty_years, 'mid' up to old_years, then 'old'.

    Delivered 2024-11-27, day 2026-11-26 -> 1 completed year -> in_warranty.
    """
    if delivered is None:
        return "unknown"
    years = years_between(delivered, day)
    if years < cfg["warranty_years"]:
        return "in_warranty"
    if years < cfg["old_years"]:
        return "mid"
    return "old"


def is_paid(o: Order) -> bool:
    return (o.total_fen or 0) > 0 and o.service_type not in FREE_TYPES


class Summary(NamedTuple):
    """What classification needs of a customer's orders on a day, however it was counted."""

    last_visit: date | None
    last_paid: date | None
    window_visits: int
    paid_visits: int
    spend_fen: int
    maintenance: int
    km_low: int | None  # the lowest and highest odometer reading in the window
    km_high: int | None
    readings: int


def summarize(orders: list[Order], day: date, cfg: dict) -> Summary:
    """Count a customer's orders up to ``day`` (the window is ``window_months`` back)."""
    start = add_months(day, -cfg["window_months"])
    upto = [o for o in orders if o.day <= day]
    window = [o for o in upto if o.day >= start]
    paid = [o for o in window if is_paid(o)]
    kms = [o.mileage for o in window if o.mileage is not None]
    return Summary(
        max((o.day for o in upto), default=None),
        max((o.day for o in upto if is_paid(o)), default=None),
        len(window), len(paid), sum(o.total_fen or 0 for o in paid),
        sum(1 for o in window if o.service_type in MAINTENANCE_TYPES),
        min(kms, default=None), max(kms, default=None), len(kms))


def loyalty(s: Summary, start: date, day: date, cfg: dict) -> tuple[float, str]:
    """Maintenance done here in the window against what was due, capped at 1.

    Due by mileage when two readings exist (km driven, the highest reading
    less the lowest, / maintenance_km), else by time (window months /
    maintenance_months). 30,000 km in the window and 3 maintenances here:
    3 / 4 = 0.75.
    """
    if s.readings >= 2 and s.km_high > s.km_low:
        km = s.km_high - s.km_low
        due = max(1.0, km / cfg["maintenance_km"])
        basis = f"{km:,} km driven"
    else:
        months = (day - start).days / 30.44
        due = max(1.0, months / cfg["maintenance_months"])
        basis = f"{months:.0f} months"
    done = s.maintenance
    return min(1.0, done / due), f"{done} maintenance here for {due:.1f} due ({basis})"


def classify(c: Customer, day: date, cfg: dict) -> Verdict:
    """The value class of one customer on ``day``, with the reason in words."""
    return judge(summarize(c.orders, day, cfg), c.deliveries, day, cfg)


def judge(s: Summary, deliveries: list[date], day: date, cfg: dict) -> Verdict:
    """The class from a customer's summary and vehicle deliveries (the rules above)."""
    if s.last_visit is None:
        delivered = max((d for d in deliveries if d <= day), default=None)
        if delivered is None:
            return Verdict("C", "no visit and no delivery on file")
        age = (day - delivered).days
        if age <= cfg["new_customer_days"]:
            return Verdict("B", f"new customer: delivered {delivered}, {age} days ago, no visit yet")
        if age > cfg["d_no_visit_days"]:
            return Verdict("D", f"never came back: delivered {delivered}, {age} days ago")
        return Verdict("C", f"no visit since delivery {delivered}, {age} days ago")
    last = s.last_visit
    since_last = (day - last).days
    if since_last > cfg["d_no_visit_days"]:
        return Verdict("D", f"last visit {last}, {since_last} days ago")
    start = add_months(day, -cfg["window_months"])
    last_paid = s.last_paid
    newest = max((d for d in deliveries if d <= day), default=None)
    if last_paid is None and newest is not None \
            and (day - newest).days <= cfg["young_owner_days"]:
        # The free first maintenance and warranty work of a new car's first months are
        # not a marginal customer's habits: the relationship is too young to tell.
        return Verdict("B", f"new owner: delivered {newest}, {(day - newest).days} days ago;"
                            f" only free/warranty work so far ({s.window_visits} visits)")
    if s.window_visits and not s.paid_visits:
        return Verdict("C", f"only warranty/free work in the last {cfg['window_months']} months "
                            f"({s.window_visits} visits)")
    if last_paid is None or (day - last_paid).days > cfg["c_no_paid_visit_days"]:
        when = f"last paid visit {last_paid}, {(day - last_paid).days} days ago" if last_paid \
            else "no paid visit on file"
        return Verdict("C", when)
    spend = s.spend_fen
    loyal, loyal_why = loyalty(s, start, day, cfg)
    facts = (f"{s.paid_visits} paid visits, ¥{spend / 100:,.0f} in {cfg['window_months']} months, "
             f"loyalty {loyal:.2f} ({loyal_why})")
    if (s.paid_visits >= cfg["a_min_paid_visits"] and spend >= cfg["a_min_spend_yuan"] * 100
            and loyal >= cfg["a_min_loyalty"]):
        return Verdict("A", facts)
    missing = []
    if s.paid_visits < cfg["a_min_paid_visits"]:
        missing.append(f"fewer than {cfg['a_min_paid_visits']} paid visits")
    if spend < cfg["a_min_spend_yuan"] * 100:
        missing.append(f"under ¥{cfg['a_min_spend_yuan']:,}")
    if loyal < cfg["a_min_loyalty"]:
        missing.append(f"loyalty under {cfg['a_min_loyalty']}")
    return Verdict("B", f"{facts}; not A: {', '.join(missing)}")


# --------------------------------------------------------------------------- the store


def load(db: sqlite_utils.Database, day: date, cfg: dict) -> dict[int, tuple[Summary, list[date]]]:
    """Every customer's summary for ``day`` and their vehicles' delivery dates.

    SQLite counts the orders in one grouped pass, the same counts ``summarize``
    makes from a list of orders (a test checks they agree), so millions of
    orders never become Python objects.
    """
    start = add_months(day, -cfg["window_months"]).isoformat()
    as_day = IsoDays().__getitem__
    out: dict[int, tuple[Summary, list[date]]] = {}
    empty = Summary(None, None, 0, 0, 0, 0, None, None, 0)
    for (cid,) in db.conn.execute("SELECT id FROM customers"):
        out[cid] = (empty, [])
    free = ",".join(f"'{t}'" for t in FREE_TYPES)
    maint = ",".join(f"'{t}'" for t in MAINTENANCE_TYPES)
    paid = f"(total_fen > 0 AND coalesce(service_type, '') NOT IN ({free}))"
    inside = "order_date >= :start"
    # One pass over the table and a sort beats two million index-ordered row lookups.
    for row in db.conn.execute(
            "SELECT customer_id, max(order_date),"
            f" max(CASE WHEN {paid} THEN order_date END),"
            f" sum({inside}), sum({inside} AND {paid}),"
            f" sum(CASE WHEN {inside} AND {paid} THEN total_fen ELSE 0 END),"
            f" sum({inside} AND service_type IN ({maint})),"
            f" min(CASE WHEN {inside} THEN mileage END), max(CASE WHEN {inside} THEN mileage END),"
            f" sum({inside} AND mileage IS NOT NULL)"
            " FROM repair_orders NOT INDEXED WHERE customer_id IS NOT NULL AND order_date <= :day"
            " GROUP BY customer_id", {"start": start, "day": day.isoformat()}):
        cid = row[0]
        if cid in out:
            out[cid] = (Summary(as_day(row[1]), as_day(row[2]), *row[3:]), out[cid][1])
    for cid, d in db.conn.execute(
            "SELECT customer_id, coalesce(delivery_date, purchase_date) FROM vehicles"
            " WHERE customer_id IS NOT NULL AND coalesce(delivery_date, purchase_date) IS NOT NULL"):
        if cid in out:
            out[cid][1].append(as_day(d))
    return out


def age_origins(db: sqlite_utils.Database, day: date) -> dict[int, date]:
    """For customers none of whose vehicles has a delivery or purchase date: where the
    age of their newest vehicle counts from, by the model year of its VIN."""
    out: dict[int, date] = {}
    for cid, vin in db.conn.execute(
            "SELECT customer_id, vin FROM vehicles WHERE customer_id IS NOT NULL"
            " AND vin IS NOT NULL AND delivery_date IS NULL AND purchase_date IS NULL"):
        since = vehicle_age(None, None, vin, day).since
        if since is not None and since <= day and since > out.get(cid, date.min):
            out[cid] = since
    return out


def vehicle_ages(db: sqlite_utils.Database, customer_id: int, day: date) -> list[dict]:
    """Each vehicle of a customer with its age on ``day`` and where the age comes from."""
    out = []
    for plate, vin, delivered, bought in db.conn.execute(
            "SELECT plate, vin, delivery_date, purchase_date FROM vehicles WHERE customer_id = ?"
            " ORDER BY id", (customer_id,)):
        age = vehicle_age(_day(delivered), _day(bought), vin, day)
        out.append({"plate": plate, "vin": vin, "years": age.years, "source": age.source})
    return out


def _day(s: str | None) -> date | None:
    return date.fromisoformat(s[:10]) if s else None


def run(db: sqlite_utils.Database, day: date, settings: dict) -> dict:
    """Classify every customer for ``day``; store the classes and every change of class."""
    cfg = settings["classes"]
    customers = load(db, day, cfg)
    verdicts = {cid: judge(summary, deliveries, day, cfg)
                for cid, (summary, deliveries) in customers.items()}
    origins = age_origins(db, day)
    bands = {cid: age_band(max(deliveries, default=None) or origins.get(cid), day, cfg)
             for cid, (_summary, deliveries) in customers.items()}
    now = clock.stamp()
    with write_transaction(db):
        old = dict(db.conn.execute("SELECT customer_id, value_class FROM classifications"))
        run_id = db.conn.execute(
            "INSERT INTO classify_runs (day, run_at, customers) VALUES (?,?,?)",
            (day.isoformat(), now, len(verdicts))).lastrowid
        # Every customer gets a class each run: replacing the table whole (SQLite
        # truncates it in one step) is quicker than 200,000 upserts.
        db.conn.execute("DELETE FROM classifications")
        db.conn.executemany(
            "INSERT INTO classifications (customer_id, value_class, reason, age_band, day, run_id)"
            " VALUES (?,?,?,?,?,?)",
            [(cid, v.value_class, v.reason, bands[cid], day.isoformat(), run_id)
             for cid, v in verdicts.items()])
        # A first class is not a move: the history starts at the first change.
        moves = [(run_id, cid, old[cid], v.value_class, day.isoformat(), v.reason)
                 for cid, v in verdicts.items()
                 if cid in old and old[cid] != v.value_class]
        db.conn.executemany(
            "INSERT INTO class_changes (run_id, customer_id, old_class, new_class, day, reason)"
            " VALUES (?,?,?,?,?,?)", moves)
    counts = Counter(v.value_class for v in verdicts.values())
    return {"day": day.isoformat(), "run_id": run_id, "customers": len(verdicts),
            "changed": len(moves),
            "counts": {k: counts.get(k, 0) for k in CLASSES}}


def matrix(db: sqlite_utils.Database) -> dict:
    """Counts by value class x vehicle age band, and by usage, from the last run."""
    grid = {k: {b: 0 for b in BANDS} for k in CLASSES}
    for cls, band, n in db.conn.execute(
            "SELECT value_class, age_band, count(*) FROM classifications GROUP BY 1, 2"):
        grid[cls][band] = n
    usage: dict[str, dict[str, int]] = {}
    for cls, use, n in db.conn.execute(
            "SELECT k.value_class, coalesce(v.usage, 'unknown'), count(DISTINCT k.customer_id)"
            " FROM classifications k LEFT JOIN vehicles v ON v.customer_id = k.customer_id"
            " GROUP BY 1, 2"):
        usage.setdefault(use, {c: 0 for c in CLASSES})[cls] = n
    last = db.conn.execute("SELECT day FROM classify_runs ORDER BY id DESC LIMIT 1").fetchone()
    return {"day": last[0] if last else None, "by_age": grid, "by_usage": usage}


def changes(db: sqlite_utils.Database, since: date | None = None) -> list[dict]:
    """Moves between classes since a day (default: the last run), A->B slides first."""
    if since is None:
        row = db.conn.execute("SELECT max(run_id) FROM class_changes WHERE old_class IS NOT NULL"
                              ).fetchone()
        where, params = "m.run_id = ?", (row[0] or 0,)
    else:
        where, params = "m.day >= ?", (since.isoformat(),)
    rows = db.conn.execute(
        "SELECT m.customer_id, c.name, c.mobile, m.old_class, m.new_class, m.day, m.reason"
        " FROM class_changes m JOIN customers c ON c.id = m.customer_id"
        f" WHERE {where} AND m.old_class IS NOT NULL ORDER BY m.id", params).fetchall()
    out = [dict(zip(("customer_id", "name", "mobile", "old", "new", "day", "reason"), r))
           for r in rows]

    def rank(m: dict) -> tuple:
        if m["new"] > m["old"]:
            # Slides down, by old then new class: A->B, the slide the manuals tell us to
            # watch, sorts first of them (A is the top class, B the next).
            return (0, m["old"], m["new"])
        if m["old"] == "D":
            return (1,)  # won back
        return (2,)

    out.sort(key=rank)
    return out


def explain(db: sqlite_utils.Database, customer_id: int) -> dict | None:
    row = db.conn.execute("SELECT value_class, reason, age_band, day FROM classifications"
                          " WHERE customer_id = ?", (customer_id,)).fetchone()
    if row is None:
        return None
    out = dict(zip(("value_class", "reason", "age_band", "day"), row))
    out["vehicles"] = vehicle_ages(db, customer_id, date.fromisoformat(row[3]))
    return out
