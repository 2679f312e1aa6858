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

from .clock import add_months
from .db import dicts
from .i18n import _


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
    since = add_months(day, -12).isoformat()
    active_since = (day - timedelta(days=active_days)).isoformat()
    d = day.isoformat()
    rows: dict[str, dict] = {}

    def row(age: int | None) -> dict:
        label = "unknown" if age is None else (f"{max_age}+" if age >= max_age else str(age))
        return rows.setdefault(label, {"age": label, "vehicles": 0, "came_back": 0,
                                       "customers": 0, "active": 0})

    ages: dict[str | None, int | None] = {}

    def age_of(delivered: str | None, vin: str | None = None) -> int | None:
        if delivered is None and vin:
            # No date on file: the model year position 10 of a valid VIN encodes.
            from .rules import vehicle_age

            return vehicle_age(None, None, vin, day).years
        if delivered not in ages:
            ages[delivered] = _age(delivered, day)
        return ages[delivered]

    for delivered, vin, came_back in db.conn.execute(
            "SELECT coalesce(v.delivery_date, v.purchase_date), v.vin,"
            " EXISTS (SELECT 1 FROM repair_orders o WHERE o.vehicle_id = v.id"
            "         AND o.order_date > ? AND o.order_date <= ?)"
            " FROM vehicles v WHERE coalesce(v.delivery_date, v.purchase_date, '') <= ?",
            (since, d, d)):
        r = row(age_of(delivered, vin))
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
HEADLINE = ("due", "performed_rate", "success_rate", "satisfied_share", "overall_average",
            "complaints_opened", "complaints_overdue", "holding_rate")
# The figures an action can be meant to move: the headline ones and each question's average.
METRICS = HEADLINE + tuple(f"score_{q}" for q in QUESTIONS)
_TASKS = ("FROM tasks t WHERE t.due_date BETWEEN ? AND ? AND t.channel IN ('call', 'sms_call')")
_COUNTED = " AND t.state NOT IN ('withdrawn', 'merged')"
# The outcomes where the customer was on the line (as calls.REACHED).
REACHED = ("reached", "booked", "done_elsewhere")


def ratio(num: int, den: int) -> dict:
    """A figure with what it is made of: {'value': 0.75, 'num': 3, 'den': 4}; no division by 0."""
    return {"value": (num / den) if den else None, "num": num, "den": den}


def period_bounds(month: str | None = None, week: date | None = None,
                  today: date | None = None) -> tuple[date, date, str]:
    """(first day, last day, label): a calendar month, or the Monday-Sunday week of ``week``.

    ``month`` is read as a clerk types it (``limits.parse_month``): '2026-11', '2026/11',
    '2026年11月', or '11' alone for the last November up to ``today``."""
    if week is not None:
        start = week - timedelta(days=week.weekday())
        end = start + timedelta(days=6)
        iso = start.isocalendar()
        return start, end, f"{iso[0]}-W{iso[1]:02d}"
    if month is None:
        today = today or date.today()
        month = f"{today.year}-{today.month:02d}"
    else:
        from .limits import parse_month

        month = parse_month(month, today)  # '2026/11', '2026年11月', '11' as typed
    start = date.fromisoformat(month + "-01")
    end = add_months(start, 1) - timedelta(days=1)
    return start, end, month


def previous_period(start: date, end: date, label: str) -> tuple[date, date, str]:
    if "-W" in label:
        return period_bounds(week=start - timedelta(days=7))
    prev = add_months(start, -1)
    return period_bounds(month=f"{prev.year}-{prev.month:02d}")


def month_of(day: date, offset: int = 0) -> str:
    """'YYYY-MM' of ``day``, moved by ``offset`` months."""
    d = add_months(day.replace(day=1), offset)
    return f"{d.year}-{d.month:02d}"


def check_metric(metric: str) -> str:
    if metric not in METRICS:
        from .errors import UsageError

        raise UsageError(_("metric {metric!r}: use one of {items}").format(
                             metric=metric, items=', '.join(METRICS)))
    return metric


def metric_value(r: dict, metric: str) -> float | int | None:
    """The value of one of ``METRICS`` in a report."""
    if metric.startswith("score_"):
        return r["satisfaction"]["questions"][metric[6:]]["average"]
    return headline(r)[metric]


