"""Every file the product writes: atomic, owner-only, and with inert cells.

- ``write_atomic(path, write)`` calls ``write(fileobj)`` on a temporary file in
  the same folder (created 0600), flushes and fsyncs it, then renames it over
  ``path`` and fsyncs the folder. A kill, a full disk or an exception at any
  point leaves the file that was at ``path`` before exactly as it was (and at
  worst a ``.NAME.*.tmp`` beside it); readers never see half a file. The new
  file is readable by its owner only: workbooks and exports hold names,
  phones and ID numbers.
- ``check_output(path)`` refuses, before any work is done, a path whose folder
  is missing or not writable, a folder, or a read-only file, with a one-line
  ``OutputError`` (exit code 4) that says what to do.
- ``neutral_cell(value)`` makes one workbook or CSV cell inert: a text that
  begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a
  leading apostrophe, so no spreadsheet reads it as a formula
  (``=HYPERLINK("http://x","点我")`` stays text); terminal escape sequences and
  the control characters a worksheet cannot hold are dropped; a text is cut
  to the 32,767 characters a cell holds. Numbers, dates and ``None`` pass
  as they are.

No workbook library is imported here: this module is on the path of light
commands too.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO

from .errors import OutputError
from .i18n import _

PRIVATE_MODE = 0o600
CELL_MAX = 32_767  # what one worksheet cell holds

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# XML 1.0 (and so a worksheet) cannot carry these: C0 controls other than tab,
# line feed and carriage return, lone surrogates, and the two non-characters.
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _folder(path: Path) -> Path:
    return path.parent if str(path.parent) else Path(".")


def check_output(path: Path | str, *, option: str = "", suffixes: Iterable[str] = ()) -> Path:
    """Refuse, before any work, a path that cannot be written. Returns it as a Path."""
    path = Path(path)
    label = f"{option}: " if option else ""
    suffixes = tuple(suffixes)
    if suffixes and path.suffix.lower() not in suffixes:
        raise OutputError(_("{label}{path} must end in {items}, e.g. {name}").format(
                              label=label, path=path, items=' or '.join(suffixes), name=path.with_suffix(suffixes[0]).name))
    folder = _folder(path)
    if path.is_dir():
        raise OutputError(_("{label}{path} is a folder: give a file name inside it, e.g. {value}").format(
                              label=label, path=path, value=path / ('out' + (suffixes[0] if suffixes else ''))))
    if not folder.is_dir():
        raise OutputError(_("{label}the folder {folder} does not exist: create it or choose "
                            "another").format(label=label, folder=folder))
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(_("{label}the folder {folder} is not writable: choose another folder").format(
                              label=label, folder=folder))
    if path.exists() and not os.access(path, os.W_OK):
        raise OutputError(_("{label}{path} is read-only: choose another name or make it writable").format(
                              label=label, path=path))
    return path


def _message(exc: OSError, path: Path) -> str:
    kept = _(" (the previous file, if any, is unchanged)")
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return _("the disk is full: {path} was not written{kept}; free some space and run it "
                 "again").format(path=path, kept=kept)
    if exc.errno in (errno.EACCES, errno.EPERM):
        return _("cannot write {path}: permission denied{kept}; choose another folder").format(
            path=path, kept=kept)
    if exc.errno == errno.EROFS:
        return _("cannot write {path}: the disk is read-only{kept}; choose another folder"
                 ).format(path=path, kept=kept)
    if exc.errno == errno.ENOENT:
        return _("the folder {folder} does not exist: create it or choose another").format(
            folder=_folder(path))
    if exc.errno == errno.EISDIR:
        return _("{path} is a folder: give a file name inside it").format(path=path)
    return _("cannot write {path}: {error}{kept}").format(path=path, error=exc.strerror or exc,
                                                          kept=kept)


@contextlib.contextmanager
def atomic_path(path: Path | str, *, mode: int = PRIVATE_MODE) -> Iterator[Path]:
    """A temporary path (0600) in ``path``'s folder to write whole; on leaving the
    block it is fsynced and renamed over ``path``. On any failure it is removed and
    ``path`` is left as it was; an ``OSError`` becomes a one-line ``OutputError``.
    For writers that need a file name (SQLite's backup); ``write_atomic`` for the rest."""
    path = Path(path)
    folder = _folder(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
    except OSError as exc:
        raise OutputError(_message(exc, path)) from None
    try:
        yield Path(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise OutputError(_message(exc, path)) from None
        raise
    _sync_folder(folder)


def write_atomic(path: Path | str, write: Callable[[IO[bytes]], None],
                 *, mode: int = PRIVATE_MODE) -> Path:
    """Write ``path`` all at once or not at all; see the module docstring."""
    path = Path(path)
    with atomic_path(path, mode=mode) as tmp, open(tmp, "wb") as fh:
        write(fh)
        fh.flush()
    return path


def write_bytes(path: Path | str, data: bytes, *, mode: int = PRIVATE_MODE) -> Path:
    return write_atomic(path, lambda fh: fh.write(data), mode=mode)


def write_text(path: Path | str, text: str, *, encoding: str = "utf-8",
               mode: int = PRIVATE_MODE) -> Path:
    """A text file (an export, a CSV) atomically; ``encoding="utf-8-sig"`` for Excel's CSV."""
    return write_bytes(path, text.encode(encoding), mode=mode)


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (a power cut right after keeps the new name)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def neutral_cell(value):
    """One cell made inert for a workbook or CSV; see the module docstring."""
    if not isinstance(value, str):
        return value
    from .text import drop_escapes

    value = _ILLEGAL.sub("", drop_escapes(value))
    if value.startswith(_FORMULA_START):
        value = "'" + value
    return value[:CELL_MAX]


def neutral_row(values: Iterable) -> list:
    return [neutral_cell(v) for v in values]


_TITLE_BAD = re.compile(r"[\\/?*\[\]:\x00-\x1f]")


def sheet_title(name: str, taken: Iterable[str] = ()) -> str:
    """A worksheet name from any text: the characters a sheet name cannot hold
    (``\\ / ? * [ ] :``) become ``_``, at most 31 characters, not blank, and
    not one of ``taken`` (compared as Excel does, ignoring case)."""
    from .text import drop_escapes

    base = _TITLE_BAD.sub("_", drop_escapes(str(name))).strip("' ")[:31] or "Sheet"
    used = {t.casefold() for t in taken}
    title, n = base, 1
    while title.casefold() in used:
        n += 1
        suffix = f" ({n})"
        title = base[: 31 - len(suffix)] + suffix
    return title
