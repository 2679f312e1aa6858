"""Every rule's whole output pinned, and every boundary one day (or one unit) either side.

The expected candidates are written out field by field from the rules as the
README, DOMAIN.md and the docstrings state them, with the default settings
(``settings.CARE_DEFAULTS``: channel, weight and days open per kind); the
arithmetic is worked in the comments. The default km/day is given as 25 here,
not the product's default 40, so that a rule that ignores the setting shows.
"""

from __future__ import annotations

import copy
from datetime import date

import pytest

from crmcli import rules
from crmcli.calendar import Holiday
from crmcli.rules import Candidate, CustomerFacts, OrderFacts, VehicleFacts, Visit
from crmcli.settings import DEFAULTS

CARE = DEFAULTS["care"]
D = date
KMPD = 25  # the default km/day these tests pass: not the product's 40


def care(**off: bool) -> dict:
    """The default care settings with the named kinds switched off."""
    c = copy.deepcopy(CARE)
    for kind in off:
        c[kind]["enabled"] = False
    return c


def vehicle(**kw) -> VehicleFacts:
    base = {"id": 1, "customer_id": 7, "plate": "粤B12345", "delivery": None, "usage": "private",
            "insurance_compulsory": None, "insurance_commercial": None, "inspection_due": None,
            "last_maintenance": None, "last_visit": None, "first_km": None, "last_km": None}
    base.update(kw)
    return VehicleFacts(**base)


def order(**kw) -> OrderFacts:
    base = {"id": 5, "order_no": "RO1", "vehicle_id": 1, "customer_id": 7, "day": D(2026, 11, 23),
            "service_type": "repair", "advice": None, "vehicle_last_visit": D(2026, 11, 23)}
    base.update(kw)
    return OrderFacts(**base)


def customer(**kw) -> CustomerFacts:
    base = {"id": 7, "birthday": None, "lunar_birthday": None, "occupation": None,
            "last_visit": None}
    base.update(kw)
    return CustomerFacts(**base)


# ------------------------------------------------------------------ small helpers


@pytest.mark.parametrize(("start", "months", "expected"), [
    (D(2026, 1, 28), 1, D(2026, 2, 28)),   # the 28th exists in every month: no clamp
    (D(2026, 1, 29), 1, D(2026, 2, 28)),   # clamped to February's end
    (D(2028, 1, 29), 1, D(2028, 2, 29)),   # a leap February has the 29th
    (D(2026, 1, 30), 1, D(2026, 2, 28)),
    (D(2026, 3, 31), 1, D(2026, 4, 30)),
    (D(2026, 8, 31), 6, D(2027, 2, 28)),   # the docstring's example
    (D(2026, 11, 20), 2, D(2027, 1, 20)),  # across the year end
    (D(2026, 5, 31), 1, D(2026, 6, 30)),
    (D(2026, 6, 30), 1, D(2026, 7, 30)),   # a shorter day is never pushed to the month end
])
def test_add_months(start, months, expected):
    assert rules.add_months(start, months) == expected


@pytest.mark.parametrize(("end", "years"), [
    (D(2030, 3, 1), 10), (D(2030, 2, 28), 9), (D(2030, 3, 2), 10), (D(2020, 3, 1), 0)])
def test_years_between_counts_completed_years(end, years):
    assert rules.years_between(D(2020, 3, 1), end) == years


def test_iso_days_parse_once_and_give_none_for_nothing():
    days = rules.IsoDays()
    assert days["2026-11-20T10:30:00"] == D(2026, 11, 20)
    assert days["2026-11-20"] == D(2026, 11, 20)
    assert days[None] is None and days[""] is None
    assert dict(days) == {"2026-11-20T10:30:00": D(2026, 11, 20), "2026-11-20": D(2026, 11, 20),
                          None: None, "": None}


# ------------------------------------------------------------------ km/day


@pytest.mark.parametrize(("days", "km", "expected"), [
    (30, 90, 3.0),      # exactly 30 days apart and exactly 3 km/day: both bounds included
    (29, 2900, None),   # readings 29 days apart are too close, however far the car went
    (31, 93, 3.0),
    (30, 89, None),     # just under 3 km/day
    (200, 8000, 40.0),  # the docstring's example
    (60, 3000, 50.0),
])
def test_own_km_per_day_needs_readings_30_days_apart_and_3_km_a_day(days, km, expected):
    assert rules.own_km_per_day(days, km) == expected


