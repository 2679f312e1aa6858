"""What came back from the SMS platform: delivery reports and unsubscribe lists.

``import_report(db, path, ...)`` reads the platform's download (.xlsx, .xls or
.csv, any of the usual header names) and tells the two kinds apart by their
columns:

* a **delivery report** has a status column (状态, 发送状态, 回执, status ...):
  a line that failed (失败, UNDELIV, EXPIRED, 空号 ...) marks the SMS in the
  ledger ``failed``; an SMS-only task ends ``not_delivered`` (an SMS-then-call
  task keeps its call) and the number goes into ``phone_flags``, so no SMS
  goes to it again until the number on file changes or the flag is cleared
  (``crmcli optout`` does not touch flags; a new mobile in an import does).
  Delivered lines mark the ledger ``delivered``;
* an **unsubscribe list** has a reply column (回复内容, 上行内容, content ...)
  or only numbers: every number that replied T, TD, N or 退订 (or every
  number of a list without replies) becomes an opt-out of the customers who
  have it, scope ``[sms] unsubscribe_scope`` (marketing by default).

Importing the same file again changes nothing. Numbers that match no
customer are counted, never guessed.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path

import sqlite_utils

from . import optouts
from .db import write_transaction
from .errors import FileRefused
from .i18n import _

PHONE_HEADERS = ("手机号码", "手机号", "号码", "手机", "电话", "接收号码", "mobile", "phone", "number")
STATUS_HEADERS = ("发送状态", "回执状态", "状态", "回执", "结果", "status", "report", "result")
REPLY_HEADERS = ("回复内容", "上行内容", "回复", "内容", "reply", "content", "message")
NOTE_HEADERS = ("失败原因", "错误码", "状态说明", "原因", "error", "reason", "desc")
_OK = re.compile(r"^(成功|发送成功|已送达|送达|成功送达|delivrd|delivered|success|ok|0)$",
                 re.IGNORECASE)
_UNSUB = re.compile(r"^(t|td|n|退订|退|tdtd|取消)$", re.IGNORECASE)


@dataclass
class ReportResult:
    file: str
    kind: str  # 'delivery' or 'unsubscribe'
    rows: int = 0
    delivered: int = 0
    failed: int = 0
    not_in_ledger: int = 0
    unsubscribed: int = 0
    already: int = 0
    unknown_numbers: int = 0
    other_replies: int = 0
    no_number: int = 0

    def as_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        from .i18n import _

        if self.kind == "delivery":
            return _("{file}: delivery report, {rows} lines: {delivered} delivered, {failed} "
                     "failed (numbers flagged, SMS-only tasks not delivered), {not_ours} not "
                     "sent by crmcli").format(file=self.file, rows=self.rows,
                                               delivered=self.delivered, failed=self.failed,
                                               not_ours=self.not_in_ledger)
        return _("{file}: unsubscribe list, {rows} lines: {new} new opt-outs, {already} already "
                 "opted out, {unknown} numbers of no customer, {other} other replies").format(
            file=self.file, rows=self.rows, new=self.unsubscribed, already=self.already,
            unknown=self.unknown_numbers, other=self.other_replies)


def mobile_of(cell: object) -> str | None:
    """'+86 138-1234-5678' -> '13812345678'; None when the cell holds no mobile.

    A number cell of a workbook (13812345678.0) counts by its whole value.
    """
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    digits = re.sub(r"\D", "", str(cell if cell is not None else ""))
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits if re.fullmatch(r"1[3-9]\d{9}", digits) else None


def _find(header: list[str], names: tuple[str, ...]) -> int | None:
    low = [str(h or "").strip().lower() for h in header]
    for name in names:
        for i, h in enumerate(low):
            if h == name.lower():
                return i
    for name in names:
        for i, h in enumerate(low):
            if name.lower() in h:
                return i
    return None


def read_report(path: Path) -> tuple[str, list[tuple[str | None, str, str]]]:
    """('delivery' | 'unsubscribe', [(mobile, status or reply, note)]) from the platform file."""
    from .excel import open_sheets

    _fmt, sheets = open_sheets(path)
    rows = list(sheets[0].rows)
    for i, (_no, cells) in enumerate(rows[:10]):
        phone = _find(cells, PHONE_HEADERS)
        if phone is not None and not mobile_of(cells[phone]):
            status, reply = _find(cells, STATUS_HEADERS), _find(cells, REPLY_HEADERS)
            note = _find(cells, NOTE_HEADERS)
            body = rows[i + 1:]
            break
    else:
        # No header: a bare list of numbers is an unsubscribe list.
        if rows and any(mobile_of(c) for c in rows[0][1]):
            return "unsubscribe", [(next((mobile_of(c) for c in cells if mobile_of(c)), None),
                                    "", "") for _no, cells in rows]
        raise FileRefused(_("{name}: no column of mobile numbers (手机号码) found; is this the "
                            "platform's delivery report or unsubscribe list?").format(
                              name=path.name))

    def at(cells, i):
        return str(cells[i]).strip() if i is not None and i < len(cells) and cells[i] is not None \
            else ""

    kind = "delivery" if status is not None else "unsubscribe"
    col = status if status is not None else reply
    out = [(mobile_of(cells[phone]) if phone < len(cells) else None, at(cells, col),
            at(cells, note)) for _no, cells in body if any(c not in (None, "") for c in cells)]
    return kind, out


def import_report(db: sqlite_utils.Database, path: Path | str, settings: dict, *, by: str,
                  day: date, now: datetime) -> ReportResult:
    path = Path(path)
    kind, lines = read_report(path)
    result = ReportResult(file=path.name, kind=kind, rows=len(lines))
    stamp = now.isoformat(sep=" ", timespec="seconds")
    with write_transaction(db):
        if kind == "delivery":
            _deliveries(db, lines, result, path.name, by, stamp)
        else:
            _unsubscribes(db, lines, result, path.name, settings, by, day, stamp)
    return result


def _deliveries(db, lines, result: ReportResult, name: str, by: str, stamp: str) -> None:
    conn = db.conn
    for mobile, status, note in lines:
        if mobile is None:
            result.no_number += 1
            continue
        row = conn.execute("SELECT id, task_id, status FROM sms_ledger WHERE mobile = ?"
                           " ORDER BY day DESC, batch DESC, line DESC LIMIT 1",
                           (mobile,)).fetchone()
        if row is None:
            result.not_in_ledger += 1
            continue
        lid, tid, old = row
        if _OK.match(status.replace(" ", "")):
            result.delivered += 1
            if old == "sent":
                conn.execute("UPDATE sms_ledger SET status='delivered', status_at=? WHERE id=?",
                             (stamp, lid))
            continue
        result.failed += 1
        why = " ".join(x for x in (status, note) if x) or "failed"
        if old != "failed":
            conn.execute("UPDATE sms_ledger SET status='failed', status_note=?, status_at=?"
                         " WHERE id=?", (why, stamp, lid))
            conn.execute("UPDATE tasks SET state='not_delivered', state_reason=?, updated_at=?"
                         " WHERE id=? AND state='sent'", (f"not delivered: {why} ({name})",
                                                          stamp, tid))
        conn.execute("INSERT OR IGNORE INTO phone_flags (phone, reason, since, by_user)"
                     " VALUES (?,?,?,?)", (mobile, f"SMS failed: {why} ({name})", stamp[:10], by))


def _unsubscribes(db, lines, result: ReportResult, name: str, settings: dict, by: str,
                  day: date, stamp: str) -> None:
    scope = settings["sms"]["unsubscribe_scope"]
    for mobile, reply, _note in lines:
        if mobile is None:
            result.no_number += 1
            continue
        if reply and not _UNSUB.match(reply.replace(" ", "").strip("。.")):
            result.other_replies += 1
            continue
        ids = [r[0] for r in db.conn.execute(
            "SELECT id FROM customers WHERE mobile = ? OR preferred_phone = ?"
            " OR other_phones LIKE ?", (mobile, mobile, f"%{mobile}%"))]
        if not ids:
            result.unknown_numbers += 1
            continue
        for cid in ids:
            added = optouts.record(db, cid, scope, reason=f"replied {reply or 'T'} to an SMS"
                                   f" ({name})", by=by, day=day, now=stamp)
            if added:
                result.unsubscribed += 1
            else:
                result.already += 1
