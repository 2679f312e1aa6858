#!/usr/bin/env python3
"""Benchmark: planning a day and listing it (`crmcli today`) on a large customer file.

    python benchmarks/bench_plan.py [--reps 3] [--runs 10] [--keep] [--profile]

Builds (once, cached) benchmarks/out/big.db with make_big_db.py: 200,000
customers, 250,000 vehicles, 2,000,000 repair orders up to 2026-11-25. Every
measurement runs on a copy of it, in a fresh Python process:

a. plan 2026-11-26 from scratch (no tasks yet), ``plan(force=True)``;
b. plan it again with force (recomputes everything, must find nothing new);
b'. plan it again after a busy day's changes (see ``CHANGES``), without force,
   as ``today`` does after an import: only the changed customers are planned;
c. the implicit check: ``plan()`` without force when nothing changed;
d. plan the next day, 2026-11-27, as the daily run would;
e. ``crmcli today --json`` and the Rich table (COLUMNS=80) as whole processes
   against the floor ``python -c "import typer, rich.table, sqlite_utils"``,
   and ``crmcli --help`` against ``python -c "import typer, rich"``,
   interleaved run by run so that machine noise hits both alike. A minimal
   Typer app running one command is timed too, for reference;
f. the peak RSS of each planning process (os.wait4), and what ``crmcli today``
   imports beyond the floor (``-X importtime``).

Whole processes are timed in two environments, each with its own floor:

* ``installed``: this Python as it is. With the bench extra installed,
  pandas and numpy are importable, and sqlite_utils imports both whenever they
  are (~0.3 s, in the floor and in crmcli alike);
* ``no-pandas``: the same with pandas and numpy hidden (a stub on PYTHONPATH
  that raises ImportError), as on a clerk's machine with the runtime
  dependencies only.

Bytecode: PYTHONDONTWRITEBYTECODE is dropped and PYTHONPYCACHEPREFIX points
at benchmarks/out/pycache for the timed processes, so every module, crmcli's
own included, is compiled once (in the warm-up run) and not on every run,
as after a normal pip install.

The figures are printed as a table and written to benchmarks/out/plan.json.
``--profile`` instead profiles one plan from scratch and one ``today --json``
with cProfile (kept in benchmarks/out/plan.prof, today.prof) and prints the hot
spots. Linux/macOS only (os.wait4).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
DAY = date(2026, 11, 26)
BIG = OUT / "big.db"
CRMCLI = Path(sys.executable).parent / "crmcli"
FLOOR_TODAY = "import typer, rich.table, sqlite_utils"
FLOOR_HELP = "import typer, rich"
DEFAULT_SIZES = (200_000, 250_000, 2_000_000)
# A Typer app that does nothing: what running any Typer command costs.
TYPER_APP = '''\
from typing import Annotated, Optional
import typer
app = typer.Typer(add_completion=False, rich_markup_mode=None)
@app.command()
def today(day: Annotated[Optional[str], typer.Option("--date")] = None,
          as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    print("[]")
@app.command()
def other() -> None:
    pass
app()
'''

# A busy day for a large dealer, applied before b' (not timed): new orders for
# 1,000 cars (half of them maintenance), 1,000 re-exported orders with a new
# amount, 500 customers edited (a birthday), 100 opt-outs.
CHANGES = {"new_orders": 1000, "changed_orders": 1000, "edited_customers": 500, "optouts": 100}

# --------------------------------------------------------------------------- children


def apply_changes(store, day: date) -> None:
    import random

    rnd = random.Random(11)
    conn = store.conn
    n_c = conn.execute("SELECT max(id) FROM customers").fetchone()[0]
    n_o = conn.execute("SELECT max(id) FROM repair_orders").fetchone()[0]
    cars = conn.execute("SELECT id, customer_id FROM vehicles WHERE customer_id IS NOT NULL"
                        " ORDER BY random() LIMIT ?", (CHANGES["new_orders"],)).fetchall()
    yesterday = (day - timedelta(days=1)).isoformat()
    with conn:
        conn.executemany(
            "INSERT INTO repair_orders (order_no, vehicle_id, customer_id, order_date,"
            " date_settled, service_type, mileage, total_fen, created_at, updated_at)"
            " VALUES (?,?,?,?,?,?,?,?,?,?)",
            [(f"BENCH{i:06d}", vid, cid, yesterday, yesterday,
              "maintenance" if i % 2 else "repair", 20000 + i, 80000, yesterday, yesterday)
             for i, (vid, cid) in enumerate(cars)])
        conn.executemany("UPDATE repair_orders SET total_fen = coalesce(total_fen, 0) + 100 WHERE id = ?",
                         [(rnd.randint(1, n_o),) for _ in range(CHANGES["changed_orders"])])
        conn.executemany("UPDATE customers SET birthday = ? WHERE id = ?",
                         [(f"1980-{day.month:02d}-{day.day:02d}", rnd.randint(1, n_c))
                          for _ in range(CHANGES["edited_customers"])])
        conn.executemany("INSERT OR IGNORE INTO optouts (customer_id, what, since) VALUES (?,?,?)",
                         [(rnd.randint(1, n_c), "sms", yesterday)
                          for _ in range(CHANGES["optouts"])])


def child(case: str, db_path: str, day: str, settings_path: str) -> dict:
    """One planning call in this process; imports and opening are timed apart from it."""
    t0 = time.perf_counter()
    from crmcli import db as crmdb
    from crmcli import planner, settings

    t1 = time.perf_counter()
    cfg = settings.load(settings_path)
    store = crmdb.connect(db_path)
    if case == "changed":
        apply_changes(store, date.fromisoformat(day))
    t2 = time.perf_counter()
    result = planner.plan(store, date.fromisoformat(day), cfg, force=case == "force")
    t3 = time.perf_counter()
    tasks = dict(store.conn.execute("SELECT state, count(*) FROM tasks GROUP BY state"))
    store.conn.close()
    return {"seconds": t3 - t2, "import_s": round(t1 - t0, 3), "open_s": round(t2 - t1, 3),
            "result": result.as_dict(), "tasks_by_state": tasks}


# --------------------------------------------------------------------------- running


def run(cmd: list[str], env: dict | None = None, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE) -> tuple[float, float, int, str, str]:
    """Run cmd; return (wall seconds, peak RSS MB of that process, exit code, stdout, stderr).

    Output asked for with subprocess.PIPE goes through temporary files (no pipe
    can fill up), and the child is reaped with os.wait4 for its own peak RSS.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env,
                                stdout=out if stdout == subprocess.PIPE else stdout,
                                stderr=err if stderr == subprocess.PIPE else stderr)
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        peak_mb = usage.ru_maxrss / (2**20 if sys.platform == "darwin" else 2**10)
        out.seek(0)
        err.seek(0)
        return wall, peak_mb, proc.returncode, out.read().decode(), err.read().decode()


