"""The root command group, which imports a command's module only when that command runs.

Importing the seven command modules and building every command's options is about
two thirds of what ``crmcli --help`` did before anything was shown, and ``crmcli
today`` needs one of them. So the root group knows its commands from the table in
``listing.py`` (name, modules, help text) and imports a command's modules the first
time it is asked for: to run it, to show its own ``--help``, to complete it.
The top-level ``--help`` lists the commands not yet imported from that table: the
same help text, shown through the same classes, so the listing is the one the real
commands give (``tests/test_startup.py`` checks it in both languages).

After adding, renaming or re-documenting a top-level command or group, run
``python -m crmcli.i18n update``: it rewrites ``listing.py`` too.
"""

from __future__ import annotations

import importlib
from collections.abc import MutableMapping
from pathlib import Path

from .helptext import Command, Group
from .listing import COMMANDS

_ENTRIES = {name: (modules.split(), help_text) for name, modules, help_text in COMMANDS}


def _build(name: str):
    """Import the modules of ``name`` (the one registering it, and any adding commands
    to its group) and turn its registration on the root app into the Click command or
    group, as Typer would have done for the whole tree."""
    import typer.main

    from .base import app

    for module in _ENTRIES[name][0]:
        importlib.import_module(f"{__package__}.{module}")
    for info in app.registered_commands:
        if (info.name or typer.main.get_command_name(info.callback.__name__)) == name:
            return typer.main.get_command_from_info(
                info, pretty_exceptions_short=app.pretty_exceptions_short,
                rich_markup_mode=app.rich_markup_mode)
    for info in app.registered_groups:
        if info.name == name:
            return typer.main.get_group_from_info(
                info, pretty_exceptions_short=app.pretty_exceptions_short,
                rich_markup_mode=app.rich_markup_mode, suggest_commands=app.suggest_commands)
    raise LookupError(f"crmcli.cli.{_ENTRIES[name][0][0]} registers no command {name!r}: "
                      "run python -m crmcli.i18n update")


class _Commands(MutableMapping):
    """The root group's ``commands``: every name of the table (in its order), each
    command built when it is first looked up. In ``listing`` mode a command not yet
    built is looked up as a stand-in carrying only its name and help."""

    def __init__(self, built: dict) -> None:
        self._built = dict(built)
        self.listing = False

    def __getitem__(self, name: str):
        command = self._built.get(name)
        if command is None:
            if name not in _ENTRIES:
                raise KeyError(name)
            if self.listing:
                return Command(name=name, help=_ENTRIES[name][1])
            command = self._built[name] = _build(name)
        return command

    def __setitem__(self, name: str, command) -> None:
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        del self._built[name]

    def __iter__(self):
        yield from _ENTRIES
        yield from (name for name in self._built if name not in _ENTRIES)

    def __len__(self) -> int:
        return len(_ENTRIES) + sum(1 for name in self._built if name not in _ENTRIES)

    def __contains__(self, name) -> bool:
        return name in _ENTRIES or name in self._built


class LazyGroup(Group):
    """The root group: commands imported on first use, listed from the table."""

    def __init__(self, *, commands=None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.commands = _Commands(commands or {})

    def format_commands(self, ctx, formatter) -> None:
        self.commands.listing = True
        try:
            super().format_commands(ctx, formatter)
        finally:
            self.commands.listing = False


# --------------------------------------------------------------------------- the table


def real_commands() -> list[tuple[str, str, str]]:
    """(name, modules, English help) of every top-level command and group the modules
    register, in the order of the current table (new names after it). The modules of
    a command: the one defining it; of a group: those defining its commands, in the
    order they were added (``import sms-report`` is declared in sms.py). Importing
    them registers the group too: a module adding to a group imports the group's app."""
    import inspect
    import pkgutil

    import typer.main

    from .base import app

    for module in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if not module.name.startswith("_"):
            importlib.import_module(f"{__package__}.{module.name}")

    def module_of(fn) -> str:
        return fn.__module__.rpartition(".")[2]

    def callbacks(typer_instance):
        if typer_instance.registered_callback is not None:
            yield typer_instance.registered_callback.callback
        for info in typer_instance.registered_commands:
            yield info.callback
        for group in typer_instance.registered_groups:
            yield from callbacks(group.typer_instance)

    found: dict[str, tuple[str, str, str]] = {}
    for info in app.registered_commands:
        name = info.name or typer.main.get_command_name(info.callback.__name__)
        help_text = inspect.cleandoc(info.help or inspect.getdoc(info.callback) or "")
        found[name] = (name, module_of(info.callback), help_text)
    for info in app.registered_groups:
        modules = list(dict.fromkeys(module_of(fn) for fn in callbacks(info.typer_instance)))
        found[info.name] = (info.name, " ".join(modules), typer.main.solve_typer_info_help(info))
    order = [name for name in _ENTRIES if name in found]
    order += [name for name in found if name not in _ENTRIES]
    return [found[name] for name in order]


def _literal(text: str, indent: str) -> str:
    """``text`` as adjacent string literals of at most ~80 characters, one a line."""
    import re

    pieces = [p for p in re.split(r"(?<=\n)|(?<= )(?=\S)", text) if p]
    lines, line = [], ""
    for piece in pieces:
        if line and (len(line) + len(piece) > 76 or line.endswith("\n")):
            lines.append(line)
            line = ""
        line += piece
    lines.append(line)
    if len(lines) == 1:
        return repr(line)
    return "(" + f"\n{indent} ".join(repr(line) for line in lines) + ")"


def update() -> bool:
    """Rewrite ``listing.py`` from the modules; True if it changed. Run by
    ``python -m crmcli.i18n update``."""
    path = Path(__file__).with_name("listing.py")
    rows = "".join(f"    ({name!r}, {modules!r},\n     {_literal(help_text, '     ')}),\n"
                   for name, modules, help_text in real_commands())
    text = (
        '"""The top-level commands for ``crmcli --help``: name, the modules to import for it\n'
        "(the one registering it first), and its help text in English, as the catalogs\n"
        "know it. Written by ``python -m crmcli.i18n update`` from the modules themselves\n"
        "(``lazy.update``); ``tests/test_startup.py`` fails when it is out of step. The\n"
        'order is the order of the listing: reorder the lines by hand, the update keeps it."""\n\n'
        f"COMMANDS = (\n{rows})\n"
    )
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    if old != text:
        path.write_text(text, encoding="utf-8")
    return old != text
