#!/usr/bin/env python3
"""Build the sample data of crmcli: a fictitious Toyota dealership's exports.

Usage::

    python sample_data/generate.py [--date YYYY-MM-DD] [--out DIR] [--customers N] [--seed S]

Writes, relative to ``--date`` (default: today; the newest repair order is
settled the day before, the history spans three years back):

* ``delivery_list.xlsx``  - the sales department's delivery list (交车明细);
* ``dms_orders.xlsx``     - the DMS repair-order export (维修工单), with a hidden
  first sheet "参数" of junk;
* ``dms_orders.xls``      - the same orders in the old binary format (needs xlwt;
  skipped with a message when xlwt is missing);
* ``dms_orders_gbk.csv``  - the same orders as a GBK CSV with a title line;
* ``manifest.json``       - what the files contain on purpose (row numbers of the
  rows an importer must reject, duplicates, invalid VINs/phones, care-contact
  counts), so tests can assert on it.

Everything is fictitious (names, phones, VINs, ID numbers) and deterministic
for a given ``--date``/``--customers``/``--seed``.  Only the standard library
and openpyxl are needed (xlwt only for the .xls file).

The messiness is deliberate; see ``_mess_*`` and ``manifest.json``.  The
library functions ``order_rows()``/``delivery_rows()`` stream rows for
benchmarks, ``write_big_orders_xlsx()`` writes a large DMS export quickly.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import openpyxl
from openpyxl.styles import Alignment, Font, PatternFill

HERE = Path(__file__).resolve().parent

COMPANY_TITLE = "XX市广丰汽车销售服务有限公司 交车客户明细表"
ORDERS_TITLE = "维修结算工单明细"

DELIVERY_HEADER = [
    "客户姓名", "性别", "手机号码", "身份证号", "车架号", "车牌号", "车型", "颜色", "发动机号",
    "购车日期", "交车日期", "使用性质", "生日", "职业", "联系地址",
    "交强险到期日", "商业险到期日", "年检到期日",
]
ORDER_HEADER = [
    "工单号", "车牌号码", "车架号", "客户名称", "联系电话", "进厂日期", "结算日期",
    "进厂里程(km)", "维修类别", "维修项目", "工时费", "材料费", "合计金额", "服务顾问", "维修建议",
]
ORDER_KINDS = ("首保", "定期保养", "一般维修", "保修", "钣喷", "事故", "免费检测")
USAGES = ("私家车", "公务车", "营运车")

# column indexes used below
_O = {name: i for i, name in enumerate(ORDER_HEADER)}
_D = {name: i for i, name in enumerate(DELIVERY_HEADER)}

# --------------------------------------------------------------------------
# check digits

_VIN_TRANSLIT = {
    **{str(d): d for d in range(10)},
    "A": 1, "B": 2, "C": 3, "D": 4, "E": 5, "F": 6, "G": 7, "H": 8,
    "J": 1, "K": 2, "L": 3, "M": 4, "N": 5, "P": 7, "R": 9,
    "S": 2, "T": 3, "U": 4, "V": 5, "W": 6, "X": 7, "Y": 8, "Z": 9,
}
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
_VIN_YEAR_CODES = "ABCDEFGHJKLMNPRSTVWXY123456789"  # 1980 = A, 30-year cycle
VIN_CHARS = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def vin_check_digit(vin: str) -> str:
    """ISO 3779 check character of a 17-character VIN (position 9 is ignored)."""
    total = sum(_VIN_TRANSLIT[c] * w for c, w in zip(vin.upper(), _VIN_WEIGHTS))
    r = total % 11
    return "X" if r == 10 else str(r)


def vin_is_valid(vin: str) -> bool:
    vin = vin.upper()
    return (
        len(vin) == 17
        and all(c in _VIN_TRANSLIT for c in vin)
        and vin[8] == vin_check_digit(vin)
    )


def make_vin(wmi: str, vds: str, model_year: int, plant: str, serial: int) -> str:
    year = _VIN_YEAR_CODES[(model_year - 1980) % 30]
    body = f"{wmi}{vds}0{year}{plant}{serial % 1_000_000:06d}"
    assert len(body) == 17, body
    return body[:8] + vin_check_digit(body) + body[9:]


def id_check_char(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character of a Chinese resident ID number."""
    return _ID_CHECK[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS)) % 11]


def make_id_number(region: str, birthday: date, seq: int) -> str:
    first17 = f"{region}{birthday:%Y%m%d}{seq % 1000:03d}"
    return first17 + id_check_char(first17)


def id_is_valid(idno: str) -> bool:
    idno = idno.upper()
    return (
        len(idno) == 18
        and idno[:17].isdigit()
        and idno[17] == id_check_char(idno[:17])
    )


def _corrupt_vin(vin: str, rng: random.Random) -> str:
    """A realistic typo (two serial digits swapped or one char changed) that breaks the check."""
    for _ in range(200):
        chars = list(vin)
        if rng.random() < 0.5:
            i = rng.randint(11, 15)
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
        else:
            i = rng.choice([3, 4, 5, 6, 7, 11, 12, 13, 14, 15, 16])
            pool = "0123456789" if i >= 11 else VIN_CHARS
            chars[i] = rng.choice(pool.replace(chars[i], ""))
        bad = "".join(chars)
        if bad != vin and not vin_is_valid(bad):
            return bad
    raise RuntimeError("could not corrupt VIN")  # pragma: no cover


# --------------------------------------------------------------------------
# reference data (all fictitious)

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
    "于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江"
    "尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官", "司徒")