def test_km_per_day_uses_the_cars_own_readings_only_when_both_exist():
    two = vehicle(first_km=(D(2026, 1, 1), 10_000), last_km=(D(2026, 1, 31), 11_500))
    assert rules.km_per_day(two, KMPD) == (50.0, True)        # 1,500 km / 30 days
    close = vehicle(first_km=(D(2026, 1, 1), 10_000), last_km=(D(2026, 1, 30), 11_500))
    assert rules.km_per_day(close, KMPD) == (25.0, False)     # 29 days apart: the default
    assert rules.km_per_day(vehicle(last_km=(D(2026, 1, 31), 11_500)), KMPD) == (25.0, False)
    assert rules.km_per_day(vehicle(first_km=(D(2026, 1, 1), 10_000)), KMPD) == (25.0, False)
    assert rules.km_per_day(vehicle(), 1) == (3.0, False)     # a default below 3 is raised to 3


def test_km_days_rounds_up_and_is_capped():
    assert rules.km_days(5000, 40) == 125
    assert rules.km_days(5000, 45) == 112        # 111.1 days: the 112th day
    assert rules.km_days(100_000, 3) == rules.MAX_KM_DAYS == 3660


# ------------------------------------------------------------------ delivery


def test_delivery_contacts_whole_candidates():
    # The new-car care SMS on day 3 (open one day), the questionnaire call on day 7 (open 14).
    v = vehicle(delivery=D(2026, 11, 20))
    sms = Candidate("welcome_sms", "welcome_sms:v1:2026-11-20", 7, 1, None, D(2026, 11, 23),
                    D(2026, 11, 24), "sms", 70, "new-car care SMS: delivered 2026-11-20")
    questionnaire = Candidate("delivery_questionnaire", "delivery_questionnaire:v1:2026-11-20",
                              7, 1, None, D(2026, 11, 27), D(2026, 12, 11), "call", 35,
                              "delivery day-7 questionnaire: delivered 2026-11-20")
    assert rules.delivery_contacts(v, CARE) == [sms, questionnaire]
    assert rules.delivery_contacts(vehicle(), CARE) == []
    # The day-3 call is off by default; a dealer who turns it on gets it on day 3, open 7 days.
    on = copy.deepcopy(CARE)
    on["delivery_call"]["enabled"] = True
    call = Candidate("delivery_call", "delivery_call:v1:2026-11-20", 7, 1, None, D(2026, 11, 23),
                     D(2026, 11, 30), "call", 75, "delivery day-3 call: delivered 2026-11-20")
    assert rules.delivery_contacts(v, on) == [sms, call, questionnaire]
    # One kind switched off leaves the others, including the ones after it.
    assert rules.delivery_contacts(v, care(welcome_sms=True)) == [questionnaire]


@pytest.mark.parametrize(("window", "kept"), [
    ((D(2026, 11, 24), D(2026, 11, 24)), True),    # open until 11-24: its last day is in
    ((D(2026, 11, 25), D(2026, 11, 30)), False),   # the window starts the day after it expired
    ((D(2026, 11, 24), D(2026, 11, 30)), True),
    ((D(2026, 11, 10), D(2026, 11, 23)), True),    # due on the window's last day
    ((D(2026, 11, 10), D(2026, 11, 22)), False),   # due the day after the window
])
def test_window_keeps_a_contact_that_is_due_or_open_in_it(window, kept):
    got = rules.delivery_contacts(vehicle(delivery=D(2026, 11, 20)), care(
        delivery_call=True, delivery_questionnaire=True), window=window)
    assert [c.kind for c in got] == (["welcome_sms"] if kept else [])


# ------------------------------------------------------------------ orders


def test_post_repair_whole_candidate():
    # Settled 11-23: day 3 is 11-26, open 12 more days until 12-08 (day 15).
    assert rules.post_repair(order(), CARE) == [Candidate(
        "post_repair", "post_repair:o5", 7, 1, 5, D(2026, 11, 26), D(2026, 12, 8), "call", 80,
        "post-repair callback: RO1 settled 2026-11-23 (repair)")]
    assert rules.post_repair(order(service_type=None), CARE)[0].reason == (
        "post-repair callback: RO1 settled 2026-11-23")
    assert rules.post_repair(order(service_type="free_check"), CARE) == []
    assert rules.post_repair(order(), care(post_repair=True)) == []
    assert rules.post_repair(order(), CARE, window=(D(2026, 12, 9), D(2026, 12, 31))) == []
    assert len(rules.post_repair(order(), CARE, window=(D(2026, 12, 8), D(2026, 12, 31)))) == 1


