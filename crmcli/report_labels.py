"""Every word the monthly report shows, in Chinese and English, in one table.

The workbook a manager forwards to the brand's regional office is Chinese;
the terminal report speaks the interface's language. Codes (post_repair,
no_answer, serious) stay in the JSON; people read these labels. When the
project's message catalogs cover the report, this table is what moves there.
"""

from __future__ import annotations

from .choices import KINDS as _CHOICE_KINDS
from .choices import OUTCOMES as _CHOICE_OUTCOMES
from .choices import QUESTIONS as _CHOICE_QUESTIONS
from .choices import SEVERITIES as _CHOICE_SEVERITIES

# key: (Chinese, English)
LABELS: dict[str, tuple[str, str]] = {
    # titles and sheets
    "report": ("回访月报", "Callback report"),
    "summary": ("概要", "Summary"),
    "figure": ("指标", "Figure"),
    "this_period": ("本期", "This period"),
    "previous": ("上期", "Previous"),
    "change": ("变化", "Change"),
    "by_kind": ("按类型", "By kind"),
    "work_done": ("专员工作量", "Work done"),
    "by_week": ("按周完成率", "Completion by week"),
    "satisfaction": ("满意度", "Satisfaction"),
    "by_advisor": ("服务顾问", "By service advisor"),
    "coach": ("建议辅导的服务顾问", "Advisors to coach"),
    "problems": ("客户问题", "Problems raised"),
    "complaints": ("投诉", "Complaints"),
    "actions": ("整改措施", "Corrective actions"),
    "lost": ("流失客户", "Lost customers"),
    "return_rate": ("回厂率", "Back after a reminder"),
    "definitions": ("口径说明", "Definitions"),
    # columns and figures
    "kind": ("回访类型", "Kind"),
    "clerk": ("回访专员", "Clerk"),
    "due": ("应回访", "Due"),
    "performed": ("已回访", "Performed"),
    "performed_rate": ("回访完成率", "Performed / due"),
    "successful": ("成功回访", "Successful"),
    "success_rate": ("回访成功率", "Successful / due"),
    "satisfied_share": ("满意率", "Satisfied"),
    "overall_average": ("总体满意度均分", "Overall score"),
    "complaints_opened": ("新增投诉", "Complaints opened"),
    "complaints_overdue": ("超时投诉", "Complaints overdue"),
    "holding_rate": ("客户掌握率", "Holding rate"),
    "total": ("合计", "Total"),
    "week_of": ("周(起)", "Week of"),
    "question": ("问题", "Question"),
    "answers": ("回答数", "Answers"),
    "average": ("平均分", "Average"),
    "advisor": ("服务顾问", "Advisor"),
    "calls": ("通话数", "Calls"),
    "tasks_called": ("涉及任务", "Tasks called"),
    "successful_calls": ("成功通话", "Successful calls"),
    "category": ("类别", "Category"),
    "count": ("次数", "Count"),
    "tag": ("备注标签", "Note tag"),
    "severity": ("严重程度", "Severity"),
    "opened": ("新增", "Opened"),
    "closed": ("已关闭", "Closed"),
    "overdue": ("超时", "Overdue"),
    "to_escalation": ("上报总经理用时(工作小时)", "To the GM (working hours)"),
    "to_reply": ("上报后答复用时(工作小时)", "Escalation to reply (working hours)"),
    "resolution_satisfied": ("客户对处理结果满意", "Satisfied with the resolution"),
    "resolution_not_satisfied": ("客户对处理结果不满意", "Not satisfied with the resolution"),
    "resolution_pending": ("待回访确认", "Awaiting the follow-up call"),
    "action": ("措施", "Action"),
    "owner": ("责任人", "Owner"),
    "deadline": ("完成期限", "Deadline"),
    "state": ("状态", "State"),
    "approved": ("审批", "Approved"),
    "metric": ("目标指标", "Figure to move"),
    "before": ("整改前", "Before"),
    "after": ("整改后", "After"),
    "open": ("进行中", "open"),
    "done": ("已完成", "done"),
    "not_approved": ("未审批", "not approved"),
    "reason": ("流失原因", "Reason"),
    "recovery_due": ("应召回", "Recovery calls due"),
    "recovery_reached": ("召回接通", "Reached"),
    "won_back": ("已回厂客户", "Customers won back"),
    "reminders": ("提醒数", "Reminders"),
    "came_back": ("回厂数", "Came back"),
    "last_changed": ("数据最后变动", "Data last changed"),
    "still_open": ("尚可回访的任务", "Tasks still open"),
    "through": ("统计至", "Counted through"),
    "month_closed": ("本月已结束，数据已稳定", "closed: every task of the period is closed"),
    "none": ("无", "none"),
    "not_called": ("(未回访)", "(not called)"),
    "no_advisor": ("(无服务顾问)", "(no advisor)"),
    "maintenance": ("保养提醒", "maintenance"),
    "warranty_check": ("超保提醒", "warranty check"),
    "recovery": ("流失召回", "recovery"),
}

