"""Start-up of `crmcli --help` and `crmcli today` as whole processes, in both languages.

    python benchmarks/bench_startup.py [--runs 15] [--no-bytecode] [--compare CHECKOUT]
    python benchmarks/bench_startup.py --instructions [--compare CHECKOUT]   # valgrind

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
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


# Every process runs in this empty folder: `python -c` searches the current folder
# first, so from a checkout it would import that checkout's crmcli whatever PYTHONPATH
# says, and listing a big folder (a shared /tmp) would be part of every figure.
QUIET_DIR = Path(tempfile.mkdtemp())


def instructions(cmd: list[str], env: dict) -> int:
    """User-space instructions of one whole process, counted by valgrind's callgrind:
    the same on a busy machine as on an idle one (PYTHONHASHSEED fixed), though it is
    a count, not a time (system calls, page faults and cache misses are not in it)."""
    done = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
                           *cmd], env=dict(env, PYTHONHASHSEED="0"), cwd=QUIET_DIR,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                          check=False)
    if done.returncode != 0:
        sys.exit(f"{cmd[3:]} failed under valgrind ({done.returncode}):\n"
                 + "\n".join(line for line in done.stderr.splitlines()
                             if not line.startswith("=="))[-1000:])
    return int(re.search(r"Collected : (\d+)", done.stderr).group(1))


def timed(cmd: list[str], env: dict) -> tuple[float, float]:
    """Wall time and CPU time (user + system, from the kernel) of one whole process.
    On a loaded machine the wall time includes waiting for a core; the CPU time
    does not, so its ratios hold steadier there."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, cwd=QUIET_DIR)
    _, _, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    proc.returncode = 0  # reaped by wait4
    return wall, usage.ru_utime + usage.ru_stime


# What the console script `crmcli` runs (pip's wrapper).
CLI = [PY, "-c", "import sys; from crmcli.cli import main; sys.argv[0] = 'crmcli'; main()"]


