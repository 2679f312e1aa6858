"""Planning a day: facts from the store -> rules -> consent -> contact limits -> tasks, once.

``plan(db, day, settings)`` is idempotent: tasks are keyed (kind:subject:
occurrence), so planning again, or after importing the same files again,
creates nothing new. What changed is applied:

* a new candidate becomes an open task;
* an open, never-attempted task whose candidate changed (a new predicted
  date, a new reason) is updated;
* an open, never-attempted task whose candidate is gone is **withdrawn** with
  the reason (a car that came in for maintenance before its reminder);
* an open task past its expiry is closed as **missed**;
* candidates of one customer that fall within the contact window are
  **merged** into the most important one (one call or SMS covering every
  reason); the others stay on file as ``merged`` with a pointer, never lost.

Greetings with a fixed day (welcome SMS, birthdays, holidays) merge only with
contacts due the same day; they are not moved and do not push others away.

A day planned already is planned again for the customers whose data changed
since (the ``plan_dirt`` log, see ``facts``), provided that no other day was
planned in between and the settings are the same; every customer's tasks
depend on that customer's data alone, so the result is the same as planning
everyone again (a test compares the two). Otherwise the whole file is
planned. Vehicle facts from the orders (last visit, mileage span, last
maintenance) come from ``vehicle_facts``.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import NamedTuple

import sqlite_utils

from . import calendar as cal
from . import clock, rules
from .db import write_transaction
from .errors import UsageError
from .facts import DIRT_LIMIT
from .rules import Candidate, CustomerFacts, OrderFacts, VehicleFacts, Visit

FIXED_DAY_KINDS = {"welcome_sms", "birthday", "holiday"}
# Part of the call that made them, not a contact of their own: never moved by the window.
UNLIMITED_KINDS = {"thank_you_sms"}
# Call outcomes in which the customer was spoken to: a contact, for the contact window.
SPOKEN = ("reached", "booked", "done_elsewhere")
# Sent on their own day: they combine only with the other SMS of that day.
_OWN_DAY = FIXED_DAY_KINDS | UNLIMITED_KINDS
# Tasks that the planner makes and may withdraw; others (rescheduled calls,
# complaint follow-ups) are made by people and only closed by them.
PLANNED_KINDS = {"welcome_sms", "delivery_call", "delivery_questionnaire", "post_repair",
                 "first_maintenance", "regular_maintenance", "warranty_check",
                 "insurance_compulsory", "insurance_commercial", "inspection", "birthday",
                 "holiday", "advice_followup", "recovery", "no_show"}
CODE_VERSION = "plan-2"
# Beyond this many changed customers, planning everyone is about as quick.
INCREMENTAL_LIMIT = DIRT_LIMIT
_IN_SCOPE = "IN (SELECT customer_id FROM temp.plan_scope)"


class PastDay(UsageError):
    """Planning a day before the newest day planned: refused, history holds still."""


@dataclass
class PlanResult:
    day: str
    created: int = 0
    updated: int = 0
    withdrawn: int = 0
    missed: int = 0
    merged: int = 0
    open: int = 0
    skipped: bool = False
    # 'full', or 'changed' when only the customers whose data changed were planned again
    scope: str = "full"
    customers: int | None = None

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def work_calendar(settings: dict) -> cal.WorkCalendar:
    c = settings["calendar"]
    return cal.WorkCalendar(extra_holidays=c["extra_holidays"], extra_workdays=c["extra_workdays"])


def horizon(day: date, wc: cal.WorkCalendar) -> date:
    """Plan through the next working day, and over any days off that follow today.

    An SMS goes the day before a call, so tomorrow's sms_call tasks are needed
    today; on the last working day before a weekend or holiday the clerk also
    sees what falls due on the days off.
    """
    off = wc.days_off_after(day) if wc.is_working_day(day) else []
    return (off[-1] if off else day) + timedelta(days=1)


def settings_mark(settings: dict) -> str:
    """The settings and this code: a plan made under others is redone in full."""
    digest = hashlib.sha1(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()
    return f"{CODE_VERSION}:{digest[:12]}"


def dirt_seq(db: sqlite_utils.Database) -> int:
    """The last change logged for planning (sequence numbers are never reused)."""
    row = db.conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'plan_dirt'").fetchone()
    return row[0] if row else 0


def changed_customers(db: sqlite_utils.Database, day: date, settings: dict,
                      limit: int = INCREMENTAL_LIMIT) -> set[int] | None:
    """The customers to plan ``day`` again for; None when everyone must be planned.

    Everyone is planned when ``day`` was not the last day planned, under these
    settings, or when more than ``limit`` changes are pending. A changed
    vehicle brings its owner and the customers of its orders (a follow-up
    depends on whether the car came back); an empty set means nothing changed.
    """
    last = db.conn.execute(
        "SELECT day, dirt_seq, settings_mark FROM plan_runs WHERE finished_at IS NOT NULL"
        " ORDER BY id DESC LIMIT 1").fetchone()
    floor = db.conn.execute("SELECT dirt_floor FROM plan_state").fetchone()[0]
    if (last is None or last[0] != day.isoformat() or last[2] != settings_mark(settings)
            or last[1] is None or last[1] < floor):
        return None
    seen = last[1]
    pending = db.conn.execute("SELECT count(*) FROM plan_dirt WHERE seq > ?", (seen,)).fetchone()[0]
    if pending > limit:
        return None
    rows = db.conn.execute(
        "WITH d AS (SELECT customer_id, vehicle_id FROM plan_dirt WHERE seq > :seen)"
        " SELECT customer_id FROM d WHERE customer_id IS NOT NULL"
        " UNION SELECT customer_id FROM vehicles"
        "  WHERE id IN (SELECT vehicle_id FROM d) AND customer_id IS NOT NULL"
        " UNION SELECT customer_id FROM repair_orders"
        "  WHERE vehicle_id IN (SELECT vehicle_id FROM d) AND customer_id IS NOT NULL",
        {"seen": seen}).fetchall()
    return {r[0] for r in rows}


# --------------------------------------------------------------------------- facts


def _d(s: str | None) -> date | None:
    return date.fromisoformat(s[:10]) if s else None


class _Ordinals(dict):
    """ISO text -> day number (date.toordinal), each distinct day parsed once."""

    def __missing__(self, s: str) -> int:
        n = self[s] = date.fromisoformat(s[:10]).toordinal()
        return n


def _date_memo():
    """A date parser that parses each distinct ISO day once."""
    return rules.IsoDays().__getitem__


def _vehicle_rows(db: sqlite_utils.Database, where: str = "", params=()):
    """Owned vehicles as stored: (id, customer, plate, delivery, usage, 交强险, 商业险,
    inspection, last visit, first km day, last km day, min km, max km, last maintenance
    day, VIN, imported first maintenance day and km, warranty end, and the last
    maintenance's order id, km and order number), dates as ISO strings."""
    return db.conn.execute(
        "SELECT v.id, v.customer_id, v.plate, coalesce(v.delivery_date, v.purchase_date),"
        " v.usage, v.insurance_compulsory_expiry, v.insurance_commercial_expiry,"
        " v.inspection_due, f.last_visit, f.km_first_date, f.km_last_date, f.km_min,"
        " f.km_max, f.last_maint_day, v.vin, v.first_maintenance_date, v.first_maintenance_km,"
        " v.warranty_end, f.last_maint_order_id, f.last_maint_km, f.last_maint_order_no"
        " FROM vehicles v LEFT JOIN vehicle_facts f ON f.vehicle_id = v.id"
        f" WHERE v.customer_id IS NOT NULL {where}", params)


_new_facts = tuple.__new__  # VehicleFacts(...) without its Python-level __new__


def _vehicle_facts(row: tuple, _d) -> VehicleFacts:
    (vid, cid, plate, delivery, usage, ins1, ins2, insp, last_visit, d0, d1, k0, k1, lm_day, vin,
     fm_day, fm_km, w_end, lm_id, lm_km, lm_no) = row
    lm = Visit(_d(lm_day), lm_km, lm_id, lm_no) if lm_day else None
    built = None
    if delivery is None and vin and insp:
        # An imported inspection date and no delivery: the age (for the rhythm) comes
        # from the VIN's model year.
        built = rules.vehicle_age(None, None, vin, _d(insp)).since
    return _new_facts(VehicleFacts, (
        vid, cid, plate, _d(delivery), usage, _d(ins1), _d(ins2), _d(insp), lm, _d(last_visit),
        (_d(d0), k0) if d0 else None, (_d(d1), k1) if d1 else None, built,
        (_d(fm_day), fm_km) if fm_day or fm_km else None, _d(w_end)))


def load_vehicles(db: sqlite_utils.Database, where: str = "", params=()) -> list[VehicleFacts]:
    """Owned vehicles with their last maintenance, last visit and mileage span.

    ``where`` (on ``v``, the vehicle) narrows them; the order facts come from
    ``vehicle_facts``.
    """
    _d = _date_memo()
    return [_vehicle_facts(row, _d) for row in _vehicle_rows(db, where, params)]


def load_orders(db: sqlite_utils.Database, start: date, end: date, where: str = "",
                params=()) -> list[OrderFacts]:
    """Orders dated from ``start`` to ``end``, with their vehicle's last visit."""
    _d = _date_memo()
    rows = db.conn.execute(
        "SELECT o.id, o.order_no, o.vehicle_id, o.customer_id, o.order_date, o.service_type,"
        " o.advice, f.last_visit FROM repair_orders o"
        " LEFT JOIN vehicle_facts f ON f.vehicle_id = o.vehicle_id"
        f" WHERE o.order_date BETWEEN ? AND ? AND o.customer_id IS NOT NULL {where}",
        (start.isoformat(), end.isoformat(), *params))
    return [OrderFacts(r[0], r[1], r[2], r[3], _d(r[4]), r[5], r[6], _d(r[7])) for r in rows]


def load_customers(db: sqlite_utils.Database, where: str = "", params=()) -> list[CustomerFacts]:
    rows = db.conn.execute(
        "SELECT c.id, c.birthday, c.lunar_birthday, c.occupation,"
        " (SELECT max(order_date) FROM repair_orders o WHERE o.customer_id = c.id)"
        f" FROM customers c {where}", params)
    return [CustomerFacts(r[0], _d(r[1]), r[2], r[3], _d(r[4])) for r in rows]


# --------------------------------------------------------------------------- candidates


def candidates(db: sqlite_utils.Database, day: date, settings: dict,
               wc: cal.WorkCalendar, scoped: bool = False
               ) -> tuple[list[Candidate], dict[int, VehicleFacts]]:
    """Every contact that may be due from ``day`` to the horizon; with ``scoped``,
    only those of the customers in ``temp.plan_scope``."""
    care = settings["care"]
    planning = settings["planning"]
    end = horizon(day, wc)
    kmpd = planning["default_km_per_day"]
    out: list[Candidate] = []
    window = (day, end)
    gate = _vehicle_gate(day, end, settings)
    _d = _date_memo()
    vehicles: list[tuple[VehicleFacts, tuple]] = []
    last_visit: dict[int, str] = {}  # customer -> the last visit over all their vehicles
    for row in _vehicle_rows(db, f"AND v.customer_id {_IN_SCOPE}" if scoped else ""):
        lv = row[8]
        if lv and lv > last_visit.get(row[1], ""):
            last_visit[row[1]] = lv
        # Most vehicles have nothing near the window: they are judged on the stored
        # strings, and the facts are built only for those a rule may fire for.
        flags = gate(row)
        if flags:
            vehicles.append((_vehicle_facts(row, _d), flags))
    by_id = {v.id: v for v, _flags in vehicles}
    inspection_dates: dict[tuple, list[date]] = {}
    inspection_until = end + timedelta(days=care["inspection"]["lead_days"])
    for v, (delivery, first, regular, warranty, insurance, inspection) in vehicles:
        if delivery:
            out += rules.delivery_contacts(v, care, window)
        if first:
            out += rules.first_maintenance(v, care, kmpd, window)
        if regular:
            out += rules.regular_maintenance(v, care, kmpd, window)
        if warranty:
            out += rules.warranty_checks(v, care, kmpd, window)
        if insurance:
            out += rules.insurance(v, care, window)
        if inspection:
            # The due dates depend on the usage and two dates: cars delivered the same
            # day share them.
            k = (v.usage, v.inspection_due, v.delivery, v.built)
            dates = inspection_dates.get(k)
            if dates is None:
                dates = inspection_dates[k] = rules.inspection_dates(
                    v, settings["inspection_rules"], inspection_until)
            out += rules.inspection(v, care, settings["inspection_rules"], day, end, dates)
    post = care["post_repair"]["days_after"] + care["post_repair"]["expires_after_days"]
    longest = max(post, care["advice_followup"]["days_after"]
                  + care["advice_followup"]["expires_after_days"])
    # An order settled before `post` days ago has no post-repair call left in the window
    # (its expiry is before the day): only one with advice can still give a contact.
    # ('+' keeps the order-date index on the range, so the rows come in the same order.)
    for o in load_orders(db, day - timedelta(days=longest), end,
                         "AND (+o.order_date >= ? OR (o.advice IS NOT NULL AND o.advice <> ''))"
                         + (f" AND o.customer_id {_IN_SCOPE}" if scoped else ""),
                         ((day - timedelta(days=post)).isoformat(),)):
        out += rules.post_repair(o, care, window)
        out += rules.advice_followup(o, care, window)
    out += _customer_candidates(db, day, end, care, last_visit, scoped)
    keep = [c for c in out if c.due <= end and c.expires >= day]
    return keep, by_id


def _vehicle_gate(day: date, end: date, settings: dict):
    """Which vehicle rules may fire in the window, judged on a stored row's ISO strings.

    Returns a function of a ``_vehicle_rows`` row giving a tuple of flags
    (delivery contacts, first maintenance, regular maintenance, warranty,
    insurance, inspection), or None when no rule can. Each bound is the
    widest the rule's settings allow, so a rule that would give a contact
    in the window is never skipped (ISO strings compare as dates do).
    """
    care = settings["care"]
    w_cfg, r_cfg, f_cfg = (care["warranty_check"], care["regular_maintenance"],
                           care["first_maintenance"])
    iso = date.isoformat
    end_s = iso(end)
    delivery_from = iso(day - timedelta(days=max(
        care[k]["days_after"] + care[k]["expires_after_days"]
        for k in ("welcome_sms", "delivery_call", "delivery_questionnaire"))))
    # A first maintenance is due at the latest `months` after delivery, a regular one
    # `months` after the last, the last warranty check max(points) months after
    # delivery; a few days' slack covers months of unequal length.
    slack = timedelta(days=3)
    first_from = iso(rules.add_months(day - timedelta(days=f_cfg["expires_after_days"]),
                                      -f_cfg["months"]) - slack)
    # An imported first-maintenance date may be later than the settings' months.
    first_given = (iso(day - timedelta(days=f_cfg["expires_after_days"])),
                   iso(end + timedelta(days=f_cfg.get("lead_days", 0))))
    maintenance_from = iso(rules.add_months(day - timedelta(days=r_cfg["expires_after_days"]),
                                            -r_cfg["months"]) - slack)
    warranty_from = iso(rules.add_months(
        day + timedelta(days=w_cfg["lead_days"] - w_cfg["expires_after_days"]),
        -max((m for m, _km in w_cfg["points"]), default=0)) - slack)
    ins = [(iso(day + timedelta(days=care[k]["lead_days"] - care[k]["expires_after_days"])),
            iso(end + timedelta(days=care[k]["lead_days"])))
           for k in ("insurance_compulsory", "insurance_commercial")]
    (lo1, hi1), (lo2, hi2) = ins
    inspection = _inspection_gate(day, end, care["inspection"], settings["inspection_rules"])
    # Regular maintenance and warranty checks fall due by time or by mileage, whichever
    # comes first; with the car's km/day worked out as rules.km_per_day does, on day
    # numbers, the due date is known within the length of the months involved
    # (28 to 31 days each). Only cars whose due date may fall in the window go on.
    ordinal = _Ordinals()
    day_o, end_o = day.toordinal(), end.toordinal()
    default_kmpd = rules.default_km_per_day(settings["planning"]["default_km_per_day"])
    r_months, r_km = r_cfg["months"], r_cfg["km"]
    r_exp, r_lead = r_cfg["expires_after_days"], r_cfg.get("lead_days", 0)
    w_lead, w_exp = w_cfg["lead_days"], w_cfg["expires_after_days"]
    w_points = [(28 * m, 31 * m, km) for m, km in w_cfg["points"]]
    # An imported warranty end is the last point's day by time.
    w_given = (iso(day + timedelta(days=w_lead - w_exp)), iso(end + timedelta(days=w_lead)))

    def km_per_day(row: tuple) -> float:
        if row[9] and row[10]:
            own = rules.own_km_per_day(ordinal[row[10]] - ordinal[row[9]], row[12] - row[11])
            if own is not None:
                return own
        return default_kmpd

    max_km_days, ceil = rules.MAX_KM_DAYS, math.ceil  # rules.km_days, inlined
    # The window's tests on day numbers, with the lead and expiry moved to the bounds: a
    # regular maintenance due on `due` may be planned when due - lead <= end and
    # due - lead + expires >= day; a warranty point likewise.
    r_lo, r_hi = 28 * r_months, 31 * r_months
    r_upto, r_from = end_o + r_lead, day_o + r_lead - r_exp
    w_upto, w_from = end_o + w_lead, day_o + w_lead - w_exp

    def gate(row: tuple) -> tuple | None:
        delivery, ins1, ins2, insp, last_m = row[3], row[5], row[6], row[7], row[13]
        per_day = None  # the car's km/day, worked out once and only when needed
        regular = False
        if last_m is not None and last_m >= maintenance_from:
            last = ordinal[last_m]
            lo, hi = last + r_lo, last + r_hi
            if row[19] is not None:  # the last maintenance has a mileage: km counts too
                per_day = km_per_day(row)
                k = last + min(max_km_days, ceil(r_km / per_day))
                lo, hi = min(lo, k), min(hi, k)
            regular = lo <= r_upto and hi >= r_from
        warranty = False
        if delivery is not None and delivery >= warranty_from:
            d = ordinal[delivery]
            for lo, hi, km in w_points:
                # The point is reached by time on d + hi at the latest: a check that
                # ended before the window whatever the mileage needs no km/day.
                if d + hi < w_from:
                    continue
                if per_day is None:
                    per_day = km_per_day(row)
                k = d + min(max_km_days, ceil(km / per_day))
                if min(d + lo, k) <= w_upto and min(d + hi, k) >= w_from:
                    warranty = True
                    break
        if not warranty and row[17] is not None:
            warranty = w_given[0] <= row[17] <= w_given[1]
        flags = (
            delivery is not None and delivery_from <= delivery <= end_s,
            delivery is not None and (delivery >= first_from or (
                row[15] is not None and first_given[0] <= row[15] <= first_given[1])) and (
                last_m is None or last_m < delivery),
            regular,
            warranty,
            (ins1 is not None and lo1 <= ins1 <= hi1) or (ins2 is not None and lo2 <= ins2 <= hi2),
            inspection(insp, delivery, row[4]),
        )
        return flags if True in flags else None

    return gate


def _inspection_gate(day: date, end: date, cfg: dict, table: dict):
    """A quick test that a vehicle may have an inspection reminder in the window.

    Inspection dates fall on whole-month steps from delivery (or from the
    imported date), every step a multiple of the gcd of the rule table's
    intervals; a vehicle whose month is not congruent with any month the
    window can reach is skipped without walking its dates. A vehicle that passes
    and has a delivery date is then judged exactly, on its due dates (cached per
    usage and dates). Takes the stored inspection and delivery dates as ISO
    strings, and the usage.
    """
    from math import gcd

    steps = [m for rows in table.values() for _lo, _hi, m in rows]
    g = 0
    for m in steps:
        g = gcd(g, m)
    g = g or 1
    lo = day + timedelta(days=cfg["lead_days"] - cfg["expires_after_days"])
    hi = end + timedelta(days=cfg["lead_days"])
    months = set()
    d = date(lo.year, lo.month, 1)
    while d <= hi:
        months.add((d.year * 12 + d.month - 1) % g)
        d = rules.add_months(d, 1)
    lo_s, hi_s = lo.isoformat(), hi.isoformat()
    lead, expires = timedelta(days=cfg["lead_days"]), timedelta(days=cfg["expires_after_days"])
    until = end + lead  # as candidates() asks rules.inspection_dates
    due: dict[tuple, bool] = {}

    def in_window(inspection_due: str | None, delivery: str, usage: str | None) -> bool:
        # With a delivery date the due dates depend on the usage and the two dates
        # alone (the VIN's year only stands in for a missing delivery): worked out once
        # per distinct three, with rules.inspection's own test of each date.
        key = (usage, inspection_due, delivery)
        hit = due.get(key)
        if hit is None:
            v = rules.VehicleFacts(0, 0, None, _d(delivery), usage, None, None,
                                   _d(inspection_due), None, None, None, None)
            hit = due[key] = any(day <= d - lead + expires and d - lead <= end
                                 for d in rules.inspection_dates(v, table, until))
        return hit

    reach: dict[str, bool] = {}  # 'YYYY-MM' -> whether its month is one the window reaches

    def gate(inspection_due: str | None, delivery: str | None, usage: str | None) -> bool:
        if not (inspection_due is not None and lo_s <= inspection_due <= hi_s):
            start = inspection_due or delivery
            if start is None:
                return False
            ym = start[:7]
            ok = reach.get(ym)
            if ok is None:
                ok = reach[ym] = (int(ym[:4]) * 12 + int(ym[5:7]) - 1) % g in months
            if not ok:
                return False
        return not delivery or in_window(inspection_due, delivery, usage)

    return gate


def _customer_candidates(db, day: date, end: date, care: dict, last_visit: dict[int, str],
                         scoped: bool) -> list[Candidate]:
    out: list[Candidate] = []
    scope = f" AND c.id {_IN_SCOPE}" if scoped else ""
    # Birthdays: only customers whose solar month-day falls in the window, plus every
    # customer with a lunar birthday (few, and their solar date moves each year).
    mmdd = sorted({(day + timedelta(days=i)).strftime("%m-%d")
                   for i in range((end - day).days + 1)}
                  | ({"02-29"} if any((day + timedelta(days=i)).strftime("%m-%d") == "02-28"
                                      for i in range((end - day).days + 1)) else set()))
    marks = ",".join("?" * len(mmdd))
    for c in load_customers(db, f"WHERE (substr(c.birthday, 6, 5) IN ({marks})"
                                f" OR c.lunar_birthday IS NOT NULL){scope}", mmdd):
        out += rules.birthdays(c, care, day, end)
    hols = rules.holidays_between(day, end, care["holiday"]["holidays"])
    if hols and care["holiday"]["enabled"]:
        for c in db.conn.execute("SELECT id, occupation FROM customers c"
                                 f" WHERE mobile IS NOT NULL{scope}"):
            out += rules.holiday_greetings(CustomerFacts(c[0], None, None, c[1], None), care, hols)
    # Recovery: a customer's last visit over all the vehicles they own.
    cfg = care["recovery"]
    if cfg["enabled"]:
        cutoff = (day - timedelta(days=cfg["lost_after_days"] - cfg["every_days"])).isoformat()
        for cid, lv in last_visit.items():
            if lv <= cutoff:
                out += rules.recovery(CustomerFacts(cid, None, None, None, _d(lv)), care, day,
                                      (day, end))
    return out


def apply_consent(cands: list[Candidate], no_calls: set[int], optouts: dict[int, set[str]]
                  ) -> list[Candidate]:
    """Nothing goes to a customer who refused that kind of contact.

    A customer who refused callbacks gets no calls; an ``sms_call`` task then
    keeps only its SMS. An opt-out names 'all', 'sms', 'call', 'marketing',
    'service' or a task kind (see ``optouts.allowed_channel``).
    """
    from .optouts import allowed_channel

    out = []
    none: frozenset[str] = frozenset()
    for c in cands:
        channel = allowed_channel(optouts.get(c.customer_id, none), c.kind, c.channel,
                                  c.customer_id not in no_calls)
        if channel:
            c.channel = channel
            out.append(c)
    return out


class Contact(NamedTuple):
    """One open task as combining sees it."""

    id: int
    kind: str
    customer_id: int
    channel: str
    weight: int
    due: date
    expires: date
    day: date          # the day the contact will really happen (contact_day)
    pinned: bool       # at a time the customer chose
    engaged: bool      # tried already, or its SMS went: it leads what joins it


def contact_day(due: date, next_try: date | None, call_at: str | None, channel: str,
                today: date, wc: cal.WorkCalendar) -> date:
    """The day a contact will really happen.

    A time the customer chose is kept as it is. Otherwise the contact is made on
    its due day (or the day of its next try), today when that is past; a call
    whose day is not a working day is made on the next working day (a
    post-repair call due Saturday 2026-11-28 is made Monday 11-30). An SMS goes
    on its day.
    """
    if call_at:
        return date.fromisoformat(call_at[:10])
    d = max(next_try or due, today)
    if channel == "sms" or wc.is_working_day(d):
        return d
    return wc.next_working_day(d)


def combine(contacts: list[Contact], window_days: int,
            not_before: dict[int, date] | None = None
            ) -> dict[int, tuple[int | None, date | None]]:
    """Combine one customer's open contacts whose days fall within the window.

    Returns {task id: (lead id or None, contact day when it differs from the
    task's own)}. The lead is the contact that is already under way (a time
    the customer chose, then one tried or whose SMS went), else the heaviest,
    then the earliest; a contact joins a lead when their days are less than
    ``window_days`` apart and it is still open on the day of the combined
    contact, which is the earliest day of what it carries. A call never rides
    on an SMS; greetings (birthday, holidays, the new-car SMS) combine only
    with other SMS of their own day, into one message; a time the customer
    chose is never moved nor folded into another contact.

    ``not_before`` is, per customer, the first day a new contact may be made
    after the last one (the last contact + the window): a contact that would
    come sooner is moved to that day, never dropped. Greetings keep their day
    and a customer-chosen time is kept.

    Example (window 3): post-repair (80) due Saturday, made Monday 11-30, and
    交强险 (55) due Wednesday 12-02: one call on Monday carrying both.
    """
    plan: dict[int, tuple[int | None, date | None]] = {}
    not_before = not_before or {}
    by_customer: dict[int, list[Contact]] = {}
    for c in contacts:
        by_customer.setdefault(c.customer_id, []).append(c)
    for cid, group in by_customer.items():
        # Calls before SMS, so that an SMS can ride on a call (never the other way).
        if len(group) > 1:
            group.sort(key=lambda c: (not c.pinned, not c.engaged, c.channel == "sms",
                                      -c.weight, c.day, c.id))
        leads: list[list] = []  # [lead, day of the combined contact, members]
        for c in group:
            home = None
            if not c.pinned and window_days > 0:
                for entry in leads:
                    lead, day = entry[0], entry[1]
                    target = day if lead.pinned else min(day, c.day)
                    if _joins(lead, c, window_days) and c.expires >= target:
                        home = entry
                        break
            if home is None:
                leads.append([c, c.day, []])
            else:
                home[2].append(c)
                if not home[0].pinned:
                    home[1] = min(home[1], c.day)
        floor = not_before.get(cid)
        for lead, day, members in leads:
            if floor and day < floor and not lead.pinned and lead.kind not in FIXED_DAY_KINDS \
                    and lead.kind not in UNLIMITED_KINDS:
                day = floor
            plan[lead.id] = (None, day if day != lead.day else None)
            for m in members:
                plan[m.id] = (lead.id, None)
    return plan


def _joins(lead: Contact, c: Contact, window: int) -> bool:
    if lead.kind in _OWN_DAY or c.kind in _OWN_DAY:
        return lead.channel == c.channel == "sms" and lead.day == c.day
    if c.channel != "sms" and lead.channel == "sms":
        return False
    return abs((lead.day - c.day).days) < window


# --------------------------------------------------------------------------- storing


def newest_planned_day(db: sqlite_utils.Database) -> date | None:
    """The newest day planned as a real day (a look ahead of time does not count)."""
    row = db.conn.execute("SELECT max(coalesce(missed_before, day)) FROM plan_runs"
                          " WHERE finished_at IS NOT NULL").fetchone()
    return _d(row[0]) if row and row[0] else None


def plan(db: sqlite_utils.Database, day: date, settings: dict, *, force: bool = False,
         as_of: date | None = None) -> PlanResult:
    """Plan ``day``: store new tasks once, update, withdraw, combine and expire.

    ``as_of`` is the real today when the caller knows it: a look at a future
    day plans it, but closes nothing as missed beyond ``as_of``, so peeking
    ahead never loses work still to be done. A day before the newest day
    planned is refused (``PastDay``): history holds still.
    """
    newest = newest_planned_day(db)
    if newest is not None and day < newest:
        from .i18n import _

        raise PastDay(_("{day} is before {newest}, the newest day planned: planning it would "
                        "rewrite what happened since; `crmcli today --date` shows it as planned"
                        ).format(day=day, newest=newest))
    result = PlanResult(day=day.isoformat())
    # Read first: a change committed while this plan runs is after `seen`, and
    # is planned next time.
    seen = dirt_seq(db)
    missed_before = min(day, as_of) if as_of else day
    scope = None if force else changed_customers(db, day, settings)
    if scope is not None and not scope:
        last = db.conn.execute("SELECT missed_before FROM plan_runs WHERE finished_at IS NOT NULL"
                               " ORDER BY id DESC LIMIT 1").fetchone()
        if (last[0] or "") >= missed_before.isoformat():
            result.skipped = True
            return result
        # Nothing changed, but the day has come since it was looked at ahead of time:
        # a run for no customer closes what expired meanwhile.
    scoped = scope is not None
    if scoped:
        result.scope, result.customers = "changed", len(scope)
        db.conn.execute("CREATE TEMP TABLE IF NOT EXISTS plan_scope"
                        " (customer_id INTEGER PRIMARY KEY)")
        db.conn.execute("DELETE FROM temp.plan_scope")
        db.conn.executemany("INSERT INTO temp.plan_scope VALUES (?)", [(c,) for c in scope])
    wc = work_calendar(settings)
    cands, vehicles = candidates(db, day, settings, wc, scoped)
    cands += no_show_candidates(db, day, settings, scoped)
    where = f" AND id {_IN_SCOPE}" if scoped else ""
    no_calls = {r[0] for r in db.conn.execute(
        f"SELECT id FROM customers WHERE callback_consent = 0{where}")}
    optouts: dict[int, set[str]] = {}
    for cid, what in db.conn.execute(
            f"SELECT customer_id, what FROM optouts"
            f"{' WHERE customer_id ' + _IN_SCOPE if scoped else ''}"):
        optouts.setdefault(cid, set()).add(what)
    cands = apply_consent(cands, no_calls, optouts)
    now = clock.stamp()
    end = horizon(day, wc)
    mark = settings_mark(settings)
    with write_transaction(db):
        run_id = db.conn.execute(
            "INSERT INTO plan_runs (day, data_mark, settings_mark, dirt_seq, scope, started_at,"
            " missed_before) VALUES (?,?,?,?,?,?,?)",
            (day.isoformat(), f"{mark}:{seen}", mark, seen, result.scope, now,
             missed_before.isoformat())).lastrowid
        _late_callbacks(db, day, settings, now, result, scoped)
        pending, changed = _store(db, day, end, cands, vehicles, now, result, scoped=scoped)
        result.merged, released, regrouped = _combine_stored(db, day, settings, wc, now, scoped,
                                                             pending)
        # Each count says what this run did: a task updated twice over is one updated
        # task, and tasks that stay combined as they were are not "merged" again.
        result.updated = len(changed | regrouped)
        result.missed += released
        # Close what expired unworked.
        cur = db.conn.execute(
            "UPDATE tasks SET state='missed', state_reason='not done by ' || expires_on,"
            " closed_at=?, updated_at=? WHERE state='open' AND expires_on < ?",
            (now, now, missed_before.isoformat()))
        result.missed += cur.rowcount
        # Only the newest run can be continued from, and it has seen these.
        db.conn.execute("DELETE FROM plan_dirt WHERE seq <= ?", (seen,))
        db.conn.execute("UPDATE plan_state SET dirt_floor = max(dirt_floor, ?)", (seen,))
        db.conn.execute(
            "UPDATE plan_runs SET finished_at=?, created=?, updated=?, withdrawn=?, missed=?,"
            " merged=? WHERE id=?", (clock.stamp(), result.created,
                                     result.updated, result.withdrawn, result.missed,
                                     result.merged, run_id))
    result.open = db.conn.execute("SELECT count(*) FROM tasks WHERE state='open'").fetchone()[0]
    return result


def _store(db, day: date, end: date, cands: list[Candidate],
           vehicles: dict[int, VehicleFacts], now: str, result: PlanResult,
           scoped: bool = False) -> tuple[list[list], set[int]]:
    """Update and withdraw stored tasks; return the new ones, ids given, to be written
    once combining has said what each becomes (so each is written once), and the ids
    of the stored tasks updated."""
    conn = db.conn
    keys = [c.key for c in cands]
    existing: dict[str, tuple] = {}
    for i in range(0, len(keys), 500):
        chunk = keys[i:i + 500]
        for row in conn.execute(
                f"SELECT key, id, state, attempts, due_date, reason, channel, customer_id"
                f" FROM tasks WHERE key IN ({','.join('?' * len(chunk))})", chunk):
            existing[row[0]] = row[1:]
    inserts, updates, moved = [], [], []
    next_id = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM tasks").fetchone()[0]
    for c in cands:
        row = existing.get(c.key)
        if row is None:
            # id, key, kind, customer, vehicle, order, due, expires, channel, weight,
            # reason, state, state_reason, merged_into, contact_on, planned, updated
            inserts.append([next_id, c.key, c.kind, c.customer_id, c.vehicle_id, c.order_id,
                            c.due.isoformat(), c.expires.isoformat(), c.channel, c.weight,
                            c.reason, "open", None, None, None, now, now])
            next_id += 1
        elif row[1] in ("open", "merged") and row[2] == 0:
            # The customer is in the comparison: a vehicle that changed hands takes its
            # open reminders to the new owner.
            if (row[3], row[4], row[5], row[6]) != (
                    c.due.isoformat(), c.reason, c.channel, c.customer_id):
                updates.append((c.due.isoformat(), c.expires.isoformat(), c.reason, c.channel,
                                c.customer_id, now, row[0]))
        elif row[6] != c.customer_id and row[1] in ("open", "merged"):
            # A task under way follows its vehicle to a new owner, so that a plan of
            # either finds it.
            moved.append((c.customer_id, now, row[0]))
    conn.executemany("UPDATE tasks SET due_date=?, expires_on=?, reason=?, channel=?,"
                     " customer_id=?, updated_at=? WHERE id=?", updates)
    conn.executemany("UPDATE tasks SET customer_id=?, updated_at=? WHERE id=?", moved)
    result.created, result.updated = len(inserts), len(updates) + len(moved)
    # Withdraw open planned tasks in the window that no longer apply: never tried, or
    # tried but the service they remind of has been done (the car came in for it).
    live = set(keys)
    stale = [r for r in conn.execute(
        "SELECT id, key, kind, vehicle_id, customer_id, due_date, attempts, planned_at"
        " FROM tasks WHERE state IN ('open', 'merged') AND due_date <= ?"
        " AND expires_on >= ?" + (f" AND customer_id {_IN_SCOPE}" if scoped else ""),
        (end.isoformat(), day.isoformat()))
        if r[1] not in live and r[2] in PLANNED_KINDS]
    missing = sorted({r[3] for r in stale if r[3] and r[3] not in vehicles})
    for i in range(0, len(missing), 500):
        chunk = missing[i:i + 500]
        vehicles.update((v.id, v) for v in load_vehicles(
            db, f"AND v.id IN ({','.join('?' * len(chunk))})", chunk))
    withdraw = []
    for r in stale:
        why, service_done = _withdraw_reason(db, r, vehicles)
        if r[6] == 0 or service_done:
            withdraw.append((why, now, now, r[0]))
    conn.executemany(
        "UPDATE tasks SET state='withdrawn', state_reason=?, closed_at=?, updated_at=?,"
        " merged_into=NULL WHERE id=?", withdraw)
    result.withdrawn = len(withdraw)
    return inserts, {u[-1] for u in updates} | {m[-1] for m in moved}


SERVICE_KINDS = ("first_maintenance", "regular_maintenance", "warranty_check", "advice_followup",
                 "no_show")


def _withdraw_reason(db, row, vehicles: dict[int, VehicleFacts]) -> tuple[str, bool]:
    """Why a planned task no longer applies, and whether it is because the service it
    reminds of was done (then it is withdrawn even after a call was tried)."""
    _id, _key, kind, vehicle_id, customer_id, _due, _attempts, _planned_at = row
    consent = db.conn.execute("SELECT callback_consent FROM customers WHERE id=?",
                              (customer_id,)).fetchone()
    v = vehicles.get(vehicle_id) if vehicle_id else None
    if consent is not None and consent[0] == 0:
        return "the customer refused callbacks", False
    if vehicle_id and v is None:
        return "the vehicle has no owner on file any more", False
    if v is not None and v.customer_id != customer_id:
        return f"the vehicle now belongs to customer #{v.customer_id}", False
    if kind in SERVICE_KINDS and v is not None:
        lm = v.last_maintenance
        if kind != "advice_followup" and kind != "no_show" and lm:
            return f"came in for maintenance on {lm.day} ({lm.order_no}) before the reminder", True
        if v.last_visit:
            return f"the car came in on {v.last_visit}", True
    if kind in ("insurance_compulsory", "insurance_commercial") and v is not None:
        new = v.insurance_compulsory if kind == "insurance_compulsory" else v.insurance_commercial
        return (f"renewed: the expiry date on file is now {new}", True) if new else (
            "no expiry date on file", False)
    if kind == "inspection" and v is not None:
        return f"inspected: the inspection date on file is now {v.inspection_due}", True
    if kind == "recovery":
        return "the customer came back", True
    return "no longer applies after the latest data", False


def _late_callbacks(db, day: date, settings: dict, now: str, result: PlanResult,
                    scoped: bool) -> None:
    """Orders imported after their callback window closed: the callback is recorded as
    missed ("imported after the window closed"), so the report's due count is the
    number of orders that should have had one.

    Only orders whose callback window was open on the first day planned or later
    (before it the desk did not use this file), and at most LATE_LOOKBACK_DAYS back.
    """
    cfg = settings["care"]["post_repair"]
    if not cfg["enabled"]:
        return
    first = db.conn.execute("SELECT min(day) FROM plan_runs").fetchone()[0]
    first = _d(first) or day
    after = timedelta(days=cfg["days_after"])
    closed = day - timedelta(days=cfg["expires_after_days"]) - after  # due+expires < day
    # Orders whose window was still open on the first day planned, or later ones.
    since = max(first - after - timedelta(days=cfg["expires_after_days"]),
                day - timedelta(days=LATE_LOOKBACK_DAYS))
    if since >= closed:
        return
    skip = list(cfg["skip_types"])
    rows = db.conn.execute(
        "SELECT o.id, o.customer_id, o.vehicle_id, o.order_no, o.order_date, o.service_type"
        " FROM repair_orders o WHERE o.order_date >= ? AND o.order_date < ?"
        " AND o.customer_id IS NOT NULL"
        f" AND coalesce(o.service_type, '') NOT IN ({','.join('?' * len(skip))})"
        + (f" AND o.customer_id {_IN_SCOPE}" if scoped else "")
        + " AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.key = 'post_repair:o' || o.id)",
        (since.isoformat(), closed.isoformat(), *skip)).fetchall()
    inserts = []
    for oid, cid, vid, ono, odate, stype in rows:
        due = date.fromisoformat(odate) + after
        expires = due + timedelta(days=cfg["expires_after_days"])
        inserts.append((f"post_repair:o{oid}", "post_repair", cid, vid, oid, due.isoformat(),
                        expires.isoformat(), cfg["channel"], cfg["weight"],
                        f"post-repair callback: {ono} settled {odate}"
                        + (f" ({stype})" if stype else ""),
                        "imported after the window closed", now, now, now))
    db.conn.executemany(
        "INSERT INTO tasks (key, kind, customer_id, vehicle_id, order_id, due_date, expires_on,"
        " channel, weight, reason, state, state_reason, planned_at, updated_at, closed_at)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,'missed',?,?,?,?)", inserts)
    result.missed += len(inserts)


LATE_LOOKBACK_DAYS = 120


def no_show_candidates(db, day: date, settings: dict, scoped: bool) -> list[Candidate]:
    """A follow-up call when a booked visit did not happen: no order of the car from the
    booking call to the day after the appointment. Due two days after the
    appointment (the day after's orders are imported by then), open for a week.

    Booked for 2026-12-01 09:00, no order of the car by 12-02: a call due 12-03.
    """
    cfg = settings["care"]["no_show"]
    if not cfg["enabled"]:
        return []
    wait = timedelta(days=cfg["days_after"])
    lo = (day - wait - timedelta(days=cfg["expires_after_days"])).isoformat()
    hi = (horizon(day, work_calendar(settings)) - wait).isoformat()
    out = []
    for tid, cid, vid, appt, closed, plate in db.conn.execute(
            "SELECT t.id, t.customer_id, t.vehicle_id, t.appointment_at, t.closed_at, v.plate"
            " FROM tasks t LEFT JOIN vehicles v ON v.id = t.vehicle_id"
            " WHERE t.appointment_at IS NOT NULL AND substr(t.appointment_at, 1, 10) BETWEEN ? AND ?"
            + (f" AND t.customer_id {_IN_SCOPE}" if scoped else ""), (lo, hi)):
        appt_day = date.fromisoformat(appt[:10])
        booked_on = (closed or appt)[:10]
        if vid is not None and db.conn.execute(
                "SELECT 1 FROM repair_orders WHERE vehicle_id = ? AND order_date BETWEEN ? AND ?",
                (vid, min(booked_on, appt[:10]), (appt_day + timedelta(days=1)).isoformat())
        ).fetchone():
            continue
        c = rules._cand("no_show", f"no_show:t{tid}", cfg, appt_day + wait,
                        f"booked for {appt} but {plate or 'the car'} did not come:"
                        " ask what happened and book again", customer_id=cid, vehicle_id=vid,
                        window=(day, horizon(day, work_calendar(settings))))
        if c is not None:
            out.append(c)
    return out


def _combine_stored(db, day: date, settings: dict, wc: cal.WorkCalendar, now: str,
                    scoped: bool, pending: list[list] = ()) -> tuple[int, int, set[int]]:
    """Combine the open tasks of each customer by the day each will really happen.

    Every open task takes part, old and new alike; a task combined into one that
    has since closed without reaching the customer (unreachable, refused, missed,
    withdrawn) is free again, or missed with that reason when its own window
    has closed. Returns what this run changed: how many tasks it combined into
    another (new ones, and stored ones not combined so before), how many it closed
    as missed, and the ids of the stored tasks it set apart or moved to another day.
    """
    conn = db.conn
    window = settings["planning"]["contact_window_days"]
    scope = f" AND t.customer_id {_IN_SCOPE}" if scoped else ""
    rows = conn.execute(
        "SELECT t.id, t.kind, t.customer_id, t.channel, t.weight, t.due_date, t.expires_on,"
        " t.next_try, t.call_at, t.attempts, t.sms_sent_at, t.state, t.merged_into,"
        " t.contact_on, lead.state FROM tasks t LEFT JOIN tasks lead ON lead.id = t.merged_into"
        f" WHERE t.state IN ('open', 'merged') AND t.customer_id IS NOT NULL{scope}").fetchall()
    day_s = day.isoformat()
    contacts, stored, released = [], {}, []
    _day = rules.IsoDays()
    # contact_day of a task with no time chosen depends on its day and channel alone.
    days: dict[tuple, date] = {}

    def on(d: date, channel: str) -> date:
        k = (d, channel)
        got = days.get(k)
        if got is None:
            got = days[k] = contact_day(d, None, None, channel, day, wc)
        return got

    for (tid, kind, cid, channel, weight, due, expires, next_try, call_at, attempts, sent,
         state, lead, contact_on, lead_state) in rows:
        if state == "merged" and lead_state != "open":
            if expires < day_s:
                released.append((f"combined into task {lead}, which ended {lead_state}", now, now,
                                 tid))
                continue
            state, lead = "free", None
        if expires < day_s:
            continue  # closed as missed below, or left to the day it is planned as today
        stored[tid] = (state, lead, contact_on)
        due_d, nt = _day[due], _day[next_try]
        contacts.append(Contact(
            tid, kind, cid, channel, weight, due_d, _day[expires],
            contact_day(due_d, nt, call_at, channel, day, wc) if call_at
            else on(nt or due_d, channel), bool(call_at),
            bool(attempts or sent)))
    new = {}
    for row in pending:
        tid, due_d, exp_d = row[0], _day[row[6]], _day[row[7]]
        new[tid] = row
        stored[tid] = ("new", None, None)
        contacts.append(Contact(tid, row[2], row[3], row[8], row[9], due_d, exp_d,
                                on(due_d, row[8]), False, False))
    conn.executemany("UPDATE tasks SET state='missed', state_reason=?, merged_into=NULL,"
                     " closed_at=?, updated_at=? WHERE id=?", released)
    not_before = _not_before(db, day, window, scoped)
    planned = combine(contacts, window, not_before)
    by_id = {c.id: c for c in contacts}
    updates = []
    merged = 0
    for tid, (lead, on) in planned.items():
        state, old_lead, old_on = stored[tid]
        on_s = on.isoformat() if on else None
        if tid in new:
            row = new[tid]
            if lead is not None:
                merged += 1
                row[11], row[12], row[13] = "merged", f"combined into task {lead}", lead
            elif on:
                row[14] = on_s
                if on > by_id[tid].day:
                    row[12] = f"moved to {on_s}: the customer was contacted within {window} days"
                    row[7] = max(row[7], on_s)
            continue
        if lead is not None:
            if (state, old_lead) != ("merged", lead):
                merged += 1
                updates.append(("merged", f"combined into task {lead}", lead, None, None, now,
                                tid))
        elif (state, old_on) != ("open", on_s):
            c = by_id[tid]
            why = (f"moved to {on_s}: the customer was contacted within"
                   f" {window} days" if on and on > c.day else None)
            # A contact moved past its expiry stays open until the day it is made.
            updates.append(("open", why, None, on_s,
                            on_s if on and on.isoformat() > c.expires.isoformat() else None,
                            now, tid))
    # Leads before the tasks combined into them (merged_into is a foreign key).
    conn.executemany(
        "INSERT INTO tasks (id, key, kind, customer_id, vehicle_id, order_id, due_date,"
        " expires_on, channel, weight, reason, state, state_reason, merged_into, contact_on,"
        " planned_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        sorted(pending, key=lambda r: r[13] is not None))
    conn.executemany(
        "UPDATE tasks SET state=?, state_reason=coalesce(?, CASE WHEN state = 'merged'"
        " THEN NULL ELSE state_reason END), merged_into=?, contact_on=?,"
        " expires_on=max(expires_on, coalesce(?, expires_on)), updated_at=? WHERE id=?", updates)
    return merged, len(released), {u[-1] for u in updates if u[0] == "open"}


def _not_before(db, day: date, window: int, scoped: bool) -> dict[int, date]:
    """Per customer, the first day a new contact may be made: the last time they were
    spoken to or sent an SMS of their own (greetings and the thank-you SMS that
    follows a call are not counted), plus the window."""
    if window <= 0:
        return {}
    since = (day - timedelta(days=window)).isoformat()
    scope = f" AND customer_id {_IN_SCOPE}" if scoped else ""
    fixed = ",".join(f"'{k}'" for k in FIXED_DAY_KINDS | UNLIMITED_KINDS)
    out: dict[int, date] = {}
    for cid, last in db.conn.execute(
            "SELECT customer_id, max(d) FROM ("
            " SELECT customer_id, substr(called_at, 1, 10) AS d FROM calls"
            f"  WHERE outcome IN {SPOKEN!r} AND called_at >= ?{scope}"
            " UNION ALL SELECT customer_id, substr(sms_sent_at, 1, 10) FROM tasks"
            f"  WHERE channel = 'sms' AND sms_sent_at >= ? AND kind NOT IN ({fixed}){scope})"
            " GROUP BY customer_id", (since, since)):
        if cid is not None and last:
            out[cid] = date.fromisoformat(last) + timedelta(days=window)
    return out


def carried(db: sqlite_utils.Database, task_ids: list[int]) -> dict[int, list[dict]]:
    """What each task carries: the tasks combined into it (for the list, the call card
    and the SMS text, which covers them all)."""
    out: dict[int, list[dict]] = {}
    for lead, tid, kind, reason, due in db.conn.execute(
            "SELECT merged_into, id, kind, reason, due_date FROM tasks WHERE state = 'merged'"
            " AND merged_into IN (SELECT value FROM json_each(?)) ORDER BY merged_into, due_date, id",
            (json.dumps(task_ids),)):
        out.setdefault(lead, []).append({"id": tid, "kind": kind, "reason": reason, "due_date": due})
    return out


def release_combined(db: sqlite_utils.Database, lead_id: int, day: date, why: str,
                     now: str) -> int:
    """A lead ended without the customer hearing what it carried: each task combined into
    it comes back on its own while its window is open (due again from ``day``), else
    it is closed as missed with that reason. Returns how many came back."""
    back = 0
    for tid, expires in db.conn.execute(
            "SELECT id, expires_on FROM tasks WHERE merged_into = ? AND state = 'merged'",
            (lead_id,)).fetchall():
        if expires >= day.isoformat():
            db.conn.execute("UPDATE tasks SET state='open', merged_into=NULL, combined_from=?,"
                            " state_reason=?, updated_at=? WHERE id=?",
                            (lead_id, f"back on its own: task {lead_id} ended {why}", now, tid))
            back += 1
        else:
            db.conn.execute("UPDATE tasks SET state='missed', merged_into=NULL, combined_from=?,"
                            " state_reason=?, closed_at=?, updated_at=? WHERE id=?",
                            (lead_id, f"combined into task {lead_id}, which ended {why}", now,
                             now, tid))
    return back


def mark_sent(db: sqlite_utils.Database, task_id: int, at: datetime) -> None:
    """Record that a task's SMS went out: an SMS task is then 'sent' (and what it carried
    with it); an SMS-then-call task keeps its call and notes ``sms_sent_at``."""
    stamp = at.isoformat(sep=" ", timespec="minutes")
    with write_transaction(db):
        row = db.conn.execute("SELECT channel, state FROM tasks WHERE id = ?", (task_id,)
                              ).fetchone()
        if row is None or row[1] != "open" or row[0] == "call":
            return
        if row[0] == "sms":
            db.conn.execute("UPDATE tasks SET state='sent', state_reason=?, sms_sent_at=?,"
                            " closed_at=?, updated_at=? WHERE id=?",
                            (f"sent {stamp}", stamp, stamp, stamp, task_id))
            db.conn.execute("UPDATE tasks SET state='sent', state_reason=?, sms_sent_at=?,"
                            " closed_at=?, updated_at=? WHERE merged_into=? AND state='merged'",
                            (f"sent in the message of task {task_id}", stamp, stamp, stamp,
                             task_id))
        else:
            db.conn.execute("UPDATE tasks SET sms_sent_at=?, updated_at=? WHERE id=?",
                            (stamp, stamp, task_id))


# --------------------------------------------------------------------------- today


def today_list(db: sqlite_utils.Database, day: date, settings: dict, *, kinds=None,
               channel: str | None = None, value_class: str | None = None,
               include_days_off: bool = True, limit: int | None = None,
               now: datetime | None = None) -> dict:
    """The day's work: open tasks to be done (or whose SMS goes) by ``day``, in order.

    Overdue first; then by the time of day the customer gave (a busy call's
    chosen time, else their preferred call time; no time first); then by
    urgency: the kind's weight, plus a bonus per day overdue, plus a bonus for
    A-class customers. ``step`` is 'sms' or 'call': an sms_call task shows as
    its SMS the day before its call, and as its call on the day. With ``now``,
    a call the customer asked for later than ``now`` is not offered yet.
    Filtering, ordering, ``limit`` and the counts per kind are done by SQLite,
    so a long list costs only the rows shown.
    """
    wc = work_calendar(settings)
    weights = settings["planning"]
    tomorrow = (day + timedelta(days=1)).isoformat()
    where = ("t.state = 'open' AND (coalesce(t.contact_on, t.next_try, t.due_date) <= :day"
             " OR (t.channel = 'sms_call' AND coalesce(t.contact_on, t.due_date) = :tomorrow"
             " AND t.attempts = 0 AND t.sms_sent_at IS NULL))")
    params = {"day": day.isoformat(), "tomorrow": tomorrow}
    if now is not None:
        where += " AND (t.call_at IS NULL OR t.call_at <= :now)"
        params["now"] = now.isoformat(sep=" ", timespec="minutes")
    items, counts = _ranked(
        db, where, params, day, weights, kinds, channel,
        value_class, limit, "overdue = 0, slot, urgency DESC, due_date, id")
    ahead, ahead_counts = [], {}
    off = wc.days_off_after(day) if include_days_off and wc.is_working_day(day) else []
    if off:
        first = off[0].isoformat()
        ahead, ahead_counts = _ranked(
            db, "t.state = 'open' AND t.due_date BETWEEN :first AND :last",
            {"first": first, "last": off[-1].isoformat(), "day": first}, off[0], weights, kinds,
            channel, value_class, limit, "due_date, urgency DESC, id")
    return {"day": day.isoformat(), "tasks": items, "counts": counts,
            "total": sum(counts.values()), "days_off": [d.isoformat() for d in off],
            "days_off_tasks": ahead, "days_off_counts": ahead_counts,
            "days_off_total": sum(ahead_counts.values())}


_SLOT_WORDS = (("凌晨", "06:00"), ("早上", "08:00"), ("上午", "09:00"), ("中午", "12:00"),
               ("下午", "14:00"), ("傍晚", "17:00"), ("晚上", "18:00"), ("晚", "18:00"),
               ("morning", "09:00"), ("noon", "12:00"), ("afternoon", "14:00"),
               ("evening", "18:00"))


def call_slot(text: str | None) -> str:
    """The time of day a preferred call time names, 'HH:MM', or '' for any time.

    '工作日18:00后' -> '18:00'; '9:30以后' -> '09:30'; '下午' -> '14:00'; '随时' -> ''.
    """
    if not text:
        return ""
    s = str(text)
    i = s.find(":") if ":" in s else s.find("：")
    if i > 0:
        j = i
        while j > 0 and s[j - 1].isdigit() and i - j < 2:
            j -= 1
        hh, mm = s[j:i], s[i + 1:i + 3]
        if hh and mm.isdigit() and len(mm) == 2 and int(hh) < 24 and int(mm) < 60:
            return f"{int(hh):02d}:{mm}"
    for i, ch in enumerate(s):
        if ch == "点" and i > 0 and s[i - 1].isdigit():
            j = i - 1
            while j > 0 and s[j - 1].isdigit():
                j -= 1
            h = int(s[j:i])
            if ("下午" in s or "晚" in s) and h < 12:
                h += 12
            if h < 24:
                return f"{h:02d}:00"
    low = s.lower()
    return next((t for word, t in _SLOT_WORDS if word in low), "")


_STEP = ("CASE WHEN t.channel = 'sms' OR (t.channel = 'sms_call'"
         " AND coalesce(t.contact_on, t.next_try, t.due_date) > :sday) THEN 'sms' ELSE 'call' END")


def _ranked(db, where: str, params: dict, day: date, weights: dict, kinds, channel,
            value_class, limit: int | None, order: str) -> tuple[list[dict], dict[str, int]]:
    params = dict(params, sday=day.isoformat(), per=weights["weight_overdue_per_day"],
                  abonus=weights["weight_a_class"])
    filters = [where]
    if kinds:
        filters.append(f"t.kind IN ({','.join(':k%d' % i for i in range(len(kinds)))})")
        params.update({f"k{i}": k for i, k in enumerate(kinds)})
    if channel:
        filters.append(f"{_STEP} = :channel")
        params["channel"] = channel
    if value_class:
        filters.append("k.value_class = :cls")
        params["cls"] = value_class.upper()
    where_all = " AND ".join(f"({f})" for f in filters)
    join = " LEFT JOIN classifications k ON k.customer_id = t.customer_id"
    # The count per kind reads the tasks_state_work index in kind order; the class
    # table is joined only when a filter needs it.
    counts = dict(db.conn.execute(
        f"SELECT t.kind, count(*) FROM tasks t{join if value_class else ''} WHERE {where_all}"
        " GROUP BY t.kind ORDER BY 2 DESC, 1", params).fetchall())
    db.conn.create_function("call_slot", 1, call_slot, deterministic=True)
    top = db.conn.execute(
        "WITH due AS (SELECT t.id, t.due_date, t.weight, k.value_class,"
        f" {_STEP} AS step,"
        " max(0, CAST(julianday(:sday) - julianday(coalesce(t.contact_on, t.due_date))"
        " AS INTEGER)) AS overdue,"
        " CASE WHEN substr(t.call_at, 1, 10) = :sday THEN substr(t.call_at, 12, 5)"
        "  ELSE call_slot((SELECT preferred_call_time FROM customers c"
        "   WHERE c.id = t.customer_id)) END AS slot"
        f" FROM tasks t{join} WHERE {where_all}),"
        " scored AS (SELECT *, weight + overdue * :per"
        " + CASE WHEN value_class = 'A' THEN :abonus ELSE 0 END AS urgency FROM due)"
        f" SELECT id, step, overdue, urgency, value_class FROM scored ORDER BY {order}"
        + (" LIMIT :limit" if limit is not None else ""), dict(params, limit=limit)).fetchall()
    # The details of the rows shown, in one statement however many there are.
    details = {r[0]: r for r in db.conn.execute(
        "SELECT t.id, t.kind, t.channel, t.due_date, t.expires_on, t.weight, t.reason,"
        " t.attempts, t.next_try, t.call_at, c.id, c.name, c.gender,"
        " coalesce(c.preferred_phone, c.mobile), c.preferred_call_time, v.plate, v.model,"
        " o.contact_name, o.contact_phone"
        " FROM json_each(?) j JOIN tasks t ON t.id = j.value"
        " LEFT JOIN customers c ON c.id = t.customer_id"
        " LEFT JOIN vehicles v ON v.id = t.vehicle_id"
        f" LEFT JOIN repair_orders o ON o.id = t.order_id AND {CONTACT_SQL}",
        (json.dumps([r[0] for r in top]),))}
    carries = carried(db, [r[0] for r in top])
    return [dict(_item(details[r[0]], r), carries=carries.get(r[0], [])) for r in top], counts


# The tasks that go to whoever brought the car (the order's contact, 送修人) when it
# was not its owner: the post-repair call, and the thank-you SMS after it. The task
# stays the owner's (classes, counts and opt-outs are the owner's); ``phone`` is the
# number to call: the contact's when the order has one, else the owner's.
CONTACT_SQL = "t.kind IN ('post_repair', 'thank_you_sms')"


def _item(r: tuple, rank: tuple) -> dict:
    from .names import greeting

    _id, step, overdue, urgency, value_class = rank
    return {
        "id": r[0], "kind": r[1], "channel": r[2], "step": step, "due_date": r[3],
        "expires_on": r[4], "overdue_days": overdue, "urgency": urgency,
        "value_class": value_class,
        "reason": r[6], "attempts": r[7], "next_try": r[8], "call_at": r[9],
        "customer_id": r[10], "customer": greeting(r[11], r[12]) if r[11] else "",
        "name": r[11], "phone": r[18] or r[13], "call_time": r[14], "plate": r[15],
        "model": r[16], "contact": r[17], "contact_phone": r[18],
    }
