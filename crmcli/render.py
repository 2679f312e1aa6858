"""Rich renderables from plain data. Never queries, never prints.

Every cell goes in through ``_row``, which makes each string a plain ``Text``
of ``text.clean``: a stored name like ``王七[/bold]`` or ``\x1b[2J`` is shown as
data, never read as markup, emoji codes or terminal control. Titles and
captions that carry stored text go through ``text.safe``.
"""

from __future__ import annotations

from rich import box
from rich.table import Table
from rich.text import Text

from .choices import KINDS, label
from .i18n import N_, _
from .privacy import mask_value
from .text import clean, safe


def _row(table: Table, *cells, **kwargs) -> None:
    """``table.add_row`` with every cell inert (see the module docstring)."""
    out = []
    for c in cells:
        if isinstance(c, str):
            c = Text(clean(c))
        elif isinstance(c, Text) and not c.plain.isprintable():
            c.plain = clean(c.plain)
        out.append(c)
    table.add_row(*out, **kwargs)


def yuan(fen: int | None) -> str:
    if fen is None:
        return ""
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}¥{fen // 100:,}.{fen % 100:02d}"


def km(value: int | None) -> str:
    return "" if value is None else f"{value:,} km"


def import_summary_line(s: dict) -> str:
    if s["status"] == "same-file":
        return f"{s['file']}: {s['message']}"
    parts = [
        _("{n} rows read").format(n=s["rows_read"]),
        _("{n} inserted").format(n=s["inserted"]),
        _("{n} updated").format(n=s["updated"]),
        _("{n} unchanged").format(n=s["unchanged"]),
        _("{n} flagged").format(n=s["flagged"]),
        _("{n} rejected").format(n=s["rejected"]),
    ]
    if s["skipped"]:
        parts.append(_("{n} skipped").format(n=s["skipped"]))
    if s["superseded"]:
        parts.append(_("{n} superseded").format(n=s["superseded"]))
    prefix = _("dry run, nothing written: ") if s["status"] == "dry-run" else ""
    return f"{s['file']}: {prefix}" + _(", ").join(parts)


def mapping_table(mapping: list[tuple[str, str]], ignored: list[str]) -> Table:
    t = Table(title=_("Columns"), title_justify="left")
    t.add_column(_("Column in file"))
    t.add_column(_("Field"))
    from .fields import field_label

    for column, field in mapping:
        _row(t, column, field_label(field))
    for column in ignored:
        _row(t, Text(column, style="dim"), Text(_("(not used)"), style="dim"))
    return t


SEVERITY_WORDS = {"rejected": N_("rejected"), "flagged": N_("flagged")}


def problems_table(problems: list, limit: int = 50) -> Table:
    from .fields import field_label

    t = Table(title=_("Rows to check"), title_justify="left")
    for col in (N_("Row"), N_("Order"), N_("Plate"), "", N_("Column"), N_("Value"), N_("Reason")):
        t.add_column(_(col) if col else "", overflow="fold")
    # A row is rejected or flagged as a whole (as the summary counts it): every line of a
    # rejected row says rejected, though some of its reasons alone would only flag it.
    rejected = {p.row_no for p in problems if p.severity == "rejected"}
    for p in problems[:limit]:
        verdict = "rejected" if p.row_no in rejected else p.severity
        style = "red" if verdict == "rejected" else "yellow"
        severity = _(SEVERITY_WORDS[verdict]) if verdict in SEVERITY_WORDS else verdict
        _row(t, str(p.row_no), p.order_no or "", p.plate or "", Text(severity, style=style),
             p.column or field_label(p.field), mask_value(p.field, p.value) or "",
             reason_text(p.reason))
    if len(problems) > limit:
        t.caption = _("{count} more; write them all with --rejects FILE.xlsx").format(
            count=len(problems) - limit)
    return t


def verdicts_table(verdicts: list[tuple[int, str]], limit: int = 200) -> Table:
    t = Table(title=_("Row verdicts"), title_justify="left")
    t.add_column(_("Row"), justify="right")
    t.add_column(_("Verdict"))
    for row_no, verdict in verdicts[:limit]:
        style = "red" if verdict.startswith("rejected") else (
            "yellow" if "flagged" in verdict or verdict.startswith("superseded") else "")
        _row(t, str(row_no), Text(reason_text(verdict), style=style))
    if len(verdicts) > limit:
        t.caption = _("{count} more rows").format(count=len(verdicts) - limit)
    return t


def reason_text(text: str | None) -> str:
    """A stored reason (a rule's, a classification's, an import's) in this run's language."""
    from .reasons import translate

    return translate(text or "")


def _table(title: str, cols, **kwargs) -> Table:
    t = Table(title=title, title_justify="left")
    for col in cols:
        t.add_column(_(col), **kwargs)
    return t


def customer_panel(f: dict, show_id: bool) -> list:
    from .fields import field_label
    from .normalize import mask_id_number

    c = f["customer"]
    head = Table.grid(padding=(0, 2))
    head.add_column(style="bold")
    head.add_column()
    idn = c["id_number"]
    callbacks = _("accepted") if c["callback_consent"] else _("REFUSED")
    if c["preferred_call_time"]:
        callbacks += _(", at {time}").format(time=c["preferred_call_time"])
    if c["preferred_phone"]:
        callbacks += _(", on {phone}").format(phone=c["preferred_phone"])
    cls = f.get("classification")
    rows = [
        (N_("Customer"), f"#{c['id']} {c['name'] or '?'}  ({f['greeting']})"),
        (N_("Mobile"), c["mobile"] or ""),
        (N_("Other phones"), c["other_phones"] or ""),
        (N_("Gender"), {"M": _("male"), "F": _("female")}.get(c["gender"] or "", "")),
        (N_("ID number"), (idn if show_id else mask_id_number(idn)) if idn else ""),
        (N_("Birthday"), c["birthday"] or ""),
        (N_("Lunar birthday"), c["lunar_birthday"] or ""),
        (N_("Occupation"), c["occupation"] or ""),
        (N_("Address"), c["address"] or ""),
        (N_("Callbacks"), callbacks),
        (N_("Notes"), c["notes"] or ""),
        (N_("Opt-outs"), "; ".join(
            _("{what} since {since} ({reason}, by {by})").format(
                what=optout_what(o["what"]), since=o["since"], reason=reason_text(o["reason"]) or "-",
                by=o["by_user"] or "?") for o in f.get("optouts", []))),
        (N_("SMS failing"), "; ".join(
            _("{phone} since {since} ({reason})").format(phone=p["phone"], since=p["since"],
                                                        reason=p["reason"])
            for p in f.get("phone_flags", []))),
        (N_("Visits"), _("{count}, total {total}, last {last}").format(
            count=f["visits"], total=yuan(f["orders_total_fen"]), last=f["last_visit"] or "-")),
        (N_("Class"), _("{cls} because: {reason} (on {day})").format(
            cls=f"{cls['value_class']} {label('class', cls['value_class'])}",
            reason=reason_text(cls["reason"]), day=cls["day"]) if cls else ""),
    ]
    for k, v in rows:
        if v:
            _row(head, _(k), v)
    out = [head]
    vt = Table(title=_("Vehicles"), title_justify="left")
    vt.add_column(_("Plate"), no_wrap=True)
    vt.add_column(_("VIN"), no_wrap=True)
    for col in (N_("Model"), N_("Delivered"), N_("Usage"), N_("Owner")):
        vt.add_column(_(col))
    dates = Table(title=_("Vehicle dates"), title_justify="left")
    for col in (N_("Plate"), N_("交强险 expires"), N_("商业险 expires"), N_("Inspection due"),
                N_("Warranty ends")):
        dates.add_column(_(col), no_wrap=col == "Plate")
    for v in f["vehicles"]:
        usage = label("usage", v["usage"]) if v["usage"] else ""
        if usage and v["usage_source"] == "guess":
            usage += _(" (guess)")
        _row(vt, v["plate"] or "", v["vin"] or "", v["model"] or "",
                   v["delivery_date"] or v["purchase_date"] or "", usage,
                   _("current") if v["current_owner"] else _("past"))
        if v["current_owner"]:
            _row(dates, v["plate"] or v["vin"] or "", v["insurance_compulsory_expiry"] or "",
                          v["insurance_commercial_expiry"] or "", v["inspection_due"] or "",
                          v["warranty_end"] or "")
    out.append(vt)
    if dates.row_count:
        out.append(dates)
    ot = Table(title=_("Repair orders"), title_justify="left")
    for col in (N_("Date"), N_("Order"), N_("Plate"), N_("Type"), N_("km"), N_("Total"),
                N_("Advisor")):
        ot.add_column(_(col), justify="right" if col in ("km", "Total") else "left")
    for o in f["orders"]:
        _row(ot, o["order_date"], o["order_no"], o["plate"] or "",
                   o["service_type_raw"] or o["service_type"] or "",
                   "" if o["mileage"] is None else f"{o['mileage']:,}", yuan(o["total_fen"]),
                   o["advisor"] or "")
    ot.caption = _("{count} orders, total {total}").format(count=f["visits"],
                                                          total=yuan(f["orders_total_fen"]))
    out.append(ot)
    if f["flags"]:
        ft = _table(_("Flagged by imports (check these)"),
                    (N_("File"), N_("Row"), N_("Column"), N_("Value"), N_("Reason")),
                    overflow="fold")
        for p in f["flags"]:
            _row(ft, p["file_name"], str(p["row_no"]), p["column_name"] or field_label(p["field"]),
                 (p["value"] if show_id else mask_value(p["field"], p["value"])) or "",
                 reason_text(p["reason"]))
        out.append(ft)
    for title, rows, cols, cells in (
        (N_("Calls"), f.get("calls", ()),
         (N_("When"), N_("Task"), N_("Outcome"), N_("Score"), N_("Clerk"), N_("Note")),
         lambda c: (c["called_at"] or "", label("kind", c["kind"] or ""),
                    label("outcome", c["outcome"] or ""),
                    "" if c["score_overall"] is None else str(c["score_overall"]),
                    c["clerk"] or "", c["note"] or "")),
        (N_("Open tasks"), f.get("open_tasks", ()),
         (N_("Due"), N_("Task"), N_("Channel"), N_("State"), N_("Tries")),
         lambda t: (t["due_date"] or "", label("kind", t["kind"] or ""),
                    label("task_channel", t["channel"] or ""), label("state", t["state"] or ""),
                    str(t["attempts"] or 0))),
        (N_("Complaints"), f.get("complaints", ()),
         ("#", N_("Opened"), N_("Category"), N_("State"), N_("Text")),
         lambda c: (str(c["id"]), c["opened_at"] or "", c["category"] or "",
                    label("complaint_state", c["state"] or ""), c["text"] or "")),
        (N_("Changes to the record"), f.get("history", ()),
         (N_("When"), N_("Field"), N_("Was"), N_("Now"), N_("By"), N_("Why")),
         lambda h: (h["changed_at"] or "", (field_label(h["field"]) if h["entity"] == "customer"
                                           else _("vehicle #{id} {field}").format(
                                               id=h["entity_id"], field=field_label(h["field"]))),
                    h["old_value"] or "", h["new_value"] or "",
                    h["file_name"] or h["by_user"] or "", reason_text(h["reason"]))),
    ):
        if not rows:
            continue
        t = _table(_(title), cols, overflow="fold")
        for r in rows:
            _row(t, *cells(r))
        out.append(t)
    return out


OPTOUT_WHAT = {"all": N_("everything"), "sms": N_("SMS"), "call": N_("calls"),
               "marketing": N_("marketing"), "service": N_("service")}


def optout_what(what: str) -> str:
    """An opt-out's scope (all, sms, ... or a task kind) in this run's language."""
    return _(OPTOUT_WHAT[what]) if what in OPTOUT_WHAT else label("kind", what)


def duplicates_table(pairs: list[dict]) -> Table:
    t = _table(_("Suspected duplicates"), (N_("Kind"), N_("Keep?"), N_("Other"), N_("Evidence")),
               overflow="fold")
    for p in pairs:
        _row(t, _(DUPLICATE_KINDS.get(p["kind"], p["kind"])), f"#{p['a']}", f"#{p['b']}",
             "; ".join(reason_text(e) for e in p["evidence"]))
    if not pairs:
        t.caption = _("none found")
    return t


DUPLICATE_KINDS = {"customer": N_("customer"), "vehicle": N_("vehicle")}


def customers_table(rows: list[dict]) -> Table:
    t = Table(pad_edge=False, box=box.SIMPLE_HEAD)
    t.add_column("#", justify="right", no_wrap=True)
    t.add_column(_("Name"))
    t.add_column(_("Mobile"), no_wrap=True)
    t.add_column(_("Plates"), no_wrap=True)
    t.add_column(_("Cls"), no_wrap=True)
    t.add_column(_("Visits"), justify="right", no_wrap=True)
    t.add_column(_("Last visit"), no_wrap=True)
    t.add_column(_("Spend"), justify="right", no_wrap=True)
    refused = _(" (refuses callbacks)")
    for r in rows:
        plates = (r["plates"] or "").split()
        shown = plates[0] + (f" +{len(plates) - 1}" if len(plates) > 1 else "") if plates else ""
        name = (r["name"] or "") + ("" if r["callback_consent"] else refused)
        spend = f"¥{(r['spend_fen'] or 0) // 100:,}"
        _row(t, str(r["id"]), name, r["mobile"] or "", shown, r.get("value_class") or "",
                  str(r["visits"]), r["last_visit"] or "", spend)
    return t


# The Chinese name of each task kind, from the one table in choices.
KIND_LABELS = {kind: zh for kind, (zh, _en) in KINDS.items()}


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, kind)


