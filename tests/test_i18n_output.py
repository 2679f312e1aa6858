"""Each command's main output in Chinese and in English.

conftest pins CRMCLI_LANG=en; these tests switch it. The Chinese expected here is
worked out from the catalog's vocabulary (DOMAIN.md: 修后回访, 首保, 投诉 ...), and
the data from the shipped sample (customer #1 郝强 owns 粤BD81226, 交强险 2026-11-26).
"""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from crmcli.cli import app

# Words that may stay in Latin letters in a Chinese screen: units, codes, names of things.
ALLOWED = {"km", "VIN", "SMS", "crmcli", "d", "M", "F", "A", "B", "C", "D", "json", "limit",
           "kind", "bZ4X", "X", "Nd", "HR", "RO", "LV", "changes", "force", "undo", "yes"}
WORD = re.compile(r"[A-Za-z]{2,}")


def run(monkeypatch, lang, *args, input=None):
    monkeypatch.setenv("CRMCLI_LANG", lang)
    r = CliRunner().invoke(app, [str(a) for a in args], input=input)
    assert "Traceback" not in r.output, r.output
    return r


def english_words(text: str) -> set[str]:
    """Latin words left in a Chinese screen (plates, VINs and order numbers excluded)."""
    words = set()
    for token in re.split(r"[\s│┃|,，;；:：()（）\[\]]+", text):
        if re.search(r"\d", token) or "/" in token:  # 粤BD81226, RO2026..., 10-27, paths
            continue
        words.update(w for w in WORD.findall(token) if w not in ALLOWED)
    return words


def test_customer_show_in_both_languages(sample_db, monkeypatch):
    run(monkeypatch, "en", "plan", "--date", "2026-11-26")
    zh = run(monkeypatch, "zh_CN", "customer", "show", "#1")
    en = run(monkeypatch, "en", "customer", "show", "#1")
    assert zh.exit_code == en.exit_code == 0
    for label in ("客户", "手机", "身份证号", "回访", "进厂", "车辆", "车牌号", "车架号",
                  "交车日期", "用途", "私家车", "现车主", "车辆到期日", "交强险到期", "年检到期",
                  "维修工单", "工单号", "服务顾问", "张工单，合计", "待办任务", "先短信后电话"):
        assert label in zh.stdout, label
    assert not english_words(zh.stdout), english_words(zh.stdout)
    for label in ("Customer", "Mobile", "ID number", "Callbacks", "accepted", "Vehicles", "Plate",
                  "private", "current", "Repair orders", "orders, total", "Open tasks",
                  "SMS, then call"):
        assert label in en.stdout, label
    assert not re.search(r"[\u4e00-\u9fff](?:[A-Za-z ]+)?手机", en.stdout)
    # JSON is the same in both languages.
    assert json.loads(run(monkeypatch, "zh_CN", "customer", "show", "#1", "--json").stdout) == \
        json.loads(run(monkeypatch, "en", "customer", "show", "#1", "--json").stdout)


