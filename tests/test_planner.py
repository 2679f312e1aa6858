"""Planning a day: idempotent, withdraws, expires, merges, respects consent; today's order."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path

import store
from typer.testing import CliRunner

from crmcli import planner
from crmcli.cli import app
from crmcli.settings import DEFAULTS

DAY = date(2026, 11, 26)  # a Thursday


def settings(**planning):
    s = copy.deepcopy(DEFAULTS)
    s["planning"].update(planning)
    return s


def tasks(db, where="1=1"):
    return db.conn.execute(f"SELECT kind, state, due_date, channel, reason, merged_into, id"
                           f" FROM tasks WHERE {where} ORDER BY id").fetchall()


def test_planning_twice_creates_nothing_new(db):
    c = store.customer(db)
    v = store.vehicle(db, c, delivery_date="2026-11-23")
    store.order(db, v, c, "2026-11-23", "repair")
    first = planner.plan(db, DAY, settings(contact_window_days=0))
    assert first.created >= 2
    before = tasks(db)
    again = planner.plan(db, DAY, settings(contact_window_days=0), force=True)
    assert (again.created, again.updated, again.withdrawn) == (0, 0, 0)
    assert tasks(db) == before
    # Without force, an unchanged day is recognised and skipped.
    assert planner.plan(db, DAY, settings(contact_window_days=0)).skipped


def test_reimporting_the_same_files_plans_nothing_new(tmp_path):
    runner = CliRunner()
    sample = Path(__file__).resolve().parent.parent / "sample_data"
    # As of the day the sample was made for, whatever the real date.
    day = ["--date", "2026-11-26"]
    runner.invoke(app, ["import", "vehicles", str(sample / "delivery_list.xlsx"), *day])
    runner.invoke(app, ["import", "orders", str(sample / "dms_orders.xlsx"), *day])
    runner.invoke(app, ["plan", "--date", "2026-11-26"])
    from crmcli import db as dbmod

    database = dbmod.connect()
    n = database.conn.execute("SELECT count(*) FROM tasks").fetchone()[0]
    assert n > 50
    runner.invoke(app, ["import", "orders", str(sample / "dms_orders.xls"), *day])
    r = runner.invoke(app, ["plan", "--date", "2026-11-26", "--json"])
    assert json.loads(r.stdout)["created"] == 0
    assert database.conn.execute("SELECT count(*) FROM tasks").fetchone()[0] == n


def test_maintenance_done_before_the_reminder_withdraws_it(db):
    c = store.customer(db)
    v = store.vehicle(db, c)
    store.order(db, v, c, "2026-07-01", "maintenance", mileage=10000)
    store.order(db, v, c, "2026-09-01", "maintenance", mileage=17000)
    # 7,000 km in 62 days, ~113 km/day: 7,500 km more take 67 days -> due 2026-11-07; the
    # reminder 7 days ahead, 2026-10-31, open until 2026-11-30.
    planner.plan(db, DAY, settings())
    (kind, state, due, *_rest) = tasks(db, "kind='regular_maintenance'")[0]
    assert (state, due) == ("open", "2026-10-31")
    store.order(db, v, c, "2026-11-20", "maintenance", mileage=33000, order_no="RO-NEW")
    planner.plan(db, DAY, settings(), force=True)
    rows = db.conn.execute("SELECT state, state_reason FROM tasks WHERE kind='regular_maintenance'"
                           ).fetchall()
    assert rows == [("withdrawn",
                     "came in for maintenance on 2026-11-20 (RO-NEW) before the reminder")]


def test_post_repair_not_done_by_day_15_is_missed(db):
    c = store.customer(db)
    v = store.vehicle(db, c)
    store.order(db, v, c, "2026-11-23", "repair")
    planner.plan(db, DAY, settings())
    assert tasks(db, "kind='post_repair'")[0][1] == "open"
    planner.plan(db, date(2026, 12, 8), settings())
    assert tasks(db, "kind='post_repair'")[0][1] == "open"  # the last day it can be done
    planner.plan(db, date(2026, 12, 9), settings())
    state, reason = db.conn.execute("SELECT state, state_reason FROM tasks WHERE kind='post_repair'"
                                    ).fetchone()
    assert (state, reason) == ("missed", "not done by 2026-12-08")


def test_close_contacts_merge_into_the_heavier_one(db):
    c = store.customer(db)
    v = store.vehicle(db, c, insurance_compulsory_expiry="2026-12-27")  # due 2026-11-27
    store.order(db, v, c, "2026-11-23", "repair")  # post-repair due 2026-11-26
    planner.plan(db, DAY, settings(contact_window_days=3))
    rows = {r[0]: r for r in tasks(db)}
    lead, merged = rows["post_repair"], rows["insurance_compulsory"]
    assert lead[1] == "open" and merged[1] == "merged" and merged[5] == lead[6]
    (item,) = planner.today_list(db, DAY, settings(contact_window_days=3))["tasks"]
    assert [c["reason"] for c in item["carries"]] == ["交强险 expires 2026-12-27"]
    # With no window, both stand alone.
    db.conn.execute("DELETE FROM tasks")
    planner.plan(db, DAY, settings(contact_window_days=0), force=True)
    assert {r[1] for r in tasks(db)} == {"open"}


def test_fixed_day_greeting_only_merges_on_its_own_day(db):
    c = store.customer(db, birthday="1980-11-27")
    v = store.vehicle(db, c)
    store.order(db, v, c, "2026-11-23", "repair")
    planner.plan(db, DAY, settings(contact_window_days=3))
    got = {r[0]: r[1] for r in tasks(db)}
    assert got == {"post_repair": "open", "birthday": "open"}


def test_refused_callbacks_get_no_calls_and_sms_call_keeps_its_sms(db):
    c = store.customer(db, callback_consent=0)
    v = store.vehicle(db, c, insurance_compulsory_expiry="2026-12-27")
    store.order(db, v, c, "2026-11-23", "repair")
    planner.plan(db, DAY, settings(contact_window_days=0))
    assert [(r[0], r[3]) for r in tasks(db)] == [("insurance_compulsory", "sms")]


def test_sms_optout_drops_sms_only_contacts(db):
    c = store.customer(db, birthday="1980-11-26")
    db.conn.execute("INSERT INTO optouts (customer_id, what, since, reason)"
                    " VALUES (?, 'sms', '2026-01-01', 'asked')", (c,))
    store.vehicle(db, c, insurance_compulsory_expiry="2026-12-27")
    planner.plan(db, DAY, settings(contact_window_days=0))
    assert [(r[0], r[3]) for r in tasks(db)] == [("insurance_compulsory", "call")]


def test_today_lists_overdue_first_then_by_urgency(db):
    s = settings(contact_window_days=0)
    c1, c2, c3 = store.customer(db, "甲"), store.customer(db, "乙"), store.customer(db, "丙")
    v1, v2, v3 = store.vehicle(db, c1), store.vehicle(db, c2), store.vehicle(db, c3)
    store.order(db, v1, c1, "2026-11-20", "repair")  # post-repair due 11-23: overdue 3 days
    store.order(db, v2, c2, "2026-11-23", "repair")  # due today, weight 80
    store.order(db, v3, c3, "2026-10-27", "repair", advice="建议更换轮胎")  # advice due 11-26, 40
    planner.plan(db, DAY, s)
    items = planner.today_list(db, DAY, s)["tasks"]
    assert [(i["name"], i["kind"], i["overdue_days"]) for i in items] == [
        ("甲", "post_repair", 3), ("乙", "post_repair", 0), ("丙", "advice_followup", 0)]


def test_sms_call_shows_as_sms_the_day_before_and_call_on_the_day(db):
    s = settings(contact_window_days=0)
    c = store.customer(db)
    store.vehicle(db, c, insurance_compulsory_expiry="2026-12-27")  # due 2026-11-27
    planner.plan(db, DAY, s)
    (item,) = planner.today_list(db, DAY, s)["tasks"]
    assert (item["step"], item["due_date"]) == ("sms", "2026-11-27")
    planner.plan(db, date(2026, 11, 27), s)
    (item,) = planner.today_list(db, date(2026, 11, 27), s)["tasks"]
    assert item["step"] == "call"


def test_last_working_day_before_national_day_shows_the_days_off(db):
    # The State Council notice for 2025: 2025-10-01..10-08 off, 2025-10-11 (Sat) worked.
    s = settings(contact_window_days=0)
    c = store.customer(db)
    v = store.vehicle(db, c)
    store.order(db, v, c, "2025-10-02", "repair")  # post-repair due 2025-10-05
    day = date(2025, 9, 30)
    planner.plan(db, day, s)
    data = planner.today_list(db, day, s)
    assert data["days_off"][0] == "2025-10-01" and data["days_off"][-1] == "2025-10-08"
    # National Day and Mid-Autumn (2025-10-06 in the almanac) greetings fall in the break too.
    assert [(i["due_date"], i["kind"]) for i in data["days_off_tasks"]] == [
        ("2025-10-01", "holiday"), ("2025-10-05", "post_repair"), ("2025-10-06", "holiday")]


def test_today_cli_json_and_table(sample_db):
    runner = CliRunner()
    r = runner.invoke(app, ["today", "--date", "2026-11-26", "--json"])
    assert r.exit_code == 0
    items = json.loads(r.stdout)
    assert items and {"id", "kind", "channel", "due_date", "customer", "phone", "plate",
                      "reason"} <= set(items[0])
    assert any(i["kind"] == "post_repair" for i in items)
    r = runner.invoke(app, ["today", "--date", "2026-11-26", "--kind", "post_repair"])
    assert r.exit_code == 0 and "tasks: post-repair callback" in r.stdout
    zh = runner.invoke(app, ["today", "--date", "2026-11-26", "--kind", "修后回访"],
                       env={"CRMCLI_LANG": "zh_CN"})
    assert zh.exit_code == 0 and "共 " in zh.stdout and "修后回访" in zh.stdout


def test_sample_data_gives_a_nonempty_today_on_any_day_ahead(sample_db):
    runner = CliRunner()
    from datetime import timedelta

    for n in range(0, 3 * 365, 37):
        day = date(2026, 11, 26) + timedelta(days=n)
        r = runner.invoke(app, ["today", "--date", day.isoformat(), "--json"])
        assert r.exit_code == 0 and json.loads(r.stdout), day


def test_looking_at_a_future_day_closes_nothing_as_missed(db):
    c = store.customer(db)
    v = store.vehicle(db, c)
    store.order(db, v, c, "2026-11-23", "repair")
    planner.plan(db, DAY, settings(), as_of=DAY)
    planner.plan(db, date(2027, 3, 1), settings(), as_of=DAY)  # a peek months ahead
    assert tasks(db, "kind='post_repair'")[0][1] == "open"
    planner.plan(db, date(2026, 12, 9), settings(), as_of=date(2026, 12, 9))
    assert tasks(db, "kind='post_repair'")[0][1] == "missed"


def test_a_vehicle_sold_takes_its_open_reminders_to_the_new_owner(db):
    old = store.customer(db, "张伟")
    v = store.vehicle(db, old, insurance_compulsory_expiry="2026-12-27")
    planner.plan(db, DAY, settings(contact_window_days=0))
    new = store.customer(db, "李娜")
    db.conn.execute("UPDATE vehicles SET customer_id=? WHERE id=?", (new, v))
    planner.plan(db, DAY, settings(contact_window_days=0), force=True)
    assert db.conn.execute("SELECT customer_id, state FROM tasks").fetchall() == [(new, "open")]


def test_refusal_is_the_reason_given_for_withdrawn_calls(db):
    c = store.customer(db)
    v = store.vehicle(db, c)
    store.order(db, v, c, "2026-06-01", "maintenance", mileage=10000)
    store.order(db, v, c, "2026-10-27", "repair", advice="建议更换轮胎")
    planner.plan(db, DAY, settings(contact_window_days=0))
    db.conn.execute("UPDATE customers SET callback_consent=0, updated_at='x'")
    db.conn.execute("INSERT INTO changes (entity, entity_id, field, changed_at) VALUES"
                    " ('customer', 1, 'callback_consent', 'x')")
    planner.plan(db, DAY, settings(contact_window_days=0))
    reasons = {r for (r,) in db.conn.execute("SELECT state_reason FROM tasks WHERE state='withdrawn'")}
    assert reasons == {"the customer refused callbacks"}


def test_today_json_is_the_day_only(db):
    # Friday 2026-11-27: a birthday on Saturday shows in the days-off table, not in the JSON.
    c = store.customer(db, birthday="1980-11-28")
    assert c
    runner = CliRunner()
    r = runner.invoke(app, ["today", "--date", "2026-11-27", "--json"])
    assert json.loads(r.stdout) == []
    r = runner.invoke(app, ["today", "--date", "2026-11-27"])
    assert "Falling due on the days off" in r.stdout and "birthday" in r.stdout


def test_a_day_looked_at_ahead_closes_what_expired_when_the_day_comes(db):
    c = store.customer(db)
    v = store.vehicle(db, c)
    store.order(db, v, c, "2026-11-11", "repair")  # the callback is open until the 26th
    planner.plan(db, DAY, settings(), as_of=DAY)
    assert tasks(db, "kind='post_repair'")[0][1] == "open"
    tomorrow = date(2026, 11, 27)
    planner.plan(db, tomorrow, settings(), as_of=DAY)  # tomorrow, looked at today
    assert tasks(db, "kind='post_repair'")[0][1] == "open"
    again = planner.plan(db, tomorrow, settings(), as_of=tomorrow)  # tomorrow has come
    assert not again.skipped and again.missed == 1
    assert tasks(db, "kind='post_repair'")[0][1] == "missed"
    assert planner.plan(db, tomorrow, settings(), as_of=tomorrow).skipped


def test_an_imported_warranty_end_plans_the_check_without_a_delivery_date(db):
    # No delivery date, the warranty ends 2026-12-20: the check is due 30 days before
    # (2026-11-20) and open until the end, so planning 11-26 makes it; a car whose
    # warranty ends 2027-01-10 (check due 12-11) gets none yet.
    c = store.customer(db)
    store.vehicle(db, c, warranty_end="2026-12-20")
    other = store.customer(db, name="李娜")
    store.vehicle(db, other, warranty_end="2027-01-10")
    planner.plan(db, DAY, settings())
    rows = db.conn.execute("SELECT customer_id, due_date, expires_on FROM tasks"
                           " WHERE kind = 'warranty_check'").fetchall()
    assert rows == [(c, "2026-11-20", "2026-12-20")]


def test_the_counts_say_what_this_run_did(db):
    # A reminder due a day after a post-repair call is combined into it once; later runs
    # that leave it combined do not count it as "merged" again.
    s = settings(contact_window_days=3)
    c = store.customer(db)
    v = store.vehicle(db, c, insurance_compulsory_expiry="2026-12-27")  # due 2026-11-27
    store.order(db, v, c, "2026-11-23", "repair")  # post-repair due 2026-11-26
    first = planner.plan(db, DAY, s)
    assert (first.created, first.merged) == (2, 1)
    again = planner.plan(db, DAY, s, force=True)
    assert (again.created, again.updated, again.merged, again.withdrawn, again.missed) == (
        0, 0, 0, 0, 0)
    assert again.open == first.open == 1
    # A second car of the same customer, its insurance due the same day: one more combined.
    v2 = store.vehicle(db, c, insurance_compulsory_expiry="2026-12-27")
    assert v2
    third = planner.plan(db, DAY, s, force=True)
    assert (third.created, third.merged) == (1, 1)
    assert db.conn.execute("SELECT count(*) FROM tasks WHERE state='merged'").fetchone()[0] == 2


def test_plan_from_the_command_line_reports_no_merges_when_nothing_changed(sample_db):
    runner = CliRunner()
    first = json.loads(runner.invoke(app, ["plan", "--date", "2026-11-26", "--json"]).stdout)
    merged = sample_db.conn.execute("SELECT count(*) FROM tasks WHERE state='merged'"
                                    ).fetchone()[0]
    assert first["merged"] == merged > 0
    r = runner.invoke(app, ["plan", "--date", "2026-11-26", "--force"])
    assert r.exit_code == 0
    assert "0 new, 0 updated, 0 merged, 0 withdrawn, 0 missed" in r.stdout
