"""The error family.

Core functions raise these and never print or exit; the CLI catches them at one
boundary (``cli.main``), prints the message on one line to stderr and exits with
the error's code. Each message says what went wrong and what to do next.
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
    """The database cannot be opened or is from a newer release."""
