"""Rich renderables from plain data. Never queries, never prints."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text


def yuan(fen: int | None) -> str:
    if fen is None:
        return ""
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}¥{fen // 100:,}.{fen % 100:02d}"


def km(value: int | None) -> str:
    return "" if value is None else f"{value:,} km"


def import_summary_line(s: dict) -> str:
    if s["status"] == "same-file":
        return f"{s['file']}: {s['message']}"
    parts = [
        f"{s['rows_read']} rows read",
        f"{s['inserted']} inserted",
        f"{s['updated']} updated",
        f"{s['unchanged']} unchanged",
        f"{s['flagged']} flagged",
        f"{s['rejected']} rejected",
    ]
    if s["skipped"]:
        parts.append(f"{s['skipped']} skipped")
    if s["superseded"]:
        parts.append(f"{s['superseded']} superseded")
    prefix = "dry run, nothing written: " if s["status"] == "dry-run" else ""
    return f"{s['file']}: {prefix}" + ", ".join(parts)


def mapping_table(mapping: list[tuple[str, str]], ignored: list[str]) -> Table:
    t = Table(title="Columns", title_justify="left")
    t.add_column("Column in file")
    t.add_column("Field")
    for column, field in mapping:
        t.add_row(column, field)
    for column in ignored:
        t.add_row(Text(column, style="dim"), Text("(not used)", style="dim"))
    return t


def problems_table(problems: list, limit: int = 50) -> Table:
    t = Table(title="Rows to check", title_justify="left")
    for col in ("Row", "", "Column", "Value", "Reason"):
        t.add_column(col, overflow="fold")
    for p in problems[:limit]:
        style = "red" if p.severity == "rejected" else "yellow"
        t.add_row(str(p.row_no), Text(p.severity, style=style), p.column or p.field or "",
                  p.value or "", p.reason)
    if len(problems) > limit:
        t.caption = f"{len(problems) - limit} more; write them all with --rejects FILE.xlsx"
    return t


def verdicts_table(verdicts: list[tuple[int, str]], limit: int = 200) -> Table:
    t = Table(title="Row verdicts", title_justify="left")
    t.add_column("Row", justify="right")
    t.add_column("Verdict")
    for row_no, verdict in verdicts[:limit]:
        style = "red" if verdict.startswith("rejected") else (
            "yellow" if "flagged" in verdict or verdict.startswith("superseded") else "")
        t.add_row(str(row_no), Text(verdict, style=style))
    if len(verdicts) > limit:
        t.caption = f"{len(verdicts) - limit} more rows"
    return t


def customer_panel(f: dict, show_id: bool) -> list:
    from .normalize import mask_id_number

    c = f["customer"]
    head = Table.grid(padding=(0, 2))
    head.add_column(style="bold")
    head.add_column()
    idn = c["id_number"]
    rows = [
        ("Customer", f"#{c['id']} {c['name'] or '?'}  ({f['greeting']})"),
        ("Mobile", c["mobile"] or ""),
        ("Other phones", c["other_phones"] or ""),
        ("Gender", {"M": "男 M", "F": "女 F"}.get(c["gender"] or "", "")),
        ("ID number", (idn if show_id else mask_id_number(idn)) if idn else ""),
        ("Birthday", c["birthday"] or ""),
        ("Lunar birthday", c["lunar_birthday"] or ""),
        ("Occupation", c["occupation"] or ""),
        ("Address", c["address"] or ""),
        ("Callbacks", ("yes" if c["callback_consent"] else "REFUSED")
         + (f", at {c['preferred_call_time']}" if c["preferred_call_time"] else "")
         + (f", on {c['preferred_phone']}" if c["preferred_phone"] else "")),
        ("Notes", c["notes"] or ""),
        ("Visits", f"{f['visits']}, total {yuan(f['orders_total_fen'])}, last {f['last_visit'] or '-'}"),
    ]
    for k, v in rows:
        if v:
            head.add_row(k, v)
    out = [head]
    vt = Table(title="Vehicles", title_justify="left")
    vt.add_column("Plate", no_wrap=True)
    vt.add_column("VIN", no_wrap=True)
    for col in ("Model", "Delivered", "Usage", "Owner"):
        vt.add_column(col)
    dates = Table(title="Vehicle dates", title_justify="left")
    for col in ("Plate", "交强险 expires", "商业险 expires", "Inspection due", "Warranty ends"):
        dates.add_column(col, no_wrap=col == "Plate")
    for v in f["vehicles"]:
        usage = v["usage"] or ""
        if usage and v["usage_source"] == "guess":
            usage += " (guess)"
        vt.add_row(v["plate"] or "", v["vin"] or "", v["model"] or "",
                   v["delivery_date"] or v["purchase_date"] or "", usage,
                   "current" if v["current_owner"] else "past")
        if v["current_owner"]:
            dates.add_row(v["plate"] or v["vin"] or "", v["insurance_compulsory_expiry"] or "",
                          v["insurance_commercial_expiry"] or "", v["inspection_due"] or "",
                          v["warranty_end"] or "")
    out.append(vt)
    if dates.row_count:
        out.append(dates)
    ot = Table(title="Repair orders", title_justify="left")
    for col in ("Date", "Order", "Plate", "Type", "km", "Total", "Advisor"):
        ot.add_column(col, justify="right" if col in ("km", "Total") else "left")
    for o in f["orders"]:
        ot.add_row(o["order_date"], o["order_no"], o["plate"] or "",
                   o["service_type_raw"] or o["service_type"] or "",
                   "" if o["mileage"] is None else f"{o['mileage']:,}", yuan(o["total_fen"]),
                   o["advisor"] or "")
    ot.caption = f"{f['visits']} orders, total {yuan(f['orders_total_fen'])}"
    out.append(ot)
    if f["flags"]:
        ft = Table(title="Flagged by imports (check these)", title_justify="left")
        for col in ("File", "Row", "Column", "Value", "Reason"):
            ft.add_column(col, overflow="fold")
        for p in f["flags"]:
            ft.add_row(p["file_name"], str(p["row_no"]), p["column_name"] or p["field"] or "",
                       p["value"] or "", p["reason"])
        out.append(ft)
    return out


def customers_table(rows: list[dict]) -> Table:
    t = Table()
    for col in ("#", "Name", "Mobile", "Plates", "Visits", "Last visit", "Spend", "Calls"):
        t.add_column(col, justify="right" if col in ("#", "Visits", "Spend") else "left")
    for r in rows:
        t.add_row(str(r["id"]), r["name"] or "", r["mobile"] or "", r["plates"] or "",
                  str(r["visits"]), r["last_visit"] or "", yuan(r["spend_fen"]),
                  "yes" if r["callback_consent"] else "refused")
    return t