# On a narrow terminal the today table gives way in this order: the reason wraps
# (down to WHY_MIN columns), then the Vehicle column goes, then Customer and Kind
# wrap; the task id is never cut or hidden. Narrower still, one plain line a task.
WHY_MIN = 16
GIVE_WAY = (N_("the reason wraps"), N_("the Vehicle column is left out"),
            N_("customer and kind wrap"), N_("one plain line per task"))


def _today_cells(i: dict) -> tuple:
    via = label("channel", "sms" if i["step"] == "sms" else "call")
    due = i["due_date"][5:]
    if i.get("call_at"):
        due += "\n" + _("at {time}").format(time=i["call_at"][11:16])  # the customer's time
    if i["overdue_days"]:
        due = Text(f"{due} +{i['overdue_days']}d", style="bold red")
    who = i["customer"]
    if i.get("contact"):  # the post-repair call goes to whoever brought the car
        who += "\n" + _("brought by {name}").format(name=i["contact"])
    who += f"\n{i['phone'] or '-'}"
    if i["call_time"]:
        who += f"\n{i['call_time']}"
    vehicle = "\n".join(x for x in (i["plate"], i["model"]) if x)
    why = reason_text(i["reason"]) + "".join(_("; also: {reason}").format(reason=reason_text(c["reason"]))
                                for c in i.get("carries") or ())
    return str(i["id"]), f"{label('kind', i['kind'])}\n{via}", who, vehicle, why, due


