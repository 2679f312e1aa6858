"""The command line: parse arguments, call one core function, render. Nothing else.

Heavy modules (the importer, workbook readers) are imported inside the
commands that need them, so ``crmcli --help`` and ``crmcli today`` stay fast.
Errors from the core (``errors.CrmError``) are turned into one line on stderr
and an exit code in one place: ``handle_errors``.
"""

import functools
import json
import os
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

if TYPE_CHECKING:
    from rich.console import Console

from .errors import CrmError, DatabaseError, UsageError

app = typer.Typer(
    help="crmcli: the after-sales callback desk of a car dealership, on one SQLite file.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,  # locals hold customers' phone numbers
    rich_markup_mode=None,
)
import_app = typer.Typer(help="Import DMS exports (Excel .xlsx/.xls or CSV) into the customer file.",
                         no_args_is_help=True)
customer_app = typer.Typer(help="Look up, list and edit the customer file.", no_args_is_help=True)
complaint_app = typer.Typer(help="Open and follow complaints (抱怨/投诉) to the end.",
                            no_args_is_help=True)
action_app = typer.Typer(help="Corrective and preventive actions (整改/预防措施).",
                         no_args_is_help=True)
app.add_typer(import_app, name="import")
app.add_typer(customer_app, name="customer")
app.add_typer(complaint_app, name="complaint")
app.add_typer(action_app, name="action")
stats_app = typer.Typer(help="The monthly (or weekly) callback report, and the lists behind it.",
                        invoke_without_command=True)
app.add_typer(stats_app, name="stats")


class State:
    def __init__(self, db_path: Optional[Path], settings_path: Optional[Path]):
        self.db_path = db_path
        self.settings_path = settings_path
        self._db = None
        self._settings = None

    @property
    def db(self):
        if self._db is None:
            from . import db

            self._db = db.connect(self.db_path)
        return self._db

    @property
    def settings(self) -> dict:
        if self._settings is None:
            from . import settings

            self._settings = settings.load(self.settings_path)
        return self._settings


def out() -> "Console":
    from rich.console import Console

    return Console()


def err() -> "Console":
    from rich.console import Console

    return Console(stderr=True)


def say_error(message: str) -> None:
    """One line on stderr, never wrapped: cron logs and scripts read it whole."""
    print(f"crmcli: {message}", file=sys.stderr, flush=True)