def test_plan_today_classify_retention_in_both_languages(sample_db, monkeypatch):
    zh = run(monkeypatch, "zh_CN", "plan", "--date", "2026-11-26")
    assert zh.exit_code == 0
    assert re.fullmatch(r"2026-11-26：新增 \d+，更新 \d+，合并 \d+，撤销 \d+，错过 \d+；待办任务 \d+ 项\n",
                        zh.stdout), zh.stdout
    again = run(monkeypatch, "en", "plan", "--date", "2026-11-26")
    assert again.stdout.startswith("2026-11-26: already planned and nothing changed since")
    today = run(monkeypatch, "zh_CN", "today", "--date", "2026-11-26", "--limit", "200")
    # Customer #1's car: 交强险 expires 2026-11-26 (the rule's reason, said in Chinese).
    assert "交强险2026-11-26到期" in re.sub(r"[\s│]+", "", today.stdout)
    assert "expires" not in today.stdout and "km/day" not in today.stdout
    assert not english_words(today.stdout), english_words(today.stdout)
    en_today = run(monkeypatch, "en", "today", "--date", "2026-11-26", "--limit", "200")
    assert "交强险 expires 2026-11-26" in en_today.stdout

    zh = run(monkeypatch, "zh_CN", "classify", "--date", "2026-11-26")
    assert zh.exit_code == 0
    for label in ("客户价值分类与车龄（2026-11-26）", "分类", "保修期内（<3年）", "3-5年", "5年以上",
                  "车龄不详", "A 忠诚客户", "D 流失客户", "全部", "按用途", "私家车"):
        assert label in zh.stdout, label
    assert re.search(r"已按 2026-11-26 为 \d+ 位客户分类；与上次相比 \d+ 位类别有变", zh.stdout)
    assert not english_words(zh.stdout), english_words(zh.stdout)
    en = run(monkeypatch, "en", "classify", "--date", "2026-11-26")
    assert "Customers by value class and vehicle age (2026-11-26)" in en.stdout
    assert "in warranty (<3y)" in en.stdout and "A loyal" in en.stdout
    assert re.search(r"\d+ customers classified for 2026-11-26", en.stdout)

    explain = run(monkeypatch, "zh_CN", "classify", "--explain", "#1")
    assert explain.stdout.startswith("#1 郝强：") and "，原因：" in explain.stdout
    assert "（车龄：" in explain.stdout and "按 2026-11-26 分类" in explain.stdout
    assert not english_words(explain.stdout), explain.stdout

    zh = run(monkeypatch, "zh_CN", "retention", "--date", "2026-11-26")
    for label in ("按车龄的客户掌握率与活跃客户（2026-11-26）", "车龄", "车辆", "12个月内回厂",
                  "掌握率", "活跃比例", "全部", "客户掌握率：截至 2026-11-26 的12个月内"):
        assert label in zh.stdout, label
    assert not english_words(zh.stdout), english_words(zh.stdout)
    en = run(monkeypatch, "en", "retention", "--date", "2026-11-26")
    assert "Holding rate and active customers by vehicle age (2026-11-26)" in en.stdout
    assert "Back in 12m" in en.stdout and "All" in en.stdout


def test_customer_list_duplicates_and_changes_in_both_languages(sample_db, monkeypatch):
    zh = run(monkeypatch, "zh_CN", "customer", "duplicates")
    en = run(monkeypatch, "en", "customer", "duplicates")
    assert "疑似重复" in zh.stdout and "依据" in zh.stdout
    assert "Suspected duplicates" in en.stdout and "Evidence" in en.stdout
    zh = run(monkeypatch, "zh_CN", "customer", "edit", "#1", "--occupation", "教师")
    assert zh.stdout == "#1 郝强: 已修改 职业\n"
    zh = run(monkeypatch, "zh_CN", "customer", "edit", "#1")
    assert zh.exit_code == 2 and "没有要修改的内容" in zh.stderr
    zh = run(monkeypatch, "zh_CN", "vehicle-usage", "粤BD81226", "commercial")
    assert zh.stdout == "粤BD81226：用途 私家车 -> 营运车\n"
    en = run(monkeypatch, "en", "vehicle-usage", "粤BD81226", "private")
    assert en.stdout == "粤BD81226: usage commercial -> private\n"
    zh = run(monkeypatch, "zh_CN", "vehicle", "merge", "粤XX00000", "#1")
    assert zh.exit_code == 3 and "没有车牌号或车架号为 '粤XX00000' 的车辆" in zh.stderr


