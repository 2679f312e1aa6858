"""The day's work: plan the day, and today's list of whom to call or text."""

import json
import sys
from datetime import date
from typing import Annotated, Optional

import typer

from ..i18n import _
from ..limits import INT_MAX
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

# The table's default length: the most urgent screenful or two; the rest is counted
# below it and is one --limit or --json away.
TODAY_ROWS = 25
# today --json writes this many tasks at a time (C-speed encoding, bounded memory).
JSON_CHUNK = 1000


@app.command("plan")
@handle_errors
def plan_cmd(
    ctx: typer.Context,
    day: DateOpt = None,
    force: Annotated[bool, typer.Option("--force", help="Plan every customer again, not only "
                                        "those whose data changed since the day was planned.")
                     ] = False,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Plan the day's care contacts and callbacks; safe to run again (nothing is duplicated).

    A day before the newest day planned is refused: that would rewrite history.

    \b
    Example, in cron before the export:
      crmcli plan --quiet
    """
    from .. import planner

    state: State = ctx.obj
    when = parse_day(day) or date.today()
    result = planner.plan(state.db, when, state.settings, force=force, as_of=date.today())
    if as_json:
        emit_json(result.as_dict())
        return
    if quiet:
        return
    if result.skipped:
        msg = _("{day}: already planned and nothing changed since (use --force to plan again)"
                ).format(day=when)
    else:
        msg = _("{day}: {new} new, {updated} updated, {merged} merged, {withdrawn} withdrawn, "
                "{missed} missed; {open} open tasks").format(
            day=when, new=result.created, updated=result.updated, merged=result.merged,
            withdrawn=result.withdrawn, missed=result.missed, open=result.open)
        if result.scope == "changed":
            msg += _(" (planned again for {count} customers whose data changed)").format(
                count=result.customers)
    say(msg, soft_wrap=True)


@app.command("today")
@handle_errors
def today_cmd(
    ctx: typer.Context,
    day: DateOpt = None,
    kind: KindOpt = None,
    channel: Annotated[Optional[str], typer.Option(
        "--channel", help="Only what is sent by SMS or done by a call today: {channels}.")] = None,
    value_class: Annotated[Optional[str], typer.Option(
        "--class", help="Only customers of this value class: {classes}.")] = None,
    limit: Annotated[Optional[int], typer.Option(
        min=0, max=INT_MAX,
        help="Show at most this many rows; default 25 in the table (a screenful or two,"
             " the most urgent first), all in --json.",
        show_default=False)] = None,
    as_json: JsonOpt = False,
) -> None:
    """Who to call or text today, most urgent first (plans the day first if needed).

    A kind, channel or class is given as its key or its label in either language;
    `+3d` in Due means the task fell due three days ago. Piped or written to a file,
    the table is printed at full width (nothing is cut); --json is for scripts.

    \b
    Examples:
      crmcli today
      crmcli today --kind 修后回访 --channel call
      crmcli today --date 2026-12-08 --json
    """
    from .. import choices, planner

    state: State = ctx.obj
    when = parse_day(day) or date.today()
    kind = choices.resolve_all("kind", kind, "--kind")
    channel = channel and choices.resolve("channel", channel, "--channel")
    value_class = value_class and choices.resolve("class", value_class, "--class")
    newest = planner.newest_planned_day(state.db)
    if newest is None or when >= newest:
        planner.plan(state.db, when, state.settings, as_of=date.today())
    # A day before the newest planned one is shown as it stands: planning it again
    # would rewrite what happened since.
    if limit is None and not as_json:
        limit = TODAY_ROWS
    data = planner.today_list(state.db, when, state.settings, kinds=kind, channel=channel,
                              value_class=value_class, limit=limit)
    if as_json:
        # Today's work only: what falls due on the days off is listed on those days, so a
        # script exporting the day's SMS never sends one early or twice. Written 1,000
        # items at a time: a first day's backlog is tens of megabytes of JSON.
        tasks, write = data["tasks"], sys.stdout.write
        write("[")
        for i in range(0, len(tasks), JSON_CHUNK):
            write((", " if i else "")
                  + json.dumps(tasks[i:i + JSON_CHUNK], ensure_ascii=False)[1:-1])
        write("]\n")
        return
    from .. import render

    console = out()
    items, total = data["tasks"], data["total"]
    print_tasks(console, items, _("{day}: {count} to do").format(day=when, count=total))
    if total > len(items):
        say(_("... {count} more: use --limit, --kind or --json").format(count=total - len(items)),
            console)
    say(render.kind_counts(data["counts"]), console)
    if data["days_off"]:
        print_tasks(console, data["days_off_tasks"], _(
            "Falling due on the days off ({first} to {last}): {count}").format(
            first=data["days_off"][0], last=data["days_off"][-1], count=data["days_off_total"]))
        say(render.kind_counts(data["days_off_counts"]), console)
    legend = render.overdue_legend(items + data["days_off_tasks"])
    if legend:
        say(legend, console)


def print_tasks(console, items: list[dict], title: str) -> None:
    """A table of tasks that never cuts a cell or the id. On a narrow terminal it gives
    way as ``render.GIVE_WAY`` says; piped or written to a file (cron's 80 columns) it
    keeps every column and wraps; when no table fits, one tab-separated line a task."""
    from .. import render

    table = render.fit_today(console, items, title, drop=console.is_terminal)
    if table is not None:
        console.print(table)
        return
    say(title, console)
    console.file.write("".join(line + "\n" for line in render.today_lines(items)))