# The task kinds' names are choices' table: one name per kind everywhere.
KINDS = _CHOICE_KINDS

# Outcomes, questions and severities: choices' tables too (one name for each everywhere).
OUTCOMES = _CHOICE_OUTCOMES
QUESTIONS = _CHOICE_QUESTIONS
SEVERITIES = _CHOICE_SEVERITIES

# The figures an action can be meant to move: each question's average too.
LABELS.update({f"score_{q}": (f"{zh}均分", f"{en} score") for q, (zh, en) in QUESTIONS.items()})

# The rules of the report, stated once; {placeholders} come from the settings.
DEFINITIONS: list[tuple[str, str]] = [
    (("归属规则：回访任务的一切数据（是否回访、是否成功、满意度评分、由此产生的投诉）都"
      "计入任务到期日所在的期间，无论电话何时拨打；专员工作量另表统计本期内每位专员实际"
      "拨打的电话。"),
     ("Attribution: every figure of a callback task (performed, successful, its scores, "
      "its complaint) belongs to the period in which the task fell due, whenever the call "
      "was made; the work-done table counts the calls each clerk made in the period.")),
    (("应回访：到期日在本期的电话回访任务（电话，或先短信后电话），不含已撤销和已合并的"
      "任务（合并的任务由其并入的电话完成）。"),
     ("Due: call tasks (call, or SMS then call) whose due date falls in the period; withdrawn "
      "and merged tasks are not counted (a merged one is covered by the call it joined).")),
    (("本月至今：只统计到期日不晚于统计日的任务，尚未到期的任务不计入应回访。"),
     ("The month so far counts only tasks that have fallen due by the day it is read.")),
    (("已回访：应回访任务中至少拨打过一次的；回访完成率 = 已回访 / 应回访。"),
     ("Performed: due tasks with at least one call logged; performed / due.")),
    (("成功回访：客户接通（含预约成功、已在别处办理）并至少回答了一个问题（一项评分、流失原因，或投诉回访中是否满意）；"
      "回访成功率 = 成功回访 / 应回访。"),
     ("Successful: the customer was reached (booked and done elsewhere included) and answered "
      "at least one question (a score, why a lost customer left, or whether a complaint's "
      "resolution satisfied them); successful / due.")),
    (("满意率：总体满意度评分不低于{satisfied_from}分的回答 / 总体满"
      "意度的回答数。"),
     ("Satisfied: overall scores of {satisfied_from} or more / overall answers.")),
    (("已结束的月份不再变化，除非该月的数据本身变化（如补录导入、该月任务的迟到回访）；"
      "报告写明数据最后变动的时间。"),
     ("A closed month does not change afterwards unless its own data changes (a late import, "
      "a late call on one of its tasks); the report says when that data last changed.")),
    (("服务顾问：修后回访的评分按其工单的服务顾问统计；回答数不少于{coach_min_answers}个"
      "、“{coach_question}”平均分最低的{coach_count}位列"
      "为建议辅导。"),
     ("Service advisors: post-repair scores by the advisor of the repair order; of those "
      "with at least {coach_min_answers} answers, the {coach_count} with the lowest '{coach_question}' "
      "average are the advisors to coach.")),
    (("投诉：类别取自设置中的列表；上报总经理期限为开立后{escalate}个工作日，"
      "答复客户期限从上报时起算{reply}个工作日（按国家法定工作日，含调休上班日）"
      "；答复后安排回访确认客户是否满意，满意即关闭，不满意退回服务经理重新答复；任何一"
      "步超时即标记超时，之后的步骤不会消除该标记。"),
     ("Complaints: categories from the settings' list; to the GM within {escalate} working "
      "days of opening, a reply within {reply} working days of the escalation (official "
      "working days, swapped weekends included); after the reply a call asks whether the "
      "customer is satisfied: yes closes it, no sends it back for a new reply; a step done "
      "late marks the complaint overdue and later steps keep the mark.")),
    (("整改措施：由服务经理审批；关闭时记录效果：目标指标在措施所属月份（整改前）与关闭"
      "当月截至关闭日（整改后）的数值。"),
     ("Actions: approved by the service manager; closing one records its effect: the figure "
      "it was meant to move in its report month (before) and in the month it closed, up "
      "to that day (after).")),
    (("流失客户：召回电话记录客户流失原因（设置中的列表）；已回厂客户 = 本期到期的召"
      "回任务的客户中，在到期日前一天至之后{window}天内有进厂记录的人数。"),
     ("Lost customers: a recovery call records why the customer left (the settings' list); "
      "won back: customers of the period's recovery calls with a visit from the day before "
      "the due date to {window} days after.")),
    (("回厂率：本期到期的提醒后{window}天内回厂的比例；已在别处办理：本期到期的提醒中，"
      "客户在电话里说已在别处保养、保险或年检的数量；客户掌握率：统计日前12个"
      "月内回厂的车辆 / 在档车辆。"),
     ("Return rate: reminders due in the period followed by a visit within {window} days; "
      "done elsewhere: reminders due in the period whose call heard the service was done "
      "elsewhere; holding rate: vehicles back within the 12 months to the last day counted / "
      "vehicles on file.")),
]