def report(db: sqlite_utils.Database, settings: dict, *, month: str | None = None,
           week: date | None = None, clerk: str | None = None, kinds: list[str] | None = None,
           today: date | None = None, now: str | None = None, compare: bool = True) -> dict:
    """The callback report for a month (or week), every figure with numerator and denominator.

    One attribution rule: every figure of a callback task (performed,
    successful, its scores, its complaint) belongs to the period in which the
    task fell due; ``work_done`` counts the calls each clerk made in the period.
    ``today`` is the day the report is read: a period not over yet counts only
    the tasks due by then (None: the whole period). ``now`` ('YYYY-MM-DD HH:MM')
    is when complaints and actions are judged overdue (default: the period's end).
    ``clerk`` keeps the tasks that clerk called at least once, and their calls.
    """
    from . import report_labels

    start, end, label = period_bounds(month, week, today)
    through = end if today is None or today >= end else max(today, start - timedelta(days=1))
    out = _figures(db, settings, start, end, through, clerk, kinds, now)
    out.update({"period": label, "start": start.isoformat(), "end": end.isoformat(),
                "through": through.isoformat(), "so_far": through < end,
                "clerk": clerk, "kinds": kinds,
                "definitions": report_labels.definitions(settings, "en")})
    if compare:
        p_start, p_end, p_label = previous_period(start, end, label)
        p_through = min(p_end, through)
        prev = _figures(db, settings, p_start, p_end, p_through, clerk, kinds, now, full=False)
        out["previous"] = {"period": p_label, **headline(prev)}
        out["change"] = {k: _delta(v, out["previous"].get(k)) for k, v in headline(out).items()}
    out["actions"] = _actions(db, s=start.isoformat(), cutoff=_cutoff(end, now), current=out)
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


def _cutoff(end: date, now: str | None) -> str:
    stamp = end.isoformat() + " 24:00"
    return min(stamp, now) if now else stamp


def _later(a: str | None, b: str | None) -> str | None:
    """The later of two stamps, as 'YYYY-MM-DD HH:MM' (the planner writes '...T...:SS');
    values that are not ISO times are ignored."""
    if not b or not b[:1].isdigit():
        return a
    b = b.replace("T", " ")[:16]
    return b if a is None or b > a else a


_REACHED_SQL = "c.outcome IN ('reached', 'booked', 'done_elsewhere')"
# Answered a question: a score, why a lost customer left, or whether a complaint's
# resolution satisfied them.
_ANSWERED_SQL = ("coalesce(c.score_overall, c.score_advisor, c.score_quality, c.score_timeliness,"
                 " c.score_price, c.score_cleanliness, c.lost_reason, c.resolution_ok) IS NOT NULL")


