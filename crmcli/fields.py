"""The fields an import understands, and the column headers that mean each.

DMS exports name the same column many ways (工单号 / 委托书号 / RO Number). A
header matches a field when, after ``header_key`` (half-width, lower case, no
spaces, no bracketed unit such as "(km)" or "（元）"), it equals one of the
field's aliases. Dealers add their own in the settings file::

    [import.aliases]
    order_no = ["单据编号"]
"""

from __future__ import annotations

import re

from .normalize import halfwidth

ORDER_FIELDS: dict[str, list[str]] = {
    "order_no": ["工单号", "工单编号", "委托书号", "委托书编号", "派工单号", "维修单号", "结算单号",
                 "ro", "ronumber", "rono", "repairorder", "repairorderno", "orderno", "ordernumber",
                 "workorder", "workorderno", "jobcard", "jobcardno", "jobno"],
    "plate": ["车牌号码", "车牌号", "车牌", "牌照号", "牌照号码", "plate", "plateno", "licenseplate",
              "licenceplate", "registration", "registrationno", "regno"],
    "vin": ["车架号", "底盘号", "vin", "vin码", "车辆识别代号", "车辆识别码", "vinno", "vinnumber",
            "chassis", "chassisno", "chassisnumber"],
    # The person the order names: whoever brought the car, its owner or not (the merge
    # tells which). A file with a 送修人 column besides one of these names the owner here
    # and who brought the car there; a file with 送修人 alone reads it as this column.
    "customer_name": ["客户名称", "客户姓名", "车主", "车主姓名", "客户", "customer",
                      "customername", "owner", "ownername", "name", "client", "clientname"],
    "mobile": ["联系电话", "手机号码", "手机号", "手机", "电话", "联系方式", "客户电话", "车主电话",
               "mobile", "phone", "tel", "mobileno", "mobilephone", "cellphone", "phoneno",
               "phonenumber", "telephone", "contactno", "contactnumber"],
    "contact_name": ["送修人", "送修人姓名", "送修人名称", "broughtby", "contactperson",
                     "contactname"],
    "contact_phone": ["送修人电话", "送修人手机", "送修人手机号", "送修人联系电话", "broughtbyphone",
                      "contactphone"],
    "date_in": ["进厂日期", "进厂时间", "入厂日期", "开单日期", "接车日期", "datein", "indate",
                "dateopened", "opendate", "opened", "checkindate", "arrivaldate", "datereceived"],
    "date_settled": ["结算日期", "结算时间", "出厂日期", "完工日期", "交车日期", "settleddate",
                     "datesettled", "date", "settled", "settledon", "settlementdate", "dateout",
                     "outdate", "closed", "closedate", "dateclosed", "completiondate"],
    "mileage": ["行驶里程", "进厂里程", "里程", "里程数", "公里数", "表显里程", "odometer",
                "mileage", "km", "kms", "odo", "odometerreading", "kilometres", "kilometers"],
    "service_type": ["维修类别", "维修类型", "工单类型", "业务类型", "服务类型", "servicetype",
                     "type", "jobtype", "rotype", "ordertype", "repairtype"],
    "items": ["维修项目", "维修内容", "作业项目", "项目", "items", "jobs", "workdone", "operations",
              "description"],
    "labour": ["工时费", "工时费用", "工时金额", "labour", "labor", "labourfee", "laborfee",
               "labourcost", "laborcost", "labouramount", "laboramount"],
    "parts": ["材料费", "配件费", "零件费", "材料金额", "parts", "partsfee", "partscost",
              "partsamount", "materials"],
    "total": ["合计金额", "总金额", "结算金额", "金额合计", "总计", "应收金额", "total", "amount",
              "totalamount", "grandtotal", "invoiceamount"],
    "advisor": ["服务顾问", "接待员", "服务专员", "sa", "advisor", "serviceadvisor", "saname"],
    "advice": ["维修建议", "建议项目", "客户未修项目", "advice", "declinedadvice"],
    "model": ["车型", "车型名称", "品牌车型", "车辆型号", "model", "vehiclemodel", "carmodel"],
}

