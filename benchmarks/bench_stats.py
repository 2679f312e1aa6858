"""Benchmark: the monthly callback report on 1,000,000 tasks and their logged calls.

    python benchmarks/bench_stats.py [--tasks 1000000] [--runs 5]

Builds (once, cached in benchmarks/out/) a database of tasks spread over 24
months with calls logged on about 70% of them (outcomes, scores, notes with
#tags), complaints and actions, on top of a small customer file; then times
`crmcli stats --month` as a whole process, its --json form and the --xlsx
workbook, and prints the figures beside the goal (under 2 s).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
KINDS = ["post_repair", "regular_maintenance", "first_maintenance", "insurance_commercial",
         "insurance_compulsory", "inspection", "delivery_call", "warranty_check", "recovery"]
CLERKS = ["小李", "小王", "小张", "小陈"]
OUTCOMES = ["reached"] * 6 + ["no_answer"] * 2 + ["busy", "wrong_number", "refused", "not_owner"]


def build(path: Path, n_tasks: int, end: date, seed: int = 7) -> None:
    sys.path.insert(0, str(HERE.parent))
    from crmcli import db as dbmod

    rnd = random.Random(seed)
    if path.exists():
        path.unlink()
    database = dbmod.connect(path)
    conn = database.conn
    conn.execute("PRAGMA synchronous = OFF")
    n_customers = 50_000
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO customers (id, merge_key, name, mobile, created_at, updated_at)"
        " VALUES (?,?,?,?,?,?)",
        ((i, f"m:1390000{i:04d}:{i}", f"客户{i}", f"139{i:08d}", "x", "x")
         for i in range(1, n_customers + 1)))
    conn.executemany(
        "INSERT INTO vehicles (id, plate, customer_id, delivery_date, created_at, updated_at)"
        " VALUES (?,?,?,?,?,?)",
        ((i, f"粤B{i:05d}", i, (end - timedelta(days=rnd.randint(30, 3000))).isoformat(), "x", "x")
         for i in range(1, n_customers + 1)))
    start = end - timedelta(days=730)
    tasks, calls = [], []
    call_id = 0
    for t in range(1, n_tasks + 1):
        due = start + timedelta(days=rnd.randint(0, 730))
        kind = rnd.choice(KINDS)
        cid = rnd.randint(1, n_customers)
        state = rnd.choice(["done", "done", "done", "open", "missed", "unreachable", "merged"])
        tasks.append((t, f"{kind}:{t}", kind, cid, cid, due.isoformat(),
                      (due + timedelta(days=12)).isoformat(), "call", 50, "r", state, "x", "x"))
        if state != "merged" and rnd.random() < 0.7:
            for _ in range(rnd.choice([1, 1, 1, 2])):
                call_id += 1
                outcome = rnd.choice(OUTCOMES)
                at = f"{due + timedelta(days=rnd.randint(0, 3))} {rnd.randint(9, 17):02d}:30"
                scores = [rnd.choice([3, 4, 4, 5, 5, 5]) if outcome == "reached" else None
                          for _ in range(6)]
                note = rnd.choice([None, None, "#异响", "#等待时间长 客户急", "#价格"])
                calls.append((call_id, t, cid, rnd.choice(CLERKS), at, at, outcome, *scores, note))
    conn.executemany(
        "INSERT INTO tasks (id, key, kind, customer_id, vehicle_id, due_date, expires_on, channel,"
        " weight, reason, state, planned_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", tasks)
    conn.executemany(
        "INSERT INTO calls (id, task_id, customer_id, clerk, called_at, logged_at, outcome,"
        " score_overall, score_advisor, score_quality, score_timeliness, score_price,"
        " score_cleanliness, note) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", calls)
    complaints = []
    for k in range(1, 3001):
        opened = datetime.combine(start, dtime(10)) + timedelta(days=rnd.randint(0, 730))
        complaints.append((k, rnd.randint(1, n_customers), rnd.choice(["维修质量", "服务态度", "价格"]),
                           "投诉", "closed", opened.isoformat(sep=" ", timespec="minutes"), "x",
                           (opened + timedelta(hours=4)).isoformat(sep=" ", timespec="minutes"),
                           (opened + timedelta(days=1)).isoformat(sep=" ", timespec="minutes"),
                           (opened + timedelta(hours=2)).isoformat(sep=" ", timespec="minutes"),
                           (opened + timedelta(hours=20)).isoformat(sep=" ", timespec="minutes"),
                           (opened + timedelta(days=2)).isoformat(sep=" ", timespec="minutes")))
    conn.executemany(
        "INSERT INTO complaints (id, customer_id, category, text, state, opened_at, opened_by,"
        " escalate_by, reply_by, escalated_at, replied_at, closed_at) VALUES"
        " (?,?,?,?,?,?,?,?,?,?,?,?)", complaints)
    conn.execute("COMMIT")
    conn.close()


def timed(cmd: list[str], env: dict) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--compare", type=Path, default=None,
                    help="Another checkout of crmcli (e.g. `git archive REV | tar -x -C DIR`) to "
                         "time the same way, run for run, on the same database: on a busy "
                         "machine the ratio says more than the seconds.")
    args = ap.parse_args()
    OUT.mkdir(exist_ok=True)
    end = date(2026, 11, 26)
    path = OUT / f"stats_{args.tasks}.db"
    if not path.exists():
        t = time.perf_counter()
        build(path, args.tasks, end)
        print(f"built {path.name} in {time.perf_counter() - t:.1f} s")
    script = Path(sys.executable).parent / "crmcli"
    # The installed console script when there is one; else this checkout run as a module.
    crmcli = [str(script)] if script.exists() else [sys.executable, "-m", "crmcli.cli"]
    env = dict(os.environ, COLUMNS="100", PYTHONPATH=str(HERE.parent))
    month = ["--db", str(path), "stats", "--month", "2026-10", "--date", "2026-11-26"]
    figures = {}
    other_env = dict(env, PYTHONPATH=str(args.compare)) if args.compare else None
    other = [sys.executable, "-m", "crmcli.cli"]
    for label, extra in (("table", []), ("json", ["--json"]),
                         ("xlsx", ["--xlsx", str(OUT / "report.xlsx")])):
        runs, before = [], []
        for _ in range(args.runs):  # alternate, so both see the same load
            runs.append(timed([*crmcli, *month, *extra], env))
            if other_env:
                before.append(timed([*other, *month, *extra], other_env))
        figures[label] = {"median_s": round(statistics.median(runs), 3), "min_s": round(min(runs), 3)}
        if before:
            figures[label]["compare_median_s"] = round(statistics.median(before), 3)
    floor = [timed([sys.executable, "-c", "import typer, rich.table, sqlite_utils"], env)
             for _ in range(args.runs)]
    figures["floor"] = {"median_s": round(statistics.median(floor), 3)}
    print(f"{'stats --month 2026-10':<28} median s   min s   goal")
    for label in ("table", "json", "xlsx"):
        f = figures[label]
        ok = "met" if f["median_s"] < 2 else "MISSED"
        vs = (f"   {args.compare.name}: {f['compare_median_s']:.3f} s, ratio "
              f"{f['median_s'] / f['compare_median_s']:.2f}" if "compare_median_s" in f else "")
        print(f"  {label:<26} {f['median_s']:>8.3f} {f['min_s']:>7.3f}   < 2 s {ok}{vs}")
    print(f"  floor (typer, rich, sqlite_utils imports) {figures['floor']['median_s']:.3f} s")
    (OUT / "stats.json").write_text(json.dumps({"tasks": args.tasks, **figures}, indent=1))


if __name__ == "__main__":
    main()
