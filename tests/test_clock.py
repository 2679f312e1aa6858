"""The shared helpers for now, ISO times, the user's name and month arithmetic."""

from __future__ import annotations

import getpass
from datetime import date, datetime

import pytest
from dateutil.relativedelta import relativedelta

from crmcli import clock, rules


def test_now_is_to_the_second():
    assert clock.now().microsecond == 0


def test_stamp_and_minute():
    t = datetime(2026, 1, 2, 3, 4, 5, 678)
    assert clock.stamp(t) == "2026-01-02T03:04:05"
    assert clock.minute(t) == "2026-01-02 03:04"
    assert len(clock.stamp()) == 19


def test_user_name_order(monkeypatch):
    monkeypatch.setenv("CRMCLI_USER", "小王")
    assert clock.user_name("小李") == "小李"
    assert clock.user_name(None) == "小王"
    monkeypatch.delenv("CRMCLI_USER")
    monkeypatch.setattr(getpass, "getuser", lambda: "clerk1")
    assert clock.user_name() == "clerk1"

    def no_login():
        raise OSError("no login name")

    monkeypatch.setattr(getpass, "getuser", no_login)
    assert clock.user_name() == "unknown"


@pytest.mark.parametrize(("start", "months", "expected"), [
    (date(2026, 8, 31), 6, date(2027, 2, 28)),
    (date(2028, 2, 29), -12, date(2027, 2, 28)),
    (date(2028, 2, 29), 12, date(2029, 2, 28)),
    (date(2027, 3, 31), -1, date(2027, 2, 28)),
    (date(2026, 1, 15), -13, date(2024, 12, 15)),
    (date(2026, 12, 31), 1, date(2027, 1, 31)),
])
def test_add_months(start, months, expected):
    assert clock.add_months(start, months) == expected


def test_add_months_agrees_with_dateutil_every_day_of_four_years():
    # An independent implementation of the same rule (clamp to the month's end).
    d = date(2024, 1, 1)
    while d < date(2028, 1, 1):
        for n in (-24, -12, -1, 1, 6, 12):
            assert clock.add_months(d, n) == d + relativedelta(months=n), (d, n)
        d = date.fromordinal(d.toordinal() + 1)
    assert rules.add_months is clock.add_months
