"""Who is one person on one phone number: the title rule for short names, pinned.

README/merge docstring: titles (先生, 女士, 小姐, 太太) are set aside; a surname with a
title ('张先生', '欧阳女士': up to 2 characters before the title) matches any name with
that surname. A longer name with a title must match the whole name.
"""

from __future__ import annotations

from datetime import date

import messy
import pytest

from crmcli import customers, importing
from crmcli.importing import same_person


@pytest.mark.parametrize(("a", "b", "same"), [
    ("张伟", "张伟", True),
    ("张伟", "张伟先生", True),        # a title is set aside
    ("张伟女士", "张伟小姐", True),
    ("张先生", "张伟", True),          # a 1-character surname with a title
    ("张伟", "张太太", True),          # either side
    ("欧阳女士", "欧阳娜娜", True),    # a 2-character surname with a title
    ("欧阳娜娜", "欧阳小姐", True),
    ("欧阳娜女士", "欧阳娜娜", False),  # 3 characters before the title: the whole name counts
    ("欧阳娜娜", "欧阳娜先生", False),
    ("张伟", "张三", False),
    ("张先生", "李伟", False),
    ("张", "张伟", False),             # no title: a prefix alone is not the same person
    ("张伟", "张", False),
    ("先生", "张先生", False),         # a title alone is not a name
])
def test_same_person(a, b, same):
    assert bool(same_person(a, b)) == same and bool(same_person(b, a)) == same


# --------------------------------------------------------------------------- re-imports
# What a later export that says more (or something else) about a customer or car already
# on file must do to the stored record (README: every field knows where its value came
# from; a clerk's edit > a column of the file > the ID number; each net change is logged
# in `changes`; a row that changed anything is counted updated, not unchanged).

TODAY = date(2026, 11, 26)
VIN_A = "LFV2A21K6E3066018"        # check digit worked by hand (see test_import_misses)
VIN_B = "LSVAU2187N2183270"        # check digit worked by hand
VIN_A_TYPO = "LFV2A21K6E3066O18"   # an O for a 0: not a valid VIN
ID_F = "11010519491231002X"        # GB 11643's own example: female, born 1949-12-31


def _delivery(db, tmp_path, name, header, rows):
    return importing.import_file(db, messy.write_xlsx(tmp_path / name, [header] + rows),
                                 "vehicles", today=TODAY)


def _one(db, sql, *args):
    return db.conn.execute(sql, args).fetchone()


def _changes(db, field):
    return db.conn.execute("SELECT entity, old_value, new_value FROM changes"
                           " WHERE field = ? ORDER BY id", (field,)).fetchall()


def test_a_later_file_with_gender_and_birthday_columns_fills_them_in(db, tmp_path):
    base = ["客户姓名", "手机号码", "车架号", "车牌号", "交车日期"]
    _delivery(db, tmp_path, "a.xlsx", base, [["王芳", "13812345678", VIN_A, "粤B12345",
                                               "2026-01-10"]])
    r = _delivery(db, tmp_path, "b.xlsx", base + ["性别", "生日"],
                  [["王芳", "13812345678", VIN_A, "粤B12345", "2026-01-10", "女", "1990-05-06"]])
    assert (r.inserted, r.updated) == (0, 1)
    assert _one(db, "SELECT gender, gender_source, birthday, birthday_source FROM customers") \
        == ("F", "column", "1990-05-06", "column")
    assert _changes(db, "gender") == [("customer", None, "F")]
    assert _changes(db, "birthday") == [("customer", None, "1990-05-06")]