MALE_GIVEN = ["伟", "强", "磊", "军", "勇", "杰", "涛", "斌", "超", "明", "刚", "平", "辉", "鹏", "华", "飞", "鑫", "波", "宁", "健", "俊", "帆", "浩", "宇", "晨", "峰", "建国", "志强", "志明", "海涛", "俊杰", "子轩", "浩然", "宇航", "文博", "国栋", "永刚", "家豪", "晓东", "天佑", "喆", "堃", "昇", "振华"]
FEMALE_GIVEN = ["芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "玲", "婷", "雪", "慧", "颖", "琳", "洁", "欣", "怡", "佳", "晶", "秀英", "丽娟", "美玲", "雅琪", "欣怡", "梓涵", "诗涵", "晓燕", "春梅", "玉兰", "婉清", "思琪", "雨桐", "慧敏"]
OCCUPATIONS = (
    ("", 22), ("工程师", 8), ("程序员", 6), ("医生", 4), ("护士", 3), ("公务员", 4),
    ("销售", 6), ("会计", 4), ("个体经营", 8), ("私营业主", 6), ("自由职业", 4),
    ("设计师", 3), ("律师", 2), ("退休", 3), ("职员", 10), ("经理", 5),
)
COMPANY_WORDS = ("华创", "鹏程", "安达", "恒信", "嘉禾", "中科", "粤海", "前海", "新力", "泰和",
                 "宏图", "海纳", "远航", "金桥", "瑞丰", "星河", "同创", "利达")
COMPANY_KINDS = ("科技有限公司", "贸易有限公司", "建设工程有限公司", "物流有限公司",
                 "电子有限公司", "实业有限公司", "投资发展有限公司")
DISTRICTS = (("南山区", "440305"), ("福田区", "440304"), ("罗湖区", "440303"),
             ("宝安区", "440306"), ("龙岗区", "440307"), ("龙华区", "440309"))
OTHER_REGIONS = ("430102", "360102", "450103", "441302", "445202", "420106", "510107", "350203")
STREETS = ("科苑路", "深南大道", "滨海大道", "桃园路", "创业路", "前进路", "布吉路", "民治大道",
           "新安六路", "龙岗大道", "红荔路", "梅林路", "沙河西路", "宝安大道", "翠竹路")
ESTATES = ("桃源居", "碧海花园", "万科城", "星海名城", "华润城", "锦绣江南", "阳光花园",
           "御景华城", "东海花园", "中海日辉台", "蔚蓝海岸", "荔林苑")
MOBILE_PREFIXES = ["130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150", "151", "152", "153", "155", "156", "157", "158", "159", "166", "176", "177", "180", "181", "182", "183", "185", "186", "187", "188", "189", "191", "198", "199"]

# (model, WMI, VDS, engine code, new energy, weight)
SOLD_MODELS = (
    ("凯美瑞", "LVG", "BF1EK", "A25A", False, 20),
    ("凯美瑞双擎", "LVG", "BF4EK", "A25B", False, 9),
    ("汉兰达", "LVG", "BH2GV", "A25B", False, 10),
    ("雷凌", "LVG", "BL1AE", "M15A", False, 14),
    ("雷凌双擎", "LVG", "BL4AE", "8ZR", False, 8),
    ("致炫", "LVG", "BY1XP", "2NR", False, 7),
    ("威兰达", "LVG", "BW3XA", "M20D", False, 12),
    ("C-HR", "LVG", "BC2XA", "M20D", False, 4),
    ("锋兰达", "LVG", "BF5XG", "M15D", False, 8),
    ("赛那", "LVG", "BS2XL", "A25B", False, 4),
    ("bZ4X", "LVG", "BZ4XE", "1XM", True, 3),
    ("铂智3X", "LVG", "BP3XE", "1YM", True, 3),
)
WALKIN_MODELS = SOLD_MODELS[:10] + (
    ("卡罗拉", "LFM", "LF1ZE", "9NR", False, 14),
    ("RAV4荣放", "LFM", "LR4XA", "M20D", False, 10),
    ("亚洲龙", "LFM", "LA2XH", "A25A", False, 6),
    ("皇冠", "LFM", "LC2GR", "8AR", False, 3),
    ("普拉多", "LFM", "LP1JT", "2TR", False, 3),
    ("威驰", "LFM", "LV1NC", "2NR", False, 6),
)
COLORS = ("铂金珍珠白", "超级白", "魅影黑", "钛金属灰", "星光银", "炫晶红", "深海蓝", "琥珀棕")
PLATE_CHARS = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I, O
OTHER_PLATE_PREFIXES = ("粤A", "粤S", "粤E", "湘A", "赣B", "桂A", "川A", "鄂A")

# name, first day (days before --date), last day (None: still working)
ADVISORS = (
    ("黄志刚", 1200, None), ("陈晓丽", 1200, 380), ("刘洋", 1200, None), ("周静", 720, None),
    ("吴俊杰", 1200, 210), ("林佳", 370, None), ("郑凯", 200, None),
)

MAINT_BASE = (("更换机油", 0, 268.0), ("更换机油滤清器", 0, 58.0))
MAINT_EXTRA = (  # item, every n km, labour, parts
    ("更换空气滤芯", 20_000, 30, 128.0), ("更换空调滤芯", 20_000, 30, 158.0),
    ("更换刹车油", 40_000, 120, 186.0), ("更换火花塞", 60_000, 180, 612.0),
    ("更换变速箱油", 60_000, 260, 798.0), ("更换防冻液", 40_000, 120, 235.0),
)
REPAIRS = (  # item, labour, parts
    ("更换前刹车片", 180, 580.0), ("更换后刹车片", 180, 520.0), ("更换蓄电池", 60, 780.0),
    ("更换雨刮片", 0, 168.0), ("更换轮胎2条", 100, 1460.0), ("四轮定位", 260, 0.0),
    ("空调系统清洗", 180, 280.0), ("更换氧传感器", 200, 980.0), ("更换节温器", 320, 460.5),
    ("底盘异响检查，紧固螺丝", 150, 0.0), ("更换前减震器", 600, 1860.0),
    ("更换发电机皮带", 240, 310.0), ("清洗节气门", 150, 45.0), ("更换大灯灯泡", 60, 135.0),
)
LOYAL_EXTRAS = (("全车镀晶", 0, 880.0), ("发动机舱清洗", 120, 60.0), ("内饰深度清洁", 300, 0.0),
                ("加装行车记录仪", 150, 699.0), ("四轮定位", 260, 0.0))
BODY_PAINT = (("前保险杠喷漆", 300, 620.0), ("左前门钣金喷漆", 500, 880.0),
              ("后杠刮擦修复", 200, 420.0), ("右后叶子板钣金喷漆", 600, 980.0),
              ("左后视镜外壳喷漆", 120, 260.0))
ACCIDENT = (("事故车维修：更换前保险杠、左大灯，钣金喷漆", 1500, 6800.0),
            ("事故车维修：更换后保险杠、后尾灯", 900, 3600.0),
            ("事故车维修：更换右前翼子板、右前大灯、水箱框架", 2200, 9800.0),
            ("事故车维修：左侧车门钣金喷漆，更换左后视镜", 1200, 2650.0))
WARRANTY = ("保修：更换水泵", "保修：更换车窗升降器", "保修：更换中控屏", "保修：更换前悬挂下摆臂",
            "保修：更换空调压缩机", "保修：更换油门踏板传感器", "保修：异响处理，更换稳定杆胶套")
FREE_CHECKS = {
    "winter": "冬季免费检测：蓄电池、防冻液、轮胎、灯光",
    "summer": "夏季空调免费检测：制冷、冷却液、轮胎",
    "holiday": "节前出行免费检测：刹车、轮胎、灯光、油液",
    "recall": "召回检查：检查燃油泵（免费）",
}
ADVICE = (
    "建议更换刹车片，客户暂不更换", "轮胎花纹较浅，建议更换，客户表示下次再换",
    "建议清洗节气门，客户拒绝", "蓄电池老化，建议更换，客户暂缓", "建议做四轮定位，客户暂不做",
    "前减震器轻微渗油，建议观察", "建议更换空调滤芯，客户自备", "雨刮片老化，建议更换，客户暂不换",
    "建议更换刹车油，客户下次再做",
)


# --------------------------------------------------------------------------
# the world: customers, vehicles, repair orders (clean values)

@dataclass
class Customer:
    idx: int
    name: str
    gender: str                 # 男 / 女 / "" for companies
    phone: str                  # mobile (or landline for some companies)
    phone2: str                 # spouse / driver / second number
    id_no: str                  # "" when unknown
    birthday: date | None
    birthday_text: str = ""     # overrides birthday in the file (lunar text)
    occupation: str = ""
    address: str = ""
    is_company: bool = False
    role: str = ""


@dataclass
class Vehicle:
    idx: int
    customer: Customer
    vin: str
    plate: str
    model: str
    color: str
    engine_no: str
    usage: str
    km_per_day: float
    sold_here: bool
    profile: str                # normal / loyal / warranty_only / lost
    delivery: date              # delivery date (walk-ins: an estimate, not exported)
    purchase: date
    first_seen: date            # first visit (walk-ins)
    start_km: int               # odometer at first_seen
    ins_compulsory: date | None = None
    ins_commercial: date | None = None
    inspection: date | None = None
    advisor: str = ""
    role: str = ""


@dataclass
class Order:
    no: str | int
    vehicle: Vehicle
    name: str
    phone: str
    date_in: datetime
    date_out: datetime
    km: int
    kind: str
    items: str
    labour: float
    parts: float
    advisor: str
    advice: str = ""

    @property
    def total(self) -> float:
        return round(self.labour + self.parts, 2)

    def row(self) -> list:
        v = self.vehicle
        return [self.no, v.plate, v.vin, self.name, self.phone, self.date_in, self.date_out,
                self.km, self.kind, self.items, self.labour, self.parts, self.total,
                self.advisor, self.advice]


def _years_back(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year - years)
    except ValueError:  # 29 Feb
        return d.replace(year=d.year - years, day=28)


def _months_back(d: date, months: int) -> date:
    y, m = divmod(d.year * 12 + d.month - 1 - months, 12)
    m += 1
    for day in (d.day, 30, 29, 28):
        try:
            return date(y, m, day)
        except ValueError:
            continue
    raise AssertionError  # pragma: no cover


def _anniversary(d: date, year: int) -> date:
    try:
        return d.replace(year=year)
    except ValueError:
        return d.replace(year=year, day=28)


def _next_anniversary_end(start: date, today: date, step: int = 1) -> date:
    """Day before the first (k*step)-th anniversary of start that is not before today."""
    k = step
    while True:
        end = _anniversary(start, start.year + k) - timedelta(days=1)
        if end >= today:
            return end
        k += step


def _roles(n: int, seed: int) -> dict[int, str]:
    """Customers with a forced part in the care contacts; the rest is random."""
    roles = (
        ["deliv:1", "deliv:1", "deliv:3", "deliv:3", "deliv:7", "deliv:7",
         "deliv:2", "deliv:4", "deliv:5", "deliv:8", "deliv:9", "deliv:10",
         "firstmaint:0", "firstmaint:1", "firstmaint:-10",
         "order:1", "order:1", "order:1", "order:2", "order:2", "order:3", "order:3", "order:3",
         "bday:0", "bday:0", "bday:1", "bday:2", "bday:3", "bday:4", "bday:5", "bday:6",
         "ins:0", "ins:1", "ins:3", "ins:6",
         "teacher", "teacher", "teacher", "teacher", "teacher",
         "yingyun", "yingyun", "yingyun",
         "lunar", "lunar", "feb29", "namesake", "namesake", "compound:欧阳", "compound:司马"]
        + ["company"] * max(3, n // 20)
    )
    rng = random.Random(f"roles:{seed}:{n}")
    order = list(range(n))
    rng.shuffle(order)
    return {order[j]: role for j, role in enumerate(roles[:n])}


def _sample(rng: random.Random, population: list, k: int) -> list:
    """rng.sample that takes what there is when the population is small."""
    return rng.sample(population, min(k, len(population)))


def _pick_weighted(rng: random.Random, items):
    """One of items (tuples whose last element is the weight)."""
    return rng.choices(items, weights=[p[-1] for p in items])[0]


def _pick(rng: random.Random, pairs) -> str:
    return _pick_weighted(rng, pairs)[0]


def _person_name(rng: random.Random, gender: str) -> str:
    surname = rng.choice(COMPOUND_SURNAMES) if rng.random() < 0.025 else rng.choice(SURNAMES)
    given = rng.choice(MALE_GIVEN if gender == "男" else FEMALE_GIVEN)
    if len(surname) == 2 and len(given) == 2 and rng.random() < 0.6:
        given = given[0]
    return surname + given


def _mobile(rng: random.Random, key: int) -> str:
    # the 8 last digits are a bijection of key: unique numbers without global state
    return rng.choice(MOBILE_PREFIXES) + f"{(key * 104_729 + 5_550_123) % 100_000_000:08d}"


def _plate(idx: int, prefix: str, nev: bool) -> str:
    if nev:
        return f"{prefix}D{(idx * 7_919 + 4_242) % 100_000:05d}"
    k = (idx * 7_919 + 1_234) % 340_000
    return f"{prefix}{PLATE_CHARS[k // 10_000]}{k % 10_000:04d}"


def _customer(i: int, today: date, role: str, rng: random.Random) -> Customer:
    is_company = role == "company"
    if is_company:
        nw = len(COMPANY_WORDS)
        k = i % (nw * (nw - 1) * len(COMPANY_KINDS))   # unique names, two different words
        w1 = k % nw
        w2 = (w1 + 1 + (k // nw) % (nw - 1)) % nw
        name = ("深圳市" + COMPANY_WORDS[w1] + COMPANY_WORDS[w2]
                + COMPANY_KINDS[(k // (nw * (nw - 1))) % len(COMPANY_KINDS)])
        district, _ = rng.choice(DISTRICTS)
        phone = (f"0755-8{(i * 7_919 + 31) % 10_000_000:07d}" if rng.random() < 0.3
                 else _mobile(rng, i))
        return Customer(
            idx=i, name=name, gender="", phone=phone, phone2=_mobile(rng, i + 10_000_000),
            id_no="", birthday=None, occupation="", is_company=True, role=role,
            address=f"深圳市{district}{rng.choice(STREETS)}{rng.randint(1, 300)}号"
                    f"{rng.choice('ABCDE')}座{rng.randint(2, 30)}楼",
        )
    gender = "男" if rng.random() < 0.68 else "女"
    name = "王伟" if role == "namesake" else _person_name(rng, gender)
    if role.startswith("compound:"):
        name = role.split(":")[1] + rng.choice(MALE_GIVEN if gender == "男" else FEMALE_GIVEN)[0]
    if role == "namesake":
        gender = "男"
    age = rng.randint(23, 66)
    if role.startswith("bday:"):
        target = today + timedelta(days=int(role.split(":")[1]))
        year = today.year - age
        if target.month == 2 and target.day == 29:
            while year % 4:
                year -= 1
        birthday = date(year, target.month, target.day)
    elif role == "feb29":
        birthday = date(rng.choice((1984, 1988, 1992)), 2, 29)
    else:
        birthday = date(today.year - age, 1, 1) + timedelta(days=rng.randint(0, 364))
    if rng.random() < 0.75:
        region = rng.choice(DISTRICTS)[1]
    else:
        region = rng.choice(OTHER_REGIONS)
    seq = ((i * 37 + 11) % 500) * 2 + (1 if gender == "男" else 0)
    id_no = make_id_number(region, birthday, seq)
    birthday_text = ""
    keep_id, keep_birthday = rng.random() > 0.10, rng.random() > 0.15
    if role.startswith("bday:") or role == "feb29":
        keep_id = keep_birthday = True
    if role == "lunar":
        keep_id, keep_birthday = False, False
        birthday_text = rng.choice(("农历八月十五", "农历1983年正月初八", "农历三月廿三"))
    occupation = {"teacher": "教师", "yingyun": "网约车司机"}.get(role) or _pick(rng, OCCUPATIONS)
    district, _ = rng.choice(DISTRICTS)
    address = "" if rng.random() < 0.12 else (
        f"深圳市{district}{rng.choice(ESTATES)}{rng.randint(1, 30)}栋{rng.randint(2, 33)}"
        f"{rng.randint(1, 8):02d}" if rng.random() < 0.7
        else f"深圳市{district}{rng.choice(STREETS)}{rng.randint(1, 400)}号")
    return Customer(
        idx=i, name=name, gender=gender, phone=_mobile(rng, i),
        phone2=_mobile(rng, i + 10_000_000) if rng.random() < 0.35 else "",
        id_no=id_no if keep_id else "", birthday=birthday if keep_birthday else None,
        birthday_text=birthday_text, occupation=occupation, address=address, role=role,
    )


def _vehicle(vidx: int, cust: Customer, today: date, role: str, sold: bool,
             rng: random.Random) -> Vehicle:
    hist_start = _years_back(today, 3)
    if sold:
        model, wmi, vds, engine, nev, _ = _pick_weighted(rng, SOLD_MODELS)
        kind, _, arg = role.partition(":")
        if kind == "deliv":
            delivery = today - timedelta(days=int(arg))
        elif kind == "firstmaint":
            delivery = _months_back(today, 3) + timedelta(days=int(arg))
        elif kind == "ins":
            delivery = _years_back(today + timedelta(days=int(arg) + 1), rng.choice((1, 2)))
        elif kind == "order":
            delivery = today - timedelta(days=rng.randint(400, 3 * 365 - 30))
        else:
            delivery = hist_start + timedelta(days=rng.randint(0, (today - hist_start).days - 1))
        purchase = delivery - timedelta(days=rng.choice((0, 0, 0, 1, 2, 3, 5, 7, 10, 14)))
        model_year = delivery.year if delivery.month > 3 or rng.random() < 0.5 else delivery.year - 1
        first_seen, start_km = delivery, rng.randint(8, 60)
        prefix = "粤B"
    else:
        model, wmi, vds, engine, nev, _ = _pick_weighted(rng, WALKIN_MODELS)
        model_year = today.year - rng.randint(3, 11)
        delivery = date(model_year, rng.randint(1, 12), rng.randint(1, 28))
        purchase = delivery
        if rng.random() < 0.6:   # already a service customer when the history starts
            first_seen = hist_start + timedelta(days=rng.randint(0, 150))
        else:
            first_seen = hist_start + timedelta(days=rng.randint(0, (today - hist_start).days - 60))
        if delivery > first_seen - timedelta(days=60):
            delivery = first_seen - timedelta(days=rng.randint(60, 400))
            model_year = min(model_year, delivery.year)
        prefix = "粤B" if rng.random() < 0.7 else rng.choice(OTHER_PLATE_PREFIXES)
        start_km = 0
    usage = "公务车" if cust.is_company else "营运车" if cust.role == "yingyun" else "私家车"
    kmday = rng.uniform(60, 80) if usage == "营运车" else rng.uniform(20, 80)
    if not sold:
        start_km = int((first_seen - delivery).days * kmday * rng.uniform(0.8, 1.1))
    plant = rng.choice("GHJ") if wmi == "LVG" else rng.choice("ACT")
    vin = make_vin(wmi, vds, model_year, plant, 100_000 + vidx * 37 % 900_000)
    if _is_order_role(role):
        profile = "normal"
    elif not sold:
        profile = _pick(rng, (("normal", 58), ("loyal", 10), ("lost", 30), ("warranty_only", 2)))
    else:
        profile = _pick(rng, (("normal", 68), ("loyal", 13), ("lost", 10), ("warranty_only", 9)))
    if cust.is_company and profile == "lost":
        profile = "loyal"
    v = Vehicle(
        idx=vidx, customer=cust, vin=vin, plate=_plate(vidx, prefix, nev), model=model,
        color=rng.choice(COLORS), engine_no=f"{engine}{rng.randint(0, 9_999_999):07d}",
        usage=usage, km_per_day=kmday, sold_here=sold, profile=profile,
        delivery=delivery, purchase=purchase, first_seen=first_seen, start_km=start_km,
        role=role,
    )
    if sold:
        ins = _next_anniversary_end(delivery, today)
        if (not role and ins - timedelta(days=365) >= delivery + timedelta(days=364)
                and rng.random() < 0.10):
            ins = _anniversary(ins, ins.year - 1)  # renewed elsewhere: the list is stale
        v.ins_compulsory = ins
        r = rng.random()
        v.ins_commercial = (None if r < 0.08 else ins + timedelta(days=rng.randint(-20, 20))
                            if r < 0.18 else ins)
        if rng.random() > 0.05:
            v.inspection = _next_anniversary_end(delivery, today, 1 if usage == "营运车" else 2)
    return v


def _is_order_role(role: str) -> bool:
    return role.startswith("order:")


def _active_advisors(day: date, today: date) -> list[str]:
    back = (today - day).days
    return [n for n, first, last in ADVISORS if back <= first and (last is None or back >= last)]


def _season_check(d: date) -> str:
    if d.month in (11, 12, 1, 2):
        return FREE_CHECKS["winter"]
    if d.month in (6, 7, 8):
        return FREE_CHECKS["summer"]
    if d.month in (4, 9):
        return FREE_CHECKS["holiday"]
    return FREE_CHECKS["recall"]


def _visit_plan(v: Vehicle, today: date, rng: random.Random) -> list[tuple[date, str]]:
    """(settlement day, kind) of every settled visit of a vehicle, sorted."""
    last_day = today - timedelta(days=1)
    role_kind, _, role_arg = v.role.partition(":")
    if role_kind in ("firstmaint", "deliv"):
        return []
    end = last_day
    if v.profile == "lost":
        end = today - timedelta(days=rng.randint(390, 800))
    forced = None
    if role_kind == "order":
        forced = today - timedelta(days=int(role_arg))
        end = forced - timedelta(days=rng.randint(60, 150))
    plan: list[tuple[date, str]] = []
    loyal = v.profile == "loyal"
    if v.sold_here:
        t = v.delivery + timedelta(days=rng.randint(75, 105))
        if t <= end:
            plan.append((t, "首保"))
    else:
        t = v.first_seen
        if t <= end:
            plan.append((t, rng.choice(("定期保养", "定期保养", "一般维修", "免费检测"))))
    warranty_end = (_anniversary(v.delivery, v.delivery.year + 3) if v.sold_here
                    else v.delivery)  # walk-ins are mostly out of warranty
    while True:
        if v.profile == "warranty_only":
            t += timedelta(days=rng.randint(150, 400))
            kind = "保修" if t < warranty_end and rng.random() < 0.6 else "免费检测"
        else:
            base = rng.uniform(5_000, 10_000) / v.km_per_day
            lo, hi = (110, 165) if loyal else (120, 240)
            t += timedelta(days=round(min(max(base, lo), hi) + rng.uniform(-10, 10)))
            kind = "定期保养"
        if t > end:
            break
        plan.append((t, kind))
        if v.profile != "warranty_only" and rng.random() < (0.6 if loyal else 0.4):
            extra = t + timedelta(days=rng.randint(20, 100))
            if extra <= end:
                r = rng.random()
                if r < 0.45:
                    k = "一般维修"
                elif r < 0.65:
                    k = "钣喷"
                elif r < 0.73:
                    k = "事故"
                elif r < 0.88 and extra < warranty_end:
                    k = "保修"
                else:
                    k = "免费检测"
                plan.append((extra, k))
    if forced is not None:
        plan.append((forced, rng.choice(("定期保养", "定期保养", "一般维修", "钣喷"))))
    plan.sort()
    return plan


def _order_content(kind: str, km: int, loyal: bool, day: date,
                   rng: random.Random) -> tuple[str, float, float, str]:
    """items, labour, parts, advice"""
    items: list[str] = []
    labour = parts = 0.0
    if kind in ("首保", "定期保养"):
        items = [x[0] for x in MAINT_BASE] + ["全车常规检查"]
        if kind == "定期保养":
            labour = float(rng.choice((180, 200, 220, 260, 280, 320)))
            parts = sum(x[2] for x in MAINT_BASE) + rng.choice((0.0, 0.0, 38.5, 76.0))
            for name, every, lab, price in MAINT_EXTRA:
                if km >= every and (km // every) != ((km - 10_000) // every):
                    items.append(name)
                    labour += lab
                    parts += price
            if loyal and rng.random() < 0.6:
                name, lab, price = rng.choice(LOYAL_EXTRAS)
                items.append(name)
                labour += lab
                parts += price
        else:
            items = ["首次保养（免费）：" + "、".join(items)]
    elif kind == "一般维修":
        for name, lab, price in rng.sample(REPAIRS, rng.choice((1, 1, 1, 2, 2, 3))):
            items.append(name)
            labour += lab
            parts += price
        if loyal and rng.random() < 0.5:
            name, lab, price = rng.choice(LOYAL_EXTRAS)
            items.append(name)
            labour += lab
            parts += price
    elif kind == "钣喷":
        for name, lab, price in rng.sample(BODY_PAINT, rng.choice((1, 1, 2))):
            items.append(name)
            labour += lab
            parts += price
    elif kind == "事故":
        name, lab, price = rng.choice(ACCIDENT)
        f = rng.uniform(0.5, 2.5)
        items.append(name)
        labour, parts = round(lab * f, -1), round(price * f, 1)
    elif kind == "保修":
        items.append(rng.choice(WARRANTY))
    else:
        items.append(_season_check(day))
    if loyal:
        labour, parts = labour * 1.15, parts * 1.1
    advice = rng.choice(ADVICE) if rng.random() < 0.06 else ""
    return "、".join(items), round(labour, 0), round(parts, 2), advice


def _world(today: date, customers: int, seed: int
           ) -> Iterator[tuple[Customer, list[Vehicle]]]:
    roles = _roles(customers, seed)
    vidx = 0
    for i in range(customers):
        rng = random.Random(f"crmcli-sample:{seed}:{i}")
        role = roles.get(i, "")
        cust = _customer(i, today, role, rng)
        if cust.is_company:
            count = rng.choice((1, 1, 2, 2, 3))
        else:
            count = 2 if rng.random() < 0.12 and not role else 1
        forced_sold = role.startswith(("deliv", "firstmaint", "ins", "order", "bday", "teacher",
                                       "yingyun", "lunar", "feb29", "namesake", "compound"))
        vehicles = []
        for k in range(count):
            sold = forced_sold or rng.random() < 0.58
            vehicles.append(_vehicle(vidx, cust, today, role if k == 0 else "", sold, rng))
            vidx += 1
        yield cust, vehicles


def _advisor_for(v: Vehicle, day: date, today: date, rng: random.Random) -> str:
    active = _active_advisors(day, today) or [ADVISORS[0][0]]
    if v.advisor not in active or rng.random() < 0.15:
        v.advisor = rng.choice(active)
    return v.advisor


def _vehicle_orders(v: Vehicle, today: date, rng: random.Random,
                    counters: dict) -> Iterator[Order]:
    cust = v.customer
    km = float(v.start_km)
    prev = v.delivery if v.sold_here else v.first_seen
    for day, kind in _visit_plan(v, today, rng):
        km += max(1, (day - prev).days) * v.km_per_day * rng.uniform(0.8, 1.2)
        prev = day
        hours = {"钣喷": (24, 120), "事故": (72, 360), "一般维修": (1, 30)}.get(kind, (1, 5))
        settle_time = time(rng.randint(11, 18), rng.randrange(0, 60, 1))
        date_out = datetime.combine(day, settle_time)
        date_in = (date_out - timedelta(hours=rng.uniform(*hours))).replace(second=0,
                                                                            microsecond=0)
        if date_in.hour < 8:
            date_in = date_in.replace(hour=8 + date_in.hour % 3)
        if date_in.hour >= 19:
            date_in = date_in.replace(hour=9 + date_in.hour % 4)
        if date_in > date_out:
            date_in = date_out - timedelta(hours=1)
        items, labour, parts, advice = _order_content(kind, int(km), v.profile == "loyal", day,
                                                      rng)
        key = date_in.date()
        if rng.random() < 0.10:
            n = counters.setdefault(("num", key), [0])
            n[0] += 1
            no: str | int = int(f"{key:%Y%m%d}{n[0]:02d}")
        else:
            n = counters.setdefault(("ro", key), [0])
            n[0] += 1
            no = f"RO{key:%Y%m%d}{n[0]:05d}"
        name, phone = cust.name, cust.phone
        r = rng.random()
        if cust.is_company:
            phone = cust.phone2 if r < 0.8 else cust.phone
        elif r < 0.06 and cust.phone2:
            name, phone = _person_name(rng, "女" if cust.gender == "男" else "男"), cust.phone2
        elif r < 0.09:
            name = (cust.name[:2] if cust.name[:2] in COMPOUND_SURNAMES else cust.name[0]) + (
                "先生" if cust.gender == "男" else "女士")
        elif r < 0.13 and cust.phone2:
            phone = cust.phone2
        yield Order(no=no, vehicle=v, name=name, phone=phone, date_in=date_in,
                    date_out=date_out, km=int(km), kind=kind, items=items, labour=labour,
                    parts=parts, advisor=_advisor_for(v, day, today, rng), advice=advice)


def _orders(today: date, customers: int, seed: int) -> Iterator[Order]:
    counters: dict = {}
    for _cust, vehicles in _world(today, customers, seed):
        for v in vehicles:
            rng = random.Random(f"crmcli-orders:{seed}:{v.idx}")
            yield from _vehicle_orders(v, today, rng, counters)


# --------------------------------------------------------------------------
# messiness

_EPOCH = datetime(1899, 12, 30)
_TEXT_DATES = (
    lambda d: f"{d.year}/{d.month}/{d.day}",
    lambda d: f"{d.year}年{d.month}月{d.day}日",
    lambda d: f"{d:%Y%m%d}",
    lambda d: f"{d.year}.{d.month}.{d.day}",
    lambda d: f"{d:%Y-%m-%d}",
)


def excel_serial(d: date | datetime) -> float | int:
    if isinstance(d, datetime):
        return round((d - _EPOCH).total_seconds() / 86_400, 6)
    return (d - _EPOCH.date()).days


def _mess_date(value, rng: random.Random, messy: float):
    if value is None or not messy:
        return value
    r = rng.random()
    if r < 0.06 * messy:
        return excel_serial(value)
    if r < 0.20 * messy:
        text = rng.choice(_TEXT_DATES)(value)
        if isinstance(value, datetime) and rng.random() < 0.3:
            text += f" {value.hour}:{value.minute:02d}"
        return text
    return value


def _mess_phone(phone: str, rng: random.Random, messy: float):
    if not messy or not (len(phone) == 11 and phone.isdigit()):
        return phone
    r = rng.random()
    if r < 0.25 * messy:
        return float(phone)
    if r < 0.31 * messy:
        return f"{phone[:3]} {phone[3:7]} {phone[7:]}"
    if r < 0.35 * messy:
        return f"+86-{phone[:3]}-{phone[3:7]}-{phone[7:]}"
    if r < 0.37 * messy:
        return f"+86 {phone}"
    return phone


def _mess_plate(plate: str, rng: random.Random, messy: float):
    if not messy or not plate or plate == "未上牌":
        return plate
    r = rng.random()
    if r < 0.04 * messy:
        return plate[:2] + "·" + plate[2:]
    if r < 0.07 * messy:
        return plate[:1] + plate[1:].lower()
    if r < 0.10 * messy:
        return plate[:2] + " " + plate[2:]
    if r < 0.115 * messy:
        return f" {plate} "
    return plate


def _mess_money(values: list[float], rng: random.Random, messy: float) -> list:
    if messy and rng.random() < 0.08 * messy:
        sign = "¥" if rng.random() < 0.6 else "￥"
        return [f"{sign}{x:,.2f}" for x in values]
    return values


def _mess_km(km: int, rng: random.Random, messy: float):
    r = rng.random()
    if messy and r < 0.10 * messy:
        return f"{km:,}"
    if messy and r < 0.14 * messy:
        return str(km)
    return km


def _render_order(o: Order, rng: random.Random, messy: float) -> list:
    row = o.row()
    if not messy:
        return row
    row[_O["车牌号码"]] = _mess_plate(row[_O["车牌号码"]], rng, messy)
    row[_O["联系电话"]] = _mess_phone(row[_O["联系电话"]], rng, messy)
    row[_O["进厂日期"]] = _mess_date(row[_O["进厂日期"]], rng, messy)
    row[_O["结算日期"]] = _mess_date(row[_O["结算日期"]], rng, messy)
    row[_O["进厂里程(km)"]] = _mess_km(row[_O["进厂里程(km)"]], rng, messy)
    i = _O["工时费"]
    row[i:i + 3] = _mess_money(row[i:i + 3], rng, messy)
    return row


def _delivery_row(v: Vehicle, today: date) -> list:
    c = v.customer
    recent = (today - v.delivery).days <= 10
    plate = "" if recent and v.idx % 3 == 0 else "未上牌" if recent and v.idx % 3 == 1 else v.plate
    return [c.name, c.gender, c.phone, c.id_no, v.vin, plate, v.model, v.color, v.engine_no,
            v.purchase, v.delivery, v.usage, c.birthday_text or c.birthday, c.occupation,
            c.address, v.ins_compulsory, v.ins_commercial, v.inspection]


def _render_delivery(row: list, rng: random.Random, messy: float) -> list:
    row = list(row)
    if not messy:
        return row
    row[_D["车牌号"]] = _mess_plate(row[_D["车牌号"]], rng, messy)
    phone = row[_D["手机号码"]]
    row[_D["手机号码"]] = _mess_phone(phone, rng, messy)
    for name in ("购车日期", "交车日期", "生日", "交强险到期日", "商业险到期日", "年检到期日"):
        if isinstance(row[_D[name]], date):
            row[_D[name]] = _mess_date(row[_D[name]], rng, messy)
    return row


def order_rows(today: date, customers: int = 300, seed: int = 7, *,
               messy: float = 0.0) -> Iterator[list]:
    """Repair-order rows (ORDER_HEADER order), vehicle by vehicle, streamed.

    ``messy`` (0..1) scales the cell-level messiness (text/serial dates, phone and
    plate spellings, money/mileage as text).  Structural messiness (blank rows,
    duplicates, rows to reject, totals) is only added by ``generate()``.
    """
    rng = random.Random(f"crmcli-render:{seed}")
    for o in _orders(today, customers, seed):
        yield _render_order(o, rng, messy)


def delivery_rows(today: date, customers: int = 300, seed: int = 7, *,
                  messy: float = 0.0) -> Iterator[list]:
    """Delivery-list rows (DELIVERY_HEADER order) of the vehicles sold by the dealer."""
    rng = random.Random(f"crmcli-render-d:{seed}")
    for _cust, vehicles in _world(today, customers, seed):
        for v in vehicles:
            if v.sold_here:
                yield _render_delivery(_delivery_row(v, today), rng, messy)


# --------------------------------------------------------------------------
# writers

_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_TITLE_FONT = Font(bold=True, size=14)


def _xlsx_cell_format(value) -> str | None:
    if isinstance(value, datetime):
        return "yyyy-mm-dd hh:mm"
    if isinstance(value, date):
        return "yyyy-mm-dd"
    return None


def _write_sheet(ws, title_lines: list[str], header: list[str], rows: list[list],
                 widths: dict[str, float], money_cols: tuple[int, ...] = (),
                 numeric_text_cols: tuple[int, ...] = ()) -> None:
    n = len(header)
    for line in title_lines:
        ws.append([line])
    if title_lines:
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=n)
        ws.cell(1, 1).font = _TITLE_FONT
        ws.cell(1, 1).alignment = Alignment(horizontal="center")
    ws.append([])
    ws.append(header)
    hr = ws.max_row
    for c in range(1, n + 1):
        cell = ws.cell(hr, c)
        cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
    for r, row in enumerate(rows, start=hr + 1):
        ws.append(row)
        for c, value in enumerate(row):
            fmt = _xlsx_cell_format(value)
            if fmt:
                ws.cell(r, c + 1).number_format = fmt
            elif c in money_cols and isinstance(value, float):
                ws.cell(r, c + 1).number_format = "#,##0.00"
            elif c in numeric_text_cols and isinstance(value, (int, float)):
                ws.cell(r, c + 1).number_format = "0"
    ws.freeze_panes = f"A{hr + 1}"
    for col, width in widths.items():
        ws.column_dimensions[col].width = width


def _xlsx_header_row(title_lines: list[str]) -> int:
    return len(title_lines) + 2   # titles, one blank row, header


def _write_xls(path: Path, title_lines: list[str], header: list[str], rows: list[list],
               sheet_name: str, hidden_first: list[list] | None) -> bool:
    try:
        import xlwt
    except ImportError:
        print(f"skipped {path.name}: xlwt is not installed")
        return False
    wb = xlwt.Workbook(encoding="utf-8")
    if hidden_first is not None:
        hidden = wb.add_sheet("参数")
        for r, row in enumerate(hidden_first):
            for c, value in enumerate(row):
                hidden.write(r, c, value)
        hidden.visibility = 1
    ws = wb.add_sheet(sheet_name)
    if hidden_first is not None:
        wb.set_active_sheet(1)
        ws.set_selected(True)
    title_style = xlwt.easyxf("font: bold on, height 280; align: horiz center")
    header_style = xlwt.easyxf("font: bold on; pattern: pattern solid, fore_colour pale_blue")
    dt_style = xlwt.easyxf(num_format_str="YYYY-MM-DD HH:MM")
    d_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    money_style = xlwt.easyxf(num_format_str="#,##0.00")
    r = 0
    for i, line in enumerate(title_lines):
        if i == 0:
            ws.write_merge(0, 0, 0, len(header) - 1, line, title_style)
        else:
            ws.write(r, 0, line)
        r += 1
    r += 1
    for c, name in enumerate(header):
        ws.write(r, c, name, header_style)
    r += 1
    for row in rows:
        for c, value in enumerate(row):
            if value is None or value == "":
                continue
            if isinstance(value, datetime):
                ws.write(r, c, value, dt_style)
            elif isinstance(value, date):
                ws.write(r, c, value, d_style)
            elif isinstance(value, float) and header[c] in ("工时费", "材料费", "合计金额"):
                ws.write(r, c, value, money_style)
            else:
                ws.write(r, c, value)
        r += 1
    wb.save(str(path))
    return True


def _csv_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    if isinstance(value, date):
        return f"{value:%Y-%m-%d}"
    if isinstance(value, str):
        return value.replace("¥", "￥")   # U+00A5 does not exist in GBK
    return str(value)


def _insert_blank_rows(rows: list[list], rng: random.Random, count: int = 2) -> list[int]:
    """Insert empty rows in the middle; returns their indexes in the final list."""
    spots = sorted(rng.sample(range(len(rows) // 4, 3 * len(rows) // 4), count))
    done = []
    for k, spot in enumerate(spots):
        rows.insert(spot + k, [None] * len(rows[0]))
        done.append(spot + k)
    return done


def _build_orders(today: date, customers: int, seed: int) -> tuple[list[list], dict]:
    rng = random.Random(f"crmcli-messy-orders:{seed}")
    orders = sorted(_orders(today, customers, seed),
                    key=lambda o: (o.date_out, str(o.no)))
    by_vin: dict[str, list[Order]] = {}
    for o in orders:
        by_vin.setdefault(o.vehicle.vin, []).append(o)
    rows = [_render_order(o, rng, 1.0) for o in orders]
    info: dict = {"duplicates": [], "invalid_vin": [], "invalid_phone": [], "rejects": []}

    def fix_one(i: int, col: str, value) -> None:
        rows[i][_O[col]] = value

    # invalid VINs: a typo in one order of a vehicle that has other orders with the right VIN
    multi = [i for i, o in enumerate(orders) if len(by_vin[o.vehicle.vin]) >= 3]
    for i in _sample(rng, multi, 2):
        bad = _corrupt_vin(orders[i].vehicle.vin, rng)
        fix_one(i, "车架号", bad)
        info["invalid_vin"].append({"order_no": orders[i].no, "vin": bad,
                                    "correct_vin": orders[i].vehicle.vin})
    bad_vins = {x["correct_vin"] for x in info["invalid_vin"]}
    used = {i for i, o in enumerate(orders) if o.vehicle.vin in bad_vins}
    # invalid phones: a digit missing, an impossible prefix
    mobiles = [i for i, o in enumerate(orders)
               if len(o.phone) == 11 and o.phone.isdigit() and i not in used]
    for i, make in zip(_sample(rng, mobiles, 2), (lambda p: p[:10], lambda p: "12" + p[2:])):
        bad = make(orders[i].phone)
        fix_one(i, "联系电话", bad)
        info["invalid_phone"].append({"order_no": orders[i].no, "phone": bad})
        used.add(i)
    # two rows that must be rejected: no order number, impossible date
    feb = [i for i, o in enumerate(orders) if i not in used
           and o.date_out.year == today.year - 1 and o.date_out.month in (2, 3)]
    no_num = rng.choice([i for i in range(len(rows) // 3, len(rows) - 10)
                         if i not in used and i not in feb])
    reject_src = [no_num, rng.choice(feb) if feb else rng.choice(
        [i for i in range(len(rows)) if i not in used and i != no_num])]
    used.update(reject_src)
    clean = {id(rows[i]) for i in range(len(rows)) if i not in used}
    no_number = list(rows[reject_src[0]])
    no_number[_O["工单号"]] = None
    no_number[_O["维修类别"]], no_number[_O["维修项目"]] = "一般维修", "补录：更换雨刮片"
    no_number[_O["工时费"]], no_number[_O["材料费"]], no_number[_O["合计金额"]] = 0.0, 168.0, 168.0
    bad_date = list(rows[reject_src[1]])
    bad_date[_O["工单号"]] = f"RO{today.year - 1}022899{rng.randint(100, 999)}"
    bad_date[_O["结算日期"]] = f"{today.year - 1}-02-30"
    bad_date[_O["进厂日期"]] = f"{today.year - 1}-02-28"
    # the rows copied keep their own order; the rejects are extra rows next to them
    for i, extra in sorted(zip(reject_src, (no_number, bad_date)), key=lambda x: -x[0]):
        rows.insert(i + 1, extra)
    # duplicates: the same order exported twice (same or re-settled amount)
    candidates = [r for r in rows if id(r) in clean
                  and isinstance(r[_O["工时费"]], float) and r[_O["工时费"]] > 0]
    dup_src = _sample(rng, candidates, 4)
    numeric = [r for r in candidates if isinstance(r[_O["工单号"]], int)
               and all(r is not d for d in dup_src)]
    if numeric and len(dup_src) > 1:
        dup_src[1] = numeric[len(numeric) // 2]
    dups = []
    for k, src in enumerate(dup_src):
        d = list(src)
        how = "same"
        if k == 1 and isinstance(d[_O["工单号"]], int):
            d[_O["工单号"]] = str(d[_O["工单号"]])    # number in one row, text in the other
            how = "same, order number once as a number and once as text"
        elif k >= 2:
            d[_O["材料费"]] = round(d[_O["材料费"]] + rng.choice((58.0, 120.0, 268.5)), 2)
            d[_O["合计金额"]] = round(d[_O["工时费"]] + d[_O["材料费"]], 2)
            how = "amount changed"
        dups.append(d)
        info["duplicates"].append({"order_no": str(src[_O["工单号"]]), "how": how,
                                   "total_first": src[_O["合计金额"]],
                                   "total_last": d[_O["合计金额"]]})
    # two re-exported next to their original, two appended at the end
    for d, src in zip(dups[:2], dup_src[:2]):
        rows.insert(next(i for i, r in enumerate(rows) if r is src) + 1, d)
    rows.extend(dups[2:])
    blanks = _insert_blank_rows(rows, rng)
    info["rows"], info["blank_rows"] = rows, blanks
    info["reject_rows"] = {"no_order_number": no_number, "bad_date": bad_date}
    info["orders"] = orders
    return rows, info


def _totals_row(rows: list[list], header: list[str], label_col: str, label: str,
                sum_cols: tuple[str, ...]) -> list:
    total = [None] * len(header)
    total[0] = "合计"
    total[header.index(label_col)] = label
    for name in sum_cols:
        c = header.index(name)
        s = 0.0
        for r in rows:
            v = r[c]
            if isinstance(v, str):
                try:
                    v = float(v.lstrip("¥￥").replace(",", ""))
                except ValueError:
                    continue
            if isinstance(v, (int, float)):
                s += v
        total[c] = round(s, 2)
    return total


def _row_numbers(rows: list[list], targets: list[list], first_row: int) -> list[int]:
    ids = {id(t) for t in targets}
    return [first_row + i for i, r in enumerate(rows) if id(r) in ids]


def generate(out_dir: Path, today: date, customers: int = 300, seed: int = 7) -> dict[str, Path]:
    """Write the sample files into out_dir; returns {file name: path}.

    Needs customers >= 30 (the forced care-contact cases take about 60).
    """
    if customers < 30:
        raise ValueError("customers must be at least 30")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    hist_start = _years_back(today, 3)
    yesterday = today - timedelta(days=1)
    written: dict[str, Path] = {}
    counts: dict[str, int] = {}

    # ---- delivery list
    world = list(_world(today, customers, seed))
    sold = sorted((v for _c, vs in world for v in vs if v.sold_here),
                  key=lambda v: (v.delivery, v.idx))
    rng = random.Random(f"crmcli-messy-delivery:{seed}")
    d_rows = [_render_delivery(_delivery_row(v, today), rng, 1.0) for v in sold]
    # lower-case x in an ID number, a second number in the phone cell
    xs = [r for r in d_rows if r[_D["身份证号"]].endswith("X")]
    for r in xs[:2]:
        r[_D["身份证号"]] = r[_D["身份证号"]][:-1] + "x"
    d_info: dict = {"invalid_vin": [], "invalid_phone": [], "two_phones": []}
    plain = [k for k, r in enumerate(d_rows)
             if isinstance(r[_D["手机号码"]], str) and len(r[_D["手机号码"]]) == 11
             and r[_D["手机号码"]].isdigit()]
    picks = _sample(rng, [k for k in plain if not sold[k].role], 4)
    picks += _sample(rng, [k for k in plain if sold[k].role], 4 - len(picks))
    for k in picks[:2]:
        other = sold[k].customer.phone2 or _mobile(rng, 20_000_000 + k)
        d_rows[k][_D["手机号码"]] = f"{d_rows[k][_D['手机号码']]}/{other}"
        d_info["two_phones"].append(d_rows[k][_D["手机号码"]])
    for k in picks[2:3]:
        good = d_rows[k][_D["手机号码"]]
        bad_phone = good[:3] + good[4:]   # a digit missing
        d_rows[k][_D["手机号码"]] = bad_phone
        d_info["invalid_phone"].append(bad_phone)
    for k in picks[3:4]:
        bad_vin = _corrupt_vin(sold[k].vin, rng)
        d_rows[k][_D["车架号"]] = bad_vin
        d_info["invalid_vin"].append({"vin": bad_vin, "correct_vin": sold[k].vin})
    d_data = list(d_rows)
    d_blanks = _insert_blank_rows(d_rows, rng)
    d_rows.append(_totals_row(d_data, DELIVERY_HEADER, "车架号", f"共{len(d_data)}台", ()))

    path = out_dir / "delivery_list.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "交车明细"
    d_titles = [COMPANY_TITLE, f"导出时间：{yesterday:%Y-%m-%d} 17:30:12"]
    _write_sheet(ws, d_titles, DELIVERY_HEADER, d_rows,
                 {"A": 26, "C": 15, "D": 21, "E": 20, "F": 11, "O": 34},
                 numeric_text_cols=(_D["手机号码"],))
    wb.properties.creator = "DMS"
    wb.save(path)
    written[path.name], counts[path.name] = path, len(d_data)
    d_header_row = _xlsx_header_row(d_titles)

    # ---- DMS orders
    rows, info = _build_orders(today, customers, seed)
    data = [r for r in rows if any(v not in (None, "") for v in r)]
    rows.append(_totals_row(data, ORDER_HEADER, "维修项目", f"共{len(data)}单",
                            ("工时费", "材料费", "合计金额")))
    o_titles = [ORDERS_TITLE, f"统计期间：{hist_start:%Y-%m-%d} 至 {yesterday:%Y-%m-%d}"]
    junk = [["参数名", "参数值", "备注"], ["门店代码", "GZT-0755-021", ""],
            ["导出人", "admin", "系统管理员"], ["系统版本", "DMS 5.2.1 build 3307", ""],
            ["维修类别代码", "BY=定期保养;SB=首保;YB=一般维修;BX=保修;BP=钣喷;SG=事故", ""],
            [1, 2, 3], ["", "", "#N/A"]]
    path = out_dir / "dms_orders.xlsx"
    wb = openpyxl.Workbook()
    hidden = wb.active
    hidden.title = "参数"
    for r in junk:
        hidden.append(r)
    hidden.sheet_state = "hidden"
    ws = wb.create_sheet("工单明细")
    wb.active = 1
    hidden.sheet_view.tabSelected = False
    ws.sheet_view.tabSelected = True
    _write_sheet(ws, o_titles, ORDER_HEADER, rows,
                 {"A": 17, "B": 11, "C": 20, "D": 24, "E": 15, "F": 17, "G": 17, "J": 44, "O": 34},
                 money_cols=(_O["工时费"], _O["材料费"], _O["合计金额"]),
                 numeric_text_cols=(_O["联系电话"], _O["工单号"]))
    wb.properties.creator = "DMS"
    wb.save(path)
    written[path.name], counts[path.name] = path, len(data)
    o_header_row = _xlsx_header_row(o_titles)

    path = out_dir / "dms_orders.xls"
    if _write_xls(path, o_titles, ORDER_HEADER, rows, "工单明细", junk):
        written[path.name], counts[path.name] = path, len(data)

    path = out_dir / "dms_orders_gbk.csv"
    csv_titles = [ORDERS_TITLE]
    with path.open("w", encoding="gbk", newline="") as fh:
        w = csv.writer(fh)
        for line in csv_titles:
            w.writerow([line] + [""] * (len(ORDER_HEADER) - 1))
        w.writerow(ORDER_HEADER)
        for r in rows:
            w.writerow([_csv_value(v) for v in r])
    written[path.name], counts[path.name] = path, len(data)
    csv_header_row = len(csv_titles) + 1

    # ---- manifest
    first_x = o_header_row + 1
    first_c = csv_header_row + 1
    rejects = info["reject_rows"]
    reject_list = [
        (rejects["no_order_number"], "no order number (工单号 empty)"),
        (rejects["bad_date"], f"impossible settlement date {today.year - 1}-02-30"),
    ]
    all_vehicles = [v for _c, vs in world for v in vs]
    orders = info["orders"]
    window = today + timedelta(days=60)
    manifest = {
        "generated_for": today.isoformat(), "seed": seed, "customers": customers,
        "vehicles": len(all_vehicles), "history_start": hist_start.isoformat(),
        "delivery_list.xlsx": {
            "sheet": "交车明细", "title_rows": 2, "header_row": d_header_row,
            "data_rows": len(d_data), "blank_rows_at": [d_header_row + 1 + b for b in d_blanks],
            "totals_row": d_header_row + len(d_rows),
            **d_info,
            "lower_case_x_id_numbers": [r[_D["身份证号"]] for r in xs[:2]],
            "unregistered_plates": sum(1 for r in d_data if r[_D["车牌号"]] in ("", "未上牌")),
            "lunar_birthdays": [r[_D["生日"]] for r in d_data
                                if isinstance(r[_D["生日"]], str) and r[_D["生日"]].startswith("农历")],
        },
        "dms_orders.xlsx": {
            "sheet": "工单明细", "hidden_sheets": ["参数"], "title_rows": 2,
            "header_row": o_header_row, "data_rows": len(data),
            "distinct_order_numbers": len({str(r[0]) for r in data if r[0] not in (None, "")}),
            "blank_rows_at": [first_x + b for b in info["blank_rows"]],
            "totals_row": o_header_row + len(rows),
            "rows_to_reject": [
                {"row": n, "reason": why}
                for (src, why) in reject_list for n in _row_numbers(rows, [src], first_x)
            ],
            "duplicates": info["duplicates"],
            "invalid_vin": info["invalid_vin"],
            "invalid_phone": info["invalid_phone"],
            "numeric_order_numbers": sum(1 for r in data if isinstance(r[0], int)),
        },
        "dms_orders.xls": {"same_as": "dms_orders.xlsx", "header_row": o_header_row},
        "dms_orders_gbk.csv": {
            "encoding": "gbk", "title_rows": len(csv_titles), "header_row": csv_header_row,
            "rows_to_reject": [
                {"row": n, "reason": why}
                for (src, why) in reject_list for n in _row_numbers(rows, [src], first_c)
            ],
            "note": "same rows as dms_orders.xlsx; ¥ is written as ￥ (GBK has no U+00A5)",
        },
        "care": {
            "delivered_days_ago": {
                str(k): sorted(v.vin for v in sold if (today - v.delivery).days == k)
                for k in range(1, 11)
            },
            "delivered_about_3_months_ago_without_visit": sorted(
                v.vin for v in sold if v.role.startswith("firstmaint")),
            "birthdays_next_7_days": sorted(
                c.name for c, vs in world if any(v.sold_here for v in vs)
                and _birthday_within(c.birthday, today, 7)),
            "compulsory_insurance_expiring_next_60_days": sum(
                1 for v in sold if v.ins_compulsory and today <= v.ins_compulsory <= window),
            "inspection_due_next_60_days": sum(
                1 for v in sold if v.inspection and today <= v.inspection <= window),
            "teachers": sum(1 for c, vs in world if c.occupation == "教师"
                            and any(v.sold_here for v in vs)),
            "company_vehicles_in_delivery_list": sum(1 for v in sold if v.usage == "公务车"),
            "commercial_vehicles_in_delivery_list": sum(1 for v in sold if v.usage == "营运车"),
            "orders_settled_days_ago": {
                str(k): sum(1 for o in orders if (today - o.date_out.date()).days == k)
                for k in (1, 2, 3)
            },
            "newest_settlement": max(o.date_out.date() for o in orders).isoformat(),
            "vehicles_only_in_dms": len({o.vehicle.vin for o in orders
                                         if not o.vehicle.sold_here}),
            "vehicles_last_visit_over_a_year_ago": sum(
                1 for vin, last in _last_visits(orders).items()
                if (today - last).days > 365),
        },
    }
    path = out_dir / "manifest.json"
    path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2, default=str) + "\n",
                    encoding="utf-8")
    written[path.name] = path
    counts[path.name] = 0
    for name, p in written.items():
        if counts[name]:
            print(f"wrote {p}  ({counts[name]} data rows)")
        else:
            print(f"wrote {p}")
    return written


def _birthday_within(birthday: date | None, today: date, days: int) -> bool:
    if birthday is None:
        return False
    window = {today + timedelta(days=k) for k in range(days)}
    return any(_anniversary(birthday, y) in window for y in (today.year, today.year + 1))


def _last_visits(orders: list[Order]) -> dict[str, date]:
    last: dict[str, date] = {}
    for o in orders:
        d = o.date_out.date()
        if d > last.get(o.vehicle.vin, date.min):
            last[o.vehicle.vin] = d
    return last


def write_big_orders_xlsx(path: Path, rows: int, today: date, seed: int = 7) -> Path:
    """A large, clean-ish DMS export (title rows + header + `rows` orders), streamed.

    Uses openpyxl's write-only mode; rows come vehicle by vehicle (not sorted by
    date) with light messiness (a few text dates, phones as numbers, ...).
    100,000 rows take well under a minute.
    """
    path = Path(path)
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("工单明细")
    ws.append([ORDERS_TITLE])
    period = f"统计期间：{_years_back(today, 3):%Y-%m-%d} 至 {today - timedelta(days=1):%Y-%m-%d}"
    ws.append([period])
    ws.append([])
    ws.append(ORDER_HEADER)
    written = 0
    customers = max(50, rows // 3)
    for row in order_rows(today, customers, seed, messy=0.25):
        if written >= rows:
            break
        ws.append(row)
        written += 1
    if written < rows:  # pragma: no cover - the estimate above leaves a wide margin
        raise RuntimeError(f"only {written} orders generated for {customers} customers")
    wb.save(path)
    return path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--date", type=date.fromisoformat, default=date.today(),
                   help="the day the files are for (default: today)")
    p.add_argument("--out", type=Path, default=HERE, help="output folder (default: %(default)s)")
    p.add_argument("--customers", type=int, default=300)
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args(argv)
    if args.customers < 30:
        p.error("--customers must be at least 30")
    generate(args.out, args.date, args.customers, args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