def today_table(items: list[dict], title: str, *, vehicle: bool = True,
                wrap: bool = False) -> Table:
    """Today's tasks as a table; ``vehicle``/``wrap`` are the steps of ``GIVE_WAY``."""
    t = Table(title=title, title_justify="left", show_lines=True, pad_edge=False, box=box.SQUARE)
    id_width = max((len(str(i["id"])) for i in items), default=1)
    t.add_column("#", justify="right", no_wrap=True, min_width=id_width)
    t.add_column(_("Kind"), no_wrap=not wrap)
    t.add_column(_("Customer"), no_wrap=not wrap)
    if vehicle:
        t.add_column(_("Vehicle"), no_wrap=True)
    t.add_column(_("Why"), min_width=WHY_MIN if wrap or not vehicle else 24, overflow="fold")
    t.add_column(_("Due"), no_wrap=True)
    for i in items:
        cells = _today_cells(i)
        _row(t, *(cells if vehicle else cells[:3] + cells[4:]))
    return t


def today_lines(items: list[dict]) -> list[str]:
    """One tab-separated line per task, nothing cut: for pipes, files and tiny terminals."""
    out = []
    for i in items:
        cells = [c.plain if isinstance(c, Text) else c for c in _today_cells(i)]
        out.append("\t".join(clean(c).replace("\n", " / ") for c in cells))
    return out


