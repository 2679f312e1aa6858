"""``crmcli doctor``: is the database whole, and what is it?

Opens the file without migrating it (a damaged or newer file is examined, not
changed) and reports, as plain data:
- the file, its size, its -wal size and the permissions of all three;
- ``PRAGMA integrity_check`` (the first problems found) and
  ``PRAGMA foreign_key_check`` (rows pointing at nothing);
- the schema version (the last migration applied), migrations pending for this
  release, and any this release does not know (a newer release's file);
- counts: customers, vehicles, orders, fields flagged by imports still on
  file, suspected duplicate customers (same name and the same ID number or
  landline under different records), customers forgotten;
- the settings in force (the file they come from and every key that differs
  from the defaults).
``ok`` is False when the integrity or foreign-key check fails, the file cannot
be read, or it is from a newer release; the command then exits 5.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from .i18n import _


def _mode(p: Path) -> str | None:
    try:
        return oct(p.stat().st_mode & 0o777)
    except OSError:
        return None


def _size(p: Path) -> int | None:
    try:
        return p.stat().st_size
    except OSError:
        return None


def _differences(settings: dict, defaults: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in settings.items():
        default = defaults.get(key) if isinstance(defaults, dict) else None
        if isinstance(value, dict) and isinstance(default, dict):
            out.update(_differences(value, default, f"{prefix}{key}."))
        elif value != default:
            out[f"{prefix}{key}"] = value
    return out


def examine(path: Path | str, settings_path: Path | str | None = None) -> dict:
    """The report on the database at ``path``; see the module docstring."""
    from .migrations import MIGRATIONS

    path = Path(path)
    wal = Path(f"{path}-wal")
    r: dict = {"database": str(path), "exists": path.exists(), "bytes": _size(path),
               "wal_bytes": _size(wal), "modes": {"db": _mode(path), "wal": _mode(wal),
                                                   "shm": _mode(Path(f"{path}-shm"))},
               "problems": []}
    if not path.exists():
        r["problems"].append(_("{path} does not exist (any command creates it)").format(path=path))
        r["ok"] = False
        return r
    try:
        # Read and write, though only read: a read-only connection cannot remove the
        # -wal and -shm it needs, and would leave them behind.
        conn = sqlite3.connect(str(path), timeout=5, isolation_level=None)
    except sqlite3.Error as exc:
        r["problems"].append(_("cannot open: {error}").format(error=exc))
        r["ok"] = False
        return r
    try:
        _checks(conn, r, MIGRATIONS)
    except sqlite3.DatabaseError as exc:
        r["problems"].append(_("cannot be read: {error}").format(error=exc))
    finally:
        conn.close()
    for key, mode in r["modes"].items():
        if mode and int(mode, 8) & 0o077:
            r["problems"].append(_("the {key} file is readable by others ({mode}); any crmcli "
                                   "command makes it 0600").format(key=key, mode=mode))
    _settings(r, settings_path)
    # Loose permissions and a bad settings file are told but are not the file's fault.
    r["ok"] = (r.get("integrity") == ["ok"] and not r.get("foreign_key_errors")
               and not r.get("unknown_migrations") and r.get("schema") is not None)
    return r


def _checks(conn: sqlite3.Connection, r: dict, migrations) -> None:
    r["journal_mode"] = conn.execute("PRAGMA journal_mode").fetchone()[0]
    integrity = [row[0] for row in conn.execute("PRAGMA integrity_check(20)")]
    r["integrity"] = integrity
    if integrity != ["ok"]:
        r["problems"].append(_("integrity check failed: {details}").format(
            details="; ".join(integrity[:5])))
    fk = conn.execute("PRAGMA foreign_key_check").fetchall()
    r["foreign_key_errors"] = len(fk)
    if fk:
        tables = sorted({row[0] for row in fk})
        r["problems"].append(_("{count} rows point at records that do not exist (in {tables})"
                               ).format(count=len(fk), tables=", ".join(tables)))
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    applied = [row[0] for row in conn.execute(
        "SELECT name FROM _sqlite_migrations WHERE migration_set = 'crmcli' ORDER BY rowid")] \
        if "_sqlite_migrations" in tables else []
    known = [m.name for m in migrations._migrations]
    r["schema"] = applied[-1] if applied else None
    r["migrations_applied"] = len(applied)
    r["migrations_pending"] = [n for n in known if n not in applied]
    r["unknown_migrations"] = [n for n in applied if n not in known]
    if not applied:
        r["problems"].append(_("not a crmcli database (no migrations recorded)"))
    if r["unknown_migrations"]:
        r["problems"].append(_("made by a newer release of crmcli ({migration}): upgrade crmcli"
                               ).format(migration=r["unknown_migrations"][-1]))

    def count(sql: str, table: str) -> int | None:
        return conn.execute(sql).fetchone()[0] if table in tables else None

    r["customers"] = count("SELECT count(*) FROM customers", "customers")
    r["vehicles"] = count("SELECT count(*) FROM vehicles", "vehicles")
    r["orders"] = count("SELECT count(*) FROM repair_orders", "repair_orders")
    r["flagged_fields"] = count("SELECT count(*) FROM row_problems WHERE severity = 'flagged'",
                                "row_problems")
    r["suspected_duplicates"] = count(
        "SELECT count(*) FROM (SELECT 1 FROM customers WHERE name IS NOT NULL AND"
        " id_number IS NOT NULL GROUP BY name, id_number HAVING count(*) > 1)", "customers")
    r["forgotten"] = count("SELECT count(*) FROM forgotten", "forgotten")


def _settings(r: dict, settings_path) -> None:
    from . import settings as settings_mod
    from .errors import SettingsError

    path = Path(settings_path) if settings_path else settings_mod.default_path()
    r["settings_file"] = str(path) if path.exists() else None
    try:
        s = settings_mod.load(settings_path)
    except SettingsError as exc:
        r["problems"].append(_("settings: {error}").format(error=exc.message))
        r["settings"] = None
        return
    r["settings"] = _differences(s, settings_mod.DEFAULTS)
