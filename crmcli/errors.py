"""The error family.

Core functions raise these and never print or exit; the CLI catches them at one
boundary (``cli.main``), prints the message on one line to stderr and exits with
the error's code. Each message says what went wrong and what to do next.

Exit codes, one meaning each (the README has the same table):

====  ==============================================================
0     done
1     an import finished but some rows were rejected (listed)
2     the arguments, an input file or the settings were refused
3     the customer, task or record named does not exist
4     an output file could not be written (the previous one is intact)
5     the database cannot be used: damaged, from a newer release, unreadable
70    an unexpected error (a defect): one line and a hint to report it
130   interrupted (Ctrl-C)
====  ==============================================================
"""

from __future__ import annotations


class CrmError(Exception):
    """A failure the user can act on. ``exit_code`` is what the process returns."""

    exit_code = 2

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class UsageError(CrmError):
    """The arguments or options do not make sense."""


class FileRefused(CrmError):
    """An input file cannot be imported at all (unreadable, wrong kind, no header)."""


class SettingsError(CrmError):
    """The settings file is invalid; the message names the line and the reason."""


class NotFound(CrmError):
    """A customer, task or other record the user named does not exist."""

    exit_code = 3


class DatabaseError(CrmError):
    """The database cannot be opened, is damaged, or is from a newer release."""

    exit_code = 5


class OutputError(CrmError):
    """An output file (a workbook, an export, a backup) cannot be written.

    Raised only after the temporary file is removed: the file that was at the
    path before is untouched."""

    exit_code = 4


#: What the process returns for an error that is not a ``CrmError`` (a defect).
UNEXPECTED_EXIT = 70
#: What the process returns when the user interrupts it (128 + SIGINT).
INTERRUPTED_EXIT = 130
