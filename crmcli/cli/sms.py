"""The SMS channel: the daily export for cron, message templates, opt-outs, broadcasts,
and the platform's reports (``import sms-report``)."""

import os
from datetime import date
from pathlib import Path
from typing import Annotated, Optional

import typer

from .. import clock
from ..errors import DatabaseError, UsageError
from .base import (
    ByOpt,
    DateOpt,
    JsonOpt,
    QuietOpt,
    State,
    _clerk,
    app,
    emit_json,
    handle_errors,
    out,
    parse_day,
)
from .imports import import_app
from ..i18n import _

template_app = typer.Typer(help="The SMS texts and call scripts the settings hold.",
                           no_args_is_help=True)
optout_app = typer.Typer(help="Opt-outs: what a customer declined (all, sms, call, marketing, "
                              "service or one kind), with the reason, the day and who set it.",
                         no_args_is_help=True)
app.add_typer(optout_app, name="optout")
app.add_typer(template_app, name="template")


def _say(text: str) -> None:
    out().print(text, markup=False, highlight=False, soft_wrap=True)


def _existing_db(state: State) -> None:
    """For cron: a database path that does not exist is an error, not a new empty file."""
    from .. import db

    path = Path(state.db_path) if state.db_path is not None else db.default_path()
    if not path.exists():
        raise DatabaseError(_("no database at {path}: check --db or CRMCLI_DB (nothing exported)").format(
                                path=path))


