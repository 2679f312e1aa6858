"""Personal data and hostile text: forget, masking, length caps, and a corpus of hostile
strings through every display and every workbook."""

from __future__ import annotations

import json
import os
import re
import sqlite3
from pathlib import Path

import messy
import openpyxl
import pytest
from test_text_files import HOSTILE
from typer.testing import CliRunner

from crmcli import privacy
from crmcli.cli import app

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"
runner = CliRunner()
DAY = "2026-11-26"


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "120", "CRMCLI_LANG": "en"})


def db_path() -> Path:
    return Path(os.environ["CRMCLI_DB"])


def sql(q, params=()):
    conn = sqlite3.connect(db_path())
    try:
        rows = conn.execute(q, params).fetchall()
        conn.commit()
        return rows
    finally:
        conn.close()


def dump() -> str:
    conn = sqlite3.connect(db_path())
    try:
        return "\n".join(conn.iterdump())
    finally:
        conn.close()


@pytest.fixture
def sample():
    for cmd in (("import", "vehicles", SAMPLE / "delivery_list.xlsx", "--date", DAY),
                ("import", "orders", SAMPLE / "dms_orders.xlsx", "--date", DAY),
                ("plan", "--date", DAY)):
        assert invoke(*cmd).exit_code in (0, 1)


def test_mask_phone():
    assert privacy.mask_phone("13900000079") == "139****0079"
    assert privacy.mask_phone("075586543210") == "075*****3210"
    assert privacy.mask_phone("86543210") == "****3210"
    assert privacy.mask_phone(None) == ""