VEHICLE_FIELDS: dict[str, list[str]] = {
    "customer_name": ["客户姓名", "客户名称", "车主", "车主姓名", "购车人", "客户", "customer",
                      "customername", "owner", "ownername", "name", "buyer", "client", "clientname"],
    "gender": ["性别", "gender", "sex"],
    "mobile": ["手机号码", "手机号", "手机", "联系电话", "电话", "联系方式", "mobile", "phone", "tel",
               "mobileno", "mobilephone", "cellphone", "phoneno", "phonenumber", "telephone",
               "contactno", "contactnumber"],
    "other_phones": ["其他电话", "备用电话", "固定电话", "座机", "家庭电话", "otherphone"],
    "id_number": ["身份证号", "身份证号码", "证件号码", "证件号", "idnumber", "idno", "idcard",
                  "idcardno", "nationalid"],
    "vin": ["车架号", "底盘号", "vin", "vin码", "车辆识别代号", "车辆识别码", "vinno", "vinnumber",
            "chassis", "chassisno", "chassisnumber"],
    "plate": ["车牌号", "车牌号码", "车牌", "牌照号", "plate", "plateno", "licenseplate",
              "licenceplate", "registration", "registrationno", "regno"],
    "model": ["车型", "车型名称", "品牌车型", "车辆型号", "model", "vehiclemodel", "carmodel"],
    "colour": ["颜色", "车身颜色", "外观颜色", "colour", "color"],
    "engine_no": ["发动机号", "发动机号码", "engineno", "engine"],
    "gearbox_no": ["变速箱号", "变速器号", "gearboxno", "gearbox"],
    "purchase_date": ["购车日期", "销售日期", "开票日期", "purchasedate", "saledate", "salesdate",
                      "purchased", "invoicedate"],
    "delivery_date": ["交车日期", "交付日期", "deliverydate", "delivered", "handoverdate"],
    "usage": ["使用性质", "车辆用途", "用途", "usage"],
    "birthday": ["生日", "出生日期", "客户生日", "birthday", "dateofbirth"],
    "lunar_birthday": ["农历生日", "阴历生日", "lunarbirthday"],
    "occupation": ["职业", "occupation", "job"],
    "address": ["联系地址", "地址", "家庭住址", "住址", "address"],
    "employer": ["工作单位", "单位", "employer", "company"],
    "insurance_compulsory_expiry": ["交强险到期日", "交强险到期日期", "交强险到期", "交强险止期"],
    "insurance_commercial_expiry": ["商业险到期日", "商业险到期日期", "商业险到期", "商业险止期",
                                    "保险到期日", "保险到期日期", "insuranceexpiry"],
    "inspection_due": ["年检到期日", "年检日期", "年审日期", "年检到期", "inspectiondue"],
    "warranty_end": ["保修截止日期", "保修到期日", "质保到期日", "warrantyend"],
    "first_maintenance_date": ["首保日期", "首保时间", "firstmaintenancedate"],
    "first_maintenance_km": ["首保里程", "firstmaintenancekm"],
}

FIELDS_BY_KIND = {"orders": ORDER_FIELDS, "vehicles": VEHICLE_FIELDS}

_BRACKETS = re.compile(r"[(\[【（<《].*?[)\]】）>》]")
_DROP = re.compile(r"[\s:：*＊#/_\-.]+")


def header_key(text: object) -> str:
    """'进厂里程(km)' -> '进厂里程'; ' RO Number ' -> 'ronumber'."""
    if text is None:
        return ""
    s = halfwidth(str(text)).lower()
    s = _BRACKETS.sub("", s)
    return _DROP.sub("", s)


def alias_table(kind: str, extra: dict[str, list[str]] | None = None) -> dict[str, str]:
    """header key -> field, with the dealer's aliases (from settings) taking precedence."""
    table: dict[str, str] = {}
    for field, aliases in FIELDS_BY_KIND[kind].items():
        for alias in aliases:
            table.setdefault(header_key(alias), field)
    for field, aliases in (extra or {}).items():
        for alias in aliases:
            table[header_key(alias)] = field
    return table


# Fields a person edits or the record carries but no import column names.
_OTHER_NAMES = {"name": "姓名", "notes": "备注", "preferred_call_time": "方便时间",
                "preferred_phone": "回访号码", "callback_consent": "接受回访",
                "service_type_raw": "维修类别", "order_date": "工单日期",
                "customer_id": "客户", "current_owner": "现车主"}


def field_label(field: str | None) -> str:
    """A field's name for the clerk: in Chinese its first Chinese header (``mobile`` ->
    联系电话's table gives 联系电话), in English the key itself."""
    from .i18n import language

    if not field or language() != "zh_CN":
        return field or ""
    for table in (ORDER_FIELDS, VEHICLE_FIELDS):
        for alias in table.get(field, ()):
            if not alias.isascii():
                return alias
    return _OTHER_NAMES.get(field, field)
