"""The database file itself: backup, restore, doctor."""

from pathlib import Path
from typing import Annotated

import typer

from ..i18n import N_, _
from .base import JsonOpt, QuietOpt, State, app, emit_json, handle_errors, say


def _db_path(state: State) -> Path:
    from .. import db

    return Path(state.db_path) if state.db_path else db.default_path()


@app.command("backup")
@handle_errors
def backup_cmd(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="The backup file to write, e.g. "
                                              "/srv/backup/crmcli-mon.db (replaced whole if it exists).")],
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Copy the database to PATH, safely while others work (SQLite's online backup).

    The copy is one file, checked, written whole or not at all, readable by you only.
    """
    from .. import backup

    state: State = ctx.obj
    r = backup.backup(state.db, path)
    if as_json:
        emit_json(r)
        return
    if quiet:
        return
    say(_("backed up to {path}: {bytes:,} bytes, {customers} customers, schema {schema}").format(
        path=r["backup"], bytes=r["bytes"], customers=r["customers"], schema=r["schema"]))


@app.command("restore")
@handle_errors
def restore_cmd(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="The backup file to put back (from `crmcli backup`).")],
    as_json: JsonOpt = False,
) -> None:
    """Put a backup back in place of the database; the current file is kept beside it.

    The backup must be a crmcli database of this release or older. Close other crmcli
    terminals and cron jobs first: a database in use is not replaced.
    """
    from .. import backup

    state: State = ctx.obj
    r = backup.restore(path, _db_path(state))
    if as_json:
        emit_json(r)
        return
    say(_("restored {path} ({customers} customers, schema {schema}) into {database}").format(
        path=r["restored"], customers=r["customers"], schema=r["schema"],
        database=r["database"]))
    if r["kept"]:
        say(_("the file it replaced is kept as {path}").format(path=r["kept"]))


@app.command("doctor")
@handle_errors
def doctor_cmd(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Check the database: integrity, foreign keys, schema version, WAL size, flagged
    fields, suspected duplicates, and the settings in force. Exit 5 if it is not whole."""
    from .. import doctor

    state: State = ctx.obj
    r = doctor.examine(_db_path(state), state.settings_path)
    if as_json:
        emit_json(r)
    else:
        _say_report(r)
    if not r["ok"]:
        raise typer.Exit(5)


def _say_report(r: dict) -> None:
    from rich.cells import cell_len as display_width

    def n(x):
        return "-" if x is None else f"{x:,}"

    def line(head: str, text: str) -> None:  # the heads in one column, in either language
        head = _(head)
        say(head + " " * max(1, 11 - display_width(head)) + text)

    line(N_("database"), _("{path} ({bytes} bytes, -wal {wal} bytes; modes {db} / {wal_mode} / "
                          "{shm})").format(path=r["database"], bytes=n(r["bytes"]),
                                           wal=n(r["wal_bytes"]), db=r["modes"]["db"] or "-",
                                           wal_mode=r["modes"]["wal"] or "-",
                                           shm=r["modes"]["shm"] or "-"))
    if "integrity" in r:
        fk = r["foreign_key_errors"]
        line(N_("integrity"), _("{integrity}; foreign keys {fk}; journal {journal}").format(
            integrity=_("ok") if r["integrity"] == ["ok"] else _("FAILED"),
            fk=_("ok") if not fk else _("{count} broken").format(count=fk),
            journal=r["journal_mode"]))
        pending = len(r["migrations_pending"])
        line(N_("schema"), _("{schema} ({count} migrations").format(
            schema=r["schema"] or "-", count=r["migrations_applied"])
            + (_(", {count} to apply at the next command").format(count=pending) if pending else "")
            + (_(", {count} from a newer release").format(count=len(r["unknown_migrations"]))
               if r["unknown_migrations"] else "") + _(")"))
        line(N_("records"), _("{customers} customers, {vehicles} vehicles, {orders} orders; "
                              "{flagged} flagged fields; {duplicates} suspected duplicates; "
                              "{forgotten} customers forgotten").format(
            customers=n(r["customers"]), vehicles=n(r["vehicles"]), orders=n(r["orders"]),
            flagged=n(r["flagged_fields"]), duplicates=n(r["suspected_duplicates"]),
            forgotten=n(r["forgotten"])))
    if r.get("settings") is not None:
        changed = (", ".join(f"{k}={v!r}" for k, v in r["settings"].items())
                   or _("all defaults"))
        line(N_("settings"), f"{r['settings_file'] or _('(no file: defaults)')}: {changed}")
    for p in r["problems"]:
        line(N_("problem"), p)
    line(N_("verdict"), _("whole") if r["ok"] else
         _("NOT whole: `crmcli restore BACKUP` puts back the last good backup"))
