"""The daily export for cron: send once, byte-identical reruns, crash safety, who gets an
SMS and when, inert cells, opt-outs; the platform's reports; broadcasts."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import subprocess
import sys
import textwrap
from datetime import date, datetime
from pathlib import Path

import pytest
import store
from typer.testing import CliRunner

from crmcli import broadcast, export, messages, optouts, planner, smsreport
from crmcli import settings as settings_mod
from crmcli.cli import app
from crmcli.errors import SettingsError, UsageError

DAY = date(2026, 11, 26)
EARLY = datetime(2026, 11, 26, 6, 30)
ROOT = Path(__file__).resolve().parent.parent


def dealer_settings() -> dict:
    s = settings_mod.load()
    s["dealer"].update(short_name="安达丰田", hotline="0755-86543210", rescue="400-800-1234",
                       address="深圳市南山区科技园南路8号")
    s["planning"]["contact_window_days"] = 0
    return s


S = dealer_settings()


def prints(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())
            if not p.name.startswith(".")}


def sms_rows(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, so Excel reads the Chinese
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def xlsx_rows(path: Path) -> list[list]:
    from openpyxl import load_workbook

    ws = load_workbook(path).active
    return [list(r) for r in ws.iter_rows(values_only=True)]


def marks(db) -> list[tuple]:
    return db.conn.execute("SELECT task_id, batch, line, mobile, file FROM sms_ledger"
                           " ORDER BY id").fetchall()


@pytest.fixture
def out(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


@pytest.fixture
def day_db(db):
    """A birthday today, an insurance reminder whose SMS goes today (call tomorrow),
    a landline-only birthday and a landline-only insurance reminder."""
    ids = {
        "zhang": store.customer(db, name="张三", gender="M", mobile="13800000001",
                                birthday="1980-11-26"),
        "li": store.customer(db, name="李娜", gender="F", mobile="13800000002"),
        "land_bday": store.customer(db, name="赵六", gender="M", mobile="075586543210",
                                    phone_kind="landline", birthday="1985-11-26"),
        "land_ins": store.customer(db, name="王五", gender="M", mobile="075512345678",
                                   phone_kind="landline"),
    }
    store.vehicle(db, ids["li"], plate="粤B11111", insurance_compulsory_expiry="2026-12-27")
    store.vehicle(db, ids["land_ins"], plate="粤B22222", insurance_compulsory_expiry="2026-12-27")
    planner.plan(db, DAY, S)
    return ids


def task(db, kind: str, customer: int) -> tuple:
    return db.conn.execute("SELECT id, state, channel, state_reason, sms_sent_at FROM tasks"
                           " WHERE kind = ? AND customer_id = ?", (kind, customer)).fetchone()


# --------------------------------------------------------------------------- send once


def test_the_days_files_carry_mobile_text_and_send_time(db, day_db, out):
    r = export.export_day(db, DAY, S, out, now=EARLY)
    assert r.sms_new == 2 and r.new_file == "sms-2026-11-26"
    ins, bday = task(db, "insurance_compulsory", day_db["li"]), task(db, "birthday",
                                                                      day_db["zhang"])
    # In task order: the insurance reminder was planned first.
    expected = [
        ["手机号码", "短信内容", "发送时间"],
        ["13800000002", ("【安达丰田】尊敬的李女士，您的爱车粤B11111交强险将于12月27日到期，"
                         "请及时续保，咨询电话0755-86543210。"), "2026-11-26 08:00"],
        ["13800000001", ("【安达丰田】尊敬的张先生，今天是您的生日，安达丰田全体员工祝您生日快乐、"
                         "万事如意！回T退订"), "2026-11-26 08:00"],
    ]
    assert ins[0] < bday[0]
    assert sms_rows(out / "sms-2026-11-26.csv") == expected
    assert xlsx_rows(out / "sms-2026-11-26.xlsx") == expected
    assert sorted(p.name for p in out.iterdir()) == [
        "calls-2026-11-26.xlsx", "sms-2026-11-26.csv", "sms-2026-11-26.xlsx"]
    for p in out.iterdir():
        assert p.stat().st_mode & 0o777 == 0o600


def test_sending_marks_sms_tasks_sent_and_keeps_the_call_of_an_sms_call_task(db, day_db,
                                                                            out):
    export.export_day(db, DAY, S, out, now=EARLY)
    bday = task(db, "birthday", day_db["zhang"])
    ins = task(db, "insurance_compulsory", day_db["li"])
    assert bday[1:3] == ("sent", "sms") and bday[4] == "2026-11-26 08:00"
    assert ins[1:3] == ("open", "sms_call") and ins[4] == "2026-11-26 08:00"
    ledger = db.conn.execute("SELECT task_id, mobile, text, file, line FROM sms_ledger"
                             " ORDER BY line").fetchall()
    assert [(t, m, f, n) for t, m, _x, f, n in ledger] == [
        (ins[0], "13800000002", "sms-2026-11-26", 1), (bday[0], "13800000001", "sms-2026-11-26", 2)]
    assert ledger[1][2].endswith("回T退订")


def test_two_runs_give_byte_identical_files_and_one_set_of_marks(db, day_db, out):
    export.export_day(db, DAY, S, out, now=EARLY)
    first, first_marks = prints(out), marks(db)
    times = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    again = export.export_day(db, DAY, S, out, now=datetime(2026, 11, 26, 7, 45))
    assert prints(out) == first
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == times  # not even touched
    assert marks(db) == first_marks and len(first_marks) == 2
    assert (again.sms_new, again.sms_earlier, again.new_file) == (0, 2, None)


def test_a_deleted_file_is_written_again_from_the_ledger(db, day_db, out):
    export.export_day(db, DAY, S, out, now=EARLY)
    first = prints(out)
    (out / "sms-2026-11-26.csv").unlink()
    export.export_day(db, DAY, S, out, now=EARLY)
    assert prints(out) == first


def test_a_later_run_the_same_day_writes_only_what_is_new_in_a_new_file(db, day_db, out):
    export.export_day(db, DAY, S, out, now=EARLY)
    first = prints(out)
    new = store.customer(db, name="孙七", gender="F", mobile="13800000009", birthday="1990-11-26")
    planner.plan(db, DAY, S)
    r = export.export_day(db, DAY, S, out, now=datetime(2026, 11, 26, 10, 0, 30))
    assert r.new_file == "sms-2026-11-26-2" and r.sms_new == 1
    rows = sms_rows(out / "sms-2026-11-26-2.csv")
    # Within the sending hours: the next whole minute after the run.
    assert rows[1:] == [["13800000009", rows[1][1], "2026-11-26 10:01"]]
    assert "孙女士" in rows[1][1]
    for name in ("sms-2026-11-26.csv", "sms-2026-11-26.xlsx"):
        assert prints(out)[name] == first[name]
    assert task(db, "birthday", new)[1] == "sent"


# --------------------------------------------------------------------------- crash safety


def test_a_run_that_fails_between_writing_and_marking_marks_nothing(db, day_db, out,
                                                                    monkeypatch):
    real = export._write_calls

    def boom(*args, **kwargs):
        real(*args, **kwargs)
        raise KeyboardInterrupt  # after every file is in place, before the marks

    monkeypatch.setattr(export, "_write_calls", boom)
    with pytest.raises(KeyboardInterrupt):
        export.export_day(db, DAY, S, out, now=EARLY)
    assert marks(db) == []
    assert task(db, "birthday", day_db["zhang"])[1] == "open"
    written = prints(out)
    assert "sms-2026-11-26.csv" in written
    monkeypatch.setattr(export, "_write_calls", real)
    export.export_day(db, DAY, S, out, now=EARLY)
    assert prints(out) == written  # the same lines, the same name, the same bytes
    assert len(marks(db)) == 2


def test_a_process_killed_between_writing_and_marking_leaves_a_consistent_state(tmp_path):
    """A real SIGKILL in a child process, right after the files are renamed into place."""
    dbfile, out = tmp_path / "k.db", tmp_path / "out"
    out.mkdir()
    script = textwrap.dedent(f"""
        import os, signal, sys
        from datetime import date, datetime
        sys.path[:0] = [{str(ROOT)!r}, {str(ROOT / 'tests')!r}]
        import store
        from crmcli import db as dbm, export, planner
        from test_export import dealer_settings
        db = dbm.connect({str(dbfile)!r})
        if sys.argv[1] == "kill":
            store.customer(db, name="张三", gender="M", mobile="13800000001",
                           birthday="1980-11-26")
            s = dealer_settings()
            planner.plan(db, date(2026, 11, 26), s)
            real = export._write_calls
            def killed(*a, **k):
                real(*a, **k)
                os.kill(os.getpid(), signal.SIGKILL)
            export._write_calls = killed
        r = export.export_day(db, date(2026, 11, 26), dealer_settings(), {str(out)!r},
                              now=datetime(2026, 11, 26, 6, 30))
        print(r.sms_new)
    """)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    killed = subprocess.run([sys.executable, "-c", script, "kill"], check=False, env=env,
                            capture_output=True, text=True)
    assert killed.returncode == -9
    from crmcli import db as dbm

    db = dbm.connect(dbfile)
    assert db.conn.execute("SELECT count(*) FROM sms_ledger").fetchone()[0] == 0
    assert db.conn.execute("SELECT state FROM tasks").fetchall() == [("open",)]
    db.conn.close()
    files = prints(out)
    assert "sms-2026-11-26.csv" in files and not any(n.endswith(".tmp") for n in files)
    rerun = subprocess.run([sys.executable, "-c", script, "again"], check=False, env=env,
                           capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    assert rerun.stdout.strip() == "1"
    assert prints(out) == files
    db = dbm.connect(dbfile)
    assert db.conn.execute("SELECT count(*) FROM sms_ledger").fetchone()[0] == 1


# --------------------------------------------------------------------------- who and when


def test_a_landline_never_gets_an_sms(db, day_db, out):
    r = export.export_day(db, DAY, S, out, now=EARLY)
    rows = sms_rows(out / "sms-2026-11-26.csv")
    assert all(row[0].startswith("138") for row in rows[1:])
    assert (r.not_sendable, r.call_only) == (1, 1)
    bday = task(db, "birthday", day_db["land_bday"])
    assert bday[1] == "not_sendable"
    assert bday[3] == "no mobile number for SMS (landline only: 075586543210)"
    # The SMS-then-call task keeps its call: tomorrow's call list has it.
    ins = task(db, "insurance_compulsory", day_db["land_ins"])
    assert ins[1:3] == ("open", "sms_call") and ins[4] is None
    planner.plan(db, date(2026, 11, 27), S)
    out2 = out / "27"
    out2.mkdir()
    r2 = export.export_day(db, date(2026, 11, 27), S, out2, now=datetime(2026, 11, 27, 6, 0))
    calls = xlsx_rows(out2 / "calls-2026-11-27.xlsx")
    assert [row[0] for row in calls[1:]] == sorted(
        [ins[0], task(db, "insurance_compulsory", day_db["li"])[0]])
    assert "075512345678" in {row[4] for row in calls[1:]}
    assert r2.sms_new == 0


def test_a_mobile_among_other_phones_is_used_when_the_main_number_is_a_landline():
    assert export.sms_number("075586543210", "13900000000,075512345678", None) == (
        "13900000000", "")
    assert export.sms_number("13800000001", None, None, {"13800000001"}) == (
        None, "the mobile 13800000001 is flagged: SMS to it failed")
    assert export.sms_number(None, None, None) == (None, "no phone number on file")


def test_a_greeting_is_never_sent_late(db, day_db, out):
    # The export of the next day does not pick up today's birthday.
    planner.plan(db, date(2026, 11, 27), S, as_of=DAY)
    r = export.export_day(db, date(2026, 11, 27), S, out, now=datetime(2026, 11, 27, 6, 0))
    assert task(db, "birthday", day_db["zhang"])[1] != "sent"
    texts = [row[1] for row in sms_rows(out / "sms-2026-11-27.csv")[1:]]
    assert not any("生日" in t for t in texts)
    # ... while the service reminder missed yesterday still goes (inside its window).
    assert any("交强险" in t for t in texts) and r.sms_new == 1


def test_a_run_past_21_sends_service_next_morning_and_no_greeting(db, day_db, out):
    r = export.export_day(db, DAY, S, out, now=datetime(2026, 11, 26, 21, 0))
    assert r.after_hours and r.late_greetings == 1
    rows = sms_rows(out / "sms-2026-11-26.csv")[1:]
    assert [(row[0], row[2]) for row in rows] == [("13800000002", "2026-11-27 08:00")]
    assert "past the sending hours: the SMS go out from 2026-11-27 08:00" in r.summary()
    assert task(db, "birthday", day_db["zhang"])[1] == "open"


def test_a_run_one_minute_before_21_is_inside_the_hours():
    at, late = export.send_time(DAY, datetime(2026, 11, 26, 20, 58, 59), S)
    assert (at, late) == (datetime(2026, 11, 26, 20, 59), False)
    at, late = export.send_time(DAY, datetime(2026, 11, 26, 20, 59, 1), S)
    assert (at, late) == (datetime(2026, 11, 27, 8, 0), True)
    assert export.send_time(DAY, datetime(2026, 11, 25, 23, 0), S) == (
        datetime(2026, 11, 26, 8, 0), False)
    # A missed day exported in the small hours of a later day: 08:00 of that day.
    assert export.send_time(DAY, datetime(2026, 11, 28, 2, 10), S) == (
        datetime(2026, 11, 28, 8, 0), False)
    assert export.send_time(DAY, datetime(2026, 11, 26, 7, 59, 59), S) == (
        datetime(2026, 11, 26, 8, 0), False)


# --------------------------------------------------------------------------- cells


def test_injection_cells_are_inert_in_both_formats(tmp_path):
    row = ("13800000001", "=HYPERLINK(\"http://x\",\"点我\")", "+1")
    csv_rows = list(csv.reader(io.StringIO(export.sms_csv_bytes([row]).decode("utf-8-sig"))))
    assert csv_rows[1] == ["13800000001", "'=HYPERLINK(\"http://x\",\"点我\")", "'+1"]
    path = tmp_path / "x.xlsx"
    path.write_bytes(export.xlsx_bytes("t", ["a", "b", "c"], [list(row)], datetime(2026, 1, 1)))
    assert xlsx_rows(path)[1] == ["13800000001", "'=HYPERLINK(\"http://x\",\"点我\")", "'+1"]


def test_a_hostile_name_is_inert_in_the_call_list_and_verbatim_in_the_store(db, out):
    name = "=cmd|' /C calc'!A0"
    c = store.customer(db, name=name, mobile="13800000005")
    store.vehicle(db, c, insurance_compulsory_expiry="2026-12-26")
    planner.plan(db, DAY, S)
    export.export_day(db, DAY, S, out, now=EARLY)
    rows = xlsx_rows(out / "calls-2026-11-26.xlsx")
    assert rows[1][2] == "'" + name
    assert db.conn.execute("SELECT name FROM customers WHERE id = ?", (c,)).fetchone()[0] == name


# --------------------------------------------------------------------------- opt-outs


def test_optouts_are_honoured_by_export_today_and_the_call_list(db, day_db, out):
    # Stored behind the planner's back (as an old release would have): the export checks.
    db.conn.execute("INSERT INTO optouts (customer_id, what, since, reason) VALUES"
                    " (?, 'marketing', '2026-11-01', 'asked')", (day_db["zhang"],))
    optouts.add(db, day_db["li"], "sms", reason="replied TD", by="clerk", day=DAY)
    r = export.export_day(db, DAY, S, out, now=EARLY)
    assert r.sms_new == 0
    assert task(db, "birthday", day_db["zhang"])[1:4] == ("withdrawn", "sms", "opted out")
    assert task(db, "insurance_compulsory", day_db["li"])[1:3] == ("open", "call")
    optouts.add(db, day_db["li"], "all", reason="do not contact", by="clerk", day=DAY)
    day2 = date(2026, 11, 27)
    listed = planner.today_list(db, day2, S)["tasks"]
    assert day_db["li"] not in {t["customer_id"] for t in listed}
    out2 = out / "b"
    out2.mkdir()
    export.export_day(db, day2, S, out2, now=datetime(2026, 11, 27, 6, 0))
    calls = xlsx_rows(out2 / "calls-2026-11-27.xlsx")
    assert "李女士" not in {row[2] for row in calls[1:]}


def test_a_call_optout_stored_directly_keeps_a_customer_off_the_call_list(db, out):
    c = store.customer(db, name="李娜", gender="F", mobile="13800000002")
    store.vehicle(db, c, insurance_compulsory_expiry="2026-12-26")
    planner.plan(db, DAY, S)
    db.conn.execute("INSERT INTO optouts (customer_id, what, since) VALUES (?, 'call', 'x')", (c,))
    r = export.export_day(db, DAY, S, out, now=EARLY)
    assert r.calls == 0


# --------------------------------------------------------------------------- texts


def test_the_unsubscribe_line_is_on_marketing_kinds_only():
    ctx = messages.context({"name": "张三", "gender": "M"}, {"plate": "粤B12345"}, S,
                           due=DAY, km=5000, holiday="中秋节", first_maintenance=DAY, today=DAY)
    for kind in messages.SMS_TEMPLATES:
        text, _ = messages.sms(kind, ctx, S)
        assert text.startswith("【安达丰田】"), kind
        assert text.endswith("回T退订") == (kind in {"birthday", "holiday", "campaign", "weather",
                                                  "recovery"}), kind
        assert text.count("退订") <= 1


@pytest.mark.parametrize("name, gender, greeting, you", [
    ("张三", "M", "张先生", "您"),
    ("欧阳娜娜", "F", "欧阳女士", "您"),
    ("张三", None, "张三", "您"),
    ("安达物流有限公司", "M", "安达物流有限公司", "贵公司"),
    ("", None, "客户", "您"),
])
def test_how_a_customer_is_addressed(name, gender, greeting, you):
    assert messages.addressing(name, gender) == (greeting, you)


def test_segments_are_70_then_67_each():
    assert [messages.segments("好" * n) for n in (1, 70, 71, 134, 135, 201, 202)] == [
        1, 1, 2, 2, 3, 3, 4]
    assert messages.length("好😀") == 3


def write_settings(tmp_path, body: str) -> Path:
    p = tmp_path / "settings.toml"
    p.write_text(body, encoding="utf-8")
    return p


def test_an_unknown_placeholder_is_refused_at_load_with_its_line(tmp_path):
    p = write_settings(tmp_path, '[dealer]\nshort_name = "安达"\n\n[sms.templates]\n'
                                 'birthday = "祝{greting}生日快乐"\n')
    with pytest.raises(SettingsError) as exc:
        settings_mod.load(p)
    assert "(line 5)" in exc.value.message and "{greting}" in exc.value.message


def test_a_call_script_with_an_unknown_placeholder_is_refused_too(tmp_path):
    p = write_settings(tmp_path, '[care.post_repair]\nscript = "问{plates}"\n')
    with pytest.raises(SettingsError) as exc:
        settings_mod.load(p)
    assert "(line 2)" in exc.value.message and "care.post_repair.script" in exc.value.message


def test_a_missing_signature_is_refused_at_load(tmp_path):
    p = write_settings(tmp_path, '[sms]\nunsubscribe = "回T退订"\nsignature = "安达丰田"\n')
    with pytest.raises(SettingsError) as exc:
        settings_mod.load(p)
    assert "(line 3)" in exc.value.message and "【】" in exc.value.message
    p = write_settings(tmp_path, '[sms.templates]\nbirthday = "【安达】生日快乐"\n')
    with pytest.raises(SettingsError) as exc:
        settings_mod.load(p)
    assert "(line 2)" in exc.value.message


def test_an_unknown_template_kind_is_refused_at_load(tmp_path):
    p = write_settings(tmp_path, '[sms.templates]\nbirthdya = "生日快乐"\n')
    with pytest.raises(SettingsError) as exc:
        settings_mod.load(p)
    assert "(line 2)" in exc.value.message


def test_the_shipped_defaults_are_valid():
    assert messages.validate(settings_mod.load()) == []


def test_an_empty_dealer_number_stops_the_export_before_anything_is_written(db, day_db,
                                                                           out):
    s = dealer_settings()
    s["dealer"]["hotline"] = ""
    with pytest.raises(SettingsError) as exc:
        export.export_day(db, DAY, s, out, now=EARLY)
    assert "dealer.hotline" in exc.value.message
    assert marks(db) == [] and list(out.iterdir()) == []


# --------------------------------------------------------------------------- the command


def run(*args, **kw):
    return CliRunner().invoke(app, list(args), **kw)


def test_export_for_cron_one_line_quiet_json_and_a_missing_database(db, day_db, tmp_path):
    sfile = write_settings(tmp_path, '[dealer]\nshort_name = "安达丰田"\nhotline = "0755-86543210"'
                                     '\nrescue = "400-800-1234"\naddress = "科技园"\n'
                                     '[planning]\ncontact_window_days = 0\n')
    out = tmp_path / "out"
    out.mkdir()
    base = ["--settings", str(sfile), "export", "--out", str(out), "--date", "2026-11-26"]
    r = run(*base)
    assert r.exit_code == 0, r.output
    assert len(r.stdout.splitlines()) == 1 and r.stdout.startswith("2026-11-26: ")
    # On stderr at most the calendar's warning for a year it does not know, never more.
    assert all(line.startswith("crmcli: warning: ") for line in r.stderr.splitlines())
    r = run(*base, "--quiet")
    assert (r.exit_code, r.stdout) == (0, "")
    r = run(*base, "--json")
    assert json.loads(r.stdout)["sms_earlier"] >= 1
    missing = tmp_path / "nope" / "crmcli.db"
    r = run("--db", str(missing), *base)
    assert r.exit_code == 5 and not missing.exists()
    assert r.stderr.count("\n") == 1 and "no database at" in r.stderr
    r = run(*base[:3], "--out", str(tmp_path / "no-such-folder"))
    assert r.exit_code == 4 and r.stderr.count("\n") == 1 and "no such folder" in r.stderr


def test_template_preview_prints_the_text_its_length_and_segments(db, day_db):
    r = run("template", "preview", "birthday", "--customer", "13800000001", "--date",
            "2026-11-26")
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert lines[0] == ("【本店】尊敬的张先生，今天是您的生日，本店全体员工祝您生日快乐、万事如意！回T退订")
    assert lines[1].startswith(f"{messages.length(lines[0])} characters, 1 SMS")
    r = run("template", "preview", "nosuch")
    assert r.exit_code != 0 and "no SMS template" in r.stderr


def test_optout_commands_add_list_remove(db, day_db):
    r = run("optout", "add", "13800000001", "marketing", "--reason", "电话里说不要祝福短信",
            "--by", "李娜")
    assert r.exit_code == 0, r.output
    r = run("optout", "list", "--json")
    assert [(o["customer_id"], o["what"], o["by_user"]) for o in json.loads(r.stdout)] == [
        (day_db["zhang"], "marketing", "李娜")]
    r = run("customer", "show", "13800000001", "--json")
    assert [o["what"] for o in json.loads(r.stdout)["optouts"]] == ["marketing"]
    assert run("optout", "remove", "13800000001", "marketing").exit_code == 0
    assert json.loads(run("optout", "list", "--json").stdout) == []
    r = run("optout", "add", "13800000001", "spam", "--reason", "x")
    assert r.exit_code != 0 and r.stderr.count("\n") == 1


# --------------------------------------------------------------------------- reports


def test_a_delivery_failure_ends_the_task_and_flags_the_number(db, day_db, out, tmp_path):
    export.export_day(db, DAY, S, out, now=EARLY)
    report = tmp_path / "report.csv"
    report.write_text("手机号码,短信内容,发送状态,失败原因\n13800000001,x,失败,空号\n"
                      "13800000002,y,成功,\n13999999999,z,失败,\n", encoding="gbk")
    r = smsreport.import_report(db, report, S, by="cron", day=DAY, now=EARLY)
    assert (r.kind, r.failed, r.delivered, r.not_in_ledger) == ("delivery", 1, 1, 1)
    bday = task(db, "birthday", day_db["zhang"])
    assert bday[1] == "not_delivered" and "空号" in bday[3]
    assert db.conn.execute("SELECT phone FROM phone_flags").fetchall() == [("13800000001",)]
    shown = run("customer", "show", "13800000001", "--json")
    assert [p["phone"] for p in json.loads(shown.stdout)["phone_flags"]] == ["13800000001"]
    # The call of the SMS-then-call task stays; the delivered line is marked.
    assert task(db, "insurance_compulsory", day_db["li"])[1] == "open"
    assert db.conn.execute("SELECT status FROM sms_ledger ORDER BY line").fetchall() == [
        ("delivered",), ("failed",)]
    again = smsreport.import_report(db, report, S, by="cron", day=DAY, now=EARLY)
    assert again.failed == 1  # counted, changed nothing more
    # No SMS goes to a flagged number again.
    store.vehicle(db, day_db["zhang"], insurance_compulsory_expiry="2026-12-28")
    d = date(2026, 11, 27)
    planner.plan(db, d, S, as_of=DAY)
    out2 = out / "b"
    out2.mkdir()
    export.export_day(db, d, S, out2, now=datetime(2026, 11, 27, 6, 0))
    assert "13800000001" not in (out2 / "sms-2026-11-27.csv").read_text("utf-8-sig")


def test_an_unsubscribe_list_becomes_optouts(db, day_db, tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["手机号码", "回复内容", "回复时间"])
    ws.append(["+86 138 0000 0001", "TD", "2026-11-26 09:00"])
    ws.append(["13800000002", "谢谢", "2026-11-26 09:05"])
    ws.append([13712345678, "T", "2026-11-26 09:06"])  # a number cell, as platforms save them
    path = tmp_path / "unsub.xlsx"
    wb.save(path)
    r = run("import", "sms-report", str(path), "--json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert (data["kind"], data["unsubscribed"], data["other_replies"], data["unknown_numbers"]) \
        == ("unsubscribe", 1, 1, 1)
    assert optouts.of_customer(db, day_db["zhang"])[0]["what"] == "marketing"
    again = json.loads(run("import", "sms-report", str(path), "--json").stdout)
    assert (again["unsubscribed"], again["already"]) == (0, 1)


# --------------------------------------------------------------------------- broadcasts


@pytest.fixture
def town(db):
    ids = {}
    for key, addr, usage, delivery in (
            ("nanshan_old", "广东省深圳市南山区科技园", "private", "2018-05-01"),
            ("nanshan_new", "深圳市南山区蛇口", "private", "2025-05-01"),
            ("futian", "深圳市福田区", "commercial", "2019-01-01"),
            ("landline", "深圳市南山区西丽", "private", "2018-01-01")):
        mobile = "075586543210" if key == "landline" else None
        kw = {"phone_kind": "landline"} if mobile else {}
        c = store.customer(db, name=f"客户{key}", gender="F", address=addr,
                           **({"mobile": mobile} if mobile else {}), **kw)
        store.vehicle(db, c, usage=usage, delivery_date=delivery, model="卡罗拉")
        ids[key] = c
    return ids


def test_broadcast_chooses_by_region_age_and_usage_and_honours_optouts(db, town):
    t = S["sms"]["templates"]["weather"]
    choice = broadcast.choose(db, S, "weather", broadcast.Criteria(region="南山区"), DAY, t)
    assert {c["customer_id"] for c in choice.chosen} == {town["nanshan_old"], town["nanshan_new"]}
    assert choice.skipped == {"no mobile for SMS": 1}
    old = broadcast.choose(db, S, "weather", broadcast.Criteria(region="南山", min_age=5), DAY, t)
    assert [c["customer_id"] for c in old.chosen] == [town["nanshan_old"]]
    young = broadcast.choose(db, S, "weather", broadcast.Criteria(max_age=2), DAY, t)
    assert [c["customer_id"] for c in young.chosen] == [town["nanshan_new"]]
    assert [c["customer_id"] for c in broadcast.choose(
        db, S, "campaign", broadcast.Criteria(usage="commercial"), DAY,
        S["sms"]["templates"]["campaign"]).chosen] == [town["futian"]]
    optouts.add(db, town["nanshan_old"], "marketing", reason="x", by="a", day=DAY)
    choice = broadcast.choose(db, S, "weather", broadcast.Criteria(region="南山区"), DAY, t)
    assert [c["customer_id"] for c in choice.chosen] == [town["nanshan_new"]]
    assert choice.skipped == {"no mobile for SMS": 1, "opted out": 1}
    with pytest.raises(UsageError):
        broadcast.choose(db, S, "weather", broadcast.Criteria(), DAY, "注意{weather}")


def test_a_planned_broadcast_goes_out_with_the_next_export(db, town, out):
    t = "近日{greeting}所在地区有台风，请减少出行；如需救援请拨打{rescue}。"
    choice = broadcast.choose(db, S, "weather", broadcast.Criteria(region="南山区"), DAY, t)
    broadcast.plan(db, choice, t, broadcast.Criteria(region="南山区"), by="经理",
                   now=datetime(2026, 11, 26, 7, 0))
    assert choice.planned == 2
    r = export.export_day(db, DAY, S, out, now=EARLY)
    texts = [row[1] for row in sms_rows(out / "sms-2026-11-26.csv")[1:]]
    assert r.sms_new == 2
    assert texts[0] == ("【安达丰田】近日客女士所在地区有台风，请减少出行；如需救援请拨打"
                        "400-800-1234。回T退订")


def test_the_contact_window_keeps_a_broadcast_from_crowding_a_recent_contact(db, town):
    s = dealer_settings()
    s["planning"]["contact_window_days"] = 3
    db.conn.execute("INSERT INTO tasks (key, kind, customer_id, due_date, expires_on, channel,"
                    " reason, state, planned_at, updated_at) VALUES ('k', 'birthday', ?,"
                    " '2026-11-24', '2026-11-24', 'sms', 'r', 'sent', 'x', 'x')",
                    (town["nanshan_new"],))
    choice = broadcast.choose(db, s, "campaign", broadcast.Criteria(region="南山区"), DAY,
                              s["sms"]["templates"]["campaign"])
    assert [c["customer_id"] for c in choice.chosen] == [town["nanshan_old"]]
    assert choice.skipped["contacted within 3 days"] == 1


def test_broadcast_command_previews_and_plans_with_yes(db, town):
    r = run("broadcast", "weather", "--region", "南山区", "--date", "2026-11-26", "--yes")
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert lines[0] == "2026-11-26: 2 customers (region=南山区); left out: 1 no mobile for SMS"
    assert lines[1].startswith("【本店】") and lines[1].endswith("回T退订")
    assert lines[-1].startswith("broadcast #1: 2 SMS planned for 2026-11-26")
    r = run("broadcast", "weather", "--region", "南山区")
    assert r.exit_code != 0 and "--yes" in r.stderr


def test_a_mobile_in_a_report_cell():
    assert [smsreport.mobile_of(c) for c in (13812345678.0, 13812345678, "8613812345678",
                                              "0086 138-1234-5678", "075586543210", None, 1.5)] \
        == ["13812345678"] * 4 + [None, None, None]


def test_district_of_an_address():
    assert broadcast.district("广东省深圳市南山区科技园南路8号") == "南山区"
    assert broadcast.district("上海市浦东新区世纪大道") == "浦东新区"
    assert broadcast.district("江苏省苏州市昆山市周市镇") == "昆山市"
    assert broadcast.district("") is None


def test_an_sms_sent_leaves_todays_list_and_the_call_script_is_filled_in(db, day_db, out):
    def sms_steps():
        return {t["id"] for t in planner.today_list(db, DAY, S)["tasks"] if t["step"] == "sms"}

    ins = task(db, "insurance_compulsory", day_db["li"])[0]
    assert ins in sms_steps()
    export.export_day(db, DAY, S, out, now=EARLY)
    assert ins not in sms_steps()
    script = export.script_for_task(db, ins, S, "小王")
    assert script.startswith("您好，请问是李女士吗？我是安达丰田的客服专员小王")
    assert "{" not in script


def test_an_unflagged_number_gets_sms_again(db, day_db):
    db.conn.execute("INSERT INTO phone_flags VALUES ('13800000001', 'SMS failed: 空号', 'x', 'a')")
    r = run("optout", "unflag", "+86 13800000001", "--by", "李娜")
    assert r.exit_code == 0, r.output
    assert db.conn.execute("SELECT count(*) FROM phone_flags").fetchone()[0] == 0
    assert db.conn.execute("SELECT old_value, by_user FROM changes WHERE field = 'phone_flag'"
                           ).fetchall() == [("13800000001: SMS failed: 空号", "李娜")]
    r = run("optout", "unflag", "13800000001")
    assert r.exit_code == 3 and "not flagged" in r.stderr


def sms_step_days(db, out, kind_due: dict, day: date, now: datetime) -> set[str]:
    """The kinds whose SMS the export of ``day`` sends, for tasks stored by hand."""
    c = store.customer(db, name="周八", gender="M", mobile="13800000077")
    for i, (kind, (channel, due, expires)) in enumerate(kind_due.items()):
        db.conn.execute(
            "INSERT INTO tasks (key, kind, customer_id, due_date, expires_on, channel, reason,"
            " planned_at, updated_at) VALUES (?,?,?,?,?,?,'r','x','x')",
            (f"t{i}:{kind}", kind, c, due, expires, channel))
    export.export_day(db, day, S, out, now=now)
    return {r[0] for r in db.conn.execute(
        "SELECT t.kind FROM sms_ledger l JOIN tasks t ON t.id = l.task_id")}


def test_which_sms_go_on_a_day_one_day_either_side(db, out):
    sent = sms_step_days(db, out, {
        # SMS-then-call: the SMS goes the day before the call.
        "inspection": ("sms_call", "2026-11-27", "2026-12-27"),       # call tomorrow: SMS now
        "first_maintenance": ("sms_call", "2026-11-28", "2026-12-28"),  # call in 2 days: not yet
        # SMS only, service: from the due day to the expiry.
        "thank_you_sms": ("sms", "2026-11-26", "2026-11-26"),          # due and expires today
        "welcome_sms": ("sms", "2026-11-25", "2026-11-25"),            # expired yesterday
        "post_repair": ("sms", "2026-11-27", "2026-11-30"),            # due tomorrow
        # Greetings: their own day only.
        "birthday": ("sms", "2026-11-26", "2026-11-26"),
        "holiday": ("sms", "2026-11-25", "2026-11-27"),                # yesterday's, still open
    }, DAY, EARLY)
    assert sent == {"inspection", "thank_you_sms", "birthday"}


def test_a_greeting_exported_the_evening_before_goes_at_8_on_its_day(db, out):
    c = store.customer(db, name="周八", gender="M", mobile="13800000077", birthday="1990-11-27")
    planner.plan(db, date(2026, 11, 27), S, as_of=DAY)
    r = export.export_day(db, date(2026, 11, 27), S, out, now=datetime(2026, 11, 26, 22, 30))
    assert (r.sms_new, r.after_hours, r.first_send) == (1, False, "2026-11-27 08:00")
    assert task(db, "birthday", c)[1] == "sent"