def handle_errors(fn):
    """The one boundary where core errors become a message on stderr and an exit code."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        import sqlite3

        try:
            return fn(*args, **kwargs)
        except CrmError as exc:
            say_error(exc.message)
            raise typer.Exit(exc.exit_code) from None
        except sqlite3.OperationalError as exc:
            say_error(f"database error: {exc}")
            raise typer.Exit(DatabaseError.exit_code) from None

    return wrapper


def emit_json(data) -> None:
    """What every --json prints: one JSON document on stdout, Chinese kept as is."""
    print(json.dumps(data, ensure_ascii=False, default=str))


def parse_day(value: Optional[str]) -> Optional[date]:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date like 2026-11-26") from None


DateOpt = Annotated[
    Optional[str],
    typer.Option("--date", help="Act as if today were this day (YYYY-MM-DD); default: today."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of tables.")]


@app.callback()
def root(
    ctx: typer.Context,
    db: Annotated[
        Optional[Path],
        typer.Option("--db", help="The database file; default $CRMCLI_DB, else crmcli.db in the "
                     "user's data folder.", show_default=False),
    ] = None,
    settings: Annotated[
        Optional[Path],
        typer.Option("--settings", help="The dealer's settings file (TOML); default "
                     "$CRMCLI_SETTINGS, else settings.toml beside the default database.",
                     show_default=False),
    ] = None,
) -> None:
    """crmcli: the after-sales callback desk of a car dealership, on one SQLite file."""
    import warnings

    def one_line(message, category, filename, lineno, file=None, line=None):
        say_error(f"warning: {message}")

    warnings.showwarning = one_line
    ctx.obj = State(db, settings)


# --------------------------------------------------------------------------- import


def _run_import(ctx: typer.Context, kind: str, files: list[Path], dry_run: bool, force: bool,
                rejects: Optional[Path], as_json: bool, day: Optional[str]) -> None:
    from . import importer
    from .errors import FileRefused

    state: State = ctx.obj
    today = parse_day(day) or date.today()
    if rejects is not None and rejects.suffix.lower() != ".xlsx":
        raise UsageError("--rejects must name an .xlsx file, e.g. --rejects rejects.xlsx")
    if rejects is not None and not rejects.resolve().parent.is_dir():
        raise UsageError(f"--rejects: the folder {rejects.resolve().parent} does not exist")
    aliases = state.settings["import"]["aliases"]
    console, errc = out(), err()
    summaries, worst, reject_sheets = [], 0, {}
    for path in files:
        try:
            result = _import_with_progress(importer, state, path, kind, today, aliases, dry_run,
                                           force, errc)
        except FileRefused as exc:
            if not dry_run:
                importer.record_refusal(state.db, path, kind, exc.message)
            say_error(exc.message)
            summaries.append({"file": str(path), "kind": kind, "status": "refused",
                              "message": exc.message, "exit_code": 2})
            worst = max(worst, 2)
            continue
        summary = result.summary()
        summaries.append(summary)
        worst = max(worst, result.exit_code)
        if rejects is not None and result.problems:
            reject_sheets[Path(path).stem] = importer.rejects_sheet(result)
        if not as_json:
            _render_import(console, result, summary, dry_run)
    if rejects is not None:
        from .excel import write_rows_xlsx

        write_rows_xlsx(rejects, reject_sheets or {"rejects": [["no rejected or flagged rows"]]})
        if not as_json:
            console.print(f"Rejected and flagged rows written to {rejects}", markup=False)
    if as_json:
        emit_json(summaries if len(summaries) > 1 else summaries[0])
    raise typer.Exit(worst)


def _import_with_progress(importer, state, path, kind, today, aliases, dry_run, force, errc):
    if not errc.is_terminal:
        return importer.import_file(state.db, path, kind, today=today, aliases=aliases,
                                    dry_run=dry_run, force=force)
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TextColumn("{task.completed:,} rows"),
                  TimeElapsedColumn(), console=errc, transient=True) as bar:
        task = bar.add_task(f"Importing {Path(path).name}", total=None)
        return importer.import_file(state.db, path, kind, today=today, aliases=aliases,
                                    dry_run=dry_run, force=force,
                                    progress=lambda n: bar.update(task, completed=n))


def _render_import(console: "Console", result, summary: dict, dry_run: bool) -> None:
    from . import render

    if dry_run:
        console.print(f"{result.file}: sheet {result.sheet!r}, header on row {result.header_row}",
                      markup=False, highlight=False, soft_wrap=True)
        console.print(render.mapping_table(result.mapping, result.ignored_columns))
        console.print(render.verdicts_table(result.verdicts))
    elif result.problems:
        console.print(render.problems_table(result.problems))
    console.print(render.import_summary_line(summary), markup=False, highlight=False,
                  soft_wrap=True)
    for warning in result.warnings:
        say_error(f"warning: {result.file}: {warning}")


FilesArg = Annotated[list[Path], typer.Argument(help="One or more .xlsx, .xls or .csv files; "
                                                     "each is imported as one transaction.")]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Show the column mapping and each "
                                         "row's verdict; write nothing.")]
ForceOpt = Annotated[bool, typer.Option("--force", help="Process a file even if the same "
                                        "content was imported before (it still changes nothing "
                                        "that is already stored).")]
RejectsOpt = Annotated[Optional[Path], typer.Option("--rejects", help="Write rejected and flagged "
                                                    "rows, as in the file plus a reason column, "
                                                    "to this .xlsx to fix and re-import.",
                                                    show_default=False)]


@import_app.command("orders")
@handle_errors
def import_orders(ctx: typer.Context, files: FilesArg, dry_run: DryRunOpt = False,
                  force: ForceOpt = False, rejects: RejectsOpt = None, as_json: JsonOpt = False,
                  day: DateOpt = None) -> None:
    """Import repair orders (维修工单) from DMS exports.

    Exit 0 when every row was taken, 1 when some rows were rejected, 2 when a
    file or the arguments were refused.
    """
    _run_import(ctx, "orders", files, dry_run, force, rejects, as_json, day)


@import_app.command("vehicles")
@handle_errors
def import_vehicles(ctx: typer.Context, files: FilesArg, dry_run: DryRunOpt = False,
                    force: ForceOpt = False, rejects: RejectsOpt = None, as_json: JsonOpt = False,
                    day: DateOpt = None) -> None:
    """Import the sales department's delivery list (customers and their vehicles).

    Exit codes as for `import orders`.
    """
    _run_import(ctx, "vehicles", files, dry_run, force, rejects, as_json, day)


# --------------------------------------------------------------------------- customers


@customer_app.command("show")
@handle_errors
def customer_show(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="A phone number, plate, VIN, name, or #id.")],
    show_id: Annotated[bool, typer.Option("--show-id", help="Show the ID number unmasked.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Show one customer's file: details, vehicles, order history with totals, flagged fields."""
    from . import customers, render

    state: State = ctx.obj
    c = customers.get_one(state.db, query)
    f = customers.customer_file(state.db, c["id"])
    if as_json:
        if not show_id and f["customer"]["id_number"]:
            from .normalize import mask_id_number

            f["customer"]["id_number"] = mask_id_number(f["customer"]["id_number"])
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
        "--class", help="Only this value class (A, B, C or D) from the last `crmcli classify`.")] = None,
    age: Annotated[Optional[str], typer.Option(
        "--age", help="Only this vehicle age band: warranty, 2-5 (or 3-5), 5+ or unknown.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many rows.")] = 50,
    offset: Annotated[int, typer.Option(help="Skip this many rows first (for paging).")] = 0,
    as_json: JsonOpt = False,
) -> None:
    """List customers with their plates, visits, last visit and spend."""
    from . import customers, render

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
    from . import customers

    changes = {k: v for k, v in {
        "birthday": birthday, "lunar_birthday": lunar_birthday, "gender": gender,
        "mobile": mobile, "preferred_call_time": call_time, "preferred_phone": call_phone,
        "callback_consent": consent, "occupation": occupation, "notes": note,
    }.items() if v is not None}
    if not changes:
        raise UsageError("nothing to change; see crmcli customer edit --help")
    state: State = ctx.obj
    c = customers.get_one(state.db, query)
    user = os.environ.get("CRMCLI_USER") or _login()
    changed = customers.edit(state.db, c["id"], changes, by=user)
    msg = f"#{c['id']} {c['name'] or ''}: " + (
        ("changed " + ", ".join(changed)) if changed else "nothing changed")
    out().print(msg, markup=False, highlight=False)


