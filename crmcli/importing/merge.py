"""Records -> customers, vehicles and orders: found or made, updated with an audit trail."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from operator import itemgetter
from typing import TYPE_CHECKING

import sqlite_utils

from .. import normalize as nz
from .result import ImportResult, ParsedRow, Problem, note_problems

if TYPE_CHECKING:
    from .sieve import RowSieve

CHUNK = 500  # SQLite's variable limit is far higher; 500 keeps each IN query quick
MERGE_BATCH = 5000  # rows merged after each load of their stored orders
# An empty table that an import fills with at least this many rows gets its secondary
# indexes built once, after the rows are in (see Merger.bulk_load).
BULK_ROWS = 5000


_TITLES = ("先生", "女士", "小姐", "太太")


def same_person(a: str, b: str) -> bool:
    """Names that, on one phone number, are one person: '张伟' ~ '张伟先生' ~ '张先生'.

    Titles are set aside; a surname with a title matches any name with that
    surname (the DMS writes '张先生' when the name was not asked).
    """
    if a == b:
        return True

    def core(n: str) -> tuple[str, bool]:
        for t in _TITLES:
            if n.endswith(t) and len(n) > len(t):
                return n[: -len(t)], True
        return n, False

    (ca, ta), (cb, tb) = core(a), core(b)
    if ca == cb:
        return True
    if ta and len(ca) <= 2 and cb.startswith(ca):
        return True
    return tb and len(cb) <= 2 and ca.startswith(cb)


@functools.lru_cache(maxsize=65536)
def valid(field: str, value: str) -> bool:
    """Whether a stored VIN or plate is one (a flagged value is kept in its cleaned form)."""
    try:
        (nz.parse_vin if field == "vin" else nz.parse_plate)(value)
    except ValueError:
        return False
    return True


# A length-cap trigger as m018 made it: AFTER INSERT ... WHEN <cond on NEW> BEGIN
# UPDATE <table> SET <col = substr(col, 1, n), ...> WHERE rowid = NEW.rowid; END
_CAP_TRIGGER = re.compile(r"CREATE TRIGGER \S+ AFTER INSERT ON \S+ WHEN (?P<when>[^;]+?)"
                          r" BEGIN (?P<update>UPDATE \S+ SET [^;]+?) WHERE rowid = NEW\.rowid; END")


NO_CONTACT = (None, None)  # an order the owner brought: no contact name, no contact phone
NONE_INVALID: frozenset[str] = frozenset()


def _iso(v):
    return v.isoformat() if isinstance(v, date) else v


def _chunks(items: list, n: int = CHUNK) -> Iterator[list]:
    for i in range(0, len(items), n):
        yield items[i:i + n]


class Merger:
    """Resolve parsed rows against the store and write them. Runs inside one transaction."""

    ORDER_COLS = ("vehicle_id", "customer_id", "date_in", "date_settled", "order_date", "mileage",
                  "service_type", "service_type_raw", "items", "labour_fen", "parts_fen",
                  "total_fen", "advisor", "advice", "contact_name", "contact_phone")
    CUSTOMER_COLS = ("name", "gender", "gender_source", "mobile", "phone_kind", "other_phones",
                     "id_number", "birthday", "birthday_source", "lunar_birthday", "occupation",
                     "address", "employer")
    VEHICLE_COLS = ("vin", "plate", "customer_id", "model", "engine_no", "gearbox_no", "colour",
                    "purchase_date", "delivery_date", "usage", "usage_source",
                    "first_maintenance_date", "first_maintenance_km", "warranty_end",
                    "insurance_compulsory_expiry", "insurance_commercial_expiry", "inspection_due")

    def __init__(self, db: sqlite_utils.Database, import_id: int, now: str, user: str):
        self.db = db
        self.conn = db.conn
        self.import_id = import_id
        self.now = now
        self.user = user
        self.customers: dict[str, dict] = {}  # merge_key -> row
        self.cust_by_id: dict[int, dict] = {}
        self.by_mobile: dict[str, list[dict]] = {}
        self.row_flags: list[tuple[str, str, str]] = []  # (field, value, reason) of this row
        # The fields the parse flagged on this row: an invalid value never replaces a valid one.
        self.invalid: frozenset[str] = frozenset()
        self.vehicles_by_vin: dict[str, dict] = {}
        self.vehicles_by_plate: dict[str, dict] = {}
        self.veh_by_id: dict[int, dict] = {}
        # Stored orders of the rows about to be merged, as (id, order_no, *ORDER_COLS),
        # loaded a batch at a time by load_orders and dropped once merged.
        self.orders: dict[str, tuple] = {}
        self.new_customers: list[dict] = []
        self.new_vehicles: list[dict] = []
        # Written a merge batch at a time (write_orders): the new customers and vehicles,
        # then the orders, which are final once merged. A customer or vehicle that a later
        # row changes is written again by flush.
        self.new_orders: list[tuple] = []  # (id, order_no, created_at, updated_at, *ORDER_COLS)
        self.dropped_indexes: list[str] = []  # CREATE INDEX (or TRIGGER) statements to run again
        self.bulk_caps: list[str] = []  # the length caps' UPDATEs, for a table bulk-loaded
        self.written = {"customers": 0, "vehicles": 0}  # how many of new_* write_new wrote
        self.dirty_customers: dict[int, dict] = {}
        self.dirty_vehicles: dict[int, dict] = {}
        self.dirty_orders: dict[int, dict] = {}
        self.owner_changes: list[tuple] = []
        # (vehicle id, the owner an order gave it, the owner a delivery list names)
        self.provisional: list[tuple] = []
        # Net change: the value each field of a stored record had before this file, and
        # the fields each row touched; flush logs, and merge_rows counts, only what differs
        # at the end, so a value that goes A -> B -> A within a file changes nothing.
        self.before: dict[tuple, tuple[dict, object]] = {}  # (entity, id, field) -> (row, old)
        self.touched: list = []  # of the row being merged; None for a record new in this file
        self.reasons: dict[tuple, str] = {}  # why a change was made over a clerk's edit
        # Provenance: fields a clerk or a call set, (entity, id, field) -> (source,
        # import_value, set_at); loaded with the records (see load_sources).
        self.sources: dict[tuple, tuple] = {}
        self.sources_done: dict[str, set[int]] = {"customer": set(), "vehicle": set()}
        self.sources_dropped: list[tuple] = []
        self.has_sources = self.conn.execute(
            "SELECT 1 FROM field_sources LIMIT 1").fetchone() is not None
        self.has_aliases = self.conn.execute(
            "SELECT 1 FROM merge_aliases LIMIT 1").fetchone() is not None
        self.extra_number: str | None = None  # a row's other number for the customer found
        self.order_id: int | None = None  # the id of the order merge_order merged last
        self.vehicle: dict | None = None  # and its vehicle and customer
        self.customer: dict | None = None
        self.contact: tuple | None = None  # (name, phone) of its contact, when not the owner
        self.next_id = {
            t: (self.conn.execute(f"SELECT COALESCE(MAX(id), 0) FROM {t}").fetchone()[0] + 1)
            for t in ("customers", "vehicles", "repair_orders")
        }
        self.no_orders = self.next_id["repair_orders"] == 1

    # ---- loading only what this file can touch
    def _load(self, table: str, column: str, keys: Iterable[str], cols: str = "*",
              known: dict | None = None) -> list[dict]:
        """Rows whose column is one of keys, as dicts; with ``known`` (id -> row, and
        the first column is the id), the rows already known are left out."""
        keys = list({k for k in keys if k})
        rows: list[dict] = []
        cur = self.conn.cursor()
        for chunk in _chunks(keys):
            marks = ",".join("?" * len(chunk))
            cur.execute(f"SELECT {cols} FROM {table} WHERE {column} IN ({marks})", chunk)
            names = [d[0] for d in cur.description]
            if known is None:
                rows.extend(dict(zip(names, r)) for r in cur.fetchall())
            else:
                rows.extend(dict(zip(names, r)) for r in cur.fetchall() if r[0] not in known)
        return rows

    def preload(self, records: list[tuple], fields: tuple[str, ...], kind: str) -> None:
        """Load what the records (tuples of ``fields``) can touch."""
        get = {f: field_getter(fields, f) for f in ("vin", "plate", "mobile", "customer_name",
                                                     "order_no")}
        vins = list(map(get["vin"], records))
        plates = list(map(get["plate"], records))
        # Each query's rows are indexed before the next runs, so a row the next finds
        # again is skipped before it is made a dict (_index_* would ignore it anyway).
        for v in self._load("vehicles", "vin", vins):
            self._index_vehicle(v)
        for v in self._load("vehicles", "plate", plates, known=self.veh_by_id):
            self._index_vehicle(v)
        mobiles = list(map(get["mobile"], records))
        # customer_key of each record (a vehicle found on file can only add a key for a
        # row with neither VIN nor plate, and such a row has no vehicle to be found by)
        keys = [(f"m:{mobile}:{name or ''}" if mobile
                 else f"n:{name}:{vin or plate or ''}" if name else None)
                for name, mobile, vin, plate in zip(map(get["customer_name"], records), mobiles,
                                                    vins, plates)]
        for c in self._load("customers", "merge_key", keys):
            self._index_customer(c)
        if self.has_aliases:
            self._load_aliases(vins, plates, keys)
        owner_ids = [v["customer_id"] for v in self.veh_by_id.values()
                     if v["customer_id"] and v["customer_id"] not in self.cust_by_id]
        for c in self._load("customers", "id", owner_ids):
            self._index_customer(c)
        for c in self._load("customers", "mobile", mobiles, known=self.cust_by_id):
            self._index_customer(c)
        # A number kept as one of a customer's other numbers finds that customer too, so a
        # later file finds the customer an earlier one kept it for, whoever owns the car now
        # (also when the number is another customer's main one: all the row's numbers).
        wanted = {m for m in mobiles if m}
        if wanted:
            ids = [cid for cid, others in self.conn.execute(
                "SELECT id, other_phones FROM customers WHERE other_phones IS NOT NULL")
                if cid not in self.cust_by_id and not wanted.isdisjoint(others.split(","))]
            for c in self._load("customers", "id", ids, known=self.cust_by_id):
                self._index_customer(c)
        since = self._load("vehicle_owners", "vehicle_id", list(self.veh_by_id))
        for row in since:
            v = self.veh_by_id[row["vehicle_id"]]
            if row["until"] is None and row["customer_id"] == v["customer_id"]:
                v["_owner_since"] = row["since"]
        self.load_sources()

    def _load_aliases(self, vins: list, plates: list, keys: list) -> None:
        """The records a merge kept, for the keys of the records merged into them (see
        duplicates.merge): a later import finds the kept record, not a new duplicate."""
        wanted = [("vin", k) for k in vins if k and k not in self.vehicles_by_vin] \
            + [("plate", k) for k in plates if k and k not in self.vehicles_by_plate] \
            + [("customer_key", k) for k in keys if k and k not in self.customers]
        found = []
        for chunk in _chunks(wanted):
            found += self.conn.execute(
                "SELECT kind, key, target_id FROM merge_aliases WHERE (kind, key) IN"
                f" (VALUES {','.join(['(?,?)'] * len(chunk))})",
                [x for pair in chunk for x in pair]).fetchall()
        vehicle_ids = [t for k, _key, t in found if k != "customer_key"]
        for v in self._load("vehicles", "id", vehicle_ids, known=self.veh_by_id):
            self._index_vehicle(v)
        customer_ids = [t for k, _key, t in found if k == "customer_key"]
        for c in self._load("customers", "id", customer_ids, known=self.cust_by_id):
            self._index_customer(c)
        for kind, key, target in found:
            if kind == "vin" and target in self.veh_by_id:
                self.vehicles_by_vin.setdefault(key, self.veh_by_id[target])
            elif kind == "plate" and target in self.veh_by_id:
                self.vehicles_by_plate.setdefault(key, self.veh_by_id[target])
            elif kind == "customer_key" and target in self.cust_by_id:
                self.customers.setdefault(key, self.cust_by_id[target])

    def load_sources(self) -> None:
        """The fields a clerk or a call set, of the records loaded so far."""
        if not self.has_sources:
            return
        for entity, known in (("customer", self.cust_by_id), ("vehicle", self.veh_by_id)):
            done = self.sources_done[entity]
            ids = [i for i in known if i not in done]
            done.update(ids)
            for chunk in _chunks(ids):
                for eid, fld, source, import_value, set_at in self.conn.execute(
                        "SELECT entity_id, field, source, import_value, set_at FROM field_sources"
                        f" WHERE entity = ? AND entity_id IN ({','.join('?' * len(chunk))})",
                        (entity, *chunk)):
                    self.sources[(entity, eid, fld)] = (source, import_value, set_at)

    def edited(self, entity: str, row: dict, col: str) -> bool:
        """Whether a clerk or a call set this field (then _set decides what an import may do)."""
        return bool(self.sources) and (entity, row["id"], col) in self.sources

    def load_orders(self, order_nos: Iterable[str]) -> None:
        """Load the stored orders with these numbers (the next batch of rows to merge).

        A batch at a time rather than all at once: a re-export of 100,000 orders
        would otherwise hold every stored order in memory through the merge.
        """
        if self.no_orders:
            return  # the first import into an empty store: no stored order to compare with
        keys = [k for k in order_nos if k]
        cols = "id, order_no, " + ", ".join(self.ORDER_COLS)
        cur = self.conn.cursor()
        for chunk in _chunks(keys):
            cur.execute(f"SELECT {cols} FROM repair_orders WHERE order_no IN"
                        f" ({','.join('?' * len(chunk))})", chunk)
            for row in cur:
                self.orders[row[1]] = row

    def _index_vehicle(self, v: dict) -> None:
        if v["id"] in self.veh_by_id:
            return
        v["_ver"] = 0  # counts the changes _set makes (see merge_order_row)
        self.veh_by_id[v["id"]] = v
        if v.get("vin"):
            self.vehicles_by_vin[v["vin"]] = v
        if v.get("plate"):
            cur = self.vehicles_by_plate.get(v["plate"])
            if cur is None or (v["updated_at"] or "") >= (cur["updated_at"] or ""):
                self.vehicles_by_plate[v["plate"]] = v

    def _index_customer(self, c: dict) -> None:
        if c["id"] in self.cust_by_id:
            return
        c["_ver"] = 0
        self.customers[c["merge_key"]] = c
        self.cust_by_id[c["id"]] = c
        if c.get("mobile"):
            self.by_mobile.setdefault(c["mobile"], []).append(c)
        for number in (c.get("other_phones") or "").split(","):
            if number and number != c.get("mobile"):
                self.by_mobile.setdefault(number, []).append(c)

    # ---- identity
    @staticmethod
    def customer_key(rec: dict, vehicle: dict | None) -> str | None:
        name = rec.get("customer_name")
        mobile = rec.get("mobile")
        if mobile:
            return f"m:{mobile}:{name or ''}"
        if name:
            vkey = rec.get("vin") or rec.get("plate") or (vehicle or {}).get("vin") or ""
            return f"n:{name}:{vkey}"
        return None

    def find_vehicle(self, rec: dict) -> dict | None:
        if rec.get("vin"):
            v = self.vehicles_by_vin.get(rec["vin"])
            if v is not None:
                return v
            # A vehicle first known by plate only, or by a VIN that is not one (a typo),
            # gets its VIN now; a VIN that is not one finds the car its plate names.
            v = self.vehicles_by_plate.get(rec.get("plate") or "")
            if v is not None and (not v.get("vin") or "vin" in self.invalid
                                  or not valid("vin", v["vin"])):
                return v
            return None
        if rec.get("plate"):
            return self.vehicles_by_plate.get(rec["plate"])
        return None

    def resolve_customer(self, rec: dict, vehicle: dict | None) -> dict | None:
        """The customer a row names: found (see find_customer), else created."""
        c = self.find_customer(rec, vehicle)
        if c is not None:
            if rec.get("customer_name") and not c.get("name"):
                self._set("customer", c, "name", rec["customer_name"], self.dirty_customers)
            return c
        key = self.customer_key(rec, vehicle)
        if key is None:
            return None
        mobile = rec.get("mobile")
        c = {"id": self._take_id("customers"), "merge_key": key, "name": rec.get("customer_name"),
             "callback_consent": 1, "created_at": self.now, "updated_at": self.now}
        for col in self.CUSTOMER_COLS:
            c.setdefault(col, None)
        c["_new"] = True
        self.new_customers.append(c)
        self._index_customer(c)
        if mobile:
            self.by_mobile.setdefault(mobile, []).append(c)
        return c

    def find_customer(self, rec: dict, vehicle: dict | None) -> dict | None:
        """The customer on file a row names, or None.

        In this order:
        1. the vehicle's owner, when the row gives the owner's name (the car was
           found by its VIN or plate): one car and its owner's name are one
           customer whatever number the file gives (a landline on the delivery
           list, a mobile on an order, an invalid one); a number not on file is
           kept as one of the owner's;
        2. the vehicle's owner, when the row gives no number and no other name;
        3. the customer with the row's number, when the names agree once titles
           (先生/女士) are set aside or a name is missing ('张伟', '张伟先生',
           '张先生'); the same name on another number stays another customer:
           a file cannot tell a changed number from a namesake or a second phone;
        4. the owner whose number a clerk or a call corrected, when the names agree:
           an export still carrying the old number is the same person.
        """
        name = rec.get("customer_name")
        mobile = rec.get("mobile")
        owner = None
        if vehicle is not None and vehicle.get("customer_id"):
            owner = self.cust_by_id.get(vehicle["customer_id"])
        if owner is not None:
            if name and owner.get("name") == name:
                if mobile and mobile != owner.get("mobile"):
                    self.extra_number = mobile
                return owner
            if not mobile and (not name or same_person(owner.get("name") or "", name)):
                return owner
        key = self.customer_key(rec, vehicle)
        if key is None:
            return None
        c = self.customers.get(key)
        if c is None and mobile:
            c = next((x for x in self.by_mobile.get(mobile, ())
                      if not name or not x.get("name") or same_person(x["name"], name)), None)
        if (c is None and owner is not None and name and same_person(owner.get("name") or "", name)
                and owner.get("mobile_source") in ("edit", "call")):
            return owner
        return c

    def _take_id(self, table: str) -> int:
        n = self.next_id[table]
        self.next_id[table] = n + 1
        return n

    # ---- field updates with an audit trail
    def _set(self, entity: str, row: dict, col: str, value, dirty: dict) -> bool:
        if value is None:
            return False
        if isinstance(value, date):
            value = value.isoformat()
        old = row.get(col)
        if old == value:
            return False
        if not row.get("_new"):
            key = (entity, row["id"], col)
            if self.sources and key in self.sources:
                source, import_value, set_at = self.sources[key]
                if str(value) == import_value:
                    return False  # what the exports said before: the clerk's value stands
                # New information from the export beats the clerk's (or the call's) value.
                del self.sources[key]
                self.sources_dropped.append(key)
                self.reasons[key] = (f"the export now says {value} (it said {import_value}"
                                     f" before): new information replaces the {source} of"
                                     f" {set_at}")
            if key not in self.before:
                self.before[key] = (row, old)
            self.touched.append(key)
            dirty[row["id"]] = row
        else:
            self.touched.append(None)
            if row.get("_written"):  # new, and written already: flush writes its final values
                dirty[row["id"]] = row
        row[col] = value
        row["_ver"] = row.get("_ver", 0) + 1
        return True

    def net_changed(self) -> set[tuple]:
        """The fields of stored records whose value differs from before this file."""
        return {key for key, (row, old) in self.before.items() if row.get(key[2]) != old}

    def _add_number(self, c: dict, number: str) -> bool:
        """Keep another number of a customer: a mobile becomes the main number when the
        main one is a landline (texts go to mobiles only); any other joins other_phones."""
        d = self.dirty_customers
        main = c.get("mobile")
        others = [p for p in (c.get("other_phones") or "").split(",") if p]
        if number == main or number in others:
            return False
        self.by_mobile.setdefault(number, []).append(c)
        if main and main.startswith("0") and not number.startswith("0") \
                and c.get("mobile_source") not in ("edit", "call"):
            changed = self._set("customer", c, "mobile", number, d)
            changed |= self._set("customer", c, "phone_kind", "mobile", d)
            return self._set("customer", c, "other_phones", ",".join([main, *others]), d) \
                or changed
        if not main:
            changed = self._set("customer", c, "mobile", number, d)
            return self._set("customer", c, "phone_kind", "landline" if number.startswith("0")
                             else "mobile", d) or changed
        return self._set("customer", c, "other_phones", ",".join([*others, number]), d)

    def update_customer(self, c: dict, rec: dict) -> bool:
        d = self.dirty_customers
        changed = False
        if self.extra_number is not None:
            number, self.extra_number = self.extra_number, None
            rec = {**rec, "mobile": None}  # the row's number is another of the customer's
            changed |= self._add_number(c, number)
        mobile = rec.get("mobile")
        if mobile and (c.get("mobile_source") not in ("edit", "call")
                       or self.edited("customer", c, "mobile")):
            main = c.get("mobile")
            if mobile in (c.get("other_phones") or "").split(","):
                pass  # one of the customer's other numbers: the main one stays
            elif mobile.startswith("0") and main and not main.startswith("0"):
                changed |= self._add_number(c, mobile)  # a landline never replaces a mobile
            else:
                changed |= self._set("customer", c, "mobile", mobile, d)
                changed |= self._set("customer", c, "phone_kind",
                                     "landline" if mobile.startswith("0") else "mobile", d)
        for col in ("occupation", "address", "employer", "other_phones"):
            if col in rec:
                changed |= self._set("customer", c, col, rec[col], d)
        idinfo = rec.get("id_number")
        if idinfo is not None:
            changed |= self._set("customer", c, "id_number", idinfo.number, d)
        # Precedence for gender and birthday: a clerk's edit > a column of the file > the ID number.
        if rec.get("gender") and (c.get("gender_source") != "edit"
                                  or self.edited("customer", c, "gender")):
            changed |= self._set("customer", c, "gender", rec["gender"], d)
            changed |= self._set("customer", c, "gender_source", "column", d)
        elif idinfo is not None and c.get("gender_source") in (None, "id"):
            changed |= self._set("customer", c, "gender", idinfo.gender, d)
            changed |= self._set("customer", c, "gender_source", "id", d)
        if rec.get("birthday") and (c.get("birthday_source") != "edit"
                                    or self.edited("customer", c, "birthday")):
            changed |= self._set("customer", c, "birthday", rec["birthday"], d)
            changed |= self._set("customer", c, "birthday_source", "column", d)
        elif idinfo is not None and c.get("birthday_source") in (None, "id"):
            changed |= self._set("customer", c, "birthday", idinfo.birthday, d)
            changed |= self._set("customer", c, "birthday_source", "id", d)
        if rec.get("lunar_birthday") and (c.get("birthday_source") != "edit"
                                          or self.edited("customer", c, "lunar_birthday")):
            changed |= self._set("customer", c, "lunar_birthday", rec["lunar_birthday"], d)
        return changed

    def get_vehicle(self, rec: dict) -> tuple[dict | None, bool]:
        v = self.find_vehicle(rec)
        if v is None:
            if not rec.get("vin") and not rec.get("plate"):
                return None, False
            v = {col: None for col in self.VEHICLE_COLS}
            v.update({"id": self._take_id("vehicles"), "vin": rec.get("vin"),
                      "plate": rec.get("plate"), "created_at": self.now,
                      "updated_at": self.now, "_new": True})
            self.new_vehicles.append(v)
            self._index_vehicle(v)
            return v, True
        return v, False

    def update_vehicle(self, v: dict, rec: dict, fields: Iterable[str]) -> bool:
        d = self.dirty_vehicles
        invalid = self.invalid
        changed = False
        if rec.get("vin") and v.get("vin") != rec["vin"] and (
                not v.get("vin") or ("vin" not in invalid and not valid("vin", v["vin"]))):
            changed |= self._set("vehicle", v, "vin", rec["vin"], d)
            self.vehicles_by_vin[rec["vin"]] = v
        if rec.get("plate") and v.get("plate") != rec["plate"] and (
                "plate" not in invalid or not v.get("plate") or not valid("plate", v["plate"])):
            other = self.vehicles_by_plate.get(rec["plate"])
            if other is not None and other is not v and other.get("vin"):
                # The VIN says one car and the plate another: most likely a typo. Keep
                # both cars as they are and ask the clerk.
                self.row_flags.append(("plate", rec["plate"],
                                       f"plate belongs to another vehicle ({other['vin']}); "
                                       f"not moved to VIN {v.get('vin')}"))
            else:
                changed |= self._set("vehicle", v, "plate", rec["plate"], d)
                self.vehicles_by_plate[rec["plate"]] = v
        for col in fields:
            if col in rec:
                changed |= self._set("vehicle", v, col, rec[col], d)
        if rec.get("usage") and (v.get("usage_source") != "edit"
                                 or self.edited("vehicle", v, "usage")):
            changed |= self._set("vehicle", v, "usage", rec["usage"], d)
            changed |= self._set("vehicle", v, "usage_source", "import", d)
        elif rec.get("usage_guess") and v.get("usage") is None:
            changed |= self._set("vehicle", v, "usage", rec["usage_guess"], d)
            changed |= self._set("vehicle", v, "usage_source", "guess", d)
        return changed

    def set_owner(self, v: dict, c: dict | None, since: str | None) -> bool:
        """A newer row naming someone else as the customer moves the vehicle to them.

        The previous ownership is closed, not deleted: a vehicle that changes
        hands keeps its history, and its past orders stay with the old owner.
        An order gives a car with no owner on file an owner for now (``since``
        None): the first row of a delivery list that names someone else replaces
        them, and their orders of the car go to the owner, with them as contact.
        """
        if c is None or v.get("customer_id") == c["id"]:
            return False
        current_since = v.get("_owner_since")
        if v.get("customer_id") is not None and since and current_since and since < current_since:
            return False  # an older row does not take the vehicle back
        if v.get("customer_id") is not None:
            if not current_since and since:
                self.provisional.append((v["id"], v["customer_id"], c["id"], since))
            self.owner_changes.append(("close", v["id"], v["customer_id"], since))
        self.owner_changes.append(("open", v["id"], c["id"], since))
        v["_owner_since"] = since
        self._set("vehicle", v, "customer_id", c["id"], self.dirty_vehicles)
        return True

    # ---- per kind
    # The fields of a row that merge_order finds and updates its customer and vehicle
    # from: vin, mobile and name first. A test checks it reads no others but ORDER_FIELDS.
    ENTITY_FIELDS = ("vin", "mobile", "customer_name", "plate", "occupation", "address",
                     "employer", "other_phones", "id_number", "gender", "birthday",
                     "lunar_birthday", "model", "usage", "usage_guess", "contact_name",
                     "contact_phone")
    # ORDER_COLS after vehicle_id and customer_id, as the record's fields name them
    ORDER_FIELDS = ("date_in", "date_settled", "order_date", "mileage", "service_type",
                    "service_type_raw", "items", "labour", "parts", "total", "advisor", "advice")

    def use_fields(self, fields: tuple[str, ...]) -> None:
        """The fields of the record tuples merge_order_row is given."""
        self.fields = fields
        present = [f for f in self.ENTITY_FIELDS if f in fields]
        self.entity_sig = itemgetter(*(fields.index(f) for f in present))
        self.repeats: dict[tuple, tuple] = {}
        # Only a row with a VIN and a mobile is found again without a search (below); a
        # file with a 送修人 column of its own is merged row by row.
        self.explicit = "contact_name" in fields or "contact_phone" in fields
        self.short_cut = (present[:2] == ["vin", "mobile"] and "customer_name" in fields
                          and not self.explicit)
        self.name_at = present.index("customer_name") if "customer_name" in present else None
        blank = len(fields)  # a field the file has not: the None added at the end
        self.pad = any(f not in fields for f in self.ORDER_FIELDS)
        self.order_values = itemgetter(*(fields.index(f) if f in fields else blank
                                         for f in self.ORDER_FIELDS))
        self.order_no_at = fields.index("order_no")

    def merge_order_row(self, record: tuple) -> str:
        """merge_order for a record tuple, with a short cut for a row that repeats one
        merged before.

        A DMS export lists a car's every visit with the same customer and car details.
        When a row names the same VIN, mobile and name with the same details as an
        earlier clean row, and that row's car and customer have not changed since (their
        _set count is the same, the car is still that customer's, and the VIN and the
        merge key still find them), merging it again would find the same two and change
        neither: it goes straight to its order.
        """
        sig = self.entity_sig(record)
        seen = self.repeats.get(sig)
        if seen is not None:
            v, c, v_ver, c_ver, key, stable = seen
            if (v["_ver"] == v_ver and c["_ver"] == c_ver and v["customer_id"] == c["id"]
                    and self.vehicles_by_vin.get(sig[0]) is v
                    and (stable or self.customers.get(key) is c)):
                contact = self.contact = (sig[self.name_at], sig[1]) if stable == 2 else None
                self.vehicle, self.customer = v, c
                values = ((v["id"], c["id"])
                          + self.order_values(record + (None,) if self.pad else record)
                          + (contact or NO_CONTACT))
                if self.no_orders:  # a first import: no stored order to compare with
                    oid = self.order_id = self.next_id["repair_orders"]
                    self.next_id["repair_orders"] = oid + 1
                    self.new_orders.append((oid, record[self.order_no_at], self.now, self.now)
                                           + values)
                    return "inserted"
                return self._merge_order_values(record[self.order_no_at], values, False)
        verdict = self.merge_order(dict(zip(self.fields, record)))
        v, c = self.vehicle, self.customer
        if (self.short_cut and not self.row_flags and v is not None and c is not None
                and sig[0] and sig[1]):
            # Found again the same way while the car and the owner are unchanged: a row
            # with the owner's name is the owner's (find_customer's first rule), one
            # naming someone else is the owner's order with them as contact (stable 1
            # and 2); else the row's number must still find the owner.
            key = f"m:{sig[1]}:{sig[self.name_at] or ''}"  # customer_key of the row
            stable = 2 if self.contact is not None else int(
                sig[self.name_at] is not None and c.get("name") == sig[self.name_at])
            if ((stable or self.customers.get(key) is c)
                    and self.vehicles_by_vin.get(sig[0]) is v):
                self.repeats[sig] = (v, c, v["_ver"], c["_ver"], key, stable)
        return verdict

    def merge_order(self, rec: dict) -> str:
        """One order row. The person named on it (客户名称/送修人 and 联系电话) is the
        person who brought the car: the owner when find_customer says so, else the
        order's contact, and the car and the order stay with its owner. A car with
        no owner on file gets the person named on its first order (by date) as its
        owner, for now: a delivery-list row naming someone else replaces them."""
        vehicle, _ = self.get_vehicle(rec)
        owner = None
        if vehicle is not None and vehicle.get("customer_id"):
            owner = self.cust_by_id.get(vehicle["customer_id"])
        contact = None
        if owner is None:
            customer = self.resolve_customer(rec, vehicle)
        else:
            customer = owner
            if self.find_customer(rec, vehicle) is not owner:
                self.extra_number = None
                contact = (rec.get("customer_name"), rec.get("mobile"))
        if self.explicit and (rec.get("contact_name") or rec.get("contact_phone")):
            # A 送修人 column of its own: who brought the car, unless it names the owner.
            name, phone = rec.get("contact_name"), rec.get("contact_phone")
            owner = customer or {}
            numbers = {owner.get("mobile"), *(owner.get("other_phones") or "").split(",")}
            by_owner = same_person(owner.get("name") or "", name) if name else phone in numbers
            contact = None if by_owner else (name, phone)
        self.vehicle, self.customer, self.contact = vehicle, customer, contact
        changed = False
        if customer is not None and contact is None:
            changed |= self.update_customer(customer, rec)
        if vehicle is not None:
            changed |= self.update_vehicle(vehicle, rec, ("model",))
            if owner is None:
                changed |= self.set_owner(vehicle, customer, None)
        get = rec.get
        # In ORDER_COLS order. Every value is as stored: ISO text, int or None.
        values = (vehicle["id"] if vehicle else None, customer["id"] if customer else None,
                  get("date_in"), get("date_settled"), rec["order_date"], get("mileage"),
                  get("service_type"), get("service_type_raw"), get("items"), get("labour"),
                  get("parts"), get("total"), get("advisor"), get("advice"),
                  *(contact or (None, None)))
        return self._merge_order_values(rec["order_no"], values, changed)

    def _merge_order_values(self, order_no: str, values: tuple, changed: bool) -> str:
        # _merge gives each order number once (the later row of a file wins), so an
        # order is never seen twice here: a new one is final, and a stored one is dropped.
        stored = self.orders.pop(order_no, None)
        if stored is None:
            self.order_id = self._take_id("repair_orders")
            self.new_orders.append((self.order_id, order_no, self.now, self.now) + values)
            return "inserted"
        self.order_id = stored[0]
        if values != stored[2:]:  # the whole row first: a re-export mostly changes nothing
            existing = dict(zip(("id", "order_no") + self.ORDER_COLS, stored))
            for col, val in zip(self.ORDER_COLS, values):
                changed |= self._set("order", existing, col, val, self.dirty_orders)
        return "updated" if changed else "unchanged"

    def merge_vehicle_row(self, rec: dict) -> str:
        vehicle, v_new = self.get_vehicle(rec)
        customer = self.resolve_customer(rec, vehicle)
        changed = False
        if customer is not None:
            changed |= self.update_customer(customer, rec)
        fields = ("model", "engine_no", "gearbox_no", "colour", "purchase_date", "delivery_date",
                  "first_maintenance_date", "first_maintenance_km", "warranty_end",
                  "insurance_compulsory_expiry", "insurance_commercial_expiry", "inspection_due")
        changed |= self.update_vehicle(vehicle, rec, fields)
        since = _iso(rec.get("delivery_date") or rec.get("purchase_date"))
        changed |= self.set_owner(vehicle, customer, since)
        if v_new:
            return "inserted"
        return "updated" if changed else "unchanged"

    # ---- writing
    def bulk_load(self, table: str, rows: int) -> None:
        """Before filling an empty table with ``rows`` rows: drop its secondary indexes,
        to be built again by ``restore_indexes`` in the same transaction.

        Building an index over rows already in costs a sort; keeping it up to date
        row by row costs a B-tree insert per row and index. For a store's first
        import of 100,000 orders that is 0.1 s against 0.3 s. A table with rows, or
        a small import, keeps its indexes; the UNIQUE ones are never dropped (they
        check the rows as they go in).
        """
        if rows < BULK_ROWS or self.conn.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone():
            return
        for name, sql in self.conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?"
                " AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%'", (table,)).fetchall():
            self.conn.execute(f'DROP INDEX "{name}"')
            self.dropped_indexes.append(sql)
        # The length caps (m018) cut an over-long text as it is stored, a trigger program
        # run for every row inserted (a fifth of the time of inserting 100,000 orders):
        # here the same cut is made once over the table, by the trigger's own statement.
        for name, sql in self.conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?"
                " AND name LIKE 'cap\\_%\\_insert' ESCAPE '\\'", (table,)).fetchall():
            m = _CAP_TRIGGER.fullmatch(sql)
            if m is None:
                continue  # not the shape m018 made: left to do its work row by row
            self.conn.execute(f'DROP TRIGGER "{name}"')
            self.dropped_indexes.append(sql)
            self.bulk_caps.append(f"{m['update']} WHERE {m['when'].replace('NEW.', '')}")

    def restore_indexes(self) -> None:
        for sql in self.bulk_caps:
            self.conn.execute(sql)
        self.bulk_caps = []
        for sql in self.dropped_indexes:
            self.conn.execute(sql)
        self.dropped_indexes = []

    def write_new(self) -> None:
        """Write the customers and vehicles made since the last call, as they are now.

        One that changes later (a later row of the file adds a phone, the car is
        sold) is in the dirty set from then on, and flush writes its final values.
        """
        for table, rows, cols in (
                ("customers", self.new_customers, ("id", "merge_key", "callback_consent",
                                                   "created_at", "updated_at") + self.CUSTOMER_COLS),
                ("vehicles", self.new_vehicles, ("id", "created_at", "updated_at")
                 + self.VEHICLE_COLS)):
            start = self.written[table]
            if start == len(rows):
                continue
            fresh = rows[start:]
            self.conn.executemany(f"INSERT INTO {table} ({','.join(cols)})"
                                  f" VALUES ({','.join('?' * len(cols))})",
                                  map(itemgetter(*cols), fresh))
            for row in fresh:
                row["_written"] = True
            self.written[table] = len(rows)

    def write_orders(self) -> None:
        """Write the new orders merged so far, after the customers and vehicles they name.

        Orders are final once merged; holding 100,000 of them until flush would add
        their 25 MB to the import's peak memory.
        """
        if not self.new_orders:
            return
        self.write_new()
        cols = ("id", "order_no", "created_at", "updated_at") + self.ORDER_COLS
        self.conn.executemany(f"INSERT INTO repair_orders ({','.join(cols)})"
                              f" VALUES ({','.join('?' * len(cols))})", self.new_orders)
        self.new_orders = []

    def flush(self) -> None:
        conn = self.conn
        now = self.now
        self.write_orders()
        self.write_new()
        self.restore_indexes()  # before anything reads or updates these tables again

        def update(table: str, cols: tuple, rows: Iterable[dict]) -> None:
            rows = list(rows)
            if not rows:
                return
            sets = ",".join(f"{c}=?" for c in cols)
            conn.executemany(f"UPDATE {table} SET {sets}, updated_at=? WHERE id=?",
                             [tuple(r.get(c) for c in cols) + (now, r["id"]) for r in rows])

        update("customers", self.CUSTOMER_COLS, self.dirty_customers.values())
        update("vehicles", self.VEHICLE_COLS, self.dirty_vehicles.values())
        update("repair_orders", self.ORDER_COLS, self.dirty_orders.values())
        # Opens first, then each close ends the ownership it follows (since <= the close
        # date), so a vehicle that changes hands twice in one file keeps both steps.
        opens = [(vid, cid, since or "") for op, vid, cid, since in self.owner_changes
                 if op == "open"]
        closes = [(since, vid, cid, since or "9999") for op, vid, cid, since in self.owner_changes
                  if op == "close"]
        conn.executemany("INSERT OR IGNORE INTO vehicle_owners (vehicle_id, customer_id, since)"
                         " VALUES (?,?,?)", opens)
        conn.executemany("UPDATE vehicle_owners SET until=? WHERE vehicle_id=? AND customer_id=?"
                         " AND until IS NULL AND since <= ?", closes)
        for vid, was, owner, since in self.provisional:
            # From the delivery on, whoever an order named is the order's contact (none
            # when it is the owner); the orders before it stay the earlier owner's.
            conn.execute(
                "UPDATE repair_orders SET customer_id=:owner, contact_name=CASE"
                "  WHEN contact_name IS NULL THEN (SELECT name FROM customers WHERE id=:was)"
                "  WHEN contact_name = (SELECT name FROM customers WHERE id=:owner) THEN NULL"
                "  ELSE contact_name END,"
                " contact_phone=CASE"
                "  WHEN contact_name IS NULL THEN (SELECT mobile FROM customers WHERE id=:was)"
                "  WHEN contact_name = (SELECT name FROM customers WHERE id=:owner) THEN NULL"
                "  ELSE contact_phone END"
                " WHERE vehicle_id=:vid AND customer_id=:was AND order_date >= :since",
                {"owner": owner, "was": was, "vid": vid, "since": since})
            conn.execute("UPDATE tasks SET customer_id=? WHERE customer_id=? AND order_id IN"
                         " (SELECT id FROM repair_orders WHERE vehicle_id=? AND customer_id=?)",
                         (owner, was, vid, owner))
            conn.execute("DELETE FROM vehicle_owners WHERE vehicle_id=? AND customer_id=?"
                         " AND since='' AND NOT EXISTS (SELECT 1 FROM repair_orders"
                         " WHERE vehicle_id=? AND customer_id=?)", (vid, was, vid, was))
        if self.provisional:
            from ..duplicates import drop_unused

            drop_unused(conn, (was for _vid, was, _owner, _since in self.provisional))
        # Each field's net change is logged once (not each step a file took it through).
        changes = [(self.import_id, entity, eid, col, None if old is None else str(old),
                    str(row[col]), self.now, self.user, self.reasons.get((entity, eid, col)))
                   for (entity, eid, col), (row, old) in self.before.items() if row[col] != old]
        if changes:
            conn.executemany(
                "INSERT INTO changes (import_id, entity, entity_id, field, old_value, new_value,"
                " changed_at, by_user, reason) VALUES (?,?,?,?,?,?,?,?,?)", changes)
        if self.sources_dropped:
            conn.executemany("DELETE FROM field_sources WHERE entity=? AND entity_id=? AND field=?",
                             self.sources_dropped)


def field_getter(fields: tuple[str, ...], name: str) -> Callable[[tuple], object]:
    """record tuple -> the value of one field (None when the file has no such field)."""
    if name in fields:
        return itemgetter(fields.index(name))
    return lambda _record: None


def merge_rows(db, result: ImportResult, parsed: list[ParsedRow], fields: tuple[str, ...], kind: str,
               import_id: int, now: str, user: str, sieve: RowSieve | None = None):
    if sieve is not None and sieve.candidates:
        # Rows held back while parsing that must be processed after all (see RowSieve);
        # they join ``parsed`` so that their problems are stored like any other's.
        order_no = field_getter(fields, "order_no")
        more = sieve.settle({order_no(pr.record) for pr in parsed if not pr.rejected})
        note_problems(result, more)
        parsed.extend(more)
    accepted = [pr for pr in parsed if not pr.rejected]
    result.rejected = len(parsed) - len(accepted)
    row_order_no, row_plate = field_getter(fields, "order_no"), field_getter(fields, "plate")
    for pr in parsed:
        if pr.rejected:
            result.verdicts.append((pr.row_no, "rejected: " + pr.problems[0].reason))
            for p in pr.problems:  # what the clerk looks the row up by in the DMS
                p.order_no, p.plate = row_order_no(pr.record), row_plate(pr.record)
    # Within one file the later row of the same order (or vehicle) wins; earlier ones
    # are superseded and said so, never silently dropped.
    get = {f: field_getter(fields, f) for f in (
        "order_no", "vin", "plate", "order_date", "delivery_date", "purchase_date", "mobile",
        "customer_name")}
    order_no, vin, plate = get["order_no"], get["vin"], get["plate"]
    last: dict[str, ParsedRow] = {}
    moot: set[int] = set()  # the problems of superseded rows (by id)
    for pr in accepted:
        rec = pr.record
        key = order_no(rec) if kind == "orders" else (vin(rec) or "p:" + plate(rec))
        prev = last.pop(key, None)
        if prev is not None:
            result.superseded += 1
            what = "order number" if kind == "orders" else "vehicle"
            result.verdicts.append((prev.row_no, f"superseded by row {pr.row_no} (same {what})"))
            if prev.problems:  # not imported, so nothing of it to check: not listed as flagged
                moot.update(map(id, prev.problems))
                result.problem_rows.pop(prev.row_no, None)
                prev.problems = ()
        last[key] = pr
    if moot:
        result.problems = [p for p in result.problems if id(p) not in moot]
    accepted = list(last.values())  # merged in the order sorted below
    merger = Merger(db, import_id, now, user)
    merger.preload([pr.record for pr in accepted], fields, kind)
    counts = {"inserted": 0, "updated": 0, "unchanged": 0}
    if sieve is not None:
        # A held-back row that shares a customer or vehicle with a row to merge is merged
        # too, and so, in turn, are the rows that share one with it. What preload loaded
        # is all a merge can touch.
        while more := sieve.widen(merger.cust_by_id, merger.veh_by_id):
            note_problems(result, more)
            parsed.extend(more)
            for pr in more:
                if pr.rejected:  # not expected: it was clean when its print was stored
                    result.rejected += 1
                    result.verdicts.append((pr.row_no, "rejected: " + pr.problems[0].reason))
            more = [pr for pr in more if not pr.rejected]
            accepted.extend(more)
            merger.preload([pr.record for pr in more], fields, kind)
        held = sieve.unchanged()
        counts["unchanged"] += len(held)
        result.verdicts.extend((row_no, "unchanged") for row_no in held)
    prints_kept: list[tuple[int, bytes]] = []
    prints_dropped: list[int] = []
    if kind == "orders":
        merger.use_fields(fields)
    # Merge in an order that does not depend on how the DMS sorted its rows: by date,
    # so ownership history is built forwards in time; rows with a usable phone before
    # rows without one, so a phone-less row finds the customer its vehicle belongs to.
    order_date, delivery_date, purchase_date = (
        get["order_date"], get["delivery_date"], get["purchase_date"])
    mobile, customer_name = get["mobile"], get["customer_name"]

    recs = [pr.record for pr in accepted]
    whens = [w if type(w) is str else _iso(w) or "" for w in map(
        lambda a, b, c: a or b or c, map(order_date, recs), map(delivery_date, recs),
        map(purchase_date, recs))]
    keys = [(m is None and n is not None, w, pr.row_no) for m, n, w, pr in zip(
        map(mobile, recs), map(customer_name, recs), whens, accepted)]
    del recs, whens
    ordered = [pr for _key, pr in sorted(zip(keys, accepted), key=itemgetter(0))]
    del keys
    verdicts = result.verdicts
    for table in ("customers", "vehicles") + (("repair_orders",) if kind == "orders" else ()):
        merger.bulk_load(table, len(ordered))
    merge_row = (merger.merge_order_row if kind == "orders"
                 else lambda record: merger.merge_vehicle_row(dict(zip(fields, record))))
    updated_rows: list[tuple[int, list]] = []  # (index in verdicts, fields touched)
    for start in range(0, len(ordered), MERGE_BATCH):
        batch = ordered[start:start + MERGE_BATCH]
        if kind == "orders":
            merger.load_orders([order_no(pr.record) for pr in batch])
        for pr in batch:
            merger.invalid = (frozenset(p.field for p in pr.problems) if pr.problems
                              else NONE_INVALID)
            merger.touched = []
            verdict = merge_row(pr.record)
            if verdict == "updated":  # counted once the file's net change is known
                updated_rows.append((len(verdicts), merger.touched))
            if merger.row_flags:
                for fld, value, reason in merger.row_flags:
                    p = Problem(pr.row_no, "flagged", fld, None, value, reason)
                    if not pr.problems:
                        pr.problems = []
                    pr.problems.append(p)
                    result.problems.append(p)
                merger.row_flags = []
            counts[verdict] += 1
            if pr.problems:
                if sieve is not None:
                    prints_dropped.append(merger.order_id)
                result.flagged += 1
                verdicts.append((pr.row_no, verdict + " (flagged)"))
            else:
                if sieve is not None:
                    prints_kept.append((merger.order_id, pr.fp))
                pr.record = None  # merged: only a row with problems is read again (below)
                verdicts.append((pr.row_no, verdict))
        if kind == "orders":
            merger.write_orders()
        if sieve is not None:
            sieve.store(prints_kept, prints_dropped)
            prints_kept, prints_dropped = [], []
    merger.flush()
    # A row updated only what later rows of the file put back is unchanged.
    net = merger.net_changed()
    for at, touched in updated_rows:
        if None not in touched and net.isdisjoint(touched):
            row_no, verdict = verdicts[at]
            verdicts[at] = (row_no, verdict.replace("updated", "unchanged", 1))
            counts["updated"] -= 1
            counts["unchanged"] += 1
    result.inserted, result.updated, result.unchanged = (
        counts["inserted"], counts["updated"], counts["unchanged"])
    result.verdicts.sort()
    # Link flagged problems to the records they belong to, for `customer show`.
    for pr in accepted:
        if not pr.problems:
            continue
        rec = dict(zip(fields, pr.record))
        v = merger.find_vehicle(rec)
        for p in pr.problems:
            p.vehicle_id = v["id"] if v else None
            p.order_no = rec.get("order_no")
            p.plate = rec.get("plate") or (v or {}).get("plate")
            c = None
            key = Merger.customer_key(rec, v)
            if key:
                c = merger.customers.get(key)
            if c is None and v is not None:
                c = merger.cust_by_id.get(v.get("customer_id"))
            p.customer_id = c["id"] if c else None