def test_a_later_file_with_the_id_number_gives_gender_and_birthday(db, tmp_path):
    base = ["客户姓名", "手机号码", "车架号", "车牌号", "交车日期"]
    _delivery(db, tmp_path, "a.xlsx", base, [["王芳", "13812345678", VIN_A, "粤B12345",
                                               "2026-01-10"]])
    r = _delivery(db, tmp_path, "b.xlsx", base + ["身份证号"],
                  [["王芳", "13812345678", VIN_A, "粤B12345", "2026-01-10", ID_F]])
    assert (r.inserted, r.updated) == (0, 1)
    assert _one(db, "SELECT gender, gender_source, birthday, birthday_source FROM customers") \
        == ("F", "id", "1949-12-31", "id")
    assert _changes(db, "gender") == [("customer", None, "F")]
    assert _changes(db, "gender_source") == [("customer", None, "id")]
    assert _changes(db, "birthday") == [("customer", None, "1949-12-31")]
    assert _changes(db, "birthday_source") == [("customer", None, "id")]


@pytest.mark.parametrize(("extra", "value"), [("身份证号", ID_F), ("生日", "农历八月十五")])
def test_a_row_whose_only_change_is_the_address_is_updated(db, tmp_path, extra, value):
    # The ID number (or the lunar birthday) says what the file said before: the row is
    # still a changed row because its address changed.
    header = ["客户姓名", "手机号码", "车架号", "车牌号", "地址", extra]
    _delivery(db, tmp_path, "a.xlsx", header, [["王芳", "13812345678", VIN_A, "粤B12345",
                                                 "广州市天河路1号", value]])
    r = _delivery(db, tmp_path, "b.xlsx", header, [["王芳", "13812345678", VIN_A, "粤B12345",
                                                    "广州市中山路2号", value]])
    assert (r.inserted, r.updated, r.unchanged) == (0, 1, 0)
    assert _one(db, "SELECT address FROM customers") == ("广州市中山路2号",)


def test_another_mobile_for_the_car_and_owner_is_kept_as_one_of_theirs(db, tmp_path):
    # merge.find_customer 1.: one car and its owner's name are one customer; a number
    # not on file is kept as one of the owner's, the main number stays.
    header = ["客户姓名", "手机号码", "车架号", "车牌号"]
    _delivery(db, tmp_path, "a.xlsx", header, [["王芳", "13812345678", VIN_A, "粤B12345"]])
    r = _delivery(db, tmp_path, "b.xlsx", header, [["王芳", "13912345678", VIN_A, "粤B12345"]])
    assert (r.inserted, r.updated, r.unchanged) == (0, 1, 0)
    assert db.conn.execute("SELECT mobile, phone_kind, other_phones FROM customers").fetchall() \
        == [("13812345678", "mobile", "13912345678")]


def test_a_mobile_after_a_landline_becomes_the_main_number(db, tmp_path):
    # _add_number: texts go to mobiles only, so a mobile replaces a landline as the main
    # number and the landline joins the other numbers.
    header = ["客户姓名", "手机号码", "车架号", "车牌号"]
    _delivery(db, tmp_path, "a.xlsx", header, [["王芳", "020-87654321", VIN_A, "粤B12345"]])
    r = _delivery(db, tmp_path, "b.xlsx", header, [["王芳", "13912345678", VIN_A, "粤B12345"]])
    assert (r.inserted, r.updated, r.unchanged) == (0, 1, 0)
    assert db.conn.execute("SELECT mobile, phone_kind, other_phones FROM customers").fetchall() \
        == [("13912345678", "mobile", "02087654321")]


def test_a_new_plate_for_the_same_vin_is_stored_and_counted(db, tmp_path):
    header = ["客户姓名", "手机号码", "车架号", "车牌号", "车型"]
    _delivery(db, tmp_path, "a.xlsx", header, [["王芳", "13812345678", VIN_A, "粤B12345",
                                                 "朗逸"]])
    r = _delivery(db, tmp_path, "b.xlsx", header, [["王芳", "13812345678", VIN_A, "粤A88888",
                                                    "朗逸"]])
    assert (r.inserted, r.updated, r.unchanged) == (0, 1, 0)
    assert _one(db, "SELECT vin, plate FROM vehicles") == (VIN_A, "粤A88888")


