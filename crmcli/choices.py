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
GROUPS = {"kind": KINDS, "channel": CHANNELS, "class": CLASSES}
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
