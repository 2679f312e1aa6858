"""Backups of the database and putting one back.

``backup(db, dest)`` copies the open database with SQLite's online backup API,
which is safe while the clerk's terminal, cron or an import are working: the
copy is one consistent moment. It is written to a temporary file beside
``dest``, switched to a single-file journal (no ``-wal`` needed to read it),
checked (``PRAGMA quick_check``), synced and renamed, owner-only: a kill or a
full disk never leaves half a backup at ``dest``.

``restore(src, db_path)`` puts a backup back:
1. ``src`` must be a crmcli database of this release or an older one (its
   migrations all known here), and pass ``quick_check``;
2. the current file is checkpointed (its ``-wal`` folded in) and kept as
   ``NAME.replaced-YYYYMMDD-HHMMSS`` beside it; if another process still has it
   open (its ``-wal`` remains), nothing is done and the message says so;
3. the backup is copied in (backup API again, so a backup that has its own
   ``-wal`` beside it is read whole) through a temporary file and a rename,
   and no ``-wal``/``-shm`` of the old file is left to be replayed over it;
4. it is opened once, which applies the migrations of this release.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import datetime
from pathlib import Path

import sqlite_utils

from .errors import DatabaseError, OutputError, UsageError
from .files import atomic_path, check_output
from .i18n import _


def _copy(src: sqlite3.Connection, tmp: Path) -> None:
    """``src`` into the (empty) file ``tmp``, as one file with a rollback journal."""
    dst = sqlite3.connect(str(tmp), isolation_level=None)
    try:
        src.backup(dst, pages=4096)
        dst.execute("PRAGMA journal_mode = DELETE")
        ok = dst.execute("PRAGMA quick_check").fetchone()[0]
        if ok != "ok":
            raise DatabaseError(_("the copy failed its check ({ok}); nothing was written").format(
                                    ok=ok))
    finally:
        dst.close()


def _sidecars(path: Path) -> list[Path]:
    return [Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")]


def backup(db: sqlite_utils.Database, dest: Path | str) -> dict:
    """Copy the open database to ``dest`` (atomic, 0600). Returns what was copied."""
    dest = check_output(dest, option="backup")
    try:
        with atomic_path(dest) as tmp:
            _copy(db.conn, tmp)
    except sqlite3.DatabaseError as exc:
        raise DatabaseError(_("the database cannot be read for a backup ({exc}); run `crmcli "
                              "doctor`").format(exc=exc)) from None
    return {"backup": str(dest), "bytes": dest.stat().st_size, **_describe(db.conn)}


def _describe(conn: sqlite3.Connection) -> dict:
    """What a database holds: its schema version and its customers."""
    names = [r[0] for r in conn.execute(
        "SELECT name FROM _sqlite_migrations WHERE migration_set = 'crmcli' ORDER BY rowid")]
    customers = conn.execute("SELECT count(*) FROM customers").fetchone()[0]
    return {"schema": names[-1] if names else None, "customers": customers}


def check_backup(src: Path) -> dict:
    """Refuse anything but a whole crmcli database of this release or older."""
    from .migrations import MIGRATIONS

    if not src.is_file():
        raise UsageError(_("{src} is not a file: name the backup to restore").format(src=src))
    with open(src, "rb") as fh:
        if fh.read(16) != b"SQLite format 3\x00":
            raise UsageError(_("{src} is not a database (not an SQLite file): nothing restored").format(
                                 src=src))
    try:
        conn = sqlite3.connect(f"file:{src}?mode=ro", uri=True)
        try:
            ok = conn.execute("PRAGMA quick_check").fetchone()[0]
            has_table = conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table' "
                                     "AND name = '_sqlite_migrations'").fetchone()[0]
            names = [r[0] for r in conn.execute(
                "SELECT name FROM _sqlite_migrations WHERE migration_set = 'crmcli'"
                " ORDER BY rowid")] if has_table else []
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise UsageError(_("{src} cannot be read ({exc}): nothing restored").format(
                             src=src, exc=exc)) from None
    if ok != "ok":
        raise UsageError(_("{src} is damaged ({ok}): nothing restored; try an older backup").format(
                             src=src, ok=ok))
    if not names:
        raise UsageError(_("{src} is not a crmcli database: nothing restored").format(src=src))
    known = {m.name for m in MIGRATIONS._migrations}
    newer = [n for n in names if n not in known]
    if newer:
        raise UsageError(_("{src} was made by a newer release of crmcli (it has {value}): "
                           "nothing restored; upgrade crmcli first").format(
                             src=src, value=newer[-1]))
    return {"schema": names[-1], "migrations": len(names)}


def restore(src: Path | str, db_path: Path | str, *, now: datetime | None = None) -> dict:
    """Put the backup ``src`` in place of ``db_path``; see the module docstring."""
    from . import db as dbmod

    src, db_path = Path(src), Path(db_path)
    if src.resolve() == db_path.resolve():
        raise UsageError(_("{src} is the database itself: name a backup file").format(src=src))
    info = check_backup(src)
    check_output(db_path, option="restore")
    kept = None
    if db_path.exists():
        readable = _fold_in(db_path)
        wal = _sidecars(db_path)[0]
        if readable and wal.exists():
            raise DatabaseError(_("{db_path} is in use by another crmcli (its -wal is open): "
                                  "close the other terminals and cron jobs, then restore again").format(
                                    db_path=db_path))
        stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
        kept = db_path.with_name(f"{db_path.name}.replaced-{stamp}")
        # A damaged file's -wal is kept beside it, as it was: it may hold the day's work.
        for old, new in ((db_path, kept), (wal, Path(f"{kept}-wal"))):
            if old.exists():
                _keep(old, new)
    src_conn = sqlite3.connect(f"file:{src}?mode=ro", uri=True)
    try:
        with atomic_path(db_path) as tmp:
            _copy(src_conn, tmp)
            for p in _sidecars(db_path):  # nothing of the old file may be replayed over it
                if p.exists():
                    p.unlink()
    finally:
        src_conn.close()
    db = dbmod.connect(db_path)  # applies this release's migrations to an older backup
    try:
        now_holds = _describe(db.conn)
    finally:
        dbmod.close(db)
    return {"restored": str(src), "database": str(db_path), "kept": str(kept) if kept else None,
            "backup_schema": info["schema"], **now_holds}


def _fold_in(path: Path) -> bool:
    """Checkpoint the current file so its -wal is in the main file (and removed when
    nobody else has it open). False for a file SQLite cannot read (kept as it is)."""
    try:
        conn = sqlite3.connect(str(path), timeout=5, isolation_level=None)
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return False
    return True


def _keep(old: Path, new: Path) -> None:
    """``old`` also under the name ``new`` (a hard link, else a copy), owner-only."""
    try:
        os.link(old, new)
    except OSError:
        import shutil

        try:
            shutil.copy2(old, new)
        except OSError as exc:
            raise OutputError(_("cannot keep the current file as {new} ({strerror}); nothing "
                                "restored").format(new=new, strerror=exc.strerror)) from None
    os.chmod(new, 0o600)
