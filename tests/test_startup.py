"""Start-up: `crmcli --help` lists the commands from a table without importing their
modules, and that listing is the one the real commands give, in both languages."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Runs the root help in a fresh process; with "all" first builds every command
# (imports every command module), as the test-suite's walks do.
HELP = """
import io, contextlib, sys
from crmcli.cli import app
import typer.main
group = typer.main.get_command(app)
if sys.argv[1] == "all":
    [group.commands[name] for name in list(group.commands)]
out = io.StringIO()
with contextlib.redirect_stdout(out):
    try:
        group.main(["--help"], prog_name="crmcli")
    except SystemExit:
        pass
loaded = sorted(m for m in sys.modules if m.startswith("crmcli.cli."))
print(out.getvalue() + "\\n--\\n" + " ".join(loaded))
"""


def _root_help(lang: str, load: str) -> tuple[str, list[str]]:
    env = dict(os.environ, CRMCLI_LANG=lang, COLUMNS="100", PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", HELP, load], env=env, capture_output=True,
                         text=True, check=True, cwd=ROOT).stdout
    text, _, modules = out.rpartition("\n--\n")
    return text, modules.split()


def test_the_table_of_commands_is_what_the_modules_register():
    """listing.py: every top-level command and group, the modules to import for it, its
    help text. Out of step (a command added, renamed, re-documented or moved)? Run
    `python -m crmcli.i18n update` and commit crmcli/cli/listing.py."""
    from crmcli.cli import lazy, listing

    assert tuple(lazy.real_commands()) == listing.COMMANDS


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_the_listing_from_the_table_is_the_listing_of_the_real_commands(lang):
    lazy_text, lazy_modules = _root_help(lang, "none")
    real_text, real_modules = _root_help(lang, "all")
    assert lazy_text == real_text
    assert "today" in lazy_text and "template" in lazy_text
    # The root help imported no command module; the other run imported them all.
    assert lazy_modules == ["crmcli.cli.base", "crmcli.cli.helptext", "crmcli.cli.lazy",
                            "crmcli.cli.listing"]
    assert {"crmcli.cli.day", "crmcli.cli.sms", "crmcli.cli.store"} <= set(real_modules)


def test_a_command_imports_its_own_modules_only():
    """`today --help` imports day.py; `import --help` imports imports.py and sms.py,
    which adds `import sms-report`."""
    code = ("import sys; from crmcli.cli import app\n"
            "try:\n    app(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m[11:] for m in sys.modules if m.startswith('crmcli.cli.')"
            " and m[11:] not in ('base', 'helptext', 'lazy', 'listing')))")
    env = dict(os.environ, CRMCLI_LANG="en", COLUMNS="100", PYTHONPATH=str(ROOT))

    def run(*args):
        r = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True,
                           text=True, check=True, cwd=ROOT)
        return r.stdout

    today = run("today", "--help")
    assert today.rstrip().endswith("['day']") and "--kind" in today
    imports = run("import", "--help")
    assert imports.rstrip().endswith("['imports', 'sms']") and "sms-report" in imports


def test_a_mistyped_command_is_refused():
    from typer.testing import CliRunner

    from crmcli.cli import app

    r = CliRunner().invoke(app, ["todya"])
    assert r.exit_code == 2 and "No such command 'todya'" in r.stderr


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_the_fast_catalog_reader_gives_what_the_full_parser_gives(lang):
    """`load_po` (every run) reads with two regular expressions; `parse_po` (the
    update tool) reads line by line. Both catalogs, as shipped, read the same."""
    from crmcli import i18n

    path = i18n.LOCALE_DIR / lang / "LC_MESSAGES" / "crmcli.po"
    full = {e["msgid"]: e["msgstr"] for e in i18n.parse_po(path.read_text(encoding="utf-8"))
            if e["msgid"] and e.get("msgstr") and not e.get("fuzzy")}
    assert i18n.load_po(path) == full
    if lang == "zh_CN":
        assert len(full) > 100


def test_the_fast_catalog_reader_on_what_translators_write(tmp_path):
    """Strings continued over several lines, escapes, a fuzzy flag among other
    comments, trailing blanks, entries with no blank line between them."""
    from crmcli import i18n

    path = tmp_path / "x.po"
    path.write_text(
        'msgid ""\nmsgstr ""\n"Language: zh_CN\\n"\n\n'
        '#: a.py:1\nmsgid ""\n"Two\\n"\n"lines \\"quoted\\"\\t"\nmsgstr "两行\\n“引号”"  \n'
        '#: b.py:2\n#, fuzzy, python-format\nmsgid "Fuzzy"\nmsgstr "模糊"\n'
        'msgid "Empty"\nmsgstr ""\n\n'
        '#. a note\nmsgid "Back\\\\slash"\nmsgstr ""\n"反\\\\斜"\n', encoding="utf-8")
    expected = {'Two\nlines "quoted"\t': "两行\n“引号”", "Back\\slash": "反\\斜"}
    assert i18n.load_po(path) == expected
    assert {e["msgid"]: e["msgstr"] for e in i18n.parse_po(path.read_text(encoding="utf-8"))
            if e["msgid"] and e["msgstr"] and not e.get("fuzzy")} == expected
