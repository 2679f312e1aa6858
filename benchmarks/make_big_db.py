#!/usr/bin/env python3
"""Build a large, realistic crmcli database for the planning benchmark.

    python benchmarks/make_big_db.py [--customers 200000] [--vehicles 250000]
        [--orders 2000000] [--date 2026-11-26] [--seed 7] [--out benchmarks/out/big.db]
        [--rebuild]

The file is opened with ``crmcli.db.connect`` (so the migrations make the
schema) and filled with ``executemany`` from generators inside one
transaction, with the journal and fsync off while it is built. The data is
fictitious but shaped like a dealer's file after ten years:

* customers with Chinese names, unique mobiles (1[3-9]...), merge_key
  ``m:{mobile}:{name}``, ~30% with a birthday, ~2% with a lunar birthday,
  ~3% who refused callbacks, occupations including 教师; ~3% own no vehicle
  (former owners);
* vehicles delivered over the ten years before ``--date``, mostly private,
  insurance expiring on the delivery anniversary within the next year, some
  with an inspection date; ~3% changed hands (two ``vehicle_owners`` rows);
* repair orders spread over each vehicle's life (older cars have more), up to
  the day before ``--date``, mileage rising per vehicle at its own km/day;
  ~15% of vehicles stopped coming more than a year ago (lost customers).

The result is cached: when the file exists and was built with the same
parameters (``<out>.params.json``) nothing is done unless ``--rebuild``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
GENERATOR_VERSION = 3  # 3: with planning's facts (facts.bulk_insert)

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
            "于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江")
MALE_GIVEN = ("伟", "强", "磊", "军", "勇", "杰", "涛", "斌", "超", "明", "刚", "平", "辉", "鹏",
              "华", "飞", "鑫", "波", "宁", "健", "俊", "浩", "宇", "峰", "建国", "志强", "志明",
              "海涛", "俊杰", "子轩", "浩然", "文博", "国栋", "永刚", "家豪", "晓东", "振华")
FEMALE_GIVEN = ("芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "玲", "婷", "雪", "慧", "颖", "琳",
                "洁", "欣", "怡", "佳", "秀英", "丽娟", "美玲", "雅琪", "欣怡", "梓涵", "诗涵",
                "晓燕", "春梅", "玉兰", "思琪", "雨桐", "慧敏")
# occupation, weight ("" = not on file)
OCCUPATIONS = (("", 58), ("教师", 4), ("工程师", 5), ("程序员", 3), ("医生", 3), ("护士", 2),
               ("公务员", 3), ("销售", 4), ("会计", 2), ("个体经营", 5), ("司机", 3),
               ("职员", 6), ("退休", 2))
MOBILE_PREFIXES = ("130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150",
                   "151", "152", "153", "155", "156", "157", "158", "159", "166", "176", "177",
                   "180", "181", "182", "183", "185", "186", "187", "188", "189", "191", "198",
                   "199")
CALL_TIMES = ("工作日 18:00后", "上午", "下午", "周末", "中午12点-13点")
MODELS = (("凯美瑞", "LVGBF1EK", 20), ("汉兰达", "LVGBH2GV", 10), ("雷凌", "LVGBL1AE", 14),
          ("致炫", "LVGBY1XP", 7), ("威兰达", "LVGBW3XA", 12), ("锋兰达", "LVGBF5XG", 8),
          ("卡罗拉", "LFMLF1ZE", 14), ("RAV4荣放", "LFMLR4XA", 10), ("亚洲龙", "LFMLA2XH", 6),
          ("bZ4X", "LVGBZ4XE", 3))
COLOURS = ("铂金珍珠白", "超级白", "魅影黑", "钛金属灰", "星光银", "炫晶红", "深海蓝")
VIN_CHARS = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"
PLATE_CHARS = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"
PLATE_PREFIXES = (("粤B", 85), ("粤A", 4), ("粤S", 3), ("粤E", 2), ("湘A", 2), ("赣B", 2),
                  ("川A", 2))
ADVISORS = ("黄志刚", "陈晓丽", "刘洋", "周静", "吴俊杰", "林佳", "郑凯")
# service_type, raw label, weight (after the first maintenance), items, fen range
SERVICE_TYPES = (
    ("maintenance", "定期保养", 55, "更换机油、机油滤清器", (40_000, 150_000)),
    ("repair", "一般维修", 15, "更换前刹车片", (20_000, 400_000)),
    ("warranty", "保修", 5, "保修：更换水泵", (0, 0)),
    ("bodypaint", "钣喷", 8, "前保险杠喷漆", (40_000, 200_000)),
    ("accident", "事故", 4, "事故车维修：更换前保险杠、左大灯，钣金喷漆", (200_000, 1_500_000)),
    ("free_check", "免费检测", 13, "冬季免费检测：蓄电池、防冻液、轮胎、灯光", (0, 0)),
)
ADVICE = ("建议更换刹车片，客户暂不更换", "轮胎花纹较浅，建议更换，客户表示下次再换",
          "建议清洗节气门，客户拒绝", "蓄电池老化，建议更换，客户暂缓", "建议做四轮定位，客户暂不做",
          "前减震器轻微渗油，建议观察", "雨刮片老化，建议更换，客户暂不换")


def params_of(args: argparse.Namespace) -> dict:
    return {"customers": args.customers, "vehicles": args.vehicles, "orders": args.orders,
            "date": args.date, "seed": args.seed, "version": GENERATOR_VERSION}


def is_cached(out: Path, params: dict) -> bool:
    side = Path(f"{out}.params.json")
    if not (out.exists() and side.exists()):
        return False
    try:
        return json.loads(side.read_text())["params"] == params
    except (ValueError, KeyError):
        return False


def _weighted(pairs) -> list:
    """A lookup list to pick from with rng.choice (weights as repetitions)."""
    return [value for value, weight in pairs for _ in range(weight)]


def _add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


class Builder:
    def __init__(self, n_customers: int, n_vehicles: int, n_orders: int, today: date, seed: int):
        self.nc, self.nv, self.no = n_customers, n_vehicles, n_orders
        self.today = today
        self.rng = random.Random(seed)
        t = today.toordinal()
        # ISO strings of every day we may need, looked up instead of formatted
        self.iso = {o: date.fromordinal(o).isoformat() for o in range(t - 365 * 80, t + 800)}
        self.stamp = f"{(today - timedelta(days=1)).isoformat()}T20:00:00"

    # ----------------------------------------------------------------- customers

    def customers(self):
        rng, iso = self.rng, self.iso
        occupations = _weighted(OCCUPATIONS)
        mobiles: set[str] = set()
        b0 = date(1955, 1, 1).toordinal()
        b1 = date(2004, 12, 31).toordinal()
        rand, choice, randint = rng.random, rng.choice, rng.randint
        for cid in range(1, self.nc + 1):
            gender = "M" if rand() < 0.62 else "F"
            name = choice(SURNAMES) + choice(MALE_GIVEN if gender == "M" else FEMALE_GIVEN)
            while True:
                mobile = choice(MOBILE_PREFIXES) + f"{randint(0, 99_999_999):08d}"
                if mobile not in mobiles:
                    mobiles.add(mobile)
                    break
            birthday = iso[randint(b0, b1)] if rand() < 0.30 else None
            lunar = f"{randint(1, 12):02d}-{randint(1, 30):02d}" if rand() < 0.02 else None
            occupation = choice(occupations) or None
            consent = 0 if rand() < 0.03 else 1
            call_time = choice(CALL_TIMES) if rand() < 0.05 else None
            yield (cid, f"m:{mobile}:{name}", name, gender, "name", mobile, "mobile", birthday,
                   "id_number" if birthday else None, lunar, occupation, consent, call_time,
                   self.stamp, self.stamp)

    # ----------------------------------------------------------------- vehicles

    def plan_vehicles(self) -> None:
        """Decide each vehicle's owner(s), delivery, life span and visit count (kept in memory)."""
        rng, t = self.rng, self.today.toordinal()
        owners_pool = list(range(1, self.nc + 1))
        rng.shuffle(owners_pool)
        keep = max(1, round(self.nc * 0.97))  # the rest own nothing now (former owners)
        current, spare = owners_pool[:keep], owners_pool[keep:] or owners_pool
        owner = [current[i] if i < len(current) else rng.choice(current)
                 for i in range(self.nv)]
        self.v_owner = owner
        self.v_delivery, self.v_transfer, self.v_prev, self.v_end, self.v_kmpd = [], [], [], [], []
        spans = []
        for _ in range(self.nv):
            # more cars sold in later years: delivery age skewed towards recent
            age = int(3650 * (1 - math.sqrt(1 - rng.random())))
            delivery = t - age
            transfer = prev = None
            if age > 3 * 365 and rng.random() < 0.03:
                transfer = delivery + rng.randint(365, age - 30)
                prev = rng.choice(spare)
            end = t - 1
            if age > 2 * 365 and rng.random() < 0.15:  # a lost customer: stopped coming
                end = rng.randint(delivery + 200, t - 400)
            self.v_delivery.append(delivery)
            self.v_transfer.append(transfer)
            self.v_prev.append(prev)
            self.v_end.append(end)
            self.v_kmpd.append(min(250.0, max(5.0, rng.lognormvariate(math.log(38), 0.5))))
            spans.append(max(0, end - (delivery + 20)))
        total = sum(spans) or 1
        counts = [int(self.no * s / total + rng.random()) if s else 0 for s in spans]
        live = [i for i, s in enumerate(spans) if s]
        diff = self.no - sum(counts)
        while diff and live:
            i = rng.choice(live)
            if diff > 0:
                counts[i] += 1
                diff -= 1
            elif counts[i] > 0:
                counts[i] -= 1
                diff += 1
        self.v_orders = counts

    def vehicles(self):
        rng, iso, t = self.rng, self.iso, self.today.toordinal()
        models = _weighted((m[:2], m[2]) for m in MODELS)
        prefixes = _weighted(PLATE_PREFIXES)
        usages = ["private"] * 92 + ["official"] * 3 + ["commercial"] * 5
        rand, choice, randint = rng.random, rng.choice, rng.randint
        for i in range(self.nv):
            vid = i + 1
            delivery = self.v_delivery[i]
            d = date.fromordinal(delivery)
            model, wmi_vds = choice(models)
            vin = wmi_vds + "".join(choice(VIN_CHARS) for _ in range(2)) + f"{vid:07d}"
            nev = model == "bZ4X"
            plate = choice(prefixes) + ("D" if nev else "") + "".join(
                choice(PLATE_CHARS) for _ in range(5))
            usage = choice(usages)
            # insurance renews on the delivery anniversary: the next one from 15 days ago
            years = max(1, self.today.year - d.year - 1)
            expiry = _add_years(d, years)
            while expiry.toordinal() < t - 15:
                years += 1
                expiry = _add_years(d, years)
            compulsory = expiry.isoformat() if rand() < 0.92 else None
            r = rand()
            commercial = (compulsory if r < 0.85 else
                          iso[t + randint(0, 364)] if r < 0.95 else None)
            inspection = iso[t + randint(0, 730)] if rand() < 0.15 else None
            yield (vid, vin, plate, self.v_owner[i], model, f"E{vid:08d}", choice(COLOURS),
                   iso[delivery - randint(0, 10)], iso[delivery], usage, "file",
                   _add_years(d, 3).isoformat(), compulsory, commercial, inspection,
                   self.stamp, self.stamp)

    def vehicle_owners(self):
        iso = self.iso
        for i in range(self.nv):
            vid, delivery, transfer = i + 1, self.v_delivery[i], self.v_transfer[i]
            if transfer is None:
                yield (vid, self.v_owner[i], iso[delivery], None)
            else:
                yield (vid, self.v_prev[i], iso[delivery], iso[transfer])
                yield (vid, self.v_owner[i], iso[transfer], None)

    # ----------------------------------------------------------------- orders

    def orders(self):
        rng, iso, stamp = self.rng, self.iso, self.stamp
        rand, randint, choice = rng.random, rng.randint, rng.choice
        later = _weighted((s, s[2]) for s in SERVICE_TYPES)
        first_maint = ("first_maintenance", "首保", 0, "首次保养：更换机油、机油滤清器", (0, 0))
        oid = 0
        for i in range(self.nv):
            n = self.v_orders[i]
            if not n:
                continue
            vid, delivery, end = i + 1, self.v_delivery[i], self.v_end[i]
            transfer, prev, owner = self.v_transfer[i], self.v_prev[i], self.v_owner[i]
            kmpd = self.v_kmpd[i]
            start = delivery + 20
            days = sorted(randint(start, end) for _ in range(n))
            km, last = 0, delivery
            for k, day in enumerate(days):
                oid += 1
                if k == 0 and 60 <= day - delivery <= 240:
                    stype = first_maint
                else:
                    stype = choice(later)
                kind, raw, _w, items, (lo, hi) = stype
                km += int((day - last) * kmpd * (0.6 + 0.8 * rand())) + randint(5, 40)
                last = day
                total = randint(lo, hi) if hi else 0
                labour = total * 3 // 10
                advice = choice(ADVICE) if rand() < 0.10 else None
                settled = iso[day]
                yield (oid, f"RO{settled.replace('-', '')}{oid:07d}", vid,
                       prev if transfer is not None and day < transfer else owner,
                       iso[day - (rand() < 0.2)], settled, settled,
                       km if rand() > 0.03 else None, kind, raw, items, labour, total - labour,
                       total, ADVISORS[oid % len(ADVISORS)], advice, stamp, stamp)


