"""The only module that touches workbook libraries.

Reading: .xlsx and the old binary .xls through python-calamine (it returns
cell values, formulas as their cached results, and reads both formats), .csv
through the stdlib with the encoding detected (UTF-8 with or without BOM, else
GB18030, the superset of GBK). The kind of file is decided by its content, not
its name: a CSV renamed .xlsx is read as CSV; an HTML page saved as .xls and a
password-protected workbook are refused with a message that says what to do.

Writing: the rejects workbook (``write_rows_xlsx``) and the monthly report
(``write_report_xlsx``) through openpyxl, atomically and with inert cells (``files``).

Imported only by the commands that read or write workbooks, never on the path
of ``--help`` or ``today``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import count
from pathlib import Path

from .errors import FileRefused
from .i18n import _

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
# A cell longer than this is not data a DMS export carries; the importer
# truncates and flags it rather than storing megabytes in a customer file.
MAX_CELL_CHARS = 2000


@dataclass
class Sheet:
    """The rows of one sheet: ``rows`` yields (row number as Excel shows it, cells)."""

    name: str
    format: str
    rows: Iterator[tuple[int, list]]


def sniff(path: Path) -> str:
    """Say what a file really is: xlsx, xls, csv, html, encrypted, or raise FileRefused."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except FileNotFoundError:
        raise FileRefused(_("{path}: no such file").format(path=path)) from None
    except IsADirectoryError:
        raise FileRefused(_("{path}: is a folder, not a file").format(path=path)) from None
    except OSError as exc:
        raise FileRefused(_("{path}: cannot be read ({strerror})").format(
                              path=path, strerror=exc.strerror)) from None
    if not head:
        raise FileRefused(_("{name}: the file is empty (0 bytes); export it again").format(
                              name=path.name))
    if head.startswith(ZIP_MAGIC):
        return "xlsx"
    if head.startswith(OLE2_MAGIC):
        # An encrypted .xlsx is an OLE2 container holding these streams.
        if "EncryptedPackage".encode("utf-16-le") in _read_all(path, limit=1 << 20):
            return "encrypted"
        return "xls"
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if stripped.startswith((b"<!doctype html", b"<html", b"<table", b"<?xml", b"<meta", b"<head")):
        return "html"
    if b"\x00" in head:
        raise FileRefused(_("{name}: not a spreadsheet or CSV file (binary content)").format(
                              name=path.name))
    return "csv"


def _read_all(path: Path, limit: int) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(limit)


def open_sheets(path: Path) -> tuple[str, list[Sheet]]:
    """The visible sheets of a workbook, or the one table of a CSV, with the format read."""
    kind = sniff(path)
    if kind == "html":
        raise FileRefused(
            _("{name}: this is a web page saved with a spreadsheet name, not a workbook; open "
              "it in Excel and save it as .xlsx, then import that").format(name=path.name)
        )
    if kind == "encrypted":
        raise FileRefused(
            _("{name}: the workbook is password-protected; open it in Excel, remove the "
              "password (File > Info > Protect Workbook) and save, then import it").format(
                name=path.name)
        )
    if kind == "csv":
        return kind, [Sheet(name="csv", format="csv", rows=_csv_rows(path))]
    return kind, _workbook_sheets(path, kind)


def _workbook_sheets(path: Path, kind: str) -> list[Sheet]:
    import python_calamine as pc

    try:
        wb = pc.CalamineWorkbook.from_path(str(path))
        metas = wb.sheets_metadata
    except pc.PasswordError:
        raise FileRefused(
            _("{name}: the workbook is password-protected; remove the password in Excel and "
              "save, then import it").format(name=path.name)
        ) from None
    except Exception as exc:  # calamine raises several unrelated types for damaged files
        raise FileRefused(
            _("{name}: the {kind} file is damaged or incomplete ({short}); export it again from "
              "the DMS").format(name=path.name, kind=kind, short=_short(exc))
        ) from None
    sheets = []
    for meta in metas:
        if meta.visible != pc.SheetVisibleEnum.Visible or meta.typ != pc.SheetTypeEnum.WorkSheet:
            continue  # hidden sheets hold lookup tables and parameters, not data
        sheets.append(Sheet(name=meta.name, format=kind, rows=_calamine_rows(path, wb, meta.name)))
    if not sheets:
        raise FileRefused(_("{name}: the workbook has no visible worksheet").format(
                              name=path.name))
    return sheets