def fit_today(console, items: list[dict], title: str, *, drop: bool = True):
    """The today table that fits ``console`` (see ``GIVE_WAY``; without ``drop`` no
    column is left out), or ``None`` when even the narrowest table would cut a cell:
    then print ``today_lines``."""
    from io import StringIO

    from rich.console import Console

    steps = ({}, {"wrap": True}, {"vehicle": False}, {"vehicle": False, "wrap": True})
    for kw in steps if drop else steps[:2]:
        t = today_table(items, title, **kw)
        # Rich cuts a cell it cannot fit with "…": try the table at this width first.
        # and a no-wrap column too wide runs past the edge: render it wider to see.
        trial = Console(file=StringIO(), width=console.width * 4, height=25, color_system=None,
                        emoji=False, legacy_windows=False)
        trial.print(t, width=console.width)
        shown = trial.file.getvalue()
        if "…" not in shown and all(trial.measure(line).maximum <= console.width
                                    for line in shown.splitlines()):
            return t
    return None


def overdue_legend(items: list[dict]) -> str | None:
    """What ``+3d`` means, said once under a table that shows one."""
    if not any(i.get("overdue_days") for i in items):
        return None
    return _("+Nd in Due: the task fell due N days ago and is still open (the most overdue"
             " count first).")


def kind_counts(counts: dict[str, int]) -> str:
    parts = [f"{label('kind', k)} {n}" for k, n in sorted(counts.items(), key=lambda kv: -kv[1])]
    if not parts:
        return _("nothing due")
    return _("{count} tasks: {parts}").format(count=sum(counts.values()), parts=_(", ").join(parts))