@app.command("vehicle-usage")
@handle_errors
def vehicle_usage(
    ctx: typer.Context,
    vehicle: Annotated[str, typer.Argument(help="The vehicle's plate or VIN.")],
    usage: Annotated[str, typer.Argument(help="private, official or commercial (私家车/公务车/营运车).")],
) -> None:
    """Set a vehicle's usage by hand; it then beats what imports say or guess."""
    from . import customers

    r = customers.set_usage(ctx.obj.db, vehicle, usage, by=os.environ.get("CRMCLI_USER") or _login())
    out().print(f"{r['plate'] or vehicle}: usage {r['old'] or 'unknown'} -> {r['new']}",
                markup=False, highlight=False)


# --------------------------------------------------------------------------- classes


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
) -> None:
    """Classify every customer (A loyal, B opportunity, C marginal, D lost) and show the counts."""
    from . import classify, customers, render

    state: State = ctx.obj
    if explain:
        c = customers.get_one(state.db, explain)
        e = classify.explain(state.db, c["id"])
        if e is None:
            raise UsageError("no classification yet; run `crmcli classify` first")
        if as_json:
            emit_json(dict(e, customer_id=c["id"]))
        else:
            out().print(f"#{c['id']} {c['name'] or ''}: {e['value_class']} because: {e['reason']}"
                        f" (vehicle age: {e['age_band']}, classified for {e['day']})",
                        markup=False, highlight=False)
        return
    if changes:
        moves = classify.changes(state.db, parse_day(since))
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
    labels = {b: classify.band_label(b, state.settings["classes"]) for b in classify.BANDS}
    for part in render.class_matrix(m, labels):
        out().print(part)
    out().print(f"{result['customers']} customers classified for {when};"
                f" {result['changed']} moved since the last run (see --changes)", markup=False)


