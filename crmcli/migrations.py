"""The only place the schema lives: numbered migrations, applied at open.

Each migration is recorded in ``_sqlite_migrations`` (sqlite-utils'
``Migrations``), so a database made by an older release is upgraded in place
the next time any command opens it. Never edit a migration that has shipped;
add the next number.
"""

from __future__ import annotations

import sqlite_utils
from sqlite_utils.migrations import Migrations

MIGRATIONS = Migrations("crmcli")


@MIGRATIONS()
def m001_customer_file(db: sqlite_utils.Database) -> None:
    """Customers, vehicles (with their owners over time) and repair orders."""
    db.executescript(
        """
        CREATE TABLE customers (
            id INTEGER PRIMARY KEY,
            merge_key TEXT NOT NULL UNIQUE,
            name TEXT,
            gender TEXT CHECK (gender IN ('M', 'F')),
            gender_source TEXT,
            mobile TEXT,
            phone_kind TEXT,
            other_phones TEXT,
            id_number TEXT,
            birthday TEXT,
            birthday_source TEXT,
            lunar_birthday TEXT,
            occupation TEXT,
            address TEXT,
            employer TEXT,
            callback_consent INTEGER NOT NULL DEFAULT 1,
            preferred_call_time TEXT,
            preferred_phone TEXT,
            notes TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX customers_mobile ON customers(mobile);
        CREATE INDEX customers_name ON customers(name);

        CREATE TABLE vehicles (
            id INTEGER PRIMARY KEY,
            vin TEXT UNIQUE,
            plate TEXT,
            customer_id INTEGER REFERENCES customers(id),
            model TEXT,
            engine_no TEXT,
            gearbox_no TEXT,
            colour TEXT,
            purchase_date TEXT,
            delivery_date TEXT,
            usage TEXT CHECK (usage IN ('private', 'official', 'commercial')),
            usage_source TEXT,
            first_maintenance_date TEXT,
            first_maintenance_km INTEGER,
            warranty_end TEXT,
            insurance_compulsory_expiry TEXT,
            insurance_commercial_expiry TEXT,
            inspection_due TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX vehicles_plate ON vehicles(plate);
        CREATE INDEX vehicles_customer ON vehicles(customer_id);

        -- Who owned a vehicle when: a vehicle that changes hands keeps its history.
        CREATE TABLE vehicle_owners (
            vehicle_id INTEGER NOT NULL REFERENCES vehicles(id),
            customer_id INTEGER NOT NULL REFERENCES customers(id),
            since TEXT,
            until TEXT,
            PRIMARY KEY (vehicle_id, customer_id, since)
        );
        CREATE INDEX vehicle_owners_customer ON vehicle_owners(customer_id);

        CREATE TABLE repair_orders (
            id INTEGER PRIMARY KEY,
            order_no TEXT NOT NULL UNIQUE,
            vehicle_id INTEGER REFERENCES vehicles(id),
            customer_id INTEGER REFERENCES customers(id),
            date_in TEXT,
            date_settled TEXT,
            order_date TEXT NOT NULL,
            mileage INTEGER,
            service_type TEXT,
            service_type_raw TEXT,
            items TEXT,
            labour_fen INTEGER,
            parts_fen INTEGER,
            total_fen INTEGER,
            advisor TEXT,
            advice TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX repair_orders_vehicle ON repair_orders(vehicle_id, order_date);
        CREATE INDEX repair_orders_customer ON repair_orders(customer_id, order_date);
        CREATE INDEX repair_orders_date ON repair_orders(order_date);
        """
    )


@MIGRATIONS()
def m002_import_audit(db: sqlite_utils.Database) -> None:
    """The import log, every rejected or flagged row, and what each import changed."""
    db.executescript(
        """
        CREATE TABLE imports (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            file_name TEXT NOT NULL,
            file_path TEXT,
            checksum TEXT,
            size INTEGER,
            sheet TEXT,
            header_row INTEGER,
            mapping TEXT,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            status TEXT NOT NULL,
            message TEXT,
            rows_read INTEGER NOT NULL DEFAULT 0,
            inserted INTEGER NOT NULL DEFAULT 0,
            updated INTEGER NOT NULL DEFAULT 0,
            unchanged INTEGER NOT NULL DEFAULT 0,
            flagged INTEGER NOT NULL DEFAULT 0,
            rejected INTEGER NOT NULL DEFAULT 0,
            skipped INTEGER NOT NULL DEFAULT 0,
            superseded INTEGER NOT NULL DEFAULT 0,
            by_user TEXT
        );
        CREATE INDEX imports_checksum ON imports(checksum, kind);

        CREATE TABLE row_problems (
            id INTEGER PRIMARY KEY,
            import_id INTEGER NOT NULL REFERENCES imports(id),
            row_no INTEGER NOT NULL,
            severity TEXT NOT NULL CHECK (severity IN ('rejected', 'flagged')),
            field TEXT,
            column_name TEXT,
            value TEXT,
            reason TEXT NOT NULL,
            order_no TEXT,
            customer_id INTEGER,
            vehicle_id INTEGER
        );
        CREATE INDEX row_problems_import ON row_problems(import_id);
        CREATE INDEX row_problems_customer ON row_problems(customer_id);
        CREATE INDEX row_problems_vehicle ON row_problems(vehicle_id);

        -- Field-level audit of updates made by imports and edits (inserts are
        -- counted in imports, not itemised).
        CREATE TABLE changes (
            id INTEGER PRIMARY KEY,
            import_id INTEGER REFERENCES imports(id),
            entity TEXT NOT NULL,
            entity_id INTEGER NOT NULL,
            field TEXT NOT NULL,
            old_value TEXT,
            new_value TEXT,
            changed_at TEXT NOT NULL,
            by_user TEXT
        );
        CREATE INDEX changes_entity ON changes(entity, entity_id);
        """
    )


def schema_version(db: sqlite_utils.Database) -> tuple[list[str], list[str]]:
    """(the migrations applied to this file, those of them this release does not know)."""
    if not db["_sqlite_migrations"].exists():
        return [], []
    applied = [m.name for m in MIGRATIONS.applied(db)]
    known = {m.name for m in MIGRATIONS._migrations}
    return applied, [name for name in applied if name not in known]


def check_release(db: sqlite_utils.Database) -> None:
    """Refuse a file a newer release has migrated: this release would misread it."""
    from .errors import DatabaseError

    _applied, unknown = schema_version(db)
    if unknown:
        raise DatabaseError(
            f"this database was made by a newer release of crmcli (it has {unknown[-1]}, "
            "which this one does not know): upgrade crmcli, or restore a backup made by "
            "this release")