def class_matrix(m: dict, labels: dict[str, str]) -> list:
    from .classify import BANDS, CLASSES

    t = Table(title=_("Customers by value class and vehicle age ({day})").format(day=m["day"]),
              title_justify="left")
    t.add_column(_("Class"))
    for b in BANDS:
        t.add_column(labels[b], justify="right")
    t.add_column(_("Total"), justify="right")
    for k in CLASSES:
        row = m["by_age"][k]
        _row(t, f"{k} {label('class', k)}", *[str(row[b]) for b in BANDS], str(sum(row.values())))
    _row(t, _("All"), *[str(sum(m["by_age"][k][b] for k in CLASSES)) for b in BANDS],
              str(sum(sum(r.values()) for r in m["by_age"].values())), style="bold")
    u = Table(title=_("By usage (customers with a vehicle of that usage)"), title_justify="left")
    u.add_column(_("Usage"))
    for k in CLASSES:
        u.add_column(k, justify="right")
    for use, row in sorted(m["by_usage"].items()):
        _row(u, label("usage", use), *[str(row[k]) for k in CLASSES])
    return [t, u]


def changes_table(moves: list[dict]) -> Table:
    t = _table(_("Moves between classes"),
               ("#", N_("Customer"), N_("Mobile"), N_("Move"), N_("On"), N_("Why")),
               overflow="fold")
    for m in moves:
        style = "bold red" if (m["old"], m["new"]) == ("A", "B") else (
            "green" if m["new"] < m["old"] else "")
        _row(t, str(m["customer_id"]), m["name"] or "", m["mobile"] or "",
                  Text(f"{m['old']} -> {m['new']}", style=style), m["day"], reason_text(m["reason"]))
    return t


def retention_table(r: dict) -> Table:
    t = Table(title=_("Holding rate and active customers by vehicle age ({day})").format(
        day=r["day"]), title_justify="left")
    for col in (N_("Age"), N_("Vehicles"), N_("Back in 12m"), N_("Holding"), "", N_("Active"),
                N_("Active %")):
        t.add_column(_(col) if col else "", justify="left" if col in ("",) else "right",
                     no_wrap=True)

    def pct(x):
        return "-" if x is None else f"{x:.0%}"

    def bar(x):
        return "" if x is None else "█" * round(x * 10)

    def age(a):
        return _("All") if a == "All" else _("unknown") if a == "unknown" else a

    for row in r["rows"] + [dict(r["total"], age="All")]:
        _row(t, age(row["age"]), str(row["vehicles"]), str(row["came_back"]),
             pct(row["holding_rate"]), Text(bar(row["holding_rate"]), style="cyan"),
             f"{row['active']}/{row['customers']}", pct(row["active_ratio"]))
    t.caption = _("Holding rate: vehicles with any visit in the 12 months to {day} / vehicles on "
                  "file. Active: customers with a paid visit in the last {days} days.").format(
                      day=r["day"], days=r["active_days"])
    return t


