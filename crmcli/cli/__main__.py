"""``python -m crmcli.cli``: the console script."""

from . import main

main()
