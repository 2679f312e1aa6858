"""The customer file: show, list and edit customers, and a vehicle's usage."""

from typing import Annotated, Optional

import typer

from ..errors import UsageError
from ..i18n import N_, _
from ..limits import INT_MAX
from .base import JsonOpt, State, _login, app, emit_json, handle_errors, out, say
from .helptext import App

customer_app = App(help="Look up, list and edit the customer file.", no_args_is_help=True)
app.add_typer(customer_app, name="customer")


@customer_app.command("show")
@handle_errors
def customer_show(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="A phone number, plate, VIN, name, or #id.")],
    show_id: Annotated[bool, typer.Option("--show-id", help="Show the ID number unmasked.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Show one customer's file: details, vehicles, order history with totals, flagged fields."""
    from .. import customers, render

    state: State = ctx.obj
    c = customers.get_one(state.db, query)
    f = customers.customer_file(state.db, c["id"])
    if as_json:
        if not show_id and f["customer"]["id_number"]:
            from ..normalize import mask_id_number

            f["customer"]["id_number"] = mask_id_number(f["customer"]["id_number"])
        if not show_id:
            from ..privacy import mask_value

            for p in f["flags"]:  # a flagged ID number is masked like a valid one
                p["value"] = mask_value(p["field"], p["value"])
        emit_json(f)
        return
    console = out()
    for part in render.customer_panel(f, show_id):
        console.print(part)


@customer_app.command("list")
@handle_errors
def customer_list(
    ctx: typer.Context,
    name: Annotated[Optional[str], typer.Option(help="Part of the name.")] = None,
    phone: Annotated[Optional[str], typer.Option(help="Part of a phone number.")] = None,
    plate: Annotated[Optional[str], typer.Option(help="Part of a plate.")] = None,
    model: Annotated[Optional[str], typer.Option(help="Part of a vehicle model.")] = None,
    no_consent: Annotated[bool, typer.Option("--no-consent", help="Only customers who refused "
                                             "callbacks.")] = False,
    value_class: Annotated[Optional[str], typer.Option(
        "--class", help="Only this value class from the last `crmcli classify`: {classes}.")] = None,
    age: Annotated[Optional[str], typer.Option(
        "--age", help="Only this vehicle age band: warranty, 2-5 (or 3-5), 5+ or unknown.")] = None,
    limit: Annotated[int, typer.Option(min=0, max=INT_MAX, help="At most this many rows.")] = 50,
    offset: Annotated[int, typer.Option(min=0, max=INT_MAX,
                                        help="Skip this many rows first (for paging).")] = 0,
    as_json: JsonOpt = False,
) -> None:
    """List customers with their plates, visits, last visit and spend.

    \b
    Example:
      crmcli customer list --name 王 --class A --limit 20
    """
    from .. import customers, render
    from ..choices import resolve

    value_class = value_class and resolve("class", value_class, "--class")
    rows = customers.list_customers(ctx.obj.db, name=name, phone=phone, plate=plate, model=model,
                                    no_consent=no_consent, value_class=value_class,
                                    age_band=age, limit=limit, offset=offset)
    if as_json:
        emit_json(rows)
        return
    out().print(render.customers_table(rows))


@customer_app.command("edit")
@handle_errors
def customer_edit(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="The customer: phone, plate, VIN, name, or #id.")],
    birthday: Annotated[Optional[str], typer.Option(help="Solar birthday, e.g. 1985-03-05.")] = None,
    lunar_birthday: Annotated[Optional[str], typer.Option(
        "--lunar-birthday", help="Lunar birthday month-day, e.g. 3-5, or 闰4-30 for a leap month.")] = None,
    gender: Annotated[Optional[str], typer.Option(help="男/女 or M/F (for the greeting).")] = None,
    mobile: Annotated[Optional[str], typer.Option(help="Correct the mobile number.")] = None,
    call_time: Annotated[Optional[str], typer.Option(
        "--call-time", help="When the customer prefers calls, e.g. '工作日 18:00后'.")] = None,
    call_phone: Annotated[Optional[str], typer.Option(
        "--call-phone", help="The number the customer wants to be called on.")] = None,
    consent: Annotated[Optional[bool], typer.Option(
        "--consent/--no-consent", help="Whether the customer accepts callbacks.",
        show_default=False)] = None,
    occupation: Annotated[Optional[str], typer.Option(help="Occupation, e.g. 教师.")] = None,
    note: Annotated[Optional[str], typer.Option(help="Replace the notes with this text.")] = None,
) -> None:
    """Edit what exports never carry: birthdays, call time and number, consent, notes."""
    from .. import customers

    changes = {k: v for k, v in {
        "birthday": birthday, "lunar_birthday": lunar_birthday, "gender": gender,
        "mobile": mobile, "preferred_call_time": call_time, "preferred_phone": call_phone,
        "callback_consent": consent, "occupation": occupation, "notes": note,
    }.items() if v is not None}
    if not changes:
        raise UsageError(_("nothing to change; see crmcli customer edit --help"))
    state: State = ctx.obj
    c = customers.get_one(state.db, query)
    user = _login()
    changed = customers.edit(state.db, c["id"], changes, by=user)
    from ..fields import field_label

    msg = f"#{c['id']} {c['name'] or ''}: " + (
        _("changed {fields}").format(fields=", ".join(field_label(f) for f in changed)) if changed
        else _("nothing changed"))
    say(msg)