def test_advice_followup_whole_candidate_and_the_car_coming_back():
    advice = "更换前刹车片" * 11          # 66 characters: the reason shows the first 60
    o = order(advice=advice)
    assert rules.advice_followup(o, CARE) == [Candidate(
        "advice_followup", "advice_followup:o5", 7, 1, 5, D(2026, 12, 23), D(2027, 1, 6),
        "call", 40, f"declined advice on RO1 (2026-11-23): {advice[:60]}")]
    assert len(advice[:60]) == 60 and advice[:60] != advice[:61]
    # The last visit is the order itself: still followed up; a later visit: not.
    assert len(rules.advice_followup(o._replace(vehicle_last_visit=D(2026, 11, 23)), CARE)) == 1
    assert rules.advice_followup(o._replace(vehicle_last_visit=D(2026, 11, 24)), CARE) == []
    assert len(rules.advice_followup(o._replace(vehicle_last_visit=None), CARE)) == 1
    assert rules.advice_followup(order(advice=""), CARE) == []
    assert rules.advice_followup(o, care(advice_followup=True)) == []
    assert rules.advice_followup(o, CARE, window=(D(2027, 1, 7), D(2027, 1, 31))) == []


# ------------------------------------------------------------------ maintenance


def test_first_maintenance_whole_candidate_by_the_default_km_per_day():
    # 5,000 km at 25 km/day take 200 days (2027-06-08); six months come first: 2027-05-20.
    v = vehicle(delivery=D(2026, 11, 20))
    assert rules.first_maintenance(v, CARE, KMPD) == [Candidate(
        "first_maintenance", "first_maintenance:v1:2026-11-20", 7, 1, None, D(2027, 5, 13),
        D(2027, 6, 12), "sms_call", 60,
        "first maintenance due 2027-05-20 or at 5,000 km: delivered 2026-11-20, ~25 km/day"
        " (default), 5,000 km predicted on 2027-06-08; interval 6 months / 5,000 km")]
    # At the product's default of 40 km/day, 5,000 km come on day 125: 2027-03-25; the
    # reminder goes the lead time (7 days) ahead.
    assert rules.first_maintenance(v, CARE, 40)[0].due == D(2027, 3, 18)


def test_first_maintenance_by_the_cars_own_km_per_day():
    # 3,000 km in 60 days: 50 km/day, 5,000 km on day 100 = 2027-02-28.
    v = vehicle(delivery=D(2026, 11, 20), first_km=(D(2026, 11, 20), 10),
                last_km=(D(2027, 1, 19), 3010))
    (c,) = rules.first_maintenance(v, CARE, KMPD)
    assert (c.due, c.reason) == (D(2027, 2, 21), (
        "first maintenance due 2027-02-28 or at 5,000 km: delivered 2026-11-20, ~50 km/day"
        " (its own), 5,000 km predicted on 2027-02-28; interval 6 months / 5,000 km"))


def test_first_maintenance_only_while_none_was_done_since_delivery():
    done = Visit(D(2026, 11, 20), 10, 3, "RO3")
    assert rules.first_maintenance(vehicle(delivery=D(2026, 11, 20), last_maintenance=done),
                                   CARE, KMPD) == []   # done on the delivery day itself
    before = done._replace(day=D(2026, 11, 19))        # a PDI the day before delivery
    assert len(rules.first_maintenance(vehicle(delivery=D(2026, 11, 20), last_maintenance=before),
                                       CARE, KMPD)) == 1
    assert rules.first_maintenance(vehicle(), CARE, KMPD) == []
    assert rules.first_maintenance(vehicle(delivery=D(2026, 11, 20)),
                                   care(first_maintenance=True), KMPD) == []
    assert rules.first_maintenance(vehicle(delivery=D(2026, 11, 20)), CARE, KMPD,
                                   window=(D(2027, 6, 20), D(2027, 7, 1))) == []


LAST = Visit(D(2026, 5, 10), 20_000, 9, "RO9")


def test_regular_maintenance_by_the_cars_own_km_per_day():
    # 9,000 km in 120 days: 75 km/day; 7,500 km in 100 days (2026-08-18), before six months.
    v = vehicle(last_maintenance=LAST, first_km=(D(2026, 1, 10), 11_000),
                last_km=(D(2026, 5, 10), 20_000))
    assert rules.regular_maintenance(v, CARE, KMPD) == [Candidate(
        "regular_maintenance", "regular_maintenance:v1:o9", 7, 1, None, D(2026, 8, 11),
        D(2026, 9, 10), "sms_call", 50,
        "regular maintenance due 2026-08-18 or at 27,500 km: last 2026-05-10 at 20,000 km,"
        " ~75 km/day, predicted 27,500 km on 2026-08-18; interval 6 months / 7,500 km")]


