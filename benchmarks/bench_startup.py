"""Start-up of `crmcli --help` and `crmcli today` as whole processes, in both languages.

    python benchmarks/bench_startup.py [--runs 15] [--no-bytecode]

Goals (issue 16): `crmcli --help` <= 1.3 x `python -c "import typer, rich"` and
`crmcli today` <= 1.5 x `python -c "import typer, rich.table, sqlite_utils"`, each
measured as a whole process, all cases interleaved round by round after one warm-up,
median and min reported, with the load average before and after (the machine is
shared: compare ratios from one run, not times across runs). `today` runs on the
shipped sample (imported once into a temporary database, planned once) with
`--date 2026-11-26`, as a table at 100 columns.

crmcli runs as its console script does (`from crmcli.cli import main; main()`), from
this checkout, with its bytecode cached as an installed crmcli has it (pip compiles
it at install; the floors' libraries are compiled too). `--no-bytecode` sets
PYTHONDONTWRITEBYTECODE for every case, so each crmcli run compiles every crmcli
module it imports (as a checkout run with that variable set does).

The translations' cost is the difference between the English and the Chinese runs
(both read a catalog; English finds nothing in it), and the in-process time of
reading the Chinese catalog is printed on its own.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def timed(cmd: list[str], env: dict) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   check=False)
    return time.perf_counter() - t


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=15)
    p.add_argument("--no-bytecode", action="store_true",
                   help="compile crmcli's modules on every run (PYTHONDONTWRITEBYTECODE=1)")
    args = p.parse_args()
    tmp = Path(tempfile.mkdtemp())
    db = tmp / "bench.db"
    base = dict(os.environ, PYTHONPATH=str(ROOT), CRMCLI_DB=str(db), COLUMNS="100",
                CRMCLI_SETTINGS=str(tmp / "empty.toml"), XDG_DATA_HOME=str(tmp))
    base.pop("PYTHONDONTWRITEBYTECODE", None)
    if args.no_bytecode:
        base["PYTHONDONTWRITEBYTECODE"] = "1"
    else:  # crmcli's own bytecode, written by the warm-up, outside the checkout
        base["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
    (tmp / "empty.toml").write_text("", encoding="utf-8")
    # What the console script `crmcli` runs (pip's wrapper), from this checkout.
    cli = [PY, "-c", "import sys; from crmcli.cli import main; sys.argv[0] = 'crmcli'; main()"]
    for kind, name in (("vehicles", "delivery_list.xlsx"), ("orders", "dms_orders.xlsx")):
        subprocess.run([*cli, "import", kind, str(ROOT / "sample_data" / name), "--quiet",
                        "--date", "2026-11-26"], env=base, capture_output=True, check=False)
    subprocess.run([*cli, "plan", "--date", "2026-11-26", "-q"], env=base, check=False)
    en, zh = dict(base, CRMCLI_LANG="en"), dict(base, CRMCLI_LANG="zh_CN")
    cases = {
        "floor: import typer, rich": ([PY, "-c", "import typer, rich"], base),
        "crmcli --help (en)": ([*cli, "--help"], en),
        "crmcli --help (zh_CN)": ([*cli, "--help"], zh),
        "floor: import typer, rich.table, sqlite_utils":
            ([PY, "-c", "import typer, rich.table, sqlite_utils"], base),
        "crmcli today (en)": ([*cli, "today", "--date", "2026-11-26"], en),
        "crmcli today (zh_CN)": ([*cli, "today", "--date", "2026-11-26"], zh),
    }
    times: dict[str, list[float]] = {k: [] for k in cases}
    load_before = os.getloadavg()
    for cmd, env in cases.values():  # warm-up: bytecode compiled, files cached
        timed(cmd, env)
    for _ in range(args.runs):
        for name, (cmd, env) in cases.items():
            times[name].append(timed(cmd, env))
    load_after = os.getloadavg()
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"{args.runs} rounds, bytecode {'not cached' if args.no_bytecode else 'cached'}; "
          "load average (1, 5, 15 min) before " + ", ".join(f"{x:.2f}" for x in load_before)
          + ", after " + ", ".join(f"{x:.2f}" for x in load_after))
    print(f"{'whole process':48} {'median ms':>10} {'min ms':>8}")
    for k, v in times.items():
        print(f"{k:48} {med[k] * 1000:10.1f} {min(v) * 1000:8.1f}")
    help_floor = med["floor: import typer, rich"]
    today_floor = med["floor: import typer, rich.table, sqlite_utils"]
    print()
    for lang in ("en", "zh_CN"):
        h = med[f"crmcli --help ({lang})"] / help_floor
        t = med[f"crmcli today ({lang})"] / today_floor
        print(f"{lang:6} --help / floor {h:.2f} (goal <= 1.3 {'met' if h <= 1.3 else 'MISSED'})"
              f"   today / floor {t:.2f} (goal <= 1.5 {'met' if t <= 1.5 else 'MISSED'})")
    # The catalogs alone, in process: what `_()` pays once per run to read one.
    code = ("import sys, time, timeit; from crmcli import i18n; "
            "p = i18n.LOCALE_DIR / sys.argv[1] / 'LC_MESSAGES' / 'crmcli.po'; "
            "t = timeit.repeat(lambda: i18n.load_po(p), number=1, repeat=20); "
            "print(min(t) * 1000, sorted(t)[10] * 1000, len(i18n.load_po(p)))")
    print()
    for lang in ("zh_CN", "en"):
        best, median, entries = subprocess.run([PY, "-c", code, lang], env=base,
                                               capture_output=True, text=True,
                                               check=True).stdout.split()
        print(f"reading the {lang} catalog ({int(entries)} translated entries), in process: "
              f"{float(median):.2f} ms (min {float(best):.2f}) of 20")
    print(f"translations, zh_CN minus en: --help "
          f"{(med['crmcli --help (zh_CN)'] - med['crmcli --help (en)']) * 1000:+.1f} ms, today "
          f"{(med['crmcli today (zh_CN)'] - med['crmcli today (en)']) * 1000:+.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
