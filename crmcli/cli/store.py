"""The database file itself: backup, restore, doctor."""

from pathlib import Path
from typing import Annotated

import typer

from .base import JsonOpt, State, app, emit_json, handle_errors, say


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
    say(f"backed up to {r['backup']}: {r['bytes']:,} bytes, {r['customers']} customers, "
        f"schema {r['schema']}")


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
    say(f"restored {r['restored']} ({r['customers']} customers, schema {r['schema']})"
        f" into {r['database']}")
    if r["kept"]:
        say(f"the file it replaced is kept as {r['kept']}")


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
    def n(x):
        return "-" if x is None else f"{x:,}"

    say(f"database   {r['database']} ({n(r['bytes'])} bytes, -wal {n(r['wal_bytes'])} bytes; "
        f"modes {r['modes']['db'] or '-'} / {r['modes']['wal'] or '-'} / "
        f"{r['modes']['shm'] or '-'})")
    if "integrity" in r:
        say(f"integrity  {'ok' if r['integrity'] == ['ok'] else 'FAILED'}; foreign keys "
            f"{'ok' if not r['foreign_key_errors'] else str(r['foreign_key_errors']) + ' broken'}"
            f"; journal {r['journal_mode']}")
        pending = len(r["migrations_pending"])
        say(f"schema     {r['schema'] or '-'} ({r['migrations_applied']} migrations"
            + (f", {pending} to apply at the next command" if pending else "")
            + (f", {len(r['unknown_migrations'])} from a newer release" if r["unknown_migrations"]
               else "") + ")")
        say(f"records    {n(r['customers'])} customers, {n(r['vehicles'])} vehicles, "
            f"{n(r['orders'])} orders; {n(r['flagged_fields'])} flagged fields; "
            f"{n(r['suspected_duplicates'])} suspected duplicates; "
            f"{n(r['forgotten'])} customers forgotten")
    if r.get("settings") is not None:
        changed = ", ".join(f"{k}={v!r}" for k, v in r["settings"].items()) or "all defaults"
        say(f"settings   {r['settings_file'] or '(no file: defaults)'}: {changed}")
    for p in r["problems"]:
        say(f"problem    {p}")
    say("verdict    " + ("whole" if r["ok"] else
                         "NOT whole: `crmcli restore BACKUP` puts back the last good backup"))