def test_regular_maintenance_by_time_and_without_mileage():
    # 25 km/day: 7,500 km would take 300 days; six months (184 days) come first, when the car
    # has done about 25 x 184 = 4,600 km more.
    (c,) = rules.regular_maintenance(vehicle(last_maintenance=LAST), CARE, KMPD)
    assert (c.due, c.reason) == (D(2026, 11, 3), (
        "regular maintenance due 2026-11-10 or at 27,500 km: last 2026-05-10 at 20,000 km,"
        " ~25 km/day (default), predicted 24,600 km on 2026-11-10; interval 6 months /"
        " 7,500 km"))
    (c,) = rules.regular_maintenance(vehicle(last_maintenance=LAST._replace(km=None)), CARE, 400)
    assert (c.due, c.reason) == (D(2026, 11, 3), (
        "regular maintenance due 2026-11-10: last 2026-05-10 (no mileage recorded);"
        " interval 6 months"))
    assert rules.regular_maintenance(vehicle(), CARE, KMPD) == []
    assert rules.regular_maintenance(vehicle(last_maintenance=LAST),
                                     care(regular_maintenance=True), KMPD) == []
    assert rules.regular_maintenance(vehicle(last_maintenance=LAST), CARE, KMPD,
                                     window=(D(2026, 12, 11), D(2026, 12, 31))) == []


def test_warranty_checks_whole_candidates():
    # Points 6 m / 10,000 km, 12 m / 20,000, 24 m / 60,000, 36 m / 100,000; at 25 km/day time
    # comes first each time. The check is due 30 days before the point, open 30 days.
    v = vehicle(delivery=D(2026, 11, 20))

    def cand(months, km, point, due):
        return Candidate("warranty_check", f"warranty_check:v1:{months}m", 7, 1, None, due, point,
                         "sms_call", 50, f"warranty point {months} months / {km:,} km reached "
                         f"about {point} (~25 km/day): come for a check before it ends")

    assert rules.warranty_checks(v, CARE, KMPD) == [
        cand(6, 10_000, D(2027, 5, 20), D(2027, 4, 20)),
        cand(12, 20_000, D(2027, 11, 20), D(2027, 10, 21)),
        cand(24, 60_000, D(2028, 11, 20), D(2028, 10, 21)),
        cand(36, 100_000, D(2029, 11, 20), D(2029, 10, 21)),
    ]
    # A car doing 100 km/day reaches 10,000 km on day 100 (2027-02-28), before six months.
    fast = v._replace(first_km=(D(2026, 11, 20), 0), last_km=(D(2027, 1, 19), 6000))
    first = rules.warranty_checks(fast, CARE, KMPD)[0]
    assert (first.due, first.expires) == (D(2027, 1, 29), D(2027, 2, 28))
    assert "(~100 km/day)" in first.reason
    assert rules.warranty_checks(vehicle(), CARE, KMPD) == []
    assert rules.warranty_checks(v, care(warranty_check=True), KMPD) == []


@pytest.mark.parametrize(("window", "points"), [
    ((D(2027, 5, 20), D(2027, 6, 30)), ["6m"]),    # the 6-month check is open until 05-20
    ((D(2027, 5, 21), D(2027, 6, 30)), []),        # and over the day after
    ((D(2027, 1, 1), D(2027, 4, 20)), ["6m"]),     # due on the window's last day
    ((D(2027, 1, 1), D(2027, 4, 19)), []),         # due the day after the window
    ((D(2027, 5, 20), D(2027, 10, 21)), ["6m", "12m"]),
    # The 6-month check is over, the 12-month one is in the window: a check that is over
    # does not hide the ones after it.
    ((D(2027, 5, 21), D(2027, 10, 21)), ["12m"]),
    ((D(2027, 11, 21), D(2028, 10, 21)), ["24m"]),
])
def test_warranty_checks_in_a_window(window, points):
    got = rules.warranty_checks(vehicle(delivery=D(2026, 11, 20)), CARE, KMPD, window=window)
    assert [c.key.rsplit(":", 1)[1] for c in got] == points


# ------------------------------------------------------------------ expiries


def test_insurance_whole_candidates():
    v = vehicle(insurance_compulsory=D(2027, 3, 1), insurance_commercial=D(2027, 4, 15))
    compulsory = Candidate("insurance_compulsory", "insurance_compulsory:v1:2027-03-01", 7, 1,
                           None, D(2027, 1, 30), D(2027, 3, 1), "sms_call", 55,
                           "交强险 expires 2027-03-01")
    commercial = Candidate("insurance_commercial", "insurance_commercial:v1:2027-04-15", 7, 1,
                           None, D(2027, 3, 16), D(2027, 4, 15), "sms_call", 55,
                           "商业险 expires 2027-04-15")
    assert rules.insurance(v, CARE) == [compulsory, commercial]
    assert rules.insurance(v, care(insurance_compulsory=True)) == [commercial]
    assert rules.insurance(v._replace(insurance_compulsory=None), CARE) == [commercial]
    assert rules.insurance(v, CARE, window=(D(2027, 3, 2), D(2027, 3, 15))) == []


