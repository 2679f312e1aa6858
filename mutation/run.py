"""Mutation testing of the modules that hold the dealer's rules: one command.

    python mutation/run.py                  # every module below, most important first
    python mutation/run.py rules classify   # only these
    python mutation/run.py --list           # the modules and the tests that cover each
    python mutation/run.py planner --sample 150 --seed 1   # an estimate from 150 random mutants
    python mutation/run.py calls --again    # after new tests: only what survived, again
    python mutation/run.py calls --report --stubs /tmp/judge.toml   # survivors to judge

For each module it copies crmcli/, tests/ and pyproject.toml into
mutation/.work/<module>/ (ignored by git), runs mutmut there on that one module
with only the test files that cover it (so a mutant runs tens of tests, not the
suite), then prints the score (killed / all mutants) and every surviving mutant
as a diff. A survivor is counted as equivalent when it only changes the case of SQL text,
or when mutation/equivalent.toml lists it with the change it makes and why no test can tell
it from the original; the rest are reported as neither killed nor shown equivalent.
With ``--sample N`` it runs N mutants drawn at random (``--seed``) and
prints the estimated score with its sample size and a 95% (Wilson) interval: for
modules whose full run does not fit the time at hand. mutmut forks a worker per
mutant from a process that has already imported the code and collected the tests,
and runs only the tests that reached the mutated function: on two shared cores
this is what makes a run take minutes, not hours. Not run in CI.

Needs the `mutation` extra: pip install ".[test,mutation]".
"""

from __future__ import annotations

import argparse
import ast
import difflib
import fnmatch
import json
import math
import os
import random
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "mutation" / ".work"
# Survivors shown equivalent by reading them: each with the change it makes and why no test
# can tell it from the original (SQL-case mutants are recognised without a list).
EQUIVALENT = ROOT / "mutation" / "equivalent.toml"

# module -> (source file(s) to mutate, the test files that cover it). Most important first.
MODULES: dict[str, tuple[list[str], list[str]]] = {
    "rules": (["crmcli/rules.py"], ["tests/test_rules.py", "tests/test_rules_pinned.py",
                                    "tests/test_doctests.py"]),
    "classify": (["crmcli/classify.py"], ["tests/test_classify.py",
                                          "tests/test_classify_pinned.py",
                                          "tests/test_doctests.py"]),
    "calls": (["crmcli/calls.py"], ["tests/test_calls.py", "tests/test_calls_pinned.py",
                                    "tests/test_complaints.py", "tests/test_complaints_pinned.py",
                                    "tests/test_care_contacts.py", "tests/test_order_contacts.py"]),
    "stats": (["crmcli/stats.py"], ["tests/test_stats.py", "tests/test_stats_pinned.py",
                                    "tests/test_stats_lists_pinned.py",
                                    "tests/test_complaints.py", "tests/test_doctests.py"]),
    "planner": (["crmcli/planner.py"], ["tests/test_planner.py", "tests/test_planner_pinned.py",
                                        "tests/test_plan_incremental.py",
                                        "tests/test_care_contacts.py",
                                        "tests/test_care_simulation.py",
                                        "tests/test_optouts.py"]),
    # working hours (complaint deadlines) and the holidays of the rules are the calendar's
    # too: their tests are what pin them.
    "calendar": (["crmcli/calendar.py"], ["tests/test_calendar.py",
                                          "tests/test_calendar_pinned.py",
                                          "tests/test_doctests.py",
                                          "tests/test_complaints_pinned.py",
                                          "tests/test_rules_pinned.py"]),
    "normalize": (["crmcli/normalize.py"], ["tests/test_normalize.py",
                                            "tests/test_normalize_pinned.py",
                                            "tests/test_import_parse.py"]),
    # same_person and the merge of records live in importing/merge.py (the whole file is
    # mutated: mutmut selects files, not functions).
    "identity": (["crmcli/importing/merge.py"],
                 ["tests/test_identity_pinned.py", "tests/test_import.py",
                  "tests/test_import_repeats.py", "tests/test_order_contacts.py",
                  "tests/test_duplicates.py", "tests/test_import_misses.py",
                  "tests/test_provenance.py"]),
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
    # mutmut hands pytest back the ids it saw; an escaped id such as "['\\xa0'-parse_vin]"
    # (test_normalize's blank cells) is then not found and the run stops with exit 4.
    lines += ["disable_test_id_escaping_and_forfeit_all_rights_to_community_support = true"]
    lines += ["", "[tool.mutmut]",
              'source_paths = ["crmcli"]',
              # the catalogs too: mutmut copies the package's .py files only, and without
              # them every message is English (a test of the Chinese fails the clean run)
              'also_copy = ["sample_data", "crmcli/locale"]',
              f"only_mutate = {json.dumps(sources)}",
              f"pytest_add_cli_args_test_selection = {json.dumps(tests)}",
              'pytest_add_cli_args = ["-p", "no:cacheprovider", "-q"]',
              # mutmut stops a mutant's tests after (estimated time + constant) x multiplier
              # seconds of wall clock and counts it as caught. Its estimate leaves out fixture
              # set-up, and on a shared, busy machine ten tests can take a minute: with
              # mutmut's 1 s constant, mutants that a test kills or that survive were
              # reported as timed out. A generous bound keeps timeouts for real hangs.
              "timeout_multiplier = 10.0",
              "timeout_constant = 60.0",
              ""]
    (work / "pyproject.toml").write_text("\n".join(lines), "utf-8")
    return work


# A mutant that makes a loop stand still while it appends (offset = step instead of +=)
# grows its list by about a gigabyte a minute until its timeout, ten minutes on: two at
# once and the machine swaps. Each process of a run gets this much address space at most;
# such a mutant still ends at its timeout (counted as caught), but within this memory.
MEMORY_LIMIT = 4 * 1024 ** 3


def _limit_memory() -> None:
    import resource

    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard == resource.RLIM_INFINITY or hard > MEMORY_LIMIT:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, hard))


