"""Benchmark: classifying every customer, and the retention figures, on the big database.

    python benchmarks/bench_classify.py [--runs 3]

Uses the database `make_big_db.py` builds (200,000 customers, 250,000 vehicles,
2,000,000 orders; built on first use), copies it, and times in fresh processes:
`classify.run` for a day (the first run writes every class and the full history;
a second run a month later writes the changes) and `stats.retention`. Goal:
classifying everyone under 10 s.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"

CHILD = """
import json, resource, sys, time
from datetime import date
from crmcli import classify, db, settings, stats
database = db.connect(sys.argv[1])
s = settings.load()
t = time.perf_counter()
if sys.argv[2] == "retention":
    r = stats.retention(database, date.fromisoformat(sys.argv[3]))
    info = r["total"]
else:
    r = classify.run(database, date.fromisoformat(sys.argv[3]), s)
    info = {"counts": r["counts"], "changed": r["changed"]}
took = time.perf_counter() - t
print(json.dumps({"seconds": took, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "info": info}))
"""


def child(db: Path, what: str, day: str) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, str(db), what, day], check=True,
                         capture_output=True, text=True, cwd=HERE.parent)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    big = OUT / "big.db"
    if not big.exists():
        subprocess.run([sys.executable, str(HERE / "make_big_db.py")], check=True)
    figures: dict[str, list[dict]] = {"first": [], "month_later": [], "retention": []}
    for _ in range(args.runs):
        copy = OUT / "classify-run.db"
        shutil.copyfile(big, copy)
        figures["first"].append(child(copy, "classify", "2026-11-26"))
        figures["month_later"].append(child(copy, "classify", "2026-12-26"))
        figures["retention"].append(child(copy, "retention", "2026-11-26"))
        copy.unlink()
    print(f"{'on 200,000 customers / 2,000,000 orders':<40} median s  peak MB")
    for key, label in (("first", "classify, first run"), ("month_later", "classify, a month later"),
                       ("retention", "retention (holding rate by age)")):
        secs = statistics.median(r["seconds"] for r in figures[key])
        mb = max(r["peak_mb"] for r in figures[key])
        goal = "" if key == "retention" else ("  goal < 10 s: " + ("met" if secs < 10 else "MISSED"))
        print(f"  {label:<38} {secs:8.2f} {mb:8.0f}{goal}")
    print("  counts:", figures["first"][0]["info"])
    (OUT / "classify.json").write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
