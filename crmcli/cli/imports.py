"""The import group: DMS exports (orders, the delivery list) into the customer file.

The importer and the workbook readers are imported inside the commands, never at the
top, so the other commands do not pay for them.
"""

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from ..i18n import _
from .base import (
    DateOpt,
    JsonOpt,
    QuietOpt,
    State,
    app,
    emit_json,
    err,
    handle_errors,
    out,
    parse_day,
    say,
    say_error,
)
from .helptext import App

if TYPE_CHECKING:
    from rich.console import Console

import_app = App(help="Import DMS exports (Excel .xlsx/.xls or CSV) into the customer file.",
                         no_args_is_help=True)
app.add_typer(import_app, name="import")


def _run_import(ctx: typer.Context, kind: str, files: list[Path], dry_run: bool, force: bool,
                rejects: Optional[Path], as_json: bool, day: Optional[str],
                quiet: bool = False) -> None:
    from .. import importing as importer
    from ..errors import FileRefused

    state: State = ctx.obj
    today = parse_day(day) or date.today()
    state.settings  # noqa: B018  (read beside the database named, before it may change below)
    state.may_create = True  # an import is how a database comes to be
    if dry_run and not state.path.exists():
        state.db_path = ":memory:"  # a dry run writes nothing, not even a new database file
    if rejects is not None:  # refused before anything is imported, not after
        from ..files import check_output

        check_output(rejects, option="--rejects", suffixes=(".xlsx",))
    aliases = state.settings["import"]["aliases"]
    console, errc = out(), err()
    summaries, worst, reject_sheets = [], 0, {}
    for path in files:
        try:
            result = _import_with_progress(importer, state, path, kind, today, aliases, dry_run,
                                           force, errc, quiet)
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
            _render_import(console, result, summary, dry_run, quiet)
    if rejects is not None:
        from ..excel import write_rows_xlsx

        write_rows_xlsx(rejects, reject_sheets or {"rejects": [["no rejected or flagged rows"]]})
        if not as_json and not quiet:
            say(_("Rejected and flagged rows written to {path}").format(path=rejects), console)
    if as_json:
        emit_json(importer.run_summary(summaries))  # one shape for one file or several
    raise typer.Exit(worst)


def _import_with_progress(importer, state, path, kind, today, aliases, dry_run, force, errc,
                          quiet=False):
    if quiet or not errc.is_terminal:
        return importer.import_file(state.db, path, kind, today=today, aliases=aliases,
                                    dry_run=dry_run, force=force)
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TextColumn("{task.completed:,} rows"),
                  TimeElapsedColumn(), console=errc, transient=True) as bar:
        task = bar.add_task(_("Importing {file}").format(file=Path(path).name), total=None)
        return importer.import_file(state.db, path, kind, today=today, aliases=aliases,
                                    dry_run=dry_run, force=force,
                                    progress=lambda n: bar.update(task, completed=n))


def _render_import(console: "Console", result, summary: dict, dry_run: bool,
                   quiet: bool = False) -> None:
    from .. import render

    if dry_run:
        say(_("{file}: sheet {sheet!r}, header on row {row}").format(
            file=result.file, sheet=result.sheet, row=result.header_row), console, soft_wrap=True)
        console.print(render.mapping_table(result.mapping, result.ignored_columns))
        console.print(render.verdicts_table(result.verdicts))
    elif result.problems:
        console.print(render.problems_table(result.problems))
    if not quiet:  # the rows to check are shown even then: they need a clerk
        say(render.import_summary_line(summary), console, soft_wrap=True)
    for warning in result.warnings:
        say_error(_("warning: {message}").format(message=f"{result.file}: {warning}"))


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
                  day: DateOpt = None, quiet: QuietOpt = False) -> None:
    """Import repair orders (维修工单) from DMS exports.

    Exit 0 when every row was taken, 1 when some rows were rejected, 2 when a
    file or the arguments were refused.

    \b
    Examples:
      crmcli import orders 维修工单.xlsx --dry-run
      crmcli import orders 维修工单.xls 工单2.csv --rejects fix.xlsx
    """
    _run_import(ctx, "orders", files, dry_run, force, rejects, as_json, day, quiet)


@import_app.command("vehicles")
@handle_errors
def import_vehicles(ctx: typer.Context, files: FilesArg, dry_run: DryRunOpt = False,
                    force: ForceOpt = False, rejects: RejectsOpt = None, as_json: JsonOpt = False,
                    day: DateOpt = None, quiet: QuietOpt = False) -> None:
    """Import the sales department's delivery list (customers and their vehicles).

    Exit codes as for `import orders`.

    \b
    Example:
      crmcli import vehicles 交车明细.xlsx
    """
    _run_import(ctx, "vehicles", files, dry_run, force, rejects, as_json, day, quiet)
