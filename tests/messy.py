"""Builders of messy spreadsheet files for the import tests.

Each ``write_*`` function writes one file and returns its Path.  ``path`` is
the file to write; when it is an existing directory, a default file name is
used inside it.  Rows are lists of Python values: str, int, float, bool,
date, datetime or None (an empty cell).

Some builders produce files openpyxl cannot (formula cells with cached
values, cells over Excel's 32,767-character cap, rows made only of styled
empty cells): those write the OOXML parts themselves with zipfile.
"""

from __future__ import annotations

import csv
import html
import io
import zipfile
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time
from pathlib import Path

import openpyxl

__all__ = [
    "DEFAULT_HEADER",
    "DEFAULT_ROWS",
    "col_letter",
    "excel_serial",
    "write_blank_rows_xlsx",
    "write_csv",
    "write_csv_named_xlsx",
    "write_encrypted_xlsx",
    "write_html_as_xls",
    "write_huge_cell_xlsx",
    "write_truncated_xlsx",
    "write_xls",
    "write_xlsx",
    "write_xlsx_with_formula",
    "write_zero_byte",
]

# A small DMS-like table the builders use when no rows are given.
DEFAULT_HEADER = ["工单号", "车牌号码", "车架号", "客户名称", "联系电话", "结算日期", "合计金额"]
DEFAULT_ROWS = [
    DEFAULT_HEADER,
    ["RO2025030500123", "粤B12345", "LVGBF1EKXRG100017", "张伟", "13812345678",
     date(2025, 3, 5), 350.0],
    ["RO2025030600007", "粤BD12345", "LVGBZ4XE1SG100123", "欧阳娜", "13912345678",
     date(2025, 3, 6), 1234.5],
]

_EPOCH = datetime(1899, 12, 30)


def _target(path: Path | str, default_name: str) -> Path:
    path = Path(path)
    if path.is_dir():
        path = path / default_name
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def excel_serial(value: date | datetime) -> float | int:
    """The Excel (1900 system) serial number of a date or datetime."""
    if isinstance(value, datetime):
        return round((value - _EPOCH).total_seconds() / 86_400, 8)
    return (value - _EPOCH.date()).days


