"""The top-level commands for ``crmcli --help``: name, the modules to import for it
(the one registering it first), and its help text in English, as the catalogs
know it. Written by ``python -m crmcli.i18n update`` from the modules themselves
(``lazy.update``); ``tests/test_startup.py`` fails when it is out of step. The
order is the order of the listing: reorder the lines by hand, the update keeps it."""

COMMANDS = (
    ('vehicle-usage', 'customers',
     "Set a vehicle's usage by hand; it then beats what imports say or guess."),
    ('classify', 'reports',
     ('Classify every customer (A loyal, B opportunity, C marginal, D lost) and '
      'show the counts.')),
    ('retention', 'reports',
     'Customer holding rate and active customer ratio by vehicle age in years.'),
    ('plan', 'day',
     ("Plan the day's care contacts and callbacks; safe to run again (nothing is "
      'duplicated).\n'
      '\n'
      'A day before the newest day planned is refused: that would rewrite history.\n'
      '\n'
      '\x08\n'
      'Example, in cron before the export:\n'
      '  crmcli plan --quiet')),
    ('today', 'day',
     ('Who to call or text today, most urgent first (plans the day first if '
      'needed).\n'
      '\n'
      'A kind, channel or class is given as its key or its label in either '
      'language;\n'
      '`+3d` in Due means the task fell due three days ago. Piped or written to a '
      'file,\n'
      'the table is printed at full width (nothing is cut); --json is for scripts.\n'
      '\n'
      '\x08\n'
      'Examples:\n'
      '  crmcli today\n'
      '  crmcli today --kind 修后回访 --channel call\n'
      '  crmcli today --date 2026-12-08 --json')),
    ('log', 'calls',
     ('Log one call on a task: its outcome, scores, note, complaint or a time to '
      'call back.')),
    ('call', 'calls',
     ("Work through today's calls one customer at a time; every answer is saved at "
      'once.\n'
      '\n'
      'Keys: r reached, n no answer, b busy/call later, w wrong number, x refused,\n'
      'o not the owner, s skip, q quit. Quitting (or Ctrl-C) loses nothing: the\n'
      'next `crmcli call` goes on with what is left.')),
    ('complaints', 'calls',
     ('List complaints, overdue ones first and marked.\n'
      '\n'
      '\x08\n'
      'Example:\n'
      '  crmcli complaints --all')),
    ('export', 'sms',
     ("The day's SMS file and call list, for cron. Each SMS is sent once: run it "
      'again and the\n'
      'same files are rewritten, byte for byte; a later run writes only what is '
      'new.')),
    ('broadcast', 'sms',
     ('A weather alert or seasonal campaign by SMS: preview the count and one '
      'text, confirm,\n'
      'then plan the SMS for the day (the next export sends them).')),
    ('backup', 'store',
     ("Copy the database to PATH, safely while others work (SQLite's online "
      'backup).\n'
      '\n'
      'The copy is one file, checked, written whole or not at all, readable by you '
      'only.')),
    ('restore', 'store',
     ('Put a backup back in place of the database; the current file is kept beside '
      'it.\n'
      '\n'
      'The backup must be a crmcli database of this release or older. Close other '
      'crmcli\n'
      'terminals and cron jobs first: a database in use is not replaced.')),
    ('doctor', 'store',
     ('Check the database: integrity, foreign keys, schema version, WAL size, '
      'flagged\n'
      'fields, suspected duplicates, and the settings in force. Exit 5 if it is '
      'not whole.')),
    ('import', 'imports sms',
     'Import DMS exports (Excel .xlsx/.xls or CSV) into the customer file.'),
    ('customer', 'customers',
     'Look up, list and edit the customer file.'),
    ('vehicle', 'customers',
     'Vehicles: merge a car recorded twice.'),
    ('complaint', 'calls',
     'Open and follow complaints (抱怨/投诉) to the end.'),
    ('action', 'calls',
     'Corrective and preventive actions (整改/预防措施).'),
    ('stats', 'reports',
     'The monthly (or weekly) callback report, and the lists behind it.'),
    ('optout', 'sms',
     ('Opt-outs: what a customer declined (all, sms, call, marketing, service or '
      'one kind), with the reason, the day and who set it.')),
    ('template', 'sms',
     'The SMS texts and call scripts the settings hold.'),
)