@customer_app.command("forget")
@handle_errors
def customer_forget(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="The customer: phone, plate, VIN, name, or #id.")],
    yes: Annotated[bool, typer.Option("--yes", help="Erase without asking (for scripts).")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Erase a customer's personal data everywhere (PIPL): names, phones, ID number,
    birthdays, notes, the change log's values, call notes, complaint texts.

    Orders, vehicles and the monthly figures stay, with no name attached; that it was
    done, by whom and when is recorded. It cannot be undone (a backup still holds the
    data: keep backups as long as the law allows, no longer).
    """
    import sys

    from .. import clock, customers, privacy

    state: State = ctx.obj
    c = customers.get_one(state.db, query)
    if not yes:
        if not sys.stdin.isatty():
            raise UsageError(_("forgetting cannot be undone: add --yes to confirm"))
        say(_("Erase every personal detail of #{id} {name} {phone}? Type yes: ").format(
            id=c["id"], name=c["name"] or "", phone=privacy.mask_phone(c["mobile"])), end="")
        if sys.stdin.readline().strip().lower() not in ("yes", "是"):
            say(_("nothing erased"))
            raise typer.Exit(0)
    r = privacy.forget(state.db, c["id"], by=_login(), now=clock.stamp())
    if as_json:
        emit_json(r)
        return
    say(_("customer #{id} forgotten: personal data erased from the record, {calls} calls, "
          "{complaints} complaints, {changes} change-log entries, {flagged} flagged cells, "
          "{sms} SMS; {withdrawn} open tasks withdrawn; orders and figures kept").format(
        id=r["customer_id"], calls=r["calls"], complaints=r["complaints"],
        changes=r["change_log_values"], flagged=r["flagged_cells"], sms=r["sms_sent"],
        withdrawn=r["tasks_withdrawn"]))


@app.command("vehicle-usage")
@handle_errors
def vehicle_usage(
    ctx: typer.Context,
    vehicle: Annotated[str, typer.Argument(help="The vehicle's plate or VIN.")],
    usage: Annotated[str, typer.Argument(help="private, official or commercial (私家车/公务车/营运车).")],
) -> None:
    """Set a vehicle's usage by hand; it then beats what imports say or guess."""
    from .. import customers

    r = customers.set_usage(ctx.obj.db, vehicle, usage, by=_login())
    from ..choices import label

    say(_("{vehicle}: usage {old} -> {new}").format(
        vehicle=r["plate"] or vehicle, old=label("usage", r["old"]) if r["old"] else _("unknown"),
        new=label("usage", r["new"])))


@customer_app.command("duplicates")
@handle_errors
def customer_duplicates(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """List customers (and vehicles) that may be one, with the evidence: the same ID number,
    the same name on the same car, numbers one digit apart, VINs one character apart on a plate.

    Merge a pair with `crmcli customer merge KEEP OTHER` (or `crmcli vehicle merge`).
    """
    from .. import duplicates, render

    pairs = duplicates.suspected(ctx.obj.db)
    if as_json:
        emit_json(pairs)
        return
    out().print(render.duplicates_table(pairs))


def _merge_command(ctx: typer.Context, kind: str, keep: Optional[str], other: Optional[str],
                   undo: Optional[int], as_json: bool) -> None:
    from .. import clock, duplicates

    state: State = ctx.obj
    if undo is not None:
        r = duplicates.undo(state.db, undo, by=_login(), now=clock.stamp())
        msg = _("merge #{merge} undone: {kind} #{id} is its own record again").format(
            merge=r["merge_id"], kind=_(KIND_WORDS[kind]), id=r["restored"])
    else:
        if not keep or not other:
            raise UsageError(_("name the {kind} to keep and the one to merge into it, "
                               "or --undo MERGE_ID").format(kind=_(KIND_WORDS[kind])))
        ids = [_vehicle_id(state.db, q) if kind == "vehicle" else _customer_id(state.db, q)
               for q in (keep, other)]
        r = duplicates.merge(state.db, kind, ids[0], ids[1], by=_login(), now=clock.stamp())
        moved = ", ".join(_("{count} {things}").format(count=n, things=_(TABLE_WORDS.get(t, t)))
                          for t, n in r["moved"].items()) or _("nothing else")
        msg = _("merge #{merge}: {kind} #{merged} merged into #{kept} ({moved} moved); undo "
                "with --undo {merge}").format(merge=r["merge_id"], kind=_(KIND_WORDS[kind]),
                                              merged=r["merged"], kept=r["kept"], moved=moved)
    if as_json:
        emit_json(r)
        return
    say(msg)


KIND_WORDS = {"customer": N_("customer"), "vehicle": N_("vehicle")}
# What a merge moves, by table.
TABLE_WORDS = {"repair_orders": N_("orders"), "vehicles": N_("vehicles"), "tasks": N_("tasks"),
               "calls": N_("calls"), "complaints": N_("complaints"), "changes": N_("changes"),
               "vehicle_owners": N_("owners"), "optouts": N_("opt-outs"),
               "classifications": N_("classifications"), "sms_ledger": N_("SMS sent")}


def _customer_id(db, query: str) -> int:
    from .. import customers

    return customers.get_one(db, query)["id"]


def _vehicle_id(db, query: str) -> int:
    import re

    from ..errors import NotFound
    from ..normalize import halfwidth

    q = query.strip()
    if re.fullmatch(r"#\d{1,9}", q):
        return int(q[1:])
    cleaned = halfwidth(q).upper().replace(" ", "").replace("·", "")
    rows = db.conn.execute("SELECT id FROM vehicles WHERE vin = ? OR plate = ?",
                           (cleaned, cleaned)).fetchall()
    if len(rows) != 1:
        if not rows:
            raise NotFound(_("no vehicle with plate or VIN {query!r}").format(query=query))
        raise UsageError(_("{count} vehicles match {query!r}: say which by #id ({ids})").format(
            count=len(rows), query=query, ids=", ".join("#" + str(r[0]) for r in rows)))
    return rows[0][0]


MergeUndo = Annotated[Optional[int], typer.Option(
    "--undo", help="Undo this merge (its number, as the merge printed it).", show_default=False)]


@customer_app.command("merge")
@handle_errors
def customer_merge(
    ctx: typer.Context,
    keep: Annotated[Optional[str], typer.Argument(
        help="The customer to keep: phone, plate, VIN, name, or #id.", show_default=False)] = None,
    other: Annotated[Optional[str], typer.Argument(
        help="The duplicate to merge into it (#id is safest).", show_default=False)] = None,
    undo: MergeUndo = None,
    as_json: JsonOpt = False,
) -> None:
    """Merge a duplicate customer into another: orders, cars, calls, tasks, complaints and
    the change history move to the one kept; its numbers are kept. Recorded, and undone
    with --undo MERGE_ID; a later import does not split them again."""
    _merge_command(ctx, "customer", keep, other, undo, as_json)


vehicle_app = App(help="Vehicles: merge a car recorded twice.", no_args_is_help=True)
app.add_typer(vehicle_app, name="vehicle")


@vehicle_app.command("merge")
@handle_errors
def vehicle_merge(
    ctx: typer.Context,
    keep: Annotated[Optional[str], typer.Argument(
        help="The vehicle to keep: plate, VIN or #id.", show_default=False)] = None,
    other: Annotated[Optional[str], typer.Argument(
        help="The duplicate to merge into it: VIN or #id.", show_default=False)] = None,
    undo: MergeUndo = None,
    as_json: JsonOpt = False,
) -> None:
    """Merge a car recorded twice (a mistyped VIN) into the right one: its orders, owners
    and tasks move. Recorded, and undone with --undo MERGE_ID."""
    _merge_command(ctx, "vehicle", keep, other, undo, as_json)