def complaints_table(items: list[dict], now) -> Table:
    t = Table(title=_("Complaints ({now})").format(now=f"{now:%Y-%m-%d %H:%M}"),
              title_justify="left")
    for col in ("#", N_("State"), N_("Customer"), N_("Category"), N_("Complaint"),
                N_("Escalate by"), N_("Reply by")):
        t.add_column(_(col), overflow="fold", no_wrap=col in ("#", "State"))
    for k in items:
        late = k["overdue"]
        state = Text(label("complaint_state", k["state"]) + (
            "\n" + _("LATE: {steps}").format(steps="+".join(_(LATE_STEPS.get(x, x)) for x in late))
            if late else ""),
                     style="bold red" if late else "")
        category = k["category"]
        if k.get("severity") and k["severity"] != "normal":  # 严重 / 重大 stand out
            category += f"\n{label('severity', k['severity'])}"
        _row(t, str(k["id"]), state, f"{k['customer_name'] or ''}\n{k['mobile'] or ''}",
             category, k["text"], k["escalate_by"][5:], k["reply_by"][5:])
    t.caption = _("{count} complaints, {overdue} overdue").format(
        count=len(items), overdue=sum(1 for k in items if k["overdue"]))
    return t


LATE_STEPS = {"escalation": N_("escalation"), "reply": N_("reply")}


def actions_table(items: list[dict]) -> Table:
    from . import report_labels as rl

    lang = rl.language()
    t = Table(title=_("Corrective and preventive actions"), title_justify="left")
    for col in ("#", _("Kind"), rl.label("action", lang), rl.label("owner", lang),
                rl.label("deadline", lang), rl.label("state", lang), _("From")):
        t.add_column(col, overflow="fold")
    for a in items:
        late = a["overdue_days"]
        dl = Text(a["deadline"] + (f" +{late}d" if late else ""), style="bold red" if late else "")
        src = " ".join(x for x in (a["category"], a["report_month"],
                                   f"#{a['complaint_id']}" if a["complaint_id"] else None) if x)
        _row(t, str(a["id"]), label("action_kind", a["kind"]), a["text"], a["owner"], dl,
             label("action_state", a["state"]), src)
    return t


def _pct(fig: dict | float | None) -> str:
    value = fig["value"] if isinstance(fig, dict) else fig
    return "-" if value is None else f"{value:.1%}"


def _chg(value, rate: bool) -> Text:
    if value is None:
        return Text("-")
    text = f"{value:+.1%}" if rate else f"{value:+g}"
    return Text(text, style="green" if value > 0 else ("red" if value < 0 else ""))


