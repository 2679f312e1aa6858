"""What every command group shares: the root app, the state, the consoles, the options
every group uses, and the one place where errors become exit codes (``handle_errors``).

Core errors (``errors.CrmError``) become one line on stderr and their exit code here
and nowhere else; ``main`` is the console script.
"""

import functools
import json
import os
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

if TYPE_CHECKING:
    from rich.console import Console

from ..errors import INTERRUPTED_EXIT, UNEXPECTED_EXIT, CrmError, DatabaseError
from ..i18n import N_, _
from .helptext import App, help_value
from .lazy import LazyGroup

app = App(
    cls=LazyGroup,  # each command's module is imported when that command is used
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class State:
    """What a command works on: the database and the settings, opened when first used.

    Only the commands that fill a database (the imports) may create its file: any
    other command given a path where there is no file (a mistyped ``--db`` or
    ``CRMCLI_DB``) stops with exit 2 rather than work on a new, empty one. The
    settings are ``--settings``, else ``$CRMCLI_SETTINGS``, else ``settings.toml``
    beside the database in use."""

    def __init__(self, db_path: Optional[Path], settings_path: Optional[Path]):
        self.db_path = db_path
        self.settings_path = settings_path
        self.may_create = False
        self._db = None
        self._settings = None

    @property
    def path(self) -> Path:
        from .. import db

        return Path(self.db_path) if self.db_path is not None else db.default_path()

    @property
    def db(self):
        if self._db is None:
            from .. import db
            from ..errors import UsageError

            path = self.path
            if not self.may_create and str(path) != ":memory:" and not path.exists():
                raise UsageError(_(
                    "there is no database at {path}: check --db or CRMCLI_DB, or create one by "
                    "importing a DMS export: crmcli --db {path} import vehicles FILE.xlsx"
                ).format(path=path))
            db.lock_wait_notice = _say_waiting
            self._db = db.connect(path)
        return self._db

    def close(self) -> None:
        """Checkpoint and close: the main file alone then holds every commit (a plain
        copy of it is a whole backup), and no -wal is left behind when nobody else has
        the file open."""
        if self._db is not None:
            from .. import db

            db.close(self._db)
            self._db = None

    @property
    def settings(self) -> dict:
        if self._settings is None:
            from .. import settings

            path = self.settings_path
            if path is None and not os.environ.get("CRMCLI_SETTINGS"):
                path = self.path.parent / "settings.toml"  # beside the database in use
                if not path.exists():
                    import copy

                    self._settings = copy.deepcopy(settings.DEFAULTS)
                    return self._settings
            self._settings = settings.load(path)
            from .. import i18n

            i18n.set_settings_language(self._settings["ui"]["language"])
        return self._settings

    def settings_file(self) -> Path | None:
        """The settings file this run reads, if there is one."""
        if self.settings_path is not None:
            return Path(self.settings_path)
        if os.environ.get("CRMCLI_SETTINGS"):
            return Path(os.environ["CRMCLI_SETTINGS"])
        beside = self.path.parent / "settings.toml"
        return beside if beside.exists() else None


_waited: list[str] = []


def _say_waiting(path: str) -> None:
    """Another process holds the database's write lock: say so once a run (on stderr, so a
    pipe or a cron log is not mixed with it), then the wait goes on."""
    if _waited:
        return
    _waited.append(path)
    from .. import db

    say_error(_("waiting for {path}: another crmcli (an import, the cron job or another "
                "clerk) is writing to it; waiting up to {seconds} seconds more, Ctrl-C to "
                "stop").format(path=path,
                               seconds=(db.BUSY_TIMEOUT_MS - db.LOCK_NOTICE_MS) // 1000))


def out() -> "Console":
    from rich.console import Console

    # No emoji codes: a stored "张三:thumbs_up:" is shown as typed.
    return Console(emoji=False)


def err() -> "Console":
    from rich.console import Console

    return Console(stderr=True, emoji=False)


def say(text: str, console: "Console | None" = None, **kwargs) -> None:
    """Print a line that carries stored text (a name, a note, a category) as data:
    never markup, emoji or terminal control (``text.clean`` on each line)."""
    from ..text import clean

    lines = "\n".join(clean(line) for line in str(text).split("\n"))
    kwargs.setdefault("soft_wrap", True)  # one message, one line: scripts read it whole
    (console or out()).print(lines, markup=False, highlight=False, emoji=False, **kwargs)


def say_error(message: str) -> None:
    """One line on stderr, never wrapped: cron logs and scripts read it whole."""
    print(f"crmcli: {message}", file=sys.stderr, flush=True)


REPORT_HINT = N_("this is a defect in crmcli: please report it with the command you ran")
DAMAGED_HINT = N_("run `crmcli doctor` to see what is wrong, then `crmcli restore BACKUP` "
                  "to put back the last backup")


def handle_errors(fn):
    """The one boundary where errors become one line on stderr and an exit code.

    ``CrmError``: its message and code. A damaged or unreadable database: exit 5
    with what to do. A number SQLite cannot hold: exit 2. Ctrl-C: exit 130. Anything
    else is a defect: one line, a hint to report it, exit 70 (never 1, which means
    "rows rejected"). Never a traceback: its locals could hold customers' data."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        import sqlite3

        try:
            return fn(*args, **kwargs)
        except CrmError as exc:
            say_error(exc.message)
            raise typer.Exit(exc.exit_code) from None
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except typer.BadParameter as exc:  # raised in a command body it would be a traceback
            say_error(exc.format_message())
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            say_error(_("interrupted; everything saved before stays saved"))
            raise typer.Exit(INTERRUPTED_EXIT) from None
        except sqlite3.OperationalError as exc:
            text = str(exc)
            if "locked" in text or "busy" in text:
                say_error(_("the database is busy ({error}): another crmcli is writing; "
                            "try again in a minute").format(error=text))
            elif "disk" in text and "full" in text:
                say_error(_("the disk is full ({error}): nothing was saved by this command; "
                            "free some space and run it again").format(error=text))
            else:
                say_error(_("database error: {error}; {hint}").format(error=text,
                                                                      hint=_(DAMAGED_HINT)))
            raise typer.Exit(DatabaseError.exit_code) from None
        except sqlite3.DatabaseError as exc:  # malformed pages, "file is not a database"
            say_error(_("the database is damaged ({error}); {hint}").format(
                error=exc, hint=_(DAMAGED_HINT)))
            raise typer.Exit(DatabaseError.exit_code) from None
        except OverflowError as exc:
            say_error(_("a number is too large ({error}): ids and limits go up to 2**63 - 1"
                        ).format(error=exc))
            raise typer.Exit(2) from None
        except OSError as exc:
            where = f" {exc.filename}" if exc.filename else ""
            say_error(_("cannot use{where}: {error}; check the path and its permissions").format(
                where=where, error=exc.strerror or exc))
            raise typer.Exit(2) from None
        except Exception as exc:  # noqa: BLE001  the last resort: one line, never a traceback
            say_error(_("unexpected error: {error}; {hint}").format(
                error=f"{type(exc).__name__}: {str(exc)[:200]}", hint=_(REPORT_HINT)))
            raise typer.Exit(UNEXPECTED_EXIT) from None

    return wrapper


def emit_json(data) -> None:
    """What every --json prints: one JSON document on stdout, Chinese kept as is."""
    print(json.dumps(data, ensure_ascii=False, default=str))


def parse_day(value: Optional[str], what: str = "--date") -> Optional[date]:
    """A day from the command line, in 1900-2100 (``limits.parse_day``)."""
    from ..limits import parse_day as parse

    return parse(value, what)


DateOpt = Annotated[
    Optional[str],
    typer.Option("--date", help="Act as if today were this day (YYYY-MM-DD); default: today."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of tables.")]
QuietOpt = Annotated[bool, typer.Option(
    "--quiet", "-q", help="No progress and no summary line on success (for cron); errors and "
    "warnings still go to stderr.")]
KindOpt = Annotated[Optional[list[str]], typer.Option(
    "--kind", help="Only this kind of task (repeat for more), key or label: {kinds}.")]


@help_value("kinds")
def _kinds() -> str:
    from ..choices import listing

    return listing("kind")


@help_value("channels")
def _channels() -> str:
    from ..choices import listing

    return listing("channel")


@help_value("classes")
def _classes() -> str:
    from ..choices import listing

    return listing("class")


@app.callback()
def root(
    ctx: typer.Context,
    db: Annotated[
        Optional[Path],
        typer.Option("--db", help="The database file; default $CRMCLI_DB, else crmcli.db in the "
                     "user's data folder.", show_default=False),
    ] = None,
    settings: Annotated[
        Optional[Path],
        typer.Option("--settings", help="The dealer's settings file (TOML); default "
                     "$CRMCLI_SETTINGS, else settings.toml beside the database in use.",
                     show_default=False),
    ] = None,
    version: Annotated[bool, typer.Option(
        "--version", help="Print the version and exit.", is_eager=True,
        callback=lambda value: _print_version() if value else None)] = False,
) -> None:
    """crmcli: the after-sales callback desk of a car dealership, on one SQLite file.

    \b
    Example, every morning:
      crmcli today
    """
    import warnings

    def one_line(message, category, filename, lineno, file=None, line=None):
        if getattr(category, "once_a_day", False) and _said_today(str(message)):
            return
        say_error(_("warning: {message}").format(message=message))

    warnings.showwarning = one_line
    ctx.obj = State(db, settings)
    if not os.environ.get("CRMCLI_LANG"):
        found = ctx.obj.settings_file()
        if found is not None and found.exists():
            ctx.obj.settings  # noqa: B018  (its [ui] language applies to every message)
    ctx.call_on_close(ctx.obj.close)



def _clerk(by: Optional[str]) -> str:
    """Who did it: --by, else $CRMCLI_USER, else ``clerk_name`` under [calls] in the
    settings, else the login name (``clock.user_name``)."""
    from .. import clock

    if not by and not os.environ.get("CRMCLI_USER"):
        from typer._click.globals import get_current_context

        ctx = get_current_context(silent=True)
        state = ctx.find_root().obj if ctx is not None else None
        if isinstance(state, State):
            by = (state.settings["calls"].get("clerk_name") or "").strip() or None
    return clock.user_name(by)


ByOpt = Annotated[Optional[str], typer.Option(
    "--by", help="Who did it; default $CRMCLI_USER, else clerk_name in the settings, else the "
    "login name.", show_default=False)]
AtOpt = Annotated[Optional[str], typer.Option(
    "--at", help="When it happened, e.g. '2026-11-26 10:30' (for paper sheets); default now.",
    show_default=False)]



def _said_today(message: str) -> bool:
    """True if ``message`` was already said today (on this machine, for this user);
    notes it otherwise. A warning about the calendar is news once a day, not on every
    run of every command: cron would repeat it all year."""
    import hashlib

    from .. import db

    key = hashlib.sha256(message.encode()).hexdigest()[:16]
    stamp = db.data_dir() / "warned-today"
    today = date.today().isoformat()
    try:
        lines = stamp.read_text(encoding="utf-8").splitlines()
    except OSError:
        lines = []
    if lines and lines[0] == today:
        if key in lines[1:]:
            return True
    else:
        lines = [today]
    try:
        stamp.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        stamp.write_text("\n".join([*lines, key]) + "\n", encoding="utf-8")
    except OSError:
        pass  # a read-only home: say it every time rather than never
    return False


def _print_version() -> None:
    from .. import __version__

    print(f"crmcli {__version__}")
    raise typer.Exit(0)


def _login() -> str:
    from .. import clock

    return clock.user_name()


def main() -> None:
    """The console script.

    Once the command has finished and its output is flushed, the process ends
    without Python's module teardown: it frees nothing the operating system
    would not, and it is about 18 ms of a 180 ms ``crmcli today``. Every write
    is committed by then (each in its own transaction). An exception other than
    the exit itself ends the usual way, with its traceback.
    """
    try:
        app()
        code = 0
    except SystemExit as exc:  # typer's standalone mode ends every command with one
        code = exc.code
    if code is None:
        code = 0
    elif not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (BrokenPipeError, ValueError):  # the reader went away (| head): nothing to say
        pass
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