def col_letter(index: int) -> str:
    """0 -> 'A', 25 -> 'Z', 26 -> 'AA'."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _col_index(col: int | str) -> int:
    if isinstance(col, int):
        return col
    n = 0
    for ch in col.upper():
        n = n * 26 + ord(ch) - 64
    return n - 1


# --------------------------------------------------------------------------
# openpyxl / xlwt / csv based builders

def _fill_sheet(ws, rows: Iterable[Sequence], date_format_cells: bool) -> None:
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=1):
            if value is None:
                continue
            if isinstance(value, (date, datetime)) and not date_format_cells:
                value = excel_serial(value)
            cell = ws.cell(r, c, value)
            if isinstance(value, datetime):
                cell.number_format = "yyyy-mm-dd hh:mm:ss"
            elif isinstance(value, date):
                cell.number_format = "yyyy-mm-dd"


def _xlsx_bytes(rows: Iterable[Sequence], *, title_rows: Iterable[Sequence] = (),
                hidden_sheet_first: bool = False, sheet_name: str = "Sheet1",
                date_format_cells: bool = True) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    if hidden_sheet_first:
        ws.title = "参数"
        for junk in (["参数名", "参数值"], ["门店代码", "GZT-0755-021"], ["导出人", "admin"],
                     ["工单号", "不是数据"], [1, 2]):
            ws.append(junk)
        ws.sheet_state = "hidden"
        ws.sheet_view.tabSelected = False
        ws = wb.create_sheet(sheet_name)
        wb.active = 1
        ws.sheet_view.tabSelected = True
    else:
        ws.title = sheet_name
    _fill_sheet(ws, [*title_rows, *rows], date_format_cells)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def write_xlsx(path: Path | str, rows: list[list], *, title_rows: Sequence[Sequence] = (),
               hidden_sheet_first: bool = False, sheet_name: str = "Sheet1",
               date_format_cells: bool = True) -> Path:
    """An ordinary .xlsx (openpyxl).

    title_rows are written above rows (e.g. a report title and an export time).
    hidden_sheet_first puts a hidden sheet "参数" of junk (including a row
    starting with "工单号") before the data sheet, which is the active one.
    date/datetime values get a date number format; with
    date_format_cells=False they are written as bare serial numbers (General
    format), as in files whose date format was lost.
    """
    path = _target(path, "messy.xlsx")
    path.write_bytes(_xlsx_bytes(rows, title_rows=title_rows,
                                 hidden_sheet_first=hidden_sheet_first,
                                 sheet_name=sheet_name, date_format_cells=date_format_cells))
    return path


def write_xls(path: Path | str, rows: list[list], title_rows: Sequence[Sequence] = ()) -> Path:
    """An old binary .xls (BIFF8, xlwt); dates get a date number format."""
    import xlwt

    path = _target(path, "messy.xls")
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("Sheet1")
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    datetime_style = xlwt.easyxf(num_format_str="YYYY-MM-DD HH:MM:SS")
    for r, row in enumerate([*title_rows, *rows]):
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, datetime):
                ws.write(r, c, value, datetime_style)
            elif isinstance(value, date):
                ws.write(r, c, value, date_style)
            else:
                ws.write(r, c, value)
    wb.save(str(path))
    return path


def _csv_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, (date, time)):
        return value.isoformat()
    return str(value)


def write_csv(path: Path | str, rows: list[list], encoding: str = "utf-8",
              title_rows: Sequence[Sequence] = ()) -> Path:
    """A CSV file in the given encoding ('utf-8', 'utf-8-sig', 'gbk', 'gb18030', ...).

    Lines end with CRLF as Excel writes them; title_rows come first.
    """
    path = _target(path, "messy.csv")
    with path.open("w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh)
        for row in [*title_rows, *rows]:
            writer.writerow([_csv_text(v) for v in row])
    return path


def write_encrypted_xlsx(path: Path | str, rows: list[list], password: str = "1234") -> Path:
    """A password-protected .xlsx: an OLE compound file (ECMA-376 agile encryption)."""
    from msoffcrypto.format.ooxml import OOXMLFile

    path = _target(path, "encrypted.xlsx")
    plain = io.BytesIO(_xlsx_bytes(rows))
    out = io.BytesIO()
    OOXMLFile(plain).encrypt(password, out)
    path.write_bytes(out.getvalue())
    return path


def write_html_as_xls(path: Path | str, rows: list[list] | None = None,
                      encoding: str = "utf-8") -> Path:
    """An HTML table saved under an .xls name, as web DMS "Excel exports" do."""
    path = _target(path, "web_export.xls")
    rows = DEFAULT_ROWS if rows is None else rows
    html_tag = ('<html xmlns:o="urn:schemas-microsoft-com:office:office" '
                'xmlns:x="urn:schemas-microsoft-com:office:excel" '
                'xmlns="http://www.w3.org/TR/REC-html40">')
    office_xml = ("<!--[if gte mso 9]><xml><x:ExcelWorkbook><x:ExcelWorksheets>"
                  "<x:ExcelWorksheet><x:Name>工单明细</x:Name></x:ExcelWorksheet>"
                  "</x:ExcelWorksheets></x:ExcelWorkbook></xml><![endif]-->")
    out = [
        html_tag,
        f'<head><meta http-equiv="Content-Type" content="text/html; charset={encoding}">',
        office_xml + "</head>",
        '<body><table border="1">',
    ]
    for i, row in enumerate(rows):
        tag = "th" if i == 0 else "td"
        cells = "".join(
            f"<{tag} style=\"mso-number-format:'\\@'\">{html.escape(_csv_text(v))}</{tag}>"
            for v in row)
        out.append(f"<tr>{cells}</tr>")
    out.append("</table></body></html>")
    path.write_bytes("\r\n".join(out).encode(encoding))
    return path


def write_truncated_xlsx(path: Path | str, rows: list[list] | None = None) -> Path:
    """A valid .xlsx cut in half (an interrupted download or copy): no central directory."""
    path = _target(path, "truncated.xlsx")
    if rows is None:
        rows = DEFAULT_ROWS + [[f"RO20250307{i:05d}", "粤B12345", "LVGBF1EKXRG100017",
                                "张伟", "13812345678", date(2025, 3, 7), float(i)]
                               for i in range(500)]
    data = _xlsx_bytes(rows)
    path.write_bytes(data[: len(data) // 2])
    return path


def write_zero_byte(path: Path | str) -> Path:
    """An empty file (a failed export)."""
    path = _target(path, "empty.xlsx")
    path.write_bytes(b"")
    return path


def write_csv_named_xlsx(path: Path | str, rows: list[list], encoding: str = "utf-8") -> Path:
    """CSV text saved under an .xlsx name."""
    path = _target(path, "really_csv.xlsx")
    return write_csv(path, rows, encoding=encoding)


# --------------------------------------------------------------------------
# hand-written OOXML

_NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_NS_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"

_CONTENT_TYPES = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml" ContentType="{_CT}.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_CT}.worksheet+xml"/>
<Override PartName="/xl/styles.xml" ContentType="{_CT}.styles+xml"/>
<Override PartName="/xl/sharedStrings.xml" ContentType="{_CT}.sharedStrings+xml"/>
</Types>"""

