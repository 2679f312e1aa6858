"""Report figures as plain data; the SQL lives here. Never prints.

Every figure carries what it is made of, and periods are calendar months or
Monday-Sunday ISO weeks (these examples run as a test):

>>> ratio(3, 4), ratio(0, 0)
({'value': 0.75, 'num': 3, 'den': 4}, {'value': None, 'num': 0, 'den': 0})
>>> period_bounds(month="2028-02")
(datetime.date(2028, 2, 1), datetime.date(2028, 2, 29), '2028-02')
>>> period_bounds(week=date(2026, 11, 26))  # a Thursday: its Monday-Sunday week
(datetime.date(2026, 11, 23), datetime.date(2026, 11, 29), '2026-W48')
>>> previous_period(date(2026, 3, 1), date(2026, 3, 31), "2026-03")
(datetime.date(2026, 2, 1), datetime.date(2026, 2, 28), '2026-02')
>>> previous_period(date(2026, 1, 5), date(2026, 1, 11), "2026-W02")
(datetime.date(2025, 12, 29), datetime.date(2026, 1, 4), '2026-W01')
"""

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

    ages: dict[str | None, int | None] = {}

    def age_of(delivered: str | None) -> int | None:
        if delivered not in ages:
            ages[delivered] = _age(delivered, day)
        return ages[delivered]

    for delivered, came_back in db.conn.execute(
            "SELECT coalesce(v.delivery_date, v.purchase_date),"
            " EXISTS (SELECT 1 FROM repair_orders o WHERE o.vehicle_id = v.id"
            "         AND o.order_date > ? AND o.order_date <= ?)"
            " FROM vehicles v WHERE coalesce(v.delivery_date, v.purchase_date, '') <= ?",
            (since, d, d)):
        r = row(age_of(delivered))
        r["vehicles"] += 1
        r["came_back"] += came_back
    for newest, active in db.conn.execute(
            "SELECT (SELECT max(coalesce(v.delivery_date, v.purchase_date)) FROM vehicles v"
            "        WHERE v.customer_id = c.id),"
            " EXISTS (SELECT 1 FROM repair_orders o WHERE o.customer_id = c.id"
            "         AND o.order_date > ? AND o.order_date <= ? AND o.total_fen > 0"
            "         AND coalesce(o.service_type, '') NOT IN ('warranty', 'free_check'))"
            " FROM customers c", (active_since, d)):
        r = row(age_of(newest) if newest is None or newest <= d else None)
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
    from .rules import years_between

    return years_between(date.fromisoformat(delivered[:10]), day)


# --------------------------------------------------------------------------- the monthly report

REMINDER_KINDS = {"maintenance": ("first_maintenance", "regular_maintenance"),
                  "warranty_check": ("warranty_check",), "recovery": ("recovery",)}
QUESTIONS = ("overall", "advisor", "quality", "timeliness", "price", "cleanliness")
DEFINITIONS = [
    "due: call tasks (call, or SMS then call) whose due date falls in the period; withdrawn "
    "and merged tasks are not counted (a merged one is covered by the call it joined)",
    "performed: due tasks with at least one call attempt logged",
    "successful: due tasks whose customer was reached and answered at least one question",
    "satisfied: an overall score at or above the settings' satisfied_from",
    "return rate (回厂率): reminders due in the period followed by a visit within the window",
]


def ratio(num: int, den: int) -> dict:
    """A figure with what it is made of: {'value': 0.75, 'num': 3, 'den': 4}; no division by 0."""
    return {"value": (num / den) if den else None, "num": num, "den": den}


def period_bounds(month: str | None = None, week: date | None = None,
                  today: date | None = None) -> tuple[date, date, str]:
    """(first day, last day, label): a calendar month, or the Monday-Sunday week of ``week``."""
    if week is not None:
        start = week - timedelta(days=week.weekday())
        end = start + timedelta(days=6)
        iso = start.isocalendar()
        return start, end, f"{iso[0]}-W{iso[1]:02d}"
    if month is None:
        today = today or date.today()
        month = f"{today.year}-{today.month:02d}"
    try:
        start = date.fromisoformat(month + "-01")
    except ValueError:
        from .errors import UsageError

        raise UsageError(f"month {month!r}: use YYYY-MM") from None
    end = start + relativedelta(months=1) - timedelta(days=1)
    return start, end, month


