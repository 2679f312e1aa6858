"""What the clerk reads, in Chinese or English: gettext catalogs, chosen once per run.

Every user-facing string is written in English in the code and wrapped in ``_()``;
its Chinese is in ``crmcli/locale/zh_CN/LC_MESSAGES/crmcli.po``::

    from crmcli.i18n import _

    print(_("{count} customers classified for {day}").format(count=n, day=when))

Put the placeholders inside the string (``{count}``), never glue translated pieces
together: word order differs between the languages. ``N_()`` marks a string for the
catalog where it is defined and leaves it untranslated; ``_()`` translates it where it
is shown. Help texts need no marking: command docstrings and ``help=`` strings in
``crmcli/cli/`` are collected into the catalogs and translated when ``--help`` is shown.
After adding strings, ``python -m crmcli.i18n update`` adds them to both catalogs;
fill in the Chinese ``msgstr`` (an empty one shows the English).

The language: ``$CRMCLI_LANG`` (``zh_CN`` or ``en``), else ``language`` under ``[ui]``
in the settings file, else the locale (``$LC_ALL``, ``$LC_MESSAGES``, ``$LANG``):
Chinese when it starts with ``zh``, English otherwise. The catalogs are read from the
.po files themselves (a few milliseconds), so there is no compiled file to keep in step.
JSON keys and exit codes never change with the language.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

LOCALE_DIR = Path(__file__).with_name("locale")
DOMAIN = "crmcli"
LANGUAGES = ("zh_CN", "en")

_settings_language: str | None = None
_catalogs: dict[str, dict[str, str]] = {}


def normalize(value: str | None) -> str | None:
    """``zh_CN.UTF-8``, ``zh``, ``zh-Hans``, ``中文`` -> ``zh_CN``; ``en_US``, ``C`` -> ``en``."""
    if not value:
        return None
    v = value.strip().lower()
    if v in ("c", "posix"):
        return "en"
    if v.startswith("zh") or v in ("中文", "chinese", "cn"):
        return "zh_CN"
    if v.startswith("en"):
        return "en"
    return None


def set_settings_language(value: str | None) -> None:
    """The ``[ui] language`` of the settings file in use (beaten by ``$CRMCLI_LANG``)."""
    global _settings_language
    _settings_language = normalize(value)


def language() -> str:
    """``zh_CN`` or ``en`` for this run."""
    env = normalize(os.environ.get("CRMCLI_LANG"))
    if env:
        return env
    if _settings_language:
        return _settings_language
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var)
        if value:
            return "zh_CN" if value.lower().startswith("zh") else "en"
    return "en"


def _(message: str) -> str:
    """The message in this run's language (the English itself when not translated)."""
    lang = language()
    catalog = _catalogs.get(lang)
    if catalog is None:
        catalog = _catalogs[lang] = load_po(LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po")
    return catalog.get(message) or message


def N_(message: str) -> str:  # noqa: N802 (the gettext convention)
    """Mark a string for the catalogs without translating it here."""
    return message


# --------------------------------------------------------------------------- .po files

_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "r": "\r", "b": "\b"}
_ESCAPE_RE = re.compile(r"\\(.)")


def _unquote(text: str) -> str:
    text = text.strip()
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        raise ValueError(f"not a quoted string: {text!r}")
    return _ESCAPE_RE.sub(lambda m: _ESCAPES.get(m.group(1), m.group(1)), text[1:-1])


def parse_po(text: str) -> list[dict]:
    """The entries of a .po file: msgid, msgstr, fuzzy flag and references, in order."""
    entries: list[dict] = []
    entry: dict = {}
    field = None

    def finish():
        nonlocal entry, field
        if "msgid" in entry:
            entries.append(entry)
        entry, field = {}, None

    for line in text.splitlines():
        s = line.strip()
        if not s:
            finish()
            continue
        if s.startswith("#"):
            if field is not None and "msgstr" in entry:
                finish()
            if s.startswith("#,") and "fuzzy" in s:
                entry["fuzzy"] = True
            elif s.startswith("#:"):
                entry.setdefault("refs", []).append(s[2:].strip())
            continue
        if s.startswith("msgid "):
            if "msgstr" in entry:
                finish()
            field = "msgid"
            entry[field] = _unquote(s[6:])
        elif s.startswith("msgstr "):
            field = "msgstr"
            entry[field] = _unquote(s[7:])
        elif s.startswith('"') and field:
            entry[field] += _unquote(s)
        # msgctxt and plural forms are not used by crmcli
    finish()
    return entries