def test_a_new_model_is_an_update_whatever_comes_after_it(db, tmp_path):
    header = ["客户姓名", "手机号码", "车架号", "车牌号", "车型", "交车日期"]
    _delivery(db, tmp_path, "a.xlsx", header, [["王芳", "13812345678", VIN_A, "粤B12345",
                                                 "朗逸", "2026-01-10"]])
    r = _delivery(db, tmp_path, "b.xlsx", header, [["王芳", "13812345678", VIN_A, "粤B12345",
                                                    "朗逸Plus", "2026-01-10"]])
    assert (r.inserted, r.updated, r.unchanged) == (0, 1, 0)
    assert _one(db, "SELECT model FROM vehicles") == ("朗逸Plus",)


def test_a_valid_vin_replaces_a_stored_invalid_one(db, tmp_path):
    header = ["客户姓名", "手机号码", "车架号", "车牌号"]
    r = _delivery(db, tmp_path, "a.xlsx", header, [["王芳", "13812345678", VIN_A_TYPO,
                                                    "粤B12345"]])
    # the row is flagged for the clerk, with what it is looked up by and whose it is
    [p] = r.problems
    assert (p.field, p.plate) == ("vin", "粤B12345")
    assert p.vehicle_id == _one(db, "SELECT id FROM vehicles")[0]
    assert p.customer_id == customers.get_one(db, "13812345678")["id"]
    _delivery(db, tmp_path, "b.xlsx", header, [["王芳", "13812345678", VIN_A, "粤B12345"]])
    assert db.conn.execute("SELECT vin, plate FROM vehicles").fetchall() == [(VIN_A, "粤B12345")]
    assert _changes(db, "vin") == [("vehicle", VIN_A_TYPO, VIN_A)]


def test_a_car_found_by_plate_without_a_vin_gets_the_vin(db, tmp_path):
    header = ["客户姓名", "手机号码", "车架号", "车牌号"]
    _delivery(db, tmp_path, "a.xlsx", header, [["王芳", "13812345678", "", "粤B12345"]])
    _delivery(db, tmp_path, "b.xlsx", header, [["王芳", "13812345678", VIN_A, "粤B12345"]])
    assert db.conn.execute("SELECT vin, plate FROM vehicles").fetchall() == [(VIN_A, "粤B12345")]


def test_an_invalid_plate_does_not_replace_a_valid_one(db, tmp_path):
    header = ["客户姓名", "手机号码", "车架号", "车牌号"]
    _delivery(db, tmp_path, "a.xlsx", header, [["王芳", "13812345678", VIN_A, "粤B12345"]])
    _delivery(db, tmp_path, "b.xlsx", header, [["王芳", "13812345678", VIN_A, "粤B1"]])
    assert db.conn.execute("SELECT vin, plate FROM vehicles").fetchall() == [(VIN_A, "粤B12345")]


def test_a_clerks_gender_stands_against_the_id_number_of_a_later_file(db, tmp_path):
    # Precedence: a clerk's edit > a column of the file > the ID number.
    base = ["客户姓名", "手机号码", "车架号", "车牌号"]
    _delivery(db, tmp_path, "a.xlsx", base, [["王芳", "13812345678", VIN_A, "粤B12345"]])
    cid = customers.get_one(db, "13812345678")["id"]
    customers.edit(db, cid, {"gender": "M"}, by="clerk")
    _delivery(db, tmp_path, "b.xlsx", base + ["身份证号"],
              [["王芳", "13812345678", VIN_A, "粤B12345", ID_F]])
    assert _one(db, "SELECT gender, gender_source FROM customers") == ("M", "edit")