def migrate(db: sqlite_utils.Database, *, stop_before: str | None = None) -> None:
    """Apply pending migrations in one write transaction.

    Taking the write lock first means two processes opening a new file at the
    same moment do not both try to create the tables: the second waits, then
    finds nothing pending.
    """
    from .db import write_transaction

    check_release(db)
    if not MIGRATIONS.pending(db):
        return
    with write_transaction(db):
        MIGRATIONS.apply(db, stop_before=stop_before)


@MIGRATIONS()
def m003_tasks(db: sqlite_utils.Database) -> None:
    """Care contacts and callbacks as tasks, the plan runs that made them, and opt-outs."""
    db.executescript(
        """
        CREATE TABLE tasks (
            id INTEGER PRIMARY KEY,
            -- kind:subject:occurrence; the same contact is never planned twice
            key TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,
            customer_id INTEGER REFERENCES customers(id),
            vehicle_id INTEGER REFERENCES vehicles(id),
            order_id INTEGER REFERENCES repair_orders(id),
            due_date TEXT NOT NULL,
            expires_on TEXT NOT NULL,
            channel TEXT NOT NULL CHECK (channel IN ('sms', 'call', 'sms_call')),
            weight INTEGER NOT NULL DEFAULT 0,
            reason TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'open' CHECK (state IN
                ('open', 'done', 'missed', 'withdrawn', 'merged', 'unreachable', 'refused')),
            state_reason TEXT,
            merged_into INTEGER REFERENCES tasks(id),
            attempts INTEGER NOT NULL DEFAULT 0,
            next_try TEXT,
            call_at TEXT,
            planned_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            closed_at TEXT
        );
        CREATE INDEX tasks_state_due ON tasks(state, due_date);
        CREATE INDEX tasks_customer ON tasks(customer_id, due_date);
        CREATE INDEX tasks_vehicle ON tasks(vehicle_id);

        CREATE TABLE plan_runs (
            id INTEGER PRIMARY KEY,
            day TEXT NOT NULL,
            data_mark TEXT NOT NULL,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            created INTEGER NOT NULL DEFAULT 0,
            updated INTEGER NOT NULL DEFAULT 0,
            withdrawn INTEGER NOT NULL DEFAULT 0,
            missed INTEGER NOT NULL DEFAULT 0,
            merged INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX plan_runs_day ON plan_runs(day);

        -- A customer who declines one kind of contact ('sms', 'call', or a task kind).
        CREATE TABLE optouts (
            customer_id INTEGER NOT NULL REFERENCES customers(id),
            what TEXT NOT NULL,
            since TEXT NOT NULL,
            reason TEXT,
            PRIMARY KEY (customer_id, what)
        );
        """
    )


@MIGRATIONS()
def m004_classes(db: sqlite_utils.Database) -> None:
    """Each customer's current value class with its reason, and the history of moves."""
    db.executescript(
        """
        CREATE TABLE classify_runs (
            id INTEGER PRIMARY KEY,
            day TEXT NOT NULL,
            run_at TEXT NOT NULL,
            customers INTEGER NOT NULL
        );
        CREATE TABLE classifications (
            customer_id INTEGER PRIMARY KEY REFERENCES customers(id),
            value_class TEXT NOT NULL CHECK (value_class IN ('A', 'B', 'C', 'D')),
            reason TEXT NOT NULL,
            age_band TEXT NOT NULL,
            day TEXT NOT NULL,
            run_id INTEGER NOT NULL REFERENCES classify_runs(id)
        );
        CREATE TABLE class_changes (
            id INTEGER PRIMARY KEY,
            run_id INTEGER NOT NULL REFERENCES classify_runs(id),
            customer_id INTEGER NOT NULL REFERENCES customers(id),
            old_class TEXT,
            new_class TEXT NOT NULL,
            day TEXT NOT NULL,
            reason TEXT
        );
        CREATE INDEX class_changes_day ON class_changes(day);
        CREATE INDEX class_changes_customer ON class_changes(customer_id);
        """
    )


@MIGRATIONS()
def m005_calls_complaints_actions(db: sqlite_utils.Database) -> None:
    """Every logged call (append-only), complaints with their steps, corrective actions."""
    db.executescript(
        """
        CREATE TABLE calls (
            id INTEGER PRIMARY KEY,
            task_id INTEGER REFERENCES tasks(id),
            customer_id INTEGER REFERENCES customers(id),
            clerk TEXT NOT NULL,
            called_at TEXT NOT NULL,
            logged_at TEXT NOT NULL,
            outcome TEXT NOT NULL CHECK (outcome IN
                ('reached', 'no_answer', 'busy', 'wrong_number', 'refused', 'not_owner')),
            score_overall INTEGER,
            score_advisor INTEGER,
            score_quality INTEGER,
            score_timeliness INTEGER,
            score_price INTEGER,
            score_cleanliness INTEGER,
            note TEXT,
            call_back_at TEXT,
            corrected_phone TEXT,
            reminded_maintenance INTEGER NOT NULL DEFAULT 0,
            complaint_id INTEGER
        );
        CREATE INDEX calls_task ON calls(task_id);
        CREATE INDEX calls_called_at ON calls(called_at);
        CREATE INDEX calls_customer ON calls(customer_id);

        CREATE TABLE complaints (
            id INTEGER PRIMARY KEY,
            customer_id INTEGER REFERENCES customers(id),
            task_id INTEGER REFERENCES tasks(id),
            call_id INTEGER REFERENCES calls(id),
            category TEXT NOT NULL,
            text TEXT NOT NULL,
            owner TEXT,
            state TEXT NOT NULL DEFAULT 'open'
                CHECK (state IN ('open', 'escalated', 'replied', 'closed')),
            opened_at TEXT NOT NULL,
            opened_by TEXT NOT NULL,
            escalate_by TEXT NOT NULL,
            reply_by TEXT NOT NULL,
            escalated_at TEXT,
            escalated_by TEXT,
            replied_at TEXT,
            replied_by TEXT,
            closed_at TEXT,
            closed_by TEXT
        );
        CREATE INDEX complaints_state ON complaints(state);
        CREATE INDEX complaints_opened ON complaints(opened_at);

        CREATE TABLE complaint_events (
            id INTEGER PRIMARY KEY,
            complaint_id INTEGER NOT NULL REFERENCES complaints(id),
            at TEXT NOT NULL,
            by_user TEXT NOT NULL,
            action TEXT NOT NULL,
            note TEXT
        );
        CREATE INDEX complaint_events_complaint ON complaint_events(complaint_id);

        CREATE TABLE actions (
            id INTEGER PRIMARY KEY,
            text TEXT NOT NULL,
            owner TEXT NOT NULL,
            deadline TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'done')),
            kind TEXT NOT NULL DEFAULT 'corrective' CHECK (kind IN ('corrective', 'preventive')),
            category TEXT,
            report_month TEXT,
            complaint_id INTEGER REFERENCES complaints(id),
            created_at TEXT NOT NULL,
            created_by TEXT NOT NULL,
            done_at TEXT,
            done_by TEXT,
            note TEXT
        );
        CREATE INDEX actions_state ON actions(state, deadline);
        """
    )


