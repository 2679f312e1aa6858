"""Chinese --help fits the terminal: wrapped by display width (a Chinese character takes
two columns), not by counting characters as Click does."""

from __future__ import annotations

import re

import pytest
import typer.main

from crmcli.cli import app
from crmcli.cli.helptext import cells, translate, wrap, wrap_paragraphs


def _paths():
    out = []

    def walk(c, path):
        out.append(path)
        for name, sub in (getattr(c, "commands", None) or {}).items():
            walk(sub, path + (name,))

    walk(typer.main.get_command(app), ())
    return out


PATHS = _paths()


def help_text(path, columns, lang="zh_CN"):
    """The help as a terminal of ``columns`` gets it. (CliRunner pins Click's width to 80
    whatever COLUMNS says, so the command is run directly, its output captured.)"""
    import contextlib
    import io
    import os

    saved = {k: os.environ.get(k) for k in ("CRMCLI_LANG", "COLUMNS")}
    os.environ.update(CRMCLI_LANG=lang, COLUMNS=str(columns))
    buffer = io.StringIO()
    try:
        with contextlib.redirect_stdout(buffer):
            code = typer.main.get_command(app).main([*path, "--help"], prog_name="crmcli",
                                                    standalone_mode=False)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    assert code in (0, None)
    return buffer.getvalue()


def test_the_width_is_the_terminals():
    # The check below is only as good as this: at 60 columns the help is narrower.
    wide = max(cells(line) for line in help_text(("import", "orders"), 80).splitlines())
    narrow = max(cells(line) for line in help_text(("import", "orders"), 60).splitlines())
    assert 60 < wide <= 80 and narrow <= 60


@pytest.mark.parametrize("columns", [80, 60])
def test_every_chinese_help_line_fits_the_terminal(columns):
    for path in PATHS:
        for line in help_text(path, columns).splitlines():
            assert cells(line) <= columns, (" ".join(path), columns, line, cells(line))


def _bare(text: str) -> str:
    """The text without its spacing or a shell continuation: what wrapping may change."""
    return re.sub(r"\s|\x08", "", text.replace(" \\\n", "\n"))


@pytest.mark.parametrize("path", [("import", "orders"), ("call",), ("stats", "unsatisfied"),
                                  ("action", "add")])
@pytest.mark.parametrize("columns", [80, 60])
def test_wrapping_loses_and_reorders_nothing(path, columns, monkeypatch):
    monkeypatch.setenv("CRMCLI_LANG", "zh_CN")
    command = typer.main.get_command(app)
    for name in path:
        command = command.commands[name]
    shown = _bare(help_text(path, columns))
    for param in command.params:
        if getattr(param, "help", None):
            assert _bare(translate(command._english(param))) in shown, param.name
    assert _bare(translate(command._english(command))) in shown


def test_english_help_is_wrapped_as_before():
    # ASCII text is left to Click: the same lines as Click's own formatter gives.
    text = help_text(("today",), 80, lang="en")
    assert "  --limit INTEGER RANGE" in text or "--limit" in text
    assert all(len(line) <= 80 for line in text.splitlines())


@pytest.mark.parametrize("text, width, lines", [
    # Two columns a Chinese character: ten fit in twenty columns, the eleventh does not.
    ("一二三四五六七八九十一", 20, ["一二三四五六七八九十", "一"]),
    ("一二三四五六七八九十", 20, ["一二三四五六七八九十"]),
    # A closing mark stays with the character before it, never starts a line.
    ("一二三四五六七八九十，一", 20, ["一二三四五六七八九", "十，一"]),
    # An opening mark stays with what follows it, never ends a line.
    ("一二三四五六七八九（十）", 20, ["一二三四五六七八九", "（十）"]),
    # Words are not cut; a space between a word and Chinese is a place to break.
    ("默认取 $CRMCLI_DB，否则", 12, ["默认取", "$CRMCLI_DB，", "否则"]),
    # A word wider than the line is cut, as Click does.
    ("abcdefghij", 4, ["abcd", "efgh", "ij"]),
])
def test_wrap_by_display_width(text, width, lines):
    assert wrap(text, width).split("\n") == lines


def test_an_example_too_wide_goes_on_under_a_deeper_indent_pasteable():
    text = "示例：\n\n\b\n  crmcli import orders 维修工单.xls 工单2.csv --rejects fix.xlsx"
    out = wrap_paragraphs(text, 40, "  ")
    assert out.split("\n") == ["  示例：", "",
                               "    crmcli import orders 维修工单.xls \\",
                               "        工单2.csv --rejects fix.xlsx"]
