"""The command line: parse arguments, call one core function, render. Nothing else.

One module per group of commands; ``base`` holds what they share and the one place
where errors become exit codes (``handle_errors``). A command's module is imported
only when that command runs or shows its help (``lazy.py``; ``listing.py`` lists the
commands for ``crmcli --help``), and heavy modules (the importer, workbook readers)
are imported inside the commands that need them, so ``crmcli --help`` and ``crmcli
today`` stay fast.

    imports.py    import orders, import vehicles
    day.py        plan, today
    calls.py      log, call, complaint ..., complaints, action ...
    reports.py    classify, retention, stats ...
    customers.py  customer ..., vehicle-usage
    sms.py        export, broadcast, optout ..., template preview, import sms-report
    store.py      backup, restore, doctor
"""

from .base import app, main

__all__ = ["app", "main"]
