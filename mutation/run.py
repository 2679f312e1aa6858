"""Mutation testing of the modules that hold the dealer's rules: one command.

    python mutation/run.py                  # every module below, most important first
    python mutation/run.py rules classify   # only these
    python mutation/run.py --list           # the modules and the tests that cover each

For each module it copies crmcli/, tests/ and pyproject.toml into
mutation/.work/<module>/ (ignored by git), runs mutmut there on that one module
with only the test files that cover it (so a mutant runs tens of tests, not the
suite), then prints the score (killed / all mutants) and every surviving mutant
as a diff. mutmut forks a worker per mutant from a process that has already
imported the code and collected the tests, and runs only the tests that reached
the mutated function: on two shared cores this is what makes a run take
minutes, not hours. Not run in CI.

Needs the `mutation` extra: pip install ".[test,mutation]".
"""

from __future__ import annotations

import argparse
import ast
import difflib
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "mutation" / ".work"

# module -> (source file(s) to mutate, the test files that cover it). Most important first.
MODULES: dict[str, tuple[list[str], list[str]]] = {
    "rules": (["crmcli/rules.py"], ["tests/test_rules.py", "tests/test_rules_pinned.py",
                                    "tests/test_doctests.py"]),
    "classify": (["crmcli/classify.py"], ["tests/test_classify.py",
                                          "tests/test_classify_pinned.py",
                                          "tests/test_doctests.py"]),
    "calls": (["crmcli/calls.py"], ["tests/test_calls.py", "tests/test_calls_pinned.py",
                                    "tests/test_complaints.py", "tests/test_complaints_pinned.py",
                                    "tests/test_care_contacts.py"]),
    "stats": (["crmcli/stats.py"], ["tests/test_stats.py", "tests/test_stats_pinned.py",
                                    "tests/test_complaints.py", "tests/test_doctests.py"]),
    "planner": (["crmcli/planner.py"], ["tests/test_planner.py", "tests/test_plan_incremental.py"]),
    "calendar": (["crmcli/calendar.py"], ["tests/test_calendar.py", "tests/test_doctests.py"]),
    "normalize": (["crmcli/normalize.py"], ["tests/test_normalize.py",
                                            "tests/test_normalize_pinned.py"]),
    # same_person and the merge of records live in importing/merge.py (the whole file is
    # mutated: mutmut selects files, not functions).
    "identity": (["crmcli/importing/merge.py"],
                 ["tests/test_identity_pinned.py", "tests/test_import.py",
                  "tests/test_import_repeats.py"]),
}

KILLED = {1, 3}          # a test failed (3: pytest's internal error also means caught)
TIMEOUT = {24, -24, 36, 152, 255}


def existing(paths: list[str]) -> list[str]:
    return [p for p in paths if (ROOT / p).exists()]


def prepare(module: str, sources: list[str], tests: list[str], keep: bool) -> Path:
    work = WORK / module
    if work.exists() and not keep:
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    for name in ("crmcli", "tests", "sample_data"):
        if (work / name).exists():
            shutil.rmtree(work / name)
        shutil.copytree(ROOT / name, work / name,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    pytest_opts = project.get("tool", {}).get("pytest", {}).get("ini_options", {})
    lines = ["[tool.pytest.ini_options]"]
    lines += [f"{k} = {json.dumps(v)}" for k, v in pytest_opts.items() if k != "addopts"]
    lines += ["", "[tool.mutmut]",
              'source_paths = ["crmcli"]',
              'also_copy = ["sample_data"]',
              f"only_mutate = {json.dumps(sources)}",
              f"pytest_add_cli_args_test_selection = {json.dumps(tests)}",
              'pytest_add_cli_args = ["-p", "no:cacheprovider", "-q"]',
              "timeout_multiplier = 10.0",
              ""]
    (work / "pyproject.toml").write_text("\n".join(lines), "utf-8")
    return work


def mutmut(work: Path, *args: str, capture: bool = False) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("mutmut")
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "mutmut"]
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run(command + list(args), check=False, cwd=work, env=env, text=True,
                          capture_output=capture)


def results(work: Path) -> dict[str, int | None]:
    codes: dict[str, int | None] = {}
    for meta in sorted((work / "mutants").rglob("*.py.meta")):
        codes.update(json.loads(meta.read_text("utf-8"))["exit_code_by_key"])
    return codes


def _functions(path: Path) -> dict[str, str]:
    source = path.read_text("utf-8")
    lines = source.splitlines()
    return {node.name: "\n".join(lines[node.lineno - 1:node.end_lineno])
            for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}


