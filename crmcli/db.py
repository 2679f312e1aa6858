"""Where the database lives, and opening it.

The path comes from ``--db`` if given, else the ``CRMCLI_DB`` environment
variable, else ``crmcli.db`` in the user's data directory (``$XDG_DATA_HOME``
or ``~/.local/share/crmcli`` on Linux). Opening creates the file owner-only
(0600), turns on WAL and a busy timeout so the clerk's terminal and the cron
job can use the file at the same time, and applies pending migrations.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import sqlite_utils

from .errors import DatabaseError
from .i18n import _

# Long enough for an import of a large file (one transaction of a few seconds)
# to finish while a clerk logs a call; short enough that cron does not hang forever.
BUSY_TIMEOUT_MS = 60_000
# A wait for another writer's lock longer than this is announced (``lock_wait_notice``),
# once, before the rest of the wait: a minute of silence looks like a hung terminal.
LOCK_NOTICE_MS = 1_500

#: Called with the database's path when a write has waited ``LOCK_NOTICE_MS`` for
#: another process's lock and goes on waiting (the CLI says so on stderr). The
#: library itself never prints: None (the default) waits in silence.
lock_wait_notice: Callable[[str], None] | None = None


def data_dir() -> Path:
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "crmcli"


def default_path() -> Path:
    env = os.environ.get("CRMCLI_DB")
    return Path(env) if env else data_dir() / "crmcli.db"


def _create_private(path: Path) -> None:
    """Create the directory (0700) and an empty file (0600) before SQLite does.

    SQLite gives its -wal and -shm files the permissions of the database file,
    so creating the main file owner-only keeps all three private.
    """
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600)
    except FileExistsError:
        return  # another process created it a moment ago
    os.close(fd)


def tighten(path: Path) -> None:
    """Make the database, its -wal and its -shm owner-only (0600) if they are not.

    A file made by an older release or copied in with the umask (0644) is read by
    everyone on the machine, and SQLite gives a new -wal the main file's mode.
    A file owned by someone else is left alone (chmod would fail; opening tells)."""
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        try:
            mode = p.stat().st_mode & 0o777
            if mode & 0o077:
                os.chmod(p, mode & 0o700 or 0o600)
        except OSError:
            pass


def connect(path: Path | str | None = None, *, migrate: bool = True) -> sqlite_utils.Database:
    """Open (creating if needed) the database and bring its schema up to date."""
    path = Path(path) if path is not None else default_path()
    if str(path) != ":memory:":
        if path.is_dir():
            raise DatabaseError(_("{path} is a folder: name the database file, e.g. {value}").format(
                                    path=path, value=path / 'crmcli.db'))
        try:
            _create_private(path)
        except OSError as exc:
            raise DatabaseError(_("cannot create the database at {path}: {strerror}; check that "
                                  "the folder exists and is yours, or use --db PATH").format(
                                    path=path, strerror=exc.strerror)) from exc
        tighten(path)
    try:
        conn = sqlite3.connect(
            str(path),
            timeout=BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,  # we open transactions ourselves, explicitly
            check_same_thread=False,
        )
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        _wal(conn)
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        # Index pages of a 100,000-row import stay in memory (32 MiB; the default is 2).
        conn.execute("PRAGMA cache_size = -32768")
    except sqlite3.OperationalError as exc:
        raise DatabaseError(_("cannot open {path}: {exc}").format(path=path, exc=exc)) from exc
    except sqlite3.DatabaseError as exc:
        raise DatabaseError(_("{path} is not a crmcli database or is damaged ({exc}); `crmcli "
                              "doctor` says which, `crmcli restore BACKUP` puts back a backup").format(
                                path=path, exc=exc)) from exc
    if str(path) != ":memory:":
        tighten(path)  # the -wal and -shm SQLite may just have made
    # No sqlite-utils plugins: looking for them scans every installed package's
    # metadata (importlib.metadata, email, zipfile), a third of `today`'s start-up.
    db = sqlite_utils.Database(conn, execute_plugins=False)
    if migrate:
        from .migrations import migrate as run_migrations

        try:
            run_migrations(db)
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise DatabaseError(_("{path} cannot be read ({exc}); `crmcli doctor` says what is "
                                  "wrong, `crmcli restore BACKUP` puts back a backup").format(
                                    path=path, exc=exc)) from exc
        except DatabaseError:
            conn.close()
            raise
    return db


def close(db: sqlite_utils.Database) -> None:
    """Checkpoint what this connection wrote into the main file, then close.

    After this the main file alone holds every commit: a plain copy of it is a
    whole backup. When no other process has the file open, SQLite also removes
    the -wal on close. The checkpoint waits at most a moment for others: a
    reader in another terminal never makes a command hang at its end (what it
    could not copy is copied by the next command that ends)."""
    conn = db.conn
    try:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        if conn.total_changes:
            conn.execute("PRAGMA busy_timeout = 200")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    except sqlite3.Error:
        pass  # busy or damaged: the commits are safe in the -wal all the same
    finally:
        try:
            conn.close()
        except sqlite3.Error:
            pass


def _wal(conn: sqlite3.Connection) -> None:
    """Turn on WAL. Two processes opening a brand-new file can collide on this one
    statement, which SQLite's busy handler does not cover: try again briefly."""
    import time

    for attempt in range(50):
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == 49:
                raise
            time.sleep(0.02 * (attempt + 1))


@contextlib.contextmanager
def write_transaction(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """One write transaction that takes the write lock at once (BEGIN IMMEDIATE).

    A deferred transaction that reads first and writes later fails with
    "database is locked" without waiting when another process wrote in
    between; taking the lock up front makes the busy timeout apply instead.
    """
    conn = db.conn
    if conn.in_transaction:
        with db.atomic():
            yield db
        return
    _begin_immediate(conn)
    try:
        yield db
        # A COMMIT that fails (a deferred foreign key left broken, a full disk) leaves
        # the transaction open: it is rolled back below like any other failure.
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _begin_immediate(conn: sqlite3.Connection) -> None:
    """BEGIN IMMEDIATE, waiting up to ``BUSY_TIMEOUT_MS`` for another writer; after
    ``LOCK_NOTICE_MS`` of it, ``lock_wait_notice`` is told (SQLite's busy handler is
    not reachable from Python, so the wait is two waits: a short one, then the rest)."""
    notice = lock_wait_notice
    if notice is None or LOCK_NOTICE_MS >= BUSY_TIMEOUT_MS:
        conn.execute("BEGIN IMMEDIATE")
        return
    conn.execute(f"PRAGMA busy_timeout = {int(LOCK_NOTICE_MS)}")
    try:
        try:
            conn.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
        row = conn.execute("PRAGMA database_list").fetchone()
        notice(row[2] if row and row[2] else ":memory:")
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_MS - LOCK_NOTICE_MS)}")
        conn.execute("BEGIN IMMEDIATE")
    finally:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")


def dicts(db: sqlite_utils.Database, sql: str, params=()) -> list[dict]:
    """Run a query and return its rows as dicts keyed by column name."""
    cur = db.conn.execute(sql, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]