# ``load_po`` reads a catalog in two passes of the regular-expression engine (about a
# third of the time ``parse_po`` takes, which every run paid once): the first joins
# each string continued on the next lines into one line, the second finds each entry,
# its comment lines (for the fuzzy flag), its msgid and its msgstr.
_CONTINUED_RE = re.compile(r'"[ \t]*\n[ \t]*"')
_ENTRY_RE = re.compile(r'^((?:[ \t]*#.*\n)*)[ \t]*msgid[ \t]+"(.*)"[ \t]*\n'
                       r'[ \t]*msgstr[ \t]+"(.*)"[ \t]*$', re.MULTILINE)


def _unescape(text: str) -> str:
    if "\\" not in text:
        return text
    return _ESCAPE_RE.sub(lambda m: _ESCAPES.get(m.group(1), m.group(1)), text)


def _fuzzy(comments: str) -> bool:
    return "fuzzy" in comments and any(line.lstrip().startswith("#,") and "fuzzy" in line
                                       for line in comments.split("\n"))


def load_po(path: Path) -> dict[str, str]:
    """msgid -> msgstr for the translated, non-fuzzy entries of one catalog: what
    ``parse_po`` gives (``tests/test_i18n.py`` checks it on both catalogs), faster."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return {}
    return {_unescape(msgid): _unescape(msgstr)
            for comments, msgid, msgstr in _ENTRY_RE.findall(_CONTINUED_RE.sub("", text))
            if msgid and msgstr and not (comments and _fuzzy(comments))}


def _quote(text: str) -> str:
    body = text.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t").replace("\b", "\\b")
    if "\n" not in body:
        return f'"{body}"'
    lines = body.split("\n")
    parts = [line + "\\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])
    return '""\n' + "\n".join(f'"{p}"' for p in parts)


def write_po(path: Path, entries: list[dict], lang: str) -> None:
    header = (f'msgid ""\nmsgstr ""\n"Project-Id-Version: crmcli\\n"\n"Language: {lang}\\n"\n'
              '"MIME-Version: 1.0\\n"\n"Content-Type: text/plain; charset=UTF-8\\n"\n'
              '"Content-Transfer-Encoding: 8bit\\n"\n')
    out = [header]
    for e in entries:
        lines = [f"#: {r}" for r in e.get("refs", [])]
        if e.get("fuzzy"):
            lines.append("#, fuzzy")
        lines.append("msgid " + _quote(e["msgid"]))
        lines.append("msgstr " + _quote(e.get("msgstr", "")))
        out.append("\n".join(lines) + "\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(out), encoding="utf-8")


# --------------------------------------------------------------------------- extraction


def extract(root: Path | None = None) -> dict[str, list[str]]:
    """Every translatable string in the package: msgid -> where it is used.

    ``_("...")`` and ``N_("...")`` with a literal anywhere; in ``cli/`` also every
    ``help="..."`` and the docstring of every function given to ``.command()`` or
    ``.callback()``, cleaned as ``--help`` shows them.
    """
    import ast
    import inspect

    root = root or Path(__file__).parent
    found: dict[str, list[str]] = {}

    def add(text, where):
        if isinstance(text, str) and text.strip():
            found.setdefault(text, []).append(where)

    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root.parent).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        in_cli = "cli" in path.relative_to(root).parts[:-1]
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if name in ("_", "N_") and node.args and isinstance(node.args[0], ast.Constant):
                    add(node.args[0].value, f"{rel}:{node.lineno}")
                if in_cli:
                    for kw in node.keywords:
                        if kw.arg == "help" and isinstance(kw.value, ast.Constant):
                            add(inspect.cleandoc(kw.value.value), f"{rel}:{node.lineno}")
            if in_cli and isinstance(node, ast.FunctionDef) and any(
                isinstance(d, ast.Call) and getattr(d.func, "attr", None) in ("command", "callback")
                for d in node.decorator_list
            ):
                doc = ast.get_docstring(node, clean=True)
                add(doc, f"{rel}:{node.lineno}")
    return found


def update(root: Path | None = None) -> dict[str, int]:
    """Bring both catalogs in step with the code: new msgids added, gone ones dropped."""
    found = extract(root)
    counts = {}
    for lang in LANGUAGES:
        path = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
        old = {}
        if path.exists():
            old = {e["msgid"]: e for e in parse_po(path.read_text(encoding="utf-8")) if e["msgid"]}
        entries = []
        for msgid, refs in found.items():
            e = dict(old.get(msgid, {"msgid": msgid, "msgstr": ""}))
            e["refs"] = sorted(set(refs))[:3]
            entries.append(e)
        write_po(path, entries, lang)
        counts[lang] = sum(1 for e in entries if not e.get("msgstr"))
    return counts


if __name__ == "__main__":  # pragma: no cover
    import sys

    if sys.argv[1:] != ["update"]:
        sys.exit("usage: python -m crmcli.i18n update")
    missing = update()
    for lang, n in missing.items():
        print(f"{lang}: {n} strings without a translation")
    from crmcli.cli import lazy

    if lazy.update():
        print("crmcli/cli/listing.py: the commands listed by crmcli --help brought in step")
