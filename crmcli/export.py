"""The day's files for cron, and the send-once ledger.

``export_day(db, day, settings, out_dir, now=...)`` writes into ``out_dir``:

* ``sms-DAY.csv`` (UTF-8 with BOM) and ``sms-DAY.xlsx``: one SMS per line, the
  mobile, the full text and the earliest time it may go out (手机号码, 短信内容,
  发送时间), the shape SMS platforms take for upload (a header alone on a day
  with nothing to send). A later run the same day
  that finds new SMS writes them alone to ``sms-DAY-2.csv``/``.xlsx``, and so on;
* ``calls-DAY.xlsx``: the day's calls (task, customer, numbers, plate, what to
  talk about, the script).

**Send once.** Every SMS put in a file is recorded in ``sms_ledger`` (task,
number, exact text, file, line, time) and its task is marked: an SMS-only
task becomes ``sent``, an SMS-then-call task keeps its call and records
``sms_sent_at``. A task in the ledger is never selected again. Running again
for the same day rewrites each of the day's SMS files from the ledger, byte
for byte the same (workbooks carry fixed timestamps), and marks nothing twice.

**Crash safety.** The run holds the database's write lock from choosing the
SMS to marking them; the files are written (each atomically: a temporary
name, fsync, rename) before the marks are committed. A crash before the
commit leaves files whose lines are not marked, and the next run selects the
same lines again, under the same batch number and file name. Nothing is ever
marked that is not in a file that exists.

**Who gets an SMS.** Only a valid mobile (11 digits, 1[3-9]...) that the
platform has not reported as failing (``phone_flags``). A customer with only
a landline gets the call half of an SMS-then-call task; an SMS-only task for
them ends ``not_sendable`` with the reason. Opt-outs are applied again here
(``optouts.allowed_channel``), whatever the plan said.

**When.** Texts go out between ``[sms] send_from`` and ``send_until`` (08:00-21:00):
each line carries the earliest time it may go. Service reminders still inside
their window go out on a later run when a day was missed; greetings (birthday,
holiday, weather) only on their own day, never late: a greeting that could
only go after 21:00 or on a later day is left out (and closes as missed).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import zipfile
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

import sqlite_utils

from . import messages, optouts
from .db import write_transaction
from .errors import OutputError, SettingsError
from .i18n import _

SMS_HEADER = ["手机号码", "短信内容", "发送时间"]
# 送修人: who brought the car, when not its owner; a post-repair call goes to them.
CALL_HEADER = ["任务号", "事项", "客户", "送修人", "电话", "车牌", "车型", "方便时间", "沟通内容",
               "话术"]
_MOBILE = re.compile(r"1[3-9]\d{9}")
_DIGITS = re.compile(r"\d+")


@dataclass
class ExportResult:
    day: str
    out_dir: str
    sms_new: int = 0
    sms_earlier: int = 0        # sent by earlier runs of the day, their files rewritten
    new_file: str | None = None
    sms_files: list[str] = field(default_factory=list)
    call_file: str = ""
    calls: int = 0
    not_sendable: int = 0       # SMS-only tasks closed: no valid mobile, flagged number
    call_only: int = 0          # SMS-then-call tasks whose SMS could not go (the call stays)
    opted_out: int = 0
    late_greetings: int = 0
    first_send: str | None = None
    after_hours: bool = False

    def as_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        """The one line cron logs."""
        from .i18n import N_, _

        parts = [_("{day}: {count} new SMS").format(day=self.day, count=self.sms_new)
                 + (_(" in {file}.csv/.xlsx").format(file=self.new_file) if self.new_file else "")]
        if self.sms_earlier:
            parts.append(_("{count} sent earlier (files rewritten)").format(count=self.sms_earlier))
        parts.append(_("{count} calls in {file}").format(count=self.calls, file=self.call_file))
        for n, words in ((self.not_sendable, N_("{count} not sendable")),
                         (self.call_only, N_("{count} call only")),
                         (self.opted_out, N_("{count} opted out")),
                         (self.late_greetings, N_("{count} greetings too late"))):
            if n:
                parts.append(_(words).format(count=n))
        line = ", ".join(parts)
        if self.after_hours and self.sms_new:
            line += _("; past the sending hours: the SMS go out from {when}").format(
                when=self.first_send)
        return line


# --------------------------------------------------------------------------- choosing


def sms_number(mobile: str | None, other_phones: str | None, preferred: str | None,
               flagged: set[str] | frozenset[str] = frozenset()) -> tuple[str | None, str]:
    """(the mobile to text, why not when None): the mobile on file, else the preferred
    number, else the first mobile among the other phones, skipping flagged numbers.

    >>> sms_number('075586543210', '13812345678', None)
    ('13812345678', '')
    >>> sms_number('075586543210', None, None)
    (None, 'no mobile number for SMS (landline only: 075586543210)')
    """
    seen: list[str] = []
    for n in [mobile, preferred, *(_DIGITS.findall(other_phones or ""))]:
        if n and n not in seen:
            seen.append(n)
    mobiles = [n for n in seen if _MOBILE.fullmatch(n)]
    good = [n for n in mobiles if n not in flagged]
    if good:
        return good[0], ""
    if mobiles:
        return None, f"the mobile {mobiles[0]} is flagged: SMS to it failed"
    if seen:
        return None, f"no mobile number for SMS (landline only: {seen[0]})"
    return None, "no phone number on file"


def _hhmm(value: str) -> time:
    hh, mm = value.split(":")
    return time(int(hh), int(mm))


def send_time(day: date, now: datetime, settings: dict) -> tuple[datetime, bool]:
    """The earliest moment an SMS of ``day`` may go, and whether the run is past the hours.

    08:00 on the day when the run is earlier; the next whole minute when the run
    is within the hours; 08:00 the next day when it is past 21:00.
    """
    start, until = _hhmm(settings["sms"]["send_from"]), _hhmm(settings["sms"]["send_until"])
    at = datetime.combine(day, start)
    if now > at:
        at = now.replace(second=0, microsecond=0)
        if at < now:
            at += timedelta(minutes=1)
    late = at.time() >= until
    if late:
        at = datetime.combine(at.date() + timedelta(days=1), start)
    elif at.time() < start:  # a run in the small hours: 08:00 that day
        at = datetime.combine(at.date(), start)
    return at, late


_SELECT = """
SELECT t.id, t.kind, t.key, t.channel, coalesce(t.contact_on, t.due_date), t.expires_on,
       t.customer_id, t.reason,
       c.name, c.gender, c.mobile, c.other_phones, c.preferred_phone, c.callback_consent,
       v.plate, v.model, coalesce(v.delivery_date, v.purchase_date), f.last_maint_km,
       t.due_date, o.contact_phone
