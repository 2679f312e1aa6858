"""The settings file: every documented table accepted, and a value of the wrong kind refused."""

from __future__ import annotations

import pytest

from crmcli import settings
from crmcli.errors import SettingsError


def load(tmp_path, text: str) -> dict:
    path = tmp_path / "settings.toml"
    path.write_text(text, encoding="utf-8")
    return settings.load(path)


def test_the_stats_table_is_accepted_and_read(tmp_path):
    assert settings.DEFAULTS["stats"]["return_window_days"] == 30
    assert load(tmp_path, "[stats]\nreturn_window_days = 45\n")["stats"]["return_window_days"] == 45
    assert load(tmp_path, "[stats]\nreturn_window_days = 0\n")["stats"]["return_window_days"] == 0
    with pytest.raises(SettingsError, match=r"\(line 2\): stats.return_window_days must be a "
                                            r"whole number, 0 or more"):
        load(tmp_path, "[stats]\nreturn_window_days = -1\n")
    with pytest.raises(SettingsError, match="unknown setting 'stats.window'"):
        load(tmp_path, "[stats]\nwindow = 3\n")


@pytest.mark.parametrize(("text", "message"), [
    ("[planning]\ncall_retries = true\n", "'planning.call_retries' must be int, not bool"),
    ("[stats]\nreturn_window_days = false\n", "'stats.return_window_days' must be int, not bool"),
    ("[complaints]\nreply_within_days = true\n",
     "'complaints.reply_within_days' must be float, not bool"),
    ("[planning]\ncall_retries = \"3\"\n", "'planning.call_retries' must be int, not str"),
    ("[planning]\ncall_retries = 3.0\n", "'planning.call_retries' must be int, not float"),
])
def test_a_value_of_the_wrong_kind_is_refused_with_its_line(tmp_path, text, message):
    with pytest.raises(SettingsError) as e:
        load(tmp_path, text)
    assert "(line 2)" in str(e.value) and message in str(e.value)


def test_booleans_where_booleans_belong_and_whole_numbers_for_decimals(tmp_path):
    got = load(tmp_path, "[care.holiday]\nenabled = false\n[complaints]\nreply_within_days = 2\n")
    assert got["care"]["holiday"]["enabled"] is False
    assert got["complaints"]["reply_within_days"] == 2
