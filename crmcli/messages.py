"""Message texts: SMS and call scripts rendered from the dealer's templates.

Templates live in the settings (``[sms.templates]`` per kind, ``care.<kind>.script``
for calls) and name their placeholders in braces; ``validate`` refuses, when the
settings load, a template that names an unknown placeholder or carries its own
signature, and a signature that is not 【…】, naming the line. Every SMS is
``signature + body``, and marketing kinds (greetings, campaigns, weather care)
end with the unsubscribe line (回T退订); service notices do not (DOMAIN.md).

A worked example with the defaults and ``[dealer] short_name = "安达丰田"``:
a birthday SMS to 张三 (M) reads
``【安达丰田】尊敬的张先生，今天是您的生日，安达丰田全体员工祝您生日快乐、万事如意！回T退订``:
58 characters, one SMS. A company owner is greeted by its name and addressed
as 贵公司; a customer whose gender is unknown by the full name.

Pure: no I/O, no clock. ``export`` and ``broadcast`` build the context from the store.
"""

from __future__ import annotations

import math
import string
from datetime import date
from typing import Any

# Kinds whose SMS is marketing (carriers require the unsubscribe line); all others
# are service notices. Weather care goes to a whole region unasked: marketing too.
MARKETING_SMS = frozenset({"birthday", "holiday", "campaign", "weather", "recovery"})
# Greetings go on their own day only: a late birthday SMS is worse than none.
FIXED_DAY_SMS = frozenset({"birthday", "holiday", "weather"})

PLACEHOLDERS: dict[str, str] = {
    "greeting": "how the customer is addressed: 张先生 / 王女士; a company by its name; "
                "the full name when the gender is unknown; 客户 when there is no name",
    "you": "您, or 贵公司 when the customer is a company",
    "name": "the customer's full name",
    "plate": "the vehicle's plate, e.g. 粤B12345",
    "model": "the vehicle's model",
    "due_date": "the day the reminder is about (maintenance due, insurance or inspection "
                "expiry, warranty point), e.g. 12月8日",
    "km": "the mileage the reminder is about, e.g. 5000",
    "first_maintenance": "the first-maintenance date (delivery + the first_maintenance months)",
    "holiday": "the holiday's name, e.g. 中秋节",
    "dealer": "the dealer's short name ([dealer] short_name, else name)",
    "booking": "the booking number ([dealer] hotline)",
    "hotline": "the same as {booking}",
    "rescue": "the rescue number ([dealer] rescue)",
    "address": "the dealer's address ([dealer] address)",
    "link": "the booking link ([dealer] booking_link)",
}
SCRIPT_ONLY = {"clerk": "the clerk's name (call scripts only)"}
# Placeholders taken from [dealer]: empty ones are refused when a text that uses them
# is about to go out, so no customer gets "救援电话，地址：。".
DEALER_FIELDS = {"booking": "hotline", "hotline": "hotline", "rescue": "rescue",
                 "address": "address", "link": "booking_link"}

_Y = "{you}"
SMS_TEMPLATES: dict[str, str] = {
    "welcome_sms": "尊敬的{greeting}，感谢选择{dealer}！从今天起由我们照顾" + _Y + "的爱车{plate}。"
                   "预约电话{booking}，24小时救援电话{rescue}，地址：{address}。首次保养请在"
                   "{first_maintenance}前回厂，届时我们会先致电提醒。",
    "delivery_call": "尊敬的{greeting}，感谢选择{dealer}。近日我们将致电了解" + _Y + "的用车情况，"
                     "如有疑问请拨打{booking}。",
    "delivery_questionnaire": "尊敬的{greeting}，{dealer}近日将致电就新车{plate}做一次简短回访，"
                              "感谢" + _Y + "的支持。",
    "post_repair": "尊敬的{greeting}，感谢" + _Y + "光临{dealer}。爱车{plate}修后如有任何问题，"
                   "请拨打{booking}，我们随时为" + _Y + "服务。",
    "first_maintenance": "尊敬的{greeting}，" + _Y + "的爱车{plate}将于{due_date}或行驶{km}公里时"
                         "到首次保养，请提前预约：{booking}。",
    "regular_maintenance": "尊敬的{greeting}，" + _Y + "的爱车{plate}预计{due_date}前后"
                           "（约{km}公里）该做保养了，请提前预约：{booking}。",
    "warranty_check": "尊敬的{greeting}，" + _Y + "的爱车{plate}部分零件的保修将于{due_date}前后"
                      "到期，欢迎到店免费检查，预约电话{booking}。",
    "insurance_compulsory": "尊敬的{greeting}，" + _Y + "的爱车{plate}交强险将于{due_date}到期，"
                            "请及时续保，咨询电话{booking}。",
    "insurance_commercial": "尊敬的{greeting}，" + _Y + "的爱车{plate}商业险将于{due_date}到期，"
                            "请及时续保，咨询电话{booking}。",
    "inspection": "尊敬的{greeting}，" + _Y + "的爱车{plate}年检将于{due_date}到期，请带行驶证、"
                  "交强险保单和身份证办理，电话{booking}。",
    "birthday": "尊敬的{greeting}，今天是" + _Y + "的生日，{dealer}全体员工祝" + _Y
                + "生日快乐、万事如意！",
    "holiday": "尊敬的{greeting}，{holiday}快乐！{dealer}祝" + _Y + "节日愉快，出行平安。",
    "advice_followup": "尊敬的{greeting}，上次到店时技师建议的维修项目尚未处理，为了行车安全，"
                       "欢迎预约：{booking}。",
    "recovery": "尊敬的{greeting}，{dealer}好久不见，诚邀" + _Y + "回厂为爱车{plate}做一次免费检测，"
                "预约电话{booking}。",
    "thank_you_sms": "尊敬的{greeting}，感谢" + _Y + "的宝贵意见！预约电话{booking}，救援电话"
                     "{rescue}，{dealer}竭诚为" + _Y + "服务。",
    "campaign": "尊敬的{greeting}，{dealer}四季关爱活动进行中，到店可享免费检查，"
                "欢迎预约：{booking}。",
    "weather": "尊敬的{greeting}，近期天气多变，请注意行车安全；如需救援请拨打{rescue}。"
               "{dealer}关心" + _Y + "。",
}