def _figures(db, settings: dict, start: date, end: date, through: date, clerk: str | None,
             kinds: list[str] | None, now: str | None = None, *, full: bool = True) -> dict:
    """The figures of one period. SQLite does the counting (grouped rows come back, not
    one row per task or call), so a month of a million-task file stays well under a
    second. ``full=False`` leaves out what the comparison with the previous period does
    not need (work done, advisors, problems, lost customers, reminders)."""
    s, thr = start.isoformat(), through.isoformat()
    conn = db.conn
    where = ("t.due_date BETWEEN ? AND ? AND t.channel IN ('call', 'sms_call')"
             " AND t.state NOT IN ('withdrawn', 'merged')")
    params: list = [s, thr]
    if kinds:
        where += f" AND t.kind IN ({','.join('?' * len(kinds))})"
        params += list(kinds)
    if clerk:  # the tasks this clerk called at least once
        where += " AND EXISTS (SELECT 1 FROM calls k WHERE k.task_id = t.id AND k.clerk = ?)"
        params.append(clerk)
    # Per kind and due day: due, performed, successful, still open, reached.
    # One probe of the calls per task, answered from the index calls_task_report: the
    # best call's level, 1 tried, 2 reached, 3 reached and answered (NULL: never called).
    groups = conn.execute(
        "SELECT kind, due_date, count(*), sum(level >= 1), sum(level = 3),"
        " sum(state = 'open'), sum(level >= 2)"
        " FROM (SELECT kind, due_date, state, coalesce(lv, 0) AS level FROM"
        " (SELECT t.kind, t.due_date, t.state,"
        f"   (SELECT max(CASE WHEN {_REACHED_SQL} AND {_ANSWERED_SQL} THEN 3"
        f"                    WHEN {_REACHED_SQL} THEN 2 ELSE 1 END)"
        "     FROM calls c WHERE c.task_id = t.id) AS lv"
        f"  FROM tasks t WHERE {where}))"
        " GROUP BY 1, 2", params).fetchall()
    rows_kind: dict[str, list[int]] = {}
    weekly: dict[str, list[int]] = {}
    total = [0, 0, 0]
    still_open = 0
    recovery = [0, 0]
    for kind, due, n, performed, ok, open_, reached in groups:
        k = rows_kind.setdefault(kind, [0, 0, 0])
        for acc in (k, total):
            acc[0] += n
            acc[1] += performed
            acc[2] += ok
        d = date.fromisoformat(due)
        w = weekly.setdefault((d - timedelta(days=d.weekday())).isoformat(), [0, 0])
        w[0] += n
        w[1] += performed
        still_open += open_
        if kind == "recovery":
            recovery[0] += n
            recovery[1] += reached
    callbacks = {"total": _tally(*total),
                 "by_kind": {k: _tally(*v) for k, v in sorted(rows_kind.items())},
                 "by_week": [{"week_of": k, **ratio(v[1], v[0])}
                             for k, v in sorted(weekly.items())],
                 "still_open": still_open}
    # The reached calls' scores, by advisor of the order (post-repair) and reason for leaving.
    lo, hi = settings["calls"]["score_min"], settings["calls"]["score_max"]
    dists: list[dict[int, int]] = [{} for _ in QUESTIONS]
    advisors: dict[str, list[dict[int, int]]] = {}
    reasons: dict[str, int] = {}
    last = None
    join = f"FROM tasks t JOIN calls c ON c.task_id = t.id WHERE {where}"
    if not full:  # the comparison needs the overall scores alone
        for v, n in conn.execute(f"SELECT c.score_overall, count(*) {join} AND {_REACHED_SQL}"
                                 " AND c.score_overall IS NOT NULL GROUP BY 1", params):
            dists[0][v] = n
    # Every column read here is in calls_task_report: the calls table is not visited.
    for reached, reason, *rest in () if not full else conn.execute(
            f"SELECT {_REACHED_SQL}, CASE WHEN {_REACHED_SQL} THEN c.lost_reason END,"
            + ", ".join(f"CASE WHEN {_REACHED_SQL} THEN c.score_{q} END" for q in QUESTIONS)
            + f", count(*), max(replace(c.logged_at, 'T', ' ')) {join}"
            # by reason within the reached (the ties of the reasons' list come by name)
            " GROUP BY 1, 2, 3, 4, 5, 6, 7, 8 ORDER BY 1, 2", params):
        scores, n, logged = rest[:6], rest[6], rest[7]
        last = _later(last, logged)
        if not reached:
            continue
        if reason:
            reasons[reason] = reasons.get(reason, 0) + n
        for i, v in enumerate(scores):
            if v is not None:
                dists[i][v] = dists[i].get(v, 0) + n
    # Post-repair scores by the advisor of the order: the post-repair tasks alone.
    for advisor, *scores, n in () if not full else conn.execute(
            "SELECT coalesce((SELECT advisor FROM repair_orders o WHERE o.id = t.order_id), ''),"
            + ", ".join(f"c.score_{q}" for q in QUESTIONS) + f", count(*) {join}"
            f" AND t.kind = 'post_repair' AND {_REACHED_SQL} AND coalesce("
            + ", ".join(f"c.score_{q}" for q in QUESTIONS) + ") IS NOT NULL"
            " GROUP BY 1, 2, 3, 4, 5, 6, 7",
            params):
        per = advisors.setdefault(advisor, [{} for _ in QUESTIONS])
        for i, v in enumerate(scores):
            if v is not None:
                per[i][v] = per[i].get(v, 0) + n
    if full:  # a withdrawn or merged task changes the figures too: every task counts
        updated = conn.execute("SELECT max(replace(t.updated_at, 'T', ' ')) FROM tasks t"
                               " WHERE t.due_date BETWEEN ? AND ?"
                               " AND t.channel IN ('call', 'sms_call')", (s, thr)).fetchone()[0]
        last = _later(last, updated)
    questions = {q: _question(d, lo, hi) for q, d in zip(QUESTIONS, dists)}
    sat_from = settings["calls"]["satisfied_from"]
    overall = questions["overall"]
    satisfied = sum(v for k, v in overall["distribution"].items() if int(k) >= sat_from)
    satisfaction = {"questions": questions, "satisfied": ratio(satisfied, overall["answers"]),
                    "satisfied_from": sat_from}
    complaints, categories, last = _complaints(db, settings, s, thr, kinds, clerk,
                                               now or _cutoff(end, None), last)
    out = {"callbacks": callbacks, "satisfaction": satisfaction, "complaints": complaints,
           "holding_rate": _holding(db, through), "last_changed": last}
    if not full:
        return out
    tags: dict[str, int] = {}
    for note, n in conn.execute(f"SELECT c.note, count(*) {join} AND c.note IS NOT NULL"
                                " GROUP BY 1", params):
        for tag in set(_TAG.findall(note)):
            tags[tag] = tags.get(tag, 0) + n
    out.update({
        "work_done": _work_done(db, s, thr, clerk),
        "by_advisor": _by_advisor(advisors, settings, lo, hi),
        "problems": {"complaint_categories": categories,
                     "note_tags": [{"tag": t, "count": n} for t, n in
                                   sorted(tags.items(), key=lambda kv: (-kv[1], kv[0]))[:10]]},
        "lost_customers": {
            "recovery_due": recovery[0], "reached": recovery[1],
            "reasons": [{"reason": k, "count": n}
                        for k, n in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))],
            "won_back": _won_back(db, settings, s, thr, clerk)},
        "reminder_effect": _reminder_effect(db, settings, s, thr),
    })
    return out


