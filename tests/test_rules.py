"""Each care contact's timing, against hand-computed dates and published calendar facts."""

from __future__ import annotations

import copy
from datetime import date

import pytest

from crmcli import rules
from crmcli.rules import CustomerFacts, OrderFacts, VehicleFacts, Visit
from crmcli.settings import DEFAULTS

CARE = DEFAULTS["care"]
INSPECTION = DEFAULTS["inspection_rules"]


def vehicle(**kw) -> VehicleFacts:
    base = dict(id=1, customer_id=7, plate="粤B12345", delivery=None, usage="private",
                insurance_compulsory=None, insurance_commercial=None, inspection_due=None,
                last_maintenance=None, last_visit=None, first_km=None, last_km=None)
    base.update(kw)
    return VehicleFacts(**base)


def by_kind(cands):
    return {c.kind: c for c in cands}


@pytest.mark.parametrize("changes,expected", [
    # DOMAIN.md's cadence: the care SMS on day 3, the questionnaire call on day 7.
    ({}, {"welcome_sms": (date(2026, 11, 23), "sms"),
          "delivery_questionnaire": (date(2026, 11, 27), "call")}),
    # Timings are settings: a dealer's day-2 SMS, day-10 call, and the old day-3 call on.
    ({"welcome_sms": {"days_after": 2}, "delivery_questionnaire": {"days_after": 10},
      "delivery_call": {"enabled": True}},
     {"welcome_sms": (date(2026, 11, 22), "sms"), "delivery_call": (date(2026, 11, 23), "call"),
      "delivery_questionnaire": (date(2026, 11, 30), "call")}),
])
def test_delivery_cadence_sms_day_3_questionnaire_day_7(changes, expected):
    care = copy.deepcopy(CARE)
    for kind, cfg in changes.items():
        care[kind].update(cfg)
    got = by_kind(rules.delivery_contacts(vehicle(delivery=date(2026, 11, 20)), care))
    assert {k: (c.due, c.channel) for k, c in got.items()} == expected


@pytest.mark.parametrize("service_type,expected", [("repair", 1), ("maintenance", 1),
                                                   ("free_check", 0)])
def test_post_repair_due_day_3_open_until_day_15(service_type, expected):
    o = OrderFacts(5, "RO1", 1, 7, date(2026, 11, 23), service_type, None, None)
    got = rules.post_repair(o, CARE)
    assert len(got) == expected
    if got:
        assert (got[0].due, got[0].expires) == (date(2026, 11, 26), date(2026, 12, 8))


def test_first_maintenance_by_default_mileage_before_six_months():
    # 5,000 km at the default 40 km/day: 125 days after 2026-11-20 is 2027-03-25,
    # before six months (2027-05-20).
    # The reminder goes 7 days ahead (the lead time): 2027-03-18, saying when and how far.
    got = rules.first_maintenance(vehicle(delivery=date(2026, 11, 20)), CARE, 40)
    assert got[0].due == date(2027, 3, 18)
    assert got[0].reason.startswith("first maintenance due 2027-03-25 or at 5,000 km: ")
    # A slow driver (10 km/day over their own visits) is due by time instead.
    slow = vehicle(delivery=date(2026, 1, 1), first_km=(date(2026, 1, 1), 10),
                   last_km=(date(2026, 3, 2), 610))
    assert rules.first_maintenance(slow, CARE, 40)[0].due == date(2026, 6, 24)
    # A lead time of 0 reminds on the due day itself.
    assert rules.first_maintenance(slow, {**CARE, "first_maintenance": {
        **CARE["first_maintenance"], "lead_days": 0}}, 40)[0].due == date(2026, 7, 1)
    # Done already: no reminder.
    done = vehicle(delivery=date(2026, 1, 1),
                   last_maintenance=Visit(date(2026, 4, 1), 4000, 3, "RO3"))
    assert rules.first_maintenance(done, CARE, 40) == []


def test_regular_maintenance_by_predicted_mileage_with_its_reason():
    # 15,000 km in the 365 days before the last maintenance: 41.1 km/day; 7,500 km
    # more takes 183 days -> 2026-11-01, a day before six months (2026-11-02).
    v = vehicle(last_maintenance=Visit(date(2026, 5, 2), 18400, 9, "RO9"),
                first_km=(date(2025, 5, 2), 3400), last_km=(date(2026, 5, 2), 18400))
    (c,) = rules.regular_maintenance(v, CARE, 40)
    assert c.due == date(2026, 10, 25)  # 7 days ahead
    assert c.reason == ("regular maintenance due 2026-11-01 or at 25,900 km: last 2026-05-02"
                        " at 18,400 km, ~41 km/day, predicted 25,921 km on 2026-11-01;"
                        " interval 6 months / 7,500 km")
    assert c.key == "regular_maintenance:v1:o9"  # counts from the maintenance done


def test_insurance_policies_are_separate_tasks_30_days_ahead():
    v = vehicle(insurance_compulsory=date(2027, 1, 10), insurance_commercial=date(2027, 2, 1))
    got = by_kind(rules.insurance(v, CARE))
    assert got["insurance_compulsory"].due == date(2026, 12, 11)
    assert got["insurance_commercial"].due == date(2027, 1, 2)


