"""The mobile-validity cache is keyed by the first 5 digits: neighbours that differ in the
5th digit get their own answer, whatever order they are seen in.

phonenumbers' CN mobile ranges (checked against the installed release): 1740[0-5] are
mobile, 17406 and 1741x are not; 1610x is mobile, 1611x is not.
"""

from __future__ import annotations

import pytest

from crmcli import normalize as nz

VALID = ["17400123456", "17405123456", "16100123456"]
INVALID = ["17406123456", "17412345678", "16110123456"]


@pytest.mark.parametrize("first", ["valid", "invalid"])
def test_neighbouring_prefixes_are_told_apart_in_either_order(monkeypatch, first):
    monkeypatch.setattr(nz, "_MOBILE_OK", {})
    order = VALID + INVALID if first == "valid" else INVALID + VALID
    for number in order:
        if number in VALID:
            assert nz.parse_phone(number) == (number, "mobile"), number
        else:
            with pytest.raises(ValueError):
                nz.parse_phone(number)
    assert set(nz._MOBILE_OK) == {"17400", "17405", "16100", "17406", "17412", "16110"}
    assert nz._MOBILE_KEY == 5
