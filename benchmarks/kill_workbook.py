"""Kill a process with SIGKILL while it writes a workbook; count what is left at the path.

    python benchmarks/kill_workbook.py [--points 40] [--rows 6000]

Each kill point starts a child that writes a rejects workbook of ROWS rows over an
existing one and kills it DELAY ms after the write starts, the delays spread evenly
over the time a whole write takes. Run twice: through files.write_atomic (what
crmcli does) and with openpyxl saving straight to the path (what it did before).
Prints, for each way, how many kills left the old file, the whole new file, or a
damaged/empty file.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import sys
sys.path.insert(0, sys.argv[2])
import openpyxl
from crmcli import files
from crmcli.excel import write_rows_xlsx
rows = [[f"客户{i}", f"1390000{i:04d}", "=HYPERLINK(\"x\")", i] for i in range(int(sys.argv[3]))]
if sys.argv[4] == "atomic":
    real = files.write_atomic
    def announced(path, write, **kw):
        print("writing", flush=True)
        return real(path, write, **kw)
    files.write_atomic = announced
    write_rows_xlsx(sys.argv[1], {"rejects": rows})
else:  # the old way: openpyxl writes straight to the final path
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("rejects")
    for r in rows:
        ws.append(r)
    print("writing", flush=True)
    wb.save(sys.argv[1])
"""


def verdict(path: Path, old: bytes, rows: int) -> str:
    if not path.exists():
        return "missing"
    data = path.read_bytes()
    if data == old:
        return "old file"
    try:
        import openpyxl

        ws = openpyxl.load_workbook(path, read_only=True).worksheets[0]
        n = sum(1 for _ in ws.iter_rows())
        return "whole new file" if n == rows else f"partial ({n} rows)"
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError):
        return "damaged"


def run(way: str, points: int, rows: int) -> dict:
    import openpyxl

    folder = Path(tempfile.mkdtemp())
    path = folder / "rejects.xlsx"
    wb = openpyxl.Workbook()
    wb.active["A1"] = "old"
    wb.save(path)
    old = path.read_bytes()
    # How long a whole write takes, to spread the kill points over it.
    t0 = time.perf_counter()
    p = subprocess.Popen([sys.executable, "-c", CHILD, str(path), str(ROOT), str(rows), way],
                         stdout=subprocess.PIPE, text=True)
    p.stdout.readline()
    t1 = time.perf_counter()
    p.wait()
    span = max(time.perf_counter() - t1, 0.01) * 1.3
    path.write_bytes(old)
    tally: dict[str, int] = {}
    for i in range(points):
        delay = span * i / points
        p = subprocess.Popen([sys.executable, "-c", CHILD, str(path), str(ROOT), str(rows), way],
                             stdout=subprocess.PIPE, text=True)
        p.stdout.readline()
        time.sleep(delay)
        os.kill(p.pid, signal.SIGKILL)
        p.wait()
        v = verdict(path, old, rows)
        tally[v] = tally.get(v, 0) + 1
        for leftover in folder.glob(".rejects.xlsx.*"):
            leftover.unlink()
        path.write_bytes(old)
    return {"write_ms": round(span / 1.3 * 1000), "total_ms": round((t1 - t0) * 1000), **tally}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--points", type=int, default=40)
    ap.add_argument("--rows", type=int, default=6000)
    a = ap.parse_args()
    for way in ("in place (before)", "atomic (now)"):
        r = run("atomic" if way.startswith("atomic") else "inplace", a.points, a.rows)
        print(f"{way:18} {a.points} kills over a {r.pop('write_ms')} ms write: "
              + ", ".join(f"{k} {v}" for k, v in sorted(r.items()) if k != "total_ms"))


if __name__ == "__main__":
    main()
