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


class _Translated:
    """Shared by commands and groups: the help, usage prefix and help option translated."""

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
