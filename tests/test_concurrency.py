"""Two clerks log calls while planning and an import run at once: nothing locked, nothing lost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from crmcli import db as dbmod
from crmcli.cli import app

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"

CLERK = """
import json, sys
from datetime import datetime
from crmcli import calls, db, settings
database = db.connect()
s = settings.load()
for tid in json.loads(sys.argv[1]):
    calls.log_call(database, tid, "reached", s, by=sys.argv[2], scores={"overall": 5},
                   at=datetime(2026, 11, 26, 10, 0))
print("clerk done")
"""

PLANNER = """
from datetime import date
from crmcli import db, planner, settings
database = db.connect()
s = settings.load()
for _ in range(4):
    planner.plan(database, date(2026, 11, 26), s, force=True)
print("planner done")
"""

IMPORTER = """
import sys
from datetime import date
from crmcli import db
from crmcli import importing
database = db.connect()
for _ in range(3):
    importing.import_file(database, sys.argv[1], "orders", today=date(2026, 11, 26), force=True)
print("importer done")
"""


def test_two_clerks_plan_and_import_at_once(sample_db):
    runner = CliRunner()
    r = runner.invoke(app, ["today", "--date", "2026-11-26", "--channel", "call", "--json"])
    ids = [t["id"] for t in json.loads(r.stdout)][:60]
    assert len(ids) >= 20
    half = len(ids) // 2
    env = dict(os.environ)
    procs = [
        subprocess.Popen([sys.executable, "-c", CLERK, json.dumps(ids[:half]), "clerk_a"], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True),
        subprocess.Popen([sys.executable, "-c", CLERK, json.dumps(ids[half:]), "clerk_b"], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True),
        subprocess.Popen([sys.executable, "-c", PLANNER], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True),
        subprocess.Popen([sys.executable, "-c", IMPORTER, str(SAMPLE / "dms_orders.xls")], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True),
    ]
    for p in procs:
        stdout, stderr = p.communicate(timeout=600)
        assert p.returncode == 0, stderr
        assert "locked" not in stderr and "done" in stdout
    database = dbmod.connect()
    logged = database.conn.execute(
        "SELECT clerk, count(*) FROM calls GROUP BY clerk ORDER BY clerk").fetchall()
    assert logged == [("clerk_a", half), ("clerk_b", len(ids) - half)]
    states = {s for (s,) in database.conn.execute(
        f"SELECT DISTINCT state FROM tasks WHERE id IN ({','.join(map(str, ids))})")}
    assert states == {"done"}