_ROOT_RELS = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="{_NS_PKG}">
<Relationship Id="rId1" Type="{_NS_REL}/officeDocument" Target="xl/workbook.xml"/>
</Relationships>"""

_WORKBOOK_RELS = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="{_NS_PKG}">
<Relationship Id="rId1" Type="{_NS_REL}/worksheet" Target="worksheets/sheet1.xml"/>
<Relationship Id="rId2" Type="{_NS_REL}/styles" Target="styles.xml"/>
<Relationship Id="rId3" Type="{_NS_REL}/sharedStrings" Target="sharedStrings.xml"/>
</Relationships>"""

# cellXfs: 0 General, 1 date, 2 date-time, 3 a filled (styled) empty cell
_STYLES = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="{_NS_MAIN}">
<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd hh:mm:ss"/></numFmts>
<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>
<fills count="3"><fill><patternFill patternType="none"/></fill>
<fill><patternFill patternType="gray125"/></fill>
<fill><patternFill patternType="solid"><fgColor rgb="FFFFFF00"/></patternFill></fill></fills>
<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>
<cellXfs count="4">
<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>
<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="0" fontId="0" fillId="2" borderId="0" xfId="0" applyFill="1"/>
</cellXfs>
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>
</styleSheet>"""

STYLE_DATE, STYLE_DATETIME, STYLE_FILLED = 1, 2, 3


def _xml_text(text: str) -> str:
    # drop the control characters XML 1.0 forbids
    text = "".join(ch for ch in text if ch in "\t\n\r" or ord(ch) >= 32)
    return html.escape(text, quote=False)


class _RawSheet:
    """Builds the XML of one worksheet and its shared-string table."""

    def __init__(self) -> None:
        self.strings: list[str] = []
        self._index: dict[str, int] = {}

    def sst(self, text: str) -> int:
        if text not in self._index:
            self._index[text] = len(self.strings)
            self.strings.append(text)
        return self._index[text]

    def cell(self, ref: str, value) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
        if isinstance(value, datetime):
            return f'<c r="{ref}" s="{STYLE_DATETIME}"><v>{excel_serial(value)}</v></c>'
        if isinstance(value, date):
            return f'<c r="{ref}" s="{STYLE_DATE}"><v>{excel_serial(value)}</v></c>'
        if isinstance(value, (int, float)):
            return f'<c r="{ref}"><v>{value!r}</v></c>'
        return f'<c r="{ref}" t="s"><v>{self.sst(str(value))}</v></c>'

    def formula(self, ref: str, formula: str, cached) -> str:
        f = _xml_text(formula.lstrip("="))
        if cached is None:
            return f'<c r="{ref}"><f>{f}</f></c>'
        if isinstance(cached, bool):
            return f'<c r="{ref}" t="b"><f>{f}</f><v>{int(cached)}</v></c>'
        if isinstance(cached, (int, float)):
            return f'<c r="{ref}"><f>{f}</f><v>{cached!r}</v></c>'
        return f'<c r="{ref}" t="str"><f>{f}</f><v>{_xml_text(str(cached))}</v></c>'

    def row(self, r: int, values: Sequence) -> str:
        cells = "".join(self.cell(f"{col_letter(c)}{r}", v) for c, v in enumerate(values))
        return f'<row r="{r}">{cells}</row>'

    def shared_strings_xml(self) -> str:
        items = "".join(f'<si><t xml:space="preserve">{_xml_text(s)}</t></si>'
                        for s in self.strings)
        n = len(self.strings)
        return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                f'<sst xmlns="{_NS_MAIN}" count="{n}" uniqueCount="{n}">{items}</sst>')


def _write_raw_xlsx(path: Path, sheet: _RawSheet, row_chunks: Iterable[str], dimension: str,
                    sheet_name: str = "Sheet1") -> Path:
    workbook = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                f'<workbook xmlns="{_NS_MAIN}" xmlns:r="{_NS_REL}"><sheets>'
                f'<sheet name="{_xml_text(sheet_name)}" sheetId="1" r:id="rId1"/>'
                f'</sheets></workbook>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr("[Content_Types].xml", _CONTENT_TYPES)
        zf.writestr("_rels/.rels", _ROOT_RELS)
        zf.writestr("xl/workbook.xml", workbook)
        zf.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        zf.writestr("xl/styles.xml", _STYLES)
        with zf.open("xl/worksheets/sheet1.xml", "w") as fh:
            fh.write((f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                      f'<worksheet xmlns="{_NS_MAIN}" xmlns:r="{_NS_REL}">'
                      f'<dimension ref="{dimension}"/><sheetData>').encode())
            batch: list[str] = []
            for chunk in row_chunks:
                batch.append(chunk)
                if len(batch) >= 5_000:
                    fh.write("".join(batch).encode())
                    batch.clear()
            fh.write("".join(batch).encode())
            fh.write(b"</sheetData></worksheet>")
        zf.writestr("xl/sharedStrings.xml", sheet.shared_strings_xml())
    return path


def write_xlsx_with_formula(path: Path | str, header: Sequence, rows: list[list],
                            formula_col: int | str) -> Path:
    """An .xlsx whose formula_col holds formulas WITH cached values, as Excel saves them.

    formula_col is a 0-based index or a column letter.  For each data row, the
    value in that column is either a tuple (formula, cached_value) - the
    formula may use "{r}" for the row number, e.g. ("K{r}+L{r}", 350) - or a
    plain value: then the formula is the sum of the two cells to its left
    (``=K2+L2``) and the value is its cached result (None: computed from those
    two cells).  openpyxl cannot write cached values, hence the hand-written XML.
    """
    path = _target(path, "formula.xlsx")
    fc = _col_index(formula_col)
    if fc < 2:
        raise ValueError("the default formula needs two columns left of formula_col")
    sheet = _RawSheet()
    left, right = col_letter(fc - 2), col_letter(fc - 1)

    def chunks() -> Iterable[str]:
        yield sheet.row(1, header)
        for r, row in enumerate(rows, start=2):
            cells = []
            for c, value in enumerate(row):
                ref = f"{col_letter(c)}{r}"
                if c != fc:
                    cells.append(sheet.cell(ref, value))
                    continue
                if isinstance(value, tuple):
                    formula, cached = value
                    formula = formula.format(r=r)
                else:
                    formula, cached = f"{left}{r}+{right}{r}", value
                    if cached is None:
                        a, b = row[fc - 2], row[fc - 1]
                        if isinstance(a, (int, float)) and isinstance(b, (int, float)):
                            cached = a + b
                cells.append(sheet.formula(ref, formula, cached))
            yield f'<row r="{r}">{"".join(cells)}</row>'

    width = max([len(header), *(len(r) for r in rows)])
    return _write_raw_xlsx(path, sheet, chunks(), f"A1:{col_letter(width - 1)}{len(rows) + 1}")


def write_blank_rows_xlsx(path: Path | str, header: Sequence, n_blank: int = 200_000, *,
                          row: Sequence | None = None, empty_strings: bool = False) -> Path:
    """A header, one data row, then n_blank rows that exist in the XML but hold nothing.

    Each blank row has cells in the first and last header column: styled empty
    cells (a fill, no value) by default, or cells holding the empty string
    (shared string "") with empty_strings=True.  The sheet's dimension covers
    them all, as when someone formatted whole columns or cleared a range.
    """
    path = _target(path, "blank_rows.xlsx")
    sheet = _RawSheet()
    last = col_letter(len(header) - 1)
    data = list(row) if row is not None else [f"{h}1" for h in header]
    total = n_blank + 2

    def chunks() -> Iterable[str]:
        yield sheet.row(1, header)
        yield sheet.row(2, data)
        cols = ["A"] if last == "A" else ["A", last]
        if empty_strings:
            empty = sheet.sst("")
            cells = "".join(f'<c r="{c}{{r}}" t="s"><v>{empty}</v></c>' for c in cols)
        else:
            cells = "".join(f'<c r="{c}{{r}}" s="{STYLE_FILLED}"/>' for c in cols)
        tmpl = f'<row r="{{r}}">{cells}</row>'
        for r in range(3, total + 1):
            yield tmpl.format(r=r)

    return _write_raw_xlsx(path, sheet, chunks(), f"A1:{last}{total}")


def write_huge_cell_xlsx(path: Path | str, header: Sequence, row: Sequence, col: int | str,
                         size: int = 2_000_000) -> Path:
    """One data row whose cell at col holds a string of `size` characters.

    Excel caps a cell at 32,767 characters and openpyxl silently truncates to
    that, but files written by scripts can exceed it: hence raw XML.
    """
    path = _target(path, "huge_cell.xlsx")
    c = _col_index(col)
    unit = "客户反映车辆异响，已检查底盘并紧固螺丝；"
    text = (unit * (size // len(unit) + 1))[:size]
    values = list(row) + [None] * max(0, c + 1 - len(row))
    values[c] = text
    sheet = _RawSheet()
    width = max(len(header), len(values))
    return _write_raw_xlsx(path, sheet, [sheet.row(1, header), sheet.row(2, values)],
                           f"A1:{col_letter(width - 1)}2")