@MIGRATIONS()
def m006_report_indexes(db: sqlite_utils.Database) -> None:
    """Indexes the monthly report needs: tasks by due date and kind, complaints and actions by date."""
    db.executescript(
        """
        -- Covers the report's scan of a period's tasks: no table lookups for them.
        CREATE INDEX tasks_due_kind ON tasks(due_date, channel, state, kind, id);
        CREATE INDEX complaints_closed ON complaints(closed_at);
        CREATE INDEX actions_created ON actions(created_at);
        """
    )


@MIGRATIONS()
def m007_sources(db: sqlite_utils.Database) -> None:
    """Who set a customer's mobile (a clerk's fix beats the next import), and the column
    aliases an import ran with (a file seen before is processed again when they change)."""
    db.executescript(
        """
        ALTER TABLE customers ADD COLUMN mobile_source TEXT;
        ALTER TABLE imports ADD COLUMN aliases_mark TEXT;
        """
    )


@MIGRATIONS()
def m008_vehicle_facts_and_plan_dirt(db: sqlite_utils.Database) -> None:
    """Per-vehicle order facts, and a log of what changed for planning (see ``facts``).

    Triggers keep both current on every update and delete of an order, a
    vehicle or a customer (an update or delete of an order recomputes the
    facts of the vehicles involved, a handful of orders each), and on every
    write of opt-outs and calls. Inserts of customers, vehicles and orders
    come in bulk from the importer, which records them with
    ``facts.note_inserted`` in the same transaction.

    It carries its own copy of the facts query: a migration creates what it
    created when it shipped, whatever the live code says today.
    """
    # The facts query as this migration shipped it (facts.FACTS_SELECT then), copied so
    # that an old file gets these triggers whatever later releases do to the live query.
    _FACTS_SELECT = """
    SELECT vehicle_id, max(order_date),
           min(CASE WHEN mileage IS NOT NULL THEN order_date END),
           max(CASE WHEN mileage IS NOT NULL THEN order_date END),
           min(mileage), max(mileage),
           max(CASE WHEN service_type IN ('maintenance', 'first_maintenance') THEN
               order_date || '|' || printf('%012d', id) || '|' || coalesce(mileage, '')
               || '|' || order_no END)
    FROM repair_orders WHERE {where} GROUP BY vehicle_id
"""
    _FACTS_COLS = (
        "vehicle_id, last_visit, km_first_date, km_last_date, km_min, km_max, last_maintenance")

    recompute = (
        f"DELETE FROM vehicle_facts WHERE vehicle_id IN (OLD.vehicle_id, NEW.vehicle_id);"
        f" INSERT INTO vehicle_facts ({_FACTS_COLS})"
        + _FACTS_SELECT.format(where="vehicle_id IN (OLD.vehicle_id, NEW.vehicle_id)") + ";")
    db.executescript(
        f"""
        CREATE TABLE vehicle_facts (
            vehicle_id INTEGER PRIMARY KEY,
            last_visit TEXT,
            km_first_date TEXT,
            km_last_date TEXT,
            km_min INTEGER,
            km_max INTEGER,
            last_maintenance TEXT
        );
        INSERT INTO vehicle_facts ({_FACTS_COLS})
        {_FACTS_SELECT.format(where="vehicle_id IS NOT NULL")};

        CREATE TRIGGER repair_orders_facts_update
        AFTER UPDATE OF vehicle_id, order_date, mileage, service_type, order_no ON repair_orders
        BEGIN {recompute} END;
        CREATE TRIGGER repair_orders_facts_delete AFTER DELETE ON repair_orders BEGIN
            DELETE FROM vehicle_facts WHERE vehicle_id = OLD.vehicle_id;
            INSERT INTO vehicle_facts ({_FACTS_COLS})
            {_FACTS_SELECT.format(where="vehicle_id = OLD.vehicle_id")};
        END;

        -- AUTOINCREMENT: a seq is never reused after pruning, so runs can compare them.
        CREATE TABLE plan_dirt (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            customer_id INTEGER,
            vehicle_id INTEGER
        );
        CREATE TABLE plan_state (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            -- plan_dirt up to here has been pruned: runs that saw less re-plan in full
            dirt_floor INTEGER NOT NULL DEFAULT 0
        );
        INSERT INTO plan_state (id, dirt_floor) VALUES (1, 0);
        ALTER TABLE plan_runs ADD COLUMN dirt_seq INTEGER;
        ALTER TABLE plan_runs ADD COLUMN settings_mark TEXT;
        ALTER TABLE plan_runs ADD COLUMN scope TEXT;

        CREATE TRIGGER repair_orders_dirt_update AFTER UPDATE ON repair_orders BEGIN
            INSERT INTO plan_dirt (customer_id, vehicle_id) VALUES (NEW.customer_id, NEW.vehicle_id);
            INSERT INTO plan_dirt (customer_id, vehicle_id) SELECT OLD.customer_id, OLD.vehicle_id
                WHERE OLD.customer_id IS NOT NEW.customer_id OR OLD.vehicle_id IS NOT NEW.vehicle_id;
        END;
        CREATE TRIGGER repair_orders_dirt_delete AFTER DELETE ON repair_orders BEGIN
            INSERT INTO plan_dirt (customer_id, vehicle_id) VALUES (OLD.customer_id, OLD.vehicle_id);
        END;
        CREATE TRIGGER vehicles_dirt_update AFTER UPDATE ON vehicles BEGIN
            INSERT INTO plan_dirt (customer_id, vehicle_id) VALUES (NEW.customer_id, NEW.id);
            INSERT INTO plan_dirt (customer_id, vehicle_id) SELECT OLD.customer_id, OLD.id
                WHERE OLD.customer_id IS NOT NEW.customer_id;
        END;
        CREATE TRIGGER vehicles_dirt_delete AFTER DELETE ON vehicles BEGIN
            INSERT INTO plan_dirt (customer_id, vehicle_id) VALUES (OLD.customer_id, OLD.id);
        END;
        CREATE TRIGGER customers_dirt_update AFTER UPDATE ON customers BEGIN
            INSERT INTO plan_dirt (customer_id) VALUES (NEW.id);
        END;
        CREATE TRIGGER customers_dirt_delete AFTER DELETE ON customers BEGIN
            INSERT INTO plan_dirt (customer_id) VALUES (OLD.id);
        END;
        CREATE TRIGGER optouts_dirt_insert AFTER INSERT ON optouts BEGIN
            INSERT INTO plan_dirt (customer_id) VALUES (NEW.customer_id);
        END;
        CREATE TRIGGER optouts_dirt_delete AFTER DELETE ON optouts BEGIN
            INSERT INTO plan_dirt (customer_id) VALUES (OLD.customer_id);
        END;
        CREATE TRIGGER optouts_dirt_update AFTER UPDATE ON optouts BEGIN
            INSERT INTO plan_dirt (customer_id) VALUES (NEW.customer_id), (OLD.customer_id);
        END;
        -- A call changes tasks the plan compares with (attempts, states).
        CREATE TRIGGER calls_dirt_insert AFTER INSERT ON calls BEGIN
            INSERT INTO plan_dirt (customer_id) VALUES (NEW.customer_id);
        END;
        """
    )