_TAG = __import__("re").compile(r"#([^\s#,，。;；]+)")


def _question(dist: dict[int, int], lo: int, hi: int) -> dict:
    n = sum(dist.values())
    total = sum(k * v for k, v in dist.items())
    return {"answers": n, "average": round(total / n, 3) if n else None,
            "distribution": {str(k): dist.get(k, 0) for k in range(lo, hi + 1)}}


def _tally(due: int, performed: int, ok: int) -> dict:
    return {"due": due, "performed": performed, "successful": ok,
            "performed_rate": ratio(performed, due), "success_rate": ratio(ok, due)}


def _by_advisor(advisors: dict, settings: dict, lo: int, hi: int) -> dict:
    """Post-repair scores per service advisor and question; the advisors to coach."""
    st = settings["stats"]
    q = st["coach_question"]
    rows = []
    for name, dists in sorted(advisors.items()):
        rows.append({"advisor": name or None,
                     "questions": {k: {"answers": v["answers"], "average": v["average"]}
                                   for k, v in ((k, _question(d, lo, hi))
                                                for k, d in zip(QUESTIONS, dists))}})
    ranked = sorted((r for r in rows if r["advisor"]
                     and r["questions"][q]["answers"] >= st["coach_min_answers"]),
                    key=lambda r: (r["questions"][q]["average"], r["advisor"]))
    coach = [{"advisor": r["advisor"], "average": r["questions"][q]["average"],
              "answers": r["questions"][q]["answers"]} for r in ranked[:st["coach_count"]]]
    return {"advisors": rows, "coach": coach, "coach_question": q,
            "coach_min_answers": st["coach_min_answers"]}


def _work_done(db, s: str, thr: str, clerk: str | None) -> dict:
    """The calls each clerk made in the period (by the time of the call, whatever task)."""
    where, params = "called_at >= ? AND called_at < ?", [s, thr + " 99"]
    if clerk:
        where += " AND clerk = ?"
        params.append(clerk)
    out: dict[str, dict] = {}
    tasks: dict[str, set] = {}
    for name, task_id, outcome, answered in db.conn.execute(
            "SELECT clerk, task_id, outcome, " + _ANSWERED_SQL.replace("c.", "")
            + f" FROM calls WHERE {where}", params):
        row = out.get(name)
        if row is None:
            row = out[name] = {"calls": 0, "successful": 0, "tasks": 0, "outcomes": {}}
            tasks[name] = set()
        row["calls"] += 1
        row["outcomes"][outcome] = row["outcomes"].get(outcome, 0) + 1
        tasks[name].add(task_id)
        if answered and outcome in REACHED:
            row["successful"] += 1
    for name, ids in tasks.items():
        out[name]["tasks"] = len(ids)
    total = {"calls": sum(r["calls"] for r in out.values()),
             "successful": sum(r["successful"] for r in out.values())}
    return {"by_clerk": dict(sorted(out.items())), "total": total}