def build(out: Path, n_customers: int, n_vehicles: int, n_orders: int, today: date,
          seed: int) -> dict:
    from crmcli import db as crmdb
    from crmcli.facts import bulk_insert

    part = out.with_name(out.name + ".part")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{part}{suffix}").unlink(missing_ok=True)
    t0 = time.perf_counter()
    store = crmdb.connect(part)
    conn = store.conn
    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -1000000")  # 1 GB while building
    conn.execute("PRAGMA foreign_keys = OFF")  # rows are written parents first anyway
    b = Builder(n_customers, n_vehicles, n_orders, today, seed)
    timings = {}

    def step(name: str, sql: str, rows) -> None:
        t = time.perf_counter()
        conn.executemany(sql, rows)
        timings[name] = round(time.perf_counter() - t, 1)
        print(f"  {name}: {timings[name]} s", flush=True)

    conn.execute("BEGIN")
    # Planning's facts and log of all those rows, worked out once when the block ends.
    with bulk_insert(conn):
        step("customers", "INSERT INTO customers (id, merge_key, name, gender, gender_source, mobile,"
             " phone_kind, birthday, birthday_source, lunar_birthday, occupation, callback_consent,"
             " preferred_call_time, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
             b.customers())
        b.plan_vehicles()
        step("vehicles", "INSERT INTO vehicles (id, vin, plate, customer_id, model, engine_no, colour,"
             " purchase_date, delivery_date, usage, usage_source, warranty_end,"
             " insurance_compulsory_expiry, insurance_commercial_expiry, inspection_due, created_at,"
             " updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", b.vehicles())
        step("vehicle_owners", "INSERT INTO vehicle_owners (vehicle_id, customer_id, since, until)"
             " VALUES (?,?,?,?)", b.vehicle_owners())
        step("repair_orders", "INSERT INTO repair_orders (id, order_no, vehicle_id, customer_id,"
             " date_in, date_settled, order_date, mileage, service_type, service_type_raw, items,"
             " labour_fen, parts_fen, total_fen, advisor, advice, created_at, updated_at)"
             " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", b.orders())
        loaded = time.perf_counter()
    timings["facts"] = round(time.perf_counter() - loaded, 1)
    print(f"  facts: {timings['facts']} s", flush=True)
    conn.execute("COMMIT")
    counts = {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
              for table in ("customers", "vehicles", "vehicle_owners", "repair_orders")}
    conn.execute("PRAGMA journal_mode = WAL")  # as crmcli leaves its files
    conn.close()
    os.replace(part, out)
    seconds = round(time.perf_counter() - t0, 1)
    return {"seconds": seconds, "steps_s": timings, "counts": counts,
            "size_mb": round(out.stat().st_size / 2**20, 1)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--customers", type=int, default=200_000)
    p.add_argument("--vehicles", type=int, default=250_000)
    p.add_argument("--orders", type=int, default=2_000_000)
    p.add_argument("--date", default="2026-11-26", help="the day the data ends (orders up to "
                   "the day before)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--out", type=Path, default=OUT / "big.db")
    p.add_argument("--rebuild", action="store_true", help="build even if a cached file matches")
    args = p.parse_args(argv)
    today = date.fromisoformat(args.date)
    params = params_of(args)
    out = args.out.resolve()
    if not args.rebuild and is_cached(out, params):
        info = json.loads(Path(f"{out}.params.json").read_text())
        print(f"{out}: cached ({info['counts']}); use --rebuild to build again")
        return 0
    out.parent.mkdir(parents=True, exist_ok=True)
    Path(f"{out}.params.json").unlink(missing_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{out}{suffix}").unlink(missing_ok=True)
    print(f"building {out} ({args.customers:,} customers, {args.vehicles:,} vehicles,"
          f" {args.orders:,} orders, up to {today}) ...", flush=True)
    info = build(out, args.customers, args.vehicles, args.orders, today, args.seed)
    Path(f"{out}.params.json").write_text(json.dumps({"params": params, **info}, indent=2) + "\n")
    counts = ", ".join(f"{k} {v:,}" for k, v in info["counts"].items())
    print(f"built in {info['seconds']} s: {counts}; {info['size_mb']} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