@MIGRATIONS()
def m009_tasks_work_index(db: sqlite_utils.Database) -> None:
    """Today's list reads open tasks from one covering index, without touching the rows.

    It replaces tasks_state_due. The kind comes second so that the count per
    kind reads the index in order. On the first day of a large file (80,000
    open tasks) the list's two scans take 9 and 26 ms instead of 110 each.
    """
    db.executescript(
        """
        DROP INDEX tasks_state_due;
        CREATE INDEX tasks_state_work
            ON tasks(state, kind, due_date, next_try, channel, attempts, weight, customer_id);
        """
    )


@MIGRATIONS()
def m010_order_row_prints(db: sqlite_utils.Database) -> None:
    """A fingerprint per order of the source row it was last read from, so that the
    rows of a re-export that did not change are passed over without parsing them.

    A table beside repair_orders rather than a column in it: repair_orders has an
    UPDATE trigger that marks the customer for re-planning, and storing a new
    fingerprint (after a new release, or once for every order after this
    migration) must not make every customer dirty. ``as_of`` is the ``today``
    the row was read with: a clean row stays clean on later days only.
    """
    db.executescript(
        """
        CREATE TABLE order_row_prints (
            order_id INTEGER PRIMARY KEY,
            fp BLOB NOT NULL,
            as_of TEXT NOT NULL
        );
        -- order ids can be reused after the highest is deleted: drop its print with it
        CREATE TRIGGER repair_orders_print_delete AFTER DELETE ON repair_orders BEGIN
            DELETE FROM order_row_prints WHERE order_id = OLD.id;
        END;
        """
    )


@MIGRATIONS()
def m011_plan_runs_missed_before(db: sqlite_utils.Database) -> None:
    """The day a plan run closed missed tasks up to: a plan looked at ahead of time
    closes less, and planning the day again when it comes must close the rest."""
    db.executescript("ALTER TABLE plan_runs ADD COLUMN missed_before TEXT;")


@MIGRATIONS()
def m012_report_index_as_m004_m006_now_make_it(db: sqlite_utils.Database) -> None:
    """m004 and m006 were changed after a release had applied them: m004 no longer
    makes classifications_class (classifying rewrote it for every customer), and
    m006's tasks_due_kind covers the report's scan (due date, channel, state, kind,
    id). A file from that release gets the same indexes here; a newer file already
    has them and is left as it is."""
    if db.conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'index'"
                       " AND name = 'classifications_class'").fetchone():
        db.conn.execute("DROP INDEX classifications_class")
    cols = [r[2] for r in db.conn.execute("PRAGMA index_info(tasks_due_kind)")]
    if cols != ["due_date", "channel", "state", "kind", "id"]:
        db.conn.execute("DROP INDEX IF EXISTS tasks_due_kind")
        db.conn.execute("CREATE INDEX tasks_due_kind ON tasks(due_date, channel, state, kind, id)")


def _loosen_check(db: sqlite_utils.Database, table: str, old: str, new: str) -> None:
    """Widen a CHECK constraint's list of values in place (SQLite's documented procedure
    for schema changes that leave the stored data valid: lang_altertable.html, "making
    other kinds of table schema changes"). Rebuilding the table instead would break the
    foreign keys that point at it inside the migration's transaction."""
    sql = db.conn.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
                          (table,)).fetchone()[0]
    if new in sql:
        return
    if sql.count(old) != 1:
        raise RuntimeError(f"m013: {table}'s CHECK is not the one m003/m005 made")
    version = db.conn.execute("PRAGMA schema_version").fetchone()[0]
    db.conn.execute("PRAGMA writable_schema = ON")
    try:
        db.conn.execute("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?",
                        (sql.replace(old, new), table))
        db.conn.execute(f"PRAGMA schema_version = {version + 1}")
    finally:
        db.conn.execute("PRAGMA writable_schema = OFF")


