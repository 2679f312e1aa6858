"""The README's sample outputs are what the shipped sample data prints today.

Each checked block follows a line naming its command in backticks and ending
"prints:" (the command runs on the shipped sample, imported as of 2026-11-26,
in English, at the width the line names).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crmcli.cli import app

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"
MARK = re.compile(r"^`crmcli (?P<args>[^`]+)` at (?P<cols>\d+) columns prints:$")


def blocks() -> list[tuple[str, int, str]]:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    found = []
    for i, line in enumerate(lines):
        m = MARK.match(line.strip())
        if m:
            start = lines.index("```", i + 1)
            end = lines.index("```", start + 1)
            found.append((m["args"], int(m["cols"]), "\n".join(lines[start + 1:end])))
    return found


def run(args: str, cols: int) -> str:
    r = CliRunner().invoke(app, args.split(), env={"COLUMNS": str(cols), "CRMCLI_LANG": "en"})
    return "\n".join(line.rstrip() for line in r.stdout.splitlines())


def test_the_readme_has_checked_sample_outputs():
    assert {args.split()[0] for args, _, _ in blocks()} >= {"import", "today"}


@pytest.mark.parametrize("args, cols, shown", blocks(), ids=[b[0] for b in blocks()])
def test_a_readme_sample_output_is_what_the_sample_prints(monkeypatch, args, cols, shown):
    monkeypatch.chdir(ROOT)  # the commands name sample_data/ relative to the repository
    vehicles = CliRunner().invoke(app, ["import", "vehicles", str(SAMPLE / "delivery_list.xlsx"),
                                        "--date", "2026-11-26"])
    assert vehicles.exit_code == 0, vehicles.output
    if not args.startswith("import orders"):
        orders = CliRunner().invoke(app, ["import", "orders", str(SAMPLE / "dms_orders.xlsx"),
                                          "--date", "2026-11-26"])
        assert orders.exit_code == 1, orders.output  # the two rows the sample rejects
    assert run(args, cols) == shown
