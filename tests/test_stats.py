"""The monthly report computed by hand on a small fixture, figure by figure."""

from __future__ import annotations

import copy
import json
from datetime import date

import openpyxl
import pytest
import store
from typer.testing import CliRunner

from crmcli import stats
from crmcli.cli import app
from crmcli.settings import DEFAULTS

S = copy.deepcopy(DEFAULTS)


def task(db, kind, due, *, state="done", channel="call", customer=None, vehicle=None,
         order=None):
    return db.conn.execute(
        "INSERT INTO tasks (key, kind, customer_id, vehicle_id, order_id, due_date, expires_on,"
        " channel, weight, reason, state, planned_at, updated_at)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (f"{kind}:{due}:{state}:{channel}:{customer}:{order}", kind, customer, vehicle, order, due,
         due, channel, 50, "r", state, due + " 07:00", due + " 07:00")).lastrowid


def call(db, tid, clerk, at, outcome, note=None, lost_reason=None, **scores):
    cols = "".join(f", score_{k}" for k in scores)
    db.conn.execute(
        f"INSERT INTO calls (task_id, clerk, called_at, logged_at, outcome, note, lost_reason{cols})"
        f" VALUES (?,?,?,?,?,?,?{',?' * len(scores)})",
        (tid, clerk, at, at, outcome, note, lost_reason, *scores.values()))