def mutmut(work: Path, *args: str, capture: bool = False) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("mutmut")
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "mutmut"]
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run(command + list(args), check=False, cwd=work, env=env, text=True,
                          capture_output=capture,
                          preexec_fn=_limit_memory if os.name == "posix" else None)


def generate(work: Path, jobs: int) -> list[str]:
    """Every mutant's name, without running any. mutmut has no generate-only command: a run
    filtered to a name no mutant has writes the mutants and collects which tests reach
    which function (both kept for the next run), then stops at the empty filter."""
    mutmut(work, "run", "--max-children", str(jobs), "__no_mutant_has_this_name__", capture=True)
    return sorted(results(work))


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The 95% (Wilson score) interval of a proportion of k in n: unlike p +- 1.96 sd it
    stays inside 0-1 and is fair near 100%, where mutation scores live."""
    if not n:
        return 0.0, 1.0
    p = k / n
    d = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / d
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return max(0.0, centre - half), min(1.0, centre + half)


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
    return all(a != b and a.lower() == b.lower()
               and (sql.search(a) or _column_list(a) or _comparison(a, b))
               and _QUOTED.findall(a) == _QUOTED.findall(b) for a, b in zip(minus, plus))


# A line of a query that names columns only, "k.severity, k.owner, k.state," or
# "complaint_id, created_at)": SQL without a keyword (a message has words, not a list).
_LITERAL = re.compile(r'f?"([^"]*)"')
_NAME = r"[a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)?"
_COLUMNS = re.compile(rf"\(?\s*{_NAME}(?:\s*,\s*{_NAME})+\s*,?\s*\)?")


def load_equivalents(path: Path = EQUIVALENT) -> dict[str, dict[str, str]]:
    """The survivors shown equivalent: mutant name -> {"change": the lines it changes,
    "why": the reason}. An entry without a reason is not counted."""
    if not path.exists():
        return {}
    entries = tomllib.loads(path.read_text("utf-8"))
    return {name: entry for name, entry in entries.items()
            if isinstance(entry, dict) and str(entry.get("why", "")).strip()}


def _lines(diff: str) -> list[str]:
    return [line.strip() for line in diff.splitlines() if line.strip()]


def judged_equivalent(name: str, diff: str, equivalents: dict[str, dict[str, str]]) -> str | None:
    """The reason a survivor is equivalent, if it is listed with exactly the change it makes
    now. mutmut numbers a function's mutants afresh when the function changes, so a listed
    name whose change differs is a different mutant: it must be looked at again."""
    entry = equivalents.get(name)
    if entry and _lines(entry.get("change", "")) == _lines(diff):
        return " ".join(str(entry["why"]).split())
    return None


def stub(name: str, diff: str) -> str:
    """A TOML entry to fill in for a survivor nobody has judged yet."""
    change = "\n".join(line.strip() for line in _lines(diff))
    # a literal string: code lines hold backslashes (a continued line, a regex) that a
    # basic string would read as escapes
    quote = "'''" if "'''" not in change else '"""'
    if quote == '"""':
        change = change.replace("\\", "\\\\").replace('"""', '\\"""')
    return f'["{name}"]\nchange = {quote}\n{change}\n{quote}\nwhy = ""\n'