def report_tables(r: dict, lang: str = "en") -> list:
    """The monthly report as Rich tables, every word from ``report_labels`` in ``lang``."""
    from . import report_labels as rl
    from .stats import headline

    def lb(key: str) -> str:
        return rl.label(key, lang)

    def num(v) -> str:
        return "-" if v is None else f"{v:g}"

    def cell(value) -> Text:  # stored text (names, categories): never read as markup
        return Text(clean(str(value or "")))

    out = []
    rates = {"performed_rate", "success_rate", "satisfied_share", "holding_rate"}
    now = headline(r)
    prev = r.get("previous", {})
    cb = r["callbacks"]
    state = (f"{lb('through')} {r['through']}" if r["so_far"] else
             lb("month_closed") if not cb["still_open"] else f"{lb('still_open')}: {cb['still_open']}")
    t = Table(title=f"{lb('report')} {r['period']} ({r['start']} - {r['end']})"
              + (f", {lb('clerk')} {safe(r['clerk'])}" if r.get("clerk") else ""), title_justify="left",
              caption=f"{state}; {lb('last_changed')}: {r['last_changed'] or '-'}",
              caption_justify="left")
    t.add_column(lb("figure"))
    t.add_column(lb("this_period"), justify="right")
    t.add_column(f"{lb('previous')} {prev.get('period', '')}", justify="right")
    t.add_column(lb("change"), justify="right")
    for key in now:
        fmt = _pct if key in rates else num
        _row(t, lb(key), fmt(now[key]), fmt(prev.get(key)),
                  _chg(r.get("change", {}).get(key), key in rates))
    out.append(t)
    g = Table(title=lb("by_kind"), title_justify="left")
    for col in ("kind", "due", "performed", "performed_rate", "successful", "success_rate"):
        g.add_column(lb(col), justify="left" if col == "kind" else "right")
    rows = [(rl.kind(k, lang), v, "") for k, v in cb["by_kind"].items()]
    for name, v, style in rows + [(lb("total"), cb["total"], "bold")]:
        _row(g, name, str(v["due"]), str(v["performed"]), _pct(v["performed_rate"]),
                  str(v["successful"]), _pct(v["success_rate"]), style=style)
    out.append(g)
    wd = r["work_done"]
    w = Table(title=lb("work_done"), title_justify="left")
    outcomes = sorted({o for v in wd["by_clerk"].values() for o in v["outcomes"]},
                      key=lambda o: list(rl.OUTCOMES).index(o) if o in rl.OUTCOMES else 99)
    for col in [lb("clerk"), lb("calls"), lb("tasks_called"), lb("successful_calls")] + [
            rl.outcome(o, lang) for o in outcomes]:
        w.add_column(col, justify="left" if col == lb("clerk") else "right")
    for name, v in wd["by_clerk"].items():
        _row(w, cell(name), str(v["calls"]), str(v["tasks"]), str(v["successful"]),
                  *[str(v["outcomes"].get(o, 0)) for o in outcomes])
    _row(w, lb("total"), str(wd["total"]["calls"]), "", str(wd["total"]["successful"]),
              *["" for _ in outcomes], style="bold")
    out.append(w)
    sat = r["satisfaction"]
    st = Table(title=f"{lb('satisfaction')} ({lb('satisfied_share')} >= {sat['satisfied_from']}: "
                     f"{_pct(sat['satisfied'])}, {sat['satisfied']['num']}/"
                     f"{sat['satisfied']['den']})", title_justify="left")
    scale = list(next(iter(sat["questions"].values()))["distribution"])
    for col in [lb("question"), lb("answers"), lb("average")] + scale:
        st.add_column(col, justify="left" if col == lb("question") else "right")
    for q, v in sat["questions"].items():
        _row(st, rl.question(q, lang), str(v["answers"]),
                   "-" if v["average"] is None else f"{v['average']:.2f}",
                   *[str(n) for n in v["distribution"].values()])
    out.append(st)
    ba = r["by_advisor"]
    at = Table(title=lb("by_advisor"), title_justify="left")
    at.add_column(lb("advisor"))
    for q in sat["questions"]:
        at.add_column(rl.question(q, lang), justify="right")
    for a in ba["advisors"]:
        _row(at, cell(a["advisor"] or lb("no_advisor")), *[
            "-" if v["average"] is None else f"{v['average']:.2f} ({v['answers']})"
            for v in a["questions"].values()])
    at.caption = (f"{lb('coach')} ({rl.question(ba['coach_question'], lang)}, >= "
                  f"{ba['coach_min_answers']} {lb('answers')}): "
                  + (", ".join(f"{c['advisor']} {c['average']:.2f} ({c['answers']})"
                               for c in ba["coach"]) or lb("none")))
    at.caption_justify = "left"
    out.append(at)
    k, p = r["complaints"], r["problems"]
    ct = Table(title=f"{lb('complaints')} / {lb('problems')} / {lb('lost')}", title_justify="left")
    ct.add_column("")
    ct.add_column("", overflow="fold")

    def hours(x):
        return "-" if x["average_hours"] is None else f"{x['average_hours']:.1f} (n={x['count']})"

    res = k["resolution"]
    _row(ct, lb("complaints"), f"{lb('opened')} {k['opened']}, {lb('closed')} {k['closed']}, "
                                f"{lb('overdue')} {k['overdue']}")
    _row(ct, lb("severity"), ", ".join(f"{rl.severity(s_, lang)} {n}"
                                        for s_, n in k["by_severity"].items()) or "-")
    _row(ct, lb("to_escalation"), hours(k["to_escalation"]))
    _row(ct, lb("to_reply"), hours(k["to_reply"]))
    _row(ct, lb("resolution_satisfied"), str(res["satisfied"]))
    _row(ct, lb("resolution_not_satisfied"), str(res["not_satisfied"]))
    _row(ct, lb("resolution_pending"), str(res["pending"]))
    _row(ct, lb("category"), cell(", ".join(f"{c['category']} {c['count']}"
                                             for c in p["complaint_categories"]) or "-"))
    _row(ct, lb("tag"), cell(", ".join(f"#{t_['tag']} {t_['count']}" for t_ in p["note_tags"])
                              or "-"))
    lost = r["lost_customers"]
    _row(ct, lb("lost"), f"{lb('recovery_due')} {lost['recovery_due']}, {lb('recovery_reached')} "
                          f"{lost['reached']}, {lb('won_back')} {lost['won_back']}")
    _row(ct, lb("reason"), cell(", ".join(f"{x['reason']} {x['count']}" for x in lost["reasons"])
                                 or "-"))
    e = r["reminder_effect"]
    _row(ct, f"{lb('return_rate')} ({e['window_days']})",
               "; ".join(f"{lb(kind)} {_pct(e[kind])} ({e[kind]['num']}/{e[kind]['den']}), "
                         f"{rl.outcome('done_elsewhere', lang)} {e['done_elsewhere'][kind]}"
                         for kind in ("maintenance", "warranty_check", "recovery")))
    hr = r["holding_rate"]
    _row(ct, lb("holding_rate"), f"{_pct(hr)} ({hr['num']}/{hr['den']})")
    out.append(ct)
    a = r["actions"]
    xt = Table(title=f"{lb('actions')}: {lb('opened')} {a['opened']}, {lb('done')} {a['done']}, "
                     f"{lb('overdue')} {a['overdue']}", title_justify="left")
    for col in ("action", "owner", "deadline", "approved", "state", "metric", "before", "after"):
        xt.add_column(lb(col), overflow="fold")
    for x in a["list"]:
        fmt = _pct if x["metric"] in rates else num
        _row(xt, cell(x["text"]), cell(x["owner"]),
                   Text(x["deadline"], style="bold red" if x["overdue"] else ""),
                   cell(x["approved_by"]) if x["approved_at"] else lb("not_approved"),
                   lb(x["state"]), lb(x["metric"]) if x["metric"] else "-",
                   fmt(x["effect_before"]) + (f" ({x['effect_before_period']})"
                                              if x["effect_before_period"] else ""),
                   fmt(x["effect_after"]) + (f" ({x['effect_after_period']})"
                                             if x["effect_after_period"] else ""))
    out.append(xt)
    return out


