"""``--help`` and usage errors in the clerk's language.

The docstrings and ``help=`` strings stay English in the code; they are looked up
in the catalogs when the help is shown (not when the module is imported), so one
process can show both languages and the language can come from the settings file.
Typer's copy of Click writes "Usage:", the help option's text and the frame of a
usage error as plain strings, so these classes supply their own.

A help text may name ``{kinds}``, ``{channels}``, ``{classes}``, ``{outcomes}``...:
the values registered with ``help_value`` are filled in, in the language shown.
"""

from __future__ import annotations

import re
import sys
from typing import Callable

import typer
from typer._click import Context
from typer._click.formatting import HelpFormatter
from typer.core import TyperCommand, TyperGroup

from ..i18n import N_, _

# Typer's own strings, which it looks up with gettext in the global domain; ours
# are used instead (see ``install``). Listed here so the catalogs carry them.
TYPER_STRINGS = (N_("Options"), N_("Arguments"), N_("Commands"), N_("required"),
                 N_("default: {default}"), N_("Aborted!"), N_("(dynamic)"),
                 N_("env var: {var}"))
HELP_OPTION = N_("Show this message and exit.")

_VALUES: dict[str, Callable[[], str]] = {}
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def help_value(name: str):
    """Register a function giving the text of ``{name}`` in help texts (in today's language)."""
    def register(fn: Callable[[], str]) -> Callable[[], str]:
        _VALUES[name] = fn
        return fn
    return register


def translate(text: str | None) -> str | None:
    if not text:
        return text
    import inspect

    shown = _(inspect.cleandoc(text))
    return _PLACEHOLDER.sub(lambda m: _VALUES[m.group(1)]() if m.group(1) in _VALUES
                            else m.group(0), shown)


def install() -> None:
    """Every Typer app and command of the process shows its help translated.

    Typer's gettext look-ups (section titles, "required", "default: ...") use our
    catalogs, and ``typer.Typer()`` groups and ``@x.command()`` commands get the
    classes below by default, so a command group added as a plain ``typer.Typer``
    is translated too. Called when this module is imported, before any command
    is declared."""
    import typer.core
    import typer.main

    typer.core._ = _
    typer.main.TyperCommand = Command
    typer.main.TyperGroup = Group


# --------------------------------------------------------------------------- display width
# Click wraps help counting characters; a Chinese character takes two columns of a
# terminal, so its lines ran up to twice the width. Text that is not all ASCII is
# wrapped here by display width instead (English keeps Click's own wrapping).

# Never at the start of a line (kept with the character before): closing marks.
_CLOSING = set("，。、；：？！）》」』】〕”’,.;:?!)]}%…")
# Never at the end of a line (kept with the character after): opening marks.
_OPENING = set("（《「『【〔“‘([{")


