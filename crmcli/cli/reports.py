"""The reports: classify (value classes), retention, and stats with its follow-up lists."""

from datetime import date
from pathlib import Path
from typing import Annotated, Optional

import typer

from .. import clock
from ..errors import UsageError
from ..i18n import _
from .base import (
    DateOpt,
    JsonOpt,
    KindOpt,
    QuietOpt,
    State,
    app,
    emit_json,
    handle_errors,
    out,
    parse_day,
    say,
)
from .helptext import App

stats_app = App(help="The monthly (or weekly) callback report, and the lists behind it.",
                        invoke_without_command=True)
app.add_typer(stats_app, name="stats")


@app.command("classify")
@handle_errors
def classify_cmd(
    ctx: typer.Context,
    day: DateOpt = None,
    explain: Annotated[Optional[str], typer.Option(
        "--explain", help="Show one customer's class and why (phone, plate, name or #id).")] = None,
    changes: Annotated[bool, typer.Option(
        "--changes", help="List who moved between classes in the last run (A->B first).")] = False,
    since: Annotated[Optional[str], typer.Option(
        "--since", help="With --changes: every move since this day (YYYY-MM-DD).")] = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Classify every customer (A loyal, B opportunity, C marginal, D lost) and show the counts."""
    from .. import classify, customers, render

    since_day = parse_day(since, "--since")
    state: State = ctx.obj
    if explain:
        c = customers.get_one(state.db, explain)
        e = classify.explain(state.db, c["id"])
        if e is None:
            raise UsageError(_("no classification yet; run `crmcli classify` first"))
        if as_json:
            emit_json(dict(e, customer_id=c["id"]))
        else:
            from ..choices import label
            from ..render import reason_text

            say(_("#{id} {name}: {cls} because: {reason} (vehicle age: {band}, classified for "
                  "{day})").format(
                id=c["id"], name=c["name"] or "", cls=f"{e['value_class']} "
                f"{label('class', e['value_class'])}", reason=reason_text(e["reason"]),
                band=classify.band_label(e["age_band"], state.settings["classes"])
                if e["age_band"] in classify.BANDS else e["age_band"], day=e["day"]))
            for v in e["vehicles"]:
                years = "?" if v["years"] is None else _("{n} years").format(n=v["years"])
                say(f"  {v['plate'] or v['vin'] or '-'}: {years}, {reason_text(v['source'])}")
        return
    if changes:
        moves = classify.changes(state.db, since_day)
        if as_json:
            emit_json(moves)
        else:
            out().print(render.changes_table(moves))
        return
    when = parse_day(day) or date.today()
    result = classify.run(state.db, when, state.settings)
    m = classify.matrix(state.db)
    if as_json:
        emit_json(dict(result, **m))
        return
    if quiet:  # the nightly job: classes stored, nothing to read
        return
    labels = {b: classify.band_label(b, state.settings["classes"]) for b in classify.BANDS}
    for part in render.class_matrix(m, labels):
        out().print(part)
    say(_("{count} customers classified for {day}; {moved} moved since the last run (see "
          "--changes)").format(count=result["customers"], day=when, moved=result["changed"]))


@app.command("retention")
@handle_errors
def retention_cmd(ctx: typer.Context, day: DateOpt = None, as_json: JsonOpt = False) -> None:
    """Customer holding rate and active customer ratio by vehicle age in years."""
    from .. import stats

    state: State = ctx.obj
    when = parse_day(day) or date.today()
    r = stats.retention(state.db, when,
                        active_days=state.settings["classes"]["c_no_paid_visit_days"])
    if as_json:
        emit_json(r)
        return
    from .. import render

    out().print(render.retention_table(r))





MonthOpt = Annotated[Optional[str], typer.Option(
    "--month", help="The month to report: 2026-11, 2026/11, 2026年11月, or 11 alone for the last "
    "November; default: the month of --date (today).")]
WeekOpt = Annotated[Optional[str], typer.Option(
    "--week", help="Report the Monday-Sunday week containing this day (YYYY-MM-DD) instead.")]
ClerkOpt = Annotated[Optional[str], typer.Option("--clerk", help="Only this clerk's calls.")]


def check_clerk(db, clerk: str | None) -> None:
    """A clerk who never made a call is a typo, not a clerk with no calls: say so (exit 2)."""
    if not clerk:
        return
    known = [r[0] for r in db.conn.execute(
        "SELECT DISTINCT clerk FROM calls WHERE clerk IS NOT NULL ORDER BY clerk")]
    if clerk not in known:
        from ..errors import UsageError

        raise UsageError(_("--clerk: no calls by {clerk!r}; clerks with calls: {known}").format(
            clerk=clerk, known=", ".join(known) or _("none yet")))


def _period(month, week, day):
    return dict(month=month, week=parse_day(week, "--week"), today=parse_day(day) or date.today())


@stats_app.callback()
@handle_errors
def stats_cmd(
    ctx: typer.Context,
    month: MonthOpt = None,
    week: WeekOpt = None,
    clerk: ClerkOpt = None,
    kind: KindOpt = None,
    xlsx: Annotated[Optional[Path], typer.Option(
        "--xlsx", help="Also write the report to this .xlsx workbook (charts included).",
        show_default=False)] = None,
    day: DateOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The callback report: due, performed, successful, satisfaction, complaints, actions."""
    if ctx.invoked_subcommand is not None:
        ctx.meta["stats_period"] = _period(month, week, day)
        ctx.meta["stats_clerk"] = clerk
        return
    from .. import report_labels, stats

    if xlsx is not None:  # refused before the report is worked out, not after
        from ..files import check_output

        check_output(xlsx, option="--xlsx", suffixes=(".xlsx",))
    state: State = ctx.obj

    from ..choices import resolve_all

    kind = resolve_all("kind", kind, "--kind")
    check_clerk(state.db, clerk)
    now = f"{day} 24:00" if day else clock.minute(clock.now())
    r = stats.report(state.db, state.settings, clerk=clerk, kinds=kind, now=now,
                     **_period(month, week, day))
    if xlsx is not None:
        from ..excel import write_report_xlsx

        write_report_xlsx(xlsx, r, report_labels.definitions(state.settings, "zh"))
    if as_json:
        emit_json(r)
        return
    from .. import render

    console = out()
    lang = report_labels.language()
    for part in render.report_tables(r, lang):
        console.print(part)
    for line in report_labels.definitions(state.settings, lang):
        say(f"  - {line}", console)
    if xlsx is not None:
        say(_("Workbook written to {path}").format(path=xlsx), console)


def _follow_up(ctx: typer.Context, which: str, as_json: bool, month, week, clerk, day) -> None:
    """The group's --month/--week/--clerk/--date, or the same options given after the
    subcommand (``stats unsatisfied --month 11``, as a clerk types it), which win."""
    from .. import render, stats

    state: State = ctx.obj
    period = dict(ctx.meta["stats_period"])
    if month is not None or week is not None:
        period.update(month=month, week=parse_day(week, "--week"))
    if day is not None:
        period["today"] = parse_day(day)
    clerk = clerk if clerk is not None else ctx.meta.get("stats_clerk")
    check_clerk(state.db, clerk)
    rows = stats.follow_up(state.db, state.settings, which, clerk=clerk, **period)
    if as_json:
        emit_json(rows)
        return
    out().print(render.follow_up_table(rows, which))


@stats_app.command("unsatisfied")
@handle_errors
def stats_unsatisfied(ctx: typer.Context, month: MonthOpt = None, week: WeekOpt = None,
                      clerk: ClerkOpt = None, day: DateOpt = None,
                      as_json: JsonOpt = False) -> None:
    """Customers who gave any score below the satisfied threshold, and what happened since.

    \b
    Examples:
      crmcli stats unsatisfied --month 2026-11
      crmcli stats unsatisfied --month 11 --clerk 王芳
    """
    _follow_up(ctx, "unsatisfied", as_json, month, week, clerk, day)


@stats_app.command("unreached")
@handle_errors
def stats_unreached(ctx: typer.Context, month: MonthOpt = None, week: WeekOpt = None,
                    clerk: ClerkOpt = None, day: DateOpt = None,
                    as_json: JsonOpt = False) -> None:
    """Call tasks of the period that were tried but never reached, and what happened since.

    \b
    Example:
      crmcli stats unreached --month 2026年11月
    """
    _follow_up(ctx, "unreached", as_json, month, week, clerk, day)
