"""CI runs the README's two commands verbatim (.ci/run marks each with '# README-1/2')."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def ci_commands() -> dict[str, str]:
    lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    return {line.strip("# ").strip(): lines[i + 1].strip()
            for i, line in enumerate(lines) if line.strip() in ("# README-1", "# README-2")}


def test_ci_runs_the_readmes_two_commands_verbatim():
    commands = ci_commands()
    assert set(commands) == {"README-1", "README-2"}
    readme = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    for name, command in commands.items():
        assert command in readme, f"{name} in .ci/run is not a line of the README: {command}"


def test_the_clock_moved_run_comes_after_the_readme_commands():
    text = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert text.index("# README-2") < text.index('faketime "$clock" python -m pytest')
