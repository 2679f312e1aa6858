"""The day's work: plan the day, and today's list of whom to call or text."""

import json
import sys
from datetime import date
from typing import Annotated, Optional

import typer

from ..errors import UsageError
from ..limits import INT_MAX
from .base import DateOpt, JsonOpt, State, app, emit_json, handle_errors, out, parse_day, say

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
) -> None:
    """Plan the day's care contacts and callbacks; safe to run again (nothing is duplicated).

    A day before the newest day planned is refused: that would rewrite history.
    """
    from .. import planner

    state: State = ctx.obj
    when = parse_day(day) or date.today()
    result = planner.plan(state.db, when, state.settings, force=force, as_of=date.today())
    if as_json:
        emit_json(result.as_dict())
        return
    if result.skipped:
        msg = f"{when}: already planned and nothing changed since (use --force to plan again)"
    else:
        msg = (f"{when}: {result.created} new, {result.updated} updated, {result.merged} merged,"
               f" {result.withdrawn} withdrawn, {result.missed} missed; {result.open} open tasks")
        if result.scope == "changed":
            msg += f" (planned again for {result.customers} customers whose data changed)"
    say(msg, soft_wrap=True)


@app.command("today")
@handle_errors
def today_cmd(
    ctx: typer.Context,
    day: DateOpt = None,
    kind: Annotated[Optional[list[str]], typer.Option(
        "--kind", help="Only this kind of task (repeat for more), e.g. post_repair.")] = None,
    channel: Annotated[Optional[str], typer.Option(
        "--channel", help="Only what is sent by 'sms' or done by 'call' today.")] = None,
    value_class: Annotated[Optional[str], typer.Option(
        "--class", help="Only customers of this value class (A, B, C or D).")] = None,
    limit: Annotated[Optional[int], typer.Option(
        min=0, max=INT_MAX,
        help="Show at most this many rows; default 25 in the table (a screenful or two,"
             " the most urgent first), all in --json.",
        show_default=False)] = None,
    as_json: JsonOpt = False,
) -> None:
    """Who to call or text today, most urgent first (plans the day first if needed)."""
    from .. import planner

    state: State = ctx.obj
    when = parse_day(day) or date.today()
    if channel not in (None, "sms", "call"):
        raise UsageError("--channel takes sms or call")
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
    console.print(render.today_table(items, f"{when}: {total} to do"))
    if total > len(items):
        say(f"... {total - len(items)} more: use --limit, --kind or --json", console)
    say(render.kind_counts(data["counts"]), console)
    if data["days_off"]:
        off = f"{data['days_off'][0]} to {data['days_off'][-1]}"
        console.print(render.today_table(data["days_off_tasks"], f"Falling due on the days off"
                                                                 f" ({off}): {data['days_off_total']}"))
        say(render.kind_counts(data["days_off_counts"]), console)
