"""The dealer's settings file: defaults, loading, validation.

The file is TOML, found at ``--settings PATH``, else ``$CRMCLI_SETTINGS``, else
``settings.toml`` beside the default database. Every key is optional; what is
not given keeps its default. An unknown key or a value of the wrong type is an
error that names the line, so a typo never silently does nothing::

    [import.aliases]
    order_no = ["单据编号", "Job No"]
    mobile = ["客户手机"]
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

from .errors import SettingsError
from .messages import SMS_DEFAULTS
from .i18n import _


def _kind(channel: str, weight: int, expires: int, script: str, **timing: Any) -> dict[str, Any]:
    return {"enabled": True, "channel": channel, "weight": weight, "expires_after_days": expires,
            "script": script, **timing}


# Every care contact of DOMAIN.md with its default timing. Channels: "sms", "call",
# or "sms_call" (an SMS the day before, then a call on the due day).
CARE_DEFAULTS: dict[str, dict[str, Any]] = {
    # DOMAIN.md: the new-car care SMS (交车三日关爱) on day 3, the questionnaire call on
    # day 7. The day-3 call of earlier releases is off by default; a dealer who still
    # wants it turns it on.
    "welcome_sms": _kind("sms", 70, 1, "{greeting}您好！从今天起由本站照顾您的爱车。预约电话{hotline}，"
                         "救援电话{rescue}，地址{address}。首次保养请在{first_maintenance}前回厂，"
                         "届时我们会先致电提醒。", days_after=3),
    "delivery_call": {**_kind("call", 75, 7, "交车三日关爱：手续是否齐全？用车感受如何？提醒留意的警示灯。",
                              days_after=3), "enabled": False},
    "delivery_questionnaire": _kind("call", 35, 14, "交车七日问卷：手续是否齐全？用车情况与对车辆的意见；"
                                    "最后提醒留意水温、机油、发动机等警示灯。",
                                    days_after=7),
    # Day 3 because the manuals call on the third day; kept open to day 15 as the
    # best dealer CRMs do.
    "post_repair": _kind("call", 80, 12, "修后三日回访：车辆运行如何？确认更换的零件，满意度，下次保养时间。",
                         days_after=3, skip_types=["free_check"]),
    # Reminders go lead_days before the maintenance is due: the SMS one day, the call
    # the next, to book a time.
    "first_maintenance": _kind("sms_call", 60, 30, "首保提醒：请预约首次保养。",
                               months=6, km=5000, lead_days=7),
    "regular_maintenance": _kind("sms_call", 50, 30, "定期保养提醒：请预约保养。",
                                 months=6, km=7500, lead_days=7),
    "warranty_check": _kind("sms_call", 50, 30, "超保提醒：部分零件保修即将到期，请回厂免费检查。",
                            lead_days=30, points=[[6, 10000], [12, 20000], [24, 60000],
                                                  [36, 100000]]),
    "insurance_compulsory": _kind("sms_call", 55, 30, "交强险即将到期，请及时续保。", lead_days=30),
    "insurance_commercial": _kind("sms_call", 55, 30, "商业险即将到期，请及时续保。", lead_days=30),
    "inspection": _kind("sms_call", 45, 30, "年检提醒：请带行驶证、交强险保单、身份证办理年检。",
                        lead_days=15),
    "birthday": _kind("sms", 20, 0, "祝{greeting}生日快乐！"),
    "holiday": _kind("sms", 10, 0, "{holiday}快乐！{dealer}祝您出行平安。",
                     holidays=["spring_festival", "qingming", "may_day", "mothers_day",
                               "fathers_day", "dragon_boat", "mid_autumn", "national_day",
                               "teachers_day"],
                     teacher_words=["教师", "老师", "教授", "教练", "讲师", "teacher"]),
    "advice_followup": _kind("call", 40, 14, "维修建议跟进：上次建议的项目是否需要预约？",
                             days_after=30),
    # After a reminder call booked a visit that did not happen: two days after the
    # appointment (the day after's orders are imported by then).
    "no_show": _kind("call", 65, 7, "预约未到店跟进：上次预约的时间没能到店，是否需要重新预约？",
                     days_after=2),
    "recovery": _kind("call", 30, 30, "流失客户回访：了解未回厂原因，介绍优惠活动。",
                      lost_after_days=365, every_days=90),
}

DEFAULTS: dict[str, Any] = {
    # The language of what crmcli prints: "zh_CN", "en", or "" for the locale's
    # ($CRMCLI_LANG beats it).
    "ui": {
        "language": "",
    },
    "import": {
        "aliases": {},
    },
    "dealer": {
        "name": "本店",
        # The name in the SMS signature 【…】 and in texts; the name above when empty.
        "short_name": "",
        "hotline": "",
        "rescue": "",
        "address": "",
        "booking_link": "",
    },
    # SMS texts, signature, unsubscribe line and sending hours (see messages.py).
    "sms": SMS_DEFAULTS,
    "planning": {
        # At most one contact per customer within this many days: closer ones merge.
        "contact_window_days": 3,
        # Predicted km/day when a vehicle has fewer than two visits with mileage.
        "default_km_per_day": 40,
        "call_retries": 3,
        "weight_overdue_per_day": 2,
        "weight_a_class": 30,
        "weight_complaint": 100,
    },
    # Annual inspection rhythm by usage and vehicle age (years from delivery):
    # [from_age, to_age, every_months]; the 2022 rules: private cars are exempt from
    # on-site checks for 10 years but need the mark every 2 years.
    "inspection_rules": {
        "private": [[0, 10, 24], [10, 15, 12], [15, 99, 6]],
        "official": [[0, 10, 24], [10, 15, 12], [15, 99, 6]],
        "commercial": [[0, 5, 12], [5, 99, 6]],
    },
    "care": CARE_DEFAULTS,
    # Customer value classes (A/B/C/D) and vehicle age bands; DOMAIN.md's defaults.
    "classes": {
        "window_months": 24,          # spend and frequency are counted over this window
        "a_min_paid_visits": 3,       # A needs frequency ...
        "a_min_spend_yuan": 3000,     # ... and spend ...
        "a_min_loyalty": 0.8,         # ... and maintenance done here against what was due
        "c_no_paid_visit_days": 180,  # C: no paid visit for over six months (潜在流失)
        "d_no_visit_days": 365,       # D: no visit at all for over a year (流失)
        "new_customer_days": 180,     # no visit yet but delivered this recently: B
        "young_owner_days": 365,      # only free/warranty work, car this young: still B
        "warranty_years": 3,          # vehicle age bands: in warranty / 3-5 years / over 5
        "old_years": 5,
        "maintenance_km": 7500,       # for loyalty: maintenance due per this many km
        "maintenance_months": 6,      # ... or per this many months when mileage is unknown
    },
    "calendar": {
        "extra_holidays": [],
        "extra_workdays": [],
    },
    "calls": {
        "score_min": 1,
        "score_max": 5,
        # A score below this counts as not satisfied (for the monthly report's lists).
        "satisfied_from": 4,
        "thank_you_sms": True,
        "thank_you_text": "感谢{greeting}的宝贵意见，{dealer}竭诚为您服务。",
        # The clerk's name in the call script and in the log, when --by and
        # $CRMCLI_USER do not give one (else the login name).
        "clerk_name": "",
        "greeting_script": "您好，请问是{greeting}吗？我是{dealer}的客服专员{clerk}，耽误您两分钟做个回访。",
    },
    "complaints": {
        "day_start": "09:00",
        "day_end": "18:00",
        "lunch_start": "12:00",
        "lunch_end": "13:30",
        # DOMAIN.md: to the GM within half a working day, a reply within one working day.
        "escalate_within_days": 0.5,
        "reply_within_days": 1.0,
        # A complaint's category must be one of these (the report counts them).
        "categories": ["服务态度", "维修质量", "维修时间", "价格", "配件", "环境卫生", "其他"],
        # The call asking whether the customer is satisfied with the resolution: this
        # many working days after the reply, open for followup_open_days.
        "followup_after_days": 1,
        "followup_open_days": 7,
    },
    # Why a lost customer left, asked on a recovery call (DOMAIN.md: record the reason).
    "lost": {
        "reasons": ["价格", "距离远", "维修质量", "服务态度", "搬迁", "已卖车", "其他"],
    },
    "stats": {
        # Reminders followed by a visit within this many days count as effective.
        "return_window_days": 30,
        # Advisors to coach: the lowest average on this question among those with at
        # least coach_min_answers answers in the period, at most coach_count of them.
        "coach_question": "advisor",
        "coach_min_answers": 10,
        "coach_count": 3,
    },
}


def default_path() -> Path:
    env = os.environ.get("CRMCLI_SETTINGS")
    if env:
        return Path(env)
    from .db import data_dir

    return data_dir() / "settings.toml"


def _line_of(text: str, dotted: str) -> int | None:
    """The line where a dotted key is set: inside its [table] when it has one."""
    *parents, key = dotted.split(".")
    section = ".".join(parents)
    lines = text.splitlines()
    in_section = not parents
    for no, line in enumerate(lines, start=1):
        stripped = line.strip()
        if stripped.startswith("["):
            name = stripped.strip("[]").strip()
            if name == dotted:
                return no
            in_section = name == section
        elif in_section and stripped.split("=")[0].strip().strip('"') == key:
            return no
    for no, line in enumerate(lines, start=1):
        if line.strip().split("=")[0].strip().strip('"') in (key, dotted):
            return no
    return None


def _at(text: str, dotted: str) -> str:
    line = _line_of(text, dotted)
    return f" (line {line})" if line else ""


def load(path: Path | str | None = None) -> dict[str, Any]:
    """The settings: the defaults overlaid with the file, validated."""
    explicit = path is not None or bool(os.environ.get("CRMCLI_SETTINGS"))
    path = Path(path) if path is not None else default_path()
    settings = copy.deepcopy(DEFAULTS)
    if not path.exists():
        if explicit:
            raise SettingsError(_("settings file {path} does not exist").format(path=path))
        return settings
    import tomllib  # only when there is a file: most runs use the defaults

    text = path.read_text(encoding="utf-8-sig")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(_("{path}: {exc}").format(path=path, exc=exc)) from None
    _merge(settings, data, DEFAULTS, text, path, prefix="")
    _validate_aliases(settings["import"]["aliases"], text, path)
    _validate_care(settings, text, path)
    _validate_messages(settings, text, path)
    _validate_report_lists(settings, text, path)
    return settings


def _merge(target: dict, data: dict, defaults: dict, text: str, path: Path, prefix: str) -> None:
    for key, value in data.items():
        where = f"{prefix}{key}"
        if key not in defaults:
            raise SettingsError(_("{path}{at}: unknown setting {where!r}").format(
                                    path=path, at=_at(text, where), where=where))
        default = defaults[key]
        if isinstance(default, dict) and default:
            if not isinstance(value, dict):
                raise SettingsError(_("{path}: {where!r} must be a table like [{where}]").format(
                                        path=path, where=where))
            _merge(target[key], value, default, text, path, prefix=where + ".")
        elif default is not None and (
            # true/false is not a number, although Python's bool is an int
            (isinstance(value, bool) and not isinstance(default, bool))
            or (not isinstance(value, type(default))
                and not (isinstance(default, float) and isinstance(value, int)))
        ):
            raise SettingsError(
                _("{path}{at}: {where!r} must be {name}, not {name2}").format(
                    path=path, at=_at(text, where), where=where, name=type(default).__name__, name2=type(value).__name__)
            )
        else:
            target[key] = value


def _validate_aliases(aliases: dict, text: str, path: Path) -> None:
    from .fields import FIELDS_BY_KIND

    known = set().union(*FIELDS_BY_KIND.values())
    for field, names in aliases.items():
        at = _at(text, f"import.aliases.{field}")
        if field not in known:
            raise SettingsError(
                _("{path}{at}: [import.aliases] has unknown field {field!r}; known fields: "
                  "{items}").format(path=path, at=at, field=field, items=', '.join(sorted(known)))
            )
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise SettingsError(_("{path}{at}: aliases for {field!r} must be a list of strings").format(
                                    path=path, at=at, field=field))


def _validate_messages(settings: dict, text: str, path: Path) -> None:
    """Templates and the signature are checked now, not when cron runs."""
    from .messages import validate

    problems = validate(settings)
    if problems:
        where, why = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise SettingsError(_("{path}{at}: {where} {why}{more}").format(
                                path=path, at=_at(text, where), where=where, why=why, more=more))


def _validate_care(settings: dict, text: str, path: Path) -> None:
    from datetime import date

    for kind, cfg in settings["care"].items():
        if cfg["channel"] not in ("sms", "call", "sms_call"):
            raise SettingsError(_('{path}{at}: care.{kind}.channel must be "sms", "call" or '
                                  '"sms_call", not {channel!r}').format(
                                    path=path, at=_at(text, f'care.{kind}.channel'), kind=kind, channel=cfg['channel']))
        for key in ("days_after", "expires_after_days", "lead_days", "months", "km",
                    "lost_after_days", "every_days"):
            if key in cfg and (not isinstance(cfg[key], int) or cfg[key] < 0):
                raise SettingsError(_("{path}{at}: care.{kind}.{key} must be a whole number, 0 "
                                      "or more").format(
                                        path=path, at=_at(text, f'care.{kind}.{key}'), kind=kind, key=key))
    for key in ("extra_holidays", "extra_workdays"):
        for value in settings["calendar"][key]:
            if not isinstance(value, date):
                raise SettingsError(_("{path}{at}: calendar.{key} must list dates like "
                                      "2027-02-05 (no quotes)").format(
                                        path=path, at=_at(text, f'calendar.{key}'), key=key))
    days = settings["stats"]["return_window_days"]
    if days < 0:
        raise SettingsError(_("{path}{at}: stats.return_window_days must be a whole number, 0 "
                              "or more").format(
                                path=path, at=_at(text, 'stats.return_window_days')))
    window = settings["planning"]["contact_window_days"]
    if not isinstance(window, int) or window < 0:
        raise SettingsError(_("{path}{at}: planning.contact_window_days must be a whole number, "
                              "0 or more").format(
                                path=path, at=_at(text, 'planning.contact_window_days')))


def _validate_report_lists(settings: dict, text: str, path: Path) -> None:
    for where, names in (("complaints.categories", settings["complaints"]["categories"]),
                         ("lost.reasons", settings["lost"]["reasons"])):
        if not names or not all(isinstance(n, str) and n.strip() for n in names):
            raise SettingsError(_('{path}{at}: {where} must list words, like ["价格", "其他"]').format(
                                    path=path, at=_at(text, where), where=where))
    questions = ("overall", "advisor", "quality", "timeliness", "price", "cleanliness")
    if settings["stats"]["coach_question"] not in questions:
        raise SettingsError(_("{path}{at}: stats.coach_question must be one of {items}").format(
                                path=path, at=_at(text, 'stats.coach_question'), items=', '.join(questions)))
    for key in ("coach_min_answers", "coach_count", "return_window_days"):
        if settings["stats"][key] < 0:
            raise SettingsError(_("{path}{at}: stats.{key} must be 0 or more").format(
                                    path=path, at=_at(text, 'stats.' + key), key=key))