FROM tasks t
LEFT JOIN customers c ON c.id = t.customer_id
LEFT JOIN vehicles v ON v.id = t.vehicle_id
LEFT JOIN vehicle_facts f ON f.vehicle_id = t.vehicle_id
LEFT JOIN repair_orders o ON o.id = t.order_id AND t.kind IN ('post_repair', 'thank_you_sms')
WHERE {where}
ORDER BY t.id
"""


def _sms_due(db, day: date) -> list[tuple]:
    """Open tasks whose SMS may go on ``day`` and is not in the ledger yet."""
    d = day.isoformat()
    nxt = (day + timedelta(days=1)).isoformat()
    return db.conn.execute(_SELECT.format(where=(
        "t.state = 'open' AND t.expires_on >= :d"
        " AND ((t.channel = 'sms' AND coalesce(t.contact_on, t.due_date) <= :d)"
        "  OR (t.channel = 'sms_call' AND coalesce(t.contact_on, t.due_date) <= :nxt"
        "      AND t.attempts = 0 AND t.sms_sent_at IS NULL))"
        " AND NOT EXISTS (SELECT 1 FROM sms_ledger l WHERE l.task_id = t.id)")),
        {"d": d, "nxt": nxt}).fetchall()


def _broadcast_templates(db) -> dict[int, str]:
    return dict(db.conn.execute("SELECT id, template FROM broadcasts"))


def task_context(row: tuple, settings: dict, day: date) -> dict[str, str]:
    """The placeholders for a task row of ``_SELECT``."""
    (_tid, kind, key, _channel, _contact_day, _exp, _cid, _reason, name, gender, _mob, _other,
     _pref, _consent, plate, model, delivery_s, last_km, due_s, _contact_phone) = row
    from .rules import add_months

    care = settings["care"]
    due = date.fromisoformat(due_s)
    subject, km = due, None
    tail = key.rsplit(":", 1)[-1]
    if kind in ("insurance_compulsory", "insurance_commercial", "inspection"):
        try:
            subject = date.fromisoformat(tail)
        except ValueError:
            pass
    elif kind == "warranty_check":
        subject = due + timedelta(days=care["warranty_check"]["lead_days"])
        months = tail.rstrip("m")
        km = next((k for m, k in care["warranty_check"]["points"] if str(m) == months), None)
    elif kind == "first_maintenance":
        km = care["first_maintenance"]["km"]
    elif kind == "regular_maintenance":
        km = care["regular_maintenance"]["km"]
        if last_km is not None:
            km += last_km
    holiday = ""
    if kind == "holiday":
        from . import calendar as cal

        hkey = key.split(":")[1]
        holiday = next((h.name_zh for h in cal.greeting_holidays(due.year) if h.key == hkey), "")
    first = None
    if delivery_s:
        first = add_months(date.fromisoformat(delivery_s[:10]), care["first_maintenance"]["months"])
    return messages.context({"name": name, "gender": gender}, {"plate": plate, "model": model},
                            settings, due=subject, km=km, holiday=holiday,
                            first_maintenance=first, today=day)


def script_for_task(db, task_id: int, settings: dict, clerk: str = "",
                    day: date | None = None) -> str:
    """The call script of one task, its placeholders filled (for ``crmcli call``)."""
    row = db.conn.execute(_SELECT.format(where="t.id = ?"), (task_id,)).fetchone()
    if row is None:
        return ""
    ctx = task_context(row, settings, day or date.fromisoformat(row[4]))
    return messages.script(row[1], ctx, settings, clerk)


def _text(row: tuple, settings: dict, day: date, broadcasts: dict[int, str]) -> str:
    kind, key = row[1], row[2]
    template = None
    if key.startswith("broadcast:"):
        template = broadcasts.get(int(key.split(":")[1]))
    text, empty = messages.sms(kind, task_context(row, settings, day), settings, template)
    missing = messages.empty_dealer_fields(empty)
    if missing:
        from .choices import label

        raise SettingsError(_("the {kind} SMS needs {items}: set it in [dealer] of the settings "
                              "file (nothing was exported)").format(
                                kind=label("kind", kind), items=', '.join(missing)))
    return text


# --------------------------------------------------------------------------- files


def file_base(day: date, batch: int) -> str:
    return f"sms-{day.isoformat()}" + (f"-{batch}" if batch > 1 else "")


_RISKY = ("=", "+", "-", "@", "\t", "\r")


def _inert(row) -> list:
    """``files.neutral_cell`` for each cell, called only for the cells that need it:
    most are short printable texts that do not start like a formula."""
    from .files import CELL_MAX, neutral_cell

    return [v if v.__class__ is not str or (v.isprintable() and not v.startswith(_RISKY)
                                            and len(v) <= CELL_MAX) else neutral_cell(v)
            for v in row]


def sms_csv_bytes(rows: list[tuple[str, str, str]]) -> bytes:
    """UTF-8 with a BOM (Excel and the platforms read Chinese right), CRLF lines."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(SMS_HEADER)
    w.writerows(_inert(r) for r in rows)
    return buf.getvalue().encode("utf-8-sig")


