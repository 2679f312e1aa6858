"""Every command once end to end through the CLI: exit code, stdout and stderr."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import messy
import openpyxl
import pytest
from typer.testing import CliRunner

from crmcli import db as dbmod
from crmcli.cli import app

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"
runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_import_orders_json_summary_and_exit_codes(tmp_path):
    good = messy.write_xlsx(tmp_path / "g.xlsx", messy.DEFAULT_ROWS)
    r = invoke("import", "orders", good, "--json", "--date", "2026-11-26")
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)
    assert (summary["inserted"], summary["rejected"], summary["exit_code"]) == (2, 0, 0)
    assert {"column": "工单号", "field": "order_no"} in summary["files"][0]["mapping"]

    bad = messy.write_xlsx(tmp_path / "b.xlsx", messy.DEFAULT_ROWS + [["", "粤B1", "", "", "",
                                                                       "2025-01-01", 1]])
    r = invoke("import", "orders", bad, "--json", "--date", "2026-11-26")
    assert r.exit_code == 1
    assert json.loads(r.stdout)["rejected"] == 1


def test_import_writes_rejects_workbook_to_fix_and_reimport(tmp_path):
    rows = messy.DEFAULT_ROWS + [["", "粤B12345", "", "张伟", "13812345678", "2025-01-01", 1]]
    bad = messy.write_xlsx(tmp_path / "b.xlsx", rows)
    rejects = tmp_path / "rejects.xlsx"
    r = invoke("import", "orders", bad, "--rejects", rejects)
    assert r.exit_code == 1
    assert "1 rejected" in r.stdout and "no order number" in r.stdout
    ws = openpyxl.load_workbook(rejects).active
    got = [[c.value for c in row] for row in ws.iter_rows()]
    assert got[0][:3] == ["行号 Row", "处理 Verdict", "原因 Reason"]
    assert got[0][3:] == messy.DEFAULT_HEADER
    assert got[1][0] == 4 and "no order number" in got[1][2] and got[1][4] == "粤B12345"
    # The clerk fills in the order number and imports the fixed rows from that workbook.
    ws.cell(row=2, column=4, value="RO-FIXED-1")
    ws.parent.save(rejects)
    r = invoke("import", "orders", rejects, "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["inserted"] == 1


def test_dry_run_shows_mapping_and_verdicts_and_writes_nothing(tmp_path):
    good = messy.write_xlsx(tmp_path / "g.xlsx", messy.DEFAULT_ROWS, title_rows=[["某某4S店"]])
    r = invoke("import", "orders", good, "--dry-run")
    assert r.exit_code == 0
    assert "header on row 2" in r.stdout and "order_no" in r.stdout and "inserted" in r.stdout
    assert "dry run, nothing written" in r.stdout
    database = dbmod.connect()
    assert database.conn.execute("SELECT count(*) FROM repair_orders").fetchone()[0] == 0


def test_sample_data_imports_in_every_shipped_format():
    # The sample was generated for one day: importing it "as of" that day does not depend on
    # the real date (orders settled after "today" are refused, so the clock would matter).
    manifest = json.loads((SAMPLE / "manifest.json").read_text(encoding="utf-8"))
    day = manifest["generated_for"]
    r = invoke("import", "vehicles", SAMPLE / "delivery_list.xlsx", "--json", "--date", day)
    assert r.exit_code == 0, r.stderr
    first = invoke("import", "orders", SAMPLE / "dms_orders.xlsx", "--json", "--date", day)
    s = json.loads(first.stdout)
    orders = manifest["dms_orders.xlsx"]
    rejected = len(orders["rows_to_reject"])
    assert first.exit_code == 1 and s["rejected"] == rejected == 2
    # Every data row is either rejected, a repeat of an earlier row, or a new order.
    assert s["inserted"] == orders["data_rows"] - rejected - len(orders["duplicates"])
    for other in ("dms_orders.xls", "dms_orders_gbk.csv"):
        r = invoke("import", "orders", SAMPLE / other, "--json", "--date", day)
        again = json.loads(r.stdout)
        assert (again["inserted"], again["updated"], again["rejected"]) == (0, 0, 2), other


def test_customer_show_list_edit(sample_db):
    database = sample_db
    cid, name, mobile, idn = database.conn.execute(
        "SELECT c.id, c.name, c.mobile, c.id_number FROM customers c"
        " WHERE id_number IS NOT NULL AND mobile IS NOT NULL"
        " AND EXISTS (SELECT 1 FROM repair_orders o WHERE o.customer_id = c.id)"
        " ORDER BY id LIMIT 1").fetchone()
    r = invoke("customer", "show", mobile)
    assert r.exit_code == 0, r.output
    assert name in r.stdout and "Repair orders" in r.stdout
    assert idn not in r.stdout and idn[:6] + "********" + idn[-4:] in r.stdout
    assert idn in invoke("customer", "show", mobile, "--show-id").stdout
    data = json.loads(invoke("customer", "show", f"#{cid}", "--json").stdout)
    assert data["customer"]["id"] == cid and "*" in data["customer"]["id_number"]
    assert data["orders_total_fen"] == sum(o["total_fen"] or 0 for o in data["orders"])

    r = invoke("customer", "edit", f"#{cid}", "--lunar-birthday", "闰4-30", "--call-time",
               "18:00后", "--no-consent")
    assert r.exit_code == 0 and "changed" in r.stdout
    row = database.conn.execute("SELECT lunar_birthday, preferred_call_time, callback_consent"
                                " FROM customers WHERE id=?", (cid,)).fetchone()
    assert row == ("L04-30", "18:00后", 0)
    audit = database.conn.execute("SELECT field, by_user FROM changes WHERE entity_id=? AND"
                                  " import_id IS NULL ORDER BY field", (cid,)).fetchall()
    assert audit == [("callback_consent", "tester"), ("lunar_birthday", "tester"),
                     ("preferred_call_time", "tester")]
    listed = json.loads(invoke("customer", "list", "--no-consent", "--json").stdout)
    assert [c["id"] for c in listed] == [cid]


def test_customer_not_found_and_ambiguous_are_one_line_errors(sample_db):
    r = invoke("customer", "show", "13000000000")
    assert r.exit_code == 3 and r.stderr.startswith("crmcli: no customer matches")
    r = invoke("customer", "show", "王")
    assert r.exit_code == 2 and "customers match" in r.stderr and "#" in r.stderr
    r = invoke("customer", "edit", "#1", "--birthday", "1990-02-30")
    assert r.exit_code == 2 and "not a real date" in r.stderr


def _commands(group, prefix=()):
    import typer.main

    cmd = typer.main.get_command(group)
    out = []

    def walk(c, path):
        subs = getattr(c, "commands", None)
        if subs:
            for name, sub in subs.items():
                walk(sub, path + (name,))
        else:
            out.append((path, c))

    walk(cmd, prefix)
    return out


@pytest.mark.parametrize("path", [p for p, _ in _commands(app)], ids=" ".join)
def test_every_command_has_help(path):
    r = invoke(*path, "--help")
    assert r.exit_code == 0
    cmd = dict(_commands(app))[path]
    assert (cmd.help or "").strip(), f"{' '.join(path)} has no docstring"
    for param in cmd.params:
        if param.name not in ("help", "ctx") and hasattr(param, "help") and param.param_type_name == "option":
            assert param.help, f"{' '.join(path)} option {param.name} has no help"


def test_help_and_cli_import_do_not_load_workbook_libraries():
    code = ("import sys, crmcli.cli; bad = [m for m in ('openpyxl', 'python_calamine', 'pandas',"
            " 'crmcli.importing') if m in sys.modules]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_today_loads_no_import_machinery(sample_db, tmp_path):
    """`today` runs every morning: no cleaners, no pydantic, no package-metadata scan."""
    path = sample_db.conn.execute("PRAGMA database_list").fetchone()[2]
    code = ("import sys; from crmcli.cli import app; sys.argv = ['crmcli', '--db', sys.argv[1],"
            " 'today', '--date', '2026-11-26']\n"
            "try:\n    app()\nexcept SystemExit:\n    pass\n"
            "print([m for m in ('crmcli.normalize', 'crmcli.importing', 'openpyxl', 'pydantic',"
            " 'importlib.metadata') if m in sys.modules], file=sys.stderr)")
    out = subprocess.run([sys.executable, "-c", code, path], capture_output=True, text=True,
                         check=True)
    assert "to do" in out.stdout
    assert out.stderr.strip().splitlines()[-1] == "[]"


def test_readme_commands_are_what_ci_runs():
    root = Path(__file__).resolve().parent.parent
    readme = (root / "README.md").read_text(encoding="utf-8")
    ci = (root / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    for tag in ("# README-1", "# README-2"):
        line = ci[ci.index(tag) + 1]
        assert line in readme, f"{tag} in .ci/run is not in the README: {line}"


def test_rejects_into_a_missing_folder_is_refused_before_importing(tmp_path):
    good = messy.write_xlsx(tmp_path / "g.xlsx", messy.DEFAULT_ROWS)
    r = invoke("import", "orders", good, "--rejects", tmp_path / "nope" / "r.xlsx")
    assert r.exit_code == 4 and "does not exist" in r.stderr and "Traceback" not in r.output
    assert dbmod.connect().conn.execute("SELECT count(*) FROM repair_orders").fetchone()[0] == 0


def test_today_table_shows_the_most_urgent_screenful_and_counts_the_rest(sample_db):
    everything = json.loads(invoke("today", "--date", "2026-11-26", "--json").stdout)
    assert len(everything) > 25
    table = invoke("today", "--date", "2026-11-26").stdout
    assert f"{len(everything)} to do" in table
    assert f"... {len(everything) - 25} more: use --limit" in table
    # The rows shown are the first 25 of the ranked list, no others.
    shown = {t["id"] for t in everything if f"│ {t['id']} │" in table or f"│{t['id']} │" in table}
    assert shown and shown <= {t["id"] for t in everything[:25]}
    wider = invoke("today", "--date", "2026-11-26", "--limit", "40").stdout
    assert f"... {len(everything) - 40} more" in wider


def test_today_json_written_in_chunks_is_one_json_array(sample_db, monkeypatch):
    from crmcli.cli import day

    whole = invoke("today", "--date", "2026-11-26", "--json").stdout
    monkeypatch.setattr(day, "JSON_CHUNK", 3)
    chunked = invoke("today", "--date", "2026-11-26", "--json").stdout
    items = json.loads(chunked)
    assert len(items) > 7 and items == json.loads(whole)
    assert chunked == json.dumps(items, ensure_ascii=False) + "\n"


def test_the_console_script_exits_with_the_commands_code_and_all_its_output(sample_db, tmp_path):
    """main() ends the process without Python's teardown: output and codes must survive it."""
    path = sample_db.conn.execute("PRAGMA database_list").fetchone()[2]

    def run(*args):
        return subprocess.run([sys.executable, "-m", "crmcli.cli", "--db", path, *args],
                              capture_output=True, text=True)

    whole = run("today", "--date", "2026-11-26", "--json")
    assert whole.returncode == 0 and len(json.loads(whole.stdout)) > 25
    missing = run("log", "999999", "--outcome", "reached")
    assert missing.returncode == 3 and missing.stderr.startswith("crmcli: no task #999999")
    usage = run("today", "--date", "not-a-date")
    assert usage.returncode == 2 and "Traceback" not in usage.stderr
    helped = run("--help")
    assert helped.returncode == 0 and "today" in helped.stdout
    # A log made through the script is in the file afterwards (committed before the exit).
    task = json.loads(whole.stdout)[0]["id"]
    assert run("log", str(task), "--outcome", "no_answer").returncode == 0
    assert dbmod.connect(path).conn.execute(
        "SELECT count(*) FROM calls WHERE task_id = ?", (task,)).fetchone()[0] == 1