COMPLAINT = ("INSERT INTO complaints (customer_id, task_id, category, severity, text, state,"
             " opened_at, opened_by, escalate_by, reply_by, escalated_at, replied_at, closed_at,"
             " late_escalation, resolution) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
ACTION = ("INSERT INTO actions (text, owner, deadline, state, created_at, created_by, approved_at,"
          " done_at, metric, effect_before, effect_before_period, effect_after,"
          " effect_after_period) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)")


@pytest.fixture
def month(db):
    """November 2026, and a little of October and December around it.

    Business hours 09:00-12:00 and 13:30-18:00; 2026-11-07/08 and 11-28/29 are a weekend.
    """
    c = store.customer(db)
    v1 = store.vehicle(db, c, delivery_date="2024-01-01")
    store.vehicle(db, c, delivery_date="2024-06-01")
    store.order(db, v1, c, "2026-03-01", "maintenance", total_fen=50000)
    store.order(db, v1, c, "2026-12-05", "maintenance", total_fen=50000)
    o1 = store.order(db, v1, c, "2026-11-02", "repair", advisor="刘洋")
    o2 = store.order(db, v1, c, "2026-11-07", "repair", advisor="周静")
    o3 = store.order(db, v1, c, "2026-11-05", "repair", advisor="周静")
    o4 = store.order(db, v1, c, "2026-11-27", "repair", advisor="刘洋")
    c2, c3 = store.customer(db, "李娜"), store.customer(db, "王强")
    v3 = store.vehicle(db, c2, delivery_date="2020-01-01")
    store.order(db, v3, c2, "2026-11-20", "maintenance", total_fen=30000)  # won back
    t1 = task(db, "post_repair", "2026-11-05", customer=c, order=o1)
    call(db, t1, "A", "2026-11-06 10:00", "reached", "#异响 已处理 #洗车", overall=5, advisor=4)
    t11 = task(db, "post_repair", "2026-11-08", customer=c, order=o3)
    call(db, t11, "B", "2026-11-08 10:00", "reached", overall=4, advisor=5)
    t2 = task(db, "post_repair", "2026-11-10", customer=c, order=o2)
    call(db, t2, "B", "2026-11-10 10:00", "no_answer")
    call(db, t2, "B", "2026-11-11 10:00", "reached", "#异响")
    t12 = task(db, "recovery", "2026-11-16", customer=c2)
    call(db, t12, "B", "2026-11-16 10:00", "reached", lost_reason="距离远")
    t13 = task(db, "recovery", "2026-11-18", customer=c3, state="open")
    call(db, t13, "B", "2026-11-18 10:00", "no_answer")
    task(db, "regular_maintenance", "2026-11-20", channel="sms_call", customer=c, vehicle=v1,
         state="missed")
    t4 = task(db, "insurance_compulsory", "2026-11-29", customer=c)
    call(db, t4, "A", "2026-11-29 10:00", "busy")
    call(db, t4, "A", "2026-12-02 15:00", "reached", overall=2)  # called in December
    t9 = task(db, "post_repair", "2026-11-30", customer=c, order=o4)
    call(db, t9, "C", "2026-12-01 10:00", "reached", overall=3, advisor=3, quality=4)
    task(db, "post_repair", "2026-11-15", state="withdrawn", customer=c)
    task(db, "post_repair", "2026-11-15", state="merged", customer=c)
    task(db, "birthday", "2026-11-12", channel="sms", customer=c)
    t8 = task(db, "post_repair", "2026-10-20", customer=c)
    call(db, t8, "A", "2026-10-21 10:00", "reached", overall=4)
    t10 = task(db, "delivery_call", "2026-12-01", customer=c)  # called early, in November
    call(db, t10, "A", "2026-11-30 16:00", "reached", "#洗车", overall=5)
    ins = db.conn.execute
    # From t1's call: escalated 2.5 working h after opening, answered 4 h after that, closed.
    ins(COMPLAINT, (c, t1, "维修质量", "serious", "异响", "closed", "2026-11-06 10:30", "A",
                    "2026-11-06 14:15", "2026-11-09 14:30", "2026-11-06 14:30",
                    "2026-11-09 09:30", "2026-11-10 10:00", 0, "satisfied"))
    # Opened by hand on the 30th, never escalated: late at the month's end.
    ins(COMPLAINT, (c, None, "服务态度", "normal", "态度差", "open", "2026-11-30 09:00", "A",
                    "2026-11-30 12:45", "2026-12-01 12:45", None, None, None, 0, None))
    # From t4's call on 2 December: November's; escalated late (5 h), answered 2.5 h later.
    ins(COMPLAINT, (c, t4, "价格", "normal", "贵", "replied", "2026-12-02 15:00", "A",
                    "2026-12-03 09:45", "2026-12-04 11:00", "2026-12-03 11:00",
                    "2026-12-03 15:00", None, 1, None))
    # From t10's call: December's, although opened in November.
    ins(COMPLAINT, (c, t10, "配件", "major", "缺件", "open", "2026-11-30 16:00", "A",
                    "2026-12-01 10:45", "2026-12-02 10:45", None, None, None, 0, None))
    ins(ACTION, ("复查洗车", "王", "2026-11-20", "done", "2026-11-05 09:00", "gm", "2026-11-06 09:00",
                 "2026-11-25 09:00", "satisfied_share", 0.6, "2026-10", 0.5, "2026-11"))
    ins(ACTION, ("培训", "李", "2026-11-25", "open", "2026-11-10 09:00", "gm", None, None,
                 "performed_rate", 0.8, "2026-10", None, None))
    ins(ACTION, ("长期", "赵", "2026-12-31", "open", "2026-10-01 09:00", "gm", None, None, None,
                 None, None, None, None))
    ins(ACTION, ("十月的", "赵", "2026-10-15", "done", "2026-10-01 09:00", "gm", None,
                 "2026-10-20 09:00", None, None, None, None, None))
    return db


def test_november_by_hand(month):
    r = stats.report(month, S, month="2026-11")
    t = r["callbacks"]["total"]
    # Due: t1, t11, t2, t12, t13, the maintenance call, t4, t9 (not the withdrawn, merged or
    # SMS ones, nor t10 due in December). Performed: all but the maintenance call. Successful:
    # t1, t11, t4 (reached in December), t9 (reached on 1 December), t12 (said why they left);
    # t2 was reached but answered nothing.
    assert (t["due"], t["performed"], t["successful"]) == (8, 7, 5)
    assert t["performed_rate"] == {"value": 0.875, "num": 7, "den": 8}
    assert t["success_rate"] == {"value": 0.625, "num": 5, "den": 8}
    assert r["callbacks"]["still_open"] == 1  # t13 may still be called
    by_kind = {k: (v["due"], v["performed"], v["successful"])
               for k, v in r["callbacks"]["by_kind"].items()}
    assert by_kind == {"insurance_compulsory": (1, 1, 1), "post_repair": (4, 4, 3),
                       "recovery": (2, 2, 1), "regular_maintenance": (1, 0, 0)}
    weeks = {w["week_of"]: (w["num"], w["den"]) for w in r["callbacks"]["by_week"]}
    assert weeks == {"2026-11-02": (2, 2), "2026-11-09": (1, 1), "2026-11-16": (2, 3),
                     "2026-11-23": (1, 1), "2026-11-30": (1, 1)}
    # Work done: the calls made in November, whatever month their task fell due.
    w = r["work_done"]
    assert w["by_clerk"] == {
        "A": {"calls": 3, "successful": 2, "tasks": 3, "outcomes": {"reached": 2, "busy": 1}},
        "B": {"calls": 5, "successful": 2, "tasks": 4, "outcomes": {"reached": 3, "no_answer": 2}}}
    assert w["total"] == {"calls": 8, "successful": 4}
    # Scores of t1 (5, 4), t11 (4, 5), t4 (2), t9 (3, 3, quality 4).
    q = r["satisfaction"]["questions"]
    assert (q["overall"]["answers"], q["overall"]["average"]) == (4, 3.5)
    assert q["overall"]["distribution"] == {"1": 0, "2": 1, "3": 1, "4": 1, "5": 1}
    assert (q["advisor"]["answers"], q["advisor"]["average"]) == (3, 4.0)
    assert (q["quality"]["answers"], q["quality"]["average"]) == (1, 4.0)
    assert (q["price"]["answers"], q["price"]["average"]) == (0, None)
    assert r["satisfaction"]["satisfied"] == {"value": 0.5, "num": 2, "den": 4}
    # By advisor: the post-repair scores by the advisor of the order (t4 is not post-repair).
    adv = {a["advisor"]: {k: (v["answers"], v["average"]) for k, v in a["questions"].items()
                          if v["answers"]} for a in r["by_advisor"]["advisors"]}
    assert adv == {"刘洋": {"overall": (2, 4.0), "advisor": (2, 3.5), "quality": (1, 4.0)},
                   "周静": {"overall": (1, 4.0), "advisor": (1, 5.0)}}
    assert r["by_advisor"]["coach"] == []  # nobody has the default 10 answers
    assert r["problems"]["complaint_categories"] == [
        {"category": "价格", "count": 1}, {"category": "服务态度", "count": 1},
        {"category": "维修质量", "count": 1}]
    assert r["problems"]["note_tags"] == [{"tag": "异响", "count": 2}, {"tag": "洗车", "count": 1}]
    k = r["complaints"]
    assert (k["opened"], k["closed"], k["overdue"]) == (3, 1, 2)
    assert k["by_severity"] == {"normal": 2, "serious": 1}
    assert k["resolution"] == {"satisfied": 1, "not_satisfied": 0, "pending": 1}
    # To the GM: 2.5 h and 5 h (Wed 15:00-18:00, Thu 09:00-11:00); from there to the reply:
    # 4 h (Fri 14:30-18:00, Mon 09:00-09:30) and 2.5 h (11:00-12:00, 13:30-15:00).
    assert k["to_escalation"] == {"average_hours": 3.75, "count": 2}
    assert k["to_reply"] == {"average_hours": 3.25, "count": 2}
    a = r["actions"]
    assert (a["opened"], a["done"], a["overdue"]) == (2, 1, 1)
    assert [(x["text"], x["state"], x["approved_at"], x["metric"], x["effect_before"],
             x["effect_after"]) for x in a["list"]] == [
        ("复查洗车", "done", "2026-11-06 09:00", "satisfied_share", 0.6, 0.5),
        ("培训", "open", None, "performed_rate", 0.8, 0.875),
        ("长期", "open", None, None, None, None)]
    lost = r["lost_customers"]
    assert lost == {"recovery_due": 2, "reached": 1, "reasons": [{"reason": "距离远", "count": 1}],
                    "won_back": 1}
    e = r["reminder_effect"]
    assert e["maintenance"] == {"value": 1.0, "num": 1, "den": 1}
    assert e["recovery"] == {"value": 0.5, "num": 1, "den": 2}
    # v1 and v3 came back in the 12 months to 30 November; v2 did not.
    assert r["holding_rate"] == {"value": 2 / 3, "num": 2, "den": 3}
    assert r["last_changed"] == "2026-12-03 15:00"  # the reply to t4's complaint
    assert (r["through"], r["so_far"]) == ("2026-11-30", False)
    # Beside October: one due call, performed, successful, satisfied (4).
    assert r["previous"]["period"] == "2026-10"
    assert (r["previous"]["due"], r["previous"]["performed_rate"]) == (1, 1.0)
    assert r["change"]["performed_rate"] == -0.125


def test_advisors_to_coach_need_enough_answers(month):
    s = copy.deepcopy(S)
    s["stats"]["coach_min_answers"] = 2  # 刘洋 has 2 advisor answers, 周静 1
    assert stats.report(month, s, month="2026-11")["by_advisor"]["coach"] == [
        {"advisor": "刘洋", "average": 3.5, "answers": 2}]
    s["stats"]["coach_min_answers"] = 3
    assert stats.report(month, s, month="2026-11")["by_advisor"]["coach"] == []
    s["stats"].update(coach_min_answers=1, coach_count=1)
    assert [c["advisor"] for c in stats.report(month, s, month="2026-11")["by_advisor"]["coach"]
            ] == ["刘洋"]  # the lowest average: 3.5 against 5.0
    s["stats"].update(coach_question="overall", coach_count=3)
    assert [(c["advisor"], c["average"]) for c in
            stats.report(month, s, month="2026-11")["by_advisor"]["coach"]] == [
        ("刘洋", 4.0), ("周静", 4.0)]  # a tie: by name


def test_the_same_month_again_after_the_next_months_work_is_identical(month):
    before = stats.report(month, S, month="2026-11")
    c = month.conn.execute("SELECT min(id) FROM customers").fetchone()[0]
    o = month.conn.execute("SELECT id FROM repair_orders WHERE advisor='周静'").fetchone()[0]
    t = task(month, "post_repair", "2026-12-07", customer=c, order=o)
    call(month, t, "C", "2026-12-08 10:00", "reached", "#异响", overall=1, advisor=1)
    call(month, task(month, "recovery", "2026-12-09", customer=c), "B", "2026-12-09 10:00",
         "reached", lost_reason="价格")
    month.conn.execute(COMPLAINT, (c, t, "维修质量", "major", "又坏", "open", "2026-12-08 10:00",
                                   "C", "2026-12-08 14:15", "2026-12-09 14:15", None, None, None,
                                   0, None))
    month.conn.execute("UPDATE actions SET state='done', done_at='2026-12-10 09:00',"
                       " effect_after=0.9, effect_after_period='2026-12' WHERE text='培训'")
    month.conn.execute(ACTION, ("十二月的", "赵", "2026-12-20", "open", "2026-12-01 09:00", "gm",
                                None, None, None, None, None, None, None))
    assert stats.report(month, S, month="2026-11") == before
    december = stats.report(month, S, month="2026-12")
    assert december["callbacks"]["total"]["due"] == 3  # t10, and the two above
    assert [(x["text"], x["state"], x["effect_after"]) for x in december["actions"]["list"]
            if x["metric"]] == [("培训", "done", 0.9)]


def test_a_late_change_to_the_months_data_changes_it_and_says_when(month):
    before = stats.report(month, S, month="2026-11")
    # A late import shows the car came in before the reminder: the task is withdrawn.
    month.conn.execute("UPDATE tasks SET state='withdrawn', updated_at='2026-12-12 09:00'"
                       " WHERE kind='regular_maintenance'")
    after = stats.report(month, S, month="2026-11")
    assert before["callbacks"]["total"]["due"] == 8
    assert after["callbacks"]["total"]["due"] == 7
    assert after["last_changed"] == "2026-12-12 09:00"
    # The planner stamps '2026-12-13T08:00:05': read as the same minute, not as text.
    month.conn.execute("UPDATE tasks SET updated_at='2026-12-13T08:00:05'"
                       " WHERE kind='regular_maintenance'")
    assert stats.report(month, S, month="2026-11")["last_changed"] == "2026-12-13 08:00"


def test_the_month_so_far_counts_only_what_has_fallen_due(month):
    r = stats.report(month, S, month="2026-11", today=date(2026, 11, 18))
    # Due by the 18th: t1, t11, t2, t12, t13; performed all five, successful t1, t11, t12.
    t = r["callbacks"]["total"]
    assert (t["due"], t["performed"], t["successful"]) == (5, 5, 3)
    assert (r["through"], r["so_far"]) == ("2026-11-18", True)
    # The calls of the 18th count in the work done; those of the 19th on do not.
    assert r["work_done"]["total"]["calls"] == 6
    # t4 falls due on the 29th: one day either side.
    assert stats.report(month, S, month="2026-11", today=date(2026, 11, 28)
                        )["callbacks"]["total"]["due"] == 6
    assert stats.report(month, S, month="2026-11", today=date(2026, 11, 29)
                        )["callbacks"]["total"]["due"] == 7
    # Read before the month begins: nothing has fallen due.
    assert stats.report(month, S, month="2026-11", today=date(2026, 10, 31)
                        )["callbacks"]["total"]["due"] == 0


def test_read_before_a_deadline_passes_nothing_is_overdue(month):
    # On 30 November at 10:00 the hand-opened complaint (escalate by 12:45) is not late yet;
    # t4's complaint was marked late when it was escalated and keeps the mark.
    r = stats.report(month, S, month="2026-11", now="2026-11-30 10:00")
    assert r["complaints"]["overdue"] == 1 and r["actions"]["overdue"] == 1
    r = stats.report(month, S, month="2026-11", now="2026-11-30 12:46")
    assert r["complaints"]["overdue"] == 2


def test_a_call_moved_into_december_keeps_its_score_in_november(month):
    r = stats.report(month, S, month="2026-12")
    # December: only t10 is due (reached in November, overall 5).
    assert r["callbacks"]["total"]["due"] == 1
    assert r["satisfaction"]["questions"]["overall"]["distribution"]["2"] == 0
    assert r["satisfaction"]["satisfied"] == {"value": 1.0, "num": 1, "den": 1}
    # The work done in December: A's call on t4, C's on t9.
    assert {k: v["calls"] for k, v in r["work_done"]["by_clerk"].items()} == {"A": 1, "C": 1}
    assert r["complaints"]["opened"] == 1  # t10's, opened on 30 November


def test_an_empty_month_has_no_division_by_zero(db):
    r = stats.report(db, S, month="2027-03")
    assert r["callbacks"]["total"]["success_rate"]["value"] is None
    assert r["satisfaction"]["satisfied"]["value"] is None
    assert r["holding_rate"]["value"] is None and r["change"]["due"] == 0
    assert r["last_changed"] is None and r["work_done"]["total"] == {"calls": 0, "successful": 0}


def test_clerk_and_week_filters(month):
    # B called t11, t2, t12, t13: their figures, and only B's work.
    r = stats.report(month, S, month="2026-11", clerk="B")
    t = r["callbacks"]["total"]
    assert (t["due"], t["performed"], t["successful"]) == (4, 4, 2)
    assert list(r["work_done"]["by_clerk"]) == ["B"]
    assert r["lost_customers"]["won_back"] == 1
    w = stats.report(month, S, week=date(2026, 11, 11))
    assert (w["period"], w["start"], w["callbacks"]["total"]["due"]) == ("2026-W46", "2026-11-09", 1)


def test_metric_values(month):
    r = stats.report(month, S, month="2026-11")
    assert stats.metric_value(r, "performed_rate") == 0.875
    assert stats.metric_value(r, "score_advisor") == 4.0
    assert stats.metric_value(r, "complaints_overdue") == 2


def test_follow_up_lists(month):
    # Unsatisfied: scores below 4 on the tasks due in the period, whenever the call was.
    unsatisfied = stats.follow_up(month, S, "unsatisfied", month="2026-11")
    assert [(u["clerk"], u["scores"]) for u in unsatisfied] == [
        ("C", {"overall": 3, "advisor": 3, "quality": 4}), ("A", {"overall": 2})]
    rows = stats.follow_up(month, S, "unreached", month="2026-11")
    assert [(r["kind"], r["clerk"]) for r in rows] == [("recovery", "B")]


def test_stats_cli_tables_json_and_workbook(month, tmp_path):
    runner = CliRunner()
    path = tmp_path / "report.xlsx"
    r = runner.invoke(app, ["stats", "--month", "2026-11", "--date", "2026-12-07",
                            "--xlsx", str(path)])
    assert r.exit_code == 0, r.output
    assert "Callback report 2026-11" in r.stdout and "Due: call tasks" in r.stdout
    assert "Work done" in r.stdout and "Data last changed: 2026-12-03 15:00" in r.stdout
    data = json.loads(runner.invoke(app, ["stats", "--month", "2026-11", "--date", "2026-12-07",
                                          "--json"]).stdout)
    assert data["callbacks"]["total"]["performed_rate"]["num"] == 7
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["概要 2026-11", "按类型", "专员工作量", "按周完成率", "满意度",
                             "服务顾问", "客户问题", "投诉", "整改措施", "流失客户", "回厂率",
                             "口径说明"]
    assert [c.value for c in wb["按类型"][1]] == ["回访类型", "应回访", "已回访", "回访完成率",
                                                 "成功回访", "回访成功率"]
    assert [r[0].value for r in wb["按类型"].iter_rows(min_row=2)] == [
        "交强险", "修后回访", "流失召回", "定保", "合计"]
    assert wb["按类型"]["D2"].number_format == "0.0%"
    assert [c.value for c in wb["专员工作量"][2]] == ["A", 3, 3, 2, 2, 0, 1]
    assert [c.value for c in wb["专员工作量"][3]] == ["B", 5, 4, 2, 3, 2, 0]
    assert [c.value for c in wb["专员工作量"][1]][4:] == ["接通", "未接", "忙/约时间"]
    assert [c.value for c in wb["服务顾问"][2]][:5] == ["刘洋", 2, 4.0, 2, 3.5]
    assert wb["流失客户"]["A5"].value == "流失原因：距离远"
    definitions = [row[0].value for row in wb["口径说明"].iter_rows(min_row=2)]
    assert definitions[0].startswith("归属规则：回访任务的一切数据")
    assert all(not d.isascii() for d in definitions)
    assert len(wb["按周完成率"]._charts) == 1 and len(wb["满意度"]._charts) == 1
    r = runner.invoke(app, ["stats", "--month", "2026-11", "unsatisfied", "--json"])
    assert r.exit_code == 0 and json.loads(r.stdout)[1]["scores"] == {"overall": 2}
    r = runner.invoke(app, ["stats", "--month", "2026-13"])
    assert r.exit_code == 2 and "use YYYY-MM" in r.stderr


def test_the_terminal_report_speaks_chinese_when_the_interface_does(month, monkeypatch):
    monkeypatch.setenv("CRMCLI_LANG", "zh_CN")
    r = CliRunner().invoke(app, ["stats", "--month", "2026-11", "--date", "2026-12-07"])
    assert r.exit_code == 0, r.output
    for words in ("回访月报 2026-11", "专员工作量", "修后回访", "服务顾问", "未接", "数据最后变动",
                  "归属规则"):
        assert words in r.stdout
    for code in ("post_repair", "no_answer", "Callback report"):
        assert code not in r.stdout


def test_stored_text_in_the_report_is_data(month, tmp_path):
    month.conn.execute("UPDATE repair_orders SET advisor='=HYPERLINK(\"x\")[/bold]'"
                       " WHERE advisor='刘洋'")
    path = tmp_path / "r.xlsx"
    r = CliRunner().invoke(app, ["stats", "--month", "2026-11", "--date", "2026-12-07",
                                 "--xlsx", str(path)])
    assert r.exit_code == 0, r.output
    assert "=HYPERLINK" in r.stdout
    assert openpyxl.load_workbook(path)["服务顾问"]["A2"].value == "'=HYPERLINK(\"x\")[/bold]"
    import os
    import stat

    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_a_booked_call_with_answers_is_successful(month):
    c = month.conn.execute("SELECT min(id) FROM customers").fetchone()[0]
    t = task(month, "regular_maintenance", "2026-11-24", channel="sms_call", customer=c)
    call(month, t, "A", "2026-11-24 10:00", "booked", overall=5)
    t = task(month, "regular_maintenance", "2026-11-25", channel="sms_call", customer=c)
    call(month, t, "A", "2026-11-25 10:00", "done_elsewhere")
    total = stats.report(month, S, month="2026-11")["callbacks"]["total"]
    assert (total["due"], total["performed"], total["successful"]) == (10, 9, 6)


def test_reminders_done_elsewhere_are_counted_by_type_in_their_period(month):
    # Two maintenance reminders due in November end "done elsewhere", one of them after a
    # no-answer; a warranty check does too; a withdrawn one and one due on 12-01 do not
    # count; a reached call is not "elsewhere".
    c = month.conn.execute("SELECT min(id) FROM customers").fetchone()[0]
    before = stats.report(month, S, month="2026-11")["reminder_effect"]["done_elsewhere"]
    for due, kind, state, outcomes in (
            ("2026-11-02", "first_maintenance", "done", ["done_elsewhere"]),
            ("2026-11-30", "regular_maintenance", "done", ["no_answer", "done_elsewhere"]),
            ("2026-11-15", "warranty_check", "done", ["done_elsewhere"]),
            ("2026-11-16", "regular_maintenance", "withdrawn", ["done_elsewhere"]),
            ("2026-12-01", "regular_maintenance", "done", ["done_elsewhere"]),
            ("2026-11-17", "regular_maintenance", "done", ["reached"])):
        t = task(month, kind, due, state=state, channel="sms_call", customer=c)
        for i, outcome in enumerate(outcomes):
            call(month, t, "A", f"{due} 1{i}:00", outcome)
    after = stats.report(month, S, month="2026-11")["reminder_effect"]["done_elsewhere"]
    assert {k: after[k] - before[k] for k in after} == {
        "maintenance": 2, "warranty_check": 1, "recovery": 0}
    r = CliRunner().invoke(app, ["stats", "--month", "2026-11", "--date", "2026-12-07"],
                           env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.output
    assert f"done elsewhere {after['maintenance']}" in r.stdout


@pytest.mark.parametrize("typed, today, month", [
    ("2026-11", date(2026, 12, 7), "2026-11"),
    ("2026/11", date(2026, 12, 7), "2026-11"),
    ("2026.11", date(2026, 12, 7), "2026-11"),
    ("2026年11月", date(2026, 12, 7), "2026-11"),
    ("202611", date(2026, 12, 7), "2026-11"),
    ("2026-1", date(2026, 12, 7), "2026-01"),
    (" 2026-11-26 ", date(2026, 12, 7), "2026-11"),  # a day names its month
    ("11", date(2026, 12, 7), "2026-11"),
    ("11月", date(2026, 12, 7), "2026-11"),
    # The month alone is the last such month up to today: a report is read after its month.
    ("12", date(2026, 12, 1), "2026-12"),
    ("12", date(2026, 11, 30), "2025-12"),
    ("1", date(2027, 1, 1), "2027-01"),
    ("2", date(2027, 1, 31), "2026-02"),
])
def test_a_month_is_read_as_a_clerk_types_it(typed, today, month):
    from crmcli.limits import parse_month

    assert parse_month(typed, today) == month
    assert stats.period_bounds(month=typed, today=today)[2] == month


@pytest.mark.parametrize("typed", ["13", "0", "2026-13", "2026-00", "11 月份", "Nov", "9999-12"])
def test_a_month_that_is_not_one_is_refused(typed):
    from crmcli.errors import UsageError
    from crmcli.limits import parse_month

    with pytest.raises(UsageError, match="--month"):
        parse_month(typed, date(2026, 12, 7))


def test_stats_unsatisfied_takes_the_month_after_the_subcommand(month):
    runner = CliRunner()

    def rows(*args):
        r = runner.invoke(app, ["stats", *args, "--json"])
        assert r.exit_code == 0, r.output + r.stderr
        return [(u["clerk"], u["scores"]) for u in json.loads(r.stdout)]

    expected = [("C", {"overall": 3, "advisor": 3, "quality": 4}), ("A", {"overall": 2})]
    assert rows("--month", "2026-11", "unsatisfied") == expected
    for typed in ("2026-11", "2026/11", "2026年11月", "11"):
        assert rows("unsatisfied", "--month", typed, "--date", "2026-12-07") == expected
    # Given after the subcommand, it wins over the group's; December has none of them.
    assert rows("--month", "2026-11", "unsatisfied", "--month", "2026-12") == []
    assert rows("unsatisfied", "--month", "2026-11", "--clerk", "A") == [("A", {"overall": 2})]
    assert [r["kind"] for r in json.loads(runner.invoke(
        app, ["stats", "unreached", "--month", "11", "--date", "2026-12-07", "--json"]).stdout)
            ] == ["recovery"]
    r = runner.invoke(app, ["stats", "unsatisfied", "--month", "13"])
    assert r.exit_code == 2 and "--month '13'" in r.stderr