@app.command("retention")
@handle_errors
def retention_cmd(ctx: typer.Context, day: DateOpt = None, as_json: JsonOpt = False) -> None:
    """Customer holding rate and active customer ratio by vehicle age in years."""
    from . import stats

    state: State = ctx.obj
    when = parse_day(day) or date.today()
    r = stats.retention(state.db, when,
                        active_days=state.settings["classes"]["c_no_paid_visit_days"])
    if as_json:
        emit_json(r)
        return
    from . import render

    out().print(render.retention_table(r))


# --------------------------------------------------------------------------- planning


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
    """Plan the day's care contacts and callbacks; safe to run again (nothing is duplicated)."""
    from . import planner

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
    out().print(msg, markup=False, highlight=False, soft_wrap=True)


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
        help="Show at most this many rows; default 25 in the table (a screenful or two,"
             " the most urgent first), all in --json.",
        show_default=False)] = None,
    as_json: JsonOpt = False,
) -> None:
    """Who to call or text today, most urgent first (plans the day first if needed)."""
    from . import planner

    state: State = ctx.obj
    when = parse_day(day) or date.today()
    if channel not in (None, "sms", "call"):
        raise UsageError("--channel takes sms or call")
    planner.plan(state.db, when, state.settings, as_of=date.today())
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
    from . import render

    console = out()
    items, total = data["tasks"], data["total"]
    console.print(render.today_table(items, f"{when}: {total} to do"))
    if total > len(items):
        console.print(f"... {total - len(items)} more: use --limit, --kind or --json",
                      markup=False)
    console.print(render.kind_counts(data["counts"]), markup=False, highlight=False)
    if data["days_off"]:
        off = f"{data['days_off'][0]} to {data['days_off'][-1]}"
        console.print(render.today_table(data["days_off_tasks"], f"Falling due on the days off"
                                                                 f" ({off}): {data['days_off_total']}"))
        console.print(render.kind_counts(data["days_off_counts"]), markup=False, highlight=False)


# --------------------------------------------------------------------------- calls


def _clerk(by: Optional[str]) -> str:
    return by or os.environ.get("CRMCLI_USER") or _login()


ByOpt = Annotated[Optional[str], typer.Option(
    "--by", help="Who did it; default $CRMCLI_USER, else the login name.", show_default=False)]
AtOpt = Annotated[Optional[str], typer.Option(
    "--at", help="When it happened, e.g. '2026-11-26 10:30' (for paper sheets); default now.",
    show_default=False)]


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
        "--outcome", "-o", help="reached, no_answer, busy (call later), wrong_number, refused "
        "or not_owner.")],
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
        help="The complaint's category, e.g. 维修质量, 服务态度, 价格.")] = None,
    call_at: Annotated[Optional[str], typer.Option(
        "--call-at", help="With busy: when the customer asked to be called, '2026-11-27 15:00'.")] = None,
    phone: Annotated[Optional[str], typer.Option(
        help="The right number, when the customer was reached on another one (corrects the file).")] = None,
    reminded: Annotated[bool, typer.Option(
        "--reminded", help="The next-maintenance date was told to the customer.")] = False,
    by: ByOpt = None,
    at: AtOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Log one call on a task: its outcome, scores, note, complaint or a time to call back."""
    from . import calls

    state: State = ctx.obj
    result = calls.log_call(
        state.db, task_id, outcome, state.settings, by=_clerk(by), at=calls.parse_when(at),
        scores={"overall": overall, "advisor": advisor, "quality": quality,
                "timeliness": timeliness, "price": price, "cleanliness": cleanliness},
        note=note, complaint=complaint, category=category, call_at=calls.parse_when(call_at),
        phone=phone, reminded=reminded)
    if as_json:
        emit_json(result)
        return
    out().print(_log_line(result), markup=False, highlight=False, soft_wrap=True)


def _log_line(r: dict) -> str:
    msg = f"task #{r['task_id']}: {r['outcome']} -> {r['task_state']}"
    if r.get("task_reason"):
        msg += f" ({r['task_reason']})"
    if r.get("next_try"):
        msg += f", next try {r['next_try']}"
    if r.get("complaint_id"):
        msg += f"; complaint #{r['complaint_id']} opened"
    if r.get("phone_corrected"):
        msg += f"; mobile corrected to {r['phone_corrected']}"
    return msg


@app.command("call")
@handle_errors
def call_cmd(ctx: typer.Context, day: DateOpt = None, by: ByOpt = None) -> None:
    """Work through today's calls one customer at a time; every answer is saved at once.

    Keys: r reached, n no answer, b busy/call later, w wrong number, x refused,
    o not the owner, s skip, q quit. Quitting (or Ctrl-C) loses nothing: the
    next `crmcli call` goes on with what is left.
    """
    from . import session

    state: State = ctx.obj
    when = parse_day(day) or date.today()
    session.run(state.db, state.settings, when, _clerk(by), out())


@complaint_app.command("add")
@handle_errors
def complaint_add(
    ctx: typer.Context,
    customer: Annotated[str, typer.Argument(help="The customer: phone, plate, name or #id.")],
    text: Annotated[str, typer.Option("--text", help="What the customer complains about.")],
    category: Annotated[str, typer.Option(help="Category, e.g. 维修质量, 服务态度, 价格.")] = "其他",
    owner: Annotated[Optional[str], typer.Option(help="Who is responsible for it.")] = None,
    by: ByOpt = None,
    at: AtOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Open a complaint; its escalation and reply deadlines are set in working hours."""
    from . import calls, customers

    state: State = ctx.obj
    c = customers.get_one(state.db, customer)
    k = calls.add_complaint(state.db, c["id"], category, text, state.settings, by=_clerk(by),
                            at=calls.parse_when(at), owner=owner)
    if as_json:
        emit_json(k)
        return
    out().print(f"complaint #{k['id']} opened: escalate by {k['escalate_by']},"
                f" reply by {k['reply_by']}", markup=False, highlight=False)