def test_inspection_rhythm_by_usage_and_age():
    private = vehicle(delivery=date(2020, 3, 1))
    assert rules.inspection_dates(private, INSPECTION, date(2033, 1, 1)) == [
        date(2022, 3, 1), date(2024, 3, 1), date(2026, 3, 1), date(2028, 3, 1),
        date(2030, 3, 1), date(2031, 3, 1), date(2032, 3, 1)]
    commercial = vehicle(delivery=date(2020, 3, 1), usage="commercial")
    assert rules.inspection_dates(commercial, INSPECTION, date(2026, 6, 1)) == [
        date(2021, 3, 1), date(2022, 3, 1), date(2023, 3, 1), date(2024, 3, 1),
        date(2025, 3, 1), date(2025, 9, 1), date(2026, 3, 1)]
    imported = vehicle(delivery=date(2020, 3, 1), inspection_due=date(2026, 12, 15))
    assert rules.inspection_dates(imported, INSPECTION, date(2029, 1, 1)) == [
        date(2026, 12, 15), date(2028, 12, 15)]


def cust(**kw) -> CustomerFacts:
    base = dict(id=7, birthday=None, lunar_birthday=None, occupation=None, last_visit=None)
    base.update(kw)
    return CustomerFacts(**base)


@pytest.mark.parametrize("kw,start,end,expected", [
    # 29 February is greeted on 28 February in a common year.
    ({"birthday": date(1988, 2, 29)}, date(2027, 2, 27), date(2027, 3, 1), [date(2027, 2, 28)]),
    ({"birthday": date(1988, 2, 29)}, date(2028, 2, 27), date(2028, 3, 1), [date(2028, 2, 29)]),
    # Lunar 8/15 is Mid-Autumn: 2026-09-25 in the published almanac.
    ({"lunar_birthday": "08-15"}, date(2026, 9, 1), date(2026, 9, 30), [date(2026, 9, 25)]),
    # Born in leap 4th month (2020 had one): greeted on the ordinary 4/15, 2025-05-12.
    ({"lunar_birthday": "L04-15"}, date(2025, 5, 1), date(2025, 6, 30), [date(2025, 5, 12)]),
    # Both known and on different days: two greetings.
    ({"birthday": date(1990, 9, 20), "lunar_birthday": "08-15"}, date(2026, 9, 1),
     date(2026, 9, 30), [date(2026, 9, 20), date(2026, 9, 25)]),
])
def test_birthdays_solar_and_lunar(kw, start, end, expected):
    assert [c.due for c in rules.birthdays(cust(**kw), CARE, start, end)] == expected


def test_same_day_solar_and_lunar_birthday_is_one_sms():
    # 1990-10-03 was lunar 8/15 (Mid-Autumn 1990); in 2026 lunar 8/15 is 09-25, so
    # pick a year where they meet: solar 09-25 and lunar 08-15 both on 2026-09-25.
    got = rules.birthdays(cust(birthday=date(1990, 9, 25), lunar_birthday="08-15"), CARE,
                          date(2026, 9, 20), date(2026, 9, 30))
    assert len(got) == 1 and "lunar" in got[0].reason and "born" in got[0].reason


def test_holidays_teachers_day_only_for_teachers():
    hols = rules.holidays_between(date(2027, 2, 1), date(2027, 9, 30), CARE["holiday"]["holidays"])
    keys = {h.key: h.date for h in hols}
    assert keys["spring_festival"] == date(2027, 2, 6)  # published: 2027-02-06
    assert keys["teachers_day"] == date(2027, 9, 10)
    plain = {c.key.split(":")[1] for c in rules.holiday_greetings(cust(occupation="司机"), CARE, hols)}
    teacher = {c.key.split(":")[1] for c in rules.holiday_greetings(cust(occupation="中学教师"),
                                                                     CARE, hols)}
    assert "teachers_day" not in plain and "teachers_day" in teacher


def test_recovery_every_90_days_after_a_year_away():
    c = cust(last_visit=date(2025, 6, 1))
    assert rules.recovery(c, CARE, date(2026, 3, 1)) == []
    dues = [x.due for x in rules.recovery(c, CARE, date(2026, 11, 26))]
    assert dues == [date(2026, 8, 30), date(2026, 11, 28)]


def test_advice_followup_unless_the_car_came_back():
    o = OrderFacts(5, "RO1", 1, 7, date(2026, 10, 1), "repair", "建议更换刹车片", None)
    assert rules.advice_followup(o, CARE)[0].due == date(2026, 10, 31)
    back = OrderFacts(5, "RO1", 1, 7, date(2026, 10, 1), "repair", "建议更换刹车片",
                      date(2026, 10, 20))
    assert rules.advice_followup(back, CARE) == []