def cells(text: str) -> int:
    """The columns ``text`` takes on a terminal: 2 for a wide (CJK) character, 0 for a
    combining mark, else 1 (as wcwidth; Rich's ``cell_len`` agrees on these)."""
    if text.isascii():
        return len(text)
    import unicodedata

    return sum(0 if unicodedata.combining(c) else
               2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _wide(c: str) -> bool:
    import unicodedata

    return not c.isascii() and unicodedata.east_asian_width(c) in "WF"


def _tokens(text: str) -> list[str]:
    """Words, runs of spaces, and each wide character on its own (a line may break
    between any two Chinese characters), closing marks kept with what precedes them
    and opening marks with what follows."""
    out: list[str] = []
    glue = False  # the last token ended with an opening mark
    for c in text:
        prev = out[-1][-1] if out else " "
        if c.isspace():
            if prev.isspace():
                out[-1] += c
            else:
                out.append(c)
        elif prev.isspace():
            out.append(c)
        elif glue or c in _CLOSING:
            out[-1] += c
        elif _wide(c) or _wide(prev):
            out.append(c)  # a line may break before or after a Chinese character
        else:
            out[-1] += c  # a word (--db, $CRMCLI_DB, .xlsx/.xls, 2026-11-26) stays whole
        glue = c in _OPENING
    return out


def wrap(text: str, width: int, initial_indent: str = "", subsequent_indent: str = "") -> str:
    """``text`` filled into lines of at most ``width`` columns (display width), breaking
    at spaces and between Chinese characters; a word wider than a line is cut.

    >>> print(wrap("默认取 $CRMCLI_DB，否则为用户数据目录下的 crmcli.db。", 20))
    默认取 $CRMCLI_DB，
    否则为用户数据目录下
    的 crmcli.db。
    """
    lines: list[str] = []
    line, used, space = initial_indent, cells(initial_indent), ""
    fresh = True  # nothing but the indent on this line yet
    for token in _tokens(text):
        if token[0].isspace():
            space = " " if not fresh else ""
            continue
        need = cells(space) + cells(token)
        if not fresh and used + need > width:
            lines.append(line)
            line, used, space, fresh = subsequent_indent, cells(subsequent_indent), "", True
            need = cells(token)
        while fresh and used + need > width and len(token) > 1:  # wider than a whole line
            cut, taken = 0, 0
            while cut < len(token) and used + taken + cells(token[cut]) <= width:
                taken += cells(token[cut])
                cut += 1
            cut = max(cut, 1)
            lines.append(line + token[:cut])
            token = token[cut:]
            line, used = subsequent_indent, cells(subsequent_indent)
            need = cells(token)
        line += space + token
        used += need
        space, fresh = "", False
    lines.append(line)
    return "\n".join(lines)


def wrap_paragraphs(text: str, width: int, indent: str = "") -> str:
    """Click's ``wrap_text(preserve_paragraphs=True)`` by display width: paragraphs are
    filled; a paragraph after a line holding only ``\\b`` keeps its lines, and one wider
    than ``width`` goes on under a deeper indent (an example command with a `` \\``, so
    it can still be pasted into a shell)."""
    out = []
    for para in _paragraphs(text):
        extra, raw, body = para
        pad = indent + " " * extra
        if not raw:
            out.append(wrap(body, width, pad, pad))
            continue
        lines = []
        for line in body.splitlines():
            if cells(pad + line) <= width:
                lines.append(pad + line)
                continue
            lead = len(line) - len(line.lstrip())
            shell = line.lstrip().startswith("crmcli ")
            room = width - 2 if shell else width
            parts = wrap(line.lstrip(), room, pad + " " * lead, pad + " " * (lead + 4))
            parts = parts.split("\n")
            if shell:
                parts = [p + " \\" for p in parts[:-1]] + parts[-1:]
            lines.extend(parts)
        out.append("\n".join(lines))
    return "\n\n".join(out)


def _paragraphs(text: str) -> list[tuple[int, bool, str]]:
    """(indent, keep lines as they are, text) for each paragraph, as Click splits them."""
    paras: list[tuple[int, bool, str]] = []
    buf: list[str] = []
    indent = None

    def flush():
        if buf:
            if buf[0].strip() == "\b":
                paras.append((indent or 0, True, "\n".join(buf[1:])))
            else:
                # Lines of Chinese join without a space (the English ones with one).
                joined = buf[0]
                for line in buf[1:]:
                    joined += ("" if _wide(joined[-1]) or _wide(line[0]) else " ") + line
                paras.append((indent or 0, False, joined))
            buf.clear()

    for line in text.expandtabs().splitlines():
        if not line:
            flush()
            indent = None
        else:
            if indent is None:
                indent = len(line) - len(line.lstrip())
                line = line.lstrip()
            buf.append(line)
    flush()
    return paras


class CellFormatter(HelpFormatter):
    """Click's help formatter, measuring text that is not ASCII by display width."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        prefix = "Usage: " if prefix is None else prefix
        if (prefix + prog + args).isascii():
            return super().write_usage(prog, args, prefix)
        head = f"{prefix:>{self.current_indent}}{prog} "
        if self.width - self.current_indent >= cells(head) + 20:
            self.write(wrap(args, self.width, head, " " * cells(head)))
        else:
            pad = " " * (max(self.current_indent, cells(prefix)) + 4)
            self.write(head.rstrip() + "\n" + wrap(args, self.width, pad, pad))
        self.write("\n")

    def write_text(self, text: str) -> None:
        if text.isascii():
            return super().write_text(text)
        self.write(wrap_paragraphs(text, self.width, " " * self.current_indent))
        self.write("\n")

    def write_dl(self, rows, col_max: int = 30, col_spacing: int = 2) -> None:
        rows = list(rows)
        if all((a + b).isascii() for a, b in rows):
            return super().write_dl(rows, col_max, col_spacing)
        first_col = min(max((cells(a) for a, _b in rows), default=0), col_max) + col_spacing
        left = first_col + self.current_indent
        for first, second in rows:
            self.write(f"{'':>{self.current_indent}}{first}")
            if not second:
                self.write("\n")
                continue
            if cells(first) <= first_col - col_spacing:
                self.write(" " * (first_col - cells(first)))
            else:
                self.write("\n" + " " * left)
            text = wrap_paragraphs(second, max(self.width - left, 10))
            lines = text.splitlines() or [""]
            self.write(lines[0] + "\n")
            for line in lines[1:]:
                self.write((" " * left + line if line else "") + "\n")


class CellContext(Context):
    formatter_class = CellFormatter


def _short_help(text: str, limit: int) -> str:
    """A command's line in a listing, for text that is not ASCII: its first sentence (to
    the first 。), cut with "…" when wider than ``limit`` columns: at a comma when that
    keeps most of it, else between two words (as Click cuts English at a word)."""
    first = text.split("\n\n")[0].replace("\n", " ").strip()
    end = first.find("。")
    if end >= 0:
        first = first[:end + 1]
    if cells(first) <= limit:
        return first
    taken, used, best = "", 0, ""
    for token in _tokens(first):  # cut between words, at a comma when there is one
        if used + cells(token) > limit - 1:
            break
        taken += token
        used += cells(token)
        if token[-1] in "，；：、,;:":
            best = taken
    # A comma too early would leave too little: then between any two words.
    keep = best if cells(best) >= limit * 0.6 else taken
    return keep.rstrip("，；：、,;:（(《「 ") + "…"


class _Translated:
    """Shared by commands and groups: the help, usage prefix and help option translated."""

    context_class = CellContext

    def _english(self, obj, attr="help"):
        key = f"_msgid_{attr}"
        if not hasattr(obj, key):
            setattr(obj, key, getattr(obj, attr))
        return getattr(obj, key)

    def format_usage(self, ctx, formatter) -> None:
        pieces = self.collect_usage_pieces(ctx)
        formatter.write_usage(ctx.command_path, " ".join(pieces), prefix=_("Usage: "))

    def format_help(self, ctx, formatter) -> None:
        for param in self.get_params(ctx):
            if getattr(param, "help", None):
                param.help = translate(self._english(param))
        self.help = translate(self._english(self))
        super().format_help(ctx, formatter)

    def get_short_help_str(self, limit: int = 45) -> str:
        self.help = translate(self._english(self))
        if self.short_help is None and self.help and not self.help.isascii():
            return _short_help(self.help, limit)
        return super().get_short_help_str(limit)

    def get_help_option(self, ctx):
        option = super().get_help_option(ctx)
        if option is not None and not hasattr(option, "_msgid_help"):
            option._msgid_help = HELP_OPTION
        return option


class Command(_Translated, TyperCommand):
    pass


class Group(_Translated, TyperGroup):
    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        """Typer's main, but a usage error is told in the clerk's language, on stderr."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        from typer import _click

        safe_streams()

        try:
            code = super().main(args, prog_name, complete_var, False, **extra)
        except _click.exceptions.ClickException as exc:
            show_usage_error(exc)
            sys.exit(exc.exit_code)
        except typer.Abort:
            print(_("Aborted!"), file=sys.stderr)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


