"""Every test gets its own data folder, database and settings: none touches a real file."""

from __future__ import annotations

import pytest

from crmcli import db as dbmod


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    home = tmp_path / "data"
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    monkeypatch.setenv("CRMCLI_DB", str(tmp_path / "test.db"))
    monkeypatch.delenv("CRMCLI_SETTINGS", raising=False)
    monkeypatch.setenv("CRMCLI_USER", "tester")
    # Rich takes its width from the terminal: pin it so CI and a laptop agree.
    monkeypatch.setenv("COLUMNS", "120")
    monkeypatch.setenv("TERM", "dumb")
    yield


@pytest.fixture
def db(tmp_path):
    database = dbmod.connect(tmp_path / "test.db")
    yield database
    database.conn.close()