def previous_period(start: date, end: date, label: str) -> tuple[date, date, str]:
    if "-W" in label:
        return period_bounds(week=start - timedelta(days=7))
    prev = start - relativedelta(months=1)
    return period_bounds(month=f"{prev.year}-{prev.month:02d}")


def report(db: sqlite_utils.Database, settings: dict, *, month: str | None = None,
           week: date | None = None, clerk: str | None = None, kinds: list[str] | None = None,
           today: date | None = None, now: str | None = None, compare: bool = True) -> dict:
    """The callback report for a month (or week), every figure with numerator and denominator.

    ``now`` ('YYYY-MM-DD HH:MM') is when the report is read: complaints and
    actions count as overdue at the period's end, or now if that is earlier.
    """
    start, end, label = period_bounds(month, week, today)
    out = _figures(db, settings, start, end, clerk, kinds, now)
    out.update({"period": label, "start": start.isoformat(), "end": end.isoformat(),
                "clerk": clerk, "kinds": kinds, "definitions": DEFINITIONS})
    if compare:
        p_start, p_end, p_label = previous_period(start, end, label)
        prev = _figures(db, settings, p_start, p_end, clerk, kinds, now)
        out["previous"] = {"period": p_label, **headline(prev)}
        out["change"] = {k: _delta(v, out["previous"].get(k)) for k, v in headline(out).items()}
    return out


def headline(r: dict) -> dict:
    """The report's main figures, for the comparison with the previous period."""
    t = r["callbacks"]["total"]
    return {"due": t["due"], "performed_rate": t["performed_rate"]["value"],
            "success_rate": t["success_rate"]["value"],
            "satisfied_share": r["satisfaction"]["satisfied"]["value"],
            "overall_average": r["satisfaction"]["questions"]["overall"]["average"],
            "complaints_opened": r["complaints"]["opened"],
            "complaints_overdue": r["complaints"]["overdue"],
            "holding_rate": r["holding_rate"]["value"]}


def _delta(now, before):
    if now is None or before is None:
        return None
    return round(now - before, 4)


def _figures(db, settings: dict, start: date, end: date, clerk: str | None,
             kinds: list[str] | None, now: str | None = None) -> dict:
    s, e = start.isoformat(), end.isoformat()
    e_stamp = e + " 99"  # every time on the last day sorts before this
    cutoff = min(e + " 24:00", now) if now else e + " 24:00"
    conn = db.conn
    kind_sql, kind_params = "", []
    if kinds:
        kind_sql = f" AND t.kind IN ({','.join('?' * len(kinds))})"
        kind_params = list(kinds)
    # One row per due call task: its kind, the clerk of its last call, performed, successful,
    # due date. The period's tasks come first (by the due-date index), then their calls.
    rows = conn.execute(
        "SELECT t.kind,"
        " (SELECT clerk FROM calls c WHERE c.task_id = t.id ORDER BY c.id DESC LIMIT 1),"
        " EXISTS (SELECT 1 FROM calls c WHERE c.task_id = t.id),"
        " EXISTS (SELECT 1 FROM calls c WHERE c.task_id = t.id AND c.outcome = 'reached'"
        "   AND coalesce(score_overall, score_advisor, score_quality, score_timeliness,"
        "                score_price, score_cleanliness) IS NOT NULL),"
        " t.due_date FROM tasks t"
        " WHERE t.due_date BETWEEN ? AND ? AND t.channel IN ('call', 'sms_call')"
        f" AND t.state NOT IN ('withdrawn', 'merged'){kind_sql}", [s, e, *kind_params]).fetchall()
    if clerk:
        rows = [r for r in rows if r[1] == clerk]
    callbacks = {"total": _tally(rows), "by_kind": {}, "by_clerk": {}}
    for key, idx in (("by_kind", 0), ("by_clerk", 1)):
        groups: dict[str, list] = {}
        for r in rows:
            groups.setdefault(r[idx] or "(not called)", []).append(r)
        callbacks[key] = {k: _tally(v) for k, v in sorted(groups.items())}
    # Completion by week of the period (for the chart).
    weekly: dict[str, list[int]] = {}
    for r in rows:
        d = date.fromisoformat(r[4])
        w = weekly.setdefault((d - timedelta(days=d.weekday())).isoformat(), [0, 0])
        w[0] += 1
        w[1] += r[2]
    callbacks["by_week"] = [{"week_of": k, **ratio(v[1], v[0])} for k, v in sorted(weekly.items())]

    satisfaction = _satisfaction(db, settings, s, e_stamp, clerk, kind_sql, kind_params)
    return {
        "callbacks": callbacks,
        "satisfaction": satisfaction,
        "problems": _problems(db, s, e_stamp, clerk),
        "complaints": _complaints(db, settings, s, e_stamp, cutoff),
        "actions": _actions(db, s, e_stamp, cutoff),
        "reminder_effect": _reminder_effect(db, settings, s, e),
        "holding_rate": _holding(db, end),
    }