SMS_DEFAULTS: dict[str, Any] = {
    # 【{dealer}】 with the dealer's short name; set a literal 【…】 to override.
    "signature": "【{dealer}】",
    "unsubscribe": "回T退订",
    # DOMAIN.md: messages go out between 08:00 and 21:00.
    "send_from": "08:00",
    "send_until": "21:00",
    # What an unsubscribe reply (T/TD/N) in the platform's list stops: "marketing"
    # (greetings and campaigns; reminders still go) or "sms" (every SMS).
    "unsubscribe_scope": "marketing",
    "templates": SMS_TEMPLATES,
    # Named texts for `crmcli broadcast --template NAME`, e.g. winter_check = "..."
    "broadcasts": {},
}

SINGLE, MULTI = 70, 67


def length(text: str) -> int:
    """Characters as the carriers count them (UTF-16 units: an emoji counts two)."""
    return sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)


def segments(text: str) -> int:
    """SMS segments: one up to 70 characters, else 67 each (the rest carry the join).

    >>> segments('好' * 70), segments('好' * 71), segments('好' * 134), segments('好' * 135)
    (1, 2, 2, 3)
    """
    n = length(text)
    return 1 if n <= SINGLE else math.ceil(n / MULTI)


def placeholders(template: str) -> list[str]:
    """The names a template uses; raises ValueError for a malformed one ('{', '{0}', '{a.b}')."""
    names = []
    for _lit, field, spec, conv in string.Formatter().parse(template):
        if field is None:
            continue
        if not field.isidentifier() or spec or conv:
            raise ValueError(f"{{{field}}} is not a placeholder like {{greeting}}")
        names.append(field)
    return names


def template_problem(template: str, *, script: bool = False) -> str | None:
    """Why a template cannot be used, or None."""
    if not isinstance(template, str):
        return "must be a text in quotes"
    try:
        names = placeholders(template)
    except ValueError as exc:
        return str(exc)
    allowed = PLACEHOLDERS.keys() | (SCRIPT_ONLY.keys() if script else set())
    unknown = [n for n in names if n not in allowed]
    if unknown:
        return (f"unknown placeholder {{{unknown[0]}}}; known: "
                + ", ".join("{" + k + "}" for k in sorted(allowed)))
    if not script and ("【" in template or "】" in template):
        return "carries a 【signature】: the signature is added to every SMS, remove it here"
    if not script and "退订" in template:
        return "carries an unsubscribe line: it is added to marketing kinds, remove it here"
    return None


def signature(settings: dict) -> str:
    dealer = settings["dealer"]
    short = dealer.get("short_name") or dealer["name"]
    return settings["sms"]["signature"].replace("{dealer}", short)


def signature_problem(settings: dict) -> str | None:
    sig = signature(settings)
    if not (sig.startswith("【") and sig.endswith("】") and len(sig) > 2
            and "【" not in sig[1:-1] and "】" not in sig[1:-1]):
        return f"the SMS signature {sig!r} must be the dealer's short name in 【】, e.g. 【安达丰田】"
    return None