def language() -> str:
    """'zh' when this run speaks Chinese (``i18n.language``: $CRMCLI_LANG, the settings'
    [ui] language, then the locale), else 'en'."""
    from .i18n import language as run_language

    return "zh" if run_language() == "zh_CN" else "en"


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[0] if lang == "zh" else pair[1]


def label(key: str, lang: str) -> str:
    return _pick(LABELS[key], lang) if key in LABELS else key


def kind(code: str, lang: str) -> str:
    return _pick(KINDS[code], lang) if code in KINDS else code


def outcome(code: str, lang: str) -> str:
    return _pick(OUTCOMES[code], lang) if code in OUTCOMES else code


def question(code: str, lang: str) -> str:
    return _pick(QUESTIONS[code], lang) if code in QUESTIONS else code


def severity(code: str, lang: str) -> str:
    return _pick(SEVERITIES[code], lang) if code in SEVERITIES else code


def definitions(settings: dict, lang: str) -> list[str]:
    st, c = settings["stats"], settings["complaints"]
    values = {"satisfied_from": settings["calls"]["satisfied_from"],
              "coach_min_answers": st["coach_min_answers"], "coach_count": st["coach_count"],
              "coach_question": question(st["coach_question"], lang),
              "escalate": f"{c['escalate_within_days']:g}", "reply": f"{c['reply_within_days']:g}",
              "window": st["return_window_days"]}
    return [_pick(pair, lang).format(**values) for pair in DEFINITIONS]
