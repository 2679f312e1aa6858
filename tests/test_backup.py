"""The database as a file: checkpointed after every command, backup, restore, doctor,
permissions, a newer release's file, a damaged file."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crmcli import backup, doctor
from crmcli import db as dbmod
from crmcli.cli import app
from crmcli.errors import DatabaseError, UsageError

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"
# The day the sample was generated for: importing it as of that day does not depend on the
# real date (deliveries after "today" are refused).
SAMPLE_DAY = "2026-11-26"
runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def counts(path: Path) -> dict:
    """Rows per table, read from ``path`` alone (no -wal beside it)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
    finally:
        conn.close()


def copy_alone(src: Path, dest: Path) -> Path:
    """What a clerk's `cp crmcli.db backup.db` takes: the main file, nothing beside it."""
    shutil.copyfile(src, dest)
    return dest


COMMANDS = [
    ("import", "vehicles", SAMPLE / "delivery_list.xlsx", "--date", "2026-11-26"),
    ("import", "orders", SAMPLE / "dms_orders.xlsx", "--date", "2026-11-26"),
    ("plan", "--date", "2026-11-26"),
    ("today", "--date", "2026-11-26", "--json"),
    ("classify", "--date", "2026-11-26"),
    ("log", "{task}", "-o", "reached", "--overall", "5", "--at", "2026-11-26 10:30"),
    ("complaint", "add", "#1", "--text", "异响", "--category", "维修质量"),
    ("customer", "edit", "#2", "--no-consent"),
    ("action", "add", "洗车复查", "--owner", "王经理", "--deadline", "2026-12-10",
     "--at", "2026-11-26 10:00"),
]


def test_a_copy_of_the_main_file_after_any_command_holds_everything(tmp_path):
    path = Path(os.environ["CRMCLI_DB"])
    for i, cmd in enumerate(COMMANDS):
        if "{task}" in cmd:
            conn = sqlite3.connect(path)
            task = conn.execute("SELECT min(id) FROM tasks WHERE state = 'open'"
                                " AND channel != 'sms'").fetchone()[0]
            conn.close()
            cmd = tuple(str(task) if a == "{task}" else a for a in cmd)
        r = invoke(*cmd)
        assert r.exit_code in (0, 1), (cmd, r.output)
        live = dbmod.connect(path)
        want = {t: live.conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]
                for t in counts(path)}
        live.conn.close()
        assert not Path(f"{path}-wal").exists() or Path(f"{path}-wal").stat().st_size == 0, cmd
        copy = copy_alone(path, tmp_path / f"copy{i}.db")
        assert counts(copy) == want, cmd
    assert want["customers"] > 200 and want["calls"] == 1 and want["complaints"] == 1


def test_backup_is_one_private_whole_file_while_another_connection_writes(tmp_path):
    path = Path(os.environ["CRMCLI_DB"])
    assert invoke("import", "vehicles", SAMPLE / "delivery_list.xlsx",
                  "--date", SAMPLE_DAY).exit_code == 0
    other = dbmod.connect(path)  # another terminal, in the middle of its work
    other.conn.execute("BEGIN IMMEDIATE")
    other.conn.execute("UPDATE customers SET notes = 'uncommitted' WHERE id = 1")
    dest = tmp_path / "b.db"
    r = invoke("backup", dest, "--json")
    other.conn.execute("ROLLBACK")
    other.conn.close()
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["customers"] == counts(path)["customers"] > 200
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600
    assert not Path(f"{dest}-wal").exists()
    conn = sqlite3.connect(dest)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert conn.execute("SELECT count(*) FROM customers WHERE notes = 'uncommitted'").fetchone() == (0,)
    conn.close()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_backup_into_a_bad_path_is_one_line_exit_4(tmp_path, db):
    r = invoke("backup", tmp_path / "missing" / "b.db")
    assert r.exit_code == 4 and "does not exist" in r.stderr and "Traceback" not in r.output
    r = invoke("backup", tmp_path)
    assert r.exit_code == 4 and "is a folder" in r.stderr


KILLED_WRITER = r"""
import sqlite3, sys, os
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA journal_mode = WAL")
conn.execute("PRAGMA wal_autocheckpoint = 0")  # the commit stays in the -wal
conn.execute("UPDATE customers SET notes = 'after the backup' WHERE id = 1")
print("committed", flush=True)
sys.stdin.readline()  # killed here, the -wal not checkpointed
"""