class _StableZip(zipfile.ZipFile):
    """A zip whose entries carry a fixed date: the same rows give the same bytes."""

    STAMP = (1980, 1, 1, 0, 0, 0)

    def writestr(self, zinfo_or_arcname, data, compress_type=None, compresslevel=None):
        if not isinstance(zinfo_or_arcname, zipfile.ZipInfo):
            info = zipfile.ZipInfo(zinfo_or_arcname, date_time=self.STAMP)
            info.compress_type = self.compression
            info.external_attr = 0o600 << 16
            zinfo_or_arcname = info
        super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)

    def write(self, filename, arcname=None, compress_type=None, compresslevel=None):
        with open(filename, "rb") as fh:
            data = fh.read()
        self.writestr(arcname or os.path.basename(filename), data)


def xlsx_bytes(title: str, header: list[str], rows: list[list], stamp: datetime,
               widths: list[int] | None = None) -> bytes:
    """One sheet as .xlsx bytes; every cell neutralised, every timestamp ``stamp``."""
    from openpyxl import Workbook
    from openpyxl.writer.excel import ExcelWriter

    wb = Workbook(write_only=True)
    wb.properties.created = wb.properties.modified = stamp
    wb.properties.creator = "crmcli"
    ws = wb.create_sheet(title)
    for i, w in enumerate(widths or []):
        ws.column_dimensions[chr(ord("A") + i)].width = w
    ws.append(header)
    for r in rows:
        ws.append(_inert(r))
    buf = io.BytesIO()
    with _StableZip(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).save()
    return buf.getvalue()


