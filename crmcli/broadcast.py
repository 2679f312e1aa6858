"""Broadcasts: weather alerts (天气关怀) and seasonal campaigns (四季关爱) to a chosen group.

``choose(db, settings, criteria, day)`` finds the customers: by region (the
district of the address, e.g. 南山区), value class, vehicle age in years,
model and usage; then drops those who opted out (``optouts.allowed_channel``
for the kind), those with no valid mobile, and those already contacted
within the contact window of the day (a sent SMS, or a task due within
``planning.contact_window_days`` of it), each counted by reason.
``plan(...)`` stores one SMS task per customer left, due on the day, so the
next ``crmcli export`` sends them; planning the same broadcast again for a
customer creates nothing new (the key is the broadcast and the customer).

A weather alert goes on its day only; a campaign stays open for
``CAMPAIGN_DAYS`` more days, so a missed export does not lose it.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta

import sqlite_utils

from . import messages, optouts
from .db import write_transaction
from .errors import UsageError
from .i18n import _

KINDS = ("campaign", "weather")
CAMPAIGN_DAYS = 2
_PREFIX = re.compile(r"^(?:[\u4e00-\u9fff]{2,8}?(?:省|自治区|特别行政区))?"
                     r"(?:[\u4e00-\u9fff]{2,8}?(?:市|自治州|地区|盟))?")
_DISTRICT = re.compile(r"^([\u4e00-\u9fff]{1,8}?(?:新区|区|县|旗|市))")


def district(address: str | None) -> str | None:
    """The district of an address: '广东省深圳市南山区科技园' -> '南山区'.

    >>> district('深圳市宝安区西乡街道'), district('北京市朝阳区'), district('科技园8号')
    ('宝安区', '朝阳区', None)
    """
    if not address:
        return None
    s = re.sub(r"\s", "", address)
    rest = s[_PREFIX.match(s).end():]
    m = _DISTRICT.match(rest)
    return m.group(1) if m else None


@dataclass
class Criteria:
    region: str | None = None
    value_class: str | None = None
    min_age: int | None = None
    max_age: int | None = None
    model: str | None = None
    usage: str | None = None

    def describe(self) -> str:
        parts = [f"{k}={v}" for k, v in asdict(self).items() if v is not None]
        from .i18n import _

        return ", ".join(parts) or _("everyone")


@dataclass
class Choice:
    kind: str
    day: str
    chosen: list[dict] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    sample: str = ""
    sample_length: int = 0
    sample_segments: int = 0
    planned: int = 0
    broadcast_id: int | None = None

    def as_dict(self) -> dict:
        d = asdict(self)
        d["count"] = len(self.chosen)
        del d["chosen"]
        return d


def _years(start: str | None, day: date) -> int | None:
    if not start:
        return None
    s = date.fromisoformat(start[:10])
    return day.year - s.year - ((day.month, day.day) < (s.month, s.day))


def choose(db: sqlite_utils.Database, settings: dict, kind: str, criteria: Criteria, day: date,
           template: str) -> Choice:
    """The customers a broadcast would reach, the skipped by reason, and one rendered text."""
    if kind not in KINDS:
        raise UsageError(_("broadcast kind {kind!r}: use campaign or weather").format(kind=kind))
    why = messages.template_problem(template)
    if why:
        raise UsageError(_("the text {why}").format(why=why))
    usage = criteria.usage
    if usage not in (None, "private", "official", "commercial"):
        raise UsageError(_("--usage takes private, official or commercial"))
    cls = criteria.value_class.upper() if criteria.value_class else None
    if cls not in (None, "A", "B", "C", "D"):
        raise UsageError(_("--class takes A, B, C or D"))
    rows = db.conn.execute(
        "SELECT c.id, c.name, c.gender, c.mobile, c.other_phones, c.preferred_phone,"
        " c.callback_consent, c.address, k.value_class, v.plate, v.model, v.usage,"
        " coalesce(v.delivery_date, v.purchase_date)"
        " FROM customers c LEFT JOIN classifications k ON k.customer_id = c.id"
        " LEFT JOIN vehicles v ON v.customer_id = c.id ORDER BY c.id, v.id").fetchall()
    from .export import sms_number

    outs = optouts.for_customers(db)
    flagged = {r[0] for r in db.conn.execute("SELECT phone FROM phone_flags")}
    window = settings["planning"]["contact_window_days"]
    busy = _recently_contacted(db, day, window)
    result = Choice(kind=kind, day=day.isoformat())

    def skip(reason: str) -> None:
        result.skipped[reason] = result.skipped.get(reason, 0) + 1

    matched: dict[int, tuple] = {}
    for r in rows:
        cid = r[0]
        if cid in matched:
            continue
        if criteria.region:
            d = district(r[7])
            if not d or criteria.region not in d:  # 南山 finds 南山区
                continue
        if cls and r[8] != cls:
            continue
        if criteria.model and (not r[10] or criteria.model.lower() not in r[10].lower()):
            continue
        if usage and r[11] != usage:
            continue
        if criteria.min_age is not None or criteria.max_age is not None:
            age = _years(r[12], day)
            if age is None or (criteria.min_age is not None and age < criteria.min_age) or (
                    criteria.max_age is not None and age >= criteria.max_age):
                continue
        matched[cid] = r
    for cid, r in matched.items():
        if optouts.allowed_channel(outs.get(cid, set()), kind, "sms", r[6] != 0) is None:
            skip("opted out")
            continue
        mobile, _why = sms_number(r[3], r[4], r[5], flagged)
        if mobile is None:
            skip("no mobile for SMS")
            continue
        if cid in busy:
            skip(f"contacted within {window} days")
            continue
        result.chosen.append({"customer_id": cid, "name": r[1], "gender": r[2],
                              "mobile": mobile, "plate": r[9], "model": r[10]})
    first = result.chosen[0] if result.chosen else {"name": "张伟", "gender": "M",
                                                    "plate": "粤B12345", "model": ""}
    ctx = messages.context(first, first, settings, due=day, today=day)
    result.sample, _empty = messages.sms(kind, ctx, settings, template)
    result.sample_length = messages.length(result.sample)
    result.sample_segments = messages.segments(result.sample)
    return result


def _recently_contacted(db, day: date, window: int) -> set[int]:
    """Customers with an SMS sent, or a task due, within the contact window of ``day``."""
    if window <= 0:
        return set()
    lo = (day - timedelta(days=window - 1)).isoformat()
    hi = (day + timedelta(days=window - 1)).isoformat()
    rows = db.conn.execute(
        "SELECT customer_id FROM tasks WHERE due_date BETWEEN ? AND ?"
        " AND state IN ('open', 'sent', 'done') AND customer_id IS NOT NULL"
        " UNION SELECT customer_id FROM sms_ledger WHERE day BETWEEN ? AND ?"
        " AND customer_id IS NOT NULL", (lo, hi, lo, hi))
    return {r[0] for r in rows}


def plan(db: sqlite_utils.Database, choice: Choice, template: str, criteria: Criteria, *,
         by: str, now: datetime) -> Choice:
    """Store the broadcast and one SMS task per chosen customer, in one transaction."""
    day = date.fromisoformat(choice.day)
    expires = day if choice.kind == "weather" else day + timedelta(days=CAMPAIGN_DAYS)
    stamp = now.isoformat(timespec="seconds")
    label = "天气关怀" if choice.kind == "weather" else "四季关爱"
    with write_transaction(db):
        bid = db.conn.execute(
            "INSERT INTO broadcasts (kind, day, template, criteria, planned, skipped, created_at,"
            " by_user) VALUES (?,?,?,?,?,?,?,?)",
            (choice.kind, choice.day, template, criteria.describe(), len(choice.chosen),
             json.dumps(choice.skipped, ensure_ascii=False), stamp, by)).lastrowid
        cur = db.conn.executemany(
            "INSERT OR IGNORE INTO tasks (key, kind, customer_id, due_date, expires_on, channel,"
            " weight, reason, state, planned_at, updated_at) VALUES (?,?,?,?,?,'sms',5,?,'open',?,?)",
            [(f"broadcast:{bid}:c{c['customer_id']}", choice.kind, c["customer_id"], choice.day,
              expires.isoformat(), f"{label} broadcast #{bid} ({criteria.describe()})",
              stamp, stamp) for c in choice.chosen])
    choice.planned = cur.rowcount
    choice.broadcast_id = bid
    return choice
