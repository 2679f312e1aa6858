"""The closed lists a clerk picks from on the command line: kinds of task, channels,
value classes. Each value is accepted as its key or its label in either language
(``post_repair``, ``修后回访``, ``post-repair callback``); anything else is refused with
exit 2 and the list, so a typo never quietly matches nothing.

    >>> resolve("kind", "修后回访")
    'post_repair'
"""

from __future__ import annotations

from .errors import UsageError
from .i18n import N_, _, language

# key -> (Chinese label, English label): the one table of task kinds' names, which
# `today`, the call card, the export's call list and the monthly report all show.
KINDS: dict[str, tuple[str, str]] = {
    "welcome_sms": ("交车3日关爱", "welcome SMS"),
    "delivery_call": ("交车3日电话", "delivery call"),
    "delivery_questionnaire": ("交车7日问卷", "delivery questionnaire"),
    "post_repair": ("修后回访", "post-repair callback"),
    "first_maintenance": ("首保", "first maintenance"),
    "regular_maintenance": ("定保", "regular maintenance"),
    "warranty_check": ("超保检查", "warranty check"),
    "insurance_compulsory": ("交强险", "compulsory insurance"),
    "insurance_commercial": ("商业险", "commercial insurance"),
    "inspection": ("年检", "annual inspection"),
    "birthday": ("生日", "birthday"),
    "holiday": ("节日", "holiday greeting"),
    "advice_followup": ("建议跟进", "advice follow-up"),
    "recovery": ("流失召回", "lost-customer recovery"),
    "rescheduled": ("预约回电", "rescheduled call"),
    "complaint_followup": ("投诉回访", "complaint follow-up"),
    "no_show": ("预约未到", "booked, did not come"),
    "thank_you_sms": ("感谢短信", "thank-you SMS"),
    "broadcast": ("群发短信", "broadcast SMS"),
}
CHANNELS: dict[str, tuple[str, str]] = {
    "sms": ("短信", "SMS"),
    "call": ("电话", "call"),
}
CLASSES: dict[str, tuple[str, str]] = {
    "A": ("忠诚客户", "loyal"),
    "B": ("机会客户", "opportunity"),
    "C": ("边缘客户", "marginal"),
    "D": ("流失客户", "lost"),
}
# A call's outcome, the six satisfaction questions, a complaint's severity: the one
# table of their names (the report, the call session, the customer file, the lists).
OUTCOMES: dict[str, tuple[str, str]] = {
    "reached": ("接通", "reached"),
    "no_answer": ("未接", "no answer"),
    "busy": ("忙/约时间", "busy, call later"),
    "wrong_number": ("空号/错号", "wrong number"),
    "refused": ("拒绝回访", "refused"),
    "not_owner": ("非车主本人", "not the owner"),
    "booked": ("已预约", "booked"),
    "done_elsewhere": ("已在别处办理", "done elsewhere"),
}
QUESTIONS: dict[str, tuple[str, str]] = {
    "overall": ("总体满意度", "overall"),
    "advisor": ("服务顾问", "service advisor"),
    "quality": ("维修质量", "repair quality"),
    "timeliness": ("及时性", "timeliness"),
    "price": ("价格", "price"),
    "cleanliness": ("清洁", "cleanliness"),
}
SEVERITIES: dict[str, tuple[str, str]] = {
    "normal": ("一般", "normal"), "serious": ("严重", "serious"), "major": ("重大", "major"),
}
# The states a task, a complaint and an action are in (stored as these keys).
TASK_STATES: dict[str, tuple[str, str]] = {
    "open": ("待办", "open"),
    "done": ("已完成", "done"),
    "missed": ("已错过", "missed"),
    "withdrawn": ("已撤销", "withdrawn"),
    "merged": ("已合并", "merged"),
    "unreachable": ("联系不上", "unreachable"),
    "refused": ("拒绝回访", "refused"),
}
COMPLAINT_STATES: dict[str, tuple[str, str]] = {
    "open": ("待上报", "open"),
    "escalated": ("已上报", "escalated"),
    "replied": ("已答复", "replied"),
    "closed": ("已关闭", "closed"),
}
ACTION_STATES: dict[str, tuple[str, str]] = {"open": ("进行中", "open"), "done": ("已完成", "done")}
ACTION_KINDS: dict[str, tuple[str, str]] = {
    "corrective": ("整改措施", "corrective"), "preventive": ("预防措施", "preventive"),
}
USAGES: dict[str, tuple[str, str]] = {
    "private": ("私家车", "private"), "official": ("公务车", "official"),
    "commercial": ("营运车", "commercial"), "unknown": ("用途不详", "unknown"),
}
SERVICE_TYPES: dict[str, tuple[str, str]] = {
    "first_maintenance": ("首保", "first maintenance"), "maintenance": ("保养", "maintenance"),
    "repair": ("一般维修", "repair"), "warranty": ("保修", "warranty"),
    "bodypaint": ("钣喷", "body and paint"), "accident": ("事故", "accident"),
    "free_check": ("免费检测", "free check"), "other": ("其他", "other"),
}
GROUPS = {"kind": KINDS, "channel": CHANNELS, "class": CLASSES, "outcome": OUTCOMES,
          "question": QUESTIONS, "severity": SEVERITIES, "state": TASK_STATES,
          "complaint_state": COMPLAINT_STATES, "action_state": ACTION_STATES,
          "action_kind": ACTION_KINDS, "usage": USAGES, "service_type": SERVICE_TYPES,
          "task_channel": {**CHANNELS, "sms_call": ("先短信后电话", "SMS, then call")}}
WHAT = {"kind": N_("a kind of task"), "channel": N_("a channel"), "class": N_("a value class")}


def label(group: str, key: str) -> str:
    """The label of ``key`` in this run's language (the key itself when unknown)."""
    pair = GROUPS[group].get(key)
    if pair is None:
        return key
    return pair[0] if language() == "zh_CN" else pair[1]


def _norm(text: str) -> str:
    return "".join(text.lower().replace("-", "_").replace(" ", "_").split())


def resolve(group: str, value: str, option: str = "") -> str:
    """The key for a key or label in either language; UsageError (exit 2) with the list."""
    values = GROUPS[group]
    want = _norm(value)
    for key, (zh, en) in values.items():
        if want in (_norm(key), _norm(zh), _norm(en)) or (
                group == "class" and want in (_norm(f"{key}{zh}"), _norm(f"{key}_{en}"))):
            return key
    raise UsageError(_("{option}{value!r} is not {what}; use one of: {choices}").format(
        option=f"{option}: " if option else "", value=value, what=_(WHAT[group]),
        choices=listing(group)))


def resolve_all(group: str, values, option: str = ""):
    return None if not values else [resolve(group, v, option) for v in values]


def listing(group: str) -> str:
    """``post_repair (修后回访), ...`` in this run's language: for help and errors."""
    return ", ".join(f"{key} ({label(group, key)})" for key in GROUPS[group])