def test_import_json_has_one_shape_for_one_file_or_several(tmp_path):
    good = messy.write_xlsx(tmp_path / "g.xlsx", messy.DEFAULT_ROWS)
    bad = messy.write_xlsx(tmp_path / "b.xlsx", messy.DEFAULT_ROWS + [["", "粤B1", "", "", "",
                                                                       "2025-01-01", 1]])
    missing = tmp_path / "nope.xlsx"
    one = json.loads(invoke("import", "orders", good, "--json", "--date", "2026-11-26").stdout)
    r = invoke("import", "orders", bad, missing, "--json", "--date", "2026-11-26", "--force")
    several = json.loads(r.stdout)
    assert set(one) == set(several)
    assert (one["status"], one["inserted"], one["exit_code"], len(one["files"])) == (
        "done", 2, 0, 1)
    assert one["files"][0]["file"] == str(good)
    # b.xlsx: its 2 orders again (unchanged), 1 row rejected; nope.xlsx refused (exit 2).
    assert r.exit_code == 2
    assert (several["status"], several["rows_read"], several["unchanged"], several["rejected"],
            several["exit_code"]) == ("mixed", 3, 2, 1, 2)
    assert [f["status"] for f in several["files"]] == ["done", "refused"]
    assert {p["file"] for p in several["problems"]} == {str(bad)}
