#!/usr/bin/env python3
"""The daily export of 10,000 SMS tasks as a whole process, beside the bare write.

    python benchmarks/bench_export.py [--tasks 10000] [--reps 3]

Builds a file with ``--tasks`` customers, each with a car whose 交强险 expires in
31 days (its SMS goes today, the call tomorrow), one in ten in 30 days (the
call is today too, so the call list has rows), planned once for today (the
real today: a service SMS is never too late, whatever the hour). For each repetition it copies that file and
times ``crmcli export --out DIR --quiet`` as a separate process (start-up,
plan, choosing, rendering, the CSV, the two workbooks, the ledger, the
marks), then times, in this process, the bare write of the very SMS rows the
export produced (read back from its CSV): one csv.writer CSV with BOM and
one openpyxl write-only workbook, nothing else. The ratio is process / bare.
A second export of the same day (everything already sent, files rewritten
from the ledger) is timed too.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

DAY = date.today()
SETTINGS = """[dealer]
short_name = "安达丰田"
hotline = "0755-86543210"
rescue = "400-800-1234"
address = "深圳市南山区科技园南路8号"
[planning]
contact_window_days = 0
"""
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"


def build(path: Path, settings_path: Path, n: int) -> None:
    from crmcli import db as dbmod
    from crmcli import planner
    from crmcli import settings as settings_mod
    from crmcli.facts import bulk_insert

    db = dbmod.connect(path)
    now = "2026-01-01"
    with dbmod.write_transaction(db), bulk_insert(db.conn):
        customers = [(i, f"m{i}", SURNAMES[i % len(SURNAMES)] + "明丽"[i % 2], "MF"[i % 2],
                      f"139{i:08d}", now, now) for i in range(1, n + 1)]
        db.conn.executemany("INSERT INTO customers (id, merge_key, name, gender, mobile,"
                            " created_at, updated_at) VALUES (?,?,?,?,?,?,?)", customers)
        vehicles = [(i, f"粤B{i:05d}", i, "卡罗拉",
                     (DAY + timedelta(days=30 if i % 10 == 0 else 31)).isoformat(), now, now)
                    for i in range(1, n + 1)]
        db.conn.executemany("INSERT INTO vehicles (id, plate, customer_id, model,"
                            " insurance_compulsory_expiry, created_at, updated_at)"
                            " VALUES (?,?,?,?,?,?,?)", vehicles)
    settings = settings_mod.load(settings_path)
    planner.plan(db, DAY, settings, as_of=DAY)
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.conn.close()


def export_process(dbfile: Path, settings_path: Path, out: Path) -> float:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CRMCLI_DB": str(dbfile),
           "CRMCLI_SETTINGS": str(settings_path)}
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "crmcli.cli", "export", "--out", str(out), "--date",
                    DAY.isoformat(), "--quiet"], env=env, check=True)
    return time.perf_counter() - t0


def bare_write(rows: list[list[str]], out: Path) -> float:
    from openpyxl import Workbook

    t0 = time.perf_counter()
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerows(rows)
    (out / "bare.csv").write_bytes(buf.getvalue().encode("utf-8-sig"))
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("短信")
    for r in rows:
        ws.append(r)
    wb.save(out / "bare.xlsx")
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", type=int, default=10_000)
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="crmcli-bench-export-"))
    try:
        settings_path = work / "settings.toml"
        settings_path.write_text(SETTINGS, encoding="utf-8")
        base = work / "base.db"
        t0 = time.perf_counter()
        build(base, settings_path, args.tasks)
        print(f"built {args.tasks:,} customers with an SMS due {DAY} in"
              f" {time.perf_counter() - t0:.1f} s")
        firsts, reruns, bares = [], [], []
        for rep in range(args.reps):
            dbfile, out = work / f"run{rep}.db", work / f"out{rep}"
            shutil.copy(base, dbfile)
            out.mkdir()
            firsts.append(export_process(dbfile, settings_path, out))
            reruns.append(export_process(dbfile, settings_path, out))
            csv_path = out / f"sms-{DAY.isoformat()}.csv"
            rows = list(csv.reader(io.StringIO(csv_path.read_text(encoding="utf-8-sig"))))
            assert len(rows) == args.tasks + 1, len(rows)
            bare_dir = work / f"bare{rep}"
            bare_dir.mkdir()
            bares.append(bare_write(rows, bare_dir))
        first, rerun, bare = (statistics.median(x) for x in (firsts, reruns, bares))
        figures = {
            "tasks": args.tasks, "reps": args.reps,
            "export_process_s": [round(x, 3) for x in firsts],
            "rerun_process_s": [round(x, 3) for x in reruns],
            "bare_csv_xlsx_s": [round(x, 3) for x in bares],
            "ratio_first_to_bare": round(first / bare, 2),
            "ratio_rerun_to_bare": round(rerun / bare, 2),
            "at": datetime.now().isoformat(timespec="seconds"),
        }
        print(f"export of {args.tasks:,} SMS as a process (median of {args.reps}): {first:.2f} s"
              f"  [{', '.join(f'{x:.2f}' for x in firsts)}]")
        print(f"same day again (rewrite from the ledger):  {rerun:.2f} s"
              f"  [{', '.join(f'{x:.2f}' for x in reruns)}]")
        print(f"bare csv + openpyxl write of the same rows: {bare:.2f} s"
              f"  [{', '.join(f'{x:.2f}' for x in bares)}]")
        print(f"ratio export / bare: {first / bare:.2f}; rerun / bare: {rerun / bare:.2f}")
        (HERE / "out").mkdir(exist_ok=True)
        (HERE / "out" / "bench_export.json").write_text(json.dumps(figures, indent=2))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