def checkout_env(root: Path, tmp: Path, no_bytecode: bool) -> dict:
    """The environment running crmcli from ``root`` on its own copy of the sample."""
    tmp.mkdir(parents=True, exist_ok=True)
    base = dict(os.environ, PYTHONPATH=str(root), CRMCLI_DB=str(tmp / "bench.db"),
                COLUMNS="100", CRMCLI_SETTINGS=str(tmp / "empty.toml"), XDG_DATA_HOME=str(tmp))
    base.pop("PYTHONDONTWRITEBYTECODE", None)
    if no_bytecode:
        base["PYTHONDONTWRITEBYTECODE"] = "1"
    else:  # crmcli's own bytecode, written by the warm-up, outside the checkout
        base["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
    (tmp / "empty.toml").write_text("", encoding="utf-8")
    for kind, name in (("vehicles", "delivery_list.xlsx"), ("orders", "dms_orders.xlsx")):
        subprocess.run([*CLI, "import", kind, str(root / "sample_data" / name), "--quiet",
                        "--date", "2026-11-26"], env=base, capture_output=True,
                       check=False, cwd=QUIET_DIR)  # exit 1: the sample has rows to check, on purpose
    subprocess.run([*CLI, "plan", "--date", "2026-11-26", "-q"], env=base, check=True,
                   cwd=QUIET_DIR)
    return base


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=15)
    p.add_argument("--no-bytecode", action="store_true",
                   help="compile crmcli's modules on every run (PYTHONDONTWRITEBYTECODE=1)")
    p.add_argument("--instructions", action="store_true",
                   help="instead of timing, count each case's instructions once under "
                        "valgrind (slow; the same figures however busy the machine is)")
    p.add_argument("--compare", type=Path, metavar="CHECKOUT",
                   help="also run crmcli from this other checkout (e.g. an export of main "
                        "before a change), interleaved with the rest")
    args = p.parse_args()
    tmp = Path(tempfile.mkdtemp())
    base = checkout_env(ROOT, tmp / "this", args.no_bytecode)
    cases = {
        "floor: import typer, rich": ([PY, "-c", "import typer, rich"], base),
        "floor: import typer, rich.table, sqlite_utils":
            ([PY, "-c", "import typer, rich.table, sqlite_utils"], base),
    }
    checkouts = {"": base}
    if args.compare:
        checkouts[" [compared]"] = checkout_env(args.compare.resolve(), tmp / "other",
                                                args.no_bytecode)
    for tag, env in checkouts.items():
        for lang in ("en", "zh_CN"):
            cases[f"crmcli --help ({lang}){tag}"] = ([*CLI, "--help"], dict(env, CRMCLI_LANG=lang))
        for lang in ("en", "zh_CN"):
            cases[f"crmcli today ({lang}){tag}"] = (
                [*CLI, "today", "--date", "2026-11-26"], dict(env, CRMCLI_LANG=lang))
    if args.instructions:
        return count_instructions(cases, checkouts)
    times: dict[str, list[float]] = {k: [] for k in cases}
    cpu: dict[str, list[float]] = {k: [] for k in cases}
    load_before = os.getloadavg()
    for name, (cmd, env) in cases.items():  # warm-up: bytecode written, files cached
        done = subprocess.run(cmd, env=env, capture_output=True, check=False, cwd=QUIET_DIR)
        if done.returncode != 0:
            sys.exit(f"{name} failed ({done.returncode}): {done.stderr.decode()[-500:]}")
    for _ in range(args.runs):
        for name, (cmd, env) in cases.items():
            wall, used = timed(cmd, env)
            times[name].append(wall)
            cpu[name].append(used)
    load_after = os.getloadavg()
    med = {k: statistics.median(v) for k, v in times.items()}
    mcpu = {k: statistics.median(v) for k, v in cpu.items()}
    print(f"{args.runs} rounds, bytecode {'not cached' if args.no_bytecode else 'cached'}; "
          "load average (1, 5, 15 min) before " + ", ".join(f"{x:.2f}" for x in load_before)
          + ", after " + ", ".join(f"{x:.2f}" for x in load_after))
    print(f"{'whole process':52} {'wall: median':>12} {'min ms':>7} {'CPU: median':>12} "
          f"{'min ms':>7}")
    for k, v in times.items():
        print(f"{k:52} {med[k] * 1000:12.1f} {min(v) * 1000:7.1f} {mcpu[k] * 1000:12.1f} "
              f"{min(cpu[k]) * 1000:7.1f}")
    print()
    for label, m in (("wall", med), ("CPU", mcpu)):
        help_floor = m["floor: import typer, rich"]
        today_floor = m["floor: import typer, rich.table, sqlite_utils"]
        for tag in checkouts:
            for lang in ("en", "zh_CN"):
                h = m[f"crmcli --help ({lang}){tag}"] / help_floor
                t = m[f"crmcli today ({lang}){tag}"] / today_floor
                print(f"{label:4} {lang + tag:17} --help / floor {h:.2f} "
                      f"(goal <= 1.3 {'met' if h <= 1.3 else 'MISSED'})   today / floor {t:.2f} "
                      f"(goal <= 1.5 {'met' if t <= 1.5 else 'MISSED'})")
    for label, m in (("wall", med), ("CPU", mcpu)):
        for tag in checkouts:
            h = (m[f"crmcli --help (zh_CN){tag}"] - m[f"crmcli --help (en){tag}"]) * 1000
            t = (m[f"crmcli today (zh_CN){tag}"] - m[f"crmcli today (en){tag}"]) * 1000
            print(f"translations, zh_CN minus en{tag} ({label}): --help {h:+.1f} ms, "
                  f"today {t:+.1f} ms")
    # The catalogs alone, in process: what `_()` pays once per run to read one.
    code = ("import sys, time, timeit; from crmcli import i18n; "
            "p = i18n.LOCALE_DIR / sys.argv[1] / 'LC_MESSAGES' / 'crmcli.po'; "
            "t = timeit.repeat(lambda: i18n.load_po(p), number=1, repeat=20); "
            "print(min(t) * 1000, sorted(t)[10] * 1000, len(i18n.load_po(p)))")
    for lang in ("zh_CN", "en"):
        best, median, entries = subprocess.run([PY, "-c", code, lang], env=base,
                                               capture_output=True, text=True, check=True,
                                               cwd=QUIET_DIR).stdout.split()
        print(f"reading the {lang} catalog ({int(entries)} translated entries), in process: "
              f"{float(median):.2f} ms (min {float(best):.2f}) of 20")
    return 0


def count_instructions(cases: dict, checkouts: dict) -> int:
    for cmd, env in cases.values():  # bytecode written first
        subprocess.run(cmd, env=env, capture_output=True, check=False, cwd=QUIET_DIR)
    print("user-space instructions of one run of each case (valgrind callgrind)")
    n = {}
    for name, (cmd, env) in cases.items():
        n[name] = instructions(cmd, env)
        print(f"{name:52} {n[name] / 1e6:10.1f} M", flush=True)
    print()
    for tag in checkouts:
        for lang in ("en", "zh_CN"):
            h = n[f"crmcli --help ({lang}){tag}"] / n["floor: import typer, rich"]
            t = (n[f"crmcli today ({lang}){tag}"]
                 / n["floor: import typer, rich.table, sqlite_utils"])
            print(f"{lang + tag:17} --help / floor {h:.2f}   today / floor {t:.2f}")
        h = n[f"crmcli --help (zh_CN){tag}"] - n[f"crmcli --help (en){tag}"]
        t = n[f"crmcli today (zh_CN){tag}"] - n[f"crmcli today (en){tag}"]
        print(f"translations, zh_CN minus en{tag}: --help {h / 1e6:+.1f} M, "
              f"today {t / 1e6:+.1f} M")
    return 0


if __name__ == "__main__":
    sys.exit(main())