@pytest.mark.parametrize(("usage", "until", "expected"), [
    # Commercial: yearly while under 5 years, then every 6 months.
    ("commercial", D(2026, 9, 1), ["2021-03-01", "2022-03-01", "2023-03-01", "2024-03-01",
                                   "2025-03-01", "2025-09-01", "2026-03-01", "2026-09-01"]),
    ("commercial", D(2026, 8, 31), ["2021-03-01", "2022-03-01", "2023-03-01", "2024-03-01",
                                    "2025-03-01", "2025-09-01", "2026-03-01"]),
    # Private (and a usage the table does not know, or none): every 2 years under 10 years.
    ("private", D(2030, 3, 1), ["2022-03-01", "2024-03-01", "2026-03-01", "2028-03-01",
                                "2030-03-01"]),
    (None, D(2026, 3, 1), ["2022-03-01", "2024-03-01", "2026-03-01"]),
    ("rental", D(2026, 3, 1), ["2022-03-01", "2024-03-01", "2026-03-01"]),
])
def test_inspection_dates(usage, until, expected):
    v = vehicle(delivery=D(2020, 3, 1), usage=usage)
    got = rules.inspection_dates(v, DEFAULTS["inspection_rules"], until)
    assert [d.isoformat() for d in got] == expected


def test_inspection_dates_from_an_imported_due_date_and_past_the_table():
    table = {"private": [[0, 2, 24], [2, 4, 12], [4, 6, 3]]}
    # Without a delivery the imported date is the origin of the age too.
    got = rules.inspection_dates(vehicle(inspection_due=D(2026, 3, 31)), table, D(2029, 1, 1))
    assert got == [D(2026, 3, 31), D(2028, 3, 31)]
    # Past the table's last row (age 6 and more) its last rhythm (3 months) goes on.
    got = rules.inspection_dates(vehicle(delivery=D(2020, 1, 31)), table, D(2027, 1, 1))
    assert got == [D(2022, 1, 31), D(2023, 1, 31), D(2024, 1, 31), D(2024, 4, 30),
                   D(2024, 7, 31), D(2024, 10, 31), D(2025, 1, 31), D(2025, 4, 30),
                   D(2025, 7, 31), D(2025, 10, 31), D(2026, 1, 31), D(2026, 4, 30),
                   D(2026, 7, 31), D(2026, 10, 31)]
    assert rules.inspection_dates(vehicle(), table, D(2027, 1, 1)) == []


def test_inspection_whole_candidate_and_its_window():
    # Private car delivered 2024-12-10: inspection due 2026-12-10, reminder 15 days ahead
    # (2026-11-25), open 30 days (2026-12-25).
    v = vehicle(delivery=D(2024, 12, 10))
    rules_table = DEFAULTS["inspection_rules"]
    want = Candidate("inspection", "inspection:v1:2026-12-10", 7, 1, None, D(2026, 11, 25),
                     D(2026, 12, 25), "sms_call", 45, "annual inspection due 2026-12-10")
    assert rules.inspection(v, CARE, rules_table, D(2026, 11, 20), D(2026, 11, 25)) == [want]
    assert rules.inspection(v, CARE, rules_table, D(2026, 11, 20), D(2026, 11, 24)) == []
    assert rules.inspection(v, CARE, rules_table, D(2026, 12, 25), D(2026, 12, 31)) == [want]
    assert rules.inspection(v, CARE, rules_table, D(2026, 12, 26), D(2026, 12, 31)) == []
    assert rules.inspection(v, care(inspection=True), rules_table, D(2026, 11, 20),
                            D(2026, 11, 30)) == []
    # An inspection long past does not hide the next one.
    got = rules.inspection(v, CARE, rules_table, D(2026, 11, 20), D(2026, 11, 30),
                           dates=[D(2024, 12, 10), D(2026, 12, 10)])
    assert got == [want]
    # Dates the caller worked out already are used as given.
    other = [D(2026, 12, 1)]
    (c,) = rules.inspection(v, CARE, rules_table, D(2026, 11, 20), D(2026, 11, 30), dates=other)
    assert (c.key, c.due) == ("inspection:v1:2026-12-01", D(2026, 11, 16))


# ------------------------------------------------------------------ customer dates


def test_birthday_whole_candidate_and_the_range_bounds():
    c = customer(birthday=D(1990, 3, 5))
    want = Candidate("birthday", "birthday:c7:2026-03-05", 7, None, None, D(2026, 3, 5),
                     D(2026, 3, 5), "sms", 20, "birthday (born 1990-03-05)")
    assert rules.birthdays(c, CARE, D(2026, 3, 5), D(2026, 3, 5)) == [want]
    assert rules.birthdays(c, CARE, D(2026, 3, 6), D(2026, 12, 31)) == []
    assert rules.birthdays(c, CARE, D(2026, 1, 1), D(2026, 3, 4)) == []
    assert [x.due for x in rules.birthdays(c, CARE, D(2026, 12, 1), D(2027, 3, 10))] == [
        D(2027, 3, 5)]
    assert rules.birthdays(c, care(birthday=True), D(2026, 1, 1), D(2026, 12, 31)) == []