def environments(work: Path) -> dict[str, dict]:
    """The environments whole processes run in (see the module docstring)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("CRMCLI_") and k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(OUT / "pycache")
    env["COLUMNS"] = "80"
    hide = work / "hide-pandas"
    for name in ("pandas", "numpy"):
        (hide / name).mkdir(parents=True, exist_ok=True)
        (hide / name / "__init__.py").write_text(
            f"raise ImportError('{name} hidden by bench_plan.py')\n")
    no_pandas = dict(env, PYTHONPATH=os.pathsep.join(
        p for p in (str(hide), env.get("PYTHONPATH")) if p))
    return {"installed": env, "no-pandas": no_pandas}


def copy_db(src: Path, dst: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{dst}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(src, dst)
    if Path(f"{src}-wal").exists():
        shutil.copyfile(f"{src}-wal", f"{dst}-wal")


def plan_runs(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT count(*) FROM plan_runs").fetchone()[0]
    finally:
        conn.close()


# --------------------------------------------------------------------------- planning


def plan_child(case: str, db: Path, day: date, settings: Path, env: dict, label: str) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", case, str(db),
           day.isoformat(), str(settings)]
    wall, peak, code, out, err = run(cmd, env=env)
    if code != 0:
        sys.exit(f"{label}: exit code {code}\n{err}")
    r = json.loads(out.strip().splitlines()[-1])
    r["wall_s"], r["peak_mb"] = wall, peak
    res = r["result"]
    print(f"  {label}: plan {r['seconds']:.3f} s (process {wall:.2f} s, {peak:.0f} MB)"
          f"  created={res['created']} updated={res['updated']} merged={res['merged']}"
          f" withdrawn={res['withdrawn']} missed={res['missed']} open={res['open']}"
          f"{' skipped' if res['skipped'] else ''} scope={res.get('scope')}"
          f" customers={res.get('customers')}", flush=True)
    return r


def summarise(runs: list[dict]) -> dict:
    secs = [r["seconds"] for r in runs]
    return {"seconds": [round(s, 4) for s in secs], "median_s": round(statistics.median(secs), 4),
            "min_s": round(min(secs), 4),
            "process_median_s": round(statistics.median(r["wall_s"] for r in runs), 3),
            "peak_mb": round(max(r["peak_mb"] for r in runs), 1),
            "import_s": runs[-1]["import_s"], "open_s": runs[-1]["open_s"],
            "result": runs[-1]["result"], "tasks_by_state": runs[-1]["tasks_by_state"]}


def planning(work: Path, settings: Path, env: dict, reps: int) -> tuple[dict, Path]:
    scratch, planned, nxt = work / "scratch.db", work / "planned.db", work / "next.db"
    r: dict = {}

    def on_copies(case: str, src: Path, dst: Path, day: date, label: str) -> dict:
        """`reps` runs of one case, each on a fresh copy of src."""
        runs = []
        for i in range(reps):
            copy_db(src, dst)
            runs.append(plan_child(case, dst, day, settings, env, f"{label} #{i + 1}"))
        return summarise(runs)

    print(f"a. plan {DAY} from scratch (force=True, no tasks yet):", flush=True)
    r["scratch"] = on_copies("force", BIG, scratch, DAY, "scratch")
    copy_db(scratch, planned)  # the day planned once: the start of d and e

    print(f"b. plan {DAY} again (force=True, nothing changed):", flush=True)
    runs = [plan_child("force", scratch, DAY, settings, env, f"replan #{i + 1}")
            for i in range(reps)]
    r["replan_force"] = summarise(runs)
    res = r["replan_force"]["result"]
    r["replan_force"]["idempotent"] = res["created"] == res["updated"] == res["withdrawn"] == 0

    print(f"b'. plan {DAY} again after a day's changes {CHANGES} (no force):", flush=True)
    r["replan_changed"] = on_copies("changed", planned, work / "changed.db", DAY, "changed")
    r["replan_changed"]["changes"] = CHANGES

    print(f"c. plan {DAY} without force (the implicit check when nothing changed):", flush=True)
    runs = [plan_child("check", scratch, DAY, settings, env, f"check #{i + 1}")
            for i in range(max(reps, 5))]
    r["implicit_check"] = summarise(runs)
    r["implicit_check"]["all_skipped"] = all(x["result"]["skipped"] for x in runs)

    day2 = DAY + timedelta(days=1)
    print(f"d. plan the next day, {day2}, on the planned copy (no force):", flush=True)
    r["next_day"] = on_copies("plan", planned, nxt, day2, "next day")
    return r, planned


# --------------------------------------------------------------------------- processes


def processes(cases: dict[str, list[str]], runs: int, env: dict) -> dict:
    """Time whole processes, interleaved: one warm-up round, then `runs` rounds."""
    times: dict[str, list[float]] = {k: [] for k in cases}
    peaks: dict[str, float] = {k: 0.0 for k in cases}
    for rnd in range(runs + 1):
        for name, cmd in cases.items():
            wall, peak, code, _out, err = run(cmd, env=env, stdout=subprocess.DEVNULL)
            if code != 0:
                sys.exit(f"{name}: exit code {code}\n{err}")
            if rnd:  # round 0 warms the page cache and writes the bytecode cache
                times[name].append(wall)
                peaks[name] = max(peaks[name], peak)
    out = {}
    for name, ts in times.items():
        out[name] = {"median_s": round(statistics.median(ts), 4), "min_s": round(min(ts), 4),
                     "runs_s": [round(t, 4) for t in ts], "peak_mb": round(peaks[name], 1)}
        print(f"  {name:12} median {out[name]['median_s'] * 1000:7.1f} ms"
              f"  min {out[name]['min_s'] * 1000:7.1f} ms  peak {peaks[name]:.0f} MB", flush=True)
    return out


def cli(work: Path, planned: Path, settings: Path, envs: dict[str, dict], runs: int) -> dict:
    db = work / "cli.db"
    copy_db(planned, db)
    before = plan_runs(db)
    base = [str(CRMCLI), "--db", str(db), "--settings", str(settings)]
    typer_app = work / "typer_app.py"
    typer_app.write_text(TYPER_APP)
    # A worked desk: the same file with all but ~1 in 150 of the open tasks done, so
    # `today` lists a day's work (a few hundred) instead of the whole first-day backlog.
    worked = work / "worked.db"
    copy_db(planned, worked)
    conn = sqlite3.connect(worked)
    with conn:
        conn.execute("UPDATE tasks SET state = 'done', closed_at = ?, updated_at = ?"
                     " WHERE state = 'open' AND id % 150 != 0", (f"{DAY}T18:00:00",) * 2)
    conn.close()
    base_w = [str(CRMCLI), "--db", str(worked), "--settings", str(settings)]
    r: dict = {}
    for name, env in envs.items():
        print(f"e. whole processes [{name}], {runs} runs each (+1 warm-up), interleaved:",
              flush=True)
        r[name] = processes({
            "floor_today": [sys.executable, "-c", FLOOR_TODAY],
            "today_json": base + ["today", "--date", DAY.isoformat(), "--json"],
            "today_table": base + ["today", "--date", DAY.isoformat()],
            "today_json_worked": base_w + ["today", "--date", DAY.isoformat(), "--json"],
            "today_table_worked": base_w + ["today", "--date", DAY.isoformat()],
            "typer_app": [sys.executable, str(typer_app), "today", "--json"],
            "floor_help": [sys.executable, "-c", FLOOR_HELP],
            "help": [str(CRMCLI), "--help"],
        }, runs, env)
    r["today_replanned"] = plan_runs(db) != before  # must be False: the day was planned
    env = envs["installed"]
    _w, _p, _c, out, _e = run(base + ["today", "--date", DAY.isoformat(), "--json"], env=env)
    r["today_json_mb"] = round(len(out.encode()) / 2**20, 1)
    r["today_items"] = len(json.loads(out))
    _w, _p, _c, out, _e = run(base_w + ["today", "--date", DAY.isoformat(), "--json"], env=env)
    r["today_items_worked"] = len(json.loads(out))
    return r


# --------------------------------------------------------------------------- imports


IMPORTTIME = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


def importtime(cmd: list[str], env: dict) -> dict[str, tuple[int, int, int]]:
    """{module: (self us, cumulative us, depth)} from -X importtime (bytecode already cached)."""
    _w, _p, code, _out, err = run([sys.executable, "-X", "importtime"] + cmd, env=env,
                                  stdout=subprocess.DEVNULL)
    if code != 0:
        sys.exit(f"importtime {cmd}: exit code {code}\n{err[-2000:]}")
    mods = {}
    for line in err.splitlines():
        m = IMPORTTIME.match(line)
        if m:
            mods[m.group(4)] = (int(m.group(1)), int(m.group(2)), len(m.group(3)) // 2)
    return mods


def imports(work: Path, settings: Path, env: dict) -> dict:
    floor = importtime(["-c", FLOOR_TODAY], env)
    cli_mod = importtime(["-c", "import crmcli.cli"], env)
    today = importtime([str(CRMCLI), "--db", str(work / "cli.db"), "--settings", str(settings),
                        "today", "--date", DAY.isoformat()], env)
    extra = {m: v for m, v in today.items() if m not in floor}
    by_package: dict[str, int] = {}
    for m, (self_us, _cum, _depth) in extra.items():
        top = m.split(".")[0]
        by_package[top] = by_package.get(top, 0) + self_us
    top_cli = sorted(cli_mod.items(), key=lambda kv: -kv[1][1])
    return {
        "floor_modules": len(floor), "today_modules": len(today),
        "floor_import_ms": round(sum(v[0] for v in floor.values()) / 1000, 1),
        "today_import_ms": round(sum(v[0] for v in today.values()) / 1000, 1),
        "beyond_floor_ms": round(sum(v[0] for v in extra.values()) / 1000, 1),
        "beyond_floor_by_package_ms": {k: round(v / 1000, 1) for k, v in
                                       sorted(by_package.items(), key=lambda kv: -kv[1])},
        "import_crmcli_cli_top": [{"module": m, "cumulative_ms": round(c / 1000, 1),
                                   "self_ms": round(s / 1000, 1)}
                                  for m, (s, c, _d) in top_cli[:15]],
    }


# --------------------------------------------------------------------------- report


def goals(p: dict, c: dict) -> list[dict]:
    rows = [
        ("a  plan from scratch, s", p["scratch"]["median_s"], "<", 10.0),
        ("b  re-plan after a day's changes, s", p["replan_changed"]["median_s"], "<", 2.0),
        ("   re-plan, force (everyone again), s", p["replan_force"]["median_s"], None, None),
        ("c  implicit check (no force), s", p["implicit_check"]["median_s"], "<", 0.1),
        ("d  plan the next day, s", p["next_day"]["median_s"], None, None),
    ]
    for env in ("installed", "no-pandas"):
        e = c[env]

        def ratio(a, b, e=e):
            return round(e[a]["median_s"] / e[b]["median_s"], 2)

        rows += [(f"e  today --json / floor [{env}]", ratio("today_json", "floor_today"), "<=", 1.5),
                 (f"e  today table / floor [{env}]", ratio("today_table", "floor_today"), "<=", 1.5),
                 (f"e  --help / floor [{env}]", ratio("help", "floor_help"), "<=", 1.3),
                 (f"   worked desk: today --json / floor [{env}]",
                  ratio("today_json_worked", "floor_today"), None, None),
                 (f"   worked desk: today table / floor [{env}]",
                  ratio("today_table_worked", "floor_today"), None, None),
                 (f"   typer app / floor [{env}]", ratio("typer_app", "floor_today"), None, None)]
    rows.append(("f  peak MB, planning process",
                 max(p[k]["peak_mb"] for k in ("scratch", "replan_force", "next_day")), None, None))
    check = {"<": float.__lt__, "<=": float.__le__}
    return [{"figure": name, "value": v, "goal": f"{op} {goal:g}" if op else "",
             "met": check[op](float(v), float(goal)) if op else None}
            for name, v, op, goal in rows]


def report(p: dict, c: dict, g: list[dict], imp: dict) -> None:
    print(f"\n{'planning (the plan() call)':36} {'median s':>9} {'min s':>8} {'proc s':>7}"
          f" {'MB':>6}  created/updated/merged/withdrawn/missed; open")
    for key, label in (("scratch", f"a  plan {DAY} from scratch"),
                       ("replan_force", "b  re-plan, force"),
                       ("replan_changed", "b' re-plan after changes"),
                       ("implicit_check", "c  re-plan, no force (check)"),
                       ("next_day", f"d  plan {DAY + timedelta(days=1)}")):
        m, res = p[key], p[key]["result"]
        counts = (f"{res['created']}/{res['updated']}/{res['merged']}/{res['withdrawn']}/"
                  f"{res['missed']}; {res['open']}" + (" (skipped)" if res["skipped"] else ""))
        print(f"{label:36} {m['median_s']:9.3f} {m['min_s']:8.3f} {m['process_median_s']:7.2f}"
              f" {m['peak_mb']:6.0f}  {counts}")
    print(f"  re-plan idempotent: {p['replan_force']['idempotent']}; "
          f"check skipped every time: {p['implicit_check']['all_skipped']}")
    for env in ("installed", "no-pandas"):
        print(f"\n{'whole process [' + env + ']':36} {'median ms':>9} {'min ms':>8} {'MB':>6}")
        for key in ("floor_today", "today_json", "today_table", "today_json_worked",
                    "today_table_worked", "typer_app", "floor_help", "help"):
            m = c[env][key]
            print(f"{key:36} {m['median_s'] * 1000:9.1f} {m['min_s'] * 1000:8.1f}"
                  f" {m['peak_mb']:6.0f}")
    print(f"  today lists {c['today_items']:,} tasks ({c['today_json_mb']} MB of JSON);"
          f" re-planned by today: {c['today_replanned']};"
          f" the worked desk lists {c['today_items_worked']:,}")
    print(f"\n{'figure':46} {'value':>8} {'goal':>7}")
    for x in g:
        verdict = {True: "met", False: "MISSED", None: ""}[x["met"]]
        print(f"{x['figure']:46} {x['value']:8g} {x['goal']:>7}  {verdict}")
    print(f"\nimports [no-pandas]: floor {imp['floor_modules']} modules, {imp['floor_import_ms']} ms;"
          f" crmcli today {imp['today_modules']} modules, {imp['today_import_ms']} ms;"
          f" beyond the floor {imp['beyond_floor_ms']} ms:")
    for pkg, ms in list(imp["beyond_floor_by_package_ms"].items())[:12]:
        print(f"  {pkg:36} {ms:7.1f} ms")
    print("python -X importtime -c 'import crmcli.cli', top cumulative:")
    for row in imp["import_crmcli_cli_top"][:12]:
        print(f"  {row['module']:36} {row['cumulative_ms']:7.1f} ms (self {row['self_ms']})")


def profile(work: Path, settings: Path, env: dict) -> None:
    import pstats

    db = work / "profile.db"
    copy_db(BIG, db)
    me = str(Path(__file__).resolve())
    jobs = [("plan from scratch", OUT / "plan.prof",
             [me, "--child", "force", str(db), DAY.isoformat(), str(settings)]),
            ("crmcli today --json", OUT / "today.prof",
             [str(CRMCLI), "--db", str(db), "--settings", str(settings), "today",
              "--date", DAY.isoformat(), "--json"])]
    for label, prof, cmd in jobs:
        wall, peak, code, _out, err = run([sys.executable, "-m", "cProfile", "-o", str(prof)]
                                          + cmd, env=env, stdout=subprocess.DEVNULL)
        print(f"\nprofiled {label}: {wall:.1f} s (profiler overhead included), {peak:.0f} MB,"
              f" exit {code}; {prof}")
        if code:
            print(err)
        stats = pstats.Stats(str(prof))
        for key in ("cumulative", "tottime"):
            print(f"--- top 20 by {key} ---")
            stats.sort_stats(key).print_stats(20)


def ensure_big_db(args: argparse.Namespace) -> dict:
    """Build (or reuse) the database; one of another size gets its own file."""
    global BIG
    sizes = (args.customers, args.vehicles, args.orders)
    if sizes != DEFAULT_SIZES:
        BIG = OUT / f"big_{args.customers}_{args.vehicles}_{args.orders}.db"
    code = subprocess.call([sys.executable, str(HERE / "make_big_db.py"), "--date", DAY.isoformat(),
                            "--customers", str(args.customers), "--vehicles", str(args.vehicles),
                            "--orders", str(args.orders), "--out", str(BIG)], cwd=ROOT)
    if code != 0:
        sys.exit(f"make_big_db.py: exit code {code}")
    # Bring a file cached by an older schema up to date once, so no copy pays for it.
    migrate = "import sys; from crmcli import db; db.connect(sys.argv[1]).conn.close()"
    code = subprocess.call([sys.executable, "-c", migrate, str(BIG)], cwd=ROOT)
    if code != 0:
        sys.exit(f"migrating {BIG}: exit code {code}")
    return json.loads(Path(f"{BIG}.params.json").read_text())


def code_version() -> dict:
    def git(*a):
        r = subprocess.run(["git", *a], check=False, cwd=ROOT, capture_output=True,
                           text=True)
        return r.stdout.strip() if r.returncode == 0 else None

    digest = hashlib.sha1()
    for path in sorted((ROOT / "crmcli").rglob("*.py")):
        digest.update(path.read_bytes())
    return {"commit": git("rev-parse", "--short", "HEAD"),
            "crmcli_changed_since_commit": bool(git("status", "--porcelain", "--", "crmcli")),
            "crmcli_sha1": digest.hexdigest()[:12]}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--reps", type=int, default=3, help="repetitions of each planning measurement")
    p.add_argument("--runs", type=int, default=10, help="runs of each whole-process measurement")
    p.add_argument("--customers", type=int, default=DEFAULT_SIZES[0], help="database size")
    p.add_argument("--vehicles", type=int, default=DEFAULT_SIZES[1], help="database size")
    p.add_argument("--orders", type=int, default=DEFAULT_SIZES[2], help="database size")
    p.add_argument("--keep", action="store_true", help="keep the databases in benchmarks/out/")
    p.add_argument("--profile", action="store_true", help="profile plan and today only")
    p.add_argument("--child", nargs=4, metavar=("CASE", "DB", "DAY", "SETTINGS"),
                   help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        print(json.dumps(child(*args.child), ensure_ascii=False))
        return 0
    if not CRMCLI.exists():
        sys.exit(f"{CRMCLI} not found: install the project (pip install -e .) in this Python")

    OUT.mkdir(exist_ok=True)
    big = ensure_big_db(args)
    work = OUT / "plan-run"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    settings = work / "settings.toml"  # empty: the user's own settings must not count
    settings.write_text("")
    envs = environments(work)
    try:
        if args.profile:
            profile(work, settings, envs["installed"])
            return 0
        code_before = code_version()
        load_before = os.getloadavg()
        t0 = time.perf_counter()
        plans, planned = planning(work, settings, envs["installed"], args.reps)
        procs = cli(work, planned, settings, envs, args.runs)
        imp = imports(work, settings, envs["no-pandas"])
        g = goals(plans, procs)
        report(plans, procs, g, imp)
        code = code_version()
        if code != code_before:
            print(f"\nWARNING: crmcli changed during the run ({code_before} -> {code});"
                  " the figures mix two versions: run again")
        else:
            print(f"\ncrmcli at {code['commit']}"
                  f"{' plus uncommitted changes' if code['crmcli_changed_since_commit'] else ''}"
                  f" (sha1 of crmcli/*.py {code['crmcli_sha1']})")
        doc = {
            "date": datetime.now().isoformat(timespec="seconds"),
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                        "sqlite": sqlite3.sqlite_version, "platform": platform.platform(),
                        "loadavg_before": load_before, "loadavg_after": os.getloadavg()},
            "database": {"file": BIG.name, "size_mb": big.get("size_mb"),
                         "counts": big.get("counts"), "params": big.get("params"),
                         "build_s": big.get("seconds")},
            "code": code, "code_before": code_before, "day": DAY.isoformat(), "reps": args.reps, "runs": args.runs,
            "planning": plans, "processes": procs, "imports_no_pandas": imp, "goals": g,
            "total_s": round(time.perf_counter() - t0, 1),
        }
        (OUT / "plan.json").write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
        print(f"\nwritten to {OUT / 'plan.json'}")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