def changed_lines(work: Path, name: str, cache: dict) -> str:
    """The lines a mutant changes: its function against mutmut's copy of the original."""
    module, _, function = name.rpartition(".")
    path = work / "mutants" / (module.replace(".", "/") + ".py")
    if path not in cache:
        cache[path] = _functions(path)
    functions = cache[path]
    base = function.rpartition("__mutmut_")[0]
    mutant, original = functions.get(function, ""), functions.get(base + "__mutmut_orig", "")
    diff = difflib.unified_diff(original.replace(base + "__mutmut_orig", base).splitlines(),
                                mutant.replace(function, base).splitlines(), lineterm="", n=0)
    lines = [line for line in diff if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    return "\n".join("      " + line.strip() for line in lines)


_QUOTED = re.compile(r"'[^']*'")


def sql_case_only(diff: str) -> bool:
    """True when a mutant only changes the case of SQL text: SQLite reads keywords and names
    in any case, so such a mutant is equivalent. Quoted values must be unchanged."""
    minus = [line.strip()[1:] for line in diff.splitlines() if line.strip().startswith("-")]
    plus = [line.strip()[1:] for line in diff.splitlines() if line.strip().startswith("+")]
    if not minus or len(minus) != len(plus):
        return False
    # SQL as this code base writes it: keywords in capitals (a Python `or` is not SQL).
    sql = re.compile(r"\b(SELECT|FROM|WHERE|INSERT|UPDATE|DELETE|JOIN|GROUP BY|ORDER BY|VALUES|"
                     r"AND|OR|IS NOT NULL|NOT IN|COALESCE|CASE|WHEN)\b")
    return all(a != b and a.lower() == b.lower() and sql.search(a)
               and _QUOTED.findall(a) == _QUOTED.findall(b) for a, b in zip(minus, plus))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", help="modules to mutate (default: all)")
    parser.add_argument("--list", action="store_true", help="show modules and tests, run nothing")
    parser.add_argument("--jobs", type=int, default=2, help="mutants run at once (default 2)")
    parser.add_argument("--keep", action="store_true",
                        help="reuse the last run's results where mutmut can (faster reruns)")
    parser.add_argument("--no-diff", action="store_true", help="list survivors by name only")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--report", action="store_true",
                        help="run nothing: report the last run's results again")
    args = parser.parse_args(argv)

    unknown = [m for m in args.modules if m not in MODULES]
    if unknown:
        parser.error(f"unknown module(s) {', '.join(unknown)}; choose from {', '.join(MODULES)}")
    chosen = args.modules or list(MODULES)
    if args.list:
        for m in chosen:
            sources, tests = MODULES[m]
            print(f"{m:10} {' '.join(existing(sources))}  <-  {' '.join(existing(tests))}")
        return 0

    summary = {}
    for module in chosen:
        sources, tests = (existing(p) for p in MODULES[module])
        if not sources or not tests:
            print(f"== {module}: nothing to mutate or no tests here, skipped")
            continue
        print(f"== {module}: mutating {' '.join(sources)} against {' '.join(tests)}", flush=True)
        work = WORK / module
        if args.report:
            run = subprocess.CompletedProcess([], 0 if (work / "mutants").exists() else 1, "", "")
        else:
            work = prepare(module, sources, tests, args.keep)
            run = mutmut(work, "run", "--max-children", str(args.jobs), capture=True)
        if run.returncode:
            print(run.stdout[-3000:], run.stderr[-3000:], sep="\n")
            print(f"== {module}: mutmut failed ({run.returncode})")
            summary[module] = {"error": run.returncode}
            continue
        codes = results(work)
        killed = sorted(k for k, c in codes.items() if c in KILLED)
        timeouts = sorted(k for k, c in codes.items() if c in TIMEOUT)
        survived = sorted(k for k, c in codes.items() if c == 0)
        untested = sorted(k for k, c in codes.items() if c in (5, 33))
        other = sorted(set(codes) - set(killed) - set(timeouts) - set(survived) - set(untested))
        total = len(codes)
        score = (len(killed) + len(timeouts)) / total if total else 1.0
        summary[module] = {"total": total, "killed": len(killed), "timeout": len(timeouts),
                           "survived": survived, "no_tests": untested, "other": other,
                           "score": round(score, 4)}
        print(f"{module}: {score:.1%} killed ({len(killed)} killed + {len(timeouts)} timed out"
              f" of {total}; {len(survived)} survived, {len(untested)} reached by no test"
              f"{f', {len(other)} other' if other else ''})")
        cache: dict = {}
        equivalent = []
        for name in survived + untested + other:
            status = "survived" if name in survived else (
                "no tests" if name in untested else f"exit {codes[name]}")
            diff = changed_lines(work, name, cache)
            if name in survived and sql_case_only(diff):
                equivalent.append(name)
                status = "survived, equivalent: only the case of SQL text"
            print(f"  {name} [{status}]")
            if not args.no_diff:
                print(diff)
        real = total - len(equivalent)
        summary[module]["equivalent_sql_case"] = equivalent
        summary[module]["score_without_equivalent"] = round(
            (len(killed) + len(timeouts)) / real, 4) if real else 1.0
        print(f"{module}: {summary[module]['score_without_equivalent']:.1%} of the {real} mutants"
              f" that are not SQL-case equivalents ({len(equivalent)} are)")
        sys.stdout.flush()

    print("\n== scores")
    for module, figures in summary.items():
        if "error" in figures:
            print(f"{module:10} mutmut failed")
        else:
            print(f"{module:10} {figures['score']:7.1%}  {figures['killed'] + figures['timeout']:5}"
                  f" / {figures['total']:<5} survived {len(figures['survived'])},"
                  f" no tests {len(figures['no_tests'])};"
                  f" {figures['score_without_equivalent']:.1%} without the"
                  f" {len(figures['equivalent_sql_case'])} SQL-case equivalents")
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2), "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