def _complaints(db, settings, s, thr, kinds, clerk, now, last):
    """The period's complaints: those of its tasks, and those opened in it without a task."""
    from datetime import datetime

    from .calendar import working_hours_between
    from .calls import _hours, overdue_marks
    from .planner import work_calendar

    rows = dicts(db, "SELECT k.id, k.category, k.severity, k.state, k.opened_at, k.opened_by,"
                     " k.escalate_by, k.reply_by, k.escalated_at, k.replied_at, k.closed_at,"
                     " k.late_escalation, k.late_reply, k.resolution, k.task_id, t.kind,"
                     " EXISTS (SELECT 1 FROM calls c WHERE c.task_id = k.task_id"
                     "         AND c.clerk = ?) AS mine"
                     " FROM complaints k LEFT JOIN tasks t ON t.id = k.task_id"
                     " WHERE (t.id IS NOT NULL AND t.due_date BETWEEN ? AND ?)"
                     "    OR (t.id IS NULL AND k.opened_at >= ? AND k.opened_at < ?)",
                 (clerk, s, thr, s, thr + " 99"))
    if kinds:
        rows = [k for k in rows if k["kind"] in kinds]
    if clerk:  # the complaints of the tasks this clerk called, and those they opened by hand
        rows = [k for k in rows if (k["mine"] if k["task_id"] else k["opened_by"] == clerk)]
    at = datetime.fromisoformat(now.replace(" 24:00", " 23:59"))
    wc = work_calendar(settings)
    hours = _hours(settings)
    overdue, cats, sev, res = 0, {}, {}, {"satisfied": 0, "not_satisfied": 0, "pending": 0}
    esc_h, reply_h = [], []
    for k in rows:
        for col in ("opened_at", "escalated_at", "replied_at", "closed_at"):
            last = _later(last, k[col])
        overdue += bool(overdue_marks(k, at))
        cats[k["category"]] = cats.get(k["category"], 0) + 1
        sev[k["severity"]] = sev.get(k["severity"], 0) + 1
        if k["resolution"]:
            res[k["resolution"]] += 1
        elif k["state"] == "replied":
            res["pending"] += 1
        if k["escalated_at"]:
            esc_h.append(working_hours_between(wc, datetime.fromisoformat(k["opened_at"]),
                                               datetime.fromisoformat(k["escalated_at"]), **hours))
        if k["replied_at"]:
            frm = k["escalated_at"] or k["opened_at"]
            reply_h.append(working_hours_between(wc, datetime.fromisoformat(frm),
                                                 datetime.fromisoformat(k["replied_at"]), **hours))

    def avg(vals):
        return {"average_hours": round(sum(vals) / len(vals), 2) if vals else None,
                "count": len(vals)}

    out = {"opened": len(rows), "closed": sum(1 for k in rows if k["state"] == "closed"),
           "overdue": overdue, "by_severity": dict(sorted(sev.items())), "resolution": res,
           "to_escalation": avg(esc_h), "to_reply": avg(reply_h)}
    categories = [{"category": c, "count": n}
                  for c, n in sorted(cats.items(), key=lambda kv: (-kv[1], kv[0]))]
    return out, categories, last