def test_a_lunar_birthday_the_export_changes_again_replaces_the_clerks(db, tmp_path):
    # A clerk's edit stands until an export brings new information (README).
    header = ["客户姓名", "手机号码", "车架号", "车牌号", "生日"]
    _delivery(db, tmp_path, "a.xlsx", header, [["王芳", "13812345678", VIN_A, "粤B12345",
                                                 "农历八月十五"]])
    cid = customers.get_one(db, "13812345678")["id"]
    # the clerk sets both birthdays (the solar one makes the birthdays the clerk's)
    customers.edit(db, cid, {"birthday": "1990-10-05", "lunar_birthday": "08-16"}, by="clerk")
    _delivery(db, tmp_path, "b.xlsx", header, [["王芳", "13812345678", VIN_A, "粤B12345",
                                                 "农历八月十五"]])
    assert _one(db, "SELECT lunar_birthday FROM customers") == ("08-16",)  # nothing new
    _delivery(db, tmp_path, "c.xlsx", header, [["王芳", "13812345678", VIN_A, "粤B12345",
                                                 "农历八月十七"]])
    assert _one(db, "SELECT lunar_birthday FROM customers") == ("08-17",)
    assert [e for e, _old, new in _changes(db, "lunar_birthday") if new == "08-17"] \
        == ["customer"]


def test_the_usage_an_owners_name_suggests_fills_a_gap_only(db, tmp_path):
    # parse guesses a car's usage from an organisation's name when the file has no usage
    # column; the guess never replaces a usage on file.
    with_usage = ["客户姓名", "手机号码", "车架号", "车牌号", "使用性质"]
    without = ["客户姓名", "手机号码", "车架号", "车牌号"]
    _delivery(db, tmp_path, "a.xlsx", with_usage, [["市第一人民医院", "13812345678", VIN_A,
                                                     "粤B12345", "营运"]])
    _delivery(db, tmp_path, "b.xlsx", without, [["市第一人民医院", "13812345678", VIN_A,
                                                  "粤B12345"]])
    assert _one(db, "SELECT usage, usage_source FROM vehicles") == ("commercial", "import")


def test_the_guessed_usage_of_a_car_on_file_is_logged_as_a_vehicle_change(db, tmp_path):
    with_usage = ["客户姓名", "手机号码", "车架号", "车牌号", "使用性质"]
    without = ["客户姓名", "手机号码", "车架号", "车牌号"]
    # A private owner's car (no usage known) passes to a hospital: the later file's
    # owner name gives the car on file its usage.
    _delivery(db, tmp_path, "a.xlsx", with_usage, [["张伟", "13812345678", VIN_A,
                                                     "粤B12345", ""]])
    _delivery(db, tmp_path, "b.xlsx", without, [["市第一人民医院", "13912345678", VIN_A,
                                                  "粤B12345"]])
    assert _one(db, "SELECT usage, usage_source FROM vehicles") == ("official", "guess")
    assert _changes(db, "usage") == [("vehicle", None, "official")]


def test_a_third_number_beats_the_clerks_corrected_one_and_is_counted(db, tmp_path):
    # find_customer 4.: the owner whose number a clerk corrected is the row's customer
    # when the names agree ('王女士' is 王芳 with a title); the export's new number is new
    # information, so it replaces the clerk's, and the row is an updated row.
    header = ["客户姓名", "手机号码", "车架号", "车牌号"]
    _delivery(db, tmp_path, "a.xlsx", header, [["王芳", "13812345678", VIN_A, "粤B12345"]])
    cid = customers.get_one(db, "13812345678")["id"]
    customers.edit(db, cid, {"mobile": "13712345678"}, by="clerk")
    r = _delivery(db, tmp_path, "b.xlsx", header, [["王女士", "13912345678", VIN_A, "粤B12345"]])
    assert (r.inserted, r.updated, r.unchanged) == (0, 1, 0)
    assert db.conn.execute("SELECT id, mobile, phone_kind FROM customers").fetchall() \
        == [(cid, "13912345678", "mobile")]