@MIGRATIONS()
def m013_task_steps_and_call_results(db: sqlite_utils.Database) -> None:
    """What the care-contact planner and the SMS channel record on a task and a call.

    * tasks.state 'sent': an SMS-only task whose message went out (an
      ``sms_call`` task stays open for its call; its SMS step is ``sms_sent_at``);
    * tasks.sms_sent_at: when the SMS (of an ``sms`` or ``sms_call`` task) was sent;
    * tasks.appointment_at: the visit a reminder call booked (a no-show follow-up
      is planned when no order of the car comes by the day after);
    * tasks.combined_from: a task that came back on its own because the call it was
      combined into ended unreachable or refused points at that call;
    * calls.outcome 'booked' (with calls.appointment_at) and 'done_elsewhere'
      (serviced, insured or inspected elsewhere);
    * calls.used_try: 0 for a second no-answer logged the same day, which is kept
      but does not use up a try.
    """
    states = "'open', 'done', 'missed', 'withdrawn', 'merged', 'unreachable', 'refused'"
    _loosen_check(db, "tasks", f"({states})", f"({states}, 'sent')")
    outcomes = "'reached', 'no_answer', 'busy', 'wrong_number', 'refused', 'not_owner'"
    _loosen_check(db, "calls", f"({outcomes})", f"({outcomes}, 'booked', 'done_elsewhere')")
    for sql in ("ALTER TABLE tasks ADD COLUMN sms_sent_at TEXT",
                "ALTER TABLE tasks ADD COLUMN appointment_at TEXT",
                "ALTER TABLE tasks ADD COLUMN combined_from INTEGER",
                "ALTER TABLE calls ADD COLUMN appointment_at TEXT",
                "ALTER TABLE calls ADD COLUMN used_try INTEGER NOT NULL DEFAULT 1"):
        db.conn.execute(sql)


@MIGRATIONS()
def m014_sms_ledger_optouts(db: sqlite_utils.Database) -> None:
    """The SMS channel: who set each opt-out, the send-once ledger, numbers that failed,
    and the broadcasts staff planned.

    An opt-out's ``what`` is 'all' (do not contact), 'sms', 'call', 'marketing',
    'service' or one task kind. The ledger has one row per SMS task ever put in a
    file (``task_id`` is unique: a task is sent once); ``file`` and ``line`` say
    where, ``text`` is exactly what went out. A number in ``phone_flags`` gets no
    SMS until it is changed or the flag is cleared.

    Tasks get two more end states: 'not_sendable' (an SMS for a customer with no
    valid mobile, a flagged number) and 'not_delivered' (the platform's report
    said it failed); 'sent' is m013's.
    """
    states = ("'open', 'done', 'missed', 'withdrawn', 'merged', 'unreachable', 'refused',"
              " 'sent'")
    _loosen_check(db, "tasks", f"({states})", f"({states}, 'not_sendable', 'not_delivered')")
    db.executescript(
        """
        ALTER TABLE optouts ADD COLUMN by_user TEXT;

        CREATE TABLE sms_ledger (
            id INTEGER PRIMARY KEY,
            task_id INTEGER NOT NULL UNIQUE REFERENCES tasks(id),
            customer_id INTEGER REFERENCES customers(id),
            day TEXT NOT NULL,
            batch INTEGER NOT NULL,
            line INTEGER NOT NULL,
            mobile TEXT NOT NULL,
            text TEXT NOT NULL,
            send_after TEXT NOT NULL,
            file TEXT NOT NULL,
            sent_at TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'sent' CHECK (status IN ('sent', 'delivered', 'failed')),
            status_note TEXT,
            status_at TEXT
        );
        CREATE INDEX sms_ledger_day ON sms_ledger(day, batch, line);
        CREATE INDEX sms_ledger_mobile ON sms_ledger(mobile, day);

        CREATE TABLE phone_flags (
            phone TEXT PRIMARY KEY,
            reason TEXT NOT NULL,
            since TEXT NOT NULL,
            by_user TEXT
        );

        CREATE TABLE broadcasts (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('campaign', 'weather')),
            day TEXT NOT NULL,
            template TEXT NOT NULL,
            criteria TEXT NOT NULL,
            planned INTEGER NOT NULL,
            skipped TEXT,
            created_at TEXT NOT NULL,
            by_user TEXT
        );
        """
    )


@MIGRATIONS()
def m015_task_contact_day(db: sqlite_utils.Database) -> None:
    """tasks.contact_on: the day the planner set for a contact when it is not the task's
    own (a combined contact made on the earliest day of what it carries; a reminder
    moved past the contact window after the customer was just contacted). Today's
    list reads it from its covering index, which is made again to hold it."""
    db.conn.execute("ALTER TABLE tasks ADD COLUMN contact_on TEXT")
    db.conn.execute("DROP INDEX tasks_state_work")
    db.conn.execute("CREATE INDEX tasks_state_work ON tasks(state, kind, due_date, next_try,"
                    " contact_on, channel, attempts, sms_sent_at, weight, customer_id)")


@MIGRATIONS()
def m016_complaints_actions_lost_reasons(db: sqlite_utils.Database) -> None:
    """What following complaints, actions and lost customers to the end records.

    * complaints.severity: a code of the settings' list (normal, serious, major);
    * complaints.late_escalation / late_reply: set when that step was done after
      its deadline, so an overdue mark survives the later steps;
    * complaints.followup_task_id: the call asking whether the customer is
      satisfied with the resolution; complaints.resolution: its answer
      ('satisfied' or 'not_satisfied');
    * actions.approved_at/approved_by: the manager's approval; actions.metric and
      effect_before/effect_after (with the periods they were read from): the figure
      the action was meant to move, from the report before and after;
    * calls.lost_reason: why a lost customer left, asked on a recovery call;
      calls.resolution_ok: a complaint follow-up's answer (1 satisfied, 0 not).
    """
    db.executescript(
        """
        ALTER TABLE complaints ADD COLUMN severity TEXT NOT NULL DEFAULT 'normal';
        ALTER TABLE complaints ADD COLUMN late_escalation INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE complaints ADD COLUMN late_reply INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE complaints ADD COLUMN followup_task_id INTEGER REFERENCES tasks(id);
        ALTER TABLE complaints ADD COLUMN resolution TEXT;
        CREATE INDEX complaints_task ON complaints(task_id);
        ALTER TABLE actions ADD COLUMN approved_at TEXT;
        ALTER TABLE actions ADD COLUMN approved_by TEXT;
        ALTER TABLE actions ADD COLUMN metric TEXT;
        ALTER TABLE actions ADD COLUMN effect_before REAL;
        ALTER TABLE actions ADD COLUMN effect_before_period TEXT;
        ALTER TABLE actions ADD COLUMN effect_after REAL;
        ALTER TABLE actions ADD COLUMN effect_after_period TEXT;
        ALTER TABLE calls ADD COLUMN lost_reason TEXT;
        ALTER TABLE calls ADD COLUMN resolution_ok INTEGER;
        """
    )