def test_lunar_birthday_labels_and_a_solar_one_on_the_same_day():
    # 农历八月十五 2026 is 2026-09-25 (Mid-Autumn). A birth on 闰六月初十 is greeted once a
    # year in the ordinary sixth month (calendar.py's stated rule): 2025's 六月初十 is
    # 2025-07-04 (the sixth month began 2025-06-25), not the leap month's 2025-08-03.
    got = rules.birthdays(customer(lunar_birthday="08-15"), CARE, D(2026, 9, 1), D(2026, 9, 30))
    assert [(x.due, x.reason) for x in got] == [(D(2026, 9, 25), "lunar birthday (8月15日)")]
    got = rules.birthdays(customer(lunar_birthday="L06-10"), CARE, D(2025, 7, 1), D(2025, 8, 31))
    assert [(x.due, x.reason) for x in got] == [(D(2025, 7, 4), "lunar birthday (闰6月10日)")]
    both = customer(birthday=D(1990, 9, 25), lunar_birthday="08-15")
    (x,) = rules.birthdays(both, CARE, D(2026, 9, 1), D(2026, 9, 30))
    assert (x.key, x.reason) == ("birthday:c7:2026-09-25",
                                 "birthday (born 1990-09-25) and lunar birthday (8月15日)")
    # A lunar birthday that cannot exist gives no greeting, not a crash.
    assert rules.birthdays(customer(lunar_birthday="13-01"), CARE, D(2026, 1, 1),
                           D(2026, 12, 31)) == []


def test_holidays_between_includes_both_ends_and_only_the_enabled():
    got = rules.holidays_between(D(2026, 10, 1), D(2026, 10, 1), ["national_day"])
    assert [(h.key, h.date) for h in got] == [("national_day", D(2026, 10, 1))]
    assert rules.holidays_between(D(2026, 10, 2), D(2026, 12, 31), ["national_day"]) == []
    assert rules.holidays_between(D(2026, 9, 1), D(2026, 9, 30), ["national_day"]) == []
    got = rules.holidays_between(D(2026, 9, 25), D(2027, 1, 1), ["mid_autumn", "new_year"])
    assert [(h.key, h.date) for h in got] == [("mid_autumn", D(2026, 9, 25)),
                                              ("new_year", D(2027, 1, 1))]


def test_holiday_greetings_whole_candidates_teachers_day_for_teachers_only():
    hols = [Holiday(D(2026, 9, 10), "teachers_day", "教师节", "Teachers' Day"),
            Holiday(D(2026, 10, 1), "national_day", "国庆节", "National Day")]
    national = Candidate("holiday", "holiday:national_day:2026-10-01:c7", 7, None, None,
                         D(2026, 10, 1), D(2026, 10, 1), "sms", 10, "国庆节 greeting")
    assert rules.holiday_greetings(customer(occupation="司机"), CARE, hols) == [national]
    assert rules.holiday_greetings(customer(), CARE, hols) == [national]
    got = rules.holiday_greetings(customer(occupation="中学教师"), CARE, hols)
    assert [x.key for x in got] == ["holiday:teachers_day:2026-09-10:c7",
                                    "holiday:national_day:2026-10-01:c7"]
    assert rules.holiday_greetings(customer(), care(holiday=True), hols) == []


def test_recovery_whole_candidates_and_when_they_start():
    # Last visit 2025-06-01, lost after 365 days: first call 2026-06-01, then every 90 days.
    # The next two calls are listed from 90 days before the first one (2026-03-03).
    c = customer(last_visit=D(2025, 6, 1))

    def call(n, due, days):
        return Candidate("recovery", f"recovery:c7:2025-06-01:{n}", 7, None, None, due,
                         due + (D(2026, 1, 31) - D(2026, 1, 1)), "call", 30,
                         f"lost customer: last visit 2025-06-01, {days} days before this call")

    assert rules.recovery(c, CARE, D(2026, 3, 3)) == [call(0, D(2026, 6, 1), 365),
                                                      call(1, D(2026, 8, 30), 455)]
    assert rules.recovery(c, CARE, D(2026, 3, 2)) == []
    assert rules.recovery(c, CARE, D(2026, 8, 29)) == [call(0, D(2026, 6, 1), 365),
                                                       call(1, D(2026, 8, 30), 455)]
    assert rules.recovery(c, CARE, D(2026, 8, 30)) == [call(1, D(2026, 8, 30), 455),
                                                       call(2, D(2026, 11, 28), 545)]
    assert rules.recovery(customer(), CARE, D(2026, 8, 30)) == []
    assert rules.recovery(c, care(recovery=True), D(2026, 8, 30)) == []


