"""A shipped migration is never edited: each one's text is pinned by its hash.

A database made by an older release has already run the old text; editing a
migration in place means old and new files silently differ (m004, m006 and
m008 were once changed after shipping; m012 exists to repair that). A change
to the schema is a new migration.
"""

from __future__ import annotations

import hashlib
import inspect
import re

from crmcli import migrations

# sha256 of each migration function's source (decorator, docstring and SQL), as shipped.
SHIPPED = {
    "m001_customer_file":
        "000ad2eb5938dc5a1cb40dc62cb1e2f6683bbd433555a02957203849a7a423a5",
    "m002_import_audit":
        "6f4fafd39188209b9b0d3dd2f4fc8bd86fb0ada40e276ba2cf9b7f8cc6691b62",
    "m003_tasks":
        "11da99bfe8cc2f2f5a7fb2a7488802a779cb27236c136e8a2e144c275434dd50",
    "m004_classes":
        "9f66a6a734e5123a970a7462b0d50a614d9151c2671d2a9056d2f6ff7b32eeec",
    "m005_calls_complaints_actions":
        "aef46b7ea085c32eed17f03ea669080ca470ba63c7c134ab223f321bc14f2f19",
    "m006_report_indexes":
        "a047190fe342fd6c73bd6ccbdda338440d2d3801a7fe631ec3904963ce057dca",
    "m007_sources":
        "2407d51a42aabd83c8054d8359c526f396207e56b7880ac1e777a26ec6c1cd4b",
    "m008_vehicle_facts_and_plan_dirt":
        "2e059ce0b4040de43169e2fe145cc51ae0863f6fa453c091d7f433185631aaa0",
    "m009_tasks_work_index":
        "e1109a1a3b20d6441905ec5d5db7713e60e1b83e19e046227f328cfedb0ce276",
    "m010_order_row_prints":
        "568e02dbdb708282c9f96a15697c944642541d20ba812af413260d50b31dc9db",
    "m011_plan_runs_missed_before":
        "515e8a7d39a08230e8b5b7ed4ec1fd6b9697598ade91a7a591941e3d2a42ea74",
    "m012_report_index_as_m004_m006_now_make_it":
        "c9afb0aa743e04f97d45caa912a5869260a1883ba44544b3057abd5df8fb5049",
    "m013_task_steps_and_call_results":
        "fea0fa9ffb60c81d4c6828ae5d48f44c82413736056942432a173e63d8899c13",
    "m014_sms_ledger_optouts":
        "a11387b3e9d9ba26a1593468a7625924053fd8719df9e2b633451be62bfb6cb7",
    "m015_task_contact_day":
        "fb9b3c6684892e2efc4eca932ed4906b5ff68351dde024299515c639fd5a1189",
    "m016_complaints_actions_lost_reasons":
        "9648a615e258e0e7e599fad19cbb32032cdfef5ee92ba5fe238f55dea26a4faf",
    "m017_calls_report_index":
        "807e68eb141bc15f2551cddcea9fa8a9c3a37d03a8284fbed70e4a9bf9d03482",
    "m018_forgotten_and_text_caps":
        "0330693efd087e0addac35418dd1c3cc7e7f45fb837bd6c95824da6d54e6d0dd",
    "m019_field_sources_and_merges":
        "60545adc190d58c6c064374a317e368ed02e475f8ce1fba129499e183330df6d",
    "m020_order_contacts":
        "ed6e97e32dd1aa46a1c1efe0e8b7a537f6d861d68cf430631788c6e6dd6d49d4",
    "m021_last_maintenance_columns":
        "16c42e635da1c310c59518f1204e3a165a2ebd930ee0887022511c3b72301bec",
    "m022_facts_on_insert":
        "b77ea08e1c417bac1825103f25d802aca57a10432331eba32c0195658bf9a048",
    "m023_order_owners_for_now":
        "11d9dd91bc9239b89ed0c3101102af2d725dd3b277427cc60d2d45990551d4f0",
}

HOW_TO_ADD = (
    "{name} is a new migration: once it is final, pin it by adding this line to SHIPPED"
    " in tests/test_migrations_frozen.py:\n    {line}")
HOW_TO_FIX = (
    "{name} changed after it shipped (databases made by earlier releases ran the old text)."
    " Put the edit back and make the change in a new migration, the next free number, in"
    " crmcli/migrations.py.")


def digest(fn) -> str:
    return hashlib.sha256(inspect.getsource(fn).encode("utf-8")).hexdigest()


def current() -> dict[str, str]:
    return {m.name: digest(m.fn) for m in migrations.MIGRATIONS._migrations}


def test_every_shipped_migration_is_unchanged():
    now = current()
    for name, pinned in SHIPPED.items():
        assert name in now, f"{name} was removed or renamed: a shipped migration stays"
        assert now[name] == pinned, HOW_TO_FIX.format(name=name)


def test_every_migration_is_pinned():
    new = [name for name in current() if name not in SHIPPED]
    lines = "\n".join(
        HOW_TO_ADD.format(name=name, line=f'"{name}":\n        "{current()[name]}",') for name in new)
    assert not new, lines


def test_migrations_are_numbered_in_order_without_gaps():
    names = [m.name for m in migrations.MIGRATIONS._migrations]
    assert [int(n[1:4]) for n in names] == list(range(1, len(names) + 1))


def test_a_migration_carries_its_own_sql():
    # Live code imported inside a migration changes what an old file gets: each migration's
    # SQL is text inside migrations.py, and migrations.py imports nothing of the product's
    # at module level.
    for m in migrations.MIGRATIONS._migrations:
        body = inspect.getsource(m.fn)
        assert not re.search(r"^\s*(from\s+\S+\s+)?import\s", body, re.MULTILINE), m.name
    top = inspect.getsource(migrations).split("\n@MIGRATIONS()")[0]
    assert not re.search(r"^from \.|^import crmcli|^from crmcli", top, re.MULTILINE)