def test_a_car_that_changes_hands_keeps_its_past_owner_and_an_older_row_does_not_take_it_back(
        db, tmp_path, monkeypatch):
    monkeypatch.setenv("CRMCLI_USER", "小李")
    header = ["客户姓名", "手机号码", "车架号", "车牌号", "交车日期"]
    _delivery(db, tmp_path, "a.xlsx", header, [["张伟", "13812345678", VIN_A, "粤B12345",
                                                 "2026-01-10"]])
    _delivery(db, tmp_path, "b.xlsx", header, [["李四", "13912345678", VIN_A, "粤B12345",
                                                 "2026-06-01"]])
    zhang = customers.get_one(db, "13812345678")["id"]
    li = customers.get_one(db, "13912345678")["id"]
    assert _changes(db, "customer_id") == [("vehicle", str(zhang), str(li))]
    assert _one(db, "SELECT DISTINCT by_user FROM changes") == ("小李",)
    # an older export again, with another car: 张伟's row is older than 李四's
    r = _delivery(db, tmp_path, "c.xlsx", header, [
        ["张伟", "13812345678", VIN_A, "粤B12345", "2026-01-10"],
        ["王芳", "13712345678", VIN_B, "粤B54321", "2026-02-02"]])
    assert r.inserted == 1
    assert db.conn.execute(
        "SELECT o.customer_id, o.since, o.until FROM vehicle_owners o JOIN vehicles v"
        " ON v.id = o.vehicle_id WHERE v.vin = ? ORDER BY o.since", (VIN_A,)).fetchall() \
        == [(zhang, "2026-01-10", "2026-06-01"), (li, "2026-06-01", None)]
    assert _one(db, "SELECT customer_id FROM vehicles WHERE vin = ?", VIN_A) == (li,)


def test_a_row_with_another_valid_vin_and_a_known_plate_is_another_car(db, tmp_path):
    # The plate finds a car only when the car on file has no VIN or an invalid one.
    header = ["客户姓名", "手机号码", "车架号", "车牌号"]
    _delivery(db, tmp_path, "a.xlsx", header, [["张伟", "13812345678", VIN_A, "粤B12345"]])
    r = _delivery(db, tmp_path, "b.xlsx", header, [["张伟", "13812345678", VIN_B, "粤B12345"]])
    assert r.inserted == 1
    assert db.conn.execute("SELECT vin FROM vehicles ORDER BY vin").fetchall() \
        == [(VIN_A,), (VIN_B,)]
    assert _one(db, "SELECT plate FROM vehicles WHERE vin = ?", VIN_A) == ("粤B12345",)


def test_two_rows_of_one_car_in_a_delivery_list_the_later_wins_and_says_so(db, tmp_path):
    header = ["客户姓名", "手机号码", "车架号", "车牌号", "车型"]
    r = _delivery(db, tmp_path, "a.xlsx", header, [["张伟", "13812345678", VIN_A, "粤B12345", "朗逸"],
                                                    ["张伟", "13812345678", VIN_A, "粤B12345", "速腾"]])
    assert (r.inserted, r.superseded) == (1, 1)
    assert [v for _row, v in r.verdicts if v.startswith("superseded")] \
        == ["superseded by row 3 (same vehicle)"]
    assert _one(db, "SELECT model FROM vehicles") == ("速腾",)


def test_a_name_fills_a_customer_on_file_without_one_and_never_replaces_one(db, tmp_path):
    header = ["客户姓名", "手机号码", "车架号", "车牌号"]
    _delivery(db, tmp_path, "a.xlsx", header, [["", "13812345678", VIN_A, "粤B12345"]])
    _delivery(db, tmp_path, "b.xlsx", header, [["王芳", "13812345678", VIN_A, "粤B12345"]])
    assert db.conn.execute("SELECT name, callback_consent FROM customers").fetchall() \
        == [("王芳", 1)]
    assert _changes(db, "name") == [("customer", None, "王芳")]
    _delivery(db, tmp_path, "c.xlsx", header, [["王女士", "13812345678", VIN_A, "粤B12345"]])
    assert db.conn.execute("SELECT name FROM customers").fetchall() == [("王芳",)]


def test_two_namesakes_without_a_number_on_two_cars_are_two_customers(db, tmp_path):
    # customer_key: without a number, a name and its car are the customer.
    header = ["客户姓名", "手机号码", "车架号", "车牌号"]
    _delivery(db, tmp_path, "a.xlsx", header, [["张伟", "", "", "粤B12345"],
                                                ["张伟", "", "", "粤B54321"]])
    assert _one(db, "SELECT count(*) FROM customers") == (2,)