def test_calls_complaints_actions_and_follow_ups_in_both_languages(sample_db, monkeypatch):
    run(monkeypatch, "en", "plan", "--date", "2026-11-26")
    tasks = json.loads(run(monkeypatch, "en", "today", "--date", "2026-11-26", "--kind",
                           "post_repair", "--json").stdout)
    first, second = tasks[0]["id"], tasks[1]["id"]
    zh = run(monkeypatch, "zh_CN", "log", first, "--outcome", "reached", "--overall", "2",
             "--complaint", "等太久", "--category", "维修时间", "--at", "2026-11-26 10:00")
    assert zh.exit_code == 0, zh.output
    assert zh.stdout.startswith(f"任务 #{first}：接通 -> 已完成")
    assert re.search(r"；投诉 #(\d+) 已开立", zh.stdout), zh.stdout
    en = run(monkeypatch, "en", "log", second, "--outcome", "no_answer", "--at", "2026-11-26 10:05")
    assert en.stdout.startswith(f"task #{second}: no answer -> open, next try ")

    zh = run(monkeypatch, "zh_CN", "complaint", "show", "1")
    assert zh.stdout.startswith("#1 [待上报] 维修时间: 等太久")
    assert "；责任人 " in zh.stdout and " 开立 " in zh.stdout
    zh = run(monkeypatch, "zh_CN", "complaint", "escalate", "1", "--at", "2026-11-26 11:00")
    assert zh.stdout.startswith("投诉 #1：已上报，") and "前答复" in zh.stdout

    zh = run(monkeypatch, "zh_CN", "action", "add", "洗车后复查车内", "--owner", "王经理",
             "--deadline", "2026-12-20", "--at", "2026-11-26 12:00")
    assert zh.stdout == "措施 #1 已添加：责任人 王经理，期限 2026-12-20\n", zh.output
    zh = run(monkeypatch, "zh_CN", "action", "list", "--date", "2026-11-27")
    for label in ("整改措施与预防措施", "措施", "责任人", "完成期限", "状态", "整改措施", "进行中"):
        assert label in zh.stdout, label
    en = run(monkeypatch, "en", "action", "list", "--date", "2026-11-27")
    assert "Corrective and preventive actions" in en.stdout and "corrective" in en.stdout
    assert run(monkeypatch, "zh_CN", "action", "approve", "1").stdout == "措施 #1 已审批\n"

    zh = run(monkeypatch, "zh_CN", "stats", "--month", "2026-11", "--date", "2026-11-30",
             "unsatisfied")
    for label in ("不满意客户", "任务", "回访专员", "详情", "此后", "修后回访", "总体满意度=2", "共 1 行"):
        assert label in zh.stdout, label
    en = run(monkeypatch, "en", "stats", "--month", "2026-11", "--date", "2026-11-30",
             "unsatisfied")
    assert "Unsatisfied customers" in en.stdout and "overall=2" in en.stdout
    zh = run(monkeypatch, "zh_CN", "stats", "--month", "2026-11", "--date", "2026-11-30",
             "unreached")
    assert "未接通客户" in zh.stdout and "尝试 1 次，待办" in zh.stdout
    assert "未接（第1次，共3次）" in re.sub(r"[\s│]+", "", zh.stdout)


@pytest.mark.parametrize("error, zh, en, code", [
    (__import__("sqlite3").OperationalError("database is locked"),
     "数据库正忙（database is locked）：另一个 crmcli 正在写入；请一分钟后重试",
     "the database is busy (database is locked): another crmcli is writing", 5),
    (__import__("sqlite3").DatabaseError("file is not a database"),
     "数据库已损坏（file is not a database）；运行 `crmcli doctor` 查看问题",
     "the database is damaged (file is not a database); run `crmcli doctor`", 5),
    (KeyboardInterrupt(), "已中断；此前保存的内容都已保存",
     "interrupted; everything saved before stays saved", 130),
    (RuntimeError("boom"), "意外错误：RuntimeError: boom；这是 crmcli 的缺陷",
     "unexpected error: RuntimeError: boom; this is a defect in crmcli", 70),
])
def test_the_errors_handle_errors_gives_are_said_in_both_languages(
        monkeypatch, capsys, error, zh, en, code):
    import typer

    from crmcli.cli.base import handle_errors

    @handle_errors
    def fails():
        raise error

    for lang, expected in (("zh_CN", zh), ("en", en)):
        monkeypatch.setenv("CRMCLI_LANG", lang)
        with pytest.raises(typer.Exit) as exit_:
            fails()
        assert exit_.value.exit_code == code
        assert expected in capsys.readouterr().err


