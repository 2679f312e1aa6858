"""Names as the clerk uses them: the surname, the greeting, an organisation's name.

Kept apart from ``normalize`` (the import's cleaners, dozens of patterns) so
that ``crmcli today`` can greet customers without compiling those.
"""

from __future__ import annotations

import re

OFFICIAL, COMMERCIAL = "official", "commercial"

_COMMERCIAL_OWNER_RE = re.compile("出租|客运|物流|运输|租赁|汽车服务|网约")
_OFFICIAL_OWNER_RE = re.compile(
    "公司|有限|集团|厂|局|委员会|医院|学校|大学|中心|银行|政府|事务所|研究院|研究所"
)


def guess_usage_from_owner(name: str | None) -> str | None:
    """'commercial' or 'official' when the owner's name is an organisation's, else None.

    Transport words are looked for first: '某某物流有限公司' is a haulier
    (commercial), not an office (official).

    >>> guess_usage_from_owner('市第一人民医院'), guess_usage_from_owner('张三')
    ('official', None)
    """
    if not name:
        return None
    if _COMMERCIAL_OWNER_RE.search(name):
        return COMMERCIAL
    if _OFFICIAL_OWNER_RE.search(name):
        return OFFICIAL
    return None


# fmt: off
COMPOUND_SURNAMES = frozenset((
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文",
    "司徒", "夏侯", "轩辕", "令狐", "钟离", "端木", "澹台", "公冶", "申屠", "太史",
))
# fmt: on


_TITLES = {"M": "先生", "F": "女士"}


def surname(name: str) -> str:
    """The family name: a known two-character compound surname, else the first character.

    Names that do not start with a Chinese character are returned whole.

    >>> surname('诸葛亮'), surname('张三'), surname('John Smith')
    ('诸葛', '张', 'John Smith')
    """
    if not name:
        raise ValueError("empty name")
    if not "\u3400" <= name[0] <= "\ufaff":
        return name
    return name[:2] if name[:2] in COMPOUND_SURNAMES else name[0]


def greeting(name: str | None, gender: str | None) -> str:
    """How the clerk addresses the customer: '张先生', '欧阳女士'.

    With no gender, the name itself; an organisation is greeted by its name;
    with no name, '先生' / '女士' alone (or '' when the gender is unknown too).

    >>> greeting('张三', 'M'), greeting('张三', None), greeting('XX物流有限公司', 'M')
    ('张先生', '张三', 'XX物流有限公司')
    """
    title = _TITLES.get(gender or "")
    if not name:
        return title or ""
    if title is None or guess_usage_from_owner(name) is not None:
        return name
    return surname(name) + title
