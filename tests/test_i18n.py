"""The clerk's language: catalogs in step with the code, the choice of language, help in both."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from crmcli import i18n
from crmcli.cli import app

HAN = re.compile(r"[\u4e00-\u9fff]")


def invoke(*args, lang="en"):
    return CliRunner().invoke(app, [str(a) for a in args], env={"CRMCLI_LANG": lang})


def test_po_round_trip_keeps_newlines_quotes_tabs_and_click_markers(tmp_path):
    entries = [{"msgid": 'say "hi"\n\n\b\n  crmcli today', "msgstr": "说“你好”\n\b\n  crmcli today"},
               {"msgid": "a\\b\tc", "msgstr": ""},
               {"msgid": "one line", "msgstr": "一行", "fuzzy": True}]
    path = tmp_path / "x.po"
    i18n.write_po(path, entries, "zh_CN")
    back = [e for e in i18n.parse_po(path.read_text(encoding="utf-8")) if e["msgid"]]
    assert [(e["msgid"], e["msgstr"]) for e in back] == [(e["msgid"], e["msgstr"]) for e in entries]
    # Untranslated and fuzzy entries show the English.
    assert i18n.load_po(path) == {'say "hi"\n\n\b\n  crmcli today': "说“你好”\n\b\n  crmcli today"}


@pytest.mark.parametrize("env, settings, expected", [
    ({"CRMCLI_LANG": "zh_CN"}, None, "zh_CN"),
    ({"CRMCLI_LANG": "en", "LANG": "zh_CN.UTF-8"}, "zh_CN", "en"),   # the variable beats all
    ({"LANG": "zh_CN.UTF-8"}, None, "zh_CN"),
    ({"LANG": "zh_TW.UTF-8"}, None, "zh_CN"),
    ({"LANG": "en_US.UTF-8"}, None, "en"),
    ({"LANG": "C.UTF-8"}, None, "en"),
    ({}, None, "en"),
    ({"LANG": "en_US.UTF-8"}, "zh_CN", "zh_CN"),                       # settings beat the locale
    ({"LANG": "zh_CN.UTF-8", "LC_ALL": "en_US.UTF-8"}, None, "en"),     # LC_ALL beats LANG
])
def test_the_language_comes_from_the_variable_then_the_settings_then_the_locale(
        monkeypatch, env, settings, expected):
    for var in ("CRMCLI_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(var, raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setattr(i18n, "_settings_language", None)
    i18n.set_settings_language(settings)
    assert i18n.language() == expected


def test_every_string_in_the_code_is_in_the_chinese_catalog_and_translated():
    """Fails when a string was added or changed: run `python -m crmcli.i18n update`,
    then fill in the Chinese msgstr in crmcli/locale/zh_CN/LC_MESSAGES/crmcli.po."""
    found = i18n.extract()
    catalog = i18n.load_po(i18n.LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / "crmcli.po")
    missing = sorted(m for m in found if m not in catalog)
    assert not missing, f"not translated (see this test's docstring): {missing[:5]}"
    # A translation keeps the placeholders of its English.
    for msgid in found:
        assert sorted(re.findall(r"\{[^}]*\}", catalog[msgid])) == \
            sorted(re.findall(r"\{[^}]*\}", msgid)), msgid


def test_both_catalogs_ship_with_the_package():
    import tomllib
    from pathlib import Path

    pyproject = tomllib.loads((Path(i18n.__file__).parent.parent / "pyproject.toml").read_text())
    assert "locale/*/LC_MESSAGES/*.po" in pyproject["tool"]["setuptools"]["package-data"]["crmcli"]
    for lang in i18n.LANGUAGES:
        assert (i18n.LOCALE_DIR / lang / "LC_MESSAGES" / "crmcli.po").is_file()


def _commands():
    import typer.main

    out = []

    def walk(c, path):
        subs = getattr(c, "commands", None)
        if subs:
            out.append((path, c))
            for name, sub in subs.items():
                walk(sub, path + (name,))
        else:
            out.append((path, c))

    walk(typer.main.get_command(app), ())
    return out


@pytest.mark.parametrize("path", [p for p, _ in _commands()], ids=lambda p: " ".join(p) or "root")
def test_every_help_in_chinese_and_in_english(path):
    zh = invoke(*path, "--help", lang="zh_CN")
    en = invoke(*path, "-h", lang="en")
    assert zh.exit_code == 0 and en.exit_code == 0
    assert zh.stdout.startswith("用法：") and en.stdout.startswith("Usage: ")
    assert "显示本帮助并退出" in zh.stdout and "Show this message and exit." in en.stdout
    # The command's own description is translated (its first line is Chinese).
    description = zh.stdout.split("\n\n")[1].strip()
    assert HAN.search(description), description
    assert "Options" not in zh.stdout and "选项" not in en.stdout


def test_a_usage_error_is_told_in_the_language_with_the_same_exit_code():
    zh = invoke("today", "--nope", lang="zh_CN")
    en = invoke("today", "--nope", lang="en")
    assert zh.exit_code == en.exit_code == 2
    assert "错误：没有这个选项：--nope" in zh.stderr and "查看帮助" in zh.stderr
    assert "Error: No such option: --nope" in en.stderr
    bad = invoke("today", "--date", "26.11.2026", lang="zh_CN")
    assert bad.exit_code == 2 and "不是日期" in bad.stderr and "Traceback" not in bad.output


def test_version_and_short_help():
    from crmcli import __version__

    r = invoke("--version")
    assert r.exit_code == 0 and r.stdout == f"crmcli {__version__}\n"
    assert invoke("-h").exit_code == 0