@pytest.mark.parametrize("stored, chinese", [
    ("交强险 expires 2026-11-26", "交强险 2026-11-26 到期"),
    ("post-repair callback: RO1 settled 2026-11-23 (repair)",
     "修后回访：工单 RO1 2026-11-23 结算（一般维修）"),
    ("post-repair callback: RO1 settled 2026-11-23", "修后回访：工单 RO1 2026-11-23 结算"),
    ("first maintenance due 2027-05-27 or at 5,000 km: delivered 2026-11-27, ~40 km/day (its own),"
     " 5,000 km predicted on 2027-01-11; interval 6 months / 5,000 km",
     "首保 2027-05-27 或 5,000 km 到期：2026-11-27 交车，日均约 40 km（本车实际），预计 2027-01-11"
     " 达到 5,000 km；间隔 6 个月 / 5,000 km"),
    ("birthday (born 1972-11-18) and lunar birthday (闰4月30日)",
     "生日（1972-11-18 出生）及农历生日（闰4月30日）"),
    ("春节 greeting", "春节问候"),
    ("3 paid visits, ¥4,200 in 24 months, loyalty 0.75 (3 maintenance here for 4.0 due "
     "(30,000 km driven)); not A: under ¥5,000, loyalty under 0.8",
     "近 24 个月付费进厂 3 次，消费 ¥4,200，忠诚度 0.75（应保养 4.0 次，在本店保养 3 次（行驶 30,000 km））"
     "；未达 A 类：消费低于 ¥5,000，忠诚度低于 0.8"),
    ("a note a clerk typed", "a note a clerk typed"),   # fits no template: shown as stored
])
def test_stored_reasons_are_said_in_chinese(monkeypatch, stored, chinese):
    from crmcli.reasons import translate

    monkeypatch.setenv("CRMCLI_LANG", "zh_CN")
    assert translate(stored) == chinese
    monkeypatch.setenv("CRMCLI_LANG", "en")
    assert translate(stored) == stored


def test_every_reason_planning_and_classifying_the_sample_writes_fits_a_template(
        sample_db, monkeypatch):
    """A rule whose wording changed without its template in reasons.py fails here."""
    from datetime import date

    from crmcli import classify, planner, settings
    from crmcli.reasons import translate

    cfg = settings.DEFAULTS
    planner.plan(sample_db, date(2026, 11, 26), cfg, as_of=date(2026, 11, 26))
    classify.run(sample_db, date(2026, 11, 26), cfg)
    monkeypatch.setenv("CRMCLI_LANG", "zh_CN")
    reasons = [r[0] for r in sample_db.conn.execute(
        "SELECT DISTINCT reason FROM tasks UNION SELECT DISTINCT reason FROM classifications")]
    assert len(reasons) > 100
    untranslated = [r for r in reasons if english_words(translate(r))]
    assert not untranslated, untranslated[:5]


def test_core_errors_are_said_in_the_language_with_the_same_exit_code(sample_db, monkeypatch):
    """Core errors are translated where they are raised (``_()`` in the core): one message
    per place, the code and JSON untouched."""
    cases = [
        (("customer", "show", "没有这个人"), 3, "没有客户与 '没有这个人' 相符",
         "no customer matches '没有这个人'"),
        (("log", "999999", "--outcome", "reached"), 3, "没有任务 #999999；任务编号见 `crmcli today`",
         "no task #999999; see `crmcli today` for the ids"),
        (("log", "1", "--outcome", "maybe"), 2, "结果 'maybe'：请用以下之一：",
         "outcome 'maybe': use one of"),
        (("complaint", "show", "42"), 3, "没有投诉 #42", "no complaint #42"),
        (("stats", "--month", "2026-13"), 2, "--month '2026-13'：请写作 YYYY-MM",
         "--month '2026-13': use YYYY-MM"),
        (("complaint", "add", "#1", "--text", "x", "--severity", "很严重"), 2,
         "严重程度 '很严重'：请用以下之一：normal (一般)", "severity '很严重': use one of normal"),
        # a parser's reason inside a core error is said in the language too
        (("customer", "edit", "#1", "--lunar-birthday", "13-40"), 2,
         "农历生日 '13-40'：农历月份须为 1-12，日须为 1-30",
         "lunar birthday '13-40': lunar month must be 1-12 and day 1-30"),
    ]
    for args, code, zh, en in cases:
        r_zh = run(monkeypatch, "zh_CN", *args)
        r_en = run(monkeypatch, "en", *args)
        assert r_zh.exit_code == r_en.exit_code == code, (args, r_zh.output, r_en.output)
        assert zh in r_zh.stderr, (args, r_zh.stderr)
        assert en in r_en.stderr, (args, r_en.stderr)