FOLLOW_UP_TITLES = {"unsatisfied": N_("Unsatisfied customers"),
                    "unreached": N_("Unreached customers")}


def follow_up_table(rows: list[dict], which: str) -> Table:
    t = _table(_(FOLLOW_UP_TITLES.get(which, which)),
               (N_("Task"), N_("Kind"), N_("Customer"), N_("Clerk"), N_("When"), N_("Detail"),
                N_("Since")), overflow="fold")
    for r in rows:
        if which == "unsatisfied":
            detail = " ".join(f"{label('question', q)}={v}" for q, v in r["scores"].items())
            if r["note"]:
                detail += f"; {r['note']}"
            when = r["called_at"]
        else:
            detail = _("{count} tries, {state}").format(
                count=r["attempts"], state=label("state", r["task_state"])) + (
                f" ({reason_text(r['state_reason'])})" if r["state_reason"] else "")
            when = r["due_date"]
        _row(t, str(r["task_id"]), label("kind", r["kind"]),
             f"{r['customer'] or ''}\n{r['mobile'] or ''}", r["clerk"] or "-", when, detail,
             since_text(r["since"]))
    t.caption = _("{count} rows").format(count=len(rows))
    return t


def since_text(text: str | None) -> str:
    """What happened since (``stats._since``): its parts, each in this run's language."""
    return "; ".join(reason_text(part) for part in (text or "").split("; "))