def test_restore_round_trip_with_a_wal_present(tmp_path):
    path = Path(os.environ["CRMCLI_DB"])
    assert invoke("import", "vehicles", SAMPLE / "delivery_list.xlsx",
                  "--date", SAMPLE_DAY).exit_code == 0
    before = counts(path)
    assert invoke("backup", tmp_path / "night.db").exit_code == 0
    # The day's work: a change committed to the -wal by a process that then dies.
    p = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(path)],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "committed"
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    wal = Path(f"{path}-wal")
    assert wal.exists() and wal.stat().st_size > 0
    r = invoke("restore", tmp_path / "night.db", "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert not wal.exists()
    assert counts(path) == before
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT notes FROM customers WHERE id = 1").fetchone() == (None,)
    conn.close()
    # The replaced file is kept, with the day's commit folded into it.
    kept = Path(out["kept"])
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    conn = sqlite3.connect(f"file:{kept}?mode=ro", uri=True)
    assert conn.execute("SELECT notes FROM customers WHERE id = 1").fetchone() == ("after the backup",)
    conn.close()
    # and the restored file is used as usual
    assert invoke("customer", "show", "#1").exit_code == 0


def test_restore_refuses_what_is_not_a_backup_of_this_release(tmp_path):
    path = Path(os.environ["CRMCLI_DB"])
    dbmod.close(dbmod.connect(path))
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(UsageError, match="not a database"):
        backup.restore(text, path)
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE x (a)").connection.commit()
    with pytest.raises(UsageError, match="not a crmcli database"):
        backup.restore(other, path)
    newer = tmp_path / "newer.db"
    shutil.copyfile(path, newer)
    c = sqlite3.connect(newer)
    c.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
              "VALUES ('crmcli', 'm999_future', '2030-01-01')")
    c.commit()
    c.close()
    with pytest.raises(UsageError, match="newer release"):
        backup.restore(newer, path)
    with pytest.raises(UsageError, match="database itself"):
        backup.restore(path, path)
    r = invoke("restore", tmp_path / "none.db")
    assert r.exit_code == 2 and "is not a file" in r.stderr


def test_restore_refuses_a_database_in_use(tmp_path):
    path = Path(os.environ["CRMCLI_DB"])
    dbmod.close(dbmod.connect(path))
    shutil.copyfile(path, tmp_path / "b.db")
    other = dbmod.connect(path)
    other.conn.execute("CREATE TABLE IF NOT EXISTS t_in_use (a)")
    try:
        with pytest.raises(DatabaseError, match="in use"):
            backup.restore(tmp_path / "b.db", path)
    finally:
        other.conn.close()


def newer_release(path: Path) -> None:
    c = sqlite3.connect(path)
    c.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
              "VALUES ('crmcli', 'm999_future', '2030-01-01')")
    c.commit()
    c.close()


def test_a_newer_release_file_is_refused_with_exit_5(tmp_path):
    path = Path(os.environ["CRMCLI_DB"])
    dbmod.close(dbmod.connect(path))
    newer_release(path)
    r = invoke("customer", "list")
    assert r.exit_code == 5 and "newer release" in r.stderr and "Traceback" not in r.output
    r = invoke("doctor", "--json")
    assert r.exit_code == 5 and json.loads(r.stdout)["unknown_migrations"] == ["m999_future"]


def damage(path: Path) -> None:
    """Overwrite the middle half of the file with garbage: pages that no longer parse,
    among them some of every large table whatever indexes the schema has."""
    size = path.stat().st_size
    with open(path, "r+b") as fh:
        fh.seek(size // 4)
        fh.write(b"\xff" * (size // 2))


def test_a_damaged_file_is_reported_with_what_to_do(tmp_path):
    path = Path(os.environ["CRMCLI_DB"])
    assert invoke("import", "vehicles", SAMPLE / "delivery_list.xlsx",
                  "--date", SAMPLE_DAY).exit_code == 0
    assert invoke("doctor").exit_code == 0
    damage(path)
    r = invoke("doctor")
    assert r.exit_code == 5 and "NOT whole" in r.stdout
    assert "malformed" in r.stdout or "integrity check failed" in r.stdout
    for cmd in (("customer", "list", "--limit", "500"), ("today", "--date", "2026-11-26"),
                ("classify", "--date", "2026-11-26")):
        r = invoke(*cmd)
        assert r.exit_code == 5, (cmd, r.output)
        assert "Traceback" not in r.output and "crmcli doctor" in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1


def test_doctor_reports_the_file(tmp_path):
    path = Path(os.environ["CRMCLI_DB"])
    assert invoke("import", "vehicles", SAMPLE / "delivery_list.xlsx",
                  "--date", SAMPLE_DAY).exit_code == 0
    settings = tmp_path / "s.toml"
    settings.write_text('[dealer]\nname = "广丰4S店"\n', encoding="utf-8")
    r = invoke("--settings", settings, "doctor", "--json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["ok"] and d["integrity"] == ["ok"] and d["foreign_key_errors"] == 0
    assert d["schema"].startswith("m0") and d["migrations_pending"] == []
    assert d["customers"] == counts(path)["customers"] and d["flagged_fields"] == 2
    assert d["settings"] == {"dealer.name": "广丰4S店"}
    assert d["modes"]["db"] == "0o600"
    r = invoke("doctor")
    assert "verdict    whole" in r.stdout


def test_loose_permissions_are_tightened_when_opened(tmp_path):
    path = Path(os.environ["CRMCLI_DB"])
    dbmod.close(dbmod.connect(path))
    os.chmod(path, 0o644)
    db = dbmod.connect(path)
    db.conn.execute("CREATE TABLE t_perm (a)")
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, p
    dbmod.close(db)


def test_a_copy_made_by_backup_is_a_crmcli_database(tmp_path):
    db = dbmod.connect(Path(os.environ["CRMCLI_DB"]))
    r = backup.backup(db, tmp_path / "b.db")
    dbmod.close(db)
    assert backup.check_backup(tmp_path / "b.db")["schema"] == r["schema"]
    assert doctor.examine(tmp_path / "b.db")["ok"]