def test_import_tables_and_doctor_in_both_languages(tmp_path, monkeypatch):
    from conftest import SAMPLE

    zh = run(monkeypatch, "zh_CN", "import", "orders", SAMPLE / "dms_orders.xlsx", "--date",
             "2026-11-26")
    assert zh.exit_code == 1  # two rows rejected, in either language
    for label in ("需核对的行", "行", "工单号", "车牌号", "列", "值", "原因", "拒绝", "存疑",
                  "没有工单号", "工单日期：不是有效日期：2025-02-30", "校验位错误（应为 4）",
                  "不是手机或固话号码"):
        assert label in re.sub(r"[\s│]+", "", zh.stdout) or label in zh.stdout, label
    zh = run(monkeypatch, "zh_CN", "doctor")
    assert zh.exit_code == 0
    for head in ("数据库", "完整性", "结构版本", "记录", "设置", "结论"):
        assert re.search(rf"^{head} +\S", zh.stdout, re.M), head
    assert "完好" in zh.stdout and "张工单" in zh.stdout
    en = run(monkeypatch, "en", "doctor")
    assert re.search(r"^verdict +whole$", en.stdout, re.M)


def test_the_call_session_speaks_chinese(sample_db, monkeypatch):
    run(monkeypatch, "en", "plan", "--date", "2026-11-26")
    zh = run(monkeypatch, "zh_CN", "call", "--date", "2026-11-26", "--by", "小王", input="s\nq\n")
    assert zh.exit_code == 0, zh.output
    for text in ("· 任务 #", "· 还剩 ", "事由：", "话术：", "[r]接通 [n]未接", "[s]跳过 [q]退出",
                 "本次结束：保存 0 个通话，跳过 1 个。"):
        assert text in zh.stdout, text
    en = run(monkeypatch, "en", "call", "--date", "2026-11-26", "--by", "Wang", input="q\n")
    assert "[r]eached [n]o answer" in en.stdout and "Session ended: 0 calls saved" in en.stdout


def test_export_and_broadcast_lines_in_both_languages(sample_db, monkeypatch, tmp_path):
    settings = tmp_path / "settings.toml"
    settings.write_text('[dealer]\nname = "本店"\nshort_name = "本店"\nhotline = "0755-1"\n'
                        'rescue = "0755-2"\naddress = "深圳"\n', encoding="utf-8")
    run(monkeypatch, "en", "plan", "--date", "2026-11-26")
    zh = run(monkeypatch, "zh_CN", "--settings", settings, "export", "--date", "2026-11-26",
             "--out", tmp_path)
    assert zh.exit_code == 0, zh.output
    assert re.match(r"2026-11-26：新短信 \d+ 条", zh.stdout) and " 个电话在 " in zh.stdout
    zh = run(monkeypatch, "zh_CN", "broadcast", "weather", "--date", "2026-11-26", "--text",
             "台风{greeting}")
    assert re.match(r"2026-11-26：\d+ 位客户（全部客户）", zh.stdout), zh.stdout
    assert "加 --yes 可不经询问直接安排" in zh.stderr


def test_customer_list_edit_and_the_import_dry_run_in_both_languages(sample_db, monkeypatch):
    from conftest import SAMPLE

    zh = run(monkeypatch, "zh_CN", "customer", "list", "--limit", "3")
    for head in ("姓名", "手机", "车牌", "分类", "进厂", "最近进厂", "消费"):
        assert head in zh.stdout, head
    en = run(monkeypatch, "en", "customer", "list", "--limit", "3")
    assert "Name" in en.stdout and "Last visit" in en.stdout
    zh = run(monkeypatch, "zh_CN", "customer", "edit", "#1", "--call-time", "工作日 18:00后")
    assert zh.stdout == "#1 郝强: 已修改 方便时间\n"
    show = run(monkeypatch, "zh_CN", "customer", "show", "#1")
    assert "档案变更" in show.stdout and "专员修改" in show.stdout and "方便时间" in show.stdout
    en = run(monkeypatch, "en", "customer", "show", "#1")
    assert "clerk edit" in en.stdout and "preferred_call_time" in en.stdout

    zh = run(monkeypatch, "zh_CN", "import", "vehicles", SAMPLE / "delivery_list.xlsx", "--dry-run",
             "--date", "2026-11-26")
    for text in ("文件中的列", "字段", "车架号", "交车日期", "逐行结果", "未变"):
        assert text in zh.stdout, text
    assert not english_words(zh.stdout.split("逐行结果")[1]), english_words(zh.stdout)
    en = run(monkeypatch, "en", "import", "vehicles", SAMPLE / "delivery_list.xlsx", "--dry-run",
             "--date", "2026-11-26")
    assert "Column in file" in en.stdout and "Row verdicts" in en.stdout and "unchanged" in en.stdout


