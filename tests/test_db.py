import os
import sqlite3
import stat
import threading

import pytest

from crmcli import db as dbmod
from crmcli import migrations


def test_default_path_prefers_env_then_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("CRMCLI_DB", str(tmp_path / "x.db"))
    assert dbmod.default_path() == tmp_path / "x.db"
    monkeypatch.delenv("CRMCLI_DB")
    assert dbmod.default_path() == tmp_path / "data" / "crmcli" / "crmcli.db"


def test_new_database_is_owner_only_wal_and_migrated(tmp_path):
    path = tmp_path / "sub" / "new.db"
    database = dbmod.connect(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    assert database.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert database.conn.execute("PRAGMA busy_timeout").fetchone()[0] == dbmod.BUSY_TIMEOUT_MS
    tables = set(database.table_names())
    assert {"customers", "vehicles", "vehicle_owners", "repair_orders", "imports",
            "row_problems", "changes"} <= tables
    applied = [m.name for m in migrations.MIGRATIONS.applied(database)]
    assert applied == [m.name for m in migrations.MIGRATIONS._migrations]


def test_old_version_file_upgrades_in_place_without_losing_data(tmp_path):
    path = tmp_path / "old.db"
    old = dbmod.connect(path, migrate=False)
    # A database as the first release left it: only the first migration applied.
    with dbmod.write_transaction(old):
        migrations.MIGRATIONS.apply(old, stop_before="m002_import_audit")
    assert "imports" not in old.table_names()
    old.conn.execute(
        "INSERT INTO customers (id, merge_key, name, mobile, created_at, updated_at)"
        " VALUES (1, 'm:13812345678:张三', '张三', '13812345678', '2025-01-01', '2025-01-01')")
    old.conn.close()

    upgraded = dbmod.connect(path)
    assert "imports" in upgraded.table_names()
    row = upgraded.conn.execute("SELECT name, mobile FROM customers WHERE id = 1").fetchone()
    assert row == ("张三", "13812345678")
    # Opening again applies nothing twice.
    again = dbmod.connect(path)
    names = [m.name for m in migrations.MIGRATIONS.applied(again)]
    assert len(names) == len(set(names))


def test_a_file_from_before_the_report_index_changed_gets_todays_indexes(tmp_path):
    # As the release before m004 and m006 were changed left a file: an index on the
    # classes, and the report's index on (due_date, kind) only.
    def indexes(database):
        return sorted(database.conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"))

    old = dbmod.connect(tmp_path / "old.db", migrate=False)
    with dbmod.write_transaction(old):
        migrations.MIGRATIONS.apply(old, stop_before="m012_report_index_as_m004_m006_now_make_it")
        old.conn.execute("CREATE INDEX classifications_class"
                         " ON classifications(value_class, age_band)")
        old.conn.execute("DROP INDEX tasks_due_kind")
        old.conn.execute("CREATE INDEX tasks_due_kind ON tasks(due_date, kind)")
    old.conn.close()
    upgraded = dbmod.connect(tmp_path / "old.db")
    assert indexes(upgraded) == indexes(dbmod.connect(tmp_path / "new.db"))


def test_write_transaction_rolls_back_on_error(db):
    with pytest.raises(RuntimeError), dbmod.write_transaction(db):
        db.conn.execute(
            "INSERT INTO customers (merge_key, created_at, updated_at) VALUES ('k', 'a', 'a')")
        raise RuntimeError("boom")
    assert db.conn.execute("SELECT count(*) FROM customers").fetchone()[0] == 0


def test_a_commit_that_fails_is_rolled_back(db):
    # A foreign key checked at commit (as the importer's orders are) and left broken.
    with pytest.raises(sqlite3.IntegrityError), dbmod.write_transaction(db):
        db.conn.execute("PRAGMA defer_foreign_keys = ON")
        db.conn.execute(
            "INSERT INTO customers (merge_key, created_at, updated_at) VALUES ('k', 'a', 'a')")
        db.conn.execute("INSERT INTO repair_orders (order_no, vehicle_id, order_date,"
                        " created_at, updated_at) VALUES ('R1', 999, '2026-11-01', 'a', 'a')")
    assert not db.conn.in_transaction
    assert db.conn.execute("SELECT count(*) FROM customers").fetchone()[0] == 0
    with dbmod.write_transaction(db):  # and the next one works
        db.conn.execute(
            "INSERT INTO customers (merge_key, created_at, updated_at) VALUES ('k', 'a', 'a')")
    assert db.conn.execute("SELECT count(*) FROM customers").fetchone()[0] == 1


def test_two_connections_opening_a_new_file_at_once_both_succeed(tmp_path):
    path = tmp_path / "race.db"
    errors = []

    def opener():
        try:
            dbmod.connect(path).conn.close()
        except Exception as exc:  # pragma: no cover - the failure we guard against
            errors.append(exc)

    threads = [threading.Thread(target=opener) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    conn = sqlite3.connect(path)
    n = conn.execute("SELECT count(*) FROM _sqlite_migrations").fetchone()[0]
    assert n == len(migrations.MIGRATIONS._migrations)


def test_not_a_database_is_a_clear_error(tmp_path):
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(dbmod.DatabaseError):
        dbmod.connect(path)


def test_m013_widens_task_states_and_call_outcomes_keeping_every_row(tmp_path):
    import sqlite3

    old = dbmod.connect(tmp_path / "old.db", migrate=False)
    with dbmod.write_transaction(old):
        migrations.MIGRATIONS.apply(old, stop_before="m013_task_steps_and_call_results")
        old.conn.execute("INSERT INTO tasks (id, key, kind, due_date, expires_on, channel, reason,"
                         " planned_at, updated_at) VALUES (1, 'k', 'post_repair', '2026-11-26',"
                         " '2026-12-08', 'call', 'r', 'x', 'x')")
        old.conn.execute("INSERT INTO calls (task_id, clerk, called_at, logged_at, outcome)"
                         " VALUES (1, 'a', 'x', 'x', 'reached')")
    with pytest.raises(sqlite3.IntegrityError):
        old.conn.execute("UPDATE tasks SET state = 'sent'")
    old.conn.close()
    new = dbmod.connect(tmp_path / "old.db")
    new.conn.execute("UPDATE tasks SET state = 'sent', sms_sent_at = '2026-11-26 08:00'")
    new.conn.execute("INSERT INTO calls (task_id, clerk, called_at, logged_at, outcome,"
                     " appointment_at) VALUES (1, 'a', 'x', 'x', 'booked', '2026-12-01 09:00')")
    new.conn.execute("INSERT INTO calls (task_id, clerk, called_at, logged_at, outcome)"
                     " VALUES (1, 'a', 'x', 'x', 'done_elsewhere')")
    assert new.conn.execute("SELECT outcome, used_try FROM calls ORDER BY id").fetchall() == [
        ("reached", 1), ("booked", 1), ("done_elsewhere", 1)]
    with pytest.raises(sqlite3.IntegrityError):  # the lists grew; they still hold
        new.conn.execute("UPDATE tasks SET state = 'lost'")
    assert new.conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert new.conn.execute("PRAGMA foreign_key_check").fetchall() == []


def test_m014_adds_sms_end_states_and_keeps_existing_optouts(tmp_path):
    import sqlite3

    old = dbmod.connect(tmp_path / "old.db", migrate=False)
    with dbmod.write_transaction(old):
        migrations.MIGRATIONS.apply(old, stop_before="m014_sms_ledger_optouts")
        old.conn.execute("INSERT INTO customers (id, merge_key, created_at, updated_at)"
                         " VALUES (1, 'k', 'x', 'x')")
        old.conn.execute("INSERT INTO optouts VALUES (1, 'sms', '2026-01-01', 'asked')")
        old.conn.execute("INSERT INTO tasks (id, key, kind, due_date, expires_on, channel, reason,"
                         " planned_at, updated_at) VALUES (1, 'k', 'birthday', '2026-11-26',"
                         " '2026-11-26', 'sms', 'r', 'x', 'x')")
    with pytest.raises(sqlite3.IntegrityError):
        old.conn.execute("UPDATE tasks SET state = 'not_sendable'")
    old.conn.close()
    new = dbmod.connect(tmp_path / "old.db")
    new.conn.execute("UPDATE tasks SET state = 'not_sendable'")
    new.conn.execute("UPDATE tasks SET state = 'not_delivered'")
    assert new.conn.execute("SELECT * FROM optouts").fetchall() == [
        (1, "sms", "2026-01-01", "asked", None)]
    with pytest.raises(sqlite3.IntegrityError):
        new.conn.execute("UPDATE tasks SET state = 'lost'")
    assert new.conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def _holder(path):
    """Another process's connection in the middle of a write (the lock held)."""
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("CREATE TABLE IF NOT EXISTS held (x)")
    return other


def test_a_write_waiting_for_the_lock_is_announced_once_then_goes_on(tmp_path, monkeypatch):
    path = tmp_path / "lock.db"
    database = dbmod.connect(path)
    other = _holder(path)
    told = []

    def notice(where):
        told.append(where)
        other.execute("COMMIT")  # the other writer finishes while we wait

    monkeypatch.setattr(dbmod, "LOCK_NOTICE_MS", 50)  # not a timing assertion: a short first wait
    monkeypatch.setattr(dbmod, "lock_wait_notice", notice)
    with dbmod.write_transaction(database):
        database.conn.execute("CREATE TABLE mine (x)")
    assert told == [str(path)]
    assert {"held", "mine"} <= set(database.table_names())
    # The wait after the notice is the rest of the minute; the next write waits as long.
    assert database.conn.execute("PRAGMA busy_timeout").fetchone()[0] == dbmod.BUSY_TIMEOUT_MS
    # No other writer: nothing to say.
    with dbmod.write_transaction(database):
        database.conn.execute("INSERT INTO mine VALUES (1)")
    assert told == [str(path)]
    other.close()


def test_a_lock_never_released_ends_in_busy_after_one_notice(tmp_path, monkeypatch):
    path = tmp_path / "lock.db"
    database = dbmod.connect(path)
    other = _holder(path)
    told = []
    monkeypatch.setattr(dbmod, "LOCK_NOTICE_MS", 20)
    monkeypatch.setattr(dbmod, "BUSY_TIMEOUT_MS", 60)
    monkeypatch.setattr(dbmod, "lock_wait_notice", told.append)
    with pytest.raises(sqlite3.OperationalError, match="locked"), \
            dbmod.write_transaction(database):
        database.conn.execute("CREATE TABLE mine (x)")
    assert told == [str(path)] and not database.conn.in_transaction
    other.execute("ROLLBACK")
    other.close()


def test_the_command_line_says_what_it_waits_for_on_stderr(tmp_path):
    """A real second process: `action add` while this test holds the write lock. Its stderr
    is read until it says it is waiting; then the lock is let go and the command ends well."""
    import subprocess
    import sys

    path = tmp_path / "lock.db"
    dbmod.connect(path).conn.close()
    other = _holder(path)
    env = dict(os.environ, CRMCLI_DB=str(path), CRMCLI_LANG="zh_CN")
    proc = subprocess.Popen([sys.executable, "-m", "crmcli.cli", "action", "add", "复查",
                             "--owner", "王", "--deadline", "2100-01-01"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stderr.readline()  # blocks until the command has something to say
        other.execute("COMMIT")
        out, rest = proc.communicate()
    finally:
        if proc.poll() is None:
            proc.kill()
        other.close()
    assert line.startswith(f"crmcli: 正在等待 {path}："), line + rest
    assert rest == "" and proc.returncode == 0, (line, rest)
    assert "#1" in out