def _complaint_step(ctx, complaint_id: int, step: str, note, owner, by, at) -> None:
    from . import calls

    state: State = ctx.obj
    k = calls.advance(state.db, complaint_id, step, by=_clerk(by), at=calls.parse_when(at),
                      note=note, owner=owner)
    out().print(f"complaint #{k['id']}: {k['state']}", markup=False, highlight=False)


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
    """Record the reply given to the customer."""
    _complaint_step(ctx, complaint_id, "reply", note, owner, by, at)


@complaint_app.command("close")
@handle_errors
def complaint_close(ctx: typer.Context, complaint_id: ComplaintArg, note: NoteOpt = None,
                    owner: OwnerOpt = None, by: ByOpt = None, at: AtOpt = None) -> None:
    """Close a complaint that has been answered."""
    _complaint_step(ctx, complaint_id, "close", note, owner, by, at)


@complaint_app.command("show")
@handle_errors
def complaint_show(ctx: typer.Context, complaint_id: ComplaintArg, as_json: JsonOpt = False) -> None:
    """Show a complaint with every step: who did what and when."""
    from . import calls

    k = calls.complaint(ctx.obj.db, complaint_id)
    if as_json:
        emit_json(k)
        return
    console = out()
    console.print(f"#{k['id']} [{k['state']}] {k['category']}: {k['text']}", markup=False)
    console.print(f"customer #{k['customer_id']} {k['customer_name'] or ''} {k['mobile'] or ''};"
                  f" owner {k['owner'] or '-'}; escalate by {k['escalate_by']};"
                  f" reply by {k['reply_by']}", markup=False)
    for e in k["events"]:
        console.print(f"  {e['at']}  {e['by']:<10} {e['action']:<9} {e['note'] or ''}",
                      markup=False)


