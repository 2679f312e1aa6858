"""The mutation tool's own arithmetic (mutation/run.py is a script, not a package)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location(
    "mutation_run", Path(__file__).resolve().parent.parent / "mutation" / "run.py")
run = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(run)


@pytest.mark.parametrize(("k", "n", "low", "high"), [
    # 45 of 50: p = 0.9, z^2 = 3.8416, d = 1 + 3.8416/50 = 1.076832;
    # centre = (0.9 + 0.038416)/d = 0.87146; half = 1.96 sqrt(0.0018 + 0.00038416)/d = 0.08507.
    (45, 50, 0.7864, 0.9565),
    # 10 of 10: centre = (1 + 0.19208)/1.38416 = 0.86127; half = 1.96 * 0.098/1.38416 = 0.13877.
    (10, 10, 0.7225, 1.0),
    (0, 10, 0.0, 0.2775),   # the mirror image of 10 of 10
])
def test_the_wilson_interval(k, n, low, high):
    got = run.wilson(k, n)
    assert got == (pytest.approx(low, abs=1e-4), pytest.approx(high, abs=1e-4))


def test_no_sample_says_nothing():
    assert run.wilson(0, 0) == (0.0, 1.0)


def test_only_the_case_of_sql_text_is_equivalent():
    same = '      - "SELECT id FROM calls WHERE x = ?"\n      + "select id from calls where x = ?"'
    assert run.sql_case_only(same)
    quoted = "      - \"WHERE state = 'open'\"\n      + \"WHERE STATE = 'OPEN'\""
    assert not run.sql_case_only(quoted)       # a quoted value is data: 'OPEN' != 'open'
    python = '      - x = a or b\n      + x = A OR B'
    assert not run.sql_case_only(python)       # no SQL keyword in capitals: Python, not SQL


def test_a_line_of_column_names_is_sql_too():
    columns = ('      - " k.severity, k.owner, k.state,"\n'
               '      + " K.SEVERITY, K.OWNER, K.STATE,"')
    assert run.sql_case_only(columns)
    closing = ('      - " complaint_id, created_at, metric)"\n'
               '      + " COMPLAINT_ID, CREATED_AT, METRIC)"')
    assert run.sql_case_only(closing)
    message = ('      - "an action is corrective or preventive"\n'
               '      + "AN ACTION IS CORRECTIVE OR PREVENTIVE"')
    assert not run.sql_case_only(message)      # words, not a list of columns: what a clerk reads


def test_a_quoted_comparison_with_a_placeholder_is_sql_too():
    run_id = ('      - where, params = "m.run_id = ?", (row[0] or 0,)\n'
              '      + where, params = "M.RUN_ID = ?", (row[0] or 0,)')
    assert run.sql_case_only(run_id)
    since = ('      - where, params = "m.day >= ?", (since.isoformat(),)\n'
             '      + where, params = "M.DAY >= ?", (since.isoformat(),)')
    assert run.sql_case_only(since)
    python = ('      - where, params = "m.day >= ?", (since.isoformat(),)\n'
              '      + WHERE, PARAMS = "M.DAY >= ?", (SINCE.ISOFORMAT(),)')
    assert not run.sql_case_only(python)       # the Python around it changed: other names
    number = '      - note = "day >= 3"\n      + note = "DAY >= 3"'
    assert not run.sql_case_only(number)       # no placeholder: a text, not a query's condition
    words = '      - msg = "continue? "\n      + msg = "CONTINUE? "'
    assert not run.sql_case_only(words)


def test_every_module_names_files_that_exist():
    for module, (sources, tests) in run.MODULES.items():
        assert run.existing(sources) == sources, module
        assert run.existing(tests) == tests, module


def test_a_listed_survivor_is_equivalent_only_with_the_change_it_was_judged_for(tmp_path):
    listed = tmp_path / "equivalent.toml"
    listed.write_text('["crmcli.rules.x_f__mutmut_3"]\n'
                      'change = """\n- return a + b\n+ return b + a\n"""\n'
                      'why = "addition of numbers commutes"\n'
                      '["crmcli.rules.x_f__mutmut_4"]\n'
                      'change = """\n- x = 1\n+ x = 2\n"""\n'
                      'why = ""\n', "utf-8")
    equivalents = run.load_equivalents(listed)
    assert list(equivalents) == ["crmcli.rules.x_f__mutmut_3"]    # no reason, not counted
    same = "      - return a + b\n      + return b + a"
    assert run.judged_equivalent("crmcli.rules.x_f__mutmut_3", same, equivalents) == (
        "addition of numbers commutes")
    # the function changed and mutmut renumbered: mutant 3 is now another change
    other = "      - return a + b\n      + return a - b"
    assert run.judged_equivalent("crmcli.rules.x_f__mutmut_3", other, equivalents) is None
    assert run.judged_equivalent("crmcli.rules.x_f__mutmut_9", same, equivalents) is None


def test_every_judged_equivalent_says_why_and_names_a_mutated_module():
    import tomllib

    entries = tomllib.loads(run.EQUIVALENT.read_text("utf-8"))
    sources = {s.removesuffix(".py").replace("/", ".")
               for mapped, _ in run.MODULES.values() for s in mapped}
    for name, entry in entries.items():
        assert entry["why"].strip(), name
        assert entry["change"].strip(), name
        assert any(name.startswith(source + ".x") for source in sources), name


@pytest.mark.parametrize("diff", [
    '      - if days >= 30:\n      + if days > 30:',
    # a continued line and a regex: backslashes a basic TOML string would read as escapes
    "      -        x = a + \\\n      +        x = a - \\",
    '      -    m = re.match(r"\\d+", s)\n      +    m = re.match(r"XX\\d+XX", s)',
    # a docstring line: ''' in the change itself
    "      -    '''Text.'''\n      +    '''XXText.XX'''",
])
def test_a_stub_reads_back_as_the_change_it_was_written_for(tmp_path, diff):
    listed = tmp_path / "equivalent.toml"
    listed.write_text(run.stub("crmcli.rules.x_f__mutmut_1", diff).replace(
        'why = ""', 'why = "a reason"'), "utf-8")
    equivalents = run.load_equivalents(listed)
    assert run.judged_equivalent("crmcli.rules.x_f__mutmut_1", diff, equivalents) == "a reason"
