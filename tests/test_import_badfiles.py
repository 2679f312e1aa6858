"""Bad files are refused with one line, a non-zero exit and the database as it was."""

from __future__ import annotations

from datetime import date

import messy
import pytest
from typer.testing import CliRunner

from crmcli import importing
from crmcli.cli import app
from crmcli.errors import FileRefused

TODAY = date(2026, 11, 26)
DATA_TABLES = ("customers", "vehicles", "vehicle_owners", "repair_orders", "row_problems", "changes")


def dump(database):
    return {t: database.conn.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall()
            for t in DATA_TABLES}


@pytest.fixture
def stocked(db, tmp_path):
    """A database that already holds a good import, so 'unchanged' means something."""
    path = messy.write_xlsx(tmp_path / "good.xlsx", messy.DEFAULT_ROWS)
    r = importing.import_file(db, path, "orders", today=TODAY)
    assert r.inserted == len(messy.DEFAULT_ROWS) - 1  # the first row is the header
    return db


BAD_FILES = {
    "zero-byte": (lambda p: messy.write_zero_byte(p / "empty.xlsx"), "empty"),
    "truncated": (lambda p: messy.write_truncated_xlsx(p / "cut.xlsx"), "damaged"),
    "html-as-xls": (lambda p: messy.write_html_as_xls(p / "web.xls"), "web page"),
    "encrypted": (lambda p: messy.write_encrypted_xlsx(p / "locked.xlsx",
                                                       messy.DEFAULT_ROWS),
                  "password"),
    "no-header": (lambda p: messy.write_xlsx(p / "nohead.xlsx", [["a", "b"], [1, 2], [3, 4]]),
                  "no header row"),
    "empty-sheet": (lambda p: messy.write_xlsx(p / "blank.xlsx", []), "no header row"),
    "binary-junk": (lambda p: _write(p / "junk.csv", b"\x00\x01\x02" * 100), "binary"),
    "missing": (lambda p: p / "nope.xlsx", "no such file"),
}


def _write(path, data: bytes):
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_file_is_refused_and_database_untouched(stocked, tmp_path, case):
    make, words = BAD_FILES[case]
    path = make(tmp_path)
    before = dump(stocked)
    with pytest.raises(FileRefused) as info:
        importing.import_file(stocked, path, "orders", today=TODAY)
    message = info.value.message
    assert words in message and "\n" not in message
    assert dump(stocked) == before


@pytest.mark.parametrize("case", ["truncated", "html-as-xls", "zero-byte", "encrypted"])
def test_cli_refuses_with_one_line_exit_2_and_logs_the_refusal(stocked, tmp_path, case):
    path = BAD_FILES[case][0](tmp_path)
    before = dump(stocked)
    result = CliRunner().invoke(app, ["import", "orders", str(path)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    lines = [x for x in result.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("crmcli: ")
    assert dump(stocked) == before
    status = stocked.conn.execute("SELECT status, file_name FROM imports ORDER BY id DESC LIMIT 1"
                                  ).fetchone()
    assert status == ("refused", path.name)


def test_csv_renamed_xlsx_is_read_by_its_content(db, tmp_path):
    path = messy.write_csv_named_xlsx(tmp_path / "really.xlsx",
                                      messy.DEFAULT_ROWS)
    r = importing.import_file(db, path, "orders", today=TODAY)
    assert r.format == "csv" and r.inserted == len(messy.DEFAULT_ROWS) - 1


@pytest.mark.slow
def test_sheet_of_200000_blank_rows_imports_the_real_row(db, tmp_path):
    row = messy.DEFAULT_ROWS[1]
    path = messy.write_blank_rows_xlsx(tmp_path / "blank.xlsx", messy.DEFAULT_HEADER,
                                       n_blank=200_000, row=row, empty_strings=True)
    r = importing.import_file(db, path, "orders", today=TODAY)
    assert (r.inserted, r.rejected, r.rows_read) == (1, 0, 1)


def test_huge_cell_is_cut_and_flagged_not_stored_whole(db, tmp_path):
    header = ["工单号", "结算日期", "维修项目"]
    path = messy.write_huge_cell_xlsx(tmp_path / "huge.xlsx", header, ["RO1", "2026-10-01", "x"],
                                      col=2, size=2_000_000)
    r = importing.import_file(db, path, "orders", today=TODAY)
    assert r.inserted == 1 and r.flagged == 1
    assert "longer than" in r.problems[0].reason
    stored = db.conn.execute("SELECT length(items) FROM repair_orders").fetchone()[0]
    assert stored == 2000


def test_failure_mid_merge_rolls_back_the_whole_file(stocked, tmp_path, monkeypatch):
    rows = [["RO-NEW-1", "粤B11111", "", "新客户", "13912345678", "2026-10-01", 100]]
    path = messy.write_xlsx(tmp_path / "new.xlsx", [messy.DEFAULT_HEADER] + rows)
    before = dump(stocked)

    def explode(self):
        raise RuntimeError("disk full")

    monkeypatch.setattr(importing.Merger, "flush", explode)
    with pytest.raises(RuntimeError):
        importing.import_file(stocked, path, "orders", today=TODAY)
    assert dump(stocked) == before
    assert stocked.conn.execute("SELECT count(*) FROM imports WHERE status='running'"
                                ).fetchone()[0] == 0


@pytest.mark.parametrize("sep", ["\t", ";", "|", ","])
def test_csv_with_a_title_line_and_any_common_separator(db, tmp_path, sep):
    lines = ["维修工单明细", sep.join(["工单号", "结算日期", "联系电话"]),
             sep.join(["R1", "2026-10-01", "13812345678"]), sep.join(["R2", "2026-10-02", ""])]
    path = tmp_path / "t.csv"
    path.write_text("\r\n".join(lines) + "\r\n", encoding="gbk")
    r = importing.import_file(db, path, "orders", today=TODAY)
    assert (r.inserted, r.rejected, r.header_row) == (2, 0, 2)


class _FailingSheet:
    """A sheet that the reader gives up on after three rows (a damaged file)."""

    def __init__(self, start):
        self.start = start

    def iter_rows(self):
        for n in range(3):
            yield ["工单号", "A", n]
        raise ValueError("malformed XML")


class _Workbook:
    def __init__(self, start):
        self.sheet = _FailingSheet(start)

    def get_sheet_by_name(self, name):
        return self.sheet


@pytest.mark.parametrize("start, first_row, padding", [((0, 0), 1, 0), ((4, 2), 5, 2)])
def test_a_sheet_that_fails_midway_names_the_last_row_read(start, first_row, padding):
    from pathlib import Path

    from crmcli import excel

    rows = excel._calamine_rows(Path("orders.xlsx"), _Workbook(start), "Sheet1")
    got = [next(rows) for _ in range(3)]
    # numbered as the sheet numbers them, and lined up with column A
    assert [n for n, _cells in got] == [first_row, first_row + 1, first_row + 2]
    assert got[0][1] == [""] * padding + ["工单号", "A", 0]
    with pytest.raises(FileRefused, match=rf"could not be read past row {first_row + 2} "
                                          r"\(malformed XML\)"):
        next(rows)