def test_km_per_day_needs_two_readings_30_days_apart():
    # 8,000 km in 200 days: 40 km/day of its own, told apart from a default of 25.
    v = vehicle(first_km=(date(2026, 1, 1), 10000), last_km=(date(2026, 7, 20), 18000))
    assert rules.km_per_day(v, 25) == (40.0, True)
    close = vehicle(first_km=(date(2026, 1, 1), 10000), last_km=(date(2026, 1, 20), 10900))
    assert rules.km_per_day(close, 33) == (33.0, False)


@pytest.mark.parametrize("start,months,expected", [
    (date(2026, 8, 31), 6, date(2027, 2, 28)),
    (date(2024, 1, 31), 1, date(2024, 2, 29)),  # 2024 is a leap year
    (date(2023, 12, 15), 1, date(2024, 1, 15)),
    (date(2026, 5, 2), 6, date(2026, 11, 2)),
    (date(2026, 3, 31), -1, date(2026, 2, 28)),
])
def test_add_months_clamps_to_the_month_end(start, months, expected):
    assert rules.add_months(start, months) == expected


def test_rules_skip_occurrences_outside_the_window():
    v = vehicle(delivery=date(2026, 11, 20), insurance_compulsory=date(2027, 6, 1))
    window = (date(2026, 11, 25), date(2026, 11, 27))  # the SMS of 11-23 was open to 11-24
    assert [c.kind for c in rules.delivery_contacts(v, CARE, window)] == [
        "delivery_questionnaire"]
    assert rules.insurance(v, CARE, window) == []
    assert len(rules.insurance(v, CARE)) == 1


def test_a_crawling_odometer_falls_back_to_the_default_and_never_overflows():
    # 1 km in 44 days (a misread odometer): not a rhythm; the default (here 25 km/day) is used.
    v = vehicle(delivery=date(2026, 1, 1), first_km=(date(2026, 1, 1), 8533),
                last_km=(date(2026, 2, 14), 8534))
    assert rules.km_per_day(v, 25) == (25.0, False)
    # At 25 km/day every warranty point is reached by time first: 30 days before 6, 12, 24
    # and 36 months (100,000 km would take 4,000 days, capped at 3,660: still later).
    assert [c.due for c in rules.warranty_checks(v, CARE, 25)] == [
        date(2026, 6, 1), date(2026, 12, 2), date(2027, 12, 2), date(2028, 12, 2)]
    # A default of 0 km/day is raised to 3 (5,000 km in 1,667 days): six months come first.
    assert rules.first_maintenance(v, CARE, 0)[0].due == date(2026, 6, 24)  # 7 days ahead


def _vin(year_code: str, valid: bool = True) -> str:
    """The textbook VIN 1M8GDM9AXKP042788 with another model-year character, its check
    digit worked out again (or spoiled)."""
    from crmcli.normalize import vin_check_digit

    body = "1M8GDM9A0" + year_code + "P042788"
    check = vin_check_digit(body)
    if not valid:
        check = "1" if check != "1" else "2"
    return body[:8] + check + body[9:]


@pytest.mark.parametrize("delivery,purchase,vin,years,source", [
    (date(2020, 3, 1), date(2019, 1, 1), _vin("K"), 6, "delivered 2020-03-01"),
    (None, date(2024, 11, 27), _vin("K"), 1, "bought 2024-11-27"),
    (None, date(2024, 11, 26), None, 2, "bought 2024-11-26"),
    # 'K' is 1989 or 2019: the latest not after next year.
    (None, None, "1M8GDM9AXKP042788", 7, "model year 2019 (VIN)"),
    (None, None, _vin("T"), 0, "model year 2026 (VIN)"),   # 1996 or 2026
    (None, None, _vin("V"), 0, "model year 2027 (VIN)"),   # next year's models are on sale
    (None, None, _vin("W"), 28, "model year 1998 (VIN)"),  # 2028 is too far ahead
    (None, None, _vin("A"), 16, "model year 2010 (VIN)"),
    (None, None, _vin("9"), 17, "model year 2009 (VIN)"),
    (None, None, _vin("K", valid=False), None,
     "unknown: no delivery or purchase date, no valid VIN"),
    (None, None, _vin("0"), None, "unknown: no delivery or purchase date, no valid VIN"),
])
def test_vehicle_age_and_its_source(delivery, purchase, vin, years, source):
    age = rules.vehicle_age(delivery, purchase, vin, date(2026, 11, 26))
    assert (age.years, age.source) == (years, source)


def test_the_inspection_rhythm_of_a_car_without_a_delivery_date_follows_its_vin():
    # Imported inspection due 2026-12-10, model year 2010 (16 years old): every 6 months.
    v = vehicle(inspection_due=date(2026, 12, 10), built=date(2010, 1, 1))
    assert rules.inspection_dates(v, INSPECTION, date(2027, 7, 1)) == [
        date(2026, 12, 10), date(2027, 6, 10)]
    # Without the VIN's year the car counts as new: the next one two years on.
    young = vehicle(inspection_due=date(2026, 12, 10))
    assert rules.inspection_dates(young, INSPECTION, date(2029, 1, 1)) == [
        date(2026, 12, 10), date(2028, 12, 10)]
