"""The monthly report computed by hand on a small fixture, figure by figure."""

from __future__ import annotations

import copy
import json

import openpyxl
import pytest
import store
from typer.testing import CliRunner

from crmcli import stats
from crmcli.cli import app
from crmcli.settings import DEFAULTS

S = copy.deepcopy(DEFAULTS)


def task(db, kind, due, *, state="open", channel="call", customer=None, vehicle=None):
    return db.conn.execute(
        "INSERT INTO tasks (key, kind, customer_id, vehicle_id, due_date, expires_on, channel,"
        " weight, reason, state, planned_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        (f"{kind}:{due}:{state}:{channel}:{customer}", kind, customer, vehicle, due, due, channel,
         50, "r", state, "x", "x")).lastrowid


def call(db, tid, clerk, at, outcome, note=None, **scores):
    cols = ", ".join(f"score_{k}" for k in scores)
    db.conn.execute(
        "INSERT INTO calls (task_id, clerk, called_at, logged_at, outcome, note"
        + (f", {cols}" if scores else "") + ") VALUES (?,?,?,?,?,?"
        + ",?" * len(scores) + ")", (tid, clerk, at, at, outcome, note, *scores.values()))


@pytest.fixture
def month(db):
    c = store.customer(db)
    v1 = store.vehicle(db, c, delivery_date="2024-01-01")
    store.vehicle(db, c, delivery_date="2024-06-01")
    store.order(db, v1, c, "2026-03-01", "maintenance", total_fen=50000)
    store.order(db, v1, c, "2026-12-05", "maintenance", total_fen=50000)
    t1 = task(db, "post_repair", "2026-11-05", customer=c)
    call(db, t1, "A", "2026-11-06 10:00", "reached", "#异响 已处理 #洗车", overall=5, advisor=4)
    t2 = task(db, "post_repair", "2026-11-10", customer=c)
    call(db, t2, "B", "2026-11-10 10:00", "no_answer")
    call(db, t2, "B", "2026-11-11 10:00", "reached", "#异响")
    task(db, "regular_maintenance", "2026-11-20", channel="sms_call", customer=c, vehicle=v1)
    t4 = task(db, "insurance_compulsory", "2026-11-29", customer=c)
    call(db, t4, "A", "2026-11-29 10:00", "busy")
    call(db, t4, "A", "2026-12-02 15:00", "reached", overall=2)  # moved into December
    task(db, "post_repair", "2026-11-15", state="withdrawn", customer=c)
    task(db, "post_repair", "2026-11-15", state="merged", customer=c)
    task(db, "birthday", "2026-11-12", channel="sms", customer=c)
    t8 = task(db, "post_repair", "2026-10-20", customer=c)
    call(db, t8, "A", "2026-10-21 10:00", "reached", overall=4)
    ins = ("INSERT INTO complaints (customer_id, category, text, state, opened_at, opened_by,"
           " escalate_by, reply_by, escalated_at, replied_at, closed_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)")
    db.conn.execute(ins, (c, "维修质量", "异响", "closed", "2026-11-26 10:30", "A", "2026-11-26 15:45",
                          "2026-11-27 10:30", "2026-11-26 14:30", "2026-11-27 09:30",
                          "2026-11-28 10:00"))
    db.conn.execute(ins, (c, "维修质量", "又响", "open", "2026-11-30 09:00", "A", "2026-11-30 12:45",
                          "2026-11-30 18:00", None, None, None))
    act = ("INSERT INTO actions (text, owner, deadline, state, created_at, created_by, done_at)"
           " VALUES (?,?,?,?,?,?,?)")
    db.conn.execute(act, ("复查", "王", "2026-11-20", "done", "2026-11-05 09:00", "gm",
                          "2026-11-25 09:00"))
    db.conn.execute(act, ("培训", "李", "2026-11-25", "open", "2026-11-10 09:00", "gm", None))
    db.conn.execute(act, ("长期", "赵", "2026-12-31", "open", "2026-10-01 09:00", "gm", None))
    return db


