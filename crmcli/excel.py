"""The only module that touches workbook libraries.

Reading: .xlsx and the old binary .xls through python-calamine (it returns
cell values, formulas as their cached results, and reads both formats), .csv
through the stdlib with the encoding detected (UTF-8 with or without BOM, else
GB18030, the superset of GBK). The kind of file is decided by its content, not
its name: a CSV renamed .xlsx is read as CSV; an HTML page saved as .xls and a
password-protected workbook are refused with a message that says what to do.

Writing: the rejects workbook (``write_rows_xlsx``) through openpyxl.

Imported only by the commands that read or write workbooks, never on the path
of ``--help`` or ``today``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import FileRefused

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
        raise FileRefused(f"{path}: no such file") from None
    except IsADirectoryError:
        raise FileRefused(f"{path}: is a folder, not a file") from None
    except OSError as exc:
        raise FileRefused(f"{path}: cannot be read ({exc.strerror})") from None
    if not head:
        raise FileRefused(f"{path.name}: the file is empty (0 bytes); export it again")
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
        raise FileRefused(f"{path.name}: not a spreadsheet or CSV file (binary content)")
    return "csv"


def _read_all(path: Path, limit: int) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(limit)


def open_sheets(path: Path) -> tuple[str, list[Sheet]]:
    """The visible sheets of a workbook, or the one table of a CSV, with the format read."""
    kind = sniff(path)
    if kind == "html":
        raise FileRefused(
            f"{path.name}: this is a web page saved with a spreadsheet name, not a workbook; "
            "open it in Excel and save it as .xlsx, then import that"
        )
    if kind == "encrypted":
        raise FileRefused(
            f"{path.name}: the workbook is password-protected; open it in Excel, "
            "remove the password (File > Info > Protect Workbook) and save, then import it"
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
            f"{path.name}: the workbook is password-protected; remove the password in Excel "
            "and save, then import it"
        ) from None
    except Exception as exc:  # calamine raises several unrelated types for damaged files
        raise FileRefused(
            f"{path.name}: the {kind} file is damaged or incomplete ({_short(exc)}); "
            "export it again from the DMS"
        ) from None
    sheets = []
    for meta in metas:
        if meta.visible != pc.SheetVisibleEnum.Visible or meta.typ != pc.SheetTypeEnum.WorkSheet:
            continue  # hidden sheets hold lookup tables and parameters, not data
        sheets.append(Sheet(name=meta.name, format=kind, rows=_calamine_rows(path, wb, meta.name)))
    if not sheets:
        raise FileRefused(f"{path.name}: the workbook has no visible worksheet")
    return sheets


def _calamine_rows(path: Path, wb, name: str) -> Iterator[tuple[int, list]]:
    try:
        sheet = wb.get_sheet_by_name(name)
        first = sheet.start[0] + 1 if sheet.start else 1
        offset = sheet.start[1] if sheet.start else 0
        rows = sheet.iter_rows()
    except Exception as exc:
        raise FileRefused(
            f"{path.name}: sheet {name!r} cannot be read ({_short(exc)}); export it again"
        ) from None
    pad = [""] * offset
    for i, row in enumerate(rows):
        yield first + i, (pad + row if offset else row)


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
            f"{name}: the text is neither UTF-8 nor GBK/GB18030; save the CSV as UTF-8 and retry"
        ) from None


def _csv_rows(path: Path) -> Iterator[tuple[int, list]]:
    text, _encoding = decode_text(path.read_bytes(), path.name)
    sample = text[:8192]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",\t;|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        for i, row in enumerate(reader, start=1):
            yield i, row
    except csv.Error as exc:
        raise FileRefused(f"{path.name}: the CSV is malformed near line {reader.line_num} ({exc})")


def write_rows_xlsx(path: Path, sheets: dict[str, list[list]]) -> None:
    """Write plain rows to a new workbook, one sheet per key (used for rejects)."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title=title[:31])
        for row in rows:
            ws.append([_excel_safe(v) for v in row])
    wb.save(path)


def _excel_safe(value):
    if isinstance(value, str):
        # openpyxl refuses control characters that XML cannot carry.
        value = "".join(ch for ch in value if ch >= " " or ch in "\t\n\r")
        return value[:32767]
    return value