def safe_streams() -> None:
    """A console that cannot show a character (ASCII, GBK: ``¥``, ``·``, a rare name)
    gets ``?`` for it instead of a crash: output never ends in a traceback."""
    for stream in (sys.stdout, sys.stderr):
        try:
            if (getattr(stream, "errors", "strict") == "strict"
                    and (stream.encoding or "").lower().replace("-", "") != "utf8"):
                stream.reconfigure(errors="replace")
        except (AttributeError, ValueError, OSError):
            pass


# Click's own messages, as patterns: what the clerk may meet by mistyping.
_CLICK_MESSAGES = (
    (re.compile(r"No such option: (\S+)"), N_("No such option: {0}")),
    (re.compile(r"No such command '(.+)'\."), N_("No such command '{0}'.")),
    (re.compile(r"Missing option '(.+)'\."), N_("Missing option '{0}'.")),
    (re.compile(r"Missing argument '(.+)'\."), N_("Missing argument '{0}'.")),
    (re.compile(r"Missing command\."), N_("Missing command.")),
    (re.compile(r"Option '(.+)' requires an argument\."), N_("Option '{0}' requires an argument.")),
    (re.compile(r"Got unexpected extra arguments? \((.+)\)"), N_("Unexpected extra argument: {0}")),
    (re.compile(r"Invalid value for '(.+?)': (.+)", re.S), N_("Invalid value for '{0}': {1}")),
    (re.compile(r"'(.+)' is not a valid int(?:eger)?\."), N_("'{0}' is not a whole number.")),
)


def _message(exc) -> str:
    text = exc.format_message()
    for pattern, msgid in _CLICK_MESSAGES:
        m = pattern.match(text)
        if m:
            groups = [_message_part(g) for g in m.groups()]
            return _(msgid).format(*groups)
    return text


def _message_part(text: str) -> str:
    for pattern, msgid in _CLICK_MESSAGES:
        m = pattern.fullmatch(text)
        if m:
            return _(msgid).format(*m.groups())
    return text


def show_usage_error(exc) -> None:
    """What Click's ``UsageError.show`` prints, translated: usage, a hint, the error."""
    from typer import _click

    if isinstance(exc, _click.exceptions.NoArgsIsHelpError):
        exc.show()  # the help itself
        return
    ctx = getattr(exc, "ctx", None)
    lines = []
    if isinstance(exc, _click.exceptions.UsageError) and ctx is not None:
        lines.append(ctx.get_usage())
        lines.append(_("Try '{command} --help' for help.").format(command=ctx.command_path))
        lines.append("")
    lines.append(_("Error: {message}").format(message=_message(exc)))
    print("\n".join(lines), file=sys.stderr)


class App(typer.Typer):
    """A Typer whose groups and commands show their help in the clerk's language."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("cls", Group)
        kwargs.setdefault("rich_markup_mode", None)
        kwargs.setdefault("pretty_exceptions_show_locals", False)  # locals hold phone numbers
        super().__init__(**kwargs)

    def command(self, name=None, *, cls=None, **kwargs):
        return super().command(name, cls=cls or Command, **kwargs)


install()