def _column_list(line: str) -> bool:
    literal = _LITERAL.fullmatch(line.strip())
    return bool(literal and _COLUMNS.fullmatch(literal.group(1).strip()))


# A condition a query is built from, "m.run_id = ?" or "m.day >= ?": a column, an operator
# and a placeholder, SQL without a keyword (where a Python line picks one of two).
_COMPARISON = re.compile(rf"{_NAME}\s*(?:=|==|!=|<>|<=|>=|<|>)\s*\?")


def _comparison(a: str, b: str) -> bool:
    """True when the line changes only inside string literals, each changed one a comparison
    with a placeholder: the Python around them (names, calls) must be the same."""
    la, lb = _LITERAL.findall(a), _LITERAL.findall(b)
    changed = [x for x, y in zip(la, lb) if x != y]
    return (len(la) == len(lb) and _LITERAL.sub('""', a) == _LITERAL.sub('""', b)
            and bool(changed) and all(_COMPARISON.fullmatch(x.strip()) for x in changed))


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
    parser.add_argument("--sample", type=int, metavar="N",
                        help="run N mutants drawn at random and estimate the score from them")
    parser.add_argument("--seed", type=int, default=17,
                        help="the seed of --sample's draw (default 17: the same draw each time)")
    parser.add_argument("--only", metavar="PATTERN",
                        help="run every mutant whose name matches this pattern (fnmatch), e.g."
                             " '*same_person*': a complete run of one function")
    parser.add_argument("--stubs", type=Path, metavar="FILE",
                        help="write a TOML entry (change filled in, reason empty) for every"
                             " survivor not yet shown equivalent, to copy into"
                             " mutation/equivalent.toml once each is judged")
    parser.add_argument("--again", action="store_true",
                        help="keep the last run's results and run again only the mutants that"
                             " survived, reached no test or have no result (after new tests or"
                             " a change of the code); within the last --sample when it was one")
    args = parser.parse_args(argv)
    if args.sample is not None and args.sample < 1:
        parser.error("--sample needs a number of mutants, 1 or more")

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
    equivalents = load_equivalents()
    stubs: list[str] = []
    for module in chosen:
        sources, tests = (existing(p) for p in MODULES[module])
        if not sources or not tests:
            print(f"== {module}: nothing to mutate or no tests here, skipped")
            continue
        print(f"== {module}: mutating {' '.join(sources)} against {' '.join(tests)}", flush=True)
        work = WORK / module
        drawn: dict | None = None
        if args.report:
            run = subprocess.CompletedProcess([], 0 if (work / "mutants").exists() else 1, "", "")
            if (work / "sample.json").exists():
                drawn = json.loads((work / "sample.json").read_text("utf-8"))
        elif args.again:
            # Killed mutants stay killed when tests are only added; mutmut itself drops the
            # results of the functions whose code changed (it hashes each function).
            work = prepare(module, sources, tests, keep=True)
            everyone = generate(work, args.jobs)
            if (work / "sample.json").exists():
                drawn = json.loads((work / "sample.json").read_text("utf-8"))
            scope = drawn["names"] if drawn else everyone
            before = results(work)
            names = [k for k in scope if before.get(k) in (None, 0, 5, 33)]
            print(f"   running {len(names)} again (survived, no tests or not run yet)",
                  flush=True)
            run = (mutmut(work, "run", "--max-children", str(args.jobs), *names, capture=True)
                   if names else subprocess.CompletedProcess([], 0, "", ""))
        else:
            work = prepare(module, sources, tests, args.keep)
            (work / "sample.json").unlink(missing_ok=True)
            if args.only:
                everyone = generate(work, args.jobs)
                names = [k for k in everyone if fnmatch.fnmatch(k, args.only)]
                if not names:
                    print(f"== {module}: no mutant matches {args.only!r}")
                    summary[module] = {"error": "no match"}
                    continue
                drawn = {"only": args.only, "population": len(names), "names": names}
                (work / "sample.json").write_text(json.dumps(drawn, indent=1), "utf-8")
                print(f"   the {len(names)} mutants matching {args.only!r}", flush=True)
                run = mutmut(work, "run", "--max-children", str(args.jobs), *names, capture=True)
            elif args.sample:
                everyone = generate(work, args.jobs)
                if not everyone:
                    print(f"== {module}: mutmut made no mutants")
                    summary[module] = {"error": "no mutants"}
                    continue
                names = sorted(random.Random(args.seed).sample(
                    everyone, min(args.sample, len(everyone))))
                drawn = {"seed": args.seed, "population": len(everyone), "names": names}
                (work / "sample.json").write_text(json.dumps(drawn, indent=1), "utf-8")
                print(f"   a sample of {len(names)} of its {len(everyone)} mutants"
                      f" (seed {args.seed})", flush=True)
                run = mutmut(work, "run", "--max-children", str(args.jobs), *names, capture=True)
            else:
                run = mutmut(work, "run", "--max-children", str(args.jobs), capture=True)
        if run.returncode:
            print(run.stdout[-3000:], run.stderr[-3000:], sep="\n")
            print(f"== {module}: mutmut failed ({run.returncode})")
            summary[module] = {"error": run.returncode}
            continue
        codes = results(work)
        if drawn is not None:
            codes = {k: codes.get(k) for k in drawn["names"]}
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
        if drawn is not None and "only" in drawn:
            print(f"{module}: all {total} mutants matching {drawn['only']!r} (a complete run"
                  f" of those)")
        elif drawn is not None:
            low, high = wilson(len(killed) + len(timeouts), total)
            summary[module].update(sample=total, population=drawn["population"],
                                   seed=drawn["seed"], interval=[round(low, 4), round(high, 4)])
            print(f"{module}: a SAMPLE of {total} of {drawn['population']} mutants (seed"
                  f" {drawn['seed']}): estimated {score:.1%} killed, 95% interval"
                  f" {low:.1%}-{high:.1%}")
        print(f"{module}: {score:.1%} killed ({len(killed)} killed + {len(timeouts)} timed out"
              f" of {total}; {len(survived)} survived, {len(untested)} reached by no test"
              f"{f', {len(other)} other' if other else ''})")
        cache: dict = {}
        equivalent, judged, unexplained = [], [], []
        for name in survived + untested + other + timeouts:
            status = "survived" if name in survived else (
                "no tests" if name in untested else
                "timed out (counted as caught)" if name in timeouts else f"exit {codes[name]}")
            diff = changed_lines(work, name, cache)
            why = judged_equivalent(name, diff, equivalents) if name in survived else None
            if name in survived and sql_case_only(diff):
                equivalent.append(name)
                status = "survived, equivalent: only the case of SQL text"
            elif why:
                judged.append(name)
                status = f"survived, equivalent: {why}"
            elif name not in timeouts:
                unexplained.append(name)
                stubs.append(stub(name, diff))
                if name in equivalents:
                    status += ("; listed in equivalent.toml with another change: the function"
                               " changed, judge it again")
            print(f"  {name} [{status}]")
            if not args.no_diff:
                print(diff)
        real = total - len(equivalent) - len(judged)
        summary[module]["equivalent_sql_case"] = equivalent
        summary[module]["equivalent_judged"] = judged
        summary[module]["unexplained"] = unexplained
        summary[module]["score_without_equivalent"] = round(
            (len(killed) + len(timeouts)) / real, 4) if real else 1.0
        print(f"{module}: {summary[module]['score_without_equivalent']:.1%} of the {real} mutants"
              f" that are not equivalent ({len(equivalent)} only change the case of SQL text,"
              f" {len(judged)} are shown equivalent in mutation/equivalent.toml);"
              f" {len(unexplained)} neither killed nor shown equivalent")
        if drawn is not None and "only" not in drawn:
            low, high = wilson(len(killed) + len(timeouts), real)
            summary[module]["interval_without_equivalent"] = [round(low, 4), round(high, 4)]
            print(f"{module}: without them, 95% interval {low:.1%}-{high:.1%}")
        sys.stdout.flush()

    print("\n== scores")
    for module, figures in summary.items():
        if "error" in figures:
            print(f"{module:10} mutmut failed")
        else:
            sample = (f" SAMPLE of {figures['population']} (seed {figures['seed']}), 95%"
                      f" {figures['interval'][0]:.1%}-{figures['interval'][1]:.1%};"
                      if "sample" in figures else "")
            print(f"{module:10} {figures['score']:7.1%}  {figures['killed'] + figures['timeout']:5}"
                  f" / {figures['total']:<5}{sample} survived {len(figures['survived'])},"
                  f" no tests {len(figures['no_tests'])};"
                  f" {figures['score_without_equivalent']:.1%} without the"
                  f" {len(figures['equivalent_sql_case'])} SQL-case and"
                  f" {len(figures['equivalent_judged'])} judged equivalents;"
                  f" {len(figures['unexplained'])} unexplained")
    if args.stubs:
        args.stubs.write_text("\n".join(stubs), "utf-8")
        print(f"\n{len(stubs)} entries to judge written to {args.stubs}")
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2), "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