def test_forget_erases_the_person_everywhere_and_keeps_the_figures(sample):
    cid, mobile, name = sql("SELECT c.id, c.mobile, c.name FROM customers c JOIN tasks t"
                            " ON t.customer_id = c.id WHERE t.state = 'open' AND t.channel != 'sms'"
                            " AND c.mobile IS NOT NULL ORDER BY c.id LIMIT 1")[0]
    task = sql("SELECT min(id) FROM tasks WHERE customer_id = ? AND state = 'open'"
               " AND channel != 'sms'", (cid,))[0][0]
    secret = "备注里的秘密"
    assert invoke("customer", "edit", f"#{cid}", "--note", secret, "--birthday", "1985-03-05",
                  "--call-phone", "13700001111").exit_code == 0
    assert invoke("log", task, "-o", "reached", "--overall", "2", "--note", secret + "2",
                  "--complaint", secret + "3", "--category", "维修质量",
                  "--at", f"{DAY} 10:30").exit_code == 0
    orders = sql("SELECT count(*), sum(total_fen) FROM repair_orders WHERE customer_id = ?", (cid,))
    before = json.loads(invoke("stats", "--month", "2026-11", "--json").stdout)
    assert mobile in dump() and secret in dump()

    r = invoke("customer", "forget", f"#{cid}")
    assert r.exit_code == 2 and "--yes" in r.stderr  # no terminal, no confirmation: refused
    r = invoke("customer", "forget", f"#{cid}", "--yes", "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["calls"] == 1 and out["complaints"] == 1 and out["change_log_values"] >= 3

    text = dump()
    for gone in (mobile, "13700001111", secret, secret + "2", secret + "3", "1985-03-05"):
        assert gone not in text, gone
    row = sql("SELECT name, mobile, birthday, notes, callback_consent FROM customers WHERE id = ?",
              (cid,))[0]
    assert row == (None, None, None, None, 0)
    assert sql("SELECT count(*), sum(total_fen) FROM repair_orders WHERE customer_id = ?",
               (cid,)) == orders
    assert sql("SELECT customer_id, by_user FROM forgotten") == [(cid, "tester")]
    after = json.loads(invoke("stats", "--month", "2026-11", "--json").stdout)
    assert after["callbacks"]["total"] == before["callbacks"]["total"]
    assert after["complaints"]["opened"] == before["complaints"]["opened"]
    r = invoke("customer", "show", f"#{cid}")
    assert r.exit_code == 0 and name not in r.stdout
    assert invoke("doctor", "--json").exit_code == 0
    assert json.loads(invoke("doctor", "--json").stdout)["forgotten"] == 1


def test_an_ambiguous_lookup_lists_candidates_with_masked_phones(sample):
    surname = sql("SELECT substr(name, 1, 1) AS s FROM customers GROUP BY s"
                  " HAVING count(*) > 2 LIMIT 1")[0][0]
    r = invoke("customer", "show", surname)
    assert r.exit_code == 2 and "customers match" in r.stderr
    assert re.search(r"\d{3}\*{4}\d{4}", r.stderr)
    assert not re.search(r"\d{11}", r.stderr)


def test_a_flagged_id_number_is_masked_like_a_valid_one(tmp_path):
    header = ["车牌号码", "车架号", "客户名称", "联系电话", "身份证号", "交车日期"]
    bad_id = "440524198001010019"  # check character wrong (should be 4)
    path = messy.write_xlsx(tmp_path / "v.xlsx", [header, ["粤B12345", "", "张伟", "13812345678",
                                                           bad_id, "2025-01-05"]])
    r = invoke("import", "vehicles", path, "--date", DAY)
    assert r.exit_code == 0, r.output
    assert "440524********0019" in r.stdout and bad_id not in r.stdout
    r = invoke("import", "vehicles", path, "--date", DAY, "--force", "--json")
    assert bad_id not in r.stdout
    r = invoke("customer", "show", "13812345678")
    assert "440524********0019" in r.stdout and bad_id not in r.stdout
    r = invoke("customer", "show", "13812345678", "--json")
    assert bad_id not in r.stdout
    r = invoke("customer", "show", "13812345678", "--show-id")
    assert bad_id in r.stdout


def test_every_text_field_has_a_length_cap(tmp_path):
    header = ["车牌号码", "客户名称", "联系电话", "交车日期"]
    path = messy.write_xlsx(tmp_path / "v.xlsx", [header, ["粤B12345", "王" * 100_000,
                                                           "13812345678", "2025-01-05"]])
    assert invoke("import", "vehicles", path, "--date", DAY).exit_code == 0
    assert sql("SELECT length(name) FROM customers") == [(100,)]
    assert invoke("customer", "edit", "13812345678", "--note", "x" * 10_000).exit_code == 0
    assert sql("SELECT length(notes) FROM customers") == [(4000,)]


def visible_foreign_controls(text: str) -> list[str]:
    """What no display may let through: ESC (CliRunner is no terminal, so Rich adds no
    colour of its own), BEL, other C0 controls, bidi overrides, OSC links. A tab is
    crmcli's own separator in `today`'s plain lines (stored tabs are dropped by
    ``text.clean`` before they get there)."""
    return [ch for ch in text if (ord(ch) < 32 and ch not in "\n\t") or ch in "\x7f\u202e\u202c"
            or 0x80 <= ord(ch) < 0xA0]


def test_hostile_strings_through_every_display_and_workbook(sample, tmp_path):
    """The corpus as names, notes, plates, models, complaint texts and categories, a
    clerk's name, an action: every display shows it as text (no markup, no control, no
    crash) and every workbook keeps it as text (no formula)."""
    ids = [r[0] for r in sql("SELECT c.id FROM customers c JOIN tasks t ON t.customer_id = c.id"
                             " WHERE t.state = 'open' AND t.channel != 'sms' GROUP BY c.id"
                             " ORDER BY c.id LIMIT ?", (len(HOSTILE),))]
    assert len(ids) == len(HOSTILE)
    for cid, s in zip(ids, HOSTILE):
        sql("UPDATE customers SET name = ?, notes = ?, occupation = ? WHERE id = ?",
            (s, s, s, cid))
        sql("UPDATE vehicles SET model = ? WHERE customer_id = ?", (s, cid))
    for cid, s in zip(ids[:6], HOSTILE[:6]):
        task = sql("SELECT min(id) FROM tasks WHERE customer_id = ? AND state = 'open'"
                   " AND channel != 'sms'", (cid,))[0][0]
        r = invoke("log", task, "-o", "reached", "--overall", "2", "--note", s, "--by", s,
                   "--complaint", s, "--category", "维修质量", "--at", f"{DAY} 10:30")
        assert r.exit_code == 0, r.output
    sql("UPDATE complaints SET category = ?", (HOSTILE[9],))  # =HYPERLINK(...)
    assert invoke("action", "add", HOSTILE[9], "--owner", HOSTILE[0],
                  "--deadline", "2026-12-10", "--at", f"{DAY} 11:00").exit_code == 0

    displays = [("today", "--date", DAY, "--limit", "500"), ("customer", "list", "--limit", "500"),
                ("complaints", "--all"), ("complaint", "show", "1"), ("action", "list"),
                ("stats", "--month", "2026-11"), ("stats", "--month", "2026-11", "unsatisfied"),
                ("classify", "--date", DAY), ("classify", "--changes")]
    displays += [("customer", "show", f"#{cid}") for cid in ids]
    shown = 0
    for cmd in displays:
        r = invoke(*cmd)
        assert r.exit_code == 0, (cmd, r.output[-500:])
        assert "Traceback" not in r.output
        bad = visible_foreign_controls(r.stdout)
        assert not bad, (cmd, bad[:5])
        shown += sum(1 for s in ("王七[/bold]", "139[/]0000079", "张三[vip]") if s in r.stdout)
    assert shown  # markup shown as typed, not swallowed

    book = tmp_path / "report.xlsx"
    assert invoke("stats", "--month", "2026-11", "--xlsx", book).exit_code == 0
    rejects = tmp_path / "rejects.xlsx"
    header = ["工单号", "车牌号码", "客户名称", "联系电话", "结算日期", "合计金额"]
    # (a NUL makes any file "binary" to the importer: that string is left out here)
    rows = [header] + [["", "粤B1", s, "13812345678", "2026-11-01", 1] for s in HOSTILE
                       if "\x00" not in s]
    import csv

    hostile_csv = tmp_path / "h.csv"  # a CSV carries what a workbook cannot (ESC, BEL)
    with open(hostile_csv, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    r = invoke("import", "orders", hostile_csv, "--rejects", rejects, "--date", DAY)
    assert r.exit_code == 1 and not visible_foreign_controls(r.stdout), r.output[-800:]
    for path in (book, rejects):
        wb = openpyxl.load_workbook(path)
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for c in row:
                    if isinstance(c.value, str):
                        assert c.data_type != "f" and not c.value.startswith(("=", "+", "@")), \
                            (path.name, c.value[:40])
        assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_the_old_number_leaves_the_merge_key_after_an_edit(tmp_path):
    header = ["车牌号码", "客户名称", "联系电话", "交车日期"]
    path = messy.write_xlsx(tmp_path / "v.xlsx", [header, ["粤B12345", "张伟", "13812345678",
                                                           "2025-01-05"]])
    assert invoke("import", "vehicles", path, "--date", DAY).exit_code == 0
    assert invoke("customer", "edit", "13812345678", "--mobile", "13912345678").exit_code == 0
    assert sql("SELECT merge_key FROM customers") == [("m:13912345678:张伟",)]
    assert "13812345678" not in str(sql("SELECT merge_key FROM customers"))
    # Tomorrow's export still has the old number: the same person on the same car.
    again = messy.write_xlsx(tmp_path / "v2.xlsx", [header, ["粤B12345", "张伟", "13812345678",
                                                             "2025-01-05"], ["粤B99999", "李娜",
                                                             "13700000000", "2025-02-01"]])
    assert invoke("import", "vehicles", again, "--date", DAY).exit_code == 0
    assert sql("SELECT name, mobile FROM customers ORDER BY id") == [
        ("张伟", "13912345678"), ("李娜", "13700000000")]