@MIGRATIONS()
def m017_calls_report_index(db: sqlite_utils.Database) -> None:
    """The monthly report reads the calls of the period's tasks by task: with every
    column it counts in the index, SQLite never visits the calls table itself (a month
    of a million-task file: one index probe per task instead of a probe and a page
    read per call). Notes get a partial index of their own: most calls have none."""
    db.executescript(
        """
        CREATE INDEX calls_task_report ON calls(task_id, outcome, clerk, score_overall,
            score_advisor, score_quality, score_timeliness, score_price, score_cleanliness,
            lost_reason, resolution_ok, logged_at);
        CREATE INDEX calls_task_note ON calls(task_id, note) WHERE note IS NOT NULL;
        """
    )


@MIGRATIONS()
def m018_forgotten_and_text_caps(db: sqlite_utils.Database) -> None:
    """``forgotten``: who erased a customer's personal data (``customer forget``) and
    when; nothing about the person. And a length cap on every text field people type
    or exports carry: a longer value (a 100,000-character name) is cut to its cap as
    it is stored, whichever code stores it (imports, edits, calls, complaints)."""
    caps = {
        "customers": {"name": 100, "mobile": 40, "other_phones": 200, "id_number": 40,
                      "occupation": 100, "address": 500, "employer": 200,
                      "preferred_call_time": 100, "preferred_phone": 40, "notes": 4000},
        "vehicles": {"vin": 40, "plate": 20, "model": 200, "engine_no": 100,
                     "gearbox_no": 100, "colour": 50},
        "repair_orders": {"order_no": 100, "service_type_raw": 100, "items": 4000,
                          "advisor": 100, "advice": 4000},
        "calls": {"note": 2000, "clerk": 100, "corrected_phone": 40, "lost_reason": 200},
        "complaints": {"category": 100, "text": 4000, "owner": 100, "resolution": 2000},
        "complaint_events": {"note": 2000, "by_user": 100},
        "actions": {"text": 2000, "owner": 100, "category": 100, "note": 2000},
        "row_problems": {"value": 1000, "reason": 1000},
        "changes": {"old_value": 4000, "new_value": 4000},
    }
    db.executescript(
        """
        CREATE TABLE forgotten (
            id INTEGER PRIMARY KEY,
            customer_id INTEGER NOT NULL,
            at TEXT NOT NULL,
            by_user TEXT NOT NULL
        );
        """
    )
    for table, cols in caps.items():
        when = " OR ".join(f"length(NEW.{c}) > {n}" for c, n in cols.items())
        sets = ", ".join(f"{c} = substr({c}, 1, {n})" for c, n in cols.items())
        for event in ("INSERT", "UPDATE"):
            db.execute(
                f"CREATE TRIGGER cap_{table}_{event.lower()} AFTER {event} ON {table}"
                f" WHEN {when} BEGIN UPDATE {table} SET {sets} WHERE rowid = NEW.rowid; END")


@MIGRATIONS()
def m019_field_sources_and_merges(db: sqlite_utils.Database) -> None:
    """Where a field's value came from, and the merges of duplicate records.

    * field_sources: a field a clerk (or a call) set over what the exports said:
      its source ('edit' or 'call'), when and by whom, and ``import_value``, what
      the exports said before. An import changes the field again only when the
      export says something else than that (new information). A field without a
      row here has the value the exports gave it (see ``changes`` for when).
    * changes.reason: why a change was made when an import and a clerk disagreed.
    * merges: one customer or vehicle merged into another (what moved, as JSON, so
      that ``--undo`` can move it back); merge_aliases: the keys the merged record
      was found by (a customer's phone and name, a vehicle's VIN or plate), so a
      later import finds the record kept rather than making the duplicate again.
    * repair_orders.contact_name / contact_phone: the person who brought the car (送修人),
      when not its owner; the post-repair call is theirs.
    """
    db.executescript(
        """
        CREATE TABLE field_sources (
            entity TEXT NOT NULL,
            entity_id INTEGER NOT NULL,
            field TEXT NOT NULL,
            source TEXT NOT NULL,
            import_value TEXT,
            set_at TEXT NOT NULL,
            by_user TEXT,
            PRIMARY KEY (entity, entity_id, field)
        ) WITHOUT ROWID;
        ALTER TABLE changes ADD COLUMN reason TEXT;
        ALTER TABLE repair_orders ADD COLUMN contact_name TEXT;
        ALTER TABLE repair_orders ADD COLUMN contact_phone TEXT;
        CREATE TABLE merges (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            kept_id INTEGER NOT NULL,
            merged_id INTEGER NOT NULL,
            merged_at TEXT NOT NULL,
            by_user TEXT,
            moved TEXT NOT NULL,
            undone_at TEXT,
            undone_by TEXT
        );
        CREATE TABLE merge_aliases (
            kind TEXT NOT NULL,
            key TEXT NOT NULL,
            target_id INTEGER NOT NULL,
            merge_id INTEGER NOT NULL REFERENCES merges(id),
            PRIMARY KEY (kind, key)
        ) WITHOUT ROWID;
        """
    )


