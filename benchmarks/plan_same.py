#!/usr/bin/env python3
"""Check that two checkouts plan the same tasks: every column of every task, sorted.

Usage::

    python benchmarks/plan_same.py OTHER_CHECKOUT                  # the sample, 14 days, 3 settings
    python benchmarks/plan_same.py OTHER_CHECKOUT --big            # also the large file's bench day
    python benchmarks/plan_same.py OTHER_CHECKOUT --big --days 3   # ... and the days after it

A speed-up of the planner must not change what is planned. For each case the
script runs this checkout and ``OTHER_CHECKOUT`` (e.g. ``git worktree add
/tmp/before main``) in their own processes, each on its own copy of the data,
and compares what they leave in ``tasks`` after each day planned, and each
run's counts. The clock that stamps ``planned_at``/``updated_at`` is fixed to
the day planned, so the stamps compare too.

* **sample**: ``sample_data/generate.py`` for 2026-11-26 (seed 7) and for
  2027-03-15 (seed 11, 600 customers), imported, then planned on 14 days from
  the import's day to 320 days after it, every third one forced and each
  planned a second time without force; with the default settings, and on the
  first sample also with a contact window of 0 (nothing combined).
* **--big**: ``benchmarks/out/big.db`` (``make_big_db.py``), planned from
  scratch on 2026-11-26 and, with ``--days N``, on the N-1 working days after
  it (so stored tasks are updated, withdrawn and closed as missed).

Prints ``same`` or the first differences, and exits 1 on a difference.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

CHILD = r'''
import copy, json, sys
from datetime import date, timedelta
from pathlib import Path
tree, mode, data, day0, out, window, ndays = sys.argv[1:8]
sys.path.insert(0, tree)
import crmcli
assert crmcli.__file__.startswith(tree), crmcli.__file__
from crmcli import clock, db as dbmod, planner, settings as st
S = copy.deepcopy(st.DEFAULTS)
if window != "-":
    S["planning"]["contact_window_days"] = int(window)
d0 = date.fromisoformat(day0)
if mode == "sample":
    from crmcli import importing
    db = dbmod.connect(Path(out).with_suffix(".db"))
    importing.import_file(db, Path(data) / "delivery_list.xlsx", "vehicles", today=d0)
    importing.import_file(db, Path(data) / "dms_orders.xlsx", "orders", today=d0)
    days = [d0 + timedelta(days=n) for n in (0, 1, 2, 4, 11, 25, 40, 56, 77, 100, 140, 200,
                                             260, 320)]
else:
    db = dbmod.connect(data)
    wc = planner.work_calendar(S)
    days = [d0]
    while len(days) < int(ndays):
        days.append(wc.next_working_day(days[-1]))
cols = [c[1] for c in db.conn.execute("PRAGMA table_info(tasks)")]
runs, states = [], []
for i, d in enumerate(days):
    clock.stamp = lambda t=None, d=d: (f"{d}T08:00:00" if t is None
                                       else t.isoformat(timespec="seconds"))
    force = mode == "big" and i == 0 or mode == "sample" and i % 3 == 2
    runs.append(planner.plan(db, d, S, force=force).as_dict())
    if mode == "sample":
        runs.append(planner.plan(db, d, S).as_dict())
    rows = db.conn.execute(f"SELECT {', '.join(cols)} FROM tasks ORDER BY key").fetchall()
    states.append({"day": d.isoformat(), "rows": [list(r) for r in rows]})
Path(out).write_text(json.dumps({"cols": cols, "runs": runs, "states": states},
                                ensure_ascii=False, default=str))
'''


def run_child(tree: Path, mode: str, data: Path, day: str, out: Path, window: str,
              ndays: int) -> dict:
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    subprocess.run([sys.executable, "-c", CHILD, str(tree), mode, str(data), day, str(out),
                    window, str(ndays)], check=True, env=env, cwd=tree)
    return json.loads(out.read_text())


def compare(label: str, a: dict, b: dict) -> bool:
    if a == b:
        n = [len(s["rows"]) for s in a["states"]]
        print(f"{label}: same ({len(a['runs'])} plans; tasks after each day: {n})")
        return True
    print(f"{label}: DIFFERENT")
    for ra, rb in zip(a["runs"], b["runs"]):
        if ra != rb:
            print(f"  run counts: this {ra}\n              other {rb}")
            break
    for sa, sb in zip(a["states"], b["states"]):
        if sa != sb:
            ka = {tuple(r) for r in sa["rows"]}
            kb = {tuple(r) for r in sb["rows"]}
            print(f"  after {sa['day']}: {len(ka - kb)} rows only here, {len(kb - ka)} only"
                  " in the other; e.g.")
            for r in sorted(ka - kb, key=str)[:3]:
                print("   this ", dict(zip(a["cols"], r)))
            for r in sorted(kb - ka, key=str)[:3]:
                print("   other", dict(zip(a["cols"], r)))
            break
    return False


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("other", type=Path, help="the other checkout (its root folder)")
    p.add_argument("--big", action="store_true", help="also the large file (make_big_db.py)")
    p.add_argument("--days", type=int, default=1, help="working days planned on the large file")
    p.add_argument("--db", type=Path, default=HERE / "out" / "big.db")
    args = p.parse_args(argv)
    other = args.other.resolve()
    same = True
    with tempfile.TemporaryDirectory(prefix="plan_same_") as tmp:
        tmp = Path(tmp)
        cases = []
        for day, seed, customers, windows in (("2026-11-26", 7, None, ("-", "0")),
                                              ("2027-03-15", 11, 600, ("-",))):
            data = tmp / f"sample_{day}"
            cmd = [sys.executable, str(ROOT / "sample_data" / "generate.py"), "--date", day,
                   "--seed", str(seed), "--out", str(data)]
            if customers:
                cmd += ["--customers", str(customers)]
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            cases += [(f"sample {day}, window {w}", "sample", data, day, w) for w in windows]
        if args.big:
            if not args.db.exists():
                sys.exit(f"{args.db} does not exist: run benchmarks/make_big_db.py first")
            cases.append((f"{args.db.name} from 2026-11-26, {args.days} day(s)", "big", args.db,
                          "2026-11-26", "-"))
        for i, (label, mode, data, day, window) in enumerate(cases):
            got = []
            for side, tree in (("this", ROOT), ("other", other)):
                src = data
                if mode == "big":
                    src = tmp / f"{side}.db"
                    shutil.copyfile(data, src)
                got.append(run_child(tree, mode, src, day, tmp / f"{i}_{side}.json", window,
                                     args.days))
                if mode == "big":
                    src.unlink()
            same = compare(label, *got) and same
    print("same" if same else "DIFFERENT")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
