"""Who is one person on one phone number: the title rule for short names, pinned.

README/merge docstring: titles (先生, 女士, 小姐, 太太) are set aside; a surname with a
title ('张先生', '欧阳女士': up to 2 characters before the title) matches any name with
that surname. A longer name with a title must match the whole name.
"""

from __future__ import annotations

import pytest

from crmcli.importing import same_person


@pytest.mark.parametrize(("a", "b", "same"), [
    ("张伟", "张伟", True),
    ("张伟", "张伟先生", True),        # a title is set aside
    ("张伟女士", "张伟小姐", True),
    ("张先生", "张伟", True),          # a 1-character surname with a title
    ("张伟", "张太太", True),          # either side
    ("欧阳女士", "欧阳娜娜", True),    # a 2-character surname with a title
    ("欧阳娜娜", "欧阳小姐", True),
    ("欧阳娜女士", "欧阳娜娜", False),  # 3 characters before the title: the whole name counts
    ("欧阳娜娜", "欧阳娜先生", False),
    ("张伟", "张三", False),
    ("张先生", "李伟", False),
    ("张", "张伟", False),             # no title: a prefix alone is not the same person
    ("张伟", "张", False),
    ("先生", "张先生", False),         # a title alone is not a name
])
def test_same_person(a, b, same):
    assert bool(same_person(a, b)) == same and bool(same_person(b, a)) == same