def write_file(path: Path, data: bytes) -> None:
    """The one place the export writes a file: atomic and owner-only (files.py).

    A file that already holds exactly these bytes is left alone, so a rerun does
    not touch the files an upload tool may be watching (their time stays).
    """
    from .files import write_bytes

    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return
    except OSError:
        pass
    write_bytes(path, data)


def _write_sms_batch(out_dir: Path, day: date, batch: int,
                     rows: list[tuple[str, str, str]]) -> str:
    base = file_base(day, batch)
    stamp = datetime.combine(day, time(0, 0))
    write_file(out_dir / f"{base}.csv", sms_csv_bytes(rows))
    write_file(out_dir / f"{base}.xlsx",
               xlsx_bytes("短信", SMS_HEADER, [list(r) for r in rows], stamp, [14, 90, 18]))
    return base


# --------------------------------------------------------------------------- the run


def check_out_dir(out_dir: Path | str) -> Path:
    """The export's folder must exist: a typo in a crontab must not write somewhere unseen."""
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise OutputError(_("--out {out_dir}: no such folder; create it first (nothing was "
                            "exported)").format(out_dir=out_dir))
    return out_dir


def export_day(db: sqlite_utils.Database, day: date, settings: dict, out_dir: Path | str, *,
               now: datetime) -> ExportResult:
    """Write the day's SMS and call files and mark what was sent; see the module docstring.

    ``now`` is the real time of the run (the sending hours are judged by it).
    """
    out_dir = check_out_dir(out_dir)
    result = ExportResult(day=day.isoformat(), out_dir=str(out_dir))
    at, late = send_time(day, now, settings)
    result.after_hours = late
    stamp_now = now.isoformat(sep=" ", timespec="seconds")
    with write_transaction(db):
        outs = optouts.for_customers(db)
        flagged = {r[0] for r in db.conn.execute("SELECT phone FROM phone_flags")}
        broadcasts = _broadcast_templates(db)
        new: list[tuple[int, int | None, str, str]] = []  # task, customer, mobile, text
        closes: list[tuple[str, str, str, str, int]] = []  # state, reason, now, now, id
        narrows: list[tuple[str, str, int]] = []
        for row in _sms_due(db, day):
            tid, kind, _key, channel, due_s = row[0], row[1], row[2], row[3], row[4]
            cid = row[6]
            consent = row[13] != 0
            left = optouts.allowed_channel(outs.get(cid, set()), kind, channel, consent)
            if left is None:
                result.opted_out += 1
                closes.append(("withdrawn", "opted out", stamp_now, stamp_now, tid))
                continue
            if left != channel:  # one half declined: the task keeps the other
                narrows.append((left, stamp_now, tid))
                channel = left
            if channel == "call":
                result.opted_out += 1
                continue
            # The thank-you after a post-repair call goes to the person called.
            others = f"{row[10]},{row[11] or ''}" if row[19] and row[10] else row[11]
            mobile, why = sms_number(row[19] or row[10], others, row[12], flagged)
            if mobile is None:
                if channel == "sms":
                    result.not_sendable += 1
                    closes.append(("not_sendable", why, stamp_now, stamp_now, tid))
                else:
                    result.call_only += 1
                continue
            if kind in messages.FIXED_DAY_SMS and (due_s != day.isoformat()
                                                   or at.date() != day):
                result.late_greetings += 1
                continue
            new.append((tid, cid, mobile, _text(row, settings, day, broadcasts)))
        batch = db.conn.execute("SELECT coalesce(max(batch), 0) FROM sms_ledger WHERE day = ?",
                                (day.isoformat(),)).fetchone()[0]
        earlier: dict[int, list[tuple[str, str, str]]] = {}
        for b, mobile, text, send_after in db.conn.execute(
                "SELECT batch, mobile, text, send_after FROM sms_ledger WHERE day = ?"
                " ORDER BY batch, line", (day.isoformat(),)):
            earlier.setdefault(b, []).append((mobile, text, send_after))
        result.sms_earlier = sum(len(v) for v in earlier.values())
        send_after = at.strftime("%Y-%m-%d %H:%M")
        for b, rows in earlier.items():
            result.sms_files.append(_write_sms_batch(out_dir, day, b, rows))
        if new:
            batch += 1
            base = _write_sms_batch(out_dir, day, batch,
                                    [(m, text, send_after) for _t, _c, m, text in new])
            result.sms_files.append(base)
            result.new_file, result.sms_new, result.first_send = base, len(new), send_after
        elif not earlier:
            # Nothing to send today: the day's file still exists (a header alone), so the
            # upload step of a cron script finds what it expects. A later run that finds
            # SMS writes them under this name.
            result.sms_files.append(_write_sms_batch(out_dir, day, 1, []))
        result.call_file, result.calls = _write_calls(db, day, settings, out_dir, outs)
        # The files exist (renamed into place, synced): now the marks.
        db.conn.executemany("UPDATE tasks SET channel=?, updated_at=? WHERE id=?", narrows)
        db.conn.executemany(
            "INSERT INTO sms_ledger (task_id, customer_id, day, batch, line, mobile, text,"
            " send_after, file, sent_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
            [(tid, cid, day.isoformat(), batch, i, mobile, text, send_after,
              result.new_file, stamp_now)
             for i, (tid, cid, mobile, text) in enumerate(new, start=1)])
        ids = json.dumps([t[0] for t in new])
        reason = f"SMS in {result.new_file}.csv, to go {send_after}"
        db.conn.execute(
            "UPDATE tasks SET sms_sent_at = :at, updated_at = :now,"
            " state = CASE WHEN channel = 'sms' THEN 'sent' ELSE state END,"
            " state_reason = CASE WHEN channel = 'sms' THEN :reason ELSE state_reason END,"
            " closed_at = CASE WHEN channel = 'sms' THEN :now ELSE closed_at END"
            " WHERE id IN (SELECT value FROM json_each(:ids))",
            {"at": send_after, "now": stamp_now, "reason": reason, "ids": ids})
        # Contacts combined into an SMS that went are sent with it (as planner.mark_sent
        # records them): a reminder is never lost by being combined.
        db.conn.execute(
            "UPDATE tasks SET state = 'sent', state_reason = 'sent in the message of task '"
            " || merged_into, sms_sent_at = :at, closed_at = :now, updated_at = :now"
            " WHERE state = 'merged'"
            " AND merged_into IN (SELECT t.id FROM tasks t JOIN json_each(:ids) j"
            " ON t.id = j.value WHERE t.channel = 'sms')",
            {"now": stamp_now, "ids": ids, "at": send_after})
        db.conn.executemany("UPDATE tasks SET state=?, state_reason=?, closed_at=?, updated_at=?"
                            " WHERE id=?", closes)
    return result