def test_november_by_hand(month):
    r = stats.report(month, S, month="2026-11")
    t = r["callbacks"]["total"]
    assert (t["due"], t["performed"], t["successful"]) == (4, 3, 2)
    assert t["performed_rate"] == {"value": 0.75, "num": 3, "den": 4}
    assert t["success_rate"] == {"value": 0.5, "num": 2, "den": 4}
    by_kind = {k: (v["due"], v["performed"], v["successful"])
               for k, v in r["callbacks"]["by_kind"].items()}
    assert by_kind == {"post_repair": (2, 2, 1), "regular_maintenance": (1, 0, 0),
                       "insurance_compulsory": (1, 1, 1)}
    by_clerk = {k: (v["due"], v["performed"], v["successful"])
                for k, v in r["callbacks"]["by_clerk"].items()}
    assert by_clerk == {"A": (2, 2, 2), "B": (1, 1, 0), "(not called)": (1, 0, 0)}
    q = r["satisfaction"]["questions"]
    assert (q["overall"]["answers"], q["overall"]["average"]) == (1, 5.0)
    assert q["overall"]["distribution"] == {"1": 0, "2": 0, "3": 0, "4": 0, "5": 1}
    assert (q["advisor"]["answers"], q["advisor"]["average"]) == (1, 4.0)
    assert (q["price"]["answers"], q["price"]["average"]) == (0, None)
    assert r["satisfaction"]["satisfied"] == {"value": 1.0, "num": 1, "den": 1}
    assert r["problems"]["complaint_categories"] == [{"category": "维修质量", "count": 2}]
    assert r["problems"]["note_tags"] == [{"tag": "异响", "count": 2}, {"tag": "洗车", "count": 1}]
    k = r["complaints"]
    assert (k["opened"], k["closed"], k["overdue"]) == (2, 1, 1)
    # 10:30-12:00 and 13:30-14:30 = 2.5 h; to the reply Friday 09:30: 6 h + 0.5 h = 6.5 h.
    assert k["to_escalation"] == {"average_hours": 2.5, "count": 1}
    assert k["to_reply"] == {"average_hours": 6.5, "count": 1}
    assert r["actions"] == {"opened": 2, "done": 1, "overdue": 1}
    e = r["reminder_effect"]
    assert e["maintenance"] == {"value": 1.0, "num": 1, "den": 1}
    assert e["recovery"] == {"value": None, "num": 0, "den": 0}
    assert r["holding_rate"] == {"value": 0.5, "num": 1, "den": 2}
    # Beside the previous month: October had one due call, performed and satisfied.
    assert r["previous"]["period"] == "2026-10"
    assert (r["previous"]["due"], r["previous"]["performed_rate"]) == (1, 1.0)
    assert r["change"]["performed_rate"] == -0.25
    weeks = {w["week_of"]: (w["num"], w["den"]) for w in r["callbacks"]["by_week"]}
    assert weeks == {"2026-11-02": (1, 1), "2026-11-09": (1, 1), "2026-11-16": (0, 1),
                     "2026-11-23": (1, 1)}


def test_read_before_a_deadline_passes_nothing_is_overdue(month):
    r = stats.report(month, S, month="2026-11", now="2026-11-30 10:00")
    assert r["complaints"]["overdue"] == 0 and r["actions"]["overdue"] == 1


def test_a_call_moved_into_december_counts_its_score_there(month):
    r = stats.report(month, S, month="2026-12")
    assert r["callbacks"]["total"]["due"] == 0
    assert r["callbacks"]["total"]["performed_rate"] == {"value": None, "num": 0, "den": 0}
    assert r["satisfaction"]["questions"]["overall"]["average"] == 2.0
    assert r["satisfaction"]["satisfied"] == {"value": 0.0, "num": 0, "den": 1}


def test_an_empty_month_has_no_division_by_zero(db):
    r = stats.report(db, S, month="2027-03")
    assert r["callbacks"]["total"]["success_rate"]["value"] is None
    assert r["satisfaction"]["satisfied"]["value"] is None
    assert r["holding_rate"]["value"] is None and r["change"]["due"] == 0


def test_clerk_and_week_filters(month):
    r = stats.report(month, S, month="2026-11", clerk="B")
    assert r["callbacks"]["total"]["due"] == 1
    from datetime import date

    w = stats.report(month, S, week=date(2026, 11, 11))
    assert (w["period"], w["start"], w["callbacks"]["total"]["due"]) == ("2026-W46", "2026-11-09", 1)


def test_follow_up_lists(month):
    unsatisfied = stats.follow_up(month, S, "unsatisfied", month="2026-12")
    assert [(u["task_id"], u["scores"]) for u in unsatisfied] == [(4, {"overall": 2})]
    assert stats.follow_up(month, S, "unreached", month="2026-11") == []
    # T2 reached in the end; a no-answer-only task appears.
    t = task(month, "post_repair", "2026-11-18")
    call(month, t, "B", "2026-11-18 10:00", "no_answer")
    rows = stats.follow_up(month, S, "unreached", month="2026-11")
    assert [(r["task_id"], r["clerk"], r["attempts"]) for r in rows] == [(t, "B", 0)]


def test_stats_cli_tables_json_and_workbook(month, tmp_path):
    runner = CliRunner()
    path = tmp_path / "report.xlsx"
    r = runner.invoke(app, ["stats", "--month", "2026-11", "--xlsx", str(path)])
    assert r.exit_code == 0, r.output
    assert "Callback report 2026-11" in r.stdout and "performed: due tasks" in r.stdout
    data = json.loads(runner.invoke(app, ["stats", "--month", "2026-11", "--json"]).stdout)
    assert data["callbacks"]["total"]["performed_rate"]["num"] == 3
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["概要 2026-11", "按类型", "按专员", "按周完成率", "满意度", "客户问题",
                             "投诉与整改", "回厂率", "口径说明"]
    assert [c.value for c in wb["按类型"][1]] == ["回访类型", "应回访", "已回访", "完成率", "成功",
                                                 "成功率"]
    assert wb["按类型"]["D2"].number_format == "0.0%"
    assert len(wb["按周完成率"]._charts) == 1 and len(wb["满意度"]._charts) == 1
    r = runner.invoke(app, ["stats", "--month", "2026-12", "unsatisfied", "--json"])
    assert r.exit_code == 0 and json.loads(r.stdout)[0]["scores"] == {"overall": 2}
    r = runner.invoke(app, ["stats", "--month", "2026-13"])
    assert r.exit_code == 2 and "use YYYY-MM" in r.stderr
