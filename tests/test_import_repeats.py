"""A row that repeats an earlier row's customer and car goes straight to its order.

Merger.merge_order_row skips finding and updating the customer and the car when
an earlier clean row named them with the same details and neither changed
since. These tests import random messy files with and without that short cut
and compare every table, and check that merge_order reads no field the short
cut does not compare.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import ClassVar

import messy
import pytest
import store

from crmcli import db as dbmod
from crmcli import importing
from crmcli.normalize import vin_check_digit

TODAY = date(2026, 11, 26)
HEADER = ["工单号", "车牌号码", "车架号", "客户名称", "联系电话", "车型", "结算日期",
          "进厂里程(km)", "维修类别", "合计金额"]
SURNAMES = "张王李赵刘陈杨黄"


def vin(n: int) -> str:
    body = f"LSVAU2180E{n:07d}"
    return body[:8] + vin_check_digit(body) + body[9:]


def random_rows(rnd: random.Random, n_rows: int, first_no: int = 0) -> list[list]:
    """Visits of 10 cars by 8 people: cars are brought by others, details vary now and then."""
    people = [(SURNAMES[i] + "伟" * (i % 3 + 1), f"139{i:08d}") for i in range(8)]
    owners = {car: [rnd.randrange(8)] for car in range(10)}
    for car in range(10):  # some cars are sold once or twice
        for _ in range(rnd.choice([0, 0, 1, 2])):
            owners[car].append(rnd.randrange(8))
    rows = []
    for k in range(n_rows):
        car = rnd.randrange(10)
        when = datetime(2024, 1, 1) + timedelta(days=rnd.randrange(900))
        # the owner at that time: the sales are spread over the 900 days
        seq = owners[car]
        owner = seq[min(len(seq) - 1, rnd.randrange(900) * len(seq) // 900)]
        name, mobile = people[owner]
        plate, car_vin, model = f"粤B{car:05d}", vin(car), "轩逸"
        roll = rnd.random()
        if roll < 0.05:
            mobile = None  # no phone: the car's owner when the name agrees
        elif roll < 0.10:
            name = name[0] + "先生"  # the same person with a title
        elif roll < 0.14:
            car_vin = None  # plate only
        elif roll < 0.18:
            model = "轩逸经典"  # the details change
        elif roll < 0.21:
            plate = f"粤B{(car + 1) % 10:05d}"  # a plate another car holds: flagged
        elif roll < 0.24:
            mobile = f"0755-8{owner:07d}"  # a landline
        elif roll < 0.26:
            name = None
        rows.append([f"RO{first_no + k:06d}", plate, car_vin, name, mobile, model, when,
                     rnd.randrange(1000, 90000), rnd.choice(["保养", "维修", "首保"]),
                     rnd.randrange(100, 3000)])
    return rows


def without_short_cut(self, record):
    return self.merge_order(dict(zip(self.fields, record)))


@pytest.mark.parametrize("seed", range(8))
def test_the_short_cut_gives_what_merging_every_row_gives(tmp_path, monkeypatch, seed):
    rnd = random.Random(seed)
    first = random_rows(rnd, 150)
    # A re-export a month later: some details changed, and new visits
    second = [list(r) for r in first]
    for r in rnd.sample(second, 20):
        r[5] = "新轩逸"
    second += random_rows(rnd, 60, first_no=150)
    rnd.shuffle(second)
    files = [messy.write_xlsx(tmp_path / "a.xlsx", [HEADER] + first),
             messy.write_xlsx(tmp_path / "b.xlsx", [HEADER] + second)]
    results = {}
    for short_cut in (True, False):
        database = dbmod.connect(tmp_path / f"{short_cut}.db")
        with monkeypatch.context() as m:
            if not short_cut:
                m.setattr(importing.Merger, "merge_order_row", without_short_cut)
            summaries = [importing.import_file(database, f, "orders", today=TODAY).summary()
                         for f in files]
        results[short_cut] = (store.import_tables(database), [
            {k: s[k] for k in ("inserted", "updated", "unchanged", "flagged", "rejected")}
            for s in summaries])
    with_cut, without = results[True], results[False]
    assert with_cut[0] == without[0]
    assert with_cut[1] == without[1]
    # the comparison is about something: flags happen, and orders brought by someone
    # else than the owner (audited changes need not: a file's net change is logged,
    # and a model changed by some rows and put back by later ones nets to none)
    last = database  # the run without the short cut; both hold the same tables
    for sql in ("SELECT count(*) FROM row_problems WHERE severity = 'flagged'",
                "SELECT count(*) FROM repair_orders WHERE contact_name IS NOT NULL"):
        assert last.conn.execute(sql).fetchone()[0] > 0, sql


def test_the_short_cut_is_taken_for_repeated_rows(tmp_path, monkeypatch):
    rows = random_rows(random.Random(1), 200)
    path = messy.write_xlsx(tmp_path / "a.xlsx", [HEADER] + rows)
    slow = []
    real = importing.Merger.merge_order

    def spy(self, rec):
        slow.append(rec["order_no"])
        return real(self, rec)

    monkeypatch.setattr(importing.Merger, "merge_order", spy)
    result = importing.import_file(dbmod.connect(tmp_path / "x.db"), path, "orders", today=TODAY)
    assert result.inserted == 200
    # 10 cars, 8 people: most rows repeat a pair already merged with the same details
    assert 0 < len(slow) < 120


class Reads(dict):
    """A record that remembers which fields were read."""

    seen: ClassVar[set[str]] = set()

    def get(self, key, default=None):
        self.seen.add(key)
        return super().get(key, default)

    def __getitem__(self, key):
        self.seen.add(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        self.seen.add(key)
        return super().__contains__(key)


def test_merge_order_reads_only_the_fields_the_short_cut_compares(tmp_path, monkeypatch):
    rows = random_rows(random.Random(2), 150)
    path = messy.write_xlsx(tmp_path / "a.xlsx", [HEADER] + rows)
    real = importing.Merger.merge_order
    monkeypatch.setattr(importing.Merger, "merge_order_row", without_short_cut)
    monkeypatch.setattr(importing.Merger, "merge_order", lambda self, rec: real(self, Reads(rec)))
    Reads.seen = set()
    importing.import_file(dbmod.connect(tmp_path / "x.db"), path, "orders", today=TODAY)
    allowed = {*importing.Merger.ENTITY_FIELDS, *importing.Merger.ORDER_FIELDS, "order_no"}
    assert Reads.seen - allowed == set()
    assert {"vin", "mobile", "customer_name", "plate", "model", "mileage"} <= Reads.seen


@pytest.mark.parametrize("seed", range(4))
def test_writing_batch_by_batch_gives_what_writing_at_the_end_gives(tmp_path, monkeypatch, seed):
    # Customers and vehicles are written with the orders of each merge batch, and
    # written again at the end when a later row changed them (a phone added, a car
    # sold). With batches of 7 rows that happens all the time; with one batch, never.
    rnd = random.Random(seed)
    first = random_rows(rnd, 150)
    second = [list(r) for r in first[::2]] + random_rows(rnd, 60, first_no=150)
    files = [messy.write_xlsx(tmp_path / "a.xlsx", [HEADER] + first),
             messy.write_xlsx(tmp_path / "b.xlsx", [HEADER] + second)]
    ends = []
    for batch in (7, 10**6):
        monkeypatch.setattr(importing.merge, "MERGE_BATCH", batch)
        database = dbmod.connect(tmp_path / f"{batch}.db")
        for f in files:
            importing.import_file(database, f, "orders", today=TODAY)
        end = store.import_tables(database)
        # the customers and cars to plan again, logged in another order and form (by
        # triggers when a row written already changes): who is in them is what counts
        pairs = [r[1:] for r in end["plan_dirt"]]
        end["plan_dirt"] = ({c for c, _v in pairs if c}, {v for _c, v in pairs if v})
        ends.append(end)
    assert ends[0] == ends[1]
    assert ends[0]["vehicle_owners"] and ends[0]["customers"]