@app.command("complaints")
@handle_errors
def complaints_cmd(
    ctx: typer.Context,
    at: AtOpt = None,
    include_closed: Annotated[bool, typer.Option("--all", help="Include closed complaints.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """List complaints, overdue ones first and marked."""
    from . import calls, render

    now = calls.parse_when(at) or calls._now()
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
    deadline: Annotated[str, typer.Option(help="By when (YYYY-MM-DD).")],
    preventive: Annotated[bool, typer.Option("--preventive", help="A preventive action "
                                             "(预防措施) rather than a corrective one.")] = False,
    category: Annotated[Optional[str], typer.Option(
        help="The complaint category that prompted it, e.g. 维修质量.")] = None,
    month: Annotated[Optional[str], typer.Option(
        help="The monthly report that prompted it (YYYY-MM).")] = None,
    complaint_id: Annotated[Optional[int], typer.Option(
        "--complaint", help="The complaint that prompted it.")] = None,
    by: ByOpt = None,
) -> None:
    """Add a corrective or preventive action with an owner and a deadline."""
    from . import calls

    due = parse_day(deadline)
    aid = calls.add_action(ctx.obj.db, text, owner, due, by=_clerk(by),
                           kind="preventive" if preventive else "corrective", category=category,
                           month=month, complaint_id=complaint_id)
    out().print(f"action #{aid} added for {owner}, due {due}", markup=False, highlight=False)


@action_app.command("list")
@handle_errors
def action_list(ctx: typer.Context, day: DateOpt = None,
                include_done: Annotated[bool, typer.Option("--all", help="Include done ones.")] = False,
                as_json: JsonOpt = False) -> None:
    """List actions, overdue ones first and marked."""
    from . import calls, render

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
                note: NoteOpt = None, by: ByOpt = None) -> None:
    """Mark an action done."""
    from . import calls

    calls.finish_action(ctx.obj.db, action_id, by=_clerk(by), note=note)
    out().print(f"action #{action_id} done", markup=False)


# --------------------------------------------------------------------------- stats

MonthOpt = Annotated[Optional[str], typer.Option(
    "--month", help="The month to report, YYYY-MM; default: the month of --date (today).")]
WeekOpt = Annotated[Optional[str], typer.Option(
    "--week", help="Report the Monday-Sunday week containing this day (YYYY-MM-DD) instead.")]
ClerkOpt = Annotated[Optional[str], typer.Option("--clerk", help="Only this clerk's calls.")]


def _period(month, week, day):
    return dict(month=month, week=parse_day(week), today=parse_day(day) or date.today())


@stats_app.callback()
@handle_errors
def stats_cmd(
    ctx: typer.Context,
    month: MonthOpt = None,
    week: WeekOpt = None,
    clerk: ClerkOpt = None,
    kind: Annotated[Optional[list[str]], typer.Option(
        "--kind", help="Only this kind of task (repeat for more), e.g. post_repair.")] = None,
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
    from . import stats

    state: State = ctx.obj
    from datetime import datetime

    now = f"{day} 24:00" if day else datetime.now().strftime("%Y-%m-%d %H:%M")
    r = stats.report(state.db, state.settings, clerk=clerk, kinds=kind, now=now,
                     **_period(month, week, day))
    if xlsx is not None:
        if xlsx.suffix.lower() != ".xlsx":
            raise UsageError("--xlsx must name an .xlsx file, e.g. --xlsx report.xlsx")
        from .excel import write_report_xlsx

        write_report_xlsx(xlsx, r)
    if as_json:
        emit_json(r)
        return
    from . import render

    console = out()
    for part in render.report_tables(r):
        console.print(part)
    for line in r["definitions"]:
        console.print(f"  - {line}", markup=False, highlight=False)
    if xlsx is not None:
        console.print(f"Workbook written to {xlsx}", markup=False)


def _follow_up(ctx: typer.Context, which: str, as_json: bool) -> None:
    from . import render, stats

    state: State = ctx.obj
    rows = stats.follow_up(state.db, state.settings, which, clerk=ctx.meta.get("stats_clerk"),
                           **ctx.meta["stats_period"])
    if as_json:
        emit_json(rows)
        return
    out().print(render.follow_up_table(rows, which))


@stats_app.command("unsatisfied")
@handle_errors
def stats_unsatisfied(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Customers who gave any score below the satisfied threshold, and what happened since."""
    _follow_up(ctx, "unsatisfied", as_json)


@stats_app.command("unreached")
@handle_errors
def stats_unreached(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Call tasks of the period that were tried but never reached, and what happened since."""
    _follow_up(ctx, "unreached", as_json)


def _login() -> str:
    try:
        import getpass

        return getpass.getuser()
    except Exception:
        return "unknown"


def main() -> None:
    """The console script.

    Once the command has finished and its output is flushed, the process ends
    without Python's module teardown: it frees nothing the operating system
    would not, and it is about 18 ms of a 180 ms ``crmcli today``. Every write
    is committed by then (each in its own transaction). An exception other than
    the exit itself ends the usual way, with its traceback.
    """
    try:
        app()
        code = 0
    except SystemExit as exc:  # typer's standalone mode ends every command with one
        code = exc.code
    if code is None:
        code = 0
    elif not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (BrokenPipeError, ValueError):  # the reader went away (| head): nothing to say
        pass
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