def test_a_number_for_a_customer_on_file_without_one_becomes_the_main_number(db, tmp_path):
    header = ["客户姓名", "手机号码", "车架号", "车牌号"]
    _delivery(db, tmp_path, "a.xlsx", header, [["张伟", "", VIN_A, "粤B12345"]])
    _delivery(db, tmp_path, "b.xlsx", header, [["张伟", "13812345678", VIN_A, "粤B12345"]])
    assert db.conn.execute("SELECT mobile, phone_kind, other_phones FROM customers").fetchall() \
        == [("13812345678", "mobile", None)]
    assert _changes(db, "phone_kind") == [("customer", None, "mobile")]


def test_a_number_kept_for_one_customer_finds_them_though_another_has_it_as_main(db, tmp_path):
    # preload: a number kept as one of a customer's other numbers finds that customer
    # too; 李四 having the same number as his main one does not hide 王芳.
    header = ["客户姓名", "手机号码", "车架号", "车牌号"]
    _delivery(db, tmp_path, "a.xlsx", header, [["王芳", "13812345678", VIN_A, "粤B12345"]])
    _delivery(db, tmp_path, "b.xlsx", header, [["王芳", "13912345678", VIN_A, "粤B12345"]])
    _delivery(db, tmp_path, "c.xlsx", header, [["李四", "13912345678", VIN_B, "粤B54321"]])
    _delivery(db, tmp_path, "d.xlsx", header, [["王芳", "13912345678", "", "粤B67890"]])
    assert db.conn.execute("SELECT name, mobile, other_phones FROM customers ORDER BY id"
                           ).fetchall() == [("王芳", "13812345678", "13912345678"),
                                            ("李四", "13912345678", None)]


def test_a_corrected_first_service_date_replaces_the_old_one(db, tmp_path):
    header = ["客户姓名", "手机号码", "车架号", "车牌号", "首保日期"]
    _delivery(db, tmp_path, "a.xlsx", header, [["王芳", "13812345678", VIN_A, "粤B12345",
                                                 "2026-03-01"]])
    r = _delivery(db, tmp_path, "b.xlsx", header, [["王芳", "13812345678", VIN_A, "粤B12345",
                                                    "2026-03-05"]])
    assert r.updated == 1
    assert _one(db, "SELECT first_maintenance_date FROM vehicles") == ("2026-03-05",)


def test_a_delivery_list_is_merged_by_date_so_the_newest_address_stays(db, tmp_path):
    # merge_rows merges rows by date, whatever order the DMS listed them in: the
    # customer's address is the one of the newest delivery.
    header = ["客户姓名", "手机号码", "车架号", "车牌号", "交车日期", "地址"]
    _delivery(db, tmp_path, "a.xlsx", header, [
        ["王芳", "13812345678", VIN_A, "粤B12345", "2026-06-01", "广州市中山路2号"],
        ["王芳", "13812345678", VIN_B, "粤B54321", "2026-01-01", "广州市天河路1号"]])
    assert db.conn.execute("SELECT address FROM customers").fetchall() == [("广州市中山路2号",)]


def test_a_customer_without_a_number_is_found_again_by_name_and_car(db, tmp_path):
    # customer_key: without a number, a name and its car (VIN first) are the customer;
    # a later file naming them again with that car finds them, whoever owns it now.
    header = ["客户姓名", "手机号码", "车架号", "车牌号"]
    _delivery(db, tmp_path, "a.xlsx", header, [["张伟", "", VIN_A, "粤B12345"]])
    _delivery(db, tmp_path, "b.xlsx", header, [["李四", "13912345678", VIN_A, "粤B12345"]])
    _delivery(db, tmp_path, "c.xlsx", header, [["张伟", "", VIN_A, "粤B12345"]])
    assert db.conn.execute("SELECT name FROM customers ORDER BY id").fetchall() \
        == [("张伟",), ("李四",)]