@MIGRATIONS()
def m020_order_contacts(db: sqlite_utils.Database) -> None:
    """The person who brought a car (送修人) becomes its orders' contact, not a customer.

    Imports before this made whoever an order named a customer, and an order naming
    someone else moved the car to them. From now on an order never moves a car; this
    puts stored files in the same state:
    * each car's owner: the one a delivery list named (the ownership starting on its
      delivery or purchase date), the later moves by orders dropped; a car no delivery
      list named keeps the first person its orders named, as an owner for now (since
      ''), whom a delivery list can replace;
    * each order from the owner's start on that names someone else: the owner's, with
      that person's name and number as its contact (when the name is the owner's, a
      duplicate record of the owner: no contact, the number joins the owner's); its
      tasks go to the owner;
    * a customer left with nothing but derived rows (plan marks, classes, import
      flags, a planned task nobody worked) is deleted.
    Every move is logged in ``changes`` with its reason.
    """
    conn = db.conn
    now = conn.execute("SELECT strftime('%Y-%m-%dT%H:%M:%S', 'now')").fetchone()[0]
    why = "m020: an order names who brought the car; it never moves the car"
    log: list[tuple] = []
    touched: set[int] = set()
    rows = conn.execute(
        "SELECT r.rowid, r.vehicle_id, r.customer_id, r.since,"
        " coalesce(v.delivery_date, v.purchase_date), v.customer_id"
        " FROM vehicle_owners r JOIN vehicles v ON v.id = r.vehicle_id"
        " WHERE r.vehicle_id IN (SELECT vehicle_id FROM vehicle_owners GROUP BY vehicle_id"
        "  HAVING count(*) > 1)"
        " ORDER BY r.vehicle_id, r.since, r.rowid").fetchall()
    by_vehicle: dict[int, list[tuple]] = {}
    for row in rows:
        by_vehicle.setdefault(row[1], []).append(row)
    for vid, owned in by_vehicle.items():
        delivered, current = owned[0][4], owned[0][5]
        sold = [r for r in owned if delivered and r[3] == delivered]
        if sold:
            keep = sold[-1]
            drop = [r for r in owned if r[3] > delivered or (r[3] == delivered and r is not keep)]
            since = keep[3]
        else:
            keep, drop, since = owned[0], owned[1:], ""
        conn.executemany("DELETE FROM vehicle_owners WHERE rowid = ?", [(r[0],) for r in drop])
        conn.execute("UPDATE vehicle_owners SET since = ?, until = NULL WHERE rowid = ?",
                     (since, keep[0]))
        touched.update(r[2] for r in drop)
        if current != keep[2]:
            conn.execute("UPDATE vehicles SET customer_id = ? WHERE id = ?", (keep[2], vid))
            log.append(("vehicle", vid, "customer_id", current, keep[2]))
            if current is not None:
                touched.add(current)
    moves = conn.execute(
        "SELECT o.id, o.customer_id, v.customer_id, w.name IS n.name, w.name, w.mobile, n.mobile"
        " FROM repair_orders o JOIN vehicles v ON v.id = o.vehicle_id"
        " JOIN vehicle_owners r ON r.vehicle_id = v.id AND r.customer_id = v.customer_id"
        "  AND r.until IS NULL"
        " JOIN customers w ON w.id = o.customer_id JOIN customers n ON n.id = v.customer_id"
        " WHERE o.customer_id IS NOT v.customer_id AND o.order_date >= r.since"
        " AND o.contact_name IS NULL AND o.contact_phone IS NULL").fetchall()
    for oid, was, owner, same_name, name, mobile, owner_mobile in moves:
        contact = (None, None) if same_name else (name, mobile)
        if same_name and mobile and mobile != owner_mobile:
            others = conn.execute("SELECT other_phones FROM customers WHERE id = ?",
                                  (owner,)).fetchone()[0]
            numbers = [n for n in (others or "").split(",") if n]
            if mobile not in numbers:
                conn.execute("UPDATE customers SET other_phones = ? WHERE id = ?",
                             (",".join([*numbers, mobile]), owner))
                log.append(("customer", owner, "other_phones", others, ",".join([*numbers, mobile])))
        conn.execute("UPDATE repair_orders SET customer_id = ?, contact_name = ?,"
                     " contact_phone = ? WHERE id = ?", (owner, *contact, oid))
        conn.execute("UPDATE tasks SET customer_id = ? WHERE order_id = ?", (owner, oid))
        log.append(("order", oid, "customer_id", was, owner))
        touched.add(was)
    conn.executemany(
        "INSERT INTO changes (entity, entity_id, field, old_value, new_value, changed_at,"
        " by_user, reason) VALUES (?,?,?,?,?,?,'migration',?)",
        [(e, i, f, None if a is None else str(a), str(b), now, why) for e, i, f, a, b in log])
    # The customers left with nothing of their own: every table naming a customer is
    # read from the schema as it stands at this migration.
    derived = {"plan_dirt", "classifications", "class_changes", "row_problems"}
    refs = []
    for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"
                                 " AND name NOT LIKE 'sqlite_%'").fetchall():
        cols = [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')]
        if "customer_id" in cols and table not in derived:
            refs.append(table)
    for cid in sorted(touched):
        used = any(conn.execute(
            f'SELECT 1 FROM "{t}" WHERE customer_id = ?'
            + (" AND NOT (state = 'open' AND attempts = 0 AND NOT EXISTS"
               " (SELECT 1 FROM sms_ledger l WHERE l.task_id = tasks.id))" if t == "tasks" else "")
            + " LIMIT 1", (cid,)).fetchone() for t in refs)
        if used:
            continue
        conn.execute("DELETE FROM tasks WHERE customer_id = ?", (cid,))
        conn.execute("UPDATE row_problems SET customer_id = NULL WHERE customer_id = ?", (cid,))
        for t in ("plan_dirt", "classifications", "class_changes"):
            conn.execute(f"DELETE FROM {t} WHERE customer_id = ?", (cid,))
        conn.execute("DELETE FROM field_sources WHERE entity = 'customer' AND entity_id = ?",
                     (cid,))
        conn.execute("DELETE FROM customers WHERE id = ?", (cid,))


@MIGRATIONS()
def m021_last_maintenance_columns(db: sqlite_utils.Database) -> None:
    """The last maintenance as four columns of ``vehicle_facts`` (its day, order id,
    mileage and order number) instead of m008's one string 'date|id|km|order no' that
    readers sliced at fixed offsets.

    The stored strings are converted as they are (the facts are not recomputed), and
    m008's two triggers are made again to fill the new columns. It carries its own copy
    of the facts query, as m008 does.
    """
    # The last maintenance is the latest (day, id) of the vehicle's maintenance orders:
    # the subquery picks that order's id (its day then its id padded to 12 digits, so
    # that max() orders them as a pair), and the join reads its other columns. No CTE:
    # SQLite refuses them inside triggers.
    _FACTS_SELECT = """
    SELECT f.vehicle_id, f.last_visit, f.km_first_date, f.km_last_date, f.km_min, f.km_max,
           m.order_date, m.id, m.mileage, m.order_no
    FROM (SELECT vehicle_id, max(order_date) AS last_visit,
                 min(CASE WHEN mileage IS NOT NULL THEN order_date END) AS km_first_date,
                 max(CASE WHEN mileage IS NOT NULL THEN order_date END) AS km_last_date,
                 min(mileage) AS km_min, max(mileage) AS km_max,
                 max(CASE WHEN service_type IN ('maintenance', 'first_maintenance') THEN
                     order_date || printf('%012d', id) END) AS last_maint
          FROM repair_orders WHERE {where} GROUP BY vehicle_id) AS f
    LEFT JOIN repair_orders AS m ON m.id = CAST(substr(f.last_maint, -12) AS INTEGER)
"""
    _FACTS_COLS = ("vehicle_id, last_visit, km_first_date, km_last_date, km_min, km_max,"
                   " last_maint_day, last_maint_order_id, last_maint_km, last_maint_order_no")
    recompute = (
        f"DELETE FROM vehicle_facts WHERE vehicle_id IN (OLD.vehicle_id, NEW.vehicle_id);"
        f" INSERT INTO vehicle_facts ({_FACTS_COLS})"
        + _FACTS_SELECT.format(where="vehicle_id IN (OLD.vehicle_id, NEW.vehicle_id)") + ";")
    # 'date|id|km|order no': the order number is everything after the third '|'.
    db.executescript(
        f"""
        DROP TRIGGER repair_orders_facts_update;
        DROP TRIGGER repair_orders_facts_delete;
        ALTER TABLE vehicle_facts RENAME TO vehicle_facts_m008;
        CREATE TABLE vehicle_facts (
            vehicle_id INTEGER PRIMARY KEY,
            last_visit TEXT,
            km_first_date TEXT,
            km_last_date TEXT,
            km_min INTEGER,
            km_max INTEGER,
            last_maint_day TEXT,
            last_maint_order_id INTEGER,
            last_maint_km INTEGER,
            last_maint_order_no TEXT
        );
        INSERT INTO vehicle_facts ({_FACTS_COLS})
        SELECT vehicle_id, last_visit, km_first_date, km_last_date, km_min, km_max,
               substr(lm, 1, i1 - 1),
               CAST(substr(after, 1, i2 - 1) AS INTEGER),
               CAST(nullif(substr(rest, 1, instr(rest, '|') - 1), '') AS INTEGER),
               substr(rest, instr(rest, '|') + 1)
        FROM (SELECT *, substr(after, i2 + 1) AS rest
              FROM (SELECT *, instr(after, '|') AS i2
                    FROM (SELECT *, instr(lm, '|') AS i1, substr(lm, instr(lm, '|') + 1) AS after
                          FROM (SELECT *, last_maintenance AS lm FROM vehicle_facts_m008))));
        DROP TABLE vehicle_facts_m008;

        CREATE TRIGGER repair_orders_facts_update
        AFTER UPDATE OF vehicle_id, order_date, mileage, service_type, order_no ON repair_orders
        BEGIN {recompute} END;
        CREATE TRIGGER repair_orders_facts_delete AFTER DELETE ON repair_orders BEGIN
            DELETE FROM vehicle_facts WHERE vehicle_id = OLD.vehicle_id;
            INSERT INTO vehicle_facts ({_FACTS_COLS})
            {_FACTS_SELECT.format(where="vehicle_id = OLD.vehicle_id")};
        END;
        """
    )


@MIGRATIONS()
def m022_facts_on_insert(db: sqlite_utils.Database) -> None:
    """Inserts keep planning's facts too, whoever makes them: with m008's and m020's
    triggers for updates and deletes, every write of customers, vehicles and orders
    reaches ``vehicle_facts`` and ``plan_dirt`` without the writer doing anything.

    * an order: its vehicle's facts are worked out again, and its customer and
      vehicle are logged for planning;
    * a vehicle: logged with its owner; a customer: logged.

    A bulk load (an import of 100,000 orders) takes these three triggers out for its
    transaction and brings the facts of everything it inserted up to date at the end
    in one statement each (``facts.bulk_insert``): a trigger per row costs such a load
    0.6 s or more even when its WHEN clause keeps it from doing anything. It carries
    its own copy of the facts query (m021's).
    """
    _FACTS_SELECT = """
    SELECT f.vehicle_id, f.last_visit, f.km_first_date, f.km_last_date, f.km_min, f.km_max,
           m.order_date, m.id, m.mileage, m.order_no
    FROM (SELECT vehicle_id, max(order_date) AS last_visit,
                 min(CASE WHEN mileage IS NOT NULL THEN order_date END) AS km_first_date,
                 max(CASE WHEN mileage IS NOT NULL THEN order_date END) AS km_last_date,
                 min(mileage) AS km_min, max(mileage) AS km_max,
                 max(CASE WHEN service_type IN ('maintenance', 'first_maintenance') THEN
                     order_date || printf('%012d', id) END) AS last_maint
          FROM repair_orders WHERE {where} GROUP BY vehicle_id) AS f
    LEFT JOIN repair_orders AS m ON m.id = CAST(substr(f.last_maint, -12) AS INTEGER)
"""
    _FACTS_COLS = ("vehicle_id, last_visit, km_first_date, km_last_date, km_min, km_max,"
                   " last_maint_day, last_maint_order_id, last_maint_km, last_maint_order_no")
    db.executescript(
        f"""
        CREATE TRIGGER customers_dirt_insert AFTER INSERT ON customers BEGIN
            INSERT INTO plan_dirt (customer_id) VALUES (NEW.id);
        END;
        CREATE TRIGGER vehicles_dirt_insert AFTER INSERT ON vehicles BEGIN
            INSERT INTO plan_dirt (customer_id, vehicle_id) VALUES (NEW.customer_id, NEW.id);
        END;
        CREATE TRIGGER repair_orders_facts_insert AFTER INSERT ON repair_orders BEGIN
            INSERT INTO plan_dirt (customer_id, vehicle_id)
                VALUES (NEW.customer_id, NEW.vehicle_id);
            DELETE FROM vehicle_facts WHERE vehicle_id = NEW.vehicle_id;
            INSERT INTO vehicle_facts ({_FACTS_COLS})
            {_FACTS_SELECT.format(where="vehicle_id = NEW.vehicle_id")};
        END;
        """
    )


@MIGRATIONS()
def m023_order_owners_for_now(db: sqlite_utils.Database) -> None:
    """A car's owner that an order made is an owner for now (``since`` '').

    Before m020 an order gave a car with no owner on file an owner from the order's
    date; m020 rewrote only the cars it had to repair. Such an ownership (current,
    starting on the day of an order of the car, which is none of the car's delivery
    or purchase dates) now starts on '': a delivery list naming someone else replaces
    that owner whatever its date, as it does for owners the importer makes now.
    """
    db.execute(
        "UPDATE OR IGNORE vehicle_owners SET since = '' WHERE until IS NULL AND since <> ''"
        " AND EXISTS (SELECT 1 FROM repair_orders o WHERE o.vehicle_id = vehicle_owners.vehicle_id"
        "  AND o.customer_id = vehicle_owners.customer_id AND o.order_date = vehicle_owners.since)"
        " AND NOT EXISTS (SELECT 1 FROM vehicles v WHERE v.id = vehicle_owners.vehicle_id"
        "  AND vehicle_owners.since IN (coalesce(v.delivery_date, ''), coalesce(v.purchase_date, '')))")