def test_the_rejects_workbook_gives_the_reasons_in_the_language(tmp_path, monkeypatch):
    import openpyxl
    from conftest import SAMPLE

    out = tmp_path / "待核.xlsx"
    r = run(monkeypatch, "zh_CN", "import", "orders", SAMPLE / "dms_orders.xlsx", "--date",
            "2026-11-26", "--rejects", out, "-q")
    assert r.exit_code == 1
    rows = list(openpyxl.load_workbook(out).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("行号 Row", "处理 Verdict", "原因 Reason")
    reasons = {row[2] for row in rows[1:]}
    assert "工单号: 没有工单号" in reasons
    assert "结算日期: 工单日期：不是有效日期：2025-02-30" in reasons


def test_the_remaining_commands_speak_both_languages(sample_db, monkeypatch, tmp_path):
    """backup, opt-outs, template preview, complaint add/reply, action done, forget."""
    zh = run(monkeypatch, "zh_CN", "backup", tmp_path / "b.db")
    assert zh.stdout.startswith(f"已备份到 {tmp_path / 'b.db'}：") and "位客户，结构版本 m0" in zh.stdout
    en = run(monkeypatch, "en", "backup", tmp_path / "c.db")
    assert en.stdout.startswith(f"backed up to {tmp_path / 'c.db'}: ")

    zh = run(monkeypatch, "zh_CN", "optout", "add", "#1", "sms", "--reason", "电话中要求",
             "--date", "2026-11-26")
    assert zh.stdout == "客户 #1：已退订短信\n"
    zh = run(monkeypatch, "zh_CN", "optout", "list")
    assert "短信  自 2026-11-26 起  电话中要求  （tester 登记）" in zh.stdout
    assert run(monkeypatch, "en", "optout", "remove", "#1", "sms").stdout == \
        "customer #1: SMS opt-out removed\n"
    assert run(monkeypatch, "zh_CN", "optout", "list").stdout == "没有退订记录\n"

    zh = run(monkeypatch, "zh_CN", "template", "preview", "birthday")
    assert re.search(r"^\d+ 个字符，1 条短信（营销短信：结尾带退订语）$", zh.stdout, re.M), zh.stdout
    en = run(monkeypatch, "en", "template", "preview", "birthday")
    assert re.search(r"^\d+ characters, 1 SMS \(marketing: ends with the unsubscribe line\)$",
                     en.stdout, re.M)

    zh = run(monkeypatch, "zh_CN", "complaint", "add", "#1", "--text", "等太久", "--category",
             "维修时间", "--at", "2026-11-26 10:00")
    assert re.fullmatch(r"投诉 #1 已开立：2026-11-26 \d\d:\d\d 前上报，2026-11-2\d \d\d:\d\d 前答复\n",
                        zh.stdout), zh.stdout
    zh = run(monkeypatch, "zh_CN", "complaint", "reply", "1", "--note", "已处理", "--at",
             "2026-11-26 11:00")
    assert zh.stdout.startswith("投诉 #1：已答复；投诉回访任务 #") and "将询问客户对处理结果是否满意" in zh.stdout

    run(monkeypatch, "en", "action", "add", "洗车后复查", "--owner", "王经理", "--deadline",
        "2026-12-20", "--at", "2026-11-26 12:00")
    zh = run(monkeypatch, "zh_CN", "action", "done", "1", "--at", "2026-11-27 12:00")
    assert zh.stdout == "措施 #1 已完成\n"

    zh = run(monkeypatch, "zh_CN", "customer", "forget", "#2", "--yes")
    assert zh.stdout.startswith("客户 #2 的个人信息已删除：") and "工单和统计数据保留" in zh.stdout
    zh = run(monkeypatch, "zh_CN", "customer", "forget", "#3", input="no\n")
    assert zh.exit_code == 2 and "删除个人信息无法撤销：加 --yes 确认" in zh.stderr


@pytest.mark.parametrize("said, code", [
    ("非车主本人", "not_owner"), ("not the owner", "not_owner"), ("空号/错号", "wrong_number"),
    ("Wrong Number", "wrong_number"), ("已在别处办理", "done_elsewhere"), ("拒绝回访", "refused"),
    ("busy, call later", "busy"), ("忙/约时间", "busy")])
def test_an_outcome_is_taken_by_the_name_the_lists_show(said, code):
    from crmcli import calls

    assert calls.normalise_outcome(said) == code
