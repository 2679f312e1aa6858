"""Care-contact rules: (facts, settings, day) -> candidate tasks. Pure: no I/O, no clock.

One small function per care contact of DOMAIN.md. Each returns the
occurrences it knows of; the planner keeps those whose window
[due, expires] reaches the planning day and stores them once, by key.

A worked example (the defaults): a vehicle delivered 2026-11-20 gets the
new-car care SMS ``welcome_sms`` due 2026-11-23 (day 3), the
``delivery_questionnaire`` call due 2026-11-27 (day 7), the
``first_maintenance`` reminder on 2027-03-18, 7 days (the lead time) before the
maintenance is due on 2027-03-25 (5,000 km at the default 40 km/day come on day
125, before six months: 2027-05-20) and ``warranty_check`` 30 days before each warranty
point (the first, six months, on 2027-05-20: due 2027-04-20). A repair order
settled 2026-11-23 gets ``post_repair`` due 2026-11-26, open until 2026-12-08
(day 15).

>>> from crmcli.settings import DEFAULTS
>>> care = DEFAULTS["care"]
>>> car = VehicleFacts(id=1, customer_id=7, plate="粤B12345", delivery=date(2026, 11, 20),
...                    usage="private", insurance_compulsory=None, insurance_commercial=None,
...                    inspection_due=None, last_maintenance=None, last_visit=None,
...                    first_km=None, last_km=None)
>>> [(c.kind, str(c.due)) for c in delivery_contacts(car, care)]
[('welcome_sms', '2026-11-23'), ('delivery_questionnaire', '2026-11-27')]
>>> [str(c.due) for c in first_maintenance(car, care, default_kmpd=40)]
['2027-03-18']
>>> str(warranty_checks(car, care, default_kmpd=40)[0].due)
'2027-04-20'
>>> repair = OrderFacts(id=5, order_no="RO1", vehicle_id=1, customer_id=7,
...                     day=date(2026, 11, 23), service_type="repair", advice=None,
...                     vehicle_last_visit=date(2026, 11, 23))
>>> [(str(c.due), str(c.expires)) for c in post_repair(repair, care)]
[('2026-11-26', '2026-12-08')]
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import NamedTuple

from . import calendar as cal
from .clock import add_months

MAINTENANCE_TYPES = ("maintenance", "first_maintenance")


# Facts are NamedTuples: planning builds one per vehicle of the file, and a
# frozen dataclass costs several times more to construct.
class Visit(NamedTuple):
    day: date
    km: int | None
    order_id: int
    order_no: str


class VehicleFacts(NamedTuple):
    id: int
    customer_id: int
    plate: str | None
    delivery: date | None
    usage: str | None
    insurance_compulsory: date | None
    insurance_commercial: date | None
    inspection_due: date | None
    last_maintenance: Visit | None
    last_visit: date | None
    # Mileage span over the recorded visits, for km/day.
    first_km: tuple[date, int] | None
    last_km: tuple[date, int] | None
    # Where the vehicle's age counts from when no delivery date is known (the VIN's
    # model year): the inspection rhythm depends on the age.
    built: date | None = None
    # The first maintenance's date and km when an import carries them (首保日期/里程).
    first_maintenance: tuple[date | None, int | None] | None = None
    # The warranty's end when an import carries it (保修截止日期).
    warranty_end: date | None = None


class OrderFacts(NamedTuple):
    id: int
    order_no: str
    vehicle_id: int | None
    customer_id: int
    day: date
    service_type: str | None
    advice: str | None
    vehicle_last_visit: date | None


class CustomerFacts(NamedTuple):
    id: int
    birthday: date | None
    lunar_birthday: str | None  # 'MM-DD' or 'LMM-DD'
    occupation: str | None
    last_visit: date | None


@dataclass
class Candidate:
    kind: str
    key: str
    customer_id: int
    vehicle_id: int | None
    order_id: int | None
    due: date
    expires: date
    channel: str
    weight: int
    reason: str


# The planning window (first day a task may still be open, last day it may be due).
# Rules skip occurrences outside it before building their reasons: planning runs
# every rule over every vehicle of the file.
Window = tuple[date, date] | None


class IsoDays(dict):
    """ISO text -> date, each distinct day parsed once (millions of rows, a few thousand
    days): ``days[s]`` is a plain dict look-up once ``s`` has been seen; None and ''
    give None."""

    def __missing__(self, s: str | None) -> date | None:
        d = self[s] = date.fromisoformat(s[:10]) if s else None
        return d


# Position 10 of a VIN: the model year, on a 30-year cycle (1980-2009, 2010-2039, ...).
_VIN_YEARS = "ABCDEFGHJKLMNPRSTVWXY123456789"


class VehicleAge(NamedTuple):
    years: int | None
    since: date | None
    source: str


def vin_model_year(vin: str | None, day: date) -> int | None:
    """The model year that position 10 of a valid VIN encodes: of the years on its
    30-year cycle, the latest not after next year (a model year runs ahead).

    '1M8GDM9AXKP042788' ('K') on 2026-11-26 -> 2019 (not 1989 nor 2049). An
    invalid check digit, or a character that is no year code, gives None.
    """
    from .normalize import vin_check_digit

    if not vin or len(vin) != 17:
        return None
    try:
        if vin_check_digit(vin) != vin[8]:
            return None
    except (ValueError, KeyError):
        return None
    i = _VIN_YEARS.find(vin[9])
    if i < 0:
        return None
    year = 1980 + i
    while year + 30 <= day.year + 1:
        year += 30
    return year


def vehicle_age(delivery: date | None, purchase: date | None, vin: str | None,
                day: date) -> VehicleAge:
    """A vehicle's age in completed years on ``day``, and where it comes from: the
    delivery date, else the purchase date, else the VIN's model year (counted from
    1 January of that year).

    No dates and VIN '1M8GDM9AXKP042788' on 2026-11-26: 7 years, "model year 2019 (VIN)".
    """
    if delivery is not None:
        return VehicleAge(years_between(delivery, day), delivery, f"delivered {delivery}")
    if purchase is not None:
        return VehicleAge(years_between(purchase, day), purchase, f"bought {purchase}")
    year = vin_model_year(vin, day)
    if year is None:
        return VehicleAge(None, None, "unknown: no delivery or purchase date, no valid VIN")
    since = date(year, 1, 1)
    return VehicleAge(max(0, years_between(since, day)), since, f"model year {year} (VIN)")


def years_between(start: date, end: date) -> int:
    """Completed years: 2020-03-01 to 2030-03-01 is 10, to 2030-02-28 is 9."""
    return end.year - start.year - ((end.month, end.day) < (start.month, start.day))


def _cand(kind: str, key: str, cfg: dict, due: date, reason: str | Callable[[], str], *,
          customer_id: int, vehicle_id: int | None = None, order_id: int | None = None,
          window: Window = None) -> Candidate | None:
    expires = due + timedelta(days=cfg["expires_after_days"])
    if window is not None and (due > window[1] or expires < window[0]):
        return None
    return Candidate(kind, key, customer_id, vehicle_id, order_id, due, expires, cfg["channel"],
                     cfg["weight"], reason() if callable(reason) else reason)


def _keep(*cands: Candidate | None) -> list[Candidate]:
    return [c for c in cands if c is not None]


# Below this a vehicle's own km/day is a misread odometer or a car parked for a season,
# not a rhythm to predict from (it would push a due date centuries ahead).
MIN_KM_PER_DAY = 3.0
# No reminder is predicted further ahead than this by mileage: time limits come first.
MAX_KM_DAYS = 3660


def km_per_day(v: VehicleFacts, default: float) -> tuple[float, bool]:
    """The vehicle's own km/day between its first and last visit with mileage.

    Needs two readings at least 30 days apart and at least 3 km/day, else the
    default (and False).
    ``(2026-01-01, 10,000 km) .. (2026-07-20, 18,000 km)`` -> 8,000 / 200 = 40.0.
    """
    if v.first_km and v.last_km:
        own = own_km_per_day((v.last_km[0] - v.first_km[0]).days, v.last_km[1] - v.first_km[1])
        if own is not None:
            return own, True
    return default_km_per_day(default), False


def own_km_per_day(days: int, km: int) -> float | None:
    """km/day from two readings ``days`` and ``km`` apart, when they are a rhythm to
    predict from (at least 30 days apart, at least MIN_KM_PER_DAY); else None."""
    if days >= 30 and km / days >= MIN_KM_PER_DAY:
        return km / days
    return None


def default_km_per_day(default: float) -> float:
    return float(max(default, MIN_KM_PER_DAY))


def km_days(km: int, per_day: float) -> int:
    """Days to drive ``km`` at ``per_day``, capped at MAX_KM_DAYS."""
    return min(MAX_KM_DAYS, math.ceil(km / per_day))


def _by_km(start: date, km: int, per_day: float) -> date:
    return start + timedelta(days=km_days(km, per_day))


# --------------------------------------------------------------------------- delivery


def delivery_contacts(v: VehicleFacts, care: dict, window: Window = None) -> list[Candidate]:
    """The new-car care SMS on day 3 and the questionnaire call on day 7 (DOMAIN.md).

    Delivered 2026-11-20: the SMS 2026-11-23, the call 2026-11-27. A day-3 call
    (``delivery_call``) is planned too when a dealer turns it on.
    """
    if v.delivery is None:
        return []
    out = []
    for kind, label in (("welcome_sms", "new-car care SMS"), ("delivery_call", "delivery day-3 call"),
                        ("delivery_questionnaire", "delivery day-7 questionnaire")):
        cfg = care[kind]
        if not cfg["enabled"]:
            continue
        due = v.delivery + timedelta(days=cfg["days_after"])
        out.append(_cand(kind, f"{kind}:v{v.id}:{v.delivery}", cfg, due,
                         f"{label}: delivered {v.delivery}", customer_id=v.customer_id,
                         vehicle_id=v.id, window=window))
    return _keep(*out)


def post_repair(o: OrderFacts, care: dict, window: Window = None) -> list[Candidate]:
    """The callback on day 3 after a settled order, open until day 15 by default."""
    cfg = care["post_repair"]
    if not cfg["enabled"] or (o.service_type in cfg["skip_types"]):
        return []
    due = o.day + timedelta(days=cfg["days_after"])
    return _keep(_cand("post_repair", f"post_repair:o{o.id}", cfg, due,
                       lambda: f"post-repair callback: {o.order_no} settled {o.day}"
                       + (f" ({o.service_type})" if o.service_type else ""),
                       customer_id=o.customer_id, vehicle_id=o.vehicle_id, order_id=o.id,
                       window=window))


def advice_followup(o: OrderFacts, care: dict, window: Window = None) -> list[Candidate]:
    """Follow up repair advice the customer declined, unless the car came back since."""
    cfg = care["advice_followup"]
    if not cfg["enabled"] or not o.advice:
        return []
    if o.vehicle_last_visit and o.vehicle_last_visit > o.day:
        return []
    due = o.day + timedelta(days=cfg["days_after"])
    return _keep(_cand("advice_followup", f"advice_followup:o{o.id}", cfg, due,
                       lambda: f"declined advice on {o.order_no} ({o.day}): {o.advice[:60]}",
                       customer_id=o.customer_id, vehicle_id=o.vehicle_id, order_id=o.id,
                       window=window))


# --------------------------------------------------------------------------- maintenance


def first_maintenance(v: VehicleFacts, care: dict, default_kmpd: float,
                      window: Window = None) -> list[Candidate]:
    """First maintenance by time or mileage from delivery, whichever comes first; the
    reminder goes ``lead_days`` before it (the SMS, then the call the next day) and
    says the due date and km.

    The first-maintenance date and km an import carries (首保日期/首保里程) take the
    place of the settings' months and km. Only while no maintenance has been done
    since delivery.
    """
    cfg = care["first_maintenance"]
    if not cfg["enabled"] or v.delivery is None:
        return []
    if v.last_maintenance and v.last_maintenance.day >= v.delivery:
        return []
    per_day, own = km_per_day(v, default_kmpd)
    given_day, given_km = v.first_maintenance or (None, None)
    km = given_km or cfg["km"]
    by_time = given_day or add_months(v.delivery, cfg["months"])
    by_km = _by_km(v.delivery, km, per_day)
    due = min(by_time, by_km)

    def reason() -> str:
        basis = "its own" if own else "default"
        rule = ("the dates on file" if given_day or given_km
                else f"interval {cfg['months']} months / {cfg['km']:,} km")
        return (f"first maintenance due {due} or at {km:,} km: delivered {v.delivery},"
                f" ~{per_day:.0f} km/day ({basis}), {km:,} km predicted on {by_km}; {rule}")

    return _keep(_cand("first_maintenance", f"first_maintenance:v{v.id}:{v.delivery}", cfg,
                       due - timedelta(days=cfg["lead_days"]), reason,
                       customer_id=v.customer_id, vehicle_id=v.id, window=window))


def regular_maintenance(v: VehicleFacts, care: dict, default_kmpd: float,
                        window: Window = None) -> list[Candidate]:
    """Next maintenance by time OR mileage from the last one actually done, whichever first.

    Mileage is predicted from the vehicle's own km/day between visits. The
    next reminder counts from the maintenance done, not from the reminder: a
    new maintenance order gives a new key, and the old task is withdrawn.
    """
    cfg = care["regular_maintenance"]
    last = v.last_maintenance
    if not cfg["enabled"] or last is None:
        return []
    per_day, own = km_per_day(v, default_kmpd)
    by_time = add_months(last.day, cfg["months"])
    due = by_time if last.km is None else min(by_time, _by_km(last.day, cfg["km"], per_day))

    def reason() -> str:
        if last.km is None:
            return (f"regular maintenance due {due}: last {last.day} (no mileage recorded); "
                    f"interval {cfg['months']} months")
        predicted = last.km + round(per_day * (due - last.day).days)
        return (f"regular maintenance due {due} or at {last.km + cfg['km']:,} km: last"
                f" {last.day} at {last.km:,} km, ~{per_day:.0f} km/day"
                f"{'' if own else ' (default)'}, predicted {predicted:,} km on {due}; "
                f"interval {cfg['months']} months / {cfg['km']:,} km")

    return _keep(_cand("regular_maintenance", f"regular_maintenance:v{v.id}:o{last.order_id}",
                       cfg, due - timedelta(days=cfg["lead_days"]), reason,
                       customer_id=v.customer_id, vehicle_id=v.id, window=window))


def warranty_checks(v: VehicleFacts, care: dict, default_kmpd: float,
                    window: Window = None) -> list[Candidate]:
    """A check before each warranty point (months / km from delivery), whichever comes first.

    When an import carries the warranty's end date (保修截止日期), the last (longest) point
    ends on that date by time instead of delivery + its months, since the dealer's record
    of the warranty beats the settings' typical one; a car with that date and no delivery
    date gets that one check, by time alone.
    """
    cfg = care["warranty_check"]
    if not cfg["enabled"] or (v.delivery is None and v.warranty_end is None):
        return []
    lead = timedelta(days=cfg["lead_days"])
    expires = timedelta(days=cfg["expires_after_days"])
    points = cfg["points"]
    if v.delivery is None:
        months = max(m for m, _km in points)
        point = v.warranty_end
        if window is not None and (point - lead > window[1] or point - lead + expires < window[0]):
            return []
        return [_cand("warranty_check", f"warranty_check:v{v.id}:{months}m", cfg, point - lead,
                      f"warranty ends {point}: come for a check before it ends",
                      customer_id=v.customer_id, vehicle_id=v.id)]
    last_months = max(m for m, _km in points)
    per_day = None
    out = []
    for months, km in points:
        by_time = add_months(v.delivery, months)
        if v.warranty_end is not None and months == last_months:
            by_time = v.warranty_end
        if window is not None and by_time - lead + expires < window[0]:
            continue  # the point is reached by time at the latest, and that check is over
        if per_day is None:
            per_day, _own = km_per_day(v, default_kmpd)
        point = min(by_time, _by_km(v.delivery, km, per_day))
        if window is not None and (point - lead > window[1] or point - lead + expires < window[0]):
            continue  # (the window is tested here, so _cand is given none)
        out.append(_cand("warranty_check", f"warranty_check:v{v.id}:{months}m", cfg, point - lead,
                         lambda months=months, km=km, point=point:
                         f"warranty point {months} months / {km:,} km reached about {point} "
                         f"(~{per_day:.0f} km/day): come for a check before it ends",
                         customer_id=v.customer_id, vehicle_id=v.id))
    return _keep(*out)


# --------------------------------------------------------------------------- expiries


def insurance(v: VehicleFacts, care: dict, window: Window = None) -> list[Candidate]:
    """Renewal before the compulsory (交强险) and commercial (商业险) expiry, separately."""
    out = []
    for kind, expiry, label in (("insurance_compulsory", v.insurance_compulsory, "交强险"),
                                ("insurance_commercial", v.insurance_commercial, "商业险")):
        cfg = care[kind]
        if not cfg["enabled"] or expiry is None:
            continue
        due = expiry - timedelta(days=cfg["lead_days"])
        out.append(_cand(kind, f"{kind}:v{v.id}:{expiry}", cfg, due,
                         f"{label} expires {expiry}", customer_id=v.customer_id, vehicle_id=v.id,
                         window=window))
    return _keep(*out)


def inspection_dates(v: VehicleFacts, rules: dict, until: date) -> list[date]:
    """The inspection due dates up to ``until``, from the imported date or by the rule table.

    The rhythm depends on usage and the vehicle's age at each due date: with the
    default table a private car delivered 2020-03-01 is due 2022-03-01,
    2024-03-01, 2026-03-01, 2028-03-01, 2030-03-01 (every 24 months while under
    10 years), then yearly.
    """
    table = rules.get(v.usage) or rules["private"]  # no usage, or one the table lacks
    if v.inspection_due is not None:
        start, dates = v.inspection_due, [v.inspection_due]
    elif v.delivery is not None:
        start, dates = v.delivery, []
    else:
        return []
    origin = v.delivery or v.built or start
    offset = 0  # months from start, so a 31st stays the 31st where the month has one
    t = start
    while True:
        age = years_between(origin, t)  # completed years, so a 10th anniversary is 10
        step = next((m for lo, hi, m in table if lo <= age < hi), table[-1][2])
        if step <= 0:
            break  # a row of no months (a slip in the settings) would never reach until
        offset += step
        t = add_months(start, offset)
        if t > until:
            break
        dates.append(t)
    return dates


def inspection(v: VehicleFacts, care: dict, rules: dict, day: date, until: date,
               dates: list[date] | None = None) -> list[Candidate]:
    """Annual inspection (年检) reminder ahead of each due date.

    ``dates`` are ``inspection_dates(v, rules, until + lead days)`` when the
    caller has them already (they depend on the usage and the two dates only).
    """
    cfg = care["inspection"]
    if not cfg["enabled"]:
        return []
    lead = timedelta(days=cfg["lead_days"])
    expires = timedelta(days=cfg["expires_after_days"])
    if dates is None:
        dates = inspection_dates(v, rules, until + lead)
    out = []
    for due_date in dates:
        if due_date - lead > until or due_date - lead + expires < day:
            continue  # (the window is tested here, so _cand is given none)
        out.append(_cand("inspection", f"inspection:v{v.id}:{due_date}", cfg, due_date - lead,
                         f"annual inspection due {due_date}", customer_id=v.customer_id,
                         vehicle_id=v.id))
    return _keep(*out)


# --------------------------------------------------------------------------- customer dates


def birthdays(c: CustomerFacts, care: dict, start: date, end: date) -> list[Candidate]:
    """Birthday SMS on the solar and the lunar birthday, both when both are known.

    The key is the date, so a solar and lunar birthday on one day make one SMS.
    29 February and lunar 30ths and leap months follow calendar.py's rules.
    """
    cfg = care["birthday"]
    if not cfg["enabled"]:
        return []
    days: dict[date, str] = {}
    if c.birthday is not None:
        for year in range(start.year, end.year + 1):
            d = cal.solar_birthday_in(year, c.birthday.month, c.birthday.day)
            if start <= d <= end:
                days[d] = f"birthday (born {c.birthday})"
    if c.lunar_birthday:
        leap = c.lunar_birthday.startswith("L")
        month, dd = (int(x) for x in c.lunar_birthday.removeprefix("L").split("-"))
        try:
            found = cal.lunar_birthdays_between(start, end, month, dd, leap)
        except ValueError:
            found = []
        for d in found:
            label = f"lunar birthday ({'闰' if leap else ''}{month}月{dd}日)"
            days[d] = days[d] + " and " + label if d in days else label
    return [_cand("birthday", f"birthday:c{c.id}:{d}", cfg, d, r, customer_id=c.id)
            for d, r in sorted(days.items())]


def holidays_between(start: date, end: date, enabled: list[str]) -> list[cal.Holiday]:
    out = []
    for year in range(start.year, end.year + 1):
        out.extend(h for h in cal.greeting_holidays(year)
                   if h.key in enabled and start <= h.date <= end)
    return out


def holiday_greetings(c: CustomerFacts, care: dict, hols: list[cal.Holiday]) -> list[Candidate]:
    """A greeting SMS on each holiday; Teachers' Day only for customers who teach."""
    cfg = care["holiday"]
    if not cfg["enabled"]:
        return []
    teacher = bool(c.occupation) and any(w in c.occupation for w in cfg["teacher_words"])
    out = []
    for h in hols:
        if h.key == "teachers_day" and not teacher:
            continue
        out.append(_cand("holiday", f"holiday:{h.key}:{h.date}:c{c.id}", cfg, h.date,
                         f"{h.name_zh} greeting", customer_id=c.id))
    return out


def recovery(c: CustomerFacts, care: dict, day: date, window: Window = None) -> list[Candidate]:
    """Recovery calls for a lost customer (no visit for ``lost_after_days``), every ``every_days``.

    Last visit 2025-06-01, lost after 365 days: first call 2026-06-01, then
    2026-08-30, 2026-11-28, ... (every 90 days) until they come back. With a
    ``window``, only the calls that reach it.
    """
    cfg = care["recovery"]
    if not cfg["enabled"] or c.last_visit is None:
        return []
    first = c.last_visit + timedelta(days=cfg["lost_after_days"])
    if day < first - timedelta(days=cfg["every_days"]):
        return []
    k = max(0, (day - first).days // cfg["every_days"])
    out = []
    for n in (k, k + 1):
        due = first + timedelta(days=n * cfg["every_days"])
        out.append(_cand("recovery", f"recovery:c{c.id}:{c.last_visit}:{n}", cfg, due,
                         lambda due=due: f"lost customer: last visit {c.last_visit}, "
                         f"{(due - c.last_visit).days} days before this call",
                         customer_id=c.id, window=window))
    return _keep(*out)
