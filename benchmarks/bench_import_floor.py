#!/usr/bin/env python3
"""The floor under the import goal: the bare read plus only the SQLite writes of an import.

    python benchmarks/bench_import_floor.py [--reps 3]

Imports bench_import.py's 100,000-row file once with crmcli, then, for each
repetition, reads the file with calamine (as bench_import's bare read does)
and writes the very rows that import wrote, precomputed, the way the importer
writes them (secondary indexes of the empty tables built after the rows, the
orders and their row prints in 20 batches, one transaction). No cell is
parsed and no row merged. The ratio to the bare read is the least any
importer that stores these tables can reach on this machine; the goal is 2.0.
"""

from __future__ import annotations

import argparse
import gc
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import bench_import  # the file and its day (found through the path set above)

TABLES = ("customers", "vehicles", "repair_orders", "order_row_prints", "vehicle_owners",
          "vehicle_facts")
BATCHES = 20


def read(path: Path) -> float:
    import python_calamine as pc

    t0 = time.perf_counter()
    wb = pc.CalamineWorkbook.from_path(str(path))
    for meta in wb.sheets_metadata:
        if meta.visible == pc.SheetVisibleEnum.Visible:
            for _row in wb.get_sheet_by_name(meta.name).iter_rows():
                pass
    return time.perf_counter() - t0


def write(conn: sqlite3.Connection, data: dict[str, tuple[list[str], list[tuple]]]) -> None:
    def insert(table: str, rows: list[tuple]) -> None:
        cols = data[table][0]
        conn.executemany(f"INSERT INTO {table} ({','.join(cols)})"
                         f" VALUES ({','.join('?' * len(cols))})", rows)

    conn.execute("BEGIN IMMEDIATE")
    dropped = []
    for table in ("customers", "vehicles", "repair_orders"):
        for name, sql in conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?"
                " AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%'", (table,)).fetchall():
            conn.execute(f'DROP INDEX "{name}"')
            dropped.append(sql)
    insert("customers", data["customers"][1])
    insert("vehicles", data["vehicles"][1])
    orders, prints = data["repair_orders"][1], data["order_row_prints"][1]
    for k in range(BATCHES):
        insert("repair_orders", orders[k * len(orders) // BATCHES:(k + 1) * len(orders) // BATCHES])
        insert("order_row_prints", prints[k * len(prints) // BATCHES:(k + 1) * len(prints) // BATCHES])
    for sql in dropped:
        conn.execute(sql)
    insert("vehicle_owners", data["vehicle_owners"][1])
    insert("vehicle_facts", data["vehicle_facts"][1])
    conn.execute("COMMIT")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--reps", type=int, default=3, help="repetitions (default: %(default)s)")
    args = p.parse_args()
    from crmcli import db as crmdb
    from crmcli import importing

    bench_import.OUT.mkdir(exist_ok=True)
    path = bench_import.build_file(100_000)
    with tempfile.TemporaryDirectory(dir=bench_import.OUT) as work:
        source = crmdb.connect(Path(work) / "imported.db")
        t0 = time.perf_counter()
        importing.import_file(source, path, "orders", today=bench_import.TODAY)
        imported = time.perf_counter() - t0
        data = {}
        for table in TABLES:
            cols = [r[1] for r in source.conn.execute(f"PRAGMA table_info({table})")]
            data[table] = (cols, source.conn.execute(
                f"SELECT {','.join(cols)} FROM {table} ORDER BY rowid").fetchall())
        source.conn.close()
        gc.disable()
        bare, floor = [], []
        for rep in range(args.reps):
            bare.append(read(path))
            db_path = Path(work) / f"floor{rep}.db"
            conn = crmdb.connect(db_path).conn
            t0 = time.perf_counter()
            read(path)
            write(conn, data)
            floor.append(time.perf_counter() - t0)
            conn.close()
            print(f"  bare read {bare[-1]:.2f} s, read + writes {floor[-1]:.2f} s,"
                  f" ratio {floor[-1] / bare[-1]:.2f}", flush=True)
    b, f = statistics.median(bare), statistics.median(floor)
    rows = {t: len(data[t][1]) for t in TABLES}
    print(f"\nrows written: {rows}")
    print(f"crmcli import (this run, once):     {imported:.2f} s, {imported / b:.2f} x the bare read")
    print(f"bare read (median):                 {b:.2f} s")
    print(f"read + the import's writes (median): {f:.2f} s, {f / b:.2f} x the bare read (goal 2.0)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
