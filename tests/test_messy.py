"""The messy-file builders and the sample-data generator produce what they claim."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import sys
import zipfile
from datetime import date, datetime
from pathlib import Path

import messy
import msoffcrypto
import pytest
import python_calamine

ROOT = Path(__file__).resolve().parent.parent
HEADER = ["工单号", "车牌号码", "工时费", "材料费", "合计金额", "结算日期"]


def _load_generator():
    spec = importlib.util.spec_from_file_location("sample_generate",
                                                  ROOT / "sample_data" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


gen = _load_generator()


def read(path: Path, sheet: int | str = 0, **kw) -> list[list]:
    wb = python_calamine.CalamineWorkbook.from_path(str(path))
    s = wb.get_sheet_by_name(sheet) if isinstance(sheet, str) else wb.get_sheet_by_index(sheet)
    return s.to_python(**kw)


# --------------------------------------------------------------------------
# check digits used by the generator

def test_check_digits():
    assert gen.vin_is_valid("1M8GDM9AXKP042788")          # the textbook example, check 'X'
    assert not gen.vin_is_valid("1M8GDM9A1KP042788")
    assert gen.id_is_valid("11010519491231002X")
    assert not gen.id_is_valid("110105194912310021")
    vin = gen.make_vin("LVG", "BF1EK", 2025, "G", 123_456)
    assert gen.vin_is_valid(vin) and vin[9] == "S" and "I" not in vin and "O" not in vin
    idno = gen.make_id_number("440305", date(1988, 2, 29), 123)
    assert gen.id_is_valid(idno) and idno[6:14] == "19880229"
    for row in messy.DEFAULT_ROWS[1:]:
        assert gen.vin_is_valid(row[2])


# --------------------------------------------------------------------------
# builders

def test_write_xlsx_titles_hidden_sheet_and_dates(tmp_path):
    rows = [HEADER, ["RO2025030500123", "粤B12345", 150, 200.5, 350.5, date(2025, 3, 5)],
            [2025030512, "粤b12345", None, None, "¥1,234.50", datetime(2025, 3, 6, 9, 30)]]
    p = messy.write_xlsx(tmp_path / "a.xlsx", rows, title_rows=[["维修结算工单明细"], []],
                         hidden_sheet_first=True, sheet_name="工单明细")
    wb = python_calamine.CalamineWorkbook.from_path(str(p))
    meta = wb.sheets_metadata
    assert [m.name for m in meta] == ["参数", "工单明细"]
    assert meta[0].visible == python_calamine.SheetVisibleEnum.Hidden
    got = read(p, "工单明细", skip_empty_area=False)
    assert got[0][0] == "维修结算工单明细"
    assert got[2] == HEADER
    assert got[3][5] == date(2025, 3, 5)
    assert got[4][0] == 2025030512.0 and got[4][5] == datetime(2025, 3, 6, 9, 30)
    assert got[4][2] == "" and got[4][4] == "¥1,234.50"


def test_write_xlsx_without_date_format_gives_serials(tmp_path):
    p = messy.write_xlsx(tmp_path, [HEADER, ["RO1", "粤B1", 1, 2, 3, date(2025, 3, 5)]],
                         date_format_cells=False)
    assert p.name == "messy.xlsx"
    assert read(p)[1][5] == 45721.0 == messy.excel_serial(date(2025, 3, 5))


def test_write_xls(tmp_path):
    p = messy.write_xls(tmp_path / "a.xls", [HEADER, ["RO1", "粤B1", 1, 2.5, 3.5,
                                                      date(2025, 3, 5)]],
                        title_rows=[["标题"]])
    assert p.read_bytes()[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"   # OLE2 / BIFF8
    got = read(p)
    assert got[0][0] == "标题" and got[1] == HEADER
    assert got[2][0] == "RO1" and got[2][3] == 2.5 and got[2][5] == date(2025, 3, 5)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_write_csv(tmp_path, encoding):
    rows = [HEADER, ["RO1", "粤B·12345", 1, 2.0, "￥3.00", date(2025, 3, 5)]]
    p = messy.write_csv(tmp_path / "a.csv", rows, encoding=encoding, title_rows=[["维修明细"]])
    raw = p.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") == (encoding == "utf-8-sig")
    assert b"\r\n" in raw
    if encoding in ("gbk", "gb18030"):
        with pytest.raises(UnicodeDecodeError):
            raw.decode("utf-8")
    got = list(csv.reader(io.StringIO(raw.decode(encoding), newline="")))
    assert got[0] == ["维修明细"] and got[1] == HEADER
    assert got[2] == ["RO1", "粤B·12345", "1", "2.0", "￥3.00", "2025-03-05"]


def test_formula_cells_keep_cached_values(tmp_path):
    rows = [["RO1", "粤B1", 150, 200, None, date(2025, 3, 5)],
            ["RO2", "粤B2", 100.5, 20, ("C{r}+D{r}", 120.5), date(2025, 3, 6)],
            ["RO3", "粤B3", 1, 2, ("IF(C{r}>0,\"有\",\"无\")", "有"), None]]
    p = messy.write_xlsx_with_formula(tmp_path / "f.xlsx", HEADER, rows, "E")
    xml = zipfile.ZipFile(p).read("xl/worksheets/sheet1.xml").decode()
    assert '<c r="E2"><f>C2+D2</f><v>350</v></c>' in xml
    assert "<f>C3+D3</f>" in xml
    got = read(p)
    assert got[0] == HEADER
    assert [r[4] for r in got[1:]] == [350.0, 120.5, "有"]
    assert got[1][5] == date(2025, 3, 5)


def test_encrypted_xlsx(tmp_path):
    p = messy.write_encrypted_xlsx(tmp_path / "e.xlsx", messy.DEFAULT_ROWS, password="1234")
    assert not zipfile.is_zipfile(p)
    with p.open("rb") as fh:
        office = msoffcrypto.OfficeFile(fh)
        assert office.is_encrypted()
        office.load_key(password="1234")
        plain = io.BytesIO()
        office.decrypt(plain)
    plain.seek(0)
    wb = python_calamine.CalamineWorkbook.from_filelike(plain)
    assert wb.get_sheet_by_index(0).to_python()[1][0] == "RO2025030500123"
    with pytest.raises(python_calamine.PasswordError):
        read(p)


def test_html_saved_as_xls(tmp_path):
    p = messy.write_html_as_xls(tmp_path / "web.xls", encoding="gbk")
    raw = p.read_bytes()
    assert raw.lstrip().lower().startswith(b"<html")
    text = raw.decode("gbk")
    assert "<table" in text and text.count("<tr>") == len(messy.DEFAULT_ROWS)
    assert "欧阳娜" in text and "charset=gbk" in text
    with pytest.raises(python_calamine.CalamineError):
        read(p)


def test_truncated_xlsx(tmp_path):
    p = messy.write_truncated_xlsx(tmp_path / "t.xlsx")
    assert p.read_bytes()[:2] == b"PK" and p.stat().st_size > 1000
    assert not zipfile.is_zipfile(p)
    with pytest.raises(python_calamine.ZipError):
        read(p)


@pytest.mark.slow
@pytest.mark.parametrize("empty_strings", [False, True])
def test_blank_rows_xlsx(tmp_path, empty_strings):
    header = gen.ORDER_HEADER
    # No wall-clock bound here: how long the writer takes depends on the machine and its
    # load, so a time limit would fail for no defect (speed belongs in benchmarks/).
    p = messy.write_blank_rows_xlsx(tmp_path / "b.xlsx", header, empty_strings=empty_strings)
    xml = zipfile.ZipFile(p).read("xl/worksheets/sheet1.xml")
    assert xml.count(b"<row ") == 200_002
    assert b'<dimension ref="A1:O200002"/>' in xml
    got = read(p)
    assert got[0] == header and got[1][0] == "工单号1"
    if empty_strings:     # cells that hold "", so readers see 200,000 empty rows
        assert len(got) == 200_002 and not any(any(v != "" for v in r) for r in got[2:])
    else:                 # styled cells without values
        assert len(got) == 2


def test_zero_byte(tmp_path):
    p = messy.write_zero_byte(tmp_path / "z.xlsx")
    assert p.exists() and p.stat().st_size == 0


def test_huge_cell_xlsx(tmp_path):
    row = ["RO1", "粤B1", 1, 2, 3, "x"]
    p = messy.write_huge_cell_xlsx(tmp_path / "h.xlsx", HEADER, row, 5, size=2_000_000)
    got = read(p)
    assert got[1][:5] == ["RO1", "粤B1", 1.0, 2.0, 3.0]
    assert len(got[1][5]) == 2_000_000     # far over Excel's 32,767 cap


def test_csv_named_xlsx(tmp_path):
    p = messy.write_csv_named_xlsx(tmp_path / "c.xlsx", messy.DEFAULT_ROWS)
    assert p.suffix == ".xlsx" and not zipfile.is_zipfile(p)
    assert p.read_text(encoding="utf-8").splitlines()[0] == ",".join(messy.DEFAULT_HEADER)
    with pytest.raises(python_calamine.CalamineError):
        read(p)


def test_directory_targets_get_default_names(tmp_path):
    names = {messy.write_zero_byte(tmp_path).name, messy.write_html_as_xls(tmp_path).name,
             messy.write_truncated_xlsx(tmp_path).name}
    assert names == {"empty.xlsx", "web_export.xls", "truncated.xlsx"}


# --------------------------------------------------------------------------
# the sample-data generator

@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    out = tmp_path_factory.mktemp("sample")
    files = gen.generate(out, date(2026, 11, 26), customers=80, seed=11)
    manifest = json.loads(files["manifest.json"].read_text(encoding="utf-8"))
    return files, manifest


def test_sample_files_and_manifest(sample):
    files, m = sample
    assert set(files) == {"delivery_list.xlsx", "dms_orders.xlsx", "dms_orders.xls",
                          "dms_orders_gbk.csv", "manifest.json"}
    orders = read(files["dms_orders.xlsx"], "工单明细", skip_empty_area=False)
    xls = read(files["dms_orders.xls"], "工单明细", skip_empty_area=False)
    info = m["dms_orders.xlsx"]
    assert orders[info["header_row"] - 1] == gen.ORDER_HEADER
    assert orders[0][0] == gen.ORDERS_TITLE and orders[1][0].startswith("统计期间：")
    assert orders[info["totals_row"] - 1][0] == "合计"
    assert len(orders) == info["totals_row"]
    for r in info["blank_rows_at"]:
        assert all(v == "" for v in orders[r - 1])
    first_data = info["header_row"] + 1
    data = [r for r in orders[first_data - 1:-1] if any(v != "" for v in r)]
    assert len(data) == info["data_rows"]
    assert [r[0] for r in xls] == [r[0] for r in orders]       # same rows in the .xls
    bad_vins = {x["vin"] for x in info["invalid_vin"]}
    assert {r[2] for r in data if not gen.vin_is_valid(r[2])} == bad_vins
    reject = {x["row"]: x["reason"] for x in info["rows_to_reject"]}
    assert len(reject) == 2
    for row_no, reason in reject.items():
        row = orders[row_no - 1]
        assert (row[0] == "") if "order number" in reason else (row[6].endswith("-02-30"))
    lines = files["dms_orders_gbk.csv"].read_bytes().decode("gbk").splitlines()
    csv_info = m["dms_orders_gbk.csv"]
    assert lines[csv_info["header_row"] - 1] == ",".join(gen.ORDER_HEADER)
    shift = info["header_row"] - csv_info["header_row"]      # 2 title rows + a blank vs 1 title
    assert {x["row"] for x in csv_info["rows_to_reject"]} == {n - shift for n in reject}
    for x in csv_info["rows_to_reject"]:
        cells = next(csv.reader([lines[x["row"] - 1]]))
        assert cells[0] == "" if "order number" in x["reason"] else cells[6].endswith("-02-30")


def test_sample_delivery_list(sample):
    files, m = sample
    rows = read(files["delivery_list.xlsx"], "交车明细", skip_empty_area=False)
    info = m["delivery_list.xlsx"]
    assert rows[0][0] == gen.COMPANY_TITLE and rows[1][0].startswith("导出时间：2026-11-25")
    assert rows[3] == gen.DELIVERY_HEADER
    data = [r for r in rows[4:-1] if any(v != "" for v in r)]
    assert len(data) == info["data_rows"]
    for r in data:
        idno = r[3]
        if idno:
            assert gen.id_is_valid(idno)
            assert (int(idno[16]) % 2 == 1) == (r[1] == "男")
            if isinstance(r[12], date):
                assert r[12] == date(int(idno[6:10]), int(idno[10:12]), int(idno[12:14]))
    care = m["care"]
    assert care["delivered_days_ago"]["1"] and care["delivered_days_ago"]["3"]
    assert care["delivered_days_ago"]["7"]
    assert care["birthdays_next_7_days"] and care["teachers"] >= 1
    assert care["newest_settlement"] == "2026-11-25"


def test_sample_is_deterministic(sample, tmp_path):
    files, _ = sample
    again = gen.generate(tmp_path, date(2026, 11, 26), customers=80, seed=11)
    for name in ("dms_orders_gbk.csv", "manifest.json"):
        assert again[name].read_bytes() == files[name].read_bytes()


def test_big_orders_export(tmp_path):
    p = gen.write_big_orders_xlsx(tmp_path / "big.xlsx", 3_000, date(2026, 11, 26), seed=1)
    rows = read(p)
    assert rows[3] == gen.ORDER_HEADER and len(rows) == 3_004
    assert len({str(r[0]) for r in rows[4:]}) == 3_000