def validate(settings: dict) -> list[tuple[str, str]]:
    """Every template problem as (dotted key, why); empty when all is well."""
    problems: list[tuple[str, str]] = []
    sms = settings["sms"]
    for kind, template in sms["templates"].items():
        why = template_problem(template)
        if why:
            problems.append((f"sms.templates.{kind}", why))
    for name, template in sms["broadcasts"].items():
        why = template_problem(template)
        if why:
            problems.append((f"sms.broadcasts.{name}", why))
    for kind, cfg in settings["care"].items():
        why = template_problem(cfg.get("script", ""), script=True)
        if why:
            problems.append((f"care.{kind}.script", why))
    for key in ("greeting_script", "thank_you_text"):
        why = template_problem(settings["calls"][key], script=True)
        if why:
            problems.append((f"calls.{key}", why))
    why = signature_problem(settings)
    if why:
        where = "sms.signature" if sms["signature"] != SMS_DEFAULTS["signature"] else (
            "dealer.short_name" if settings["dealer"].get("short_name") else "dealer.name")
        problems.append((where, why))
    if not isinstance(sms["unsubscribe"], str) or "退订" not in sms["unsubscribe"]:
        problems.append(("sms.unsubscribe", "the unsubscribe line must say how, e.g. 回T退订"))
    if sms["unsubscribe_scope"] not in ("marketing", "sms"):
        problems.append(("sms.unsubscribe_scope", "must be \"marketing\" or \"sms\""))
    for key in ("send_from", "send_until"):
        try:
            hh, mm = sms[key].split(":")
            if not (0 <= int(hh) < 24 and 0 <= int(mm) < 60):
                raise ValueError
        except (ValueError, AttributeError):
            problems.append((f"sms.{key}", "must be a time like 08:00"))
    return problems


# --------------------------------------------------------------------------- context


def day_text(d: date | None, today: date | None = None) -> str:
    """12月8日, with the year when it is not the year of ``today``."""
    if d is None:
        return ""
    if today is not None and d.year != today.year:
        return f"{d.year}年{d.month}月{d.day}日"
    return f"{d.month}月{d.day}日"


def addressing(name: str | None, gender: str | None) -> tuple[str, str]:
    """(greeting, you): ('张先生', '您'), ('安达物流有限公司', '贵公司'), ('张三', '您')."""
    from .names import greeting, guess_usage_from_owner
    from .text import clean

    name = clean(name).strip()
    if not name:
        return "客户", "您"
    if guess_usage_from_owner(name) is not None:
        return name, "贵公司"
    return greeting(name, gender), "您"


def dealer_context(settings: dict) -> dict[str, str]:
    d = settings["dealer"]
    return {"dealer": d.get("short_name") or d["name"], "booking": d["hotline"],
            "hotline": d["hotline"], "rescue": d["rescue"], "address": d["address"],
            "link": d.get("booking_link", "")}


def context(customer: dict, vehicle: dict | None, settings: dict, *, due: date | None = None,
            km: int | None = None, holiday: str = "", first_maintenance: date | None = None,
            today: date | None = None) -> dict[str, str]:
    """The placeholders' values for one customer (and vehicle), as single-line texts."""
    from .text import clean

    greet, you = addressing(customer.get("name"), customer.get("gender"))
    vehicle = vehicle or {}
    ctx = {"greeting": greet, "you": you, "name": clean(customer.get("name")).strip(),
           "plate": clean(vehicle.get("plate")), "model": clean(vehicle.get("model")),
           "due_date": day_text(due, today), "km": f"{km}" if km else "",
           "first_maintenance": day_text(first_maintenance, today), "holiday": holiday}
    ctx.update(dealer_context(settings))
    return ctx


class _Recorder(dict):
    """format_map's mapping that notes which placeholders rendered empty."""

    def __init__(self, values: dict[str, str]):
        super().__init__(values)
        self.empty: set[str] = set()

    def __missing__(self, key: str) -> str:
        self.empty.add(key)
        return ""

    def __getitem__(self, key: str) -> str:
        value = dict.get(self, key, "")
        if not value:
            self.empty.add(key)
        return value


def render(template: str, ctx: dict[str, str]) -> tuple[str, set[str]]:
    """(text, the placeholders that were empty)."""
    rec = _Recorder(ctx)
    return template.format_map(rec), rec.empty


def sms(kind: str, ctx: dict[str, str], settings: dict, template: str | None = None
        ) -> tuple[str, set[str]]:
    """The full SMS: signature, body, and the unsubscribe line on marketing kinds."""
    body, empty = render(template if template is not None
                         else settings["sms"]["templates"][kind], ctx)
    text = signature(settings) + body
    if kind in MARKETING_SMS:
        text += settings["sms"]["unsubscribe"]
    return text, empty


def script(kind: str, ctx: dict[str, str], settings: dict, clerk: str = "") -> str:
    """The call script: the opening line, then the kind's questions."""
    from .names import guess_usage_from_owner

    greet = ctx.get("greeting") or ""
    name = ctx.get("name") or ""
    if name and guess_usage_from_owner(name) is not None:
        greet = f"{name}的用车负责人"  # a company is not the person on the line
    elif not greet:
        greet = "车主本人"  # no name and no gender: ask for the owner
    opening, _ = render(settings["calls"]["greeting_script"],
                        {**ctx, "greeting": greet, "clerk": clerk})
    body, _ = render(settings["care"].get(kind, {}).get("script", ""), ctx)
    return f"{opening} {body}".strip()


def empty_dealer_fields(empty: set[str]) -> list[str]:
    """The [dealer] settings a text needed but found empty, e.g. ['dealer.rescue']."""
    return sorted({f"dealer.{DEALER_FIELDS[n]}" for n in empty if n in DEALER_FIELDS})
