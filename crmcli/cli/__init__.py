"""The command line: parse arguments, call one core function, render. Nothing else.

One module per group of commands; ``base`` holds what they share and the one place
where errors become exit codes (``handle_errors``). Heavy modules (the importer,
workbook readers) are imported inside the commands that need them, so
``crmcli --help`` and ``crmcli today`` stay fast.

    imports.py    import orders, import vehicles
    day.py        plan, today
    calls.py      log, call, complaint ..., complaints, action ...
    reports.py    classify, retention, stats ...
    customers.py  customer ..., vehicle-usage
    sms.py        export, broadcast, optout ..., template preview, import sms-report
    store.py      backup, restore, doctor
"""

# Imported in the order `crmcli --help` lists the single commands.
from . import customers, reports, day, calls, imports, sms, store  # noqa: F401, I001  (registers the commands)
from .base import app, main

# The groups, in the order `crmcli --help` lists them (after the single commands).
app.add_typer(imports.import_app, name="import")
app.add_typer(customers.customer_app, name="customer")
app.add_typer(customers.vehicle_app, name="vehicle")
app.add_typer(calls.complaint_app, name="complaint")
app.add_typer(calls.action_app, name="action")
app.add_typer(reports.stats_app, name="stats")
app.add_typer(sms.optout_app, name="optout")
app.add_typer(sms.template_app, name="template")

__all__ = ["app", "main"]