def test_an_imported_warranty_end_moves_the_last_point():
    # The dealer's record says the warranty ends 2029-06-30, not delivery + 36 months
    # (2029-11-20): the last check is due 30 days before that day; the earlier points
    # still count from delivery.
    v = vehicle(delivery=D(2026, 11, 20), warranty_end=D(2029, 6, 30))
    got = rules.warranty_checks(v, CARE, KMPD)
    assert [(c.key.rsplit(":", 1)[1], c.due, c.expires) for c in got] == [
        ("6m", D(2027, 4, 20), D(2027, 5, 20)),
        ("12m", D(2027, 10, 21), D(2027, 11, 20)),
        ("24m", D(2028, 10, 21), D(2028, 11, 20)),
        ("36m", D(2029, 5, 31), D(2029, 6, 30)),
    ]
    # No delivery date but a warranty end: that one check, by time alone.
    alone = rules.warranty_checks(vehicle(warranty_end=D(2027, 3, 1)), CARE, KMPD)
    assert [(c.key, c.due, c.expires, c.reason) for c in alone] == [
        ("warranty_check:v1:36m", D(2027, 1, 30), D(2027, 3, 1),
         "warranty ends 2027-03-01: come for a check before it ends")]
    # Its window, one day either side: due 01-30, open until 03-01.
    for window, n in (((D(2027, 1, 1), D(2027, 1, 29)), 0), ((D(2027, 1, 1), D(2027, 1, 30)), 1),
                      ((D(2027, 3, 1), D(2027, 3, 9)), 1), ((D(2027, 3, 2), D(2027, 3, 9)), 0)):
        got = rules.warranty_checks(vehicle(warranty_end=D(2027, 3, 1)), CARE, KMPD,
                                    window=window)
        assert len(got) == n, window


# ------------------------------------------------------------------ the survivors of the complete
# mutation run (issue 17): each test below tells the rule from a near miss of it.


def test_first_maintenance_by_the_dates_on_file():
    # An imported first-maintenance date alone: the date replaces six months (2027-05-20),
    # the km stay the settings' 5,000 (200 days at 25 km/day: 2027-06-08, later).
    v = vehicle(delivery=D(2026, 11, 20), first_maintenance=(D(2027, 4, 1), None))
    assert rules.first_maintenance(v, CARE, KMPD) == [Candidate(
        "first_maintenance", "first_maintenance:v1:2026-11-20", 7, 1, None, D(2027, 3, 25),
        D(2027, 4, 24), "sms_call", 60,
        "first maintenance due 2027-04-01 or at 5,000 km: delivered 2026-11-20, ~25 km/day"
        " (default), 5,000 km predicted on 2027-06-08; the dates on file")]
    # An imported km alone: 3,000 km at 25 km/day take 120 days (2027-03-20), before six
    # months; the reminder 7 days ahead (03-13), open 30 days.
    v = vehicle(delivery=D(2026, 11, 20), first_maintenance=(None, 3000))
    assert rules.first_maintenance(v, CARE, KMPD) == [Candidate(
        "first_maintenance", "first_maintenance:v1:2026-11-20", 7, 1, None, D(2027, 3, 13),
        D(2027, 4, 12), "sms_call", 60,
        "first maintenance due 2027-03-20 or at 3,000 km: delivered 2026-11-20, ~25 km/day"
        " (default), 3,000 km predicted on 2027-03-20; the dates on file")]


def test_warranty_check_by_the_end_date_alone_whole_candidate():
    # No delivery date, warranty ends 2027-03-01: due 30 days before (01-30), open until the
    # end; the customer and the car are the vehicle's own (ids other than 7 and 1 here).
    v = vehicle(id=4, customer_id=9, warranty_end=D(2027, 3, 1))
    assert rules.warranty_checks(v, CARE, KMPD) == [Candidate(
        "warranty_check", "warranty_check:v4:36m", 9, 4, None, D(2027, 1, 30), D(2027, 3, 1),
        "sms_call", 50, "warranty ends 2027-03-01: come for a check before it ends")]


@pytest.mark.parametrize(("window", "points"), [
    # 100 km/day: 10,000 km on day 100 (2027-02-28, check 01-29 to 02-28), 20,000 km on
    # day 200 (2027-06-08, check 05-09 to 06-08), both before their time limits.
    ((D(2027, 2, 28), D(2027, 6, 30)), ["6m", "12m"]),
    # The 6-month check, over by mileage although its time limit (05-20) is still ahead,
    # is left out, and the 12-month one after it is still there.
    ((D(2027, 3, 1), D(2027, 6, 30)), ["12m"]),
    ((D(2027, 3, 1), D(2027, 5, 8)), []),
])
def test_warranty_checks_over_by_mileage_in_a_window(window, points):
    fast = vehicle(delivery=D(2026, 11, 20), first_km=(D(2026, 11, 20), 0),
                   last_km=(D(2027, 1, 19), 6000))
    got = rules.warranty_checks(fast, CARE, KMPD, window=window)
    assert [c.key.rsplit(":", 1)[1] for c in got] == points