def _actions(db, *, s: str, cutoff: str, current: dict) -> dict:
    """Actions opened and done in the period, overdue at its end, and the list the next
    report follows: open at the period's end, or finished in it, each with its effect."""
    q = db.conn.execute
    items = dicts(db, "SELECT id, text, owner, deadline, kind, category, report_month,"
                      " approved_at, approved_by, done_at, metric, effect_before,"
                      " effect_before_period, effect_after, effect_after_period FROM actions"
                      " WHERE created_at < ? AND (done_at IS NULL OR done_at >= ?)"
                      " ORDER BY deadline, id", (cutoff, s))
    listed = []
    for a in items:
        done = a["done_at"] is not None and a["done_at"] < cutoff
        if not done:
            a["done_at"] = None
            if a["metric"]:  # still open: the figure as this report has it
                a["effect_after"] = metric_value(current, a["metric"])
                a["effect_after_period"] = current["period"]
        a["state"] = "done" if done else "open"
        a["overdue"] = not done and a["deadline"] < cutoff[:10]
        listed.append(a)
    return {"opened": q("SELECT count(*) FROM actions WHERE created_at >= ? AND created_at < ?",
                        (s, cutoff)).fetchone()[0],
            "done": q("SELECT count(*) FROM actions WHERE done_at >= ? AND done_at < ?",
                      (s, cutoff)).fetchone()[0],
            "overdue": sum(1 for a in listed if a["overdue"]),
            "list": listed}


def _reminder_effect(db, settings, s, e) -> dict:
    window = settings["stats"]["return_window_days"]
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
    # Reminders that ended because the service was done elsewhere (a call's outcome
    # done_elsewhere): the business the dealer lost to others, by reminder type.
    out["done_elsewhere"] = {}
    for label, kinds in REMINDER_KINDS.items():
        marks = ",".join("?" * len(kinds))
        out["done_elsewhere"][label] = db.conn.execute(
            f"SELECT count(*) FROM tasks t WHERE t.kind IN ({marks})"
            " AND t.due_date BETWEEN ? AND ? AND t.state NOT IN ('withdrawn', 'merged')"
            " AND EXISTS (SELECT 1 FROM calls c WHERE c.task_id = t.id"
            " AND c.outcome = 'done_elsewhere')", (*kinds, s, e)).fetchone()[0]
    out["window_days"] = window
    return out


def _won_back(db, settings, s, e, clerk) -> int:
    """Customers of the period's recovery calls with a visit from the day before the due
    date to the return window after it."""
    window = settings["stats"]["return_window_days"]
    mine = (" AND EXISTS (SELECT 1 FROM calls k WHERE k.task_id = t.id AND k.clerk = ?)"
            if clerk else "")
    return db.conn.execute(
        "SELECT count(DISTINCT t.customer_id) FROM tasks t WHERE t.kind = 'recovery'"
        " AND t.due_date BETWEEN ? AND ? AND t.channel IN ('call', 'sms_call')"
        " AND t.state NOT IN ('withdrawn', 'merged') AND EXISTS (SELECT 1 FROM repair_orders o"
        " WHERE o.customer_id = t.customer_id AND o.order_date >= date(t.due_date, '-1 day')"
        f" AND o.order_date <= date(t.due_date, ?)){mine}",
        (s, e, f"+{window} day", *([clerk] if clerk else []))).fetchone()[0]


def _holding(db, end: date) -> dict:
    """The holding rate at ``end`` (as in ``retention``, totals only: one query)."""
    d = end.isoformat()
    since = add_months(end, -12).isoformat()
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

    Both follow the report's attribution rule: the tasks due in the period.

    Unreached: call tasks due in the period that were tried at least once and
    never reached (tasks never tried count as not performed, not here).

    Each row has the task, the clerk, and what happened since: the task's
    state now, later calls, complaints, and visits after the call.
    """
    start, end, _label = period_bounds(month, week, today)
    s = start.isoformat()
    if which == "unsatisfied":
        sat = settings["calls"]["satisfied_from"]
        cond = " OR ".join(f"c.score_{q} < {int(sat)}" for q in QUESTIONS)
        sql = ("SELECT c.id, c.task_id, c.clerk, c.called_at, c.note, t.kind, t.state,"
               " t.customer_id, cu.name, cu.mobile, t.vehicle_id,"
               " " + ", ".join(f"c.score_{q}" for q in QUESTIONS) +
               " FROM calls c JOIN tasks t ON t.id = c.task_id"
               " LEFT JOIN customers cu ON cu.id = t.customer_id"
               " WHERE t.due_date BETWEEN ? AND ? AND t.channel IN ('call', 'sms_call')"
               f" AND t.state NOT IN ('withdrawn', 'merged') AND ({cond})")
        params = [s, end.isoformat()]
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
               "                 AND c.outcome IN ('reached', 'booked', 'done_elsewhere'))")
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

    raise UsageError(_("the lists are 'unsatisfied' and 'unreached'"))


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