def _tally(rows: list) -> dict:
    due = len(rows)
    performed = sum(1 for r in rows if r[2])
    ok = sum(1 for r in rows if r[3])
    return {"due": due, "performed": performed, "successful": ok,
            "performed_rate": ratio(performed, due), "success_rate": ratio(ok, due)}


def _satisfaction(db, settings, s, e_stamp, clerk, kind_sql, kind_params) -> dict:
    lo, hi = settings["calls"]["score_min"], settings["calls"]["score_max"]
    sat_from = settings["calls"]["satisfied_from"]
    where = "c.outcome = 'reached' AND c.called_at >= ? AND c.called_at < ?"
    params = [s, e_stamp]
    if clerk:
        where += " AND c.clerk = ?"
        params.append(clerk)
    cols = ", ".join(f"c.score_{q}" for q in QUESTIONS)
    join = " JOIN tasks t ON t.id = c.task_id" if kind_sql else ""
    dists: list[dict[int, int]] = [{} for _ in QUESTIONS]
    for scores in db.conn.execute(f"SELECT {cols} FROM calls c{join} WHERE {where}{kind_sql}",
                                  params + kind_params):
        for dist, v in zip(dists, scores):
            if v is not None:
                dist[v] = dist.get(v, 0) + 1
    questions = {}
    for q, dist in zip(QUESTIONS, dists):
        n = sum(dist.values())
        total = sum(k * v for k, v in dist.items())
        questions[q] = {"answers": n, "average": round(total / n, 3) if n else None,
                        "distribution": {str(k): dist.get(k, 0) for k in range(lo, hi + 1)}}
    overall = questions["overall"]
    satisfied = sum(v for k, v in overall["distribution"].items() if int(k) >= sat_from)
    return {"questions": questions, "satisfied": ratio(satisfied, overall["answers"]),
            "satisfied_from": sat_from}


def _problems(db, s, e_stamp, clerk) -> dict:
    import re

    cats = db.conn.execute(
        "SELECT category, count(*) FROM complaints WHERE opened_at >= ? AND opened_at < ?"
        " GROUP BY 1 ORDER BY 2 DESC, 1", (s, e_stamp)).fetchall()
    tags: dict[str, int] = {}
    where = "note IS NOT NULL AND called_at >= ? AND called_at < ?"
    params = [s, e_stamp]
    if clerk:
        where += " AND clerk = ?"
        params.append(clerk)
    for (note,) in db.conn.execute(f"SELECT note FROM calls WHERE {where}", params):
        for tag in set(re.findall(r"#([^\s#,，。;；]+)", note)):
            tags[tag] = tags.get(tag, 0) + 1
    return {"complaint_categories": [{"category": c, "count": n} for c, n in cats],
            "note_tags": [{"tag": t, "count": n}
                          for t, n in sorted(tags.items(), key=lambda kv: (-kv[1], kv[0]))[:10]]}


