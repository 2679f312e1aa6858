"""The dealer's settings file: defaults, loading, validation.

The file is TOML, found at ``--settings PATH``, else ``$CRMCLI_SETTINGS``, else
``settings.toml`` beside the default database. Every key is optional; what is
not given keeps its default. An unknown key or a value of the wrong type is an
error that names the line, so a typo never silently does nothing::

    [import.aliases]
    order_no = ["单据编号", "Job No"]
    mobile = ["客户手机"]
"""

from __future__ import annotations

import copy
import os
import tomllib
from pathlib import Path
from typing import Any

from .errors import SettingsError

DEFAULTS: dict[str, Any] = {
    "import": {
        "aliases": {},
    },
}


def default_path() -> Path:
    env = os.environ.get("CRMCLI_SETTINGS")
    if env:
        return Path(env)
    from .db import data_dir

    return data_dir() / "settings.toml"


def _line_of(text: str, key: str) -> int | None:
    for no, line in enumerate(text.splitlines(), start=1):
        if line.strip().startswith(key):
            return no
    return None


def load(path: Path | str | None = None) -> dict[str, Any]:
    """The settings: the defaults overlaid with the file, validated."""
    explicit = path is not None or bool(os.environ.get("CRMCLI_SETTINGS"))
    path = Path(path) if path is not None else default_path()
    settings = copy.deepcopy(DEFAULTS)
    if not path.exists():
        if explicit:
            raise SettingsError(f"settings file {path} does not exist")
        return settings
    text = path.read_text(encoding="utf-8-sig")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: {exc}") from None
    _merge(settings, data, DEFAULTS, text, path, prefix="")
    _validate_aliases(settings["import"]["aliases"], text, path)
    return settings


def _merge(target: dict, data: dict, defaults: dict, text: str, path: Path, prefix: str) -> None:
    for key, value in data.items():
        where = f"{prefix}{key}"
        if key not in defaults:
            line = _line_of(text, key)
            at = f" (line {line})" if line else ""
            raise SettingsError(f"{path}{at}: unknown setting {where!r}")
        default = defaults[key]
        if isinstance(default, dict) and default:
            if not isinstance(value, dict):
                raise SettingsError(f"{path}: {where!r} must be a table like [{where}]")
            _merge(target[key], value, default, text, path, prefix=where + ".")
        elif default is not None and not isinstance(value, type(default)) and not (
            isinstance(default, float) and isinstance(value, int)
        ):
            line = _line_of(text, key)
            at = f" (line {line})" if line else ""
            raise SettingsError(
                f"{path}{at}: {where!r} must be {type(default).__name__}, not {type(value).__name__}"
            )
        else:
            target[key] = value


def _validate_aliases(aliases: dict, text: str, path: Path) -> None:
    from .fields import FIELDS_BY_KIND

    known = set().union(*FIELDS_BY_KIND.values())
    for field, names in aliases.items():
        line = _line_of(text, field)
        at = f" (line {line})" if line else ""
        if field not in known:
            raise SettingsError(
                f"{path}{at}: [import.aliases] has unknown field {field!r}; "
                f"known fields: {', '.join(sorted(known))}"
            )
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise SettingsError(f"{path}{at}: aliases for {field!r} must be a list of strings")
