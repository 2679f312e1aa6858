"""Stored text on its way to a terminal, and typed text on its way to the store.

Names, notes, categories and every other string in the database came from an
export or a keyboard: they are data, never markup or terminal control.

- ``clean(s)`` drops terminal escape sequences (``\\x1b[2J``, OSC links,
  arrow keys), C0/C1 control characters and bidirectional overrides, and
  turns tabs and line breaks into spaces. CJK and every other printable
  character are kept: ``clean("王七\\x1b[2J")`` is ``"王七"``.
- ``safe(s)`` is ``clean`` then ``rich.markup.escape``: for a string that is
  printed with markup on, or placed in a Rich table as ``str``.
  ``safe("王七[/bold]")`` is ``"王七\\\\[/bold]"``, which Rich prints as
  ``王七[/bold]``.
- ``cell(s)`` is a ``rich.text.Text`` of ``clean(s)``: never read as markup
  or emoji codes (``:smile:``) whatever the console's settings.
- ``clean_input(s)`` is for what a clerk types at a prompt before it is
  stored: the escape sequences an arrow or function key leaves, control
  characters, and the surrounding blanks, removed.

Each is cheap (one regular expression, one ``str.translate``); a 100,000
character name goes through in well under a millisecond.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.text import Text

# ESC-introduced sequences: CSI (ESC [ ... final), OSC/DCS/SOS/PM/APC strings
# (ESC ] ... BEL or ESC \), SS3 (ESC O x, what arrow keys send in some modes),
# and two-character escapes (ESC x). A lone C1 character (0x80-0x9f) is dropped
# by itself below, not with what follows: in mis-decoded text it is not a control.
_ESCAPES = re.compile(
    r"""
    \x1b\[[0-?]*[ -/]*[@-~]?            # CSI: ESC [ params intermediates final
  | [\x1b][\]PX^_][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?   # OSC, DCS, SOS, PM, APC
  | \x1bO.?                             # SS3: ESC O A (arrow keys in application mode)
  | \x1b[ -~]?                          # any other ESC + one character
    """,
    re.VERBOSE,
)

_SPACE = {ord("\t"): " ", ord("\n"): " ", ord("\r"): " ", ord("\v"): " ", ord("\f"): " "}
# C0 (except the blanks above), DEL, C1, and the bidirectional overrides and
# isolates that make a terminal show text in another order than it is stored.
_DROP = dict.fromkeys([*range(0x20), 0x7F, *range(0x80, 0xA0),
                       *range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x061C, 0x200E, 0x200F,
                       0xFEFF])
_TABLE = {**_DROP, **_SPACE}


def drop_escapes(s: str) -> str:
    """``s`` without terminal escape sequences (other characters untouched)."""
    return _ESCAPES.sub("", s) if "\x1b" in s else s


def clean(value: object) -> str:
    """``value`` as one line of plain printable text (``None`` becomes ``""``)."""
    if value is None:
        return ""
    s = value if isinstance(value, str) else str(value)
    if s.isprintable():  # the common case: nothing to do
        return s
    return _ESCAPES.sub("", s).translate(_TABLE)


def safe(value: object) -> str:
    """``clean(value)`` escaped for Rich markup: print it with markup on, it shows as stored."""
    from rich.markup import escape

    return escape(clean(value))


def cell(value: object, style: str = "") -> Text:
    """A Rich ``Text`` of ``clean(value)``: for table cells and anything Rich renders."""
    from rich.text import Text

    return Text(clean(value), style=style)


def clean_input(value: str | None) -> str:
    """Typed text ready to store: escape sequences and control characters dropped,
    tabs and line breaks as spaces, blanks trimmed."""
    return clean(value).strip()