def _complaints(db, settings, s, e_stamp, cutoff) -> dict:
    """Opened and closed in the period; overdue: late for a deadline at the cutoff."""
    from datetime import datetime

    from .calendar import working_hours_between
    from .calls import _hours
    from .planner import work_calendar

    wc = work_calendar(settings)
    hours = _hours(settings)
    opened = db.conn.execute("SELECT opened_at, escalated_at, replied_at FROM complaints"
                             " WHERE opened_at >= ? AND opened_at < ?", (s, e_stamp)).fetchall()
    closed = db.conn.execute("SELECT count(*) FROM complaints WHERE closed_at >= ? AND closed_at < ?",
                             (s, e_stamp)).fetchone()[0]
    # Late at the cutoff: a deadline passed then with its step not done by then.
    overdue = db.conn.execute(
        "SELECT count(*) FROM complaints WHERE opened_at < ? AND (closed_at IS NULL OR closed_at >= ?)"
        " AND ((escalate_by < ? AND coalesce(escalated_at, replied_at, '9999') > escalate_by"
        "       AND coalesce(escalated_at, replied_at, '9999') >= ?)"
        "   OR (reply_by < ? AND coalesce(replied_at, '9999') > reply_by"
        "       AND coalesce(replied_at, '9999') >= ?))",
        (cutoff, s, cutoff, cutoff, cutoff, cutoff)).fetchone()[0]

    def avg_hours(pairs):
        vals = [working_hours_between(wc, datetime.fromisoformat(a), datetime.fromisoformat(b),
                                      **hours) for a, b in pairs if b]
        return {"average_hours": round(sum(vals) / len(vals), 2) if vals else None,
                "count": len(vals)}

    return {"opened": len(opened), "closed": closed, "overdue": overdue,
            "to_escalation": avg_hours((o, x) for o, x, _r in opened),
            "to_reply": avg_hours((o, r) for o, _x, r in opened)}


def _actions(db, s, e_stamp, cutoff) -> dict:
    """Opened and done in the period; overdue: still open at the cutoff, deadline passed."""
    q = db.conn.execute
    return {"opened": q("SELECT count(*) FROM actions WHERE created_at >= ? AND created_at < ?",
                        (s, e_stamp)).fetchone()[0],
            "done": q("SELECT count(*) FROM actions WHERE done_at >= ? AND done_at < ?",
                      (s, e_stamp)).fetchone()[0],
            "overdue": q("SELECT count(*) FROM actions WHERE deadline < substr(?, 1, 10)"
                         " AND created_at < ? AND (done_at IS NULL OR done_at >= ?)",
                         (cutoff, cutoff, cutoff)).fetchone()[0]}


def _reminder_effect(db, settings, s, e) -> dict:
    window = settings.get("stats", {}).get("return_window_days", 30)
    out = {}
    for label, kinds in REMINDER_KINDS.items():
        marks = ",".join("?" * len(kinds))
        subject = ("o.customer_id = t.customer_id" if label == "recovery"
                   else "o.vehicle_id = t.vehicle_id")
        due, back = db.conn.execute(
            "SELECT count(*), coalesce(sum(EXISTS (SELECT 1 FROM repair_orders o WHERE "
            f"{subject} AND o.order_date >= date(t.due_date, '-1 day')"
            " AND o.order_date <= date(t.due_date, ?))), 0)"
            f" FROM tasks t WHERE t.kind IN ({marks}) AND t.due_date BETWEEN ? AND ?"
            " AND t.state NOT IN ('withdrawn', 'merged')",
            (f"+{window} day", *kinds, s, e)).fetchone()
        out[label] = ratio(back, due)
    out["window_days"] = window
    return out


def _holding(db, end: date) -> dict:
    """The holding rate at ``end`` (as in ``retention``, totals only: one query)."""
    d = end.isoformat()
    since = (end - relativedelta(months=12)).isoformat()
    vehicles, back = db.conn.execute(
        "SELECT count(*), coalesce(sum(EXISTS (SELECT 1 FROM repair_orders o"
        " WHERE o.vehicle_id = v.id AND o.order_date > ? AND o.order_date <= ?)), 0)"
        " FROM vehicles v WHERE coalesce(v.delivery_date, v.purchase_date, '') <= ?",
        (since, d, d)).fetchone()
    return ratio(back, vehicles)


