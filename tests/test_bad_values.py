"""Bad values over every command: never a traceback, and the documented exit code.

Exit codes (README, errors.py): 2 arguments refused, 3 not found, 4 an output file
cannot be written, 5 the database cannot be used, 70 a defect. 1 is only "rows
rejected" and never the answer to a bad value.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crmcli.cli import app

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"
runner = CliRunner()

BAD_DAYS = ["9999-12-31", "0001-01-01", "1899-12-31", "2101-01-01", "2026-02-30", "tomorrow", ""]
BAD_TIMES = ["9999-12-31 10:00", "0001-01-01", "2026-13-01 10:00", "10:30", ""]
BAD_MONTHS = ["9999-12", "0001-01", "2026-13", "2026-1x", ""]
HUGE = ["9223372036854775808", "99999999999999999999999"]  # beyond SQLite's integer

DAY_OPTIONS = [
    ("classify", "--date"), ("classify", "--since"), ("retention", "--date"), ("plan", "--date"),
    ("today", "--date"), ("export", "--date"), ("action list", "--date"),
    ("stats", "--date"), ("stats", "--week"),
    ("import orders {orders}", "--date"), ("import vehicles {vehicles}", "--date"),
    ("action add 复查 --owner 王", "--deadline"), ("customer edit #1 --note x", "--birthday"),
    ("template preview birthday --customer #1", "--date"),
    ("optout add #1 sms", "--date"),
    ("broadcast weather --text 台风预警 --yes", "--date"),
]
TIME_OPTIONS = [
    ("log {task} -o no_answer", "--at"), ("log {task} -o busy", "--call-at"),
    ("complaints", "--at"), ("complaint add #1 --text 异响 --category 维修质量", "--at"),
    ("complaint escalate 1", "--at"), ("complaint reply 1", "--at"),
    ("complaint close 1", "--at"), ("action add 复查 --owner 王 --deadline 2026-12-10", "--at"),
    ("action approve 1", "--at"), ("action done 1", "--at"),
]
MONTH_OPTIONS = [("stats", "--month"), ("stats unsatisfied", "--month"),
                 ("stats unreached", "--month"),
                 ("action add 复查 --owner 王 --deadline 2026-12-10", "--month")]
ID_COMMANDS = [
    "log {id} -o no_answer", "complaint escalate {id}", "complaint reply {id}",
    "complaint close {id}", "complaint show {id}", "action approve {id}", "action done {id}",
    "action add 复查 --owner 王 --deadline 2026-12-10 --complaint {id}",
    "customer show #{id}", "customer edit #{id} --note x", "optout list #{id}",
]
LIMIT_COMMANDS = ["today --date 2026-11-26 --limit {n}", "customer list --limit {n}",
                  "customer list --offset {n}"]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """One sample database for the whole matrix (the commands given bad values change
    nothing, and those that would are refused first)."""
    path = tmp_path_factory.mktemp("bad") / "bad.db"
    env = {"CRMCLI_DB": str(path), "COLUMNS": "120", "CRMCLI_LANG": "en"}
    for args in (["import", "vehicles", SAMPLE / "delivery_list.xlsx", "--date", "2026-11-26"],
                 ["import", "orders", SAMPLE / "dms_orders.xlsx", "--date", "2026-11-26"],
                 ["plan", "--date", "2026-11-26"]):
        r = runner.invoke(app, [str(a) for a in args], env=env)
        assert r.exit_code in (0, 1), r.output
    import sqlite3

    conn = sqlite3.connect(path)
    task = conn.execute("SELECT min(id) FROM tasks WHERE state = 'open' AND channel != 'sms'"
                        ).fetchone()[0]
    conn.close()
    return {"env": env, "task": str(task), "path": path}


def run(store, line: str, *extra: str):
    args = [a.format(task=store["task"], orders=SAMPLE / "dms_orders.xlsx",
                     vehicles=SAMPLE / "delivery_list.xlsx") for a in line.split()]
    return runner.invoke(app, args + list(extra), env={**os.environ, **store["env"]})


def refused(r, codes=(2,)) -> None:
    out = r.output + (r.stderr if r.stderr_bytes is not None else "")
    assert "Traceback" not in out, out
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    assert r.exit_code in codes, (r.exit_code, out)
    assert r.stderr.strip(), "a refusal says why on stderr"


# An empty --birthday clears it (customer edit's way to erase a wrong one): not bad.
CASES = ([(f"{c} {o}", v, (2,)) for c, o in DAY_OPTIONS for v in BAD_DAYS
          if (o, v) != ("--birthday", "")]
         + [(f"{c} {o}", v, (2,)) for c, o in TIME_OPTIONS for v in BAD_TIMES]
         + [(f"{c} {o}", v, (2,)) for c, o in MONTH_OPTIONS for v in BAD_MONTHS])


@pytest.mark.parametrize("line, value, codes", CASES)
def test_bad_dates_and_times_are_refused_with_exit_2(store, line, value, codes):
    cmd, opt = line.rsplit(" ", 1)
    refused(run(store, cmd, opt, value), codes)


@pytest.mark.parametrize("line", ID_COMMANDS)
@pytest.mark.parametrize("value", HUGE + ["0"])
def test_ids_beyond_range_are_refused(store, line, value):
    # 2 for a number SQLite cannot hold, 3 for one it can but that names nothing.
    refused(run(store, line.replace("{id}", value)), (2, 3))


@pytest.mark.parametrize("line", LIMIT_COMMANDS)
@pytest.mark.parametrize("value", HUGE + ["-5"])
def test_limits_beyond_range_are_refused(store, line, value):
    refused(run(store, line.replace("{n}", value)), (2,))


@pytest.mark.parametrize("line", [
    "import orders {orders} --rejects {out}.xlsx", "stats --month 2026-11 --xlsx {out}.xlsx",
    "backup {out}.db", "export --date 2026-11-26 --out {out}"])
@pytest.mark.parametrize("where", ["missing", "folder", "readonly"])
def test_output_paths_are_checked_with_exit_4(store, tmp_path, line, where):
    if where == "missing":
        out = str(tmp_path / "nope" / "x")
    elif where == "folder":
        (tmp_path / "x.xlsx").mkdir()
        (tmp_path / "x.db").mkdir()
        (tmp_path / "x").mkdir()
        out = str(tmp_path / "x")
    else:
        ro = tmp_path / "ro"
        ro.mkdir()
        os.chmod(ro, 0o500)
        if os.access(ro, os.W_OK):
            pytest.skip("running as root: a read-only folder is writable")
        out = str(ro / "x")
    r = run(store, line.replace("{out}", out).replace("{orders}", str(SAMPLE / "dms_orders.xlsx")))
    refused(r, (4,) if "export" not in line else (2, 4))


def test_an_unreadable_database_path_is_exit_5(tmp_path):
    r = runner.invoke(app, ["--db", str(tmp_path), "customer", "list"])
    refused(r, (5,))
    r = runner.invoke(app, ["--db", str(tmp_path / "no" / "such" / "dir" / "x.db"), "today"],
                      env={"CRMCLI_DB": ""})
    assert "Traceback" not in r.output


def test_an_unexpected_error_is_one_line_and_exit_70(monkeypatch, tmp_path, db):
    from crmcli import customers

    def boom(*a, **k):
        raise KeyError("a defect")

    monkeypatch.setattr(customers, "find", boom)
    r = runner.invoke(app, ["customer", "show", "王"])
    assert r.exit_code == 70 and "Traceback" not in r.output
    assert r.stderr.startswith("crmcli: unexpected error: KeyError") and "report" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
