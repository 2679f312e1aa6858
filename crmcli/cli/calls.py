"""Calls and what follows them: log, the call session, complaints and actions."""

from datetime import date
from typing import Annotated, Optional

import typer

from .. import clock
from ..i18n import N_, _
from .base import (
    AtOpt,
    ByOpt,
    DateOpt,
    JsonOpt,
    State,
    _clerk,
    app,
    emit_json,
    handle_errors,
    out,
    parse_day,
    say,
)
from .helptext import App

complaint_app = App(help="Open and follow complaints (抱怨/投诉) to the end.",
                            no_args_is_help=True)
action_app = App(help="Corrective and preventive actions (整改/预防措施).",
                         no_args_is_help=True)
app.add_typer(complaint_app, name="complaint")
app.add_typer(action_app, name="action")


def _score_opt(name: str):
    return Annotated[Optional[int], typer.Option(f"--{name}", help=f"Score for {name} (on the "
                                                 "dealer's scale, 1-5 by default).",
                                                 show_default=False)]


@app.command("log")
@handle_errors
def log_cmd(
    ctx: typer.Context,
    task_id: Annotated[int, typer.Argument(help="The task id from `crmcli today`.")],
    outcome: Annotated[str, typer.Option(
        "--outcome", "-o", help="reached, no_answer, busy (call later), wrong_number, refused, "
        "not_owner, booked (a reminder call that booked a visit: give --appointment) or "
        "done_elsewhere (serviced, insured or inspected elsewhere).")],
    overall: _score_opt("overall") = None,
    advisor: _score_opt("advisor") = None,
    quality: _score_opt("quality") = None,
    timeliness: _score_opt("timeliness") = None,
    price: _score_opt("price") = None,
    cleanliness: _score_opt("cleanliness") = None,
    note: Annotated[Optional[str], typer.Option(help="Free text: what the customer said.")] = None,
    complaint: Annotated[Optional[str], typer.Option(
        help="Open a complaint with this text (it goes to the GM within half a working day).")] = None,
    category: Annotated[Optional[str], typer.Option(
        help="The complaint's category, one of the settings' list: 服务态度, 维修质量, 维修时间, "
        "价格, 配件, 环境卫生, 其他 by default.")] = None,
    severity: Annotated[Optional[str], typer.Option(
        help="The complaint's severity: normal (一般, the default), serious (严重) or major (重大).")
    ] = None,
    satisfied: Annotated[Optional[bool], typer.Option(
        "--satisfied/--not-satisfied", help="On a complaint follow-up call: whether the customer "
        "is satisfied with the resolution (satisfied closes the complaint).",
        show_default=False)] = None,
    reason: Annotated[Optional[str], typer.Option(
        help="On a recovery call: why the customer left, one of the settings' [lost] reasons "
        "(价格, 距离远, 维修质量, 服务态度, 搬迁, 已卖车, 其他 by default).")] = None,
    call_at: Annotated[Optional[str], typer.Option(
        "--call-at", help="With busy: when the customer asked to be called, '2026-11-27 15:00'.")] = None,
    phone: Annotated[Optional[str], typer.Option(
        help="The right number, when the customer was reached on another one (corrects the file).")] = None,
    reminded: Annotated[bool, typer.Option(
        "--reminded", help="The next-maintenance date was told to the customer.")] = False,
    appointment: Annotated[Optional[str], typer.Option(
        "--appointment", help="With booked: the visit booked, '2026-12-01 09:00'. If the car"
        " has not come by the day after, a no-show follow-up call is planned.")] = None,
    elsewhere: Annotated[Optional[str], typer.Option(
        "--elsewhere", help="With done_elsewhere: what and where, e.g. '在别家保养'.")] = None,
    by: ByOpt = None,
    at: AtOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Log one call on a task: its outcome, scores, note, complaint or a time to call back."""
    from .. import calls

    state: State = ctx.obj
    result = calls.log_call(
        state.db, task_id, outcome, state.settings, by=_clerk(by),
        at=calls.parse_when(at, what="--at", past_only=True),
        scores={"overall": overall, "advisor": advisor, "quality": quality,
                "timeliness": timeliness, "price": price, "cleanliness": cleanliness},
        note=note, complaint=complaint, category=category,
        call_at=calls.parse_when(call_at, what="--call-at"),
        phone=phone, reminded=reminded, severity=severity, resolution_ok=satisfied,
        lost_reason=reason, appointment=calls.parse_when(appointment), elsewhere=elsewhere)
    if as_json:
        emit_json(result)
        return
    say(_log_line(result), soft_wrap=True)


def _log_line(r: dict) -> str:
    from ..choices import label
    from ..render import reason_text

    outcome, state = label("outcome", r["outcome"]), label("state", r["task_state"])
    if r.get("already_logged"):
        return _("task #{task}: this call ({outcome} at {at}) was already logged as call #{call};"
                 " recorded once, nothing changed (the task is {state})").format(
            task=r["task_id"], outcome=outcome, at=r["called_at"], call=r["call_id"], state=state)
    msg = _("task #{task}: {outcome} -> {state}").format(task=r["task_id"], outcome=outcome,
                                                         state=state)
    if r.get("task_reason"):
        msg += f" ({reason_text(r['task_reason'])})"
    if r.get("next_try"):
        msg += _(", next try {day}").format(day=r["next_try"])
    if r.get("used_try") is False:
        msg += _(" (a second no-answer today: kept, no try used)")
    if r.get("released"):
        msg += _("; {count} combined task(s) back on their own").format(count=r["released"])
    if r.get("complaint_id"):
        msg += (_("; complaint #{id} {state}").format(
                    id=r["complaint_id"], state=label("complaint_state", r["complaint_state"]))
                if r.get("complaint_state") else
                _("; complaint #{id} opened").format(id=r["complaint_id"]))
    if r.get("phone_corrected"):
        msg += _("; mobile corrected to {phone}").format(phone=r["phone_corrected"])
    return msg


@app.command("call")
@handle_errors
def call_cmd(ctx: typer.Context, day: DateOpt = None, by: ByOpt = None) -> None:
    """Work through today's calls one customer at a time; every answer is saved at once.

    Keys: r reached, n no answer, b busy/call later, w wrong number, x refused,
    o not the owner, s skip, q quit. Quitting (or Ctrl-C) loses nothing: the
    next `crmcli call` goes on with what is left.
    """
    from .. import session

    state: State = ctx.obj
    when = parse_day(day) or date.today()
    session.run(state.db, state.settings, when, _clerk(by), out())


@complaint_app.command("add")
@handle_errors
def complaint_add(
    ctx: typer.Context,
    customer: Annotated[str, typer.Argument(help="The customer: phone, plate, name or #id.")],
    text: Annotated[str, typer.Option("--text", help="What the customer complains about.")],
    category: Annotated[str, typer.Option(
        help="Category, one of the settings' [complaints] categories, e.g. 维修质量, 服务态度, 价格."
    )] = "其他",
    severity: Annotated[Optional[str], typer.Option(
        help="normal (一般, the default), serious (严重) or major (重大).")] = None,
    owner: Annotated[Optional[str], typer.Option(help="Who is responsible for it.")] = None,
    by: ByOpt = None,
    at: AtOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Open a complaint; its escalation and reply deadlines are set in working hours."""
    from .. import calls, customers

    state: State = ctx.obj
    c = customers.get_one(state.db, customer)
    k = calls.add_complaint(state.db, c["id"], category, text, state.settings, by=_clerk(by),
                            at=calls.parse_when(at), owner=owner, severity=severity)
    if as_json:
        emit_json(k)
        return
    say(_("complaint #{id} opened: escalate by {escalate}, reply by {reply}").format(
        id=k["id"], escalate=k["escalate_by"], reply=k["reply_by"]))


def _complaint_step(ctx, complaint_id: int, step: str, note, owner, by, at) -> None:
    from .. import calls

    state: State = ctx.obj
    k = calls.advance(state.db, complaint_id, step, by=_clerk(by), at=calls.parse_when(at),
                      note=note, owner=owner, settings=state.settings)
    if k.get("unchanged"):  # done before: say when and by whom, exit 0 (as `gh issue close`)
        col = {"escalate": "escalated", "reply": "replied", "close": "closed"}[step]
        say({"escalate": _("complaint #{id} was already escalated on {at} by {by}; nothing "
                           "changed"),
             "reply": _("complaint #{id} was already replied to on {at} by {by}; nothing "
                        "changed"),
             "close": _("complaint #{id} was already closed on {at} by {by}; nothing changed"),
             }[step].format(id=k["id"], at=k[f"{col}_at"] or "-", by=k[f"{col}_by"] or "-"))
        return
    from ..choices import label

    msg = _("complaint #{id}: {state}").format(id=k["id"],
                                               state=label("complaint_state", k["state"]))
    if step == "escalate":
        msg += _(", reply by {when}").format(when=k["reply_by"])
    if step == "reply" and k["followup_task_id"]:
        msg += _("; follow-up call task #{task} asks whether the customer is satisfied with the"
                 " resolution").format(task=k["followup_task_id"])
    say(msg)


NoteOpt = Annotated[Optional[str], typer.Option(help="What was done or said.")]
OwnerOpt = Annotated[Optional[str], typer.Option(help="Hand it to this person.")]
ComplaintArg = Annotated[int, typer.Argument(help="The complaint number.")]


@complaint_app.command("escalate")
@handle_errors
def complaint_escalate(ctx: typer.Context, complaint_id: ComplaintArg, note: NoteOpt = None,
                       owner: OwnerOpt = None, by: ByOpt = None, at: AtOpt = None) -> None:
    """Record that the complaint reached the general manager (copy to the service manager)."""
    _complaint_step(ctx, complaint_id, "escalate", note, owner, by, at)


@complaint_app.command("reply")
@handle_errors
def complaint_reply(ctx: typer.Context, complaint_id: ComplaintArg, note: NoteOpt = None,
                    owner: OwnerOpt = None, by: ByOpt = None, at: AtOpt = None) -> None:
    """Record the reply given to the customer; a follow-up call is planned for the next
    working day to ask whether they are satisfied with the resolution."""
    _complaint_step(ctx, complaint_id, "reply", note, owner, by, at)


@complaint_app.command("close")
@handle_errors
def complaint_close(ctx: typer.Context, complaint_id: ComplaintArg, note: NoteOpt = None,
                    owner: OwnerOpt = None, by: ByOpt = None, at: AtOpt = None) -> None:
    """Close an answered complaint by hand (e.g. the customer cannot be reached for the
    follow-up call, which is withdrawn). Normally the follow-up call's answer closes it."""
    _complaint_step(ctx, complaint_id, "close", note, owner, by, at)


@complaint_app.command("show")
@handle_errors
def complaint_show(ctx: typer.Context, complaint_id: ComplaintArg, as_json: JsonOpt = False) -> None:
    """Show a complaint with every step: who did what and when."""
    from .. import calls

    k = calls.complaint(ctx.obj.db, complaint_id)
    if as_json:
        emit_json(k)
        return
    console = out()
    from ..choices import label

    say(f"#{k['id']} [{label('complaint_state', k['state'])}] {k['category']}: {k['text']}",
        console)
    say(_("customer #{id} {name} {mobile}; owner {owner}; escalate by {escalate}; reply by "
          "{reply}").format(id=k["customer_id"], name=k["customer_name"] or "",
                            mobile=k["mobile"] or "", owner=k["owner"] or "-",
                            escalate=k["escalate_by"], reply=k["reply_by"]), console)
    for e in k["events"]:
        action = _(COMPLAINT_EVENTS.get(e["action"], e["action"]))
        say(f"  {e['at']}  {e['by']:<10} {action:<9} {e['note'] or ''}", console)


COMPLAINT_EVENTS = {"opened": N_("opened"), "escalate": N_("escalated"), "reply": N_("replied"),
                    "close": N_("closed"), "reopen": N_("reopened")}


@app.command("complaints")
@handle_errors
def complaints_cmd(
    ctx: typer.Context,
    at: Annotated[Optional[str], typer.Option(
        "--at", help="Judge what is overdue as of this time, e.g. '2026-11-27 09:00'; "
        "default now.", show_default=False)] = None,
    include_closed: Annotated[bool, typer.Option("--all", help="Include closed complaints.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """List complaints, overdue ones first and marked.

    \b
    Example:
      crmcli complaints --all
    """
    from .. import calls, render

    now = calls.parse_when(at) or clock.now()
    items = calls.list_complaints(ctx.obj.db, now, include_closed=include_closed)
    if as_json:
        emit_json(items)
        return
    out().print(render.complaints_table(items, now))


@action_app.command("add")
@handle_errors
def action_add(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="What is to be done.")],
    owner: Annotated[str, typer.Option(help="Who does it.")],
    deadline: Annotated[str, typer.Option(help="By when, e.g. 2026-12-20 or 2026/12/20.")],
    preventive: Annotated[bool, typer.Option("--preventive", help="A preventive action "
                                             "(预防措施) rather than a corrective one.")] = False,
    category: Annotated[Optional[str], typer.Option(
        help="The complaint category that prompted it, e.g. 维修质量.")] = None,
    month: Annotated[Optional[str], typer.Option(
        help="The monthly report that prompted it: 2026-11, 2026/11, 2026年11月 or 11.")
    ] = None,
    complaint_id: Annotated[Optional[int], typer.Option(
        "--complaint", help="The complaint that prompted it.")] = None,
    metric: Annotated[Optional[str], typer.Option(
        help="The report figure it is meant to move, e.g. performed_rate, satisfied_share, "
        "score_cleanliness; its value in the --month report (default: last month) is kept as "
        "'before'.")] = None,
    by: ByOpt = None,
    at: AtOpt = None,
    force: Annotated[bool, typer.Option(
        "--force", help="Accept a deadline already past (recording an old action).")] = False,
) -> None:
    """Add a corrective or preventive action with an owner and a deadline.

    \b
    Example:
      crmcli action add "洗车后复查车内" --owner 王经理 --deadline 2026/12/20
    """
    from .. import calls, clock

    state: State = ctx.obj
    when = calls.parse_when(at) or clock.now()
    due = calls.check_deadline(parse_day(deadline, "--deadline"), when, force)
    aid = calls.add_action(state.db, text, owner, due, by=_clerk(by),
                           kind="preventive" if preventive else "corrective", category=category,
                           month=month, complaint_id=complaint_id, metric=metric,
                           settings=state.settings, at=calls.parse_when(at))
    say(_("action #{id} added for {owner}, due {due}").format(id=aid, owner=owner, due=due))


@action_app.command("approve")
@handle_errors
def action_approve(ctx: typer.Context,
                   action_id: Annotated[int, typer.Argument(help="The action number.")],
                   by: ByOpt = None, at: AtOpt = None) -> None:
    """Record the service manager's approval of an action."""
    from .. import calls

    calls.approve_action(ctx.obj.db, action_id, by=_clerk(by), at=calls.parse_when(at))
    say(_("action #{id} approved").format(id=action_id))


@action_app.command("list")
@handle_errors
def action_list(ctx: typer.Context, day: DateOpt = None,
                include_done: Annotated[bool, typer.Option("--all", help="Include done ones.")] = False,
                as_json: JsonOpt = False) -> None:
    """List actions, overdue ones first and marked."""
    from .. import calls, render

    items = calls.list_actions(ctx.obj.db, parse_day(day) or date.today(),
                               include_done=include_done)
    if as_json:
        emit_json(items)
        return
    out().print(render.actions_table(items))


@action_app.command("done")
@handle_errors
def action_done(ctx: typer.Context,
                action_id: Annotated[int, typer.Argument(help="The action number.")],
                note: NoteOpt = None, by: ByOpt = None, at: AtOpt = None,
                as_json: JsonOpt = False) -> None:
    """Mark an action done; its figure's value this month so far is kept as 'after'."""
    from .. import calls

    state: State = ctx.obj
    r = calls.finish_action(state.db, action_id, by=_clerk(by), note=note,
                            at=calls.parse_when(at), settings=state.settings)
    if as_json:
        emit_json(r)
        return
    msg = _("action #{id} done").format(id=action_id)
    if r["metric"]:
        from .. import report_labels

        msg += _("; {metric} in {period} so far: {value}").format(
            metric=report_labels.label(r["metric"], report_labels.language()),
            period=r["after_period"], value="-" if r["after"] is None else f"{r['after']:g}")
    say(msg)