def follow_up(db, settings: dict, which: str, *, month: str | None = None,
              week: date | None = None, clerk: str | None = None, today: date | None = None
              ) -> list[dict]:
    """The lists behind the figures: 'unsatisfied' calls, or 'unreached' due tasks.

    Unreached: call tasks due in the period that were tried at least once and
    never reached (tasks never tried count as not performed, not here).

    Each row has the task, the clerk, and what happened since: the task's
    state now, later calls, complaints, and visits after the call.
    """
    start, end, _label = period_bounds(month, week, today)
    s, e_stamp = start.isoformat(), end.isoformat() + " 99"
    if which == "unsatisfied":
        sat = settings["calls"]["satisfied_from"]
        cond = " OR ".join(f"c.score_{q} < {int(sat)}" for q in QUESTIONS)
        sql = ("SELECT c.id, c.task_id, c.clerk, c.called_at, c.note, t.kind, t.state,"
               " t.customer_id, cu.name, cu.mobile, t.vehicle_id,"
               " " + ", ".join(f"c.score_{q}" for q in QUESTIONS) +
               " FROM calls c JOIN tasks t ON t.id = c.task_id"
               " LEFT JOIN customers cu ON cu.id = t.customer_id"
               f" WHERE c.called_at >= ? AND c.called_at < ? AND ({cond})")
        params = [s, e_stamp]
        if clerk:
            sql += " AND c.clerk = ?"
            params.append(clerk)
        out = []
        for r in db.conn.execute(sql + " ORDER BY c.called_at", params):
            scores = {q: v for q, v in zip(QUESTIONS, r[11:]) if v is not None}
            out.append({"call_id": r[0], "task_id": r[1], "clerk": r[2], "called_at": r[3],
                        "note": r[4], "kind": r[5], "task_state": r[6], "customer_id": r[7],
                        "customer": r[8], "mobile": r[9], "scores": scores,
                        "since": _since(db, r[7], r[10], r[3])})
        return out
    if which == "unreached":
        sql = ("SELECT t.id, t.kind, t.due_date, t.state, t.state_reason, t.attempts,"
               " t.customer_id, cu.name, cu.mobile, t.vehicle_id,"
               " (SELECT clerk FROM calls c WHERE c.task_id = t.id ORDER BY c.id DESC LIMIT 1),"
               " (SELECT max(called_at) FROM calls c WHERE c.task_id = t.id)"
               " FROM tasks t LEFT JOIN customers cu ON cu.id = t.customer_id"
               " WHERE t.due_date BETWEEN ? AND ? AND t.channel IN ('call', 'sms_call')"
               " AND t.state NOT IN ('withdrawn', 'merged', 'done')"
               " AND EXISTS (SELECT 1 FROM calls c WHERE c.task_id = t.id)"
               " AND NOT EXISTS (SELECT 1 FROM calls c WHERE c.task_id = t.id"
               "                 AND c.outcome = 'reached')")
        rows = db.conn.execute(sql + " ORDER BY t.due_date, t.id",
                               (start.isoformat(), end.isoformat())).fetchall()
        out = []
        for r in rows:
            if clerk and r[10] != clerk:
                continue
            out.append({"task_id": r[0], "kind": r[1], "due_date": r[2], "task_state": r[3],
                        "state_reason": r[4], "attempts": r[5], "customer_id": r[6],
                        "customer": r[7], "mobile": r[8], "clerk": r[10], "last_call": r[11],
                        "since": _since(db, r[6], r[9], r[11] or r[2])})
        return out
    from .errors import UsageError

    raise UsageError("the lists are 'unsatisfied' and 'unreached'")


def _since(db, customer_id, vehicle_id, after: str) -> str:
    visits = db.conn.execute(
        "SELECT count(*), max(order_date) FROM repair_orders WHERE (customer_id = ? OR vehicle_id = ?)"
        " AND order_date > ?", (customer_id, vehicle_id, after[:10])).fetchone()
    complaints = db.conn.execute(
        "SELECT count(*), group_concat(state) FROM complaints WHERE customer_id = ? AND opened_at >= ?",
        (customer_id, after)).fetchone()
    parts = []
    if visits[0]:
        parts.append(f"{visits[0]} visit(s), last {visits[1]}")
    if complaints[0]:
        parts.append(f"{complaints[0]} complaint(s): {complaints[1]}")
    return "; ".join(parts) or "nothing yet"