def test_recovery_calls_in_a_window():
    # On 2026-08-29 the calls are n=0 (due 06-01, open until 07-01) and n=1 (due 08-30).
    c = customer(last_visit=D(2025, 6, 1))
    got = rules.recovery(c, CARE, D(2026, 8, 29), window=(D(2026, 7, 2), D(2026, 9, 30)))
    assert [x.key for x in got] == ["recovery:c7:2025-06-01:1"]
    got = rules.recovery(c, CARE, D(2026, 8, 29), window=(D(2026, 7, 1), D(2026, 8, 29)))
    assert [x.key for x in got] == ["recovery:c7:2025-06-01:0"]


def test_inspection_dates_go_on_to_the_end_however_old_the_car():
    # Commercial, delivered 1950-01-01 (the oldest date an import takes): yearly to 1955,
    # then every 6 months; 2053-01-01 is the 201st due date and is listed.
    got = rules.inspection_dates(vehicle(delivery=D(1950, 1, 1), usage="commercial"),
                                 DEFAULTS["inspection_rules"], D(2053, 1, 1))
    assert got[:6] == [D(1951, 1, 1), D(1952, 1, 1), D(1953, 1, 1), D(1954, 1, 1),
                       D(1955, 1, 1), D(1955, 7, 1)]
    assert got[-2:] == [D(2052, 7, 1), D(2053, 1, 1)]
    assert len(got) == 5 + 2 * (2053 - 1955)


def test_inspection_dates_stop_at_a_row_of_no_months():
    # Monthly in the first year, then a row of 0 months (a slip in the settings): the
    # dates stop there rather than repeating one day or never ending.
    table = {"private": [[0, 1, 1], [1, 99, 0]]}
    got = rules.inspection_dates(vehicle(delivery=D(2020, 3, 1)), table, D(2030, 1, 1))
    assert got == [D(2020, m, 1) for m in range(4, 13)] + [D(2021, m, 1) for m in (1, 2, 3)]
    imported = vehicle(inspection_due=D(2026, 5, 1))
    assert rules.inspection_dates(imported, {"private": [[0, 99, 0]]}, D(2030, 1, 1)) == [
        D(2026, 5, 1)]


def test_birthdays_and_holidays_at_the_last_years_they_can_have():
    # The years looked at are those from start to end: a plan in the calendar's last
    # supported year (2099), or in the last year a date can have, still works.
    got = rules.holidays_between(D(2099, 10, 1), D(2099, 12, 31), ["national_day"])
    assert [(h.key, h.date) for h in got] == [("national_day", D(2099, 10, 1))]
    got = rules.birthdays(customer(birthday=D(1990, 3, 5)), CARE, D(9999, 3, 1), D(9999, 12, 31))
    assert [x.due for x in got] == [D(9999, 3, 5)]


def test_lunar_birthday_of_a_leap_month_reads_month_and_day():
    # 'L04-15' (闰四月十五) is greeted on the ordinary 四月十五: 2025-05-12.
    got = rules.birthdays(customer(lunar_birthday="L04-15"), CARE, D(2025, 5, 1), D(2025, 5, 31))
    assert [(x.due, x.reason) for x in got] == [(D(2025, 5, 12), "lunar birthday (闰4月15日)")]


def test_vehicle_age_counts_from_the_day_it_names():
    age = rules.vehicle_age(D(2020, 3, 1), D(2019, 1, 1), None, D(2026, 11, 26))
    assert age == (6, D(2020, 3, 1), "delivered 2020-03-01")
    age = rules.vehicle_age(None, D(2024, 11, 27), None, D(2026, 11, 26))
    assert age == (1, D(2024, 11, 27), "bought 2024-11-27")
    # Model year 2019 counts from 1 January 2019: 7 years on 2026-01-01, 6 the day before.
    vin = "1M8GDM9AXKP042788"
    assert rules.vehicle_age(None, None, vin, D(2026, 11, 26)).since == D(2019, 1, 1)
    assert rules.vehicle_age(None, None, vin, D(2026, 1, 1)).years == 7
    assert rules.vehicle_age(None, None, vin, D(2025, 12, 31)).years == 6
    assert rules.vehicle_age(None, None, vin, D(2026, 1, 31)).years == 7


@pytest.mark.parametrize("vin", [None, "", "1M8GDM9AXKP04278"])
def test_no_vin_or_a_short_one_gives_no_model_year(vin):
    assert rules.vin_model_year(vin, D(2026, 11, 26)) is None
    assert rules.vehicle_age(None, None, vin, D(2026, 11, 26)) == (
        None, None, "unknown: no delivery or purchase date, no valid VIN")