@app.command("export")
@handle_errors
def export_cmd(
    ctx: typer.Context,
    out_dir: Annotated[Path, typer.Option(
        "--out", help="The folder the files go into (it must exist): sms-DAY.csv, sms-DAY.xlsx "
                      "and calls-DAY.xlsx.", show_default=False)],
    day: DateOpt = None,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """The day's SMS file and call list, for cron. Each SMS is sent once: run it again and the
    same files are rewritten, byte for byte; a later run writes only what is new."""
    from .. import export, planner

    state: State = ctx.obj
    _existing_db(state)
    export.check_out_dir(out_dir)
    now = clock.now()
    when = parse_day(day) or now.date()
    planner.plan(state.db, when, state.settings, as_of=now.date())
    result = export.export_day(state.db, when, state.settings, out_dir, now=now)
    if as_json:
        emit_json(result.as_dict())
    elif not quiet:
        print(result.summary(), flush=True)


@template_app.command("preview")
@handle_errors
def template_preview(
    ctx: typer.Context,
    kind: Annotated[str, typer.Argument(help="An SMS kind (birthday, first_maintenance, ...) or "
                                             "a named broadcast text of [sms.broadcasts].")],
    customer: Annotated[Optional[str], typer.Option(
        "--customer", help="Render it for this customer (phone, plate, name or #id) rather "
                           "than a sample one.", show_default=False)] = None,
    day: DateOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Print one rendered SMS with its length in characters and SMS segments (70, or 67 each
    when split)."""
    from .. import messages

    state: State = ctx.obj
    settings = state.settings
    when = parse_day(day) or date.today()
    templates = settings["sms"]["templates"]
    broadcasts = settings["sms"]["broadcasts"]
    if kind in templates:
        sms_kind, template = kind, templates[kind]
    elif kind in broadcasts:
        sms_kind, template = "campaign", broadcasts[kind]
    else:
        raise UsageError(_("no SMS template {kind!r}; kinds: {kinds}").format(
            kind=kind, kinds=", ".join(templates))
            + (_("; broadcasts: {names}").format(names=", ".join(broadcasts)) if broadcasts else ""))
    person = {"name": "张伟", "gender": "M"}
    vehicle = {"plate": "粤B12345", "model": "卡罗拉"}
    if customer:
        from .. import customers

        person = customers.get_one(state.db, customer)
        rows = state.db.conn.execute("SELECT plate, model FROM vehicles WHERE customer_id = ?"
                                     " ORDER BY id LIMIT 1", (person["id"],)).fetchall()
        vehicle = {"plate": rows[0][0], "model": rows[0][1]} if rows else {}
    from ..rules import add_months

    km = settings["care"].get(sms_kind, {}).get("km")
    first = add_months(when, settings["care"]["first_maintenance"]["months"])
    ctx_ = messages.context(person, vehicle, settings, due=when, km=km, holiday="中秋节",
                            first_maintenance=first, today=when)
    text, empty = messages.sms(sms_kind, ctx_, settings, template)
    data = {"kind": kind, "text": text, "length": messages.length(text),
            "segments": messages.segments(text),
            "marketing": sms_kind in messages.MARKETING_SMS,
            "empty": sorted(empty), "missing_settings": messages.empty_dealer_fields(empty)}
    if as_json:
        emit_json(data)
        return
    from ..text import clean

    _say(clean(text))
    _say(_("{length} characters, {segments} SMS").format(length=data["length"],
                                                         segments=data["segments"])
         + (_(" (marketing: ends with the unsubscribe line)") if data["marketing"] else ""))
    if data["missing_settings"]:
        _say(_("warning: empty in the settings: {fields}; export refuses texts that need them"
               ).format(fields=", ".join(data["missing_settings"])))


def _customer_id(state: State, query: str) -> int:
    from .. import customers

    return customers.get_one(state.db, query)["id"]


WhatArg = Annotated[str, typer.Argument(help="all (do not contact), sms, call, marketing, "
                                             "service, or a kind such as birthday.")]
CustomerArg = Annotated[str, typer.Argument(help="The customer: phone, plate, name or #id.")]


@optout_app.command("add")
@handle_errors
def optout_add(
    ctx: typer.Context,
    customer: CustomerArg,
    what: WhatArg,
    reason: Annotated[str, typer.Option("--reason", help="Why, in the customer's words or "
                                        "where it came from.", show_default=False)] = "",
    day: DateOpt = None,
    by: ByOpt = None,
) -> None:
    """Record that a customer declines a kind of contact; their open tasks follow at once."""
    from .. import optouts

    state: State = ctx.obj
    cid = _customer_id(state, customer)
    r = optouts.add(state.db, cid, what, reason=reason, by=_clerk(by),
                    day=parse_day(day) or date.today())
    from ..render import optout_what

    _say((_("customer #{id}: opted out of {what}") if r["added"] else
          _("customer #{id} had opted out of {what} already (kept as it was)")).format(
        id=cid, what=optout_what(r["what"])))


@optout_app.command("remove")
@handle_errors
def optout_remove(ctx: typer.Context, customer: CustomerArg, what: WhatArg,
                  by: ByOpt = None) -> None:
    """The customer agrees again to that kind of contact (from the next plan on)."""
    from .. import optouts

    state: State = ctx.obj
    cid = _customer_id(state, customer)
    optouts.remove(state.db, cid, what, by=_clerk(by))
    from ..render import optout_what

    _say(_("customer #{id}: {what} opt-out removed").format(id=cid, what=optout_what(what)))


@optout_app.command("list")
@handle_errors
def optout_list(
    ctx: typer.Context,
    customer: Annotated[Optional[str], typer.Argument(help="Only this customer.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Every opt-out on file, newest first: customer, what, since, reason, who."""
    from .. import optouts
    from ..text import clean

    state: State = ctx.obj
    rows = optouts.list_all(state.db, _customer_id(state, customer) if customer else None)
    if as_json:
        emit_json(rows)
        return
    if not rows:
        _say(_("no opt-outs on file"))
        return
    from ..render import optout_what, reason_text

    for r in rows:
        _say(_("#{id} {name} {mobile}  {what}  since {since}  {reason}  (by {by})").format(
            id=r["customer_id"], name=clean(r["name"]), mobile=r["mobile"] or "",
            what=optout_what(r["what"]), since=r["since"], reason=clean(reason_text(r["reason"])),
            by=clean(r["by_user"] or "?")))


@optout_app.command("unflag")
@handle_errors
def optout_unflag(
    ctx: typer.Context,
    phone: Annotated[str, typer.Argument(help="The mobile number, e.g. 13812345678.")],
    by: ByOpt = None,
) -> None:
    """Clear a number the SMS platform reported as failing, once it is checked with the
    customer: SMS go to it again."""
    from .. import optouts
    from ..smsreport import mobile_of

    state: State = ctx.obj
    number = mobile_of(phone)
    if number is None:
        raise UsageError(_("{phone!r} is not a mobile number").format(phone=phone))
    optouts.unflag(state.db, number, by=_clerk(by))
    _say(_("{number}: SMS go to it again").format(number=number))


@app.command("broadcast")
@handle_errors
def broadcast_cmd(
    ctx: typer.Context,
    kind: Annotated[str, typer.Argument(help="weather (天气关怀) or campaign (四季关爱).")],
    day: DateOpt = None,
    region: Annotated[Optional[str], typer.Option(
        "--region", help="Only customers whose address lies in this district, e.g. 南山区.",
        show_default=False)] = None,
    value_class: Annotated[Optional[str], typer.Option(
        "--class", help="Only customers of this value class (A, B, C or D).",
        show_default=False)] = None,
    min_age: Annotated[Optional[int], typer.Option(
        "--min-age", help="Only vehicles at least this many years old.", show_default=False)
    ] = None,
    max_age: Annotated[Optional[int], typer.Option(
        "--max-age", help="Only vehicles younger than this many years.", show_default=False)
    ] = None,
    model: Annotated[Optional[str], typer.Option(
        "--model", help="Only vehicles whose model contains this text.", show_default=False)
    ] = None,
    usage: Annotated[Optional[str], typer.Option(
        "--usage", help="Only private, official or commercial vehicles.", show_default=False)
    ] = None,
    template: Annotated[Optional[str], typer.Option(
        "--template", help="A named text of [sms.broadcasts]; default the kind's own template.",
        show_default=False)] = None,
    text: Annotated[Optional[str], typer.Option(
        "--text", help="The text itself, with placeholders such as {greeting}; the signature "
                       "and unsubscribe line are added.", show_default=False)] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Plan without asking (for scripts)."
                                      )] = False,
    by: ByOpt = None,
    as_json: JsonOpt = False,
    quiet: Annotated[bool, typer.Option(
        "--quiet", "-q", help="With --yes: print nothing on success (for scripts); without "
        "--yes the preview is shown all the same, for the question.")] = False,
) -> None:
    """A weather alert or seasonal campaign by SMS: preview the count and one text, confirm,
    then plan the SMS for the day (the next export sends them)."""
    from .. import broadcast

    state: State = ctx.obj
    settings = state.settings
    when = parse_day(day) or date.today()
    if text and template:
        raise UsageError(_("give --text or --template, not both"))
    if template is not None:
        if template not in settings["sms"]["broadcasts"]:
            raise UsageError(_("no broadcast text {template!r} in [sms.broadcasts]").format(
                                 template=template))
        body = settings["sms"]["broadcasts"][template]
    else:
        body = text if text is not None else settings["sms"]["templates"].get(kind, "")
    criteria = broadcast.Criteria(region=region, value_class=value_class, min_age=min_age,
                                  max_age=max_age, model=model, usage=usage)
    choice = broadcast.choose(state.db, settings, kind, criteria, when, body)
    quiet = quiet and yes
    if not as_json and not quiet:
        from ..text import clean

        from ..render import reason_text

        skipped = _(", ").join(_("{count} {why}").format(count=n, why=reason_text(why))
                               for why, n in sorted(choice.skipped.items()))
        _say(_("{day}: {count} customers ({criteria})").format(
            day=when, count=len(choice.chosen), criteria=criteria.describe())
             + (_("; left out: {skipped}").format(skipped=skipped) if skipped else ""))
        _say(clean(choice.sample))
        _say(_("{length} characters, {segments} SMS each").format(
            length=choice.sample_length, segments=choice.sample_segments))
    if not choice.chosen:
        if as_json:
            emit_json(choice.as_dict())
        return
    if not yes:
        if not os.isatty(0) or as_json:
            raise UsageError(_("add --yes to plan it without a question"))
        if not typer.confirm(_("Plan {count} SMS for {day}?").format(
                count=len(choice.chosen), day=when), default=False):
            _say(_("nothing planned"))
            raise typer.Exit(1)
    broadcast.plan(state.db, choice, body, criteria, by=_clerk(by), now=clock.now())
    if as_json:
        emit_json(choice.as_dict())
    elif not quiet:
        _say(_("broadcast #{id}: {count} SMS planned for {day}; `crmcli export` sends them"
               ).format(id=choice.broadcast_id, count=choice.planned, day=when))


@import_app.command("sms-report")
@handle_errors
def import_sms_report(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The SMS platform's delivery report or "
                                              "unsubscribe list (.xlsx, .xls or .csv).")],
    day: DateOpt = None,
    by: ByOpt = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Read back what the SMS platform reports: failed numbers are flagged and their SMS-only
    tasks end not delivered; numbers that replied T/TD/N become opt-outs."""
    from .. import smsreport

    state: State = ctx.obj
    now = clock.now()
    result = smsreport.import_report(state.db, file, state.settings, by=_clerk(by),
                                     day=parse_day(day) or now.date(), now=now)
    if as_json:
        emit_json(result.as_dict())
    elif not quiet:
        _say(result.summary())