def _write_calls(db, day: date, settings: dict, out_dir: Path,
                 outs: dict[int, set[str]]) -> tuple[str, int]:
    """The day's call list as a workbook; returns (file name, rows)."""
    from .planner import today_list
    from .render import kind_label

    items = today_list(db, day, settings, channel="call", include_days_off=False)["tasks"]
    ids = [i["id"] for i in items]
    rows_by_id = {r[0]: r for r in db.conn.execute(
        _SELECT.format(where="t.id IN (SELECT value FROM json_each(:ids))"),
        {"ids": json.dumps(ids)})}
    rows = []
    for item in items:
        row = rows_by_id[item["id"]]
        if optouts.allowed_channel(outs.get(item["customer_id"], set()), item["kind"], "call",
                                   row[13] != 0) is None:
            continue
        numbers = []
        for n in [item["phone"], row[10], *(_DIGITS.findall(row[11] or ""))]:
            if n and n not in numbers:
                numbers.append(n)
        ctx = task_context(row, settings, day)
        script_ctx = ctx
        if item["contact"]:  # the script greets the person called: who brought the car
            script_ctx = task_context(row[:8] + (item["contact"], None) + row[10:], settings, day)
        rows.append([item["id"], kind_label(item["kind"]), ctx["greeting"], item["contact"] or "",
                     " / ".join(numbers), ctx["plate"], ctx["model"], item["call_time"] or "",
                     item["reason"], messages.script(item["kind"], script_ctx, settings)])
    name = f"calls-{day.isoformat()}.xlsx"
    write_file(out_dir / name, xlsx_bytes("回访", CALL_HEADER, rows,
                                          datetime.combine(day, time(0, 0)),
                                          [8, 12, 14, 12, 28, 11, 12, 12, 50, 80]))
    return name, len(rows)