def _calamine_rows(path: Path, wb, name: str) -> Iterator[tuple[int, list]]:
    try:
        sheet = wb.get_sheet_by_name(name)
        first = sheet.start[0] + 1 if sheet.start else 1
        offset = sheet.start[1] if sheet.start else 0
        rows = sheet.iter_rows()
    except Exception as exc:
        raise FileRefused(
            _("{name}: sheet {name2!r} cannot be read ({short}); export it again").format(
                name=path.name, name2=name, short=_short(exc))
        ) from None
    numbers = count(first)
    if offset:  # the sheet's first column is not A: pad each row to line up with A
        pad = [""] * offset
        rows = (pad + row for row in rows)
    try:
        yield from zip(numbers, rows)
    except Exception as exc:  # calamine can fail mid-sheet on a damaged file
        # zip took a number for the row that failed: the one before it was the last read
        last = max(next(numbers) - 2, first)
        raise FileRefused(_("{name}: the file could not be read past row {last} ({short}); "
                            "export it again").format(
                              name=path.name, last=last, short=_short(exc))) from None


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:120]


def decode_text(data: bytes, name: str) -> tuple[str, str]:
    """Decode CSV bytes: UTF-8 (BOM or not), else GB18030 (covers GBK and GB2312)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError:
        raise FileRefused(
            _("{name}: the text is neither UTF-8 nor GBK/GB18030; save the CSV as UTF-8 and "
              "retry").format(name=name)
        ) from None


def _csv_rows(path: Path) -> Iterator[tuple[int, list]]:
    text, _encoding = decode_text(path.read_bytes(), path.name)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=guess_delimiter(text))
    try:
        for i, row in enumerate(reader, start=1):
            yield i, row
    except csv.Error as exc:
        raise FileRefused(
            _("{name}: the CSV is malformed near line {line_num} ({exc})").format(
                name=path.name, line_num=reader.line_num, exc=exc)) from None


def guess_delimiter(text: str) -> str:
    """The separator most lines share: ',', tab, ';' or '|'.

    A title line above the header ('维修工单明细') has none, so each candidate
    is judged by the lines where it appears most, not by the first line.
    """
    lines = [ln for ln in text[:65536].splitlines()[:60] if ln.strip()]
    best, best_score = ",", 0
    for sep in (",", "\t", ";", "|"):
        counts = sorted((ln.count(sep) for ln in lines), reverse=True)
        top = counts[: max(1, len(counts) // 2)]
        score = min(top) if top else 0
        if score > best_score:
            best, best_score = sep, score
    return best


def write_rows_xlsx(path: Path, sheets: dict[str, list[list]]) -> None:
    """Write plain rows to a new workbook, one sheet per key (used for rejects).

    Atomic and owner-only (``files.write_atomic``); every cell made inert
    (``files.neutral_cell``): the rows are what an export held, not formulas."""
    from openpyxl import Workbook

    from .files import neutral_row, sheet_title, write_atomic

    wb = Workbook(write_only=True)
    titles: list[str] = []
    for title, rows in sheets.items():
        titles.append(sheet_title(title, titles))
        ws = wb.create_sheet(title=titles[-1])
        for row in rows:
            ws.append(neutral_row(row))
    write_atomic(path, wb.save)


def write_report_xlsx(path: Path, r: dict, definitions: list[str]) -> None:
    """The monthly report as a workbook a manager can forward to the regional office:
    every sheet, header, kind, outcome and definition in Chinese (``report_labels``),
    percentages formatted, native charts, stored text made inert."""
    from openpyxl import Workbook
    from openpyxl.chart import BarChart, LineChart, Reference
    from openpyxl.styles import Font

    from . import report_labels as rl
    from .files import neutral_row, sheet_title, write_atomic
    from .stats import headline

    def zh(key: str) -> str:
        return rl.label(key, "zh")

    wb = Workbook()
    bold = Font(bold=True)
    pct = "0.0%"
    rates = {"performed_rate", "success_rate", "satisfied_share", "holding_rate"}

    def sheet(title: str, header: list[str], rows: list[list], pct_cols=()):
        ws = wb.create_sheet(sheet_title(title, wb.sheetnames))
        ws.append(neutral_row(header))
        for cell in ws[1]:
            cell.font = bold
        for row in rows:
            ws.append(neutral_row(row))
        for col in pct_cols:
            for (cell,) in ws.iter_rows(min_row=2, min_col=col, max_col=col):
                cell.number_format = pct
        for i, _h in enumerate(header, start=1):
            ws.column_dimensions[ws.cell(row=1, column=i).column_letter].width = 16
        return ws

    wb.remove(wb.active)
    now = headline(r)
    prev = r.get("previous", {})
    change = r.get("change", {})
    cb = r["callbacks"]
    ws = sheet(f"{zh('summary')} {r['period']}",
               [zh("figure"), zh("this_period"), f"{zh('previous')} {prev.get('period', '')}",
                zh("change")], [[zh(k), now[k], prev.get(k), change.get(k)] for k in now])
    for row_no, key in enumerate(now, start=2):
        if key in rates:
            for col in (2, 3, 4):
                ws.cell(row=row_no, column=col).number_format = pct
    state = (zh("month_closed") if not r["so_far"] and not cb["still_open"]
             else f"{zh('still_open')} {cb['still_open']}")
    for row in ([], [zh("through"), r["through"]], [zh("state"), state],
                [zh("last_changed"), r["last_changed"] or "-"]):
        ws.append(row)

    def tally_rows(groups: dict) -> list[list]:
        return [[k, v["due"], v["performed"], v["performed_rate"]["value"], v["successful"],
                 v["success_rate"]["value"]] for k, v in groups.items()]

    head = [zh(k) for k in ("kind", "due", "performed", "performed_rate", "successful",
                            "success_rate")]
    sheet(zh("by_kind"), head, tally_rows({rl.kind(k, "zh"): v for k, v in cb["by_kind"].items()})
          + tally_rows({zh("total"): cb["total"]}), pct_cols=(4, 6))
    wd = r["work_done"]
    outcomes = [o for o in rl.OUTCOMES if any(o in v["outcomes"] for v in wd["by_clerk"].values())]
    sheet(zh("work_done"), [zh("clerk"), zh("calls"), zh("tasks_called"), zh("successful_calls")]
          + [rl.outcome(o, "zh") for o in outcomes],
          [[name, v["calls"], v["tasks"], v["successful"]]
           + [v["outcomes"].get(o, 0) for o in outcomes] for name, v in wd["by_clerk"].items()]
          + [[zh("total"), wd["total"]["calls"], None, wd["total"]["successful"]]])
    ws = sheet(zh("by_week"), [zh("week_of"), zh("due"), zh("performed"), zh("performed_rate")],
               [[w["week_of"], w["den"], w["num"], w["value"]] for w in cb["by_week"]],
               pct_cols=(4,))
    if cb["by_week"]:
        chart = LineChart()
        chart.title = "回访完成率（按周）"
        chart.y_axis.title = zh("performed_rate")
        chart.y_axis.number_format = "0%"
        data = Reference(ws, min_col=4, min_row=1, max_row=len(cb["by_week"]) + 1)
        chart.add_data(data, titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=1, min_row=2, max_row=len(cb["by_week"]) + 1))
        ws.add_chart(chart, "F2")
    qs = r["satisfaction"]["questions"]
    scale = list(next(iter(qs.values()))["distribution"].keys())
    ws = sheet(zh("satisfaction"), [zh("question"), zh("answers"), zh("average")]
               + [f"{k}分" for k in scale],
               [[rl.question(q, "zh"), v["answers"], v["average"]] + list(v["distribution"].values())
                for q, v in qs.items()])
    chart = BarChart()
    chart.title = "各问题平均分"
    chart.add_data(Reference(ws, min_col=3, min_row=1, max_row=len(qs) + 1), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=2, max_row=len(qs) + 1))
    ws.add_chart(chart, "J2")
    ba = r["by_advisor"]
    qnames = [rl.question(q, "zh") for q in qs]
    ws = sheet(zh("by_advisor"), [zh("advisor")] + [x for q in qnames
                                                    for x in (f"{q}{zh('answers')}",
                                                              f"{q}{zh('average')}")],
               [[a["advisor"] or zh("no_advisor")] + [x for v in a["questions"].values()
                                                      for x in (v["answers"], v["average"])]
                for a in ba["advisors"]])
    ws.append([])
    coach_title = (f"{zh('coach')}（{rl.question(ba['coach_question'], 'zh')}，"
                   f"回答数不少于{ba['coach_min_answers']}）")
    ws.append([coach_title])
    for c in ba["coach"] or [{"advisor": zh("none"), "average": None, "answers": None}]:
        ws.append(neutral_row([c["advisor"], c["average"], c["answers"]]))
    p = r["problems"]
    sheet(zh("problems"), [zh("category"), zh("count")],
          [[c["category"], c["count"]] for c in p["complaint_categories"]]
          + [[f"#{t['tag']}", t["count"]] for t in p["note_tags"]])
    k = r["complaints"]
    res = k["resolution"]
    sheet(zh("complaints"), ["项目", "数量", "平均工时(小时)"], [
        [zh("complaints_opened"), k["opened"], None], [zh("closed"), k["closed"], None],
        [zh("complaints_overdue"), k["overdue"], None],
        *[[f"{zh('severity')}：{rl.severity(s, 'zh')}", n, None]
          for s, n in k["by_severity"].items()],
        [zh("to_escalation"), k["to_escalation"]["count"], k["to_escalation"]["average_hours"]],
        [zh("to_reply"), k["to_reply"]["count"], k["to_reply"]["average_hours"]],
        [zh("resolution_satisfied"), res["satisfied"], None],
        [zh("resolution_not_satisfied"), res["not_satisfied"], None],
        [zh("resolution_pending"), res["pending"], None]])
    a = r["actions"]
    ws = sheet(zh("actions"), [zh(c) for c in ("action", "owner", "deadline", "approved", "state",
                                               "metric", "before", "after")] + ["整改前月份",
                                                                                 "整改后月份"],
               [[x["text"], x["owner"], x["deadline"],
                 x["approved_by"] if x["approved_at"] else zh("not_approved"),
                 zh(x["state"]) + ("（超期）" if x["overdue"] else ""),
                 zh(x["metric"]) if x["metric"] else None, x["effect_before"], x["effect_after"],
                 x["effect_before_period"], x["effect_after_period"]] for x in a["list"]])
    for row_no, x in enumerate(a["list"], start=2):
        if x["metric"] in rates:
            for col in (7, 8):
                ws.cell(row=row_no, column=col).number_format = pct
    ws.append([])
    ws.append([f"{zh('opened')} {a['opened']}，{zh('done')} {a['done']}，{zh('overdue')} {a['overdue']}"])
    lost = r["lost_customers"]
    sheet(zh("lost"), ["项目", zh("count")],
          [[zh("recovery_due"), lost["recovery_due"]], [zh("recovery_reached"), lost["reached"]],
           [zh("won_back"), lost["won_back"]]]
          + [[f"{zh('reason')}：{x['reason']}", x["count"]] for x in lost["reasons"]])
    e = r["reminder_effect"]
    sheet(zh("return_rate"), ["提醒类型", zh("reminders"), zh("came_back"),
                              f"{e['window_days']}天回厂率", rl.outcome("done_elsewhere", "zh")],
          [[zh(key), e[key]["den"], e[key]["num"], e[key]["value"], e["done_elsewhere"][key]]
           for key in ("maintenance", "warranty_check", "recovery")]
          + [[zh("holding_rate"), r["holding_rate"]["den"], r["holding_rate"]["num"],
              r["holding_rate"]["value"], None]], pct_cols=(4,))
    sheet(zh("definitions"), ["口径"], [[d] for d in definitions])
    write_atomic(path, wb.save)

